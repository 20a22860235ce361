#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, shows the
# bundled example's IR after the lowering pipeline, and runs the MiniMax-M3
# example end to end on the CPU (or with --target=cuda|auto).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TARGET=cpu
for arg in "$@"; do
  case "$arg" in
    --target=*) TARGET="${arg#--target=}" ;;
    *) echo "usage: $0 [--target=cpu|cuda|auto]" >&2; exit 2 ;;
  esac
done

install_dependencies
mkdir -p "$BUILD_DIR"
configure_and_build

step "The example's IR after --one-shot-bufferize and --msa-lower-to-runtime=\"target=$TARGET\""
"$BUILD_DIR/bin/msa-opt" "$ROOT/examples/minimax_m3.mlir" \
    --one-shot-bufferize="bufferize-function-boundaries" \
    --msa-lower-to-runtime="target=$TARGET" --canonicalize --cse \
    --mlir-elide-elementsattrs-if-larger=8

step "Running the example on target=$TARGET: the 16 blocks each index head selects for the last row of each sequence"
run_example "$TARGET" | awk '
  BEGIN { split("sequence 0: prefill of 1024 tokens (row 1023, 1024 keys, 8 blocks)|sequence 1: chunk of 256 tokens after 3072 (row 1279, 3328 keys, 26 blocks)|sequence 2: decode step after 8191 (row 1280, 8192 keys, 64 blocks)", label, "|") }
  /^Unranked Memref/ { n++; print label[n]; next }
  { gsub(/[][,]/, " "); $1 = $1; h = (h % 4); printf "  head %d: %s\n", h, $0; h++ }'
