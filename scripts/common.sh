# scripts/common.sh - shared by run_example.sh and test_all.sh (sourced).
# Installs what is missing (Debian 12 packages), then configures and builds
# the project in $BUILD_DIR. Idempotent: a second run installs nothing and
# rebuilds only what changed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
LLVM_DIR_ROOT=/usr/lib/llvm-22
JOBS="${JOBS:-$(nproc)}"

# Everything the build and the tests use. LLVM/MLIR 22 come from Debian
# (bookworm-security); CUDA's nvcc is not a Debian package: when
# /usr/local/cuda/bin/nvcc exists the CUDA kernels are built too.
MSA_PACKAGES=(
  cmake ninja-build g++ python3 python3-numpy
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-22 libclang-rt-22-dev
  libhwy-dev libomp-dev libgtest-dev
  mpich libmpich-dev  # test/Integration/MPI: 2 processes under MPICH
)

step() { printf '\n==> %s\n' "$*"; }

install_dependencies() {
  step "Checking packages"
  local missing=()
  for pkg in "${MSA_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all ${#MSA_PACKAGES[@]} packages present"
    return
  fi
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

configure_and_build() {
  step "Configuring $BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR="$LLVM_DIR_ROOT/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_DIR_ROOT/bin/lit" \
    "$@" >"$BUILD_DIR/msa-configure.log" 2>&1 \
    || { cat "$BUILD_DIR/msa-configure.log"; return 1; }
  grep -E "^-- msa:" "$BUILD_DIR/msa-configure.log" || true
  step "Building (ninja -j$JOBS)"
  ninja -C "$BUILD_DIR" -j"$JOBS"
}

# The same pipeline the README shows, on the bundled example.
run_example() {
  local target="${1:-cpu}" lib="$BUILD_DIR/lib/libmsa_kernels_cpu.so"
  [ "$target" = cpu ] || lib="$BUILD_DIR/lib/libmsa_kernels_cuda.so"
  "$BUILD_DIR/bin/msa-opt" "$ROOT/examples/minimax_m3.mlir" \
      --msa-to-llvm="target=$target" |
    "$LLVM_DIR_ROOT/bin/mlir-runner" -e main -entry-point-result=void \
      -shared-libs="$lib,$LLVM_DIR_ROOT/lib/libmlir_runner_utils.so,$LLVM_DIR_ROOT/lib/libmlir_c_runner_utils.so"
}
