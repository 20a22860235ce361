/* msa_reference.h - the one scalar reference of msa.indexer_ragged_paged.
 *
 * Plain loops that follow docs/CONTRACT.md line by line; every kernel test (CPU and
 * CUDA) compares against it. Library: msa_kernels_common (no dependencies).
 *
 * Precision: each dot product is accumulated in float64 from the exact bf16
 * (or e4m3) values, and the scale is applied in float64: scaled = (double)scale * dot.
 * A product of two bf16 values is exact in float64 and the sum of up to a few
 * thousand such products is exact or within 2^-50 relative, so the reference
 * score is (to float64 rounding) the exact real score. The kernels accumulate
 * in float32 (or with vdpbf16ps), so their scores differ from these by float32
 * rounding; tests compare selections up to that rounding (see
 * test/unit/case_gen.h) and exactly where scores tie exactly.
 * NaN scaled dots are skipped; a block without a non-NaN key scores -inf;
 * -inf (and NaN) blocks are never selected.
 */
#ifndef MSA_REFERENCE_H
#define MSA_REFERENCE_H

#include "msa/msa_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Validates (msa_indexer_validate), then computes the result into
 * tensors->out exactly as docs/CONTRACT.md says. On a validation error fills out with
 * -1 (msa_indexer_fill_invalid) and returns the status. Single-threaded. */
msa_status_t msa_indexer_reference(const msa_indexer_tensors_t *tensors,
                                   const msa_indexer_attrs_t *attrs);

/* The reference score of block `block` for (head h, row `row`), in float64:
 * max over the block's visible keys of (double)scale * dot, NaN skipped,
 * -inf when no key is left. The inputs must have passed
 * msa_indexer_validate; row in [0, rows), h in [0, H), block in
 * [0, nblk(row)). Also returns (in *abs_bound, if not NULL) the largest
 * |scale| * sum_d |q_d * k_d| over the block's visible keys with a finite
 * dot: the magnitude that bounds the rounding error of a float32 kernel. */
double msa_reference_block_score(const msa_indexer_tensors_t *tensors,
                                 const msa_indexer_attrs_t *attrs, int64_t h,
                                 int64_t row, int64_t block,
                                 double *abs_bound);

/* Sequence index and visible key count n of a row (validated inputs). */
int64_t msa_reference_row_sequence(const msa_indexer_tensors_t *tensors,
                                   int64_t row);
int64_t msa_reference_row_keys(const msa_indexer_tensors_t *tensors,
                               int64_t row);

/* bf16 <-> float helpers (round to nearest even; NaN stays NaN). */
float msa_bf16_to_float(uint16_t v);
uint16_t msa_float_to_bf16(float f);
/* The value of an f8E4M3FN byte (exact; the NaN bytes 0x7F and 0xFF give
 * NaN). Every e4m3 value is exact in bf16 too. */
float msa_e4m3_to_float(uint8_t v);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MSA_REFERENCE_H */
