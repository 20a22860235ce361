// The function the ahead-of-time GPU test compiles: the memref form of the
// op (so that the caller owns every buffer, host or device memory), with a
// C interface for the driver. MiniMax-M3 shapes, with init_blocks = 1 so
// that both kinds of forcing are exercised, reading layer 1 of 2.
// Not a lit test by itself: run_aot_e2e.sh lowers it (target=cpu|cuda|auto).
func.func @indexer(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
    %prefix: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>,
    %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>,
    %out: memref<4x?x16xi32>) attributes {llvm.emit_c_interface} {
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 1, local_blocks = 1, layer_idx = 1, scale = 0.125 : f32}
      : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>,
        memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>,
        memref<1x2xui32> into memref<4x?x16xi32>
  return
}
