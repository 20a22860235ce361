// decode.cu - block scores and selection of the decode sequences (1 to
// kDecRows new rows each), at the memory-bandwidth limit.
//
// Work items: batch x splits, item (b, split) a range of `spc` stages of
// sequence b; a stage is 128 consecutive key positions (128 / bs whole pages
// for block sizes 16/32/64, one 128-key part of a page for multiples of
// 128). CTAs of 5 warps take items persistently. Per item, the producer
// warp's lane 0 streams the stages with the copy engine (cp.async.bulk: one
// contiguous copy per page part, no registers, no address arithmetic per
// byte) into a kDecStages-deep ring in shared memory, each slot with a full
// mbarrier (its copies landed) and an empty one (the consumers read it); it
// checks every page id before it copies, so no metadata value can make it
// read outside k_blocks. A dedicated producer keeps the copy issue work off
// the scoring warps, which meet once per stage at a barrier of their own
// (the earlier kernel issued from thread 0, and every stage waited for warp
// 0's issue work). The 4 consumer warps score 32 keys each per
// stage on mma.sync m16n8k16: the keys are the M side (16 per instruction), the (row, head) columns of
// the sequence the N side (8 per n-tile, NT n-tiles per pass, more passes
// for more than 8 * NT columns), so every index-K byte is read once from
// memory for all heads and all new rows. The contraction index is permuted
// the same way for keys and queries (lane t4 takes d in [64j + 16t4, +16)
// as its chunks 2j and 2j + 1), which lets each lane load its key fragments
// with 16-byte shared loads for both key types.
//
// f8E4M3FN keys (KB = 1 byte per element): the same stages hold 128 keys in
// half the bytes, so the ring is twice as deep at the same 2 CTAs per SM.
// Where a warp's query columns scale exactly into f16 (fp8.cuh), the keys
// go to f16 MMAs through the hardware's two-byte conversion and each score
// is rescaled once, exactly; otherwise each lane converts its 16 key bytes
// into the two bf16 chunks a bf16 key would have given. Either way the
// scores and ids are those of the same keys stored as bf16. A key with a
// NaN byte is skipped as a whole (its dot is NaN whatever q is): found on
// the raw bytes for bf16 MMAs, a NaN dot for f16 ones. With one
// n-tile (up to 8 columns) the fp8 consumers take the stages two at a time
// (a round: both slots' MMA chains interleaved, one named barrier, four
// partials buffers), since they are latency-bound, not issue-bound (H200:
// fp8 B=64 x 32768 97 -> 86 us); each stage's instructions per accumulator
// are unchanged, so the scores are too.
//
// Block maxima go through a small shared buffer (blocks wider than a warp's
// 32 keys) to the workspace's score rows. One cooperative launch: the grid
// (at most the co-resident CTAs) walks the work items (sequence, share of
// its stages) persistently, then meets at one grid barrier, after which the
// warps of sequence b's items select its (row, head) rows from the scores
// (select.cuh). Nothing in the workspace needs a reset. A decode-only call
// launches no prep kernel: each item checks what it reads (offsets,
// lengths, bounds, its page ids) before reading anything it points to, and
// the sequence's rules are checked by the item of its first share; each CTA
// writes the smallest failing sequence it saw, and after the barrier every
// CTA knows the verdict: on an error every CTA fills out with -1 and CTA 0
// writes the error record (the same record the prep kernel writes). In a
// mixed call the prep kernel ran before and its record decides.
//
// Each block's score is computed by one fixed set of warps with a fixed
// instruction sequence (stages are aligned to 128 keys whatever the split),
// so scores and ids do not depend on the grid, the split or the batch.
#include "checks.cuh"
#include "fp8.cuh"
#include "select.cuh"
#include "pdl_launch.h"

#include <cooperative_groups.h>

#include <atomic>
#include <type_traits>

namespace msa_cuda {

// 4 consumer warps x 32 keys = one stage, and one producer warp that issues
// the copies (so that no scoring warp waits for copy issue work).
constexpr int kConsumerThreads = 128;
constexpr int kDecThreads = kConsumerThreads + 32;
constexpr int kProducerWarp = kConsumerThreads / 32;
constexpr int kStageKeys = 128;
constexpr int kMaxCols = kDecRows * 8;  // decode serves H <= 8

// The workspace's score row of head h of row r of sequence b (which starts
// at row seq_begin): its call row, or b * kDecRows + r when the workspace
// holds score rows for the decode sequences only (Layout).
__device__ __forceinline__ float *score_row(const KParams &p, int64_t b, int64_t seq_begin,
                                            int r, int h) {
  const int64_t slot = p.lay.score_rows < p.rows ? b * kDecRows + r : seq_begin + r;
  return p.scores + ((size_t)h * p.lay.score_rows + slot) * p.lay.nblk_cap;
}

// Stages per consumer round (one named barrier each, decode_kernel): 2 for
// f8E4M3FN keys with 1 n-tile (up to 8 columns), else 1 (bf16; more n-tiles
// leave no registers for two stages' fragments).
constexpr int dec_round(int KB, int NT) { return KB == 1 && NT == 1 ? 2 : 1; }

// The page ids of an item's stages are loaded before its first copy, all at
// once by the producer warp's 32 lanes into a shared window, when its stages
// fit (blocks of >= 128 keys: one page per stage; at most kIdWindow stages),
// so that the copy loop never waits for a lookup-table round trip; other
// items load them kIdAhead stages ahead (produce_item). H200, same run
// (docs/PERFORMANCE.md, 2026-12-04): bf16 B=1 x 8192 6.71 -> 6.48 us, B=16
// 15.9 -> 15.3; fp8 B=1 6.96 -> 6.56, B=64 x 32768 79.7 -> 78.2.
constexpr int kIdWindow = 64;
constexpr int kIdAhead = 4;

// KB: bytes per key element (2: bf16, 1: f8E4M3FN); R: stages per round.
template <int D, int KB, int R = 1>
struct DecSmem {
  // Ring depth (stages in flight per CTA): as many as the SM's shared
  // memory holds at 2 CTAs per SM (bf16 3 x 32 KB, f8E4M3FN 6 x 16 KB).
  static constexpr int kStages = KB == 1 ? 6 : 3;
  static constexpr int kStageBytes = kStageKeys * D * KB;
  static constexpr int kRingOff = 0;
  // partial maxima [kPartBufs buffers][4 warps][2 halves][kMaxCols]: 2 for
  // rounds of one stage (alternating), 4 for rounds of two (buffer = stage
  // count mod 4, so that two consecutive rounds never share one)
  static constexpr int kPartBufs = 2 * R;
  static constexpr int kPartOff = kRingOff + kStages * kStageBytes;
  static constexpr int kPartBytes = kPartBufs * 4 * 2 * kMaxCols * 4;
  // mbarriers: full[kStages] (copies landed), then empty[kStages] (slot read)
  static constexpr int kBarOff = kPartOff + kPartBytes;
  // rounds of two: the CTA's last item (LastItem), kept here rather than in
  // registers across the stages
  static constexpr int kLastOff = kBarOff + 2 * kStages * 8;
  static constexpr int kLastBytes = R == 2 ? 48 : 0;
  static constexpr int kBytes = kLastOff + kLastBytes;
  // 2 CTAs per SM (sm_90: 228 KB per SM, 1 KB reserved per CTA, and the
  // kernel's static shared memory: 128 bytes and the page-id window)
  static_assert(2 * (kBytes + 1024 + 128 + 4 * kIdWindow) <= 228 * 1024, "2 CTAs per SM");
};

// The metadata of a CTA's last item, for the selection after the grid
// barrier (f8E4M3FN rounds: written by thread 0, read after a CTA barrier).
struct LastItem {
  int64_t b, begin, newt, prefix;
  int32_t split, read_ahead;
};

// Page ids and copy sizes of one stage (up to 8 pages for block size 16).
struct StageCopies {
  uint32_t id[8];
  int n;        // pages the stage needs (0: the stage is past the sequence)
  uint32_t bytes;  // bytes of the pages with a valid id
  bool bad;        // a needed page id is out of range
};

// The page ids of a stage are loaded whenever they lie inside the lookup
// table (pg < max_pages, known before the sequence's metadata arrives), so
// these loads overlap the offsets/prefix loads; `n` (pages the sequence
// needs) and `bytes` (valid ids only) are settled by stage_settle.
// The stage's first logical page and its number of pages (a stage lies in
// one page for block sizes >= 128).
// Block sizes are 16, 32, 64 or multiples of 128 here: no division but for
// blocks above 128 keys (nvcc's 64-bit division, even on its 32-bit fast
// path, is a chain of about twenty dependent instructions, and these run on
// the way to the first copy).
__device__ __forceinline__ int64_t stage_first_page(const KParams &p, int64_t stage,
                                                    int *pps) {
  if (p.bs < kStageKeys) {
    *pps = kStageKeys >> (__ffs(p.bs) - 1);  // 128 / bs
    return stage * *pps;
  }
  *pps = 1;
  const int spb = p.bs / kStageKeys;  // stages per block (32-bit)
  return spb == 1 ? stage : stage / spb;
}
__device__ __forceinline__ void stage_pages(const KParams &p, const uint32_t *lut,
                                            int64_t stage, StageCopies &c) {
  int pps;
  const int64_t pg0 = stage_first_page(p, stage, &pps);
#pragma unroll
  for (int i = 0; i < 8; ++i)
    c.id[i] = (i < pps && pg0 + i < p.max_pages) ? lut[pg0 + i] : 0xFFFFFFFFu;
}
// (nkeys: the sequence's keys; page pg is needed when pg * page_size < nkeys)
template <int D, int KB>
__device__ __forceinline__ void stage_settle(const KParams &p, int64_t stage,
                                             int64_t nkeys, StageCopies &c) {
  int pps;
  const int64_t pg0 = stage_first_page(p, stage, &pps);
  if (p.bs >= kStageKeys) {  // one page part (the loop below, for pps = 1)
    c.n = pg0 * p.page_size < nkeys ? 1 : 0;
    c.bad = c.n == 1 && c.id[0] >= (uint64_t)p.num_pages;
    c.bytes = c.n == 1 && !c.bad ? kStageKeys * D * KB : 0u;
    return;
  }
  const uint32_t page_bytes = (uint32_t)p.bs * D * KB;
  c.n = 0;
  c.bytes = 0;
  c.bad = false;
#pragma unroll
  for (int i = 0; i < 8; ++i)
    if (i < pps && (pg0 + i) * p.page_size < nkeys) {
      c.n = i + 1;
      if (c.id[i] < (uint64_t)p.num_pages) c.bytes += page_bytes;
      else c.bad = true;
    }
}

// The producer: the copies of one stage into ring slot `dst`, completing on `bar`.
// A page whose id is out of range is not copied (the call reports it, the
// prep kernel or the decode kernel's own checks, and every CTA then writes
// -1), so nothing outside k_blocks is read.
template <int D, int KB>
__device__ __forceinline__ void stage_issue(const KParams &p, const StageCopies &c,
                                            int64_t stage, uint32_t dst, uint32_t bar) {
#ifdef MSA_HAVE_SM90
  mbar_expect_tx(bar, c.bytes);
  const size_t page_bytes = (size_t)p.num_layers * p.page_size * D * KB;
  const unsigned char *kl =
      (KB == 2 ? reinterpret_cast<const unsigned char *>(p.k) : p.k8) +
      (size_t)p.layer * p.page_size * D * KB;
  if (p.bs >= kStageKeys) {
    if (c.n == 1 && c.id[0] < (uint64_t)p.num_pages) {
      const int spb = p.bs / kStageKeys;
      const int64_t slot0 = spb == 1 ? 0 : stage % spb * kStageKeys;
      bulk_load(dst, kl + (size_t)c.id[0] * page_bytes + (size_t)slot0 * D * KB,
                kStageKeys * D * KB, bar);
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < 8; ++i)
    if (i < c.n && c.id[i] < (uint64_t)p.num_pages)
      bulk_load(dst + (uint32_t)(i * p.bs * D * KB), kl + (size_t)c.id[i] * page_bytes,
                (uint32_t)p.bs * D * KB, bar);
#endif
}

// A lane's key fragments of one key row: chunks 2j and 2j + 1 are the
// elements [64j + 16t4, +16) (see the file comment), as bf16; for fp8 keys
// also whether the row has a NaN byte in them (nonzero: yes).
template <int D, int KB, bool F16 = false>
__device__ __forceinline__ uint32_t load_key_row(const unsigned char *row, int t4,
                                                 uint4 (&a)[D / 32]) {
  static_assert(KB == 1 || !F16, "f16 operands for e4m3 keys only");
  uint32_t nan = 0;
#pragma unroll
  for (int j = 0; j < D / 64; ++j) {
    if constexpr (KB == 2) {
      const uint4 *r = reinterpret_cast<const uint4 *>(row) + 8 * j + 2 * t4;
      a[2 * j] = r[0];
      a[2 * j + 1] = r[1];
    } else {
      const uint4 v = *(reinterpret_cast<const uint4 *>(row) + 4 * j + t4);
      a[2 * j] = e4m3x8_to_mma<F16>(make_uint2(v.x, v.y));
      a[2 * j + 1] = e4m3x8_to_mma<F16>(make_uint2(v.z, v.w));
      if constexpr (!F16)  // (f16: the NaN bytes convert to NaN)
        nan |= e4m3_nan_bytes(v.x) | e4m3_nan_bytes(v.y) | e4m3_nan_bytes(v.z) |
               e4m3_nan_bytes(v.w);
    }
  }
  return nan;
}

// The producer (lane 0 of the producer warp): the copies of one item's
// `nst` stages, each into the next ring slot once the consumers released it
// (empty barrier), completing on the slot's full barrier. `issued` counts
// the CTA's stages across items (slot and barrier phases), as the
// consumers' `consumed` does. One stage, its page ids in `c`:
template <int D, int KB>
__device__ __forceinline__ void produce_stage(const KParams &p, StageCopies &c, int64_t stage,
                                              int64_t nkeys, int64_t b, uint32_t issued,
                                              long long &bad_min, uint32_t ring, uint32_t full,
                                              uint32_t empty) {
  using S = DecSmem<D, KB>;  // (kStages, kStageBytes: the same for every round size)
  stage_settle<D, KB>(p, stage, nkeys, c);
  if (p.dec_own_checks && c.bad) bad_min = min(bad_min, (long long)b);
  const uint32_t slot = issued % S::kStages, use = issued / S::kStages;
  if (use > 0) mbar_wait(empty + 8 * slot, (use - 1) & 1u);
  stage_issue<D, KB>(p, c, stage, ring + slot * S::kStageBytes, full + 8 * slot);
}
// The item's stages with their page ids loaded kIdAhead stages before they
// are settled (under a full memory load a lookup-table round trip takes
// about as long as a bf16 stage); `ids` holds the first ones, loaded by the
// caller together with the item's metadata.
template <int D, int KB>
__device__ __forceinline__ void produce_item(const KParams &p, const uint32_t *lut,
                                             int64_t s_begin, int nst, int64_t nkeys,
                                             int64_t b, StageCopies (&ids)[kIdAhead],
                                             uint32_t &issued, long long &bad_min,
                                             uint32_t ring, uint32_t full, uint32_t empty) {
  for (int t = 0; t < nst; ++t, ++issued) {
    StageCopies c = ids[0];
#pragma unroll
    for (int i = 0; i + 1 < kIdAhead; ++i) ids[i] = ids[i + 1];
    if (t + kIdAhead < nst) stage_pages(p, lut, s_begin + t + kIdAhead, ids[kIdAhead - 1]);
    produce_stage<D, KB>(p, c, s_begin + t, nkeys, b, issued, bad_min, ring, full, empty);
  }
}
// The same with the item's page ids in a shared window (one page per stage).
template <int D, int KB>
__device__ __forceinline__ void produce_item_windowed(const KParams &p, const uint32_t *window,
                                                      int64_t s_begin, int nst, int64_t nkeys,
                                                      int64_t b, uint32_t &issued,
                                                      long long &bad_min, uint32_t ring,
                                                      uint32_t full, uint32_t empty) {
  for (int t = 0; t < nst; ++t, ++issued) {
    StageCopies c;
    c.id[0] = window[t];
    produce_stage<D, KB>(p, c, s_begin + t, nkeys, b, issued, bad_min, ring, full, empty);
  }
}

// The end of a stage's scoring in each consumer warp, for NS stages at
// once (mx[i][s][nt][e]: stage i, 16-key slice s, the lane's columns): the
// two slices are one block unless bs == 16; the max over the 8 key rows of
// each lane group; lane group 0 writes the warp's partial maxima of its
// columns n = c0 + 8 nt + 2 t4 + e (n < C) into pt[i] (the shuffles of
// the NS stages interleaved).
template <int NS, int NT>
__device__ __forceinline__ void stage_maxima_to_partials(float (&mx)[NS][2][NT][2],
                                                         float *const (&pt)[NS], int bs,
                                                         int warp, int g, int t4, int c0,
                                                         int C) {
  if (bs != 16) {
#pragma unroll
    for (int i = 0; i < NS; ++i)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) mx[i][0][nt][e] = fmaxf(mx[i][0][nt][e], mx[i][1][nt][e]);
  }
#pragma unroll
  for (int u = 0; u < 2; ++u)
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        if (u == 1 && bs != 16) continue;
        float v[NS];
#pragma unroll
        for (int i = 0; i < NS; ++i) v[i] = mx[i][u][nt][e];
#pragma unroll
        for (int m = 4; m <= 16; m *= 2)
#pragma unroll
          for (int i = 0; i < NS; ++i) v[i] = fmaxf(v[i], __shfl_xor_sync(0xffffffffu, v[i], m));
        const int n = c0 + nt * 8 + t4 * 2 + e;
#pragma unroll
        for (int i = 0; i < NS; ++i)
          if (g == 0 && n < C) pt[i][(warp * 2 + u) * kMaxCols + n] = v[i];
      }
}

// Whether a sequence's rows are selected one per item by the 4 scoring warps
// together (each counts the ranks over 8 of the 32 source lanes of
// rank64_count; the partial ranks are summed in shared memory) instead of
// one warp per row: when every row fits in 64 blocks (the last row sees all
// P + newt keys) and there are no more rows than items. A decode step with
// few sequences waits for its rows' selection; four warps take about half
// the time of one (H200: 0.72 against 1.44 us per row; the sum, two named
// barriers and warp 0's output are not split).
constexpr int kRankWarps = kConsumerThreads / 32;

// Row pr = r * H + h of sequence b, which starts at row seq_begin after P
// prefix keys: its score row, its output row and its block count.
struct DecodeRow {
  const float *sc;
  int32_t *out;
  int nblk;
};
// (H = p.heads and bs = p.bs, passed as the caller's registers)
__device__ __forceinline__ DecodeRow decode_row(const KParams &p, int64_t b, int64_t seq_begin,
                                                int64_t P, int pr, int H, int bs) {
  const int r = pr / H, h = pr - r * H;
  const int64_t row = seq_begin + r;
  return {score_row(p, b, seq_begin, r, h),
          p.out + ((size_t)h * p.rows + row) * p.topk, (int)((P + r + 1 + bs - 1) / bs)};
}
__device__ __forceinline__ bool rows_shared_by_warps(int C, int64_t keys, int bs, int splits) {
  return C <= splits && keys <= 64 * (int64_t)bs;
}
// The rows of such sequences in the NPL 32 kernels (a workspace for 257 to
// 1024 blocks), with topk <= 32: the 4 scoring warps select one row together,
// a quarter each (select_row_split4); one warp took 6.5 us for a 1024-block
// row (H200, B=8 x 131072), the call's largest step after the streaming. Not
// in the NPL 8 kernels: there one warp's rounds (select_row_s8) are as many
// as a quarter's, and the read-ahead would be lost.
__device__ __forceinline__ bool rows_split_by_warps(int C, int64_t keys, int bs, int splits,
                                                    int topk, int npl) {
  return npl == 32 && C <= splits && topk <= kSplitMaxTopk && keys <= 32 * (int64_t)npl * bs;
}

template <int D, int NT, int NPL, int KB>
// 2 CTAs per SM for both key types (shared memory: the rings above).
__global__ void __launch_bounds__(kDecThreads, 2) decode_kernel(KParams p) {
#ifdef MSA_HAVE_SM90
  extern __shared__ __align__(128) unsigned char smem[];
  // stages per consumer round (dec_round)
  constexpr int kRound = dec_round(KB, NT);
  using S = DecSmem<D, KB, kRound>;
  constexpr int kDecStages = S::kStages;
  constexpr int CH = D / 32;       // 16-byte chunks per lane per key row
  constexpr int GC = NT * 8;       // columns per pass
  static_assert(kRound == 1 || (kDecStages >= 2 && S::kPartBufs >= 4),
                "a round holds two ring slots and two partials buffers at once");
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, t4 = lane & 3;
  const uint32_t ring = smem_u32(smem + S::kRingOff);
  float *part = reinterpret_cast<float *>(smem + S::kPartOff);
  const uint32_t bars = smem_u32(smem + S::kBarOff);           // full barriers
  const uint32_t empty = bars + 8 * kDecStages;                 // empty barriers
  const int H = p.heads, bs = p.bs;
  const int64_t items = p.batch * p.splits;
  const bool own = p.dec_own_checks != 0;
  long long bad_min = LLONG_MAX;  // smallest failing sequence seen (own checks)
  int64_t last_begin = 0, last_newt = 0, last_prefix = 0;  // of the CTA's last item
  int64_t last_b = 0;
  int last_split = 0;
  // f8E4M3FN rounds: last_* and whether the last item reads ahead live in
  // shared memory during the item loop (registers for the stages)
  LastItem *stash = nullptr;
  if constexpr (kRound == 2) {
    stash = reinterpret_cast<LastItem *>(smem + S::kLastOff);
    if (tid == 0) stash->read_ahead = 0;  // (a CTA without items)
  }
  // The read-ahead row: the warp's first row of the CTA's last item (in the
  // common case of one item per CTA and one row per warp, the only row),
  // found while the item streams (its divisions are off the paths to the
  // first copy and after the grid barrier). Only for rows of <= 256 blocks
  // (NPL 8): 32 scores per lane held across the verdict spill registers.
  const int wpc = kDecThreads / 32;  // warps (columns at a time) per item
  int pre_n = -1;
  DecodeRow pre_row = {nullptr, nullptr, 0};
  auto find_read_ahead_row = [&](int64_t b, int64_t seq_begin, int64_t P, int64_t newt,
                                 int split) {
    const int C = (int)newt * H;
    const int n = !rows_shared_by_warps(C, P + newt, bs, p.splits)
                      ? split * wpc + warp
                      : (warp < kRankWarps ? split : C);
    if (n < C) {
      pre_n = n;
      pre_row = decode_row(p, b, seq_begin, P, n, H, bs);
    }
  };
  // stages consumed / issued by this CTA (ring slots and mbarrier phases;
  // 32 bits: a CTA streams far fewer than 2^32 stages)
  uint32_t consumed = 0;
  // (f8E4M3FN rounds: one counter for both, since a thread is either the
  // producer or a consumer; one register fewer across the item loop)
  uint32_t issued_own = 0;
  uint32_t &issued = kRound == 2 ? consumed : issued_own;

  if (tid == 0) {
    for (int i = 0; i < kDecStages; ++i) {
      mbar_init(bars + 8 * i, 1);                           // full: the producer
      mbar_init(empty + 8 * i, kConsumerThreads);           // empty: every consumer thread
    }
    fence_mbarrier_init();
  }
  // Programmatic dependent launch: the kernel may start while the previous
  // one in the stream still runs; it reads nothing in memory before that
  // one's writes are visible, and lets the next kernel start its launch.
  // The first item's sequence needs no memory: found before the wait.
  const int64_t b_first = (int64_t)(blockIdx.x / (uint32_t)p.splits);
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
  __syncthreads();

  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    const int64_t b = item == blockIdx.x ? b_first : item / p.splits;
    const int split = (int)(item - b * p.splits);
    // ---- this item's share of sequence b. The metadata is checked before
    // anything it points to is read; the page ids of the first stages are
    // loaded together with it (they lie in the table whatever it holds).
    const uint32_t *lut = p.lut + b * p.max_pages;
    const int64_t s_begin = (int64_t)split * p.dec_spc;
    // the producer's page ids: the window's two per lane, or the first
    // kIdAhead (lane 0)
    StageCopies ids[kIdAhead];
    __shared__ uint32_t s_window[kIdWindow];
    uint32_t wid[2] = {0, 0};
    const bool windowed = p.bs >= kStageKeys && p.dec_spc <= kIdWindow;
    if (warp == kProducerWarp) {
      if (windowed) {
#pragma unroll
        for (int k = 0; k < 2; ++k) {
          StageCopies w;
          stage_pages(p, lut, s_begin + lane + 32 * k, w);
          wid[k] = w.id[0];
        }
      } else if (lane == 0) {
#pragma unroll
        for (int i = 0; i < kIdAhead; ++i) stage_pages(p, lut, s_begin + i, ids[i]);
      }
    }
    int64_t newt = 0, nkeys = 0;
    const bool broken = sequence_breaks_scalar_rules(p, b, &newt, &nkeys);
    if (own && broken && split == 0) bad_min = min(bad_min, (long long)b);
    const int64_t seq_begin = p.off[b];
    const int64_t P = nkeys - newt;
    if constexpr (kRound == 1) {
      last_begin = seq_begin;
      last_b = b;
      last_split = split;
      last_newt = newt;
      last_prefix = P;
    }
    // memory safety first (mixed calls: prep's verdict decides the output);
    // ceil(nkeys / bs) <= cap as nkeys <= cap * bs: no division on the way
    // to the first copy
    const bool work = newt >= 1 && newt <= p.dec_rows && seq_begin + newt <= p.rows &&
                      nkeys <= p.lay.nblk_cap * bs && nkeys <= p.max_pages * p.page_size &&
                      !(own && broken);
    const bool read_ahead = NPL == 8 && work && item + gridDim.x >= items;
    if constexpr (kRound == 2) {
      if (tid == 0) *stash = LastItem{b, seq_begin, newt, P, split, read_ahead ? 1 : 0};
    }
    const int64_t nstages_seq = work ? (nkeys + kStageKeys - 1) / kStageKeys : 0;
    const int64_t s_end = min(nstages_seq, s_begin + p.dec_spc);
    const int nst = s_end > s_begin ? (int)(s_end - s_begin) : 0;
    if (warp == kProducerWarp) {  // copies only; the other lanes idle
      if (windowed) {
        s_window[lane] = wid[0];
        s_window[lane + 32] = wid[1];
        __syncwarp();
      }
      if (lane == 0 && nst > 0) {
        if (windowed)
          produce_item_windowed<D, KB>(p, s_window, s_begin, nst, nkeys, b, issued, bad_min,
                                       ring, bars, empty);
        else
          produce_item<D, KB>(p, lut, s_begin, nst, nkeys, b, ids, issued, bad_min, ring, bars,
                              empty);
      }
      if (windowed) __syncwarp();  // (lane 0 has read the window: the next item's may follow)
      if (kRound == 1 && read_ahead) find_read_ahead_row(b, seq_begin, P, newt, split);
      continue;
    }

    // ---- the sequence's columns: n = r * H + h
    const int C = work ? (int)newt * H : 0;
    const int passes = (C + GC - 1) / GC;
    uint4 qf[NT][CH];
    int64_t clim[NT][2];  // keys seen by the lane's columns (0: no column)
    // f8E4M3FN keys: whether the pass's columns take the f16 MMA (fp8.cuh;
    // the same answer in every consumer warp, which all hold the same
    // columns), and the multiplier of the lane's output columns (scale, or
    // scale * 2^-s for a column shifted by 2^s)
    bool f16 = false;
    float scl[NT][2];
    auto load_pass = [&](int pass) {
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        // column n = r * H + h is q row (seq_begin + r) * H + h = seq_begin * H + n
        const int n = pass * GC + nt * 8 + g;
        const uint16_t *qr = p.q + ((size_t)seq_begin * H + n) * D;
#pragma unroll
        for (int c = 0; c < CH; ++c)
          qf[nt][c] = n < C ? __ldg(reinterpret_cast<const uint4 *>(
                                  qr + 64 * (c / 2) + 16 * t4 + 8 * (c % 2)))
                            : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int nt = 0; nt < NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int n = pass * GC + nt * 8 + t4 * 2 + e;
          clim[nt][e] = n < C ? P + n / H + 1 : 0;
        }
      if constexpr (KB == 1) {
        // column g of n-tile nt lies in the 4 lanes of group g (32 elements each)
        int sh[NT];
        bool ok = true;
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
          Bf16ExpRange r;
#pragma unroll
          for (int c = 0; c < CH; ++c) {
            r.add(qf[nt][c].x);
            r.add(qf[nt][c].y);
            r.add(qf[nt][c].z);
            r.add(qf[nt][c].w);
          }
          r.merge_lanes(1);
          r.merge_lanes(2);
          sh[nt] = 0;
          ok = r.f16_shift(&sh[nt]) && ok;
        }
        // the lane's output columns 2 t4 + e: the shift of lane group 2 t4 + e;
        // scale * 2^-s must be exact (zero or a normal float)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int se = __shfl_sync(0xffffffffu, sh[nt], (2 * t4 + e) * 4);
            scl[nt][e] = p.scale * __uint_as_float((uint32_t)(127 - se) << 23);
            const float a = fabsf(scl[nt][e]);
            ok = ok && (a == 0.f ? p.scale == 0.f : (a >= 0x1p-126f && a <= 0x1.fffffep127f));
          }
        f16 = __all_sync(0xffffffffu, ok);
        if (f16) {
#pragma unroll
          for (int nt = 0; nt < NT; ++nt)
#pragma unroll
            for (int c = 0; c < CH; ++c)
              qf[nt][c] = make_uint4(bf16x2_to_f16x2_shifted(qf[nt][c].x, sh[nt]),
                                     bf16x2_to_f16x2_shifted(qf[nt][c].y, sh[nt]),
                                     bf16x2_to_f16x2_shifted(qf[nt][c].z, sh[nt]),
                                     bf16x2_to_f16x2_shifted(qf[nt][c].w, sh[nt]));
        } else {
#pragma unroll
          for (int nt = 0; nt < NT; ++nt) scl[nt][0] = scl[nt][1] = p.scale;
        }
      }
    };
    if (passes == 1) load_pass(0);
    // (f8E4M3FN rounds: after the item loop, so that the row's registers are
    // not held across the stages, which need them)
    if (kRound == 1 && read_ahead) find_read_ahead_row(b, seq_begin, P, newt, split);

    const int bps = bs >= kStageKeys ? 1 : kStageKeys / bs;  // blocks per stage
    const int spb = bs >= kStageKeys ? bs / kStageKeys : 1;  // stages per block
    // (block, column) pair idx of a stage: its block in the stage, its
    // column, the column's score row and keys seen. Thread 127 - i takes
    // pairs i, i + 128, ... of every stage; its first pair (the only one
    // when a stage's pairs fit in 128 threads, as for blocks of >= 128 keys)
    // is found once per item, so that no division runs per stage.
    struct Pair {
      int blk, n;
      float *row;
      int64_t lim;
    };
    auto pair_of = [&](int idx) {
      const int blk = idx / C, n = idx - blk * C, r = n / H, h = n - r * H;
      return Pair{blk, n, score_row(p, b, seq_begin, r, h), P + r + 1};
    };
    const int idx0 = kConsumerThreads - 1 - tid;
    const Pair pair0 = idx0 < bps * C ? pair_of(idx0) : Pair{0, 0, nullptr, 0};
    float run = -INFINITY;  // running block max (block sizes above 128)
    // Block maxima of a stage -> score rows (pairs as above: the same thread
    // for a column at every stage, which keeps the running max of wide
    // blocks in a register; counted from the last warp, which mattered when
    // warp 0 issued the copies; any fixed assignment would do). Stages in
    // order, so that `run` sees them in order.
    auto write_scores = [&](const float *pt, int64_t stage) {
      for (int idx = idx0; idx < bps * C; idx += kConsumerThreads) {
        const Pair pr = idx == idx0 ? pair0 : pair_of(idx);
        const int blk = pr.blk, n = pr.n;
        float v;
        if (bs == 16) v = pt[blk * kMaxCols + n];
        else if (bs == 32) v = pt[(blk * 2) * kMaxCols + n];
        else if (bs == 64)
          v = fmaxf(pt[(blk * 4) * kMaxCols + n], pt[(blk * 4 + 2) * kMaxCols + n]);
        else
          v = fmaxf(fmaxf(pt[0 * kMaxCols + n], pt[2 * kMaxCols + n]),
                    fmaxf(pt[4 * kMaxCols + n], pt[6 * kMaxCols + n]));
        int64_t j;
        if (bs > kStageKeys) {
          run = fmaxf(run, v);
          const bool last = (stage + 1) % spb == 0 || stage + 1 == nstages_seq;
          if (!last) continue;
          v = run;
          run = -INFINITY;
          j = stage / spb;
        } else {
          j = stage * bps + blk;
        }
        if (j * bs < pr.lim) pr.row[j] = v;  // (so j < the sequence's block count)
      }
    };
    if constexpr (kRound == 2) {
      // f8E4M3FN, one n-tile: rounds of two stages (the file comment).
      // One round: stages t .. t + NS - 1 of the item (NS = 2, or 1 for the
      // last stage of an odd count). Each stage's keys, MMAs, masks and maxima
      // are exactly those of the one-stage loop below; the stages' work is
      // only interleaved (independent MMA chains), and the round ends at one
      // named barrier.
      auto fp8_round = [&](auto nsc, int t) {
        constexpr int NS = decltype(nsc)::value;
        uint32_t slot[NS];
        const unsigned char *kst[NS];
        int64_t pos0[NS];
        float *pt[NS];
#pragma unroll
        for (int i = 0; i < NS; ++i) {
          slot[i] = (consumed + i) % kDecStages;
          pos0[i] = (s_begin + t + i) * kStageKeys;
          kst[i] = smem + S::kRingOff + slot[i] * S::kStageBytes;
          // partials: buffer (stage count) mod 4, so two consecutive rounds
          // (at most 4 consecutive stages) never share one
          pt[i] = part + ((consumed + i) & 3u) * (4 * 2 * kMaxCols);
        }
        // both slots before any work, so the round's work is one block of
        // straight-line code (the second copy was issued right after the first)
#pragma unroll
        for (int i = 0; i < NS; ++i)
          mbar_wait(bars + 8 * slot[i], ((consumed + i) / kDecStages) & 1u);
        // one pass of the round's columns, on f16 MMAs (F16) or bf16 ones
        auto score_pass = [&](auto f16c, int pass) {
          constexpr bool F16 = decltype(f16c)::value;
          // the lane's columns' causal limits relative to each stage: key k
          // of the stage (0 <= k < 128) is seen iff pos0 + k < clim, i.e. iff
          // k < clamp(clim - pos0, 0, 128) (32-bit compares in the slices)
          int rlim[NS][NT][2];
#pragma unroll
          for (int i = 0; i < NS; ++i)
#pragma unroll
            for (int nt = 0; nt < NT; ++nt)
#pragma unroll
              for (int e = 0; e < 2; ++e) {
                const int64_t r = clim[nt][e] - pos0[i];
                rlim[i][nt][e] = r <= 0 ? 0 : (r >= kStageKeys ? kStageKeys : (int)r);
              }
          float mx[NS][2][NT][2];  // per stage, per 16-key slice
#pragma unroll
          for (int s = 0; s < 2; ++s) {
            const int k0 = warp * 32 + s * 16 + g;  // key rows k0 and k0 + 8
            // the raw key bytes of the slice's rows (16 per lane and 64-key
            // chunk pair j, as load_key_row reads them), converted chunk by
            // chunk right before their MMAs (fewer live registers)
            uint4 r0[NS][D / 64], r1[NS][D / 64];
            // NaN flags (bf16 MMAs, whose conversion keeps NaN bytes finite):
            // row k0 + 8r of stage i at bits 0x80808080 >> (2i + r). The f16
            // conversion gives NaN, so the MMA makes the dot NaN, as for a
            // bf16 NaN key, and the max skips it.
            uint32_t nf = 0;
#pragma unroll
            for (int i = 0; i < NS; ++i) {
              uint32_t n0 = 0, n1 = 0;
#pragma unroll
              for (int j = 0; j < D / 64; ++j) {
                r0[i][j] = *(reinterpret_cast<const uint4 *>(kst[i] + (size_t)k0 * D) + 4 * j + t4);
                r1[i][j] =
                    *(reinterpret_cast<const uint4 *>(kst[i] + (size_t)(k0 + 8) * D) + 4 * j + t4);
                if constexpr (!F16) {
                  n0 |= e4m3_nan_bytes(r0[i][j].x) | e4m3_nan_bytes(r0[i][j].y) |
                        e4m3_nan_bytes(r0[i][j].z) | e4m3_nan_bytes(r0[i][j].w);
                  n1 |= e4m3_nan_bytes(r1[i][j].x) | e4m3_nan_bytes(r1[i][j].y) |
                        e4m3_nan_bytes(r1[i][j].z) | e4m3_nan_bytes(r1[i][j].w);
                }
              }
              nf |= (n0 >> (2 * i)) | (n1 >> (2 * i + 1));
            }
            // a row's bytes lie in the 4 lanes of its group: one OR over them
            // for all of this slice's rows
            if constexpr (!F16) {
              nf |= __shfl_xor_sync(0xffffffffu, nf, 1);
              nf |= __shfl_xor_sync(0xffffffffu, nf, 2);
            }
            float acc[NS][NT][4];
#pragma unroll
            for (int i = 0; i < NS; ++i)
#pragma unroll
              for (int nt = 0; nt < NT; ++nt)
                acc[i][nt][0] = acc[i][nt][1] = acc[i][nt][2] = acc[i][nt][3] = 0.f;
            // each accumulator sees the same MMAs in the same order as in the
            // one-stage loop; the stages alternate, so NS x NT chains are in flight
#pragma unroll
            for (int c = 0; c < CH; ++c) {
              uint4 a0[NS], a1[NS];  // chunk c of rows k0, k0 + 8 (load_key_row's a[c])
#pragma unroll
              for (int i = 0; i < NS; ++i) {
                const uint4 v0 = r0[i][c / 2], v1 = r1[i][c / 2];
                a0[i] = e4m3x8_to_mma<F16>(c % 2 ? make_uint2(v0.z, v0.w) : make_uint2(v0.x, v0.y));
                a1[i] = e4m3x8_to_mma<F16>(c % 2 ? make_uint2(v1.z, v1.w) : make_uint2(v1.x, v1.y));
              }
#pragma unroll
              for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
                for (int i = 0; i < NS; ++i)
                  mma_b16<F16>(acc[i][nt], a0[i].x, a1[i].x, a0[i].y, a1[i].y, qf[nt][c].x,
                               qf[nt][c].y);
#pragma unroll
                for (int i = 0; i < NS; ++i)
                  mma_b16<F16>(acc[i][nt], a0[i].z, a1[i].z, a0[i].w, a1[i].w, qf[nt][c].z,
                               qf[nt][c].w);
              }
            }
            // the causal mask and the NaN rows, as in the one-stage loop
            // (pos0 + k < clim as k < rlim: the same keys)
#pragma unroll
            for (int i = 0; i < NS; ++i) {
              const bool nan0 = (nf & (0x80808080u >> (2 * i))) != 0;
              const bool nan1 = (nf & (0x80808080u >> (2 * i + 1))) != 0;
#pragma unroll
              for (int nt = 0; nt < NT; ++nt)
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                  const float x0 =
                      (!nan0 && k0 < rlim[i][nt][e]) ? acc[i][nt][e] * scl[nt][e] : -INFINITY;
                  const float x1 = (!nan1 && k0 + 8 < rlim[i][nt][e])
                                       ? acc[i][nt][2 + e] * scl[nt][e]
                                       : -INFINITY;
                  mx[i][s][nt][e] = fmaxf(x0, x1);
                }
            }
          }
          stage_maxima_to_partials<NS, NT>(mx, pt, bs, warp, g, t4, pass * GC, C);
        };
        for (int pass = 0; pass < passes; ++pass) {
          if (passes > 1) load_pass(pass);
          if (f16) score_pass(std::true_type{}, pass);
          else score_pass(std::false_type{}, pass);
        }
        // The round's slots go back to the producer as in the one-stage loop
        // (each reader for itself, after one proxy fence for both).
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#pragma unroll
        for (int i = 0; i < NS; ++i) mbar_arrive(empty + 8 * slot[i]);
        // the 4 consumer warps only (named barrier 1): the round's partials are written
        asm volatile("bar.sync 1, %0;\n" ::"n"(kConsumerThreads) : "memory");
#pragma unroll
        for (int i = 0; i < NS; ++i) write_scores(pt[i], s_begin + t + i);
        consumed += NS;
      };
      for (int t = 0; t < nst; t += 2) {
        if (t + 1 < nst) fp8_round(std::integral_constant<int, 2>{}, t);
        else fp8_round(std::integral_constant<int, 1>{}, t);
      }
    } else {  // one stage per round
      for (int t = 0; t < nst; ++t, ++consumed) {
        const uint32_t slot = consumed % kDecStages;
        const int64_t stage = s_begin + t;
        const int64_t pos0 = stage * kStageKeys;
        mbar_wait(bars + 8 * slot, (consumed / kDecStages) & 1u);
        const unsigned char *kst = smem + S::kRingOff + slot * S::kStageBytes;
        float *pt = part + (consumed & 1) * (4 * 2 * kMaxCols);
        // one pass of the stage's columns; f16 MMAs (F16) for e4m3 keys only
        auto score_pass = [&](auto f16c, int pass) {
          constexpr bool F16 = decltype(f16c)::value;
          float mx[1][2][NT][2];  // per 16-key slice
#pragma unroll
          for (int s = 0; s < 2; ++s) {
            const int k0 = warp * 32 + s * 16 + g;  // key rows k0 and k0 + 8
            uint4 a0[CH], a1[CH];
            uint32_t nan0 = load_key_row<D, KB, F16>(kst + (size_t)k0 * D * KB, t4, a0);
            uint32_t nan1 = load_key_row<D, KB, F16>(kst + (size_t)(k0 + 8) * D * KB, t4, a1);
            if constexpr (KB == 1 && !F16) {  // the row's bytes lie in the 4 lanes of its group
              nan0 |= __shfl_xor_sync(0xffffffffu, nan0, 1);
              nan1 |= __shfl_xor_sync(0xffffffffu, nan1, 1);
              nan0 |= __shfl_xor_sync(0xffffffffu, nan0, 2);
              nan1 |= __shfl_xor_sync(0xffffffffu, nan1, 2);
            }
            float acc[NT][4];
#pragma unroll
            for (int nt = 0; nt < NT; ++nt) acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0.f;
#pragma unroll
            for (int c = 0; c < CH; ++c)
#pragma unroll
              for (int nt = 0; nt < NT; ++nt) {
                mma_b16<F16>(acc[nt], a0[c].x, a1[c].x, a0[c].y, a1[c].y, qf[nt][c].x,
                             qf[nt][c].y);
                mma_b16<F16>(acc[nt], a0[c].z, a1[c].z, a0[c].w, a1[c].w, qf[nt][c].z,
                             qf[nt][c].w);
              }
            // Causal mask by position; a select, so NaN or stale bytes of
            // masked keys never reach the max. fmaxf skips NaN dots (docs/CONTRACT.md).
            // A key with a NaN byte (fp8, bf16 MMAs) is masked the same way
            // (f16 MMAs: its dot is NaN).
            const int64_t q0 = nan0 ? -1 : pos0 + k0, q1 = nan1 ? -1 : pos0 + k0 + 8;
#pragma unroll
            for (int nt = 0; nt < NT; ++nt)
#pragma unroll
              for (int e = 0; e < 2; ++e) {
                const float m = KB == 1 ? scl[nt][e] : p.scale;
                const float x0 = (q0 >= 0 && q0 < clim[nt][e]) ? acc[nt][e] * m : -INFINITY;
                const float x1 = (q1 >= 0 && q1 < clim[nt][e]) ? acc[nt][2 + e] * m : -INFINITY;
                mx[0][s][nt][e] = fmaxf(x0, x1);
              }
          }
          float *const pt1[1] = {pt};
          stage_maxima_to_partials<1, NT>(mx, pt1, bs, warp, g, t4, pass * GC, C);
        };
        for (int pass = 0; pass < passes; ++pass) {
          if (passes > 1) load_pass(pass);
          if constexpr (KB == 1) {
            if (f16) score_pass(std::true_type{}, pass);
            else score_pass(std::false_type{}, pass);
          } else {
            score_pass(std::false_type{}, pass);
          }
        }
        // This thread has read its part of the slot: it goes back to the
        // producer once every consumer thread has released it. Each reader
        // releases for itself (an mbarrier arrive releases only the arriving
        // thread's accesses), after a proxy fence: the next write into the slot
        // is the copy engine's (async proxy), these reads were generic.
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        mbar_arrive(empty + 8 * slot);
        // the 4 consumer warps only (named barrier 1): the partials are written
        asm volatile("bar.sync 1, %0;\n" ::"n"(kConsumerThreads) : "memory");
        write_scores(pt, stage);
      }
    }
  }

  // ---- the grid barrier: every score is written and every item checked
  long long *verdicts = reinterpret_cast<long long *>(p.ws + p.lay.verdicts);
  __shared__ long long s_bad;
  // Every warp converged before the CTA barriers below: bar.sync counts a
  // warp as one, and the producer warp's lanes 1-31 leave the item loop
  // while its lane 0 may still issue copies (racecheck once reported the
  // s_bad reset and a lane's atomicMin below as unordered, H200 2026-12-01).
  __syncwarp();
  if (tid == 0) s_bad = LLONG_MAX;
  __syncthreads();
  if constexpr (kRound == 2) {
    // the CTA's last item (thread 0 wrote it before the barrier above), and
    // its read-ahead row: the same row as found in the item loop of kRound 1
    const LastItem li = *stash;
    last_b = li.b;
    last_begin = li.begin;
    last_newt = li.newt;
    last_prefix = li.prefix;
    last_split = li.split;
    if (li.read_ahead) find_read_ahead_row(last_b, last_begin, last_prefix, last_newt, last_split);
  }
  if (own && lane == 0 && bad_min != LLONG_MAX) atomicMin(&s_bad, bad_min);  // producer: page ids
  __syncthreads();
  if (own && tid == 0) verdicts[blockIdx.x] = s_bad;
  // The read-ahead row's scores are read right after the barrier, so that
  // they are in flight while the verdict arrives.
  cooperative_groups::this_grid().sync();
  RowScores<NPL> pre;
  if (pre_n >= 0) pre.load(pre_row.sc, pre_row.nblk);
  Header *hdr = reinterpret_cast<Header *>(p.ws + p.lay.hdr);
  // s_bad still holds this CTA's own verdict, which is one of the slots the
  // minimum below runs over, so it needs no reset
  bool failed;
  if (own) {
    long long m = LLONG_MAX;
    for (int i = tid; i < (int)gridDim.x; i += kDecThreads) m = min(m, __ldcg(verdicts + i));
    if (m != LLONG_MAX) atomicMin(&s_bad, m);
    __syncthreads();
    failed = s_bad != LLONG_MAX;
    if (blockIdx.x == 0 && tid == 0) {
      if (failed) write_error_record(p, hdr, s_bad);
      else hdr->err = kErrNone;
    }
  } else {
    failed = __ldcg(&hdr->err) != kErrNone;
  }
  if (failed) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  // ---- selection: the warps of sequence b's items take its (row, head) rows
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    // the CTA's last item: its metadata is still in registers (the common
    // case of one item per CTA saves a memory round trip and a division)
    const bool again = item + gridDim.x >= items;
    const int64_t b = again ? last_b : item / p.splits;
    const int split = again ? last_split : (int)(item - b * p.splits);
    const int64_t seq_begin = again ? last_begin : (int64_t)p.off[b];
    const int64_t newt = again ? last_newt : (int64_t)p.off[b + 1] - seq_begin;
    if (newt < 1 || newt > p.dec_rows) continue;  // verified: not a decode sequence
    const int64_t P = again ? last_prefix : (int64_t)p.prefix[b];
    const int C = (int)newt * H;
    if constexpr (NPL == 8) {
      if (rows_shared_by_warps(C, P + newt, bs, p.splits)) {
        const int pr = split;  // this item's row, if any: the 4 scoring warps
        if (pr < C && warp < kRankWarps) {
          const bool ahead = again && pr == pre_n;
          const DecodeRow dr = ahead ? pre_row : decode_row(p, b, seq_begin, P, pr, H, bs);
          if (!ahead) pre.load(dr.sc, dr.nblk);
          Rank64 k = rank64_keys(dr.nblk, p, pre);
          constexpr int kSteps = 32 / kRankWarps;  // of rank64_count's 32
          rank64_count<kSteps>(k, kSteps * warp);
          // the partials buffer is free after the grid barrier
          int2 *ranks = reinterpret_cast<int2 *>(part);
          ranks[warp * 32 + lane] = make_int2(k.r0, k.r1);
          asm volatile("bar.sync 1, %0;\n" ::"n"(kConsumerThreads) : "memory");
          if (warp == 0) {
            k.r0 = k.r1 = 0;
#pragma unroll
            for (int w = 0; w < kRankWarps; ++w) {
              const int2 v = ranks[w * 32 + lane];
              k.r0 += v.x;
              k.r1 += v.y;
            }
          }
          // read before the next item's row writes the buffer
          asm volatile("bar.sync 1, %0;\n" ::"n"(kConsumerThreads) : "memory");
          if (warp == 0) rank64_write(dr.nblk, p, k, dr.out);
        }
        pre_n = -1;
        continue;
      }
    }
    if constexpr (NPL == 32) {
      static_assert(kRankWarps == 4 && kConsumerThreads == 128, "select_row_split4's barrier");
      if (rows_split_by_warps(C, P + newt, bs, p.splits, p.topk, NPL)) {
        const int pr = split;  // this item's row, if any: the 4 scoring warps
        if (pr < C && warp < kRankWarps) {
          const DecodeRow dr = decode_row(p, b, seq_begin, P, pr, H, bs);
          // the partials buffer is free after the grid barrier
          select_row_split4<8>(dr.sc, dr.nblk, p, dr.out, warp,
                               reinterpret_cast<SplitBuf *>(part));
        }
        continue;
      }
    }
    for (int pr = split * wpc + warp; pr < C; pr += p.splits * wpc) {
      const bool ahead = again && pr == pre_n;
      const DecodeRow dr = ahead ? pre_row : decode_row(p, b, seq_begin, P, pr, H, bs);
      if (!ahead) pre.load(dr.sc, dr.nblk);  // not read ahead
      pre_n = -1;
      if constexpr (NPL == 8)
        select_row_s8(dr.sc, dr.nblk, p, dr.out, pre);
      else
        select_row<NPL>(dr.sc, dr.nblk, p, dr.out, pre);
    }
  }
#endif
}

// ---------------------------------------------------------------------------
// Host side
// ---------------------------------------------------------------------------
using DecodeFn = void (*)(KParams);

template <int D, int NT, int KB>
static DecodeFn fn_npl(int npl) {
  switch (npl) {
  case 8: return decode_kernel<D, NT, 8, KB>;
  case 32: return decode_kernel<D, NT, 32, KB>;
  default: return decode_kernel<D, NT, 0, KB>;
  }
}
template <int D, int KB>
static DecodeFn fn_nt(int nt, int npl) {
  switch (nt) {
  case 1: return fn_npl<D, 1, KB>(npl);
  case 2: return fn_npl<D, 2, KB>(npl);
  default: return fn_npl<D, 4, KB>(npl);
  }
}
static DecodeFn decode_fn(int D, int key_type, int nt, int npl) {
  if (key_type == MSA_KEY_F8E4M3FN)
    return D == 64 ? fn_nt<64, 1>(nt, npl) : fn_nt<128, 1>(nt, npl);
  return D == 64 ? fn_nt<64, 2>(nt, npl) : fn_nt<128, 2>(nt, npl);
}
static int smem_bytes(int D, int key_type, int nt) {
  if (key_type == MSA_KEY_F8E4M3FN) {
    if (dec_round(1, nt) == 2)  // (nt as fn_nt: 1, 2, else 4)
      return D == 64 ? DecSmem<64, 1, 2>::kBytes : DecSmem<128, 1, 2>::kBytes;
    return D == 64 ? DecSmem<64, 1>::kBytes : DecSmem<128, 1>::kBytes;
  }
  return D == 64 ? DecSmem<64, 2>::kBytes : DecSmem<128, 2>::kBytes;
}

cudaError_t decode_prepare(int D, int key_type, int nt, int npl, int *ctas_per_sm) {
  const DecodeFn kern = decode_fn(D, key_type, nt, npl);
  const int bytes = smem_bytes(D, key_type, nt);
  cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  // as many CTAs per SM as shared memory allows (the grid is sized by it)
  e = cudaFuncSetAttribute(kern, cudaFuncAttributePreferredSharedMemoryCarveout,
                           cudaSharedmemCarveoutMaxShared);
  if (e != cudaSuccess) return e;
  return cudaOccupancyMaxActiveBlocksPerMultiprocessor(ctas_per_sm, kern, kDecThreads,
                                                       (size_t)bytes);
}

// Whether the driver takes a cooperative launch with PDL (pdl_launch.h).
static std::atomic<int> g_decode_pdl{kPdlUnknown};

cudaError_t launch_decode(const KParams &p, int nt, int npl, int64_t grid, cudaStream_t st) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3((unsigned)grid);
  cfg.blockDim = dim3(kDecThreads);
  cfg.dynamicSmemBytes = (size_t)smem_bytes(p.dim, p.key_type, nt);
  cfg.stream = st;
  cudaLaunchAttribute attr[2];
  attr[0].id = cudaLaunchAttributeCooperative;  // the grid barrier
  attr[0].val.cooperative = 1;
  attr[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[1].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 2;
  return launch_with_pdl(g_decode_pdl, cfg, decode_fn(p.dim, p.key_type, nt, npl), p);
}

} // namespace msa_cuda
