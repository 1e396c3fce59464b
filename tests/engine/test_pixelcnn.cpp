// PixelCNN / Gated PixelCNN tests: PixelCNN-S parameter count; causality by perturbation (every input
// sub-pixel against every output, one channel and RGB) and agreement with the receptive-field query;
// the plain stack's blind spot and its absence in the gated one; exact normalisation over all images
// of tiny models; gradient checks of the full loss; cached == naive sampler bit for bit; completion;
// bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "error.h"
#include "gradcheck.h"
#include "model.h"
#include "pixelcnn.h"
#include "rng.h"

namespace genlab {
namespace {

using test::gradcheck;

std::unique_ptr<GenerativeModel> make(const std::string& kind, int C, int L, int levels, int H, int W, int img_c,
                                      bool cond = false, uint64_t seed = 3) {
  ModelConfig cfg{{"model", kind},
                  {"channels", std::to_string(C)},
                  {"layers", std::to_string(L)},
                  {"levels", std::to_string(levels)},
                  {"height", std::to_string(H)},
                  {"width", std::to_string(W)},
                  {"image_channels", std::to_string(img_c)},
                  {"conditional", cond ? "1" : "0"},
                  {"num_classes", "4"}};
  return make_model(cfg, seed);
}

// Random weights with larger biases so that ReLUs are not dead and every path is active.
void randomise(GenerativeModel& m, uint64_t seed, float scale = 0.5f) {
  Rng rng(seed);
  for (const ParamInfo& info : m.params().infos()) {
    float* v = m.params().values().data() + info.offset;
    for (size_t i = 0; i < info.size; ++i) v[i] = scale * (2.f * rng.uniform() - 1.f);
  }
}

std::vector<float> random_images(const GenerativeModel& m, int B, Rng& rng) {
  std::vector<float> x(static_cast<size_t>(B) * m.channels() * m.height() * m.width());
  for (float& v : x)
    v = m.pixel_format() == PixelFormat::Binary ? (rng.uniform() < 0.5f ? 1.f : 0.f) : static_cast<float>(rng.below(256));
  return x;
}

TEST(PixelCnn, DefaultsArePixelCnnS) {
  auto m = make_model({{"model", "pixelcnn"}}, 1);
  size_t n = 0;
  for (const ParamInfo& p : m->params().infos()) n += p.size;
  EXPECT_EQ(n, 48929u);
  EXPECT_EQ(m->height(), 28);
  EXPECT_EQ(m->width(), 28);
  EXPECT_EQ(m->channels(), 1);
  EXPECT_EQ(m->pixel_format(), PixelFormat::Binary);
  EXPECT_TRUE(m->exact_likelihood());
  EXPECT_EQ(m->params().find("conv_in.weight") >= 0, true);
  EXPECT_EQ(m->params().infos()[m->params().find("blocks.4.weight")].shape, (std::vector<int>{32, 32, 3, 3}));
  // Init bound like nn.Conv2d: |w| <= 1/sqrt(fan_in); masked taps are zero.
  const float* w = m->params().value(m->params().find("conv_in.weight"));
  const float bound = 1.f / 7.f;
  for (int o = 0; o < 32; ++o)
    for (int t = 0; t < 49; ++t) {
      EXPECT_LE(std::fabs(w[o * 49 + t]), bound);
      if (t >= 24) {
        EXPECT_EQ(w[o * 49 + t], 0.f);
      }
    }
  // config() round-trips
  auto m2 = make_model(m->config(), 1);
  EXPECT_EQ(m2->config(), m->config());
  auto g = make_model({{"model", "gated-pixelcnn"}}, 1);
  EXPECT_EQ(g->kind(), "gated-pixelcnn");
  EXPECT_EQ(make_pixelcnn_model({{"model", "vae"}}, 1), nullptr);
}

// Changing input sub-pixel j may change the logits of sub-pixel i only if j comes before i, and only
// if the receptive-field query lists j for i.
void check_causality(GenerativeModel& gm) {
  AutoregressiveModel& m = as_autoregressive(gm);
  const int C = m.channels(), HW = m.height() * m.width(), Lv = m.levels() == 2 ? 1 : 256;
  Rng rng(5);
  std::vector<float> x = random_images(m, 1, rng);
  std::vector<int> label{1};
  const int* lab = m.conditional() ? label.data() : nullptr;
  std::vector<float> base, pert;
  m.forward_logits(x.data(), lab, 1, base);
  std::vector<std::vector<uint8_t>> rf(static_cast<size_t>(C) * HW);
  for (int i = 0; i < HW; ++i)
    for (int c = 0; c < C; ++c) rf[c * HW + i] = m.receptive_field(i, c);
  int influences = 0;
  for (int cj = 0; cj < C; ++cj)
    for (int j = 0; j < HW; ++j) {
      std::vector<float> x2 = x;
      float& v = x2[cj * HW + j];
      v = m.levels() == 2 ? 1.f - v : static_cast<float>((static_cast<int>(v) + 97) % 256);
      m.forward_logits(x2.data(), lab, 1, pert);
      for (int ci = 0; ci < C; ++ci)
        for (int i = 0; i < HW; ++i) {
          bool changed = false;
          for (int l = 0; l < Lv; ++l) {
            const size_t k = (static_cast<size_t>(ci) * Lv + l) * HW + i;
            changed |= base[k] != pert[k];
          }
          const bool before = j < i || (j == i && cj < ci);
          if (changed) {
            ++influences;
            ASSERT_TRUE(before) << "input (" << j << "," << cj << ") changes output (" << i << "," << ci << ")";
            ASSERT_TRUE(rf[ci * HW + i][cj * HW + j]) << "receptive field misses (" << j << "," << cj << ") -> ("
                                                       << i << "," << ci << ")";
          }
          if (!before) {
            ASSERT_FALSE(rf[ci * HW + i][cj * HW + j]);
          }
        }
    }
  EXPECT_GT(influences, HW);  // the test can fail: there are real dependencies
}

TEST(PixelCnn, CausalBinaryPlainAndGated) {
  for (const char* kind : {"pixelcnn", "gated-pixelcnn"}) {
    auto m = make(kind, 6, 3, 2, 5, 6, 1, true);
    randomise(*m, 9);
    check_causality(*m);
  }
}

TEST(PixelCnn, CausalRgbSubPixelOrder) {
  for (const char* kind : {"pixelcnn", "gated-pixelcnn"}) {
    auto m = make(kind, 6, 2, 256, 3, 3, 3);
    randomise(*m, 4, 0.3f);
    check_causality(*m);
    auto b = make(kind, 6, 2, 2, 3, 4, 3);  // binary RGB
    randomise(*b, 5);
    check_causality(*b);
  }
}

TEST(PixelCnn, BlindSpotOfPlainStackNoneInGated) {
  const int H = 8, W = 8;
  auto plain = make("pixelcnn", 4, 5, 2, H, W, 1);
  auto gated = make("gated-pixelcnn", 4, 5, 2, H, W, 1);
  // Pixel (1, 0): the plain stack never sees (0, 4..7), however deep it is.
  auto rf = receptive_field(*plain, 1 * W + 0);
  for (int x = 0; x < 4; ++x) EXPECT_TRUE(rf[x]) << x;
  for (int x = 4; x < W; ++x) EXPECT_FALSE(rf[x]) << x;
  int plain_blind = 0;
  for (int i = 0; i < H * W; ++i) {
    auto rp = receptive_field(*plain, i), rg = receptive_field(*gated, i);
    for (int j = 0; j < H * W; ++j) {
      if (j >= i) {
        EXPECT_FALSE(rg[j]);
        EXPECT_FALSE(rp[j]);
        continue;
      }
      EXPECT_TRUE(rg[j]) << "gated misses " << j << " for " << i;
      plain_blind += !rp[j];
    }
  }
  EXPECT_GT(plain_blind, 0);
  EXPECT_THROW(receptive_field(*plain, H * W), Error);
  EXPECT_THROW(receptive_field(*plain, 0, 1), Error);
}

double total_probability(GenerativeModel& gm, const std::vector<float>& all, int n_images, const int* label) {
  AutoregressiveModel& m = as_autoregressive(gm);
  const size_t D = static_cast<size_t>(m.channels()) * m.height() * m.width();
  double total = 0.0;
  const int chunk = 4096;
  std::vector<int> labels(chunk, label ? *label : 0);
  for (int s = 0; s < n_images; s += chunk) {
    const int B = std::min(chunk, n_images - s);
    auto nll = m.nll_per_image(all.data() + s * D, label ? labels.data() : nullptr, B);
    for (double v : nll) total += std::exp(-v);
  }
  return total;
}

TEST(PixelCnn, ExactNormalisationBinary3x3) {
  std::vector<float> all(512 * 9);
  for (int k = 0; k < 512; ++k)
    for (int p = 0; p < 9; ++p) all[k * 9 + p] = static_cast<float>((k >> p) & 1);
  for (const char* kind : {"pixelcnn", "gated-pixelcnn"}) {
    auto m = make(kind, 5, 2, 2, 3, 3, 1, true);
    randomise(*m, 21, 1.f);
    const int label = 2;
    EXPECT_NEAR(total_probability(*m, all, 512, &label), 1.0, 1e-5) << kind;
  }
}

TEST(PixelCnn, ExactNormalisation256Levels1x2) {
  std::vector<float> all(65536 * 2);
  for (int k = 0; k < 65536; ++k) {
    all[k * 2] = static_cast<float>(k & 255);
    all[k * 2 + 1] = static_cast<float>(k >> 8);
  }
  for (const char* kind : {"pixelcnn", "gated-pixelcnn"}) {
    auto m = make(kind, 4, 1, 256, 1, 2, 1);
    randomise(*m, 22, 1.f);
    EXPECT_NEAR(total_probability(*m, all, 65536, nullptr), 1.0, 1e-5) << kind;
  }
}

void check_loss_gradient(GenerativeModel& m, int B, double step, double rtol) {
  Rng rng(8);
  std::vector<float> x = random_images(m, B, rng);
  std::vector<int> labels(B);
  for (int& l : labels) l = static_cast<int>(rng.below(4));
  const int* lab = m.conditional() ? labels.data() : nullptr;
  m.params().zero_grad();
  Rng r2(1);
  LossTerms t = m.train_step_grads(x.data(), lab, B, r2);
  LossTerms e = m.evaluate(x.data(), lab, B, r2);
  EXPECT_NEAR(t.loss, e.loss, 1e-9 * std::fabs(e.loss) + 1e-9);
  EXPECT_NEAR(t.terms["nll"], t.loss, 1e-12);
  std::vector<float> analytic(m.params().grads().begin(), m.params().grads().end());
  auto loss = [&] { return m.evaluate(x.data(), lab, B, r2).loss; };
  auto rep = gradcheck(loss, test::param_grad_tensors(m.params(), analytic),
                       {.step = step, .rtol = rtol, .atol = 2e-4, .max_per_tensor = 24});
  EXPECT_TRUE(rep.ok) << m.kind() << ": " << rep.summary();
}

TEST(PixelCnn, LossGradientCheck) {
  for (const char* kind : {"pixelcnn", "gated-pixelcnn"}) {
    auto bin = make(kind, 4, 2, 2, 4, 5, 1, true);
    randomise(*bin, 31);
    check_loss_gradient(*bin, 3, 1e-3, 2e-2);
    auto rgb = make(kind, 6, 2, 256, 3, 3, 3, true);
    randomise(*rgb, 32, 0.3f);
    check_loss_gradient(*rgb, 2, 1e-3, 2e-2);
  }
}

void expect_same_samples(GenerativeModel& m, SampleOptions opt, uint64_t seed) {
  const size_t D = static_cast<size_t>(m.channels()) * m.height() * m.width();
  std::vector<float> a(opt.n * D), b(opt.n * D);
  std::vector<SampleTraceStep> ta, tb;
  opt.sampler = "naive";
  opt.trace = &ta;
  Rng r1(seed);
  m.sample(opt, r1, a.data());
  opt.sampler = "cached";
  opt.trace = &tb;
  Rng r2(seed);
  m.sample(opt, r2, b.data());
  ASSERT_EQ(a, b) << m.kind();
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    ASSERT_EQ(ta[i].pixel, tb[i].pixel);
    ASSERT_EQ(ta[i].channel, tb[i].channel);
    ASSERT_EQ(ta[i].probs, tb[i].probs);
    ASSERT_EQ(ta[i].value, tb[i].value);
  }
  EXPECT_EQ(r1.next_u64(), r2.next_u64());
  // Samples are in the data format and the trace is consistent with them.
  for (float v : a) {
    if (m.pixel_format() == PixelFormat::Binary) ASSERT_TRUE(v == 0.f || v == 1.f);
    else ASSERT_TRUE(v >= 0.f && v <= 255.f && v == std::round(v));
  }
  for (const SampleTraceStep& s : ta) {
    ASSERT_EQ(s.value, a[s.channel * m.height() * m.width() + s.pixel]);
    double sum = 0;
    for (float p : s.probs) sum += p;
    ASSERT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(PixelCnn, CachedSamplerEqualsNaiveBitForBit) {
  for (const char* kind : {"pixelcnn", "gated-pixelcnn"}) {
    auto bin = make(kind, 8, 3, 2, 7, 6, 1);
    randomise(*bin, 41);
    SampleOptions o;
    o.n = 5;
    expect_same_samples(*bin, o, 1);
    o.temperature = 0.7f;
    expect_same_samples(*bin, o, 2);

    auto cond = make(kind, 8, 3, 2, 6, 6, 1, true);
    randomise(*cond, 42);
    o.label = 3;
    expect_same_samples(*cond, o, 3);
    o.label = -1;  // random labels per image, drawn from the same stream
    expect_same_samples(*cond, o, 4);

    auto rgb = make(kind, 6, 2, 256, 4, 3, 3, true);
    randomise(*rgb, 43, 0.3f);
    o.n = 3;
    o.temperature = 1.3f;
    expect_same_samples(*rgb, o, 5);
  }
}

TEST(PixelCnn, CompletionKeepsGivenPixels) {
  for (const char* kind : {"pixelcnn", "gated-pixelcnn"}) {
    auto m = make(kind, 6, 2, 2, 6, 5, 1);
    randomise(*m, 51);
    const int n = 4, HW = 30;
    Rng rng(2);
    std::vector<float> keep = random_images(*m, n, rng);
    std::vector<uint8_t> mask(HW, 0);
    for (int p = 0; p < 3 * 5; ++p) mask[p] = 1;  // top 3 rows
    mask[22] = 1;                                  // and one pixel further down
    SampleOptions o;
    o.n = n;
    o.keep = keep.data();
    o.keep_mask = mask.data();
    std::vector<float> out(n * HW);
    std::vector<SampleTraceStep> trace;
    o.trace = &trace;
    Rng r(9);
    m->sample(o, r, out.data());
    for (int b = 0; b < n; ++b)
      for (int p = 0; p < HW; ++p)
        if (mask[p]) {
          ASSERT_EQ(out[b * HW + p], keep[b * HW + p]);
        }
    EXPECT_EQ(trace.size(), static_cast<size_t>(HW - 16));
    for (const auto& s : trace) EXPECT_FALSE(mask[s.pixel]);
    expect_same_samples(*m, o, 6);
    // RGB completion with a sub-pixel mask.
    auto rgb = make(kind, 6, 2, 256, 3, 3, 3);
    randomise(*rgb, 52, 0.3f);
    std::vector<float> keep3 = random_images(*rgb, 2, rng);
    std::vector<uint8_t> mask3(27, 0);
    for (int i : {0, 4, 9 + 4, 18 + 8}) mask3[i] = 1;
    SampleOptions o3;
    o3.n = 2;
    o3.keep = keep3.data();
    o3.keep_mask = mask3.data();
    expect_same_samples(*rgb, o3, 7);
  }
}

TEST(PixelCnn, BadInputThrows) {
  EXPECT_THROW(make_model({{"model", "pixelcnn"}, {"channels", "abc"}}, 1), Error);
  EXPECT_THROW(make_model({{"model", "pixelcnn"}, {"levels", "3"}}, 1), Error);
  EXPECT_THROW(make_model({{"model", "pixelcnn"}, {"bogus", "1"}}, 1), Error);
  EXPECT_THROW(make_model({{"model", "gated-pixelcnn"}, {"layers", "0"}}, 1), Error);
  EXPECT_THROW(make_model({{"model", "pixelcnn"}, {"image_channels", "3"}, {"channels", "2"}}, 1), Error);
  auto m = make("pixelcnn", 4, 1, 2, 4, 4, 1);
  std::vector<float> out(16);
  Rng rng(1);
  SampleOptions o;
  o.n = 1;
  o.sampler = "fast";
  EXPECT_THROW(m->sample(o, rng, out.data()), Error);
  o.sampler = "cached";
  o.temperature = 0.f;
  EXPECT_THROW(m->sample(o, rng, out.data()), Error);
  o.temperature = 1.f;
  o.label = 2;
  EXPECT_THROW(m->sample(o, rng, out.data()), Error);
  std::vector<float> x(16, 2.f);
  EXPECT_THROW(m->evaluate(x.data(), nullptr, 1, rng), Error);
  auto c = make("pixelcnn", 4, 1, 2, 4, 4, 1, true);
  std::fill(x.begin(), x.end(), 1.f);
  EXPECT_THROW(c->evaluate(x.data(), nullptr, 1, rng), Error);
  int bad = 7;
  EXPECT_THROW(c->evaluate(x.data(), &bad, 1, rng), Error);
  auto g = make("pixelcnn", 4, 1, 256, 2, 2, 1);
  std::vector<float> xg{1.5f, 0.f, 0.f, 0.f};
  EXPECT_THROW(g->evaluate(xg.data(), nullptr, 1, rng), Error);
}

}  // namespace
}  // namespace genlab
