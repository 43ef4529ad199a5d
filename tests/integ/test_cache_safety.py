#!/usr/bin/env python3
"""Names and links that must never take effect (security audit F1, F2, F3,
F6, F7, F10): a hostile hub's etags and revisions, a shared cache's planted
trees/*.json and symlinks, disk reserved on a server's word, and snapshot
walks that follow links. Each test reproduces the attack and checks that
nothing outside the cache was touched."""
import json
import os
import stat
import time
import unittest

from cli_util import DEMO, DEMO_MAIN, CliTestCase, load_json_lines, read


def all_files(top):
    for root, _, files in os.walk(top):
        for f in files:
            yield os.path.join(root, f)


class CacheSafetyTest(CliTestCase):

    def setUp(self):
        super().setUp()
        self.home = self.env["HOME"]

    def expect_fail(self, code, words, *args, env=None):
        rc, out, err = self.run_cli("download", *args, env=env)
        self.assertEqual(rc, code, err)
        self.assertEqual(out, "")
        self.assertIn(words, err.splitlines()[-1])
        return err

    def hostile_head(self, path, etag, size=5, body="PWNED"):
        """The hub answers the file's resolve itself, with this etag."""
        self.hub.faults([{
            "match": f"/resolve/main/{path}$", "server": "hub",
            "action": {"status": 200, "body": body, "headers": {
                "X-Repo-Commit": DEMO_MAIN, "ETag": f'"{etag}"',
                "Accept-Ranges": "bytes"}}}])

    # ---- F1: an etag from the HEAD is a file name and a digest --------------

    def test_etag_with_a_path_writes_nothing_outside_the_cache(self):
        # blobs/../../../home/pwn.txt is <tmp>/home/pwn.txt
        self.hostile_head("config.json", "../../../home/pwn.txt")
        self.expect_fail(30, "usable ETag", DEMO, "config.json")
        self.assertFalse(os.path.exists(os.path.join(self.home, "pwn.txt")))
        self.assertEqual([f for f in all_files(self.tmp) if "pwn" in f], [])

    def test_an_etag_that_is_not_a_digest_is_refused(self):
        # a weak or opaque etag leaves nothing to verify the bytes against
        self.hostile_head("config.json", "5-abcdef")
        self.expect_fail(30, "usable ETag", DEMO, "config.json")
        self.hostile_head("config.json", "ABCDEF" * 10 + "ABCD")  # not lowercase
        self.expect_fail(30, "usable ETag", DEMO, "config.json")
        blobs = os.path.join(self.repo_dir(), "blobs")
        self.assertEqual(os.listdir(blobs) if os.path.isdir(blobs) else [], [])

    # ---- F2: a planted trees/<commit>.json ----------------------------------

    def plant_tree(self, blob_id):
        self.download(DEMO, "--include", "*.json")
        tree = os.path.join(self.repo_dir(), "trees", f"{DEMO_MAIN}.json")
        with open(tree) as f:
            data = json.load(f)
        data["files"]["config.json"]["blob_id"] = blob_id
        with open(tree, "w") as f:
            json.dump(data, f, indent=1)
        os.unlink(os.path.join(self.repo_dir(), "snapshots", DEMO_MAIN,
                               "config.json"))

    def test_tree_cache_blob_id_cannot_name_a_file_outside(self):
        secret = os.path.join(self.home, "secret")
        with open(secret, "w") as f:
            f.write("victim's key\n")
        os.chmod(secret, 0o600)
        self.plant_tree("../../../home/secret")
        for env in ({}, {"HF_HUB_DISABLE_SYMLINKS": "1"}):
            snap = self.download(DEMO, "--include", "*.json", env=env)
            got = read(os.path.join(snap, "config.json"))
            self.assertEqual(got, self.expected(DEMO, "main", "config.json"))
            self.assertNotIn(b"victim", got)
        self.assertEqual(read(secret), b"victim's key\n")

    # ---- F3: symlinks planted in a shared cache ------------------------------

    def etag_of(self, path):
        return self.hub.fixtures.repo(DEMO, "model").resolve("main").files[path].etag

    def victim_file(self, name, content=b"victim data\n"):
        p = os.path.join(self.home, name)
        with open(p, "wb") as f:
            f.write(content)
        os.chmod(p, 0o600)
        return p

    def test_a_planted_lock_link_is_not_followed(self):
        victim = self.victim_file("private.txt")
        locks = os.path.join(self.cache, ".locks", "models--hubfetch--demo-model")
        os.makedirs(locks)
        os.symlink(victim, os.path.join(locks, self.etag_of("config.json") + ".lock"))
        self.expect_fail(27, "symbolic link", DEMO, "config.json")
        self.assertEqual(read(victim), b"victim data\n")
        self.assertEqual(stat.S_IMODE(os.stat(victim).st_mode), 0o600)

    def test_a_planted_incomplete_link_is_replaced_not_written_through(self):
        for path, conns in (("config.json", "1"), ("model.safetensors", "4")):
            victim = self.victim_file("notes.txt")
            blobs = os.path.join(self.repo_dir(), "blobs")
            os.makedirs(blobs, exist_ok=True)
            etag = self.etag_of(path)
            names = [etag + ".incomplete", etag + ".hubfetch.incomplete",
                     etag + ".hubfetch-journal.incomplete"]
            for n in names:
                os.symlink(victim, os.path.join(blobs, n))
            got = self.download(DEMO, path, "-c", conns)
            self.assertEqual(read(got), self.expected(DEMO, "main", path))
            self.assertEqual(read(victim), b"victim data\n")
            self.assertFalse(os.path.islink(os.path.join(blobs, etag)))
            # the names this mode writes were replaced, then renamed away
            used = names[:1] if conns == "1" else names[1:]
            for n in used:
                self.assertFalse(os.path.lexists(os.path.join(blobs, n)), n)
            for n in names:
                if os.path.lexists(os.path.join(blobs, n)):
                    os.unlink(os.path.join(blobs, n))

    def test_a_hard_linked_partial_is_not_resumed_into(self):
        victim = self.victim_file("hard.txt", b"{")  # a plausible prefix
        blobs = os.path.join(self.repo_dir(), "blobs")
        os.makedirs(blobs)
        os.link(victim, os.path.join(blobs, self.etag_of("config.json") + ".incomplete"))
        got = self.download(DEMO, "config.json")
        self.assertEqual(read(got), self.expected(DEMO, "main", "config.json"))
        self.assertEqual(read(victim), b"{")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to make another user's files")
    def test_another_users_files_are_neither_resumed_nor_rechmoded(self):
        nobody = 65534
        blobs = os.path.join(self.repo_dir(), "blobs")
        locks = os.path.join(self.cache, ".locks", "models--hubfetch--demo-model")
        os.makedirs(blobs)
        os.makedirs(locks)
        etag = self.etag_of("config.json")
        part = os.path.join(blobs, etag + ".incomplete")
        lock = os.path.join(locks, etag + ".lock")
        for p, data in ((part, b"{ not the file"), (lock, b"")):
            with open(p, "wb") as f:
                f.write(data)
            os.chown(p, nobody, nobody)
            os.chmod(p, 0o644)
        got = self.download(DEMO, "config.json")
        self.assertEqual(read(got), self.expected(DEMO, "main", "config.json"))
        st = os.stat(lock)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (nobody, 0o644))

    def test_a_symlinked_snapshot_directory_is_never_used(self):
        project = os.path.join(self.home, "project")
        os.makedirs(project)
        vocab = os.path.join(project, "vocab.txt")
        with open(vocab, "w") as f:
            f.write("victim's vocab\n")
        snap = os.path.join(self.repo_dir(), "snapshots", DEMO_MAIN)
        os.makedirs(snap)
        os.symlink(project, os.path.join(snap, "tokenizer"))
        for extra in ((), ("--force-download",)):
            rc, out, err = self.run_cli("download", DEMO, "tokenizer/vocab.txt",
                                        "--revision", DEMO_MAIN, *extra)
            self.assertNotEqual(rc, 0, out)
            self.assertIn("symbolic link", err)
            self.assertEqual(read(vocab), b"victim's vocab\n")
            self.assertFalse(os.path.islink(vocab))
        # offline, the link is no file of the cache either
        rc, out, err = self.run_cli("download", DEMO, "tokenizer/vocab.txt",
                                    "--revision", DEMO_MAIN, "--offline")
        self.assertEqual(rc, 21, err)

    def test_a_snapshot_link_out_of_the_cache_is_not_a_cached_file(self):
        snap = self.download(DEMO, "--include", "*.json")
        victim = self.victim_file("x.json")
        cfg = os.path.join(snap, "config.json")
        os.unlink(cfg)
        os.symlink(victim, cfg)
        rc, out, err = self.run_cli("download", DEMO, "config.json",
                                    "--revision", DEMO_MAIN, "--offline")
        self.assertEqual(rc, 21, err)
        # online, the pointer is made again, the victim untouched
        got = self.download(DEMO, "config.json", "--revision", DEMO_MAIN)
        self.assertEqual(read(got), self.expected(DEMO, "main", "config.json"))
        self.assertEqual(read(victim), b"victim data\n")

    # ---- F6: disk reserved on a server's word --------------------------------

    def test_no_space_is_kept_for_a_file_that_never_came(self):
        size = 1 << 30
        sha = "ab" * 32
        for conns in ("1", "8"):
            self.hub.faults([{
                "match": "/resolve/main/model.safetensors$", "server": "hub",
                "action": {"status": 302, "body": "", "headers": {
                    "Location": f"{self.hub.cdn_url}/repos/ab/ab/{sha}",
                    "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(size),
                    "X-Repo-Commit": DEMO_MAIN}}}])
            rc, out, err = self.run_cli("download", DEMO, "model.safetensors",
                                        "-c", conns)
            self.assertEqual(rc, 26, err)
            used = sum(os.lstat(f).st_blocks * 512 for f in all_files(self.cache))
            self.assertLess(used, 1 << 20, f"{used} bytes left on disk, -c {conns}")
            leftovers = [f for f in all_files(self.cache) if f.endswith(".incomplete")]
            self.assertEqual(leftovers, [])

    def test_a_failed_partial_keeps_its_bytes_and_no_more(self):
        # the CDN drops the connection half-way: the prefix stays to resume
        self.hub.faults([{"match": "repos/", "server": "cdn",
                          "action": {"drop_after": 300000}}])
        rc, out, err = self.run_cli("download", DEMO, "onnx/model.onnx",
                                    "-c", "1", "--retries", "0")
        self.assertNotEqual(rc, 0)
        parts = [f for f in all_files(self.cache) if f.endswith(".incomplete")]
        self.assertEqual(len(parts), 1, parts)
        st = os.stat(parts[0])
        self.assertGreater(st.st_size, 0)
        # what is allocated is what was written (no reservation kept beyond)
        self.assertLessEqual(st.st_blocks * 512, st.st_size + 64 * 1024)

    def test_a_refused_download_leaves_no_empty_partial(self):
        # every way a file can fail before its first byte: nothing stays
        # but the lock files (never unlinked, as huggingface_hub's)
        cases = [
            ("gated", [], ("hubfetch/gated-model", "--token", "hf_bob"), 18),
            ("cdn 404", [{"match": "repos/", "server": "cdn",
                          "action": {"status": 404}}], (DEMO, "onnx/model.onnx"), 26),
            ("cdn 500", [{"match": "repos/", "server": "cdn",
                          "action": {"status": 500}}],
             (DEMO, "onnx/model.onnx", "--retries", "0"), 26),
            ("reset", [{"match": "repos/", "server": "cdn",
                        "action": {"drop_after": 0}}],
             (DEMO, "model.safetensors", "--retries", "0"), 22),
            ("checksum", [{"match": "repos/", "server": "cdn",
                           "action": {"corrupt": True}}], (DEMO, "onnx/model.onnx"), 29),
        ]
        for name, faults, args, code in cases:
            with self.subTest(name):
                self.hub.reset()
                self.hub.faults(faults)
                rc, out, err = self.run_cli("download", *args)
                self.assertEqual(rc, code, err)
                left = [f for f in all_files(self.cache)
                        if f.endswith(".incomplete") and os.path.getsize(f) == 0]
                self.assertEqual(left, [])

    # ---- F7: revisions name files under refs/ --------------------------------

    def test_a_revision_with_dot_dot_is_refused_before_any_request(self):
        for rev in ("../../../home/keys", "main/../../x", "/etc/passwd",
                    "a//b", "refs/./x", "bad\x01rev"):
            rc, out, err = self.run_cli("download", DEMO, "config.json",
                                        "--revision", rev)
            self.assertEqual(rc, 2, err)
            self.assertIn("invalid revision", err)
        self.assertEqual(self.requests(), [])
        self.assertFalse(os.path.exists(os.path.join(self.home, "keys")))
        # a PR ref and a tag are fine
        self.download(DEMO, "config.json", "--revision", "refs/pr/1")
        self.download(DEMO, "config.json", "--revision", "v1.0")

    # ---- F10: links inside a snapshot walked offline -------------------------

    def test_offline_walk_does_not_follow_directory_links(self):
        snap = self.download(DEMO)
        os.unlink(os.path.join(self.repo_dir(), "trees", f"{DEMO_MAIN}.json"))
        os.symlink(".", os.path.join(snap, "a"))
        os.symlink(".", os.path.join(snap, "b"))
        os.symlink("..", os.path.join(snap, "docs", "up"))
        start = time.monotonic()
        rc, out, err = self.run_cli("download", DEMO, "--offline",
                                    "--progress", "json", timeout=30)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), snap)
        self.assertLess(time.monotonic() - start, 10)
        # the ten files were walked and found, the links neither
        job = [e for e in load_json_lines(err) if e["type"] == "job"][-1]
        self.assertEqual((job["file_count"], job["files_done"]), (10, 10))


if __name__ == "__main__":
    unittest.main()
