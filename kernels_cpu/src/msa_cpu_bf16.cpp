// msa_cpu_bf16.cpp - the AVX512-BF16 back end: vdpbf16ps (32 bf16 products
// per instruction, f32 accumulation) through intrinsics, in functions
// compiled for avx512bf16 only (the rest of the library stays baseline
// x86-64); chosen at run time when the CPU has avx512_bf16. Highway 1.0.3 has
// no bf16 dot-product op, hence the intrinsics.
//
// Two kernels (see msa_cpu_internal.h for the determinism contract):
//  - wide (sequences with >= 16 queries, i.e. prefill): lanes = 16 queries.
//    q is packed as bf16 pairs [vector][d-pair][16 lanes]; each key's pair
//    (k[2e], k[2e+1]) is broadcast and fed to 4 query vectors, 6 keys at a
//    time (24 accumulators), so one key load serves 64 queries. The block max
//    is a lane-wise max over keys: no horizontal work at all. Every dot is
//    the same chain of D/2 vdpbf16ps from 0, whatever its lane or tile.
//  - narrow (decode: fewer than 16 queries): lanes = 32 bf16 of D; a tile of
//    4 queries x 4 keys accumulates D/32 vdpbf16ps per (query, key), 16
//    chains in registers, each key chunk loaded once for the tile's queries;
//    then a fixed 4-level transpose-add tree turns the 16 accumulators into
//    one vector of 16 dots (the same tree for every position), folded into a
//    per-(query, key slot) running max. (vmaxps of +0 and -0 returns its
//    second operand, so where a block's largest dots are zeros of both signs
//    the sign of its score depends on the order of the maxes: fixed here, but
//    not the 16-slot order of the earlier version; the ids cannot differ,
//    the selection compares with < and >.) The next block's page is prefetched
//    meanwhile. Zen 5, same runs: decode B=8 x 32768 3.6-4.1 ms (one chain
//    per key at a time, its accumulator kept in memory by GCC 12) -> 1.25-1.54
//    (16 chains per query) -> 1.06-1.13 (tiles). The chunk loop is unrolled
//    for D = 64 and 128, and a key quad that every query sees (all blocks
//    but the last) takes the tile's lanes without per-key compares (LLC-
//    resident e4m3 decode 0.041-0.044 -> 0.035-0.040 ms, same dots).
// e4m3 keys: the kernels read bf16 from a small buffer that
// e4m3_rows_to_bf16 (VBMI byte lookups where the CPU has them, else
// Highway's) fills with the exact bf16 of the keys (wide: the 6 keys
// of a step; narrow: a group of 16 keys, once for all the task's queries),
// and then run the same instructions as for bf16 keys.
#include "msa_cpu_internal.h"

// GCC 12 reports its own _mm512_undefined_ps() inside _mm512_shuffle_f32x4
// as "may be used uninitialized" (a false positive in the intrinsic header).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstring>
#include <limits>

#define MSA_BF16_TARGET                                                        \
  __attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw,avx512dq")))
#define MSA_BF16_INLINE MSA_BF16_TARGET inline __attribute__((always_inline))

namespace msa_cpu {

bool bf16_supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bf16");
}

namespace {

inline uint32_t load_pair(const uint16_t *p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

MSA_BF16_INLINE __m512 dp(__m512 acc, __m512i a, __m512i b) {
  return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

// ---- wide kernel ---------------------------------------------------------

// acc[v][n] = sum over d-pairs e of qp[v][e] . pair(key n, e).
// qp: [NV][E][16] u32; keys: NK rows of D bf16 at stride D.
template <int NV, int NK>
MSA_BF16_INLINE void wide_micro(const uint32_t *qp, int64_t E, int64_t D,
                                const uint16_t *keys, __m512 (&acc)[4][6]) {
  for (int v = 0; v < NV; ++v)
    for (int n = 0; n < NK; ++n)
      acc[v][n] = _mm512_setzero_ps();
  const int64_t full = D / 2;
  for (int64_t e = 0; e < full; ++e) {
    __m512i b[NK];
    for (int n = 0; n < NK; ++n)
      b[n] = _mm512_set1_epi32((int)load_pair(keys + n * D + 2 * e));
    for (int v = 0; v < NV; ++v) {
      const __m512i qv = _mm512_loadu_si512(qp + (v * E + e) * 16);
      for (int n = 0; n < NK; ++n)
        acc[v][n] = dp(acc[v][n], qv, b[n]);
    }
  }
  if (D & 1) { // last pair is (k[D-1], 0): never read k[D]
    __m512i b[NK];
    for (int n = 0; n < NK; ++n)
      b[n] = _mm512_set1_epi32((int)(uint32_t)keys[n * D + D - 1]);
    for (int v = 0; v < NV; ++v) {
      const __m512i qv = _mm512_loadu_si512(qp + (v * E + full) * 16);
      for (int n = 0; n < NK; ++n)
        acc[v][n] = dp(acc[v][n], qv, b[n]);
    }
  }
}

// Scales, masks (key offset within the block < the lane's limit) and folds
// NK keys into the block max bm[v]. vmaxps returns its second operand when
// either is NaN, so max(s, bm) skips NaN scores (bm is never NaN).
template <int NV, int NK>
MSA_BF16_INLINE void wide_fold(__m512 (&acc)[4][6], __m512 (&bm)[4],
                               const __m512i (&lim)[4], int64_t off,
                               __m512 scale) {
  for (int n = 0; n < NK; ++n) {
    const __m512i o = _mm512_set1_epi32((int)(off + n));
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m = _mm512_cmpgt_epi32_mask(lim[v], o);
      const __m512 s = _mm512_mul_ps(acc[v][n], scale);
      bm[v] = _mm512_mask_max_ps(bm[v], m, s, bm[v]);
    }
  }
}

template <int NV, int NK>
MSA_BF16_INLINE void wide_step(const uint32_t *qp, int64_t E, int64_t D,
                               const uint16_t *keys, __m512 (&bm)[4],
                               const __m512i (&lim)[4], int64_t off,
                               __m512 scale) {
  __m512 acc[4][6];
  wide_micro<NV, NK>(qp, E, D, keys, acc);
  wide_fold<NV, NK>(acc, bm, lim, off, scale);
}

// The block's keys [0, nkeys): bf16 keys (keys8 == nullptr) in place, e4m3
// keys (keys8) converted 6 at a time into kbuf [6][D].
template <int NV>
MSA_BF16_TARGET void wide_keys(const uint32_t *qp, int64_t E, int64_t D,
                               const uint16_t *keys, const uint8_t *keys8,
                               uint16_t *kbuf, int64_t nkeys, __m512 (&bm)[4],
                               const __m512i (&lim)[4], __m512 scale) {
  for (int64_t o = 0; o < nkeys; o += 6) {
    const int64_t n = nkeys - o < 6 ? nkeys - o : 6;
    const uint16_t *k = keys8 ? kbuf : keys + o * D;
    if (keys8)
      e4m3_rows_to_bf16(keys8 + o * D, n, D, kbuf, D);
    switch (n) {
    case 6: wide_step<NV, 6>(qp, E, D, k, bm, lim, o, scale); break;
    case 5: wide_step<NV, 5>(qp, E, D, k, bm, lim, o, scale); break;
    case 4: wide_step<NV, 4>(qp, E, D, k, bm, lim, o, scale); break;
    case 3: wide_step<NV, 3>(qp, E, D, k, bm, lim, o, scale); break;
    case 2: wide_step<NV, 2>(qp, E, D, k, bm, lim, o, scale); break;
    default: wide_step<NV, 1>(qp, E, D, k, bm, lim, o, scale); break;
    }
  }
}

MSA_BF16_TARGET void score_wide(const ScoreTask &t, void *scratch) {
  const int64_t D = t.D, E = (D + 1) / 2;
  const int64_t nv_all = (t.nq + 15) / 16;
  uint32_t *qp = static_cast<uint32_t *>(scratch); // [nv_all][E][16]
  uint16_t *kbuf = reinterpret_cast<uint16_t *>(qp + nv_all * E * 16); // [6][D]
  const bool e4m3 = keys_e4m3(t);
  for (int64_t v = 0; v < nv_all; ++v)
    for (int64_t e = 0; e < E; ++e)
      for (int64_t l = 0; l < 16; ++l) {
        const int64_t i = v * 16 + l;
        uint32_t pr = 0;
        if (i < t.nq) {
          const uint16_t *qi = t.q + i * D;
          const uint32_t lo = qi[2 * e];
          const uint32_t hi = 2 * e + 1 < D ? qi[2 * e + 1] : 0;
          pr = lo | (hi << 16);
        }
        qp[(v * E + e) * 16 + l] = pr;
      }
  const __m512 scale = _mm512_set1_ps(t.scale);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const int64_t kmax = max_keys(t);
  alignas(64) int32_t limbuf[4][16];
  alignas(64) float out[4][16];
  for (int64_t j = t.j0; j < t.j1; ++j) {
    const int64_t nkeys =
        kmax - j * t.bs < t.bs ? (kmax - j * t.bs > 0 ? kmax - j * t.bs : 0)
                               : t.bs;
    const uint16_t *keys = nkeys > 0 && !e4m3 ? page_keys(t, j) : nullptr;
    const uint8_t *keys8 = nkeys > 0 && e4m3 ? page_keys_e4m3(t, j) : nullptr;
    for (int64_t v0 = 0; v0 < nv_all; v0 += 4) {
      const int nv = (int)(nv_all - v0 < 4 ? nv_all - v0 : 4);
      __m512 bm[4];
      __m512i lim[4];
      for (int v = 0; v < 4; ++v) {
        bm[v] = ninf;
        for (int l = 0; l < 16; ++l)
          limbuf[v][l] = v < nv ? rel_limit(t, (v0 + v) * 16 + l, j) : 0;
        lim[v] = _mm512_load_si512(limbuf[v]);
      }
      if (nkeys > 0) {
        const uint32_t *qv = qp + v0 * E * 16;
        switch (nv) {
        case 4: wide_keys<4>(qv, E, D, keys, keys8, kbuf, nkeys, bm, lim, scale); break;
        case 3: wide_keys<3>(qv, E, D, keys, keys8, kbuf, nkeys, bm, lim, scale); break;
        case 2: wide_keys<2>(qv, E, D, keys, keys8, kbuf, nkeys, bm, lim, scale); break;
        default: wide_keys<1>(qv, E, D, keys, keys8, kbuf, nkeys, bm, lim, scale); break;
        }
      }
      for (int v = 0; v < nv; ++v) {
        _mm512_store_ps(out[v], bm[v]);
        for (int l = 0; l < 16; ++l) {
          const int64_t i = (v0 + v) * 16 + l;
          if (i < t.nq)
            t.scores[i * t.ld + (j - t.jbase)] = out[v][l];
        }
      }
    }
  }
}

// ---- narrow kernel -------------------------------------------------------

// Level 1 and 2 combine across 128-bit chunks, 3 and 4 within them.
MSA_BF16_INLINE __m512 tree1(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                       _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
}
MSA_BF16_INLINE __m512 tree2(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}
MSA_BF16_INLINE __m512 tree3(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}

// 16 vectors -> one vector whose lane i is the sum of a[i]'s 16 lanes. Every
// a[i] goes through the same additions (lanes l + l+8, then +4, +1/+2...),
// so a key's dot does not depend on its position in the group.
MSA_BF16_INLINE __m512 reduce16(const __m512 (&a)[16]) {
  const __m512 b0 = tree1(a[0], a[1]), b1 = tree1(a[2], a[3]),
               b2 = tree1(a[4], a[5]), b3 = tree1(a[6], a[7]),
               b4 = tree1(a[8], a[9]), b5 = tree1(a[10], a[11]),
               b6 = tree1(a[12], a[13]), b7 = tree1(a[14], a[15]);
  const __m512 c0 = tree2(b0, b1), c1 = tree2(b2, b3), c2 = tree2(b4, b5),
               c3 = tree2(b6, b7);
  const __m512 d0 = tree3(c0, c1), d1 = tree3(c2, c3);
  const __m512 e = tree3(d0, d1); // lane 4k + m holds key k + 4m
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10,
                                        14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(idx, e);
}

// The 16 dots of a tile (query qq, key kk at acc[4 qq + kk]): each its D/32
// vdpbf16ps from zero in chunk order. kC > 0: D = 32 kC exactly (the chunk
// loop unrolled, no masked loads); kC = 0: any D, its last chunk masked.
template <int kC>
MSA_BF16_INLINE void narrow_dots(const uint16_t *const (&kr)[4],
                                 const uint16_t *const (&qr)[4], int64_t C,
                                 __mmask32 tail, __m512 (&acc)[16]) {
#pragma GCC unroll 16
  for (int a = 0; a < 16; ++a)
    acc[a] = _mm512_setzero_ps();
  const int64_t n = kC > 0 ? kC : C;
#pragma GCC unroll 4
  for (int64_t c = 0; c < n; ++c) {
    __m512i kv[4];
    if constexpr (kC > 0) {
#pragma GCC unroll 4
      for (int kk = 0; kk < 4; ++kk)
        kv[kk] = _mm512_loadu_si512(kr[kk] + c * 32);
    } else {
      const __mmask32 m = c + 1 == n ? tail : (__mmask32)0xFFFFFFFFu;
#pragma GCC unroll 4
      for (int kk = 0; kk < 4; ++kk)
        kv[kk] = _mm512_maskz_loadu_epi16(m, kr[kk] + c * 32);
    }
#pragma GCC unroll 4
    for (int qq = 0; qq < 4; ++qq) {
      const __m512i qv = _mm512_loadu_si512(qr[qq] + c * 32);
#pragma GCC unroll 4
      for (int kk = 0; kk < 4; ++kk)
        acc[4 * qq + kk] = dp(acc[4 * qq + kk], kv[kk], qv);
    }
  }
}

template <int kC>
MSA_BF16_TARGET void score_narrow_impl(const ScoreTask &t, void *scratch) {
  const int64_t D = t.D, C = (D + 31) / 32, W = C * 32; // 32-bf16 chunks
  const __mmask32 tail =
      (D % 32) ? (__mmask32)((1u << (D % 32)) - 1u) : (__mmask32)0xFFFFFFFFu;
  uint16_t *qz = static_cast<uint16_t *>(scratch); // [nq][W], 0-padded
  uint16_t *kbuf = qz + t.nq * W; // e4m3 keys of a group as bf16, [16][W]
  for (int64_t i = 0; i < t.nq; ++i)
    for (int64_t d = 0; d < W; ++d)
      qz[i * W + d] = d < D ? t.q[i * D + d] : 0;
  const bool e4m3 = keys_e4m3(t);
  const __m512 scale = _mm512_set1_ps(t.scale);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const int64_t kmax = max_keys(t);
  const int64_t ntiles = (t.nq + 3) / 4; // query tiles of 4 (kNarrowQueries / 4 at most)
  __mmask16 tile_lanes[kNarrowQueries / 4]; // lanes 4 qq + kk of the tile's queries
  for (int64_t qt = 0; qt < ntiles; ++qt) {
    tile_lanes[qt] = 0;
    for (int64_t qq = 0; qq < 4; ++qq)
      if (qt * 4 + qq < t.nq)
        tile_lanes[qt] |= (__mmask16)(0xFu << (4 * qq));
  }
  for (int64_t j = t.j0; j < t.j1; ++j) {
    const int64_t left = kmax - j * t.bs;
    const int64_t nkeys = left <= 0 ? 0 : (left < t.bs ? left : t.bs);
    // Keys query i sees in this block, and the most any query sees.
    int32_t nk[kNarrowQueries] = {};
    int64_t nk_all = 0, nk_min = nkeys;
    for (int64_t i = 0; i < t.nq; ++i) {
      const int32_t lim = rel_limit(t, i, j);
      nk[i] = (int32_t)(lim < nkeys ? lim : nkeys);
      nk_all = nk[i] > nk_all ? nk[i] : nk_all;
      nk_min = nk[i] < nk_min ? nk[i] : nk_min;
    }
    // Per query tile: lane 4 qq + kk holds the max over the keys of slot kk
    // of the tile's query qq (the lanes of reduce16 below).
    __m512 bm[kNarrowQueries / 4];
    for (int64_t qt = 0; qt < ntiles; ++qt)
      bm[qt] = ninf;
    // The next block's keys, prefetched into L2 a few lines per (key quad,
    // query tile) step (pages are scattered: the hardware prefetchers do not
    // cross into the next one).
    Prefetcher pf{nullptr, 0, 0, 0};
    if (j + 1 < t.j1) {
      const int64_t lnext = kmax - (j + 1) * t.bs;
      const int64_t nnext = lnext <= 0 ? 0 : (lnext < t.bs ? lnext : t.bs);
      pf.p = reinterpret_cast<const char *>(page_bytes(t, j + 1));
      pf.end = nnext * D * key_bytes(t);
      const int64_t steps = (nk_all + 3) / 4 * ntiles;
      pf.per = steps > 0 ? ((pf.end + 63) / 64 + steps - 1) / steps : 0;
    }
    // Groups of 16 keys (e4m3 keys: converted once per group), each in key
    // quads x query tiles of 4: a tile's 16 dots (query qq, key kk) are 16
    // chains in registers, each key chunk loaded once for the tile's queries.
    for (int64_t g = 0; g < nk_all; g += 16) {
      const int64_t ngroup = nk_all - g < 16 ? nk_all - g : 16;
      const uint16_t *kg = nullptr;
      int64_t ks = D; // row stride of kg, in bf16
      if (e4m3) {
        e4m3_rows_to_bf16(page_keys_e4m3(t, j) + g * D, ngroup, D, kbuf, W);
        kg = kbuf;
        ks = W;
      } else {
        kg = page_keys(t, j) + g * D;
      }
      for (int64_t k0 = 0; k0 < ngroup; k0 += 4) {
        // rows past the group's last key read its first row (memory of the
        // page), their lanes masked off below
        const uint16_t *kr[4];
        for (int kk = 0; kk < 4; ++kk)
          kr[kk] = kg + (k0 + kk < ngroup ? k0 + kk : 0) * ks;
        // every query sees the quad's 4 keys (all blocks but the last):
        // the tiles' lanes of real queries, no per-key compare
        const bool quad_seen = g + k0 + 4 <= nk_min;
        for (int64_t qt = 0; qt < ntiles; ++qt) {
          pf.some();
          const int64_t q0 = qt * 4;
          const uint16_t *qr[4];
          for (int qq = 0; qq < 4; ++qq)
            qr[qq] = qz + (q0 + qq < t.nq ? q0 + qq : 0) * W;
          // lane 4 qq + kk: key g + k0 + kk visible to query q0 + qq
          __mmask16 valid = tile_lanes[qt];
          if (!quad_seen) {
            valid = 0;
            for (int qq = 0; qq < 4; ++qq)
              for (int kk = 0; kk < 4; ++kk)
                if (q0 + qq < t.nq && g + k0 + kk < nk[q0 + qq])
                  valid |= (__mmask16)(1u << (4 * qq + kk));
            if (!valid)
              continue;
          }
          __m512 acc[16];
          narrow_dots<kC>(kr, qr, C, tail, acc);
          const __m512 sc = _mm512_mul_ps(reduce16(acc), scale);
          bm[qt] = _mm512_mask_max_ps(bm[qt], valid, sc, bm[qt]); // (NaN dots: bm kept)
        }
      }
    }
    pf.rest();
    for (int64_t i = 0; i < t.nq; ++i)
      t.scores[i * t.ld + (j - t.jbase)] =
          _mm512_mask_reduce_max_ps((__mmask16)(0xFu << (4 * (i % 4))), bm[i / 4]);
  }
}

MSA_BF16_TARGET void score_narrow(const ScoreTask &t, void *scratch) {
  if (t.D == 128)
    score_narrow_impl<4>(t, scratch);
  else if (t.D == 64)
    score_narrow_impl<2>(t, scratch);
  else
    score_narrow_impl<0>(t, scratch);
}

} // namespace

void score_bf16(const ScoreTask &t, void *scratch) {
  if (t.narrow)
    score_narrow(t, scratch);
  else
    score_wide(t, scratch);
}

} // namespace msa_cpu
