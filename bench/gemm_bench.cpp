// gemm_bench: times every compiled GEMM kernel on the benchmark shapes and prints one JSON object per line
// (GFLOP/s, best of several timed runs). Built natively and to wasm; the node harness
// bench/gemm_vs_tfjs.mjs loads the wasm build (MODULARIZE) and times TensorFlow.js in the same process.
//   gemm_bench [--kernels a,b,...] [--shapes square|models|all] [--min-ms 150] [--variants] [--list]
//              [--threads 1|2]   (engine threads for the "simd" kernel, see parallel.h)
// (--list prints the rows without timing them, gflops 0.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gemm_blocked.h"
#include "gemm_shapes.h"
#include "parallel.h"

using namespace genlab;
using namespace genlab::bench;

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best GFLOP/s over `runs` runs, each repeating the call for at least min_ms.
double time_kernel(void (*run)(const GemmArgs&), const GemmShape& s, double min_ms, int runs = 3) {
  const GemmProblem p(s);
  const GemmArgs& g = p.args;
  run(g);  // warm-up (packing buffers, caches)
  double best = 0.0;
  for (int rep = 0; rep < runs; ++rep) {
    int iters = 0;
    const double t0 = seconds_now();
    double t1 = t0;
    while ((t1 - t0) * 1e3 < min_ms) {
      run(g);
      ++iters;
      t1 = seconds_now();
    }
    best = std::max(best, s.flops() * iters / (t1 - t0) * 1e-9);
  }
  return best;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<GemmKernelEntry> available_kernels() {
  std::vector<GemmKernelEntry> available = gemm_kernel_list();
#if defined(__wasm_simd128__)
  for (const auto& v : gemm_wasm_simd128_tile_variants()) available.push_back(v);
#endif
  return available;
}

}  // namespace

// For the node harness (exported from the wasm module): runs `kernel` `iters` times on one shape
// (after one warm-up call) so the harness can time it with process CPU time and alternate it with
// TensorFlow.js; returns 0, or -1 for an unknown kernel.
extern "C" __attribute__((used)) int gemm_bench_repeat(const char* kernel, int ta, int tb, int m, int n, int k,
                                                      int iters) {
  for (const auto& e : available_kernels()) {
    if (e.name != kernel) continue;
    const GemmProblem p(GemmShape{"", ta != 0, tb != 0, m, n, k});
    for (int i = 0; i < iters; ++i) e.run(p.args);
    return 0;
  }
  return -1;
}

// For the node harnesses: engine threads for the "simd" kernel (parallel.h); returns the setting in effect.
extern "C" __attribute__((used)) int gemm_bench_set_threads(int n) {
  set_threads(n);
  return threads();
}

int main(int argc, char** argv) {
  std::string kernels_arg = "simd,eigen,blocked_scalar", shapes_arg = "all";
  double min_ms = 150;
  bool variants = false, list_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--kernels" && i + 1 < argc) kernels_arg = argv[++i];
    else if (arg == "--shapes" && i + 1 < argc) shapes_arg = argv[++i];
    else if (arg == "--min-ms" && i + 1 < argc) min_ms = std::atof(argv[++i]);
    else if (arg == "--variants") variants = true;
    else if (arg == "--list") list_only = true;
    else if (arg == "--threads" && i + 1 < argc) set_threads(std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: gemm_bench [--kernels a,b] [--shapes square|models|all] [--min-ms N] [--variants] [--list] [--threads 1|2]\n");
      return 2;
    }
  }
  const std::vector<GemmKernelEntry> available = available_kernels();
  std::vector<GemmKernelEntry> kernels;
  for (const auto& name : split(kernels_arg))
    for (const auto& k : available)
      if (k.name == name) kernels.push_back(k);
  if (variants)
    for (const auto& k : available)
      if (k.name.rfind("wasm_simd128_", 0) == 0) kernels.push_back(k);
  std::vector<GemmShape> shapes;
  if (shapes_arg == "square" || shapes_arg == "all") shapes = square_shapes();
  if (shapes_arg == "models" || shapes_arg == "all")
    for (const auto& s : model_shapes()) shapes.push_back(s);

  for (const auto& s : shapes)
    for (const auto& k : kernels) {
      if (k.name == "reference" && s.flops() > 1e8) continue;
      const double gflops = list_only ? 0.0 : time_kernel(k.run, s, min_ms);
      std::printf("{\"kernel\": \"%.*s\", \"threads\": %d, \"label\": \"%s\", \"ta\": %d, \"tb\": %d, \"m\": %d, \"n\": %d, \"k\": %d, "
                  "\"gflops\": %.2f}\n",
                  static_cast<int>(k.name.size()), k.name.data(), threads(), s.label.c_str(), s.ta, s.tb, s.m, s.n, s.k, gflops);
      std::fflush(stdout);
    }
  return 0;
}
