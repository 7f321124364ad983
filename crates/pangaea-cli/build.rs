//! With the `tch` feature, records libtorch's folder (found by torch-sys, from the PyPI torch
//! wheel) as the binary's run-time library path, so that `pangaea` starts without
//! `LD_LIBRARY_PATH`.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
