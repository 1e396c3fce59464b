// The cache-blocked GEMM algorithm shared by the hand-written kernels (internal header).
// Goto/BLIS structure: loop over NC-column blocks of op(B), KC-deep slices of K and MC-row blocks
// of op(A); pack each slice into contiguous, zero-padded micro-panels (A: MR rows interleaved per k,
// B: NR columns per k; alpha is folded into packed A) and let a register-blocked micro-kernel compute
// one MR x NR tile of C per call. Only the micro-kernel differs between instruction sets: the scalar
// twin (gemm_kernel_scalar.cpp, the test oracle) and wasm_simd128 (gemm_kernel_wasm_simd128.cpp)
// run exactly this driver with the same MR/NR/KC/MC/NC, so a disagreement points at the kernel.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string_view>
#include <vector>

#include "gemm.h"

namespace genlab {

// Every GEMM kernel compiled into this build, by name (reference, eigen, simd, the blocked scalar
// twin and, in wasm builds, the wasm_simd128 kernel). Tests check each against the double-precision
// reference; benchmarks time each.
struct GemmKernelEntry {
  std::string_view name;
  void (*run)(const GemmArgs&);
};
std::vector<GemmKernelEntry> gemm_kernel_list();

void gemm_blocked_scalar(const GemmArgs& g);
#if defined(__wasm_simd128__)
void gemm_blocked_wasm_simd128(const GemmArgs& g);
// The same kernel with other register tiles, B-feeding modes (SmallMB) and packers, for the tuning
// benchmarks (gemm_bench --variants) and the tests; not in gemm_kernel_list().
std::vector<GemmKernelEntry> gemm_wasm_simd128_tile_variants();
#endif

namespace gemm_blocking {

// Blocking shared by all blocked kernels. KC*NR floats of B (8 KB) stay in L1 across the MC/MR
// micro-tiles; MC*KC floats of packed A (100 KB) and KC*NC of packed B (512 KB) stay in L2.
// Register tiles are 5x8 (10 f32x4 accumulators), the fastest measured under V8 on x86-64 (6x8
// and larger spill: SSE has 16 registers and each mul needs a temporary without FMA), or 4x8 when
// that wastes fewer padded rows (M = 32 output channels: 8 tiles of 4 instead of 7 of 5).
// See bench/RESULTS-speed.md.
constexpr int kNR = 8;
constexpr int kKC = 256, kMC = 100, kNC = 512;
// 4 or 5: padded rows, with 4-row tiles counted ~5% slower per row.
inline int tile_rows_for(int m) { return (m + 3) / 4 * 4 * 100 < (m + 4) / 5 * 5 * 95 ? 4 : 5; }

// How op(B) is fed to the micro-kernel when all of M fits one MC block (each B panel then serves
// only ceil(M/MR) micro-tiles, e.g. im2col products with M = 32 output channels, N = 25088):
//   PackBlock:   pack the whole KC x NC block first (the general path, used whenever M > MC)
//   ReadInPlace: op(B) = B only: the kernel reads B rows in place (row stride ldb)
//   PackPanel:   pack one KC x NR panel at a time into an L1-sized buffer, right before its tiles
enum class SmallMB { PackBlock, ReadInPlace, PackPanel };

// Cache block sizes (MC, NC are rounded down to multiples of MR, NR); tunable for benchmarks.
struct Blocking {
  int kc = kKC, mc = kMC, nc = kNC;
  SmallMB small_m_b = SmallMB::PackPanel;
};

// C = beta*C, used when there is nothing to multiply (no read of C when beta == 0: NaN garbage in
// C must not propagate).
inline void scale_c(const GemmArgs& g) {
  for (int i = 0; i < g.m; ++i) {
    float* row = g.c + static_cast<std::ptrdiff_t>(i) * g.ldc;
    if (g.beta == 0.f) std::fill(row, row + g.n, 0.f);
    else if (g.beta != 1.f)
      for (int j = 0; j < g.n; ++j) row[j] *= g.beta;
  }
}

// Packing in plain C++. Instruction-set files may provide faster packers with the same output
// (packing only copies and scales by alpha, so the packed panels are bit-identical).
struct ScalarPacker {
  // Packs rows [i0, i0+mc) x depth [p0, p0+kc) of alpha*op(A) as ceil(mc/MR) panels, each
  // [kc][MR] with rows past mc zero.
  template <int MR>
  static void pack_a(const GemmArgs& g, int i0, int mc, int p0, int kc, float* out) {
    for (int ir = 0; ir < mc; ir += MR) {
      const int mr = std::min(MR, mc - ir);
      float* panel = out + static_cast<std::ptrdiff_t>(ir) * kc;
      if (g.trans_a) {  // op(A)[i][p] = a[p*lda + i]: MR rows are contiguous for each p
        for (int p = 0; p < kc; ++p) {
          const float* src = g.a + static_cast<std::ptrdiff_t>(p0 + p) * g.lda + i0 + ir;
          float* dst = panel + p * MR;
          int i = 0;
          for (; i < mr; ++i) dst[i] = g.alpha * src[i];
          for (; i < MR; ++i) dst[i] = 0.f;
        }
      } else {  // op(A)[i][p] = a[i*lda + p]: one row at a time, strided writes
        for (int i = 0; i < MR; ++i) {
          if (i < mr) {
            const float* src = g.a + static_cast<std::ptrdiff_t>(i0 + ir + i) * g.lda + p0;
            for (int p = 0; p < kc; ++p) panel[p * MR + i] = g.alpha * src[p];
          } else {
            for (int p = 0; p < kc; ++p) panel[p * MR + i] = 0.f;
          }
        }
      }
    }
  }

  // Packs depth [p0, p0+kc) x columns [j0, j0+nc) of op(B) as ceil(nc/NR) panels, each [kc][NR]
  // with columns past nc zero.
  template <int NR>
  static void pack_b(const GemmArgs& g, int p0, int kc, int j0, int nc, float* out) {
    const int full = nc / NR * NR;
    if (!g.trans_b) {  // op(B)[p][j] = b[p*ldb + j]: rows are contiguous
      for (int p = 0; p < kc; ++p) {
        const float* src = g.b + static_cast<std::ptrdiff_t>(p0 + p) * g.ldb + j0;
        for (int jr = 0; jr < full; jr += NR) {
          float* dst = out + static_cast<std::ptrdiff_t>(jr) * kc + p * NR;
          for (int j = 0; j < NR; ++j) dst[j] = src[jr + j];
        }
        if (full < nc) {
          float* dst = out + static_cast<std::ptrdiff_t>(full) * kc + p * NR;
          int j = 0;
          for (; j < nc - full; ++j) dst[j] = src[full + j];
          for (; j < NR; ++j) dst[j] = 0.f;
        }
      }
    } else {  // op(B)[p][j] = b[j*ldb + p]: one column of op(B) at a time
      for (int jr = 0; jr < nc; jr += NR) {
        const int nr = std::min(NR, nc - jr);
        float* panel = out + static_cast<std::ptrdiff_t>(jr) * kc;
        for (int j = 0; j < NR; ++j) {
          if (j < nr) {
            const float* src = g.b + static_cast<std::ptrdiff_t>(j0 + jr + j) * g.ldb + p0;
            for (int p = 0; p < kc; ++p) panel[p * NR + j] = src[p];
          } else {
            for (int p = 0; p < kc; ++p) panel[p * NR + j] = 0.f;
          }
        }
      }
    }
  }

};  // struct ScalarPacker

// The driver. MicroKernel: void(int kc, const float* pa, const float* pb, int ldpb, float* c,
// int ldc, float beta) computing the full MR x NR tile c = beta*c + sum_p pa[p*MR+i]*pb[p*ldpb+j],
// reading c only when beta != 0 (ldpb = NR for packed panels). Ragged tiles go through a local
// MR x NR buffer; a ragged last column panel is always packed (zero-padded).
// Summation order per element of C is fixed by KC alone (k ascending within a slice, slices added
// in order), so every MR x NR choice and every SmallMB mode give bit-identical results.
template <int MR, int NR, class Packer = ScalarPacker, class MicroKernel>
void gemm_blocked(const GemmArgs& g, MicroKernel micro_kernel, Blocking blocking = {}) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0 || g.alpha == 0.f) {  // nothing to multiply: C = beta*C (A, B not read)
    scale_c(g);
    return;
  }
  const int KC = blocking.kc, MC = std::max(blocking.mc / MR, 1) * MR, NC = std::max(blocking.nc / NR, 1) * NR;
  SmallMB b_mode = g.m <= MC ? blocking.small_m_b : SmallMB::PackBlock;
  if (b_mode == SmallMB::ReadInPlace && g.trans_b) b_mode = SmallMB::PackPanel;
  thread_local std::vector<float> packed_a, packed_b;
  const int kc_max = std::min(KC, g.k);
  const std::size_t a_need = static_cast<std::size_t>((std::min(MC, g.m) + MR - 1) / MR * MR) * kc_max;
  const std::size_t b_need =
      static_cast<std::size_t>(b_mode == SmallMB::PackBlock ? (std::min(NC, g.n) + NR - 1) / NR * NR : NR) * kc_max;
  if (packed_a.size() < a_need) packed_a.resize(a_need);
  if (packed_b.size() < b_need) packed_b.resize(b_need);
  alignas(16) float edge[MR * NR] = {};

  for (int j0 = 0; j0 < g.n; j0 += NC) {
    const int nc = std::min(NC, g.n - j0);
    for (int p0 = 0; p0 < g.k; p0 += KC) {
      const int kc = std::min(KC, g.k - p0);
      const float beta = p0 == 0 ? g.beta : 1.f;  // later K slices accumulate
      if (b_mode == SmallMB::PackBlock) Packer::template pack_b<NR>(g, p0, kc, j0, nc, packed_b.data());
      for (int i0 = 0; i0 < g.m; i0 += MC) {
        const int mc = std::min(MC, g.m - i0);
        Packer::template pack_a<MR>(g, i0, mc, p0, kc, packed_a.data());
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = std::min(NR, nc - jr);
          const float* pb = packed_b.data();
          int ldpb = NR;
          if (b_mode == SmallMB::PackBlock) {
            pb += static_cast<std::ptrdiff_t>(jr) * kc;
          } else if (b_mode == SmallMB::ReadInPlace && nr == NR) {
            pb = g.b + static_cast<std::ptrdiff_t>(p0) * g.ldb + j0 + jr;
            ldpb = g.ldb;
          } else {  // PackPanel, or the ragged last panel of ReadInPlace
            Packer::template pack_b<NR>(g, p0, kc, j0 + jr, nr, packed_b.data());
          }
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = std::min(MR, mc - ir);
            const float* pa = packed_a.data() + static_cast<std::ptrdiff_t>(ir) * kc;
            float* c = g.c + static_cast<std::ptrdiff_t>(i0 + ir) * g.ldc + j0 + jr;
            if (mr == MR && nr == NR) {
              micro_kernel(kc, pa, pb, ldpb, c, g.ldc, beta);
            } else {
              if (beta != 0.f)
                for (int i = 0; i < mr; ++i)
                  for (int j = 0; j < nr; ++j) edge[i * NR + j] = c[static_cast<std::ptrdiff_t>(i) * g.ldc + j];
              micro_kernel(kc, pa, pb, ldpb, edge, NR, beta);
              for (int i = 0; i < mr; ++i)
                for (int j = 0; j < nr; ++j) c[static_cast<std::ptrdiff_t>(i) * g.ldc + j] = edge[i * NR + j];
            }
          }
        }
      }
    }
  }
}

}  // namespace gemm_blocking
}  // namespace genlab
