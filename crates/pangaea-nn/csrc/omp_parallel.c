/* The fused activation's work split over OpenMP's thread pool: with the `tch` feature that is
 * libtorch's own intra-op pool (one libgomp.so.1 per process, loaded from libtorch's folder), so
 * the kernels run on the threads that just ran a convolution and are still spinning for work,
 * instead of on threads of their own that would compete with them for the cores.
 *
 * Each of the `threads` threads (at most `limit`) calls f(ctx, begin, end) once for its own
 * contiguous range of [0, n), as ATen's at::parallel_for does (no num_threads clause: see
 * pytorch#32008). Called inside a parallel region, or with one thread, it runs f(ctx, 0, n) on
 * the calling thread. f must not unwind (the Rust side catches panics). */

#include <omp.h>
#include <stdint.h>

void pangaea_omp_parallel_for(int64_t n, int64_t limit, void *ctx,
                              void (*f)(void *, int64_t, int64_t)) {
    if (n <= 0) {
        return;
    }
    if (n == 1 || limit <= 1 || omp_in_parallel() || omp_get_max_threads() == 1) {
        f(ctx, 0, n);
        return;
    }
#pragma omp parallel
    {
        int64_t threads = omp_get_num_threads();
        if (threads > limit) {
            threads = limit;
        }
        if (threads > n) {
            threads = n;
        }
        int64_t tid = omp_get_thread_num();
        int64_t chunk = (n + threads - 1) / threads;
        int64_t begin = tid * chunk;
        if (tid < threads && begin < n) {
            int64_t end = begin + chunk < n ? begin + chunk : n;
            f(ctx, begin, end);
        }
    }
}
