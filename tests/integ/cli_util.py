"""Shared helpers of the CLI tests: run the hubfetch program against a fake
hub in a scratch cache."""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "fakehub"))

from harness import FakeHub  # noqa: E402

FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "hub")
HUBFETCH = os.environ.get("HUBFETCH") or os.path.join(SOURCE, "build", "hubfetch")

DEMO = "hubfetch/demo-model"
DEMO_MAIN = "336de85ded21fb397e9153c318fe74ccdaa1f6e9"
DEMO_V1 = "c4ef15906d838aa47a14b2f34f10065101bac6fc"
DEMO_PR1 = "8bcb4ac2e93cf48af09bacaaf9b039df22a22150"

# Variables of the user's environment that would change what hubfetch does.
HF_VARS = ["HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT",
           "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
           "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_SYMLINKS",
           "XDG_CACHE_HOME", "HF_HUB_DISABLE_IMPLICIT_TOKEN"]


class CliTestCase(unittest.TestCase):
    """One fake hub per class; a fresh cache and home per test."""

    page_size = None
    hub_args = ()
    ms_fixtures = None  # ModelScope fixtures to serve too

    @classmethod
    def setUpClass(cls):
        cls.hub = FakeHub(fixtures=FIXTURES, page_size=cls.page_size,
                          extra_args=cls.hub_args, ms_fixtures=cls.ms_fixtures)
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()

    def setUp(self):
        self.hub.reset()
        self.hub.clear_log()
        self.tmp = tempfile.mkdtemp(prefix="hubfetch-test-")
        self.cache = os.path.join(self.tmp, "cache")
        # the user's hub settings and proxies must not leak into tests
        self.env = {k: v for k, v in os.environ.items()
                    if k not in HF_VARS and not k.lower().endswith("_proxy")}
        self.env["HOME"] = os.path.join(self.tmp, "home")
        self.env["HF_HUB_CACHE"] = self.cache
        self.env["HF_ENDPOINT"] = self.hub.url
        os.makedirs(self.env["HOME"])

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def use_modelscope(self):
        """Point this test at the fake's ModelScope API and a scratch
        ModelScope cache (self.root), whatever the user's environment."""
        self.root = os.path.join(self.tmp, "ms-cache")
        self.env["MODELSCOPE_CACHE"] = self.root
        self.env["MODELSCOPE_ENDPOINT"] = self.hub.url
        for k in ("MODELSCOPE_API_TOKEN", "MODELSCOPE_DOMAIN"):
            self.env.pop(k, None)

    def run_cli(self, *args, env=None, timeout=120, check=None):
        """Run `hubfetch download ARGS`; returns (exit code, stdout, stderr)."""
        e = dict(self.env)
        e.update(env or {})
        proc = subprocess.run([HUBFETCH, *args], capture_output=True,
                              env=e, timeout=timeout, stdin=subprocess.DEVNULL)
        out = proc.stdout.decode()
        err = proc.stderr.decode()
        if check is not None and proc.returncode != check:
            self.fail(f"hubfetch {' '.join(args)} exited {proc.returncode}, "
                      f"expected {check}\nstdout: {out}\nstderr: {err}")
        return proc.returncode, out, err

    def download(self, *args, **kw):
        """A download that must succeed; returns the printed path."""
        kw.setdefault("check", 0)
        rc, out, err = self.run_cli("download", *args, **kw)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, f"stdout must be the path alone: {out!r}")
        return lines[0]

    def requests(self, server=None):
        return [r for r in self.hub.log() if server is None or r["server"] == server]

    def repo_dir(self, repo=DEMO, kind="models"):
        return os.path.join(self.cache, f"{kind}--{repo.replace('/', '--')}")

    def expected(self, repo, rev, path, kind="model"):
        """The bytes the fake serves for a file."""
        return self.hub.fixtures.repo(repo, kind).resolve(rev).files[path].read()


class MirrorTestCase(CliTestCase):
    """CliTestCase with a second fake hub, `self.mirror`, as another
    endpoint (failover, token origins)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mirror = FakeHub(fixtures=FIXTURES)
        cls.mirror.start()

    @classmethod
    def tearDownClass(cls):
        cls.mirror.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.mirror.reset()
        self.mirror.clear_log()


@contextlib.contextmanager
def flock_held(path):
    """Another process holds flock(LOCK_EX) on `path`, as a running download
    of hubfetch or of the Python SDKs does, until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, sys\n"
         "f = open(sys.argv[1], 'a')\n"
         "fcntl.flock(f, fcntl.LOCK_EX)\n"
         "print('held', flush=True)\n"
         "sys.stdin.read()\n", path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if holder.stdout.readline().strip() != "held":
            raise RuntimeError(f"could not lock {path}")
        yield
    finally:
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def load_json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]
