// test_fp8_convert.cu - the e4m3 -> bf16 register conversion of the CUDA
// kernels (src/fp8.cuh), exhaustively: every byte in every position of a
// word, against the scalar reference's decode of the format
// (msa_e4m3_to_float, then the exact bf16 pattern). Exits 77 without a GPU.
#include "fp8.cuh"
#include "msa/msa_reference.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace {

// out[8 * w + i]: bf16 patterns of word w's 4 bytes from the exact and the
// finite conversions (i = 0..3, 4..7); nan[w]: e4m3_nan_bytes; f[4 * w + i]:
// e4m3_to_float of byte i.
__global__ void convert_words(const uint32_t *words, int n, uint16_t *out, uint32_t *nan,
                              float *f, uint4 *x8) {
  const int w = blockIdx.x * blockDim.x + threadIdx.x;
  if (w >= n) return;
  const msa_cuda::Bf16x4 e = msa_cuda::e4m3_to_bf16x4(words[w]);
  const msa_cuda::Bf16x4 g = msa_cuda::e4m3_to_bf16x4_finite(words[w]);
  const uint32_t v[4] = {e.lo, e.hi, g.lo, g.hi};
  for (int i = 0; i < 4; ++i) {
    out[8 * w + 2 * i] = (uint16_t)(v[i] & 0xFFFFu);
    out[8 * w + 2 * i + 1] = (uint16_t)(v[i] >> 16);
  }
  nan[w] = msa_cuda::e4m3_nan_bytes(words[w]);
  for (int i = 0; i < 4; ++i) f[4 * w + i] = msa_cuda::e4m3_to_float((uint8_t)(words[w] >> (8 * i)));
  // two consecutive words as one uint2 -> eight bf16 in order
  x8[w] = msa_cuda::e4m3x8_to_bf16x8(make_uint2(words[w], words[(w + 1) % n]));
}

int failures = 0;
void check(bool ok, const char *what, unsigned byte, unsigned pos, unsigned got, unsigned want) {
  if (ok) return;
  if (++failures <= 20)
    std::printf("FAIL %s: byte 0x%02X at position %u: got 0x%04X, want 0x%04X\n", what, byte,
                pos, got, want);
}

}  // namespace

int main() {
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
  // Each byte value in each of the 4 positions, the other bytes varying.
  const int n = 256 * 4;
  uint32_t words[n];
  for (int b = 0; b < 256; ++b)
    for (int pos = 0; pos < 4; ++pos) {
      uint32_t w = 0;
      for (int i = 0; i < 4; ++i) w |= (uint32_t)((b * 37 + i * 101 + pos * 13) & 0xFF) << (8 * i);
      w = (w & ~(0xFFu << (8 * pos))) | ((uint32_t)b << (8 * pos));
      words[4 * b + pos] = w;
    }
  uint32_t *dw, *dnan;
  uint16_t *dout;
  float *df;
  uint4 *dx8;
  cudaMalloc(&dw, sizeof words);
  cudaMalloc(&dout, 8 * n * sizeof(uint16_t));
  cudaMalloc(&dnan, n * sizeof(uint32_t));
  cudaMalloc(&df, 4 * n * sizeof(float));
  cudaMalloc(&dx8, n * sizeof(uint4));
  cudaMemcpy(dw, words, sizeof words, cudaMemcpyHostToDevice);
  convert_words<<<(n + 127) / 128, 128>>>(dw, n, dout, dnan, df, dx8);
  static uint16_t out[8 * n];
  static uint32_t nan[n];
  static float f[4 * n];
  static uint4 x8[n];
  cudaError_t e = cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost);
  if (e == cudaSuccess) e = cudaMemcpy(nan, dnan, sizeof nan, cudaMemcpyDeviceToHost);
  if (e == cudaSuccess) e = cudaMemcpy(f, df, sizeof f, cudaMemcpyDeviceToHost);
  if (e == cudaSuccess) e = cudaMemcpy(x8, dx8, sizeof x8, cudaMemcpyDeviceToHost);
  if (e != cudaSuccess) {
    std::printf("FAIL CUDA: %s\n", cudaGetErrorString(e));
    return 1;
  }
  auto want_bits = [](unsigned byte) { return msa_float_to_bf16(msa_e4m3_to_float((uint8_t)byte)); };
  auto is_nan_byte = [](unsigned byte) { return (byte & 0x7F) == 0x7F; };
  int checked = 0;
  for (int w = 0; w < n; ++w)
    for (int i = 0; i < 4; ++i) {
      const unsigned byte = (words[w] >> (8 * i)) & 0xFF;
      const uint16_t want = want_bits(byte);
      const uint16_t exact = out[8 * w + i], finite = out[8 * w + 4 + i];
      if (is_nan_byte(byte)) {
        check(std::isnan(msa_bf16_to_float(exact)) && (exact >> 15) == (byte >> 7),
              "exact conversion of a NaN byte is a NaN of its sign", byte, i, exact, want);
        check(!std::isnan(msa_bf16_to_float(finite)) && !std::isinf(msa_bf16_to_float(finite)),
              "finite conversion of a NaN byte is finite (the caller skips the key)", byte, i,
              finite, want);
      } else {
        check(exact == want, "exact conversion", byte, i, exact, want);
        check(finite == want, "finite conversion", byte, i, finite, want);
      }
      const bool flagged = ((nan[w] >> (8 * i)) & 0xFF) != 0;
      check(flagged == is_nan_byte(byte), "e4m3_nan_bytes", byte, i, flagged, is_nan_byte(byte));
      const float fv = f[4 * w + i], fw = msa_e4m3_to_float((uint8_t)byte);
      check(is_nan_byte(byte) ? std::isnan(fv) : std::memcmp(&fv, &fw, 4) == 0, "e4m3_to_float",
            byte, i, msa_float_to_bf16(fv), msa_float_to_bf16(fw));
      ++checked;
    }
  // eight bytes -> eight bf16 in element order
  for (int w = 0; w < n; ++w) {
    const uint32_t lo = words[w], hi = words[(w + 1) % n];
    const uint32_t got[4] = {x8[w].x, x8[w].y, x8[w].z, x8[w].w};
    for (int i = 0; i < 8; ++i) {
      const unsigned byte = ((i < 4 ? lo : hi) >> (8 * (i % 4))) & 0xFF;
      if (is_nan_byte(byte)) continue;
      const uint16_t g = (uint16_t)(got[i / 2] >> (16 * (i % 2)));
      check(g == want_bits(byte), "e4m3x8_to_bf16x8 element order", byte, i, g, want_bits(byte));
    }
  }
  std::printf("%s: %d byte conversions checked (all 256 values in 4 positions), %d failures\n",
              failures ? "FAIL" : "PASS", checked, failures);
  return failures ? 1 : 0;
}
