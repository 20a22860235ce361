#!/usr/bin/env bash
# run_aot_e2e.sh - the ahead-of-time GPU end-to-end test of the lowering.
#
#   run_aot_e2e.sh prepare AOT_DIR MSA_BUILD   (a machine with MLIR 22)
#     Lowers indexer.mlir and its f8E4M3FN variant with --msa-to-llvm for
#     target=cpu, cuda and auto, compiles each to an object (mlir-translate |
#     llc), links the CPU ones with the driver and libmsa_kernels_cpu, runs
#     them (host memory) and keeps their id hashes as the expected values;
#     checks that a bad page id stops the CPU program with the kernel's
#     message. When MSA_BUILD has libmsa_kernels_cuda, also links the auto
#     objects with it and runs them on host memory (without a GPU: the auto
#     entry's CPU fallback).
#   run_aot_e2e.sh device AOT_DIR GPU_BUILD    (a machine with a GPU + nvcc)
#     For each key variant, links the cuda and auto objects with the driver
#     and GPU_BUILD's libmsa_kernels_cuda, and runs: cuda/host, cuda/device,
#     auto/host, auto/device (ids equal to the driver's model and to the CPU
#     run's hash), and a bad page id through cuda and auto (stops with the
#     "(cuda)" message: auto took the GPU).
#   run_aot_e2e.sh all AOT_DIR MSA_BUILD       both, on one machine
# Key variants (driver.c): bf16; f8 (random e4m3 keys, NaN bytes included);
# f8int (bf16's integer keys stored as e4m3: same ids, so its expected hash
# is bf16's). Prints "aot-e2e: N passed, N failed" last; exits non-zero on a
# failure.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
PHASE="${1:?phase}"; AOT="${2:?aot dir}"; BUILD="${3:?build dir}"
LLVM_BIN="${LLVM_BIN:-/usr/lib/llvm-22/bin}"
CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
INC="-I$ROOT/kernels_cpu/include -I$ROOT/kernels_gpu/include"
VARIANTS="bf16 f8 f8int"
mkdir -p "$AOT"
passed=0 failed=0
check() {  # check NAME COMMAND...: runs COMMAND, counts it under NAME
  local name="$1"; shift
  if "$@"; then echo "PASS: $name"; passed=$((passed + 1));
  else echo "FAIL: $name"; failed=$((failed + 1)); fi
}
# Per variant: the lowered function (f8 variants: indexer.mlir with an
# f8E4M3FN k_blocks), the driver's defines, the expected hash's file.
kb_type() { [ "$1" = bf16 ] && echo bf16 || echo f8E4M3FN; }
object() { [ "$1" = bf16 ] && echo "$AOT/indexer_$2.o" || echo "$AOT/indexer_f8_$2.o"; }
driver_flags() {
  case "$1" in bf16) ;; f8) echo -DMSA_DRIVER_KEYS_F8 ;;
    f8int) echo -DMSA_DRIVER_KEYS_F8 -DMSA_DRIVER_INT_KEYS ;; esac
}
hash_file() { [ "$1" = f8 ] && echo "$AOT/expected_hash_f8.txt" || echo "$AOT/expected_hash.txt"; }
ok_run() {  # ok_run BINARY MODE HASH_FILE: exits 0 and prints the expected hash
  local out; out="$("$1" "$2" 2>&1)"; local rc=$?
  echo "$out" | sed 's/^/    /'
  [ $rc -eq 0 ] || return 1
  [ ! -f "$3" ] || grep -q "$(cat "$3")" <<<"$out"
}
stops_with() {  # stops_with BINARY MESSAGE: fails, says MESSAGE, no result
  local out; out="$("$1" badpage 2>&1)"; local rc=$?
  echo "$out" | sed 's/^/    /'
  [ $rc -ne 0 ] && grep -qF "$2" <<<"$out" && ! grep -q "ids-fnv1a" <<<"$out"
}
link_cuda() {  # link_cuda VARIANT TARGET LIB_DIR: the driver against libmsa_kernels_cuda
  cc -O2 -DMSA_DRIVER_CUDA $(driver_flags "$1") $INC -I"$CUDA_HOME/include" \
    "$AOT/driver.c" "$(object "$1" "$2")" -L"$3" -lmsa_kernels_cuda \
    -lmsa_kernels_common -lstdc++ -L"$CUDA_HOME/lib64" -lcudart -lm \
    -Wl,-rpath,"$3" -Wl,-rpath,"$CUDA_HOME/lib64" -o "$AOT/driver_${1}_$2"
}

prepare() {
  sed 's/x128x1x128xbf16>/x128x1x128xf8E4M3FN>/g' "$HERE/indexer.mlir" > "$AOT/indexer_f8.mlir"
  grep -q "memref<?x1x2x128x1x128xf8E4M3FN>" "$AOT/indexer_f8.mlir" || return 1
  for target in cpu cuda auto; do
    for mlir in "$HERE/indexer.mlir" "$AOT/indexer_f8.mlir"; do
      local obj="$AOT/indexer_$target.o"
      [ "$mlir" = "$HERE/indexer.mlir" ] || obj="$AOT/indexer_f8_$target.o"
      "$BUILD/bin/msa-opt" "$mlir" --msa-to-llvm="target=$target" |
        "$LLVM_BIN/mlir-translate" --mlir-to-llvmir |
        "$LLVM_BIN/llc" -O2 -filetype=obj -relocation-model=pic -o "$obj" ||
        { echo "FAIL: lower $mlir for $target"; failed=$((failed + 1)); }
    done
  done
  cp "$HERE/driver.c" "$AOT/driver.c"
  rm -f "$AOT"/expected_hash*.txt
  for v in $VARIANTS; do
    cc -O2 $(driver_flags "$v") $INC "$AOT/driver.c" "$(object "$v" cpu)" \
      -L"$BUILD/lib" -lmsa_kernels_cpu -lm -Wl,-rpath,"$BUILD/lib" \
      -o "$AOT/driver_${v}_cpu" || return 1
    local out; out="$("$AOT/driver_${v}_cpu" host)" || { echo "$out"; return 1; }
    echo "$out" | sed 's/^/    /'
    local hash; hash="$(grep -o "ids-fnv1a [0-9a-f]*" <<<"$out")"
    if [ -f "$(hash_file "$v")" ]; then  # f8int: bf16's hash, bit for bit
      check "$v cpu/host (keys $(kb_type "$v"), same ids as bf16)" \
        grep -qx "$hash" "$(hash_file "$v")"
    else
      echo "$hash" > "$(hash_file "$v")"
      echo "PASS: $v cpu/host (expected $hash)"; passed=$((passed + 1))
    fi
    check "$v cpu/badpage stops with the kernel's message" stops_with \
      "$AOT/driver_${v}_cpu" "msa.indexer_ragged_paged (cpu): k_lookup_table[0][1]"
  done
  if [ -e "$BUILD/lib/libmsa_kernels_cuda.so" ]; then
    for v in $VARIANTS; do
      link_cuda "$v" auto "$BUILD/lib" || { echo "FAIL: link $v auto"; failed=$((failed + 1)); continue; }
      check "$v auto/host here (no GPU: the CPU fallback)" ok_run \
        "$AOT/driver_${v}_auto" host "$(hash_file "$v")"
    done
  else
    echo "note: $BUILD has no libmsa_kernels_cuda; auto/host not run here"
  fi
}

device() {
  for v in $VARIANTS; do
    for target in cuda auto; do
      link_cuda "$v" "$target" "$BUILD/lib" ||
        { echo "FAIL: link $v $target"; failed=$((failed + 1)); continue; }
      local bin="$AOT/driver_${v}_$target"
      check "$v $target/host" ok_run "$bin" host "$(hash_file "$v")"
      check "$v $target/device" ok_run "$bin" device "$(hash_file "$v")"
      check "$v $target/badpage stops with the CUDA kernel's message" stops_with \
        "$bin" "msa.indexer_ragged_paged (cuda): k_lookup_table[0][1]"
    done
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
