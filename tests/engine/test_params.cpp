// ParamSet: layout (16-float alignment), names, and lazily zeroed gradients: after zero_grad every
// accessor sees zeros, grad_for_overwrite hands out beta 0 exactly once per tensor and step.
#include <gtest/gtest.h>

#include <algorithm>

#include "error_of.h"
#include "params.h"

using namespace genlab;

TEST(ParamSet, LayoutAndNames) {
  ParamSet p;
  const int a = p.add("a.weight", {3, 5}), b = p.add("a.bias", {3});
  EXPECT_NE(error_of([&] { p.add("a.bias", {2}); }).find("duplicate"), std::string::npos);
  EXPECT_NE(error_of([&] { p.add("c", {0}); }).find("non-positive"), std::string::npos);
  p.allocate();
  EXPECT_EQ(p.find("a.bias"), b);
  EXPECT_EQ(p.find("nope"), -1);
  EXPECT_EQ(p.infos()[a].offset % 16, 0u);
  EXPECT_EQ(p.infos()[b].offset % 16, 0u);
  EXPECT_EQ(p.total(), 16u + 3u);
}

TEST(ParamSet, GradientsAreZeroedLazily) {
  ParamSet p;
  const int a = p.add("a", {40}), b = p.add("b", {7}), c = p.add("c", {5});
  p.allocate();
  for (float& g : p.grads()) g = 3.f;  // stale values from a previous step
  p.zero_grad();
  // grad(): zeroed on first access, then accumulates.
  float* ga = p.grad(a);
  EXPECT_TRUE(std::all_of(ga, ga + 40, [](float x) { return x == 0.f; }));
  ga[0] += 1.f;
  EXPECT_EQ(p.grad(a)[0], 1.f);
  // grad_for_overwrite(): beta 0 first (old values left for the caller to overwrite), then 1.
  float beta = -1.f;
  float* gb = p.grad_for_overwrite(b, beta);
  EXPECT_EQ(beta, 0.f);
  EXPECT_EQ(gb[0], 3.f);
  std::fill_n(gb, 7, 2.f);
  p.grad_for_overwrite(b, beta);
  EXPECT_EQ(beta, 1.f);
  p.grad_for_overwrite(a, beta);
  EXPECT_EQ(beta, 1.f);  // already written through grad()
  // grads() and the const accessor: untouched tensors read as zeros.
  const ParamSet& cp = p;
  EXPECT_EQ(cp.grad(c)[4], 0.f);
  const auto all = p.grads();
  EXPECT_EQ(all[p.infos()[a].offset], 1.f);
  EXPECT_EQ(all[p.infos()[b].offset + 6], 2.f);
  EXPECT_EQ(all[p.infos()[c].offset], 0.f);
  // A second zero_grad: everything reads as zero again.
  p.zero_grad();
  const auto again = p.grads();
  EXPECT_TRUE(std::all_of(again.begin(), again.end(), [](float x) { return x == 0.f; }));
}
