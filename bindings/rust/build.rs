//! Links libhubfetch. Where from, in order: $HUBFETCH_LIB_DIR, the
//! directory of $HUBFETCH_LIB (the variable ctest sets), the repository's
//! build/ directory, else the system's library path (-lhubfetch alone).
//! The variables must hold absolute paths: build scripts run in the
//! crate's directory, not where cargo was started.
//!
//! A directory found this way is also baked in as an rpath of this crate's
//! tests and examples, and passed to dependent crates' build scripts as
//! DEP_HUBFETCH_LIBDIR (through `links = "hubfetch"`), so that they can do
//! the same: nothing needs LD_LIBRARY_PATH.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=HUBFETCH_LIB_DIR");
    println!("cargo:rerun-if-env-changed=HUBFETCH_LIB");
    println!("cargo:rerun-if-changed=build.rs");

    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let repo_build = manifest.join("..").join("..").join("build");
    let dir = env::var_os("HUBFETCH_LIB_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            env::var_os("HUBFETCH_LIB")
                .map(PathBuf::from)
                .and_then(|lib| lib.parent().map(|d| d.to_path_buf()))
        })
        .or_else(|| {
            if repo_build.join("libhubfetch.so").exists() {
                Some(repo_build)
            } else {
                None
            }
        });

    if let Some(dir) = dir {
        if dir.is_relative() {
            println!(
                "cargo:warning=hubfetch: {} is relative to {}",
                dir.display(),
                manifest.display()
            );
        }
        let dir = dir.canonicalize().unwrap_or(dir);
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        println!("cargo:libdir={}", dir.display());
        println!(
            "cargo:rerun-if-changed={}",
            dir.join("libhubfetch.so").display()
        );
    }
    println!("cargo:rustc-link-lib=dylib=hubfetch");
}
