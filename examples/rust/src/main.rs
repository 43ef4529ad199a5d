//! Download a repository with the Rust binding: progress on stderr, the
//! snapshot folder on stdout; Ctrl-C cancels cleanly (run again to resume).
//!
//!     cargo run --offline --manifest-path examples/rust/Cargo.toml -- openai-community/gpt2 '*.json'
//!
//! Arguments: REPO [ALLOW_PATTERN...]. Settings come from the environment as
//! huggingface_hub reads it (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, proxies).
//! Exit status: 0 done, 1 failed, 2 usage, 130 interrupted.

use std::os::raw::c_int;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hubfetch::{Client, DownloadOptions, ErrorKind};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: c_int) {
    // an atomic store is all a signal handler may safely do here
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Route SIGINT to the flag the progress closure checks. std has no
/// signal API and this example takes no dependencies: libc's signal().
fn catch_sigint() {
    extern "C" {
        fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
    }
    const SIGINT: c_int = 2;
    // SAFETY: installs a handler that only stores to an atomic.
    unsafe {
        signal(SIGINT, on_sigint);
    }
}

fn mib(n: Option<u64>) -> String {
    n.map_or("?".into(), |n| format!("{:.1}", n as f64 / 1048576.0))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args[0].starts_with('-') {
        eprintln!("usage: download REPO [ALLOW_PATTERN...]");
        return ExitCode::from(2);
    }
    catch_sigint();

    let client = match Client::builder().build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let mut files_done = usize::MAX;
    let mut last = Instant::now();
    let opts = DownloadOptions::new()
        .allow_patterns(&args[1..])
        .progress(|p| {
            // a line whenever a file finishes, at most one a second between
            if p.files_done != files_done || p.is_final || last.elapsed() >= Duration::from_secs(1)
            {
                files_done = p.files_done;
                last = Instant::now();
                eprintln!(
                    "{}/{} files, {}/{} MiB, {:.1} MiB/s{}",
                    p.files_done,
                    p.file_count,
                    mib(Some(p.bytes_done)),
                    mib(p.bytes_total),
                    p.rate / 1048576.0,
                    if p.is_final { " (end)" } else { "" }
                );
            }
            INTERRUPTED.load(Ordering::SeqCst) // true cancels
        });

    match client.snapshot_download(&args[0], &opts) {
        Ok(folder) => {
            println!("{}", folder.display());
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == ErrorKind::Cancelled && INTERRUPTED.load(Ordering::SeqCst) => {
            eprintln!("interrupted: run the same command to resume");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e} [{}]", e.name());
            ExitCode::from(1)
        }
    }
}
