"""hubfetch: download from the Hugging Face Hub into huggingface_hub's cache,
through libhubfetch (ctypes; no compile step).

    import hubfetch
    path = hubfetch.hf_hub_download("openai-community/gpt2", "config.json")
    folder = hubfetch.snapshot_download("openai-community/gpt2",
                                        allow_patterns=["*.json"],
                                        progress=lambda p: print(p.bytes_done))

The library is found through $HUBFETCH_LIB, else the system's library path,
else the repository's build/ directory. Names, arguments and exceptions
follow huggingface_hub; see Client for the settings shared by many calls
and Job for downloads in the background; scan_cache_dir() lists what the
cache holds (HFCacheInfo.delete_revisions() plans deletions, as
huggingface_hub's), delete_cache_targets(), prune_cache() and
verify_cache() are `hubfetch cache rm`, `prune` and `verify`.
Client.list_repo_tree(), get_paths_info() and whoami() ask the hub
without downloading; save_token() / remove_token() are login / logout;
parse_safetensors_file() and read_gguf_file() read local weight headers;
Client.read() / read_into() read bytes of a repository's file without
caching it, and get_safetensors_metadata(),
parse_safetensors_file_metadata() and read_gguf() read remote headers.
"""

from ._cache import (CachedFileInfo, CachedRepoInfo, CachedRevisionInfo, CacheOperation,
                     CacheVerification, DeleteCacheStrategy, HFCacheInfo, VerifyItem,
                     VerifySummary)
from ._core import (Client, FileInfo, FileStatus, Job, LogLevel, Phase, Progress,
                    ReadInfo, Result, cache_lookup, delete_cache_targets, get_paths_info,
                    get_safetensors_metadata, get_token_path, ggml_type_name,
                    hf_hub_download, library_version, list_repo_tree,
                    parse_safetensors_file, parse_safetensors_file_metadata, prune_cache,
                    read, read_gguf, read_gguf_file, read_into, remove_token, save_token,
                    scan_cache_dir, snapshot_download, try_to_load_from_cache,
                    verify_cache, whoami)
from ._remote import (BlobLfsInfo, LastCommitInfo, RepoFile, RepoFolder,
                      RepoTreeIterator)
from ._weights import (GGUFArraySummary, GGUFFile, GGUFTensorInfo,
                       SafetensorsFileMetadata, SafetensorsRepoMetadata, TensorInfo)
from .errors import (AuthenticationError, FileFormatError, LocalTokenNotFoundError,
                     SafetensorsParsingError, CacheError, CacheNotFound, ChecksumError, ClientBusyError,
                     CorruptedCacheException, DownloadCancelled, EntryNotFoundError,
                     GatedRepoError, HfHubError, HfHubHTTPError, HubfetchError,
                     InvalidArgumentError, LocalEntryNotFoundError, NetworkError,
                     NotASafetensorsRepoError,
                     RepositoryNotFoundError, RevisionNotFoundError)

__version__ = "0.4.0"

__all__ = [
    "Client", "Job", "Progress", "Phase", "FileStatus", "FileInfo", "Result",
    "LogLevel", "hf_hub_download", "snapshot_download", "cache_lookup",
    "try_to_load_from_cache", "library_version", "scan_cache_dir",
    "HFCacheInfo", "CachedRepoInfo", "CachedRevisionInfo", "CachedFileInfo",
    "delete_cache_targets", "prune_cache", "DeleteCacheStrategy", "CacheOperation",
    "verify_cache", "CacheVerification", "VerifyItem", "VerifySummary",
    "HfHubError", "HubfetchError", "HfHubHTTPError", "RepositoryNotFoundError",
    "GatedRepoError", "RevisionNotFoundError", "EntryNotFoundError",
    "LocalEntryNotFoundError", "NetworkError", "ChecksumError",
    "DownloadCancelled", "CacheError", "ClientBusyError", "InvalidArgumentError",
    "CacheNotFound", "CorruptedCacheException",
    "list_repo_tree", "get_paths_info", "RepoFile", "RepoFolder", "BlobLfsInfo",
    "LastCommitInfo", "RepoTreeIterator", "whoami", "get_token_path", "save_token",
    "remove_token", "parse_safetensors_file", "SafetensorsFileMetadata",
    "SafetensorsRepoMetadata", "TensorInfo", "read_gguf_file", "GGUFFile",
    "GGUFTensorInfo", "GGUFArraySummary", "ggml_type_name",
    "AuthenticationError", "LocalTokenNotFoundError", "FileFormatError",
    "SafetensorsParsingError", "read", "read_into", "ReadInfo",
    "get_safetensors_metadata", "parse_safetensors_file_metadata", "read_gguf",
    "NotASafetensorsRepoError",
]
