// msa_cuda_host.cpp - host entries of libmsa_kernels_cuda: the workspace
// query, the stream-ordered launch, the status read-back and the synchronous
// MLIR entries (_cuda: host or device memrefs, staged as needed; _auto: CUDA
// when a device is present, else the CPU). The descriptors go through the
// shared memref adapter (msa/msa_memref.h) and the attributes and metadata
// through the shared checks (msa_indexer_check_static/_metadata), as on the
// CPU. Every CUDA call is checked; nothing synchronises the whole device.
#include "msa/msa_checks.h"
#include "msa/msa_kernels.h"
#include "msa/msa_memref.h"
#include "msa/msa_cuda_limits.h"
#include "msa/msa_kernels_cuda.h"
#include "msa_cuda_internal.h"

#if defined(MSA_HAVE_CPU_KERNEL)
// _mlir_ciface_msa_indexer_ragged_paged_cpu (libmsa_kernels_cpu)
#else
#include "msa/msa_reference.h"
#endif

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using msa_cuda::Header;

namespace {

typedef long long ll;

// The shared static rules, then what the CUDA kernels cannot serve.
msa_status_t check_static(const msa_indexer_tensors_t *t,
                          const msa_indexer_attrs_t *a) {
  const msa_status_t st = msa_indexer_check_static(t, a);
  if (st != MSA_STATUS_OK) return st;
  const char *why = msa_cuda_unsupported_reason(a->num_index_heads,
                                                a->idx_head_dim, a->block_size,
                                                a->topk);
  if (why)
    return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                              "shape not served by the CUDA kernels: %s", why);
  if (t->rows > (int64_t)INT32_MAX || t->batch > (int64_t)INT32_MAX)
    return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                              "rows and batch above 2^31 are not served by "
                              "the CUDA kernels");
  return MSA_STATUS_OK;
}

} // namespace

extern "C" {

size_t msa_indexer_cuda_workspace_size(int64_t rows, int64_t batch,
                                       const msa_indexer_attrs_t *attrs,
                                       uint32_t max_new_tokens,
                                       uint32_t max_total_keys) {
  (void)max_new_tokens;
  if (!attrs || attrs->block_size < 1 || attrs->num_index_heads < 1) return 0;
  return msa_cuda::workspace_size(rows, batch, attrs, max_total_keys, nullptr);
}

msa_status_t msa_indexer_cuda_ex(const msa_indexer_tensors_t *tensors,
                                 const msa_indexer_attrs_t *attrs,
                                 void *workspace, size_t workspace_bytes,
                                 uint32_t max_new_tokens, void *stream) {
  msa_status_t st = check_static(tensors, attrs);
  if (st != MSA_STATUS_OK) return st;
  return msa_cuda::launch(tensors, attrs, workspace, workspace_bytes,
                          max_new_tokens, static_cast<cudaStream_t>(stream));
}

msa_status_t msa_indexer_cuda(const msa_indexer_tensors_t *tensors,
                              const msa_indexer_attrs_t *attrs,
                              void *workspace, size_t workspace_bytes,
                              void *stream) {
  return msa_indexer_cuda_ex(tensors, attrs, workspace, workspace_bytes,
                             UINT32_MAX, stream);
}

msa_status_t msa_indexer_cuda_status(const void *workspace, void *stream) {
  if (!workspace)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "workspace is NULL");
  Header h;
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  cudaError_t e = cudaMemcpyAsync(&h, workspace, sizeof h,
                                  cudaMemcpyDeviceToHost, st);
  if (e == cudaSuccess) e = cudaStreamSynchronize(st);
  if (e != cudaSuccess)
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR, "CUDA error: %s",
                              cudaGetErrorString(e));
  char msg[512];
  switch (h.err) {
  case msa_cuda::kErrNone:
    return MSA_STATUS_OK;
  case msa_cuda::kErrMetadata:
    msa_format_check(&h.rec, msg, sizeof msg);
    return msa_set_last_error(MSA_STATUS_INVALID_METADATA, "%s", msg);
  case msa_cuda::kErrWorkspace:
    return msa_set_last_error(
        MSA_STATUS_WORKSPACE_TOO_SMALL,
        "sequence %lld needs %lld key blocks (%lld keys) but the workspace "
        "holds %lld per row (size it with msa_indexer_cuda_workspace_size)%s",
        (ll)h.rec.seq, (ll)h.rec.value, (ll)h.rec.aux, (ll)h.rec.limit,
        h.hint == msa_cuda::kWsHintUnaligned
            ? "; q or k_blocks is not 16-byte aligned, so every row needs a score "
              "row, and the size query assumes aligned pointers"
        : h.hint == msa_cuda::kWsHintNoTma
            ? "; the prefill rows cannot take the fused TMA kernel (q or index-K "
              "above 2^31 - 1 rows, or no tensor-map encoder in the driver), so "
              "every row needs a score row"
            : "");
  case msa_cuda::kErrNewBound:
    return msa_set_last_error(
        MSA_STATUS_INVALID_ARGUMENT,
        "sequence %lld has %lld new rows, above the max_new_tokens = %lld "
        "given to msa_indexer_cuda_ex",
        (ll)h.rec.seq, (ll)h.rec.value, (ll)h.rec.limit);
  default:
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                              "unreadable device error record (%d)", (int)h.err);
  }
}

msa_status_t msa_indexer_cuda_sync(const msa_indexer_tensors_t *tensors,
                                   const msa_indexer_attrs_t *attrs,
                                   uint32_t max_new_tokens,
                                   uint32_t max_total_keys, void *stream) {
  msa_status_t st = check_static(tensors, attrs);
  if (st != MSA_STATUS_OK) return st;
  // sized for these tensors (their alignment, the TMA prefill's limits)
  const size_t ws = msa_cuda::workspace_size(tensors->rows, tensors->batch, attrs,
                                             max_total_keys, tensors);
  if (ws == 0)
    return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                              "the workspace for %lld rows and %u keys "
                              "overflows size_t",
                              (ll)tensors->rows, max_total_keys);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  void *w = nullptr;
  cudaError_t e = cudaMallocAsync(&w, ws, s);
  if (e != cudaSuccess)
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                              "cudaMallocAsync(%zu): %s", ws,
                              cudaGetErrorString(e));
  st = msa_cuda::launch(tensors, attrs, w, ws, max_new_tokens, s);
  msa_status_t st2 = msa_indexer_cuda_status(w, stream);
  if (st == MSA_STATUS_OK) st = st2;
  e = cudaFreeAsync(w, s);
  if (e == cudaSuccess) e = cudaStreamSynchronize(s);
  if (e != cudaSuccess && st == MSA_STATUS_OK)
    st = msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                            "freeing the workspace: %s", cudaGetErrorString(e));
  return st;
}

int msa_cuda_available(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n > 0 ? 1 : 0;
}

} // extern "C"

// ---------------------------------------------------------------------------
// MLIR entries: the shared memref adapter, then staging. The legacy default
// stream orders every copy and launch; the entry waits for that stream only.
// ---------------------------------------------------------------------------
namespace {

// The adapter's views plus where each operand lives.
struct Operands {
  msa_indexer_memrefs_t m;
  bool device[MSA_NUM_OPERANDS] = {};
  const msa_memref_view_t &view(int i) const { return m.operand[i]; }
};

// Device (or managed) memory? Host memory unknown to CUDA counts as host.
bool on_device(const msa_memref_view_t &v) {
  if (!v.data || v.count == 0) return false;
  cudaPointerAttributes at;
  if (cudaPointerGetAttributes(&at, v.data) != cudaSuccess) {
    (void)cudaGetLastError();  // not a CUDA pointer: host memory
    return false;
  }
  return at.type == cudaMemoryTypeDevice || at.type == cudaMemoryTypeManaged;
}

size_t bytes_of(const msa_memref_view_t &v) {
  return (size_t)v.count * (size_t)v.elem_bytes;
}

msa_status_t strided_device(const msa_memref_view_t &v) {
  return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                            "%s: strided device memrefs are not supported "
                            "(pass a contiguous buffer)",
                            v.name);
}

// Device buffers of one call (stream-ordered on the legacy stream). free()
// reports the first failure; the destructor frees what an error path left.
struct DevAllocs {
  std::vector<void *> ptrs;
  ~DevAllocs() {
    for (void *p : ptrs) (void)cudaFreeAsync(p, 0);  // an error is reported
  }
  void *alloc(size_t n, cudaError_t &e) {
    void *p = nullptr;
    e = cudaMallocAsync(&p, n ? n : 16, 0);
    if (e == cudaSuccess) ptrs.push_back(p);
    return e == cudaSuccess ? p : nullptr;
  }
  cudaError_t free() {
    cudaError_t first = cudaSuccess;
    for (void *p : ptrs) {
      const cudaError_t e = cudaFreeAsync(p, 0);
      if (first == cudaSuccess) first = e;
    }
    ptrs.clear();
    return first;
  }
};

// Host copy (dense) of an operand, from host or device memory.
msa_status_t host_copy(const Operands &w, int i,
                       std::vector<unsigned char> &dst) {
  const msa_memref_view_t &v = w.view(i);
  dst.assign(bytes_of(v) + 16, 0);
  if (v.count == 0) return MSA_STATUS_OK;
  if (!w.device[i]) {
    msa_memref_pack(&v, dst.data());
    return MSA_STATUS_OK;
  }
  if (!v.contiguous) return strided_device(v);
  const cudaError_t e =
      cudaMemcpy(dst.data(), v.data, bytes_of(v), cudaMemcpyDeviceToHost);
  if (e != cudaSuccess)
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR, "%s: copy to host: %s",
                              v.name, cudaGetErrorString(e));
  return MSA_STATUS_OK;
}

// Device pointer (dense) for an operand: the operand itself when it is
// contiguous device memory, else a staged copy of `host` (already packed) or
// of the operand packed here.
msa_status_t device_ptr(const Operands &w, int i,
                        const std::vector<unsigned char> *host, DevAllocs &da,
                        void *&dptr) {
  const msa_memref_view_t &v = w.view(i);
  if (w.device[i]) {
    if (!v.contiguous) return strided_device(v);
    dptr = v.data;
    return MSA_STATUS_OK;
  }
  cudaError_t e;
  const size_t n = bytes_of(v);
  void *p = da.alloc(n, e);
  if (!p)
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                              "%s: cudaMallocAsync(%zu): %s", v.name, n,
                              cudaGetErrorString(e));
  if (n && i != MSA_OPERAND_OUT) {
    std::vector<unsigned char> tmp;
    const unsigned char *src;
    if (host) {
      src = host->data();
    } else {
      tmp.resize(n);
      msa_memref_pack(&v, tmp.data());
      src = tmp.data();
    }
    e = cudaMemcpy(p, src, n, cudaMemcpyHostToDevice);
    if (e != cudaSuccess)
      return msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                                "%s: copy to device: %s", v.name,
                                cudaGetErrorString(e));
  }
  dptr = p;
  return MSA_STATUS_OK;
}

// On an error: out = -1 through its descriptor when that is sound (device:
// contiguous only). A failing fill is added to the message.
void fill_out_invalid(const Operands &w) {
  const msa_memref_view_t &out = w.view(MSA_OPERAND_OUT);
  if (!w.m.out_sound || out.count == 0) return;
  if (!w.device[MSA_OPERAND_OUT]) {
    msa_memref_fill_i32(&out, -1);
    return;
  }
  if (!out.contiguous) return;
  cudaError_t e = cudaMemsetAsync(out.data, 0xff, bytes_of(out), 0);
  if (e == cudaSuccess) e = cudaStreamSynchronize(0);
  if (e != cudaSuccess) {
    const std::string msg = msa_last_error();
    msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                       "%s (and filling out with -1 failed: %s)", msg.c_str(),
                       cudaGetErrorString(e));
  }
}

int32_t report(const char *backend, msa_status_t st) {
  std::fprintf(stderr, "msa.indexer_ragged_paged (%s): %s\n", backend,
               msa_last_error());
  return (int32_t)st;
}

int32_t fail(const Operands &w, const char *backend, msa_status_t st) {
  fill_out_invalid(w);
  return report(backend, st);
}

// The metadata operands, copied to the host (the checks and the sizing read
// them there).
const int kMetadata[] = {MSA_OPERAND_INPUT_ROW_OFFSETS,
                         MSA_OPERAND_PREFIX_LENS, MSA_OPERAND_K_CACHE_LENGTHS,
                         MSA_OPERAND_K_LOOKUP_TABLE, MSA_OPERAND_K_MAX_LENGTHS};

int32_t run_cuda(const Operands &w, const msa_indexer_attrs_t &a) {
  std::vector<unsigned char> host[MSA_NUM_OPERANDS];
  msa_status_t st = MSA_STATUS_OK;
  for (int i : kMetadata)
    if ((st = host_copy(w, i, host[i])) != MSA_STATUS_OK)
      return fail(w, "cuda", st);
  // Host view: metadata copies; q, k, out only compared with NULL.
  void *hdata[MSA_NUM_OPERANDS];
  for (int i = 0; i < MSA_NUM_OPERANDS; ++i) hdata[i] = w.view(i).data;
  for (int i : kMetadata) hdata[i] = host[i].data();
  msa_indexer_tensors_t th;
  msa_indexer_memrefs_tensors(&w.m, hdata, &th);
  if ((st = check_static(&th, &a)) != MSA_STATUS_OK ||
      (st = msa_indexer_check_metadata(&th)) != MSA_STATUS_OK)
    return fail(w, "cuda", st);
  uint32_t max_new = 0, max_keys = 0;
  for (int64_t b = 0; b < th.batch; ++b) {
    const uint32_t nw = th.input_row_offsets[b + 1] - th.input_row_offsets[b];
    max_new = std::max(max_new, nw);
    if (nw > 0) max_keys = std::max(max_keys, th.prefix_lens[b] + nw);
  }
  DevAllocs da;
  void *ddata[MSA_NUM_OPERANDS] = {};
  for (int i = 0; i < MSA_NUM_OPERANDS; ++i) {
    const bool staged_meta = !host[i].empty();
    if ((st = device_ptr(w, i, staged_meta ? &host[i] : nullptr, da,
                         ddata[i])) != MSA_STATUS_OK)
      return fail(w, "cuda", st);
  }
  msa_indexer_tensors_t t;
  msa_indexer_memrefs_tensors(&w.m, ddata, &t);
  // sized for these tensors (a memref's offset may misalign q or k_blocks)
  const size_t ws_bytes = msa_cuda::workspace_size(t.rows, t.batch, &a, max_keys, &t);
  if (ws_bytes == 0)
    return fail(w, "cuda",
                msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                                   "the workspace for %lld rows and %u keys "
                                   "overflows size_t",
                                   (ll)t.rows, max_keys));
  cudaError_t e;
  void *ws = da.alloc(ws_bytes, e);
  if (!ws)
    return fail(w, "cuda",
                msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                                   "workspace cudaMallocAsync(%zu): %s",
                                   ws_bytes, cudaGetErrorString(e)));
  st = msa_indexer_cuda_ex(&t, &a, ws, ws_bytes, max_new, nullptr);
  if (st == MSA_STATUS_OK) st = msa_indexer_cuda_status(ws, nullptr);
  if (st != MSA_STATUS_OK) return fail(w, "cuda", st);
  const msa_memref_view_t &out = w.view(MSA_OPERAND_OUT);
  if (!w.device[MSA_OPERAND_OUT] && out.count > 0) {
    std::vector<unsigned char> h(bytes_of(out));
    e = cudaMemcpy(h.data(), ddata[MSA_OPERAND_OUT], h.size(),
                   cudaMemcpyDeviceToHost);
    if (e != cudaSuccess)
      return fail(w, "cuda",
                  msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                                     "result: copy to host: %s",
                                     cudaGetErrorString(e)));
    msa_memref_unpack(&out, h.data());
  }
  e = da.free();
  if (e == cudaSuccess) e = cudaStreamSynchronize(0);
  if (e != cudaSuccess)
    return report("cuda", msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                                             "freeing staging buffers: %s",
                                             cudaGetErrorString(e)));
  return MSA_STATUS_OK;
}

#if !defined(MSA_HAVE_CPU_KERNEL)
// CPU fallback without the Highway kernel: the scalar reference over packed
// host copies.
int32_t run_reference(const Operands &w, const msa_indexer_attrs_t &a) {
  std::vector<unsigned char> host[MSA_NUM_OPERANDS];
  void *data[MSA_NUM_OPERANDS];
  msa_status_t st;
  for (int i = 0; i < MSA_NUM_OPERANDS; ++i) {
    if (i == MSA_OPERAND_OUT)
      host[i].assign(bytes_of(w.view(i)) + 16, 0);
    else if ((st = host_copy(w, i, host[i])) != MSA_STATUS_OK)
      return fail(w, "cpu", st);
    data[i] = host[i].data();
  }
  msa_indexer_tensors_t t;
  msa_indexer_memrefs_tensors(&w.m, data, &t);
  if ((st = msa_indexer_reference(&t, &a)) != MSA_STATUS_OK)
    return fail(w, "cpu", st);
  msa_memref_unpack(&w.view(MSA_OPERAND_OUT), host[MSA_OPERAND_OUT].data());
  return MSA_STATUS_OK;
}
#endif

// The adapter, then where each operand lives.
msa_status_t read_operands(Operands &w, msa_indexer_attrs_t &a, int32_t k_type,
                           MSA_INDEXER_CIFACE_PARAMS_K(const void)) {
  const msa_status_t st =
      msa_indexer_memrefs_read(&w.m, &a, k_type, MSA_INDEXER_CIFACE_ARGS);
  if (w.m.out_sound)
    w.device[MSA_OPERAND_OUT] = on_device(w.view(MSA_OPERAND_OUT));
  if (st != MSA_STATUS_OK) return st;
  for (int i = 0; i < MSA_OPERAND_OUT; ++i) w.device[i] = on_device(w.view(i));
  return MSA_STATUS_OK;
}

// The cuda entries: `k_blocks` is the descriptor of `k_type`.
int32_t run_cuda_ciface(int32_t k_type, MSA_INDEXER_CIFACE_PARAMS_K(const void)) {
  Operands w;
  msa_indexer_attrs_t a;
  const msa_status_t st = read_operands(w, a, k_type, MSA_INDEXER_CIFACE_ARGS);
  if (st != MSA_STATUS_OK) return fail(w, "cuda", st);
  if (!msa_cuda_available())
    return fail(w, "cuda", msa_set_last_error(MSA_STATUS_NO_DEVICE,
                                              "no usable CUDA device"));
  return run_cuda(w, a);
}

#if !defined(MSA_HAVE_CPU_KERNEL)
// The auto entries' fallback without the CPU kernel: the reference.
int32_t run_reference_ciface(int32_t k_type, MSA_INDEXER_CIFACE_PARAMS_K(const void)) {
  Operands w;
  msa_indexer_attrs_t a;
  const msa_status_t st = read_operands(w, a, k_type, MSA_INDEXER_CIFACE_ARGS);
  if (st != MSA_STATUS_OK) return fail(w, "cpu", st);
  return run_reference(w, a);
}
#endif

} // namespace

extern "C" int32_t
_mlir_ciface_msa_indexer_ragged_paged_cuda(MSA_INDEXER_CIFACE_PARAMS) {
  return run_cuda_ciface(MSA_KEY_BF16, MSA_INDEXER_CIFACE_ARGS);
}

extern "C" int32_t
_mlir_ciface_msa_indexer_ragged_paged_cuda_f8e4m3fn(MSA_INDEXER_CIFACE_F8_PARAMS) {
  return run_cuda_ciface(MSA_KEY_F8E4M3FN, MSA_INDEXER_CIFACE_ARGS);
}

extern "C" int32_t
_mlir_ciface_msa_indexer_ragged_paged_auto(MSA_INDEXER_CIFACE_PARAMS) {
  if (msa_cuda_available())
    return run_cuda_ciface(MSA_KEY_BF16, MSA_INDEXER_CIFACE_ARGS);
#if defined(MSA_HAVE_CPU_KERNEL)
  return _mlir_ciface_msa_indexer_ragged_paged_cpu(MSA_INDEXER_CIFACE_ARGS);
#else
  return run_reference_ciface(MSA_KEY_BF16, MSA_INDEXER_CIFACE_ARGS);
#endif
}

extern "C" int32_t
_mlir_ciface_msa_indexer_ragged_paged_auto_f8e4m3fn(MSA_INDEXER_CIFACE_F8_PARAMS) {
  if (msa_cuda_available())
    return run_cuda_ciface(MSA_KEY_F8E4M3FN, MSA_INDEXER_CIFACE_ARGS);
#if defined(MSA_HAVE_CPU_KERNEL)
  return _mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(MSA_INDEXER_CIFACE_ARGS);
#else
  return run_reference_ciface(MSA_KEY_F8E4M3FN, MSA_INDEXER_CIFACE_ARGS);
#endif
}
