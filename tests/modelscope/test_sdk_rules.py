#!/usr/bin/env python3
"""Unit tests of sdk_rules.py, built from the descriptions in
/work/shared/reference/modelscope-protocol.md §2 and §4.3 (stdlib unittest, no network)."""

import hashlib
import os
import pickle
import pickletools
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sdk_rules as R  # noqa: E402

C1 = "1d8c4ce4db0c281a7d8c2717cbd06c4b5f2372a5"
C2 = "9068632911ed70974f4adcd490a876994d624ff2"


def entry(path, revision, data=None, entry_type="blob"):
    """A listing entry as Data.Files[] carries it (§1.6)."""
    e = {"Name": path.rsplit("/", 1)[-1], "Path": path, "Type": entry_type, "Revision": revision}
    if data is not None:
        e.update(Size=len(data), Sha256=hashlib.sha256(data).hexdigest())
    return e


class TmpCase(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="sdk-rules-")
        self.addCleanup(shutil.rmtree, self.root)

    def write(self, path, data=b"x"):
        path = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        return path

    def pickle_to(self, path, obj):
        path = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump(obj, fh)


class TestLayout(TmpCase):
    def test_roots(self):
        home = os.path.expanduser("~")
        self.assertEqual(R.classic_cache_root({}), os.path.join(home, ".cache/modelscope/hub"))
        self.assertEqual(R.new_cache_root({}), os.path.join(home, ".cache/modelscope"))
        for fn in (R.classic_cache_root, R.new_cache_root):
            self.assertEqual(fn({"MODELSCOPE_CACHE": "/x/y"}), "/x/y")
            self.assertEqual(fn({"MODELSCOPE_CACHE": ""}), fn({}))

    def test_classic_directories(self):
        # §2.1: only the name is masked, not the owner; datasets under datasets/.
        self.assertEqual(R.classic_repo_dir("/c", "Qwen/Qwen2.5-7B"), "/c/models/Qwen/Qwen2___5-7B")
        self.assertEqual(R.classic_repo_dir("/c", "a.b/c.d.e"), "/c/models/a.b/c___d___e")
        self.assertEqual(R.classic_repo_dir("/c", "o/d.s", "dataset"), "/c/datasets/o/d___s")
        # An explicit cache_dir has no models/ level; local_dir is used as is.
        self.assertEqual(R.classic_repo_dir("/c", "o/n.1", cache_dir="/x"), "/x/o/n___1")
        self.assertEqual(R.classic_repo_dir("/c", "o/n.1", local_dir="/l"), "/l")
        # Temp: unmasked name under ._____temp.
        self.assertEqual(R.classic_temp_dir("/c", "o/n.1"), "/c/models/._____temp/o/n.1")
        self.assertEqual(R.classic_temp_dir("/c", "o/n.1", cache_dir="/x"), "/x/._____temp/o/n.1")
        self.assertEqual(R.classic_temp_dir("/c", "o/n", local_dir="/l"), "/l/._____temp")
        for bad in ("noslash", "a/b/c", "/b", "a/"):
            with self.assertRaises(ValueError):
                R.classic_repo_dir("/c", bad)

    def test_new_directories(self):
        self.assertEqual(R.new_repo_dir("/c", "Qwen/Qwen2.5-7B"), "/c/models/Qwen--Qwen2.5-7B")
        self.assertEqual(R.new_repo_dir("/c", "o/d", "dataset"), "/c/datasets/o--d")
        self.assertEqual(R.new_target("/c", "o/n", "master", "a/b.txt")[0],
                         "/c/models/o--n/snapshots/master/a/b.txt")
        self.assertEqual(R.new_target("/c", "o/n", "master", "a.txt", local_dir="/l")[0], "/l/a.txt")


class TestClassicExists(TmpCase):
    def setUp(self):
        super().setUp()
        self.dir = R.classic_repo_dir(self.root, "hubfetch/Qwen2.5-mini")
        self.write(os.path.join(self.dir, "config.json"), b"{}")
        self.write(os.path.join(self.dir, "sub/vocab.txt"), b"a\n")

    def msc(self, keys):
        self.pickle_to(os.path.join(self.dir, ".msc"), keys)

    def check(self, listing, **kw):
        return R.classic_is_cached(self.root, "hubfetch/Qwen2.5-mini", listing, **kw)

    def test_revision_prefix_either_way(self):
        self.msc([{"Path": "config.json", "Revision": C1[:12]},
                  {"Path": "sub/vocab.txt", "Revision": C2}])
        result = self.check([entry("config.json", C1), entry("sub/vocab.txt", C2[:7]),
                             entry("sub", C2, entry_type="tree")])
        self.assertEqual(set(result), {"config.json", "sub/vocab.txt"})  # tree skipped
        self.assertTrue(result["config.json"])  # short in .msc, long in the listing
        self.assertTrue(result["sub/vocab.txt"])  # long in .msc, short in the listing
        self.assertEqual(result["config.json"].path, os.path.join(self.dir, "config.json"))

    def test_misses(self):
        self.msc([{"Path": "config.json", "Revision": C1}])
        # Another commit: re-download, although the bytes may be identical.
        self.assertFalse(self.check([entry("config.json", C2)])["config.json"])
        # On disk but not in .msc: a miss ("I copied files in and it re-downloads").
        lookup = self.check([entry("sub/vocab.txt", C2)])["sub/vocab.txt"]
        self.assertFalse(lookup)
        self.assertIn("not in .msc", lookup.reason)
        # In .msc but deleted from disk.
        os.unlink(os.path.join(self.dir, "config.json"))
        lookup = self.check([entry("config.json", C1)])["config.json"]
        self.assertFalse(lookup)
        self.assertIn("does not exist", lookup.reason)
        # No .msc at all, or an unreadable one (classic resets the index).
        os.unlink(os.path.join(self.dir, ".msc"))
        self.assertFalse(self.check([entry("sub/vocab.txt", C2)])["sub/vocab.txt"])
        self.write(os.path.join(self.dir, ".msc"), b"not a pickle")
        self.assertFalse(self.check([entry("sub/vocab.txt", C2)])["sub/vocab.txt"])
        with self.assertRaises(Exception):
            R.read_msc(self.dir, strict=True)

    def test_sha256_only_with_hash_validation(self):
        self.msc([{"Path": "config.json", "Revision": C1}])
        listing = [entry("config.json", C1, b"other content")]
        self.assertTrue(self.check(listing)["config.json"])  # not re-hashed by default
        self.assertFalse(self.check(listing, hash_validation=True)["config.json"])
        self.assertTrue(self.check([entry("config.json", C1, b"{}")], hash_validation=True)["config.json"])
        self.assertTrue(self.check([entry("config.json", C1)], hash_validation=True)["config.json"])

    def test_duplicate_keys_and_later_match(self):
        # Any matching key will do: the first one points at another commit.
        self.msc([{"Path": "config.json", "Revision": C2}, {"Path": "config.json", "Revision": C1}])
        self.assertTrue(self.check([entry("config.json", C1)])["config.json"])

    def test_would_download_skips_git_metadata(self):
        self.msc([{"Path": "config.json", "Revision": C1}])
        listing = [entry("config.json", C1), entry(".gitattributes", C1), entry(".gitignore", C1),
                   entry("sub/vocab.txt", C2), entry("sub", C2, entry_type="tree")]
        self.assertEqual(R.classic_would_download(self.root, "hubfetch/Qwen2.5-mini", listing),
                         ["sub/vocab.txt"])


class TestClassicLocalFilesOnly(TmpCase):
    def test_file_by_path_only(self):
        d = R.write_classic_cache(self.root, "o/m", {"a.txt": (C1, b"a")}, "master", 1)
        # Revision is ignored: any .msc key with the path, and the file must exist.
        self.assertEqual(R.classic_local_files_only(self.root, "o/m", "a.txt"), os.path.join(d, "a.txt"))
        self.write(os.path.join(d, "b.txt"))  # on disk, not in .msc
        with self.assertRaises(R.CacheMiss) as cm:
            R.classic_local_files_only(self.root, "o/m", "b.txt")
        self.assertIsInstance(cm.exception, ValueError)
        self.assertIn("outgoing traffic has been disabled", str(cm.exception))
        os.unlink(os.path.join(d, "a.txt"))
        with self.assertRaises(R.CacheMiss):
            R.classic_local_files_only(self.root, "o/m", "a.txt")

    def test_snapshot_needs_any_msc_entry(self):
        with self.assertRaises(R.CacheMiss):
            R.classic_local_files_only(self.root, "o/m")
        d = R.write_classic_cache(self.root, "o/m", {"a.txt": (C1, b"a")})
        # Any entry: the requested revision and patterns are not checked.
        self.assertEqual(R.classic_local_files_only(self.root, "o/m"), d)
        R.write_classic_cache(self.root, "o/empty", {})
        with self.assertRaises(R.CacheMiss):
            R.classic_local_files_only(self.root, "o/empty")


class TestClassicWriter(TmpCase):
    def test_layout_and_metadata(self):
        files = {"config.json": (C1, b"{}"), "sub/vocab.txt": (C2, b"a\nb\n")}
        d = R.write_classic_cache(self.root, "hubfetch/Qwen2.5-mini", files, "master", 1704067200)
        self.assertEqual(d, os.path.join(self.root, "models", "hubfetch", "Qwen2___5-mini"))
        self.assertEqual(R.read_msc(d, strict=True),
                         [{"Path": "config.json", "Revision": C1}, {"Path": "sub/vocab.txt", "Revision": C2}])
        self.assertEqual(R.read_mdl(d), {"id": "hubfetch/Qwen2___5-mini"})
        with open(os.path.join(d, ".mv"), "rb") as fh:
            self.assertEqual(fh.read(), b"Revision:master,CreatedAt:1704067200")  # no newline
        self.assertEqual(R.read_mv(d), "Revision:master,CreatedAt:1704067200")
        with open(os.path.join(d, "sub/vocab.txt"), "rb") as fh:
            self.assertEqual(fh.read(), b"a\nb\n")
        # The dotted-name symlink of a classic snapshot.
        link = os.path.join(self.root, "models", "hubfetch", "Qwen2.5-mini")
        self.assertEqual(os.path.realpath(link), os.path.realpath(d))
        # No temp file left behind (mkstemp + os.replace), temp dir empty.
        self.assertEqual(sorted(os.listdir(d)), [".mdl", ".msc", ".mv", "config.json", "sub"])
        temp = R.classic_temp_dir(self.root, "hubfetch/Qwen2.5-mini")
        self.assertEqual([f for _, _, fs in os.walk(temp) for f in fs], [])
        # A classic lookup of the listing hits every file.
        listing = [entry(p, rev, data) for p, (rev, data) in files.items()]
        result = R.classic_is_cached(self.root, "hubfetch/Qwen2.5-mini", listing, hash_validation=True)
        self.assertTrue(all(result.values()), result)

    def test_pickles_are_protocol_4_with_the_small_opcode_subset(self):
        d = R.write_classic_cache(self.root, "o/m", {"a é.txt": (C1, b"a"), "b.txt": (C2, b"b")})
        # The subset §2.2 lists for a C reader, plus BINGET/LONG_BINGET: the reference omits
        # them, but Python memoizes the 'Path'/'Revision' keys and refers back to them with
        # BINGET from the second entry on, so any real .msc of 2+ files contains BINGET.
        allowed = {"PROTO", "FRAME", "EMPTY_LIST", "EMPTY_DICT", "MARK", "SHORT_BINUNICODE",
                   "BINUNICODE", "MEMOIZE", "BINPUT", "APPEND", "APPENDS", "SETITEM", "SETITEMS",
                   "STOP", "BINGET", "LONG_BINGET"}
        ops = {}
        for name in (".msc", ".mdl"):
            with open(os.path.join(d, name), "rb") as fh:
                data = fh.read()
            self.assertEqual(data[:2], b"\x80\x04")
            ops[name] = {op.name for op, _, _ in pickletools.genops(data)}
            self.assertLessEqual(ops[name], allowed, name)
        self.assertIn("BINGET", ops[".msc"])
        # Same bytes as a plain pickle.dumps(protocol=4) of the same list, i.e. as classic.
        with open(os.path.join(d, ".msc"), "rb") as fh:
            self.assertEqual(fh.read(), pickle.dumps(R.read_msc(d), protocol=4))

    def test_put_file_replaces_the_key_of_a_path(self):
        d = R.write_classic_cache(self.root, "o/m", {"a.txt": (C1, b"old")})
        R.write_classic_cache(self.root, "o/m", {"a.txt": (C2, b"new"), "b.txt": (C2, b"b")})
        self.assertEqual(R.read_msc(d), [{"Path": "a.txt", "Revision": C2}, {"Path": "b.txt", "Revision": C2}])
        self.assertFalse(R.classic_is_cached(self.root, "o/m", [entry("a.txt", C1)])["a.txt"])

    def test_dataset_cache_dir_and_local_dir(self):
        d = R.write_classic_cache(self.root, "o/d.s", {"x.csv": (C1, b"1")}, "master", repo_type="dataset")
        self.assertEqual(d, os.path.join(self.root, "datasets", "o", "d___s"))
        self.assertEqual(R.read_mv(d), "master")  # datasets: the bare revision
        self.assertFalse(os.path.lexists(os.path.join(self.root, "datasets", "o", "d.s")))
        custom = os.path.join(self.root, "custom")
        d = R.write_classic_cache(self.root, "o/m.1", {"a": (C1, b"a")}, cache_dir=custom)
        self.assertEqual(d, os.path.join(custom, "o", "m___1"))
        self.assertTrue(R.classic_is_cached(self.root, "o/m.1", [entry("a", C1)], cache_dir=custom)["a"])
        local = os.path.join(self.root, "local")
        d = R.write_classic_cache(self.root, "o/m", {"a": (C1, b"a")}, "master", 5, local_dir=local)
        self.assertEqual(d, local)
        self.assertIsNone(R.read_mdl(local))  # local_dir mode writes no .mdl
        self.assertEqual(sorted(os.listdir(local)), ["._____temp", ".msc", ".mv", "a"])
        self.assertEqual(R.classic_local_files_only(self.root, "o/m", "a", local_dir=local),
                         os.path.join(local, "a"))


class TestNew(TmpCase):
    def test_legacy_directory_is_reused_when_non_empty(self):
        repo = "Qwen/Qwen2.5-0.5B"
        self.assertIsNone(R.find_legacy_repo_dir(self.root, repo))
        # MODELSCOPE_CACHE layout first, then the default ".../hub" layout.
        hub_dir = os.path.join(self.root, "hub", "models", "Qwen", "Qwen2___5-0___5B")
        self.write(os.path.join(hub_dir, "config.json"))
        self.assertEqual(R.find_legacy_repo_dir(self.root, repo), hub_dir)
        top = os.path.join(self.root, "models", "Qwen", "Qwen2___5-0___5B")
        os.makedirs(top)  # empty: ignored
        self.assertEqual(R.find_legacy_repo_dir(self.root, repo), hub_dir)
        self.write(os.path.join(top, ".msc"), b"")  # any entry counts
        self.assertEqual(R.find_legacy_repo_dir(self.root, repo), top)
        self.assertIsNone(R.find_legacy_repo_dir(self.root, "noslash"))
        self.assertIsNone(R.find_legacy_repo_dir(self.root, repo, "dataset"))

    def test_new_reads_a_classic_cache_without_msc(self):
        # With the default roots: classic writes ~/.cache/modelscope/hub, new looks in
        # ~/.cache/modelscope and finds hub/models/{owner}/{masked}.
        classic_root = os.path.join(self.root, "hub")
        R.write_classic_cache(classic_root, "o/m.1", {"a.txt": (C1, b"a")})
        result = R.new_is_cached(self.root, "o/m.1", "master", [entry("a.txt", C1, b"a"), "b.txt"])
        self.assertTrue(result["a.txt"])
        self.assertIn("legacy", result["a.txt"].steps[0])
        self.assertEqual(result["a.txt"].path,
                         os.path.join(classic_root, "models", "o", "m___1", "a.txt"))
        self.assertFalse(result["b.txt"])  # targets the legacy dir, not there

    def test_snapshot_layout_and_cache_hit(self):
        data = b"weights"
        target = os.path.join(self.root, "models", "o--m", "snapshots", "master", "w.bin")
        listing = [entry("w.bin", C1, data), entry("d", C1, entry_type="tree")]
        self.assertFalse(R.new_is_cached(self.root, "o/m", "master", listing)["w.bin"])
        self.write(target, data)
        result = R.new_is_cached(self.root, "o/m", "master", listing)
        self.assertEqual(set(result), {"w.bin"})
        self.assertTrue(result["w.bin"])
        self.assertEqual(result["w.bin"].path, target)
        # The literal revision string names the snapshot: a tag or commit is another directory.
        self.assertFalse(R.new_is_cached(self.root, "o/m", "v1.0", listing)["w.bin"])
        # Full re-hash: same size, other bytes -> stale.
        self.write(target, b"WEIGHTS")
        self.assertFalse(R.new_is_cached(self.root, "o/m", "master", listing)["w.bin"])
        self.assertIn("sha256 differs", R.cache_hit(target, hashlib.sha256(data).hexdigest()).reason)
        # Without a sha256 (no listing): existence is enough.
        self.assertTrue(R.new_is_cached(self.root, "o/m", "master", ["w.bin"])["w.bin"])
        self.assertTrue(R.new_is_cached(self.root, "o/m", "master", [{"Path": "w.bin", "Sha256": ""}])["w.bin"])

    def test_local_files_only(self):
        with self.assertRaises(R.CacheMiss):
            R.new_local_files_only(self.root, "o/m", "master", "a.txt")
        with self.assertRaises(R.CacheMiss):
            R.new_local_files_only(self.root, "o/m", "master")
        path = self.write("models/o--m/snapshots/master/a.txt")
        self.assertEqual(R.new_local_files_only(self.root, "o/m", "master", "a.txt"), path)
        self.assertEqual(R.new_local_files_only(self.root, "o/m", "master"), os.path.dirname(path))
        with self.assertRaises(R.CacheMiss):
            R.new_local_files_only(self.root, "o/m", "v1.0")
        # A legacy directory wins over the snapshot, also offline.
        legacy = R.write_classic_cache(self.root, "o/m", {"b.txt": (C1, b"b")})
        self.assertEqual(R.new_local_files_only(self.root, "o/m", "master"), legacy)
        with self.assertRaises(R.CacheMiss):
            R.new_local_files_only(self.root, "o/m", "master", "a.txt")
        local = os.path.join(self.root, "local")
        with self.assertRaises(R.CacheMiss):
            R.new_local_files_only(self.root, "o/m", "master", local_dir=local)

    def test_lookup_object(self):
        lookup = R.Lookup(False, None, ["one", "two"])
        self.assertFalse(lookup)
        self.assertEqual(lookup.reason, "two")
        self.assertIn("miss", repr(lookup))


if __name__ == "__main__":
    unittest.main()
