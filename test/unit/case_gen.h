// case_gen.h - random ragged paged batches for the indexer kernel tests, and
// the comparison of a kernel's result with the scalar reference.
//
// Header-only, plain C++17, no GoogleTest: the CPU tests (test/unit) and the
// CUDA tests reuse it. The comparison needs msa_kernels_common
// (msa_reference_block_score).
//
//   msa_test::Case c = msa_test::make_random_case(seed);
//   msa_indexer_tensors_t t = c.tensors();          // out -> c.out
//   ... run a kernel into c.out ...
//   std::string err = msa_test::compare_with_reference(c, c.out);  // "" = ok
//
// What a random case holds (each feature drawn per case):
//   - 0..6 sequences: empty ones, fresh prefills, chunked-prefill steps
//     (prefix > 0, several rows) and decode steps (one row, long prefix);
//   - D in {16, 64, 128, 192} (sometimes small odd D), block size in
//     {16, 64, 128} (sometimes 1..9), H in {1, 2, 4, 8}, 1..3 layers;
//   - physical pages shuffled, spare pages, lookup-table padding entries with
//     num_pages (as MAX writes), 0xFFFFFFFF or random values, sometimes
//     aliased pages (two logical pages on one physical page: exact ties);
//   - topk below and above the block count, init/local combinations, both
//     orders; k_cache_lengths >= prefix_lens, k_max_lengths with slack;
//   - NaN key rows, keys with -inf, and "planted" huge keys: at positions
//     that some rows must not see (just past a row's causal boundary), in
//     unread slots of the last page, other layers and unused pages.
// to_e4m3(c, seed) turns a case's keys into f8E4M3FN keys (k8, k_type) and
// its bf16 keys k into their exact bf16 twins, so that one case runs with
// either key type and must give bit-identical ids.
#ifndef MSA_TEST_CASE_GEN_H
#define MSA_TEST_CASE_GEN_H

#include "msa/msa_kernels.h"
#include "msa/msa_reference.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace msa_test {

// splitmix64: tiny, fully specified, the same on every platform.
class Rng {
public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform integer in [lo, hi].
  int64_t uniform(int64_t lo, int64_t hi) {
    return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1));
  }
  double unit() { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }
  bool chance(double p) { return unit() < p; }
  template <class T> const T &pick(const std::vector<T> &v) {
    return v[(size_t)uniform(0, (int64_t)v.size() - 1)];
  }

private:
  uint64_t s_;
};

inline uint16_t bf16(float f) { return msa_float_to_bf16(f); }

struct Options {
  bool allow_special_values = true; // NaN / -inf keys
  bool allow_planted = true;        // huge keys in places rows must not see
  bool allow_odd_shapes = true;     // odd D, tiny block sizes
  int64_t max_batch = 6;
  int64_t max_keys = 400; // per sequence (prefix + new)
  int64_t max_new = 48;   // rows of a prefill sequence
};

struct Case {
  uint64_t seed = 0;
  msa_indexer_attrs_t attrs{};
  int64_t rows = 0, batch = 0, num_pages = 0, num_layers = 1, page_size = 1,
          max_pages = 0;
  std::vector<uint16_t> q, k;
  // f8E4M3FN keys (same shape as k) when k_type says so; k then holds their
  // exact bf16 twins (to_e4m3).
  int32_t k_type = MSA_KEY_BF16;
  std::vector<uint8_t> k8;
  std::vector<uint32_t> off, prefix, cache, lut, kmax;
  std::vector<int32_t> out;

  int64_t H() const { return attrs.num_index_heads; }
  int64_t D() const { return attrs.idx_head_dim; }

  msa_indexer_tensors_t tensors() {
    msa_indexer_tensors_t t{};
    t.q = q.data();
    t.input_row_offsets = off.data();
    t.prefix_lens = prefix.data();
    t.k_blocks = k_type == MSA_KEY_F8E4M3FN ? (const void *)k8.data()
                                             : (const void *)k.data();
    t.k_type = k_type;
    t.k_cache_lengths = cache.data();
    t.k_lookup_table = lut.data();
    t.k_max_lengths = kmax.data();
    t.out = out.data();
    t.rows = rows;
    t.num_q_heads = attrs.num_index_heads;
    t.q_head_dim = attrs.idx_head_dim;
    t.batch = batch;
    t.num_pages = num_pages;
    t.num_layers = num_layers;
    t.page_size = page_size;
    t.k_head_dim = attrs.idx_head_dim;
    t.max_pages = max_pages;
    return t;
  }

  // Fills out with a poison value that no valid result contains.
  void poison(int32_t value = 0x7B7B7B7B) {
    out.assign((size_t)(H() * rows * attrs.topk), value);
  }

  std::string describe() const {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "seed=%llu batch=%lld rows=%lld H=%d D=%d bs=%d topk=%d "
                  "init=%d local=%d order=%d layer=%d/%lld pages=%lld "
                  "max_pages=%lld scale=%g keys=%s",
                  (unsigned long long)seed, (long long)batch, (long long)rows,
                  attrs.num_index_heads, attrs.idx_head_dim, attrs.block_size,
                  attrs.topk, attrs.init_blocks, attrs.local_blocks,
                  attrs.order, attrs.layer_idx, (long long)num_layers,
                  (long long)num_pages, (long long)max_pages,
                  (double)attrs.scale,
                  k_type == MSA_KEY_F8E4M3FN ? "f8E4M3FN" : "bf16");
    std::string s = buf;
    for (int64_t b = 0; b < batch; ++b) {
      std::snprintf(buf, sizeof buf, " [seq%lld prefix=%u new=%u cache=%u]",
                    (long long)b, prefix[b], off[b + 1] - off[b], cache[b]);
      s += buf;
    }
    return s;
  }
};

// One sequence of `rows` new rows after `prefix` cached keys, one layer,
// pages of page_size keys (num_pages physical, max_pages lookup-table
// columns); lut, q, k and out are the caller's.
inline Case one_sequence(const msa_indexer_attrs_t &a, int64_t rows,
                         int64_t prefix, int64_t num_pages, int64_t max_pages) {
  Case c;
  c.attrs = a;
  c.batch = 1;
  c.rows = rows;
  c.num_layers = 1;
  c.page_size = a.block_size;
  c.num_pages = num_pages;
  c.max_pages = max_pages;
  c.off = {0, (uint32_t)rows};
  c.prefix = {(uint32_t)prefix};
  c.cache = {(uint32_t)prefix};
  c.kmax = {(uint32_t)rows, (uint32_t)(prefix + rows)};
  return c;
}

// Sequence kinds drawn by make_random_case.
enum SeqKind { kEmpty, kPrefill, kChunked, kDecode };

inline Case make_random_case(uint64_t seed, const Options &opt = Options()) {
  Rng r(seed);
  Case c;
  c.seed = seed;
  msa_indexer_attrs_t &a = c.attrs;
  a.num_index_heads = (int32_t)r.pick(std::vector<int64_t>{1, 2, 4, 8});
  a.idx_head_dim = (int32_t)r.pick(std::vector<int64_t>{16, 64, 128, 192});
  a.block_size = (int32_t)r.pick(std::vector<int64_t>{16, 64, 128});
  if (opt.allow_odd_shapes && r.chance(0.15))
    a.idx_head_dim = (int32_t)r.pick(std::vector<int64_t>{1, 2, 3, 5, 17, 33, 47});
  if (opt.allow_odd_shapes && r.chance(0.15))
    a.block_size = (int32_t)r.uniform(1, 9);
  a.layer_idx = 0;
  c.num_layers = r.uniform(1, 3);
  a.layer_idx = (int32_t)r.uniform(0, c.num_layers - 1);
  a.scale = (float)(1.0 / std::sqrt((double)a.idx_head_dim));
  if (r.chance(0.1))
    a.scale = r.chance(0.5) ? 1.0f : 0.37f;
  a.order = r.chance(0.5) ? MSA_ORDER_SCORE : MSA_ORDER_BLOCK;
  c.page_size = a.block_size;
  const int64_t H = a.num_index_heads, D = a.idx_head_dim,
                bs = a.block_size;

  // ---- sequences ----
  c.batch = r.uniform(opt.max_batch > 0 ? 1 : 0, opt.max_batch);
  if (r.chance(0.03))
    c.batch = 0;
  std::vector<int64_t> nnew(c.batch), npre(c.batch);
  const int64_t key_cap = std::max<int64_t>(
      1, std::min<int64_t>(opt.max_keys, bs * 48)); // keeps cases fast
  for (int64_t b = 0; b < c.batch; ++b) {
    const int kind = (int)r.uniform(0, 9);
    SeqKind k = kind < 1 ? kEmpty
                : kind < 4 ? kPrefill
                : kind < 7 ? kChunked
                           : kDecode;
    switch (k) {
    case kEmpty:
      nnew[b] = 0;
      npre[b] = r.uniform(0, key_cap / 2);
      break;
    case kPrefill:
      npre[b] = 0;
      nnew[b] = r.uniform(1, std::min(opt.max_new, key_cap));
      break;
    case kChunked:
      nnew[b] = r.uniform(2, std::max<int64_t>(2, std::min(opt.max_new, key_cap / 2)));
      npre[b] = r.uniform(1, std::max<int64_t>(1, key_cap - nnew[b]));
      break;
    case kDecode:
      nnew[b] = 1;
      npre[b] = r.uniform(1, key_cap - 1);
      break;
    }
  }
  c.off.assign((size_t)c.batch + 1, 0);
  for (int64_t b = 0; b < c.batch; ++b)
    c.off[b + 1] = c.off[b] + (uint32_t)nnew[b];
  c.rows = c.off[c.batch];
  c.prefix.resize(c.batch);
  c.cache.resize(c.batch);
  int64_t max_new = 0, max_total = 0, max_need = 0;
  std::vector<int64_t> need(c.batch);
  for (int64_t b = 0; b < c.batch; ++b) {
    c.prefix[b] = (uint32_t)npre[b];
    c.cache[b] = (uint32_t)(npre[b] + (r.chance(0.2) ? r.uniform(0, 5) : 0));
    max_new = std::max(max_new, nnew[b]);
    max_total = std::max<int64_t>(max_total, c.cache[b] + nnew[b]);
    // Pages the sequence owns: those its keys (prefix + new) need; empty
    // sequences own their prefix pages too (never read).
    need[b] = (npre[b] + nnew[b] + bs - 1) / bs;
    max_need = std::max(max_need, need[b]);
  }
  c.kmax = {(uint32_t)(max_new + (r.chance(0.5) ? r.uniform(0, 4) : 0)),
            (uint32_t)(max_total + (r.chance(0.5) ? r.uniform(0, 40) : 0))};
  c.max_pages = max_need + (r.chance(0.5) ? r.uniform(0, 3) : 0);

  // ---- pages: shuffled physical ids, spares, padding, aliasing ----
  const int64_t total_need =
      std::accumulate(need.begin(), need.end(), int64_t(0));
  const int64_t spare = r.uniform(0, 3);
  c.num_pages = total_need + spare;
  std::vector<uint32_t> perm((size_t)c.num_pages);
  std::iota(perm.begin(), perm.end(), 0u);
  for (int64_t i = c.num_pages - 1; i > 0; --i)
    std::swap(perm[(size_t)i], perm[(size_t)r.uniform(0, i)]);
  c.lut.assign((size_t)(c.batch * c.max_pages), 0);
  const bool alias = r.chance(0.2);
  int64_t next = 0;
  for (int64_t b = 0; b < c.batch; ++b) {
    for (int64_t p = 0; p < c.max_pages; ++p) {
      uint32_t &e = c.lut[(size_t)(b * c.max_pages + p)];
      if (p < need[b]) {
        e = perm[(size_t)next++];
        if (alias && p > 0 && r.chance(0.5))
          e = c.lut[(size_t)(b * c.max_pages + r.uniform(0, p - 1))];
      } else {
        const int pad = (int)r.uniform(0, 2);
        e = pad == 0 ? (uint32_t)c.num_pages
            : pad == 1 ? 0xFFFFFFFFu
                       : (uint32_t)r.next();
      }
    }
  }

  // ---- values ----
  auto val = [&](double amp) {
    float f = (float)((r.unit() * 2.0 - 1.0) * amp);
    if (std::fabs(f) < 1e-6f)
      f = 0.0f; // no subnormals: vdpbf16ps flushes them
    return bf16(f);
  };
  c.q.resize((size_t)(c.rows * H * D));
  for (auto &v : c.q)
    v = val(2.0);
  const int64_t page_elems = c.num_layers * bs * D;
  c.k.resize((size_t)(c.num_pages * page_elems));
  const uint16_t kNaN = 0x7FC0, kNegInf = 0xFF80;
  const uint16_t kHuge = bf16(900.0f), kNegHuge = bf16(-900.0f);
  // Planted: every element of unused storage is huge or NaN, so a kernel that
  // reads the wrong layer/page/slot or a masked key shows up as a wrong pick.
  for (auto &v : c.k)
    v = opt.allow_planted ? (r.chance(0.5) ? kHuge : (r.chance(0.5) ? kNaN : kNegHuge))
                          : val(2.0);
  const bool special = opt.allow_special_values && r.chance(0.4);
  const bool planted = opt.allow_planted && r.chance(0.7);
  for (int64_t b = 0; b < c.batch; ++b) {
    const int64_t keys = npre[b] + nnew[b];
    for (int64_t p = 0; p < keys; ++p) {
      const int64_t page = c.lut[(size_t)(b * c.max_pages + p / bs)];
      uint16_t *kr =
          &c.k[(size_t)(((page * c.num_layers + a.layer_idx) * bs + p % bs) * D)];
      // An aliased page is written by its first owner only.
      bool first_owner = true;
      for (int64_t pp = 0; pp < p / bs; ++pp)
        if ((int64_t)c.lut[(size_t)(b * c.max_pages + pp)] == page)
          first_owner = false;
      if (!first_owner)
        continue;
      for (int64_t d = 0; d < D; ++d)
        kr[d] = val(2.0);
      if (special && r.chance(0.05)) {
        for (int64_t d = 0; d < D; ++d)
          kr[d] = kNaN; // a NaN key: skipped
      } else if (special && r.chance(0.05)) {
        kr[r.uniform(0, D - 1)] = kNegInf; // dot is +-inf or NaN
      } else if (special && r.chance(0.02)) {
        for (int64_t d = 0; d < D; ++d)
          kr[d] = kNegInf;
      }
      // Just past the causal boundary of row p - prefix - 1: a huge key that
      // that row (and every earlier one) must not see.
      if (planted && p > npre[b] && r.chance(0.3))
        for (int64_t d = 0; d < D; ++d)
          kr[d] = r.chance(0.5) ? kHuge : kNegHuge;
    }
  }

  // ---- selection attributes ----
  int64_t max_nblk = 1;
  for (int64_t b = 0; b < c.batch; ++b)
    max_nblk = std::max(max_nblk, (npre[b] + nnew[b] + bs - 1) / bs);
  a.topk = (int32_t)(r.chance(0.5) ? r.uniform(1, std::max<int64_t>(1, max_nblk - 1))
                                   : r.uniform(max_nblk, max_nblk + 5));
  if (r.chance(0.3))
    a.topk = 16;
  a.init_blocks = (int32_t)r.uniform(0, std::min<int64_t>(a.topk, 3));
  a.local_blocks = (int32_t)r.uniform(0, std::min<int64_t>(a.topk - a.init_blocks, 3));
  c.poison();
  return c;
}

// Decode-step batches (every sequence 1..max_new new rows after a long
// prefix), for the decode kernels: large batches and long contexts at a
// cost linear in the keys. Shuffled physical pages with padding entries,
// sometimes aliased pages (exact ties), NaN / -inf keys, planted huge keys
// just past each row's causal boundary (the next new token) and in unread
// slots and other layers; some empty sequences.
struct DecodeOptions {
  int64_t batch = 4;
  int64_t max_new = 4;              // new rows per sequence: 1..max_new
  int64_t min_keys = 1, max_keys = 8192;  // prefix + new per sequence
  int32_t heads = 0, dim = 0, block_size = 0;  // 0: drawn
  int64_t num_layers = 0;           // 0: drawn (1..3)
  bool fixed_new = false;           // every sequence exactly max_new rows
  int32_t topk = 0;                 // 0: drawn (16 or 1..blocks + 3)
  std::vector<int64_t> new_rows;    // non-empty: each sequence's new rows
                                    // (batch and max_new unused)
};

inline Case make_decode_case(uint64_t seed, const DecodeOptions &o) {
  Rng r(seed);
  Case c;
  c.seed = seed;
  msa_indexer_attrs_t &a = c.attrs;
  a.num_index_heads = o.heads ? o.heads : (int32_t)r.pick(std::vector<int64_t>{1, 2, 4, 8});
  a.idx_head_dim = o.dim ? o.dim : (int32_t)r.pick(std::vector<int64_t>{64, 128});
  a.block_size = o.block_size ? o.block_size
                              : (int32_t)r.pick(std::vector<int64_t>{16, 32, 64, 128, 256});
  c.num_layers = o.num_layers ? o.num_layers : r.uniform(1, 3);
  a.layer_idx = (int32_t)r.uniform(0, c.num_layers - 1);
  a.scale = (float)(1.0 / std::sqrt((double)a.idx_head_dim));
  a.order = r.chance(0.5) ? MSA_ORDER_SCORE : MSA_ORDER_BLOCK;
  c.page_size = a.block_size;
  const int64_t H = a.num_index_heads, D = a.idx_head_dim, bs = a.block_size;
  const bool given = !o.new_rows.empty();
  c.batch = given ? (int64_t)o.new_rows.size() : o.batch;
  std::vector<int64_t> nnew(c.batch), npre(c.batch), need(c.batch);
  c.off.assign((size_t)c.batch + 1, 0);
  c.prefix.resize(c.batch);
  c.cache.resize(c.batch);
  int64_t max_new = 0, max_total = 0, max_need = 0;
  for (int64_t b = 0; b < c.batch; ++b) {
    if (given) {
      nnew[b] = o.new_rows[(size_t)b];
    } else {
      const bool empty = !o.fixed_new && c.batch > 1 && r.chance(0.05);
      nnew[b] = empty ? 0 : o.fixed_new ? o.max_new : r.uniform(1, o.max_new);
    }
    const int64_t keys = r.uniform(std::max(o.min_keys, nnew[b] + 1),
                                   std::max(o.max_keys, nnew[b] + 1));
    npre[b] = keys - nnew[b];
    c.off[b + 1] = c.off[b] + (uint32_t)nnew[b];
    c.prefix[b] = (uint32_t)npre[b];
    c.cache[b] = (uint32_t)npre[b];
    need[b] = (keys + bs - 1) / bs;
    max_new = std::max(max_new, nnew[b]);
    max_total = std::max(max_total, keys);
    max_need = std::max(max_need, need[b]);
  }
  c.rows = c.off[c.batch];
  c.kmax = {(uint32_t)max_new, (uint32_t)max_total};
  c.max_pages = max_need + r.uniform(0, 2);
  const int64_t total_need = std::accumulate(need.begin(), need.end(), int64_t(0));
  c.num_pages = total_need + r.uniform(0, 2);
  std::vector<uint32_t> perm((size_t)c.num_pages);
  std::iota(perm.begin(), perm.end(), 0u);
  for (int64_t i = c.num_pages - 1; i > 0; --i)
    std::swap(perm[(size_t)i], perm[(size_t)r.uniform(0, i)]);
  c.lut.assign((size_t)(c.batch * c.max_pages), 0);
  std::vector<char> aliased((size_t)(c.batch * c.max_pages), 0);
  const bool alias = r.chance(0.3);
  int64_t next = 0;
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t pg = 0; pg < c.max_pages; ++pg) {
      uint32_t &e = c.lut[(size_t)(b * c.max_pages + pg)];
      if (pg < need[b]) {
        e = perm[(size_t)next++];
        // an earlier full page again: equal block scores, ties to the smaller id
        if (alias && pg > 0 && pg + 1 < need[b] && r.chance(0.1)) {
          e = c.lut[(size_t)(b * c.max_pages + r.uniform(0, pg - 1))];
          aliased[(size_t)(b * c.max_pages + pg)] = 1;
        }
      } else {
        const int pad = (int)r.uniform(0, 2);
        e = pad == 0 ? (uint32_t)c.num_pages : pad == 1 ? 0xFFFFFFFFu : (uint32_t)r.next();
      }
    }
  auto val = [&]() {
    float f = (float)((r.unit() * 2.0 - 1.0) * 2.0);
    if (std::fabs(f) < 1e-6f) f = 0.0f;
    return bf16(f);
  };
  c.q.resize((size_t)(c.rows * H * D));
  for (auto &v : c.q) v = val();
  const int64_t page_elems = c.num_layers * bs * D;
  c.k.resize((size_t)(c.num_pages * page_elems));
  const uint16_t kNaN = 0x7FC0, kNegInf = 0xFF80;
  const uint16_t kHuge = bf16(900.0f), kNegHuge = bf16(-900.0f);
  for (auto &v : c.k) v = r.chance(0.5) ? kHuge : (r.chance(0.5) ? kNaN : kNegHuge);
  const bool special = r.chance(0.5);
  for (int64_t b = 0; b < c.batch; ++b) {
    const int64_t keys = npre[b] + nnew[b];
    for (int64_t pos = 0; pos < keys; ++pos) {
      if (aliased[(size_t)(b * c.max_pages + pos / bs)]) continue;  // first owner wrote it
      const int64_t page = c.lut[(size_t)(b * c.max_pages + pos / bs)];
      uint16_t *kr = &c.k[(size_t)(((page * c.num_layers + a.layer_idx) * bs + pos % bs) * D)];
      for (int64_t d = 0; d < D; ++d) kr[d] = val();
      if (special && r.chance(0.01)) {
        for (int64_t d = 0; d < D; ++d) kr[d] = kNaN;
      } else if (special && r.chance(0.01)) {
        kr[r.uniform(0, D - 1)] = kNegInf;
      }
      // new token i + 1: a huge key rows 0..i must not see
      if (pos > npre[b] && r.chance(0.5))
        for (int64_t d = 0; d < D; ++d) kr[d] = r.chance(0.5) ? kHuge : kNegHuge;
    }
  }
  const int64_t max_nblk = std::max<int64_t>(1, (max_total + bs - 1) / bs);
  a.topk = r.chance(0.6) ? 16 : (int32_t)r.uniform(1, max_nblk + 3);  // drawn either way
  if (o.topk > 0) a.topk = o.topk;
  a.init_blocks = (int32_t)r.uniform(0, std::min<int64_t>(a.topk, 2));
  a.local_blocks = (int32_t)r.uniform(0, std::min<int64_t>(a.topk - a.init_blocks, 2));
  c.poison();
  return c;
}

// ---- f8E4M3FN keys ---------------------------------------------------------

// The value of an e4m3 byte, decoded here from its fields (independently of
// the library): s.eeee.mmm, bias 7, e = 0 subnormal, s.1111.111 NaN.
inline double e4m3_value(uint8_t b) {
  const int e = (b >> 3) & 0xF, m = b & 7;
  if (e == 0xF && m == 7)
    return std::numeric_limits<double>::quiet_NaN();
  const double mag = e == 0 ? std::ldexp((double)m, -9)
                            : std::ldexp(8.0 + m, e - 10);
  return (b & 0x80) ? -mag : mag;
}
inline bool e4m3_is_nan(uint8_t b) { return (b & 0x7F) == 0x7F; }

// The e4m3 byte nearest to v (ties to even), saturating at +-448.
inline uint8_t e4m3_nearest(double v) {
  const uint8_t sign = std::signbit(v) ? 0x80 : 0x00;
  const double a = std::fabs(v);
  int mag;
  if (a >= 448.0) {
    mag = 0x7E;
  } else if (a < std::ldexp(1.0, -6)) {
    mag = (int)std::nearbyint(std::ldexp(a, 9)); // m * 2^-9; 8 is 2^-6
  } else {
    int e2 = 0;
    const double fr = std::frexp(a, &e2); // a = fr * 2^e2, fr in [0.5, 1)
    const int e = e2 - 1;                 // a = (1 + m/8) * 2^e
    const int m = (int)std::nearbyint((fr * 2.0 - 1.0) * 8.0);
    mag = ((e + 7) << 3) + m; // m == 8 carries into the exponent
    if (mag > 0x7E)
      mag = 0x7E;
  }
  return (uint8_t)(sign | mag);
}

// How to_e4m3 draws the bytes.
enum E4M3Keys {
  kE4M3Rounded,   // the case's values rounded (NaN, -inf, planted kept)
  kE4M3Tiny,      // the values * 2^-7 rounded: mostly subnormals and zeros
  kE4M3AnyByte,   // every byte uniform over all 254 non-NaN bytes
  kE4M3Mixed,     // per element one of the above
};

// Turns c's keys into f8E4M3FN (k8, k_type) and k into their exact bf16
// twins. The case's NaN elements become NaN bytes (0x7F or 0xFF), -inf
// becomes a NaN byte or -448, the planted huge keys +-448 (the largest
// e4m3 magnitude). q is untouched.
inline void to_e4m3(Case &c, uint64_t seed, E4M3Keys how = kE4M3Mixed) {
  Rng r(seed ^ 0xE4E3);
  c.k8.resize(c.k.size());
  for (size_t e = 0; e < c.k.size(); ++e) {
    const float v = msa_bf16_to_float(c.k[e]);
    E4M3Keys h = how;
    if (h == kE4M3Mixed)
      h = (E4M3Keys)r.uniform(0, 2);
    uint8_t b;
    if (std::isnan(v))
      b = r.chance(0.5) ? 0x7F : 0xFF;
    else if (std::isinf(v))
      b = v < 0 && r.chance(0.5) ? 0xFF : e4m3_nearest(v);
    else if (std::fabs(v) >= 800.0f) // planted
      b = e4m3_nearest(v);
    else if (h == kE4M3Tiny)
      b = e4m3_nearest(std::ldexp((double)v, -7));
    else if (h == kE4M3AnyByte)
      do
        b = (uint8_t)r.uniform(0, 255);
      while (e4m3_is_nan(b));
    else
      b = e4m3_nearest(v);
    c.k8[e] = b;
    c.k[e] = msa_float_to_bf16((float)e4m3_value(b));
  }
  c.k_type = MSA_KEY_F8E4M3FN;
}

// The contract's forced blocks of a row with nblk blocks: init first, then local,
// each ascending; a block that is both is local.
inline std::vector<int64_t> forced_blocks(const msa_indexer_attrs_t &a,
                                          int64_t nblk) {
  std::vector<int64_t> f;
  const int64_t local_from = nblk - a.local_blocks;
  for (int64_t j = 0; j < nblk && j < a.init_blocks; ++j)
    if (j < local_from)
      f.push_back(j);
  for (int64_t j = std::max<int64_t>(local_from, 0); j < nblk; ++j)
    f.push_back(j);
  return f;
}

// Checks `got` ([H, rows, topk]) against the contract (docs/CONTRACT.md) using reference scores.
// Exact: forced blocks (and their positions for order=score), -1 padding,
// ids in range and unique, the number of selected ids, ascending order for
// order=block, and the tie rule where reference scores are exactly equal.
// Up to float32 rounding: which unforced blocks are chosen and (order=score)
// their order: a pick may differ from the reference only where the two
// reference scores differ by less than the rounding bound of a float32
// accumulation, tol = bound * (D + 4) * 2^-23 per block (bound = |scale| *
// sum |q_d k_d| of the block's best keys). Returns "" or the first problem.
inline std::string compare_with_reference(Case &c,
                                          const std::vector<int32_t> &got) {
  msa_indexer_tensors_t t = c.tensors();
  const msa_indexer_attrs_t &a = c.attrs;
  const int64_t H = a.num_index_heads, topk = a.topk, D = a.idx_head_dim;
  char buf[512];
  if ((int64_t)got.size() != H * c.rows * topk)
    return "result has the wrong size";
  const double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> score, tol;
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t row = 0; row < c.rows; ++row) {
      const int32_t *g = &got[(size_t)((h * c.rows + row) * topk)];
      const int64_t n = msa_reference_row_keys(&t, row);
      const int64_t nblk = (n + a.block_size - 1) / a.block_size;
      auto fail = [&](const char *what) {
        std::string s = "h=" + std::to_string(h) + " row=" +
                        std::to_string(row) + " nblk=" + std::to_string(nblk) +
                        ": " + what + "; got [";
        for (int64_t i = 0; i < topk; ++i)
          s += std::to_string(g[i]) + (i + 1 < topk ? " " : "]");
        return s;
      };
      score.assign((size_t)nblk, 0.0);
      tol.assign((size_t)nblk, 0.0);
      for (int64_t j = 0; j < nblk; ++j) {
        double bound = 0.0;
        score[(size_t)j] = msa_reference_block_score(&t, &a, h, row, j, &bound);
        tol[(size_t)j] =
            std::isfinite(score[(size_t)j])
                ? bound * (double)(D + 4) * std::ldexp(1.0, -23) +
                      std::fabs(score[(size_t)j]) * std::ldexp(1.0, -22)
                : 0.0;
      }
      const std::vector<int64_t> forced = forced_blocks(a, nblk);
      std::vector<char> is_forced((size_t)nblk, 0), chosen((size_t)nblk, 0);
      for (int64_t j : forced)
        is_forced[(size_t)j] = 1;
      int64_t eligible = 0;
      for (int64_t j = 0; j < nblk; ++j)
        if (!is_forced[(size_t)j] && score[(size_t)j] > ninf)
          ++eligible;
      const int64_t expect =
          std::min<int64_t>(topk, (int64_t)forced.size() + eligible);
      int64_t cnt = 0;
      while (cnt < topk && g[cnt] != -1)
        ++cnt;
      for (int64_t i = cnt; i < topk; ++i)
        if (g[i] != -1)
          return fail("an entry after the first -1 is not -1 (padding)");
      if (cnt != expect) {
        std::snprintf(buf, sizeof buf, "%lld ids selected, expected %lld",
                      (long long)cnt, (long long)expect);
        return fail(buf);
      }
      for (int64_t i = 0; i < cnt; ++i) {
        if (g[i] < 0 || g[i] >= nblk)
          return fail("id out of range [0, nblk)");
        if (chosen[(size_t)g[i]])
          return fail("duplicate id");
        chosen[(size_t)g[i]] = 1;
        if (!is_forced[(size_t)g[i]] && !(score[(size_t)g[i]] > ninf))
          return fail("a block whose score is -inf/NaN was selected");
      }
      for (int64_t j : forced)
        if (!chosen[(size_t)j])
          return fail("a forced block is missing");
      // Whether blocks u and s reach their (equal) scores with bit-identical
      // key vectors: then every back end computes the same value for both,
      // and the tie must go to the smaller id. Different vectors whose exact
      // dots happen to be equal can round apart in f32: a tie within
      // rounding, either order is right.
      std::vector<std::vector<const uint16_t *>> best_rows((size_t)nblk);
      std::vector<char> best_known((size_t)nblk, 0);
      auto best_rows_of = [&](int64_t j) -> const std::vector<const uint16_t *> & {
        // the key rows (bf16 twins) reaching score[j], found once per block
        if (!best_known[(size_t)j]) {
          best_known[(size_t)j] = 1;
          const int64_t b = msa_reference_row_sequence(&t, row);
          const int64_t ps = c.page_size, bs = a.block_size;
          const uint16_t *qr = &c.q[(size_t)((row * H + h) * D)];
          for (int64_t p = j * bs; p < std::min<int64_t>((j + 1) * bs, n); ++p) {
            const int64_t page = c.lut[(size_t)(b * c.max_pages + p / ps)];
            const uint16_t *kr =
                &c.k[(size_t)(((page * c.num_layers + a.layer_idx) * ps + p % ps) * D)];
            double dot = 0.0;  // the reference's sum, in its order
            for (int64_t d = 0; d < D; ++d)
              dot += (double)msa_bf16_to_float(qr[d]) * (double)msa_bf16_to_float(kr[d]);
            if ((double)a.scale * dot == score[(size_t)j])
              best_rows[(size_t)j].push_back(kr);
          }
        }
        return best_rows[(size_t)j];
      };
      auto same_best_key = [&](int64_t u, int64_t s) {
        for (const uint16_t *x : best_rows_of(u))
          for (const uint16_t *y : best_rows_of(s))
            if (x == y || std::memcmp(x, y, (size_t)D * sizeof(uint16_t)) == 0)
              return true;
        return false;
      };
      // u is clearly better than s: higher beyond rounding, or an exact tie
      // on the same key vector that the smaller id wins.
      auto better = [&](int64_t u, int64_t s) {
        const double su = score[(size_t)u], ss = score[(size_t)s];
        if (su == ss)
          return u < s && same_best_key(u, s);
        return su > ss + tol[(size_t)u] + tol[(size_t)s];
      };
      if (a.order == MSA_ORDER_SCORE) {
        for (size_t i = 0; i < forced.size(); ++i)
          if (g[i] != forced[i])
            return fail("forced blocks not first / not in init-then-local "
                        "ascending order");
        // every pair, not only neighbours: with ties within rounding, a
        // binding tie can lie between non-adjacent ids
        for (int64_t i = (int64_t)forced.size(); i < cnt; ++i)
          for (int64_t j = i + 1; j < cnt; ++j)
            if (better(g[j], g[i]))
              return fail("unforced ids not in descending score order");
      } else {
        for (int64_t i = 1; i < cnt; ++i)
          if (g[i] <= g[i - 1])
            return fail("order=block ids not ascending");
      }
      for (int64_t s = 0; s < cnt; ++s) {
        if (is_forced[(size_t)g[s]])
          continue;
        for (int64_t u = 0; u < nblk; ++u)
          if (!chosen[(size_t)u] && !is_forced[(size_t)u] &&
              score[(size_t)u] > ninf && better(u, g[s])) {
            std::snprintf(buf, sizeof buf,
                          "block %lld (ref score %.9g) was left out but beats "
                          "selected block %d (ref score %.9g)",
                          (long long)u, score[(size_t)u], g[s],
                          score[(size_t)g[s]]);
            return fail(buf);
          }
      }
    }
  }
  return "";
}

// Sequence b of c as a batch of its own (same k_blocks, same page ids): for
// batch invariance. Maps result rows: sub row i == c row off[b] + i.
inline Case extract_sequence(const Case &c, int64_t b) {
  Case s = c;
  s.batch = 1;
  const int64_t r0 = c.off[b], r1 = c.off[b + 1];
  s.rows = r1 - r0;
  s.off = {0, (uint32_t)s.rows};
  s.prefix = {c.prefix[b]};
  s.cache = {c.cache[b]};
  s.lut.assign(c.lut.begin() + b * c.max_pages,
               c.lut.begin() + (b + 1) * c.max_pages);
  const int64_t HD = c.H() * c.D();
  s.q.assign(c.q.begin() + r0 * HD, c.q.begin() + r1 * HD);
  s.poison();
  return s;
}

// Dense row-major memref descriptors over a case's buffers, and a call of
// the CPU _mlir_ciface_ entry with them (tests edit strides and offsets).
template <class M, class T>
M memref(T *data, std::initializer_list<int64_t> sizes) {
  M m{};
  m.allocated = data;
  m.aligned = data;
  m.offset = 0;
  const int n = (int)sizes.size();
  int i = 0;
  for (int64_t s : sizes)
    m.sizes[i++] = s;
  int64_t st = 1;
  for (int d = n - 1; d >= 0; --d) {
    m.strides[d] = st;
    st *= m.sizes[d];
  }
  return m;
}

struct Descs {
  msa_memref_bf16_3d_t q;
  msa_memref_u32_1d_t off, pre, cache;
  msa_memref_bf16_6d_t k;
  msa_memref_f8_6d_t k8; // the f8E4M3FN keys, for call_ciface_cpu_f8
  msa_memref_u32_2d_t lut, kmax;
  msa_memref_i32_3d_t out;
};

inline Descs descs(Case &c) {
  Descs d;
  d.q = memref<msa_memref_bf16_3d_t>(c.q.data(), {c.rows, c.H(), c.D()});
  d.off = memref<msa_memref_u32_1d_t>(c.off.data(), {c.batch + 1});
  d.pre = memref<msa_memref_u32_1d_t>(c.prefix.data(), {c.batch});
  d.cache = memref<msa_memref_u32_1d_t>(c.cache.data(), {c.batch});
  d.k = memref<msa_memref_bf16_6d_t>(
      c.k.data(), {c.num_pages, 1, c.num_layers, c.page_size, 1, c.D()});
  d.k8 = memref<msa_memref_f8_6d_t>(
      c.k8.data(), {c.num_pages, 1, c.num_layers, c.page_size, 1, c.D()});
  d.lut = memref<msa_memref_u32_2d_t>(c.lut.data(), {c.batch, c.max_pages});
  d.kmax = memref<msa_memref_u32_2d_t>(c.kmax.data(), {1, 2});
  d.out = memref<msa_memref_i32_3d_t>(c.out.data(),
                                      {c.H(), c.rows, c.attrs.topk});
  return d;
}

// Declared here, defined by libmsa_kernels_cpu: only tests that link it may
// call this.
inline int32_t call_ciface_cpu(Descs &d, const msa_indexer_attrs_t &a) {
  return _mlir_ciface_msa_indexer_ragged_paged_cpu(
      &d.q, &d.off, &d.pre, &d.k, &d.cache, &d.lut, &d.kmax, &d.out,
      a.num_index_heads, a.idx_head_dim, a.block_size, a.topk, a.init_blocks,
      a.local_blocks, a.layer_idx, a.scale, a.order);
}
inline int32_t call_ciface_cpu_f8(Descs &d, const msa_indexer_attrs_t &a) {
  return _mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(
      &d.q, &d.off, &d.pre, &d.k8, &d.cache, &d.lut, &d.kmax, &d.out,
      a.num_index_heads, a.idx_head_dim, a.block_size, a.topk, a.init_blocks,
      a.local_blocks, a.layer_idx, a.scale, a.order);
}
// The entry of the case's key type.
inline int32_t call_ciface_cpu_keys(Descs &d, const Case &c) {
  return c.k_type == MSA_KEY_F8E4M3FN ? call_ciface_cpu_f8(d, c.attrs)
                                      : call_ciface_cpu(d, c.attrs);
}

} // namespace msa_test

#endif // MSA_TEST_CASE_GEN_H
