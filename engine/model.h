// The common face of every genlab model (AE, VAE, PixelCNN family): the trainer, the CLI and the
// playground API only talk to this interface. A model is plain data (a ParamSet + its config); it
// keeps scratch activations for backward but no optimiser state.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "params.h"
#include "rng.h"

namespace genlab {

// Model configuration as string key/values: goes into checkpoint __metadata__ and URLs unchanged.
using ModelConfig = std::map<std::string, std::string>;

// Loss terms of one batch, per-image means in nats. "loss" is what is minimised; the other
// entries are what the UI and CLI report (e.g. "recon", "kl" for a VAE; "nll" for PixelCNN).
struct LossTerms {
  double loss = 0.0;
  std::map<std::string, double> terms;
  std::vector<double> kl_per_dim;  // VAE only: mean KL of each latent dimension over the batch
};

// Input format a model expects: binary (0/1 floats; dynamic binarisation in training) or
// grey levels (pixel/255 in [0,1], or integer levels 0..255 for 256-way models).
enum class PixelFormat { Binary, Grey01, Levels256 };

// One step of ancestral sampling, reported by autoregressive samplers (generation-order replay).
struct SampleTraceStep {
  int image = 0;                  // index of the image in the batch
  int pixel = 0;                  // raster index (y * W + x)
  int channel = 0;                // sub-pixel (R, G, B) for colour models
  std::vector<float> probs;       // predictive distribution p(x_i | x_<i): 2 or 256 entries
  float value = 0.f;              // sampled value
};

struct SampleOptions {
  int n = 16;
  float temperature = 1.f;
  int label = -1;                            // conditional models: class to generate (-1: random)
  const float* keep = nullptr;               // completion: [n, C, H, W] values to keep where keep_mask = 1
  const uint8_t* keep_mask = nullptr;        // [C*H*W], shared by all n images
  std::vector<SampleTraceStep>* trace = nullptr;  // autoregressive models: record every step (image 0 only)
  std::string sampler = "cached";            // PixelCNN: "naive" or "cached"
};

class GenerativeModel {
 public:
  virtual ~GenerativeModel() = default;
  virtual std::string kind() const = 0;            // "ae", "vae", "pixelcnn", "gated-pixelcnn"
  virtual ModelConfig config() const = 0;          // round-trips through make_model()
  virtual ParamSet& params() = 0;
  virtual const ParamSet& params() const = 0;
  virtual int channels() const = 0;
  virtual int height() const = 0;
  virtual int width() const = 0;
  virtual PixelFormat pixel_format() const = 0;
  virtual bool conditional() const { return false; }
  virtual int num_classes() const { return 0; }
  virtual bool exact_likelihood() const { return false; }  // autoregressive: true

  // x: [B, C, H, W] in the model's pixel format; labels: [B] or nullptr. Runs forward AND backward,
  // ADDING parameter gradients of the batch-mean loss. rng supplies the model's own noise (VAE eps).
  virtual LossTerms train_step_grads(const float* x, const int* labels, int B, Rng& rng) = 0;
  // Normal draws train_step_grads and evaluate take from rng per image, in image order (VAE: its eps).
  // The trainer's batch split uses it to give the second half the same noise it gets on one thread.
  virtual int noise_per_image() const { return 0; }
  // Forward only. The same terms, no gradients.
  virtual LossTerms evaluate(const float* x, const int* labels, int B, Rng& rng) = 0;
  // Generates opt.n images into out [n, C, H, W] (same format as the input data, as floats).
  virtual void sample(const SampleOptions& opt, Rng& rng, float* out) = 0;
};

// Creates a model from a config (kind is config.at("model")); throws genlab::Error on bad values.
// Each model family registers itself here (see model_registry.cpp).
std::unique_ptr<GenerativeModel> make_model(const ModelConfig& config, uint64_t init_seed);

}  // namespace genlab
