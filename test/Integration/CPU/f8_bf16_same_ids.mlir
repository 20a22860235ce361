// Keys exactly representable in e4m3, stored both ways (f8E4M3FN bytes, and
// the same values as bf16), give bit-identical ids on the CPU back end; both
// also match gen_case.py's NumPy model. NaN bytes become bf16 NaNs. (The
// buffer address printMemrefI32 prints is cut before the comparison.)
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py ragged --key-type f8e4m3fn --seed 5 > %t.f8.mlir
// RUN: %python %S/../Inputs/gen_case.py ragged --key-type bf16 --key-values e4m3 --seed 5 > %t.bf16.mlir
// RUN: msa-opt %t.f8.mlir --msa-to-llvm="target=cpu" | %run_cpu | sed -e 's/base@ = 0x[0-9a-f]*//' > %t.f8.out
// RUN: msa-opt %t.bf16.mlir --msa-to-llvm="target=cpu" | %run_cpu | sed -e 's/base@ = 0x[0-9a-f]*//' > %t.bf16.out
// RUN: FileCheck %t.f8.mlir < %t.f8.out
// RUN: FileCheck %t.bf16.mlir < %t.bf16.out
// RUN: diff %t.f8.out %t.bf16.out
// RUN: %python %S/../Inputs/gen_case.py f8edges --key-type f8e4m3fn > %t.edges.f8.mlir
// RUN: %python %S/../Inputs/gen_case.py f8edges --key-type bf16 --key-values e4m3 > %t.edges.bf16.mlir
// RUN: msa-opt %t.edges.f8.mlir --msa-to-llvm="target=cpu" | %run_cpu | sed -e 's/base@ = 0x[0-9a-f]*//' > %t.edges.f8.out
// RUN: msa-opt %t.edges.bf16.mlir --msa-to-llvm="target=cpu" | %run_cpu | sed -e 's/base@ = 0x[0-9a-f]*//' > %t.edges.bf16.out
// RUN: FileCheck %t.edges.f8.mlir < %t.edges.f8.out
// RUN: diff %t.edges.f8.out %t.edges.bf16.out
