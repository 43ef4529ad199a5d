#!/usr/bin/env python3
"""Fake Hugging Face Hub, fake ModelScope and LFS CDN for hubfetch tests (stdlib only).

Two HTTP servers on 127.0.0.1: the HUB (resolve URLs, /api/*, fault control, and with
--ms-fixtures the ModelScope API under /api/v1/) and the CDN (signed LFS object URLs). The
protocols follow /work/shared/reference/hf-protocol.md §1, §2, §8 and
/work/shared/reference/modelscope-protocol.md §1, §5 and its Appendix; the fixture format,
fault rules and log format are described in README.md.

Importable: tests use `load_fixtures()` to compute the bytes and digests they expect.
"""

import argparse
import base64
import fcntl
import gzip
import hashlib
import hmac
import json
import mimetypes
import os
import random
import re
import secrets
import signal
import socket
import ssl
import struct
import sys
import termios
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

BLOCK_SIZE = 1 << 20
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"
REPO_TYPES = ("model", "dataset", "space")
MS_REPO_TYPES = ("model", "dataset")  # ModelScope has no spaces here
MS_DEFAULT_BRANCH = "master"  # ModelScope has no "main" (reference §1.8)
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
FIRST_COMMIT_DATE = 1704067200  # 2024-01-01T00:00:00Z; commit i of a repo is i days later
RANGE_UNSATISFIABLE = "unsatisfiable"


class FixtureError(Exception):
    pass


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def iso_date(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


# --------------------------------------------------------------------------- content


class BytesContent:
    """Content held in memory (git files are small by construction)."""

    def __init__(self, data):
        self.data = data
        self.size = len(data)
        self._sha256 = None

    def chunks(self, start, end):
        yield memoryview(self.data)[start:end]

    def sha256(self):
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.data).hexdigest()
        return self._sha256


class GeneratedContent:
    """Deterministic pseudo-random content of any size, never materialised in full.

    Block i (1 MiB) is a base block from random.Random(seed).randbytes(min(size, 1 MiB))
    whose first 8 bytes are replaced by i as little-endian u64: every block differs, so
    bytes served at a wrong offset change the digest.
    """

    def __init__(self, size, seed):
        self.size = size
        self.seed = seed
        self._base = None
        self._sha256 = None
        self._lock = threading.Lock()

    def _block(self, index):
        if self._base is None:
            self._base = random.Random(self.seed).randbytes(min(self.size, BLOCK_SIZE))
        length = min(BLOCK_SIZE, self.size - index * BLOCK_SIZE)
        return (index.to_bytes(8, "little") + self._base[8:])[:length]

    def chunks(self, start, end):
        pos = start
        while pos < end:
            index, offset = divmod(pos, BLOCK_SIZE)
            stop = min(end - index * BLOCK_SIZE, BLOCK_SIZE)
            yield memoryview(self._block(index))[offset:stop]
            pos = index * BLOCK_SIZE + stop

    def sha256(self):
        # Locked so that concurrent first requests for a multi-GiB file hash it only once.
        with self._lock:
            if self._sha256 is None:
                digest = hashlib.sha256()
                for chunk in self.chunks(0, self.size):
                    digest.update(chunk)
                self._sha256 = digest.hexdigest()
            return self._sha256


class RepoFile:
    """One file of a commit: a git file (etag = git blob sha1) or an LFS file (etag = sha256)."""

    def __init__(self, path, content, lfs, registry):
        self.path = path
        self.content = content
        self.lfs = lfs
        self.size = content.size
        self.listed_size = None  # ModelScope listings: "Size" to report instead of the real one
        self.listed_sha256 = True  # ModelScope listings: False leaves "Sha256" out
        self.xet = False  # stored with Xet (LFS files only): tree xetHash, X-Xet-* headers
        self._registry = registry  # sha256 -> RepoFile, what the CDN can serve (LFS only)
        self._git_sha1 = None if lfs else git_blob_sha1(content.data)

    @property
    def sha256(self):
        sha = self.content.sha256()
        if self.lfs:
            self._registry.setdefault(sha, self)
        return sha

    @property
    def identity(self):
        """Cheap content key (no sha256 of big LFS files): equal iff same content."""
        return ("lfs", self.size, self.content.seed) if self.lfs else ("git", self._git_sha1)

    @property
    def pointer(self):
        """The LFS pointer file stored in git in place of the content."""
        return LFS_POINTER.format(oid=self.sha256, size=self.size).encode()

    @property
    def oid(self):
        """git object id of the file as stored in git (the pointer for LFS files)."""
        return git_blob_sha1(self.pointer) if self.lfs else self._git_sha1

    @property
    def xet_hash(self):
        """Xet's content hash (a merkle hash, not the sha256; derived here)."""
        return hashlib.sha256(b"xet:" + self.sha256.encode()).hexdigest() if self.xet else None

    @property
    def etag(self):
        """Blob name in the huggingface_hub cache."""
        return self.sha256 if self.lfs else self._git_sha1

    def chunks(self, start, end):
        return self.content.chunks(start, end)

    def read(self, start=0, end=None):
        end = self.size if end is None else end
        return b"".join(bytes(c) for c in self.chunks(start, end))


# --------------------------------------------------------------------------- repos


def _parent(path):
    return path.rsplit("/", 1)[0] if "/" in path else ""


class Commit:
    def __init__(self, sha, date, files, parent=None, message=""):
        self.sha = sha
        self.date = date
        self.parent = parent  # the commit it "extends", or None
        self.message = message
        self.files = dict(sorted(files.items()))
        # Every proper prefix of a file path is a directory. Empty prefixes (from hostile
        # paths such as "/abs/path.txt") are the root and not listed.
        self.dirs = set()
        for path in self.files:
            parts = path.split("/")
            for i in range(1, len(parts)):
                prefix = "/".join(parts[:i])
                if prefix:
                    self.dirs.add(prefix)
        self._tree_oids = {}
        self._listings = {}
        self._last_touch = {}

    def last_touch(self, path):
        """The commit that last changed file or directory `path` in this commit's history
        (first-parent chain of "extends"): what ModelScope listings report as `Revision`."""
        if path not in self._last_touch:
            if path in self.files:
                key = lambda c: c.files[path].identity if path in c.files else None  # noqa: E731
            else:
                key = lambda c: c.tree_oid(path) if path in c.dirs else None  # noqa: E731
            mine, c = key(self), self
            while c.parent is not None and key(c.parent) == mine:
                c = c.parent
            self._last_touch[path] = c
        return self._last_touch[path]

    def tree_oid(self, directory):
        """git tree object id of a directory (real git encoding, recursive)."""
        if directory not in self._tree_oids:
            entries = []
            for path in self.dirs:
                if _parent(path) == directory:
                    name = path.rsplit("/", 1)[-1]
                    entries.append((name + "/", b"40000 ", name, self.tree_oid(path)))
            for path, f in self.files.items():
                if _parent(path) == directory:
                    name = path.rsplit("/", 1)[-1]
                    entries.append((name, b"100644 ", name, f.oid))
            data = b"".join(
                mode + name.encode() + b"\0" + bytes.fromhex(oid)
                for _, mode, name, oid in sorted(entries, key=lambda e: e[0].encode())
            )
            self._tree_oids[directory] = hashlib.sha1(b"tree %d\0" % len(data) + data).hexdigest()
        return self._tree_oids[directory]

    def entry(self, path, expand=False):
        """The tree API entry (§1.4, B1) of a file or directory of this commit, or None;
        `expand` adds lastCommit and securityFileStatus."""
        if path in self.files:
            f = self.files[path]
            entry = {"type": "file", "path": path, "oid": f.oid, "size": f.size}
            if f.lfs:
                entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": len(f.pointer)}
            if f.xet:
                entry["xetHash"] = f.xet_hash
        elif path in self.dirs:
            entry = {"type": "directory", "path": path, "oid": self.tree_oid(path), "size": 0}
        else:
            return None
        if expand:
            last = self.last_touch(path)
            entry["lastCommit"] = {"id": last.sha, "title": last.message.split("\n")[0],
                                   "date": iso_date(last.date)}
            if entry["type"] == "file":
                entry["securityFileStatus"] = {"status": "safe", "avScan": {"status": "safe"},
                                               "pickleImportScan": None}
        return entry

    def listing(self, directory, recursive, expand=False):
        """Tree API entries (§1.4) under `directory`, sorted by path; cached."""
        key = (directory, recursive, expand)
        if key not in self._listings:

            def wanted(path):
                if recursive:
                    return not directory or path.startswith(directory + "/")
                return _parent(path) == directory

            paths = [d for d in self.dirs if wanted(d)] + [p for p in self.files if wanted(p)]
            self._listings[key] = sorted((self.entry(p, expand) for p in paths),
                                         key=lambda e: e["path"])
        return self._listings[key]


class Repo:
    def __init__(self, repo_type, repo_id, private, gated):
        self.type = repo_type
        self.id = repo_id
        self.private = private
        self.gated = gated
        self.commits = []
        self.renamed_from = []  # former ids, answered with a 307 to this one
        self.refs = []  # (kind, name, commit), kind in branch|tag|pr|convert
        self._names = {}  # every accepted spelling of a ref -> commit
        # ModelScope only (see README "ModelScope fixtures"):
        self.ms_id = None  # numeric hub id of the repo
        self.committer = "hubfetch"
        self.info_error = None  # (code, message): model/dataset info answers 200 + this Code
        self.dataset_type = 4

    def add_ref(self, ref, commit):
        if ref.startswith("refs/pr/"):
            kind, name, spellings = "pr", ref, [ref]
        elif ref.startswith("refs/convert/"):
            kind, name, spellings = "convert", ref[len("refs/convert/"):], [ref]
        elif ref.startswith("refs/tags/"):
            kind, name = "tag", ref[len("refs/tags/"):]
            spellings = [ref, name]
        else:
            kind = "branch"
            name = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
            spellings = ["refs/heads/" + name, name]
        if any(kind == k and name == n for k, n, _ in self.refs):
            raise FixtureError(f"{self.id}: ref {ref!r} defined twice")
        self.refs.append((kind, name, commit))
        for spelling in spellings:
            # A branch wins over a tag of the same short name, as in git.
            if kind == "branch" or spelling not in self._names:
                self._names[spelling] = commit

    def resolve(self, rev):
        """Commit for a branch, tag, PR/convert ref, full or >=7-hex commit prefix; else None."""
        if rev in self._names:
            return self._names[rev]
        if re.fullmatch(r"[0-9a-fA-F]{7,40}", rev):
            hits = [c for c in self.commits if c.sha.startswith(rev.lower())]
            if len(hits) == 1:
                return hits[0]
        return None

    def resolve_ms(self, rev):
        """ModelScope: a branch, a tag (a branch wins), or a full 40-hex commit id. Commit
        ids are accepted although the reference marks them [unverified] (§1.8, §9); short
        prefixes and refs/... spellings are not."""
        for wanted in ("branch", "tag"):
            for kind, name, commit in self.refs:
                if kind == wanted and name == rev:
                    return commit
        if re.fullmatch(r"[0-9a-fA-F]{40}", rev):
            return next((c for c in self.commits if c.sha == rev.lower()), None)
        return None

    def ms_refs(self, kind):
        return [(name, commit) for k, name, commit in self.refs if k == kind]


class Fixtures:
    """All repos and tokens of a fixture directory (one JSON file per repo + tokens.json).

    flavour "hf" (Hugging Face, needs `main`) or "ms" (ModelScope: models and datasets,
    branches and tags only, needs `master`, extra keys described in README.md)."""

    def __init__(self, directory, flavour="hf"):
        if flavour not in ("hf", "ms"):
            raise ValueError(f"unknown fixture flavour {flavour!r}")
        self.flavour = flavour
        self.directory = directory
        self.repos = {}
        self.tokens = {}
        self.users = {}  # token -> its "user" entry of tokens.json (whoami-v2)
        self._lfs_objects = {}
        self._generated = {}  # (size, seed) -> GeneratedContent, shared so each is hashed once
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(directory, name), encoding="utf-8") as fh:
                try:
                    spec = json.load(fh)
                except ValueError as e:
                    raise FixtureError(f"{name}: {e}") from None
            if name == "tokens.json":
                self._load_tokens(spec)
            else:
                try:
                    repo = self._load_repo(spec)
                except (KeyError, TypeError, ValueError) as e:
                    raise FixtureError(f"{name}: invalid fixture ({e!r})") from None
                if (repo.type, repo.id) in self.repos:
                    raise FixtureError(f"{name}: repo {repo.type}/{repo.id} defined twice")
                if flavour == "ms" and any(r.ms_id == repo.ms_id for r in self.repos.values()):
                    raise FixtureError(f"{name}: ms_id {repo.ms_id} used twice")
                self.repos[(repo.type, repo.id)] = repo

    def _load_tokens(self, spec):
        for token, grant in spec.items():
            self.users[token] = grant.get("user", {})
            allowed = set()
            for entry in grant.get("repos", []):
                repo_type = "model"
                for t in ("dataset", "space"):
                    if entry.startswith(URL_PREFIX[t]):
                        repo_type, entry = t, entry[len(URL_PREFIX[t]):]
                allowed.add((repo_type, entry))
            self.tokens[token] = allowed

    def _load_repo(self, spec):
        ms = self.flavour == "ms"
        repo_type = spec.get("type", "model")
        if repo_type not in (MS_REPO_TYPES if ms else REPO_TYPES):
            raise ValueError(f"unknown repo type {repo_type!r}")
        gated = spec.get("gated", False)
        if gated not in (False, "auto", "manual") or (ms and gated):
            raise ValueError(f"gated must be false, 'auto' or 'manual' (HF only), not {gated!r}")
        repo = Repo(repo_type, spec["id"], bool(spec.get("private", False)), gated)
        repo.renamed_from = [str(old) for old in spec.get("renamed_from", [])]
        if ms:
            self._load_ms_keys(repo, spec)
        for index, cspec in enumerate(spec["commits"]):
            files = {}
            parent = None
            if "extends" in cspec:
                parent = repo.commits[cspec["extends"]]
                files.update(parent.files)
            for path in cspec.get("delete", []):
                del files[path]
            for fspec in cspec.get("files", []):
                for f in self._load_files(fspec):
                    files[f.path] = f
            sha = cspec.get("sha") or self._derive_sha(repo, index, files)
            if not re.fullmatch(r"[0-9a-f]{40}", sha):
                raise ValueError(f"commit sha {sha!r} is not 40 lowercase hex")
            message = str(cspec.get("message", f"commit {index}"))
            commit = Commit(sha, FIRST_COMMIT_DATE + 86400 * index, files, parent, message)
            repo.commits.append(commit)
            for ref in cspec.get("refs", []):
                if ms and ref.startswith(("refs/pr/", "refs/convert/")):
                    raise ValueError(f"ModelScope repos have branches and tags only, not {ref!r}")
                repo.add_ref(ref, commit)
        default = MS_DEFAULT_BRANCH if ms else "main"
        if repo.resolve(default) is None:
            raise ValueError(f"no commit carries the {default!r} ref")
        return repo

    @staticmethod
    def _load_ms_keys(repo, spec):
        # Numeric hub id (datasets are listed by it, §1.7): stable, derived from the id.
        derived = int(hashlib.sha1(f"{repo.type}/{repo.id}".encode()).hexdigest()[:6], 16)
        repo.ms_id = int(spec.get("ms_id", 100000 + derived))
        repo.committer = str(spec.get("committer", repo.committer))
        repo.dataset_type = int(spec.get("dataset_type", repo.dataset_type))
        if "info_error" in spec:
            err = spec["info_error"]
            repo.info_error = (int(err["code"]), str(err["message"]))

    @staticmethod
    def _derive_sha(repo, index, files):
        # From cheap descriptors (no sha256 of big LFS files at startup), content-sensitive.
        desc = [
            [p, f"lfs:{f.size}:{f.content.seed}" if f.lfs else f.oid] for p, f in files.items()
        ]
        blob = json.dumps([repo.type, repo.id, index, desc]).encode()
        return hashlib.sha1(blob).hexdigest()

    def _lfs_content(self, size, seed):
        key = (size, seed)
        if key not in self._generated:
            self._generated[key] = GeneratedContent(size, seed)
        return self._generated[key]

    def _load_files(self, fspec):
        if "generate" in fspec:
            g = fspec["generate"]
            sizes = random.Random(g["seed"])
            for i in range(g["count"]):
                path = f"{g['prefix']}{i:04d}{g.get('suffix', '')}"
                size = sizes.randint(g["min_size"], g["max_size"])
                seed = f"{g['seed']}/{i}"
                if g.get("lfs", False):
                    yield RepoFile(path, self._lfs_content(size, seed), True, self._lfs_objects)
                else:
                    data = random.Random(seed).randbytes(size)
                    yield RepoFile(path, BytesContent(data), False, self._lfs_objects)
            return
        path = fspec["path"]
        if "lfs" in fspec and "file" in fspec["lfs"]:
            # real bytes stored with LFS (weights headers): read from a file beside the fixtures
            with open(os.path.join(self.directory, fspec["lfs"]["file"]), "rb") as fh:
                content = BytesContent(fh.read())
            content.seed = "file:" + content.sha256()
            f = RepoFile(path, content, True, self._lfs_objects)
        elif "lfs" in fspec:
            content = self._lfs_content(int(fspec["lfs"]["size"]), fspec["lfs"]["seed"])
            f = RepoFile(path, content, True, self._lfs_objects)
            f.xet = bool(fspec["lfs"].get("xet", False))
        elif "text" in fspec:
            f = RepoFile(path, BytesContent(fspec["text"].encode()), False, self._lfs_objects)
        elif "base64" in fspec:
            data = base64.b64decode(fspec["base64"], validate=True)
            f = RepoFile(path, BytesContent(data), False, self._lfs_objects)
        else:
            raise ValueError(f"file {path!r} needs one of text, base64, lfs")
        if "listed_size" in fspec:
            f.listed_size = int(fspec["listed_size"])
        if "listed_sha256" in fspec:
            f.listed_sha256 = bool(fspec["listed_sha256"])
        yield f

    def repo(self, repo_id, repo_type="model"):
        return self.repos.get((repo_type, repo_id))

    def find(self, repo_id, repo_type="model"):
        """The repo `repo_id` names exactly, as a former id, or in another case (the Hub
        answers those two with a 307 to the canonical id, reference §1.5, §2.2)."""
        exact = self.repo(repo_id, repo_type)
        if exact is not None:
            return exact
        folded = repo_id.casefold()
        for repo in self.repos.values():
            if repo.type == repo_type and (repo_id in repo.renamed_from
                                           or repo.id.casefold() == folded):
                return repo
        return None

    def repo_by_ms_id(self, ms_id, repo_type):
        return next((r for r in self.repos.values()
                     if r.type == repo_type and str(r.ms_id) == ms_id), None)

    def lfs_object(self, sha256):
        """LFS file whose content has this sha256, once the hub has computed it."""
        return self._lfs_objects.get(sha256)

    def lfs_files(self):
        """One RepoFile per distinct LFS content."""
        seen = {}
        for repo in self.repos.values():
            for commit in repo.commits:
                for f in commit.files.values():
                    if f.lfs:
                        seen.setdefault(id(f.content), f)
        return list(seen.values())


def load_fixtures(directory, flavour="hf"):
    return Fixtures(directory, flavour)


# --------------------------------------------------------------------------- HTTP model


class Request:
    def __init__(self, handler, ignore_range, expire_links, body=b""):
        split = urlsplit(handler.path)
        self.body = body
        self.method = handler.command
        self.target = handler.path
        self.path = split.path
        self.query_pairs = parse_qsl(split.query, keep_blank_values=True)
        self.query = dict(self.query_pairs)
        self.headers = handler.headers
        self.host = handler.headers.get("Host")
        self.range = None if ignore_range else handler.headers.get("Range")
        self.expire_links = expire_links

    def accepts_gzip(self):
        for item in (self.headers.get("Accept-Encoding") or "").split(","):
            coding, _, params = item.strip().partition(";")
            if coding.strip().lower() == "gzip":
                q = params.strip()
                return not re.fullmatch(r"q\s*=\s*0(\.0*)?", q)
        return False


class Response:
    """Status, headers and a body given as bytes or as a byte range of a RepoFile.

    Content-Length / Transfer-Encoding are added when sending (faults may change them).
    `offset` is the file offset of the first body byte (for corrupt_at).
    """

    def __init__(self, status, headers, body=b"", file=None, start=0, end=0, chunked=False):
        self.status = status
        self.headers = headers
        self.chunked = chunked
        if file is not None:
            self.length = end - start
            self.offset = start
            self.pieces = lambda: file.chunks(start, end)
        else:
            self.length = len(body)
            self.offset = 0
            self.pieces = lambda: [body[i:i + 65536] for i in range(0, len(body), 65536)]


def json_response(status, obj, headers=None):
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return Response(status, h, json.dumps(obj).encode())


def hub_error(status, message, code=None, headers=None):
    """Hub error (§8.1): X-Error-Code / X-Error-Message headers and a JSON body."""
    h = {"X-Error-Message": message}
    if code:
        h["X-Error-Code"] = code
    h.update(headers or {})
    return json_response(status, {"error": message}, h)


def ms_request_id():
    return str(uuid.uuid4())


def ms_json(status, body):
    """A ModelScope JSON answer, raw UTF-8 (server messages are often Chinese, §5); the
    X-Request-Id header repeats the body's RequestId (the new SDK reads either)."""
    headers = {"Content-Type": "application/json; charset=utf-8", "X-Request-Id": body["RequestId"]}
    return Response(status, headers, json.dumps(body, ensure_ascii=False).encode())


def ms_ok(data):
    """The /api/v1 success envelope (§1.5)."""
    return ms_json(200, {"Code": 200, "Data": data, "Message": "success",
                         "RequestId": ms_request_id(), "Success": True})


def ms_error(status, code, message):
    """A ModelScope error body, as the live server's 404s (Appendix): no Data."""
    return ms_json(status, {"Code": code, "Message": message, "RequestId": ms_request_id(),
                            "Success": False})


def ms_error_in_200(code, message):
    """HTTP 200 whose envelope carries an error (§1.5: clients must check Code and Success)."""
    return ms_json(200, {"Code": code, "Data": None, "Message": message,
                         "RequestId": ms_request_id(), "Success": False})


def ms_session_cookie(headers):
    """Value of the m_session_id cookie (§1.3), or None. Every Cookie header is read."""
    for line in headers.get_all("Cookie") or []:
        for item in line.split(";"):
            name, sep, value = item.strip().partition("=")
            if sep and name.strip() == "m_session_id":
                return value.strip().strip('"')
    return None


def s3_error(status, code, message):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(status, {"Content-Type": "application/xml"}, body.encode())


def parse_range(header, total):
    """(first, last) inclusive, RANGE_UNSATISFIABLE, or None when the header is to be
    ignored (malformed or multi-range: RFC 9110 lets a server serve the whole body)."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not m or not (m[1] or m[2]):
        return None
    if m[1]:
        first = int(m[1])
        last = int(m[2]) if m[2] else total - 1
        if m[2] and last < first:
            return None
        if first >= total:
            return RANGE_UNSATISFIABLE
        return first, min(last, total - 1)
    suffix = int(m[2])
    if suffix == 0 or total == 0:
        return RANGE_UNSATISFIABLE
    return max(0, total - suffix), total - 1


def content_disposition(path):
    name = path.rsplit("/", 1)[-1]
    ascii_name = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    # Trailing ";" as on the real CDN: huggingface_hub's filename regex requires it.
    return f"inline; filename*=UTF-8''{quote(name, safe='')}; filename=\"{ascii_name}\";"


def serve_file(req, f, headers, flavour):
    """200/206/416 for GET/HEAD of a file's content; gzip for git files from the HF hub.
    `flavour` ("hub", "s3" or "ms") picks the error format and whether gzip is offered."""
    headers["Accept-Ranges"] = "bytes"
    total = f.size
    rng = parse_range(req.range, total) if req.range is not None else None
    if rng == RANGE_UNSATISFIABLE:
        if flavour == "s3":
            resp = s3_error(416, "InvalidRange", "The requested range is not satisfiable")
        elif flavour == "ms":
            resp = ms_error(416, 416, "Requested Range Not Satisfiable")
        else:
            resp = hub_error(416, "Requested Range Not Satisfiable")
        resp.headers.update({"Content-Range": f"bytes */{total}", "Accept-Ranges": "bytes"})
        return resp
    if rng is not None:
        first, last = rng
        headers["Content-Range"] = f"bytes {first}-{last}/{total}"
        return Response(206, headers, file=f, start=first, end=last + 1)
    # ModelScope: the reference says nothing about compression, so none is offered.
    if (flavour == "hub" and not f.lfs and total > 0 and req.range is None
            and req.accepts_gzip()):
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
        return Response(200, headers, gzip.compress(f.read(), mtime=0), chunked=True)
    return Response(200, headers, file=f, start=0, end=total)


# --------------------------------------------------------------------------- hub / cdn


class App:
    scheme = "http"  # "https" with --tls-cert
    """Shared state of both servers: fixtures, options, fault rules, log."""

    def __init__(self, fixtures, page_size=1000, cdn_base=None, link_ttl=3600, log_path=None,
                 ms_fixtures=None):
        self.fixtures = fixtures
        self.ms = ModelScope(self, ms_fixtures) if ms_fixtures is not None else None
        self.page_size = page_size
        self.cdn_base = cdn_base.rstrip("/") if cdn_base else None
        self.link_ttl = link_ttl
        self.secret = secrets.token_bytes(32)
        self.hub_port = self.cdn_port = None
        self.lock = threading.Lock()
        self.rules = []
        self.in_flight = 0
        self.log_fh = open(log_path, "a", encoding="utf-8") if log_path else None

    # ---- faults, log, control

    def pick_fault(self, server, method, target):
        """The rule applied to this request (first in list order whose window contains it)."""
        with self.lock:
            for rule in self.rules:
                if not rule.matches(server, method, target):
                    continue
                rule.matched += 1
                if rule.skip < rule.matched <= rule.skip + rule.times:
                    rule.applied += 1
                    return rule
            return None

    def begin(self):
        with self.lock:
            self.in_flight += 1

    def end(self, record):
        with self.lock:
            if self.log_fh:
                self.log_fh.write(json.dumps(record) + "\n")
                self.log_fh.flush()
            self.in_flight -= 1

    def state(self):
        return {
            "hub_port": self.hub_port,
            "cdn_port": self.cdn_port,
            "in_flight": self.in_flight,
            "faults": [r.describe() for r in self.rules],
        }

    def control(self, method, body):
        if method == "GET":
            with self.lock:
                return json_response(200, self.state())
        if method != "POST":
            return json_response(405, {"error": "use GET or POST"})
        try:
            data = json.loads(body or b"{}")
            rules = [FaultRule(r) for r in data.get("faults", [])]
        except (ValueError, TypeError, KeyError, AttributeError, re.error) as e:
            return json_response(400, {"error": f"bad control request: {e}"})
        with self.lock:
            if data.get("reset"):
                self.rules = []
            if "faults" in data:
                self.rules = rules
            if data.get("clear_log") and self.log_fh:
                self.log_fh.seek(0)
                self.log_fh.truncate()
            return json_response(200, self.state())

    # ---- hub

    def hub(self, req):
        # ModelScope's /api/v1/ cannot collide with a Hub route (no repo type "v1"); it has
        # its own tokens, so it is dispatched before the Hub's Authorization check.
        if req.path.startswith("/api/v1/"):
            return self.ms.handle(req) if self.ms else hub_error(404, "Not Found")
        paths_info = req.method == "POST" and "/paths-info/" in req.path
        if req.method not in ("GET", "HEAD") and not paths_info:
            return hub_error(405, "Method not allowed")
        auth = req.headers.get("Authorization")
        req.token = None
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or token.strip() not in self.fixtures.tokens:
                return hub_error(401, "Invalid credentials in Authorization header")
            req.token = token.strip()
        if req.path.startswith("/api/resolve-cache/"):
            return self.resolve_cache(req)
        if req.path == "/api/whoami-v2":
            return self.whoami(req)
        if req.path.startswith("/api/"):
            return self.api(req)
        return self.resolve(req)

    def whoami(self, req):
        """GET /api/whoami-v2 (HfApi.whoami): the token's user, its orgs and the token's own
        name and role. No token: 401, as the Hub answers (an unknown token got its 401 in
        hub()). The user comes from the token's "user" entry in tokens.json; by default the
        token's name without "hf_" and no org."""
        if req.method != "GET":
            return hub_error(405, "Method not allowed")
        if req.token is None:
            return hub_error(401, "Invalid username or password.")
        user = self.fixtures.users.get(req.token, {})
        name = user.get("name", req.token[3:] if req.token.startswith("hf_") else req.token)
        orgs = [{"type": "org", "id": hashlib.sha1(org.encode()).hexdigest()[:24], "name": org,
                 "fullname": org, "email": None, "canPay": False, "periodEnd": None,
                 "avatarUrl": "/avatars/org.svg", "roleInOrg": "read", "isEnterprise": False}
                for org in user.get("orgs", [])]
        return json_response(200, {
            "type": user.get("type", "user"),
            "id": hashlib.sha1(name.encode()).hexdigest()[:24],
            "name": name,
            "fullname": user.get("fullname", name.capitalize()),
            "email": f"{name}@example.com",
            "emailVerified": True,
            "canPay": False,
            "periodEnd": None,
            "isPro": False,
            "avatarUrl": "/avatars/user.svg",
            "orgs": orgs,
            "auth": {"type": "access_token",
                     "accessToken": {"displayName": user.get("token_name", "hubfetch-test"),
                                     "role": user.get("role", "read"),
                                     "createdAt": "2024-01-01T00:00:00.000Z"}},
        })

    def _split_repo(self, repo_type, segs, ops):
        """How many leading path segments (1 or 2) form the repo id: the split after which
        comes one of `ops` (None = end of path), preferring one naming an existing repo."""
        def op_at(n):
            return len(segs) >= n and (segs[n] if len(segs) > n else None) in ops

        for n in (2, 1):
            if op_at(n) and self.fixtures.find(unquote("/".join(segs[:n])), repo_type):
                return n
        for n in (1, 2):
            if op_at(n):
                return n
        return None

    def _moved(self, req, repo_type, repo_id, rest, api):
        """A 307 to the canonical id when `repo_id` is a former or mis-cased id of a repo
        the caller may see; else None. The Location is relative and keeps the query."""
        repo = self.fixtures.find(repo_id, repo_type)
        if repo is None or repo.id == repo_id:
            return None
        visible = not repo.private or (
            req.token is not None and (repo_type, repo.id) in self.fixtures.tokens[req.token])
        if not visible:
            return None
        head = f"/api/{repo_type}s/" if api else f"/{URL_PREFIX[repo_type]}"
        location = head + quote(repo.id) + "".join("/" + seg for seg in rest)
        query = urlsplit(req.target).query
        if query:
            location += "?" + query
        return Response(307, {"Location": location, "Content-Type": "text/plain; charset=utf-8"},
                        f"Temporary Redirect. Redirecting to {location}".encode())

    def _access(self, req, repo_type, repo_id, download):
        """(repo, None) or (None, error response), per §8.1; gating only blocks downloads
        (the Hub lists gated repos' files to anyone)."""
        repo = self.fixtures.repo(repo_id, repo_type)
        allowed = req.token is not None and (repo_type, repo_id) in self.fixtures.tokens[req.token]
        if repo is None or (repo.private and not allowed):
            if req.token is None:
                return None, hub_error(401, "Invalid username or password.", "RepoNotFound")
            return None, hub_error(404, "Repository not found", "RepoNotFound")
        if download and repo.gated and not allowed:
            message = (f"Access to {repo_type} {repo_id} is restricted. You must have access to it"
                       " and be authenticated to access it. Please log in.")
            return None, hub_error(401 if req.token is None else 403, message, "GatedRepo")
        return repo, None

    @staticmethod
    def _take_rev(repo, parts):
        """(commit, rev, remaining parts) from path segments starting at the revision.
        Accepts the revision percent-encoded in one segment (refs%2Fpr%2F1) or, like the Hub,
        a raw refs/pr/N or refs/convert/X spanning three segments."""
        rev = unquote(parts[0]) if parts else ""
        commit = repo.resolve(rev)
        if commit is None and rev == "refs" and len(parts) >= 3:
            long_rev = "/".join(unquote(p) for p in parts[:3])
            long_commit = repo.resolve(long_rev)
            if long_commit is not None:
                return long_commit, long_rev, parts[3:]
        return commit, rev, parts[1:]

    @staticmethod
    def _resolve_headers(commit):
        return {
            "X-Repo-Commit": commit.sha,
            "RateLimit": '"resolvers";r=2999;t=300',
            "RateLimit-Policy": '"fixed window";"resolvers";q=3000;w=300',
        }

    def resolve(self, req):
        segs = req.path.split("/")[1:]
        repo_type = "model"
        if segs and segs[0] in ("datasets", "spaces"):
            repo_type, segs = segs[0][:-1], segs[1:]
        n = self._split_repo(repo_type, segs, {"resolve"})
        if n is None:
            return hub_error(404, "Not Found")
        repo_id = unquote("/".join(segs[:n]))
        moved = self._moved(req, repo_type, repo_id, segs[n:], api=False)
        if moved:
            return moved
        repo, err = self._access(req, repo_type, repo_id, download=True)
        if err:
            return err
        commit, rev, rest = self._take_rev(repo, segs[n + 1:])
        if commit is None:
            return hub_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        path = unquote("/".join(rest))
        f = commit.files.get(path)
        if f is None:
            return hub_error(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        headers = self._resolve_headers(commit)
        if f.lfs:
            url = self.cdn_url(f, req.expire_links)
            body = f"Found. Redirecting to {url}".encode()
            headers.update({
                "Location": url,
                "X-Linked-Etag": f'"{f.sha256}"',
                "X-Linked-Size": str(f.size),
                # the redirect's own (Express-style) ETag, which is *not* the
                # file's: a client must read X-Linked-Etag (reference §2.3)
                "ETag": f'W/"{len(body):x}-{hashlib.sha1(body).hexdigest()[:27]}"',
                "Content-Type": "text/plain; charset=utf-8",
            })
            if f.xet:
                host = req.host or f"127.0.0.1:{self.hub_port}"
                token_url = (f"{self.scheme}://{host}/api/{repo_type}s/{repo.id}"
                             f"/xet-read-token/{commit.sha}")
                headers.update({
                    "X-Xet-Hash": f.xet_hash,
                    "Link": (f'<{token_url}>; rel="xet-auth", '
                             f'<{self.xet_cas_url()}/v1/reconstructions/{f.xet_hash}>; '
                             'rel="xet-reconstruction-info"'),
                })
            return Response(302, headers, body)
        if repo.private or repo.gated or "/" not in repo.id or f.size == 0:
            return self._serve_direct(req, f, headers)
        # "." and ".." segments are percent-encoded so that RFC 3986 resolution of the
        # relative Location cannot rewrite hostile paths (evil-model) into other paths.
        quoted = "/".join(quote(s) if s not in (".", "..") else s.replace(".", "%2E")
                          for s in path.split("/"))
        key = quote(f"/{URL_PREFIX[repo_type]}{repo.id}/resolve/{rev}/{path}", safe="")
        location = (f"/api/resolve-cache/{repo_type}s/{repo.id}/{commit.sha}/{quoted}"
                    f"?{key}=&etag=%22{f.oid}%22")
        # no ETag here: it comes with the 200 the redirect leads to (§2.2)
        headers.update({
            "Location": location,
            "Content-Type": "text/plain; charset=utf-8",
        })
        return Response(307, headers, f"Temporary Redirect. Redirecting to {location}".encode())

    def _serve_direct(self, req, f, headers):
        headers.update({
            "ETag": f'"{f.etag}"',
            "Content-Type": mimetypes.guess_type(f.path)[0] or "application/octet-stream",
            "Content-Disposition": content_disposition(f.path),
        })
        return serve_file(req, f, headers, "hub")

    def resolve_cache(self, req):
        """/api/resolve-cache/{type}s/{repo}/{commit}/{path}: the target of 307s. The query is
        ignored (huggingface_hub drops it, §2.2); any file, LFS included, is served as is."""
        segs = req.path.split("/")[3:]
        if not segs or segs[0] not in ("models", "datasets", "spaces"):
            return hub_error(404, "Not Found")
        repo_type, segs = segs[0][:-1], segs[1:]
        n = next((k for k in (2, 1) if len(segs) > k
                  and self.fixtures.repo(unquote("/".join(segs[:k])), repo_type)), 2)
        repo, err = self._access(req, repo_type, unquote("/".join(segs[:n])), download=True)
        if err:
            return err
        commit, rev, rest = self._take_rev(repo, segs[n:])
        if commit is None:
            return hub_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        f = commit.files.get(unquote("/".join(rest)))
        if f is None:
            return hub_error(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        return self._serve_direct(req, f, {"X-Repo-Commit": commit.sha})

    def cdn_url(self, f, expired):
        sha = f.sha256
        if self.cdn_base:
            return f"{self.cdn_base}/{sha}"
        expires = int(time.time()) + (-1 if expired else self.link_ttl)
        return (f"{self.scheme}://127.0.0.1:{self.cdn_port}/repos/{sha[:2]}/{sha[2:4]}/{sha}"
                f"?expires={expires}&sig={self._sign(sha, expires)}")

    def _sign(self, sha, expires):
        return hmac.new(self.secret, f"{sha}:{expires}".encode(), hashlib.sha256).hexdigest()

    def api(self, req):
        segs = req.path.split("/")[2:]
        if not segs or segs[0] not in ("models", "datasets", "spaces"):
            return hub_error(404, "Not Found")
        repo_type, segs = segs[0][:-1], segs[1:]
        n = self._split_repo(repo_type, segs,
                             {None, "revision", "tree", "refs", "xet-read-token", "paths-info"})
        if n is None:
            return hub_error(404, "Not Found")
        op = segs[n] if len(segs) > n else None
        moved = self._moved(req, repo_type, unquote("/".join(segs[:n])), segs[n:], api=True)
        if moved:
            return moved
        repo, err = self._access(req, repo_type, unquote("/".join(segs[:n])),
                                 download=op == "xet-read-token")
        if err:
            return err
        rest = segs[n + 1:]
        if op == "refs":
            return self.refs(req, repo) if not rest else hub_error(404, "Not Found")
        if op == "xet-read-token":
            return self.xet_read_token(repo, rest)
        if op is None:
            commit, rev = repo.resolve("main"), "main"
        elif op == "revision":
            rev = unquote("/".join(rest))
            commit = repo.resolve(rev)
        else:
            commit, rev, rest = self._take_rev(repo, rest)
        if commit is None:
            return hub_error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        if op == "tree":
            return self.tree(req, commit, unquote("/".join(rest)))
        if op == "paths-info":
            return self.paths_info(req, commit, rest)
        return self.info(req, repo, commit)

    def xet_cas_url(self):
        # Only named, never served: hubfetch downloads Xet files over plain HTTP (§9).
        return f"{self.scheme}://127.0.0.1:{self.cdn_port}/xet-cas"

    def xet_read_token(self, repo, rest):
        """§1.5: the CAS token of native Xet clients, in headers (and the body)."""
        commit = repo.resolve(unquote("/".join(rest))) if rest else None
        if commit is None:
            return hub_error(404, "Invalid rev id", "RevisionNotFound")
        expiration = int(time.time()) + self.link_ttl
        token = self._sign(commit.sha, expiration)
        return json_response(200, {"casUrl": self.xet_cas_url(), "exp": expiration,
                                   "accessToken": token},
                             {"X-Xet-Cas-Url": self.xet_cas_url(),
                              "X-Xet-Access-Token": token,
                              "X-Xet-Token-Expiration": str(expiration)})

    def info(self, req, repo, commit):
        blobs = req.query.get("blobs", "").lower() in ("true", "1")
        siblings = []
        for f in commit.files.values():
            sibling = {"rfilename": f.path}
            if blobs:
                sibling.update(size=f.size, blobId=f.oid)
                if f.lfs:
                    sibling["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": len(f.pointer)}
            siblings.append(sibling)
        body = {
            "_id": hashlib.sha1(f"{repo.type}/{repo.id}".encode()).hexdigest()[:24],
            "id": repo.id,
            "author": repo.id.split("/")[0] if "/" in repo.id else None,
            "sha": commit.sha,
            "lastModified": iso_date(commit.date),
            "createdAt": iso_date(repo.commits[0].date),
            "private": repo.private,
            "gated": repo.gated,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
        }
        if repo.type == "model":
            body["modelId"] = repo.id
        return json_response(200, body)

    @staticmethod
    def _flag(value):
        return str(value).lower() in ("true", "1")

    def paths_info(self, req, commit, rest):
        """POST /api/{t}s/{id}/paths-info/{rev} (B1): a form (paths=a&paths=b&expand=..., as
        huggingface_hub sends) or a JSON body ({"paths": [...], "expand": bool}, as the JS
        client sends); one entry per existing path, missing ones absent (`200 []`)."""
        if req.method != "POST":
            return hub_error(405, "Method not allowed")
        if rest:  # a path after the revision: not a route of the Hub
            return hub_error(404, "Not Found")
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype == "application/json":
                data = json.loads(req.body or b"{}")
                paths, expand = data.get("paths", []), self._flag(data.get("expand", False))
                if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                    raise ValueError("paths must be a list of strings")
            else:
                pairs = parse_qsl(req.body.decode(), keep_blank_values=True)
                paths = [v for k, v in pairs if k == "paths"]
                expand = self._flag(dict(pairs).get("expand", "false"))
        except (ValueError, UnicodeDecodeError) as e:
            return hub_error(400, f"Invalid body: {e}")
        if len(paths) > 1000:
            return hub_error(400, "Too many paths (at most 1000)")
        out = []
        for path in dict.fromkeys(paths):
            entry = commit.entry(path, expand)
            if entry is not None:
                out.append(entry)
        return json_response(200, out, {"X-Repo-Commit": commit.sha})

    def tree(self, req, commit, path):
        if path and path not in commit.dirs:
            return hub_error(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        recursive = self._flag(req.query.get("recursive", ""))
        expand = self._flag(req.query.get("expand", ""))
        entries = commit.listing(path, recursive, expand)
        offset = 0
        if "cursor" in req.query:
            try:
                offset = json.loads(base64.urlsafe_b64decode(req.query["cursor"]))["offset"]
            except (ValueError, KeyError, TypeError):
                offset = None
            if not isinstance(offset, int) or offset < 0:
                return hub_error(400, "Invalid cursor")
        headers = {}
        # the Hub sends 50 entries a page with expand=true (§1.4)
        end = offset + (min(self.page_size, 50) if expand else self.page_size)
        if end < len(entries):
            cursor = base64.urlsafe_b64encode(json.dumps({"offset": end}).encode()).decode()
            query = [(k, v) for k, v in req.query_pairs if k != "cursor"] + [("cursor", cursor)]
            host = req.host or f"127.0.0.1:{self.hub_port}"
            headers["Link"] = f'<{self.scheme}://{host}{req.path}?{urlencode(query)}>; rel="next"'
        return json_response(200, entries[offset:end], headers)

    def refs(self, req, repo):
        out = {"branches": [], "converts": [], "tags": []}
        with_prs = req.query.get("include_prs", "").lower() in ("1", "true")
        if with_prs:
            out["pullRequests"] = []
        groups = {"branch": ("branches", "refs/heads/"), "tag": ("tags", "refs/tags/"),
                  "convert": ("converts", "refs/convert/"), "pr": ("pullRequests", "")}
        for kind, name, commit in repo.refs:
            key, prefix = groups[kind]
            if key in out:
                out[key].append({"name": name, "ref": prefix + name, "targetCommit": commit.sha})
        return json_response(200, out)

    # ---- cdn

    def cdn(self, req):
        if req.method not in ("GET", "HEAD"):
            return s3_error(405, "MethodNotAllowed", "The specified method is not allowed.")
        if "Authorization" in req.headers or ms_session_cookie(req.headers) is not None:
            # S3-style endpoints reject a second auth mechanism: this is what catches a client
            # forwarding its Hub token (§2.4) or its ModelScope cookie (MS §8 item 2) to the CDN.
            return s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
        m = re.fullmatch(r"/repos/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})", req.path)
        sha = m[3] if m and m[3].startswith(m[1] + m[2]) else None
        f = self.fixtures.lfs_object(sha) if sha else None
        if f is None and sha and self.ms:
            f = self.ms.fixtures.lfs_object(sha)
        if f is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        expires, sig = req.query.get("expires", ""), req.query.get("sig", "")
        good = expires.isdigit() and hmac.compare_digest(sig.encode(), self._sign(sha, int(expires)).encode())
        if not good:
            return s3_error(403, "AccessDenied", "Access Denied")
        if int(expires) < time.time():
            return s3_error(403, "AccessDenied", "Request has expired")
        headers = {
            "Content-Type": "application/octet-stream",
            # Multipart-style S3 ETag, deliberately not the sha256: the blob name must come
            # from the hub's X-Linked-Etag, never from the CDN.
            "ETag": f'"{hashlib.md5(sha.encode()).hexdigest()}-1"',
            "Content-Disposition": content_disposition(f.path),
            "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            "X-Cache": "Miss from cloudfront",
        }
        return serve_file(req, f, headers, "s3")


# --------------------------------------------------------------------------- modelscope


class ModelScope:
    """ModelScope's legacy /api/v1 API (modelscope-protocol.md §1.5-§1.9, §5, Appendix) on the
    hub port, over fixtures of flavour "ms". LFS downloads redirect to the shared CDN."""

    MODE_BLOB = "33188"  # 0o100644, as the live listing spells it (§1.6)
    MODE_TREE = "16384"  # 0o040000
    NOT_FOUND = 10990101007  # body Code of the live server's download 404s (Appendix)
    MISSING = {"model": "模型不存在", "dataset": "数据集不存在"}  # "model/dataset does not exist" (§5)
    ROUTES = {"model": ("", "revisions", "repo/files", "repo"),
              "dataset": ("", "repo/tree", "repo")}

    def __init__(self, app, fixtures):
        self.app = app
        self.fixtures = fixtures

    def token(self, req):
        """The token of the m_session_id cookie or of `Authorization: Bearer`, if it is a
        listed one. Anything else is anonymous (Appendix: no distinct error)."""
        auth = req.headers.get("Authorization") or ""
        scheme, _, bearer = auth.partition(" ")
        for candidate in (ms_session_cookie(req.headers),
                          bearer.strip() if scheme.lower() == "bearer" else None):
            if candidate in self.fixtures.tokens:
                return candidate
        return None

    def handle(self, req):
        resp = self._handle(req)
        resp.headers.setdefault("X-Request-Id", ms_request_id())  # uuid-style on every answer
        return resp

    def _handle(self, req):
        if req.method not in ("GET", "HEAD"):
            return ms_error(405, 405, "Method not allowed")
        segs = [unquote(x) for x in req.path.split("/")[3:]]
        if not segs or segs[0] not in ("models", "datasets"):
            return ms_error(404, 404, "Not Found")
        repo_type, rest = segs[0][:-1], segs[1:]
        if repo_type == "dataset" and len(rest) == 3 and rest[1:] == ["repo", "tree"]:
            # Classic lists datasets by their numeric hub id (§1.7).
            repo, label, op = self.fixtures.repo_by_ms_id(rest[0], "dataset"), rest[0], "repo/tree"
        elif len(rest) >= 2 and "/".join(rest[2:]) in self.ROUTES[repo_type]:
            label, op = f"{rest[0]}/{rest[1]}", "/".join(rest[2:])
            repo = self.fixtures.repo(label, repo_type)
        else:
            return ms_error(404, 404, "Not Found")
        token = self.token(req)
        if repo is not None and repo.private and (
                token is None or (repo_type, repo.id) not in self.fixtures.tokens[token]):
            if op == "repo":  # Appendix: a private repo's file answers 403, its metadata 404
                message = "用户未登录" if token is None else "Permission denied"  # "user not logged in"
                return ms_error(403, 403, message)
            repo = None
        if repo is None:
            return ms_error(404, self.NOT_FOUND, f"{self.MISSING[repo_type]}: {label}")
        rev = req.query.get("Revision") or MS_DEFAULT_BRANCH
        if op == "":
            return self.info(repo, rev)
        if op == "revisions":
            return self.revisions(repo)
        if op == "repo":
            return self.download(req, repo, rev, req.query.get("FilePath", ""))
        commit = repo.resolve_ms(rev)
        if commit is None:  # Appendix: an unknown revision lists as HTTP 200, Files null
            return ms_ok({"Files": None})
        recursive = req.query.get("Recursive", "").lower() == "true"
        root = req.query.get("Root", "").strip("/")
        entries = self.entries(repo, commit, root, recursive)
        if op == "repo/files":
            return ms_ok({"Files": entries, "LatestCommitter": self.committer(repo, commit)})
        return self.page(req, entries)

    # ---- metadata

    def info(self, repo, rev):
        if repo.info_error:
            return ms_error_in_200(*repo.info_error)
        owner, name = repo.id.split("/", 1)
        head = repo.resolve_ms(MS_DEFAULT_BRANCH)
        data = {
            "Id": repo.ms_id,
            "Name": name,
            "ChineseName": name,
            "Visibility": 1 if repo.private else 5,  # 1 private, 3 internal, 5 public
            "Description": f"{repo.id}: a fixture repo for hubfetch tests",
            "License": "Apache License 2.0",
            "Downloads": 0,
            "Likes": 0,
            "CreatedTime": repo.commits[0].date,
            "LastUpdatedTime": head.date,
            "Tags": [],
            "Organization": {"Name": owner},
            "CreatedBy": repo.committer,
            "IsAccessible": 1,
            # Echoed, not checked: a client validates revisions through /revisions (§1.8).
            "Revision": rev,
        }
        if repo.type == "model":
            data.update({"IsPublished": 1, "IsOnline": 1, "Stars": 0, "Architectures": [],
                         "ModelType": [], "Tasks": [], "ReadMeContent": "", "IsCertification": 0,
                         "ApprovalMode": 1, "CardReady": 1, "BackendSupport": "", "ModelInfos": {},
                         "RelatedArxivId": [], "RelatedPaper": []})
        else:
            data.update({"Namespace": owner, "Type": repo.dataset_type})
        return ms_ok(data)

    def revisions(self, repo):
        """Branches in fixture order, tags newest first (§1.6). EndTime is ignored."""
        def item(name, commit):
            return {"Revision": name, "CreatedAt": commit.date, "CommitId": commit.sha,
                    "Message": commit.message}
        branches = [item(n, c) for n, c in repo.ms_refs("branch")]
        tags = [item(n, c) for n, c in reversed(repo.ms_refs("tag"))]
        tags.sort(key=lambda t: -t["CreatedAt"])  # stable: equal dates keep newest-defined first
        return ms_ok({"RevisionMap": {"Branches": branches, "Tags": tags}})

    def committer(self, repo, commit):
        return {"Id": commit.sha, "ShortId": commit.sha[:8], "Title": commit.message,
                "Message": commit.message, "AuthorName": repo.committer,
                "AuthoredDate": commit.date, "CommitterName": repo.committer,
                "CommittedDate": commit.date}

    def entries(self, repo, commit, root, recursive):
        """Data.Files entries (§1.6) under `root`, sorted by path; directories are `tree`
        entries. `Revision` is the last commit that changed the file (or directory)."""
        if root and root not in commit.dirs:
            return []
        out = []
        for e in commit.listing(root, recursive):
            path = e["path"]
            touch = commit.last_touch(path)
            entry = {"Name": path.rsplit("/", 1)[-1], "Path": path}
            if e["type"] == "directory":
                entry.update(Type="tree", Size=0, IsLFS=False, Mode=self.MODE_TREE)
            else:
                f = commit.files[path]
                size = f.size if f.listed_size is None else f.listed_size
                entry.update(Type="blob", Size=size, Sha256=f.sha256, IsLFS=f.lfs,
                             Mode=self.MODE_BLOB)
                if not f.listed_sha256:
                    del entry["Sha256"]
            entry.update(Revision=touch.sha, CommitMessage=touch.message,
                         CommittedDate=touch.date, CommitterName=repo.committer, InCheck=False)
            out.append(entry)
        return out

    def page(self, req, entries):
        """Dataset tree pages: PageNumber from 1, PageSize default 100; a client stops at the
        first page shorter than PageSize (§1.7)."""
        try:
            number = int(req.query.get("PageNumber") or 1)
            size = int(req.query.get("PageSize") or 100)
        except ValueError:
            number = size = 0
        if number < 1 or size < 1:
            return ms_error(400, 400, "PageNumber and PageSize must be positive integers")
        start = (number - 1) * size
        return ms_ok({"Files": entries[start:start + size], "TotalCount": len(entries),
                      "PageNumber": number, "PageSize": size})

    # ---- files

    def download(self, req, repo, rev, path):
        """Git files inline (200/206/416), LFS files 302 to the CDN (Appendix, §1.9)."""
        commit = repo.resolve_ms(rev)
        if commit is None:
            return ms_error(404, self.NOT_FOUND, f"Revision {rev} does not exist in {repo.id}")
        f = commit.files.get(path)
        if f is None:
            return ms_error(404, self.NOT_FOUND,
                            f"The file path: {path} does not exist in {repo.id} at {rev}")
        if f.lfs:
            url = self.app.cdn_url(f, req.expire_links)
            return Response(302, {"Location": url, "Content-Type": "text/plain; charset=utf-8"},
                            f"Found. Redirecting to {url}".encode())
        headers = {
            "Content-Type": mimetypes.guess_type(f.path)[0] or "application/octet-stream",
            "Content-Disposition": content_disposition(f.path),
        }
        return serve_file(req, f, headers, "ms")


class FaultRule:
    """One rule of POST /_control {"faults": [...]}; see README.md."""

    # Action keys, in the order used to name the fault in the log ("drop_after+rate").
    ACTIONS = ("status", "redirect", "ms_code", "drop_after", "stall_after", "corrupt",
               "corrupt_at", "ignore_range", "no_content_range", "no_content_length", "rate",
               "expire_links", "endless")
    # Value checks for action keys and their parameters.
    TYPES = {
        "status": lambda v: isinstance(v, int) and 100 <= v <= 599,
        "headers": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "body": lambda v: isinstance(v, str),
        "redirect": lambda v: isinstance(v, str) and v.startswith(("http://", "https://")),
        "code": lambda v: isinstance(v, int) and 300 <= v <= 399,
        "ms_code": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "message": lambda v: isinstance(v, str),
        "drop_after": lambda v: isinstance(v, int) and v >= 0,
        "stall_after": lambda v: isinstance(v, int) and v >= 0,
        "stall_ms": lambda v: isinstance(v, int) and v >= 0,
        "corrupt": lambda v: isinstance(v, bool),
        "corrupt_at": lambda v: isinstance(v, int) and v >= 0,
        "ignore_range": lambda v: isinstance(v, bool),
        "no_content_range": lambda v: isinstance(v, bool),
        "no_content_length": lambda v: isinstance(v, bool),
        "rate": lambda v: isinstance(v, (int, float)) and v > 0,
        "expire_links": lambda v: isinstance(v, bool),
        "endless": lambda v: isinstance(v, bool),
    }

    def __init__(self, spec):
        self.spec = spec
        self.regex = re.compile(spec["match"])
        self.server = spec.get("server") or "any"
        self.method = spec.get("method")
        times = spec.get("times")
        self.times = float("inf") if times is None else int(times)
        self.skip = int(spec.get("skip", 0))
        self.action = dict(spec["action"])
        names = [k for k in self.ACTIONS if k in self.action]
        bad = [k for k, v in self.action.items() if k not in self.TYPES or not self.TYPES[k](v)]
        bad += sorted(set(spec) - {"match", "server", "method", "times", "skip", "action"})
        if bad or not names or self.server not in ("hub", "cdn", "any"):
            raise ValueError(f"invalid fault rule {spec!r} ({', '.join(bad) or 'no action'})")
        if (len({"status", "redirect", "ms_code"} & set(names)) > 1
                or {"drop_after", "stall_after"} <= set(names)
                or ("endless" in names and {"drop_after", "stall_after"} & set(names))
                or ("message" in self.action and "ms_code" not in names)):
            raise ValueError(f"conflicting actions in {spec!r}")
        self.name = "+".join(names)
        self.matched = self.applied = 0

    def matches(self, server, method, target):
        return (self.server in ("any", server)
                and (self.method is None or self.method == method)
                and self.regex.search(target) is not None)

    def describe(self):
        return dict(self.spec, matched=self.matched, applied=self.applied)


# --------------------------------------------------------------------------- transport


def _header_value(value):
    # http.server encodes headers as latin-1; percent-encode anything outside printable ASCII.
    value = str(value)
    if all(" " <= c <= "~" for c in value):
        return value
    return quote(value, safe="".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%"))


def _drain(sock, timeout=5.0):
    """Wait (Linux: SIOCOUTQ) until the peer has acknowledged all sent bytes: an abortive
    close discards unsent data, and the client must receive exactly what the log counts."""
    outq = getattr(termios, "TIOCOUTQ", None)
    deadline = time.monotonic() + timeout
    while outq is not None and time.monotonic() < deadline:
        if struct.unpack("i", fcntl.ioctl(sock.fileno(), outq, b"\0\0\0\0"))[0] == 0:
            return
        time.sleep(0.005)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub"
    timeout = 300  # idle keep-alive connections are closed after this
    role = None  # "hub" or "cdn"

    def log_message(self, *args):
        pass  # quiet: the JSON log is the access log

    def version_string(self):
        return self.server_version

    def do_GET(self):
        app = self.server.app
        self.sent = 0
        self.status_sent = None
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.body = body
        if self.role == "hub" and urlsplit(self.path).path == "/_control":
            self._send(app.control(self.command, body), {})
            return
        app.begin()
        rule = app.pick_fault(self.role, self.command, self.path)
        action = rule.action if rule else {}
        record = {
            "ts": time.time(),
            "server": self.role,
            "method": self.command,
            "path": self.path,
            "range": self.headers.get("Range"),
            "auth": "Authorization" in self.headers,
            "cookie": ms_session_cookie(self.headers) is not None,
            "status": None,
            "bytes": 0,
            "fault": rule.name if rule else None,
            "accept_encoding": self.headers.get("Accept-Encoding"),
            "ua": self.headers.get("User-Agent"),
            "client_port": self.client_address[1],
            "client_ip": self.client_address[0],
        }
        try:
            self._send(self._build(app, action), action)
        except OSError:  # the client went away (reset, timeout): nothing left to answer
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True
        finally:
            record["status"] = self.status_sent  # None if no status line went out
            record["bytes"] = self.sent
            app.end(record)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _build(self, app, action):
        if "status" in action:
            headers = {"Content-Type": "application/json; charset=utf-8"}
            body = json.dumps({"error": f"Injected fault: HTTP {action['status']}"})
            if "body" in action:
                headers["Content-Type"] = "text/plain; charset=utf-8"
                body = action["body"]
            headers.update(action.get("headers", {}))
            return Response(action["status"], headers, body.encode())
        if "ms_code" in action:
            return ms_error_in_200(action["ms_code"],
                                   action.get("message", f"Injected fault: Code {action['ms_code']}"))
        if "redirect" in action:
            location = action["redirect"].rstrip("/") + self.path
            return Response(action.get("code", 308),
                            {"Location": location, "Content-Type": "text/plain; charset=utf-8"},
                            f"Permanent Redirect. Redirecting to {location}".encode())
        req = Request(self, bool(action.get("ignore_range")), bool(action.get("expire_links")),
                      self.body)
        return app.hub(req) if self.role == "hub" else app.cdn(req)

    def _send(self, resp, action):
        cut = action.get("drop_after", action.get("stall_after"))
        if self.command == "HEAD" and cut is not None:
            # A HEAD has no body, so these faults hit before the status line: the client sees
            # a reset connection (drop) or a silent server (stall) instead of metadata.
            self._interrupt(action)
            return
        headers = dict(resp.headers)
        chunked = resp.chunked
        if action.get("no_content_range"):
            headers.pop("Content-Range", None)
        if action.get("endless"):
            # announces (and then sends) more than any client would want
            chunked = False
            headers["Content-Length"] = str(ENDLESS_LENGTH)
        elif action.get("no_content_length"):
            chunked = False
            headers["Connection"] = "close"  # send_header() then closes after the response
        elif chunked:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers["Content-Length"] = str(resp.length)
        headers.setdefault(
            "X-Request-Id" if self.role == "hub" else "X-Amz-Cf-Id",
            f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}",
        )
        self.send_response(resp.status)
        self.status_sent = resp.status
        for name, value in headers.items():
            self.send_header(name, _header_value(value))
        self.end_headers()
        if self.command != "HEAD":
            self._send_body(resp, action, chunked)
        if cut is not None:
            self._interrupt(action)

    def _send_body(self, resp, action, chunked):
        cut = action.get("drop_after", action.get("stall_after"))
        flip = None
        if "corrupt_at" in action:
            flip = action["corrupt_at"] - resp.offset
        elif action.get("corrupt"):
            flip = resp.length // 2
        rate = action.get("rate")
        step = max(1, min(65536, int(rate / 10))) if rate else None
        started = time.monotonic()
        pos = 0
        for piece in resp.pieces():
            piece = memoryview(piece)
            while len(piece):
                n = min(len(piece), step or len(piece))
                if cut is not None:
                    n = min(n, cut - pos)
                    if n <= 0:
                        return
                part, piece = piece[:n], piece[n:]
                if flip is not None and pos <= flip < pos + n:
                    part = bytearray(part)
                    part[flip - pos] ^= 0xFF
                if chunked:
                    self._write(b"%x\r\n" % n, counted=False)
                self._write(part, counted=True)
                if chunked:
                    self._write(b"\r\n", counted=False)
                pos += n
                if rate:
                    delay = started + pos / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
        if chunked and cut is None:
            self._write(b"0\r\n\r\n", counted=False)
        if action.get("endless"):
            self._send_endless(rate, started, pos)

    def _send_endless(self, rate, started, pos):
        """Filler after the body until the client goes away (or ENDLESS_LENGTH)."""
        self.close_connection = True
        filler = b"x" * (max(1, min(65536, int(rate / 10))) if rate else 65536)
        try:
            while pos < ENDLESS_LENGTH:
                self._write(filler, counted=True)
                pos += len(filler)
                if rate:
                    delay = started + pos / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
        except OSError:
            pass

    def _write(self, data, counted):
        # socket.send, not sendall, so that `bytes` in the log is exact even when the peer
        # disappears in the middle of a write.
        view = memoryview(data).cast("B")
        while len(view):
            n = self.connection.send(view)
            if counted:
                self.sent += n
            view = view[n:]

    def _interrupt(self, action):
        self.close_connection = True
        if "drop_after" in action:
            sock = self.connection
            _drain(sock)
            # SO_LINGER 0 makes close() send RST instead of FIN: a hard network error.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socket.close(sock.detach())
        else:
            time.sleep(action.get("stall_ms", 10000) / 1000)


# the Content-Length an "endless" fault announces: 1 PiB
ENDLESS_LENGTH = 1 << 50


class HubHandler(Handler):
    role = "hub"


class CdnHandler(Handler):
    role = "cdn"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, port, handler, app):
        super().__init__(("127.0.0.1", port), handler)
        self.app = app

    def get_request(self):
        # headers and body go out in separate writes: without NODELAY the
        # second waits for the client's delayed ACK (~40 ms per response)
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # resets etc. are normal here
            super().handle_error(request, client_address)


# --------------------------------------------------------------------------- main


def materialize(fixtures, directory):
    """Write each LFS content to DIR/<sha256> so an external server (nginx) can serve it."""
    os.makedirs(directory, exist_ok=True)
    for f in fixtures.lfs_files():
        dest = os.path.join(directory, f.sha256)
        if os.path.isfile(dest) and os.path.getsize(dest) == f.size:
            continue
        tmp = f"{dest}.{os.getpid()}.tmp"
        with open(tmp, "wb") as out:
            for chunk in f.chunks(0, f.size):
                out.write(chunk)
        os.replace(tmp, dest)


def main(argv=None):
    p = argparse.ArgumentParser(description="Fake Hugging Face Hub + CDN for tests.")
    p.add_argument("--fixtures", required=True, help="directory of repo JSON files + tokens.json")
    p.add_argument("--ms-fixtures", metavar="DIR",
                   help="ModelScope fixtures (same format); without it /api/v1/ answers 404")
    p.add_argument("--log", help="append one JSON line per request to this file")
    p.add_argument("--page-size", type=int, default=1000, help="tree listing page size")
    p.add_argument("--cdn-base", help="redirect LFS files to URL/<sha256> instead of the built-in CDN")
    p.add_argument("--materialize", metavar="DIR", help="write every LFS file to DIR/<sha256> at startup")
    p.add_argument("--cdn-link-ttl", type=int, default=3600, help="lifetime of signed CDN links (s)")
    p.add_argument("--hub-port", type=int, default=0)
    p.add_argument("--cdn-port", type=int, default=0)
    p.add_argument("--tls-cert", metavar="PEM",
                   help="serve HTTPS on both ports with this certificate (and --tls-key)")
    p.add_argument("--tls-key", metavar="PEM")
    p.add_argument("--ignore-stdin", action="store_true",
                   help="do not exit when stdin reaches EOF (for use from shell scripts)")
    args = p.parse_args(argv)

    try:
        fixtures = load_fixtures(args.fixtures)
        ms_fixtures = load_fixtures(args.ms_fixtures, "ms") if args.ms_fixtures else None
    except (OSError, FixtureError) as e:
        print(f"fakehub: {e}", file=sys.stderr)
        return 2
    if args.materialize:
        for each in (fixtures, ms_fixtures):
            if each is not None:
                materialize(each, args.materialize)

    app = App(fixtures, args.page_size, args.cdn_base, args.cdn_link_ttl, args.log, ms_fixtures)
    hub = Server(args.hub_port, HubHandler, app)
    cdn = Server(args.cdn_port, CdnHandler, app)
    app.hub_port, app.cdn_port = hub.server_address[1], cdn.server_address[1]
    app.scheme = "http"
    if args.tls_cert:
        # TLS for proxy CONNECT and certificate tests; handshakes happen in
        # the handler threads (do_handshake_on_connect=False keeps accept fast)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        for server in (hub, cdn):
            server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        app.scheme = "https"

    stop = threading.Event()
    # The handlers only set a flag: Event.set() from a signal handler can
    # deadlock on the lock Event.wait() holds at that moment in this very
    # thread (it did: a fake that never exited hung its test in waitpid).
    signalled = []
    signal.signal(signal.SIGTERM, lambda *_: signalled.append(True))
    signal.signal(signal.SIGINT, lambda *_: signalled.append(True))
    if not args.ignore_stdin:
        def watch_stdin():
            # EOF on stdin means the parent (test) is gone: never outlive it.
            # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader
            # aborts interpreter shutdown.
            while os.read(0, 65536):
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    for server in (hub, cdn):
        threading.Thread(target=server.serve_forever, daemon=True).start()

    print(f"READY {app.hub_port} {app.cdn_port}", flush=True)
    while not signalled and not stop.wait(0.2):
        pass
    for server in (hub, cdn):
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
