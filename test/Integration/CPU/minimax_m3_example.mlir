// The README's example (MiniMax-M3 configuration, ragged batch of a prefill,
// a chunked prefill and a decode step) runs end to end on the CPU and selects
// the blocks that an independent NumPy model of the example computes.
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/minimax_m3_expected.py > %t.check
// RUN: msa-opt %msa_src_root/examples/minimax_m3.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.check
