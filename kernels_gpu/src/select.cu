// select.cu - the selection of the rows whose scores a prefill or generic
// kernel wrote: one warp per (head, row).
#include "select.cuh"

namespace msa_cuda {

// ---------------------------------------------------------------------------
// 4. select for the rows not handled by the decode kernel.
// ---------------------------------------------------------------------------
constexpr int kSelThreads = 256;

template <int NPL>
__global__ void __launch_bounds__(kSelThreads) select_kernel(KParams p) {
  if (call_failed(p)) return;
  const int64_t pair = (int64_t)blockIdx.x * (kSelThreads / 32) + (threadIdx.x >> 5);
  if (pair >= (int64_t)p.heads * p.rows) return;
  const int64_t h = pair / p.rows, row = pair - h * p.rows;
  const int64_t b = seq_of_row(p.off, p.batch, row);
  const int64_t begin = p.off[b];
  const int64_t newt = (int64_t)p.off[b + 1] - begin;
  if (p.skip_decode && newt <= p.dec_rows) return;  // decode kernel selected
  const int64_t n = (int64_t)p.prefix[b] + (row - begin) + 1;
  const int nblk = (int)((n + p.bs - 1) / p.bs);
  const float *sc = p.scores + (size_t)pair * p.lay.nblk_cap;
  int32_t *o = p.out + (size_t)pair * p.topk;
  RowScores<NPL> pre;
  pre.load(sc, nblk);
  if constexpr (NPL == 8)
    select_row_s8(sc, nblk, p, o, pre);
  else
    select_row<NPL>(sc, nblk, p, o, pre);
}


cudaError_t launch_select(const KParams &p, int npl, int64_t grid, cudaStream_t st) {
  switch (npl) {
  case 8: select_kernel<8><<<(unsigned)grid, kSelThreads, 0, st>>>(p); break;
  case 32: select_kernel<32><<<(unsigned)grid, kSelThreads, 0, st>>>(p); break;
  default: select_kernel<0><<<(unsigned)grid, kSelThreads, 0, st>>>(p); break;
  }
  return cudaGetLastError();
}

} // namespace msa_cuda
