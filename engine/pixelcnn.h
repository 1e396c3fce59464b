// Autoregressive image models: PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks")
// and Gated PixelCNN ("Conditional Image Generation with PixelCNN Decoders"), optionally
// class-conditional p(x | y) through a learned label bias in every layer.
//
//   p(x) = prod_i p(x_i | x_<i), pixels in raster order, sub-pixels R -> G -> B.
//
// Training and evaluation are one parallel pass (masked convolutions, masked_conv.h); the likelihood
// is exact (nats per image and bits/dim). Sampling is sequential, with two samplers that give
// identical images for the same seed: "naive" (a full forward pass for every sub-pixel) and "cached"
// (per-layer activation caches; each step computes only the new position in every layer, plus one
// row of the vertical stack per image row for the gated model: "Fast Generation for Convolutional
// Autoregressive Models", Ramachandran et al. 2017).
//
// Config keys (make_model): model = pixelcnn | gated-pixelcnn, channels, layers, levels (2: Bernoulli
// logits on binary images; 256: softmax over grey levels per sub-pixel), width, height,
// image_channels (1 or 3), conditional (0|1), num_classes. Defaults of model=pixelcnn are PixelCNN-S:
// 7x7 mask-A conv 1->32, ReLU; 5 x [h + ReLU(3x3 mask-B conv 32->32 (h))]; ReLU(1x1 32->32); 1x1 32->1
// (48,929 parameters).
#pragma once
#include <cstdint>
#include <vector>

#include "model.h"

namespace genlab {

class AutoregressiveModel : public GenerativeModel {
 public:
  bool exact_likelihood() const override { return true; }
  // 2 (Bernoulli logit per sub-pixel) or 256 (softmax over levels per sub-pixel).
  virtual int levels() const = 0;
  // Exact -log p(x | y) in nats of each image of x [B, C, H, W] (labels [B] for conditional models).
  virtual std::vector<double> nll_per_image(const float* x, const int* labels, int B) = 0;
  // Output logits of the parallel pass, [B, C * L, H, W], L = 1 (levels 2) or 256; channel c * L + v.
  virtual void forward_logits(const float* x, const int* labels, int B, std::vector<float>& out) = 0;
  // The input sub-pixels that can influence the predictive distribution of sub-pixel (pixel, channel),
  // found by propagating dependencies backwards through the actual layer taps. Returns [C * H * W],
  // 1 = can influence. Plain PixelCNN shows its blind spot (up-right pixels it never sees); the gated
  // model has none.
  virtual std::vector<uint8_t> receptive_field(int pixel, int channel) const = 0;
};

// The same queries on a GenerativeModel; throw genlab::Error if it is not autoregressive or the
// pixel/channel is out of range.
AutoregressiveModel& as_autoregressive(GenerativeModel& model);
const AutoregressiveModel& as_autoregressive(const GenerativeModel& model);
std::vector<uint8_t> receptive_field(const GenerativeModel& model, int pixel, int channel = 0);

// Model family factory (see model_registry.cpp): nullptr for kinds other than pixelcnn / gated-pixelcnn.
std::unique_ptr<GenerativeModel> make_pixelcnn_model(const ModelConfig& config, uint64_t init_seed);

}  // namespace genlab
