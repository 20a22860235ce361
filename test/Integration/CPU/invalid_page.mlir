// A page id past num_pages in a page the sequence needs: the kernel refuses
// it with a message naming the sequence and the value, and the program ends
// (on-error=exit, the default) before the result is printed: the messages on
// stderr, a non-zero exit, and no crash (`not` without --crash fails on a
// signal; no stack dump or bug-report banner).
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py ragged --bad-page > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cpu" > %t.llvm.mlir
// RUN: not %run_cpu %t.llvm.mlir > %t.out 2> %t.err
// RUN: FileCheck %s < %t.err --implicit-check-not="PLEASE submit" --implicit-check-not="Stack dump"
// RUN: FileCheck %s --check-prefix=NORESULT --allow-empty < %t.out
// The same with an f8E4M3FN index-K (the _f8e4m3fn entry):
// RUN: %python %S/../Inputs/gen_case.py ragged --bad-page --key-type f8e4m3fn > %t.f8.mlir
// RUN: msa-opt %t.f8.mlir --msa-to-llvm="target=cpu" > %t.f8.llvm.mlir
// RUN: not %run_cpu %t.f8.llvm.mlir > %t.f8.out 2> %t.f8.err
// RUN: FileCheck %s < %t.f8.err --implicit-check-not="PLEASE submit" --implicit-check-not="Stack dump"
// RUN: FileCheck %s --check-prefix=NORESULT --allow-empty < %t.f8.out
// CHECK: msa.indexer_ragged_paged (cpu): k_lookup_table[0][2] = 16 is not a valid page id (num_pages = 11) for sequence 0
// CHECK-NEXT: msa.indexer_ragged_paged: stopping after a kernel error (invalid metadata)
// NORESULT-NOT: Unranked Memref
