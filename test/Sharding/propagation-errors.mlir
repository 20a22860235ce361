// Shardings over two grids cannot meet at the op: propagation stops with an
// error naming both (it would otherwise leave the op unannotated, which the
// partitioner does not handle).
// RUN: msa-opt %s --pass-pipeline='builtin.module(func.func(sharding-propagation{traversal=forward}))' \
// RUN:   -verify-diagnostics -mlir-print-op-on-diagnostic=false

shard.grid @grid(shape = 2)
shard.grid @other(shape = 2)

func.func @two_grids(%q: tensor<6x4x8xbf16>, %off: tensor<3xui32>, %pre: tensor<2xui32>,
                     %kb: tensor<6x1x1x4x1x8xbf16>, %kcl: tensor<2xui32>,
                     %lut: tensor<2x3xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x6x3xi32> {
  %s = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %q1 = shard.shard %q to %s annotate_for_users : tensor<6x4x8xbf16>
  // expected-error @below {{'msa.indexer_ragged_paged' op cannot be sharded: its operands and result are annotated over different grids (@grid, @other)}}
  // expected-error @below {{'msa.indexer_ragged_paged' op fail to get sharding option.}}
  %ids = msa.indexer_ragged_paged %q1, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 3,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<6x4x8xbf16>, tensor<3xui32>, tensor<2xui32>,
        tensor<6x1x1x4x1x8xbf16>, tensor<2xui32>, tensor<2x3xui32>, tensor<1x2xui32>
  %r = shard.sharding @other split_axes = [[0]] : !shard.sharding
  %o = shard.shard %ids to %r : tensor<4x6x3xi32>
  return %o : tensor<4x6x3xi32>
}
