#!/usr/bin/env bash
# The README's test command: installs what is missing, builds with warnings
# as errors, runs every test (ctest: lit suite, kernel unit tests, generated
# docs check), then the CPU kernel's sanitizer build and bounded fuzz run.
# Ends with a line "N passed, N failed" and fails when any test fails.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_dependencies || exit 1
mkdir -p "$BUILD_DIR"
configure_and_build -DMSA_WERROR=ON || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0
run() {  # run NAME COMMAND...: one suite, counted once
  step "$1"
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
run "ctest (lit suite, kernel unit tests, docs)" \
  ctest --test-dir "$BUILD_DIR" --output-on-failure
run "CPU kernel under ASan/UBSan, and a bounded libFuzzer run" \
  "$ROOT/scripts/test_kernels_cpu.sh"
run "README example (end to end on the CPU)" \
  bash -c "source '$ROOT/scripts/common.sh'; run_example cpu >/dev/null"

step "Summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
