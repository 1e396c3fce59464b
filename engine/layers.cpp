// Layers: Linear, Conv2d, ConvTranspose2d, elementwise activations and PyTorch's default init.
// All heavy math goes through gemm(): Linear directly, the convolutions through im2col/col2im on a
// caller-owned workspace (no allocation once it has grown). Bias and activation loops are plain
// loops over contiguous memory so the compiler can vectorise them.
#include "layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "error.h"
#include "gemm.h"
#include "rng.h"

namespace genlab {

// ---- Linear -------------------------------------------------------------------------------

// in [B, IN], W [OUT, IN], b [OUT] -> out [B, OUT]
void linear_forward(float* out, const float* in, const float* W, const float* b, int B, int IN, int OUT) {
  gemm(false, true, B, OUT, IN, 1.f, in, W, 0.f, out);
  if (b) {
    for (int i = 0; i < B; ++i) {
      float* row = out + static_cast<size_t>(i) * OUT;
      for (int o = 0; o < OUT; ++o) row[o] += b[o];
    }
  }
}

// dout [B, OUT] -> din [B, IN] += dout W, dW [OUT, IN] += dout^T in, db [OUT] += sum_b dout
void linear_backward(float* din, float* dW, float* db, const float* dout, const float* in, const float* W,
                     int B, int IN, int OUT, float dW_beta, float db_beta) {
  if (din) gemm(false, false, B, IN, OUT, 1.f, dout, W, 1.f, din);
  if (dW) gemm(true, false, OUT, IN, B, 1.f, dout, in, dW_beta, dW);
  if (db) {
    if (db_beta == 0.f) std::fill_n(db, OUT, 0.f);
    for (int i = 0; i < B; ++i) {
      const float* row = dout + static_cast<size_t>(i) * OUT;
      for (int o = 0; o < OUT; ++o) db[o] += row[o];
    }
  }
}

// ---- im2col / col2im --------------------------------------------------------------------------
namespace {

// Geometry of one cross-correlation: image [C, H, W] -> columns [C*kh*kw, OH*OW].
struct ColGeometry {
  int C, H, W, kh, kw, stride, pad, OH, OW;
};

// Padded images: with pad > 0 each channel plane is first copied into a zero-bordered scratch plane
// [H + 2 pad, W + 2 pad] so the column loops below run without bounds checks or zero fills (they
// dominate on the small feature maps of the decoders). The scratch plane's border is zeroed once
// per call and never written afterwards.
inline size_t padded_plane_size(const ColGeometry& g) {
  return g.pad > 0 ? static_cast<size_t>(g.H + 2 * g.pad) * (g.W + 2 * g.pad) : 0;
}

// col[(c*kh+ki)*kw+kj, oy*OW+ox] = img[c, oy*s-p+ki, ox*s-p+kj] (0 outside the image)
// plane: scratch of padded_plane_size(g) floats (unused when pad == 0).
void im2col(float* col, const float* img, const ColGeometry& g, float* plane) {
  const size_t ohw = static_cast<size_t>(g.OH) * g.OW;
  const int PW = g.W + 2 * g.pad;
  if (g.pad > 0) std::fill(plane, plane + padded_plane_size(g), 0.f);
  for (int c = 0; c < g.C; ++c) {
    const float* src_plane = img + static_cast<size_t>(c) * g.H * g.W;
    int pw = g.W;
    if (g.pad > 0) {
      for (int y = 0; y < g.H; ++y)
        std::memcpy(plane + static_cast<size_t>(y + g.pad) * PW + g.pad, src_plane + static_cast<size_t>(y) * g.W,
                    sizeof(float) * static_cast<size_t>(g.W));
      src_plane = plane;
      pw = PW;
    }
    for (int ki = 0; ki < g.kh; ++ki)
      for (int kj = 0; kj < g.kw; ++kj) {
        float* dst = col + (static_cast<size_t>(c * g.kh + ki) * g.kw + kj) * ohw;
        for (int oy = 0; oy < g.OH; ++oy) {
          const float* s = src_plane + static_cast<size_t>(oy * g.stride + ki) * pw + kj;
          float* d = dst + static_cast<size_t>(oy) * g.OW;
          if (g.stride == 1) {
            std::memcpy(d, s, sizeof(float) * static_cast<size_t>(g.OW));
          } else if (g.stride == 2) {
            for (int ox = 0; ox < g.OW; ++ox) d[ox] = s[2 * ox];
          } else {
            for (int ox = 0; ox < g.OW; ++ox) d[ox] = s[ox * g.stride];
          }
        }
      }
  }
}

// The adjoint of im2col: img[c, y, x] += every column entry that im2col would read from it.
void col2im_add(float* img, const float* col, const ColGeometry& g, float* plane) {
  const size_t ohw = static_cast<size_t>(g.OH) * g.OW;
  const int PW = g.W + 2 * g.pad;
  for (int c = 0; c < g.C; ++c) {
    float* dst_plane = img + static_cast<size_t>(c) * g.H * g.W;
    float* acc = dst_plane;
    int pw = g.W;
    if (g.pad > 0) {
      std::fill(plane, plane + padded_plane_size(g), 0.f);
      acc = plane;
      pw = PW;
    }
    for (int ki = 0; ki < g.kh; ++ki)
      for (int kj = 0; kj < g.kw; ++kj) {
        const float* src = col + (static_cast<size_t>(c * g.kh + ki) * g.kw + kj) * ohw;
        for (int oy = 0; oy < g.OH; ++oy) {
          float* d = acc + static_cast<size_t>(oy * g.stride + ki) * pw + kj;
          const float* s = src + static_cast<size_t>(oy) * g.OW;
          if (g.stride == 1) {
            for (int ox = 0; ox < g.OW; ++ox) d[ox] += s[ox];
          } else {
            for (int ox = 0; ox < g.OW; ++ox) d[ox * g.stride] += s[ox];
          }
        }
      }
    if (g.pad > 0) {
      for (int y = 0; y < g.H; ++y) {
        const float* s = plane + static_cast<size_t>(y + g.pad) * PW + g.pad;
        float* d = dst_plane + static_cast<size_t>(y) * g.W;
        for (int x = 0; x < g.W; ++x) d[x] += s[x];
      }
    }
  }
}

// A 1x1, stride-1, unpadded convolution reads the image itself as its column matrix.
inline bool is_pointwise(const ColGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0 && g.OH == g.H && g.OW == g.W;
}

inline void grow(std::vector<float>& ws, size_t n) {
  if (ws.size() < n) ws.resize(n);
}

// out [B, C, HW] += b[c] per channel plane
void add_channel_bias(float* out, const float* b, int B, int C, size_t hw) {
  for (int i = 0; i < B; ++i)
    for (int c = 0; c < C; ++c) {
      float* p = out + (static_cast<size_t>(i) * C + c) * hw;
      const float v = b[c];
      for (size_t j = 0; j < hw; ++j) p[j] += v;
    }
}

// db[c] += sum over batch and plane of dout [B, C, HW]
void channel_bias_grad(float* db, const float* dout, int B, int C, size_t hw) {
  for (int i = 0; i < B; ++i)
    for (int c = 0; c < C; ++c) {
      const float* p = dout + (static_cast<size_t>(i) * C + c) * hw;
      float acc = 0.f;
      for (size_t j = 0; j < hw; ++j) acc += p[j];
      db[c] += acc;
    }
}

}  // namespace

// ---- Conv2d -----------------------------------------------------------------------------------

// in [B, in_c, in_h, in_w], W [out_c, in_c*kh*kw] -> out[b] [out_c, OH*OW] = W * im2col(in[b]) + b
void conv2d_forward(float* out, const float* in, const float* W, const float* b, const Conv2dShape& s,
                    std::vector<float>& workspace) {
  const ColGeometry g{s.in_c, s.in_h, s.in_w, s.kh, s.kw, s.stride, s.pad, s.out_h(), s.out_w()};
  const int K = s.in_c * s.kh * s.kw;
  const int ohw = g.OH * g.OW;
  const size_t in_size = static_cast<size_t>(s.in_c) * s.in_h * s.in_w;
  const size_t out_size = static_cast<size_t>(s.out_c) * ohw;
  const bool pointwise = is_pointwise(g);
  const size_t col_size = static_cast<size_t>(K) * ohw;
  if (!pointwise) grow(workspace, col_size + padded_plane_size(g));
  for (int i = 0; i < s.batch; ++i) {
    const float* x = in + i * in_size;
    const float* col = x;
    if (!pointwise) {
      im2col(workspace.data(), x, g, workspace.data() + col_size);
      col = workspace.data();
    }
    gemm(false, false, s.out_c, ohw, K, 1.f, W, col, 0.f, out + i * out_size);
  }
  if (b) add_channel_bias(out, b, s.batch, s.out_c, ohw);
}

// dW += dout[b] im2col(in[b])^T;  din[b] += col2im(W^T dout[b]);  db += sums of dout
void conv2d_backward(float* din, float* dW, float* db, const float* dout, const float* in, const float* W,
                     const Conv2dShape& s, std::vector<float>& workspace) {
  const ColGeometry g{s.in_c, s.in_h, s.in_w, s.kh, s.kw, s.stride, s.pad, s.out_h(), s.out_w()};
  const int K = s.in_c * s.kh * s.kw;
  const int ohw = g.OH * g.OW;
  const size_t col_size = static_cast<size_t>(K) * ohw;
  const size_t in_size = static_cast<size_t>(s.in_c) * s.in_h * s.in_w;
  const size_t out_size = static_cast<size_t>(s.out_c) * ohw;
  const bool pointwise = is_pointwise(g);
  if (!pointwise) grow(workspace, (dW ? col_size : 0) + (din ? col_size : 0) + padded_plane_size(g));
  float* col = workspace.data();
  float* dcol = workspace.data() + (dW && !pointwise ? col_size : 0);
  float* plane = dcol + (din && !pointwise ? col_size : 0);
  for (int i = 0; i < s.batch; ++i) {
    const float* dy = dout + i * out_size;
    if (dW) {
      const float* c = in + i * in_size;
      if (!pointwise) {
        im2col(col, in + i * in_size, g, plane);
        c = col;
      }
      gemm(false, true, s.out_c, K, ohw, 1.f, dy, c, 1.f, dW);
    }
    if (din) {
      if (pointwise) {
        gemm(true, false, K, ohw, s.out_c, 1.f, W, dy, 1.f, din + i * in_size);
      } else {
        gemm(true, false, K, ohw, s.out_c, 1.f, W, dy, 0.f, dcol);
        col2im_add(din + i * in_size, dcol, g, plane);
      }
    }
  }
  if (db) channel_bias_grad(db, dout, s.batch, s.out_c, ohw);
}

// ---- ConvTranspose2d --------------------------------------------------------------------------
// The transposed op is the adjoint of a Conv2d mapping out [out_c, H, W] -> in [in_c, in_h, in_w]
// with the same kernel, stride and padding; output_padding only enlarges H, W.

// in [B, in_c, in_h*in_w], W [in_c, out_c*kh*kw] -> out[b] = col2im(W^T in[b]) + b
void conv_transpose2d_forward(float* out, const float* in, const float* W, const float* b,
                              const ConvTranspose2dShape& s, std::vector<float>& workspace) {
  const ColGeometry g{s.out_c, s.out_h(), s.out_w(), s.kh, s.kw, s.stride, s.pad, s.in_h, s.in_w};
  const int K = s.out_c * s.kh * s.kw;
  const int ihw = s.in_h * s.in_w;
  const size_t in_size = static_cast<size_t>(s.in_c) * ihw;
  const size_t out_hw = static_cast<size_t>(g.H) * g.W;
  const size_t out_size = static_cast<size_t>(s.out_c) * out_hw;
  const bool pointwise = is_pointwise(g);
  const size_t col_size = static_cast<size_t>(K) * ihw;
  if (!pointwise) grow(workspace, col_size + padded_plane_size(g));
  for (int i = 0; i < s.batch; ++i) {
    float* y = out + i * out_size;
    if (pointwise) {
      gemm(true, false, K, ihw, s.in_c, 1.f, W, in + i * in_size, 0.f, y);
    } else {
      gemm(true, false, K, ihw, s.in_c, 1.f, W, in + i * in_size, 0.f, workspace.data());
      std::fill(y, y + out_size, 0.f);
      col2im_add(y, workspace.data(), g, workspace.data() + col_size);
    }
  }
  if (b) add_channel_bias(out, b, s.batch, s.out_c, out_hw);
}

// din[b] += W im2col(dout[b]);  dW += in[b] im2col(dout[b])^T;  db += sums of dout
void conv_transpose2d_backward(float* din, float* dW, float* db, const float* dout, const float* in,
                               const float* W, const ConvTranspose2dShape& s, std::vector<float>& workspace) {
  const ColGeometry g{s.out_c, s.out_h(), s.out_w(), s.kh, s.kw, s.stride, s.pad, s.in_h, s.in_w};
  const int K = s.out_c * s.kh * s.kw;
  const int ihw = s.in_h * s.in_w;
  const size_t in_size = static_cast<size_t>(s.in_c) * ihw;
  const size_t out_hw = static_cast<size_t>(g.H) * g.W;
  const size_t out_size = static_cast<size_t>(s.out_c) * out_hw;
  const bool pointwise = is_pointwise(g);
  if (din || dW) {
    const size_t col_size = static_cast<size_t>(K) * ihw;
    if (!pointwise) grow(workspace, col_size + padded_plane_size(g));
    for (int i = 0; i < s.batch; ++i) {
      const float* col = dout + i * out_size;
      if (!pointwise) {
        im2col(workspace.data(), dout + i * out_size, g, workspace.data() + col_size);
        col = workspace.data();
      }
      if (din) gemm(false, false, s.in_c, ihw, K, 1.f, W, col, 1.f, din + i * in_size);
      if (dW) gemm(false, true, s.in_c, K, ihw, 1.f, in + i * in_size, col, 1.f, dW);
    }
  }
  if (db) channel_bias_grad(db, dout, s.batch, s.out_c, out_hw);
}

// ---- Elementwise activations ------------------------------------------------------------------

void activation_forward(Activation a, float* out, const float* in, size_t n, float alpha) {
  switch (a) {
    case Activation::Identity:
      if (out != in) std::memmove(out, in, n * sizeof(float));
      break;
    case Activation::ReLU:
      for (size_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : 0.f;
      break;
    case Activation::LeakyReLU:
      for (size_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : alpha * in[i];
      break;
    case Activation::ELU:
      for (size_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : alpha * std::expm1(in[i]);
      break;
    case Activation::Sigmoid:
      // exp(-x) overflows to inf for x << 0 and the quotient is then exactly 0: no NaN.
      for (size_t i = 0; i < n; ++i) out[i] = 1.f / (1.f + std::exp(-in[i]));
      break;
    case Activation::Tanh:
      for (size_t i = 0; i < n; ++i) out[i] = std::tanh(in[i]);
      break;
  }
}

// Every derivative is written in terms of the output (sign(out) == sign(in) for the piecewise ones),
// so this also works when the forward ran in place and `in` was overwritten.
void activation_backward(Activation a, float* din, const float* dout, const float* in, const float* out, size_t n,
                         float alpha) {
  (void)in;
  switch (a) {
    case Activation::Identity:
      for (size_t i = 0; i < n; ++i) din[i] += dout[i];
      break;
    case Activation::ReLU:
      for (size_t i = 0; i < n; ++i) din[i] += out[i] > 0.f ? dout[i] : 0.f;
      break;
    case Activation::LeakyReLU:
      for (size_t i = 0; i < n; ++i) din[i] += out[i] > 0.f ? dout[i] : alpha * dout[i];
      break;
    case Activation::ELU:  // x <= 0: d/dx alpha (e^x - 1) = out + alpha
      for (size_t i = 0; i < n; ++i) din[i] += out[i] > 0.f ? dout[i] : dout[i] * (out[i] + alpha);
      break;
    case Activation::Sigmoid:
      for (size_t i = 0; i < n; ++i) din[i] += dout[i] * out[i] * (1.f - out[i]);
      break;
    case Activation::Tanh:
      for (size_t i = 0; i < n; ++i) din[i] += dout[i] * (1.f - out[i] * out[i]);
      break;
  }
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::Identity: return "identity";
    case Activation::ReLU: return "relu";
    case Activation::LeakyReLU: return "leaky_relu";
    case Activation::ELU: return "elu";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
  }
  return "?";
}

Activation activation_from_name(const char* name) {
  const std::string s = name ? name : "";
  for (Activation a : {Activation::Identity, Activation::ReLU, Activation::LeakyReLU, Activation::ELU,
                       Activation::Sigmoid, Activation::Tanh})
    if (s == activation_name(a)) return a;
  if (s == "leakyrelu" || s == "lrelu") return Activation::LeakyReLU;
  if (s == "none" || s == "linear") return Activation::Identity;
  throw Error("unknown activation '" + s + "' (expected identity, relu, leaky_relu, elu, sigmoid or tanh)");
}

// ---- Parameter initialisation ----------------------------------------------------------------------

void init_uniform_fan_in(float* W, size_t n, int fan_in, Rng& rng) {
  require(fan_in > 0, "init_uniform_fan_in: fan_in must be positive");
  const float bound = 1.f / std::sqrt(static_cast<float>(fan_in));
  for (size_t i = 0; i < n; ++i) W[i] = (2.f * rng.uniform() - 1.f) * bound;
}

}  // namespace genlab
