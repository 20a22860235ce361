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

// Sequences with 1..kDecRows new rows take the decode kernel (decode and
// speculative decoding; H <= 8, so at most 128 (row, head) columns).
constexpr int kDecRows = 16;
// Whether the decode kernel (decode.cu) serves f8E4M3FN keys (it does since
// its KB = 1 variant). False would make f8E4M3FN calls plan no decode
// kernel: their 1..16-row sequences would take the prefill (or generic)
// kernels, as on GPUs without the decode kernel. launch.cpp's plan and the
// CUDA tests (the bf16/e4m3 cross-check of decode-kernel rows) read it.
constexpr bool kDecodeServesFp8 = true;
// With topk <= kFusedTopk the TMA prefill (prefill_tma.cu) keeps each row's
// best keys in registers and writes its ids itself: no block score.
constexpr int kFusedTopk = 16;
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
  int32_t hint;  // kErrWorkspace: a kWsHint* value
  msa_check_result_t rec;
};
static_assert(sizeof(Header) <= kHeaderBytes, "header too large");

// Workspace: [hdr | verdicts: i64 per decode CTA | tiles: i32 per sequence
// + 1 | scores: f32 [H, score_rows, nblk_cap]]. Nothing in it needs to be
// initialised by the caller: every call writes what it reads.
// score_rows (launch.cpp's ScorePlan): the call's rows, each at its own
// index, when a kernel that writes block scores for the select kernel may
// serve prefill rows (the generic, mma.sync and wgmma kernels and the TMA
// kernel for topk > kFusedTopk index score rows by call row and run only
// then); with the fused TMA prefill only the decode kernel's rows need one,
// and when kDecRows * batch is fewer than the rows, row r of sequence b has
// score row b * kDecRows + r (score_rows < rows tells), so the workspace
// does not grow with the prefill rows.
constexpr int kMaxDecodeCtas = 4096;
struct Layout {
  size_t hdr, verdicts, tiles, scores, total;
  int64_t score_rows, nblk_cap;
};
Layout make_layout(int64_t score_rows, int64_t batch, int64_t heads, int64_t nblk_cap);
// msa_indexer_cuda_workspace_size for the current device (launch.cpp); with
// the call's tensors (t != NULL: the library's own allocating entries) it
// also sees their alignment and whether the TMA prefill can take them.
size_t workspace_size(int64_t rows, int64_t batch, const msa_indexer_attrs_t *a,
                      uint32_t max_total_keys, const msa_indexer_tensors_t *t);

struct KParams {
  const uint16_t *q;
  const uint32_t *off, *prefix, *cache, *lut, *kmax;
  const uint16_t *k;   // bf16 keys (NULL when key_type is f8E4M3FN)
  const uint8_t *k8;   // f8E4M3FN keys (NULL when key_type is bf16)
  int32_t key_type;    // msa_key_type_t
  int32_t *out;
  int64_t rows, batch, num_pages, num_layers, page_size, max_pages;
  int32_t heads, dim, bs, topk, init_blocks, local_blocks, layer, order;
  float scale;
  unsigned char *ws;
  Layout lay;
  float *scores;
  int64_t out_elems;
  int64_t max_new;
  int32_t dec_rows, tile_rows, skip_decode, skip_prefill;
  int32_t splits;         // decode: work items (CTA shares) per sequence
  int64_t dec_spc;        // decode: 128-key stages per work item
  int32_t dec_own_checks; // decode: no prep ran; the decode kernel checks
                          // its sequences and writes the error record
  int32_t pf_fused;       // prefill sequences need no score row (fused TMA)
  int32_t ws_hint;        // why every row has a score row (kWsHint*), for
                          // the workspace error message
};

// Workspace hints: why a call needs a score row for every row although the
// size query (which assumes 16-byte aligned q and k_blocks and a call the
// TMA prefill can take) planned fewer.
enum : int32_t { kWsHintNone = 0, kWsHintUnaligned = 1, kWsHintNoTma = 2 };

// The stream-ordered call (launch.cpp): checks the workspace, plans and
// launches the kernels below.
msa_status_t launch(const msa_indexer_tensors_t *t, const msa_indexer_attrs_t *a,
                    void *workspace, size_t workspace_bytes,
                    uint32_t max_new_tokens, cudaStream_t stream);

// One launcher per kernel (each in its own .cu file). They return the launch
// error; grid sizes are checked by the caller.
cudaError_t launch_prep(const KParams &p, cudaStream_t st);                    // prep.cu
cudaError_t launch_prefill_mma(const KParams &p, int64_t grid, cudaStream_t st);   // prefill_mma.cu
cudaError_t launch_prefill_wgmma(const KParams &p, int64_t grid, cudaStream_t st); // prefill_wgmma.cu
// prefill_tma.cu: false when the shape or the tensor maps do not allow it;
// *selected: the kernel wrote its rows' ids itself (topk <= 16), so the
// select kernel has nothing to do for them.
bool launch_prefill_tma(const msa_indexer_tensors_t *t, const KParams &p, int64_t grid,
                        cudaStream_t st, cudaError_t *err, bool *selected);
// Whether the TMA prefill can take this call's shape (block size a multiple
// of 128, q and index-K row counts within one tensor map, the driver's
// encoder present); launch_prefill_tma may still fail to encode a map.
bool prefill_tma_supports(const msa_indexer_tensors_t *t, int heads, int bs);
cudaError_t launch_generic(const KParams &p, int64_t gx, int64_t gy, cudaStream_t st);  // generic.cu
cudaError_t launch_select(const KParams &p, int npl, int64_t grid, cudaStream_t st);    // select.cu
// decode.cu: the kernel for D, the key type, nt n-tiles of 8 columns per pass and npl select
// candidates per lane (8, 32 or 0). decode_prepare raises its shared-memory
// limit and says how many of its CTAs fit on one SM; launch_decode is a
// cooperative launch of `grid` CTAs, which must all fit at once.
cudaError_t decode_prepare(int D, int key_type, int nt, int npl, int *ctas_per_sm);
cudaError_t launch_decode(const KParams &p, int nt, int npl, int64_t grid, cudaStream_t st);

} // namespace msa_cuda

#endif
