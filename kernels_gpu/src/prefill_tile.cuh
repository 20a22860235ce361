// prefill_tile.cuh - which prefill tile a CTA owns, shared by the three
// prefill kernels. A tile is tile_rows = 128 / H consecutive rows of one
// sequence (the prep kernel's exclusive scan gives each sequence's first
// tile); CTAs take tiles longest first (CTA i takes the last-but-i tile)
// against the causal imbalance. Also the e4m3 key-tile loader of the two
// cp.async prefill kernels. Not installed.
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

// e4m3 keys on the cp.async prefill kernels: kThreads threads copy a
// 128-key tile (keys past the tile's last row are zero-filled, as the bf16
// loaders do) into a raw stage (fp8.cuh's layout, 16 bytes per cp.async)
// and later convert it into the bf16 tile the tensor cores read. Each
// thread converts exactly the chunks it copied (after its own
// cp.async.wait_group), so the raw ring is private to each thread and needs
// no barrier; only the bf16 tile is shared. Page ids are fetched one tile
// ahead (fetch_pages(t + 1) after load(t)), as in the bf16 loaders.
template <int D, int kThreads>
struct E4m3TileLoader {
  static constexpr int kPerThread = 128 * D / 16 / kThreads;  // chunks
  static_assert(kPerThread >= 1 && 128 * D / 16 % kThreads == 0, "chunks per thread");
  const uint8_t *kbase;  // layer's first key of page 0
  size_t page_stride;    // bytes between pages
  const uint32_t *lut;   // the sequence's page ids
  int64_t n_last;        // keys seen by the tile's last row
  int ntiles, bs, bs_sh;
  bool bs_pow2;
  uint32_t pg[kPerThread];

  __device__ __forceinline__ E4m3TileLoader(const KParams &p, const PrefillTile &t) {
    kbase = p.k8 + (size_t)p.layer * p.page_size * D;
    page_stride = (size_t)p.num_layers * p.page_size * D;
    lut = p.lut + t.b * p.max_pages;
    n_last = t.n_last;
    ntiles = t.ntiles;
    bs = p.bs;
    bs_pow2 = (bs & (bs - 1)) == 0;
    bs_sh = __ffs(bs) - 1;
  }
  __device__ __forceinline__ void chunk(int k, int &n, int &c) const {
    e4m3_chunk_at<D>((int)threadIdx.x + k * kThreads, n, c);
  }
  __device__ __forceinline__ void fetch_pages(int tt) {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      int n, c;
      chunk(k, n, c);
      const int64_t pos = (int64_t)tt * 128 + n;
      const int64_t j = bs_pow2 ? (pos >> bs_sh) : pos / bs;
      pg[k] = (tt < ntiles && pos < n_last) ? __ldg(lut + j) : 0u;
    }
  }
  __device__ __forceinline__ void load(int tt, uint32_t raw) const {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      int n, c;
      chunk(k, n, c);
      const int64_t pos = (int64_t)tt * 128 + n;
      const bool ok = pos < n_last;
      const int64_t within = bs_pow2 ? (pos & (bs - 1)) : pos % bs;
      const uint8_t *src =
          ok ? kbase + (size_t)pg[k] * page_stride + (size_t)within * D + c * 16 : kbase;
      cp_async16(raw + e4m3_raw_off<D>(n, c), src, ok);
    }
  }
  template <class Off>
  __device__ __forceinline__ void convert(uint32_t raw, uint32_t dst, Off off) const {
#pragma unroll
    for (int k = 0; k < kPerThread; ++k) {
      int n, c;
      chunk(k, n, c);
      e4m3_chunk_to_bf16<D>(raw, dst, n, c, off);
    }
  }
};

} // namespace msa_cuda

#endif
