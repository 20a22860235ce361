// prefill_tma.cu - prefill block scores on sm_90a, warp-specialised: a
// producer warpgroup feeds TMA tensor copies into an mbarrier ring (e4m3
// keys: two, which also convert the keys to bf16), two consumer warpgroups
// run wgmma with the epilogue of one tile under the next tile's MMAs, and
// for topk <= 16 keep each row's top-k. Tensor maps are encoded per call on
// the host. bf16 or e4m3 keys.
#include "fp8.cuh"
#include "prefill_tile.cuh"
#include "select.cuh"
#include "wgmma.cuh"
#include "pdl_launch.h"

#include <atomic>
#include <mutex>

namespace msa_cuda {

// ---------------------------------------------------------------------------
// 2 (sm_90a, warp-specialised). The wgmma tile of prefill_wg_kernel (M = 128
// stacked (row, head) pairs, N = 128 keys, K = D, the same instructions, the
// same epilogue: bit-identical scores) with the FA3 structure, for
// block_size = page_size a multiple of 128 (a 128-key tile is 128
// consecutive rows of one page):
//   warpgroup 0  producer: one thread issues the bulk tensor copies (TMA,
//                128-byte swizzle, the wgmma layout directly) of Q once and
//                of each key tile into a kTmaStages-deep ring, completing on
//                the stage's "full" mbarrier; it waits on the stage's "empty"
//                mbarrier before reusing it. setmaxnreg gives its registers
//                to the consumers.
//   (e4m3 keys: warpgroups 0 and 1, below)
//   the next two warpgroups  consumers, 64 pairs each: tile t + 1's wgmma
//                is issued (async) before tile t's epilogue, so the tensor
//                cores work while the epilogue (scale, diagonal mask, block
//                max, then the score store, or for topk <= 16 the pair's
//                running top-k list) runs; two accumulator sets, 2 x 64
//                registers.
// No CTA-wide barrier in the loop. Keys past the sequence inside the last
// tile are real memory (same page) or zero fill, and always masked.
//
// e4m3 keys (F8): the tensor cores take bf16 operands from shared memory
// only (wgmma's B), so the keys are converted in shared memory, by two
// producer warpgroups (with one, the consumers waited on full barriers;
// docs/PERFORMANCE.md, 2026-12-02 evening): thread 0 copies each raw e4m3
// tile by TMA (64- or 128-byte swizzle: fp8.cuh's raw layout) into a
// kTmaRawStages-deep ring of its own ("raw" mbarriers); all 256 producer
// threads wait for a bf16 stage to be empty and for its raw tile, convert
// (fp8.cuh: exact, one 16-byte chunk of a key row per thread-step, no bank
// conflict), fence the generic-proxy writes for the async proxy and arrive
// on the stage's full mbarrier (256 arrivals). The consumers are the bf16
// code unchanged: the same bf16 tiles, the same instructions, bit-identical
// scores. The alternative, converting in the consumers' registers on the
// way to the MMA, does not exist for wgmma (B must be in shared memory),
// and converting in the consumer warps would put the conversion on the
// tensor cores' critical path; the producers' conversion (about 45
// instructions per 16-byte chunk) runs beside the consumers' MMAs and
// costs half the bytes of a bf16 tile copy.
// ---------------------------------------------------------------------------
// Warpgroups: bf16 keys one producer (TMA only), e4m3 keys two (the
// conversion is the producer's work; with one warpgroup, 4 warps, the
// consumers waited on full barriers), then the two consumers.
constexpr int tma_producer_wgs(bool f8) { return f8 ? 2 : 1; }
constexpr int tma_threads(bool f8) { return 128 * (tma_producer_wgs(f8) + 2); }
// setmaxnreg: producers drop to 40 registers per thread, consumers take the
// rest of what the CTA launched with (ptxas gives a kernel with setmaxnreg
// the launch bound's maximum, 65536 / threads rounded down to 8: 168 for
// 384 threads, 128 for 512). A consumer count above that budget would make
// setmaxnreg.inc wait forever.
constexpr int kTmaProducerRegs = 40;
constexpr int tma_consumer_regs(bool f8) { return f8 ? 216 : 232; }
constexpr bool tma_regs_fit(bool f8) {
  return 128 * tma_producer_wgs(f8) * kTmaProducerRegs + 256 * tma_consumer_regs(f8) <=
         tma_threads(f8) * ((65536 / tma_threads(f8)) & ~7);
}
static_assert(tma_regs_fit(false) && tma_regs_fit(true), "setmaxnreg budget of the TMA prefill");
constexpr int tma_stages(bool f8) { return f8 ? 3 : 4; }
constexpr int kTmaRawStages = 6;  // e4m3 keys: raw TMA tiles in flight
template <int D, bool F8>
struct TmaSmem {
  static constexpr int kTileBytes = 128 * D * 2;
  static constexpr int kRawBytes = 128 * D;
  static constexpr int kRawStages = F8 ? kTmaRawStages : 0;
  static constexpr int kQOff = 0;
  static constexpr int kKOff = kTileBytes;
  static constexpr int kRawOff = kKOff + tma_stages(F8) * kTileBytes;  // 1024-aligned
  static constexpr int kBarOff = kRawOff + kRawStages * kRawBytes;  // full, empty, q, raw
  static constexpr int kBytes =
      kBarOff + (2 * tma_stages(F8) + 1 + kRawStages) * 8 + 1024;  // + align
  static_assert(kBytes <= 227 * 1024, "shared memory of one CTA");
};

// kScaleOnce (launched only for scale > 0): the epilogue scales each block
// max once instead of every dot; both store bit-identical scores
// (docs/PERFORMANCE.md). F8: tmk maps e4m3 keys (see above).
// kFused (topk <= kFusedTopk): no block score leaves the kernel. Each quad
// holds two accumulator rows, i.e. two (row, head) pairs; lanes t4 = 0, 1
// keep the first pair's kFusedTopk largest keys in registers, split in two
// halves (select.cuh PairHalfList), lanes 2, 3 the second pair's, pushing
// each selectable block as its max completes; lane t4 = 0 or 2 writes the
// pair's output row at the end (select.cuh: the same keys as the select
// kernel, so the same ids); the select kernel does not run for these rows.
template <int D, bool kScaleOnce, bool F8, bool kFused>
__global__ void __launch_bounds__(tma_threads(F8), 1)
    prefill_tma_kernel(const __grid_constant__ CUtensorMap tmq,
                       const __grid_constant__ CUtensorMap tmk, KParams p) {
#ifdef MSA_HAVE_WGMMA
  extern __shared__ unsigned char smem_raw[];
  using S = TmaSmem<D, F8>;
  constexpr int kProdWgs = tma_producer_wgs(F8);
  constexpr int kProdThreads = 128 * kProdWgs;
  // Launched with PDL (launch_d): nothing the kernels before it write is
  // read before they have finished.
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
  if (call_failed(p)) return;
  PrefillTile pt;
  if (!prefill_tile_of(p, pt)) return;
  const int64_t b = pt.b, seq_begin = pt.seq_begin, P = pt.P;
  const int64_t n_first = pt.n_first;
  const int i0 = pt.i0, H = p.heads;
  const int ntiles = pt.ntiles;
  const int mvalid = pt.mvalid;
  const int bs = p.bs;
  const int tpb = bs >> 7;  // 128-key tiles per block (bs % 128 == 0)
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const uint32_t sraw = smem_u32(smem_raw);
  const uint32_t sbase = (sraw + 1023u) & ~1023u;
  const uint32_t bar0 = sbase + S::kBarOff;
  auto full_bar = [&](int s) { return bar0 + 8u * (uint32_t)s; };
  auto empty_bar = [&](int s) { return bar0 + 8u * (uint32_t)(tma_stages(F8) + s); };
  const uint32_t qbar = bar0 + 8u * (uint32_t)(2 * tma_stages(F8));
  auto raw_bar = [&](int r) { return bar0 + 8u * (uint32_t)(2 * tma_stages(F8) + 1 + r); };
  if (tid == 0) {
#pragma unroll
    for (int s = 0; s < tma_stages(F8); ++s) {
      mbar_init(full_bar(s), F8 ? kProdThreads : 1);  // F8: every producer thread
      mbar_init(empty_bar(s), 8);  // one arrival per consumer warp
    }
    mbar_init(qbar, 1);
#pragma unroll
    for (int r = 0; r < S::kRawStages; ++r) mbar_init(raw_bar(r), 1);
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();
  const int wg = warp >> 2;
  if (wg < kProdWgs) {
    // ---------------- producer ----------------
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kTmaProducerRegs) : "memory");
    const uint32_t *lut = p.lut + b * p.max_pages;
    const int64_t lrow0 = (int64_t)p.layer * p.page_size;
    const int64_t lstride = (int64_t)p.num_layers * p.page_size;
    // First row of key tile tt (on page pg) in the [rows, D] tensor map.
    auto key_row = [&](int tt, uint32_t pg) {
      const int64_t pos0 = (int64_t)tt * 128;
      const int64_t within = pos0 - (pos0 / bs) * bs;
      return (int)((int64_t)pg * lstride + lrow0 + within);
    };
    if (tid == 0) {
      mbar_expect_tx(qbar, S::kTileBytes);
      const int qrow = (int)((seq_begin + i0) * H);
#pragma unroll
      for (int hh = 0; hh < D / 64; ++hh)
        tma_load_2d(sbase + S::kQOff + hh * 128 * 128, &tmq, hh * 64, qrow, qbar);
    }
    if constexpr (F8) {
      // e4m3 keys: TMA of raw tiles, conversion into the bf16 stages
      const uint32_t raw0 = sbase + S::kRawOff;
      auto issue_raw = [&](int tt, uint32_t pg) {  // raw tile tt -> its raw stage
        const int r = tt % kTmaRawStages;
        mbar_expect_tx(raw_bar(r), S::kRawBytes);
        tma_load_2d(raw0 + r * S::kRawBytes, &tmk, 0, key_row(tt, pg), raw_bar(r));
      };
      uint32_t pg_next = 0;  // thread 0: page of the next raw tile to issue
      if (tid == 0) {
        const int pre = min(kTmaRawStages, ntiles);
        for (int tt = 0; tt < pre; ++tt) issue_raw(tt, __ldg(lut + ((int64_t)tt * 128) / bs));
        if (pre < ntiles) pg_next = __ldg(lut + ((int64_t)pre * 128) / bs);
      }
      auto wg_layout = [](int n, int c) { return swz128(n, c); };
      const E4m3Walk<D, kProdThreads> walk(tid);  // this thread's chunks of each tile
      for (int t = 0; t < ntiles; ++t) {
        const int s = t % tma_stages(F8), r = t % kTmaRawStages;
        if (t >= tma_stages(F8)) mbar_wait(empty_bar(s), (uint32_t)((t / tma_stages(F8)) - 1) & 1u);
        mbar_wait(raw_bar(r), (uint32_t)(t / kTmaRawStages) & 1u);
        const uint32_t rawst = raw0 + r * S::kRawBytes;
        const uint32_t kst = sbase + S::kKOff + s * S::kTileBytes;
        e4m3_tile_to_bf16(walk, rawst, kst, wg_layout);
        // the bf16 stage for the consumers' wgmma (async proxy); also
        // orders this thread's raw reads before the next TMA write into
        // raw stage r
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        mbar_arrive(full_bar(s));
        if (t + kTmaRawStages < ntiles) {
          // raw stage r read by all producer threads
          asm volatile("bar.sync 1, %0;\n" ::"n"(kProdThreads) : "memory");
          if (tid == 0) {
            const int tn = t + kTmaRawStages;
            issue_raw(tn, pg_next);
            if (tn + 1 < ntiles) pg_next = __ldg(lut + ((int64_t)(tn + 1) * 128) / bs);
          }
        }
      }
    } else if (tid == 0) {
      // bf16 keys: TMA copies straight into the stages
      uint32_t pg = ntiles > 0 ? __ldg(lut) : 0u;
      for (int t = 0; t < ntiles; ++t) {
        const int s = t % tma_stages(F8);
        const uint32_t cur = pg;
        if (t + 1 < ntiles) pg = __ldg(lut + ((int64_t)(t + 1) * 128) / bs);
        if (t >= tma_stages(F8)) mbar_wait(empty_bar(s), (uint32_t)((t / tma_stages(F8)) - 1) & 1u);
        const int krow = key_row(t, cur);
        mbar_expect_tx(full_bar(s), S::kTileBytes);
        const uint32_t dst = sbase + S::kKOff + s * S::kTileBytes;
#pragma unroll
        for (int hh = 0; hh < D / 64; ++hh)
          tma_load_2d(dst + hh * 128 * 128, &tmk, hh * 64, krow, full_bar(s));
      }
    }
  } else {
    // ---------------- consumers ----------------
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(tma_consumer_regs(F8))
                 : "memory");
    const int cw = wg - kProdWgs;
    const int g = lane >> 2, t4 = lane & 3;
    const int mrow0 = cw * 64 + (warp & 3) * 16 + g;  // rows mrow0, mrow0 + 8
    int64_t lim[2];
    bool rok[2];
#pragma unroll
    for (int hf = 0; hf < 2; ++hf) {
      const int m = mrow0 + hf * 8;
      rok[hf] = m < mvalid;
      lim[hf] = P + i0 + m / H + 1;
    }
    const float scale = p.scale;
    float run[2] = {-INFINITY, -INFINITY};
    // kFused: this lane's pair (accumulator row hfm of the quad) and its
    // selectable blocks [I1, L0) (the init and local blocks are forced)
    const int hfm = t4 >> 1;
    // (selects, not indexing: a dynamic index would put lim and rok in local memory)
    const bool mine = kFused && (hfm ? rok[1] : rok[0]);
    const int64_t lim_m = hfm ? lim[1] : lim[0];
    const int nblk_m = (int)((lim_m + bs - 1) / bs);
    const RowForcing rf_m(nblk_m, p);
    PairHalfList<kFused ? kFusedTopk / 2 : 1> top;
    top.clear();
    const uint32_t qst = sbase + S::kQOff + cw * 64 * 128;
    auto issue = [&](float *acc, int t) {
      const int s = t % tma_stages(F8);
      mbar_wait(full_bar(s), (uint32_t)(t / tma_stages(F8)) & 1u);
      const uint32_t kst = sbase + S::kKOff + s * S::kTileBytes;
      asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks) {
        const uint32_t off = (ks >> 2) * (128 * 128) + (ks & 3) * 32;
        wgmma_m64n128k16(acc, wg_desc(qst + off), wg_desc(kst + off), ks > 0);
      }
      asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    };
    auto release = [&](int t) {
      __syncwarp();
      if (lane == 0) mbar_arrive(empty_bar(t % tma_stages(F8)));
    };
    // The epilogue of prefill_wg_kernel (block_size >= 128 branch). kPost
    // (kScaleOnce, launched only for scale > 0): the max of the raw dots, scaled
    // once per (pair, tile) instead of per element; multiplying by a
    // positive scale is monotonic in IEEE rounding, so the max of the scaled
    // values is the scaled max (docs/PERFORMANCE.md).
    auto epilogue = [&](const float *acc, int t) {
      constexpr bool kPost = kScaleOnce;
      const int64_t pos0 = (int64_t)t * 128;
      float gm[2][8];
      // The causal mask only on the (at most two) tiles past the first
      // row's limit, as a separate copy: folded into every tile (the
      // compiler had made the 'if (masked)' a predicate), its 64-bit
      // compares and selects kept the ALU pipe ~60% busy. Column c of the
      // tile is masked iff c >= lim - pos0, clamped to [-1, 256] (exact).
      auto block_max = [&](auto mask_c) {
        constexpr bool kMask = decltype(mask_c)::value;
        int rel[2] = {0, 0};
        if constexpr (kMask) {
#pragma unroll
          for (int hf = 0; hf < 2; ++hf) {
            const int64_t r = lim[hf] - pos0;
            rel[hf] = (int)(r < -1 ? -1 : (r > 256 ? 256 : r));
          }
        }
#pragma unroll
        for (int hf = 0; hf < 2; ++hf)
#pragma unroll
          for (int q = 0; q < 8; ++q) {
            float v = -INFINITY;
#pragma unroll
            for (int u = 0; u < 2; ++u)
#pragma unroll
              for (int e = 0; e < 2; ++e) {
                float x = acc[(2 * q + u) * 4 + hf * 2 + e];
                if constexpr (!kPost) x *= scale;
                if constexpr (kMask) {
                  if ((2 * q + u) * 8 + t4 * 2 + e >= rel[hf]) x = -INFINITY;
                }
                v = fmaxf(v, x);
              }
            gm[hf][q] = v;
          }
      };
      if (pos0 + 128 > n_first) block_max(std::true_type{});
      else block_max(std::false_type{});
#pragma unroll
      for (int hf = 0; hf < 2; ++hf) {
        // a tree, not a chain: the max is exact in any order
        const float v4[4] = {fmaxf(gm[hf][0], gm[hf][1]), fmaxf(gm[hf][2], gm[hf][3]),
                             fmaxf(gm[hf][4], gm[hf][5]), fmaxf(gm[hf][6], gm[hf][7])};
        float v = fmaxf(fmaxf(v4[0], v4[1]), fmaxf(v4[2], v4[3]));
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
        if constexpr (kPost) v *= scale;
        run[hf] = fmaxf(run[hf], v);
      }
      // tiles per block: 1 for block_size 128 (no division then)
      const int64_t j = tpb == 1 ? t : t / tpb;
      if (tpb == 1 || (t + 1) % tpb == 0 || t == ntiles - 1) {
        if constexpr (kFused) {
          const float v = hfm ? run[1] : run[0];
          pair_list_push(top, mine && j >= rf_m.I1 && j < rf_m.L0, make_key(v, (int)j));
        } else if (t4 == 0) {
#pragma unroll
          for (int hf = 0; hf < 2; ++hf)
            if (rok[hf] && j * bs < lim[hf]) {
              const int m = mrow0 + hf * 8;
              const int rr = m / H, h = m - rr * H;
              const int64_t row = seq_begin + i0 + rr;
              p.scores[((size_t)h * p.rows + row) * p.lay.nblk_cap + j] = run[hf];
            }
        }
        run[0] = run[1] = -INFINITY;
      }
    };
    if (ntiles <= 0) return;
    mbar_wait(qbar, 0);
    // (the first k-step of each tile overwrites the accumulators; zeroed
    // once so that no register is read before it is written)
    float acc0[64], acc1[64];
#pragma unroll
    for (int i = 0; i < 64; ++i) acc0[i] = acc1[i] = 0.f;
    issue(acc0, 0);
    // Tile t (acc0) is the only wgmma group in flight at the top of every
    // trip, at the back edge and at the loop exit, and the tail is peeled
    // (no conditional issue, no early exit with a group in flight): ptxas
    // then proves every accumulator access safe and injects no
    // warpgroup.wait, so tile t + 1's wgmma runs under tile t's epilogue
    // and the next issue never waits for it.
    int t = 0;
    for (; t + 2 < ntiles; t += 2) {
      issue(acc1, t + 1);
      wgmma_wait<1>();
      acc_fence(acc0);
      release(t);
      epilogue(acc0, t);
      issue(acc0, t + 2);
      wgmma_wait<1>();
      acc_fence(acc1);
      release(t + 1);
      epilogue(acc1, t + 1);
    }
    if (t + 1 < ntiles) {
      issue(acc1, t + 1);
      wgmma_wait<1>();
      acc_fence(acc0);
      release(t);
      epilogue(acc0, t);
      wgmma_wait<0>();
      acc_fence(acc1);
      release(t + 1);
      epilogue(acc1, t + 1);
    } else {
      wgmma_wait<0>();
      acc_fence(acc0);
      release(t);
      epilogue(acc0, t);
    }
    if constexpr (kFused) {
      uint64_t list[kFusedTopk];
      pair_list_gather(top, list);
      if (mine && (t4 & 1) == 0) {
        const int m = mrow0 + hfm * 8;
        const int rr = m / H, h = m - rr * H;
        const int64_t row = seq_begin + i0 + rr;
        row_from_list(list, nblk_m, p, p.out + ((size_t)h * p.rows + row) * p.topk);
      }
    }
  }
#endif
}


// Tensor maps of the TMA prefill: a [rows, D] bf16 matrix (q as [rows * H,
// D]; k_blocks as [num_pages * num_layers * page_size, D]), boxes of 64
// columns (128 bytes) x 128 rows, 128-byte swizzle = the wgmma layout.
// The driver's encoder, looked up once per process (thread-safe); null when
// the driver has none (then the other prefill kernels run).
static PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static std::once_flag once;
  static PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
  std::call_once(once, [] {
    void *fn = nullptr;
    cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000,
                                         cudaEnableDefault, &q) == cudaSuccess &&
        q == cudaDriverEntryPointSuccess && fn)
      encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
    else
      (void)cudaGetLastError();
  });
  return encode;
}
static bool encode_rows_map(CUtensorMap *m, const void *base, uint64_t rows, int D) {
  PFN_cuTensorMapEncodeTiled_v12000 enc = tensor_map_encoder();
  if (!enc) return false;
  cuuint64_t dims[2] = {(cuuint64_t)D, (cuuint64_t)rows};
  cuuint64_t strides[1] = {(cuuint64_t)D * 2};
  cuuint32_t box[2] = {64, 128};
  cuuint32_t estr[2] = {1, 1};
  return enc(m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void *>(base), dims,
             strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
             CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}
// e4m3 keys as [rows, D] bytes, boxes of D columns x 128 rows with the
// swizzle of the row width (fp8.cuh's raw tile layout).
static bool encode_e4m3_rows_map(CUtensorMap *m, const void *base, uint64_t rows, int D) {
  PFN_cuTensorMapEncodeTiled_v12000 enc = tensor_map_encoder();
  if (!enc) return false;
  cuuint64_t dims[2] = {(cuuint64_t)D, (cuuint64_t)rows};
  cuuint64_t strides[1] = {(cuuint64_t)D};
  cuuint32_t box[2] = {(cuuint32_t)D, 128};
  cuuint32_t estr[2] = {1, 1};
  return enc(m, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, const_cast<void *>(base), dims, strides,
             box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE,
             D == 128 ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_64B,
             CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
             CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}
// Whether the driver takes the TMA prefill's launch with PDL (pdl_launch.h).
static std::atomic<int> g_prefill_tma_pdl{kPdlUnknown};

// The TMA prefill when the shape allows it (prefill_tma_supports, D 64 or
// 128, both tensor maps encodable); returns false to fall back.
template <int D>
static bool launch_d(const msa_indexer_tensors_t *t, const KParams &kp, int64_t grid,
                     cudaStream_t st, cudaError_t *err, bool *selected) {
  if (!prefill_tma_supports(t, kp.heads, kp.bs)) return false;
  const uint64_t qrows = (uint64_t)t->rows * (uint64_t)kp.heads;
  const uint64_t krows = (uint64_t)t->num_pages * (uint64_t)t->num_layers *
                         (uint64_t)t->page_size;
  const bool f8 = kp.key_type == MSA_KEY_F8E4M3FN;
  CUtensorMap mq, mk;
  if (!encode_rows_map(&mq, t->q, qrows, D) ||
      !(f8 ? encode_e4m3_rows_map(&mk, t->k_blocks, krows, D)
           : encode_rows_map(&mk, t->k_blocks, krows, D)))
    return false;
  const int bytes = f8 ? TmaSmem<D, true>::kBytes : TmaSmem<D, false>::kBytes;
  const bool fused = kp.topk <= kFusedTopk;
  using Kern = void (*)(const CUtensorMap, const CUtensorMap, KParams);
  auto pick = [&](auto fz) -> Kern {
    constexpr bool Z = decltype(fz)::value;
    return f8 ? (kp.scale > 0.f ? prefill_tma_kernel<D, true, true, Z>
                                : prefill_tma_kernel<D, false, true, Z>)
              : (kp.scale > 0.f ? prefill_tma_kernel<D, true, false, Z>
                                : prefill_tma_kernel<D, false, false, Z>);
  };
  const Kern kern = fused ? pick(std::true_type{}) : pick(std::false_type{});
  *selected = fused;
  cudaError_t e =
      cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  if (e == cudaSuccess) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3((unsigned)grid);
    cfg.blockDim = dim3(tma_threads(f8));
    cfg.dynamicSmemBytes = (size_t)bytes;
    cfg.stream = st;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    e = launch_with_pdl(g_prefill_tma_pdl, cfg, kern, mq, mk, kp);
  }
  *err = e;
  return true;
}


bool prefill_tma_supports(const msa_indexer_tensors_t *t, int heads, int bs) {
  const uint64_t qrows = (uint64_t)t->rows * (uint64_t)heads;
  const uint64_t krows = (uint64_t)t->num_pages * (uint64_t)t->num_layers *
                         (uint64_t)t->page_size;
  return bs % 128 == 0 && qrows >= 128 && krows >= 128 && qrows <= (uint64_t)INT32_MAX &&
         krows <= (uint64_t)INT32_MAX && tensor_map_encoder() != nullptr;
}

bool launch_prefill_tma(const msa_indexer_tensors_t *t, const KParams &kp, int64_t grid,
                        cudaStream_t st, cudaError_t *err, bool *selected) {
  *selected = false;
  return kp.dim == 64 ? launch_d<64>(t, kp, grid, st, err, selected)
                      : launch_d<128>(t, kp, grid, st, err, selected);
}

} // namespace msa_cuda
