#!/usr/bin/env bash
# genlab: install what is missing, build the WebAssembly playground and serve it on 127.0.0.1.
# Usage: bash tools/serve.sh [--port 8080]    (GENLAB_PORT also works)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export NODE_PATH=/usr/share/nodejs
bash tools/setup.sh
cmake --preset wasm-release >/dev/null
cmake --build --preset wasm-release -j "${GENLAB_JOBS:-2}" --target genlab_app genlab_app_mt
# Pretrained starting points (first view shows good samples): made once by the native CLI.
cmake --preset native-release >/dev/null
cmake --build --preset native-release -j "${GENLAB_JOBS:-2}" --target genlab
bash tools/make_pretrained.sh
exec node tools/serve.mjs --root build/wasm-release/site "$@"
