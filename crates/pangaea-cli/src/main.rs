//! The `pangaea` binary: a thin layer of clap structs over the library crates.

mod app;
mod data_cmd;
mod exit;
mod export_cmd;
mod expr_cmd;
mod interrupt;
mod noise_cmd;
mod own_network;
mod recipe_flags;
mod report_cmd;
mod screen_cmd;
mod search_cmd;
mod search_reporter;
mod study_cmd;
mod train_cmd;

fn main() {
    keep_freed_memory();
    // CPU threads of the training backends for this process (the local executor sets it for
    // its workers; flex reads RAYON_NUM_THREADS itself).
    if let Some(threads) = std::env::var("PANGAEA_THREADS")
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
    {
        pangaea_nn::device::set_cpu_threads(threads);
    }
    std::process::exit(app::run());
}

/// Tells glibc's allocator to serve every allocation from its heap and to keep freed memory:
/// training allocates and frees tensors of tens of megabytes at every step, which glibc would
/// otherwise map fresh from the kernel (above `M_MMAP_THRESHOLD`, at most 32 MiB) and unmap on
/// free, so the kernel cleared every page of every such tensor again: about a quarter of a
/// WRN-10-4 step on flex and a fifth on LibTorch (BENCHMARKS.md, "Allocator"). A process keeps
/// its peak memory until it exits; workers are one process per evaluation.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
