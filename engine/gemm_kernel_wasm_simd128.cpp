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
// noinline: as a small function of its own the kernel keeps all accumulators in registers under
// V8; inlined into the driver it was measured ~30% slower (spills in the k loop).
template <int MR, int NR>
__attribute__((noinline)) void micro_kernel_wasm_simd128(int kc, const float* pa, const float* pb, int ldpb,
                                                        float* c, int ldc, float beta) {
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

// 4x4 transpose of rows r[0..3] (f32x4 each) into columns.
inline void transpose4x4(v128_t r[4]) {
  const v128_t t0 = wasm_i32x4_shuffle(r[0], r[1], 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r[2], r[3], 0, 4, 1, 5);
  const v128_t t2 = wasm_i32x4_shuffle(r[0], r[1], 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r[2], r[3], 2, 6, 3, 7);
  r[0] = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);
  r[1] = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);
  r[2] = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);
  r[3] = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);
}

// The packings that gather across rows (op(A) = A, op(B) = B^T) transpose 4x4 blocks in registers;
// the contiguous ones copy whole vectors. Output identical to gemm_blocking::ScalarPacker.
struct SimdPacker {
  template <int MR>
  static void pack_a(const GemmArgs& g, int i0, int mc, int p0, int kc, float* out) {
    if (g.trans_a || mc % MR != 0 || MR < 4) return gemm_blocking::ScalarPacker::pack_a<MR>(g, i0, mc, p0, kc, out);
    const v128_t alpha = wasm_f32x4_splat(g.alpha);
    const int kc4 = kc / 4 * 4;
    for (int ir = 0; ir < mc; ir += MR) {
      float* panel = out + static_cast<std::ptrdiff_t>(ir) * kc;
      const float* row[MR];
      for (int i = 0; i < MR; ++i) row[i] = g.a + static_cast<std::ptrdiff_t>(i0 + ir + i) * g.lda + p0;
      for (int p = 0; p < kc4; p += 4) {
        for (int i4 = 0; i4 + 4 <= MR; i4 += 4) {  // rows i4..i4+3: transpose 4 k-steps
          v128_t r[4];
          for (int q = 0; q < 4; ++q) r[q] = wasm_f32x4_mul(alpha, wasm_v128_load(row[i4 + q] + p));
          transpose4x4(r);
          for (int q = 0; q < 4; ++q) wasm_v128_store(panel + (p + q) * MR + i4, r[q]);
        }
        for (int i = MR / 4 * 4; i < MR; ++i)
          for (int q = 0; q < 4; ++q) panel[(p + q) * MR + i] = g.alpha * row[i][p + q];
      }
      for (int p = kc4; p < kc; ++p)
        for (int i = 0; i < MR; ++i) panel[p * MR + i] = g.alpha * row[i][p];
    }
  }

  template <int NR>
  static void pack_b(const GemmArgs& g, int p0, int kc, int j0, int nc, float* out) {
    static_assert(NR % 4 == 0, "NR must be a multiple of 4");
    const int full = nc / NR * NR;
    if (!g.trans_b) {  // rows are contiguous: copy NR floats per k into each panel
      for (int p = 0; p < kc; ++p) {
        const float* src = g.b + static_cast<std::ptrdiff_t>(p0 + p) * g.ldb + j0;
        for (int jr = 0; jr < full; jr += NR) {
          float* dst = out + static_cast<std::ptrdiff_t>(jr) * kc + p * NR;
          for (int v = 0; v < NR; v += 4) wasm_v128_store(dst + v, wasm_v128_load(src + jr + v));
        }
      }
    } else {  // op(B)[p][j] = b[j*ldb + p]: transpose 4 columns x 4 k-steps at a time
      const int kc4 = kc / 4 * 4;
      for (int jr = 0; jr < full; jr += NR) {
        float* panel = out + static_cast<std::ptrdiff_t>(jr) * kc;
        for (int j4 = 0; j4 < NR; j4 += 4) {
          const float* col[4];
          for (int q = 0; q < 4; ++q) col[q] = g.b + static_cast<std::ptrdiff_t>(j0 + jr + j4 + q) * g.ldb + p0;
          for (int p = 0; p < kc4; p += 4) {
            v128_t r[4];
            for (int q = 0; q < 4; ++q) r[q] = wasm_v128_load(col[q] + p);
            transpose4x4(r);
            for (int q = 0; q < 4; ++q) wasm_v128_store(panel + (p + q) * NR + j4, r[q]);
          }
          for (int p = kc4; p < kc; ++p)
            for (int q = 0; q < 4; ++q) panel[p * NR + j4 + q] = col[q][p];
        }
      }
    }
    if (full < nc)  // ragged last panel (zero-padded) the plain way
      gemm_blocking::ScalarPacker::pack_b<NR>(g, p0, kc, j0 + full, nc - full, out + static_cast<std::ptrdiff_t>(full) * kc);
  }
};

template <int MR, int NR, int KC = gemm_blocking::kKC, int MC = gemm_blocking::kMC, int NC = gemm_blocking::kNC,
          gemm_blocking::SmallMB BMode = gemm_blocking::SmallMB::PackPanel, class Packer = SimdPacker>
void gemm_variant(const GemmArgs& g) {
  gemm_blocking::gemm_blocked<MR, NR, Packer>(g, micro_kernel_wasm_simd128<MR, NR>, {KC, MC, NC, BMode});
}

}  // namespace

void gemm_blocked_wasm_simd128(const GemmArgs& g) {
  if (gemm_blocking::tile_rows_for(g.m) == 4) gemm_variant<4, gemm_blocking::kNR>(g);
  else gemm_variant<5, gemm_blocking::kNR>(g);
}

std::vector<GemmKernelEntry> gemm_wasm_simd128_tile_variants() {
  using gemm_blocking::SmallMB;
  return {{"wasm_simd128_4x8", gemm_variant<4, 8>},
          {"wasm_simd128_5x8", gemm_variant<5, 8>},
          {"wasm_simd128_6x8", gemm_variant<6, 8>},
          {"wasm_simd128_4x8_read_b_in_place", gemm_variant<4, 8, 256, 100, 512, SmallMB::ReadInPlace>},
          {"wasm_simd128_4x8_pack_b_block", gemm_variant<4, 8, 256, 100, 512, SmallMB::PackBlock>},
          {"wasm_simd128_5x8_read_b_in_place", gemm_variant<5, 8, 256, 100, 512, SmallMB::ReadInPlace>},
          {"wasm_simd128_5x8_pack_b_block", gemm_variant<5, 8, 256, 100, 512, SmallMB::PackBlock>},
          {"wasm_simd128_5x8_scalar_packing",
           gemm_variant<5, 8, 256, 100, 512, SmallMB::PackPanel, gemm_blocking::ScalarPacker>}};
}

}  // namespace genlab
#endif  // __wasm_simd128__
