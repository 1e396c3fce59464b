// Masked convolution tests: live-tap counts and the R -> G -> B group rules, forward against a
// direct loop over the masked kernel (every spec kind, one channel and RGB), forward_at against
// forward and its position independence (bit for bit), gradient checks of backward, dead taps get no
// gradient, receptive-field propagation, bad specs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "error.h"
#include "gradcheck.h"
#include "masked_conv.h"
#include "rng.h"

namespace genlab {
namespace {

using test::dot_double;
using test::gradcheck;
using test::random_vector;

// Direct loop on planes [C][B][H][W] over the live taps of the full kernel, in double.
std::vector<double> reference_forward(const MaskedConv2d& conv, const std::vector<float>& in, const std::vector<float>& W,
                                      const std::vector<float>& b, int B, int H, int Wd) {
  const MaskedConvSpec& s = conv.spec();
  const size_t HW = static_cast<size_t>(H) * Wd, N = B * HW;
  std::vector<double> out(s.out_c * N, 0.0);
  for (int o = 0; o < s.out_c; ++o)
    for (int bi = 0; bi < B; ++bi)
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < Wd; ++x) {
          double acc = b.empty() ? 0.0 : b[o];
          for (int ci = 0; ci < s.in_c; ++ci)
            for (int ky = 0; ky < s.kh; ++ky)
              for (int kx = 0; kx < s.kw; ++kx) {
                if (!conv.is_live(o, ci, ky, kx)) continue;
                const int sy = y + ky - s.anchor_y, sx = x + kx - s.anchor_x;
                if (sy < 0 || sy >= H || sx < 0 || sx >= Wd) continue;
                acc += static_cast<double>(W[((o * s.in_c + ci) * s.kh + ky) * s.kw + kx]) *
                       in[ci * N + bi * HW + sy * Wd + sx];
              }
          out[o * N + bi * HW + y * Wd + x] = acc;
        }
  return out;
}

std::vector<MaskedConvSpec> all_specs() {
  const ChannelGroups one{1, 1}, rgb{3, 3}, hid{3, 6}, pair{3, 6};
  return {
      pixelcnn_mask_spec(1, 4, 7, MaskType::A, one, {1, 4}),
      pixelcnn_mask_spec(4, 4, 3, MaskType::B, {1, 4}, {1, 4}),
      pixelcnn_mask_spec(3, 6, 5, MaskType::A, rgb, hid),
      pixelcnn_mask_spec(6, 6, 3, MaskType::B, hid, hid),
      vertical_stack_spec(3, 12, 3, rgb, pair),
      down_shift_spec(6, 12, pair, pair),
      horizontal_stack_spec(3, 12, 5, MaskType::A, rgb, pair),
      horizontal_stack_spec(6, 12, 3, MaskType::B, hid, pair),
      pointwise_spec(6, 9, hid, {3, 9}),
  };
}

TEST(MaskedConv, LiveTapCounts) {
  MaskedConv2d b3(pixelcnn_mask_spec(1, 2, 3, MaskType::B, {1, 1}, {1, 2}));
  EXPECT_EQ(b3.live_rows(), 5);
  EXPECT_EQ(b3.live_inputs(0), 5);
  MaskedConv2d a7(pixelcnn_mask_spec(1, 2, 7, MaskType::A, {1, 1}, {1, 2}));
  EXPECT_EQ(a7.live_rows(), 24);
  EXPECT_EQ(a7.live_inputs(1), 24);
  MaskedConv2d b3c(pixelcnn_mask_spec(32, 32, 3, MaskType::B, {1, 32}, {1, 32}));
  EXPECT_EQ(b3c.live_rows(), 5 * 32);
  EXPECT_EQ(b3c.weight_size(), 32u * 32 * 9);
  EXPECT_EQ(b3c.fan_in(), 32 * 9);
}

TEST(MaskedConv, ColourGroupRules) {
  // RGB input -> 6 channels (groups R:0,1 G:2,3 B:4,5). Mask A: output group g sees centre inputs < g.
  MaskedConv2d a(pixelcnn_mask_spec(3, 6, 3, MaskType::A, {3, 3}, {3, 6}));
  MaskedConv2d b(pixelcnn_mask_spec(3, 6, 3, MaskType::B, {3, 3}, {3, 6}));
  for (int o = 0; o < 6; ++o)
    for (int ci = 0; ci < 3; ++ci) {
      EXPECT_EQ(a.is_live(o, ci, 1, 1), ci < o / 2) << o << " " << ci;
      EXPECT_EQ(b.is_live(o, ci, 1, 1), ci <= o / 2) << o << " " << ci;
      EXPECT_TRUE(a.is_live(o, ci, 0, 2));   // row above: every channel
      EXPECT_TRUE(a.is_live(o, ci, 1, 0));   // left: every channel
      EXPECT_FALSE(a.is_live(o, ci, 1, 2));  // right: never
      EXPECT_FALSE(b.is_live(o, ci, 2, 1));  // below: never
    }
  EXPECT_EQ(a.live_inputs(0), 4 * 3);
  EXPECT_EQ(a.live_inputs(2), 4 * 3 + 1);
  EXPECT_EQ(a.live_inputs(5), 4 * 3 + 2);
  EXPECT_EQ(b.live_inputs(5), 4 * 3 + 3);
  // Gated [tanh | sigmoid] halves: channel c and c + 6 share a group.
  ChannelGroups pair{3, 6};
  for (int c = 0; c < 6; ++c) EXPECT_EQ(pair.of(c), pair.of(c + 6));
}

TEST(MaskedConv, ForwardMatchesDirectLoopAndForwardAtIsPositionIndependent) {
  Rng rng(7);
  const int B = 2, H = 5, Wd = 6;
  for (const MaskedConvSpec& spec : all_specs()) {
    MaskedConv2d conv(spec);
    const size_t HW = H * Wd, N = B * HW;
    auto in = random_vector(spec.in_c * N, rng), W = random_vector(conv.weight_size(), rng);
    auto b = random_vector(spec.out_c, rng), extra = random_vector(spec.out_c * B, rng);
    conv.pack(W.data());
    MaskedConvWorkspace ws;
    std::vector<float> out(spec.out_c * N);
    conv.forward(out.data(), in.data(), b.data(), nullptr, Activation::Identity, B, H, Wd, ws);
    auto ref = reference_forward(conv, in, W, b, B, H, Wd);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], ref[i], 1e-4) << i;

    // Per-image bias and fused ReLU.
    std::vector<float> out2(spec.out_c * N);
    conv.forward(out2.data(), in.data(), b.data(), extra.data(), Activation::ReLU, B, H, Wd, ws);
    for (int o = 0; o < spec.out_c; ++o)
      for (int bi = 0; bi < B; ++bi)
        for (size_t p = 0; p < HW; ++p) {
          const size_t j = o * N + bi * HW + p;
          ASSERT_NEAR(out2[j], std::max(0.0, ref[j] + extra[o * B + bi]), 1e-4);
        }

    // forward_at works on pixel-major planes [C][HW][B]: all positions ~ forward; one position at a
    // time == all positions == a row at a time, bit for bit.
    auto to_pixel_major = [&](const std::vector<float>& v, int C) {
      std::vector<float> t(v.size());
      for (int c = 0; c < C; ++c)
        for (int bi = 0; bi < B; ++bi)
          for (size_t p = 0; p < HW; ++p) t[c * N + p * B + bi] = v[c * N + bi * HW + p];
      return t;
    };
    const std::vector<float> in_pm = to_pixel_major(in, spec.in_c), out2_pm = to_pixel_major(out2, spec.out_c);
    std::vector<int> all(HW);
    for (size_t p = 0; p < HW; ++p) all[p] = static_cast<int>(p);
    std::vector<float> at_all(spec.out_c * N, -1.f), at_one(spec.out_c * N, -2.f);
    conv.forward_at(at_all.data(), in_pm.data(), b.data(), extra.data(), Activation::ReLU, B, H, Wd, all.data(),
                    static_cast<int>(HW), ws);
    for (size_t i = 0; i < out2.size(); ++i) ASSERT_NEAR(at_all[i], out2_pm[i], 1e-4);
    for (int p = static_cast<int>(HW) - 1; p >= 0; --p)
      conv.forward_at(at_one.data(), in_pm.data(), b.data(), extra.data(), Activation::ReLU, B, H, Wd, &p, 1, ws);
    for (size_t i = 0; i < out2.size(); ++i) ASSERT_EQ(at_all[i], at_one[i]) << i;
    std::vector<float> at_row(spec.out_c * N, -3.f);
    for (int y = 0; y < H; ++y)
      conv.forward_at(at_row.data(), in_pm.data(), b.data(), extra.data(), Activation::ReLU, B, H, Wd,
                      all.data() + y * Wd, Wd, ws);
    for (size_t i = 0; i < out2.size(); ++i) ASSERT_EQ(at_all[i], at_row[i]) << i;
  }
}

TEST(MaskedConv, BackwardGradcheckAndDeadTapsGetNoGradient) {
  Rng rng(11);
  const int B = 2, H = 4, Wd = 5;
  for (const MaskedConvSpec& spec : all_specs()) {
    MaskedConv2d conv(spec);
    const size_t N = static_cast<size_t>(B) * H * Wd;
    auto in = random_vector(spec.in_c * N, rng), W = random_vector(conv.weight_size(), rng);
    auto b = random_vector(spec.out_c, rng), r = random_vector(spec.out_c * N, rng);
    MaskedConvWorkspace ws;
    std::vector<float> out(spec.out_c * N);
    auto loss = [&] {
      conv.pack(W.data());
      conv.forward(out.data(), in.data(), b.data(), nullptr, Activation::Identity, B, H, Wd, ws);
      return dot_double(out.data(), r.data(), out.size());
    };
    loss();
    // Backward ADDS: start from a non-zero gradient and subtract it afterwards.
    std::vector<float> din(in.size(), 0.5f), dW(W.size(), 0.25f), db(b.size(), -1.f);
    conv.backward(din.data(), dW.data(), db.data(), r.data(), in.data(), B, H, Wd, ws);
    for (float& v : din) v -= 0.5f;
    for (float& v : dW) v -= 0.25f;
    for (float& v : db) v += 1.f;
    for (int o = 0; o < spec.out_c; ++o)
      for (int ci = 0; ci < spec.in_c; ++ci)
        for (int ky = 0; ky < spec.kh; ++ky)
          for (int kx = 0; kx < spec.kw; ++kx)
            if (!conv.is_live(o, ci, ky, kx)) {
              ASSERT_EQ(dW[((o * spec.in_c + ci) * spec.kh + ky) * spec.kw + kx], 0.f);
            }
    auto rep = gradcheck(loss, {{"in", in.data(), din.data(), in.size()}, {"W", W.data(), dW.data(), W.size()},
                                {"b", b.data(), db.data(), b.size()}},
                         {.step = 1e-2, .rtol = 1e-3, .atol = 1e-3, .max_per_tensor = 120});
    EXPECT_TRUE(rep.ok) << rep.summary();
  }
}

TEST(MaskedConv, ZeroDeadAndReachInputs) {
  MaskedConv2d a(pixelcnn_mask_spec(1, 1, 3, MaskType::A, {1, 1}, {1, 1}));
  std::vector<float> W(9, 1.f);
  a.zero_dead(W.data());
  EXPECT_EQ(W, (std::vector<float>{1, 1, 1, 1, 0, 0, 0, 0, 0}));
  const int H = 4, Wd = 4;
  std::vector<uint8_t> need(H * Wd, 0), in(H * Wd, 0);
  need[1 * Wd + 1] = 1;
  a.reach_inputs(need.data(), in.data(), H, Wd);
  std::vector<uint8_t> expect(H * Wd, 0);
  for (int p : {0, 1, 2, 4}) expect[p] = 1;
  EXPECT_EQ(in, expect);
  // Down shift reads the pixel above only.
  MaskedConv2d d(down_shift_spec(1, 1, {1, 1}, {1, 1}));
  std::fill(in.begin(), in.end(), 0);
  d.reach_inputs(need.data(), in.data(), H, Wd);
  std::fill(expect.begin(), expect.end(), 0);
  expect[1] = 1;
  EXPECT_EQ(in, expect);
}

TEST(MaskedConv, BadSpecsThrow) {
  EXPECT_THROW(pixelcnn_mask_spec(1, 1, 4, MaskType::A, {1, 1}, {1, 1}), Error);
  EXPECT_THROW(MaskedConv2d(pixelcnn_mask_spec(3, 4, 3, MaskType::A, {3, 3}, {3, 3})), Error);  // 4 % 3 != 0
  MaskedConvSpec s = pointwise_spec(2, 2, {1, 2}, {1, 2});
  s.taps.push_back(TapKind::Full);
  EXPECT_THROW(MaskedConv2d{s}, Error);
  EXPECT_THROW(MaskedConv2d(pointwise_spec(0, 2, {1, 1}, {1, 2})), Error);
}

}  // namespace
}  // namespace genlab
