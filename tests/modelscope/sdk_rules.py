"""The ModelScope SDKs' own cache lookup rules, step by step (Python standard library only).

A test uses this to assert that a cache written by hubfetch is found by an SDK without a
second download, and to write a cache exactly as the classic SDK does so that hubfetch can be
checked to read it. Nothing here imports `modelscope`; the rules are those of
/work/shared/reference/modelscope-protocol.md:

* classic = modelscope <= 1.37 (§2.1-§2.3, §4.3): `{root}/{type}s/{owner}/{name with . -> ___}`
  with the `.msc` / `.mdl` pickles and the `.mv` text file; `ModelFileSystemCache.exists`.
* new = modelscope-hub, i.e. modelscope >= 1.38 (§2.4, §4.3): `_find_legacy_repo_dir`, else
  `{root}/{type}s/{owner}--{name}/snapshots/{revision}/{path}`; `_cache_hit`.

Listing entries are the dicts of `Data.Files[]` (`Path`, `Type`, `Revision`, `Sha256`, ...).
Lookups never modify the cache (the SDKs prune stale `.msc` keys as a side effect; that does
not change their answer). Every answer is a `Lookup`: truthy on a hit, with the path the SDK
would return and the steps that decided it, for readable test failures.
"""

import hashlib
import os
import pickle
import shutil
import tempfile

__all__ = [
    "Lookup", "CacheMiss", "OFFLINE_MESSAGE", "TEMPORARY_FOLDER_NAME",
    "split_repo_id", "mask_name",
    "classic_cache_root", "classic_repo_dir", "classic_temp_dir", "read_msc", "read_mdl", "read_mv",
    "classic_exists", "classic_is_cached", "classic_would_download", "classic_local_files_only",
    "write_classic_cache",
    "new_cache_root", "find_legacy_repo_dir", "new_repo_dir", "new_target", "cache_hit",
    "new_is_cached", "new_local_files_only",
]

MSC, MDL, MV = ".msc", ".mdl", ".mv"
TEMPORARY_FOLDER_NAME = "._____temp"  # a dot and five underscores (§2.1)
# Both SDKs raise this text when local_files_only finds nothing (§4.3).
OFFLINE_MESSAGE = ("Cannot find the requested files in the cached path and outgoing traffic has"
                   " been disabled. To enable look-ups and downloads online, set"
                   " 'local_files_only' to False.")
# Classic snapshots drop these from the listing by Name (§1.6); new does not.
CLASSIC_SKIPPED_NAMES = (".gitignore", ".gitattributes")
# The pickle protocol of classic's writes on Python 3.8-3.13 (§2.2).
CLASSIC_PICKLE_PROTOCOL = 4


class Lookup:
    """One lookup: truthy iff `hit`; `path` = what the SDK returns (or would write to);
    `steps` = the rule steps walked, the last one deciding."""

    __slots__ = ("hit", "path", "steps")

    def __init__(self, hit, path, steps):
        self.hit = hit
        self.path = path
        self.steps = list(steps)

    def __bool__(self):
        return self.hit

    @property
    def reason(self):
        return self.steps[-1] if self.steps else ""

    def __repr__(self):
        return f"Lookup({'hit' if self.hit else 'miss'}, {self.path!r}, {' -> '.join(self.steps)})"


class CacheMiss(ValueError):
    """local_files_only found nothing: classic raises ValueError, new CacheNotFound (E1022)."""


def split_repo_id(repo_id):
    owner, sep, name = repo_id.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise ValueError(f"repo id must be owner/name, not {repo_id!r}")
    return owner, name


def mask_name(name):
    """Classic's on-disk name (1.12+): every '.' of the repo *name* becomes '___'."""
    return name.replace(".", "___")


def _type_dir(repo_type):
    if repo_type not in ("model", "dataset"):
        raise ValueError(f"repo type must be model or dataset, not {repo_type!r}")
    return repo_type + "s"


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(16 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _blobs(entries):
    """Listing entries that are files: anything whose Type is not 'tree' (§8 item 3)."""
    return [e for e in entries if e.get("Type") != "tree"]


# --------------------------------------------------------------------------- classic (<= 1.37)


def classic_cache_root(environ=None):
    """`get_modelscope_cache_dir()`: $MODELSCOPE_CACHE, else ~/.cache/modelscope/hub (1.23+)."""
    environ = os.environ if environ is None else environ
    return os.path.expanduser(environ.get("MODELSCOPE_CACHE") or "~/.cache/modelscope/hub")


def classic_repo_dir(cache_root, repo_id, repo_type="model", cache_dir=None, local_dir=None):
    """The directory that holds the files and .msc/.mdl/.mv (§2.1, §2.3):
    local_dir as is; else `cache_dir/{owner}/{masked}` (an explicit cache_dir has no
    `models/` level); else `{cache_root}/{type}s/{owner}/{masked}`. Only the name is masked."""
    if local_dir is not None:
        return local_dir
    owner, name = split_repo_id(repo_id)
    base = cache_dir if cache_dir is not None else os.path.join(cache_root, _type_dir(repo_type))
    return os.path.join(base, owner, mask_name(name))


def classic_temp_dir(cache_root, repo_id, repo_type="model", cache_dir=None, local_dir=None):
    """Staging directory: unmasked name, next to the owner directories (§2.1, §2.3)."""
    if local_dir is not None:
        return os.path.join(local_dir, TEMPORARY_FOLDER_NAME)
    owner, name = split_repo_id(repo_id)
    base = cache_dir if cache_dir is not None else os.path.join(cache_root, _type_dir(repo_type))
    return os.path.join(base, TEMPORARY_FOLDER_NAME, owner, name)


def read_msc(repo_dir, strict=False):
    """The .msc index: a list of {'Path', 'Revision'} dicts. Missing -> []. Unreadable -> []
    as classic's `load_cache` does (it renames the file to .msc.corrupted and starts empty);
    with strict=True the unpickling error is raised instead (to check what hubfetch wrote)."""
    path = os.path.join(repo_dir, MSC)
    if not os.path.exists(path):
        return []
    try:
        with open(path, "rb") as fh:
            entries = pickle.load(fh)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError(f"{path}: not a list of dicts")
        return entries
    except Exception:
        if strict:
            raise
        return []


def read_mdl(repo_dir):
    """The .mdl pickle {'id': 'owner/masked name'}, or None if absent."""
    path = os.path.join(repo_dir, MDL)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        return pickle.load(fh)


def read_mv(repo_dir):
    """The .mv text (`Revision:<name>,CreatedAt:<ts>` for models, the bare revision for
    datasets), stripped as classic's `load_model_version` does; None if absent."""
    path = os.path.join(repo_dir, MV)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return fh.read().strip()


def classic_exists(repo_dir, msc_entries, entry, hash_validation=False):
    """`ModelFileSystemCache.exists(entry)` (§2.2), for one listing entry:
    1. look for an .msc key with the same Path whose Revision is a prefix of the listing's
       Revision or the reverse;
    2. only with hash_validation (MODELSCOPE_ENABLE_DEFAULT_HASH_VALIDATION=true) and a known
       Sha256: re-hash the file, a mismatch moves on to the next key;
    3. the file must exist under the repo directory.
    A file missing from .msc is a miss even if it is byte-identical on disk."""
    path, revision = entry["Path"], entry["Revision"]
    target = os.path.join(repo_dir, path)
    steps = []
    found = False
    for key in msc_entries:
        if key.get("Path") != path:
            continue
        cached = key.get("Revision", "")
        if not (cached.startswith(revision) or revision.startswith(cached)):
            steps.append(f".msc has {path!r} at {cached!r}, not a prefix match of {revision!r}")
            continue
        steps.append(f".msc has {path!r} at {cached!r} (prefix match of {revision!r})")
        expected = entry.get("Sha256")
        if hash_validation and expected:
            if not os.path.isfile(target):
                steps.append(f"hash validation: {target} is missing")
                continue
            if _sha256_file(target) != expected:
                steps.append("hash validation: sha256 differs")
                continue
            steps.append("hash validation: sha256 matches")
        found = True
        break
    if not found:
        if not steps:
            steps.append(f"{path!r} is not in .msc")
        return Lookup(False, None, steps)
    if not os.path.exists(target):
        return Lookup(False, None, steps + [f"{target} does not exist"])
    return Lookup(True, target, steps + [f"{target} exists"])


def classic_is_cached(cache_root, repo_id, listing_entries, repo_type="model", cache_dir=None,
                      local_dir=None, hash_validation=False):
    """{Path: Lookup} for every blob entry of a listing, as classic's snapshot and
    file download decide whether to skip a file (`cache.exists(repo_file)`)."""
    repo_dir = classic_repo_dir(cache_root, repo_id, repo_type, cache_dir, local_dir)
    msc = read_msc(repo_dir)
    return {e["Path"]: classic_exists(repo_dir, msc, e, hash_validation)
            for e in _blobs(listing_entries)}


def classic_would_download(cache_root, repo_id, listing_entries, repo_type="model",
                           cache_dir=None, local_dir=None, hash_validation=False):
    """Paths a classic snapshot of this listing would fetch: blobs minus .gitignore and
    .gitattributes (dropped by Name, §1.6) minus what `exists` finds. [] = no download."""
    kept = [e for e in _blobs(listing_entries)
            if e.get("Name", e["Path"].rsplit("/", 1)[-1]) not in CLASSIC_SKIPPED_NAMES]
    result = classic_is_cached(cache_root, repo_id, kept, repo_type, cache_dir, local_dir,
                               hash_validation)
    return sorted(p for p, lookup in result.items() if not lookup)


def classic_local_files_only(cache_root, repo_id, file_path=None, repo_type="model",
                             cache_dir=None, local_dir=None):
    """Classic with local_files_only=True (§4.3); returns the path or raises CacheMiss.
    * file download: the first .msc key with this Path whose file exists, revision ignored
      ("not sure it's up to date");
    * snapshot (file_path None): the repo directory if .msc has any key at all, whatever the
      requested revision or patterns."""
    repo_dir = classic_repo_dir(cache_root, repo_id, repo_type, cache_dir, local_dir)
    msc = read_msc(repo_dir)
    if file_path is None:
        if msc:
            return repo_dir
        raise CacheMiss(OFFLINE_MESSAGE)
    for key in msc:
        if key.get("Path") == file_path and os.path.exists(os.path.join(repo_dir, file_path)):
            return os.path.join(repo_dir, file_path)
    raise CacheMiss(OFFLINE_MESSAGE)


def _atomic_pickle(obj, dest):
    # As classic's _save_cached_files_unlocked: mkstemp(suffix='.tmp'), fsync, os.replace.
    fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=os.path.dirname(dest))
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=CLASSIC_PICKLE_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_classic_cache(cache_root, repo_id, files, revision=None, created_at=None,
                        repo_type="model", cache_dir=None, local_dir=None, symlink=True):
    """Write (or add to) a cache the way classic does, and return its repo directory.

    `files`: {path: (commit id of the file = listing Revision, bytes)}. Per file, as
    `put_file`: stage under the temp dir, drop any older .msc key of that Path, move the file
    into place, append {'Path', 'Revision'} and save .msc atomically (protocol 4). In cache
    mode (no local_dir) `.mdl` = {'id': 'owner/masked'}. With `revision`, `.mv` as
    `save_model_version`: models `Revision:<rev>,CreatedAt:<created_at>`, datasets `<rev>`,
    no newline. `symlink`: models whose name has a '.' also get the dotted-name symlink a
    classic snapshot makes (relative: the reference does not say; either resolves)."""
    repo_dir = classic_repo_dir(cache_root, repo_id, repo_type, cache_dir, local_dir)
    temp_dir = classic_temp_dir(cache_root, repo_id, repo_type, cache_dir, local_dir)
    os.makedirs(repo_dir, exist_ok=True)
    if local_dir is None:
        owner, name = split_repo_id(repo_id)
        _atomic_pickle({"id": f"{owner}/{mask_name(name)}"}, os.path.join(repo_dir, MDL))
    msc = read_msc(repo_dir)
    for path, (file_revision, data) in files.items():
        staged = os.path.join(temp_dir, path)
        os.makedirs(os.path.dirname(staged), exist_ok=True)
        with open(staged, "wb") as fh:
            fh.write(data)
        msc = [k for k in msc if k.get("Path") != path]
        final = os.path.join(repo_dir, path)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        shutil.move(staged, final)
        msc.append({"Path": path, "Revision": file_revision})
        _atomic_pickle(msc, os.path.join(repo_dir, MSC))
    if revision is not None:
        text = revision if repo_type == "dataset" else f"Revision:{revision},CreatedAt:{created_at}"
        with open(os.path.join(repo_dir, MV), "w", encoding="utf-8") as fh:
            fh.write(text)
    if symlink and local_dir is None and cache_dir is None and repo_type == "model":
        owner, name = split_repo_id(repo_id)
        link = os.path.join(os.path.dirname(repo_dir), name)
        if "." in name and not os.path.lexists(link):
            os.symlink(mask_name(name), link)
    return repo_dir


# --------------------------------------------------------------------------- new (>= 1.38)


def new_cache_root(environ=None):
    """`HubConfig.cache_dir`: $MODELSCOPE_CACHE, else ~/.cache/modelscope (no `hub`)."""
    environ = os.environ if environ is None else environ
    return os.path.expanduser(environ.get("MODELSCOPE_CACHE") or "~/.cache/modelscope")


def find_legacy_repo_dir(cache_root, repo_id, repo_type="model"):
    """`_find_legacy_repo_dir` (§2.4): the first existing, non-empty directory of
    `{root}/{type}s/{owner}/{masked}` then `{root}/hub/{type}s/{owner}/{masked}`; else None.
    Any entry counts as non-empty, a lone .msc included."""
    try:
        owner, name = split_repo_id(repo_id)
    except ValueError:
        return None
    for base in (cache_root, os.path.join(cache_root, "hub")):
        candidate = os.path.join(base, _type_dir(repo_type), owner, mask_name(name))
        try:
            if os.path.isdir(candidate) and os.listdir(candidate):
                return candidate
        except OSError:
            continue
    return None


def new_repo_dir(cache_root, repo_id, repo_type="model"):
    """`_repo_cache_dir`: `{root}/{type}s/{owner}--{name}` (name not masked)."""
    owner, name = split_repo_id(repo_id)
    return os.path.join(cache_root, _type_dir(repo_type), f"{owner}--{name}")


def new_target(cache_root, repo_id, revision, file_path, repo_type="model", local_dir=None):
    """(target path, step) where new reads/writes `file_path`: local_dir, else the legacy
    directory if `_find_legacy_repo_dir` finds one, else the snapshot of the literal
    `revision` string (a branch name such as master, not a commit)."""
    if local_dir is not None:
        return os.path.join(local_dir, file_path), "local_dir"
    legacy = find_legacy_repo_dir(cache_root, repo_id, repo_type)
    if legacy is not None:
        return os.path.join(legacy, file_path), f"legacy classic directory {legacy} reused"
    snapshot = os.path.join(new_repo_dir(cache_root, repo_id, repo_type), "snapshots", revision)
    return os.path.join(snapshot, file_path), f"snapshot directory {snapshot}"


def cache_hit(target, expected_sha256=None):
    """`_cache_hit`: the target exists and, when a sha256 is known, a full re-hash of it
    matches (on every run)."""
    if not os.path.exists(target):
        return Lookup(False, target, [f"{target} does not exist"])
    if expected_sha256:
        if _sha256_file(target) != expected_sha256:
            return Lookup(False, target, [f"{target} exists", "sha256 differs: stale"])
        return Lookup(True, target, [f"{target} exists", "sha256 matches"])
    return Lookup(True, target, [f"{target} exists", "no sha256 known: existence is enough"])


def new_is_cached(cache_root, repo_id, revision, entries, repo_type="model", local_dir=None):
    """{path: Lookup} as new's `download_repo` / `download_file` decide to skip a file.
    `entries`: listing dicts (tree entries skipped, `Sha256` used when present), or bare paths
    as the CLI's single-file path passes them (no listing, so no sha256: existence is enough)."""
    out = {}
    for e in entries:
        if isinstance(e, str):
            path, sha = e, None
        elif e.get("Type") == "tree":
            continue
        else:
            path, sha = e["Path"], e.get("Sha256") or None
        target, where = new_target(cache_root, repo_id, revision, path, repo_type, local_dir)
        lookup = cache_hit(target, sha)
        lookup.steps.insert(0, where)
        out[path] = lookup
    return out


def new_local_files_only(cache_root, repo_id, revision, file_path=None, repo_type="model",
                         local_dir=None):
    """New with local_files_only=True (§4.3); returns the path or raises CacheMiss.
    A file: its target exists. A snapshot (file_path None): the output directory (legacy,
    snapshot or local_dir) holds anything at all."""
    if file_path is not None:
        target, _ = new_target(cache_root, repo_id, revision, file_path, repo_type, local_dir)
        if os.path.exists(target):
            return target
        raise CacheMiss(OFFLINE_MESSAGE)
    if local_dir is not None:
        out = local_dir
    else:
        out = find_legacy_repo_dir(cache_root, repo_id, repo_type) or os.path.join(
            new_repo_dir(cache_root, repo_id, repo_type), "snapshots", revision)
    if os.path.isdir(out) and os.listdir(out):
        return out
    raise CacheMiss(OFFLINE_MESSAGE)
