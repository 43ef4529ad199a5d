//! Bytes of a repository's file without downloading it into the cache
//! (`hub_read`, `hub_read_buf`), and the remote header readers
//! (`hub_safetensors_info_remote`, `hub_gguf_info_remote`).

use std::ffi::CString;

use crate::{ffi, Client, GgufInfo, HeaderOptions, RepoType, Result, SafetensorsInfo};

/// Ranges up to this size go through one buffer (`hub_read_buf`); longer
/// reads and whole files are gathered from the streamed chunks.
const READ_BUF_MAX: u64 = 64 << 20;

/// Options of [`Client::read`], [`Client::read_with`] and the remote header
/// readers (`hub_read_options`).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    repo_type: RepoType,
    revision: Option<String>,
    verify: bool,
    no_cache: bool,
}

impl ReadOptions {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn repo_type(mut self, t: RepoType) -> Self {
        self.repo_type = t;
        self
    }
    /// Branch, tag, full or short commit, or "refs/pr/N" (default "main").
    pub fn revision(mut self, rev: &str) -> Self {
        self.revision = Some(rev.to_string());
        self
    }
    /// Hash the bytes as they stream and compare with the hub's etag:
    /// [`ErrorKind::Checksum`](crate::ErrorKind) after the last byte was
    /// delivered. Whole files only (offset 0, no length): else
    /// `InvalidArgument`. Ignored by the header readers.
    pub fn verify(mut self, yes: bool) -> Self {
        self.verify = yes;
        self
    }
    /// Ask the hub even when the cache holds the file.
    pub fn no_cache(mut self, yes: bool) -> Self {
        self.no_cache = yes;
        self
    }

    fn to_c(&self) -> Result<(ffi::hub_read_options, Option<CString>)> {
        let rev = self
            .revision
            .as_ref()
            .map(|r| ffi::cstring("revision", r.clone().into_bytes()))
            .transpose()?;
        let flags = if self.verify { ffi::HUB_READ_VERIFY } else { 0 }
            | if self.no_cache {
                ffi::HUB_READ_NO_CACHE
            } else {
                0
            };
        let repo_type = match self.repo_type {
            RepoType::Model => 0,
            RepoType::Dataset => 1,
            RepoType::Space => 2,
        };
        // the struct points into `rev`: returned together, kept together
        let o = ffi::read_options(repo_type, &rev, flags)?;
        Ok((o, rev))
    }
}

/// What a read learnt about the file (`hub_read_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadInfo {
    /// Size of the whole file; None if the server did not say.
    pub size: Option<u64>,
    /// sha256 (LFS, 64 hex) or git blob sha1 (40 hex); None if unknown.
    pub etag: Option<String>,
    /// The commit read (40 hex); None if unknown.
    pub commit: Option<String>,
    /// Read from the cache, no request made.
    pub from_cache: bool,
    /// Body bytes received over the network (retries included).
    pub bytes_fetched: u64,
    /// Bytes handed to the closure.
    pub bytes_read: u64,
}

impl Client {
    /// Stream bytes `[offset, offset + length)` of a file of a repository
    /// (`length` None: to the end) to `on_data`, in order, as they arrive
    /// (`hub_read`); nothing is written to the cache. `on_data` returning
    /// true stops the read ([`ErrorKind::Cancelled`](crate::ErrorKind)); a
    /// panic in it stops the read too and is resumed when the call returns.
    /// A range reaching past the end is cut there; one starting past it
    /// is `InvalidArgument` (the message gives the size). A file the cache
    /// holds at that revision is read from disk with no request, unless
    /// [`ReadOptions::no_cache`]; an offline client reads only the cache
    /// (`NotCached`).
    pub fn read_with<F: FnMut(&[u8]) -> bool>(
        &self,
        repo_id: &str,
        path: &str,
        offset: u64,
        length: Option<u64>,
        opts: &ReadOptions,
        mut on_data: F,
    ) -> Result<ReadInfo> {
        let repo = ffi::cstring("repo_id", repo_id.as_bytes().to_vec())?;
        let path = ffi::cstring("path", path.as_bytes().to_vec())?;
        let (o, _rev) = opts.to_c()?;
        ffi::read(
            &self.raw,
            &repo,
            &path,
            offset,
            length.unwrap_or(u64::MAX),
            &o,
            &mut on_data,
        )
    }

    /// The bytes `[offset, offset + length)` of a file of a repository
    /// (`length` None: to the end), without downloading it into the cache;
    /// fewer at the end of the file. Errors as [`read_with`](Self::read_with);
    /// a missing file is `EntryNotFound`.
    pub fn read(
        &self,
        repo_id: &str,
        path: &str,
        offset: u64,
        length: Option<u64>,
        opts: &ReadOptions,
    ) -> Result<Vec<u8>> {
        match length {
            Some(n) if n <= READ_BUF_MAX && !opts.verify => {
                let repo = ffi::cstring("repo_id", repo_id.as_bytes().to_vec())?;
                let path = ffi::cstring("path", path.as_bytes().to_vec())?;
                let (o, _rev) = opts.to_c()?;
                let mut buf = vec![0u8; n as usize];
                let got = ffi::read_buf(&self.raw, &repo, &path, offset, &mut buf, &o)?;
                buf.truncate(got);
                Ok(buf)
            }
            _ => {
                let mut out = Vec::new();
                self.read_with(repo_id, path, offset, length, opts, |b| {
                    out.extend_from_slice(b);
                    false
                })?;
                Ok(out)
            }
        }
    }

    /// The header of a safetensors file of a repository (or of every shard
    /// a `*.safetensors.index.json` names), read with ranged requests and
    /// never the tensor data; from the cache with no request when it holds
    /// the file. The same [`SafetensorsInfo`] as
    /// [`safetensors_info_file`](crate::safetensors_info_file).
    pub fn safetensors_info_remote(
        &self,
        repo_id: &str,
        path: &str,
        opts: &ReadOptions,
    ) -> Result<SafetensorsInfo> {
        self.safetensors_info_remote_with(repo_id, path, opts, &HeaderOptions::new())
    }

    pub fn safetensors_info_remote_with(
        &self,
        repo_id: &str,
        path: &str,
        opts: &ReadOptions,
        header: &HeaderOptions,
    ) -> Result<SafetensorsInfo> {
        let repo = ffi::cstring("repo_id", repo_id.as_bytes().to_vec())?;
        let path = ffi::cstring("path", path.as_bytes().to_vec())?;
        let (o, _rev) = opts.to_c()?;
        let h = header.to_c()?;
        ffi::safetensors_info_remote(&self.raw, &repo, &path, &o, &h)
    }

    /// The header of a GGUF file of a repository, read with ranged requests
    /// (at most 2 MiB past the header), or from the cache with no request:
    /// the same [`GgufInfo`] as [`gguf_info_file`](crate::gguf_info_file).
    pub fn gguf_info_remote(
        &self,
        repo_id: &str,
        path: &str,
        opts: &ReadOptions,
    ) -> Result<GgufInfo> {
        self.gguf_info_remote_with(repo_id, path, opts, &HeaderOptions::new())
    }

    pub fn gguf_info_remote_with(
        &self,
        repo_id: &str,
        path: &str,
        opts: &ReadOptions,
        header: &HeaderOptions,
    ) -> Result<GgufInfo> {
        let repo = ffi::cstring("repo_id", repo_id.as_bytes().to_vec())?;
        let path = ffi::cstring("path", path.as_bytes().to_vec())?;
        let (o, _rev) = opts.to_c()?;
        let h = header.to_c()?;
        ffi::gguf_info_remote(&self.raw, &repo, &path, &o, &h)
    }
}
