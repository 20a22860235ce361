// msa_memref.cpp - the memref adapter (msa/msa_memref.h): descriptor checks,
// the shapes the descriptors carry, packing. Shared by every _mlir_ciface_
// entry (CPU and CUDA).
#include "msa/msa_memref.h"

#include <cstdio>
#include <cstring>

namespace {

typedef long long ll;

// a + b and a * b for a, b >= 0; false on int64 overflow.
bool add_ok(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_add_overflow(a, b, r);
}
bool mul_ok(int64_t a, int64_t b, int64_t *r) {
  return !__builtin_mul_overflow(a, b, r);
}

// "[a, b, c]" into buf.
void format_dims(const int64_t *v, int n, char *buf, size_t cap) {
  size_t used = 0;
  used += (size_t)std::snprintf(buf, cap, "[");
  for (int i = 0; i < n && used < cap; ++i)
    used += (size_t)std::snprintf(buf + used, cap - used, i ? ", %lld" : "%lld",
                                  (ll)v[i]);
  if (used < cap)
    std::snprintf(buf + used, cap - used, "]");
}

msa_status_t bad(const char *name, const char *what, const int64_t *v, int n,
                 int64_t offset) {
  char dims[200];
  format_dims(v, n, dims, sizeof dims);
  return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT, "%s: %s (%s, offset %lld)",
                            name, what, dims, (ll)offset);
}

// Checks one descriptor (layout of mlir::StridedMemRefType<T, N>) into v.
template <class M>
msa_status_t read_view(const M *m, int n, int64_t elem, const char *name,
                       msa_memref_view_t *v) {
  std::memset(v, 0, sizeof *v);
  v->name = name;
  v->elem_bytes = elem;
  v->rank = n;
  if (!m)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "%s: memref descriptor is NULL", name);
  for (int i = 0; i < n; ++i) {
    v->sizes[i] = m->sizes[i];
    v->strides[i] = m->strides[i];
  }
  for (int i = 0; i < n; ++i) {
    if (m->sizes[i] < 0)
      return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                                "%s: dim %d has negative size %lld", name, i,
                                (ll)m->sizes[i]);
    if (m->strides[i] < 0)
      return msa_set_last_error(
          MSA_STATUS_INVALID_ARGUMENT,
          "%s: dim %d has negative stride %lld (not supported)", name, i,
          (ll)m->strides[i]);
  }
  if (m->offset < 0)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "%s: negative offset %lld", name, (ll)m->offset);
  int64_t count = 1;
  for (int i = 0; i < n; ++i)
    if (!mul_ok(count, m->sizes[i], &count))
      return bad(name, "the element count overflows; sizes", m->sizes, n,
                 m->offset);
  int64_t count_bytes = 0;
  if (!mul_ok(count, elem, &count_bytes)) // stride-0 (broadcast) dims
    return bad(name, "the element count overflows; sizes", m->sizes, n,
               m->offset);
  v->count = count;
  // Expected row-major strides (dims of size 1 may have any stride).
  int64_t expect = 1;
  v->contiguous = 1;
  for (int i = n - 1; i >= 0; --i) {
    if (m->sizes[i] != 1 && m->strides[i] != expect)
      v->contiguous = 0;
    expect *= m->sizes[i]; // <= count: no overflow
  }
  if (count == 0)
    return MSA_STATUS_OK; // nothing is ever read or written
  // Index of the last element, then bytes from the allocation's aligned
  // pointer to one past it; both must fit in int64 and the address space.
  int64_t last = m->offset;
  for (int i = 0; i < n; ++i) {
    int64_t step = 0;
    if (!mul_ok(m->sizes[i] - 1, m->strides[i], &step) ||
        !add_ok(last, step, &last))
      return bad(name, "the byte extent overflows; strides", m->strides, n,
                 m->offset);
  }
  int64_t end_bytes = 0;
  if (!add_ok(last, 1, &end_bytes) || !mul_ok(end_bytes, elem, &end_bytes))
    return bad(name, "the byte extent overflows; strides", m->strides, n,
               m->offset);
  if (!m->aligned)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "%s: data pointer is NULL", name);
  const uintptr_t base = reinterpret_cast<uintptr_t>(m->aligned);
  if ((uintptr_t)end_bytes > UINTPTR_MAX - base)
    return bad(name, "the byte extent wraps the address space; strides",
               m->strides, n, m->offset);
  v->data = reinterpret_cast<unsigned char *>(m->aligned) +
            (size_t)m->offset * (size_t)elem;
  v->extent_bytes = end_bytes - m->offset * elem;
  return MSA_STATUS_OK;
}

// The shapes that only the descriptors carry.
msa_status_t check_shapes(const msa_indexer_memrefs_t &m,
                          const msa_indexer_attrs_t &a) {
  const msa_memref_view_t &q = m.operand[MSA_OPERAND_Q],
                          &off = m.operand[MSA_OPERAND_INPUT_ROW_OFFSETS],
                          &pre = m.operand[MSA_OPERAND_PREFIX_LENS],
                          &k = m.operand[MSA_OPERAND_K_BLOCKS],
                          &cache = m.operand[MSA_OPERAND_K_CACHE_LENGTHS],
                          &lut = m.operand[MSA_OPERAND_K_LOOKUP_TABLE],
                          &kmax = m.operand[MSA_OPERAND_K_MAX_LENGTHS],
                          &out = m.operand[MSA_OPERAND_OUT];
  const int64_t batch = off.sizes[0] - 1;
  if (batch < 0)
    return msa_set_last_error(
        MSA_STATUS_INVALID_ARGUMENT,
        "input_row_offsets: has 0 elements; expected batch + 1 >= 1");
  if (pre.sizes[0] != batch)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "prefix_lens: has %lld elements; expected batch "
                              "= %lld (input_row_offsets has batch + 1)",
                              (ll)pre.sizes[0], (ll)batch);
  if (cache.sizes[0] != batch)
    return msa_set_last_error(
        MSA_STATUS_INVALID_ARGUMENT,
        "k_cache_lengths: has %lld elements; expected batch = %lld",
        (ll)cache.sizes[0], (ll)batch);
  if (lut.sizes[0] != batch)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_lookup_table: dim 0 = %lld; expected batch = "
                              "%lld",
                              (ll)lut.sizes[0], (ll)batch);
  if (k.sizes[1] != 1 || k.sizes[4] != 1)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_blocks: dims 1 and 4 must be 1; got %lld and "
                              "%lld",
                              (ll)k.sizes[1], (ll)k.sizes[4]);
  if (kmax.sizes[0] != 1 || kmax.sizes[1] != 2)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_max_lengths: is [%lld, %lld]; expected [1, 2]",
                              (ll)kmax.sizes[0], (ll)kmax.sizes[1]);
  if (out.sizes[0] != a.num_index_heads || out.sizes[1] != q.sizes[0] ||
      out.sizes[2] != a.topk)
    return msa_set_last_error(
        MSA_STATUS_INVALID_ARGUMENT,
        "result: is [%lld, %lld, %lld]; expected [num_index_heads = %d, rows "
        "= %lld, topk = %d]",
        (ll)out.sizes[0], (ll)out.sizes[1], (ll)out.sizes[2],
        a.num_index_heads, (ll)q.sizes[0], a.topk);
  return MSA_STATUS_OK;
}

// Visits the elements of a view in row-major order: f(byte offset of the
// element from data, dense index).
template <class F> void for_each_element(const msa_memref_view_t &v, F f) {
  if (v.count == 0)
    return;
  int64_t idx[MSA_MEMREF_MAX_RANK] = {0};
  int64_t off = 0; // elements from data
  for (int64_t e = 0; e < v.count; ++e) {
    f(off * v.elem_bytes, e);
    for (int i = v.rank - 1; i >= 0; --i) {
      if (++idx[i] < v.sizes[i]) {
        off += v.strides[i];
        break;
      }
      off -= (v.sizes[i] - 1) * v.strides[i];
      idx[i] = 0;
    }
  }
}

} // namespace

extern "C" {

msa_status_t msa_indexer_memrefs_read(msa_indexer_memrefs_t *m,
                                      msa_indexer_attrs_t *a,
                                      int32_t k_type,
                                      MSA_INDEXER_CIFACE_PARAMS_K(const void)) {
  a->num_index_heads = num_index_heads;
  a->idx_head_dim = idx_head_dim;
  a->block_size = block_size;
  a->topk = topk;
  a->init_blocks = init_blocks;
  a->local_blocks = local_blocks;
  a->layer_idx = layer_idx;
  a->scale = scale;
  a->order = order;
  msa_indexer_memrefs_t &v = *m;
  msa_memref_view_t *op = v.operand;
  v.k_type = k_type;
  msa_status_t st = read_view(out, 3, 4, "result", &op[MSA_OPERAND_OUT]);
  v.out_sound = st == MSA_STATUS_OK;
  if (st == MSA_STATUS_OK)
    st = read_view(q, 3, 2, "q", &op[MSA_OPERAND_Q]);
  if (st == MSA_STATUS_OK)
    st = read_view(input_row_offsets, 1, 4, "input_row_offsets",
                   &op[MSA_OPERAND_INPUT_ROW_OFFSETS]);
  if (st == MSA_STATUS_OK)
    st = read_view(prefix_lens, 1, 4, "prefix_lens",
                   &op[MSA_OPERAND_PREFIX_LENS]);
  if (st == MSA_STATUS_OK) {
    msa_memref_view_t *kv = &op[MSA_OPERAND_K_BLOCKS];
    if (k_type == MSA_KEY_BF16)
      st = read_view(static_cast<const msa_memref_bf16_6d_t *>(k_blocks), 6, 2,
                     "k_blocks", kv);
    else if (k_type == MSA_KEY_F8E4M3FN)
      st = read_view(static_cast<const msa_memref_f8_6d_t *>(k_blocks), 6, 1,
                     "k_blocks", kv);
    else
      st = msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "k_blocks: unknown key type %d", (int)k_type);
  }
  if (st == MSA_STATUS_OK)
    st = read_view(k_cache_lengths, 1, 4, "k_cache_lengths",
                   &op[MSA_OPERAND_K_CACHE_LENGTHS]);
  if (st == MSA_STATUS_OK)
    st = read_view(k_lookup_table, 2, 4, "k_lookup_table",
                   &op[MSA_OPERAND_K_LOOKUP_TABLE]);
  if (st == MSA_STATUS_OK)
    st = read_view(k_max_lengths, 2, 4, "k_max_lengths",
                   &op[MSA_OPERAND_K_MAX_LENGTHS]);
  if (st == MSA_STATUS_OK)
    st = check_shapes(v, *a);
  return st;
}

void msa_indexer_memrefs_tensors(const msa_indexer_memrefs_t *m,
                                 void *const data[MSA_NUM_OPERANDS],
                                 msa_indexer_tensors_t *t) {
  const msa_memref_view_t *op = m->operand;
  std::memset(t, 0, sizeof *t);
  t->q = static_cast<const uint16_t *>(data[MSA_OPERAND_Q]);
  t->input_row_offsets =
      static_cast<const uint32_t *>(data[MSA_OPERAND_INPUT_ROW_OFFSETS]);
  t->prefix_lens = static_cast<const uint32_t *>(data[MSA_OPERAND_PREFIX_LENS]);
  t->k_blocks = data[MSA_OPERAND_K_BLOCKS];
  t->k_type = m->k_type;
  t->k_cache_lengths =
      static_cast<const uint32_t *>(data[MSA_OPERAND_K_CACHE_LENGTHS]);
  t->k_lookup_table =
      static_cast<const uint32_t *>(data[MSA_OPERAND_K_LOOKUP_TABLE]);
  t->k_max_lengths =
      static_cast<const uint32_t *>(data[MSA_OPERAND_K_MAX_LENGTHS]);
  t->out = static_cast<int32_t *>(data[MSA_OPERAND_OUT]);
  t->rows = op[MSA_OPERAND_Q].sizes[0];
  t->num_q_heads = op[MSA_OPERAND_Q].sizes[1];
  t->q_head_dim = op[MSA_OPERAND_Q].sizes[2];
  t->batch = op[MSA_OPERAND_INPUT_ROW_OFFSETS].sizes[0] - 1;
  t->num_pages = op[MSA_OPERAND_K_BLOCKS].sizes[0];
  t->num_layers = op[MSA_OPERAND_K_BLOCKS].sizes[2];
  t->page_size = op[MSA_OPERAND_K_BLOCKS].sizes[3];
  t->k_head_dim = op[MSA_OPERAND_K_BLOCKS].sizes[5];
  t->max_pages = op[MSA_OPERAND_K_LOOKUP_TABLE].sizes[1];
}

void msa_memref_pack(const msa_memref_view_t *v, void *dst) {
  unsigned char *d = static_cast<unsigned char *>(dst);
  if (v->contiguous) {
    if (v->count > 0)
      std::memcpy(d, v->data, (size_t)(v->count * v->elem_bytes));
    return;
  }
  const size_t es = (size_t)v->elem_bytes;
  for_each_element(*v, [&](int64_t src, int64_t e) {
    std::memcpy(d + (size_t)e * es, v->data + src, es);
  });
}

void msa_memref_unpack(const msa_memref_view_t *v, const void *src) {
  const unsigned char *s = static_cast<const unsigned char *>(src);
  if (v->contiguous) {
    if (v->count > 0)
      std::memcpy(v->data, s, (size_t)(v->count * v->elem_bytes));
    return;
  }
  const size_t es = (size_t)v->elem_bytes;
  for_each_element(*v, [&](int64_t dst, int64_t e) {
    std::memcpy(v->data + dst, s + (size_t)e * es, es);
  });
}

void msa_memref_fill_i32(const msa_memref_view_t *v, int32_t value) {
  if (v->elem_bytes != 4)
    return;
  for_each_element(*v, [&](int64_t dst, int64_t) {
    std::memcpy(v->data + dst, &value, sizeof value);
  });
}

} // extern "C"
