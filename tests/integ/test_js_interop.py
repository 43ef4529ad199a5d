#!/usr/bin/env python3
"""The official JS client (@huggingface/hub, installed by .ci/run) reads a
cache written by hubfetch: repos, revisions, refs, files and sizes."""
import json
import os
import shutil
import subprocess
import sys
import unittest

from cli_util import DEMO, DEMO_MAIN, DEMO_PR1, DEMO_V1, SOURCE, CliTestCase

JS_DIR = os.path.join(SOURCE, "tests", "js")


def js_available():
    return shutil.which("node") and os.path.isdir(
        os.path.join(JS_DIR, "node_modules", "@huggingface", "hub"))


class JsInteropTest(CliTestCase):

    def scan(self):
        out = subprocess.run(["node", os.path.join(JS_DIR, "scan.mjs"), self.cache],
                             capture_output=True, check=True, cwd=JS_DIR, timeout=120)
        return json.loads(out.stdout)

    def expected_revision(self, repo, kind, rev, commit, refs):
        files = self.hub.fixtures.repo(repo, kind).resolve(rev).files
        # the JS scanner lists the top level of a snapshot only
        top = sorted((n, len(f.read())) for n, f in files.items() if "/" not in n)
        return {"commit": commit, "refs": sorted(refs),
                "files": [{"name": n, "size": s} for n, s in top]}

    def test_scan_cache_dir_reads_our_cache(self):
        self.download(DEMO)
        self.download(DEMO, "--revision", "v1.0")
        self.download(DEMO, "--revision", "refs/pr/1")
        self.download("hubfetch/demo-data", "--repo-type", "dataset")
        self.download("hubfetch/demo-space", "--repo-type", "space")
        self.download("gpt2")
        info = self.scan()
        self.assertEqual(info["warnings"], [])
        repos = {(r["type"], r["id"]): r for r in info["repos"]}
        self.assertEqual(sorted(repos), [
            ("dataset", "hubfetch/demo-data"), ("model", "gpt2"),
            ("model", DEMO), ("space", "hubfetch/demo-space")])

        demo = repos[("model", DEMO)]
        got = [{k: v[k] for k in ("commit", "refs", "files")} for v in demo["revisions"]]
        # refs/pr/1 lives in refs/refs/pr/1: the JS scanner does not recurse
        want = sorted([
            self.expected_revision(DEMO, "model", "main", DEMO_MAIN, ["main"]),
            self.expected_revision(DEMO, "model", "v1.0", DEMO_V1, ["v1.0"]),
            self.expected_revision(DEMO, "model", "refs/pr/1", DEMO_PR1, []),
        ], key=lambda r: r["commit"])
        self.assertEqual(got, want)
        # size: each blob that a listed (top-level) file uses, counted once
        blobs = {}
        for rev in ("main", "v1.0", "refs/pr/1"):
            for n, f in self.hub.fixtures.repo(DEMO).resolve(rev).files.items():
                if "/" not in n:
                    blobs[f.etag] = len(f.read())
        self.assertEqual(demo["size"], sum(blobs.values()))
        for key, rev in ((("dataset", "hubfetch/demo-data"), "main"),
                         (("space", "hubfetch/demo-space"), "main"),
                         (("model", "gpt2"), "main")):
            r = repos[key]
            commit = self.hub.fixtures.repo(key[1], key[0]).resolve(rev).sha
            self.assertEqual(
                [{k: v[k] for k in ("commit", "refs", "files")} for v in r["revisions"]],
                [self.expected_revision(key[1], key[0], rev, commit, ["main"])])


if __name__ == "__main__":
    if not js_available():
        if os.environ.get("HUB_REQUIRE_JS"):
            print("node or @huggingface/hub missing (run: npm ci --prefix tests/js)")
            sys.exit(1)
        print("node or @huggingface/hub missing: skipped")
        sys.exit(77)
    unittest.main()
