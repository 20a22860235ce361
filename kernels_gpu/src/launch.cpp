// launch.cpp - the stream-ordered call of libmsa_kernels_cuda: the workspace
// layout, the per-device facts the plan needs, which kernels run for a call
// and with which grids (every choice from host-known sizes only, so that a
// captured graph replays correctly with other metadata values), and the
// kernel-path selector for tests. Design: docs/GPU.md.
#include "msa/msa_kernels_cuda.h"
#include "msa_cuda_internal.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>

namespace msa_cuda {

static size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

Layout make_layout(int64_t score_rows, int64_t batch, int64_t heads, int64_t nblk_cap) {
  Layout l;
  l.hdr = 0;
  l.verdicts = kHeaderBytes;
  l.tiles = align_up(l.verdicts + 8 * (size_t)kMaxDecodeCtas, 256);
  l.scores = align_up(l.tiles + 4 * (size_t)(batch + 1), 256);
  l.total = l.scores + 4 * (size_t)score_rows * (size_t)heads * (size_t)nblk_cap;
  l.score_rows = score_rows;
  l.nblk_cap = nblk_cap;
  return l;
}

// ---------------------------------------------------------------------------
// Per-device facts, read once per device (a process may drive several GPUs
// of different kinds).
// ---------------------------------------------------------------------------
namespace {
struct DeviceInfo {
  int cc = 0;           // compute capability, major * 10 + minor
  int sms = 0;          // multiprocessors
};
constexpr int kMaxDevices = 64;
std::mutex g_dev_mu;
DeviceInfo g_dev[kMaxDevices];
std::atomic<bool> g_dev_ready[kMaxDevices];

bool current_device_info(DeviceInfo *out) {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= kMaxDevices) {
    (void)cudaGetLastError();
    return false;
  }
  if (!g_dev_ready[dev].load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(g_dev_mu);
    if (!g_dev_ready[dev].load(std::memory_order_relaxed)) {
      int mj = 0, mn = 0, sms = 0;
      if (cudaDeviceGetAttribute(&mj, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
          cudaDeviceGetAttribute(&mn, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess ||
          cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
        (void)cudaGetLastError();
        return false;
      }
      g_dev[dev].cc = mj * 10 + mn;
      g_dev[dev].sms = std::max(1, sms);
      g_dev_ready[dev].store(true, std::memory_order_release);
    }
  }
  *out = g_dev[dev];
  return true;
}

std::atomic<int> g_path{MSA_CUDA_PATH_AUTO};
std::atomic<uint64_t> g_decode_launches{0};

int npl_for(int64_t nblk_cap) {
  if (nblk_cap <= 256) return 8;
  if (nblk_cap <= 1024) return 32;
  return 0;
}

msa_status_t launch_failed(cudaError_t e) {
  return msa_set_last_error(MSA_STATUS_CUDA_ERROR, "CUDA launch failed: %s",
                            cudaGetErrorString(e));
}
msa_status_t grid_too_large(const char *what, int64_t grid) {
  return msa_set_last_error(MSA_STATUS_UNSUPPORTED,
                            "%s would need %lld CTAs, above the CUDA grid limit of %d", what,
                            (long long)grid, INT32_MAX);
}
} // namespace

// ---------------------------------------------------------------------------
// Score plan: how many score rows (Layout) a call's workspace holds. With the
// fused TMA prefill (sm_90, topk <= kFusedTopk, block size a multiple of
// 128, D 64 or 128, H <= 128, at least 128 (row, head) pairs, q and k_blocks
// 16-byte aligned, the automatic path) only the decode kernel's rows need
// one: min(rows, kDecRows * batch) for H <= 8, none for more heads (no
// decode kernel), whatever the prefill rows. Otherwise every row has one.
// The size query and the launch both decide here, from host-known values
// only; the size query assumes the pointers aligned and the TMA kernel able
// to take the call (prefill_tma_supports) unless it is given the tensors.
// ---------------------------------------------------------------------------
// q and k_blocks 16-byte aligned: the tensor-core kernels' vector loads and
// tensor maps need it (else the generic kernel serves the call).
static bool operands_aligned16(const msa_indexer_tensors_t *t) {
  return (uintptr_t)t->q % 16 == 0 && (uintptr_t)t->k_blocks % 16 == 0;
}

struct ScorePlan {
  bool fused;          // prefill rows need no score row
  int64_t score_rows;
};
static ScorePlan score_plan(int64_t rows, int64_t batch, const msa_indexer_attrs_t *a, int cc,
                            int path, bool aligned16) {
  const int64_t H = a->num_index_heads, D = a->idx_head_dim, qrows = rows * H;
  const bool fused = aligned16 && path == MSA_CUDA_PATH_AUTO && cc == 90 &&
                     (D == 64 || D == 128) && H <= 128 && a->block_size % 128 == 0 &&
                     a->topk <= kFusedTopk && qrows >= 128 && qrows <= INT32_MAX;
  // the decode kernel's shape within the fused one: H <= 8, whatever the key
  // type (which the size query does not see)
  static_assert(kDecodeServesFp8, "the plan assumes the decode kernel serves both key types");
  const int64_t dec = H <= 8 ? std::min<int64_t>(rows, (int64_t)kDecRows * batch) : 0;
  return {fused, fused ? dec : rows};
}

size_t workspace_size(int64_t rows, int64_t batch, const msa_indexer_attrs_t *a,
                      uint32_t max_total_keys, const msa_indexer_tensors_t *t) {
  if (rows < 0 || batch < 0 || rows > (int64_t)INT32_MAX || batch > (int64_t)INT32_MAX)
    return 0;
  DeviceInfo dev;
  const int cc = current_device_info(&dev) ? dev.cc : 0;
  const bool fits = !t || (operands_aligned16(t) &&
                           prefill_tma_supports(t, a->num_index_heads, a->block_size));
  const ScorePlan sp = score_plan(rows, batch, a, cc, g_path.load(std::memory_order_relaxed),
                                  fits);
  int64_t nblk = ((int64_t)max_total_keys + a->block_size - 1) / a->block_size;
  if (nblk < 1) nblk = 1;
  // make_layout adds a few KiB and 8 bytes per sequence to 4 bytes per
  // (score row, head, block): refuse (0) whatever could wrap size_t.
  uint64_t scores = 0;
  if (__builtin_mul_overflow((uint64_t)sp.score_rows, (uint64_t)a->num_index_heads, &scores) ||
      __builtin_mul_overflow(scores, (uint64_t)nblk * 4, &scores) ||
      scores > (uint64_t)SIZE_MAX / 2)
    return 0;
  return make_layout(sp.score_rows, batch, a->num_index_heads, nblk).total;
}

// ---------------------------------------------------------------------------
// Decode plan: split each decode sequence's key range so that the grid fills
// the GPU once (about the resident CTAs) with equal shares, every CTA
// streaming whole 128-key stages (whole blocks for blocks above 128 keys).
// ---------------------------------------------------------------------------
struct DecodePlan {
  int64_t splits, spc;  // work items per sequence, 128-key stages per item
};
static DecodePlan plan_decode(int64_t batch, int64_t nblk_cap, int bs, int64_t resident) {
  const int64_t spb = bs >= 128 ? bs / 128 : 1;  // stages per block
  const int64_t stages_cap =
      std::max<int64_t>(1, (nblk_cap * (int64_t)bs + 127) / 128);
  const int64_t units = (stages_cap + spb - 1) / spb;  // blocks or stages
  int64_t splits = std::max<int64_t>(1, resident / std::max<int64_t>(1, batch));
  splits = std::min(splits, units);
  int64_t spc = (stages_cap + splits - 1) / splits;
  spc = (spc + spb - 1) / spb * spb;
  splits = (stages_cap + spc - 1) / spc;
  return {splits, spc};
}

msa_status_t launch(const msa_indexer_tensors_t *t, const msa_indexer_attrs_t *a,
                    void *workspace, size_t workspace_bytes, uint32_t max_new_tokens,
                    cudaStream_t st) {
  const int H = a->num_index_heads, D = a->idx_head_dim, bs = a->block_size;
  const size_t fixed = make_layout(0, t->batch, H, 0).total;
  if (workspace == nullptr || workspace_bytes < fixed)
    return msa_set_last_error(
        MSA_STATUS_WORKSPACE_TOO_SMALL,
        "workspace of %zu bytes is smaller than the %zu bytes of its fixed "
        "part (msa_indexer_cuda_workspace_size)",
        workspace_bytes, fixed);
  DeviceInfo dev;
  if (!current_device_info(&dev))
    return msa_set_last_error(MSA_STATUS_NO_DEVICE, "no usable CUDA device");
  const int path = g_path.load(std::memory_order_relaxed);
  const bool aligned16 = operands_aligned16(t);

  // Which kernels serve which sequences: decode (1..kDecRows rows) and the
  // tensor-core prefill where the shape allows, the generic kernel for the
  // rest. A sequence's kernel depends on its own row count and the
  // attributes only (batch invariance).
  const bool generic = path == MSA_CUDA_PATH_GENERIC || !aligned16;
  const bool mma_d = (D == 64 || D == 128);
  const bool tc_bs = bs == 16 || bs == 32 || bs == 64 || bs % 128 == 0;
  const bool sm90 = dev.cc == 90;
  const bool use_pf = !generic && mma_d && H <= 128 && tc_bs;
  const bool dec_keys = t->k_type == MSA_KEY_BF16 || kDecodeServesFp8;
  // One sequence of more than kDecRows rows (off[batch] = rows) is not a
  // decode sequence: no decode launch (it cost ~5 us of an 80 us prefill).
  // With a decode bound (max_new_tokens <= kDecRows) the call stays the one
  // decode launch, which reports the bound (the header's promise).
  const bool no_decode_seq =
      t->batch == 1 && t->rows > kDecRows && max_new_tokens > (uint32_t)kDecRows;
  const bool use_dec = !generic && mma_d && H <= 8 && tc_bs && dev.cc >= 90 && dec_keys &&
                       !no_decode_seq;
  const int dec_rows = use_dec ? kDecRows : 0;
  const bool may_prefill = t->rows > dec_rows && max_new_tokens > (uint32_t)dec_rows;
  const bool tma = use_pf && may_prefill && path != MSA_CUDA_PATH_MMA_SYNC && sm90 &&
                   prefill_tma_supports(t, H, bs);

  // The score rows. The fused plan needs the TMA kernel for the prefill
  // rows: without it they take kernels that write score rows, one per row.
  // The size query assumed aligned pointers and a TMA-able call: the hint
  // says which of the two did not hold, for the workspace error.
  ScorePlan sp = score_plan(t->rows, t->batch, a, dev.cc, path, aligned16);
  int32_t ws_hint = !aligned16 && score_plan(t->rows, t->batch, a, dev.cc, path, true).fused
                        ? kWsHintUnaligned
                        : kWsHintNone;
  if (sp.fused && may_prefill && !tma) {
    sp = {false, t->rows};
    ws_hint = kWsHintNoTma;
  }
  int64_t nblk_cap = INT32_MAX;  // no score row: no bound
  if (sp.score_rows > 0) {
    const size_t per = 4 * (size_t)sp.score_rows * (size_t)H;
    nblk_cap = (int64_t)std::min<size_t>((workspace_bytes - fixed) / per, INT32_MAX);
  }
  KParams kp;
  std::memset(&kp, 0, sizeof kp);
  kp.q = t->q;
  kp.off = t->input_row_offsets;
  kp.prefix = t->prefix_lens;
  kp.key_type = t->k_type;
  if (t->k_type == MSA_KEY_F8E4M3FN)
    kp.k8 = static_cast<const uint8_t *>(t->k_blocks);
  else
    kp.k = static_cast<const uint16_t *>(t->k_blocks);
  kp.cache = t->k_cache_lengths;
  kp.lut = t->k_lookup_table;
  kp.kmax = t->k_max_lengths;
  kp.out = t->out;
  kp.rows = t->rows;
  kp.batch = t->batch;
  kp.num_pages = t->num_pages;
  kp.num_layers = t->num_layers;
  kp.page_size = t->page_size;
  kp.max_pages = t->max_pages;
  kp.heads = H;
  kp.dim = D;
  kp.bs = bs;
  kp.topk = a->topk;
  kp.init_blocks = a->init_blocks;
  kp.local_blocks = a->local_blocks;
  kp.layer = a->layer_idx;
  kp.scale = a->scale;
  kp.order = a->order;
  kp.ws = static_cast<unsigned char *>(workspace);
  kp.lay = make_layout(sp.score_rows, t->batch, H, nblk_cap);
  kp.pf_fused = sp.fused ? 1 : 0;
  kp.ws_hint = ws_hint;
  kp.scores = reinterpret_cast<float *>(kp.ws + kp.lay.scores);
  kp.out_elems = (int64_t)H * t->rows * a->topk;
  kp.max_new = max_new_tokens;

  kp.dec_rows = dec_rows;
  kp.tile_rows = (use_pf && may_prefill) ? 128 / H : 0;
  kp.skip_decode = use_dec ? 1 : 0;
  kp.skip_prefill = use_pf ? 1 : 0;
  const int npl = npl_for(nblk_cap);

  // A decode-only call is ONE launch: the decode kernel checks its own
  // sequences. Otherwise prep checks the whole batch first.
  const bool decode_only = use_dec && !may_prefill && t->rows > 0 && t->batch > 0;
  cudaError_t e;
  if (!decode_only) {
    if ((e = launch_prep(kp, st)) != cudaSuccess) return launch_failed(e);
    if (t->rows == 0) return MSA_STATUS_OK;
  }
  if (use_dec) {
    const int64_t cmax =
        std::min<int64_t>(std::min<int64_t>(max_new_tokens, kDecRows), t->rows) * H;
    const int nt = cmax <= 8 ? 1 : (cmax <= 16 ? 2 : 4);
    int per_sm = 0;
    if ((e = decode_prepare(D, kp.key_type, nt, npl, &per_sm)) != cudaSuccess) return launch_failed(e);
    // The grid barrier needs every CTA resident: at most what fits at once.
    const int64_t resident = std::min<int64_t>((int64_t)std::max(1, per_sm) * dev.sms,
                                               kMaxDecodeCtas);
    const DecodePlan dp = plan_decode(t->batch, nblk_cap, bs, resident);
    kp.splits = (int32_t)dp.splits;
    kp.dec_spc = dp.spc;
    kp.dec_own_checks = decode_only ? 1 : 0;
    const int64_t grid = std::min(dp.splits * t->batch, resident);
    if ((e = launch_decode(kp, nt, npl, grid, st)) != cudaSuccess) return launch_failed(e);
    g_decode_launches.fetch_add(1, std::memory_order_relaxed);
    if (decode_only) return MSA_STATUS_OK;
  }
  bool prefill_selected = false;  // the TMA prefill wrote its rows' ids itself
  if (use_pf && may_prefill) {
    const int64_t tr = kp.tile_rows;
    const int64_t grid = (t->rows + tr - 1) / tr +
                         std::min<int64_t>(t->batch, t->rows / (kp.dec_rows + 1)) + 1;
    if (grid > INT32_MAX) return grid_too_large("the prefill kernel", grid);
    if (path != MSA_CUDA_PATH_MMA_SYNC && sm90) {
      if (!launch_prefill_tma(t, kp, grid, st, &e, &prefill_selected)) {
        // a tensor map prefill_tma_supports could not foresee; prep checked
        // the prefill rows against no score-row capacity: no fallback
        if (kp.pf_fused)
          return msa_set_last_error(MSA_STATUS_CUDA_ERROR,
                                    "the TMA prefill could not encode its tensor maps");
        e = launch_prefill_wgmma(kp, grid, st);
      }
    } else {
      e = launch_prefill_mma(kp, grid, st);
    }
    if (e != cudaSuccess) return launch_failed(e);
  }
  if (!use_pf) {
    // generic scoring of the sequences the tensor-core kernels do not take
    // (every sequence that decode does not serve)
    const int64_t gx = std::min<int64_t>(t->rows, 1 << 20);
    const int64_t gy = std::max<int64_t>(1, std::min<int64_t>((nblk_cap + 3) / 4, 64));
    if ((e = launch_generic(kp, gx, gy, st)) != cudaSuccess) return launch_failed(e);
  }
  if ((!use_dec || may_prefill) && !prefill_selected) {
    const int64_t pairs = (int64_t)H * t->rows;
    const int64_t grid = (pairs + 7) / 8;  // a warp per (head, row), 8 per CTA
    if (grid > INT32_MAX) return grid_too_large("the select kernel", grid);
    if ((e = launch_select(kp, npl, grid, st)) != cudaSuccess) return launch_failed(e);
  }
  return MSA_STATUS_OK;
}

} // namespace msa_cuda

extern "C" msa_status_t msa_cuda_set_path(int32_t path) {
  if (path != MSA_CUDA_PATH_AUTO && path != MSA_CUDA_PATH_GENERIC &&
      path != MSA_CUDA_PATH_MMA_SYNC)
    return msa_set_last_error(MSA_STATUS_INVALID_ARGUMENT, "unknown CUDA path %d", (int)path);
  msa_cuda::g_path.store(path, std::memory_order_relaxed);
  return MSA_STATUS_OK;
}

extern "C" uint64_t msa_cuda_decode_launches(void) {
  return msa_cuda::g_decode_launches.load(std::memory_order_relaxed);
}
