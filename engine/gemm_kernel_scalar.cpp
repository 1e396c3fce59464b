// Scalar twin of the wasm_simd128 GEMM: the same packing, blocking and MR x NR tile order
// (gemm_blocked.h), with the micro-kernel written in plain C++. It is the oracle the SIMD kernel is
// tested against and the fallback on targets without a hand-written kernel.
#include "gemm_blocked.h"

namespace genlab {
namespace {

// c[MR x NR] = beta*c + sum_p pa[p*MR + i] pb[p*ldpb + j]; c is not read when beta == 0.
template <int MR, int NR>
void micro_kernel_scalar(int kc, const float* pa, const float* pb, int ldpb, float* c, int ldc,
                     float beta) {
  float acc[MR][NR] = {};
  for (int p = 0; p < kc; ++p, pa += MR, pb += ldpb)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += pa[i] * pb[j];
  for (int i = 0; i < MR; ++i) {
    float* row = c + static_cast<std::ptrdiff_t>(i) * ldc;
    if (beta == 0.f)
      for (int j = 0; j < NR; ++j) row[j] = acc[i][j];
    else
      for (int j = 0; j < NR; ++j) row[j] = acc[i][j] + beta * row[j];
  }
}

}  // namespace

void gemm_blocked_scalar(const GemmArgs& g) {
  using namespace gemm_blocking;
  if (tile_rows_for(g.m) == 4) gemm_blocked<4, kNR>(g, micro_kernel_scalar<4, kNR>);
  else gemm_blocked<5, kNR>(g, micro_kernel_scalar<5, kNR>);
}

}  // namespace genlab
