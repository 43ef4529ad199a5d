/* SPDX-License-Identifier: MIT */
/* fnmatch_oracle.c: reads "pattern<TAB>name" lines, prints 1 or 0 per line:
 * the other half of test_fnmatch_oracle.py, which compares with Python. */
#include "../../src/pattern.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    static char line[65536];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab)
            return 2;
        *tab = '\0';
        printf("%d\n", hub__fnmatch(line, tab + 1) ? 1 : 0);
    }
    return 0;
}
