// Signless i32 metadata: the memrefs reach the entry's ui32 parameters
// through an unrealized cast (same layout), so one declaration serves ops
// of both metadata types; after the LLVM conversion no cast is left.
// RUN: msa-opt %s --msa-lower-to-runtime | FileCheck %s
// RUN: msa-opt %s --msa-lower-to-runtime --expand-strided-metadata --finalize-memref-to-llvm --convert-func-to-llvm --convert-arith-to-llvm --reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// CHECK-COUNT-1: func.func private @msa_indexer_ragged_paged_cpu(
// CHECK-LABEL: func.func @signless(
// CHECK: %[[OFF:.*]] = memref.cast %arg1 : memref<?xi32> to memref<?xi32, strided<[?], offset: ?>>
// CHECK: %[[UOFF:.*]] = builtin.unrealized_conversion_cast %[[OFF]] : memref<?xi32, strided<[?], offset: ?>> to memref<?xui32, strided<[?], offset: ?>>
// CHECK: %[[LUT:.*]] = memref.cast %arg5 : memref<?x?xi32> to memref<?x?xi32, strided<[?, ?], offset: ?>>
// CHECK: %[[ULUT:.*]] = builtin.unrealized_conversion_cast %[[LUT]] : memref<?x?xi32, strided<[?, ?], offset: ?>> to memref<?x?xui32, strided<[?, ?], offset: ?>>
// The destination stays i32.
// CHECK: %[[OUT:.*]] = memref.cast %arg7 : memref<4x?x16xi32> to memref<?x?x?xi32, strided<[?, ?, ?], offset: ?>>
// CHECK-NOT: unrealized_conversion_cast %[[OUT]]
// CHECK: call @msa_indexer_ragged_paged_cpu(%{{.*}}, %[[UOFF]], %{{.*}}, %{{.*}}, %{{.*}}, %[[ULUT]], %{{.*}}, %[[OUT]],
// CHECK-LABEL: func.func @unsigned(
// CHECK-NOT: unrealized_conversion_cast
// CHECK: call @msa_indexer_ragged_paged_cpu(
// LLVM-NOT: unrealized_conversion_cast
// LLVM: llvm.call @msa_indexer_ragged_paged_cpu(
func.func @signless(%q: memref<?x4x128xbf16>, %off: memref<?xi32>,
    %prefix: memref<?xi32>, %kb: memref<?x1x2x128x1x128xbf16>,
    %kcl: memref<?xi32>, %lut: memref<?x?xi32>, %kmax: memref<1x2xi32>,
    %out: memref<4x?x16xi32>) {
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : memref<?x4x128xbf16>, memref<?xi32>, memref<?xi32>,
        memref<?x1x2x128x1x128xbf16>, memref<?xi32>, memref<?x?xi32>,
        memref<1x2xi32> into memref<4x?x16xi32>
  return
}

func.func @unsigned(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
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
