// host_cost.cu - host time of the CUDA runtime calls a prefill call of
// libmsa_kernels_cuda makes (launch.cpp, prefill_tma.cu, decode.cu), each
// alone in a loop on an otherwise idle process: where the 12-19 us of host
// enqueue of one call go (docs/PERFORMANCE.md, 2026-12-02 later). The
// kernels are empty and take the library's parameter sizes (KParams ~0.5
// KB, two 128-byte tensor maps) and shared-memory sizes.
//   nvcc -std=c++17 -arch=sm_90a -o /tmp/host_cost kernels_gpu/bench/probes/host_cost.cu -lcuda
//   /tmp/host_cost
#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <functional>

struct Big {
  unsigned char b[512];
};
__global__ void k_params(Big) {}
__global__ void k_maps(const __grid_constant__ CUtensorMap, const __grid_constant__ CUtensorMap,
                       Big) {}
__global__ void k_coop(Big) {
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
}

static double us_per(const char *what, int n, const std::function<void()> &f) {
  for (int i = 0; i < 50; ++i) f();
  cudaDeviceSynchronize();
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) f();
    const auto t1 = std::chrono::steady_clock::now();
    cudaDeviceSynchronize();  // outside the timed span
    best = std::min(best, std::chrono::duration<double, std::micro>(t1 - t0).count() / n);
  }
  std::printf("| %s | %.2f |\n", what, best);
  return best;
}

int main() {
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    std::printf("no CUDA device\n");
    return 77;
  }
  cudaFree(nullptr);
  cudaStream_t st;
  cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking);
  Big big{};
  void *buf = nullptr;
  cudaMalloc(&buf, 64 << 20);
  void *fn = nullptr;
  cudaDriverEntryPointQueryResult q;
  cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &q);
  auto enc = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  if (!enc) {
    std::printf("no cuTensorMapEncodeTiled in the driver\n");
    return 1;
  }
  CUtensorMap m1, m2;
  auto encode = [&](CUtensorMap *m) {
    cuuint64_t dims[2] = {128, 65536};
    cuuint64_t strides[1] = {256};
    cuuint32_t box[2] = {64, 128}, estr[2] = {1, 1};
    enc(m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, buf, dims, strides, box, estr,
        CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
        CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  };
  encode(&m1);
  encode(&m2);
  const int tma_smem = 165 * 1024, dec_smem = 100 * 1024;
  std::printf("| call (host time, best of 5 x N) | us |\n|---|---|\n");
  int dev = 0;
  us_per("cudaGetDevice", 2000, [&] { cudaGetDevice(&dev); });
  us_per("cudaStreamIsCapturing", 2000, [&] {
    cudaStreamCaptureStatus cs;
    cudaStreamIsCapturing(st, &cs);
  });
  us_per("cuTensorMapEncodeTiled", 2000, [&] { encode(&m1); });
  us_per("cudaFuncSetAttribute (max dynamic smem)", 2000, [&] {
    cudaFuncSetAttribute(k_maps, cudaFuncAttributeMaxDynamicSharedMemorySize, tma_smem);
  });
  us_per("cudaFuncSetAttribute (carveout)", 2000, [&] {
    cudaFuncSetAttribute(k_coop, cudaFuncAttributePreferredSharedMemoryCarveout,
                         cudaSharedmemCarveoutMaxShared);
  });
  cudaFuncSetAttribute(k_coop, cudaFuncAttributeMaxDynamicSharedMemorySize, dec_smem);
  int occ = 0;
  us_per("cudaOccupancyMaxActiveBlocksPerMultiprocessor", 2000, [&] {
    cudaOccupancyMaxActiveBlocksPerMultiprocessor(&occ, k_coop, 160, dec_smem);
  });
  us_per("<<<1, 512>>> 512-byte params (prep)", 500, [&] { k_params<<<1, 512, 0, st>>>(big); });
  us_per("<<<258, 384, 165 KB>>> 2 maps + params (TMA prefill, bf16 keys; e4m3: 512 threads)", 500,
         [&] { k_maps<<<258, 384, tma_smem, st>>>(m1, m2, big); });
  auto launch_ex = [&](bool coop, bool pdl, int grid) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3(grid);
    cfg.blockDim = dim3(160);
    cfg.dynamicSmemBytes = dec_smem;
    cfg.stream = st;
    cudaLaunchAttribute a[2];
    int n = 0;
    if (coop) {
      a[n].id = cudaLaunchAttributeCooperative;
      a[n++].val.cooperative = 1;
    }
    if (pdl) {
      a[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
      a[n++].val.programmaticStreamSerializationAllowed = 1;
    }
    cfg.attrs = a;
    cfg.numAttrs = n;
    cudaLaunchKernelEx(&cfg, k_coop, big);
  };
  us_per("cudaLaunchKernelEx plain, 264 CTAs", 500, [&] { launch_ex(false, false, 264); });
  us_per("cudaLaunchKernelEx PDL, 264 CTAs", 500, [&] { launch_ex(false, true, 264); });
  us_per("cudaLaunchKernelEx cooperative, 264 CTAs", 500, [&] { launch_ex(true, false, 264); });
  us_per("cudaLaunchKernelEx cooperative + PDL, 264 CTAs", 500,
         [&] { launch_ex(true, true, 264); });
  us_per("cudaLaunchKernelEx cooperative + PDL, 4 CTAs", 500, [&] { launch_ex(true, true, 4); });
  const cudaError_t e = cudaDeviceSynchronize();
  std::printf("(last CUDA status: %s; occupancy %d CTAs/SM)\n", cudaGetErrorString(e), occ);
  return e == cudaSuccess ? 0 : 1;
}
