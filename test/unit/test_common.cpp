// Tests of msa_kernels_common: msa_indexer_validate (every rule, with its
// message), the message formatter, and the scalar reference on small cases
// worked out by hand. These run without Highway (MSA_ENABLE_CPU_SIMD=OFF).
#include "case_gen.h"
#include "msa/msa_checks.h"
#include "msa/msa_kernels.h"
#include "msa/msa_memref.h"
#include "msa/msa_reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace {

using msa_test::bf16;

// A valid two-sequence batch to break one rule at a time:
// H=2, D=4, bs=4, seq0: prefill 3 rows; seq1: decode, prefix 6.
msa_test::Case small_case() {
  msa_test::Case c;
  c.attrs = {2, 4, 4, 4, 0, 1, 0, 0.5f, MSA_ORDER_SCORE};
  c.batch = 2;
  c.rows = 4;
  c.num_layers = 2;
  c.page_size = 4;
  c.num_pages = 5;
  c.max_pages = 3;
  c.off = {0, 3, 4};
  c.prefix = {0, 6};
  c.cache = {0, 7};
  c.lut = {4, 9, 9, /* seq1 */ 2, 0, 5};
  c.kmax = {3, 8};
  c.q.assign(c.rows * 2 * 4, bf16(0.5f));
  c.k.assign(c.num_pages * c.num_layers * 4 * 4, bf16(1.0f));
  c.poison();
  return c;
}

struct Rule {
  const char *name;
  std::function<void(msa_test::Case &, msa_indexer_tensors_t &)> breakit;
  msa_status_t status;
  const char *message;
};

TEST(Validate, ValidCasePasses) {
  msa_test::Case c = small_case();
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_validate(&t, &c.attrs), MSA_STATUS_OK)
      << msa_last_error();
  EXPECT_STREQ(msa_last_error(), "");
}

TEST(Validate, EveryRuleWithItsMessage) {
  const msa_status_t A = MSA_STATUS_INVALID_ARGUMENT,
                     M = MSA_STATUS_INVALID_METADATA;
  using C = msa_test::Case;
  using T = msa_indexer_tensors_t;
  const std::vector<Rule> rules = {
      {"H", [](C &c, T &) { c.attrs.num_index_heads = 0; }, A,
       "num_index_heads = 0 must be >= 1"},
      {"D", [](C &c, T &) { c.attrs.idx_head_dim = -3; }, A,
       "idx_head_dim = -3 must be >= 1"},
      {"bs", [](C &c, T &) { c.attrs.block_size = 0; }, A,
       "block_size = 0 must be >= 1"},
      {"topk", [](C &c, T &) { c.attrs.topk = 0; }, A, "topk = 0 must be >= 1"},
      {"init", [](C &c, T &) { c.attrs.init_blocks = -1; }, A,
       "init_blocks = -1 must be >= 0"},
      {"local", [](C &c, T &) { c.attrs.local_blocks = -2; }, A,
       "local_blocks = -2 must be >= 0"},
      {"forcing",
       [](C &c, T &) {
         c.attrs.init_blocks = 3;
         c.attrs.local_blocks = 2;
       },
       A, "init_blocks + local_blocks = 5 exceeds topk = 4"},
      {"scale", [](C &c, T &) { c.attrs.scale = INFINITY; }, A,
       "scale = inf must be finite"},
      {"scale_nan", [](C &c, T &) { c.attrs.scale = NAN; }, A,
       "must be finite"},
      {"order", [](C &c, T &) { c.attrs.order = 7; }, A,
       "order = 7 must be 0 (score) or 1 (block)"},
      {"rows", [](C &, T &t) { t.rows = -1; }, A, "rows = -1 must be >= 0"},
      {"batch", [](C &, T &t) { t.batch = -1; }, A, "batch = -1 must be >= 0"},
      {"q_heads", [](C &, T &t) { t.num_q_heads = 3; }, A,
       "q dim 1 = 3 does not match num_index_heads = 2"},
      {"q_dim", [](C &, T &t) { t.q_head_dim = 8; }, A,
       "q dim 2 = 8 does not match idx_head_dim = 4"},
      {"num_pages", [](C &, T &t) { t.num_pages = -1; }, A,
       "k_blocks dim 0 (num_pages) = -1 must be >= 0"},
      {"num_layers", [](C &, T &t) { t.num_layers = 0; }, A,
       "k_blocks dim 2 (num_layers) = 0 must be >= 1"},
      {"layer_idx", [](C &c, T &) { c.attrs.layer_idx = 2; }, A,
       "layer_idx = 2 is out of range for k_blocks dim 2 (num_layers) = 2"},
      {"layer_idx_neg", [](C &c, T &) { c.attrs.layer_idx = -1; }, A,
       "layer_idx = -1 is out of range"},
      {"page_size", [](C &, T &t) { t.page_size = 8; }, A,
       "k_blocks dim 3 (page_size) = 8 does not match block_size = 4"},
      {"k_dim", [](C &, T &t) { t.k_head_dim = 5; }, A,
       "k_blocks dim 5 = 5 does not match idx_head_dim = 4"},
      {"max_pages", [](C &, T &t) { t.max_pages = -4; }, A,
       "k_lookup_table dim 1 (max_pages) = -4 must be >= 0"},
      {"overflow",
       [](C &c, T &t) {
         t.rows = int64_t(1) << 55;
         c.attrs.topk = 4;
         (void)c;
       },
       A, "q [36028797018963968, 2, 4] has too many elements"},
      {"null_off", [](C &, T &t) { t.input_row_offsets = nullptr; }, A,
       "input_row_offsets is NULL"},
      {"null_kmax", [](C &, T &t) { t.k_max_lengths = nullptr; }, A,
       "k_max_lengths is NULL"},
      {"null_prefix", [](C &, T &t) { t.prefix_lens = nullptr; }, A,
       "prefix_lens is NULL"},
      {"null_cache", [](C &, T &t) { t.k_cache_lengths = nullptr; }, A,
       "k_cache_lengths is NULL"},
      {"null_lut", [](C &, T &t) { t.k_lookup_table = nullptr; }, A,
       "k_lookup_table is NULL"},
      {"null_q", [](C &, T &t) { t.q = nullptr; }, A, "q is NULL"},
      {"null_k", [](C &, T &t) { t.k_blocks = nullptr; }, A,
       "k_blocks is NULL"},
      {"null_out", [](C &, T &t) { t.out = nullptr; }, A,
       "out (result) is NULL"},
      // ---- metadata ----
      {"off0", [](C &c, T &) { c.off[0] = 1; }, M,
       "input_row_offsets[0] = 1 must be 0 (sequence 0)"},
      {"off_decreasing",
       [](C &c, T &) {
         c.off = {0, 3, 2};
       },
       M,
       "input_row_offsets[2] = 2 is smaller than input_row_offsets[1] = 3: "
       "offsets must be non-decreasing (sequence 1)"},
      {"off_above_rows", [](C &c, T &) { c.off = {0, 5, 4}; }, M,
       "input_row_offsets[1] = 5 exceeds rows = 4 (sequence 0)"},
      {"off_last", [](C &c, T &) { c.off = {0, 3, 3}; }, M,
       "input_row_offsets[2] = 3 must equal rows = 4 (last offset, sequence "
       "1)"},
      {"prefix_above_cache", [](C &c, T &) { c.cache[1] = 5; }, M,
       "prefix_lens[1] = 6 exceeds k_cache_lengths[1] = 5 for sequence 1"},
      {"new_above_max", [](C &c, T &) { c.kmax[0] = 2; }, M,
       "sequence 0 has 3 new tokens, more than k_max_lengths[0][0] = 2"},
      {"total_above_max", [](C &c, T &) { c.kmax[1] = 7; }, M,
       "sequence 1 has 8 keys (k_cache_lengths + new tokens), more than "
       "k_max_lengths[0][1] = 7"},
      {"logical_page",
       [](C &c, T &t) {
         c.prefix[1] = 12;
         c.cache[1] = 12;
         c.kmax[1] = 20;
         (void)t;
       },
       M,
       "sequence 1 needs 4 pages, more than the 3 columns of k_lookup_table "
       "(max_pages)"},
      {"physical_page", [](C &c, T &) { c.lut[4] = 97; }, M,
       "k_lookup_table[1][1] = 97 is not a valid page id (num_pages = 5) for "
       "sequence 1"},
      {"physical_page_max", [](C &c, T &) { c.lut[0] = 5; }, M,
       "k_lookup_table[0][0] = 5 is not a valid page id (num_pages = 5) for "
       "sequence 0"},
      {"empty_batch_rows",
       [](C &c, T &t) {
         t.batch = 0;
         c.off = {0};
         t.input_row_offsets = c.off.data();
       },
       M,
       "input_row_offsets[0] = 0 must equal rows = 4 for an empty batch"},
  };
  for (const Rule &rule : rules) {
    msa_test::Case c = small_case();
    msa_indexer_tensors_t t = c.tensors();
    rule.breakit(c, t);
    // Re-point buffers the lambda may have resized.
    t.input_row_offsets = c.off.data();
    if (rule.name == std::string("null_off"))
      t.input_row_offsets = nullptr;
    const msa_status_t st = msa_indexer_validate(&t, &c.attrs);
    EXPECT_EQ(st, rule.status) << rule.name << ": " << msa_last_error();
    EXPECT_NE(std::string(msa_last_error()).find(rule.message),
              std::string::npos)
        << rule.name << ": got \"" << msa_last_error() << "\", expected \""
        << rule.message << "\"";
  }
}

TEST(Validate, PaddingEntriesAreNotRead) {
  // Padding may hold anything, including num_pages and 0xFFFFFFFF.
  msa_test::Case c = small_case();
  c.lut[1] = 0xFFFFFFFFu; // seq0 needs 1 page; entries 1 and 2 are padding
  c.lut[2] = 5;
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_validate(&t, &c.attrs), MSA_STATUS_OK)
      << msa_last_error();
  // An empty sequence reads no page at all.
  c.off = {0, 0, 1};
  c.rows = 1;
  c.q.resize(1 * 2 * 4);
  c.kmax = {1, 8};
  c.lut[0] = 1234;
  t = c.tensors();
  EXPECT_EQ(msa_indexer_validate(&t, &c.attrs), MSA_STATUS_OK)
      << msa_last_error();
}

TEST(Validate, FirstFailingSequenceIsReported) {
  msa_test::Case c = small_case();
  c.lut[0] = 50; // sequence 0
  c.lut[3] = 60; // sequence 1
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_validate(&t, &c.attrs), MSA_STATUS_INVALID_METADATA);
  EXPECT_NE(std::string(msa_last_error()).find("for sequence 0"),
            std::string::npos)
      << msa_last_error();
}

// The static check reads no metadata (device pointers are fine): broken
// metadata behind valid pointers passes it and fails the metadata check.
TEST(Validate, StaticCheckReadsNoMetadata) {
  msa_test::Case c = small_case();
  c.off = {7, 1, 0};
  c.lut.assign(c.lut.size(), 0xFFFFFFFFu);
  msa_indexer_tensors_t t = c.tensors();
  // One element where three are declared: ASan reports any read past it.
  std::vector<uint32_t> short_off(1, 7);
  t.input_row_offsets = short_off.data();
  EXPECT_EQ(msa_indexer_check_static(&t, &c.attrs), MSA_STATUS_OK)
      << msa_last_error();
  t.input_row_offsets = c.off.data();
  EXPECT_EQ(msa_indexer_check_metadata(&t), MSA_STATUS_INVALID_METADATA);
  EXPECT_NE(std::string(msa_last_error()).find("input_row_offsets[0] = 7"),
            std::string::npos)
      << msa_last_error();
  // A static error is reported before any metadata rule.
  c.attrs.topk = 0;
  EXPECT_EQ(msa_indexer_validate(&t, &c.attrs), MSA_STATUS_INVALID_ARGUMENT);
}

// ---- the memref adapter ----------------------------------------------------

msa_status_t read_memrefs(msa_test::Descs &d, const msa_indexer_attrs_t &x,
                          msa_indexer_memrefs_t *m, msa_indexer_attrs_t *a) {
  return msa_indexer_memrefs_read(
      m, a, MSA_KEY_BF16, &d.q, &d.off, &d.pre, &d.k, &d.cache, &d.lut, &d.kmax, &d.out,
      x.num_index_heads, x.idx_head_dim, x.block_size, x.topk, x.init_blocks,
      x.local_blocks, x.layer_idx, x.scale, x.order);
}

TEST(MemrefAdapter, ViewsExtentsPackAndUnpack) {
  msa_test::Case c = small_case();
  msa_test::Descs d = msa_test::descs(c);
  // q as every other element of a bigger buffer, offset 2.
  std::vector<uint16_t> q2(2 * c.q.size() + 2, 0xFFFF);
  for (size_t e = 0; e < c.q.size(); ++e)
    q2[2 + 2 * e] = c.q[e];
  d.q.allocated = d.q.aligned = q2.data();
  d.q.offset = 2;
  for (int i = 0; i < 3; ++i)
    d.q.strides[i] *= 2;
  msa_indexer_memrefs_t m;
  msa_indexer_attrs_t a;
  ASSERT_EQ(read_memrefs(d, c.attrs, &m, &a),
            MSA_STATUS_OK)
      << msa_last_error();
  EXPECT_EQ(a.topk, c.attrs.topk);
  const msa_memref_view_t &vq = m.operand[MSA_OPERAND_Q];
  EXPECT_FALSE(vq.contiguous);
  EXPECT_EQ(vq.count, (int64_t)c.q.size());
  EXPECT_EQ(vq.extent_bytes, (int64_t)(2 * c.q.size() - 1) * 2);
  EXPECT_EQ(vq.data, reinterpret_cast<unsigned char *>(q2.data() + 2));
  EXPECT_TRUE(m.operand[MSA_OPERAND_K_BLOCKS].contiguous);
  std::vector<uint16_t> packed(c.q.size());
  msa_memref_pack(&vq, packed.data());
  EXPECT_EQ(packed, c.q);
  for (auto &v : packed)
    v = (uint16_t)(v ^ 1);
  msa_memref_unpack(&vq, packed.data());
  for (size_t e = 0; e < c.q.size(); ++e) {
    EXPECT_EQ(q2[2 + 2 * e], (uint16_t)(c.q[e] ^ 1));
    EXPECT_EQ(q2[3 + 2 * e], 0xFFFF) << "wrote between elements";
  }
  msa_indexer_tensors_t t;
  void *data[MSA_NUM_OPERANDS];
  for (int i = 0; i < MSA_NUM_OPERANDS; ++i)
    data[i] = m.operand[i].data;
  msa_indexer_memrefs_tensors(&m, data, &t);
  EXPECT_EQ(t.rows, c.rows);
  EXPECT_EQ(t.batch, c.batch);
  EXPECT_EQ(t.max_pages, c.max_pages);
  EXPECT_EQ(t.k_head_dim, c.attrs.idx_head_dim);
  EXPECT_EQ(msa_indexer_validate(&t, &a), MSA_STATUS_OK) << msa_last_error();
}

TEST(MemrefAdapter, OverflowingExtentNamesTheOperand) {
  msa_test::Case c = small_case();
  msa_test::Descs d = msa_test::descs(c);
  d.lut.strides[0] = INT64_MAX / 2; // 2 * (INT64_MAX / 2) * 4 bytes
  msa_indexer_memrefs_t m;
  msa_indexer_attrs_t a;
  EXPECT_EQ(read_memrefs(d, c.attrs, &m, &a),
            MSA_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(msa_last_error())
                .rfind("k_lookup_table: the byte extent overflows", 0),
            0u)
      << msa_last_error();
  EXPECT_TRUE(m.out_sound);
}

TEST(Common, StatusStrings) {
  EXPECT_STREQ(msa_status_string(MSA_STATUS_OK), "ok");
  EXPECT_STREQ(msa_status_string(MSA_STATUS_INVALID_METADATA),
               "invalid metadata");
  EXPECT_EQ(msa_set_last_error(MSA_STATUS_CUDA_ERROR, "x=%d", 3),
            MSA_STATUS_CUDA_ERROR);
  EXPECT_STREQ(msa_last_error(), "x=3");
}

// The reference on a case worked out by hand: H=1, D=1, bs=2, q=1, scale=1,
// one prefill of 5 rows; keys 1, 5, 3, NaN, -inf.
TEST(Reference, HandWorkedPrefill) {
  msa_test::Case c = msa_test::one_sequence(
      {1, 1, 2, 3, 0, 0, 0, 1.0f, MSA_ORDER_SCORE}, 5, 0, 3, 4);
  c.lut = {2, 0, 1, 3 /* padding = num_pages */};
  c.q.assign(5, bf16(1.0f));
  c.k.assign(6, bf16(-7.0f)); // slot 1 of page 1 (position 5) is never read
  auto key = [&](int p) -> uint16_t & {
    return c.k[c.lut[p / 2] * 2 + p % 2];
  };
  key(0) = bf16(1.0f);
  key(1) = bf16(5.0f);
  key(2) = bf16(3.0f);
  key(3) = 0x7FC0; // NaN
  key(4) = 0xFF80; // -inf
  c.poison();
  msa_indexer_tensors_t t = c.tensors();
  ASSERT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_OK)
      << msa_last_error();
  const std::vector<int32_t> want = {0, -1, -1, 0, -1, -1, 0, 1, -1,
                                     0, 1,  -1, 0, 1,  -1};
  EXPECT_EQ(c.out, want);
  // local_blocks = 1 forces the last block first, even at -inf (row 4).
  c.attrs.local_blocks = 1;
  c.poison();
  ASSERT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_OK);
  const std::vector<int32_t> want_local = {0, -1, -1, 0, -1, -1, 1, 0, -1,
                                           1, 0,  -1, 2, 0,  1};
  t = c.tensors();
  ASSERT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_OK);
  EXPECT_EQ(c.out, want_local);
  // order = block sorts the same set.
  c.attrs.order = MSA_ORDER_BLOCK;
  c.poison();
  t = c.tensors();
  ASSERT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_OK);
  const std::vector<int32_t> want_block = {0, -1, -1, 0, -1, -1, 0, 1, -1,
                                           0, 1,  -1, 0, 1,  2};
  EXPECT_EQ(c.out, want_block);
  EXPECT_EQ(msa_test::compare_with_reference(c, c.out), "");
}

// Ties go to the smaller block id; init blocks come before local ones.
TEST(Reference, TiesAndInitBlocks) {
  msa_test::Case c = msa_test::one_sequence(
      {1, 1, 1, 3, 1, 1, 0, 1.0f, MSA_ORDER_SCORE}, 1, 5, 6, 6);
  c.lut = {0, 1, 2, 3, 4, 5};
  c.q = {bf16(1.0f)};
  c.k = {bf16(0.0f), bf16(2.0f), bf16(4.0f), bf16(2.0f), bf16(4.0f),
         bf16(-1.0f)};
  c.poison();
  msa_indexer_tensors_t t = c.tensors();
  ASSERT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_OK);
  // init block 0, local block 5, then the better of the tied 2 and 4: 2.
  EXPECT_EQ(c.out, (std::vector<int32_t>{0, 5, 2}));
  EXPECT_EQ(msa_test::compare_with_reference(c, c.out), "");
  // The comparison itself catches a wrong tie-break and a worse pick.
  EXPECT_NE(msa_test::compare_with_reference(c, {0, 5, 4}), "");
  EXPECT_NE(msa_test::compare_with_reference(c, {0, 5, 1}), "");
  EXPECT_NE(msa_test::compare_with_reference(c, {5, 0, 2}), "");
  EXPECT_NE(msa_test::compare_with_reference(c, {0, 5, -1}), "");
}

// An exact tie of the reference's scores binds the order (smaller id first)
// only when both blocks reach it with the same key vector: different
// vectors with equal exact dots (here (3, 1) and (1, 3) against q = (1, 1))
// may round apart in a back end's f32 sums, so either order is right.
TEST(Reference, ExactTieBindsOnlyOnTheSameKeyVector) {
  msa_test::Case c = msa_test::one_sequence(
      {1, 2, 1, 2, 0, 0, 0, 1.0f, MSA_ORDER_SCORE}, 1, 3, 4, 4);
  c.lut = {0, 1, 2, 3};
  c.q = {bf16(1.0f), bf16(1.0f)};
  // blocks 0 and 2: key (3, 1); block 1: key (1, 3); block 3: key (0, 1)
  c.k = {bf16(3.0f), bf16(1.0f), bf16(1.0f), bf16(3.0f),
         bf16(3.0f), bf16(1.0f), bf16(0.0f), bf16(1.0f)};
  c.poison();
  msa_indexer_tensors_t t = c.tensors();
  ASSERT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_OK);
  EXPECT_EQ(c.out, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(msa_test::compare_with_reference(c, {1, 0}), "");  // other vectors: free
  c.attrs.topk = 3;
  c.out.assign(3, 0);
  EXPECT_EQ(msa_test::compare_with_reference(c, {0, 1, 2}), "");
  EXPECT_EQ(msa_test::compare_with_reference(c, {1, 0, 2}), "");
  // blocks 0 and 2 share their key vector: 0 must come before 2
  EXPECT_NE(msa_test::compare_with_reference(c, {2, 1, 0}), "");
  EXPECT_NE(msa_test::compare_with_reference(c, {1, 2, 0}), "");
}

TEST(Reference, ErrorFillsMinusOne) {
  msa_test::Case c = small_case();
  c.lut[3] = 99;
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_INVALID_METADATA);
  for (int32_t v : c.out)
    EXPECT_EQ(v, -1);
}

// The generator's cases are valid and the reference agrees with itself
// through the comparison (a sanity check of both).
TEST(Reference, RandomCasesAreValid) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    msa_test::Case c = msa_test::make_random_case(seed);
    msa_indexer_tensors_t t = c.tensors();
    ASSERT_EQ(msa_indexer_reference(&t, &c.attrs), MSA_STATUS_OK)
        << c.describe() << ": " << msa_last_error();
    for (int32_t v : c.out)
      ASSERT_NE(v, 0x7B7B7B7B);
    ASSERT_EQ(msa_test::compare_with_reference(c, c.out), "")
        << c.describe();
  }
}

} // namespace
