#include "gemm.h"

#include <Eigen/Core>

namespace genlab {

namespace {
GemmKernel g_kernel = GemmKernel::Simd;
}

void gemm_reference(const GemmArgs& g) {
  for (int i = 0; i < g.m; ++i)
    for (int j = 0; j < g.n; ++j) {
      double acc = 0.0;
      for (int p = 0; p < g.k; ++p) {
        const float av = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const float bv = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        acc += static_cast<double>(av) * bv;
      }
      float& c = g.c[i * g.ldc + j];
      c = static_cast<float>(g.alpha * acc + (g.beta == 0.f ? 0.0 : static_cast<double>(g.beta) * c));
    }
}

void gemm_eigen(const GemmArgs& g) {
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
  using MMap = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
  MMap c(g.c, g.m, g.n, Eigen::OuterStride<>(g.ldc));
  if (g.beta == 0.f) c.setZero();
  else if (g.beta != 1.f) c *= g.beta;
  if (g.k == 0 || g.m == 0 || g.n == 0) return;
  const int ar = g.trans_a ? g.k : g.m, ac = g.trans_a ? g.m : g.k;
  const int br = g.trans_b ? g.n : g.k, bc = g.trans_b ? g.k : g.n;
  CMap a(g.a, ar, ac, Eigen::OuterStride<>(g.lda));
  CMap b(g.b, br, bc, Eigen::OuterStride<>(g.ldb));
  if (!g.trans_a && !g.trans_b) c.noalias() += g.alpha * (a * b);
  else if (g.trans_a && !g.trans_b) c.noalias() += g.alpha * (a.transpose() * b);
  else if (!g.trans_a && g.trans_b) c.noalias() += g.alpha * (a * b.transpose());
  else c.noalias() += g.alpha * (a.transpose() * b.transpose());
}

void gemm(const GemmArgs& g) {
  switch (g_kernel) {
    case GemmKernel::Reference: gemm_reference(g); break;
    case GemmKernel::Eigen: gemm_eigen(g); break;
    case GemmKernel::Simd: gemm_simd(g); break;
  }
}

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, const float* b,
          float beta, float* c) {
  GemmArgs g;
  g.trans_a = trans_a; g.trans_b = trans_b; g.m = m; g.n = n; g.k = k; g.alpha = alpha;
  g.a = a; g.lda = trans_a ? m : k;
  g.b = b; g.ldb = trans_b ? k : n;
  g.beta = beta; g.c = c; g.ldc = n;
  gemm(g);
}

void set_gemm_kernel(GemmKernel k) { g_kernel = k; }
GemmKernel gemm_kernel() { return g_kernel; }

std::string_view gemm_kernel_name(GemmKernel k) {
  switch (k) {
    case GemmKernel::Reference: return "reference";
    case GemmKernel::Eigen: return "eigen";
    case GemmKernel::Simd: return "simd";
  }
  return "?";
}

std::vector<GemmKernel> all_gemm_kernels() { return {GemmKernel::Reference, GemmKernel::Eigen, GemmKernel::Simd}; }

}  // namespace genlab
