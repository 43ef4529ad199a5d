#!/usr/bin/env python3
"""Download a repository with the Python binding, with a progress bar on
stderr and the snapshot folder on stdout. Ctrl-C cancels cleanly; running
the same command again resumes.

    PYTHONPATH=bindings/python python3 examples/download.py openai-community/gpt2 '*.json'

Settings come from the environment as huggingface_hub reads it (HF_ENDPOINT,
HF_TOKEN, HF_HUB_CACHE, proxies), or from the options below. Exit status:
0 done, 1 failed, 130 interrupted.
"""
import argparse
import os
import sys
import time

try:
    import hubfetch
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "bindings", "python"))
    import hubfetch


def mib(n):
    return "?" if n is None else f"{n / 2**20:.1f}"


class Bar:
    """One line redrawn in place on a terminal; otherwise (logs, CI) a line
    whenever a file finishes, and at most one a second in between."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.tty = stream.isatty()
        self.files_done = -1
        self.last = 0.0

    def __call__(self, p):
        if self.tty:
            frac = p.bytes_done / p.bytes_total if p.bytes_total else 0.0
            filled = int(frac * 30)
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {frac:4.0%} "
                f"{mib(p.bytes_done)}/{mib(p.bytes_total)} MiB "
                f"{p.rate / 2**20:5.1f} MiB/s  {p.files_done}/{p.file_count} files ")
            if p.final:
                self.stream.write("\n")
        elif (p.files_done != self.files_done or p.final
              or time.monotonic() - self.last >= 1.0):
            self.files_done = p.files_done
            self.last = time.monotonic()
            self.stream.write(f"{p.files_done}/{p.file_count} files, "
                              f"{mib(p.bytes_done)}/{mib(p.bytes_total)} MiB"
                              f"{' (done)' if p.final else ''}\n")
        self.stream.flush()
        return False  # True would cancel


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo_id")
    ap.add_argument("allow_patterns", nargs="*", help="fnmatch patterns, e.g. '*.json'")
    ap.add_argument("--exclude", action="append", help="patterns of files to skip")
    ap.add_argument("--revision")
    ap.add_argument("--repo-type", default="model", choices=["model", "dataset", "space"])
    ap.add_argument("--local-dir")
    ap.add_argument("--cache-dir")
    ap.add_argument("--endpoint")
    ap.add_argument("--token")
    args = ap.parse_args()

    try:
        folder = hubfetch.snapshot_download(
            args.repo_id, allow_patterns=args.allow_patterns or None,
            ignore_patterns=args.exclude, revision=args.revision,
            repo_type=args.repo_type, local_dir=args.local_dir,
            cache_dir=args.cache_dir, endpoint=args.endpoint, token=args.token,
            progress=Bar())
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command to resume", file=sys.stderr)
        return 130
    except hubfetch.HfHubError as e:
        print(f"error: {e} [{e.error_name}]", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
