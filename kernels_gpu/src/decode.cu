// decode.cu - block scores and selection of the decode sequences (1 to
// kDecRows new rows each), at the memory-bandwidth limit.
//
// Work items: batch x splits, item (b, split) a range of `spc` stages of
// sequence b; a stage is 128 consecutive key positions (128 / bs whole pages
// for block sizes 16/32/64, one 128-key part of a page for multiples of
// 128). CTAs of 4 warps take items persistently. Per item, thread 0 streams
// the stages with the copy engine (cp.async.bulk: one contiguous copy per
// page part, no registers, no address arithmetic per byte) into a
// kDecStages-deep ring in shared memory, each stage completing on its own
// mbarrier; it checks every page id before it copies, so no metadata value
// can make it read outside k_blocks. The 4 warps score 32 keys each per
// stage on mma.sync m16n8k16: the keys are the M side (16 per instruction), the (row, head) columns of
// the sequence the N side (8 per n-tile, NT n-tiles per pass, more passes
// for more than 8 * NT columns), so every index-K byte is read once from
// memory for all heads and all new rows. The contraction index is permuted
// the same way for keys and queries (lane t4 takes d in [64j + 16t4, +16)
// as its chunks 2j and 2j + 1), which lets each lane load its key fragments
// with 16-byte shared loads for both key types.
//
// f8E4M3FN keys (KB = 1 byte per element): the same stages hold 128 keys in
// half the bytes, so twice the CTAs fit on an SM (the same bytes in flight
// per SM, twice the independent stage pipelines: decode time is set by the
// per-stage chain of copy wait, MMAs and the CTA barrier, not by bytes), and
// each lane converts its 16 key bytes into the two bf16 chunks a bf16 key
// would have given (fp8.cuh: exact), so the MMAs, scores and ids are those
// of the same keys stored as bf16. A key with a NaN byte is skipped as a
// whole (its dot is NaN whatever q is), found on the raw bytes.
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

#include <cooperative_groups.h>

namespace msa_cuda {

constexpr int kDecThreads = 128;  // 4 warps x 32 keys = one stage
constexpr int kStageKeys = 128;
constexpr int kMaxCols = kDecRows * 8;  // decode serves H <= 8
constexpr int kMaxCluster = 16;         // CTAs per cluster (sm_90's non-portable limit)

// KB: bytes per key element (2: bf16, 1: f8E4M3FN).
template <int D, int KB>
struct DecSmem {
  static constexpr int kStages = 3;  // ring depth (stages in flight per CTA)
  static constexpr int kStageBytes = kStageKeys * D * KB;
  static constexpr int kRingOff = 0;
  // partial maxima [2 buffers][4 warps][2 halves][kMaxCols]
  static constexpr int kPartOff = kRingOff + kStages * kStageBytes;
  static constexpr int kPartBytes = 2 * 4 * 2 * kMaxCols * 4;
  static constexpr int kBarOff = kPartOff + kPartBytes;
  static constexpr int kBytes = kBarOff + kStages * 8;
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
__device__ __forceinline__ int64_t stage_first_page(const KParams &p, int64_t stage,
                                                    int *pps) {
  *pps = p.bs >= kStageKeys ? 1 : kStageKeys / p.bs;
  return stage * kStageKeys / p.bs;
}
__device__ __forceinline__ void stage_pages(const KParams &p, const uint32_t *lut,
                                            int64_t stage, StageCopies &c) {
  int pps;
  const int64_t pg0 = stage_first_page(p, stage, &pps);
#pragma unroll
  for (int i = 0; i < 8; ++i)
    c.id[i] = (i < pps && pg0 + i < p.max_pages) ? lut[pg0 + i] : 0xFFFFFFFFu;
}
template <int D, int KB>
__device__ __forceinline__ void stage_settle(const KParams &p, int64_t stage,
                                             int64_t pages_needed, StageCopies &c) {
  int pps;
  const int64_t pg0 = stage_first_page(p, stage, &pps);
  const uint32_t page_bytes =
      p.bs >= kStageKeys ? kStageKeys * D * KB : (uint32_t)p.bs * D * KB;
  c.n = 0;
  c.bytes = 0;
  c.bad = false;
#pragma unroll
  for (int i = 0; i < 8; ++i)
    if (i < pps && pg0 + i < pages_needed) {
      c.n = i + 1;
      if (c.id[i] < (uint64_t)p.num_pages) c.bytes += page_bytes;
      else c.bad = true;
    }
}

// Thread 0: the copies of one stage into ring slot `dst`, completing on `bar`.
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
      const int64_t slot0 = stage * kStageKeys % p.bs;
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
template <int D, int KB>
__device__ __forceinline__ uint32_t load_key_row(const unsigned char *row, int t4,
                                                 uint4 (&a)[D / 32]) {
  uint32_t nan = 0;
#pragma unroll
  for (int j = 0; j < D / 64; ++j) {
    if constexpr (KB == 2) {
      const uint4 *r = reinterpret_cast<const uint4 *>(row) + 8 * j + 2 * t4;
      a[2 * j] = r[0];
      a[2 * j + 1] = r[1];
    } else {
      const uint4 v = *(reinterpret_cast<const uint4 *>(row) + 4 * j + t4);
      a[2 * j] = e4m3x8_to_bf16x8_finite(make_uint2(v.x, v.y));
      a[2 * j + 1] = e4m3x8_to_bf16x8_finite(make_uint2(v.z, v.w));
      nan |= e4m3_nan_bytes(v.x) | e4m3_nan_bytes(v.y) | e4m3_nan_bytes(v.z) |
             e4m3_nan_bytes(v.w);
    }
  }
  return nan;
}

// ---------------------------------------------------------------------------
// The mainloop: one work item (sequence b, share `split`), shared by both
// decode kernels. Its block maxima go to `sink(h, row, n, j, v)` (column n =
// r * H + h of row `row`, block j); `before_loop()` runs once the item's
// first copies are issued, while they are in flight.
// ---------------------------------------------------------------------------
// What a CTA carries from one item to the next.
struct DecCta {
  uint32_t consumed = 0;         // stages consumed (mbarrier phases)
  long long bad_min = LLONG_MAX; // smallest failing sequence seen (own checks)
  int64_t last_begin = 0, last_newt = 0, last_prefix = 0;  // of the last item
};

template <int D, int NT, int KB, class Sink, class BeforeLoop>
__device__ __forceinline__ void decode_item(const KParams &p, int64_t b, int split,
                                            unsigned char *smem, DecCta &cta,
                                            const Sink &sink, const BeforeLoop &before_loop) {
#ifdef MSA_HAVE_SM90
  using S = DecSmem<D, KB>;
  constexpr int kDecStages = S::kStages;
  constexpr int CH = D / 32;       // 16-byte chunks per lane per key row
  constexpr int GC = NT * 8;       // columns per pass
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, t4 = lane & 3;
  const uint32_t ring = smem_u32(smem + S::kRingOff);
  float *part = reinterpret_cast<float *>(smem + S::kPartOff);
  const uint32_t bars = smem_u32(smem + S::kBarOff);
  const int H = p.heads, bs = p.bs;
  const bool own = p.dec_own_checks != 0;
  uint32_t consumed = cta.consumed;
  // ---- this item's share of sequence b. The metadata is checked before
  // anything it points to is read; the page ids of the first stages are
  // loaded together with it (they lie in the table whatever it holds).
  const uint32_t *lut = p.lut + b * p.max_pages;
  const int64_t s_begin = (int64_t)split * p.dec_spc;
  // Thread 0's page ids: the first ring's worth, then `next` (the stage to
  // issue when a slot frees) and the kIdAhead stages behind it, whose ids
  // are loaded that many stages before they are settled: under a full
  // memory load a lookup-table round trip takes about as long as a stage,
  // and thread 0 must not wait for one per stage.
  constexpr int kIdAhead = 2;
  StageCopies first[kDecStages], next, ahead[kIdAhead];
  if (tid == 0) {
#pragma unroll
    for (int i = 0; i < kDecStages; ++i) stage_pages(p, lut, s_begin + i, first[i]);
    stage_pages(p, lut, s_begin + kDecStages, next);
#pragma unroll
    for (int i = 0; i < kIdAhead; ++i) stage_pages(p, lut, s_begin + kDecStages + 1 + i, ahead[i]);
  }
  int64_t newt = 0, nkeys = 0;
  const bool broken = sequence_breaks_scalar_rules(p, b, &newt, &nkeys);
  if (own && broken && split == 0) cta.bad_min = min(cta.bad_min, (long long)b);
  const int64_t seq_begin = p.off[b];
  const int64_t P = nkeys - newt;
  cta.last_begin = seq_begin;
  cta.last_newt = newt;
  cta.last_prefix = P;
  const int64_t nblk = (nkeys + bs - 1) / bs;
  const int64_t pages_needed = (nkeys + p.page_size - 1) / p.page_size;
  // memory safety first (mixed calls: prep's verdict decides the output)
  const bool work = newt >= 1 && newt <= p.dec_rows && seq_begin + newt <= p.rows &&
                    nblk <= p.lay.nblk_cap && pages_needed <= p.max_pages &&
                    !(own && broken);
  const int64_t nstages_seq = work ? (nkeys + kStageKeys - 1) / kStageKeys : 0;
  const int64_t s_end = min(nstages_seq, s_begin + p.dec_spc);
  const int nst = s_end > s_begin ? (int)(s_end - s_begin) : 0;
  if (tid == 0 && nst > 0) {
#pragma unroll
    for (int i = 0; i < kDecStages; ++i)
      if (i < nst) {
        const uint32_t slot = (consumed + i) % kDecStages;
        stage_settle<D, KB>(p, s_begin + i, pages_needed, first[i]);
        if (own && first[i].bad) cta.bad_min = min(cta.bad_min, (long long)b);
        stage_issue<D, KB>(p, first[i], s_begin + i, ring + slot * S::kStageBytes, bars + 8 * slot);
      }
    if (kDecStages < nst) stage_settle<D, KB>(p, s_begin + kDecStages, pages_needed, next);
  }

  // ---- the sequence's columns: n = r * H + h
  const int C = work ? (int)newt * H : 0;
  const int passes = (C + GC - 1) / GC;
  uint4 qf[NT][CH];
  int64_t clim[NT][2];  // keys seen by the lane's columns (0: no column)
  auto load_pass = [&](int pass) {
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const int n = pass * GC + nt * 8 + g;
      const int r = n / H, h = n - r * H;
      const uint16_t *qr = p.q + ((size_t)(seq_begin + r) * H + h) * D;
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
  };
  if (passes == 1) load_pass(0);
  before_loop();

  const int bps = bs >= kStageKeys ? 1 : kStageKeys / bs;  // blocks per stage
  const int spb = bs >= kStageKeys ? bs / kStageKeys : 1;  // stages per block
  float run = -INFINITY;  // running block max (block sizes above 128)
  for (int t = 0; t < nst; ++t, ++consumed) {
    const uint32_t slot = consumed % kDecStages;
    const int64_t stage = s_begin + t;
    const int64_t pos0 = stage * kStageKeys;
    mbar_wait(bars + 8 * slot, (consumed / kDecStages) & 1u);
    const unsigned char *kst = smem + S::kRingOff + slot * S::kStageBytes;
    float *pt = part + (consumed & 1) * (4 * 2 * kMaxCols);
    for (int pass = 0; pass < passes; ++pass) {
      if (passes > 1) load_pass(pass);
      float mx[2][NT][2];  // per 16-key slice
#pragma unroll
      for (int s = 0; s < 2; ++s) {
        const int k0 = warp * 32 + s * 16 + g;  // key rows k0 and k0 + 8
        uint4 a0[CH], a1[CH];
        uint32_t nan0 = load_key_row<D, KB>(kst + (size_t)k0 * D * KB, t4, a0);
        uint32_t nan1 = load_key_row<D, KB>(kst + (size_t)(k0 + 8) * D * KB, t4, a1);
        if constexpr (KB == 1) {  // the row's bytes lie in the 4 lanes of its group
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
            mma_bf16(acc[nt], a0[c].x, a1[c].x, a0[c].y, a1[c].y, qf[nt][c].x, qf[nt][c].y);
            mma_bf16(acc[nt], a0[c].z, a1[c].z, a0[c].w, a1[c].w, qf[nt][c].z, qf[nt][c].w);
          }
        // Causal mask by position; a select, so NaN or stale bytes of
        // masked keys never reach the max. fmaxf skips NaN dots (docs/CONTRACT.md).
        // A key with a NaN byte (fp8) is masked the same way.
        const int64_t q0 = nan0 ? -1 : pos0 + k0, q1 = nan1 ? -1 : pos0 + k0 + 8;
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float x0 = (q0 >= 0 && q0 < clim[nt][e]) ? acc[nt][e] * p.scale : -INFINITY;
            const float x1 = (q1 >= 0 && q1 < clim[nt][e]) ? acc[nt][2 + e] * p.scale : -INFINITY;
            mx[s][nt][e] = fmaxf(x0, x1);
          }
      }
      // The two 16-key slices are one block unless bs == 16.
      if (bs != 16) {
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) mx[0][nt][e] = fmaxf(mx[0][nt][e], mx[1][nt][e]);
      }
      // Max over the 8 key rows of the lane group, then into the partials.
#pragma unroll
      for (int u = 0; u < 2; ++u)
#pragma unroll
        for (int nt = 0; nt < NT; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            if (u == 1 && bs != 16) continue;
            float v = mx[u][nt][e];
            v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 4));
            v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 8));
            v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 16));
            const int n = pass * GC + nt * 8 + t4 * 2 + e;
            if (g == 0 && n < C) pt[(warp * 2 + u) * kMaxCols + n] = v;
          }
    }
    __syncthreads();  // the slot is read, the partials are written
    if (tid == 0 && t + kDecStages < nst) {
      if (own && next.bad) cta.bad_min = min(cta.bad_min, (long long)b);
      stage_issue<D, KB>(p, next, stage + kDecStages, ring + slot * S::kStageBytes, bars + 8 * slot);
      if (t + kDecStages + 1 < nst) {
        next = ahead[0];
        stage_settle<D, KB>(p, stage + kDecStages + 1, pages_needed, next);
#pragma unroll
        for (int i = 0; i + 1 < kIdAhead; ++i) ahead[i] = ahead[i + 1];
        stage_pages(p, lut, stage + kDecStages + 1 + kIdAhead, ahead[kIdAhead - 1]);
      }
    }
    // Block maxima of this stage -> the sink. Thread 127 - i takes
    // (block, column) pairs i, i + 128, ... (the same thread for a column at
    // every stage, which keeps the running max of wide blocks in a
    // register; counted from the last warp, because warp 0 issues the
    // copies and the next barrier waits for the slowest warp).
    for (int idx = kDecThreads - 1 - tid; idx < bps * C; idx += kDecThreads) {
      const int blk = idx / C, n = idx - blk * C;
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
      const int r = n / H, h = n - r * H;
      if (j < nblk && j * bs < P + r + 1) sink(h, seq_begin + r, n, j, v);
    }
  }
  cta.consumed = consumed;
#endif
}

// Initialises the ring's mbarriers (thread 0) before any copy; the caller syncs.
template <int D, int KB>
__device__ __forceinline__ void init_ring(unsigned char *smem) {
  if (threadIdx.x == 0) {
    const uint32_t bars = smem_u32(smem + DecSmem<D, KB>::kBarOff);
    for (int i = 0; i < DecSmem<D, KB>::kStages; ++i) mbar_init(bars + 8 * i, 1);
    fence_mbarrier_init();
  }
}

// One warp: the selection of column n (row r = n / H, head h = n % H) of the
// sequence whose rows begin at seq_begin after a prefix of P keys.
template <int NPL, class Scores>
__device__ __forceinline__ void select_column(const KParams &p, int64_t seq_begin, int64_t P,
                                              int n, const Scores &sc) {
  const int H = p.heads;
  const int r = n / H, h = n - r * H;
  const int64_t row = seq_begin + r;
  const int nbr = (int)((P + r + 1 + p.bs - 1) / p.bs);
  int32_t *o = p.out + ((size_t)h * p.rows + row) * p.topk;
  if constexpr (NPL == 8)
    select_row_s8(sc, nbr, p, o);
  else
    select_row<NPL>(sc, nbr, p, o);
}

// ---------------------------------------------------------------------------
// 1. The split kernel: one cooperative launch; the grid walks the work items
// persistently, meets at a grid barrier, then selects from the workspace.
// ---------------------------------------------------------------------------
struct WorkspaceSink {
  const KParams *p;
  __device__ __forceinline__ void operator()(int h, int64_t row, int, int64_t j, float v) const {
    p->scores[((size_t)h * p->rows + row) * p->lay.nblk_cap + j] = v;
  }
};

template <int D, int NT, int NPL, int KB>
// fp8 CTAs need half the shared memory: 3 fit on an SM when the registers
// allow it (the time per stage is a chain of latencies, so more CTAs are more
// stages in flight).
__global__ void __launch_bounds__(kDecThreads, KB == 1 ? 3 : 1) decode_kernel(KParams p) {
#ifdef MSA_HAVE_SM90
  extern __shared__ __align__(128) unsigned char smem[];
  const int tid = threadIdx.x, warp = tid >> 5;
  const int64_t items = p.batch * p.splits;
  const bool own = p.dec_own_checks != 0;
  DecCta cta;
  init_ring<D, KB>(smem);
  __syncthreads();
  const WorkspaceSink sink{&p};
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    const int64_t b = item / p.splits;
    decode_item<D, NT, KB>(p, b, (int)(item - b * p.splits), smem, cta, sink, [] {});
  }

  // ---- the grid barrier: every score is written and every item checked
  long long *verdicts = reinterpret_cast<long long *>(p.ws + p.lay.verdicts);
  if (own && tid == 0) verdicts[blockIdx.x] = cta.bad_min;
  cooperative_groups::this_grid().sync();
  Header *hdr = reinterpret_cast<Header *>(p.ws + p.lay.hdr);
  __shared__ long long s_bad;
  if (tid == 0) s_bad = LLONG_MAX;
  __syncthreads();
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
    const int64_t b = item / p.splits;
    const int split = (int)(item - b * p.splits);
    // the CTA's last item: its metadata is still in registers (the common
    // case of one item per CTA saves a memory round trip)
    const bool again = item + gridDim.x >= items;
    const int64_t seq_begin = again ? cta.last_begin : (int64_t)p.off[b];
    const int64_t newt = again ? cta.last_newt : (int64_t)p.off[b + 1] - seq_begin;
    if (newt < 1 || newt > p.dec_rows) continue;  // verified: not a decode sequence
    const int64_t P = again ? cta.last_prefix : (int64_t)p.prefix[b];
    const int C = (int)newt * p.heads;
    for (int n = split * (kDecThreads / 32) + warp; n < C; n += p.splits * (kDecThreads / 32)) {
      const int r = n / p.heads, h = n - r * p.heads;
      const GlobalScores sc{p.scores + ((size_t)h * p.rows + seq_begin + r) * p.lay.nblk_cap};
      select_column<NPL>(p, seq_begin, P, n, sc);
    }
  }
#endif
}

// ---------------------------------------------------------------------------
// 2. The cluster kernel: a cluster of CL CTAs per sequence (CTA `rank` takes
// share `rank`), no grid barrier. Block maxima go straight into the shared
// memory of the CTA that selects their column (column n: CTA n % CL, its
// score row n / CL), over distributed shared memory; one cluster barrier,
// and each CTA selects its columns from its own shared memory. The call's
// verdict needs no other cluster either: every cluster checks the whole
// batch (its warps share the sequences, while the first key copies are in
// flight), so every CTA knows whether some sequence broke the contract, and
// all of them then fill out with -1 (CTA 0 writes the error record). The host
// takes this kernel only where that check is cheap (launch.cpp). Launched
// with programmatic stream serialization: it waits for the previous kernel
// before it reads anything and lets the next one start its launch at once.
//
// Dynamic shared memory: DecSmem, then CL verdict slots (i64), then
// ceil(C / CL) score rows of p.dec_cap floats.
// ---------------------------------------------------------------------------
template <int D, int KB>
struct ClusterSmem {
  static constexpr int kVerdictOff = (DecSmem<D, KB>::kBytes + 15) / 16 * 16;
  static constexpr int kScoresOff = kVerdictOff + kMaxCluster * 8;
};

struct ClusterSink {
  float *rows;   // this CTA's score rows (the same offset in every CTA)
  int cl, cap;
  __device__ __forceinline__ void operator()(int, int64_t, int n, int64_t j, float v) const {
    if (j >= cap) return;  // not reached: valid sequences have nblk <= cap
    float *dst = cooperative_groups::this_cluster().map_shared_rank(rows, (unsigned)(n % cl));
    dst[(size_t)(n / cl) * cap + j] = v;
  }
};

template <int D, int NT, int NPL, int KB>
__global__ void __launch_bounds__(kDecThreads, KB == 1 ? 3 : 1)
    decode_cluster_kernel(KParams p) {
#ifdef MSA_HAVE_SM90
  extern __shared__ __align__(128) unsigned char smem[];
  namespace cg = cooperative_groups;
  using CS = ClusterSmem<D, KB>;
  cg::cluster_group cluster = cg::this_cluster();
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int cl = (int)cluster.num_blocks(), rank = (int)cluster.block_rank();
  const int64_t b = blockIdx.x / cl;
  long long *verdict = reinterpret_cast<long long *>(smem + CS::kVerdictOff);
  float *rows = reinterpret_cast<float *>(smem + CS::kScoresOff);
  DecCta cta;
  init_ring<D, KB>(smem);
  // Every CTA of the cluster must have started before another writes into
  // its shared memory: arrive now, wait just before the first stage (the
  // first remote write follows it).
  asm volatile("barrier.cluster.arrive.relaxed.aligned;\n" ::: "memory");
  asm volatile("griddepcontrol.wait;\n" ::: "memory");  // the previous kernel's writes
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
  __syncthreads();
  long long bad_all = LLONG_MAX;  // the whole batch's verdict (warp's share)
  decode_item<D, NT, KB>(p, b, rank, smem, cta, ClusterSink{rows, cl, p.dec_cap}, [&] {
    bad_all = check_sequences(p, (int64_t)rank * (kDecThreads / 32) + warp,
                              (int64_t)cl * (kDecThreads / 32));
    asm volatile("barrier.cluster.wait.aligned;\n" ::: "memory");
  });
  // this CTA's verdict into every CTA of the cluster (slot `rank`)
  __shared__ long long s_bad;
  if (tid == 0) s_bad = LLONG_MAX;
  __syncthreads();
  if (lane == 0) atomicMin(&s_bad, min(bad_all, cta.bad_min));
  __syncthreads();
  if (tid < cl) cluster.map_shared_rank(verdict, (unsigned)tid)[rank] = s_bad;
  cluster.sync();  // score rows and verdicts are in place
  long long bad = LLONG_MAX;
  for (int i = 0; i < cl; ++i) bad = min(bad, verdict[i]);
  if (bad != LLONG_MAX) {
    fill_invalid(p.out, p.out_elems);
    if (blockIdx.x == 0 && tid == 0)
      write_error_record(p, reinterpret_cast<Header *>(p.ws + p.lay.hdr), bad);
    return;
  }
  if (blockIdx.x == 0 && tid == 0) reinterpret_cast<Header *>(p.ws + p.lay.hdr)->err = kErrNone;
  // ---- selection of this CTA's columns n = rank + cl * k, a warp per column
  const int C = (int)cta.last_newt * p.heads;
  for (int k = warp; rank + cl * k < C; k += kDecThreads / 32)
    select_column<NPL>(p, cta.last_begin, cta.last_prefix, rank + cl * k,
                       SharedScores{rows + (size_t)k * p.dec_cap});
#endif
}

// ---------------------------------------------------------------------------
// Host side
// ---------------------------------------------------------------------------
using DecodeFn = void (*)(KParams);

template <int D, int NT, int KB, bool CLUSTER>
static DecodeFn fn_npl(int npl) {
  switch (npl) {
  case 8: return CLUSTER ? decode_cluster_kernel<D, NT, 8, KB> : decode_kernel<D, NT, 8, KB>;
  case 32: return CLUSTER ? decode_cluster_kernel<D, NT, 32, KB> : decode_kernel<D, NT, 32, KB>;
  default: return CLUSTER ? decode_cluster_kernel<D, NT, 0, KB> : decode_kernel<D, NT, 0, KB>;
  }
}
template <int D, int KB, bool CLUSTER>
static DecodeFn fn_nt(int nt, int npl) {
  switch (nt) {
  case 1: return fn_npl<D, 1, KB, CLUSTER>(npl);
  case 2: return fn_npl<D, 2, KB, CLUSTER>(npl);
  default: return fn_npl<D, 4, KB, CLUSTER>(npl);
  }
}
template <bool CLUSTER>
static DecodeFn decode_fn(int D, int key_type, int nt, int npl) {
  if (key_type == MSA_KEY_F8E4M3FN)
    return D == 64 ? fn_nt<64, 1, CLUSTER>(nt, npl) : fn_nt<128, 1, CLUSTER>(nt, npl);
  return D == 64 ? fn_nt<64, 2, CLUSTER>(nt, npl) : fn_nt<128, 2, CLUSTER>(nt, npl);
}
static int smem_bytes(int D, int key_type) {
  if (key_type == MSA_KEY_F8E4M3FN)
    return D == 64 ? DecSmem<64, 1>::kBytes : DecSmem<128, 1>::kBytes;
  return D == 64 ? DecSmem<64, 2>::kBytes : DecSmem<128, 2>::kBytes;
}
static int cluster_scores_off(int D, int key_type) {
  if (key_type == MSA_KEY_F8E4M3FN)
    return D == 64 ? ClusterSmem<64, 1>::kScoresOff : ClusterSmem<128, 1>::kScoresOff;
  return D == 64 ? ClusterSmem<64, 2>::kScoresOff : ClusterSmem<128, 2>::kScoresOff;
}

// Raises the kernel's shared-memory limit to `bytes`, prefers the largest
// carveout (as many CTAs per SM as shared memory allows) and says how many
// CTAs of `bytes` fit on one SM.
static cudaError_t prepare(DecodeFn kern, int bytes, int *ctas_per_sm) {
  cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  e = cudaFuncSetAttribute(kern, cudaFuncAttributePreferredSharedMemoryCarveout,
                           cudaSharedmemCarveoutMaxShared);
  if (e != cudaSuccess) return e;
  return cudaOccupancyMaxActiveBlocksPerMultiprocessor(ctas_per_sm, kern, kDecThreads,
                                                       (size_t)bytes);
}

cudaError_t decode_prepare(int D, int key_type, int nt, int npl, int *ctas_per_sm) {
  return prepare(decode_fn<false>(D, key_type, nt, npl), smem_bytes(D, key_type), ctas_per_sm);
}

cudaError_t launch_decode(const KParams &p, int nt, int npl, int64_t grid, cudaStream_t st) {
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3((unsigned)grid);
  cfg.blockDim = dim3(kDecThreads);
  cfg.dynamicSmemBytes = (size_t)smem_bytes(p.dim, p.key_type);
  cfg.stream = st;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeCooperative;  // the grid barrier
  attr[0].val.cooperative = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  cudaError_t e = cudaLaunchKernelEx(&cfg, decode_fn<false>(p.dim, p.key_type, nt, npl), p);
  return e != cudaSuccess ? e : cudaGetLastError();
}

size_t decode_cluster_smem(int D, int key_type, int64_t score_rows, int64_t cap) {
  return (size_t)cluster_scores_off(D, key_type) + 4 * (size_t)score_rows * (size_t)cap;
}

static void cluster_config(cudaLaunchConfig_t &cfg, cudaLaunchAttribute (&attr)[2], int cl,
                           int64_t clusters, size_t smem, cudaStream_t st) {
  cfg = {};
  cfg.gridDim = dim3((unsigned)(clusters * cl));
  cfg.blockDim = dim3(kDecThreads);
  cfg.dynamicSmemBytes = smem;
  cfg.stream = st;
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = (unsigned)cl;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  attr[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[1].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 2;
}

cudaError_t decode_cluster_prepare(int D, int key_type, int nt, int npl, int cl, size_t smem,
                                   int *ctas_per_sm, int *clusters_resident) {
  const DecodeFn kern = decode_fn<true>(D, key_type, nt, npl);
  *clusters_resident = 0;
  cudaError_t e = prepare(kern, (int)smem, ctas_per_sm);
  if (e != cudaSuccess || *ctas_per_sm < 1) return e;
  if (cl > 8) {  // 9..16 CTAs per cluster: not portable, allowed on sm_90
    e = cudaFuncSetAttribute(kern, cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
    if (e != cudaSuccess) return e;
  }
  cudaLaunchConfig_t cfg;
  cudaLaunchAttribute attr[2];
  cluster_config(cfg, attr, cl, 1, smem, nullptr);
  return cudaOccupancyMaxActiveClusters(clusters_resident, kern, &cfg);
}

cudaError_t launch_decode_cluster(const KParams &p, int nt, int npl, int cl, size_t smem,
                                  cudaStream_t st) {
  cudaLaunchConfig_t cfg;
  cudaLaunchAttribute attr[2];
  cluster_config(cfg, attr, cl, p.batch, smem, st);
  cudaError_t e = cudaLaunchKernelEx(&cfg, decode_fn<true>(p.dim, p.key_type, nt, npl), p);
  return e != cudaSuccess ? e : cudaGetLastError();
}

} // namespace msa_cuda
