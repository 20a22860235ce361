// Metadata operands may be signless i32 (what arith/linalg/tensor compute
// with) as well as ui32: one element type per op, in both op forms.
// RUN: msa-opt %s | msa-opt | FileCheck %s
// RUN: msa-opt %s --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=MEMREF

// CHECK-LABEL: func.func @signless
// CHECK: msa.indexer_ragged_paged
// CHECK-SAME: : tensor<?x4x128xbf16>, tensor<?xi32>, tensor<?xi32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xi32>, tensor<?x?xi32>, tensor<1x2xi32>
// CHECK: return %{{.*}} : tensor<4x?x16xi32>
// MEMREF-LABEL: func.func @signless
// MEMREF: msa.indexer_ragged_paged {{.*}} into %{{.*}} {{.*}}: memref<?x4x128xbf16, {{.*}}>, memref<?xi32, {{.*}}>, memref<?xi32, {{.*}}>, memref<?x1x2x128x1x128xbf16, {{.*}}>, memref<?xi32, {{.*}}>, memref<?x?xi32, {{.*}}>, memref<1x2xi32, {{.*}}> into memref<4x?x16xi32>
func.func @signless(%q: tensor<?x4x128xbf16>, %off: tensor<?xi32>,
    %prefix: tensor<?xi32>, %kb: tensor<?x1x2x128x1x128xbf16>,
    %kcl: tensor<?xi32>, %lut: tensor<?x?xi32>, %kmax: tensor<1x2xi32>)
    -> tensor<4x?x16xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xi32>, tensor<?xi32>,
        tensor<?x1x2x128x1x128xbf16>, tensor<?xi32>, tensor<?x?xi32>,
        tensor<1x2xi32>
  return %r : tensor<4x?x16xi32>
}
