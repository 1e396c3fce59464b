#!/usr/bin/env bash
# Installs what the PyTorch references (tools/reference/*.py) need, if missing: Debian's python3-torch and
# an optimised OpenBLAS (with the reference BLAS that python3-torch pulls in by itself, torch trains the
# VAE at ~15 img/s). Idempotent; used by tools/compare_pytorch.sh and bench/run.sh.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
/usr/bin/python3 -c "import torch" 2>/dev/null || need+=(python3-torch)
installed libopenblas0-openmp || installed libopenblas0-pthread || need+=(libopenblas0-openmp)
if [ ${#need[@]} -gt 0 ]; then
  echo "[ensure_torch] installing ${need[*]} (Debian)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
