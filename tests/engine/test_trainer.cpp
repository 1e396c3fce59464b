// Trainer: determinism (same seed -> bit-identical parameters), validation, evaluation metrics of the
// protocol (bounds and bits/dim), training checkpoints (exact round trip, optimiser state, bad files),
// and a short real training run that must learn.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "autoencoder.h"
#include "error.h"
#include "error_of.h"
#include "mnist_splits.h"
#include "trainer.h"

using namespace genlab;

namespace {

TrainConfig small_vae(uint64_t seed) {
  TrainConfig c;
  c.model = {{"model", "vae"}, {"hidden", "32"}, {"latent", "4"}};
  c.batch = 16;
  c.seed = seed;
  return c;
}

bool same_bits(const ParamSet& a, const ParamSet& b) {
  return a.total() == b.total() && std::memcmp(a.values().data(), b.values().data(), a.total() * sizeof(float)) == 0;
}

}  // namespace

TEST(Trainer, SameSeedGivesBitIdenticalParameters) {
  for (const ModelConfig& extra : {ModelConfig{}, ModelConfig{{"arch", "conv"}, {"filters", "4"}},
                                   ModelConfig{{"likelihood", "gaussian"}}, ModelConfig{{"model", "ae"}}}) {
    TrainConfig c = small_vae(42);
    for (const auto& [k, v] : extra) c.model[k] = v;
    Trainer a(c, mnist("train"), mnist("test")), b(c, mnist("train"), mnist("test"));
    a.run_steps(12);
    b.run_steps(7);
    b.run_steps(5);  // slicing does not matter
    EXPECT_TRUE(same_bits(a.model().params(), b.model().params())) << c.model.at("model");
    EXPECT_EQ(a.step(), 12);
    c.seed = 43;
    Trainer d(c, mnist("train"), mnist("test"));
    d.run_steps(12);
    EXPECT_FALSE(same_bits(a.model().params(), d.model().params()));
  }
}

TEST(Trainer, ValidatesConfigAndData) {
  TrainConfig c = small_vae(1);
  c.batch = 0;
  EXPECT_NE(error_of([&] { Trainer t(c, mnist("train"), mnist("test")); }).find("batch size"), std::string::npos);
  c = small_vae(1);
  c.optim.lr.base = -1;
  EXPECT_NE(error_of([&] { Trainer t(c, mnist("train"), mnist("test")); }).find("lr"), std::string::npos);
  c = small_vae(1);
  c.model["width"] = "32";
  EXPECT_NE(error_of([&] { Trainer t(c, mnist("train"), mnist("test")); }).find("model expects 1x28x32"), std::string::npos);
  c = small_vae(1);
  c.model["model"] = "flow";
  EXPECT_NE(error_of([&] { Trainer t(c, mnist("train"), mnist("test")); }).find("unknown model 'flow'"), std::string::npos);
  Trainer t(small_vae(1), mnist("train"), mnist("test"));
  EXPECT_NE(error_of([&] { t.evaluate("valid"); }).find("split"), std::string::npos);
  EXPECT_NE(error_of([&] { t.evaluate("test", -1); }).find("IWAE"), std::string::npos);
}

TEST(Trainer, TestSplitUsesTheFixedBinarisation) {
  Trainer t(small_vae(1), mnist("train"), mnist("test"));
  const auto bits = binarize_fixed(*mnist("test"), kTestBinarizeSeed);
  ASSERT_EQ(t.test_inputs().size(), bits.size());
  for (size_t i = 0; i < bits.size(); ++i) ASSERT_EQ(t.test_inputs()[i], static_cast<float>(bits[i]));
  EXPECT_DOUBLE_EQ(t.epoch(), 0.0);
  t.run_steps(9);
  EXPECT_DOUBLE_EQ(t.epoch(), 9.0 * 16 / 9000);
  EXPECT_EQ(t.curve().size(), 9u);
  EXPECT_GT(t.curve().back().terms.terms.at("kl"), 0.0);
}

TEST(Trainer, EvaluationMetricsOfTheProtocol) {
  Trainer t(small_vae(3), mnist("train"), mnist("test"));
  t.run_steps(20);
  const EvalResult r = t.evaluate("test", 4, 200);
  EXPECT_EQ(r.n, 200);
  const auto& m = r.metrics;
  EXPECT_NEAR(m.at("neg_elbo_nats"), m.at("recon") + m.at("kl"), 1e-9);
  EXPECT_NEAR(m.at("bits_per_dim"), m.at("neg_elbo_nats") / (784 * std::log(2.0)), 1e-12);
  EXPECT_LT(m.at("neg_iwae_nats"), m.at("neg_elbo_nats"));
  EXPECT_EQ(m.at("iwae_k"), 4);
  // Evaluation noise is its own fixed stream: repeatable, and it does not disturb training.
  const EvalResult r2 = t.evaluate("test", 4, 200);
  EXPECT_EQ(r.metrics, r2.metrics);
  EXPECT_EQ(t.evaluate("train", 0, 50).n, 50);

  // Gaussian decoder on dequantised grey levels: the log 256 Jacobian makes it a discrete bound.
  TrainConfig g = small_vae(3);
  g.model["likelihood"] = "gaussian";
  Trainer tg(g, mnist("train"), mnist("test"));
  tg.run_steps(5);
  const auto mg = tg.evaluate("test", 0, 100).metrics;
  const double dq = 784 * std::log(256.0);
  EXPECT_NEAR(mg.at("dequantization_nats"), dq, 1e-9);
  EXPECT_NEAR(mg.at("neg_elbo_nats"), mg.at("recon") + mg.at("kl") + dq, 1e-6);
  EXPECT_NEAR(mg.at("bits_per_dim"), mg.at("neg_elbo_nats") / (784 * std::log(2.0)), 1e-12);
  for (float v : tg.test_inputs()) ASSERT_TRUE(v >= 0.f && v < 1.f);

  TrainConfig a = small_vae(3);
  a.model["model"] = "ae";
  Trainer ta(a, mnist("train"), mnist("test"));
  const auto ma = ta.evaluate("test", 0, 100).metrics;
  EXPECT_GT(ma.at("mse"), 0.0);
  EXPECT_FALSE(ma.count("bits_per_dim"));
}

TEST(Trainer, CheckpointRoundTripIsExact) {
  TrainConfig c = small_vae(8);
  c.optim.lr.base = 2e-3f;
  c.optim.clip_norm = 5.f;
  Trainer t(c, mnist("train"), mnist("test"));
  t.run_steps(10);
  const auto bytes = encode_training_checkpoint(t, true, {{"train.dataset", "mnist10k"}});
  const TrainingCheckpoint ck = decode_training_checkpoint(bytes);
  EXPECT_EQ(ck.step, 10);
  EXPECT_EQ(ck.config.model, t.model().config());
  EXPECT_EQ(ck.config.batch, 16);
  EXPECT_EQ(ck.config.seed, 8u);
  EXPECT_EQ(ck.config.optim.lr.base, 2e-3f);
  EXPECT_EQ(ck.config.optim.clip_norm, 5.f);
  EXPECT_EQ(ck.file.metadata.at("train.dataset"), "mnist10k");
  auto m = model_from_checkpoint(ck);
  EXPECT_TRUE(same_bits(m->params(), t.model().params()));

  // Resuming restores parameters, moments and step: the next update is the same as without the break.
  Trainer resumed(ck.config, mnist("train"), mnist("test"));
  restore_trainer(resumed, ck);
  EXPECT_TRUE(same_bits(resumed.model().params(), t.model().params()));
  EXPECT_EQ(resumed.step(), 10);
  EXPECT_EQ(resumed.optimizer().m(), t.optimizer().m());
  EXPECT_EQ(resumed.optimizer().v(), t.optimizer().v());

  // Without optimiser state: parameters only.
  const TrainingCheckpoint light = decode_training_checkpoint(encode_training_checkpoint(t, false));
  EXPECT_EQ(light.file.find("optim.m.enc.fc1.weight"), nullptr);
  EXPECT_TRUE(same_bits(model_from_checkpoint(light)->params(), t.model().params()));
}

TEST(Trainer, RejectsBadCheckpoints) {
  Trainer t(small_vae(8), mnist("train"), mnist("test"));
  const auto good = encode_training_checkpoint(t, true);
  auto truncated = std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2);
  EXPECT_FALSE(error_of([&] { decode_training_checkpoint(truncated); }).empty());
  EXPECT_FALSE(error_of([&] { decode_training_checkpoint(std::vector<uint8_t>{1, 2, 3}); }).empty());
  // A checkpoint of another architecture does not load into this model (names/shapes differ).
  TrainConfig other = small_vae(8);
  other.model["hidden"] = "33";
  Trainer t2(other, mnist("train"), mnist("test"));
  TrainingCheckpoint ck = decode_training_checkpoint(encode_training_checkpoint(t2, true));
  const std::vector<float> before(t.model().params().values().begin(), t.model().params().values().end());
  EXPECT_FALSE(error_of([&] { restore_trainer(t, ck); }).empty());
  EXPECT_TRUE(std::equal(before.begin(), before.end(), t.model().params().values().begin()));  // untouched
  // Metadata without a model config.
  ck.file.metadata.erase("model.model");
  ParamSet& p = t.model().params();
  const auto no_model = encode_safetensors(p, {{"step", "3"}});
  EXPECT_NE(error_of([&] { decode_training_checkpoint(no_model); }).find("no model config"), std::string::npos);
  const auto bad_step = encode_safetensors(p, {{"model.model", "vae"}, {"step", "x"}});
  EXPECT_NE(error_of([&] { decode_training_checkpoint(bad_step); }).find("'step'"), std::string::npos);
}

TEST(Trainer, ShortRunLearnsDigits) {
  TrainConfig c;
  c.model = {{"model", "vae"}, {"hidden", "200"}, {"latent", "10"}};
  c.seed = 1;
  Trainer t(c, mnist("train"), mnist("test"));
  const double before = t.evaluate("test", 0, 200).metrics.at("neg_elbo_nats");
  t.run_steps(300);
  const double after = t.evaluate("test", 0, 200).metrics.at("neg_elbo_nats");
  EXPECT_GT(before, 500.0);  // random decoder: ~ 784 log 2
  EXPECT_LT(after, 165.0);
}
