#!/usr/bin/env python3
"""hubfetch auth login / logout / whoami against the fake hub: the token is
checked with whoami-v2 before it is saved, saved where huggingface_hub reads
it (HF_TOKEN_PATH, else $HF_HOME/token) with mode 0600, never printed; and
huggingface_hub reads what hubfetch wrote and the other way round (when
HUB_TEST_HFHUB_SRC points at its sources)."""
import configparser
import os
import stat
import subprocess
import sys
import textwrap
import unittest

from cli_util import HUBFETCH, CliTestCase

ALICE = "hf_alice"  # private-model and gated-model; user alice, two orgs
BOB = "hf_bob"      # valid, no grants; default user "bob"
REFUSED = "hf_nobody_knows_me"
HFHUB_SRC = os.environ.get("HUB_TEST_HFHUB_SRC", "")


def python_client_available():
    if not HFHUB_SRC:
        return False
    env = dict(os.environ, PYTHONPATH=HFHUB_SRC)
    return subprocess.run(["/usr/bin/python3", "-c", "import huggingface_hub"],
                          env=env, capture_output=True).returncode == 0


class AuthBase(CliTestCase):

    def setUp(self):
        super().setUp()
        self.home = os.path.join(self.tmp, "hf-home")
        self.env["HF_HOME"] = self.home
        self.token_file = os.path.join(self.home, "token")

    def auth(self, *args, stdin=None, env=None, check=None):
        """Run `hubfetch auth ARGS` with `stdin` (str) as its input;
        (exit code, stdout, stderr). The token never shows in either."""
        e = dict(self.env)
        e.update(env or {})
        proc = subprocess.run([HUBFETCH, "auth", *args], capture_output=True, env=e,
                              timeout=120, input=(stdin or "").encode())
        out, err = proc.stdout.decode(), proc.stderr.decode()
        for secret in (ALICE, BOB, REFUSED):
            self.assertNotIn(secret, out)
            self.assertNotIn(secret, err)
        if check is not None and proc.returncode != check:
            self.fail(f"auth {args} exited {proc.returncode}, expected {check}\n"
                      f"stdout: {out}\nstderr: {err}")
        return proc.returncode, out, err

    def assert_secret_file(self, path, content):
        st = os.lstat(path)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        with open(path) as f:
            self.assertEqual(f.read(), content)



class AuthTest(AuthBase):

    # ---- login

    def test_login_from_stdin_writes_the_token_file_0600(self):
        rc, out, err = self.auth("login", stdin=ALICE + "\n", check=0)
        self.assertEqual(out, "Logged in as alice\n")
        self.assert_secret_file(self.token_file, ALICE)
        # named in stored_tokens as huggingface_hub's login() does
        cp = configparser.ConfigParser()
        cp.read(os.path.join(self.home, "stored_tokens"))
        self.assertEqual(cp.sections(), ["alice-laptop"])
        self.assertEqual(cp.get("alice-laptop", "hf_token"), ALICE)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.home, "stored_tokens")).st_mode),
                         0o600)
        # the token was checked with whoami, sent to the hub only
        whoami = [r for r in self.requests() if r["path"] == "/api/whoami-v2"]
        self.assertEqual(len(whoami), 1)
        # leftovers of the atomic write: none
        self.assertEqual(sorted(os.listdir(self.home)), ["stored_tokens", "token"])

    def test_login_on_a_terminal_prompts_without_echo(self):
        import pty
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(HUBFETCH, [HUBFETCH, "auth", "login"], self.env)
        out = b""
        try:
            while b"not be visible" not in out:
                out += os.read(fd, 1024)
            os.write(fd, (ALICE + "\n").encode())
            while True:
                chunk = os.read(fd, 1024)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass  # EIO: the child closed the terminal
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, out)
        self.assertNotIn(ALICE.encode(), out)
        self.assertIn(b"Logged in as alice", out)
        self.assert_secret_file(self.token_file, ALICE)

    def test_login_with_token_option_at_hf_token_path(self):
        path = os.path.join(self.tmp, "elsewhere", "deeper", "my-token")
        rc, out, err = self.auth("login", "--token", BOB, env={"HF_TOKEN_PATH": path},
                                 check=0)
        self.assertEqual(out, "Logged in as bob\n")
        self.assert_secret_file(path, BOB)
        self.assertFalse(os.path.exists(self.token_file))
        # stored_tokens lives beside HF_TOKEN_PATH, as in huggingface_hub
        self.assertTrue(os.path.exists(os.path.join(os.path.dirname(path), "stored_tokens")))

    def test_login_under_the_default_home(self):
        del self.env["HF_HOME"]
        self.auth("login", stdin=ALICE, check=0)
        self.assert_secret_file(
            os.path.join(self.env["HOME"], ".cache", "huggingface", "token"), ALICE)

    def test_login_replaces_a_link_instead_of_following_it(self):
        os.makedirs(self.home)
        victim = os.path.join(self.tmp, "victim")
        with open(victim, "w") as f:
            f.write("precious")
        os.symlink(victim, self.token_file)
        self.auth("login", stdin=ALICE, check=0)
        self.assert_secret_file(self.token_file, ALICE)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious")

    def test_then_a_private_and_a_gated_repo_download_without_a_token(self):
        rc, out, err = self.run_cli("download", "hubfetch/private-model")
        self.assertNotEqual(rc, 0)
        self.auth("login", stdin=ALICE, check=0)
        for repo in ("hubfetch/private-model", "hubfetch/gated-model"):
            path = self.download(repo)
            self.assertTrue(os.path.isdir(path))

    def test_a_refused_token_exits_19_and_writes_nothing(self):
        rc, out, err = self.auth("login", stdin=REFUSED)
        self.assertEqual(rc, 19, err)
        self.assertEqual(out, "")
        self.assertIn("token refused", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertFalse(os.path.exists(self.home))

    def test_a_refused_token_keeps_the_saved_one(self):
        self.auth("login", stdin=ALICE, check=0)
        self.auth("login", "--token", REFUSED, check=19)
        self.assert_secret_file(self.token_file, ALICE)

    def test_no_token_on_stdin_is_a_usage_error(self):
        rc, out, err = self.auth("login", stdin="\n  \n")
        self.assertEqual(rc, 2)
        self.assertFalse(os.path.exists(self.home))

    def test_an_org_token_cannot_log_in(self):
        rc, out, err = self.auth("login", stdin="api_org_abc")
        self.assertEqual(rc, 2)
        self.assertNotIn("api_org_abc", out + err)
        self.assertFalse(os.path.exists(self.home))

    def test_login_checks_against_the_endpoint_option(self):
        env = dict(HF_ENDPOINT=self.hub.url + "/no-hub-here")  # answers 404
        self.auth("login", "--endpoint", self.hub.url, stdin=ALICE, env=env, check=0)
        rc, out, err = self.auth("login", stdin=ALICE, env=dict(env, HF_HOME=self.tmp + "/h2"))
        self.assertEqual(rc, 26, err)  # HTTP error: HF_ENDPOINT is used
        self.assertIn("/no-hub-here has no /api/whoami-v2", err)
        self.assertFalse(os.path.exists(self.tmp + "/h2/token"))

    # ---- whoami

    def test_whoami_prints_the_user_and_orgs(self):
        self.auth("login", stdin=ALICE, check=0)
        rc, out, err = self.auth("whoami", check=0)
        lines = out.splitlines()
        self.assertEqual(lines[0], "user: alice")
        self.assertEqual(lines[1], "orgs: hubfetch,wonderland")
        self.assertEqual(lines[2], "token: alice-laptop (read)")
        self.assertTrue(lines[3].startswith("endpoint: http://127.0.0.1:"))

    def test_whoami_uses_hf_token_first(self):
        self.auth("login", stdin=ALICE, check=0)
        rc, out, err = self.auth("whoami", env={"HF_TOKEN": BOB}, check=0)
        self.assertTrue(out.startswith("user: bob\n"))
        self.assertNotIn("orgs:", out)

    def test_whoami_without_a_token_exits_19(self):
        rc, out, err = self.auth("whoami")
        self.assertEqual(rc, 19)
        self.assertEqual(err.strip(),
                         "hubfetch: no token: run 'hubfetch auth login' or set HF_TOKEN")
        self.assertEqual([r for r in self.requests() if r["path"] == "/api/whoami-v2"], [])

    def test_whoami_with_a_refused_token_exits_19(self):
        rc, out, err = self.auth("whoami", env={"HF_TOKEN": REFUSED})
        self.assertEqual(rc, 19, err)
        self.assertIn("HTTP 401", err)

    # ---- logout

    def test_logout_removes_the_token_files(self):
        self.auth("login", stdin=ALICE, check=0)
        rc, out, err = self.auth("logout", check=0)
        self.assertEqual(out, f"Logged out: removed {self.token_file}\n")
        self.assertEqual(os.listdir(self.home), [])
        rc, out, err = self.auth("logout", check=0)
        self.assertEqual(out, f"Not logged in: no token file at {self.token_file}\n")
        self.auth("whoami", check=19)

    def test_logout_warns_when_hf_token_still_applies(self):
        rc, out, err = self.auth("logout", env={"HF_TOKEN": ALICE}, check=0)
        self.assertIn("HF_TOKEN is set", err)


@unittest.skipUnless(python_client_available(),
                     "huggingface_hub not importable (set HUB_TEST_HFHUB_SRC)")
class PythonAuthInteropTest(AuthBase):
    """huggingface_hub 1.x and hubfetch share one login."""

    def python(self, code):
        env = dict(self.env, PYTHONPATH=HFHUB_SRC, HF_HUB_DISABLE_TELEMETRY="1")
        proc = subprocess.run(["/usr/bin/python3", "-c", textwrap.dedent(code)],
                              env=env, capture_output=True, timeout=300)
        if proc.returncode:
            self.fail(proc.stderr.decode())
        return proc.stdout.decode()

    def test_python_reads_the_token_we_wrote(self):
        self.auth("login", stdin=ALICE, check=0)
        out = self.python("""
            import huggingface_hub
            from huggingface_hub.utils import get_stored_tokens
            print(huggingface_hub.get_token())
            print(get_stored_tokens())
            print(huggingface_hub.whoami()["name"])
        """)
        self.assertEqual(out.splitlines(),
                         [ALICE, "{'alice-laptop': 'hf_alice'}", "alice"])

    def test_we_read_the_token_python_wrote(self):
        self.python(f"""
            from huggingface_hub import login
            login("{BOB}", add_to_git_credential=False)
        """)
        with open(self.token_file) as f:
            self.assertEqual(f.read(), BOB)
        rc, out, err = self.auth("whoami", check=0)
        self.assertTrue(out.startswith("user: bob\n"))
        # and our login adds to the stored_tokens it wrote
        self.auth("login", stdin=ALICE, check=0)
        out = self.python("""
            from huggingface_hub.utils import get_stored_tokens
            print(sorted(get_stored_tokens().items()))
        """)
        self.assertEqual(out.strip(),
                         "[('alice-laptop', 'hf_alice'), ('hubfetch-test', 'hf_bob')]")
        # and python's logout undoes ours
        self.python("from huggingface_hub import logout; logout()")
        self.assertFalse(os.path.exists(self.token_file))


if __name__ == "__main__":
    unittest.main()
