// libFuzzer target over the CPU kernel's C ABI: arbitrary shapes, attributes
// and metadata (offsets, prefix/cache lengths, lookup table, max lengths)
// and key/query values. Buffers are allocated exactly at the sizes the
// shapes declare, so AddressSanitizer catches any read or write outside
// them. Checks, for every input:
//   - msa_indexer_cpu and the reference agree on the status;
//   - on an error the result is all -1 and there is a message;
//   - on success the result passes compare_with_reference (contract rules,
//     scores up to float32 rounding) and is the same through the
//     _mlir_ciface_ entry with contiguous descriptors;
//   - through the _mlir_ciface_ entry with random strides (padding between
//     elements and rows) and offsets, each operand in a buffer of exactly
//     its extent: the same status and result as msa_indexer_cpu, nothing
//     written between out's elements, -1 in out's elements on an error;
//   - with one descriptor broken (a stride of 2^62 or another huge one on a
//     dim of size >= 2, an offset near INT64_MAX, a negative value): an
//     INVALID_ARGUMENT status naming that operand, nothing read or written
//     outside the buffers (AddressSanitizer).
// Keys are bf16 or f8E4M3FN (any byte, NaN bytes included, through the
// _f8e4m3fn entries); f8 keys must also give the ids of their exact bf16
// twins, bit for bit.
#include "case_gen.h"
#include "msa/msa_kernels.h"
#include "msa/msa_reference.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Reader {
  const uint8_t *p;
  size_t n;
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v = (v << 8) | byte();
    return v;
  }
  uint8_t byte() {
    if (n == 0)
      return 0;
    --n;
    return *p++;
  }
  int64_t small(int64_t lo, int64_t hi) { // [lo, hi]
    return lo + (int64_t)(byte() % (uint64_t)(hi - lo + 1));
  }
  // Mostly small values, sometimes anything.
  uint32_t meta(uint32_t typical) {
    const uint8_t sel = byte();
    if (sel < 200)
      return (uint32_t)(byte() % (typical + 1));
    if (sel < 230)
      return typical + (uint32_t)(byte() % 3);
    return u32();
  }
};

void die(const char *what, const msa_test::Case &c, const std::string &s) {
  std::fprintf(stderr, "FUZZ FAILURE: %s\n  %s\n  %s\n", what,
               c.describe().c_str(), s.c_str());
  std::abort();
}

// An operand laid out with random strides and offset in a buffer of exactly
// its extent (pad values between the elements).
template <class T, int N> struct Strided {
  std::vector<T> buf;
  struct {
    T *allocated, *aligned;
    int64_t offset, sizes[N], strides[N];
  } d;
  int64_t count = 1;

  Strided(const T *dense, const int64_t (&sizes)[N], Reader &r, T pad) {
    // Row-major with 0..2 extra elements after each element of each dim.
    // (Dense when padding would make the buffer more than 4x larger.)
    int64_t stride = 1, dense_stride = 1;
    for (int i = N - 1; i >= 0; --i) {
      d.sizes[i] = sizes[i];
      d.strides[i] = stride + (r.byte() < 128 ? 0 : r.small(0, 2));
      stride = d.strides[i] * std::max<int64_t>(sizes[i], 1);
      dense_stride *= std::max<int64_t>(sizes[i], 1);
      count *= sizes[i];
    }
    if (stride > 4 * dense_stride + 64)
      for (int i = N - 1, st = 1; i >= 0; --i) {
        d.strides[i] = st;
        st *= (int)std::max<int64_t>(sizes[i], 1);
      }
    d.offset = r.small(0, 3);
    int64_t last = d.offset;
    for (int i = 0; i < N; ++i)
      last += (std::max<int64_t>(d.sizes[i], 1) - 1) * d.strides[i];
    buf.assign(count > 0 ? (size_t)last + 1 : 1, pad);
    d.allocated = d.aligned = buf.data();
    for (int64_t e = 0; e < count; ++e)
      buf[(size_t)at(e)] = dense ? dense[e] : pad;
  }
  // Index in buf of dense element e.
  int64_t at(int64_t e) const {
    int64_t idx = d.offset;
    for (int i = N - 1; i >= 0; --i) {
      idx += (e % d.sizes[i]) * d.strides[i];
      e /= d.sizes[i];
    }
    return idx;
  }
  // Breaks the descriptor's extent; true when the entry must reject it.
  bool corrupt(Reader &r) {
    static const int64_t huge[] = {int64_t(1) << 62, (int64_t(3) << 61),
                                   INT64_MAX, INT64_MAX / 2 + 1};
    const int dim = (int)r.small(0, N - 1);
    switch (r.byte() % 4) {
    case 0: // huge stride: harmless on a dim of size <= 1 or with no elements
      d.strides[dim] = huge[r.byte() % 4];
      return count > 0 && d.sizes[dim] >= 2;
    case 1: // offset near INT64_MAX: harmless without elements
      d.offset = INT64_MAX - r.small(0, 3);
      return count > 0;
    case 2:
      d.strides[dim] = -r.small(1, 3);
      return true;
    default:
      d.offset = -r.small(1, 3);
      return true;
    }
  }
};

// The _mlir_ciface_ entry over randomly strided operands: same status and
// result as msa_indexer_cpu (`want_st`, `want`), or, with one descriptor
// broken, INVALID_ARGUMENT naming it. Out is written only in its elements.
void fuzz_strided_ciface(msa_test::Case &c, int64_t qh, int64_t kd, Reader &r,
                         msa_status_t want_st, const std::vector<int32_t> &want) {
  const msa_indexer_attrs_t &a = c.attrs;
  const int64_t H = a.num_index_heads, D = a.idx_head_dim;
  const int64_t ps = c.page_size;
  Strided<uint16_t, 3> q(c.q.data(), {c.rows, qh, D}, r, 0xFFFF);
  Strided<uint32_t, 1> off(c.off.data(), {c.batch + 1}, r, 0xEEEEEEEEu);
  Strided<uint32_t, 1> pre(c.prefix.data(), {c.batch}, r, 0xEEEEEEEEu);
  const bool f8 = c.k_type == MSA_KEY_F8E4M3FN;
  // Only the key type's buffer is given to the entry (the other stays dense).
  Strided<uint16_t, 6> k(c.k.data(), {c.num_pages, 1, c.num_layers, ps, 1, kd},
                         r, 0xFFFF);
  Strided<uint8_t, 6> k8(c.k8.data(), {c.num_pages, 1, c.num_layers, ps, 1, kd},
                         r, 0x7F);
  Strided<uint32_t, 1> cache(c.cache.data(), {c.batch}, r, 0xEEEEEEEEu);
  Strided<uint32_t, 2> lut(c.lut.data(), {c.batch, c.max_pages}, r,
                           0xEEEEEEEEu);
  Strided<uint32_t, 2> kmax(c.kmax.data(), {1, 2}, r, 0xEEEEEEEEu);
  Strided<int32_t, 3> out(nullptr, {H, c.rows, a.topk}, r, 0x7B7B7B7B);
  // Sometimes break one descriptor.
  const char *broken = nullptr;
  bool must_reject = false;
  if (r.byte() < 40) {
    switch (r.byte() % 8) {
    case 0: broken = "q"; must_reject = q.corrupt(r); break;
    case 1: broken = "input_row_offsets"; must_reject = off.corrupt(r); break;
    case 2: broken = "prefix_lens"; must_reject = pre.corrupt(r); break;
    case 3: broken = "k_blocks"; must_reject = f8 ? k8.corrupt(r) : k.corrupt(r); break;
    case 4: broken = "k_cache_lengths"; must_reject = cache.corrupt(r); break;
    case 5: broken = "k_lookup_table"; must_reject = lut.corrupt(r); break;
    case 6: broken = "k_max_lengths"; must_reject = kmax.corrupt(r); break;
    default: broken = "result"; must_reject = out.corrupt(r); break;
    }
  }
  const std::vector<int32_t> before = out.buf;
  const int32_t st =
      f8 ? _mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(
               (msa_memref_bf16_3d_t *)&q.d, (msa_memref_u32_1d_t *)&off.d,
               (msa_memref_u32_1d_t *)&pre.d, (msa_memref_f8_6d_t *)&k8.d,
               (msa_memref_u32_1d_t *)&cache.d, (msa_memref_u32_2d_t *)&lut.d,
               (msa_memref_u32_2d_t *)&kmax.d, (msa_memref_i32_3d_t *)&out.d,
               a.num_index_heads, a.idx_head_dim, a.block_size, a.topk,
               a.init_blocks, a.local_blocks, a.layer_idx, a.scale, a.order)
         : _mlir_ciface_msa_indexer_ragged_paged_cpu(
               (msa_memref_bf16_3d_t *)&q.d, (msa_memref_u32_1d_t *)&off.d,
               (msa_memref_u32_1d_t *)&pre.d, (msa_memref_bf16_6d_t *)&k.d,
               (msa_memref_u32_1d_t *)&cache.d, (msa_memref_u32_2d_t *)&lut.d,
               (msa_memref_u32_2d_t *)&kmax.d, (msa_memref_i32_3d_t *)&out.d,
               a.num_index_heads, a.idx_head_dim, a.block_size, a.topk,
               a.init_blocks, a.local_blocks, a.layer_idx, a.scale, a.order);
  const std::string msg = msa_last_error();
  if (must_reject) {
    if (st != MSA_STATUS_INVALID_ARGUMENT ||
        msg.find(std::string(broken) + ":") != 0)
      die("broken descriptor not rejected with its name", c, msg);
  } else if (st != (int32_t)want_st &&
             !(want_st == MSA_STATUS_INVALID_ARGUMENT &&
               st == MSA_STATUS_INVALID_ARGUMENT)) {
    die("strided _mlir_ciface_ status differs from msa_indexer_cpu", c, msg);
  }
  const bool out_broken = must_reject && std::string(broken) == "result";
  std::vector<bool> element(out.buf.size(), false);
  if (!out_broken)
    for (int64_t e = 0; e < out.count; ++e) {
      const size_t i = (size_t)out.at(e);
      element[i] = true;
      const int32_t expect = st == 0 ? want[(size_t)e] : -1;
      if (out.buf[i] != expect)
        die(st == 0 ? "strided _mlir_ciface_ result differs"
                    : "strided _mlir_ciface_ error result is not all -1",
            c, msg);
    }
  for (size_t i = 0; i < out.buf.size(); ++i)
    if (!element[i] && out.buf[i] != before[i])
      die("strided _mlir_ciface_ wrote outside out's elements", c, msg);
}

// The plain entry's tensors of c with the buffers' own q heads and key dim
// (they may differ from the attributes); empty buffers as NULL.
msa_indexer_tensors_t tensors(msa_test::Case &c, int64_t qh, int64_t kd) {
  msa_indexer_tensors_t t = c.tensors();
  t.num_q_heads = qh;
  t.k_head_dim = kd;
  if (c.q.empty())
    t.q = nullptr;
  if (c.k.empty())
    t.k_blocks = nullptr;
  if (c.lut.empty())
    t.k_lookup_table = nullptr;
  if (c.out.empty())
    t.out = nullptr;
  return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Reader r{data, size};
  msa_test::Case c;
  msa_indexer_attrs_t &a = c.attrs;
  a.num_index_heads = (int32_t)r.small(-1, 9);
  a.idx_head_dim = (int32_t)r.small(-1, 70);
  a.block_size = (int32_t)r.small(-1, 20);
  a.topk = (int32_t)r.small(-1, 20);
  a.init_blocks = (int32_t)r.small(-1, 4);
  a.local_blocks = (int32_t)r.small(-1, 4);
  c.num_layers = r.small(0, 3);
  a.layer_idx = (int32_t)r.small(-1, 3);
  a.order = (int32_t)r.small(-1, 2);
  const uint8_t sc = r.byte();
  a.scale = sc < 240 ? (float)sc / 64.0f - 1.0f : (sc < 248 ? INFINITY : NAN);
  c.batch = r.small(0, 5);
  c.rows = r.small(0, 40);
  c.num_pages = r.small(0, 12);
  c.max_pages = r.small(0, 8);
  // The buffer shapes: page size and the q/k dims usually match the
  // attributes (so the metadata checks get exercised), sometimes not.
  c.page_size = r.byte() < 240 ? a.block_size : r.small(1, 20);
  const int64_t H = a.num_index_heads, D = a.idx_head_dim;
  const int64_t qh = r.byte() < 245 ? H : r.small(1, 9);
  const int64_t kd = r.byte() < 245 ? D : r.small(1, 70);
  if (H < 1 || D < 1 || c.page_size < 1 || qh < 1 || kd < 1 ||
      c.num_layers < 1)
    return 0; // buffer sizes would be meaningless
  c.off.resize((size_t)c.batch + 1);
  c.prefix.resize((size_t)c.batch);
  c.cache.resize((size_t)c.batch);
  // Offsets: a valid ragged split most of the time.
  if (r.byte() < 220) {
    c.off[0] = 0;
    for (int64_t b = 1; b <= c.batch; ++b)
      c.off[b] = (uint32_t)std::min<int64_t>(c.rows, c.off[b - 1] + r.small(0, 12));
    if (c.batch > 0)
      c.off[c.batch] = (uint32_t)c.rows;
    else
      c.rows = 0;
  } else {
    for (auto &v : c.off)
      v = r.meta((uint32_t)c.rows);
  }
  const uint32_t keycap = (uint32_t)(c.max_pages * c.page_size);
  for (int64_t b = 0; b < c.batch; ++b) {
    c.prefix[b] = r.meta(keycap);
    c.cache[b] = r.byte() < 220 ? c.prefix[b] + (uint32_t)r.small(0, 2)
                                : r.meta(keycap);
  }
  c.kmax = {r.byte() < 220 ? (uint32_t)c.rows : r.meta((uint32_t)c.rows),
            r.byte() < 220 ? 0xFFFFFFFFu : r.meta(keycap + 40)};
  c.lut.resize((size_t)(c.batch * c.max_pages));
  for (auto &v : c.lut)
    v = r.meta((uint32_t)std::max<int64_t>(c.num_pages - 1, 0));
  const size_t nq = (size_t)(c.rows * qh * D);
  const size_t nk = (size_t)(c.num_pages * c.num_layers * c.page_size * kd);
  if (nq > (1u << 20) || nk > (1u << 20))
    return 0;
  // Values: a byte each picks a bf16 from a small palette with NaN / inf.
  static const uint16_t palette[16] = {
      0x0000, 0x3F80, 0xBF80, 0x4000, 0xC000, 0x3F00, 0xBF00, 0x4120,
      0xC120, 0x7FC0, 0xFF80, 0x7F80, 0x3E80, 0xBE80, 0x4480, 0xC480};
  c.q.resize(nq);
  for (auto &v : c.q)
    v = palette[r.byte() & 15];
  c.k.resize(nk);
  if (r.byte() < 96) { // f8E4M3FN keys: any byte; k holds their bf16 twins
    c.k_type = MSA_KEY_F8E4M3FN;
    c.k8.resize(nk);
    for (size_t e = 0; e < nk; ++e) {
      c.k8[e] = r.byte();
      c.k[e] = msa_float_to_bf16((float)msa_test::e4m3_value(c.k8[e]));
    }
  } else {
    for (auto &v : c.k)
      v = palette[r.byte() & 15];
  }
  c.out.assign((size_t)std::max<int64_t>(H * c.rows * std::max(a.topk, 0), 0),
               0x7B7B7B7B);

  msa_indexer_tensors_t t = tensors(c, qh, kd);
  const msa_status_t st = msa_indexer_cpu(&t, &a);
  const std::string msg = msa_last_error();
  std::vector<int32_t> ref(c.out.size(), 0x7B7B7B7B);
  t.out = ref.empty() ? nullptr : ref.data();
  const msa_status_t rst = msa_indexer_reference(&t, &a);
  if (st != rst)
    die("kernel and reference disagree on the status", c, msg);
  // Trusted extent (msa_indexer_fill_invalid): filled with -1, else untouched.
  const bool fill_expected = H == qh && a.topk >= 1 && a.init_blocks >= 0 &&
                             a.local_blocks >= 0 &&
                             (int64_t)a.init_blocks + a.local_blocks <= a.topk;
  if (st != MSA_STATUS_OK) {
    if (msg.empty())
      die("error without a message", c, "");
    for (int32_t v : c.out)
      if (v != (fill_expected ? -1 : 0x7B7B7B7B))
        die(fill_expected ? "error result is not all -1"
                          : "error fill wrote an untrusted extent",
            c, msg);
  }
  if (a.topk >= 1)
    fuzz_strided_ciface(c, qh, kd, r, st, c.out);
  if (st != MSA_STATUS_OK)
    return 0;
  const std::string err = msa_test::compare_with_reference(c, c.out);
  if (!err.empty())
    die("result does not match the reference", c, err);
  if (c.k_type == MSA_KEY_F8E4M3FN) { // the bf16 twins: the same ids
    msa_test::Case twin = c;
    twin.k_type = MSA_KEY_BF16;
    twin.out.assign(c.out.size(), 0x7B7B7B7B);
    msa_indexer_tensors_t tt = tensors(twin, qh, kd);
    if (msa_indexer_cpu(&tt, &a) != MSA_STATUS_OK || twin.out != c.out)
      die("f8E4M3FN ids differ from the bf16 twins' ids", c, msa_last_error());
  }
  // The same through the _mlir_ciface_ entry (contiguous descriptors).
  std::vector<int32_t> out2(c.out.size(), 0x7B7B7B7B);
  msa_memref_bf16_3d_t mq = {c.q.data(), c.q.data(), 0, {c.rows, H, D},
                             {H * D, D, 1}};
  msa_memref_u32_1d_t moff = {c.off.data(), c.off.data(), 0, {c.batch + 1}, {1}};
  msa_memref_u32_1d_t mpre = {c.prefix.data(), c.prefix.data(), 0, {c.batch}, {1}};
  msa_memref_u32_1d_t mcache = {c.cache.data(), c.cache.data(), 0, {c.batch}, {1}};
  const int64_t ps = c.page_size;
  msa_memref_bf16_6d_t mk = {c.k.data(), c.k.data(), 0,
                             {c.num_pages, 1, c.num_layers, ps, 1, D},
                             {c.num_layers * ps * D, c.num_layers * ps * D,
                              ps * D, D, D, 1}};
  msa_memref_f8_6d_t mk8 = {c.k8.data(), c.k8.data(), 0,
                            {c.num_pages, 1, c.num_layers, ps, 1, D},
                            {c.num_layers * ps * D, c.num_layers * ps * D,
                             ps * D, D, D, 1}};
  msa_memref_u32_2d_t mlut = {c.lut.data(), c.lut.data(), 0,
                              {c.batch, c.max_pages}, {c.max_pages, 1}};
  msa_memref_u32_2d_t mkmax = {c.kmax.data(), c.kmax.data(), 0, {1, 2}, {2, 1}};
  msa_memref_i32_3d_t mout = {out2.data(), out2.data(), 0,
                              {H, c.rows, a.topk},
                              {c.rows * a.topk, a.topk, 1}};
  const int32_t cst =
      c.k_type == MSA_KEY_F8E4M3FN
          ? _mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(
                &mq, &moff, &mpre, &mk8, &mcache, &mlut, &mkmax, &mout,
                a.num_index_heads, a.idx_head_dim, a.block_size, a.topk,
                a.init_blocks, a.local_blocks, a.layer_idx, a.scale, a.order)
          : _mlir_ciface_msa_indexer_ragged_paged_cpu(
                &mq, &moff, &mpre, &mk, &mcache, &mlut, &mkmax, &mout,
                a.num_index_heads, a.idx_head_dim, a.block_size, a.topk,
                a.init_blocks, a.local_blocks, a.layer_idx, a.scale, a.order);
  if (cst != 0 || out2 != c.out)
    die("_mlir_ciface_ entry differs from msa_indexer_cpu", c, msa_last_error());
  return 0;
}
