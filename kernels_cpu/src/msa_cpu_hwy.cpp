// msa_cpu_hwy.cpp - the Highway back end: dynamic dispatch over the x86
// targets this Highway compiles (SSSE3, SSE4, AVX2, AVX-512) with a portable
// fallback (EMU128 / SCALAR). Used where the CPU has no avx512_bf16, and in
// tests for each target.
//
// Lanes are queries (one tile = up to 64 queries of one sequence): q is
// packed as f32 [vector][d][lanes]; keys are converted bf16 -> f32 in chunks
// of kKeyChunk and each key element is broadcast to up to 4 query vectors, 4
// keys at a time. Every dot is the same chain of D multiply-adds in d order,
// whatever its lane or tile (the determinism contract of msa_cpu_internal.h);
// the block max is lane-wise, NaN scores skipped.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "msa_cpu_hwy.cpp"
#include "hwy/foreach_target.h" // IWYU pragma: keep
#include "hwy/highway.h"

#include "msa_cpu_internal.h"

#include <cstring>
#include <limits>

HWY_BEFORE_NAMESPACE();
namespace msa_cpu {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr int64_t kKeyChunk = 32;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

template <int MV, int NK>
HWY_INLINE void Micro(const float *qf, int64_t D, size_t L, const float *kf,
                      VF (&acc)[4][4]) {
  const DF df;
  for (int m = 0; m < MV; ++m)
    for (int n = 0; n < NK; ++n)
      acc[m][n] = hn::Zero(df);
  for (int64_t d = 0; d < D; ++d) {
    VF b[NK];
    for (int n = 0; n < NK; ++n)
      b[n] = hn::Set(df, kf[n * D + d]);
    for (int m = 0; m < MV; ++m) {
      const VF qv = hn::LoadU(df, qf + ((int64_t)m * D + d) * (int64_t)L);
      for (int n = 0; n < NK; ++n)
        acc[m][n] = hn::MulAdd(qv, b[n], acc[m][n]);
    }
  }
}

template <int MV, int NK>
HWY_INLINE void Step(const float *qf, int64_t D, size_t L, const float *kf,
                     float *bm, const int32_t *lim, int64_t off, float scale) {
  const DF df;
  const hn::RebindToSigned<DF> di;
  VF acc[4][4];
  Micro<MV, NK>(qf, D, L, kf, acc);
  const VF vs = hn::Set(df, scale);
  for (int m = 0; m < MV; ++m) {
    VF best = hn::LoadU(df, bm + m * L);
    const auto lv = hn::LoadU(di, lim + m * L);
    for (int n = 0; n < NK; ++n) {
      const auto vis =
          hn::RebindMask(df, hn::Lt(hn::Set(di, (int32_t)(off + n)), lv));
      const VF s = hn::Mul(acc[m][n], vs);
      // Gt is false for NaN: NaN scores are skipped.
      best = hn::IfThenElse(hn::And(vis, hn::Gt(s, best)), s, best);
    }
    hn::StoreU(best, df, bm + m * L);
  }
}

template <int MV>
HWY_INLINE void Keys(const float *qf, int64_t D, size_t L, const float *kf,
                     int64_t nkeys, float *bm, const int32_t *lim,
                     int64_t off0, float scale) {
  int64_t o = 0;
  for (; o + 4 <= nkeys; o += 4)
    Step<MV, 4>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale);
  switch (nkeys - o) {
  case 3: Step<MV, 3>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale); break;
  case 2: Step<MV, 2>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale); break;
  case 1: Step<MV, 1>(qf, D, L, kf + o * D, bm, lim, off0 + o, scale); break;
  default: break;
  }
}

void ScoreImpl(const ScoreTask &t, void *scratch) {
  const DF df;
  const hn::RebindToUnsigned<DF> du32;
  const hn::Rebind<uint16_t, DF> du16;
  const size_t L = hn::Lanes(df);
  const int64_t D = t.D;
  const int64_t nv_all = (t.nq + (int64_t)L - 1) / (int64_t)L;
  float *qf = static_cast<float *>(scratch);       // [nv_all][D][L]
  float *kf = qf + nv_all * D * (int64_t)L;        // [kKeyChunk][D]
  float *bm = kf + kKeyChunk * D;                  // [nv_all][L]
  int32_t *lim = reinterpret_cast<int32_t *>(bm + nv_all * (int64_t)L);
  for (int64_t v = 0; v < nv_all; ++v)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t l = 0; l < (int64_t)L; ++l) {
        const int64_t i = v * (int64_t)L + l;
        float f = 0.0f;
        if (i < t.nq) {
          const uint32_t bits = (uint32_t)t.q[i * D + d] << 16;
          std::memcpy(&f, &bits, sizeof f);
        }
        qf[(v * D + d) * (int64_t)L + l] = f;
      }
  const int64_t kmax = max_keys(t);
  const int64_t nall = nv_all * (int64_t)L;
  for (int64_t j = t.j0; j < t.j1; ++j) {
    const int64_t left = kmax - j * t.bs;
    const int64_t nkeys = left <= 0 ? 0 : (left < t.bs ? left : t.bs);
    for (int64_t i = 0; i < nall; ++i) {
      bm[i] = -std::numeric_limits<float>::infinity();
      lim[i] = rel_limit(t, i, j);
    }
    const uint16_t *keys = nkeys > 0 ? page_keys(t, j) : nullptr;
    for (int64_t c0 = 0; c0 < nkeys; c0 += kKeyChunk) {
      const int64_t nc = nkeys - c0 < kKeyChunk ? nkeys - c0 : kKeyChunk;
      for (int64_t n = 0; n < nc; ++n) { // bf16 -> f32
        const uint16_t *src = keys + (c0 + n) * D;
        float *dst = kf + n * D;
        int64_t d = 0;
        for (; d + (int64_t)L <= D; d += (int64_t)L) {
          const auto w = hn::PromoteTo(du32, hn::LoadU(du16, src + d));
          hn::StoreU(hn::BitCast(df, hn::ShiftLeft<16>(w)), df, dst + d);
        }
        for (; d < D; ++d) {
          const uint32_t bits = (uint32_t)src[d] << 16;
          std::memcpy(dst + d, &bits, sizeof(float));
        }
      }
      for (int64_t v0 = 0; v0 < nv_all; v0 += 4) {
        const int mv = (int)(nv_all - v0 < 4 ? nv_all - v0 : 4);
        const float *qv = qf + v0 * D * (int64_t)L;
        float *b = bm + v0 * (int64_t)L;
        const int32_t *lv = lim + v0 * (int64_t)L;
        switch (mv) {
        case 4: Keys<4>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        case 3: Keys<3>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        case 2: Keys<2>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        default: Keys<1>(qv, D, L, kf, nc, b, lv, c0, t.scale); break;
        }
      }
    }
    for (int64_t i = 0; i < t.nq; ++i)
      t.scores[i * t.ld + (j - t.jbase)] = bm[i];
  }
}

} // namespace HWY_NAMESPACE
} // namespace msa_cpu
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace msa_cpu {
namespace {

// Every compiled target's kernel (a lower HWY_* bit is a better target). Selecting from this table instead of through HWY_DYNAMIC_DISPATCH
// keeps Highway's process-wide chosen target untouched: a path is a pure
// function of the CPU and the request, whatever was selected before and
// whatever other threads do.
struct HwyTarget {
  int64_t bit;
  Kernel kernel;
};
#define MSA_HWY_TARGET(T) {HWY_##T, {&N_##T::ScoreImpl, "highway:" #T}},
const HwyTarget kHwyTargets[] = {
#if HWY_ARCH_X86
// Targets of newer Highway releases (absent from Debian's 1.0.3).
#if defined(HWY_AVX3_SPR) && (HWY_TARGETS & HWY_AVX3_SPR)
    MSA_HWY_TARGET(AVX3_SPR)
#endif
#if defined(HWY_AVX3_ZEN4) && (HWY_TARGETS & HWY_AVX3_ZEN4)
    MSA_HWY_TARGET(AVX3_ZEN4)
#endif
#if HWY_TARGETS & HWY_AVX3_DL
    MSA_HWY_TARGET(AVX3_DL)
#endif
#if HWY_TARGETS & HWY_AVX3
    MSA_HWY_TARGET(AVX3)
#endif
#if HWY_TARGETS & HWY_AVX2
    MSA_HWY_TARGET(AVX2)
#endif
#if HWY_TARGETS & HWY_SSE4
    MSA_HWY_TARGET(SSE4)
#endif
#if HWY_TARGETS & HWY_SSSE3
    MSA_HWY_TARGET(SSSE3)
#endif
#if HWY_TARGETS & HWY_EMU128
    MSA_HWY_TARGET(EMU128)
#endif
#if HWY_TARGETS & HWY_SCALAR
    MSA_HWY_TARGET(SCALAR)
#endif
#else
    {HWY_STATIC_TARGET, {&HWY_STATIC_DISPATCH(ScoreImpl), "highway"}},
#endif
};
#undef MSA_HWY_TARGET

} // namespace

bool hwy_kernel(int64_t targets, Kernel *k) {
  // Read once; nothing in this library changes Highway's supported set.
  static const int64_t supported = hwy::SupportedTargets();
  const int64_t avail = supported & HWY_TARGETS;
  if (targets != 0 && (avail & targets) == 0)
    return false;
  const int64_t best_allowed = targets & (~targets + 1); // lowest bit
  const HwyTarget *best = nullptr;
  for (const HwyTarget &t : kHwyTargets)
    if ((avail & t.bit) && (targets == 0 || t.bit >= best_allowed) &&
        (!best || t.bit < best->bit))
      best = &t;
  if (best)
    *k = best->kernel;
  return best != nullptr;
}

int64_t hwy_target_mask(int which) {
  switch (which) {
  case 0: return HWY_AVX2;
  case 1: return HWY_AVX3;
  default: return HWY_EMU128 | HWY_SCALAR;
  }
}

} // namespace msa_cpu
#endif // HWY_ONCE
