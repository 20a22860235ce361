// A page id past num_pages in a page the sequence needs: the kernel refuses
// it with a message naming the sequence and the value, and the program stops
// (cf.assert aborts)
// before the result is printed.
// REQUIRES: cpu-kernels
// RUN: %python %S/../Inputs/gen_case.py ragged --bad-page > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cpu" > %t.llvm.mlir
// RUN: not --crash %run_cpu %t.llvm.mlir > %t.out 2> %t.err
// RUN: FileCheck %s < %t.err
// RUN: FileCheck %s --check-prefix=NORESULT --allow-empty < %t.out
// CHECK: msa.indexer_ragged_paged (cpu): k_lookup_table[0][2] = 16 is not a valid page id (num_pages = 11) for sequence 0
// NORESULT-NOT: Unranked Memref
