// prep.cu - the first kernel of every call: the contract's run-time metadata
// checks over the whole batch (msa_check_sequence's rules plus the
// workspace and max_new_tokens bounds), the error record, the reset of the
// prefill tile offsets. One CTA. (A decode-only call needs no prep: the
// decode kernel checks its own sequences.)
#include "checks.cuh"

namespace msa_cuda {

constexpr int kPrepThreads = 512;


// Every sequence against msa_check_sequence's rules (plus the workspace and
// max_new_tokens bounds), a warp per sequence with the page-id scan spread
// over the lanes, 8 ids per lane in flight; the smallest failing sequence
// goes to *s_bad (shared, LLONG_MAX when none). The caller syncs before
// reading it.
__device__ void check_batch(const KParams &p, long long *s_bad) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
  for (int64_t b = warp; b < p.batch; b += nwarps) {
    int64_t newt = 0, keys = 0;
    bool bad = sequence_breaks_scalar_rules(p, b, &newt, &keys);
    if (!bad && newt > 0) {
      const int64_t pages = (keys + p.page_size - 1) / p.page_size;
      bool lbad = false;
      const uint32_t *lut = p.lut + b * p.max_pages;
      for (int64_t pg0 = 0; pg0 < pages; pg0 += 8 * 32) {
        uint32_t id[8];
#pragma unroll
        for (int u = 0; u < 8; ++u) {
          const int64_t pg = pg0 + u * 32 + lane;
          id[u] = pg < pages ? lut[pg] : 0u;
        }
#pragma unroll
        for (int u = 0; u < 8; ++u) lbad |= (int64_t)id[u] >= p.num_pages;
      }
      bad = __any_sync(0xffffffffu, lbad);
    }
    if (bad && lane == 0) atomicMin(s_bad, (long long)b);
  }
}

// ---------------------------------------------------------------------------
// 1. prep: metadata checks, scratch reset, prefill tile offsets. One CTA.
// ---------------------------------------------------------------------------
__global__ void __launch_bounds__(kPrepThreads) prep_kernel(KParams p) {
  Header *hdr = reinterpret_cast<Header *>(p.ws + p.lay.hdr);
  int32_t *tiles = reinterpret_cast<int32_t *>(p.ws + p.lay.tiles);
  __shared__ long long s_bad;
  __shared__ int s_scan[33];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int nwarps = blockDim.x >> 5;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  // The next kernels (decode, TMA prefill) are launched with PDL: their
  // CTAs may take the idle SMs now and wait there for this kernel's end
  // (griddepcontrol.wait), instead of launching after it.
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
  if (tid == 0) s_bad = LLONG_MAX;
  __syncthreads();
  const uint32_t *off = p.off;
  if (p.batch == 0) {
    if (tid == 0) {
      msa_check_result_t r = msa_check_empty_batch(p.rows, off);
      hdr->err = r.code != MSA_CHECK_OK ? kErrMetadata : kErrNone;
      hdr->rec = r;
    }
    return;
  }
  check_batch(p, &s_bad);
  __syncthreads();
  if (tid == 0) {
    hdr->err = kErrNone;
    if (s_bad != LLONG_MAX) write_error_record(p, hdr, s_bad);
  }
  if (p.tile_rows <= 0) return;
  // Exclusive prefix sum of prefill tiles (sequences with > kDecRows rows,
  // or every sequence when the decode kernel is not used).
  __syncthreads();
  const bool err = s_bad != LLONG_MAX;
  int carry = 0;
  for (int64_t b0 = 0; b0 < p.batch; b0 += blockDim.x) {
    const int64_t b = b0 + tid;
    int v = 0;
    if (b < p.batch && !err) {
      const int64_t newt = (int64_t)off[b + 1] - off[b];
      if (newt > p.dec_rows) v = (int)((newt + p.tile_rows - 1) / p.tile_rows);
    }
    int x = v;  // inclusive warp scan
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      int y = __shfl_up_sync(0xffffffffu, x, o);
      if (lane >= o) x += y;
    }
    if (lane == 31) s_scan[warp] = x;
    __syncthreads();
    if (warp == 0) {
      int w = lane < nwarps ? s_scan[lane] : 0;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        int y = __shfl_up_sync(0xffffffffu, w, o);
        if (lane >= o) w += y;
      }
      if (lane < nwarps) s_scan[lane] = w;  // inclusive over warps
    }
    __syncthreads();
    const int before = carry + (warp > 0 ? s_scan[warp - 1] : 0) + (x - v);
    if (b < p.batch) tiles[b] = before;
    carry += s_scan[nwarps - 1];
    __syncthreads();
  }
  if (tid == 0) tiles[p.batch] = carry;
}


cudaError_t launch_prep(const KParams &p, cudaStream_t st) {
  prep_kernel<<<1, kPrepThreads, 0, st>>>(p);
  return cudaGetLastError();
}

} // namespace msa_cuda
