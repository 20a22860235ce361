// msa_common.cpp - status strings, the thread-local error message, the
// message text of the shared metadata checks, and the two checks every back
// end runs (the CPU, the reference and the CUDA host code):
// msa_indexer_check_static (CONTRACT.md "Static checks": attributes, buffer shapes)
// and msa_indexer_check_metadata (CONTRACT.md "Run-time checks"), plus the error
// fill. No dependencies beyond the C/C++ standard library.
#include "msa/msa_checks.h"
#include "msa/msa_kernels.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace {

thread_local char g_last_error[1024];

// Largest element count we accept for one buffer: products of the sizes must
// not overflow size_t byte counts on any 64-bit host.
constexpr int64_t kMaxElements = int64_t(1) << 56;

// a * b into *out; false when negative inputs or the product exceeds
// kMaxElements.
bool mul_count(int64_t a, int64_t b, int64_t *out) {
  if (a < 0 || b < 0)
    return false;
  if (a == 0 || b == 0) {
    *out = 0;
    return true;
  }
  if (a > kMaxElements / b)
    return false;
  *out = a * b;
  return true;
}

bool count_of(const int64_t *dims, int n, int64_t *out) {
  int64_t c = 1;
  for (int i = 0; i < n; ++i)
    if (!mul_count(c, dims[i], &c))
      return false;
  *out = c;
  return true;
}

} // namespace

extern "C" {

const char *msa_status_string(msa_status_t status) {
  switch (status) {
  case MSA_STATUS_OK:
    return "ok";
  case MSA_STATUS_INVALID_ARGUMENT:
    return "invalid argument";
  case MSA_STATUS_INVALID_METADATA:
    return "invalid metadata";
  case MSA_STATUS_UNSUPPORTED:
    return "unsupported";
  case MSA_STATUS_WORKSPACE_TOO_SMALL:
    return "workspace too small";
  case MSA_STATUS_CUDA_ERROR:
    return "CUDA error";
  case MSA_STATUS_NO_DEVICE:
    return "no CUDA device";
  case MSA_STATUS_OUT_OF_MEMORY:
    return "out of memory";
  }
  return "unknown status";
}

const char *msa_last_error(void) { return g_last_error; }

msa_status_t msa_set_last_error(msa_status_t status, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(g_last_error, sizeof g_last_error, format, ap);
  va_end(ap);
  return status;
}

void msa_format_check(const msa_check_result_t *r, char *buf,
                      unsigned long cap) {
  if (!buf || cap == 0)
    return;
  const long long b = r->seq, v = r->value, lim = r->limit, aux = r->aux;
  switch (r->code) {
  case MSA_CHECK_OK:
    std::snprintf(buf, cap, "ok");
    break;
  case MSA_CHECK_OFFSETS_FIRST_NOT_ZERO:
    std::snprintf(buf, cap,
                  "input_row_offsets[0] = %lld must be 0 (sequence 0)", v);
    break;
  case MSA_CHECK_OFFSETS_DECREASING:
    std::snprintf(buf, cap,
                  "input_row_offsets[%lld] = %lld is smaller than "
                  "input_row_offsets[%lld] = %lld: offsets must be "
                  "non-decreasing (sequence %lld)",
                  b + 1, v, b, lim, b);
    break;
  case MSA_CHECK_OFFSETS_ABOVE_ROWS:
    std::snprintf(buf, cap,
                  "input_row_offsets[%lld] = %lld exceeds rows = %lld "
                  "(sequence %lld)",
                  b + 1, v, lim, b);
    break;
  case MSA_CHECK_OFFSETS_LAST_NOT_ROWS:
    if (b < 0)
      std::snprintf(buf, cap,
                    "input_row_offsets[0] = %lld must equal rows = %lld for "
                    "an empty batch (batch = 0)",
                    v, lim);
    else
      std::snprintf(buf, cap,
                    "input_row_offsets[%lld] = %lld must equal rows = %lld "
                    "(last offset, sequence %lld)",
                    b + 1, v, lim, b);
    break;
  case MSA_CHECK_PREFIX_ABOVE_CACHE:
    std::snprintf(buf, cap,
                  "prefix_lens[%lld] = %lld exceeds k_cache_lengths[%lld] = "
                  "%lld for sequence %lld",
                  b, v, b, lim, b);
    break;
  case MSA_CHECK_NEW_TOKENS_ABOVE_MAX:
    std::snprintf(buf, cap,
                  "sequence %lld has %lld new tokens, more than "
                  "k_max_lengths[0][0] = %lld",
                  b, v, lim);
    break;
  case MSA_CHECK_TOTAL_KEYS_ABOVE_MAX:
    std::snprintf(buf, cap,
                  "sequence %lld has %lld keys (k_cache_lengths + new tokens), "
                  "more than k_max_lengths[0][1] = %lld",
                  b, v, lim);
    break;
  case MSA_CHECK_LOGICAL_PAGE_OUT_OF_RANGE:
    std::snprintf(buf, cap,
                  "sequence %lld needs %lld pages, more than the %lld columns "
                  "of k_lookup_table (max_pages)",
                  b, v, lim);
    break;
  case MSA_CHECK_PHYSICAL_PAGE_OUT_OF_RANGE:
    std::snprintf(buf, cap,
                  "k_lookup_table[%lld][%lld] = %lld is not a valid page id "
                  "(num_pages = %lld) for sequence %lld",
                  b, aux, v, lim, b);
    break;
  default:
    std::snprintf(buf, cap, "unknown check code %d (sequence %lld)",
                  (int)r->code, b);
    break;
  }
}

} // extern "C"

namespace {

// The rules that give out its extent [num_index_heads, rows, topk]; true and
// *count when they hold (no message: the fill must not touch msa_last_error).
bool out_extent(const msa_indexer_tensors_t &t, const msa_indexer_attrs_t &a,
                int64_t *count) {
  const int64_t dims[3] = {a.num_index_heads, t.rows, a.topk};
  return a.num_index_heads >= 1 && t.num_q_heads == a.num_index_heads &&
         t.rows >= 0 && a.topk >= 1 && a.init_blocks >= 0 &&
         a.local_blocks >= 0 &&
         (int64_t)a.init_blocks + a.local_blocks <= a.topk &&
         count_of(dims, 3, count);
}

} // namespace

extern "C" {

void msa_indexer_fill_invalid(const msa_indexer_tensors_t *t,
                              const msa_indexer_attrs_t *a) {
  int64_t n = 0;
  if (!t || !a || !t->out || !out_extent(*t, *a, &n))
    return;
  for (int64_t i = 0; i < n; ++i)
    t->out[i] = -1;
}

#define MSA_FAIL(status, ...) return msa_set_last_error(status, __VA_ARGS__)
#define MSA_ARG(...) MSA_FAIL(MSA_STATUS_INVALID_ARGUMENT, __VA_ARGS__)

msa_status_t msa_indexer_check_static(const msa_indexer_tensors_t *t,
                                      const msa_indexer_attrs_t *a) {
  g_last_error[0] = '\0';
  if (!t)
    MSA_ARG("tensors is NULL");
  if (!a)
    MSA_ARG("attrs is NULL");
  typedef long long ll;
  // ---- attributes (CONTRACT.md "Static checks") ----
  if (a->num_index_heads < 1)
    MSA_ARG("num_index_heads = %d must be >= 1", a->num_index_heads);
  if (a->idx_head_dim < 1)
    MSA_ARG("idx_head_dim = %d must be >= 1", a->idx_head_dim);
  if (a->block_size < 1)
    MSA_ARG("block_size = %d must be >= 1", a->block_size);
  if (a->topk < 1)
    MSA_ARG("topk = %d must be >= 1", a->topk);
  if (a->init_blocks < 0)
    MSA_ARG("init_blocks = %d must be >= 0", a->init_blocks);
  if (a->local_blocks < 0)
    MSA_ARG("local_blocks = %d must be >= 0", a->local_blocks);
  if ((int64_t)a->init_blocks + a->local_blocks > a->topk)
    MSA_ARG("init_blocks + local_blocks = %lld exceeds topk = %d (it would "
            "drop a forced block)",
            (ll)a->init_blocks + a->local_blocks, a->topk);
  if (!std::isfinite(a->scale))
    MSA_ARG("scale = %g must be finite", (double)a->scale);
  if (a->order != MSA_ORDER_SCORE && a->order != MSA_ORDER_BLOCK)
    MSA_ARG("order = %d must be 0 (score) or 1 (block)", a->order);
  // ---- buffer shapes ----
  if (t->rows < 0)
    MSA_ARG("rows = %lld must be >= 0", (ll)t->rows);
  if (t->batch < 0)
    MSA_ARG("batch = %lld must be >= 0", (ll)t->batch);
  if (t->num_q_heads != a->num_index_heads)
    MSA_ARG("q dim 1 = %lld does not match num_index_heads = %d",
            (ll)t->num_q_heads, a->num_index_heads);
  if (t->q_head_dim != a->idx_head_dim)
    MSA_ARG("q dim 2 = %lld does not match idx_head_dim = %d",
            (ll)t->q_head_dim, a->idx_head_dim);
  if (t->num_pages < 0)
    MSA_ARG("k_blocks dim 0 (num_pages) = %lld must be >= 0",
            (ll)t->num_pages);
  if (t->num_layers < 1)
    MSA_ARG("k_blocks dim 2 (num_layers) = %lld must be >= 1",
            (ll)t->num_layers);
  if (a->layer_idx < 0 || a->layer_idx >= t->num_layers)
    MSA_ARG("layer_idx = %d is out of range for k_blocks dim 2 (num_layers) "
            "= %lld",
            a->layer_idx, (ll)t->num_layers);
  if (t->page_size != a->block_size)
    MSA_ARG("k_blocks dim 3 (page_size) = %lld does not match block_size = %d",
            (ll)t->page_size, a->block_size);
  if (t->k_head_dim != a->idx_head_dim)
    MSA_ARG("k_blocks dim 5 = %lld does not match idx_head_dim = %d",
            (ll)t->k_head_dim, a->idx_head_dim);
  if (t->max_pages < 0)
    MSA_ARG("k_lookup_table dim 1 (max_pages) = %lld must be >= 0",
            (ll)t->max_pages);
  int64_t nq = 0, nk = 0, nlut = 0, nout = 0;
  {
    const int64_t qd[3] = {t->rows, t->num_q_heads, t->q_head_dim};
    const int64_t kd[4] = {t->num_pages, t->num_layers, t->page_size,
                           t->k_head_dim};
    const int64_t ld[2] = {t->batch, t->max_pages};
    const int64_t od[3] = {a->num_index_heads, t->rows, a->topk};
    if (!count_of(qd, 3, &nq))
      MSA_ARG("q [%lld, %lld, %lld] has too many elements", (ll)t->rows,
              (ll)t->num_q_heads, (ll)t->q_head_dim);
    if (!count_of(kd, 4, &nk))
      MSA_ARG("k_blocks [%lld, 1, %lld, %lld, 1, %lld] has too many elements",
              (ll)t->num_pages, (ll)t->num_layers, (ll)t->page_size,
              (ll)t->k_head_dim);
    if (!count_of(ld, 2, &nlut))
      MSA_ARG("k_lookup_table [%lld, %lld] has too many elements",
              (ll)t->batch, (ll)t->max_pages);
    if (!count_of(od, 3, &nout))
      MSA_ARG("result [%d, %lld, %d] has too many elements",
              a->num_index_heads, (ll)t->rows, a->topk);
    if (t->batch >= kMaxElements)
      MSA_ARG("batch = %lld is too large", (ll)t->batch);
  }
  if (!t->input_row_offsets)
    MSA_ARG("input_row_offsets is NULL");
  if (!t->k_max_lengths)
    MSA_ARG("k_max_lengths is NULL");
  if (t->batch > 0 && !t->prefix_lens)
    MSA_ARG("prefix_lens is NULL");
  if (t->batch > 0 && !t->k_cache_lengths)
    MSA_ARG("k_cache_lengths is NULL");
  if (nlut > 0 && !t->k_lookup_table)
    MSA_ARG("k_lookup_table is NULL");
  if (nq > 0 && !t->q)
    MSA_ARG("q is NULL");
  if (nk > 0 && !t->k_blocks)
    MSA_ARG("k_blocks is NULL");
  if (t->k_type != MSA_KEY_BF16 && t->k_type != MSA_KEY_F8E4M3FN)
    MSA_ARG("k_blocks: k_type = %d is not a key type (%d: bf16, %d: f8E4M3FN)",
            (int)t->k_type, (int)MSA_KEY_BF16, (int)MSA_KEY_F8E4M3FN);
  if (nout > 0 && !t->out)
    MSA_ARG("out (result) is NULL");
  return MSA_STATUS_OK;
}

msa_status_t msa_indexer_check_metadata(const msa_indexer_tensors_t *t) {
  g_last_error[0] = '\0';
  if (!t || !t->input_row_offsets || !t->k_max_lengths ||
      (t->batch > 0 && (!t->prefix_lens || !t->k_cache_lengths)))
    MSA_ARG("metadata buffers missing: run msa_indexer_check_static first");
  // The first failing sequence.
  msa_check_result_t r;
  if (t->batch == 0) {
    r = msa_check_empty_batch(t->rows, t->input_row_offsets);
  } else {
    r = msa_check_fail(MSA_CHECK_OK, 0, 0, 0, 0);
    for (int64_t b = 0; b < t->batch; ++b) {
      r = msa_check_sequence(b, t->batch, t->rows, t->input_row_offsets,
                             t->prefix_lens, t->k_cache_lengths,
                             t->k_lookup_table, t->max_pages, t->num_pages,
                             t->page_size, t->k_max_lengths);
      if (r.code != MSA_CHECK_OK)
        break;
    }
  }
  if (r.code != MSA_CHECK_OK) {
    msa_format_check(&r, g_last_error, sizeof g_last_error);
    return MSA_STATUS_INVALID_METADATA;
  }
  return MSA_STATUS_OK;
}

msa_status_t msa_indexer_validate(const msa_indexer_tensors_t *t,
                                  const msa_indexer_attrs_t *a) {
  const msa_status_t st = msa_indexer_check_static(t, a);
  return st != MSA_STATUS_OK ? st : msa_indexer_check_metadata(t);
}

} // extern "C"
