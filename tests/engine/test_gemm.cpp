// Every compiled GEMM kernel (reference, Eigen, the SIMD entry, the blocked scalar twin and, in wasm,
// the wasm_simd128 kernel and its tile variants) against a double-precision product computed here:
// random shapes with ragged edges, all four transpose combinations, padded leading dimensions,
// alpha/beta (beta = 0 over NaN garbage must not propagate), blocking boundaries, empty shapes, and
// bit-exact agreement of the SIMD kernel with its scalar twin.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gemm.h"
#include "parallel.h"
#include "gemm_blocked.h"
#include "rng.h"

using namespace genlab;

namespace {

struct Problem {
  bool ta = false, tb = false;
  int m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0;
  float alpha = 1.f, beta = 0.f;
  std::vector<float> a, b, c0;  // c0: C before the call (NaN garbage when beta == 0)
};

Problem make_problem(Rng& rng, bool ta, bool tb, int m, int n, int k, int pad, float alpha, float beta) {
  Problem p;
  p.ta = ta; p.tb = tb; p.m = m; p.n = n; p.k = k; p.alpha = alpha; p.beta = beta;
  const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  p.lda = a_cols + static_cast<int>(rng.below(pad + 1));
  p.ldb = b_cols + static_cast<int>(rng.below(pad + 1));
  p.ldc = n + static_cast<int>(rng.below(pad + 1));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Padding between rows holds NaN: a kernel that reads outside op(A)/op(B) gets caught.
  p.a.assign(static_cast<size_t>(std::max(a_rows, 1)) * p.lda, nan);
  p.b.assign(static_cast<size_t>(std::max(b_rows, 1)) * p.ldb, nan);
  p.c0.assign(static_cast<size_t>(std::max(m, 1)) * p.ldc, nan);
  for (int r = 0; r < a_rows; ++r)
    for (int c = 0; c < a_cols; ++c) p.a[static_cast<size_t>(r) * p.lda + c] = rng.uniform() * 2.f - 1.f;
  for (int r = 0; r < b_rows; ++r)
    for (int c = 0; c < b_cols; ++c) p.b[static_cast<size_t>(r) * p.ldb + c] = rng.uniform() * 2.f - 1.f;
  if (beta != 0.f)
    for (int r = 0; r < m; ++r)
      for (int c = 0; c < n; ++c) p.c0[static_cast<size_t>(r) * p.ldc + c] = rng.uniform() * 2.f - 1.f;
  return p;
}

GemmArgs args_for(const Problem& p, std::vector<float>& c) {
  GemmArgs g;
  g.trans_a = p.ta; g.trans_b = p.tb; g.m = p.m; g.n = p.n; g.k = p.k; g.alpha = p.alpha;
  g.a = p.a.data(); g.lda = p.lda; g.b = p.b.data(); g.ldb = p.ldb;
  g.beta = p.beta; g.c = c.data(); g.ldc = p.ldc;
  return g;
}

// Checks kernel output c against a double-precision product. Tolerance scales with the float
// rounding a length-k dot product can accumulate; an indexing bug gives errors of order one.
::testing::AssertionResult matches_double(const Problem& p, const std::vector<float>& c) {
  for (int i = 0; i < p.m; ++i)
    for (int j = 0; j < p.n; ++j) {
      double acc = 0.0, mag = 0.0;
      for (int q = 0; q < p.k; ++q) {
        const double av = p.ta ? p.a[static_cast<size_t>(q) * p.lda + i] : p.a[static_cast<size_t>(i) * p.lda + q];
        const double bv = p.tb ? p.b[static_cast<size_t>(j) * p.ldb + q] : p.b[static_cast<size_t>(q) * p.ldb + j];
        acc += av * bv;
        mag += std::fabs(av * bv);
      }
      const double c0 = p.c0[static_cast<size_t>(i) * p.ldc + j];
      const double want = p.alpha * acc + (p.beta == 0.f ? 0.0 : p.beta * c0);
      const double tol = 2e-7 * (p.k + 4) * (std::fabs(p.alpha) * mag + std::fabs(p.beta * (p.beta == 0.f ? 0.0 : c0))) + 1e-30;
      const double got = c[static_cast<size_t>(i) * p.ldc + j];
      if (!(std::fabs(got - want) <= tol))
        return ::testing::AssertionFailure() << "C[" << i << "," << j << "] = " << got << ", want " << want
                                             << " (tol " << tol << ")";
    }
  // The padding of C between rows must be untouched.
  for (int i = 0; i < p.m; ++i)
    for (int j = p.n; j < p.ldc; ++j) {
      const size_t at = static_cast<size_t>(i) * p.ldc + j;
      if (!(std::isnan(c[at]) && std::isnan(p.c0[at])) && c[at] != p.c0[at])
        return ::testing::AssertionFailure() << "padding C[" << i << "," << j << "] was written";
    }
  return ::testing::AssertionSuccess();
}

std::string describe(const Problem& p) {
  return std::string(p.ta ? "T" : "N") + (p.tb ? "T" : "N") + " m=" + std::to_string(p.m) + " n=" +
         std::to_string(p.n) + " k=" + std::to_string(p.k) + " lda=" + std::to_string(p.lda) + " ldb=" +
         std::to_string(p.ldb) + " ldc=" + std::to_string(p.ldc) + " alpha=" + std::to_string(p.alpha) +
         " beta=" + std::to_string(p.beta);
}

std::vector<GemmKernelEntry> kernels_under_test() {
  std::vector<GemmKernelEntry> list = gemm_kernel_list();
#if defined(__wasm_simd128__)
  for (const auto& v : gemm_wasm_simd128_tile_variants()) list.push_back(v);
#endif
  return list;
}

void check_all_kernels(const Problem& p) {
  for (const auto& kernel : kernels_under_test()) {
    std::vector<float> c = p.c0;
    kernel.run(args_for(p, c));
    EXPECT_TRUE(matches_double(p, c)) << kernel.name << ": " << describe(p);
  }
}

}  // namespace

TEST(Gemm, KernelListHasEveryKernel) {
  std::vector<std::string> names;
  for (const auto& k : gemm_kernel_list()) names.emplace_back(k.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "reference"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "eigen"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "simd"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "blocked_scalar"), names.end());
#if defined(__wasm_simd128__)
  EXPECT_NE(std::find(names.begin(), names.end(), "blocked_wasm_simd128"), names.end());
#endif
}

TEST(Gemm, RandomRaggedShapesAllTransposes) {
  Rng rng(42);
  const float alphas[] = {1.f, -0.75f, 1.5f};
  const float betas[] = {0.f, 1.f, -0.5f};
  for (int trial = 0; trial < 40; ++trial)
    for (int t = 0; t < 4; ++t) {
      const int m = 1 + static_cast<int>(rng.below(67)), n = 1 + static_cast<int>(rng.below(67));
      const int k = 1 + static_cast<int>(rng.below(67));
      const Problem p = make_problem(rng, t & 1, t & 2, m, n, k, 5, alphas[rng.below(3)], betas[rng.below(3)]);
      check_all_kernels(p);
    }
}

TEST(Gemm, SmallEdgeSizesExhaustive) {
  // Every m, n in 1..9 straddles the MR/NR tile sizes of all variants.
  Rng rng(7);
  for (int m = 1; m <= 9; ++m)
    for (int n = 1; n <= 9; ++n)
      for (int t = 0; t < 4; ++t) check_all_kernels(make_problem(rng, t & 1, t & 2, m, n, 3, 2, 1.f, 0.f));
}

TEST(Gemm, CrossesCacheBlockBoundaries) {
  // m > MC, k > KC and n > NC: several blocks in every loop, with ragged last blocks.
  Rng rng(3);
  using namespace gemm_blocking;
  const int k = kKC + 9, n = kNC + 11;
  for (int t = 0; t < 8; ++t) {
    // t < 4: m > MC (packed B); t >= 4: m < MC, where op(B) = B is read in place.
    const int m = t < 4 ? kMC + 5 : 37;
    const Problem p = make_problem(rng, t & 1, t & 2, m, n, k, 3, 0.5f, t % 2 ? 0.f : 2.f);
    for (const auto& kernel : gemm_kernel_list()) {
      if (kernel.name == "reference") continue;  // slow in wasm; checked on the small shapes
      std::vector<float> c = p.c0;
      kernel.run(args_for(p, c));
      EXPECT_TRUE(matches_double(p, c)) << kernel.name << ": " << describe(p);
    }
  }
}

TEST(Gemm, BetaZeroIgnoresNaNInC) {
  Rng rng(11);
  for (int t = 0; t < 4; ++t) {
    const Problem p = make_problem(rng, t & 1, t & 2, 13, 21, 17, 0, 1.f, 0.f);
    for (const auto& kernel : kernels_under_test()) {
      std::vector<float> c = p.c0;  // all NaN
      kernel.run(args_for(p, c));
      for (int i = 0; i < p.m * p.n; ++i) ASSERT_FALSE(std::isnan(c[i])) << kernel.name;
    }
  }
}

TEST(Gemm, EmptyShapes) {
  for (const auto& kernel : kernels_under_test()) {
    // k == 0: C = beta*C; with beta == 0 the NaN in C becomes 0.
    std::vector<float> c(6, std::numeric_limits<float>::quiet_NaN());
    GemmArgs g;
    g.m = 2; g.n = 3; g.k = 0; g.c = c.data(); g.ldc = 3; g.lda = 1; g.ldb = 3; g.beta = 0.f;
    kernel.run(g);
    for (float v : c) EXPECT_EQ(v, 0.f) << kernel.name;
    std::vector<float> c2 = {1, 2, 3, 4, 5, 6};
    g.c = c2.data(); g.beta = 2.f;
    kernel.run(g);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(c2[i], 2.f * (i + 1)) << kernel.name;
    // m == 0 / n == 0: nothing is touched.
    g.m = 0; g.k = 4;
    kernel.run(g);
    g.m = 2; g.n = 0;
    kernel.run(g);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(c2[i], 2.f * (i + 1)) << kernel.name;
  }
}

TEST(Gemm, DeterministicAcrossCalls) {
  Rng rng(5);
  const Problem p = make_problem(rng, false, true, 37, 45, 300, 1, 1.f, 0.f);
  for (const auto& kernel : kernels_under_test()) {
    std::vector<float> c1 = p.c0, c2 = p.c0;
    kernel.run(args_for(p, c1));
    kernel.run(args_for(p, c2));
    for (size_t i = 0; i < c1.size(); ++i)
      if (!std::isnan(c1[i])) {
        ASSERT_EQ(c1[i], c2[i]) << kernel.name;
      }
  }
}

#if defined(__wasm_simd128__)
// The SIMD micro-kernel performs the same float operations in the same order as its scalar twin,
// so the results must be identical bit for bit.
TEST(Gemm, WasmSimdMatchesScalarTwinBitExactly) {
  Rng rng(19);
  for (int t = 0; t < 8; ++t) {
    // m = 61 runs 5-row tiles, m = 32 4-row tiles (gemm_blocking::tile_rows_for).
    const Problem p = make_problem(rng, t & 1, t & 2, t < 4 ? 61 : 32, 67, 290, 3, -1.25f, t % 3 ? 0.f : 0.5f);
    std::vector<float> cs = p.c0, cv = p.c0;
    gemm_blocked_scalar(args_for(p, cs));
    gemm_blocked_wasm_simd128(args_for(p, cv));
    for (size_t i = 0; i < cs.size(); ++i)
      if (!(std::isnan(cs[i]) && std::isnan(cv[i]))) {
        ASSERT_EQ(cs[i], cv[i]) << "at " << i << ": " << describe(p);
      }
  }
}
#endif

TEST(Gemm, EntryPointUsesSelectedKernel) {
  Rng rng(23);
  const Problem p = make_problem(rng, true, false, 9, 10, 11, 0, 1.f, 0.f);
  const GemmKernel saved = gemm_kernel();
  for (GemmKernel k : all_gemm_kernels()) {
    set_gemm_kernel(k);
    std::vector<float> c = p.c0;
    gemm(args_for(p, c));
    EXPECT_TRUE(matches_double(p, c)) << gemm_kernel_name(k);
  }
  set_gemm_kernel(saved);
}

// Splitting C into column or row strips (what the two-thread path does) must not change a single
// bit of the blocked kernels' results: K is never split, so each element is summed in the same order.
TEST(Gemm, StripSplitIsBitIdentical) {
  Rng rng(29);
  for (int t = 0; t < 4; ++t) {
    const Problem p = make_problem(rng, t & 1, t & 2, 45, 83, 300, 2, 0.75f, t % 2 ? 0.f : 1.5f);
    for (const auto& kernel : kernels_under_test()) {
      if (kernel.name.find("blocked") == std::string_view::npos && kernel.name.rfind("wasm_simd128", 0) != 0) continue;
      std::vector<float> whole = p.c0, cols = p.c0, rows = p.c0;
      kernel.run(args_for(p, whole));
      GemmArgs left = args_for(p, cols), right = left;  // columns [0, 40) and [40, 83)
      left.n = 40;
      right.n = p.n - 40;
      right.b = p.tb ? right.b + 40 * p.ldb : right.b + 40;
      right.c += 40;
      kernel.run(left);
      kernel.run(right);
      GemmArgs top = args_for(p, rows), bottom = top;  // rows [0, 32) (4-row tiles) and [32, 45)
      top.m = 32;
      bottom.m = p.m - 32;
      bottom.a = p.ta ? bottom.a + 32 : bottom.a + 32 * p.lda;
      bottom.c += 32 * p.ldc;
      kernel.run(top);
      kernel.run(bottom);
      for (size_t i = 0; i < whole.size(); ++i) {
        if (std::isnan(whole[i])) continue;
        ASSERT_EQ(whole[i], cols[i]) << kernel.name << " column split at " << i;
        ASSERT_EQ(whole[i], rows[i]) << kernel.name << " row split at " << i;
      }
    }
  }
}

TEST(Gemm, TwoThreadsMatchOneThread) {
  Rng rng(31);
  const GemmKernel saved_kernel = gemm_kernel();
  set_gemm_kernel(GemmKernel::Simd);
  for (int t = 0; t < 4; ++t) {
    // Wide (column split), then narrow and tall (row split).
    const Problem p = make_problem(rng, t & 1, t & 2, t < 2 ? 40 : 150, t < 2 ? 300 : 40, 200, 1, 1.f, t % 2 ? 0.5f : 0.f);
    std::vector<float> one = p.c0, two = p.c0;
    set_threads(1);
    gemm(args_for(p, one));
    set_threads(2);
    EXPECT_GE(threads(), 1);
    gemm(args_for(p, two));
    set_threads(1);
    EXPECT_TRUE(matches_double(p, two)) << describe(p);
#if defined(__wasm_simd128__)
    for (size_t i = 0; i < one.size(); ++i)
      if (!std::isnan(one[i])) {
        ASSERT_EQ(one[i], two[i]) << "at " << i;
      }
#endif
  }
  set_gemm_kernel(saved_kernel);
}
