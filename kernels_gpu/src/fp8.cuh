// fp8.cuh - f8E4M3FN index-K bytes -> the bf16 operands of the tensor-core
// kernels, in registers, exactly (docs/CONTRACT.md "Operands": every e4m3
// value is a bf16 value, so a key stored as e4m3 gives the same bf16
// fragments, products and scores as the same key stored as bf16).
//
// Four bytes b0..b3 of one 32-bit word become two bf16x2 words
// (b0, b1) and (b2, b3), low half first, as a bf16 load of the same four
// keys elements would give. The bits: a byte s.eeee.mmm is placed as the
// bf16 pattern s.0000eeee.mmm0000, which is the key times 2^-120 (e4m3
// subnormals land on bf16 subnormals, exactly), and one bf16x2 multiply by
// 2^120 (exact: the product is a normal bf16 or zero, the sign rides along,
// -0 stays -0, and the bf16 arithmetic of sm_80+ keeps subnormal inputs)
// gives the key. A prmt, a shift, an and and one bf16x2 multiply per two
// elements, no table, no branch.
//
// The NaN bytes (s.1111.111) come out finite (+-480, which no e4m3 value
// is): e4m3_to_bf16x4 fixes them (4 more instructions per word);
// e4m3_to_bf16x4_finite leaves them, for callers that skip a key with a NaN
// byte as a whole (a NaN element makes the dot NaN whatever q is, and NaN
// dots are skipped), tested with e4m3_nan_bytes.
#ifndef MSA_CUDA_FP8_CUH
#define MSA_CUDA_FP8_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cstdint>

namespace msa_cuda {

// prmt with sign replication: a selector nibble 8 + i gives 0xFF or 0x00,
// the sign of byte i.
__device__ __forceinline__ uint32_t prmt(uint32_t a, uint32_t sel) {
  uint32_t r;
  asm("prmt.b32 %0, %1, 0, %2;" : "=r"(r) : "r"(a), "r"(sel));
  return r;
}

// One bf16x2 word from a word whose halves hold b | sign(b) * 0xFF00: the
// shift puts u = b & 0x7F at bits 4..10 and a copy of the sign at bit 15 of
// each half, the mask keeps exactly those (s.0000eeee.mmm0000), the
// multiply scales by 2^120 (the sign goes through it; -0 stays -0; .rn:
// never contracted).
__device__ __forceinline__ uint32_t e4m3_pair_finite(uint32_t halves) {
  const uint32_t bits = (halves << 4) & 0x87F087F0u;
  const uint32_t k2p120 = 0x7B807B80u;  // 2^120, twice
  const __nv_bfloat162 m =
      __hmul2_rn(*reinterpret_cast<const __nv_bfloat162 *>(&bits),
                 *reinterpret_cast<const __nv_bfloat162 *>(&k2p120));
  return *reinterpret_cast<const uint32_t *>(&m);
}

// bytes with s.1111.111 -> 0x80 in that byte, else 0.
__device__ __forceinline__ uint32_t e4m3_nan_bytes(uint32_t w) {
  return ((w & 0x7F7F7F7Fu) + 0x01010101u) & 0x80808080u;
}

struct Bf16x4 {
  uint32_t lo, hi;  // (b0, b1), (b2, b3)
};

__device__ __forceinline__ Bf16x4 e4m3_to_bf16x4_finite(uint32_t w) {
  return {e4m3_pair_finite(prmt(w, 0x9180u)), e4m3_pair_finite(prmt(w, 0xB3A2u))};
}

// Exact, NaN bytes included (they become the bf16 NaN 0x7FF0 / 0xFFF0).
__device__ __forceinline__ Bf16x4 e4m3_to_bf16x4(uint32_t w) {
  Bf16x4 r = e4m3_to_bf16x4_finite(w);
  const uint32_t nan = e4m3_nan_bytes(w);
  if (nan) {  // rare: spread each NaN flag over its half
    r.lo |= prmt(nan, 0x9988u) & 0x7FC07FC0u;
    r.hi |= prmt(nan, 0xBBAAu) & 0x7FC07FC0u;
  }
  return r;
}

// Eight bytes (a uint2) -> the uint4 of eight bf16 that a 16-byte load of
// the same elements stored as bf16 would give.
__device__ __forceinline__ uint4 e4m3x8_to_bf16x8_finite(uint2 v) {
  const Bf16x4 a = e4m3_to_bf16x4_finite(v.x), b = e4m3_to_bf16x4_finite(v.y);
  return make_uint4(a.lo, a.hi, b.lo, b.hi);
}
__device__ __forceinline__ uint4 e4m3x8_to_bf16x8(uint2 v) {
  const Bf16x4 a = e4m3_to_bf16x4(v.x), b = e4m3_to_bf16x4(v.y);
  return make_uint4(a.lo, a.hi, b.lo, b.hi);
}

// Sixteen bytes -> the two uint4 of bf16 (elements 0-7, 8-15) that two
// 16-byte loads of the same elements stored as bf16 would give; the NaN
// check is one test for the sixteen bytes (the fix is rare).
__device__ __forceinline__ void e4m3x16_to_bf16x16(uint4 v, uint4 &lo, uint4 &hi) {
  const Bf16x4 a = e4m3_to_bf16x4_finite(v.x), b = e4m3_to_bf16x4_finite(v.y);
  const Bf16x4 c = e4m3_to_bf16x4_finite(v.z), d = e4m3_to_bf16x4_finite(v.w);
  lo = make_uint4(a.lo, a.hi, b.lo, b.hi);
  hi = make_uint4(c.lo, c.hi, d.lo, d.hi);
  const uint32_t m = 0x7F7F7F7Fu, one = 0x01010101u;
  if ((((v.x & m) + one) | ((v.y & m) + one) | ((v.z & m) + one) | ((v.w & m) + one)) &
      0x80808080u) {
    lo = e4m3x8_to_bf16x8(make_uint2(v.x, v.y));
    hi = e4m3x8_to_bf16x8(make_uint2(v.z, v.w));
  }
}

// One element, for scalar code (the generic kernel): the bf16 of the low
// half as f32, NaN for the NaN bytes (a select, no branch).
__device__ __forceinline__ float e4m3_to_float(uint8_t b) {
  const uint32_t bf = e4m3_pair_finite(prmt(b, 0x9180u)) << 16;
  return (b & 0x7Fu) == 0x7Fu ? __uint_as_float(0x7FC00000u) : __uint_as_float(bf);
}

// ---------------------------------------------------------------------------
// e4m3 keys on f16 MMAs (the decode kernel). Every e4m3 value is a normal
// f16, and sm_89+ converts two bytes to two f16 in one instruction (exact;
// the NaN bytes give f16 NaN), a quarter of the bf16 conversion's
// instructions. The query stays bf16 in the contract, so a query column
// takes the f16 MMA only where it is exact there: scaled by 2^s so that its
// largest element lies in [2^14, 2^15), every nonzero element still a
// normal f16. The scores then are 2^s times those of the bf16 MMA on the
// same values, bit for bit (products exact, no subnormal or overflowing
// term on either side, so the accumulation sees the same exponents up to
// s; an H200 matched 134M dots, probes/f16_mma_probe.cu), and one multiply
// by scale * 2^-s gives the bf16 path's scale * dot exactly.
// ---------------------------------------------------------------------------

// Bytes b0, b1 (the low half of `w`) -> (f16(b0), f16(b1)).
__device__ __forceinline__ uint32_t e4m3x2_to_f16x2(uint32_t w) {
  uint32_t r;
  asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(r) : "h"((uint16_t)w));
  return r;
}
// Eight bytes -> eight f16, in the element order of e4m3x8_to_bf16x8.
__device__ __forceinline__ uint4 e4m3x8_to_f16x8(uint2 v) {
  return make_uint4(e4m3x2_to_f16x2(v.x), e4m3x2_to_f16x2(v.x >> 16), e4m3x2_to_f16x2(v.y),
                    e4m3x2_to_f16x2(v.y >> 16));
}

// The MMA operand of eight key bytes: f16 (F16) or bf16 with the NaN bytes
// left finite (the caller finds them on the raw bytes).
template <bool F16>
__device__ __forceinline__ uint4 e4m3x8_to_mma(uint2 v) {
  if constexpr (F16) return e4m3x8_to_f16x8(v);
  else return e4m3x8_to_bf16x8_finite(v);
}

// The exponents of a query column's bf16 elements (nonzero ones), and
// whether one is not finite or subnormal (no f16 scaling then).
struct Bf16ExpRange {
  int emax = -1000, emin = 1000;  // biased exponents; -1000 / 1000: no nonzero element yet
  bool odd = false;
  __device__ __forceinline__ void add(uint32_t w) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const uint32_t u = (w >> (16 * h)) & 0x7FFFu, e = u >> 7;
      if (u == 0) continue;
      odd |= e == 0 || e == 0xFF;
      emax = max(emax, (int)e);
      emin = min(emin, (int)e);
    }
  }
  __device__ __forceinline__ void merge_lanes(int mask_xor) {
    emax = max(emax, __shfl_xor_sync(0xffffffffu, emax, mask_xor));
    emin = min(emin, __shfl_xor_sync(0xffffffffu, emin, mask_xor));
    odd = __shfl_xor_sync(0xffffffffu, (int)odd, mask_xor) != 0;
  }
  // The column's shift s (elements times 2^s) when the f16 MMA is exact for
  // it, else false. Bounds: largest element below 2^101 (no bf16-path dot
  // overflows: 128 * 448 * 2^101 < 2^127), smallest nonzero at least 2^-80
  // (no subnormal dot or term), at most 28 binades between them (the
  // smallest stays a normal f16 after the shift).
  __device__ __forceinline__ bool f16_shift(int *s) const {
    if (odd) return false;
    if (emax < 0) {  // no nonzero element
      *s = 0;
      return true;
    }
    const int hi = emax - 127, lo = emin - 127;
    if (hi > 100 || lo < -80 || hi - lo > 28) return false;
    *s = 14 - hi;
    return true;
  }
};

// A bf16x2 word of a query column times 2^s (|s| <= 126) as f16x2: exact
// when f16_shift allowed s.
__device__ __forceinline__ uint32_t bf16x2_to_f16x2_shifted(uint32_t w, int s) {
  const float m = __uint_as_float((uint32_t)(127 + s) << 23);
  const float lo = __uint_as_float(w << 16) * m, hi = __uint_as_float(w & 0xFFFF0000u) * m;
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t *>(&h);
}

// ---------------------------------------------------------------------------
// e4m3 key tiles in shared memory (the prefill kernels). A raw tile is 128
// key rows of D bytes in the layout of a TMA copy with the swizzle of its
// row width (D = 128: 128-byte swizzle, 16-byte chunk c of row n at
// n * 128 + ((c ^ (n & 7)) << 4); D = 64: 64-byte swizzle, chunk c at
// n * 64 + ((c ^ ((n >> 1) & 3)) << 4)); the stage base is 1024-aligned.
// Conversion walks the tile's 16-byte chunks (E4m3Walk) so that the 8 lanes
// of each shared-memory phase hold one chunk column of 8 consecutive rows:
// the raw loads and both bf16 stores (chunks 2c, 2c + 1 of a layout whose
// chunk index is XORed with n & 7, as the wgmma and mma.sync tiles are) then
// touch 8 different 16-byte bank groups, with no select and no conflict.
// ---------------------------------------------------------------------------
template <int D>
__device__ __forceinline__ uint32_t e4m3_raw_off(int n, int c) {
  static_assert(D == 64 || D == 128, "raw e4m3 tiles have rows of 64 or 128 bytes");
  return D == 128 ? (uint32_t)(n * 128 + ((c ^ (n & 7)) << 4))
                  : (uint32_t)(n * 64 + ((c ^ ((n >> 1) & 3)) << 4));
}
// Thread t of kThreads walks chunk column c of rows n0 + k * kRowStep
// (k < kSteps); 8 consecutive threads hold 8 consecutive rows of one column.
// kRowStep is a multiple of 8, so the XOR terms of a thread's chunks are
// the same and every offset is the first one plus a constant.
template <int D, int kThreads>
struct E4m3Walk {
  static constexpr int kCols = D / 16;               // 16-byte chunks per key row
  static constexpr int kRowStep = kThreads / kCols;
  static constexpr int kSteps = 128 / kRowStep;
  static_assert(kRowStep % 8 == 0 && 128 % kRowStep == 0, "whole 8-row groups");
  int n0, c;
  __device__ __forceinline__ explicit E4m3Walk(int t)
      : n0((t & 7) | ((t / (8 * kCols)) << 3)), c((t >> 3) % kCols) {}
  __device__ __forceinline__ int row(int k) const { return n0 + k * kRowStep; }
};

// This thread's chunks of the raw tile at `raw` -> bf16 chunks 2c and 2c + 1
// of the same rows of the bf16 tile at `dst`, chunk (n, cc) at
// dst + off(n, cc) (an XOR-swizzled layout: off(n + 8 m, cc) = off(n, cc)
// + off(8 m, 0)). The raw loads run two chunks ahead of the conversion:
// the loads and stores are volatile asm (kept in program order), so a load
// written after the previous chunk's stores would wait its full latency
// before every chunk (the e4m3 TMA prefill's producer stalled there).
template <int D, int kThreads, class Off>
__device__ __forceinline__ void e4m3_tile_to_bf16(const E4m3Walk<D, kThreads> &w, uint32_t raw,
                                                  uint32_t dst, Off off) {
  using W = E4m3Walk<D, kThreads>;
  constexpr int kAhead = W::kSteps < 2 ? W::kSteps : 2;
  const uint32_t src = raw + e4m3_raw_off<D>(w.n0, w.c);
  const uint32_t lo = dst + off(w.n0, 2 * w.c), hi = dst + off(w.n0, 2 * w.c + 1);
  auto load = [&](int k) {
    uint4 v;
    asm volatile("ld.shared.v4.u32 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "r"(src + (uint32_t)(k * W::kRowStep * D))
                 : "memory");
    return v;
  };
  uint4 ring[kAhead];
#pragma unroll
  for (int k = 0; k < kAhead; ++k) ring[k] = load(k);
#pragma unroll
  for (int k = 0; k < W::kSteps; ++k) {
    const uint4 v = ring[k % kAhead];
    if (k + kAhead < W::kSteps) ring[k % kAhead] = load(k + kAhead);
    uint4 a, b;
    e4m3x16_to_bf16x16(v, a, b);
    const uint32_t step = off(k * W::kRowStep, 0);
    asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};\n" ::"r"(lo + step), "r"(a.x),
                 "r"(a.y), "r"(a.z), "r"(a.w)
                 : "memory");
    asm volatile("st.shared.v4.u32 [%0], {%1, %2, %3, %4};\n" ::"r"(hi + step), "r"(b.x),
                 "r"(b.y), "r"(b.z), "r"(b.w)
                 : "memory");
  }
}

} // namespace msa_cuda

#endif
