//! The hubfetch crate's build script found libhubfetch and told us where
//! (DEP_HUBFETCH_LIBDIR, from its `links` key): bake that directory in as an
//! rpath so that the program runs without LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_HUBFETCH_LIBDIR");
    if let Ok(dir) = std::env::var("DEP_HUBFETCH_LIBDIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
