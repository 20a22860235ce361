// msa_cpu_e4m3_vbmi.cpp - e4m3 rows to bf16 with AVX512-VBMI byte lookups:
// e4m3_rows_to_bf16 (msa_cpu_internal.h) on CPUs that have VBMI (Ice Lake
// and later Intel, AMD Zen 4 and later; not Cooper Lake), the Highway
// converter elsewhere.
//
// A bf16's two bytes are each a function of the e4m3 byte's 7-bit magnitude
// (plus the sign in the high byte), so one two-register byte lookup
// (vpermi2b, 128 entries) gives each: per 64 keys elements, an AND, two
// lookups, one ternary-logic OR of the sign and two lookups that interleave
// the low and high bytes into words, against the Highway converter's nibble
// lookups with a special-case fix (about 17 instructions). The tables come
// from the reference's decode (every e4m3 value is a bf16 value, no
// rounding); the NaN magnitude maps to 0x7FF0, the Highway converter's NaN,
// so both converters give the same bits for every byte (the unit test
// compares them, and both against the reference, on all 256 bytes).
#include "msa_cpu_internal.h"
#include "msa/msa_reference.h"

#include <immintrin.h>

#include <cstring>

#define MSA_VBMI_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

namespace msa_cpu {
namespace {

struct VbmiTables {
  alignas(64) uint8_t lo[128];  // [magnitude]: the bf16's low byte
  alignas(64) uint8_t hi[128];  // [magnitude]: its high byte, sign clear
  alignas(64) uint8_t zip[2][64]; // interleave: word i = (hi[i] << 8) | lo[i]
  VbmiTables() {
    for (int m = 0; m < 128; ++m) {
      const uint16_t b =
          m == 0x7F ? (uint16_t)0x7FF0 : msa_float_to_bf16(msa_e4m3_to_float((uint8_t)m));
      lo[m] = (uint8_t)(b & 0xFF);
      hi[m] = (uint8_t)(b >> 8);
    }
    // byte 2w of half h is lo[32 h + w] (first operand), byte 2w + 1 is
    // hi[32 h + w] (second operand: index bit 6)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 32; ++w) {
        zip[h][2 * w] = (uint8_t)(32 * h + w);
        zip[h][2 * w + 1] = (uint8_t)(64 + 32 * h + w);
      }
  }
};

const VbmiTables &tables() {
  static const VbmiTables t;
  return t;
}

struct VbmiRegs {
  __m512i lo0, lo1, hi0, hi1, zip0, zip1, mag, sign;
};

// 64 e4m3 bytes -> 64 bf16 (out0: elements 0..31, out1: 32..63).
MSA_VBMI_TARGET inline void convert64(const VbmiRegs &r, __m512i x, __m512i &out0,
                                      __m512i &out1) {
  const __m512i m = _mm512_and_si512(x, r.mag);
  const __m512i lo = _mm512_permutex2var_epi8(r.lo0, m, r.lo1);
  // hi | (x & 0x80): ternary logic A | (B & C)
  const __m512i hi =
      _mm512_ternarylogic_epi32(_mm512_permutex2var_epi8(r.hi0, m, r.hi1), x, r.sign, 0xF8);
  out0 = _mm512_permutex2var_epi8(lo, r.zip0, hi);
  out1 = _mm512_permutex2var_epi8(lo, r.zip1, hi);
}

} // namespace

bool e4m3_vbmi_supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi");
}

MSA_VBMI_TARGET void e4m3_rows_to_bf16_vbmi(const uint8_t *src, int64_t nrows, int64_t D,
                                            uint16_t *dst, int64_t ld) {
  const VbmiTables &t = tables();
  VbmiRegs r;
  r.lo0 = _mm512_load_si512(t.lo);
  r.lo1 = _mm512_load_si512(t.lo + 64);
  r.hi0 = _mm512_load_si512(t.hi);
  r.hi1 = _mm512_load_si512(t.hi + 64);
  r.zip0 = _mm512_load_si512(t.zip[0]);
  r.zip1 = _mm512_load_si512(t.zip[1]);
  r.mag = _mm512_set1_epi8(0x7F);
  r.sign = _mm512_set1_epi8((char)0x80);
  for (int64_t row = 0; row < nrows; ++row) {
    const uint8_t *s = src + row * D;
    uint16_t *d = dst + row * ld;
    int64_t i = 0;
    for (; i + 64 <= D; i += 64) {
      __m512i a, b;
      convert64(r, _mm512_loadu_si512(s + i), a, b);
      _mm512_storeu_si512(d + i, a);
      _mm512_storeu_si512(d + i + 32, b);
    }
    if (i < D) { // the row's last D % 64 bytes: masked, nothing past them read or written
      const int64_t n = D - i;
      __m512i a, b;
      convert64(r, _mm512_maskz_loadu_epi8((__mmask64)((1ull << n) - 1), s + i), a, b);
      const __mmask32 m0 = n >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << n) - 1);
      const __mmask32 m1 = n > 32 ? (__mmask32)((1u << (n - 32)) - 1) : (__mmask32)0;
      _mm512_mask_storeu_epi16(d + i, m0, a);
      _mm512_mask_storeu_epi16(d + i + 32, m1, b);
    }
    if (ld > D)
      std::memset(d + D, 0, (size_t)(ld - D) * sizeof(uint16_t));
  }
}

} // namespace msa_cpu
