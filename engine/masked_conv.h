// Masked 2-D convolutions for autoregressive image models (PixelCNN, Gated PixelCNN).
//
// A masked convolution is described by its kernel taps: Dead taps never take part in any product
// (the im2col matrix holds only live taps: a 3x3 mask-B kernel on one channel has 5 rows per input
// channel, a 7x7 mask-A kernel 24), Full taps connect every input to every output channel, and the
// Centre tap (the pixel itself) connects channel groups by the R -> G -> B rule of the PixelRNN paper:
// mask A lets output group g see input groups < g, mask B groups <= g. Grey/binary images use one
// group, so mask A drops the centre entirely and mask B keeps it.
//
// Layout: activations are channel planes over the batch, [C][B][H][W] (a [C, B*H*W] matrix), so one
// gemm covers the whole batch. Weights stay in the PyTorch layout [out_c, in_c, kh, kw] with dead
// taps held at zero (parameter counts and checkpoints match PyTorch); pack() copies the live taps into
// the matrix the kernels use. Output channels with the same group form a run that multiplies only the
// live prefix of the im2col rows (centre rows are sorted by input group).
//
// Two forward paths:
//  * forward():    im2col + gemm() over chunks of images that fit in cache (training, evaluation); when
//    every live tap covers all input channels (one-group 3x3 mask B), multiply first and add the shifted
//    products instead (no im2col matrix, no col2im in backward); 1x1 convs read their input in place;
//  * forward_at(): a fixed-order kernel at a list of pixel positions (the samplers). Every output value
//    is the same float sum in the same order whatever the positions, so the naive sampler (all
//    positions every step) and the cached sampler (one position or one row) agree bit for bit.
#pragma once
#include <cstdint>
#include <vector>

#include "layers.h"

namespace genlab {

enum class MaskType { A, B };

// Channel c of a tensor belongs to group (c % period) * groups / period. Colour models use 3 groups
// (R, G, B); a gated layer's [tanh half | sigmoid half] tensor uses period = half so that the two
// halves of one gate fall in the same group.
struct ChannelGroups {
  int groups = 1;
  int period = 1;
  int of(int c) const { return (c % period) * groups / period; }
};

enum class TapKind : uint8_t { Dead, Full, Centre };

struct MaskedConvSpec {
  int in_c = 1, out_c = 1;
  int kh = 1, kw = 1;
  int anchor_y = 0, anchor_x = 0;   // output (y, x) reads input (y + ky - anchor_y, x + kx - anchor_x); zero padding
  std::vector<TapKind> taps;        // [kh * kw], raster order
  MaskType centre_mask = MaskType::B;
  ChannelGroups in_groups, out_groups;
};

// k x k PixelCNN mask: rows above and pixels to the left are Full, the centre follows mask A or B.
MaskedConvSpec pixelcnn_mask_spec(int in_c, int out_c, int k, MaskType mask, ChannelGroups in, ChannelGroups out);
// Gated PixelCNN vertical stack: (k/2 + 1) x k kernel over the rows above AND the current row (all Full);
// its output is only ever read one row down (down_shift_spec), which keeps the model causal.
MaskedConvSpec vertical_stack_spec(int in_c, int out_c, int k, ChannelGroups in, ChannelGroups out);
// 1x1 link from the vertical to the horizontal stack, reading the pixel directly above.
MaskedConvSpec down_shift_spec(int in_c, int out_c, ChannelGroups in, ChannelGroups out);
// Gated PixelCNN horizontal stack: 1 x (k/2 + 1) kernel over the pixels to the left and the centre (mask A/B).
MaskedConvSpec horizontal_stack_spec(int in_c, int out_c, int k, MaskType mask, ChannelGroups in, ChannelGroups out);
// 1x1 convolution with a mask-B centre (plain 1x1 for one group).
MaskedConvSpec pointwise_spec(int in_c, int out_c, ChannelGroups in, ChannelGroups out);

// Reused buffers (grown on first use, never shrunk: no allocation per call in steady state).
struct MaskedConvWorkspace {
  std::vector<float> cols, dcols, dpacked, acc;
};

class MaskedConv2d {
 public:
  explicit MaskedConv2d(MaskedConvSpec spec);  // throws genlab::Error on an inconsistent spec

  const MaskedConvSpec& spec() const { return spec_; }
  size_t weight_size() const;                      // out_c * in_c * kh * kw
  int fan_in() const { return spec_.in_c * spec_.kh * spec_.kw; }  // as PyTorch counts it (dead taps included)
  bool is_live(int o, int ci, int ky, int kx) const;
  int live_inputs(int o) const { return row_count_[o]; }  // products per output value
  int live_rows() const { return static_cast<int>(rows_.size()); }

  void zero_dead(float* W) const;  // W [out_c, in_c, kh, kw]: dead taps := 0
  void pack(const float* W);       // call whenever W changed, before forward/backward/forward_at

  // in [in_c][B][H][W] -> out [out_c][B][H][W] = act(conv(in) + b[o] + extra[o * B + b])
  // b [out_c] or nullptr; extra [out_c, B] (per-image bias, e.g. a label embedding) or nullptr;
  // act: Identity or ReLU.
  void forward(float* out, const float* in, const float* b, const float* extra, Activation act, int B, int H,
               int W, MaskedConvWorkspace& ws) const;
  // dout: gradient w.r.t. the pre-activation output [out_c][B][H][W]. ADDS into din [in_c][B][H][W],
  // dW [out_c, in_c, kh, kw] (live taps only) and db [out_c]; any of them may be nullptr.
  void backward(float* din, float* dW, float* db, const float* dout, const float* in, int B, int H, int W,
                MaskedConvWorkspace& ws) const;
  // The same convolution at the pixel positions pos[0..npos) (y * W + x) of every image, with the fixed
  // summation order (see the file comment), on PIXEL-MAJOR planes: in [in_c][H*W][B], out [out_c][H*W][B]
  // (the images of one pixel are adjacent, so the samplers' one-pixel steps read whole cache lines).
  // Other positions of out are left untouched.
  void forward_at(float* out, const float* in, const float* b, const float* extra, Activation act, int B, int H,
                  int W, const int* pos, int npos, MaskedConvWorkspace& ws) const;

  // Dependency propagation for receptive fields: out_need [out groups][H*W] (1 = this output matters),
  // ORs into in_need [in groups][H*W] every input (group, pixel) a live tap connects to it.
  void reach_inputs(const uint8_t* out_need, uint8_t* in_need, int H, int W) const;

 private:
  struct Row { int ci, dy, dx, widx; };  // one im2col row: input channel, offset, index into W
  struct Run { int o0, o1, k; };         // output channels [o0, o1) use im2col rows [0, k)
  bool centre_live(int gi, int go) const;
  void epilogue(float* out, const float* b, const float* extra, Activation act, int o0, int o1, int b0, int nb,
                int B, size_t HW) const;
  void im2col(float* cols, const float* in, int b0, int nb, int B, int H, int W) const;
  int chunk_images(int B, int H, int W) const;

  MaskedConvSpec spec_;
  std::vector<Row> rows_;
  std::vector<Run> runs_;
  std::vector<int> runs_by_rows_;  // indices into runs_, largest k first (backward sets dcols with it)
  std::vector<int> row_count_;  // [out_c]
  bool identity_cols_ = false;  // 1x1 with rows == input channels in order: the input IS the im2col matrix
  // Shift-after-multiply path (every output sees every live row, and every live tap covers all input
  // channels, e.g. a one-group 3x3 mask-B): Y = stacked [taps * out_c, in_c] x in (read in place),
  // out = sum over taps of Y_tap shifted; no im2col matrix forward, no col2im backward.
  struct Shift { int dy, dx, tap; };
  void forward_shifted(float* out, const float* in, const float* b, const float* extra, Activation act, int B, int H,
                       int W, MaskedConvWorkspace& ws) const;
  void backward_shifted(float* din, bool want_dW, const float* dout, const float* in, int B, int H, int W,
                        MaskedConvWorkspace& ws) const;
  std::vector<Shift> shifts_;   // non-empty when the shifted path is used
  std::vector<float> stacked_;  // [shifts * out_c, in_c]
  std::vector<float> packed_;   // [out_c, rows]
};

}  // namespace genlab
