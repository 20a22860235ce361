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
// 2^120 (exact: the product is a normal bf16, and the bf16 arithmetic of
// sm_80+ keeps subnormal inputs) gives the key. 3 integer instructions and
// one bf16x2 multiply per two elements, no table, no branch.
//
// The NaN bytes (s.1111.111) come out finite (+-480, which no e4m3 value
// is): e4m3_to_bf16x4 fixes them (4 more instructions per word);
// e4m3_to_bf16x4_finite leaves them, for callers that skip a key with a NaN
// byte as a whole (a NaN element makes the dot NaN whatever q is, and NaN
// dots are skipped), tested with e4m3_nan_bytes.
#ifndef MSA_CUDA_FP8_CUH
#define MSA_CUDA_FP8_CUH

#include <cuda_bf16.h>
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
// multiply scales by 2^120 (the sign goes through it; -0 stays -0).
__device__ __forceinline__ uint32_t e4m3_pair_finite(uint32_t halves) {
  const uint32_t bits = (halves << 4) & 0x87F087F0u;
  const uint32_t k2p120 = 0x7B807B80u;  // 2^120, twice
  const __nv_bfloat162 m =
      __hmul2(*reinterpret_cast<const __nv_bfloat162 *>(&bits),
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

// One element, for scalar code (the generic kernel).
__device__ __forceinline__ float e4m3_to_float(uint8_t b) {
  const Bf16x4 r = e4m3_to_bf16x4(b);
  return __uint_as_float(r.lo << 16);
}

} // namespace msa_cuda

#endif
