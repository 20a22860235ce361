// The input of the embedding consumers (test/embedding/cxx and c; lit skips
// Inputs/): the case of test/Integration/CPU/tiny_by_hand.mlir, at the
// tensor level, written into a caller-provided buffer. One sequence, two heads, D = 2,
// block_size = page_size = 2, topk = 2, init_blocks = 1, local_blocks = 0,
// scale = 1. Keys by position (logical page -> physical page: 0->2, 1->0,
// 2->3; physical page 1 is never referenced):
//   0:[1,0] 1:[0,1] | 2:[3,0] 3:[NaN,NaN] | 4:[-1,-1] 5:[100,100]
// Two new rows after a 3-key prefix: row 0 sees keys 0..3 (nblk 2), row 1
// keys 0..4 (nblk 3). Block scores are the max dot over visible, non-NaN keys.
// Head 0, q = [1, 2]:    dots 1, 2 | 3, NaN | -3
//   row 0: {0: 2, 1: 3}          -> init block 0, then 1 -> [0, 1]
//   row 1: {0: 2, 1: 3, 2: -3}   -> init block 0, then 1 -> [0, 1]
// Head 1, q = [-1, -1]:  dots -1, -1 | -3, NaN | 2
//   row 0: {0: -1, 1: -3}        -> [0, 1]
//   row 1: {0: -1, 1: -3, 2: 2}  -> init block 0, then 2 -> [0, 2]
// Expected out[h][row][k] = [[[0, 1], [0, 1]], [[0, 1], [0, 2]]].
func.func @indexer(%out: memref<2x2x2xi32>) attributes {llvm.emit_c_interface} {
  %q = arith.constant dense<[[[1.0, 2.0], [-1.0, -1.0]],
                             [[1.0, 2.0], [-1.0, -1.0]]]> : tensor<2x2x2xbf16>
  %off = arith.constant dense<[0, 2]> : tensor<2xui32>
  %pre = arith.constant dense<[3]> : tensor<1xui32>
  %kb = arith.constant dense<[
    [[[[[3.0, 0.0]], [[0x7FC0, 0x7FC0]]]]],
    [[[[[100.0, 100.0]], [[100.0, 100.0]]]]],
    [[[[[1.0, 0.0]], [[0.0, 1.0]]]]],
    [[[[[-1.0, -1.0]], [[100.0, 100.0]]]]]]> : tensor<4x1x1x2x1x2xbf16>
  %kcl = arith.constant dense<[3]> : tensor<1xui32>
  %lut = arith.constant dense<[[2, 0, 3, 4]]> : tensor<1x4xui32>
  %kmax = arith.constant dense<[[2, 5]]> : tensor<1x2xui32>
  %ids = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 2, idx_head_dim = 2, block_size = 2, topk = 2,
       init_blocks = 1, local_blocks = 0, layer_idx = 0, scale = 1.0 : f32}
      : tensor<2x2x2xbf16>, tensor<2xui32>, tensor<1xui32>,
        tensor<4x1x1x2x1x2xbf16>, tensor<1xui32>, tensor<1x4xui32>,
        tensor<1x2xui32>
  bufferization.materialize_in_destination %ids in restrict writable %out
      : (tensor<2x2x2xi32>, memref<2x2x2xi32>) -> ()
  return
}
