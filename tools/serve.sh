#!/usr/bin/env bash
# genlab: install what is missing, build the WebAssembly playground and serve it on 127.0.0.1.
# Usage: bash tools/serve.sh [--port 8080]    (GENLAB_PORT also works)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export NODE_PATH=/usr/share/nodejs
bash tools/setup.sh
cmake --preset wasm-release >/dev/null
cmake --build --preset wasm-release -j "${GENLAB_JOBS:-2}" --target genlab_app
if [ -x tools/make_pretrained.sh ] || [ -f tools/make_pretrained.sh ]; then bash tools/make_pretrained.sh; fi
exec node tools/serve.mjs --root build/wasm-release/web "$@"
