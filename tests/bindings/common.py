"""Shared by the binding tests: where things are, and what to do with a
library built with sanitizers (make check-asan)."""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("HUB_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
LIB = os.environ.get("HUBFETCH_LIB") or os.path.join(SOURCE, "build", "libhubfetch.so")
SKIP = 77  # ctest's SKIP_RETURN_CODE


def is_sanitized(lib=LIB):
    """True if the library was built with -fsanitize=address: it then needs
    the ASan runtime loaded before it, which python3 and cargo's test
    programs do not do by themselves."""
    try:
        with open(lib, "rb") as fh:
            return b"__asan_init" in fh.read()
    except OSError:
        return False


def asan_runtime(lib=LIB):
    """The shared ASan runtime the library was built for, or None: GCC's
    libasan (then a NEEDED entry of the library), else clang's."""
    cmds = [["clang", "-print-file-name=libclang_rt.asan-x86_64.so"],
            ["gcc", "-print-file-name=libasan.so"]]
    with open(lib, "rb") as fh:
        if b"libasan.so" in fh.read():
            cmds.reverse()
    for cmd in cmds:
        try:
            path = subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            continue
        if os.path.isabs(path) and os.path.exists(path):
            return path
    return None


def sanitized_library_skip():
    """For Python tests: with a sanitized library, run again with the ASan
    runtime preloaded (leak checks off: the interpreter itself 'leaks' by
    design), or skip if there is none."""
    if not is_sanitized() or os.environ.get("HUBFETCH_ASAN_REEXEC"):
        return
    rt = asan_runtime()
    if rt is None:
        print("skipped: sanitized libhubfetch and no ASan runtime to preload")
        sys.exit(SKIP)
    env = dict(os.environ, HUBFETCH_ASAN_REEXEC="1",
               HUBFETCH_ORIG_LD_PRELOAD=os.environ.get("LD_PRELOAD", ""),
               LD_PRELOAD=" ".join(filter(None, [rt, os.environ.get("LD_PRELOAD")])))
    opts = os.environ.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = ":".join(filter(None, [opts, "detect_leaks=0"]))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def native_env(env):
    """`env` for a compiled child program: without the ASan runtime we may
    have preloaded for Python, which clashes with an instrumented program's
    own (static) runtime."""
    env = dict(env)
    if "HUBFETCH_ORIG_LD_PRELOAD" in env:
        orig = env.pop("HUBFETCH_ORIG_LD_PRELOAD")
        if orig:
            env["LD_PRELOAD"] = orig
        else:
            env.pop("LD_PRELOAD", None)
    return env


def cargo():
    """cargo, from PATH or rustup's default place; None if absent."""
    found = shutil.which("cargo")
    if found:
        return found
    home = os.path.join(os.path.expanduser("~"), ".cargo", "bin", "cargo")
    return home if os.access(home, os.X_OK) else None


def cargo_env(extra=None):
    """Environment for cargo: builds go next to the library under test
    (<build>/cargo), so that a release and a sanitizer build directory
    never share, or invalidate, each other's Rust artifacts."""
    env = dict(os.environ, CARGO_TERM_COLOR="never")
    if os.environ.get("HUBFETCH_LIB"):
        # absolute: build scripts run in their crate's directory
        env["HUBFETCH_LIB"] = os.path.abspath(LIB)
        env["CARGO_TARGET_DIR"] = os.path.join(os.path.dirname(os.path.abspath(LIB)), "cargo")
    env.update(extra or {})
    return env


def run_unittest_main():
    """unittest.main(), but exit 77 (skipped) when every test was skipped."""
    import unittest
    prog = unittest.main(exit=False)
    r = prog.result
    # a class skipped in setUpClass counts one skip and runs no test
    if r.wasSuccessful() and r.skipped and len(r.skipped) >= r.testsRun:
        sys.exit(SKIP)
    sys.exit(0 if r.wasSuccessful() else 1)
