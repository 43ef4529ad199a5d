/* SPDX-License-Identifier: MIT */
/* signals.c: Ctrl-C and SIGTERM cancel the library call in progress. */
#include "cli.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t interrupted;
static hub_client *volatile signal_client;

/* The call stops wherever it is (a transfer, a request, a backoff, a lock
 * wait), keeps what resumes, and the command exits with 31; a second
 * signal kills at once (the default action is back). */
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    hub_client_cancel(signal_client); /* async-signal-safe */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

void cli_cancel_on_signal(hub_client *client)
{
    signal_client = client;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_cancel_on_signal_end(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_client = NULL;
}

bool cli_interrupted(void)
{
    return interrupted != 0;
}
