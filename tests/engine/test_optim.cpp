// Optimiser tests: Adam and SGD updates against values printed by PyTorch 1.13 (torch.optim.Adam,
// torch.optim.SGD, clip_grad_norm_, lr_scheduler.StepLR; script in the comment below), gradient
// clipping, the LR schedule, validation messages, determinism.
//
// Reference values come from /usr/bin/python3 with Debian's python3-torch:
//   p = torch.tensor([0.5, -1.0, 2.0], requires_grad=True); opt = torch.optim.Adam([p], lr=1e-2)
//   for g in GRADS: opt.zero_grad(); p.grad = torch.tensor(g); [clip_grad_norm_([p], c)]; opt.step(); [sched.step()]
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "error.h"
#include "optim.h"

namespace genlab {
namespace {

const std::vector<float> kP0 = {0.5f, -1.f, 2.f};
const std::vector<std::vector<float>> kGrads = {{0.1f, -0.2f, 0.3f}, {0.4f, 0.1f, -0.5f}, {-0.3f, 0.2f, 0.05f},
                                                {1.f, -2.f, 0.5f}};
using Trajectory = std::vector<std::vector<float>>;

// Runs the optimiser over kGrads and checks every step's parameters against PyTorch's.
void expect_trajectory(const OptimConfig& cfg, const Trajectory& torch_params, const std::vector<float>& torch_norms = {}) {
  std::vector<float> p = kP0;
  Optimizer opt(p.size(), cfg);
  for (size_t s = 0; s < kGrads.size(); ++s) {
    std::vector<float> g = kGrads[s];
    const float norm = opt.step(p, g);
    for (size_t i = 0; i < p.size(); ++i)
      EXPECT_NEAR(p[i], torch_params[s][i], 4e-7 * std::max(1.f, std::fabs(torch_params[s][i])))
          << cfg.kind << " step " << s + 1 << " param " << i;
    if (!torch_norms.empty()) {
      EXPECT_NEAR(norm, torch_norms[s], 1e-6);
    }
  }
  EXPECT_EQ(opt.steps(), static_cast<int64_t>(kGrads.size()));
}

OptimConfig adam(float lr) {
  OptimConfig c;
  c.kind = "adam";
  c.lr.base = lr;
  return c;
}
OptimConfig sgd(float lr, float momentum) {
  OptimConfig c;
  c.kind = "sgd";
  c.lr.base = lr;
  c.momentum = momentum;
  return c;
}

TEST(Adam, MatchesPyTorch) {
  expect_trajectory(adam(1e-2f), {{0.49000001f, -0.99000001f, 1.99000001f},
                                  {0.48115623f, -0.987336636f, 1.99293566f},
                                  {0.479389161f, -0.990063608f, 1.99465048f},
                                  {0.473554075f, -0.984647512f, 1.99194062f}});
}

TEST(Adam, MatchesPyTorchWithWeightDecayBetasEps) {
  OptimConfig c = adam(5e-2f);
  c.beta1 = 0.8f;
  c.beta2 = 0.99f;
  c.eps = 1e-6f;
  c.weight_decay = 0.1f;
  expect_trajectory(c, {{0.450000346f, -0.950000167f, 1.95000005f},
                        {0.402830571f, -0.919154763f, 1.9436208f},
                        {0.39012295f, -0.910226285f, 1.92566097f},
                        {0.355760992f, -0.875961721f, 1.89150727f}});
}

TEST(Adam, MatchesPyTorchWithGradClipping) {
  OptimConfig c = adam(1e-2f);
  c.clip_norm = 0.5f;
  expect_trajectory(c,
                    {{0.49000001f, -0.99000001f, 1.99000001f},
                     {0.480856121f, -0.986428201f, 1.991763f},
                     {0.480006546f, -0.988770366f, 1.99246812f},
                     {0.476807743f, -0.985014021f, 1.99177039f}},
                    {0.37416574358940125f, 0.6480740904808044f, 0.36400550603866577f, 2.291287899017334f});
}

TEST(Sgd, MatchesPyTorchWithMomentum) {
  expect_trajectory(sgd(0.1f, 0.9f), {{0.49000001f, -0.980000019f, 1.97000003f},
                                      {0.441000015f, -0.972000003f, 1.99300003f},
                                      {0.426900029f, -0.984799981f, 2.00870013f},
                                      {0.314210027f, -0.796319962f, 1.97283018f}});
}

TEST(Sgd, MatchesPyTorchWithMomentumAndWeightDecay) {
  OptimConfig c = sgd(0.1f, 0.5f);
  c.weight_decay = 0.01f;
  expect_trajectory(c, {{0.489499986f, -0.978999972f, 1.96800005f},
                        {0.443760484f, -0.977520943f, 2.00003195f},
                        {0.450446963f, -0.995803952f, 2.00904799f},
                        {0.353339761f, -0.803949654f, 1.9615469f}});
}

TEST(Sgd, MatchesPyTorchWithoutMomentum) {
  expect_trajectory(sgd(0.1f, 0.f), {{0.49000001f, -0.980000019f, 1.97000003f},
                                     {0.450000018f, -0.99000001f, 2.01999998f},
                                     {0.480000019f, -1.00999999f, 2.01499987f},
                                     {0.380000025f, -0.810000002f, 1.96499991f}});
}

// clip_grad_norm_(max_norm=0.5) + StepLR(step_size=2, gamma=0.5) stepped after every optimiser step.
TEST(Sgd, MatchesPyTorchWithClippingAndStepLr) {
  OptimConfig c = sgd(0.1f, 0.9f);
  c.clip_norm = 0.5f;
  c.lr.decay = 0.5f;
  c.lr.decay_steps = 2;
  expect_trajectory(c, {{0.49000001f, -0.980000019f, 1.97000003f},
                        {0.450139374f, -0.969715178f, 1.98157585f},
                        {0.447202086f, -0.975086987f, 1.984285f},
                        {0.433647633f, -0.958099842f, 1.98126769f}});
}

TEST(Adam, FirstStepMovesEveryParameterByLrTimesSign) {
  // m_hat / sqrt(v_hat) = g / |g| on the first step: an independent check of the bias corrections.
  std::vector<float> p(100, 0.f), g(100);
  for (size_t i = 0; i < g.size(); ++i) g[i] = (i % 2 ? 1.f : -1.f) * (0.01f + 0.1f * static_cast<float>(i));
  Optimizer opt(p.size(), adam(1e-3f));
  opt.step(p, g);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], g[i] > 0 ? -1e-3f : 1e-3f, 1e-8f);
}

TEST(Clip, ScalesToMaxNormLikePyTorch) {
  std::vector<float> g = {3.f, 4.f};
  EXPECT_FLOAT_EQ(clip_grad_norm(g, 1.f), 5.f);
  const float coef = static_cast<float>(1.0 / (5.0 + 1e-6));
  EXPECT_FLOAT_EQ(g[0], 3.f * coef);
  EXPECT_FLOAT_EQ(g[1], 4.f * coef);
  std::vector<float> small = {0.3f, 0.4f};
  EXPECT_FLOAT_EQ(clip_grad_norm(small, 1.f), 0.5f);
  EXPECT_EQ(small[0], 0.3f);  // untouched below the limit
  std::vector<float> none = {30.f, 40.f};
  EXPECT_FLOAT_EQ(clip_grad_norm(none, 0.f), 50.f);  // 0 = report only
  EXPECT_EQ(none[1], 40.f);
}

TEST(LrSchedule, StaircaseDecay) {
  LrSchedule s;
  s.base = 1e-3f;
  EXPECT_EQ(s.at(0), 1e-3f);
  EXPECT_EQ(s.at(1000000), 1e-3f);  // decay = 1: constant
  s.decay = 0.5f;
  s.decay_steps = 10;
  EXPECT_FLOAT_EQ(s.at(0), 1e-3f);
  EXPECT_FLOAT_EQ(s.at(9), 1e-3f);
  EXPECT_FLOAT_EQ(s.at(10), 5e-4f);
  EXPECT_FLOAT_EQ(s.at(25), 2.5e-4f);
  EXPECT_FLOAT_EQ(s.at(100), 1e-3f / 1024.f);
}

TEST(Optimizer, ValidateRejectsBadValuesWithTheirName) {
  struct Case {
    void (*edit)(OptimConfig&);
    const char* message;
  };
  const Case cases[] = {
      {[](OptimConfig& c) { c.kind = "rmsprop"; }, "unknown kind 'rmsprop'"},
      {[](OptimConfig& c) { c.lr.base = 0.f; }, "lr = 0"},
      {[](OptimConfig& c) { c.lr.base = -1e-3f; }, "lr = -0.001"},
      {[](OptimConfig& c) { c.lr.base = 100.f; }, "lr = 100"},
      {[](OptimConfig& c) { c.lr.base = NAN; }, "lr = nan"},
      {[](OptimConfig& c) { c.lr.decay = 1.5f; }, "lr_decay"},
      {[](OptimConfig& c) { c.lr.decay = 0.f; }, "lr_decay"},
      {[](OptimConfig& c) { c.lr.decay_steps = 0; }, "lr_decay_steps"},
      {[](OptimConfig& c) { c.beta1 = 1.f; }, "beta1"},
      {[](OptimConfig& c) { c.beta2 = -0.1f; }, "beta2"},
      {[](OptimConfig& c) { c.eps = 0.f; }, "eps"},
      {[](OptimConfig& c) { c.momentum = 1.f; }, "momentum"},
      {[](OptimConfig& c) { c.weight_decay = -1.f; }, "weight_decay"},
      {[](OptimConfig& c) { c.clip_norm = -1.f; }, "clip_norm"},
      {[](OptimConfig& c) { c.clip_norm = INFINITY; }, "clip_norm"},
  };
  EXPECT_NO_THROW(validate(OptimConfig{}));
  for (const Case& k : cases) {
    OptimConfig c;
    k.edit(c);
    try {
      validate(c);
      ADD_FAILURE() << "no error for " << k.message;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(k.message), std::string::npos) << e.what();
    }
    EXPECT_THROW(Optimizer(3, c), Error);
  }
}

TEST(Optimizer, RejectsBuffersOfTheWrongSize) {
  Optimizer opt(3, OptimConfig{});
  std::vector<float> p(4), g(4);
  EXPECT_THROW(opt.step(p, g), Error);
  EXPECT_EQ(opt.steps(), 0);
}

TEST(Optimizer, StateRoundTripResumesIdentically) {
  // Saving m, v and the step count and restoring them continues bit-identically (checkpoints, autosave).
  for (const char* kind : {"adam", "sgd"}) {
    OptimConfig c;
    c.kind = kind;
    c.lr.base = 1e-2f;
    std::vector<float> p = kP0;
    Optimizer a(3, c);
    std::vector<float> g = kGrads[0];
    a.step(p, g);
    g = kGrads[1];
    a.step(p, g);
    Optimizer b(3, c);
    b.m() = a.m();
    b.v() = a.v();
    b.set_steps(a.steps());
    std::vector<float> pa = p, pb = p;
    for (size_t s = 2; s < kGrads.size(); ++s) {
      std::vector<float> ga = kGrads[s], gb = kGrads[s];
      a.step(pa, ga);
      b.step(pb, gb);
    }
    EXPECT_EQ(pa, pb) << kind;
    EXPECT_EQ(std::string(kind) == "adam" ? 3u : 0u, b.v().size());
  }
}

}  // namespace
}  // namespace genlab
