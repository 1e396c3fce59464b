// The autoencoder family of the lecture: a deterministic autoencoder (AE, L2 reconstruction) and a
// variational autoencoder (VAE) trained on the negative ELBO, with MLP or convolutional encoder and
// decoder. Both implement GenerativeModel (model.h); the VAE adds what the playground shows: encode,
// decode, reconstruct, prior samples, interpolation and traversal in latent space, and the
// importance-weighted bound L_K used to score it.
//
// Config keys (strings; every value is validated, unknown keys are rejected):
//   model=vae|ae  arch=mlp|conv  hidden=400  latent=20 (2..64)  activation=relu|leaky_relu|elu|tanh|sigmoid
//   likelihood=bernoulli|gaussian (VAE)  beta=1 (VAE)  filters=32 (conv)  width=28 height=28 channels=1
// Pixel formats: a Bernoulli VAE reads binary images (0/1); the AE and the Gaussian VAE read grey
// levels in [0,1]. The trainer feeds Grey01 models uniformly dequantised pixels x = (pixel + u) / 256,
// so the Gaussian VAE's continuous density plus D*log(256) is a bound on the discrete 8-bit data.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layers.h"
#include "model.h"

namespace genlab {

// Parsed and validated autoencoder configuration.
struct AutoencoderConfig {
  std::string model = "vae";        // "vae" or "ae"
  std::string arch = "mlp";         // "mlp" or "conv"
  int hidden = 400;                 // width of the hidden fully connected layer(s)
  int latent = 20;                  // size of z
  std::string likelihood = "bernoulli";  // VAE decoder: "bernoulli" (logits) or "gaussian" (mean + logvar)
  float beta = 1.f;                 // weight of the KL term (beta-VAE); 1 = the ELBO
  Activation activation = Activation::ReLU;
  int filters = 32;                 // conv arch: channels of the first conv layer (the second has 2x)
  int width = 28, height = 28, channels = 1;

  static AutoencoderConfig parse(const ModelConfig& c);  // throws genlab::Error naming the bad key/value
  ModelConfig to_map() const;
  int dim() const { return width * height * channels; }
};

// A feed-forward stack of layers (Linear, Conv2d, ConvTranspose2d, activation) whose parameters live
// in a shared ParamSet. It keeps every activation of the last forward pass for backward.
class LayerStack {
 public:
  struct Layer {
    enum class Kind { Linear, Conv, ConvT, Act } kind = Kind::Linear;
    int weight = -1, bias = -1;   // ParamSet ids
    int in_features = 0, out_features = 0;  // Linear
    Conv2dShape conv;             // Conv (batch set per call)
    ConvTranspose2dShape convt;   // ConvT (batch set per call)
    Activation act = Activation::Identity;
    size_t in_size = 0, out_size = 0;  // floats per example
  };

  // Builders; shapes are per example. Parameter names are prefix + "." + name + ".weight"/".bias".
  void linear(ParamSet& p, const std::string& name, int in, int out);
  void conv(ParamSet& p, const std::string& name, int in_c, int in_h, int in_w, int out_c, int k, int stride, int pad);
  void conv_transpose(ParamSet& p, const std::string& name, int in_c, int in_h, int in_w, int out_c, int k, int stride,
                      int pad);
  void activation(Activation a);

  // PyTorch's default init for every weight and bias: U(+-1/sqrt(fan_in)), layer by layer, W then b.
  void init(ParamSet& p, Rng& rng) const;
  // in [B, in_size] -> returns out [B, out_size] (valid until the next forward). `in` must stay alive
  // until backward.
  const float* forward(const ParamSet& p, const float* in, int B);
  // dout [B, out_size] -> ADDS parameter gradients; din (optional) [B, in_size] is ADDED into.
  void backward(ParamSet& p, const float* dout, float* din, int B);

  size_t in_size() const { return layers_.empty() ? 0 : layers_.front().in_size; }
  size_t out_size() const { return layers_.empty() ? 0 : layers_.back().out_size; }

 private:
  std::vector<Layer> layers_;
  const float* input_ = nullptr;
  std::vector<std::vector<float>> outs_, grads_;
  std::vector<float> workspace_;
};

// Shared by AE and VAE: config, parameters, encoder and decoder stacks.
class AutoencoderBase : public GenerativeModel {
 public:
  explicit AutoencoderBase(const AutoencoderConfig& cfg);
  ModelConfig config() const override { return cfg_.to_map(); }
  ParamSet& params() override { return params_; }
  const ParamSet& params() const override { return params_; }
  int channels() const override { return cfg_.channels; }
  int height() const override { return cfg_.height; }
  int width() const override { return cfg_.width; }
  const AutoencoderConfig& settings() const { return cfg_; }
  int latent() const { return cfg_.latent; }
  int dim() const { return cfg_.dim(); }

 protected:
  // Encoder trunk: x -> hidden features (after the activation); returns the feature size.
  int build_encoder_trunk();
  // Decoder: z -> [outputs_per_pixel * C, H, W] per example (no final activation).
  void build_decoder(int outputs_per_pixel);
  AutoencoderConfig cfg_;
  ParamSet params_;
  LayerStack encoder_, decoder_;
};

// Deterministic autoencoder: z = enc(x), x_hat = dec(z), loss = per-image sum of squared errors.
class Autoencoder : public AutoencoderBase {
 public:
  Autoencoder(const AutoencoderConfig& cfg, uint64_t init_seed);
  std::string kind() const override { return "ae"; }
  PixelFormat pixel_format() const override { return PixelFormat::Grey01; }
  LossTerms train_step_grads(const float* x, const int* labels, int B, Rng& rng) override;
  LossTerms evaluate(const float* x, const int* labels, int B, Rng& rng) override;
  // An AE has no prior: throws genlab::Error (use a VAE to sample).
  void sample(const SampleOptions& opt, Rng& rng, float* out) override;

  // x [B, D] -> z [B, latent]: the features exported for downstream tasks.
  void encode(const float* x, int B, float* z);
  // z [B, latent] -> x_hat [B, D]
  void decode(const float* z, int B, float* x_hat);
  void reconstruct(const float* x, int B, float* x_hat);

 private:
  LossTerms forward_loss(const float* x, int B);
  const float* x_hat_ = nullptr;  // decoder output of the last forward
  std::vector<float> dout_, dz_;
};

// Variational autoencoder with a diagonal Gaussian posterior q(z|x) = N(mu, exp(logvar)), prior N(0, I),
// and a Bernoulli (logits) or Gaussian (mean, logvar per pixel) decoder p(x|z).
class VariationalAutoencoder : public AutoencoderBase {
 public:
  VariationalAutoencoder(const AutoencoderConfig& cfg, uint64_t init_seed);
  std::string kind() const override { return "vae"; }
  PixelFormat pixel_format() const override {
    return cfg_.likelihood == "bernoulli" ? PixelFormat::Binary : PixelFormat::Grey01;
  }
  bool gaussian() const { return cfg_.likelihood == "gaussian"; }

  // -ELBO = recon + beta*KL with one reparameterised sample per image; terms "recon", "kl", "elbo"
  // (the bound itself, = -(recon + kl)), kl_per_dim. eps ~ N(0, I) drawn from rng in [B, latent] order.
  LossTerms train_step_grads(const float* x, const int* labels, int B, Rng& rng) override;
  int noise_per_image() const override { return latent(); }
  LossTerms evaluate(const float* x, const int* labels, int B, Rng& rng) override;
  // The same with caller-supplied noise eps [B, latent] (gradient checks hold it fixed).
  LossTerms loss_with_noise(const float* x, const float* eps, int B, bool with_grads);
  // Prior samples: z ~ N(0, temperature^2 I), decoded to means (Bernoulli probabilities / Gaussian means).
  void sample(const SampleOptions& opt, Rng& rng, float* out) override;

  // x [B, D] -> mu, logvar [B, latent]
  void encode(const float* x, int B, float* mu, float* logvar);
  // z [B, latent] -> [B, D] Bernoulli probabilities or Gaussian means; logvar_out (optional, Gaussian) [B, D].
  void decode(const float* z, int B, float* out, float* logvar_out = nullptr);
  // Decoded posterior mean: decode(mu(x)).
  void reconstruct(const float* x, int B, float* out);

  // -L_K per image (nats): L_K = log (1/K) sum_k p(x, z_k) / q(z_k | x), z_k ~ q(z|x), via logsumexp.
  // L_1 is the single-sample ELBO estimator with a Monte Carlo KL. eps drawn from rng in [B, K, latent] order.
  std::vector<double> neg_iwae_bound(const float* x, int B, int K, Rng& rng);
  // Normal draws neg_iwae_bound takes per image.
  size_t iwae_noise_per_image(int K) const { return static_cast<size_t>(K) * latent(); }

  // Latent-space paths (static helpers on codes of size Z): steps >= 2 points from z0 to z1 inclusive.
  static std::vector<float> interpolate_linear(const float* z0, const float* z1, int Z, int steps);
  static std::vector<float> interpolate_spherical(const float* z0, const float* z1, int Z, int steps);
  // Copies of z with dimension `dim` set to each of `values` -> [values.size(), Z].
  static std::vector<float> traverse(const float* z, int Z, int dim, const std::vector<float>& values);

 private:
  // log p(x | z) per row of z [R, latent] given images x_rows [R, D]; decoder forward only.
  void decoder_log_likelihood(const float* const* x_rows, const float* z, int R, double* out);
  void heads_forward(const float* x, int B);  // encoder -> mu_, logvar_
  std::vector<float> mu_, logvar_, z_, eps_, dec_grad_, dmu_, dlogvar_, dz_, dhead_, tmp_;
  const float* head_in_ = nullptr;  // encoder output kept for backward of the heads
  int mu_w_ = -1, mu_b_ = -1, lv_w_ = -1, lv_b_ = -1;
  int head_in_size_ = 0;
};

std::unique_ptr<GenerativeModel> make_autoencoder_model(const ModelConfig& config, uint64_t init_seed);

}  // namespace genlab
