// Every static rule of docs/CONTRACT.md ("Static checks") has a case here, with the
// message it gives; malformed IR gives a diagnostic, never a crash.
// RUN: msa-opt %s -split-input-file -verify-diagnostics

// num_index_heads >= 1
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'num_index_heads' must be >= 1, got 0}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 0, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// idx_head_dim >= 1
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'idx_head_dim' must be >= 1, got -2}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = -2, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// block_size >= 1
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'block_size' must be >= 1, got 0}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 0, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// topk >= 1
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'topk' must be >= 1, got 0}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 0, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// init_blocks >= 0
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'init_blocks' must be >= 0, got -1}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = -1, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// local_blocks >= 0
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'local_blocks' must be >= 0, got -3}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = -3, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// layer_idx >= 0
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'layer_idx' must be >= 0, got -1}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = -1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// attributes travel as int32
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'topk' must be <= 2147483647, got 4294967296}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 4294967296, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// forcing rule: init_blocks + local_blocks <= topk
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{init_blocks + local_blocks must be <= topk = 16, got 10 + 7 = 17}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 10, local_blocks = 7, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// scale finite (inf)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'scale' must be finite, got 0x7F800000 : f32}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0x7F800000 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// scale finite (nan)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'scale' must be finite, got 0x7FC00000 : f32}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0x7FC00000 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// q rank 3
func.func @f(%q: tensor<?x512xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'q' must have rank 3, got rank 2 ('tensor<?x512xbf16>')}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x512xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// q element type bf16
func.func @f(%q: tensor<?x4x128xf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'q' must have element type bf16, got 'f16'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// q dim 1 == num_index_heads
func.func @f(%q: tensor<?x8x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'q' dimension 1 (index heads) must be 4 (num_index_heads), got 8}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x8x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// q dim 2 == idx_head_dim
func.func @f(%q: tensor<?x4x64xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'q' dimension 2 (head dim) must be 128 (idx_head_dim), got 64}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x64xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// input_row_offsets rank 1
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?x1xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'input_row_offsets' must have rank 1, got rank 2 ('tensor<?x1xui32>')}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?x1xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// input_row_offsets element type ui32 or i32
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xi64>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'input_row_offsets' must have element type ui32 or i32, got 'i64'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xi64>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// input_row_offsets has batch + 1 >= 1 entries
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<0xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'input_row_offsets' dimension 0 (batch + 1) must be >= 1, got 0}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<0xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// prefix_lens rank 1
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<ui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'prefix_lens' must have rank 1, got rank 0 ('tensor<ui32>')}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<ui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// prefix_lens element type: the one of input_row_offsets
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xi64>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'prefix_lens' must have element type ui32 (the element type of input_row_offsets; one metadata element type per op), got 'i64'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xi64>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_cache_lengths rank 1
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?x?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_cache_lengths' must have rank 1, got rank 2 ('tensor<?x?xui32>')}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?x?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_cache_lengths element type: the one of input_row_offsets
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xsi32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_cache_lengths' must have element type ui32 (the element type of input_row_offsets; one metadata element type per op), got 'si32'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xsi32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_lookup_table rank 2
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_lookup_table' must have rank 2, got rank 1 ('tensor<?xui32>')}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_lookup_table element type: the one of input_row_offsets
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui64>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_lookup_table' must have element type ui32 (the element type of input_row_offsets; one metadata element type per op), got 'ui64'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui64>, tensor<1x2xui32>
  return
}

// -----

// k_max_lengths rank 2
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<2xui32>) {
  // expected-error @+1 {{operand 'k_max_lengths' must have rank 2, got rank 1 ('tensor<2xui32>')}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<2xui32>
  return
}

// -----

// k_max_lengths element type: the one of input_row_offsets (no i32/ui32 mix)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xi32>) {
  // expected-error @+1 {{operand 'k_max_lengths' must have element type ui32 (the element type of input_row_offsets; one metadata element type per op), got 'i32'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xi32>
  return
}

// -----

// k_max_lengths shape [1, 2] (dim 0)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<2x2xui32>) {
  // expected-error @+1 {{operand 'k_max_lengths' dimension 0 (rows) must be 1, got 2}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<2x2xui32>
  return
}

// -----

// k_max_lengths shape [1, 2] (dim 1)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x3xui32>) {
  // expected-error @+1 {{operand 'k_max_lengths' dimension 1 ([max new tokens, max total keys]) must be 2, got 3}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x3xui32>
  return
}

// -----

// k_blocks rank 6
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x2x128x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' must have rank 6, got rank 4 ('tensor<?x2x128x128xbf16>')}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x2x128x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_blocks element type bf16 or f8E4M3FN
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xf32>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' must have element type bf16 or f8E4M3FN, got 'f32'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xf32>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_blocks: other fp8 formats are not e4m3 "FN" (f8E5M2: another format)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xf8E5M2>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' must have element type bf16 or f8E4M3FN, got 'f8E5M2'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xf8E5M2>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_blocks: f8E4M3 (IEEE-style, with infinities) is not f8E4M3FN
func.func @f(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xf8E4M3>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x16xi32>) {
  // expected-error @+1 {{operand 'k_blocks' must have element type bf16 or f8E4M3FN, got 'f8E4M3'}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xf8E4M3>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
  return
}

// -----

// q stays bf16 with an f8E4M3FN index-K
func.func @f(%q: tensor<?x4x128xf8E4M3FN>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xf8E4M3FN>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'q' must have element type bf16, got 'f8E4M3FN'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xf8E4M3FN>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xf8E4M3FN>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// The shape rules hold for an f8E4M3FN index-K as for bf16
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x64x1x128xf8E4M3FN>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' dimension 3 (page_size) must be 128 (block_size), got 64}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x64x1x128xf8E4M3FN>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_blocks dim 1 == 1 (K only)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x2x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' dimension 1 (kv pair) must be 1, got 2}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x2x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// page_size == block_size
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x64x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' dimension 3 (page_size) must be 128 (block_size), got 64}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x64x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_blocks dim 4 == 1 (one head)
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x4x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' dimension 4 (kv heads) must be 1, got 4}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x4x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// k_blocks dim 5 == idx_head_dim
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x96xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand 'k_blocks' dimension 5 (head dim) must be 128 (idx_head_dim), got 96}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x96xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// layer_idx < num_layers
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{attribute 'layer_idx' must be < num_layers = 2 (k_blocks dimension 2), got 2}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 2, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// batch: prefix_lens vs input_row_offsets
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<4xui32>, %pre: tensor<2xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{batch size mismatch: prefix_lens dimension 0 is 2 but input_row_offsets dimension 0 minus 1 is 3}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<4xui32>, tensor<2xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// batch: k_cache_lengths vs prefix_lens
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<3xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<5xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{batch size mismatch: k_cache_lengths dimension 0 is 5 but prefix_lens dimension 0 is 3}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<3xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<5xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// batch: k_lookup_table vs input_row_offsets
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<3xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<1x8xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{batch size mismatch: k_lookup_table dimension 0 is 1 but input_row_offsets dimension 0 minus 1 is 2}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<3xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<1x8xui32>, tensor<1x2xui32>
  return
}

// -----

// The result type is inferred: a declared one must match it (generic form).
func.func @f(%q: tensor<7x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{result dimension 2 (topk) must be 16 (topk), got 8}}
  %r = "msa.indexer_ragged_paged"(%q, %off, %pre, %kb, %kcl, %lut, %kmax)
      <{num_index_heads = 4 : i64, idx_head_dim = 128 : i64, block_size = 128 : i64, topk = 16 : i64, init_blocks = 0 : i64, local_blocks = 1 : i64, layer_idx = 0 : i64, scale = 0.5 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0>}>
      : (tensor<7x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>) -> tensor<4x7x8xi32>
  return
}

// -----

// Memref form: out must be rank-3 i32.
func.func @f(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x16xi64>) {
  // expected-error @+1 {{operand 'out' must have element type i32, got 'i64'}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi64>
  return
}

// -----

// Memref form: out rank 3.
func.func @f(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<?x16xi32>) {
  // expected-error @+1 {{operand 'out' must have rank 3, got rank 2 ('memref<?x16xi32>')}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<?x16xi32>
  return
}

// -----

// Memref form: out dimension 0 is num_index_heads.
func.func @f(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<2x?x16xi32>) {
  // expected-error @+1 {{operand 'out' dimension 0 (index heads) must be 4 (num_index_heads), got 2}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<2x?x16xi32>
  return
}

// -----

// Memref form: out dimension 2 is topk.
func.func @f(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x15xi32>) {
  // expected-error @+1 {{operand 'out' dimension 2 (topk) must be 16 (topk), got 15}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x15xi32>
  return
}

// -----

// Memref form: out dimension 1 is q's row count.
func.func @f(%q: memref<9x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x8x16xi32>) {
  // expected-error @+1 {{operand 'out' dimension 1 (rows) must be 9 (q dimension 0), got 8}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<9x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x8x16xi32>
  return
}

// -----

// Forms do not mix: a memref input in the tensor form.
func.func @f(%q: tensor<?x4x128xbf16>, %off: memref<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{operand #1 must be a tensor like the tensor form (without 'into'), got 'memref<?xui32>'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : tensor<?x4x128xbf16>, memref<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// Forms do not mix: a tensor input in the memref form.
func.func @f(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>, %out: memref<4x?x16xi32>) {
  // expected-error @+1 {{operand #3 must be a memref like the memref form (with 'into'), got 'tensor<?x1x2x128x1x128xbf16>'}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax into %out {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, tensor<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32> into memref<4x?x16xi32>
  return
}

// -----

// Memref inputs without a destination.
func.func @f(%q: memref<?x4x128xbf16>, %off: memref<?xui32>, %pre: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>, %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>) {
  // expected-error @+1 {{operand #0 must be a tensor like the tensor form (without 'into'), got 'memref<?x4x128xbf16>'}}
  msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>, memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>, memref<1x2xui32>
  return
}

// -----

// A required attribute is missing.
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{'msa.indexer_ragged_paged' op requires attribute 'topk'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax {num_index_heads = 4, idx_head_dim = 128, block_size = 128, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// An attribute of the wrong kind.
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{'msa.indexer_ragged_paged' op attribute 'scale' failed to satisfy constraint: 32-bit float attribute}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 2} : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// An unknown order.
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+2 {{expected ::mlir::msa::Order to be one of: score, block}}
  // expected-error @+1 {{failed to parse MSA_OrderAttr parameter 'value'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32, order = #msa.order<random>} : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// A missing operand.
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>) {
  // expected-error @+1 {{expected ','}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>
  return
}

// -----

// A missing operand in the generic form.
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>) {
  // expected-error @+1 {{'msa.indexer_ragged_paged' op expected 7 or more operands, but found 2}}
  %r = "msa.indexer_ragged_paged"(%q, %off) <{num_index_heads = 4 : i64, idx_head_dim = 128 : i64, block_size = 128 : i64, topk = 16 : i64, init_blocks = 0 : i64, local_blocks = 1 : i64, layer_idx = 0 : i64, scale = 0.5 : f32}> : (tensor<?x4x128xbf16>, tensor<?xui32>) -> tensor<4x?x16xi32>
  return
}

// -----

// Operands must be ranked tensors or memrefs.
func.func @f(%q: tensor<*xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{'msa.indexer_ragged_paged' op operand #0 must be ranked tensor or memref, but got 'tensor<*xbf16>'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32} : tensor<*xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>
  return
}

// -----

// The tensor form's result is rank 3 (generic form).
func.func @f(%q: tensor<7x4x128xbf16>, %off: tensor<?xui32>, %pre: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>) {
  // expected-error @+1 {{result must have rank 3, got rank 2 ('tensor<4x112xi32>')}}
  %r = "msa.indexer_ragged_paged"(%q, %off, %pre, %kb, %kcl, %lut, %kmax)
      <{num_index_heads = 4 : i64, idx_head_dim = 128 : i64, block_size = 128 : i64, topk = 16 : i64, init_blocks = 0 : i64, local_blocks = 1 : i64, layer_idx = 0 : i64, scale = 0.5 : f32, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0>}>
      : (tensor<7x4x128xbf16>, tensor<?xui32>, tensor<?xui32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>, tensor<1x2xui32>) -> tensor<4x112xi32>
  return
}

// -----

// signless offsets, ui32 lookup table: one metadata element type per op
func.func @f(%q: tensor<?x4x128xbf16>, %off: tensor<?xi32>, %pre: tensor<?xi32>, %kb: tensor<?x1x2x128x1x128xbf16>, %kcl: tensor<?xi32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xi32>) {
  // expected-error @+1 {{operand 'k_lookup_table' must have element type i32 (the element type of input_row_offsets; one metadata element type per op), got 'ui32'}}
  %r = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 1, scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xi32>, tensor<?xi32>, tensor<?x1x2x128x1x128xbf16>, tensor<?xi32>, tensor<?x?xui32>, tensor<1x2xi32>
  return
}
