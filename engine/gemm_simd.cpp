// Dispatch for the SIMD GEMM entry point and the list of every compiled GEMM kernel.
// wasm builds (compiler targets wasm_simd128): the hand-written blocked kernel in
// gemm_kernel_wasm_simd128.cpp. Native builds: Eigen, which with AVX2+FMA is faster than a 128-bit
// kernel could be (see bench/RESULTS-speed.md).
#include "gemm_blocked.h"

namespace genlab {

void gemm_simd(const GemmArgs& g) {
#if defined(__wasm_simd128__)
  gemm_blocked_wasm_simd128(g);
#else
  gemm_eigen(g);
#endif
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
