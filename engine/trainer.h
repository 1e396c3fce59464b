// Trainer: owns a model, its optimiser, the training/test data and the RNG streams, and runs
// steps in small slices (so the browser can interleave frames). The CLI and the playground API
// both drive training through it; the same config, seed and thread count give bit-identical
// parameters. With 2 engine threads (parallel.h) each batch is split in two halves, one per thread,
// on two copies of the model: the same images and noise as on one thread, and the gradient is the
// same batch mean, summed in a different order, so parameters agree with one thread's to rounding.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "dataset.h"
#include "model.h"
#include "optim.h"
#include "rng.h"

namespace genlab {

struct TrainConfig {
  ModelConfig model;     // includes "model" (kind) and architecture keys
  OptimConfig optim;
  int batch = 64;
  uint64_t seed = 1;
};

struct EvalResult {
  std::string split;
  int n = 0;
  std::map<std::string, double> metrics;  // e.g. nll_nats, bits_per_dim, neg_elbo_nats, neg_iwae_nats, recon, kl, iwae_k
};

struct CurvePoint {
  int64_t step = 0;
  double epoch = 0;
  LossTerms terms;
};

class Trainer {
 public:
  // Validates everything (throws genlab::Error with a clear message); datasets must match the model's shape.
  Trainer(const TrainConfig& cfg, std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test);

  // Runs n optimisation steps; returns the terms of the last step.
  LossTerms run_steps(int n);
  int64_t step() const { return opt_->steps(); }
  double epoch() const;

  // Evaluation on a split ("test" or "train") using the fixed binarisation (binary models);
  // iwae_k > 0 adds -L_K for latent-variable models; max_images <= 0: the whole split.
  EvalResult evaluate(const std::string& split, int iwae_k = 0, int max_images = 0);

  // Mutable access may change the parameters: the batch split's replica copies them again before its next step.
  GenerativeModel& model() {
    replica_fresh_ = false;
    return *model_;
  }
  const GenerativeModel& model() const { return *model_; }
  Optimizer& optimizer() { return *opt_; }
  const Optimizer& optimizer() const { return *opt_; }
  const TrainConfig& config() const { return cfg_; }
  const std::vector<CurvePoint>& curve() const { return curve_; }
  const Dataset& train_data() const { return *train_; }
  const Dataset& test_data() const { return *test_; }
  // Test images in the model's input format (binarised once with kTestBinarizeSeed for binary models).
  const std::vector<float>& test_inputs() const { return test_inputs_; }
  Rng& rng() { return rng_; }

 private:
  void select_batch(int B);                    // the next B images of the epoch: batch_idx_, batch_y_
  void fill_images(int b0, int b1, Rng& rng);  // batch images [b0, b1) into batch_x_ (dynamic binarisation if binary)
  size_t image_draws(int b0, int b1) const;    // Rng::uniform() calls fill_images(b0, b1) makes
  // Gradients of the batch-mean loss into the model's grads; on 2 threads the second half's gradient stays
  // in the replica and split_ tells the optimiser how to combine them.
  LossTerms batch_grads();
  GenerativeModel& synced_replica();  // replica_ (made on first use) holding the model's current parameters

  TrainConfig cfg_;
  std::shared_ptr<const Dataset> train_, test_;
  std::unique_ptr<GenerativeModel> model_;
  std::unique_ptr<GenerativeModel> replica_;  // same config: the second half-batch on the helper thread
  bool replica_fresh_ = false;                 // replica_ holds the model's current parameters
  std::optional<Optimizer::SplitGradient> split_;  // the last batch_grads' halves, when it split the batch
  std::unique_ptr<Optimizer> opt_;
  Rng rng_;
  std::vector<float> batch_x_, test_inputs_;
  std::vector<int> batch_y_, batch_idx_, order_;
  size_t cursor_ = 0;
  std::vector<CurvePoint> curve_;
};

// ---- training checkpoints (shared by the CLI and the playground) ------------------------------------
// safetensors with the parameters, optionally the optimiser moments ("optim.m.<param>", "optim.v.<param>"),
// and __metadata__: "genlab.format" = "1", "step", "model.<key>" (model config), "train.<key>" (batch, seed,
// optimizer, lr, lr_decay, lr_decay_steps, beta1, beta2, eps, momentum, weight_decay, clip_norm), "optim.steps".
std::map<std::string, std::string> training_metadata(const Trainer& t);
std::vector<uint8_t> encode_training_checkpoint(const Trainer& t, bool with_optimizer = true,
                                                const std::map<std::string, std::string>& extra_metadata = {});
struct TrainingCheckpoint {
  TrainConfig config;  // model config + optimiser/batch/seed from the metadata
  int64_t step = 0;
  SafetensorsFile file;
};
// Parses and validates the file and its metadata; throws genlab::Error saying what is wrong.
TrainingCheckpoint decode_training_checkpoint(std::span<const uint8_t> bytes);
// A model built from the checkpoint's config with its parameters loaded (throws on any mismatch).
std::unique_ptr<GenerativeModel> model_from_checkpoint(const TrainingCheckpoint& c);
// Loads parameters (and optimiser moments and step, when present) into a trainer of the same config;
// the trainer is unchanged on error.
void restore_trainer(Trainer& t, const TrainingCheckpoint& c);

}  // namespace genlab
