//! Test support without dependencies: the fake hub (tests/fakehub) in a
//! child process, scratch directories, and just enough HTTP and JSON to
//! drive the fake's /_control endpoint and read its request log.
#![allow(dead_code)]

pub mod json;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hubfetch::Client;

pub const DEMO: &str = "hubfetch/demo-model";
pub const DEMO_MAIN: &str = "336de85ded21fb397e9153c318fe74ccdaa1f6e9";
pub const MIB: u64 = 1 << 20;

/// The repository: $HUB_SOURCE_DIR (ctest), else two levels up.
pub fn source_dir() -> PathBuf {
    std::env::var_os("HUB_SOURCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

pub fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "hubfetch-rs-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `python3 tests/fakehub/fakehub.py`: stops when its stdin closes, so it
/// cannot outlive a test process that crashed.
pub struct FakeHub {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    pub url: String,
    log: PathBuf,
    _tmp: TempDir,
}

impl FakeHub {
    pub fn start() -> FakeHub {
        FakeHub::start_with(&source_dir().join("tests/fixtures/hub"))
    }

    /// A fake serving the repositories of another fixture directory.
    pub fn start_with(fixtures: &Path) -> FakeHub {
        let src = source_dir();
        let tmp = TempDir::new("fakehub");
        let log = tmp.path().join("requests.jsonl");
        let mut child = Command::new(python())
            .arg(src.join("tests/fakehub/fakehub.py"))
            .arg("--fixtures")
            .arg(fixtures)
            .arg("--log")
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the fake hub");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read READY");
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert!(
            parts.len() == 3 && parts[0] == "READY",
            "fakehub said {line:?}"
        );
        let port: u16 = parts[1].parse().expect("hub port");
        FakeHub {
            child,
            stdin,
            port,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _tmp: tmp,
        }
    }

    /// A client for this hub: no environment, no proxy, a scratch cache.
    pub fn client(&self, cache: &Path) -> Client {
        self.builder(cache).build().expect("client")
    }

    pub fn builder(&self, cache: &Path) -> hubfetch::ClientBuilder {
        Client::builder()
            .endpoint(&self.url)
            .cache_dir(cache)
            .ignore_env(true)
            .proxy("")
    }

    /// GET (body None) or POST /_control; returns the response body.
    pub fn control(&self, body: Option<&str>) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the fake");
        let req = match body {
            None => {
                "GET /_control HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".to_string()
            }
            Some(b) => format!(
                "POST /_control HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                b.len(),
                b
            ),
        };
        s.write_all(req.as_bytes()).expect("send");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("receive");
        assert!(
            resp.starts_with("HTTP/1.1 200") || resp.starts_with("HTTP/1.0 200"),
            "{resp}"
        );
        resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
    }

    pub fn faults(&self, rules_json: &str) {
        self.control(Some(&format!("{{\"faults\": {rules_json}}}")));
    }

    /// Clear the fault rules and the request log.
    pub fn reset(&self) {
        self.settle();
        self.control(Some(r#"{"reset": true, "clear_log": true}"#));
    }

    /// Wait until no request is in flight (the log line of a response is
    /// written after the client may have seen its end).
    pub fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.control(None).contains("\"in_flight\": 0") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The logged requests, one JSON object per line.
    pub fn log(&self) -> Vec<LogEntry> {
        self.settle();
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| LogEntry(l.to_string()))
            .collect()
    }

    pub fn cdn_requests(&self) -> Vec<LogEntry> {
        self.log()
            .into_iter()
            .filter(|e| e.str("server").as_deref() == Some("cdn"))
            .collect()
    }

    /// Slow the CDN down for one content, so that a test has time to act.
    pub fn throttle(&self, sha256: &str, bytes_per_sec: u64) {
        self.faults(&format!(
            r#"[{{"match": "{sha256}", "server": "cdn", "action": {{"rate": {bytes_per_sec}}}}}]"#
        ));
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        drop(self.stdin.take()); // EOF: the fake exits
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the fake's log; fields read by name (flat values only).
pub struct LogEntry(pub String);

impl LogEntry {
    fn raw(&self, key: &str) -> Option<&str> {
        let pat = format!("\"{key}\": ");
        let start = self.0.find(&pat)? + pat.len();
        let rest = &self.0[start..];
        if let Some(body) = rest.strip_prefix('"') {
            let end = body.find('"')?;
            return Some(&rest[..end + 2]);
        }
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
    pub fn str(&self, key: &str) -> Option<String> {
        self.raw(key)
            .and_then(|v| v.strip_prefix('"'))
            .map(|v| v.trim_end_matches('"').to_string())
    }
    pub fn num(&self, key: &str) -> u64 {
        self.raw(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
    pub fn bool(&self, key: &str) -> bool {
        self.raw(key) == Some("true")
    }
}
