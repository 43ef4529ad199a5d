#!/usr/bin/env python3
"""hubfetch ls against the fake hub: every field against the fixtures,
pagination, recursion, folders, files, missing paths, private and gated
repositories, token origins, proxies, ModelScope; and, where
huggingface_hub's sources are given (HUB_TEST_HFHUB_SRC), the same entries
as HfApi.list_repo_tree / get_paths_info on the same fake."""
import json
import os
import shutil
import subprocess
import unittest

from cli_util import DEMO, DEMO_MAIN, DEMO_PR1, CliTestCase, MirrorTestCase

HFHUB_SRC = os.environ.get("HUB_TEST_HFHUB_SRC")
PAGED = "hubfetch/paged"


def fmt_size(n):
    """huggingface_hub's _format_size, as cli_format_size prints it"""
    x = float(n)
    for unit in ["", "K", "M", "G", "T", "P", "E", "Z"]:
        if abs(x) < 1000.0:
            return f"{x:3.1f}{unit}"
        x /= 1000.0
    return f"{x:.1f}Y"


def strip_security(entries):
    """Our JSON leaves out securityFileStatus (not part of hub_entry)."""
    out = []
    for e in entries:
        e = dict(e)
        e.pop("securityFileStatus", None)
        out.append(e)
    return out


class LsTest(CliTestCase):
    page_size = 5  # every listing of a few files spans pages

    def ls(self, *args, check=0, **kw):
        return self.run_cli("ls", *args, check=check, **kw)

    def ls_json(self, *args, **kw):
        rc, out, err = self.ls(*args, "--format", "json", **kw)
        return json.loads(out)

    def fixture(self, repo=DEMO, rev="main", path="", recursive=False, expand=False):
        commit = self.hub.fixtures.repo(repo).resolve(rev)
        return strip_security(commit.listing(path, recursive, expand))

    # ---- fields and shapes

    def test_json_is_the_tree_api_entries_field_for_field(self):
        for recursive in (False, True):
            args = ["-R"] if recursive else []
            self.assertEqual(self.ls_json(DEMO, *args), self.fixture(recursive=recursive))
        # an LFS file stored with Xet: lfs and xetHash, real size
        st = {e["path"]: e for e in self.ls_json(DEMO, "-R")}
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        self.assertEqual(st["model.safetensors"]["lfs"],
                         {"oid": f.sha256, "size": f.size, "pointerSize": len(f.pointer)})
        self.assertEqual(st["model.safetensors"]["xetHash"], f.xet_hash)
        self.assertEqual(st["model.safetensors"]["size"], f.size)
        self.assertNotIn("lfs", st["config.json"])
        self.assertEqual(st["docs"]["type"], "directory")

    def test_expand_adds_last_commit(self):
        got = self.ls_json(DEMO, "-R", "--expand")
        self.assertEqual(got, self.fixture(recursive=True, expand=True))
        last = {e["path"]: e["lastCommit"] for e in got}
        # the Xet file did not change since commit 0 (the v1.0 tag)
        v1 = self.hub.fixtures.repo(DEMO).resolve("v1.0")
        self.assertEqual(last["model.safetensors"]["id"], v1.sha)
        self.assertEqual(last["config.json"]["id"], DEMO_MAIN)
        self.assertTrue(all(r["path"].endswith("expand=true") or "expand=true&" in r["path"]
                            for r in self.requests() if "/tree/" in r["path"]))

    def test_table_short_and_long(self):
        rc, out, err = self.ls(DEMO)
        names = [e["path"] + ("/" if e["type"] == "directory" else "") for e in self.fixture()]
        self.assertEqual(out.splitlines(), names)
        self.assertEqual(err, "")
        rc, out, err = self.ls(DEMO, "-l", "-R")
        rows = {}
        for line in out.splitlines():
            human, exact, kind, oid, path = line.split(None, 4)
            rows[path] = (human, exact, kind, oid)
        commit = self.hub.fixtures.repo(DEMO).resolve("main")
        self.assertEqual(len(rows), len(commit.files) + len(commit.dirs))
        for path, f in commit.files.items():
            human, exact, kind, oid = rows[path]
            self.assertEqual(int(exact), f.size, path)
            self.assertEqual(kind, "xet" if f.xet else "lfs" if f.lfs else "git", path)
            self.assertEqual(oid, f.sha256 if f.lfs else f.oid, path)
        self.assertEqual(rows["model.safetensors"][0], "33.6M")
        self.assertEqual(rows["onnx/"], ("-", "-", "dir", commit.tree_oid("onnx")))

    def test_long_with_last_commit_columns(self):
        rc, out, err = self.ls(DEMO, "--last-commit")
        rows = {}
        for line in out.splitlines():
            human, exact, kind, oid, commit, date, rest = line.split(None, 6)
            path, _, title = rest.partition("  ")
            rows[path] = (commit, date, title)
        v1 = self.hub.fixtures.repo(DEMO).resolve("v1.0")
        self.assertEqual(rows["model.safetensors"], (v1.sha[:7], "2024-01-01", v1.message))
        self.assertEqual(rows["onnx/"][0], DEMO_MAIN[:7])

    # ---- pagination, recursion, folders, files

    def test_pages_are_invisible(self):
        commit = self.hub.fixtures.repo(PAGED).resolve("main")
        got = self.ls_json(PAGED, "-R")
        self.assertEqual(got, self.fixture(PAGED, recursive=True))
        self.assertEqual(len(got), len(commit.files) + len(commit.dirs))
        tree = [r for r in self.requests() if "/tree/" in r["path"]]
        self.assertEqual(len(tree), -(-len(got) // self.page_size))
        self.assertTrue(all("cursor=" in r["path"] for r in tree[1:]))
        # the table streams the same names
        rc, out, err = self.ls(PAGED, "-R")
        self.assertEqual(len(out.splitlines()), len(got))

    def test_subfolder_recursive_or_not(self):
        self.assertEqual(self.ls_json(DEMO, "tokenizer"), self.fixture(path="tokenizer"))
        rc, out, err = self.ls(PAGED, "sub")
        self.assertEqual(out.splitlines(), [f"sub/file-{i:04d}.txt" for i in range(4)])
        self.assertEqual(self.ls_json(PAGED, "sub", "-R"),
                         self.fixture(PAGED, path="sub", recursive=True))
        # the path is quoted with safe="" as Python does
        self.assertTrue(any("/tree/main/sub?" in r["path"] for r in self.requests()))

    def test_a_file_is_shown_alone(self):
        got = self.ls_json(DEMO, "onnx/model.onnx")
        commit = self.hub.fixtures.repo(DEMO).resolve("main")
        self.assertEqual(got, strip_security([commit.entry("onnx/model.onnx")]))

    def test_revision_and_url_quoting(self):
        got = self.ls_json(DEMO, "--revision", "refs/pr/1", "-R")
        self.assertEqual(got, self.fixture(rev=DEMO_PR1, recursive=True))
        self.assertTrue(any("/tree/refs%2Fpr%2F1?" in r["path"] for r in self.requests()))
        self.assertEqual(self.ls_json(DEMO, "--revision", "v1.0"), self.fixture(rev="v1.0"))

    def test_miscased_repo_id_follows_the_redirect(self):
        self.assertEqual(self.ls_json("hubfetch/DEMO-model", "-R"), self.fixture(recursive=True))
        statuses = [r["status"] for r in self.requests()]
        self.assertEqual(statuses[0], 307)
        # and the paths-info POST of a file path too (a 307 keeps the POST)
        self.hub.clear_log()
        self.assertEqual(len(self.ls_json("hubfetch/DEMO-model", "config.json")), 1)
        posts = [r for r in self.requests() if r["method"] == "POST"]
        self.assertEqual([r["status"] for r in posts], [307, 200])

    # ---- errors

    def test_missing_path_exits_17_and_says_so(self):
        rc, out, err = self.ls(DEMO, "no/such/folder", check=17)
        self.assertEqual(out, "")
        self.assertIn("no 'no/such/folder' in model 'hubfetch/demo-model' at revision 'main'",
                      err)
        self.assertIn("check the path", err)
        self.assertEqual(len(err.strip().splitlines()), 1)
        rc, out, err = self.ls(DEMO, "--format", "json", "nope.txt", check=17)
        self.assertEqual(out, "")

    def test_missing_repo_revision_and_usage(self):
        rc, out, err = self.ls("hubfetch/nope", check=15)
        self.assertIn("not found", err)
        rc, out, err = self.ls(DEMO, "--revision", "nope", check=16)
        self.assertIn("revision 'nope' not found", err)
        self.ls(check=2)
        self.ls(DEMO, "--format", "xml", check=2)
        self.ls(DEMO, "a", "b", check=2)
        self.ls(DEMO, "../x", check=2)

    def test_private_needs_a_token_gated_lists_without(self):
        rc, out, err = self.ls("hubfetch/private-model", check=15)
        self.assertIn("pass a token", err)
        tokens = self.hub.fixtures.tokens
        tok = next(t for t, repos in tokens.items() if ("model", "hubfetch/private-model") in repos)
        self.hub.clear_log()
        rc, out, err = self.ls("hubfetch/private-model", "--token", tok)
        self.assertTrue(out.strip())
        self.assertTrue(all(r["auth"] for r in self.requests()))
        # the Hub lists a gated repository's files to anyone
        rc, out, err = self.ls("hubfetch/gated-model")
        self.assertTrue(out.strip())
        rc, out, err = self.ls(DEMO, "--token", "hf_wrong", check=19)

    def test_stops_after_a_failing_page_with_the_array_left_open(self):
        self.hub.faults([{"match": "cursor=", "action": {"status": 500}}])
        rc, out, err = self.ls(PAGED, "-R", "--format", "json", "--retries", "0", check=26)
        self.assertTrue(out.startswith("[\n"))
        self.assertFalse(out.rstrip().endswith("]"))
        self.assertIn("HTTP 500", err)

    def test_offline_and_modelscope_are_refused(self):
        self.ls(DEMO, env={"HF_HUB_OFFLINE": "1"}, check=2)
        rc, out, err = self.ls(DEMO, "--hub", "modelscope", check=34)
        self.assertIn("not supported on ModelScope", err)

    # ---- huggingface_hub on the same fake

    @unittest.skipUnless(HFHUB_SRC and os.path.isdir(HFHUB_SRC), "HUB_TEST_HFHUB_SRC not set")
    def test_same_entries_as_huggingface_hub(self):
        code = r"""
import json, sys
from dataclasses import asdict
from huggingface_hub import HfApi
api = HfApi(endpoint=sys.argv[1])
def shape(e):
    d = {"type": "directory" if type(e).__name__ == "RepoFolder" else "file",
         "path": e.path, "oid": getattr(e, "tree_id", None) or getattr(e, "blob_id", None)}
    d["size"] = getattr(e, "size", 0) or 0
    if getattr(e, "lfs", None):
        d["lfs"] = {"oid": e.lfs.sha256, "size": e.lfs.size, "pointerSize": e.lfs.pointer_size}
    if getattr(e, "xet_hash", None):
        d["xetHash"] = e.xet_hash
    if getattr(e, "last_commit", None):
        lc = e.last_commit
        d["lastCommit"] = {"id": lc.oid, "title": lc.title,
                           "date": lc.date.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    return d
out = {}
for repo, path, rec, exp in [("hubfetch/demo-model", None, True, False),
                             ("hubfetch/demo-model", None, False, True),
                             ("hubfetch/paged", "sub", False, False),
                             ("hubfetch/paged", None, True, False)]:
    key = f"{repo}|{path or ''}|{rec}|{exp}"
    out[key] = [shape(e) for e in api.list_repo_tree(repo, path_in_repo=path,
                                                      recursive=rec, expand=exp)]
out["paths"] = [shape(e) for e in api.get_paths_info(
    "hubfetch/demo-model", ["config.json", "onnx", "model.safetensors", "nope"], expand=True)]
print(json.dumps(out))
"""
        env = dict(self.env, PYTHONPATH=HFHUB_SRC)
        proc = subprocess.run(["/usr/bin/python3", "-c", code, self.hub.url],
                              capture_output=True, text=True, env=env, timeout=120)
        if proc.returncode != 0 and "No module named" in proc.stderr:
            self.skipTest(proc.stderr.strip().splitlines()[-1])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # huggingface_hub's RepoFile drops xetHash (1.3): compared without it
        theirs = {k: [{f: v for f, v in e.items() if f != "xetHash"} for e in entries]
                  for k, entries in json.loads(proc.stdout).items()}

        def ls_json(*args):
            return [{f: v for f, v in e.items() if f != "xetHash"} for e in self.ls_json(*args)]
        for key, entries in theirs.items():
            if key == "paths":
                continue
            repo, path, rec, exp = key.split("|")
            args = [repo] + ([path] if path else [])
            args += ["-R"] if rec == "True" else []
            args += ["--expand"] if exp == "True" else []
            self.assertEqual(ls_json(*args), entries, key)
        ours = ls_json(DEMO, "config.json", "--expand") + ls_json(DEMO, "model.safetensors",
                                                                  "--expand")
        by_path = {e["path"]: e for e in theirs["paths"]}
        self.assertEqual(sorted(by_path), ["config.json", "model.safetensors", "onnx"])
        for e in ours:
            self.assertEqual(e, by_path[e["path"]])


class LsMirrorTest(MirrorTestCase):
    """Failover and token origins with two endpoints."""

    def test_token_only_to_the_hub_origin_and_failover(self):
        tok = next(iter(self.hub.fixtures.tokens))
        # the first endpoint is down for the listing: the mirror answers,
        # without the token
        self.hub.faults([{"match": "/tree/", "action": {"status": 503}}])
        rc, out, err = self.run_cli("ls", DEMO, "-R", "--token", tok, "--retries", "0",
                                    "--endpoint", self.hub.url, "--endpoint", self.mirror.url,
                                    check=0)
        self.assertIn("config.json", out)
        self.assertTrue(all(r["auth"] for r in self.requests()))
        mirror = [r for r in self.mirror.log()]
        self.assertTrue(mirror)
        self.assertFalse(any(r["auth"] for r in mirror))


class LsProxyTest(CliTestCase):

    @unittest.skipUnless(shutil.which("tinyproxy"), "tinyproxy not installed")
    def test_through_an_http_proxy(self):
        from test_network import Proxy
        p = Proxy("tinyproxy")
        try:
            rc, out, err = self.run_cli("ls", DEMO, "--proxy", p.url("http"), check=0)
            self.assertIn("config.json", out)
            self.assertIn("/api/models/hubfetch/demo-model/tree/main", p.log())
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main()
