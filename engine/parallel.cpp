// One persistent helper thread that runs one job at a time (started on first use, joined at exit).
#include "parallel.h"

#include <algorithm>
#include <exception>

#if !defined(__wasm__) || defined(__wasm_atomics__)
#define GENLAB_THREADS 1
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
class HelperThread {
 public:
  ~HelperThread() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void start(const std::function<void()>* job) {
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      error_ = nullptr;
    }
    wake_.notify_all();
  }
  // Waits for the job; returns its exception (or null).
  std::exception_ptr wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return job_ == nullptr; });
    return error_;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return quit_ || job_ != nullptr; });
      if (quit_) return;
      const std::function<void()>* job = job_;
      lock.unlock();
      std::exception_ptr error;
      {
        PairFlag flag;
        try {
          (*job)();
        } catch (...) {
          error = std::current_exception();
        }
      }
      lock.lock();
      error_ = error;
      job_ = nullptr;
      done_.notify_all();
    }
  }
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void()>* job_ = nullptr;
  std::exception_ptr error_;
  bool quit_ = false;
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
