// One persistent helper thread that runs one job at a time (started on first use, joined at exit).
#include "parallel.h"

#include <algorithm>
#include <exception>

#if !defined(__wasm__) || defined(__wasm_atomics__)
#define GENLAB_THREADS 1
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#endif

namespace genlab {
namespace {

int g_threads = 1;
thread_local bool t_in_pair = false;

// Sets the calling thread's in-pair flag for the lifetime of the guard.
struct PairFlag {
  bool saved = t_in_pair;
  PairFlag() { t_in_pair = true; }
  ~PairFlag() { t_in_pair = saved; }
};

#if defined(GENLAB_THREADS)
// Spins for up to kSpin before sleeping on a condition variable: a training step hands over a few
// jobs in a row, and waking a sleeping thread costs tens of microseconds (more in browsers).
constexpr std::chrono::microseconds kSpin{1000};

template <class Ready>
bool spin_until(Ready ready) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1;; ++i) {
    if (ready()) return true;
    if (i % 64 == 0 && std::chrono::steady_clock::now() - t0 > kSpin) return false;
  }
}

class HelperThread {
 public:
  ~HelperThread() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_.store(true);
    }
    wake_.notify_all();
    thread_.join();
  }
  void start(const std::function<void()>* job) {
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    error_ = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.store(false, std::memory_order_relaxed);
      job_.store(job, std::memory_order_release);
    }
    wake_.notify_one();
  }
  // Waits for the job; returns its exception (or null).
  std::exception_ptr wait() {
    if (!spin_until([this] { return done_.load(std::memory_order_acquire); })) {
      std::unique_lock<std::mutex> lock(mutex_);
      finished_.wait(lock, [this] { return done_.load(std::memory_order_acquire); });
    }
    return error_;
  }

 private:
  void loop() {
    for (;;) {
      const std::function<void()>* job = nullptr;
      auto take = [&] {
        job = job_.exchange(nullptr, std::memory_order_acq_rel);
        return job != nullptr || quit_.load();
      };
      if (!spin_until(take)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, take);
      }
      if (!job) return;  // quit
      std::exception_ptr error;
      {
        PairFlag flag;
        try {
          (*job)();
        } catch (...) {
          error = std::current_exception();
        }
      }
      error_ = error;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.store(true, std::memory_order_release);
      }
      finished_.notify_all();
    }
  }
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  std::atomic<const std::function<void()>*> job_{nullptr};
  std::atomic<bool> done_{true}, quit_{false};
  std::exception_ptr error_;  // written by the helper before done_, read by the caller after it
};

HelperThread& helper_thread() {
  static HelperThread helper;
  return helper;
}
#endif

}  // namespace

void set_threads(int n) { g_threads = std::clamp(n, 1, max_threads()); }
int threads() { return g_threads; }
int max_threads() {
#if defined(GENLAB_THREADS)
  return 2;
#else
  return 1;
#endif
}

bool in_run_pair() { return t_in_pair; }

void run_pair(const std::function<void()>& first, const std::function<void()>& second) {
#if defined(GENLAB_THREADS)
  if (g_threads > 1 && !t_in_pair) {
    HelperThread& helper = helper_thread();
    helper.start(&second);
    std::exception_ptr error;
    {
      PairFlag flag;
      try {
        first();
      } catch (...) {
        error = std::current_exception();
      }
    }
    const std::exception_ptr helper_error = helper.wait();
    if (error) std::rethrow_exception(error);
    if (helper_error) std::rethrow_exception(helper_error);
    return;
  }
#endif
  PairFlag flag;
  std::exception_ptr errors[2];
  const std::function<void()>* jobs[2] = {&first, &second};
  for (int i = 0; i < 2; ++i) {  // second runs even when first threw, as on two threads
    try {
      (*jobs[i])();
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

void for_halves(size_t n, const std::function<void(size_t, size_t)>& f, size_t min_n) {
  if (g_threads < 2 || t_in_pair || n < min_n || n < 32) {
    f(0, n);
    return;
  }
  const size_t half = (n / 2 + 15) & ~size_t{15};
  run_pair([&] { f(0, half); }, [&] { f(half, n); });
}

}  // namespace genlab
