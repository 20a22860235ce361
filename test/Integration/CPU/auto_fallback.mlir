// target=auto on a machine without a GPU: the auto entry of
// libmsa_kernels_cuda finds no CUDA device at run time and runs the CPU
// kernel. The ids match gen_case.py's NumPy model, and an error comes from
// the CPU kernel ("(cpu)" in the message). target=cuda has no fallback: it
// stops with the CUDA entry's "no device" message. The same for an
// f8E4M3FN index-K (the _f8e4m3fn entries).
// REQUIRES: cpu-kernels, cuda-kernels
// UNSUPPORTED: gpu
// RUN: %python %S/../Inputs/gen_case.py ragged > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=auto" | %run_cuda_lib | FileCheck %t.mlir
// RUN: %python %S/../Inputs/gen_case.py ragged --bad-page > %t.bad.mlir
// RUN: msa-opt %t.bad.mlir --msa-to-llvm="target=auto" > %t.bad.llvm.mlir
// RUN: not %run_cuda_lib %t.bad.llvm.mlir 2>&1 | FileCheck %s --check-prefix=BAD --implicit-check-not="PLEASE submit"
// BAD: msa.indexer_ragged_paged (cpu): k_lookup_table[0][2] = 16 is not a valid page id (num_pages = 11) for sequence 0
// BAD-NEXT: msa.indexer_ragged_paged: stopping after a kernel error (invalid metadata)
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cuda" > %t.cuda.llvm.mlir
// RUN: not %run_cuda_lib %t.cuda.llvm.mlir 2>&1 | FileCheck %s --check-prefix=NODEV --implicit-check-not="PLEASE submit"
// NODEV: msa.indexer_ragged_paged (cuda):
// NODEV: msa.indexer_ragged_paged: stopping after a kernel error
// NODEV-NOT: Unranked Memref
// RUN: %python %S/../Inputs/gen_case.py ragged --key-type f8e4m3fn > %t.f8.mlir
// RUN: msa-opt %t.f8.mlir --msa-to-llvm="target=auto" | %run_cuda_lib | FileCheck %t.f8.mlir
// RUN: %python %S/../Inputs/gen_case.py ragged --key-type f8e4m3fn --bad-page > %t.f8.bad.mlir
// RUN: msa-opt %t.f8.bad.mlir --msa-to-llvm="target=auto" > %t.f8.bad.llvm.mlir
// RUN: not %run_cuda_lib %t.f8.bad.llvm.mlir 2>&1 | FileCheck %s --check-prefix=BAD --implicit-check-not="PLEASE submit"
// RUN: msa-opt %t.f8.mlir --msa-to-llvm="target=cuda" > %t.f8.cuda.llvm.mlir
// RUN: not %run_cuda_lib %t.f8.cuda.llvm.mlir 2>&1 | FileCheck %s --check-prefix=NODEV --implicit-check-not="PLEASE submit"
