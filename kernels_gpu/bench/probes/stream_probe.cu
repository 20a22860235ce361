// stream_probe.cu: the decode kernel's streaming machinery without its scoring.
// Persistent CTAs (2 per SM, 256 of them as for B=64 x 4 splits), each a
// producer lane that copies page parts with cp.async.bulk into a ring of
// shared-memory slots and 4 consumer warps that wait for a slot and release
// it. The page ids are in shared memory before the loop (no lookup-table
// round trips), so the rate is that of the copies alone: per piece size,
// pieces per slot, ring depth, page order and layer stride. Build and run:
// (repository root; the mbarrier and bulk-copy wrappers are the decode kernel's,
// device_common.cuh):
//   nvcc -std=c++17 -arch=sm_90a -I kernels_gpu/src -I kernels_gpu/include -I kernels_cpu/include \
//     -o stream_probe kernels_gpu/bench/probes/stream_probe.cu && ./stream_probe
#include "device_common.cuh"

#include <cstdint>
#include <cstdio>
#include <vector>
#include <algorithm>
#include <random>

using namespace msa_cuda;

// pieces: bytes of one copy; per_slot: copies per ring slot; n: slots per CTA
__global__ void __launch_bounds__(160, 2)
stream(const char *base, const int *pages, int n, int per_slot, int piece, long long stride,
       int depth, unsigned *sink) {
#ifdef MSA_HAVE_SM90  // (bulk_load: sm_90 device code only)
  extern __shared__ __align__(128) unsigned char smem[];
  const int slot_bytes = per_slot * piece;
  uint64_t *bars = reinterpret_cast<uint64_t *>(smem + depth * slot_bytes);
  int *ids = reinterpret_cast<int *>(bars + 2 * depth);
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int first = blockIdx.x * n * per_slot;
  for (int i = tid; i < n * per_slot; i += blockDim.x) ids[i] = pages[first + i];
  if (tid == 0) {
    for (int i = 0; i < depth; ++i) {
      mbar_init(smem_u32(bars + i), 1);            // full: the producer
      mbar_init(smem_u32(bars + depth + i), 128);  // empty: the consumer threads
    }
    fence_mbarrier_init();
  }
  __syncthreads();
  if (warp == 4) {
    if (lane == 0)
      for (int i = 0; i < n; ++i) {
        const int s = i % depth, use = i / depth;
        if (use > 0) mbar_wait(smem_u32(bars + depth + s), (use - 1) & 1);
        mbar_expect_tx(smem_u32(bars + s), slot_bytes);
        for (int j = 0; j < per_slot; ++j)
          bulk_load(smem_u32(smem + s * slot_bytes + j * piece),
                    base + (long long)ids[i * per_slot + j] * stride, piece, smem_u32(bars + s));
      }
    return;
  }
  unsigned acc = 0;
  for (int i = 0; i < n; ++i) {
    const int s = i % depth;
    mbar_wait(smem_u32(bars + s), (i / depth) & 1);
    acc += reinterpret_cast<const unsigned *>(smem + s * slot_bytes)[tid];
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    mbar_arrive(smem_u32(bars + depth + s));
  }
  if (acc == 0x12345678u) *sink = acc;
#endif
}

int main() {
  const int ctas = 256;
  const long long total = 268435456;  // fp8 B=64 x 32768 x 128
  char *buf;
  cudaMalloc(&buf, (size_t)4 * total);  // room for stride 4 x piece
  cudaMemset(buf, 1, (size_t)4 * total);
  unsigned *sink;
  cudaMalloc(&sink, 4);
  cudaFuncSetAttribute(stream, cudaFuncAttributeMaxDynamicSharedMemorySize, 116 * 1024);
  struct Cfg { const char *what; int piece, per_slot, depth; int stride_mult; bool shuffled; };
  const Cfg cfgs[] = {
      {"fp8 now: 16K pieces, 1/slot, 6 slots, 2 layers", 16384, 1, 6, 2, true},
      {"bf16 now: 32K pieces, 1/slot, 3 slots, 2 layers", 32768, 1, 3, 2, true},
      {"16K pieces, 2/slot, 3 slots, 2 layers", 16384, 2, 3, 2, true},
      {"16K pieces, 1/slot, 6 slots, pages in order", 16384, 1, 6, 2, false},
      {"16K pieces, 1/slot, 6 slots, 1 layer", 16384, 1, 6, 1, true},
      {"16K pieces, 1/slot, 4 slots, 2 layers", 16384, 1, 4, 2, true},
      {"8K pieces, 2/slot, 6 slots, 2 layers (half pages)", 8192, 2, 6, 4, true},
  };
  printf("| configuration | bytes | us | GB/s |\n|---|---|---|---|\n");
  for (const Cfg &c : cfgs) {
    const long long pieces = total / c.piece;
    std::vector<int> ids(pieces);
    for (long long i = 0; i < pieces; ++i) ids[i] = (int)i;
    if (c.shuffled) std::shuffle(ids.begin(), ids.end(), std::mt19937(7));
    int *d_ids;
    cudaMalloc(&d_ids, pieces * 4);
    cudaMemcpy(d_ids, ids.data(), pieces * 4, cudaMemcpyHostToDevice);
    const int n = (int)(pieces / c.per_slot / ctas);
    const size_t sm = (size_t)c.depth * c.piece * c.per_slot + 16 * c.depth + 4 * n * c.per_slot;
    const long long stride = (long long)c.piece * c.stride_mult;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    std::vector<float> t;
    for (int rep = 0; rep < 12; ++rep) {
      cudaEventRecord(e0);
      stream<<<ctas, 160, sm>>>(buf, d_ids, n, c.per_slot, c.piece, stride, c.depth, sink);
      cudaEventRecord(e1);
      cudaEventSynchronize(e1);
      float ms;
      cudaEventElapsedTime(&ms, e0, e1);
      if (rep >= 2) t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    const float med = t[t.size() / 2];
    const cudaError_t err = cudaGetLastError();
    printf("| %s | %lld | %.1f | %.0f |%s\n", c.what, total, med * 1e3, total / (med * 1e6),
           err == cudaSuccess ? "" : cudaGetErrorString(err));
    cudaFree(d_ids);
  }
  return 0;
}
