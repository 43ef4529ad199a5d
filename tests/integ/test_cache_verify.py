#!/usr/bin/env python3
"""hubfetch cache verify: a cache written by hubfetch (or by huggingface_hub,
when HUB_TEST_HFHUB_SRC is set) verifies clean; a corrupt blob names every
file of every revision using it, once; a blob shared by revisions is hashed
once; broken links and links out of the cache are failures, never followed;
--remote finds files missing and extra; local dirs by their metadata; plain
snapshot files against trees/<commit>.json."""
import json
import os
import shutil
import subprocess
import unittest

from cli_util import DEMO, DEMO_MAIN, DEMO_PR1, DEMO_V1, CliTestCase

HFHUB_SRC = os.environ.get("HUB_TEST_HFHUB_SRC")
CHECKSUM_FAILED = 29  # 10 + |HUB_ECHECKSUM|


def flip_byte(path, offset=0):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x55]))


class CacheVerifyTest(CliTestCase):

    def verify(self, *args, check=0):
        rc, out, err = self.run_cli("cache", "verify", *args, check=check)
        return out, err

    def verify_json(self, *args, check=0):
        out, err = self.verify("--format", "json", *args, check=check)
        return json.loads(out), err

    def populate(self):
        """Three revisions of the demo model: model.safetensors and
        tokenizer.json are one blob each, used by all three."""
        self.download(DEMO)
        self.download(DEMO, "--revision", "v1.0")
        self.download(DEMO, "--revision", "refs/pr/1")

    def snapshot(self, commit):
        return os.path.join(self.repo_dir(), "snapshots", commit)

    def blob_of(self, commit, path):
        return os.path.realpath(os.path.join(self.snapshot(commit), path))

    def snapshot_entries(self):
        n = 0
        for commit in os.listdir(os.path.join(self.repo_dir(), "snapshots")):
            for _d, _s, files in os.walk(self.snapshot(commit)):
                n += len(files)
        return n

    # -- sound caches -------------------------------------------------------

    def test_clean_cache_verifies(self):
        self.populate()
        out, err = self.verify()
        self.assertEqual(err, "")
        self.assertRegex(out, r"^✓ Verified 24 file\(s\) \(14 blobs, [0-9.]+M\) "
                              r"in 1 repo\(s\)\. All checksums match\.\n$")

    def test_shared_blob_hashed_once(self):
        self.populate()
        blobs = os.listdir(os.path.join(self.repo_dir(), "blobs"))
        shared = os.path.basename(self.blob_of(DEMO_MAIN, "model.safetensors"))
        for c in (DEMO_MAIN, DEMO_V1, DEMO_PR1):
            self.assertEqual(os.path.basename(
                self.blob_of(c, "model.safetensors")), shared)
        rep, err = self.verify_json()
        self.assertTrue(rep["ok"])
        self.assertEqual(rep["problems"], [])
        self.assertEqual(rep["revisions"], 3)
        self.assertEqual(rep["files"], self.snapshot_entries())
        self.assertEqual(rep["blobs"], len(blobs))
        self.assertLess(rep["blobs"], rep["files"])
        self.assertEqual(rep["bytes"], sum(
            os.path.getsize(os.path.join(self.repo_dir(), "blobs", b))
            for b in blobs))
        # naming the three revisions one by one changes nothing
        rep, _ = self.verify_json(f"{DEMO}@main", f"{DEMO}@v1.0",
                                  f"{DEMO}@{DEMO_PR1[:8]}", "--threads", "1")
        self.assertEqual(rep["blobs"], len(blobs))
        self.assertEqual(rep["threads"], 1)

    def test_targets(self):
        self.populate()
        rep, _ = self.verify_json(f"{DEMO}@main:config.json")
        self.assertEqual((rep["files"], rep["blobs"], rep["revisions"]),
                         (1, 1, 1))
        rep, _ = self.verify_json(DEMO_PR1)
        self.assertEqual(rep["revisions"], 1)
        rc, out, err = self.run_cli("cache", "verify", "org/absent")
        self.assertEqual(rc, 21, err)
        self.assertIn("org/absent", err)
        rc, _, err = self.run_cli("cache", "verify", f"{DEMO}@")
        self.assertEqual(rc, 2, err)
        rc, _, err = self.run_cli("cache", "verify", "--threads", "0")
        self.assertEqual(rc, 2, err)

    # -- failures -----------------------------------------------------------

    def test_corrupt_shared_blob_names_every_file_once(self):
        self.populate()
        blob = self.blob_of(DEMO_MAIN, "model.safetensors")
        flip_byte(blob, 12345)
        rc, out, err = self.run_cli("cache", "verify")
        self.assertEqual(rc, CHECKSUM_FAILED, out + err)
        sha = os.path.basename(blob)
        for c in (DEMO_MAIN, DEMO_V1, DEMO_PR1):
            line = f"  - model:{DEMO}@{c}:model.safetensors: expected {sha} (sha256), got "
            self.assertEqual(out.count(line), 1, out)
        self.assertEqual(out.count("  - "), 3, out)
        self.assertIn("3 of 24 file(s) failed verification", out)
        self.assertIn("hubfetch: verification failed", err)
        rep, _ = self.verify_json(check=CHECKSUM_FAILED)
        self.assertFalse(rep["ok"])
        self.assertEqual(rep["failed_files"], 3)
        self.assertEqual(rep["blobs"], 14)  # still each once
        probs = rep["problems"]
        self.assertEqual(sorted(p["commit"] for p in probs),
                         sorted([DEMO_MAIN, DEMO_V1, DEMO_PR1]))
        for p in probs:
            self.assertEqual((p["status"], p["file"], p["algorithm"],
                              p["expected"], p["path"], p["failure"]),
                             ("mismatch", "model.safetensors", "sha256", sha,
                              blob, True))
            self.assertRegex(p["actual"], "^[0-9a-f]{64}$")
            self.assertNotEqual(p["actual"], sha)

    def test_corrupt_git_blob(self):
        self.download(DEMO)
        blob = self.blob_of(DEMO_MAIN, "config.json")
        self.assertEqual(len(os.path.basename(blob)), 40)
        flip_byte(blob)
        rep, _ = self.verify_json(check=CHECKSUM_FAILED)
        [p] = rep["problems"]
        self.assertEqual((p["file"], p["algorithm"], p["expected"]),
                         ("config.json", "git-sha1", os.path.basename(blob)))

    def test_broken_link(self):
        self.populate()
        os.unlink(self.blob_of(DEMO_PR1, "PR_NOTE.md"))
        rc, out, err = self.run_cli("cache", "verify")
        self.assertEqual(rc, CHECKSUM_FAILED, out + err)
        rep, _ = self.verify_json(check=CHECKSUM_FAILED)
        [p] = rep["problems"]
        self.assertEqual((p["status"], p["commit"], p["file"]),
                         ("broken", DEMO_PR1, "PR_NOTE.md"))
        self.assertIn(f"@{DEMO_PR1}:PR_NOTE.md: broken link", out)
        # the other revisions are sound on their own
        self.verify(f"{DEMO}@main", f"{DEMO}@v1.0")

    def test_every_broken_link_is_named_past_the_warning_page(self):
        # cache ls shows 20 warnings a repository; verify names all 30
        self.populate()
        snap = self.snapshot(DEMO_PR1)
        for i in range(30):
            os.symlink("../../blobs/" + "%064x" % i,
                       os.path.join(snap, f"gone{i:02}.bin"))
        rep, _ = self.verify_json(check=CHECKSUM_FAILED)
        broken = sorted(p["file"] for p in rep["problems"]
                        if p["status"] == "broken")
        self.assertEqual(broken, [f"gone{i:02}.bin" for i in range(30)])

    def test_link_out_of_the_cache_is_not_followed(self):
        """A FIFO outside the cache would hang a reader that followed the
        link; the verify must report both links and return."""
        self.download(DEMO)
        outside = os.path.join(self.tmp, "outside")
        os.mkfifo(outside)
        entry = os.path.join(self.snapshot(DEMO_MAIN), "config.json")
        os.unlink(entry)
        os.symlink(outside, entry)
        # a blob replaced by a link out of the cache
        blob = self.blob_of(DEMO_MAIN, "README.md")
        os.unlink(blob)
        os.symlink(outside, blob)
        rc, out, err = self.run_cli("cache", "verify", "--format", "json",
                                    timeout=60)
        self.assertEqual(rc, CHECKSUM_FAILED, out + err)
        rep = json.loads(out)
        broken = sorted(p["file"] for p in rep["problems"]
                        if p["status"] == "broken")
        self.assertEqual(broken, ["README.md", "config.json"])
        self.assertEqual(rep["failed_files"], 2)
        for p in rep["problems"]:
            self.assertTrue(p["failure"])
            if p["status"] == "broken":
                self.assertIn("not followed", p["message"])
            else:  # the link in blobs/ itself
                self.assertEqual(p["status"], "defect")
                self.assertIn("/blobs/", p["message"])

    # -- --remote -----------------------------------------------------------

    def test_remote_missing_and_extra(self):
        self.download(DEMO)
        self.verify("--remote")
        snap = self.snapshot(DEMO_MAIN)
        os.unlink(os.path.join(snap, "README.md"))
        # missing alone: listed, no failure unless asked
        rep, _ = self.verify_json("--remote")
        self.assertTrue(rep["ok"])
        self.assertEqual(rep["missing"], 1)
        [p] = rep["problems"]
        self.assertEqual((p["status"], p["file"], p["failure"]),
                         ("missing", "README.md", False))
        out, _ = self.verify("--remote")
        self.assertIn(f"  - model:{DEMO}@{DEMO_MAIN}:README.md: on the hub, "
                      "not in the snapshot", out)
        rep, _ = self.verify_json("--remote", "--fail-on-missing-files",
                                  check=CHECKSUM_FAILED)
        self.assertTrue(rep["problems"][0]["failure"])
        # an extra file (linked to a sound blob) fails
        os.symlink(os.readlink(os.path.join(snap, "config.json")),
                   os.path.join(snap, "extra.json"))
        self.verify()  # offline, it is a sound blob
        rep, _ = self.verify_json("--remote", check=CHECKSUM_FAILED)
        got = {(p["status"], p["file"]) for p in rep["problems"]}
        self.assertEqual(got, {("missing", "README.md"),
                               ("extra", "extra.json")})
        self.assertEqual((rep["missing"], rep["extra"]), (1, 1))
        # the listing came from the hub, not from trees/
        tree_gets = [r for r in self.requests()
                     if f"/tree/{DEMO_MAIN}" in r["path"]]
        self.assertTrue(tree_gets)

    def test_remote_digest_differs(self):
        """A snapshot entry linked to another (sound) blob than the hub
        lists for the file."""
        self.download(DEMO)
        snap = self.snapshot(DEMO_MAIN)
        os.unlink(os.path.join(snap, "README.md"))
        os.symlink(os.readlink(os.path.join(snap, "config.json")),
                   os.path.join(snap, "README.md"))
        self.verify()
        rep, _ = self.verify_json("--remote", check=CHECKSUM_FAILED)
        [p] = rep["problems"]
        self.assertEqual((p["status"], p["file"]), ("remote_differs",
                                                    "README.md"))

    # -- plain files (no symlinks) ------------------------------------------

    def test_plain_files_checked_against_the_recorded_listing(self):
        self.download(DEMO, env={"HF_HUB_DISABLE_SYMLINKS": "1"})
        entry = os.path.join(self.snapshot(DEMO_MAIN), "config.json")
        self.assertFalse(os.path.islink(entry))
        rep, _ = self.verify_json()
        self.assertEqual((rep["ok"], rep["unverifiable"]), (True, 0))
        self.assertEqual(rep["blobs"], rep["files"])
        flip_byte(entry)
        rep, _ = self.verify_json(check=CHECKSUM_FAILED)
        [p] = rep["problems"]
        self.assertEqual((p["status"], p["file"], p["path"]),
                         ("mismatch", "config.json", entry))
        # without trees/<commit>.json: unverifiable (no failure) ...
        shutil.rmtree(os.path.join(self.repo_dir(), "trees"))
        rep, _ = self.verify_json()
        self.assertTrue(rep["ok"])
        self.assertEqual(rep["unverifiable"], rep["files"])
        self.assertEqual(rep["blobs"], 0)
        out, _ = self.verify()
        self.assertIn("Not verified", out)
        # ... unless the hub's listing says what they must be
        rep, _ = self.verify_json("--remote", check=CHECKSUM_FAILED)
        self.assertEqual(rep["unverifiable"], 0)
        self.assertEqual([p["file"] for p in rep["problems"]], ["config.json"])

    # -- local dirs ---------------------------------------------------------

    def test_local_dir(self):
        d = os.path.join(self.tmp, "local")
        self.download(DEMO, "--local-dir", d)
        out, err = self.verify("--local-dir", d)
        self.assertIn("✓ Verified 10 file(s)", out)
        self.verify("--local-dir", d, DEMO, "--remote")
        flip_byte(os.path.join(d, "onnx", "model.onnx"), 100)
        rc, out, err = self.run_cli("cache", "verify", "--local-dir", d)
        self.assertEqual(rc, CHECKSUM_FAILED, out + err)
        self.assertIn("onnx/model.onnx: expected ", out)
        self.assertEqual(out.count("  - "), 1, out)
        rc, _, err = self.run_cli("cache", "verify", "--local-dir", d,
                                  "--cache-dir", self.cache)
        self.assertEqual(rc, 2, err)
        rc, _, err = self.run_cli("cache", "verify", "--local-dir",
                                  os.path.join(self.tmp, "nope"))
        self.assertEqual(rc, 21, err)

    # -- huggingface_hub's cache --------------------------------------------

    def test_cache_written_by_huggingface_hub(self):
        if not HFHUB_SRC:
            self.skipTest("HUB_TEST_HFHUB_SRC not set")
        env = dict(self.env, PYTHONPATH=HFHUB_SRC,
                   HF_HUB_DISABLE_TELEMETRY="1")
        code = ("import sys\nfrom huggingface_hub import snapshot_download\n"
                "for rev in ('main', 'v1.0', 'refs/pr/1'):\n"
                f"    snapshot_download('{DEMO}', revision=rev)\n"
                "snapshot_download('hubfetch/demo-data', repo_type='dataset')\n")
        subprocess.run(["/usr/bin/python3", "-c", code], env=env, check=True,
                       capture_output=True, timeout=300)
        rep, err = self.verify_json()
        self.assertTrue(rep["ok"], rep)
        self.assertEqual(rep["repos"], 2)
        self.assertEqual(rep["problems"], [])
        self.verify("--remote")


if __name__ == "__main__":
    unittest.main()
