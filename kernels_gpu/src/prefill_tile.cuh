// prefill_tile.cuh - which prefill tile a CTA owns, shared by the three
// prefill kernels. A tile is tile_rows = 128 / H consecutive rows of one
// sequence (the prep kernel's exclusive scan gives each sequence's first
// tile); CTAs take tiles longest first (CTA i takes the last-but-i tile)
// against the causal imbalance. Also the key-tile loaders (bf16, e4m3) of
// the two cp.async prefill kernels. Not installed.
#ifndef MSA_CUDA_PREFILL_TILE_CUH
#define MSA_CUDA_PREFILL_TILE_CUH

#include "device_common.cuh"
#include "fp8.cuh"

namespace msa_cuda {

struct PrefillTile {
  int64_t b;          // sequence
  int64_t seq_begin;  // its first row
  int64_t P;          // its prefix (keys cached before this step)
  int64_t n_first;    // keys seen by the tile's first row
  int64_t n_last;     // keys seen by its last row
  int i0;             // the tile's first row, within the sequence
  int nrows;          // rows in the tile (<= tile_rows)
  int ntiles;         // 128-key tiles up to the last row's causal limit
  int mvalid;         // valid (row, head) pairs, nrows * H
};

// False when this CTA has no tile (the grid is an upper bound).
__device__ __forceinline__ bool prefill_tile_of(const KParams &p, PrefillTile &t) {
  const int32_t *tiles = reinterpret_cast<const int32_t *>(p.ws + p.lay.tiles);
  const int total_tiles = tiles[p.batch];
  const int tile = total_tiles - 1 - (int)blockIdx.x;  // longest first
  if (tile < 0) return false;
  // Sequence of this tile: largest b with tiles[b] <= tile.
  int64_t lo = 0, hi = p.batch - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) >> 1;
    if (tiles[mid] <= tile) lo = mid; else hi = mid - 1;
  }
  t.b = lo;
  t.seq_begin = p.off[lo];
  const int new_rows = (int)((int64_t)p.off[lo + 1] - t.seq_begin);
  t.i0 = (tile - tiles[lo]) * p.tile_rows;
  t.nrows = min(p.tile_rows, new_rows - t.i0);
  t.P = p.prefix[lo];
  t.n_first = t.P + t.i0 + 1;
  t.n_last = t.P + t.i0 + t.nrows;
  t.ntiles = (int)((t.n_last + 127) / 128);
  t.mvalid = t.nrows * p.heads;
  return true;
}

// The key rows of a prefill tile's sequence for the cp.async loaders: the
// page of key position pos, its row within the page; positions at or past
// the tile's last row's keys (n_last) are not read (zero fill).
struct TileKeyRows {
  const uint32_t *lut;  // the sequence's page ids
  int64_t n_last;
  int ntiles, bs, bs_sh;
  bool bs_pow2;
  __device__ __forceinline__ TileKeyRows(const KParams &p, const PrefillTile &t) {
    lut = p.lut + t.b * p.max_pages;
    n_last = t.n_last;
    ntiles = t.ntiles;
    bs = p.bs;
    bs_sh = __ffs(p.bs) - 1;
    bs_pow2 = (p.bs & (p.bs - 1)) == 0;
  }
  // The page id of key row n of tile tt (0 where nothing is read).
  __device__ __forceinline__ uint32_t page(int tt, int n) const {
    const int64_t pos = (int64_t)tt * 128 + n;
    const int64_t j = bs_pow2 ? (pos >> bs_sh) : pos / bs;
    return (tt < ntiles && pos < n_last) ? __ldg(lut + j) : 0u;
  }
  __device__ __forceinline__ bool read(int tt, int n) const {
    return (int64_t)tt * 128 + n < n_last;
  }
  __device__ __forceinline__ int64_t within(int tt, int n) const {
    const int64_t pos = (int64_t)tt * 128 + n;
    return bs_pow2 ? (pos & (bs - 1)) : pos % bs;
  }
};

// bf16 keys on the cp.async prefill kernels: kThreads threads copy a
// 128-key tile, 16 bytes (8 keys elements) per cp.async, thread t always
// chunk t % (D / 8) of rows t / (D / 8) + k * (kThreads / (D / 8)), into
// the layout off(n, chunk) of the kernel. Page ids are fetched one tile
// ahead (fetch_pages(t + 1) after load(t)), so no lookup latency sits
// before the copies.
template <int D, int kThreads>
struct Bf16TileLoader {
  static constexpr int kCpr = D / 8;               // chunks per key row
  static constexpr int kRowStep = kThreads / kCpr;
  static constexpr int kPerThread = 128 / kRowStep;
  TileKeyRows rows;
  const uint16_t *kbase;  // layer's first key of page 0
  size_t page_stride;     // elements between pages
  int lc, lr;
  uint32_t pg[kPerThread];

  __device__ __forceinline__ Bf16TileLoader(const KParams &p, const PrefillTile &t)
      : rows(p, t) {
    kbase = p.k + (size_t)p.layer * p.page_size * D;
    page_stride = (size_t)p.num_layers * p.page_size * D;
    lc = (int)threadIdx.x % kCpr;
    lr = (int)threadIdx.x / kCpr;
  }
  __device__ __forceinline__ void fetch_pages(int tt) {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) pg[k] = rows.page(tt, lr + k * kRowStep);
  }
  template <class Off>
  __device__ __forceinline__ void load(int tt, uint32_t dst, Off off) const {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      const int n = lr + k * kRowStep;
      const bool ok = rows.read(tt, n);
      const uint16_t *src =
          ok ? kbase + (size_t)pg[k] * page_stride + (size_t)rows.within(tt, n) * D + lc * 8
             : kbase;
      cp_async16(dst + off(n, lc), src, ok);
    }
  }
};

// e4m3 keys on the cp.async prefill kernels: kThreads threads copy each
// 128-key tile (keys past the tile's last row are zero-filled, as for
// bf16) into a ring of kStages raw stages at raw0 (1024-aligned; fp8.cuh's
// layout, 16 bytes per cp.async) and convert it into a bf16 tile the
// tensor cores read, one tile ahead of the MMAs:
//   start(); [MMA prologue]; first(bf16 tile 0)
//   per tile t: [issue tile t's MMAs]; next(t, bf16 tile t + 1); [...]
// Each thread converts exactly the chunks it copied (after its own
// cp.async.wait_group), so the raw ring is private to each thread and
// needs no barrier; the caller publishes the bf16 tile (a CTA barrier, and
// fence.proxy.async for wgmma) and must not overwrite one still read. Tile
// x is the loader's cp.async group x (the first one also completes what the
// caller issued before start()). Page ids one tile ahead, as above.
template <int D, int kThreads, int kStages>
struct E4m3TileLoader {
  using Walk = E4m3Walk<D, kThreads>;
  static constexpr int kRawBytes = 128 * D;
  TileKeyRows rows;
  Walk walk;
  const uint8_t *kbase;  // layer's first key of page 0
  size_t page_stride;    // bytes between pages
  uint32_t raw0;
  uint32_t pg[Walk::kSteps];

  __device__ __forceinline__ E4m3TileLoader(const KParams &p, const PrefillTile &t,
                                            uint32_t raw_ring)
      : rows(p, t), walk((int)threadIdx.x) {
    kbase = p.k8 + (size_t)p.layer * p.page_size * D;
    page_stride = (size_t)p.num_layers * p.page_size * D;
    raw0 = raw_ring;
  }
  __device__ __forceinline__ uint32_t raw_stage(int tt) const {
    return raw0 + (uint32_t)(tt % kStages) * kRawBytes;
  }
  __device__ __forceinline__ void fetch_pages(int tt) {
#pragma unroll
    for (int k = 0; k < Walk::kSteps; ++k) pg[k] = rows.page(tt, walk.row(k));
  }
  __device__ __forceinline__ void load(int tt) const {
    if (tt >= rows.ntiles) return;
    const uint32_t dst = raw_stage(tt) + e4m3_raw_off<D>(walk.n0, walk.c);
#pragma unroll
    for (int k = 0; k < Walk::kSteps; ++k) {
      const int n = walk.row(k);
      const bool ok = rows.read(tt, n);
      const uint8_t *src = ok ? kbase + (size_t)pg[k] * page_stride +
                                    (size_t)rows.within(tt, n) * D + walk.c * 16
                              : kbase;
      cp_async16(dst + (uint32_t)(k * Walk::kRowStep * D), src, ok);
    }
  }
  template <class Off>
  __device__ __forceinline__ void convert(int tt, uint32_t dst, Off off) const {
    e4m3_tile_to_bf16(walk, raw_stage(tt), dst, off);
  }
  // Tiles 0 .. kStages - 1 in flight (groups 0 .. kStages - 1).
  __device__ __forceinline__ void start() {
#pragma unroll
    for (int x = 0; x < kStages; ++x) {
      fetch_pages(x);
      load(x);
      cp_async_commit();
    }
    fetch_pages(kStages);
  }
  // Tile 0 -> bf16 tile `dst`; tile kStages in flight.
  template <class Off>
  __device__ __forceinline__ void first(uint32_t dst, Off off) {
    cp_async_wait<kStages - 1>();
    if (rows.ntiles > 0) convert(0, dst, off);
    load(kStages);
    cp_async_commit();
    fetch_pages(kStages + 1);
  }
  // During tile t: tile t + 1 -> bf16 tile `dst`, tile t + 1 + kStages in
  // flight (groups 0 .. kStages + t are committed when it starts).
  template <class Off>
  __device__ __forceinline__ void next(int t, uint32_t dst, Off off) {
    if (t + 1 < rows.ntiles) {
      cp_async_wait<kStages - 1>();
      convert(t + 1, dst, off);
      load(t + 1 + kStages);
      fetch_pages(t + 2 + kStages);
    }
    cp_async_commit();
  }
};

} // namespace msa_cuda

#endif
