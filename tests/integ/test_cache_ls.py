#!/usr/bin/env python3
"""hubfetch cache ls: every field of the listing, against caches written by
hubfetch and by hand in huggingface_hub's layout, read back by the official
JS client (scanCacheDir) and, when its sources are given
(HUB_TEST_HFHUB_SRC), by huggingface_hub's scan_cache_dir(); defects are
warnings, never a hidden repo; every format, filter, sort and limit."""
import csv
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import unittest

from cli_util import DEMO, DEMO_MAIN, DEMO_PR1, DEMO_V1, SOURCE, CliTestCase

JS_DIR = os.path.join(SOURCE, "tests", "js")
HFHUB_SRC = os.environ.get("HUB_TEST_HFHUB_SRC")


def js_available():
    return shutil.which("node") and os.path.isdir(
        os.path.join(JS_DIR, "node_modules", "@huggingface", "hub"))


def fmt_size(n):
    """huggingface_hub's _format_size"""
    x = float(n)
    for unit in ["", "K", "M", "G", "T", "P", "E", "Z"]:
        if abs(x) < 1000.0:
            return f"{x:3.1f}{unit}"
        x /= 1000.0
    return f"{x:.1f}Y"


def expected_numbers(repo_path):
    """What the listing must say, computed with realpath and stat: distinct
    blobs by (dev, ino)."""
    snaps = os.path.join(repo_path, "snapshots")
    revs = {}
    repo_blobs = {}
    for commit in sorted(os.listdir(snaps)):
        blobs = {}
        nb = 0
        for dirpath, _dirs, files in os.walk(os.path.join(snaps, commit)):
            for f in files:
                st = os.stat(os.path.join(dirpath, f))
                blobs[(st.st_dev, st.st_ino)] = st
                nb += 1
        repo_blobs.update(blobs)
        revs[commit] = {"size_on_disk": sum(s.st_size for s in blobs.values()),
                        "nb_files": nb}
    return {"size_on_disk": sum(s.st_size for s in repo_blobs.values()),
            "nb_files": len(repo_blobs), "revisions": revs,
            "blobs": repo_blobs}


def make_repo(cache, folder, blobs, snapshots, refs):
    """A repo in huggingface_hub's layout. blobs: {etag: bytes};
    snapshots: {commit: {path: etag}}; refs: {name: commit}."""
    repo = os.path.join(cache, folder)
    os.makedirs(os.path.join(repo, "blobs"), exist_ok=True)
    for etag, data in blobs.items():
        with open(os.path.join(repo, "blobs", etag), "wb") as f:
            f.write(data)
    for commit, files in snapshots.items():
        for path, etag in files.items():
            p = os.path.join(repo, "snapshots", commit, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            depth = path.count("/")
            os.symlink("../" * (depth + 2) + "blobs/" + etag, p)
    for name, commit in refs.items():
        p = os.path.join(repo, "refs", name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(commit)
    return repo


SHARED1, ONLY_A, ONLY_C = "a" * 64, "b" * 40, "c" * 64
REV_A, REV_B, REV_C = "1" * 40, "2" * 40, "3" * 40


class CacheLsTest(CliTestCase):

    def ls(self, *args, check=0):
        rc, out, err = self.run_cli("cache", "ls", *args, check=check)
        return out, err

    def ls_json(self, *args):
        out, err = self.ls("--format", "json", *args)
        return json.loads(out), err

    def populate(self):
        """Several revisions sharing blobs, a dataset and a space."""
        self.download(DEMO)
        self.download(DEMO, "--revision", "v1.0")
        self.download(DEMO, "--revision", "refs/pr/1")
        self.download("hubfetch/demo-data", "--repo-type", "dataset")
        self.download("hubfetch/demo-space", "--repo-type", "space")

    def worked_example(self):
        """huggingface_hub's documented example: A = {model.bin, copy.bin ->
        shared1, config.json -> onlyA}, B = {model.bin -> shared1}, C =
        {x.bin -> onlyC}: A 5000, B 3000, C 1000, repo 6000."""
        return make_repo(
            self.cache, "models--org--example",
            {SHARED1: b"s" * 3000, ONLY_A: b"a" * 2000, ONLY_C: b"c" * 1000},
            {REV_A: {"model.bin": SHARED1, "copy.bin": SHARED1,
                     "config.json": ONLY_A},
             REV_B: {"model.bin": SHARED1}, REV_C: {"x.bin": ONLY_C}},
            {"main": REV_A, "v1": REV_B})

    # -- fields ---------------------------------------------------------

    def test_json_fields_of_a_cache_written_by_hubfetch(self):
        self.populate()
        repos, err = self.ls_json()
        self.assertEqual(err, "")
        self.assertEqual([(r["repo_type"], r["repo_id"]) for r in repos],
                         [("dataset", "hubfetch/demo-data"),
                          ("model", DEMO), ("space", "hubfetch/demo-space")])
        for r in repos:
            kind = r["repo_type"] + "s"
            path = self.repo_dir(r["repo_id"], kind)
            self.assertEqual(r["repo_path"], os.path.realpath(path))
            exp = expected_numbers(path)
            self.assertEqual(r["size_on_disk"], exp["size_on_disk"], r["repo_id"])
            self.assertEqual(r["nb_files"], exp["nb_files"])
            self.assertEqual(r["warnings"], [])
            self.assertEqual(r["last_accessed"],
                             int(max(s.st_atime for s in exp["blobs"].values())))
            self.assertEqual(r["last_modified"],
                             int(max(s.st_mtime for s in exp["blobs"].values())))
            self.assertEqual([v["commit_hash"] for v in r["revisions"]],
                             sorted(exp["revisions"]))
            for v in r["revisions"]:
                self.assertEqual(v["size_on_disk"],
                                 exp["revisions"][v["commit_hash"]]["size_on_disk"])
                self.assertEqual(v["nb_files"],
                                 exp["revisions"][v["commit_hash"]]["nb_files"])
                self.assertEqual(v["snapshot_path"], os.path.join(
                    r["repo_path"], "snapshots", v["commit_hash"]))
                self.assertIsInstance(v["last_modified"], int)
        model = repos[1]
        refs = {v["commit_hash"]: v["refs"] for v in model["revisions"]}
        self.assertEqual(refs[DEMO_MAIN], ["main"])
        self.assertEqual(refs[DEMO_V1], ["v1.0"])
        self.assertEqual(refs[DEMO_PR1], ["refs/pr/1"])
        self.assertEqual(model["refs"], ["main", "refs/pr/1", "v1.0"])
        # revisions of the model share blobs: the repo counts them once
        self.assertLess(model["size_on_disk"],
                        sum(v["size_on_disk"] for v in model["revisions"]))

    def test_worked_example_and_hard_links_count_once(self):
        repo = self.worked_example()
        # the same blobs hard-linked into a second repo
        other = make_repo(self.cache, "datasets--org--copy", {}, {}, {})
        os.makedirs(os.path.join(other, "snapshots", REV_A))
        for etag in (SHARED1, ONLY_A, ONLY_C):
            os.link(os.path.join(repo, "blobs", etag),
                    os.path.join(other, "blobs", etag))
            os.symlink("../../blobs/" + etag,
                       os.path.join(other, "snapshots", REV_A, etag[:3]))
        os.makedirs(os.path.join(other, "refs"))
        with open(os.path.join(other, "refs", "main"), "w") as f:
            f.write(REV_A)
        repos, err = self.ls_json()
        self.assertEqual(err, "")
        ex = next(r for r in repos if r["repo_id"] == "org/example")
        self.assertEqual(ex["size_on_disk"], 6000)
        self.assertEqual(ex["nb_files"], 3)
        sizes = {v["commit_hash"]: (v["size_on_disk"], v["nb_files"])
                 for v in ex["revisions"]}
        self.assertEqual(sizes, {REV_A: (5000, 3), REV_B: (3000, 1),
                                 REV_C: (1000, 1)})
        self.assertEqual(ex["refs"], ["main", "v1"])
        detached = next(v for v in ex["revisions"] if v["commit_hash"] == REV_C)
        self.assertEqual(detached["refs"], [])
        cp = next(r for r in repos if r["repo_id"] == "org/copy")
        self.assertEqual(cp["size_on_disk"], 6000)
        # footer: the hard links and the shared blob count once
        out, _ = self.ls()
        self.assertIn("\nFound 2 repo(s) for a total of 4 revision(s) and "
                      "6.0K on disk.\n", out)
        out, _ = self.ls("--revisions")
        self.assertIn("\nFound 2 repo(s) for a total of 4 revision(s) and "
                      "6.0K on disk.\n", out)
        out, _ = self.ls("--revisions", "--filter", "refs=v1")
        self.assertIn("\nFound 1 repo(s) for a total of 1 revision(s) and "
                      "3.0K on disk.\n", out)

    def test_many_repositories_scanned_on_threads_agree(self):
        # past 16 repositories a thread the scan is shared out: the same
        # numbers, and a blob hard-linked between far-apart repositories
        # (scanned by different threads) still counts once in the total
        n = 70
        for i in range(n):
            data = b"%d" % i * (100 + i)
            etag = hashlib.sha256(data).hexdigest()
            make_repo(self.cache, f"models--org--m{i:02}", {etag: data},
                      {REV_A: {"w.bin": etag, "d/x.bin": etag}},
                      {"main": REV_A})
        first = os.path.join(self.cache, "models--org--m00", "blobs")
        last = os.path.join(self.cache, f"models--org--m{n - 1}", "blobs")
        big = b"B" * 50_000
        etag = hashlib.sha256(big).hexdigest()
        with open(os.path.join(first, etag), "wb") as f:
            f.write(big)
        os.link(os.path.join(first, etag), os.path.join(last, etag))
        for folder in ("models--org--m00", f"models--org--m{n - 1}"):
            os.symlink("../../blobs/" + etag,
                       os.path.join(self.cache, folder, "snapshots", REV_A,
                                    "big.bin"))
        repos, err = self.ls_json()
        self.assertEqual(err, "")
        self.assertEqual([r["repo_id"] for r in repos],
                         [f"org/m{i:02}" for i in range(n)])
        for r in repos:
            want = expected_numbers(r["repo_path"])
            self.assertEqual((r["size_on_disk"], r["nb_files"]),
                             (want["size_on_disk"], want["nb_files"]),
                             r["repo_id"])
        total = sum(len(b"%d" % i * (100 + i)) for i in range(n)) + len(big)
        out, _ = self.ls()
        self.assertIn(f"and {fmt_size(total)} on disk.", out)
        self.assertEqual(sum(r["size_on_disk"] for r in repos),
                         total + len(big))

    # -- real clients ---------------------------------------------------

    def test_js_scan_cache_dir_agrees(self):
        if not js_available():
            if os.environ.get("CI"):
                self.fail("node or @huggingface/hub missing in CI")
            self.skipTest("node or @huggingface/hub missing "
                          "(run: npm ci --prefix tests/js)")
        self.populate()
        self.worked_example()
        out = subprocess.run(["node", os.path.join(JS_DIR, "scan.mjs"), self.cache],
                             capture_output=True, check=True, cwd=JS_DIR,
                             timeout=120)
        js = json.loads(out.stdout)
        self.assertEqual(js["warnings"], [])
        repos, err = self.ls_json()
        self.assertEqual(err, "")
        jsr = {(r["type"], r["id"]): r for r in js["repos"]}
        self.assertEqual(set(jsr), {(r["repo_type"], r["repo_id"]) for r in repos})
        for r in repos:
            j = jsr[(r["repo_type"], r["repo_id"])]
            self.assertEqual([v["commit"] for v in j["revisions"]],
                             [v["commit_hash"] for v in r["revisions"]])
            path = r["repo_path"]
            nested = any(os.path.isdir(os.path.join(dp, d))
                         for dp, ds, _ in os.walk(os.path.join(path, "snapshots"))
                         if dp.count(os.sep) > path.count(os.sep) + 1 for d in ds)
            for v, jv in zip(r["revisions"], j["revisions"]):
                # JS reads refs/ without recursing: refs/pr/1 is not seen
                self.assertEqual(jv["refs"], [x for x in v["refs"] if "/" not in x])
                if not nested:
                    self.assertEqual(len(jv["files"]), v["nb_files"])
            if not nested:
                # JS lists the top of a snapshot only
                self.assertEqual(j["size"], r["size_on_disk"], r["repo_id"])
                self.assertEqual(j["filesCount"], r["nb_files"])
        ex = jsr[("model", "org/example")]
        self.assertEqual((ex["size"], ex["filesCount"]), (6000, 3))

    def test_a_cache_written_by_the_js_client(self):
        """@huggingface/hub's snapshotDownload writes the cache: it lists
        with no warning, verifies, and its revision can be deleted."""
        if not js_available():
            if os.environ.get("CI"):
                self.fail("node or @huggingface/hub missing in CI")
            self.skipTest("node or @huggingface/hub missing")
        out = subprocess.run(
            ["node", os.path.join(JS_DIR, "download.mjs"), self.hub.url,
             self.cache, "gpt2"],
            capture_output=True, text=True, cwd=JS_DIR, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        snap = out.stdout.strip().splitlines()[-1]
        repos, err = self.ls_json("--revisions")
        self.assertEqual(err, "")
        [r] = repos
        self.assertEqual((r["repo_id"], r["warnings"]), ("gpt2", []))
        want = expected_numbers(r["repo_path"])
        self.assertEqual((r["size_on_disk"], r["nb_files"]),
                         (want["size_on_disk"], want["nb_files"]))
        self.assertEqual(r["revisions"][0]["snapshot_path"], snap)
        self.run_cli("cache", "verify", check=0)
        self.run_cli("cache", "rm", "gpt2@main", "-y", check=0)
        self.assertEqual(self.ls_json()[0], [])

    def test_huggingface_hub_scan_cache_dir_agrees(self):
        if not HFHUB_SRC:
            self.skipTest("HUB_TEST_HFHUB_SRC not set")
        self.populate()
        self.worked_example()
        code = (
            "import json, sys\n"
            "from huggingface_hub import scan_cache_dir\n"
            "info = scan_cache_dir(sys.argv[1])\n"
            "print(json.dumps({'warnings': [str(w) for w in info.warnings],"
            " 'size': info.size_on_disk, 'repos': [{'repo_id': r.repo_id,"
            " 'repo_type': r.repo_type, 'repo_path': str(r.repo_path),"
            " 'size_on_disk': r.size_on_disk, 'nb_files': r.nb_files,"
            " 'last_accessed': int(r.last_accessed),"
            " 'last_modified': int(r.last_modified),"
            " 'refs': sorted(r.refs), 'revisions': sorted([{"
            "'commit_hash': v.commit_hash, 'refs': sorted(v.refs),"
            " 'size_on_disk': v.size_on_disk, 'nb_files': v.nb_files,"
            " 'last_modified': int(v.last_modified),"
            " 'snapshot_path': str(v.snapshot_path)} for v in r.revisions],"
            " key=lambda v: v['commit_hash'])} for r in info.repos]}))\n")
        env = dict(self.env, PYTHONPATH=HFHUB_SRC)
        out = subprocess.run(["/usr/bin/python3", "-c", code, self.cache],
                             capture_output=True, check=True, env=env,
                             timeout=120)
        hf = json.loads(out.stdout)
        # before 1.9, huggingface_hub took CACHEDIR.TAG for a broken repo
        self.assertEqual([w for w in hf["warnings"]
                          if not w.endswith("/CACHEDIR.TAG")], [])
        repos, err = self.ls_json()
        self.assertEqual(err, "")
        hfr = {(r["repo_type"], r["repo_id"]): r for r in hf["repos"]}
        self.assertEqual(set(hfr), {(r["repo_type"], r["repo_id"]) for r in repos})
        for r in repos:
            mine = dict(r)
            del mine["warnings"]
            self.assertEqual(mine, hfr[(r["repo_type"], r["repo_id"])])
        self.assertEqual(hf["size"], sum(r["size_on_disk"] for r in repos))

    # -- defects --------------------------------------------------------

    def test_defects_are_warnings_and_the_repo_stays_listed(self):
        repo = self.worked_example()
        self.populate()
        before, _ = self.ls_json()
        size_before = {r["repo_id"]: r["size_on_disk"] for r in before}
        outside = os.path.join(self.tmp, "outside.bin")
        with open(outside, "wb") as f:
            f.write(b"x" * 12345)
        snap_a = os.path.join(repo, "snapshots", REV_A)
        os.symlink(outside, os.path.join(snap_a, "escape.bin"))
        os.symlink("../../../../outside.bin", os.path.join(snap_a, "escape2.bin"))
        # broken link: the only blob of revision C is gone
        os.unlink(os.path.join(repo, "blobs", ONLY_C))
        # a ref to a snapshot that does not exist
        with open(os.path.join(repo, "refs", "ghost"), "w") as f:
            f.write("9" * 40)
        # a stray file in snapshots/ and one at the top of the cache
        with open(os.path.join(repo, "snapshots", "stray.txt"), "w") as f:
            f.write("x")
        with open(os.path.join(self.cache, "version.txt"), "w") as f:
            f.write("1")
        repos, err = self.ls_json()
        ex = next(r for r in repos if r["repo_id"] == "org/example")
        self.assertEqual(ex["size_on_disk"], 5000)  # C's blob is gone
        self.assertEqual(ex["nb_files"], 2)
        self.assertEqual(len(ex["revisions"]), 3)
        w = "\n".join(ex["warnings"])
        self.assertIn("broken link", w)
        self.assertIn(ONLY_C, w)
        self.assertIn("escape.bin links to '" + outside + "'", w)
        self.assertIn("escape2.bin links to '../../../../outside.bin'", w)
        self.assertIn("not followed", w)
        self.assertIn("ref 'ghost' names commit '" + "9" * 40, w)
        self.assertIn("stray file", w)
        self.assertIn("stray.txt", w)
        for line in ex["warnings"]:
            self.assertIn(line, err)
        self.assertIn("version.txt", err)
        # nothing outside was counted; the other repos are unchanged
        self.assertEqual(ex["revisions"][0]["size_on_disk"], 5000)
        for r in repos:
            if r["repo_id"] != "org/example":
                self.assertEqual(r["size_on_disk"], size_before[r["repo_id"]])
                self.assertEqual(r["warnings"], [])

    def test_deep_snapshot_is_bounded(self):
        repo = self.worked_example()
        d = os.path.join(repo, "snapshots", REV_C)
        for i in range(300):
            d = os.path.join(d, "d")
        os.makedirs(d)
        repos, err = self.ls_json()
        ex = repos[0]
        self.assertEqual(ex["size_on_disk"], 6000)
        self.assertTrue(any("folder too deep" in w for w in ex["warnings"]),
                        ex["warnings"])

    def test_unreadable_folder(self):
        self.populate()
        path = self.repo_dir(DEMO)
        snaps = os.path.join(path, "snapshots", DEMO_V1)
        run_as = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                self.skipTest("setpriv missing")
            run_as = ["setpriv", "--reuid=65534", "--regid=65534",
                      "--clear-groups"]
            for d, _, _ in os.walk(self.tmp):
                os.chmod(d, 0o755)
            os.chmod(self.tmp, 0o755)
            os.chmod(snaps, 0o700)
        else:
            os.chmod(snaps, 0)
        try:
            proc = subprocess.run(
                run_as + [sys.modules["cli_util"].HUBFETCH, "cache", "ls",
                          "--format", "json", "--cache-dir", self.cache],
                capture_output=True, env=self.env, timeout=60)
        finally:
            os.chmod(snaps, 0o755)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        repos = json.loads(proc.stdout)
        model = next(r for r in repos if r["repo_id"] == DEMO)
        self.assertEqual(len(repos), 3)
        self.assertEqual(len(model["revisions"]), 3)
        self.assertTrue(any("cannot read" in w and DEMO_V1 in w
                            for w in model["warnings"]), model["warnings"])
        self.assertIn("Permission denied", proc.stderr.decode())
        self.assertGreater(model["size_on_disk"], 0)

    # -- formats --------------------------------------------------------

    def test_table_csv_quiet(self):
        self.populate()
        self.worked_example()
        repos, _ = self.ls_json()
        out, err = self.ls()
        self.assertEqual(err, "")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(),
                         ["ID", "SIZE", "LAST_ACCESSED", "LAST_MODIFIED", "REFS"])
        self.assertTrue(set(lines[1].replace(" ", "")) == {"-"})
        ids = [f"{r['repo_type']}/{r['repo_id']}" for r in repos]
        self.assertEqual([ln.split()[0] for ln in lines[2:2 + len(repos)]], ids)
        row = next(ln for ln in lines if ln.startswith("model/org/example "))
        self.assertIn("     6.0K a few seconds ago", row)
        self.assertTrue(row.rstrip().endswith("main v1"))
        nrev = sum(len(r["revisions"]) for r in repos)
        total = fmt_size(sum(r["size_on_disk"] for r in repos))
        self.assertEqual(lines[-1], f"Found {len(repos)} repo(s) for a total "
                         f"of {nrev} revision(s) and {total} on disk.")
        out, _ = self.ls("--revisions")
        lines = out.splitlines()
        self.assertEqual(lines[0].split(),
                         ["ID", "REVISION", "SIZE", "LAST_MODIFIED", "REFS"])
        self.assertEqual(len(lines), 2 + nrev + 2)
        # csv
        out, _ = self.ls("--format", "csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([r["repo_id"] for r in rows], [r["repo_id"] for r in repos])
        for c, j in zip(rows, repos):
            self.assertEqual(int(c["size_on_disk"]), j["size_on_disk"])
            self.assertEqual(int(c["nb_files"]), j["nb_files"])
            self.assertEqual(int(c["last_accessed"]), j["last_accessed"])
            self.assertEqual(c["refs"].split(), j["refs"])
            self.assertEqual(c["repo_path"], j["repo_path"])
        out, _ = self.ls("--format", "csv", "--revisions")
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), nrev)
        self.assertEqual(set(rows[0]), {"repo_id", "repo_type", "revision",
                                        "snapshot_path", "size_on_disk",
                                        "nb_files", "last_accessed",
                                        "last_modified", "refs"})
        # -q: targets of cache rm
        out, _ = self.ls("-q")
        self.assertEqual(out.splitlines(),
                         [f"{r['repo_type']}:{r['repo_id']}" for r in repos])
        out, _ = self.ls("-q", "--revisions", "--filter", "type=model")
        expect = [f"model:{r['repo_id']}@{v['commit_hash']}" for r in repos
                  if r["repo_type"] == "model" for v in r["revisions"]]
        self.assertEqual(out.splitlines(), expect)
        # JSON with --revisions keeps the repos of the rows kept
        js, _ = self.ls_json("--revisions", "--filter", "refs=main")
        self.assertEqual(sorted(r["repo_id"] for r in js),
                         sorted(r["repo_id"] for r in repos))
        for r in js:
            self.assertEqual([v["refs"] for v in r["revisions"]], [["main"]])

    def test_empty_cache(self):
        os.makedirs(self.cache)
        out, _ = self.ls()
        self.assertEqual(out, "No cached repositories found.\n")
        out, _ = self.ls("--format", "json")
        self.assertEqual(json.loads(out), [])
        out, _ = self.ls("-q")
        self.assertEqual(out, "")
        shutil.rmtree(self.cache)
        rc, out, err = self.run_cli("cache", "ls")
        self.assertNotEqual(rc, 0)
        self.assertIn("cache directory not found", err)

    def test_filters_sort_limit(self):
        self.populate()
        self.worked_example()
        repos, _ = self.ls_json()

        def ids(*args):
            return [f"{r['repo_type']}:{r['repo_id']}"
                    for r in self.ls_json(*args)[0]]
        every = ids()
        self.assertEqual(ids("--filter", "type=dataset"),
                         ["dataset:hubfetch/demo-data"])
        self.assertEqual(ids("--filter", "TYPE=model".lower()),
                         ["model:hubfetch/demo-model", "model:org/example"])
        self.assertEqual(ids("--filter", "size>1GB"), [])
        self.assertEqual(ids("--filter", "size>=0"), every)
        self.assertEqual(ids("--filter", "size>5999", "--filter", "size<6001"),
                         ["model:org/example"])
        self.assertEqual(ids("--filter", "size=6k"), ["model:org/example"])
        self.assertEqual(ids("--filter", "modified<7d"), every)
        self.assertEqual(ids("--filter", "accessed>30d"), [])
        self.assertEqual(ids("--filter", "refs=v1"), ["model:org/example"])
        by_size = sorted(repos, key=lambda r: -r["size_on_disk"])
        self.assertEqual(ids("--sort", "size"),
                         [f"{r['repo_type']}:{r['repo_id']}" for r in by_size])
        self.assertEqual(ids("--sort", "size:asc"),
                         [f"{r['repo_type']}:{r['repo_id']}"
                          for r in sorted(repos, key=lambda r: r["size_on_disk"])])
        self.assertEqual(ids("--sort", "name:desc"), every[::-1])
        self.assertEqual(ids("--sort", "size", "--limit", "1"), ids("--sort", "size")[:1])
        self.assertEqual(ids("--limit", "0"), [])
        self.assertEqual(len(ids("--sort", "accessed")), len(every))
        self.assertEqual(len(ids("--sort", "modified:asc")), len(every))
        # the old entry: accessed and modified long ago
        old = time.time() - 40 * 86400
        for dp, _, fs in os.walk(os.path.join(self.cache, "models--org--example", "blobs")):
            for f in fs:
                os.utime(os.path.join(dp, f), (old, old))
        self.assertEqual(ids("--filter", "accessed>30d"), ["model:org/example"])
        self.assertEqual(ids("--filter", "modified>4w"), ["model:org/example"])
        self.assertEqual(ids("--sort", "accessed")[-1], "model:org/example")
        out, _ = self.ls("--filter", "accessed>30d")
        self.assertIn(" 6 weeks ago ", out)
        # usage errors: exit 2
        for bad in (["--filter", "size==1"], ["--filter", "colour=red"],
                    ["--filter", "size>1.5GB"], ["--filter", "type>model"],
                    ["--filter", "refs!=main"], ["--filter", "garbage"],
                    ["--sort", "colour"], ["--sort", "size:up"],
                    ["--limit", "-1"], ["--limit", "x"], ["--format", "yaml"],
                    ["--bogus"], ["extra"]):
            rc, out, err = self.run_cli("cache", "ls", *bad)
            self.assertEqual(rc, 2, bad)
            self.assertEqual(out, "")
            self.assertTrue(err.startswith("hubfetch: "), err)
        rc, _, _ = self.run_cli("cache")
        self.assertEqual(rc, 2)
        rc, _, _ = self.run_cli("cache", "frobnicate")
        self.assertEqual(rc, 2)
        rc, out, _ = self.run_cli("cache", "ls", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("--revisions", out)

    def test_environment_and_cache_dir(self):
        self.worked_example()
        home = os.path.join(self.tmp, "hfhome")
        shutil.move(self.cache, os.path.join(home, "hub"))
        env = {"HF_HUB_CACHE": "", "HF_HOME": home}
        e = dict(self.env)
        del e["HF_HUB_CACHE"]
        e["HF_HOME"] = home
        proc = subprocess.run([sys.modules["cli_util"].HUBFETCH, "cache", "ls", "-q"],
                              capture_output=True, env=e, timeout=60)
        self.assertEqual(proc.stdout.decode(), "model:org/example\n")
        del env
        out, _ = self.ls("-q", "--cache-dir", os.path.join(home, "hub"))
        self.assertEqual(out, "model:org/example\n")


if __name__ == "__main__":
    unittest.main()
