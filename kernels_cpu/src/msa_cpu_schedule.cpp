// msa_cpu_schedule.cpp - the CPU kernel's driver: cuts a validated batch
// into units of work, sizes the scratch by that work, runs the units on the
// caller and the helper pool (msa_cpu_pool.h; omp_get_max_threads()
// participants, the caller alone below a work threshold) and the selection.
//
//   - a sequence with more than 64 queries (rows * H; prefill, chunked
//     prefill) is cut into tiles of 64 consecutive queries; a unit scores
//     one tile against all of its blocks into thread-local scratch and
//     selects its top-k right away;
//   - a sequence with at most 64 queries (decode, short chunks) is cut
//     along its key range: a unit scores all its queries against a chunk
//     of blocks into a shared score matrix (each block by exactly one
//     unit), and its selection runs after its last unit. So both
//     cores are busy for a batch of one long decode too.
// Units are handed out dynamically; which thread runs a unit cannot change a
// score (see msa_cpu_internal.h) and the selection sees complete score rows,
// so the result is the same for any thread count.
//
// Scratch: per thread, the task scratch of the widest unit
// (scratch_bytes), the score rows of the longest tile and the selection's
// arrays; shared, the score matrices of the short sequences. Nothing is
// allocated for a batch without queries, and each buffer above
// MSA_CPU_SCRATCH_LIMIT_BYTES is refused before anything is allocated (a
// bound that does not depend on the thread count).
#include "msa_cpu_internal.h"
#include "msa_cpu_pool.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace msa_cpu {
namespace {

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

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// a + b, saturating at INT64_MAX (sizes are compared with a bound only).
inline int64_t add_sat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}
inline int64_t mul_sat(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}

msa_status_t too_big(const char *what, int64_t bytes) {
  return msa_set_last_error(
      MSA_STATUS_UNSUPPORTED,
      "%s needs %lld bytes of scratch, above MSA_CPU_SCRATCH_LIMIT_BYTES = "
      "%lld (msa_kernels.h)",
      what, (long long)bytes, (long long)MSA_CPU_SCRATCH_LIMIT_BYTES);
}

// One thread's buffers, allocated when the thread first needs them.
struct ThreadScratch {
  void *task = nullptr; // scratch_bytes(max_task_nq, D), 64-byte aligned
  float *tile = nullptr;
  float *ts = nullptr;
  int32_t *tj = nullptr;
  int scoring = 0, selecting = 0; // 0 not tried, 1 ok, -1 failed
  bool for_scoring(size_t task_sz, size_t tile_sz, size_t sel_cap) {
    if (scoring == 0) {
      task = std::aligned_alloc(64, task_sz);
      tile = tile_sz ? static_cast<float *>(std::malloc(tile_sz)) : nullptr;
      scoring = task && (tile_sz == 0 || tile) ? 1 : -1;
    }
    return scoring > 0 && for_selection(sel_cap);
  }
  bool for_selection(size_t sel_cap) {
    if (selecting == 0) {
      ts = static_cast<float *>(std::malloc(sel_cap * sizeof(float)));
      tj = static_cast<int32_t *>(std::malloc(sel_cap * sizeof(int32_t)));
      selecting = ts && tj ? 1 : -1;
    }
    return selecting > 0;
  }
  ~ThreadScratch() {
    std::free(task);
    std::free(tile);
    std::free(ts);
    std::free(tj);
  }
};

} // namespace

msa_status_t run_batch(const msa_indexer_tensors_t &t,
                       const msa_indexer_attrs_t &a, const Plan &plan) {
  const int64_t H = a.num_index_heads, D = a.idx_head_dim, bs = a.block_size;
  const ScoreFn score_narrow_fn =
      t.k_type == MSA_KEY_F8E4M3FN ? plan.narrow_e4m3.fn : plan.narrow.fn;
  const ScoreFn score_wide_fn = plan.wide.fn;
  const int nthreads = std::max(1, omp_get_max_threads());

  std::vector<Unit> units;
  std::vector<Split> splits;
  int64_t tile_nblk = 0, split_scores = 0, split_blocks = 0, sel_cap = 1;
  int64_t max_task_nq = 0;
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
    max_task_nq = std::max(max_task_nq, std::min(nq, kMaxTileQueries));
    if (nq <= kMaxTileQueries) {
      splits.push_back({b, nq, nblk, split_scores});
      split_scores = add_sat(split_scores, mul_sat(nq, nblk));
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
  if (units.empty() && splits.empty())
    return MSA_STATUS_OK; // no queries: nothing to score, nothing to write
  // Sizes first, each against the bound; then allocate.
  const int64_t task_bytes = scratch_bytes(max_task_nq, D);
  if (task_bytes < 0 || task_bytes > MSA_CPU_SCRATCH_LIMIT_BYTES) {
    char what[128];
    std::snprintf(what, sizeof what,
                  "idx_head_dim = %d (tasks of up to %lld queries)",
                  a.idx_head_dim, (long long)max_task_nq);
    return too_big(what, task_bytes < 0 ? INT64_MAX : task_bytes);
  }
  const int64_t tile_bytes = mul_sat(kMaxTileQueries * 4, tile_nblk);
  if (tile_bytes > MSA_CPU_SCRATCH_LIMIT_BYTES)
    return too_big("the score rows of a prefill tile", tile_bytes);
  const int64_t shared_bytes = mul_sat(split_scores, 4);
  if (shared_bytes > MSA_CPU_SCRATCH_LIMIT_BYTES)
    return too_big("the score matrix of the short (decode) sequences",
                   shared_bytes);
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
    shared_scores = static_cast<float *>(std::malloc((size_t)shared_bytes));
    if (!shared_scores)
      return msa_set_last_error(MSA_STATUS_OUT_OF_MEMORY,
                                "cannot allocate %lld bytes of scores",
                                (long long)shared_bytes);
  }
  const size_t scratch_sz = (size_t)task_bytes;
  const size_t tile_sz = (size_t)tile_bytes;
  const int64_t nunits = (int64_t)units.size();
  std::atomic<bool> oom{false};
  std::atomic<int64_t> next_unit{0};
  const bool parallel = total_cost * (double)D > 2.0e5;

  auto select_split = [&](const Split &sp, ThreadScratch &mine) {
    for (int64_t qi = 0; qi < sp.nq; ++qi) {
      const int64_t b = sp.b;
      const int64_t row = (int64_t)t.input_row_offsets[b] + qi / H;
      const int64_t h = qi % H;
      const int64_t nblk = ceil_div((int64_t)t.prefix_lens[b] + 1 + qi / H, bs);
      select_row(shared_scores + sp.sc_off + qi * sp.nblk, nblk, a,
                 t.out + (h * t.rows + row) * a.topk, mine.ts, mine.tj);
    }
  };

  // One participant: the caller or a pool helper (msa_cpu_pool.h).
  auto work = [&](int) {
    ThreadScratch mine;

    // Dynamic schedule by hand (an atomic counter): which thread runs a unit
    // never changes its result, and a participant that joins late finds the
    // units taken.
    for (;;) {
      const int64_t u = next_unit.fetch_add(1);
      if (u >= nunits)
        break;
      if (!mine.for_scoring(scratch_sz, tile_sz, (size_t)sel_cap)) {
        oom.store(true);
        continue;
      }
      void *scratch = mine.task;
      float *tsc = mine.tile;
      const Unit &un = units[u];
      const int64_t b = un.b;
      const int64_t nq_b =
          ((int64_t)t.input_row_offsets[b + 1] - t.input_row_offsets[b]) * H;
      ScoreTask k;
      k.k = t.k_blocks;
      k.key_type = t.k_type;
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
          select_split(sp, mine);
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
                     t.out + (h * t.rows + row) * a.topk, mine.ts, mine.tj);
        }
      }
    }

  };
  pool_run(parallel ? nthreads : 1, work);
  std::free(shared_scores);
  if (oom.load())
    return msa_set_last_error(MSA_STATUS_OUT_OF_MEMORY,
                              "cannot allocate %lld bytes of per-thread "
                              "scratch",
                              (long long)(task_bytes + tile_bytes));
  return MSA_STATUS_OK;
}

} // namespace msa_cpu
