"""What the cache holds: hub_cache_scan() as huggingface_hub's
scan_cache_dir() returns it (HFCacheInfo, CachedRepoInfo,
CachedRevisionInfo, CachedFileInfo: frozen dataclasses of the same names,
fields and properties).

Where we differ from huggingface_hub, on purpose:

- A defect never hides a repository: it is listed with what exists and
  counted, and each problem is a CorruptedCacheException in
  HFCacheInfo.warnings (and a line in CachedRepoInfo.warnings). Nothing is
  followed out of the cache (a snapshot link must be ../../[../]blobs/<etag>).
- Times are whole seconds (floats, for the same arithmetic).
- HFCacheInfo.size_on_disk counts each blob once across the whole cache
  (by device and inode): a blob hard-linked into two repositories counts
  once, where huggingface_hub adds the repositories' sizes.
- CachedRevisionInfo.nb_files is a field (huggingface_hub: len(files)).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from .errors import CorruptedCacheException

REPO_TYPE_NAMES = {0: "model", 1: "dataset", 2: "space"}  # enum hub_repo_type


def _format_size(num: int) -> str:
    """huggingface_hub's _format_size: decimal units, no "B" ("42.2K")."""
    num_f = float(num)
    for unit in ["", "K", "M", "G", "T", "P", "E", "Z"]:
        if abs(num_f) < 1000.0:
            return f"{num_f:3.1f}{unit}"
        num_f /= 1000.0
    return f"{num_f:.1f}Y"


def format_timesince(ts: float) -> str:
    """huggingface_hub's format_timesince: "a few seconds ago", "2 weeks ago"."""
    chunks = (
        ("second", 1, 60),
        ("minute", 60, 60),
        ("hour", 60 * 60, 24),
        ("day", 60 * 60 * 24, 6),
        ("week", 60 * 60 * 24 * 7, 6),
        ("month", 60 * 60 * 24 * 30, 11),
        ("year", 60 * 60 * 24 * 365, None),
    )
    delta = time.time() - ts
    if delta < 20:
        return "a few seconds ago"
    for label, divider, max_value in chunks:  # noqa: B007
        value = round(delta / divider)
        if max_value is not None and value <= max_value:
            break
    return f"{value} {label}{'s' if value > 1 else ''} ago"


@dataclasses.dataclass(frozen=True)
class CachedFileInfo:
    """One file of a snapshot. (Filled once libhubfetch reports files; until
    then CachedRevisionInfo.files is empty.)"""
    file_name: str
    file_path: Path
    blob_path: Path
    size_on_disk: int
    blob_last_accessed: float
    blob_last_modified: float

    @property
    def blob_last_accessed_str(self) -> str:
        return format_timesince(self.blob_last_accessed)

    @property
    def blob_last_modified_str(self) -> str:
        return format_timesince(self.blob_last_modified)

    @property
    def size_on_disk_str(self) -> str:
        return _format_size(self.size_on_disk)


@dataclasses.dataclass(frozen=True)
class CachedRevisionInfo:
    """One snapshot folder. `refs` point at it (none: detached);
    `size_on_disk` counts its distinct blobs; `nb_files` its files that
    resolve; `last_modified` is its newest blob's mtime (the folder's when
    it has no file). `files` is empty for now (see CachedFileInfo)."""
    commit_hash: str
    snapshot_path: Path
    size_on_disk: int
    files: frozenset
    refs: frozenset
    last_modified: float
    nb_files: int

    @property
    def last_modified_str(self) -> str:
        return format_timesince(self.last_modified)

    @property
    def size_on_disk_str(self) -> str:
        return _format_size(self.size_on_disk)


@dataclasses.dataclass(frozen=True)
class CachedRepoInfo:
    """One cached repository. `repo_type` is "model", "dataset" or "space";
    `size_on_disk` and `nb_files` count the distinct blobs its snapshots
    use; times are its newest blob's (the folder's when it has none).
    `warnings`: what is wrong with it, one line each (empty: nothing)."""
    repo_id: str
    repo_type: str
    repo_path: Path
    size_on_disk: int
    nb_files: int
    revisions: frozenset
    last_accessed: float
    last_modified: float
    warnings: tuple = ()

    @property
    def last_accessed_str(self) -> str:
        return format_timesince(self.last_accessed)

    @property
    def last_modified_str(self) -> str:
        return format_timesince(self.last_modified)

    @property
    def size_on_disk_str(self) -> str:
        return _format_size(self.size_on_disk)

    @property
    def cache_id(self) -> str:
        """"<type>/<repo_id>", e.g. "model/openai-community/gpt2"."""
        return f"{self.repo_type}/{self.repo_id}"

    @property
    def refs(self) -> dict:
        """Ref name ("main", "refs/pr/1") -> the CachedRevisionInfo it names."""
        return {ref: rev for rev in self.revisions for ref in rev.refs}


@dataclasses.dataclass(frozen=True)
class HFCacheInfo:
    """The whole cache. `warnings` lists every problem found, a
    CorruptedCacheException each: those of the cache folder's entries that
    are no repository first, then each repository's. `cache_dir` is the
    folder scanned."""
    size_on_disk: int
    repos: frozenset
    warnings: list
    cache_dir: Path | None = None

    @property
    def size_on_disk_str(self) -> str:
        return _format_size(self.size_on_disk)


def _s(b):
    return b.decode("utf-8", "surrogateescape")


def _p(b):
    return Path(os.fsdecode(b))


def _strings(arr, n):
    return [_s(arr[i]) for i in range(n)]


def _revision(v) -> CachedRevisionInfo:
    # hub_cache_revision.files: bound once the header has it (and only read
    # from a library version known to fill it)
    return CachedRevisionInfo(
        commit_hash=_s(v.commit_hash), snapshot_path=_p(v.snapshot_path),
        size_on_disk=v.size_on_disk, files=frozenset(),
        refs=frozenset(_strings(v.refs, v.ref_count)),
        last_modified=float(v.last_modified), nb_files=v.nb_files)


def take_cache_info(lib, ptr) -> HFCacheInfo:
    """Copy a hub_cache_info into Python objects and free it."""
    try:
        warnings = [CorruptedCacheException(_s(lib.hub_cache_info_warning(ptr, i)))
                    for i in range(lib.hub_cache_info_warning_count(ptr))]
        repos = []
        for i in range(lib.hub_cache_info_repo_count(ptr)):
            r = lib.hub_cache_info_repo(ptr, i).contents
            path = _p(r.repo_path)
            lines = tuple(_strings(r.warnings, r.warning_count))
            warnings += [CorruptedCacheException(w, repo_path=path) for w in lines]
            repos.append(CachedRepoInfo(
                repo_id=_s(r.repo_id),
                # a type a newer library added: its number
                repo_type=REPO_TYPE_NAMES.get(r.type, r.type),
                repo_path=path, size_on_disk=r.size_on_disk, nb_files=r.nb_files,
                revisions=frozenset(_revision(r.revisions[j].contents)
                                    for j in range(r.revision_count)),
                last_accessed=float(r.last_accessed),
                last_modified=float(r.last_modified), warnings=lines))
        return HFCacheInfo(size_on_disk=lib.hub_cache_info_size_on_disk(ptr),
                           repos=frozenset(repos), warnings=warnings,
                           cache_dir=_p(lib.hub_cache_info_dir(ptr)))
    finally:
        lib.hub_cache_info_free(ptr)
