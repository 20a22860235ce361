// checks.cuh - the contract's run-time metadata rules on the device, shared by
// the prep kernel (whole batch, before the other kernels) and the decode
// kernel (decode-only calls check their own sequences): the scalar rules of
// msa_check_sequence plus the workspace and max_new_tokens bounds, and the
// error record of the smallest failing sequence. Not installed.
#ifndef MSA_CUDA_CHECKS_CUH
#define MSA_CUDA_CHECKS_CUH

#include "device_common.cuh"

namespace msa_cuda {

// Whether a sequence of newt new rows has score rows in the workspace (so
// that its key blocks are bounded by the workspace's capacity): all but the
// prefill sequences of a call whose fused TMA prefill selects them itself.
__device__ __forceinline__ bool needs_score_rows(const KParams &p, int64_t newt) {
  return !(p.pf_fused && newt > p.dec_rows);
}

// Every rule for sequence b but the page ids (offsets, prefix <= cached,
// the k_max_lengths bounds, pages <= max_pages, key blocks <= the workspace's
// capacity, new rows <= max_new_tokens). newt and keys: the sequence's new
// rows and keys. The rules are combined without short-circuit (| on bools):
// with early returns the compiler issued the later loads after the first
// branch, two memory round trips on the decode kernel's way to its first copy
// instead of one.
__device__ __forceinline__ bool sequence_breaks_scalar_rules(const KParams &p, int64_t b,
                                                             int64_t *newt_out,
                                                             int64_t *keys_out) {
  const int64_t begin = p.off[b], end = p.off[b + 1];
  const int64_t prefix = p.prefix[b], cached = p.cache[b];
  const int64_t kmax0 = p.kmax[0], kmax1 = p.kmax[1];
  const int64_t newt = end - begin, keys = prefix + newt;
  *newt_out = newt;
  *keys_out = keys;
  const bool offsets = ((b == 0) & (begin != 0)) | (end < begin) | (end > p.rows) |
                       ((b == p.batch - 1) & (end != p.rows));
  const bool bounds = (prefix > cached) | (newt > kmax0) | (cached + newt > kmax1);
  // ceil(keys / d) > c as keys > c * d (keys >= 1 when newt >= 1 and the
  // offsets hold): no 64-bit division on the decode kernel's first-copy path
  const bool sizes =
      (newt != 0) & ((keys > p.max_pages * p.page_size) |
                     (needs_score_rows(p, newt) & (keys > p.lay.nblk_cap * p.bs)) |
                     (newt > p.max_new));
  return offsets | bounds | sizes;
}

// The error record of the smallest failing sequence b (one thread): the
// metadata rule msa_check_sequence names, else the workspace or the
// max_new_tokens bound.
static __device__ void write_error_record(const KParams &p, Header *hdr, int64_t b) {
  const uint32_t *off = p.off;
  msa_check_result_t r = msa_check_sequence(
      b, p.batch, p.rows, off, p.prefix, p.cache, p.lut, p.max_pages,
      p.num_pages, p.page_size, p.kmax);
  if (r.code != MSA_CHECK_OK) {
    hdr->err = kErrMetadata;
  } else {
    const int64_t newt = (int64_t)off[b + 1] - off[b];
    const int64_t keys = (int64_t)p.prefix[b] + newt;
    const int64_t nblk = (keys + p.bs - 1) / p.bs;
    if (needs_score_rows(p, newt) && nblk > p.lay.nblk_cap) {
      hdr->err = kErrWorkspace;
      hdr->hint = p.ws_hint;
      r = msa_check_fail(0, b, nblk, p.lay.nblk_cap, keys);
    } else {
      hdr->err = kErrNewBound;
      r = msa_check_fail(0, b, newt, p.max_new, 0);
    }
  }
  hdr->rec = r;
}


} // namespace msa_cuda

#endif
