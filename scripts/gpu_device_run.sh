#!/usr/bin/env bash
# gpu_device_run.sh - everything the CUDA back end needs on the GPU machine,
# in one call: build, correctness tests, sanitizers, graph capture/replay
# (inside the tests), benchmark; prints a summary table last.
#
#   scripts/gpu_device_run.sh [build] [test] [sanitize] [bench] [quickbench]
#   (no argument: build test sanitize bench)
#
# Logs go to $OUT (the device tool's output folder) when it is set, else to
# build-gpu/logs. Build: cmake -S . -B build-gpu -G Ninja -DMSA_ENABLE_MLIR=OFF
# -DMSA_ENABLE_CPU_SIMD=OFF -DMSA_ENABLE_TESTS=OFF (no LLVM/Highway/GTest there).
set -u
cd "$(dirname "$0")/.."
steps="$*"
[ -z "$steps" ] && steps="build test bench sanitize"
LOG=${OUT:-build-gpu/logs}
mkdir -p "$LOG"
summary=()
has() { [[ " $steps " == *" $1 "* ]]; }

echo "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null | head -1)"
nvcc --version | tail -1

if has build; then
  t0=$(date +%s)
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMSA_ENABLE_MLIR=OFF \
    -DMSA_ENABLE_CPU_SIMD=OFF -DMSA_ENABLE_TESTS=OFF -DMSA_WERROR=ON >"$LOG/configure.log" 2>&1 \
    && ninja -C build-gpu -v >"$LOG/build.log" 2>&1
  rc=$?
  grep -E "Used [0-9]+ registers|spill|warning" "$LOG/build.log" | grep -v "0 bytes spill" | head -20
  summary+=("build: rc=$rc ($(( $(date +%s) - t0 )) s)")
  if [ $rc -ne 0 ]; then tail -40 "$LOG/build.log"; printf '%s\n' "${summary[@]}"; exit 1; fi
fi

# output folders depend on the top level (bin/ and lib/, or per target)
TEST=$(find build-gpu -name msa_test_cuda -type f -perm -u+x | head -1)
LIB=$(find build-gpu -name 'libmsa_kernels_cuda.so*' -type f | head -1)
if has test; then
  t0=$(date +%s)
  timeout 300 $TEST >"$LOG/test.log" 2>&1
  rc=$?
  grep -E "^\[(PASS|FAIL)\]|^FAIL|TESTS|device:" "$LOG/test.log" | head -40
  summary+=("tests: rc=$rc ($(( $(date +%s) - t0 )) s): $(grep -c '^\[PASS\]' "$LOG/test.log") groups passed, $(grep -c '^\[FAIL\]' "$LOG/test.log") failed")
fi

if has bench || has quickbench; then
  q=""; has quickbench && q="--quick"
  PYTHONUNBUFFERED=1 timeout 400 python3 kernels_gpu/bench/bench_cuda.py $q \
    --lib "$LIB" --json "$LOG/bench.json" >"$LOG/bench.log" 2>&1
  rc=$?
  summary+=("bench: rc=$rc")
  [ $rc -ne 0 ] && tail -20 "$LOG/bench.log"
fi

if has sanitize; then
  for tool in memcheck racecheck synccheck; do
    t0=$(date +%s)
    timeout ${SAN_TIMEOUT:-100} compute-sanitizer --tool $tool --error-exitcode 9 $TEST --quick >"$LOG/san_$tool.log" 2>&1
    rc=$?
    s=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$LOG/san_$tool.log" | tail -1)
    summary+=("compute-sanitizer $tool: rc=$rc ($(( $(date +%s) - t0 )) s) ${s}")
    [ $rc -ne 0 ] && grep -m5 -E "Invalid|Race|Error|FAIL" "$LOG/san_$tool.log"
  done
fi

echo
echo "================ summary ================"
printf '%s\n' "${summary[@]}"
if [ -f "$LOG/bench.log" ]; then
  sed -n '/^Card:/,$p' "$LOG/bench.log"
  grep -E "^(prefill|decode)" "$LOG/bench.log"
fi
