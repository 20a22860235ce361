// msa_cpu_auto.cpp - the target=auto entry for builds without CUDA.
//
// Lowered code with target=auto calls _mlir_ciface_msa_indexer_ragged_paged_auto.
// libmsa_kernels_cuda defines it (GPU when present, else this CPU kernel);
// when the project is built without a CUDA compiler there is no GPU path at
// all, and libmsa_kernels_cpu answers the auto entry itself, so the same
// lowered program links and runs.
#include "msa/msa_kernels.h"

extern "C" int32_t _mlir_ciface_msa_indexer_ragged_paged_auto(
    msa_memref_bf16_3d_t *q, msa_memref_u32_1d_t *input_row_offsets,
    msa_memref_u32_1d_t *prefix_lens, msa_memref_bf16_6d_t *k_blocks,
    msa_memref_u32_1d_t *k_cache_lengths, msa_memref_u32_2d_t *k_lookup_table,
    msa_memref_u32_2d_t *k_max_lengths, msa_memref_i32_3d_t *out,
    int32_t num_index_heads, int32_t idx_head_dim, int32_t block_size,
    int32_t topk, int32_t init_blocks, int32_t local_blocks, int32_t layer_idx,
    float scale, int32_t order) {
  return _mlir_ciface_msa_indexer_ragged_paged_cpu(
      q, input_row_offsets, prefix_lens, k_blocks, k_cache_lengths,
      k_lookup_table, k_max_lengths, out, num_index_heads, idx_head_dim,
      block_size, topk, init_blocks, local_blocks, layer_idx, scale, order);
}
