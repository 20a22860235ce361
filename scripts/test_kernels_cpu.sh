#!/usr/bin/env bash
# scripts/test_kernels_cpu.sh - the CPU kernel's sanitizer and fuzz checks.
#
#   1. Configures build-cpu-san/ with clang-22, AddressSanitizer and
#      UndefinedBehaviorSanitizer (no recovery), MLIR and CUDA off, and the
#      libFuzzer target on; builds the kernel unit tests and the fuzzer.
#   2. Runs msa_test_common, msa_test_kernel_cpu and msa_test_cpu_abi (the
#      C ABI's hardening: error fill, descriptor overflow, scratch bound,
#      path selection from several threads) under the sanitizers (fewer
#      random cases than the plain ctest run: MSA_TEST_CASES, default 300
#      per back end here).
#   3. Runs the libFuzzer target for FUZZ_SECONDS (default 60) on 2 workers;
#      any crash, sanitizer report or failed check fails the script.
#
# Needs: clang-22 (/usr/lib/llvm-22/bin) with libclang-rt-22-dev, libhwy-dev,
# libgtest-dev, libomp-dev (LLVM 14's libomp + omp.h, used by clang), cmake.
# Environment: SAN_BUILD_DIR (default <repo>/build-cpu-san; not BUILD_DIR,
# which names the main build of test_all.sh), FUZZ_SECONDS,
# MSA_TEST_CASES, JOBS (default 2).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${SAN_BUILD_DIR:-$ROOT/build-cpu-san}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
JOBS="${JOBS:-2}"
LLVM_BIN="${LLVM_BIN:-/usr/lib/llvm-22/bin}"
OMP_LIB="$(ls /usr/lib/llvm-*/lib/libomp.so | head -n1)"
# clang-22 has no OpenMP runtime of its own here: use LLVM 14's libomp and
# only its omp.h (not the rest of clang 14's resource headers).
OMP_INC="$BUILD_DIR/omp-include"
mkdir -p "$OMP_INC"
ln -sf "$(ls /usr/lib/llvm-*/lib/clang/*/include/omp.h | head -n1)" "$OMP_INC/omp.h"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# Coverage instrumentation for the fuzzer in every library it links.
FLAGS="$SAN -fsanitize=fuzzer-no-link -g -O1"

cmake -S "$ROOT" -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$LLVM_BIN/clang" -DCMAKE_CXX_COMPILER="$LLVM_BIN/clang++" \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$SAN" -DCMAKE_SHARED_LINKER_FLAGS="$SAN" \
  -DOpenMP_CXX_FLAGS="-fopenmp=libomp -I$OMP_INC" -DOpenMP_CXX_LIB_NAMES=omp \
  -DOpenMP_C_FLAGS="-fopenmp=libomp -I$OMP_INC" -DOpenMP_C_LIB_NAMES=omp \
  -DOpenMP_omp_LIBRARY="$OMP_LIB" \
  -DMSA_ENABLE_MLIR=OFF -DMSA_ENABLE_CUDA=OFF -DMSA_ENABLE_CPU_SIMD=ON \
  -DMSA_ENABLE_TESTS=ON -DMSA_BUILD_FUZZERS=ON -DMSA_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target msa_test_common msa_test_kernel_cpu msa_test_cpu_abi msa_fuzz_indexer

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export MSA_TEST_CASES="${MSA_TEST_CASES:-300}"

# Executables land in bin/ when the top level sets an output directory.
bin() {
  for d in "$BUILD_DIR/bin" "$BUILD_DIR/test/unit" "$BUILD_DIR/test/fuzz"; do
    if [ -x "$d/$1" ]; then echo "$d/$1"; return; fi
  done
  echo "missing executable $1 in $BUILD_DIR" >&2
  exit 1
}

echo "== msa_test_common (ASan+UBSan)"
"$(bin msa_test_common)"
echo "== msa_test_kernel_cpu (ASan+UBSan, $MSA_TEST_CASES random cases per back end)"
"$(bin msa_test_kernel_cpu)"
echo "== msa_test_cpu_abi (ASan+UBSan)"
"$(bin msa_test_cpu_abi)"

echo "== msa_fuzz_indexer for ${FUZZ_SECONDS}s"
CORPUS="$BUILD_DIR/fuzz-corpus"
mkdir -p "$CORPUS"
cd "$BUILD_DIR"
FUZZER="$(bin msa_fuzz_indexer)"
"$FUZZER" "$CORPUS" \
  -max_total_time="$FUZZ_SECONDS" -max_len=4096 -timeout=20 -rss_limit_mb=4096 \
  -print_final_stats=1 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "fuzzing found a problem (exit $status); see crash-* in $BUILD_DIR" >&2
  exit "$status"
fi
echo "== CPU kernel sanitizer and fuzz checks passed"
