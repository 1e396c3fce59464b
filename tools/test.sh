#!/usr/bin/env bash
# genlab: build native + WebAssembly and run every test tier; exits non-zero on any failure.
#   tier a: GoogleTest, native, through ctest          (build/native-release)
#   tier b: the same tests compiled to wasm, under node (build/wasm-release, ctest + crosscompiling emulator)
#   tier c: browser end-to-end tests in headless Chromium (node --test tests/browser/)
# Idempotent: setup skips what is installed, builds are incremental.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export NODE_PATH=/usr/share/nodejs
JOBS="${GENLAB_JOBS:-2}"
LOGDIR="$ROOT/build/test-logs"

bash tools/setup.sh || { echo "setup failed" >&2; exit 1; }
mkdir -p "$LOGDIR"

total_pass=0; total_fail=0; failed_tiers=()
summaries=()

run_ctest_tier() {  # name preset
  local name="$1" preset="$2" log="$LOGDIR/$1.log"
  echo "=== tier $name: configure + build ($preset) ==="
  if ! { cmake --preset "$preset" >"$LOGDIR/$name-configure.log" 2>&1 && cmake --build --preset "$preset" -j "$JOBS" >"$LOGDIR/$name-build.log" 2>&1; }; then
    tail -40 "$LOGDIR/$name-configure.log" "$LOGDIR/$name-build.log" >&2
    echo "tier $name: BUILD FAILED" >&2
    failed_tiers+=("$name"); total_fail=$((total_fail + 1)); summaries+=("$name: build failed"); return
  fi
  echo "=== tier $name: ctest ==="
  ctest --preset "$preset" -j "$JOBS" --timeout 900 >"$log" 2>&1
  local rc=$?
  grep -E "Failed|\*\*\*|Not Run|Timeout" "$log" | grep -v "^ *[0-9]*/[0-9]* Test.*Passed" | head -40
  local line; line=$(grep -E "tests passed, [0-9]+ tests? failed out of" "$log" | tail -1)
  echo "$line"
  local n f; n=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/')
  [[ "$n" =~ ^[0-9]+$ ]] || n=0; [[ "$f" =~ ^[0-9]+$ ]] || f=1
  total_pass=$((total_pass + n - f)); total_fail=$((total_fail + f))
  summaries+=("$name ($preset): $line")
  if [ $rc -ne 0 ] || [ "$n" -eq 0 ]; then failed_tiers+=("$name"); [ "$n" -eq 0 ] && total_fail=$((total_fail + 1)); fi
}

run_ctest_tier a-native native-release
run_ctest_tier b-wasm wasm-release

echo "=== tier c-browser: node --test tests/browser/ ==="
# The page starts from pretrained weights made by the native CLI (tier a built it).
if ! bash tools/make_pretrained.sh >"$LOGDIR/pretrained.log" 2>&1; then
  tail -20 "$LOGDIR/pretrained.log" >&2; echo "pretrained weights: FAILED (see $LOGDIR/pretrained.log)" >&2
fi
if [ -d build/wasm-release/site ] && [ -f build/wasm-release/site/index.html ]; then
  GENLAB_WEB_BUILD="$ROOT/build/wasm-release" node --test --test-reporter=tap tests/browser/ >"$LOGDIR/c-browser.log" 2>&1
  rc=$?
  grep -E "^not ok|^# (tests|pass|fail)" "$LOGDIR/c-browser.log"
  bp=$(grep -E "^# pass " "$LOGDIR/c-browser.log" | tail -1 | awk '{print $3}'); bf=$(grep -E "^# fail " "$LOGDIR/c-browser.log" | tail -1 | awk '{print $3}')
  [[ "$bp" =~ ^[0-9]+$ ]] || bp=0; [[ "$bf" =~ ^[0-9]+$ ]] || bf=1
  total_pass=$((total_pass + bp)); total_fail=$((total_fail + bf))
  summaries+=("c-browser: # pass $bp, # fail $bf")
  if [ $rc -ne 0 ] || [ "$bp" -eq 0 ]; then failed_tiers+=("c-browser"); [ "$bp" -eq 0 ] && [ "$bf" -eq 0 ] && total_fail=$((total_fail + 1)); fi
else
  echo "tier c-browser: build/wasm-release/site/index.html missing" >&2
  failed_tiers+=("c-browser"); total_fail=$((total_fail + 1)); summaries+=("c-browser: not built")
fi

echo "=== summary ==="
for s in "${summaries[@]}"; do echo "  $s"; done
echo "logs: $LOGDIR"
echo "genlab: $total_pass passed, $total_fail failed"
[ ${#failed_tiers[@]} -eq 0 ] || { echo "failed tiers: ${failed_tiers[*]}" >&2; exit 1; }
