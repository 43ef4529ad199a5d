//! `Client::cache_scan` against the CLI's `cache ls --format json
//! --revisions` (the same C scan, printed by another program) and against
//! caches built by hand in huggingface_hub's layout, number by number.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::json::Json;
use common::{FakeHub, TempDir, DEMO, DEMO_MAIN};
use std::os::unix::fs::MetadataExt;
use std::time::Duration;

use hubfetch::{
    format_size, CacheInfo, CacheOpKind, CacheOpState, CachePlan, CachedRevision, Client,
    DownloadOptions, ErrorKind, HubKind, PruneOptions, RepoType,
};

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
            assert_eq!(v.files.len() as i128, jv.num("nb_files"));
            assert_files_match_the_disk(v);
            for name in &v.refs {
                assert_eq!(
                    r.revision_for_ref(name).map(|x| &x.commit_hash),
                    Some(&v.commit_hash)
                );
            }
        }
    }
}

/// Every file of a revision against a walk of its snapshot folder and
/// stat() of what each entry resolves to.
fn assert_files_match_the_disk(v: &CachedRevision) {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                walk(&p, out);
            } else if p.exists() {
                out.push(p); // a broken link is a warning, no file
            }
        }
    }
    let mut on_disk = Vec::new();
    walk(&v.snapshot_path, &mut on_disk);
    on_disk.sort();
    let mut names: Vec<String> = on_disk
        .iter()
        .map(|p| {
            p.strip_prefix(&v.snapshot_path)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    let mine: Vec<&str> = v.files.iter().map(|f| f.file_name.as_str()).collect();
    assert_eq!(mine, names, "sorted by file_name");
    for f in &v.files {
        let p = v.snapshot_path.join(&f.file_name);
        assert_eq!(f.file_path, p);
        assert_eq!(f.base_name(), p.file_name().unwrap().to_str().unwrap());
        assert_eq!(f.blob_path, p.canonicalize().unwrap());
        let st = std::fs::metadata(&p).unwrap();
        assert_eq!(f.size_on_disk, st.len());
        assert_eq!(f.size_on_disk_str(), format_size(st.len()));
        assert_eq!(f.blob_last_accessed, st.atime());
        assert_eq!(f.blob_last_modified, st.mtime());
        let link = std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink();
        if link {
            let target = std::fs::read_link(&p).unwrap();
            assert_eq!(
                f.blob_name.as_deref(),
                target.file_name().and_then(|n| n.to_str())
            );
        } else {
            assert_eq!(f.blob_name, None);
        }
    }
    if let Some(newest) = v.files.iter().map(|f| f.blob_last_accessed).max() {
        assert_eq!(v.last_accessed, newest);
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
    let files: Vec<(&str, &str, Option<&str>, u64)> = ex.revisions[0]
        .files
        .iter()
        .map(|f| {
            (
                f.file_name.as_str(),
                f.base_name(),
                f.blob_name.as_deref(),
                f.size_on_disk,
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("copy.bin", "copy.bin", Some(SHARED1), 3000),
            ("model.bin", "model.bin", Some(SHARED1), 3000),
            ("sub/config.json", "config.json", Some(ONLY_A), 2000),
        ]
    );
    assert_eq!(
        ex.revisions[0].files[2].blob_path,
        ex.repo_path.join("blobs").join(ONLY_A)
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
fn empty_missing_and_modelscope() {
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
    // the ModelScope layouts (0.4): a Hugging Face cache holds none
    worked_example(&cache);
    let info = ms.cache_scan().expect("modelscope scan");
    assert_eq!((info.repos.len(), info.size_on_disk), (0, 0));
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

// ---- deletion plans ----------------------------------------------------------------

const OLD: i64 = 1_000_000_000; // 2001: older than any age asked for

fn set_times(p: &Path, secs: i64) {
    // std has no utimes before 1.75: touch -d
    let ok = Command::new("touch")
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(p)
        .status()
        .expect("touch");
    assert!(ok.success());
}

fn summary(plan: &CachePlan) -> Vec<(CacheOpKind, CacheOpState, Option<String>, u64)> {
    plan.operations()
        .iter()
        .map(|o| (o.kind, o.state, o.name.clone(), o.bytes))
        .collect()
}

#[test]
fn delete_a_revision_frees_exactly_what_only_it_uses() {
    let tmp = TempDir::new("plan-delete");
    let cache = tmp.path().join("cache");
    let repo = worked_example(&cache).canonicalize().unwrap();
    let client = offline_client(&cache);

    let mut plan = client.cache_plan_delete(&[REV_A]).expect("plan");
    // copy.bin and model.bin share a blob B still uses: only onlyA goes
    assert_eq!(plan.bytes(), 2000);
    assert_eq!((plan.freed(), plan.is_executed()), (0, false));
    assert!(plan.unmatched().is_empty());
    use CacheOpKind::*;
    use CacheOpState::*;
    assert_eq!(
        summary(&plan),
        vec![
            (Ref, Planned, Some("main".into()), 0),
            (Snapshot, Planned, Some(REV_A.into()), 0),
            (Blob, Planned, Some(ONLY_A.into()), 2000),
        ]
    );
    let ops = plan.operations();
    assert_eq!(ops[0].path, repo.join("refs").join("main"));
    assert_eq!(ops[1].path, repo.join("snapshots").join(REV_A));
    assert_eq!(ops[2].path, repo.join("blobs").join(ONLY_A));
    assert!(ops.iter().all(
        |o| o.repo_id.as_deref() == Some("org/example") && o.repo_type == Some(RepoType::Model)
    ));
    assert_eq!(ops[0].commit_hash.as_deref(), Some(REV_A));
    assert_eq!(ops[2].commit_hash, None);
    assert!(repo.join("blobs").join(ONLY_A).exists()); // nothing yet

    // the plan owns its scan and keeps the C client: the Client may go,
    // and the plan may move to another thread
    drop(client);
    let plan = std::thread::spawn(move || {
        plan.execute().expect("execute");
        plan
    })
    .join()
    .unwrap();
    assert_eq!(
        summary(&plan)
            .iter()
            .map(|o| (o.0, o.1))
            .collect::<Vec<_>>(),
        [(Ref, Done), (Snapshot, Done), (Blob, Done)]
    );
    assert_eq!((plan.freed(), plan.is_executed()), (2000, true));
    assert!(!repo.join("refs").join("main").exists());
    assert!(!repo.join("snapshots").join(REV_A).exists());
    assert!(!repo.join("blobs").join(ONLY_A).exists());
    assert!(repo.join("blobs").join(SHARED1).exists());
    let mut plan = plan;
    assert_eq!(
        plan.execute().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let info = offline_client(&cache).cache_scan().unwrap();
    assert_eq!(info.all_warnings().count(), 0);
    let left: Vec<&str> = info.repos[0]
        .revisions
        .iter()
        .map(|v| v.commit_hash.as_str())
        .collect();
    assert_eq!(left, [REV_B, REV_C]);
    assert_eq!(info.repos[0].size_on_disk, 4000);
}

#[test]
fn delete_targets_files_repos_and_errors() {
    let tmp = TempDir::new("plan-targets");
    let cache = tmp.path().join("cache");
    let repo = worked_example(&cache).canonicalize().unwrap();
    let client = offline_client(&cache);
    let plan = client
        .cache_plan_delete(&[
            "org/example@main:model.bin",
            "model:org/example@main:sub/config.json",
            "nobody/nothing",
        ])
        .unwrap();
    use CacheOpKind::*;
    let kinds: Vec<(CacheOpKind, Option<&str>)> = plan
        .operations()
        .iter()
        .map(|o| (o.kind, o.name.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (File, Some("model.bin")),
            (File, Some("sub/config.json")),
            (Blob, Some(ONLY_A))
        ]
    );
    assert_eq!(plan.unmatched(), ["nobody/nothing"]);
    assert_eq!(plan.bytes(), 2000);
    drop(plan); // never executed: nothing happened
    assert!(repo.join("blobs").join(ONLY_A).exists());

    let e = client.cache_plan_delete(&["org/example@"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("org/example@"), "{e}");
    let e = client.cache_plan_delete(&["a\0b"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);

    // every revision: the whole repository, in one operation
    let mut plan = client
        .cache_plan_delete(&[REV_A, "org/example@v1", "model/org/example@3333"])
        .unwrap();
    assert_eq!(summary(&plan), [(Repo, CacheOpState::Planned, None, 6000)]);
    assert_eq!(plan.operations()[0].path, repo);
    plan.execute().unwrap();
    assert_eq!(plan.freed(), 6000);
    assert!(!repo.exists());
    assert!(client.cache_scan().unwrap().repos.is_empty());
}

#[test]
fn prune_evicts_the_least_recently_used_to_a_size() {
    let tmp = TempDir::new("plan-prune");
    let cache = tmp.path().join("cache");
    let repo = worked_example(&cache);
    let blobs = repo.join("blobs");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // C (onlyC) used longest ago, then A (onlyA), B (shared1) just now
    set_times(&blobs.join(ONLY_C), OLD);
    set_times(&blobs.join(ONLY_A), OLD + 10);
    set_times(&blobs.join(SHARED1), now);
    let stale = blobs.join(format!("{}.1a2b3c4d.incomplete", "d".repeat(64)));
    std::fs::write(&stale, vec![b'p'; 700]).unwrap();
    set_times(&stale, OLD);
    let client = offline_client(&cache);

    let info = client.cache_scan().unwrap();
    let last: Vec<i64> = info.repos[0]
        .revisions
        .iter()
        .map(|v| v.last_accessed)
        .collect();
    assert_eq!(last, [now, now, OLD]); // A has shared1 too

    // nothing asked: what nothing uses (C is detached) and the stale partial
    let plan = client.cache_plan_prune(PruneOptions::new()).unwrap();
    let mut got: Vec<(CacheOpKind, Option<String>)> = plan
        .operations()
        .iter()
        .map(|o| (o.kind, o.name.clone()))
        .collect();
    got.sort_by_key(|(k, n)| (k.as_str(), n.clone()));
    let partial_name = stale.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(
        got,
        [
            (CacheOpKind::Blob, Some(ONLY_C.to_string())),
            (CacheOpKind::Partial, Some(partial_name)),
            (CacheOpKind::Snapshot, Some(REV_C.to_string())),
        ]
    );
    assert_eq!(plan.bytes(), 1700);

    // A shares shared1 with B, used just now: A goes too, leaving 3000
    let mut plan = client
        .cache_plan_prune(PruneOptions::new().max_size(3500))
        .unwrap();
    let mut snaps: Vec<&str> = plan
        .operations()
        .iter()
        .filter(|o| o.kind == CacheOpKind::Snapshot)
        .filter_map(|o| o.name.as_deref())
        .collect();
    snaps.sort();
    assert_eq!(snaps, [REV_A, REV_C]);
    assert_eq!(plan.bytes(), 3000 + 700);
    plan.execute().unwrap();
    assert_eq!(plan.freed(), 3700);
    assert!(plan
        .operations()
        .iter()
        .all(|o| o.state == CacheOpState::Done));
    let info = client.cache_scan().unwrap();
    assert_eq!(info.repos[0].size_on_disk, 3000);
    assert_eq!(info.repos[0].refs, ["v1"]);
    assert!(!stale.exists());

    // ages: everything unused for 30 days, 40 days from now
    let plan = client
        .cache_plan_prune(
            PruneOptions::new()
                .older_than(Duration::from_secs(30 * 86400))
                .now(now + 40 * 86400),
        )
        .unwrap();
    assert_eq!(
        plan.operations().iter().map(|o| o.kind).collect::<Vec<_>>(),
        [CacheOpKind::Repo]
    );
    for bad in [
        PruneOptions::new().max_size(0),
        PruneOptions::new().older_than(Duration::from_millis(10)),
    ] {
        assert_eq!(
            client.cache_plan_prune(bad).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}

// ---- verification ------------------------------------------------------------------

#[test]
fn verify_a_sound_then_a_corrupt_cache() {
    use hubfetch::{VerifyOptions, VerifyStatus};
    let hub = FakeHub::start();
    let tmp = TempDir::new("verify");
    let cache = tmp.path().join("cache");
    let client = hub.client(&cache);
    client
        .snapshot_download(DEMO, &DownloadOptions::new())
        .expect("main");
    client
        .snapshot_download(DEMO, &DownloadOptions::new().revision("v1.0"))
        .expect("v1.0");

    let mut events = 0;
    let mut last_final = false;
    let rep = client
        .cache_verify(&VerifyOptions::new().threads(2).progress(|p| {
            events += 1;
            last_final = p.is_final;
            false
        }))
        .expect("verify");
    assert!(rep.ok, "{:?}", rep.items);
    assert_eq!(rep.failures().count(), 0);
    assert!(events > 0 && last_final);
    let s = &rep.summary;
    assert_eq!(
        (s.repos, s.revisions, s.threads, s.failed_files),
        (1, 2, 2, 0)
    );
    let blobs = cache.join("models--hubfetch--demo-model").join("blobs");
    let (mut n, mut bytes) = (0u64, 0u64);
    for e in std::fs::read_dir(&blobs).unwrap() {
        n += 1;
        bytes += e.unwrap().metadata().unwrap().len();
    }
    assert_eq!((s.blobs, s.bytes), (n, bytes));

    // flip one byte of the weights, a blob both revisions use
    let snap = cache
        .join("models--hubfetch--demo-model")
        .join("snapshots")
        .join(DEMO_MAIN);
    let blob = snap.join("model.safetensors").canonicalize().unwrap();
    let mut data = std::fs::read(&blob).unwrap();
    data[12345] ^= 0x55;
    std::fs::write(&blob, &data).unwrap();
    let rep = client.cache_verify(&VerifyOptions::new()).expect("verify");
    assert!(!rep.ok);
    let fails: Vec<&hubfetch::VerifyItem> = rep.failures().collect();
    assert_eq!(fails.len(), 2, "{fails:?}");
    assert_eq!(rep.summary.failed_files, 2);
    let name = blob.file_name().unwrap().to_str().unwrap();
    for f in &fails {
        assert_eq!(f.status, VerifyStatus::Mismatch);
        assert_eq!(f.repo_id.as_deref(), Some(DEMO));
        assert_eq!(f.file.as_deref(), Some("model.safetensors"));
        assert_eq!(f.path.as_deref(), Some(blob.as_path()));
        assert_eq!(f.algorithm.as_deref(), Some("sha256"));
        assert_eq!(f.expected.as_deref(), Some(name));
        assert_ne!(f.actual.as_deref(), Some(name));
        assert_eq!(f.actual.as_ref().map(|a| a.len()), Some(64));
    }
    // a target: config.json of main alone, sound
    let rep = client
        .cache_verify(&VerifyOptions::new().targets([format!("{DEMO}@main:config.json")]))
        .unwrap();
    assert!(rep.ok);
    assert_eq!((rep.summary.files, rep.summary.blobs), (1, 1));

    // errors
    let e = client
        .cache_verify(&VerifyOptions::new().targets(["org/absent"]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotCached);
    let e = client
        .cache_verify(&VerifyOptions::new().targets([format!("{DEMO}@")]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = client
        .cache_verify(&VerifyOptions::new().progress(|_| true))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.cache_verify(&VerifyOptions::new().progress(|_| panic!("boom")))
    }));
    assert!(r.is_err(), "the closure's panic is resumed");
    assert!(!client.cache_verify(&VerifyOptions::new()).unwrap().ok); // usable
}
