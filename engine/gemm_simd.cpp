// Dispatch for the SIMD GEMM entry point, its optional split across threads, and the list of every
// compiled GEMM kernel.
// Kernel: wasm builds (compiler targets wasm_simd128) run the hand-written blocked kernel in
// gemm_kernel_wasm_simd128.cpp; native builds run Eigen, which with AVX2+FMA is faster than a
// 128-bit kernel could be (see bench/RESULTS-speed.md).
// Threads (parallel.h, default 1): a large product is cut into 2 column (or row) strips, one computed
// by the engine's helper thread, except inside a run_pair job (the trainer's batch split already
// keeps both threads busy). K is never split, so every element of C is summed in the same order as
// on one thread: the blocked kernels give bit-identical results.
#include <algorithm>

#include "gemm_blocked.h"

#include "parallel.h"

namespace genlab {
namespace {

void gemm_one_thread(const GemmArgs& g) {
#if defined(__wasm_simd128__)
  gemm_blocked_wasm_simd128(g);
#else
  gemm_eigen(g);
#endif
}

// Splits C into two strips (columns when wide enough, else rows) and runs one on the helper.
bool gemm_two_threads(const GemmArgs& g) {
  constexpr double kMinFlops = 1 << 21;  // below ~2 MFLOP the hand-off costs more than it saves
  if (2.0 * g.m * g.n * g.k < kMinFlops) return false;
  GemmArgs first = g, second = g;
  if (g.n >= 64) {
    const int n0 = (g.n / 2 + 7) / 8 * 8;  // whole 8-column panels
    first.n = n0;
    second.n = g.n - n0;
    second.b = g.trans_b ? g.b + static_cast<std::ptrdiff_t>(n0) * g.ldb : g.b + n0;
    second.c = g.c + n0;
  } else if (g.m >= 16) {
    const int m0 = (g.m / 2 + 3) / 4 * 4;
    first.m = m0;
    second.m = g.m - m0;
    second.a = g.trans_a ? g.a + m0 : g.a + static_cast<std::ptrdiff_t>(m0) * g.lda;
    second.c = g.c + static_cast<std::ptrdiff_t>(m0) * g.ldc;
  } else {
    return false;
  }
  run_pair([&first] { gemm_one_thread(first); }, [&second] { gemm_one_thread(second); });
  return true;
}

}  // namespace

void gemm_simd(const GemmArgs& g) {
  if (threads() > 1 && !in_run_pair() && gemm_two_threads(g)) return;
  gemm_one_thread(g);
}

std::vector<GemmKernelEntry> gemm_kernel_list() {
  std::vector<GemmKernelEntry> list = {{"reference", gemm_reference},
                                       {"eigen", gemm_eigen},
                                       {"simd", gemm_simd},
                                       {"blocked_scalar", gemm_blocked_scalar}};
#if defined(__wasm_simd128__)
  list.push_back({"blocked_wasm_simd128", gemm_blocked_wasm_simd128});
#endif
  return list;
}

}  // namespace genlab
