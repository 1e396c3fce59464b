// Dispatch for the SIMD GEMM entry point, its optional split across threads, and the list of every
// compiled GEMM kernel.
// Kernel: wasm builds (compiler targets wasm_simd128) run the hand-written blocked kernel in
// gemm_kernel_wasm_simd128.cpp; native builds run Eigen, which with AVX2+FMA is faster than a
// 128-bit kernel could be (see bench/RESULTS-speed.md).
// Threads (set_gemm_threads, default 1): a large product is cut into 2 column (or row) strips, one
// computed by a persistent helper thread. K is never split, so every element of C is summed in the
// same order as on one thread: the blocked kernels give bit-identical results. Threads exist
// natively and in wasm builds with atomics (-pthread); elsewhere the setting is clamped to 1.
#include <algorithm>

#include "gemm_blocked.h"

#if !defined(__wasm__) || defined(__wasm_atomics__)
#define GENLAB_GEMM_THREADS 1
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#endif

namespace genlab {
namespace {

void gemm_one_thread(const GemmArgs& g) {
#if defined(__wasm_simd128__)
  gemm_blocked_wasm_simd128(g);
#else
  gemm_eigen(g);
#endif
}

int g_threads = 1;

#if defined(GENLAB_GEMM_THREADS)
// One helper thread that runs one job at a time; started on first use, joined at exit.
class GemmHelperThread {
 public:
  ~GemmHelperThread() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      quit_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void start(std::function<void()> job) {
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = std::move(job);
      busy_ = true;
    }
    wake_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return !busy_; });
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return quit_ || (busy_ && job_); });
      if (quit_) return;
      auto job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
      busy_ = false;
      done_.notify_all();
    }
  }
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::function<void()> job_;
  bool busy_ = false, quit_ = false;
};

GemmHelperThread& helper_thread() {
  static GemmHelperThread helper;
  return helper;
}

// Splits C into two strips (columns when wide enough, else rows) and runs one on the helper.
bool gemm_two_threads(const GemmArgs& g) {
  constexpr double kMinFlops = 1 << 21;  // below ~2 MFLOP the hand-off costs more than it saves
  if (2.0 * g.m * g.n * g.k < kMinFlops) return false;
  GemmArgs first = g, second = g;
  if (g.n >= 64) {
    const int n0 = (g.n / 2 + 7) / 8 * 8;  // whole 8-column panels
    first.n = n0;
    second.n = g.n - n0;
    second.b = g.trans_b ? g.b + static_cast<std::ptrdiff_t>(n0) * g.ldb : g.b + n0;
    second.c = g.c + n0;
  } else if (g.m >= 16) {
    const int m0 = (g.m / 2 + 3) / 4 * 4;
    first.m = m0;
    second.m = g.m - m0;
    second.a = g.trans_a ? g.a + m0 : g.a + static_cast<std::ptrdiff_t>(m0) * g.lda;
    second.c = g.c + static_cast<std::ptrdiff_t>(m0) * g.ldc;
  } else {
    return false;
  }
  GemmHelperThread& helper = helper_thread();
  helper.start([&second] { gemm_one_thread(second); });
  gemm_one_thread(first);
  helper.wait();
  return true;
}
#endif

}  // namespace

void set_gemm_threads(int n) {
#if defined(GENLAB_GEMM_THREADS)
  g_threads = std::clamp(n, 1, 2);
#else
  (void)n;
  g_threads = 1;
#endif
}
int gemm_threads() { return g_threads; }

void gemm_simd(const GemmArgs& g) {
#if defined(GENLAB_GEMM_THREADS)
  if (g_threads > 1 && gemm_two_threads(g)) return;
#endif
  gemm_one_thread(g);
}

std::vector<GemmKernelEntry> gemm_kernel_list() {
  std::vector<GemmKernelEntry> list = {{"reference", gemm_reference},
                                       {"eigen", gemm_eigen},
                                       {"simd", gemm_simd},
                                       {"blocked_scalar", gemm_blocked_scalar}};
#if defined(__wasm_simd128__)
  list.push_back({"blocked_wasm_simd128", gemm_blocked_wasm_simd128});
#endif
  return list;
}

}  // namespace genlab
