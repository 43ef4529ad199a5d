"""Exceptions, named as huggingface_hub names them where it has a name.

Every failure of the library is an HfHubError carrying the library's error
`code` (negative int), its symbolic `error_name` ("ENOREPO"), the HTTP
`http_status` involved (0 if none) and the library's one-line `message`,
which names the repository, file and status concerned.

    HfHubError (alias HubfetchError)
    +-- HfHubHTTPError                  the hub refused (401, 429, 5xx...)
    |   +-- RepositoryNotFoundError     ENOREPO
    |   |   +-- GatedRepoError          EGATED (as in huggingface_hub)
    |   +-- RevisionNotFoundError       ENOREV
    |   +-- EntryNotFoundError          ENOENTRY
    |   |   +-- NotASafetensorsRepoError get_safetensors_metadata(): neither
    |   |                               model.safetensors nor its index
    |   +-- AuthenticationError         EAUTH (no token, or the hub refused it)
    |       +-- LocalTokenNotFoundError whoami() without a token (also OSError)
    +-- LocalEntryNotFoundError         ENOTCACHED (also a FileNotFoundError)
    |   +-- CacheNotFound               scan_cache_dir(): no cache folder
    +-- NetworkError                    ENET, ETLS, ETIMEOUT, EPROXY (ConnectionError)
    +-- ChecksumError                   ECHECKSUM
    +-- DownloadCancelled               ECANCELLED
    +-- CacheError                      EIO, ENOSPC, ELOCKED (OSError)
    +-- ClientBusyError                 EBUSY
    +-- InvalidArgumentError            EINVAL, EVERSION (ValueError)
    +-- FileFormatError                 EFORMAT: a malformed safetensors or
                                        GGUF header (ValueError; alias
                                        SafetensorsParsingError)

CorruptedCacheException is no failure: scan_cache_dir() lists them in
HFCacheInfo.warnings, as huggingface_hub does.
"""

from ._lib import E


class HfHubError(Exception):
    """A libhubfetch failure. str(e) is the library's message."""

    def __init__(self, message, code=E.ERROR, http_status=0, error_name="ERROR"):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.error_name = error_name

    def __str__(self):
        return self.message


HubfetchError = HfHubError


class HfHubHTTPError(HfHubError):
    """The hub answered with an error status."""


class RepositoryNotFoundError(HfHubHTTPError):
    """No such repository, or it is private and the token cannot read it."""


class GatedRepoError(RepositoryNotFoundError):
    """The repository is gated and the token has not been granted access."""


class RevisionNotFoundError(HfHubHTTPError):
    """No such branch, tag or commit."""


class EntryNotFoundError(HfHubHTTPError):
    """No such file in the repository at that revision."""


class AuthenticationError(HfHubHTTPError):
    """The call needs a token and there is none, or the hub refused it
    (401). `http_status` is 0 when no token was there to send."""


# OSError subclasses come second in the bases: Python picks their layout,
# as huggingface_hub does for LocalEntryNotFoundError.
class LocalEntryNotFoundError(HfHubError, FileNotFoundError):
    """Not in the cache, and the network was not to be used (or unreachable)."""


class CacheNotFound(LocalEntryNotFoundError):
    """scan_cache_dir(): the cache folder does not exist (huggingface_hub's
    CacheNotFound). `cache_dir` is the folder looked for."""

    def __init__(self, message, cache_dir=None, **kw):
        super().__init__(message, **kw)
        self.cache_dir = cache_dir


class CorruptedCacheException(Exception):
    """One problem scan_cache_dir() found (huggingface_hub's class of that
    name). Never raised: collected in HFCacheInfo.warnings. str(e) is the
    library's line, which names the path concerned; `repo_path` is the
    repository's folder (a pathlib.Path), or None for an entry of the cache
    folder that is no repository."""

    def __init__(self, message, repo_path=None):
        super().__init__(message)
        self.message = message
        self.repo_path = repo_path

    def __str__(self):
        return self.message


class LocalTokenNotFoundError(AuthenticationError, OSError):
    """whoami() on a client without a token (huggingface_hub raises its
    LocalTokenNotFoundError, an EnvironmentError, there)."""


class NetworkError(HfHubError, ConnectionError):
    """The hub (or proxy, or CDN) could not be reached or talked to."""


class ChecksumError(HfHubError):
    """The bytes received do not match the digest the hub announced."""


class DownloadCancelled(HfHubError):
    """Cancelled by the progress callback or Job.cancel(); resumable."""


class CacheError(HfHubError, OSError):
    """Writing to the cache failed: disk error, disk full, lock timeout."""


class ClientBusyError(HfHubError):
    """The client is in use by a job, or a callback called back into it."""


class InvalidArgumentError(HfHubError, ValueError):
    """A bad argument or an option struct version the library refuses."""


class FileFormatError(HfHubError, ValueError):
    """A safetensors or GGUF header is malformed; the message names the
    file, the tensor or key and what is wrong."""


SafetensorsParsingError = FileFormatError  # huggingface_hub's name


class NotASafetensorsRepoError(EntryNotFoundError):
    """get_safetensors_metadata(): the revision has neither
    `model.safetensors` nor `model.safetensors.index.json`
    (huggingface_hub's name; code ENOENTRY)."""


_CLASSES = {
    E.ENOREPO: RepositoryNotFoundError,
    E.EGATED: GatedRepoError,
    E.ENOREV: RevisionNotFoundError,
    E.ENOENTRY: EntryNotFoundError,
    E.EAUTH: AuthenticationError,
    E.ERATELIMIT: HfHubHTTPError,
    E.EHTTP: HfHubHTTPError,
    E.EPROTO: HfHubHTTPError,
    E.ENOTCACHED: LocalEntryNotFoundError,
    E.ENET: NetworkError,
    E.ETLS: NetworkError,
    E.ETIMEOUT: NetworkError,
    E.EPROXY: NetworkError,
    E.ECHECKSUM: ChecksumError,
    E.ECANCELLED: DownloadCancelled,
    E.EIO: CacheError,
    E.ENOSPC: CacheError,
    E.ELOCKED: CacheError,
    E.EBUSY: ClientBusyError,
    E.EINVAL: InvalidArgumentError,
    E.EVERSION: InvalidArgumentError,
    E.EFORMAT: FileFormatError,
}


def error_class(code):
    """The exception class for a library error code."""
    return _CLASSES.get(code, HfHubError)
