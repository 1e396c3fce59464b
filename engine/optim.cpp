// Adam and SGD-with-momentum as one flat loop over a model's parameter buffer, following PyTorch's
// torch.optim.Adam / torch.optim.SGD (1.13, single-tensor path) operation by operation so the same
// gradients give the same updates: L2 weight decay added to the gradient, Adam's bias corrections in
// double, SGD's momentum buffer equal to the first gradient. Clipping follows
// torch.nn.utils.clip_grad_norm_ (scale = max_norm / (norm + 1e-6) when below 1).
#include "optim.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "error.h"
#include "parallel.h"

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

namespace {

// Sum of squares in double over four partial sums (the lane of each element is fixed by its index, so
// the result is reproducible); they break the add latency chain and vectorise.
double sum_of_squares(const float* g, size_t n) {
  double ss[4] = {0.0, 0.0, 0.0, 0.0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (size_t k = 0; k < 4; ++k) ss[k] += static_cast<double>(g[i + k]) * g[i + k];
  for (; i < n; ++i) ss[0] += static_cast<double>(g[i]) * g[i];
  return (ss[0] + ss[1]) + (ss[2] + ss[3]);
}

}  // namespace

float clip_grad_norm(std::span<float> grads, float max_norm, double grad_sq) {
  if (grad_sq < 0.0) {
    // On 2 engine threads each half sums its own squares (the same norm up to rounding).
    double halves[2] = {0.0, 0.0};
    for_halves(grads.size(), [&](size_t a, size_t b) { halves[a == 0 ? 0 : 1] = sum_of_squares(grads.data() + a, b - a); });
    grad_sq = halves[0] + halves[1];
  }
  const double norm = std::sqrt(grad_sq);
  if (max_norm > 0.f) {
    const double coef = static_cast<double>(max_norm) / (norm + 1e-6);
    if (coef < 1.0) {
      const float c = static_cast<float>(coef);
      for_halves(grads.size(), [&](size_t a, size_t b) {
        for (size_t i = a; i < b; ++i) grads[i] *= c;
      });
    }
  }
  return static_cast<float>(norm);
}

namespace {


struct AdamCoefficients {
  float b1, b2, one_minus_b1, one_minus_b2, eps, step_size, bc2_sqrt, weight_decay;
};

// One element of Adam (torch.optim.Adam, single-tensor path, operation by operation): updates the
// moments, returns the new parameter. The loops below vectorise only without sqrt's errno branch: the
// project compiles with -fno-math-errno (CMakeLists.txt).
inline float adam_element(float p, float g, float& m, float& v, const AdamCoefficients& c) {
  m = m * c.b1 + c.one_minus_b1 * g;
  v = v * c.b2 + c.one_minus_b2 * g * g;
  const float denom = std::sqrt(v) / c.bc2_sqrt + c.eps;
  return p - c.step_size * (m / denom);
}

// One flat Adam update; mirror (may be null) receives the updated values.
template <bool kMirror>
void adam_update(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                 float* __restrict mirror, size_t n, const AdamCoefficients c) {
  auto body = [&](size_t i, float gi) {
    p[i] = adam_element(p[i], gi, m[i], v[i], c);
    if constexpr (kMirror) mirror[i] = p[i];
  };
  if (c.weight_decay != 0.f) {
    for (size_t i = 0; i < n; ++i) body(i, g[i] + c.weight_decay * p[i]);
  } else {
    for (size_t i = 0; i < n; ++i) body(i, g[i]);
  }
}

// g = w1 * g + w2 * h over [0, n); returns the sum of squares of the result (lanes as in sum_of_squares).
double combine_halves(float* __restrict g, const float* __restrict h, float w1, float w2, size_t n) {
  double ss[4] = {0.0, 0.0, 0.0, 0.0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (size_t k = 0; k < 4; ++k) {
      const float x = w1 * g[i + k] + w2 * h[i + k];
      g[i + k] = x;
      ss[k] += static_cast<double>(x) * x;
    }
  for (; i < n; ++i) {
    g[i] = w1 * g[i] + w2 * h[i];
    ss[0] += static_cast<double>(g[i]) * g[i];
  }
  return (ss[0] + ss[1]) + (ss[2] + ss[3]);
}

// Adam without clipping, in one pass that also returns the sum of squares of the gradient (summed per
// block of 256 right after the block's update, still in L1: a reduction inside the update loop would
// keep it from vectorising). kSplit: the gradient is w1 * g + w2 * h, written back into g. kMirror:
// mirror receives the updated values.
template <bool kSplit, bool kMirror, bool kWeightDecay>
double adam_update_fused(float* __restrict p, float* __restrict g, const float* __restrict h, float w1, float w2,
                         float* __restrict m, float* __restrict v, float* __restrict mirror, size_t n,
                         const AdamCoefficients c) {
  double total = 0.0;
  for (size_t i0 = 0; i0 < n; i0 += 256) {
    const size_t i1 = std::min(n, i0 + 256);
    for (size_t i = i0; i < i1; ++i) {
      float x = g[i];
      if constexpr (kSplit) {
        x = w1 * x + w2 * h[i];
        g[i] = x;
      }
      p[i] = adam_element(p[i], kWeightDecay ? x + c.weight_decay * p[i] : x, m[i], v[i], c);
      if constexpr (kMirror) mirror[i] = p[i];
    }
    total += sum_of_squares(g + i0, i1 - i0);
  }
  return total;
}

// One flat SGD update (torch.optim.SGD, dampening 0, no Nesterov); the first step sets the buffer to g.
template <bool kWeightDecay, bool kMomentum>
void sgd_update(float* __restrict p, const float* __restrict g, float* __restrict buf, size_t n, float lr,
                float momentum, float weight_decay, bool first) {
  const float keep = first ? 0.f : momentum;  // buf = 0 * buf + g on the first step (buf starts at 0)
  for (size_t i = 0; i < n; ++i) {
    const float gi = kWeightDecay ? g[i] + weight_decay * p[i] : g[i];
    float d = gi;
    if constexpr (kMomentum) {
      d = buf[i] * keep + gi;
      buf[i] = d;
    }
    p[i] -= lr * d;
  }
}

}  // namespace

float Optimizer::step(std::span<float> params, std::span<float> grads, const SplitGradient* split,
                      std::span<float> mirror) {
  require(params.size() == m_.size() && grads.size() == m_.size() && (mirror.empty() || mirror.size() == m_.size()) &&
              (!split || split->second.size() == m_.size()),
          "optimiser: buffer size " + std::to_string(params.size()) + "/" + std::to_string(grads.size()) +
              " does not match the " + std::to_string(m_.size()) + " parameters it was made for");
  const size_t n = m_.size();
  const bool adam = cfg_.kind == "adam";
  // Adam without clipping takes the norm (and combines a split gradient) in its own pass; otherwise the
  // norm, and the combination of a split gradient, are passes of their own.
  const bool fused = adam && cfg_.clip_norm == 0.f;
  double grad_sq = -1.0;
  if (split && !fused) {
    double sq[2] = {0.0, 0.0};
    for_halves(n, [&](size_t a, size_t b) {
      sq[a == 0 ? 0 : 1] = combine_halves(grads.data() + a, split->second.data() + a, split->w1, split->w2, b - a);
    });
    grad_sq = sq[0] + sq[1];
  }
  float norm = fused ? 0.f : clip_grad_norm(grads, cfg_.clip_norm, grad_sq);
  const float lr = cfg_.lr.at(t_);
  ++t_;
  float* p = params.data();
  const float* g = grads.data();
  const float wd = cfg_.weight_decay;
  if (adam) {
    const float b1 = cfg_.beta1, b2 = cfg_.beta2;
    // Bias corrections in double, as PyTorch computes them in Python floats.
    const double bc1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(t_));
    const double bc2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(t_));
    const AdamCoefficients c{b1,
                             b2,
                             static_cast<float>(1.0 - static_cast<double>(b1)),
                             static_cast<float>(1.0 - static_cast<double>(b2)),
                             cfg_.eps,
                             static_cast<float>(static_cast<double>(lr) / bc1),
                             static_cast<float>(std::sqrt(bc2)),
                             wd};
    float* m = m_.data();
    float* v = v_.data();
    float* q = mirror.data();
    if (fused) {
      double sq[2] = {0.0, 0.0};
      for_halves(n, [&](size_t a, size_t b) {
        float* ga = grads.data() + a;
        const float* ha = split ? split->second.data() + a : nullptr;
        const float w1 = split ? split->w1 : 1.f, w2 = split ? split->w2 : 0.f;
        float* qa = q ? q + a : nullptr;
        const size_t na = b - a;
        auto run = [&]<bool kSplit, bool kMirror>() {
          return wd != 0.f ? adam_update_fused<kSplit, kMirror, true>(p + a, ga, ha, w1, w2, m + a, v + a, qa, na, c)
                           : adam_update_fused<kSplit, kMirror, false>(p + a, ga, ha, w1, w2, m + a, v + a, qa, na, c);
        };
        sq[a == 0 ? 0 : 1] = split ? (q ? run.template operator()<true, true>() : run.template operator()<true, false>())
                                   : (q ? run.template operator()<false, true>() : run.template operator()<false, false>());
      });
      norm = static_cast<float>(std::sqrt(sq[0] + sq[1]));
    } else {
      for_halves(n, [&](size_t a, size_t b) {
        if (q) adam_update<true>(p + a, g + a, m + a, v + a, q + a, b - a, c);
        else adam_update<false>(p + a, g + a, m + a, v + a, nullptr, b - a, c);
      });
    }
  } else {
    const float mom = cfg_.momentum;
    const bool first = t_ == 1;
    float* buf = m_.data();
    for_halves(n, [&](size_t a, size_t b) {
      float* pa = p + a;
      const float* ga = g + a;
      float* ba = buf + a;
      const size_t na = b - a;
      if (wd != 0.f && mom != 0.f) sgd_update<true, true>(pa, ga, ba, na, lr, mom, wd, first);
      else if (wd != 0.f) sgd_update<true, false>(pa, ga, ba, na, lr, mom, wd, first);
      else if (mom != 0.f) sgd_update<false, true>(pa, ga, ba, na, lr, mom, wd, first);
      else sgd_update<false, false>(pa, ga, ba, na, lr, mom, wd, first);
      if (!mirror.empty()) std::copy(pa, pa + na, mirror.data() + a);
    });
  }
  return norm;
}

}  // namespace genlab
