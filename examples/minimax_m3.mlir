// The MiniMax-M3 indexer configuration on a ragged, paged batch of three
// sequences, at tensor level (what a graph compiler emits):
//   sequence 0: a fresh prefill of 1024 tokens          (prefix 0)
//   sequence 1: a chunk of 256 tokens of a long prefill  (prefix 3072)
//   sequence 2: one decode step                          (prefix 8191)
// q and the paged index-K cache are filled with a deterministic integer hash
// (so no data file is needed); the page table is shuffled and padded.
// H = 4, D = 128, block_size = page_size = 128, topk = 16, init_blocks = 0,
// local_blocks = 1, scale = 128^-0.5.
//
// Run it (see README.md):
//   msa-opt examples/minimax_m3.mlir --msa-to-llvm="target=cpu" |
//     mlir-runner -e main -entry-point-result=void \
//       -shared-libs=build/lib/libmsa_kernels_cpu.so,<mlir>/libmlir_runner_utils.so,<mlir>/libmlir_c_runner_utils.so
// It prints, for the last query row of each sequence, the 16 block ids each
// index head selects (one line per head).

func.func private @printMemrefI32(memref<*xi32>)

// A small integer in [-8, 7] from two indices, as bf16 (exact): a
// multiplicative hash (all arithmetic is modulo 2^32).
func.func @hash_bf16(%a: index, %b: index, %salt: i32) -> bf16 {
  %ai = arith.index_cast %a : index to i32
  %bi = arith.index_cast %b : index to i32
  %m1 = arith.constant 40503 : i32
  %m2 = arith.constant 2654435 : i32
  %m3 = arith.constant 1540483477 : i32
  %s13 = arith.constant 13 : i32
  %s15 = arith.constant 15 : i32
  %x0 = arith.muli %ai, %m1 : i32
  %x1 = arith.muli %bi, %m2 : i32
  %x2 = arith.addi %x0, %x1 : i32
  %x3 = arith.xori %x2, %salt : i32
  %x4 = arith.shrui %x3, %s13 : i32
  %x5 = arith.xori %x3, %x4 : i32
  %x6 = arith.muli %x5, %m3 : i32
  %x7 = arith.shrui %x6, %s15 : i32
  %x8 = arith.xori %x6, %x7 : i32
  %mask = arith.constant 15 : i32
  %x9 = arith.andi %x8, %mask : i32
  %eight = arith.constant 8 : i32
  %v = arith.subi %x9, %eight : i32
  %f = arith.sitofp %v : i32 to f32
  %h = arith.truncf %f : f32 to bf16
  return %h : bf16
}

memref.global "private" constant @row_offsets : memref<4xui32> = dense<[0, 1024, 1280, 1281]>
memref.global "private" constant @prefix_lens : memref<3xui32> = dense<[0, 3072, 8191]>
memref.global "private" constant @cache_lens : memref<3xui32> = dense<[0, 3072, 8191]>
// Page table: sequence b's logical page p lives in physical page
// (37 p + 11 b) mod 104, a shuffle; sequence 0 needs 8 pages, sequence 1
// needs 26 and sequence 2 needs 64; the rest is padding (num_pages = 104).
memref.global "private" constant @lookup : memref<3x80xui32> = dense<[[0, 37, 74, 7, 44, 81, 14, 51, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104],
    [11, 48, 85, 18, 55, 92, 25, 62, 99, 32, 69, 2, 39, 76, 9, 46, 83, 16, 53, 90, 23, 60, 97, 30, 67, 0, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104],
    [22, 59, 96, 29, 66, 103, 36, 73, 6, 43, 80, 13, 50, 87, 20, 57, 94, 27, 64, 101, 34, 71, 4, 41, 78, 11, 48, 85, 18, 55, 92, 25, 62, 99, 32, 69, 2, 39, 76, 9, 46, 83, 16, 53, 90, 23, 60, 97, 30, 67, 0, 37, 74, 7, 44, 81, 14, 51, 88, 21, 58, 95, 28, 65, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104, 104]]>
memref.global "private" constant @max_lengths : memref<1x2xui32> = dense<[[1024, 8192]]>

func.func @main() {
  %c0 = arith.constant 0 : index
  %salt_q = arith.constant 12345 : i32
  %salt_k = arith.constant 777 : i32
  // q: [rows = 1281, H = 4, D = 128]
  %q = tensor.generate {
  ^bb0(%t: index, %h: index, %d: index):
    %c4 = arith.constant 4 : index
    %th = arith.muli %t, %c4 : index
    %r = arith.addi %th, %h : index
    %v = func.call @hash_bf16(%r, %d, %salt_q) : (index, index, i32) -> bf16
    tensor.yield %v : bf16
  } : tensor<1281x4x128xbf16>
  // Index-K cache: 104 pages of 128 tokens, one layer, one head, D = 128.
  %kb = tensor.generate {
  ^bb0(%p: index, %z0: index, %l: index, %s: index, %z1: index, %d: index):
    %c128 = arith.constant 128 : index
    %ps = arith.muli %p, %c128 : index
    %r = arith.addi %ps, %s : index
    %v = func.call @hash_bf16(%r, %d, %salt_k) : (index, index, i32) -> bf16
    tensor.yield %v : bf16
  } : tensor<104x1x1x128x1x128xbf16>
  %off_m = memref.get_global @row_offsets : memref<4xui32>
  %off = bufferization.to_tensor %off_m restrict : memref<4xui32> to tensor<4xui32>
  %pre_m = memref.get_global @prefix_lens : memref<3xui32>
  %pre = bufferization.to_tensor %pre_m restrict : memref<3xui32> to tensor<3xui32>
  %kcl_m = memref.get_global @cache_lens : memref<3xui32>
  %kcl = bufferization.to_tensor %kcl_m restrict : memref<3xui32> to tensor<3xui32>
  %lut_m = memref.get_global @lookup : memref<3x80xui32>
  %lut_t = bufferization.to_tensor %lut_m restrict : memref<3x80xui32> to tensor<3x80xui32>
  %kmax_m = memref.get_global @max_lengths : memref<1x2xui32>
  %kmax = bufferization.to_tensor %kmax_m restrict : memref<1x2xui32> to tensor<1x2xui32>

  %ids = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut_t, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 0,
       scale = 0.0883883461 : f32}
      : tensor<1281x4x128xbf16>, tensor<4xui32>, tensor<3xui32>,
        tensor<104x1x1x128x1x128xbf16>, tensor<3xui32>, tensor<3x80xui32>,
        tensor<1x2xui32>

  // The last row of each sequence: rows 1023, 1279 and 1280.
  %ids_m = bufferization.to_buffer %ids : tensor<4x1281x16xi32> to memref<4x1281x16xi32>
  %last0 = memref.subview %ids_m[0, 1023, 0] [4, 1, 16] [1, 1, 1] : memref<4x1281x16xi32> to memref<4x16xi32, strided<[20496, 1], offset: 16368>>
  %last1 = memref.subview %ids_m[0, 1279, 0] [4, 1, 16] [1, 1, 1] : memref<4x1281x16xi32> to memref<4x16xi32, strided<[20496, 1], offset: 20464>>
  %last2 = memref.subview %ids_m[0, 1280, 0] [4, 1, 16] [1, 1, 1] : memref<4x1281x16xi32> to memref<4x16xi32, strided<[20496, 1], offset: 20480>>
  %u0 = memref.cast %last0 : memref<4x16xi32, strided<[20496, 1], offset: 16368>> to memref<*xi32>
  %u1 = memref.cast %last1 : memref<4x16xi32, strided<[20496, 1], offset: 20464>> to memref<*xi32>
  %u2 = memref.cast %last2 : memref<4x16xi32, strided<[20496, 1], offset: 20480>> to memref<*xi32>
  call @printMemrefI32(%u0) : (memref<*xi32>) -> ()
  call @printMemrefI32(%u1) : (memref<*xi32>) -> ()
  call @printMemrefI32(%u2) : (memref<*xi32>) -> ()
  return
}
