#!/usr/bin/env python3
"""hubfetch download against the fake hub: paths, cache layout, revisions,
patterns, requests made, tokens, errors and exit codes."""
import os
import unittest

from cli_util import (DEMO, DEMO_MAIN, DEMO_PR1, DEMO_V1, CliTestCase, read)


class DownloadTest(CliTestCase):

    def test_single_file_prints_its_path_and_caches_it_exactly(self):
        path = self.download(DEMO, "config.json")
        snap = os.path.join(self.repo_dir(), "snapshots", DEMO_MAIN)
        self.assertEqual(path, os.path.join(snap, "config.json"))
        self.assertEqual(read(path), self.expected(DEMO, "main", "config.json"))
        # relative symlink into blobs/, named by the git sha1
        etag = self.hub.fixtures.repo(DEMO).resolve("main").files["config.json"].etag
        self.assertEqual(os.readlink(path), f"../../blobs/{etag}")
        with open(os.path.join(self.repo_dir(), "refs", "main"), "rb") as f:
            self.assertEqual(f.read(), DEMO_MAIN.encode())  # no newline
        self.assertTrue(os.path.exists(os.path.join(
            self.cache, ".locks", f"models--{DEMO.replace('/', '--')}", f"{etag}.lock")))
        # metadata first (HEAD), then the bytes
        methods = [(r["method"], r["server"]) for r in self.requests()]
        self.assertEqual(methods[0], ("HEAD", "hub"))

    def test_lfs_file_is_verified_and_named_by_sha256(self):
        path = self.download(DEMO, "model.safetensors")
        f = self.hub.fixtures.repo(DEMO).resolve("main").files["model.safetensors"]
        self.assertEqual(os.path.basename(os.readlink(path)), f.sha256)
        self.assertEqual(read(path), f.read())
        cdn = self.requests("cdn")
        self.assertEqual(sum(r["bytes"] for r in cdn), f.size)  # each byte once
        self.assertFalse(any(r["auth"] for r in cdn))

    def test_snapshot_layout_depth_and_listing(self):
        path = self.download(DEMO)
        self.assertEqual(path, os.path.join(self.repo_dir(), "snapshots", DEMO_MAIN))
        commit = self.hub.fixtures.repo(DEMO).resolve("main")
        for name, f in commit.files.items():
            local = os.path.join(path, name)
            self.assertEqual(read(local), f.read(), name)
            depth = name.count("/")
            self.assertEqual(os.readlink(local), "../../" + "../" * depth + "blobs/" + f.etag)
        self.assertTrue(os.path.isfile(os.path.join(self.cache, "CACHEDIR.TAG")))
        self.assertTrue(os.path.isfile(os.path.join(self.repo_dir(), "trees", DEMO_MAIN + ".json")))
        # one GET per file (plus its redirect hop); no HEAD per file
        self.assertFalse([r for r in self.requests() if r["method"] == "HEAD"])

    def test_second_download_pinned_to_commit_makes_no_request(self):
        self.download(DEMO)
        self.hub.clear_log()
        self.download(DEMO, "--revision", DEMO_MAIN)
        self.download(DEMO, "config.json", "--revision", DEMO_MAIN)
        self.assertEqual(self.requests(), [])

    def test_prefer_offline_makes_no_request_once_everything_is_here(self):
        snap = self.download(DEMO, "--include", "*.json")
        self.hub.clear_log()
        self.assertEqual(self.download(DEMO, "--include", "*.json", "--prefer-offline"), snap)
        one = self.download(DEMO, "config.json", "--prefer-offline")
        self.assertEqual(one, os.path.join(snap, "config.json"))
        self.assertEqual(self.requests(), [])
        # something missing: fetched as usual, then held too
        self.download(DEMO, "--prefer-offline")
        self.assertTrue(self.requests())
        self.hub.clear_log()
        self.download(DEMO, "--prefer-offline")
        self.assertEqual(self.requests(), [])

    def test_second_download_by_branch_makes_only_metadata_requests(self):
        self.download(DEMO)
        self.hub.clear_log()
        self.download(DEMO)
        paths = [r["path"] for r in self.requests()]
        self.assertEqual(paths, [f"/api/models/{DEMO}/revision/main"])
        self.download(DEMO, "config.json")
        self.assertEqual([r["method"] for r in self.requests()][1:], ["HEAD"] * 2)

    def test_revisions_tag_pr_short_and_full_commit(self):
        v1 = self.download(DEMO, "--revision", "v1.0")
        self.assertTrue(v1.endswith(DEMO_V1))
        self.assertEqual(read(os.path.join(self.repo_dir(), "refs", "v1.0")), DEMO_V1.encode())
        self.hub.clear_log()
        pr = self.download(DEMO, "config.json", "--revision", "refs/pr/1")
        self.assertIn(DEMO_PR1, pr)
        self.assertEqual(read(os.path.join(self.repo_dir(), "refs", "refs", "pr", "1")),
                         DEMO_PR1.encode())
        self.assertIn("/resolve/refs%2Fpr%2F1/config.json", [r["path"] for r in self.requests()][0])
        short = self.download(DEMO, "config.json", "--revision", DEMO_V1[:7])
        self.assertIn(DEMO_V1, short)
        self.assertEqual(read(os.path.join(self.repo_dir(), "refs", DEMO_V1[:7])), DEMO_V1.encode())
        self.assertEqual(read(short), self.expected(DEMO, "v1.0", "config.json"))

    def test_dataset_space_and_canonical_repos(self):
        d = self.download("hubfetch/demo-data", "--repo-type", "dataset")
        self.assertIn("datasets--hubfetch--demo-data", d)
        self.assertTrue(os.path.isfile(os.path.join(d, "data", "train.csv")))
        s = self.download("hubfetch/demo-space", "app.py", "--repo-type", "space")
        self.assertIn("spaces--hubfetch--demo-space", s)
        g = self.download("gpt2")
        self.assertIn("models--gpt2", g)
        self.assertTrue(os.path.isfile(os.path.join(g, "model.safetensors")))
        self.assertIn("/api/datasets/hubfetch/demo-data/revision/main",
                      [r["path"] for r in self.requests()])

    def test_renamed_and_miscased_repo_ids_follow_the_hub(self):
        # The Hub answers both with a relative 307 to the canonical id; like
        # huggingface_hub, the cache folder is named after the id the user gave.
        commit = self.hub.fixtures.repo(DEMO).resolve("main")
        for repo in ("hubfetch/old-demo-model", "HubFetch/Demo-Model"):
            self.hub.clear_log()
            snap = self.download(repo, "--include", "*.json")
            folder = "models--" + repo.replace("/", "--")
            self.assertEqual(snap, os.path.join(self.cache, folder, "snapshots", commit.sha))
            self.assertEqual(read(os.path.join(snap, "config.json")),
                             commit.files["config.json"].read())
            one = self.download(repo, "README.md")
            self.assertEqual(read(one), commit.files["README.md"].read())
            moved = [r["path"] for r in self.requests("hub") if r["status"] == 307
                     and r["path"].startswith(("/" + repo, "/api/models/" + repo))]
            # the snapshot's info call was redirected; its listing and files then used
            # the id the hub gave (one 307, not one per request); the single file's HEAD
            # has no info call before it
            self.assertEqual(moved, [f"/api/models/{repo}/revision/main",
                                     f"/{repo}/resolve/main/README.md"])
        # another spelling does not reveal a private repo
        rc, out, err = self.run_cli("download", "HubFetch/Private-Model")
        self.assertEqual((rc, out), (15, ""), err)
        self.assertIn("not found", err)

    def test_include_exclude_and_folder_arguments(self):
        path = self.download(DEMO, "--include", "*.json", "--exclude", "tokenizer*")
        got = sorted(os.path.relpath(os.path.join(dp, f), path)
                     for dp, _, fs in os.walk(path) for f in fs)
        self.assertEqual(got, ["config.json", "generation_config.json"])
        path = self.download(DEMO, "onnx/", "tokenizer/", "--cache-dir", self.cache + "2")
        got = sorted(os.path.relpath(os.path.join(dp, f), path)
                     for dp, _, fs in os.walk(path) for f in fs)
        self.assertEqual(got, ["onnx/model.onnx", "tokenizer/vocab.txt"])
        # named files win over --include, but a folder argument stays
        path = self.download(DEMO, "config.json", "onnx/", "--include", "*.md",
                             "--cache-dir", self.cache + "3")
        got = sorted(os.path.relpath(os.path.join(dp, f), path)
                     for dp, _, fs in os.walk(path) for f in fs)
        self.assertEqual(got, ["config.json", "onnx/model.onnx"])

    def test_several_named_files(self):
        path = self.download(DEMO, "config.json", "onnx/model.onnx")
        self.assertTrue(path.endswith(DEMO_MAIN))
        self.assertEqual(sorted(os.listdir(path)), ["config.json", "onnx"])
        rc, out, err = self.run_cli("download", DEMO, "config.json", "nope.bin")
        self.assertEqual(rc, 17)
        self.assertIn("nope.bin", err)

    def test_unicode_and_spaces_in_names(self):
        path = self.download(DEMO, "docs/read me é.md")
        self.assertEqual(read(path), self.expected(DEMO, "main", "docs/read me é.md"))
        self.assertIn("/resolve/main/docs/read%20me%20%C3%A9.md", self.requests()[0]["path"])

    def test_local_dir_holds_real_files_and_metadata(self):
        out = os.path.join(self.tmp, "out")
        path = self.download(DEMO, "--local-dir", out, "--include", "*.json")
        self.assertEqual(path, os.path.realpath(out))
        cfg = os.path.join(out, "config.json")
        self.assertFalse(os.path.islink(cfg))
        self.assertEqual(read(cfg), self.expected(DEMO, "main", "config.json"))
        meta = read(os.path.join(out, ".cache/huggingface/download/config.json.metadata")).decode()
        commit, etag, ts = meta.split("\n")[:3]
        self.assertEqual(commit, DEMO_MAIN)
        self.assertEqual(etag, self.hub.fixtures.repo(DEMO).resolve("main").files["config.json"].etag)
        float(ts)
        self.assertEqual(read(os.path.join(out, ".cache/huggingface/.gitignore")), b"*")
        self.hub.clear_log()
        self.download(DEMO, "--local-dir", out, "--include", "*.json")
        self.assertEqual(self.requests("cdn"), [])
        self.assertFalse([r for r in self.requests() if "/resolve" in r["path"]])
        # a local edit is noticed and repaired
        with open(cfg, "w") as f:
            f.write("edited")
        os.utime(cfg, (1e10, 1e10))
        self.download(DEMO, "--local-dir", out, "--include", "*.json")
        self.assertEqual(read(cfg), self.expected(DEMO, "main", "config.json"))

    def test_no_symlinks_mode(self):
        path = self.download(DEMO, "--include", "*.json", env={"HF_HUB_DISABLE_SYMLINKS": "1"})
        cfg = os.path.join(path, "config.json")
        self.assertFalse(os.path.islink(cfg))
        self.assertEqual(read(cfg), self.expected(DEMO, "main", "config.json"))

    def test_dry_run_lists_and_fetches_nothing(self):
        rc, out, err = self.run_cli("download", DEMO, "--dry-run", check=0)
        self.assertIn("[dry-run] Will download 10 files (out of 10)", out)
        self.assertIn("model.safetensors", out)
        self.assertIn("33.6M", out)
        self.assertFalse(os.path.exists(os.path.join(self.repo_dir(), "snapshots")))
        self.assertFalse(self.requests("cdn"))
        self.assertFalse([r for r in self.requests() if "/resolve/" in r["path"]])

    def test_paginated_listing_is_complete(self):
        # small pages: the listing of hubfetch/paged spans several
        path = self.download("hubfetch/paged")
        commit = self.hub.fixtures.repo("hubfetch/paged").resolve("main")
        for name in commit.files:
            self.assertTrue(os.path.isfile(os.path.join(path, name)), name)

    def test_many_files_reuse_connections(self):
        path = self.download("hubfetch/many-files", "--include", "*/git-00*")
        names = [n for n in self.hub.fixtures.repo("hubfetch/many-files").resolve("main").files
                 if "/git-00" in n]
        for n in names:
            self.assertTrue(os.path.isfile(os.path.join(path, n)))
        hub = self.requests("hub")
        ports = {r["client_port"] for r in hub}
        self.assertLess(len(ports), len(hub) / 4, "connections must be reused")


class ErrorTest(CliTestCase):

    def expect(self, code, words, *args, env=None):
        rc, out, err = self.run_cli("download", *args, env=env)
        self.assertEqual(rc, code, err)
        self.assertEqual(out, "")
        # the error is one line, the last; warnings may precede it
        last = err.splitlines()[-1]
        self.assertIn(words, last)
        self.assertTrue(last.startswith("hubfetch: "), err)

    def test_missing_repo(self):
        self.expect(15, "not found", "hubfetch/nope")
        self.expect(15, "pass a token", "hubfetch/nope", "config.json")

    def test_private_repo_needs_a_token(self):
        self.expect(15, "private", "hubfetch/private-model")
        self.download("hubfetch/private-model", env={"HF_TOKEN": "hf_alice"})
        self.assertTrue(any(r["auth"] for r in self.requests("hub")))
        self.assertTrue(self.requests("cdn"))
        self.assertFalse(any(r["auth"] for r in self.requests("cdn")))

    def test_token_file_is_read(self):
        hf_home = os.path.join(self.tmp, "hfhome")
        os.makedirs(hf_home)
        with open(os.path.join(hf_home, "token"), "w") as f:
            f.write("hf_alice\n")
        self.download("hubfetch/private-model", "config.json", env={"HF_HOME": hf_home})

    def test_gated_repo(self):
        self.expect(18, "request access", "hubfetch/gated-model", "config.json")
        self.expect(18, "no access", "hubfetch/gated-model", "config.json", "--token", "hf_bob")
        self.download("hubfetch/gated-model", "model.safetensors", "--token", "hf_alice")

    def test_invalid_token(self):
        self.expect(19, "token was rejected", DEMO, "config.json", "--token", "hf_wrong")

    def test_local_dir_offline_hub_down_and_refs(self):
        out = os.path.join(self.tmp, "out")
        # nothing there: not cached, and nothing created by asking
        self.expect(21, "not in the cache", DEMO, "--local-dir", out, "--offline")
        self.assertFalse(os.path.exists(out))
        path = self.download(DEMO, "--local-dir", out, "--include", "*.json")
        # the snapshot still records its ref in the main cache (reference §4.2)
        self.assertEqual(read(os.path.join(self.repo_dir(), "refs", "main")),
                         DEMO_MAIN.encode())
        self.hub.clear_log()
        self.assertEqual(self.download(DEMO, "--local-dir", out, "--offline"), path)
        rc, got, err = self.run_cli("download", DEMO, "--local-dir", out,
                                    env={"HF_ENDPOINT": "http://127.0.0.1:9"}, check=0)
        self.assertEqual(got.strip(), path)
        self.assertIn("using the local dir on disk", err)
        self.assertEqual(self.requests(), [])

    def test_local_dir_same_content_at_another_commit(self):
        out = os.path.join(self.tmp, "out")
        self.download(DEMO, "tokenizer.json", "--local-dir", out, "--revision", DEMO_V1)
        # same etag at main: kept, and recorded at main's commit...
        self.hub.clear_log()
        self.download(DEMO, "tokenizer.json", "--local-dir", out)
        self.assertEqual(self.requests("cdn"), [])
        meta = os.path.join(out, ".cache/huggingface/download/tokenizer.json.metadata")
        self.assertEqual(read(meta).split(b"\n")[0], DEMO_MAIN.encode())
        # ...so that asking for that commit now costs no request at all
        self.hub.clear_log()
        self.download(DEMO, "tokenizer.json", "--local-dir", out, "--revision", DEMO_MAIN)
        self.assertEqual(self.requests(), [])

    def test_missing_revision_and_file(self):
        self.expect(16, "revision 'nope' not found", DEMO, "--revision", "nope")
        self.expect(17, "file 'nope.txt' not found", DEMO, "nope.txt")
        marker = os.path.join(self.repo_dir(), ".no_exist", DEMO_MAIN, "nope.txt")
        self.assertTrue(os.path.isfile(marker))

    def test_offline_and_not_cached_sends_nothing(self):
        self.expect(21, "not in the cache", DEMO, "--offline")
        self.expect(21, "HF_HUB_OFFLINE", DEMO, "config.json", env={"HF_HUB_OFFLINE": "1"})
        self.assertEqual(self.requests(), [])

    def test_offline_after_download_serves_the_cache(self):
        online = self.download(DEMO, "config.json")
        self.hub.clear_log()
        self.assertEqual(self.download(DEMO, "config.json", "--offline"), online)
        self.assertEqual(self.requests(), [])

    def test_hub_down_serves_the_cache(self):
        online = self.download(DEMO, "config.json")
        env = {"HF_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens there
        rc, out, err = self.run_cli("download", DEMO, "config.json", env=env, check=0)
        self.assertEqual(out.strip(), online)
        self.assertIn("using the copy on disk", err)
        self.expect(22, "127.0.0.1", DEMO, "tokenizer.json", env=env)

    def test_unsafe_names_in_a_listing_are_refused(self):
        self.expect(30, "unsafe file name", "hubfetch/evil-model")
        # nothing was written anywhere outside (or inside) the cache
        for root, _, files in os.walk(self.tmp):
            for f in files:
                self.assertNotIn(f, ("escape.txt", "path.txt", "b.txt"))
        self.assertFalse(os.path.exists("/abs/path.txt"))

    def test_corrupted_bytes_are_never_committed(self):
        first = self.download(DEMO, "onnx/model.onnx")
        blob = os.path.realpath(first)
        before = read(blob)
        self.hub.faults([{"match": "repos/", "server": "cdn", "action": {"corrupt": True}}])
        self.expect(29, "checksum mismatch", DEMO, "onnx/model.onnx", "--force-download")
        self.assertEqual(read(blob), before)  # the cached copy is untouched
        blobs = os.listdir(os.path.join(self.repo_dir(), "blobs"))
        self.assertEqual([b for b in blobs if b.endswith(".incomplete")], [])

    def test_usage_errors(self):
        rc, out, err = self.run_cli("download")
        self.assertEqual(rc, 2)
        rc, out, err = self.run_cli("download", DEMO, "--repo-type", "bucket")
        self.assertEqual(rc, 2)
        rc, out, err = self.run_cli("download", DEMO, "--bogus")
        self.assertEqual(rc, 2)
        for empty in ((DEMO, ""), ("",), (DEMO, "--include", "")):
            rc, out, err = self.run_cli("download", *empty)
            self.assertEqual(rc, 2 if empty != (DEMO, "--include", "") else 0, empty)
        rc, out, err = self.run_cli("download", "a/b/c")
        self.assertEqual(rc, 2)
        self.assertIn("invalid repo id", err)
        rc, out, err = self.run_cli("--version", check=0)
        self.assertRegex(out, r"^hubfetch \d+\.\d+\.\d+\n$")
        rc, out, err = self.run_cli("download", "--help", check=0)
        self.assertIn("--include", out)
        self.assertIn("exit codes", out)


if __name__ == "__main__":
    unittest.main()
