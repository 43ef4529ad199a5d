//! `Client::read` / `read_with` and the remote header readers against the
//! fake serving tests/fixtures/weights_repo.py's repository (the fixture
//! the C suite's remote tests use): ranges and whole files equal the
//! files served, a cached file is read with no request, and the remote
//! headers equal `safetensors_info_file` / `gguf_info_file` on the same
//! files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{FakeHub, TempDir, MIB};
use hubfetch::{
    gguf_info_file, gguf_info_file_with, safetensors_info_file, DownloadOptions, ErrorKind,
    HeaderOptions, ReadOptions,
};

const WEIGHTS: &str = "hubfetch/weights";

struct Weights {
    hub: FakeHub,
    files: PathBuf,
    cache: PathBuf,
    _tmp: TempDir,
}

fn weights() -> Weights {
    let tmp = TempDir::new("read");
    let dir = tmp.path().join("fixtures");
    let ok = Command::new(common::python())
        .arg(common::source_dir().join("tests/fixtures/weights_repo.py"))
        .arg(&dir)
        .status()
        .expect("run weights_repo.py");
    assert!(ok.success(), "weights_repo.py failed");
    Weights {
        hub: FakeHub::start_with(&dir),
        files: dir.join("files"),
        cache: tmp.path().join("cache"),
        _tmp: tmp,
    }
}

fn local(w: &Weights, name: &str) -> Vec<u8> {
    std::fs::read(w.files.join(name)).unwrap()
}

fn requests(w: &Weights) -> usize {
    w.hub.log().len()
}

fn clear_log(hub: &FakeHub) {
    hub.settle();
    hub.control(Some(r#"{"clear_log": true}"#));
}

#[test]
fn ranges_and_whole_files_equal_the_served_bytes() {
    let w = weights();
    let c = w.hub.client(&w.cache);
    let big = local(&w, "big.gguf");
    let n = big.len() as u64;
    let o = ReadOptions::new();
    let cases: Vec<(u64, Option<u64>, &[u8])> = vec![
        (0, Some(100), &big[..100]),
        (
            3 * MIB,
            Some(2 * MIB),
            &big[3 * MIB as usize..5 * MIB as usize],
        ),
        (n - 10, Some(10), &big[big.len() - 10..]),
        (n - 10, None, &big[big.len() - 10..]),
        (n - 10, Some(1000), &big[big.len() - 10..]),
        (n, None, b""),
        (n, Some(5), b""),
        (0, None, &big[..]),
    ];
    for (off, len, want) in cases {
        let got = c.read(WEIGHTS, "big.gguf", off, len, &o).unwrap();
        assert!(
            got == want,
            "offset {off} length {len:?}: {} bytes",
            got.len()
        );
    }
    let e = c
        .read(WEIGHTS, "big.gguf", n + 1, Some(10), &o)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains(&n.to_string()), "{e}");
    // a git file, whole and verified
    let index = "sharded/model.safetensors.index.json";
    let verified = ReadOptions::new().verify(true);
    assert_eq!(
        c.read(WEIGHTS, index, 0, None, &verified).unwrap(),
        local(&w, index)
    );
    let single = local(&w, "single.safetensors");
    assert_eq!(
        c.read(WEIGHTS, "single.safetensors", 0, None, &verified)
            .unwrap(),
        single
    );
    assert!(!w.cache.exists(), "nothing cached");
}

#[test]
fn read_with_streams_cancels_and_resumes_panics() {
    let w = weights();
    let c = w.hub.client(&w.cache);
    let big = local(&w, "big.gguf");
    let mut got = Vec::new();
    let mut calls = 0;
    let info = c
        .read_with(
            WEIGHTS,
            "big.gguf",
            0,
            None,
            &ReadOptions::new().verify(true),
            |b| {
                got.extend_from_slice(b);
                calls += 1;
                false
            },
        )
        .unwrap();
    assert!(got == big);
    assert!(calls > 1, "streamed in chunks");
    assert_eq!(info.size, Some(big.len() as u64));
    assert_eq!(info.bytes_read, big.len() as u64);
    assert!(!info.from_cache);
    assert_eq!(info.etag.as_deref().map(str::len), Some(64));
    assert_eq!(info.commit.as_deref().map(str::len), Some(40));

    let mut chunks = 0;
    let e = c
        .read_with(WEIGHTS, "big.gguf", 0, None, &ReadOptions::new(), |_| {
            chunks += 1;
            true
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert_eq!(chunks, 1);

    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = c.read_with(WEIGHTS, "big.gguf", 0, None, &ReadOptions::new(), |_| {
            panic!("boom from on_data")
        });
    }));
    let payload = caught.expect_err("the panic comes back");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom from on_data"));
    // the client still works
    assert_eq!(
        c.read(WEIGHTS, "big.gguf", 0, Some(4), &ReadOptions::new())
            .unwrap(),
        &big[..4]
    );
    let e = c
        .read_with(
            WEIGHTS,
            "big.gguf",
            5,
            Some(5),
            &ReadOptions::new().verify(true),
            |_| false,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = c
        .read(WEIGHTS, "no/such.bin", 0, None, &ReadOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::EntryNotFound);
    let e = c
        .read("hubfetch/nope", "x", 0, Some(1), &ReadOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RepoNotFound);
}

#[test]
fn a_cached_file_is_read_with_no_request() {
    let w = weights();
    let c = w.hub.client(&w.cache);
    c.download_file(WEIGHTS, "single.safetensors", &DownloadOptions::new())
        .unwrap();
    c.download_file(WEIGHTS, "llama-v3.gguf", &DownloadOptions::new())
        .unwrap();
    clear_log(&w.hub);
    let single = local(&w, "single.safetensors");
    let mut got = Vec::new();
    let info = c
        .read_with(
            WEIGHTS,
            "single.safetensors",
            8,
            Some(16),
            &ReadOptions::new(),
            |b| {
                got.extend_from_slice(b);
                false
            },
        )
        .unwrap();
    assert_eq!(got, &single[8..24]);
    assert!(info.from_cache);
    assert_eq!(info.bytes_fetched, 0);
    assert_eq!(
        c.read(WEIGHTS, "single.safetensors", 0, None, &ReadOptions::new())
            .unwrap(),
        single
    );
    let st = c
        .safetensors_info_remote(WEIGHTS, "single.safetensors", &ReadOptions::new())
        .unwrap();
    assert_eq!(st.tensors.len(), 25);
    let g = c
        .gguf_info_remote(WEIGHTS, "llama-v3.gguf", &ReadOptions::new())
        .unwrap();
    assert_eq!(g.architecture.as_deref(), Some("llama"));
    assert_eq!(requests(&w), 0, "no request for a cached file");
    let fresh = c
        .read(
            WEIGHTS,
            "single.safetensors",
            0,
            Some(8),
            &ReadOptions::new().no_cache(true),
        )
        .unwrap();
    assert_eq!(fresh, &single[..8]);
    assert!(requests(&w) > 0);
}

fn file(w: &Weights, name: &str) -> PathBuf {
    Path::new(&w.files).join(name)
}

#[test]
fn remote_headers_equal_the_local_files() {
    let w = weights();
    let c = w.hub.client(&w.cache);
    let o = ReadOptions::new();
    for name in [
        "single.safetensors",
        "big.safetensors",
        "sharded/model.safetensors.index.json",
        "sharded/model-00001-of-00002.safetensors",
    ] {
        clear_log(&w.hub);
        let remote = c.safetensors_info_remote(WEIGHTS, name, &o).unwrap();
        assert_eq!(
            remote,
            safetensors_info_file(file(&w, name)).unwrap(),
            "{name}"
        );
        let sent: u64 = w.hub.cdn_requests().iter().map(|e| e.num("bytes")).sum();
        assert!(
            sent <= remote.data_offset + remote.header_size + 2 * MIB,
            "{name}: {sent} bytes"
        );
    }
    for name in ["llama-v3.gguf", "gemma-v2.gguf", "big.gguf"] {
        let remote = c.gguf_info_remote(WEIGHTS, name, &o).unwrap();
        assert_eq!(remote, gguf_info_file(file(&w, name)).unwrap(), "{name}");
    }
    let h = HeaderOptions::new().max_array_values(10);
    assert_eq!(
        c.gguf_info_remote_with(WEIGHTS, "big.gguf", &o, &h)
            .unwrap(),
        gguf_info_file_with(file(&w, "big.gguf"), &h).unwrap()
    );
    let e = c
        .safetensors_info_remote(WEIGHTS, "llama-v3.gguf", &o)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    let e = c
        .gguf_info_remote(WEIGHTS, "single.safetensors", &o)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    let e = c.gguf_info_remote(WEIGHTS, "absent.gguf", &o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::EntryNotFound);
}
