// selbench.cu: the cost of one select_row_rank64 / select_row_s8 (nblk 64
// and 256) by one warp on register data, in SM cycles and ns, with the SM
// clock measured (clock64 against %globaltimer). From the repository root:
//   nvcc -std=c++17 --expt-relaxed-constexpr -I kernels_gpu/include -I kernels_gpu/src \
//     -I kernels_cpu/include -arch=sm_90a -o selbench kernels_gpu/bench/probes/selbench.cu
#include "msa_cuda_internal.h"
#include "select.cuh"
#include <cstdio>
using namespace msa_cuda;
__device__ __forceinline__ unsigned long long gt() {
  unsigned long long t; asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t)); return t; }
template <int MODE>  // 0: rank64 (nblk 64), 1: s8 (nblk 256), 2: empty loop
__global__ void bench(KParams p, const float *sc, int32_t *out, long long *res, int iters) {
  RowScores<8> pre;
  const int nblk = MODE == 1 ? 256 : 64;
  pre.load(sc, nblk);
  __syncwarp();
  long long c0 = clock64(); unsigned long long t0 = gt();
  for (int it = 0; it < iters; ++it) {
    for (int i = 0; i < 8; ++i) asm volatile("" : "+f"(pre.v[i]));
    if (MODE == 0) select_row_rank64(nblk, p, out, pre);
    else if (MODE == 1) select_row_s8(sc, nblk, p, out, pre);
    __syncwarp();
  }
  long long c1 = clock64(); unsigned long long t1 = gt();
  if (threadIdx.x == 0) { res[0] = c1 - c0; res[1] = (long long)(t1 - t0); }
}
int main() {
  float *sc; int32_t *out; long long *res;
  cudaMalloc(&sc, 256 * 4); cudaMalloc(&out, 64 * 4); cudaMallocManaged(&res, 16);
  float h[256]; for (int i = 0; i < 256; ++i) h[i] = (float)((i * 7919) % 1000) * 0.01f;
  cudaMemcpy(sc, h, sizeof h, cudaMemcpyHostToDevice);
  KParams p = {};
  p.topk = 16; p.local_blocks = 1; p.init_blocks = 0;
  for (int order = 0; order < 2; ++order) {
    p.order = order == 0 ? MSA_ORDER_SCORE : MSA_ORDER_BLOCK;
    for (int mode = 0; mode < 3; ++mode) {
      for (int iters : {1, 100}) {
        auto k = mode == 0 ? bench<0> : mode == 1 ? bench<1> : bench<2>;
        k<<<1, 32>>>(p, sc, out, res, iters); cudaDeviceSynchronize();
        k<<<1, 32>>>(p, sc, out, res, iters); cudaDeviceSynchronize();
        printf("order=%s mode=%s iters=%3d: %7.0f cycles, %7.1f ns per selection, clock %.0f MHz\n",
               order ? "block" : "score", mode == 0 ? "rank64" : mode == 1 ? "s8/256" : "empty", iters,
               (double)res[0] / iters, (double)res[1] / iters, 1e3 * res[0] / (double)res[1]);
      }
    }
  }
  printf("%s\n", cudaGetErrorString(cudaGetLastError()));
}
