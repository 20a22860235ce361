// order = block: the same selection, ids ascending, -1 padding last.
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py ragged --order block > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.mlir
// RUN: %python %S/../Inputs/gen_case.py decode --order block > %t.decode.mlir
// RUN: msa-opt %t.decode.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.decode.mlir
