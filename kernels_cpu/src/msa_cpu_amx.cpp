// msa_cpu_amx.cpp - the AMX back end: TDPBF16PS computes a 16 x 16 tile of
// f32 dot products (16 keys x 16 queries, 32 bf16 of D per instruction) at
// once. Chosen at run time when the CPU has amx_tile + amx_bf16 + AVX-512 and
// Linux grants the process the tile-data state (arch_prctl
// ARCH_REQ_XCOMP_PERM, once per process).
//
// Layout (see msa_cpu_internal.h for the determinism contract):
//  - A tiles are keys, straight from the paged cache: 16 keys (rows, stride
//    D * 2 bytes) x 32 bf16 of D (64 bytes). Each key is loaded once for all
//    the task's queries (all H heads and all rows of a decode step).
//  - B tiles are queries, packed once per task as bf16 pairs:
//    qp[query group][d-pair (padded to a multiple of 16)][16 queries].
//  - C tiles: acc[key][query]. A (query, key) dot is always the same chain:
//    zero, then one TDPBF16PS per 32-wide chunk of D in ascending order,
//    whatever the tile's other keys and queries, the task, the thread.
//  - Keys that a tile row must not read (past the block's last key, or the
//    padding of D to a multiple of 32) come from a zero-padded copy instead,
//    so nothing outside the cache is read and padded products are 0 * 0.
//    e4m3 keys always come from that copy: e4m3_rows_to_bf16 writes the
//    exact bf16 of the group's keys into it, and the tiles are then the
//    same as for the keys stored as bf16.
//  - After the chunks, the C tiles are stored and, one step later (once the
//    next step's tile work is issued, so the vector unit folds while the tile
//    unit computes and the loads do not wait right behind the tile stores),
//    folded row by row into the per-query block max with AVX-512 (vmaxps skips NaN scores as in the
//    bf16 back end); with scale > 0 the max is taken over raw dots and scaled
//    once (fl(scale * x) is monotonic, so this equals the max of the scaled
//    dots exactly), otherwise every row is scaled first.
//  - Decode streams the index-K from memory, so each step prefetches the
//    same key rows of the next block's page into L2 (pages are scattered and
//    the hardware prefetchers stop at 4 KiB boundaries), a few lines between
//    consecutive tile instructions: issued as one burst, the prefetches fill
//    the line-fill buffers and the tile work queues behind them, and memory
//    and compute no longer overlap (measured: 1.5x slower decode).
//
// Tile registers: tmm0..3 accumulators, tmm4/5 keys, tmm6/7 queries; one
// configuration (8 tiles of 16 rows x 64 bytes) for every call. The tile
// instructions are written as inline asm with a "memory" clobber (GCC 12's
// intrinsics tell the compiler nothing about the memory they read/write).
#include "msa_cpu_internal.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MSA_AMX_BUILD 1
#else
#define MSA_AMX_BUILD 0
#endif

#include <cstdlib>
#include <cstring>
#include <limits>

namespace msa_cpu {

#if MSA_AMX_BUILD

namespace {

bool detect_amx() {
  // MSA_CPU_NO_AMX=1: behave as a CPU without AMX (tests of AUTO's fallback).
  if (const char *e = std::getenv("MSA_CPU_NO_AMX"))
    if (e[0] != '\0' && !(e[0] == '0' && e[1] == '\0'))
      return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
    return false;
  const bool amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1;
  if (!amx_bf16 || !amx_tile)
    return false;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512dq"))
    return false;
  // Linux >= 5.16: ask for the tile data state (XFEATURE_XTILEDATA = 18).
  constexpr long kArchGetXcompPerm = 0x1022, kArchReqXcompPerm = 0x1023;
  constexpr int kXtileData = 18;
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXtileData) != 0)
    return false;
  unsigned long perm = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &perm) != 0)
    return false;
  return (perm >> kXtileData) & 1;
}

} // namespace

bool amx_supported() {
  static const bool ok = detect_amx();
  return ok;
}

#define MSA_AMX_TARGET                                                         \
  __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq")))
#define MSA_AMX_INLINE MSA_AMX_TARGET inline __attribute__((always_inline))

#define TLOAD(t, base, stride)                                                 \
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t                             \
                   :                                                           \
                   : "r"(base), "r"((long)(stride))                            \
                   : "memory")
#define TSTORE(t, base)                                                        \
  __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)"                         \
                   :                                                           \
                   : "r"(base), "r"(64L)                                       \
                   : "memory")
#define TZERO(t) __asm__ volatile("tilezero %%tmm" #t ::: "memory")
// c[m][n] += sum over pairs e of a[m][e] . b[e][n]
#define TDP(c, a, b)                                                           \
  __asm__ volatile("tdpbf16ps %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::: "memory")

namespace {

struct alignas(64) TileConfig {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

void tiles_on() {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg) : "memory");
}

void tiles_off() { __asm__ volatile("tilerelease" ::: "memory"); }

// One step: KG key groups (16 keys each, A tiles at a[g] with row stride
// as[g] bytes) times VG query groups (B tiles at b[v], chunk c at
// b[v] + c * 256 u32), over C chunks; the accumulators go to ct[g * VG + v].
// The step issues a few of the next block's prefetches (Prefetcher,
// msa_cpu_internal.h) between its tile instructions.

template <int KG, int VG>
void step(const uint16_t *const (&a)[4], const long (&as)[4],
          const uint32_t *const (&b)[2], int64_t C, float *ct,
          Prefetcher &pf) {
  static_assert(KG * VG <= 4, "4 accumulators");
  TZERO(0);
  if (KG * VG > 1)
    TZERO(1);
  if (KG * VG > 2)
    TZERO(2);
  if (KG * VG > 3)
    TZERO(3);
  for (int64_t c = 0; c < C; ++c) {
    const int64_t ko = c * 32, qo = c * 256;
    if (KG == 4 && VG == 1) {
      TLOAD(6, b[0] + qo, 64);
      TLOAD(4, a[0] + ko, as[0]);
      TDP(0, 4, 6);
      pf.some();
      TLOAD(5, a[1] + ko, as[1]);
      TDP(1, 5, 6);
      pf.some();
      TLOAD(4, a[2] + ko, as[2]);
      TDP(2, 4, 6);
      pf.some();
      TLOAD(5, a[3] + ko, as[3]);
      TDP(3, 5, 6);
      pf.some();
    } else if (KG == 2 && VG == 2) {
      TLOAD(6, b[0] + qo, 64);
      TLOAD(7, b[1] + qo, 64);
      TLOAD(4, a[0] + ko, as[0]);
      TLOAD(5, a[1] + ko, as[1]);
      TDP(0, 4, 6);
      pf.some();
      TDP(1, 4, 7);
      pf.some();
      TDP(2, 5, 6);
      pf.some();
      TDP(3, 5, 7);
      pf.some();
    } else if (KG == 2 && VG == 1) {
      TLOAD(6, b[0] + qo, 64);
      TLOAD(4, a[0] + ko, as[0]);
      TLOAD(5, a[1] + ko, as[1]);
      TDP(0, 4, 6);
      pf.some();
      TDP(1, 5, 6);
      pf.some();
    } else if (KG == 1 && VG == 2) {
      TLOAD(6, b[0] + qo, 64);
      TLOAD(7, b[1] + qo, 64);
      TLOAD(4, a[0] + ko, as[0]);
      TDP(0, 4, 6);
      pf.some();
      TDP(1, 4, 7);
      pf.some();
    } else {
      TLOAD(6, b[0] + qo, 64);
      TLOAD(4, a[0] + ko, as[0]);
      TDP(0, 4, 6);
      pf.some();
    }
  }
  pf.rest();
  TSTORE(0, ct);
  if (KG * VG > 1)
    TSTORE(1, ct + 256);
  if (KG * VG > 2)
    TSTORE(2, ct + 512);
  if (KG * VG > 3)
    TSTORE(3, ct + 768);
}

// Folds rows [0, nrows) of one stored C tile (row r = key off + r) into the
// block max bm of its 16 queries. lim: per-query visible keys in the block;
// minlim: their minimum (lanes past nq hold the block size).
MSA_AMX_INLINE __m512 fold(const float *tile, int64_t nrows, int64_t off,
                           __m512 bm, __m512i lim, int32_t minlim,
                           bool prescale, __m512 scale) {
  if (!prescale && off + nrows <= minlim) {
    // Every query sees every row: plain max, 4 independent chains.
    const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    __m512 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int64_t r = 0;
    for (; r + 4 <= nrows; r += 4) {
      m0 = _mm512_max_ps(_mm512_load_ps(tile + r * 16), m0);
      m1 = _mm512_max_ps(_mm512_load_ps(tile + r * 16 + 16), m1);
      m2 = _mm512_max_ps(_mm512_load_ps(tile + r * 16 + 32), m2);
      m3 = _mm512_max_ps(_mm512_load_ps(tile + r * 16 + 48), m3);
    }
    for (; r < nrows; ++r)
      m0 = _mm512_max_ps(_mm512_load_ps(tile + r * 16), m0);
    // None of m0..m3, bm is NaN.
    return _mm512_max_ps(_mm512_max_ps(m0, m1),
                         _mm512_max_ps(_mm512_max_ps(m2, m3), bm));
  }
  for (int64_t r = 0; r < nrows; ++r) {
    const __mmask16 m =
        _mm512_cmpgt_epi32_mask(lim, _mm512_set1_epi32((int)(off + r)));
    __m512 s = _mm512_load_ps(tile + r * 16);
    if (prescale)
      s = _mm512_mul_ps(s, scale);
    bm = _mm512_mask_max_ps(bm, m, s, bm);
  }
  return bm;
}

// Folds the KG x VG stored tiles of the step at key g0 into bm.
MSA_AMX_INLINE void fold_groups(const float *buf, int64_t g0, int KG, int VG,
                                int64_t nkeys, __m512 (&bm)[2],
                                const __m512i (&lim)[2],
                                const int32_t (&minlim)[2], bool prescale,
                                __m512 scale) {
  for (int g = 0; g < KG; ++g) {
    const int64_t kb = g0 + g * 16;
    const int64_t nrows = nkeys - kb < 16 ? nkeys - kb : 16;
    if (nrows <= 0)
      continue;
    for (int v = 0; v < VG; ++v)
      bm[v] = fold(buf + (g * VG + v) * 256, nrows, kb, bm[v], lim[v],
                   minlim[v], prescale, scale);
  }
}

// Key group source for rows [g, g + 16) of a block with nkeys keys (bf16 at
// keys, or e4m3 at keys8): the cache itself for bf16 keys when every row
// exists and D is a multiple of 32, else a zero-padded bf16 copy in pad (16
// rows of C * 32 bf16).
inline void group_src(const uint16_t *keys, const uint8_t *keys8, int64_t g,
                      int64_t nkeys, int64_t D, int64_t C, uint16_t *pad,
                      const uint16_t *&src, long &stride) {
  if (!keys8 && g + 16 <= nkeys && D % 32 == 0) {
    src = keys + g * D;
    stride = (long)(D * 2);
    return;
  }
  const int64_t W = C * 32;
  const int64_t n = nkeys - g < 16 ? (nkeys - g > 0 ? nkeys - g : 0) : 16;
  if (keys8) {
    e4m3_rows_to_bf16(keys8 + g * D, n, D, pad, W);
  } else {
    for (int64_t r = 0; r < n; ++r) {
      std::memcpy(pad + r * W, keys + (g + r) * D, (size_t)D * 2);
      std::memset(pad + r * W + D, 0, (size_t)(W - D) * 2);
    }
  }
  std::memset(pad + n * W, 0, (size_t)((16 - n) * W) * 2);
  src = pad;
  stride = (long)(W * 2);
}

inline int64_t block_keys(int64_t kmax, int64_t j, int64_t bs) {
  const int64_t left = kmax - j * bs;
  return left <= 0 ? 0 : (left < bs ? left : bs);
}

// A (block, query-group pair) in flight: its block max, limits and the
// place of its scores. Two slots: the stored tiles of step s are folded
// after step s + 1 is issued (so the vector unit folds while the tile unit
// computes, and the loads do not wait right behind the tile stores), also
// across blocks, so a pair's scores are final one step after its last.
struct Slot {
  __m512 bm[2];
  __m512i lim[2];
  int32_t minlim[2];
  int64_t j, v0, nkeys;
  int VG;
};
struct Pending {
  int kg; // 0: nothing pending
  int slot;
  int64_t g0;
  bool last; // the pair's last step: write its scores after the fold
  float *buf;
};

MSA_AMX_INLINE void finish(const ScoreTask &t, const Slot &sl, bool prescale,
                           __m512 scale) {
  alignas(64) float out[16];
  for (int v = 0; v < sl.VG; ++v) {
    const __m512 s = prescale ? sl.bm[v] : _mm512_mul_ps(sl.bm[v], scale);
    _mm512_store_ps(out, s);
    for (int l = 0; l < 16; ++l) {
      const int64_t i = (sl.v0 + v) * 16 + l;
      if (i < t.nq)
        t.scores[i * t.ld + (sl.j - t.jbase)] = out[l];
    }
  }
}

MSA_AMX_INLINE void flush(const ScoreTask &t, Slot (&slot)[2], Pending &pend,
                          bool prescale, __m512 scale) {
  if (pend.kg == 0)
    return;
  Slot &sl = slot[pend.slot];
  fold_groups(pend.buf, pend.g0, pend.kg, sl.VG, sl.nkeys, sl.bm, sl.lim,
              sl.minlim, prescale, scale);
  if (pend.last)
    finish(t, sl, prescale, scale);
  pend.kg = 0;
}

MSA_AMX_TARGET void score_amx_impl(const ScoreTask &t, void *scratch) {
  const int64_t D = t.D, C = (D + 31) / 32, Ep = C * 16;
  const int64_t nv = (t.nq + 15) / 16;
  // Scratch: query pairs, 4 stored C tiles, 4 padded key groups.
  uint32_t *qp = static_cast<uint32_t *>(scratch); // [nv][Ep][16]
  float *ct = reinterpret_cast<float *>(qp + nv * Ep * 16); // [2][4][256]
  uint16_t *pad = reinterpret_cast<uint16_t *>(ct + 8 * 256); // [4][16][C*32]
  for (int64_t v = 0; v < nv; ++v)
    for (int64_t e = 0; e < Ep; ++e)
      for (int64_t l = 0; l < 16; ++l) {
        const int64_t i = v * 16 + l;
        uint32_t pr = 0;
        if (i < t.nq && 2 * e < D) {
          const uint16_t *qi = t.q + i * D;
          const uint32_t lo = qi[2 * e];
          const uint32_t hi = 2 * e + 1 < D ? qi[2 * e + 1] : 0;
          pr = lo | (hi << 16);
        }
        qp[(v * Ep + e) * 16 + l] = pr;
      }
  const bool prescale = !(t.scale > 0.0f);
  const __m512 scale = _mm512_set1_ps(t.scale);
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const int64_t kmax = max_keys(t);
  const bool e4m3 = keys_e4m3(t);
  const int64_t kb = key_bytes(t);
  Slot slot[2];
  Pending pend = {0, 0, 0, false, nullptr};
  alignas(64) int32_t limbuf[16];
  // Keys visible to each query (lanes past nq: all), so that a block's
  // limits need no division.
  int64_t nvis[kMaxTileQueries];
  for (int64_t i = 0; i < nv * 16; ++i)
    nvis[i] = i < t.nq ? t.nbase + (t.qfirst + i) / t.H
                       : std::numeric_limits<int64_t>::max() / 2;
  int cur = 0, cs = 0; // tile buffer and slot of the next step / pair
  tiles_on();
  for (int64_t j = t.j0; j < t.j1; ++j) {
    const int64_t nkeys = block_keys(kmax, j, t.bs);
    const uint16_t *keys = nkeys > 0 && !e4m3 ? page_keys(t, j) : nullptr;
    const uint8_t *keys8 = nkeys > 0 && e4m3 ? page_keys_e4m3(t, j) : nullptr;
    // The next block's keys, fetched a step ahead while this one is scored.
    const int64_t nnext = j + 1 < t.j1 ? block_keys(kmax, j + 1, t.bs) : 0;
    const unsigned char *next = nnext > 0 ? page_bytes(t, j + 1) : nullptr;
    for (int64_t v0 = 0; v0 < nv; v0 += 2) {
      if (pend.kg > 0 && pend.slot == cs)
        flush(t, slot, pend, prescale, scale);
      Slot &sl = slot[cs];
      sl.VG = nv - v0 >= 2 ? 2 : 1;
      sl.j = j;
      sl.v0 = v0;
      sl.nkeys = nkeys;
      for (int v = 0; v < sl.VG; ++v) {
        int32_t mn = (int32_t)t.bs;
        for (int l = 0; l < 16; ++l) {
          // rel_limit(): visible keys within block j, clamped to [0, bs].
          const int64_t r = nvis[(v0 + v) * 16 + l] - j * t.bs;
          const int32_t x = (int32_t)(r < 0 ? 0 : r > t.bs ? t.bs : r);
          limbuf[l] = x;
          mn = x < mn ? x : mn;
        }
        sl.lim[v] = _mm512_load_si512(limbuf);
        sl.minlim[v] = mn;
        sl.bm[v] = ninf;
      }
      if (nkeys == 0) { // nothing visible: -inf
        finish(t, sl, prescale, scale);
        continue;
      }
      const int VG = sl.VG;
      const uint32_t *const b[2] = {qp + v0 * Ep * 16,
                                    qp + (v0 + VG - 1) * Ep * 16};
      const int KGmax = VG == 2 ? 2 : 4;
      for (int64_t g0 = 0; g0 < nkeys;) {
        const int64_t left = nkeys - g0;
        const int KG = left > 32 && KGmax == 4 ? 4 : left > 16 ? 2 : 1;
        // This step's share of the next block: the same key rows.
        Prefetcher pf{reinterpret_cast<const char *>(next), 0, 0, 0};
        if (v0 == 0 && next) {
          const int64_t to = g0 + 16 * KG >= nkeys ? nnext : g0 + 16 * KG;
          pf.o = g0 * D * kb;
          pf.end = (to < nnext ? to : nnext) * D * kb;
          const int64_t ntdp = (int64_t)KG * VG * C;
          const int64_t lines = pf.end > pf.o ? (pf.end - pf.o + 63) / 64 : 0;
          pf.per = (lines + ntdp - 1) / ntdp;
        }
        const uint16_t *a[4] = {nullptr, nullptr, nullptr, nullptr};
        long as[4] = {0, 0, 0, 0};
        for (int g = 0; g < KG; ++g)
          group_src(keys, keys8, g0 + g * 16, nkeys, D, C,
                    pad + g * 16 * C * 32, a[g], as[g]);
        float *buf = ct + cur * 1024;
        if (VG == 2) {
          if (KG == 2)
            step<2, 2>(a, as, b, C, buf, pf);
          else
            step<1, 2>(a, as, b, C, buf, pf);
        } else {
          if (KG == 4)
            step<4, 1>(a, as, b, C, buf, pf);
          else if (KG == 2)
            step<2, 1>(a, as, b, C, buf, pf);
          else
            step<1, 1>(a, as, b, C, buf, pf);
        }
        flush(t, slot, pend, prescale, scale); // the previous step
        g0 += 16 * KG;
        pend = {KG, cs, g0 - 16 * KG, g0 >= nkeys, buf};
        cur ^= 1;
      }
      cs ^= 1;
    }
  }
  flush(t, slot, pend, prescale, scale);
  tiles_off();
}

} // namespace

void score_amx(const ScoreTask &t, void *scratch) { score_amx_impl(t, scratch); }

#else // !MSA_AMX_BUILD

bool amx_supported() { return false; }
void score_amx(const ScoreTask &, void *) {}

#endif

} // namespace msa_cpu
