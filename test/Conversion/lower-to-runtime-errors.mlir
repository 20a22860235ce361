// What msa-lower-to-runtime refuses, and the auto target's CPU fallback.
// RUN: msa-opt %s -split-input-file -verify-diagnostics --msa-lower-to-runtime="target=cuda"
// RUN: not msa-opt %s -split-input-file --msa-lower-to-runtime="target=gpu" 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: for the --target option: Cannot find option named 'gpu'!

// The tensor form must be bufferized first.
func.func @tensor_form(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) -> tensor<4x?x16xi32> {
  // expected-error @+1 {{msa-lower-to-runtime needs the memref form of the op; run --one-shot-bufferize first (or use the msa-to-llvm pipeline)}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return %r : tensor<4x?x16xi32>
}

// -----

// A shape the CUDA kernels cannot serve is an error for target=cuda, with
// the reason (see msa-lower-to-runtime-auto-fallback.mlir for target=auto).
func.func @too_many_heads(%q: memref<?x70000x16xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x1x16x1x16xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<70000x?x4xi32>) {
  // expected-error @+1 {{cannot lower to target=cuda: num_index_heads above 65535 (CUDA grid limit)}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 70000, idx_head_dim = 16, block_size = 16, topk = 4, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x70000x16xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x1x16x1x16xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<70000x?x4xi32>
  return
}

// -----

// Memrefs in another memory space are not passed to the C entries.
func.func @memory_space(%q: memref<?x4x128xbf16, 1>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x16xi32>) {
  // expected-error @+1 {{msa-lower-to-runtime supports memrefs in the default memory space only (device pointers are recognised at run time), got 'memref<?x4x128xbf16, 1>'}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16, 1>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
  return
}

// -----

// The runtime entry's name is taken by a function of another type.
func.func private @msa_indexer_ragged_paged_cuda(i32) -> i32
func.func @name_taken(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x16xi32>) {
  // expected-error @+1 {{symbol 'msa_indexer_ragged_paged_cuda' already exists with type '(i32) -> i32', but the msa runtime entry has type}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
  return
}
