// A case small enough to check by hand: one sequence, two heads, D = 2,
// block_size = page_size = 2, topk = 2, init_blocks = 1, local_blocks = 0,
// scale = 1. Keys by position (logical page -> physical page: 0->2, 1->0,
// 2->3; physical page 1 is never referenced and holds huge keys):
//   0:[1,0] 1:[0,1] | 2:[3,0] 3:[NaN,NaN] | 4:[-1,-1] 5:[100,100]
// Two new rows after a 3-key prefix: row 0 sees keys 0..3, row 1 keys 0..4;
// key 5 is past every row. The NaN key is skipped.
// Head 0, q = [1, 2]:
//   row 0: dots 1, 2 | 3, NaN          -> blocks {0: 2, 1: 3}
//          nblk = 2: init block 0 forced, then 1          -> [0, 1]
//   row 1: dots 1, 2 | 3, NaN | -3     -> blocks {0: 2, 1: 3, 2: -3} -> [0, 1]
// Head 1, q = [-1, -1]:
//   row 0: dots -1, -1 | -3, NaN       -> blocks {0: -1, 1: -3}        -> [0, 1]
//   row 1: dots -1, -1 | -3, NaN | 2   -> blocks {0: -1, 1: -3, 2: 2}  -> [0, 2]
// REQUIRES: cpu-kernels
// RUN: msa-opt %s --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %s
// CHECK: sizes = [2, 2, 2]
// CHECK-NEXT: {{\[\[\[}}0, 1]
// CHECK-NEXT: [0, 1]]
// CHECK-NEXT: {{\[\[}}0, 1]
// CHECK-NEXT: [0, 2]]]

memref.global "private" constant @q : memref<2x2x2xbf16> = dense<[[[1.0, 2.0], [-1.0, -1.0]], [[1.0, 2.0], [-1.0, -1.0]]]>
memref.global "private" constant @off : memref<2xui32> = dense<[0, 2]>
memref.global "private" constant @prefix : memref<1xui32> = dense<[3]>
memref.global "private" constant @kb : memref<4x1x1x2x1x2xbf16> = dense<[
  [[[[[3.0, 0.0]], [[0x7FC0, 0x7FC0]]]]],
  [[[[[100.0, 100.0]], [[100.0, 100.0]]]]],
  [[[[[1.0, 0.0]], [[0.0, 1.0]]]]],
  [[[[[-1.0, -1.0]], [[100.0, 100.0]]]]]]>
memref.global "private" constant @cache : memref<1xui32> = dense<[3]>
memref.global "private" constant @lut : memref<1x4xui32> = dense<[[2, 0, 3, 4]]>
memref.global "private" constant @kmax : memref<1x2xui32> = dense<[[2, 5]]>

func.func private @printMemrefI32(memref<*xi32>)
func.func @main() {
  %q_m = memref.get_global @q : memref<2x2x2xbf16>
  %q = bufferization.to_tensor %q_m restrict : memref<2x2x2xbf16> to tensor<2x2x2xbf16>
  %off_m = memref.get_global @off : memref<2xui32>
  %off = bufferization.to_tensor %off_m restrict : memref<2xui32> to tensor<2xui32>
  %pre_m = memref.get_global @prefix : memref<1xui32>
  %pre = bufferization.to_tensor %pre_m restrict : memref<1xui32> to tensor<1xui32>
  %kb_m = memref.get_global @kb : memref<4x1x1x2x1x2xbf16>
  %kb = bufferization.to_tensor %kb_m restrict : memref<4x1x1x2x1x2xbf16> to tensor<4x1x1x2x1x2xbf16>
  %kcl_m = memref.get_global @cache : memref<1xui32>
  %kcl = bufferization.to_tensor %kcl_m restrict : memref<1xui32> to tensor<1xui32>
  %lut_m = memref.get_global @lut : memref<1x4xui32>
  %lut = bufferization.to_tensor %lut_m restrict : memref<1x4xui32> to tensor<1x4xui32>
  %kmax_m = memref.get_global @kmax : memref<1x2xui32>
  %kmax = bufferization.to_tensor %kmax_m restrict : memref<1x2xui32> to tensor<1x2xui32>
  %ids = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 2, idx_head_dim = 2, block_size = 2, topk = 2,
       init_blocks = 1, local_blocks = 0, layer_idx = 0, scale = 1.0 : f32}
      : tensor<2x2x2xbf16>, tensor<2xui32>, tensor<1xui32>,
        tensor<4x1x1x2x1x2xbf16>, tensor<1xui32>, tensor<1x4xui32>,
        tensor<1x2xui32>
  %ids_m = bufferization.to_buffer %ids : tensor<2x2x2xi32> to memref<2x2x2xi32>
  %u = memref.cast %ids_m : memref<2x2x2xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}
