/* msa_kernels_cuda.h - the CUDA back end of msa.indexer_ragged_paged.
 *
 * Plain C; needs no CUDA header (streams are passed as void*, a cudaStream_t
 * cast to void*; NULL is the legacy default stream). Library:
 * libmsa_kernels_cuda (links the CUDA runtime statically, so it loads on a
 * machine with no GPU and no driver). Behaviour: docs/CONTRACT.md.
 *
 * Two ways in:
 *
 * 1. Stream-ordered, zero-copy, for callers that own device buffers (a
 *    framework, a CUDA graph):
 *      size_t ws = msa_indexer_cuda_workspace_size(rows, batch, &attrs,
 *                                                  max_new, max_keys);
 *      ... allocate ws bytes of device memory once ...
 *      msa_indexer_cuda(&tensors, &attrs, ws_ptr, ws, stream);  // async
 *      msa_indexer_cuda_status(ws_ptr, stream);                 // optional
 *    msa_indexer_cuda allocates nothing, never synchronises and launches only
 *    kernels, so it can be captured into a CUDA graph; the graph may be
 *    replayed with other metadata values (lengths, offsets, pages) in the same
 *    buffers, as long as the bounds below hold. All tensor pointers are device
 *    pointers. It checks the attributes and shapes on the host (returning
 *    MSA_STATUS_INVALID_ARGUMENT / MSA_STATUS_WORKSPACE_TOO_SMALL at once) and
 *    the metadata on the device: a broken contract writes an error record
 *    into the workspace and fills `out` with -1 instead of a result; no kernel
 *    reads or writes out of bounds whatever the metadata holds.
 *    msa_indexer_cuda_status synchronises the stream, reads the record and
 *    returns MSA_STATUS_INVALID_METADATA (or WORKSPACE_TOO_SMALL when a
 *    sequence needs more key blocks than the workspace was sized for) with
 *    msa_last_error() naming the sequence and the value, as the CPU does.
 *
 * 2. Synchronous MLIR entries (_mlir_ciface_..._cuda/_auto), with the
 *    signature of the CPU entry: every memref may live in host memory or in
 *    device memory (cudaMalloc/managed), detected per buffer with
 *    cudaPointerGetAttributes; host buffers are staged to the device, and a
 *    host `out` is copied back. They allocate the workspace themselves.
 */
#ifndef MSA_KERNELS_CUDA_H
#define MSA_KERNELS_CUDA_H

#include "msa/msa_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of device workspace msa_indexer_cuda needs, on the current device,
 * for a batch of `batch` sequences and `rows` query rows when no sequence has
 * more than `max_new_tokens` new rows and `max_total_keys` keys (cached +
 * new; e.g. k_max_lengths[0, 0] and [0, 1]). The workspace holds the error
 * record, scratch per sequence and one f32 block score per (head, score row,
 * key block): 4 * H * S * ceil(max_total_keys / block_size) bytes and ~33 KB.
 * S = rows, except where the prefill rows take the fused TMA kernel, which
 * needs none: sm_90, D 64 or 128, H <= 128, block_size a multiple of 128,
 * topk <= 16, rows * H >= 128, the automatic path, and (assumed here, as
 * the query cannot see the tensors) q and k_blocks 16-byte aligned, q and
 * index-K of at most 2^31 - 1 rows: a call where that fails, on such a
 * workspace, reports MSA_STATUS_WORKSPACE_TOO_SMALL and says why. There
 * only the decode rows have score rows: S = min(rows, 16 * batch) for
 * H <= 8, 0 for more heads, so the size does not grow with the prefill rows
 * (8192 rows over 1M keys, H = 4: 2 MiB).
 * Returns 0 when attrs is NULL or invalid, or when the size would overflow
 * size_t (rows or batch above 2^31, or the score array above SIZE_MAX / 2). */
size_t msa_indexer_cuda_workspace_size(int64_t rows, int64_t batch,
                                       const msa_indexer_attrs_t *attrs,
                                       uint32_t max_new_tokens,
                                       uint32_t max_total_keys);

/* Stream-ordered launch (see above). `stream` is a cudaStream_t. The key
 * capacity is read off workspace_bytes (the inverse of the size query), so a
 * larger workspace than asked for is fine. */
msa_status_t msa_indexer_cuda(const msa_indexer_tensors_t *tensors,
                              const msa_indexer_attrs_t *attrs,
                              void *workspace, size_t workspace_bytes,
                              void *stream);

/* As msa_indexer_cuda, with the bound on new rows per sequence that the
 * workspace query was given. With max_new_tokens <= 16 (decode and
 * speculative decoding) and a shape the decode kernel takes (H <= 8, D 64 or
 * 128, block_size 16/32/64 or a multiple of 128, sm_90) the call is ONE
 * cooperative kernel launch that checks its own metadata; other shapes run
 * the general plan. A sequence with more new rows is reported as an error.
 * The workspace needs no initialisation (every call writes what it reads);
 * one workspace must not be used by two calls in flight at once. */
msa_status_t msa_indexer_cuda_ex(const msa_indexer_tensors_t *tensors,
                                 const msa_indexer_attrs_t *attrs,
                                 void *workspace, size_t workspace_bytes,
                                 uint32_t max_new_tokens, void *stream);

/* Synchronises `stream`, then reads the error record that the last
 * msa_indexer_cuda call on this workspace wrote. MSA_STATUS_OK, or the error
 * with its message in msa_last_error() (formatted with msa_format_check). */
msa_status_t msa_indexer_cuda_status(const void *workspace, void *stream);

/* Synchronous plain-pointer entry over device buffers: allocates the
 * workspace (cudaMallocAsync on `stream`), launches, waits and returns the
 * status of msa_indexer_cuda_status. */
msa_status_t msa_indexer_cuda_sync(const msa_indexer_tensors_t *tensors,
                                   const msa_indexer_attrs_t *attrs,
                                   uint32_t max_new_tokens,
                                   uint32_t max_total_keys, void *stream);

/* 1 when a usable CUDA device is present (cudaGetDeviceCount succeeds with at
 * least one device), else 0. Never fails: no driver counts as no device. */
int msa_cuda_available(void);

/* Kernel path, for tests and benchmarks (process-wide; default AUTO).
 *   AUTO:    tensor-core kernels where the shape allows, else the generic one
 *   GENERIC: the generic CUDA-core kernel for every shape
 *   MMA_SYNC: as AUTO, but prefill on mma.sync instead of wgmma (sm_90a) */
typedef enum msa_cuda_path {
  MSA_CUDA_PATH_AUTO = 0,
  MSA_CUDA_PATH_GENERIC = 1,
  MSA_CUDA_PATH_MMA_SYNC = 2
} msa_cuda_path_t;
msa_status_t msa_cuda_set_path(int32_t path);

/* The number of decode-kernel launches this process made (every call that
 * had decode sequences for it), for tests and benchmarks to say what ran. */
uint64_t msa_cuda_decode_launches(void);

/* The entry lowered MLIR calls for target=cuda. Same arguments as
 * _mlir_ciface_msa_indexer_ragged_paged_cpu. Each memref may be host or
 * device memory: host ones are staged (strided ones packed) on the current
 * device's legacy default stream, and a host `out` is written back through
 * its strides; device memrefs must be contiguous (identity strides), else
 * MSA_STATUS_UNSUPPORTED. The descriptors go through the shared memref
 * adapter (msa/msa_memref.h) and the metadata is checked on the host first,
 * with the CPU's checks and messages. Synchronous. On failure prints
 * "msa.indexer_ragged_paged (cuda): <message>" to stderr, fills out with -1
 * where its shape allows and returns the status. Without a usable device:
 * MSA_STATUS_NO_DEVICE. */
int32_t _mlir_ciface_msa_indexer_ragged_paged_cuda(MSA_INDEXER_CIFACE_PARAMS);
/* The same for an f8E4M3FN k_blocks. */
int32_t _mlir_ciface_msa_indexer_ragged_paged_cuda_f8e4m3fn(MSA_INDEXER_CIFACE_F8_PARAMS);

/* The entry lowered MLIR calls for target=auto: the CUDA entry above when a
 * CUDA device is present at run time (host-memory inputs are then staged),
 * else the CPU kernel (_mlir_ciface_msa_indexer_ragged_paged_cpu when the
 * library was built with it, else the scalar reference). Error messages name
 * the back end that ran: "msa.indexer_ragged_paged (cuda|cpu): ...". */
int32_t _mlir_ciface_msa_indexer_ragged_paged_auto(MSA_INDEXER_CIFACE_PARAMS);
/* The same for an f8E4M3FN k_blocks (the CPU fallback is the cpu _f8e4m3fn entry). */
int32_t _mlir_ciface_msa_indexer_ragged_paged_auto_f8e4m3fn(MSA_INDEXER_CIFACE_F8_PARAMS);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MSA_KERNELS_CUDA_H */
