/* SPDX-License-Identifier: MIT */
/* hubfetch.h: the whole public API of libhubfetch. */
#ifndef HUBFETCH_H
#define HUBFETCH_H

/**
 * @file hubfetch.h
 *
 * libhubfetch downloads files, snapshots of repositories, datasets and spaces
 * from the Hugging Face Hub (or any endpoint speaking its protocol) into the
 * cache that `huggingface_hub` uses, byte for byte, so that transformers,
 * huggingface_hub, llama.cpp and the JS client find them there.
 *
 * Conventions (the contract; see docs/API.md for a tutorial):
 *
 * - Functions that can fail return `int`: #HUB_OK (0) or a negative
 *   #hub_error code. hub_error_last() then describes the failure in one line
 *   that names the repository, file and HTTP status concerned.
 * - Out-parameters come first. On failure they are set to NULL unless the
 *   function documents otherwise.
 * - Strings and arrays passed in option structs are copied when the call
 *   that takes them returns; the caller may free them right away.
 * - Memory returned through `char **` is freed with hub_free(); objects
 *   returned through `T **` with the matching `hub_T_free()`. Every free
 *   function accepts NULL.
 * - Option structs are versioned: initialise them with the `*_INIT` macro or
 *   the `*_init()` function before setting fields; a NULL options pointer
 *   means all defaults. Fields are only ever appended.
 *
 * Threading:
 *
 * - hub_global_init() must be called once before any other function and
 *   before threads that use the library start; hub_global_cleanup() once at
 *   the end. Both are reference counted.
 * - A #hub_client may be used by one thread at a time. Distinct clients may
 *   be used concurrently from distinct threads. The last-error record is per
 *   thread.
 * - Callbacks run on the thread that called the download function (for a
 *   #hub_job: on the job's worker thread). A callback must not call back
 *   into the same client; such a call fails with #HUB_EBUSY.
 * - hub_client_cancel() may be called from any thread, and from a signal
 *   handler.
 * - A cache directory may be shared by many processes and machines (NFS):
 *   writes go through lock files, unique temporary names and atomic renames.
 *
 * The library never prints, never exits and never aborts.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HUB_VERSION_MAJOR 0
#define HUB_VERSION_MINOR 4
#define HUB_VERSION_PATCH 0
/** Version as one number, MAJOR * 10000 + MINOR * 100 + PATCH. */
#define HUB_VERSION_NUM                                                        \
    (HUB_VERSION_MAJOR * 10000 + HUB_VERSION_MINOR * 100 + HUB_VERSION_PATCH)

#if defined(_WIN32)
#define HUB_EXTERN __declspec(dllimport)
#elif defined(__GNUC__)
#define HUB_EXTERN __attribute__((visibility("default")))
#else
#define HUB_EXTERN
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * The error table: name, value, short description. Values are pinned and
 * never reused. Every failure a user can meet maps to one of these.
 */
#define HUB_ERROR_MAP(XX)                                                      \
    XX(OK, 0, "success")                                                       \
    XX(ERROR, -1, "unspecified error")                                         \
    XX(EINVAL, -2, "invalid argument")                                         \
    XX(ENOMEM, -3, "out of memory")                                            \
    XX(EVERSION, -4, "unsupported options version")                            \
    XX(ENOREPO, -5, "repository not found")                                    \
    XX(ENOREV, -6, "revision not found")                                       \
    XX(ENOENTRY, -7, "file not found in repository")                           \
    XX(EGATED, -8, "gated repository: access not granted")                     \
    XX(EAUTH, -9, "not authorized")                                            \
    XX(ERATELIMIT, -10, "rate limited")                                        \
    XX(ENOTCACHED, -11, "not in the local cache")                              \
    XX(ENET, -12, "network error")                                             \
    XX(ETLS, -13, "TLS error")                                                 \
    XX(ETIMEOUT, -14, "timed out")                                             \
    XX(EPROXY, -15, "proxy error")                                             \
    XX(EHTTP, -16, "HTTP error")                                               \
    XX(EIO, -17, "disk I/O error")                                             \
    XX(ENOSPC, -18, "disk full")                                               \
    XX(ECHECKSUM, -19, "checksum mismatch")                                    \
    XX(EPROTO, -20, "unexpected response from server")                         \
    XX(ECANCELLED, -21, "cancelled")                                           \
    XX(ELOCKED, -22, "timed out waiting for a cache lock")                     \
    XX(EBUSY, -23, "client busy")                                              \
    XX(EUNSUPPORTED, -24, "not supported")                                     \
    XX(EFORMAT, -25, "malformed file header")

/** Error codes returned by every fallible function. */
typedef enum hub_error {
#define HUB__ERRNUM(name, value, text) HUB_##name = value,
    HUB_ERROR_MAP(HUB__ERRNUM)
#undef HUB__ERRNUM
        HUB__ERROR_LAST = -25
} hub_error;

/** Details of the last failure on the calling thread. */
typedef struct hub_error_info {
    int code;            /**< a #hub_error value */
    long http_status;    /**< HTTP status involved, or 0 */
    const char *message; /**< one line: what failed and what to do */
} hub_error_info;

/**
 * The last error raised on this thread. Never NULL. Meaningful only after a
 * call failed; valid until the next libhubfetch call on this thread.
 */
HUB_EXTERN const hub_error_info *hub_error_last(void);

/** Static text for an error code ("repository not found"). Thread-safe. */
HUB_EXTERN const char *hub_strerror(int code);

/** Symbolic name of an error code without prefix ("ENOREPO"). */
HUB_EXTERN const char *hub_error_name(int code);

/* ------------------------------------------------------------------------ */
/* Library                                                                  */
/* ------------------------------------------------------------------------ */

/** Version string of the library at run time, e.g. "0.1.0". */
HUB_EXTERN const char *hub_version(void);

/** Version number of the library at run time (see #HUB_VERSION_NUM). */
HUB_EXTERN int hub_version_num(void);

/**
 * Initialise global state (libcurl, OpenSSL). Reference counted; call once
 * per user before threads start. @return #HUB_OK or #HUB_ERROR.
 */
HUB_EXTERN int hub_global_init(void);

/** Release what hub_global_init() took, when the count drops to zero. */
HUB_EXTERN void hub_global_cleanup(void);

/** Free memory returned by the library through `char **`. NULL is fine. */
HUB_EXTERN void hub_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Logging                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum hub_log_level {
    HUB_LOG_ERROR = 0,
    HUB_LOG_WARN = 1,
    HUB_LOG_INFO = 2,
    HUB_LOG_DEBUG = 3,
    HUB_LOG_TRACE = 4
} hub_log_level;

/**
 * Log callback. `msg` is one line without a newline, valid during the call.
 * Tokens are never part of a message.
 */
typedef void (*hub_log_cb)(int level, const char *msg, void *payload);

/* ------------------------------------------------------------------------ */
/* Progress                                                                 */
/* ------------------------------------------------------------------------ */

/** What a file (or the job as a whole) is doing. */
typedef enum hub_phase {
    HUB_PHASE_RESOLVE = 0,  /**< asking the hub for revision/listing/metadata */
    HUB_PHASE_DOWNLOAD = 1, /**< bytes are flowing */
    HUB_PHASE_VERIFY = 2,   /**< finishing the digest of the last bytes */
    HUB_PHASE_DONE = 3,     /**< downloaded, verified and committed */
    HUB_PHASE_CACHED = 4,   /**< already in the cache, nothing fetched */
    HUB_PHASE_FAILED = 5    /**< this file failed (the job may go on) */
} hub_phase;

#define HUB_PROGRESS_VERSION 1

/**
 * A progress event. `file` is NULL for job-level events (resolve and the
 * final event). Sizes are UINT64_MAX while unknown. Valid during the
 * callback only.
 */
typedef struct hub_progress {
    unsigned int version;      /**< #HUB_PROGRESS_VERSION */
    hub_phase phase;           /**< phase of `file`, or of the job */
    const char *file;          /**< path in the repository, or NULL */
    size_t file_index;         /**< 0-based index of `file` in the plan */
    size_t file_count;         /**< files in the plan */
    uint64_t file_bytes_done;  /**< bytes of `file` on disk (resumed incl.) */
    uint64_t file_bytes_total; /**< size of `file` */
    uint64_t bytes_done;       /**< job: bytes of all files on disk */
    uint64_t bytes_total;      /**< job: total size of all planned files */
    size_t files_done;         /**< files finished (done, cached or failed) */
    double rate;               /**< job download rate, bytes/s (smoothed) */
    double eta;                /**< seconds left, or -1 when unknown */
    const char *endpoint;      /**< endpoint serving `file` (credentials
                                    masked), or NULL */
    int final;                 /**< 1 on the last event of the job */
} hub_progress;

/**
 * Progress callback: throttled to about 10 calls a second, plus every phase
 * change of a file and one final event. While the download only waits (a
 * retry backoff, a wait the server asked for, a cache lock held by another
 * process, a slow metadata request), a job-level event (`file` NULL)
 * repeating the current totals comes at least once a second. Return
 * nonzero to cancel: the download stops, keeps what it has for a later
 * resume, leaves the cache consistent and returns #HUB_ECANCELLED.
 */
typedef int (*hub_progress_cb)(const hub_progress *progress, void *payload);

/* ------------------------------------------------------------------------ */
/* Client                                                                   */
/* ------------------------------------------------------------------------ */

/** A client: endpoint, credentials, cache and transfer settings. Opaque. */
typedef struct hub_client hub_client;

/** Which hub a client talks to. */
typedef enum hub_kind {
    HUB_KIND_HF = 0,        /**< Hugging Face, or a mirror speaking its API */
    HUB_KIND_MODELSCOPE = 1 /**< ModelScope (modelscope.cn / .ai) */
} hub_kind;

/** Use the value from the environment, or the built-in default. */
#define HUB_AUTO (-1)

/** hub_client_options.flags: ignore every environment variable. */
#define HUB_CLIENT_IGNORE_ENV 0x1u

/* Version 1 is the layout below up to `hub`; version 2 appends
 * `send_token_to_mirrors`. Fields appended after a release bump it; the
 * library reads appended fields only when `version` covers them. */
#define HUB_CLIENT_OPTIONS_VERSION 2

/**
 * Client options. Every field left at its INIT value takes its default from
 * the environment exactly as huggingface_hub reads it (unless
 * #HUB_CLIENT_IGNORE_ENV), else the built-in default given here.
 */
typedef struct hub_client_options {
    unsigned int version; /**< #HUB_CLIENT_OPTIONS_VERSION */
    unsigned int flags;   /**< HUB_CLIENT_* flags */

    /** Hub endpoint URL. NULL: $HF_ENDPOINT, else https://huggingface.co.
     * Credentials in it ("https://user:pass@host") are used but never
     * shown: messages, logs, progress and results mask them. */
    const char *endpoint;
    /**
     * Access token. NULL: $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, else the file
     * $HF_TOKEN_PATH (default $HF_HOME/token). "" sends no token.
     * It is sent only to the origin of `endpoint` (for "auto":
     * https://huggingface.co; for ModelScope's defaults: its two sites),
     * never to the fallback endpoints unless `send_token_to_mirrors`.
     */
    const char *token;
    /**
     * Cache directory. NULL: $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE,
     * $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub
     */
    const char *cache_dir;
    /** 1: never use the network. HUB_AUTO: $HF_HUB_OFFLINE, then
     * $TRANSFORMERS_OFFLINE. */
    int offline;
    /** 0: copy files into snapshots instead of symlinking. HUB_AUTO:
     * symlinks unless $HF_HUB_DISABLE_SYMLINKS. */
    int symlinks;
    /** Extra product token appended to the User-Agent, or NULL. */
    const char *user_agent;

    /** Files fetched at once. 0: 8. */
    int max_files;
    /** Connections per large file. 0: 16 (bench/RESULTS.md). */
    int connections;
    /** Cap on all connections of a download. 0: default. */
    int max_connections;
    /** Global download rate cap in bytes per second. 0: unlimited. */
    uint64_t max_rate;
    /** Files at least this big get several connections. 0: 16 MiB. */
    uint64_t split_threshold;
    /** Bytes per ranged request of a split file. 0: chosen per file
     * (size / (connections * 16), within 4..64 MiB). */
    uint64_t part_size;

    /** Connect timeout in ms. 0: 10000. */
    long connect_timeout_ms;
    /** No byte received for this long (ms) restarts a transfer. 0: 30000 */
    long stall_timeout_ms;
    /** Retries per request after the first attempt. HUB_AUTO: 5. */
    int max_retries;
    /** How long to wait for a file's lock held by another process while
     * that process shows no progress (its partial file does not grow), in
     * ms: a long download elsewhere is waited for, a stuck one is not.
     * 0: 600000 (10 min); -1 waits forever. */
    long lock_timeout_ms;

    /** Log callback and its payload, or NULL. */
    hub_log_cb log_cb;
    void *log_payload;
    /** Most verbose level passed to log_cb. Default HUB_LOG_WARN. */
    int log_level;

    /**
     * Proxy for every request: "http://[user:pass@]host:port",
     * "socks5://...", "socks5h://..." (names resolved by the proxy).
     * NULL: the environment as Python clients read it: HTTPS_PROXY or
     * HTTP_PROXY by the request's scheme, else ALL_PROXY, each in either
     * case (lowercase wins). "" uses no proxy.
     */
    const char *proxy;
    /** Hosts reached directly: "host,.domain,10.0.0.0/8" or "*". NULL:
     * $NO_PROXY / $no_proxy. */
    const char *no_proxy;
    /**
     * More endpoints, tried in order after `endpoint` when one cannot be
     * reached or answers 5xx (mirrors, failover). NULL: $HUBFETCH_ENDPOINTS
     * (comma-separated). The endpoint "auto" means https://hf-mirror.com
     * when the locale is Simplified Chinese and https://huggingface.co
     * otherwise, each falling back to the other.
     */
    const char *const *fallback_endpoints;
    size_t fallback_count;
    /** PEM file of CA certificates to trust. NULL: $SSL_CERT_FILE, else
     * $SSL_CERT_DIR (a directory), else the system's. */
    const char *ca_bundle;
    /**
     * #HUB_KIND_HF (default) or #HUB_KIND_MODELSCOPE. With ModelScope the
     * defaults come from its SDK's variables instead: endpoint
     * $MODELSCOPE_ENDPOINT, else https://$MODELSCOPE_DOMAIN, else
     * www.modelscope.cn then www.modelscope.ai (the other order with
     * MODELSCOPE_PREFER_AI_SITE=true); token $MODELSCOPE_API_TOKEN; cache
     * $MODELSCOPE_CACHE, else ~/.cache/modelscope/hub, in the layout both
     * of its SDKs read (docs/MODELSCOPE.md). HF_* variables are not read.
     */
    int hub;
    /**
     * 1: send the token to every endpoint, the fallbacks (mirrors) and the
     * one "auto" adds included. 0 (default): only to `endpoint`'s origin;
     * a mirror that answers 401/403 without it says so in the error, and
     * the client logs at #HUB_LOG_INFO when it withholds the token. Since
     * version 2.
     */
    int send_token_to_mirrors;
} hub_client_options;

#define HUB_CLIENT_OPTIONS_INIT                                                \
    {                                                                          \
        HUB_CLIENT_OPTIONS_VERSION, 0, NULL, NULL, NULL, HUB_AUTO, HUB_AUTO,   \
            NULL, 0, 0, 0, 0, 0, 0, 0, 0, HUB_AUTO, 0, NULL, NULL,             \
            HUB_LOG_WARN, NULL, NULL, NULL, 0, NULL, HUB_KIND_HF, 0            \
    }

/**
 * Initialise `opts` to the defaults for `version`.
 * @return #HUB_OK, or #HUB_EVERSION for an unknown version.
 */
HUB_EXTERN int hub_client_options_init(hub_client_options *opts,
                                       unsigned int version);

/**
 * Create a client. Reads the environment (unless told not to) and copies
 * every option. Makes no network request.
 * @param out receives the client; free it with hub_client_free().
 * @param opts options or NULL for defaults.
 * @return #HUB_OK, #HUB_EINVAL, #HUB_EVERSION, #HUB_ENOMEM.
 */
HUB_EXTERN int hub_client_new(hub_client **out, const hub_client_options *opts);

/** Free a client. NULL is fine. Must not be called while a job runs. */
HUB_EXTERN void hub_client_free(hub_client *client);

/**
 * Stop the call running on `client` (a download, or the job that owns the
 * client), like sqlite3_interrupt(): it returns #HUB_ECANCELLED as soon as
 * it can, within about 100 ms wherever it is (transfers, metadata
 * requests, retry backoffs, waits a server asked for, waits for a cache
 * lock another process holds), keeping its partial files for a later
 * resume and leaving the cache consistent. Returns at once.
 *
 * The request lasts until the next call on the client starts, which
 * clears it: a cancel made while no call runs has no effect, and one that
 * lands in the instant a call starts may be lost; a program cancelling
 * from a signal handler also returns nonzero from its progress callback
 * to close that gap (the callback hears from a waiting download at least
 * once a second). A call that was about to succeed may still succeed.
 *
 * Thread-safe and async-signal-safe: callable from any thread and from a
 * signal handler (it only sets an atomic flag). `client` must stay valid
 * meanwhile. NULL is fine. Since 0.3.
 */
HUB_EXTERN void hub_client_cancel(hub_client *client);

/** Effective cache directory. Valid until hub_client_free(). */
HUB_EXTERN const char *hub_client_cache_dir(const hub_client *client);

/** Effective (first) endpoint, as it may be shown: credentials in it are
 * masked (the user:password before the host becomes ***). Valid until
 * hub_client_free(). */
HUB_EXTERN const char *hub_client_endpoint(const hub_client *client);

/* ------------------------------------------------------------------------ */
/* Downloads                                                                */
/* ------------------------------------------------------------------------ */

typedef enum hub_repo_type {
    HUB_REPO_MODEL = 0,
    HUB_REPO_DATASET = 1,
    HUB_REPO_SPACE = 2
} hub_repo_type;

#define HUB_DOWNLOAD_OPTIONS_VERSION 2

/**
 * Options of one download or cache lookup. The library reads only the
 * fields of the version a caller sets: a program built against an older
 * header keeps working, the newer fields taking their defaults.
 */
typedef struct hub_download_options {
    unsigned int version;    /**< #HUB_DOWNLOAD_OPTIONS_VERSION */
    hub_repo_type repo_type; /**< default #HUB_REPO_MODEL */
    /** Branch, tag, full or short commit, or "refs/pr/N". NULL: "main". */
    const char *revision;
    /**
     * Snapshot filters, with the exact semantics of huggingface_hub's
     * fnmatch patterns: `*` and `?` also match `/`; a pattern ending in `/`
     * matches everything below. A file is kept if it matches any allow
     * pattern (or there are none) and no ignore pattern.
     */
    const char *const *allow_patterns;
    size_t allow_count;
    const char *const *ignore_patterns;
    size_t ignore_count;
    /** Exact repository paths to fetch (with or instead of patterns). */
    const char *const *files;
    size_t file_count;
    /** Put real files in this directory instead of the cache, or NULL. */
    const char *local_dir;
    /** 1: use only the cache, never the network. */
    int local_files_only;
    /** 1: fetch again even when cached. */
    int force_download;
    /** 1: plan only; report what would be fetched, fetch nothing. */
    int dry_run;
    /** Progress callback and its payload, or NULL. */
    hub_progress_cb progress_cb;
    void *progress_payload;
    /**
     * 1: when the cache already holds everything asked for, answer from it
     * without any request (not even the one that checks a branch for a new
     * commit); otherwise download as usual. A snapshot counts as held only
     * if its listing was recorded (`trees/<commit>.json`); in a local dir,
     * only named files whose metadata records the revision's commit count.
     * ModelScope downloads ignore it (its cache cannot tell which revision
     * a file belongs to). Since version 2.
     */
    int prefer_offline;
} hub_download_options;

#define HUB_DOWNLOAD_OPTIONS_INIT                                              \
    {                                                                          \
        HUB_DOWNLOAD_OPTIONS_VERSION, HUB_REPO_MODEL, NULL, NULL, 0, NULL, 0,  \
            NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0                              \
    }

/** Initialise `opts` to defaults. @return #HUB_OK or #HUB_EVERSION. */
HUB_EXTERN int hub_download_options_init(hub_download_options *opts,
                                         unsigned int version);

/** What happened to one file of a request. */
typedef enum hub_file_status {
    HUB_FILE_CACHED = 0,     /**< was already in place */
    HUB_FILE_DOWNLOADED = 1, /**< fetched and verified now */
    HUB_FILE_LINKED = 2,     /**< content was in the cache; linked in */
    HUB_FILE_MISSING = 3,    /**< not in the cache (lookups, failures) */
    HUB_FILE_PLANNED = 4     /**< dry run: would be fetched */
} hub_file_status;

/** One file of a #hub_result. Valid until hub_result_free(). */
typedef struct hub_file_info {
    const char *path;       /**< path in the repository */
    const char *local_path; /**< path on disk, or NULL when missing */
    uint64_t size;          /**< size in bytes, UINT64_MAX if unknown */
    const char *etag;       /**< sha256 (LFS) or git sha1, or NULL */
    hub_file_status status;
    const char *endpoint;   /**< endpoint that served it (credentials
                                 masked), or NULL */
    uint64_t bytes_fetched; /**< bytes received over the network now */
} hub_file_info;

/** The outcome of a download or lookup. Opaque. */
typedef struct hub_result hub_result;

/** Snapshot folder, local dir or file path. Valid until hub_result_free() */
HUB_EXTERN const char *hub_result_path(const hub_result *result);
/** The 40-hex commit the request resolved to, or NULL if unknown. */
HUB_EXTERN const char *hub_result_commit(const hub_result *result);
/** Number of files in the result. */
HUB_EXTERN size_t hub_result_file_count(const hub_result *result);
/** File `index`, or NULL if out of range. */
HUB_EXTERN const hub_file_info *hub_result_file(const hub_result *result,
                                                size_t index);
/** Free a result. NULL is fine. */
HUB_EXTERN void hub_result_free(hub_result *result);

/**
 * Download one file, as huggingface_hub's hf_hub_download().
 *
 * A pinned 40-hex revision whose file is cached costs no request at all.
 * Otherwise one metadata request, then the download (resumable, verified
 * by sha256 or git sha1 while streaming) into `blobs/`, linked into
 * `snapshots/<commit>/`. When the hub cannot be reached, the cached copy of
 * the revision is returned if there is one.
 *
 * Nothing a server says can hold the call: a wait it asks for (Retry-After,
 * RateLimit) is obeyed up to 300 s, a longer one fails at once with
 * #HUB_ERATELIMIT; an error answer is read for its first 16 KiB only; a
 * metadata request (HEAD, revision, listing page) gets 6 stall timeouts in
 * all, retries included, then fails with #HUB_ETIMEOUT. hub_client_cancel()
 * or the progress callback stop it wherever it waits.
 *
 * @param path_out receives the local path (free with hub_free()).
 * @param repo_id "org/name" or "name".
 * @param filename path of the file in the repository.
 * @return #HUB_OK, or #HUB_ENOREPO, #HUB_ENOREV, #HUB_ENOENTRY, #HUB_EGATED,
 *   #HUB_EAUTH, #HUB_ERATELIMIT, #HUB_ENOTCACHED, #HUB_ENET, #HUB_ETLS,
 *   #HUB_ETIMEOUT, #HUB_EPROXY, #HUB_EHTTP, #HUB_EIO, #HUB_ENOSPC,
 *   #HUB_ECHECKSUM, #HUB_EPROTO, #HUB_ECANCELLED, #HUB_ELOCKED, #HUB_EINVAL,
 *   #HUB_EVERSION (unknown options version), #HUB_EBUSY (the client is in
 *   use by a callback or a job), #HUB_EUNSUPPORTED (e.g. a space on
 *   ModelScope), #HUB_ENOMEM. `*path_out` is NULL on failure.
 */
HUB_EXTERN int hub_download_file(char **path_out,
                                 hub_client *client,
                                 const char *repo_id,
                                 const char *filename,
                                 const hub_download_options *opts);

/**
 * Download a snapshot of a repository, as huggingface_hub's
 * snapshot_download(): resolve the revision to a commit, list its files,
 * keep those the patterns select and fetch them in parallel.
 * @param path_out receives the snapshot folder (or local_dir).
 * @return as hub_download_file().
 */
HUB_EXTERN int hub_snapshot_download(char **path_out,
                                     hub_client *client,
                                     const char *repo_id,
                                     const hub_download_options *opts);

/**
 * The general form behind the two functions above: with `opts->files`
 * holding exactly one file and no patterns it behaves as
 * hub_download_file(); otherwise as hub_snapshot_download(). Also reports
 * every file (status, size, endpoint); with `dry_run` it fetches nothing.
 * @param out receives the result; free with hub_result_free().
 */
HUB_EXTERN int hub_download(hub_result **out,
                            hub_client *client,
                            const char *repo_id,
                            const hub_download_options *opts);

/**
 * Is it here? Answers from the cache alone, never the network, in
 * microseconds: resolves the revision through `refs/` and checks that
 * every file of `opts->files` and, for patterns, every file of the
 * revision's recorded listing that they select, is present.
 *
 * @param out receives a result listing each file as #HUB_FILE_CACHED or
 *   #HUB_FILE_MISSING; it is set on #HUB_OK and on #HUB_ENOTCACHED.
 * @return #HUB_OK when everything is present, #HUB_ENOTCACHED when
 *   something is missing (the message names it), #HUB_EINVAL,
 *   #HUB_EVERSION, #HUB_EBUSY, #HUB_ENOMEM.
 */
HUB_EXTERN int hub_cache_lookup(hub_result **out,
                                hub_client *client,
                                const char *repo_id,
                                const hub_download_options *opts);

/* ------------------------------------------------------------------------ */
/* Background jobs                                                          */
/* ------------------------------------------------------------------------ */

/**
 * A download running on a thread of its own, for GUIs and servers that
 * must not block. Opaque.
 *
 * Threading: hub_job_poll(), hub_job_cancel(), hub_job_wait() and
 * hub_job_done() may be called from any thread, concurrently. The client
 * belongs to the job until hub_job_wait() reported it finished (calls on
 * it meanwhile fail with #HUB_EBUSY). The progress callback, if any, runs
 * on the job's thread.
 */
typedef struct hub_job hub_job;

/**
 * Start hub_download() on a new thread. `repo_id` and every option are
 * copied. @return #HUB_OK, #HUB_EINVAL, #HUB_EVERSION, #HUB_EBUSY (client
 * in use), #HUB_ENOMEM, #HUB_ERROR (no thread).
 */
HUB_EXTERN int hub_job_start(hub_job **out,
                             hub_client *client,
                             const char *repo_id,
                             const hub_download_options *opts);

/**
 * The latest job-level progress (`file` is the last file that reported,
 * valid until the next hub_job_poll() on the job). Never blocks.
 */
HUB_EXTERN void hub_job_poll(hub_job *job, hub_progress *out);

/** Ask the job to stop; returns at once. The job ends with
 * #HUB_ECANCELLED within about 100 ms wherever it is (as with
 * hub_client_cancel()), leaving a resumable partial and a consistent
 * cache. */
HUB_EXTERN void hub_job_cancel(hub_job *job);

/** 1 once the job has finished, else 0. */
HUB_EXTERN int hub_job_done(hub_job *job);

/**
 * Wait up to `timeout_ms` (-1: forever) for the job to finish.
 * @return the job's result (#HUB_OK or its error, whose details
 *   hub_error_last() then gives on this thread), or #HUB_ETIMEOUT if it
 *   is still running (hub_job_done() tells that apart from a download that
 *   itself timed out).
 * @param out if not NULL and the job succeeded, receives its result, to
 *   free with hub_result_free(); only the first such call gets it.
 */
HUB_EXTERN int hub_job_wait(hub_job *job, long timeout_ms, hub_result **out);

/** Cancel if running, wait, free. NULL is fine. */
HUB_EXTERN void hub_job_free(hub_job *job);

/* ------------------------------------------------------------------------ */
/* Cache management                                                         */
/* ------------------------------------------------------------------------ */

/* Version 1 is the layout below. */
#define HUB_CACHE_SCAN_OPTIONS_VERSION 1

/** hub_cache_scan_options.flags: leave hub_cache_revision.files empty.
 * Sizes, counts and times stay exact (a listing needs no more); file
 * targets of hub_cache_plan_delete() then match nothing. */
#define HUB_CACHE_SCAN_NO_FILES 1u

/** Options of hub_cache_scan(). */
typedef struct hub_cache_scan_options {
    unsigned int version; /**< #HUB_CACHE_SCAN_OPTIONS_VERSION */
    unsigned int flags;   /**< HUB_CACHE_SCAN_* bits, 0 by default */
} hub_cache_scan_options;

#define HUB_CACHE_SCAN_OPTIONS_INIT                                            \
    {                                                                          \
        HUB_CACHE_SCAN_OPTIONS_VERSION, 0                                      \
    }

/** One file of a revision, as huggingface_hub's CachedFileInfo. Valid
 * until hub_cache_info_free(). Fields may be appended in later versions. */
typedef struct hub_cache_file {
    const char *file_name; /**< path below the snapshot, '/'-separated */
    const char *file_path; /**< absolute path of the snapshot entry */
    const char *blob_path; /**< absolute path of the content: the blob, or
                                file_path when the entry is a regular file
                                (caches written without symlinks) */
    const char *blob_name; /**< the blob's name (its etag), or NULL for a
                                regular file */
    uint64_t size_on_disk;
    int64_t blob_last_accessed; /**< unix seconds */
    int64_t blob_last_modified;
} hub_cache_file;

/** One revision (snapshot folder) of a cached repository, as
 * huggingface_hub's CachedRevisionInfo. Valid until hub_cache_info_free().
 * Fields may be appended in later versions. */
typedef struct hub_cache_revision {
    const char *commit_hash;   /**< the snapshot folder's name */
    const char *snapshot_path; /**< absolute path of the folder */
    const char *const *refs;   /**< refs pointing at it ("main",
                                    "refs/pr/1"), sorted; none: detached */
    size_t ref_count;
    uint64_t size_on_disk; /**< bytes of its distinct blobs (a blob linked
                                twice, or hard-linked, counts once) */
    uint64_t nb_files;     /**< files in the snapshot that resolve */
    int64_t last_modified; /**< newest blob mtime (unix seconds); the
                                folder's when it has no file */
    /** Its files, sorted by name (none with #HUB_CACHE_SCAN_NO_FILES). */
    const hub_cache_file *const *files;
    size_t file_count;
    int64_t last_accessed; /**< newest blob atime; the folder's when it
                                has no file (what eviction goes by) */
} hub_cache_revision;

/** One cached repository, as huggingface_hub's CachedRepoInfo. Valid until
 * hub_cache_info_free(). Fields may be appended in later versions. */
typedef struct hub_cache_repo {
    hub_repo_type type;
    const char *repo_id;     /**< "org/name" */
    const char *repo_path;   /**< absolute path of its folder in the cache */
    uint64_t size_on_disk;   /**< bytes of the distinct blobs (by device and
                                  inode) its snapshots use */
    uint64_t nb_files;       /**< number of those distinct blobs */
    int64_t last_accessed;   /**< newest blob atime (unix seconds); the
                                  folder's when it has no blob */
    int64_t last_modified;   /**< newest blob mtime, same fallback */
    const char *const *refs; /**< every ref naming an existing revision,
                                  sorted */
    size_t ref_count;
    const hub_cache_revision *const *revisions; /**< sorted by commit */
    size_t revision_count;
    /** What is wrong with it, one line each (broken link, ref to a missing
     * snapshot, stray file, unreadable folder, link out of the cache).
     * The repository is still listed with what exists. */
    const char *const *warnings;
    size_t warning_count;
} hub_cache_repo;

/** The result of hub_cache_scan(). Opaque. */
typedef struct hub_cache_info hub_cache_info;

/**
 * Scan the client's Hugging Face cache (hub_client_cache_dir()), as
 * huggingface_hub's scan_cache_dir() but never hiding a repository for one
 * defect: what exists is listed and counted, problems become warnings of
 * the repository (or of the cache, for entries of the cache folder that
 * are no repository). Nothing is followed out of the cache: a snapshot
 * entry counts only if it is a regular file or the exact link
 * `../../[../]blobs/<etag>` to a regular blob. Reads only; safe beside
 * running downloads. A ModelScope client scans the ModelScope cache, in
 * both SDK layouts: a classic repository (models/<owner>/<name>) is one
 * revision named as its .mv says ("master" by default), a modelscope-hub
 * one (models/<owner>--<name>/snapshots/<revision>) one per snapshot; a
 * ModelScope revision is its own ref (never detached); files are regular
 * files (hub_cache_file.blob_name NULL).
 * Threading: the result is read-only and may be shared between threads.
 * @param out receives the result; free it with hub_cache_info_free().
 * @param opts options or NULL.
 * @return #HUB_OK, #HUB_ENOTCACHED (the cache folder does not exist),
 *   #HUB_EIO (it cannot be read), #HUB_EINVAL, #HUB_EVERSION,
 *   #HUB_ENOMEM. `*out` is NULL on failure.
 */
HUB_EXTERN int hub_cache_scan(hub_cache_info **out,
                              hub_client *client,
                              const hub_cache_scan_options *opts);

/** The cache folder scanned. Valid until hub_cache_info_free(). */
HUB_EXTERN const char *hub_cache_info_dir(const hub_cache_info *info);
/** Number of repositories found, sorted by "<type>/<repo_id>". */
HUB_EXTERN size_t hub_cache_info_repo_count(const hub_cache_info *info);
/** Repository `index`, or NULL if out of range. */
HUB_EXTERN const hub_cache_repo *hub_cache_info_repo(const hub_cache_info *info,
                                                     size_t index);
/** Bytes of all distinct blobs of the cache (each counted once). */
HUB_EXTERN uint64_t hub_cache_info_size_on_disk(const hub_cache_info *info);
/** Bytes of the distinct blobs used by a set of revisions of `info` (of
 * any repositories): the exact space they hold together. */
HUB_EXTERN uint64_t
hub_cache_info_revisions_size(const hub_cache_info *info,
                              const hub_cache_revision *const *revisions,
                              size_t count);
/** Warnings about entries of the cache folder that are no repository. */
HUB_EXTERN size_t hub_cache_info_warning_count(const hub_cache_info *info);
HUB_EXTERN const char *hub_cache_info_warning(const hub_cache_info *info,
                                              size_t index);
/** Free a scan result. NULL is fine. */
HUB_EXTERN void hub_cache_info_free(hub_cache_info *info);

/*
 * Deleting from the cache: plan, look, execute.
 *
 * A plan is a list of operations on paths of one scanned cache, in the
 * order they run: per repository, refs first, then snapshots and files,
 * then blobs and partial downloads, then the leftovers (.no_exist, trees,
 * empty folders), so that stopping at any instant leaves a cache every
 * client reads without a warning (at worst a detached revision, or an
 * unused blob). A whole repository is renamed away in one step, into
 * `.locks/` (which no scanner lists), then removed.
 *
 * Safe beside running downloads of hubfetch and huggingface_hub: before a
 * blob or a partial file is deleted, the lock its download takes
 * (`.locks/<repo>/<etag>.lock`) is taken without waiting; a held one makes
 * the operation #HUB_CACHE_OP_IN_USE. Under the locks the repository is
 * read again, and what changed since the scan (a new revision, a moved
 * ref, a blob linked again) is left alone. Lock files are never removed.
 * Nothing is followed: a link is removed as a link.
 */

/** What an operation removes. */
typedef enum hub_cache_op_kind {
    HUB_CACHE_OP_REPO = 0,      /**< the repository's whole folder */
    HUB_CACHE_OP_REF = 1,       /**< refs/<name> */
    HUB_CACHE_OP_SNAPSHOT = 2,  /**< snapshots/<commit>/ (a revision) */
    HUB_CACHE_OP_FILE = 3,      /**< one entry of a snapshot */
    HUB_CACHE_OP_BLOB = 4,      /**< blobs/<etag> no remaining file uses */
    HUB_CACHE_OP_PARTIAL = 5,   /**< blobs/<etag>...incomplete */
    HUB_CACHE_OP_NO_EXIST = 6,  /**< .no_exist/<commit>/ of a commit gone */
    HUB_CACHE_OP_TREE = 7,      /**< trees/<commit>.json of a commit gone */
    HUB_CACHE_OP_EMPTY_DIR = 8, /**< an empty folder */
    HUB_CACHE_OP_TRASH = 9 /**< what an interrupted deletion left in .locks/ */
} hub_cache_op_kind;

/** Where an operation stands. */
typedef enum hub_cache_op_state {
    HUB_CACHE_OP_PLANNED = 0, /**< not executed (yet, or dry run) */
    HUB_CACHE_OP_DONE = 1,    /**< removed */
    HUB_CACHE_OP_GONE = 2,    /**< already absent when its turn came */
    HUB_CACHE_OP_IN_USE = 3,  /**< a download holds its lock: kept */
    HUB_CACHE_OP_CHANGED = 4, /**< changed since the scan: kept */
    HUB_CACHE_OP_FAILED = 5   /**< could not be removed (see message) */
} hub_cache_op_state;

/** One operation of a plan. Valid until hub_cache_plan_free(). */
typedef struct hub_cache_op {
    hub_cache_op_kind kind;
    hub_cache_op_state state;
    const char *path;                   /**< absolute path removed */
    const hub_cache_repo *repo;         /**< its repository */
    const hub_cache_revision *revision; /**< for REF, SNAPSHOT, FILE; else
                                             NULL */
    const char *name;    /**< ref name, file name, blob etag, partial file
                              name, commit (NO_EXIST, TREE); else NULL */
    uint64_t bytes;      /**< space it frees (0: shared, or only links) */
    const char *message; /**< why it was not done, or NULL */
} hub_cache_op;

/** A deletion plan. Opaque. It points into the hub_cache_info it was
 * made from, which must outlive it. */
typedef struct hub_cache_plan hub_cache_plan;

/**
 * Plan the deletion of `targets`, as `hubfetch cache rm` takes them:
 * - `ID`, `TYPE:ID` or `TYPE/ID` (TYPE model, dataset or space; a bare ID
 *   must name one repository of any type): the repository, all revisions;
 * - `ID@REV`: one revision, REV a commit, a unique prefix of one (4 hex
 *   digits or more) or a ref ("main", "refs/pr/1");
 * - `ID@REV:PATH`: one file of a revision (needs files in the scan);
 * - a 40-hex commit: that revision, in whichever repository has it.
 * A revision's blobs are deleted only when no remaining revision (nor a
 * hard link elsewhere in the cache) uses them; selecting every revision
 * of a repository deletes the whole repository.
 * Targets that match nothing are listed by hub_cache_plan_unmatched();
 * they are no error. A malformed target or an ambiguous prefix is.
 * @return #HUB_OK, #HUB_EINVAL (message names the target), #HUB_ENOMEM.
 */
HUB_EXTERN int hub_cache_plan_delete(hub_cache_plan **out,
                                     const hub_cache_info *info,
                                     const char *const *targets,
                                     size_t count);

/* Version 1 is the layout below. */
#define HUB_CACHE_PRUNE_OPTIONS_VERSION 1

/** Options of hub_cache_plan_prune(). */
typedef struct hub_cache_prune_options {
    unsigned int version; /**< #HUB_CACHE_PRUNE_OPTIONS_VERSION */
    unsigned int flags;   /**< reserved, 0 */
    /** > 0: also delete revisions, detached or not, unused (newest blob
     * atime) for this many seconds. */
    int64_t older_than;
    /** > 0: then delete the least recently used revisions, detached or
     * not, until the distinct blobs left fit in this many bytes. */
    uint64_t max_size;
    /** A partial download not written to for this many seconds, whose
     * lock nobody holds, is stale. Default (0): one hour, so an
     * interrupted download can still resume for a while; < 0: any age. */
    int64_t partial_age;
    /** "Now" for the ages above (unix seconds); 0: the clock. */
    int64_t now;
} hub_cache_prune_options;

#define HUB_CACHE_PRUNE_OPTIONS_INIT                                           \
    {                                                                          \
        HUB_CACHE_PRUNE_OPTIONS_VERSION, 0, 0, 0, 0, 0                         \
    }

/**
 * Plan a prune: detached revisions (no ref names them), stale partial
 * downloads, blobs no file uses, `.no_exist/` and `trees/` entries of
 * commits with neither snapshot nor ref, empty folders, leftovers of an
 * interrupted deletion; then, per the options, old or least recently
 * used revisions. Partial files are checked against their lock again
 * when executed.
 * @return #HUB_OK, #HUB_EINVAL, #HUB_EVERSION, #HUB_ENOMEM.
 */
HUB_EXTERN int hub_cache_plan_prune(hub_cache_plan **out,
                                    const hub_cache_info *info,
                                    const hub_cache_prune_options *opts);

/** Number of operations, in execution order. */
HUB_EXTERN size_t hub_cache_plan_op_count(const hub_cache_plan *plan);
/** Operation `index`, or NULL if out of range. */
HUB_EXTERN const hub_cache_op *hub_cache_plan_op(const hub_cache_plan *plan,
                                                 size_t index);
/** Bytes the plan frees if every operation succeeds: each blob counted
 * once, hard links and blobs kept by other revisions not at all. */
HUB_EXTERN uint64_t hub_cache_plan_bytes(const hub_cache_plan *plan);
/** Bytes freed by hub_cache_execute() so far. */
HUB_EXTERN uint64_t hub_cache_plan_freed(const hub_cache_plan *plan);
/** Targets of hub_cache_plan_delete() that matched nothing. */
HUB_EXTERN size_t hub_cache_plan_unmatched_count(const hub_cache_plan *plan);
HUB_EXTERN const char *hub_cache_plan_unmatched(const hub_cache_plan *plan,
                                                size_t index);

/**
 * Carry out a plan, in order, setting each operation's state. An
 * operation that cannot run safely (lock held, changed since the scan) is
 * skipped; its dependents are kept too (a snapshot whose ref moved keeps
 * its blobs). Run once per plan; `client` may be NULL (it is only the
 * cancel point: hub_client_cancel() stops between operations).
 * @return #HUB_OK when no operation FAILED (IN_USE and CHANGED are no
 *   failure: the cache is as safe as before), #HUB_EIO when some did,
 *   #HUB_ECANCELLED, #HUB_EINVAL (executed already).
 */
HUB_EXTERN int hub_cache_execute(hub_cache_plan *plan, hub_client *client);

/** Free a plan. NULL is fine. */
HUB_EXTERN void hub_cache_plan_free(hub_cache_plan *plan);

/* ------------------------------------------------------------------------ */
/* Remote listing                                                           */
/* ------------------------------------------------------------------------ */

/*
 * What a revision holds on the hub, without downloading it: the entries of
 * the tree API (a folder, recursively or not), page after page, and one
 * path through paths-info. Every request goes through the client: its
 * endpoints (failover while the first page or the stat is asked), proxies,
 * TLS settings, retries with backoff, timeouts, and the token only to the
 * endpoint it is for. hub_client_cancel() stops a request in flight
 * (#HUB_ECANCELLED). A mis-cased or renamed repo id is followed (the hub
 * answers with a redirect). Hugging Face hubs only: a ModelScope client
 * gets #HUB_EUNSUPPORTED. Since 0.4.
 */

/** The kind of a #hub_entry. */
typedef enum hub_entry_type {
    HUB_ENTRY_FILE = 0,
    HUB_ENTRY_DIRECTORY = 1
} hub_entry_type;

/**
 * One entry of a revision, as the hub's tree API describes it. Strings are
 * valid until the next hub_list_next() or hub_list_free() on the iterator
 * it came from (for hub_stat(): until hub_entry_free()). Server text
 * (`last_commit_title`, `last_commit_date`) is cleaned of control
 * characters. Fields may be appended in later versions.
 */
typedef struct hub_entry {
    hub_entry_type type;
    const char *path; /**< path in the repository, no leading '/' */
    /** Content size in bytes (LFS and Xet files: the real content, not
     * the pointer's); 0 for a folder. */
    uint64_t size;
    /** Git object id (40 hex): the blob's sha1 (for LFS files, of the
     * pointer file), the tree's for a folder. NULL if the hub gave none
     * (only folders on some mirrors). */
    const char *oid;
    /** LFS files: the sha256 of the content (64 hex; the blob name in the
     * cache), else NULL. */
    const char *lfs_sha256;
    uint64_t lfs_size;         /**< LFS: content size, else 0 */
    uint64_t lfs_pointer_size; /**< LFS: the pointer file's size, or 0 */
    /** Xet-stored files: the Xet hash (64 hex), else NULL. */
    const char *xet_hash;
    /** With `expand`: the last commit touching the entry (40 hex id, its
     * title, its date as the hub writes it, ISO 8601), else NULL. */
    const char *last_commit_id;
    const char *last_commit_title;
    const char *last_commit_date;
} hub_entry;

/* Version 1 is the layout below. */
#define HUB_LIST_OPTIONS_VERSION 1

/** Options of hub_list_open() and hub_stat(). */
typedef struct hub_list_options {
    unsigned int version;    /**< #HUB_LIST_OPTIONS_VERSION */
    hub_repo_type repo_type; /**< default #HUB_REPO_MODEL */
    /** Branch, tag, full or short commit, or "refs/pr/N". NULL: "main". */
    const char *revision;
    /** 1: everything below the folder; 0: its direct entries only.
     * hub_stat() ignores it. */
    int recursive;
    /** 1: also the last commit of each entry (the hub then sends pages of
     * 50 entries instead of 1000: slower on large folders). */
    int expand;
} hub_list_options;

#define HUB_LIST_OPTIONS_INIT                                                  \
    {                                                                          \
        HUB_LIST_OPTIONS_VERSION, HUB_REPO_MODEL, NULL, 0, 0                   \
    }

/** Initialise `opts` to defaults. @return #HUB_OK or #HUB_EVERSION. */
HUB_EXTERN int hub_list_options_init(hub_list_options *opts,
                                     unsigned int version);

/** An iterator over the entries of a folder of a revision. Opaque. */
typedef struct hub_list hub_list;

/** hub_list_next(): no entry left (not an error). */
#define HUB_LIST_DONE 1

/**
 * List the folder `path` (NULL or "": the root) of a repository at a
 * revision. The first page is requested before this returns, so that a
 * missing repository, revision or path fails here. Naming a file lists
 * that file alone.
 *
 * The iterator has its own connections; the client must outlive it.
 * Neither may be used by two threads at once. Each network call marks the
 * client busy while it runs (#HUB_EBUSY from a callback calling back).
 *
 * @param out receives the iterator (free with hub_list_free()).
 * @param path folder or file in the repository, or NULL.
 * @param opts options or NULL for defaults.
 * @return #HUB_OK; #HUB_ENOENTRY (no such path at that revision: the
 *   message names it), #HUB_ENOREPO, #HUB_ENOREV, #HUB_EAUTH, #HUB_EGATED,
 *   #HUB_ERATELIMIT, #HUB_ENET, #HUB_ETLS, #HUB_ETIMEOUT, #HUB_EPROXY,
 *   #HUB_EHTTP, #HUB_EPROTO, #HUB_ECANCELLED, #HUB_EINVAL (bad repo id,
 *   path or revision, or an offline client), #HUB_EVERSION,
 *   #HUB_EUNSUPPORTED (ModelScope), #HUB_EBUSY, #HUB_ENOMEM.
 */
HUB_EXTERN int hub_list_open(hub_list **out,
                             hub_client *client,
                             const char *repo_id,
                             const char *path,
                             const hub_list_options *opts);

/**
 * The next entry, in the hub's order (by path within a page). Pages are
 * fetched as they are needed: memory stays at one page.
 * @param entry receives the entry, valid until the next call on `it`;
 *   NULL when the listing is over or on failure.
 * @return #HUB_OK with an entry, #HUB_LIST_DONE when none is left, or the
 *   errors of hub_list_open() for a later page (the iterator then stays
 *   failed: every further call returns that code).
 */
HUB_EXTERN int hub_list_next(hub_list *it, const hub_entry **entry);

/** The endpoint that answers the listing (credentials masked), valid
 * until hub_list_free(). */
HUB_EXTERN const char *hub_list_endpoint(const hub_list *it);

/** Free an iterator. NULL is fine. */
HUB_EXTERN void hub_list_free(hub_list *it);

/**
 * One path of a revision, file or folder, through the hub's paths-info
 * API (one POST).
 * @param out receives the entry (free with hub_entry_free()).
 * @param path the path in the repository.
 * @param opts options or NULL (`recursive` is ignored).
 * @return #HUB_OK; #HUB_ENOENTRY when the path does not exist at that
 *   revision; else the errors of hub_list_open().
 */
HUB_EXTERN int hub_stat(hub_entry **out,
                        hub_client *client,
                        const char *repo_id,
                        const char *path,
                        const hub_list_options *opts);

/** Free an entry of hub_stat(). NULL is fine. */
HUB_EXTERN void hub_entry_free(hub_entry *entry);

/** What the hub says of a repository at a revision (its repo info API).
 * Strings are valid until hub_repo_info_free(); server text is cleaned
 * of control characters. Fields may be appended in later versions. */
typedef struct hub_repo_info_result {
    const char *id;  /**< the repository id as the hub spells it */
    const char *sha; /**< the commit the revision resolves to (40 hex) */
    /** The revision's last commit date as the hub writes it (ISO 8601),
     * or NULL if the hub gave none. */
    const char *last_modified;
    int is_private; /**< 1: a private repository */
    /** NULL: not gated; else the hub's mode, "auto" or "manual" (another
     * string the hub may add is kept as it comes). */
    const char *gated;
} hub_repo_info_result;

/**
 * A repository's facts at a revision: one GET of the hub's repo info API
 * (`/api/{type}s/{id}/revision/{rev}`), through the client as hub_stat()
 * is (endpoints with failover, token, retries, cancel, redirects of a
 * renamed repository followed). Since 0.4.
 * @param out receives the result (free with hub_repo_info_free()).
 * @param opts repository type and revision, or NULL (`recursive` and
 *   `expand` are ignored).
 * @return #HUB_OK, or the errors of hub_list_open() (#HUB_ENOREPO,
 *   #HUB_ENOREV, #HUB_EGATED, ...); #HUB_EPROTO when the answer has no
 *   valid `sha`.
 */
HUB_EXTERN int hub_repo_info(hub_repo_info_result **out,
                             hub_client *client,
                             const char *repo_id,
                             const hub_list_options *opts);

/** Free a result of hub_repo_info(). NULL is fine. */
HUB_EXTERN void hub_repo_info_free(hub_repo_info_result *info);

/* ------------------------------------------------------------------------ */
/* Remote reads                                                             */
/* ------------------------------------------------------------------------ */

/*
 * Bytes of a file of a repository, without downloading it into the cache:
 * a range (or the whole file) streamed to a callback as it arrives. One
 * GET of the file's resolve URL with `Range: bytes=a-b`, following the
 * redirect to the CDN (which keeps the range). Everything goes through
 * the client: endpoint failover, proxies, TLS settings, retries with
 * backoff, the stall timeout, hub_client_cancel(); the token only to the
 * origin it is for, never to the CDN; a redirect from https:// to http://
 * is refused (#HUB_ETLS). A retry resumes after the last byte delivered:
 * no byte reaches the callback twice, and a file that changes on the hub
 * meanwhile (another etag or size) fails with #HUB_EPROTO.
 *
 * When the file is in the cache at that revision (the revision resolves
 * offline, through `refs/`, as hub_cache_lookup() resolves it), it is
 * read from disk and no request is made. An offline client reads only
 * the cache (#HUB_ENOTCACHED otherwise). Hugging Face hubs only
 * (#HUB_EUNSUPPORTED on a ModelScope client). Since 0.4.
 */

/* Version 1 is the layout below. */
#define HUB_READ_OPTIONS_VERSION 1

/** hub_read_options.flags: hash the bytes as they stream (sha256 for LFS
 * files, git blob sha1 for the others) and compare with the etag the hub
 * gives; a mismatch is #HUB_ECHECKSUM after the last byte was delivered.
 * Only for a whole file (offset 0, length UINT64_MAX): else #HUB_EINVAL.
 * A file read from the cache is not hashed again (its blob was verified
 * when it was written; hub_cache_verify() checks blobs). */
#define HUB_READ_VERIFY 0x1u
/** hub_read_options.flags: ask the hub even when the cache holds it. */
#define HUB_READ_NO_CACHE 0x2u

/** Options of hub_read() and of the remote header readers. */
typedef struct hub_read_options {
    unsigned int version;    /**< #HUB_READ_OPTIONS_VERSION */
    hub_repo_type repo_type; /**< default #HUB_REPO_MODEL */
    /** Branch, tag, full or short commit, or "refs/pr/N". NULL: "main". */
    const char *revision;
    unsigned int flags; /**< HUB_READ_* flags */
} hub_read_options;

#define HUB_READ_OPTIONS_INIT                                                  \
    {                                                                          \
        HUB_READ_OPTIONS_VERSION, HUB_REPO_MODEL, NULL, 0                      \
    }

/** Initialise `opts` to defaults. @return #HUB_OK or #HUB_EVERSION. */
HUB_EXTERN int hub_read_options_init(hub_read_options *opts,
                                     unsigned int version);

/** What a read learnt about the file. Filled as far as known, also on
 * failure. Its layout is fixed: later versions add a new struct. */
typedef struct hub_read_info {
    /** Size of the whole file, or UINT64_MAX if the server did not say. */
    uint64_t size;
    /** The file's etag as the hub gives it: sha256 (LFS, 64 hex) or git
     * blob sha1 (40 hex); "" if unknown. */
    char etag[65];
    /** The commit read (40 hex), or "" if unknown. */
    char commit[41];
    /** 1: read from the cache, no request made. */
    int from_cache;
    /** Body bytes received over the network (retries included). */
    uint64_t bytes_fetched;
    /** Bytes delivered to the callback. */
    uint64_t bytes_read;
} hub_read_info;

/** Receives the bytes of hub_read() in order; nonzero stops the read
 * (#HUB_ECANCELLED). */
typedef int (*hub_read_cb)(const void *data, size_t len, void *payload);

/**
 * Read bytes [offset, offset + length) of a file of a repository into
 * `on_data`, in order, as they arrive. A range reaching past the end is
 * cut at the end of the file (as HTTP does); a range starting at the end
 * reads nothing; one starting past it fails with #HUB_EINVAL, the message
 * giving the file's size.
 *
 * @param info receives what was learnt (size, etag, commit), or NULL.
 * @param length bytes to read; UINT64_MAX: to the end of the file.
 * @param opts options or NULL for defaults.
 * @return #HUB_OK; #HUB_ECHECKSUM (#HUB_READ_VERIFY: every byte was
 *   delivered, and they do not hash to the etag); #HUB_ECANCELLED
 *   (hub_client_cancel(), or `on_data` returned nonzero); #HUB_ENOTCACHED
 *   (offline client, not cached); #HUB_EINVAL (bad names, a range past
 *   the end, #HUB_READ_VERIFY on a part); else the errors of
 *   hub_download_file() (#HUB_ENOENTRY, #HUB_ENOREPO, #HUB_EGATED, ...).
 */
HUB_EXTERN int hub_read(hub_read_info *info,
                        hub_client *client,
                        const char *repo_id,
                        const char *path,
                        uint64_t offset,
                        uint64_t length,
                        const hub_read_options *opts,
                        hub_read_cb on_data,
                        void *payload);

/**
 * hub_read() into a caller's buffer: bytes [offset, offset + length) into
 * `buf` (at least `length` bytes); `*got` receives how many were read
 * (fewer at the end of the file).
 */
HUB_EXTERN int hub_read_buf(size_t *got,
                            void *buf,
                            hub_client *client,
                            const char *repo_id,
                            const char *path,
                            uint64_t offset,
                            size_t length,
                            const hub_read_options *opts);

/*
 * Verifying the cache: does every file still hold what its name says?
 *
 * Every selected snapshot file must resolve to a blob whose content hashes
 * to the blob's name: sha256 for a 64-hex name (LFS files), git blob sha1
 * (`sha1("blob <len>\0" + content)`) for a 40-hex one. Each distinct blob
 * (by device and inode) is read once however many revisions use it, on
 * several threads. A regular file in a snapshot (a cache written without
 * symlinks) has no name to check against: it is checked against the
 * revision's recorded listing (`trees/<commit>.json`) or, with
 * #HUB_CACHE_VERIFY_REMOTE, the hub's; with neither it is "unverifiable",
 * which is said but is no failure. What the scan found wrong in the
 * selected repositories (broken links, links out of the cache, refs to
 * missing snapshots, unreadable folders) is reported too. Nothing is
 * followed out of the cache: every file is opened relative to its
 * folders with O_NOFOLLOW. Reads only.
 *
 * A ModelScope client verifies the ModelScope cache (both layouts
 * hub_cache_scan() reads), whose files carry no digest in their names.
 * Offline, a classic repository's index (`.msc`) is checked against its
 * folder: a file it lists that is gone is #HUB_VERIFY_BROKEN, a file it
 * does not list #HUB_VERIFY_UNINDEXED (no failure), an unreadable or
 * corrupt index a #HUB_VERIFY_DEFECT (only read, never set aside); every
 * file is then #HUB_VERIFY_UNVERIFIABLE. With #HUB_CACHE_VERIFY_REMOTE
 * each revision is listed by its name (the branch or tag `.mv` records,
 * "master" without one; the new layout's snapshot folder) and every file
 * hashed (sha256) against the listing's Sha256 and Size; a file whose
 * content differs and whose listed Revision is not the commit `.msc`
 * records is #HUB_VERIFY_REMOTE_DIFFERS (the hub changed it since), not a
 * mismatch.
 */

/** What a #hub_cache_verify_item reports. */
typedef enum hub_verify_status {
    /** The content does not hash to its expected digest (a failure). */
    HUB_VERIFY_MISMATCH = 1,
    /** The content could not be read: I/O error, permission, or it is no
     * longer a regular file (a failure). */
    HUB_VERIFY_UNREADABLE = 2,
    /** A snapshot entry that resolves to no blob: a broken link, a link
     * out of the cache (not followed), not a file; a file a ModelScope
     * index (`.msc`) lists that is gone (a failure). */
    HUB_VERIFY_BROKEN = 3,
    /** Another defect of the repository the scan found: a ref naming a
     * missing snapshot, an unreadable folder, a stray file (a failure). */
    HUB_VERIFY_DEFECT = 4,
    /** With #HUB_CACHE_VERIFY_REMOTE: on the hub at that commit, absent
     * locally. A failure only with #HUB_CACHE_VERIFY_FAIL_ON_MISSING (a
     * cache often holds only the files someone asked for). */
    HUB_VERIFY_MISSING = 5,
    /** With #HUB_CACHE_VERIFY_REMOTE: present locally, not on the hub at
     * that commit (a failure). */
    HUB_VERIFY_EXTRA = 6,
    /** With #HUB_CACHE_VERIFY_REMOTE: the hub lists another digest for
     * the file than the blob it resolves to; ModelScope: the content
     * differs and the hub's file is another commit's than the one cached
     * (a failure). */
    HUB_VERIFY_REMOTE_DIFFERS = 7,
    /** Nothing to check the file against (no blob name, no listing, no
     * metadata; a ModelScope cache offline): not verified, no failure. */
    HUB_VERIFY_UNVERIFIABLE = 8,
    /** ModelScope classic cache: a file present that the index (`.msc`)
     * does not list; the SDK does not take it as cached and downloads it
     * again. Said, no failure (the items count them; the summary does
     * not). Since 0.4. */
    HUB_VERIFY_UNINDEXED = 9
} hub_verify_status;

/** One finding of hub_cache_verify(): a file, or a defect of a
 * repository. Valid until hub_cache_verify_result_free(). Fields may be
 * appended in later versions. */
typedef struct hub_cache_verify_item {
    hub_verify_status status;
    hub_repo_type repo_type; /**< cache mode; the option's in local-dir
                                  mode */
    const char *repo_id;     /**< "org/name", or NULL (local dir without
                                  a repository named) */
    const char *commit;      /**< the revision's commit, or NULL */
    const char *file;        /**< path in the repository, or NULL for a
                                  defect of the repository */
    const char *path;        /**< path on disk (the blob for a mismatch),
                                  or NULL */
    const char *algorithm;   /**< "sha256", "git-sha1", or NULL */
    const char *expected;    /**< lowercase hex digest, or NULL */
    const char *actual;      /**< lowercase hex digest computed, or NULL */
    const char *message;     /**< one line saying what is wrong */
} hub_cache_verify_item;

/** The totals of hub_cache_verify(). Fields may be appended. */
typedef struct hub_cache_verify_summary {
    size_t repos;          /**< repositories selected */
    size_t revisions;      /**< revisions selected */
    uint64_t files;        /**< snapshot files (or local-dir files with
                                metadata) checked, each revision's
                                counted */
    uint64_t blobs;        /**< distinct contents hashed (each once) */
    uint64_t bytes;        /**< bytes hashed */
    uint64_t failed_files; /**< files that failed (mismatch, unreadable,
                                broken), each revision's counted */
    uint64_t unverifiable; /**< files with nothing to check against */
    uint64_t missing;      /**< remote: files on the hub absent here */
    uint64_t extra;        /**< remote: files here absent on the hub */
    uint64_t defects;      /**< other defects of the repositories */
    double seconds;        /**< wall time of the verification */
    int threads;           /**< hashing threads used */
} hub_cache_verify_summary;

/** The outcome of hub_cache_verify(). Opaque. */
typedef struct hub_cache_verify_result hub_cache_verify_result;

/* Version 1 is the layout below. */
#define HUB_CACHE_VERIFY_OPTIONS_VERSION 1

/** hub_cache_verify_options.flags: also compare each selected revision
 * with the hub's listing of its commit (one listing request per revision,
 * through the client's endpoints): files missing here or extra here, and
 * digests that differ. */
#define HUB_CACHE_VERIFY_REMOTE 1u
/** hub_cache_verify_options.flags: files missing here (with
 * #HUB_CACHE_VERIFY_REMOTE) fail the verification. */
#define HUB_CACHE_VERIFY_FAIL_ON_MISSING 2u

/** Options of hub_cache_verify(). */
typedef struct hub_cache_verify_options {
    unsigned int version; /**< #HUB_CACHE_VERIFY_OPTIONS_VERSION */
    unsigned int flags;   /**< HUB_CACHE_VERIFY_* bits */
    /** What to verify, as hub_cache_plan_delete() takes targets (`ID`,
     * `TYPE:ID`, `ID@REV`, `ID@REV:PATH`, a 40-hex commit). None: the
     * whole cache. */
    const char *const *targets;
    size_t target_count;
    /** Verify this local dir (`hub_download_options.local_dir`) instead
     * of the cache: each file with a metadata file
     * (`.cache/huggingface/download/<path>.metadata`) is hashed against
     * the etag recorded there. Targets are then ignored; `repo_id`
     * names the repository for #HUB_CACHE_VERIFY_REMOTE. */
    const char *local_dir;
    /** Local dir with #HUB_CACHE_VERIFY_REMOTE: the repository ... */
    const char *repo_id;
    hub_repo_type repo_type;
    /** ... and the revision to compare with. NULL: the commit the
     * metadata records (when all agree), else "main". */
    const char *revision;
    /** Hashing threads. 0: one per online CPU. */
    int threads;
    /** Progress callback and its payload, or NULL. Called from the
     * calling thread only, about 10 times a second while hashing (one
     * event per content in flight, with `file` set and phase
     * #HUB_PHASE_VERIFY, then a job-level event), and once with `final`
     * set. `file_count`/`files_done` count distinct contents, `bytes_*`
     * their bytes. Nonzero return cancels. */
    hub_progress_cb progress_cb;
    void *progress_payload;
} hub_cache_verify_options;

#define HUB_CACHE_VERIFY_OPTIONS_INIT                                          \
    {                                                                          \
        HUB_CACHE_VERIFY_OPTIONS_VERSION, 0, NULL, 0, NULL, NULL,              \
            HUB_REPO_MODEL, NULL, 0, NULL, NULL                                \
    }

/**
 * Verify the cache of `client` (or a local dir): see above. The client's
 * cache directory and, with #HUB_CACHE_VERIFY_REMOTE, its endpoints,
 * token and network settings are used. hub_client_cancel() (from any
 * thread) or the progress callback stop it within about 100 ms.
 *
 * Threading: the hashing runs on `threads` threads of its own, joined
 * before the call returns; callbacks run on the calling thread. The
 * client is busy during the call (#HUB_EBUSY for other calls on it).
 *
 * @param out receives the result (free with
 *   hub_cache_verify_result_free()); it is set on #HUB_OK and on
 *   #HUB_ECHECKSUM, NULL otherwise.
 * @return #HUB_OK when every selected file is sound; #HUB_ECHECKSUM when
 *   some finding is a failure (the message counts them; the items name
 *   each); #HUB_ENOTCACHED (no cache folder, or a target that matches
 *   nothing: the message names it), #HUB_EINVAL (malformed or ambiguous
 *   target, bad options, #HUB_CACHE_VERIFY_REMOTE on an offline client),
 *   #HUB_EVERSION, #HUB_EBUSY, #HUB_EUNSUPPORTED (a local dir with a
 *   ModelScope client),
 *   #HUB_ECANCELLED, #HUB_EIO (the cache or local dir cannot be read),
 *   #HUB_ENOMEM, #HUB_ERROR (no thread); with #HUB_CACHE_VERIFY_REMOTE
 *   also the errors of a listing request (#HUB_ENOREPO, #HUB_ENOREV,
 *   #HUB_EAUTH, #HUB_ENET, ...). Since 0.3.
 */
HUB_EXTERN int hub_cache_verify(hub_cache_verify_result **out,
                                hub_client *client,
                                const hub_cache_verify_options *opts);

/** Initialise `opts` to defaults. @return #HUB_OK or #HUB_EVERSION. */
HUB_EXTERN int hub_cache_verify_options_init(hub_cache_verify_options *opts,
                                             unsigned int version);

/** The totals. Valid until hub_cache_verify_result_free(). */
HUB_EXTERN const hub_cache_verify_summary *
hub_cache_verify_result_summary(const hub_cache_verify_result *result);
/** Number of findings: failures first (in cache order: repository,
 * revision, file), then missing files and unverifiable ones. */
HUB_EXTERN size_t
hub_cache_verify_result_count(const hub_cache_verify_result *result);
/** Finding `index`, or NULL if out of range. */
HUB_EXTERN const hub_cache_verify_item *
hub_cache_verify_result_item(const hub_cache_verify_result *result,
                             size_t index);
/** 1 if the item counts as a failure under the options of the call. */
HUB_EXTERN int
hub_cache_verify_item_failed(const hub_cache_verify_result *result,
                             const hub_cache_verify_item *item);
/** Free a result. NULL is fine. */
HUB_EXTERN void hub_cache_verify_result_free(hub_cache_verify_result *result);

/* ------------------------------------------------------------------------ */
/* Authentication                                                           */
/* ------------------------------------------------------------------------ */

/**
 * Who a token belongs to: the answer of the Hub's `GET /api/whoami-v2`
 * (what huggingface_hub's HfApi.whoami() returns), the fields most
 * programs need. Strings are as the server sent them with control
 * characters replaced (safe to print). Valid until hub_whoami_info_free().
 * Fields may be appended in later versions (the library allocates it).
 */
typedef struct hub_whoami_info {
    const char *name;        /**< account name ("name"), never NULL */
    const char *fullname;    /**< display name ("fullname"), or NULL */
    const char *type;        /**< "user" or "org" ("type"), or NULL */
    const char *const *orgs; /**< names of the organisations the account
                                  belongs to ("orgs[].name"), in the
                                  server's order */
    size_t org_count;
    const char *token_name; /**< the token's own name
                                 ("auth.accessToken.displayName"), or NULL
                                 (an OAuth or other token) */
    const char *token_role; /**< "read", "write", "fineGrained"
                                 ("auth.accessToken.role"), or NULL */
} hub_whoami_info;

/**
 * Ask the hub who the client's token belongs to: `GET
 * {endpoint}/api/whoami-v2` with the token, sent to the origin the token
 * is for (the client's first endpoint; with "auto", huggingface.co) and
 * nowhere else: no fallback endpoint, no redirect to another origin.
 * The request is retried as downloads' metadata requests are; the client
 * is busy meanwhile (hub_client_cancel() stops it). Not for a ModelScope
 * client (#HUB_EUNSUPPORTED).
 * @param out receives the answer; free it with hub_whoami_info_free().
 * @return #HUB_OK; #HUB_EAUTH when the client has no token ("no token:
 *   run 'hubfetch auth login' or set HF_TOKEN") or the hub refuses it
 *   (HTTP 401); #HUB_ERATELIMIT (429: the Hub limits this endpoint
 *   strictly), #HUB_EPROTO (not the expected JSON), #HUB_EHTTP, network
 *   errors, #HUB_ECANCELLED, #HUB_EBUSY, #HUB_ENOMEM. Since 0.4.
 */
HUB_EXTERN int hub_whoami(hub_whoami_info **out, hub_client *client);

/** Free a hub_whoami() answer. NULL is fine. */
HUB_EXTERN void hub_whoami_info_free(hub_whoami_info *info);

/**
 * The token file huggingface_hub reads and `hf auth login` writes
 * (constants.HF_TOKEN_PATH), from the environment: $HF_TOKEN_PATH, else
 * $HF_HOME/token, else $XDG_CACHE_HOME/huggingface/token, else
 * ~/.cache/huggingface/token (`~` and `$VAR` expanded as Python's
 * expanduser/expandvars do). The file need not exist.
 * @param out receives the path; free it with hub_free().
 * @return #HUB_OK or #HUB_ENOMEM. Since 0.4.
 */
HUB_EXTERN int hub_token_path(char **out);

/**
 * Save `token` as huggingface_hub's login() does, so that it, hubfetch
 * and every client reading the token file use it: the token file
 * (hub_token_path()) holds the bare token, without newline; with a
 * `name` (the token's display name, hub_whoami_info.token_name), the
 * token is also recorded under that name in `stored_tokens`, the INI file
 * beside the token file that `hf auth list` / `hf auth switch` read
 * (section [name], key hf_token; other sections kept, sections sorted as
 * huggingface_hub writes them).
 *
 * Unlike huggingface_hub (Path.write_text: 0666 & ~umask), both files
 * are created with mode 0600, written to a temporary name and renamed
 * over the old one: a reader sees the old token or the new one, never
 * part of one; a link at either name is replaced, never followed.
 * Missing parent directories are made (0777 & ~umask, as Python's
 * mkdir(parents=True)). The token is not checked with the hub: call
 * hub_whoami() first.
 * @param token the token; cleaned as huggingface_hub cleans it (CR and LF
 *   dropped, blanks stripped); empty or with control characters:
 *   #HUB_EINVAL.
 * @param name its name for stored_tokens, or NULL to write only the token
 *   file. A line break in it: #HUB_EINVAL.
 * @return #HUB_OK, #HUB_EINVAL, #HUB_EIO (message names the file),
 *   #HUB_ENOSPC, #HUB_ENOMEM. Since 0.4.
 */
HUB_EXTERN int hub_token_save(const char *token, const char *name);

/**
 * Log out as huggingface_hub's logout() does: remove the token file and
 * `stored_tokens` beside it (every saved token). A token given by
 * $HF_TOKEN still applies afterwards.
 * @param removed if not NULL, set to 1 if a token file was there, else 0.
 * @return #HUB_OK (also when there was nothing to remove), #HUB_EIO,
 *   #HUB_ENOMEM. Since 0.4.
 */
HUB_EXTERN int hub_token_remove(int *removed);

/* ------------------------------------------------------------------------ */
/* Weight file headers: safetensors and GGUF                                */
/* ------------------------------------------------------------------------ */

/*
 * What a weights file holds, read from its header alone: tensors, dtypes,
 * shapes, parameter counts, metadata. Only the header bytes are read (a
 * safetensors header is its first 8 + N bytes; a GGUF header is read in
 * growing chunks until the tensor infos end), never the tensor data.
 * Every length, count and offset in a header is checked against the bytes
 * present and the file size before it is used: a malformed or hostile
 * file gives #HUB_EFORMAT and a one-line message saying what is wrong and
 * where, never a crash nor an allocation sized by the file's claims.
 *
 * Results are plain structs owned by the library, read-only, valid until
 * their free function; they may be shared between threads. Fields may be
 * appended in later versions. Since 0.4.
 */

/* Version 1 is the layout below. */
#define HUB_HEADER_OPTIONS_VERSION 1

/** Options of hub_safetensors_info_file() and hub_gguf_info_file(). */
typedef struct hub_header_options {
    unsigned int version; /**< #HUB_HEADER_OPTIONS_VERSION */
    unsigned int flags;   /**< reserved, 0 */
    /** Most header bytes read. 0: 100,000,008 for safetensors (the
     * safetensors library's own cap on N, plus the 8 length bytes),
     * 256 MiB for GGUF. A larger header fails with #HUB_EFORMAT. */
    uint64_t max_header_bytes;
    /** GGUF: arrays with more elements than this keep their type and
     * count but not their values (`hub_gguf_value.kept` is 0). 0: keep
     * every value. */
    uint64_t max_array_values;
} hub_header_options;

#define HUB_HEADER_OPTIONS_INIT                                                \
    {                                                                          \
        HUB_HEADER_OPTIONS_VERSION, 0, 0, 0                                    \
    }

/** Initialise `opts` to defaults. @return #HUB_OK or #HUB_EVERSION. */
HUB_EXTERN int hub_header_options_init(hub_header_options *opts,
                                       unsigned int version);

/** One tensor of a safetensors file. */
typedef struct hub_safetensors_tensor {
    const char *name;      /**< tensor name (valid UTF-8) */
    const char *dtype;     /**< "F32", "BF16", "F8_E4M3", "F4", ... */
    const uint64_t *shape; /**< `ndim` dimensions (NULL for a scalar) */
    size_t ndim;
    /** [begin, end) of its bytes, relative to the data start
     * (hub_safetensors_info.data_offset, in its file). */
    uint64_t offset_begin;
    uint64_t offset_end;
    uint64_t parameters; /**< product of the shape; 1 for a scalar */
    /** Sharded model: the shard file holding it (as the index names it);
     * a single file: NULL. */
    const char *file;
} hub_safetensors_tensor;

/** Parameters of one dtype. */
typedef struct hub_dtype_count {
    const char *dtype;   /**< "BF16" */
    uint64_t parameters; /**< sum of the products of the shapes */
} hub_dtype_count;

/** What hub_safetensors_info_file() read. */
typedef struct hub_safetensors_info {
    /** Tensors in data order (single file), or shard after shard in the
     * order the index names the shards. */
    const hub_safetensors_tensor *tensors;
    size_t tensor_count;
    /** Parameters per dtype, sorted by dtype name, as huggingface_hub's
     * `SafetensorsFileMetadata.parameter_count` (a scalar counts 1). */
    const hub_dtype_count *dtypes;
    size_t dtype_count;
    uint64_t parameter_total; /**< sum over the dtypes */
    /** `__metadata__` (string to string), in file order; for a sharded
     * model the first shard's. */
    const char *const *metadata_keys;
    const char *const *metadata_values;
    size_t metadata_count;
    /** Single file: N, the JSON header's length; sharded: the sum. */
    uint64_t header_size;
    /** Single file: 8 + N, where tensor data starts; sharded: 0. */
    uint64_t data_offset;
    /** Bytes of tensor data (sum over the shards). */
    uint64_t data_size;
    /** 1 when read through a `*.safetensors.index.json`. */
    int sharded;
    /** Sharded: the distinct shard files of `weight_map`, in order of
     * first appearance. */
    const char *const *shards;
    size_t shard_count;
    /** Sharded: the index's `metadata.total_size`, or UINT64_MAX. */
    uint64_t total_size;
} hub_safetensors_info;

/**
 * Read the header of a local safetensors file, or of every shard a
 * `*.safetensors.index.json` names (shards are looked for beside the
 * index; their names must be plain relative paths, no `..`).
 *
 * Checked as the safetensors library loads a file: N at most
 * 100,000,000 and within the file; the header a JSON object starting
 * with '{'; each tensor's dtype one of safetensors 0.8's (BOOL, F4,
 * F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ,
 * F8_E5M2FNUZ, I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64);
 * end - begin = product of the shape x bits / 8, a sub-byte tensor (F4,
 * F6_*) filling whole bytes; tensors back to back from offset 0, without
 * gap or overlap, ending exactly at the end of the file; no product
 * overflowing 64 bits; `__metadata__` string to string only.
 *
 * @param out receives the result; free with hub_safetensors_info_free().
 * @param path the `.safetensors` file or the `.safetensors.index.json`.
 * @param opts options or NULL.
 * @return #HUB_OK, #HUB_EFORMAT (malformed: the message names the file,
 *   the tensor or key and what is wrong), #HUB_EIO (cannot open or read;
 *   not a regular file), #HUB_EINVAL, #HUB_EVERSION, #HUB_ENOMEM.
 */
HUB_EXTERN int hub_safetensors_info_file(hub_safetensors_info **out,
                                         const char *path,
                                         const hub_header_options *opts);

/** Free a safetensors result. NULL is fine. */
HUB_EXTERN void hub_safetensors_info_free(hub_safetensors_info *info);

/**
 * The header of a safetensors file of a repository on the hub, or of
 * every shard a `*.safetensors.index.json` names (shards beside the
 * index), read with ranged requests (hub_read()) and never the tensor
 * data: first the 8 length bytes and a read-ahead of 100,000 bytes (the
 * whole header for most files), then exactly the 8 + N bytes the header
 * needs. An index is read whole, then each shard's header in turn, on the
 * client's connections (sequentially). A file the cache holds at that
 * revision is read from disk with no request (each shard on its own).
 * The checks are those of hub_safetensors_info_file().
 *
 * @param ropts repository type, revision and #HUB_READ_NO_CACHE, or NULL
 *   (#HUB_READ_VERIFY is ignored: only the header is read).
 * @param hopts header options, or NULL.
 * @return #HUB_OK, #HUB_EFORMAT, or the errors of hub_read().
 */
HUB_EXTERN int hub_safetensors_info_remote(hub_safetensors_info **out,
                                           hub_client *client,
                                           const char *repo_id,
                                           const char *path,
                                           const hub_read_options *ropts,
                                           const hub_header_options *hopts);

/** GGUF metadata value types (pinned by the GGUF format). */
typedef enum hub_gguf_type {
    HUB_GGUF_UINT8 = 0,
    HUB_GGUF_INT8 = 1,
    HUB_GGUF_UINT16 = 2,
    HUB_GGUF_INT16 = 3,
    HUB_GGUF_UINT32 = 4,
    HUB_GGUF_INT32 = 5,
    HUB_GGUF_FLOAT32 = 6,
    HUB_GGUF_BOOL = 7,
    HUB_GGUF_STRING = 8,
    HUB_GGUF_ARRAY = 9,
    HUB_GGUF_UINT64 = 10,
    HUB_GGUF_INT64 = 11,
    HUB_GGUF_FLOAT64 = 12
} hub_gguf_type;

/** A GGUF metadata value, or an element of an array of arrays. */
typedef struct hub_gguf_value {
    hub_gguf_type type;
    /** UINT8..UINT64 in `u`, INT8..INT64 in `i`, FLOAT32/64 in `f`, BOOL
     * (0 or 1) in `u`. */
    uint64_t u;
    int64_t i;
    double f;
    /** STRING: its bytes, NUL-terminated, `len` long. Not checked for
     * UTF-8 (keys and tensor names are); may hold a NUL. */
    const char *str;
    size_t len;
    /** ARRAY: the type of its elements and their number. */
    hub_gguf_type elem_type;
    uint64_t count;
    /** ARRAY: 1 when the values below are present, 0 when the array is
     * longer than hub_header_options.max_array_values. */
    int kept;
    /** ARRAY of numbers or BOOL: `count` elements of the C type of
     * `elem_type` (uint8_t, int8_t, uint16_t, ..., float, double; BOOL as
     * uint8_t 0/1), in host byte order. */
    const void *data;
    /** ARRAY of STRING: `count` strings (NUL-terminated) and lengths. */
    const char *const *strings;
    const size_t *lengths;
    /** ARRAY of ARRAY: `count` values, each an ARRAY. */
    const struct hub_gguf_value *items;
} hub_gguf_value;

/** One metadata key/value pair. */
typedef struct hub_gguf_kv {
    const char *key; /**< valid UTF-8 */
    hub_gguf_value value;
} hub_gguf_kv;

/** One tensor info of a GGUF file. */
typedef struct hub_gguf_tensor {
    const char *name;      /**< valid UTF-8 */
    uint32_t n_dims;       /**< 0..8 */
    const uint64_t *dims;  /**< `n_dims` dimensions, innermost first */
    uint32_t type;         /**< ggml type number */
    const char *type_name; /**< "F32", "Q4_K", "IQ2_XS", "BF16", ... */
    uint64_t offset;       /**< relative to hub_gguf_info.data_offset */
    uint64_t parameters;   /**< product of the dims */
} hub_gguf_tensor;

/** What hub_gguf_info_file() read. */
typedef struct hub_gguf_info {
    uint32_t version; /**< 2 or 3 */
    int big_endian;   /**< 1 for a big-endian file */
    uint64_t tensor_count;
    uint64_t kv_count;
    const hub_gguf_kv *kvs;         /**< `kv_count` pairs, in file order */
    const hub_gguf_tensor *tensors; /**< `tensor_count`, in file order */
    uint32_t alignment;             /**< `general.alignment`, default 32 */
    uint64_t header_size; /**< bytes up to the end of the tensor infos */
    uint64_t data_offset; /**< header_size rounded up to `alignment` */
    uint64_t parameters;  /**< sum over the tensors of their products */
    /** Facts found by key (NULL or 0 when absent or of another type):
     * `general.architecture`, `general.name`, `general.file_type` (-1
     * when absent) and its name ("Q4_K_M", "F16", ..., NULL if unknown),
     * `<arch>.context_length`, `<arch>.embedding_length`,
     * `<arch>.block_count`. */
    const char *architecture;
    const char *name;
    int64_t file_type;
    const char *file_type_name;
    uint64_t context_length;
    uint64_t embedding_length;
    uint64_t block_count;
} hub_gguf_info;

/**
 * Read the header of a local GGUF file (version 2 or 3, either byte
 * order): its metadata, every value type (arrays of arrays included, 4
 * deep at most), its tensor infos and the facts derived from them.
 * Version 1 files are refused (#HUB_EFORMAT). Checked: every length and
 * count against the bytes of the file; keys and tensor names valid UTF-8,
 * keys unique; known value and ggml types; `general.alignment` a power of
 * two; at most 8 dimensions, no product overflowing 64 bits; tensor
 * offsets aligned and within the file.
 * @param out receives the result; free with hub_gguf_info_free().
 * @param opts options or NULL.
 * @return as hub_safetensors_info_file().
 */
HUB_EXTERN int hub_gguf_info_file(hub_gguf_info **out,
                                  const char *path,
                                  const hub_header_options *opts);

/**
 * The header of a GGUF file of a repository on the hub, read with ranged
 * requests: the first 2 MiB, then chunks of at least 2 MiB (or what the
 * parser needs, if more) until the tensor infos end, so that at most 2 MiB
 * past the header is transferred. From the cache, with no request, when
 * it holds the file. Checks as hub_gguf_info_file().
 * @return as hub_safetensors_info_remote().
 */
HUB_EXTERN int hub_gguf_info_remote(hub_gguf_info **out,
                                    hub_client *client,
                                    const char *repo_id,
                                    const char *path,
                                    const hub_read_options *ropts,
                                    const hub_header_options *hopts);

/** The pair with this key, or NULL. */
HUB_EXTERN const hub_gguf_kv *hub_gguf_info_get(const hub_gguf_info *info,
                                                const char *key);

/** Name of a ggml tensor type ("Q4_K"), or NULL if unknown. */
HUB_EXTERN const char *hub_ggml_type_name(uint32_t type);

/** Free a GGUF result. NULL is fine. */
HUB_EXTERN void hub_gguf_info_free(hub_gguf_info *info);

#ifdef __cplusplus
}
#endif

#endif /* HUBFETCH_H */
