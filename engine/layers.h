// Layers as paired forward/backward functions (llm.c style). Shapes in the leading comment of each
// pair; tensors are row-major float32, images NCHW. Backward ADDS into every gradient it writes
// (din, dW, db: `+=`); zeroing is the caller's job (ParamSet::zero_grad, or a fill on activations).
// Any gradient pointer may be nullptr to skip it (e.g. din of the first layer).
#pragma once
#include <cstddef>
#include <vector>

namespace genlab {

// ---- Linear -------------------------------------------------------------------------------
// in [B, IN], W [OUT, IN] (PyTorch layout), b [OUT] or nullptr -> out [B, OUT] = in W^T + b
void linear_forward(float* out, const float* in, const float* W, const float* b, int B, int IN, int OUT);
// Adds din += dout W, dW += dout^T in, db += column sums of dout. dW_beta / db_beta = 0 overwrite dW / db
// instead (ParamSet::grad_for_overwrite: no zero fill, no read of the old values).
void linear_backward(float* din, float* dW, float* db, const float* dout, const float* in, const float* W,
                     int B, int IN, int OUT, float dW_beta = 1.f, float db_beta = 1.f);

// ---- Conv2d (cross-correlation, zero padding) -------------------------------------------------
struct Conv2dShape {
  int batch = 1, in_c = 1, in_h = 1, in_w = 1;
  int out_c = 1, kh = 1, kw = 1, stride = 1, pad = 0;
  int out_h() const { return (in_h + 2 * pad - kh) / stride + 1; }
  int out_w() const { return (in_w + 2 * pad - kw) / stride + 1; }
};
// in [B, in_c, in_h, in_w], W [out_c, in_c, kh, kw], b [out_c] or nullptr -> out [B, out_c, out_h, out_w]
// workspace: reused im2col buffer (grown as needed; keep one per layer or per model).
void conv2d_forward(float* out, const float* in, const float* W, const float* b, const Conv2dShape& s,
                    std::vector<float>& workspace);
void conv2d_backward(float* din, float* dW, float* db, const float* dout, const float* in, const float* W,
                     const Conv2dShape& s, std::vector<float>& workspace);

// ---- ConvTranspose2d (the adjoint of Conv2d; decoders upsample with it) ----------------------------
// Shape fields describe the *transposed* op: in [B, in_c, in_h, in_w] -> out [B, out_c, H, W] with
// H = (in_h - 1) * stride - 2 * pad + kh + output_padding.  W [in_c, out_c, kh, kw] (PyTorch layout).
struct ConvTranspose2dShape {
  int batch = 1, in_c = 1, in_h = 1, in_w = 1;
  int out_c = 1, kh = 1, kw = 1, stride = 1, pad = 0, output_padding = 0;
  int out_h() const { return (in_h - 1) * stride - 2 * pad + kh + output_padding; }
  int out_w() const { return (in_w - 1) * stride - 2 * pad + kw + output_padding; }
};
void conv_transpose2d_forward(float* out, const float* in, const float* W, const float* b,
                              const ConvTranspose2dShape& s, std::vector<float>& workspace);
void conv_transpose2d_backward(float* din, float* dW, float* db, const float* dout, const float* in,
                               const float* W, const ConvTranspose2dShape& s, std::vector<float>& workspace);

// ---- Elementwise activations ------------------------------------------------------------------
enum class Activation { Identity, ReLU, LeakyReLU, ELU, Sigmoid, Tanh };
// out[i] = f(in[i]); out may alias in. alpha: LeakyReLU slope / ELU scale.
void activation_forward(Activation a, float* out, const float* in, size_t n, float alpha = 0.01f);
// din[i] += dout[i] * f'(in[i]); both the input and the output are passed so each f uses the cheaper one.
void activation_backward(Activation a, float* din, const float* dout, const float* in, const float* out, size_t n,
                         float alpha = 0.01f);
const char* activation_name(Activation a);
Activation activation_from_name(const char* name);  // throws genlab::Error on unknown names

// ---- Parameter initialisation ----------------------------------------------------------------------
class Rng;
// PyTorch's default (Kaiming-uniform with a = sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b.
void init_uniform_fan_in(float* W, size_t n, int fan_in, Rng& rng);

}  // namespace genlab
