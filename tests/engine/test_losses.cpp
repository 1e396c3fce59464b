// Loss tests: gradient checks (gradcheck.h) for every loss including large |logit|, closed-form
// values, stability at |logit| = 100 and beyond, analytic KL against a Monte Carlo estimate,
// per-dimension KL, and logsumexp edge cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gradcheck.h"
#include "losses.h"
#include "rng.h"

namespace genlab {
namespace {

using test::gradcheck;
using test::random_vector;

constexpr double kLog2Pi = 1.8378770664093454835606594728112;

TEST(BernoulliNll, GradientCheckBinaryAndSoftTargets) {
  for (bool soft : {false, true}) {
    Rng rng(soft ? 2 : 1);
    const size_t n = 50;
    auto logits = random_vector(n, rng, -6.f, 6.f);
    std::vector<float> x(n);
    for (float& v : x) v = soft ? rng.uniform() : static_cast<float>(rng.below(2));
    const float scale = 0.7f;
    std::vector<float> dl(n, 0.f);
    bernoulli_nll_backward(dl.data(), logits.data(), x.data(), n, scale);
    auto loss = [&] { return scale * bernoulli_nll_forward(logits.data(), x.data(), n); };
    auto rep = gradcheck(loss, {{"logits", logits.data(), dl.data(), n}}, {.step = 1e-3, .rtol = 1e-4, .atol = 1e-6});
    EXPECT_TRUE(rep.ok) << (soft ? "soft: " : "binary: ") << rep.summary();
  }
}

TEST(BernoulliNll, StableAndExactForLargeLogits) {
  const std::vector<float> l = {100.f, 100.f, -100.f, -100.f, 1e4f, -1e4f, 88.8f, -88.8f, 0.f};
  const std::vector<float> x = {1.f, 0.f, 1.f, 0.f, 0.f, 1.f, 1.f, 1.f, 1.f};
  const double expected[] = {std::log1p(std::exp(-100.0)), 100.0, 100.0, std::log1p(std::exp(-100.0)), 1e4, 1e4,
                             std::log1p(std::exp(-88.8)), 88.8 + std::log1p(std::exp(-88.8)), std::log(2.0)};
  for (size_t i = 0; i < l.size(); ++i) {
    const double v = bernoulli_nll_forward(&l[i], &x[i], 1);
    ASSERT_TRUE(std::isfinite(v)) << i;
    EXPECT_NEAR(v, expected[i], 1e-12 + 1e-5 * std::fabs(expected[i])) << i;  // float logits: 88.8f != 88.8
    float d = 0.f;
    bernoulli_nll_backward(&d, &l[i], &x[i], 1, 1.f);
    ASSERT_TRUE(std::isfinite(d)) << i;
    const float sig = l[i] > 0 ? 1.f : (l[i] < 0 ? 0.f : 0.5f);
    EXPECT_NEAR(d, sig - x[i], 1e-6) << i;
  }
  // Gradient check right at |logit| = 100.
  std::vector<float> big = {100.f, -100.f, 100.f, -100.f}, bx = {1.f, 1.f, 0.f, 0.f}, dbig(4, 0.f);
  bernoulli_nll_backward(dbig.data(), big.data(), bx.data(), 4, 1.f);
  auto loss = [&] { return bernoulli_nll_forward(big.data(), bx.data(), 4); };
  auto rep = gradcheck(loss, {{"logits", big.data(), dbig.data(), 4}}, {.step = 1e-2, .rtol = 1e-4, .atol = 1e-6});
  EXPECT_TRUE(rep.ok) << rep.summary();
}

// The forward/backward use a vectorised exp/log1p for the bounded part log1p(e^-|l|); check it
// against the double formula over the whole range, densely near 0 and far into the tails.
TEST(BernoulliNll, FastPathMatchesDoubleFormulaEverywhere) {
  double worst_f = 0, worst_b = 0;
  std::vector<float> logits;
  for (int i = -30000; i <= 30000; ++i) logits.push_back(static_cast<float>(i) * 1e-4f);  // [-3, 3]
  for (int i = -2000; i <= 2000; ++i) logits.push_back(static_cast<float>(i) * 0.06f);    // [-120, 120]
  for (float l : {1e-30f, -1e-30f, 86.9f, 87.f, 87.1f, -87.f, -87.1f, 1e30f, -1e30f}) logits.push_back(l);
  for (float l : logits)
    for (float x : {0.f, 0.3f, 1.f}) {
      const double ld = l;
      const double exact = std::max(ld, 0.0) + std::log1p(std::exp(-std::fabs(ld))) - x * ld;
      const double got = bernoulli_nll_forward(&l, &x, 1);
      worst_f = std::max(worst_f, std::fabs(got - exact));
      float d = 0.f;
      bernoulli_nll_backward(&d, &l, &x, 1, 1.f);
      const double sig = ld >= 0 ? 1.0 / (1.0 + std::exp(-ld)) : std::exp(ld) / (1.0 + std::exp(ld));
      worst_b = std::max(worst_b, std::fabs(d - (sig - x)));
    }
  EXPECT_LT(worst_f, 1e-13) << "worst absolute forward error";
  EXPECT_LT(worst_b, 1.2e-7) << "worst absolute gradient error";
  // Blocks of 256 and the 4-way partial sums: a long vector sums to the same as element by element.
  std::vector<float> xs(logits.size());
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(i % 3) * 0.5f;
  double one_by_one = 0;
  for (size_t i = 0; i < logits.size(); ++i) one_by_one += bernoulli_nll_forward(&logits[i], &xs[i], 1);
  const double all = bernoulli_nll_forward(logits.data(), xs.data(), logits.size());
  EXPECT_NEAR(all, one_by_one, 1e-9 * std::fabs(one_by_one));
  // NaN logits stay visible in both the loss and the gradient.
  const float nan = std::nanf(""), one = 1.f;
  EXPECT_TRUE(std::isnan(bernoulli_nll_forward(&nan, &one, 1)));
  float d = 0.f;
  bernoulli_nll_backward(&d, &nan, &one, 1, 1.f);
  EXPECT_TRUE(std::isnan(d));
}

TEST(GaussianNll, ValueAndGradientCheck) {
  const float m0 = 0.f, lv0 = 0.f, x0 = 1.f;
  EXPECT_NEAR(gaussian_nll_forward(&m0, &lv0, &x0, 1), 0.5 * (kLog2Pi + 1.0), 1e-12);
  const float lv1 = std::log(4.f), x1 = 3.f, m1 = 1.f;  // var 4, diff 2: 0.5 (log 2pi + log 4 + 1)
  EXPECT_NEAR(gaussian_nll_forward(&m1, &lv1, &x1, 1), 0.5 * (kLog2Pi + std::log(4.0) + 1.0), 1e-6);

  Rng rng(3);
  const size_t n = 40;
  auto mean = random_vector(n, rng, -1.f, 1.f), logvar = random_vector(n, rng, -3.f, 2.f);
  auto x = random_vector(n, rng, 0.f, 1.f);
  const float scale = 1.3f;
  std::vector<float> dm(n, 0.f), dlv(n, 0.f);
  gaussian_nll_backward(dm.data(), dlv.data(), mean.data(), logvar.data(), x.data(), n, scale);
  auto loss = [&] { return scale * gaussian_nll_forward(mean.data(), logvar.data(), x.data(), n); };
  auto rep = gradcheck(loss, {{"mean", mean.data(), dm.data(), n}, {"logvar", logvar.data(), dlv.data(), n}},
                       {.step = 1e-3, .rtol = 1e-4, .atol = 1e-6});
  EXPECT_TRUE(rep.ok) << rep.summary();
  // nullptr skips a gradient.
  std::vector<float> dm2(n, 0.f);
  gaussian_nll_backward(dm2.data(), nullptr, mean.data(), logvar.data(), x.data(), n, scale);
  EXPECT_EQ(dm2, dm);
}

// The vectorised exp against std::exp in double, over the variances a network can produce and beyond.
TEST(GaussianNll, FastPathMatchesDoubleFormulaEverywhere) {
  double worst_f = 0, worst_m = 0, worst_v = 0;
  for (int i = -2000; i <= 2000; ++i) {
    const float lv = static_cast<float>(i) * 0.04f;  // [-80, 80]
    for (float d : {0.f, 1e-3f, 0.3f, 1.f, 2.5f}) {
      const float mean = 0.25f, x = mean + d;
      const double dd = static_cast<double>(x) - mean, e = std::exp(-static_cast<double>(lv));
      const double exact = 0.5 * (kLog2Pi + lv + dd * dd * e);
      const double got = gaussian_nll_forward(&mean, &lv, &x, 1);
      worst_f = std::max(worst_f, std::fabs(got - exact) / std::max(1.0, std::fabs(exact)));
      float dm = 0.f, dlv = 0.f;
      gaussian_nll_backward(&dm, &dlv, &mean, &lv, &x, 1, 1.f);
      const double em = -dd * e, ev = 0.5 * (1.0 - dd * dd * e);
      worst_m = std::max(worst_m, std::fabs(dm - em) / std::max(1.0, std::fabs(em)));
      worst_v = std::max(worst_v, std::fabs(dlv - ev) / std::max(1.0, std::fabs(ev)));
    }
  }
  EXPECT_LT(worst_f, 1e-14);
  EXPECT_LT(worst_m, 4e-7);
  EXPECT_LT(worst_v, 4e-7);
  // Beyond the clamps the values stay finite; NaN stays visible.
  const float mean = 0.f, x = 1.f;
  for (float lv : {-800.f, 800.f, -1e30f, 1e30f}) {
    EXPECT_TRUE(std::isfinite(gaussian_nll_forward(&mean, &lv, &x, 1))) << lv;
    float dm = 0.f, dlv = 0.f;
    gaussian_nll_backward(&dm, &dlv, &mean, &lv, &x, 1, 1.f);
    EXPECT_TRUE(std::isfinite(dm) && std::isfinite(dlv)) << lv;
  }
  const float nan = std::nanf("");
  EXPECT_TRUE(std::isnan(gaussian_nll_forward(&mean, &nan, &x, 1)));
  float dm = 0.f, dlv = 0.f;
  gaussian_nll_backward(&dm, &dlv, &mean, &nan, &x, 1, 1.f);
  EXPECT_TRUE(std::isnan(dm) && std::isnan(dlv));
  // A long vector (blocks, 4-lane sums, the n log(2 pi) term) equals the element-by-element sum.
  Rng rng(9);
  const size_t n = 1000;
  auto m = random_vector(n, rng), lvs = random_vector(n, rng, -4.f, 3.f), xs = random_vector(n, rng);
  double one_by_one = 0;
  for (size_t i = 0; i < n; ++i) one_by_one += gaussian_nll_forward(&m[i], &lvs[i], &xs[i], 1);
  EXPECT_NEAR(gaussian_nll_forward(m.data(), lvs.data(), xs.data(), n), one_by_one, 1e-10 * std::fabs(one_by_one));
}

TEST(Mse, ValueAndGradientCheck) {
  const std::vector<float> p = {1.f, 2.f, 3.f}, t = {0.f, 2.f, 5.f};
  EXPECT_DOUBLE_EQ(mse_forward(p.data(), t.data(), 3), 5.0);
  Rng rng(4);
  const size_t n = 30;
  auto pred = random_vector(n, rng), x = random_vector(n, rng);
  std::vector<float> dp(n, 0.f);
  mse_backward(dp.data(), pred.data(), x.data(), n, 0.25f);
  auto loss = [&] { return 0.25 * mse_forward(pred.data(), x.data(), n); };
  auto rep = gradcheck(loss, {{"pred", pred.data(), dp.data(), n}}, {.step = 1e-2, .rtol = 1e-4, .atol = 1e-6});
  EXPECT_TRUE(rep.ok) << rep.summary();
}

TEST(KlStdNormal, ValueGradientCheckAndPerDim) {
  const float mu0 = 0.f, lv0 = 0.f;
  EXPECT_EQ(kl_std_normal_forward(&mu0, &lv0, 1), 0.0);  // KL(N(0,1) || N(0,1)) = 0
  const float mu1 = 1.f, lv1 = std::log(2.f);
  EXPECT_NEAR(kl_std_normal_forward(&mu1, &lv1, 1), 0.5 * (1.0 + 2.0 - 1.0 - std::log(2.0)), 1e-7);

  Rng rng(5);
  const size_t n = 20;
  auto mu = random_vector(n, rng, -2.f, 2.f), logvar = random_vector(n, rng, -4.f, 2.f);
  std::vector<float> dmu(n, 0.f), dlv(n, 0.f);
  kl_std_normal_backward(dmu.data(), dlv.data(), mu.data(), logvar.data(), n, 0.5f);
  auto loss = [&] { return 0.5 * kl_std_normal_forward(mu.data(), logvar.data(), n); };
  auto rep = gradcheck(loss, {{"mu", mu.data(), dmu.data(), n}, {"logvar", logvar.data(), dlv.data(), n}},
                       {.step = 1e-3, .rtol = 1e-4, .atol = 1e-6});
  EXPECT_TRUE(rep.ok) << rep.summary();

  std::vector<double> per_dim(n, 1.0);  // ADDS into per_dim
  const double total = kl_std_normal_forward(mu.data(), logvar.data(), n, per_dim.data());
  double sum = 0;
  for (double v : per_dim) {
    EXPECT_GE(v, 1.0);
    sum += v - 1.0;
  }
  EXPECT_NEAR(sum, total, 1e-9);
}

// KL(q || p) = E_q[log q(z) - log p(z)], estimated with samples z = mu + sigma eps.
TEST(KlStdNormal, AnalyticMatchesMonteCarlo) {
  const std::vector<float> mu = {0.f, 1.5f, -0.7f, 0.3f}, logvar = {0.f, -1.f, 0.8f, -3.f};
  Rng rng(6);
  const int N = 200000;
  for (size_t j = 0; j < mu.size(); ++j) {
    const double sigma = std::exp(0.5 * logvar[j]);
    double sum = 0, sum2 = 0;
    for (int s = 0; s < N; ++s) {
      const double eps = rng.normal();
      const double z = mu[j] + sigma * eps;
      const double log_q = -0.5 * (kLog2Pi + logvar[j] + eps * eps);
      const double log_p = -0.5 * (kLog2Pi + z * z);
      const double v = log_q - log_p;
      sum += v;
      sum2 += v * v;
    }
    const double mean = sum / N, se = std::sqrt((sum2 / N - mean * mean) / N);
    const double analytic = kl_std_normal_forward(&mu[j], &logvar[j], 1);
    EXPECT_NEAR(mean, analytic, 5 * se + 1e-9) << "dim " << j << " (se " << se << ")";
  }
}

TEST(LogSumExp, StableAndExact) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> big = {1000.0, 1000.0};
  EXPECT_DOUBLE_EQ(logsumexp(big.data(), 2), 1000.0 + std::log(2.0));
  const std::vector<double> tiny = {-1000.0, -1000.0, -1000.0};
  EXPECT_DOUBLE_EQ(logsumexp(tiny.data(), 3), -1000.0 + std::log(3.0));
  const std::vector<double> small = {0.1, -2.0, 1.5, 0.0};
  double naive = 0;
  for (double v : small) naive += std::exp(v);
  EXPECT_NEAR(logsumexp(small.data(), 4), std::log(naive), 1e-14);
  const std::vector<double> with_neg_inf = {-inf, 2.0};
  EXPECT_DOUBLE_EQ(logsumexp(with_neg_inf.data(), 2), 2.0);
  const std::vector<double> all_neg_inf = {-inf, -inf};
  EXPECT_EQ(logsumexp(all_neg_inf.data(), 2), -inf);
  const std::vector<double> pos_inf = {1.0, inf};
  EXPECT_EQ(logsumexp(pos_inf.data(), 2), inf);
  EXPECT_EQ(logsumexp(nullptr, 0), -inf);
  const std::vector<double> with_nan = {1.0, std::nan("")};
  EXPECT_TRUE(std::isnan(logsumexp(with_nan.data(), 2)));
}

// The float-term variant used for training-step losses: every term within ~2e-7 (+ float rounding of
// x l) of the exact one, over the whole logit range, soft targets included; NaN still shows.
TEST(Losses, BernoulliFastMatchesExact) {
  Rng rng(17);
  std::vector<float> l, x;
  for (float v : {-1000.f, -100.f, -87.f, -30.f, -1e-3f, 0.f, 1e-3f, 30.f, 87.f, 100.f, 1000.f}) {
    for (float t : {0.f, 1.f, 0.5f}) {
      l.push_back(v);
      x.push_back(t);
    }
  }
  for (int i = 0; i < 20000; ++i) {
    l.push_back((rng.uniform() * 2.f - 1.f) * (i % 2 ? 40.f : 4.f));
    x.push_back(i % 3 == 2 ? rng.uniform() : static_cast<float>(i % 2));
  }
  for (size_t i = 0; i < l.size(); ++i) {
    const double exact = bernoulli_nll_forward(&l[i], &x[i], 1), fast = bernoulli_nll_forward_fast(&l[i], &x[i], 1);
    ASSERT_NEAR(fast, exact, 2.5e-7 + 1.2e-7 * std::fabs(l[i])) << "l " << l[i] << " x " << x[i];
  }
  const double all_exact = bernoulli_nll_forward(l.data(), x.data(), l.size());
  EXPECT_NEAR(bernoulli_nll_forward_fast(l.data(), x.data(), l.size()), all_exact, 1e-6 * all_exact);
  const float nan = std::numeric_limits<float>::quiet_NaN(), one = 1.f;
  EXPECT_TRUE(std::isnan(bernoulli_nll_forward_fast(&nan, &one, 1)));
}

}  // namespace
}  // namespace genlab
