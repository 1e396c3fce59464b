// Two-thread work sharing for the engine: one persistent helper thread, used to split a training
// batch in two (trainer.cpp) and large matrix products into two strips (gemm_simd.cpp).
// Threads exist natively and in wasm builds with atomics (-pthread); elsewhere set_threads clamps to 1
// and run_pair runs its two jobs one after the other on the calling thread.
#pragma once
#include <cstddef>
#include <functional>

namespace genlab {

// Engine threads: 1 or 2 (default 1). Values above 2 are clamped to 2, and to 1 where the build has no threads.
void set_threads(int n);
int threads();
// The most threads this build can use (2 with thread support, else 1).
int max_threads();

// Runs first() on the calling thread and second() on the helper thread and returns when both are done.
// Sequential (first, then second) when threads() == 1 or when called from inside another run_pair job.
// If a job throws, the exception is rethrown here after both jobs have finished (first's wins).
void run_pair(const std::function<void()>& first, const std::function<void()>& second);

// Calls f(begin, end) over [0, n): as two halves (split at a multiple of 16) through run_pair when
// threads() > 1 and n >= min_n, else once over the whole range. For element-wise loops over parameters.
void for_halves(size_t n, const std::function<void(size_t, size_t)>& f, size_t min_n = size_t{1} << 14);

// True on either thread while a run_pair is executing its jobs (GEMM then stays on one thread).
bool in_run_pair();

}  // namespace genlab
