// latbench.cu: dependent-load latency (L2-resident arrays, and a 1 GiB one
// walked where it was not touched before: DRAM), cooperative grid.sync
// latency and the SM clock, on the machine at hand. Build and run:
//   nvcc -std=c++17 -arch=sm_90a -o latbench latbench.cu && ./latbench
#include <cooperative_groups.h>
#include <cstdio>
#include <cstdint>
#include <utility>
#include <vector>
__device__ __forceinline__ unsigned long long gt() {
  unsigned long long t; asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); return t; }
__global__ void chase(const unsigned *a, int n, unsigned start, unsigned *sink, long long *res) {
  unsigned j = start;
  for (int i = 0; i < 8; ++i) j = __ldcg(a + j);  // the code and the TLB entry
  long long c0 = clock64(); unsigned long long t0 = gt();
  for (int i = 0; i < n; ++i) j = __ldcg(a + j);
  long long c1 = clock64(); unsigned long long t1 = gt();
  *sink = j; res[0] = c1 - c0; res[1] = (long long)(t1 - t0);
}
__global__ void gsync(int n, long long *res) {
  auto g = cooperative_groups::this_grid();
  g.sync();
  unsigned long long t0 = gt();
  for (int i = 0; i < n; ++i) g.sync();
  unsigned long long t1 = gt();
  if (blockIdx.x == 0 && threadIdx.x == 0) res[1] = (long long)(t1 - t0);
}
int main() {
  long long *res; unsigned *sink; cudaMallocManaged(&res, 16); cudaMalloc(&sink, 4);
  for (size_t bytes : {size_t(256) << 10, size_t(8) << 20, size_t(1) << 30}) {
    // one random cycle through all 128-byte lines (Sattolo), one word per line
    const size_t n = bytes / 4, lines = n / 32;
    std::vector<unsigned> perm(lines), h(n, 0);
    for (size_t i = 0; i < lines; ++i) perm[i] = (unsigned)i;
    uint64_t x = 88172645463325252ull;
    for (size_t i = lines - 1; i > 0; --i) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      std::swap(perm[i], perm[x % i]);
    }
    for (size_t i = 0; i < lines; ++i) h[perm[i] * 32] = perm[(i + 1) % lines] * 32;
    unsigned *a; cudaMalloc(&a, bytes); cudaMemcpy(a, h.data(), bytes, cudaMemcpyHostToDevice);
    const int hops = 2000;
    // the first launch walks 2008 lines from line 0; the timed one starts
    // 100000 hops further on: lines not touched before (not in L2) when
    // the array is much larger than L2, the same lines when it fits
    chase<<<1, 1>>>(a, hops, 0u, sink, res); cudaDeviceSynchronize();
    const unsigned far = lines > 300000 ? perm[100000 % lines] * 32 : 0u;
    chase<<<1, 1>>>(a, hops, far, sink, res); cudaDeviceSynchronize();
    printf("dependent __ldcg over %8zu KB: %6.0f cycles, %6.1f ns per load (clock %.0f MHz)\n",
           bytes >> 10, (double)res[0] / hops, (double)res[1] / hops, 1e3 * res[0] / (double)res[1]);
    cudaFree(a);
  }
  for (int ctas : {16, 64, 132, 256}) {
    int n = 200; void *args[] = {&n, &res};
    cudaLaunchCooperativeKernel((void *)gsync, ctas, 160, args, 0, 0); cudaDeviceSynchronize();
    cudaLaunchCooperativeKernel((void *)gsync, ctas, 160, args, 0, 0);
    cudaError_t e = cudaDeviceSynchronize();
    printf("grid.sync, %3d CTAs x 160 threads: %6.1f ns per sync (%s)\n", ctas, (double)res[1] / n, cudaGetErrorString(e));
  }
}
