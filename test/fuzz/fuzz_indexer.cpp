// libFuzzer target over the CPU kernel's C ABI: arbitrary shapes, attributes
// and metadata (offsets, prefix/cache lengths, lookup table, max lengths)
// and key/query values. Buffers are allocated exactly at the sizes the
// shapes declare, so AddressSanitizer catches any read or write outside
// them. Checks, for every input:
//   - msa_indexer_cpu and the reference agree on the status;
//   - on an error the result is all -1 and there is a message;
//   - on success the result passes compare_with_reference (SPEC rules,
//     scores up to float32 rounding) and is the same through the
//     _mlir_ciface_ entry.
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
  for (auto &v : c.k)
    v = palette[r.byte() & 15];
  c.out.assign((size_t)std::max<int64_t>(H * c.rows * std::max(a.topk, 0), 0),
               0x7B7B7B7B);

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
  const msa_status_t st = msa_indexer_cpu(&t, &a);
  const std::string msg = msa_last_error();
  std::vector<int32_t> ref(c.out.size(), 0x7B7B7B7B);
  t.out = ref.empty() ? nullptr : ref.data();
  const msa_status_t rst = msa_indexer_reference(&t, &a);
  if (st != rst)
    die("kernel and reference disagree on the status", c, msg);
  if (st != MSA_STATUS_OK) {
    if (msg.empty())
      die("error without a message", c, "");
    for (int32_t v : c.out)
      if (v != -1 && a.topk >= 1)
        die("error result is not all -1", c, msg);
    return 0;
  }
  const std::string err = msa_test::compare_with_reference(c, c.out);
  if (!err.empty())
    die("result does not match the reference", c, err);
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
  msa_memref_u32_2d_t mlut = {c.lut.data(), c.lut.data(), 0,
                              {c.batch, c.max_pages}, {c.max_pages, 1}};
  msa_memref_u32_2d_t mkmax = {c.kmax.data(), c.kmax.data(), 0, {1, 2}, {2, 1}};
  msa_memref_i32_3d_t mout = {out2.data(), out2.data(), 0,
                              {H, c.rows, a.topk},
                              {c.rows * a.topk, a.topk, 1}};
  const int32_t cst = _mlir_ciface_msa_indexer_ragged_paged_cpu(
      &mq, &moff, &mpre, &mk, &mcache, &mlut, &mkmax, &mout, a.num_index_heads,
      a.idx_head_dim, a.block_size, a.topk, a.init_blocks, a.local_blocks,
      a.layer_idx, a.scale, a.order);
  if (cst != 0 || out2 != c.out)
    die("_mlir_ciface_ entry differs from msa_indexer_cpu", c, msa_last_error());
  return 0;
}
