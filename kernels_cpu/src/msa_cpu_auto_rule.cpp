// msa_cpu_auto_rule.cpp - which back end MSA_CPU_PATH_AUTO runs on this CPU.
//
// A fixed rule on the CPU's features and vendor, not a timing calibration:
// paths differ from each other in the last bits of a score, so a choice that
// depended on timings (and so on the machine's load at start-up) could give
// two processes on the same machine different ids for the same near-tie.
// The rule rests on the back ends' times measured side by side
// (docs/PERFORMANCE.md, CPU section):
//   - amx_bf16 with the tile state granted: AMX for every sequence (Intel
//     Xeon, Sapphire Rapids class: prefill T=2048 2.7 ms vs 9.3 ms Highway
//     and 13.8 ms vdpbf16ps; decode B=8 x 32768 1.8 ms vs 4.9 ms vdpbf16ps).
//   - avx512_bf16 without AMX: decode (sequences with fewer than
//     kNarrowQueries queries) on the vdpbf16ps kernel on every vendor (Intel
//     with MSA_CPU_NO_AMX=1: 4.9 ms vs 11.9 ms for the previous Highway
//     kernel; AMD Zen 4: the fastest path in issue 14's measurements).
//     Prefill on vdpbf16ps on AMD (Zen 4: 5.5 ms vs 11.0 ms Highway at
//     T=2048, 41 ms vs 83 ms at T=1024 after 15360: vdpbf16ps does twice the
//     flops of an f32 FMA per instruction there) but on Highway's f32 FMA on
//     Intel (9.3 ms vs 13.8 ms, 71.6 ms vs 101.1 ms: vdpbf16ps issues at
//     half the rate of FMA, so the f32 kernel's tiles win).
//   - neither (e.g. AMD Zen 3, AVX2 only): Highway's best target for both.
#include "msa_cpu_internal.h"

#include <cstdio>

namespace msa_cpu {
namespace {

enum class Backend { kAmx, kBf16, kHighway };

struct AutoChoice {
  Backend narrow; // decode: fewer than kNarrowQueries queries
  Backend wide;   // prefill
};

AutoChoice choose() {
  if (amx_supported())
    return {Backend::kAmx, Backend::kAmx};
  if (bf16_supported()) {
    __builtin_cpu_init();
    const bool intel = __builtin_cpu_is("intel");
    return {Backend::kBf16, intel ? Backend::kHighway : Backend::kBf16};
  }
  return {Backend::kHighway, Backend::kHighway};
}

const AutoChoice &choice() {
  static const AutoChoice c = choose();
  return c;
}

ScoreFn fn(Backend b) {
  switch (b) {
  case Backend::kAmx: return score_amx;
  case Backend::kBf16: return score_bf16;
  default: return score_hwy;
  }
}

void name(Backend b, char *buf, size_t cap) {
  switch (b) {
  case Backend::kAmx: std::snprintf(buf, cap, "amx"); break;
  case Backend::kBf16: std::snprintf(buf, cap, "avx512bf16"); break;
  default: std::snprintf(buf, cap, "highway:%s", hwy_target_name()); break;
  }
}

} // namespace

ScoreFn auto_score_fn(bool narrow) {
  return fn(narrow ? choice().narrow : choice().wide);
}

const char *auto_path_name() {
  static thread_local char buf[96];
  char n[32], w[32];
  name(choice().narrow, n, sizeof n);
  name(choice().wide, w, sizeof w);
  if (choice().narrow == choice().wide)
    std::snprintf(buf, sizeof buf, "auto: %s", n);
  else
    std::snprintf(buf, sizeof buf, "auto: %s (decode) + %s (prefill)", n, w);
  return buf;
}

} // namespace msa_cpu
