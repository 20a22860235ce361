// select.cuh - the selection of one (head, row): forced blocks, then the
// top-k of the block scores by an orderable 64-bit key (descending score,
// ties to the smaller block id), then order=block compaction and -1 padding.
// One warp per row; used by the select kernel (prefill rows) and by the
// decode kernel's merge. Not installed.
#ifndef MSA_CUDA_SELECT_CUH
#define MSA_CUDA_SELECT_CUH

#include "device_common.cuh"

namespace msa_cuda {

// ---------------------------------------------------------------------------
// Selection: one warp picks the row's blocks from its scores.
// NPL > 0: each lane keeps NPL candidates in registers (nblk <= 32 * NPL).
// NPL == 0: candidates are re-read from memory every round (any nblk).
// ---------------------------------------------------------------------------
// A lane's share of a row's block scores (block lane + 32 i; -inf past
// nblk), read ahead of the selection so that the loads are in flight while
// the caller does other work (the decode kernel: its error verdict), and
// kept for the end of the row, which then reads nothing again. NPL == 0
// reads nothing ahead: the selection re-reads the row every round.
template <int NPL>
struct RowScores {
  float v[NPL > 0 ? NPL : 1];
  __device__ __forceinline__ void load(const float *__restrict__ sc, int nblk) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int i = 0; i < NPL; ++i) {
      const int j = lane + 32 * i;
      v[i] = j < nblk ? __ldcg(sc + j) : -INFINITY;
    }
  }
};

// The forcing of a row of nblk blocks: [0, I1) (init) and [L0, nblk)
// (local) are forced, nf blocks in all; r = topk - nf are chosen by score.
struct RowForcing {
  int L0, I1, nf, r;
  __device__ __forceinline__ RowForcing(int nblk, const KParams &p) {
    L0 = max(0, nblk - p.local_blocks);
    I1 = min(p.init_blocks, L0);
    nf = I1 + (nblk - L0);
    r = p.topk - nf;  // >= 0: init + local <= topk (checked on host)
  }
  // order=score: the forced ids lead the row, init then local, ascending;
  // forced_id(i) is the i-th of them (i < nf)
  __device__ __forceinline__ int forced_id(int i) const { return i < I1 ? i : L0 + (i - I1); }
  __device__ __forceinline__ void write_forced(int32_t *__restrict__ out) const {
    for (int i = threadIdx.x & 31; i < nf; i += 32) out[i] = forced_id(i);
  }
};

// order=block output of 32 consecutive blocks (block j in this lane): the
// selected ones at out[base...] in ascending id order (a ballot compaction).
__device__ __forceinline__ void block_order_group(int j, bool sel, int &base,
                                                  int32_t *__restrict__ out) {
  const int lane = threadIdx.x & 31;
  const unsigned m = __ballot_sync(0xffffffffu, sel);
  if (sel) out[base + __popc(m & ((1u << lane) - 1u))] = j;
  base += __popc(m);
}

// The end of a row's selection, once `cnt` unforced blocks were chosen and
// `prev` is the key of the last one: order=block writes the forced blocks and
// every selectable block whose key is >= prev; then -1 up to topk. The keys
// come from the lanes' registers (`k`: block 32 i + lane, 0 where not
// selectable) or, for rows of any length (NPL == 0), from memory (`sc`).
template <int NPL>
__device__ __forceinline__ void finish_row(const float *__restrict__ sc, const uint64_t *k,
                                           int nblk, int I1, int L0, int nf, int cnt,
                                           uint64_t prev, bool score_order, int topk,
                                           int32_t *__restrict__ out) {
  const int lane = threadIdx.x & 31;
  if (!score_order) {
    auto selected = [&](int j, uint64_t key) {
      return j < nblk && (j < I1 || j >= L0 || (cnt > 0 && key != 0 && key >= prev));
    };
    int base = 0;
    if constexpr (NPL > 0) {
#pragma unroll
      for (int i = 0; i < NPL; ++i)
        if (32 * i < nblk)  // uniform: one row per warp
          block_order_group(32 * i + lane, selected(32 * i + lane, k[i]), base, out);
    } else {
      for (int j0 = 0; j0 < nblk; j0 += 32) {
        const int j = j0 + lane;
        const uint64_t key = j < nblk ? make_key(__ldcg(sc + j), j) : 0ull;
        block_order_group(j, selected(j, key), base, out);
      }
    }
  }
  for (int i = nf + cnt + lane; i < topk; i += 32) out[i] = -1;
}

// Rows of <= 64 blocks (decode at 8k keys): ranks instead of rounds. Lane l
// holds the keys of blocks l and l + 32; a key's rank is the number of
// larger keys in the row, and the r largest are those of rank < r. Keys are
// unique (the id breaks ties), so ranks are too. Only the high words (the
// orderable score) travel between lanes: equal high words are ordered by
// the ids, which the source lane fixes. 32 independent shuffle steps
// replace up to r dependent warp reductions. A block that is not
// selectable has key 0 (high word 0, below every selectable key: those
// have a high word >= 0x00800000), so it outranks none.
//
// Three steps, so that several warps can share one row (the decode kernel
// on rows of sequences with few rows: each of its 4 scoring warps counts 8
// of the 32 source lanes, and the partial ranks are summed): the keys, the
// count over source lanes [s0, s0 + ns), and the output from the ranks.
struct Rank64 {
  uint32_t h0, h1;  // high words of blocks lane and lane + 32 (0: not selectable)
  int r0, r1;       // their ranks (so far)
};
__device__ __forceinline__ Rank64 rank64_keys(int nblk, const KParams &p,
                                              const RowScores<8> &pre) {
  const int lane = threadIdx.x & 31;
  const RowForcing rf(nblk, p);
  const int j0 = lane, j1 = lane + 32;
  Rank64 k;
  k.h0 = (j0 >= rf.I1 && j0 < rf.L0) ? (uint32_t)(make_key(pre.v[0], j0) >> 32) : 0u;
  k.h1 = (j1 >= rf.I1 && j1 < rf.L0) ? (uint32_t)(make_key(pre.v[1], j1) >> 32) : 0u;
  k.r0 = k.r1 = 0;
  return k;
}
template <int NS>
__device__ __forceinline__ void rank64_count(Rank64 &k, int s0) {
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int i = 0; i < NS; ++i) {
    const int s = s0 + i;
    const uint32_t g0 = __shfl_sync(0xffffffffu, k.h0, s);  // block s
    const uint32_t g1 = __shfl_sync(0xffffffffu, k.h1, s);  // block s + 32
    k.r0 += (g0 > k.h0 || (g0 == k.h0 && s < lane)) + (g1 > k.h0);
    k.r1 += (g0 >= k.h1) + (g1 > k.h1 || (g1 == k.h1 && s < lane));
  }
}
__device__ __forceinline__ void rank64_write(int nblk, const KParams &p, const Rank64 &k,
                                             int32_t *__restrict__ out) {
  const int lane = threadIdx.x & 31;
  const RowForcing rf(nblk, p);
  const int topk = p.topk, L0 = rf.L0, I1 = rf.I1, nf = rf.nf, r = rf.r;
  const int j0 = lane, j1 = lane + 32;
  const bool s0 = k.h0 != 0u && k.r0 < r, s1 = k.h1 != 0u && k.r1 < r;
  const int cnt = min(r, __popc(__ballot_sync(0xffffffffu, k.h0 != 0u)) +
                             __popc(__ballot_sync(0xffffffffu, k.h1 != 0u)));
  if (p.order == MSA_ORDER_SCORE) {
    rf.write_forced(out);
    if (s0) out[nf + k.r0] = j0;
    if (s1) out[nf + k.r1] = j1;
  } else {
    int base = 0;
    block_order_group(j0, j0 < nblk && (j0 < I1 || j0 >= L0 || s0), base, out);
    if (nblk > 32) block_order_group(j1, j1 < nblk && (j1 < I1 || j1 >= L0 || s1), base, out);
  }
  for (int i = nf + cnt + lane; i < topk; i += 32) out[i] = -1;
}
__device__ __forceinline__ void select_row_rank64(int nblk, const KParams &p,
                                                  int32_t *__restrict__ out,
                                                  const RowScores<8> &pre) {
  Rank64 k = rank64_keys(nblk, p, pre);
  rank64_count<32>(k, 0);
  rank64_write(nblk, p, k, out);
}

template <int NPL>
__device__ void select_row(const float *__restrict__ sc, int nblk,
                           const KParams &p, int32_t *__restrict__ out,
                           const RowScores<NPL> &pre) {
  const int lane = threadIdx.x & 31;
  const RowForcing rf(nblk, p);
  const int topk = p.topk, L0 = rf.L0, I1 = rf.I1, nf = rf.nf, r = rf.r;
  uint64_t keys[NPL > 0 ? NPL : 1];
  if (NPL > 0) {
#pragma unroll
    for (int i = 0; i < NPL; ++i) {
      const int j = lane + 32 * i;
      keys[i] = (j >= I1 && j < L0) ? make_key(pre.v[i], j) : 0ull;
    }
  }
  const bool score_order = p.order == MSA_ORDER_SCORE;
  if (score_order)
    rf.write_forced(out);
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
  finish_row<NPL>(sc, keys, nblk, I1, L0, nf, cnt, prev, score_order, topk, out);
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
// A lane's 8 keys in descending order (Batcher's odd-even merge network, 19
// compare-exchanges, no branch).
__device__ __forceinline__ void sort8_desc(uint64_t (&k)[8]) {
  cx_desc(k[0], k[1]); cx_desc(k[2], k[3]); cx_desc(k[4], k[5]); cx_desc(k[6], k[7]);
  cx_desc(k[0], k[2]); cx_desc(k[1], k[3]); cx_desc(k[4], k[6]); cx_desc(k[5], k[7]);
  cx_desc(k[1], k[2]); cx_desc(k[5], k[6]);
  cx_desc(k[0], k[4]); cx_desc(k[1], k[5]); cx_desc(k[2], k[6]); cx_desc(k[3], k[7]);
  cx_desc(k[2], k[4]); cx_desc(k[3], k[5]);
  cx_desc(k[1], k[2]); cx_desc(k[3], k[4]); cx_desc(k[5], k[6]);
}
// One round of a warp's selection over the lanes' descending lists: the
// largest key of the warp (two 32-bit reductions: high words, then the low
// words of the lanes that hold that high word), popped from its lane's list;
// 0 when every list is empty (valid keys have a non-zero high word).
template <int K>
__device__ __forceinline__ uint64_t warp_pop_max(uint64_t (&k)[K]) {
  const uint32_t hi = (uint32_t)(k[0] >> 32), lo = (uint32_t)k[0];
  const uint32_t mh = __reduce_max_sync(0xffffffffu, hi);
  if (mh == 0u) return 0ull;
  const uint32_t ml = __reduce_max_sync(0xffffffffu, hi == mh ? lo : 0u);
  if (hi == mh && lo == ml) {
#pragma unroll
    for (int i = 0; i + 1 < K; ++i) k[i] = k[i + 1];
    k[K - 1] = 0ull;
  }
  return ((uint64_t)mh << 32) | ml;
}
static __device__ void select_row_s8(const float *__restrict__ sc, int nblk, const KParams &p,
                              int32_t *__restrict__ out, const RowScores<8> &pre) {
  if (nblk <= 64) {
    select_row_rank64(nblk, p, out, pre);
    return;
  }
  const int lane = threadIdx.x & 31;
  const RowForcing rf(nblk, p);
  const int topk = p.topk, L0 = rf.L0, I1 = rf.I1, nf = rf.nf, r = rf.r;
  uint64_t k[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int j = lane + 32 * i;
    k[i] = (j >= I1 && j < L0) ? make_key(pre.v[i], j) : 0ull;
  }
  sort8_desc(k);
  const bool score_order = p.order == MSA_ORDER_SCORE;
  if (score_order)
    rf.write_forced(out);
  uint64_t prev = ~0ull;
  int cnt = 0;
  int32_t mine = -1;
  for (; cnt < r; ++cnt) {
    const uint64_t top = warp_pop_max(k);
    if (top == 0ull) break;
    prev = top;
    const int32_t id = key_id(top);
    if (cnt < 32) {
      if (lane == cnt) mine = id;
    } else if (score_order && lane == 0) {
      out[nf + cnt] = id;
    }
  }
  if (score_order && lane < min(cnt, 32)) out[nf + lane] = mine;
  // the row's keys again in block order (the sorted lists are consumed)
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int j = lane + 32 * i;
    k[i] = (j >= I1 && j < L0) ? make_key(pre.v[i], j) : 0ull;
  }
  finish_row<8>(sc, k, nblk, I1, L0, nf, cnt, prev, score_order, topk, out);
}


// ---------------------------------------------------------------------------
// One row selected by the 4 scoring warps of a decode item (rows of up to
// 128 K = 1024 blocks, topk <= 32): warp w takes blocks [32 K w, 32 K (w + 1)),
// K per lane, and finds its quarter's r best keys by rounds (as select_row_s8:
// each lane's K keys sorted once, a round is two 32-bit warp reductions);
// lane c keeps the c-th. A key's rank in the row is then its place in its
// own list plus, for each other list, how many of that list's keys are
// larger (a binary search in shared memory). Every key of rank < r is in its
// quarter's r best, so these ranks are the row's: the same keys, the same
// ids as select_row. `buf` (shared memory, the caller's) holds 4 x 32 keys
// and the counts; the 4 warps meet at named barrier 1 (128 threads) twice
// per row (order=score) or four times (order=block).
// ---------------------------------------------------------------------------
constexpr int kSplitMaxTopk = 32;
struct SplitBuf {
  uint64_t cand[4][32];  // each quarter's best keys, descending (0: none)
  uint64_t prev;         // order=block: the smallest selected key
  int cnt[4];            // keys in each quarter's list
  int nsel[4];           // order=block: selected blocks of each quarter
};
__device__ __forceinline__ void bar_split() {
  __syncwarp();  // lanes converged first (bar.sync counts a warp as one)
  asm volatile("bar.sync 1, 128;\n" ::: "memory");
}
// keys of list l greater than x (l descending, zeros last)
__device__ __forceinline__ int count_greater(const uint64_t *l, uint64_t x) {
  int pos = 0;
#pragma unroll
  for (int s = 32; s > 0; s >>= 1)
    if (pos + s <= 32 && l[pos + s - 1] > x) pos += s;
  return pos;
}
template <int K>
__device__ void select_row_split4(const float *__restrict__ sc, int nblk, const KParams &p,
                                  int32_t *__restrict__ out, int w, SplitBuf *buf) {
  static_assert(K == 8, "quarters of 256 blocks (the sort below is for 8 keys)");
  const int lane = threadIdx.x & 31;
  const RowForcing rf(nblk, p);
  const int topk = p.topk, L0 = rf.L0, I1 = rf.I1, nf = rf.nf, r = rf.r;
  const int base = 32 * K * w;
  uint64_t key[K], k[K];
#pragma unroll
  for (int i = 0; i < K; ++i) {
    const int j = base + lane + 32 * i;
    key[i] = (j >= I1 && j < L0) ? make_key(__ldcg(sc + j), j) : 0ull;
    k[i] = key[i];
  }
  sort8_desc(k);
  uint64_t mine = 0ull;  // this quarter's lane-th best key
  int cnt = 0;
  for (; cnt < r; ++cnt) {
    const uint64_t top = warp_pop_max(k);
    if (top == 0ull) break;
    if (lane == cnt) mine = top;
  }
  buf->cand[w][lane] = mine;
  if (lane == 0) buf->cnt[w] = cnt;
  bar_split();
  int rank = lane;
#pragma unroll
  for (int v = 0; v < 4; ++v)
    if (v != w) rank += count_greater(buf->cand[v], mine);
  const bool sel = mine != 0ull && rank < r;
  const int total = min(r, buf->cnt[0] + buf->cnt[1] + buf->cnt[2] + buf->cnt[3]);
  if (p.order == MSA_ORDER_SCORE) {
    if (w == 0) rf.write_forced(out);
    if (sel) out[nf + rank] = key_id(mine);
  } else {
    if (sel && rank == total - 1) buf->prev = mine;
    bar_split();  // prev written
    const uint64_t prev = buf->prev;
    bool s[K];
    int n = 0;
#pragma unroll
    for (int i = 0; i < K; ++i) {
      const int j = base + lane + 32 * i;
      s[i] = j < nblk && (j < I1 || j >= L0 || (total > 0 && key[i] != 0ull && key[i] >= prev));
      n += __popc(__ballot_sync(0xffffffffu, s[i]));
    }
    if (lane == 0) buf->nsel[w] = n;
    bar_split();  // counts written
    int at = 0;
    for (int v = 0; v < w; ++v) at += buf->nsel[v];
#pragma unroll
    for (int i = 0; i < K; ++i) block_order_group(base + 32 * i + lane, s[i], at, out);
  }
  for (int i = nf + total + 32 * w + lane; i < topk; i += 128) out[i] = -1;
  bar_split();  // the buffer is read: free for the next row
}

// ---------------------------------------------------------------------------
// Selection from a running list (the fused prefill): `top` holds the row's
// K largest keys among its selectable blocks, descending (0 = empty), kept
// as a PairHalfList (below) while the blocks arrive; row_from_list then
// writes the row as the warp routines above would: the same keys, so the
// same ids in the same order. K >= topk (the caller's bound).
// ---------------------------------------------------------------------------
template <int K>
__device__ __forceinline__ void row_from_list(const uint64_t (&top)[K], int nblk,
                                              const KParams &p, int32_t *__restrict__ out) {
  const RowForcing rf(nblk, p);
  const int topk = p.topk;
  int cnt = 0;  // selected by score: the first min(r, filled) entries
#pragma unroll
  for (int c = 0; c < K; ++c) cnt += (c < rf.r && top[c] != 0ull) ? 1 : 0;
  if (p.order == MSA_ORDER_SCORE) {
    for (int i = 0; i < rf.nf; ++i) out[i] = rf.forced_id(i);
#pragma unroll
    for (int c = 0; c < K; ++c)
      if (c < cnt) out[rf.nf + c] = key_id(top[c]);
  } else {
    // ascending ids: init blocks, the selected ones (all in [I1, L0)), local
    int32_t id[K];
#pragma unroll
    for (int c = 0; c < K; ++c) id[c] = c < cnt ? key_id(top[c]) : INT32_MAX;
#pragma unroll
    for (int a = 1; a < K; ++a)  // insertion sort, unrolled: registers only
#pragma unroll
      for (int b = a; b > 0; --b) {
        const int32_t lo = min(id[b - 1], id[b]), hi = max(id[b - 1], id[b]);
        id[b - 1] = lo;
        id[b] = hi;
      }
    int o = 0;
    for (int j = 0; j < rf.I1; ++j) out[o++] = j;
#pragma unroll
    for (int c = 0; c < K; ++c)
      if (c < cnt) out[o + c] = id[c];
    o += cnt;
    for (int j = rf.L0; j < nblk; ++j) out[o++] = j;
  }
  for (int i = rf.nf + cnt; i < topk; ++i) out[i] = -1;
}

// ---------------------------------------------------------------------------
// The fused prefill's running list, split over the two lanes of a pair
// (lane `part` 0 keeps the K2 largest keys, descending; lane 1 the next K2).
// The prefill walks a row's blocks in ascending id order, so every key
// pushed has a larger id than every key in the list; then "x enters before
// entry e" is x.score > e.score, a 32-bit compare of the keys' high words
// (an equal score keeps the earlier, smaller id first): one 32-bit compare
// per entry instead of two 64-bit ones, and the warp's 32 lanes each do
// half a list's work instead of 16 lanes a whole one. The list holds the
// same keys as a 64-bit insertion of every key would, so the same ids.
// ---------------------------------------------------------------------------
// (#pragma unroll in the device pass only: the host compiler warns on it)
#ifdef __CUDA_ARCH__
#define MSA_UNROLL _Pragma("unroll")
#else
#define MSA_UNROLL
#endif
template <int K2>
struct PairHalfList {
  uint32_t hi[K2];  // score word of the key (make_key >> 32); 0 = empty
  uint32_t lo[K2];  // id word (~id)
  __host__ __device__ __forceinline__ void clear() {
    MSA_UNROLL
    for (int c = 0; c < K2; ++c) hi[c] = lo[c] = 0u;
  }
};

// One lane's step of a push of key (xhi, xlo), id larger than every key in
// the list. (ahi, alo): the first half's last entry before the push. The
// second half takes what the first half evicts (its last entry, when x
// enters the first half: larger than every second-half key, so it goes to
// the front and every entry shifts) or else x itself. Plain logic: the host
// test replays it.
template <int K2>
__host__ __device__ __forceinline__ void pair_half_insert(PairHalfList<K2> &l, int part,
                                                          uint32_t xhi, uint32_t xlo,
                                                          uint32_t ahi, uint32_t alo) {
  const bool shift_all = part == 1 && xhi > ahi;
  const uint32_t vhi = shift_all ? ahi : xhi, vlo = shift_all ? alo : xlo;
  bool c[K2];  // the pushed key goes before entry i (monotone: c[i-1] implies c[i])
  MSA_UNROLL
  for (int i = 0; i < K2; ++i) c[i] = shift_all || vhi > l.hi[i];
  MSA_UNROLL
  for (int i = K2 - 1; i > 0; --i) {
    l.hi[i] = c[i - 1] ? l.hi[i - 1] : (c[i] ? vhi : l.hi[i]);
    l.lo[i] = c[i - 1] ? l.lo[i - 1] : (c[i] ? vlo : l.lo[i]);
  }
  l.hi[0] = c[0] ? vhi : l.hi[0];
  l.lo[0] = c[0] ? vlo : l.lo[0];
}
#undef MSA_UNROLL

// The warp's push: every lane of the warp calls it (shuffles), lane pairs
// (2 i, 2 i + 1) hold one list; `mine`: this pair pushes this key (the
// same on both lanes). Skipped when no key of the warp passes its list's
// last entry (with random scores block j enters a full list with
// probability about K / j, so the warp's 16 lists all miss only in rows
// well past 16 x K blocks). Exact only for keys pushed in ascending id order
// (see above).
template <int K2>
__device__ __forceinline__ void pair_list_push(PairHalfList<K2> &l, bool mine, uint64_t key) {
  const int part = (threadIdx.x & 31) & 1;
  const uint32_t xhi = (uint32_t)(key >> 32), xlo = (uint32_t)key;
  const bool enters = mine && part == 1 && xhi > l.hi[K2 - 1];
  if (!__any_sync(0xffffffffu, enters)) return;
  const uint32_t phi = __shfl_xor_sync(0xffffffffu, l.hi[K2 - 1], 1);
  const uint32_t plo = __shfl_xor_sync(0xffffffffu, l.lo[K2 - 1], 1);
  if (mine)
    pair_half_insert(l, part, xhi, xlo, part ? phi : l.hi[K2 - 1], part ? plo : l.lo[K2 - 1]);
}

// The whole list, descending, on the pair's lane 0 (every lane calls it).
template <int K2>
__device__ __forceinline__ void pair_list_gather(const PairHalfList<K2> &l,
                                                 uint64_t (&top)[2 * K2]) {
#pragma unroll
  for (int c = 0; c < K2; ++c) {
    const uint32_t ohi = __shfl_xor_sync(0xffffffffu, l.hi[c], 1);
    const uint32_t olo = __shfl_xor_sync(0xffffffffu, l.lo[c], 1);
    top[c] = ((uint64_t)l.hi[c] << 32) | l.lo[c];
    top[K2 + c] = ((uint64_t)ohi << 32) | olo;
  }
}

} // namespace msa_cuda

#endif
