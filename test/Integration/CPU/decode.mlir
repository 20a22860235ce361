// A decode step: one new row per sequence (the row sees its own key), with
// H = 3 and block_size = 2; expected ids from gen_case.py's NumPy model.
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py decode > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.mlir
