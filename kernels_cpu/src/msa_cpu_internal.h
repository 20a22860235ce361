// msa_cpu_internal.h - what the CPU kernel's parts share:
//   msa_cpu_entry.cpp     the C ABI entries (plain and _mlir_ciface_)
//   msa_cpu_paths.cpp     the back-end table, the path selector, AUTO
//   msa_cpu_schedule.cpp  units of work, scratch, the OpenMP loop
//   msa_cpu_select.cpp    top-k selection of one (head, row)
//   msa_cpu_amx.cpp, msa_cpu_bf16.cpp, msa_cpu_hwy.cpp  the scoring kernels
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
//
// Key types: k_blocks holds bf16 or f8E4M3FN (e4m3) keys. Every e4m3 value is
// exact in bf16, so each back end turns e4m3 bytes into the bf16 of the same
// value (e4m3_rows_to_bf16 / the Highway helper behind it) and then runs the
// same instructions as for bf16 keys: a case whose keys are stored as e4m3
// scores exactly like the same keys stored as bf16, on every path.
#ifndef MSA_CPU_INTERNAL_H
#define MSA_CPU_INTERNAL_H

#include "msa/msa_kernels.h"

#include <cstddef>
#include <cstdint>

namespace msa_cpu {

constexpr int64_t kMaxTileQueries = 64;
constexpr int64_t kNarrowQueries = 16;

struct ScoreTask {
  // Keys of the sequence: key position p of logical page P = p / bs is the
  // element lut[P] * page_stride + layer_off + (p % bs) * D of k, whose
  // elements are bf16 (uint16_t) or e4m3 bytes as key_type says.
  const void *k;
  int32_t key_type; // msa_key_type_t
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

// Bytes of per-thread scratch any back end may use for a task of up to nq
// queries of D values (nq <= kMaxTileQueries); 64-byte aligned. With lanes =
// nq rounded up to 16 and Dp = D rounded up to 32, the kernels use at most:
//   Highway: q as f32 [lanes][D], kKeyChunk = 32 keys as f32 [32][D], and
//            2 * lanes floats of block state;
//            e4m3 keys: plus 32 key rows as bf16 (64 * D bytes, decode)
//            or one (2 * D bytes, prefill); AVX2 decode of e4m3 keys: no
//            key rows, q twice (each half of a chunk in both 128-bit blocks);
//   bf16:    q pairs [lanes][D/2] u32 (wide), or q [nq][Dp] bf16 (narrow);
//            e4m3 keys: plus 16 key rows as bf16 [16][Dp] (32 * Dp bytes);
//   AMX:     q pairs [lanes][Dp/2] u32, 8 KiB of tiles and 4 padded key
//            groups [64][Dp] bf16 = 32 * Dp * 4 bytes.
// So 4 * (lanes + 32) * Dp bytes plus 64 KiB (block state, tiles) bound all;
// we allocate 4 * (lanes + 64) * (Dp + 64) + 64 KiB, with slack. Returns -1
// when the size does not fit in int64.
inline int64_t scratch_bytes(int64_t nq, int64_t D) {
  const int64_t lanes = (nq + 15) / 16 * 16;
  const int64_t Dp = (D + 31) / 32 * 32;
  int64_t b = 0;
  if (__builtin_mul_overflow(4 * (lanes + 64), Dp + 64, &b) ||
      __builtin_add_overflow(b, int64_t(65536), &b))
    return -1;
  return (b + 63) / 64 * 64;
}

typedef void (*ScoreFn)(const ScoreTask &task, void *scratch);

// A scoring kernel and the name msa_cpu_path_name shows for it.
struct Kernel {
  ScoreFn fn;
  const char *name;
};

// What one call runs: `narrow` for sequences with fewer than kNarrowQueries
// queries (decode; `narrow_e4m3` when the index-K is f8E4M3FN), `wide` for
// the others. Resolved once per process for each path (msa_cpu_paths.cpp);
// a call reads the selected path once.
struct Plan {
  Kernel narrow, narrow_e4m3, wide;
  char name[128]; // msa_cpu_path_name()
};

// The plan of the path selected now (msa_cpu_set_path; AUTO by default).
const Plan &current_plan();

// Runs a validated batch with `plan` (msa_cpu_schedule.cpp).
msa_status_t run_batch(const msa_indexer_tensors_t &t,
                       const msa_indexer_attrs_t &a, const Plan &plan);

// Writes the topk ids of one (head, row) from its block scores sc[0, nblk)
// (msa_cpu_select.cpp). ts/tj: scratch of >= min(topk, nblk) entries.
void select_row(const float *sc, int64_t nblk, const msa_indexer_attrs_t &a,
                int32_t *out, float *ts, int32_t *tj);

// The AVX512-BF16 back end (msa_cpu_bf16.cpp); bf16_supported() checks the
// CPU (cpuid, OS state) at run time.
bool bf16_supported();
void score_bf16(const ScoreTask &task, void *scratch);

// The AMX back end (msa_cpu_amx.cpp): TDPBF16PS tiles. amx_supported()
// checks the CPU and asks Linux for the tile state once per process.
bool amx_supported();
void score_amx(const ScoreTask &task, void *scratch);

// The Highway back end (msa_cpu_hwy.cpp): one kernel per compiled target,
// chosen by us rather than by Highway's process-wide dispatch state.
// hwy_kernel: the best target this CPU supports that is no better than the
// best target in `targets` (a mask of HWY_* bits; 0 = any), into *k; false
// when the CPU supports none of `targets`.
bool hwy_kernel(int64_t targets, Kernel *k);
int64_t hwy_target_mask(int which); // 0 AVX2, 1 AVX3, 2 EMU128

// e4m3 -> bf16, exact (bytes 0x7F / 0xFF give the bf16 NaN 0x7FF0 /
// 0xFFF0): nrows rows of D bytes, contiguous from src, into rows of ld >= D
// bf16 at dst, each row's [D, ld) zeroed; nothing read or written past
// them. The AVX-512 back ends fill their key buffers with it. No
// floating-point arithmetic (byte table lookups), so MXCSR's DAZ/FTZ cannot
// change it. Two implementations with the same bits for every byte:
// AVX512-VBMI lookups where the CPU has them (msa_cpu_e4m3_vbmi.cpp), else
// Highway's best target (msa_cpu_hwy.cpp); e4m3_rows_to_bf16 takes the
// first this CPU runs.
void e4m3_rows_to_bf16(const uint8_t *src, int64_t nrows, int64_t D,
                       uint16_t *dst, int64_t ld);
void e4m3_rows_to_bf16_highway(const uint8_t *src, int64_t nrows, int64_t D,
                               uint16_t *dst, int64_t ld);
bool e4m3_vbmi_supported();
void e4m3_rows_to_bf16_vbmi(const uint8_t *src, int64_t nrows, int64_t D,
                            uint16_t *dst, int64_t ld); // e4m3_vbmi_supported() only

// What MSA_CPU_PATH_AUTO runs on this CPU (msa_cpu_auto_rule.cpp): the
// narrow (decode, per key type) and wide (prefill) kernels and the name
// msa_cpu_path_name() reports.
void auto_plan(Plan *p);

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

inline bool keys_e4m3(const ScoreTask &t) {
  return t.key_type == MSA_KEY_F8E4M3FN;
}
// Bytes of one key element.
inline int64_t key_bytes(const ScoreTask &t) { return keys_e4m3(t) ? 1 : 2; }

// The first key of block j (its page, the task's layer) as raw bytes, and
// typed for each key type.
inline const unsigned char *page_bytes(const ScoreTask &t, int64_t j) {
  return static_cast<const unsigned char *>(t.k) +
         ((int64_t)t.lut[j] * t.page_stride + t.layer_off) * key_bytes(t);
}
inline const uint16_t *page_keys(const ScoreTask &t, int64_t j) {
  return reinterpret_cast<const uint16_t *>(page_bytes(t, j));
}
inline const uint8_t *page_keys_e4m3(const ScoreTask &t, int64_t j) {
  return page_bytes(t, j);
}

// Software prefetch of a byte range (the next block's page part) into L2,
// spread a few lines at a time over the current block's work: a burst of
// hundreds of prefetches would fill the line-fill buffers and hold the
// arithmetic behind them (the AMX and AVX512-BF16 decode loops).
struct Prefetcher {
  const char *p;
  int64_t o, end, per; // next offset, end, lines per some()
  void some() {
    for (int64_t i = 0; i < per && o < end; ++i, o += 64)
      __builtin_prefetch(p + o, 0, 2); // prefetcht1
  }
  void rest() {
    for (; o < end; o += 64)
      __builtin_prefetch(p + o, 0, 2);
  }
};

} // namespace msa_cpu

#endif // MSA_CPU_INTERNAL_H
