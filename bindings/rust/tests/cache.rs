//! `Client::cache_scan` against the CLI's `cache ls --format json
//! --revisions` (the same C scan, printed by another program) and against
//! caches built by hand in huggingface_hub's layout, number by number.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{FakeHub, TempDir, DEMO, DEMO_MAIN};
use hubfetch::{format_size, CacheInfo, Client, DownloadOptions, ErrorKind, HubKind, RepoType};

const SHARED1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const ONLY_A: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const ONLY_C: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
const REV_A: &str = "1111111111111111111111111111111111111111";
const REV_B: &str = "2222222222222222222222222222222222222222";
const REV_C: &str = "3333333333333333333333333333333333333333";
const DEMO_V1: &str = "c4ef15906d838aa47a14b2f34f10065101bac6fc";

/// A repository in huggingface_hub's layout: blobs (etag, bytes),
/// snapshots (commit, [(path, etag)]), refs (name, commit).
fn make_repo(
    cache: &Path,
    folder: &str,
    blobs: &[(&str, Vec<u8>)],
    snapshots: &[(&str, &[(&str, &str)])],
    refs: &[(&str, &str)],
) -> PathBuf {
    let repo = cache.join(folder);
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    for (etag, data) in blobs {
        std::fs::write(repo.join("blobs").join(etag), data).unwrap();
    }
    for (commit, files) in snapshots {
        for (path, etag) in files.iter() {
            let p = repo.join("snapshots").join(commit).join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let up = "../".repeat(path.matches('/').count() + 2);
            std::os::unix::fs::symlink(format!("{up}blobs/{etag}"), &p).unwrap();
        }
    }
    for (name, commit) in refs {
        let p = repo.join("refs").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, commit).unwrap();
    }
    repo
}

/// huggingface_hub's documented example: A = {model.bin, copy.bin ->
/// shared1, sub/config.json -> onlyA}, B = {model.bin -> shared1}, C =
/// {x.bin -> onlyC} (detached): A 5000, B 3000, C 1000, repo 6000.
fn worked_example(cache: &Path) -> PathBuf {
    make_repo(
        cache,
        "models--org--example",
        &[
            (SHARED1, vec![b's'; 3000]),
            (ONLY_A, vec![b'a'; 2000]),
            (ONLY_C, vec![b'c'; 1000]),
        ],
        &[
            (
                REV_A,
                &[
                    ("model.bin", SHARED1),
                    ("copy.bin", SHARED1),
                    ("sub/config.json", ONLY_A),
                ],
            ),
            (REV_B, &[("model.bin", SHARED1)]),
            (REV_C, &[("x.bin", ONLY_C)]),
        ],
        &[("main", REV_A), ("v1", REV_B)],
    )
}

fn offline_client(cache: &Path) -> Client {
    Client::builder()
        .cache_dir(cache)
        .ignore_env(true)
        .offline(true)
        .build()
        .expect("client")
}

// ---- just enough JSON for the CLI's output ----------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(i128),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn parse(text: &str) -> Json {
        let b = text.as_bytes();
        let mut i = 0;
        let v = Json::value(b, &mut i);
        Json::ws(b, &mut i);
        assert_eq!(i, b.len(), "trailing bytes in JSON");
        v
    }
    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }
    fn value(b: &[u8], i: &mut usize) -> Json {
        Json::ws(b, i);
        match b[*i] {
            b'{' => {
                *i += 1;
                let mut m = BTreeMap::new();
                loop {
                    Json::ws(b, i);
                    if b[*i] == b'}' {
                        *i += 1;
                        return Json::Obj(m);
                    }
                    let k = match Json::value(b, i) {
                        Json::Str(s) => s,
                        other => panic!("key {other:?}"),
                    };
                    Json::ws(b, i);
                    assert_eq!(b[*i], b':');
                    *i += 1;
                    m.insert(k, Json::value(b, i));
                    Json::ws(b, i);
                    if b[*i] == b',' {
                        *i += 1;
                    }
                }
            }
            b'[' => {
                *i += 1;
                let mut v = Vec::new();
                loop {
                    Json::ws(b, i);
                    if b[*i] == b']' {
                        *i += 1;
                        return Json::Arr(v);
                    }
                    v.push(Json::value(b, i));
                    Json::ws(b, i);
                    if b[*i] == b',' {
                        *i += 1;
                    }
                }
            }
            b'"' => {
                *i += 1;
                let mut out = Vec::new();
                while b[*i] != b'"' {
                    if b[*i] == b'\\' {
                        *i += 1;
                        match b[*i] {
                            b'n' => out.push(b'\n'),
                            b't' => out.push(b'\t'),
                            b'r' => out.push(b'\r'),
                            b'b' => out.push(8),
                            b'f' => out.push(12),
                            b'u' => {
                                let hex = std::str::from_utf8(&b[*i + 1..*i + 5]).unwrap();
                                let c = u32::from_str_radix(hex, 16).unwrap();
                                let mut buf = [0u8; 4];
                                let s = char::from_u32(c)
                                    .unwrap_or('\u{fffd}')
                                    .encode_utf8(&mut buf);
                                out.extend_from_slice(s.as_bytes());
                                *i += 4;
                            }
                            c => out.push(c),
                        }
                    } else {
                        out.push(b[*i]);
                    }
                    *i += 1;
                }
                *i += 1;
                Json::Str(String::from_utf8(out).unwrap())
            }
            b't' => {
                *i += 4;
                Json::Bool(true)
            }
            b'f' => {
                *i += 5;
                Json::Bool(false)
            }
            b'n' => {
                *i += 4;
                Json::Null
            }
            _ => {
                let start = *i;
                while *i < b.len() && (b[*i] == b'-' || b[*i].is_ascii_digit()) {
                    *i += 1;
                }
                let s = std::str::from_utf8(&b[start..*i]).unwrap();
                Json::Num(s.parse().unwrap_or_else(|_| panic!("number {s:?}")))
            }
        }
    }
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or_else(|| panic!("no {key}")),
            other => panic!("{other:?} is no object"),
        }
    }
    fn str(&self, key: &str) -> &str {
        match self.get(key) {
            Json::Str(s) => s,
            other => panic!("{key}: {other:?}"),
        }
    }
    fn num(&self, key: &str) -> i128 {
        match self.get(key) {
            Json::Num(n) => *n,
            other => panic!("{key}: {other:?}"),
        }
    }
    fn arr(&self, key: &str) -> &[Json] {
        match self.get(key) {
            Json::Arr(v) => v,
            other => panic!("{key}: {other:?}"),
        }
    }
    fn strings(&self, key: &str) -> Vec<String> {
        self.arr(key)
            .iter()
            .map(|v| match v {
                Json::Str(s) => s.clone(),
                other => panic!("{key}: {other:?}"),
            })
            .collect()
    }
}

/// `hubfetch cache ls --format json --revisions`; None without the program.
fn cli_json(cache: &Path) -> Option<Json> {
    let exe = std::env::var_os("HUBFETCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::source_dir().join("build").join("hubfetch"));
    if !exe.exists() {
        eprintln!("skipped the CLI comparison: no {}", exe.display());
        return None;
    }
    let out = Command::new(&exe)
        .args([
            "cache",
            "ls",
            "--format",
            "json",
            "--revisions",
            "--cache-dir",
        ])
        .arg(cache)
        .output()
        .expect("run hubfetch");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Json::parse(&String::from_utf8(out.stdout).unwrap()))
}

/// Every field of every repository and revision, as the CLI printed it.
fn assert_matches_cli(info: &CacheInfo, cli: &Json) {
    let rows = match cli {
        Json::Arr(v) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(info.repos.len(), rows.len());
    // both sorted by "<type>/<repo_id>"
    for (r, j) in info.repos.iter().zip(rows) {
        assert_eq!(r.repo_id, j.str("repo_id"));
        assert_eq!(r.repo_type.as_str(), j.str("repo_type"));
        assert_eq!(
            r.cache_id(),
            format!("{}/{}", j.str("repo_type"), j.str("repo_id"))
        );
        assert_eq!(r.repo_path, Path::new(j.str("repo_path")));
        assert_eq!(r.size_on_disk as i128, j.num("size_on_disk"));
        assert_eq!(r.nb_files as i128, j.num("nb_files"));
        assert_eq!(r.last_accessed as i128, j.num("last_accessed"));
        assert_eq!(r.last_modified as i128, j.num("last_modified"));
        assert_eq!(r.refs, j.strings("refs"));
        assert_eq!(r.warnings, j.strings("warnings"));
        let revs = j.arr("revisions");
        assert_eq!(r.revisions.len(), revs.len(), "{}", r.repo_id);
        for (v, jv) in r.revisions.iter().zip(revs) {
            assert_eq!(v.commit_hash, jv.str("commit_hash"));
            assert_eq!(v.snapshot_path, Path::new(jv.str("snapshot_path")));
            assert_eq!(v.refs, jv.strings("refs"));
            assert_eq!(v.size_on_disk as i128, jv.num("size_on_disk"));
            assert_eq!(v.nb_files as i128, jv.num("nb_files"));
            assert_eq!(v.last_modified as i128, jv.num("last_modified"));
            assert!(v.files.is_empty()); // until the C API reports files
            for name in &v.refs {
                assert_eq!(
                    r.revision_for_ref(name).map(|x| &x.commit_hash),
                    Some(&v.commit_hash)
                );
            }
        }
    }
}

#[test]
fn scan_matches_the_cli_and_the_worked_example() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("scan");
    let cache = tmp.path().join("cache");
    let client = hub.client(&cache);
    let json = || DownloadOptions::new().allow_patterns(["*.json", "*.md"]);
    client.snapshot_download(DEMO, &json()).expect("main");
    client
        .snapshot_download(DEMO, &json().revision("v1.0"))
        .expect("v1.0");
    client
        .snapshot_download(
            "hubfetch/demo-data",
            &DownloadOptions::new().repo_type(RepoType::Dataset),
        )
        .expect("dataset");
    worked_example(&cache);

    let info = client.cache_scan().expect("scan");
    assert_eq!(info.cache_dir, cache.canonicalize().unwrap());
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!(info.all_warnings().count(), 0);
    if let Some(cli) = cli_json(&cache) {
        assert_matches_cli(&info, &cli);
    }
    let ids: Vec<String> = info.repos.iter().map(|r| r.cache_id()).collect();
    assert_eq!(
        ids,
        [
            "dataset/hubfetch/demo-data",
            "model/hubfetch/demo-model",
            "model/org/example"
        ]
    );
    // no hard links across repositories here: the repositories add up
    assert_eq!(
        info.size_on_disk,
        info.repos.iter().map(|r| r.size_on_disk).sum::<u64>()
    );
    assert_eq!(info.size_on_disk_str(), format_size(info.size_on_disk));

    let demo = &info.repos[1];
    assert_eq!(demo.repo_type, RepoType::Model);
    assert_eq!(demo.refs, ["main", "v1.0"]);
    assert_eq!(
        demo.revision_for_ref("main").unwrap().commit_hash,
        DEMO_MAIN
    );
    assert_eq!(demo.revision_for_ref("v1.0").unwrap().commit_hash, DEMO_V1);
    assert!(demo.revision_for_ref("nope").is_none());
    assert_eq!(
        demo.repo_path,
        cache
            .canonicalize()
            .unwrap()
            .join("models--hubfetch--demo-model")
    );

    let ex = &info.repos[2];
    assert_eq!((ex.size_on_disk, ex.nb_files), (6000, 3));
    assert_eq!(ex.size_on_disk_str(), "6.0K");
    assert_eq!(ex.refs, ["main", "v1"]);
    let got: Vec<(&str, u64, u64, Vec<String>)> = ex
        .revisions
        .iter()
        .map(|v| {
            (
                v.commit_hash.as_str(),
                v.size_on_disk,
                v.nb_files,
                v.refs.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (REV_A, 5000, 3, vec!["main".to_string()]),
            (REV_B, 3000, 1, vec!["v1".to_string()]),
            (REV_C, 1000, 1, vec![]),
        ]
    );
    assert_eq!(
        ex.revisions[0].snapshot_path,
        ex.repo_path.join("snapshots").join(REV_A)
    );
    // times: the newest blob's, in unix seconds
    let mtime = |p: PathBuf| {
        std::fs::metadata(p)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let newest = [SHARED1, ONLY_A, ONLY_C]
        .iter()
        .map(|b| mtime(ex.repo_path.join("blobs").join(b)))
        .max()
        .unwrap();
    assert_eq!(ex.last_modified, newest);
    assert_eq!(
        ex.revisions[2].last_modified,
        mtime(ex.repo_path.join("blobs").join(ONLY_C))
    );
}

#[test]
fn defects_are_warnings_and_the_repo_stays_listed() {
    let tmp = TempDir::new("scan-defects");
    let cache = tmp.path().join("cache");
    let repo = worked_example(&cache);
    std::fs::remove_file(repo.join("blobs").join(ONLY_C)).unwrap();
    std::fs::write(repo.join("refs").join("ghost"), "9".repeat(40)).unwrap();
    std::fs::write(repo.join("snapshots").join("stray.txt"), "x").unwrap();
    std::fs::write(cache.join("version.txt"), "1").unwrap();

    let info = offline_client(&cache).cache_scan().expect("scan");
    if let Some(cli) = cli_json(&cache) {
        assert_matches_cli(&info, &cli);
    }
    assert_eq!(info.repos.len(), 1);
    let ex = &info.repos[0];
    assert_eq!(
        (ex.size_on_disk, ex.nb_files, ex.revisions.len()),
        (5000, 2, 3)
    );
    assert_eq!(ex.warnings.len(), 3, "{:?}", ex.warnings);
    assert_eq!(info.warnings.len(), 1);
    assert!(info.warnings[0].contains("version.txt"));
    let all: Vec<&str> = info.all_warnings().collect();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0], info.warnings[0]);
    let text = all.join("\n");
    for needle in ["broken link", ONLY_C, "ghost", "stray.txt"] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn empty_missing_and_unsupported() {
    let tmp = TempDir::new("scan-errors");
    let cache = tmp.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let info = offline_client(&cache).cache_scan().expect("scan");
    assert_eq!(
        (info.size_on_disk, info.repos.len(), info.warnings.len()),
        (0, 0, 0)
    );
    assert_eq!(info.size_on_disk_str(), "0.0");

    let missing = tmp.path().join("nope");
    let e = offline_client(&missing).cache_scan().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotCached);
    assert!(e.message().contains("nope"), "{e}");

    std::fs::write(tmp.path().join("file"), "x").unwrap();
    let e = offline_client(&tmp.path().join("file"))
        .cache_scan()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);

    let ms = Client::builder()
        .cache_dir(&cache)
        .ignore_env(true)
        .offline(true)
        .hub(HubKind::ModelScope)
        .build()
        .expect("client");
    assert_eq!(ms.cache_scan().unwrap_err().kind(), ErrorKind::Unsupported);
}

#[test]
fn sizes_are_written_as_huggingface_hub_writes_them() {
    // expected: huggingface_hub's _format_size of each
    let cases: &[(u64, &str)] = &[
        (0, "0.0"),
        (1, "1.0"),
        (999, "999.0"),
        (1000, "1.0K"),
        (1049, "1.0K"),
        (1050, "1.1K"),
        (1250, "1.2K"),
        (999_949, "999.9K"),
        (999_950, "1000.0K"),
        (6000, "6.0K"),
        (3_200_000_000, "3.2G"),
        (1_000_000_000_000_000_000, "1.0E"),
        (u64::MAX, "18.4E"),
    ];
    for (n, s) in cases {
        assert_eq!(format_size(*n), *s, "{n}");
    }
}
