//! The safe API against the fake hub (tests/fakehub): downloads, progress,
//! cancel and resume, errors, jobs, cache lookups.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{FakeHub, TempDir, DEMO, DEMO_MAIN, MIB};
use hubfetch::{DownloadOptions, ErrorKind, FileStatus, Phase, RepoType};

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// The sha256 of an LFS file, from a dry run (its etag).
fn lfs_sha(hub: &FakeHub, path: &str) -> String {
    let tmp = TempDir::new("plan");
    let plan = hub
        .client(tmp.path())
        .download(
            DEMO,
            &DownloadOptions::new()
                .files([path])
                .allow_patterns([path])
                .dry_run(true),
        )
        .expect("dry run");
    plan.files
        .iter()
        .find(|f| f.path == path)
        .and_then(|f| f.etag.clone())
        .expect("etag")
}

#[test]
fn file_and_snapshot_with_patterns() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("dl");
    let client = hub.client(tmp.path());
    assert_eq!(client.endpoint(), hub.url);
    assert_eq!(client.cache_dir(), tmp.path());

    let p = client
        .download_file(DEMO, "config.json", &DownloadOptions::new())
        .expect("download");
    assert_eq!(
        p,
        tmp.path()
            .join("models--hubfetch--demo-model/snapshots")
            .join(DEMO_MAIN)
            .join("config.json")
    );
    assert!(std::fs::read_to_string(&p).unwrap().contains("model_type"));

    // the same again, from the cache only
    hub.reset();
    let again = client
        .download_file(
            DEMO,
            "config.json",
            &DownloadOptions::new().local_files_only(true),
        )
        .unwrap();
    assert_eq!(again, p);
    assert!(hub.log().is_empty());
    // and by the branch, with no request at all since it is here
    let held = client
        .download_file(
            DEMO,
            "config.json",
            &DownloadOptions::new().prefer_offline(true),
        )
        .unwrap();
    assert_eq!(held, p);
    assert!(hub.log().is_empty());

    let opts = DownloadOptions::new()
        .allow_patterns(["*.json", "tokenizer/*"])
        .ignore_patterns(["generation_*"]);
    let folder = client.snapshot_download(DEMO, &opts).expect("snapshot");
    assert!(folder.ends_with(Path::new("snapshots").join(DEMO_MAIN)));
    let want: BTreeSet<String> = [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "tokenizer/vocab.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(files_under(&folder), want);

    // a dataset into a local dir
    let local = tmp.path().join("data");
    let got = client
        .snapshot_download(
            "hubfetch/demo-data",
            &DownloadOptions::new()
                .repo_type(RepoType::Dataset)
                .local_dir(&local)
                .allow_patterns(["data/*"]),
        )
        .unwrap();
    assert_eq!(got, local);
    assert!(local.join("data/train.csv").is_file());
}

#[test]
fn download_reports_every_file() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("res");
    let client = hub.client(tmp.path());
    let json = || DownloadOptions::new().allow_patterns(["*.json"]);
    let plan = client.download(DEMO, &json().dry_run(true)).unwrap();
    assert_eq!(plan.commit.as_deref(), Some(DEMO_MAIN));
    assert!(plan.files.iter().all(|f| f.status == FileStatus::Planned));
    let first = client.download(DEMO, &json()).unwrap();
    assert_eq!(first.files.len(), 4);
    assert!(first
        .files
        .iter()
        .all(|f| f.status == FileStatus::Downloaded));
    assert!(first
        .files
        .iter()
        .all(|f| f.endpoint.as_deref() == Some(hub.url.as_str())));
    let again = client.download(DEMO, &json()).unwrap();
    assert!(again
        .files
        .iter()
        .all(|f| f.status == FileStatus::Cached && f.bytes_fetched == 0));
}

#[test]
fn progress_closure_sees_every_phase() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("prog");
    let client = hub.client(tmp.path());
    let mut events = Vec::new();
    {
        // the closure borrows `events` from this stack frame
        let opts = DownloadOptions::new().progress(|p| {
            events.push(p.clone().into_owned());
            false
        });
        client.snapshot_download(DEMO, &opts).expect("snapshot");
    }
    let phases: BTreeSet<String> = events.iter().map(|p| format!("{:?}", p.phase)).collect();
    for want in ["Resolve", "Download", "Done"] {
        assert!(phases.contains(want), "{phases:?}");
    }
    assert_eq!(events.iter().filter(|p| p.is_final).count(), 1);
    let last = events.last().unwrap();
    assert!(last.is_final && last.file.is_none());
    assert_eq!((last.file_count, last.files_done), (10, 10));
    assert_eq!(Some(last.bytes_done), last.bytes_total);
    assert!(
        events
            .windows(2)
            .all(|w| w[0].bytes_done <= w[1].bytes_done),
        "bytes_done went back"
    );
    let model = events
        .iter()
        .rev()
        .find(|p| p.file.as_deref() == Some("model.safetensors"))
        .unwrap();
    assert_eq!(
        (model.file_bytes_done, model.file_bytes_total),
        (32 * MIB, Some(32 * MIB))
    );
}

#[test]
fn cancel_from_the_closure_then_resume() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("cancel");
    let client = hub.client(tmp.path());
    hub.throttle(&lfs_sha(&hub, "model.safetensors"), 1_000_000);

    let mut on_disk = 0;
    let err = client
        .download_file(
            DEMO,
            "model.safetensors",
            &DownloadOptions::new().progress(|p| {
                on_disk = p.bytes_done;
                p.bytes_done >= 8 * MIB
            }),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!((err.code(), err.name().as_str()), (-21, "ECANCELLED"));
    assert!((8 * MIB..32 * MIB).contains(&on_disk), "{on_disk}");

    hub.reset();
    let p = client
        .download_file(DEMO, "model.safetensors", &DownloadOptions::new())
        .expect("resume");
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 32 * MIB);
    let second = hub.cdn_requests();
    assert!(!second.is_empty());
    for r in &second {
        let range = r.str("range").unwrap_or_default();
        assert!(
            range.starts_with("bytes=") && !range.starts_with("bytes=0-"),
            "{range}"
        );
    }
    let fetched: u64 = second.iter().map(|r| r.num("bytes")).sum();
    assert!(
        fetched <= 32 * MIB - on_disk,
        "fetched {fetched} again, had {on_disk}"
    );
}

#[test]
fn panic_in_the_closure_cancels_and_resumes_unwinding() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("panic");
    let client = hub.client(tmp.path());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let opts = DownloadOptions::new().progress(|p| {
            if p.phase == Phase::Download {
                panic!("boom from the closure");
            }
            false
        });
        let _ = client.download_file(DEMO, "onnx/model.onnx", &opts);
    }));
    let payload = caught.expect_err("the panic comes back");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"boom from the closure")
    );
    // the client is fine afterwards
    client
        .download_file(DEMO, "onnx/model.onnx", &DownloadOptions::new())
        .expect("again");
}

#[test]
fn errors_have_kinds_statuses_and_messages() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("err");
    let client = hub.builder(tmp.path()).max_retries(0).build().unwrap();
    let none = DownloadOptions::new();

    let e = client
        .download_file("hubfetch/nope", "config.json", &none)
        .unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::RepoNotFound, 401));
    assert!(e.message().contains("hubfetch/nope") && !e.message().contains('\n'));
    assert_eq!(e.to_string(), e.message());

    let e = client
        .snapshot_download("hubfetch/gated-model", &none)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Gated);
    let e = client
        .download_file(
            DEMO,
            "config.json",
            &DownloadOptions::new().revision("nope"),
        )
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.http_status()),
        (ErrorKind::RevisionNotFound, 404)
    );
    let e = client.download_file(DEMO, "nope.json", &none).unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::EntryNotFound, 404));
    let e = client
        .download_file(
            DEMO,
            "README.md",
            &DownloadOptions::new().local_files_only(true),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotCached);
    let e = client.download_file("a\0b", "x", &none).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = hub.builder(tmp.path()).token("x\0y").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);

    let alice = hub.builder(tmp.path()).token("hf_alice").build().unwrap();
    alice
        .snapshot_download("hubfetch/gated-model", &none)
        .expect("granted");
    assert!(
        hub.cdn_requests().iter().all(|r| !r.bool("auth")),
        "token sent to the CDN"
    );

    let closed = hubfetch::Client::builder()
        .endpoint("http://127.0.0.1:1")
        .cache_dir(tmp.path())
        .ignore_env(true)
        .max_retries(0)
        .build()
        .unwrap();
    let e = closed
        .download_file(DEMO, "tokenizer.json", &none)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network);

    hub.faults(r#"[{"match": "", "server": "cdn", "action": {"corrupt": true}}]"#);
    let e = client
        .download_file(DEMO, "onnx/model.onnx", &none)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Checksum);
}

#[test]
fn jobs_poll_cancel_wait() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("job");
    let client = hub.client(tmp.path());
    hub.throttle(&lfs_sha(&hub, "model.safetensors"), 1_000_000);

    let job = client
        .start_job(DEMO, DownloadOptions::new().files(["model.safetensors"]))
        .unwrap();
    assert!(job.wait_timeout(Duration::from_millis(50)).is_none());
    assert!(!job.is_done());
    // the client is the job's while it runs
    let e = client
        .download_file(DEMO, "config.json", &DownloadOptions::new())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Busy);
    let deadline = Instant::now() + Duration::from_secs(20);
    while job.poll().bytes_done == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let p = job.poll();
    assert!(p.bytes_done > 0);
    assert_eq!(p.bytes_total, Some(32 * MIB));
    assert_eq!(p.file.as_deref(), Some("model.safetensors"));
    // poll and cancel from another thread
    let job = Arc::new(job);
    let j2 = Arc::clone(&job);
    std::thread::spawn(move || {
        let _ = j2.poll();
        j2.cancel();
    })
    .join()
    .unwrap();
    assert_eq!(job.wait().unwrap_err().kind(), ErrorKind::Cancelled);
    assert!(job.is_done());
    assert_eq!(job.wait().unwrap_err().kind(), ErrorKind::Cancelled); // it stays
    drop(job);

    // free again; a job with a progress closure on the job's thread
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let me = std::thread::current().id();
    let job = client
        .start_job(
            DEMO,
            DownloadOptions::new()
                .allow_patterns(["*.json"])
                .progress(move |p| {
                    sink.lock()
                        .unwrap()
                        .push((std::thread::current().id(), p.is_final));
                    false
                }),
        )
        .unwrap();
    let r = job.wait().expect("job");
    assert_eq!(r.files.len(), 4);
    assert_eq!(job.wait().unwrap(), r);
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|(t, _)| *t != me));
    assert_eq!(seen.last().map(|s| s.1), Some(true));
    assert!(job.poll().is_final);
}

#[test]
fn concurrent_waiters_share_the_outcome_and_keep_their_timeouts() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("waiters");
    let client = hub.client(tmp.path());
    hub.throttle(&lfs_sha(&hub, "model.safetensors"), 1_000_000);
    let job = Arc::new(
        client
            .start_job(
                DEMO,
                DownloadOptions::new().files(["model.safetensors", "config.json"]),
            )
            .unwrap(),
    );
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let j = Arc::clone(&job);
            std::thread::spawn(move || j.wait())
        })
        .collect();
    // a short wait is not held up by the threads waiting forever
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    assert!(job.wait_timeout(Duration::from_millis(50)).is_none());
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let outcomes: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    let first = outcomes[0].as_ref().expect("job").clone();
    assert_eq!(first.files.len(), 2);
    for o in &outcomes {
        assert_eq!(o.as_ref().expect("every waiter gets the result"), &first);
    }
    assert_eq!(job.wait().unwrap(), first);
}

#[test]
fn dropping_jobs_and_clients_in_any_order() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("drop");
    hub.throttle(&lfs_sha(&hub, "model.safetensors"), 1_000_000);
    let client = hub.client(tmp.path());
    // a running job dropped: cancelled and joined, the client usable again
    let job = client
        .start_job(DEMO, DownloadOptions::new().files(["model.safetensors"]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    drop(job);
    assert!(t.elapsed() < Duration::from_secs(5));
    client
        .download_file(DEMO, "config.json", &DownloadOptions::new())
        .expect("free again");
    // the client dropped first: the job keeps the C client alive
    let job = client
        .start_job(DEMO, DownloadOptions::new().files(["README.md"]))
        .unwrap();
    drop(client);
    assert!(job.wait().is_ok());
}

#[test]
fn cache_lookup_never_uses_the_network() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("lookup");
    let client = hub.client(tmp.path());
    let json = DownloadOptions::new().allow_patterns(["*.json"]);
    assert!(!client.cache_lookup(DEMO, &json).unwrap().complete);
    client.snapshot_download(DEMO, &json).unwrap();
    hub.reset();
    let r = client.cache_lookup(DEMO, &json).unwrap();
    assert!(r.complete);
    assert_eq!(r.commit.as_deref(), Some(DEMO_MAIN));
    assert!(r
        .files
        .iter()
        .all(|f| f.status == FileStatus::Cached && f.local_path.as_ref().unwrap().is_file()));
    let r = client
        .cache_lookup(
            DEMO,
            &DownloadOptions::new().files(["config.json", "README.md"]),
        )
        .unwrap();
    assert!(!r.complete);
    let missing: Vec<&str> = r
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Missing)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(missing, ["README.md"]);
    assert!(hub.log().is_empty());
}

#[test]
fn log_closure_receives_messages() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("log");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let client = hub
        .builder(tmp.path())
        .log(hubfetch::LogLevel::Debug, move |_, msg| {
            sink.lock().unwrap().push(msg.to_string())
        })
        .build()
        .unwrap();
    hub.faults(r#"[{"match": "", "server": "cdn", "times": 1, "action": {"status": 503}}]"#);
    client
        .download_file(DEMO, "onnx/model.onnx", &DownloadOptions::new())
        .expect("retried");
    assert!(
        lines.lock().unwrap().iter().any(|l| l.contains("503")),
        "{:?}",
        lines.lock().unwrap()
    );
}

#[test]
fn cancel_handle_stops_a_server_asked_wait() {
    let hub = FakeHub::start();
    let tmp = TempDir::new("cancel-handle");
    let client = hub.client(tmp.path());
    // the hub asks to wait 250 s (obeyed: under the 300 s cap)
    hub.faults(
        r#"[{"match": "resolve/main/config.json", "server": "hub",
             "action": {"status": 429, "headers": {"Retry-After": "250"}}}]"#,
    );
    let handle = client.cancel_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        handle.cancel();
    });
    let t0 = Instant::now();
    let err = client
        .download_file(DEMO, "config.json", &DownloadOptions::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    t.join().unwrap();
    hub.reset();
    client
        .download_file(DEMO, "config.json", &DownloadOptions::new())
        .expect("the next call is not cancelled");
}

#[test]
fn thread_safety_markers() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<hubfetch::Client>(); // one thread at a time, movable
    send::<hubfetch::Job>();
    sync::<hubfetch::Job>(); // poll/cancel/wait from any thread
    send::<hubfetch::Error>();
    sync::<hubfetch::Error>();
    send::<hubfetch::CancelHandle>(); // cancel from any thread
    sync::<hubfetch::CancelHandle>();
    send::<hubfetch::CachePlan>(); // owns its C plan and scan: movable, not Sync
}
