// prefill_mma.cu - prefill block scores on mma.sync (sm_80+): the fallback
// off sm_90a and for block sizes the wgmma kernels do not take; bf16 or
// e4m3 keys.
#include "prefill_tile.cuh"

namespace msa_cuda {

// ---------------------------------------------------------------------------
// 2. prefill: tensor-core block max scores.
// CTA: 8 warps, M = 128 stacked (row, head) pairs (tile_rows = 128 / H rows
// of one sequence), N = 128 keys per step, K = D. Warp w: m in
// [32 (w % 4), +32), n in [64 (w / 4), +64). Q fragments stay in registers;
// K tiles stream through a 3-stage cp.async pipeline (128-byte XOR swizzle).
// ---------------------------------------------------------------------------
constexpr int kPfThreads = 256;
constexpr int kPfStages = 3;

// bf16 keys: Q | kPfStages key tiles | red. e4m3 keys (F8): Q | two bf16
// key tiles | red | kPfStages raw e4m3 tiles (1024-aligned: fp8.cuh's
// layout).
template <int D, bool F8>
struct PfSmem {
  static constexpr int kRowBytes = D * 2;
  static constexpr int kTileBytes = 128 * kRowBytes;
  static constexpr int kRawBytes = 128 * D;
  static constexpr int kQOff = 0;
  static constexpr int kKOff = kTileBytes;
  static constexpr int kRedOff = kKOff + (F8 ? 2 : kPfStages) * kTileBytes;  // [2][2][128]
  static constexpr int kRawOff = kRedOff + 2 * 2 * 128 * 4;
  static constexpr int kBytes = F8 ? kRawOff + kPfStages * kRawBytes + 1024 : kRawOff;
};

// Swizzled byte offset of 16-byte chunk c of row n.
template <int D>
__device__ __forceinline__ uint32_t swz(int n, int c) {
  return (uint32_t)(n * (D * 2) + ((c ^ (n & 7)) << 4));
}

// F8: the keys are e4m3 (p.k8). Each thread copies its chunks of tile t + 1
// into a raw stage ahead (cp.async) and converts them into the other bf16
// tile after tile t's MMAs; the loop's one CTA barrier publishes it. The
// MMAs and the epilogue are the bf16 kernel's code (the lambdas below) on a
// bit-identical bf16 tile: bit-identical scores.
template <int D, bool F8>
__global__ void __launch_bounds__(kPfThreads, 1) prefill_kernel(KParams p) {
  extern __shared__ __align__(128) unsigned char smem[];
  using S = PfSmem<D, F8>;
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
  const uint32_t sbase = smem_u32(smem);
  float *red = reinterpret_cast<float *>(smem + S::kRedOff);

  // ---- Q tile -> smem (rows past the tile are zero) ----
  {
    const uint16_t *qt = p.q + ((size_t)(seq_begin + i0) * H) * D;
    constexpr int CPR = D / 8;  // 16-byte chunks per row
    for (int idx = tid; idx < 128 * CPR; idx += kPfThreads) {
      const int m = idx / CPR, c = idx % CPR;
      const bool ok = m < mvalid;
      cp_async16(sbase + S::kQOff + swz<D>(m, c),
                 ok ? (const void *)(qt + (size_t)m * D + c * 8)
                    : (const void *)p.q,
                 ok);
    }
    cp_async_commit();
  }
  constexpr int KS = D / 16;
  const int wm = (warp & 3) * 32, wn = (warp >> 2) * 64;
  uint32_t qa[2][KS][4];
  auto load_q_fragments = [&] {
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int ks = 0; ks < KS; ++ks) {
        const int row = wm + mt * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
        const int ch = ks * 2 + (lane >> 4);
        ldmatrix_x4(sbase + S::kQOff + swz<D>(row, ch), qa[mt][ks][0],
                    qa[mt][ks][1], qa[mt][ks][2], qa[mt][ks][3]);
      }
  };

  // Per-thread state of the cross-warp combine (threads 0..127 own m = tid).
  float blk_run = -INFINITY;
  const float scale = p.scale;
  const int g = lane >> 2, t4 = lane & 3;
  // Row limits of the 4 (mt, half) rows this lane's accumulators hold.
  int64_t lim[2][2];
  bool mrow_ok[2][2];
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      const int m = wm + mt * 16 + g + hf * 8;
      mrow_ok[mt][hf] = m < mvalid;
      lim[mt][hf] = P + i0 + m / H + 1;
    }
  const bool big_block = bs >= 128;

  auto write_score = [&](int m, int64_t j, float v) {
    const int rr = m / H, h = m - rr * H;
    const int64_t row = seq_begin + i0 + rr;
    p.scores[((size_t)h * p.rows + row) * p.lay.nblk_cap + j] = v;
  };
  // Combine the two warps' halves of tile tt (bs >= 128 only).
  auto combine = [&](int tt) {
    if (tid < 128) {
      const float *rb = red + (tt & 1) * 256;
      blk_run = fmaxf(blk_run, fmaxf(rb[tid], rb[128 + tid]));
      const int64_t pos0 = (int64_t)tt * 128;
      const int64_t j = pos0 / bs;
      const bool last_of_block =
          ((pos0 + 128) % bs == 0) || (tt == ntiles - 1);
      if (last_of_block) {
        const int m = tid;
        if (m < mvalid && j * bs < P + i0 + m / H + 1) write_score(m, j, blk_run);
        blk_run = -INFINITY;
      }
    }
  };
  // Tile t's MMAs on the key tile at kst, then its epilogue: scale, causal
  // mask (diagonal tiles only), group max, the block scores (bs <= 64) or
  // this warp's half into red (bs >= 128, combined after the next barrier).
  auto mma_tile = [&](float (*acc)[8][4], uint32_t kst) {
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) acc[mt][nt][e] = 0.f;
#pragma unroll
    for (int ks = 0; ks < KS; ++ks) {
      uint32_t bfr[8][2];
#pragma unroll
      for (int np = 0; np < 4; ++np) {
        const int n = wn + np * 16 + (lane >> 4) * 8 + (lane & 7);
        const int ch = ks * 2 + ((lane >> 3) & 1);
        ldmatrix_x4(kst + swz<D>(n, ch), bfr[2 * np][0], bfr[2 * np][1],
                    bfr[2 * np + 1][0], bfr[2 * np + 1][1]);
      }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 8; ++nt)
          mma_bf16(acc[mt][nt], qa[mt][ks][0], qa[mt][ks][1], qa[mt][ks][2],
                   qa[mt][ks][3], bfr[nt][0], bfr[nt][1]);
    }
  };
  auto epilogue = [&](float (*acc)[8][4], int t) {
    const int64_t pos0 = (int64_t)t * 128;
    const bool masked = pos0 + 128 > n_first;
    // gm[mt][hf][q]: max over the 16 columns of n-tile pair q of this lane.
    float gm[2][2][4];
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int hf = 0; hf < 2; ++hf)
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          float v = -INFINITY;
#pragma unroll
          for (int u = 0; u < 2; ++u)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              float x = acc[mt][2 * q + u][hf * 2 + e] * scale;
              if (masked) {
                const int64_t pos = pos0 + wn + (2 * q + u) * 8 + t4 * 2 + e;
                if (pos >= lim[mt][hf]) x = -INFINITY;
              }
              v = fmaxf(v, x);
            }
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
          v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
          gm[mt][hf][q] = v;
        }
    if (big_block) {
      if (t4 == 0) {
        float *rb = red + (t & 1) * 256 + (warp >> 2) * 128;
#pragma unroll
        for (int mt = 0; mt < 2; ++mt)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf)
            rb[wm + mt * 16 + g + hf * 8] =
                fmaxf(fmaxf(gm[mt][hf][0], gm[mt][hf][1]),
                      fmaxf(gm[mt][hf][2], gm[mt][hf][3]));
      }
    } else {
      // bs in {16, 32, 64}: the block lies inside this warp's 64 columns.
      const int per = bs / 16;  // n-tile pairs per block
      if (t4 < 4 / per) {
        // lane t4 writes block q0 = t4 * per .. (per pairs)
#pragma unroll
        for (int mt = 0; mt < 2; ++mt)
#pragma unroll
          for (int hf = 0; hf < 2; ++hf) {
            if (!mrow_ok[mt][hf]) continue;
            float v = -INFINITY;
#pragma unroll
            for (int q = 0; q < 4; ++q)
              if (q / per == t4) v = fmaxf(v, gm[mt][hf][q]);
            const int64_t j = (pos0 + wn + t4 * bs) / bs;
            if (j * bs < lim[mt][hf])
              write_score(wm + mt * 16 + g + hf * 8, j, v);
          }
      }
    }
  };

  if constexpr (F8) {
    // ---- e4m3 keys: raw ring (per thread) -> bf16 tiles 0/1 -> mma.sync ----
    E4m3TileLoader<D, kPfThreads, kPfStages> ld(p, pt, (sbase + S::kRawOff + 1023u) & ~1023u);
    auto bf_tile = [&](int tt) { return sbase + S::kKOff + (uint32_t)(tt & 1) * S::kTileBytes; };
    auto mma_layout = [](int n, int c) { return swz<D>(n, c); };
    ld.start();  // after the Q group
    ld.first(bf_tile(0), mma_layout);
    __syncthreads();
    load_q_fragments();
    for (int t = 0; t < ntiles; ++t) {
      if (t > 0) {
        __syncthreads();  // tile t converted, red of tile t - 1 written
        if (big_block) combine(t - 1);
      }
      float acc[2][8][4];
      mma_tile(acc, bf_tile(t));
      // bf16 tile (t + 1) & 1 was last read by tile t - 1's MMAs, before
      // the barrier above
      ld.next(t, bf_tile(t + 1), mma_layout);
      epilogue(acc, t);
    }
  } else {
    // ---- bf16 keys: cp.async ring of kPfStages tiles ----
    Bf16TileLoader<D, kPfThreads> ld(p, pt);
    auto mma_layout = [](int n, int c) { return swz<D>(n, c); };
    auto load_k = [&](int t, int stage) {
      ld.load(t, sbase + S::kKOff + stage * S::kTileBytes, mma_layout);
    };
#pragma unroll
    for (int s = 0; s < kPfStages - 1; ++s) {
      if (s < ntiles) {
        ld.fetch_pages(s);
        load_k(s, s);
      }
      cp_async_commit();
    }
    ld.fetch_pages(kPfStages - 1);
    cp_async_wait<kPfStages - 1>();  // the Q group is the oldest
    __syncthreads();
    load_q_fragments();

    for (int t = 0; t < ntiles; ++t) {
      cp_async_wait<kPfStages - 2>();
      __syncthreads();
      if (big_block && t > 0) combine(t - 1);
      {
        const int tn = t + kPfStages - 1;
        if (tn < ntiles) load_k(tn, tn % kPfStages);
        cp_async_commit();
        ld.fetch_pages(tn + 1);  // in flight during this tile's MMAs
      }
      float acc[2][8][4];
      mma_tile(acc, sbase + S::kKOff + (t % kPfStages) * S::kTileBytes);
      epilogue(acc, t);
    }
  }
  if (big_block && ntiles > 0) {
    __syncthreads();
    combine(ntiles - 1);
  }
  cp_async_wait<0>();
}


template <int D, bool F8>
static cudaError_t launch_d(const KParams &p, int64_t grid, cudaStream_t st) {
  constexpr int bytes = PfSmem<D, F8>::kBytes;
  static_assert(bytes <= 227 * 1024, "shared memory of one CTA");
  cudaError_t e = cudaFuncSetAttribute(prefill_kernel<D, F8>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e != cudaSuccess) return e;
  prefill_kernel<D, F8><<<(unsigned)grid, kPfThreads, bytes, st>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_prefill_mma(const KParams &p, int64_t grid, cudaStream_t st) {
  if (p.key_type == MSA_KEY_F8E4M3FN)
    return p.dim == 64 ? launch_d<64, true>(p, grid, st) : launch_d<128, true>(p, grid, st);
  return p.dim == 64 ? launch_d<64, false>(p, grid, st) : launch_d<128, false>(p, grid, st);
}

} // namespace msa_cuda
