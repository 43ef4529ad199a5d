#!/usr/bin/env python3
"""Fidelity check: the real huggingface_hub client against the fake hub.

Exit 0 = all checks pass, 1 = a check failed, 77 = huggingface_hub not importable (skip).
Run e.g.: HUB_TEST_HFHUB_SRC=/tmp/hfh/src /usr/bin/python3 tests/fakehub/check_hfhub.py
(ctest runs it as fakehub_vs_hfhub, skipped where huggingface_hub is absent).
"""

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from harness import FakeHub  # noqa: E402

DEMO = "hubfetch/demo-model"
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def expect_raises(exc_type, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    except Exception as e:
        raise AssertionError(f"expected {exc_type.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {exc_type.__name__}, nothing raised")


class Ctx:
    def __init__(self, hub, cache, hf):
        self.hub, self.cache, self.hf = hub, cache, hf

    def commit(self, rev="main", repo=DEMO, repo_type="model"):
        return self.hub.fixtures.repo(repo, repo_type).resolve(rev)

    def folder(self, repo=DEMO, repo_type="model"):
        return os.path.join(self.cache, f"{repo_type}s--" + repo.replace("/", "--"))

    def assert_cached(self, path, repo=DEMO, rev="main", filename=None, repo_type="model"):
        """`path` is snapshots/<commit>/<filename> -> relative symlink to blobs/<etag>."""
        commit = self.commit(rev, repo, repo_type)
        f = commit.files[filename]
        folder = self.folder(repo, repo_type)
        assert path == os.path.join(folder, "snapshots", commit.sha, filename), path
        depth = filename.count("/")
        assert os.readlink(path) == "../" * (2 + depth) + "blobs/" + f.etag, os.readlink(path)
        with open(path, "rb") as fh:
            assert fh.read() == f.read(), f"content of {filename}"

    def ref(self, name, repo=DEMO, repo_type="model"):
        with open(os.path.join(self.folder(repo, repo_type), "refs", name)) as fh:
            return fh.read()


@check
def single_files(c):
    for filename in ("config.json", "model.safetensors", "tokenizer/vocab.txt", "onnx/model.onnx",
                     "empty.txt", "docs/read me é.md"):
        c.assert_cached(c.hf.hf_hub_download(DEMO, filename), filename=filename)
    assert c.ref("main") == c.commit().sha
    f = c.commit().files["model.safetensors"]
    assert f.etag == hashlib.sha256(f.read()).hexdigest()


@check
def revisions(c):
    for rev in ("v1.0", "refs/pr/1", c.commit("v1.0").sha, c.commit("main").sha[:7]):
        path = c.hf.hf_hub_download(DEMO, "config.json", revision=rev)
        c.assert_cached(path, rev=rev, filename="config.json")
        if len(rev) != 40:
            assert c.ref(rev) == c.commit(rev).sha, rev
    path = c.hf.hf_hub_download(DEMO, "PR_NOTE.md", revision="refs/pr/1")
    c.assert_cached(path, rev="refs/pr/1", filename="PR_NOTE.md")
    data, parquet = "hubfetch/demo-data", "default/train/0000.parquet"
    path = c.hf.hf_hub_download(data, parquet, repo_type="dataset", revision="refs/convert/parquet")
    c.assert_cached(path, data, "refs/convert/parquet", parquet, "dataset")
    assert c.ref("refs/convert/parquet", data, "dataset") == c.commit("refs/convert/parquet", data, "dataset").sha
    # A cached commit + file costs no request at all.
    c.hub.clear_log()
    c.hf.hf_hub_download(DEMO, "config.json", revision=c.commit("v1.0").sha)
    assert c.hub.log() == [], c.hub.log()


@check
def snapshots_with_patterns(c):
    folder = c.hf.snapshot_download(DEMO, allow_patterns=["*.json", "onnx/*"], ignore_patterns=["tokenizer*"])
    commit = c.commit()
    assert folder == os.path.join(c.folder(), "snapshots", commit.sha)
    got = sorted(os.path.relpath(os.path.join(d, n), folder) for d, _, ns in os.walk(folder) for n in ns)
    # Earlier checks put other files in this snapshot: compare the pattern-selected subset.
    expected = ["config.json", "generation_config.json", "onnx/model.onnx"]
    assert set(expected) <= set(got), got
    assert "tokenizer.json" not in got and "tokenizer_config.json" not in got, got
    folder = c.hf.snapshot_download(DEMO, revision="refs/pr/1")
    for filename in c.commit("refs/pr/1").files:
        c.assert_cached(os.path.join(folder, filename), rev="refs/pr/1", filename=filename)
    for repo, repo_type in (("hubfetch/demo-data", "dataset"), ("hubfetch/demo-space", "space"), ("gpt2", "model")):
        folder = c.hf.snapshot_download(repo, repo_type=repo_type)
        for filename in c.commit(repo=repo, repo_type=repo_type).files:
            c.assert_cached(os.path.join(folder, filename), repo=repo, filename=filename, repo_type=repo_type)


@check
def many_files_paginated(c):
    # > 1000 siblings: this client version lists the tree (11 pages of 100 here).
    c.hub.clear_log()
    folder = c.hf.snapshot_download("hubfetch/many-files", max_workers=16)
    commit = c.commit(repo="hubfetch/many-files")
    for filename, f in commit.files.items():
        path = os.path.join(folder, filename)
        assert os.readlink(path).endswith("blobs/" + f.etag), filename
    pages = [e for e in c.hub.log() if "/tree/" in e["path"]]
    assert len(pages) == 11 and all(e["status"] == 200 for e in pages), pages


@check
def private_and_gated(c):
    for repo in ("hubfetch/private-model", "hubfetch/gated-model"):
        for filename in ("config.json", "model.safetensors"):
            c.assert_cached(c.hf.hf_hub_download(repo, filename, token="hf_alice"), repo=repo, filename=filename)
    # The token went to the hub and never to the CDN (which answers 400 when it gets one).
    log = c.hub.log()
    assert any(e["server"] == "cdn" and e["status"] == 200 for e in log)
    assert not any(e["server"] == "cdn" and e["auth"] for e in log)
    folder = c.hf.snapshot_download("hubfetch/private-model", token="hf_alice")
    assert sorted(os.listdir(folder)) == ["config.json", "model.safetensors"]


@check
def errors(c):
    # A cache of its own: with the file cached, the client would (rightly) serve it in spite
    # of the error (§8.2).
    cache = os.path.join(os.path.dirname(c.cache), "errors-cache")
    hf, errs = c.hf, c.hf.errors

    def download(repo, filename, **kw):
        return hf.hf_hub_download(repo, filename, cache_dir=cache, **kw)

    def snapshot(repo, **kw):
        return hf.snapshot_download(repo, cache_dir=cache, **kw)

    for token in (False, "hf_bob"):
        expect_raises(errs.RepositoryNotFoundError, download, "hubfetch/private-model", "config.json", token=token)
        expect_raises(errs.RepositoryNotFoundError, download, "hubfetch/nope", "config.json", token=token)
        expect_raises(errs.RepositoryNotFoundError, snapshot, "hubfetch/nope", token=token)
    expect_raises(errs.RepositoryNotFoundError, snapshot, "hubfetch/private-model", token=False)
    e = expect_raises(errs.GatedRepoError, download, "hubfetch/gated-model", "config.json", token=False)
    assert e.response.status_code == 401
    e = expect_raises(errs.GatedRepoError, download, "hubfetch/gated-model", "config.json", token="hf_bob")
    assert e.response.status_code == 403 and "restricted" in e.server_message, e.server_message
    expect_raises(errs.GatedRepoError, snapshot, "hubfetch/gated-model", token=False)
    e = expect_raises(errs.HfHubHTTPError, download, DEMO, "README.md", token="hf_mallory")
    assert not isinstance(e, errs.RepositoryNotFoundError) and e.response.status_code == 401
    expect_raises(errs.RevisionNotFoundError, download, DEMO, "config.json", revision="nope")
    expect_raises(errs.RevisionNotFoundError, snapshot, DEMO, revision="nope")
    expect_raises(errs.EntryNotFoundError, download, DEMO, "missing.bin")
    no_exist = os.path.join(cache, "models--hubfetch--demo-model", ".no_exist", c.commit().sha, "missing.bin")
    assert os.path.isfile(no_exist) and os.path.getsize(no_exist) == 0
    assert hf.try_to_load_from_cache(DEMO, "missing.bin", cache_dir=cache) is hf._CACHED_NO_EXIST


@check
def api_calls(c):
    api = c.hf.HfApi()
    info = api.model_info(DEMO, revision="v1.0", files_metadata=True)
    assert info.sha == c.commit("v1.0").sha and not info.private
    f = c.commit("v1.0").files["model.safetensors"]
    lfs = {s.rfilename: s for s in info.siblings}["model.safetensors"].lfs
    assert (lfs.sha256, lfs.size) == (f.sha256, f.size)
    assert api.dataset_info("hubfetch/demo-data").sha == c.commit(repo="hubfetch/demo-data", repo_type="dataset").sha
    assert api.space_info("hubfetch/demo-space").sha == c.commit(repo="hubfetch/demo-space", repo_type="space").sha
    assert api.model_info("hubfetch/gated-model").gated == "manual"
    files = api.list_repo_files("hubfetch/paged")
    assert sorted(files) == sorted(c.commit(repo="hubfetch/paged").files), files
    tree = list(api.list_repo_tree(DEMO, recursive=True))
    dirs = sorted(e.path for e in tree if isinstance(e, c.hf.hf_api.RepoFolder))
    assert dirs == ["docs", "onnx", "tokenizer"], dirs
    refs = api.list_repo_refs(DEMO, include_pull_requests=True)
    assert [r.target_commit for r in refs.branches] == [c.commit().sha]
    assert [(r.name, r.target_commit) for r in refs.tags] == [("v1.0", c.commit("v1.0").sha)]
    assert [r.ref for r in refs.pull_requests] == ["refs/pr/1"]
    meta = c.hf.get_hf_file_metadata(c.hf.hf_hub_url(DEMO, "model.safetensors"))
    assert (meta.etag, meta.size, meta.commit_hash) == (f.sha256, f.size, c.commit().sha)
    meta = c.hf.get_hf_file_metadata(c.hf.hf_hub_url(DEMO, "config.json"))
    g = c.commit().files["config.json"]
    assert (meta.etag, meta.size) == (g.oid, g.size)


@check
def renamed_and_miscased_repos(c):
    # The Hub answers a former or mis-cased id with a relative 307 to the canonical one; the
    # client follows it and caches under the id it was given.
    for repo in ("hubfetch/old-demo-model", "HubFetch/Demo-Model"):
        c.hub.clear_log()
        path = c.hf.hf_hub_download(repo, "config.json")
        commit = c.commit()
        assert path == os.path.join(c.folder(repo), "snapshots", commit.sha, "config.json"), path
        with open(path, "rb") as fh:
            assert fh.read() == commit.files["config.json"].read()
        moved = [e for e in c.hub.log() if e["status"] == 307 and e["path"].startswith("/" + repo)]
        assert moved, c.hub.log()
        folder = c.hf.snapshot_download(repo, allow_patterns=["*.md"])
        assert os.path.isfile(os.path.join(folder, "README.md")), folder
        assert c.hf.HfApi().model_info(repo).id == DEMO
    # a private repo is not revealed through another spelling
    expect_raises(c.hf.errors.RepositoryNotFoundError, c.hf.hf_hub_download,
                  "HubFetch/Private-Model", "config.json", token=False)


@check
def xet_files(c):
    # The Xet headers parse as the client's own parser reads them, and its connection-info
    # request succeeds on the route they name.
    f = c.commit().files["model.safetensors"]
    meta = c.hf.get_hf_file_metadata(c.hf.hf_hub_url(DEMO, "model.safetensors"))
    xet = meta.xet_file_data
    assert xet is not None and xet.file_hash == f.xet_hash, xet
    assert xet.refresh_route == f"{c.hub.url}/api/models/{DEMO}/xet-read-token/{c.commit().sha}", xet
    from huggingface_hub.utils import _xet
    info = _xet.refresh_xet_connection_info(file_data=xet, headers={})
    assert info.access_token and info.expiration_unix_epoch > time.time(), info
    git = c.hf.get_hf_file_metadata(c.hf.hf_hub_url(DEMO, "config.json"))
    assert git.xet_file_data is None


@check
def cache_scan_is_clean(c):
    info = c.hf.scan_cache_dir(c.cache)
    assert not info.warnings, info.warnings
    repos = {(r.repo_type, r.repo_id): r for r in info.repos}
    demo = repos[("model", DEMO)]
    refs = set().union(*(rev.refs for rev in demo.revisions))
    assert {"main", "v1.0", "refs/pr/1"} <= refs, refs
    assert ("dataset", "hubfetch/demo-data") in repos and ("space", "hubfetch/demo-space") in repos
    return len(info.repos)


def main():
    if os.environ.get("HUB_TEST_HFHUB_SRC"):
        sys.path.insert(0, os.environ["HUB_TEST_HFHUB_SRC"])
    if importlib.util.find_spec("huggingface_hub") is None:
        print("huggingface_hub is not importable: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="check-hfhub-")
    with FakeHub(page_size=100) as hub:
        # The client reads its configuration at import time, so set it up first.
        for var in list(os.environ):
            if var.lower().endswith("_proxy") or var.startswith(("HF_", "HUGGING")):
                del os.environ[var]
        os.environ.update({
            "HF_ENDPOINT": hub.url,
            "HF_HOME": os.path.join(tmp, "home"),
            "HF_HUB_CACHE": os.path.join(tmp, "hub"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_XET": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        })
        import huggingface_hub as hf
        import huggingface_hub.errors  # noqa: F401
        print(f"huggingface_hub {hf.__version__} against {hub.url}")
        ctx = Ctx(hub, os.path.realpath(os.path.join(tmp, "hub")), hf)
        failed = 0
        t0 = time.monotonic()
        for fn in CHECKS:
            start = time.monotonic()
            try:
                fn(ctx)
                print(f"ok    {fn.__name__} ({time.monotonic() - start:.2f}s)")
            except Exception:
                failed += 1
                print(f"FAIL  {fn.__name__}")
                traceback.print_exc()
        print(f"{len(CHECKS) - failed}/{len(CHECKS)} checks passed in {time.monotonic() - t0:.1f}s")
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
