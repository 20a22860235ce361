// msa_cuda_internal.h - shared between the kernels (.cu) and the host entries
// (.cpp) of libmsa_kernels_cuda. Not installed.
#ifndef MSA_CUDA_INTERNAL_H
#define MSA_CUDA_INTERNAL_H

#include "msa/msa_checks.h"
#include "msa/msa_kernels.h"

#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__) || defined(CUDART_VERSION)
#include <cuda_runtime.h>
#else
#include <cuda_runtime_api.h>
#endif

namespace msa_cuda {

// Sequences with 1..kDecRows new rows take the decode kernel.
constexpr int kDecRows = 4;
constexpr size_t kHeaderBytes = 256;

// Error kinds of the device record.
enum : int32_t {
  kErrNone = 0,
  kErrMetadata = 1,  // rec: the msa_check_result_t of msa_check_sequence
  kErrWorkspace = 2, // rec.seq, value = key blocks needed, limit = capacity
  kErrNewBound = 3   // rec.seq, value = new rows, limit = max_new_tokens
};

struct Header {
  int32_t err;
  int32_t pad;
  msa_check_result_t rec;
};
static_assert(sizeof(Header) <= kHeaderBytes, "header too large");

struct Layout {
  size_t hdr, counters, tiles, scores, total;
  int64_t nblk_cap;
};
Layout make_layout(int64_t rows, int64_t batch, int64_t heads, int64_t nblk_cap);

struct KParams {
  const uint16_t *q;
  const uint32_t *off, *prefix, *cache, *lut, *kmax;
  const uint16_t *k;
  int32_t *out;
  int64_t rows, batch, num_pages, num_layers, page_size, max_pages;
  int32_t heads, dim, bs, topk, init_blocks, local_blocks, layer, order;
  float scale;
  unsigned char *ws;
  Layout lay;
  float *scores;
  int64_t out_elems;
  int64_t max_new;
  int32_t dec_rows, tile_rows, skip_decode, skip_prefill, splits;
  int32_t select_v0;  // 1: select_kernel<8> runs select_row<8> (MSA_CUDA_SELECT=v0)
  int64_t blocks_per_cta;
};

msa_status_t launch(const msa_indexer_tensors_t *t, const msa_indexer_attrs_t *a,
                    void *workspace, size_t workspace_bytes,
                    uint32_t max_new_tokens, cudaStream_t stream);

} // namespace msa_cuda

#endif
