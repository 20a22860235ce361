// A ragged batch (a chunked prefill, an empty sequence, a fresh prefill and
// a decode-like row) over a shuffled, padded page table, reading layer 1 of
// two; the expected ids come from gen_case.py's NumPy model of docs/CONTRACT.md.
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py ragged > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.mlir
// RUN: %python %S/../Inputs/gen_case.py ragged --seed 11 > %t.seed11.mlir
// RUN: msa-opt %t.seed11.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.seed11.mlir
