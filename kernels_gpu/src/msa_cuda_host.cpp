// msa_cuda_host.cpp - host entries of libmsa_kernels_cuda: the workspace
// query, the stream-ordered launch, the status read-back and the synchronous
// MLIR entries (_cuda: host or device memrefs, staged as needed; _auto: CUDA
// when a device is present, else the CPU).
#include "msa/msa_checks.h"
#include "msa/msa_kernels.h"
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
#include <vector>

using msa_cuda::Header;

namespace {

typedef long long ll;

// The static rules (attributes, shapes, NULL pointers) through the shared
// validator, with the metadata replaced by an empty host batch: same
// messages as the CPU back end. Device pointers are only compared to NULL.
msa_status_t check_static(const msa_indexer_tensors_t *t,
                          const msa_indexer_attrs_t *a) {
  if (!t)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT, "tensors is NULL");
  if (!a)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT, "attrs is NULL");
  if (t->batch < 0)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "batch = %lld must be >= 0", (ll)t->batch);
  if (t->batch > 0 && (!t->input_row_offsets || !t->prefix_lens ||
                       !t->k_cache_lengths || !t->k_max_lengths))
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "a metadata pointer is NULL");
  static const uint32_t zero_off[1] = {0};
  static const uint32_t zero_kmax[2] = {0, 0};
  msa_indexer_tensors_t s = *t;
  s.batch = 0;
  s.input_row_offsets = zero_off;
  s.k_max_lengths = zero_kmax;
  s.prefix_lens = nullptr;
  s.k_cache_lengths = nullptr;
  s.k_lookup_table = nullptr;
  s.max_pages = 0;
  const int64_t rows = s.rows;
  if (rows >= 0) s.rows = 0;  // keep the shape checks, skip the metadata
  msa_status_t st = msa_indexer_validate(&s, a);
  if (st == MSA_STATUS_INVALID_ARGUMENT) return st;
  // q/out NULL checks with the real row count
  if (rows > 0 && (!t->q || !t->out))
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "q or out (result) is NULL");
  if (t->batch > 0 && t->max_pages > 0 && !t->k_lookup_table)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_lookup_table is NULL");
  if (t->max_pages < 0)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_lookup_table dim 1 (max_pages) = %lld must be >= 0",
                              (ll)t->max_pages);
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
  if (!attrs || rows < 0 || batch < 0 || attrs->block_size < 1 ||
      attrs->num_index_heads < 1)
    return 0;
  int64_t nblk = ((int64_t)max_total_keys + attrs->block_size - 1) /
                 attrs->block_size;
  if (nblk < 1) nblk = 1;
  return msa_cuda::make_layout(rows, batch, attrs->num_index_heads, nblk).total;
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
        "holds %lld per row (size it with msa_indexer_cuda_workspace_size)",
        (ll)h.rec.seq, (ll)h.rec.value, (ll)h.rec.aux, (ll)h.rec.limit);
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
  const size_t ws = msa_indexer_cuda_workspace_size(
      tensors->rows, tensors->batch, attrs, max_new_tokens, max_total_keys);
  cudaStream_t s = static_cast<cudaStream_t>(stream);
  void *w = nullptr;
  cudaError_t e = cudaMallocAsync(&w, ws, s);
  if (e != cudaSuccess)
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                              "cudaMallocAsync(%zu): %s", ws,
                              cudaGetErrorString(e));
  st = msa_cuda::launch(tensors, attrs, w, ws, max_new_tokens, s);
  msa_status_t st2 = msa_indexer_cuda_status(w, stream);
  cudaFreeAsync(w, s);
  cudaStreamSynchronize(s);
  return st != MSA_STATUS_OK ? st : st2;
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
// MLIR entries
// ---------------------------------------------------------------------------
namespace {

struct View {
  unsigned char *ptr = nullptr;  // aligned + offset
  bool device = false;
  bool contiguous = true;
  int nd = 0;
  int64_t sizes[6] = {0};
  int64_t strides[6] = {0};
  size_t elem = 0;
  int64_t count = 0;
};

template <typename M>
bool make_view(const M *m, int nd, size_t elem, View &v, const char *name,
               msa_status_t &st) {
  if (!m) {
    st = msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT, "%s is NULL", name);
    return false;
  }
  v.nd = nd;
  v.elem = elem;
  v.count = 1;
  for (int i = 0; i < nd; ++i) {
    v.sizes[i] = m->sizes[i];
    v.strides[i] = m->strides[i];
    if (v.sizes[i] < 0 || v.strides[i] < 0) {
      st = msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "%s has a negative size or stride", name);
      return false;
    }
    v.count *= v.sizes[i];
  }
  int64_t expect = 1;
  for (int i = nd - 1; i >= 0; --i) {
    if (v.sizes[i] != 1 && v.strides[i] != expect) v.contiguous = false;
    expect *= v.sizes[i];
  }
  v.ptr = m->aligned ? reinterpret_cast<unsigned char *>(m->aligned) +
                           (size_t)m->offset * elem
                     : nullptr;
  if (v.ptr && v.count > 0) {
    cudaPointerAttributes at;
    if (cudaPointerGetAttributes(&at, v.ptr) == cudaSuccess)
      v.device = at.type == cudaMemoryTypeDevice ||
                 at.type == cudaMemoryTypeManaged;
    else
      (void)cudaGetLastError();
  }
  return true;
}

// Packs a strided host view into dense row-major dst.
void pack_host(const View &v, unsigned char *dst) {
  if (v.count == 0) return;
  if (v.contiguous) {
    std::memcpy(dst, v.ptr, (size_t)v.count * v.elem);
    return;
  }
  int64_t idx[6] = {0};
  for (int64_t n = 0; n < v.count; ++n) {
    int64_t off = 0;
    for (int i = 0; i < v.nd; ++i) off += idx[i] * v.strides[i];
    std::memcpy(dst + (size_t)n * v.elem, v.ptr + (size_t)off * v.elem, v.elem);
    for (int i = v.nd - 1; i >= 0; --i) {
      if (++idx[i] < v.sizes[i]) break;
      idx[i] = 0;
    }
  }
}
void unpack_host(const View &v, const unsigned char *src) {
  if (v.count == 0) return;
  if (v.contiguous) {
    std::memcpy(v.ptr, src, (size_t)v.count * v.elem);
    return;
  }
  int64_t idx[6] = {0};
  for (int64_t n = 0; n < v.count; ++n) {
    int64_t off = 0;
    for (int i = 0; i < v.nd; ++i) off += idx[i] * v.strides[i];
    std::memcpy(v.ptr + (size_t)off * v.elem, src + (size_t)n * v.elem, v.elem);
    for (int i = v.nd - 1; i >= 0; --i) {
      if (++idx[i] < v.sizes[i]) break;
      idx[i] = 0;
    }
  }
}

struct Views {
  View q, off, prefix, k, cache, lut, kmax, out;
};

msa_status_t make_views(Views &w, msa_memref_bf16_3d_t *q,
                        msa_memref_u32_1d_t *off, msa_memref_u32_1d_t *prefix,
                        msa_memref_bf16_6d_t *k, msa_memref_u32_1d_t *cache,
                        msa_memref_u32_2d_t *lut, msa_memref_u32_2d_t *kmax,
                        msa_memref_i32_3d_t *out) {
  msa_status_t st = MSA_STATUS_OK;
  if (!make_view(q, 3, 2, w.q, "q", st) ||
      !make_view(off, 1, 4, w.off, "input_row_offsets", st) ||
      !make_view(prefix, 1, 4, w.prefix, "prefix_lens", st) ||
      !make_view(k, 6, 2, w.k, "k_blocks", st) ||
      !make_view(cache, 1, 4, w.cache, "k_cache_lengths", st) ||
      !make_view(lut, 2, 4, w.lut, "k_lookup_table", st) ||
      !make_view(kmax, 2, 4, w.kmax, "k_max_lengths", st) ||
      !make_view(out, 3, 4, w.out, "out (result)", st))
    return st;
  return MSA_STATUS_OK;
}

// Shape rules that the memrefs carry beyond msa_indexer_tensors_t.
msa_status_t check_memref_shapes(const Views &w, const msa_indexer_attrs_t &a) {
  const int64_t batch = w.off.sizes[0] - 1;
  if (w.off.sizes[0] < 1)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "input_row_offsets has size 0, expected batch + 1 >= 1");
  if (w.prefix.sizes[0] != batch)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "prefix_lens has size %lld, expected batch = %lld",
                              (ll)w.prefix.sizes[0], (ll)batch);
  if (w.cache.sizes[0] != batch)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_cache_lengths has size %lld, expected batch = %lld",
                              (ll)w.cache.sizes[0], (ll)batch);
  if (w.lut.sizes[0] != batch)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_lookup_table dim 0 = %lld, expected batch = %lld",
                              (ll)w.lut.sizes[0], (ll)batch);
  if (w.kmax.sizes[0] != 1 || w.kmax.sizes[1] != 2)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_max_lengths is [%lld, %lld], expected [1, 2]",
                              (ll)w.kmax.sizes[0], (ll)w.kmax.sizes[1]);
  if (w.k.sizes[1] != 1 || w.k.sizes[4] != 1)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_blocks dims 1 and 4 are %lld and %lld, expected 1",
                              (ll)w.k.sizes[1], (ll)w.k.sizes[4]);
  if (w.out.sizes[0] != a.num_index_heads || w.out.sizes[1] != w.q.sizes[0] ||
      w.out.sizes[2] != a.topk)
    return msa_set_last_error(
        MSA_STATUS_INVALID_ARGUMENT,
        "result is [%lld, %lld, %lld], expected [num_index_heads = %d, rows = "
        "%lld, topk = %d]",
        (ll)w.out.sizes[0], (ll)w.out.sizes[1], (ll)w.out.sizes[2],
        a.num_index_heads, (ll)w.q.sizes[0], a.topk);
  return MSA_STATUS_OK;
}

msa_indexer_tensors_t tensors_of(const Views &w) {
  msa_indexer_tensors_t t;
  std::memset(&t, 0, sizeof t);
  t.rows = w.q.sizes[0];
  t.num_q_heads = w.q.sizes[1];
  t.q_head_dim = w.q.sizes[2];
  t.batch = w.off.sizes[0] - 1;
  t.num_pages = w.k.sizes[0];
  t.num_layers = w.k.sizes[2];
  t.page_size = w.k.sizes[3];
  t.k_head_dim = w.k.sizes[5];
  t.max_pages = w.lut.sizes[1];
  return t;
}

msa_indexer_attrs_t attrs_of(int32_t H, int32_t D, int32_t bs, int32_t topk,
                             int32_t init, int32_t local, int32_t layer,
                             float scale, int32_t order) {
  msa_indexer_attrs_t a;
  a.num_index_heads = H;
  a.idx_head_dim = D;
  a.block_size = bs;
  a.topk = topk;
  a.init_blocks = init;
  a.local_blocks = local;
  a.layer_idx = layer;
  a.scale = scale;
  a.order = order;
  return a;
}

// Device buffers of one call, freed on every path.
struct DevAllocs {
  std::vector<void *> ptrs;
  ~DevAllocs() {
    for (void *p : ptrs) cudaFree(p);
  }
  void *alloc(size_t n, cudaError_t &e) {
    void *p = nullptr;
    e = cudaMalloc(&p, n ? n : 16);
    if (e == cudaSuccess) ptrs.push_back(p);
    return p;
  }
};

// Host copy (dense) of a view, from host or device memory.
msa_status_t host_copy(const View &v, std::vector<unsigned char> &dst,
                       const char *name) {
  dst.assign((size_t)v.count * v.elem + 16, 0);
  if (v.count == 0) return MSA_STATUS_OK;
  if (!v.device) {
    pack_host(v, dst.data());
    return MSA_STATUS_OK;
  }
  if (!v.contiguous)
    return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                              "%s: strided device memrefs are not supported "
                              "(pass a contiguous buffer)", name);
  cudaError_t e = cudaMemcpy(dst.data(), v.ptr, (size_t)v.count * v.elem,
                             cudaMemcpyDeviceToHost);
  if (e != cudaSuccess)
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR, "%s: copy to host: %s",
                              name, cudaGetErrorString(e));
  return MSA_STATUS_OK;
}

// Device pointer (dense) for a view: the view itself when it is contiguous
// device memory, else a staged copy of `host` (already packed).
msa_status_t device_ptr(const View &v, const std::vector<unsigned char> *host,
                        DevAllocs &da, const void *&dptr, const char *name) {
  if (v.device) {
    if (!v.contiguous)
      return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                                "%s: strided device memrefs are not supported "
                                "(pass a contiguous buffer)", name);
    dptr = v.ptr;
    return MSA_STATUS_OK;
  }
  cudaError_t e;
  const size_t n = (size_t)v.count * v.elem;
  void *p = da.alloc(n, e);
  if (!p)
    return msa_set_last_error(MSA_STATUS_CUDA_ERROR, "%s: cudaMalloc(%zu): %s",
                              name, n, cudaGetErrorString(e));
  if (n) {
    std::vector<unsigned char> tmp;
    const unsigned char *src;
    if (host) {
      src = host->data();
    } else {
      tmp.resize(n);
      pack_host(v, tmp.data());
      src = tmp.data();
    }
    e = cudaMemcpy(p, src, n, cudaMemcpyHostToDevice);
    if (e != cudaSuccess)
      return msa_set_last_error(MSA_STATUS_CUDA_ERROR, "%s: copy to device: %s",
                                name, cudaGetErrorString(e));
  }
  dptr = p;
  return MSA_STATUS_OK;
}

void fill_out_invalid(const View &out) {
  if (!out.ptr || out.count == 0) return;
  if (out.device) {
    if (out.contiguous) {
      cudaMemset(out.ptr, 0xff, (size_t)out.count * 4);
      cudaDeviceSynchronize();
    }
    return;
  }
  std::vector<unsigned char> m1((size_t)out.count * 4, 0xff);
  unpack_host(out, m1.data());
}

int32_t report(const char *backend, msa_status_t st) {
  std::fprintf(stderr, "msa.indexer_ragged_paged (%s): %s\n", backend,
               msa_last_error());
  return (int32_t)st;
}

int32_t run_cuda(Views &w, const msa_indexer_attrs_t &a) {
  msa_status_t st = check_memref_shapes(w, a);
  if (st != MSA_STATUS_OK) {
    fill_out_invalid(w.out);
    return report("cuda", st);
  }
  msa_indexer_tensors_t t = tensors_of(w);
  // Metadata: host copies (validation with the CPU's messages, sizing).
  std::vector<unsigned char> h_off, h_prefix, h_cache, h_lut, h_kmax;
  if ((st = host_copy(w.off, h_off, "input_row_offsets")) != MSA_STATUS_OK ||
      (st = host_copy(w.prefix, h_prefix, "prefix_lens")) != MSA_STATUS_OK ||
      (st = host_copy(w.cache, h_cache, "k_cache_lengths")) != MSA_STATUS_OK ||
      (st = host_copy(w.lut, h_lut, "k_lookup_table")) != MSA_STATUS_OK ||
      (st = host_copy(w.kmax, h_kmax, "k_max_lengths")) != MSA_STATUS_OK) {
    fill_out_invalid(w.out);
    return report("cuda", st);
  }
  msa_indexer_tensors_t th = t;
  th.input_row_offsets = reinterpret_cast<const uint32_t *>(h_off.data());
  th.prefix_lens = reinterpret_cast<const uint32_t *>(h_prefix.data());
  th.k_cache_lengths = reinterpret_cast<const uint32_t *>(h_cache.data());
  th.k_lookup_table = reinterpret_cast<const uint32_t *>(h_lut.data());
  th.k_max_lengths = reinterpret_cast<const uint32_t *>(h_kmax.data());
  // q, k, out pointers only for the NULL checks of the validator
  th.q = reinterpret_cast<const uint16_t *>(w.q.ptr);
  th.k_blocks = reinterpret_cast<const uint16_t *>(w.k.ptr);
  th.out = reinterpret_cast<int32_t *>(w.out.ptr);
  if ((st = msa_indexer_validate(&th, &a)) != MSA_STATUS_OK) {
    fill_out_invalid(w.out);
    return report("cuda", st);
  }
  uint32_t max_new = 0, max_keys = 0;
  for (int64_t b = 0; b < t.batch; ++b) {
    const uint32_t nw = th.input_row_offsets[b + 1] - th.input_row_offsets[b];
    max_new = std::max(max_new, nw);
    if (nw > 0) max_keys = std::max(max_keys, th.prefix_lens[b] + nw);
  }
  DevAllocs da;
  const void *d_q = nullptr, *d_k = nullptr, *d_off = nullptr,
             *d_prefix = nullptr, *d_cache = nullptr, *d_lut = nullptr,
             *d_kmax = nullptr, *d_out = nullptr;
  if ((st = device_ptr(w.q, nullptr, da, d_q, "q")) != MSA_STATUS_OK ||
      (st = device_ptr(w.k, nullptr, da, d_k, "k_blocks")) != MSA_STATUS_OK ||
      (st = device_ptr(w.off, &h_off, da, d_off, "input_row_offsets")) != MSA_STATUS_OK ||
      (st = device_ptr(w.prefix, &h_prefix, da, d_prefix, "prefix_lens")) != MSA_STATUS_OK ||
      (st = device_ptr(w.cache, &h_cache, da, d_cache, "k_cache_lengths")) != MSA_STATUS_OK ||
      (st = device_ptr(w.lut, &h_lut, da, d_lut, "k_lookup_table")) != MSA_STATUS_OK ||
      (st = device_ptr(w.kmax, &h_kmax, da, d_kmax, "k_max_lengths")) != MSA_STATUS_OK) {
    fill_out_invalid(w.out);
    return report("cuda", st);
  }
  if (w.out.device) {
    if (!w.out.contiguous) {
      st = msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                              "out: strided device memrefs are not supported "
                              "(pass a contiguous buffer)");
      return report("cuda", st);
    }
    d_out = w.out.ptr;
  } else {
    cudaError_t e;
    d_out = da.alloc((size_t)w.out.count * 4, e);
    if (!d_out) {
      st = msa_set_last_error(MSA_STATUS_CUDA_ERROR, "out: cudaMalloc: %s",
                              cudaGetErrorString(e));
      fill_out_invalid(w.out);
      return report("cuda", st);
    }
  }
  t.q = static_cast<const uint16_t *>(d_q);
  t.k_blocks = static_cast<const uint16_t *>(d_k);
  t.input_row_offsets = static_cast<const uint32_t *>(d_off);
  t.prefix_lens = static_cast<const uint32_t *>(d_prefix);
  t.k_cache_lengths = static_cast<const uint32_t *>(d_cache);
  t.k_lookup_table = static_cast<const uint32_t *>(d_lut);
  t.k_max_lengths = static_cast<const uint32_t *>(d_kmax);
  t.out = static_cast<int32_t *>(const_cast<void *>(d_out));
  const size_t ws_bytes = msa_indexer_cuda_workspace_size(t.rows, t.batch, &a,
                                                          max_new, max_keys);
  cudaError_t e;
  void *ws = da.alloc(ws_bytes, e);
  if (!ws) {
    st = msa_set_last_error(MSA_STATUS_CUDA_ERROR, "workspace cudaMalloc(%zu): %s",
                            ws_bytes, cudaGetErrorString(e));
    fill_out_invalid(w.out);
    return report("cuda", st);
  }
  st = msa_indexer_cuda_ex(&t, &a, ws, ws_bytes, max_new, nullptr);
  if (st == MSA_STATUS_OK) st = msa_indexer_cuda_status(ws, nullptr);
  if (st != MSA_STATUS_OK) {
    fill_out_invalid(w.out);
    return report("cuda", st);
  }
  if (!w.out.device && w.out.count > 0) {
    std::vector<unsigned char> h((size_t)w.out.count * 4);
    e = cudaMemcpy(h.data(), d_out, h.size(), cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) {
      st = msa_set_last_error(MSA_STATUS_CUDA_ERROR, "out: copy to host: %s",
                              cudaGetErrorString(e));
      fill_out_invalid(w.out);
      return report("cuda", st);
    }
    unpack_host(w.out, h.data());
  }
  return MSA_STATUS_OK;
}

#if !defined(MSA_HAVE_CPU_KERNEL)
// CPU fallback without the Highway kernel: the scalar reference over packed
// host copies.
int32_t run_reference(Views &w, const msa_indexer_attrs_t &a) {
  msa_status_t st = check_memref_shapes(w, a);
  if (st != MSA_STATUS_OK) {
    fill_out_invalid(w.out);
    return report("cpu", st);
  }
  msa_indexer_tensors_t t = tensors_of(w);
  std::vector<unsigned char> h_q, h_k, h_off, h_prefix, h_cache, h_lut, h_kmax;
  const View *vs[7] = {&w.q, &w.k, &w.off, &w.prefix, &w.cache, &w.lut, &w.kmax};
  std::vector<unsigned char> *hs[7] = {&h_q, &h_k, &h_off, &h_prefix,
                                       &h_cache, &h_lut, &h_kmax};
  for (int i = 0; i < 7; ++i)
    if ((st = host_copy(*vs[i], *hs[i], "operand")) != MSA_STATUS_OK) {
      fill_out_invalid(w.out);
      return report("cpu", st);
    }
  std::vector<int32_t> out((size_t)w.out.count + 1);
  t.q = reinterpret_cast<const uint16_t *>(h_q.data());
  t.k_blocks = reinterpret_cast<const uint16_t *>(h_k.data());
  t.input_row_offsets = reinterpret_cast<const uint32_t *>(h_off.data());
  t.prefix_lens = reinterpret_cast<const uint32_t *>(h_prefix.data());
  t.k_cache_lengths = reinterpret_cast<const uint32_t *>(h_cache.data());
  t.k_lookup_table = reinterpret_cast<const uint32_t *>(h_lut.data());
  t.k_max_lengths = reinterpret_cast<const uint32_t *>(h_kmax.data());
  t.out = out.data();
  st = msa_indexer_reference(&t, &a);
  if (st != MSA_STATUS_OK) {
    fill_out_invalid(w.out);
    return report("cpu", st);
  }
  unpack_host(w.out, reinterpret_cast<const unsigned char *>(out.data()));
  return MSA_STATUS_OK;
}
#endif

} // namespace

extern "C" int32_t _mlir_ciface_msa_indexer_ragged_paged_cuda(
    msa_memref_bf16_3d_t *q, msa_memref_u32_1d_t *input_row_offsets,
    msa_memref_u32_1d_t *prefix_lens, msa_memref_bf16_6d_t *k_blocks,
    msa_memref_u32_1d_t *k_cache_lengths, msa_memref_u32_2d_t *k_lookup_table,
    msa_memref_u32_2d_t *k_max_lengths, msa_memref_i32_3d_t *out,
    int32_t num_index_heads, int32_t idx_head_dim, int32_t block_size,
    int32_t topk, int32_t init_blocks, int32_t local_blocks, int32_t layer_idx,
    float scale, int32_t order) {
  const msa_indexer_attrs_t a =
      attrs_of(num_index_heads, idx_head_dim, block_size, topk, init_blocks,
               local_blocks, layer_idx, scale, order);
  Views w;
  msa_status_t st = make_views(w, q, input_row_offsets, prefix_lens, k_blocks,
                               k_cache_lengths, k_lookup_table, k_max_lengths,
                               out);
  if (st != MSA_STATUS_OK) return report("cuda", st);
  if (!msa_cuda_available()) {
    fill_out_invalid(w.out);
    return report("cuda", msa_set_last_error(MSA_STATUS_NO_DEVICE,
                                             "no usable CUDA device"));
  }
  return run_cuda(w, a);
}

extern "C" int32_t _mlir_ciface_msa_indexer_ragged_paged_auto(
    msa_memref_bf16_3d_t *q, msa_memref_u32_1d_t *input_row_offsets,
    msa_memref_u32_1d_t *prefix_lens, msa_memref_bf16_6d_t *k_blocks,
    msa_memref_u32_1d_t *k_cache_lengths, msa_memref_u32_2d_t *k_lookup_table,
    msa_memref_u32_2d_t *k_max_lengths, msa_memref_i32_3d_t *out,
    int32_t num_index_heads, int32_t idx_head_dim, int32_t block_size,
    int32_t topk, int32_t init_blocks, int32_t local_blocks, int32_t layer_idx,
    float scale, int32_t order) {
  if (msa_cuda_available())
    return _mlir_ciface_msa_indexer_ragged_paged_cuda(
        q, input_row_offsets, prefix_lens, k_blocks, k_cache_lengths,
        k_lookup_table, k_max_lengths, out, num_index_heads, idx_head_dim,
        block_size, topk, init_blocks, local_blocks, layer_idx, scale, order);
#if defined(MSA_HAVE_CPU_KERNEL)
  return _mlir_ciface_msa_indexer_ragged_paged_cpu(
      q, input_row_offsets, prefix_lens, k_blocks, k_cache_lengths,
      k_lookup_table, k_max_lengths, out, num_index_heads, idx_head_dim,
      block_size, topk, init_blocks, local_blocks, layer_idx, scale, order);
#else
  const msa_indexer_attrs_t a =
      attrs_of(num_index_heads, idx_head_dim, block_size, topk, init_blocks,
               local_blocks, layer_idx, scale, order);
  Views w;
  msa_status_t st = make_views(w, q, input_row_offsets, prefix_lens, k_blocks,
                               k_cache_lengths, k_lookup_table, k_max_lengths,
                               out);
  if (st != MSA_STATUS_OK) return report("cpu", st);
  return run_reference(w, a);
#endif
}
