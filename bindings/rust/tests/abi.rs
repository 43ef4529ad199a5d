//! The `#[repr(C)]` mirrors in src/ffi.rs match include/hubfetch.h: a C
//! program compiled against the header prints every offset, size, version
//! and error code, compared here with what Rust computes. Skipped (with a
//! message) when there is no C compiler.

mod common;

use std::collections::HashMap;
use std::mem::{size_of, MaybeUninit};
use std::process::Command;

use hubfetch::ffi::*;
use hubfetch::{CacheOpKind, CacheOpState, ErrorKind, GgufType, VerifyStatus};

/// offsetof without core::mem::offset_of! (Rust 1.77): Debian's rustc is 1.63.
macro_rules! offset {
    ($t:ty, $f:ident) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! computes a field address without reading it.
        #[allow(unused_unsafe)]
        let field = unsafe { std::ptr::addr_of!((*base).$f) };
        field as usize - base as usize
    }};
}

/// (C struct, [(C field, Rust offset)], Rust size) for every shared struct.
macro_rules! layout {
    ($t:ident { $($f:ident $(= $c:literal)?),* $(,)? }) => {
        (stringify!($t), vec![$((layout!(@name $f $($c)?), offset!($t, $f))),*], size_of::<$t>())
    };
    (@name $f:ident $c:literal) => { $c };
    (@name $f:ident) => { stringify!($f) };
}

/// (struct, [(field, offset)], size)
type Layout = (&'static str, Vec<(&'static str, usize)>, usize);

fn rust_layouts() -> Vec<Layout> {
    vec![
        layout!(hub_error_info {
            code,
            http_status,
            message
        }),
        layout!(hub_progress {
            version, phase, file, file_index, file_count, file_bytes_done, file_bytes_total,
            bytes_done, bytes_total, files_done, rate, eta, endpoint, final_ = "final",
        }),
        layout!(hub_client_options {
            version,
            flags,
            endpoint,
            token,
            cache_dir,
            offline,
            symlinks,
            user_agent,
            max_files,
            connections,
            max_connections,
            max_rate,
            split_threshold,
            part_size,
            connect_timeout_ms,
            stall_timeout_ms,
            max_retries,
            lock_timeout_ms,
            log_cb,
            log_payload,
            log_level,
            proxy,
            no_proxy,
            fallback_endpoints,
            fallback_count,
            ca_bundle,
            hub,
            send_token_to_mirrors,
        }),
        layout!(hub_download_options {
            version,
            repo_type,
            revision,
            allow_patterns,
            allow_count,
            ignore_patterns,
            ignore_count,
            files,
            file_count,
            local_dir,
            local_files_only,
            force_download,
            dry_run,
            progress_cb,
            progress_payload,
            prefer_offline,
        }),
        layout!(hub_file_info {
            path,
            local_path,
            size,
            etag,
            status,
            endpoint,
            bytes_fetched
        }),
        layout!(hub_cache_scan_options { version, flags }),
        layout!(hub_cache_file {
            file_name,
            file_path,
            blob_path,
            blob_name,
            size_on_disk,
            blob_last_accessed,
            blob_last_modified,
        }),
        layout!(hub_cache_revision {
            commit_hash,
            snapshot_path,
            refs,
            ref_count,
            size_on_disk,
            nb_files,
            last_modified,
            files,
            file_count,
            last_accessed,
        }),
        layout!(hub_cache_repo {
            type_ = "type",
            repo_id,
            repo_path,
            size_on_disk,
            nb_files,
            last_accessed,
            last_modified,
            refs,
            ref_count,
            revisions,
            revision_count,
            warnings,
            warning_count,
        }),
        layout!(hub_cache_op {
            kind,
            state,
            path,
            repo,
            revision,
            name,
            bytes,
            message,
        }),
        layout!(hub_cache_verify_item {
            status,
            repo_type,
            repo_id,
            commit,
            file,
            path,
            algorithm,
            expected,
            actual,
            message,
        }),
        layout!(hub_cache_verify_summary {
            repos,
            revisions,
            files,
            blobs,
            bytes,
            failed_files,
            unverifiable,
            missing,
            extra,
            defects,
            seconds,
            threads,
        }),
        layout!(hub_cache_verify_options {
            version,
            flags,
            targets,
            target_count,
            local_dir,
            repo_id,
            repo_type,
            revision,
            threads,
            progress_cb,
            progress_payload,
        }),
        layout!(hub_entry {
            type_ = "type",
            path,
            size,
            oid,
            lfs_sha256,
            lfs_size,
            lfs_pointer_size,
            xet_hash,
            last_commit_id,
            last_commit_title,
            last_commit_date,
        }),
        layout!(hub_list_options {
            version,
            repo_type,
            revision,
            recursive,
            expand
        }),
        layout!(hub_whoami_info {
            name,
            fullname,
            type_ = "type",
            orgs,
            org_count,
            token_name,
            token_role,
        }),
        layout!(hub_header_options {
            version,
            flags,
            max_header_bytes,
            max_array_values
        }),
        layout!(hub_safetensors_tensor {
            name,
            dtype,
            shape,
            ndim,
            offset_begin,
            offset_end,
            parameters,
            file,
        }),
        layout!(hub_dtype_count { dtype, parameters }),
        layout!(hub_safetensors_info {
            tensors,
            tensor_count,
            dtypes,
            dtype_count,
            parameter_total,
            metadata_keys,
            metadata_values,
            metadata_count,
            header_size,
            data_offset,
            data_size,
            sharded,
            shards,
            shard_count,
            total_size,
        }),
        layout!(hub_gguf_value {
            type_ = "type",
            u,
            i,
            f,
            str_ = "str",
            len,
            elem_type,
            count,
            kept,
            data,
            strings,
            lengths,
            items,
        }),
        layout!(hub_gguf_kv { key, value }),
        layout!(hub_gguf_tensor {
            name,
            n_dims,
            dims,
            type_ = "type",
            type_name,
            offset,
            parameters,
        }),
        layout!(hub_gguf_info {
            version,
            big_endian,
            tensor_count,
            kv_count,
            kvs,
            tensors,
            alignment,
            header_size,
            data_offset,
            parameters,
            architecture,
            name,
            file_type,
            file_type_name,
            context_length,
            embedding_length,
            block_count,
        }),
        layout!(hub_read_options {
            version,
            repo_type,
            revision,
            flags,
        }),
        layout!(hub_read_info {
            size,
            etag,
            commit,
            from_cache,
            bytes_fetched,
            bytes_read,
        }),
        layout!(hub_cache_prune_options {
            version,
            flags,
            older_than,
            max_size,
            partial_age,
            now,
        }),
    ]
}

const CONSTANTS: &[(&str, i64)] = &[
    ("HUB_PROGRESS_VERSION", HUB_PROGRESS_VERSION as i64),
    (
        "HUB_CLIENT_OPTIONS_VERSION",
        HUB_CLIENT_OPTIONS_VERSION as i64,
    ),
    (
        "HUB_DOWNLOAD_OPTIONS_VERSION",
        HUB_DOWNLOAD_OPTIONS_VERSION as i64,
    ),
    (
        "HUB_CACHE_SCAN_OPTIONS_VERSION",
        HUB_CACHE_SCAN_OPTIONS_VERSION as i64,
    ),
    (
        "HUB_CACHE_PRUNE_OPTIONS_VERSION",
        HUB_CACHE_PRUNE_OPTIONS_VERSION as i64,
    ),
    ("HUB_CACHE_SCAN_NO_FILES", HUB_CACHE_SCAN_NO_FILES as i64),
    (
        "HUB_CACHE_VERIFY_OPTIONS_VERSION",
        HUB_CACHE_VERIFY_OPTIONS_VERSION as i64,
    ),
    ("HUB_CACHE_VERIFY_REMOTE", HUB_CACHE_VERIFY_REMOTE as i64),
    (
        "HUB_CACHE_VERIFY_FAIL_ON_MISSING",
        HUB_CACHE_VERIFY_FAIL_ON_MISSING as i64,
    ),
    ("sizeof(hub_verify_status)", size_of::<hub_enum>() as i64),
    ("HUB_LIST_OPTIONS_VERSION", HUB_LIST_OPTIONS_VERSION as i64),
    ("HUB_HEADER_OPTIONS_VERSION", HUB_HEADER_OPTIONS_VERSION as i64),
    ("HUB_LIST_DONE", HUB_LIST_DONE as i64),
    ("HUB_READ_OPTIONS_VERSION", HUB_READ_OPTIONS_VERSION as i64),
    ("HUB_READ_VERIFY", HUB_READ_VERIFY as i64),
    ("HUB_READ_NO_CACHE", HUB_READ_NO_CACHE as i64),
    ("HUB_ENTRY_FILE", HUB_ENTRY_FILE as i64),
    ("HUB_ENTRY_DIRECTORY", HUB_ENTRY_DIRECTORY as i64),
    ("sizeof(hub_entry_type)", size_of::<hub_enum>() as i64),
    ("sizeof(hub_gguf_type)", size_of::<hub_enum>() as i64),
    ("HUB_AUTO", HUB_AUTO as i64),
    ("HUB_CLIENT_IGNORE_ENV", HUB_CLIENT_IGNORE_ENV as i64),
    ("sizeof(hub_phase)", size_of::<hub_enum>() as i64),
    ("sizeof(hub_repo_type)", size_of::<hub_enum>() as i64),
    ("sizeof(hub_file_status)", size_of::<hub_enum>() as i64),
    ("sizeof(hub_kind)", size_of::<hub_enum>() as i64),
    ("sizeof(hub_cache_op_kind)", size_of::<hub_enum>() as i64),
    ("sizeof(hub_cache_op_state)", size_of::<hub_enum>() as i64),
    ("HUB_KIND_HF", hubfetch::HubKind::HuggingFace as i64),
    ("HUB_KIND_MODELSCOPE", hubfetch::HubKind::ModelScope as i64),
    ("HUB_REPO_MODEL", 0), // as DownloadOptions::to_c maps RepoType
    ("HUB_REPO_DATASET", 1),
    ("HUB_REPO_SPACE", 2),
];

/// The C names of the kinds and states, with the value the crate gives.
const OP_KINDS: &[(&str, CacheOpKind)] = &[
    ("HUB_CACHE_OP_REPO", CacheOpKind::Repo),
    ("HUB_CACHE_OP_REF", CacheOpKind::Ref),
    ("HUB_CACHE_OP_SNAPSHOT", CacheOpKind::Snapshot),
    ("HUB_CACHE_OP_FILE", CacheOpKind::File),
    ("HUB_CACHE_OP_BLOB", CacheOpKind::Blob),
    ("HUB_CACHE_OP_PARTIAL", CacheOpKind::Partial),
    ("HUB_CACHE_OP_NO_EXIST", CacheOpKind::NoExist),
    ("HUB_CACHE_OP_TREE", CacheOpKind::Tree),
    ("HUB_CACHE_OP_EMPTY_DIR", CacheOpKind::EmptyDir),
    ("HUB_CACHE_OP_TRASH", CacheOpKind::Trash),
];
const OP_STATES: &[(&str, CacheOpState)] = &[
    ("HUB_CACHE_OP_PLANNED", CacheOpState::Planned),
    ("HUB_CACHE_OP_DONE", CacheOpState::Done),
    ("HUB_CACHE_OP_GONE", CacheOpState::Gone),
    ("HUB_CACHE_OP_IN_USE", CacheOpState::InUse),
    ("HUB_CACHE_OP_CHANGED", CacheOpState::Changed),
    ("HUB_CACHE_OP_FAILED", CacheOpState::Failed),
];

const VERIFY_STATUSES: &[(&str, VerifyStatus)] = &[
    ("HUB_VERIFY_MISMATCH", VerifyStatus::Mismatch),
    ("HUB_VERIFY_UNREADABLE", VerifyStatus::Unreadable),
    ("HUB_VERIFY_BROKEN", VerifyStatus::Broken),
    ("HUB_VERIFY_DEFECT", VerifyStatus::Defect),
    ("HUB_VERIFY_MISSING", VerifyStatus::Missing),
    ("HUB_VERIFY_EXTRA", VerifyStatus::Extra),
    ("HUB_VERIFY_REMOTE_DIFFERS", VerifyStatus::RemoteDiffers),
    ("HUB_VERIFY_UNVERIFIABLE", VerifyStatus::Unverifiable),
];

const GGUF_TYPES: &[(&str, GgufType)] = &[
    ("HUB_GGUF_UINT8", GgufType::Uint8),
    ("HUB_GGUF_INT8", GgufType::Int8),
    ("HUB_GGUF_UINT16", GgufType::Uint16),
    ("HUB_GGUF_INT16", GgufType::Int16),
    ("HUB_GGUF_UINT32", GgufType::Uint32),
    ("HUB_GGUF_INT32", GgufType::Int32),
    ("HUB_GGUF_FLOAT32", GgufType::Float32),
    ("HUB_GGUF_BOOL", GgufType::Bool),
    ("HUB_GGUF_STRING", GgufType::String),
    ("HUB_GGUF_ARRAY", GgufType::Array),
    ("HUB_GGUF_UINT64", GgufType::Uint64),
    ("HUB_GGUF_INT64", GgufType::Int64),
    ("HUB_GGUF_FLOAT64", GgufType::Float64),
];

/// Compile and run the C side; None without a compiler.
fn c_report() -> Option<HashMap<String, i64>> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let tmp = common::TempDir::new("abi");
    let mut src = String::from(
        "#include <hubfetch.h>\n#include <stddef.h>\n#include <stdio.h>\nint main(void) {\n",
    );
    let mut line = |key: String, expr: String| {
        src += &format!("    printf(\"{key} %lld\\n\", (long long)({expr}));\n");
    };
    for (s, fields, _) in rust_layouts() {
        line(format!("sizeof {s}"), format!("sizeof({s})"));
        for (f, _) in fields {
            line(format!("offsetof {s}.{f}"), format!("offsetof({s}, {f})"));
        }
    }
    for (name, _) in CONSTANTS {
        line(name.to_string(), name.to_string());
    }
    let op_names = OP_KINDS.iter().map(|(n, _)| n);
    let op_names = op_names.chain(OP_STATES.iter().map(|(n, _)| n));
    let op_names = op_names.chain(GGUF_TYPES.iter().map(|(n, _)| n));
    for name in op_names.chain(VERIFY_STATUSES.iter().map(|(n, _)| n)) {
        line(name.to_string(), name.to_string());
    }
    line("HUB_VERSION_NUM".into(), "HUB_VERSION_NUM".into());
    src += "#define XX(name, value, text) printf(\"error %s %d\\n\", #name, value);\n    HUB_ERROR_MAP(XX)\n";
    src += "    return 0;\n}\n";
    let c = tmp.path().join("abi.c");
    let exe = tmp.path().join("abi");
    std::fs::write(&c, src).unwrap();
    let include = common::source_dir().join("include");
    let built = Command::new(&cc)
        .arg("-std=c11")
        .arg("-I")
        .arg(&include)
        .arg("-o")
        .arg(&exe)
        .arg(&c)
        .status();
    match built {
        Err(_) => {
            eprintln!("skipped: no C compiler ({cc})");
            return None;
        }
        Ok(s) => assert!(s.success(), "compiling the ABI probe failed"),
    }
    let out = Command::new(&exe).output().expect("run the probe");
    let text = String::from_utf8(out.stdout).unwrap();
    Some(
        text.lines()
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                (k.to_string(), v.parse().unwrap())
            })
            .collect(),
    )
}

#[test]
fn layouts_constants_and_errors_match_the_header() {
    let c = match c_report() {
        Some(c) => c,
        None => return,
    };
    for (s, fields, size) in rust_layouts() {
        assert_eq!(
            size as i64,
            c[&format!("sizeof {s}")],
            "sizeof {s}: the header added or changed fields"
        );
        for (f, off) in fields {
            assert_eq!(
                off as i64,
                c[&format!("offsetof {s}.{f}")],
                "offsetof({s}, {f})"
            );
        }
    }
    for (name, value) in CONSTANTS {
        assert_eq!(*value, c[*name], "{name}");
    }
    for (name, kind) in OP_KINDS {
        assert_eq!(CacheOpKind::from_raw(c[*name] as i32), *kind, "{name}");
    }
    for (name, state) in OP_STATES {
        assert_eq!(CacheOpState::from_raw(c[*name] as i32), *state, "{name}");
    }
    for (name, t) in GGUF_TYPES {
        assert_eq!(GgufType::from_raw(c[*name] as i32), *t, "{name}");
    }
    for (name, status) in VERIFY_STATUSES {
        assert_eq!(VerifyStatus::from_raw(c[*name] as i32), *status, "{name}");
    }
    assert_eq!(CacheOpKind::from_raw(10), CacheOpKind::Unknown(10));
    assert_eq!(CacheOpState::from_raw(6), CacheOpState::Unknown(6));
    assert!(c["HUB_VERSION_NUM"] >= MIN_LIBRARY_VERSION as i64);
    // every code of the header has a kind, and back
    let mut n = 0;
    for (k, code) in c.iter().filter(|(k, _)| k.starts_with("error ")) {
        let code = *code as i32;
        n += 1;
        if code == 0 {
            continue;
        }
        let kind = ErrorKind::from_code(code);
        assert!(
            !matches!(kind, ErrorKind::Unknown(_)),
            "{k} has no ErrorKind"
        );
        assert_eq!(kind.code(), code);
    }
    assert_eq!(n, 26, "the error table changed");
    assert_eq!(ErrorKind::from_code(-25), ErrorKind::Format);
    assert!(matches!(ErrorKind::from_code(-26), ErrorKind::Unknown(-26)));
}

#[test]
fn runtime_library_matches() {
    // SAFETY: plain calls returning static data.
    let num = unsafe { hub_version_num() };
    assert!(num >= MIN_LIBRARY_VERSION);
    assert!(!hubfetch::library_version().is_empty());
}
