// Propagation then partitioning: each process runs the same op on its own
// index heads (num_index_heads = H / shards, q and the result sliced by
// heads), with the metadata and the index-K cache whole.
// RUN: msa-opt %s --pass-pipeline='builtin.module(func.func(sharding-propagation,shard-partition))' \
// RUN:   -verify-diagnostics -mlir-print-op-on-diagnostic=false | FileCheck %s

shard.grid @grid1(shape = 2)
shard.grid @grid2(shape = 2x2)

// 1-D grid of 2, dynamic row count: 2 heads per process, no communication.
// CHECK-LABEL: func.func @tp2(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<?x2x8xbf16>, %[[OFF:[^:]*]]: tensor<3xui32>, %[[PRE:[^:]*]]: tensor<2xui32>,
// CHECK-SAME:    %[[KB:[^:]*]]: tensor<6x1x1x4x1x8xbf16>, %[[KCL:[^:]*]]: tensor<2xui32>, %[[LUT:[^:]*]]: tensor<2x3xui32>,
// CHECK-SAME:    %[[KMAX:[^:]*]]: tensor<1x2xui32>) -> tensor<2x?x3xi32>
// CHECK-NEXT:  %[[IDS:.*]] = msa.indexer_ragged_paged %[[Q]], %[[OFF]], %[[PRE]], %[[KB]], %[[KCL]], %[[LUT]], %[[KMAX]]
// CHECK-SAME:    num_index_heads = 2
// CHECK-SAME:    : tensor<?x2x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
// CHECK-NEXT:  return %[[IDS]] : tensor<2x?x3xi32>
func.func @tp2(%q: tensor<?x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
               %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
               %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x?x3xi32> {
  %s = shard.sharding @grid1 split_axes = [[], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<?x4x8xbf16>
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<?x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x?x3xi32>
}

// The same with an f8E4M3FN index-K: the cache stays whole, in its type.
// CHECK-LABEL: func.func @tp2_f8_keys(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<?x2x8xbf16>, %[[OFF:[^:]*]]: tensor<3xui32>, %[[PRE:[^:]*]]: tensor<2xui32>,
// CHECK-SAME:    %[[KB:[^:]*]]: tensor<6x1x1x4x1x8xf8E4M3FN>, %[[KCL:[^:]*]]: tensor<2xui32>, %[[LUT:[^:]*]]: tensor<2x3xui32>,
// CHECK-SAME:    %[[KMAX:[^:]*]]: tensor<1x2xui32>) -> tensor<2x?x3xi32>
// CHECK-NEXT:  %[[IDS:.*]] = msa.indexer_ragged_paged %[[Q]], %[[OFF]], %[[PRE]], %[[KB]], %[[KCL]], %[[LUT]], %[[KMAX]]
// CHECK-SAME:    num_index_heads = 2
// CHECK-SAME:    : tensor<?x2x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xf8E4M3FN>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
// CHECK-NEXT:  return %[[IDS]] : tensor<2x?x3xi32>
func.func @tp2_f8_keys(%q: tensor<?x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
               %kb: tensor<6x1x1x4x1x8xf8E4M3FN>, %kcl: tensor<2xui32>,
               %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x?x3xi32> {
  %s = shard.sharding @grid1 split_axes = [[], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<?x4x8xbf16>
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<?x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xf8E4M3FN>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x?x3xi32>
}

// 2x2 grid, heads split over axis 1 and replicated over axis 0.
// CHECK-LABEL: func.func @heads_on_axis1_2d(
// CHECK-SAME:    tensor<6x2x8xbf16>
// CHECK-SAME:    -> tensor<2x6x3xi32>
// CHECK-NEXT:  msa.indexer_ragged_paged
// CHECK-SAME:    num_index_heads = 2
// CHECK-NEXT:  return
func.func @heads_on_axis1_2d(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                             %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                             %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid2 split_axes = [[], [1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<6x4x8xbf16>
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x6x3xi32>
}

// 2x2 grid, heads split over both axes: one head per process
// (MiniMax-M3 at TP = 4).
// CHECK-LABEL: func.func @heads_on_both_axes_2d(
// CHECK-SAME:    tensor<6x1x8xbf16>
// CHECK-SAME:    -> tensor<1x6x3xi32>
// CHECK-NEXT:  msa.indexer_ragged_paged
// CHECK-SAME:    num_index_heads = 1
func.func @heads_on_both_axes_2d(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                                 %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                                 %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %ids = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %s = shard.sharding @grid2 split_axes = [[0, 1]] : !shard.sharding
  %r = shard.shard %ids to %s : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// Replicated: every process runs all 4 heads.
// CHECK-LABEL: func.func @replicated(
// CHECK-SAME:    tensor<6x4x8xbf16>
// CHECK-SAME:    -> tensor<4x6x3xi32>
// CHECK-NEXT:  msa.indexer_ragged_paged
// CHECK-SAME:    num_index_heads = 4
func.func @replicated(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                      %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                      %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid2 split_axes = [[]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<6x4x8xbf16>
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x6x3xi32>
}

// q arrives split by rows (axis 0) and heads (axis 1): the rows are
// gathered over axis 0 before the op, the heads stay split.
// CHECK-LABEL: func.func @rows_split(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<3x2x8xbf16>
// CHECK-SAME:    -> tensor<2x6x3xi32>
// CHECK-NEXT:  %[[G:.*]] = shard.all_gather %[[Q]] on @grid2 grid_axes = [0] gather_axis = 0 : tensor<3x2x8xbf16> -> tensor<6x2x8xbf16>
// CHECK:       msa.indexer_ragged_paged
// CHECK-SAME:    num_index_heads = 2
// CHECK-SAME:    : tensor<6x2x8xbf16>,
func.func @rows_split(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                      %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                      %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid2 split_axes = [[0], [1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<6x4x8xbf16>
  // expected-warning @below {{q dimension 0 (rows) is split over grid axes [0]; it is resharded to the op's sharding}}
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x6x3xi32>
}

// q's heads over axis 0, the result's over axis 1: the op runs replicated,
// q's heads are gathered over axis 0 and the result sliced over axis 1.
// CHECK-LABEL: func.func @heads_conflict(
// CHECK-SAME:    %[[Q:[^:]*]]: tensor<6x2x8xbf16>
// CHECK-SAME:    -> tensor<2x6x3xi32>
// CHECK-NEXT:  %[[G:.*]] = shard.all_gather %[[Q]] on @grid2 grid_axes = [0] gather_axis = 1 : tensor<6x2x8xbf16> -> tensor<6x4x8xbf16>
// CHECK:       %[[IDS:.*]] = msa.indexer_ragged_paged
// CHECK-SAME:    num_index_heads = 4
// CHECK-NEXT:  %[[S:.*]] = shard.all_slice %[[IDS]] on @grid2 grid_axes = [1] slice_axis = 0 : tensor<4x6x3xi32> -> tensor<2x6x3xi32>
// CHECK-NEXT:  return %[[S]]
func.func @heads_conflict(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                          %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                          %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid2 split_axes = [[], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s annotate_for_users : tensor<6x4x8xbf16>
  // expected-warning @below {{q's index heads are split over grid axes [0] but the result's over [1]}}
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.sharding @grid2 split_axes = [[1]] : !shard.sharding
  %o = shard.shard %ids to %r : tensor<4x6x3xi32>
  return %o : tensor<4x6x3xi32>
}
