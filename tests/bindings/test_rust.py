#!/usr/bin/env python3
"""ctest's entry to the Rust binding's own tests (bindings/rust/tests):
`cargo test --offline`, built next to the library under test. Exit 77
(skipped) without cargo, or with a sanitized library, which a Rust test
program cannot link.

    HUBFETCH_LIB=$PWD/build/libhubfetch.so /usr/bin/python3 tests/bindings/test_rust.py
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402


def main():
    cargo = common.cargo()
    if not cargo:
        print("skipped: cargo is not installed")
        return common.SKIP
    if common.is_sanitized():
        print("skipped: sanitized libhubfetch (a Rust test program cannot link it)")
        return common.SKIP
    manifest = os.path.join(common.SOURCE, "bindings", "rust", "Cargo.toml")
    env = common.cargo_env({"HUB_SOURCE_DIR": common.SOURCE})
    return subprocess.run([cargo, "test", "--offline", "--manifest-path", manifest],
                          env=env, stdin=subprocess.DEVNULL).returncode


if __name__ == "__main__":
    sys.exit(main())
