"""The C ABI of libhubfetch as ctypes sees it: the library, its structs and
its function prototypes. Mirrors include/hubfetch.h field by field; the test
tests/bindings/test_python.py compiles the header and checks every offset.

Nothing here is public API; the rest of the package builds on it.
"""

import ctypes
import ctypes.util
import os

# Versions of the option structs whose layout this module knows. We always
# pass these, never the library's newer ones: a newer library accepts older
# versions, and the fields we know are at the same offsets.
PROGRESS_VERSION = 1
CLIENT_OPTIONS_VERSION = 2
DOWNLOAD_OPTIONS_VERSION = 2
CACHE_SCAN_OPTIONS_VERSION = 1
CACHE_PRUNE_OPTIONS_VERSION = 1
CACHE_VERIFY_OPTIONS_VERSION = 1
LIST_OPTIONS_VERSION = 1
HEADER_OPTIONS_VERSION = 1
READ_OPTIONS_VERSION = 1

# The oldest library (HUB_VERSION_NUM) whose ABI this binding can drive:
# 0.4.0, the first release with the cache management API (the cache
# structs of 0.4 are the only ones ever released).
MIN_LIBRARY_VERSION = 400

AUTO = -1
CLIENT_IGNORE_ENV = 0x1
HUB_KINDS = {"hf": 0, "huggingface": 0, "modelscope": 1}  # enum hub_kind
UINT64_MAX = 2**64 - 1
CACHE_SCAN_NO_FILES = 1
# enum hub_cache_op_kind and hub_cache_op_state, by value: the names the
# CLI's JSON uses
CACHE_OP_KINDS = ("repo", "ref", "snapshot", "file", "blob", "partial",
                  "no_exist", "tree", "empty_dir", "trash")
CACHE_OP_STATES = ("planned", "done", "gone", "in_use", "changed", "failed")
CACHE_VERIFY_REMOTE = 1
CACHE_VERIFY_FAIL_ON_MISSING = 2
# enum hub_verify_status (from 1), by the CLI's JSON names
VERIFY_STATUSES = {1: "mismatch", 2: "unreadable", 3: "broken", 4: "defect",
                   5: "missing", 6: "extra", 7: "remote_differs", 8: "unverifiable",
                   9: "unindexed"}

LIST_DONE = 1  # hub_list_next(): no entry left
READ_VERIFY, READ_NO_CACHE = 0x1, 0x2  # hub_read_options.flags
ENTRY_FILE, ENTRY_DIRECTORY = 0, 1  # enum hub_entry_type
# enum hub_gguf_type, by value: the names gguf-py's GGUFValueType uses
GGUF_TYPES = ("UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
              "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64")

# The error table of HUB_ERROR_MAP: name -> code. Pinned by the header.
ERRORS = {
    "OK": 0, "ERROR": -1, "EINVAL": -2, "ENOMEM": -3, "EVERSION": -4,
    "ENOREPO": -5, "ENOREV": -6, "ENOENTRY": -7, "EGATED": -8, "EAUTH": -9,
    "ERATELIMIT": -10, "ENOTCACHED": -11, "ENET": -12, "ETLS": -13,
    "ETIMEOUT": -14, "EPROXY": -15, "EHTTP": -16, "EIO": -17, "ENOSPC": -18,
    "ECHECKSUM": -19, "EPROTO": -20, "ECANCELLED": -21, "ELOCKED": -22,
    "EBUSY": -23, "EUNSUPPORTED": -24, "EFORMAT": -25,
}
E = type("E", (), ERRORS)  # E.ENOREPO == -5


class hub_error_info(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_int),
        ("http_status", ctypes.c_long),
        ("message", ctypes.c_char_p),
    ]


class hub_progress(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("phase", ctypes.c_int),  # enum hub_phase
        ("file", ctypes.c_char_p),
        ("file_index", ctypes.c_size_t),
        ("file_count", ctypes.c_size_t),
        ("file_bytes_done", ctypes.c_uint64),
        ("file_bytes_total", ctypes.c_uint64),
        ("bytes_done", ctypes.c_uint64),
        ("bytes_total", ctypes.c_uint64),
        ("files_done", ctypes.c_size_t),
        ("rate", ctypes.c_double),
        ("eta", ctypes.c_double),
        ("endpoint", ctypes.c_char_p),
        ("final", ctypes.c_int),
    ]


LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
PROGRESS_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(hub_progress),
                               ctypes.c_void_p)
STR_ARRAY = ctypes.POINTER(ctypes.c_char_p)


class hub_client_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("endpoint", ctypes.c_char_p),
        ("token", ctypes.c_char_p),
        ("cache_dir", ctypes.c_char_p),
        ("offline", ctypes.c_int),
        ("symlinks", ctypes.c_int),
        ("user_agent", ctypes.c_char_p),
        ("max_files", ctypes.c_int),
        ("connections", ctypes.c_int),
        ("max_connections", ctypes.c_int),
        ("max_rate", ctypes.c_uint64),
        ("split_threshold", ctypes.c_uint64),
        ("part_size", ctypes.c_uint64),
        ("connect_timeout_ms", ctypes.c_long),
        ("stall_timeout_ms", ctypes.c_long),
        ("max_retries", ctypes.c_int),
        ("lock_timeout_ms", ctypes.c_long),
        ("log_cb", LOG_CB),
        ("log_payload", ctypes.c_void_p),
        ("log_level", ctypes.c_int),
        ("proxy", ctypes.c_char_p),
        ("no_proxy", ctypes.c_char_p),
        ("fallback_endpoints", STR_ARRAY),
        ("fallback_count", ctypes.c_size_t),
        ("ca_bundle", ctypes.c_char_p),
        ("hub", ctypes.c_int),  # enum hub_kind
        ("send_token_to_mirrors", ctypes.c_int),  # version 2
    ]


class hub_download_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("repo_type", ctypes.c_int),  # enum hub_repo_type
        ("revision", ctypes.c_char_p),
        ("allow_patterns", STR_ARRAY),
        ("allow_count", ctypes.c_size_t),
        ("ignore_patterns", STR_ARRAY),
        ("ignore_count", ctypes.c_size_t),
        ("files", STR_ARRAY),
        ("file_count", ctypes.c_size_t),
        ("local_dir", ctypes.c_char_p),
        ("local_files_only", ctypes.c_int),
        ("force_download", ctypes.c_int),
        ("dry_run", ctypes.c_int),
        ("progress_cb", PROGRESS_CB),
        ("progress_payload", ctypes.c_void_p),
        ("prefer_offline", ctypes.c_int),  # version 2
    ]


class hub_file_info(ctypes.Structure):
    _fields_ = [
        ("path", ctypes.c_char_p),
        ("local_path", ctypes.c_char_p),
        ("size", ctypes.c_uint64),
        ("etag", ctypes.c_char_p),
        ("status", ctypes.c_int),  # enum hub_file_status
        ("endpoint", ctypes.c_char_p),
        ("bytes_fetched", ctypes.c_uint64),
    ]


class hub_cache_scan_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("flags", ctypes.c_uint),
    ]


# The scan result's records. Only read through pointers the library hands
# out, so a newer library appending fields is harmless; a field appended
# here must only be read from a library known to have it (by version).
class hub_cache_file(ctypes.Structure):
    _fields_ = [
        ("file_name", ctypes.c_char_p),
        ("file_path", ctypes.c_char_p),
        ("blob_path", ctypes.c_char_p),
        ("blob_name", ctypes.c_char_p),
        ("size_on_disk", ctypes.c_uint64),
        ("blob_last_accessed", ctypes.c_int64),
        ("blob_last_modified", ctypes.c_int64),
    ]


class hub_cache_revision(ctypes.Structure):
    _fields_ = [
        ("commit_hash", ctypes.c_char_p),
        ("snapshot_path", ctypes.c_char_p),
        ("refs", STR_ARRAY),
        ("ref_count", ctypes.c_size_t),
        ("size_on_disk", ctypes.c_uint64),
        ("nb_files", ctypes.c_uint64),
        ("last_modified", ctypes.c_int64),
        ("files", ctypes.POINTER(ctypes.POINTER(hub_cache_file))),  # 0.4
        ("file_count", ctypes.c_size_t),
        ("last_accessed", ctypes.c_int64),
    ]


class hub_cache_repo(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),  # enum hub_repo_type
        ("repo_id", ctypes.c_char_p),
        ("repo_path", ctypes.c_char_p),
        ("size_on_disk", ctypes.c_uint64),
        ("nb_files", ctypes.c_uint64),
        ("last_accessed", ctypes.c_int64),
        ("last_modified", ctypes.c_int64),
        ("refs", STR_ARRAY),
        ("ref_count", ctypes.c_size_t),
        ("revisions", ctypes.POINTER(ctypes.POINTER(hub_cache_revision))),
        ("revision_count", ctypes.c_size_t),
        ("warnings", STR_ARRAY),
        ("warning_count", ctypes.c_size_t),
    ]


class hub_cache_op(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int),   # enum hub_cache_op_kind
        ("state", ctypes.c_int),  # enum hub_cache_op_state
        ("path", ctypes.c_char_p),
        ("repo", ctypes.POINTER(hub_cache_repo)),          # NULL for TRASH
        ("revision", ctypes.POINTER(hub_cache_revision)),  # REF, SNAPSHOT, FILE
        ("name", ctypes.c_char_p),
        ("bytes", ctypes.c_uint64),
        ("message", ctypes.c_char_p),
    ]


class hub_cache_prune_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("older_than", ctypes.c_int64),
        ("max_size", ctypes.c_uint64),
        ("partial_age", ctypes.c_int64),
        ("now", ctypes.c_int64),
    ]


class hub_cache_verify_item(ctypes.Structure):
    _fields_ = [
        ("status", ctypes.c_int),     # enum hub_verify_status
        ("repo_type", ctypes.c_int),  # enum hub_repo_type
        ("repo_id", ctypes.c_char_p),
        ("commit", ctypes.c_char_p),
        ("file", ctypes.c_char_p),
        ("path", ctypes.c_char_p),
        ("algorithm", ctypes.c_char_p),
        ("expected", ctypes.c_char_p),
        ("actual", ctypes.c_char_p),
        ("message", ctypes.c_char_p),
    ]


class hub_cache_verify_summary(ctypes.Structure):
    _fields_ = [
        ("repos", ctypes.c_size_t),
        ("revisions", ctypes.c_size_t),
        ("files", ctypes.c_uint64),
        ("blobs", ctypes.c_uint64),
        ("bytes", ctypes.c_uint64),
        ("failed_files", ctypes.c_uint64),
        ("unverifiable", ctypes.c_uint64),
        ("missing", ctypes.c_uint64),
        ("extra", ctypes.c_uint64),
        ("defects", ctypes.c_uint64),
        ("seconds", ctypes.c_double),
        ("threads", ctypes.c_int),
    ]


class hub_cache_verify_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("targets", STR_ARRAY),
        ("target_count", ctypes.c_size_t),
        ("local_dir", ctypes.c_char_p),
        ("repo_id", ctypes.c_char_p),
        ("repo_type", ctypes.c_int),  # enum hub_repo_type
        ("revision", ctypes.c_char_p),
        ("threads", ctypes.c_int),
        ("progress_cb", PROGRESS_CB),
        ("progress_payload", ctypes.c_void_p),
    ]


# Remote listing (0.4). Entries are read through pointers the library
# hands out: fields a newer library appends are never read.
class hub_entry(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),  # enum hub_entry_type
        ("path", ctypes.c_char_p),
        ("size", ctypes.c_uint64),
        ("oid", ctypes.c_char_p),
        ("lfs_sha256", ctypes.c_char_p),
        ("lfs_size", ctypes.c_uint64),
        ("lfs_pointer_size", ctypes.c_uint64),
        ("xet_hash", ctypes.c_char_p),
        ("last_commit_id", ctypes.c_char_p),
        ("last_commit_title", ctypes.c_char_p),
        ("last_commit_date", ctypes.c_char_p),
    ]


class hub_list_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("repo_type", ctypes.c_int),  # enum hub_repo_type
        ("revision", ctypes.c_char_p),
        ("recursive", ctypes.c_int),
        ("expand", ctypes.c_int),
    ]


# Authentication (0.4)
class hub_whoami_info(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("fullname", ctypes.c_char_p),
        ("type", ctypes.c_char_p),
        ("orgs", STR_ARRAY),
        ("org_count", ctypes.c_size_t),
        ("token_name", ctypes.c_char_p),
        ("token_role", ctypes.c_char_p),
    ]


# Weight file headers (0.4)
class hub_header_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("max_header_bytes", ctypes.c_uint64),
        ("max_array_values", ctypes.c_uint64),
    ]


class hub_safetensors_tensor(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_char_p),
        ("shape", ctypes.POINTER(ctypes.c_uint64)),
        ("ndim", ctypes.c_size_t),
        ("offset_begin", ctypes.c_uint64),
        ("offset_end", ctypes.c_uint64),
        ("parameters", ctypes.c_uint64),
        ("file", ctypes.c_char_p),
    ]


class hub_dtype_count(ctypes.Structure):
    _fields_ = [
        ("dtype", ctypes.c_char_p),
        ("parameters", ctypes.c_uint64),
    ]


class hub_safetensors_info(ctypes.Structure):
    _fields_ = [
        ("tensors", ctypes.POINTER(hub_safetensors_tensor)),
        ("tensor_count", ctypes.c_size_t),
        ("dtypes", ctypes.POINTER(hub_dtype_count)),
        ("dtype_count", ctypes.c_size_t),
        ("parameter_total", ctypes.c_uint64),
        ("metadata_keys", STR_ARRAY),
        ("metadata_values", STR_ARRAY),
        ("metadata_count", ctypes.c_size_t),
        ("header_size", ctypes.c_uint64),
        ("data_offset", ctypes.c_uint64),
        ("data_size", ctypes.c_uint64),
        ("sharded", ctypes.c_int),
        ("shards", STR_ARRAY),
        ("shard_count", ctypes.c_size_t),
        ("total_size", ctypes.c_uint64),
    ]


class hub_gguf_value(ctypes.Structure):
    pass  # self-referential (items): fields set below


hub_gguf_value._fields_ = [
    ("type", ctypes.c_int),  # enum hub_gguf_type
    ("u", ctypes.c_uint64),
    ("i", ctypes.c_int64),
    ("f", ctypes.c_double),
    # STRING bytes may hold a NUL: read with string_at(str, len)
    ("str", ctypes.c_void_p),
    ("len", ctypes.c_size_t),
    ("elem_type", ctypes.c_int),  # enum hub_gguf_type
    ("count", ctypes.c_uint64),
    ("kept", ctypes.c_int),
    ("data", ctypes.c_void_p),
    ("strings", ctypes.POINTER(ctypes.c_void_p)),
    ("lengths", ctypes.POINTER(ctypes.c_size_t)),
    ("items", ctypes.POINTER(hub_gguf_value)),
]


class hub_gguf_kv(ctypes.Structure):
    _fields_ = [
        ("key", ctypes.c_char_p),
        ("value", hub_gguf_value),
    ]


class hub_gguf_tensor(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("n_dims", ctypes.c_uint32),
        ("dims", ctypes.POINTER(ctypes.c_uint64)),
        ("type", ctypes.c_uint32),
        ("type_name", ctypes.c_char_p),
        ("offset", ctypes.c_uint64),
        ("parameters", ctypes.c_uint64),
    ]


class hub_gguf_info(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint32),
        ("big_endian", ctypes.c_int),
        ("tensor_count", ctypes.c_uint64),
        ("kv_count", ctypes.c_uint64),
        ("kvs", ctypes.POINTER(hub_gguf_kv)),
        ("tensors", ctypes.POINTER(hub_gguf_tensor)),
        ("alignment", ctypes.c_uint32),
        ("header_size", ctypes.c_uint64),
        ("data_offset", ctypes.c_uint64),
        ("parameters", ctypes.c_uint64),
        ("architecture", ctypes.c_char_p),
        ("name", ctypes.c_char_p),
        ("file_type", ctypes.c_int64),
        ("file_type_name", ctypes.c_char_p),
        ("context_length", ctypes.c_uint64),
        ("embedding_length", ctypes.c_uint64),
        ("block_count", ctypes.c_uint64),
    ]


# Remote reads (0.4)
class hub_read_options(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint),
        ("repo_type", ctypes.c_int),  # enum hub_repo_type
        ("revision", ctypes.c_char_p),
        ("flags", ctypes.c_uint),
    ]


# Filled by the caller's struct: its layout is fixed (a later version adds
# another struct), so every field is always there.
class hub_read_info(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint64),
        ("etag", ctypes.c_char * 65),
        ("commit", ctypes.c_char * 41),
        ("from_cache", ctypes.c_int),
        ("bytes_fetched", ctypes.c_uint64),
        ("bytes_read", ctypes.c_uint64),
    ]


# hub_read_cb: (const void *data, size_t len, void *payload) -> int
READ_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)


# Every struct the ABI shares, by C name (the layout test walks this).
STRUCTS = {
    "hub_error_info": hub_error_info,
    "hub_progress": hub_progress,
    "hub_client_options": hub_client_options,
    "hub_download_options": hub_download_options,
    "hub_file_info": hub_file_info,
    "hub_cache_scan_options": hub_cache_scan_options,
    "hub_cache_revision": hub_cache_revision,
    "hub_cache_repo": hub_cache_repo,
    "hub_cache_file": hub_cache_file,
    "hub_cache_op": hub_cache_op,
    "hub_cache_prune_options": hub_cache_prune_options,
    "hub_cache_verify_item": hub_cache_verify_item,
    "hub_cache_verify_summary": hub_cache_verify_summary,
    "hub_cache_verify_options": hub_cache_verify_options,
    "hub_entry": hub_entry,
    "hub_list_options": hub_list_options,
    "hub_whoami_info": hub_whoami_info,
    "hub_header_options": hub_header_options,
    "hub_safetensors_tensor": hub_safetensors_tensor,
    "hub_dtype_count": hub_dtype_count,
    "hub_safetensors_info": hub_safetensors_info,
    "hub_gguf_value": hub_gguf_value,
    "hub_gguf_kv": hub_gguf_kv,
    "hub_gguf_tensor": hub_gguf_tensor,
    "hub_gguf_info": hub_gguf_info,
    "hub_read_options": hub_read_options,
    "hub_read_info": hub_read_info,
}


def library_candidates():
    """Where to look for the shared library, in order."""
    env = os.environ.get("HUBFETCH_LIB")
    if env:
        return [env]  # an explicit choice is never second-guessed
    found = ctypes.util.find_library("hubfetch")
    out = [found] if found else []
    # bindings/python/hubfetch/_lib.py -> the repository's build directories
    repo = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    for name in ("libhubfetch.so", "libhubfetch.dylib"):
        out.append(os.path.join(repo, "build", name))
    return out


def load():
    errors = []
    for path in library_candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(f"{path}: {e}")
    else:
        raise ImportError("hubfetch: cannot load libhubfetch (set HUBFETCH_LIB "
                          "to its path): " + ("; ".join(errors) or "not found"))
    _declare(lib)
    return lib


def _declare(lib):
    c_int, c_long, c_size_t = ctypes.c_int, ctypes.c_long, ctypes.c_size_t
    c_char_p, c_void_p = ctypes.c_char_p, ctypes.c_void_p
    P = ctypes.POINTER
    # char ** outputs are read as c_void_p so that we keep the pointer to
    # hand back to hub_free() (a c_char_p would be converted to bytes).
    protos = {
        "hub_error_last": (P(hub_error_info), []),
        "hub_strerror": (c_char_p, [c_int]),
        "hub_error_name": (c_char_p, [c_int]),
        "hub_version": (c_char_p, []),
        "hub_version_num": (c_int, []),
        "hub_global_init": (c_int, []),
        "hub_global_cleanup": (None, []),
        "hub_free": (None, [c_void_p]),
        "hub_client_options_init": (c_int, [P(hub_client_options), ctypes.c_uint]),
        "hub_client_new": (c_int, [P(c_void_p), P(hub_client_options)]),
        "hub_client_free": (None, [c_void_p]),
        "hub_client_cache_dir": (c_char_p, [c_void_p]),
        "hub_client_endpoint": (c_char_p, [c_void_p]),
        "hub_download_options_init": (c_int, [P(hub_download_options), ctypes.c_uint]),
        "hub_result_path": (c_char_p, [c_void_p]),
        "hub_result_commit": (c_char_p, [c_void_p]),
        "hub_result_file_count": (c_size_t, [c_void_p]),
        "hub_result_file": (P(hub_file_info), [c_void_p, c_size_t]),
        "hub_result_free": (None, [c_void_p]),
        "hub_download_file": (c_int, [P(c_void_p), c_void_p, c_char_p, c_char_p,
                                      P(hub_download_options)]),
        "hub_snapshot_download": (c_int, [P(c_void_p), c_void_p, c_char_p,
                                          P(hub_download_options)]),
        "hub_download": (c_int, [P(c_void_p), c_void_p, c_char_p,
                                 P(hub_download_options)]),
        "hub_cache_lookup": (c_int, [P(c_void_p), c_void_p, c_char_p,
                                     P(hub_download_options)]),
        "hub_job_start": (c_int, [P(c_void_p), c_void_p, c_char_p,
                                  P(hub_download_options)]),
        "hub_job_poll": (None, [c_void_p, P(hub_progress)]),
        "hub_job_cancel": (None, [c_void_p]),
        "hub_client_cancel": (None, [c_void_p]),
        "hub_job_done": (c_int, [c_void_p]),
        "hub_job_wait": (c_int, [c_void_p, c_long, P(c_void_p)]),
        "hub_job_free": (None, [c_void_p]),
        "hub_cache_scan": (c_int, [P(c_void_p), c_void_p, P(hub_cache_scan_options)]),
        "hub_cache_info_dir": (c_char_p, [c_void_p]),
        "hub_cache_info_repo_count": (c_size_t, [c_void_p]),
        "hub_cache_info_repo": (P(hub_cache_repo), [c_void_p, c_size_t]),
        "hub_cache_info_size_on_disk": (ctypes.c_uint64, [c_void_p]),
        "hub_cache_info_warning_count": (c_size_t, [c_void_p]),
        "hub_cache_info_warning": (c_char_p, [c_void_p, c_size_t]),
        "hub_cache_info_free": (None, [c_void_p]),
        "hub_cache_plan_delete": (c_int, [P(c_void_p), c_void_p, STR_ARRAY, c_size_t]),
        "hub_cache_plan_prune": (c_int, [P(c_void_p), c_void_p,
                                         P(hub_cache_prune_options)]),
        "hub_cache_plan_op_count": (c_size_t, [c_void_p]),
        "hub_cache_plan_op": (P(hub_cache_op), [c_void_p, c_size_t]),
        "hub_cache_plan_bytes": (ctypes.c_uint64, [c_void_p]),
        "hub_cache_plan_freed": (ctypes.c_uint64, [c_void_p]),
        "hub_cache_plan_unmatched_count": (c_size_t, [c_void_p]),
        "hub_cache_plan_unmatched": (c_char_p, [c_void_p, c_size_t]),
        "hub_cache_execute": (c_int, [c_void_p, c_void_p]),
        "hub_cache_plan_free": (None, [c_void_p]),
        "hub_cache_verify": (c_int, [P(c_void_p), c_void_p, P(hub_cache_verify_options)]),
        "hub_cache_verify_options_init": (c_int, [P(hub_cache_verify_options),
                                                  ctypes.c_uint]),
        "hub_cache_verify_result_summary": (P(hub_cache_verify_summary), [c_void_p]),
        "hub_cache_verify_result_count": (c_size_t, [c_void_p]),
        "hub_cache_verify_result_item": (P(hub_cache_verify_item), [c_void_p, c_size_t]),
        "hub_cache_verify_item_failed": (c_int, [c_void_p, P(hub_cache_verify_item)]),
        "hub_cache_verify_result_free": (None, [c_void_p]),
        "hub_list_options_init": (c_int, [P(hub_list_options), ctypes.c_uint]),
        "hub_list_open": (c_int, [P(c_void_p), c_void_p, c_char_p, c_char_p,
                                  P(hub_list_options)]),
        "hub_list_next": (c_int, [c_void_p, P(P(hub_entry))]),
        "hub_list_endpoint": (c_char_p, [c_void_p]),
        "hub_list_free": (None, [c_void_p]),
        "hub_stat": (c_int, [P(P(hub_entry)), c_void_p, c_char_p, c_char_p,
                             P(hub_list_options)]),
        "hub_entry_free": (None, [P(hub_entry)]),
        "hub_whoami": (c_int, [P(P(hub_whoami_info)), c_void_p]),
        "hub_whoami_info_free": (None, [P(hub_whoami_info)]),
        "hub_token_path": (c_int, [P(c_void_p)]),
        "hub_token_save": (c_int, [c_char_p, c_char_p]),
        "hub_token_remove": (c_int, [P(c_int)]),
        "hub_header_options_init": (c_int, [P(hub_header_options), ctypes.c_uint]),
        "hub_safetensors_info_file": (c_int, [P(P(hub_safetensors_info)), c_char_p,
                                              P(hub_header_options)]),
        "hub_safetensors_info_free": (None, [P(hub_safetensors_info)]),
        "hub_gguf_info_file": (c_int, [P(P(hub_gguf_info)), c_char_p,
                                       P(hub_header_options)]),
        "hub_gguf_info_get": (P(hub_gguf_kv), [P(hub_gguf_info), c_char_p]),
        "hub_ggml_type_name": (c_char_p, [ctypes.c_uint32]),
        "hub_gguf_info_free": (None, [P(hub_gguf_info)]),
        "hub_read_options_init": (c_int, [P(hub_read_options), ctypes.c_uint]),
        "hub_read": (c_int, [P(hub_read_info), c_void_p, c_char_p, c_char_p,
                             ctypes.c_uint64, ctypes.c_uint64, P(hub_read_options),
                             READ_CB, c_void_p]),
        "hub_read_buf": (c_int, [P(c_size_t), c_void_p, c_void_p, c_char_p, c_char_p,
                                 ctypes.c_uint64, c_size_t, P(hub_read_options)]),
        "hub_safetensors_info_remote": (c_int, [P(P(hub_safetensors_info)), c_void_p,
                                                c_char_p, c_char_p, P(hub_read_options),
                                                P(hub_header_options)]),
        "hub_gguf_info_remote": (c_int, [P(P(hub_gguf_info)), c_void_p, c_char_p,
                                         c_char_p, P(hub_read_options),
                                         P(hub_header_options)]),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
