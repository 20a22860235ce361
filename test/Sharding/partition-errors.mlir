// Partitioning rejects, with an error naming the value, the dimension and
// the grid axes, every sharding of msa.indexer_ragged_paged other than "index
// heads split (q dimension 1 and the result dimension 0, over the same grid
// axes), everything else replicated". The inputs are fully annotated by hand
// (as a user or another tool would), so propagation does not reshard them.
// RUN: msa-opt %s -split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(shard-partition))' \
// RUN:   -verify-diagnostics -mlir-print-op-on-diagnostic=false

// q split by rows.
shard.grid @grid(shape = 2)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: q dimension 0 (rows) is split over grid axes [0]; only the index heads can be split (q dimension 1 and the result dimension 0, over the same grid axes), every other operand and dimension must be replicated}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// -----

// q split along the head dim D.
shard.grid @grid(shape = 2)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[], [], [0]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: q dimension 2 (idx_head_dim) is split over grid axes [0]; only the index heads can be split (q dimension 1 and the result dimension 0, over the same grid axes), every other operand and dimension must be replicated}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// -----

// The page table split by sequence.
shard.grid @grid(shape = 2)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut_s = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %lut0 = shard.shard %lut to %lut_s : tensor<2x3xui32>
  %lut1 = shard.shard %lut0 to %lut_s annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: k_lookup_table dimension 0 is split over grid axes [0]; only the index heads can be split (q dimension 1 and the result dimension 0, over the same grid axes), every other operand and dimension must be replicated}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// -----

// The result split by rows.
shard.grid @grid(shape = 2)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: the result dimension 1 (rows) is split over grid axes [0]; only the index heads can be split (q dimension 1 and the result dimension 0, over the same grid axes), every other operand and dimension must be replicated}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// -----

// q's heads and the result's heads split over different grid axes.
shard.grid @grid(shape = 2x2)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[1]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: q dimension 1 is split over grid axes [0] but the result dimension 0 over [1]; the index heads of both must be split over the same axes}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// -----

// q's heads split, the result replicated (the partitioned op would
// produce only its own heads).
shard.grid @grid(shape = 2)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: q dimension 1 is split over grid axes [0] but the result dimension 0 over []; the index heads of both must be split over the same axes}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// -----

// 3 heads do not split over 2 processes.
shard.grid @grid(shape = 2)
func.func @f(%q: tensor<6x3x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<3x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x3x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x3x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: num_index_heads = 3 is not divisible by the 2 shards of grid axes [0] of @grid}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 3, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x3x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<3x6x3xi32>
  return %r : tensor<3x6x3xi32>
}

// -----

// A grid axis of dynamic size.
shard.grid @grid(shape = ?)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: grid axes [0] of @grid have a dynamic size; the per-shard num_index_heads must be static}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}

// -----

// Halos on q.
shard.grid @grid(shape = 2)
func.func @f(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>, %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>, %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %qs = shard.sharding @grid split_axes = [[], [0]] halo_sizes = [1, 1] : !shard.sharding
  %rep = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %rs = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %q0 = shard.shard %q to %qs : tensor<6x4x8xbf16>
  %q1 = shard.shard %q0 to %qs annotate_for_users : tensor<6x4x8xbf16>
  %off1 = shard.shard %off to %rep annotate_for_users : tensor<3xui32>
  %pre1 = shard.shard %pre to %rep annotate_for_users : tensor<2xui32>
  %kb1 = shard.shard %kb to %rep annotate_for_users : tensor<6x1x1x4x1x8xbf16>
  %kcl1 = shard.shard %kcl to %rep annotate_for_users : tensor<2xui32>
  %lut1 = shard.shard %lut to %rep annotate_for_users : tensor<2x3xui32>
  %kmax1 = shard.shard %kmax to %rep annotate_for_users : tensor<1x2xui32>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be partitioned: q has halo sizes; only the index heads can be split (q dimension 1 and the result dimension 0, over the same grid axes), every other operand and dimension must be replicated}}
  %ids = msa.indexer_ragged_paged %q1, %off1, %pre1, %kb1, %kcl1, %lut1, %kmax1
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>, tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.shard %ids to %rs : tensor<4x6x3xi32>
  return %r : tensor<4x6x3xi32>
}
