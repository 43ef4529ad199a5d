//! What a revision holds on the hub (`hub_list_*`, `hub_stat`), who a token
//! belongs to (`hub_whoami`) and the token file (`hub_token_*`).

use std::ffi::CString;
use std::path::PathBuf;

use crate::{ffi, Client, RepoType, Result};

/// A file or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryType {
    File,
    Directory,
}

/// LFS facts of a file (huggingface_hub's `BlobLfsInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LfsInfo {
    /// sha256 of the content: the blob's name in the cache.
    pub sha256: String,
    pub size: u64,
    /// Size of the pointer file git stores.
    pub pointer_size: u64,
}

/// The last commit touching an entry (with [`ListOptions::expand`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LastCommit {
    pub id: String,
    pub title: String,
    /// As the hub writes it (ISO 8601, "2024-01-02T00:00:00.000Z").
    pub date: String,
}

/// One entry of a revision, as the hub's tree API describes it
/// (huggingface_hub's `RepoFile` / `RepoFolder`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    pub kind: EntryType,
    /// Path in the repository, no leading '/'.
    pub path: String,
    /// Content size (LFS and Xet: the real content's); 0 for a folder.
    pub size: u64,
    /// Git object id: `blob_id` (of the pointer file for LFS) or, for a
    /// folder, `tree_id`. None if the hub gave none.
    pub oid: Option<String>,
    pub lfs: Option<LfsInfo>,
    /// Xet-stored files: the Xet hash.
    pub xet_hash: Option<String>,
    pub last_commit: Option<LastCommit>,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.kind == EntryType::Directory
    }
}

/// Options of [`Client::list`] and [`Client::stat`].
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    repo_type: RepoType,
    revision: Option<String>,
    recursive: bool,
    expand: bool,
}

impl ListOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn repo_type(mut self, t: RepoType) -> Self {
        self.repo_type = t;
        self
    }
    /// Branch, tag, commit or "refs/pr/N" (default "main").
    pub fn revision(mut self, rev: &str) -> Self {
        self.revision = Some(rev.to_string());
        self
    }
    /// Everything below the folder, not only its direct entries.
    pub fn recursive(mut self, yes: bool) -> Self {
        self.recursive = yes;
        self
    }
    /// Also each entry's last commit (the hub then pages by 50: slower).
    pub fn expand(mut self, yes: bool) -> Self {
        self.expand = yes;
        self
    }
}

fn repo_type_raw(t: RepoType) -> i32 {
    match t {
        RepoType::Model => 0,
        RepoType::Dataset => 1,
        RepoType::Space => 2,
    }
}

/// The entries of a folder, a page at a time: owns the C iterator
/// (`hub_list_free` on drop) and borrows its client, which it uses for
/// each further page. After an error it yields nothing more.
pub struct ListIter<'c> {
    raw: Option<ffi::RawList>,
    _client: &'c Client,
}

impl ListIter<'_> {
    /// The endpoint answering the listing (credentials masked).
    pub fn endpoint(&self) -> Option<&str> {
        self.raw.as_ref().map(|r| r.endpoint())
    }
}

impl Iterator for ListIter<'_> {
    type Item = Result<Entry>;
    fn next(&mut self) -> Option<Result<Entry>> {
        let item = self.raw.as_mut()?.next();
        if !matches!(item, Some(Ok(_))) {
            self.raw = None; // done or failed: free it now
        }
        item
    }
}

impl std::fmt::Debug for ListIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListIter")
            .field("open", &self.raw.is_some())
            .finish()
    }
}

/// Who a token belongs to (`GET /api/whoami-v2`, the fields the library
/// reads of huggingface_hub's `whoami()` dict).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WhoAmI {
    pub name: String,
    pub fullname: Option<String>,
    /// "user" or "org".
    pub type_: Option<String>,
    /// Names of the organisations, in the server's order.
    pub orgs: Vec<String>,
    /// `auth.accessToken.displayName`.
    pub token_name: Option<String>,
    /// `auth.accessToken.role`: "read", "write", "fineGrained".
    pub token_role: Option<String>,
}

impl Client {
    /// List the folder `path` (None: the root; a file: that file alone) of
    /// a repository at a revision (`hub_list_open`). The first page is
    /// asked for here, so a missing repository, revision or path is an
    /// `Err` of this call ([`ErrorKind::EntryNotFound`](crate::ErrorKind)
    /// for the path); later pages are fetched as the iterator needs them.
    /// Not for a ModelScope client.
    pub fn list(&self, repo_id: &str, path: Option<&str>, opts: &ListOptions) -> Result<ListIter<'_>> {
        let repo = ffi::cstring("repo_id", repo_id.as_bytes().to_vec())?;
        let path = path
            .filter(|p| !p.is_empty())
            .map(|p| ffi::cstring("path", p.as_bytes().to_vec()))
            .transpose()?;
        let rev = opt_c("revision", &opts.revision)?;
        let o = ffi::list_options(repo_type_raw(opts.repo_type), &rev, opts.recursive, opts.expand)?;
        let raw = ffi::RawList::open(self.raw_arc(), &repo, &path, &o)?;
        Ok(ListIter {
            raw: Some(raw),
            _client: self,
        })
    }

    /// One path, file or folder (`hub_stat`, the paths-info API);
    /// [`ErrorKind::EntryNotFound`](crate::ErrorKind) when it does not
    /// exist at the revision. `recursive` is ignored.
    pub fn stat(&self, repo_id: &str, path: &str, opts: &ListOptions) -> Result<Entry> {
        let repo = ffi::cstring("repo_id", repo_id.as_bytes().to_vec())?;
        let path = ffi::cstring("path", path.as_bytes().to_vec())?;
        let rev = opt_c("revision", &opts.revision)?;
        let o = ffi::list_options(repo_type_raw(opts.repo_type), &rev, false, opts.expand)?;
        ffi::stat(&self.raw_arc(), &repo, &path, &o)
    }

    /// Who the client's token belongs to (`hub_whoami`), asked of the
    /// client's first endpoint only. [`ErrorKind::Auth`](crate::ErrorKind)
    /// without a token (`http_status()` 0) or when the hub refuses it (401).
    pub fn whoami(&self) -> Result<WhoAmI> {
        ffi::whoami(&self.raw_arc())
    }
}

fn opt_c(what: &str, s: &Option<String>) -> Result<Option<CString>> {
    s.as_ref()
        .map(|s| ffi::cstring(what, s.as_bytes().to_vec()))
        .transpose()
}

/// The token file huggingface_hub reads and `hf auth login` writes
/// ($HF_TOKEN_PATH, else $HF_HOME/token, ...); it need not exist.
pub fn token_path() -> Result<PathBuf> {
    ffi::token_path()
}

/// Save a token as huggingface_hub's `login()` does: the token file, and
/// with a `name` also `stored_tokens` (mode 0600, renamed into place).
/// Not checked with the hub: call [`Client::whoami`] first.
pub fn save_token(token: &str, name: Option<&str>) -> Result<()> {
    let token = ffi::cstring("token", token.as_bytes().to_vec())?;
    let name = name
        .map(|n| ffi::cstring("name", n.as_bytes().to_vec()))
        .transpose()?;
    ffi::token_save(&token, &name)
}

/// Log out as huggingface_hub's `logout()`: remove the token file and
/// `stored_tokens`. True if a token file was there.
pub fn remove_token() -> Result<bool> {
    ffi::token_remove()
}
