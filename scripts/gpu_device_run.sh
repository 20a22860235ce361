#!/usr/bin/env bash
# gpu_device_run.sh - everything the CUDA back end needs on the GPU machine,
# in one call: build, correctness tests, benchmark (against a previous build
# when .prev/ holds one), ncu profile of the decode kernels, sanitizers;
# prints a summary table last.
#
#   scripts/gpu_device_run.sh [build] [test|quicktest] [bench|quickbench] [ncu] [sanitize]
#   (no argument: build test bench sanitize)
#
# .prev/ (optional, ignored by git): a previous source tree, e.g.
#   mkdir .prev && git archive <rev> CMakeLists.txt cmake kernels_cpu kernels_gpu test/unit | tar -x -C .prev
# carried to the device: built as build-prev/ and timed beside the current one.
# Logs go to $OUT (the device tool's output folder) when it is set, else to
# build-gpu/logs. Build: -DMSA_ENABLE_MLIR=OFF -DMSA_ENABLE_CPU_SIMD=OFF
# -DMSA_ENABLE_TESTS=OFF (no LLVM/Highway/GTest there).
set -u
cd "$(dirname "$0")/.."
steps="$*"
[ -z "$steps" ] && steps="build test bench sanitize"
LOG=${OUT:-build-gpu/logs}
mkdir -p "$LOG"
summary=()
has() { [[ " $steps " == *" $1 "* ]]; }
CFG=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DMSA_ENABLE_MLIR=OFF -DMSA_ENABLE_CPU_SIMD=OFF
     -DMSA_ENABLE_TESTS=OFF)

echo "== $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null | head -1)"
nvcc --version | tail -1

if has build; then
  t0=$(date +%s)
  if [ -d .prev ]; then
    (cmake -S .prev -B build-prev "${CFG[@]}" -DMSA_ENABLE_CUDA_TESTS=OFF >"$LOG/prev_configure.log" 2>&1 &&
     ninja -C build-prev -j8 >"$LOG/prev_build.log" 2>&1) &
  fi
  cmake -S . -B build-gpu "${CFG[@]}" -DMSA_WERROR=ON >"$LOG/configure.log" 2>&1 \
    && ninja -C build-gpu -v >"$LOG/build.log" 2>&1
  rc=$?
  wait
  grep -E "Used [0-9]+ registers|spill|warning" "$LOG/build.log" | grep -v "0 bytes spill" | head -20
  summary+=("build: rc=$rc ($(( $(date +%s) - t0 )) s)")
  [ -d .prev ] && summary+=("previous build: $(ls build-prev/lib/libmsa_kernels_cuda.so 2>/dev/null || echo FAILED)")
  if [ $rc -ne 0 ]; then tail -40 "$LOG/build.log"; printf '%s\n' "${summary[@]}"; exit 1; fi
fi

# output folders depend on the top level (bin/ and lib/, or per target)
TEST=$(find build-gpu -name msa_test_cuda -type f -perm -u+x | head -1)
LIB=$(find build-gpu -name 'libmsa_kernels_cuda.so*' -type f | head -1)
PREV=$(find build-prev -name 'libmsa_kernels_cuda.so*' -type f 2>/dev/null | head -1)
if has test || has quicktest; then
  t0=$(date +%s)
  q=""; has quicktest && q="--quick"
  FP8=$(find build-gpu -name msa_test_cuda_fp8 -type f -perm -u+x | head -1)
  timeout 60 $FP8 >"$LOG/test_fp8_convert.log" 2>&1
  summary+=("fp8 conversion test: rc=$? $(tail -1 "$LOG/test_fp8_convert.log")")
  SEL=$(find build-gpu -name msa_test_cuda_select_list -type f -perm -u+x | head -1)
  timeout 60 $SEL >"$LOG/test_select_list.log" 2>&1
  summary+=("split top-k list test: rc=$? $(tail -1 "$LOG/test_select_list.log")")
  timeout ${TEST_TIMEOUT:-400} $TEST $q >"$LOG/test.log" 2>&1
  rc=$?
  grep -E "^\[(PASS|FAIL|SKIP)\]|^FAIL|TESTS|device:" "$LOG/test.log" | head -60
  summary+=("tests $q: rc=$rc ($(( $(date +%s) - t0 )) s): $(grep -c '^\[PASS\]' "$LOG/test.log") groups passed, $(grep -c '^\[FAIL\]' "$LOG/test.log") failed")
fi

if has bench || has quickbench; then
  t0=$(date +%s)
  q=""; has quickbench && q="--quick"
  pv=""; [ -n "$PREV" ] && pv="--prev-lib $PREV"
  # every case with bf16 and with f8E4M3FN keys (same run; the last table
  # gives the f8 / bf16 time ratios against the goals)
  PYTHONUNBUFFERED=1 timeout ${BENCH_TIMEOUT:-500} python3 kernels_gpu/bench/bench_cuda.py $q \
    --keys bf16,f8e4m3fn --lib "$LIB" $pv --json "$LOG/bench.json" >"$LOG/bench.log" 2>&1
  rc=$?
  summary+=("bench: rc=$rc ($(( $(date +%s) - t0 )) s)")
  [ $rc -ne 0 ] && tail -20 "$LOG/bench.log"
fi

if has ncu; then
  t0=$(date +%s)
  for which in now prev; do
    l=$LIB; [ $which = prev ] && l=$PREV
    [ -z "$l" ] && continue
    timeout 150 ncu --clock-control none --kernel-name regex:"decode|prep" --launch-count 12 \
      --section SpeedOfLight --section MemoryWorkloadAnalysis --section LaunchStats \
      --section Occupancy --section WarpStateStats \
      python3 kernels_gpu/bench/bench_cuda.py --profile --lib "$l" >"$LOG/ncu_$which.txt" 2>&1
    summary+=("ncu $which: rc=$? ($(( $(date +%s) - t0 )) s)")
  done
fi

if has sanitize; then
  for tool in memcheck racecheck synccheck; do
    t0=$(date +%s)
    timeout ${SAN_TIMEOUT:-180} compute-sanitizer --tool $tool --error-exitcode 9 $TEST --quick >"$LOG/san_$tool.log" 2>&1
    rc=$?
    s=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$LOG/san_$tool.log" | tail -1)
    summary+=("compute-sanitizer $tool: rc=$rc ($(( $(date +%s) - t0 )) s) ${s}")
    [ $rc -ne 0 ] && grep -m5 -E "Invalid|Race|Error|FAIL" "$LOG/san_$tool.log"
    # a hazard as instructions: the SASS at every offset the report names
    if [ $rc -ne 0 ] && command -v cuobjdump >/dev/null; then
      for o in $(find build-gpu -name '*.cu.o'); do cuobjdump -sass "$o"; done >"$LOG/sass.txt" 2>/dev/null
      python3 scripts/sass_at_offsets.py "$LOG/san_$tool.log" "$LOG/sass.txt" >"$LOG/san_${tool}_sass.txt"
      head -60 "$LOG/san_${tool}_sass.txt"
    fi
  done
fi

echo
echo "================ summary ================"
printf '%s\n' "${summary[@]}"
if [ -f "$LOG/bench.log" ]; then
  grep -E "^(decode|prefill) " "$LOG/bench.log"
  sed -n '/^Card:/,$p' "$LOG/bench.log"
fi
if has ncu; then
  for f in "$LOG"/ncu_*.txt; do
    echo "-- $f"
    grep -E "^  [a-z_]+.*(decode|prep)_kernel|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Registers Per" "$f" | head -40
  done
fi
