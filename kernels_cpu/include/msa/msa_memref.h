/* msa_memref.h - memref descriptors -> msa_indexer_tensors_t: the one
 * adapter behind every _mlir_ciface_ entry (cpu in libmsa_kernels_cpu; cuda
 * and auto in libmsa_kernels_cuda). Library: msa_kernels_common (also inside
 * libmsa_kernels_cpu). Plain C; touches no buffer data except in
 * msa_memref_pack/unpack/fill_i32, which need host memory.
 *
 *   msa_indexer_memrefs_t m;
 *   msa_indexer_attrs_t a;
 *   msa_status_t st = msa_indexer_memrefs_read(&m, &a, MSA_KEY_BF16,
 *                                               MSA_INDEXER_CIFACE_ARGS);
 *   ... on error: if (m.out_sound) msa_memref_fill_i32(&m.operand[MSA_OPERAND_OUT], -1);
 *   ... give each operand contiguous data (m.operand[i].data when
 *       m.operand[i].contiguous, else a copy packed by msa_memref_pack) ...
 *   msa_indexer_memrefs_tensors(&m, data, &tensors);
 *   ... run a back end on tensors; write out back with msa_memref_unpack ...
 */
#ifndef MSA_MEMREF_H
#define MSA_MEMREF_H

#include "msa/msa_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The operands of the op, in MAX's order. */
typedef enum msa_operand {
  MSA_OPERAND_Q = 0,
  MSA_OPERAND_INPUT_ROW_OFFSETS = 1,
  MSA_OPERAND_PREFIX_LENS = 2,
  MSA_OPERAND_K_BLOCKS = 3,
  MSA_OPERAND_K_CACHE_LENGTHS = 4,
  MSA_OPERAND_K_LOOKUP_TABLE = 5,
  MSA_OPERAND_K_MAX_LENGTHS = 6,
  MSA_OPERAND_OUT = 7,
  MSA_NUM_OPERANDS = 8
} msa_operand_t;

#define MSA_MEMREF_MAX_RANK 6

/* One checked descriptor. */
typedef struct msa_memref_view {
  const char *name;      /* operand name used in messages ("q", "result") */
  unsigned char *data;   /* aligned + offset; NULL when count == 0 */
  int64_t elem_bytes;
  int32_t rank;
  int32_t contiguous;    /* dense row-major (dims of size 1: any stride) */
  int64_t sizes[MSA_MEMREF_MAX_RANK];
  int64_t strides[MSA_MEMREF_MAX_RANK]; /* elements */
  int64_t count;         /* elements */
  int64_t extent_bytes;  /* bytes from data to one past the last element */
} msa_memref_view_t;

typedef struct msa_indexer_memrefs {
  msa_memref_view_t operand[MSA_NUM_OPERANDS];
  /* out's own descriptor passed its checks: msa_memref_fill_i32 may write
   * through it even when another check failed. */
  int32_t out_sound;
  int32_t k_type; /* msa_key_type_t of the k_blocks descriptor */
} msa_indexer_memrefs_t;

/* Reads the arguments of an _mlir_ciface_ entry into views and attributes.
 * `k_blocks` points to the descriptor of the entry's key type `k_type`
 * (msa_memref_bf16_6d_t for MSA_KEY_BF16, msa_memref_f8_6d_t for
 * MSA_KEY_F8E4M3FN: the same layout, 2- or 1-byte elements). Checks, operand by operand (out first): the descriptor is not NULL; every
 * size, stride and the offset are >= 0; the element count and the byte
 * extent (offset + sum of (size - 1) * stride, times the element size) do
 * not overflow int64 nor wrap the address space; the data pointer is not
 * NULL when there are elements. Then the shapes the descriptors carry beyond
 * msa_indexer_tensors_t: input_row_offsets [batch + 1], prefix_lens and
 * k_cache_lengths [batch], k_lookup_table dim 0 = batch, k_blocks dims 1 and
 * 4 equal 1, k_max_lengths [1, 2], result [num_index_heads, rows, topk].
 * The attribute rules themselves are msa_indexer_check_static's. On failure
 * returns MSA_STATUS_INVALID_ARGUMENT with msa_last_error() starting with the
 * operand's name ("q: ..."). `memrefs` and `attrs` are filled in either
 * way (as far as the descriptors could be read). */
msa_status_t msa_indexer_memrefs_read(msa_indexer_memrefs_t *memrefs,
                                      msa_indexer_attrs_t *attrs,
                                      int32_t k_type,
                                      MSA_INDEXER_CIFACE_PARAMS_K(const void));

/* The tensors of a read batch: sizes and k_type from the views, and data[i]
 * as the (contiguous) data of operand i. */
void msa_indexer_memrefs_tensors(const msa_indexer_memrefs_t *memrefs,
                                 void *const data[MSA_NUM_OPERANDS],
                                 msa_indexer_tensors_t *tensors);

/* Copies a view (host memory) into dense row-major dst (count * elem_bytes
 * bytes), and back. */
void msa_memref_pack(const msa_memref_view_t *view, void *dst);
void msa_memref_unpack(const msa_memref_view_t *view, const void *src);

/* Writes `value` into every element of an int32 view (host memory). */
void msa_memref_fill_i32(const msa_memref_view_t *view, int32_t value);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MSA_MEMREF_H */
