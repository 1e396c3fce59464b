// WebAssembly SIMD (wasm_simd128) GEMM micro-kernel for the blocked algorithm in gemm_blocked.h.
// An MR x NR tile of C lives in MR*NR/4 f32x4 accumulators; per k step the kernel loads NR/4 vectors
// of packed B, broadcasts each of the MR packed A values (v128.load32_splat) and does one mul + add
// per accumulator (wasm_simd128 has no fused multiply-add). The scalar twin in gemm_kernel_scalar.cpp
// runs the identical driver and is the test oracle. Compiled only when the compiler targets
// wasm_simd128 (-msimd128); elsewhere the file is empty.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "gemm_blocked.h"

namespace genlab {
namespace {

// c[MR x NR] = beta*c + sum_p pa[p*MR + i] pb[p*ldpb + j]; c is not read when beta == 0.
template <int MR, int NR>
void micro_kernel_wasm_simd128(int kc, const float* pa, const float* pb, int ldpb, float* c, int ldc,
                     float beta) {
  static_assert(NR % 4 == 0, "NR must be a multiple of the f32x4 width");
  constexpr int NV = NR / 4;
  v128_t acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = wasm_f32x4_splat(0.f);
  for (int p = 0; p < kc; ++p, pa += MR, pb += ldpb) {
    v128_t b[NV];
    for (int v = 0; v < NV; ++v) b[v] = wasm_v128_load(pb + 4 * v);
    for (int i = 0; i < MR; ++i) {
      const v128_t a = wasm_v128_load32_splat(pa + i);
      for (int v = 0; v < NV; ++v) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(a, b[v]));
    }
  }
  const v128_t vbeta = wasm_f32x4_splat(beta);
  for (int i = 0; i < MR; ++i) {
    float* row = c + static_cast<std::ptrdiff_t>(i) * ldc;
    for (int v = 0; v < NV; ++v) {
      v128_t out = acc[i][v];
      if (beta != 0.f) out = wasm_f32x4_add(out, wasm_f32x4_mul(vbeta, wasm_v128_load(row + 4 * v)));
      wasm_v128_store(row + 4 * v, out);
    }
  }
}

template <int MR, int NR, int KC = gemm_blocking::kKC, int MC = gemm_blocking::kMC, int NC = gemm_blocking::kNC,
          bool DirectB = true>
void gemm_variant(const GemmArgs& g) {
  gemm_blocking::gemm_blocked<MR, NR>(g, micro_kernel_wasm_simd128<MR, NR>, {KC, MC, NC, DirectB});
}

}  // namespace

void gemm_blocked_wasm_simd128(const GemmArgs& g) { gemm_variant<gemm_blocking::kMR, gemm_blocking::kNR>(g); }

std::vector<GemmKernelEntry> gemm_wasm_simd128_tile_variants() {
  return {{"wasm_simd128_4x8", gemm_variant<4, 8>},   {"wasm_simd128_6x8", gemm_variant<6, 8>},
          {"wasm_simd128_8x8", gemm_variant<8, 8>},   {"wasm_simd128_4x12", gemm_variant<4, 12>},
          {"wasm_simd128_2x16", gemm_variant<2, 16>}, {"wasm_simd128_5x8_nc2048", gemm_variant<5, 8, 256, 100, 2048>},
          {"wasm_simd128_5x8_packed_b", gemm_variant<5, 8, 256, 100, 512, false>}};
}

}  // namespace genlab
#endif  // __wasm_simd128__
