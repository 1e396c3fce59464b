#!/usr/bin/env bash
# genlab vs PyTorch on the same benchmark configurations, side by side (not part of the default tests).
#
#   VAE-MLP 784-400-20, Bernoulli decoder, ReLU, Adam 1e-3, batch 64, N steps on mnist10k train;
#   test -ELBO and -L_100 (nats/image) on the fixed test binarisation, exported by genlab and read by
#   PyTorch, so both score exactly the same bits; training throughput with 1 thread each.
#   If tools/reference/pixelcnn_torch.py exists it runs too (same CLI shape: --steps N --out-json F); when
#   its JSON has "genlab_args", genlab trains and evaluates that configuration as well.
#
# usage: tools/compare_pytorch.sh [--steps N] [--iwae K] [--wasm] [--vae-only] [--native-build DIR] [--wasm-build DIR]
#   --wasm also runs the wasm build of genlab under node (build/wasm-release by default).
#   Throughput is reported per wall-clock second and per CPU second of the process (the fair number on a
#   shared machine; under node, genlab reads process.cpuUsage()).
# Installs Debian's python3-torch (and OpenBLAS: with the reference BLAS that python3-torch pulls in by
# default, PyTorch runs these layers ~30x slower) when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STEPS=2000 IWAE=100 WASM=0 PIXELCNN=1
NATIVE_BUILD=build/native-release WASM_BUILD=build/wasm-release
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS="$2"; shift 2 ;;
    --iwae) IWAE="$2"; shift 2 ;;
    --wasm) WASM=1; shift ;;
    --vae-only) PIXELCNN=0; shift ;;
    --native-build) NATIVE_BUILD="$2"; shift 2 ;;
    --wasm-build) WASM_BUILD="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "compare_pytorch.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { echo "[compare] $*" >&2; }
PY=/usr/bin/python3

# ---- PyTorch (Debian) ----------------------------------------------------------------------
bash "$(dirname "${BASH_SOURCE[0]}")/ensure_torch.sh"

# ---- genlab builds -----------------------------------------------------------------------
GENLAB="$NATIVE_BUILD/tools/genlab/genlab"
if [ ! -x "$GENLAB" ]; then
  log "building native genlab in $NATIVE_BUILD"
  cmake --preset native-release -B "$NATIVE_BUILD" >/dev/null && cmake --build "$NATIVE_BUILD" -j1 --target genlab
fi
if [ "$WASM" = 1 ] && [ ! -f "$WASM_BUILD/tools/genlab/genlab.js" ]; then
  log "building wasm genlab in $WASM_BUILD"
  export NODE_PATH=/usr/share/nodejs
  cmake --preset wasm-release -B "$WASM_BUILD" >/dev/null && cmake --build "$WASM_BUILD" -j1 --target genlab
fi

export GENLAB_DATA_DIR="${GENLAB_DATA_DIR:-$ROOT/assets/data}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$GENLAB" data export --dataset mnist10k --split test --binarized --out "$WORK/test-images-idx3-ubyte"

# Runs one genlab (native or wasm) training + evaluation; prints "img/s<TAB>eval JSON".
run_genlab() {
  local name="$1"; shift
  local -a cmd=("$@")
  log "$name: genlab train --model vae ... --steps $STEPS"
  "${cmd[@]}" train --model vae --dataset mnist10k --arch mlp --hidden 400 --latent 20 --activation relu \
    --likelihood bernoulli --batch 64 --lr 1e-3 --seed 1 --steps "$STEPS" --log-every 500 \
    --out "$WORK/$name.safetensors" 2> "$WORK/$name.train.log"
  cat "$WORK/$name.train.log" >&2
  local ips
  ips=$(sed -n 's/.*trained [0-9]* steps in [0-9.]* s (\([0-9.]*\) img\/s; [0-9.]* CPU s, \([0-9.]*\) img\/CPU-s).*/\1 \2/p' "$WORK/$name.train.log")
  log "$name: genlab eval --iwae $IWAE"
  local json
  json=$("${cmd[@]}" eval --checkpoint "$WORK/$name.safetensors" --dataset "$WORK/test-images-idx3-ubyte" --iwae "$IWAE")
  printf '%s\t%s\n' "$ips" "$json"
}

native=$(run_genlab native "$GENLAB")
wasm=""
if [ "$WASM" = 1 ]; then
  wasm=$(run_genlab wasm node --no-experimental-fetch "$WASM_BUILD/tools/genlab/genlab.js")
fi
log "pytorch: tools/reference/vae_torch.py --steps $STEPS"
$PY tools/reference/vae_torch.py --train-images "$GENLAB_DATA_DIR/mnist10k/train-images-idx3-ubyte" \
  --test-images "$WORK/test-images-idx3-ubyte" --steps "$STEPS" --iwae "$IWAE" --out-json "$WORK/torch.json" >/dev/null

# ---- report --------------------------------------------------------------------------------
$PY - "$IWAE" "$native" "$wasm" "$WORK/torch.json" <<'EOF'
import json, sys
k = sys.argv[1]
rows = []
for name, cell in (("genlab native", sys.argv[2]), ("genlab wasm (node)", sys.argv[3])):
    if cell:
        ips, js = cell.split("\t", 1)
        m = json.loads(js)
        wall, cpu = (float(v) for v in ips.split())
        rows.append((name, m["neg_elbo_nats"], m.get("neg_iwae_nats", float("nan")), wall, cpu))
t = json.load(open(sys.argv[4]))
rows.append(("pytorch (" + t["framework"] + ", 1 thread)", t["neg_elbo_nats"], t.get("neg_iwae_nats", float("nan")),
             t["img_per_sec"], t["img_per_cpu_sec"]))
print(f"VAE-MLP 784-400-20, Bernoulli, Adam 1e-3, batch 64, {t['steps']} steps, mnist10k; test {t['n_test']} images (same bits)")
print(f"{'':38s} {'-ELBO':>8s} {'-L_' + k:>8s} {'img/s':>8s} {'img/CPU-s':>10s}")
for name, e, i, w, c in rows:
    print(f"{name:38s} {e:8.2f} {i:8.2f} {w:8.0f} {c:10.0f}")
tw, tc = rows[-1][3], rows[-1][4]
for name, e, i, w, c in rows[:-1]:
    print(f"throughput ratio {name} / pytorch: {w / tw:.2f}x (wall), {c / tc:.2f}x (CPU time)")
EOF

# ---- PixelCNN reference, when helper scripts provide it ---------------------------------------
if [ "$PIXELCNN" = 1 ] && [ -f tools/reference/pixelcnn_torch.py ]; then
  log "pytorch: tools/reference/pixelcnn_torch.py --steps $STEPS"
  $PY tools/reference/pixelcnn_torch.py --steps "$STEPS" --out-json "$WORK/pixelcnn_torch.json" >/dev/null
  echo "pixelcnn pytorch: $(cat "$WORK/pixelcnn_torch.json")"
  args=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("genlab_args", ""))' "$WORK/pixelcnn_torch.json")
  if [ -n "$args" ]; then
    # shellcheck disable=SC2086  # genlab_args is a list of options by design
    "$GENLAB" train $args --steps "$STEPS" --out "$WORK/pixelcnn.safetensors" --log-every 500
    echo "pixelcnn genlab:  $("$GENLAB" eval --checkpoint "$WORK/pixelcnn.safetensors")"
  fi
fi
