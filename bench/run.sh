#!/usr/bin/env bash
# genlab benchmark suite (NOT part of the default tests):   bash bench/run.sh [options]
#
#  1. GEMM kernels natively: Google Benchmark (bench/gemm_benchmark.cpp), GFLOP/s.
#  2. GEMM kernels in wasm under node, next to TensorFlow.js WASM (XNNPACK, 1 thread) in the same
#     node process (bench/gemm_vs_tfjs.mjs), GFLOP/s and ratios.
#  3. End-to-end training throughput (img/s, 1 thread) of the genlab CLI natively and in wasm, and of
#     the same models in PyTorch (tools/reference/*.py, Debian's python3-torch, installed if missing):
#     VAE-MLP 784-400-20 at batch 64 and PixelCNN-S at batch 32 on mnist10k.
#     Peak memory while training PixelCNN-S at batch 32 (bench/train_memory.cpp), native and wasm.
#  4. Threads: the same trainings with --threads 1 and 2 (each batch split in halves), natively and in
#     wasm (genlab_mt.js, the CLI on the -pthread engine the threaded page uses), alternating rounds,
#     best of --thread-rounds (3) each; and the same in the page in headless Chromium
#     (bench/threads_browser.mjs, the threaded build).
#  5. A summary table of ratios (also written to build/bench-results/summary.txt).
#
# options: --skip-build  --no-e2e  --no-torch  --no-threads  --thread-rounds N (3)  --threads-only
#          --vae-steps N (300)  --pixelcnn-steps N (40)
#          --native-build DIR (build/bench-native)  --wasm-build DIR (build/bench-wasm)
# The machine has 2 cores shared with other work: everything runs one job at a time (-j1; 1 thread
# except in section 4).
# GEMM timings use process CPU time; the CLI's img/s is wall time (see bench/RESULTS-speed.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
NATIVE=build/bench-native WASM=build/bench-wasm OUT=build/bench-results
BUILD=1 E2E=1 TORCH=1 GEMM=1 THREADS=1 THREAD_ROUNDS=3 VAE_STEPS=300 PCNN_STEPS=40
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-build) BUILD=0; shift ;;
    --no-e2e) E2E=0; shift ;;
    --no-torch) TORCH=0; shift ;;
    --no-threads) THREADS=0; shift ;;
    --thread-rounds) THREAD_ROUNDS="$2"; shift 2 ;;
    --threads-only) GEMM=0; E2E=0; shift ;;
    --vae-steps) VAE_STEPS="$2"; shift 2 ;;
    --pixelcnn-steps) PCNN_STEPS="$2"; shift 2 ;;
    --native-build) NATIVE="$2"; shift 2 ;;
    --wasm-build) WASM="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { echo "[bench] $*" >&2; }
mkdir -p "$OUT"
rm -f "$OUT"/native_gemm.json "$OUT"/wasm_gemm.json "$OUT"/wasm_gemm.txt "$OUT"/e2e.tsv "$OUT"/memory.jsonl \
  "$OUT"/threads.tsv "$OUT"/threads_browser.json  # no stale rows
export GENLAB_DATA_DIR="${GENLAB_DATA_DIR:-$ROOT/assets/data}"
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
[ -d node_modules/@tensorflow/tfjs-backend-wasm ] || { log "npm ci (TensorFlow.js for the GEMM comparison)"; npm ci --no-audit --no-fund; }

# ---- build -------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  log "building native ($NATIVE) and wasm ($WASM)"
  cmake --preset native-release -B "$NATIVE" >/dev/null
  cmake --build "$NATIVE" -j1 --target gemm_benchmark gemm_bench $([ "$E2E" = 1 ] && echo genlab train_memory) \
    $([ "$THREADS" = 1 ] && echo genlab)
  cmake --preset wasm-release -B "$WASM" >/dev/null
  cmake --build "$WASM" -j1 --target gemm_bench $([ "$E2E" = 1 ] && echo genlab train_memory train_memory_small_heap) \
    $([ "$THREADS" = 1 ] && echo genlab_mt genlab_app genlab_app_mt)
fi

# ---- 1. native GEMM (Google Benchmark) ------------------------------------------------------------
if [ "$GEMM" = 1 ]; then
log "native GEMM: gemm_benchmark"
"$NATIVE/bench/gemm_benchmark" --benchmark_filter='^(simd|eigen|blocked_scalar)/' --benchmark_min_time=0.2 \
  --benchmark_out="$OUT/native_gemm.json" --benchmark_out_format=json >&2

# ---- 2. wasm GEMM vs TensorFlow.js ------------------------------------------------------------------
log "wasm GEMM vs TensorFlow.js WASM (one node process)"
node --no-experimental-fetch bench/gemm_vs_tfjs.mjs "$WASM" --kernels simd,eigen,blocked_scalar --runs 3 \
  --min-ms 100 --json "$OUT/wasm_gemm.json" 2>/dev/null | tee "$OUT/wasm_gemm.txt" >&2
fi

# ---- 3. end-to-end training throughput -----------------------------------------------------------
E2E_TSV="$OUT/e2e.tsv"
: > "$E2E_TSV"
# img_per_s LOG: the img/s of the "trained N steps in T s (X img/s ...)" line a genlab training writes last.
img_per_s() {
  local ips
  ips=$(sed -n 's/.*trained [0-9]* steps in [0-9.]* s (\([0-9.]*\) img\/s.*/\1/p' "$1" | tail -1)
  echo "${ips:-nan}"
}
# train_ips NAME CMD...: runs a genlab training, appends "NAME<TAB>img/s" from its last line.
train_ips() {
  local name="$1"; shift
  log "$name: $*"
  "$@" 2> "$OUT/$name.log" >/dev/null || { tail -5 "$OUT/$name.log" >&2; log "$name FAILED"; return 0; }
  printf '%s\t%s\n' "$name" "$(img_per_s "$OUT/$name.log")" >> "$E2E_TSV"
}
if [ "$E2E" = 1 ]; then
  VAE_ARGS=(train --model vae --dataset mnist10k --arch mlp --hidden 400 --latent 20 --activation relu
            --likelihood bernoulli --batch 64 --lr 1e-3 --seed 1 --steps "$VAE_STEPS" --log-every 100000)
  PCNN_ARGS=(train --model pixelcnn --dataset mnist10k --batch 32 --lr 1e-3 --seed 1 --steps "$PCNN_STEPS"
             --log-every 100000)
  train_ips vae.native "$NATIVE/tools/genlab/genlab" "${VAE_ARGS[@]}" --out "$OUT/vae.native.safetensors"
  train_ips vae.wasm node --no-experimental-fetch "$WASM/tools/genlab/genlab.js" "${VAE_ARGS[@]}" --out "$OUT/vae.wasm.safetensors"
  train_ips pixelcnn.native "$NATIVE/tools/genlab/genlab" "${PCNN_ARGS[@]}" --out "$OUT/pixelcnn.native.safetensors"
  train_ips pixelcnn.wasm node --no-experimental-fetch "$WASM/tools/genlab/genlab.js" "${PCNN_ARGS[@]}" --out "$OUT/pixelcnn.wasm.safetensors"

  log "peak memory: train_memory (PixelCNN-S, batch 32) native and wasm"
  "$NATIVE/bench/train_memory" --model pixelcnn --batch 32 --steps 5 > "$OUT/memory.jsonl" || log "train_memory FAILED"
  node --no-experimental-fetch "$WASM/bench/train_memory.js" --model pixelcnn --batch 32 --steps 5 >> "$OUT/memory.jsonl" \
    || log "train_memory.js FAILED"
  node --no-experimental-fetch "$WASM/bench/train_memory_small_heap.js" --model pixelcnn --batch 32 --steps 5 \
    | sed 's/"wasm": true/"wasm": true, "variant": "1 MB stack, 2% growth steps"/' >> "$OUT/memory.jsonl" \
    || log "train_memory_small_heap.js FAILED"

  if [ "$TORCH" = 1 ]; then
    PY=/usr/bin/python3
    export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1  # 1 thread, like every other row
    bash tools/ensure_torch.sh
    "$NATIVE/tools/genlab/genlab" data export --dataset mnist10k --split test --binarized --out "$OUT/test-images-idx3-ubyte"
    log "pytorch: tools/reference/vae_torch.py --steps $VAE_STEPS"
    $PY tools/reference/vae_torch.py --train-images "$GENLAB_DATA_DIR/mnist10k/train-images-idx3-ubyte" \
      --test-images "$OUT/test-images-idx3-ubyte" --steps "$VAE_STEPS" --iwae 0 --threads 1 \
      --out-json "$OUT/vae.torch.json" >/dev/null 2>"$OUT/vae.torch.log" || log "vae_torch.py FAILED (see $OUT/vae.torch.log)"
    log "pytorch: tools/reference/pixelcnn_torch.py --steps $PCNN_STEPS"
    $PY tools/reference/pixelcnn_torch.py --steps "$PCNN_STEPS" --test-bits "$OUT/test-images-idx3-ubyte" \
      --out-json "$OUT/pixelcnn.torch.json" >"$OUT/pixelcnn.torch.log" 2>&1 || log "pixelcnn_torch.py FAILED (see $OUT/pixelcnn.torch.log)"
    for m in vae pixelcnn; do
      [ -f "$OUT/$m.torch.json" ] && printf '%s\t%s\n' "$m.torch" \
        "$(node -e 'const j=require(process.argv[1]); console.log(j.img_per_sec ?? j.img_per_s)' "$ROOT/$OUT/$m.torch.json")" >> "$E2E_TSV"
    done
  fi
fi

# ---- 4. threads: 1 vs 2 --------------------------------------------------------------------------
if [ "$THREADS" = 1 ]; then
  THREADS_TSV="$OUT/threads.tsv"
  : > "$THREADS_TSV"
  VAE_T=(train --model vae --dataset mnist10k --arch mlp --hidden 400 --latent 20 --batch 64 --seed 1
         --steps "$VAE_STEPS" --log-every 100000)
  PCNN_T=(train --model pixelcnn --dataset mnist10k --batch 32 --seed 1 --steps "$PCNN_STEPS" --log-every 100000)
  # Rows "model<TAB>build<TAB>threads<TAB>img/s", one per run; the summary keeps the best of each.
  for round in $(seq 1 "$THREAD_ROUNDS"); do
    order="1 2"; [ $((round % 2)) = 0 ] && order="2 1"  # alternate which goes first
    for n in $order; do
      for m in vae pixelcnn; do
        if [ "$m" = vae ]; then args=("${VAE_T[@]}"); else args=("${PCNN_T[@]}"); fi
        for b in native wasm; do
          if [ "$b" = native ]; then cmd=("$NATIVE/tools/genlab/genlab"); else
            cmd=(node --no-experimental-fetch "$WASM/tools/genlab/genlab_mt.js"); fi
          log "threads: $m $b --threads $n (round $round)"
          "${cmd[@]}" "${args[@]}" --threads "$n" --out "$OUT/threads.$m.$b.safetensors" 2> "$OUT/threads.log" >/dev/null \
            || { tail -5 "$OUT/threads.log" >&2; log "FAILED"; continue; }
          printf '%s\t%s\t%s\t%s\n' "$m" "$b" "$n" "$(img_per_s "$OUT/threads.log")" >> "$THREADS_TSV"
        done
      done
    done
  done
  if [ -f "$WASM/site/index.html" ]; then
    log "threads in the page: bench/threads_browser.mjs"
    GENLAB_WEB_BUILD="$WASM" node bench/threads_browser.mjs --rounds "$THREAD_ROUNDS" --json "$OUT/threads_browser.json" >&2 \
      || log "threads_browser.mjs FAILED"
  else
    log "no $WASM/site (build the wasm app for the page measurement)"
  fi
fi

# ---- 5. summary ---------------------------------------------------------------------------------
node bench/summarize.mjs "$OUT" | tee "$OUT/summary.txt"
