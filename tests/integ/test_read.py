"""hubfetch cat: a repository file's bytes (or a range) to stdout, through
the fake hub: ranges, verification, corruption, token origins, the cache."""
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cli_util import CliTestCase, DEMO, HUBFETCH  # noqa: E402

ONNX = "onnx/model.onnx"  # LFS, 1 MiB: served by the CDN
PRIVATE = "hubfetch/private-model"


class CatTest(CliTestCase):

    def cat(self, *args, check=0, env=None):
        e = dict(self.env)
        e.update(env or {})
        proc = subprocess.run([HUBFETCH, "cat", *args], capture_output=True, env=e,
                              timeout=120, stdin=subprocess.DEVNULL)
        if check is not None and proc.returncode != check:
            self.fail(f"hubfetch cat {' '.join(args)} exited {proc.returncode}, expected "
                      f"{check}\nstderr: {proc.stderr.decode()}")
        return proc.returncode, proc.stdout, proc.stderr.decode()

    def onnx(self):
        return self.expected(DEMO, "main", ONNX)

    # ---- ranges

    def test_ranges_start_middle_end_open_end(self):
        data = self.onnx()
        n = len(data)
        for spec, want in [("0-99", data[:100]), ("500000-504095", data[500000:504096]),
                           (f"{n - 10}-{n - 1}", data[-10:]), (f"{n - 10}-", data[-10:]),
                           (f"{n - 10}-{n + 1000}", data[-10:]), (f"{n}-", b"")]:
            with self.subTest(range=spec):
                _, out, _ = self.cat(DEMO, ONNX, "--range", spec)
                self.assertEqual(out, want)
        ranges = [r["range"] for r in self.requests("cdn")]
        self.assertIn("bytes=500000-504095", ranges)

    def test_a_range_past_the_end_is_a_clear_error(self):
        n = len(self.onnx())
        rc, out, err = self.cat(DEMO, ONNX, "--range", f"{n + 1}-", check=2)
        self.assertEqual(out, b"")
        self.assertIn(f"the file has {n} bytes", err)

    def test_bad_ranges_and_missing_file(self):
        self.cat(DEMO, ONNX, "--range", "9-3", check=2)
        self.cat(DEMO, ONNX, "--range", "-3", check=2)
        self.cat(DEMO, check=2)
        rc, out, err = self.cat(DEMO, "no/such.bin", check=17)
        self.assertIn("no/such.bin", err)

    # ---- whole files, verified as they stream

    def test_whole_files_lfs_and_git(self):
        _, out, _ = self.cat(DEMO, ONNX)
        self.assertEqual(out, self.onnx())
        _, out, _ = self.cat(DEMO, "config.json")
        self.assertEqual(out, self.expected(DEMO, "main", "config.json"))
        _, out, _ = self.cat(DEMO, "config.json", "--revision", "v1.0")
        self.assertEqual(out, self.expected(DEMO, "v1.0", "config.json"))
        _, out, _ = self.cat(DEMO, "empty.txt")
        self.assertEqual(out, b"")
        _, out, _ = self.cat("hubfetch/demo-data", "data/train.csv", "--repo-type", "dataset")
        self.assertEqual(out, self.expected("hubfetch/demo-data", "main", "data/train.csv",
                                            "dataset"))
        self.assertEqual(os.listdir(self.tmp), ["home"])  # nothing cached

    def test_corruption_is_exit_29_after_the_bytes(self):
        for server, path in [("cdn", "/repos/"), ("hub", "/resolve-cache/")]:
            with self.subTest(server=server):
                self.hub.faults([{"match": path, "server": server, "times": 1,
                                  "action": {"corrupt": True}}])
                name = ONNX if server == "cdn" else "tokenizer.json"
                rc, out, err = self.cat(DEMO, name, check=29)
                good = self.expected(DEMO, "main", name)
                self.assertEqual(len(out), len(good))
                self.assertNotEqual(out, good)
                self.assertIn("hash to", err)

    def test_a_dropped_connection_resumes_without_repeating_a_byte(self):
        self.hub.faults([{"match": "/repos/", "server": "cdn", "times": 2,
                          "action": {"drop_after": 300000}}])
        _, out, _ = self.cat(DEMO, ONNX)
        self.assertEqual(out, self.onnx())
        ranges = [r["range"] for r in self.requests("cdn")]
        self.assertEqual(ranges, ["bytes=0-", "bytes=300000-", "bytes=600000-"])

    def test_a_server_ignoring_range(self):
        self.hub.faults([{"match": "/repos/", "server": "cdn",
                          "action": {"ignore_range": True}}])
        _, out, _ = self.cat(DEMO, ONNX, "--range", "1000-1999")
        self.assertEqual(out, self.onnx()[1000:2000])

    # ---- credentials

    def test_token_goes_to_the_hub_never_to_the_cdn(self):
        _, out, _ = self.cat(PRIVATE, "model.safetensors", "--token", "hf_alice")
        self.assertEqual(out, self.expected(PRIVATE, "main", "model.safetensors"))
        hub = [r for r in self.requests("hub") if "/resolve/" in r["path"]]
        cdn = self.requests("cdn")
        self.assertTrue(hub and all(r["auth"] for r in hub))
        self.assertTrue(cdn and not any(r["auth"] for r in cdn))
        rc, out, err = self.cat(PRIVATE, "model.safetensors", check=None)
        self.assertNotEqual(rc, 0)

    # ---- the cache

    def test_a_cached_file_costs_no_request(self):
        self.download(DEMO, ONNX)
        self.hub.clear_log()
        _, out, _ = self.cat(DEMO, ONNX, "--range", "10-19")
        self.assertEqual(out, self.onnx()[10:20])
        _, out, _ = self.cat(DEMO, ONNX)
        self.assertEqual(out, self.onnx())
        self.assertEqual(self.requests(), [])
        _, out, _ = self.cat(DEMO, ONNX, "--no-cache", "--range", "0-9")
        self.assertEqual(len(self.requests("cdn")), 1)
        # offline: the cache or nothing
        _, out, _ = self.cat(DEMO, ONNX, env={"HF_HUB_OFFLINE": "1"})
        self.assertEqual(out, self.onnx())
        self.cat(DEMO, "config.json", env={"HF_HUB_OFFLINE": "1"}, check=21)

    # ---- the pipe, signals, stalls

    def test_a_closed_pipe_ends_quietly(self):
        cat = subprocess.Popen([HUBFETCH, "cat", DEMO, ONNX], env=self.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
        first = cat.stdout.read(10)
        cat.stdout.close()
        rc = cat.wait(60)
        err = cat.stderr.read().decode()
        cat.stderr.close()
        self.assertEqual(first, self.onnx()[:10])
        self.assertEqual((rc, err), (0, ""))

    def test_sigterm_during_a_stall_exits_31(self):
        self.hub.faults([{"match": "/repos/", "server": "cdn",
                          "action": {"stall_after": 1000, "stall_ms": 30000}}])
        cat = subprocess.Popen([HUBFETCH, "cat", DEMO, ONNX], env=self.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
        time.sleep(1.0)
        start = time.monotonic()
        cat.terminate()
        rc = cat.wait(10)
        cat.stderr.close()
        self.assertEqual(rc, 31)
        self.assertLess(time.monotonic() - start, 2.0)


if __name__ == "__main__":
    unittest.main()
