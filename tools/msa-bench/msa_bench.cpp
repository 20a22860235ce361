// msa-bench - the CPU kernel on the MiniMax-M3 configuration (H=4, D=128,
// block_size=page_size=128, topk=16, init=0, local=1, scale=128^-0.5).
//
// For each case: the kernel's median (and best) time, effective GFLOP/s
// (causal keys x D x 2 x H) and GB/s of index-K read (keys read x D x 2
// bytes), and, measured in the same run: the ratio to this machine's
// vdpbf16ps peak on all cores (the yardstick) and to the peak of the
// instruction the kernel actually uses for the case (AMX TDPBF16PS,
// vdpbf16ps or f32 FMA, each measured with independent accumulators on all
// threads), the ratio to its memory-read bandwidth (a buffer larger than the
// LLC; for decode also paired with a read right after each call, see
// paired_read_ratio), the AMX, vdpbf16ps and Highway (f32) back ends' times, the scalar
// reference's time, and the
// PyTorch baseline (tools/msa-bench/torch_baseline.py, run with
// /usr/bin/python3) doing the same math.
//
//   msa-bench [--reps N] [--no-reference] [--no-torch] [--python PATH]
//             [--torch-script PATH] [--case NAME]
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
#include <omp.h>

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

// vdpbf16ps throughput: 24 independent accumulators per thread.
BF16_TARGET __attribute__((noinline)) float dp_loop(int64_t iters, float seed) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(seed * (float)i);
  const __m512i a = _mm512_set1_epi32(0x3F803F80);
  __m512i b = _mm512_set1_epi32(0x3C003C00);
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)a, (__m512bh)b);
    __asm__ volatile("" : "+v"(b));
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i)
    s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

// f32 FMA throughput: 24 independent zmm accumulators per thread.
BF16_TARGET __attribute__((noinline)) float fma_loop(int64_t iters,
                                                     float seed) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(seed * (float)i);
  const __m512 a = _mm512_set1_ps(1.0f);
  __m512 b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_fmadd_ps(a, b, acc[i]);
    __asm__ volatile("" : "+v"(b));
  }
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i)
    s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
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

// GFLOP/s of `loop` (iters iterations of `per_iter` flops) on all OpenMP
// threads, best of 3.
double peak_gflops(float (*loop)(int64_t, float), int64_t iters,
                   double per_iter) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    float sink = 0;
    const double t0 = now_s();
    int nt = 1;
#pragma omp parallel reduction(+ : sink)
    {
#pragma omp single
      nt = omp_get_num_threads();
      sink += loop(iters, 1e-9f);
    }
    const double t = now_s() - t0;
    if (sink == 12345.0f)
      std::printf(" ");
    best = std::max(best, (double)nt * (double)iters * per_iter / t / 1e9);
  }
  return best;
}

BF16_TARGET __attribute__((noinline)) uint64_t read_sum(const uint64_t *p,
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
      sink ^= read_sum(p + lo, hi - lo);
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

} // namespace

int main(int argc, char **argv) {
  int reps = 0;
  bool do_ref = true, do_torch = true;
  std::string python = "/usr/bin/python3", script = MSA_BENCH_TORCH_SCRIPT,
              only;
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
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--no-reference] [--no-torch] "
                           "[--python PATH] [--torch-script PATH] [--case NAME]\n",
                   argv[0]);
      return 2;
    }
  }
  const BenchCase cases[] = {
      {"prefill_T2048_p0", "prefill", 1, 2048, 0},
      {"prefill_T1024_p15360", "prefill", 1, 1024, 15360},
      {"decode_B1_ctx8192", "decode", 1, 1, 8191},
      {"decode_B8_ctx32768", "decode", 8, 1, 32767},
      {"decode_B16_ctx131072", "decode", 16, 1, 131071}, // index-K > LLC
  };
  std::printf("threads: %d, kernel path: %s\n", omp_get_max_threads(),
              msa_cpu_path_name());
  const bool have_amx = msa_cpu_set_path(MSA_CPU_PATH_AMX) == MSA_STATUS_OK;
  const bool have_bf16 =
      msa_cpu_set_path(MSA_CPU_PATH_AVX512BF16) == MSA_STATUS_OK;
  msa_cpu_set_path(MSA_CPU_PATH_AUTO);
  const std::string auto_name = msa_cpu_path_name();
  const bool auto_amx = auto_name.find("amx") != std::string::npos;
  const bool auto_bf16 = auto_name.find("avx512bf16") != std::string::npos;
  const double peak_bf16 =
      have_bf16 ? peak_gflops(dp_loop, 5000000, 24.0 * 64.0) : NAN;
  const double peak_fma = peak_gflops(fma_loop, 5000000, 24.0 * 32.0);
  const double peak_amx =
      have_amx ? peak_gflops(amx_loop, 200000, 4.0 * 16 * 16 * 32 * 2) : NAN;
  const ReadBuf big((size_t)1 << 30);
  double bw = 0;
  for (int rep = 0; rep < 5; ++rep)
    bw = std::max(bw, big.once());
  const double bw_llc = read_bandwidth((size_t)64 << 20);
  std::printf("measured (all threads): vdpbf16ps peak %.1f GFLOP/s, f32 FMA "
              "peak %.1f GFLOP/s, AMX TDPBF16PS peak %.1f GFLOP/s; read "
              "bandwidth %.1f GB/s (1 GiB buffer), %.1f GB/s (64 MiB, "
              "LLC-resident)\n\n",
              peak_bf16, peak_fma, peak_amx, bw, bw_llc);
  std::printf("| case | kernel uses | kernel ms (median) | best ms | GFLOP/s | "
              "%% of bf16 peak | %% of its instruction's peak | index-K GB/s | "
              "%% of read BW | %% of read BW (best) | %% of read BW (paired) | "
              "AMX-only ms | "
              "bf16-only ms | Highway-only ms | scalar ref ms | PyTorch ms | "
              "speed-up vs PyTorch | speed-up vs scalar |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
              "---|---|\n");
  for (const BenchCase &bc : cases) {
    if (!only.empty() && only != bc.name)
      continue;
    Data d = make(bc);
    const bool decode = std::string(bc.kind) == "decode";
    const int r = reps > 0 ? reps : (decode ? 50 : 15);
    const int r2 = std::max(3, r / 5);
    msa_cpu_set_path(MSA_CPU_PATH_AUTO);
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
        (double)bc.batch * (double)(bc.prefix + bc.new_tokens) * 128 * 2;
    const double paired =
        decode ? paired_read_ratio(d, std::max(5, r / 3), kbytes, big) : NAN;
    // The instruction AUTO's kernel spends its flops on for this case.
    const char *uses = auto_amx ? "AMX" : (auto_bf16 && decode) ? "vdpbf16ps"
                                                                : "f32 FMA";
    const double own_peak = auto_amx ? peak_amx
                            : (auto_bf16 && decode) ? peak_bf16
                                                    : peak_fma;
    const double pairs = causal_pairs(bc);
    const double flops = pairs * 128 * 2 * 4;
    double tref = NAN;
    if (do_ref && flops < 2e10) {
      msa_indexer_tensors_t tt = d.tensors();
      const double t0 = now_s();
      msa_indexer_reference(&tt, &d.attrs);
      tref = now_s() - t0;
    }
    const double ttorch =
        do_torch ? torch_time(python, script, bc, decode ? 10 : 3) : NAN;
    std::printf("| %s | %s | %.3f | %.3f | %.1f | %.1f%% | %.1f%% | %.1f | "
                "%.1f%% | %.1f%% | %.1f%% | %.3f | %.3f | %.3f | %.1f | %.2f | %.1fx | "
                "%.0fx |\n",
                bc.name, uses, t * 1e3, tbest * 1e3, flops / t / 1e9,
                100.0 * flops / t / 1e9 / peak_bf16,
                100.0 * flops / t / 1e9 / own_peak, kbytes / t / 1e9,
                100.0 * kbytes / t / 1e9 / bw,
                100.0 * kbytes / tbest / 1e9 / bw, 100.0 * paired, ta * 1e3, tb * 1e3,
                th * 1e3, tref * 1e3, ttorch * 1e3, ttorch / t, tref / t);
    std::fflush(stdout);
  }
  return 0;
}
