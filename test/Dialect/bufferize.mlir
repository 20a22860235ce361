// One-Shot Bufferize turns the tensor form into the memref form: the result
// gets a fresh buffer (rows taken from q at run time) that the op writes
// after `into`; the inputs are only read, so they are not copied.
// RUN: msa-opt %s --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s
// RUN: msa-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s --check-prefix=IDENTITY

// CHECK-LABEL: func.func @dynamic_rows(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x4x128xbf16, strided<[?, ?, ?], offset: ?>>,
// CHECK-SAME: %[[KMAX:[a-z0-9]+]]: memref<1x2xui32, strided<[?, ?], offset: ?>>) -> memref<4x?x16xi32>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[ROWS:.*]] = memref.dim %[[Q]], %[[C0]]
// CHECK: %[[OUT:.*]] = memref.alloc(%[[ROWS]]) {{.*}} : memref<4x?x16xi32>
// CHECK-NOT: memref.copy
// CHECK: msa.indexer_ragged_paged %[[Q]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[KMAX]] into %[[OUT]]
// CHECK-SAME: layer_idx = 1
// CHECK-SAME: into memref<4x?x16xi32>
// CHECK: return %[[OUT]]
// IDENTITY-LABEL: func.func @dynamic_rows(
// IDENTITY-SAME: memref<?x4x128xbf16>
// IDENTITY: msa.indexer_ragged_paged {{.*}} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
func.func @dynamic_rows(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>,
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

// Static shapes: a static allocation; the attributes (order included) are
// carried over unchanged.
// CHECK-LABEL: func.func @static_rows
// CHECK: %[[OUT:.*]] = memref.alloc() {{.*}} : memref<2x5x8xi32>
// CHECK: msa.indexer_ragged_paged {{.*}} into %[[OUT]]
// CHECK-SAME: block_size = 16 : i64, idx_head_dim = 16 : i64, init_blocks = 2 : i64, layer_idx = 0 : i64, local_blocks = 2 : i64, num_index_heads = 2 : i64, order = #msa.order<block>, scale = 2.500000e-01 : f32, topk = 8 : i64
func.func @static_rows(%q: tensor<5x2x16xbf16>, %off: tensor<3xui32>,
    %prefix: tensor<2xui32>, %kb: tensor<6x1x1x16x1x16xbf16>,
    %kcl: tensor<2xui32>, %lut: tensor<2x4xui32>, %kmax: tensor<1x2xui32>)
    -> tensor<2x5x8xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 2, idx_head_dim = 16, block_size = 16, topk = 8,
       init_blocks = 2, local_blocks = 2, layer_idx = 0, scale = 0.25 : f32,
       order = #msa.order<block>}
      : tensor<5x2x16xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x16x1x16xbf16>, tensor<2xui32>, tensor<2x4xui32>,
        tensor<1x2xui32>
  return %r : tensor<2x5x8xi32>
}

// The result feeds another tensor op: bufferization keeps the buffer alive
// and hands it on.
// CHECK-LABEL: func.func @result_used
// CHECK: %[[OUT:.*]] = memref.alloc() {{.*}} : memref<1x3x2xi32>
// CHECK: msa.indexer_ragged_paged {{.*}} into %[[OUT]]
// CHECK: memref.subview %[[OUT]][0, 0, 0] [1, 1, 2] [1, 1, 1]
func.func @result_used(%q: tensor<3x1x16xbf16>, %off: tensor<2xui32>,
    %prefix: tensor<1xui32>, %kb: tensor<4x1x1x16x1x16xbf16>,
    %kcl: tensor<1xui32>, %lut: tensor<1x4xui32>, %kmax: tensor<1x2xui32>)
    -> tensor<1x1x2xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 1, idx_head_dim = 16, block_size = 16, topk = 2,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 1.0 : f32}
      : tensor<3x1x16xbf16>, tensor<2xui32>, tensor<1xui32>,
        tensor<4x1x1x16x1x16xbf16>, tensor<1xui32>, tensor<1x4xui32>,
        tensor<1x2xui32>
  %first = tensor.extract_slice %r[0, 0, 0] [1, 1, 2] [1, 1, 1]
      : tensor<1x3x2xi32> to tensor<1x1x2xi32>
  return %first : tensor<1x1x2xi32>
}

// An f8E4M3FN index-K bufferizes the same way: the key buffer is only read
// (no copy), the result gets a fresh buffer.
// CHECK-LABEL: func.func @f8_keys(
// CHECK-SAME: %[[KB:[a-z0-9]+]]: memref<?x1x2x128x1x128xf8E4M3FN, strided<[?, ?, ?, ?, ?, ?], offset: ?>>
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) {{.*}} : memref<4x?x16xi32>
// CHECK-NOT: memref.copy
// CHECK: msa.indexer_ragged_paged %{{.*}}, %{{.*}}, %{{.*}}, %[[KB]], %{{.*}}, %{{.*}}, %{{.*}} into %[[OUT]]
// CHECK-SAME: memref<?x1x2x128x1x128xf8E4M3FN, strided<[?, ?, ?, ?, ?, ?], offset: ?>>
// CHECK: return %[[OUT]]
// IDENTITY-LABEL: func.func @f8_keys(
// IDENTITY: msa.indexer_ragged_paged {{.*}} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xf8E4M3FN>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
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
