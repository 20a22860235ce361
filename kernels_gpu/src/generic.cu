// generic.cu - block scores on CUDA cores for every shape the tensor-core
// kernels do not take (any H, D, block_size; unaligned buffers); bf16 or
// e4m3 keys.
#include "device_common.cuh"
#include "fp8.cuh"

#include <type_traits>

namespace msa_cuda {

// ---------------------------------------------------------------------------
// 2'. generic scoring on CUDA cores, any (H, D, block_size). One warp per
// (row, key block); lanes take keys, heads in groups of 8 registers.
// Key elements as f32 (exact from bf16 and from e4m3, so an e4m3 key gives
// the same products as its bf16 twin).
// ---------------------------------------------------------------------------
constexpr int kGenThreads = 128;

// Element type of the keys: bf16 bits or e4m3 bytes.
template <bool F8> using KeyElem = typename std::conditional<F8, uint8_t, __nv_bfloat16>::type;
__device__ __forceinline__ float key_value(__nv_bfloat16 k) { return __bfloat162float(k); }
__device__ __forceinline__ float key_value(uint8_t k) { return e4m3_to_float(k); }

template <bool F8>
__global__ void __launch_bounds__(kGenThreads) generic_kernel(KParams p) {
  if (call_failed(p)) return;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int H = p.heads, D = p.dim, bs = p.bs;
  const size_t page_stride = (size_t)p.num_layers * p.page_size * D;
  const KeyElem<F8> *kb =
      (F8 ? reinterpret_cast<const KeyElem<F8> *>(p.k8)
          : reinterpret_cast<const KeyElem<F8> *>(p.k)) +
      (size_t)p.layer * p.page_size * D;
  const float scale = p.scale;
  const __nv_bfloat16 *qb = reinterpret_cast<const __nv_bfloat16 *>(p.q);
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
          const KeyElem<F8> *kr =
              kb + (size_t)lut[pos / bs] * page_stride + (size_t)(pos % bs) * D;
          float acc[8];
#pragma unroll
          for (int u = 0; u < 8; ++u) acc[u] = 0.f;
          for (int d = 0; d < D; ++d) {
            const float kv = key_value(kr[d]);
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


cudaError_t launch_generic(const KParams &p, int64_t gx, int64_t gy, cudaStream_t st) {
  const dim3 grid((unsigned)gx, (unsigned)gy);
  if (p.key_type == MSA_KEY_F8E4M3FN)
    generic_kernel<true><<<grid, kGenThreads, 0, st>>>(p);
  else
    generic_kernel<false><<<grid, kGenThreads, 0, st>>>(p);
  return cudaGetLastError();
}

} // namespace msa_cuda
