"""Run the fake hub from Python tests.

    with FakeHub(page_size=10) as hub:
        hub.faults([{"match": "/resolve/", "times": 1, "action": {"status": 503}}])
        ...  # point the client at hub.url
        assert [r["status"] for r in hub.log()] == [...]

or subclass FakeHubTestCase (one fake per test class, faults and log reset before each test).
ModelScope: FakeHub(ms_fixtures=DEFAULT_MS_FIXTURES) also serves /api/v1/ (hub.ms_fixtures).
All HTTP done here bypasses proxies: tests run with proxy variables set.
"""

import json
import os
import select
import ssl
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEHUB = os.path.join(HERE, "fakehub.py")
DEFAULT_FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures", "hub")
DEFAULT_MS_FIXTURES = os.path.join(os.path.dirname(HERE), "fixtures", "modelscope")

sys.path.insert(0, HERE)
import fakehub  # noqa: E402  (for load_fixtures: expected bytes and digests)

# The harness talks to its own fake only: no proxies, and (with TLS) the
# fake's self-signed certificate accepted.
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))


class FakeHub:
    def __init__(self, fixtures=DEFAULT_FIXTURES, page_size=None, extra_args=(), ready_timeout=60,
                 ms_fixtures=None, tls=None):
        self.fixtures_dir = fixtures
        self.ms_fixtures_dir = ms_fixtures
        self.tls = tls  # (cert.pem, key.pem): serve HTTPS
        self.page_size = page_size
        self.extra_args = list(extra_args)
        self.ready_timeout = ready_timeout
        self.proc = None
        self._fixtures = None
        self._ms_fixtures = None

    def start(self):
        self._tmp = tempfile.mkdtemp(prefix="fakehub-")
        self.log_path = os.path.join(self._tmp, "requests.jsonl")
        cmd = [sys.executable, FAKEHUB, "--fixtures", self.fixtures_dir, "--log", self.log_path]
        if self.page_size is not None:
            cmd += ["--page-size", str(self.page_size)]
        if self.ms_fixtures_dir is not None:
            cmd += ["--ms-fixtures", self.ms_fixtures_dir]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        # stdin stays an open pipe: the fake exits when it reaches EOF, i.e. when we die.
        self.proc = subprocess.Popen(cmd + self.extra_args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], self.ready_timeout)
        line = self.proc.stdout.readline() if ready else ""
        parts = line.split()
        if len(parts) != 3 or parts[0] != "READY":
            self.stop()
            raise RuntimeError(f"fakehub did not start (got {line!r}, exit code {self.proc.returncode})")
        self.hub_port, self.cdn_port = int(parts[1]), int(parts[2])
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.hub_port}"
        self.cdn_url = f"{scheme}://127.0.0.1:{self.cdn_port}"
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.stdin.close()  # EOF: the fake shuts down
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
        shutil.rmtree(getattr(self, "_tmp", ""), ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def fixtures(self):
        """fakehub.Fixtures of this fake: .repo(id, type).resolve(rev).files[path].read()."""
        if self._fixtures is None:
            self._fixtures = fakehub.load_fixtures(self.fixtures_dir)
        return self._fixtures

    @property
    def ms_fixtures(self):
        """fakehub.Fixtures of the ModelScope side: .repo(id, type).resolve_ms(rev)."""
        if self._ms_fixtures is None:
            self._ms_fixtures = fakehub.load_fixtures(self.ms_fixtures_dir, "ms")
        return self._ms_fixtures

    def control(self, payload=None):
        """GET (payload None) or POST /_control; returns the state JSON."""
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(self.url + "/_control", data=data,
                                     headers={"Content-Type": "application/json"})
        with _opener.open(req, timeout=10) as resp:
            return json.load(resp)

    def settle(self, timeout=5.0):
        """Wait up to `timeout` s until no request is in flight. A client can see the end of a
        response before the fake writes its log line; this closes that window."""
        deadline = time.monotonic() + timeout
        while self.control()["in_flight"] and time.monotonic() < deadline:
            time.sleep(0.01)

    def faults(self, rules):
        return self.control({"faults": rules})

    def reset(self):
        return self.control({"reset": True})

    def clear_log(self):
        self.settle()
        return self.control({"clear_log": True})

    def log(self):
        """Logged requests (dicts) in arrival order, once the requests in flight are done (see
        settle). The file is in completion order: a line is written after its response, so
        a quick request can finish before the one the client sent just before it."""
        self.settle()
        with open(self.log_path, encoding="utf-8") as fh:
            entries = [json.loads(line) for line in fh if line.endswith("\n")]
        return sorted(entries, key=lambda e: e["ts"])


class FakeHubTestCase(unittest.TestCase):
    """One fake per class (self.hub); faults and log are reset before every test."""

    fakehub_fixtures = DEFAULT_FIXTURES
    fakehub_ms_fixtures = None  # e.g. DEFAULT_MS_FIXTURES
    fakehub_page_size = None
    fakehub_args = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hub = FakeHub(cls.fakehub_fixtures, cls.fakehub_page_size, cls.fakehub_args,
                          ms_fixtures=cls.fakehub_ms_fixtures).start()
        cls.addClassCleanup(cls.hub.stop)

    def setUp(self):
        super().setUp()
        self.hub.settle()
        self.hub.control({"reset": True, "clear_log": True})
