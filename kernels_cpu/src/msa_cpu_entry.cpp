// msa_cpu_entry.cpp - the CPU kernel's driver and its C ABI entries.
//
//   1. msa_indexer_validate (the shared run-time check); on error out = -1.
//   2. Cut the batch into units of work:
//      - a sequence with more than 64 queries (rows * H; prefill, chunked
//        prefill) is cut into tiles of 64 consecutive queries; a unit scores
//        one tile against all of its blocks into thread-local scratch and
//        selects its top-k right away;
//      - a sequence with at most 64 queries (decode, short chunks) is cut
//        along its key range: a unit scores all its queries against a chunk
//        of blocks into a shared score matrix (each block by exactly one
//        unit), and its selection runs after its last unit is done. So both
//        cores are busy for a batch of one long decode too.
//      Units are handed out dynamically to the caller and the pool's
//      helpers (msa_cpu_pool.h; omp_get_max_threads() participants, one below
//      a work threshold); which thread runs a unit cannot change a score (see
//      msa_cpu_internal.h) and a split's selection runs after its last unit,
//      on complete score rows, so the result is the same for any thread
//      count.
//   3. Selection per (head, row): forced blocks (init, then local), then the
//      best unforced blocks in the total order (score desc, block id asc),
//      kept in a sorted array of at most topk entries (one compare per block
//      once it is full), -inf/NaN never; order=block sorts the ids.
#include "msa/msa_kernels.h"
#include "msa_cpu_internal.h"
#include "msa_cpu_pool.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <vector>

namespace msa_cpu {
namespace {

std::atomic<int32_t> g_path{MSA_CPU_PATH_AUTO};

// A forced path (msa_cpu_set_path); AUTO's choice is msa_cpu_auto_rule.cpp's.
bool use_amx() { return g_path.load() == MSA_CPU_PATH_AMX; }
bool use_bf16() { return g_path.load() == MSA_CPU_PATH_AVX512BF16; }

struct Unit {
  int64_t b;      // sequence
  int64_t q0, nq; // queries [q0, q0 + nq) of the sequence
  int64_t j0, j1; // blocks
  int64_t split;  // index into splits, or -1 for a tile unit
  int64_t cost;   // estimated work, for the schedule only
};

struct Split {
  int64_t b, nq, nblk;
  int64_t sc_off; // offset of its [nq][nblk] score matrix
};

// One (head, row): writes topk ids to out. ts/tj: scratch of >= topk entries.
void select_row(const float *sc, int64_t nblk, const msa_indexer_attrs_t &a,
                int32_t *out, float *ts, int32_t *tj) {
  const int64_t topk = a.topk;
  int64_t f = 0;
  const int64_t local_from = nblk - a.local_blocks;
  const int64_t init_end = std::min<int64_t>(a.init_blocks, nblk);
  for (int64_t j = 0; j < init_end; ++j)
    if (j < local_from)
      out[f++] = (int32_t)j;
  for (int64_t j = std::max<int64_t>(local_from, 0); j < nblk; ++j)
    out[f++] = (int32_t)j;
  const int64_t room = topk - f; // >= 0: init + local <= topk
  int64_t m = 0;
  if (room > 0) {
    const float ninf = -std::numeric_limits<float>::infinity();
    const int64_t jend = std::max<int64_t>(local_from, 0);
    for (int64_t j = init_end; j < jend; ++j) {
      const float s = sc[j];
      if (!(s > ninf))
        continue; // -inf and NaN are never selected
      if (m == room && !(s > ts[m - 1]))
        continue; // not better than the worst kept (ties: smaller id kept)
      int64_t pos = m < room ? m : m - 1;
      // Shift down entries with a smaller score (equal scores keep their
      // place: they have smaller ids).
      while (pos > 0 && ts[pos - 1] < s) {
        ts[pos] = ts[pos - 1];
        tj[pos] = tj[pos - 1];
        --pos;
      }
      ts[pos] = s;
      tj[pos] = (int32_t)j;
      if (m < room)
        ++m;
    }
    for (int64_t i = 0; i < m; ++i)
      out[f + i] = tj[i];
  }
  const int64_t cnt = f + m;
  if (a.order == MSA_ORDER_BLOCK)
    std::sort(out, out + cnt);
  for (int64_t i = cnt; i < topk; ++i)
    out[i] = -1;
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

msa_status_t run(const msa_indexer_tensors_t *tp, const msa_indexer_attrs_t *ap) {
  const msa_indexer_tensors_t &t = *tp;
  const msa_indexer_attrs_t &a = *ap;
  const int64_t H = a.num_index_heads, D = a.idx_head_dim, bs = a.block_size;
  // AUTO: the back end per sequence kind comes from the rule in
  // msa_cpu_auto_rule.cpp; it depends only on the sequence's own query count
  // (narrow: fewer than kNarrowQueries), so batch invariance holds. A forced
  // path runs every sequence.
  const bool is_auto = g_path.load() == MSA_CPU_PATH_AUTO;
  const ScoreFn forced_fn =
      use_amx() ? score_amx : use_bf16() ? score_bf16 : score_hwy;
  const ScoreFn score_narrow_fn = is_auto ? auto_score_fn(true) : forced_fn;
  const ScoreFn score_wide_fn = is_auto ? auto_score_fn(false) : forced_fn;
  const int nthreads = std::max(1, omp_get_max_threads());

  std::vector<Unit> units;
  std::vector<Split> splits;
  int64_t tile_nblk = 0, split_scores = 0, split_blocks = 0, sel_cap = 1;
  double total_cost = 0;
  for (int64_t b = 0; b < t.batch; ++b) {
    const int64_t rows_b =
        (int64_t)t.input_row_offsets[b + 1] - t.input_row_offsets[b];
    const int64_t nq = rows_b * H;
    if (nq == 0)
      continue;
    const int64_t prefix = t.prefix_lens[b];
    const int64_t nblk = ceil_div(prefix + rows_b, bs);
    sel_cap = std::max(sel_cap, std::min<int64_t>(a.topk, nblk));
    if (nq <= kMaxTileQueries) {
      splits.push_back({b, nq, nblk, split_scores});
      split_scores += nq * nblk;
      split_blocks += nblk;
    } else {
      for (int64_t q0 = 0; q0 < nq; q0 += kMaxTileQueries) {
        const int64_t n = std::min<int64_t>(kMaxTileQueries, nq - q0);
        const int64_t keys = prefix + 1 + (q0 + n - 1) / H;
        const int64_t nb = ceil_div(keys, bs);
        tile_nblk = std::max(tile_nblk, nb);
        units.push_back({b, q0, n, 0, nb, -1, n * keys});
        total_cost += (double)n * (double)keys;
      }
    }
  }
  // Costliest tiles first (a total order; it affects the schedule only).
  std::sort(units.begin(), units.end(), [](const Unit &x, const Unit &y) {
    if (x.cost != y.cost)
      return x.cost > y.cost;
    return x.b != y.b ? x.b < y.b : x.q0 < y.q0;
  });
  const int64_t chunk =
      std::max<int64_t>(1, ceil_div(split_blocks, 8 * (int64_t)nthreads));
  for (size_t s = 0; s < splits.size(); ++s) {
    const Split &sp = splits[s];
    for (int64_t j0 = 0; j0 < sp.nblk; j0 += chunk) {
      const int64_t j1 = std::min(sp.nblk, j0 + chunk);
      const int64_t keys = (j1 - j0) * bs;
      units.push_back({sp.b, 0, sp.nq, j0, j1, (int64_t)s, sp.nq * keys});
      total_cost += (double)sp.nq * (double)keys;
    }
  }
  // Units left per split: whoever finishes a split's last unit selects its
  // rows, from complete score rows (no barrier between scoring and
  // selection).
  std::unique_ptr<std::atomic<int64_t>[]> split_left(
      new std::atomic<int64_t>[splits.size() + 1]);
  for (size_t s = 0; s < splits.size(); ++s)
    split_left[s].store(0);
  for (const Unit &un : units)
    if (un.split >= 0)
      split_left[un.split].fetch_add(1);

  float *shared_scores = nullptr;
  if (split_scores > 0) {
    shared_scores = static_cast<float *>(
        std::malloc((size_t)split_scores * sizeof(float)));
    if (!shared_scores)
      return msa_set_last_error(MSA_STATUS_OUT_OF_MEMORY,
                                "cannot allocate %lld bytes of scores",
                                (long long)split_scores * 4);
  }
  const size_t scratch_sz = (scratch_bytes(D) + 63) / 64 * 64;
  const size_t tile_sz = (size_t)(kMaxTileQueries * tile_nblk) * sizeof(float);
  const int64_t nunits = (int64_t)units.size();
  std::atomic<bool> oom{false};
  std::atomic<int64_t> next_unit{0};
  const bool parallel = total_cost * (double)D > 2.0e5;

  auto select_split = [&](const Split &sp, float *ts, int32_t *tj) {
    for (int64_t qi = 0; qi < sp.nq; ++qi) {
      const int64_t b = sp.b;
      const int64_t row = (int64_t)t.input_row_offsets[b] + qi / H;
      const int64_t h = qi % H;
      const int64_t nblk = ceil_div((int64_t)t.prefix_lens[b] + 1 + qi / H, bs);
      select_row(shared_scores + sp.sc_off + qi * sp.nblk, nblk, a,
                 t.out + (h * t.rows + row) * a.topk, ts, tj);
    }
  };

  // One participant (the caller or a pool helper, msa_cpu_pool.h).
  auto work = [&](int) {
    void *scratch = std::aligned_alloc(64, scratch_sz);
    float *tsc = tile_sz ? static_cast<float *>(std::malloc(tile_sz)) : nullptr;
    float *ts = static_cast<float *>(std::malloc(sel_cap * sizeof(float)));
    int32_t *tj = static_cast<int32_t *>(std::malloc(sel_cap * sizeof(int32_t)));
    const bool ok = scratch && ts && tj && (tile_sz == 0 || tsc);
    if (!ok)
      oom.store(true);

    // Dynamic schedule by hand (an atomic counter): which thread runs a unit
    // never changes its result, and a participant that joins late finds the
    // units taken.
    for (;;) {
      const int64_t u = next_unit.fetch_add(1);
      if (u >= nunits)
        break;
      if (!ok)
        continue;
      const Unit &un = units[u];
      const int64_t b = un.b;
      const int64_t nq_b =
          ((int64_t)t.input_row_offsets[b + 1] - t.input_row_offsets[b]) * H;
      ScoreTask k;
      k.k = t.k_blocks;
      k.page_stride = t.num_layers * t.page_size * D;
      k.layer_off = (int64_t)a.layer_idx * t.page_size * D;
      k.lut = t.k_lookup_table + b * t.max_pages;
      k.bs = bs;
      k.D = D;
      k.H = H;
      k.q = t.q + ((int64_t)t.input_row_offsets[b] * H + un.q0) * D;
      k.nq = un.nq;
      k.qfirst = un.q0;
      k.nbase = (int64_t)t.prefix_lens[b] + 1;
      k.narrow = nq_b < kNarrowQueries;
      k.j0 = un.j0;
      k.j1 = un.j1;
      k.scale = a.scale;
      k.jbase = 0;
      if (un.split >= 0) {
        const Split &sp = splits[un.split];
        k.scores = shared_scores + sp.sc_off;
        k.ld = sp.nblk;
        (k.narrow ? score_narrow_fn : score_wide_fn)(k, scratch);
        if (split_left[un.split].fetch_sub(1, std::memory_order_acq_rel) == 1)
          select_split(sp, ts, tj);
      } else {
        k.scores = tsc;
        k.ld = un.j1;
        (k.narrow ? score_narrow_fn : score_wide_fn)(k, scratch);
        for (int64_t i = 0; i < un.nq; ++i) {
          const int64_t qi = un.q0 + i;
          const int64_t row = (int64_t)t.input_row_offsets[b] + qi / H;
          const int64_t h = qi % H;
          const int64_t nblk = ceil_div(k.nbase + qi / H, bs);
          select_row(tsc + i * k.ld, nblk, a,
                     t.out + (h * t.rows + row) * a.topk, ts, tj);
        }
      }
    }

    std::free(scratch);
    std::free(tsc);
    std::free(ts);
    std::free(tj);
  };
  pool_run(parallel ? nthreads : 1, work);
  std::free(shared_scores);
  if (oom.load()) {
    msa_indexer_fill_invalid(tp, ap);
    return msa_set_last_error(MSA_STATUS_OUT_OF_MEMORY,
                              "cannot allocate the per-thread scratch");
  }
  return MSA_STATUS_OK;
}

// ---- memref helpers for the _mlir_ciface_ entry --------------------------

template <class T, int N> struct Memref {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};

template <class M> bool sane(const M *m, int n, const char *name, char *err,
                             size_t cap) {
  if (!m) {
    std::snprintf(err, cap, "%s: memref descriptor is NULL", name);
    return false;
  }
  int64_t count = 1;
  for (int i = 0; i < n; ++i) {
    if (m->sizes[i] < 0) {
      std::snprintf(err, cap, "%s: dim %d has negative size %lld", name, i,
                    (long long)m->sizes[i]);
      return false;
    }
    if (m->strides[i] < 0) {
      std::snprintf(err, cap,
                    "%s: dim %d has negative stride %lld (not supported)",
                    name, i, (long long)m->strides[i]);
      return false;
    }
    if (m->sizes[i] != 0 && count > (int64_t(1) << 56) / m->sizes[i]) {
      std::snprintf(err, cap, "%s: too many elements", name);
      return false;
    }
    count *= m->sizes[i];
  }
  if (m->offset < 0) {
    std::snprintf(err, cap, "%s: negative offset %lld", name,
                  (long long)m->offset);
    return false;
  }
  if (count > 0 && !m->aligned) {
    std::snprintf(err, cap, "%s: data pointer is NULL", name);
    return false;
  }
  return true;
}

template <class M> int64_t elements(const M *m, int n) {
  int64_t c = 1;
  for (int i = 0; i < n; ++i)
    c *= m->sizes[i];
  return c;
}

// Row-major contiguous (dims of size 1 may have any stride)?
template <class M> bool contiguous(const M *m, int n) {
  int64_t expect = 1;
  for (int i = n - 1; i >= 0; --i) {
    if (m->sizes[i] != 1 && m->strides[i] != expect)
      return false;
    expect *= m->sizes[i];
  }
  return true;
}

// Element at linear (row-major) index `lin` of a strided memref.
template <class M> int64_t strided_index(const M *m, int n, int64_t lin) {
  int64_t idx = m->offset;
  for (int i = n - 1; i >= 0; --i) {
    const int64_t s = m->sizes[i];
    idx += (lin % s) * m->strides[i];
    lin /= s;
  }
  return idx;
}

// A contiguous view of an input memref: the memref itself, or a packed copy.
template <class T, class M>
const T *contiguous_input(const M *m, int n, std::vector<T> &copy) {
  if (contiguous(m, n))
    return m->aligned ? m->aligned + m->offset : nullptr;
  const int64_t cnt = elements(m, n);
  copy.resize((size_t)cnt);
  for (int64_t i = 0; i < cnt; ++i)
    copy[(size_t)i] = m->aligned[strided_index(m, n, i)];
  return copy.data();
}

template <class M> void fill_out(M *m, int n) {
  const int64_t cnt = elements(m, n);
  for (int64_t i = 0; i < cnt; ++i)
    m->aligned[strided_index(m, n, i)] = -1;
}

} // namespace
} // namespace msa_cpu

extern "C" {

msa_status_t msa_indexer_cpu(const msa_indexer_tensors_t *tensors,
                             const msa_indexer_attrs_t *attrs) {
  const msa_status_t st = msa_indexer_validate(tensors, attrs);
  if (st != MSA_STATUS_OK) {
    msa_indexer_fill_invalid(tensors, attrs);
    return st;
  }
  try {
    return msa_cpu::run(tensors, attrs);
  } catch (const std::bad_alloc &) {
    msa_indexer_fill_invalid(tensors, attrs);
    return msa_set_last_error(MSA_STATUS_OUT_OF_MEMORY,
                              "out of memory in msa_indexer_cpu");
  }
}

msa_status_t msa_cpu_set_path(int32_t path) {
  switch (path) {
  case MSA_CPU_PATH_AUTO:
  case MSA_CPU_PATH_HIGHWAY:
    msa_cpu::hwy_restrict(0);
    break;
  case MSA_CPU_PATH_AMX:
    if (!msa_cpu::amx_supported())
      return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                                "this CPU or OS offers no AMX-BF16 tiles");
    msa_cpu::hwy_restrict(0);
    break;
  case MSA_CPU_PATH_AVX512BF16:
    if (!msa_cpu::bf16_supported())
      return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                                "this CPU has no avx512_bf16");
    break;
  case MSA_CPU_PATH_HWY_AVX2:
  case MSA_CPU_PATH_HWY_AVX3:
  case MSA_CPU_PATH_HWY_EMU128:
    if (!msa_cpu::hwy_restrict(
            msa_cpu::hwy_target_mask(path - MSA_CPU_PATH_HWY_AVX2)))
      return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                                "Highway target not supported here");
    break;
  default:
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "unknown CPU path %d", path);
  }
  msa_cpu::g_path.store(path);
  return MSA_STATUS_OK;
}

const char *msa_cpu_path_name(void) {
  static thread_local char name[64];
  if (msa_cpu::g_path.load() == MSA_CPU_PATH_AUTO)
    return msa_cpu::auto_path_name();
  if (msa_cpu::use_amx())
    return "amx";
  if (msa_cpu::use_bf16())
    return "avx512bf16";
  std::snprintf(name, sizeof name, "highway:%s", msa_cpu::hwy_target_name());
  return name;
}

int32_t _mlir_ciface_msa_indexer_ragged_paged_cpu(
    msa_memref_bf16_3d_t *q, msa_memref_u32_1d_t *input_row_offsets,
    msa_memref_u32_1d_t *prefix_lens, msa_memref_bf16_6d_t *k_blocks,
    msa_memref_u32_1d_t *k_cache_lengths, msa_memref_u32_2d_t *k_lookup_table,
    msa_memref_u32_2d_t *k_max_lengths, msa_memref_i32_3d_t *out,
    int32_t num_index_heads, int32_t idx_head_dim, int32_t block_size,
    int32_t topk, int32_t init_blocks, int32_t local_blocks, int32_t layer_idx,
    float scale, int32_t order) {
  using namespace msa_cpu;
  char err[512];
  err[0] = '\0';
  msa_status_t st = MSA_STATUS_OK;
  const bool out_ok = sane(out, 3, "result", err, sizeof err);
  if (!out_ok) {
    st = MSA_STATUS_INVALID_ARGUMENT;
  } else if (!sane(q, 3, "q", err, sizeof err) ||
             !sane(input_row_offsets, 1, "input_row_offsets", err, sizeof err) ||
             !sane(prefix_lens, 1, "prefix_lens", err, sizeof err) ||
             !sane(k_blocks, 6, "k_blocks", err, sizeof err) ||
             !sane(k_cache_lengths, 1, "k_cache_lengths", err, sizeof err) ||
             !sane(k_lookup_table, 2, "k_lookup_table", err, sizeof err) ||
             !sane(k_max_lengths, 2, "k_max_lengths", err, sizeof err)) {
    st = MSA_STATUS_INVALID_ARGUMENT;
  }
  const int64_t batch =
      st == MSA_STATUS_OK ? input_row_offsets->sizes[0] - 1 : 0;
  typedef long long ll;
  if (st == MSA_STATUS_OK) {
    st = MSA_STATUS_INVALID_ARGUMENT;
    if (batch < 0)
      std::snprintf(err, sizeof err,
                    "input_row_offsets has 0 elements; expected batch + 1 "
                    ">= 1");
    else if (prefix_lens->sizes[0] != batch)
      std::snprintf(err, sizeof err,
                    "prefix_lens has %lld elements; expected batch = %lld "
                    "(input_row_offsets has batch + 1)",
                    (ll)prefix_lens->sizes[0], (ll)batch);
    else if (k_cache_lengths->sizes[0] != batch)
      std::snprintf(err, sizeof err,
                    "k_cache_lengths has %lld elements; expected batch = %lld",
                    (ll)k_cache_lengths->sizes[0], (ll)batch);
    else if (k_lookup_table->sizes[0] != batch)
      std::snprintf(err, sizeof err,
                    "k_lookup_table dim 0 = %lld; expected batch = %lld",
                    (ll)k_lookup_table->sizes[0], (ll)batch);
    else if (k_blocks->sizes[1] != 1 || k_blocks->sizes[4] != 1)
      std::snprintf(err, sizeof err,
                    "k_blocks dims 1 and 4 must be 1; got %lld and %lld",
                    (ll)k_blocks->sizes[1], (ll)k_blocks->sizes[4]);
    else if (k_max_lengths->sizes[0] != 1 || k_max_lengths->sizes[1] != 2)
      std::snprintf(err, sizeof err,
                    "k_max_lengths is [%lld, %lld]; expected [1, 2]",
                    (ll)k_max_lengths->sizes[0], (ll)k_max_lengths->sizes[1]);
    else if (out->sizes[0] != num_index_heads || out->sizes[1] != q->sizes[0] ||
             out->sizes[2] != topk)
      std::snprintf(err, sizeof err,
                    "result is [%lld, %lld, %lld]; expected [num_index_heads "
                    "= %d, rows = %lld, topk = %d]",
                    (ll)out->sizes[0], (ll)out->sizes[1], (ll)out->sizes[2],
                    num_index_heads, (ll)q->sizes[0], topk);
    else
      st = MSA_STATUS_OK;
  }
  if (st == MSA_STATUS_OK) {
    try {
      std::vector<uint16_t> cq, ck;
      std::vector<uint32_t> coff, cpre, ccache, clut, ckmax;
      std::vector<int32_t> cout;
      msa_indexer_tensors_t t{};
      t.q = contiguous_input(q, 3, cq);
      t.input_row_offsets = contiguous_input(input_row_offsets, 1, coff);
      t.prefix_lens = contiguous_input(prefix_lens, 1, cpre);
      t.k_blocks = contiguous_input(k_blocks, 6, ck);
      t.k_cache_lengths = contiguous_input(k_cache_lengths, 1, ccache);
      t.k_lookup_table = contiguous_input(k_lookup_table, 2, clut);
      t.k_max_lengths = contiguous_input(k_max_lengths, 2, ckmax);
      const bool out_contig = contiguous(out, 3);
      if (!out_contig)
        cout.assign((size_t)elements(out, 3), -1);
      t.out = out_contig ? (out->aligned ? out->aligned + out->offset : nullptr)
                         : cout.data();
      t.rows = q->sizes[0];
      t.num_q_heads = q->sizes[1];
      t.q_head_dim = q->sizes[2];
      t.batch = batch;
      t.num_pages = k_blocks->sizes[0];
      t.num_layers = k_blocks->sizes[2];
      t.page_size = k_blocks->sizes[3];
      t.k_head_dim = k_blocks->sizes[5];
      t.max_pages = k_lookup_table->sizes[1];
      const msa_indexer_attrs_t a = {num_index_heads, idx_head_dim,
                                     block_size,      topk,
                                     init_blocks,     local_blocks,
                                     layer_idx,       scale,
                                     order};
      st = msa_indexer_cpu(&t, &a);
      if (st != MSA_STATUS_OK)
        std::snprintf(err, sizeof err, "%s", msa_last_error());
      if (!out_contig)
        for (int64_t i = 0; i < (int64_t)cout.size(); ++i)
          out->aligned[strided_index(out, 3, i)] = cout[(size_t)i];
    } catch (const std::bad_alloc &) {
      st = MSA_STATUS_OUT_OF_MEMORY;
      std::snprintf(err, sizeof err, "out of memory packing strided operands");
    }
  }
  if (st != MSA_STATUS_OK) {
    if (out_ok)
      fill_out(out, 3);
    msa_set_last_error(st, "%s", err);
    std::fprintf(stderr, "msa.indexer_ragged_paged (cpu): %s\n", err);
  }
  return (int32_t)st;
}

} // extern "C"
