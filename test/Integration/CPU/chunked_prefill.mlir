// A chunked prefill: 6 new rows after a 21-key prefix, D = 16, reading
// layer 2 of three; expected ids from gen_case.py's NumPy model.
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py chunked > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.mlir
