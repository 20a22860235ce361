// Regression tests for the hardening of the CPU kernel's C ABI (issue 12),
// meant to run under AddressSanitizer/UBSan (scripts/test_kernels_cpu.sh):
// every buffer is allocated at exactly the size its shape declares, so a
// write or read outside it is a sanitizer report.
//   - the error fill writes only inside the caller's `out`: rejected heads,
//     a huge topk that breaks the forcing rule;
//   - the _mlir_ciface_ entry rejects strides and offsets whose byte extent
//     overflows (q stride 2^62, offset INT64_MAX - 2) on every operand;
//   - scratch is sized by the work present: an empty call with D = 2^30
//     succeeds, one row with D = 2^25 is refused before any allocation with
//     a message naming the bound, one row with D = 2^20 runs; score buffers
//     above the bound (4M-block contexts) are refused too;
//   - msa_cpu_set_path gives the same answer whatever was selected before,
//     and concurrent selection from several threads never makes an
//     available path fail or a call return a wrong result.
#include "case_gen.h"
#include "msa/msa_kernels.h"
#include "msa/msa_reference.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int32_t kPoison = 0x7B7B7B7B;

// A valid batch: H = 2, D = 8, bs = 4, three sequences (prefill 3 rows,
// decode with prefix 6, chunk of 2 rows after prefix 3), 2 layers.
msa_test::Case small_case() {
  msa_test::Case c;
  c.attrs = {2, 8, 4, 4, 0, 1, 1, 0.5f, MSA_ORDER_SCORE};
  c.batch = 3;
  c.rows = 6;
  c.num_layers = 2;
  c.page_size = 4;
  c.num_pages = 6;
  c.max_pages = 3;
  c.off = {0, 3, 4, 6};
  c.prefix = {0, 6, 3};
  c.cache = {0, 6, 3};
  c.lut = {5, 9, 9, /* seq1 */ 1, 2, 9, /* seq2 */ 3, 4, 9};
  c.kmax = {3, 8};
  c.q.resize((size_t)(c.rows * 2 * 8));
  for (size_t i = 0; i < c.q.size(); ++i)
    c.q[i] = msa_test::bf16((float)((i * 7) % 11) - 5.0f);
  c.k.resize((size_t)(c.num_pages * c.num_layers * 4 * 8));
  for (size_t i = 0; i < c.k.size(); ++i)
    c.k[i] = msa_test::bf16((float)((i * 5) % 13) - 6.0f);
  c.poison();
  return c;
}

bool all_equal(const std::vector<int32_t> &v, int32_t x) {
  for (int32_t e : v)
    if (e != x)
      return false;
  return true;
}

// ---- the error fill stays inside out --------------------------------------

// num_index_heads = 3 against a q (and an out) with 2 heads: rejected, and
// out (sized for 2 heads) is not written past its end.
TEST(ErrorFill, RejectedHeadCountWritesNothingPastOut) {
  msa_test::Case c = small_case();
  msa_indexer_tensors_t t = c.tensors(); // q and out: 2 heads
  msa_indexer_attrs_t a = c.attrs;
  a.num_index_heads = 3;
  EXPECT_EQ(msa_indexer_cpu(&t, &a), MSA_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(msa_last_error())
                .find("q dim 1 = 2 does not match num_index_heads = 3"),
            std::string::npos)
      << msa_last_error();
  // Which of the two head counts sized out is unknown: nothing is written.
  EXPECT_TRUE(all_equal(c.out, kPoison));
  // The reference shares the fill.
  EXPECT_EQ(msa_indexer_reference(&t, &a), MSA_STATUS_INVALID_ARGUMENT);
  EXPECT_TRUE(all_equal(c.out, kPoison));
}

// topk = INT32_MAX with init_blocks + local_blocks > topk: rejected; the
// fill must not use the rejected topk (out holds 4 ids per row).
TEST(ErrorFill, HugeTopkBreakingTheForcingRuleWritesNothingPastOut) {
  msa_test::Case c = small_case();
  msa_indexer_tensors_t t = c.tensors();
  msa_indexer_attrs_t a = c.attrs;
  a.topk = std::numeric_limits<int32_t>::max();
  a.init_blocks = std::numeric_limits<int32_t>::max();
  a.local_blocks = 1;
  EXPECT_EQ(msa_indexer_cpu(&t, &a), MSA_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(msa_last_error()).find("exceeds topk = 2147483647"),
            std::string::npos)
      << msa_last_error();
  EXPECT_TRUE(all_equal(c.out, kPoison));
}

// A rejection that leaves out's shape [H, rows, topk] trusted (here
// layer_idx) still fills it with -1.
TEST(ErrorFill, TrustedShapeIsFilledWithMinusOne) {
  msa_test::Case c = small_case();
  c.attrs.layer_idx = 2; // num_layers = 2
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_INVALID_ARGUMENT);
  EXPECT_TRUE(all_equal(c.out, -1));
}

// A large but valid topk (more slots than blocks): ids, then -1 padding.
TEST(ErrorFill, LargeValidTopk) {
  msa_test::Case c = small_case();
  c.attrs.topk = 1 << 16;
  c.poison();
  msa_indexer_tensors_t t = c.tensors();
  ASSERT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_OK) << msa_last_error();
  EXPECT_EQ(msa_test::compare_with_reference(c, c.out), "");
}

// ---- _mlir_ciface_: strides and offsets ----------------------------------

using msa_test::Descs;
using msa_test::descs;

int32_t call(Descs &d, const msa_indexer_attrs_t &a, std::string *err) {
  testing::internal::CaptureStderr();
  const int32_t st = msa_test::call_ciface_cpu(d, a);
  *err = testing::internal::GetCapturedStderr();
  return st;
}

struct Breaker {
  const char *operand; // as named in the message
  void (*f)(Descs &);
  bool out_fillable; // out's own descriptor is still sound
};

const int64_t kHugeStride = int64_t(1) << 62;
const int64_t kHugeOffset = std::numeric_limits<int64_t>::max() - 2;

// Each breaker makes one descriptor's byte extent overflow.
const Breaker kOverflows[] = {
    {"q", [](Descs &d) { d.q.strides[0] = kHugeStride; }, true},
    {"q", [](Descs &d) { d.q.offset = kHugeOffset; }, true},
    {"input_row_offsets", [](Descs &d) { d.off.offset = kHugeOffset; }, true},
    {"input_row_offsets", [](Descs &d) { d.off.strides[0] = kHugeStride; },
     true},
    {"prefix_lens", [](Descs &d) { d.pre.offset = kHugeOffset; }, true},
    {"k_blocks", [](Descs &d) { d.k.strides[0] = kHugeStride; }, true},
    {"k_blocks", [](Descs &d) { d.k.offset = kHugeOffset; }, true},
    {"k_cache_lengths", [](Descs &d) { d.cache.strides[0] = kHugeStride; },
     true},
    {"k_lookup_table", [](Descs &d) { d.lut.strides[0] = kHugeStride; }, true},
    {"k_lookup_table", [](Descs &d) { d.lut.offset = kHugeOffset; }, true},
    {"k_max_lengths", [](Descs &d) { d.kmax.strides[1] = kHugeStride; }, true},
    {"k_max_lengths", [](Descs &d) { d.kmax.offset = kHugeOffset; }, true},
    {"result", [](Descs &d) { d.out.strides[1] = kHugeStride; }, false},
    {"result", [](Descs &d) { d.out.offset = kHugeOffset; }, false},
    // Extents that fit in int64 elements but not in bytes.
    {"q",
     [](Descs &d) {
       d.q.strides[1] = (int64_t(3) << 61); // 2 heads: 3 * 2^61 elements
       d.q.strides[0] = 1;
     },
     true},
};

// Every overflowing extent above, and negative values, one operand at a
// time: INVALID_ARGUMENT naming the operand; out filled with -1 through its
// descriptor unless that descriptor is the broken one.
const Breaker kNegatives[] = {
    {"q", [](Descs &d) { d.q.offset = -1; }, true},
    {"k_blocks", [](Descs &d) { d.k.strides[5] = -1; }, true},
    {"k_lookup_table", [](Descs &d) { d.lut.sizes[1] = -1; }, true},
    {"result", [](Descs &d) { d.out.offset = -4; }, false},
};

TEST(CifaceDescriptors, OverflowingAndNegativeValuesAreRejected) {
  std::vector<Breaker> all(std::begin(kOverflows), std::end(kOverflows));
  all.insert(all.end(), std::begin(kNegatives), std::end(kNegatives));
  for (const Breaker &br : all) {
    msa_test::Case c = small_case();
    Descs d = descs(c);
    br.f(d);
    std::string err;
    EXPECT_EQ(call(d, c.attrs, &err), MSA_STATUS_INVALID_ARGUMENT)
        << br.operand << ": " << err;
    EXPECT_NE(err.find(std::string("msa.indexer_ragged_paged (cpu): ") +
                       br.operand + ":"),
              std::string::npos)
        << br.operand << ": " << err;
    EXPECT_TRUE(all_equal(c.out, br.out_fillable ? -1 : kPoison))
        << br.operand << ": " << err;
  }
}

// A huge stride on a dim of size 1 is harmless (never multiplied by a
// nonzero index): accepted, same result.
TEST(CifaceDescriptors, HugeStrideOnUnitDimIsFine) {
  msa_test::Case c = small_case();
  msa_indexer_tensors_t t = c.tensors();
  ASSERT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_OK);
  const std::vector<int32_t> want = c.out;
  c.poison();
  Descs d = descs(c);
  d.k.strides[1] = kHugeStride;
  d.k.strides[4] = kHugeStride;
  d.kmax.strides[0] = kHugeStride;
  std::string err;
  ASSERT_EQ(call(d, c.attrs, &err), 0) << err;
  EXPECT_EQ(c.out, want);
}

// ---- the f8E4M3FN entry: strided and offset keys -------------------------

int32_t call_f8(Descs &d, const msa_indexer_attrs_t &a, std::string *err) {
  testing::internal::CaptureStderr();
  const int32_t st = msa_test::call_ciface_cpu_f8(d, a);
  *err = testing::internal::GetCapturedStderr();
  return st;
}

// k_blocks as an f8E4M3FN memref that is not dense: an offset, every other
// byte of D, a gap after each page and the layer dim outermost-but-one
// (strides permuted); the buffer holds exactly the descriptor's extent, so a
// read outside it is a sanitizer report. The ids equal the plain entry's on
// the dense bytes, and the bf16 entry's on the keys' bf16 twins.
TEST(CifaceF8, StridedAndOffsetKeysMatchThePlainEntry) {
  for (uint64_t seed = 0; seed < 24; ++seed) {
    msa_test::Case c = seed == 0 ? small_case() : msa_test::make_random_case(seed);
    msa_test::to_e4m3(c, seed);
    msa_indexer_tensors_t t = c.tensors();
    ASSERT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_OK) << msa_last_error();
    const std::vector<int32_t> want = c.out;
    c.poison();
    Descs d = descs(c);
    const int64_t P = c.num_pages, L = c.num_layers, S = c.page_size, D = c.D();
    // Element (p, 0, l, s, 0, d) at off + l * sl + p * sp + s * ss + d * 2.
    const int64_t off = 5, sd = 2, ss = D * sd, sp = S * ss + 3, sl = P * sp + 1;
    const int64_t extent = P == 0 ? off : off + (L - 1) * sl + (P - 1) * sp +
                                              (S - 1) * ss + (D - 1) * sd + 1;
    std::vector<uint8_t> k8s((size_t)extent, 0x7F); // unread bytes: NaN
    for (int64_t p = 0; p < P; ++p)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t s2 = 0; s2 < S; ++s2)
          for (int64_t e = 0; e < D; ++e)
            k8s[(size_t)(off + l * sl + p * sp + s2 * ss + e * sd)] =
                c.k8[(size_t)(((p * L + l) * S + s2) * D + e)];
    d.k8.allocated = d.k8.aligned = k8s.empty() ? nullptr : k8s.data();
    d.k8.offset = off;
    const int64_t strides[6] = {sp, 1 << 20, sl, ss, 1 << 20, sd};
    for (int i = 0; i < 6; ++i)
      d.k8.strides[i] = strides[i];
    std::string err;
    ASSERT_EQ(call_f8(d, c.attrs, &err), 0) << err;
    EXPECT_EQ(c.out, want) << c.describe();
    // The bf16 entry on the twins, dense.
    c.poison();
    Descs d16 = descs(c);
    ASSERT_EQ(call(d16, c.attrs, &err), 0) << err;
    EXPECT_EQ(c.out, want) << "bf16 twins differ; " << c.describe();
  }
}

// The f8E4M3FN entry checks its k_blocks descriptor like the bf16 one:
// overflowing and negative strides and offsets are INVALID_ARGUMENT naming
// k_blocks, and out is filled with -1.
TEST(CifaceF8, OverflowingAndNegativeKeyDescriptorsAreRejected) {
  void (*const breakers[])(Descs &) = {
      [](Descs &d) { d.k8.strides[0] = kHugeStride; },
      [](Descs &d) { d.k8.offset = kHugeOffset; },
      [](Descs &d) { d.k8.strides[5] = -1; },
      [](Descs &d) { d.k8.offset = -1; },
  };
  for (auto f : breakers) {
    msa_test::Case c = small_case();
    msa_test::to_e4m3(c, 1);
    Descs d = descs(c);
    f(d);
    std::string err;
    EXPECT_EQ(call_f8(d, c.attrs, &err), MSA_STATUS_INVALID_ARGUMENT) << err;
    EXPECT_NE(err.find("msa.indexer_ragged_paged (cpu): k_blocks:"),
              std::string::npos)
        << err;
    EXPECT_TRUE(all_equal(c.out, -1)) << err;
  }
}

// ---- scratch sized by the work -------------------------------------------

msa_test::Case huge_d_case(int32_t D, int64_t rows) {
  msa_test::Case c;
  c.attrs = {1, D, 1, 2, 0, 1, 0, 1.0f, MSA_ORDER_SCORE};
  c.batch = 1;
  c.rows = rows;
  c.num_layers = 1;
  c.page_size = 1;
  c.num_pages = rows;
  c.max_pages = rows;
  c.off = {0, (uint32_t)rows};
  c.prefix = {0};
  c.cache = {0};
  c.kmax = {(uint32_t)rows, (uint32_t)rows};
  for (int64_t p = 0; p < rows; ++p)
    c.lut.push_back((uint32_t)p);
  c.q.assign((size_t)(rows * D), msa_test::bf16(0.25f));
  c.k.assign((size_t)(rows * D), msa_test::bf16(0.5f));
  c.poison();
  return c;
}

TEST(Scratch, EmptyCallWithHugeHeadDimSucceeds) {
  msa_test::Case c = huge_d_case(1 << 30, 0);
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_OK) << msa_last_error();
  Descs d = descs(c);
  std::string err;
  EXPECT_EQ(call(d, c.attrs, &err), 0) << err;
}

TEST(Scratch, OneRowBeyondTheBoundIsRefusedBeforeAllocating) {
  msa_test::Case c = huge_d_case(1 << 25, 1);
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_UNSUPPORTED)
      << msa_last_error();
  const std::string msg = msa_last_error();
  EXPECT_NE(msg.find("idx_head_dim = 33554432"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MSA_CPU_SCRATCH_LIMIT_BYTES"), std::string::npos) << msg;
  EXPECT_TRUE(all_equal(c.out, -1));
}

TEST(Scratch, OneRowWithLargeHeadDimRuns) {
  msa_test::Case c = huge_d_case(1 << 20, 1);
  msa_indexer_tensors_t t = c.tensors();
  ASSERT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_OK) << msa_last_error();
  EXPECT_EQ(c.out, (std::vector<int32_t>{0, -1}));
}

// 2^22 + 1 cached keys of block size 1, all on one physical page: 2^22 + 2
// blocks per row. H = 64: one row (64 queries) is a decode-style split whose
// shared score matrix needs 64 * 4 * 2^22 bytes = 1 GiB + ; two rows (128
// queries) are prefill tiles whose score rows need as much per thread.
msa_test::Case long_context_case(int64_t rows) {
  const int64_t prefix = (int64_t(1) << 22) + 1;
  msa_test::Case c;
  c.attrs = {64, 16, 1, 2, 0, 1, 0, 1.0f, MSA_ORDER_SCORE};
  c.batch = 1;
  c.rows = rows;
  c.num_layers = 1;
  c.page_size = 1;
  c.num_pages = 1;
  c.max_pages = prefix + rows;
  c.off = {0, (uint32_t)rows};
  c.prefix = {(uint32_t)prefix};
  c.cache = {(uint32_t)prefix};
  c.kmax = {(uint32_t)rows, (uint32_t)(prefix + rows)};
  c.lut.assign((size_t)c.max_pages, 0);
  c.q.assign((size_t)(rows * 64 * 16), msa_test::bf16(1.0f));
  c.k.assign(16, msa_test::bf16(1.0f));
  c.poison();
  return c;
}

TEST(Scratch, SharedScoresBeyondTheBoundAreRefused) {
  msa_test::Case c = long_context_case(1);
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_UNSUPPORTED);
  EXPECT_NE(std::string(msa_last_error()).find("score matrix"),
            std::string::npos)
      << msa_last_error();
  EXPECT_TRUE(all_equal(c.out, -1));
}

TEST(Scratch, TileScoresBeyondTheBoundAreRefused) {
  msa_test::Case c = long_context_case(2);
  msa_indexer_tensors_t t = c.tensors();
  EXPECT_EQ(msa_indexer_cpu(&t, &c.attrs), MSA_STATUS_UNSUPPORTED);
  EXPECT_NE(std::string(msa_last_error()).find("prefill tile"),
            std::string::npos)
      << msa_last_error();
  EXPECT_TRUE(all_equal(c.out, -1));
}

// ---- path selection --------------------------------------------------------

const int32_t kAllPaths[] = {MSA_CPU_PATH_AUTO,     MSA_CPU_PATH_AVX512BF16,
                             MSA_CPU_PATH_HIGHWAY,  MSA_CPU_PATH_HWY_AVX2,
                             MSA_CPU_PATH_HWY_AVX3, MSA_CPU_PATH_HWY_EMU128,
                             MSA_CPU_PATH_AMX};

// Whether a path is available, and its name, must not depend on the path
// selected before (e.g. HWY_AVX3 after HWY_AVX2, HWY_AVX2 after HWY_EMU128).
TEST(PathSelection, IndependentOfTheOrderOfCalls) {
  ASSERT_EQ(msa_cpu_set_path(MSA_CPU_PATH_AUTO), MSA_STATUS_OK);
  const std::string auto_name = msa_cpu_path_name();
  for (int32_t p : kAllPaths) {
    ASSERT_EQ(msa_cpu_set_path(MSA_CPU_PATH_AUTO), MSA_STATUS_OK);
    const msa_status_t fresh = msa_cpu_set_path(p);
    const std::string fresh_name = msa_cpu_path_name();
    for (int32_t before : kAllPaths) {
      ASSERT_EQ(msa_cpu_set_path(MSA_CPU_PATH_AUTO), MSA_STATUS_OK);
      const msa_status_t had = msa_cpu_set_path(before);
      const std::string had_name = msa_cpu_path_name();
      EXPECT_EQ(msa_cpu_set_path(p), fresh)
          << "path " << p << " after path " << before;
      // A refused selection keeps the path before it.
      EXPECT_EQ(std::string(msa_cpu_path_name()),
                fresh == MSA_STATUS_OK
                    ? fresh_name
                    : (had == MSA_STATUS_OK ? had_name : auto_name))
          << "path " << p << " after path " << before;
    }
  }
  msa_cpu_set_path(MSA_CPU_PATH_AUTO);
}

// Threads select paths and run calls at the same time: a path available
// alone stays available, and every call returns a correct result.
TEST(PathSelection, ConcurrentSelectionAndCalls) {
  std::vector<int32_t> available;
  for (int32_t p : kAllPaths) {
    msa_cpu_set_path(MSA_CPU_PATH_AUTO);
    if (msa_cpu_set_path(p) == MSA_STATUS_OK)
      available.push_back(p);
  }
  msa_cpu_set_path(MSA_CPU_PATH_AUTO);
  ASSERT_GE(available.size(), 2u);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&, w] {
      msa_test::Options opt;
      opt.max_batch = 3;
      opt.max_keys = 120;
      opt.max_new = 12;
      for (int i = 0; i < 40 && failures.load() < 5; ++i) {
        const int32_t p = available[(size_t)(w + i) % available.size()];
        if (msa_cpu_set_path(p) != MSA_STATUS_OK) {
          std::fprintf(stderr, "thread %d: path %d refused: %s\n", w, p,
                       msa_last_error());
          ++failures;
        }
        msa_test::Case c = msa_test::make_random_case(1000 * w + i, opt);
        c.poison();
        msa_indexer_tensors_t t = c.tensors();
        if (msa_indexer_cpu(&t, &c.attrs) != MSA_STATUS_OK) {
          std::fprintf(stderr, "thread %d: %s\n", w, msa_last_error());
          ++failures;
          continue;
        }
        const std::string e = msa_test::compare_with_reference(c, c.out);
        if (!e.empty()) {
          std::fprintf(stderr, "thread %d: %s\n", w, e.c_str());
          ++failures;
        }
      }
    });
  for (auto &t : threads)
    t.join();
  msa_cpu_set_path(MSA_CPU_PATH_AUTO);
  EXPECT_EQ(failures.load(), 0);
}

} // namespace
