//! With the `tch` feature: records libtorch's folder (found by torch-sys, from the PyPI torch
//! wheel) as the binary's run-time library path, so that the binaries and tests start without
//! `LD_LIBRARY_PATH`; and compiles `csrc/omp_parallel.c`, which runs the fused activation's
//! kernels on OpenMP's thread pool — libtorch's own (torch-sys links the one `libgomp`).

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=csrc/omp_parallel.c");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
        cc::Build::new()
            .file("csrc/omp_parallel.c")
            .flag("-fopenmp")
            .opt_level(2)
            .compile("pangaea_omp_parallel");
        println!("cargo:rustc-link-lib=gomp");
    }
}
