// Tests of the CPU kernel (msa_indexer_cpu and its _mlir_ciface_ entries)
// against the scalar reference (msa_indexer_reference), for every back end
// this machine can run: the AMX kernel, the AVX512-BF16 kernel, Highway's
// best target, and Highway limited to AVX2 and to its portable EMU128 target,
// each with bf16 and with f8E4M3FN keys (a path this CPU cannot run is
// reported as skipped, never as passed).
//
// Seeds are fresh on every run (printed on failure); MSA_TEST_SEED=<n> replays
// one base seed, MSA_TEST_CASES=<n> changes the number of random cases.
#include "case_gen.h"
#include "msa/msa_kernels.h"
#include "msa/msa_reference.h"
#include "msa_cpu_internal.h" // the e4m3 row converters (kernels_cpu/src)

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using msa_cpu_rows_fn = void (*)(const uint8_t *, int64_t, int64_t, uint16_t *, int64_t);

uint64_t base_seed() {
  static const uint64_t seed = [] {
    if (const char *s = std::getenv("MSA_TEST_SEED"))
      return (uint64_t)std::strtoull(s, nullptr, 10);
    std::random_device rd;
    return ((uint64_t)rd() << 32) ^ (uint64_t)rd() ^
           (uint64_t)std::chrono::steady_clock::now().time_since_epoch().count();
  }();
  return seed;
}

int num_cases(int dflt) {
  if (const char *s = std::getenv("MSA_TEST_CASES"))
    return std::atoi(s);
  return dflt;
}

struct PathParam {
  int32_t path;
  const char *name;
  int cases;
  int32_t key_type; // msa_key_type_t of the suite's keys
};

// gtest prints the parameter of a failing test by name.
void PrintTo(const PathParam &p, std::ostream *os) { *os << p.name; }

class CpuPath : public ::testing::TestWithParam<PathParam> {
protected:
  void SetUp() override {
    if (msa_cpu_set_path(GetParam().path) != MSA_STATUS_OK)
      GTEST_SKIP() << GetParam().name << " not available: " << msa_last_error();
  }
  void TearDown() override { msa_cpu_set_path(MSA_CPU_PATH_AUTO); }

  bool f8() const { return GetParam().key_type == MSA_KEY_F8E4M3FN; }
  // The suite's key type: f8E4M3FN suites store the case's keys as e4m3
  // (rounded, tiny/subnormal or any byte, per element).
  void keys(msa_test::Case &c, msa_test::E4M3Keys how = msa_test::kE4M3Mixed) const {
    if (f8())
      msa_test::to_e4m3(c, c.seed, how);
  }
  msa_test::Case random_case(uint64_t seed,
                             const msa_test::Options &opt = msa_test::Options()) const {
    msa_test::Case c = msa_test::make_random_case(seed, opt);
    keys(c);
    return c;
  }
};

std::vector<int32_t> run_cpu(msa_test::Case &c) {
  c.poison();
  msa_indexer_tensors_t t = c.tensors();
  const msa_status_t st = msa_indexer_cpu(&t, &c.attrs);
  EXPECT_EQ(st, MSA_STATUS_OK) << c.describe() << ": " << msa_last_error();
  return c.out;
}

TEST_P(CpuPath, RandomCasesMatchReference) {
  const uint64_t base = base_seed();
  const int n = num_cases(GetParam().cases);
  std::printf("[ path ] %s, %s keys, %d cases, base seed %llu\n",
              msa_cpu_path_name(), f8() ? "f8E4M3FN" : "bf16", n,
              (unsigned long long)base);
  int failures = 0;
  for (int i = 0; i < n && failures < 5; ++i) {
    const uint64_t seed = base + (uint64_t)i;
    msa_test::Case c = random_case(seed);
    const std::vector<int32_t> got = run_cpu(c);
    for (int32_t v : got)
      ASSERT_NE(v, 0x7B7B7B7B) << "unwritten output; " << c.describe();
    const std::string err = msa_test::compare_with_reference(c, got);
    if (!err.empty()) {
      ++failures;
      ADD_FAILURE() << "MSA_TEST_SEED=" << seed << " " << c.describe() << "\n  "
                    << err;
    }
  }
}

// Every block holds identical keys (all logical pages on one physical page,
// or one key vector everywhere): every score ties exactly in any precision,
// so the result must equal the reference's bit for bit (smaller ids win).
TEST_P(CpuPath, ExactTiesGoToTheSmallerBlockId) {
  const uint64_t base = base_seed() ^ 0x5151;
  for (int i = 0; i < 60; ++i) {
    msa_test::Options opt;
    opt.allow_special_values = false;
    msa_test::Case c = msa_test::make_random_case(base + i, opt);
    if (i % 2 == 0) {
      // One key vector for every key of every page and layer (exact in e4m3).
      const int64_t D = c.D();
      for (size_t e = 0; e < c.k.size(); ++e)
        c.k[e] = c.k.empty() ? 0 : msa_test::bf16((float)((e % D) % 7) - 3.0f);
      keys(c, msa_test::kE4M3Rounded);
    } else {
      keys(c);
      // Every needed logical page on physical page 0 (padding untouched).
      for (int64_t b = 0; b < c.batch; ++b) {
        const int64_t keys = c.prefix[b] + (c.off[b + 1] - c.off[b]);
        const int64_t need = (keys + c.page_size - 1) / c.page_size;
        for (int64_t p = 0; p < need; ++p)
          c.lut[b * c.max_pages + p] = 0;
      }
    }
    const std::vector<int32_t> got = run_cpu(c);
    msa_test::Case r = c;
    r.poison();
    msa_indexer_tensors_t rt = r.tensors();
    ASSERT_EQ(msa_indexer_reference(&rt, &r.attrs), MSA_STATUS_OK);
    if (i % 2 == 0) {
      ASSERT_EQ(got, r.out) << "MSA_TEST_SEED=" << base + i << " "
                            << c.describe();
    }
    ASSERT_EQ(msa_test::compare_with_reference(c, got), "")
        << c.describe();
  }
}

// Bit-identical on reruns and for 1 vs 2 threads; a sequence's rows are the
// same alone as inside the batch.
TEST_P(CpuPath, DeterministicAndBatchInvariant) {
  const uint64_t base = base_seed() ^ 0xBADC0FFEE;
  const int saved = omp_get_max_threads();
  for (int i = 0; i < 120; ++i) {
    msa_test::Case c = random_case(base + i);
    omp_set_num_threads(2);
    const std::vector<int32_t> a = run_cpu(c);
    const std::vector<int32_t> a2 = run_cpu(c);
    omp_set_num_threads(1);
    const std::vector<int32_t> one = run_cpu(c);
    omp_set_num_threads(2);
    ASSERT_EQ(a, a2) << "rerun differs; MSA_TEST_SEED=" << base + i;
    ASSERT_EQ(a, one) << "1 vs 2 threads differ; MSA_TEST_SEED=" << base + i;
    const int64_t H = c.H(), topk = c.attrs.topk;
    for (int64_t b = 0; b < c.batch; ++b) {
      msa_test::Case s = msa_test::extract_sequence(c, b);
      const std::vector<int32_t> alone = run_cpu(s);
      for (int64_t h = 0; h < H; ++h)
        for (int64_t r = 0; r < s.rows; ++r)
          for (int64_t x = 0; x < topk; ++x)
            ASSERT_EQ(alone[(h * s.rows + r) * topk + x],
                      a[(h * c.rows + c.off[b] + r) * topk + x])
                << "batch invariance, sequence " << b
                << "; MSA_TEST_SEED=" << base + i;
    }
  }
  omp_set_num_threads(saved);
}

// Long decode contexts (the key range is split across threads) and a long
// chunked prefill, with the MiniMax-M3 attributes and small blocks.
TEST_P(CpuPath, LongContexts) {
  const uint64_t base = base_seed() ^ 0x10C0;
  for (int i = 0; i < 6; ++i) {
    msa_test::Options opt;
    opt.max_keys = 6000;
    opt.max_new = 96;
    opt.max_batch = 3;
    msa_test::Case c = random_case(base + i, opt);
    c.attrs.topk = 16;
    c.attrs.init_blocks = i % 2;
    c.attrs.local_blocks = 1;
    const std::vector<int32_t> got = run_cpu(c);
    ASSERT_EQ(msa_test::compare_with_reference(c, got), "")
        << "MSA_TEST_SEED=" << base + i << " " << c.describe();
  }
}

// A decode batch: `batch` sequences with one new row after `ctx - 1` cached
// keys, random bf16 in [-1, 1), pages shuffled.
msa_test::Case decode_case(uint64_t seed, int64_t batch, int64_t ctx, int H,
                           int D, int bs) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  msa_test::Case c;
  c.seed = seed;
  c.attrs = {H, D, bs, 16, 0, 1, 0, 0.125f, MSA_ORDER_SCORE};
  c.batch = batch;
  c.rows = batch;
  c.page_size = bs;
  c.max_pages = (ctx + bs - 1) / bs;
  c.num_pages = c.max_pages * batch;
  c.lut.resize((size_t)c.num_pages);
  for (int64_t i = 0; i < c.num_pages; ++i)
    c.lut[(size_t)i] = (uint32_t)i;
  std::shuffle(c.lut.begin(), c.lut.end(), g);
  for (int64_t b = 0; b <= batch; ++b)
    c.off.push_back((uint32_t)b);
  c.prefix.assign((size_t)batch, (uint32_t)(ctx - 1));
  c.cache = c.prefix;
  c.kmax = {1u, (uint32_t)ctx};
  c.q.resize((size_t)(batch * H * D));
  for (auto &v : c.q)
    v = msa_test::bf16(u(g));
  c.k.resize((size_t)(c.num_pages * bs * D));
  for (auto &v : c.k)
    v = msa_test::bf16(u(g));
  return c;
}

// Decode below the work threshold (one thread, no parallel region), just
// above it, and long enough to be cut into many key-range units: the same
// ids for 1 and 2 threads, and the reference's. Covers the narrow kernels'
// query-tile shapes (H = 1, 2, 3, 4, 8 queries) and key tails.
TEST_P(CpuPath, DecodeSerialAndThreadedSplitsAgree) {
  const uint64_t base = base_seed() ^ 0xDEC0DE;
  const int saved = omp_get_max_threads();
  const int heads[] = {1, 2, 3, 4, 8};
  const int64_t ctxs[] = {100, 450, 5000};
  int i = 0;
  for (int H : heads)
    for (int64_t ctx : ctxs) {
      const uint64_t seed = base + (uint64_t)i++;
      const int D = (i % 3 == 0) ? 72 : 128;
      msa_test::Case c = decode_case(seed, 1 + i % 3, ctx + i, H, D, 64);
      keys(c);
      omp_set_num_threads(1);
      const std::vector<int32_t> one = run_cpu(c);
      omp_set_num_threads(2);
      const std::vector<int32_t> two = run_cpu(c);
      ASSERT_EQ(one, two) << "1 vs 2 threads differ; " << c.describe();
      ASSERT_EQ(msa_test::compare_with_reference(c, two), "") << c.describe();
    }
  omp_set_num_threads(saved);
}

// The f8E4M3FN-only tests, on every path.
class CpuPathE4M3 : public CpuPath {};

// The cross-check of the two key types: e4m3 bytes (rounded values,
// subnormals and zeros, any byte incl. -0 and +-448, NaN bytes) stored as
// e4m3 and as their exact bf16 twins give the same ids, bit for bit, on the
// same path (prefill, chunked and decode sequences, both kernels).
TEST_P(CpuPathE4M3, E4M3KeysGiveTheIdsOfTheirBF16Twins) {
  const uint64_t base = base_seed() ^ 0xE4E3;
  const msa_test::E4M3Keys hows[] = {msa_test::kE4M3Rounded, msa_test::kE4M3Tiny,
                                     msa_test::kE4M3AnyByte, msa_test::kE4M3Mixed};
  for (int i = 0; i < 160; ++i) {
    msa_test::Case c = msa_test::make_random_case(base + i);
    msa_test::to_e4m3(c, base + i, hows[i % 4]);
    const std::vector<int32_t> got8 = run_cpu(c);
    c.k_type = MSA_KEY_BF16; // the twins, same path
    const std::vector<int32_t> got16 = run_cpu(c);
    ASSERT_EQ(got8, got16) << "MSA_TEST_SEED=" << base + i << " " << c.describe();
  }
  // Long decode rows too (the key range split over units and threads).
  for (int i = 0; i < 6; ++i) {
    msa_test::Case c = decode_case(base + 100 + i, 1 + i % 3, 3000 + 77 * i,
                                   1 + i % 5, i % 2 ? 72 : 128, i % 3 ? 64 : 16);
    msa_test::to_e4m3(c, base + 100 + i, hows[i % 4]);
    const std::vector<int32_t> got8 = run_cpu(c);
    c.k_type = MSA_KEY_BF16;
    ASSERT_EQ(got8, run_cpu(c)) << c.describe();
  }
}

// Every e4m3 byte at its exact value: block j (block_size 1) holds one key
// whose D elements are all byte b_j (the 256 bytes in a shuffled order), q
// is all ones, scale 1/8, so a block's score is D * value(b_j) / 8, exact in
// f32. With topk = 256 and order=score the ids must be the non-NaN bytes'
// blocks by descending value (ties, e.g. +0 / -0, to the smaller id), and
// no block of a NaN byte (0x7F, 0xFF) may be picked. The order is computed
// here from the bytes' fields (msa_test::e4m3_value). H = 1 scores on the
// narrow (decode) kernel, H = 16 on the wide one; D = 40 has a chunk tail.
// Also with MXCSR's DAZ and FTZ set on the calling thread (one thread): the
// e4m3 subnormals must not be flushed.
TEST_P(CpuPathE4M3, EveryE4M3ByteScoresAtItsValue) {
  std::mt19937_64 g(base_seed() ^ 0xB17E);
  const int saved = omp_get_max_threads();
  for (int H : {1, 16})
    for (int D : {32, 40, 128})
      for (int daz = 0; daz < 2; ++daz) {
        msa_test::Case c = msa_test::one_sequence(
            {H, D, 1, 256, 0, 0, 0, 0.125f, MSA_ORDER_SCORE}, 1, 255, 256, 256);
        c.lut.resize(256);
        for (uint32_t p = 0; p < 256; ++p)
          c.lut[p] = p;
        std::shuffle(c.lut.begin(), c.lut.end(), g); // pages shuffled too
        std::vector<uint8_t> byte(256); // byte of block j
        for (int b = 0; b < 256; ++b)
          byte[(size_t)b] = (uint8_t)b;
        std::shuffle(byte.begin(), byte.end(), g);
        c.q.assign((size_t)(H * D), msa_test::bf16(1.0f));
        c.k8.resize((size_t)(256 * D));
        for (int j = 0; j < 256; ++j)
          for (int d = 0; d < D; ++d)
            c.k8[(size_t)(c.lut[(size_t)j] * D + d)] = byte[(size_t)j];
        c.k.resize(c.k8.size());
        c.k_type = MSA_KEY_F8E4M3FN;
        std::vector<int32_t> want;
        for (int j = 0; j < 256; ++j)
          if (!msa_test::e4m3_is_nan(byte[(size_t)j]))
            want.push_back(j);
        std::sort(want.begin(), want.end(), [&](int32_t x, int32_t y) {
          const double vx = msa_test::e4m3_value(byte[(size_t)x]),
                       vy = msa_test::e4m3_value(byte[(size_t)y]);
          return vx != vy ? vx > vy : x < y; // ties: the smaller id first
        });
        want.resize(256, -1); // two NaN blocks: two -1 at the end
        omp_set_num_threads(daz ? 1 : saved);
#if defined(__x86_64__)
        const unsigned csr = __builtin_ia32_stmxcsr();
        if (daz)
          __builtin_ia32_ldmxcsr(csr | 0x8040u); // FTZ | DAZ
#endif
        const std::vector<int32_t> got = run_cpu(c);
#if defined(__x86_64__)
        __builtin_ia32_ldmxcsr(csr);
#endif
        omp_set_num_threads(saved);
        for (int h = 0; h < H; ++h)
          for (int x = 0; x < 256; ++x)
            ASSERT_EQ(got[(size_t)(h * 256 + x)], want[(size_t)x])
                << "H=" << H << " D=" << D << " daz=" << daz << " head " << h
                << " rank " << x << ": block of byte 0x" << std::hex
                << (int)(x < 254 ? byte[(size_t)want[(size_t)x]] : 0);
      }
}

// NaN bytes are NaN keys: in a decode batch with q > 0 and small keys,
// block 3 holds only 0x7F keys, block 5 only 0xFF keys and block 8 keys
// with one NaN byte each (the rest +448). With topk = every block, the
// three blocks score -inf and must not be selected; a decoding of the NaN
// bytes as any finite value (e.g. +-480, the pattern's value if the NaN
// case were dropped) gives block 3 or 8 the top score, and block 5 a finite
// one, which is then selected.
TEST_P(CpuPathE4M3, E4M3NaNBytesAreNaNKeys) {
  for (int H : {1, 4, 16})
    for (int D : {16, 72, 128}) {
      msa_test::Case c = decode_case(base_seed() ^ (uint64_t)(H * 1000 + D), 1,
                                     16 * 12, H, D, 16);
      for (auto &v : c.q)
        v = msa_test::bf16(0.25f + std::fabs(msa_bf16_to_float(v)));
      msa_test::to_e4m3(c, c.seed, msa_test::kE4M3Rounded);
      c.attrs.topk = 12;
      c.attrs.local_blocks = 0;
      auto key = [&](int64_t pos) { // the key at position pos of sequence 0
        return &c.k8[(size_t)((c.lut[(size_t)(pos / 16)] * 16 + pos % 16) * D)];
      };
      std::mt19937_64 g(c.seed);
      for (int64_t p = 0; p < 16; ++p) {
        uint8_t *k3 = key(3 * 16 + p), *k5 = key(5 * 16 + p), *k8 = key(8 * 16 + p);
        for (int d = 0; d < D; ++d) {
          k3[d] = 0x7F;
          k5[d] = 0xFF;
          k8[d] = 0x7E; // +448
        }
        k8[g() % (uint64_t)D] = (g() & 1) ? 0x7F : 0xFF;
      }
      const std::vector<int32_t> got = run_cpu(c);
      for (int h = 0; h < H; ++h) {
        int n = 0;
        for (int x = 0; x < 12; ++x) {
          const int32_t id = got[(size_t)(h * 12 + x)];
          ASSERT_TRUE(id != 3 && id != 5 && id != 8)
              << "a block of NaN-byte keys was selected; H=" << H << " D=" << D;
          n += id >= 0;
        }
        ASSERT_EQ(n, 9) << "H=" << H << " D=" << D;
      }
      ASSERT_EQ(msa_test::compare_with_reference(c, got), "") << c.describe();
    }
}

// The e4m3 -> bf16 row converters behind the AVX-512 back ends' key buffers
// (msa_cpu_internal.h), on rows of assorted lengths (full 64-byte steps and
// masked tails of both 32-element halves) into rows with padding; every
// byte value occurs in the full steps and in the tails (the lookups do not
// depend on the lane). Checked: the reference's value (NaN bytes: a bf16
// NaN of the byte's sign), the padding zeroed, nothing written past the
// rows, and the VBMI converter (where this CPU has it) bit-identical to
// the Highway one.
TEST(CpuE4M3Rows, EveryByteConvertsExactlyOnEveryConverter) {
  std::vector<msa_cpu_rows_fn> fns = {&msa_cpu::e4m3_rows_to_bf16_highway,
                                      &msa_cpu::e4m3_rows_to_bf16};
  const bool vbmi = msa_cpu::e4m3_vbmi_supported();
  if (vbmi)
    fns.push_back(&msa_cpu::e4m3_rows_to_bf16_vbmi);
  else
    std::printf("[ SKIPPED  ] the AVX512-VBMI converter: this CPU lacks avx512vbmi\n");
  for (int64_t D : {1, 2, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 192, 200, 256}) {
    const int64_t nrows = 256 / D + 3, ld = D + (D % 3);
    std::vector<uint8_t> src((size_t)(nrows * D));
    for (size_t i = 0; i < src.size(); ++i) // each byte value at many offsets
      src[i] = (uint8_t)((i * 97 + (size_t)D) & 0xFF);
    std::vector<std::vector<uint16_t>> outs;
    for (msa_cpu_rows_fn f : fns) {
      std::vector<uint16_t> dst((size_t)(nrows * ld + 64), 0xBEEF);
      f(src.data(), nrows, D, dst.data(), ld);
      for (int64_t r = 0; r < nrows; ++r)
        for (int64_t d = 0; d < ld; ++d) {
          const uint16_t got = dst[(size_t)(r * ld + d)];
          if (d >= D) {
            ASSERT_EQ(got, 0u) << "padding, D " << D << " row " << r << " col " << d;
            continue;
          }
          const uint8_t b = src[(size_t)(r * D + d)];
          const float v = msa_e4m3_to_float(b);
          if (std::isnan(v)) {
            ASSERT_EQ(got & 0x7F80u, 0x7F80u) << "byte " << (int)b;
            ASSERT_NE(got & 0x007Fu, 0u) << "byte " << (int)b;
            ASSERT_EQ(got >> 15, (uint16_t)(b >> 7)) << "byte " << (int)b;
          } else {
            ASSERT_EQ(got, msa_float_to_bf16(v)) << "byte " << (int)b << ", D " << D;
          }
        }
      for (size_t i = (size_t)(nrows * ld); i < dst.size(); ++i)
        ASSERT_EQ(dst[i], 0xBEEF) << "written past the rows, D " << D;
      outs.push_back(std::move(dst));
    }
    for (size_t k = 1; k < outs.size(); ++k)
      ASSERT_EQ(outs[k], outs[0]) << "converter " << k << " differs from Highway's, D " << D;
  }
}

// Calls from several application threads at once (the helper pool serves
// one call at a time; the others run on their caller alone): every call
// gives the ids of a call made alone.
TEST(CpuThreads, ConcurrentCallsGiveTheSameIds) {
  const uint64_t base = base_seed() ^ 0xC0C0;
  std::vector<msa_test::Case> cases;
  cases.push_back(decode_case(base, 3, 3000, 4, 128, 64));
  cases.push_back(decode_case(base + 1, 1, 700, 2, 64, 16));
  msa_test::Options opt;
  opt.max_keys = 2000;
  opt.max_new = 96;
  cases.push_back(msa_test::make_random_case(base + 2, opt));
  std::vector<std::vector<int32_t>> want;
  for (auto &c : cases)
    want.push_back(run_cpu(c));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th)
    threads.emplace_back([&, th] {
      for (int r = 0; r < 15; ++r) {
        const size_t i = (size_t)(th + r) % cases.size();
        msa_test::Case c = cases[i]; // own output buffer
        c.poison();
        msa_indexer_tensors_t t = c.tensors();
        if (msa_indexer_cpu(&t, &c.attrs) != MSA_STATUS_OK || c.out != want[i])
          mismatches.fetch_add(1);
      }
    });
  for (auto &t : threads)
    t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// msa_cpu_path_name() says what AUTO runs: the rule of msa_cpu_auto_rule.cpp
// applied to what this CPU supports (AMX; else, on AMD with avx512_bf16,
// Highway for decode with bf16 keys and vdpbf16ps for the rest; else
// Highway's best target).
TEST(CpuPathName, AutoNamesTheBackEndItRuns) {
  const bool amx = msa_cpu_set_path(MSA_CPU_PATH_AMX) == MSA_STATUS_OK;
  const bool bf16 = msa_cpu_set_path(MSA_CPU_PATH_AVX512BF16) == MSA_STATUS_OK;
  ASSERT_EQ(msa_cpu_set_path(MSA_CPU_PATH_HIGHWAY), MSA_STATUS_OK);
  const std::string hwy = msa_cpu_path_name();
  ASSERT_EQ(hwy.rfind("highway:", 0), 0u) << hwy;
  ASSERT_EQ(msa_cpu_set_path(MSA_CPU_PATH_AUTO), MSA_STATUS_OK);
  const std::string name = msa_cpu_path_name();
  __builtin_cpu_init();
  if (amx && !std::getenv("MSA_CPU_NO_AMX"))
    EXPECT_EQ(name, "auto: amx");
  else if (bf16 && !__builtin_cpu_is("intel"))
    EXPECT_EQ(name, "auto: " + hwy + " (bf16 decode) + avx512bf16 (e4m3 decode, prefill)");
  else
    EXPECT_EQ(name, "auto: " + hwy);
}

// The paths with keys of key_type (-1: both).
std::vector<PathParam> paths(int32_t key_type) {
  const PathParam bf16[] = {{MSA_CPU_PATH_AUTO, "auto", 1000, MSA_KEY_BF16},
                            {MSA_CPU_PATH_AMX, "amx", 1000, MSA_KEY_BF16},
                            {MSA_CPU_PATH_AVX512BF16, "avx512bf16", 1000, MSA_KEY_BF16},
                            {MSA_CPU_PATH_HIGHWAY, "highway", 1000, MSA_KEY_BF16},
                            {MSA_CPU_PATH_HWY_AVX2, "hwy_avx2", 300, MSA_KEY_BF16},
                            {MSA_CPU_PATH_HWY_EMU128, "hwy_emu128", 200, MSA_KEY_BF16}};
  // The same paths with f8E4M3FN keys (names "<path>_f8").
  static const char *const f8_names[] = {"auto_f8",    "amx_f8",      "avx512bf16_f8",
                                         "highway_f8", "hwy_avx2_f8", "hwy_emu128_f8"};
  std::vector<PathParam> v;
  for (const PathParam &p : bf16)
    if (key_type == MSA_KEY_BF16 || key_type < 0)
      v.push_back(p);
  // Half the random cases: the conversion is covered by the twin tests too.
  for (size_t i = 0; i < sizeof bf16 / sizeof bf16[0]; ++i)
    if (key_type == MSA_KEY_F8E4M3FN || key_type < 0)
      v.push_back({bf16[i].path, f8_names[i], bf16[i].cases / 2, MSA_KEY_F8E4M3FN});
  return v;
}

std::string param_name(const ::testing::TestParamInfo<PathParam> &p) {
  return std::string(p.param.name);
}
INSTANTIATE_TEST_SUITE_P(Paths, CpuPath, ::testing::ValuesIn(paths(-1)), param_name);
INSTANTIATE_TEST_SUITE_P(Paths, CpuPathE4M3,
                         ::testing::ValuesIn(paths(MSA_KEY_F8E4M3FN)), param_name);

// ---- run-time checks through the kernel entry ----------------------------

msa_test::Case valid_case() {
  msa_test::Options opt;
  opt.max_batch = 3;
  for (uint64_t s = 1;; ++s) {
    msa_test::Case c = msa_test::make_random_case(s, opt);
    bool all = c.batch == 3;
    for (int64_t b = 0; all && b < c.batch; ++b)
      all = c.off[b + 1] > c.off[b];
    if (all)
      return c;
  }
}

TEST(CpuChecks, InvalidInputGivesStatusMessageAndMinusOne) {
  struct Breaker {
    const char *what;
    void (*f)(msa_test::Case &);
    msa_status_t st;
    const char *msg;
  };
  const Breaker cases[] = {
      {"off0", [](msa_test::Case &c) { c.off[0] = 1; },
       MSA_STATUS_INVALID_METADATA, "input_row_offsets[0] = 1 must be 0"},
      {"decreasing",
       [](msa_test::Case &c) { c.off[2] = c.off[1] - 1; },
       MSA_STATUS_INVALID_METADATA, "must be non-decreasing (sequence 1)"},
      {"last", [](msa_test::Case &c) { c.off[3] -= 1; },
       MSA_STATUS_INVALID_METADATA, "must equal rows"},
      {"prefix", [](msa_test::Case &c) { c.cache[2] = c.prefix[2] - 1 + 0 * (c.prefix[2] = c.prefix[2] + 1); },
       MSA_STATUS_INVALID_METADATA, "for sequence 2"},
      {"kmax0", [](msa_test::Case &c) { c.kmax[0] = 0; },
       MSA_STATUS_INVALID_METADATA, "new tokens, more than k_max_lengths[0][0] = 0"},
      {"kmax1", [](msa_test::Case &c) { c.kmax[1] = 0; },
       MSA_STATUS_INVALID_METADATA, "more than k_max_lengths[0][1] = 0"},
      {"page", [](msa_test::Case &c) { c.lut[2 * c.max_pages] = (uint32_t)c.num_pages + 7; },
       MSA_STATUS_INVALID_METADATA, "is not a valid page id"},
      {"page_huge", [](msa_test::Case &c) { c.lut[c.max_pages] = 0xFFFFFFFFu; },
       MSA_STATUS_INVALID_METADATA, "k_lookup_table[1][0] = 4294967295 is not a valid page id"},
      {"logical", [](msa_test::Case &c) { c.max_pages = 0; c.lut.clear(); c.lut.push_back(0); },
       MSA_STATUS_INVALID_METADATA, "pages, more than the 0 columns"},
      {"topk", [](msa_test::Case &c) { c.attrs.init_blocks = c.attrs.topk; c.attrs.local_blocks = 1; },
       MSA_STATUS_INVALID_ARGUMENT, "exceeds topk"},
      {"layer", [](msa_test::Case &c) { c.attrs.layer_idx = (int32_t)c.num_layers; },
       MSA_STATUS_INVALID_ARGUMENT, "layer_idx"},
  };
  for (const Breaker &br : cases) {
    msa_test::Case c = valid_case();
    br.f(c);
    c.poison();
    msa_indexer_tensors_t t = c.tensors();
    EXPECT_EQ(msa_indexer_cpu(&t, &c.attrs), br.st) << br.what;
    EXPECT_NE(std::string(msa_last_error()).find(br.msg), std::string::npos)
        << br.what << ": \"" << msa_last_error() << "\"";
    // A rejected topk leaves out's extent unknown: nothing is written
    // (msa_indexer_fill_invalid); every other error fills out with -1.
    const int32_t want = std::string(br.what) == "topk" ? 0x7B7B7B7B : -1;
    for (int32_t v : c.out)
      ASSERT_EQ(v, want) << br.what;
  }
}

// ---- the _mlir_ciface_ entry ----------------------------------------------

using msa_test::call_ciface_cpu;
using msa_test::Descs;
using msa_test::descs;

int32_t call(Descs &d, const msa_indexer_attrs_t &a) {
  return call_ciface_cpu(d, a);
}

TEST(CpuCiface, ContiguousAndStridedMatchThePlainEntry) {
  const uint64_t base = base_seed() ^ 0xC1FA;
  for (int i = 0; i < 40; ++i) {
    msa_test::Case c = msa_test::make_random_case(base + i);
    if (i % 2) // the f8E4M3FN entry (strided keys: test_cpu_abi)
      msa_test::to_e4m3(c, base + i);
    const std::vector<int32_t> want = run_cpu(c);
    c.poison();
    Descs d = descs(c);
    ASSERT_EQ(msa_test::call_ciface_cpu_keys(d, c), 0) << msa_last_error();
    ASSERT_EQ(c.out, want);
    // Strided: q and the result live as every other element of bigger
    // buffers (stride 2 in the last dim), the lookup table column-major,
    // offset 3 on the offsets.
    std::vector<uint16_t> q2(c.q.size() * 2 + 1, 0xFFFF);
    for (size_t e = 0; e < c.q.size(); ++e)
      q2[2 * e] = c.q[e];
    d.q.allocated = d.q.aligned = q2.data();
    d.q.strides[0] *= 2;
    d.q.strides[1] *= 2;
    d.q.strides[2] = 2;
    std::vector<uint32_t> lutT(c.lut.size());
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t p = 0; p < c.max_pages; ++p)
        lutT[p * c.batch + b] = c.lut[b * c.max_pages + p];
    d.lut.allocated = d.lut.aligned = lutT.data();
    d.lut.strides[0] = 1;
    d.lut.strides[1] = c.batch;
    std::vector<uint32_t> off3(3, 77);
    off3.insert(off3.end(), c.off.begin(), c.off.end());
    d.off.allocated = d.off.aligned = off3.data();
    d.off.offset = 3;
    std::vector<int32_t> out2(c.out.size() * 2 + 1, 0x7B7B7B7B);
    d.out.allocated = d.out.aligned = out2.data();
    d.out.strides[0] *= 2;
    d.out.strides[1] *= 2;
    d.out.strides[2] = 2;
    ASSERT_EQ(msa_test::call_ciface_cpu_keys(d, c), 0) << msa_last_error();
    for (size_t e = 0; e < want.size(); ++e)
      ASSERT_EQ(out2[2 * e], want[e]);
    for (size_t e = 0; e < want.size(); ++e)
      ASSERT_EQ(out2[2 * e + 1], 0x7B7B7B7B) << "wrote between strides";
  }
}

TEST(CpuCiface, ShapeMismatchesAreErrors) {
  msa_test::Case c = valid_case();
  struct M {
    const char *what;
    void (*f)(Descs &, msa_indexer_attrs_t &);
    const char *msg;
  };
  const M ms[] = {
      {"prefix size", [](Descs &d, msa_indexer_attrs_t &) { d.pre.sizes[0] -= 1; },
       "prefix_lens: has 2 elements; expected batch = 3"},
      {"kblocks dim1", [](Descs &d, msa_indexer_attrs_t &) { d.k.sizes[1] = 2; },
       "k_blocks: dims 1 and 4 must be 1"},
      {"kmax shape", [](Descs &d, msa_indexer_attrs_t &) { d.kmax.sizes[1] = 1; },
       "k_max_lengths: is [1, 1]; expected [1, 2]"},
      {"out shape", [](Descs &d, msa_indexer_attrs_t &) { d.out.sizes[2] -= 1; },
       "result: is ["},
      {"H attr", [](Descs &, msa_indexer_attrs_t &a) { a.num_index_heads += 1; },
       "result: is ["},
      {"D attr", [](Descs &, msa_indexer_attrs_t &a) { a.idx_head_dim += 1; },
       "q dim 2 ="},
      {"bs attr", [](Descs &, msa_indexer_attrs_t &a) { a.block_size += 1; },
       "k_blocks dim 3 (page_size) = "},
      {"neg stride", [](Descs &d, msa_indexer_attrs_t &) { d.q.strides[0] = -1; },
       "q: dim 0 has negative stride -1"},
      {"bad page", [](Descs &d, msa_indexer_attrs_t &) { d.lut.aligned[0] = 1u << 30; },
       "k_lookup_table[0][0] = 1073741824 is not a valid page id"},
  };
  for (const M &m : ms) {
    msa_test::Case x = c;
    x.poison();
    Descs d = descs(x);
    msa_indexer_attrs_t a = x.attrs;
    m.f(d, a);
    testing::internal::CaptureStderr();
    const int32_t st = call(d, a);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(st, 0) << m.what;
    EXPECT_NE(err.find(std::string("msa.indexer_ragged_paged (cpu): ") + m.msg),
              std::string::npos)
        << m.what << ": " << err;
    if (std::string(m.what) != "out shape" &&
        std::string(m.what) != "H attr") {
      for (int32_t v : x.out)
        ASSERT_EQ(v, -1) << m.what;
    }
  }
}

} // namespace
