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
# plus: every installed library and program resolves its libraries with no
# environment; the installed msa-opt (--version, lowering); mlir-runner
# loading the installed kernel libraries (CPU, and CUDA with target=auto)
# on graph-style i32 input, and the exit status of a run-time error; the
# code quoted in docs/EMBEDDING.md is the consumers' code. Prints
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
    env -u LD_LIBRARY_PATH "$WORK/build-$name/msa_embed_$name"
}

LLVM_BIN=$(cd "$MLIR_DIR/../../../bin" 2>/dev/null && pwd)
SRC_ROOT=$(cd "$HERE/../.." && pwd)
RUNNER_UTILS="$LLVM_BIN/../lib/libmlir_runner_utils.so,$LLVM_BIN/../lib/libmlir_c_runner_utils.so"

# Every installed shared library and program finds what it needs with no
# LD_LIBRARY_PATH (RUNPATH $ORIGIN where a library needs one of the prefix).
installed_files_load() {
  local f bad=0 n=0
  for f in "$PREFIX"/lib/*.so* "$PREFIX"/bin/*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    [ "$(head -c 4 "$f" | tail -c 3)" = ELF ] || continue
    n=$((n + 1))
    if env -u LD_LIBRARY_PATH ldd "$f" | grep -q "not found"; then
      echo "$f:"; env -u LD_LIBRARY_PATH ldd "$f" | grep "not found"; bad=1
    fi
  done
  echo "$n ELF files checked"
  [ "$bad" -eq 0 ] && [ "$n" -gt 0 ] && test -x "$PREFIX/bin/msa-bench"
}

installed_msa_opt_version() {
  env -u LD_LIBRARY_PATH "$PREFIX/bin/msa-opt" --version | tee "$WORK/version.txt" &&
    grep -q "msa version 3.0.0" "$WORK/version.txt"
}

# mlir-runner -shared-libs=<prefix>/lib/<library>: graph-style i32 input
# (the lit test's main), target as given, ids checked by the lit test's
# CHECK lines.
runner_graph_i32() {  # runner_graph_i32 TARGET LIBRARY
  cat "$HERE/Inputs/graph_i32.mlir" "$SRC_ROOT/test/Integration/CPU/signless_graph.mlir" \
      >"$WORK/graph_main.mlir" &&
    "$PREFIX/bin/msa-opt" "$WORK/graph_main.mlir" --msa-to-llvm="target=$1" |
    env -u LD_LIBRARY_PATH "$LLVM_BIN/mlir-runner" -e main -entry-point-result=void \
      -shared-libs="$PREFIX/lib/$2,$RUNNER_UTILS" >"$WORK/graph_$1.out" &&
    cat "$WORK/graph_$1.out" &&
    "$LLVM_BIN/FileCheck" "$SRC_ROOT/test/Integration/CPU/signless_graph.mlir" \
      --input-file="$WORK/graph_$1.out"
}

# A bad page table with on-error=exit (default): exit status 2
# (MSA_STATUS_INVALID_METADATA), the kernel's message on stderr, no crash.
runner_error_exit_status() {
  local rc
  "$PREFIX/bin/msa-opt" "$SRC_ROOT/test/Integration/CPU/runtime_errors.mlir" \
      --msa-to-llvm=target=cpu >"$WORK/errors.llvm.mlir" || return 1
  env -u LD_LIBRARY_PATH "$LLVM_BIN/mlir-runner" -e main -entry-point-result=void \
    -shared-libs="$PREFIX/lib/libmsa_kernels_cpu.so,$RUNNER_UTILS" \
    "$WORK/errors.llvm.mlir" >/dev/null 2>"$WORK/errors.err"
  rc=$?
  cat "$WORK/errors.err"
  echo "exit status $rc"
  [ "$rc" -eq 2 ] && grep -q "is not a valid page id" "$WORK/errors.err" &&
    ! grep -q "PLEASE submit\|Stack dump" "$WORK/errors.err"
}

doc_snippets() {
  /usr/bin/python3 "$HERE/check_doc_snippets.py" "$SRC_ROOT/docs/EMBEDDING.md" \
    "$HERE/cxx/main.cpp" "$HERE/c/main.c" "$HERE/kernels/main.c"
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
  step "installed libraries and programs load with no environment (msa-bench installed)" \
    "$WORK/load.log" installed_files_load
  step "installed msa-opt --version prints the msa version" "$WORK/version.log" \
    installed_msa_opt_version
  step "docs/EMBEDDING.md quotes the consumers' code" "$WORK/doc.log" doc_snippets
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
    step "mlir-runner + installed CPU library, i32 metadata computed in the graph" \
      "$WORK/runner-cpu.log" runner_graph_i32 cpu libmsa_kernels_cpu.so
    step "mlir-runner + installed CPU library: a run-time error exits with status 2, no crash" \
      "$WORK/runner-error.log" runner_error_exit_status
    if ls "$PREFIX"/lib*/libmsa_kernels_cuda.so >/dev/null 2>&1; then
      step "mlir-runner + installed CUDA library, target=auto (CPU fallback without a GPU)" \
        "$WORK/runner-cuda.log" runner_graph_i32 auto libmsa_kernels_cuda.so
      step "kernels-only C consumer linking MSA::msa_kernels_cuda (auto entry)" \
        "$WORK/kernels-cuda.log" env -u LD_LIBRARY_PATH \
        "$WORK/build-kernels/msa_embed_kernels_cuda"
    else
      echo "SKIP: the CUDA library steps (no libmsa_kernels_cuda.so in this build)"
    fi
  else
    echo "SKIP: the consumers (no libmsa_kernels_cpu.so in this build)"
  fi
fi

echo "embedding: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
