#!/usr/bin/env python3
"""The transfer engine against the fake hub's faults: resume after kill -9
(multi-connection and single-stream), journals that lie, retries, stalls,
expired links, servers that ignore ranges, concurrent processes, a full
disk, the rate cap."""
import hashlib
import os
import resource
import signal
import struct
import subprocess
import time
import unittest

from cli_util import DEMO, HUBFETCH, CliTestCase, read

BIG = "hubfetch/big-model"
MiB = 1024 * 1024

# journal layout (src/journal.c): two slots, each a header, ranges, sha256
SLOT_HEADER = 144
MAX_RANGES = 256
SLOT_SIZE = SLOT_HEADER + 2 * MAX_RANGES * 16 + 32


def parse_journal(path):
    """The newest valid record: (written ranges, durable ranges), or None."""
    data = read(path)
    best = None
    for i in range(2):
        slot = data[i * SLOT_SIZE:(i + 1) * SLOT_SIZE]
        if len(slot) < SLOT_HEADER + 32 or slot[:8] != b"HUBFJRN1":
            continue
        nw, nd = struct.unpack_from("<II", slot, 12)
        body = SLOT_HEADER + 16 * (nw + nd)
        if hashlib.sha256(slot[:body]).digest() != slot[body:body + 32]:
            continue
        seq, = struct.unpack_from("<Q", slot, 24)
        ranges = [struct.unpack_from("<QQ", slot, SLOT_HEADER + 16 * k)
                  for k in range(nw + nd)]
        if best is None or seq > best[0]:
            best = (seq, ranges[:nw], ranges[nw:])
    return None if best is None else (best[1], best[2])


def requested_ranges(records):
    """[start, end) of every Range the client sent."""
    out = []
    for r in records:
        if not r["range"]:
            continue
        a, b = r["range"][len("bytes="):].split("-")
        out.append((int(a), int(b) + 1 if b else None))
    return out


class EngineTest(CliTestCase):

    def big(self):
        return self.hub.fixtures.repo(BIG).resolve("main").files["model.bin"]

    def blobs(self, repo=BIG):
        return os.path.join(self.repo_dir(repo), "blobs")

    def slow_cdn(self, rate):
        self.hub.faults([{"match": "repos/", "server": "cdn", "action": {"rate": rate}}])

    def start(self, *args):
        env = dict(self.env)
        return subprocess.Popen([HUBFETCH, "download", *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)

    def kill_when(self, proc, done):
        """kill -9 `proc` once done() is true."""
        deadline = time.monotonic() + 60
        while not done():
            self.assertIsNone(proc.poll(), proc.stderr.read().decode() if proc.poll() else "")
            self.assertLess(time.monotonic(), deadline, "download too slow to kill")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()

    def test_kill_9_then_resume_fetches_only_missing_bytes(self):
        f = self.big()
        self.slow_cdn(12 * MiB)  # per connection; 8 connections
        journal = os.path.join(self.blobs(), f.sha256 + ".hubfetch-journal.incomplete")

        def progressed(fraction):
            def check():
                j = os.path.exists(journal) and parse_journal(journal)
                return j and sum(b - a for a, b in j[0]) >= fraction * f.size
            return check

        served = 0
        for fraction in (0.2, 0.5, 0.8):
            before = parse_journal(journal)[0] if os.path.exists(journal) else []
            self.hub.clear_log()
            self.kill_when(self.start(BIG, "model.bin"), progressed(fraction))
            cdn = self.requests("cdn")
            served += sum(r["bytes"] for r in cdn)
            # this run never asked again for a byte the journal already had
            for a, b in requested_ranges(cdn):
                for s, e in before:
                    self.assertTrue(b <= s or a >= e,
                                    f"re-fetched [{a},{b}) within [{s},{e})")
            # a multi-connection download never writes <etag>.incomplete
            self.assertFalse(os.path.exists(os.path.join(self.blobs(), f.sha256 + ".incomplete")))

        have = parse_journal(journal)[0]
        self.hub.reset()
        self.hub.clear_log()
        path = self.download(BIG, "model.bin")
        cdn = self.requests("cdn")
        missing = f.size - sum(b - a for a, b in have)
        # the last run fetched exactly what the journal lacked
        self.assertEqual(sum(r["bytes"] for r in cdn), missing)
        for a, b in requested_ranges(cdn):
            for s, e in have:
                self.assertTrue(b <= s or a >= e)
        served += missing
        # in all, the file crossed the wire about once (in-flight bytes at
        # each kill are the only waste)
        self.assertLess(served, f.size * 1.25)
        self.assertEqual(hashlib.sha256(read(path)).hexdigest(), f.sha256)
        self.assertEqual([n for n in os.listdir(self.blobs()) if "incomplete" in n], [])

    def test_single_stream_partial_is_a_prefix_and_resumes(self):
        f = self.big()
        self.slow_cdn(40 * MiB)
        prefix = os.path.join(self.blobs(), f.sha256 + ".incomplete")
        self.kill_when(self.start(BIG, "model.bin", "--connections", "1"),
                       lambda: os.path.exists(prefix) and os.path.getsize(prefix) > 30 * MiB)
        have = os.path.getsize(prefix)
        # what an older huggingface_hub would resume from: a true prefix
        self.assertEqual(read(prefix), f.read(0, have))
        self.hub.reset()
        self.hub.clear_log()
        path = self.download(BIG, "model.bin", "--connections", "1")
        ranges = requested_ranges(self.requests("cdn"))
        self.assertEqual(ranges, [(have, None)])
        self.assertEqual(hashlib.sha256(read(path)).hexdigest(), f.sha256)

    def test_multi_connection_run_adopts_a_prefix(self):
        f = self.big()
        os.makedirs(self.blobs())
        with open(os.path.join(self.blobs(), f.sha256 + ".incomplete"), "wb") as out:
            out.write(f.read(0, 100 * MiB))
        path = self.download(BIG, "model.bin")
        self.assertEqual(sum(r["bytes"] for r in self.requests("cdn")), f.size - 100 * MiB)
        self.assertEqual(hashlib.sha256(read(path)).hexdigest(), f.sha256)

    def test_garbled_or_truncated_journal_restarts_safely(self):
        f = self.big()
        journal = os.path.join(self.blobs(), f.sha256 + ".hubfetch-journal.incomplete")
        sparse = os.path.join(self.blobs(), f.sha256 + ".hubfetch.incomplete")
        for damage in ("garble", "truncate", "lie"):
            self.slow_cdn(12 * MiB)
            self.kill_when(self.start(BIG, "model.bin"),
                           lambda: os.path.exists(journal) and parse_journal(journal)
                           and parse_journal(journal)[0])
            if damage == "garble":
                with open(journal, "r+b") as j:
                    j.write(os.urandom(os.path.getsize(journal)))
            elif damage == "truncate":
                os.truncate(journal, 100)
            else:
                # the journal claims bytes whose content is wrong: only the
                # digest can tell, and it must
                with open(sparse, "r+b") as s:
                    s.seek(0)
                    s.write(b"\0" * MiB)
            self.hub.reset()
            self.hub.clear_log()
            path = self.download(BIG, "model.bin")
            self.assertEqual(hashlib.sha256(read(path)).hexdigest(), f.sha256, damage)
            if damage != "lie":
                self.assertEqual(sum(r["bytes"] for r in self.requests("cdn")), f.size)
            os.unlink(os.path.realpath(path))
            os.unlink(path)

    def test_dropped_connection_resumes_where_it_stopped(self):
        self.hub.faults([{"match": "repos/", "server": "cdn", "times": 1,
                          "action": {"drop_after": 5 * MiB}}])
        path = self.download(DEMO, "model.safetensors", "--connections", "1")
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        self.assertEqual(read(path), f.read())
        ranges = requested_ranges(self.requests("cdn"))
        self.assertEqual(ranges, [(0, None), (5 * MiB, None)])

    def test_server_errors_are_retried_and_retry_after_honoured(self):
        self.hub.faults([
            {"match": "repos/", "server": "cdn", "times": 2, "action": {"status": 503}},
            {"match": "resolve/main/config.json", "server": "hub", "method": "GET",
             "times": 1, "action": {"status": 429, "headers": {"Retry-After": "1"}}},
        ])
        t0 = time.monotonic()
        self.download(DEMO, "--include", "*.json", "--include", "onnx/*")
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        statuses = [r["status"] for r in self.requests("cdn")]
        self.assertEqual(statuses[:2], [503, 503])

    def test_out_of_retries_says_what_was_tried(self):
        self.hub.faults([{"match": "repos/", "server": "cdn", "action": {"status": 502}}])
        rc, out, err = self.run_cli("download", DEMO, "onnx/model.onnx", "--retries", "2")
        self.assertEqual(rc, 26)
        self.assertIn("gave up after 3 attempts", err)
        self.assertIn("HTTP 502", err)

    def test_stalled_connection_is_restarted(self):
        self.hub.faults([{"match": "repos/", "server": "cdn", "times": 1,
                          "action": {"stall_after": 3 * MiB, "stall_ms": 20000}}])
        t0 = time.monotonic()
        path = self.download(DEMO, "model.safetensors", "--connections", "1",
                             "--stall-timeout", "1")
        self.assertLess(time.monotonic() - t0, 15)
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        self.assertEqual(read(path), f.read())
        # resumed where the stalled connection stopped (the stalled request
        # itself is logged only when the fake gives up on it, later)
        self.assertIn((3 * MiB, None), requested_ranges(self.requests("cdn")))

    def test_expired_cdn_link_is_resolved_again(self):
        self.hub.faults([{"match": "/resolve/", "server": "hub", "times": 1,
                          "action": {"expire_links": True}}])
        path = self.download(DEMO, "onnx/model.onnx")
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["onnx/model.onnx"]
        self.assertEqual(read(path), f.read())
        statuses = [r["status"] for r in self.requests("cdn")]
        self.assertEqual(statuses[0], 403)
        self.assertIn(206, statuses[1:])

    def test_parts_reuse_the_cdn_link_of_the_first(self):
        # A snapshot knows sizes from the listing, so there is no HEAD: the first part's
        # redirect gives the CDN link and every other part goes there directly. One hub
        # resolve per file, not per part (the Hub rate-limits resolves). A slow CDN, so
        # that the other parts start while the first still runs.
        self.slow_cdn(8 * MiB)
        self.download(DEMO, "--include", "model.safetensors")
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        resolves = [r for r in self.requests("hub") if "/resolve/" in r["path"]]
        parts = [r for r in self.requests("cdn") if f.sha256 in r["path"]]
        self.assertEqual(len(resolves), 1, resolves)
        self.assertGreater(len(parts), 1)
        self.assertEqual(sum(r["bytes"] for r in parts), f.size)

    def test_a_hub_handing_out_dead_links_is_given_up_on(self):
        self.hub.faults([{"match": "/resolve/", "server": "hub",
                          "action": {"expire_links": True}}])
        rc, out, err = self.run_cli("download", DEMO, "model.safetensors", "--retries", "1")
        self.assertEqual(rc, 26, err)
        self.assertIn("403", err)
        # a few fresh links tried, not an endless loop
        refused = [r for r in self.requests("cdn") if r["status"] == 403]
        self.assertLessEqual(len(refused), 20)

    def test_server_ignoring_range_still_works(self):
        self.hub.faults([{"match": "repos/", "server": "cdn", "action": {"ignore_range": True}}])
        path = self.download(DEMO, "model.safetensors")
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        self.assertEqual(read(path), f.read())
        # one full body, not one per connection
        self.assertEqual(sum(r["bytes"] for r in self.requests("cdn")), f.size)

    def test_mirror_quirks_no_content_range_or_length(self):
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        for quirk in ("no_content_range", "no_content_length"):
            self.hub.faults([{"match": "repos/", "server": "cdn", "action": {quirk: True}}])
            path = self.download(DEMO, "model.safetensors", "--force-download")
            self.assertEqual(read(path), f.read(), quirk)

    def test_concurrent_processes_fetch_each_blob_once(self):
        self.slow_cdn(20 * MiB)
        procs = [self.start(DEMO) for _ in range(4)]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs):
            self.assertEqual(p.returncode, 0, err.decode())
        paths = {out.decode().strip() for out, _ in outs}
        self.assertEqual(len(paths), 1)
        snap = paths.pop()
        commit = self.hub.fixtures.repo(DEMO).resolve("main")
        for name, f in commit.files.items():
            self.assertEqual(read(os.path.join(snap, name)), f.read(), name)
        # each LFS blob's bytes crossed the wire once, whoever fetched them
        for name, f in commit.files.items():
            if f.lfs:
                served = sum(r["bytes"] for r in self.requests("cdn") if f.sha256 in r["path"])
                self.assertEqual(served, f.size, name)
        # and each git file was fetched once
        gets = [r["path"] for r in self.requests("hub") if "/api/resolve-cache/" in r["path"]]
        self.assertEqual(len(gets), len(set(gets)))

    def test_disk_full_is_a_clear_error_and_the_cache_stays(self):
        first = self.download(DEMO, "config.json")

        def small_disk():
            resource.setrlimit(resource.RLIMIT_FSIZE, (8 * MiB, 8 * MiB))

        proc = subprocess.run([HUBFETCH, "download", DEMO, "model.safetensors"],
                              env=self.env, capture_output=True, preexec_fn=small_disk)
        self.assertEqual(proc.returncode, 28, proc.stderr.decode())
        self.assertIn("free some space", proc.stderr.decode())
        self.assertEqual(read(first), self.expected(DEMO, "main", "config.json"))
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        self.assertFalse(os.path.exists(os.path.join(self.blobs(DEMO), f.sha256)))

    def test_rate_cap(self):
        t0 = time.monotonic()
        self.download(DEMO, "model.safetensors", "--limit-rate", "16M")
        # 32 MiB at 16 MiB/s: at least about 2 s (minus the initial burst)
        self.assertGreater(time.monotonic() - t0, 1.8)


class ShortLivedLinksTest(CliTestCase):
    """CDN links that expire every second, as signed links do over a long
    download: each expiry costs a fresh resolve, however many there are."""

    hub_args = ("--cdn-link-ttl", "1")

    def test_links_expiring_again_and_again(self):
        self.hub.faults([{"match": "repos/", "server": "cdn", "action": {"rate": 4 * MiB}}])
        f = self.hub.fixtures.repo(BIG).resolve("main").files["model.bin"]
        path = self.download(BIG, "model.bin")
        self.assertEqual(hashlib.sha256(read(path)).hexdigest(), f.sha256)
        cdn = self.requests("cdn")
        refused = [r for r in cdn if r["status"] == 403]
        self.assertGreater(len(refused), 3, "links did not expire during the download")
        # every byte served once: a refused request costs no data
        self.assertEqual(sum(r["bytes"] for r in cdn if r["status"] == 206), f.size)


if __name__ == "__main__":
    unittest.main()
