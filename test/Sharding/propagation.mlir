// Sharding propagation through msa.indexer_ragged_paged: the index heads
// (q dimension 1, result dimension 0) take the split of whichever side is
// annotated; every other operand is annotated replicated. A split of any
// other dimension is resharded, with a warning.
// RUN: msa-opt %s --pass-pipeline='builtin.module(func.func(sharding-propagation))' \
// RUN:   -verify-diagnostics -mlir-print-op-on-diagnostic=false | FileCheck %s

shard.grid @grid1(shape = 2)
shard.grid @grid2(shape = 2x2)

// Forward, 1-D grid: q split by heads over axis 0 -> the result too.
// CHECK-LABEL: func.func @forward_1d
// CHECK:      %[[QS:.*]] = shard.sharding @grid1 split_axes = {{\[\[}}], [0]] : !shard.sharding
// CHECK-NEXT: %[[Q0:.*]] = shard.shard %arg0 to %[[QS]] : tensor<?x4x8xbf16>
// CHECK:      %[[Q:.*]] = shard.shard %[[Q0]] to %{{.*}} annotate_for_users : tensor<?x4x8xbf16>
// CHECK-COUNT-6: shard.sharding @grid1 split_axes = {{\[\[}}]] : !shard.sharding
// CHECK:      %[[IDS:.*]] = msa.indexer_ragged_paged %[[Q]],
// CHECK-SAME: num_index_heads = 4
// CHECK-NEXT: %[[RS:.*]] = shard.sharding @grid1 split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK-NEXT: shard.shard %[[IDS]] to %[[RS]] : tensor<4x?x3xi32>
func.func @forward_1d(%q: tensor<?x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
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

// Backward, 1-D grid: only the result is annotated -> q split by heads.
// CHECK-LABEL: func.func @backward_1d
// CHECK:      %[[QS:.*]] = shard.sharding @grid1 split_axes = {{\[\[}}], [0]] : !shard.sharding
// CHECK-NEXT: %[[Q:.*]] = shard.shard %arg0 to %[[QS]] annotate_for_users : tensor<?x4x8xbf16>
// CHECK-COUNT-6: shard.sharding @grid1 split_axes = {{\[\[}}]] : !shard.sharding
// CHECK:      msa.indexer_ragged_paged %[[Q]],
func.func @backward_1d(%q: tensor<?x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                       %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                       %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x?x3xi32> {
  %ids = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<?x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %s = shard.sharding @grid1 split_axes = [[0]] : !shard.sharding
  %r = shard.shard %ids to %s : tensor<4x?x3xi32>
  return %r : tensor<4x?x3xi32>
}

// 2-D grid: heads split over axis 1, replicated over axis 0.
// CHECK-LABEL: func.func @heads_on_axis1_2d
// CHECK:      shard.sharding @grid2 split_axes = {{\[\[}}], [1]]
// CHECK-COUNT-6: shard.sharding @grid2 split_axes = {{\[\[}}]] : !shard.sharding
// CHECK:      msa.indexer_ragged_paged
// CHECK-NEXT: %[[RS:.*]] = shard.sharding @grid2 split_axes = {{\[\[}}1]] : !shard.sharding
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

// 2-D grid: heads split over both axes (one head per process).
// CHECK-LABEL: func.func @heads_on_both_axes_2d
// CHECK:      shard.sharding @grid2 split_axes = {{\[\[}}], [0, 1]]
// CHECK:      msa.indexer_ragged_paged
// CHECK-NEXT: shard.sharding @grid2 split_axes = {{\[\[}}0, 1]] : !shard.sharding
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

// A replicated q: the op and its result stay replicated.
// CHECK-LABEL: func.func @replicated
// CHECK:      msa.indexer_ragged_paged
// CHECK-NEXT: shard.sharding @grid1 split_axes = {{\[\[}}]] : !shard.sharding
func.func @replicated(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                      %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                      %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid1 split_axes = [[]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<6x4x8xbf16>
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x6x3xi32>
}

// q split by rows and heads: the heads keep their split, the rows are
// resharded to replicated (a second annotation, for the op).
// CHECK-LABEL: func.func @rows_split
// CHECK:      %[[QS:.*]] = shard.sharding @grid2 split_axes = {{\[\[}}0], [1]]
// CHECK-NEXT: %[[Q0:.*]] = shard.shard %arg0 to %[[QS]] : tensor<6x4x8xbf16>
// CHECK-NEXT: %[[QH:.*]] = shard.sharding @grid2 split_axes = {{\[\[}}], [1]]
// CHECK-NEXT: %[[Q:.*]] = shard.shard %[[Q0]] to %[[QH]] annotate_for_users
// CHECK:      msa.indexer_ragged_paged %[[Q]],
// CHECK-NEXT: shard.sharding @grid2 split_axes = {{\[\[}}1]] : !shard.sharding
func.func @rows_split(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                      %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                      %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid2 split_axes = [[0], [1]] : !shard.sharding
  %q1 = shard.shard %q to %s : tensor<6x4x8xbf16>
  // expected-warning @below {{msa.indexer_ragged_paged splits only its index heads (q dimension 1, result dimension 0): q dimension 0 (rows) is split over grid axes [0]; it is resharded to the op's sharding}}
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x6x3xi32>
}

// The index-K cache split by pages: resharded to replicated.
// CHECK-LABEL: func.func @cache_split
// CHECK:      %[[KS:.*]] = shard.sharding @grid1 split_axes = {{\[\[}}0]]
// CHECK-NEXT: %[[K0:.*]] = shard.shard %arg3 to %[[KS]] : tensor<6x1x1x4x1x8xbf16>
// CHECK:      %[[K:.*]] = shard.shard %[[K0]] to %{{.*}} annotate_for_users : tensor<6x1x1x4x1x8xbf16>
// CHECK:      msa.indexer_ragged_paged %{{.*}}, %{{.*}}, %{{.*}}, %[[K]],
func.func @cache_split(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                       %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                       %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid1 split_axes = [[0]] : !shard.sharding
  %kb1 = shard.shard %kb to %s : tensor<6x1x1x4x1x8xbf16>
  // expected-warning @below {{k_blocks dimension 0 is split over grid axes [0]; it is resharded to the op's sharding}}
  %ids = msa.indexer_ragged_paged %q, %off, %pre, %kb1, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  return %ids : tensor<4x6x3xi32>
}

// q's heads split over axis 0, the result's over axis 1: the op runs
// replicated, and both are resharded (a warning says so).
// CHECK-LABEL: func.func @heads_conflict
// CHECK:      %[[QS:.*]] = shard.sharding @grid2 split_axes = {{\[\[}}], [0]]
// CHECK-NEXT: %[[Q0:.*]] = shard.shard %arg0 to %[[QS]] annotate_for_users
// CHECK-NEXT: %[[QR:.*]] = shard.sharding @grid2 split_axes = {{\[\[}}]]
// CHECK-NEXT: %[[Q1:.*]] = shard.shard %[[Q0]] to %[[QR]] :
// CHECK-NEXT: %[[Q:.*]] = shard.shard %[[Q1]] to %[[QR]] annotate_for_users
// CHECK:      %[[IDS:.*]] = msa.indexer_ragged_paged %[[Q]],
// CHECK-NEXT: %[[RR:.*]] = shard.sharding @grid2 split_axes = {{\[\[}}]]
// CHECK-NEXT: %[[R0:.*]] = shard.shard %[[IDS]] to %[[RR]] :
// CHECK-NEXT: %[[R1:.*]] = shard.shard %[[R0]] to %[[RR]] annotate_for_users
// CHECK-NEXT: %[[RS:.*]] = shard.sharding @grid2 split_axes = {{\[\[}}1]]
// CHECK-NEXT: shard.shard %[[R1]] to %[[RS]] :
func.func @heads_conflict(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                          %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                          %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid2 split_axes = [[], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s annotate_for_users : tensor<6x4x8xbf16>
  // expected-warning @below {{msa.indexer_ragged_paged: q's index heads are split over grid axes [0] but the result's over [1]; the op runs replicated and both are resharded}}
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.sharding @grid2 split_axes = [[1]] : !shard.sharding
  %o = shard.shard %ids to %r : tensor<4x6x3xi32>
  return %o : tensor<4x6x3xi32>
}
