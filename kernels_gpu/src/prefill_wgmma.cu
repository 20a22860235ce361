// prefill_wgmma.cu - prefill block scores on sm_90a wgmma with cp.async
// loads, for the block sizes the TMA kernel does not take (16/32/64) or
// when its tensor maps cannot be encoded; bf16 or e4m3 keys.
#include "prefill_tile.cuh"
#include "wgmma.cuh"

namespace msa_cuda {

// ---------------------------------------------------------------------------
// 2 (sm_90a). prefill on wgmma: the same tile as above (M = 128 stacked
// (row, head) pairs, N = 128 keys, K = D) as two warpgroups of 64 x 128,
// wgmma.mma_async m64n128k16 with A (Q) and B (K) from shared memory in the
// canonical K-major 128-byte-swizzle layout: each 64-column half of a tile is
// [128 rows][128 B], 16-byte chunk c of row n at ((c ^ (n & 7)) << 4). A
// thread holds whole rows of the 128-key tile, so the block max needs no
// cross-warp step, and the running max of blocks wider than 128 keys stays in
// registers. 2 stages, 2 CTAs per SM: one CTA's epilogue overlaps the other's
// MMAs.
// ---------------------------------------------------------------------------
constexpr int kWgThreads = 256;

// bf16 keys: Q | STAGES key tiles. e4m3 keys (F8): Q | two bf16 key tiles |
// STAGES raw e4m3 tiles (E4m3TileLoader, fp8.cuh's layout).
template <int D, int STAGES, bool F8>
struct WgSmem {
  static constexpr int kTileBytes = 128 * D * 2;
  static constexpr int kRawBytes = 128 * D;
  static constexpr int kQOff = 0;
  static constexpr int kKOff = kTileBytes;
  static constexpr int kRawOff = kKOff + (F8 ? 2 : STAGES) * kTileBytes;
  static constexpr int kBytes = kRawOff + (F8 ? STAGES * kRawBytes : 0) + 1024;  // + align
};


// F8: the keys are e4m3 (p.k8). Each thread copies its chunks of tile t + 1
// into a raw stage ahead (cp.async) and converts them into the other bf16
// tile while tile t's wgmma runs; one CTA barrier per tile publishes the
// converted tile. The wgmma and the epilogue are the bf16 kernel's code
// (the lambdas below) on a bit-identical bf16 tile: bit-identical scores.
template <int D, int MINB, int kWgStages, bool F8>
__global__ void __launch_bounds__(kWgThreads, MINB) prefill_wg_kernel(KParams p) {
#ifdef MSA_HAVE_WGMMA
  extern __shared__ unsigned char smem_raw[];
  using S = WgSmem<D, kWgStages, F8>;
  if (call_failed(p)) return;
  PrefillTile pt;
  if (!prefill_tile_of(p, pt)) return;
  const int64_t seq_begin = pt.seq_begin, P = pt.P;
  const int64_t n_first = pt.n_first;
  const int i0 = pt.i0, H = p.heads;
  const int ntiles = pt.ntiles;
  const int mvalid = pt.mvalid;
  const int bs = p.bs;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  // 1024-byte aligned base (the swizzle pattern follows address bits 4-9)
  const uint32_t sraw = smem_u32(smem_raw);
  const uint32_t sbase = (sraw + 1023u) & ~1023u;

  constexpr int CPR = D / 8;
  constexpr int RSTEP = kWgThreads / CPR;
  constexpr int RPT = 128 / RSTEP;
  const int lc = tid % CPR, lr = tid / CPR;
  {
    const uint16_t *qt = p.q + ((size_t)(seq_begin + i0) * H) * D;
#pragma unroll
    for (int k = 0; k < RPT; ++k) {
      const int m = lr + k * RSTEP;
      const bool ok = m < mvalid;
      cp_async16(sbase + S::kQOff + swz128(m, lc),
                 ok ? (const void *)(qt + (size_t)m * D + lc * 8) : (const void *)p.q, ok);
    }
  }

  const int wg = warp >> 2;
  const int g = lane >> 2, t4 = lane & 3;
  const int mrow0 = wg * 64 + (warp & 3) * 16 + g;  // rows mrow0, mrow0 + 8
  int64_t lim[2];
  bool rok[2];
#pragma unroll
  for (int hf = 0; hf < 2; ++hf) {
    const int m = mrow0 + hf * 8;
    rok[hf] = m < mvalid;
    lim[hf] = P + i0 + m / H + 1;
  }
  const float scale = p.scale;
  const bool big_block = bs >= 128;
  float run[2] = {-INFINITY, -INFINITY};
  auto write_score = [&](int m, int64_t j, float v) {
    const int rr = m / H, h = m - rr * H;
    const int64_t row = seq_begin + i0 + rr;
    p.scores[((size_t)h * p.rows + row) * p.lay.nblk_cap + j] = v;
  };
  const uint32_t qst = sbase + S::kQOff + wg * 64 * 128;
  // The tile's dots: this warpgroup's 64 pairs x 128 keys, K = D (async;
  // committed, not waited).
  auto issue_mma = [&](float *acc, uint32_t kst) {
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[i] = 0.f;
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int ks = 0; ks < D / 16; ++ks) {
      const uint32_t off = (ks >> 2) * (128 * 128) + (ks & 3) * 32;
      wgmma_m64n128k16(acc, wg_desc(qst + off), wg_desc(kst + off));
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
  };
  // Scale, causal mask (diagonal tiles only), block max, score stores.
  auto epilogue = [&](const float *acc, int t) {
    const int64_t pos0 = (int64_t)t * 128;
    const bool masked = pos0 + 128 > n_first;
    float gm[2][8];  // max over 16-column groups, this lane's rows
#pragma unroll
    for (int hf = 0; hf < 2; ++hf)
#pragma unroll
      for (int q = 0; q < 8; ++q) {
        float v = -INFINITY;
#pragma unroll
        for (int u = 0; u < 2; ++u)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            float x = acc[(2 * q + u) * 4 + hf * 2 + e] * scale;
            if (masked) {
              const int64_t pos = pos0 + (2 * q + u) * 8 + t4 * 2 + e;
              if (pos >= lim[hf]) x = -INFINITY;
            }
            v = fmaxf(v, x);
          }
        gm[hf][q] = v;
      }
    if (big_block) {
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        float v = gm[hf][0];
#pragma unroll
        for (int q = 1; q < 8; ++q) v = fmaxf(v, gm[hf][q]);
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
        run[hf] = fmaxf(run[hf], v);
      }
      const int64_t j = pos0 / bs;
      if (((pos0 + 128) % bs == 0) || t == ntiles - 1) {
        if (t4 == 0)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf)
            if (rok[hf] && j * bs < lim[hf]) write_score(mrow0 + hf * 8, j, run[hf]);
        run[0] = run[1] = -INFINITY;
      }
    } else {
#pragma unroll
      for (int hf = 0; hf < 2; ++hf)
#pragma unroll
        for (int q = 0; q < 8; ++q) {
          float v = gm[hf][q];
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
          gm[hf][q] = v;
        }
      const int per = bs / 16;         // 16-column groups per block
      const int nb = 8 / per;          // blocks in this 128-key tile
      // lane t4 writes blocks t4, t4 + 4 (of nb)
#pragma unroll
      for (int w = 0; w < 2; ++w) {
        const int blk = t4 + 4 * w;
        if (blk < nb) {
#pragma unroll
          for (int hf = 0; hf < 2; ++hf) {
            float v = -INFINITY;
#pragma unroll
            for (int q = 0; q < 8; ++q)
              if (q / per == blk) v = fmaxf(v, gm[hf][q]);
            const int64_t j = (pos0 + blk * bs) / bs;
            if (rok[hf] && j * bs < lim[hf]) write_score(mrow0 + hf * 8, j, v);
          }
        }
      }
    }
  };

  if constexpr (F8) {
    // ---- e4m3 keys: raw ring (per thread) -> bf16 tiles 0/1 -> wgmma ----
    E4m3TileLoader<D, kWgThreads, kWgStages> ld(p, pt, sbase + S::kRawOff);
    auto bf_tile = [&](int tt) { return sbase + S::kKOff + (uint32_t)(tt & 1) * S::kTileBytes; };
    auto wg_layout = [](int n, int c) { return swz128(n, c); };
    ld.start();  // Q rides in the first group
    ld.first(bf_tile(0), wg_layout);
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    for (int t = 0; t < ntiles; ++t) {
      float acc[64];
      issue_mma(acc, bf_tile(t));
      // bf16 tile (t + 1) & 1 was last read by tile t - 1's wgmma, waited
      // for before the barrier below
      ld.next(t, bf_tile(t + 1), wg_layout);
      asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
      epilogue(acc, t);
      // tile t + 1 published; every warp is done reading tile t
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
      __syncthreads();
    }
    cp_async_wait<0>();
  } else {
    // ---- bf16 keys: cp.async ring of kWgStages tiles ----
    Bf16TileLoader<D, kWgThreads> ld(p, pt);
    auto wg_layout = [](int n, int c) { return swz128(n, c); };
    auto load_k = [&](int t, int stage) {
      ld.load(t, sbase + S::kKOff + stage * S::kTileBytes, wg_layout);
    };
#pragma unroll
    for (int st = 0; st < kWgStages - 1; ++st) {  // first group: Q + tile 0
      if (st < ntiles) {
        ld.fetch_pages(st);
        load_k(st, st);
      }
      cp_async_commit();
    }
    ld.fetch_pages(kWgStages - 1);

    for (int t = 0; t < ntiles; ++t) {
      cp_async_wait<kWgStages - 2>();
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
      __syncthreads();
      {
        const int tn = t + kWgStages - 1;
        if (tn < ntiles) load_k(tn, tn % kWgStages);
        cp_async_commit();
        ld.fetch_pages(tn + 1);
      }
      float acc[64];
      issue_mma(acc, sbase + S::kKOff + (t % kWgStages) * S::kTileBytes);
      asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
      epilogue(acc, t);
    }
    cp_async_wait<0>();
  }
#endif
}


template <int D, int MINB, int STAGES, bool F8>
static cudaError_t launch_variant(const KParams &p, int64_t grid, cudaStream_t st) {
  constexpr int bytes = WgSmem<D, STAGES, F8>::kBytes;
  static_assert(bytes * MINB <= 227 * 1024, "shared memory of the CTAs of one SM");
  cudaError_t e = cudaFuncSetAttribute(prefill_wg_kernel<D, MINB, STAGES, F8>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  prefill_wg_kernel<D, MINB, STAGES, F8><<<(unsigned)grid, kWgThreads, bytes, st>>>(p);
  return cudaGetLastError();
}

// Two variants of one computation (bit-identical scores): 2 CTAs/SM with 2
// stages (one CTA's epilogue overlaps the other's wgmma; best when there are
// many tile steps), 1 CTA/SM with 4 stages (best for few, short tiles). The
// choice depends only on host-known sizes. e4m3 keys: 1 CTA/SM with 4 raw
// stages (two bf16 tiles and the raw ring do not fit twice per SM); the
// TMA kernel is the fast fp8 path (block sizes that are multiples of 128).
template <int D>
static cudaError_t launch_d(const KParams &p, int64_t grid, cudaStream_t st) {
  if (p.key_type == MSA_KEY_F8E4M3FN) return launch_variant<D, 1, 4, true>(p, grid, st);
  const int64_t steps = grid * std::max<int64_t>(1, p.lay.nblk_cap * p.bs / 128);
  return steps >= 65536 ? launch_variant<D, 2, 2, false>(p, grid, st)
                        : launch_variant<D, 1, 4, false>(p, grid, st);
}

cudaError_t launch_prefill_wgmma(const KParams &p, int64_t grid, cudaStream_t st) {
  return p.dim == 64 ? launch_d<64>(p, grid, st) : launch_d<128>(p, grid, st);
}

} // namespace msa_cuda
