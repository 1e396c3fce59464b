// Optimisers: one flat loop over a ParamSet's buffers (values + grads). The optimiser owns its
// moment buffers (one allocation each, same layout as the parameters) and its step count.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace genlab {

// lr(step) = base * decay^(step / decay_steps)   (decay = 1: constant)
struct LrSchedule {
  float base = 1e-3f;
  float decay = 1.f;
  int decay_steps = 1000;
  float at(int64_t step) const;
};

struct OptimConfig {
  std::string kind = "adam";  // "adam" or "sgd"
  LrSchedule lr;
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;  // Adam
  float momentum = 0.9f;                             // SGD
  float weight_decay = 0.f;                          // L2 added to the gradient
  float clip_norm = 0.f;                             // 0 = no clipping; else clip the global grad norm
};
// Throws genlab::Error on out-of-range values (lr <= 0 or > 10, betas outside [0,1), ...).
void validate(const OptimConfig& c);

class Optimizer {
 public:
  Optimizer(size_t n_params, OptimConfig cfg);
  // One update; returns the gradient norm before clipping. grads may be modified (clipping).
  // split (optional): the gradient is w1 * grads + w2 * split->second (a batch computed in two halves);
  // grads receives that sum. mirror (if not empty): receives a copy of the updated params. Both are
  // folded into the update's own pass over the parameters where possible.
  struct SplitGradient {
    std::span<const float> second;
    float w1 = 1.f, w2 = 0.f;
  };
  float step(std::span<float> params, std::span<float> grads, const SplitGradient* split = nullptr,
             std::span<float> mirror = {});
  int64_t steps() const { return t_; }
  const OptimConfig& config() const { return cfg_; }
  // State for checkpoints / autosave: moment buffers and the step count.
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }
  void set_steps(int64_t t) { t_ = t; }

 private:
  OptimConfig cfg_;
  std::vector<float> m_, v_;  // Adam: first/second moments; SGD: m_ = velocity, v_ unused (empty)
  int64_t t_ = 0;
};

// Global L2 norm of grads; if max_norm > 0 and the norm exceeds it, scales grads down to max_norm.
// grad_sq >= 0: the sum of squares of grads, already known.
float clip_grad_norm(std::span<float> grads, float max_norm, double grad_sq = -1.0);

}  // namespace genlab
