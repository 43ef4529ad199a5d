#!/usr/bin/env python3
"""Tests of the fake hub's ModelScope side (--ms-fixtures), through raw http.client requests.

What is checked comes from /work/shared/reference/modelscope-protocol.md (§1.5-§1.9, §5 and
the Appendix of live server answers); README.md lists where the fake had to choose.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import unittest
import urllib.error
from urllib.parse import quote_plus, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakehub  # noqa: E402
from harness import DEFAULT_MS_FIXTURES, FakeHub, FakeHubTestCase  # noqa: E402

DEMO = "hubfetch/ms-demo"
DATA = "hubfetch/ms-data"
PRIVATE = "hubfetch/ms-private"
NOT_FOUND = 10990101007
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ALICE_COOKIE = {"Cookie": "m_session_id=ms_alice"}
ALICE_BEARER = {"Authorization": "Bearer ms_alice"}
BOB_COOKIE = {"Cookie": "m_session_id=ms_bob"}


class Resp:
    def __init__(self, r, body):
        self.status = r.status
        self.headers = r.headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body)


def files_url(repo, **query):
    return f"/api/v1/models/{repo}/repo/files?" + "&".join(f"{k}={v}" for k, v in query.items())


def download_url(repo, path, rev="master", repo_type="models"):
    # As the SDK builds it: both values quote_plus-encoded (§1.6).
    return f"/api/v1/{repo_type}/{repo}/repo?Revision={quote_plus(rev)}&FilePath={quote_plus(path)}"


class Base(FakeHubTestCase):
    fakehub_ms_fixtures = DEFAULT_MS_FIXTURES

    def request(self, method, target, headers=None, port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.hub.hub_port, timeout=10)
        try:
            conn.request(method, target, headers=headers or {})
            r = conn.getresponse()
            return Resp(r, r.read())
        finally:
            conn.close()

    def get(self, target, headers=None, port=None):
        return self.request("GET", target, headers, port)

    def head(self, target, headers=None, port=None):
        return self.request("HEAD", target, headers, port)

    def repo(self, repo_id=DEMO, repo_type="model"):
        return self.hub.ms_fixtures.repo(repo_id, repo_type)

    def commit(self, rev="master", repo_id=DEMO, repo_type="model"):
        return self.repo(repo_id, repo_type).resolve_ms(rev)

    def file(self, path, rev="master", repo_id=DEMO, repo_type="model"):
        return self.commit(rev, repo_id, repo_type).files[path]

    def ok(self, target, headers=None):
        """Data of a success envelope, after checking the envelope (§1.5)."""
        r = self.get(target, headers)
        self.assertEqual(r.status, 200, target)
        body = r.json()
        self.assertEqual(set(body), {"Code", "Data", "Message", "RequestId", "Success"})
        self.assertEqual((body["Code"], body["Message"], body["Success"]), (200, "success", True))
        self.assertRegex(body["RequestId"], UUID)
        self.assertEqual(r.header("X-Request-Id"), body["RequestId"])
        return body["Data"]

    def assert_ms_error(self, r, status, code=NOT_FOUND):
        """The live server's error body (Appendix): Code, Message, RequestId, Success false."""
        self.assertEqual(r.status, status)
        body = r.json()
        self.assertEqual(set(body), {"Code", "Message", "RequestId", "Success"})
        self.assertEqual((body["Code"], body["Success"]), (code, False))
        self.assertTrue(body["Message"])
        self.assertEqual(r.header("X-Request-Id"), body["RequestId"])
        return body

    def cdn_target(self, location):
        u = urlsplit(location)
        self.assertEqual((u.scheme, u.hostname, u.port), ("http", "127.0.0.1", self.hub.cdn_port))
        return u.path + "?" + u.query


class TestMetadata(Base):
    def test_model_info(self):
        for repo in (DEMO, "hubfetch/Qwen2.5-mini"):
            data = self.ok(f"/api/v1/models/{repo}")
            self.assertEqual(data["Id"], self.repo(repo).ms_id)
            self.assertIsInstance(data["Id"], int)
            self.assertEqual(data["Name"], repo.split("/")[1])
            self.assertEqual((data["Visibility"], data["Revision"]), (5, "master"))
            for key in ("ChineseName", "IsPublished", "IsOnline", "CreatedTime", "LastUpdatedTime",
                        "Tags", "Organization", "IsAccessible", "ModelType", "Tasks"):
                self.assertIn(key, data)
        self.assertEqual(self.ok(f"/api/v1/models/{DEMO}?Revision=v1.0")["Revision"], "v1.0")
        r = self.head(f"/api/v1/models/{DEMO}")
        self.assertEqual((r.status, r.body), (200, b""))
        self.assertGreater(int(r.header("Content-Length")), 0)
        private = self.ok(f"/api/v1/models/{PRIVATE}", ALICE_COOKIE)
        self.assertEqual(private["Visibility"], 1)

    def test_revisions(self):
        data = self.ok(f"/api/v1/models/{DEMO}/revisions")
        c = {rev: self.commit(rev) for rev in ("master", "v1.1", "v1.0")}
        self.assertEqual(data["RevisionMap"]["Branches"], [
            {"Revision": "master", "CreatedAt": c["master"].date, "CommitId": c["master"].sha,
             "Message": "Update vocabulary"}])
        tags = data["RevisionMap"]["Tags"]
        self.assertEqual([(t["Revision"], t["CommitId"]) for t in tags],
                         [("v1.1", c["v1.1"].sha), ("v1.0", c["v1.0"].sha)])  # newest first
        self.assertGreater(tags[0]["CreatedAt"], tags[1]["CreatedAt"])
        self.assertEqual(self.ok(f"/api/v1/models/{DEMO}/revisions?EndTime=1")["RevisionMap"]["Tags"],
                         tags)  # accepted, ignored
        self.assertEqual(self.ok("/api/v1/models/hubfetch/ms-big/revisions")["RevisionMap"]["Tags"], [])

    def test_listing_entries(self):
        master, v11, v10 = (self.commit(r) for r in ("master", "v1.1", "v1.0"))
        for recursive in ("True", "true"):
            data = self.ok(files_url(DEMO, Revision="master", Recursive=recursive))
            entries = {e["Path"]: e for e in data["Files"]}
            self.assertEqual(set(entries), set(master.files) | {"docs", "tokenizer"})
        self.assertEqual([e["Path"] for e in data["Files"]], sorted(entries))
        self.assertEqual(data["LatestCommitter"]["Id"], master.sha)
        f = master.files["model.safetensors"]
        self.assertEqual(entries["model.safetensors"], {
            "Name": "model.safetensors", "Path": "model.safetensors", "Type": "blob",
            "Size": 8 << 20, "Sha256": hashlib.sha256(f.read()).hexdigest(), "IsLFS": True,
            "Mode": "33188", "Revision": v10.sha, "CommitMessage": "Initial upload",
            "CommittedDate": v10.date, "CommitterName": "hubfetch", "InCheck": False})
        vocab = entries["tokenizer/vocab.txt"]
        self.assertEqual((vocab["Name"], vocab["IsLFS"], vocab["Size"], vocab["Sha256"]),
                         ("vocab.txt", False, master.files["tokenizer/vocab.txt"].size,
                          hashlib.sha256(master.files["tokenizer/vocab.txt"].read()).hexdigest()))
        self.assertEqual(entries["tokenizer"], {
            "Name": "tokenizer", "Path": "tokenizer", "Type": "tree", "Size": 0, "IsLFS": False,
            "Mode": "16384", "Revision": master.sha, "CommitMessage": "Update vocabulary",
            "CommittedDate": master.date, "CommitterName": "hubfetch", "InCheck": False})
        # Revision = the last commit that touched the file, computed from the history.
        expected = {"model.safetensors": v10, "README.md": v10, "configuration.json": v10,
                    "config.json": v11, ".gitattributes": v11, "docs/read me é.md": v11,
                    "empty.txt": v11, "docs": v11, "tokenizer/vocab.txt": master,
                    "tokenizer": master}
        self.assertEqual({p: e["Revision"] for p, e in entries.items()},
                         {p: c.sha for p, c in expected.items()})
        self.assertEqual(entries["empty.txt"]["Sha256"], hashlib.sha256(b"").hexdigest())

    def test_listing_revisions(self):
        master, v11, v10 = (self.commit(r) for r in ("master", "v1.1", "v1.0"))
        paths = lambda data: {e["Path"] for e in data["Files"] if e["Type"] == "blob"}  # noqa: E731
        self.assertEqual(paths(self.ok(files_url(DEMO, Revision="v1.0", Recursive="True"))),
                         set(v10.files))
        self.assertNotIn("tokenizer/vocab.txt", v10.files)
        # A full commit id works ([unverified] on the live server, accepted here).
        data = self.ok(files_url(DEMO, Revision=v11.sha, Recursive="True"))
        self.assertEqual(paths(data), set(v11.files))
        self.assertEqual(data["LatestCommitter"]["Id"], v11.sha)
        # No Revision: the default branch.
        self.assertEqual(paths(self.ok(files_url(DEMO, Recursive="True"))), set(master.files))
        # Unknown revision (main included): HTTP 200, Code 200, Files null (Appendix).
        for rev in ("main", "nope", master.sha[:12], "refs%2Fheads%2Fmaster"):
            self.assertEqual(self.ok(files_url(DEMO, Revision=rev, Recursive="True")), {"Files": None})

    def test_listing_root_and_recursive(self):
        top = self.ok(files_url(DEMO, Revision="master", Recursive="false"))["Files"]
        self.assertEqual({e["Path"]: e["Type"] for e in top}, {
            ".gitattributes": "blob", "README.md": "blob", "config.json": "blob",
            "configuration.json": "blob", "docs": "tree", "empty.txt": "blob",
            "model.safetensors": "blob", "tokenizer": "tree"})
        for root in ("tokenizer", "%2Ftokenizer%2F", "tokenizer/"):
            for recursive in ("True", "False"):
                files = self.ok(files_url(DEMO, Revision="master", Recursive=recursive, Root=root))["Files"]
                self.assertEqual([e["Path"] for e in files], ["tokenizer/vocab.txt"])
        self.assertEqual(self.ok(files_url(DEMO, Revision="master", Recursive="True", Root="nope")),
                         {"Files": [], "LatestCommitter": self.ok(files_url(DEMO))["LatestCommitter"]})


class TestDatasets(Base):
    def pages(self, base, size):
        """Pages until the first short one (§1.7)."""
        pages, number = [], 1
        while True:
            data = self.ok(f"{base}&PageNumber={number}&PageSize={size}")
            pages.append(data["Files"])
            if len(data["Files"]) < size:
                return pages, data
            number += 1

    def test_info(self):
        data = self.ok(f"/api/v1/datasets/{DATA}")
        self.assertEqual(data["Id"], self.repo(DATA, "dataset").ms_id)
        self.assertIsInstance(data["Id"], int)
        self.assertEqual((data["Name"], data["Namespace"], data["Type"]), ("ms-data", "hubfetch", 4))
        self.assertEqual(self.ok(f"/api/v1/datasets/{DATA}?Revision=master")["Revision"], "master")
        # A dataset is not a model, and the other way round.
        self.assert_ms_error(self.get(f"/api/v1/models/{DATA}"), 404)
        self.assert_ms_error(self.get(f"/api/v1/datasets/{DEMO}"), 404)

    def test_paged_tree(self):
        commit = self.commit(repo_id=DATA, repo_type="dataset")
        ms_id = self.repo(DATA, "dataset").ms_id
        everything = None
        for owner_or_id in (DATA, str(ms_id)):
            base = f"/api/v1/datasets/{owner_or_id}/repo/tree?Revision=master&Root=/&Recursive=True"
            pages, last = self.pages(base, 5)
            self.assertEqual([len(p) for p in pages], [5, 5, 2])
            self.assertEqual((last["TotalCount"], last["PageNumber"], last["PageSize"]), (12, 3, 5))
            entries = [e for p in pages for e in p]
            if everything is None:
                everything = entries
            self.assertEqual(entries, everything)
        paths = [e["Path"] for e in everything]
        self.assertEqual(paths, sorted(list(commit.files) + ["data", "images"]))
        # One full page.
        self.assertEqual(self.ok(f"/api/v1/datasets/{DATA}/repo/tree?Revision=master&Root=/"
                                 "&Recursive=True&PageNumber=1&PageSize=200")["Files"], everything)
        # Past the end: an empty page.
        self.assertEqual(self.ok(f"/api/v1/datasets/{DATA}/repo/tree?Revision=master&Root=/"
                                 "&Recursive=True&PageNumber=9&PageSize=5")["Files"], [])
        # Size may be 0 for dataset files (§1.7): train.parquet is 2 MiB but listed as 0.
        parquet = next(e for e in everything if e["Path"] == "train.parquet")
        f = commit.files["train.parquet"]
        self.assertEqual((parquet["Size"], parquet["IsLFS"], parquet["Sha256"]),
                         (0, True, hashlib.sha256(f.read()).hexdigest()))
        self.assertEqual(f.size, 2 << 20)
        # Unknown revision: Files null; bad paging parameters: 400.
        self.assertEqual(self.ok(f"/api/v1/datasets/{DATA}/repo/tree?Revision=main&Root=/"
                                 "&Recursive=True&PageNumber=1&PageSize=5"), {"Files": None})
        for bad in ("PageNumber=0", "PageSize=0", "PageSize=x"):
            r = self.get(f"/api/v1/datasets/{DATA}/repo/tree?Revision=master&{bad}")
            self.assert_ms_error(r, 400, 400)
        self.assert_ms_error(self.get("/api/v1/datasets/999/repo/tree?Revision=master"), 404)

    def test_download(self):
        commit = self.commit(repo_id=DATA, repo_type="dataset")
        f = commit.files["data/train.jsonl"]
        for target in (download_url(DATA, f.path, repo_type="datasets"),
                       f"/api/v1/datasets/{DATA}/repo?Source=SDK&Revision=master"
                       f"&FilePath={quote_plus(f.path)}&View=False"):
            r = self.get(target)
            self.assertEqual((r.status, r.body), (200, f.read()))
        f = commit.files["train.parquet"]
        r = self.get(download_url(DATA, f.path, repo_type="datasets"))
        self.assertEqual(r.status, 302)
        r = self.get(self.cdn_target(r.header("Location")), port=self.hub.cdn_port)
        self.assertEqual((r.status, int(r.header("Content-Length"))), (200, 2 << 20))
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), f.sha256)
        r = self.get(download_url(DATA, "nope.txt", repo_type="datasets"))
        self.assert_ms_error(r, 404)


class TestDownload(Base):
    def test_inline_git_files(self):
        cases = [("config.json", "master"), ("config.json", "v1.0"), ("config.json", "v1.1"),
                 ("docs/read me é.md", "master"), ("tokenizer/vocab.txt", "master"),
                 ("empty.txt", "master"), ("config.json", self.commit("v1.0").sha)]
        for path, rev in cases:
            with self.subTest(path=path, rev=rev):
                f = self.file(path, rev)
                target = download_url(DEMO, path, rev)
                for method in ("GET", "HEAD"):
                    r = self.request(method, target, {"Accept-Encoding": "gzip"})
                    self.assertEqual(r.status, 200)
                    self.assertEqual(int(r.header("Content-Length")), f.size)
                    self.assertEqual(r.header("Accept-Ranges"), "bytes")
                    self.assertIsNone(r.header("Content-Encoding"))
                    self.assertRegex(r.header("X-Request-Id"), UUID)
                    self.assertEqual(r.body, f.read() if method == "GET" else b"")
        self.assertIn("%2F", download_url(DEMO, "docs/read me é.md"))
        self.assertIn("read+me+", download_url(DEMO, "docs/read me é.md"))
        self.assertNotEqual(self.file("config.json", "v1.0").read(), self.file("config.json").read())
        # A file of the Qwen2.5-mini repo (dot in the id).
        f = self.file("config.json", repo_id="hubfetch/Qwen2.5-mini")
        self.assertEqual(self.get(download_url("hubfetch/Qwen2.5-mini", "config.json")).body, f.read())

    def test_inline_ranges(self):
        f = self.file("config.json")
        target = download_url(DEMO, "config.json")
        for rng, (first, last) in (("bytes=2-9", (2, 9)), ("bytes=-5", (f.size - 5, f.size - 1)),
                                   ("bytes=100-", (100, f.size - 1))):
            r = self.get(target, {"Range": rng})
            self.assertEqual(r.status, 206, rng)
            self.assertEqual(r.header("Content-Range"), f"bytes {first}-{last}/{f.size}")
            self.assertEqual(r.body, f.read(first, last + 1))
        for path, size, rng in (("config.json", f.size, f"bytes={f.size}-"), ("empty.txt", 0, "bytes=0-")):
            r = self.get(download_url(DEMO, path), {"Range": rng})
            self.assert_ms_error(r, 416, 416)
            self.assertEqual(r.header("Content-Range"), f"bytes */{size}")

    def test_lfs_redirects_to_the_cdn(self):
        for repo, path, size in ((DEMO, "model.safetensors", 8 << 20),
                                 ("hubfetch/Qwen2.5-mini", "model.safetensors", 256 << 10),
                                 ("hubfetch/ms-big", "model.bin", 64 << 20)):
            with self.subTest(repo=repo):
                f = self.file(path, repo_id=repo)
                for method in ("HEAD", "GET"):
                    r = self.request(method, download_url(repo, path))
                    self.assertEqual(r.status, 302)
                    self.assertRegex(r.header("X-Request-Id"), UUID)
                    target = self.cdn_target(r.header("Location"))
                    self.assertIn(f"/repos/{f.sha256[:2]}/{f.sha256[2:4]}/{f.sha256}?expires=", target)
                r = self.head(target, port=self.hub.cdn_port)
                self.assertEqual((r.status, int(r.header("Content-Length"))), (200, size))
                # Range works on the redirect target (resume, §3): the second half.
                half = size // 2
                r = self.get(target, {"Range": f"bytes={half}-"}, port=self.hub.cdn_port)
                self.assertEqual(r.status, 206)
                self.assertEqual(r.header("Content-Range"), f"bytes {half}-{size - 1}/{size}")
                self.assertEqual(r.body, f.read(half))
        f = self.file("model.safetensors")
        r = self.get(self.cdn_target(self.get(download_url(DEMO, f.path)).header("Location")),
                     port=self.hub.cdn_port)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), f.sha256)
        # The v1.0 tag has the same weights: same CDN object.
        loc = self.get(download_url(DEMO, f.path, "v1.0")).header("Location")
        self.assertIn(f.sha256, loc)

    def test_download_errors(self):
        cases = [download_url(DEMO, "missing.bin"), download_url(DEMO, "config.json", "main"),
                 download_url(DEMO, "tokenizer/vocab.txt", "v1.0"),
                 download_url(DEMO, "config.json", self.commit().sha[:12]),
                 download_url("hubfetch/nope", "config.json"),
                 f"/api/v1/models/{DEMO}/repo?Revision=master"]
        for target in cases:
            with self.subTest(target=target):
                self.assert_ms_error(self.get(target), 404)
                r = self.head(target)
                self.assertEqual((r.status, r.body), (404, b""))

    def test_expire_links_fault(self):
        self.hub.faults([{"match": "/repo\\?", "server": "hub", "action": {"expire_links": True}}])
        r = self.get(download_url(DEMO, "model.safetensors"))
        r = self.get(self.cdn_target(r.header("Location")), port=self.hub.cdn_port)
        self.assertEqual(r.status, 403)
        self.assertIn(b"Request has expired", r.body)


class TestAuth(Base):
    def test_private_repo(self):
        meta = [f"/api/v1/models/{PRIVATE}", f"/api/v1/models/{PRIVATE}/revisions",
                files_url(PRIVATE, Revision="master", Recursive="True")]
        downloads = [download_url(PRIVATE, "config.json"), download_url(PRIVATE, "model.safetensors")]
        anonymous = [{}, {"Cookie": "m_session_id=ms_mallory"}, {"Authorization": "Bearer ms_mallory"},
                     {"Authorization": "Bearer hf_alice"}, {"Cookie": "other=ms_alice"}]
        for headers in anonymous + [BOB_COOKIE, {"Authorization": "Bearer ms_bob"}]:
            with self.subTest(headers=headers):
                for target in meta:
                    self.assert_ms_error(self.get(target, headers), 404)
                for target in downloads:
                    self.assert_ms_error(self.get(target, headers), 403, 403)
        for headers in (ALICE_COOKIE, ALICE_BEARER, {**ALICE_COOKIE, **ALICE_BEARER},
                        {"Cookie": "a=b; m_session_id=ms_alice; c=d"},
                        {"Cookie": "m_session_id=ms_mallory", "Authorization": "Bearer ms_alice"}):
            with self.subTest(headers=headers):
                for target in meta:
                    self.ok(target, headers)
                r = self.get(downloads[0], headers)
                self.assertEqual((r.status, r.body), (200, self.file("config.json", repo_id=PRIVATE).read()))
                self.assertEqual(self.get(downloads[1], headers).status, 302)

    def test_invalid_token_is_anonymous(self):
        # No 401 on ModelScope, unlike the Hub: a public repo still answers.
        for headers in ({"Cookie": "m_session_id=nope"}, {"Authorization": "Bearer nope"},
                        {"Authorization": "Basic aGk6aGk="}):
            self.ok(f"/api/v1/models/{DEMO}", headers)
            self.assertEqual(self.get(download_url(DEMO, "config.json"), headers).status, 200)

    def test_cdn_refuses_credentials_and_log_fields(self):
        r = self.get(download_url(PRIVATE, "model.safetensors"), ALICE_COOKIE)
        target = self.cdn_target(r.header("Location"))
        for headers in (ALICE_COOKIE, ALICE_BEARER, {"Cookie": "x=1; m_session_id=anything"}):
            r = self.get(target, headers, self.hub.cdn_port)
            self.assertEqual(r.status, 400)
            self.assertIn(b"<Code>InvalidArgument</Code><Message>Only one auth mechanism allowed"
                          b"</Message>", r.body)
        # Other cookies are not credentials.
        r = self.get(target, {"Cookie": "acw_tc=abc"}, self.hub.cdn_port)
        self.assertEqual((r.status, len(r.body)), (200, 128 << 10))
        log = self.hub.log()
        self.assertEqual([(e["server"], e["auth"], e["cookie"], e["status"]) for e in log], [
            ("hub", False, True, 302), ("cdn", False, True, 400), ("cdn", True, False, 400),
            ("cdn", False, True, 400), ("cdn", False, False, 200)])
        self.hub.clear_log()
        self.get(download_url(DEMO, "config.json"), {**ALICE_COOKIE, **ALICE_BEARER})
        (e,) = self.hub.log()
        self.assertEqual((e["auth"], e["cookie"]), (True, True))
        self.assertEqual(list(e)[list(e).index("auth") + 1], "cookie")


class TestErrorsAndFaults(Base):
    def test_200_with_an_error_code(self):
        r = self.get("/api/v1/models/hubfetch/ms-unavailable")
        self.assertEqual(r.status, 200)
        self.assertIn("模型不存在".encode(), r.body)  # raw UTF-8, not \\u escapes
        body = r.json()
        self.assertEqual(body, {"Code": 10010205001, "Data": None, "Message": "模型不存在",
                                "RequestId": body["RequestId"], "Success": False})
        # Only the model info says so; the listing of the same repo is fine.
        self.assertEqual(len(self.ok(files_url("hubfetch/ms-unavailable", Revision="master"))["Files"]), 1)

    def test_ms_code_fault(self):
        listing = files_url(DEMO, Revision="master", Recursive="True")
        self.hub.faults([{"match": "/repo/files\\?", "times": 1,
                          "action": {"ms_code": 10010205001, "message": "服务繁忙"}}])
        r = self.get(listing)
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual({k: body[k] for k in ("Code", "Data", "Message", "Success")},
                         {"Code": 10010205001, "Data": None, "Message": "服务繁忙", "Success": False})
        self.assertRegex(body["RequestId"], UUID)
        self.ok(listing)  # times=1
        # Any answer, file downloads included, and HEAD; default message.
        self.hub.faults([{"match": "/repo\\?", "action": {"ms_code": 500}}])
        r = self.get(download_url(DEMO, "config.json"))
        self.assertEqual((r.status, r.json()["Code"], r.json()["Message"]), (200, 500, "Injected fault: Code 500"))
        self.assertEqual(self.head(download_url(DEMO, "model.safetensors")).status, 200)
        self.assertEqual([e["fault"] for e in self.hub.log()], ["ms_code", None, "ms_code", "ms_code"])
        # Validation: exclusive with status/redirect; "message" needs ms_code.
        for action in ({"ms_code": 1, "status": 500}, {"ms_code": 1, "redirect": "http://x/"},
                       {"status": 503, "message": "x"}, {"ms_code": "1"}, {"ms_code": True}):
            with self.assertRaises(urllib.error.HTTPError):
                self.hub.faults([{"match": "", "action": action}])

    def test_hub_faults_apply_to_modelscope_routes(self):
        self.hub.faults([{"match": "/api/v1/", "times": 1, "action": {"status": 503}}])
        self.assertEqual(self.get(f"/api/v1/models/{DEMO}").status, 503)
        f = self.file("config.json")
        self.hub.faults([{"match": "/repo\\?", "times": 1, "action": {"corrupt_at": 3}}])
        body = self.get(download_url(DEMO, "config.json")).body
        self.assertEqual(body[:3] + body[4:], f.read(0, 3) + f.read(4))
        self.assertNotEqual(body[3], f.read(3, 4)[0])

    def test_routes(self):
        for target in (f"/api/v1/models/{DEMO}/nope", f"/api/v1/models/{DEMO}/repo/tree",
                       "/api/v1/spaces/hubfetch/x", "/api/v1/models/hubfetch", "/api/v1/",
                       f"/api/v1/datasets/{DATA}/revisions"):
            self.assert_ms_error(self.get(target), 404, 404)
        r = self.request("POST", f"/api/v1/models/{DEMO}")
        self.assert_ms_error(r, 405, 405)
        # The Hugging Face side is unchanged next to it.
        r = self.get("/api/models/hubfetch/demo-model")
        self.assertEqual((r.status, r.json()["id"]), (200, "hubfetch/demo-model"))
        self.assertEqual(self.head("/hubfetch/demo-model/resolve/main/config.json").status, 307)


class TestLifecycle(unittest.TestCase):
    def test_without_ms_fixtures_api_v1_is_404(self):
        with FakeHub(page_size=10) as hub:
            for headers in ({}, {"Authorization": "Bearer ms_alice"}):
                conn = http.client.HTTPConnection("127.0.0.1", hub.hub_port, timeout=10)
                conn.request("GET", f"/api/v1/models/{DEMO}", headers=headers)
                r = conn.getresponse()
                r.read()
                conn.close()
                self.assertEqual(r.status, 404)

    def test_fixture_validation(self):
        good = {"type": "model", "id": "o/n", "commits": [{"refs": ["master"], "files": [
            {"path": "a.txt", "text": "a"}]}]}
        bad = [
            {**good, "commits": [{"refs": ["main"], "files": []}]},  # no master
            {**good, "type": "space"},
            {**good, "gated": "manual"},
            {**good, "commits": [{"refs": ["master", "refs/pr/1"], "files": []}]},
            {**good, "info_error": {"code": 1}},
        ]
        tmp = tempfile.mkdtemp()
        try:
            for spec in [good] + bad:
                with open(os.path.join(tmp, "r.json"), "w") as fh:
                    json.dump(spec, fh)
                if spec is good:
                    fx = fakehub.load_fixtures(tmp, "ms")
                    self.assertEqual(fx.repo("o/n").resolve_ms("master").files["a.txt"].read(), b"a")
                    with self.assertRaises(fakehub.FixtureError):
                        fakehub.load_fixtures(tmp)  # an HF repo needs main
                else:
                    with self.assertRaises(fakehub.FixtureError, msg=spec):
                        fakehub.load_fixtures(tmp, "ms")
        finally:
            shutil.rmtree(tmp)

    def test_fixtures(self):
        fx = fakehub.load_fixtures(DEFAULT_MS_FIXTURES, "ms")
        shas = {r.id: [c.sha for c in r.commits] for r in fx.repos.values()}
        again = fakehub.load_fixtures(DEFAULT_MS_FIXTURES, "ms")
        self.assertEqual(shas, {r.id: [c.sha for c in r.commits] for r in again.repos.values()})
        demo = fx.repo(DEMO)
        self.assertEqual([n for n, _ in demo.ms_refs("branch")], ["master"])
        self.assertEqual([n for n, _ in demo.ms_refs("tag")], ["v1.0", "v1.1"])
        self.assertIsNone(demo.resolve_ms("main"))
        self.assertEqual(fx.repo(PRIVATE).private, True)
        self.assertEqual(fx.repo("hubfetch/ms-big").resolve_ms("master").files["model.bin"].size, 64 << 20)
        self.assertTrue(re.fullmatch(r"\d+", str(fx.repo(DATA, "dataset").ms_id)))
        self.assertEqual(len({r.ms_id for r in fx.repos.values()}), len(fx.repos))


if __name__ == "__main__":
    unittest.main()
