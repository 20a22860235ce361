// Parse, print, and parse the printed form again; the generic form too.
// RUN: msa-opt %s | msa-opt | FileCheck %s
// RUN: msa-opt %s --mlir-print-op-generic | msa-opt | FileCheck %s

// The MiniMax-M3 configuration with dynamic rows, batch and pages; the
// result type tensor<4x?x16xi32> is inferred.
// CHECK-LABEL: func.func @minimax_m3_dynamic
// CHECK: %[[R:.*]] = msa.indexer_ragged_paged %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6
// CHECK-SAME: block_size = 128
// CHECK-SAME: idx_head_dim = 128
// CHECK-SAME: init_blocks = 0
// CHECK-SAME: layer_idx = 1
// CHECK-SAME: local_blocks = 1
// CHECK-SAME: num_index_heads = 4
// CHECK-SAME: scale = 0.0883883461 : f32
// CHECK-SAME: topk = 16
// CHECK-SAME: : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
// CHECK: return %[[R]] : tensor<4x?x16xi32>
func.func @minimax_m3_dynamic(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>,
    %prefix: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>,
    %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>)
    -> tensor<4x?x16xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>,
        tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>,
        tensor<1x2xui32>
  return %r : tensor<4x?x16xi32>
}

// Static shapes and order = block; the inferred type is fully static.
// CHECK-LABEL: func.func @static_block_order
// CHECK: msa.indexer_ragged_paged
// CHECK-SAME: order = #msa.order<block>
// CHECK-SAME: tensor<5x1x16xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x16x1x16xbf16>, tensor<2xui32>, tensor<2x4xui32>, tensor<1x2xui32>
// CHECK: return %{{.*}} : tensor<1x5x8xi32>
func.func @static_block_order(%q: tensor<5x1x16xbf16>, %off: tensor<3xui32>,
    %prefix: tensor<2xui32>, %kb: tensor<6x1x1x16x1x16xbf16>,
    %kcl: tensor<2xui32>, %lut: tensor<2x4xui32>, %kmax: tensor<1x2xui32>)
    -> tensor<1x5x8xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 1, idx_head_dim = 16, block_size = 16, topk = 8,
       init_blocks = 2, local_blocks = 2, layer_idx = 0, scale = 0.25 : f32,
       order = #msa.order<block>}
      : tensor<5x1x16xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x16x1x16xbf16>, tensor<2xui32>, tensor<2x4xui32>,
        tensor<1x2xui32>
  return %r : tensor<1x5x8xi32>
}

// The default order (score) is not printed; an explicit one is kept.
// CHECK-LABEL: func.func @explicit_score_order
// CHECK: msa.indexer_ragged_paged
// CHECK-NOT: order = #msa.order<block>
// CHECK-SAME: tensor<?x2x64xbf16>
func.func @explicit_score_order(%q: tensor<?x2x64xbf16>, %off: tensor<?xui32>,
    %prefix: tensor<?xui32>, %kb: tensor<?x1x?x64x1x64xbf16>,
    %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<?x?xui32>)
    -> tensor<2x?x4xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 2, idx_head_dim = 64, block_size = 64, topk = 4,
       init_blocks = 1, local_blocks = 1, layer_idx = 3, scale = 0.125 : f32,
       order = #msa.order<score>}
      : tensor<?x2x64xbf16>, tensor<?xui32>, tensor<?xui32>,
        tensor<?x1x?x64x1x64xbf16>, tensor<?xui32>, tensor<?x?xui32>,
        tensor<?x?xui32>
  return %r : tensor<2x?x4xi32>
}

// The memref form: destination after `into`, no result.
// CHECK-LABEL: func.func @memref_form
// CHECK: msa.indexer_ragged_paged %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 into %arg7
// CHECK-SAME: into memref<4x?x16xi32>
func.func @memref_form(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
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

// An f8E4M3FN index-K (scale-free e4m3), tensor and memref form; q stays bf16.
// CHECK-LABEL: func.func @f8_keys
// CHECK: %[[R:.*]] = msa.indexer_ragged_paged
// CHECK-SAME: : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xf8E4M3FN>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
// CHECK: return %[[R]] : tensor<4x?x16xi32>
func.func @f8_keys(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>,
    %prefix: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xf8E4M3FN>,
    %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>)
    -> tensor<4x?x16xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>,
        tensor<?x1x2x128x1x128xf8E4M3FN>, tensor<?xui32>, tensor<?x?xui32>,
        tensor<1x2xui32>
  return %r : tensor<4x?x16xi32>
}

// CHECK-LABEL: func.func @f8_keys_memref_form
// CHECK: msa.indexer_ragged_paged %arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6 into %arg7
// CHECK-SAME: : memref<5x2x16xbf16>, memref<3xi32>, memref<2xi32>, memref<6x1x1x16x1x16xf8E4M3FN>, memref<2xi32>, memref<2x4xi32>, memref<1x2xi32> into memref<2x5x8xi32>
func.func @f8_keys_memref_form(%q: memref<5x2x16xbf16>, %off: memref<3xi32>,
    %prefix: memref<2xi32>, %kb: memref<6x1x1x16x1x16xf8E4M3FN>,
    %kcl: memref<2xi32>, %lut: memref<2x4xi32>, %kmax: memref<1x2xi32>,
    %out: memref<2x5x8xi32>) {
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 2, idx_head_dim = 16, block_size = 16, topk = 8,
       init_blocks = 1, local_blocks = 1, layer_idx = 0, scale = 0.25 : f32,
       order = #msa.order<block>}
      : memref<5x2x16xbf16>, memref<3xi32>, memref<2xi32>,
        memref<6x1x1x16x1x16xf8E4M3FN>, memref<2xi32>, memref<2x4xi32>,
        memref<1x2xi32> into memref<2x5x8xi32>
  return
}
