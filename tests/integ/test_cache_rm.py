#!/usr/bin/env python3
"""hubfetch cache rm / prune: plans and their exact bytes, results read back
by the official JS client (scanCacheDir) and, with HUB_TEST_HFHUB_SRC, by
huggingface_hub's scan_cache_dir(), with no warning; locks of running
downloads respected (a held partial survives, the download completes); rm
killed at every step leaves a cache both read cleanly and hubfetch repairs;
nothing outside the cache followed or deleted."""
import json
import os
import shutil
import subprocess
import time
import unittest

from cli_util import DEMO, DEMO_MAIN, HUBFETCH, CliTestCase, flock_held, read
from test_cache_ls import (HFHUB_SRC, JS_DIR, REV_A, REV_B, REV_C, SHARED1,
                           ONLY_A, ONLY_C, js_available, make_repo)

OLD = 1_000_000_000  # 2001: older than any age asked for


class CacheRmTest(CliTestCase):

    def cache_cmd(self, *args, check=0):
        return self.run_cli("cache", *args, check=check)

    def rm_json(self, *targets, check=0):
        rc, out, err = self.cache_cmd("rm", *targets, "-y", "--format",
                                      "json", check=check)
        return json.loads(out), err

    def prune_json(self, *args, check=0):
        rc, out, err = self.cache_cmd("prune", "-y", "--format", "json",
                                      *args, check=check)
        return json.loads(out), err

    def ls_json(self, *args):
        rc, out, err = self.cache_cmd("ls", "--format", "json", *args)
        return json.loads(out), err

    def worked_example(self):
        """A = {model.bin, copy.bin -> shared1 (3000), config.json -> onlyA
        (2000)} main; B = {model.bin -> shared1} v1; C = {x.bin -> onlyC
        (1000)} detached."""
        return make_repo(
            self.cache, "models--org--example",
            {SHARED1: b"s" * 3000, ONLY_A: b"a" * 2000, ONLY_C: b"c" * 1000},
            {REV_A: {"model.bin": SHARED1, "copy.bin": SHARED1,
                     "config.json": ONLY_A},
             REV_B: {"model.bin": SHARED1}, REV_C: {"x.bin": ONLY_C}},
            {"main": REV_A, "v1": REV_B})

    # -- what both official scanners say --------------------------------

    def assert_clean_for_everyone(self):
        """No warning from hubfetch, the JS client and huggingface_hub."""
        repos, err = self.ls_json()
        self.assertEqual(err, "")
        for r in repos:
            self.assertEqual(r["warnings"], [], r["repo_id"])
        if js_available():
            out = subprocess.run(
                ["node", os.path.join(JS_DIR, "scan.mjs"), self.cache],
                capture_output=True, check=True, cwd=JS_DIR, timeout=120)
            self.assertEqual(json.loads(out.stdout)["warnings"], [])
        elif os.environ.get("CI"):
            self.fail("node or @huggingface/hub missing in CI")
        if HFHUB_SRC:
            code = ("import sys\nfrom huggingface_hub import scan_cache_dir\n"
                    "info = scan_cache_dir(sys.argv[1])\n"
                    "print('\\n'.join(str(w) for w in info.warnings\n"
                    "  if not str(w).endswith('/CACHEDIR.TAG')))\n")
            out = subprocess.run(["/usr/bin/python3", "-c", code, self.cache],
                                 capture_output=True, text=True, check=True,
                                 env=dict(self.env, PYTHONPATH=HFHUB_SRC),
                                 timeout=120)
            self.assertEqual(out.stdout.strip(), "")
        return repos

    def populate(self):
        self.download(DEMO)
        self.download(DEMO, "--revision", "v1.0")
        self.download(DEMO, "--revision", "refs/pr/1")

    # -- rm ---------------------------------------------------------------

    def test_rm_revision_frees_exactly_its_own_blobs(self):
        self.worked_example()
        plan, _ = self.run_dry("rm", "org/example@" + REV_A[:8])
        # copy.bin and model.bin share a blob B still uses: only onlyA goes
        self.assertEqual(plan["bytes"], 2000)
        self.assertEqual([o["state"] for o in plan["operations"]],
                         ["planned"] * 3)
        res, err = self.rm_json("org/example@main")
        self.assertEqual(res["freed"], 2000, err)
        self.assertEqual([(o["kind"], o["state"]) for o in res["operations"]],
                         [("ref", "done"), ("snapshot", "done"),
                          ("blob", "done")])
        repo = os.path.join(self.cache, "models--org--example")
        self.assertFalse(os.path.exists(os.path.join(repo, "refs", "main")))
        self.assertFalse(os.path.exists(os.path.join(repo, "blobs", ONLY_A)))
        self.assertTrue(os.path.exists(os.path.join(repo, "blobs", SHARED1)))
        repos = self.assert_clean_for_everyone()
        self.assertEqual([v["commit_hash"] for v in repos[0]["revisions"]],
                         [REV_B, REV_C])
        self.assertFalse(os.path.exists(os.path.join(self.cache, ".locks",
                                                     ".hubfetch-trash")))

    def run_dry(self, *args):
        rc, out, err = self.cache_cmd(*args, "--dry-run", "--format", "json")
        return json.loads(out), err

    def test_rm_every_revision_removes_the_repo_whole(self):
        self.worked_example()
        self.populate()
        before = {r["repo_id"]: r for r in self.ls_json()[0]}
        res, _ = self.rm_json("org/example@" + REV_A, "org/example@v1",
                              "model:org/example@" + REV_C[:6])
        self.assertEqual([o["kind"] for o in res["operations"]], ["repo"])
        # the whole folder's blobs: 6000 bytes, none shared elsewhere
        self.assertEqual(res["freed"], before["org/example"]["size_on_disk"])
        self.assertFalse(os.path.exists(
            os.path.join(self.cache, "models--org--example")))
        res, err = self.rm_json("model/" + DEMO, "nobody/nothing")
        self.assertIn("not in the cache: nobody/nothing", err)
        self.assertEqual(res["unmatched"], ["nobody/nothing"])
        self.assertEqual(res["repos"], 1)
        self.assertEqual(self.ls_json()[0], [])
        self.assert_clean_for_everyone()

    def test_rm_one_file_keeps_a_blob_another_revision_uses(self):
        self.worked_example()
        res, _ = self.rm_json("org/example@main:model.bin",
                              "org/example@main:config.json")
        kinds = [(o["kind"], o.get("name")) for o in res["operations"]]
        # files in the order asked, then the blob only they used
        self.assertEqual(kinds, [("file", "model.bin"),
                                 ("file", "config.json"), ("blob", ONLY_A)])
        self.assertEqual(res["freed"], 2000)
        snap = os.path.join(self.cache, "models--org--example", "snapshots",
                            REV_A)
        self.assertEqual(sorted(os.listdir(snap)), ["copy.bin"])
        self.assert_clean_for_everyone()

    def test_a_blob_hard_linked_into_two_repositories(self):
        a = self.worked_example()
        b = make_repo(self.cache, "models--org--twin",
                      {ONLY_C: b"c" * 1000, ONLY_A: b"k" * 10},
                      {REV_A: {"x.bin": ONLY_C}, REV_B: {"k.bin": ONLY_A}},
                      {"main": REV_B})
        os.unlink(os.path.join(b, "blobs", ONLY_C))
        os.link(os.path.join(a, "blobs", ONLY_C),
                os.path.join(b, "blobs", ONLY_C))
        # each deletion names its own repository's blob; the space comes
        # back once, when the last link goes
        res, _ = self.rm_json("org/example@" + REV_C, "org/twin@" + REV_A)
        blobs = [o for o in res["operations"] if o["kind"] == "blob"]
        self.assertEqual(sorted(os.path.dirname(os.path.dirname(o["path"]))
                                for o in blobs), sorted([a, b]))
        self.assertTrue(all(o["state"] == "done" for o in blobs))
        self.assertFalse(os.path.exists(os.path.join(a, "blobs", ONLY_C)))
        self.assertFalse(os.path.exists(os.path.join(b, "blobs", ONLY_C)))
        self.assert_clean_for_everyone()

    def test_rm_targets_from_ls_quiet_and_bad_targets(self):
        self.populate()
        rc, out, _ = self.cache_cmd("ls", "--revisions", "-q")
        targets = out.split()
        self.assertEqual(len(targets), 3)
        res, _ = self.rm_json(targets[0])
        self.assertEqual(res["revisions"], 1)
        # a prefix shared by two revisions is refused, naming them
        self.worked_example()
        os.rename(os.path.join(self.cache, "models--org--example", "snapshots",
                               REV_C),
                  os.path.join(self.cache, "models--org--example", "snapshots",
                               "1111" + "f" * 36))
        rc, out, err = self.cache_cmd("rm", "org/example@1111", "-y",
                                      check=None)
        self.assertEqual(rc, 2, err)
        self.assertIn("names 2 revisions", err)
        rc, out, err = self.cache_cmd("rm", check=None)
        self.assertEqual(rc, 2)

    def test_rm_asks_and_never_deletes_without_a_terminal(self):
        self.worked_example()
        rc, out, err = self.cache_cmd("rm", "org/example", check=None)
        self.assertEqual(rc, 2)
        self.assertIn("pass -y", err)
        self.assertIn("About to delete 1 repo(s), freeing 6.0K (6000 bytes)",
                      out)
        self.assertTrue(os.path.isdir(os.path.join(self.cache,
                                                   "models--org--example")))

    # -- prune --------------------------------------------------------------

    def make_leftovers(self):
        repo = self.worked_example()
        blobs = os.path.join(repo, "blobs")
        stale = os.path.join(blobs, "d" * 64 + ".1a2b3c4d.incomplete")
        fresh = os.path.join(blobs, "e" * 64 + ".incomplete")
        for p, size in ((stale, 700), (fresh, 300)):
            with open(p, "wb") as f:
                f.write(b"p" * size)
        os.utime(stale, (OLD, OLD))
        with open(os.path.join(blobs, "9" * 40), "wb") as f:
            f.write(b"o" * 50)  # an orphan blob
        gone = "7" * 40
        os.makedirs(os.path.join(repo, ".no_exist", gone))
        os.makedirs(os.path.join(repo, ".no_exist", REV_A))
        os.makedirs(os.path.join(repo, "trees"))
        for c in (gone, REV_B):
            with open(os.path.join(repo, "trees", c + ".json"), "w") as f:
                f.write("[]")
        return repo, stale, fresh

    def test_prune_removes_what_nothing_uses(self):
        repo, stale, fresh = self.make_leftovers()
        res, err = self.prune_json()
        got = sorted((o["kind"], o["state"], o.get("name"))
                     for o in res["operations"])
        self.assertEqual(got, sorted([
            ("snapshot", "done", REV_C), ("blob", "done", ONLY_C),
            ("partial", "done", os.path.basename(stale)),
            ("blob", "done", "9" * 40), ("no_exist", "done", "7" * 40),
            ("tree", "done", "7" * 40)]), err)
        self.assertEqual(res["freed"], 1000 + 700 + 50)
        self.assertTrue(os.path.exists(fresh))  # may still resume
        self.assertTrue(os.path.isdir(os.path.join(repo, ".no_exist", REV_A)))
        self.assertTrue(os.path.exists(os.path.join(repo, "trees",
                                                    REV_B + ".json")))
        self.assert_clean_for_everyone()
        res, _ = self.prune_json("--partial-age", "0")
        self.assertEqual([o["kind"] for o in res["operations"]], ["partial"])
        self.assertFalse(os.path.exists(fresh))
        rc, out, _ = self.cache_cmd("prune", "-y")
        self.assertIn("Nothing to prune.", out)

    def test_prune_removes_a_folder_that_keeps_nothing(self):
        # a first download that failed: a partial, no snapshot, no ref
        dead = os.path.join(self.cache, "models--org--dead", "blobs")
        os.makedirs(dead)
        p = os.path.join(dead, "a" * 64 + ".incomplete")
        with open(p, "wb") as f:
            f.write(b"x" * 100)
        os.utime(p, (OLD, OLD))
        # the same, written to a minute ago: it may still resume
        alive = os.path.join(self.cache, "models--org--alive", "blobs")
        os.makedirs(alive)
        with open(os.path.join(alive, "b" * 64 + ".incomplete"), "wb") as f:
            f.write(b"y" * 100)
        res, _ = self.prune_json()
        self.assertEqual([(o["kind"], o["repo_id"]) for o in res["operations"]],
                         [("repo", "org/dead")])
        self.assertEqual(res["freed"], 100)
        self.assertFalse(os.path.exists(os.path.dirname(dead)))
        self.assertTrue(os.path.isdir(alive))

    def test_prune_keeps_a_partial_whose_lock_is_held(self):
        repo, stale, fresh = self.make_leftovers()
        lock_dir = os.path.join(self.cache, ".locks", "models--org--example")
        os.makedirs(lock_dir)
        lock = os.path.join(lock_dir, "d" * 64 + ".lock")
        with flock_held(lock):
            res, err = self.prune_json("--partial-age", "0")
            states = {o.get("name"): o["state"] for o in res["operations"]}
            self.assertEqual(states[os.path.basename(stale)], "in_use")
            self.assertEqual(states[os.path.basename(fresh)], "done")
            self.assertIn("a download holds its lock", err)
            self.assertTrue(os.path.exists(stale))
            # the whole repository cannot go while a download runs in it
            res, err = self.rm_json("org/example")
            self.assertEqual(res["operations"][0]["state"], "in_use")
            self.assertTrue(os.path.isdir(repo))
        res, _ = self.prune_json("--partial-age", "0")
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(lock))  # lock files are never removed

    def test_prune_beside_a_running_download(self):
        # model.safetensors crawls at 2 MB/s; prune runs while it is written
        self.hub.faults([{"match": "repos/", "server": "cdn",
                          "action": {"rate": 2_000_000}}])
        proc = subprocess.Popen(
            [HUBFETCH, "download", DEMO, "model.safetensors",
             "--cache-dir", self.cache, "--connections", "1"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        blobs = os.path.join(self.repo_dir(), "blobs")
        deadline = time.monotonic() + 30
        partials = []
        while time.monotonic() < deadline and not partials:
            if os.path.isdir(blobs):
                partials = [n for n in os.listdir(blobs)
                            if n.endswith(".incomplete")
                            and os.path.getsize(os.path.join(blobs, n))]
            time.sleep(0.05)
        self.assertTrue(partials, "the download never started")
        for p in partials:
            os.utime(os.path.join(blobs, p), (OLD, OLD))
        res, err = self.prune_json("--partial-age", "0")
        in_use = [o for o in res["operations"] if o["kind"] == "partial"]
        self.assertTrue(in_use)
        self.assertTrue(all(o["state"] == "in_use" for o in in_use), in_use)
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.expected(DEMO, DEMO_MAIN, "model.safetensors"),
                         read(out.strip()))

    def test_max_size_evicts_least_recently_used_revisions(self):
        repo = self.worked_example()
        blobs = os.path.join(repo, "blobs")
        # C (onlyC) used longest ago, then A (onlyA), B (shared1) last
        os.utime(os.path.join(blobs, ONLY_C), (OLD, OLD))
        os.utime(os.path.join(blobs, ONLY_A), (OLD + 10, OLD + 10))
        now = time.time()
        os.utime(os.path.join(blobs, SHARED1), (now, now))
        plan, _ = self.run_dry("prune", "--max-size", "3500")
        # C is detached anyway; A shares shared1 with B, which was used
        # just now: A goes and frees 2000, leaving 3000 <= 3500
        snaps = [o["name"] for o in plan["operations"]
                 if o["kind"] == "snapshot"]
        self.assertEqual(sorted(snaps), [REV_A, REV_C])
        self.assertEqual(plan["bytes"], 3000)
        res, _ = self.prune_json("--max-size", "3500")
        left = self.assert_clean_for_everyone()
        self.assertEqual(left[0]["size_on_disk"], 3000)
        self.assertEqual(left[0]["refs"], ["v1"])
        res, _ = self.prune_json("--max-size", "1")
        self.assertEqual(self.ls_json()[0], [])

    def test_older_than(self):
        repo = self.worked_example()
        for b in (ONLY_A, SHARED1):
            os.utime(os.path.join(repo, "blobs", b), (OLD, OLD))
        res, _ = self.prune_json("--older-than", "30d")
        # every revision was unused for 30 days: the repository goes whole
        self.assertEqual([o["kind"] for o in res["operations"]], ["repo"])
        self.assertEqual(self.ls_json()[0], [])

    # -- interruptions and hostile caches ---------------------------------

    def test_rm_killed_at_any_step_leaves_a_clean_cache(self):
        if not shutil.which("strace"):
            self.fail("strace missing (scripts/install-deps.sh installs it)")
        self.populate()
        template = os.path.join(self.tmp, "template")
        shutil.copytree(self.cache, template, symlinks=True)
        targets = ["model:" + DEMO + "@v1.0", "model:" + DEMO + "@refs/pr/1"]
        self.assertEqual(self.run_dry("rm", *targets)[0]["revisions"], 2)
        killed = 0
        for calls in ("unlinkat", "renameat,renameat2"):
            for n in range(1, 8):
                shutil.rmtree(self.cache)
                shutil.copytree(template, self.cache, symlinks=True)
                r = subprocess.run(
                    ["strace", "-f", "-o", "/dev/null", "-e",
                     f"inject={calls}:signal=KILL:when={n}",
                     HUBFETCH, "cache", "rm", *targets, "-y",
                     "--cache-dir", self.cache],
                    env=self.env, capture_output=True, text=True, timeout=60)
                if r.returncode == 0:
                    break  # fewer than n such calls: ran to the end
                killed += 1
                self.assert_clean_for_everyone()
                # and a download puts back what was asked again
                self.download(DEMO, "--revision", "v1.0")
                self.download(DEMO, "--revision", "refs/pr/1")
                rc, out, err = self.cache_cmd("ls", "--revisions", "--format",
                                              "json")
                revs = json.loads(out)[0]["revisions"]
                self.assertEqual(len(revs), 3, (calls, n))
                self.assert_clean_for_everyone()
        self.assertGreaterEqual(killed, 4)

    def test_a_damaged_repository_is_pruned_only_where_safe(self):
        repo, stale, fresh = self.make_leftovers()
        blobs = os.path.join(repo, "blobs")
        # a broken link in the detached revision C, a ref to no snapshot,
        # a foreign file and a foreign folder among the blobs
        os.symlink("../../blobs/" + "5" * 64,
                   os.path.join(repo, "snapshots", REV_C, "gone.bin"))
        with open(os.path.join(repo, "refs", "ghost"), "w") as f:
            f.write("6" * 40)
        with open(os.path.join(blobs, "notes.txt"), "w") as f:
            f.write("mine")
        os.makedirs(os.path.join(blobs, "subdir"))
        rc, out, err = self.cache_cmd("ls")
        self.assertIn("broken link", err)
        res, err = self.prune_json()
        kinds = sorted((o["kind"], o.get("name")) for o in res["operations"])
        self.assertIn(("snapshot", REV_C), kinds)
        self.assertTrue(all(o["state"] == "done" for o in res["operations"]))
        # what is not ours to judge stays: foreign names, the ghost ref
        self.assertTrue(os.path.exists(os.path.join(blobs, "notes.txt")))
        self.assertTrue(os.path.isdir(os.path.join(blobs, "subdir")))
        self.assertTrue(os.path.exists(os.path.join(repo, "refs", "ghost")))
        self.assertTrue(os.path.exists(os.path.join(blobs, SHARED1)))
        self.assertTrue(os.path.exists(os.path.join(blobs, ONLY_A)))
        repos, _ = self.ls_json("--revisions")
        self.assertEqual([v["commit_hash"] for v in repos[0]["revisions"]],
                         [REV_A, REV_B])

    def test_an_unreadable_folder_keeps_the_blobs_it_may_use(self):
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or not setpriv:
            self.skipTest("needs root and setpriv to act as a second user")
        repo = self.worked_example()
        # main's sub/ links onlyC too, but another user cannot read sub/
        sub = os.path.join(repo, "snapshots", REV_A, "sub")
        os.makedirs(sub)
        os.symlink("../../../blobs/" + ONLY_C, os.path.join(sub, "x.bin"))
        for dp, ds, fs in os.walk(self.tmp):
            for n in ds + fs:
                p = os.path.join(dp, n)
                if not os.path.islink(p):
                    os.chmod(p, 0o777 if os.path.isdir(p) else 0o666)
        os.chmod(self.tmp, 0o777)
        os.chmod(sub, 0o000)
        proc = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
             HUBFETCH, "cache", "prune", "-y", "--format", "json",
             "--cache-dir", self.cache],
            capture_output=True, text=True, env=self.env, timeout=60)
        os.chmod(sub, 0o755)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        res = json.loads(proc.stdout)
        ops = {(o["kind"], o.get("name")): o for o in res["operations"]}
        # detached C goes, but its blob is kept: a folder it could not
        # read may use it (it does)
        self.assertEqual(ops[("snapshot", REV_C)]["state"], "done")
        self.assertEqual(ops[("blob", ONLY_C)]["state"], "changed")
        self.assertTrue(os.path.exists(os.path.join(repo, "blobs", ONLY_C)))
        self.assertEqual(os.readlink(os.path.join(sub, "x.bin")),
                         "../../../blobs/" + ONLY_C)
        self.assert_clean_for_everyone()

    def test_links_out_of_the_cache_are_never_followed(self):
        repo = self.worked_example()
        outside_dir = os.path.join(self.tmp, "precious")
        os.makedirs(outside_dir)
        precious = os.path.join(outside_dir, "data.bin")
        with open(precious, "wb") as f:
            f.write(b"keep me")
        snap_c = os.path.join(repo, "snapshots", REV_C)
        os.symlink(precious, os.path.join(snap_c, "escape.bin"))
        os.symlink(outside_dir, os.path.join(snap_c, "escape_dir"))
        # a "blob" that is a link to a file outside
        os.symlink(precious, os.path.join(repo, "blobs", "8" * 64))
        res, _ = self.prune_json()
        self.rm_json("org/example")
        self.assertEqual(read(precious), b"keep me")
        self.assertEqual(os.listdir(outside_dir), ["data.bin"])
        self.assertFalse(os.path.exists(repo))


if __name__ == "__main__":
    unittest.main()
