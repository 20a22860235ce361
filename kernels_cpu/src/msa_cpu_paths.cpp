// msa_cpu_paths.cpp - the CPU back ends as one table, the path selector and
// the resolution of AUTO.
//
// Each path's plan (which kernel scores narrow and wide sequences) is a pure
// function of the CPU, the build and MSA_CPU_NO_AMX (read once): the table is
// resolved once per process, so whether a path is available and what it runs
// never depends on the paths selected before. The selector is one atomic
// int; a call reads it once (current_plan) and runs its whole batch with
// that plan, so msa_cpu_set_path may run beside calls on other threads.
#include "msa_cpu_internal.h"

#include <atomic>
#include <cstdio>

namespace msa_cpu {
namespace {

bool plan_of(const Kernel &k, Plan *p) {
  p->narrow = p->narrow_e4m3 = p->wide = k;
  std::snprintf(p->name, sizeof p->name, "%s", k.name);
  return true;
}

bool plan_amx(Plan *p) {
  return amx_supported() && plan_of({score_amx, "amx"}, p);
}

bool plan_bf16(Plan *p) {
  return bf16_supported() && plan_of({score_bf16, "avx512bf16"}, p);
}

bool plan_hwy_targets(int64_t targets, Plan *p) {
  Kernel k;
  return hwy_kernel(targets, &k) && plan_of(k, p);
}
bool plan_hwy(Plan *p) { return plan_hwy_targets(0, p); }
bool plan_hwy_avx2(Plan *p) { return plan_hwy_targets(hwy_target_mask(0), p); }
bool plan_hwy_avx3(Plan *p) { return plan_hwy_targets(hwy_target_mask(1), p); }
bool plan_hwy_emu128(Plan *p) {
  return plan_hwy_targets(hwy_target_mask(2), p);
}

// AUTO, resolved here and nowhere else: the rule is auto_plan
// (msa_cpu_auto_rule.cpp, with the measurements it rests on).
bool plan_auto(Plan *p) {
  auto_plan(p);
  return true;
}

// The back ends: adding a path is one entry (and its msa_cpu_path_t).
struct Backend {
  int32_t path;            // msa_cpu_path_t
  bool (*resolve)(Plan *); // the path's kernels; false: not on this CPU/build
  const char *unavailable; // msa_last_error() when it is refused
};
const Backend kBackends[] = {
    {MSA_CPU_PATH_AUTO, plan_auto, ""},
    {MSA_CPU_PATH_AVX512BF16, plan_bf16, "this CPU has no avx512_bf16"},
    {MSA_CPU_PATH_HIGHWAY, plan_hwy, "no Highway target runs on this CPU"},
    {MSA_CPU_PATH_HWY_AVX2, plan_hwy_avx2,
     "Highway target AVX2 not supported on this CPU or not compiled"},
    {MSA_CPU_PATH_HWY_AVX3, plan_hwy_avx3,
     "Highway target AVX3 not supported on this CPU or not compiled"},
    {MSA_CPU_PATH_HWY_EMU128, plan_hwy_emu128,
     "Highway target EMU128 not compiled"},
    {MSA_CPU_PATH_AMX, plan_amx, "this CPU or OS offers no AMX-BF16 tiles"},
};
constexpr int kNumPaths = MSA_CPU_PATH_AMX + 1;

struct Resolved {
  bool ok;
  Plan plan;
};

// Every path's plan, resolved on first use (thread-safe static init).
const Resolved *resolved() {
  static const struct Table {
    Resolved r[kNumPaths] = {};
    Table() {
      for (const Backend &b : kBackends)
        r[b.path].ok = b.resolve(&r[b.path].plan);
    }
  } table;
  return table.r;
}

const Backend *backend_of(int32_t path) {
  for (const Backend &b : kBackends)
    if (b.path == path)
      return &b;
  return nullptr;
}

std::atomic<int32_t> g_path{MSA_CPU_PATH_AUTO};

} // namespace

const Plan &current_plan() {
  return resolved()[g_path.load(std::memory_order_acquire)].plan;
}

} // namespace msa_cpu

extern "C" {

msa_status_t msa_cpu_set_path(int32_t path) {
  const msa_cpu::Backend *b = msa_cpu::backend_of(path);
  if (!b)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT,
                              "unknown CPU path %d", path);
  if (!msa_cpu::resolved()[path].ok)
    return msa_set_last_error(MSA_STATUS_UNSUPPORTED, "%s", b->unavailable);
  msa_cpu::g_path.store(path, std::memory_order_release);
  return MSA_STATUS_OK;
}

const char *msa_cpu_path_name(void) { return msa_cpu::current_plan().name; }

} // extern "C"
