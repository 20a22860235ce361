// msa_cuda_kernels.cu - CUDA kernels of msa.indexer_ragged_paged and the
// stream-ordered launch path (msa_indexer_cuda). Design: docs/GPU.md.
//
// One call is at most four launches, all stream-ordered:
//   1. prep      (1 CTA)   metadata checks (msa_check_sequence), error record,
//                          per-sequence scratch reset, prefill tile offsets.
//   2. prefill   (tensor cores, mma.sync bf16 -> f32) block max scores of the
//                sequences with more than 4 new rows, into the workspace.
//   3. decode    (tensor cores, split key range) sequences with 1..4 rows:
//                block scores, then the last CTA of each sequence selects.
//   4. select    one warp per (head, row) of the prefill sequences: forcing +
//                top-k in registers, writes the result row.
// Shapes the tensor-core kernels do not take go to a generic CUDA-core
// scoring kernel (2'), with the same select. Every block score is computed
// by exactly one CTA with a fixed instruction sequence, so the ids do not
// depend on the grid or on the other sequences of the batch.
#include "msa/msa_checks.h"
#include "msa/msa_cuda_limits.h"
#include "msa/msa_kernels_cuda.h"
#include "msa_cuda_internal.h"

#include <cuda_bf16.h>
#include <cudaTypedefs.h>  // CUtensorMap, PFN_cuTensorMapEncodeTiled
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace msa_cuda {

// ---------------------------------------------------------------------------
// Workspace layout
// ---------------------------------------------------------------------------
static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

Layout make_layout(int64_t rows, int64_t batch, int64_t heads,
                   int64_t nblk_cap) {
  Layout l;
  l.hdr = 0;
  l.counters = kHeaderBytes;
  l.tiles = align_up(l.counters + 4 * (size_t)batch, 256);
  l.scores = align_up(l.tiles + 4 * (size_t)(batch + 1), 256);
  l.total = l.scores + 4 * (size_t)rows * (size_t)heads * (size_t)nblk_cap;
  l.nblk_cap = nblk_cap;
  return l;
}

// ---------------------------------------------------------------------------
// Small device helpers
// ---------------------------------------------------------------------------
__device__ __forceinline__ uint64_t make_key(float s, int j) {
  // Orderable (score desc, id asc) key; 0 = not selectable (-inf, NaN).
  if (!(s > -INFINITY)) return 0ull;
  s = s + 0.0f;  // -0 -> +0: equal scores tie on the id
  uint32_t u = __float_as_uint(s);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ((uint64_t)u << 32) | (uint32_t)(~(uint32_t)j);
}
__device__ __forceinline__ int key_id(uint64_t k) {
  return (int)(~(uint32_t)(k & 0xffffffffu));
}
__device__ __forceinline__ uint64_t warp_max_u64(uint64_t v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    uint64_t w = __shfl_xor_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

// Grid-stride fill of out with -1 (error path: no half-written result).
__device__ void fill_invalid(int32_t *out, int64_t n) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += stride)
    out[i] = -1;
}

// Sequence of row r: largest b with off[b] <= r (off validated).
__device__ __forceinline__ int64_t seq_of_row(const uint32_t *off,
                                              int64_t batch, int64_t r) {
  int64_t lo = 0, hi = batch - 1;
  while (lo < hi) {
    int64_t mid = (lo + hi + 1) >> 1;
    if ((int64_t)off[mid] <= r) lo = mid; else hi = mid - 1;
  }
  // Empty sequences share an offset: the last one with off[b] <= r owns r
  // only if off[b+1] > r; walk back over empty ones is not needed because
  // the largest b with off[b] <= r has off[b+1] > r (off non-decreasing,
  // off[batch] = rows > r).
  return lo;
}

// ---------------------------------------------------------------------------
// Selection: one warp picks the row's blocks from its scores.
// NPL > 0: each lane keeps NPL candidates in registers (nblk <= 32 * NPL).
// NPL == 0: candidates are re-read from memory every round (any nblk).
// ---------------------------------------------------------------------------
template <int NPL>
__device__ void select_row(const float *__restrict__ sc, int nblk,
                           const KParams &p, int32_t *__restrict__ out) {
  const int lane = threadIdx.x & 31;
  const int topk = p.topk;
  const int L0 = max(0, nblk - p.local_blocks);
  const int I1 = min(p.init_blocks, L0);
  const int nf = I1 + (nblk - L0);
  const int r = topk - nf;  // >= 0: init + local <= topk (checked on host)
  uint64_t keys[NPL > 0 ? NPL : 1];
  if (NPL > 0) {
#pragma unroll
    for (int i = 0; i < NPL; ++i) {
      const int j = lane + 32 * i;
      keys[i] = (j >= I1 && j < L0) ? make_key(__ldcg(sc + j), j) : 0ull;
    }
  }
  const bool score_order = p.order == MSA_ORDER_SCORE;
  if (score_order)
    for (int i = lane; i < nf; i += 32) out[i] = i < I1 ? i : L0 + (i - I1);
  uint64_t prev = ~0ull;
  int cnt = 0;
  for (; cnt < r; ++cnt) {
    uint64_t best = 0;
    if (NPL > 0) {
#pragma unroll
      for (int i = 0; i < NPL; ++i)
        if (keys[i] < prev && keys[i] > best) best = keys[i];
    } else {
      for (int j = I1 + lane; j < L0; j += 32) {
        const uint64_t k = make_key(__ldcg(sc + j), j);
        if (k < prev && k > best) best = k;
      }
    }
    best = warp_max_u64(best);
    if (best == 0) break;
    if (score_order && lane == 0) out[nf + cnt] = key_id(best);
    prev = best;
  }
  const int total = nf + cnt;
  if (!score_order) {
    // Ascending block ids: forced, or a selectable key >= the last selected.
    int base = 0;
    for (int j0 = 0; j0 < nblk; j0 += 32) {
      const int j = j0 + lane;
      bool sel = false;
      if (j < nblk) {
        if (j < I1 || j >= L0) {
          sel = true;
        } else if (cnt > 0) {
          const uint64_t k = make_key(__ldcg(sc + j), j);
          sel = k != 0 && k >= prev;
        }
      }
      const unsigned m = __ballot_sync(0xffffffffu, sel);
      if (sel) out[base + __popc(m & ((1u << lane) - 1u))] = j;
      base += __popc(m);
    }
  }
  for (int i = total + lane; i < topk; i += 32) out[i] = -1;
}

// select_row<8> with fewer instructions per round, for select_kernel (the
// prefill rows; nblk <= 256). Same result (the keys are unique, so the
// top-r set and its order are too): each lane sorts its 8 keys descending
// once (Batcher's 19-comparator network); a round is then two 32-bit warp
// reductions (redux.sync: max of the heads' high words, then max of the low
// words among the lanes holding that high word = the warp's largest key)
// and a shift of the winning lane's list, instead of an 8-key scan and a
// 5-step 64-bit shuffle reduction. The score-order ids of the first 32
// rounds are kept one per lane and stored together.
__device__ __forceinline__ void cx_desc(uint64_t &a, uint64_t &b) {
  const uint64_t x = a > b ? a : b, y = a > b ? b : a;
  a = x;
  b = y;
}
__device__ void select_row_s8(const float *__restrict__ sc, int nblk, const KParams &p,
                              int32_t *__restrict__ out) {
  const int lane = threadIdx.x & 31;
  const int topk = p.topk;
  const int L0 = max(0, nblk - p.local_blocks);
  const int I1 = min(p.init_blocks, L0);
  const int nf = I1 + (nblk - L0);
  const int r = topk - nf;  // >= 0: init + local <= topk (checked on host)
  uint64_t k[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int j = lane + 32 * i;
    k[i] = (j >= I1 && j < L0) ? make_key(__ldcg(sc + j), j) : 0ull;
  }
  cx_desc(k[0], k[1]); cx_desc(k[2], k[3]); cx_desc(k[4], k[5]); cx_desc(k[6], k[7]);
  cx_desc(k[0], k[2]); cx_desc(k[1], k[3]); cx_desc(k[4], k[6]); cx_desc(k[5], k[7]);
  cx_desc(k[1], k[2]); cx_desc(k[5], k[6]);
  cx_desc(k[0], k[4]); cx_desc(k[1], k[5]); cx_desc(k[2], k[6]); cx_desc(k[3], k[7]);
  cx_desc(k[2], k[4]); cx_desc(k[3], k[5]);
  cx_desc(k[1], k[2]); cx_desc(k[3], k[4]); cx_desc(k[5], k[6]);
  const bool score_order = p.order == MSA_ORDER_SCORE;
  if (score_order)
    for (int i = lane; i < nf; i += 32) out[i] = i < I1 ? i : L0 + (i - I1);
  uint64_t prev = ~0ull;
  int cnt = 0;
  int32_t mine = -1;
  for (; cnt < r; ++cnt) {
    const uint32_t hi = (uint32_t)(k[0] >> 32), lo = (uint32_t)k[0];
    const uint32_t mh = __reduce_max_sync(0xffffffffu, hi);
    if (mh == 0u) break;  // valid keys have a non-zero high word
    const uint32_t ml = __reduce_max_sync(0xffffffffu, hi == mh ? lo : 0u);
    if (hi == mh && lo == ml) {
#pragma unroll
      for (int i = 0; i < 7; ++i) k[i] = k[i + 1];
      k[7] = 0ull;
    }
    prev = ((uint64_t)mh << 32) | ml;
    const int32_t id = (int32_t)~ml;  // key_id(prev)
    if (cnt < 32) {
      if (lane == cnt) mine = id;
    } else if (score_order && lane == 0) {
      out[nf + cnt] = id;
    }
  }
  if (score_order && lane < min(cnt, 32)) out[nf + lane] = mine;
  const int total = nf + cnt;
  if (!score_order) {
    // Ascending block ids: forced, or a selectable key >= the last selected.
    int base = 0;
    for (int j0 = 0; j0 < nblk; j0 += 32) {
      const int j = j0 + lane;
      bool sel = false;
      if (j < nblk) {
        if (j < I1 || j >= L0) {
          sel = true;
        } else if (cnt > 0) {
          const uint64_t kk = make_key(__ldcg(sc + j), j);
          sel = kk != 0 && kk >= prev;
        }
      }
      const unsigned m = __ballot_sync(0xffffffffu, sel);
      if (sel) out[base + __popc(m & ((1u << lane) - 1u))] = j;
      base += __popc(m);
    }
  }
  for (int i = total + lane; i < topk; i += 32) out[i] = -1;
}

template <int NPL>
__device__ __forceinline__ void select_row_dispatch(const float *sc, int nblk,
                                                    const KParams &p,
                                                    int32_t *out) {
  select_row<NPL>(sc, nblk, p, out);
}

// Every sequence against msa_check_sequence's rules (plus the workspace and
// max_new_tokens bounds), a warp per sequence with the page-id scan spread
// over the lanes; the smallest failing sequence goes to *s_bad (shared,
// LLONG_MAX when none). The caller syncs before reading it.
__device__ void check_batch(const KParams &p, long long *s_bad) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
  const uint32_t *off = p.off;
  for (int64_t b = warp; b < p.batch; b += nwarps) {
    // Mirror of msa_check_sequence's rules, with the page scan spread over
    // the warp; a failing sequence is re-checked by msa_check_sequence.
    const int64_t begin = off[b], end = off[b + 1];
    bool bad = (b == 0 && begin != 0) || end < begin || end > p.rows ||
               (b == p.batch - 1 && end != p.rows);
    int64_t newt = 0, keys = 0;
    if (!bad) {
      newt = end - begin;
      const int64_t prefix = p.prefix[b], cached = p.cache[b];
      bad = prefix > cached || newt > (int64_t)p.kmax[0] ||
            cached + newt > (int64_t)p.kmax[1];
      keys = prefix + newt;
    }
    if (!bad && newt > 0) {
      const int64_t pages = (keys + p.page_size - 1) / p.page_size;
      bad = pages > p.max_pages;
      if (!bad) {
        bool lbad = false;
        for (int64_t pg = lane; pg < pages; pg += 32)
          lbad |= (int64_t)p.lut[b * p.max_pages + pg] >= p.num_pages;
        bad = __any_sync(0xffffffffu, lbad);
      }
      if (!bad) {
        const int64_t nblk = (keys + p.bs - 1) / p.bs;
        bad = nblk > p.lay.nblk_cap || newt > p.max_new;
      }
    }
    if (bad && lane == 0) atomicMin(s_bad, (long long)b);
  }
}

// The error record of the smallest failing sequence b (one thread).
__device__ void write_error_record(const KParams &p, Header *hdr, int64_t b) {
  const uint32_t *off = p.off;
  msa_check_result_t r = msa_check_sequence(
      b, p.batch, p.rows, off, p.prefix, p.cache, p.lut, p.max_pages,
      p.num_pages, p.page_size, p.kmax);
  if (r.code != MSA_CHECK_OK) {
    hdr->err = kErrMetadata;
  } else {
    const int64_t newt = (int64_t)off[b + 1] - off[b];
    const int64_t keys = (int64_t)p.prefix[b] + newt;
    const int64_t nblk = (keys + p.bs - 1) / p.bs;
    if (nblk > p.lay.nblk_cap) {
      hdr->err = kErrWorkspace;
      r = msa_check_fail(0, b, nblk, p.lay.nblk_cap, keys);
    } else {
      hdr->err = kErrNewBound;
      r = msa_check_fail(0, b, newt, p.max_new, 0);
    }
  }
  hdr->rec = r;
}

// ---------------------------------------------------------------------------
// 1. prep: metadata checks, scratch reset, prefill tile offsets. One CTA.
// ---------------------------------------------------------------------------
__global__ void __launch_bounds__(512) prep_kernel(KParams p) {
  Header *hdr = reinterpret_cast<Header *>(p.ws + p.lay.hdr);
  uint32_t *counters = reinterpret_cast<uint32_t *>(p.ws + p.lay.counters);
  int32_t *tiles = reinterpret_cast<int32_t *>(p.ws + p.lay.tiles);
  __shared__ long long s_bad;
  __shared__ int s_scan[33];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int nwarps = blockDim.x >> 5;
  if (tid == 0) s_bad = LLONG_MAX;
  __syncthreads();
  const uint32_t *off = p.off;
  if (p.batch == 0) {
    if (tid == 0) {
      msa_check_result_t r = msa_check_empty_batch(p.rows, off);
      hdr->err = r.code != MSA_CHECK_OK ? kErrMetadata : kErrNone;
      hdr->rec = r;
    }
    return;
  }
  check_batch(p, &s_bad);
  for (int64_t b = tid; b < p.batch; b += blockDim.x) counters[b] = 0;
  __syncthreads();
  if (tid == 0) {
    hdr->err = kErrNone;
    if (s_bad != LLONG_MAX) write_error_record(p, hdr, s_bad);
  }
  if (p.tile_rows <= 0) return;
  // Exclusive prefix sum of prefill tiles (sequences with > kDecRows rows,
  // or every sequence when the decode kernel is not used).
  __syncthreads();
  const bool err = s_bad != LLONG_MAX;
  int carry = 0;
  for (int64_t b0 = 0; b0 < p.batch; b0 += blockDim.x) {
    const int64_t b = b0 + tid;
    int v = 0;
    if (b < p.batch && !err) {
      const int64_t newt = (int64_t)off[b + 1] - off[b];
      if (newt > p.dec_rows) v = (int)((newt + p.tile_rows - 1) / p.tile_rows);
    }
    int x = v;  // inclusive warp scan
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      int y = __shfl_up_sync(0xffffffffu, x, o);
      if (lane >= o) x += y;
    }
    if (lane == 31) s_scan[warp] = x;
    __syncthreads();
    if (warp == 0) {
      int w = lane < nwarps ? s_scan[lane] : 0;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(0xffffffffu, w, o);
        if (lane >= o) w += y;
      }
      if (lane < nwarps) s_scan[lane] = w;  // inclusive over warps
    }
    __syncthreads();
    const int before = carry + (warp > 0 ? s_scan[warp - 1] : 0) + (x - v);
    if (b < p.batch) tiles[b] = before;
    carry += s_scan[nwarps - 1];
    __syncthreads();
  }
  if (tid == 0) tiles[p.batch] = carry;
}

// ---------------------------------------------------------------------------
// PTX wrappers
// ---------------------------------------------------------------------------
__device__ __forceinline__ uint32_t smem_u32(const void *p) {
  return (uint32_t)__cvta_generic_to_shared(p);
}
__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src,
                                           bool pred) {
  const int n = pred ? 16 : 0;  // 0: zero-fill, nothing read
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst),
               "l"(src), "r"(n));
}
__device__ __forceinline__ void cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t addr, uint32_t &r0,
                                            uint32_t &r1, uint32_t &r2,
                                            uint32_t &r3) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
      : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
      : "r"(addr));
}
__device__ __forceinline__ void mma_bf16(float *c, uint32_t a0, uint32_t a1,
                                         uint32_t a2, uint32_t a3,
                                         uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// ---------------------------------------------------------------------------
// 2. prefill: tensor-core block max scores.
// CTA: 8 warps, M = 128 stacked (row, head) pairs (tile_rows = 128 / H rows
// of one sequence), N = 128 keys per step, K = D. Warp w: m in
// [32 (w % 4), +32), n in [64 (w / 4), +64). Q fragments stay in registers;
// K tiles stream through a 3-stage cp.async pipeline (128-byte XOR swizzle).
// ---------------------------------------------------------------------------
constexpr int kPfThreads = 256;
constexpr int kPfStages = 3;

template <int D>
struct PfSmem {
  static constexpr int kRowBytes = D * 2;
  static constexpr int kTileBytes = 128 * kRowBytes;
  static constexpr int kQOff = 0;
  static constexpr int kKOff = kTileBytes;
  static constexpr int kRedOff = kKOff + kPfStages * kTileBytes;  // [2][2][128]
  static constexpr int kBytes = kRedOff + 2 * 2 * 128 * 4;
};

// Swizzled byte offset of 16-byte chunk c of row n.
template <int D>
__device__ __forceinline__ uint32_t swz(int n, int c) {
  return (uint32_t)(n * (D * 2) + ((c ^ (n & 7)) << 4));
}

template <int D>
__global__ void __launch_bounds__(kPfThreads, 1) prefill_kernel(KParams p) {
  extern __shared__ __align__(128) unsigned char smem[];
  using S = PfSmem<D>;
  const Header *hdr = reinterpret_cast<const Header *>(p.ws + p.lay.hdr);
  if (hdr->err != kErrNone) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  const int32_t *tiles = reinterpret_cast<const int32_t *>(p.ws + p.lay.tiles);
  const int total_tiles = tiles[p.batch];
  const int tile = total_tiles - 1 - (int)blockIdx.x;  // longest first
  if (tile < 0) return;
  // Sequence of this tile: largest b with tiles[b] <= tile.
  int64_t lo = 0, hi = p.batch - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) >> 1;
    if (tiles[mid] <= tile) lo = mid; else hi = mid - 1;
  }
  const int64_t b = lo;
  const int TR = p.tile_rows, H = p.heads;
  const int64_t seq_begin = p.off[b];
  const int new_rows = (int)((int64_t)p.off[b + 1] - seq_begin);
  const int i0 = (tile - tiles[b]) * TR;  // first local row of the tile
  const int nrows = min(TR, new_rows - i0);
  const int64_t P = p.prefix[b];
  const int64_t n_first = P + i0 + 1;           // keys seen by the first row
  const int64_t n_last = P + i0 + nrows;        // keys seen by the last row
  const int ntiles = (int)((n_last + 127) / 128);
  const int mvalid = nrows * H;
  const int bs = p.bs;
  const uint32_t *lut = p.lut + b * p.max_pages;
  const size_t page_stride = (size_t)p.num_layers * p.page_size * D;
  const uint16_t *kbase = p.k + (size_t)p.layer * p.page_size * D;

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const uint32_t sbase = smem_u32(smem);
  float *red = reinterpret_cast<float *>(smem + S::kRedOff);

  // ---- Q tile -> smem (rows past the tile are zero) ----
  {
    const uint16_t *qt = p.q + ((size_t)(seq_begin + i0) * H) * D;
    constexpr int CPR = D / 8;  // 16-byte chunks per row
    for (int idx = tid; idx < 128 * CPR; idx += kPfThreads) {
      const int m = idx / CPR, c = idx % CPR;
      const bool ok = m < mvalid;
      cp_async16(sbase + S::kQOff + swz<D>(m, c),
                 ok ? (const void *)(qt + (size_t)m * D + c * 8)
                    : (const void *)p.q,
                 ok);
    }
    cp_async_commit();
  }
  // ---- K tile loader ----
  // Thread tid always loads chunk c = tid % CPR of rows n = tid / CPR + k *
  // (threads / CPR). The page ids of the next tile are fetched one
  // iteration ahead (pgv), so no lookup latency sits before the cp.async.
  constexpr int CPR = D / 8;
  constexpr int RSTEP = kPfThreads / CPR;
  constexpr int RPT = 128 / RSTEP;
  const int lc = tid % CPR, lr = tid / CPR;
  const bool bs_pow2 = (bs & (bs - 1)) == 0;
  const int bs_sh = __ffs(bs) - 1;
  uint32_t pgv[RPT];
  auto fetch_pages = [&](int tt) {
#pragma unroll
    for (int k = 0; k < RPT; ++k) {
      const int64_t pos = (int64_t)tt * 128 + lr + k * RSTEP;
      const int64_t pg = bs_pow2 ? (pos >> bs_sh) : pos / bs;
      pgv[k] = (tt < ntiles && pos < n_last) ? __ldg(lut + pg) : 0u;
    }
  };
  auto load_k = [&](int t, int stage) {
    const uint32_t dst0 = sbase + S::kKOff + stage * S::kTileBytes;
#pragma unroll
    for (int k = 0; k < RPT; ++k) {
      const int n = lr + k * RSTEP;
      const int64_t pos = (int64_t)t * 128 + n;
      const bool ok = pos < n_last;
      const int64_t within = bs_pow2 ? (pos & (bs - 1)) : pos % bs;
      const uint16_t *src =
          ok ? kbase + (size_t)pgv[k] * page_stride + (size_t)within * D + lc * 8
             : p.k;
      cp_async16(dst0 + swz<D>(n, lc), src, ok);
    }
  };
#pragma unroll
  for (int s = 0; s < kPfStages - 1; ++s) {
    if (s < ntiles) {
      fetch_pages(s);
      load_k(s, s);
    }
    cp_async_commit();
  }
  fetch_pages(kPfStages - 1);
  // ---- Q fragments ----
  constexpr int KS = D / 16;
  const int wm = (warp & 3) * 32, wn = (warp >> 2) * 64;
  uint32_t qa[2][KS][4];
  cp_async_wait<kPfStages - 1>();  // the Q group is the oldest
  __syncthreads();
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int ks = 0; ks < KS; ++ks) {
      const int row = wm + mt * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
      const int ch = ks * 2 + (lane >> 4);
      ldmatrix_x4(sbase + S::kQOff + swz<D>(row, ch), qa[mt][ks][0],
                  qa[mt][ks][1], qa[mt][ks][2], qa[mt][ks][3]);
    }

  // Per-thread state of the cross-warp combine (threads 0..127 own m = tid).
  float blk_run = -INFINITY;
  const float scale = p.scale;
  const int g = lane >> 2, t4 = lane & 3;
  // Row limits of the 4 (mt, half) rows this lane's accumulators hold.
  int64_t lim[2][2];
  bool mrow_ok[2][2];
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      const int m = wm + mt * 16 + g + hf * 8;
      mrow_ok[mt][hf] = m < mvalid;
      lim[mt][hf] = P + i0 + m / H + 1;
    }
  const bool big_block = bs >= 128;

  auto write_score = [&](int m, int64_t j, float v) {
    const int rr = m / H, h = m - rr * H;
    const int64_t row = seq_begin + i0 + rr;
    p.scores[((size_t)h * p.rows + row) * p.lay.nblk_cap + j] = v;
  };
  // Combine the two warps' halves of tile tt (bs >= 128 only).
  auto combine = [&](int tt) {
    if (tid < 128) {
      const float *rb = red + (tt & 1) * 256;
      blk_run = fmaxf(blk_run, fmaxf(rb[tid], rb[128 + tid]));
      const int64_t pos0 = (int64_t)tt * 128;
      const int64_t j = pos0 / bs;
      const bool last_of_block =
          ((pos0 + 128) % bs == 0) || (tt == ntiles - 1);
      if (last_of_block) {
        const int m = tid;
        if (m < mvalid && j * bs < P + i0 + m / H + 1) write_score(m, j, blk_run);
        blk_run = -INFINITY;
      }
    }
  };

  for (int t = 0; t < ntiles; ++t) {
    cp_async_wait<kPfStages - 2>();
    __syncthreads();
    if (big_block && t > 0) combine(t - 1);
    {
      const int tn = t + kPfStages - 1;
      if (tn < ntiles) load_k(tn, tn % kPfStages);
      cp_async_commit();
      fetch_pages(tn + 1);  // in flight during this tile's MMAs
    }
    const uint32_t kst = sbase + S::kKOff + (t % kPfStages) * S::kTileBytes;
    float acc[2][8][4];
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[mt][nt][e] = 0.f;
#pragma unroll
    for (int ks = 0; ks < KS; ++ks) {
      uint32_t bfr[8][2];
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        const int n = wn + np * 16 + (lane >> 4) * 8 + (lane & 7);
        const int ch = ks * 2 + ((lane >> 3) & 1);
        ldmatrix_x4(kst + swz<D>(n, ch), bfr[2 * np][0], bfr[2 * np][1],
                    bfr[2 * np + 1][0], bfr[2 * np + 1][1]);
      }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 8; ++nt)
          mma_bf16(acc[mt][nt], qa[mt][ks][0], qa[mt][ks][1], qa[mt][ks][2],
                   qa[mt][ks][3], bfr[nt][0], bfr[nt][1]);
    }
    // ---- epilogue: scale, causal mask (diagonal tiles only), group max ----
    const int64_t pos0 = (int64_t)t * 128;
    const bool masked = pos0 + 128 > n_first;
    // gm[mt][hf][q]: max over the 16 columns of n-tile pair q of this lane.
    float gm[2][2][4];
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int hf = 0; hf < 2; ++hf)
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          float v = -INFINITY;
#pragma unroll
          for (int u = 0; u < 2; ++u)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              float x = acc[mt][2 * q + u][hf * 2 + e] * scale;
              if (masked) {
                const int64_t pos = pos0 + wn + (2 * q + u) * 8 + t4 * 2 + e;
                if (pos >= lim[mt][hf]) x = -INFINITY;
              }
              v = fmaxf(v, x);
            }
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
          gm[mt][hf][q] = v;
        }
    if (big_block) {
      if (t4 == 0) {
        float *rb = red + (t & 1) * 256 + (warp >> 2) * 128;
#pragma unroll
        for (int mt = 0; mt < 2; ++mt)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf)
            rb[wm + mt * 16 + g + hf * 8] =
                fmaxf(fmaxf(gm[mt][hf][0], gm[mt][hf][1]),
                      fmaxf(gm[mt][hf][2], gm[mt][hf][3]));
      }
    } else {
      // bs in {16, 32, 64}: the block lies inside this warp's 64 columns.
      const int per = bs / 16;  // n-tile pairs per block
      if (t4 < 4 / per) {
        // lane t4 writes block q0 = t4 * per .. (per pairs)
#pragma unroll
        for (int mt = 0; mt < 2; ++mt)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf) {
            if (!mrow_ok[mt][hf]) continue;
            float v = -INFINITY;
#pragma unroll
            for (int q = 0; q < 4; ++q)
              if (q / per == t4) v = fmaxf(v, gm[mt][hf][q]);
            const int64_t j = (pos0 + wn + t4 * bs) / bs;
            if (j * bs < lim[mt][hf])
              write_score(wm + mt * 16 + g + hf * 8, j, v);
          }
      }
    }
  }
  if (big_block && ntiles > 0) {
    __syncthreads();
    combine(ntiles - 1);
  }
  cp_async_wait<0>();
}

// ---------------------------------------------------------------------------
// 2 (sm_90a). prefill on wgmma: the same tile as above (M = 128 stacked
// (row, head) pairs, N = 128 keys, K = D) as two warpgroups of 64 x 128,
// wgmma.mma_async m64n128k16 with A (Q) and B (K) from shared memory in the
// canonical K-major 128-byte-swizzle layout: each 64-column half of a tile is
// [128 rows][128 B], 16-byte chunk c of row n at ((c ^ (n & 7)) << 4). A
// thread holds whole rows of the 128-key tile, so the block max needs no
// cross-warp step, and the running max of blocks wider than 128 keys stays in
// registers. 2 stages, 2 CTAs per SM: one CTA's epilogue overlaps the other's
// MMAs.
// ---------------------------------------------------------------------------
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define MSA_HAVE_WGMMA 1
#endif
template <int D, int STAGES>
struct WgSmem {
  static constexpr int kTileBytes = 128 * D * 2;
  static constexpr int kQOff = 0;
  static constexpr int kKOff = kTileBytes;
  static constexpr int kBytes = kKOff + STAGES * kTileBytes + 1024;  // + align
};

__device__ __forceinline__ uint32_t swz128(int n, int c) {
  return (uint32_t)((c >> 3) * (128 * 128) + n * 128 + (((c & 7) ^ (n & 7)) << 4));
}

__device__ __forceinline__ uint64_t wg_desc(uint32_t saddr) {
  uint64_t d = 0;
  d |= (uint64_t)((saddr & 0x3FFFF) >> 4);
  d |= (uint64_t)1 << 16;             // leading byte offset (unused here)
  d |= (uint64_t)(1024 >> 4) << 32;   // stride byte offset: 8 rows x 128 B
  d |= (uint64_t)1 << 62;             // 128-byte swizzle
  return d;
}

#ifdef MSA_HAVE_WGMMA
__device__ __forceinline__ void wgmma_m64n128k16(float *d, uint64_t da,
                                                 uint64_t db) {
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, p, 1, 1, 0, 0;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]),
        "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]),
        "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]),
        "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]),
        "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]),
        "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]),
        "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]),
        "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]),
        "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]),
        "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]),
        "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]),
        "+f"(d[62]), "+f"(d[63])
      : "l"(da), "l"(db), "r"(1));
}
#endif

template <int D, int MINB, int kWgStages>
__global__ void __launch_bounds__(kPfThreads, MINB) prefill_wg_kernel(KParams p) {
#ifdef MSA_HAVE_WGMMA
  extern __shared__ unsigned char smem_raw[];
  using S = WgSmem<D, kWgStages>;
  const Header *hdr = reinterpret_cast<const Header *>(p.ws + p.lay.hdr);
  if (hdr->err != kErrNone) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  const int32_t *tiles = reinterpret_cast<const int32_t *>(p.ws + p.lay.tiles);
  const int total_tiles = tiles[p.batch];
  const int tile = total_tiles - 1 - (int)blockIdx.x;  // longest first
  if (tile < 0) return;
  int64_t lo = 0, hi = p.batch - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) >> 1;
    if (tiles[mid] <= tile) lo = mid; else hi = mid - 1;
  }
  const int64_t b = lo;
  const int TR = p.tile_rows, H = p.heads;
  const int64_t seq_begin = p.off[b];
  const int new_rows = (int)((int64_t)p.off[b + 1] - seq_begin);
  const int i0 = (tile - tiles[b]) * TR;
  const int nrows = min(TR, new_rows - i0);
  const int64_t P = p.prefix[b];
  const int64_t n_first = P + i0 + 1;
  const int64_t n_last = P + i0 + nrows;
  const int ntiles = (int)((n_last + 127) / 128);
  const int mvalid = nrows * H;
  const int bs = p.bs;
  const uint32_t *lut = p.lut + b * p.max_pages;
  const size_t page_stride = (size_t)p.num_layers * p.page_size * D;
  const uint16_t *kbase = p.k + (size_t)p.layer * p.page_size * D;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  // 1024-byte aligned base (the swizzle pattern follows address bits 4-9)
  const uint32_t sraw = smem_u32(smem_raw);
  const uint32_t sbase = (sraw + 1023u) & ~1023u;

  constexpr int CPR = D / 8;
  constexpr int RSTEP = kPfThreads / CPR;
  constexpr int RPT = 128 / RSTEP;
  const int lc = tid % CPR, lr = tid / CPR;
  {
    const uint16_t *qt = p.q + ((size_t)(seq_begin + i0) * H) * D;
#pragma unroll
    for (int k = 0; k < RPT; ++k) {
      const int m = lr + k * RSTEP;
      const bool ok = m < mvalid;
      cp_async16(sbase + S::kQOff + swz128(m, lc),
                 ok ? (const void *)(qt + (size_t)m * D + lc * 8) : (const void *)p.q, ok);
    }
  }
  const bool bs_pow2 = (bs & (bs - 1)) == 0;
  const int bs_sh = __ffs(bs) - 1;
  uint32_t pgv[RPT];
  auto fetch_pages = [&](int tt) {
#pragma unroll
    for (int k = 0; k < RPT; ++k) {
      const int64_t pos = (int64_t)tt * 128 + lr + k * RSTEP;
      const int64_t pg = bs_pow2 ? (pos >> bs_sh) : pos / bs;
      pgv[k] = (tt < ntiles && pos < n_last) ? __ldg(lut + pg) : 0u;
    }
  };
  auto load_k = [&](int t, int stage) {
    const uint32_t dst0 = sbase + S::kKOff + stage * S::kTileBytes;
#pragma unroll
    for (int k = 0; k < RPT; ++k) {
      const int n = lr + k * RSTEP;
      const int64_t pos = (int64_t)t * 128 + n;
      const bool ok = pos < n_last;
      const int64_t within = bs_pow2 ? (pos & (bs - 1)) : pos % bs;
      const uint16_t *src =
          ok ? kbase + (size_t)pgv[k] * page_stride + (size_t)within * D + lc * 8 : p.k;
      cp_async16(dst0 + swz128(n, lc), src, ok);
    }
  };
#pragma unroll
  for (int st = 0; st < kWgStages - 1; ++st) {  // first group: Q + tile 0
    if (st < ntiles) {
      fetch_pages(st);
      load_k(st, st);
    }
    cp_async_commit();
  }
  fetch_pages(kWgStages - 1);

  const int wg = warp >> 2;
  const int g = lane >> 2, t4 = lane & 3;
  const int mrow0 = wg * 64 + (warp & 3) * 16 + g;  // rows mrow0, mrow0 + 8
  int64_t lim[2];
  bool rok[2];
#pragma unroll
  for (int hf = 0; hf < 2; ++hf) {
    const int m = mrow0 + hf * 8;
    rok[hf] = m < mvalid;
    lim[hf] = P + i0 + m / H + 1;
  }
  const float scale = p.scale;
  const bool big_block = bs >= 128;
  float run[2] = {-INFINITY, -INFINITY};
  auto write_score = [&](int m, int64_t j, float v) {
    const int rr = m / H, h = m - rr * H;
    const int64_t row = seq_begin + i0 + rr;
    p.scores[((size_t)h * p.rows + row) * p.lay.nblk_cap + j] = v;
  };

  for (int t = 0; t < ntiles; ++t) {
    cp_async_wait<kWgStages - 2>();
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    {
      const int tn = t + kWgStages - 1;
      if (tn < ntiles) load_k(tn, tn % kWgStages);
      cp_async_commit();
      fetch_pages(tn + 1);
    }
    const uint32_t kst = sbase + S::kKOff + (t % kWgStages) * S::kTileBytes;
    const uint32_t qst = sbase + S::kQOff + wg * 64 * 128;
    float acc[64];
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[i] = 0.f;
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      const uint32_t off = (ks >> 2) * (128 * 128) + (ks & 3) * 32;
      wgmma_m64n128k16(acc, wg_desc(qst + off), wg_desc(kst + off));
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
    // ---- epilogue ----
    const int64_t pos0 = (int64_t)t * 128;
    const bool masked = pos0 + 128 > n_first;
    float gm[2][8];  // max over 16-column groups, this lane's rows
#pragma unroll
    for (int hf = 0; hf < 2; ++hf)
#pragma unroll
      for (int q = 0; q < 8; ++q) {
        float v = -INFINITY;
#pragma unroll
        for (int u = 0; u < 2; ++u)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            float x = acc[(2 * q + u) * 4 + hf * 2 + e] * scale;
            if (masked) {
              const int64_t pos = pos0 + (2 * q + u) * 8 + t4 * 2 + e;
              if (pos >= lim[hf]) x = -INFINITY;
            }
            v = fmaxf(v, x);
          }
        gm[hf][q] = v;
      }
    if (big_block) {
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        float v = gm[hf][0];
#pragma unroll
        for (int q = 1; q < 8; ++q) v = fmaxf(v, gm[hf][q]);
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
        run[hf] = fmaxf(run[hf], v);
      }
      const int64_t j = pos0 / bs;
      if (((pos0 + 128) % bs == 0) || t == ntiles - 1) {
        if (t4 == 0)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf)
            if (rok[hf] && j * bs < lim[hf]) write_score(mrow0 + hf * 8, j, run[hf]);
        run[0] = run[1] = -INFINITY;
      }
    } else {
#pragma unroll
      for (int hf = 0; hf < 2; ++hf)
#pragma unroll
        for (int q = 0; q < 8; ++q) {
          float v = gm[hf][q];
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
          gm[hf][q] = v;
        }
      const int per = bs / 16;         // 16-column groups per block
      const int nb = 8 / per;          // blocks in this 128-key tile
      // lane t4 writes blocks t4, t4 + 4 (of nb)
#pragma unroll
      for (int w = 0; w < 2; ++w) {
        const int blk = t4 + 4 * w;
        if (blk < nb) {
#pragma unroll
          for (int hf = 0; hf < 2; ++hf) {
            float v = -INFINITY;
#pragma unroll
            for (int q = 0; q < 8; ++q)
              if (q / per == blk) v = fmaxf(v, gm[hf][q]);
            const int64_t j = (pos0 + blk * bs) / bs;
            if (rok[hf] && j * bs < lim[hf]) write_score(mrow0 + hf * 8, j, v);
          }
        }
      }
    }
  }
  cp_async_wait<0>();
#endif
}

// ---------------------------------------------------------------------------
// 2 (sm_90a, warp-specialised). The wgmma tile of prefill_wg_kernel (M = 128
// stacked (row, head) pairs, N = 128 keys, K = D, the same instructions, the
// same epilogue: bit-identical scores) with the FA3 structure, for
// block_size = page_size a multiple of 128 (a 128-key tile is 128
// consecutive rows of one page):
//   warpgroup 0  producer: one thread issues the bulk tensor copies (TMA,
//                128-byte swizzle, the wgmma layout directly) of Q once and
//                of each key tile into a kTmaStages-deep ring, completing on
//                the stage's "full" mbarrier; it waits on the stage's "empty"
//                mbarrier before reusing it. setmaxnreg gives its registers
//                to the consumers.
//   warpgroups 1, 2  consumers, 64 pairs each: tile t + 1's wgmma is issued
//                (async) before tile t's epilogue, so the tensor cores work
//                while the epilogue (scale, diagonal mask, block max, score
//                store) runs; two accumulator sets, 2 x 64 registers.
// No CTA-wide barrier in the loop. Keys past the sequence inside the last
// tile are real memory (same page) or zero fill, and always masked.
// ---------------------------------------------------------------------------
constexpr int kTmaThreads = 384;
constexpr int kTmaStages = 4;
template <int D>
struct TmaSmem {
  static constexpr int kTileBytes = 128 * D * 2;
  static constexpr int kQOff = 0;
  static constexpr int kKOff = kTileBytes;
  static constexpr int kBarOff = kKOff + kTmaStages * kTileBytes;  // full, empty, q
  static constexpr int kBytes = kBarOff + (2 * kTmaStages + 1) * 8 + 1024;  // + align
};
#ifdef MSA_HAVE_WGMMA

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar),
               "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  uint32_t done;
  do {
    asm volatile(
        "{\n.reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const CUtensorMap *map, int c0,
                                            int c1, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes "
      "[%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(bar)
      : "memory");
}
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Pins the accumulators around the asynchronous wgmma (no copies across it).
__device__ __forceinline__ void acc_fence(float *acc) {
#pragma unroll
  for (int i = 0; i < 64; ++i) asm volatile("" : "+f"(acc[i])::"memory");
}

#endif

// LOOP 1: the consumer loop as straight-line code with one accumulator set
// in flight at every branch (see below); LOOP 2 (default): the same loop,
// and the epilogue scales each block max once instead of every dot (when
// scale > 0); LOOP 0: the first version's loop (MSA_CUDA_PREFILL=tma0, for
// the benchmark), whose early exits made ptxas inject a warpgroup wait
// (C7517). All three store bit-identical scores (docs/PERFORMANCE.md).
template <int D, int LOOP>
__global__ void __launch_bounds__(kTmaThreads, 1)
    prefill_tma_kernel(const __grid_constant__ CUtensorMap tmq,
                       const __grid_constant__ CUtensorMap tmk, KParams p) {
#ifdef MSA_HAVE_WGMMA
  extern __shared__ unsigned char smem_raw[];
  using S = TmaSmem<D>;
  const Header *hdr = reinterpret_cast<const Header *>(p.ws + p.lay.hdr);
  if (hdr->err != kErrNone) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  const int32_t *tiles = reinterpret_cast<const int32_t *>(p.ws + p.lay.tiles);
  const int total_tiles = tiles[p.batch];
  const int tile = total_tiles - 1 - (int)blockIdx.x;  // longest first
  if (tile < 0) return;
  int64_t lo = 0, hi = p.batch - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) >> 1;
    if (tiles[mid] <= tile) lo = mid; else hi = mid - 1;
  }
  const int64_t b = lo;
  const int TR = p.tile_rows, H = p.heads;
  const int64_t seq_begin = p.off[b];
  const int new_rows = (int)((int64_t)p.off[b + 1] - seq_begin);
  const int i0 = (tile - tiles[b]) * TR;
  const int nrows = min(TR, new_rows - i0);
  const int64_t P = p.prefix[b];
  const int64_t n_first = P + i0 + 1;
  const int64_t n_last = P + i0 + nrows;
  const int ntiles = (int)((n_last + 127) / 128);
  const int mvalid = nrows * H;
  const int bs = p.bs;
  const int tpb = bs >> 7;  // 128-key tiles per block (bs % 128 == 0)
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const uint32_t sraw = smem_u32(smem_raw);
  const uint32_t sbase = (sraw + 1023u) & ~1023u;
  const uint32_t bar0 = sbase + S::kBarOff;
  auto full_bar = [&](int s) { return bar0 + 8u * (uint32_t)s; };
  auto empty_bar = [&](int s) { return bar0 + 8u * (uint32_t)(kTmaStages + s); };
  const uint32_t qbar = bar0 + 8u * (uint32_t)(2 * kTmaStages);
  if (tid == 0) {
#pragma unroll
    for (int s = 0; s < kTmaStages; ++s) {
      mbar_init(full_bar(s), 1);
      mbar_init(empty_bar(s), 8);  // one arrival per consumer warp
    }
    mbar_init(qbar, 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();
  const int wg = warp >> 2;
  if (wg == 0) {
    // ---------------- producer ----------------
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
    if (tid == 0) {
      mbar_expect_tx(qbar, S::kTileBytes);
      const int qrow = (int)((seq_begin + i0) * H);
#pragma unroll
      for (int hh = 0; hh < D / 64; ++hh)
        tma_load_2d(sbase + S::kQOff + hh * 128 * 128, &tmq, hh * 64, qrow, qbar);
      const uint32_t *lut = p.lut + b * p.max_pages;
      const int64_t lrow0 = (int64_t)p.layer * p.page_size;
      const int64_t lstride = (int64_t)p.num_layers * p.page_size;
      uint32_t pg = ntiles > 0 ? __ldg(lut) : 0u;
      for (int t = 0; t < ntiles; ++t) {
        const int s = t % kTmaStages;
        const int64_t pos0 = (int64_t)t * 128;
        const int64_t j = pos0 / bs;
        const int64_t within = pos0 - j * bs;
        const uint32_t cur = pg;
        if (t + 1 < ntiles) pg = __ldg(lut + ((int64_t)(t + 1) * 128) / bs);
        if (t >= kTmaStages) mbar_wait(empty_bar(s), (uint32_t)((t / kTmaStages) - 1) & 1u);
        const int krow = (int)((int64_t)cur * lstride + lrow0 + within);
        mbar_expect_tx(full_bar(s), S::kTileBytes);
        const uint32_t dst = sbase + S::kKOff + s * S::kTileBytes;
#pragma unroll
        for (int hh = 0; hh < D / 64; ++hh)
          tma_load_2d(dst + hh * 128 * 128, &tmk, hh * 64, krow, full_bar(s));
      }
    }
  } else {
    // ---------------- consumers ----------------
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
    const int cw = wg - 1;
    const int g = lane >> 2, t4 = lane & 3;
    const int mrow0 = cw * 64 + (warp & 3) * 16 + g;  // rows mrow0, mrow0 + 8
    int64_t lim[2];
    bool rok[2];
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      const int m = mrow0 + hf * 8;
      rok[hf] = m < mvalid;
      lim[hf] = P + i0 + m / H + 1;
    }
    const float scale = p.scale;
    float run[2] = {-INFINITY, -INFINITY};
    const uint32_t qst = sbase + S::kQOff + cw * 64 * 128;
    auto issue = [&](float *acc, int t) {
      const int s = t % kTmaStages;
#pragma unroll
      for (int i = 0; i < 64; ++i) acc[i] = 0.f;
      mbar_wait(full_bar(s), (uint32_t)(t / kTmaStages) & 1u);
      const uint32_t kst = sbase + S::kKOff + s * S::kTileBytes;
      asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks) {
        const uint32_t off = (ks >> 2) * (128 * 128) + (ks & 3) * 32;
        wgmma_m64n128k16(acc, wg_desc(qst + off), wg_desc(kst + off));
      }
      asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    };
    auto release = [&](int t) {
      __syncwarp();
      if (lane == 0) mbar_arrive(empty_bar(t % kTmaStages));
    };
    // The epilogue of prefill_wg_kernel (block_size >= 128 branch). kPost
    // (LOOP 2, launched only for scale > 0): the max of the raw dots, scaled
    // once per (pair, tile) instead of per element; multiplying by a
    // positive scale is monotonic in IEEE rounding, so the max of the scaled
    // values is the scaled max (docs/PERFORMANCE.md).
    auto epilogue = [&](const float *acc, int t) {
      constexpr bool kPost = LOOP == 2;  // launched only with scale > 0
      const int64_t pos0 = (int64_t)t * 128;
      float gm[2][8];
      // The causal mask only on the (at most two) tiles past the first
      // row's limit, as a separate copy: folded into every tile (the
      // compiler had made the 'if (masked)' a predicate), its 64-bit
      // compares and selects kept the ALU pipe ~60% busy. Column c of the
      // tile is masked iff c >= lim - pos0, clamped to [-1, 256] (exact).
      auto block_max = [&](auto mask_c) {
        constexpr bool kMask = decltype(mask_c)::value;
        int rel[2] = {0, 0};
        if constexpr (kMask) {
#pragma unroll
          for (int hf = 0; hf < 2; ++hf) {
            const int64_t r = lim[hf] - pos0;
            rel[hf] = (int)(r < -1 ? -1 : (r > 256 ? 256 : r));
          }
        }
#pragma unroll
        for (int hf = 0; hf < 2; ++hf)
#pragma unroll
          for (int q = 0; q < 8; ++q) {
            float v = -INFINITY;
#pragma unroll
            for (int u = 0; u < 2; ++u)
#pragma unroll
              for (int e = 0; e < 2; ++e) {
                float x = acc[(2 * q + u) * 4 + hf * 2 + e];
                if constexpr (!kPost) x *= scale;
                if constexpr (kMask) {
                  if ((2 * q + u) * 8 + t4 * 2 + e >= rel[hf]) x = -INFINITY;
                }
                v = fmaxf(v, x);
              }
            gm[hf][q] = v;
          }
      };
      if (pos0 + 128 > n_first) block_max(std::true_type{});
      else block_max(std::false_type{});
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        float v = gm[hf][0];
#pragma unroll
        for (int q = 1; q < 8; ++q) v = fmaxf(v, gm[hf][q]);
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
        if constexpr (kPost) v *= scale;
        run[hf] = fmaxf(run[hf], v);
      }
      // tiles per block: 1 for block_size 128 (no division then)
      const int64_t j = tpb == 1 ? t : t / tpb;
      if (tpb == 1 || (t + 1) % tpb == 0 || t == ntiles - 1) {
        if (t4 == 0)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf)
            if (rok[hf] && j * bs < lim[hf]) {
              const int m = mrow0 + hf * 8;
              const int rr = m / H, h = m - rr * H;
              const int64_t row = seq_begin + i0 + rr;
              p.scores[((size_t)h * p.rows + row) * p.lay.nblk_cap + j] = run[hf];
            }
        run[0] = run[1] = -INFINITY;
      }
    };
    if (ntiles <= 0) return;
    mbar_wait(qbar, 0);
    float acc0[64], acc1[64];
    issue(acc0, 0);
    if constexpr (LOOP >= 1) {
      // Tile t (acc0) is the only wgmma group in flight at the top of every
      // trip, at the back edge and at the loop exit, and the tail is peeled
      // (no conditional issue, no early exit with a group in flight): ptxas
      // then proves every accumulator access safe and injects no
      // warpgroup.wait, so tile t + 1's wgmma runs under tile t's epilogue
      // and the next issue never waits for it.
      int t = 0;
      for (; t + 2 < ntiles; t += 2) {
        issue(acc1, t + 1);
        wgmma_wait<1>();
        acc_fence(acc0);
        release(t);
        epilogue(acc0, t);
        issue(acc0, t + 2);
        wgmma_wait<1>();
        acc_fence(acc1);
        release(t + 1);
        epilogue(acc1, t + 1);
      }
      if (t + 1 < ntiles) {
        issue(acc1, t + 1);
        wgmma_wait<1>();
        acc_fence(acc0);
        release(t);
        epilogue(acc0, t);
        wgmma_wait<0>();
        acc_fence(acc1);
        release(t + 1);
        epilogue(acc1, t + 1);
      } else {
        wgmma_wait<0>();
        acc_fence(acc0);
        release(t);
        epilogue(acc0, t);
      }
    } else {
      // LOOP 0. Two tiles per trip; only tile t + 2's wgmma is in flight across
      // the back edge, nothing at the exits.
      for (int t = 0;; t += 2) {
        if (t + 1 < ntiles) {
          issue(acc1, t + 1);
          wgmma_wait<1>();
        } else {
          wgmma_wait<0>();
        }
        acc_fence(acc0);
        release(t);
        epilogue(acc0, t);
        if (t + 1 >= ntiles) break;
        if (t + 2 < ntiles) {
          issue(acc0, t + 2);
          wgmma_wait<1>();
        } else {
          wgmma_wait<0>();
        }
        acc_fence(acc1);
        release(t + 1);
        epilogue(acc1, t + 1);
        if (t + 2 >= ntiles) break;
      }
    }
  }
#endif
}

// ---------------------------------------------------------------------------
// 3. decode: sequences with 1..kDecRows rows. Keys are the M side of the
// MMA (16 keys per m16n8k16), the (row, head) columns the N side (NT tiles
// of 8). Each lane loads its A fragments straight from global memory with
// 16-byte loads: the contraction index is permuted identically for K and Q
// (lane t of a row reads d in [32c + 8t, +8) for both), which the dot
// product does not see. Each index-K byte is read once for all heads/rows.
// Grid: batch * splits CTAs of 4 warps; a CTA owns a range of key blocks of
// one sequence; the last CTA to finish a sequence selects its rows.
// ---------------------------------------------------------------------------
// Block j of a decode sequence: its max score for every (row, head) column,
// into the workspace. One warp; the same instruction sequence whichever
// kernel (split or fused) calls it, so the scores are bit-identical.
template <int D, int NT>
__device__ __forceinline__ void decode_block(const KParams &p, const uint4 (&qf)[NT][D / 32],
                                             const int64_t (&clim)[NT][2], int64_t b,
                                             int64_t j, int64_t seq_begin, int newt) {
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, t4 = lane & 3;
  constexpr int CH = D / 32;
  const int H = p.heads, bs = p.bs;
  const uint32_t *lut = p.lut + b * p.max_pages;
  const size_t page_stride = (size_t)p.num_layers * p.page_size * D;
  const uint16_t *kbase = p.k + (size_t)p.layer * p.page_size * D;
  const float scale = p.scale;
  const uint16_t *page = kbase + (size_t)lut[j] * page_stride;
  const int64_t pos_j = j * bs;
  float mx[NT][2];
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) mx[nt][0] = mx[nt][1] = -INFINITY;
  const int nslices = bs / 16;
  // Double-buffered: the loads of slice s + 1 are in flight while slice s
  // is multiplied.
  uint4 n0[CH], n1[CH];
  {
    const uint16_t *r0 = page + (size_t)g * D + 8 * t4;
#pragma unroll
    for (int c = 0; c < CH; ++c) {
      n0[c] = __ldcs(reinterpret_cast<const uint4 *>(r0 + 32 * c));
      n1[c] = __ldcs(reinterpret_cast<const uint4 *>(r0 + 8 * D + 32 * c));
    }
  }
  for (int s = 0; s < nslices; ++s) {
    const int k0 = s * 16 + g;
    uint4 a0[CH], a1[CH];
#pragma unroll
    for (int c = 0; c < CH; ++c) {
      a0[c] = n0[c];
      a1[c] = n1[c];
    }
    if (s + 1 < nslices) {
      const uint16_t *r0 = page + (size_t)(k0 + 16) * D + 8 * t4;
#pragma unroll
      for (int c = 0; c < CH; ++c) {
        n0[c] = __ldcs(reinterpret_cast<const uint4 *>(r0 + 32 * c));
        n1[c] = __ldcs(reinterpret_cast<const uint4 *>(r0 + 8 * D + 32 * c));
      }
    }
    float acc[NT][4];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
      acc[nt][0] = acc[nt][1] = acc[nt][2] = acc[nt][3] = 0.f;
#pragma unroll
    for (int c = 0; c < CH; ++c)
#pragma unroll
      for (int nt = 0; nt < NT; ++nt) {
        mma_bf16(acc[nt], a0[c].x, a1[c].x, a0[c].y, a1[c].y, qf[nt][c].x,
                 qf[nt][c].y);
        mma_bf16(acc[nt], a0[c].z, a1[c].z, a0[c].w, a1[c].w, qf[nt][c].z,
                 qf[nt][c].w);
      }
    const int64_t p0 = pos_j + k0, p1 = p0 + 8;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const float x0 = p0 < clim[nt][e] ? acc[nt][e] * scale : -INFINITY;
        const float x1 = p1 < clim[nt][e] ? acc[nt][2 + e] * scale : -INFINITY;
        mx[nt][e] = fmaxf(mx[nt][e], fmaxf(x0, x1));
      }
  }
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      float v = mx[nt][e];
      v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 4));
      v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 8));
      v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 16));
      mx[nt][e] = v;
    }
  if (g == 0) {
#pragma unroll
    for (int nt = 0; nt < NT; ++nt)
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int n = nt * 8 + t4 * 2 + e;
        const int r = n / H, h = n - r * H;
        if (r < newt && pos_j < clim[nt][e])
          p.scores[((size_t)h * p.rows + seq_begin + r) * p.lay.nblk_cap + j] =
              mx[nt][e];
      }
  }
}

// Q fragments (column n = nt * 8 + g -> (r = n / H, h = n % H)) and column
// limits (keys seen) of a decode sequence, for decode_block.
template <int D, int NT>
__device__ __forceinline__ void decode_setup(const KParams &p, int64_t seq_begin, int newt,
                                             int64_t P, uint4 (&qf)[NT][D / 32],
                                             int64_t (&clim)[NT][2]) {
  const int lane = threadIdx.x & 31;
  const int g = lane >> 2, t4 = lane & 3;
  constexpr int CH = D / 32;
  const int H = p.heads;
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) {
    const int n = nt * 8 + g;
    const int r = n / H, h = n - r * H;
    const bool ok = r < newt;
    const uint16_t *qr = p.q + ((size_t)(seq_begin + r) * H + h) * D;
#pragma unroll
    for (int c = 0; c < CH; ++c)
      qf[nt][c] = ok ? __ldg(reinterpret_cast<const uint4 *>(qr + 32 * c + 8 * t4))
                     : make_uint4(0, 0, 0, 0);
  }
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int n = nt * 8 + t4 * 2 + e;
      const int r = n / H;
      clim[nt][e] = r < newt ? P + r + 1 : 0;
    }
}

constexpr int kDecThreads = 128;

template <int D, int NT, int NPL>
__global__ void __launch_bounds__(kDecThreads) decode_kernel(KParams p) {
  const Header *hdr = reinterpret_cast<const Header *>(p.ws + p.lay.hdr);
  if (hdr->err != kErrNone) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  const int64_t b = blockIdx.x / p.splits;
  const int split = blockIdx.x - (int)(b * p.splits);
  const int64_t seq_begin = p.off[b];
  const int newt = (int)((int64_t)p.off[b + 1] - seq_begin);
  if (newt < 1 || newt > p.dec_rows) return;  // not a decode sequence
  const int H = p.heads, bs = p.bs;
  const int64_t P = p.prefix[b];
  const int64_t nkeys = P + newt;
  const int64_t nblk = (nkeys + bs - 1) / bs;
  const int warp = threadIdx.x >> 5;
  constexpr int CH = D / 32;  // 16-byte chunks per lane per key row

  uint4 qf[NT][CH];
  int64_t clim[NT][2];
  decode_setup<D, NT>(p, seq_begin, newt, P, qf, clim);
  const int64_t jb = (int64_t)split * p.blocks_per_cta;
  const int64_t je = min(nblk, jb + p.blocks_per_cta);

  for (int64_t j = jb + warp; j < je; j += 4)
    decode_block<D, NT>(p, qf, clim, b, j, seq_begin, newt);
  // ---- merge: the last CTA of the sequence selects ----
  __shared__ int s_last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    uint32_t *counters = reinterpret_cast<uint32_t *>(p.ws + p.lay.counters);
    const uint32_t prev = atomicAdd(counters + b, 1u);
    s_last = prev == (uint32_t)(p.splits - 1);
  }
  __syncthreads();
  if (!s_last) return;
  __threadfence();
  for (int pr = warp; pr < newt * H; pr += 4) {
    const int r = pr / H, h = pr - r * H;
    const int64_t row = seq_begin + r;
    const int nb = (int)((P + r + 1 + bs - 1) / bs);
    const float *sc = p.scores + ((size_t)h * p.rows + row) * p.lay.nblk_cap;
    int32_t *o = p.out + ((size_t)h * p.rows + row) * p.topk;
    select_row<NPL>(sc, nb, p, o);
  }
}

// ---------------------------------------------------------------------------
// 3'. fused decode: small decode-only batches in ONE launch (no prep
// kernel). A cluster of kFuseCtas CTAs owns one sequence. Every CTA first
// checks the whole batch itself (check_batch, as prep does), so all CTAs
// agree on the error state without another kernel; CTA 0 writes the record
// (the same record prep writes), and on an error every CTA fills out with
// -1 and returns before reading any page. Block j of the sequence goes to
// warp j / kFuseCtas of CTA j % kFuseCtas (decode_block, the same code as
// the split kernel: bit-identical scores). A cluster barrier (release /
// acquire) replaces the split kernel's counters, so nothing in the workspace
// needs a reset; CTA 0 of the cluster then selects the rows.
// ---------------------------------------------------------------------------
constexpr int kFuseThreads = 256;
constexpr int kFuseCtas = 8;
constexpr int kFuseMaxBlocks = kFuseCtas * (kFuseThreads / 32);  // 1 block per warp

template <int D, int NT, int NPL>
__global__ void __cluster_dims__(kFuseCtas, 1, 1) __launch_bounds__(kFuseThreads)
    decode_fused_kernel(KParams p) {
  __shared__ long long s_bad;
  if (threadIdx.x == 0) s_bad = LLONG_MAX;
  __syncthreads();
  check_batch(p, &s_bad);
  __syncthreads();
  const long long bad = s_bad;
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    Header *hdr = reinterpret_cast<Header *>(p.ws + p.lay.hdr);
    hdr->err = kErrNone;
    if (bad != LLONG_MAX) write_error_record(p, hdr, bad);
  }
  if (bad != LLONG_MAX) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  // Every CTA of a cluster takes the same branches up to the barrier.
  const int64_t b = blockIdx.x / kFuseCtas;
  const int rank = (int)(blockIdx.x % kFuseCtas);
  const int64_t seq_begin = p.off[b];
  const int newt = (int)((int64_t)p.off[b + 1] - seq_begin);
  if (newt < 1 || newt > p.dec_rows) return;
  const int H = p.heads, bs = p.bs;
  const int64_t P = p.prefix[b];
  const int64_t nblk = (P + newt + bs - 1) / bs;
  const int warp = threadIdx.x >> 5;
  constexpr int CH = D / 32;
  uint4 qf[NT][CH];
  int64_t clim[NT][2];
  decode_setup<D, NT>(p, seq_begin, newt, P, qf, clim);
  for (int64_t j = (int64_t)warp * kFuseCtas + rank; j < nblk; j += kFuseMaxBlocks)
    decode_block<D, NT>(p, qf, clim, b, j, seq_begin, newt);
  __threadfence();
  asm volatile("barrier.cluster.arrive.release.aligned;\n"
               "barrier.cluster.wait.acquire.aligned;\n" ::: "memory");
  if (rank != 0) return;
  for (int pr = warp; pr < newt * H; pr += kFuseThreads / 32) {
    const int r = pr / H, h = pr - r * H;
    const int64_t row = seq_begin + r;
    const int nb = (int)((P + r + 1 + bs - 1) / bs);
    const float *sc = p.scores + ((size_t)h * p.rows + row) * p.lay.nblk_cap;
    int32_t *o = p.out + ((size_t)h * p.rows + row) * p.topk;
    select_row<NPL>(sc, nb, p, o);
  }
}

// ---------------------------------------------------------------------------
// 2'. generic scoring on CUDA cores, any (H, D, block_size). One warp per
// (row, key block); lanes take keys, heads in groups of 8 registers.
// ---------------------------------------------------------------------------
constexpr int kGenThreads = 128;

__global__ void __launch_bounds__(kGenThreads) generic_kernel(KParams p) {
  const Header *hdr = reinterpret_cast<const Header *>(p.ws + p.lay.hdr);
  if (hdr->err != kErrNone) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int H = p.heads, D = p.dim, bs = p.bs;
  const size_t page_stride = (size_t)p.num_layers * p.page_size * D;
  const uint16_t *kbase = p.k + (size_t)p.layer * p.page_size * D;
  const float scale = p.scale;
  const __nv_bfloat16 *qb = reinterpret_cast<const __nv_bfloat16 *>(p.q);
  const __nv_bfloat16 *kb = reinterpret_cast<const __nv_bfloat16 *>(kbase);
  for (int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const int64_t b = seq_of_row(p.off, p.batch, row);
    const int64_t begin = p.off[b];
    const int64_t newt = (int64_t)p.off[b + 1] - begin;
    const bool dec = newt <= p.dec_rows;
    if ((dec && p.skip_decode) || (!dec && p.skip_prefill)) continue;
    const int64_t n = (int64_t)p.prefix[b] + (row - begin) + 1;
    const int64_t nblk = (n + bs - 1) / bs;
    const uint32_t *lut = p.lut + b * p.max_pages;
    for (int64_t j = (int64_t)blockIdx.y * 4 + warp; j < nblk;
         j += (int64_t)gridDim.y * 4) {
      const int64_t kend = min(n, (j + 1) * bs);
      for (int h0 = 0; h0 < H; h0 += 8) {
        float best[8];
#pragma unroll
        for (int u = 0; u < 8; ++u) best[u] = -INFINITY;
        for (int64_t pos = j * bs + lane; pos < kend; pos += 32) {
          const __nv_bfloat16 *kr =
              kb + (size_t)lut[pos / bs] * page_stride + (size_t)(pos % bs) * D;
          float acc[8];
#pragma unroll
          for (int u = 0; u < 8; ++u) acc[u] = 0.f;
          for (int d = 0; d < D; ++d) {
            const float kv = __bfloat162float(kr[d]);
#pragma unroll
            for (int u = 0; u < 8; ++u)
              if (h0 + u < H)
                acc[u] = fmaf(__bfloat162float(qb[((size_t)row * H + h0 + u) * D + d]),
                              kv, acc[u]);
          }
#pragma unroll
          for (int u = 0; u < 8; ++u) best[u] = fmaxf(best[u], acc[u] * scale);
        }
#pragma unroll
        for (int u = 0; u < 8; ++u) {
          float v = best[u];
#pragma unroll
          for (int o = 16; o > 0; o >>= 1)
            v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
          if (lane == 0 && h0 + u < H)
            p.scores[((size_t)(h0 + u) * p.rows + row) * p.lay.nblk_cap + j] = v;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// 4. select for the rows not handled by the decode kernel.
// ---------------------------------------------------------------------------
constexpr int kSelThreads = 256;

template <int NPL>
__global__ void __launch_bounds__(kSelThreads) select_kernel(KParams p) {
  const Header *hdr = reinterpret_cast<const Header *>(p.ws + p.lay.hdr);
  if (hdr->err != kErrNone) {
    fill_invalid(p.out, p.out_elems);
    return;
  }
  const int64_t pair = (int64_t)blockIdx.x * (kSelThreads / 32) + (threadIdx.x >> 5);
  if (pair >= (int64_t)p.heads * p.rows) return;
  const int64_t h = pair / p.rows, row = pair - h * p.rows;
  const int64_t b = seq_of_row(p.off, p.batch, row);
  const int64_t begin = p.off[b];
  const int64_t newt = (int64_t)p.off[b + 1] - begin;
  if (p.skip_decode && newt <= p.dec_rows) return;  // decode kernel selected
  const int64_t n = (int64_t)p.prefix[b] + (row - begin) + 1;
  const int nblk = (int)((n + p.bs - 1) / p.bs);
  const float *sc = p.scores + (size_t)pair * p.lay.nblk_cap;
  int32_t *o = p.out + (size_t)pair * p.topk;
  if constexpr (NPL == 8) {
    if (!p.select_v0) {
      select_row_s8(sc, nblk, p, o);
      return;
    }
  }
  select_row<NPL>(sc, nblk, p, o);
}

// ---------------------------------------------------------------------------
// Host: launch
// ---------------------------------------------------------------------------
static int g_path = MSA_CUDA_PATH_AUTO;

template <int D>
static cudaError_t launch_prefill(const KParams &kp, int64_t grid,
                                  cudaStream_t st) {
  const int bytes = PfSmem<D>::kBytes;
  cudaError_t e = cudaFuncSetAttribute(
      prefill_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  prefill_kernel<D><<<(unsigned)grid, kPfThreads, bytes, st>>>(kp);
  return cudaGetLastError();
}

// MSA_CUDA_PREFILL=wg1 (environment): the wgmma kernel at one CTA per SM
// (no register cap) instead of two; for the benchmark's comparison.
template <int D, int MINB, int STAGES>
static cudaError_t launch_prefill_wg_b(const KParams &kp, int64_t grid,
                                       cudaStream_t st) {
  const int bytes = WgSmem<D, STAGES>::kBytes;
  cudaError_t e = cudaFuncSetAttribute(prefill_wg_kernel<D, MINB, STAGES>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  prefill_wg_kernel<D, MINB, STAGES><<<(unsigned)grid, kPfThreads, bytes, st>>>(kp);
  return cudaGetLastError();
}
// Two variants of one computation (bit-identical scores): 2 CTAs/SM with 2
// stages (one CTA's epilogue overlaps the other's wgmma; best when there are
// many tile steps), 1 CTA/SM with 4 stages (best for few, short tiles). The
// choice depends only on host-known sizes. MSA_CUDA_PREFILL=wg1|wg2 in the
// environment forces one (benchmark).
template <int D>
static cudaError_t launch_prefill_wg(const KParams &kp, int64_t grid,
                                     cudaStream_t st) {
  const char *v = std::getenv("MSA_CUDA_PREFILL");
  bool two;
  if (v && std::strcmp(v, "wg2") == 0) two = true;
  else if (v && std::strcmp(v, "wg1") == 0) two = false;
  else {
    const int64_t steps = grid * std::max<int64_t>(1, kp.lay.nblk_cap * kp.bs / 128);
    two = steps >= 65536;
  }
  return two ? launch_prefill_wg_b<D, 2, 2>(kp, grid, st)
             : launch_prefill_wg_b<D, 1, 4>(kp, grid, st);
}

// Tensor maps of the TMA prefill: a [rows, D] bf16 matrix (q as [rows * H,
// D]; k_blocks as [num_pages * num_layers * page_size, D]), boxes of 64
// columns (128 bytes) x 128 rows, 128-byte swizzle = the wgmma layout.
static PFN_cuTensorMapEncodeTiled_v12000 g_encode = nullptr;
static int g_encode_state = 0;  // 0 unknown, 1 found, -1 unavailable
static PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  if (g_encode_state == 0) {
    void *fn = nullptr;
    cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000,
                                         cudaEnableDefault, &q) == cudaSuccess &&
        q == cudaDriverEntryPointSuccess && fn) {
      g_encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
      g_encode_state = 1;
    } else {
      (void)cudaGetLastError();
      g_encode_state = -1;
    }
  }
  return g_encode;
}
static bool encode_rows_map(CUtensorMap *m, const void *base, uint64_t rows, int D) {
  PFN_cuTensorMapEncodeTiled_v12000 enc = tensor_map_encoder();
  if (!enc) return false;
  cuuint64_t dims[2] = {(cuuint64_t)D, (cuuint64_t)rows};
  cuuint64_t strides[1] = {(cuuint64_t)D * 2};
  cuuint32_t box[2] = {64, 128};
  cuuint32_t estr[2] = {1, 1};
  return enc(m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void *>(base), dims,
             strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
             CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}
// The TMA prefill when the shape allows it (block_size a multiple of 128,
// D 64 or 128, both tensor maps encodable); returns false to fall back.
template <int D>
static bool launch_prefill_tma(const msa_indexer_tensors_t *t, const KParams &kp,
                               int64_t grid, cudaStream_t st, cudaError_t *err) {
  if (kp.bs % 128 != 0) return false;
  const uint64_t qrows = (uint64_t)t->rows * (uint64_t)kp.heads;
  const uint64_t krows = (uint64_t)t->num_pages * (uint64_t)t->num_layers *
                         (uint64_t)t->page_size;
  if (qrows < 128 || krows < 128 || qrows > (uint64_t)INT32_MAX ||
      krows > (uint64_t)INT32_MAX)
    return false;
  CUtensorMap mq, mk;
  if (!encode_rows_map(&mq, t->q, qrows, D) || !encode_rows_map(&mk, t->k_blocks, krows, D))
    return false;
  const int bytes = TmaSmem<D>::kBytes;
  // Default: LOOP 2 (peeled loop, block max scaled once). MSA_CUDA_PREFILL
  // (environment, benchmark comparison): tma0 = the first version's loop,
  // tma1 = the peeled loop with the per-element scale.
  const char *v = std::getenv("MSA_CUDA_PREFILL");
  auto kern = v && std::strcmp(v, "tma0") == 0                    ? prefill_tma_kernel<D, 0>
              : (v && std::strcmp(v, "tma1") == 0) || !(kp.scale > 0.f) ? prefill_tma_kernel<D, 1>
                                                                  : prefill_tma_kernel<D, 2>;
  cudaError_t e =
      cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e == cudaSuccess) {
    kern<<<(unsigned)grid, kTmaThreads, bytes, st>>>(mq, mk, kp);
    e = cudaGetLastError();
  }
  *err = e;
  return true;
}

static int g_cc_major = -1;
static bool device_is_sm90() {
  if (g_cc_major < 0) {
    int dev = 0, mj = 0, mn = 0;
    if (cudaGetDevice(&dev) == cudaSuccess &&
        cudaDeviceGetAttribute(&mj, cudaDevAttrComputeCapabilityMajor, dev) == cudaSuccess &&
        cudaDeviceGetAttribute(&mn, cudaDevAttrComputeCapabilityMinor, dev) == cudaSuccess)
      g_cc_major = mj * 10 + mn;
    else
      g_cc_major = 0;
  }
  return g_cc_major == 90;
}

template <int D, int NT>
static void launch_decode_npl(const KParams &kp, int64_t grid,
                              cudaStream_t st, int npl) {
  switch (npl) {
  case 8: decode_kernel<D, NT, 8><<<(unsigned)grid, kDecThreads, 0, st>>>(kp); break;
  case 32: decode_kernel<D, NT, 32><<<(unsigned)grid, kDecThreads, 0, st>>>(kp); break;
  default: decode_kernel<D, NT, 0><<<(unsigned)grid, kDecThreads, 0, st>>>(kp); break;
  }
}
template <int D, int NT>
static void launch_fused_npl(const KParams &kp, int64_t grid, cudaStream_t st, int npl) {
  (void)npl;  // nblk_cap <= kFuseMaxBlocks: 8 candidates per lane
  decode_fused_kernel<D, NT, 8><<<(unsigned)grid, kFuseThreads, 0, st>>>(kp);
}
template <int D>
static void launch_fused_nt(const KParams &kp, int64_t grid, cudaStream_t st, int nt,
                            int npl) {
  switch (nt) {
  case 1: launch_fused_npl<D, 1>(kp, grid, st, npl); break;
  case 2: launch_fused_npl<D, 2>(kp, grid, st, npl); break;
  default: launch_fused_npl<D, 4>(kp, grid, st, npl); break;
  }
}
template <int D>
static void launch_decode_nt(const KParams &kp, int64_t grid, cudaStream_t st,
                             int nt, int npl) {
  switch (nt) {
  case 1: launch_decode_npl<D, 1>(kp, grid, st, npl); break;
  case 2: launch_decode_npl<D, 2>(kp, grid, st, npl); break;
  default: launch_decode_npl<D, 4>(kp, grid, st, npl); break;
  }
}

static int npl_for(int64_t nblk_cap) {
  if (nblk_cap <= 256) return 8;
  if (nblk_cap <= 1024) return 32;
  return 0;
}

static int g_num_sms = 0;
static int num_sms() {
  if (g_num_sms == 0) {
    int dev = 0, n = 0;
    if (cudaGetDevice(&dev) == cudaSuccess &&
        cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) ==
            cudaSuccess && n > 0)
      g_num_sms = n;
    else
      g_num_sms = 132;
  }
  return g_num_sms;
}

msa_status_t launch(const msa_indexer_tensors_t *t,
                    const msa_indexer_attrs_t *a, void *workspace,
                    size_t workspace_bytes, uint32_t max_new_tokens,
                    cudaStream_t st) {
  const int H = a->num_index_heads, D = a->idx_head_dim, bs = a->block_size;
  const size_t fixed = make_layout(0, t->batch, H, 0).total;
  if (workspace == nullptr || workspace_bytes < fixed)
    return msa_set_last_error(
        MSA_STATUS_WORKSPACE_TOO_SMALL,
        "workspace of %zu bytes is smaller than the %zu bytes of its fixed "
        "part (msa_indexer_cuda_workspace_size)",
        workspace_bytes, fixed);
  int64_t nblk_cap = 0;
  if (t->rows > 0) {
    const size_t per = 4 * (size_t)t->rows * (size_t)H;
    const size_t room = workspace_bytes - fixed;
    nblk_cap = (int64_t)(room / per);
    if (nblk_cap > INT32_MAX) nblk_cap = INT32_MAX;
  }
  KParams kp;
  std::memset(&kp, 0, sizeof kp);
  kp.q = t->q;
  kp.off = t->input_row_offsets;
  kp.prefix = t->prefix_lens;
  kp.k = t->k_blocks;
  kp.cache = t->k_cache_lengths;
  kp.lut = t->k_lookup_table;
  kp.kmax = t->k_max_lengths;
  kp.out = t->out;
  kp.rows = t->rows;
  kp.batch = t->batch;
  kp.num_pages = t->num_pages;
  kp.num_layers = t->num_layers;
  kp.page_size = t->page_size;
  kp.max_pages = t->max_pages;
  kp.heads = H;
  kp.dim = D;
  kp.bs = bs;
  kp.topk = a->topk;
  kp.init_blocks = a->init_blocks;
  kp.local_blocks = a->local_blocks;
  kp.layer = a->layer_idx;
  kp.scale = a->scale;
  kp.order = a->order;
  kp.ws = static_cast<unsigned char *>(workspace);
  kp.lay = make_layout(t->rows, t->batch, H, nblk_cap);
  kp.scores = reinterpret_cast<float *>(kp.ws + kp.lay.scores);
  kp.out_elems = (int64_t)H * t->rows * a->topk;
  kp.max_new = max_new_tokens;
  kp.dec_rows = kDecRows;

  const bool aligned16 = ((uintptr_t)t->q % 16 == 0) && ((uintptr_t)t->k_blocks % 16 == 0);
  const bool generic = g_path == MSA_CUDA_PATH_GENERIC || !aligned16;
  const bool mma_d = (D == 64 || D == 128);
  const bool use_pf = !generic && mma_d && H <= 128 &&
                      (bs == 16 || bs == 32 || bs == 64 || bs % 128 == 0);
  const bool use_dec = !generic && mma_d && H <= 8 && bs % 16 == 0;
  const bool may_prefill = t->rows > kDecRows && max_new_tokens > (uint32_t)kDecRows;
  kp.tile_rows = (use_pf && may_prefill) ? 128 / H : 0;
  kp.skip_decode = use_dec ? 1 : 0;
  kp.skip_prefill = use_pf ? 1 : 0;
  {
    // MSA_CUDA_SELECT=v0 (environment): the first version's selection loop
    // in select_kernel<8> (benchmark comparison; same ids).
    const char *sv = std::getenv("MSA_CUDA_SELECT");
    kp.select_v0 = sv && std::strcmp(sv, "v0") == 0 ? 1 : 0;
  }
  const int npl = npl_for(nblk_cap);

  auto fail = [](cudaError_t e) {
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR, "CUDA launch failed: %s",
                              cudaGetErrorString(e));
  };
  const int nt = (H * kDecRows + 7) / 8 <= 1 ? 1 : ((H * kDecRows + 7) / 8 <= 2 ? 2 : 4);
  // A small decode-only batch: one launch (check + scores + select). The
  // choice depends on host-known sizes only (graph capture) and gives the
  // same scores and ids as the split kernel (batch invariance).
  const bool fused = use_dec && use_pf && !may_prefill && t->rows > 0 &&
                     t->batch >= 1 && t->batch <= 16 &&
                     t->batch * std::max<int64_t>(1, t->max_pages) <= 4096 &&
                     nblk_cap <= kFuseMaxBlocks && npl == 8;
  if (fused) {
    kp.splits = kFuseCtas;
    const int64_t grid = (int64_t)kFuseCtas * t->batch;
    if (D == 64) launch_fused_nt<64>(kp, grid, st, nt, npl);
    else launch_fused_nt<128>(kp, grid, st, nt, npl);
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? MSA_STATUS_OK : fail(e);
  }
  prep_kernel<<<1, 512, 0, st>>>(kp);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return fail(e);
  if (t->rows == 0) return MSA_STATUS_OK;

  if (use_pf && may_prefill) {
    const int64_t tr = kp.tile_rows;
    int64_t grid = (t->rows + tr - 1) / tr + std::min<int64_t>(t->batch, t->rows / (kDecRows + 1)) + 1;
    if (g_path != MSA_CUDA_PATH_MMA_SYNC && device_is_sm90()) {
      // MSA_CUDA_PREFILL=wg1|wg2 (environment) forces the non-TMA variants.
      const char *v = std::getenv("MSA_CUDA_PREFILL");
      const bool no_tma = v && (std::strcmp(v, "wg1") == 0 || std::strcmp(v, "wg2") == 0);
      bool done = false;
      if (!no_tma)
        done = D == 64 ? launch_prefill_tma<64>(t, kp, grid, st, &e)
                       : launch_prefill_tma<128>(t, kp, grid, st, &e);
      if (!done)
        e = D == 64 ? launch_prefill_wg<64>(kp, grid, st) : launch_prefill_wg<128>(kp, grid, st);
    } else
      e = D == 64 ? launch_prefill<64>(kp, grid, st) : launch_prefill<128>(kp, grid, st);
    if (e != cudaSuccess) return fail(e);
  }
  if (!use_pf || !use_dec) {
    // generic scoring for the classes the tensor-core kernels do not take
    const int64_t gx = std::min<int64_t>(t->rows, 1 << 20);
    const int64_t gy = std::max<int64_t>(1, std::min<int64_t>((nblk_cap + 3) / 4, 64));
    generic_kernel<<<dim3((unsigned)gx, (unsigned)gy), kGenThreads, 0, st>>>(kp);
    if ((e = cudaGetLastError()) != cudaSuccess) return fail(e);
  }
  if (use_dec) {
    // Split each sequence's key range so that ~16 warps/SM have work.
    const int64_t total_blocks = std::max<int64_t>(1, nblk_cap) * t->batch;
    const int64_t target_warps = (int64_t)num_sms() * 16;
    int64_t bpw = (total_blocks + target_warps - 1) / target_warps;
    bpw = std::max<int64_t>(1, bpw);
    const int64_t bpc = 4 * bpw;
    const int64_t splits = std::max<int64_t>(1, (nblk_cap + bpc - 1) / bpc);
    kp.blocks_per_cta = bpc;
    kp.splits = (int)splits;
    const int64_t grid = splits * t->batch;
    if (grid > 0) {
      if (D == 64) launch_decode_nt<64>(kp, grid, st, nt, npl);
      else launch_decode_nt<128>(kp, grid, st, nt, npl);
      if ((e = cudaGetLastError()) != cudaSuccess) return fail(e);
    }
  }
  if (!use_dec || may_prefill || !use_pf) {
    const int64_t pairs = (int64_t)H * t->rows;
    const int64_t grid = (pairs + kSelThreads / 32 - 1) / (kSelThreads / 32);
    switch (npl) {
    case 8: select_kernel<8><<<(unsigned)grid, kSelThreads, 0, st>>>(kp); break;
    case 32: select_kernel<32><<<(unsigned)grid, kSelThreads, 0, st>>>(kp); break;
    default: select_kernel<0><<<(unsigned)grid, kSelThreads, 0, st>>>(kp); break;
    }
    if ((e = cudaGetLastError()) != cudaSuccess) return fail(e);
  }
  return MSA_STATUS_OK;
}

} // namespace msa_cuda

extern "C" msa_status_t msa_cuda_set_path(int32_t path) {
  if (path != MSA_CUDA_PATH_AUTO && path != MSA_CUDA_PATH_GENERIC &&
      path != MSA_CUDA_PATH_MMA_SYNC)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "unknown CUDA path %d", (int)path);
  msa_cuda::g_path = path;
  return MSA_STATUS_OK;
}
