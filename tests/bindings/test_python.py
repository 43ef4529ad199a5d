#!/usr/bin/env python3
"""The Python binding (bindings/python, ctypes) against the fake hub.

    HUBFETCH_LIB=build/libhubfetch.so /usr/bin/python3 tests/bindings/test_python.py

Without HUBFETCH_LIB the binding finds build/libhubfetch.so by itself. Every
client ignores the environment (HF_*, proxies) and uses a scratch cache.
"""
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import unittest.mock
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("HUB_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(SOURCE, "bindings", "python"),
                os.path.join(SOURCE, "tests", "fakehub")]
sys.path.insert(0, HERE)

from common import native_env, sanitized_library_skip  # noqa: E402

sanitized_library_skip()

import hubfetch  # noqa: E402
from hubfetch import Phase, FileStatus  # noqa: E402
from hubfetch import _lib  # noqa: E402
from harness import DEFAULT_FIXTURES, DEFAULT_MS_FIXTURES, FakeHubTestCase  # noqa: E402

DEMO = "hubfetch/demo-model"
DEMO_MAIN = "336de85ded21fb397e9153c318fe74ccdaa1f6e9"
DEMO_V1 = "c4ef15906d838aa47a14b2f34f10065101bac6fc"
DEMO_PR1 = "8bcb4ac2e93cf48af09bacaaf9b039df22a22150"
MiB = 1 << 20
HUBFETCH = os.environ.get("HUBFETCH") or os.path.join(SOURCE, "build", "hubfetch")
HFHUB_SRC = os.environ.get("HUB_TEST_HFHUB_SRC")


class BindingTestCase(FakeHubTestCase):
    """One fake per class; a fresh cache per test."""

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="hubfetch-py-")
        self.cache = os.path.join(self.tmp, "cache")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def client(self, **kw):
        kw.setdefault("endpoint", self.hub.url)
        kw.setdefault("cache_dir", self.cache)
        kw.setdefault("proxy", "")  # tests run with proxy variables set
        kw.setdefault("ignore_env", True)
        c = hubfetch.Client(**kw)
        self.addCleanup(c.close)
        return c

    def kwargs(self, **kw):
        """Arguments of the module-level functions."""
        return dict(dict(endpoint=self.hub.url, cache_dir=self.cache, proxy="",
                         ignore_env=True), **kw)

    def fixture(self, path, rev="main", repo=DEMO):
        return self.hub.fixtures.repo(repo).resolve(rev).files[path]

    def throttle(self, path, rate=1_000_000, repo=DEMO):
        """Slow the CDN down for one LFS file, so there is time to act (the
        rate is per connection, and a large file gets up to 16)."""
        self.hub.faults([{"match": self.fixture(path, repo=repo).sha256,
                          "server": "cdn", "action": {"rate": rate}}])

    def cdn_requests(self):
        return [r for r in self.hub.log() if r["server"] == "cdn"]


class DownloadTest(BindingTestCase):

    def test_version(self):
        self.assertRegex(hubfetch.library_version, r"^\d+\.\d+\.\d+")
        self.assertEqual(hubfetch.Client(ignore_env=True, cache_dir=self.cache,
                                         endpoint="http://127.0.0.1:9").endpoint,
                         "http://127.0.0.1:9")

    def test_hf_hub_download_single_file(self):
        path = hubfetch.hf_hub_download(DEMO, "config.json", **self.kwargs())
        self.assertEqual(path, os.path.join(
            self.cache, "models--hubfetch--demo-model", "snapshots", DEMO_MAIN,
            "config.json"))
        with open(path, "rb") as fh:
            self.assertEqual(fh.read(), self.fixture("config.json").read())
        # cached: no network needed now
        self.hub.clear_log()
        again = hubfetch.hf_hub_download(DEMO, "config.json", local_files_only=True,
                                         **self.kwargs())
        self.assertEqual(again, path)
        self.assertEqual(self.hub.log(), [])

    def test_prefer_offline(self):
        kw = self.kwargs(allow_patterns=["*.json"])
        folder = hubfetch.snapshot_download(DEMO, **kw)
        self.hub.clear_log()
        self.assertEqual(hubfetch.snapshot_download(DEMO, prefer_offline=True, **kw), folder)
        path = hubfetch.hf_hub_download(DEMO, "config.json", prefer_offline=True,
                                        **self.kwargs())
        self.assertEqual(path, os.path.join(folder, "config.json"))
        self.assertEqual(self.hub.log(), [])
        r = self.client().download(DEMO, files=["README.md"], prefer_offline=True)
        self.assertEqual(r.files[0].status, FileStatus.DOWNLOADED)

    def test_revision_subfolder_and_unicode_name(self):
        c = self.client()
        p = c.hf_hub_download(DEMO, "vocab.txt", subfolder="tokenizer")
        self.assertTrue(p.endswith(f"{DEMO_MAIN}/tokenizer/vocab.txt"), p)
        p = c.hf_hub_download(DEMO, "docs/read me é.md")
        self.assertTrue(os.path.isfile(p))
        p = c.hf_hub_download(DEMO, "config.json", revision="v1.0")
        self.assertIn(DEMO_V1, p)
        with open(p, "rb") as fh:
            self.assertEqual(fh.read(), self.fixture("config.json", "v1.0").read())

    def test_snapshot_with_patterns(self):
        folder = hubfetch.snapshot_download(
            DEMO, allow_patterns=["*.json", "tokenizer/*"],
            ignore_patterns="generation_*", max_workers=2, **self.kwargs())
        self.assertTrue(folder.endswith(os.path.join("snapshots", DEMO_MAIN)))
        got = {os.path.relpath(os.path.join(d, f), folder)
               for d, _, fs in os.walk(folder) for f in fs}
        self.assertEqual(got, {"config.json", "tokenizer.json",
                               "tokenizer_config.json", "tokenizer/vocab.txt"})

    def test_snapshot_local_dir_and_dataset(self):
        target = os.path.join(self.tmp, "data")
        folder = self.client().snapshot_download(
            "hubfetch/demo-data", repo_type="dataset", local_dir=target,
            allow_patterns="data/*")
        self.assertEqual(folder, target)
        self.assertTrue(os.path.isfile(os.path.join(target, "data", "train.csv")))
        self.assertFalse(os.path.islink(os.path.join(target, "data", "train.csv")))
        self.assertFalse(os.path.exists(os.path.join(target, "README.md")))

    def test_download_result_statuses(self):
        c = self.client()
        plan = c.download(DEMO, dry_run=True, allow_patterns="*.json")
        self.assertEqual(plan.commit, DEMO_MAIN)
        self.assertEqual({f.status for f in plan.files}, {FileStatus.PLANNED})
        first = c.download(DEMO, allow_patterns="*.json")
        self.assertEqual({f.status for f in first.files}, {FileStatus.DOWNLOADED})
        cfg = next(f for f in first.files if f.path == "config.json")
        self.assertEqual(cfg.size, self.fixture("config.json").size)
        self.assertEqual(cfg.etag, self.fixture("config.json").etag)
        self.assertEqual(cfg.endpoint, self.hub.url)
        self.assertTrue(os.path.isfile(cfg.local_path))
        again = c.download(DEMO, allow_patterns="*.json")
        self.assertEqual({f.status for f in again.files}, {FileStatus.CACHED})
        self.assertEqual(sum(f.bytes_fetched for f in again.files), 0)

    def test_private_repo_with_token(self):
        with self.assertRaises(hubfetch.RepositoryNotFoundError):
            self.client().hf_hub_download("hubfetch/private-model", "config.json")
        p = self.client(token="hf_alice").hf_hub_download("hubfetch/private-model",
                                                          "config.json")
        self.assertTrue(os.path.isfile(p))
        # the token never reaches the CDN
        self.client(token="hf_alice").snapshot_download("hubfetch/private-model")
        self.assertTrue(self.cdn_requests())
        self.assertFalse(any(r["auth"] for r in self.cdn_requests()))

    def test_token_goes_to_a_fallback_only_when_asked(self):
        dead = "http://127.0.0.1:9"  # discard: nothing listens
        for ask in (False, True):
            self.hub.clear_log()
            c = self.client(endpoint=dead, fallback_endpoints=[self.hub.url],
                            token="hf_alice", send_token_to_mirrors=ask, max_retries=0)
            c.hf_hub_download(DEMO, "config.json", force_download=True)
            hub = [r for r in self.hub.log() if r["server"] == "hub"]
            self.assertTrue(hub)
            self.assertEqual({r["auth"] for r in hub}, {ask})

    def test_endpoint_credentials_are_masked(self):
        url = self.hub.url.replace("http://", "http://alice:S3CRET@")
        c = self.client(endpoint=url, token="hf_alice")
        self.assertNotIn("S3CRET", c.endpoint)
        result = c.download(DEMO, files=["config.json"])
        self.assertEqual({f.endpoint for f in result.files}, {c.endpoint})


class ErrorTest(BindingTestCase):

    def check(self, cls, code, status, fn, *args, **kw):
        with self.assertRaises(cls) as cm:
            fn(*args, **kw)
        e = cm.exception
        self.assertIsInstance(e, hubfetch.HfHubError)
        self.assertEqual(e.code, code)
        self.assertEqual(e.error_name, next(k for k, v in _lib.ERRORS.items() if v == code))
        self.assertEqual(e.http_status, status)
        self.assertTrue(e.message and "\n" not in e.message, e.message)
        self.assertEqual(str(e), e.message)
        return e

    def test_hub_errors(self):
        c = self.client(max_retries=0)
        e = self.check(hubfetch.RepositoryNotFoundError, -5, 401,
                       c.hf_hub_download, "hubfetch/nope", "config.json")
        self.assertIn("hubfetch/nope", e.message)
        e = self.check(hubfetch.GatedRepoError, -8, 401,
                       c.snapshot_download, "hubfetch/gated-model")
        self.assertIsInstance(e, hubfetch.RepositoryNotFoundError)  # as in huggingface_hub
        self.check(hubfetch.RevisionNotFoundError, -6, 404,
                   c.hf_hub_download, DEMO, "config.json", revision="nope")
        e = self.check(hubfetch.EntryNotFoundError, -7, 404,
                       c.hf_hub_download, DEMO, "nope.json")
        self.assertIn("nope.json", e.message)
        self.check(hubfetch.HfHubHTTPError, -9, 401, self.client(token="hf_nobody")
                   .hf_hub_download, DEMO, "config.json")
        self.hub.faults([{"match": "/resolve/", "action": {"status": 503}}])
        self.check(hubfetch.HfHubHTTPError, -16, 503, c.hf_hub_download, DEMO,
                   "config.json")

    def test_local_errors(self):
        e = self.check(hubfetch.LocalEntryNotFoundError, -11, 0, hubfetch.hf_hub_download,
                       DEMO, "config.json", local_files_only=True, **self.kwargs())
        self.assertIsInstance(e, FileNotFoundError)
        with self.assertRaises(hubfetch.InvalidArgumentError):
            self.client().hf_hub_download("", "config.json")
        with self.assertRaises(ValueError):
            self.client().hf_hub_download(DEMO, "config.json", repo_type="modle")

    def test_transport_errors(self):
        e = self.check(hubfetch.NetworkError, -12, 0,
                       self.client(endpoint="http://127.0.0.1:1", max_retries=0)
                       .hf_hub_download, DEMO, "config.json")
        self.assertIsInstance(e, ConnectionError)
        self.hub.faults([{"match": "", "server": "cdn", "action": {"corrupt": True}}])
        self.check(hubfetch.ChecksumError, -19, 0, self.client(max_retries=0)
                   .hf_hub_download, DEMO, "onnx/model.onnx")


class ProgressTest(BindingTestCase):

    def test_events(self):
        events = []
        folder = self.client().snapshot_download(DEMO, progress=events.append)
        self.assertTrue(os.path.isdir(folder))
        self.assertTrue(all(isinstance(p, hubfetch.Progress) for p in events))
        phases = {p.phase for p in events}
        self.assertLessEqual({Phase.RESOLVE, Phase.DOWNLOAD, Phase.DONE}, phases)
        self.assertEqual([p.final for p in events].count(True), 1)
        last = events[-1]
        self.assertTrue(last.final)
        self.assertIsNone(last.file)
        self.assertEqual(last.file_count, 10)
        self.assertEqual(last.files_done, 10)
        total = sum(f.size for f in self.hub.fixtures.repo(DEMO).resolve("main")
                    .files.values())
        self.assertEqual(last.bytes_total, total)
        self.assertEqual(last.bytes_done, total)
        done = [p.bytes_done for p in events]
        self.assertEqual(done, sorted(done), "bytes_done goes backwards")
        per_file = {}
        for p in events:
            if p.file is not None:
                self.assertGreaterEqual(p.file_bytes_done, per_file.get(p.file, 0))
                per_file[p.file] = p.file_bytes_done
                self.assertEqual(p.endpoint is None or p.endpoint == self.hub.url, True)
        self.assertEqual(per_file["model.safetensors"], 32 * MiB)

    def test_cancel_then_resume(self):
        self.throttle("model.safetensors")
        c = self.client()
        events = []

        def stop_after_8mib(p):
            events.append(p)
            return p.bytes_done >= 8 * MiB

        with self.assertRaises(hubfetch.DownloadCancelled) as cm:
            c.hf_hub_download(DEMO, "model.safetensors", progress=stop_after_8mib)
        self.assertEqual(cm.exception.code, -21)
        on_disk = events[-1].bytes_done
        self.assertTrue(events[-1].final)
        self.assertGreaterEqual(on_disk, 8 * MiB)
        self.assertLess(on_disk, 32 * MiB)
        self.assertFalse(c.cache_lookup(DEMO, "model.safetensors").complete)

        self.hub.reset()
        self.hub.clear_log()
        path = c.hf_hub_download(DEMO, "model.safetensors")
        self.assertEqual(os.path.getsize(path), 32 * MiB)
        second = self.cdn_requests()
        self.assertTrue(second)
        # only the rest was asked for
        self.assertTrue(all(r["range"] and not r["range"].startswith("bytes=0-")
                            for r in second), [r["range"] for r in second])
        self.assertLessEqual(sum(r["bytes"] for r in second), 32 * MiB - on_disk)

    def test_callback_exception_cancels_and_propagates(self):
        self.throttle("model.safetensors")

        def boom(p):
            if p.phase == Phase.DOWNLOAD:
                raise ZeroDivisionError("from the callback")

        with self.assertRaises(ZeroDivisionError) as cm:
            self.client().hf_hub_download(DEMO, "model.safetensors", progress=boom)
        self.assertIsInstance(cm.exception.__context__, hubfetch.DownloadCancelled)

        def interrupt(p):
            if p.bytes_done:
                raise KeyboardInterrupt
        with self.assertRaises(KeyboardInterrupt):
            self.client().hf_hub_download(DEMO, "model.safetensors", progress=interrupt)

    @unittest.skipUnless(threading.current_thread() is threading.main_thread(), "signals")
    def test_sigint_cancels_a_blocking_download(self):
        """Ctrl-C during a download (no callback of ours) cancels it cleanly."""
        self.throttle("model.safetensors")
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        self.addCleanup(timer.cancel)
        t0 = time.monotonic()
        with self.assertRaises(KeyboardInterrupt) as cm:
            self.client().hf_hub_download(DEMO, "model.safetensors")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertIsInstance(cm.exception.__context__, hubfetch.DownloadCancelled)
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)

    def wait_250s(self):
        """The hub asks to wait 250 s (under the 300 s cap) before a retry."""
        self.hub.faults([{"match": "resolve/main/config.json", "server": "hub",
                          "action": {"status": 429, "headers": {"Retry-After": "250"}}}])

    def test_client_cancel_from_another_thread_during_a_wait(self):
        self.wait_250s()
        c = self.client()
        timer = threading.Timer(0.5, c.cancel)
        timer.start()
        self.addCleanup(timer.cancel)
        t0 = time.monotonic()
        with self.assertRaises(hubfetch.DownloadCancelled):
            c.hf_hub_download(DEMO, "config.json")
        self.assertLess(time.monotonic() - t0, 3)
        self.hub.reset()
        self.assertTrue(os.path.isfile(c.hf_hub_download(DEMO, "config.json")))

    @unittest.skipUnless(threading.current_thread() is threading.main_thread(), "signals")
    def test_sigint_during_a_server_asked_wait(self):
        """No byte flows, yet Ctrl-C gets through (the library's heartbeat
        runs the callback, where Python handles the signal)."""
        self.wait_250s()
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        self.addCleanup(timer.cancel)
        t0 = time.monotonic()
        with self.assertRaises(KeyboardInterrupt):
            self.client().hf_hub_download(DEMO, "config.json")
        self.assertLess(time.monotonic() - t0, 4)


class JobTest(BindingTestCase):

    def test_poll_cancel_wait(self):
        self.throttle("model.safetensors")
        c = self.client()
        with c.start_job(DEMO, files=["model.safetensors"]) as job:
            self.assertFalse(job.done)
            with self.assertRaises(TimeoutError):
                job.wait(timeout=0.05)
            # the client belongs to the job while it runs
            with self.assertRaises(hubfetch.ClientBusyError):
                c.hf_hub_download(DEMO, "config.json")
            deadline = time.monotonic() + 20
            while job.poll().bytes_done == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            p = job.poll()
            self.assertGreater(p.bytes_done, 0)
            self.assertEqual(p.bytes_total, 32 * MiB)
            self.assertEqual(p.file, "model.safetensors")
            job.cancel()
            with self.assertRaises(hubfetch.DownloadCancelled):
                job.wait()
            self.assertTrue(job.done)
            with self.assertRaises(hubfetch.DownloadCancelled):
                job.wait()  # the outcome stays
        # the client is free again
        self.assertTrue(os.path.isfile(c.hf_hub_download(DEMO, "config.json")))

    def test_success_with_progress_on_the_job_thread(self):
        threads = set()
        events = []

        def progress(p):
            threads.add(threading.get_ident())
            events.append(p)

        c = self.client()
        job = c.start_job(DEMO, allow_patterns=["*.json"], progress=progress)
        result = job.wait(timeout=60)
        self.assertTrue(job.done)
        self.assertIs(job.wait(), result)
        self.assertEqual(result.commit, DEMO_MAIN)
        self.assertEqual(len(result.files), 4)
        self.assertTrue(events and events[-1].final)
        self.assertNotIn(threading.get_ident(), threads)
        final = job.poll()
        self.assertTrue(final.final)
        self.assertEqual(final.files_done, 4)
        job.close()
        job.close()
        with self.assertRaises(ValueError):
            job.poll()

    def test_concurrent_waiters_share_the_outcome(self):
        self.throttle("model.safetensors", rate=8_000_000)
        # the waiter the library hands the result to is slow to record it:
        # the others must wait for it, not record "no result"
        real = hubfetch._core._take_result

        def slow_take(ptr):
            time.sleep(0.3)
            return real(ptr)

        hubfetch._core._take_result = slow_take
        self.addCleanup(setattr, hubfetch._core, "_take_result", real)
        c = self.client()
        job = c.start_job(DEMO, files=["model.safetensors", "config.json"])
        outcomes = []

        def waiter():
            try:
                outcomes.append(job.wait(timeout=60))
            except Exception as e:  # noqa: BLE001 -- recorded for the assert
                outcomes.append(e)

        threads = [threading.Thread(target=waiter) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        self.assertEqual(len(outcomes), 4)
        first = outcomes[0]
        self.assertIsInstance(first, hubfetch.Result, outcomes)
        self.assertTrue(all(o is first for o in outcomes), outcomes)
        self.assertEqual(len(first.files), 2)
        self.assertIs(job.wait(), first)
        job.close()

    def test_a_job_ending_right_after_a_wait_slice_times_out(self):
        # hub_job_wait says ETIMEOUT (still running), then the job ends
        # before the binding asks hub_job_done: the outcome is the job's,
        # not a timeout
        lib = hubfetch._core.lib
        real_wait = lib.hub_job_wait
        calls = []

        def late_wait(job, ms, out):
            rc = real_wait(job, 0, out) if not calls else real_wait(job, ms, out)
            if not calls:
                calls.append(rc)
                while not lib.hub_job_done(job):
                    time.sleep(0.01)
            return rc

        c = self.client()
        job = c.start_job(DEMO, files=["config.json"])
        lib.hub_job_wait = late_wait
        try:
            result = job.wait(timeout=30)
        finally:
            lib.hub_job_wait = real_wait
        self.assertEqual(calls, [_lib.E.ETIMEOUT])
        self.assertIsInstance(result, hubfetch.Result)
        self.assertEqual(result.files[0].path, "config.json")
        job.close()

    def test_close_while_another_thread_waits(self):
        self.throttle("model.safetensors")
        c = self.client()
        job = c.start_job(DEMO, files=["model.safetensors"])
        seen = []

        def waiter():
            try:
                job.wait()
                seen.append("result")
            except Exception as e:  # noqa: BLE001 -- recorded for the assert
                seen.append(e)

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.3)
        job.close()  # cancels; must not free the job under the waiter
        t.join(30)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(seen), 1)
        # the waiter saw either the cancellation or the job closed
        self.assertIsInstance(seen[0], (hubfetch.DownloadCancelled, ValueError))
        self.assertTrue(os.path.isfile(c.hf_hub_download(DEMO, "config.json")))

    def test_timeout_options(self):
        for name in ("connect_timeout", "stall_timeout"):
            for bad in (0, -1, float("inf"), float("nan")):
                with self.assertRaises(ValueError, msg=(name, bad)):
                    self.client(**{name: bad})
        for forever in (-1, float("inf")):
            self.client(lock_timeout=forever)
        self.client(lock_timeout=0, connect_timeout=0.5, stall_timeout=3)
        with self.assertRaises(ValueError):
            self.client(lock_timeout=float("nan"))

    def test_job_errors_and_client_close(self):
        c = self.client()
        with c.start_job("hubfetch/nope") as job:
            with self.assertRaises(hubfetch.RepositoryNotFoundError) as cm:
                job.wait()
            self.assertEqual(cm.exception.http_status, 401)
        # closing the client cancels a job still running on it
        self.throttle("model.safetensors")
        job = c.start_job(DEMO, files=["model.safetensors"])
        c.close()
        with self.assertRaises(ValueError):
            job.poll()


class LockTest(BindingTestCase):
    """Another process holds a file's cache lock (here: this test, with the
    same flock huggingface_hub takes)."""

    def hold_lock(self, path):
        import fcntl
        etag = self.fixture(path).etag
        lock = os.path.join(self.cache, ".locks", "models--hubfetch--demo-model",
                            f"{etag}.lock")
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        fh = open(lock, "w")
        fcntl.flock(fh, fcntl.LOCK_EX)
        self.addCleanup(fh.close)
        return fh, etag

    def test_a_stuck_holder_times_out_naming_the_lock(self):
        self.hold_lock("config.json")
        c = self.client(lock_timeout=1.5)
        t0 = time.monotonic()
        with self.assertRaises(hubfetch.CacheError) as cm:
            c.hf_hub_download(DEMO, "config.json")
        self.assertGreaterEqual(time.monotonic() - t0, 1.4)
        self.assertIn(".lock", str(cm.exception))
        self.assertIn("no progress", str(cm.exception))

    def test_a_holder_making_progress_is_waited_for(self):
        import fcntl
        fh, etag = self.hold_lock("config.json")
        blobs = os.path.join(self.cache, "models--hubfetch--demo-model", "blobs")
        os.makedirs(blobs, exist_ok=True)
        partial = os.path.join(blobs, f"{etag}.1a2b3c4d.incomplete")  # as Python names it
        stop = threading.Event()

        def holder():  # writes for 4 s, longer than the timeout, then gives up
            with open(partial, "ab") as out:
                for _ in range(16):
                    if stop.wait(0.25):
                        break
                    out.write(b"x")
                    out.flush()
            os.unlink(partial)
            fcntl.flock(fh, fcntl.LOCK_UN)

        t = threading.Thread(target=holder)
        t.start()
        self.addCleanup(t.join)
        self.addCleanup(stop.set)
        c = self.client(lock_timeout=1.5)
        t0 = time.monotonic()
        path = c.hf_hub_download(DEMO, "config.json")
        self.assertGreater(time.monotonic() - t0, 3)
        with open(path, "rb") as got:
            self.assertEqual(got.read(), self.fixture("config.json").read())


class ModelScopeLockTest(BindingTestCase):
    """The classic SDK's repo lock, held while its download makes progress."""

    fakehub_ms_fixtures = DEFAULT_MS_FIXTURES

    def test_waited_for_while_the_holder_writes_then_times_out(self):
        import fcntl
        lock = os.path.join(self.cache, ".lock", "hubfetch___ms-demo")
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        fh = open(lock, "w")
        self.addCleanup(fh.close)
        fcntl.flock(fh, fcntl.LOCK_EX)
        temp = os.path.join(self.cache, "models", "._____temp", "hubfetch", "ms-demo")
        os.makedirs(temp, exist_ok=True)
        stop = threading.Event()

        def holder():  # writes for 2.5 s, then stalls with the lock held
            with open(os.path.join(temp, "model.bin"), "ab") as out:
                for _ in range(10):
                    if stop.wait(0.25):
                        return
                    out.write(b"x")
                    out.flush()

        t = threading.Thread(target=holder)
        t.start()
        self.addCleanup(t.join)
        self.addCleanup(stop.set)
        c = self.client(hub="modelscope", lock_timeout=1.5)
        t0 = time.monotonic()
        with self.assertRaises(hubfetch.CacheError) as cm:
            c.snapshot_download("hubfetch/ms-demo")
        # 2.5 s of progress, then 1.5 s without
        self.assertGreater(time.monotonic() - t0, 3.5)
        self.assertIn("no progress", str(cm.exception))
        self.assertIn(lock, str(cm.exception))


class CacheLookupTest(BindingTestCase):

    def test_lookup(self):
        kw = dict(cache_dir=self.cache, ignore_env=True)
        self.assertIsNone(hubfetch.try_to_load_from_cache(DEMO, "config.json", **kw))
        r = hubfetch.cache_lookup(DEMO, "config.json", **kw)
        self.assertFalse(r.complete)
        c = self.client()
        c.snapshot_download(DEMO, allow_patterns="*.json")
        self.hub.clear_log()
        path = hubfetch.try_to_load_from_cache(DEMO, "config.json", **kw)
        self.assertTrue(path and path.endswith(f"{DEMO_MAIN}/config.json"), path)
        r = c.cache_lookup(DEMO, allow_patterns="*.json")
        self.assertTrue(r.complete)
        self.assertEqual(r.commit, DEMO_MAIN)
        self.assertEqual(len(r.files), 4)
        self.assertEqual({f.status for f in r.files}, {FileStatus.CACHED})
        r = c.cache_lookup(DEMO, files=["config.json", "README.md"])
        self.assertFalse(r.complete)
        self.assertEqual(r.missing, ["README.md"])
        self.assertIsNone(c.try_to_load_from_cache(DEMO, "config.json", revision="v1.0"))
        self.assertEqual(self.hub.log(), [])  # never the network


class LogTest(BindingTestCase):

    def test_log_callback(self):
        lines = []
        c = self.client(log=lambda level, msg: lines.append((level, msg)),
                        log_level=hubfetch.LogLevel.DEBUG)
        # a retry is worth a message
        self.hub.faults([{"match": "", "server": "cdn", "times": 1,
                          "action": {"status": 503}}])
        c.hf_hub_download(DEMO, "onnx/model.onnx")
        self.assertTrue(lines)
        self.assertTrue(any("503" in m for _, m in lines), lines)
        self.assertTrue(all(isinstance(lv, hubfetch.LogLevel) and isinstance(m, str)
                            for lv, m in lines))


def make_repo(cache, folder, blobs, snapshots, refs):
    """A repository in huggingface_hub's layout, by hand. blobs: {etag:
    bytes}; snapshots: {commit: {path: etag}}; refs: {name: commit}."""
    repo = os.path.join(cache, folder)
    os.makedirs(os.path.join(repo, "blobs"), exist_ok=True)
    for etag, data in blobs.items():
        with open(os.path.join(repo, "blobs", etag), "wb") as fh:
            fh.write(data)
    for commit, files in snapshots.items():
        for path, etag in files.items():
            p = os.path.join(repo, "snapshots", commit, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            os.symlink("../" * (path.count("/") + 2) + "blobs/" + etag, p)
    for name, commit in refs.items():
        p = os.path.join(repo, "refs", name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as fh:
            fh.write(commit)
    return repo


SHARED1, ONLY_A, ONLY_C = "a" * 64, "b" * 40, "c" * 64
REV_A, REV_B, REV_C = "1" * 40, "2" * 40, "3" * 40


def fmt_size(n):
    """huggingface_hub's _format_size, as the reference doc states it."""
    x = float(n)
    for unit in ["", "K", "M", "G", "T", "P", "E", "Z"]:
        if abs(x) < 1000.0:
            return f"{x:3.1f}{unit}"
        x /= 1000.0
    return f"{x:.1f}Y"


class ScanCacheTest(BindingTestCase):
    """scan_cache_dir(): every field against the CLI's JSON (the same C
    scan), against stat() of the files, and against huggingface_hub's own
    scan_cache_dir() when its sources are given (HUB_TEST_HFHUB_SRC)."""

    def populate(self):
        c = self.client()
        c.snapshot_download(DEMO)
        small = dict(allow_patterns=["*.json", "*.md"])
        c.snapshot_download(DEMO, revision="v1.0", **small)
        c.snapshot_download(DEMO, revision="refs/pr/1", **small)
        c.snapshot_download("hubfetch/demo-data", repo_type="dataset")
        c.snapshot_download("hubfetch/demo-space", repo_type="space")

    def worked_example(self):
        """huggingface_hub's documented example: A = {model.bin, copy.bin ->
        shared1, config.json -> onlyA}, B = {model.bin -> shared1}, C =
        {x.bin -> onlyC} (detached): A 5000, B 3000, C 1000, repo 6000."""
        return make_repo(
            self.cache, "models--org--example",
            {SHARED1: b"s" * 3000, ONLY_A: b"a" * 2000, ONLY_C: b"c" * 1000},
            {REV_A: {"model.bin": SHARED1, "copy.bin": SHARED1,
                     "sub/config.json": ONLY_A},
             REV_B: {"model.bin": SHARED1}, REV_C: {"x.bin": ONLY_C}},
            {"main": REV_A, "v1": REV_B})

    def cli_json(self):
        if not os.access(HUBFETCH, os.X_OK):
            self.skipTest(f"no hubfetch program at {HUBFETCH}")
        proc = subprocess.run(
            [HUBFETCH, "cache", "ls", "--format", "json", "--revisions",
             "--cache-dir", self.cache], capture_output=True, timeout=120,
            env=native_env(os.environ), stdin=subprocess.DEVNULL)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout), proc.stderr.decode()

    def check_against_cli(self, info):
        """Every field of every repository and revision, as the CLI says."""
        cli, _ = self.cli_json()
        self.assertEqual(len(info.repos), len(cli))
        by_id = {(r.repo_type, r.repo_id): r for r in info.repos}
        for j in cli:
            r = by_id[(j["repo_type"], j["repo_id"])]
            self.assertIsInstance(r, hubfetch.CachedRepoInfo)
            self.assertEqual(r.cache_id, f"{j['repo_type']}/{j['repo_id']}")
            self.assertEqual(r.repo_path, Path(j["repo_path"]))
            self.assertEqual(r.size_on_disk, j["size_on_disk"])
            self.assertEqual(r.size_on_disk_str, fmt_size(j["size_on_disk"]))
            self.assertEqual(r.nb_files, j["nb_files"])
            self.assertEqual(r.last_accessed, j["last_accessed"])
            self.assertEqual(r.last_modified, j["last_modified"])
            self.assertIsInstance(r.last_accessed, float)
            self.assertIsInstance(r.last_modified, float)
            self.assertEqual(r.last_modified_str, "a few seconds ago")
            self.assertEqual(sorted(r.refs), j["refs"])
            self.assertEqual(list(r.warnings), j["warnings"])
            self.assertIsInstance(r.revisions, frozenset)
            self.assertEqual(len(r.revisions), len(j["revisions"]))
            revs = {v.commit_hash: v for v in r.revisions}
            for jv in j["revisions"]:
                v = revs[jv["commit_hash"]]
                self.assertIsInstance(v, hubfetch.CachedRevisionInfo)
                self.assertEqual(v.snapshot_path, Path(jv["snapshot_path"]))
                self.assertEqual(v.size_on_disk, jv["size_on_disk"])
                self.assertEqual(v.size_on_disk_str, fmt_size(jv["size_on_disk"]))
                self.assertEqual(v.nb_files, jv["nb_files"])
                self.assertEqual(v.last_modified, jv["last_modified"])
                self.assertIsInstance(v.refs, frozenset)
                self.assertEqual(sorted(v.refs), jv["refs"])
                self.assertIsInstance(v.files, frozenset)
                self.assertEqual(len(v.files), jv["nb_files"])
                self.check_files_against_the_disk(v)
                for ref in v.refs:
                    self.assertIs(r.refs[ref], v)
        return cli

    def check_files_against_the_disk(self, v):
        """Each CachedFileInfo of revision `v` against a walk of its
        snapshot folder and stat() of what each entry resolves to."""
        on_disk = {}
        for d, _, fs in os.walk(v.snapshot_path):
            for f in fs:
                p = os.path.join(d, f)
                if os.path.exists(p):  # broken links are warnings, not files
                    on_disk[os.path.relpath(p, v.snapshot_path).replace(os.sep, "/")] = p
        self.assertEqual(sorted(f.rel_path for f in v.files), sorted(on_disk))
        for f in v.files:
            self.assertIsInstance(f, hubfetch.CachedFileInfo)
            p = on_disk[f.rel_path]
            self.assertEqual(f.file_path, Path(p))
            self.assertEqual(f.file_name, Path(p).name)  # huggingface_hub's
            self.assertEqual(f.blob_path, Path(p).resolve())
            st = os.stat(p)
            self.assertEqual(f.size_on_disk, st.st_size)
            self.assertEqual(f.size_on_disk_str, fmt_size(st.st_size))
            self.assertEqual(f.blob_last_accessed, int(st.st_atime))
            self.assertEqual(f.blob_last_modified, int(st.st_mtime))
            self.assertIsInstance(f.blob_last_modified, float)
            if os.path.islink(p):
                self.assertEqual(f.blob_name, os.path.basename(os.readlink(p)))
            else:
                self.assertIsNone(f.blob_name)
        if v.files:
            self.assertEqual(v.last_accessed,
                             max(f.blob_last_accessed for f in v.files))

    def test_fields_against_the_cli_and_the_disk(self):
        self.populate()
        self.worked_example()
        info = self.client().scan_cache_dir()
        self.assertIsInstance(info, hubfetch.HFCacheInfo)
        self.assertIsInstance(info.repos, frozenset)
        self.assertEqual(info.warnings, [])
        self.assertEqual(info.cache_dir, Path(os.path.realpath(self.cache)))
        self.check_against_cli(info)
        # the module function, as huggingface_hub's: the same result
        again = hubfetch.scan_cache_dir(Path(self.cache), ignore_env=True)
        self.assertEqual(again.repos, info.repos)
        self.assertEqual(again.size_on_disk, info.size_on_disk)
        # against stat(): distinct blobs by (device, inode)
        blobs = {}
        for r in info.repos:
            mine = {}
            for v in r.revisions:
                rev = {}
                for d, _, fs in os.walk(v.snapshot_path):
                    for f in fs:
                        st = os.stat(os.path.join(d, f))
                        rev[(st.st_dev, st.st_ino)] = st
                self.assertEqual(v.size_on_disk, sum(s.st_size for s in rev.values()))
                self.assertEqual(v.last_modified,
                                 int(max(s.st_mtime for s in rev.values())))
                mine.update(rev)
            self.assertEqual(r.size_on_disk, sum(s.st_size for s in mine.values()))
            self.assertEqual(r.nb_files, len(mine))
            self.assertEqual(r.last_accessed, int(max(s.st_atime for s in mine.values())))
            blobs.update(mine)
        self.assertEqual(info.size_on_disk, sum(s.st_size for s in blobs.values()))
        self.assertEqual(info.size_on_disk, sum(r.size_on_disk for r in info.repos))
        self.assertEqual(info.size_on_disk_str, fmt_size(info.size_on_disk))
        # the worked example, number by number
        ex = next(r for r in info.repos if r.repo_id == "org/example")
        self.assertEqual((ex.repo_type, ex.size_on_disk, ex.nb_files), ("model", 6000, 3))
        rev_a = ex.refs["main"]
        self.assertEqual(sorted((f.rel_path, f.file_name, f.blob_name, f.size_on_disk)
                                for f in rev_a.files),
                         [("copy.bin", "copy.bin", SHARED1, 3000),
                          ("model.bin", "model.bin", SHARED1, 3000),
                          ("sub/config.json", "config.json", ONLY_A, 2000)])
        self.assertEqual({f.blob_path for f in rev_a.files},
                         {ex.repo_path / "blobs" / SHARED1, ex.repo_path / "blobs" / ONLY_A})
        self.assertEqual(ex.size_on_disk_str, "6.0K")
        got = {v.commit_hash: (v.size_on_disk, v.nb_files, v.refs) for v in ex.revisions}
        self.assertEqual(got, {REV_A: (5000, 3, frozenset({"main"})),
                               REV_B: (3000, 1, frozenset({"v1"})),
                               REV_C: (1000, 1, frozenset())})
        self.assertEqual(set(ex.refs), {"main", "v1"})
        model = next(r for r in info.repos if r.repo_id == DEMO)
        self.assertEqual({ref: v.commit_hash for ref, v in model.refs.items()},
                         {"main": DEMO_MAIN, "v1.0": DEMO_V1, "refs/pr/1": DEMO_PR1})
        self.assertEqual({r.cache_id for r in info.repos},
                         {f"model/{DEMO}", "model/org/example",
                          "dataset/hubfetch/demo-data", "space/hubfetch/demo-space"})
        # frozen, hashable, as huggingface_hub's
        with self.assertRaises(dataclasses.FrozenInstanceError):
            ex.size_on_disk = 0
        self.assertIn(ex, {ex})

    def test_defects_are_warnings_and_the_repo_stays_listed(self):
        repo = self.worked_example()
        os.unlink(os.path.join(repo, "blobs", ONLY_C))  # C's link is broken
        with open(os.path.join(repo, "refs", "ghost"), "w") as fh:
            fh.write("9" * 40)  # a ref to no snapshot
        with open(os.path.join(repo, "snapshots", "stray.txt"), "w") as fh:
            fh.write("x")
        with open(os.path.join(self.cache, "version.txt"), "w") as fh:
            fh.write("1")
        info = hubfetch.scan_cache_dir(self.cache, ignore_env=True)
        cli = self.check_against_cli(info)
        (ex,) = info.repos
        self.assertEqual((ex.size_on_disk, ex.nb_files, len(ex.revisions)), (5000, 2, 3))
        self.assertEqual(len(ex.warnings), 3, ex.warnings)
        self.assertTrue(all(isinstance(w, hubfetch.CorruptedCacheException)
                            for w in info.warnings))
        # the cache's own first, then each repository's, with its folder
        self.assertIn("version.txt", str(info.warnings[0]))
        self.assertIsNone(info.warnings[0].repo_path)
        self.assertEqual([str(w) for w in info.warnings[1:]], cli[0]["warnings"])
        self.assertEqual({w.repo_path for w in info.warnings[1:]}, {ex.repo_path})
        text = "\n".join(map(str, info.warnings))
        for needle in ("broken link", ONLY_C, "ghost", "stray.txt"):
            self.assertIn(needle, text)

    def test_empty_missing_and_modelscope(self):
        os.makedirs(self.cache)
        info = hubfetch.scan_cache_dir(self.cache, ignore_env=True)
        self.assertEqual((info.size_on_disk, info.repos, info.warnings),
                         (0, frozenset(), []))
        self.assertEqual(info.size_on_disk_str, "0.0")
        missing = os.path.join(self.tmp, "nope")
        with self.assertRaises(hubfetch.CacheNotFound) as cm:
            hubfetch.scan_cache_dir(missing, ignore_env=True)
        self.assertEqual(cm.exception.cache_dir, missing)
        self.assertIsInstance(cm.exception, hubfetch.LocalEntryNotFoundError)
        self.assertIn(missing, str(cm.exception))
        with self.assertRaises(hubfetch.CacheError):  # a file
            hubfetch.scan_cache_dir(os.path.join(SOURCE, "README.md"), ignore_env=True)
        # the ModelScope layouts (0.4): a Hugging Face cache holds none
        self.worked_example()
        ms = hubfetch.scan_cache_dir(self.cache, hub="modelscope", ignore_env=True)
        self.assertEqual((ms.repos, ms.size_on_disk), (frozenset(), 0))
        # the environment's cache, as huggingface_hub's default
        env = {"HF_HUB_CACHE": self.cache}
        with unittest.mock.patch.dict(os.environ, env):
            self.assertEqual(hubfetch.scan_cache_dir().cache_dir,
                             Path(os.path.realpath(self.cache)))

    def test_size_and_time_strings(self):
        from hubfetch._cache import _format_size, format_timesince
        cases = [0, 1, 999, 1000, 1049, 1050, 999_949, 999_950, 6000, 3_200_000_000,
                 10**24 - 1, 10**24, 5 * 10**27]
        self.assertEqual([_format_size(n) for n in cases],
                         [fmt_size(n) for n in cases])
        self.assertEqual(_format_size(500), "500.0")
        self.assertEqual(_format_size(1234), "1.2K")
        self.assertEqual(_format_size(10**24), "1.0Y")
        now = time.time()
        ages = [0, 10, 25, 59 * 60, 3 * 3600, 2 * 86400, 14 * 86400, 40 * 86400,
                400 * 86400, 3 * 365 * 86400]
        self.assertEqual([format_timesince(now - a) for a in ages[:2]],
                         ["a few seconds ago"] * 2)
        self.assertEqual(format_timesince(now - 14 * 86400), "2 weeks ago")
        self.assertEqual(format_timesince(now - 7200), "2 hours ago")
        self.assertEqual(format_timesince(now - 3600), "60 minutes ago")  # sic
        if HFHUB_SRC:
            code = ("import json, sys, time\n"
                    "from huggingface_hub.utils._cache_manager import _format_size\n"
                    "from huggingface_hub.utils._parsing import format_timesince\n"
                    "a = json.loads(sys.argv[1])\n"
                    "print(json.dumps([[_format_size(n) for n in a[0]],"
                    " [format_timesince(time.time() - x) for x in a[1]]]))\n")
            out = subprocess.run(
                ["/usr/bin/python3", "-c", code, json.dumps([cases, ages])],
                capture_output=True, check=True, timeout=60,
                env=native_env(dict(os.environ, PYTHONPATH=HFHUB_SRC)))
            sizes, times = json.loads(out.stdout)
            self.assertEqual([_format_size(n) for n in cases], sizes)
            self.assertEqual([format_timesince(time.time() - a) for a in ages], times)

    def test_huggingface_hub_scan_cache_dir_agrees(self):
        if not HFHUB_SRC:
            self.skipTest("HUB_TEST_HFHUB_SRC not set")
        self.populate()
        self.worked_example()
        code = (
            "import json, sys\n"
            "from huggingface_hub import scan_cache_dir\n"
            "info = scan_cache_dir(sys.argv[1])\n"
            "print(json.dumps({'warnings': [str(w) for w in info.warnings],"
            " 'size': info.size_on_disk, 'size_str': info.size_on_disk_str,"
            " 'repos': [{'repo_id': r.repo_id,"
            " 'repo_type': r.repo_type, 'repo_path': str(r.repo_path),"
            " 'size_on_disk': r.size_on_disk, 'size_on_disk_str': r.size_on_disk_str,"
            " 'nb_files': r.nb_files, 'last_accessed': int(r.last_accessed),"
            " 'last_modified': int(r.last_modified), 'refs': sorted(r.refs),"
            " 'ref_commits': {k: v.commit_hash for k, v in r.refs.items()},"
            " 'revisions': sorted([{"
            "'commit_hash': v.commit_hash, 'refs': sorted(v.refs),"
            " 'size_on_disk': v.size_on_disk, 'nb_files': v.nb_files,"
            " 'last_modified': int(v.last_modified),"
            " 'snapshot_path': str(v.snapshot_path),"
            " 'files': sorted([[f.file_name, str(f.file_path), str(f.blob_path),"
            " f.size_on_disk, f.size_on_disk_str, int(f.blob_last_accessed),"
            " int(f.blob_last_modified)] for f in v.files])} for v in r.revisions],"
            " key=lambda v: v['commit_hash'])} for r in info.repos]}))\n")
        out = subprocess.run(["/usr/bin/python3", "-c", code, self.cache],
                             capture_output=True, check=True, timeout=120,
                             env=native_env(dict(os.environ, PYTHONPATH=HFHUB_SRC)))
        hf = json.loads(out.stdout)
        # before 1.9, huggingface_hub took CACHEDIR.TAG for a broken repo
        self.assertEqual([w for w in hf["warnings"]
                          if not w.endswith("/CACHEDIR.TAG")], [])
        info = hubfetch.scan_cache_dir(self.cache, ignore_env=True)
        self.assertEqual(info.warnings, [])
        mine = [{"repo_id": r.repo_id, "repo_type": r.repo_type,
                 "repo_path": str(r.repo_path), "size_on_disk": r.size_on_disk,
                 "size_on_disk_str": r.size_on_disk_str, "nb_files": r.nb_files,
                 "last_accessed": int(r.last_accessed),
                 "last_modified": int(r.last_modified), "refs": sorted(r.refs),
                 "ref_commits": {k: v.commit_hash for k, v in r.refs.items()},
                 "revisions": sorted([
                     {"commit_hash": v.commit_hash, "refs": sorted(v.refs),
                      "size_on_disk": v.size_on_disk, "nb_files": v.nb_files,
                      "last_modified": int(v.last_modified),
                      "snapshot_path": str(v.snapshot_path),
                      "files": sorted([[f.file_name, str(f.file_path), str(f.blob_path),
                                        f.size_on_disk, f.size_on_disk_str,
                                        int(f.blob_last_accessed),
                                        int(f.blob_last_modified)] for f in v.files])}
                     for v in r.revisions],
                     key=lambda v: v["commit_hash"])}
                for r in info.repos]
        key = lambda r: (r["repo_type"], r["repo_id"])  # noqa: E731
        self.assertEqual(sorted(mine, key=key), sorted(hf["repos"], key=key))
        self.assertEqual(info.size_on_disk, hf["size"])
        self.assertEqual(info.size_on_disk_str, hf["size_str"])


def run_hfhub(code, *args, env=None, timeout=120):
    """Run `code` with huggingface_hub's sources (HUB_TEST_HFHUB_SRC) under
    /usr/bin/python3; returns its stdout as JSON."""
    out = subprocess.run(["/usr/bin/python3", "-c", code, *args], capture_output=True,
                         timeout=timeout, env=native_env(dict(
                             env or os.environ, PYTHONPATH=HFHUB_SRC, HF_HUB_OFFLINE="0",
                             HF_HUB_DISABLE_TELEMETRY="1", NO_PROXY="127.0.0.1",
                             no_proxy="127.0.0.1")))
    if out.returncode:
        raise AssertionError(out.stderr.decode(errors="replace"))
    return json.loads(out.stdout)


def entry_json(e):
    """An entry as the CLI's `ls --format json` writes it (the tree API's)."""
    if isinstance(e, hubfetch.RepoFolder):
        d = {"type": "directory", "path": e.path, "size": 0, "oid": e.tree_id}
    else:
        d = {"type": "file", "path": e.path, "size": e.size, "oid": e.blob_id}
        if e.lfs is not None:
            d["lfs"] = {"oid": e.lfs.sha256, "size": e.lfs.size,
                        "pointerSize": e.lfs.pointer_size}
        if e.xet_hash:
            d["xetHash"] = e.xet_hash
    if e.last_commit is not None:
        d["lastCommit"] = {"id": e.last_commit.oid, "title": e.last_commit.title,
                           "date": e.last_commit.date.strftime("%Y-%m-%dT%H:%M:%S.")
                           + f"{e.last_commit.date.microsecond // 1000:03d}Z"}
    return d


# huggingface_hub's view of entries, the same fields in the same shape
HFHUB_ENTRY = (
    "def ent(e):\n"
    "    from huggingface_hub.hf_api import RepoFolder\n"
    "    lc = e.last_commit and [e.last_commit.oid, e.last_commit.title,"
    " e.last_commit.date.isoformat()]\n"
    "    if isinstance(e, RepoFolder):\n"
    "        return ['folder', e.path, e.tree_id, lc]\n"
    "    lfs = e.lfs and [e.lfs.size, e.lfs.sha256, e.lfs.pointer_size]\n"
    "    return ['file', e.path, e.size, e.blob_id, lfs, lc]\n")


def mine_entry(e):
    lc = e.last_commit and [e.last_commit.oid, e.last_commit.title,
                            e.last_commit.date.isoformat()]
    if isinstance(e, hubfetch.RepoFolder):
        return ["folder", e.path, e.tree_id, lc]
    lfs = e.lfs and [e.lfs.size, e.lfs.sha256, e.lfs.pointer_size]
    return ["file", e.path, e.size, e.blob_id, lfs, lc]


class RemoteTest(BindingTestCase):
    """list_repo_tree / get_paths_info / whoami against the fake, and the
    CLI's `hubfetch ls --format json`; huggingface_hub's own on the same
    fake when HUB_TEST_HFHUB_SRC is set."""

    def cli_ls(self, *args):
        out = subprocess.run([HUBFETCH, "ls", *args, "--format", "json", "--endpoint",
                              self.hub.url, "--proxy", ""], capture_output=True,
                             check=True, timeout=60, env=native_env(os.environ))
        return json.loads(out.stdout)

    def test_list_repo_tree_as_the_cli(self):
        c = self.client()
        for args, kw in ((["-R"], dict(recursive=True)), ([], {}),
                         (["--expand"], dict(expand=True)),
                         (["onnx", "-R", "--expand"], dict(recursive=True, expand=True)),
                         (["--revision", "v1.0", "-R"], dict(recursive=True, revision="v1.0"))):
            with self.subTest(args=args):
                path = args[0] if args and not args[0].startswith("-") else None
                mine = [entry_json(e) for e in c.list_repo_tree(DEMO, path, **kw)]
                self.assertEqual(mine, self.cli_ls(DEMO, *args))
        entries = {e.path: e for e in c.list_repo_tree(DEMO, recursive=True)}
        st = entries["model.safetensors"]
        self.assertIsInstance(st, hubfetch.RepoFile)
        self.assertEqual(st.lfs.sha256, self.fixture("model.safetensors").sha256)
        self.assertEqual(st.lfs["sha256"], st.lfs.sha256)  # a dict too
        self.assertEqual(st.size, self.fixture("model.safetensors").size)
        self.assertIsInstance(entries["onnx"], hubfetch.RepoFolder)
        self.assertIsNone(entries["config.json"].lfs)
        # a dataset, and a file named alone
        data = list(c.list_repo_tree("hubfetch/demo-data", repo_type="dataset",
                                     recursive=True))
        self.assertEqual([entry_json(e) for e in data],
                         self.cli_ls("hubfetch/demo-data", "--repo-type", "dataset", "-R"))
        one = list(c.list_repo_tree(DEMO, "config.json"))
        self.assertEqual([e.path for e in one], ["config.json"])

    def test_errors_are_raised_at_the_first_next(self):
        c = self.client(max_retries=0)
        it = c.list_repo_tree("hubfetch/nope")
        self.assertEqual(self.hub.log(), [])  # lazy, as huggingface_hub's generator
        with self.assertRaises(hubfetch.RepositoryNotFoundError):
            next(it)
        with self.assertRaises(StopIteration):
            next(it)
        with self.assertRaises(hubfetch.RevisionNotFoundError):
            list(c.list_repo_tree(DEMO, revision="nope"))
        with self.assertRaises(hubfetch.EntryNotFoundError):
            list(c.list_repo_tree(DEMO, "no/such/folder"))
        with self.assertRaises(ValueError):
            c.list_repo_tree(DEMO, repo_type="modle")
        with self.assertRaises(hubfetch.RepositoryNotFoundError):
            list(c.list_repo_tree("hubfetch/private-model"))
        private = list(self.client(token="hf_alice").list_repo_tree("hubfetch/private-model"))
        self.assertTrue(private)

    def test_get_paths_info(self):
        c = self.client()
        got = c.get_paths_info(DEMO, ["config.json", "nope.txt", "onnx", "model.safetensors"])
        self.assertEqual([e.path for e in got], ["config.json", "onnx", "model.safetensors"])
        tree = {e.path: e for e in c.list_repo_tree(DEMO, recursive=True)}
        for e in got:
            self.assertEqual(e, tree[e.path])
        expanded = c.get_paths_info(DEMO, "config.json", expand=True)
        self.assertEqual(expanded[0].last_commit.oid, DEMO_MAIN)
        self.assertEqual(c.get_paths_info(DEMO, ["nope"]), [])
        with self.assertRaises(hubfetch.RepositoryNotFoundError):
            c.get_paths_info("hubfetch/nope", ["config.json"])

    def test_paging_is_lazy_and_the_iterator_is_freed(self):
        c = self.client()
        expected = self.cli_ls("hubfetch/many-files", "-R")
        self.hub.clear_log()
        it = c.list_repo_tree("hubfetch/many-files", recursive=True)
        first = next(it)
        self.assertEqual(entry_json(first), expected[0])
        pages = len([r for r in self.hub.log() if "/tree/" in r["path"]])
        self.assertEqual(pages, 1)
        rest = list(it)
        self.assertEqual([entry_json(e) for e in [first] + rest], expected)
        self.assertIsNone(it._ptr)  # exhausted: freed
        it = c.list_repo_tree(DEMO)
        next(it)
        self.assertTrue(it._ptr)
        it.close()
        self.assertIsNone(it._ptr)
        self.assertEqual(list(it), [])
        with c.list_repo_tree(DEMO) as it:
            next(it)
        self.assertIsNone(it._ptr)
        it = c.list_repo_tree(DEMO)
        next(it)
        c.close()  # frees the listing before the client
        self.assertIsNone(it._ptr)
        with self.assertRaises(ValueError):
            next(it)
        # module level: a client of its own, kept by the iterator
        names = [e.path for e in hubfetch.list_repo_tree(DEMO, **self.kwargs())]
        self.assertIn("config.json", names)

    def test_whoami(self):
        me = self.client(token="hf_alice").whoami()
        self.assertEqual(me, {"name": "alice", "fullname": "Alice Liddell", "type": "user",
                              "orgs": [{"name": "hubfetch"}, {"name": "wonderland"}],
                              "auth": {"accessToken": {"displayName": "alice-laptop",
                                                       "role": "read"}}})
        self.assertEqual(hubfetch.whoami("hf_alice", **self.kwargs())["name"], "alice")
        with self.assertRaises(hubfetch.LocalTokenNotFoundError) as cm:
            self.client(token=False).whoami()
        self.assertEqual((cm.exception.code, cm.exception.http_status), (-9, 0))
        with self.assertRaises(hubfetch.AuthenticationError) as cm:
            self.client(token="hf_nobody").whoami()
        self.assertIsInstance(cm.exception, hubfetch.HfHubHTTPError)
        self.assertEqual(cm.exception.http_status, 401)

    def test_huggingface_hub_agrees(self):
        if not HFHUB_SRC:
            self.skipTest("HUB_TEST_HFHUB_SRC not set")
        code = (HFHUB_ENTRY +
                "import json, sys\n"
                "from huggingface_hub import HfApi\n"
                "api = HfApi(endpoint=sys.argv[1], token=False)\n"
                "out = {}\n"
                "for k, kw in [('root', {}), ('rec', {'recursive': True}),"
                " ('exp', {'recursive': True, 'expand': True}),"
                " ('onnx', {'path_in_repo': 'onnx'}), ('v1', {'revision': 'v1.0',"
                " 'recursive': True})]:\n"
                "    out[k] = [ent(e) for e in api.list_repo_tree(sys.argv[2], **kw)]\n"
                "out['info'] = [ent(e) for e in api.get_paths_info(sys.argv[2],"
                " ['config.json', 'nope', 'onnx', 'model.safetensors'])]\n"
                "out['info_exp'] = [ent(e) for e in api.get_paths_info(sys.argv[2],"
                " ['tokenizer.json', 'docs'], expand=True)]\n"
                "out['me'] = HfApi(endpoint=sys.argv[1], token='hf_alice').whoami()\n"
                "print(json.dumps(out))\n")
        hf = run_hfhub(code, self.hub.url, DEMO)
        c = self.client()
        kws = {"root": {}, "rec": {"recursive": True},
               "exp": {"recursive": True, "expand": True}, "onnx": {"path_in_repo": "onnx"},
               "v1": {"revision": "v1.0", "recursive": True}}
        for k, kw in kws.items():
            with self.subTest(listing=k):
                path = kw.pop("path_in_repo", None)
                self.assertEqual([mine_entry(e) for e in c.list_repo_tree(DEMO, path, **kw)],
                                 hf[k])
        self.assertEqual([mine_entry(e) for e in c.get_paths_info(
            DEMO, ["config.json", "nope", "onnx", "model.safetensors"])], hf["info"])
        self.assertEqual([mine_entry(e) for e in c.get_paths_info(
            DEMO, ["tokenizer.json", "docs"], expand=True)], hf["info_exp"])
        me = self.client(token="hf_alice").whoami()
        for key, value in me.items():  # every key we give, as the hub's dict has it
            if key == "orgs":
                self.assertEqual(value, [{"name": o["name"]} for o in hf["me"]["orgs"]])
            elif key == "auth":
                tok = hf["me"]["auth"]["accessToken"]
                self.assertEqual(value["accessToken"], {k: tok[k] for k in value["accessToken"]})
            else:
                self.assertEqual(value, hf["me"][key], key)


class TokenTest(unittest.TestCase):
    """save_token / remove_token / get_token_path in an isolated HF_HOME."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hubfetch-tok-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.home = os.path.join(self.tmp, "hf home")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env["HF_HOME"] = self.home
        patcher = unittest.mock.patch.dict(os.environ, env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_save_and_remove(self):
        path = hubfetch.get_token_path()
        self.assertEqual(path, os.path.join(self.home, "token"))
        self.assertFalse(hubfetch.remove_token())
        hubfetch.save_token("  hf_alice\n")
        with open(path) as fh:
            self.assertEqual(fh.read(), "hf_alice")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        hubfetch.save_token("hf_bob", name="bob-token")
        hubfetch.save_token("hf_alice", name="alice-laptop")
        stored = os.path.join(self.home, "stored_tokens")
        with open(stored) as fh:
            text = fh.read()
        self.assertIn("[alice-laptop]", text)
        self.assertIn("[bob-token]", text)
        with open(path) as fh:
            self.assertEqual(fh.read(), "hf_alice")
        if HFHUB_SRC:
            hf = run_hfhub("import json\n"
                           "from huggingface_hub import constants, get_token\n"
                           "from huggingface_hub.utils._auth import get_stored_tokens\n"
                           "print(json.dumps([constants.HF_TOKEN_PATH, get_token(),"
                           " get_stored_tokens()]))\n", env=os.environ)
            self.assertEqual(hf, [path, "hf_alice",
                                  {"alice-laptop": "hf_alice", "bob-token": "hf_bob"}])
        with self.assertRaises(hubfetch.InvalidArgumentError):
            hubfetch.save_token("")
        with self.assertRaises(hubfetch.InvalidArgumentError):
            hubfetch.save_token("hf_x", name="a\nb")
        self.assertTrue(hubfetch.remove_token())
        self.assertFalse(os.path.exists(path))
        self.assertFalse(os.path.exists(stored))
        os.environ["HF_TOKEN_PATH"] = os.path.join(self.tmp, "elsewhere")
        self.assertEqual(hubfetch.get_token_path(), os.path.join(self.tmp, "elsewhere"))


class WeightsTest(unittest.TestCase):
    """parse_safetensors_file / read_gguf_file on tests/fixtures/gen_weights.py's
    files, with the C suite's expectations (tests/unit/test_weights.c), and
    huggingface_hub's header parser when HUB_TEST_HFHUB_SRC is set."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hubfetch-weights-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "fixtures",
                                                     "gen_weights.py"), cls.dir],
                       check=True, env=native_env(os.environ))

    def f(self, name):
        return os.path.join(self.dir, name)

    def test_single_safetensors(self):
        m = hubfetch.parse_safetensors_file(self.f("single.safetensors"))
        self.assertIsInstance(m, hubfetch.SafetensorsFileMetadata)
        self.assertEqual(len(m.tensors), 25)
        self.assertEqual(len(m.parameter_count), 22)
        self.assertEqual(m.parameter_count["F32"], 9)
        self.assertEqual(m.parameter_count["BF16"], 136)
        self.assertEqual(m.parameter_count["F6_E2M3"], 16)
        self.assertEqual(m.parameter_count["F4"], 8)
        self.assertEqual(sum(m.parameter_count.values()), 321)
        self.assertEqual(m.metadata, {"format": "pt", "note": "caf\u00e9",
                                      "total_parameters": "321"})
        self.assertEqual(list(m.metadata), ["format", "note", "total_parameters"])
        t = m.tensors["model.bool.weight"]
        self.assertEqual((t.dtype, t.shape, t.data_offsets, t.parameter_count),
                         ("BOOL", [2, 4], (0, 8), 8))
        self.assertEqual(m.tensors["model.f4.weight"].data_offsets[1]
                         - m.tensors["model.f4.weight"].data_offsets[0], 4)
        self.assertEqual((m.tensors["model.scalar"].shape,
                          m.tensors["model.scalar"].parameter_count), ([], 1))
        e = m.tensors["model.empty"]
        self.assertEqual((e.shape, e.parameter_count), ([0, 3], 0))
        self.assertEqual(e.data_offsets[0], e.data_offsets[1])
        size = os.path.getsize(self.f("single.safetensors"))
        self.assertEqual(m.data_offset, 8 + m.header_size)
        self.assertEqual(m.data_offset + m.data_size, size)

    def test_sharded_safetensors(self):
        r = hubfetch.parse_safetensors_file(self.f("sharded/model.safetensors.index.json"))
        self.assertIsInstance(r, hubfetch.SafetensorsRepoMetadata)
        self.assertTrue(r.sharded)
        s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
        self.assertEqual(r.shards, [s2, s1])
        self.assertEqual(r.parameter_count, {"BF16": 3072, "F32": 16})
        self.assertEqual(r.metadata, {"total_size": 6208})
        self.assertEqual((r.total_size, r.data_size), (6208, 6208))
        with open(self.f("sharded/model.safetensors.index.json")) as fh:
            self.assertEqual(r.weight_map, json.load(fh)["weight_map"])
        self.assertEqual(set(r.files_metadata), {s1, s2})
        self.assertEqual(set(r.files_metadata[s2].tensors),
                         {"model.layers.1.mlp.weight", "model.norm.weight", "lm_head.weight"})
        self.assertEqual(r.files_metadata[s1].metadata, {"format": "pt"})
        self.assertEqual(r.files_metadata[s1].parameter_count, {"BF16": 1536})

    def test_safetensors_errors(self):
        bad = self.f("bad.safetensors")
        with open(bad, "wb") as fh:
            fh.write(b"\x10\0\0\0\0\0\0\0{\"a\":1}        ")
        with self.assertRaises(hubfetch.SafetensorsParsingError) as cm:
            hubfetch.parse_safetensors_file(bad)
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(cm.exception.error_name, "EFORMAT")
        self.assertIn("bad.safetensors", str(cm.exception))
        with self.assertRaises(hubfetch.CacheError):
            hubfetch.parse_safetensors_file(self.f("absent.safetensors"))

    def check_llama(self, g):
        self.assertEqual(g.version, 3)
        self.assertEqual(len(g.metadata), 26)
        self.assertEqual(len(g.tensors), 14)
        self.assertEqual((g.architecture, g.name, g.file_type, g.file_type_name),
                         ("llama", "Tiny Llama", 15, "Q4_K_M"))
        self.assertEqual((g.context_length, g.embedding_length, g.block_count),
                         (4096, 256, 2))
        self.assertEqual((g.parameter_count, g.alignment), (577281, 32))
        self.assertTrue(g.header_size <= g.data_offset and g.data_offset % 32 == 0)
        md = g.metadata
        tokens = md["tokenizer.ggml.tokens"]
        self.assertEqual((len(tokens), tokens[1], tokens[100]), (101, "<s>", "\u00e9t\u00e9"))
        self.assertEqual(md["tokenizer.ggml.scores"][5], -5.0)
        self.assertEqual(md["tokenizer.ggml.token_type"][:3], [2, 3, 3])
        self.assertEqual(md["tokenizer.ggml.token_type"][100], 1)
        self.assertEqual({k: md[k] for k in md if k.startswith("test.")}, {
            "test.u8": 200, "test.i8": -100, "test.u16": 60000, "test.i16": -30000,
            "test.u32": 4000000000, "test.i32": -2000000000, "test.f32": 0.5,
            "test.bool": True, "test.string": "hello", "test.u64": 2 ** 63 + 5,
            "test.i64": -(2 ** 62), "test.f64": -2.25,
            "test.nested": [[1, 2, 3], ["a", "bc"], [[True, False]]], "test.empty": []})
        self.assertEqual(md["llama.rope.freq_base"], 10000.0)
        self.assertEqual(g.metadata_types["test.u8"], "UINT8")
        self.assertEqual(g.metadata_types["test.nested"], "ARRAY")
        t = g.tensors[0]
        self.assertEqual((t.name, t.type_name, t.shape, t.offset, t.parameter_count),
                         ("token_embd.weight", "Q4_K", (256, 101), 0, 25856))
        self.assertEqual(g.tensors[2].type_name, "Q8_0")
        self.assertEqual(g.tensors[2].offset, 15584)
        self.assertEqual(len(g.tensors[13].shape), 4)

    def test_gguf(self):
        g = hubfetch.read_gguf_file(self.f("llama-v3.gguf"))
        self.check_llama(g)
        self.assertFalse(g.big_endian)
        be = hubfetch.read_gguf_file(self.f("llama-v3-be.gguf"))
        self.check_llama(be)
        self.assertTrue(be.big_endian)
        self.assertEqual(be.metadata, g.metadata)
        self.assertEqual(be.tensors, g.tensors)
        short = hubfetch.read_gguf_file(self.f("llama-v3.gguf"), max_array_values=100)
        self.assertEqual(short.metadata["tokenizer.ggml.tokens"],
                         hubfetch.GGUFArraySummary(type="STRING", length=101))
        self.assertEqual(short.metadata["test.nested"], g.metadata["test.nested"])
        gem = hubfetch.read_gguf_file(self.f("gemma-v2.gguf"))
        self.assertEqual((gem.version, gem.architecture, gem.file_type_name),
                         (2, "gemma", "F16"))
        self.assertEqual((gem.context_length, gem.embedding_length, gem.block_count,
                          gem.parameter_count), (8192, 128, 1, 17024))
        self.assertEqual(gem.tensors[1].type_name, "BF16")
        with self.assertRaises(hubfetch.FileFormatError):
            hubfetch.read_gguf_file(self.f("old-v1.gguf"))
        with self.assertRaises(hubfetch.CacheError):
            hubfetch.read_gguf_file(self.f("absent.gguf"))
        self.assertEqual(hubfetch.ggml_type_name(12), "Q4_K")
        self.assertIsNone(hubfetch.ggml_type_name(4))

    def test_huggingface_hub_header_parser_agrees(self):
        if not HFHUB_SRC:
            self.skipTest("HUB_TEST_HFHUB_SRC not set")
        code = (
            "import json, os, struct, sys\n"
            "from huggingface_hub.hf_api import _parse_safetensors_header\n"
            "from huggingface_hub.utils import SafetensorsRepoMetadata\n"
            "def parse(p):\n"
            "    with open(p, 'rb') as fh:\n"
            "        n = struct.unpack('<Q', fh.read(8))[0]\n"
            "        return _parse_safetensors_header(fh.read(n), os.path.basename(p), 'x')\n"
            "def dump(m):\n"
            "    return {'metadata': m.metadata, 'parameter_count': m.parameter_count,"
            " 'tensors': {k: [t.dtype, t.shape, list(t.data_offsets), t.parameter_count]"
            " for k, t in m.tensors.items()}}\n"
            "single = dump(parse(sys.argv[1]))\n"
            "d = os.path.dirname(sys.argv[2])\n"
            "index = json.load(open(sys.argv[2]))\n"
            "files = {f: parse(os.path.join(d, f)) for f in set(index['weight_map'].values())}\n"
            "r = SafetensorsRepoMetadata(metadata=index.get('metadata'), sharded=True,"
            " weight_map=index['weight_map'], files_metadata=files)\n"
            "print(json.dumps({'single': single, 'repo': {'metadata': r.metadata,"
            " 'sharded': r.sharded, 'weight_map': r.weight_map,"
            " 'parameter_count': r.parameter_count,"
            " 'files': {f: dump(m) for f, m in r.files_metadata.items()}}}))\n")
        hf = run_hfhub(code, self.f("single.safetensors"),
                       self.f("sharded/model.safetensors.index.json"))

        def dump(m):
            return {"metadata": m.metadata, "parameter_count": m.parameter_count,
                    "tensors": {k: [t.dtype, t.shape, list(t.data_offsets),
                                    t.parameter_count] for k, t in m.tensors.items()}}
        self.assertEqual(dump(hubfetch.parse_safetensors_file(self.f("single.safetensors"))),
                         hf["single"])
        r = hubfetch.parse_safetensors_file(self.f("sharded/model.safetensors.index.json"))
        self.assertEqual({"metadata": r.metadata, "sharded": r.sharded,
                          "weight_map": r.weight_map, "parameter_count": r.parameter_count,
                          "files": {f: dump(m) for f, m in r.files_metadata.items()}},
                         hf["repo"])


def weights_fixtures(out):
    """tests/fixtures/weights_repo.py's hubfetch/weights plus the default
    fixtures, and two repositories huggingface_hub's
    get_safetensors_metadata() recognises: hubfetch/st-single (a root
    model.safetensors) and hubfetch/st-sharded (a root index and shards)."""
    subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "fixtures",
                                                 "weights_repo.py"), out],
                   check=True, env=native_env(os.environ))
    for name in os.listdir(DEFAULT_FIXTURES):
        if name.endswith(".json") and name != "tokens.json":
            shutil.copy(os.path.join(DEFAULT_FIXTURES, name), out)
    with open(os.path.join(out, "files", "sharded", "model.safetensors.index.json"),
              encoding="utf-8") as fh:
        index = fh.read()
    shards = sorted(set(json.loads(index)["weight_map"].values()))
    repos = {
        "st-single": [{"path": "model.safetensors",
                       "lfs": {"file": "files/single.safetensors"}}],
        "st-sharded": [{"path": "model.safetensors.index.json", "text": index}]
        + [{"path": s, "lfs": {"file": "files/sharded/" + s}} for s in shards],
        "st-none": [{"path": "README.md", "text": "no weights\n"}],
    }
    for name, files in repos.items():
        with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as fh:
            json.dump({"type": "model", "id": "hubfetch/" + name,
                       "commits": [{"refs": ["main"], "files": files}]}, fh)
    return out


WEIGHTS = "hubfetch/weights"


def st_dump(m):
    """A SafetensorsFileMetadata as plain values, huggingface_hub's fields."""
    return {"metadata": m.metadata, "parameter_count": m.parameter_count,
            "tensors": {k: [t.dtype, list(t.shape), list(t.data_offsets),
                            t.parameter_count] for k, t in m.tensors.items()}}


def st_repo_dump(r):
    return {"metadata": r.metadata, "sharded": r.sharded, "weight_map": r.weight_map,
            "parameter_count": r.parameter_count,
            "files": {f: st_dump(m) for f, m in r.files_metadata.items()}}


class ReadTest(BindingTestCase):
    """Client.read / read_into and the remote header readers against the
    fake serving tests/fixtures/weights_repo.py's repository; the remote
    headers equal the local files'; huggingface_hub's own
    get_safetensors_metadata on the same fake when HUB_TEST_HFHUB_SRC is
    set."""

    @classmethod
    def setUpClass(cls):
        cls.fixdir = tempfile.mkdtemp(prefix="hubfetch-read-")
        cls.addClassCleanup(shutil.rmtree, cls.fixdir, True)
        cls.fakehub_fixtures = weights_fixtures(cls.fixdir)
        super().setUpClass()

    def local(self, name):
        return os.path.join(self.fixdir, "files", name)

    def requests(self):
        self.hub.settle()
        return self.hub.log()

    def test_ranges_and_whole_files(self):
        c = self.client()
        onnx = self.fixture("onnx/model.onnx").read()
        n = len(onnx)
        for (off, length), want in [((0, 100), onnx[:100]),
                                    ((500000, 4096), onnx[500000:504096]),
                                    ((n - 10, 10), onnx[-10:]), ((n - 10, None), onnx[-10:]),
                                    ((n - 10, 1000), onnx[-10:]), ((n, None), b""),
                                    ((0, None), onnx), ((n, 5), b"")]:
            with self.subTest(offset=off, length=length):
                self.assertEqual(c.read(DEMO, "onnx/model.onnx", off, length), want)
        self.assertIn("bytes=500000-504095",
                      [r.get("range") for r in self.requests() if r["server"] == "cdn"])
        with self.assertRaises(hubfetch.InvalidArgumentError) as cm:
            c.read(DEMO, "onnx/model.onnx", n + 1, 10)
        self.assertIn(str(n), str(cm.exception))
        self.assertEqual(c.read(DEMO, "config.json"), self.fixture("config.json").read())
        self.assertEqual(c.read(DEMO, "config.json", revision="v1.0"),
                         self.fixture("config.json", rev="v1.0").read())
        self.assertEqual(c.read(DEMO, "config.json", verify=True),
                         self.fixture("config.json").read())
        self.assertEqual(c.read("hubfetch/demo-data", "data/train.csv", repo_type="dataset"),
                         self.hub.fixtures.repo("hubfetch/demo-data", "dataset")
                         .resolve("main").files["data/train.csv"].read())
        with open(self.local("big.gguf"), "rb") as fh:
            big = fh.read()
        self.assertEqual(hubfetch.read(WEIGHTS, "big.gguf", 3 * MiB, 2 * MiB,
                                       **self.kwargs()), big[3 * MiB:5 * MiB])
        self.assertFalse(os.path.exists(self.cache))  # nothing cached

    def test_read_into_streams_and_cancels(self):
        c = self.client()
        onnx = self.fixture("onnx/model.onnx").read()
        chunks = []
        info = c.read_into(DEMO, "onnx/model.onnx", chunks.append, verify=True)
        self.assertEqual(b"".join(chunks), onnx)
        self.assertEqual((info.size, info.bytes_read, info.from_cache),
                         (len(onnx), len(onnx), False))
        self.assertEqual(info.etag, self.fixture("onnx/model.onnx").sha256)
        self.assertEqual(len(info.commit), 40)
        got = []
        with self.assertRaises(hubfetch.DownloadCancelled):
            c.read_into(DEMO, "onnx/model.onnx", lambda b: got.append(b) or True)
        self.assertEqual(len(got), 1)

        def boom(_chunk):
            raise KeyError("from on_data")
        with self.assertRaises(KeyError) as cm:
            c.read_into(DEMO, "onnx/model.onnx", boom)
        self.assertIsInstance(cm.exception.__context__, hubfetch.DownloadCancelled)
        with self.assertRaises(hubfetch.InvalidArgumentError):
            c.read_into(DEMO, "onnx/model.onnx", chunks.append, 10, 10, verify=True)
        self.assertEqual(c.read(DEMO, "config.json"), self.fixture("config.json").read())

    def test_errors(self):
        c = self.client()
        with self.assertRaises(hubfetch.EntryNotFoundError):
            c.read(DEMO, "no/such.bin")
        with self.assertRaises(hubfetch.RepositoryNotFoundError):
            c.read("hubfetch/nope", "config.json", 0, 10)
        with self.assertRaises(hubfetch.RevisionNotFoundError):
            c.read(DEMO, "config.json", revision="no-such-branch")
        self.hub.faults([{"match": "/repos/", "server": "cdn", "times": 1,
                          "action": {"corrupt": True}}])
        with self.assertRaises(hubfetch.ChecksumError):
            c.read(DEMO, "onnx/model.onnx", verify=True)
        with self.assertRaises(hubfetch.LocalEntryNotFoundError):
            self.client(offline=True).read(DEMO, "config.json")
        with self.assertRaises(hubfetch.SafetensorsParsingError):
            c.parse_safetensors_file_metadata(WEIGHTS, "llama-v3.gguf")
        with self.assertRaises(hubfetch.FileFormatError):
            c.read_gguf(WEIGHTS, "single.safetensors")
        with self.assertRaises(hubfetch.EntryNotFoundError):
            c.read_gguf(WEIGHTS, "absent.gguf")
        with self.assertRaises(hubfetch.NotASafetensorsRepoError) as cm:
            c.get_safetensors_metadata("hubfetch/st-none")
        self.assertIsInstance(cm.exception, hubfetch.EntryNotFoundError)
        with self.assertRaises(hubfetch.RepositoryNotFoundError):
            c.get_safetensors_metadata("hubfetch/nope")

    def test_a_cached_file_is_read_with_no_request(self):
        c = self.client()
        c.hf_hub_download(WEIGHTS, "single.safetensors")
        c.hf_hub_download(DEMO, "onnx/model.onnx")
        self.requests()
        self.hub.control({"clear_log": True})
        onnx = self.fixture("onnx/model.onnx").read()
        chunks = []
        info = c.read_into(DEMO, "onnx/model.onnx", chunks.append, 100, 50)
        self.assertEqual(b"".join(chunks), onnx[100:150])
        self.assertTrue(info.from_cache)
        self.assertEqual(info.bytes_fetched, 0)
        self.assertEqual(c.read(DEMO, "onnx/model.onnx", 7, 9), onnx[7:16])
        m = c.parse_safetensors_file_metadata(WEIGHTS, "single.safetensors")
        self.assertEqual(len(m.tensors), 25)
        self.assertEqual(self.requests(), [])
        self.assertEqual(c.read(DEMO, "onnx/model.onnx", 7, 9, no_cache=True), onnx[7:16])
        self.assertNotEqual(self.requests(), [])
        off = self.client(offline=True)
        self.assertEqual(off.read(DEMO, "onnx/model.onnx", 0, 4), onnx[:4])

    def test_remote_headers_equal_the_local_files(self):
        c = self.client()
        for name in ("single.safetensors", "big.safetensors"):
            with self.subTest(file=name):
                self.hub.control({"clear_log": True})
                remote = c.parse_safetensors_file_metadata(WEIGHTS, name)
                self.assertEqual(remote, hubfetch.parse_safetensors_file(self.local(name)))
                sent = sum(r.get("bytes", 0) for r in self.requests()
                           if r["server"] == "cdn")
                self.assertLess(sent, remote.data_offset + 2 * MiB)
        index = "sharded/model.safetensors.index.json"
        r = c.parse_safetensors_file_metadata(WEIGHTS, index)
        self.assertEqual(r, hubfetch.parse_safetensors_file(self.local(index)))
        for name in ("llama-v3.gguf", "gemma-v2.gguf", "big.gguf"):
            with self.subTest(file=name):
                self.assertEqual(c.read_gguf(WEIGHTS, name),
                                 hubfetch.read_gguf_file(self.local(name)))
        self.assertEqual(c.read_gguf(WEIGHTS, "big.gguf", max_array_values=10),
                         hubfetch.read_gguf_file(self.local("big.gguf"),
                                                 max_array_values=10))
        self.assertEqual(hubfetch.read_gguf(WEIGHTS, "llama-v3.gguf", **self.kwargs()),
                         hubfetch.read_gguf_file(self.local("llama-v3.gguf")))
        self.assertEqual(hubfetch.parse_safetensors_file_metadata(
            WEIGHTS, "single.safetensors", **self.kwargs()),
            hubfetch.parse_safetensors_file(self.local("single.safetensors")))

    def test_get_safetensors_metadata(self):
        c = self.client()
        single = c.get_safetensors_metadata("hubfetch/st-single")
        local = hubfetch.parse_safetensors_file(self.local("single.safetensors"))
        self.assertEqual((single.metadata, single.sharded), (None, False))
        self.assertEqual(single.files_metadata, {"model.safetensors": local})
        self.assertEqual(single.weight_map, {k: "model.safetensors" for k in local.tensors})
        self.assertEqual(single.parameter_count, local.parameter_count)
        sharded = hubfetch.get_safetensors_metadata("hubfetch/st-sharded", **self.kwargs())
        index = hubfetch.parse_safetensors_file(
            self.local("sharded/model.safetensors.index.json"))
        self.assertTrue(sharded.sharded)
        self.assertEqual(st_repo_dump(sharded), st_repo_dump(index))
        self.assertEqual((sharded.shards, sharded.total_size, sharded.data_size),
                         (index.shards, index.total_size, index.data_size))

    def test_huggingface_hub_get_safetensors_metadata_agrees(self):
        if not HFHUB_SRC:
            self.skipTest("HUB_TEST_HFHUB_SRC not set")
        code = (
            "import json, sys\n"
            "from huggingface_hub import HfApi\n"
            "api = HfApi(endpoint=sys.argv[1], token=False)\n"
            "def dump(m):\n"
            "    return {'metadata': m.metadata, 'parameter_count': m.parameter_count,"
            " 'tensors': {k: [t.dtype, t.shape, list(t.data_offsets), t.parameter_count]"
            " for k, t in m.tensors.items()}}\n"
            "out = {}\n"
            "for repo in sys.argv[2:]:\n"
            "    r = api.get_safetensors_metadata(repo)\n"
            "    out[repo] = {'metadata': r.metadata, 'sharded': r.sharded,"
            " 'weight_map': r.weight_map, 'parameter_count': r.parameter_count,"
            " 'files': {f: dump(m) for f, m in r.files_metadata.items()}}\n"
            "out['file'] = dump(api.parse_safetensors_file_metadata(sys.argv[2],"
            " 'model.safetensors'))\n"
            "out['big'] = dump(api.parse_safetensors_file_metadata('hubfetch/weights',"
            " 'big.safetensors'))\n"
            "print(json.dumps(out))\n")
        repos = ["hubfetch/st-single", "hubfetch/st-sharded"]
        env = dict(os.environ, HF_HOME=os.path.join(self.tmp, "hf-home"))
        hf = run_hfhub(code, self.hub.url, *repos, env=env)
        c = self.client()
        for repo in repos:
            with self.subTest(repo=repo):
                self.assertEqual(st_repo_dump(c.get_safetensors_metadata(repo)), hf[repo])
        self.assertEqual(st_dump(c.parse_safetensors_file_metadata(
            repos[0], "model.safetensors")), hf["file"])
        self.assertEqual(st_dump(c.parse_safetensors_file_metadata(
            WEIGHTS, "big.safetensors")), hf["big"])


OLD = 1_000_000_000  # 2001: older than any age asked for


class CacheDeleteTest(BindingTestCase):
    """HFCacheInfo.delete_revisions() / plan_delete() / plan_prune(),
    delete_cache_targets() and prune_cache(): the plans of the C library
    (as `hubfetch cache rm|prune` print them), shaped as huggingface_hub's
    DeleteCacheStrategy, executed; and the C scan result kept alive exactly
    as long as a plan points into it."""

    worked_example = ScanCacheTest.worked_example
    cli_json = ScanCacheTest.cli_json

    def repo(self):
        return Path(os.path.realpath(self.cache)) / "models--org--example"

    def hfhub_strategy(self, *revisions):
        """huggingface_hub's own delete_revisions() on the same cache."""
        code = ("import json, sys\n"
                "from huggingface_hub import scan_cache_dir\n"
                "s = scan_cache_dir(sys.argv[1]).delete_revisions(*sys.argv[2:])\n"
                "print(json.dumps({'expected_freed_size': s.expected_freed_size,"
                " 'expected_freed_size_str': s.expected_freed_size_str,"
                " **{k: sorted(map(str, getattr(s, k)))"
                " for k in ('blobs', 'refs', 'repos', 'snapshots')}}))\n")
        out = subprocess.run(["/usr/bin/python3", "-c", code, self.cache, *revisions],
                             capture_output=True, check=True, timeout=120,
                             env=native_env(dict(os.environ, PYTHONPATH=HFHUB_SRC)))
        return json.loads(out.stdout)

    def as_hfhub(self, s):
        return {"expected_freed_size": s.expected_freed_size,
                "expected_freed_size_str": s.expected_freed_size_str,
                **{k: sorted(map(str, getattr(s, k)))
                   for k in ("blobs", "refs", "repos", "snapshots")}}

    def test_delete_revisions_frees_exactly_what_only_it_uses(self):
        self.worked_example()
        repo = self.repo()
        if HFHUB_SRC:
            hf = self.hfhub_strategy(REV_A)
        with hubfetch.scan_cache_dir(self.cache, ignore_env=True) as info:
            s = info.delete_revisions(REV_A)
        self.assertIsInstance(s, hubfetch.DeleteCacheStrategy)
        # copy.bin and model.bin share a blob B still uses: only onlyA goes
        self.assertEqual(s.expected_freed_size, 2000)
        self.assertEqual(s.expected_freed_size_str, "2.0K")
        self.assertEqual(s.repos, frozenset())
        self.assertEqual(s.snapshots, frozenset({repo / "snapshots" / REV_A}))
        self.assertEqual(s.refs, frozenset({repo / "refs" / "main"}))
        self.assertEqual(s.blobs, frozenset({repo / "blobs" / ONLY_A}))
        for k in ("blobs", "refs", "repos", "snapshots", "files"):
            self.assertIsInstance(getattr(s, k), frozenset)
        if HFHUB_SRC:
            self.assertEqual(self.as_hfhub(s), hf)
        self.assertEqual(
            [(o.kind, o.state, o.name, o.bytes) for o in s.operations],
            [("ref", "planned", "main", 0), ("snapshot", "planned", REV_A, 0),
             ("blob", "planned", ONLY_A, 2000)])
        self.assertEqual({(o.repo_id, o.repo_type) for o in s.operations},
                         {("org/example", "model")})
        self.assertEqual([o.commit_hash for o in s.operations], [REV_A, REV_A, None])
        self.assertEqual((s.freed_size, s.executed, s.unmatched), (0, False, ()))
        self.assertTrue((repo / "blobs" / ONLY_A).exists())  # nothing yet

        # the scan was closed (and is garbage now): the plan keeps it
        del info
        import gc
        gc.collect()
        s.execute()
        self.assertEqual([(o.kind, o.state) for o in s.operations],
                         [("ref", "done"), ("snapshot", "done"), ("blob", "done")])
        self.assertEqual((s.freed_size, s.executed), (2000, True))
        self.assertFalse((repo / "refs" / "main").exists())
        self.assertFalse((repo / "snapshots" / REV_A).exists())
        self.assertFalse((repo / "blobs" / ONLY_A).exists())
        self.assertTrue((repo / "blobs" / SHARED1).exists())
        after = hubfetch.scan_cache_dir(self.cache, ignore_env=True)
        self.assertEqual(after.warnings, [])
        (ex,) = after.repos
        self.assertEqual(sorted(v.commit_hash for v in ex.revisions), [REV_B, REV_C])
        self.assertEqual(ex.size_on_disk, 4000)
        with self.assertRaises(hubfetch.InvalidArgumentError):
            s.execute()  # once per plan
        s.close()
        s.close()
        self.assertEqual(s.freed_size, 2000)  # still readable
        with self.assertRaises(ValueError):
            s.execute()

    def test_every_revision_is_the_whole_repo_and_unknown_ones_are_listed(self):
        self.worked_example()
        if HFHUB_SRC:
            hf = self.hfhub_strategy(REV_A, REV_B, REV_C)
        info = hubfetch.scan_cache_dir(self.cache, ignore_env=True)
        with self.assertLogs("hubfetch", "WARNING") as logs:
            s = info.delete_revisions(REV_A, REV_B, REV_C, "f" * 40)
        self.assertIn("f" * 40, logs.output[0])
        self.assertEqual(s.unmatched, ("f" * 40,))
        self.assertEqual(s.repos, frozenset({self.repo()}))
        self.assertEqual((s.snapshots, s.refs, s.blobs), (frozenset(),) * 3)
        self.assertEqual(s.expected_freed_size, 6000)
        if HFHUB_SRC:
            self.assertEqual(self.as_hfhub(s), hf)
        self.assertEqual([o.kind for o in s.operations], ["repo"])
        # nothing matched: an empty plan, no error
        with self.assertLogs("hubfetch", "WARNING"):
            empty = info.delete_revisions("e" * 40)
        self.assertEqual((empty.operations, empty.expected_freed_size), ((), 0))
        empty.execute()
        s.execute()
        self.assertFalse(self.repo().exists())
        self.assertEqual(s.freed_size, 6000)
        # a closed scan makes no new plans
        info.close()
        with self.assertRaises(ValueError):
            info.delete_revisions(REV_A)
        self.assertEqual(len(info.repos), 1)  # the listing stays

    def test_targets_as_cache_rm_takes_them(self):
        self.worked_example()
        s = hubfetch.delete_cache_targets(
            ["org/example@main:model.bin", "model:org/example@main:sub/config.json",
             "nobody/nothing"], self.cache, ignore_env=True, dry_run=True)
        self.assertEqual([(o.kind, o.name, o.state) for o in s.operations],
                         [("file", "model.bin", "planned"),
                          ("file", "sub/config.json", "planned"),
                          ("blob", ONLY_A, "planned")])
        self.assertEqual(s.unmatched, ("nobody/nothing",))
        self.assertEqual(s.files, frozenset({self.repo() / "snapshots" / REV_A / "model.bin",
                                             self.repo() / "snapshots" / REV_A / "sub"
                                             / "config.json"}))
        self.assertTrue((self.repo() / "blobs" / ONLY_A).exists())  # dry run
        c = self.client()
        s = c.delete_cache_targets("org/example@" + REV_A[:6] + ":sub/config.json")
        self.assertEqual([(o.kind, o.state) for o in s.operations],
                         [("file", "done"), ("blob", "done")])
        self.assertEqual(s.freed_size, 2000)
        self.assertEqual(sorted(os.listdir(self.repo() / "snapshots" / REV_A)),
                         ["copy.bin", "model.bin", "sub"])
        with self.assertRaises(hubfetch.InvalidArgumentError) as cm:
            hubfetch.delete_cache_targets("org/example@", self.cache,
                                          ignore_env=True)
        self.assertIn("org/example@", str(cm.exception))
        s = c.delete_cache_targets(["org/example"])
        self.assertEqual([(o.kind, o.state, o.bytes) for o in s.operations],
                         [("repo", "done", 4000)])
        self.assertEqual(c.scan_cache_dir().repos, frozenset())

    def test_prune_with_max_size_evicts_the_least_recently_used(self):
        repo = self.worked_example()
        blobs = os.path.join(repo, "blobs")
        # C (onlyC) used longest ago, then A (onlyA), B (shared1) last
        os.utime(os.path.join(blobs, ONLY_C), (OLD, OLD))
        os.utime(os.path.join(blobs, ONLY_A), (OLD + 10, OLD + 10))
        now = time.time()
        os.utime(os.path.join(blobs, SHARED1), (now, now))
        info = hubfetch.scan_cache_dir(self.cache, ignore_env=True)
        revs = {v.commit_hash: v for v in next(iter(info.repos)).revisions}
        # a revision's newest blob atime (A has shared1 too)
        self.assertEqual({k: v.last_accessed for k, v in revs.items()},
                         {REV_A: int(now), REV_B: int(now), REV_C: OLD})
        dry = hubfetch.prune_cache(self.cache, max_size=3500, dry_run=True,
                                   ignore_env=True)
        # C is detached anyway; A shares shared1 with B, used just now: A
        # goes and frees 2000, leaving 3000 <= 3500
        self.assertEqual(sorted(o.name for o in dry.operations if o.kind == "snapshot"),
                         [REV_A, REV_C])
        self.assertEqual(dry.expected_freed_size, 3000)
        self.assertEqual(dry.freed_size, 0)
        self.assertTrue(all(o.state == "planned" for o in dry.operations))
        s = self.client().prune_cache(max_size=3500)
        self.assertEqual(s.freed_size, 3000)
        (ex,) = hubfetch.scan_cache_dir(self.cache, ignore_env=True).repos
        self.assertEqual((ex.size_on_disk, sorted(ex.refs)), (3000, ["v1"]))
        # the plan made from the scan of before: what is gone is "gone"
        late = info.plan_prune(max_size=1)
        late.execute()
        self.assertEqual([o.kind for o in late.operations], ["repo"])
        self.assertFalse(os.path.exists(repo))
        for bad in (dict(max_size=0), dict(older_than=0), dict(max_size=-5)):
            with self.assertRaises(ValueError):
                info.plan_prune(**bad)

    def test_prune_partials_ages_and_the_rest(self):
        import datetime
        repo = self.worked_example()
        blobs = os.path.join(repo, "blobs")
        stale = os.path.join(blobs, "d" * 64 + ".1a2b3c4d.incomplete")
        fresh = os.path.join(blobs, "e" * 64 + ".incomplete")
        for p, size in ((stale, 700), (fresh, 300)):
            with open(p, "wb") as f:
                f.write(b"p" * size)
        os.utime(stale, (OLD, OLD))
        info = hubfetch.scan_cache_dir(self.cache, ignore_env=True)
        s = info.plan_prune()
        self.assertEqual(sorted((o.kind, o.name) for o in s.operations),
                         sorted([("snapshot", REV_C), ("blob", ONLY_C),
                                 ("partial", os.path.basename(stale))]))
        self.assertEqual(s.expected_freed_size, 1700)
        self.assertEqual(s.blobs, frozenset({self.repo() / "blobs" / ONLY_C}))
        # partial_age 0: any age; older_than as a timedelta, from `now`
        s = info.plan_prune(partial_age=0, older_than=datetime.timedelta(days=30),
                            now=time.time() + 40 * 86400)
        self.assertEqual([o.kind for o in s.operations], ["repo"])
        s = hubfetch.prune_cache(self.cache, partial_age=datetime.timedelta(0),
                                 ignore_env=True)
        self.assertFalse(os.path.exists(stale) or os.path.exists(fresh))
        self.assertEqual(s.freed_size, 1000 + 700 + 300)


class CacheVerifyTest(BindingTestCase):
    """verify_cache() / Client.verify_cache() (hub_cache_verify) against
    `hubfetch cache verify --format json` and the bytes on disk."""

    def populate(self):
        c = self.client()
        c.snapshot_download(DEMO)
        c.snapshot_download(DEMO, revision="v1.0")
        return c

    def cli_json(self, *args):
        if not os.access(HUBFETCH, os.X_OK):
            self.skipTest(f"no hubfetch program at {HUBFETCH}")
        proc = subprocess.run(
            [HUBFETCH, "cache", "verify", "--format", "json", "--cache-dir", self.cache,
             *args], capture_output=True, timeout=120,
            env=native_env(os.environ), stdin=subprocess.DEVNULL)
        return json.loads(proc.stdout)

    def blob_of(self, commit, path):
        repo = os.path.join(self.cache, "models--hubfetch--demo-model")
        return os.path.realpath(os.path.join(repo, "snapshots", commit, path))

    def test_sound_then_corrupt(self):
        import hashlib
        c = self.populate()
        events = []
        rep = c.verify_cache(progress=events.append, threads=2)
        self.assertIsInstance(rep, hubfetch.CacheVerification)
        self.assertTrue(rep.ok)
        self.assertEqual((rep.items, rep.failures), ((), ()))
        cli = self.cli_json()
        self.assertTrue(cli["ok"])
        for k in ("repos", "revisions", "files", "blobs", "bytes", "failed_files"):
            self.assertEqual(getattr(rep.summary, k), cli[k], k)
        self.assertEqual(rep.summary.threads, 2)
        blobs = os.path.join(self.cache, "models--hubfetch--demo-model", "blobs")
        self.assertEqual(rep.summary.bytes, sum(
            os.path.getsize(os.path.join(blobs, b)) for b in os.listdir(blobs)))
        self.assertTrue(events and events[-1].final, events[-1:])
        self.assertTrue(all(isinstance(e, hubfetch.Progress) for e in events))

        blob = self.blob_of(DEMO_MAIN, "model.safetensors")
        with open(blob, "r+b") as f:
            f.seek(12345)
            b = f.read(1)
            f.seek(12345)
            f.write(bytes([b[0] ^ 0x55]))
        with open(blob, "rb") as f:
            actual = hashlib.sha256(f.read()).hexdigest()
        rep = hubfetch.verify_cache(cache_dir=self.cache, ignore_env=True)
        self.assertFalse(rep.ok)
        cli = self.cli_json()
        self.assertEqual(rep.summary.failed_files, cli["failed_files"])
        self.assertEqual(sorted(i.commit for i in rep.failures),
                         sorted([DEMO_MAIN, DEMO_V1]))  # the blob both use
        for i in rep.failures:
            self.assertIsInstance(i, hubfetch.VerifyItem)
            self.assertEqual(
                (i.status, i.failed, i.repo_id, i.repo_type, i.file, i.path,
                 i.algorithm, i.expected, i.actual),
                ("mismatch", True, DEMO, "model", "model.safetensors", Path(blob),
                 "sha256", os.path.basename(blob), actual))
            self.assertTrue(i.message)
        self.assertEqual(
            sorted((p["commit"], p["status"], p["actual"]) for p in cli["problems"]),
            sorted((i.commit, i.status, i.actual) for i in rep.items))
        # a target: only config.json of main, which is sound
        rep = c.verify_cache(f"{DEMO}@main:config.json")
        self.assertTrue(rep.ok)
        self.assertEqual((rep.summary.files, rep.summary.blobs), (1, 1))

    def test_errors_and_cancel(self):
        c = self.populate()
        with self.assertRaises(hubfetch.LocalEntryNotFoundError) as cm:
            c.verify_cache("org/absent")
        self.assertIn("org/absent", str(cm.exception))
        with self.assertRaises(hubfetch.InvalidArgumentError):
            c.verify_cache([f"{DEMO}@"])
        with self.assertRaises(hubfetch.DownloadCancelled):
            c.verify_cache(progress=lambda p: True)

        class Boom(Exception):
            pass

        def boom(p):
            raise Boom
        with self.assertRaises(Boom):
            c.verify_cache(progress=boom)
        # ModelScope caches are verified too (a Hugging Face cache holds
        # none of their repositories); a ModelScope local dir is not yet
        ms = self.client(hub="modelscope")
        rep = ms.verify_cache()
        self.assertTrue(rep.ok)
        self.assertEqual(rep.summary.repos, 0)
        with self.assertRaises(hubfetch.HfHubError) as cm:
            ms.verify_cache(local_dir=self.tmp)
        self.assertEqual(cm.exception.error_name, "EUNSUPPORTED")
        self.assertTrue(c.verify_cache().ok)  # the client is usable again


class AbiTest(unittest.TestCase):
    """The ctypes declarations match include/hubfetch.h: a C program compiled
    against the header reports every offset, size, version and error code."""

    @classmethod
    def setUpClass(cls):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise unittest.SkipTest("no C compiler")
        tmp = tempfile.mkdtemp(prefix="hubfetch-abi-")
        try:
            src, exe = os.path.join(tmp, "abi.c"), os.path.join(tmp, "abi")
            with open(src, "w") as fh:
                fh.write(abi_program())
            subprocess.run([cc, "-std=c11", "-I", os.path.join(SOURCE, "include"),
                            "-o", exe, src], check=True)
            out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        cls.c = {}
        for line in out.splitlines():
            key, value = line.rsplit(" ", 1)
            cls.c[key] = int(value)

    def test_struct_layouts(self):
        import ctypes
        for name, struct in _lib.STRUCTS.items():
            with self.subTest(struct=name):
                self.assertEqual(ctypes.sizeof(struct), self.c[f"sizeof {name}"],
                                 f"{name}: the header added or changed fields")
                for field, _ in struct._fields_:
                    self.assertEqual(getattr(struct, field).offset,
                                     self.c[f"offsetof {name}.{field}"], field)
        for enum in ENUMS:
            self.assertEqual(self.c[f"sizeof {enum}"], ctypes.sizeof(ctypes.c_int))

    def test_versions(self):
        self.assertEqual(self.c["HUB_PROGRESS_VERSION"], _lib.PROGRESS_VERSION)
        self.assertEqual(self.c["HUB_CLIENT_OPTIONS_VERSION"], _lib.CLIENT_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_DOWNLOAD_OPTIONS_VERSION"],
                         _lib.DOWNLOAD_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_CACHE_SCAN_OPTIONS_VERSION"],
                         _lib.CACHE_SCAN_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_CACHE_PRUNE_OPTIONS_VERSION"],
                         _lib.CACHE_PRUNE_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_CACHE_SCAN_NO_FILES"], _lib.CACHE_SCAN_NO_FILES)
        self.assertEqual(self.c["HUB_CACHE_VERIFY_OPTIONS_VERSION"],
                         _lib.CACHE_VERIFY_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_CACHE_VERIFY_REMOTE"], _lib.CACHE_VERIFY_REMOTE)
        self.assertEqual(self.c["HUB_CACHE_VERIFY_FAIL_ON_MISSING"],
                         _lib.CACHE_VERIFY_FAIL_ON_MISSING)
        self.assertEqual({k: v for k, v in self.c.items() if k.startswith("HUB_VERIFY_")},
                         {f"HUB_VERIFY_{n.upper()}": v
                          for v, n in _lib.VERIFY_STATUSES.items()})
        self.assertEqual({k: v for k, v in self.c.items() if k.startswith("HUB_CACHE_OP_")},
                         {**{f"HUB_CACHE_OP_{n.upper()}": i
                             for i, n in enumerate(_lib.CACHE_OP_KINDS)},
                          **{f"HUB_CACHE_OP_{n.upper()}": i
                             for i, n in enumerate(_lib.CACHE_OP_STATES)}})
        self.assertEqual(self.c["HUB_LIST_OPTIONS_VERSION"], _lib.LIST_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_HEADER_OPTIONS_VERSION"], _lib.HEADER_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_LIST_DONE"], _lib.LIST_DONE)
        self.assertEqual(self.c["HUB_READ_OPTIONS_VERSION"], _lib.READ_OPTIONS_VERSION)
        self.assertEqual(self.c["HUB_READ_VERIFY"], _lib.READ_VERIFY)
        self.assertEqual(self.c["HUB_READ_NO_CACHE"], _lib.READ_NO_CACHE)
        self.assertEqual(self.c["HUB_ENTRY_FILE"], _lib.ENTRY_FILE)
        self.assertEqual(self.c["HUB_ENTRY_DIRECTORY"], _lib.ENTRY_DIRECTORY)
        self.assertEqual({k: v for k, v in self.c.items() if k.startswith("HUB_GGUF_")},
                         {f"HUB_GGUF_{n}": i for i, n in enumerate(_lib.GGUF_TYPES)})
        self.assertEqual(self.c["HUB_AUTO"], _lib.AUTO)
        self.assertEqual(self.c["HUB_CLIENT_IGNORE_ENV"], _lib.CLIENT_IGNORE_ENV)
        self.assertGreaterEqual(self.c["HUB_VERSION_NUM"], _lib.MIN_LIBRARY_VERSION)
        self.assertEqual(hubfetch._core.lib.hub_version_num(), self.c["HUB_VERSION_NUM"])
        for e in Phase:
            self.assertEqual(self.c[f"HUB_PHASE_{e.name}"], e.value)
        for e in FileStatus:
            self.assertEqual(self.c[f"HUB_FILE_{e.name}"], e.value)
        self.assertEqual(self.c["HUB_KIND_HF"], _lib.HUB_KINDS["hf"])
        self.assertEqual(self.c["HUB_KIND_MODELSCOPE"], _lib.HUB_KINDS["modelscope"])
        for name, value in hubfetch._core._REPO_TYPES.items():
            if name:
                self.assertEqual(self.c[f"HUB_REPO_{name.upper()}"], value)

    def test_error_table(self):
        header = {k[len("error "):]: v for k, v in self.c.items() if k.startswith("error ")}
        self.assertEqual(header, _lib.ERRORS)
        lib = hubfetch._core.lib
        for name, code in _lib.ERRORS.items():
            self.assertEqual(lib.hub_error_name(code).decode(), name)


ENUMS = ("hub_phase", "hub_repo_type", "hub_file_status", "hub_kind",
         "hub_cache_op_kind", "hub_cache_op_state", "hub_verify_status",
         "hub_entry_type", "hub_gguf_type")


def abi_program():
    lines = ["#include <hubfetch.h>", "#include <stddef.h>", "#include <stdio.h>",
             "int main(void) {"]

    def emit(key, expr, fmt="%lld", cast="(long long)"):
        lines.append(f'    printf("{key} {fmt}\\n", {cast}({expr}));')

    for name, struct in _lib.STRUCTS.items():
        emit(f"sizeof {name}", f"sizeof({name})")
        for field, _ in struct._fields_:
            emit(f"offsetof {name}.{field}", f"offsetof({name}, {field})")
    for enum in ENUMS:
        emit(f"sizeof {enum}", f"sizeof({enum})")
    for const in ("HUB_KIND_HF", "HUB_KIND_MODELSCOPE", "HUB_REPO_MODEL",
                  "HUB_REPO_DATASET", "HUB_REPO_SPACE"):
        emit(const, const)
    for const in ("HUB_PROGRESS_VERSION", "HUB_CLIENT_OPTIONS_VERSION",
                  "HUB_DOWNLOAD_OPTIONS_VERSION", "HUB_CACHE_SCAN_OPTIONS_VERSION",
                  "HUB_CACHE_PRUNE_OPTIONS_VERSION", "HUB_CACHE_SCAN_NO_FILES",
                  "HUB_CACHE_VERIFY_OPTIONS_VERSION", "HUB_CACHE_VERIFY_REMOTE",
                  "HUB_CACHE_VERIFY_FAIL_ON_MISSING",
                  "HUB_LIST_OPTIONS_VERSION", "HUB_HEADER_OPTIONS_VERSION",
                  "HUB_LIST_DONE", "HUB_ENTRY_FILE", "HUB_ENTRY_DIRECTORY",
                  "HUB_READ_OPTIONS_VERSION", "HUB_READ_VERIFY", "HUB_READ_NO_CACHE",
                  "HUB_AUTO", "HUB_CLIENT_IGNORE_ENV", "HUB_VERSION_NUM"):
        emit(const, const)
    for name in _lib.CACHE_OP_KINDS + _lib.CACHE_OP_STATES:
        emit(f"HUB_CACHE_OP_{name.upper()}", f"HUB_CACHE_OP_{name.upper()}")
    for name in _lib.GGUF_TYPES:
        emit(f"HUB_GGUF_{name}", f"HUB_GGUF_{name}")
    for name in _lib.VERIFY_STATUSES.values():
        emit(f"HUB_VERIFY_{name.upper()}", f"HUB_VERIFY_{name.upper()}")
    for e in Phase:
        emit(f"HUB_PHASE_{e.name}", f"HUB_PHASE_{e.name}")
    for e in FileStatus:
        emit(f"HUB_FILE_{e.name}", f"HUB_FILE_{e.name}")
    lines.append('#define XX(name, value, text) printf("error %s %d\\n", #name, value);')
    lines.append("    HUB_ERROR_MAP(XX)")
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    unittest.main()
