/* msa_checks.h - the contract's run-time metadata rules, in one place.
 *
 * Header-only so that the same code runs on the host (CPU back end, and the
 * CUDA host entry for host-memory metadata) and inside a CUDA kernel (device
 * metadata: no host synchronisation on the launch path). The message text for
 * a failed check is made by msa_format_check() (kernels_cpu/src/msa_common.cpp,
 * library msa_kernels_common), on the host.
 *
 * Rules (CONTRACT.md "Run-time checks"), for a batch of `batch` sequences and `rows`
 * query rows; sequence b has new_b = off[b+1] - off[b] rows and reads keys
 * [0, prefix_lens[b] + new_b) when new_b > 0:
 *   - off[0] == 0, off non-decreasing, every off[b] <= rows, off[batch] == rows
 *   - prefix_lens[b] <= k_cache_lengths[b]
 *   - new_b <= k_max_lengths[0]
 *   - k_cache_lengths[b] + new_b <= k_max_lengths[1]   (cached + new)
 *   - the logical pages that hold the keys read, ceil((prefix+new)/page_size),
 *     fit in max_pages, and each of their physical ids is < num_pages.
 * Padding entries of the lookup table (past the pages a sequence needs) are
 * never read.
 */
#ifndef MSA_CHECKS_H
#define MSA_CHECKS_H

#include <stdint.h>

#if defined(__CUDACC__)
#define MSA_HD __host__ __device__
#else
#define MSA_HD
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum msa_check_code {
  MSA_CHECK_OK = 0,
  MSA_CHECK_OFFSETS_FIRST_NOT_ZERO = 1,  /* value = off[0] */
  MSA_CHECK_OFFSETS_DECREASING = 2,      /* value = off[b+1], limit = off[b] */
  MSA_CHECK_OFFSETS_ABOVE_ROWS = 3,      /* value = off[b+1], limit = rows */
  MSA_CHECK_OFFSETS_LAST_NOT_ROWS = 4,   /* value = off[batch], limit = rows */
  MSA_CHECK_PREFIX_ABOVE_CACHE = 5,      /* value = prefix, limit = cache len */
  MSA_CHECK_NEW_TOKENS_ABOVE_MAX = 6,    /* value = new_b, limit = kmax[0] */
  MSA_CHECK_TOTAL_KEYS_ABOVE_MAX = 7,    /* value = cache+new, limit = kmax[1] */
  MSA_CHECK_LOGICAL_PAGE_OUT_OF_RANGE = 8,  /* value = pages needed, limit = max_pages */
  MSA_CHECK_PHYSICAL_PAGE_OUT_OF_RANGE = 9  /* value = lut id, limit = num_pages, aux = logical page */
} msa_check_code_t;

/* The first broken rule: which, for which sequence, and the numbers. */
typedef struct msa_check_result {
  int32_t code; /* msa_check_code_t */
  int64_t seq;
  int64_t value;
  int64_t limit;
  int64_t aux;
} msa_check_result_t;

static inline MSA_HD msa_check_result_t msa_check_fail(int32_t code,
                                                       int64_t seq,
                                                       int64_t value,
                                                       int64_t limit,
                                                       int64_t aux) {
  msa_check_result_t r;
  r.code = code;
  r.seq = seq;
  r.value = value;
  r.limit = limit;
  r.aux = aux;
  return r;
}

/* Checks sequence b (0 <= b < batch). Sequence 0 also checks off[0] and the
 * last sequence off[batch]. Reads only off[b], off[b+1], prefix_lens[b],
 * k_cache_lengths[b], kmax[0..1] and lut[b][0 .. pages needed). */
static inline MSA_HD msa_check_result_t msa_check_sequence(
    int64_t b, int64_t batch, int64_t rows, const uint32_t *off,
    const uint32_t *prefix_lens, const uint32_t *k_cache_lengths,
    const uint32_t *lut, int64_t max_pages, int64_t num_pages,
    int64_t page_size, const uint32_t *kmax) {
  const int64_t begin = off[b], end = off[b + 1];
  if (b == 0 && begin != 0)
    return msa_check_fail(MSA_CHECK_OFFSETS_FIRST_NOT_ZERO, 0, begin, 0, 0);
  if (end < begin)
    return msa_check_fail(MSA_CHECK_OFFSETS_DECREASING, b, end, begin, 0);
  if (end > rows)
    return msa_check_fail(MSA_CHECK_OFFSETS_ABOVE_ROWS, b, end, rows, 0);
  if (b == batch - 1 && end != rows)
    return msa_check_fail(MSA_CHECK_OFFSETS_LAST_NOT_ROWS, b, end, rows, 0);
  const int64_t new_tokens = end - begin;
  const int64_t prefix = prefix_lens[b], cached = k_cache_lengths[b];
  if (prefix > cached)
    return msa_check_fail(MSA_CHECK_PREFIX_ABOVE_CACHE, b, prefix, cached, 0);
  if (new_tokens > (int64_t)kmax[0])
    return msa_check_fail(MSA_CHECK_NEW_TOKENS_ABOVE_MAX, b, new_tokens,
                          kmax[0], 0);
  if (cached + new_tokens > (int64_t)kmax[1])
    return msa_check_fail(MSA_CHECK_TOTAL_KEYS_ABOVE_MAX, b,
                          cached + new_tokens, kmax[1], 0);
  if (new_tokens == 0)
    return msa_check_fail(MSA_CHECK_OK, b, 0, 0, 0);
  const int64_t keys = prefix + new_tokens;
  const int64_t pages = (keys + page_size - 1) / page_size;
  if (pages > max_pages)
    return msa_check_fail(MSA_CHECK_LOGICAL_PAGE_OUT_OF_RANGE, b, pages,
                          max_pages, 0);
  for (int64_t p = 0; p < pages; ++p) {
    const int64_t id = lut[b * max_pages + p];
    if (id >= num_pages)
      return msa_check_fail(MSA_CHECK_PHYSICAL_PAGE_OUT_OF_RANGE, b, id,
                            num_pages, p);
  }
  return msa_check_fail(MSA_CHECK_OK, b, 0, 0, 0);
}

/* The batch-wide part that no sequence owns: with batch == 0, off[0] must be
 * 0 and rows must be 0. */
static inline MSA_HD msa_check_result_t
msa_check_empty_batch(int64_t rows, const uint32_t *off) {
  if (off[0] != 0)
    return msa_check_fail(MSA_CHECK_OFFSETS_FIRST_NOT_ZERO, 0, off[0], 0, 0);
  if (rows != 0)
    return msa_check_fail(MSA_CHECK_OFFSETS_LAST_NOT_ROWS, -1, off[0], rows,
                          0);
  return msa_check_fail(MSA_CHECK_OK, 0, 0, 0, 0);
}

/* Writes a message naming the operand, the sequence and the value into
 * buf (NUL-terminated, truncated to cap). Host only. */
void msa_format_check(const msa_check_result_t *result, char *buf,
                      unsigned long cap);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MSA_CHECKS_H */
