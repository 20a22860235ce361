// msa_cpu_hwy.cpp - the Highway back end: dynamic dispatch over the x86
// targets this Highway compiles (SSSE3, SSE4, AVX2, AVX-512) with a portable
// fallback (EMU128 / SCALAR). Used where the CPU has no avx512_bf16, and in
// tests for each target.
//
// Two kernels (the determinism contract is in msa_cpu_internal.h):
//  - wide (sequences with >= 16 queries, i.e. prefill): lanes are queries
//    (one tile = up to 64 queries of one sequence): q is packed as f32
//    [vector][d][lanes]; keys are converted bf16 -> f32 in chunks of
//    kKeyChunk and each key element is broadcast to up to kMV query vectors,
//    kNK keys at a time. Every dot is the same chain of D multiply-adds in d
//    order, whatever its lane or tile; the block max is lane-wise, NaN scores
//    skipped.
//  - narrow (decode: fewer than 16 queries): lanes are D. Each key is read
//    from the cache once per task and scored against all the task's queries
//    (every head and new row of the sequence) while it is in registers; see
//    the comment above NarrowKeys.
// e4m3 keys: the bytes become the bf16 of the same value (E4M3ToBF16,
// below) and then go through the bf16 instructions, so the dots are
// bit-identical to those of the keys stored as bf16: the wide kernel
// converts into a small key buffer; the narrow kernel converts in registers
// (E4M3Tile on AVX2, E4M3RowTile on the other targets).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "msa_cpu_hwy.cpp"
#include "hwy/foreach_target.h" // IWYU pragma: keep
#include "hwy/cache_control.h"
#include "hwy/highway.h"

#include "msa/msa_reference.h"
#include "msa_cpu_internal.h"

#include <cstring>
#include <limits>
#include <type_traits>

HWY_BEFORE_NAMESPACE();
namespace msa_cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr int64_t kKeyChunk = 32;

// The wide kernel's register tile: kMV query vectors x kNK keys, kMV * kNK
// accumulators + kNK broadcast keys + 1 query vector: 4 x 4 fits AVX-512's
// 32 registers; with 16 (AVX2 and below) 4 x 4 spills inside the d loop and
// 4 x 3 fits (Zen 3, one thread, T=2048: 78 GFLOP/s vs 52 for 4 x 4,
// 74 for 3 x 3, 65 for 4 x 2).
#if HWY_TARGET <= HWY_AVX3
constexpr int kMV = 4, kNK = 4;
#else
constexpr int kMV = 4, kNK = 3;
#endif

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// ---- e4m3 -> bf16 ----------------------------------------------------------
//
// e4m3 (s.eeee.mmm, bias 7, no infinities, s.1111.111 = NaN) to the bf16 of
// the same value, exactly, in byte lanes with table lookups: no
// floating-point instruction, so MXCSR's DAZ/FTZ cannot flush anything. For
// e > 0 the bf16 is s | (e + 120) << 7 | m << 4: its high byte
// s | (60 + (e >> 1)) is a function of the byte's high nibble s.e3e2e1 and
// its low byte (e & 1) << 7 | m << 4 a function of the low nibble e0.m.
// The special bytes, e = 0 (m * 2^-9, a normal bf16) and NaN, are those
// whose magnitude + 1 (as int8: 0x7F + 1 wraps to -128) is below 9; they
// take their low byte and a correction of the high byte from lookups on
// the low nibble (NaN: high byte 0x7F | s, low byte 0xF0, a bf16 NaN).
using DU32 = hn::RebindToUnsigned<DF>;
using VU32 = hn::Vec<DU32>;

#if HWY_TARGET == HWY_SCALAR
// One f32 lane: 4 bytes -> two u32 lanes of bf16 pairs, from the scalar
// decode (the reference's, exact).
HWY_INLINE uint32_t E4M3Pair(const uint8_t *p) {
  return (uint32_t)msa_float_to_bf16(msa_e4m3_to_float(p[0])) |
         ((uint32_t)msa_float_to_bf16(msa_e4m3_to_float(p[1])) << 16);
}
HWY_INLINE void E4M3ToBF16(const uint8_t *p, VU32 &first, VU32 &second) {
  const DU32 du;
  first = hn::Set(du, E4M3Pair(p));
  second = hn::Set(du, E4M3Pair(p + 2));
}
#else
alignas(16) constexpr uint8_t kHighByte[16] = { // [s.e3e2e1], e > 0
    60, 61, 62, 63, 64, 65, 66, 67,
    0x80 | 60, 0x80 | 61, 0x80 | 62, 0x80 | 63,
    0x80 | 64, 0x80 | 65, 0x80 | 66, 0x80 | 67};
alignas(16) constexpr uint8_t kLowByte[16] = { // [e0.m], e > 0
    0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70,
    0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0, 0xF0};
// Special bytes, [low nibble]: what to subtract from kHighByte (mod 256)
// and the low byte. e = 0, m = 0..7: +-0, 2^-9 (0x3B00), 0x3B80, 0x3BC0,
// 0x3C00, 0x3C20, 0x3C40, 0x3C60 (high byte 60 - drop); NaN (low nibble
// 15): 0x43 - 0xC4 = 0x7F (mod 256), low byte 0xF0.
alignas(16) constexpr uint8_t kSpecialHighDrop[16] = {
    60, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC4};
alignas(16) constexpr uint8_t kSpecialLowByte[16] = {
    0x00, 0x00, 0x80, 0xC0, 0x00, 0x20, 0x40, 0x60, 0, 0, 0, 0, 0, 0, 0, 0xF0};

// The u64 order that makes the per-128-bit-block interleaves below yield
// the bytes in element order: block k holds bytes [8k, 8k + 8) and
// [V/2 + 8k, V/2 + 8k + 8) of the V loaded bytes.
template <size_t N64> struct ZipOrder {
  int64_t v[N64];
  constexpr ZipOrder() : v() {
    for (size_t i = 0; i < N64; ++i)
      v[i] = (int64_t)(i / 2 + (i % 2) * (N64 / 2));
  }
};

using VU8 = hn::Vec<hn::Repartition<uint8_t, DF>>;

// The bf16 of the 4N bytes of x, per 128-bit block: `first` holds, in each
// block, the u32 pairs of the block's low 8 bytes, `second` those of its
// high 8 bytes.
HWY_INLINE void E4M3BlocksToBF16(VU8 x, VU32 &first, VU32 &second) {
  const hn::Repartition<uint8_t, DF> d8;
  const hn::Repartition<int8_t, DF> di8;
  const hn::Repartition<uint16_t, DF> d16;
  const DU32 du;
  const auto nib_hi = hn::ShiftRight<4>(x);
  const auto nib_lo = hn::And(x, hn::Set(d8, 0x0F));
  auto hi = hn::TableLookupBytes(hn::LoadDup128(d8, kHighByte), nib_hi);
  auto lo = hn::TableLookupBytes(hn::LoadDup128(d8, kLowByte), nib_lo);
  const auto mag1 = hn::Add(hn::BitCast(di8, hn::And(x, hn::Set(d8, 0x7F))),
                            hn::Set(di8, 1));
  const auto special = hn::RebindMask(d8, hn::Lt(mag1, hn::Set(di8, 9)));
  hi = hn::Sub(hi, hn::IfThenElseZero(
                       special, hn::TableLookupBytes(
                                    hn::LoadDup128(d8, kSpecialHighDrop), nib_lo)));
  lo = hn::IfThenElse(
      special, hn::TableLookupBytes(hn::LoadDup128(d8, kSpecialLowByte), nib_lo),
      lo);
  first = hn::BitCast(du, hn::ZipLower(d16, lo, hi));
  second = hn::BitCast(du, hn::ZipUpper(d16, lo, hi));
}

// 4N bytes at p -> their bf16, as u32 pairs: `first` = elements [0, 2N),
// `second` = [2N, 4N) (the layout a LoadU of 2N bf16 gives).
HWY_INLINE void E4M3ToBF16(const uint8_t *p, VU32 &first, VU32 &second) {
  const hn::Repartition<uint8_t, DF> d8;
  auto x = hn::LoadU(d8, p);
  if constexpr (hn::MaxLanes(d8) > 16) { // several 128-bit blocks
    const hn::Repartition<uint64_t, DF> d64;
    static constexpr ZipOrder<hn::MaxLanes(d8) / 8> kOrder{};
    x = hn::BitCast(d8, hn::TableLookupLanes(hn::BitCast(d64, x),
                                             hn::SetTableIndices(d64, kOrder.v)));
  }
  E4M3BlocksToBF16(x, first, second);
}
#endif

constexpr int64_t kE4M3Step = 4 * (int64_t)hn::MaxLanes(DF()); // bytes

// E4M3ToBF16 of the `left` bytes at p (fewer than a step: zero-padded; e4m3
// 0x00 is +0, as bf16 0x0000).
HWY_INLINE void E4M3ToBF16Tail(const uint8_t *p, int64_t left, VU32 &first,
                               VU32 &second) {
  if (left >= kE4M3Step) {
    E4M3ToBF16(p, first, second);
    return;
  }
  alignas(64) uint8_t pad[kE4M3Step] = {};
  std::memcpy(pad, p, (size_t)left);
  E4M3ToBF16(pad, first, second);
}

// n e4m3 bytes -> n bf16 at dst.
HWY_INLINE void E4M3RowToBF16(const uint8_t *src, int64_t n, uint16_t *dst) {
  const DU32 du;
  constexpr int64_t half = kE4M3Step / 2;
  int64_t i = 0;
  for (; i + kE4M3Step <= n; i += kE4M3Step) {
    VU32 a, b;
    E4M3ToBF16(src + i, a, b);
    hn::StoreU(a, du, reinterpret_cast<uint32_t *>(dst + i));
    hn::StoreU(b, du, reinterpret_cast<uint32_t *>(dst + i + half));
  }
  if (i < n) {
    VU32 a, b;
    E4M3ToBF16Tail(src + i, n - i, a, b);
    alignas(64) uint16_t out[kE4M3Step];
    hn::Store(a, du, reinterpret_cast<uint32_t *>(out));
    hn::Store(b, du, reinterpret_cast<uint32_t *>(out + half));
    std::memcpy(dst + i, out, (size_t)(n - i) * sizeof(uint16_t));
  }
}

// e4m3_rows_to_bf16 (msa_cpu_internal.h) for this target.
void E4M3RowsToBF16(const uint8_t *src, int64_t nrows, int64_t D,
                    uint16_t *dst, int64_t ld) {
  for (int64_t r = 0; r < nrows; ++r) {
    E4M3RowToBF16(src + r * D, D, dst + r * ld);
    if (ld > D)
      std::memset(dst + r * ld + D, 0, (size_t)(ld - D) * sizeof(uint16_t));
  }
}

// bf16 -> f32 (exact: the bf16 bits are the f32's upper half).
HWY_INLINE void BF16RowToF32(const uint16_t *src, int64_t D, float *dst) {
  const DF df;
  const DU32 du32;
  const hn::Rebind<uint16_t, DF> du16;
  const int64_t L = (int64_t)hn::Lanes(df);
  int64_t d = 0;
  for (; d + L <= D; d += L) {
    const auto w = hn::PromoteTo(du32, hn::LoadU(du16, src + d));
    hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(w)), df, dst + d);
  }
  for (; d < D; ++d) {
    const uint32_t bits = (uint32_t)src[d] << 16;
    std::memcpy(dst + d, &bits, sizeof(float));
  }
}

template <int MV, int NK>
HWY_INLINE void Micro(const float *qf, int64_t D, size_t L, const float *kf,
                      VF (&acc)[4][4]) {
  const DF df;
  for (int m = 0; m < MV; ++m)
    for (int n = 0; n < NK; ++n)
      acc[m][n] = hn::Zero(df);
  for (int64_t d = 0; d < D; ++d) {
    VF b[NK];
    for (int n = 0; n < NK; ++n)
      b[n] = hn::Set(df, kf[n * D + d]);
    for (int m = 0; m < MV; ++m) {
      const VF qv = hn::LoadU(df, qf + ((int64_t)m * D + d) * (int64_t)L);
      for (int n = 0; n < NK; ++n)
        acc[m][n] = hn::MulAdd(qv, b[n], acc[m][n]);
    }
  }
}

template <int MV, int NK>
HWY_INLINE void Step(const float *qf, int64_t D, size_t L, const float *kf,
                     float *bm, const int32_t *lim, int64_t off, float scale) {
  const DF df;
  const hn::RebindToSigned<DF> di;
  VF acc[4][4];
  Micro<MV, NK>(qf, D, L, kf, acc);
  const VF vs = hn::Set(df, scale);
  for (int m = 0; m < MV; ++m) {
    VF best = hn::LoadU(df, bm + m * L);
    const auto lv = hn::LoadU(di, lim + m * L);
    for (int n = 0; n < NK; ++n) {
      const auto vis =
          hn::RebindMask(df, hn::Lt(hn::Set(di, (int32_t)(off + n)), lv));
      const VF s = hn::Mul(acc[m][n], vs);
      // Gt is false for NaN: NaN scores are skipped.
      best = hn::IfThenElse(hn::And(vis, hn::Gt(s, best)), s, best);
    }
    hn::StoreU(best, df, bm + m * L);
  }
}

template <int MV>
HWY_INLINE void Keys(const float *qf, int64_t D, size_t L, const float *kf,
                     int64_t nkeys, float *bm, const int32_t *lim,
                     int64_t off0, float scale) {
  int64_t o = 0;
  for (; o + kNK <= nkeys; o += kNK)
    Step<MV, kNK>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale);
  switch (nkeys - o) {
  case 3: Step<MV, 3>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale); break;
  case 2: Step<MV, 2>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale); break;
  case 1: Step<MV, 1>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale); break;
  default: break;
  }
}

void ScoreWideImpl(const ScoreTask &t, void *scratch) {
  const DF df;
  const size_t L = hn::Lanes(df);
  const int64_t D = t.D;
  const int64_t nv_all = (t.nq + (int64_t)L - 1) / (int64_t)L;
  float *qf = static_cast<float *>(scratch);       // [nv_all][D][L]
  float *kf = qf + nv_all * D * (int64_t)L;        // [kKeyChunk][D]
  float *bm = kf + kKeyChunk * D;                  // [nv_all][L]
  int32_t *lim = reinterpret_cast<int32_t *>(bm + nv_all * (int64_t)L);
  uint16_t *krow = reinterpret_cast<uint16_t *>(lim + nv_all * (int64_t)L); // [D], e4m3 keys
  const bool e4m3 = keys_e4m3(t);
  for (int64_t v = 0; v < nv_all; ++v)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t l = 0; l < (int64_t)L; ++l) {
        const int64_t i = v * (int64_t)L + l;
        float f = 0.0f;
        if (i < t.nq) {
          const uint32_t bits = (uint32_t)t.q[i * D + d] << 16;
          std::memcpy(&f, &bits, sizeof f);
        }
        qf[(v * D + d) * (int64_t)L + l] = f;
      }
  const int64_t kmax = max_keys(t);
  const int64_t nall = nv_all * (int64_t)L;
  for (int64_t j = t.j0; j < t.j1; ++j) {
    const int64_t left = kmax - j * t.bs;
    const int64_t nkeys = left <= 0 ? 0 : (left < t.bs ? left : t.bs);
    for (int64_t i = 0; i < nall; ++i) {
      bm[i] = -std::numeric_limits<float>::infinity();
      lim[i] = rel_limit(t, i, j);
    }
    const uint16_t *keys = nkeys > 0 && !e4m3 ? page_keys(t, j) : nullptr;
    const uint8_t *keys8 = nkeys > 0 && e4m3 ? page_keys_e4m3(t, j) : nullptr;
    for (int64_t c0 = 0; c0 < nkeys; c0 += kKeyChunk) {
      const int64_t nc = nkeys - c0 < kKeyChunk ? nkeys - c0 : kKeyChunk;
      for (int64_t n = 0; n < nc; ++n) { // (e4m3 ->) bf16 -> f32
        const uint16_t *src = keys ? keys + (c0 + n) * D : krow;
        if (!keys)
          E4M3RowToBF16(keys8 + (c0 + n) * D, D, krow);
        BF16RowToF32(src, D, kf + n * D);
      }
      for (int64_t v0 = 0; v0 < nv_all; v0 += kMV) {
        const int mv = (int)(nv_all - v0 < kMV ? nv_all - v0 : kMV);
        const float *qv = qf + v0 * D * (int64_t)L;
        float *b = bm + v0 * (int64_t)L;
        const int32_t *lv = lim + v0 * (int64_t)L;
        switch (mv) {
        case 4: Keys<4>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        case 3: Keys<3>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        case 2: Keys<2>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        default: Keys<1>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        }
      }
    }
    for (int64_t i = 0; i < t.nq; ++i)
      t.scores[i * t.ld + (j - t.jbase)] = bm[i];
  }
}

// ---- narrow kernel (decode) ----------------------------------------------
//
// A key row is read as N u32 lanes per chunk of 2N bf16: lane l holds
// (k[2l], k[2l+1]), and the two halves become f32 exactly with one shift
// (even elements) and one mask (odd elements); q is packed once per task in
// the same even/odd split. A tile is QT queries x KT keys, QT * KT = N: its N
// accumulators are (query, key) pairs whose lanes hold partial sums over D;
// after the chunk loop one reduction tree (ReduceN) turns the N vectors into
// one vector of N dots, so the horizontal work is a few shuffles per N dots
// and never inside the chunk loop. Every dot is the same chain of
// multiply-adds (chunk order, even then odd) followed by the same tree,
// whatever its tile position or thread. The next block's page is prefetched
// a few lines per tile (cache pages are scattered, so the hardware
// prefetchers cannot run ahead across them).

constexpr size_t kN = hn::MaxLanes(DF());

// v[0..kN) -> one vector; lane L holds the sum of the lanes of v[perm(L)]
// for a fixed permutation perm (NarrowLanes recovers it). Within each 128-bit
// block: two interleave levels; then the blocks are added (ConcatLowerLower /
// ConcatUpperUpper, SwapAdjacentBlocks / OddEvenBlocks for 512 bits).
#if HWY_TARGET != HWY_SCALAR
template <class D> HWY_INLINE VF Block4(D df, VF a, VF b, VF c, VF d) {
  const hn::Repartition<uint64_t, D> d64;
  const VF ab = hn::Add(hn::InterleaveLower(df, a, b), hn::InterleaveUpper(df, a, b));
  const VF cd = hn::Add(hn::InterleaveLower(df, c, d), hn::InterleaveUpper(df, c, d));
  const auto ab64 = hn::BitCast(d64, ab), cd64 = hn::BitCast(d64, cd);
  return hn::Add(hn::BitCast(df, hn::InterleaveLower(d64, ab64, cd64)),
                 hn::BitCast(df, hn::InterleaveUpper(d64, ab64, cd64)));
}

#endif

template <size_t N> HWY_INLINE VF ReduceN(const VF (&v)[N]) {
#if HWY_TARGET == HWY_SCALAR // one lane: the accumulator is the dot
  static_assert(N == 1, "HWY_SCALAR has one lane");
  return v[0];
#else
  const DF df;
  if constexpr (N == 4) {
    return Block4(df, v[0], v[1], v[2], v[3]);
  } else if constexpr (N == 8) {
    const VF r0 = Block4(df, v[0], v[1], v[2], v[3]);
    const VF r1 = Block4(df, v[4], v[5], v[6], v[7]);
    return hn::Add(hn::ConcatLowerLower(df, r1, r0),
                   hn::ConcatUpperUpper(df, r1, r0));
  } else {
    static_assert(N == 16, "ReduceN: 1, 4, 8 or 16 f32 lanes");
    const VF r0 = Block4(df, v[0], v[1], v[2], v[3]);
    const VF r1 = Block4(df, v[4], v[5], v[6], v[7]);
    const VF r2 = Block4(df, v[8], v[9], v[10], v[11]);
    const VF r3 = Block4(df, v[12], v[13], v[14], v[15]);
    const VF u = hn::Add(hn::ConcatLowerLower(df, r1, r0),
                         hn::ConcatUpperUpper(df, r1, r0));
    const VF w = hn::Add(hn::ConcatLowerLower(df, r3, r2),
                         hn::ConcatUpperUpper(df, r3, r2));
    return hn::OddEvenBlocks(hn::Add(w, hn::SwapAdjacentBlocks(w)),
                             hn::Add(u, hn::SwapAdjacentBlocks(u)));
  }
#endif
}

// perm of ReduceN: lane L sums v[pair[L]] (exact: sums of kN copies of a
// small integer).
HWY_INLINE void NarrowLanes(int32_t (&pair)[kN]) {
  const DF df;
  VF v[kN];
  for (size_t i = 0; i < kN; ++i)
    v[i] = hn::Set(df, (float)i);
  alignas(64) float r[kN];
  hn::Store(ReduceN(v), df, r);
  for (size_t l = 0; l < kN; ++l)
    pair[l] = (int32_t)(r[l] / (float)kN);
}

// Accumulates chunk c of key kk of a tile of KT keys (w: 2N bf16 as N u32
// pairs) into acc[qq * KT + kk]; qc = the QT queries' [QT][2][N] f32 for
// the chunk. NarrowChunk: the chunk of all KT keys.
template <int QT, int KT>
HWY_INLINE void NarrowKeyChunk(const float *qc, int kk, VU32 w,
                               VF (&acc)[kN]) {
  const DF df;
  const DU32 du;
  const VF ke = hn::BitCast(df, hn::ShiftLeft<16>(w));
  const VF ko = hn::BitCast(df, hn::And(w, hn::Set(du, 0xFFFF0000u)));
  for (int qq = 0; qq < QT; ++qq) {
    VF &a = acc[qq * KT + kk];
    a = hn::MulAdd(hn::Load(df, qc + (2 * qq) * kN), ke, a);
    a = hn::MulAdd(hn::Load(df, qc + (2 * qq + 1) * kN), ko, a);
  }
}
template <int QT, int KT>
HWY_INLINE void NarrowChunk(const float *qc, const VU32 (&w)[KT],
                            VF (&acc)[kN]) {
  for (int kk = 0; kk < KT; ++kk)
    NarrowKeyChunk<QT, KT>(qc, kk, w[kk], acc);
}

// bf16 keys: a tile's KT key rows are read in place as u32 pairs (NarrowChunk);
// lane l of acc[p] holds pair l of the chunk, and ReduceN sums them.
template <int QT> struct BF16Tile {
  static constexpr int KT = (int)kN / QT;
  using Key = uint16_t;
  static constexpr int64_t kQFloats = 2 * (int64_t)kN; // per query and chunk
  // Element of query row d for lane l of q vector (c, eo): the pair l.
  static int64_t QElement(int64_t c, int eo, int h, size_t l) {
    (void)h;
    return c * 2 * (int64_t)kN + 2 * (int64_t)l + eo;
  }
  static void Lanes(int32_t (&pair)[kN]) { NarrowLanes(pair); }
  static HWY_INLINE VF Dots(const float *qg, int64_t C, int64_t full,
                            int64_t D, const Key *const (&row)[KT]) {
    const DF df;
    const DU32 du;
    constexpr int64_t kChunk = 2 * (int64_t)kN; // key elements per chunk
    VF acc[kN];
    for (size_t p = 0; p < kN; ++p)
      acc[p] = hn::Zero(df);
    VU32 w[KT];
    for (int64_t c = 0; c < full; ++c) {
      for (int kk = 0; kk < KT; ++kk)
        w[kk] = hn::LoadU(du, reinterpret_cast<const uint32_t *>(row[kk] + c * kChunk));
      NarrowChunk<QT, KT>(qg + c * QT * kQFloats, w, acc);
    }
    if (full < C) { // D % 2N != 0: copy the last chunk, zero-padded
      alignas(64) uint16_t tail[kChunk];
      const int64_t d0 = full * kChunk;
      for (int kk = 0; kk < KT; ++kk) {
        for (int64_t d = 0; d < kChunk; ++d)
          tail[d] = d0 + d < D ? row[kk][d0 + d] : (uint16_t)0;
        w[kk] = hn::Load(du, reinterpret_cast<const uint32_t *>(tail));
      }
      NarrowChunk<QT, KT>(qg + full * QT * kQFloats, w, acc);
    }
    return ReduceN(acc);
  }
};

#if HWY_TARGET != HWY_SCALAR
// e4m3 keys with 8 f32 lanes (AVX2): a chunk (16 bytes) of two keys of the
// tile is loaded as one vector, key 2kp in the low 128-bit block and key
// 2kp + 1 in the high one, and converted in registers (E4M3BlocksToBF16):
// w[kp][0] (h = 0) holds pairs 0..3 of the chunk of each key (one key per
// block), w[kp][1] (h = 1) pairs 4..7. Each (query, key) dot still
// accumulates pair l of every chunk in one lane, in chunk order, even then
// odd element: acc[4 * h + KP * qq + kp] holds the pairs 0..3 (h = 0) or
// 4..7 (h = 1), and the two Block4 trees plus one add are ReduceN's tree for
// each dot ((p0 + p2) + (p1 + p3)) + ((p4 + p6) + (p5 + p7)), so the dots
// are bit-identical to those of the same keys read as bf16. q is packed
// with its pairs 0..3 (h = 0) or 4..7 (h = 1) in both blocks. Covered by
// the twin, NaN-byte and every-byte (with DAZ/FTZ) tests of
// test_kernel_cpu.cpp, which run this path for H = 1..16.

template <int QT> struct E4M3Tile {
  static constexpr int KT = (int)kN / QT;
  static constexpr int KP = KT / 2; // key pairs per tile
  static_assert(kN == 8 && KT % 2 == 0, "E4M3Tile: 8 lanes, key pairs");
  using Key = uint8_t;
  static constexpr int64_t kQFloats = 4 * (int64_t)kN; // [h][eo][kN]
  static int64_t QElement(int64_t c, int eo, int h, size_t l) {
    return c * 2 * (int64_t)kN + 2 * (4 * (int64_t)h + (int64_t)(l % 4)) + eo;
  }
  // Lane l of Dots: acc a = l % 4 (query a / KP, key pair a % KP), block
  // l / 4 (the pair's first or second key).
  static void Lanes(int32_t (&pair)[kN]) {
    for (size_t l = 0; l < kN; ++l) {
      const int a = (int)(l % 4);
      pair[l] = (a / KP) * KT + 2 * (a % KP) + (int)(l / 4);
    }
  }
  // The bf16 pairs of chunk c of the tile's key pairs; the last chunk
  // zero-padded when D % 16 != 0 (e4m3 0x00 is +0, as the bf16 tail's 0).
  static HWY_INLINE void Convert(const Key *const (&row)[KT], int64_t c,
                                 int64_t full, int64_t D, VU32 (&w)[KP][2]) {
    const hn::Repartition<uint8_t, DF> d8;
    const hn::Half<decltype(d8)> d8h;
    constexpr int64_t kChunk = 2 * (int64_t)kN; // bytes per chunk
    alignas(16) uint8_t tail[KT][kChunk];
    const Key *r[KT];
    int64_t off = c * kChunk;
    for (int kk = 0; kk < KT; ++kk)
      r[kk] = row[kk];
    if (HWY_UNLIKELY(c >= full)) {
      for (int kk = 0; kk < KT; ++kk) {
        std::memset(tail[kk], 0, sizeof tail[kk]);
        std::memcpy(tail[kk], row[kk] + off, (size_t)(D - off));
        r[kk] = tail[kk];
      }
      off = 0;
    }
    for (int kp = 0; kp < KP; ++kp)
      E4M3BlocksToBF16(hn::Combine(d8, hn::LoadU(d8h, r[2 * kp + 1] + off),
                                   hn::LoadU(d8h, r[2 * kp] + off)),
                       w[kp][0], w[kp][1]);
  }
  static HWY_INLINE void Fma(const float *qc, const VU32 (&w)[KP][2],
                             VF (&acc)[kN]) {
    const DF df;
    const DU32 du;
    const auto hi = hn::Set(du, 0xFFFF0000u);
    for (int kp = 0; kp < KP; ++kp)
      for (int h = 0; h < 2; ++h) {
        const VF ke = hn::BitCast(df, hn::ShiftLeft<16>(w[kp][h]));
        const VF ko = hn::BitCast(df, hn::And(w[kp][h], hi));
        for (int qq = 0; qq < QT; ++qq) {
          VF &a = acc[4 * h + KP * qq + kp];
          const float *q = qc + (qq * 2 + h) * 2 * (int64_t)kN;
          a = hn::MulAdd(hn::Load(df, q), ke, a);
          a = hn::MulAdd(hn::Load(df, q + kN), ko, a);
        }
      }
  }
  static HWY_INLINE VF Dots(const float *qg, int64_t C, int64_t full,
                            int64_t D, const Key *const (&row)[KT]) {
    const DF df;
    VF acc[kN];
    for (size_t p = 0; p < kN; ++p)
      acc[p] = hn::Zero(df);
    // Chunk c + 1 is converted before chunk c's multiply-adds: the
    // conversion's latency from the key load is long.
    VU32 w[KP][2];
    Convert(row, 0, full, D, w);
    for (int64_t c = 0; c < C; ++c) {
      VU32 wn[KP][2] = {};
      if (c + 1 < C)
        Convert(row, c + 1, full, D, wn);
      Fma(qg + c * QT * kQFloats, w, acc);
      for (int kp = 0; kp < KP; ++kp) {
        w[kp][0] = wn[kp][0];
        w[kp][1] = wn[kp][1];
      }
    }
    return hn::Add(Block4(df, acc[0], acc[1], acc[2], acc[3]),
                   Block4(df, acc[4], acc[5], acc[6], acc[7]));
  }
};
#endif

// e4m3 keys on the other targets (16 f32 lanes on AVX-512, 4 on SSE4 /
// EMU128, 1 on SCALAR): 4N bytes of one key row, two chunks, are loaded as
// one vector and converted in registers (E4M3ToBF16); its `first` and
// `second` are exactly the u32 pairs BF16Tile loads for chunks c and c + 1
// of the same key stored as bf16, so the q packing, the multiply-adds of
// each accumulator (chunk order, even then odd element), ReduceN and the
// lanes are BF16Tile's, and the dots bit-identical. A last chunk without a
// partner (D % 4N != 0) goes through E4M3ToBF16Tail, zero-padded as
// BF16Tile's tail. Covered by the tests named above on the AVX-512 and
// EMU128 targets (test_kernel_cpu.cpp's paths; SSE4 and SCALAR compile the
// same code, untested).
template <int QT> struct E4M3RowTile {
  static constexpr int KT = (int)kN / QT;
  using Key = uint8_t;
  static constexpr int64_t kQFloats = BF16Tile<QT>::kQFloats;
  static int64_t QElement(int64_t c, int eo, int h, size_t l) {
    return BF16Tile<QT>::QElement(c, eo, h, l);
  }
  static void Lanes(int32_t (&pair)[kN]) { NarrowLanes(pair); }
  static HWY_INLINE VF Dots(const float *qg, int64_t C, int64_t full,
                            int64_t D, const Key *const (&row)[KT]) {
    const DF df;
    constexpr int64_t kChunk = 2 * (int64_t)kN; // key bytes per chunk
    constexpr int64_t kQChunk = QT * kQFloats;  // q floats per chunk
    VF acc[kN];
    for (size_t p = 0; p < kN; ++p)
      acc[p] = hn::Zero(df);
    int64_t c = 0;
    for (; c + 2 <= full; c += 2)
      for (int kk = 0; kk < KT; ++kk) {
        VU32 w0, w1;
        E4M3ToBF16(row[kk] + c * kChunk, w0, w1);
        NarrowKeyChunk<QT, KT>(qg + c * kQChunk, kk, w0, acc);
        NarrowKeyChunk<QT, KT>(qg + (c + 1) * kQChunk, kk, w1, acc);
      }
    if (c < C) { // one full chunk, or the zero-padded tail (c == full)
      const int64_t left = D - c * kChunk;
      for (int kk = 0; kk < KT; ++kk) {
        VU32 w0, w1;
        E4M3ToBF16Tail(row[kk] + c * kChunk, left < kChunk ? left : kChunk, w0, w1);
        NarrowKeyChunk<QT, KT>(qg + c * kQChunk, kk, w0, acc);
      }
      if (c + 1 < C) { // a full chunk and then the tail
        const int64_t tail = D - (c + 1) * kChunk;
        for (int kk = 0; kk < KT; ++kk) {
          VU32 w0, w1;
          E4M3ToBF16Tail(row[kk] + (c + 1) * kChunk, tail, w0, w1);
          NarrowKeyChunk<QT, KT>(qg + (c + 1) * kQChunk, kk, w0, acc);
        }
      }
    }
    return ReduceN(acc);
  }
};

// The e4m3 tile of this target (naming E4M3Tile here does not instantiate it).
#if HWY_TARGET != HWY_SCALAR
template <int QT>
using E4M3KeysTile = std::conditional_t<kN == 8, E4M3Tile<QT>, E4M3RowTile<QT>>;
#else
template <int QT> using E4M3KeysTile = E4M3RowTile<QT>;
#endif

// One query group (QT queries) against the keys [0, nk) at keys (rows of D)
// read by Tile (BF16Tile or E4M3Tile). bm[qq] receives the max of query qq
// over those keys (-inf if no visible non-NaN key); lim[qq]: the keys query
// qq sees; pair: Tile::Lanes. pf / pf_lines / pf_step: the next block's
// lines to prefetch, pf_step per tile.
template <int QT, class Tile>
HWY_INLINE void NarrowKeys(const float *qg, int64_t C, int64_t full,
                           int64_t D, const typename Tile::Key *keys,
                           int64_t nk, const int32_t (&pair)[kN],
                           const int32_t *lim, float scale, const char *pf,
                           int64_t pf_lines, int64_t pf_step, float *bm) {
  constexpr int KT = Tile::KT;
  const DF df;
  const hn::RebindToSigned<DF> di;
  alignas(64) int32_t limv[kN], koff[kN];
  for (size_t l = 0; l < kN; ++l) {
    limv[l] = lim[pair[l] / KT];
    koff[l] = pair[l] % KT;
  }
  const auto vlim = hn::Load(di, limv);
  const auto vkoff = hn::Load(di, koff);
  const VF vscale = hn::Set(df, scale);
  VF best = hn::Set(df, -std::numeric_limits<float>::infinity());
  int64_t pf_done = 0;
  for (int64_t k0 = 0; k0 < nk; k0 += KT) {
    const typename Tile::Key *row[KT];
    for (int kk = 0; kk < KT; ++kk) // past nk: repeat the last key (masked)
      row[kk] = keys + (k0 + kk < nk ? k0 + kk : nk - 1) * D;
    const VF s = hn::Mul(Tile::Dots(qg, C, full, D, row), vscale);
    const auto vis = hn::RebindMask(
        df, hn::Lt(hn::Add(vkoff, hn::Set(di, (int32_t)k0)), vlim));
    // Gt is false for NaN: NaN scores are skipped.
    best = hn::IfThenElse(hn::And(vis, hn::Gt(s, best)), s, best);
    for (int64_t e = 0; e < pf_step && pf_done < pf_lines; ++e, ++pf_done)
      hwy::Prefetch(pf + pf_done * 64);
  }
  alignas(64) float b[kN];
  hn::Store(best, df, b);
  for (int qq = 0; qq < QT; ++qq)
    bm[qq] = -std::numeric_limits<float>::infinity();
  for (size_t l = 0; l < kN; ++l) {
    float &m = bm[pair[l] / KT];
    if (b[l] > m)
      m = b[l];
  }
}

// The narrow kernel for one task; Tile reads the keys of a block in place
// (BF16Tile: bf16 rows; E4M3KeysTile: e4m3 rows, converted in registers).
template <int QT, class Tile>
void NarrowTaskWith(const ScoreTask &t, void *scratch) {
  const int64_t D = t.D;
  const int64_t full = D / (2 * (int64_t)kN);
  const int64_t C = (D + 2 * (int64_t)kN - 1) / (2 * (int64_t)kN);
  const int64_t ngroups = (t.nq + QT - 1) / QT;
  // qp[g][c][qq][Tile::kQFloats], zero past D and past nq.
  float *qp = static_cast<float *>(scratch);
  const int64_t qfloats = Tile::kQFloats;
  for (int64_t g = 0; g < ngroups; ++g)
    for (int64_t c = 0; c < C; ++c)
      for (int qq = 0; qq < QT; ++qq)
        for (int64_t v = 0; v < qfloats / (int64_t)kN; ++v)
          for (size_t l = 0; l < kN; ++l) {
            const int64_t i = g * QT + qq;
            const int64_t d = Tile::QElement(c, (int)(v % 2), (int)(v / 2), l);
            float f = 0.0f;
            if (i < t.nq && d < D) {
              const uint32_t bits = (uint32_t)t.q[i * D + d] << 16;
              std::memcpy(&f, &bits, sizeof f);
            }
            qp[((g * C + c) * QT + qq) * qfloats + v * (int64_t)kN + l] = f;
          }
  int32_t pair[kN];
  Tile::Lanes(pair);
  const int64_t kmax = max_keys(t);
  auto block_keys = [&](int64_t j) {
    const int64_t left = kmax - j * t.bs;
    return left <= 0 ? 0 : (left < t.bs ? left : t.bs);
  };
  constexpr int64_t KT = Tile::KT; // keys per tile
  int32_t lim[kMaxTileQueries];
  float bm[kMaxTileQueries];
  for (int64_t j = t.j0; j < t.j1; ++j) {
    // Keys any query of the task sees in this block.
    int64_t nvis = 0;
    for (int64_t i = 0; i < ngroups * QT; ++i) {
      lim[i] = rel_limit(t, i, j);
      bm[i] = -std::numeric_limits<float>::infinity();
      nvis = lim[i] > nvis ? lim[i] : nvis;
    }
    const int64_t nkeys = block_keys(j);
    nvis = nvis < nkeys ? nvis : nkeys;
    const char *pf = nullptr;
    int64_t pf_lines = 0;
    if (j + 1 < t.j1 && block_keys(j + 1) > 0) {
      pf = reinterpret_cast<const char *>(page_bytes(t, j + 1));
      pf_lines = (block_keys(j + 1) * D * key_bytes(t) + 63) / 64;
    }
    // (no visible key: the block's page is not looked up)
    const typename Tile::Key *kp = nullptr;
    if (nvis > 0) {
      if constexpr (sizeof(typename Tile::Key) == 1)
        kp = page_keys_e4m3(t, j);
      else
        kp = page_keys(t, j);
    }
    for (int64_t g = 0; g < ngroups && nvis > 0; ++g) {
      int32_t lg[QT];
      int64_t nk = 0;
      for (int qq = 0; qq < QT; ++qq) { // in [0, nvis]
        const int64_t r = lim[g * QT + qq];
        lg[qq] = (int32_t)(r < 0 ? 0 : r > nvis ? nvis : r);
        nk = lg[qq] > nk ? lg[qq] : nk;
      }
      if (nk == 0)
        continue;
      // The first group's tiles prefetch the next block's lines.
      const int64_t tiles = (nk + KT - 1) / KT;
      const int64_t step = g == 0 ? (pf_lines + tiles - 1) / tiles : 0;
      NarrowKeys<QT, Tile>(qp + g * C * QT * qfloats, C, full, D, kp, nk, pair,
                           lg, t.scale, pf, pf_lines, step, bm + g * QT);
    }
    for (int64_t i = 0; i < t.nq; ++i)
      t.scores[i * t.ld + (j - t.jbase)] = bm[i];
  }
}

template <int QT>
void NarrowTask(const ScoreTask &t, void *scratch) {
  if (keys_e4m3(t))
    NarrowTaskWith<QT, E4M3KeysTile<QT>>(t, scratch);
  else
    NarrowTaskWith<QT, BF16Tile<QT>>(t, scratch);
}

void ScoreNarrowImpl(const ScoreTask &t, void *scratch) {
  // As many queries per tile as the task has (up to 4, and at most kN).
  if (kN >= 4 && t.nq >= 4)
    NarrowTask<(kN >= 4 ? 4 : 1)>(t, scratch);
  else if (kN >= 2 && t.nq >= 2)
    NarrowTask<(kN >= 2 ? 2 : 1)>(t, scratch);
  else
    NarrowTask<1>(t, scratch);
}

// The back end's entry for this target: the narrow kernel for sequences
// with fewer than kNarrowQueries queries, the wide one for the others.
void ScoreImpl(const ScoreTask &t, void *scratch) {
  if (t.narrow)
    ScoreNarrowImpl(t, scratch);
  else
    ScoreWideImpl(t, scratch);
}
} // namespace HWY_NAMESPACE
} // namespace msa_cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace msa_cpu {
namespace {

// Every compiled target's kernel (a lower HWY_* bit is a better target). Selecting from this table instead of through HWY_DYNAMIC_DISPATCH
// keeps Highway's process-wide chosen target untouched: a path is a pure
// function of the CPU and the request, whatever was selected before and
// whatever other threads do.
struct HwyTarget {
  int64_t bit;
  Kernel kernel;
  void (*e4m3_rows)(const uint8_t *, int64_t, int64_t, uint16_t *, int64_t);
};
#define MSA_HWY_TARGET(T)                                                      \
  {HWY_##T, {&N_##T::ScoreImpl, "highway:" #T}, &N_##T::E4M3RowsToBF16},
const HwyTarget kHwyTargets[] = {
#if HWY_ARCH_X86
// Targets of newer Highway releases (absent from Debian's 1.0.3).
#if defined(HWY_AVX3_SPR) && (HWY_TARGETS & HWY_AVX3_SPR)
    MSA_HWY_TARGET(AVX3_SPR)
#endif
#if defined(HWY_AVX3_ZEN4) && (HWY_TARGETS & HWY_AVX3_ZEN4)
    MSA_HWY_TARGET(AVX3_ZEN4)
#endif
#if HWY_TARGETS & HWY_AVX3_DL
    MSA_HWY_TARGET(AVX3_DL)
#endif
#if HWY_TARGETS & HWY_AVX3
    MSA_HWY_TARGET(AVX3)
#endif
#if HWY_TARGETS & HWY_AVX2
    MSA_HWY_TARGET(AVX2)
#endif
#if HWY_TARGETS & HWY_SSE4
    MSA_HWY_TARGET(SSE4)
#endif
#if HWY_TARGETS & HWY_SSSE3
    MSA_HWY_TARGET(SSSE3)
#endif
#if HWY_TARGETS & HWY_EMU128
    MSA_HWY_TARGET(EMU128)
#endif
#if HWY_TARGETS & HWY_SCALAR
    MSA_HWY_TARGET(SCALAR)
#endif
#else
    {HWY_STATIC_TARGET, {&HWY_STATIC_DISPATCH(ScoreImpl), "highway"},
     &HWY_STATIC_DISPATCH(E4M3RowsToBF16)},
#endif
};
#undef MSA_HWY_TARGET

// The best target this CPU supports that is no better than the best in
// `targets` (0 = any); nullptr when the CPU supports none of `targets`.
const HwyTarget *best_target(int64_t targets) {
  // Read once; nothing in this library changes Highway's supported set.
  static const int64_t supported = hwy::SupportedTargets();
  const int64_t avail = supported & HWY_TARGETS;
  if (targets != 0 && (avail & targets) == 0)
    return nullptr;
  const int64_t best_allowed = targets & (~targets + 1); // lowest bit
  const HwyTarget *best = nullptr;
  for (const HwyTarget &t : kHwyTargets)
    if ((avail & t.bit) && (targets == 0 || t.bit >= best_allowed) &&
        (!best || t.bit < best->bit))
      best = &t;
  return best;
}

} // namespace

bool hwy_kernel(int64_t targets, Kernel *k) {
  const HwyTarget *best = best_target(targets);
  if (best)
    *k = best->kernel;
  return best != nullptr;
}

void e4m3_rows_to_bf16_highway(const uint8_t *src, int64_t nrows, int64_t D,
                               uint16_t *dst, int64_t ld) {
  // Every target converts exactly alike; the best one is the fastest.
  static const HwyTarget *const best = best_target(0);
  best->e4m3_rows(src, nrows, D, dst, ld);
}

void e4m3_rows_to_bf16(const uint8_t *src, int64_t nrows, int64_t D,
                       uint16_t *dst, int64_t ld) {
  static const bool vbmi = e4m3_vbmi_supported();
  if (vbmi)
    e4m3_rows_to_bf16_vbmi(src, nrows, D, dst, ld);
  else
    e4m3_rows_to_bf16_highway(src, nrows, D, dst, ld);
}

int64_t hwy_target_mask(int which) {
  switch (which) {
  case 0: return HWY_AVX2;
  case 1: return HWY_AVX3;
  default: return HWY_EMU128 | HWY_SCALAR;
  }
}

} // namespace msa_cpu
#endif // HWY_ONCE
