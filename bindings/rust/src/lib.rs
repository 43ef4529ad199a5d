//! Safe Rust bindings to libhubfetch: downloads from the Hugging Face Hub
//! into the cache huggingface_hub uses.
//!
//! ```no_run
//! use hubfetch::{Client, DownloadOptions};
//!
//! let client = Client::builder().build()?; // settings from HF_* variables
//! let config = client.download_file("openai-community/gpt2", "config.json",
//!                                   &DownloadOptions::new())?;
//! let opts = DownloadOptions::new()
//!     .allow_patterns(["*.json", "*.safetensors"])
//!     .progress(|p| {
//!         eprintln!("{}/{:?} bytes", p.bytes_done, p.bytes_total);
//!         false // true cancels
//!     });
//! let folder = client.snapshot_download("openai-community/gpt2", &opts)?;
//! # Ok::<(), hubfetch::Error>(())
//! ```
//!
//! Ownership: everything the library returns is copied into owned Rust
//! values and freed at once. A [`Client`] owns its C client; a [`Job`]
//! shares it (the C client is freed when both are gone) and owns its
//! progress closure, so dropping either in any order is safe; dropping a
//! running job cancels it and waits for its thread. A [`CachePlan`] owns a
//! C deletion plan with the C scan result it points into (the plan is
//! freed first) and shares the C client, so it too may outlive the
//! [`Client`].
//!
//! Threads: a [`Client`] is `Send` but not `Sync` (the library serves one
//! call per client at a time; use one client per thread, or a `Mutex`).
//! While a job runs, calls on its client fail with [`ErrorKind::Busy`], as
//! do calls made from a progress closure into the client running it.
//!
//! Panics in a progress or log closure never cross into C: a progress panic
//! cancels the download and is resumed when the call (or [`Job::wait`])
//! returns; a log panic is dropped.
//!
//! All `unsafe` code is in the [`ffi`] module.

#![deny(unsafe_code)]

#[allow(unsafe_code)]
pub mod ffi;
mod read;
mod remote;
mod weights;

pub use read::{ReadInfo, ReadOptions};
pub use remote::{
    remove_token, save_token, token_path, Entry, EntryType, LastCommit, LfsInfo, ListIter,
    ListOptions, WhoAmI,
};
pub use weights::{
    ggml_type_name, gguf_info_file, gguf_info_file_with, safetensors_info_file,
    safetensors_info_file_with, GgufInfo, GgufTensor, GgufType, GgufValue, HeaderOptions,
    SafetensorsInfo, SafetensorsTensor,
};

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Version of the libhubfetch loaded at run time, e.g. "0.1.0".
pub fn library_version() -> String {
    ffi::version()
}

// ---- errors ---------------------------------------------------------------------

/// The kind of a failure: one per C error code (`HUB_E*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// HUB_ERROR: unspecified.
    Other,
    InvalidArgument,
    OutOfMemory,
    /// An options version the library does not support.
    Version,
    RepoNotFound,
    RevisionNotFound,
    EntryNotFound,
    Gated,
    Auth,
    RateLimited,
    /// Not in the cache, and the network may not (or cannot) be used.
    NotCached,
    Network,
    Tls,
    Timeout,
    Proxy,
    Http,
    Io,
    NoSpace,
    Checksum,
    Protocol,
    Cancelled,
    Locked,
    Busy,
    Unsupported,
    /// A safetensors or GGUF header is malformed.
    Format,
    /// A code this crate does not know (a newer library).
    Unknown(i32),
}

impl ErrorKind {
    pub fn from_code(code: i32) -> ErrorKind {
        use ErrorKind::*;
        match code {
            -1 => Other,
            -2 => InvalidArgument,
            -3 => OutOfMemory,
            -4 => Version,
            -5 => RepoNotFound,
            -6 => RevisionNotFound,
            -7 => EntryNotFound,
            -8 => Gated,
            -9 => Auth,
            -10 => RateLimited,
            -11 => NotCached,
            -12 => Network,
            -13 => Tls,
            -14 => Timeout,
            -15 => Proxy,
            -16 => Http,
            -17 => Io,
            -18 => NoSpace,
            -19 => Checksum,
            -20 => Protocol,
            -21 => Cancelled,
            -22 => Locked,
            -23 => Busy,
            -24 => Unsupported,
            -25 => Format,
            c => Unknown(c),
        }
    }

    /// The C error code.
    pub fn code(self) -> i32 {
        use ErrorKind::*;
        match self {
            Other => -1,
            InvalidArgument => -2,
            OutOfMemory => -3,
            Version => -4,
            RepoNotFound => -5,
            RevisionNotFound => -6,
            EntryNotFound => -7,
            Gated => -8,
            Auth => -9,
            RateLimited => -10,
            NotCached => -11,
            Network => -12,
            Tls => -13,
            Timeout => -14,
            Proxy => -15,
            Http => -16,
            Io => -17,
            NoSpace => -18,
            Checksum => -19,
            Protocol => -20,
            Cancelled => -21,
            Locked => -22,
            Busy => -23,
            Unsupported => -24,
            Format => -25,
            Unknown(c) => c,
        }
    }
}

/// A libhubfetch failure: its kind, the HTTP status involved (0 if none)
/// and the library's one-line message naming repository, file and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    http_status: i64,
    message: String,
}

impl Error {
    pub(crate) fn new(code: i32, http_status: i64, message: String) -> Error {
        Error {
            kind: ErrorKind::from_code(code),
            http_status,
            message,
        }
    }

    pub(crate) fn invalid(message: String) -> Error {
        Error::new(-2, 0, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The C error code (negative).
    pub fn code(&self) -> i32 {
        self.kind.code()
    }
    /// The symbolic name of the code, e.g. "ENOREPO".
    pub fn name(&self) -> String {
        ffi::error_name(self.code())
    }
    pub fn http_status(&self) -> i64 {
        self.http_status
    }
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

// ---- progress and results -------------------------------------------------------

/// What a file, or the job as a whole, is doing (`hub_phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Resolve,
    Download,
    Verify,
    Done,
    Cached,
    Failed,
    Unknown(i32),
}

impl Phase {
    pub(crate) fn from_raw(v: i32) -> Phase {
        match v {
            0 => Phase::Resolve,
            1 => Phase::Download,
            2 => Phase::Verify,
            3 => Phase::Done,
            4 => Phase::Cached,
            5 => Phase::Failed,
            v => Phase::Unknown(v),
        }
    }
}

/// One progress event. Borrowed strings live as long as the callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress<'a> {
    pub phase: Phase,
    /// Path in the repository; None for job-level events.
    pub file: Option<Cow<'a, str>>,
    pub file_index: usize,
    pub file_count: usize,
    pub file_bytes_done: u64,
    /// None while unknown.
    pub file_bytes_total: Option<u64>,
    pub bytes_done: u64,
    pub bytes_total: Option<u64>,
    pub files_done: usize,
    /// Bytes per second, smoothed.
    pub rate: f64,
    /// Seconds left, None when unknown.
    pub eta: Option<f64>,
    pub endpoint: Option<Cow<'a, str>>,
    /// The last event of the job.
    pub is_final: bool,
}

impl Progress<'_> {
    pub fn into_owned(self) -> Progress<'static> {
        // (struct update syntax cannot change the lifetime parameter)
        Progress {
            phase: self.phase,
            file: self.file.map(|s| Cow::Owned(s.into_owned())),
            file_index: self.file_index,
            file_count: self.file_count,
            file_bytes_done: self.file_bytes_done,
            file_bytes_total: self.file_bytes_total,
            bytes_done: self.bytes_done,
            bytes_total: self.bytes_total,
            files_done: self.files_done,
            rate: self.rate,
            eta: self.eta,
            endpoint: self.endpoint.map(|s| Cow::Owned(s.into_owned())),
            is_final: self.is_final,
        }
    }
}

/// What happened to one file of a request (`hub_file_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileStatus {
    Cached,
    Downloaded,
    Linked,
    Missing,
    Planned,
    Unknown(i32),
}

impl FileStatus {
    pub(crate) fn from_raw(v: i32) -> FileStatus {
        match v {
            0 => FileStatus::Cached,
            1 => FileStatus::Downloaded,
            2 => FileStatus::Linked,
            3 => FileStatus::Missing,
            4 => FileStatus::Planned,
            v => FileStatus::Unknown(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub path: String,
    pub local_path: Option<PathBuf>,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub status: FileStatus,
    pub endpoint: Option<String>,
    pub bytes_fetched: u64,
}

/// The outcome of [`Client::download`], [`Client::cache_lookup`] or a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadResult {
    /// Snapshot folder, local dir or file path.
    pub path: Option<PathBuf>,
    pub commit: Option<String>,
    pub files: Vec<FileInfo>,
    /// False when a cache lookup found something missing.
    pub complete: bool,
}

// ---- client ----------------------------------------------------------------------

/// Severity of a log message (`hub_log_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4,
}

impl LogLevel {
    pub(crate) fn from_raw(v: i32) -> LogLevel {
        match v {
            0 => LogLevel::Error,
            1 => LogLevel::Warn,
            2 => LogLevel::Info,
            3 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// Which hub a client talks to (`hub_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HubKind {
    /// Hugging Face, or a mirror speaking its API.
    #[default]
    HuggingFace = 0,
    ModelScope = 1,
}

/// Settings of a [`Client`]. Anything not set is taken from the environment
/// as huggingface_hub reads it (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, proxy
/// variables...) unless [`ignore_env`](Self::ignore_env), else the
/// library's default.
#[derive(Default)]
pub struct ClientBuilder {
    cfg: ffi::ClientConfig,
    error: Option<Error>,
}

impl ClientBuilder {
    fn string(&mut self, what: &str, s: impl Into<Vec<u8>>) -> Option<CString> {
        match ffi::cstring(what, s.into()) {
            Ok(c) => Some(c),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }

    pub fn endpoint(mut self, url: &str) -> Self {
        self.cfg.endpoint = self.string("endpoint", url);
        self
    }
    /// The access token (sent to the hub only, never to a CDN).
    pub fn token(mut self, token: &str) -> Self {
        self.cfg.token = self.string("token", token);
        self
    }
    /// Send no token, whatever the environment says.
    pub fn no_token(self) -> Self {
        self.token("")
    }
    pub fn cache_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cfg.cache_dir = self.string("cache_dir", ffi::path_bytes(dir.as_ref()));
        self
    }
    /// true: never use the network.
    pub fn offline(mut self, offline: bool) -> Self {
        self.cfg.offline = Some(offline);
        self
    }
    /// false: copy files into snapshots instead of symlinking.
    pub fn symlinks(mut self, symlinks: bool) -> Self {
        self.cfg.symlinks = Some(symlinks);
        self
    }
    pub fn user_agent(mut self, product: &str) -> Self {
        self.cfg.user_agent = self.string("user_agent", product);
        self
    }
    /// Files fetched at once (default 8).
    pub fn max_files(mut self, n: u32) -> Self {
        self.cfg.max_files = n.min(i32::MAX as u32) as i32;
        self
    }
    /// Connections per large file.
    pub fn connections(mut self, n: u32) -> Self {
        self.cfg.connections = n.min(i32::MAX as u32) as i32;
        self
    }
    pub fn max_connections(mut self, n: u32) -> Self {
        self.cfg.max_connections = n.min(i32::MAX as u32) as i32;
        self
    }
    /// Download rate cap in bytes per second.
    pub fn max_rate(mut self, bytes_per_sec: u64) -> Self {
        self.cfg.max_rate = bytes_per_sec;
        self
    }
    pub fn split_threshold(mut self, bytes: u64) -> Self {
        self.cfg.split_threshold = bytes;
        self
    }
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.cfg.part_size = bytes;
        self
    }
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.cfg.connect_timeout_ms = millis(t);
        self
    }
    /// No byte received for this long restarts a transfer.
    pub fn stall_timeout(mut self, t: Duration) -> Self {
        self.cfg.stall_timeout_ms = millis(t);
        self
    }
    /// Retries per request after the first attempt (default 5).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.cfg.max_retries = Some(n.min(i32::MAX as u32) as i32);
        self
    }
    /// How long to wait for a cache lock another process holds while that
    /// process shows no progress (its partial file does not grow); None
    /// waits forever.
    pub fn lock_timeout(mut self, t: Option<Duration>) -> Self {
        self.cfg.lock_timeout_ms = t.map_or(-1, millis);
        self
    }
    /// "http://host:port", "socks5h://host:port"; "" uses no proxy.
    pub fn proxy(mut self, url: &str) -> Self {
        self.cfg.proxy = self.string("proxy", url);
        self
    }
    /// Hosts reached directly: "host,.domain,10.0.0.0/8" or "*".
    pub fn no_proxy(mut self, hosts: &str) -> Self {
        self.cfg.no_proxy = self.string("no_proxy", hosts);
        self
    }
    /// Endpoints tried in order after the first one fails (mirrors).
    pub fn fallback_endpoints<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list = urls
            .into_iter()
            .filter_map(|u| self.string("fallback endpoint", u.as_ref()))
            .collect();
        self.cfg.fallback_endpoints = ffi::CStrList::new(list);
        self
    }
    /// PEM file of CA certificates to trust.
    pub fn ca_bundle(mut self, path: impl AsRef<Path>) -> Self {
        self.cfg.ca_bundle = self.string("ca_bundle", ffi::path_bytes(path.as_ref()));
        self
    }
    /// Which hub the endpoint speaks for (default Hugging Face). With
    /// ModelScope, defaults come from its SDK's variables and cache.
    pub fn hub(mut self, kind: HubKind) -> Self {
        self.cfg.hub = kind as i32;
        self
    }
    /// Send the token to every endpoint, the fallbacks (mirrors) and the
    /// one "auto" adds included. By default it goes only to the first
    /// endpoint's origin (for "auto": huggingface.co).
    pub fn send_token_to_mirrors(mut self, yes: bool) -> Self {
        self.cfg.send_token_to_mirrors = yes;
        self
    }
    /// Ignore every environment variable (HF_*, proxies...).
    pub fn ignore_env(mut self, ignore: bool) -> Self {
        self.cfg.ignore_env = ignore;
        self
    }
    /// Receive the library's messages at `level` or more severe. May be
    /// called from a job's thread.
    pub fn log<F>(mut self, level: LogLevel, f: F) -> Self
    where
        F: Fn(LogLevel, &str) + Send + Sync + 'static,
    {
        self.cfg.log = Some((level, Box::new(f)));
        self
    }

    pub fn build(self) -> Result<Client> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(Client {
            raw: Arc::new(ffi::RawClient::new(self.cfg)?),
            _not_sync: PhantomData,
        })
    }
}

fn millis(t: Duration) -> i64 {
    t.as_millis().clamp(1, i64::MAX as u128) as i64
}

/// Which kind of repository (`hub_repo_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RepoType {
    #[default]
    Model,
    Dataset,
    Space,
}

impl RepoType {
    pub(crate) fn from_raw(v: i32) -> Option<RepoType> {
        match v {
            0 => Some(RepoType::Model),
            1 => Some(RepoType::Dataset),
            2 => Some(RepoType::Space),
            _ => None,
        }
    }

    /// "model", "dataset" or "space", as huggingface_hub spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            RepoType::Model => "model",
            RepoType::Dataset => "dataset",
            RepoType::Space => "space",
        }
    }
}

impl fmt::Display for RepoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---- cache scan ------------------------------------------------------------------

/// A size as huggingface_hub's `_format_size` writes it: decimal units
/// without "B", one decimal ("500.0", "1.2K", "6.0M", "3.2G").
pub fn format_size(bytes: u64) -> String {
    let mut x = bytes as f64;
    for unit in ["", "K", "M", "G", "T", "P", "E", "Z"] {
        if x.abs() < 1000.0 {
            return format!("{x:3.1}{unit}");
        }
        x /= 1000.0;
    }
    format!("{x:.1}Y")
}

/// What [`Client::cache_scan`] found: huggingface_hub's `HFCacheInfo`,
/// owned (the C result is freed before the call returns).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheInfo {
    /// The folder scanned.
    pub cache_dir: PathBuf,
    /// Bytes of all distinct blobs, each counted once across the whole
    /// cache (by device and inode: a blob hard-linked into two
    /// repositories counts once; huggingface_hub adds the repositories').
    pub size_on_disk: u64,
    /// Sorted by `"<type>/<repo_id>"`.
    pub repos: Vec<CachedRepo>,
    /// Problems with entries of the cache folder that are no repository;
    /// those of a repository are in its own `warnings`
    /// (see [`all_warnings`](Self::all_warnings)).
    pub warnings: Vec<String>,
}

impl CacheInfo {
    /// `size_on_disk` as huggingface_hub writes it ("6.0M").
    pub fn size_on_disk_str(&self) -> String {
        format_size(self.size_on_disk)
    }

    /// Every problem found: the cache folder's, then each repository's.
    pub fn all_warnings(&self) -> impl Iterator<Item = &str> {
        self.warnings
            .iter()
            .chain(self.repos.iter().flat_map(|r| r.warnings.iter()))
            .map(String::as_str)
    }
}

/// One cached repository (huggingface_hub's `CachedRepoInfo`). Unlike
/// there, a defect never hides it: it is listed with what exists, the
/// defect is one of its `warnings`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedRepo {
    /// "org/name".
    pub repo_id: String,
    pub repo_type: RepoType,
    /// Absolute path of its folder in the cache.
    pub repo_path: PathBuf,
    /// Bytes of the distinct blobs its snapshots use.
    pub size_on_disk: u64,
    /// Number of those distinct blobs.
    pub nb_files: u64,
    /// Newest blob atime, unix seconds (the folder's when it has no blob).
    pub last_accessed: i64,
    /// Newest blob mtime, unix seconds (same fallback).
    pub last_modified: i64,
    /// Every ref naming one of its revisions, sorted.
    pub refs: Vec<String>,
    /// Sorted by commit.
    pub revisions: Vec<CachedRevision>,
    /// What is wrong with it, one line each.
    pub warnings: Vec<String>,
}

impl CachedRepo {
    /// `"<type>/<repo_id>"`, e.g. `"model/openai-community/gpt2"`.
    pub fn cache_id(&self) -> String {
        format!("{}/{}", self.repo_type, self.repo_id)
    }

    pub fn size_on_disk_str(&self) -> String {
        format_size(self.size_on_disk)
    }

    /// The revision a ref ("main", "refs/pr/1") names, as huggingface_hub's
    /// `CachedRepoInfo.refs[ref]`.
    pub fn revision_for_ref(&self, name: &str) -> Option<&CachedRevision> {
        self.revisions
            .iter()
            .find(|v| v.refs.iter().any(|r| r == name))
    }
}

/// One revision (snapshot folder) of a cached repository
/// (huggingface_hub's `CachedRevisionInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedRevision {
    /// The snapshot folder's name.
    pub commit_hash: String,
    pub snapshot_path: PathBuf,
    /// Refs pointing at it, sorted; empty: detached.
    pub refs: Vec<String>,
    /// Bytes of its distinct blobs.
    pub size_on_disk: u64,
    /// Files in the snapshot that resolve.
    pub nb_files: u64,
    /// Newest blob mtime, unix seconds (the folder's when it has no file).
    pub last_modified: i64,
    /// Newest blob atime, unix seconds (same fallback): what
    /// [`PruneOptions::max_size`] evicts by.
    pub last_accessed: i64,
    /// Its files that resolve, sorted by `file_name`; `files.len()` is
    /// `nb_files`.
    pub files: Vec<CachedFile>,
}

impl CachedRevision {
    pub fn size_on_disk_str(&self) -> String {
        format_size(self.size_on_disk)
    }
}

/// One file of a snapshot (huggingface_hub's `CachedFileInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedFile {
    /// Path relative to the snapshot folder, '/'-separated
    /// ("sub/config.json"), as the C API and the `ID@REV:PATH` targets of
    /// [`Client::cache_plan_delete`] have it. (huggingface_hub's
    /// `file_name`, and the Python binding's, is only the last component:
    /// [`base_name`](Self::base_name).)
    pub file_name: String,
    /// Absolute path of the snapshot entry.
    pub file_path: PathBuf,
    /// The blob it links to; `file_path` itself for a regular file (a
    /// cache written without symlinks).
    pub blob_path: PathBuf,
    /// The blob's name (its etag); None for a regular file.
    pub blob_name: Option<String>,
    /// The blob's size.
    pub size_on_disk: u64,
    /// The blob's atime and mtime, unix seconds.
    pub blob_last_accessed: i64,
    pub blob_last_modified: i64,
}

impl CachedFile {
    /// The last component of `file_name` (huggingface_hub's `file_name`).
    pub fn base_name(&self) -> &str {
        self.file_name.rsplit('/').next().unwrap_or(&self.file_name)
    }

    pub fn size_on_disk_str(&self) -> String {
        format_size(self.size_on_disk)
    }
}

// ---- cache deletion ----------------------------------------------------------------

/// What a [`CacheOp`] removes (`enum hub_cache_op_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheOpKind {
    /// The repository's whole folder.
    Repo,
    /// `refs/<name>`.
    Ref,
    /// `snapshots/<commit>/`: a revision.
    Snapshot,
    /// One entry of a snapshot.
    File,
    /// `blobs/<etag>`, which no remaining file uses.
    Blob,
    /// A partial download, `blobs/<etag>...incomplete`.
    Partial,
    /// `.no_exist/<commit>/` of a commit gone.
    NoExist,
    /// `trees/<commit>.json` of a commit gone.
    Tree,
    /// An empty folder.
    EmptyDir,
    /// What an interrupted deletion left in `.locks/`.
    Trash,
    /// A kind this crate does not know (a newer library).
    Unknown(i32),
}

impl CacheOpKind {
    #[doc(hidden)]
    pub fn from_raw(v: i32) -> Self {
        use CacheOpKind::*;
        match v {
            0 => Repo,
            1 => Ref,
            2 => Snapshot,
            3 => File,
            4 => Blob,
            5 => Partial,
            6 => NoExist,
            7 => Tree,
            8 => EmptyDir,
            9 => Trash,
            n => Unknown(n),
        }
    }

    /// The name `hubfetch cache rm --format json` uses ("no_exist").
    pub fn as_str(&self) -> &'static str {
        use CacheOpKind::*;
        match self {
            Repo => "repo",
            Ref => "ref",
            Snapshot => "snapshot",
            File => "file",
            Blob => "blob",
            Partial => "partial",
            NoExist => "no_exist",
            Tree => "tree",
            EmptyDir => "empty_dir",
            Trash => "trash",
            Unknown(_) => "?",
        }
    }
}

/// Where a [`CacheOp`] stands (`enum hub_cache_op_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheOpState {
    /// Not executed (yet).
    Planned,
    /// Removed.
    Done,
    /// Already absent when its turn came.
    Gone,
    /// A download holds its lock: kept (no failure).
    InUse,
    /// Changed since the scan: kept (no failure).
    Changed,
    /// Could not be removed: see `message`.
    Failed,
    /// A state this crate does not know (a newer library).
    Unknown(i32),
}

impl CacheOpState {
    #[doc(hidden)]
    pub fn from_raw(v: i32) -> Self {
        use CacheOpState::*;
        match v {
            0 => Planned,
            1 => Done,
            2 => Gone,
            3 => InUse,
            4 => Changed,
            5 => Failed,
            n => Unknown(n),
        }
    }

    /// The name `hubfetch cache rm --format json` uses ("in_use").
    pub fn as_str(&self) -> &'static str {
        use CacheOpState::*;
        match self {
            Planned => "planned",
            Done => "done",
            Gone => "gone",
            InUse => "in_use",
            Changed => "changed",
            Failed => "failed",
            Unknown(_) => "?",
        }
    }
}

/// One operation of a [`CachePlan`], copied out of the C plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheOp {
    pub kind: CacheOpKind,
    pub state: CacheOpState,
    /// Absolute path it removes.
    pub path: PathBuf,
    /// Its repository (None for [`CacheOpKind::Trash`]).
    pub repo_id: Option<String>,
    pub repo_type: Option<RepoType>,
    /// The revision, for `Ref`, `Snapshot`, `File`.
    pub commit_hash: Option<String>,
    /// The ref name, file name, blob etag, partial file name or commit
    /// (`NoExist`, `Tree`) it is about; else None.
    pub name: Option<String>,
    /// Space it frees (0: shared, or only links).
    pub bytes: u64,
    /// Why it was not done, or None.
    pub message: Option<String>,
}

/// Options of [`Client::cache_plan_prune`]: `PruneOptions::new()` removes
/// only what nothing uses (detached revisions, partial downloads stale
/// for an hour, unused blobs, leftovers).
#[derive(Debug, Clone, Default)]
pub struct PruneOptions {
    older_than: Option<Duration>,
    max_size: Option<u64>,
    partial_age: Option<Duration>,
    now: Option<i64>,
}

impl PruneOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Also delete revisions, referenced or not, unused (newest blob
    /// atime) for this long. Must be at least a second.
    pub fn older_than(mut self, age: Duration) -> Self {
        self.older_than = Some(age);
        self
    }

    /// Then delete the least recently used revisions until the cache's
    /// distinct blobs fit in this many bytes (> 0).
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = Some(bytes);
        self
    }

    /// A partial download nobody writes is stale after this long (default
    /// one hour, so a stopped download can still resume); zero: any age.
    pub fn partial_age(mut self, age: Duration) -> Self {
        self.partial_age = Some(age);
        self
    }

    /// "Now" for the ages, in unix seconds (default: the clock).
    pub fn now(mut self, unix_seconds: i64) -> Self {
        self.now = Some(unix_seconds);
        self
    }

    fn to_c(&self) -> Result<ffi::PruneRaw> {
        let secs = |d: Duration| d.as_secs().min(i64::MAX as u64) as i64;
        let older_than = match self.older_than {
            None => 0,
            Some(d) if d.as_secs() >= 1 => secs(d),
            Some(d) => return Err(Error::invalid(format!("older_than {d:?}: at least 1 s"))),
        };
        let max_size = match self.max_size {
            None => 0,
            Some(0) => return Err(Error::invalid("max_size 0: at least 1 byte".into())),
            Some(n) => n,
        };
        let partial_age = match self.partial_age {
            None => 0,
            Some(d) if d.as_secs() == 0 => -1, // any age
            Some(d) => secs(d),
        };
        Ok(ffi::PruneRaw {
            older_than,
            max_size,
            partial_age,
            now: self.now.unwrap_or(0),
        })
    }
}

/// A deletion plan of the client's cache, from
/// [`Client::cache_plan_delete`] or [`Client::cache_plan_prune`]: look at
/// its [`operations`](Self::operations) and [`bytes`](Self::bytes), then
/// [`execute`](Self::execute) it, once.
///
/// It owns the C plan and the C scan result the plan points into, and
/// frees the plan, then the scan, when dropped. It keeps the client's C
/// handle alive (its execution is cancellable with the client's
/// [`CancelHandle`]), so it may outlive the [`Client`]. `Send`, not `Sync`.
/// ```compile_fail
/// fn sync<T: Sync>() {}
/// sync::<hubfetch::CachePlan>();
/// ```
pub struct CachePlan {
    raw: ffi::RawPlan,
    ops: Vec<CacheOp>,
    unmatched: Vec<String>,
    bytes: u64,
    freed: u64,
    executed: bool,
}

impl CachePlan {
    fn new(raw: ffi::RawPlan) -> CachePlan {
        CachePlan {
            ops: raw.operations(),
            unmatched: raw.unmatched(),
            bytes: raw.bytes(),
            freed: 0,
            executed: false,
            raw,
        }
    }

    /// Every operation, in execution order: per repository refs, then
    /// snapshots and files, then blobs and partial downloads, then the
    /// leftovers. Their states are updated by [`execute`](Self::execute).
    pub fn operations(&self) -> &[CacheOp] {
        &self.ops
    }

    /// Bytes the plan frees if every operation succeeds: each blob once,
    /// hard links and blobs kept by other revisions not at all
    /// (huggingface_hub's `expected_freed_size`).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Bytes freed by [`execute`](Self::execute) (0 before).
    pub fn freed(&self) -> u64 {
        self.freed
    }

    /// Targets of [`Client::cache_plan_delete`] that matched nothing.
    pub fn unmatched(&self) -> &[String] {
        &self.unmatched
    }

    pub fn is_executed(&self) -> bool {
        self.executed
    }

    /// Carry the plan out, in order. What cannot go safely (a download
    /// holds its lock, it changed since the scan) is kept, with state
    /// `InUse` / `Changed`, and is no error. Fails with [`ErrorKind::Io`]
    /// when some operation failed (the others were done; see their
    /// `message`), [`ErrorKind::Cancelled`] when the client's
    /// [`CancelHandle`] stopped it, [`ErrorKind::InvalidArgument`] when
    /// executed already, [`ErrorKind::Busy`] while the client runs
    /// something else. The operations are updated in every case.
    pub fn execute(&mut self) -> Result<()> {
        let r = self.raw.execute();
        if !matches!(&r, Err(e) if e.kind() == ErrorKind::InvalidArgument || e.kind() == ErrorKind::Busy)
        {
            self.executed = true;
        }
        self.ops = self.raw.operations();
        self.freed = self.raw.freed();
        r
    }
}

impl fmt::Debug for CachePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachePlan")
            .field("operations", &self.ops)
            .field("bytes", &self.bytes)
            .field("freed", &self.freed)
            .field("unmatched", &self.unmatched)
            .field("executed", &self.executed)
            .finish()
    }
}

// ---- cache verification ----------------------------------------------------------

/// What a [`VerifyItem`] reports (`enum hub_verify_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyStatus {
    /// The content does not hash to its expected digest.
    Mismatch,
    /// The content could not be read.
    Unreadable,
    /// A snapshot entry resolving to no blob (broken link, link out of
    /// the cache, not a file).
    Broken,
    /// Another defect of the repository (ref to a missing snapshot...).
    Defect,
    /// Remote: on the hub at that commit, absent here.
    Missing,
    /// Remote: here, not on the hub at that commit.
    Extra,
    /// Remote: the hub lists another digest.
    RemoteDiffers,
    /// Nothing to check the file against: not verified, no failure.
    Unverifiable,
    /// ModelScope classic cache: present, not in the index (`.msc`); the
    /// SDK downloads it again. No failure.
    Unindexed,
    /// A status this crate does not know (a newer library).
    Unknown(i32),
}

impl VerifyStatus {
    #[doc(hidden)]
    pub fn from_raw(v: i32) -> Self {
        use VerifyStatus::*;
        match v {
            1 => Mismatch,
            2 => Unreadable,
            3 => Broken,
            4 => Defect,
            5 => Missing,
            6 => Extra,
            7 => RemoteDiffers,
            8 => Unverifiable,
            9 => Unindexed,
            n => Unknown(n),
        }
    }

    /// The name `hubfetch cache verify --format json` uses.
    pub fn as_str(&self) -> &'static str {
        use VerifyStatus::*;
        match self {
            Mismatch => "mismatch",
            Unreadable => "unreadable",
            Broken => "broken",
            Defect => "defect",
            Missing => "missing",
            Extra => "extra",
            RemoteDiffers => "remote_differs",
            Unverifiable => "unverifiable",
            Unindexed => "unindexed",
            Unknown(_) => "unknown",
        }
    }
}

/// One finding of [`Client::cache_verify`]: a file, or a defect of a
/// repository.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyItem {
    pub status: VerifyStatus,
    /// Whether it counts as a failure under the options of the call.
    pub failed: bool,
    /// None for a local dir with no repository named.
    pub repo_id: Option<String>,
    pub repo_type: RepoType,
    pub commit: Option<String>,
    /// Path in the repository; None for a defect of the repository.
    pub file: Option<String>,
    /// Path on disk (the blob for a mismatch).
    pub path: Option<PathBuf>,
    /// "sha256" or "git-sha1".
    pub algorithm: Option<String>,
    /// Lowercase hex digests.
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// One line saying what is wrong.
    pub message: String,
}

/// The totals of [`Client::cache_verify`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifySummary {
    pub repos: u64,
    pub revisions: u64,
    /// Snapshot files checked, each revision's counted.
    pub files: u64,
    /// Distinct contents hashed, each once, and their bytes.
    pub blobs: u64,
    pub bytes: u64,
    pub failed_files: u64,
    pub unverifiable: u64,
    pub missing: u64,
    pub extra: u64,
    pub defects: u64,
    /// Wall time.
    pub seconds: f64,
    /// Hashing threads used.
    pub threads: u32,
}

/// What [`Client::cache_verify`] found. `ok`: nothing failed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CacheVerification {
    pub ok: bool,
    pub summary: VerifySummary,
    /// Failures first (repository, revision, file order), then missing
    /// and unverifiable files.
    pub items: Vec<VerifyItem>,
}

impl CacheVerification {
    /// The findings that are failures.
    pub fn failures(&self) -> impl Iterator<Item = &VerifyItem> {
        self.items.iter().filter(|i| i.failed)
    }
}

/// Options of [`Client::cache_verify`]; `VerifyOptions::new()` verifies
/// the whole cache, offline, on one thread per CPU.
#[derive(Default)]
pub struct VerifyOptions<'a> {
    targets: Vec<String>,
    remote: bool,
    fail_on_missing: bool,
    local_dir: Option<PathBuf>,
    repo_id: Option<String>,
    repo_type: RepoType,
    revision: Option<String>,
    threads: u32,
    progress: Option<RefCell<Box<ffi::ProgressFn<'a>>>>,
}

impl<'a> VerifyOptions<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// What to verify, as [`Client::cache_plan_delete`] takes targets.
    pub fn targets<I, S>(mut self, targets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.targets = targets.into_iter().map(Into::into).collect();
        self
    }

    /// Also compare each revision with the hub's listing of its commit
    /// (uses the network: the client must not be offline).
    pub fn remote(mut self, yes: bool) -> Self {
        self.remote = yes;
        self
    }

    /// With `remote`: files missing here fail.
    pub fn fail_on_missing(mut self, yes: bool) -> Self {
        self.fail_on_missing = yes;
        self
    }

    /// Verify this local dir (against its download metadata) instead of
    /// the cache; targets are then ignored.
    pub fn local_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.local_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Local dir with `remote`: the repository to compare with ...
    pub fn repo_id(mut self, id: &str) -> Self {
        self.repo_id = Some(id.to_owned());
        self
    }

    pub fn repo_type(mut self, t: RepoType) -> Self {
        self.repo_type = t;
        self
    }

    /// ... and its revision (default: the commit the metadata records).
    pub fn revision(mut self, rev: &str) -> Self {
        self.revision = Some(rev.to_owned());
        self
    }

    /// Hashing threads (0: one per CPU).
    pub fn threads(mut self, n: u32) -> Self {
        self.threads = n;
        self
    }

    /// Called on the calling thread about 10 times a second while hashing
    /// (phase `Verify`; `file_count`/`files_done` count distinct contents)
    /// and once at the end. Return true to cancel ([`ErrorKind::Cancelled`]).
    pub fn progress<F>(mut self, f: F) -> Self
    where
        F: FnMut(&Progress<'_>) -> bool + Send + 'a,
    {
        self.progress = Some(RefCell::new(Box::new(f)));
        self
    }

    fn to_c(&self) -> Result<ffi::VerifyRaw> {
        let targets = self
            .targets
            .iter()
            .map(|t| ffi::cstring("target", t.clone().into_bytes()))
            .collect::<Result<_>>()?;
        let opt = |what: &str, v: &Option<String>| -> Result<Option<CString>> {
            v.as_ref()
                .map(|s| ffi::cstring(what, s.clone().into_bytes()))
                .transpose()
        };
        Ok(ffi::VerifyRaw {
            flags: if self.remote {
                ffi::HUB_CACHE_VERIFY_REMOTE
            } else {
                0
            } | if self.fail_on_missing {
                ffi::HUB_CACHE_VERIFY_FAIL_ON_MISSING
            } else {
                0
            },
            targets: ffi::CStrList::new(targets),
            local_dir: self
                .local_dir
                .as_ref()
                .map(|d| ffi::cstring("local_dir", ffi::path_bytes(d)))
                .transpose()?,
            repo_id: opt("repo_id", &self.repo_id)?,
            repo_type: match self.repo_type {
                RepoType::Model => 0,
                RepoType::Dataset => 1,
                RepoType::Space => 2,
            },
            revision: opt("revision", &self.revision)?,
            threads: self.threads.min(i32::MAX as u32) as i32,
        })
    }
}

/// Options of one download or lookup; `'a` bounds the progress closure,
/// which may borrow from the caller's stack. `DownloadOptions::new()` is
/// "main", a model, everything.
#[derive(Default)]
pub struct DownloadOptions<'a> {
    repo_type: RepoType,
    revision: Option<String>,
    allow: Vec<String>,
    ignore: Vec<String>,
    files: Vec<String>,
    local_dir: Option<PathBuf>,
    local_files_only: bool,
    force_download: bool,
    dry_run: bool,
    prefer_offline: bool,
    progress: Option<RefCell<Box<ffi::ProgressFn<'a>>>>,
}

impl<'a> DownloadOptions<'a> {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn repo_type(mut self, t: RepoType) -> Self {
        self.repo_type = t;
        self
    }
    /// Branch, tag, full or short commit, or "refs/pr/N".
    pub fn revision(mut self, rev: &str) -> Self {
        self.revision = Some(rev.to_owned());
        self
    }
    /// huggingface_hub's fnmatch patterns: `*` also matches `/`.
    pub fn allow_patterns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, p: I) -> Self {
        self.allow = p.into_iter().map(Into::into).collect();
        self
    }
    pub fn ignore_patterns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, p: I) -> Self {
        self.ignore = p.into_iter().map(Into::into).collect();
        self
    }
    /// Exact repository paths, with or instead of patterns.
    pub fn files<I: IntoIterator<Item = S>, S: Into<String>>(mut self, f: I) -> Self {
        self.files = f.into_iter().map(Into::into).collect();
        self
    }
    /// Real files in this directory instead of the cache.
    pub fn local_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.local_dir = Some(dir.as_ref().to_owned());
        self
    }
    pub fn local_files_only(mut self, yes: bool) -> Self {
        self.local_files_only = yes;
        self
    }
    pub fn force_download(mut self, yes: bool) -> Self {
        self.force_download = yes;
        self
    }
    /// No request at all when the cache already holds everything asked for
    /// (a snapshot or patterns: only with the listing recorded at download);
    /// otherwise download as usual. A branch is then not checked for a
    /// newer commit.
    pub fn prefer_offline(mut self, yes: bool) -> Self {
        self.prefer_offline = yes;
        self
    }
    /// Plan only: report what would be fetched (see [`Client::download`]).
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
    /// Called about 10 times a second, on every phase change of a file and
    /// once at the end (`is_final`). Return true to cancel: the call then
    /// fails with [`ErrorKind::Cancelled`], keeping what it has for a later
    /// resume.
    pub fn progress<F>(mut self, f: F) -> Self
    where
        F: FnMut(&Progress<'_>) -> bool + Send + 'a,
    {
        self.progress = Some(RefCell::new(Box::new(f)));
        self
    }

    fn to_c(&self) -> Result<ffi::OwnedOptions> {
        let list = |what: &str, v: &[String]| -> Result<ffi::CStrList> {
            let items = v
                .iter()
                .map(|s| ffi::cstring(what, s.clone().into_bytes()))
                .collect::<Result<_>>()?;
            Ok(ffi::CStrList::new(items))
        };
        Ok(ffi::OwnedOptions {
            repo_type: match self.repo_type {
                RepoType::Model => 0,
                RepoType::Dataset => 1,
                RepoType::Space => 2,
            },
            revision: self
                .revision
                .as_ref()
                .map(|r| ffi::cstring("revision", r.clone().into_bytes()))
                .transpose()?,
            allow: list("allow pattern", &self.allow)?,
            ignore: list("ignore pattern", &self.ignore)?,
            files: list("file", &self.files)?,
            local_dir: self
                .local_dir
                .as_ref()
                .map(|d| ffi::cstring("local_dir", ffi::path_bytes(d)))
                .transpose()?,
            local_files_only: self.local_files_only,
            force_download: self.force_download,
            dry_run: self.dry_run,
            prefer_offline: self.prefer_offline,
        })
    }
}

/// A connection to a hub and a cache: endpoint, token, transfer settings.
/// Cheap to keep and reuse (connections are kept alive between calls).
///
/// `Send` but not `Sync`: the library serves one call per client at a time.
/// ```compile_fail
/// fn sync<T: Sync>() {}
/// sync::<hubfetch::Client>();
/// ```
pub struct Client {
    raw: Arc<ffi::RawClient>,
    _not_sync: PhantomData<Cell<()>>,
}

/// Cancels the download running on a [`Client`], from any thread.
#[derive(Clone)]
pub struct CancelHandle {
    raw: Arc<ffi::RawClient>,
}

impl CancelHandle {
    /// Stop the call running on the client (a download, or the job that
    /// owns it) within about 100 ms, wherever it waits; it fails with
    /// [`ErrorKind::Cancelled`] and keeps its partial files for a resume.
    /// The next call on the client clears the request: a cancel while
    /// nothing runs does nothing. Returns at once (`hub_client_cancel`).
    pub fn cancel(&self) {
        self.raw.cancel()
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle").finish()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint())
            .field("cache_dir", &self.cache_dir())
            .finish()
    }
}

impl Client {
    pub(crate) fn raw_arc(&self) -> Arc<ffi::RawClient> {
        Arc::clone(&self.raw)
    }

    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The effective cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.raw.cache_dir()
    }

    /// The effective (first) endpoint.
    pub fn endpoint(&self) -> String {
        self.raw.endpoint()
    }

    /// A handle that cancels this client's running download (or job) from
    /// any thread: see [`CancelHandle::cancel`]. It keeps the client's C
    /// handle alive, so it may outlive the `Client`.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            raw: Arc::clone(&self.raw),
        }
    }

    fn run(&self, what: ffi::Call, repo: &str, opts: &DownloadOptions) -> Result<ffi::Output> {
        let repo = ffi::cstring("repo_id", repo.as_bytes().to_vec())?;
        let c = opts.to_c()?;
        match &opts.progress {
            Some(cell) => {
                // busy only if a closure starts another download with the
                // same options: run that one without it
                let mut guard = match cell.try_borrow_mut() {
                    Ok(g) => g,
                    Err(_) => return ffi::call(&self.raw, what, &repo, &c, None),
                };
                ffi::call(&self.raw, what, &repo, &c, Some(&mut **guard))
            }
            None => ffi::call(&self.raw, what, &repo, &c, None),
        }
    }

    /// Download one file (as huggingface_hub's `hf_hub_download`); returns
    /// its path in the snapshot (or in `local_dir`). Patterns and files of
    /// `opts` are ignored.
    pub fn download_file(
        &self,
        repo_id: &str,
        filename: &str,
        opts: &DownloadOptions,
    ) -> Result<PathBuf> {
        let file = ffi::cstring("filename", filename.as_bytes().to_vec())?;
        match self.run(ffi::Call::File(&file), repo_id, opts)? {
            ffi::Output::Path(p) => Ok(p),
            ffi::Output::Result(r) => Ok(r.path.unwrap_or_default()),
        }
    }

    /// Download the files of a revision that the patterns select (as
    /// `snapshot_download`); returns the snapshot folder (or `local_dir`).
    pub fn snapshot_download(&self, repo_id: &str, opts: &DownloadOptions) -> Result<PathBuf> {
        match self.run(ffi::Call::Snapshot, repo_id, opts)? {
            ffi::Output::Path(p) => Ok(p),
            ffi::Output::Result(r) => Ok(r.path.unwrap_or_default()),
        }
    }

    /// The general form, reporting every file (status, size, endpoint).
    /// With exactly one file in `files` and no patterns it is
    /// [`download_file`](Self::download_file), else a snapshot.
    pub fn download(&self, repo_id: &str, opts: &DownloadOptions) -> Result<DownloadResult> {
        result(self.run(ffi::Call::Download, repo_id, opts)?)
    }

    /// Is it in the cache? Never uses the network. `complete` tells whether
    /// every file asked for is there; missing ones have status `Missing`.
    pub fn cache_lookup(&self, repo_id: &str, opts: &DownloadOptions) -> Result<DownloadResult> {
        result(self.run(ffi::Call::Lookup, repo_id, opts)?)
    }

    /// What the client's cache holds, as huggingface_hub's `scan_cache_dir`
    /// (see [`CacheInfo`]). Reads only; never the network. Fails with
    /// [`ErrorKind::NotCached`] when the folder does not exist,
    /// [`ErrorKind::Io`] when it cannot be read. A ModelScope client scans
    /// ModelScope's layouts (libhubfetch 0.4).
    pub fn cache_scan(&self) -> Result<CacheInfo> {
        ffi::cache_scan(&self.raw)
    }

    /// Verify the client's cache (or a local dir), as `hubfetch cache
    /// verify`: every selected snapshot file must resolve to a blob whose
    /// content hashes to the blob's name (sha256, or git's sha1); each
    /// distinct blob is hashed once, on several threads. A failure is a
    /// finding (`ok` false), not an error; errors are
    /// [`ErrorKind::NotCached`] (no cache folder, a target matching
    /// nothing), [`ErrorKind::InvalidArgument`], [`ErrorKind::Cancelled`]
    /// (the progress closure or the [`CancelHandle`]),
    /// [`ErrorKind::Unsupported`] (a ModelScope client), and with `remote`
    /// those of the hub's listing. Offline unless `remote`.
    pub fn cache_verify(&self, opts: &VerifyOptions) -> Result<CacheVerification> {
        let c = opts.to_c()?;
        match &opts.progress {
            Some(cell) => match cell.try_borrow_mut() {
                Ok(mut g) => ffi::cache_verify(&self.raw, &c, Some(&mut **g)),
                Err(_) => ffi::cache_verify(&self.raw, &c, None),
            },
            None => ffi::cache_verify(&self.raw, &c, None),
        }
    }

    /// Scan the client's cache and plan the deletion of `targets`, as
    /// `hubfetch cache rm` takes them: `ID`, `TYPE:ID` or `TYPE/ID` (a
    /// repository), `ID@REV` (a revision: commit, unique prefix of 4+ hex
    /// digits, or ref), `ID@REV:PATH` (one file, PATH as
    /// [`CachedFile::file_name`]), or a 40-hex commit. A blob goes only when
    /// no remaining revision uses it; every revision of a repository is
    /// the whole repository. Targets matching nothing are
    /// [`CachePlan::unmatched`]; a malformed or ambiguous one is
    /// [`ErrorKind::InvalidArgument`]. Deletes nothing: see
    /// [`CachePlan::execute`].
    pub fn cache_plan_delete(&self, targets: &[&str]) -> Result<CachePlan> {
        ffi::RawPlan::delete(Arc::clone(&self.raw), targets).map(CachePlan::new)
    }

    /// Scan the client's cache and plan a prune, as `hubfetch cache prune`:
    /// detached revisions, stale partial downloads, unused blobs,
    /// `.no_exist/` and `trees/` entries of commits gone, empty folders,
    /// leftovers of an interrupted deletion; then, per `opts`, old or
    /// least recently used revisions. Deletes nothing: see
    /// [`CachePlan::execute`].
    pub fn cache_plan_prune(&self, opts: PruneOptions) -> Result<CachePlan> {
        ffi::RawPlan::prune(Arc::clone(&self.raw), opts.to_c()?).map(CachePlan::new)
    }

    /// Start [`download`](Self::download) on a thread of its own. The
    /// progress closure runs on that thread. The client is the job's until
    /// it finished.
    pub fn start_job(&self, repo_id: &str, opts: DownloadOptions<'static>) -> Result<Job> {
        let repo = ffi::cstring("repo_id", repo_id.as_bytes().to_vec())?;
        let c = opts.to_c()?;
        let progress = opts.progress.map(RefCell::into_inner);
        let raw = ffi::RawJob::start(Arc::clone(&self.raw), &repo, &c, progress)?;
        Ok(Job {
            raw,
            outcome: Mutex::new(None),
            recorded: Condvar::new(),
        })
    }
}

fn result(out: ffi::Output) -> Result<DownloadResult> {
    match out {
        ffi::Output::Result(r) => Ok(r),
        ffi::Output::Path(p) => Ok(DownloadResult {
            path: Some(p),
            commit: None,
            files: vec![],
            complete: true,
        }),
    }
}

/// A download running on a thread of its own. Every method may be called
/// from any thread. Dropping a job that still runs cancels it and waits for
/// its thread to stop.
pub struct Job {
    raw: ffi::RawJob,
    // the library hands the result to the first waiter, which records it
    // here; the others get a copy
    outcome: Mutex<Option<Result<DownloadResult>>>,
    recorded: Condvar,
}

impl Job {
    /// The latest job-level progress; never blocks.
    pub fn poll(&self) -> Progress<'static> {
        self.raw.poll()
    }

    /// Ask the job to stop; returns at once. The job then ends with
    /// [`ErrorKind::Cancelled`].
    pub fn cancel(&self) {
        self.raw.cancel()
    }

    pub fn is_done(&self) -> bool {
        self.raw.done()
    }

    /// Wait for the job to finish and return its outcome.
    pub fn wait(&self) -> Result<DownloadResult> {
        match self.wait_timeout_ms(-1) {
            Some(r) => r,
            None => unreachable!("waiting forever returned early"),
        }
    }

    /// Wait at most `timeout`; None if the job is still running then.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Result<DownloadResult>> {
        self.wait_timeout_ms(timeout.as_millis().min(i64::MAX as u128) as i64)
    }

    fn wait_timeout_ms(&self, ms: i64) -> Option<Result<DownloadResult>> {
        let lock = || self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if lock().is_none() {
            // not under the lock: a waiter with a short timeout must not
            // queue behind one that waits forever
            let waited = self.raw.wait(ms)?;
            let mut outcome = lock();
            match waited {
                Ok(Some(r)) => *outcome = Some(Ok(r)),
                // another waiter took the result and is about to record it
                Ok(None) => {
                    while outcome.is_none() {
                        outcome = self
                            .recorded
                            .wait(outcome)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                }
                Err(e) => {
                    if outcome.is_none() {
                        *outcome = Some(Err(e));
                    }
                }
            }
            self.recorded.notify_all();
        }
        if let Some(panic) = self.raw.take_panic() {
            std::panic::resume_unwind(panic);
        }
        lock().clone()
    }
}

impl fmt::Debug for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("done", &self.is_done())
            .finish()
    }
}
