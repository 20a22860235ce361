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
// CHECK: msa.indexer_ragged_paged (cpu): k_lookup_table[0][2] = 16 is not a valid page id (num_pages = 11) for sequence 0
// CHECK-NEXT: msa.indexer_ragged_paged: stopping after a kernel error (invalid metadata)
// NORESULT-NOT: Unranked Memref
