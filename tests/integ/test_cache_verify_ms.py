#!/usr/bin/env python3
"""hubfetch cache verify --hub modelscope: a ModelScope cache records no
digests, so offline only the classic index (.msc) is checked against its
folder (listed files must be there; unlisted ones are said, the SDK
downloads them again; a bad index fails) and the files are "not verifiable
offline"; --remote hashes every file against the hub's listing of the
cached revision (the .mv name, or the new layout's snapshot folder)."""
import hashlib
import json
import os
import pickle
import shutil
import unittest

from cli_util import SOURCE, CliTestCase, read

DEMO = "hubfetch/ms-demo"
DOTTED = "hubfetch/Qwen2.5-mini"
DATA = "hubfetch/ms-data"
KEYS = {"ok", "repos", "revisions", "files", "blobs", "bytes", "failed_files",
        "unverifiable", "missing", "extra", "defects", "unindexed", "threads",
        "seconds", "problems"}
ITEM_KEYS = {"status", "failure", "repo_type", "repo_id", "commit", "file",
             "path", "algorithm", "expected", "actual", "message"}


class CacheVerifyModelScopeTest(CliTestCase):

    ms_fixtures = os.path.join(SOURCE, "tests", "fixtures", "modelscope")

    def setUp(self):
        super().setUp()
        self.use_modelscope()

    def verify(self, *args, check=0):
        rc, out, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    "--format", "json", *args, check=check)
        res = json.loads(out)
        self.assertEqual(set(res), KEYS)
        for p in res["problems"]:
            self.assertEqual(set(p), ITEM_KEYS)
        return rc, res, err

    def folder(self, repo=DEMO, kind="models"):
        owner, name = repo.split("/")
        return os.path.join(self.root, kind, owner, name.replace(".", "___"))

    def served(self, repo, rev, path, kind="model"):
        return self.hub.ms_fixtures.repo(repo, kind).resolve_ms(rev).files[path].read()

    def by_status(self, res):
        out = {}
        for p in res["problems"]:
            out.setdefault(p["status"], []).append(p["file"])
        return {k: sorted(v, key=lambda x: x or "") for k, v in out.items()}

    def disk_files(self, folder):
        out = []
        for dp, _ds, fs in os.walk(folder):
            for f in fs:
                rel = os.path.relpath(os.path.join(dp, f), folder)
                if rel not in (".msc", ".mdl", ".mv"):
                    out.append(rel)
        return sorted(out)

    def test_a_downloaded_cache_is_clean_offline_and_remote(self):
        self.download("--hub", "modelscope", DEMO)
        self.download("--hub", "modelscope", DOTTED)
        self.download("--hub", "modelscope", DATA, "--repo-type", "dataset")
        nfiles = sum(len(self.disk_files(self.folder(r, k))) for r, k in
                     ((DEMO, "models"), (DOTTED, "models"), (DATA, "datasets")))
        self.hub.clear_log()
        rc, res, err = self.verify()
        self.assertTrue(res["ok"])
        self.assertEqual((res["repos"], res["revisions"]), (3, 3))
        self.assertEqual(res["files"], nfiles)
        self.assertEqual(res["unverifiable"], nfiles)
        self.assertEqual((res["blobs"], res["failed_files"], res["unindexed"]),
                         (0, 0, 0))
        self.assertEqual(set(self.by_status(res)), {"unverifiable"})
        self.assertIn("not verifiable offline",
                      res["problems"][0]["message"])
        self.assertEqual(self.requests(), [], "offline means no request")
        # the human report says so too
        rc, out, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    check=0)
        self.assertIn(f"No problem found in {nfiles} file(s) in 3 repo(s)", out)
        self.assertIn("--remote", out)

        rc, res, err = self.verify("--remote")
        self.assertTrue(res["ok"], res["problems"])
        self.assertEqual(res["files"], nfiles)
        self.assertEqual(res["blobs"], nfiles)
        self.assertEqual(res["unverifiable"], 0)
        self.assertEqual(res["problems"], [])
        self.assertEqual(res["bytes"], sum(
            os.path.getsize(os.path.join(self.folder(r, k), f))
            for r, k in ((DEMO, "models"), (DOTTED, "models"),
                         (DATA, "datasets"))
            for f in self.disk_files(self.folder(r, k))))
        listed = [r["path"] for r in self.requests()
                  if "/repo/files" in r["path"] or "/repo/tree" in r["path"]]
        self.assertEqual(len(listed), 3, listed)
        self.assertFalse([r for r in self.requests() if "FilePath=" in r["path"]])
        rc, out, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    "--remote", check=0)
        self.assertIn("All checksums match", out)

    def test_a_corrupt_file_fails_with_remote_only(self):
        self.download("--hub", "modelscope", DEMO)
        path = os.path.join(self.folder(), "config.json")
        data = bytearray(read(path))
        data[0] ^= 1
        with open(path, "wb") as f:
            f.write(data)
        rc, res, err = self.verify()
        self.assertTrue(res["ok"])
        rc, res, err = self.verify("--remote", check=29)
        self.assertFalse(res["ok"])
        [p] = res["problems"]
        self.assertEqual((p["status"], p["failure"], p["file"], p["commit"]),
                         ("mismatch", True, "config.json", "master"))
        self.assertEqual(p["path"], path)
        self.assertEqual(p["algorithm"], "sha256")
        self.assertEqual(p["expected"], hashlib.sha256(
            self.served(DEMO, "master", "config.json")).hexdigest())
        self.assertEqual(p["actual"], hashlib.sha256(bytes(data)).hexdigest())
        self.assertEqual(res["failed_files"], 1)
        rc, out, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    "--remote", check=29)
        self.assertIn(f"model:{DEMO}@master:config.json", out)
        self.assertIn("config.json", err)
        # a file of another size says both sizes
        with open(os.path.join(self.folder(), "README.md"), "ab") as f:
            f.write(b"more")
        rc, res, err = self.verify("--remote", check=29)
        self.assertEqual(self.by_status(res),
                         {"mismatch": ["README.md", "config.json"]})
        msg = [p["message"] for p in res["problems"] if p["file"] == "README.md"]
        self.assertIn("bytes", msg[0])

    def test_a_listed_file_deleted_fails_offline(self):
        self.download("--hub", "modelscope", DEMO)
        os.unlink(os.path.join(self.folder(), "tokenizer", "vocab.txt"))
        rc, res, err = self.verify(check=29)
        self.assertEqual(self.by_status(res)["broken"], ["tokenizer/vocab.txt"])
        [p] = [p for p in res["problems"] if p["status"] == "broken"]
        self.assertTrue(p["failure"])
        self.assertIn(".msc", p["message"])
        self.assertEqual(p["path"], os.path.join(self.folder(), "tokenizer",
                                                 "vocab.txt"))
        self.assertEqual(res["failed_files"], 1)
        # with --remote: broken, and not "missing" as well
        rc, res, err = self.verify("--remote", check=29)
        self.assertEqual(self.by_status(res), {"broken": ["tokenizer/vocab.txt"]})
        self.assertEqual(res["missing"], 0)

    def test_a_file_not_in_the_index_is_said_not_failed(self):
        self.download("--hub", "modelscope", DEMO)
        with open(os.path.join(self.folder(), "stray.bin"), "wb") as f:
            f.write(b"stray")
        # a file the hub has, copied in by hand: the SDK would fetch it again
        msc = os.path.join(self.folder(), ".msc")
        with open(msc, "rb") as f:
            index = pickle.load(f)
        index = [e for e in index if e["Path"] != "README.md"]
        with open(msc, "wb") as f:
            pickle.dump(index, f)
        rc, res, err = self.verify()
        self.assertTrue(res["ok"])
        self.assertEqual(self.by_status(res)["unindexed"],
                         ["README.md", "stray.bin"])
        self.assertEqual(res["unindexed"], 2)
        self.assertTrue(all(not p["failure"] for p in res["problems"]))
        rc, out, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    check=0)
        self.assertIn("Not in the ModelScope index", out)
        self.assertIn("stray.bin", out)
        # the hub has no stray.bin: that fails with --remote; README.md is
        # still checked (and sound)
        rc, res, err = self.verify("--remote", check=29)
        self.assertEqual(self.by_status(res),
                         {"extra": ["stray.bin"],
                          "unindexed": ["README.md", "stray.bin"]})

    def test_a_corrupt_index_fails(self):
        self.download("--hub", "modelscope", DEMO)
        msc = os.path.join(self.folder(), ".msc")
        with open(msc, "wb") as f:
            f.write(b"not a pickle")
        rc, res, err = self.verify(check=29)
        [p] = [p for p in res["problems"] if p["status"] == "defect"]
        self.assertEqual((p["repo_id"], p["file"]), (DEMO, None))
        self.assertIn(".msc", p["message"])
        self.assertEqual(res["defects"], 1)
        self.assertNotIn("unindexed", self.by_status(res))
        # read only: the index is left where it is
        self.assertEqual(read(msc), b"not a pickle")
        self.assertFalse(os.path.exists(msc + ".corrupted"))
        os.chmod(msc, 0)
        if not os.access(msc, os.R_OK):  # not as root
            rc, res, err = self.verify(check=29)
            self.assertEqual(res["defects"], 1)

    def test_a_file_the_hub_changed_is_remote_differs(self):
        # cached at v1.0 (.mv says so); the index then made to say master,
        # as if master had been fetched before the hub changed config.json
        self.download("--hub", "modelscope", DEMO, "--revision", "v1.0")
        rc, res, err = self.verify("--remote")
        self.assertEqual(res["problems"], [])
        with open(os.path.join(self.folder(), ".mv"), "w") as f:
            f.write("Revision:master,CreatedAt:1")
        rc, res, err = self.verify("--remote", check=29)
        got = {p["file"]: p for p in res["problems"]}
        self.assertEqual(got["config.json"]["status"], "remote_differs")
        self.assertIn("another version", got["config.json"]["message"])
        # files master added since are listed, not failed
        self.assertEqual(got["tokenizer/vocab.txt"]["status"], "missing")
        self.assertFalse(got["tokenizer/vocab.txt"]["failure"])

    def test_one_file_downloaded_and_missing_files(self):
        self.download("--hub", "modelscope", DEMO, "config.json")
        rc, res, err = self.verify("--remote")
        self.assertEqual(res["files"], 1)
        self.assertEqual(res["missing"], 7)
        self.assertTrue(all(p["status"] == "missing" and not p["failure"]
                            for p in res["problems"]))
        self.verify("--remote", "--fail-on-missing-files", check=29)

    def test_targets_select_repositories_and_files(self):
        self.download("--hub", "modelscope", DEMO)
        self.download("--hub", "modelscope", DOTTED)
        with open(os.path.join(self.folder(DOTTED), "config.json"), "ab") as f:
            f.write(b" ")
        rc, res, err = self.verify("--remote", DEMO)
        self.assertEqual((res["repos"], res["problems"]), (1, []))
        rc, res, err = self.verify("--remote", DOTTED + "@master:config.json",
                                   check=29)
        self.assertEqual((res["files"], self.by_status(res)),
                         (1, {"mismatch": ["config.json"]}))
        rc, out, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    "hubfetch/nope", check=21)
        self.assertIn("hubfetch/nope", err)

    def test_the_new_layout(self):
        snap = os.path.join(self.root, "models", "hubfetch--ms-demo",
                            "snapshots", "v1.0")
        files = self.hub.ms_fixtures.repo(DEMO, "model").resolve_ms("v1.0").files
        for path, f in files.items():
            p = os.path.join(snap, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as out:
                out.write(f.read())
        rc, res, err = self.verify()
        self.assertEqual((res["files"], res["unverifiable"]),
                         (len(files), len(files)))
        self.assertNotIn("unindexed", self.by_status(res))
        rc, res, err = self.verify("--remote")
        self.assertEqual((res["files"], res["blobs"], res["problems"]),
                         (len(files), len(files), []))
        self.assertEqual(res["problems"], [])
        with open(os.path.join(snap, "config.json"), "ab") as f:
            f.write(b"\n")
        rc, res, err = self.verify("--remote", check=29)
        [p] = res["problems"]
        self.assertEqual((p["status"], p["commit"], p["file"]),
                         ("mismatch", "v1.0", "config.json"))
        # a snapshot of a revision the hub does not have
        shutil.move(snap, os.path.join(os.path.dirname(snap), "gone"))
        rc, res, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    "--remote", check=None)
        self.assertEqual(rc, 16)  # 10 + |HUB_ENOREV|
        self.assertIn("revision 'gone' not found", err)

    def test_local_dir_is_not_supported_yet(self):
        rc, out, err = self.run_cli("cache", "verify", "--hub", "modelscope",
                                    "--local-dir", self.tmp, check=34)
        self.assertIn("local dir", err)


if __name__ == "__main__":
    unittest.main()
