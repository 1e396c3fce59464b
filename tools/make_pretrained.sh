#!/usr/bin/env bash
# Makes the playground's pretrained starting points with genlab's own CLI, so the first view of the
# page shows good samples before any training. Reproducible: fixed data set, seed, step count and
# hyperparameters (the playground's defaults, so the page's default set-ups match them exactly);
# the same build gives the same bytes. Output: assets/pretrained/*.safetensors + index.json (git-ignored,
# made at setup time). About 3 minutes on one core (most of it the PixelCNN-S: the reference 1,500 steps).
#
#   bash tools/make_pretrained.sh            # skips models that are already made with these commands
#   bash tools/make_pretrained.sh --force    # retrains everything
#   GENLAB_CLI=path/to/genlab bash tools/make_pretrained.sh
#
# The commands (run from the repository root, data in assets/data):
#   genlab train --model vae --dataset mnist10k --steps 2000 --seed 1 --batch 64 --lr 0.001 \
#                --arch mlp --hidden 400 --latent 16 --activation relu --likelihood bernoulli --beta 1 --no-optim-state --out assets/pretrained/vae.safetensors
#   genlab train --model ae  --dataset mnist10k --steps 1000 --seed 1 --batch 64 --lr 0.001 \
#                --arch mlp --hidden 400 --latent 16 --activation relu --no-optim-state --out assets/pretrained/ae.safetensors
#   genlab train --model pixelcnn --dataset mnist10k --steps 1500 --seed 1 --batch 32 --lr 0.001 \
#                --channels 32 --layers 5 --no-optim-state --out assets/pretrained/pixelcnn.safetensors
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CLI="${GENLAB_CLI:-$ROOT/build/native-release/tools/genlab/genlab}"
OUT="$ROOT/assets/pretrained"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

if [ ! -x "$CLI" ]; then
  echo "make_pretrained: $CLI not found; build it first: cmake --preset native-release && cmake --build --preset native-release --target genlab" >&2
  exit 1
fi
if [ ! -f assets/data/mnist10k/train-images-idx3-ubyte ]; then
  echo "make_pretrained: assets/data/mnist10k is missing; run tools/setup.sh first" >&2
  exit 1
fi
mkdir -p "$OUT"

# name | model | steps | extra arguments (the playground's defaults for that model kind)
MODELS=(
  "vae|vae|2000|--batch 64 --lr 0.001 --arch mlp --hidden 400 --latent 16 --activation relu --likelihood bernoulli --beta 1"
  "ae|ae|1000|--batch 64 --lr 0.001 --arch mlp --hidden 400 --latent 16 --activation relu"
  "pixelcnn|pixelcnn|1500|--batch 32 --lr 0.001 --channels 32 --layers 5"
)

entries=()
for spec in "${MODELS[@]}"; do
  IFS='|' read -r name model steps extra <<<"$spec"
  file="$OUT/$name.safetensors"
  args="train --model $model --dataset mnist10k --steps $steps --seed 1 $extra --no-optim-state"
  cmd="$args --out assets/pretrained/$name.safetensors"
  stamp="$OUT/$name.command"
  if [ $FORCE -eq 0 ] && [ -f "$file" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$cmd" ]; then
    echo "make_pretrained: $name up to date"
  else
    echo "make_pretrained: genlab $cmd"
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$CLI" $args --out "$file.tmp" 2>"$OUT/$name.log" || { tail -5 "$OUT/$name.log" >&2; exit 1; }
    mv "$file.tmp" "$file"
    echo "$cmd" >"$stamp"
    echo "make_pretrained: $name done in $(( $(date +%s) - start )) s; $(grep -E '^test' "$OUT/$name.log" | tail -1)"
  fi
  entries+=("    {\"file\": \"$name.safetensors\", \"model\": \"$model\", \"dataset\": \"mnist10k\", \"steps\": $steps, \"command\": \"genlab $cmd\"}")
done

{
  echo '{'
  echo '  "models": ['
  for i in "${!entries[@]}"; do
    if [ "$i" -lt $(( ${#entries[@]} - 1 )) ]; then echo "${entries[$i]},"; else echo "${entries[$i]}"; fi
  done
  echo '  ]'
  echo '}'
} >"$OUT/index.json"
echo "make_pretrained: wrote $OUT/index.json"
