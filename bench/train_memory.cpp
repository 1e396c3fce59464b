// train_memory: trains a model for a few steps through the engine's Trainer and reports throughput
// and memory as one JSON line. In wasm the peak is the size of linear memory after training (it only
// grows, so it is the high-water mark of heap + stack + static data, the number the browser tab
// pays; growth overshoots in steps) plus dlmalloc's peak footprint; natively the peak resident set.
//   train_memory [--model pixelcnn|vae] [--batch 32] [--steps 10]
// wasm: node --no-experimental-fetch train_memory.js ...   (reads $GENLAB_DATA_DIR, default assets/data)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "dataset.h"
#include "error.h"
#include "trainer.h"

#if defined(__wasm__)
#include <malloc.h>
#else
#include <sys/resource.h>
#endif

namespace {

double memory_bytes() {
#if defined(__wasm__)
  return static_cast<double>(__builtin_wasm_memory_size(0)) * 65536.0;
#else
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;
#endif
}

// Peak bytes obtained by malloc from the heap (dlmalloc's max footprint); wasm only (-1 natively).
double malloc_peak_bytes() {
#if defined(__wasm__)
  return static_cast<double>(mallinfo().usmblks);
#else
  return -1.0;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "pixelcnn";
  int batch = 32, steps = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--model") model = argv[i + 1];
    else if (arg == "--batch") batch = std::atoi(argv[i + 1]);
    else if (arg == "--steps") steps = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: train_memory [--model pixelcnn|vae] [--batch B] [--steps N]\n");
      return 2;
    }
  }
  try {
    const double mem_start = memory_bytes();
    const std::string dir = genlab::default_data_dir();
    auto train = std::make_shared<const genlab::Dataset>(genlab::load_dataset("mnist10k", "train", dir));
    auto test = std::make_shared<const genlab::Dataset>(genlab::load_dataset("mnist10k", "test", dir));
    const double mem_data = memory_bytes();
    genlab::TrainConfig cfg;
    cfg.model["model"] = model;
    cfg.batch = batch;
    genlab::Trainer trainer(cfg, train, test);
    trainer.run_steps(1);  // warm-up: workspaces reach their steady size
    const auto t0 = std::chrono::steady_clock::now();
    trainer.run_steps(steps);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"model\": \"%s\", \"batch\": %d, \"steps\": %d, \"img_per_s\": %.1f, \"mem_start_mb\": %.1f, "
                "\"mem_after_data_mb\": %.1f, \"mem_peak_mb\": %.1f, \"malloc_peak_mb\": %.1f, \"wasm\": %s}\n",
                model.c_str(), batch, steps, steps * batch / secs, mem_start / 1048576.0, mem_data / 1048576.0,
                memory_bytes() / 1048576.0, malloc_peak_bytes() / 1048576.0,
#if defined(__wasm__)
                "true"
#else
                "false"
#endif
    );
    return 0;
  } catch (const genlab::Error& e) {
    std::fprintf(stderr, "train_memory: %s\n", e.what());
    return 1;
  }
}
