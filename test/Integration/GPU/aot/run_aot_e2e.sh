#!/usr/bin/env bash
# run_aot_e2e.sh - the ahead-of-time GPU end-to-end test of the lowering.
#
#   run_aot_e2e.sh prepare AOT_DIR MSA_BUILD   (a machine with MLIR 22)
#     Lowers indexer.mlir with --msa-to-llvm for target=cpu, cuda and auto,
#     compiles each to an object (mlir-translate | llc), links the CPU one
#     with the driver and libmsa_kernels_cpu, runs it (host memory) and keeps
#     its id hash as the expected value; checks that a bad page id stops the
#     CPU program with the kernel's message.
#   run_aot_e2e.sh device AOT_DIR GPU_BUILD    (a machine with a GPU + nvcc)
#     Links the cuda and auto objects with the driver and GPU_BUILD's
#     libmsa_kernels_cuda, and runs: cuda/host, cuda/device, auto/host,
#     auto/device (ids equal to the reference and to the CPU run's hash),
#     and a bad page id through cuda and auto (stops with the "(cuda)"
#     message: auto took the GPU).
#   run_aot_e2e.sh all AOT_DIR MSA_BUILD       both, on one machine
# Prints "aot-e2e: N passed, N failed" last; exits non-zero on a failure.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
PHASE="${1:?phase}"; AOT="${2:?aot dir}"; BUILD="${3:?build dir}"
LLVM_BIN="${LLVM_BIN:-/usr/lib/llvm-22/bin}"
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
INC="-I$ROOT/kernels_cpu/include -I$ROOT/kernels_gpu/include"
mkdir -p "$AOT"
passed=0 failed=0
check() {  # check NAME COMMAND...: runs COMMAND, counts it under NAME
  local name="$1"; shift
  if "$@"; then echo "PASS: $name"; passed=$((passed + 1));
  else echo "FAIL: $name"; failed=$((failed + 1)); fi
}
ok_run() {  # ok_run BINARY MODE: exits 0 and prints the expected hash
  local out; out="$("$1" "$2" 2>&1)"; local rc=$?
  echo "$out" | sed 's/^/    /'
  [ $rc -eq 0 ] || return 1
  [ ! -f "$AOT/expected_hash.txt" ] || grep -q "$(cat "$AOT/expected_hash.txt")" <<<"$out"
}
stops_with() {  # stops_with BINARY MESSAGE: fails, says MESSAGE, no result
  local out; out="$("$1" badpage 2>&1)"; local rc=$?
  echo "$out" | sed 's/^/    /'
  [ $rc -ne 0 ] && grep -qF "$2" <<<"$out" && ! grep -q "ids-fnv1a" <<<"$out"
}

prepare() {
  for target in cpu cuda auto; do
    "$BUILD/bin/msa-opt" "$HERE/indexer.mlir" --msa-to-llvm="target=$target" |
      "$LLVM_BIN/mlir-translate" --mlir-to-llvmir |
      "$LLVM_BIN/llc" -O2 -filetype=obj -relocation-model=pic \
        -o "$AOT/indexer_$target.o" || { echo "FAIL: lower $target"; failed=$((failed + 1)); }
  done
  cp "$HERE/driver.c" "$AOT/driver.c"
  cc -O2 $INC "$AOT/driver.c" "$AOT/indexer_cpu.o" -L"$BUILD/lib" \
    -lmsa_kernels_cpu -Wl,-rpath,"$BUILD/lib" -o "$AOT/driver_cpu" || return 1
  rm -f "$AOT/expected_hash.txt"
  local out; out="$("$AOT/driver_cpu" host)" || { echo "$out"; return 1; }
  echo "$out" | sed 's/^/    /'
  grep -o "ids-fnv1a [0-9a-f]*" <<<"$out" > "$AOT/expected_hash.txt"
  echo "PASS: cpu/host (expected $(cat "$AOT/expected_hash.txt"))"; passed=$((passed + 1))
  check "cpu/badpage stops with the kernel's message" stops_with "$AOT/driver_cpu" \
    "msa.indexer_ragged_paged (cpu): k_lookup_table[0][1]"
}

device() {
  for target in cuda auto; do
    cc -O2 -DMSA_DRIVER_CUDA $INC -I"$CUDA_HOME/include" "$AOT/driver.c" \
      "$AOT/indexer_$target.o" -L"$BUILD/lib" -lmsa_kernels_cuda \
      -lmsa_kernels_common -lstdc++ -L"$CUDA_HOME/lib64" -lcudart \
      -Wl,-rpath,"$BUILD/lib" -Wl,-rpath,"$CUDA_HOME/lib64" \
      -o "$AOT/driver_$target" || { echo "FAIL: link $target"; failed=$((failed + 1)); continue; }
    check "$target/host" ok_run "$AOT/driver_$target" host
    check "$target/device" ok_run "$AOT/driver_$target" device
    check "$target/badpage stops with the CUDA kernel's message" stops_with \
      "$AOT/driver_$target" "msa.indexer_ragged_paged (cuda): k_lookup_table[0][1]"
  done
}

case "$PHASE" in
  prepare) prepare || failed=$((failed + 1)) ;;
  device) device ;;
  all) prepare || failed=$((failed + 1)); device ;;
  *) echo "unknown phase $PHASE" >&2; exit 2 ;;
esac
echo "aot-e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
