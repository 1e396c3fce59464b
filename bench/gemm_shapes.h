// GEMM problem shapes the benchmarks time: square sizes for comparing with TensorFlow.js/XNNPACK,
// and the shapes genlab's models actually run (engine/layers.cpp call sites).
#pragma once
#include <string>
#include <vector>

#include "gemm.h"
#include "rng.h"

namespace genlab::bench {

struct GemmShape {
  std::string label;  // what the shape is used for
  bool ta = false, tb = false;
  int m = 0, n = 0, k = 0;
  double flops() const { return 2.0 * m * n * k; }
};

inline std::vector<GemmShape> square_shapes() {
  std::vector<GemmShape> s;
  for (int n : {128, 256, 384, 512}) s.push_back({"square", false, false, n, n, n});
  return s;
}

// VAE-MLP 784-400-20 at batch 64 (Linear: out[B,OUT] = in[B,IN] W^T, W[OUT,IN]) and PixelCNN-S
// convolutions on 28x28 with 32 channels (im2col: out[C,HW] = W[C,K] col[K,HW]); K = 5 live taps
// of a 3x3 mask-B kernel times 32 channels, or the 24 live taps of the 7x7 mask-A input layer.
// "img" is one image (N = 784, as layers.cpp calls it), "b32" a whole batch of 32 in one GEMM.
inline std::vector<GemmShape> model_shapes() {
  return {
      {"vae enc fwd  x*W1^T", false, true, 64, 400, 784},
      {"vae enc din  dy*W1", false, false, 64, 784, 400},
      {"vae enc dW   dy^T*x", true, false, 400, 784, 64},
      {"vae dec fwd  h*W^T", false, true, 64, 784, 400},
      {"vae dec din  dy*W", false, false, 64, 400, 784},
      {"vae dec dW   dy^T*h", true, false, 784, 400, 64},
      // The same layers on half a batch (2 threads: each thread's share of a 64-image batch).
      {"vae enc fwd  half", false, true, 32, 400, 784},
      {"vae enc din  half", false, false, 32, 784, 400},
      {"vae enc dW   half", true, false, 400, 784, 32},
      {"vae dec fwd  half", false, true, 32, 784, 400},
      {"vae dec din  half", false, false, 32, 400, 784},
      {"vae dec dW   half", true, false, 784, 400, 32},
      {"pcnn maskB fwd img", false, false, 32, 784, 160},
      {"pcnn maskB dW img", false, true, 32, 160, 784},
      {"pcnn maskB dcol img", true, false, 160, 784, 32},
      {"pcnn maskA fwd img", false, false, 32, 784, 24},
      {"pcnn maskA dW img", false, true, 32, 24, 784},
      {"pcnn maskB fwd b32", false, false, 32, 25088, 160},
      {"pcnn maskB dW b32", false, true, 32, 160, 25088},
      {"pcnn maskB dcol b32", true, false, 160, 25088, 32},
      {"pcnn maskA fwd b32", false, false, 32, 25088, 24},
  };
}

// Random operands of one shape (tight leading dimensions) and the GemmArgs that multiply them.
struct GemmProblem {
  std::vector<float> a, b, c;
  GemmArgs args;

  explicit GemmProblem(const GemmShape& s)
      : a(static_cast<size_t>(s.m) * s.k), b(static_cast<size_t>(s.k) * s.n), c(static_cast<size_t>(s.m) * s.n) {
    Rng rng(1);
    for (auto& v : a) v = rng.uniform() - 0.5f;
    for (auto& v : b) v = rng.uniform() - 0.5f;
    args.trans_a = s.ta; args.trans_b = s.tb; args.m = s.m; args.n = s.n; args.k = s.k;
    args.a = a.data(); args.lda = s.ta ? s.m : s.k;
    args.b = b.data(); args.ldb = s.tb ? s.k : s.n;
    args.c = c.data(); args.ldc = s.n; args.beta = 0.f;
  }
  GemmProblem(const GemmProblem&) = delete;  // args points into the vectors
  GemmProblem& operator=(const GemmProblem&) = delete;
};

}  // namespace genlab::bench
