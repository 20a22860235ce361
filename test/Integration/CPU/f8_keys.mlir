// An f8E4M3FN index-K, tensor level, through --msa-to-llvm and mlir-runner on
// the CPU. Expected ids come from gen_case.py's NumPy model, which decodes
// the e4m3 bytes itself (sign, 4-bit exponent with bias 7, 3-bit mantissa,
// subnormals at exponent 0, S.1111.111 = NaN).
// f8edges: subnormal and negative keys, NaN bytes (0x7F, 0xFF) in single
// elements and in whole blocks (never selected, -1 padding), and an exact
// tie decided by the smaller block id (gen_case.py asserts that each of
// these decides an id). The random cases (ragged, decode, chunked) read
// random e4m3 bytes, a few of them NaN.
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py f8edges --key-type f8e4m3fn > %t.edges.mlir
// RUN: msa-opt %t.edges.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.edges.mlir
// RUN: %python %S/../Inputs/gen_case.py f8edges --key-type f8e4m3fn --seed 5 --order block > %t.edges5.mlir
// RUN: msa-opt %t.edges5.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.edges5.mlir
// RUN: %python %S/../Inputs/gen_case.py ragged --key-type f8e4m3fn > %t.ragged.mlir
// RUN: msa-opt %t.ragged.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.ragged.mlir
// RUN: %python %S/../Inputs/gen_case.py ragged --key-type f8e4m3fn --seed 11 --order block > %t.ragged11.mlir
// RUN: msa-opt %t.ragged11.mlir --msa-to-llvm="target=cpu on-error=continue" | %run_cpu | FileCheck %t.ragged11.mlir
// RUN: %python %S/../Inputs/gen_case.py decode --key-type f8e4m3fn > %t.decode.mlir
// RUN: msa-opt %t.decode.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.decode.mlir
// RUN: %python %S/../Inputs/gen_case.py chunked --key-type f8e4m3fn > %t.chunked.mlir
// RUN: msa-opt %t.chunked.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %t.chunked.mlir
