// Placeholder dispatch for the SIMD GEMM: until the hand-written kernels land (see the speed issue),
// gemm_simd uses Eigen so every caller already goes through the SIMD entry point.
#include "gemm.h"

namespace genlab {
void gemm_simd(const GemmArgs& g) { gemm_eigen(g); }
}  // namespace genlab
