// target=auto: a shape the CUDA kernels cannot serve falls back to the CPU
// entry at compile time, with a remark; a servable one calls the auto entry.
// RUN: msa-opt %s -verify-diagnostics --msa-lower-to-runtime="target=auto" | FileCheck %s

// CHECK-LABEL: func.func @too_many_heads
// CHECK: call @msa_indexer_ragged_paged_cpu(
// CHECK-NOT: call @msa_indexer_ragged_paged_auto(
func.func @too_many_heads(%q: memref<?x70000x16xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x1x16x1x16xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<70000x?x4xi32>) {
  // expected-remark @+1 {{target=auto falls back to the CPU kernel: num_index_heads above 65535 (CUDA grid limit)}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 70000, idx_head_dim = 16, block_size = 16, topk = 4, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x70000x16xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x1x16x1x16xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<70000x?x4xi32>
  return
}

// CHECK-LABEL: func.func @servable
// CHECK: call @msa_indexer_ragged_paged_auto(
func.func @servable(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x16xi32>) {
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
  return
}

// The same fallback with an f8E4M3FN index-K: the CPU entry of that key type.
// CHECK-LABEL: func.func @too_many_heads_f8
// CHECK: call @msa_indexer_ragged_paged_cpu_f8e4m3fn(
// CHECK-NOT: call @msa_indexer_ragged_paged_auto
func.func @too_many_heads_f8(%q: memref<?x70000x16xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x1x16x1x16xf8E4M3FN>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<70000x?x4xi32>) {
  // expected-remark @+1 {{target=auto falls back to the CPU kernel: num_index_heads above 65535 (CUDA grid limit)}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 70000, idx_head_dim = 16, block_size = 16, topk = 4, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x70000x16xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x1x16x1x16xf8E4M3FN>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<70000x?x4xi32>
  return
}

// CHECK-LABEL: func.func @servable_f8
// CHECK: call @msa_indexer_ragged_paged_auto_f8e4m3fn(
func.func @servable_f8(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xf8E4M3FN>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x16xi32>) {
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xf8E4M3FN>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
  return
}
