// Google Benchmark of the native GEMM kernels on the shared benchmark shapes (bench/gemm_shapes.h).
// Reports GFLOP/s as the "GFLOPs" counter:  gemm_benchmark --benchmark_filter=square
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "gemm_blocked.h"
#include "gemm_shapes.h"

using namespace genlab;
using namespace genlab::bench;

namespace {

void run_shape(benchmark::State& state, void (*run)(const GemmArgs&), GemmShape s) {
  const GemmProblem p(s);
  const GemmArgs& g = p.args;
  for (auto _ : state) {
    run(g);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPs"] = benchmark::Counter(s.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

int register_all() {
  std::vector<GemmShape> shapes = square_shapes();
  for (const auto& s : model_shapes()) shapes.push_back(s);
  for (const auto& k : gemm_kernel_list()) {
    if (k.name == "reference") continue;  // double-precision oracle: not a contender
    for (const auto& s : shapes) {
      std::string name = std::string(k.name) + "/" + s.label + "/" + (s.ta ? "T" : "N") + (s.tb ? "T" : "N") + "/" +
                         std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
      for (auto& ch : name)
        if (ch == ' ') ch = '_';
      benchmark::RegisterBenchmark(name.c_str(), run_shape, k.run, s)->Unit(benchmark::kMicrosecond);
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
