// device_common.cuh - device helpers shared by every kernel of
// libmsa_kernels_cuda: orderable selection keys, the error fill, the row ->
// sequence search and the PTX wrappers (cp.async, ldmatrix, mma.sync,
// mbarrier, bulk copies). Not installed.
#ifndef MSA_CUDA_DEVICE_COMMON_CUH
#define MSA_CUDA_DEVICE_COMMON_CUH

#include "msa/msa_checks.h"
#include "msa_cuda_internal.h"

#include <cuda_bf16.h>
#include <cudaTypedefs.h>  // CUtensorMap
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>

// wgmma and setmaxnreg need the sm_90a target.
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define MSA_HAVE_WGMMA 1
#endif
// mbarrier transaction counts and bulk copies: sm_90.
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900)
#define MSA_HAVE_SM90 1
#endif

namespace msa_cuda {

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
static __device__ void fill_invalid(int32_t *out, int64_t n) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += stride)
    out[i] = -1;
}

// The verdict of the call for a kernel that runs after prep (or after the
// decode kernel of a mixed call): true when the error record says the call
// failed, after this CTA's share of filling out with -1; the kernel then
// returns without reading anything the metadata points to.
__device__ __forceinline__ bool call_failed(const KParams &p) {
  const Header *hdr = reinterpret_cast<const Header *>(p.ws + p.lay.hdr);
  if (hdr->err == kErrNone) return false;
  fill_invalid(p.out, p.out_elems);
  return true;
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
// The same on f16 operands (e4m3 keys, fp8.cuh), and the one of the two
// that an instantiation takes.
__device__ __forceinline__ void mma_f16(float *c, uint32_t a0, uint32_t a1, uint32_t a2,
                                        uint32_t a3, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
template <bool F16>
__device__ __forceinline__ void mma_b16(float *c, uint32_t a0, uint32_t a1, uint32_t a2,
                                        uint32_t a3, uint32_t b0, uint32_t b1) {
  if constexpr (F16) mma_f16(c, a0, a1, a2, a3, b0, b1);
  else mma_bf16(c, a0, a1, a2, a3, b0, b1);
}


// mbarrier (shared::cta), with transaction counts for the copy engine.
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
// Makes mbarrier.init visible to the copy engine (async proxy).
__device__ __forceinline__ void fence_mbarrier_init() {
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
}

#ifdef MSA_HAVE_SM90
// One contiguous global -> shared copy by the copy engine, completing `bytes`
// transactions on mbarrier `bar` (src, dst and bytes multiples of 16).
__device__ __forceinline__ void bulk_load(uint32_t dst, const void *src, uint32_t bytes,
                                          uint32_t bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
      ::"r"(dst), "l"(src), "r"(bytes), "r"(bar)
      : "memory");
}
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const CUtensorMap *map, int c0,
                                            int c1, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes "
      "[%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(bar)
      : "memory");
}
#endif

} // namespace msa_cuda

#endif
