"""What a revision holds on the hub, and who a token belongs to:
hub_list_open/next (huggingface_hub's HfApi.list_repo_tree), hub_stat
(get_paths_info), hub_whoami (whoami) and the token file (get_token_path,
login's save, logout's removal).

The types are huggingface_hub's (hf_api.py): RepoFile (path, size,
blob_id, lfs, last_commit, security), RepoFolder (path, tree_id,
last_commit), BlobLfsInfo (size, sha256, pointer_size) and LastCommitInfo
(oid, title, date: a datetime), the last two dicts as well as dataclasses,
as there. Added: RepoFile.xet_hash (the Xet hash of a Xet-stored file,
else None). `security` is always None: the library does not read the
hub's security scan.

Ownership: an entry's strings live until the next hub_list_next(), so
each entry is copied into Python values before the next one is asked for;
the C iterator (hub_list) is owned by a RepoTreeIterator and freed when
the listing is exhausted, fails, is closed, or is garbage-collected, and
before its client is closed.
"""

from __future__ import annotations

import ctypes
import datetime
import threading
from dataclasses import asdict, dataclass
from typing import Optional

from . import _lib
from ._lib import E


def _text(b):
    return None if b is None else b.decode("utf-8", "surrogateescape")


def parse_datetime(date_string):
    """huggingface_hub's parse_datetime: '2022-08-19T07:19:38.123Z' -> an
    aware datetime (UTC); fractions cut or padded to microseconds."""
    s = date_string
    if s.endswith("Z"):
        if "." not in s:
            s = s[:-1] + ".000000Z"
        else:
            base, fraction = s[:-1].split(".")
            s = f"{base}.{fraction[:6]:0<6}Z"
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc)
    # another ISO 8601 form (an offset): as the standard library reads it
    return datetime.datetime.fromisoformat(s)


@dataclass
class LastCommitInfo(dict):
    oid: str
    title: str
    date: datetime.datetime

    def __post_init__(self):  # a dict too, as huggingface_hub's
        self.update(asdict(self))


@dataclass
class BlobLfsInfo(dict):
    size: int
    sha256: str
    pointer_size: int

    def __post_init__(self):  # a dict too, as huggingface_hub's
        self.update(asdict(self))


@dataclass
class RepoFile:
    """A file of a revision (huggingface_hub's RepoFile), plus xet_hash."""
    path: str
    size: int
    blob_id: Optional[str]
    lfs: Optional[BlobLfsInfo] = None
    last_commit: Optional[LastCommitInfo] = None
    security: None = None
    xet_hash: Optional[str] = None

    # huggingface_hub's backward-compatible names
    @property
    def rfilename(self):
        return self.path

    @property
    def lastCommit(self):  # noqa: N802
        return self.last_commit


@dataclass
class RepoFolder:
    """A folder of a revision (huggingface_hub's RepoFolder)."""
    path: str
    tree_id: Optional[str]
    last_commit: Optional[LastCommitInfo] = None


def entry_from_c(e):
    """A RepoFile or RepoFolder copied from a hub_entry."""
    last_commit = None
    if e.last_commit_id:
        date = _text(e.last_commit_date)
        try:
            date = parse_datetime(date) if date else None
        except ValueError:
            pass  # kept as the hub wrote it
        last_commit = LastCommitInfo(oid=_text(e.last_commit_id),
                                     title=_text(e.last_commit_title) or "", date=date)
    if e.type == _lib.ENTRY_DIRECTORY:
        return RepoFolder(path=_text(e.path), tree_id=_text(e.oid), last_commit=last_commit)
    lfs = None
    if e.lfs_sha256:
        lfs = BlobLfsInfo(size=e.lfs_size, sha256=_text(e.lfs_sha256),
                          pointer_size=e.lfs_pointer_size)
    return RepoFile(path=_text(e.path), size=e.size, blob_id=_text(e.oid), lfs=lfs,
                    last_commit=last_commit, xet_hash=_text(e.xet_hash))


class RepoTreeIterator:
    """The entries of Client.list_repo_tree(), one hub page at a time.

    Nothing is requested until the first next() (as huggingface_hub's
    generator): a missing repository, revision or folder raises there.
    The C iterator is freed when the listing ends or fails, on close()
    (or leaving a `with` block), when the object is collected, and when
    its client is closed (the iterator then raises ValueError). Not for
    two threads at once; calls into its client are serialised with the
    client's other calls.
    """

    def __init__(self, client, lib, last_error, repo_id, path, opts, keep):
        self._client = client
        self._lib = lib
        self._last_error = last_error
        self._args = (repo_id, path, opts, keep)
        self._ptr = None
        self._started = False
        self._done = False
        self._lock = threading.Lock()
        self.endpoint = None  # the endpoint answering, once started

    def __iter__(self):
        return self

    def __next__(self):
        # the client's lock first, as Client.close() takes them
        with self._client._lock, self._lock:
            if self._done:
                raise StopIteration
            if not self._started:
                self._started = True
                repo_id, path, opts, _keep = self._args
                ptr = ctypes.c_void_p()
                rc = self._lib.hub_list_open(ctypes.byref(ptr), self._client._handle(),
                                             repo_id, path, ctypes.byref(opts))
                if rc != E.OK:
                    self._done = True
                    raise self._last_error()
                self._ptr = ptr
                self.endpoint = _text(self._lib.hub_list_endpoint(ptr))
                self._client._listings.add(self)
            if not self._ptr:
                raise ValueError("hubfetch: the listing was closed")
            entry = ctypes.POINTER(_lib.hub_entry)()
            rc = self._lib.hub_list_next(self._ptr, ctypes.byref(entry))
            if rc == E.OK and entry:
                return entry_from_c(entry.contents)  # copied before the next call
            error = self._last_error() if rc != _lib.LIST_DONE else None
            self._free()
            if error is not None:
                raise error
            raise StopIteration

    def _free(self):
        self._done = True
        if self._ptr:
            self._lib.hub_list_free(self._ptr)
            self._ptr = None

    def close(self):
        """Free the C iterator; further next() raise StopIteration."""
        with self._lock:
            self._free()

    def _client_closing(self):
        # called by Client.close() under its lock: the client is going away
        with self._lock:
            if self._ptr:
                self._lib.hub_list_free(self._ptr)
                self._ptr = None  # next() now raises ValueError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_ptr", None) and self._lib is not None:
            self._lib.hub_list_free(self._ptr)
            self._ptr = None


def whoami_dict(w):
    """huggingface_hub's whoami() dict from a hub_whoami_info: the keys the
    library reads (name, fullname, type, orgs[].name,
    auth.accessToken.displayName/role); a value the server did not send is
    left out, as in its JSON."""
    out = {"name": _text(w.name)}
    if w.fullname:
        out["fullname"] = _text(w.fullname)
    if w.type:
        out["type"] = _text(w.type)
    out["orgs"] = [{"name": _text(w.orgs[i])} for i in range(w.org_count)]
    token = {}
    if w.token_name:
        token["displayName"] = _text(w.token_name)
    if w.token_role:
        token["role"] = _text(w.token_role)
    out["auth"] = {"accessToken": token} if token else {}
    return out


__all__ = ["RepoFile", "RepoFolder", "BlobLfsInfo", "LastCommitInfo",
           "RepoTreeIterator"]
