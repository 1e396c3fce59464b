// Adam and SGD-with-momentum as one flat loop over a model's parameter buffer, following PyTorch's
// torch.optim.Adam / torch.optim.SGD (1.13, single-tensor path) operation by operation so the same
// gradients give the same updates: L2 weight decay added to the gradient, Adam's bias corrections in
// double, SGD's momentum buffer equal to the first gradient. Clipping follows
// torch.nn.utils.clip_grad_norm_ (scale = max_norm / (norm + 1e-6) when below 1).
#include "optim.h"

#include <cmath>
#include <sstream>

#include "error.h"

namespace genlab {

float LrSchedule::at(int64_t step) const {
  if (decay == 1.f || decay_steps <= 0 || step <= 0) return base;
  // Staircase decay (torch.optim.lr_scheduler.StepLR with step_size = decay_steps, gamma = decay).
  return static_cast<float>(static_cast<double>(base) *
                            std::pow(static_cast<double>(decay), static_cast<double>(step / decay_steps)));
}

namespace {
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
void check_range(bool ok, const char* what, double v, const char* expected) {
  if (!ok) throw Error(std::string("optimiser: ") + what + " = " + num(v) + " is out of range (expected " + expected + ")");
}
}  // namespace

void validate(const OptimConfig& c) {
  if (c.kind != "adam" && c.kind != "sgd")
    throw Error("optimiser: unknown kind '" + c.kind + "' (expected adam or sgd)");
  // Written as !(in range) so NaN fails every check.
  check_range(c.lr.base > 0.f && c.lr.base <= 10.f, "lr", c.lr.base, "0 < lr <= 10");
  check_range(c.lr.decay > 0.f && c.lr.decay <= 1.f, "lr_decay", c.lr.decay, "0 < decay <= 1");
  check_range(c.lr.decay_steps >= 1, "lr_decay_steps", c.lr.decay_steps, ">= 1");
  check_range(c.beta1 >= 0.f && c.beta1 < 1.f, "beta1", c.beta1, "0 <= beta1 < 1");
  check_range(c.beta2 >= 0.f && c.beta2 < 1.f, "beta2", c.beta2, "0 <= beta2 < 1");
  check_range(c.eps > 0.f && c.eps <= 1.f, "eps", c.eps, "0 < eps <= 1");
  check_range(c.momentum >= 0.f && c.momentum < 1.f, "momentum", c.momentum, "0 <= momentum < 1");
  check_range(c.weight_decay >= 0.f && c.weight_decay <= 1.f, "weight_decay", c.weight_decay, "0 <= weight_decay <= 1");
  check_range(c.clip_norm >= 0.f && std::isfinite(c.clip_norm), "clip_norm", c.clip_norm, ">= 0, 0 = off");
}

Optimizer::Optimizer(size_t n_params, OptimConfig cfg) : cfg_(std::move(cfg)) {
  validate(cfg_);
  m_.assign(n_params, 0.f);
  if (cfg_.kind == "adam") v_.assign(n_params, 0.f);
}

float clip_grad_norm(std::span<float> grads, float max_norm) {
  double ss = 0.0;
  for (float g : grads) ss += static_cast<double>(g) * g;
  const double norm = std::sqrt(ss);
  if (max_norm > 0.f) {
    const double coef = static_cast<double>(max_norm) / (norm + 1e-6);
    if (coef < 1.0) {
      const float c = static_cast<float>(coef);
      for (float& g : grads) g *= c;
    }
  }
  return static_cast<float>(norm);
}

float Optimizer::step(std::span<float> params, std::span<float> grads) {
  require(params.size() == m_.size() && grads.size() == m_.size(),
          "optimiser: buffer size " + std::to_string(params.size()) + "/" + std::to_string(grads.size()) +
              " does not match the " + std::to_string(m_.size()) + " parameters it was made for");
  const float norm = clip_grad_norm(grads, cfg_.clip_norm);
  const float lr = cfg_.lr.at(t_);
  ++t_;
  const size_t n = m_.size();
  float* p = params.data();
  float* g = grads.data();
  float* m = m_.data();
  const float wd = cfg_.weight_decay;
  if (cfg_.kind == "adam") {
    float* v = v_.data();
    const float b1 = cfg_.beta1, b2 = cfg_.beta2, eps = cfg_.eps;
    const float one_minus_b1 = static_cast<float>(1.0 - static_cast<double>(b1));
    const float one_minus_b2 = static_cast<float>(1.0 - static_cast<double>(b2));
    const double bc1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(t_));
    const float step_size = static_cast<float>(static_cast<double>(lr) / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    for (size_t i = 0; i < n; ++i) {
      const float gi = wd != 0.f ? g[i] + wd * p[i] : g[i];
      m[i] = m[i] * b1 + one_minus_b1 * gi;
      v[i] = v[i] * b2 + one_minus_b2 * gi * gi;
      const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      p[i] -= step_size * (m[i] / denom);
    }
  } else {
    const float mom = cfg_.momentum;
    const bool first = t_ == 1;
    for (size_t i = 0; i < n; ++i) {
      const float gi = wd != 0.f ? g[i] + wd * p[i] : g[i];
      float d = gi;
      if (mom != 0.f) {
        m[i] = first ? gi : m[i] * mom + gi;
        d = m[i];
      }
      p[i] -= lr * d;
    }
  }
  return norm;
}

}  // namespace genlab
