// Single-precision matrix multiply used by Linear and the convolutions (im2col).
// Row-major: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, with op(X) = X or X^T.
// Several kernels implement it: a scalar reference (the test oracle), Eigen, and hand-written
// SIMD kernels. All callers go through gemm(); the active kernel is process-wide.
#pragma once
#include <string_view>
#include <vector>

namespace genlab {

enum class GemmKernel { Reference, Eigen, Simd };

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  float alpha = 1.f;
  const float* a = nullptr; int lda = 0;  // leading dimension (row stride) of A as stored
  const float* b = nullptr; int ldb = 0;
  float beta = 0.f;
  float* c = nullptr; int ldc = 0;
};

void gemm(const GemmArgs& g);
// Convenience: row-major, tight leading dimensions.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, const float* b,
          float beta, float* c);

// Kernels by name, for tests and benchmarks. Every kernel must agree with Reference.
void gemm_reference(const GemmArgs& g);
void gemm_eigen(const GemmArgs& g);
void gemm_simd(const GemmArgs& g);  // falls back to Eigen where no SIMD kernel is compiled in

void set_gemm_kernel(GemmKernel k);
GemmKernel gemm_kernel();
std::string_view gemm_kernel_name(GemmKernel k);
std::vector<GemmKernel> all_gemm_kernels();

}  // namespace genlab
