"""What the cache holds, and deleting from it: hub_cache_scan() as
huggingface_hub's scan_cache_dir() returns it (HFCacheInfo, CachedRepoInfo,
CachedRevisionInfo, CachedFileInfo: frozen dataclasses of the same names,
fields and properties), and the deletion plans of hub_cache_plan_delete()
/ hub_cache_plan_prune() as huggingface_hub's DeleteCacheStrategy.

Where we differ from huggingface_hub, on purpose:

- A defect never hides a repository: it is listed with what exists and
  counted, and each problem is a CorruptedCacheException in
  HFCacheInfo.warnings (and a line in CachedRepoInfo.warnings). Nothing is
  followed out of the cache (a snapshot link must be ../../[../]blobs/<etag>).
- Times are whole seconds (floats, for the same arithmetic).
- HFCacheInfo.size_on_disk counts each blob once across the whole cache
  (by device and inode): a blob hard-linked into two repositories counts
  once, where huggingface_hub adds the repositories' sizes.
- Added fields: CachedFileInfo.rel_path (the path below the snapshot,
  '/'-separated, where file_name is only the last part, as in
  huggingface_hub) and .blob_name (the blob's etag; None for a regular
  file of a cache written without symlinks); CachedRevisionInfo.last_accessed.
- DeleteCacheStrategy.execute() deletes as `hubfetch cache rm` does: under
  the download locks, re-checked on disk, refs before snapshots before
  blobs; what it did is in .operations and .freed_size.

Lifetime: a deletion plan of the C library points into the scan result it
was made from. HFCacheInfo therefore keeps the C result (an _Scan) alive:
every strategy made from it holds a use of it, so it is freed only once
HFCacheInfo.close() was called (or the HFCacheInfo is gone) AND no
strategy made from it is left. No Python object ever reads C memory after
that: everything is copied into Python values when made.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import threading
import time
from pathlib import Path

from . import _lib
from .errors import CorruptedCacheException

REPO_TYPE_NAMES = {0: "model", 1: "dataset", 2: "space"}  # enum hub_repo_type

logger = logging.getLogger("hubfetch")


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
    """One file of a snapshot. `file_name` is its last path component, as
    huggingface_hub has it (Path(file_path).name); `rel_path` is its whole
    path below the snapshot folder, '/'-separated ("sub/config.json"),
    what a target `ID@REV:PATH` takes. `blob_path` is the blob it links to
    (file_path itself for a regular file: a cache written without
    symlinks), `blob_name` that blob's name (its etag) or None for a
    regular file. Size and times are the blob's."""
    file_name: str
    file_path: Path
    blob_path: Path
    size_on_disk: int
    blob_last_accessed: float
    blob_last_modified: float
    rel_path: str = ""
    blob_name: str | None = None

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
    `size_on_disk` counts its distinct blobs; `files` are its files that
    resolve (CachedFileInfo); `last_modified` is its newest blob's mtime and
    `last_accessed` its newest blob's atime (what prune's LRU goes by), the
    folder's when it has no file."""
    commit_hash: str
    snapshot_path: Path
    size_on_disk: int
    files: frozenset
    refs: frozenset
    last_modified: float
    last_accessed: float = 0.0

    @property
    def last_modified_str(self) -> str:
        return format_timesince(self.last_modified)

    @property
    def size_on_disk_str(self) -> str:
        return _format_size(self.size_on_disk)

    @property
    def nb_files(self) -> int:
        """Number of files in the revision: len(files), as huggingface_hub."""
        return len(self.files)


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


class _Scan:
    """Owns one hub_cache_info * (the C scan result).

    Deletion plans point into it: each DeleteCacheStrategy holds a use
    (acquire() / release()) and a reference to it. The C result is freed
    when it is closed (HFCacheInfo.close(), or this object collected) and
    no use is left, whichever comes last: never while a plan exists.
    Copies (copy, deepcopy, replace) share it; a pickled one comes back
    closed.
    """

    def __init__(self, lib, ptr):
        self._lock = threading.RLock()  # RLock: __del__ may run anywhere
        self._lib = lib
        self._ptr = ptr
        self._users = 0
        self._closed = False

    @classmethod
    def _closed_scan(cls):
        return cls(None, None)

    def acquire(self):
        """The C pointer, with a use taken; release() when done with it."""
        with self._lock:
            if self._closed or not self._ptr:
                raise ValueError("hubfetch: this HFCacheInfo was closed "
                                 "(scan the cache again to plan a deletion)")
            self._users += 1
            return self._ptr

    def release(self):
        with self._lock:
            self._users -= 1
            self._free_if_unused()

    def close(self):
        with self._lock:
            self._closed = True
            self._free_if_unused()

    @property
    def closed(self):
        return self._closed or not self._ptr

    def _free_if_unused(self):
        if self._closed and self._users == 0 and self._ptr:
            ptr, self._ptr = self._ptr, None
            self._lib.hub_cache_info_free(ptr)

    def __del__(self):
        # a strategy references its _Scan, so none is alive here unless
        # both are garbage of one cycle: then its own __del__, which runs
        # before any attribute is cleared, releases the last use and frees
        if getattr(self, "_lock", None) is not None:
            self.close()

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_Scan._closed_scan, ())


@dataclasses.dataclass(frozen=True)
class HFCacheInfo:
    """The whole cache. `warnings` lists every problem found, a
    CorruptedCacheException each: those of the cache folder's entries that
    are no repository first, then each repository's. `cache_dir` is the
    folder scanned.

    It keeps the C scan result, which deletion plans point into, until
    close() (or `with`, or garbage collection); strategies already made
    keep it as long as they need it."""
    size_on_disk: int
    repos: frozenset
    warnings: list
    cache_dir: Path | None = None
    _scan: _Scan | None = dataclasses.field(default=None, repr=False,
                                            compare=False, hash=False)

    @property
    def size_on_disk_str(self) -> str:
        return _format_size(self.size_on_disk)

    # -- lifetime -----------------------------------------------------------

    def close(self):
        """Release the C scan result (kept for deletion plans): the listing
        stays readable, new plans can no longer be made. Strategies made
        before keep working. Idempotent."""
        if self._scan is not None:
            self._scan.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- deletion plans -----------------------------------------------------

    def delete_revisions(self, *revisions: str) -> DeleteCacheStrategy:
        """huggingface_hub's delete_revisions(): the strategy to delete these
        revisions (commit hashes, of any repositories), to look at, then
        execute(). A blob is deleted only when no remaining revision uses
        it; deleting every revision of a repository deletes the whole
        repository. A hash not in the cache is logged (warning) and listed
        in the strategy's `unmatched`; no error."""
        targets, unmatched = [], []
        for h in revisions:
            found = [f"{r.repo_type}:{r.repo_id}@{h}" for r in self.repos
                     for v in r.revisions if v.commit_hash == h]
            targets += found
            if not found:
                unmatched.append(h)
        if unmatched:
            logger.warning("Revision(s) not found - cannot delete them: %s",
                           ", ".join(unmatched))
        return self._plan("delete", targets, unmatched=unmatched)

    def plan_delete(self, *targets: str) -> DeleteCacheStrategy:
        """The strategy for `hubfetch cache rm TARGET...`: a target is ID,
        TYPE:ID or TYPE/ID (a repository), ID@REV (a revision: commit,
        unique prefix of 4+ hex digits, or ref), ID@REV:PATH (one file,
        PATH as CachedFileInfo.rel_path), or a 40-hex commit. Targets that
        match nothing are in `unmatched`; a malformed or ambiguous one
        raises InvalidArgumentError. Nothing is deleted until execute()."""
        return self._plan("delete", [os.fsdecode(t) for t in targets])

    def plan_prune(self, *, older_than=None, max_size=None, partial_age=None,
                   now=None) -> DeleteCacheStrategy:
        """The strategy for `hubfetch cache prune`: detached revisions, stale
        partial downloads, unused blobs, .no_exist/ and trees/ entries of
        commits gone, empty folders, leftovers of an interrupted deletion;
        then revisions unused for `older_than` (seconds or a timedelta), then
        the least recently used revisions until the cache holds at most
        `max_size` bytes. `partial_age`: a partial download nobody writes is
        stale after this long (default one hour; 0: any age). `now`: unix
        seconds or a datetime the ages count from (default: the clock).
        Nothing is deleted until execute()."""
        o = _lib.hub_cache_prune_options(version=_lib.CACHE_PRUNE_OPTIONS_VERSION)
        if older_than is not None:
            o.older_than = _positive_seconds("older_than", older_than)
        if max_size is not None:
            if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size <= 0:
                raise ValueError(f"max_size must be a positive number of bytes: {max_size!r}")
            o.max_size = max_size
        if partial_age is not None:
            age = _seconds(partial_age)
            o.partial_age = -1 if age <= 0 else max(1, int(age))
        if now is not None:
            o.now = int(now.timestamp() if isinstance(now, datetime.datetime) else now)
        return self._plan("prune", o)

    def _plan(self, what, arg, unmatched=()):
        from ._core import _last_error, lib  # noqa: PLC0415 -- _core imports us
        import ctypes  # noqa: PLC0415
        if self._scan is None:
            raise ValueError("hubfetch: this HFCacheInfo has no scan result to plan with")
        info = self._scan.acquire()
        plan = ctypes.c_void_p()
        try:
            if what == "delete":
                arr = (ctypes.c_char_p * max(1, len(arg)))(
                    *[t.encode("utf-8", "surrogateescape") for t in arg])
                rc = lib.hub_cache_plan_delete(ctypes.byref(plan), info, arr, len(arg))
            else:
                rc = lib.hub_cache_plan_prune(ctypes.byref(plan), info, ctypes.byref(arg))
            if rc != _lib.E.OK:
                raise _last_error()
            # owns the plan and the use of the scan from here on
            return DeleteCacheStrategy(lib, self._scan, plan, unmatched)
        except BaseException:
            if plan:
                lib.hub_cache_plan_free(plan)
            self._scan.release()
            raise


def _seconds(value):
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected seconds or a timedelta: {value!r}")
    return float(value)


def _positive_seconds(name, value):
    s = _seconds(value)
    if not s > 0 or s == float("inf"):
        raise ValueError(f"{name} must be a positive duration: {value!r}")
    return max(1, int(s))


def _name(table, value):
    """The name of an enum value, or the plain int a newer library added."""
    return table[value] if 0 <= value < len(table) else value


@dataclasses.dataclass(frozen=True)
class CacheOperation:
    """One step of a DeleteCacheStrategy, in execution order.

    kind: "repo" (the whole folder), "ref", "snapshot" (a revision), "file"
        (one snapshot entry), "blob", "partial" (a partial download),
        "no_exist", "tree" (of a commit gone), "empty_dir", "trash" (left
        by an interrupted deletion).
    state: "planned", "done", "gone" (already absent), "in_use" (a download
        holds its lock: kept), "changed" (since the scan: kept), "failed".
    path: what it removes; name: the ref, file (rel_path), blob etag,
        partial file name or commit it is about, else None; bytes: the
        space it frees (0: shared, or only links); message: why it was not
        done, or None. repo_id/repo_type: its repository (None for
        "trash"); commit_hash: the revision for "ref", "snapshot", "file".
    """
    kind: str
    state: str
    path: Path
    name: str | None
    bytes: int
    message: str | None
    repo_id: str | None = None
    repo_type: str | None = None
    commit_hash: str | None = None


class DeleteCacheStrategy:
    """A deletion plan, as huggingface_hub's DeleteCacheStrategy: look at it,
    then execute() it (once).

    As huggingface_hub's: expected_freed_size (each blob counted once; hard
    links and blobs kept by other revisions not at all) and its _str, and
    frozensets of Path: repos (whole folders), snapshots, refs, blobs.
    Besides: files (single snapshot entries), operations (every step, with
    its state, refreshed by execute(); partial downloads, .no_exist/,
    trees/ and empty folders appear only there), freed_size (bytes freed
    by execute(), 0 before), unmatched (targets or revisions that matched
    nothing), executed.

    It owns the C plan, freed by close() (or `with`, or garbage
    collection), and a use of the scan it was made from.
    """

    def __init__(self, lib, scan, plan, unmatched=()):
        self._lib = lib
        self._scan = scan  # its C result outlives the plan
        self._plan = plan
        self._lock = threading.Lock()
        self._executed = False
        try:
            self._read()
            c_unmatched = [_s(lib.hub_cache_plan_unmatched(plan, i))
                           for i in range(lib.hub_cache_plan_unmatched_count(plan))]
        except BaseException:
            self._plan = None  # the caller frees it and releases the scan
            raise
        self.unmatched = tuple(unmatched) + tuple(c_unmatched)
        self.expected_freed_size = lib.hub_cache_plan_bytes(plan)
        paths = {}
        for o in self._operations:
            paths.setdefault(o.kind, set()).add(o.path)
        self.repos = frozenset(paths.get("repo", ()))
        self.snapshots = frozenset(paths.get("snapshot", ()))
        self.refs = frozenset(paths.get("ref", ()))
        self.blobs = frozenset(paths.get("blob", ()))
        self.files = frozenset(paths.get("file", ()))

    def _read(self):
        """Copy the operations and the bytes freed out of the C plan."""
        lib, plan = self._lib, self._plan
        ops = []
        for i in range(lib.hub_cache_plan_op_count(plan)):
            o = lib.hub_cache_plan_op(plan, i).contents
            repo = o.repo.contents if o.repo else None
            rev = o.revision.contents if o.revision else None
            ops.append(CacheOperation(
                kind=_name(_lib.CACHE_OP_KINDS, o.kind),
                state=_name(_lib.CACHE_OP_STATES, o.state),
                path=_p(o.path), name=_opt(o.name), bytes=o.bytes,
                message=_opt(o.message),
                repo_id=_s(repo.repo_id) if repo else None,
                repo_type=REPO_TYPE_NAMES.get(repo.type, repo.type) if repo else None,
                commit_hash=_s(rev.commit_hash) if rev else None))
        self._operations = tuple(ops)
        self._freed = lib.hub_cache_plan_freed(plan)

    @property
    def expected_freed_size_str(self) -> str:
        return _format_size(self.expected_freed_size)

    @property
    def operations(self) -> tuple:
        """Every CacheOperation, in execution order, as of the last execute()."""
        return self._operations

    @property
    def freed_size(self) -> int:
        """Bytes execute() freed (0 before)."""
        return self._freed

    @property
    def freed_size_str(self) -> str:
        return _format_size(self._freed)

    @property
    def executed(self) -> bool:
        return self._executed

    def execute(self, *, client=None) -> None:
        """Delete, in order: refs, then snapshots and files, then blobs and
        the rest, so that stopping anywhere leaves a readable cache; a whole
        repository is renamed away first. Safe beside running downloads:
        what a download holds, or what changed since the scan, is kept
        (state "in_use" / "changed"; no error). Once per strategy.

        client: a Client whose cancel() may stop it between operations
        (DownloadCancelled); it must not be running anything else.
        Raises CacheError when some operation failed (see operations, each
        with its message) after doing all the others."""
        from ._core import _last_error  # noqa: PLC0415
        lib = self._lib
        with self._lock:
            if not self._plan:
                raise ValueError("hubfetch: the strategy is closed")
            if client is not None:
                with client._lock:
                    rc = lib.hub_cache_execute(self._plan, client._handle())
                    error = _last_error() if rc != _lib.E.OK else None
            else:
                rc = lib.hub_cache_execute(self._plan, None)
                error = _last_error() if rc != _lib.E.OK else None
            if error is None or error.code != _lib.E.EINVAL:
                self._executed = True
            self._read()
        if error is not None:
            raise error
        logger.info("Cache deletion done. Saved %s.", self.freed_size_str)

    # -- lifetime -----------------------------------------------------------

    def close(self):
        """Free the C plan (operations and sizes stay readable)."""
        with self._lock:
            self._free()

    def _free(self):
        plan, self._plan = self._plan, None
        if plan:
            self._lib.hub_cache_plan_free(plan)
            self._scan.release()  # the scan may go now: no plan points in

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_plan", None):
            self._free()

    def __repr__(self):
        return (f"DeleteCacheStrategy(expected_freed_size={self.expected_freed_size}, "
                f"operations={len(self._operations)}, executed={self._executed}, "
                f"freed_size={self._freed})")


def _s(b):
    return b.decode("utf-8", "surrogateescape")


def _opt(b):
    return None if b is None else _s(b)


def _p(b):
    return Path(os.fsdecode(b))


def _strings(arr, n):
    return [_s(arr[i]) for i in range(n)]


def _file(f) -> CachedFileInfo:
    rel = _s(f.file_name)
    path = _p(f.file_path)
    return CachedFileInfo(
        file_name=path.name, file_path=path, blob_path=_p(f.blob_path),
        size_on_disk=f.size_on_disk,
        blob_last_accessed=float(f.blob_last_accessed),
        blob_last_modified=float(f.blob_last_modified),
        rel_path=rel, blob_name=_opt(f.blob_name))


def _revision(v) -> CachedRevisionInfo:
    return CachedRevisionInfo(
        commit_hash=_s(v.commit_hash), snapshot_path=_p(v.snapshot_path),
        size_on_disk=v.size_on_disk,
        files=frozenset(_file(v.files[k].contents) for k in range(v.file_count)),
        refs=frozenset(_strings(v.refs, v.ref_count)),
        last_modified=float(v.last_modified),
        last_accessed=float(v.last_accessed))


def take_cache_info(lib, ptr) -> HFCacheInfo:
    """Copy a hub_cache_info into Python objects; the HFCacheInfo owns it
    from then on (freed at once if copying fails)."""
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
        size = lib.hub_cache_info_size_on_disk(ptr)
        cache_dir = _p(lib.hub_cache_info_dir(ptr))
    except BaseException:
        lib.hub_cache_info_free(ptr)
        raise
    return HFCacheInfo(size_on_disk=size, repos=frozenset(repos), warnings=warnings,
                       cache_dir=cache_dir, _scan=_Scan(lib, ptr))


# -- verification ---------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class VerifyItem:
    """One finding of verify_cache(): a file, or a defect of a repository.

    status: "mismatch" (the content does not hash to its name), "unreadable",
        "broken" (resolves to no blob, or out of the cache), "defect" (another
        problem of the repository: ref to a missing snapshot...), with
        remote=True "missing" (on the hub, not here), "extra" (here, not on
        the hub), "remote_differs"; "unverifiable" (nothing to check against:
        no failure); "unindexed" (ModelScope: present, not in the .msc index,
        the SDK downloads it again: no failure).
    failed: whether it counts as a failure under the options of the call.
    repo_id (None for a local dir without one), repo_type, commit, file
    (path in the repository; None for a defect), path (on disk; the blob
    for a mismatch), algorithm ("sha256", "git-sha1"), expected and actual
    (lowercase hex digests), message (one line).
    """
    status: str
    failed: bool
    repo_id: str | None
    repo_type: str
    commit: str | None
    file: str | None
    path: Path | None
    algorithm: str | None
    expected: str | None
    actual: str | None
    message: str


@dataclasses.dataclass(frozen=True)
class VerifySummary:
    """The totals of verify_cache(): repositories and revisions selected,
    snapshot files checked (each revision's counted), distinct blobs and
    bytes hashed (each once), failed files, unverifiable ones, with
    remote=True missing and extra ones, other defects; wall time (seconds)
    and hashing threads."""
    repos: int
    revisions: int
    files: int
    blobs: int
    bytes: int
    failed_files: int
    unverifiable: int
    missing: int
    extra: int
    defects: int
    seconds: float
    threads: int


@dataclasses.dataclass(frozen=True)
class CacheVerification:
    """What verify_cache() found. `ok`: no finding is a failure (the
    library returned HUB_OK rather than HUB_ECHECKSUM). `items`: failures
    first (repository, revision, file order), then missing and unverifiable
    files. `failures`: the failed ones only."""
    ok: bool
    summary: VerifySummary
    items: tuple

    @property
    def failures(self) -> tuple:
        return tuple(i for i in self.items if i.failed)


def take_verify_result(lib, ptr, ok) -> CacheVerification:
    """Copy a hub_cache_verify_result and free it."""
    try:
        sm = lib.hub_cache_verify_result_summary(ptr).contents
        summary = VerifySummary(**{name: getattr(sm, name) for name, _ in sm._fields_})
        items = []
        for i in range(lib.hub_cache_verify_result_count(ptr)):
            it_p = lib.hub_cache_verify_result_item(ptr, i)
            it = it_p.contents
            items.append(VerifyItem(
                status=_lib.VERIFY_STATUSES.get(it.status, it.status),
                failed=bool(lib.hub_cache_verify_item_failed(ptr, it_p)),
                repo_id=_opt(it.repo_id),
                repo_type=REPO_TYPE_NAMES.get(it.repo_type, it.repo_type),
                commit=_opt(it.commit), file=_opt(it.file),
                path=None if it.path is None else _p(it.path),
                algorithm=_opt(it.algorithm), expected=_opt(it.expected),
                actual=_opt(it.actual), message=_opt(it.message) or ""))
        return CacheVerification(ok=ok, summary=summary, items=tuple(items))
    finally:
        lib.hub_cache_verify_result_free(ptr)
