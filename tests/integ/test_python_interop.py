#!/usr/bin/env python3
"""huggingface_hub itself reads a hubfetch cache, and hubfetch reads one
written by huggingface_hub. Runs when huggingface_hub can be imported (set
HUB_TEST_HFHUB_SRC to its src/ directory); skipped otherwise."""
import hashlib
import os
import subprocess
import sys
import textwrap
import unittest

from cli_util import DEMO, DEMO_MAIN, CliTestCase

HFHUB_SRC = os.environ.get("HUB_TEST_HFHUB_SRC", "")


def python_client_available():
    env = dict(os.environ, PYTHONPATH=HFHUB_SRC)
    return subprocess.run([sys.executable, "-c", "import huggingface_hub"],
                          env=env, capture_output=True).returncode == 0


class PythonInteropTest(CliTestCase):

    def python(self, code, offline=True):
        env = dict(self.env, PYTHONPATH=HFHUB_SRC, HF_HUB_DISABLE_TELEMETRY="1")
        if offline:
            env["HF_HUB_OFFLINE"] = "1"
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                              env=env, capture_output=True, timeout=300)
        if proc.returncode:
            self.fail(proc.stderr.decode())
        return proc.stdout.decode()

    def test_python_reads_our_cache_offline(self):
        snap = self.download(DEMO)
        self.download(DEMO, "--revision", "v1.0")
        self.download(DEMO, "config.json", "--revision", "refs/pr/1")
        out = self.python(f"""
            import huggingface_hub as h
            from huggingface_hub import hf_hub_download, snapshot_download, scan_cache_dir
            from huggingface_hub import try_to_load_from_cache
            print(hf_hub_download("{DEMO}", "onnx/model.onnx"))
            print(snapshot_download("{DEMO}"))
            print(try_to_load_from_cache("{DEMO}", "config.json", revision="refs/pr/1"))
            r = scan_cache_dir()
            warnings = [str(w) for w in r.warnings if "CACHEDIR.TAG" not in str(w)
                        or tuple(map(int, h.__version__.split(".")[:2])) >= (1, 9)]
            print(warnings)
            repo = [x for x in r.repos if x.repo_id == "{DEMO}"][0]
            print(sorted((v.commit_hash[:7], sorted(v.refs)) for v in repo.revisions))
        """)
        lines = out.splitlines()
        self.assertEqual(lines[0], os.path.join(snap, "onnx", "model.onnx"))
        self.assertEqual(lines[1], snap)
        self.assertTrue(lines[2].endswith("/config.json"))
        self.assertEqual(lines[3], "[]")
        self.assertIn("'refs/pr/1'", lines[4])
        self.assertIn("'v1.0'", lines[4])
        self.assertIn("'main'", lines[4])

    def test_we_read_a_cache_python_wrote(self):
        self.python(f"""
            from huggingface_hub import snapshot_download
            snapshot_download("{DEMO}", allow_patterns=["*.json", "onnx/*"])
        """, offline=False)
        self.hub.clear_log()
        path = self.download(DEMO, "config.json", "--revision", DEMO_MAIN)
        self.assertTrue(path.endswith("config.json"))
        self.download(DEMO, "onnx/model.onnx", "--revision", DEMO_MAIN)
        self.assertEqual(self.requests(), [])

    def test_we_resume_a_python_partial(self):
        # an older huggingface_hub leaves blobs/<etag>.incomplete behind
        f = self.hub.fixtures.repo("hubfetch/big-model").resolve("main").files["model.bin"]
        blobs = os.path.join(self.repo_dir("hubfetch/big-model"), "blobs")
        os.makedirs(blobs)
        half = 100 * 1024 * 1024
        with open(os.path.join(blobs, f.sha256 + ".incomplete"), "wb") as out:
            out.write(f.read(0, half))
        path = self.download("hubfetch/big-model", "model.bin")
        # the rest may come over several connections, but only the rest,
        # and each byte once
        spans = []
        for r in self.requests("cdn"):
            first, last = r["range"].removeprefix("bytes=").split("-")
            spans.append((int(first), int(last) + 1))
        spans.sort()
        self.assertEqual(spans[0][0], half)
        for (_, end), (start, _) in zip(spans, spans[1:]):
            self.assertEqual(end, start)
        self.assertEqual(spans[-1][1], f.size)
        with open(path, "rb") as blob:
            self.assertEqual(hashlib.file_digest(blob, "sha256").hexdigest(), f.sha256)
        self.assertFalse(os.path.exists(os.path.join(blobs, f.sha256 + ".incomplete")))


if __name__ == "__main__":
    if not python_client_available():
        print("huggingface_hub not importable (set HUB_TEST_HFHUB_SRC): skipped")
        sys.exit(77)
    unittest.main()
