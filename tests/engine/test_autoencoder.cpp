// AE and VAE: config validation, gradient checks through the whole loss (noise held fixed), the
// analytic KL against Monte Carlo, the IWAE bound (L_1 == ELBO estimator for the same eps, ELBO <= L_K
// <= L_K' on average), decode/reconstruct/sample consistency and latent-space paths.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "autoencoder.h"
#include "error.h"
#include "error_of.h"
#include "gradcheck.h"
#include "losses.h"
#include "trainer.h"

using namespace genlab;

namespace {

std::unique_ptr<VariationalAutoencoder> make_vae(ModelConfig c, uint64_t seed = 7) {
  c["model"] = "vae";
  auto m = make_model(c, seed);
  auto* p = dynamic_cast<VariationalAutoencoder*>(m.release());
  return std::unique_ptr<VariationalAutoencoder>(p);
}

std::vector<float> binary_images(int B, int D, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(B) * D);
  for (float& v : x) v = rng.uniform() < 0.4f ? 1.f : 0.f;
  return x;
}

// Gradient check of the VAE loss w.r.t. every parameter with eps fixed.
void check_vae_gradients(const ModelConfig& cfg, int B, double rtol) {
  auto vae = make_vae(cfg);
  const int D = vae->dim(), Z = vae->latent();
  Rng rng(11);
  std::vector<float> x = vae->gaussian() ? test::random_vector(static_cast<size_t>(B) * D, rng, 0.f, 1.f) : binary_images(B, D, rng);
  std::vector<float> eps(static_cast<size_t>(B) * Z);
  for (float& e : eps) e = rng.normal();
  ParamSet& p = vae->params();
  p.zero_grad();
  vae->loss_with_noise(x.data(), eps.data(), B, true);
  const std::vector<float> analytic(p.grads().begin(), p.grads().end());
  auto loss = [&] { return vae->loss_with_noise(x.data(), eps.data(), B, false).loss; };
  const auto r = test::gradcheck(loss, test::param_grad_tensors(p, analytic), {.step = 1e-2, .rtol = rtol, .atol = 2e-3,
                                                                                  .max_per_tensor = 24});
  EXPECT_TRUE(r.ok) << r.summary();
  EXPECT_GT(r.checked, 100u);
}

}  // namespace

TEST(AutoencoderConfig, ValidatesEveryValue) {
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"latent", "1"}}, 1); }).find("'latent' = 1 is out of range"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"latent", "65"}}, 1); }).find("latent"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"hidden", "4x"}}, 1); }).find("not an integer"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"beta", "-1"}}, 1); }).find("beta"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"beta", "nan"}}, 1); }).find("beta"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"likelihood", "poisson"}}, 1); }).find("bernoulli|gaussian"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"arch", "rnn"}}, 1); }).find("mlp|conv"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "ae"}, {"activation", "swish"}}, 1); }).find("activation"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"layers", "3"}}, 1); }).find("unknown option 'layers'"), std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"arch", "conv"}, {"width", "30"}}, 1); }).find("divisible by 4"),
            std::string::npos);
  EXPECT_NE(error_of([] { make_model({{"model", "vae"}, {"channels", "2"}}, 1); }).find("channels"), std::string::npos);
  EXPECT_EQ(make_autoencoder_model({{"model", "pixelcnn"}}, 1), nullptr);
}

TEST(AutoencoderConfig, RoundTripsThroughMakeModel) {
  for (const ModelConfig& c : {ModelConfig{{"model", "vae"}, {"latent", "2"}, {"beta", "0.25"}, {"activation", "elu"}},
                               ModelConfig{{"model", "vae"}, {"arch", "conv"}, {"likelihood", "gaussian"}, {"filters", "8"}},
                               ModelConfig{{"model", "ae"}, {"hidden", "64"}}}) {
    auto m = make_model(c, 3);
    auto m2 = make_model(m->config(), 3);
    EXPECT_EQ(m->config(), m2->config());
    for (const auto& [k, v] : c) EXPECT_EQ(m->config().at(k), v) << k;
    ASSERT_EQ(m->params().total(), m2->params().total());
    EXPECT_EQ(0, std::memcmp(m->params().values().data(), m2->params().values().data(), m->params().total() * 4));
  }
}

TEST(Autoencoder, PyTorchShapesNamesAndInitRange) {
  auto vae = make_vae({});
  const ParamSet& p = vae->params();
  // VAE-MLP 784-400-20: the parameter count of the PyTorch reference (tools/reference/vae_torch.py).
  size_t n = 0;
  for (const auto& info : p.infos()) n += info.size;
  EXPECT_EQ(n, size_t{784 * 400 + 400 + 2 * (400 * 20 + 20) + 20 * 400 + 400 + 400 * 784 + 784});
  const int w = p.find("enc.fc1.weight");
  ASSERT_GE(w, 0);
  EXPECT_EQ(p.infos()[w].shape, (std::vector<int>{400, 784}));
  const float bound = 1.f / std::sqrt(784.f);
  float mx = 0;
  for (size_t i = 0; i < p.infos()[w].size; ++i) mx = std::max(mx, std::fabs(p.value(w)[i]));
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.99f * bound);
  EXPECT_GE(p.find("enc.fc_mu.weight"), 0);
  EXPECT_GE(p.find("enc.fc_logvar.bias"), 0);
  EXPECT_GE(p.find("dec.fc2.weight"), 0);
}

TEST(VaeGradients, MlpBernoulliEluWithBeta) {
  check_vae_gradients({{"width", "4"}, {"height", "4"}, {"hidden", "6"}, {"latent", "3"}, {"activation", "elu"}, {"beta", "0.5"}},
                      3, 1e-2);
}

TEST(VaeGradients, MlpGaussianTanh) {
  check_vae_gradients({{"width", "4"}, {"height", "4"}, {"hidden", "6"}, {"latent", "2"}, {"activation", "tanh"},
                       {"likelihood", "gaussian"}},
                      2, 1e-2);
}

TEST(VaeGradients, ConvBernoulliTanh) {
  check_vae_gradients({{"arch", "conv"}, {"width", "8"}, {"height", "8"}, {"filters", "2"}, {"hidden", "5"}, {"latent", "2"},
                       {"activation", "tanh"}},
                      2, 1e-2);
}

TEST(AeGradients, MlpAndConv) {
  for (const ModelConfig& base : {ModelConfig{{"arch", "mlp"}}, ModelConfig{{"arch", "conv"}, {"filters", "2"}}}) {
    ModelConfig c = base;
    c.insert({{"model", "ae"}, {"width", "8"}, {"height", "8"}, {"hidden", "5"}, {"latent", "3"}, {"activation", "tanh"}});
    auto m = make_model(c, 5);
    Rng rng(2);
    const int B = 2;
    std::vector<float> x = test::random_vector(static_cast<size_t>(B) * 64, rng, 0.f, 1.f);
    ParamSet& p = m->params();
    p.zero_grad();
    const LossTerms t = m->train_step_grads(x.data(), nullptr, B, rng);
    EXPECT_NEAR(t.terms.at("mse"), t.terms.at("recon") / 64, 1e-9);
    const std::vector<float> analytic(p.grads().begin(), p.grads().end());
    auto loss = [&] { return m->evaluate(x.data(), nullptr, B, rng).loss; };
    const auto r = test::gradcheck(loss, test::param_grad_tensors(p, analytic), {.step = 1e-2, .rtol = 1e-2, .atol = 2e-3,
                                                                                    .max_per_tensor = 24});
    EXPECT_TRUE(r.ok) << base.at("arch") << ": " << r.summary();
  }
}

TEST(Vae, AnalyticKlMatchesMonteCarlo) {
  auto vae = make_vae({{"width", "8"}, {"height", "8"}, {"hidden", "16"}, {"latent", "5"}}, 3);
  Rng rng(4);
  std::vector<float> x = binary_images(1, 64, rng);
  // Move the posterior away from the prior so the KL is not tiny.
  const int b = vae->params().find("enc.fc_mu.bias"), lb = vae->params().find("enc.fc_logvar.bias");
  for (int j = 0; j < 5; ++j) {
    vae->params().value(b)[j] += 0.5f * j - 1.f;
    vae->params().value(lb)[j] += 0.4f * j - 1.f;
  }
  const LossTerms t = vae->evaluate(x.data(), nullptr, 1, rng);
  std::vector<float> mu(5), lv(5);
  vae->encode(x.data(), 1, mu.data(), lv.data());
  double sum = 0, sum2 = 0;
  const int N = 200000;
  for (int s = 0; s < N; ++s) {
    double logq_minus_logp = 0;
    for (int j = 0; j < 5; ++j) {
      const double e = rng.normal(), z = mu[j] + std::exp(0.5 * lv[j]) * e;
      logq_minus_logp += -0.5 * (e * e + lv[j]) + 0.5 * z * z;
    }
    sum += logq_minus_logp;
    sum2 += logq_minus_logp * logq_minus_logp;
  }
  const double mean = sum / N, se = std::sqrt((sum2 / N - mean * mean) / N);
  EXPECT_GT(t.terms.at("kl"), 1.0);
  EXPECT_NEAR(mean, t.terms.at("kl"), 4 * se + 1e-6) << "se " << se;
  double per_dim = 0;
  for (double v : t.kl_per_dim) per_dim += v;
  EXPECT_NEAR(per_dim, t.terms.at("kl"), 1e-9);
  EXPECT_NEAR(t.terms.at("elbo"), -(t.terms.at("recon") + t.terms.at("kl")), 1e-9);
}

TEST(Vae, IwaeWithOneSampleIsTheElboEstimatorForTheSameNoise) {
  auto vae = make_vae({{"width", "8"}, {"height", "8"}, {"hidden", "16"}, {"latent", "4"}}, 3);
  Rng data_rng(9);
  const int B = 3, Z = 4, D = 64;
  std::vector<float> x = binary_images(B, D, data_rng);
  std::vector<float> mu(B * Z), lv(B * Z);
  vae->encode(x.data(), B, mu.data(), lv.data());
  for (int b = 0; b < B; ++b) {
    // The same eps stream: evaluate() and neg_iwae_bound(K=1) draw eps in the same order.
    Rng r1(100 + b), r2(100 + b), r3(100 + b);
    const LossTerms t = vae->evaluate(x.data() + b * D, nullptr, 1, r1);
    const double neg_l1 = vae->neg_iwae_bound(x.data() + b * D, 1, 1, r2)[0];
    double kl_mc = 0;  // log q(z|x) - log p(z) for that eps
    for (int j = 0; j < Z; ++j) {
      const double e = r3.normal(), l = lv[b * Z + j];
      const double z = static_cast<float>(mu[b * Z + j] + std::exp(0.5f * lv[b * Z + j]) * static_cast<float>(e));
      kl_mc += -0.5 * (e * e + l) + 0.5 * z * z;
    }
    EXPECT_NEAR(neg_l1, t.terms.at("recon") + kl_mc, 1e-4 * std::fabs(neg_l1));
  }
}

TEST(Vae, ImportanceWeightedBoundsAreOrdered) {
  // A briefly trained model on real digits: -ELBO >= -L_1 ~ and -L_1 >= -L_5 >= -L_50 on average.
  auto train = std::make_shared<const Dataset>(load_dataset("mnist10k", "train", default_data_dir()));
  auto test = std::make_shared<const Dataset>(load_dataset("mnist10k", "test", default_data_dir()));
  TrainConfig cfg;
  cfg.model = {{"model", "vae"}, {"hidden", "64"}, {"latent", "8"}};
  cfg.seed = 5;
  Trainer tr(cfg, train, test);
  tr.run_steps(150);
  auto& vae = dynamic_cast<VariationalAutoencoder&>(tr.model());
  const int B = 100;
  const float* x = tr.test_inputs().data();
  Rng rng(1);
  auto mean_of = [&](int K) {
    const auto v = vae.neg_iwae_bound(x, B, K, rng);
    return std::accumulate(v.begin(), v.end(), 0.0) / B;
  };
  double neg_elbo = 0;
  for (int rep = 0; rep < 10; ++rep) neg_elbo -= vae.evaluate(x, nullptr, B, rng).terms.at("elbo") / 10;
  const double l1 = mean_of(1), l5 = mean_of(5), l50 = mean_of(50);
  EXPECT_NEAR(l1, neg_elbo, 0.02 * neg_elbo);  // same expectation; Monte Carlo noise only
  EXPECT_GT(l1, l5);
  EXPECT_GT(l5, l50);
  EXPECT_GT(l50, 0.5 * l1);
}

TEST(Vae, DecodeReconstructAndSampleAgree) {
  auto vae = make_vae({{"width", "8"}, {"height", "8"}, {"hidden", "16"}, {"latent", "3"}}, 3);
  Rng rng(3);
  std::vector<float> x = binary_images(2, 64, rng);
  std::vector<float> mu(6), lv(6), dec(128), rec(128);
  vae->encode(x.data(), 2, mu.data(), lv.data());
  vae->decode(mu.data(), 2, dec.data());
  vae->reconstruct(x.data(), 2, rec.data());
  EXPECT_EQ(dec, rec);
  for (float v : dec) EXPECT_TRUE(v > 0.f && v < 1.f);
  // Near-zero temperature: every sample is the decoded prior mean z = 0.
  SampleOptions opt;
  opt.n = 3;
  opt.temperature = 1e-6f;
  std::vector<float> s(3 * 64), z0(3, 0.f), d0(64);
  vae->sample(opt, rng, s.data());
  vae->decode(z0.data(), 1, d0.data());
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(s[128 + i], d0[i], 1e-5);
  opt.keep_mask = reinterpret_cast<const uint8_t*>(s.data());
  EXPECT_NE(error_of([&] { vae->sample(opt, rng, s.data()); }).find("cannot complete"), std::string::npos);
  opt.keep_mask = nullptr;
  opt.temperature = -1;
  EXPECT_NE(error_of([&] { vae->sample(opt, rng, s.data()); }).find("temperature"), std::string::npos);
}

TEST(Vae, GaussianDecoderGivesMeansAndLogvars) {
  auto vae = make_vae({{"width", "4"}, {"height", "4"}, {"hidden", "8"}, {"latent", "2"}, {"likelihood", "gaussian"}}, 3);
  EXPECT_EQ(vae->pixel_format(), PixelFormat::Grey01);
  std::vector<float> z = {0.3f, -0.2f}, mean(16), lv(16);
  vae->decode(z.data(), 1, mean.data(), lv.data());
  Rng rng(1);
  std::vector<float> x = test::random_vector(16, rng, 0.f, 1.f);
  // log p(x|z) of the decoder equals the Gaussian density with those means and log-variances.
  std::vector<float> eps = {0.f, 0.f};
  std::vector<float> mu(2), logvar(2);
  vae->encode(x.data(), 1, mu.data(), logvar.data());
  vae->decode(mu.data(), 1, mean.data(), lv.data());
  const LossTerms t = vae->loss_with_noise(x.data(), eps.data(), 1, false);
  EXPECT_NEAR(t.terms.at("recon"), gaussian_nll_forward(mean.data(), lv.data(), x.data(), 16), 1e-9);
}

TEST(Vae, InterpolationEndpointsAndTraversal) {
  const std::vector<float> a = {1.f, -2.f, 0.5f}, b = {-0.3f, 0.7f, 2.f};
  for (bool spherical : {false, true}) {
    const auto p = spherical ? VariationalAutoencoder::interpolate_spherical(a.data(), b.data(), 3, 7)
                             : VariationalAutoencoder::interpolate_linear(a.data(), b.data(), 3, 7);
    ASSERT_EQ(p.size(), 21u);
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(p[j], a[j]);
      EXPECT_EQ(p[18 + j], b[j]);
    }
  }
  // Slerp between codes of equal norm stays on the sphere; lerp cuts through it.
  const std::vector<float> u = {3.f, 0.f, 0.f}, v = {0.f, 3.f, 0.f};
  const auto s = VariationalAutoencoder::interpolate_spherical(u.data(), v.data(), 3, 5);
  const auto l = VariationalAutoencoder::interpolate_linear(u.data(), v.data(), 3, 5);
  EXPECT_NEAR(std::hypot(s[6], s[7], s[8]), 3.0, 1e-5);
  EXPECT_NEAR(std::hypot(l[6], l[7], l[8]), 3.0 / std::sqrt(2.0), 1e-5);
  // Parallel codes fall back to the straight line.
  const std::vector<float> w = {6.f, 0.f, 0.f};
  const auto par = VariationalAutoencoder::interpolate_spherical(u.data(), w.data(), 3, 3);
  EXPECT_FLOAT_EQ(par[3], 4.5f);
  const auto t = VariationalAutoencoder::traverse(a.data(), 3, 1, {-1.f, 0.f, 1.f});
  ASSERT_EQ(t.size(), 9u);
  EXPECT_EQ(t[1], -1.f);
  EXPECT_EQ(t[7], 1.f);
  EXPECT_EQ(t[6], a[0]);
  EXPECT_NE(error_of([&] { VariationalAutoencoder::traverse(a.data(), 3, 3, {0.f}); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { VariationalAutoencoder::interpolate_linear(a.data(), b.data(), 3, 1); }).find("steps"),
            std::string::npos);
}

TEST(Autoencoder, EncodeDecodeAndNoPrior) {
  auto m = make_model({{"model", "ae"}, {"width", "8"}, {"height", "8"}, {"hidden", "16"}, {"latent", "3"}}, 3);
  auto& ae = dynamic_cast<Autoencoder&>(*m);
  Rng rng(1);
  std::vector<float> x = test::random_vector(128, rng, 0.f, 1.f), z(6), d(128), r(128);
  ae.encode(x.data(), 2, z.data());
  ae.decode(z.data(), 2, d.data());
  ae.reconstruct(x.data(), 2, r.data());
  EXPECT_EQ(d, r);
  const LossTerms t = ae.evaluate(x.data(), nullptr, 2, rng);
  EXPECT_NEAR(t.terms.at("recon"), mse_forward(r.data(), x.data(), 128) / 2, 1e-9);
  SampleOptions opt;
  EXPECT_NE(error_of([&] { ae.sample(opt, rng, d.data()); }).find("no prior"), std::string::npos);
}
