#!/usr/bin/env python3
"""Differential test: hubfetch's pattern matcher against Python's
fnmatch.fnmatchcase (what huggingface_hub uses) on random patterns."""
import fnmatch
import os
import random
import subprocess
import sys

ALPHABET = ["a", "b", "c", "z", "-", "!", "^", "]", "[", "*", "?", "/", ".",
            "\\", "&", "~", "|", "é", "ü", "ö", "0"]


def random_text(rng, n):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n)))


def main():
    oracle = os.environ.get("FNMATCH_ORACLE")
    if not oracle:
        print("FNMATCH_ORACLE not set: skipped")
        return 77
    rng = random.Random(1234)
    cases = []
    for _ in range(40000):
        pat = random_text(rng, 8)
        name = random_text(rng, 8).replace("\t", "")
        cases.append((pat, name))
    data = "".join(f"{p}\t{n}\n" for p, n in cases).encode()
    out = subprocess.run([oracle], input=data, capture_output=True, check=True)
    got = out.stdout.decode().split()
    bad = [(p, n, g) for (p, n), g in zip(cases, got)
           if (g == "1") != fnmatch.fnmatchcase(n, p)]
    for p, n, g in bad[:20]:
        print(f"MISMATCH pattern={p!r} name={n!r} hubfetch={g}")
    print(f"{len(cases) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad or len(got) != len(cases) else 0


if __name__ == "__main__":
    sys.exit(main())
