// Engine threads (parallel.h) and the trainer's batch split: run_pair semantics (both jobs run,
// exceptions cross threads, nesting stays on one thread), and training on 2 threads against 1 thread:
// the same images and noise, the same batch-mean gradient summed in another order, so parameters agree
// to rounding; a 2-thread run is itself deterministic. Also run by the threaded wasm tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

#include "error.h"
#include "mnist_splits.h"
#include "parallel.h"
#include "trainer.h"

using namespace genlab;

namespace {

// Restores 1 thread however the test ends.
struct ThreadsGuard {
  explicit ThreadsGuard(int n) { set_threads(n); }
  ~ThreadsGuard() { set_threads(1); }
};

struct RunResult {
  std::vector<float> params, grads;  // grads: of the last step (the optimiser leaves them in place)
  LossTerms last;
  double test_loss = 0;
};

RunResult train(const TrainConfig& c, int threads_n, int steps) {
  ThreadsGuard guard(threads_n);
  Trainer t(c, mnist("train"), mnist("test"));
  RunResult r;
  r.last = t.run_steps(steps);
  const ParamSet& p = t.model().params();
  r.params.assign(p.values().begin(), p.values().end());
  r.grads.assign(p.grads().begin(), p.grads().end());
  r.test_loss = t.evaluate("test", 0, 200).metrics.begin()->second;
  return r;
}

float max_abs(const std::vector<float>& v) {
  float m = 0.f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}
float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TrainConfig config(const ModelConfig& m, int batch) {
  TrainConfig c;
  c.model = m;
  c.batch = batch;
  c.seed = 11;
  return c;
}

}  // namespace

TEST(Parallel, RunPairRunsBothJobs) {
  for (int n : {1, 2}) {
    ThreadsGuard guard(n);
    EXPECT_EQ(threads(), std::min(n, max_threads()));
    std::atomic<int> a{0}, b{0};
    bool inside_first = false, inside_second = false;
    for (int i = 0; i < 100; ++i)
      run_pair(
          [&] {
            a += 1;
            inside_first = in_run_pair();
          },
          [&] {
            b += 2;
            inside_second = in_run_pair();
          });
    EXPECT_EQ(a.load(), 100);
    EXPECT_EQ(b.load(), 200);
    EXPECT_TRUE(inside_first);
    EXPECT_TRUE(inside_second);
    EXPECT_FALSE(in_run_pair());
  }
}

TEST(Parallel, TwoThreadsReallyRunConcurrently) {
  if (max_threads() < 2) GTEST_SKIP() << "this build has no threads";
  ThreadsGuard guard(2);
  // Each job waits for the other: only finishes when the two run at the same time.
  std::atomic<int> arrived{0};
  auto job = [&] {
    arrived += 1;
    for (int spin = 0; arrived.load() < 2 && spin < 200000000; ++spin) std::this_thread::yield();
  };
  run_pair(job, job);
  EXPECT_EQ(arrived.load(), 2);
}

TEST(Parallel, ExceptionsReachTheCallerAfterBothJobs) {
  for (int n : {1, 2}) {
    ThreadsGuard guard(n);
    bool second_ran = false;
    try {
      run_pair([] { throw Error("first failed"); }, [&] { second_ran = true; });
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "first failed");
    }
    EXPECT_TRUE(second_ran);
    try {
      run_pair([] {}, [] { throw std::runtime_error("second failed"); });
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "second failed");
    }
    try {
      run_pair([] { throw Error("first"); }, [] { throw Error("second"); });
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "first");  // the first job's error wins
    }
    // The helper is still usable afterwards.
    int x = 0, y = 0;
    run_pair([&] { x = 1; }, [&] { y = 10; });
    EXPECT_EQ(x + y, 11);
  }
}

TEST(Parallel, NestedRunPairRunsInline) {
  ThreadsGuard guard(2);
  int inner = 0;
  run_pair([&] { run_pair([&] { inner += 1; }, [&] { inner += 2; }); }, [] {});
  EXPECT_EQ(inner, 3);
}

TEST(Parallel, SetThreadsClamps) {
  set_threads(0);
  EXPECT_EQ(threads(), 1);
  set_threads(64);
  EXPECT_EQ(threads(), max_threads());
  set_threads(1);
  EXPECT_EQ(threads(), 1);
}

// Every model family, odd and even batches (unequal halves), conditional labels: 2 threads agree with 1.
TEST(Parallel, TrainingOnTwoThreadsMatchesOneThread) {
  if (max_threads() < 2) GTEST_SKIP() << "this build has no threads";
  const std::vector<TrainConfig> configs = {
      config({{"model", "vae"}, {"hidden", "64"}, {"latent", "8"}}, 9),
      config({{"model", "vae"}, {"arch", "conv"}, {"filters", "4"}, {"latent", "4"}}, 8),
      config({{"model", "ae"}, {"hidden", "32"}, {"latent", "4"}}, 6),
      config({{"model", "pixelcnn"}, {"channels", "8"}, {"layers", "2"}}, 7),
      config({{"model", "pixelcnn"}, {"channels", "8"}, {"layers", "2"}, {"conditional", "1"}}, 6),
      config({{"model", "gated-pixelcnn"}, {"channels", "8"}, {"layers", "2"}}, 4),
  };
  for (TrainConfig c : configs) {
    const std::string what = c.model.at("model") + " batch " + std::to_string(c.batch);
    // One step: the gradient and the loss terms are the batch means of the same images and noise. (Other
    // noise, or wrongly weighted halves, changes the gradient at the scale of its largest entries.)
    const RunResult one = train(c, 1, 1), two = train(c, 2, 1);
    ASSERT_EQ(one.grads.size(), two.grads.size());
    EXPECT_LE(max_abs_diff(one.grads, two.grads), 2e-6f * max_abs(one.grads)) << what;
    EXPECT_NEAR(one.last.loss, two.last.loss, 1e-6 * std::fabs(one.last.loss)) << what;
    for (const auto& [k, v] : one.last.terms) {
      if (k == "grad_norm") continue;
      EXPECT_NEAR(v, two.last.terms.at(k), 1e-6 * std::fabs(v) + 1e-9) << what << " " << k;
    }
    ASSERT_EQ(one.last.kl_per_dim.size(), two.last.kl_per_dim.size()) << what;
    for (size_t j = 0; j < one.last.kl_per_dim.size(); ++j)
      EXPECT_NEAR(one.last.kl_per_dim[j], two.last.kl_per_dim[j], 1e-6) << what;
    // Ten SGD steps: the parameters stay together (Adam would magnify rounding in near-zero gradients,
    // whose sign it follows).
    c.optim.kind = "sgd";
    c.optim.lr.base = 1e-3f;
    c.optim.momentum = 0.f;
    const RunResult sgd1 = train(c, 1, 10), sgd2 = train(c, 2, 10);
    EXPECT_LE(max_abs_diff(sgd1.params, sgd2.params), 1e-5f * max_abs(sgd1.params)) << what;
    EXPECT_NEAR(sgd1.test_loss, sgd2.test_loss, 1e-5 * std::fabs(sgd1.test_loss)) << what;
    // Adam with clipping combines the halves in a pass of its own (without: inside the update).
    c.optim = OptimConfig{};
    c.optim.clip_norm = 1.f;
    const RunResult clip1 = train(c, 1, 3), clip2 = train(c, 2, 3);
    EXPECT_LE(max_abs_diff(clip1.grads, clip2.grads), 1e-4f * max_abs(clip1.grads)) << what;
    EXPECT_NEAR(clip1.last.terms.at("grad_norm"), clip2.last.terms.at("grad_norm"),
                1e-4 * clip1.last.terms.at("grad_norm")) << what;
    // Deterministic for a given thread count (Adam, several steps).
    c.optim = OptimConfig{};
    const RunResult a = train(c, 2, 6), b = train(c, 2, 6);
    EXPECT_EQ(std::memcmp(a.params.data(), b.params.data(), a.params.size() * sizeof(float)), 0) << what;
  }
}

// Evaluation splits each batch of 100 the same way: the metrics equal one thread's to rounding.
TEST(Parallel, EvaluationOnTwoThreadsMatchesOneThread) {
  if (max_threads() < 2) GTEST_SKIP() << "this build has no threads";
  const std::vector<TrainConfig> configs = {
      config({{"model", "vae"}, {"hidden", "64"}, {"latent", "8"}}, 16),
      config({{"model", "pixelcnn"}, {"channels", "8"}, {"layers", "2"}, {"conditional", "1"}}, 8),
  };
  for (const TrainConfig& c : configs) {
    std::map<std::string, double> m[2];
    for (int n : {1, 2}) {
      ThreadsGuard guard(n);
      Trainer t(c, mnist("train"), mnist("test"));
      t.run_steps(3);
      m[n - 1] = t.evaluate("test", 5, 251).metrics;  // batches of 100, 100, 51 (halves 26 + 25)
    }
    ASSERT_EQ(m[0].size(), m[1].size());
    for (const auto& [k, v] : m[0]) EXPECT_NEAR(v, m[1].at(k), 1e-6 * std::fabs(v) + 1e-9) << c.model.at("model") << " " << k;
  }
}

// The replica follows every change of the model's parameters: switching thread counts between steps,
// and parameters replaced from outside (a checkpoint loaded into the trainer) before a 2-thread step.
TEST(Parallel, ReplicaFollowsParameterChanges) {
  if (max_threads() < 2) GTEST_SKIP() << "this build has no threads";
  TrainConfig c = config({{"model", "vae"}, {"hidden", "64"}, {"latent", "8"}}, 12);
  c.optim.kind = "sgd";
  c.optim.lr.base = 1e-3f;
  c.optim.momentum = 0.f;
  // 1) 2, 1, 2 threads in turn vs 1 thread throughout.
  std::vector<float> mixed, single;
  {
    Trainer t(c, mnist("train"), mnist("test"));
    for (int n : {2, 1, 2, 1, 2}) {
      ThreadsGuard guard(n);
      t.run_steps(2);
    }
    mixed.assign(t.model().params().values().begin(), t.model().params().values().end());
  }
  {
    ThreadsGuard guard(1);
    Trainer t(c, mnist("train"), mnist("test"));
    t.run_steps(10);
    single.assign(t.model().params().values().begin(), t.model().params().values().end());
  }
  EXPECT_LE(max_abs_diff(mixed, single), 1e-5f * max_abs(single));
  // 2) A checkpoint from elsewhere loaded between 2-thread steps: the next step must use it on both halves.
  Trainer other(c, mnist("train"), mnist("test"));
  other.run_steps(7);  // different parameters
  const TrainingCheckpoint ck = decode_training_checkpoint(encode_training_checkpoint(other));
  std::vector<float> after[2];
  for (int n : {1, 2}) {
    ThreadsGuard guard(n);
    Trainer t(c, mnist("train"), mnist("test"));
    t.run_steps(3);  // on 2 threads this fills the replica with these parameters
    restore_trainer(t, ck);
    t.run_steps(1);
    after[n - 1].assign(t.model().params().grads().begin(), t.model().params().grads().end());
  }
  EXPECT_LE(max_abs_diff(after[0], after[1]), 2e-6f * max_abs(after[0]));
}
