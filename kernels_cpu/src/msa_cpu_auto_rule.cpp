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
//   - avx512_bf16 without AMX, Intel (Emerald Rapids with AMX hidden by the
//     hypervisor, or MSA_CPU_NO_AMX=1): Highway's f32 FMA kernels for both
//     (2026-12-03, same run: decode B=8 x 32768 3.1 ms vs 6.7 ms on
//     vdpbf16ps, B=16 x 131072 36 vs 65 ms; prefill T=2048 11.2 vs 16.5 ms:
//     vdpbf16ps issues about once per 2.4 cycles there, FMA twice a cycle, so
//     the f32 kernels do twice its products per cycle).
//   - avx512_bf16 without AMX, AMD: vdpbf16ps for prefill (wide sequences)
//     and for decode with f8E4M3FN keys, Highway's f32 kernel for decode
//     with bf16 keys. Zen 4 (issue 14): prefill T=2048 5.5 ms vs 11.0 ms
//     Highway, T=1024 after 15360 41 vs 83 ms (vdpbf16ps does twice the
//     flops of an f32 FMA per instruction there). Zen 5 (EPYC family 26,
//     2026-12-04, pairs from the same runs): prefill T=2048 2.9 ms vs 5.6
//     Highway; decode with the vdpbf16ps kernel's 4 x 4 (query, key) tiles:
//     e4m3 keys B=16 x 131072 10.7-12.1 ms vs 13.2-13.8 Highway, B=8 x 32768
//     1.24-1.81 vs 1.52-1.61; bf16 keys B=16 Highway faster in 7 of 9 pairs
//     (by ~8%; 14.8-16.8 vs 16.7-19.1 ms while the host read 42-49 GB/s),
//     B=8 in 4 of 6, B=1 x 8192 slower (0.035-0.042 vs 0.030-0.032 ms:
//     cache-resident, a few microseconds either way).
//   - neither (e.g. AMD Zen 3, AVX2 only): Highway's best target for both.
#include "msa_cpu_internal.h"

#include <cstdio>
#include <string>

namespace msa_cpu {

namespace {

// "auto: X" when one kernel runs everything, else its parts with their
// roles, e.g. "auto: highway:AVX3 (bf16 decode) + avx512bf16 (e4m3 decode,
// prefill)" (msa-bench reads them back).
void name_plan(Plan *p) {
  const bool split_decode = p->narrow.fn != p->narrow_e4m3.fn;
  if (!split_decode && p->narrow.fn == p->wide.fn) {
    std::snprintf(p->name, sizeof p->name, "auto: %s", p->narrow.name);
    return;
  }
  const Kernel *k[3] = {&p->narrow, &p->narrow_e4m3, &p->wide};
  const char *role[3] = {split_decode ? "bf16 decode" : "decode", "e4m3 decode", "prefill"};
  std::string n = "auto:";
  bool done[3] = {false, !split_decode, false};
  for (int i = 0; i < 3; ++i) {
    if (done[i])
      continue;
    n += std::string(i ? " + " : " ") + k[i]->name + " (" + role[i];
    for (int m = i + 1; m < 3; ++m)
      if (!done[m] && k[m]->fn == k[i]->fn) {
        n += std::string(", ") + role[m];
        done[m] = true;
      }
    n += ")";
  }
  std::snprintf(p->name, sizeof p->name, "%s", n.c_str());
}

} // namespace

void auto_plan(Plan *p) {
  Kernel hwy;
  hwy_kernel(0, &hwy); // the best compiled target; the portable one at worst
  const Kernel amx = {score_amx, "amx"}, bf16 = {score_bf16, "avx512bf16"};
  if (amx_supported()) {
    p->narrow = p->narrow_e4m3 = p->wide = amx;
  } else if (bf16_supported()) {
    __builtin_cpu_init();
    if (__builtin_cpu_is("intel")) {
      p->narrow = p->narrow_e4m3 = p->wide = hwy;
    } else {
      p->narrow = hwy;
      p->narrow_e4m3 = p->wide = bf16;
    }
  } else {
    p->narrow = p->narrow_e4m3 = p->wide = hwy;
  }
  name_plan(p);
}

} // namespace msa_cpu
