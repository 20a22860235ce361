// A build without a CUDA compiler has no libmsa_kernels_cuda: the CPU
// library answers target=auto itself (both key types), so the lowered
// program still runs.
// REQUIRES: cpu-kernels
// UNSUPPORTED: cuda-kernels
// RUN: %python %S/../Inputs/gen_case.py decode > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=auto" | %run_cpu | FileCheck %t.mlir
// RUN: %python %S/../Inputs/gen_case.py decode --key-type f8e4m3fn > %t.f8.mlir
// RUN: msa-opt %t.f8.mlir --msa-to-llvm="target=auto" | %run_cpu | FileCheck %t.f8.mlir
