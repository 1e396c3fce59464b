// The one finite-difference gradient checker of the test suite (cf. tiny-dnn gradient_check.h,
// ggml test-backend-ops GRAD mode). Every layer, loss and model checks its backward pass with it.
//
// Usage: compute the analytic gradients once with your backward code into separate buffers, then
//
//   auto loss = [&] { return forward_loss_in_double(); };   // reads the current float inputs
//   GradCheckReport r = gradcheck(loss, {{"W", W.data(), dW.data(), W.size()},
//                                        {"x", x.data(), dx.data(), x.size()}}, {.step = 1e-2});
//   EXPECT_TRUE(r.ok) << r.summary();
//
// The checker perturbs each float entry in place by +-step, evaluates the scalar loss (double), and
// compares the central difference (f+ - f-) / (x+ - x-), using the float values actually stored, with
// the analytic gradient. An entry passes when |analytic - numeric| <= atol + rtol * max(|a|, |n|).
// For float layers, make the loss a random projection sum_i r_i out_i accumulated in double; use a
// larger step for (piecewise) linear ops (rounding noise ~ 1e-7 |f| / step) and a smaller one for
// curved ops (truncation error ~ step^2 f''').
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "params.h"
#include "rng.h"

namespace genlab::test {

// A float buffer under test and its analytic gradient (same length).
struct GradTensor {
  std::string name;
  float* values = nullptr;
  const float* analytic = nullptr;
  size_t n = 0;
};

struct GradCheckOptions {
  double step = 1e-3;
  double rtol = 1e-3;
  double atol = 1e-5;
  // Check at most this many entries per tensor (spread deterministically over the tensor); 0 = all.
  size_t max_per_tensor = 0;
};

struct GradCheckReport {
  bool ok = true;
  size_t checked = 0, failed = 0;
  double worst_ratio = 0.0;    // max over entries of |a - n| / (atol + rtol * max(|a|, |n|)); > 1 fails
  double worst_rel_err = 0.0;  // |a - n| / max(|a|, |n|) at that entry
  std::string worst_where;     // "W[17]: analytic=..., numeric=..."
  std::string summary() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%zu/%zu entries failed; worst ratio %.3g (rel err %.3g) at ", failed, checked,
                  worst_ratio, worst_rel_err);
    return buf + worst_where;
  }
};

inline GradCheckReport gradcheck(const std::function<double()>& loss, const std::vector<GradTensor>& tensors,
                                 const GradCheckOptions& opt = {}) {
  GradCheckReport r;
  for (const GradTensor& t : tensors) {
    const size_t count = opt.max_per_tensor == 0 ? t.n : std::min(t.n, opt.max_per_tensor);
    for (size_t k = 0; k < count; ++k) {
      // Spread the sampled entries over the whole tensor (first, last and evenly in between).
      const size_t i = count == t.n ? k : (count == 1 ? 0 : k * (t.n - 1) / (count - 1));
      const float x0 = t.values[i];
      const float xp = static_cast<float>(x0 + opt.step), xm = static_cast<float>(x0 - opt.step);
      t.values[i] = xp;
      const double fp = loss();
      t.values[i] = xm;
      const double fm = loss();
      t.values[i] = x0;
      const double numeric = (fp - fm) / (static_cast<double>(xp) - static_cast<double>(xm));
      const double analytic = t.analytic[i];
      const double diff = std::fabs(analytic - numeric);
      const double mag = std::max(std::fabs(analytic), std::fabs(numeric));
      double ratio = diff / (opt.atol + opt.rtol * mag);
      if (std::isnan(ratio)) ratio = INFINITY;
      ++r.checked;
      if (ratio > 1.0) {
        ++r.failed;
        r.ok = false;
      }
      if (ratio > r.worst_ratio || r.worst_where.empty()) {
        r.worst_ratio = ratio;
        r.worst_rel_err = mag > 0 ? diff / mag : 0.0;
        char buf[128];
        std::snprintf(buf, sizeof buf, "[%zu]: analytic=%.8g numeric=%.8g", i, analytic, numeric);
        r.worst_where = t.name + buf;
      }
    }
  }
  return r;
}

// Every tensor of a ParamSet, with analytic gradients taken from a copy of its grads() buffer
// (make the copy after your backward pass: the loss lambda may overwrite grads()).
inline std::vector<GradTensor> param_grad_tensors(ParamSet& ps, const std::vector<float>& analytic_grads) {
  std::vector<GradTensor> out;
  for (size_t id = 0; id < ps.infos().size(); ++id) {
    const ParamInfo& info = ps.infos()[id];
    out.push_back({info.name, ps.value(static_cast<int>(id)), analytic_grads.data() + info.offset, info.size});
  }
  return out;
}

// Deterministic test data: n values uniform in [lo, hi).
inline std::vector<float> random_vector(size_t n, Rng& rng, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  for (float& x : v) x = lo + (hi - lo) * rng.uniform();
  return v;
}

// sum_i r_i out_i in double: the scalar loss used to check a layer's backward with dout = r.
inline double dot_double(const float* a, const float* b, size_t n) {
  double acc = 0.0;
  for (size_t i = 0; i < n; ++i) acc += static_cast<double>(a[i]) * b[i];
  return acc;
}

}  // namespace genlab::test
