#!/usr/bin/env python3
"""Proxies (tinyproxy for HTTP and CONNECT, microsocks for SOCKS5/5h, with
and without credentials), NO_PROXY, TLS with a private CA, and endpoint
failover through mirrors. The proxies bind their outgoing side to
127.0.0.2, so the fake hub's log tells proxied requests from direct ones."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from cli_util import DEMO, FIXTURES, CliTestCase, FakeHub, MirrorTestCase, read

PROXIED = "127.0.0.2"  # where the proxies connect from
PROXY_VARS = ["http_proxy", "https_proxy", "all_proxy", "no_proxy"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy exited: {proc.stdout.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("proxy did not start")


class Proxy:
    """tinyproxy or microsocks on a free loopback port, stopped on exit."""

    def __init__(self, kind, user=None, password=None):
        self.kind = kind
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="hubfetch-proxy-")
        os.chmod(self.dir, 0o777)  # tinyproxy may drop to 'nobody'
        if kind == "tinyproxy":
            conf = os.path.join(self.dir, "tinyproxy.conf")
            with open(conf, "w") as f:
                f.write(f"Port {self.port}\nListen 127.0.0.1\nBind {PROXIED}\n"
                        "Timeout 60\nMaxClients 200\nAllow 127.0.0.1\n"
                        f'LogFile "{self.dir}/tinyproxy.log"\nLogLevel Connect\n'
                        "DisableViaHeader Yes\n")
                if user:
                    f.write(f"BasicAuth {user} {password}\n")
            cmd = ["tinyproxy", "-d", "-c", conf]
        else:
            cmd = ["microsocks", "-i", "127.0.0.1", "-p", str(self.port), "-b", PROXIED]
            if user:
                cmd += ["-u", user, "-P", password]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True)
        wait_listening(self.port, self.proc)

    def url(self, scheme, user=None, password=None):
        creds = f"{user}:{password}@" if user else ""
        return f"{scheme}://{creds}127.0.0.1:{self.port}"

    def log(self):
        path = os.path.join(self.dir, "tinyproxy.log")
        return read(path).decode() if os.path.exists(path) else ""

    def stop(self):
        self.proc.terminate()
        self.proc.communicate(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def have(tool):
    return shutil.which(tool) is not None


class NetworkTest(CliTestCase):

    def setUp(self):
        super().setUp()
        for v in PROXY_VARS:
            self.env.pop(v, None)
            self.env.pop(v.upper(), None)

    def proxy(self, kind, *args):
        if not have(kind):
            if os.environ.get("HUB_REQUIRE_PROXIES"):
                self.fail(f"{kind} is not installed")
            self.skipTest(f"{kind} not installed")
        p = Proxy(kind, *args)
        self.addCleanup(p.stop)
        return p

    def sources(self):
        return {r["client_ip"] for r in self.requests()}

    def test_http_proxy_from_uppercase_variable(self):
        # libcurl alone ignores HTTP_PROXY (uppercase); Python clients use it
        p = self.proxy("tinyproxy")
        path = self.download(DEMO, "config.json", env={"HTTP_PROXY": p.url("http")})
        self.assertEqual(read(path), self.expected(DEMO, "main", "config.json"))
        self.assertEqual(self.sources(), {PROXIED})
        self.assertIn("GET http://127.0.0.1", p.log())

    def test_lowercase_wins_and_all_proxy_is_the_fallback(self):
        p = self.proxy("tinyproxy")
        self.download(DEMO, "config.json",
                      env={"HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": p.url("http")})
        self.assertEqual(self.sources(), {PROXIED})
        self.hub.clear_log()
        self.download(DEMO, "tokenizer.json", env={"ALL_PROXY": p.url("http")})
        self.assertEqual(self.sources(), {PROXIED})

    def test_no_proxy_is_honoured(self):
        p = self.proxy("tinyproxy")
        self.download(DEMO, "config.json",
                      env={"HTTP_PROXY": p.url("http"), "NO_PROXY": "localhost,127.0.0.0/8"})
        self.assertEqual(self.sources(), {"127.0.0.1"})
        self.hub.clear_log()
        self.download(DEMO, "tokenizer.json", "--proxy", p.url("http"),
                      "--no-proxy", "127.0.0.1")
        self.assertEqual(self.sources(), {"127.0.0.1"})
        self.assertNotIn("GET http://", p.log())

    def test_http_proxy_with_credentials(self):
        p = self.proxy("tinyproxy", "alice", "s3cret")
        self.download(DEMO, "--include", "*.json", "--include", "onnx/*",
                      "--proxy", p.url("http", "alice", "s3cret"))
        self.assertEqual(self.sources(), {PROXIED})
        rc, out, err = self.run_cli("download", DEMO, "README.md",
                                    "--proxy", p.url("http", "alice", "wrong"))
        self.assertNotEqual(rc, 0)
        self.assertNotIn("wrong", err)  # credentials never in messages

    def test_socks5_and_socks5h_with_credentials(self):
        p = self.proxy("microsocks", "bob", "pw")
        for scheme in ("socks5", "socks5h"):
            self.hub.clear_log()
            path = self.download(DEMO, "onnx/model.onnx", "--force-download",
                                 "--proxy", p.url(scheme, "bob", "pw"))
            self.assertEqual(read(path), self.expected(DEMO, "main", "onnx/model.onnx"))
            self.assertEqual(self.sources(), {PROXIED}, scheme)
        rc, out, err = self.run_cli("download", DEMO, "README.md",
                                    "--proxy", p.url("socks5", "bob", "nope"))
        self.assertEqual(rc, 25, err)
        self.assertIn("proxy socks5://***@127.0.0.1", err)
        self.assertNotIn("nope", err)

    def test_proxy_that_cannot_reach_an_endpoint_fails_over(self):
        # the proxy works, only its way to the first endpoint does not: a
        # proxy problem for that endpoint, not for the next one
        p = self.proxy("microsocks")
        dead = f"http://127.0.0.1:{free_port()}"
        rc, out, err = self.run_cli("download", DEMO, "config.json", "--endpoint", dead,
                                    "--endpoint", self.hub.url, "--proxy", p.url("socks5"),
                                    check=0)
        self.assertIn(f"endpoint {dead} failed (proxy socks5://127.0.0.1:{p.port} "
                      "could not reach 127.0.0.1", err)
        self.assertEqual(read(out.strip()), self.expected(DEMO, "main", "config.json"))
        self.assertEqual(self.sources(), {PROXIED})

    def test_refused_proxy_is_named(self):
        port = free_port()
        rc, out, err = self.run_cli("download", DEMO, "config.json",
                                    env={"HTTPS_PROXY": f"http://127.0.0.1:{port}",
                                         "HTTP_PROXY": f"http://127.0.0.1:{port}"})
        self.assertEqual(rc, 25, err)
        self.assertIn(f"proxy http://127.0.0.1:{port} failed", err)
        self.assertEqual(self.requests(), [])


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1, or None without openssl."""
    if not have("openssl"):
        return None
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class TlsTest(CliTestCase):
    """HTTPS: a private CA via SSL_CERT_FILE, and CONNECT through a proxy."""

    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="hubfetch-tls-")
        cls.cert = make_cert(cls.certdir)
        if not cls.cert:
            if os.environ.get("HUB_REQUIRE_PROXIES"):
                raise RuntimeError("openssl is not installed")
            raise unittest.SkipTest("openssl not installed")
        cls.hub = FakeHub(fixtures=FIXTURES, tls=cls.cert)
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        for v in PROXY_VARS:
            self.env.pop(v, None)
            self.env.pop(v.upper(), None)

    def test_untrusted_certificate_is_a_clear_tls_error(self):
        rc, out, err = self.run_cli("download", DEMO, "config.json")
        self.assertEqual(rc, 23, err)
        self.assertIn("SSL_CERT_FILE", err)

    def test_private_ca_from_ssl_cert_file(self):
        path = self.download(DEMO, "model.safetensors", env={"SSL_CERT_FILE": self.cert[0]})
        self.assertEqual(read(path), self.expected(DEMO, "main", "model.safetensors"))
        self.download(DEMO, "config.json", "--ca-bundle", self.cert[0])

    def test_https_through_http_proxy_uses_connect(self):
        if not have("tinyproxy"):
            if os.environ.get("HUB_REQUIRE_PROXIES"):
                self.fail("tinyproxy is not installed")
            self.skipTest("tinyproxy not installed")
        p = Proxy("tinyproxy")
        self.addCleanup(p.stop)
        env = {"SSL_CERT_FILE": self.cert[0], "HTTPS_PROXY": p.url("http")}
        self.download(DEMO, "onnx/model.onnx", env=env)
        # several connections, each a fresh tunnel: the proxy's own
        # "200 Connection established" must never pass for the response
        self.hub.clear_log()
        rc, out, err = self.run_cli("download", DEMO, "model.safetensors",
                                    "--connections", "4", env=env, check=0)
        self.assertEqual(read(out.strip()), self.expected(DEMO, "main", "model.safetensors"))
        self.assertNotIn("again", err)  # no checksum restart
        size = len(self.expected(DEMO, "main", "model.safetensors"))
        cdn = self.requests("cdn")
        self.assertEqual(sum(r["bytes"] for r in cdn), size)
        self.assertGreaterEqual(len(cdn), 4)  # parts, not one fallback stream
        self.assertIn("CONNECT 127.0.0.1", p.log())
        self.assertEqual({r["client_ip"] for r in self.requests()}, {PROXIED})


class FailoverTest(MirrorTestCase):
    """Endpoints tried in order: a dead one, one answering 5xx, a mirror
    that redirects to the hub."""


    def test_dead_endpoint_falls_back(self):
        dead = f"http://127.0.0.1:{free_port()}"
        path = self.download(DEMO, "--endpoint", dead, "--endpoint", self.hub.url,
                             "--include", "*.json", "--include", "onnx/*")
        self.assertTrue(os.path.isfile(os.path.join(path, "onnx", "model.onnx")))

    def test_endpoint_list_from_environment(self):
        dead = f"http://127.0.0.1:{free_port()}"
        self.download(DEMO, "config.json",
                      env={"HF_ENDPOINT": dead, "HUBFETCH_ENDPOINTS": self.hub.url})
        self.assertTrue(self.requests())

    def test_failing_mirror_hands_over_and_the_report_says_who_served(self):
        self.mirror.faults([{"match": "resolve/", "server": "hub",
                             "action": {"status": 503}}])
        rc, out, err = self.run_cli("download", DEMO, "--progress", "json",
                                    "--endpoint", self.mirror.url, "--endpoint", self.hub.url,
                                    "--include", "*.json", check=0)
        self.assertIn("trying " + self.hub.url, err)
        served = {}
        for line in err.splitlines():
            if line.startswith("{") and '"type":"file"' in line:
                import json
                e = json.loads(line)
                if e["phase"] == "done":
                    served[e["file"]] = e["endpoint"]
        # the listing came from the mirror, the files from the hub
        self.assertTrue(served)
        self.assertEqual(set(served.values()), {self.hub.url})
        self.assertTrue([r for r in self.mirror.log() if "/api/models/" in r["path"]])

    def test_mirror_redirecting_to_the_hub_with_308(self):
        self.mirror.faults([{"match": ".", "server": "hub",
                             "action": {"redirect": self.hub.url, "code": 308}}])
        path = self.download(DEMO, "--endpoint", self.mirror.url, "--endpoint", self.hub.url,
                             "--include", "*.json")
        self.assertTrue(os.path.isfile(os.path.join(path, "config.json")))
        self.assertTrue(all(r["status"] == 308 for r in self.mirror.log()))


class RecordingProxy:
    """An HTTP proxy that can reach nothing: it notes each CONNECT target
    and answers 502, as a proxy does whose way to a host is blocked."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.targets = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                line = head.split(b"\r\n", 1)[0].decode()
                if line.startswith("CONNECT "):
                    self.targets.append(line.split()[1])
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")

    def stop(self):
        self.sock.close()


class EndpointAutoTest(CliTestCase):
    """`--endpoint auto`: hf-mirror.com first in a Simplified Chinese locale,
    huggingface.co first elsewhere, the other one as the fallback. Observed
    through a proxy that records where each connection was headed, so no
    traffic leaves the machine."""

    def setUp(self):
        super().setUp()
        self.proxy = RecordingProxy()
        self.addCleanup(self.proxy.stop)

    def attempt(self, **locale):
        env = {"LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}
        env.update(locale)
        rc, _, err = self.run_cli("download", DEMO, "config.json", "--endpoint", "auto",
                                  "--proxy", f"http://127.0.0.1:{self.proxy.port}",
                                  "--retries", "0", env=env)
        self.assertNotEqual(rc, 0)
        # each endpoint once, in order: no retries were allowed
        return self.proxy.targets, err

    def test_chinese_locale_tries_the_mirror_first(self):
        targets, err = self.attempt(LANG="zh_CN.UTF-8")
        self.assertEqual(targets, ["hf-mirror.com:443", "huggingface.co:443"])
        self.assertIn("endpoint https://hf-mirror.com failed", err)
        self.assertIn("trying https://huggingface.co", err)
        self.assertIn("could not reach huggingface.co", err)

    def test_other_locales_try_the_hub_first(self):
        targets, _ = self.attempt(LANG="en_US.UTF-8")
        self.assertEqual(targets, ["huggingface.co:443", "hf-mirror.com:443"])

    def test_lc_all_overrides_lang(self):
        targets, _ = self.attempt(LC_ALL="zh_CN.UTF-8", LANG="en_US.UTF-8")
        self.assertEqual(targets[0], "hf-mirror.com:443")


if __name__ == "__main__":
    unittest.main()
