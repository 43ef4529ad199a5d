#!/usr/bin/env python3
"""hubfetch cache ls / rm / prune --hub modelscope: the classic layout as
hubfetch and modelscope <= 1.37 write it (.msc, .mv, .mdl, dotted-name
links, ._____temp) and modelscope-hub's snapshots layout; after rm every
other repository is still found (offline downloads answer from the cache),
the SDK's repo lock is respected, nothing outside is followed."""
import json
import os
import unittest

from cli_util import SOURCE, CliTestCase, flock_held

DEMO = "hubfetch/ms-demo"
DOTTED = "hubfetch/Qwen2.5-mini"
DATA = "hubfetch/ms-data"
OLD = 1_000_000_000


class CacheModelScopeTest(CliTestCase):

    ms_fixtures = os.path.join(SOURCE, "tests", "fixtures", "modelscope")

    def setUp(self):
        super().setUp()
        self.use_modelscope()

    def ms_cli(self, *args, check=0):
        return self.run_cli("cache", *args, "--hub", "modelscope",
                            check=check)

    def ls_json(self, *args):
        rc, out, err = self.ms_cli("ls", "--format", "json", *args)
        return json.loads(out), err

    def populate(self):
        self.download("--hub", "modelscope", DEMO)
        self.download("--hub", "modelscope", DOTTED)
        self.download("--hub", "modelscope", DATA, "--repo-type", "dataset")

    def files_on_disk(self, folder):
        out = {}
        for dp, _ds, fs in os.walk(folder):
            for f in fs:
                rel = os.path.relpath(os.path.join(dp, f), folder)
                if rel in (".msc", ".mdl", ".mv"):
                    continue
                out[rel] = os.path.getsize(os.path.join(dp, f))
        return out

    def test_ls_lists_the_classic_layout_without_warning(self):
        self.populate()
        repos, err = self.ls_json("--revisions")
        self.assertEqual(err, "")
        got = {(r["repo_type"], r["repo_id"]): r for r in repos}
        self.assertEqual(set(got), {("model", DEMO), ("model", DOTTED),
                                    ("dataset", DATA)})
        q = got[("model", DOTTED)]
        folder = os.path.join(self.root, "models", "hubfetch",
                              "Qwen2___5-mini")
        self.assertEqual(q["repo_path"], folder)
        files = self.files_on_disk(folder)
        self.assertEqual(q["nb_files"], len(files))
        self.assertEqual(q["size_on_disk"], sum(files.values()))
        self.assertEqual([v["commit_hash"] for v in q["revisions"]],
                         ["master"])
        self.assertEqual(q["revisions"][0]["refs"], ["master"])
        self.assertEqual(q["warnings"], [])
        rc, out, _ = self.ms_cli("ls", "-q")
        self.assertEqual(sorted(out.split()),
                         sorted(["model:" + DEMO, "model:" + DOTTED,
                                 "dataset:" + DATA]))

    def test_rm_a_classic_repository_leaves_the_others_usable(self):
        self.populate()
        link = os.path.join(self.root, "models", "hubfetch", "Qwen2.5-mini")
        self.assertTrue(os.path.islink(link))
        rc, out, err = self.ms_cli("rm", DOTTED, "-y", "--format", "json")
        res = json.loads(out)
        self.assertEqual([(o["kind"], o["state"]) for o in res["operations"]],
                         [("repo", "done")], err)
        self.assertGreater(res["freed"], 0)
        self.assertFalse(os.path.lexists(link))
        self.assertFalse(os.path.exists(os.path.join(
            self.root, "models", "hubfetch", "Qwen2___5-mini")))
        self.assertFalse(os.path.exists(os.path.join(self.root, ".lock",
                                                     ".hubfetch-trash")))
        repos, err = self.ls_json()
        self.assertEqual(err, "")
        self.assertEqual(sorted(r["repo_id"] for r in repos), sorted([DEMO, DATA]))
        # the others still answer offline from their index
        self.download("--hub", "modelscope", DEMO, "--offline")
        self.download("--hub", "modelscope", DATA, "--repo-type", "dataset",
                      "--offline")
        # and the deleted one downloads again
        self.download("--hub", "modelscope", DOTTED)
        self.assertEqual(len(self.ls_json()[0]), 3)

    def test_rm_respects_the_sdk_repo_lock(self):
        self.populate()
        lock = os.path.join(self.root, ".lock", "hubfetch___ms-demo")
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        with flock_held(lock):
            rc, out, err = self.ms_cli("rm", "model:" + DEMO, "-y",
                                       "--format", "json")
            self.assertEqual(json.loads(out)["operations"][0]["state"],
                             "in_use")
            self.assertIn("a download holds its lock", err)
        self.assertEqual(len(self.ls_json()[0]), 3)
        self.ms_cli("rm", "model:" + DEMO, "-y")
        self.assertEqual(len(self.ls_json()[0]), 2)
        self.assertTrue(os.path.exists(lock))

    def test_prune_removes_a_stale_download_in_progress(self):
        self.populate()
        temp = os.path.join(self.root, "models", "._____temp", "hubfetch",
                            "ms-demo")
        os.makedirs(os.path.join(temp, "sub"))
        with open(os.path.join(temp, "sub", "w.bin"), "wb") as f:
            f.write(b"t" * 4000)
        os.utime(os.path.join(temp, "sub", "w.bin"), (OLD, OLD))
        os.utime(os.path.join(temp, "sub"), (OLD, OLD))
        rc, out, err = self.ms_cli("prune", "-y", "--format", "json")
        res = json.loads(out)
        # downloads leave empty folders in ._____temp: they go too
        self.assertEqual({(o["kind"], o["state"]) for o in res["operations"]},
                         {("partial", "done")}, err)
        self.assertEqual(res["freed"], 4000)
        self.assertFalse(os.path.exists(temp))
        self.assertEqual(os.listdir(os.path.join(self.root, "models",
                                                 "._____temp")), [])
        # nothing is detached in a ModelScope cache: nothing else goes
        self.assertEqual(len(self.ls_json()[0]), 3)

    def test_the_new_sdk_layout(self):
        snap = os.path.join(self.root, "models", "org--new.model",
                            "snapshots")
        for rev, files in (("master", {"a.bin": b"a" * 100,
                                       "d/b.txt": b"b" * 10}),
                           ("v1", {"a.bin": b"x" * 50})):
            for path, data in files.items():
                p = os.path.join(snap, rev, path)
                os.makedirs(os.path.dirname(p), exist_ok=True)
                with open(p, "wb") as f:
                    f.write(data)
        repos, err = self.ls_json("--revisions")
        self.assertEqual(err, "")
        [r] = repos
        self.assertEqual((r["repo_id"], r["repo_type"]),
                         ("org/new.model", "model"))
        self.assertEqual([(v["commit_hash"], v["nb_files"], v["size_on_disk"])
                          for v in r["revisions"]],
                         [("master", 2, 110), ("v1", 1, 50)])
        rc, out, err = self.ms_cli("rm", "org/new.model@v1", "-y", "--format",
                                   "json")
        res = json.loads(out)
        self.assertEqual([(o["kind"], o["state"]) for o in res["operations"]],
                         [("snapshot", "done")], err)
        self.assertEqual(res["freed"], 50)
        self.assertEqual(os.listdir(snap), ["master"])
        self.ms_cli("rm", "org/new.model@master:d/b.txt", "-y")
        self.assertFalse(os.path.exists(os.path.join(snap, "master", "d",
                                                     "b.txt")))
        self.ms_cli("rm", "org/new.model", "-y")
        self.assertEqual(self.ls_json()[0], [])

    def test_a_file_of_a_classic_repository_is_refused(self):
        self.populate()
        rc, out, err = self.ms_cli("rm", DEMO + "@master:config.json", "-y",
                                   check=None)
        self.assertEqual(rc, 2)
        self.assertIn(".msc", err)

    def test_links_out_of_the_cache_are_never_followed(self):
        self.populate()
        outside = os.path.join(self.tmp, "precious")
        os.makedirs(outside)
        with open(os.path.join(outside, "keep.bin"), "wb") as f:
            f.write(b"keep")
        folder = os.path.join(self.root, "models", "hubfetch", "ms-demo")
        os.symlink(outside, os.path.join(folder, "escape"))
        # a planted owner-level link that names another folder
        os.symlink(outside, os.path.join(self.root, "models", "hubfetch",
                                         "ms-evil"))
        repos, err = self.ls_json()
        self.assertEqual(len(repos), 3)
        self.ms_cli("rm", "model:" + DEMO, "-y")
        self.assertEqual(os.listdir(outside), ["keep.bin"])
        self.assertTrue(os.path.islink(os.path.join(
            self.root, "models", "hubfetch", "ms-evil")))


if __name__ == "__main__":
    unittest.main()
