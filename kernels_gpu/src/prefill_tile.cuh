// prefill_tile.cuh - which prefill tile a CTA owns, shared by the three
// prefill kernels. A tile is tile_rows = 128 / H consecutive rows of one
// sequence (the prep kernel's exclusive scan gives each sequence's first
// tile); CTAs take tiles longest first (CTA i takes the last-but-i tile)
// against the causal imbalance. Not installed.
#ifndef MSA_CUDA_PREFILL_TILE_CUH
#define MSA_CUDA_PREFILL_TILE_CUH

#include "device_common.cuh"

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

} // namespace msa_cuda

#endif
