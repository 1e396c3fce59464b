// Layer tests: finite-difference gradient checks (gradcheck.h) for Linear, Conv2d, ConvTranspose2d and
// every activation; the convolutions against direct-loop references; ConvTranspose2d as the adjoint
// of Conv2d; backward accumulates (+=); workspace reuse; init bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "error.h"
#include "gemm.h"
#include "gradcheck.h"
#include "layers.h"
#include "rng.h"

namespace genlab {
namespace {

using test::dot_double;
using test::gradcheck;
using test::random_vector;

// ---- Linear ------------------------------------------------------------------------------

TEST(Linear, ForwardMatchesDirectLoops) {
  Rng rng(1);
  const int B = 3, IN = 7, OUT = 5;
  auto x = random_vector(B * IN, rng), W = random_vector(OUT * IN, rng), b = random_vector(OUT, rng);
  std::vector<float> out(B * OUT);
  linear_forward(out.data(), x.data(), W.data(), b.data(), B, IN, OUT);
  for (int i = 0; i < B; ++i)
    for (int o = 0; o < OUT; ++o) {
      double acc = b[o];
      for (int k = 0; k < IN; ++k) acc += static_cast<double>(x[i * IN + k]) * W[o * IN + k];
      EXPECT_NEAR(out[i * OUT + o], acc, 1e-5);
    }
  linear_forward(out.data(), x.data(), W.data(), nullptr, B, IN, OUT);
  double acc = 0;
  for (int k = 0; k < IN; ++k) acc += static_cast<double>(x[k]) * W[k];
  EXPECT_NEAR(out[0], acc, 1e-5);
}

TEST(Linear, GradientCheck) {
  Rng rng(2);
  const int B = 4, IN = 6, OUT = 5;
  auto x = random_vector(B * IN, rng), W = random_vector(OUT * IN, rng), b = random_vector(OUT, rng);
  auto r = random_vector(B * OUT, rng);
  std::vector<float> out(B * OUT), dx(x.size()), dW(W.size()), db(b.size());
  linear_backward(dx.data(), dW.data(), db.data(), r.data(), x.data(), W.data(), B, IN, OUT);
  auto loss = [&] {
    linear_forward(out.data(), x.data(), W.data(), b.data(), B, IN, OUT);
    return dot_double(r.data(), out.data(), out.size());
  };
  auto rep = gradcheck(loss, {{"x", x.data(), dx.data(), x.size()},
                              {"W", W.data(), dW.data(), W.size()},
                              {"b", b.data(), db.data(), b.size()}},
                       {.step = 1e-2, .rtol = 1e-3, .atol = 1e-4});
  EXPECT_TRUE(rep.ok) << rep.summary();
}

TEST(Linear, BackwardAccumulatesAndSkipsNull) {
  Rng rng(3);
  const int B = 2, IN = 3, OUT = 4;
  auto x = random_vector(B * IN, rng), W = random_vector(OUT * IN, rng), r = random_vector(B * OUT, rng);
  std::vector<float> dW1(W.size()), dW2(W.size(), 0.5f), db(OUT, 1.f);
  linear_backward(nullptr, dW1.data(), nullptr, r.data(), x.data(), W.data(), B, IN, OUT);
  linear_backward(nullptr, dW2.data(), db.data(), r.data(), x.data(), W.data(), B, IN, OUT);
  for (size_t i = 0; i < W.size(); ++i) EXPECT_NEAR(dW2[i], dW1[i] + 0.5f, 1e-6);
  for (int o = 0; o < OUT; ++o) EXPECT_NEAR(db[o], 1.f + r[o] + r[OUT + o], 1e-6);
}

// ---- Conv2d -------------------------------------------------------------------------------

// Direct 7-loop cross-correlation in double: the oracle for conv2d_forward.
std::vector<double> conv2d_reference(const std::vector<float>& x, const std::vector<float>& W, const float* b,
                                     const Conv2dShape& s) {
  const int OH = s.out_h(), OW = s.out_w();
  std::vector<double> out(static_cast<size_t>(s.batch) * s.out_c * OH * OW);
  for (int n = 0; n < s.batch; ++n)
    for (int oc = 0; oc < s.out_c; ++oc)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          double acc = b ? b[oc] : 0.0;
          for (int c = 0; c < s.in_c; ++c)
            for (int ki = 0; ki < s.kh; ++ki)
              for (int kj = 0; kj < s.kw; ++kj) {
                const int iy = oy * s.stride - s.pad + ki, ix = ox * s.stride - s.pad + kj;
                if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
                acc += static_cast<double>(x[((n * s.in_c + c) * s.in_h + iy) * s.in_w + ix]) *
                       W[((oc * s.in_c + c) * s.kh + ki) * s.kw + kj];
              }
          out[((n * s.out_c + oc) * OH + oy) * OW + ox] = acc;
        }
  return out;
}

Conv2dShape conv_shape(int batch, int in_c, int in_h, int in_w, int out_c, int kh, int kw, int stride, int pad) {
  Conv2dShape s;
  s.batch = batch; s.in_c = in_c; s.in_h = in_h; s.in_w = in_w;
  s.out_c = out_c; s.kh = kh; s.kw = kw; s.stride = stride; s.pad = pad;
  return s;
}

// Several strides, paddings, non-square kernels and ragged sizes (the last row/column not covered).
std::vector<Conv2dShape> conv_cases() {
  return {
      conv_shape(2, 3, 7, 6, 4, 3, 3, 1, 1),   // "same" 3x3
      conv_shape(2, 2, 8, 8, 3, 4, 4, 2, 1),   // DCGAN-style downsample
      conv_shape(1, 2, 9, 7, 3, 3, 3, 2, 1),   // ragged: odd sizes with stride 2
      conv_shape(2, 3, 5, 4, 2, 1, 1, 1, 0),   // pointwise (no im2col)
      conv_shape(1, 2, 11, 10, 2, 5, 5, 3, 2), // big kernel, stride 3
      conv_shape(2, 1, 6, 7, 2, 3, 2, 2, 0),   // non-square kernel, no padding, ragged
      conv_shape(1, 1, 4, 4, 1, 4, 4, 1, 0),   // kernel covers the whole image -> 1x1 output
      conv_shape(2, 2, 7, 6, 3, 1, 1, 2, 0),   // strided 1x1 (stride larger than the kernel)
      conv_shape(1, 2, 5, 4, 2, 2, 3, 1, 2),   // padding wider than half the kernel: all-zero border outputs
  };
}

TEST(Conv2d, ForwardMatchesDirectLoopsForEveryGemmKernel) {
  const GemmKernel saved = gemm_kernel();
  for (GemmKernel kern : all_gemm_kernels()) {
    set_gemm_kernel(kern);
    int ci = 0;
    for (const Conv2dShape& s : conv_cases()) {
      Rng rng(10 + ci++);
      auto x = random_vector(static_cast<size_t>(s.batch) * s.in_c * s.in_h * s.in_w, rng);
      auto W = random_vector(static_cast<size_t>(s.out_c) * s.in_c * s.kh * s.kw, rng);
      auto b = random_vector(s.out_c, rng);
      std::vector<float> out(static_cast<size_t>(s.batch) * s.out_c * s.out_h() * s.out_w(), NAN);
      std::vector<float> ws;
      conv2d_forward(out.data(), x.data(), W.data(), b.data(), s, ws);
      auto ref = conv2d_reference(x, W, b.data(), s);
      for (size_t i = 0; i < out.size(); ++i)
        ASSERT_NEAR(out[i], ref[i], 1e-5) << "case " << ci - 1 << " kernel " << gemm_kernel_name(kern) << " i " << i;
      conv2d_forward(out.data(), x.data(), W.data(), nullptr, s, ws);
      auto ref0 = conv2d_reference(x, W, nullptr, s);
      for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], ref0[i], 1e-5);
    }
  }
  set_gemm_kernel(saved);
}

TEST(Conv2d, GradientCheck) {
  int ci = 0;
  for (const Conv2dShape& s : conv_cases()) {
    Rng rng(20 + ci);
    auto x = random_vector(static_cast<size_t>(s.batch) * s.in_c * s.in_h * s.in_w, rng);
    auto W = random_vector(static_cast<size_t>(s.out_c) * s.in_c * s.kh * s.kw, rng);
    auto b = random_vector(s.out_c, rng);
    const size_t nout = static_cast<size_t>(s.batch) * s.out_c * s.out_h() * s.out_w();
    auto r = random_vector(nout, rng);
    std::vector<float> out(nout), dx(x.size()), dW(W.size()), db(b.size()), ws;
    conv2d_backward(dx.data(), dW.data(), db.data(), r.data(), x.data(), W.data(), s, ws);
    auto loss = [&] {
      conv2d_forward(out.data(), x.data(), W.data(), b.data(), s, ws);
      return dot_double(r.data(), out.data(), nout);
    };
    auto rep = gradcheck(loss, {{"x", x.data(), dx.data(), x.size()},
                                {"W", W.data(), dW.data(), W.size()},
                                {"b", b.data(), db.data(), b.size()}},
                         {.step = 1e-2, .rtol = 1e-3, .atol = 1e-4});
    EXPECT_TRUE(rep.ok) << "case " << ci << ": " << rep.summary();
    ++ci;
  }
}

TEST(Conv2d, BackwardAccumulatesAndPartialGradientsAgree) {
  const Conv2dShape s = conv_shape(2, 2, 8, 8, 3, 4, 4, 2, 1);
  Rng rng(30);
  auto x = random_vector(static_cast<size_t>(s.batch) * s.in_c * s.in_h * s.in_w, rng);
  auto W = random_vector(static_cast<size_t>(s.out_c) * s.in_c * s.kh * s.kw, rng);
  auto r = random_vector(static_cast<size_t>(s.batch) * s.out_c * s.out_h() * s.out_w(), rng);
  std::vector<float> dx(x.size()), dW(W.size()), ws;
  conv2d_backward(dx.data(), dW.data(), nullptr, r.data(), x.data(), W.data(), s, ws);
  std::vector<float> dx2(x.size(), 1.f), dW2(W.size(), -1.f);
  conv2d_backward(dx2.data(), nullptr, nullptr, r.data(), x.data(), W.data(), s, ws);
  conv2d_backward(nullptr, dW2.data(), nullptr, r.data(), x.data(), W.data(), s, ws);
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx2[i], dx[i] + 1.f, 1e-5);
  for (size_t i = 0; i < dW.size(); ++i) EXPECT_NEAR(dW2[i], dW[i] - 1.f, 1e-5);
}

TEST(Conv2d, WorkspaceIsReusedWithoutReallocation) {
  const Conv2dShape s = conv_shape(4, 3, 12, 12, 8, 3, 3, 1, 1);
  Rng rng(31);
  auto x = random_vector(static_cast<size_t>(s.batch) * s.in_c * s.in_h * s.in_w, rng);
  auto W = random_vector(static_cast<size_t>(s.out_c) * s.in_c * 9, rng);
  const size_t nout = static_cast<size_t>(s.batch) * s.out_c * s.out_h() * s.out_w();
  std::vector<float> out(nout), dout(nout, 1.f), dx(x.size()), dW(W.size()), ws;
  conv2d_forward(out.data(), x.data(), W.data(), nullptr, s, ws);
  conv2d_backward(dx.data(), dW.data(), nullptr, dout.data(), x.data(), W.data(), s, ws);
  const float* p = ws.data();
  const size_t cap = ws.capacity();
  for (int rep = 0; rep < 3; ++rep) {
    conv2d_forward(out.data(), x.data(), W.data(), nullptr, s, ws);
    conv2d_backward(dx.data(), dW.data(), nullptr, dout.data(), x.data(), W.data(), s, ws);
  }
  EXPECT_EQ(ws.data(), p);
  EXPECT_EQ(ws.capacity(), cap);
}

// ---- ConvTranspose2d ---------------------------------------------------------------------------

ConvTranspose2dShape convt_shape(int batch, int in_c, int in_h, int in_w, int out_c, int kh, int kw, int stride,
                                 int pad, int output_padding) {
  ConvTranspose2dShape s;
  s.batch = batch; s.in_c = in_c; s.in_h = in_h; s.in_w = in_w;
  s.out_c = out_c; s.kh = kh; s.kw = kw; s.stride = stride; s.pad = pad; s.output_padding = output_padding;
  return s;
}

std::vector<ConvTranspose2dShape> convt_cases() {
  return {
      convt_shape(2, 3, 4, 4, 2, 4, 4, 2, 1, 0),  // DCGAN-style 2x upsample: 4 -> 8
      convt_shape(1, 2, 7, 7, 3, 3, 3, 2, 1, 1),  // 7 -> 14 with output_padding
      convt_shape(2, 2, 3, 5, 2, 3, 3, 1, 1, 0),  // stride 1 ("same")
      convt_shape(1, 3, 3, 4, 2, 1, 1, 1, 0, 0),  // pointwise
      convt_shape(1, 2, 4, 3, 2, 5, 3, 3, 2, 2),  // stride 3, output_padding 2, non-square kernel
      convt_shape(2, 1, 1, 1, 3, 7, 7, 1, 0, 0),  // 1x1 -> 7x7 (a "project and reshape" decoder)
      convt_shape(1, 2, 3, 4, 3, 2, 2, 2, 0, 0),  // non-overlapping 2x2 upsampling
      convt_shape(1, 2, 4, 4, 2, 1, 1, 2, 0, 1),  // strided 1x1 with output_padding: a zero lattice
  };
}

// Scatter-form reference: every input pixel adds W * x into the output window it touches.
std::vector<double> convt_reference(const std::vector<float>& x, const std::vector<float>& W, const float* b,
                                    const ConvTranspose2dShape& s) {
  const int OH = s.out_h(), OW = s.out_w();
  std::vector<double> out(static_cast<size_t>(s.batch) * s.out_c * OH * OW, 0.0);
  for (int n = 0; n < s.batch; ++n) {
    for (int oc = 0; oc < s.out_c; ++oc)
      for (int i = 0; i < OH * OW; ++i) out[(n * s.out_c + oc) * OH * OW + i] = b ? b[oc] : 0.0;
    for (int c = 0; c < s.in_c; ++c)
      for (int iy = 0; iy < s.in_h; ++iy)
        for (int ix = 0; ix < s.in_w; ++ix)
          for (int oc = 0; oc < s.out_c; ++oc)
            for (int ki = 0; ki < s.kh; ++ki)
              for (int kj = 0; kj < s.kw; ++kj) {
                const int oy = iy * s.stride - s.pad + ki, ox = ix * s.stride - s.pad + kj;
                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                out[((n * s.out_c + oc) * OH + oy) * OW + ox] +=
                    static_cast<double>(x[((n * s.in_c + c) * s.in_h + iy) * s.in_w + ix]) *
                    W[((c * s.out_c + oc) * s.kh + ki) * s.kw + kj];
              }
  }
  return out;
}

TEST(ConvTranspose2d, ForwardMatchesScatterReference) {
  int ci = 0;
  for (const ConvTranspose2dShape& s : convt_cases()) {
    Rng rng(40 + ci);
    auto x = random_vector(static_cast<size_t>(s.batch) * s.in_c * s.in_h * s.in_w, rng);
    auto W = random_vector(static_cast<size_t>(s.in_c) * s.out_c * s.kh * s.kw, rng);
    auto b = random_vector(s.out_c, rng);
    std::vector<float> out(static_cast<size_t>(s.batch) * s.out_c * s.out_h() * s.out_w(), NAN), ws;
    conv_transpose2d_forward(out.data(), x.data(), W.data(), b.data(), s, ws);
    auto ref = convt_reference(x, W, b.data(), s);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], ref[i], 1e-5) << "case " << ci << " i " << i;
    ++ci;
  }
}

TEST(ConvTranspose2d, GradientCheck) {
  int ci = 0;
  for (const ConvTranspose2dShape& s : convt_cases()) {
    Rng rng(50 + ci);
    auto x = random_vector(static_cast<size_t>(s.batch) * s.in_c * s.in_h * s.in_w, rng);
    auto W = random_vector(static_cast<size_t>(s.in_c) * s.out_c * s.kh * s.kw, rng);
    auto b = random_vector(s.out_c, rng);
    const size_t nout = static_cast<size_t>(s.batch) * s.out_c * s.out_h() * s.out_w();
    auto r = random_vector(nout, rng);
    std::vector<float> out(nout), dx(x.size()), dW(W.size()), db(b.size()), ws;
    conv_transpose2d_backward(dx.data(), dW.data(), db.data(), r.data(), x.data(), W.data(), s, ws);
    auto loss = [&] {
      conv_transpose2d_forward(out.data(), x.data(), W.data(), b.data(), s, ws);
      return dot_double(r.data(), out.data(), nout);
    };
    auto rep = gradcheck(loss, {{"x", x.data(), dx.data(), x.size()},
                                {"W", W.data(), dW.data(), W.size()},
                                {"b", b.data(), db.data(), b.size()}},
                         {.step = 1e-2, .rtol = 1e-3, .atol = 1e-4});
    EXPECT_TRUE(rep.ok) << "case " << ci << ": " << rep.summary();
    ++ci;
  }
}

// <conv(x), y> == <x, convT(y)> with the same weights: the transposed convolution is the adjoint.
TEST(ConvTranspose2d, IsTheAdjointOfConv2d) {
  int ci = 0;
  for (const ConvTranspose2dShape& t : convt_cases()) {
    const Conv2dShape c = conv_shape(t.batch, t.out_c, t.out_h(), t.out_w(), t.in_c, t.kh, t.kw, t.stride, t.pad);
    ASSERT_EQ(c.out_h(), t.in_h);
    ASSERT_EQ(c.out_w(), t.in_w);
    Rng rng(60 + ci++);
    auto W = random_vector(static_cast<size_t>(t.in_c) * t.out_c * t.kh * t.kw, rng);  // conv: [out=t.in_c, in=t.out_c]
    auto x = random_vector(static_cast<size_t>(c.batch) * c.in_c * c.in_h * c.in_w, rng);
    auto y = random_vector(static_cast<size_t>(t.batch) * t.in_c * t.in_h * t.in_w, rng);
    std::vector<float> cx(y.size()), ty(x.size()), ws;
    conv2d_forward(cx.data(), x.data(), W.data(), nullptr, c, ws);
    conv_transpose2d_forward(ty.data(), y.data(), W.data(), nullptr, t, ws);
    const double lhs = dot_double(cx.data(), y.data(), y.size());
    const double rhs = dot_double(x.data(), ty.data(), x.size());
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1.0 + std::fabs(lhs)));
  }
}

// ---- Activations -------------------------------------------------------------------------------

struct ActCase {
  Activation a;
  float alpha;
};

TEST(Activations, GradientCheckEveryActivation) {
  for (ActCase c : {ActCase{Activation::Identity, 0.f}, ActCase{Activation::ReLU, 0.f},
                    ActCase{Activation::LeakyReLU, 0.01f}, ActCase{Activation::LeakyReLU, 0.2f},
                    ActCase{Activation::ELU, 1.f}, ActCase{Activation::Sigmoid, 0.f}, ActCase{Activation::Tanh, 0.f}}) {
    Rng rng(70);
    const size_t n = 64;
    auto x = random_vector(n, rng, -3.f, 3.f);
    for (float& v : x)  // keep away from the kinks at 0 so central differences stay on one side
      if (std::fabs(v) < 0.05f) v = v < 0 ? -0.05f : 0.05f;
    auto r = random_vector(n, rng);
    std::vector<float> y(n), dx(n, 0.f);
    activation_forward(c.a, y.data(), x.data(), n, c.alpha);
    activation_backward(c.a, dx.data(), r.data(), x.data(), y.data(), n, c.alpha);
    auto loss = [&] {
      activation_forward(c.a, y.data(), x.data(), n, c.alpha);
      return dot_double(r.data(), y.data(), n);
    };
    auto rep = gradcheck(loss, {{activation_name(c.a), x.data(), dx.data(), n}}, {.step = 1e-3, .rtol = 2e-3, .atol = 1e-4});
    EXPECT_TRUE(rep.ok) << activation_name(c.a) << " alpha " << c.alpha << ": " << rep.summary();
  }
}

TEST(Activations, ForwardValuesAndInPlace) {
  const std::vector<float> x = {-2.f, -0.5f, 0.f, 0.5f, 2.f, -100.f, 100.f};
  std::vector<float> y(x.size());
  activation_forward(Activation::LeakyReLU, y.data(), x.data(), x.size(), 0.1f);
  EXPECT_FLOAT_EQ(y[0], -0.2f);
  EXPECT_FLOAT_EQ(y[4], 2.f);
  activation_forward(Activation::ELU, y.data(), x.data(), x.size(), 1.f);
  EXPECT_NEAR(y[0], std::expm1(-2.0), 1e-6);
  EXPECT_NEAR(y[5], -1.0, 1e-6);
  activation_forward(Activation::Sigmoid, y.data(), x.data(), x.size());
  EXPECT_FLOAT_EQ(y[2], 0.5f);
  EXPECT_EQ(y[5], 0.f);
  EXPECT_EQ(y[6], 1.f);
  activation_forward(Activation::Tanh, y.data(), x.data(), x.size());
  EXPECT_NEAR(y[1], std::tanh(-0.5), 1e-7);
  // In place: forward overwrites its input; backward still works from the output alone.
  for (Activation a : {Activation::ReLU, Activation::LeakyReLU, Activation::ELU, Activation::Sigmoid, Activation::Tanh}) {
    std::vector<float> sep(x.size()), inplace = x, d1(x.size()), d2(x.size()), ones(x.size(), 1.f);
    activation_forward(a, sep.data(), x.data(), x.size(), 0.3f);
    activation_forward(a, inplace.data(), inplace.data(), x.size(), 0.3f);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(sep[i], inplace[i]);
    activation_backward(a, d1.data(), ones.data(), x.data(), sep.data(), x.size(), 0.3f);
    activation_backward(a, d2.data(), ones.data(), inplace.data(), inplace.data(), x.size(), 0.3f);
    for (size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(d1[i], d2[i]) << activation_name(a);
      EXPECT_TRUE(std::isfinite(d1[i])) << activation_name(a);
    }
  }
}

TEST(Activations, NamesRoundTripAndUnknownNameThrows) {
  for (Activation a : {Activation::Identity, Activation::ReLU, Activation::LeakyReLU, Activation::ELU,
                       Activation::Sigmoid, Activation::Tanh})
    EXPECT_EQ(activation_from_name(activation_name(a)), a);
  try {
    activation_from_name("swish");
    FAIL() << "expected genlab::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("swish"), std::string::npos);
  }
}

// ---- Init ----------------------------------------------------------------------------------------

TEST(Init, UniformFanInBoundsMeanAndDeterminism) {
  Rng rng(80), rng2(80);
  std::vector<float> w(20000), w2(20000);
  init_uniform_fan_in(w.data(), w.size(), 25, rng);
  init_uniform_fan_in(w2.data(), w2.size(), 25, rng2);
  double mean = 0, var = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    ASSERT_LE(std::fabs(w[i]), 0.2f);
    ASSERT_EQ(w[i], w2[i]);
    mean += w[i];
    var += static_cast<double>(w[i]) * w[i];
  }
  mean /= w.size();
  var /= w.size();
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(var, 0.04 / 3.0, 0.0005);  // U(-a, a): a^2 / 3
  EXPECT_THROW(init_uniform_fan_in(w.data(), 1, 0, rng), Error);
}

}  // namespace
}  // namespace genlab
