// msa-lower-to-runtime on nested modules: every declaration goes into the
// innermost module around its op, so each module verifies on its own; the
// pass also runs scheduled on a nested module only.
// RUN: msa-opt %s --msa-lower-to-runtime | FileCheck %s
// RUN: msa-opt %s --pass-pipeline="builtin.module(builtin.module(msa-lower-to-runtime{target=cuda}))" | FileCheck %s --check-prefix=INNER
// msa-to-llvm nested the same way lowers the inner module to LLVM.
// RUN: msa-opt %s --pass-pipeline="builtin.module(builtin.module(msa-to-llvm))" | FileCheck %s --check-prefix=INNER-LLVM
// INNER-LLVM: func.func @outer(
// INNER-LLVM: module @inner {
// INNER-LLVM-NEXT: llvm.func @msa_runtime_exit_on_error(i32)
// INNER-LLVM: llvm.func @_mlir_ciface_msa_indexer_ragged_paged_cpu(
// INNER-LLVM: llvm.func @nested(
// INNER-LLVM-NOT: msa.indexer_ragged_paged

// CHECK: module {
// CHECK-NEXT: func.func private @msa_runtime_exit_on_error(i32)
// CHECK-NEXT: func.func private @msa_indexer_ragged_paged_cpu(
// CHECK: func.func @outer(
// CHECK: call @msa_indexer_ragged_paged_cpu(
// CHECK: module @inner {
// CHECK-NEXT: func.func private @msa_runtime_exit_on_error(i32)
// CHECK-NEXT: func.func private @msa_indexer_ragged_paged_cpu(
// CHECK: func.func @nested(
// CHECK: call @msa_indexer_ragged_paged_cpu(
// CHECK-NOT: msa.indexer_ragged_paged

// INNER: func.func @outer(
// INNER: msa.indexer_ragged_paged
// INNER: module @inner {
// INNER-NEXT: func.func private @msa_runtime_exit_on_error(i32)
// INNER-NEXT: func.func private @msa_indexer_ragged_paged_cuda(
// INNER: call @msa_indexer_ragged_paged_cuda(
func.func @outer(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
    %prefix: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>,
    %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>,
    %out: memref<4x?x16xi32>) {
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>,
        memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>,
        memref<1x2xui32> into memref<4x?x16xi32>
  return
}

module @inner {
  func.func @nested(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
      %prefix: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>,
      %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>,
      %out: memref<4x?x16xi32>) {
    msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
        {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
         init_blocks = 0, local_blocks = 1, layer_idx = 1,
         scale = 0.0883883461 : f32}
        : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>,
          memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>,
          memref<1x2xui32> into memref<4x?x16xi32>
    return
  }
}
