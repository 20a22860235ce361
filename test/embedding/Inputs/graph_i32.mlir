// Graph-style input with signless i32 metadata computed inside the graph,
// the way a graph compiler emits it: new-token counts and cached lengths
// per sequence arrive as i32 tensors; row offsets (a running sum), total
// lengths and k_max_lengths = [[max new, max total]] are computed with
// tensor, arith and linalg ops and feed the op directly.
// Used by the embedding consumers (test/embedding/cxx and c) and by
// test/Integration/CPU/signless_graph.mlir (which adds a main).
//
// The case: two sequences, each the case of tiny_by_hand.mlir (2 new rows
// after 3 cached keys, the same pages), so by batch invariance each
// sequence selects what tiny_by_hand.mlir's single sequence selects (worked
// out by hand there):
//   head 0: rows 0..3 -> [0, 1], [0, 1], [0, 1], [0, 1]
//   head 1: rows 0..3 -> [0, 1], [0, 2], [0, 1], [0, 2]
func.func @indexer(%out: memref<2x4x2xi32>) attributes {llvm.emit_c_interface} {
  %q = arith.constant dense<[[[1.0, 2.0], [-1.0, -1.0]],
                             [[1.0, 2.0], [-1.0, -1.0]],
                             [[1.0, 2.0], [-1.0, -1.0]],
                             [[1.0, 2.0], [-1.0, -1.0]]]> : tensor<4x2x2xbf16>
  %kb = arith.constant dense<[
    [[[[[3.0, 0.0]], [[0x7FC0, 0x7FC0]]]]],
    [[[[[100.0, 100.0]], [[100.0, 100.0]]]]],
    [[[[[1.0, 0.0]], [[0.0, 1.0]]]]],
    [[[[[-1.0, -1.0]], [[100.0, 100.0]]]]]]> : tensor<4x1x1x2x1x2xbf16>
  %lut = arith.constant dense<[[2, 0, 3, 4], [2, 0, 3, 4]]> : tensor<2x4xi32>
  // The graph's inputs: new tokens and cached keys per sequence.
  %new = arith.constant dense<[2, 2]> : tensor<2xi32>
  %cached = arith.constant dense<[3, 3]> : tensor<2xi32>

  // input_row_offsets = [0, new[0], new[0] + new[1]].
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i32
  %n0 = tensor.extract %new[%c0] : tensor<2xi32>
  %n1 = tensor.extract %new[%c1] : tensor<2xi32>
  %end0 = arith.addi %zero, %n0 : i32
  %end1 = arith.addi %end0, %n1 : i32
  %offsets = tensor.from_elements %zero, %end0, %end1 : tensor<3xi32>

  // total keys per sequence = cached + new.
  %empty = tensor.empty() : tensor<2xi32>
  %total = linalg.generic {
      indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
                       affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]}
      ins(%cached, %new : tensor<2xi32>, tensor<2xi32>)
      outs(%empty : tensor<2xi32>) {
  ^bb0(%a: i32, %b: i32, %acc: i32):
    %s = arith.addi %a, %b : i32
    linalg.yield %s : i32
  } -> tensor<2xi32>

  // k_max_lengths = [[max new, max total]] (unsigned maxima).
  %init = tensor.from_elements %zero : tensor<i32>
  %max_new_t = linalg.reduce ins(%new : tensor<2xi32>) outs(%init : tensor<i32>)
      dimensions = [0]
      (%in: i32, %acc: i32) {
        %m = arith.maxui %in, %acc : i32
        linalg.yield %m : i32
      }
  %max_total_t = linalg.reduce ins(%total : tensor<2xi32>) outs(%init : tensor<i32>)
      dimensions = [0]
      (%in: i32, %acc: i32) {
        %m = arith.maxui %in, %acc : i32
        linalg.yield %m : i32
      }
  %max_new = tensor.extract %max_new_t[] : tensor<i32>
  %max_total = tensor.extract %max_total_t[] : tensor<i32>
  %kmax = tensor.from_elements %max_new, %max_total : tensor<1x2xi32>

  %ids = msa.indexer_ragged_paged %q, %offsets, %cached, %kb, %cached, %lut, %kmax
      {num_index_heads = 2, idx_head_dim = 2, block_size = 2, topk = 2,
       init_blocks = 1, local_blocks = 0, layer_idx = 0, scale = 1.0 : f32}
      : tensor<4x2x2xbf16>, tensor<3xi32>, tensor<2xi32>,
        tensor<4x1x1x2x1x2xbf16>, tensor<2xi32>, tensor<2x4xi32>,
        tensor<1x2xi32>
  bufferization.materialize_in_destination %ids in restrict writable %out
      : (tensor<2x4x2xi32>, memref<2x4x2xi32>) -> ()
  return
}
