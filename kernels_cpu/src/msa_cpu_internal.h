// msa_cpu_internal.h - what the CPU kernel's driver (msa_cpu_entry.cpp) and
// its scoring back ends (msa_cpu_amx.cpp, msa_cpu_bf16.cpp, msa_cpu_hwy.cpp)
// share.
//
// The driver cuts the work into tasks; a back end scores one task: for up to
// kMaxTileQueries queries of one sequence (consecutive in the flattened
// (row, head) order of q) and a range of blocks, it writes every block's
// score (max over the block's visible keys of scale * dot, NaN skipped, -inf
// when none) into a score matrix. Determinism contract for every back end: a
// (query, key) dot product and a block's max are computed by the same
// instruction sequence whatever the task's other queries, its block range,
// its thread and the lane a query lands in, so the scores (and the ids) do
// not depend on the thread count or on the rest of the batch. The one
// per-sequence choice a back end may make (the bf16 back end's "narrow"
// kernel for sequences with fewer than kNarrowQueries queries) depends only
// on that sequence.
#ifndef MSA_CPU_INTERNAL_H
#define MSA_CPU_INTERNAL_H

#include <cstddef>
#include <cstdint>

namespace msa_cpu {

constexpr int64_t kMaxTileQueries = 64;
constexpr int64_t kNarrowQueries = 16;

struct ScoreTask {
  // Keys of the sequence: key position p of logical page P = p / bs lives at
  // k + lut[P] * page_stride + layer_off + (p % bs) * D.
  const uint16_t *k;
  int64_t page_stride; // num_layers * page_size * D
  int64_t layer_off;   // layer_idx * page_size * D
  const uint32_t *lut; // the sequence's row of k_lookup_table
  int64_t bs;          // block_size == page_size
  int64_t D;
  int64_t H;
  // Queries: q points at the first query's D values; query i (0 <= i < nq)
  // is q + i * D and sees keys [0, nbase + (qfirst + i) / H).
  const uint16_t *q;
  int64_t nq;
  int64_t qfirst; // index of the first query within the sequence
  int64_t nbase;  // prefix_len + 1
  bool narrow;    // the sequence has fewer than kNarrowQueries queries
  // Blocks [j0, j1); the score of query i, block j goes to
  // scores[i * ld + (j - jbase)].
  int64_t j0, j1;
  float scale;
  float *scores;
  int64_t ld, jbase;
};

// Bytes of per-thread scratch a back end may use for one task.
inline size_t scratch_bytes(int64_t D) {
  return (size_t)(D + 64) * (size_t)kMaxTileQueries * 4 * 4 + 65536;
}

typedef void (*ScoreFn)(const ScoreTask &task, void *scratch);

// The AVX512-BF16 back end (msa_cpu_bf16.cpp); bf16_supported() checks the
// CPU (cpuid, OS state) at run time.
bool bf16_supported();
void score_bf16(const ScoreTask &task, void *scratch);

// The AMX back end (msa_cpu_amx.cpp): TDPBF16PS tiles. amx_supported()
// checks the CPU and asks Linux for the tile state once per process.
bool amx_supported();
void score_amx(const ScoreTask &task, void *scratch);

// The Highway back end (msa_cpu_hwy.cpp), dynamic dispatch.
void score_hwy(const ScoreTask &task, void *scratch);
// Highway target restriction for tests: 0 = all, else a HWY_* target mask.
bool hwy_restrict(int64_t targets_mask);
const char *hwy_target_name();
int64_t hwy_target_mask(int which); // 0 AVX2, 1 AVX3, 2 EMU128

// What MSA_CPU_PATH_AUTO runs (msa_cpu_auto_rule.cpp): the back end for a
// sequence with fewer than kNarrowQueries queries (narrow) or more, and the
// name msa_cpu_path_name() reports for AUTO.
ScoreFn auto_score_fn(bool narrow);
const char *auto_path_name();

// Visible keys of query i of a task within block j, relative to the block
// start, clamped to [0, bs]. Lanes past nq get 0.
inline int32_t rel_limit(const ScoreTask &t, int64_t i, int64_t j) {
  if (i >= t.nq)
    return 0;
  const int64_t n = t.nbase + (t.qfirst + i) / t.H;
  int64_t r = n - j * t.bs;
  if (r < 0)
    r = 0;
  if (r > t.bs)
    r = t.bs;
  return (int32_t)r;
}

// Keys of the task's last query (the most any of its queries sees).
inline int64_t max_keys(const ScoreTask &t) {
  return t.nbase + (t.qfirst + t.nq - 1) / t.H;
}

inline const uint16_t *page_keys(const ScoreTask &t, int64_t j) {
  return t.k + (int64_t)t.lut[j] * t.page_stride + t.layer_off;
}

} // namespace msa_cpu

#endif // MSA_CPU_INTERNAL_H
