// Losses for the generative models: Bernoulli and Gaussian negative log-likelihoods, squared error,
// the analytic KL of a diagonal Gaussian to N(0, I), and logsumexp for importance-weighted bounds.
// Forward sums accumulate in double (sums over 784 pixels x batch); backward loops are plain float
// loops that ADD into the gradient. Gradient pointers may be nullptr to skip them.
#include "losses.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace genlab {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;

// -min(|l|, 87) with integer operations on the bits (a float compare-and-select before the exp
// below keeps GCC from vectorising the loop). exp(-87) ~ 1.6e-38 is still a normal float.
inline float neg_abs_clamped(float l) {
  const uint32_t a = __builtin_bit_cast(uint32_t, l) & 0x7fffffffu;
  return -__builtin_bit_cast(float, a < 0x42AE0000u ? a : 0x42AE0000u);  // 0x42AE0000 = 87.0f
}

// x with its magnitude clamped to the float whose bits are limit_bits, sign kept (integer operations,
// for the same vectorisation reason as above).
inline float clamp_magnitude(float x, uint32_t limit_bits) {
  const uint32_t bits = __builtin_bit_cast(uint32_t, x);
  const uint32_t a = bits & 0x7fffffffu;
  return __builtin_bit_cast(float, (bits & 0x80000000u) | (a < limit_bits ? a : limit_bits));
}
constexpr uint32_t k87f = 0x42AE0000u;   // 87.0f: exp stays a normal float
constexpr uint32_t k700f = 0x442F0000u;  // 700.0f: exp stays a normal double

// exp(x) for |x| <= 700 in double, branch-free so loops over it vectorise (std::exp does not,
// natively or in wasm). x = n ln2 + r with Cody-Waite constants (fdlibm), then Taylor to r^13 on
// |r| <= ln2 / 2: relative error ~1e-16.
inline double exp_reduced(double x) {
  // Round x / ln2 to an integer n with the 1.5 * 2^52 trick; n also sits in the low mantissa bits of
  // `shifted`, which avoids a double->int conversion (GCC will not vectorise one under -ftrapping-math).
  const double shifted = x * 1.4426950408889634 + 6755399441055744.0;
  const double n = shifted - 6755399441055744.0;  // |n| <= 1010
  const int64_t n_int = __builtin_bit_cast(int64_t, shifted) - 0x4338000000000000;
  double r = x - n * 6.93147180369123816490e-01;
  r = r - n * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * __builtin_bit_cast(double, (n_int + 1023) << 52);
}

// log(1 + t) for t in [0, 1], absolute error ~2e-16: u = 1 + t is scaled into [sqrt(1/2), sqrt(2)],
// then log(v) = 2 atanh(s) with s = (v - 1) / (v + 1), |s| <= 0.172, summed to s^21.
inline double log1p_unit(double t) {
  // The range test and the halving work on the bits (exponent - 1): a floating-point compare here
  // would keep GCC from vectorising the loop under -ftrapping-math.
  const int64_t u_bits = __builtin_bit_cast(int64_t, 1.0 + t);
  const int64_t upper = u_bits > 0x3FF6A09E667F3BCD ? 1 : 0;  // u > sqrt(2)
  const double f = __builtin_bit_cast(double, u_bits - (upper << 52)) - 1.0;  // exact
  const double s = f / (2.0 + f);
  const double z = s * s;
  double p = 1.0 / 21;
  for (int k = 9; k >= 0; --k) p = p * z + 1.0 / (2 * k + 1);
  const double log2_part = __builtin_bit_cast(double, upper * 0x3FE62E42FEFA39EF);  // 0 or ln 2
  return log2_part + 2.0 * s * p;
}

// The same exp in float for |x| <= 87, for backward passes (their results are float gradients
// anyway): Cephes expf polynomial, ~1 ulp; 8 lanes per AVX register instead of 4.
inline float exp_reduced_f(float x) {
  const float shifted = x * 1.44269504088896341f + 12582912.f;  // 1.5 * 2^23
  const float n = shifted - 12582912.f;
  const int32_t n_int = __builtin_bit_cast(int32_t, shifted) - 0x4B400000;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  return p * __builtin_bit_cast(float, (n_int + 127) << 23);
}

// log(1 + t) for t in [0, 1] in float, absolute error ~1e-7 (the double version's steps, summed to s^11).
inline float log1p_unit_f(float t) {
  const int32_t u_bits = __builtin_bit_cast(int32_t, 1.f + t);
  const int32_t upper = u_bits > 0x3FB504F3 ? 1 : 0;  // u > sqrt(2)
  const float f = __builtin_bit_cast(float, u_bits - (upper << 23)) - 1.f;  // exact
  const float s = f / (2.f + f);
  const float z = s * s;
  float p = 1.f / 11;
  p = p * z + 1.f / 9;
  p = p * z + 1.f / 7;
  p = p * z + 1.f / 5;
  p = p * z + 1.f / 3;
  p = p * z + 1.f;
  return __builtin_bit_cast(float, upper * 0x3F317218) + 2.f * s * p;  // 0 or ln 2, + 2 atanh(s)
}

constexpr size_t kBlock = 256;  // scratch on the stack: a vectorised pass, then the sum
}  // namespace

// ---- Bernoulli NLL from logits ---------------------------------------------------------------
// softplus(l) - x l = [max(l, 0) - x l] + log1p(e^-|l|), all in double (the finite-difference checks of
// whole models rely on a forward that adds no float noise of its own).

double bernoulli_nll_forward(const float* logits, const float* x, size_t n) {
  double tail[kBlock];
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t m = std::min(kBlock, n - i0);
    const float* l = logits + i0;
    for (size_t j = 0; j < m; ++j) tail[j] = log1p_unit(exp_reduced(neg_abs_clamped(l[j])));
    // Four partial sums break the add latency chain (and map onto one AVX register); the lane of
    // each element is fixed by its index, so the result is the same on every run and target.
    const float* xb = x + i0;
    auto term = [&](size_t j) {
      const double lj = l[j];
      return (lj > 0 ? lj : 0.0) - static_cast<double>(xb[j]) * lj + tail[j];
    };
    size_t j = 0;
    for (; j + 4 <= m; j += 4) {
      acc[0] += term(j);
      acc[1] += term(j + 1);
      acc[2] += term(j + 2);
      acc[3] += term(j + 3);
    }
    for (; j < m; ++j) acc[0] += term(j);
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// The same sum with float terms (4 lanes per wasm SIMD register instead of 2), added up in double.
double bernoulli_nll_forward_fast(const float* logits, const float* x, size_t n) {
  float term[kBlock];
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t m = std::min(kBlock, n - i0);
    const float* l = logits + i0;
    const float* xb = x + i0;
    for (size_t j = 0; j < m; ++j)
      term[j] = (l[j] > 0.f ? l[j] : 0.f) - xb[j] * l[j] + log1p_unit_f(exp_reduced_f(neg_abs_clamped(l[j])));
    size_t j = 0;
    for (; j + 4 <= m; j += 4)
      for (size_t k = 0; k < 4; ++k) acc[k] += term[j + k];
    for (; j < m; ++j) acc[0] += term[j];
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// d/dl = sigmoid(l) - x, with sigmoid(l) = 1 / (1 + e^-l) or e^l / (1 + e^l) by the sign of l.
void bernoulli_nll_backward(float* dlogits, const float* logits, const float* x, size_t n, float scale) {
  if (!dlogits) return;
  for (size_t i = 0; i < n; ++i) {
    const float l = logits[i];
    const float t = exp_reduced_f(neg_abs_clamped(l));
    const float p = (l >= 0.f ? 1.f : t) / (1.f + t);
    dlogits[i] += scale * (p - x[i]) + (l - l);  // + (l - l): a NaN logit stays visible in the gradient
  }
}

// ---- Gaussian NLL with per-element mean and log-variance -------------------------------------

// Per element 0.5 (log 2 pi + lv + (x - mean)^2 e^-lv) in double; e^-lv through the vectorised exp
// (lv clamped to |lv| <= 700, far beyond any variance a float network produces).
double gaussian_nll_forward(const float* mean, const float* logvar, const float* x, size_t n) {
  double term[kBlock];
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t m = std::min(kBlock, n - i0);
    for (size_t j = 0; j < m; ++j) {
      const double lv = logvar[i0 + j];
      const double d = static_cast<double>(x[i0 + j]) - mean[i0 + j];
      term[j] = lv + d * d * exp_reduced(-clamp_magnitude(logvar[i0 + j], k700f));
    }
    size_t j = 0;
    for (; j + 4 <= m; j += 4)
      for (size_t k = 0; k < 4; ++k) acc[k] += term[j + k];
    for (; j < m; ++j) acc[0] += term[j];
  }
  return 0.5 * (kLog2Pi * static_cast<double>(n) + ((acc[0] + acc[1]) + (acc[2] + acc[3])));
}

// d/dmean = -(x - mean) e^-lv;  d/dlogvar = 0.5 (1 - (x - mean)^2 e^-lv)   (lv clamped to |lv| <= 87)
void gaussian_nll_backward(float* dmean, float* dlogvar, const float* mean, const float* logvar, const float* x,
                           size_t n, float scale) {
  auto inv_var = [&](size_t i) {
    const float lv = logvar[i];
    return exp_reduced_f(-clamp_magnitude(lv, k87f)) + (lv - lv);  // + (lv - lv): NaN stays NaN
  };
  // One loop per combination of outputs: a null test inside the loop would stop it vectorising.
  if (dmean && dlogvar) {
    for (size_t i = 0; i < n; ++i) {
      const float iv = inv_var(i), d = x[i] - mean[i];
      dmean[i] -= scale * d * iv;
      dlogvar[i] += scale * 0.5f * (1.f - d * d * iv);
    }
  } else if (dmean) {
    for (size_t i = 0; i < n; ++i) dmean[i] -= scale * (x[i] - mean[i]) * inv_var(i);
  } else if (dlogvar) {
    for (size_t i = 0; i < n; ++i) {
      const float d = x[i] - mean[i];
      dlogvar[i] += scale * 0.5f * (1.f - d * d * inv_var(i));
    }
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
