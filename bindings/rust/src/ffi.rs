//! The C ABI of libhubfetch, and the only `unsafe` code of the crate.
//!
//! The public items are exact `#[repr(C)]` mirrors of `include/hubfetch.h`
//! (tests/abi.rs compiles the header and compares every offset); using them
//! directly needs `unsafe`. The crate-private items below them wrap each
//! library call once, with the ownership rules of the header:
//!
//! - `char *` the library returns is copied, then freed with `hub_free`;
//! - `hub_result *` is copied into a [`DownloadResult`], then freed;
//! - `hub_cache_info *` is copied into a [`CacheInfo`], then freed; or,
//!   for a deletion plan, owned with the plan by [`RawPlan`], which frees
//!   the plan first (it points into the scan);
//! - `hub_client *` is owned by [`RawClient`] (freed on drop, after which the
//!   log closure it points to is dropped);
//! - `hub_job *` is owned by [`RawJob`], which also owns the progress closure
//!   and a reference to the client: dropping it cancels, joins and frees the
//!   job before either goes away.
//! - Strings passed in option structs only need to live during the call (the
//!   library copies them); [`OwnedOptions`] keeps them for that long.

#![allow(non_camel_case_types)]

use std::any::Any;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_long, c_uint, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once};

use crate::read::ReadInfo;
use crate::remote::{Entry, EntryType, LastCommit, LfsInfo, WhoAmI};
use crate::weights::{
    GgufInfo, GgufTensor, GgufType, GgufValue, SafetensorsInfo, SafetensorsTensor,
};
use crate::{
    CacheInfo, CacheOp, CacheOpKind, CacheOpState, CacheVerification, CachedFile, CachedRepo,
    CachedRevision, DownloadResult, Error, FileInfo, FileStatus, LogLevel, Phase, Progress,
    RepoType, VerifyItem, VerifyStatus, VerifySummary,
};

// ---- the header, as is --------------------------------------------------------

pub const HUB_PROGRESS_VERSION: c_uint = 1;
pub const HUB_CLIENT_OPTIONS_VERSION: c_uint = 2;
pub const HUB_DOWNLOAD_OPTIONS_VERSION: c_uint = 2;
pub const HUB_CACHE_SCAN_OPTIONS_VERSION: c_uint = 1;
pub const HUB_CACHE_PRUNE_OPTIONS_VERSION: c_uint = 1;
pub const HUB_CACHE_SCAN_NO_FILES: c_uint = 1;
pub const HUB_CACHE_VERIFY_OPTIONS_VERSION: c_uint = 1;
pub const HUB_CACHE_VERIFY_REMOTE: c_uint = 1;
pub const HUB_CACHE_VERIFY_FAIL_ON_MISSING: c_uint = 2;
pub const HUB_AUTO: c_int = -1;
pub const HUB_CLIENT_IGNORE_ENV: c_uint = 0x1;
pub const HUB_LIST_OPTIONS_VERSION: c_uint = 1;
pub const HUB_HEADER_OPTIONS_VERSION: c_uint = 1;
pub const HUB_READ_OPTIONS_VERSION: c_uint = 1;
pub const HUB_READ_VERIFY: c_uint = 0x1;
pub const HUB_READ_NO_CACHE: c_uint = 0x2;
pub const HUB_LIST_DONE: c_int = 1;
pub const HUB_ENTRY_FILE: hub_enum = 0;
pub const HUB_ENTRY_DIRECTORY: hub_enum = 1;
/// The oldest library (HUB_VERSION_NUM) this crate can drive: 0.4.0, the
/// first with the cache management API (its cache structs are the only
/// ones ever released).
pub const MIN_LIBRARY_VERSION: c_int = 400;

/// `enum hub_phase`, `hub_repo_type`, `hub_file_status` are C enums: `int`.
pub type hub_enum = c_int;

#[repr(C)]
pub struct hub_error_info {
    pub code: c_int,
    pub http_status: c_long,
    pub message: *const c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct hub_progress {
    pub version: c_uint,
    pub phase: hub_enum,
    pub file: *const c_char,
    pub file_index: usize,
    pub file_count: usize,
    pub file_bytes_done: u64,
    pub file_bytes_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_done: usize,
    pub rate: f64,
    pub eta: f64,
    pub endpoint: *const c_char,
    pub final_: c_int,
}

pub type hub_log_cb = Option<unsafe extern "C" fn(c_int, *const c_char, *mut c_void)>;
pub type hub_progress_cb = Option<unsafe extern "C" fn(*const hub_progress, *mut c_void) -> c_int>;

#[repr(C)]
pub struct hub_client_options {
    pub version: c_uint,
    pub flags: c_uint,
    pub endpoint: *const c_char,
    pub token: *const c_char,
    pub cache_dir: *const c_char,
    pub offline: c_int,
    pub symlinks: c_int,
    pub user_agent: *const c_char,
    pub max_files: c_int,
    pub connections: c_int,
    pub max_connections: c_int,
    pub max_rate: u64,
    pub split_threshold: u64,
    pub part_size: u64,
    pub connect_timeout_ms: c_long,
    pub stall_timeout_ms: c_long,
    pub max_retries: c_int,
    pub lock_timeout_ms: c_long,
    pub log_cb: hub_log_cb,
    pub log_payload: *mut c_void,
    pub log_level: c_int,
    pub proxy: *const c_char,
    pub no_proxy: *const c_char,
    pub fallback_endpoints: *const *const c_char,
    pub fallback_count: usize,
    pub ca_bundle: *const c_char,
    pub hub: hub_enum, // enum hub_kind
    /// Since version 2.
    pub send_token_to_mirrors: c_int,
}

#[repr(C)]
pub struct hub_download_options {
    pub version: c_uint,
    pub repo_type: hub_enum,
    pub revision: *const c_char,
    pub allow_patterns: *const *const c_char,
    pub allow_count: usize,
    pub ignore_patterns: *const *const c_char,
    pub ignore_count: usize,
    pub files: *const *const c_char,
    pub file_count: usize,
    pub local_dir: *const c_char,
    pub local_files_only: c_int,
    pub force_download: c_int,
    pub dry_run: c_int,
    pub progress_cb: hub_progress_cb,
    pub progress_payload: *mut c_void,
    /// Since version 2.
    pub prefer_offline: c_int,
}

#[repr(C)]
pub struct hub_file_info {
    pub path: *const c_char,
    pub local_path: *const c_char,
    pub size: u64,
    pub etag: *const c_char,
    pub status: hub_enum,
    pub endpoint: *const c_char,
    pub bytes_fetched: u64,
}

#[repr(C)]
pub struct hub_cache_scan_options {
    pub version: c_uint,
    pub flags: c_uint,
}

/// Read only through pointers the library hands out: a newer library
/// appending fields is harmless, but a field appended here must only be
/// read from a library (version) known to have it.
#[repr(C)]
pub struct hub_cache_file {
    pub file_name: *const c_char,
    pub file_path: *const c_char,
    pub blob_path: *const c_char,
    pub blob_name: *const c_char,
    pub size_on_disk: u64,
    pub blob_last_accessed: i64,
    pub blob_last_modified: i64,
}

#[repr(C)]
pub struct hub_cache_revision {
    pub commit_hash: *const c_char,
    pub snapshot_path: *const c_char,
    pub refs: *const *const c_char,
    pub ref_count: usize,
    pub size_on_disk: u64,
    pub nb_files: u64,
    pub last_modified: i64,
    pub files: *const *const hub_cache_file,
    pub file_count: usize,
    pub last_accessed: i64,
}

#[repr(C)]
pub struct hub_cache_repo {
    pub type_: hub_enum, // enum hub_repo_type
    pub repo_id: *const c_char,
    pub repo_path: *const c_char,
    pub size_on_disk: u64,
    pub nb_files: u64,
    pub last_accessed: i64,
    pub last_modified: i64,
    pub refs: *const *const c_char,
    pub ref_count: usize,
    pub revisions: *const *const hub_cache_revision,
    pub revision_count: usize,
    pub warnings: *const *const c_char,
    pub warning_count: usize,
}

#[repr(C)]
pub struct hub_cache_op {
    pub kind: hub_enum,  // enum hub_cache_op_kind
    pub state: hub_enum, // enum hub_cache_op_state
    pub path: *const c_char,
    pub repo: *const hub_cache_repo,         // NULL for TRASH
    pub revision: *const hub_cache_revision, // REF, SNAPSHOT, FILE
    pub name: *const c_char,
    pub bytes: u64,
    pub message: *const c_char,
}

#[repr(C)]
pub struct hub_cache_prune_options {
    pub version: c_uint,
    pub flags: c_uint,
    pub older_than: i64,
    pub max_size: u64,
    pub partial_age: i64,
    pub now: i64,
}

#[repr(C)]
pub struct hub_cache_verify_item {
    pub status: hub_enum,    // enum hub_verify_status
    pub repo_type: hub_enum, // enum hub_repo_type
    pub repo_id: *const c_char,
    pub commit: *const c_char,
    pub file: *const c_char,
    pub path: *const c_char,
    pub algorithm: *const c_char,
    pub expected: *const c_char,
    pub actual: *const c_char,
    pub message: *const c_char,
}

#[repr(C)]
pub struct hub_cache_verify_summary {
    pub repos: usize,
    pub revisions: usize,
    pub files: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub failed_files: u64,
    pub unverifiable: u64,
    pub missing: u64,
    pub extra: u64,
    pub defects: u64,
    pub seconds: f64,
    pub threads: c_int,
}

#[repr(C)]
pub struct hub_cache_verify_options {
    pub version: c_uint,
    pub flags: c_uint,
    pub targets: *const *const c_char,
    pub target_count: usize,
    pub local_dir: *const c_char,
    pub repo_id: *const c_char,
    pub repo_type: hub_enum,
    pub revision: *const c_char,
    pub threads: c_int,
    pub progress_cb: hub_progress_cb,
    pub progress_payload: *mut c_void,
}

/// One entry of hub_list_next() / hub_stat() (0.4).
#[repr(C)]
pub struct hub_entry {
    pub type_: hub_enum, // hub_entry_type
    pub path: *const c_char,
    pub size: u64,
    pub oid: *const c_char,
    pub lfs_sha256: *const c_char,
    pub lfs_size: u64,
    pub lfs_pointer_size: u64,
    pub xet_hash: *const c_char,
    pub last_commit_id: *const c_char,
    pub last_commit_title: *const c_char,
    pub last_commit_date: *const c_char,
}

#[repr(C)]
pub struct hub_list_options {
    pub version: c_uint,
    pub repo_type: hub_enum,
    pub revision: *const c_char,
    pub recursive: c_int,
    pub expand: c_int,
}

#[repr(C)]
pub struct hub_whoami_info {
    pub name: *const c_char,
    pub fullname: *const c_char,
    pub type_: *const c_char,
    pub orgs: *const *const c_char,
    pub org_count: usize,
    pub token_name: *const c_char,
    pub token_role: *const c_char,
}

#[repr(C)]
pub struct hub_header_options {
    pub version: c_uint,
    pub flags: c_uint,
    pub max_header_bytes: u64,
    pub max_array_values: u64,
}

#[repr(C)]
pub struct hub_safetensors_tensor {
    pub name: *const c_char,
    pub dtype: *const c_char,
    pub shape: *const u64,
    pub ndim: usize,
    pub offset_begin: u64,
    pub offset_end: u64,
    pub parameters: u64,
    pub file: *const c_char,
}

#[repr(C)]
pub struct hub_dtype_count {
    pub dtype: *const c_char,
    pub parameters: u64,
}

#[repr(C)]
pub struct hub_safetensors_info {
    pub tensors: *const hub_safetensors_tensor,
    pub tensor_count: usize,
    pub dtypes: *const hub_dtype_count,
    pub dtype_count: usize,
    pub parameter_total: u64,
    pub metadata_keys: *const *const c_char,
    pub metadata_values: *const *const c_char,
    pub metadata_count: usize,
    pub header_size: u64,
    pub data_offset: u64,
    pub data_size: u64,
    pub sharded: c_int,
    pub shards: *const *const c_char,
    pub shard_count: usize,
    pub total_size: u64,
}

#[repr(C)]
pub struct hub_gguf_value {
    pub type_: hub_enum, // hub_gguf_type
    pub u: u64,
    pub i: i64,
    pub f: f64,
    pub str_: *const c_char,
    pub len: usize,
    pub elem_type: hub_enum,
    pub count: u64,
    pub kept: c_int,
    pub data: *const c_void,
    pub strings: *const *const c_char,
    pub lengths: *const usize,
    pub items: *const hub_gguf_value,
}

#[repr(C)]
pub struct hub_gguf_kv {
    pub key: *const c_char,
    pub value: hub_gguf_value,
}

#[repr(C)]
pub struct hub_gguf_tensor {
    pub name: *const c_char,
    pub n_dims: u32,
    pub dims: *const u64,
    pub type_: u32,
    pub type_name: *const c_char,
    pub offset: u64,
    pub parameters: u64,
}

#[repr(C)]
pub struct hub_gguf_info {
    pub version: u32,
    pub big_endian: c_int,
    pub tensor_count: u64,
    pub kv_count: u64,
    pub kvs: *const hub_gguf_kv,
    pub tensors: *const hub_gguf_tensor,
    pub alignment: u32,
    pub header_size: u64,
    pub data_offset: u64,
    pub parameters: u64,
    pub architecture: *const c_char,
    pub name: *const c_char,
    pub file_type: i64,
    pub file_type_name: *const c_char,
    pub context_length: u64,
    pub embedding_length: u64,
    pub block_count: u64,
}

/// Opaque handles.
// Remote reads (0.4)
#[repr(C)]
pub struct hub_read_options {
    pub version: c_uint,
    pub repo_type: hub_enum,
    pub revision: *const c_char,
    pub flags: c_uint,
}

/// Filled in the caller's memory; its layout is fixed (a later version
/// adds another struct).
#[repr(C)]
pub struct hub_read_info {
    pub size: u64,
    pub etag: [c_char; 65],
    pub commit: [c_char; 41],
    pub from_cache: c_int,
    pub bytes_fetched: u64,
    pub bytes_read: u64,
}

pub type hub_read_cb =
    Option<unsafe extern "C" fn(data: *const c_void, len: usize, payload: *mut c_void) -> c_int>;

#[repr(C)]
pub struct hub_list {
    _private: [u8; 0],
}
#[repr(C)]
pub struct hub_client {
    _private: [u8; 0],
}
#[repr(C)]
pub struct hub_result {
    _private: [u8; 0],
}
#[repr(C)]
pub struct hub_job {
    _private: [u8; 0],
}
#[repr(C)]
pub struct hub_cache_info {
    _private: [u8; 0],
}
#[repr(C)]
pub struct hub_cache_plan {
    _private: [u8; 0],
}
#[repr(C)]
pub struct hub_cache_verify_result {
    _private: [u8; 0],
}

extern "C" {
    pub fn hub_error_last() -> *const hub_error_info;
    pub fn hub_strerror(code: c_int) -> *const c_char;
    pub fn hub_error_name(code: c_int) -> *const c_char;
    pub fn hub_version() -> *const c_char;
    pub fn hub_version_num() -> c_int;
    pub fn hub_global_init() -> c_int;
    pub fn hub_global_cleanup();
    pub fn hub_free(ptr: *mut c_void);

    pub fn hub_client_options_init(opts: *mut hub_client_options, version: c_uint) -> c_int;
    pub fn hub_client_new(out: *mut *mut hub_client, opts: *const hub_client_options) -> c_int;
    pub fn hub_client_free(client: *mut hub_client);
    pub fn hub_client_cache_dir(client: *const hub_client) -> *const c_char;
    pub fn hub_client_endpoint(client: *const hub_client) -> *const c_char;

    pub fn hub_download_options_init(opts: *mut hub_download_options, version: c_uint) -> c_int;
    pub fn hub_result_path(result: *const hub_result) -> *const c_char;
    pub fn hub_result_commit(result: *const hub_result) -> *const c_char;
    pub fn hub_result_file_count(result: *const hub_result) -> usize;
    pub fn hub_result_file(result: *const hub_result, index: usize) -> *const hub_file_info;
    pub fn hub_result_free(result: *mut hub_result);

    pub fn hub_download_file(
        path_out: *mut *mut c_char,
        client: *mut hub_client,
        repo_id: *const c_char,
        filename: *const c_char,
        opts: *const hub_download_options,
    ) -> c_int;
    pub fn hub_snapshot_download(
        path_out: *mut *mut c_char,
        client: *mut hub_client,
        repo_id: *const c_char,
        opts: *const hub_download_options,
    ) -> c_int;
    pub fn hub_download(
        out: *mut *mut hub_result,
        client: *mut hub_client,
        repo_id: *const c_char,
        opts: *const hub_download_options,
    ) -> c_int;
    pub fn hub_cache_lookup(
        out: *mut *mut hub_result,
        client: *mut hub_client,
        repo_id: *const c_char,
        opts: *const hub_download_options,
    ) -> c_int;

    pub fn hub_job_start(
        out: *mut *mut hub_job,
        client: *mut hub_client,
        repo_id: *const c_char,
        opts: *const hub_download_options,
    ) -> c_int;
    pub fn hub_job_poll(job: *mut hub_job, out: *mut hub_progress);
    pub fn hub_job_cancel(job: *mut hub_job);
    pub fn hub_client_cancel(client: *mut hub_client);
    pub fn hub_job_done(job: *mut hub_job) -> c_int;
    pub fn hub_job_wait(job: *mut hub_job, timeout_ms: c_long, out: *mut *mut hub_result) -> c_int;
    pub fn hub_job_free(job: *mut hub_job);

    pub fn hub_cache_scan(
        out: *mut *mut hub_cache_info,
        client: *mut hub_client,
        opts: *const hub_cache_scan_options,
    ) -> c_int;
    pub fn hub_cache_info_dir(info: *const hub_cache_info) -> *const c_char;
    pub fn hub_cache_info_repo_count(info: *const hub_cache_info) -> usize;
    pub fn hub_cache_info_repo(info: *const hub_cache_info, index: usize) -> *const hub_cache_repo;
    pub fn hub_cache_info_size_on_disk(info: *const hub_cache_info) -> u64;
    pub fn hub_cache_info_revisions_size(
        info: *const hub_cache_info,
        revisions: *const *const hub_cache_revision,
        count: usize,
    ) -> u64;
    pub fn hub_cache_info_warning_count(info: *const hub_cache_info) -> usize;
    pub fn hub_cache_info_warning(info: *const hub_cache_info, index: usize) -> *const c_char;
    pub fn hub_cache_info_free(info: *mut hub_cache_info);

    pub fn hub_cache_plan_delete(
        out: *mut *mut hub_cache_plan,
        info: *const hub_cache_info,
        targets: *const *const c_char,
        count: usize,
    ) -> c_int;
    pub fn hub_cache_plan_prune(
        out: *mut *mut hub_cache_plan,
        info: *const hub_cache_info,
        opts: *const hub_cache_prune_options,
    ) -> c_int;
    pub fn hub_cache_plan_op_count(plan: *const hub_cache_plan) -> usize;
    pub fn hub_cache_plan_op(plan: *const hub_cache_plan, index: usize) -> *const hub_cache_op;
    pub fn hub_cache_plan_bytes(plan: *const hub_cache_plan) -> u64;
    pub fn hub_cache_plan_freed(plan: *const hub_cache_plan) -> u64;
    pub fn hub_cache_plan_unmatched_count(plan: *const hub_cache_plan) -> usize;
    pub fn hub_cache_plan_unmatched(plan: *const hub_cache_plan, index: usize) -> *const c_char;
    pub fn hub_cache_execute(plan: *mut hub_cache_plan, client: *mut hub_client) -> c_int;
    pub fn hub_cache_plan_free(plan: *mut hub_cache_plan);

    pub fn hub_cache_verify(
        out: *mut *mut hub_cache_verify_result,
        client: *mut hub_client,
        opts: *const hub_cache_verify_options,
    ) -> c_int;
    pub fn hub_cache_verify_options_init(
        opts: *mut hub_cache_verify_options,
        version: c_uint,
    ) -> c_int;
    pub fn hub_cache_verify_result_summary(
        result: *const hub_cache_verify_result,
    ) -> *const hub_cache_verify_summary;
    pub fn hub_cache_verify_result_count(result: *const hub_cache_verify_result) -> usize;
    pub fn hub_cache_verify_result_item(
        result: *const hub_cache_verify_result,
        index: usize,
    ) -> *const hub_cache_verify_item;
    pub fn hub_cache_verify_item_failed(
        result: *const hub_cache_verify_result,
        item: *const hub_cache_verify_item,
    ) -> c_int;
    pub fn hub_cache_verify_result_free(result: *mut hub_cache_verify_result);

    pub fn hub_list_options_init(opts: *mut hub_list_options, version: c_uint) -> c_int;
    pub fn hub_list_open(
        out: *mut *mut hub_list,
        client: *mut hub_client,
        repo_id: *const c_char,
        path: *const c_char,
        opts: *const hub_list_options,
    ) -> c_int;
    pub fn hub_list_next(it: *mut hub_list, entry: *mut *const hub_entry) -> c_int;
    pub fn hub_list_endpoint(it: *const hub_list) -> *const c_char;
    pub fn hub_list_free(it: *mut hub_list);
    pub fn hub_stat(
        out: *mut *mut hub_entry,
        client: *mut hub_client,
        repo_id: *const c_char,
        path: *const c_char,
        opts: *const hub_list_options,
    ) -> c_int;
    pub fn hub_entry_free(entry: *mut hub_entry);

    pub fn hub_whoami(out: *mut *mut hub_whoami_info, client: *mut hub_client) -> c_int;
    pub fn hub_whoami_info_free(info: *mut hub_whoami_info);
    pub fn hub_token_path(out: *mut *mut c_char) -> c_int;
    pub fn hub_token_save(token: *const c_char, name: *const c_char) -> c_int;
    pub fn hub_token_remove(removed: *mut c_int) -> c_int;

    pub fn hub_header_options_init(opts: *mut hub_header_options, version: c_uint) -> c_int;
    pub fn hub_safetensors_info_file(
        out: *mut *mut hub_safetensors_info,
        path: *const c_char,
        opts: *const hub_header_options,
    ) -> c_int;
    pub fn hub_safetensors_info_free(info: *mut hub_safetensors_info);
    pub fn hub_gguf_info_file(
        out: *mut *mut hub_gguf_info,
        path: *const c_char,
        opts: *const hub_header_options,
    ) -> c_int;
    pub fn hub_gguf_info_get(info: *const hub_gguf_info, key: *const c_char) -> *const hub_gguf_kv;
    pub fn hub_ggml_type_name(type_: u32) -> *const c_char;
    pub fn hub_gguf_info_free(info: *mut hub_gguf_info);

    pub fn hub_read_options_init(opts: *mut hub_read_options, version: c_uint) -> c_int;
    pub fn hub_read(
        info: *mut hub_read_info,
        client: *mut hub_client,
        repo_id: *const c_char,
        path: *const c_char,
        offset: u64,
        length: u64,
        opts: *const hub_read_options,
        on_data: hub_read_cb,
        payload: *mut c_void,
    ) -> c_int;
    pub fn hub_read_buf(
        got: *mut usize,
        buf: *mut c_void,
        client: *mut hub_client,
        repo_id: *const c_char,
        path: *const c_char,
        offset: u64,
        length: usize,
        opts: *const hub_read_options,
    ) -> c_int;
    pub fn hub_safetensors_info_remote(
        out: *mut *mut hub_safetensors_info,
        client: *mut hub_client,
        repo_id: *const c_char,
        path: *const c_char,
        ropts: *const hub_read_options,
        hopts: *const hub_header_options,
    ) -> c_int;
    pub fn hub_gguf_info_remote(
        out: *mut *mut hub_gguf_info,
        client: *mut hub_client,
        repo_id: *const c_char,
        path: *const c_char,
        ropts: *const hub_read_options,
        hopts: *const hub_header_options,
    ) -> c_int;
}

pub const HUB_OK: c_int = 0;
pub const HUB_ENOTCACHED: c_int = -11;
pub const HUB_ETIMEOUT: c_int = -14;
pub const HUB_ECHECKSUM: c_int = -19;

// ---- crate-private safe wrappers ------------------------------------------------

/// Borrow a C string the library owns, for as long as the caller knows it
/// to be valid (`'a` is chosen by the caller: one callback, one result).
fn text<'a>(p: *const c_char) -> Option<&'a CStr> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-null strings from the library are NUL-terminated and
        // valid for the documented period, which every caller stays within.
        Some(unsafe { CStr::from_ptr(p) })
    }
}

/// Called once before the first client. Its count is never dropped: the
/// library is reference counted and the process exit releases everything.
pub(crate) fn global_init() -> Result<(), Error> {
    static ONCE: Once = Once::new();
    static RC: AtomicI32 = AtomicI32::new(0);
    ONCE.call_once(|| {
        // SAFETY: plain calls without arguments.
        let rc = unsafe {
            if hub_version_num() < MIN_LIBRARY_VERSION {
                -4
            } else {
                hub_global_init()
            }
        };
        RC.store(rc, Ordering::SeqCst);
    });
    match RC.load(Ordering::SeqCst) {
        0 => Ok(()),
        code => Err(Error::new(
            code,
            0,
            format!("libhubfetch {} cannot be used", version()),
        )),
    }
}

pub(crate) fn version() -> String {
    // SAFETY: a static string.
    text(unsafe { hub_version() })
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) fn error_name(code: c_int) -> String {
    // SAFETY: returns a static string for any code.
    text(unsafe { hub_error_name(code) })
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The error the last failed call raised on this thread; must be called
/// before any other library call on this thread.
fn last_error() -> Error {
    // SAFETY: never NULL; valid until the next library call on this thread,
    // and everything is copied out before that.
    let info = unsafe { &*hub_error_last() };
    let message = text(info.message)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    #[allow(clippy::unnecessary_cast)] // c_long is i32 on some targets
    Error::new(info.code, info.http_status as i64, message)
}

/// A NUL-free copy of a string option, or an InvalidArgument error naming it.
pub(crate) fn cstring(what: &str, bytes: Vec<u8>) -> Result<CString, Error> {
    CString::new(bytes).map_err(|_| Error::invalid(format!("{what} contains a NUL byte")))
}

#[cfg(unix)]
pub(crate) fn path_bytes(p: &std::path::Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn to_path(s: &CStr) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    std::path::PathBuf::from(std::ffi::OsStr::from_bytes(s.to_bytes()))
}

fn ptr_or_null(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

/// A list of C strings and the pointer array the library reads.
#[derive(Default)]
pub(crate) struct CStrList {
    _items: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrList {
    pub(crate) fn new(items: Vec<CString>) -> Self {
        let ptrs = items.iter().map(|s| s.as_ptr()).collect();
        CStrList {
            _items: items,
            ptrs,
        }
    }
    /// (pointer, count); NULL when empty, as the header's defaults are.
    fn raw(&self) -> (*const *const c_char, usize) {
        if self.ptrs.is_empty() {
            (ptr::null(), 0)
        } else {
            (self.ptrs.as_ptr(), self.ptrs.len())
        }
    }
}

/// Every client option, already converted to C strings.
#[derive(Default)]
pub(crate) struct ClientConfig {
    pub ignore_env: bool,
    pub endpoint: Option<CString>,
    pub token: Option<CString>,
    pub cache_dir: Option<CString>,
    pub offline: Option<bool>,
    pub symlinks: Option<bool>,
    pub user_agent: Option<CString>,
    pub max_files: i32,
    pub connections: i32,
    pub max_connections: i32,
    pub max_rate: u64,
    pub split_threshold: u64,
    pub part_size: u64,
    pub connect_timeout_ms: i64,
    pub stall_timeout_ms: i64,
    pub max_retries: Option<i32>,
    pub lock_timeout_ms: i64,
    pub proxy: Option<CString>,
    pub no_proxy: Option<CString>,
    pub fallback_endpoints: CStrList,
    pub ca_bundle: Option<CString>,
    pub hub: i32,
    pub send_token_to_mirrors: bool,
    pub log: Option<(LogLevel, LogFn)>,
}

pub(crate) type LogFn = Box<dyn Fn(LogLevel, &str) + Send + Sync>;

/// The C log callback: `payload` is the `LogFn` boxed in [`RawClient`].
unsafe extern "C" fn log_trampoline(level: c_int, msg: *const c_char, payload: *mut c_void) {
    // SAFETY: payload is the address of the LogFn owned by the RawClient,
    // which outlives every call the library makes with it.
    let f = &*(payload as *const LogFn);
    let msg = text(msg).map(|s| s.to_string_lossy()).unwrap_or_default();
    // a panic must not unwind into C; there is nowhere to report it
    let _ = catch_unwind(AssertUnwindSafe(|| f(LogLevel::from_raw(level), &msg)));
}

/// An owned `hub_client *`.
pub(crate) struct RawClient {
    ptr: *mut hub_client,
    // boxed twice so that the payload is a thin, stable pointer
    _log: Option<Box<LogFn>>,
}

// SAFETY: the library arbitrates concurrent use of a client itself (an
// atomic busy flag: a second concurrent call fails with HUB_EBUSY), and a
// job uses its client from its own thread by design. The log closure is
// Send + Sync.
unsafe impl Send for RawClient {}
unsafe impl Sync for RawClient {}

impl RawClient {
    pub(crate) fn new(cfg: ClientConfig) -> Result<RawClient, Error> {
        global_init()?;
        // SAFETY: a zeroed struct is a valid target for the init function
        // (all fields are integers, floats, nullable pointers).
        let mut o: hub_client_options = unsafe { std::mem::zeroed() };
        // SAFETY: o is a live, properly sized struct.
        if unsafe { hub_client_options_init(&mut o, HUB_CLIENT_OPTIONS_VERSION) } != HUB_OK {
            return Err(last_error());
        }
        o.flags = if cfg.ignore_env {
            HUB_CLIENT_IGNORE_ENV
        } else {
            0
        };
        o.endpoint = ptr_or_null(&cfg.endpoint);
        o.token = ptr_or_null(&cfg.token);
        o.cache_dir = ptr_or_null(&cfg.cache_dir);
        o.offline = cfg.offline.map_or(HUB_AUTO, |b| b as c_int);
        o.symlinks = cfg.symlinks.map_or(HUB_AUTO, |b| b as c_int);
        o.user_agent = ptr_or_null(&cfg.user_agent);
        o.max_files = cfg.max_files;
        o.connections = cfg.connections;
        o.max_connections = cfg.max_connections;
        o.max_rate = cfg.max_rate;
        o.split_threshold = cfg.split_threshold;
        o.part_size = cfg.part_size;
        o.connect_timeout_ms = cfg.connect_timeout_ms as c_long;
        o.stall_timeout_ms = cfg.stall_timeout_ms as c_long;
        o.max_retries = cfg.max_retries.unwrap_or(HUB_AUTO);
        o.lock_timeout_ms = cfg.lock_timeout_ms as c_long;
        o.proxy = ptr_or_null(&cfg.proxy);
        o.no_proxy = ptr_or_null(&cfg.no_proxy);
        let (list, count) = cfg.fallback_endpoints.raw();
        o.fallback_endpoints = list;
        o.fallback_count = count;
        o.ca_bundle = ptr_or_null(&cfg.ca_bundle);
        o.hub = cfg.hub;
        o.send_token_to_mirrors = cfg.send_token_to_mirrors as c_int;
        let log = cfg.log.map(|(level, f)| {
            o.log_level = level as c_int;
            Box::new(f)
        });
        if let Some(f) = &log {
            o.log_cb = Some(log_trampoline);
            o.log_payload = &**f as *const LogFn as *mut c_void;
        }
        let mut ptr = ptr::null_mut();
        // SAFETY: every pointer in o is NULL or points into cfg / log, alive
        // for the call; the library copies what it keeps (not the log
        // closure, which lives in the returned RawClient).
        if unsafe { hub_client_new(&mut ptr, &o) } != HUB_OK {
            return Err(last_error());
        }
        Ok(RawClient { ptr, _log: log })
    }

    pub(crate) fn cache_dir(&self) -> std::path::PathBuf {
        // SAFETY: valid until hub_client_free, i.e. for &self; copied.
        text(unsafe { hub_client_cache_dir(self.ptr) })
            .map(to_path)
            .unwrap_or_default()
    }

    pub(crate) fn cancel(&self) {
        // SAFETY: the pointer is valid for &self; hub_client_cancel only
        // sets an atomic flag and may be called from any thread.
        unsafe { hub_client_cancel(self.ptr) }
    }

    pub(crate) fn endpoint(&self) -> String {
        // SAFETY: as cache_dir().
        text(unsafe { hub_client_endpoint(self.ptr) })
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

impl Drop for RawClient {
    fn drop(&mut self) {
        // SAFETY: we own the pointer; no job runs on it (a RawJob holds an
        // Arc of its client, so the client is dropped after every job).
        unsafe { hub_client_free(self.ptr) };
    }
}

/// Download options converted to C; borrowed by the library for one call.
pub(crate) struct OwnedOptions {
    pub repo_type: c_int,
    pub revision: Option<CString>,
    pub allow: CStrList,
    pub ignore: CStrList,
    pub files: CStrList,
    pub local_dir: Option<CString>,
    pub local_files_only: bool,
    pub force_download: bool,
    pub dry_run: bool,
    pub prefer_offline: bool,
}

impl OwnedOptions {
    /// The C struct; its pointers borrow from self (and `payload`).
    fn raw(
        &self,
        cb: hub_progress_cb,
        payload: *mut c_void,
    ) -> Result<hub_download_options, Error> {
        // SAFETY: zeroed is valid for the struct (see RawClient::new).
        let mut o: hub_download_options = unsafe { std::mem::zeroed() };
        // SAFETY: o is a live, properly sized struct.
        if unsafe { hub_download_options_init(&mut o, HUB_DOWNLOAD_OPTIONS_VERSION) } != HUB_OK {
            return Err(last_error());
        }
        o.repo_type = self.repo_type;
        o.revision = ptr_or_null(&self.revision);
        let (p, n) = self.allow.raw();
        o.allow_patterns = p;
        o.allow_count = n;
        let (p, n) = self.ignore.raw();
        o.ignore_patterns = p;
        o.ignore_count = n;
        let (p, n) = self.files.raw();
        o.files = p;
        o.file_count = n;
        o.local_dir = ptr_or_null(&self.local_dir);
        o.local_files_only = self.local_files_only as c_int;
        o.force_download = self.force_download as c_int;
        o.dry_run = self.dry_run as c_int;
        o.prefer_offline = self.prefer_offline as c_int;
        o.progress_cb = cb;
        o.progress_payload = payload;
        Ok(o)
    }
}

impl<'a> Progress<'a> {
    /// Borrow an event; `'a` is the callback (or the poll) it came from.
    fn from_raw(p: &hub_progress) -> Progress<'a> {
        let known = |n: u64| if n == u64::MAX { None } else { Some(n) };
        Progress {
            phase: Phase::from_raw(p.phase),
            file: text(p.file).map(|s| s.to_string_lossy()),
            file_index: p.file_index,
            file_count: p.file_count,
            file_bytes_done: p.file_bytes_done,
            file_bytes_total: known(p.file_bytes_total),
            bytes_done: p.bytes_done,
            bytes_total: known(p.bytes_total),
            files_done: p.files_done,
            rate: p.rate,
            eta: if p.eta < 0.0 { None } else { Some(p.eta) },
            endpoint: text(p.endpoint).map(|s| s.to_string_lossy()),
            is_final: p.final_ != 0,
        }
    }
}

pub(crate) type ProgressFn<'a> = dyn FnMut(&Progress<'_>) -> bool + Send + 'a;

/// What the progress trampoline's payload points to.
struct ProgressState<'f, 'a> {
    f: &'f mut ProgressFn<'a>,
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn progress_trampoline(p: *const hub_progress, payload: *mut c_void) -> c_int {
    // SAFETY: payload is the ProgressState of the call running on this
    // thread (blocking calls), or the one the RawJob owns (jobs: called on
    // the job's thread only, never concurrently); p is valid for the call.
    let state = &mut *(payload as *mut ProgressState);
    if state.panic.is_some() {
        return 1;
    }
    let ev = Progress::from_raw(&*p);
    // A panic must not unwind through C: catch it, cancel the download, and
    // resume it once the C call returned.
    match catch_unwind(AssertUnwindSafe(|| (state.f)(&ev))) {
        Ok(cancel) => cancel as c_int,
        Err(panic) => {
            state.panic = Some(panic);
            1
        }
    }
}

pub(crate) enum Call<'c> {
    File(&'c CStr),
    Snapshot,
    Download,
    Lookup,
}

pub(crate) enum Output {
    Path(std::path::PathBuf),
    Result(DownloadResult),
}

/// One blocking call. The progress closure, if any, runs on this thread;
/// its panic is resumed here after the library returned.
pub(crate) fn call(
    client: &RawClient,
    what: Call,
    repo: &CStr,
    opts: &OwnedOptions,
    progress: Option<&mut ProgressFn>,
) -> Result<Output, Error> {
    let mut state = progress.map(|f| ProgressState { f, panic: None });
    let (cb, payload): (hub_progress_cb, *mut c_void) = match &mut state {
        Some(s) => (
            Some(progress_trampoline),
            s as *mut ProgressState as *mut c_void,
        ),
        None => (None, ptr::null_mut()),
    };
    let o = opts.raw(cb, payload)?;
    let mut path: *mut c_char = ptr::null_mut();
    let mut result: *mut hub_result = ptr::null_mut();
    // SAFETY: o and everything it points to (opts, state) outlive the call;
    // the client pointer is owned by `client`.
    let rc = unsafe {
        match what {
            Call::File(f) => {
                hub_download_file(&mut path, client.ptr, repo.as_ptr(), f.as_ptr(), &o)
            }
            Call::Snapshot => hub_snapshot_download(&mut path, client.ptr, repo.as_ptr(), &o),
            Call::Download => hub_download(&mut result, client.ptr, repo.as_ptr(), &o),
            Call::Lookup => hub_cache_lookup(&mut result, client.ptr, repo.as_ptr(), &o),
        }
    };
    let error = if rc == HUB_OK {
        None
    } else {
        Some(last_error())
    };
    let out = if !path.is_null() {
        // SAFETY: a string the library allocated for us; copied, then freed.
        let p = to_path(unsafe { CStr::from_ptr(path) });
        unsafe { hub_free(path as *mut c_void) };
        Some(Output::Path(p))
    } else {
        take_result(result).map(Output::Result)
    };
    if let Some(panic) = state.and_then(|s| s.panic) {
        std::panic::resume_unwind(panic);
    }
    match (error, out) {
        (None, Some(out)) => Ok(out),
        // a lookup that found something missing still has a result
        (Some(e), Some(Output::Result(mut r))) if e.code() == HUB_ENOTCACHED => {
            r.complete = false;
            Ok(Output::Result(r))
        }
        (Some(e), _) => Err(e),
        (None, None) => Err(Error::new(-1, 0, "libhubfetch returned nothing".into())),
    }
}

/// Copy a hub_result and free it.
fn take_result(r: *mut hub_result) -> Option<DownloadResult> {
    if r.is_null() {
        return None;
    }
    let owned = |p: *const c_char| text(p).map(|s| s.to_string_lossy().into_owned());
    // SAFETY: r is a valid result we own until hub_result_free below; every
    // string is copied before that.
    unsafe {
        let files = (0..hub_result_file_count(r))
            .filter_map(|i| hub_result_file(r, i).as_ref())
            .map(|f| FileInfo {
                path: owned(f.path).unwrap_or_default(),
                local_path: text(f.local_path).map(to_path),
                size: if f.size == u64::MAX {
                    None
                } else {
                    Some(f.size)
                },
                etag: owned(f.etag),
                status: FileStatus::from_raw(f.status),
                endpoint: owned(f.endpoint),
                bytes_fetched: f.bytes_fetched,
            })
            .collect();
        let out = DownloadResult {
            path: text(hub_result_path(r))
                .map(to_path)
                .filter(|p| !p.as_os_str().is_empty()),
            commit: owned(hub_result_commit(r)),
            files,
            complete: true,
        };
        hub_result_free(r);
        Some(out)
    }
}

/// An owned `hub_cache_info *` (a scan result): freed when dropped, a
/// panic while copying included.
struct RawInfo(*mut hub_cache_info);

impl Drop for RawInfo {
    fn drop(&mut self) {
        // SAFETY: the result hub_cache_scan gave us; freed once, here, and
        // after every plan pointing into it (see RawPlan).
        unsafe { hub_cache_info_free(self.0) }
    }
}

/// `hub_cache_scan` of the client's cache, with files.
fn scan(client: &RawClient) -> Result<RawInfo, Error> {
    let opts = hub_cache_scan_options {
        version: HUB_CACHE_SCAN_OPTIONS_VERSION,
        flags: 0,
    };
    let mut ptr = ptr::null_mut();
    // SAFETY: a live client and options; ptr receives a result we own.
    if unsafe { hub_cache_scan(&mut ptr, client.ptr, &opts) } != HUB_OK {
        return Err(last_error());
    }
    Ok(RawInfo(ptr))
}

/// `count` C strings of `arr`, copied (lossy UTF-8).
///
/// SAFETY: `arr` points to `count` valid NUL-terminated strings (or count
/// is 0), alive for the call.
unsafe fn strings(arr: *const *const c_char, count: usize) -> Vec<String> {
    if arr.is_null() {
        return Vec::new();
    }
    std::slice::from_raw_parts(arr, count)
        .iter()
        .filter_map(|&p| text(p))
        .map(|s| s.to_string_lossy().into_owned())
        .collect()
}

/// `count` records of a C array of pointers, as references.
///
/// SAFETY: `arr` points to `count` pointers (or is NULL), each NULL or
/// valid for `'a`.
unsafe fn records<'a, T: 'a>(arr: *const *const T, count: usize) -> impl Iterator<Item = &'a T> {
    let slice: &[*const T] = if arr.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(arr, count)
    };
    slice.iter().filter_map(|&p| p.as_ref())
}

fn owned(p: *const c_char) -> String {
    text(p)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn opt_owned(p: *const c_char) -> Option<String> {
    text(p).map(|s| s.to_string_lossy().into_owned())
}

fn path(p: *const c_char) -> std::path::PathBuf {
    text(p).map(to_path).unwrap_or_default()
}

fn repo_type(r: &hub_cache_repo) -> Result<RepoType, Error> {
    RepoType::from_raw(r.type_).ok_or_else(|| {
        Error::new(
            crate::ErrorKind::Unsupported.code(),
            0,
            format!(
                "{}: repository type {} of libhubfetch {} is unknown to this crate",
                owned(r.repo_path),
                r.type_,
                version()
            ),
        )
    })
}

/// Copy a scan result into owned values.
fn copy_info(info: &RawInfo) -> Result<CacheInfo, Error> {
    // SAFETY: everything read below belongs to `info`, alive for the
    // borrow; all of it is copied.
    unsafe {
        let i = info.0;
        let mut repos = Vec::new();
        for n in 0..hub_cache_info_repo_count(i) {
            let r = match hub_cache_info_repo(i, n).as_ref() {
                Some(r) => r,
                None => continue,
            };
            let revisions = records(r.revisions, r.revision_count)
                .map(|v| CachedRevision {
                    commit_hash: owned(v.commit_hash),
                    snapshot_path: path(v.snapshot_path),
                    refs: strings(v.refs, v.ref_count),
                    size_on_disk: v.size_on_disk,
                    nb_files: v.nb_files,
                    last_modified: v.last_modified,
                    last_accessed: v.last_accessed,
                    files: records(v.files, v.file_count)
                        .map(|f| CachedFile {
                            file_name: owned(f.file_name),
                            file_path: path(f.file_path),
                            blob_path: path(f.blob_path),
                            blob_name: opt_owned(f.blob_name),
                            size_on_disk: f.size_on_disk,
                            blob_last_accessed: f.blob_last_accessed,
                            blob_last_modified: f.blob_last_modified,
                        })
                        .collect(),
                })
                .collect();
            repos.push(CachedRepo {
                repo_id: owned(r.repo_id),
                repo_type: repo_type(r)?,
                repo_path: path(r.repo_path),
                size_on_disk: r.size_on_disk,
                nb_files: r.nb_files,
                last_accessed: r.last_accessed,
                last_modified: r.last_modified,
                refs: strings(r.refs, r.ref_count),
                revisions,
                warnings: strings(r.warnings, r.warning_count),
            });
        }
        let warnings = (0..hub_cache_info_warning_count(i))
            .filter_map(|n| text(hub_cache_info_warning(i, n)))
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        Ok(CacheInfo {
            cache_dir: path(hub_cache_info_dir(i)),
            size_on_disk: hub_cache_info_size_on_disk(i),
            repos,
            warnings,
        })
    }
}

/// `hub_cache_scan` on the client's cache, copied into owned values; the C
/// result is freed before this returns.
pub(crate) fn cache_scan(client: &RawClient) -> Result<CacheInfo, Error> {
    copy_info(&scan(client)?)
}

/// An owned deletion plan and the scan result it points into.
///
/// Drop frees the plan, then (as a field, after `Drop::drop`) the scan.
/// Both are plain heap memory of the library with no tie to a thread, so
/// the pair may move between threads (`Send`); it is not `Sync`:
/// `hub_cache_execute` writes the operations that the readers read.
pub(crate) struct RawPlan {
    plan: *mut hub_cache_plan,
    _info: RawInfo,
    client: Arc<RawClient>,
}

// SAFETY: see above; the client is Send + Sync.
unsafe impl Send for RawPlan {}

impl Drop for RawPlan {
    fn drop(&mut self) {
        // SAFETY: ours, freed once; the info it points into is freed after.
        unsafe { hub_cache_plan_free(self.plan) }
    }
}

/// Prune options, as `hub_cache_prune_options` takes them.
pub(crate) struct PruneRaw {
    pub older_than: i64,
    pub max_size: u64,
    pub partial_age: i64,
    pub now: i64,
}

impl RawPlan {
    /// Scan the client's cache and plan the deletion of `targets`.
    pub(crate) fn delete(client: Arc<RawClient>, targets: &[&str]) -> Result<RawPlan, Error> {
        let list = CStrList::new(
            targets
                .iter()
                .map(|t| cstring("target", t.as_bytes().to_vec()))
                .collect::<Result<_, _>>()?,
        );
        let info = scan(&client)?;
        let (p, n) = list.raw();
        let mut plan = ptr::null_mut();
        // SAFETY: a live scan result and `n` strings alive for the call.
        if unsafe { hub_cache_plan_delete(&mut plan, info.0, p, n) } != HUB_OK {
            return Err(last_error());
        }
        Ok(RawPlan {
            plan,
            _info: info,
            client,
        })
    }

    /// Scan the client's cache and plan a prune.
    pub(crate) fn prune(client: Arc<RawClient>, o: PruneRaw) -> Result<RawPlan, Error> {
        let opts = hub_cache_prune_options {
            version: HUB_CACHE_PRUNE_OPTIONS_VERSION,
            flags: 0,
            older_than: o.older_than,
            max_size: o.max_size,
            partial_age: o.partial_age,
            now: o.now,
        };
        let info = scan(&client)?;
        let mut plan = ptr::null_mut();
        // SAFETY: a live scan result and options.
        if unsafe { hub_cache_plan_prune(&mut plan, info.0, &opts) } != HUB_OK {
            return Err(last_error());
        }
        Ok(RawPlan {
            plan,
            _info: info,
            client,
        })
    }

    /// The operations, copied.
    pub(crate) fn operations(&self) -> Vec<CacheOp> {
        // SAFETY: the plan and the info its records point into are alive
        // for &self; everything is copied.
        unsafe {
            (0..hub_cache_plan_op_count(self.plan))
                .filter_map(|n| hub_cache_plan_op(self.plan, n).as_ref())
                .map(|o| {
                    let repo = o.repo.as_ref();
                    let rev = o.revision.as_ref();
                    CacheOp {
                        kind: CacheOpKind::from_raw(o.kind),
                        state: CacheOpState::from_raw(o.state),
                        path: path(o.path),
                        repo_id: repo.map(|r| owned(r.repo_id)),
                        repo_type: repo.and_then(|r| RepoType::from_raw(r.type_)),
                        commit_hash: rev.map(|v| owned(v.commit_hash)),
                        name: opt_owned(o.name),
                        bytes: o.bytes,
                        message: opt_owned(o.message),
                    }
                })
                .collect()
        }
    }

    pub(crate) fn bytes(&self) -> u64 {
        // SAFETY: a live plan.
        unsafe { hub_cache_plan_bytes(self.plan) }
    }

    pub(crate) fn freed(&self) -> u64 {
        // SAFETY: a live plan.
        unsafe { hub_cache_plan_freed(self.plan) }
    }

    pub(crate) fn unmatched(&self) -> Vec<String> {
        // SAFETY: a live plan; strings copied.
        unsafe {
            (0..hub_cache_plan_unmatched_count(self.plan))
                .map(|n| owned(hub_cache_plan_unmatched(self.plan, n)))
                .collect()
        }
    }

    /// `hub_cache_execute`, with the client as its cancel point.
    pub(crate) fn execute(&mut self) -> Result<(), Error> {
        // SAFETY: a live plan, &mut: no reader meanwhile; the client is
        // alive (Arc) and serialises its own use.
        if unsafe { hub_cache_execute(self.plan, self.client.ptr) } != HUB_OK {
            return Err(last_error());
        }
        Ok(())
    }
}

/// Verification options converted to C; borrowed by the library for one call.
pub(crate) struct VerifyRaw {
    pub flags: c_uint,
    pub targets: CStrList,
    pub local_dir: Option<CString>,
    pub repo_id: Option<CString>,
    pub repo_type: c_int,
    pub revision: Option<CString>,
    pub threads: c_int,
}

/// Frees a verification result when dropped.
struct VerifyGuard(*mut hub_cache_verify_result);

impl Drop for VerifyGuard {
    fn drop(&mut self) {
        // SAFETY: the result hub_cache_verify gave us (or NULL); freed once.
        unsafe { hub_cache_verify_result_free(self.0) }
    }
}

/// `hub_cache_verify`, blocking; the progress closure runs on this thread
/// and its panic is resumed here. ECHECKSUM (something failed) is a
/// result with `ok` false, not an error.
pub(crate) fn cache_verify(
    client: &RawClient,
    v: &VerifyRaw,
    progress: Option<&mut ProgressFn>,
) -> Result<CacheVerification, Error> {
    // SAFETY: zeroed is valid for the struct (integers, nullable pointers,
    // an Option of a function pointer).
    let mut o: hub_cache_verify_options = unsafe { std::mem::zeroed() };
    // SAFETY: o is a live, properly sized struct.
    if unsafe { hub_cache_verify_options_init(&mut o, HUB_CACHE_VERIFY_OPTIONS_VERSION) } != HUB_OK
    {
        return Err(last_error());
    }
    let mut state = progress.map(|f| ProgressState { f, panic: None });
    if let Some(s) = &mut state {
        o.progress_cb = Some(progress_trampoline);
        o.progress_payload = s as *mut ProgressState as *mut c_void;
    }
    o.flags = v.flags;
    let (p, n) = v.targets.raw();
    o.targets = p;
    o.target_count = n;
    o.local_dir = ptr_or_null(&v.local_dir);
    o.repo_id = ptr_or_null(&v.repo_id);
    o.repo_type = v.repo_type;
    o.revision = ptr_or_null(&v.revision);
    o.threads = v.threads;
    let mut out = ptr::null_mut();
    // SAFETY: o and what it points to (v, state) outlive the call; the
    // callback runs on this thread only.
    let rc = unsafe { hub_cache_verify(&mut out, client.ptr, &o) };
    let error = if rc == HUB_OK || rc == HUB_ECHECKSUM {
        None
    } else {
        Some(last_error())
    };
    let result = VerifyGuard(out);
    if let Some(panic) = state.and_then(|s| s.panic) {
        std::panic::resume_unwind(panic);
    }
    if let Some(e) = error {
        return Err(e);
    }
    if result.0.is_null() {
        return Err(Error::new(-1, 0, "libhubfetch returned no result".into()));
    }
    // SAFETY: a live result, copied before the guard frees it.
    unsafe {
        let r = result.0;
        let sm = &*hub_cache_verify_result_summary(r);
        let summary = VerifySummary {
            repos: sm.repos as u64,
            revisions: sm.revisions as u64,
            files: sm.files,
            blobs: sm.blobs,
            bytes: sm.bytes,
            failed_files: sm.failed_files,
            unverifiable: sm.unverifiable,
            missing: sm.missing,
            extra: sm.extra,
            defects: sm.defects,
            seconds: sm.seconds,
            threads: sm.threads.max(0) as u32,
        };
        let items = (0..hub_cache_verify_result_count(r))
            .map(|k| hub_cache_verify_result_item(r, k))
            .filter(|p| !p.is_null())
            .map(|p| {
                let it = &*p;
                VerifyItem {
                    status: VerifyStatus::from_raw(it.status),
                    failed: hub_cache_verify_item_failed(r, p) != 0,
                    repo_id: opt_owned(it.repo_id),
                    repo_type: RepoType::from_raw(it.repo_type).unwrap_or_default(),
                    commit: opt_owned(it.commit),
                    file: opt_owned(it.file),
                    path: text(it.path).map(to_path),
                    algorithm: opt_owned(it.algorithm),
                    expected: opt_owned(it.expected),
                    actual: opt_owned(it.actual),
                    message: owned(it.message),
                }
            })
            .collect();
        Ok(CacheVerification {
            ok: rc == HUB_OK,
            summary,
            items,
        })
    }
}

/// The closure of a job and where its panic goes. Reached through a raw
/// pointer only (by the job's thread during callbacks, by the owner after
/// the job finished), hence shared references and mutexes, never `&mut`.
struct JobProgress {
    f: Mutex<Box<ProgressFn<'static>>>,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

unsafe extern "C" fn job_progress_trampoline(
    p: *const hub_progress,
    payload: *mut c_void,
) -> c_int {
    // SAFETY: payload is the JobProgress the RawJob owns, freed only after
    // hub_job_free() joined the job's thread.
    let jp = &*(payload as *const JobProgress);
    let (mut f, mut slot) = match (jp.f.lock(), jp.panic.lock()) {
        (Ok(f), Ok(slot)) => (f, slot),
        _ => return 1,
    };
    if slot.is_some() {
        return 1;
    }
    let ev = Progress::from_raw(&*p);
    match catch_unwind(AssertUnwindSafe(|| (*f)(&ev))) {
        Ok(cancel) => cancel as c_int,
        Err(panic) => {
            *slot = Some(panic);
            1
        }
    }
}

/// An owned `hub_job *`, with what it points to.
pub(crate) struct RawJob {
    ptr: *mut hub_job,
    progress: *mut JobProgress, // from Box::into_raw, or NULL
    poll_lock: Mutex<()>,
    _client: Arc<RawClient>, // freed after the job, never before
}

// SAFETY: the job functions may be called from any thread concurrently
// (header: hub_job_poll/cancel/wait/done; polls are serialised here because
// the strings one returns are overwritten by the next); the closure is Send
// and only ever called on the job's thread.
unsafe impl Send for RawJob {}
unsafe impl Sync for RawJob {}

impl RawJob {
    pub(crate) fn start(
        client: Arc<RawClient>,
        repo: &CStr,
        opts: &OwnedOptions,
        progress: Option<Box<ProgressFn<'static>>>,
    ) -> Result<RawJob, Error> {
        let jp = progress.map_or(ptr::null_mut(), |f| {
            Box::into_raw(Box::new(JobProgress {
                f: Mutex::new(f),
                panic: Mutex::new(None),
            }))
        });
        let cb: hub_progress_cb = if jp.is_null() {
            None
        } else {
            Some(job_progress_trampoline)
        };
        // an owner from here on: frees jp on every path
        let mut job = RawJob {
            ptr: ptr::null_mut(),
            progress: jp,
            poll_lock: Mutex::new(()),
            _client: client,
        };
        let o = opts.raw(cb, jp as *mut c_void)?;
        // SAFETY: options are copied by hub_job_start; the payload lives in
        // the RawJob until after hub_job_free.
        if unsafe { hub_job_start(&mut job.ptr, job._client.ptr, repo.as_ptr(), &o) } != HUB_OK {
            return Err(last_error());
        }
        Ok(job)
    }

    pub(crate) fn poll(&self) -> Progress<'static> {
        let _serial = self.poll_lock.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: zeroed is a valid hub_progress; poll fills it. Its strings
        // stay valid until the next poll, which the lock holds off until
        // they are copied.
        let mut p: hub_progress = unsafe { std::mem::zeroed() };
        unsafe { hub_job_poll(self.ptr, &mut p) };
        Progress::from_raw(&p).into_owned()
    }

    pub(crate) fn cancel(&self) {
        // SAFETY: a live job.
        unsafe { hub_job_cancel(self.ptr) }
    }

    pub(crate) fn done(&self) -> bool {
        // SAFETY: a live job.
        unsafe { hub_job_done(self.ptr) != 0 }
    }

    /// None while still running after `timeout_ms` (-1: forever).
    pub(crate) fn wait(&self, timeout_ms: i64) -> Option<Result<Option<DownloadResult>, Error>> {
        let mut r = ptr::null_mut();
        // SAFETY: a live job; r receives a result we then own.
        let mut rc = unsafe { hub_job_wait(self.ptr, timeout_ms as c_long, &mut r) };
        // ETIMEOUT is also a real outcome of a job: ask whether it ended
        if rc == HUB_ETIMEOUT {
            if !self.done() {
                return None;
            }
            // it ended after that answer: now its own outcome
            // SAFETY: as above.
            rc = unsafe { hub_job_wait(self.ptr, 0, &mut r) };
        }
        if rc == HUB_OK {
            return Some(Ok(take_result(r))); // None: an earlier wait took it
        }
        Some(Err(last_error()))
    }

    /// The panic of the progress closure, if it panicked.
    pub(crate) fn take_panic(&self) -> Option<Box<dyn Any + Send>> {
        if self.progress.is_null() {
            return None;
        }
        // SAFETY: the JobProgress lives until drop; shared access only.
        let jp = unsafe { &*self.progress };
        jp.panic.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Drop for RawJob {
    fn drop(&mut self) {
        // SAFETY: hub_job_free cancels if running, joins the thread and
        // frees (NULL is fine): afterwards nothing uses the closure, and
        // the client (an Arc field) is dropped after this.
        unsafe {
            hub_job_free(self.ptr);
            if !self.progress.is_null() {
                drop(Box::from_raw(self.progress));
            }
        }
    }
}

// ---- remote listing, whoami, tokens (0.4) ------------------------------------------

/// `hub_list_options` for a call; `revision` must outlive its use.
pub(crate) fn list_options(
    repo_type: c_int,
    revision: &Option<CString>,
    recursive: bool,
    expand: bool,
) -> Result<hub_list_options, Error> {
    // SAFETY: a zeroed struct is a valid target for the init function.
    let mut o: hub_list_options = unsafe { std::mem::zeroed() };
    // SAFETY: o is a live, properly sized struct.
    if unsafe { hub_list_options_init(&mut o, HUB_LIST_OPTIONS_VERSION) } != HUB_OK {
        return Err(last_error());
    }
    o.repo_type = repo_type;
    o.revision = ptr_or_null(revision);
    o.recursive = recursive as c_int;
    o.expand = expand as c_int;
    Ok(o)
}

fn copy_entry(e: &hub_entry) -> Entry {
    let last_commit = opt_owned(e.last_commit_id).map(|id| LastCommit {
        id,
        title: owned(e.last_commit_title),
        date: owned(e.last_commit_date),
    });
    let lfs = opt_owned(e.lfs_sha256).map(|sha256| LfsInfo {
        sha256,
        size: e.lfs_size,
        pointer_size: e.lfs_pointer_size,
    });
    Entry {
        kind: if e.type_ == HUB_ENTRY_DIRECTORY {
            EntryType::Directory
        } else {
            EntryType::File
        },
        path: owned(e.path),
        size: e.size,
        oid: opt_owned(e.oid),
        lfs,
        xet_hash: opt_owned(e.xet_hash),
        last_commit,
    }
}

/// An owned `hub_list *`, with the client it needs (freed after it).
pub(crate) struct RawList {
    ptr: *mut hub_list,
    endpoint: String,
    _client: Arc<RawClient>,
}

impl RawList {
    pub(crate) fn open(
        client: Arc<RawClient>,
        repo: &CStr,
        path: &Option<CString>,
        opts: &hub_list_options,
    ) -> Result<RawList, Error> {
        let mut ptr = ptr::null_mut();
        // SAFETY: live client, strings and options for the call; ptr
        // receives an iterator we own.
        if unsafe { hub_list_open(&mut ptr, client.ptr, repo.as_ptr(), ptr_or_null(path), opts) }
            != HUB_OK
        {
            return Err(last_error());
        }
        // SAFETY: valid until hub_list_free; copied.
        let endpoint = owned(unsafe { hub_list_endpoint(ptr) });
        Ok(RawList {
            ptr,
            endpoint,
            _client: client,
        })
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next entry, None when done; an error once (the caller stops).
    pub(crate) fn next(&mut self) -> Option<Result<Entry, Error>> {
        let mut e: *const hub_entry = ptr::null();
        // SAFETY: a live iterator; the entry is valid until the next call
        // on it, and is copied before that.
        let rc = unsafe { hub_list_next(self.ptr, &mut e) };
        if rc == HUB_OK {
            // SAFETY: HUB_OK comes with a valid entry.
            return unsafe { e.as_ref() }.map(|e| Ok(copy_entry(e)));
        }
        if rc == HUB_LIST_DONE {
            return None;
        }
        Some(Err(last_error()))
    }
}

impl Drop for RawList {
    fn drop(&mut self) {
        // SAFETY: we own it; the client (an Arc field) is dropped after.
        unsafe { hub_list_free(self.ptr) }
    }
}

pub(crate) fn stat(
    client: &RawClient,
    repo: &CStr,
    path: &CStr,
    opts: &hub_list_options,
) -> Result<Entry, Error> {
    let mut e = ptr::null_mut();
    // SAFETY: live arguments; e receives an entry we own.
    if unsafe { hub_stat(&mut e, client.ptr, repo.as_ptr(), path.as_ptr(), opts) } != HUB_OK {
        return Err(last_error());
    }
    // SAFETY: a valid entry until hub_entry_free, copied before it.
    unsafe {
        let out = copy_entry(&*e);
        hub_entry_free(e);
        Ok(out)
    }
}

pub(crate) fn whoami(client: &RawClient) -> Result<WhoAmI, Error> {
    let mut w = ptr::null_mut();
    // SAFETY: a live client; w receives an answer we own.
    if unsafe { hub_whoami(&mut w, client.ptr) } != HUB_OK {
        return Err(last_error());
    }
    // SAFETY: valid until hub_whoami_info_free, copied before it.
    unsafe {
        let i = &*w;
        let out = WhoAmI {
            name: owned(i.name),
            fullname: opt_owned(i.fullname),
            type_: opt_owned(i.type_),
            orgs: strings(i.orgs, i.org_count),
            token_name: opt_owned(i.token_name),
            token_role: opt_owned(i.token_role),
        };
        hub_whoami_info_free(w);
        Ok(out)
    }
}

pub(crate) fn token_path() -> Result<std::path::PathBuf, Error> {
    global_init()?;
    let mut p = ptr::null_mut();
    // SAFETY: p receives a string we free with hub_free after copying.
    unsafe {
        if hub_token_path(&mut p) != HUB_OK {
            return Err(last_error());
        }
        let out = path(p);
        hub_free(p as *mut c_void);
        Ok(out)
    }
}

pub(crate) fn token_save(token: &CStr, name: &Option<CString>) -> Result<(), Error> {
    global_init()?;
    // SAFETY: NUL-terminated strings alive for the call.
    if unsafe { hub_token_save(token.as_ptr(), ptr_or_null(name)) } != HUB_OK {
        return Err(last_error());
    }
    Ok(())
}

pub(crate) fn token_remove() -> Result<bool, Error> {
    global_init()?;
    let mut removed: c_int = 0;
    // SAFETY: a live int.
    if unsafe { hub_token_remove(&mut removed) } != HUB_OK {
        return Err(last_error());
    }
    Ok(removed != 0)
}

// ---- weight file headers (0.4) -------------------------------------------------------

pub(crate) fn header_options(
    max_header_bytes: u64,
    max_array_values: u64,
) -> Result<hub_header_options, Error> {
    global_init()?;
    // SAFETY: a zeroed struct is a valid target for the init function.
    let mut o: hub_header_options = unsafe { std::mem::zeroed() };
    // SAFETY: o is a live, properly sized struct.
    if unsafe { hub_header_options_init(&mut o, HUB_HEADER_OPTIONS_VERSION) } != HUB_OK {
        return Err(last_error());
    }
    o.max_header_bytes = max_header_bytes;
    o.max_array_values = max_array_values;
    Ok(o)
}

/// `count` elements of a C array (empty when NULL).
///
/// SAFETY: `p` points to `count` valid elements, or is NULL.
unsafe fn slice<'a, T>(p: *const T, count: usize) -> &'a [T] {
    if p.is_null() || count == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(p, count)
    }
}

pub(crate) fn safetensors_info_file(
    file: &CStr,
    opts: &hub_header_options,
) -> Result<SafetensorsInfo, Error> {
    let mut out = ptr::null_mut();
    // SAFETY: live path and options; out receives a result we own.
    if unsafe { hub_safetensors_info_file(&mut out, file.as_ptr(), opts) } != HUB_OK {
        return Err(last_error());
    }
    // SAFETY: a result the library just gave us.
    Ok(unsafe { take_safetensors(out) })
}

pub(crate) fn safetensors_info_remote(
    client: &RawClient,
    repo: &CStr,
    path: &CStr,
    ropts: &hub_read_options,
    hopts: &hub_header_options,
) -> Result<SafetensorsInfo, Error> {
    let mut out = ptr::null_mut();
    // SAFETY: live client, strings and options; out receives a result we own.
    let rc = unsafe {
        hub_safetensors_info_remote(
            &mut out,
            client.ptr,
            repo.as_ptr(),
            path.as_ptr(),
            ropts,
            hopts,
        )
    };
    if rc != HUB_OK {
        return Err(last_error());
    }
    // SAFETY: a result the library just gave us.
    Ok(unsafe { take_safetensors(out) })
}

/// Copy a safetensors result and free it.
///
/// SAFETY: `out` is a live result from the library, not used afterwards.
unsafe fn take_safetensors(out: *mut hub_safetensors_info) -> SafetensorsInfo {
    // SAFETY: everything read belongs to `out`, copied before it is freed.
    unsafe {
        let i = &*out;
        let keys = strings(i.metadata_keys, i.metadata_count);
        let values = strings(i.metadata_values, i.metadata_count);
        let info = SafetensorsInfo {
            tensors: slice(i.tensors, i.tensor_count)
                .iter()
                .map(|t| SafetensorsTensor {
                    name: owned(t.name),
                    dtype: owned(t.dtype),
                    shape: slice(t.shape, t.ndim).to_vec(),
                    data_offsets: (t.offset_begin, t.offset_end),
                    parameters: t.parameters,
                    file: opt_owned(t.file),
                })
                .collect(),
            parameter_count: slice(i.dtypes, i.dtype_count)
                .iter()
                .map(|d| (owned(d.dtype), d.parameters))
                .collect(),
            parameter_total: i.parameter_total,
            metadata: keys.into_iter().zip(values).collect(),
            header_size: i.header_size,
            data_offset: i.data_offset,
            data_size: i.data_size,
            sharded: i.sharded != 0,
            shards: strings(i.shards, i.shard_count),
            total_size: if i.total_size == u64::MAX {
                None
            } else {
                Some(i.total_size)
            },
        };
        hub_safetensors_info_free(out);
        info
    }
}

/// SAFETY: `p` points to `len` bytes (NUL-terminated), or is NULL.
unsafe fn gguf_string(p: *const c_char, len: usize) -> String {
    String::from_utf8_lossy(slice(p as *const u8, len)).into_owned()
}

/// SAFETY: `v` and everything it points to are valid.
unsafe fn gguf_value(v: &hub_gguf_value) -> GgufValue {
    let t = GgufType::from_raw(v.type_);
    match t {
        GgufType::Uint8 => GgufValue::U8(v.u as u8),
        GgufType::Int8 => GgufValue::I8(v.i as i8),
        GgufType::Uint16 => GgufValue::U16(v.u as u16),
        GgufType::Int16 => GgufValue::I16(v.i as i16),
        GgufType::Uint32 => GgufValue::U32(v.u as u32),
        GgufType::Int32 => GgufValue::I32(v.i as i32),
        GgufType::Uint64 => GgufValue::U64(v.u),
        GgufType::Int64 => GgufValue::I64(v.i),
        GgufType::Float32 => GgufValue::F32(v.f as f32),
        GgufType::Float64 => GgufValue::F64(v.f),
        GgufType::Bool => GgufValue::Bool(v.u != 0),
        GgufType::String => GgufValue::Str(gguf_string(v.str_, v.len)),
        GgufType::Array => {
            let et = GgufType::from_raw(v.elem_type);
            let n = v.count as usize;
            let values = if v.kept == 0 {
                None
            } else {
                Some(gguf_array(v, et, n))
            };
            GgufValue::Array {
                elem_type: et,
                len: v.count,
                values,
            }
        }
        GgufType::Unknown(_) => GgufValue::Unknown(t),
    }
}

/// SAFETY: as gguf_value; `v` is a kept ARRAY of `n` elements of `et`.
unsafe fn gguf_array(v: &hub_gguf_value, et: GgufType, n: usize) -> Vec<GgufValue> {
    fn nums<T: Copy>(d: *const c_void, n: usize, f: impl Fn(T) -> GgufValue) -> Vec<GgufValue> {
        // SAFETY: the caller's: `d` holds `n` elements of T.
        unsafe { slice(d as *const T, n) }
            .iter()
            .map(|&x| f(x))
            .collect()
    }
    let d = v.data;
    match et {
        GgufType::Uint8 => nums::<u8>(d, n, GgufValue::U8),
        GgufType::Int8 => nums::<i8>(d, n, GgufValue::I8),
        GgufType::Uint16 => nums::<u16>(d, n, GgufValue::U16),
        GgufType::Int16 => nums::<i16>(d, n, GgufValue::I16),
        GgufType::Uint32 => nums::<u32>(d, n, GgufValue::U32),
        GgufType::Int32 => nums::<i32>(d, n, GgufValue::I32),
        GgufType::Uint64 => nums::<u64>(d, n, GgufValue::U64),
        GgufType::Int64 => nums::<i64>(d, n, GgufValue::I64),
        GgufType::Float32 => nums::<f32>(d, n, GgufValue::F32),
        GgufType::Float64 => nums::<f64>(d, n, GgufValue::F64),
        GgufType::Bool => nums::<u8>(d, n, |b| GgufValue::Bool(b != 0)),
        GgufType::String => {
            let lens = slice(v.lengths, n);
            slice(v.strings, n)
                .iter()
                .zip(lens)
                .map(|(&p, &l)| GgufValue::Str(gguf_string(p, l)))
                .collect()
        }
        GgufType::Array => slice(v.items, n).iter().map(|x| gguf_value(x)).collect(),
        GgufType::Unknown(_) => Vec::new(),
    }
}

pub(crate) fn gguf_info_file(file: &CStr, opts: &hub_header_options) -> Result<GgufInfo, Error> {
    let mut out = ptr::null_mut();
    // SAFETY: live path and options; out receives a result we own.
    if unsafe { hub_gguf_info_file(&mut out, file.as_ptr(), opts) } != HUB_OK {
        return Err(last_error());
    }
    // SAFETY: a result the library just gave us.
    Ok(unsafe { take_gguf(out) })
}

pub(crate) fn gguf_info_remote(
    client: &RawClient,
    repo: &CStr,
    path: &CStr,
    ropts: &hub_read_options,
    hopts: &hub_header_options,
) -> Result<GgufInfo, Error> {
    let mut out = ptr::null_mut();
    // SAFETY: live client, strings and options; out receives a result we own.
    let rc = unsafe {
        hub_gguf_info_remote(
            &mut out,
            client.ptr,
            repo.as_ptr(),
            path.as_ptr(),
            ropts,
            hopts,
        )
    };
    if rc != HUB_OK {
        return Err(last_error());
    }
    // SAFETY: a result the library just gave us.
    Ok(unsafe { take_gguf(out) })
}

/// Copy a GGUF result and free it.
///
/// SAFETY: `out` is a live result from the library, not used afterwards.
unsafe fn take_gguf(out: *mut hub_gguf_info) -> GgufInfo {
    // SAFETY: everything read belongs to `out`, copied before it is freed.
    unsafe {
        let i = &*out;
        let info = GgufInfo {
            version: i.version,
            big_endian: i.big_endian != 0,
            alignment: i.alignment,
            header_size: i.header_size,
            data_offset: i.data_offset,
            parameters: i.parameters,
            architecture: opt_owned(i.architecture),
            name: opt_owned(i.name),
            file_type: if i.file_type < 0 {
                None
            } else {
                Some(i.file_type)
            },
            file_type_name: opt_owned(i.file_type_name),
            context_length: i.context_length,
            embedding_length: i.embedding_length,
            block_count: i.block_count,
            metadata: slice(i.kvs, i.kv_count as usize)
                .iter()
                .map(|kv| (owned(kv.key), gguf_value(&kv.value)))
                .collect(),
            tensors: slice(i.tensors, i.tensor_count as usize)
                .iter()
                .map(|t| GgufTensor {
                    name: owned(t.name),
                    dims: slice(t.dims, t.n_dims as usize).to_vec(),
                    type_: t.type_,
                    type_name: opt_owned(t.type_name),
                    offset: t.offset,
                    parameters: t.parameters,
                })
                .collect(),
        };
        hub_gguf_info_free(out);
        info
    }
}

pub(crate) fn ggml_type_name(t: u32) -> Option<String> {
    // SAFETY: a static string or NULL.
    opt_owned(unsafe { hub_ggml_type_name(t) })
}

// ---- remote reads (0.4) ---------------------------------------------------------

pub(crate) fn read_options(
    repo_type: c_int,
    revision: &Option<CString>,
    flags: c_uint,
) -> Result<hub_read_options, Error> {
    // SAFETY: a zeroed struct is a valid target for the init function.
    let mut o: hub_read_options = unsafe { std::mem::zeroed() };
    // SAFETY: o is a live, properly sized struct.
    if unsafe { hub_read_options_init(&mut o, HUB_READ_OPTIONS_VERSION) } != HUB_OK {
        return Err(last_error());
    }
    o.repo_type = repo_type;
    o.revision = ptr_or_null(revision);
    o.flags = flags;
    Ok(o)
}

pub(crate) type ReadFn<'a> = dyn FnMut(&[u8]) -> bool + 'a;

/// What the read trampoline's payload points to.
struct ReadState<'f, 'a> {
    f: &'f mut ReadFn<'a>,
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn read_trampoline(
    data: *const c_void,
    len: usize,
    payload: *mut c_void,
) -> c_int {
    // SAFETY: payload is the ReadState of the hub_read() running on this
    // thread; data holds len bytes for the duration of the call.
    let state = &mut *(payload as *mut ReadState);
    if state.panic.is_some() {
        return 1;
    }
    let bytes = slice(data as *const u8, len);
    // A panic must not unwind through C: catch it, stop the read, and
    // resume it once hub_read() returned.
    match catch_unwind(AssertUnwindSafe(|| (state.f)(bytes))) {
        Ok(stop) => stop as c_int,
        Err(panic) => {
            state.panic = Some(panic);
            1
        }
    }
}

fn fixed_text(chars: &[c_char]) -> Option<String> {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    if bytes.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// hub_read() into `f`; a panic of `f` is resumed after the call.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read(
    client: &RawClient,
    repo: &CStr,
    path: &CStr,
    offset: u64,
    length: u64,
    opts: &hub_read_options,
    f: &mut ReadFn,
) -> Result<ReadInfo, Error> {
    let mut state = ReadState { f, panic: None };
    // SAFETY: a zeroed hub_read_info is valid (integers and char arrays).
    let mut info: hub_read_info = unsafe { std::mem::zeroed() };
    // SAFETY: live arguments; state outlives the call, and the callback is
    // only called during it, on this thread.
    let rc = unsafe {
        hub_read(
            &mut info,
            client.ptr,
            repo.as_ptr(),
            path.as_ptr(),
            offset,
            length,
            opts,
            Some(read_trampoline),
            &mut state as *mut ReadState as *mut c_void,
        )
    };
    let error = if rc == HUB_OK {
        None
    } else {
        Some(last_error())
    };
    if let Some(panic) = state.panic {
        std::panic::resume_unwind(panic);
    }
    match error {
        Some(e) => Err(e),
        None => Ok(ReadInfo {
            size: if info.size == u64::MAX {
                None
            } else {
                Some(info.size)
            },
            etag: fixed_text(&info.etag),
            commit: fixed_text(&info.commit),
            from_cache: info.from_cache != 0,
            bytes_fetched: info.bytes_fetched,
            bytes_read: info.bytes_read,
        }),
    }
}

/// hub_read_buf() into `buf`; returns how many bytes were read.
pub(crate) fn read_buf(
    client: &RawClient,
    repo: &CStr,
    path: &CStr,
    offset: u64,
    buf: &mut [u8],
    opts: &hub_read_options,
) -> Result<usize, Error> {
    let mut got = 0usize;
    // SAFETY: buf holds buf.len() writable bytes; live strings and options.
    let rc = unsafe {
        hub_read_buf(
            &mut got,
            buf.as_mut_ptr() as *mut c_void,
            client.ptr,
            repo.as_ptr(),
            path.as_ptr(),
            offset,
            buf.len(),
            opts,
        )
    };
    if rc != HUB_OK {
        return Err(last_error());
    }
    Ok(got.min(buf.len()))
}
