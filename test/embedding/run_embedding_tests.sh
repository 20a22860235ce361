#!/usr/bin/env bash
# run_embedding_tests.sh BUILD_DIR
#
# Installs BUILD_DIR into a temporary prefix (cmake --install, then the
# prefix is moved, to check that it is relocatable), and builds and runs the
# consumer projects next to this script against it, each a separate CMake
# project:
#   kernels/  plain C, find_package(MSAKernels), no MLIR allowed
#   cxx/      C++, find_package(MSA): register, parse, verify, msa-to-llvm,
#             JIT with mlir::ExecutionEngine, check the ids
#   c/        C, find_package(MSA), MSA::MSACAPI: the same through the C API
# plus the installed msa-opt on the same input. Prints
# "embedding: N passed, N failed" and fails when any step fails.
# Environment: MSA_EMBED_KEEP=1 keeps the temporary directory;
# MSA_EMBED_JOBS (default 2) is the build parallelism.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
  echo "usage: $0 BUILD_DIR   (a configured and built msa build directory)" >&2
  exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JOBS=${MSA_EMBED_JOBS:-2}
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt" | head -1; }
MLIR_DIR=$(cache_value MLIR_DIR)
BUILD_TYPE=$(cache_value CMAKE_BUILD_TYPE)
GENERATOR=()
if command -v ninja >/dev/null 2>&1; then GENERATOR=(-G Ninja); fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/msa-embedding.XXXXXX")
if [ "${MSA_EMBED_KEEP:-0}" = 1 ]; then
  echo "keeping $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi
PREFIX=$WORK/prefix

passed=0 failed=0
step() {  # step NAME LOG COMMAND...: run, count, show the log on failure
  local name=$1 log=$2
  shift 2
  if "$@" >"$log" 2>&1; then
    echo "PASS: $name"
    passed=$((passed + 1))
    return 0
  fi
  echo "FAIL: $name (log: $log)"
  sed 's/^/  | /' "$log" | tail -40
  failed=$((failed + 1))
  return 1
}

install_prefix() {
  cmake --install "$BUILD_DIR" --prefix "$WORK/staging" &&
    mv "$WORK/staging" "$PREFIX" &&
    test -f "$PREFIX/lib/cmake/MSA/MSAConfig.cmake" &&
    test -f "$PREFIX/lib/cmake/MSAKernels/MSAKernelsConfig.cmake" &&
    test -f "$PREFIX/include/msa/msa_kernels.h" &&
    test -f "$PREFIX/include/msa-c/Dialect.h" &&
    test -f "$PREFIX/include/msa/Dialect/MSAOps.h.inc"
}

consumer() {  # consumer NAME [cmake args...]: configure, build, run
  local name=$1
  shift
  cmake -S "$HERE/$name" -B "$WORK/build-$name" "${GENERATOR[@]}" --no-warn-unused-cli \
      -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" \
      -DCMAKE_PREFIX_PATH="$PREFIX" "$@" &&
    cmake --build "$WORK/build-$name" -j "$JOBS" &&
    "$WORK/build-$name/msa_embed_$name"
}

installed_msa_opt() {
  "$PREFIX/bin/msa-opt" "$HERE/Inputs/tiny_by_hand.mlir" --msa-to-llvm=target=cpu \
      -o "$WORK/tiny.llvm.mlir" &&
    grep -q "_mlir_ciface_msa_indexer_ragged_paged_cpu" "$WORK/tiny.llvm.mlir"
}

if step "cmake --install into a temporary prefix (then moved)" \
    "$WORK/install.log" install_prefix; then
  step "installed msa-opt lowers the example" "$WORK/msa-opt.log" \
    installed_msa_opt
  # The consumers run the CPU kernel: a build without it
  # (-DMSA_ENABLE_CPU_SIMD=OFF) skips them.
  if ls "$PREFIX"/lib*/libmsa_kernels_cpu.so >/dev/null 2>&1; then
    step "kernels-only C consumer (find_package(MSAKernels), no MLIR)" \
      "$WORK/kernels.log" consumer kernels \
      -DCMAKE_DISABLE_FIND_PACKAGE_MLIR=ON -DCMAKE_DISABLE_FIND_PACKAGE_LLVM=ON
    step "C++ consumer (find_package(MSA), C++ API, JIT)" "$WORK/cxx.log" \
      consumer cxx -DMLIR_DIR="$MLIR_DIR"
    step "C consumer (find_package(MSA), C API, JIT)" "$WORK/c.log" \
      consumer c -DMLIR_DIR="$MLIR_DIR"
  else
    echo "SKIP: the consumers (no libmsa_kernels_cpu.so in this build)"
  fi
fi

echo "embedding: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
