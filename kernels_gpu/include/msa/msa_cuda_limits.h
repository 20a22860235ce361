/* msa_cuda_limits.h - which shapes the CUDA kernels of msa.indexer_ragged_paged
 * serve. Header-only plain C (no CUDA headers): the MLIR lowering includes it
 * at compile time (target=cuda: an error naming the reason; target=auto: a
 * CPU fallback with a remark).
 *
 * The CUDA back end serves every shape the verifier accepts: the tensor-core
 * kernels take D in {64, 128} (block sizes 16/32/64 or multiples of 128), and
 * a generic CUDA-core kernel takes every other (H, D, block_size, topk). The
 * only limits left are the ones of 32-bit grid and index arithmetic. */
#ifndef MSA_CUDA_LIMITS_H
#define MSA_CUDA_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Largest values the CUDA kernels take (int32 index arithmetic inside a
 * sequence; the grid's y/z sizes). */
#define MSA_CUDA_MAX_HEADS 65535
#define MSA_CUDA_MAX_HEAD_DIM 65536
#define MSA_CUDA_MAX_BLOCK_SIZE (1 << 24)
#define MSA_CUDA_MAX_TOPK (1 << 24)

/* NULL when the CUDA kernels serve this shape, else a short reason. Shapes
 * the verifier rejects (non-positive sizes) get a reason too. */
static inline const char *msa_cuda_unsupported_reason(int32_t num_index_heads,
                                                       int32_t idx_head_dim,
                                                       int32_t block_size,
                                                       int32_t topk) {
  if (num_index_heads < 1 || idx_head_dim < 1 || block_size < 1 || topk < 1)
    return "num_index_heads, idx_head_dim, block_size and topk must be >= 1";
  if (num_index_heads > MSA_CUDA_MAX_HEADS)
    return "num_index_heads above 65535 (CUDA grid limit)";
  if (idx_head_dim > MSA_CUDA_MAX_HEAD_DIM)
    return "idx_head_dim above 65536";
  if (block_size > MSA_CUDA_MAX_BLOCK_SIZE)
    return "block_size above 2^24";
  if (topk > MSA_CUDA_MAX_TOPK)
    return "topk above 2^24";
  return NULL;
}

#endif /* MSA_CUDA_LIMITS_H */
