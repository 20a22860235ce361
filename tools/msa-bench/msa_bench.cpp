// msa-bench - the CPU kernel on the MiniMax-M3 configuration (H=4, D=128,
// block_size=page_size=128, topk=16, init=0, local=1, scale=128^-0.5).
//
// For each case: the kernel's median (and best) time, effective GFLOP/s
// (causal keys x D x 2 x H) and GB/s of index-K read (keys read x D x 2
// bytes), and, measured in the same run: the ratio to the peak of the
// instruction AUTO's back end uses for the case (AMX TDPBF16PS, vdpbf16ps, or
// f32 FMA at the Highway target's vector width) and to the vdpbf16ps peak,
// the ratio to the memory-read bandwidth (a buffer larger than the LLC; for
// decode also paired with a read right after each call, see
// paired_read_ratio), the AMX, vdpbf16ps and Highway back ends' times, the
// scalar reference's time, and the PyTorch baseline
// (tools/msa-bench/torch_baseline.py, run with /usr/bin/python3) doing the
// same math.
//
// Peaks (peak_gflops): each loop keeps enough independent accumulators to
// cover the instruction's latency times its pipes (inline assembly on fixed
// registers), and is timed in each thread's CPU time, so a core taken by
// another process for a while does not lower it. The bench also measures the
// clock (a chain of dependent multiplies, 3 cycles each) and, for the CPU
// models in documented_rates(), prints
// the documented per-cycle rate times that clock; a ratio's denominator is
// the larger of the two, so no ratio rests on an under-measured peak.
//
// --key-type f8e4m3fn runs every case with f8E4M3FN index-K; --key-type
// both runs each case twice in a row, bf16 then f8E4M3FN, on the same keys
// (the bf16 keys rounded to e4m3 and stored both ways: the two rows must
// give the same ids, which the bench checks), and the f8 row gives its time
// over the bf16 row's. Index-K GB/s counts 1 byte per f8 element.
//
//   msa-bench [--reps N] [--no-reference] [--no-torch] [--python PATH]
//             [--torch-script PATH] [--case NAME]
//             [--key-type bf16|f8e4m3fn|both]
#include "case_gen.h"
#include "msa/msa_kernels.h"
#include "msa/msa_reference.h"

// GCC 12 flags its own _mm512_undefined_*() inside the reduce intrinsics
// (a false positive in the header).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#include <cpuid.h>
#include <omp.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#ifndef MSA_BENCH_TORCH_SCRIPT
#define MSA_BENCH_TORCH_SCRIPT "torch_baseline.py"
#endif

namespace {

// The PyTorch baseline script: the source tree's copy when it is there (a
// build directory), else the installed one, <prefix>/share/msa, found from
// this executable's path (<prefix>/bin/msa-bench).
std::string default_torch_script() {
  if (access(MSA_BENCH_TORCH_SCRIPT, R_OK) == 0) return MSA_BENCH_TORCH_SCRIPT;
#if defined(MSA_BENCH_TORCH_SCRIPT_INSTALLED) && defined(MSA_BENCH_BINDIR)
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    std::string dir(exe);
    dir = dir.substr(0, dir.rfind('/'));                    // <prefix>/bin
    const std::string bindir = MSA_BENCH_BINDIR;
    if (dir.size() > bindir.size() &&
        dir.compare(dir.size() - bindir.size(), bindir.size(), bindir) == 0) {
      const std::string p =
          dir.substr(0, dir.size() - bindir.size()) + MSA_BENCH_TORCH_SCRIPT_INSTALLED;
      if (access(p.c_str(), R_OK) == 0) return p;
    }
  }
#endif
  return MSA_BENCH_TORCH_SCRIPT;  // not found: the baseline reports it missing
}

using clk = std::chrono::steady_clock;

double now_s() {
  return std::chrono::duration<double>(clk::now().time_since_epoch()).count();
}

struct BenchCase {
  const char *name;
  const char *kind; // "prefill" or "decode"
  int64_t batch, new_tokens, prefix;
};

// The buffers of one case: the tests' holder (test/unit/case_gen.h).
using Data = msa_test::Case;

uint64_t rng_state = 0x1234567;
uint64_t rnd() {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
float frnd() { return (float)((rnd() >> 11) * (1.0 / 9007199254740992.0) * 2 - 1); }

Data make(const BenchCase &bc) {
  Data d;
  const int H = 4, D = 128, bs = 128;
  d.attrs = {H, D, bs, 16, 0, 1, 0, (float)(1.0 / std::sqrt(128.0)),
             MSA_ORDER_SCORE};
  d.batch = bc.batch;
  d.rows = bc.batch * bc.new_tokens;
  d.num_layers = 1;
  d.page_size = bs;
  const int64_t keys = bc.prefix + bc.new_tokens;
  const int64_t pages = (keys + bs - 1) / bs;
  d.max_pages = pages;
  d.num_pages = pages * bc.batch;
  std::vector<uint32_t> perm((size_t)d.num_pages);
  std::iota(perm.begin(), perm.end(), 0u);
  for (int64_t i = d.num_pages - 1; i > 0; --i)
    std::swap(perm[(size_t)i], perm[(size_t)(rnd() % (uint64_t)(i + 1))]);
  d.lut = perm; // shuffled physical pages
  d.off.resize((size_t)bc.batch + 1);
  for (int64_t b = 0; b <= bc.batch; ++b)
    d.off[(size_t)b] = (uint32_t)(b * bc.new_tokens);
  d.prefix.assign((size_t)bc.batch, (uint32_t)bc.prefix);
  d.cache.assign((size_t)bc.batch, (uint32_t)bc.prefix);
  d.kmax = {(uint32_t)bc.new_tokens, (uint32_t)keys};
  d.q.resize((size_t)(d.rows * H * D));
  for (auto &v : d.q)
    v = msa_float_to_bf16(frnd());
  d.k.resize((size_t)(d.num_pages * bs * D));
  for (auto &v : d.k)
    v = msa_float_to_bf16(frnd());
  d.out.assign((size_t)(H * d.rows * 16), 0);
  return d;
}

// Causal (row, key) pairs of the case: what the kernel has to score.
double causal_pairs(const BenchCase &bc) {
  double s = 0;
  for (int64_t i = 0; i < bc.new_tokens; ++i)
    s += (double)(bc.prefix + i + 1);
  return s * (double)bc.batch;
}

#define BF16_TARGET                                                            \
  __attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw,avx512dq")))
#define AVX512_TARGET __attribute__((target("avx512f")))
#define AVX2_TARGET __attribute__((target("avx2,fma")))

// The peak loops below are inline assembly on fixed registers: written with
// intrinsics on an accumulator array, GCC 12 kept the 24 zmm accumulators in
// memory (a store-to-load chain per instruction: about a quarter of the real
// rate on Emerald Rapids) and merged chains that started equal.
// MSA_PEAK_OPS(op, src, reg) emits `op src, src2, reg` for each register of a
// list, so each listed register is one independent accumulator chain.
#define MSA_PEAK_1(op, r) op " %%" "zmm30, %%" "zmm31, %%" r "\n\t"
#define MSA_PEAK_Y(op, r) op " %%" "ymm14, %%" "ymm15, %%" r "\n\t"

// `iters` rounds of 24 independent zmm chains (zmm0-23) of `op`, whose two
// sources are zero (zmm30, zmm31): no subnormal or overflow slow path.
#define MSA_PEAK_ZMM24(OP)                                                     \
  __asm__ volatile("vpxord %%zmm30, %%zmm30, %%zmm30\n\t"                      \
                   "vpxord %%zmm31, %%zmm31, %%zmm31" ::: "xmm30", "xmm31");   \
  for (int64_t it = 0; it < iters; ++it)                                       \
    __asm__ volatile(                                                          \
        MSA_PEAK_1(OP, "zmm0") MSA_PEAK_1(OP, "zmm1") MSA_PEAK_1(OP, "zmm2")   \
        MSA_PEAK_1(OP, "zmm3") MSA_PEAK_1(OP, "zmm4") MSA_PEAK_1(OP, "zmm5")   \
        MSA_PEAK_1(OP, "zmm6") MSA_PEAK_1(OP, "zmm7") MSA_PEAK_1(OP, "zmm8")   \
        MSA_PEAK_1(OP, "zmm9") MSA_PEAK_1(OP, "zmm10") MSA_PEAK_1(OP, "zmm11") \
        MSA_PEAK_1(OP, "zmm12") MSA_PEAK_1(OP, "zmm13") MSA_PEAK_1(OP, "zmm14") \
        MSA_PEAK_1(OP, "zmm15") MSA_PEAK_1(OP, "zmm16") MSA_PEAK_1(OP, "zmm17") \
        MSA_PEAK_1(OP, "zmm18") MSA_PEAK_1(OP, "zmm19") MSA_PEAK_1(OP, "zmm20") \
        MSA_PEAK_1(OP, "zmm21") MSA_PEAK_1(OP, "zmm22") MSA_PEAK_1(OP, "zmm23") \
        ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",    \
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",  \
        "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23")

// vdpbf16ps throughput: 24 chains cover any latency up to 12 cycles at 2
// per cycle.
BF16_TARGET __attribute__((noinline)) float dp_loop(int64_t iters, float) {
  MSA_PEAK_ZMM24("vdpbf16ps");
  return 0.0f;
}

// f32 FMA throughput, 512-bit: 24 chains (latency 4 x 2 ports needs 8).
AVX512_TARGET __attribute__((noinline)) float fma512_loop(int64_t iters,
                                                          float) {
  MSA_PEAK_ZMM24("vfmadd231ps");
  return 0.0f;
}

// f32 FMA throughput, 256-bit: 12 independent ymm accumulators per thread
// (16 ymm registers on AVX2; latency 4-5 x 2 pipes needs 8-10).
AVX2_TARGET __attribute__((noinline)) float fma256_loop(int64_t iters,
                                                        float) {
  __asm__ volatile("vpxor %%ymm14, %%ymm14, %%ymm14\n\t"
                   "vpxor %%ymm15, %%ymm15, %%ymm15" ::: "xmm14", "xmm15");
  for (int64_t it = 0; it < iters; ++it)
    __asm__ volatile(
#define OP "vfmadd231ps"
        MSA_PEAK_Y(OP, "ymm0") MSA_PEAK_Y(OP, "ymm1") MSA_PEAK_Y(OP, "ymm2")
        MSA_PEAK_Y(OP, "ymm3") MSA_PEAK_Y(OP, "ymm4") MSA_PEAK_Y(OP, "ymm5")
        MSA_PEAK_Y(OP, "ymm6") MSA_PEAK_Y(OP, "ymm7") MSA_PEAK_Y(OP, "ymm8")
        MSA_PEAK_Y(OP, "ymm9") MSA_PEAK_Y(OP, "ymm10") MSA_PEAK_Y(OP, "ymm11")
#undef OP
        ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
        "xmm8", "xmm9", "xmm10", "xmm11");
  return 0.0f;
}

// AMX TDPBF16PS throughput: 4 independent 16x16 accumulators (tmm0..3) fed
// by 2 A and 2 B tiles, 16*16*32*2 flops per instruction. Needs the tile
// permission, which msa_cpu_set_path(MSA_CPU_PATH_AMX) obtains.
__attribute__((noinline)) float amx_loop(int64_t iters, float) {
#if defined(__x86_64__)
  struct alignas(64) Cfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
  } cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int i = 0; i < 8; ++i) {
    cfg.colsb[i] = 64;
    cfg.rows[i] = 16;
  }
  alignas(64) uint16_t ab[16 * 32];
  for (int i = 0; i < 16 * 32; ++i)
    ab[i] = 0x3C00; // bf16 2^-7
  alignas(64) float c[256];
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg) : "memory");
  __asm__ volatile("tilezero %%tmm0\n\ttilezero %%tmm1\n\t"
                   "tilezero %%tmm2\n\ttilezero %%tmm3\n\t"
                   "tileloadd (%0,%1,1), %%tmm4\n\t"
                   "tileloadd (%0,%1,1), %%tmm5\n\t"
                   "tileloadd (%0,%1,1), %%tmm6\n\t"
                   "tileloadd (%0,%1,1), %%tmm7"
                   :
                   : "r"(ab), "r"(64L)
                   : "memory");
  for (int64_t it = 0; it < iters; ++it)
    __asm__ volatile("tdpbf16ps %%tmm6, %%tmm4, %%tmm0\n\t"
                     "tdpbf16ps %%tmm7, %%tmm4, %%tmm1\n\t"
                     "tdpbf16ps %%tmm6, %%tmm5, %%tmm2\n\t"
                     "tdpbf16ps %%tmm7, %%tmm5, %%tmm3" ::
                         : "memory");
  __asm__ volatile("tilestored %%tmm0, (%0,%1,1)\n\ttilerelease"
                   :
                   : "r"(c), "r"(64L)
                   : "memory");
  return c[0];
#else
  (void)iters;
  return 0;
#endif
}

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// GFLOP/s of `loop` (iters iterations of `per_iter` flops) on all OpenMP
// threads: each thread's rate in its own CPU time, summed; best of 3.
double peak_gflops(float (*loop)(int64_t, float), int64_t iters,
                   double per_iter) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    float sink = 0;
    double sum = 0;
#pragma omp parallel reduction(+ : sink, sum)
    {
      const double t0 = thread_cpu_s();
      sink += loop(iters, 1e-9f);
      sum += (double)iters * per_iter / (thread_cpu_s() - t0) / 1e9;
    }
    if (sink == 12345.0f)
      std::printf(" ");
    best = std::max(best, sum);
  }
  return best;
}

// GHz of each thread, averaged: a chain of dependent 64-bit multiplies,
// 3 cycles each on every x86 core since Sandy Bridge and Zen (a chain of
// `add $1` is no clock: Golden Cove and later cores fold immediate adds at
// rename, and it read 8.6 GHz on Emerald Rapids).
double clock_ghz() {
  const int64_t n = 25000000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double sum = 0;
    int nt = 1;
#pragma omp parallel reduction(+ : sum)
    {
#pragma omp single
      nt = omp_get_num_threads();
      uint64_t x = 3;
      const double t0 = thread_cpu_s();
      for (int64_t i = 0; i < n; ++i)
        __asm__ volatile("imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\t"
                         "imul %0, %0"
                         : "+r"(x));
      sum += 4.0 * 3.0 * (double)n / (thread_cpu_s() - t0) / 1e9;
    }
    best = std::max(best, sum / nt);
  }
  return best;
}

// Documented per-core f32 flops per cycle of the instructions the back ends
// use (0 = not documented here), by CPU model (cpuid family / model).
struct Rates {
  const char *uarch;
  double fma256, fma512, amx;
};

Rates documented_rates() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  char vendor[13] = {0};
  __get_cpuid(0, &a, &b, &c, &d);
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  __get_cpuid(1, &a, &b, &c, &d);
  const unsigned fam = ((a >> 8) & 0xF) + (((a >> 8) & 0xF) == 0xF ? (a >> 20) & 0xFF : 0);
  const unsigned model = ((a >> 4) & 0xF) | (((a >> 16) & 0xF) << 4);
  const std::string v = vendor;
  if (v == "AuthenticAMD" && fam == 0x19) {
    // Zen 3 and Zen 4: two 256-bit FMA pipes (Zen 4 runs a zmm FMA on both
    // halves at once: one per cycle), so 2 x 8 x 2 = 32 flops per cycle.
    const bool zen4 = (model >= 0x10 && model <= 0x1F) ||
                      (model >= 0x60 && model <= 0x7F) ||
                      (model >= 0xA0 && model <= 0xAF);
    if (zen4)
      return {"AMD Zen 4", 32, 32, 0};
    return {"AMD Zen 3", 32, 0, 0};
  }
  if (v == "GenuineIntel" && fam == 6 && (model == 0x8F || model == 0xCF))
    // Sapphire / Emerald Rapids Xeon: two 512-bit FMA ports (0 and 5);
    // TDPBF16PS: 16 x 16 x 32 bf16 pairs per 16 cycles.
    return {"Intel Sapphire/Emerald Rapids", 32, 64, 1024};
  return {"unknown", 0, 0, 0};
}

AVX2_TARGET __attribute__((noinline)) uint64_t read_sum256(const uint64_t *p,
                                                           int64_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 16 <= n; i += 16) {
    a0 = _mm256_xor_si256(a0, _mm256_load_si256((const __m256i *)(p + i)));
    a1 = _mm256_xor_si256(a1, _mm256_load_si256((const __m256i *)(p + i + 4)));
    a2 = _mm256_xor_si256(a2, _mm256_load_si256((const __m256i *)(p + i + 8)));
    a3 = _mm256_xor_si256(a3, _mm256_load_si256((const __m256i *)(p + i + 12)));
  }
  a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
  alignas(32) uint64_t o[4];
  _mm256_store_si256((__m256i *)o, a0);
  return o[0] | o[1] | o[2] | o[3];
}

AVX512_TARGET __attribute__((noinline)) uint64_t read_sum512(const uint64_t *p,
                                                        int64_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm512_xor_si512(a0, _mm512_load_si512(p + i));
    a1 = _mm512_xor_si512(a1, _mm512_load_si512(p + i + 8));
    a2 = _mm512_xor_si512(a2, _mm512_load_si512(p + i + 16));
    a3 = _mm512_xor_si512(a3, _mm512_load_si512(p + i + 24));
  }
  a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
  return (uint64_t)_mm512_reduce_or_epi64(a0);
}

bool have_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
}

// A buffer for read-bandwidth measurements: first touch by the thread that
// will read each half.
struct ReadBuf {
  uint64_t *p;
  int64_t n;
  explicit ReadBuf(size_t bytes)
      : p(static_cast<uint64_t *>(std::aligned_alloc(64, bytes))),
        n((int64_t)(bytes / 8)) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i)
      p[i] = (uint64_t)i;
  }
  ~ReadBuf() { std::free(p); }
  ReadBuf(const ReadBuf &) = delete;
  ReadBuf &operator=(const ReadBuf &) = delete;
  // GB/s of one read of the whole buffer on all threads (static split).
  double once() const {
    uint64_t sink = 0;
    const double t0 = now_s();
#pragma omp parallel reduction(^ : sink)
    {
      const int nt = omp_get_num_threads(), id = omp_get_thread_num();
      const int64_t per = (n / nt) / 32 * 32;
      const int64_t lo = per * id, hi = id == nt - 1 ? n : lo + per;
      sink ^= have_avx512() ? read_sum512(p + lo, hi - lo)
                            : read_sum256(p + lo, hi - lo);
    }
    const double t = now_s() - t0;
    if (sink == 42)
      std::printf(" ");
    return (double)n * 8 / t / 1e9;
  }
};

// GB/s of reading `bytes` on all threads (static split), best of 5.
double read_bandwidth(size_t bytes) {
  const ReadBuf buf(bytes);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep)
    best = std::max(best, buf.once());
  return best;
}

// Median (and, through best, the fastest) of reps timed calls.
double median_time(Data &d, int reps, double *best = nullptr) {
  msa_indexer_tensors_t t = d.tensors();
  std::vector<double> ts;
  if (msa_indexer_cpu(&t, &d.attrs) != MSA_STATUS_OK) { // warm-up
    std::fprintf(stderr, "kernel failed: %s\n", msa_last_error());
    std::exit(1);
  }
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    msa_indexer_cpu(&t, &d.attrs);
    ts.push_back(now_s() - t0);
  }
  std::sort(ts.begin(), ts.end());
  if (best)
    *best = ts[0];
  return ts[ts.size() / 2];
}

// Load on this VM drifts within seconds, so a kernel time and a bandwidth
// measured at different moments compare badly. Paired: each rep times the
// kernel and, right after, one read of the 1 GiB buffer; the result is the
// median over reps of (index-K GB/s of that kernel call) / (read GB/s of
// that read).
double paired_read_ratio(Data &d, int reps, double kbytes, const ReadBuf &rb) {
  msa_indexer_tensors_t t = d.tensors();
  std::vector<double> ratio;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    msa_indexer_cpu(&t, &d.attrs);
    const double tk = now_s() - t0;
    const double bw = rb.once();
    ratio.push_back(kbytes / tk / 1e9 / bw);
  }
  std::sort(ratio.begin(), ratio.end());
  return ratio[ratio.size() / 2];
}

double torch_time(const std::string &python, const std::string &script,
                  const BenchCase &bc, int reps) {
  char cmd[1024];
  std::snprintf(cmd, sizeof cmd,
                "%s %s --batch %lld --new %lld --prefix %lld --reps %d 2>&1",
                python.c_str(), script.c_str(), (long long)bc.batch,
                (long long)bc.new_tokens, (long long)bc.prefix, reps);
  FILE *p = popen(cmd, "r");
  if (!p)
    return NAN;
  char line[512];
  double ms = NAN;
  while (std::fgets(line, sizeof line, p)) {
    double v;
    if (std::sscanf(line, "median_ms %lf", &v) == 1)
      ms = v;
    else
      std::fprintf(stderr, "  [torch] %s", line);
  }
  pclose(p);
  return ms / 1e3;
}

// The back end AUTO runs for a decode or a prefill case with bf16 or e4m3
// keys, from msa_cpu_path_name(): "auto: X", or parts "NAME (ROLE, ...)"
// joined by " + " with the roles decode / bf16 decode / e4m3 decode /
// prefill (msa_cpu_auto_rule.cpp).
std::string auto_backend(bool decode, bool f8) {
  std::string n = msa_cpu_path_name();
  if (n.rfind("auto: ", 0) == 0)
    n = n.substr(6);
  if (n.find(" (") == std::string::npos)
    return n;
  const std::string want = !decode ? "prefill" : f8 ? "e4m3 decode" : "bf16 decode";
  for (size_t at = 0; at < n.size();) {
    size_t end = n.find(" + ", at);
    if (end == std::string::npos)
      end = n.size();
    const std::string part = n.substr(at, end - at); // "NAME (ROLE, ROLE)"
    const size_t open = part.find(" (");
    const std::string roles = part.substr(open + 2, part.size() - open - 3);
    for (size_t r = 0; r <= roles.size();) {
      size_t comma = roles.find(", ", r);
      if (comma == std::string::npos)
        comma = roles.size();
      const std::string role = roles.substr(r, comma - r);
      if (role == want || (decode && role == "decode"))
        return part.substr(0, open);
      r = comma + 2;
    }
    at = end + 3;
  }
  return n;
}

} // namespace

int main(int argc, char **argv) {
  int reps = 0;
  bool do_ref = true, do_torch = true;
  std::string python = "/usr/bin/python3", script = default_torch_script(),
              only, key_type = "bf16";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (a == "--no-reference")
      do_ref = false;
    else if (a == "--no-torch")
      do_torch = false;
    else if (a == "--python" && i + 1 < argc)
      python = argv[++i];
    else if (a == "--torch-script" && i + 1 < argc)
      script = argv[++i];
    else if (a == "--case" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--key-type" && i + 1 < argc &&
             (std::string(argv[i + 1]) == "bf16" ||
              std::string(argv[i + 1]) == "f8e4m3fn" ||
              std::string(argv[i + 1]) == "both"))
      key_type = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--no-reference] [--no-torch] "
                           "[--python PATH] [--torch-script PATH] [--case NAME] "
                           "[--key-type bf16|f8e4m3fn|both]\n",
                   argv[0]);
      return 2;
    }
  }
  std::vector<int32_t> key_types;
  if (key_type != "f8e4m3fn")
    key_types.push_back(MSA_KEY_BF16);
  if (key_type != "bf16")
    key_types.push_back(MSA_KEY_F8E4M3FN);
  const BenchCase cases[] = {
      {"prefill_T2048_p0", "prefill", 1, 2048, 0},
      {"prefill_T1024_p15360", "prefill", 1, 1024, 15360},
      {"decode_B1_ctx8192", "decode", 1, 1, 8191},
      {"decode_B8_ctx32768", "decode", 8, 1, 32767},
      {"decode_B16_ctx131072", "decode", 16, 1, 131071}, // index-K > LLC
  };
  msa_cpu_set_path(MSA_CPU_PATH_AUTO);
  std::printf("threads: %d, kernel path: %s\n", omp_get_max_threads(),
              msa_cpu_path_name());
  const bool have_amx = msa_cpu_set_path(MSA_CPU_PATH_AMX) == MSA_STATUS_OK;
  const bool have_bf16 =
      msa_cpu_set_path(MSA_CPU_PATH_AVX512BF16) == MSA_STATUS_OK;
  msa_cpu_set_path(MSA_CPU_PATH_AUTO);
  const Rates doc = documented_rates();
  const double ghz = clock_ghz();
  const int nt = omp_get_max_threads();
  const double peak_bf16 =
      have_bf16 ? peak_gflops(dp_loop, 2000000, 24.0 * 64.0) : NAN;
  const double peak_fma512 =
      have_avx512() ? peak_gflops(fma512_loop, 2000000, 24.0 * 32.0) : NAN;
  const double peak_fma256 = peak_gflops(fma256_loop, 4000000, 12.0 * 16.0);
  const double peak_amx =
      have_amx ? peak_gflops(amx_loop, 200000, 4.0 * 16 * 16 * 32 * 2) : NAN;
  // The larger of measured and documented x clock x threads.
  auto correct = [&](double measured, double per_cycle) {
    const double d = per_cycle > 0 ? per_cycle * ghz * nt : NAN;
    return std::isnan(measured) ? d : std::isnan(d) ? measured : std::max(measured, d);
  };
  auto doc_str = [&](double per_cycle) {
    char b[64];
    if (per_cycle > 0)
      std::snprintf(b, sizeof b, "%.1f", per_cycle * ghz * nt);
    else
      std::snprintf(b, sizeof b, "-");
    return std::string(b);
  };
  const ReadBuf big((size_t)1 << 30);
  double bw = 0;
  for (int rep = 0; rep < 5; ++rep)
    bw = std::max(bw, big.once());
  const double bw_llc = read_bandwidth((size_t)64 << 20);
  std::printf("CPU: %s, clock %.2f GHz (per thread, dependent multiplies)\n",
              doc.uarch, ghz);
  std::printf("peaks, all threads, GFLOP/s (measured / documented x clock): "
              "f32 FMA 256-bit %.1f / %s, f32 FMA 512-bit %.1f / %s, "
              "vdpbf16ps %.1f / -, AMX TDPBF16PS %.1f / %s\n",
              peak_fma256, doc_str(doc.fma256).c_str(), peak_fma512,
              doc_str(doc.fma512).c_str(), peak_bf16, peak_amx,
              doc_str(doc.amx).c_str());
  std::printf("read bandwidth %.1f GB/s (1 GiB buffer), %.1f GB/s (64 MiB, "
              "LLC-resident)\n\n",
              bw, bw_llc);
  const double peak256 = correct(peak_fma256, doc.fma256);
  const double peak512 = correct(peak_fma512, doc.fma512);
  const double peak_amx_c = correct(peak_amx, doc.amx);
  std::printf("| case | index-K | AUTO runs | instruction | kernel ms (median) | best ms | "
              "GFLOP/s | %% of its instruction's peak | %% of bf16 peak | "
              "index-K GB/s | %% of read BW | %% of read BW (best) | "
              "%% of read BW (paired) | AMX-only ms | bf16-only ms | "
              "Highway-only ms | scalar ref ms | PyTorch ms | "
              "speed-up vs PyTorch | speed-up vs scalar | ms / bf16 ms |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
              "---|---|---|---|---|---|\n");
  auto cell = [](double v, const char *fmt) {
    char b[64];
    if (std::isnan(v) || std::isinf(v))
      std::snprintf(b, sizeof b, "-");
    else
      std::snprintf(b, sizeof b, fmt, v);
    return std::string(b);
  };
  for (const BenchCase &bc : cases) {
    if (!only.empty() && only != bc.name)
      continue;
    Data d = make(bc);
    if (key_types.back() == MSA_KEY_F8E4M3FN) // k: the e4m3 values' bf16 twins
      msa_test::to_e4m3(d, 1, msa_test::kE4M3Rounded);
    double t_bf16 = NAN;
    std::vector<int32_t> ids_bf16;
    for (const int32_t kt : key_types) {
    d.k_type = kt;
    const bool f8 = kt == MSA_KEY_F8E4M3FN;
    const bool decode = std::string(bc.kind) == "decode";
    const int r = reps > 0 ? reps : (decode ? 50 : 15);
    const int r2 = std::max(3, r / 5);
    msa_cpu_set_path(MSA_CPU_PATH_AUTO);
    const std::string runs = auto_backend(decode, f8);
    double tbest = 0;
    const double t = median_time(d, r, &tbest);
    msa_cpu_set_path(MSA_CPU_PATH_HIGHWAY);
    const double th = median_time(d, r2);
    double tb = NAN, ta = NAN;
    if (have_bf16) {
      msa_cpu_set_path(MSA_CPU_PATH_AVX512BF16);
      tb = median_time(d, r2);
    }
    if (have_amx) {
      msa_cpu_set_path(MSA_CPU_PATH_AMX);
      ta = median_time(d, r2);
    }
    msa_cpu_set_path(MSA_CPU_PATH_AUTO);
    const double kbytes =
        (double)bc.batch * (double)(bc.prefix + bc.new_tokens) * 128 * (f8 ? 1 : 2);
    const double paired =
        decode ? paired_read_ratio(d, std::max(5, r / 3), kbytes, big) : NAN;
    // The instruction AUTO's back end spends its flops on for this case.
    const bool amx = runs == "amx", bf16 = runs == "avx512bf16";
    const bool wide512 = runs == "highway:AVX3";
    const char *uses = amx ? "AMX TDPBF16PS" : bf16 ? "vdpbf16ps"
                       : wide512 ? "f32 FMA 512-bit" : "f32 FMA 256-bit";
    const double own_peak = amx ? peak_amx_c : bf16 ? peak_bf16
                            : wide512 ? peak512 : peak256;
    const double pairs = causal_pairs(bc);
    const double flops = pairs * 128 * 2 * 4;
    double tref = NAN;
    if (do_ref && flops < 2e10 && !f8) {
      msa_indexer_tensors_t tt = d.tensors();
      const double t0 = now_s();
      msa_indexer_reference(&tt, &d.attrs);
      tref = now_s() - t0;
    }
    const double ttorch =
        do_torch && !f8 ? torch_time(python, script, bc, decode ? 10 : 3) : NAN;
    { // the ids of AUTO, compared across the key types
      msa_cpu_set_path(MSA_CPU_PATH_AUTO);
      msa_indexer_tensors_t tt = d.tensors();
      msa_indexer_cpu(&tt, &d.attrs);
      if (!f8)
        ids_bf16 = d.out;
      else if (!ids_bf16.empty() && ids_bf16 != d.out)
        std::fprintf(stderr, "%s: f8E4M3FN ids differ from the bf16 twins' ids\n",
                     bc.name);
    }
    if (!f8)
      t_bf16 = t;
    const double gf = flops / t / 1e9;
    std::printf("| %s | %s | %s | %s | %.3f | %.3f | %.1f | %s | %s | %.1f | %.1f%% | "
                "%.1f%% | %s | %s | %s | %.3f | %s | %s | %s | %s | %s |\n",
                bc.name, f8 ? "f8E4M3FN" : "bf16", runs.c_str(), uses, t * 1e3,
                tbest * 1e3, gf,
                cell(100.0 * gf / own_peak, "%.1f%%").c_str(),
                cell(100.0 * gf / peak_bf16, "%.1f%%").c_str(),
                kbytes / t / 1e9, 100.0 * kbytes / t / 1e9 / bw,
                100.0 * kbytes / tbest / 1e9 / bw,
                cell(100.0 * paired, "%.1f%%").c_str(),
                cell(ta * 1e3, "%.3f").c_str(), cell(tb * 1e3, "%.3f").c_str(),
                th * 1e3, cell(tref * 1e3, "%.1f").c_str(),
                cell(ttorch * 1e3, "%.2f").c_str(),
                cell(ttorch / t, "%.1fx").c_str(),
                cell(tref / t, "%.0fx").c_str(),
                cell(f8 ? t / t_bf16 : NAN, "%.2f").c_str());
    std::fflush(stdout);
    }
  }
  return 0;
}
