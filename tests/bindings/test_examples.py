#!/usr/bin/env python3
"""The examples build, download from the fake hub, print the snapshot folder
and exit 0; Ctrl-C cancels them cleanly (exit 130) and a rerun resumes.

    HUBFETCH_LIB=build/libhubfetch.so /usr/bin/python3 tests/bindings/test_examples.py

examples/progress.c is compiled with cc, unless $HUBFETCH_PROGRESS_EXAMPLE
names a program already built (the CMake target). The Rust example is
skipped if cargo is absent (exit 77 when nothing else ran).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402
from common import LIB, SOURCE  # noqa: E402

common.sanitized_library_skip()  # preloads the ASan runtime if needed
sys.path.insert(0, os.path.join(SOURCE, "tests", "fakehub"))

from harness import FakeHub  # noqa: E402

DEMO = "hubfetch/demo-model"
DEMO_MAIN = "336de85ded21fb397e9153c318fe74ccdaa1f6e9"
BIG = "hubfetch/big-model"
EXAMPLES = os.path.join(SOURCE, "examples")
# settings of the user's that would change what the examples do
HF_VARS = {"HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN",
           "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE",
           "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_SYMLINKS", "XDG_CACHE_HOME",
           "HF_HUB_DISABLE_IMPLICIT_TOKEN"}


def setUpModule():
    global HUB
    HUB = FakeHub().start()


def tearDownModule():
    HUB.stop()


class ExampleTestCase(unittest.TestCase):
    """Runs one example program (self.command()) against the fake hub, set
    up through the environment as huggingface_hub users do."""

    def setUp(self):
        HUB.reset()
        HUB.clear_log()
        self.tmp = tempfile.mkdtemp(prefix="hubfetch-ex-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.cache = os.path.join(self.tmp, "cache")
        self.env = {k: v for k, v in os.environ.items() if k not in HF_VARS}
        self.env.update(HF_ENDPOINT=HUB.url, HF_HUB_CACHE=self.cache,
                        HF_HOME=os.path.join(self.tmp, "home"),
                        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
                        PYTHONDONTWRITEBYTECODE="1")

    def command(self):
        raise NotImplementedError

    def run_example(self, *args, timeout=120):
        proc = subprocess.run(self.command() + list(args), env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout, proc.stderr

    def check_snapshot(self):
        rc, out, err = self.run_example(DEMO, "*.json")
        self.assertEqual(rc, 0, err)
        folder = os.path.join(self.cache, "models--hubfetch--demo-model", "snapshots", DEMO_MAIN)
        self.assertEqual(out, folder + "\n")  # the path, and nothing else
        self.assertEqual(sorted(os.listdir(folder)), ["config.json", "generation_config.json",
                                                      "tokenizer.json", "tokenizer_config.json"])
        self.assertTrue(err.strip(), "no progress shown")
        return err

    def check_sigint(self):
        """Interrupt a slow download once it has bytes on disk; it exits 130,
        and a second run fetches only what is missing."""
        sha = HUB.fixtures.repo(BIG).resolve("main").files["model.bin"].sha256
        HUB.faults([{"match": sha, "server": "cdn", "action": {"rate": 2_000_000}}])
        proc = subprocess.Popen(self.command() + [BIG], env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while not any(progress_bytes(x) for x in list(lines)):
                self.assertLess(time.monotonic(), deadline, "no progress shown")
                self.assertIsNone(proc.poll(), "".join(lines))
                time.sleep(0.05)
            time.sleep(0.5)  # more on disk, and journaled
            proc.send_signal(signal.SIGINT)
            t0 = time.monotonic()
            out = proc.stdout.read()
            proc.wait(timeout=20)
            reader.join(5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        err = "".join(lines)
        self.assertEqual(proc.returncode, 130, err)
        self.assertLess(time.monotonic() - t0, 5, "Ctrl-C took too long")
        self.assertEqual(out, "")
        self.assertIn("interrupted", err)

        HUB.reset()
        HUB.clear_log()
        rc, out, err = self.run_example(BIG)
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.isfile(os.path.join(out.strip(), "model.bin")))
        ranges = [r["range"] for r in HUB.log() if r["server"] == "cdn"]
        self.assertTrue(ranges)
        self.assertTrue(all(r and not r.startswith("bytes=0-") for r in ranges), ranges)


def progress_bytes(line):
    """Bytes done, from any example's progress line: "3.0 MiB / 256.0 MiB"
    (C) or "3.0/256.0 MiB" (Python, Rust)."""
    m = re.search(r"([\d.]+)(?: MiB| B)? ?/ ?[\d.?]+ ?(?:MiB|B)\b", line)
    return float(m.group(1)) if m else 0.0


class CExampleTest(ExampleTestCase):
    """examples/progress.c"""

    @classmethod
    def setUpClass(cls):
        cls.exe = os.environ.get("HUBFETCH_PROGRESS_EXAMPLE")
        if cls.exe:
            return
        if common.is_sanitized():
            raise unittest.SkipTest("sanitized library: needs the CMake-built example "
                                    "($HUBFETCH_PROGRESS_EXAMPLE)")
        cc = os.environ.get("CC") or shutil.which("cc")
        if not cc:
            raise unittest.SkipTest("no C compiler")
        cls.build_dir = tempfile.mkdtemp(prefix="hubfetch-cex-")
        libdir = os.path.dirname(os.path.abspath(LIB))
        cls.exe = os.path.join(cls.build_dir, "progress")
        # the line of examples/README.md, plus warnings and an rpath
        subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror",
                        os.path.join(EXAMPLES, "progress.c"),
                        "-I" + os.path.join(SOURCE, "include"), "-L" + libdir, "-lhubfetch",
                        "-Wl,-rpath," + libdir, "-o", cls.exe], check=True)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "build_dir", None):
            shutil.rmtree(cls.build_dir, ignore_errors=True)

    def command(self):
        return [self.exe]

    def setUp(self):
        super().setUp()
        self.env = common.native_env(self.env)

    def test_snapshot(self):
        err = self.check_snapshot()
        self.assertIn("[final]", err)
        self.assertIn("download", err)

    def test_sigint_cancels_and_rerun_resumes(self):
        self.check_sigint()

    def test_usage_and_errors(self):
        rc, out, err = self.run_example()
        self.assertEqual((rc, out), (2, ""))
        rc, out, err = self.run_example("hubfetch/nope")
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("ENOREPO", err)


class PythonExampleTest(ExampleTestCase):
    """examples/download.py (finds bindings/python by itself)"""

    def command(self):
        return [sys.executable, os.path.join(EXAMPLES, "download.py")]

    def test_snapshot(self):
        err = self.check_snapshot()
        self.assertIn("4/4 files", err)

    def test_sigint_cancels_and_rerun_resumes(self):
        self.check_sigint()

    def test_error(self):
        rc, out, err = self.run_example("hubfetch/nope")
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("ENOREPO", err)


class RustExampleTest(ExampleTestCase):
    """examples/rust, through cargo run --offline"""

    @classmethod
    def setUpClass(cls):
        cls.cargo = common.cargo()
        if not cls.cargo:
            raise unittest.SkipTest("cargo is not installed")
        if common.is_sanitized():
            raise unittest.SkipTest("sanitized library: a Rust program cannot link it")
        cls.manifest = os.path.join(EXAMPLES, "rust", "Cargo.toml")
        # build once, quietly, so that each test's time is the download's
        subprocess.run([cls.cargo, "build", "--offline", "-q", "--manifest-path", cls.manifest],
                       env=common.cargo_env(), check=True)

    def command(self):
        return [self.cargo, "run", "--offline", "-q", "--manifest-path", self.manifest, "--"]

    def setUp(self):
        super().setUp()
        self.env.update({k: v for k, v in common.cargo_env().items()
                         if k.startswith("CARGO") or k == "HUBFETCH_LIB"})
        self.env = common.native_env(self.env)

    def test_snapshot(self):
        err = self.check_snapshot()
        self.assertIn("(end)", err)

    def test_sigint_cancels_and_rerun_resumes(self):
        # the program itself, not cargo: the signal goes to the process we start
        target = common.cargo_env().get("CARGO_TARGET_DIR") or \
            os.path.join(EXAMPLES, "rust", "target")
        exe = os.path.join(target, "debug", "download")
        self.command = lambda: [exe]
        self.check_sigint()


if __name__ == "__main__":
    common.run_unittest_main()
