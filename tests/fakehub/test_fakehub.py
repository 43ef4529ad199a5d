#!/usr/bin/env python3
"""Tests of the fake hub itself, through raw http.client requests (stdlib unittest)."""

import gzip
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import unittest
from urllib.parse import quote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import DEFAULT_FIXTURES, FakeHub, FakeHubTestCase  # noqa: E402

DEMO = "hubfetch/demo-model"
ALICE = {"Authorization": "Bearer hf_alice"}
BOB = {"Authorization": "Bearer hf_bob"}
GATED_MSG = ("Access to model hubfetch/gated-model is restricted. You must have access to it"
             " and be authenticated to access it. Please log in.")


class Resp:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body)


class Base(FakeHubTestCase):
    fakehub_page_size = 10

    def request(self, method, target, headers=None, port=None, conn=None):
        """One request; returns Resp. Follows nothing."""
        own = conn is None
        if own:
            conn = http.client.HTTPConnection("127.0.0.1", port or self.hub.hub_port, timeout=10)
        try:
            conn.request(method, target, headers=headers or {})
            r = conn.getresponse()
            return Resp(r, r.read())
        finally:
            if own:
                conn.close()

    def get(self, target, headers=None, port=None):
        return self.request("GET", target, headers, port)

    def head(self, target, headers=None, port=None):
        return self.request("HEAD", target, headers, port)

    def tree_pages(self, target, headers=None):
        pages = []
        while target:
            r = self.get(target, headers)
            self.assertEqual(r.status, 200, r.body)
            pages.append(r.json())
            link = r.header("Link")
            if link is None:
                break
            url, rel = link.split(">; ")
            self.assertEqual(rel, 'rel="next"')
            u = urlsplit(url[1:])
            self.assertEqual((u.scheme, u.netloc), ("http", f"127.0.0.1:{self.hub.hub_port}"))
            target = u.path + "?" + u.query
        return pages

    def cdn_target(self, location):
        """Path+query of an absolute CDN Location, asserting it points at our CDN."""
        u = urlsplit(location)
        self.assertEqual((u.scheme, u.hostname, u.port), ("http", "127.0.0.1", self.hub.cdn_port))
        return u.path + "?" + u.query

    def file(self, path, rev="main", repo=DEMO, repo_type="model"):
        return self.hub.fixtures.repo(repo, repo_type).resolve(rev).files[path]

    def sha(self, rev="main", repo=DEMO, repo_type="model"):
        return self.hub.fixtures.repo(repo, repo_type).resolve(rev).sha

    def lfs_location(self, path, repo=DEMO, headers=None):
        r = self.head(f"/{repo}/resolve/main/{path}", headers)
        self.assertEqual(r.status, 302)
        return self.cdn_target(r.header("Location"))

    def assert_hub_error(self, r, status, code, message):
        self.assertEqual(r.status, status)
        self.assertEqual(r.header("X-Error-Code"), code)
        self.assertEqual(r.header("X-Error-Message"), message)
        self.assertTrue(r.header("X-Request-Id"))
        if r.body:
            self.assertEqual(r.json(), {"error": message})


class TestResolve(Base):
    def test_git_file_is_a_relative_307_to_resolve_cache(self):
        f, sha = self.file("config.json"), self.sha()
        for method in ("HEAD", "GET"):
            r = self.request(method, f"/{DEMO}/resolve/main/config.json")
            self.assertEqual(r.status, 307)
            loc = r.header("Location")
            self.assertEqual(loc, f"/api/resolve-cache/models/{DEMO}/{sha}/config.json"
                                  f"?%2Fhubfetch%2Fdemo-model%2Fresolve%2Fmain%2Fconfig.json="
                                  f"&etag=%22{f.oid}%22")
            self.assertEqual(r.header("X-Repo-Commit"), sha)
            self.assertIsNone(r.header("ETag"))  # only after following it
            self.assertEqual(r.header("RateLimit"), '"resolvers";r=2999;t=300')
            self.assertTrue(r.header("X-Request-Id"))
            body = f"Temporary Redirect. Redirecting to {loc}".encode()
            self.assertEqual(int(r.header("Content-Length")), len(body))
            self.assertEqual(r.body, body if method == "GET" else b"")
        # The target, with its query (RFC 3986) or without it (huggingface_hub's quirk).
        for target in (loc, loc.split("?")[0]):
            for method in ("HEAD", "GET"):
                r = self.request(method, target)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.header("ETag"), f'"{f.oid}"')
                self.assertEqual(r.header("X-Repo-Commit"), sha)
                self.assertEqual(int(r.header("Content-Length")), f.size)
                self.assertEqual(r.header("Accept-Ranges"), "bytes")
                self.assertTrue(r.header("Content-Type"))
                self.assertEqual(r.body, f.read() if method == "GET" else b"")
        self.assertEqual(f.oid, hashlib.sha1(b"blob %d\0" % f.size + f.read()).hexdigest())

    def test_lfs_file_is_an_absolute_302_to_the_cdn(self):
        f, sha = self.file("model.safetensors"), self.sha()
        content = f.read()
        digest = hashlib.sha256(content).hexdigest()
        self.assertEqual(len(content), 32 << 20)
        for method in ("HEAD", "GET"):
            r = self.request(method, f"/{DEMO}/resolve/main/model.safetensors")
            self.assertEqual(r.status, 302)
            loc = r.header("Location")
            self.assertTrue(loc.startswith(f"http://127.0.0.1:{self.hub.cdn_port}/repos/"
                                           f"{digest[:2]}/{digest[2:4]}/{digest}?expires="))
            self.assertEqual(r.header("X-Linked-Etag"), f'"{digest}"')
            # the redirect's own ETag: never the file's
            self.assertNotIn(digest, r.header("ETag"))
            self.assertEqual(r.header("X-Linked-Size"), str(f.size))
            self.assertEqual(r.header("X-Repo-Commit"), sha)
            body = f"Found. Redirecting to {loc}".encode()
            self.assertEqual(int(r.header("Content-Length")), len(body))
            self.assertEqual(r.body, body if method == "GET" else b"")
        r = self.get(self.cdn_target(loc), port=self.hub.cdn_port)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, content)
        self.assertEqual(int(r.header("Content-Length")), f.size)
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertEqual(r.header("Content-Type"), "application/octet-stream")
        self.assertEqual(r.header("Content-Disposition"),
                         "inline; filename*=UTF-8''model.safetensors; filename=\"model.safetensors\";")
        self.assertNotIn(digest, r.header("ETag"))
        # Every 1 MiB block differs: it starts with its index.
        self.assertEqual(content[3 << 20:(3 << 20) + 8], (3).to_bytes(8, "little"))
        self.assertEqual(content[(3 << 20) + 8:4 << 20], content[8:1 << 20])
        # The pointer file and its git oid are what a tree listing reports.
        pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{digest}\nsize {f.size}\n"
        self.assertEqual(f.oid, hashlib.sha1(b"blob %d\0" % len(pointer) + pointer.encode()).hexdigest())

    def test_xet_file_headers_tree_and_token(self):
        # §2.2, §9: a Xet-stored file redirects like LFS plus X-Xet-Hash and Link rels; the
        # tree lists its xetHash; the token route answers with the CAS headers.
        f, sha = self.file("model.safetensors"), self.sha()
        self.assertRegex(f.xet_hash, "^[0-9a-f]{64}$")
        self.assertNotEqual(f.xet_hash, f.sha256)
        r = self.head(f"/{DEMO}/resolve/main/model.safetensors")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header("X-Xet-Hash"), f.xet_hash)
        self.assertEqual(r.header("X-Linked-Etag"), f'"{f.sha256}"')
        token_url = f"{self.hub.url}/api/models/{DEMO}/xet-read-token/{sha}"
        link = r.header("Link")
        self.assertIn(f'<{token_url}>; rel="xet-auth"', link)
        self.assertRegex(link, rf'<[^>]*/v1/reconstructions/{f.xet_hash}>; rel="xet-reconstruction-info"')
        for plain in ("onnx/model.onnx", "config.json"):
            r = self.head(f"/{DEMO}/resolve/main/{plain}")
            self.assertIsNone(r.header("X-Xet-Hash"), plain)
            self.assertIsNone(r.header("Link"), plain)
        entries = {e["path"]: e for p in self.tree_pages(
            f"/api/models/{DEMO}/tree/main?recursive=true") for e in p}
        self.assertEqual(entries["model.safetensors"]["xetHash"], f.xet_hash)
        self.assertNotIn("xetHash", entries["onnx/model.onnx"])
        r = self.get(urlsplit(token_url).path)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("X-Xet-Cas-Url") and r.header("X-Xet-Access-Token"))
        self.assertGreater(int(r.header("X-Xet-Token-Expiration")), time.time())
        self.assertEqual(r.json()["accessToken"], r.header("X-Xet-Access-Token"))
        self.assertEqual(self.get(f"/api/models/{DEMO}/xet-read-token/nope").status, 404)

    def test_renamed_and_miscased_repos_redirect_to_the_canonical_id(self):
        # §1.5, §2.2: a relative 307 that keeps the rest of the path and the query.
        for old in ("hubfetch/old-demo-model", "HubFetch/DEMO-model"):
            for method in ("HEAD", "GET"):
                r = self.request(method, f"/{old}/resolve/main/config.json")
                self.assertEqual(r.status, 307, (old, method))
                self.assertEqual(r.header("Location"), f"/{DEMO}/resolve/main/config.json")
            r = self.get(f"/api/models/{old}/tree/main?recursive=true&expand=false")
            self.assertEqual(r.status, 307)
            self.assertEqual(r.header("Location"),
                             f"/api/models/{DEMO}/tree/main?recursive=true&expand=false")
            r = self.get(f"/api/models/{old}")
            self.assertEqual((r.status, r.header("Location")), (307, f"/api/models/{DEMO}"))
        # the canonical id is not redirected; an unknown one is still not found
        self.assertEqual(self.head(f"/{DEMO}/resolve/main/config.json").status, 307)
        self.assertTrue(self.head(f"/{DEMO}/resolve/main/config.json")
                        .header("Location").startswith("/api/resolve-cache/"))
        self.assertEqual(self.head("/hubfetch/nope/resolve/main/config.json").status, 401)
        # a private repo is only redirected for someone who may see it
        private = "HubFetch/Private-Model/resolve/main/config.json"
        self.assertEqual(self.head("/" + private).status, 401)
        r = self.head("/" + private, ALICE)
        self.assertEqual((r.status, r.header("Location")),
                         (307, "/hubfetch/private-model/resolve/main/config.json"))

    def test_files_served_directly(self):
        cases = [
            ("hubfetch/private-model", "config.json", ALICE),  # private
            ("hubfetch/gated-model", "config.json", ALICE),  # gated
            ("gpt2", "config.json", {}),  # canonical (no namespace)
            (DEMO, "empty.txt", {}),  # 0-byte file
        ]
        for repo, path, headers in cases:
            with self.subTest(repo=repo, path=path):
                f = self.file(path, repo=repo)
                for method in ("HEAD", "GET"):
                    r = self.request(method, f"/{repo}/resolve/main/{path}", headers)
                    self.assertEqual(r.status, 200)
                    self.assertEqual(r.header("ETag"), f'"{f.oid}"')
                    self.assertEqual(r.header("X-Repo-Commit"), self.sha(repo=repo))
                    self.assertEqual(int(r.header("Content-Length")), f.size)
                    self.assertEqual(r.header("Accept-Ranges"), "bytes")
                    self.assertEqual(r.body, f.read() if method == "GET" else b"")
        self.assertEqual(self.file("empty.txt").oid, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
        # LFS files of private repos still go to the CDN.
        self.lfs_location("model.safetensors", "hubfetch/private-model", ALICE)

    def test_revisions(self):
        v1, main, pr = self.sha("v1.0"), self.sha("main"), self.sha("refs/pr/1")
        self.assertEqual(len({v1, main, pr}), 3)
        cases = {"v1.0": v1, "refs%2Ftags%2Fv1.0": v1, "main": main, "refs%2Fheads%2Fmain": main,
                 main: main, main[:7]: main, main[:7].upper(): main, v1: v1,
                 "refs%2Fpr%2F1": pr, "refs/pr/1": pr}
        for rev, commit in cases.items():
            with self.subTest(rev=rev):
                r = self.head(f"/{DEMO}/resolve/{rev}/config.json")
                self.assertEqual(r.status, 307)
                self.assertEqual(r.header("X-Repo-Commit"), commit)
                r = self.get(r.header("Location"))
                self.assertEqual(r.body, self.file("config.json", commit).read())
        self.assertNotEqual(self.file("config.json", "v1.0").read(), self.file("config.json").read())
        self.assertNotIn("onnx/model.onnx", self.hub.fixtures.repo(DEMO).resolve("v1.0").files)
        self.assertIn("PR_NOTE.md", self.hub.fixtures.repo(DEMO).resolve("refs/pr/1").files)

    def test_paths_and_repo_types(self):
        path = "docs/read me é.md"
        f = self.file(path)
        r = self.head(f"/{DEMO}/resolve/main/{quote(path)}")
        self.assertEqual(r.status, 307)
        self.assertIn("/docs/read%20me%20%C3%A9.md?", r.header("Location"))
        self.assertEqual(self.get(r.header("Location")).body, f.read())
        for prefix, repo, path in (("datasets/", "hubfetch/demo-data", "data/train.csv"),
                                   ("spaces/", "hubfetch/demo-space", "app.py")):
            repo_type = prefix[:-2]
            f = self.file(path, repo=repo, repo_type=repo_type)
            r = self.head(f"/{prefix}{repo}/resolve/main/{path}")
            self.assertEqual(r.status, 307)
            self.assertTrue(r.header("Location").startswith(f"/api/resolve-cache/{prefix}{repo}/"))
            self.assertEqual(self.get(r.header("Location")).body, f.read())
            # Without the prefix it is a (missing) model.
            self.assertEqual(self.head(f"/{repo}/resolve/main/{path}").header("X-Error-Code"), "RepoNotFound")
        conv = self.head("/datasets/hubfetch/demo-data/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet")
        self.assertEqual(conv.header("X-Repo-Commit"), self.sha("refs/convert/parquet", "hubfetch/demo-data", "dataset"))
        self.assertEqual(self.get(conv.header("Location")).body,
                         self.file("default/train/0000.parquet", "refs/convert/parquet", "hubfetch/demo-data",
                                   "dataset").read())

    def test_hostile_paths_are_served_verbatim(self):
        tree = self.get("/api/models/hubfetch/evil-model/tree/main?recursive=true")
        paths = [e["path"] for e in tree.json()]
        for path in ("../escape.txt", "/abs/path.txt", "a/../../b.txt", "n" * 296 + ".txt"):
            self.assertIn(path, paths)
            f = self.file(path, repo="hubfetch/evil-model")
            r = self.head(f"/hubfetch/evil-model/resolve/main/{path}")
            self.assertEqual(r.status, 307, path)
            self.assertEqual(self.get(r.header("Location")).body, f.read(), path)

    def test_ranges(self):
        f = self.file("model.safetensors")
        cdn = self.lfs_location("model.safetensors")
        git = self.head(f"/{DEMO}/resolve/main/config.json").header("Location")
        g = self.file("config.json")
        for target, port, file in ((cdn, self.hub.cdn_port, f), (git, self.hub.hub_port, g)):
            total = file.size
            cases = {"bytes=0-9": (0, 9), "bytes=5-": (5, total - 1), "bytes=-7": (total - 7, total - 1),
                     f"bytes=3-{total + 100}": (3, total - 1)}
            if file is f:  # across a 1 MiB block boundary
                cases["bytes=1048570-1048600"] = (1048570, 1048600)
            for rng, (a, b) in cases.items():
                with self.subTest(target=target[:30], range=rng):
                    r = self.request("GET", target, {"Range": rng}, port)
                    self.assertEqual(r.status, 206)
                    self.assertEqual(r.header("Content-Range"), f"bytes {a}-{b}/{total}")
                    self.assertEqual(int(r.header("Content-Length")), b - a + 1)
                    self.assertEqual(r.body, file.read(a, b + 1))
            for rng in (f"bytes={total}-", f"bytes={total + 5}-{total + 9}", "bytes=-0"):
                r = self.request("GET", target, {"Range": rng}, port)
                self.assertEqual(r.status, 416, rng)
                self.assertEqual(r.header("Content-Range"), f"bytes */{total}")
            # Multi-range is ignored (RFC 9110 allows it): whole body.
            r = self.request("GET", target, {"Range": "bytes=0-1,5-6"}, port)
            self.assertEqual((r.status, len(r.body)), (200, total))
        r = self.request("GET", f"/{DEMO}/resolve/main/empty.txt", {"Range": "bytes=0-"})
        self.assertEqual((r.status, r.header("Content-Range")), (416, "bytes */0"))

    def test_gzip(self):
        f = self.file("config.json")
        loc = self.head(f"/{DEMO}/resolve/main/config.json").header("Location")
        for target in (loc, "/gpt2/resolve/main/config.json"):
            f = self.file("config.json", repo="gpt2" if target.startswith("/gpt2") else DEMO)
            r = self.get(target, {"Accept-Encoding": "gzip, deflate, br"})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Encoding"), "gzip")
            self.assertEqual(r.header("Transfer-Encoding"), "chunked")
            self.assertIsNone(r.header("Content-Length"))
            self.assertEqual(gzip.decompress(r.body), f.read())
            for headers in ({"Accept-Encoding": "gzip", "Range": "bytes=0-"},
                            {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0"}, {}):
                r = self.get(target, headers)
                self.assertIsNone(r.header("Content-Encoding"), headers)
                self.assertEqual(r.body, f.read())
        r = self.get(self.lfs_location("onnx/model.onnx"), {"Accept-Encoding": "gzip"}, self.hub.cdn_port)
        self.assertIsNone(r.header("Content-Encoding"))
        self.assertEqual(r.body, self.file("onnx/model.onnx").read())


class TestApi(Base):
    def test_pagination(self):
        commit = self.hub.fixtures.repo("hubfetch/paged").resolve("main")
        pages = self.tree_pages("/api/models/hubfetch/paged/tree/main?recursive=true&expand=false")
        self.assertEqual([len(p) for p in pages], [10, 10, 6])
        entries = [e for p in pages for e in p]
        self.assertEqual([e["path"] for e in entries],
                         sorted(list(commit.files) + ["sub"]))
        self.assertEqual(entries[[e["path"] for e in entries].index("sub")],
                         {"type": "directory", "path": "sub", "oid": commit.tree_oid("sub"), "size": 0})
        # Top level only without recursive=true.
        pages = self.tree_pages("/api/models/hubfetch/paged/tree/main")
        self.assertEqual([len(p) for p in pages], [10, 10, 2])
        self.assertFalse(any("/" in e["path"] for p in pages for e in p))
        self.assertEqual([e["path"] for e in self.get("/api/models/hubfetch/paged/tree/main/sub").json()],
                         [f"sub/file-{i:04d}.txt" for i in range(4)])
        # A nested sub-path, spelled as Python (%2F) and JS (raw) send it.
        for sub in ("nested%2Fdeep", "nested/deep"):
            pages = self.tree_pages(f"/api/models/hubfetch/many-files/tree/main/{sub}")
            paths = [e["path"] for p in pages for e in p]
            self.assertEqual(len(paths), 250)
            self.assertTrue(all(p.startswith("nested/deep/") for p in paths))
        r = self.get("/api/models/hubfetch/paged/tree/main/nope")
        self.assert_hub_error(r, 404, "EntryNotFound", "Entry not found")
        self.assertEqual(self.get("/api/models/hubfetch/paged/tree/main?cursor=%21").status, 400)
        # many-files: 1,000 files in 4 folders (+ README.md and 5 directories).
        pages = self.tree_pages("/api/models/hubfetch/many-files/tree/main?recursive=true")
        entries = [e for p in pages for e in p]
        files = [e for e in entries if e["type"] == "file"]
        self.assertEqual((len(pages), len(files), len(entries)), (101, 1001, 1006))
        self.assertEqual(sum(1 for e in files if "lfs" in e), 500)
        self.assertTrue(all(1024 <= e["size"] <= 65536 for e in files if e["path"] != "README.md"))

    def test_tree_entries(self):
        commit = self.hub.fixtures.repo(DEMO).resolve("main")
        entries = {e["path"]: e for p in self.tree_pages(
            f"/api/models/{DEMO}/tree/refs%2Fpr%2F1?recursive=true") for e in p}
        self.assertIn("PR_NOTE.md", entries)
        entries = {e["path"]: e for p in self.tree_pages(
            f"/api/models/{DEMO}/tree/main?recursive=true&expand=false") for e in p}
        self.assertEqual(set(entries), set(commit.files) | {"docs", "onnx", "tokenizer"})
        f = commit.files["onnx/model.onnx"]
        self.assertEqual(entries["onnx/model.onnx"], {
            "type": "file", "path": "onnx/model.onnx", "oid": f.oid, "size": 1 << 20,
            "lfs": {"oid": hashlib.sha256(f.read()).hexdigest(), "size": 1 << 20,
                    "pointerSize": len(f.pointer)}})
        g = commit.files["config.json"]
        self.assertEqual(entries["config.json"],
                         {"type": "file", "path": "config.json", "oid": g.oid, "size": g.size})
        self.assertEqual(entries["onnx"]["type"], "directory")
        self.assertRegex(entries["onnx"]["oid"], "^[0-9a-f]{40}$")

    def test_repo_info(self):
        main = self.sha()
        for target, sha in ((f"/api/models/{DEMO}", main), (f"/api/models/{DEMO}/revision/main", main),
                            (f"/api/models/{DEMO}/revision/v1.0", self.sha("v1.0")),
                            (f"/api/models/{DEMO}/revision/refs%2Fpr%2F1", self.sha("refs/pr/1")),
                            (f"/api/models/{DEMO}/revision/{main}", main)):
            r = self.get(target)
            self.assertEqual(r.status, 200, target)
            info = r.json()
            self.assertEqual((info["id"], info["sha"], info["private"], info["gated"], info["disabled"]),
                             (DEMO, sha, False, False, False))
            files = self.hub.fixtures.repo(DEMO).resolve(sha).files
            self.assertEqual([s["rfilename"] for s in info["siblings"]], list(files))
            self.assertRegex(info["_id"], "^[0-9a-f]{24}$")
            self.assertRegex(info["lastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        info = self.get(f"/api/models/{DEMO}?blobs=true").json()
        sib = {s["rfilename"]: s for s in info["siblings"]}
        f = self.file("model.safetensors")
        self.assertEqual(sib["model.safetensors"], {
            "rfilename": "model.safetensors", "size": f.size, "blobId": f.oid,
            "lfs": {"sha256": f.sha256, "size": f.size, "pointerSize": len(f.pointer)}})
        self.assertEqual(sib["config.json"], {"rfilename": "config.json", "size": self.file("config.json").size,
                                              "blobId": self.file("config.json").oid})
        for t, repo in (("datasets", "hubfetch/demo-data"), ("spaces", "hubfetch/demo-space")):
            info = self.get(f"/api/{t}/{repo}/revision/main").json()
            self.assertEqual(info["sha"], self.sha(repo=repo, repo_type=t[:-1]))
        info = self.get("/api/models/hubfetch/gated-model").json()  # listing a gated repo is public
        self.assertEqual(info["gated"], "manual")
        self.assertTrue(self.get("/api/models/hubfetch/private-model", ALICE).json()["private"])
        self.assertEqual(self.get("/api/models/gpt2/revision/main").json()["id"], "gpt2")

    def test_refs(self):
        refs = self.get(f"/api/models/{DEMO}/refs").json()
        self.assertEqual(refs, {
            "branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": self.sha()}],
            "converts": [],
            "tags": [{"name": "v1.0", "ref": "refs/tags/v1.0", "targetCommit": self.sha("v1.0")}]})
        refs = self.get(f"/api/models/{DEMO}/refs?include_prs=1").json()
        self.assertEqual(refs["pullRequests"],
                         [{"name": "refs/pr/1", "ref": "refs/pr/1", "targetCommit": self.sha("refs/pr/1")}])
        self.assertEqual(self.get("/api/models/gpt2/refs").json()["branches"][0]["targetCommit"],
                         "607a30d783dfa663caf39e06633721c8d4cfcd7e")  # explicit "sha" in the fixture
        data = "hubfetch/demo-data"
        refs = self.get(f"/api/datasets/{data}/refs").json()
        self.assertEqual(refs["converts"], [{"name": "parquet", "ref": "refs/convert/parquet",
                                             "targetCommit": self.sha("refs/convert/parquet", data, "dataset")}])


class TestErrors(Base):
    def test_repo_access(self):
        cases = [
            # (repo, headers, download status, download code, api status)
            ("hubfetch/nope", {}, 401, "RepoNotFound", 401),
            ("hubfetch/nope", BOB, 404, "RepoNotFound", 404),
            ("hubfetch/private-model", {}, 401, "RepoNotFound", 401),
            ("hubfetch/private-model", BOB, 404, "RepoNotFound", 404),
            ("hubfetch/gated-model", {}, 401, "GatedRepo", 200),
            ("hubfetch/gated-model", BOB, 403, "GatedRepo", 200),
            ("nope", {}, 401, "RepoNotFound", 401),
        ]
        messages = {401: "Invalid username or password.", 404: "Repository not found"}
        for repo, headers, status, code, api_status in cases:
            with self.subTest(repo=repo, headers=headers):
                message = GATED_MSG if code == "GatedRepo" else messages[status]
                for method in ("HEAD", "GET"):
                    r = self.request(method, f"/{repo}/resolve/main/config.json", headers)
                    self.assert_hub_error(r, status, code, message)
                for target in (f"/api/models/{repo}", f"/api/models/{repo}/revision/main",
                               f"/api/models/{repo}/tree/main", f"/api/models/{repo}/refs"):
                    r = self.get(target, headers)
                    self.assertEqual(r.status, api_status, target)
                    if api_status != 200:
                        self.assert_hub_error(r, status, code, message)
        for repo in ("hubfetch/private-model", "hubfetch/gated-model"):
            self.assertEqual(self.get(f"/{repo}/resolve/main/config.json", ALICE).status, 200)

    def test_invalid_token(self):
        for headers in ({"Authorization": "Bearer hf_mallory"}, {"Authorization": "Basic aGk6aGk="}):
            for target in (f"/{DEMO}/resolve/main/config.json", f"/api/models/{DEMO}",
                           "/hubfetch/private-model/resolve/main/config.json"):
                r = self.get(target, headers)
                self.assert_hub_error(r, 401, None, "Invalid credentials in Authorization header")

    def test_revision_and_entry_not_found(self):
        for target, rev in ((f"/{DEMO}/resolve/nope/config.json", "nope"),
                            (f"/api/models/{DEMO}/revision/nope", "nope"),
                            (f"/api/models/{DEMO}/tree/nope", "nope"),
                            (f"/{DEMO}/resolve/{'0' * 40}/config.json", "0" * 40),
                            (f"/{DEMO}/resolve/refs%2Fpr%2F9/config.json", "refs/pr/9")):
            r = self.get(target)
            self.assert_hub_error(r, 404, "RevisionNotFound", f"Invalid rev id: {rev}")
            self.assertIsNone(r.header("X-Repo-Commit"))
        for rev in ("main", "v1.0"):
            for method in ("HEAD", "GET"):
                r = self.request(method, f"/{DEMO}/resolve/{rev}/missing.bin")
                self.assert_hub_error(r, 404, "EntryNotFound", "Entry not found")
                self.assertEqual(r.header("X-Repo-Commit"), self.sha(rev))
        # onnx/model.onnx does not exist at v1.0.
        r = self.head(f"/{DEMO}/resolve/v1.0/onnx/model.onnx")
        self.assertEqual((r.status, r.header("X-Error-Code")), (404, "EntryNotFound"))

    def test_cdn_refuses_authorization(self):
        target = self.lfs_location("onnx/model.onnx")
        r = self.get(target, ALICE, self.hub.cdn_port)
        self.assertEqual(r.status, 400)
        self.assertIn(b"<Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message>", r.body)
        log = self.hub.log()
        self.assertEqual((log[-1]["server"], log[-1]["auth"], log[-1]["status"]), ("cdn", True, 400))

    def test_cdn_signature_and_expiry(self):
        target = self.lfs_location("onnx/model.onnx")
        self.assertEqual(self.get(target, port=self.hub.cdn_port).status, 200)
        bad = target[:-1] + ("0" if target[-1] != "0" else "1")
        r = self.get(bad, port=self.hub.cdn_port)
        self.assertEqual(r.status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", r.body)
        self.hub.faults([{"match": "onnx", "server": "hub", "action": {"expire_links": True}}])
        expired = self.lfs_location("onnx/model.onnx")
        r = self.get(expired, port=self.hub.cdn_port)
        self.assertEqual(r.status, 403)
        self.assertIn(b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", r.body)
        self.assertEqual(self.hub.log()[-2]["fault"], "expire_links")

    def test_link_ttl(self):
        with FakeHub(page_size=10, extra_args=["--cdn-link-ttl", "1"]) as hub:
            conn = http.client.HTTPConnection("127.0.0.1", hub.hub_port, timeout=10)
            conn.request("HEAD", "/gpt2/resolve/main/model.safetensors")
            target = self.cdn_target_of(hub, conn.getresponse().getheader("Location"))
            conn.close()
            self.assertEqual(self.get(target, port=hub.cdn_port).status, 200)
            time.sleep(2.1)
            self.assertEqual(self.get(target, port=hub.cdn_port).status, 403)

    @staticmethod
    def cdn_target_of(hub, location):
        u = urlsplit(location)
        assert u.port == hub.cdn_port
        return u.path + "?" + u.query

    def test_unknown_cdn_object(self):
        r = self.get("/repos/00/00/" + "0" * 64 + "?expires=1&sig=x", port=self.hub.cdn_port)
        self.assertEqual(r.status, 404)
        self.assertIn(b"NoSuchKey", r.body)


class TestFaults(Base):
    def raw_get(self, target, port, headers=""):
        """GET on a raw socket; returns (header block, body bytes, error or None)."""
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        data, error = b"", None
        try:
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        except OSError as e:
            error = e
        finally:
            s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return head.decode(), body, error

    def test_status_times_skip_and_counters(self):
        self.hub.faults([{"match": "config\\.json", "method": "HEAD", "skip": 1, "times": 2,
                          "action": {"status": 503, "headers": {"Retry-After": "1"}}}])
        statuses = [self.head(f"/{DEMO}/resolve/main/config.json").status for _ in range(4)]
        self.assertEqual(statuses, [307, 503, 503, 307])
        self.assertEqual(self.get(f"/{DEMO}/resolve/main/config.json").status, 307)  # method filter
        rule = self.hub.control()["faults"][0]
        self.assertEqual((rule["matched"], rule["applied"]), (4, 2))
        r = self.request("HEAD", f"/{DEMO}/resolve/main/config.json")
        log = self.hub.log()
        self.assertEqual([e["fault"] for e in log], [None, "status", "status", None, None, None])
        self.hub.faults([{"match": "", "server": "cdn", "times": 1,
                          "action": {"status": 429, "headers": {"RateLimit": '"api";r=0;t=1'},
                                     "body": "slow down"}}])
        self.assertEqual(self.head(f"/{DEMO}/resolve/main/config.json").status, 307)  # hub untouched
        target = self.lfs_location("onnx/model.onnx")
        r = self.get(target, port=self.hub.cdn_port)
        self.assertEqual((r.status, r.header("RateLimit"), r.body), (429, '"api";r=0;t=1', b"slow down"))
        self.assertEqual(self.get(target, port=self.hub.cdn_port).status, 200)
        self.hub.reset()
        self.assertEqual(self.hub.control()["faults"], [])
        # Rules are validated.
        with self.assertRaises(Exception):
            self.hub.faults([{"match": "x", "action": {"explode": True}}])

    def test_drop_after(self):
        target = self.lfs_location("model.safetensors")
        self.hub.clear_log()
        self.hub.faults([{"match": "/repos/", "times": 1, "action": {"drop_after": 100000}}])
        head, body, error = self.raw_get(target, self.hub.cdn_port)
        self.assertIn("200 OK", head)
        self.assertIn(f"Content-Length: {32 << 20}", head)
        self.assertEqual(body, self.file("model.safetensors").read(0, 100000))
        self.assertIsInstance(error, ConnectionResetError)
        (entry,) = self.hub.log()
        self.assertEqual((entry["bytes"], entry["fault"], entry["status"]), (100000, "drop_after", 200))
        # Second request is not affected (times=1).
        r = self.get(target, {"Range": "bytes=100000-"}, self.hub.cdn_port)
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, self.file("model.safetensors").read(100000))
        # On a HEAD the connection is reset before any response.
        self.hub.faults([{"match": "resolve", "action": {"drop_after": 0}}])
        with self.assertRaises((ConnectionError, http.client.RemoteDisconnected)):
            self.head(f"/{DEMO}/resolve/main/config.json")
        self.assertIsNone(self.hub.log()[-1]["status"])

    def test_stall_after(self):
        target = self.head(f"/{DEMO}/resolve/main/tokenizer.json").header("Location")
        self.hub.faults([{"match": "resolve-cache", "action": {"stall_after": 10, "stall_ms": 500}}])
        t0 = time.monotonic()
        head, body, error = self.raw_get(target, self.hub.hub_port)
        self.assertGreaterEqual(time.monotonic() - t0, 0.45)
        self.assertIn("200 OK", head)
        self.assertEqual(body, self.file("tokenizer.json").read(0, 10))
        entry = self.hub.log()[-1]
        self.assertEqual((entry["bytes"], entry["fault"]), (10, "stall_after"))

    def test_corrupt(self):
        f = self.file("model.safetensors")
        target = self.lfs_location("model.safetensors")
        self.hub.faults([{"match": "/repos/", "times": 1, "action": {"corrupt": True}}])
        r = self.get(target, {"Range": "bytes=1000-2999"}, self.hub.cdn_port)
        expected = bytearray(f.read(1000, 3000))
        expected[1000] ^= 0xFF
        self.assertEqual((r.status, r.body), (206, bytes(expected)))
        self.hub.faults([{"match": "/repos/", "times": 1, "action": {"corrupt_at": 5 << 20}}])
        r = self.get(target, {"Range": f"bytes={4 << 20}-"}, self.hub.cdn_port)
        body = r.body
        self.assertEqual(len(body), 28 << 20)
        self.assertEqual(body[1 << 20], f.read(5 << 20, (5 << 20) + 1)[0] ^ 0xFF)
        self.assertEqual(body[:1 << 20] + body[(1 << 20) + 1:],
                         f.read(4 << 20, 5 << 20) + f.read((5 << 20) + 1))
        self.assertEqual(self.hub.log()[-1]["fault"], "corrupt_at")

    def test_range_quirks(self):
        f = self.file("onnx/model.onnx")
        target = self.lfs_location("onnx/model.onnx")
        self.hub.faults([{"match": "/repos/", "times": 1, "action": {"ignore_range": True}}])
        r = self.get(target, {"Range": "bytes=10-"}, self.hub.cdn_port)
        self.assertEqual((r.status, r.header("Content-Range"), r.body), (200, None, f.read()))
        self.hub.faults([{"match": "/repos/", "times": 1, "action": {"no_content_range": True}}])
        r = self.get(target, {"Range": "bytes=10-"}, self.hub.cdn_port)
        self.assertEqual((r.status, r.header("Content-Range"), r.body), (206, None, f.read(10)))
        self.hub.faults([{"match": "/repos/", "times": 1, "action": {"no_content_length": True}}])
        head, body, error = self.raw_get(target, self.hub.cdn_port, "Range: bytes=10-\r\n")
        self.assertNotIn("Content-Length", head)
        self.assertNotIn("Transfer-Encoding", head)
        self.assertIn("Connection: close", head)
        self.assertEqual((body, error), (f.read(10), None))
        # no_content_length on a gzip response: close-delimited gzip.
        loc = self.head(f"/{DEMO}/resolve/main/config.json").header("Location")
        self.hub.faults([{"match": "resolve-cache", "action": {"no_content_length": True}}])
        head, body, error = self.raw_get(loc, self.hub.hub_port, "Accept-Encoding: gzip\r\n")
        self.assertIn("Content-Encoding: gzip", head)
        self.assertNotIn("chunked", head)
        self.assertEqual(gzip.decompress(body), self.file("config.json").read())

    def test_rate(self):
        target = self.lfs_location("model.safetensors", "gpt2")
        self.hub.faults([{"match": "/repos/", "action": {"rate": 200000}}])
        t0 = time.monotonic()
        r = self.get(target, port=self.hub.cdn_port)
        elapsed = time.monotonic() - t0
        self.assertEqual(r.body, self.file("model.safetensors", repo="gpt2").read())
        self.assertGreater(elapsed, 65536 / 200000 * 0.8)
        self.assertEqual(self.hub.log()[-1]["fault"], "rate")

    def test_redirect(self):
        self.hub.faults([{"match": "^/hubfetch/", "server": "hub", "times": 1,
                          "action": {"redirect": "http://127.0.0.1:1/mirror/", "code": 308}}])
        r = self.head(f"/{DEMO}/resolve/main/config.json?x=1")
        self.assertEqual(r.status, 308)
        self.assertEqual(r.header("Location"), f"http://127.0.0.1:1/mirror/{DEMO}/resolve/main/config.json?x=1")
        self.assertEqual(self.head(f"/{DEMO}/resolve/main/config.json").status, 307)

    def test_combined_actions(self):
        target = self.lfs_location("onnx/model.onnx")
        self.hub.faults([{"match": "/repos/", "action": {"rate": 1000000, "drop_after": 200000}}])
        head, body, error = self.raw_get(target, self.hub.cdn_port)
        self.assertEqual(len(body), 200000)
        self.assertEqual(self.hub.log()[-1]["fault"], "drop_after+rate")


class TestLogAndLifecycle(Base):
    def test_log_lines(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.hub.hub_port, timeout=10)
        headers = {"Accept-Encoding": "identity", "User-Agent": "hubfetch-test/1", "Range": "bytes=0-4"}
        for _ in range(2):  # keep-alive: both on one connection
            r = self.request("GET", f"/{DEMO}/resolve/main/empty.txt", None, conn=conn)
            self.assertEqual(r.status, 200)
        r = self.request("GET", "/gpt2/resolve/main/config.json", headers, conn=conn)
        conn.close()
        self.hub.control()
        log = self.hub.log()
        self.assertEqual(len(log), 3)  # /_control is not logged
        self.assertEqual(len({e["client_port"] for e in log}), 1)
        e = log[-1]
        self.assertEqual({k: e[k] for k in e if k not in ("ts", "client_port")}, {
            "server": "hub", "method": "GET", "path": "/gpt2/resolve/main/config.json",
            "range": "bytes=0-4", "auth": False, "cookie": False, "status": 206, "bytes": 5, "fault": None,
            "accept_encoding": "identity", "ua": "hubfetch-test/1", "client_ip": "127.0.0.1"})
        self.assertLess(abs(e["ts"] - time.time()), 60)
        self.get(f"/{DEMO}/resolve/main/config.json", ALICE)
        self.assertTrue(self.hub.log()[-1]["auth"])
        self.hub.clear_log()
        self.assertEqual(self.hub.log(), [])

    def test_stdin_eof_and_sigterm_stop_the_server(self):
        for how in ("eof", "sigterm"):
            hub = FakeHub(page_size=10).start()
            try:
                if how == "eof":
                    hub.proc.stdin.close()
                else:
                    hub.proc.send_signal(signal.SIGTERM)
                self.assertEqual(hub.proc.wait(5), 0)
            finally:
                hub.stop()

    def test_fixed_ports(self):
        ports = []
        for _ in range(2):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                ports.append(s.getsockname()[1])
        args = ["--hub-port", str(ports[0]), "--cdn-port", str(ports[1])]
        with FakeHub(page_size=10, extra_args=args) as hub:
            self.assertEqual([hub.hub_port, hub.cdn_port], ports)
            self.assertEqual(hub.control()["cdn_port"], ports[1])

    def test_materialize_and_cdn_base(self):
        tmp = tempfile.mkdtemp()
        try:
            fixtures = os.path.join(tmp, "fixtures")
            os.mkdir(fixtures)
            for name in ("gpt2.json", "tokens.json"):
                shutil.copy(os.path.join(DEFAULT_FIXTURES, name), fixtures)
            objects = os.path.join(tmp, "objects")
            args = ["--materialize", objects, "--cdn-base", "http://cdn.invalid:8080/lfs/"]
            with FakeHub(fixtures, extra_args=args) as hub:
                f = hub.fixtures.repo("gpt2").resolve("main").files["model.safetensors"]
                with open(os.path.join(objects, f.sha256), "rb") as fh:
                    self.assertEqual(fh.read(), f.read())
                conn = http.client.HTTPConnection("127.0.0.1", hub.hub_port, timeout=10)
                conn.request("HEAD", "/gpt2/resolve/main/model.safetensors")
                r = conn.getresponse()
                self.assertEqual((r.status, r.getheader("Location")),
                                 (302, f"http://cdn.invalid:8080/lfs/{f.sha256}"))
                conn.close()
            self.assertEqual(os.listdir(objects), [f.sha256])
        finally:
            shutil.rmtree(tmp)

    def test_fixtures_are_deterministic(self):
        import fakehub
        a, b = fakehub.load_fixtures(DEFAULT_FIXTURES), self.hub.fixtures
        for key, repo in a.repos.items():
            self.assertEqual([c.sha for c in repo.commits], [c.sha for c in b.repos[key].commits])
        self.assertEqual(a.repo(DEMO).resolve("main").files["onnx/model.onnx"].sha256,
                         b.repo(DEMO).resolve("main").files["onnx/model.onnx"].sha256)


if __name__ == "__main__":
    unittest.main()
