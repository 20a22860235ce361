// tensor.dim of the result resolves to q's dimension 0 and to the static
// num_index_heads / topk (ReifyRankedShapedTypeOpInterface); canonicalization
// absorbs tensor.cast producers that only erase static information.
// RUN: msa-opt %s -split-input-file --resolve-ranked-shaped-type-result-dims --canonicalize | FileCheck %s --check-prefix=DIM
// RUN: msa-opt %s -split-input-file --canonicalize | FileCheck %s --check-prefix=CAST

// DIM-LABEL: func.func @dims
// DIM-SAME: (%[[Q:[^:]*]]: tensor<?x4x128xbf16>
// DIM-DAG: %[[C0:.*]] = arith.constant 0 : index
// DIM-DAG: %[[C4:.*]] = arith.constant 4 : index
// DIM-DAG: %[[C16:.*]] = arith.constant 16 : index
// DIM: %[[ROWS:.*]] = tensor.dim %[[Q]], %[[C0]] : tensor<?x4x128xbf16>
// DIM-NOT: msa.indexer_ragged_paged
// DIM: return %[[C4]], %[[ROWS]], %[[C16]]
func.func @dims(%q: tensor<?x4x128xbf16>, %off: tensor<?xi32>,
    %prefix: tensor<?xi32>, %kb: tensor<?x1x2x128x1x128xbf16>,
    %kcl: tensor<?xi32>, %lut: tensor<?x?xi32>, %kmax: tensor<1x2xi32>)
    -> (index, index, index) {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 0,
       scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xi32>, tensor<?xi32>,
        tensor<?x1x2x128x1x128xbf16>, tensor<?xi32>, tensor<?x?xi32>,
        tensor<1x2xi32>
  // Through a cast to a fully dynamic type, so that no dim is static in the
  // type the tensor.dim ops see.
  %dyn = tensor.cast %r : tensor<4x?x16xi32> to tensor<?x?x?xi32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %d0 = tensor.dim %dyn, %c0 : tensor<?x?x?xi32>
  %d1 = tensor.dim %dyn, %c1 : tensor<?x?x?xi32>
  %d2 = tensor.dim %dyn, %c2 : tensor<?x?x?xi32>
  return %d0, %d1, %d2 : index, index, index
}

// -----

// Casts that erase static sizes are absorbed; the result becomes static and
// a cast back keeps the function's type.
// CAST-LABEL: func.func @absorb
// CAST-SAME: (%[[Q:[^:]*]]: tensor<3x4x128xbf16>, %[[OFF:[^:]*]]: tensor<2xi32>
// CAST-NOT: tensor.cast {{.*}} to tensor<?x4x128xbf16>
// CAST: %[[R:.*]] = msa.indexer_ragged_paged %[[Q]], %[[OFF]],
// CAST-SAME: : tensor<3x4x128xbf16>, tensor<2xi32>, tensor<1xi32>, tensor<5x1x1x128x1x128xbf16>, tensor<1xi32>, tensor<1x2xi32>, tensor<1x2xi32>
// CAST: %[[BACK:.*]] = tensor.cast %[[R]] : tensor<4x3x16xi32> to tensor<4x?x16xi32>
// CAST: return %[[BACK]]
func.func @absorb(%q: tensor<3x4x128xbf16>, %off: tensor<2xi32>,
    %prefix: tensor<1xi32>, %kb: tensor<5x1x1x128x1x128xbf16>,
    %kcl: tensor<1xi32>, %lut: tensor<1x2xi32>, %kmax: tensor<1x2xi32>)
    -> tensor<4x?x16xi32> {
  %q2 = tensor.cast %q : tensor<3x4x128xbf16> to tensor<?x4x128xbf16>
  %off2 = tensor.cast %off : tensor<2xi32> to tensor<?xi32>
  %kb2 = tensor.cast %kb : tensor<5x1x1x128x1x128xbf16> to tensor<?x1x1x128x1x128xbf16>
  %r = msa.indexer_ragged_paged %q2, %off2, %prefix, %kb2, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 0,
       scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xi32>, tensor<1xi32>,
        tensor<?x1x1x128x1x128xbf16>, tensor<1xi32>, tensor<1x2xi32>,
        tensor<1x2xi32>
  return %r : tensor<4x?x16xi32>
}

// -----

// A cast whose source would break the op (q has 3 heads, the op 4; only the
// kernels could report it, at run time) is left alone.
// CAST-LABEL: func.func @keep_invalid
// CAST: %[[C:.*]] = tensor.cast %{{.*}} : tensor<3x3x128xbf16> to tensor<3x?x128xbf16>
// CAST: msa.indexer_ragged_paged %[[C]],
func.func @keep_invalid(%q: tensor<3x3x128xbf16>, %off: tensor<2xi32>,
    %prefix: tensor<1xi32>, %kb: tensor<5x1x1x128x1x128xbf16>,
    %kcl: tensor<1xi32>, %lut: tensor<1x2xi32>, %kmax: tensor<1x2xi32>)
    -> tensor<4x3x16xi32> {
  %q2 = tensor.cast %q : tensor<3x3x128xbf16> to tensor<3x?x128xbf16>
  %r = msa.indexer_ragged_paged %q2, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 0,
       scale = 0.0883883461 : f32}
      : tensor<3x?x128xbf16>, tensor<2xi32>, tensor<1xi32>,
        tensor<5x1x1x128x1x128xbf16>, tensor<1xi32>, tensor<1x2xi32>,
        tensor<1x2xi32>
  return %r : tensor<4x3x16xi32>
}
