#!/usr/bin/env python3
"""hubfetch --hub modelscope against the fake ModelScope: the classic cache
layout, checked by walking each SDK's own lookup rules (tests/modelscope/
sdk_rules.py); listings, revisions, tokens kept from the CDN, errors that
ModelScope hides in HTTP 200 answers, datasets, resume, offline."""
import atexit
import hashlib
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from cli_util import HUBFETCH, SOURCE, CliTestCase, read

sys.path.insert(0, os.path.join(SOURCE, "tests", "modelscope"))
import sdk_rules  # noqa: E402

MS_FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "modelscope")
DEMO = "hubfetch/ms-demo"
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ModelScopeTest(CliTestCase):

    ms_fixtures = MS_FIXTURES

    def setUp(self):
        super().setUp()
        self.use_modelscope()

    def ms(self, *args, **kw):
        return self.download("--hub", "modelscope", *args, **kw)

    def run_ms(self, *args, **kw):
        return self.run_cli("download", "--hub", "modelscope", *args, **kw)

    def listing(self, repo=DEMO, revision="master", kind="models"):
        if kind == "datasets":
            files, page = [], 1
            while True:
                url = (f"{self.hub.url}/api/v1/datasets/{repo}/repo/tree?Revision={revision}"
                       f"&Root=/&Recursive=True&PageNumber={page}&PageSize=100")
                data = json.load(_opener.open(url))["Data"]
                got = data["Files"] if isinstance(data, dict) else data
                files += got
                if len(got) < 100:
                    return files
                page += 1
        url = f"{self.hub.url}/api/v1/{kind}/{repo}/repo/files?Revision={revision}&Recursive=true"
        return json.load(_opener.open(url))["Data"]["Files"]

    def expected(self, repo, rev, path, kind="model"):
        return self.hub.ms_fixtures.repo(repo, kind).resolve(rev).files[path].read()

    def assert_sdks_find_everything(self, repo=DEMO, revision="master", kind="model"):
        entries = self.listing(repo, revision, kind + "s")
        classic = sdk_rules.classic_is_cached(self.root, repo, entries, repo_type=kind)
        self.assertTrue(classic and all(classic.values()),
                        {p: l for p, l in classic.items() if not l})
        new = sdk_rules.new_is_cached(self.root, repo, revision, entries, repo_type=kind)
        self.assertTrue(new and all(new.values()), {p: l for p, l in new.items() if not l})

    def test_snapshot_lands_where_both_sdks_look(self):
        path = self.ms(DEMO)
        self.assertEqual(path, os.path.join(self.root, "models", "hubfetch", "ms-demo"))
        for e in self.listing():
            if e["Type"] == "blob":
                self.assertEqual(read(os.path.join(path, e["Path"])),
                                 self.expected(DEMO, "master", e["Path"]), e["Path"])
        self.assert_sdks_find_everything()
        with open(os.path.join(path, ".msc"), "rb") as f:
            msc = pickle.load(f)
        self.assertEqual(sorted(m["Path"] for m in msc),
                         sorted(e["Path"] for e in self.listing() if e["Type"] == "blob"))
        with open(os.path.join(path, ".mdl"), "rb") as f:
            self.assertEqual(pickle.load(f), {"id": "hubfetch/ms-demo"})
        self.assertTrue(read(os.path.join(path, ".mv")).decode().startswith("Revision:master,CreatedAt:"))
        # nothing half-done left beside the files
        self.assertFalse([n for n in os.listdir(path) if "incomplete" in n])

    def test_a_second_run_downloads_nothing(self):
        self.ms(DEMO)
        self.hub.clear_log()
        self.ms(DEMO)
        self.assertFalse([r for r in self.requests() if "FilePath=" in r["path"]])
        self.assertFalse(self.requests("cdn"))

    def test_default_roots_of_both_sdks(self):
        # no MODELSCOPE_CACHE: classic writes under ~/.cache/modelscope/hub,
        # and the newer SDK (root ~/.cache/modelscope) looks in <root>/hub
        del self.env["MODELSCOPE_CACHE"]
        path = self.ms(DEMO, "config.json")
        home = self.env["HOME"]
        self.assertEqual(path, os.path.join(home, ".cache/modelscope/hub/models/hubfetch/ms-demo/config.json"))
        entries = [e for e in self.listing() if e["Path"] == "config.json"]
        self.assertTrue(sdk_rules.classic_is_cached(os.path.join(home, ".cache/modelscope/hub"),
                                                    DEMO, entries)["config.json"])
        self.assertTrue(sdk_rules.new_is_cached(os.path.join(home, ".cache/modelscope"),
                                                DEMO, "master", entries)["config.json"])

    def test_dotted_repo_id_is_masked_and_linked(self):
        path = self.ms("hubfetch/Qwen2.5-mini")
        self.assertEqual(path, os.path.join(self.root, "models", "hubfetch", "Qwen2___5-mini"))
        link = os.path.join(self.root, "models", "hubfetch", "Qwen2.5-mini")
        self.assertEqual(os.path.realpath(link), path)
        self.assert_sdks_find_everything("hubfetch/Qwen2.5-mini")

    def test_tag_revision(self):
        path = self.ms(DEMO, "--revision", "v1.0")
        self.assertEqual(read(os.path.join(path, "config.json")),
                         self.expected(DEMO, "v1.0", "config.json"))
        self.assertEqual(read(os.path.join(path, ".mv")).decode().split(",")[0], "Revision:v1.0")
        self.assert_sdks_find_everything(revision="v1.0")
        rc, out, err = self.run_ms(DEMO, "--revision", "main")
        self.assertEqual(rc, 16, err)
        self.assertIn("'master'", err)

    def test_private_repo_token_never_reaches_the_cdn(self):
        rc, out, err = self.run_ms("hubfetch/ms-private")
        self.assertIn(rc, (15, 19), err)
        self.assertIn("MODELSCOPE_API_TOKEN", err)
        self.hub.clear_log()
        self.ms("hubfetch/ms-private", env={"MODELSCOPE_API_TOKEN": "ms_alice"})
        hub = self.requests("hub")
        self.assertTrue(all(r["cookie"] and r["auth"] for r in hub))
        cdn = self.requests("cdn")
        self.assertTrue(cdn)
        self.assertFalse(any(r["cookie"] or r["auth"] for r in cdn))

    def test_error_inside_a_200_answer(self):
        rc, out, err = self.run_ms("hubfetch/ms-unavailable")
        self.assertEqual(rc, 15, err)
        self.assertIn("10010205001", err)
        self.assertIn("model does not exist", err)
        self.hub.faults([{"match": "FilePath=config.json", "server": "hub",
                          "action": {"ms_code": 10990101007, "message": "文件不存在"}}])
        rc, out, err = self.run_ms(DEMO, "config.json")
        self.assertNotEqual(rc, 0)
        self.assertIn("10990101007", err)
        self.assertFalse(os.path.exists(os.path.join(self.root, "models", "hubfetch", "ms-demo",
                                                     "config.json")))

    def test_missing_repo_and_file(self):
        rc, out, err = self.run_ms("hubfetch/nope")
        self.assertEqual(rc, 15, err)
        rc, out, err = self.run_ms(DEMO, "nope.bin")
        self.assertEqual(rc, 17, err)
        self.assertIn("nope.bin", err)

    def test_datasets_paged_and_unsized_files(self):
        path = self.ms("hubfetch/ms-many", "--repo-type", "dataset")
        self.assertEqual(len(os.listdir(os.path.join(path, "rows"))), 230)
        pages = [r for r in self.requests() if "/repo/tree" in r["path"]]
        self.assertEqual(len(pages), 3)
        self.assert_sdks_find_everything("hubfetch/ms-many", kind="dataset")
        # the listing says Size 0 for train.parquet: the size comes from the
        # download, and the sha256 still checks it
        path = self.ms("hubfetch/ms-data", "train.parquet", "--repo-type", "dataset")
        self.assertEqual(read(path), self.expected("hubfetch/ms-data", "master", "train.parquet",
                                                   "dataset"))
        self.assertEqual(path, os.path.join(self.root, "datasets", "hubfetch", "ms-data",
                                            "train.parquet"))

    def test_offline_answers_from_the_index(self):
        rc, out, err = self.run_ms(DEMO, "--offline")
        self.assertEqual(rc, 21, err)
        self.ms(DEMO, "--include", "*.json")
        self.hub.clear_log()
        self.assertTrue(self.ms(DEMO, "config.json", "--offline").endswith("config.json"))
        self.ms(DEMO, "--offline")
        rc, out, err = self.run_ms(DEMO, "model.safetensors", "--offline")
        self.assertEqual(rc, 21, err)
        self.assertEqual(self.requests(), [])

    def test_prefer_offline_still_asks_the_hub(self):
        # the index cannot tell which revision a cached file belongs to
        self.ms(DEMO, "--include", "*.json")
        self.hub.clear_log()
        self.assertTrue(self.ms(DEMO, "config.json", "--prefer-offline").endswith("config.json"))
        self.assertTrue(self.requests())

    def test_reads_a_cache_the_classic_sdk_wrote(self):
        files = {e["Path"]: (e["Revision"], self.expected(DEMO, "master", e["Path"]))
                 for e in self.listing() if e["Type"] == "blob"}
        sdk_rules.write_classic_cache(self.root, DEMO, files, revision="master",
                                      created_at=1700000000)
        self.hub.clear_log()
        self.ms(DEMO)
        self.assertFalse([r for r in self.requests() if "FilePath=" in r["path"]])

    def test_resumes_the_classic_sdk_partial(self):
        f = self.hub.ms_fixtures.repo("hubfetch/ms-big").resolve("master").files["model.bin"]
        temp = os.path.join(self.root, "models", "._____temp", "hubfetch", "ms-big", "model.bin")
        os.makedirs(os.path.dirname(temp))
        half = f.size // 2
        with open(temp, "wb") as out:
            out.write(f.read(0, half))
        path = self.ms("hubfetch/ms-big", "model.bin")
        self.assertEqual(hashlib.sha256(read(path)).hexdigest(), f.sha256)
        self.assertEqual(sum(r["bytes"] for r in self.requests("cdn")), f.size - half)

    def test_local_dir(self):
        out = os.path.join(self.tmp, "out")
        path = self.ms(DEMO, "--local-dir", out)
        self.assertEqual(path, os.path.realpath(out))
        self.assertEqual(read(os.path.join(out, "config.json")),
                         self.expected(DEMO, "master", "config.json"))
        self.assertTrue(os.path.isfile(os.path.join(out, ".msc")))
        self.assertFalse(os.path.exists(os.path.join(out, ".mdl")))
        entries = self.listing()
        classic = sdk_rules.classic_is_cached(self.root, DEMO, entries, local_dir=out)
        self.assertTrue(all(classic.values()))

    def test_lookups_never_set_the_index_aside(self):
        # a read-only lookup (--offline) that cannot parse .msc leaves it
        # where it is: only a download holding the repo lock may move it
        path = os.path.dirname(self.ms(DEMO, "config.json"))
        msc = os.path.join(path, ".msc")
        with open(msc, "wb") as f:
            f.write(b"\x80\x04not a pickle")
        rc, out, err = self.run_ms(DEMO, "config.json", "--offline")
        self.assertEqual(rc, 21, err)
        self.assertEqual(read(msc), b"\x80\x04not a pickle")
        self.assertFalse(os.path.exists(msc + ".corrupted"))
        rc, out, err = self.run_ms(DEMO, "--offline")
        self.assertEqual(rc, 21, err)
        self.assertIn("has no files in the cache", err)
        self.assertEqual(read(msc), b"\x80\x04not a pickle")
        # a download does set it aside, as the SDK does, and starts anew
        self.ms(DEMO, "config.json")
        self.assertTrue(os.path.exists(msc + ".corrupted"))
        with open(msc, "rb") as f:
            self.assertEqual([m["Path"] for m in pickle.load(f)], ["config.json"])

    def test_planted_lock_symlink_is_not_followed(self):
        # F3 for the SDK's repo lock: a symlink planted in a shared cache
        # must not truncate or chmod what it points at
        victim = os.path.join(self.tmp, "victim.txt")
        with open(victim, "w") as f:
            f.write("precious")
        os.chmod(victim, 0o600)
        locks = os.path.join(self.root, ".lock")
        os.makedirs(locks)
        os.symlink(victim, os.path.join(locks, "hubfetch___ms-demo"))
        rc, out, err = self.run_ms(DEMO, "config.json")
        self.assertNotEqual(rc, 0)
        self.assertIn("remove it", err)
        self.assertEqual(read(victim), b"precious")
        self.assertEqual(os.stat(victim).st_mode & 0o777, 0o600)

    def run_as(self, prefix, *args, env=None):
        e = dict(self.env)
        e.update(env or {})
        proc = subprocess.run([*prefix, HUBFETCH, "download", "--hub", "modelscope", *args],
                              capture_output=True, env=e, timeout=120,
                              stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def test_shared_cache_keeps_other_users_entries(self):
        # F8: two users sharing a group-writable cache (umask 002, group
        # root); neither may lose the other's index entries
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or not setpriv:
            self.skipTest("needs root and setpriv to act as a second user")
        other = [setpriv, "--reuid=65534", "--regid=0", "--clear-groups"]
        old_umask = os.umask(0o002)
        self.addCleanup(os.umask, old_umask)
        os.chmod(self.tmp, 0o755)
        os.chmod(self.env["HOME"], 0o777)
        path = os.path.dirname(self.ms(DEMO, "config.json"))
        msc = os.path.join(path, ".msc")
        new_mode = os.stat(msc).st_mode & 0o777
        rc, out, err = self.run_as(other, DEMO, "README.md")
        self.assertEqual(rc, 0, err)
        with open(msc, "rb") as f:
            self.assertEqual(sorted(m["Path"] for m in pickle.load(f)),
                             ["README.md", "config.json"])
        # a brand-new index: 0666 less the umask, as the files beside it
        self.assertEqual(new_mode, 0o664)
        # the replacement keeps the mode of the index it replaces
        self.assertEqual(os.stat(msc).st_mode & 0o777, 0o664)
        # an index the other user cannot read is left alone, not overwritten
        os.chown(msc, 0, 0)
        os.chmod(msc, 0o000)
        before = read(msc)
        rc, out, err = self.run_as(other, DEMO, "tokenizer/vocab.txt")
        self.assertEqual(rc, 0, err)
        self.assertIn(".msc", err)
        self.assertEqual(read(msc), before)
        with open(msc, "rb") as f:
            self.assertEqual(sorted(m["Path"] for m in pickle.load(f)),
                             ["README.md", "config.json"])
        self.assertEqual(os.stat(msc).st_mode & 0o777, 0)


# A listing of many files and odd entries, generated here: 2000 empty files
# (their listed sha256 says empty: nothing to fetch) and files listed with
# Size 0 and no Sha256, which must be fetched.
MANY = 2000
_GEN = tempfile.mkdtemp(prefix="hubfetch-ms-fixtures-")
atexit.register(shutil.rmtree, _GEN, True)
shutil.copy(os.path.join(MS_FIXTURES, "tokens.json"), _GEN)
with open(os.path.join(_GEN, "ms-flat.json"), "w") as _f:
    json.dump({"type": "model", "id": "hubfetch/ms-flat", "commits": [{"refs": ["master"], "files": [
        {"generate": {"count": MANY, "prefix": "e/", "suffix": ".txt", "min_size": 0,
                      "max_size": 0, "seed": 1}},
        {"path": "unsized.txt", "text": "listed as empty, but it is not\n", "listed_size": 0,
         "listed_sha256": False},
        {"path": "empty-unsized.txt", "text": "", "listed_size": 0, "listed_sha256": False},
    ]}]}, _f)


class ModelScopeManyFilesTest(CliTestCase):

    ms_fixtures = _GEN

    def setUp(self):
        super().setUp()
        self.use_modelscope()

    def test_unsized_entries_are_fetched(self):
        # Size 0 and no Sha256: nothing says the file is empty; fetched, and
        # its size taken from the answer
        for name, text in (("unsized.txt", b"listed as empty, but it is not\n"),
                           ("empty-unsized.txt", b"")):
            self.hub.clear_log()
            path = self.download("--hub", "modelscope", "hubfetch/ms-flat", name)
            self.assertEqual(read(path), text)
            self.assertTrue([r for r in self.requests() if "FilePath=" + name in r["path"]])

    def test_index_saved_in_batches(self):
        # F14: not rewritten after every file (N files: N rewrites of an
        # index of up to N entries); still complete at the end
        strace = shutil.which("strace")
        if not strace:
            self.skipTest("needs strace to count the index's rewrites")
        trace = os.path.join(self.tmp, "strace.log")
        env = dict(self.env)
        # LeakSanitizer cannot run under ptrace (sanitizer builds)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        proc = subprocess.run(
            [strace, "-f", "-qq", "-e", "trace=rename,renameat,renameat2", "-o", trace,
             HUBFETCH, "download", "--hub", "modelscope", "hubfetch/ms-flat"],
            capture_output=True, env=env, timeout=300, stdin=subprocess.DEVNULL)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        with open(trace) as f:
            # rename(".../.msc") or renameat(dirfd, ".msc") as the target
            rewrites = sum(bool(re.search(r'[/"]\.msc"\)', line)) for line in f)
        self.assertGreaterEqual(rewrites, 1)
        self.assertLessEqual(rewrites, 20, f"{rewrites} rewrites of .msc for {MANY} files")
        path = os.path.join(self.root, "models", "hubfetch", "ms-flat")
        with open(os.path.join(path, ".msc"), "rb") as f:
            self.assertEqual(len(pickle.load(f)), MANY + 2)
        entries = [e for e in self.listing_of("hubfetch/ms-flat")]
        self.assertTrue(all(sdk_rules.classic_is_cached(self.root, "hubfetch/ms-flat",
                                                        entries).values()))

    def listing_of(self, repo):
        url = f"{self.hub.url}/api/v1/models/{repo}/repo/files?Revision=master&Recursive=true"
        return json.load(_opener.open(url))["Data"]["Files"]


if __name__ == "__main__":
    unittest.main()
