"""Client, Job, progress and results over the C library.

Ownership: every object the library returns is copied into Python values
and freed with the library's own free function before the call returns,
except hub_client (owned by Client, freed by Client.close()) and hub_job
(owned by Job, freed by Job.close()). ctypes callbacks are kept referenced
by the object whose call may invoke them, for as long as it may.
"""

from __future__ import annotations

import ctypes
import dataclasses
import enum
import json
import os
import posixpath
import signal
import threading
import time
import weakref
from typing import Optional

from . import _cache, _lib, _remote, _weights
from ._lib import AUTO, E, UINT64_MAX
from .errors import (CacheNotFound, FileFormatError, HfHubError,
                     LocalTokenNotFoundError, NotASafetensorsRepoError, error_class)

lib = _lib.load()
if lib.hub_version_num() < _lib.MIN_LIBRARY_VERSION:
    raise ImportError(f"hubfetch: libhubfetch {lib.hub_version().decode()} is too old")
if lib.hub_global_init() != E.OK:
    raise ImportError("hubfetch: hub_global_init() failed")
# No hub_global_cleanup() at exit: objects still alive would be freed after
# it, and the reference count makes skipping it harmless.

library_version = lib.hub_version().decode()


class Phase(enum.IntEnum):
    """hub_phase: what a file, or the job as a whole, is doing."""
    RESOLVE = 0
    DOWNLOAD = 1
    VERIFY = 2
    DONE = 3
    CACHED = 4
    FAILED = 5


class FileStatus(enum.IntEnum):
    """hub_file_status: what happened to one file of a request."""
    CACHED = 0
    DOWNLOADED = 1
    LINKED = 2
    MISSING = 3
    PLANNED = 4


class LogLevel(enum.IntEnum):
    ERROR = 0
    WARN = 1
    INFO = 2
    DEBUG = 3
    TRACE = 4


_REPO_TYPES = {None: 0, "model": 0, "dataset": 1, "space": 2}


def _text(b):
    return None if b is None else b.decode("utf-8", "surrogateescape")


def _path(b):
    return None if b is None else os.fsdecode(b)


def _size(n):
    return None if n == UINT64_MAX else n


def _enum(cls, value):
    """The enum member, or the plain int for a value a newer library added."""
    try:
        return cls(value)
    except ValueError:
        return value


@dataclasses.dataclass(frozen=True)
class Progress:
    """One progress event. Sizes are None while unknown; `file` is None for
    job-level events (resolving, the final event); `eta` is None when
    unknown."""
    phase: Phase
    file: str | None
    file_index: int
    file_count: int
    file_bytes_done: int
    file_bytes_total: int | None
    bytes_done: int
    bytes_total: int | None
    files_done: int
    rate: float
    eta: float | None
    endpoint: str | None
    final: bool

    @classmethod
    def _from_c(cls, p):
        return cls(
            phase=_enum(Phase, p.phase), file=_text(p.file), file_index=p.file_index,
            file_count=p.file_count, file_bytes_done=p.file_bytes_done,
            file_bytes_total=_size(p.file_bytes_total), bytes_done=p.bytes_done,
            bytes_total=_size(p.bytes_total), files_done=p.files_done,
            rate=p.rate, eta=None if p.eta < 0 else p.eta,
            endpoint=_text(p.endpoint), final=bool(p.final))


@dataclasses.dataclass(frozen=True)
class FileInfo:
    path: str
    local_path: str | None
    size: int | None
    etag: str | None
    status: FileStatus
    endpoint: str | None
    bytes_fetched: int


@dataclasses.dataclass(frozen=True)
class Result:
    """The outcome of Client.download(), Job.wait() or cache_lookup()."""
    path: str | None
    commit: str | None
    files: tuple
    complete: bool = True  # False: a cache lookup found something missing

    @property
    def missing(self):
        return [f.path for f in self.files if f.status == FileStatus.MISSING]


def _take_result(ptr):
    """Copy a hub_result into a Result and free it."""
    if not ptr:
        return None
    try:
        files = []
        for i in range(lib.hub_result_file_count(ptr)):
            f = lib.hub_result_file(ptr, i).contents
            files.append(FileInfo(
                path=_text(f.path), local_path=_path(f.local_path),
                size=_size(f.size), etag=_text(f.etag),
                status=_enum(FileStatus, f.status), endpoint=_text(f.endpoint),
                bytes_fetched=f.bytes_fetched))
        return Result(path=_path(lib.hub_result_path(ptr)) or None,
                      commit=_text(lib.hub_result_commit(ptr)),
                      files=tuple(files))
    finally:
        lib.hub_result_free(ptr)


def _take_string(ptr):
    """Copy a char * the library allocated and free it."""
    try:
        return os.fsdecode(ctypes.string_at(ptr.value))
    finally:
        lib.hub_free(ptr)


def _last_error():
    """The exception for the failure just reported on this thread. Must be
    called before any other library call on this thread."""
    info = lib.hub_error_last().contents
    # copied out first: the record is valid until the next library call
    code, status, message = info.code, info.http_status, _text(info.message)
    name = (lib.hub_error_name(code) or b"ERROR").decode()
    message = message or lib.hub_strerror(code).decode()
    return error_class(code)(message, code=code, http_status=status, error_name=name)


def _utf8(s):
    return None if s is None else str(s).encode("utf-8")


def _fs(p):
    return None if p is None else os.fsencode(p)


def _str_array(items, enc=_utf8):
    """(ctypes array or None, count); accepts one string or an iterable."""
    if items is None:
        return None, 0
    if isinstance(items, (str, bytes, os.PathLike)):
        items = [items]
    values = [enc(x) for x in items]
    return (ctypes.c_char_p * len(values))(*values), len(values)


class _ProgressBridge:
    """The C progress callback around a Python callable.

    An exception raised by the callable (KeyboardInterrupt included) cancels
    the download and is re-raised by the caller once the C call returned:
    ctypes cannot propagate it through C.
    """

    def __init__(self, fn):
        self.fn = fn
        self.error = None
        self.interrupted = False
        self.c_func = _lib.PROGRESS_CB(self._call)

    def _call(self, p, _payload):
        if self.error is not None or self.interrupted:
            return 1
        try:
            if self.fn is not None and self.fn(Progress._from_c(p.contents)):
                return 1
            return 0
        except BaseException as e:  # noqa: B036 -- re-raised by reraise()
            self.error = e
            return 1

    def _on_sigint(self, _signum, _frame):
        # Python runs signal handlers between bytecodes of the main thread,
        # which during the C call means inside _call. Setting a flag instead
        # of raising keeps the interrupt from escaping the callback, where
        # ctypes would print and drop it.
        self.interrupted = True

    def reraise(self):
        if self.error is not None:
            e, self.error = self.error, None
            raise e
        if self.interrupted:
            self.interrupted = False
            raise KeyboardInterrupt


class _SigintToCancel:
    """While a blocking download runs on the main thread, Ctrl-C cancels it
    (leaving a resumable partial) and then raises KeyboardInterrupt. Only
    when SIGINT has Python's default handler: a user's handler is kept."""

    def __init__(self, bridge):
        self.bridge = bridge
        self.saved = None

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.saved = signal.signal(signal.SIGINT, self.bridge._on_sigint)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            signal.signal(signal.SIGINT, self.saved)


_READ_BUF_MAX = 64 << 20  # read(): ranges up to this go through one buffer
_SAFETENSORS_SINGLE = "model.safetensors"  # huggingface_hub's constants
_SAFETENSORS_INDEX = "model.safetensors.index.json"


@dataclasses.dataclass(frozen=True)
class ReadInfo:
    """What Client.read_into() learnt about the file (hub_read_info)."""
    size: Optional[int]  # of the whole file; None if the server did not say
    etag: Optional[str]  # sha256 (LFS) or git blob sha1; None if unknown
    commit: Optional[str]  # the commit read; None if unknown
    from_cache: bool  # read from the cache, no request made
    bytes_fetched: int  # body bytes received (retries included)
    bytes_read: int  # bytes handed to on_data

    @classmethod
    def _from_c(cls, i):
        return cls(size=None if i.size == UINT64_MAX else i.size,
                   etag=i.etag.decode() or None, commit=i.commit.decode() or None,
                   from_cache=bool(i.from_cache), bytes_fetched=i.bytes_fetched,
                   bytes_read=i.bytes_read)


class _ReadBridge(_ProgressBridge):
    """hub_read's callback around on_data(chunk: bytes): a truthy return
    cancels; an exception cancels and is re-raised by reraise()."""

    def __init__(self, fn):
        self.fn = fn
        self.error = None
        self.interrupted = False
        self.c_func = _lib.READ_CB(self._data)

    def _data(self, data, length, _payload):
        if self.error is not None or self.interrupted:
            return 1
        try:
            return 1 if self.fn(ctypes.string_at(data, length) if length else b"") else 0
        except BaseException as e:  # noqa: B036 -- re-raised by reraise()
            self.error = e
            return 1


def _seconds_to_ms(name, s, forever=False):
    """Seconds (float) to the library's ms. None is 0 (the default); where
    `forever` is allowed, inf or a negative number waits forever (-1)."""
    if s is None:
        return 0
    if forever and (s < 0 or s == float("inf")):
        return -1
    if forever and s == 0:
        return 1  # 0 would mean the default: give up at once instead
    if not s > 0 or s == float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds: {s!r}")
    return max(1, min(int(s * 1000), 2**31 - 1))


class Client:
    """Endpoint, credentials, cache and transfer settings, for many calls.

    Every argument left at None takes its default from the environment as
    huggingface_hub reads it (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, ...),
    unless ignore_env=True, else the library's built-in default.

    token: a string, None (environment) or False/"" (send none). It goes
        only to the origin of `endpoint` (for "auto": huggingface.co), not
        to fallback endpoints unless send_token_to_mirrors=True.
    proxy: "http://host:port", "socks5h://...", "" for none, None for the
        environment; `proxies`, a requests-style dict, is accepted too.
    hub: "hf" (Hugging Face or a mirror) or "modelscope" (then the
        defaults come from ModelScope's variables and cache layout).
    log: a callable(level: LogLevel, message: str), called for messages at
        `log_level` or more severe, possibly from a job's thread.
    connect_timeout, stall_timeout: seconds, > 0.
    lock_timeout: seconds to wait for a file another process is
        downloading while that process shows no progress (its partial file
        does not grow); 0 does not wait, inf (or < 0) waits forever.

    A client serves one call at a time: calls from several threads are
    serialised; a job owns the client until it finished (calls meanwhile
    raise ClientBusyError), and so does a progress callback.
    """

    def __init__(self, *, endpoint=None, token=None, cache_dir=None,
                 offline=None, symlinks=None, user_agent=None, max_workers=None,
                 connections=None, max_connections=None, max_rate=None,
                 split_threshold=None, part_size=None, connect_timeout=None,
                 stall_timeout=None, max_retries=None, lock_timeout=None,
                 proxy=None, proxies=None, no_proxy=None,
                 fallback_endpoints=None, ca_bundle=None, hub="hf",
                 ignore_env=False, log=None, log_level=LogLevel.WARN,
                 send_token_to_mirrors=False):
        self._ptr = None
        self._lock = threading.RLock()
        self._jobs = weakref.WeakSet()
        self._listings = weakref.WeakSet()  # RepoTreeIterators holding a hub_list
        if proxy is None and proxies:
            proxy = proxies.get("https") or proxies.get("http") or proxies.get("all")

        o = _lib.hub_client_options()
        if lib.hub_client_options_init(ctypes.byref(o), _lib.CLIENT_OPTIONS_VERSION):
            raise _last_error()
        o.flags = _lib.CLIENT_IGNORE_ENV if ignore_env else 0
        o.endpoint = _utf8(endpoint)
        o.token = b"" if token is False else _utf8(token if token is not True else None)
        o.cache_dir = _fs(cache_dir)
        o.offline = AUTO if offline is None else int(bool(offline))
        o.symlinks = AUTO if symlinks is None else int(bool(symlinks))
        o.user_agent = _utf8(user_agent)
        o.max_files = max_workers or 0
        o.connections = connections or 0
        o.max_connections = max_connections or 0
        o.max_rate = int(max_rate or 0)
        o.split_threshold = int(split_threshold or 0)
        o.part_size = int(part_size or 0)
        o.connect_timeout_ms = _seconds_to_ms("connect_timeout", connect_timeout)
        o.stall_timeout_ms = _seconds_to_ms("stall_timeout", stall_timeout)
        o.max_retries = AUTO if max_retries is None else max_retries
        o.lock_timeout_ms = _seconds_to_ms("lock_timeout", lock_timeout,
                                           forever=True)
        o.proxy = _utf8(proxy)
        o.no_proxy = _utf8(no_proxy)
        arr, n = _str_array(fallback_endpoints)
        o.fallback_endpoints, o.fallback_count = arr, n
        o.ca_bundle = _fs(ca_bundle)
        if hub not in _lib.HUB_KINDS:
            raise ValueError(f"hub must be one of {sorted(_lib.HUB_KINDS)}: {hub!r}")
        o.hub = _lib.HUB_KINDS[hub]
        o.send_token_to_mirrors = int(bool(send_token_to_mirrors))
        if log is not None:
            def on_log(level, msg, _payload):
                try:
                    log(_enum(LogLevel, level), _text(msg))
                except Exception:  # noqa: BLE001 -- nowhere to report it
                    pass
            # the library keeps calling it until hub_client_free()
            self._log_cb = _lib.LOG_CB(on_log)
            o.log_cb = self._log_cb
            o.log_level = int(log_level)

        ptr = ctypes.c_void_p()
        if lib.hub_client_new(ctypes.byref(ptr), ctypes.byref(o)) != E.OK:
            raise _last_error()
        self._ptr = ptr

    # -- lifetime -----------------------------------------------------------

    def close(self):
        """Free the client; a job still running on it is cancelled first."""
        with self._lock:
            for job in list(self._jobs):
                job.close()
            for listing in list(self._listings):
                listing._client_closing()  # a hub_list must go before its client
            if self._ptr:
                lib.hub_client_free(self._ptr)
                self._ptr = None

    def cancel(self):
        """Stop the download running on this client (from another thread;
        a job's too) within about 100 ms, wherever it waits: it raises
        DownloadCancelled and keeps its partial files for a resume. The
        next call clears the request (a cancel while nothing runs does
        nothing). Returns at once; not concurrently with close()."""
        ptr = self._ptr
        if ptr:
            lib.hub_client_cancel(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # jobs hold a reference to their client: none can be running here
        if getattr(self, "_ptr", None) and lib is not None:
            lib.hub_client_free(self._ptr)
            self._ptr = None

    def _handle(self):
        if not self._ptr:
            raise ValueError("hubfetch: the client is closed")
        return self._ptr

    @property
    def cache_dir(self):
        """The effective cache directory."""
        return _path(lib.hub_client_cache_dir(self._handle()))

    @property
    def endpoint(self):
        """The effective (first) endpoint, credentials masked."""
        return _text(lib.hub_client_endpoint(self._handle()))

    # -- downloads ----------------------------------------------------------

    @staticmethod
    def _options(repo_type=None, revision=None, allow_patterns=None,
                 ignore_patterns=None, files=None, local_dir=None,
                 local_files_only=False, force_download=False, dry_run=False,
                 prefer_offline=False, progress=None):
        """(hub_download_options, keep-alive list); strings and arrays are
        referenced by the struct, so they live as long as it does."""
        if repo_type not in _REPO_TYPES:
            raise ValueError(f"repo_type must be one of model, dataset, space: {repo_type!r}")
        o = _lib.hub_download_options()
        if lib.hub_download_options_init(ctypes.byref(o), _lib.DOWNLOAD_OPTIONS_VERSION):
            raise _last_error()
        o.repo_type = _REPO_TYPES[repo_type]
        o.revision = _utf8(revision)
        o.allow_patterns, o.allow_count = _str_array(allow_patterns)
        o.ignore_patterns, o.ignore_count = _str_array(ignore_patterns)
        o.files, o.file_count = _str_array(files)
        o.local_dir = _fs(local_dir)
        o.local_files_only = int(bool(local_files_only))
        o.force_download = int(bool(force_download))
        o.dry_run = int(bool(dry_run))
        o.prefer_offline = int(bool(prefer_offline))
        bridge = _ProgressBridge(progress)
        o.progress_cb = bridge.c_func
        return o, bridge

    def _call(self, fn, take, repo_id, *args, progress=None, **opts):
        """Run one blocking download function; returns take(its output)."""
        o, bridge = self._options(progress=progress, **opts)
        out = ctypes.c_void_p()
        with self._lock, _SigintToCancel(bridge):
            rc = fn(ctypes.byref(out), self._handle(), _utf8(repo_id), *args,
                    ctypes.byref(o))
            error = _last_error() if rc != E.OK else None
        value = take(out) if rc == E.OK else None
        if bridge.error is not None or bridge.interrupted:
            # The callback raised (or Ctrl-C): that exception wins, with the
            # library's DownloadCancelled as its __context__.
            try:
                if error is not None:
                    raise error
            finally:
                bridge.reraise()
        if error is not None:
            raise error
        return value

    def hf_hub_download(self, repo_id, filename, *, subfolder=None, repo_type=None,
                        revision=None, local_dir=None, local_files_only=False,
                        force_download=False, prefer_offline=False, progress=None):
        """Download one file (or find it in the cache); returns its path.
        prefer_offline=True: no request at all when it is already cached."""
        if subfolder:
            filename = f"{subfolder}/{filename}"
        return self._call(lib.hub_download_file, _take_string, repo_id, _utf8(filename),
                   repo_type=repo_type, revision=revision, local_dir=local_dir,
                   local_files_only=local_files_only,
                   force_download=force_download, prefer_offline=prefer_offline,
                   progress=progress)

    def snapshot_download(self, repo_id, *, repo_type=None, revision=None,
                          allow_patterns=None, ignore_patterns=None, local_dir=None,
                          local_files_only=False, force_download=False,
                          prefer_offline=False, progress=None):
        """Download the files of a revision the patterns select; returns the
        snapshot folder (or local_dir). prefer_offline=True: no request at
        all when the cache holds them all (and recorded the listing)."""
        return self._call(lib.hub_snapshot_download, _take_string, repo_id, repo_type=repo_type,
                   revision=revision, allow_patterns=allow_patterns,
                   ignore_patterns=ignore_patterns, local_dir=local_dir,
                   local_files_only=local_files_only,
                   force_download=force_download, prefer_offline=prefer_offline,
                   progress=progress)

    def download(self, repo_id, *, files=None, progress=None, **options):
        """The general form: a Result listing every file (status, size,
        endpoint). One file in `files` and no patterns is hf_hub_download;
        otherwise a snapshot. dry_run=True plans without fetching."""
        return self._call(lib.hub_download, _take_result, repo_id, files=files,
                          progress=progress, **options)

    def cache_lookup(self, repo_id, filename=None, *, files=None, **options):
        """Is it in the cache? Never uses the network. Returns a Result whose
        `complete` says whether every file asked for (one `filename`, the
        `files`, or what the patterns select) is present; `missing` lists
        the others."""
        if filename is not None:
            files = [filename] + list(files or ())
        o, _ = self._options(files=files, **options)
        out = ctypes.c_void_p()
        with self._lock:
            rc = lib.hub_cache_lookup(ctypes.byref(out), self._handle(),
                                      _utf8(repo_id), ctypes.byref(o))
            error = _last_error() if rc != E.OK else None
        if error is not None and error.code != E.ENOTCACHED:
            lib.hub_result_free(out)
            raise error
        result = _take_result(out)
        if error is not None:
            result = dataclasses.replace(result, complete=False)
        return result

    def try_to_load_from_cache(self, repo_id, filename, *, revision=None, repo_type=None):
        """The cached path of a file, or None, as huggingface_hub's function."""
        r = self.cache_lookup(repo_id, filename, revision=revision, repo_type=repo_type)
        return r.files[0].local_path if r.complete and r.files else None

    def scan_cache_dir(self):
        """What the client's cache holds, as huggingface_hub's
        scan_cache_dir(): an HFCacheInfo (see hubfetch._cache for where it
        differs). Reads only; never the network. Raises CacheNotFound when
        the folder does not exist, CacheError when it cannot be read."""
        o = _lib.hub_cache_scan_options(version=_lib.CACHE_SCAN_OPTIONS_VERSION)
        out = ctypes.c_void_p()
        with self._lock:
            rc = lib.hub_cache_scan(ctypes.byref(out), self._handle(), ctypes.byref(o))
            error = _last_error() if rc != E.OK else None
            cache_dir = self.cache_dir if rc == E.ENOTCACHED else None
        if error is not None:
            if rc == E.ENOTCACHED:
                raise CacheNotFound(error.message, cache_dir=cache_dir, code=error.code,
                                    http_status=error.http_status,
                                    error_name=error.error_name)
            raise error
        return _cache.take_cache_info(lib, out)

    def delete_cache_targets(self, targets, *, dry_run=False):
        """`hubfetch cache rm TARGET...` on the client's cache: scan, plan
        (see HFCacheInfo.plan_delete for the targets), execute unless
        dry_run. Returns the DeleteCacheStrategy (operations with their
        states, expected_freed_size, freed_size, unmatched). cancel() stops
        the execution between operations."""
        if isinstance(targets, (str, bytes, os.PathLike)):
            targets = [targets]
        with self.scan_cache_dir() as info:
            strategy = info.plan_delete(*targets)
        if not dry_run:
            strategy.execute(client=self)
        return strategy

    def verify_cache(self, targets=None, *, remote=False, fail_on_missing=False,
                     local_dir=None, repo_id=None, repo_type=None, revision=None,
                     threads=None, progress=None):
        """`hubfetch cache verify` (hub_cache_verify): does every selected
        file still hold what its name says? Each distinct blob is hashed
        once (sha256 or git sha1, by its name) on `threads` threads (default:
        one per CPU). targets: as delete_cache_targets() takes them (None:
        the whole cache); local_dir: verify that folder instead, against its
        download metadata. remote=True also compares each revision with the
        hub's listing (missing, extra, differing files; fail_on_missing=True
        makes missing ones failures); repo_id / repo_type / revision name
        what a local dir is compared with. progress: a callable(Progress)
        on this thread, a true return cancels (DownloadCancelled); Ctrl-C
        and cancel() stop it too.

        Returns a CacheVerification (ok, summary, items) whether or not
        something failed (a failure is a finding, not an exception); raises
        LocalEntryNotFoundError when there is no cache folder or a target
        matches nothing, InvalidArgumentError for a malformed target,
        HfHubError (EUNSUPPORTED) on a ModelScope client."""
        if isinstance(targets, (str, bytes, os.PathLike)):
            targets = [targets]
        if repo_type not in _REPO_TYPES:
            raise ValueError(f"repo_type must be one of model, dataset, space: {repo_type!r}")
        o = _lib.hub_cache_verify_options()
        if lib.hub_cache_verify_options_init(ctypes.byref(o),
                                             _lib.CACHE_VERIFY_OPTIONS_VERSION):
            raise _last_error()
        o.flags = ((_lib.CACHE_VERIFY_REMOTE if remote else 0)
                   | (_lib.CACHE_VERIFY_FAIL_ON_MISSING if fail_on_missing else 0))
        arr, n = _str_array(targets)
        if n:
            o.targets, o.target_count = arr, n
        o.local_dir = _fs(local_dir)
        o.repo_id = _utf8(repo_id)
        o.repo_type = _REPO_TYPES[repo_type]
        o.revision = _utf8(revision)
        o.threads = int(threads or 0)
        bridge = _ProgressBridge(progress)
        if progress is not None:
            o.progress_cb = bridge.c_func
        out = ctypes.c_void_p()
        with self._lock, _SigintToCancel(bridge):
            rc = lib.hub_cache_verify(ctypes.byref(out), self._handle(), ctypes.byref(o))
            error = _last_error() if rc not in (E.OK, E.ECHECKSUM) else None
        value = (_cache.take_verify_result(lib, out, rc == E.OK)
                 if rc in (E.OK, E.ECHECKSUM) and out else None)
        if bridge.error is not None or bridge.interrupted:
            try:
                if error is not None:
                    raise error
            finally:
                bridge.reraise()
        if error is not None:
            raise error
        return value

    def prune_cache(self, *, older_than=None, max_size=None, partial_age=None,
                    dry_run=False):
        """`hubfetch cache prune` on the client's cache: scan, plan (see
        HFCacheInfo.plan_prune), execute unless dry_run. Returns the
        DeleteCacheStrategy."""
        with self.scan_cache_dir() as info:
            strategy = info.plan_prune(older_than=older_than, max_size=max_size,
                                       partial_age=partial_age)
        if not dry_run:
            strategy.execute(client=self)
        return strategy

    # -- the hub's tree, paths-info and whoami ------------------------------

    @staticmethod
    def _list_options(repo_type, revision, recursive=False, expand=False):
        if repo_type not in _REPO_TYPES:
            raise ValueError(f"repo_type must be one of model, dataset, space: {repo_type!r}")
        o = _lib.hub_list_options()
        if lib.hub_list_options_init(ctypes.byref(o), _lib.LIST_OPTIONS_VERSION):
            raise _last_error()
        o.repo_type = _REPO_TYPES[repo_type]
        revision = _utf8(revision)
        o.revision = revision
        o.recursive = int(bool(recursive))
        o.expand = int(bool(expand))
        return o, revision  # the bytes live as long as the caller keeps them

    def list_repo_tree(self, repo_id, path_in_repo=None, *, recursive=False,
                       expand=False, revision=None, repo_type=None):
        """huggingface_hub's HfApi.list_repo_tree(): the files (RepoFile)
        and folders (RepoFolder) of `path_in_repo` (default: the root) at a
        revision, recursively or not; expand=True adds each entry's
        last_commit (the hub then sends pages of 50). Nothing is
        downloaded and the cache is not used.

        Returns a RepoTreeIterator, a lazy iterator that asks for the next
        page when the previous one is used up (hub_list_next); nothing is
        requested before the first next(), where a missing repository,
        revision or folder raises (RepositoryNotFoundError,
        RevisionNotFoundError, EntryNotFoundError). close() it (or use it
        in a `with`) to stop early; it is also freed when exhausted or
        collected. Naming a file lists that file alone."""
        o, keep = self._list_options(repo_type, revision, recursive, expand)
        path = _utf8(path_in_repo or None)
        self._handle()
        return _remote.RepoTreeIterator(self, lib, _last_error, _utf8(repo_id), path,
                                        o, keep)

    def get_paths_info(self, repo_id, paths, *, expand=False, revision=None,
                       repo_type=None):
        """huggingface_hub's HfApi.get_paths_info(): a RepoFile or RepoFolder
        for each of `paths` (one string or a list) that exists at the
        revision, in the order given; missing paths are left out, as
        huggingface_hub does. One hub_stat() (a paths-info POST) per path."""
        if isinstance(paths, (str, bytes)):
            paths = [paths]
        o, _keep = self._list_options(repo_type, revision, False, expand)
        out = []
        for p in paths:
            entry = ctypes.POINTER(_lib.hub_entry)()
            with self._lock:
                rc = lib.hub_stat(ctypes.byref(entry), self._handle(), _utf8(repo_id),
                                  _utf8(p), ctypes.byref(o))
                error = _last_error() if rc != E.OK else None
            if rc == E.ENOENTRY:
                continue
            if error is not None:
                raise error
            try:
                out.append(_remote.entry_from_c(entry.contents))
            finally:
                lib.hub_entry_free(entry)
        return out

    def whoami(self):
        """huggingface_hub's HfApi.whoami(): who the client's token belongs
        to (GET /api/whoami-v2, to the client's first endpoint only), as a
        dict with the keys the library reads: name, fullname, type,
        orgs ([{"name"}]), auth ({"accessToken": {"displayName", "role"}}).
        The hub sends more (id, email, avatarUrl, isPro, orgs' details,
        the token's fine-grained scopes): not kept by the library.
        Raises LocalTokenNotFoundError without a token, AuthenticationError
        (an HfHubHTTPError, http_status 401) when the hub refuses it."""
        out = ctypes.POINTER(_lib.hub_whoami_info)()
        with self._lock:
            rc = lib.hub_whoami(ctypes.byref(out), self._handle())
            error = _last_error() if rc != E.OK else None
        if error is not None:
            if error.code == E.EAUTH and not error.http_status:
                raise LocalTokenNotFoundError(error.message, code=error.code,
                                              http_status=0, error_name=error.error_name)
            raise error
        try:
            return _remote.whoami_dict(out.contents)
        finally:
            lib.hub_whoami_info_free(out)

    # -- remote reads -------------------------------------------------------

    @staticmethod
    def _read_options(repo_type, revision, verify=False, no_cache=False):
        """(hub_read_options, the revision's bytes: keep them alive with it)."""
        if repo_type not in _REPO_TYPES:
            raise ValueError(f"repo_type must be one of model, dataset, space: {repo_type!r}")
        o = _lib.hub_read_options()
        if lib.hub_read_options_init(ctypes.byref(o), _lib.READ_OPTIONS_VERSION):
            raise _last_error()
        o.repo_type = _REPO_TYPES[repo_type]
        revision = _utf8(revision)
        o.revision = revision
        o.flags = ((_lib.READ_VERIFY if verify else 0)
                   | (_lib.READ_NO_CACHE if no_cache else 0))
        return o, revision

    def read_into(self, repo_id, path, on_data, offset=0, length=None, *, revision=None,
                  repo_type=None, verify=False, no_cache=False):
        """Stream bytes [offset, offset + length) of a file of a repository
        (length None: to the end) to on_data(chunk: bytes), in order, as
        they arrive (hub_read); nothing is written to the cache. A truthy
        return from on_data stops the read (DownloadCancelled); an exception
        it raises stops it too and is re-raised here. A range reaching past
        the end is cut there; one starting past it raises
        InvalidArgumentError. verify=True (whole files only) hashes the
        bytes against the hub's etag: ChecksumError after the last chunk.
        A file the cache holds at that revision is read from disk with no
        request, unless no_cache. Returns a ReadInfo (size, etag, commit,
        from_cache, bytes_fetched, bytes_read)."""
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("offset and length must not be negative")
        o, _keep = self._read_options(repo_type, revision, verify, no_cache)
        bridge = _ReadBridge(on_data)
        info = _lib.hub_read_info()
        with self._lock, _SigintToCancel(bridge):
            rc = lib.hub_read(ctypes.byref(info), self._handle(), _utf8(repo_id),
                              _utf8(path), int(offset),
                              UINT64_MAX if length is None else int(length),
                              ctypes.byref(o), bridge.c_func, None)
            error = _last_error() if rc != E.OK else None
        if bridge.error is not None or bridge.interrupted:
            try:
                if error is not None:
                    raise error
            finally:
                bridge.reraise()
        if error is not None:
            raise error
        return ReadInfo._from_c(info)

    def read(self, repo_id, path, offset=0, length=None, *, revision=None,
             repo_type=None, verify=False, no_cache=False):
        """The bytes [offset, offset + length) of a file of a repository
        (length None: to the end), without downloading it into the cache:
        one ranged GET (hub_read_buf for a range, hub_read for the rest of
        the file), or no request when the cache holds the file at that
        revision (unless no_cache). Fewer bytes than asked at the end of
        the file. Errors as read_into(); a missing file raises
        EntryNotFoundError, an offline client without the file cached
        LocalEntryNotFoundError."""
        if offset < 0 or (length is not None and length < 0):
            raise ValueError("offset and length must not be negative")
        if length is not None and length <= _READ_BUF_MAX and not verify:
            o, _keep = self._read_options(repo_type, revision, verify, no_cache)
            buf = ctypes.create_string_buffer(max(int(length), 1))
            got = ctypes.c_size_t(0)
            with self._lock:
                rc = lib.hub_read_buf(ctypes.byref(got), buf, self._handle(),
                                      _utf8(repo_id), _utf8(path), int(offset),
                                      int(length), ctypes.byref(o))
                error = _last_error() if rc != E.OK else None
            if error is not None:
                raise error
            return buf.raw[:got.value]
        chunks = []
        self.read_into(repo_id, path, chunks.append, offset, length, revision=revision,
                       repo_type=repo_type, verify=verify, no_cache=no_cache)
        return b"".join(chunks)

    def _header_call(self, fn, repo_id, revision, repo_type, no_cache):
        """fetch(&out, &header_options) for _weights: one remote header read
        of `path` under the client's lock."""
        o, keep = self._read_options(repo_type, revision, False, no_cache)
        repo = _utf8(repo_id)

        def fetch_path(path):
            def fetch(out, hopts):
                _keep = keep  # noqa: F841 -- the revision bytes outlive the call
                with self._lock:
                    return fn(out, self._handle(), repo, _utf8(path), ctypes.byref(o), hopts)
            return fetch
        return fetch_path

    def parse_safetensors_file_metadata(self, repo_id, filename, *, revision=None,
                                        repo_type=None, no_cache=False,
                                        max_header_bytes=None):
        """huggingface_hub's HfApi.parse_safetensors_file_metadata(): the
        header of a safetensors file of a repository, read with ranged
        requests (never the tensor data; from the cache, with no request,
        when it holds the file): a SafetensorsFileMetadata. For a
        `*.safetensors.index.json`, a SafetensorsRepoMetadata of the shards
        beside it (huggingface_hub would fail to parse the index). Raises
        SafetensorsParsingError (FileFormatError) for a malformed header,
        EntryNotFoundError for a missing file."""
        fetch_path = self._header_call(lib.hub_safetensors_info_remote, repo_id, revision,
                                       repo_type, no_cache)
        hopts = _weights._header_options(lib, _last_error, max_header_bytes)
        folder = posixpath.dirname(filename)
        return _weights.parse_safetensors(
            lib, _last_error, hopts, fetch_path(filename),
            lambda shard: fetch_path(posixpath.join(folder, shard)))

    def _file_exists(self, repo_id, filename, revision, repo_type):
        o, _keep = self._list_options(repo_type, revision)
        entry = ctypes.POINTER(_lib.hub_entry)()
        with self._lock:
            rc = lib.hub_stat(ctypes.byref(entry), self._handle(), _utf8(repo_id),
                              _utf8(filename), ctypes.byref(o))
            error = _last_error() if rc not in (E.OK, E.ENOENTRY) else None
        if error is not None:
            raise error
        if rc != E.OK:
            return False
        try:
            return entry.contents.type == _lib.ENTRY_FILE
        finally:
            lib.hub_entry_free(entry)

    def get_safetensors_metadata(self, repo_id, *, revision=None, repo_type=None,
                                 no_cache=False, max_header_bytes=None):
        """huggingface_hub's HfApi.get_safetensors_metadata(): with a
        `model.safetensors` at the root (asked with hub_stat, as
        huggingface_hub asks file_exists), its header as a
        SafetensorsRepoMetadata (metadata None, sharded False); else with a
        `model.safetensors.index.json`, the index (read whole, not cached)
        and the header of every shard its weight_map names (metadata: the
        index's `metadata`). Raises NotASafetensorsRepoError with neither;
        unlike huggingface_hub, a missing repository or revision raises
        RepositoryNotFoundError / RevisionNotFoundError rather than
        NotASafetensorsRepoError."""
        if self._file_exists(repo_id, _SAFETENSORS_SINGLE, revision, repo_type):
            meta = self.parse_safetensors_file_metadata(
                repo_id, _SAFETENSORS_SINGLE, revision=revision, repo_type=repo_type,
                no_cache=no_cache, max_header_bytes=max_header_bytes)
            return _weights.SafetensorsRepoMetadata(
                metadata=None, sharded=False,
                weight_map={name: _SAFETENSORS_SINGLE for name in meta.tensors},
                files_metadata={_SAFETENSORS_SINGLE: meta},
                shards=[_SAFETENSORS_SINGLE], data_size=meta.data_size,
                header_size=meta.header_size)
        if not self._file_exists(repo_id, _SAFETENSORS_INDEX, revision, repo_type):
            raise NotASafetensorsRepoError(
                f"'{repo_id}' is not a safetensors repo. Couldn't find "
                f"'{_SAFETENSORS_INDEX}' or '{_SAFETENSORS_SINGLE}' files.",
                code=E.ENOENTRY, error_name="ENOENTRY")
        raw = self.read(repo_id, _SAFETENSORS_INDEX, revision=revision,
                        repo_type=repo_type, no_cache=no_cache)
        try:
            index = json.loads(raw)
        except ValueError as e:
            raise FileFormatError(f"{repo_id}/{_SAFETENSORS_INDEX}: not JSON: {e}",
                                  code=E.EFORMAT, error_name="EFORMAT") from None
        weight_map = index.get("weight_map", {})
        shards = list(dict.fromkeys(weight_map.values()))  # first appearance
        files = {}
        for shard in shards:
            files[shard] = self.parse_safetensors_file_metadata(
                repo_id, shard, revision=revision, repo_type=repo_type,
                no_cache=no_cache, max_header_bytes=max_header_bytes)
        metadata = index.get("metadata", None)
        total = metadata.get("total_size") if isinstance(metadata, dict) else None
        return _weights.SafetensorsRepoMetadata(
            metadata=metadata, sharded=True, weight_map=weight_map, files_metadata=files,
            shards=shards, total_size=total if isinstance(total, int) else None,
            data_size=sum(m.data_size for m in files.values()),
            header_size=sum(m.header_size for m in files.values()))

    def read_gguf(self, repo_id, filename, *, revision=None, repo_type=None,
                  no_cache=False, max_array_values=None, max_header_bytes=None):
        """The header of a GGUF file of a repository, read with ranged
        requests (2 MiB steps; at most 2 MiB past the header), or from the
        cache with no request: the GGUFFile read_gguf_file() returns."""
        fetch_path = self._header_call(lib.hub_gguf_info_remote, repo_id, revision,
                                       repo_type, no_cache)
        hopts = _weights._header_options(lib, _last_error, max_header_bytes,
                                         max_array_values)
        return _weights.read_gguf(lib, _last_error, hopts, fetch_path(filename))

    def start_job(self, repo_id, *, progress=None, **options):
        """Start a download on a thread of its own; returns a Job. Options as
        download(). `progress` runs on the job's thread."""
        return Job(self, repo_id, progress=progress, **options)


class Job:
    """A download running on a thread of its own.

        with client.start_job("org/model", allow_patterns="*.json") as job:
            while not job.done:
                print(job.poll().bytes_done)
                time.sleep(0.1)
            result = job.wait()

    poll(), cancel(), done, wait() and close() may be used from any thread,
    concurrently; every wait() gets the same outcome. Leaving the `with`
    block (or close()) cancels the job if it still runs and waits for it to
    stop.
    """

    def __init__(self, client, repo_id, *, files=None, progress=None, **options):
        self._ptr = None
        # guards _ptr, _users and the outcome; close() frees the handle only
        # once no other thread is inside a call on it
        self._cv = threading.Condition()
        self._users = 0
        self._poll_lock = threading.Lock()
        self._client = client  # a job must never outlive its client
        self._result = None
        self._error = None
        self._ended = False
        o, self._bridge = client._options(files=files, progress=progress, **options)
        ptr = ctypes.c_void_p()
        with client._lock:
            rc = lib.hub_job_start(ctypes.byref(ptr), client._handle(),
                                   _utf8(repo_id), ctypes.byref(o))
            if rc != E.OK:
                raise _last_error()
        self._ptr = ptr
        client._jobs.add(self)

    def _enter(self):
        with self._cv:
            if not self._ptr:
                raise ValueError("hubfetch: the job is closed")
            self._users += 1
            return self._ptr

    def _leave(self):
        with self._cv:
            self._users -= 1
            self._cv.notify_all()

    def poll(self):
        """The latest job-level progress; never blocks."""
        p = _lib.hub_progress()
        ptr = self._enter()
        try:
            # the strings it returns live until the next poll: one at a time
            with self._poll_lock:
                lib.hub_job_poll(ptr, ctypes.byref(p))
                return Progress._from_c(p)
        finally:
            self._leave()

    def cancel(self):
        """Ask the job to stop; returns at once. wait() then raises
        DownloadCancelled."""
        ptr = self._enter()
        try:
            lib.hub_job_cancel(ptr)
        finally:
            self._leave()

    @property
    def done(self):
        with self._cv:
            if self._ended:
                return True
        ptr = self._enter()
        try:
            return bool(lib.hub_job_done(ptr))
        finally:
            self._leave()

    def wait(self, timeout=None):
        """Wait for the job; returns its Result or raises its error. With a
        timeout (seconds) raises TimeoutError if it is still running then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._wait_slice(deadline):
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError("hubfetch: the job is still running")
        if self._bridge.error is not None:
            self._bridge.reraise()  # the callback's own exception wins
        if self._error is not None:
            raise self._error
        return self._result

    def _wait_slice(self, deadline):
        """Wait a short slice (so Ctrl-C keeps working); True once the
        outcome is recorded."""
        with self._cv:
            if self._ended:
                return True
        left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
        out = ctypes.c_void_p()
        rc = None
        ptr = self._enter()
        try:
            rc = lib.hub_job_wait(ptr, max(0, int(left * 1000)), ctypes.byref(out))
            # ETIMEOUT is also a real outcome of a job: ask whether it ended
            if rc == E.ETIMEOUT:
                if not lib.hub_job_done(ptr):
                    return False
                # it ended after that answer: now its own outcome
                rc = lib.hub_job_wait(ptr, 0, ctypes.byref(out))
            error = _last_error() if rc != E.OK else None  # before other calls
        finally:
            self._leave()
            if out:
                # the library handed the result to this call alone: record
                # it even when an exception (Ctrl-C) is on its way
                result = None
                try:
                    result = _take_result(out)
                finally:
                    self._record(result, None)
        if rc != E.OK:
            self._record(None, error)
        elif not out:
            # another waiter has the result and is about to record it
            with self._cv:
                while not self._ended:
                    if self._ptr is None:
                        raise ValueError("hubfetch: the job is closed")
                    if deadline is not None and time.monotonic() >= deadline:
                        return False
                    self._cv.wait(0.2)
        return True

    def _record(self, result, error):
        """The job's outcome, once: every wait() returns or raises it."""
        with self._cv:
            if not self._ended:
                self._result, self._error, self._ended = result, error, True
            self._cv.notify_all()

    def close(self):
        """Cancel if running, wait, free. Safe to call twice, and while other
        threads are in wait() or poll() (they then see the job closed)."""
        with self._cv:
            ptr = self._ptr
            if not ptr:
                return
            lib.hub_job_cancel(ptr)
            self._ptr = None  # no new callers
            self._cv.notify_all()  # waiters for another's result see it
            while self._users:
                self._cv.wait()
        lib.hub_job_free(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_ptr", None) and lib is not None:
            lib.hub_job_free(self._ptr)
            self._ptr = None


# -- huggingface_hub-style functions -------------------------------------------

def _client(endpoint, token, cache_dir, kw):
    return Client(endpoint=endpoint, token=token, cache_dir=cache_dir, **kw)


def hf_hub_download(repo_id, filename, *, subfolder=None, repo_type="model",
                    revision=None, cache_dir=None, local_dir=None, token=None,
                    endpoint=None, local_files_only=False, force_download=False,
                    prefer_offline=False, progress=None, **client_options):
    """Download one file into the huggingface_hub cache; returns its path.
    Extra keyword arguments go to Client (proxy, max_retries, ignore_env...)."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.hf_hub_download(
            repo_id, filename, subfolder=subfolder, repo_type=repo_type,
            revision=revision, local_dir=local_dir,
            local_files_only=local_files_only, force_download=force_download,
            prefer_offline=prefer_offline, progress=progress)


def snapshot_download(repo_id, *, repo_type="model", revision=None, cache_dir=None,
                      local_dir=None, token=None, endpoint=None,
                      local_files_only=False, force_download=False,
                      allow_patterns=None, ignore_patterns=None, max_workers=None,
                      prefer_offline=False, progress=None, **client_options):
    """Download a snapshot of a repository; returns the folder. Extra keyword
    arguments go to Client."""
    with _client(endpoint, token, cache_dir,
                 dict(client_options, max_workers=max_workers)) as c:
        return c.snapshot_download(
            repo_id, repo_type=repo_type, revision=revision,
            allow_patterns=allow_patterns, ignore_patterns=ignore_patterns,
            local_dir=local_dir, local_files_only=local_files_only,
            force_download=force_download, prefer_offline=prefer_offline,
            progress=progress)


def cache_lookup(repo_id, filename=None, *, repo_type="model", revision=None,
                 cache_dir=None, allow_patterns=None, ignore_patterns=None,
                 files=None, local_dir=None, **client_options):
    """Client.cache_lookup() with a temporary client: never uses the network."""
    with _client(None, False, cache_dir, client_options) as c:
        return c.cache_lookup(repo_id, filename, files=files, repo_type=repo_type,
                              revision=revision, allow_patterns=allow_patterns,
                              ignore_patterns=ignore_patterns, local_dir=local_dir)


def scan_cache_dir(cache_dir=None, *, hub="huggingface", **client_options):
    """huggingface_hub's scan_cache_dir(): an HFCacheInfo of the cache at
    `cache_dir` (default: HF_HUB_CACHE, else $HF_HOME/hub, else
    ~/.cache/huggingface/hub). Never uses the network. hub="modelscope"
    scans ModelScope's cache layouts instead (the default folder then
    comes from ModelScope's variables)."""
    with _cache_client(cache_dir, hub, client_options) as c:
        return c.scan_cache_dir()


def _cache_client(cache_dir, hub, client_options):
    if cache_dir is not None:
        cache_dir = os.path.expanduser(os.fspath(cache_dir))
    return _client(None, False, cache_dir, dict(client_options, hub=hub))


def delete_cache_targets(targets, cache_dir=None, *, dry_run=False,
                         hub="huggingface", **client_options):
    """`hubfetch cache rm TARGET...`: delete repositories (ID, TYPE:ID),
    revisions (ID@REV, or a bare 40-hex commit) or files (ID@REV:PATH) from
    the cache at `cache_dir` (default as scan_cache_dir()), unless dry_run.
    Returns the DeleteCacheStrategy (see Client.delete_cache_targets)."""
    with _cache_client(cache_dir, hub, client_options) as c:
        return c.delete_cache_targets(targets, dry_run=dry_run)


def prune_cache(cache_dir=None, *, older_than=None, max_size=None,
                partial_age=None, dry_run=False, hub="huggingface",
                **client_options):
    """`hubfetch cache prune`: free the cache at `cache_dir` (default as
    scan_cache_dir()) of what nothing uses (detached revisions, stale
    partial downloads, unused blobs, leftovers), of revisions unused for
    `older_than` (seconds or a timedelta), then of the least recently used
    revisions until it holds at most `max_size` bytes; `partial_age` (default
    one hour, 0 any age) says when a partial download is stale. Deletes
    unless dry_run; returns the DeleteCacheStrategy."""
    with _cache_client(cache_dir, hub, client_options) as c:
        return c.prune_cache(older_than=older_than, max_size=max_size,
                             partial_age=partial_age, dry_run=dry_run)


def verify_cache(targets=None, cache_dir=None, *, remote=False, fail_on_missing=False,
                 local_dir=None, repo_id=None, repo_type=None, revision=None,
                 threads=None, progress=None, endpoint=None, token=None,
                 **client_options):
    """`hubfetch cache verify`: Client.verify_cache() with a temporary client
    on the cache at `cache_dir` (default as scan_cache_dir()). Only
    remote=True uses the network (endpoint, token, ... as Client takes
    them). Returns a CacheVerification."""
    if cache_dir is not None:
        cache_dir = os.path.expanduser(os.fspath(cache_dir))
    if not remote:
        token = False
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.verify_cache(targets, remote=remote, fail_on_missing=fail_on_missing,
                              local_dir=local_dir, repo_id=repo_id,
                              repo_type=repo_type, revision=revision,
                              threads=threads, progress=progress)


def list_repo_tree(repo_id, path_in_repo=None, *, recursive=False, expand=False,
                   revision=None, repo_type=None, token=None, endpoint=None,
                   cache_dir=None, **client_options):
    """Client.list_repo_tree() with a client of its own, freed with the
    iterator."""
    c = _client(endpoint, token, cache_dir, client_options)
    return c.list_repo_tree(repo_id, path_in_repo, recursive=recursive, expand=expand,
                            revision=revision, repo_type=repo_type)


def get_paths_info(repo_id, paths, *, expand=False, revision=None, repo_type=None,
                   token=None, endpoint=None, cache_dir=None, **client_options):
    """Client.get_paths_info() with a temporary client."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.get_paths_info(repo_id, paths, expand=expand, revision=revision,
                                repo_type=repo_type)


def whoami(token=None, *, endpoint=None, cache_dir=None, **client_options):
    """Client.whoami() with a temporary client (token: a string, or None for
    HF_TOKEN, then the token file)."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.whoami()


def read(repo_id, path, offset=0, length=None, *, revision=None, repo_type=None,
         verify=False, no_cache=False, token=None, endpoint=None, cache_dir=None,
         **client_options):
    """Client.read() with a temporary client: bytes of a file of a
    repository, without downloading it into the cache."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.read(repo_id, path, offset, length, revision=revision,
                      repo_type=repo_type, verify=verify, no_cache=no_cache)


def read_into(repo_id, path, on_data, offset=0, length=None, *, revision=None,
              repo_type=None, verify=False, no_cache=False, token=None, endpoint=None,
              cache_dir=None, **client_options):
    """Client.read_into() with a temporary client; returns a ReadInfo."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.read_into(repo_id, path, on_data, offset, length, revision=revision,
                           repo_type=repo_type, verify=verify, no_cache=no_cache)


def get_safetensors_metadata(repo_id, *, revision=None, repo_type=None, token=None,
                             endpoint=None, cache_dir=None, **client_options):
    """Client.get_safetensors_metadata() with a temporary client."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.get_safetensors_metadata(repo_id, revision=revision, repo_type=repo_type)


def parse_safetensors_file_metadata(repo_id, filename, *, revision=None, repo_type=None,
                                    token=None, endpoint=None, cache_dir=None,
                                    **client_options):
    """Client.parse_safetensors_file_metadata() with a temporary client."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.parse_safetensors_file_metadata(repo_id, filename, revision=revision,
                                                 repo_type=repo_type)


def read_gguf(repo_id, filename, *, revision=None, repo_type=None, max_array_values=None,
              token=None, endpoint=None, cache_dir=None, **client_options):
    """Client.read_gguf() with a temporary client."""
    with _client(endpoint, token, cache_dir, client_options) as c:
        return c.read_gguf(repo_id, filename, revision=revision, repo_type=repo_type,
                           max_array_values=max_array_values)


def get_token_path():
    """huggingface_hub's constants.HF_TOKEN_PATH, from the environment as
    it reads it ($HF_TOKEN_PATH, $HF_HOME/token, ...; hub_token_path()).
    The file need not exist."""
    out = ctypes.c_void_p()
    if lib.hub_token_path(ctypes.byref(out)) != E.OK:
        raise _last_error()
    return _take_string(out)


def save_token(token, name=None):
    """Save a token as huggingface_hub's login() does (without checking it
    with the hub: call whoami() first): the token file holds it, and with
    a `name` it is also stored under that name in `stored_tokens` (what
    `hf auth list` / `switch` read). Both files are written with mode 0600
    and renamed into place."""
    if lib.hub_token_save(_utf8(token), _utf8(name)) != E.OK:
        raise _last_error()


def remove_token():
    """huggingface_hub's logout(): remove the token file and
    stored_tokens. Returns True if a token file was there. A token in
    $HF_TOKEN still applies afterwards."""
    removed = ctypes.c_int(0)
    if lib.hub_token_remove(ctypes.byref(removed)) != E.OK:
        raise _last_error()
    return bool(removed.value)


def parse_safetensors_file(path, *, max_header_bytes=None):
    """The header of a local safetensors file as huggingface_hub's
    SafetensorsFileMetadata (metadata, tensors: {name: TensorInfo},
    parameter_count: {dtype: n}); for a `*.safetensors.index.json`, a
    SafetensorsRepoMetadata of the shards beside it. Reads the headers
    only. Raises FileFormatError (SafetensorsParsingError) for a malformed
    file, CacheError when it cannot be read."""
    return _weights.parse_safetensors_file(lib, _last_error, path, max_header_bytes)


def read_gguf_file(path, *, max_array_values=None, max_header_bytes=None):
    """The header of a local GGUF file (v2 or v3, either byte order): a
    GGUFFile with its facts, metadata and tensor infos. Arrays longer than
    max_array_values (default: keep all) become a GGUFArraySummary."""
    return _weights.read_gguf_file(lib, _last_error, path, max_array_values,
                                   max_header_bytes)


def ggml_type_name(type_number):
    """The name of a ggml tensor type ("Q4_K"), or None."""
    return _weights.ggml_type_name(lib, int(type_number))


def try_to_load_from_cache(repo_id, filename, cache_dir=None, revision=None,
                           repo_type=None, **client_options):
    """The cached path of `filename`, or None; never uses the network."""
    with _client(None, False, cache_dir, client_options) as c:
        return c.try_to_load_from_cache(repo_id, filename, revision=revision,
                                        repo_type=repo_type)


__all__ = ["Client", "Job", "Progress", "Phase", "FileStatus", "FileInfo",
           "Result", "LogLevel", "hf_hub_download", "snapshot_download",
           "cache_lookup", "try_to_load_from_cache", "scan_cache_dir",
           "delete_cache_targets", "prune_cache", "verify_cache", "library_version",
           "list_repo_tree", "get_paths_info", "whoami", "get_token_path",
           "save_token", "remove_token", "parse_safetensors_file", "read_gguf_file",
           "ggml_type_name", "HfHubError", "read", "read_into", "ReadInfo",
           "get_safetensors_metadata", "parse_safetensors_file_metadata", "read_gguf"]
