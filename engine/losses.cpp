// Losses for the generative models: Bernoulli and Gaussian negative log-likelihoods, squared error,
// the analytic KL of a diagonal Gaussian to N(0, I), and logsumexp for importance-weighted bounds.
// Forward sums accumulate in double (sums over 784 pixels x batch); backward loops are plain float
// loops that ADD into the gradient. Gradient pointers may be nullptr to skip them.
#include "losses.h"

#include <cmath>
#include <limits>

namespace genlab {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;

// softplus(l) = log(1 + e^l) = max(l, 0) + log1p(e^-|l|): no overflow for any l.
inline double softplus(double l) { return (l > 0 ? l : 0.0) + std::log1p(std::exp(-std::fabs(l))); }
}  // namespace

// ---- Bernoulli NLL from logits ---------------------------------------------------------------

double bernoulli_nll_forward(const float* logits, const float* x, size_t n) {
  double acc = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double l = logits[i];
    acc += softplus(l) - static_cast<double>(x[i]) * l;
  }
  return acc;
}

// d/dl = sigmoid(l) - x
void bernoulli_nll_backward(float* dlogits, const float* logits, const float* x, size_t n, float scale) {
  if (!dlogits) return;
  for (size_t i = 0; i < n; ++i) {
    const float p = 1.f / (1.f + std::exp(-logits[i]));  // exp overflow -> inf -> p = 0 exactly
    dlogits[i] += scale * (p - x[i]);
  }
}

// ---- Gaussian NLL with per-element mean and log-variance -------------------------------------

double gaussian_nll_forward(const float* mean, const float* logvar, const float* x, size_t n) {
  double acc = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double lv = logvar[i];
    const double d = static_cast<double>(x[i]) - mean[i];
    acc += kLog2Pi + lv + d * d * std::exp(-lv);
  }
  return 0.5 * acc;
}

// d/dmean = -(x - mean) e^-lv;  d/dlogvar = 0.5 (1 - (x - mean)^2 e^-lv)
void gaussian_nll_backward(float* dmean, float* dlogvar, const float* mean, const float* logvar, const float* x,
                           size_t n, float scale) {
  for (size_t i = 0; i < n; ++i) {
    const float inv_var = std::exp(-logvar[i]);
    const float d = x[i] - mean[i];
    if (dmean) dmean[i] -= scale * d * inv_var;
    if (dlogvar) dlogvar[i] += scale * 0.5f * (1.f - d * d * inv_var);
  }
}

// ---- Squared error ----------------------------------------------------------------------------

double mse_forward(const float* pred, const float* x, size_t n) {
  double acc = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(pred[i]) - x[i];
    acc += d * d;
  }
  return acc;
}

void mse_backward(float* dpred, const float* pred, const float* x, size_t n, float scale) {
  if (!dpred) return;
  const float s2 = 2.f * scale;
  for (size_t i = 0; i < n; ++i) dpred[i] += s2 * (pred[i] - x[i]);
}

// ---- KL( N(mu, e^logvar) || N(0, I) ) ---------------------------------------------------------

double kl_std_normal_forward(const float* mu, const float* logvar, size_t n, double* per_dim) {
  double acc = 0.0;
  for (size_t j = 0; j < n; ++j) {
    const double m = mu[j], lv = logvar[j];
    const double term = 0.5 * (m * m + std::exp(lv) - 1.0 - lv);
    if (per_dim) per_dim[j] += term;
    acc += term;
  }
  return acc;
}

// d/dmu = mu;  d/dlogvar = 0.5 (e^logvar - 1)
void kl_std_normal_backward(float* dmu, float* dlogvar, const float* mu, const float* logvar, size_t n, float scale) {
  for (size_t j = 0; j < n; ++j) {
    if (dmu) dmu[j] += scale * mu[j];
    if (dlogvar) dlogvar[j] += scale * 0.5f * std::expm1(logvar[j]);
  }
}

// ---- logsumexp ----------------------------------------------------------------------------------

double logsumexp(const double* v, size_t n) {
  if (n == 0) return -std::numeric_limits<double>::infinity();
  double mx = v[0];
  for (size_t i = 1; i < n; ++i) mx = v[i] > mx ? v[i] : mx;
  if (!std::isfinite(mx)) {
    // all -inf -> -inf; any +inf -> +inf; NaN propagates.
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(v[i])) return v[i];
    return mx;
  }
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += std::exp(v[i] - mx);
  return mx + std::log(s);
}

}  // namespace genlab
