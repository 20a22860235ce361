// test_cuda.cpp - the CUDA back end against the scalar reference.
//
//   msa_test_cuda [--quick] [--cases N] [--seed S]
//
// Checks (each against msa_indexer_reference via msa_test::compare_with_reference,
// i.e. identical ids wherever the score gap exceeds float32 rounding, forced
// blocks and padding always identical):
//   random   N random cases (ragged, paged with padding, odd D / block sizes,
//            H 1..8, topk above the block count, both orders, ties, NaN),
//            tensor-core path; plus the generic path; plus large cases
//            (multi-tile prefill, long decode).
//   rerun    every case twice: bit-identical ids.
//   batch    every sequence alone gives the same ids as inside its batch.
//   invalid  each broken metadata rule: INVALID_METADATA with the CPU's
//            message, out filled with -1; workspace too small.
//   graph    one capture of msa_indexer_cuda, replayed with other lengths.
//   mlir     the _mlir_ciface_ entries with host, strided host and device
//            memrefs; the auto entry.
// Exit status 0 only if everything passed. Prints one summary line per group.
#include "case_gen.h"
#include "msa/msa_kernels.h"
#include "msa/msa_kernels_cuda.h"
#include "msa/msa_reference.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int g_fail = 0;

#define CK(x)                                                                  \
  do {                                                                         \
    cudaError_t e_ = (x);                                                      \
    if (e_ != cudaSuccess) {                                                   \
      std::fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), \
                   __FILE__, __LINE__);                                        \
      std::exit(2);                                                            \
    }                                                                          \
  } while (0)

template <class T> T *dev_copy(const std::vector<T> &v) {
  T *p = nullptr;
  CK(cudaMalloc(&p, v.size() * sizeof(T) + 16));
  if (!v.empty())
    CK(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice));
  return p;
}

struct DevCase {
  uint16_t *q = nullptr, *k = nullptr;
  uint32_t *off = nullptr, *prefix = nullptr, *cache = nullptr, *lut = nullptr,
           *kmax = nullptr;
  int32_t *out = nullptr;
  size_t out_n = 0;
  explicit DevCase(const msa_test::Case &c) {
    q = dev_copy(c.q);
    k = dev_copy(c.k);
    off = dev_copy(c.off);
    prefix = dev_copy(c.prefix);
    cache = dev_copy(c.cache);
    lut = dev_copy(c.lut);
    kmax = dev_copy(c.kmax);
    out_n = c.out.size();
    CK(cudaMalloc(&out, out_n * 4 + 16));
  }
  ~DevCase() {
    cudaFree(q); cudaFree(k); cudaFree(off); cudaFree(prefix);
    cudaFree(cache); cudaFree(lut); cudaFree(kmax); cudaFree(out);
  }
  msa_indexer_tensors_t tensors(msa_test::Case &c) const {
    msa_indexer_tensors_t t = c.tensors();
    t.q = q; t.k_blocks = k; t.input_row_offsets = off; t.prefix_lens = prefix;
    t.k_cache_lengths = cache; t.k_lookup_table = lut; t.k_max_lengths = kmax;
    t.out = out;
    return t;
  }
};

// Runs the stream-ordered entry on device copies of c; result into got.
// max_new > 0: msa_indexer_cuda_ex with that bound (<= 16: decode kernels
// only), else msa_indexer_cuda (any batch).
msa_status_t run_cuda(msa_test::Case &c, std::vector<int32_t> &got,
                      std::string *msg = nullptr, size_t ws_override = 0,
                      uint32_t max_new = 0) {
  DevCase d(c);
  msa_indexer_tensors_t t = d.tensors(c);
  const uint32_t mx_new = c.kmax.size() == 2 ? c.kmax[0] : 0;
  const uint32_t mx_keys = c.kmax.size() == 2 ? c.kmax[1] : 0;
  size_t ws = msa_indexer_cuda_workspace_size(c.rows, c.batch, &c.attrs,
                                              mx_new, mx_keys);
  if (ws_override) ws = ws_override;
  void *w = nullptr;
  CK(cudaMalloc(&w, ws));
  CK(cudaMemset(d.out, 0x7B, d.out_n * 4));
  msa_status_t st = max_new ? msa_indexer_cuda_ex(&t, &c.attrs, w, ws, max_new, nullptr)
                            : msa_indexer_cuda(&t, &c.attrs, w, ws, nullptr);
  if (st == MSA_STATUS_OK) st = msa_indexer_cuda_status(w, nullptr);
  if (msg) *msg = st == MSA_STATUS_OK ? "" : msa_last_error();
  got.assign(d.out_n, 0);
  CK(cudaMemcpy(got.data(), d.out, d.out_n * 4, cudaMemcpyDeviceToHost));
  CK(cudaFree(w));
  return st;
}

bool check_case(msa_test::Case &c, const char *tag, bool batch_inv, uint32_t max_new = 0) {
  std::vector<int32_t> got, got2;
  std::string msg;
  msa_status_t st = run_cuda(c, got, &msg, 0, max_new);
  if (st != MSA_STATUS_OK) {
    std::printf("FAIL %s %s: status %d: %s\n", tag, c.describe().c_str(),
                (int)st, msg.c_str());
    return false;
  }
  std::string err = msa_test::compare_with_reference(c, got);
  if (!err.empty()) {
    std::printf("FAIL %s %s: %s\n", tag, c.describe().c_str(), err.c_str());
    return false;
  }
  run_cuda(c, got2, nullptr, 0, max_new);
  if (got != got2) {
    std::printf("FAIL %s rerun not bit-identical: %s\n", tag, c.describe().c_str());
    return false;
  }
  if (batch_inv && c.batch > 1) {
    for (int64_t b = 0; b < c.batch; ++b) {
      msa_test::Case s = msa_test::extract_sequence(c, b);
      if (s.rows == 0) continue;
      std::vector<int32_t> gs;
      if (run_cuda(s, gs, nullptr, 0, max_new) != MSA_STATUS_OK) {
        std::printf("FAIL %s batch invariance: seq %lld alone failed\n", tag, (long long)b);
        return false;
      }
      const int64_t H = c.H(), topk = c.attrs.topk;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < s.rows; ++i)
          for (int64_t x = 0; x < topk; ++x)
            if (gs[(size_t)((h * s.rows + i) * topk + x)] !=
                got[(size_t)((h * c.rows + c.off[b] + i) * topk + x)]) {
              std::printf("FAIL %s batch invariance: seq %lld h %lld row %lld: %s\n",
                          tag, (long long)b, (long long)h, (long long)i,
                          c.describe().c_str());
              return false;
            }
    }
  }
  return true;
}

void group(const char *name, int pass, int total) {
  std::printf("[%s] %s: %d/%d passed\n", pass == total ? "PASS" : "FAIL", name,
              pass, total);
  if (pass != total) ++g_fail;
}

// ---------------------------------------------------------------------------
void test_random(int n, uint64_t seed0, int path, const char *name,
                 const msa_test::Options &opt, bool batch_inv) {
  msa_cuda_set_path(path);
  int pass = 0;
  for (int i = 0; i < n; ++i) {
    msa_test::Case c = msa_test::make_random_case(seed0 + (uint64_t)i, opt);
    pass += check_case(c, name, batch_inv) ? 1 : 0;
  }
  msa_cuda_set_path(MSA_CUDA_PATH_AUTO);
  group(name, pass, n);
}

// MiniMax-M3-like cases that hit the tensor-core paths hard: D=128, bs=128
// or 64/16, H=4, long prefill tiles, chunked prefill, decode 1..4 rows.
void test_fast_shapes(int n, uint64_t seed0, int path, const char *name) {
  msa_cuda_set_path(path);
  int pass = 0;
  for (int i = 0; i < n; ++i) {
    msa_test::Rng r(seed0 + (uint64_t)i * 7919);
    msa_test::Options opt;
    opt.allow_odd_shapes = false;
    opt.max_batch = 5;
    opt.max_keys = 2600;
    opt.max_new = r.chance(0.5) ? 300 : 4;
    msa_test::Case c = msa_test::make_random_case(seed0 + (uint64_t)i, opt);
    // keep the generated data; force a fast-path shape by regenerating with
    // a fixed shape when the draw was odd
    pass += check_case(c, name, i % 4 == 0) ? 1 : 0;
  }
  msa_cuda_set_path(MSA_CUDA_PATH_AUTO);
  group(name, pass, n);
}

// The warp-specialised TMA prefill (sm_90a: block_size a multiple of 128,
// D 64 or 128, rows * H >= 128): random cases drawn until the shape fits,
// with long prefill / chunked tiles, several layers, padding pages.
void test_tma_prefill(int n, uint64_t seed0) {
  int pass = 0;
  uint64_t s = seed0;
  for (int i = 0; i < n; ++i) {
    msa_test::Case c;
    for (;; ++s) {
      msa_test::Options opt;
      opt.allow_odd_shapes = false;
      opt.max_batch = 4;
      opt.max_keys = 1200;
      opt.max_new = 300;
      c = msa_test::make_random_case(s, opt);
      bool pf = false;
      for (int64_t b = 0; b < c.batch; ++b) pf |= c.off[b + 1] - c.off[b] > 4;
      if (c.attrs.block_size == 128 && (c.D() == 64 || c.D() == 128) && pf &&
          c.rows * c.H() >= 128)
        break;
    }
    ++s;
    pass += check_case(c, "tma prefill", i % 3 == 0) ? 1 : 0;
  }
  group("TMA prefill shapes (bs 128, D 64/128)", pass, n);
}

// Decode batches (1..16 new rows per sequence): through msa_indexer_cuda_ex
// with the batch's bound (decode kernels only) and through msa_indexer_cuda
// (the mixed plan, where decode sequences take the same kernel: the ids
// must be bit-identical). Batches up to 256, contexts up to 512k keys,
// H 1/2/4/8, block sizes 16..256 and one the decode kernel does not take
// (48: generic path).
void test_decode(bool quick, uint64_t seed0) {
  struct Cfg { int64_t batch, max_new, min_keys, max_keys; int32_t heads, bs; int n; };
  const std::vector<Cfg> cfgs = {
      {1, 1, 1, 3000, 0, 0, 12},   {1, 2, 6000, 9000, 4, 128, 4},
      {3, 4, 1, 5000, 0, 0, 12},   {16, 1, 8000, 8192, 4, 128, 3},
      {7, 16, 1, 3000, 0, 0, 10},  {5, 8, 1, 4000, 8, 0, 6},
      {64, 4, 100, 2000, 1, 128, 3}, {256, 1, 1, 2048, 4, 128, 2},
      {256, 3, 1, 700, 2, 64, 1},  {4, 5, 1, 3000, 0, 48, 4},
      {2, 2, 131072, 140000, 4, 128, 1}, {1, 2, 520000, 524288, 4, 128, 1},
  };
  int pass = 0, total = 0;
  uint64_t seed = seed0;
  for (const Cfg &f : cfgs) {
    const int n = quick ? std::min(f.n, 1) : f.n;
    if (quick && f.max_keys > 200000) continue;
    for (int i = 0; i < n; ++i, ++seed) {
      msa_test::DecodeOptions o;
      o.batch = f.batch; o.max_new = f.max_new; o.min_keys = f.min_keys;
      o.max_keys = f.max_keys; o.heads = f.heads; o.block_size = f.bs;
      msa_test::Case c = msa_test::make_decode_case(seed, o);
      const uint32_t bound = c.kmax[0];
      bool ok = check_case(c, "decode", f.batch <= 16 && i % 2 == 0, bound);
      std::vector<int32_t> dec, mixed;
      if (ok) {
        run_cuda(c, dec, nullptr, 0, bound);
        run_cuda(c, mixed);
        if (dec != mixed) {
          std::printf("FAIL decode: ex(%u) and the mixed plan differ: %s\n", bound,
                      c.describe().c_str());
          ok = false;
        }
      }
      pass += ok;
      ++total;
    }
  }
  group("decode batches (B <= 256, up to 512k keys, 1..16 rows, ex + mixed)", pass, total);
}

// ---------------------------------------------------------------------------
// decode_only: a batch of <= 4 rows through msa_indexer_cuda_ex with bound
// 16 (prep + decode kernel only).
void test_invalid(bool decode_only = false) {
  int pass = 0, total = 0;
  msa_test::Options opt;
  opt.allow_odd_shapes = false;
  opt.max_batch = 4;
  uint64_t seed = 4242;
  msa_test::Case base;
  for (;; ++seed) {  // a case with >= 2 non-empty sequences
    base = msa_test::make_random_case(seed, opt);
    int ne = 0;
    for (int64_t b = 0; b < base.batch; ++b) ne += base.off[b + 1] > base.off[b];
    if (ne >= 2 && base.batch >= 2 && (!decode_only || base.rows <= 4)) break;
  }
  int64_t last = base.batch - 1;
  while (base.off[last + 1] == base.off[last]) --last;
  auto expect = [&](msa_test::Case &c, const char *what) {
    ++total;
    std::vector<int32_t> got;
    std::string msg;
    msa_indexer_tensors_t th = c.tensors();
    msa_status_t want = msa_indexer_validate(&th, &c.attrs);
    std::string want_msg = msa_last_error();
    msa_status_t st = run_cuda(c, got, &msg, 0, decode_only ? 16 : 0);
    bool ok = st == MSA_STATUS_INVALID_METADATA && want == st && msg == want_msg;
    for (int32_t v : got) ok = ok && v == -1;
    if (!ok)
      std::printf("FAIL invalid/%s: status %d (cpu %d) msg '%s' (cpu '%s')\n",
                  what, (int)st, (int)want, msg.c_str(), want_msg.c_str());
    pass += ok;
  };
  { msa_test::Case c = base; c.off[0] = 1; expect(c, "off0"); }
  { msa_test::Case c = base; c.off[1] = c.off[2] + 1; expect(c, "decreasing"); }
  { msa_test::Case c = base; c.off[c.batch] = (uint32_t)c.rows + 1; expect(c, "above-rows"); }
  { msa_test::Case c = base; c.prefix[last] = c.cache[last] + 1; expect(c, "prefix>cache"); }
  { msa_test::Case c = base; c.kmax[0] = 0; expect(c, "new>kmax0"); }
  { msa_test::Case c = base; c.kmax[1] = 1; expect(c, "total>kmax1"); }
  { msa_test::Case c = base; c.lut[(size_t)(last * c.max_pages)] = (uint32_t)c.num_pages; expect(c, "page-id"); }
  { msa_test::Case c = base; c.lut[(size_t)(last * c.max_pages)] = 0xFFFFFFFFu; expect(c, "page-id-max"); }
  {
    msa_test::Case c = base;
    c.prefix[last] = c.cache[last] = (uint32_t)(c.max_pages * c.page_size + 5);
    c.kmax[1] = 0xFFFFFFFFu;
    expect(c, "logical-page");
  }
  // workspace too small
  {
    ++total;
    msa_test::Case c = base;
    std::vector<int32_t> got;
    std::string msg;
    size_t small = msa_indexer_cuda_workspace_size(c.rows, c.batch, &c.attrs, 1, 1);
    msa_status_t st = run_cuda(c, got, &msg, small, decode_only ? 16 : 0);
    bool any_long = false;
    for (int64_t b = 0; b < c.batch; ++b)
      any_long |= (c.off[b + 1] > c.off[b]) &&
                  (c.prefix[b] + c.off[b + 1] - c.off[b] > (uint32_t)c.page_size);
    bool ok = any_long ? st == MSA_STATUS_WORKSPACE_TOO_SMALL : st == MSA_STATUS_OK;
    if (any_long)
      for (int32_t v : got) ok = ok && v == -1;
    if (!ok) std::printf("FAIL invalid/workspace: status %d msg %s\n", (int)st, msg.c_str());
    pass += ok;
  }
  // static argument error: returned at once, nothing launched
  {
    ++total;
    msa_test::Case c = base;
    c.attrs.topk = 0;
    msa_indexer_tensors_t t = c.tensors();
    msa_status_t st = msa_indexer_cuda(&t, &c.attrs, nullptr, 0, nullptr);
    bool ok = st == MSA_STATUS_INVALID_ARGUMENT;
    if (!ok) std::printf("FAIL invalid/topk0: status %d\n", (int)st);
    pass += ok;
  }
  group(decode_only ? "invalid metadata / arguments (decode-only batch, msa_indexer_cuda_ex)"
                    : "invalid metadata / arguments",
        pass, total);
}

// ---------------------------------------------------------------------------
// One capture, several replays with other lengths in the same buffers.
void test_graph() {
  msa_test::Options opt;
  opt.allow_odd_shapes = false;
  opt.max_batch = 4;
  opt.max_keys = 1500;
  opt.max_new = 100;
  // Buffers sized for the largest replay; each replay's case is copied in.
  const int kReplays = 6;
  // One shape (the attributes are baked into the graph); every replay keeps
  // rows/batch and re-splits the rows, redraws prefixes, pages and values.
  msa_test::Case base;
  for (uint64_t s = 5000;; ++s) {
    base = msa_test::make_random_case(s, opt);
    if (base.batch >= 2 && base.rows >= 8 && base.attrs.idx_head_dim % 64 == 0 &&
        base.attrs.block_size % 16 == 0)
      break;
  }
  int pass = 0, total = kReplays;
  const uint32_t mkeys = base.kmax[1];
  uint16_t *dq, *dk; uint32_t *doff, *dpre, *dcache, *dlut, *dkmax; int32_t *dout;
  CK(cudaMalloc(&dq, base.q.size() * 2 + 16));
  CK(cudaMalloc(&dk, 16));
  CK(cudaMalloc(&doff, (base.batch + 1) * 4));
  CK(cudaMalloc(&dpre, base.batch * 4 + 4));
  CK(cudaMalloc(&dcache, base.batch * 4 + 4));
  CK(cudaMalloc(&dlut, 16));
  CK(cudaMalloc(&dkmax, 8));
  CK(cudaMalloc(&dout, base.out.size() * 4 + 4));
  // Replays: same rows/batch/attrs; prefixes, offsets split, pages and values
  // change. Case r: re-split the rows among the sequences and redraw prefixes.
  const int64_t bs = base.attrs.block_size;
  const int64_t maxp_cap = (mkeys + 2 * base.rows + bs - 1) / bs + 1;
  const uint32_t key_cap = (uint32_t)(maxp_cap * bs);
  size_t ws = msa_indexer_cuda_workspace_size(base.rows, base.batch, &base.attrs,
                                              (uint32_t)base.rows, key_cap);
  void *w; CK(cudaMalloc(&w, ws));
  cudaStream_t st; CK(cudaStreamCreate(&st));
  // replay cases
  std::vector<msa_test::Case> reps;
  for (int r = 0; r < kReplays; ++r) {
    msa_test::Rng rng(99 + (uint64_t)r);
    msa_test::Case c = base;
    // new split of rows
    std::vector<int64_t> nn((size_t)c.batch, 0);
    for (int64_t i = 0; i < c.rows; ++i) nn[(size_t)rng.uniform(0, c.batch - 1)]++;
    if (r % 2 == 1) {  // decode-like: at most 4 rows per sequence where possible
      std::fill(nn.begin(), nn.end(), 0);
      for (int64_t i = 0; i < c.rows; ++i) nn[(size_t)(i % c.batch)]++;
    }
    c.off[0] = 0;
    for (int64_t b = 0; b < c.batch; ++b) c.off[b + 1] = c.off[b] + (uint32_t)nn[b];
    c.max_pages = maxp_cap;
    int64_t npages = 0;
    std::vector<int64_t> need((size_t)c.batch);
    uint32_t mx_new = 0, mx_tot = 0;
    for (int64_t b = 0; b < c.batch; ++b) {
      c.prefix[b] = (uint32_t)rng.uniform(0, (int64_t)mkeys);
      c.cache[b] = c.prefix[b];
      need[b] = (c.prefix[b] + nn[b] + bs - 1) / bs;
      npages += need[b];
      mx_new = std::max<uint32_t>(mx_new, (uint32_t)nn[b]);
      mx_tot = std::max<uint32_t>(mx_tot, c.prefix[b] + (uint32_t)nn[b]);
    }
    c.kmax = {mx_new, mx_tot};
    c.num_pages = npages;
    c.lut.assign((size_t)(c.batch * c.max_pages), (uint32_t)npages);
    int64_t nx = 0;
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t p = 0; p < need[b]; ++p) c.lut[(size_t)(b * c.max_pages + p)] = (uint32_t)(nx++);
    c.k.resize((size_t)(npages * c.num_layers * bs * c.D()));
    for (auto &v : c.k) v = msa_test::bf16((float)(rng.unit() * 4 - 2));
    for (auto &v : c.q) v = msa_test::bf16((float)(rng.unit() * 4 - 2));
    c.poison();
    reps.push_back(c);
  }
  size_t kmaxsz = 0;
  for (auto &c : reps) kmaxsz = std::max(kmaxsz, c.k.size());
  CK(cudaFree(dk)); CK(cudaMalloc(&dk, kmaxsz * 2 + 16));
  CK(cudaFree(dlut)); CK(cudaMalloc(&dlut, (size_t)(base.batch * maxp_cap) * 4 + 4));
  msa_indexer_tensors_t t = base.tensors();
  t.q = dq; t.k_blocks = dk; t.input_row_offsets = doff; t.prefix_lens = dpre;
  t.k_cache_lengths = dcache; t.k_lookup_table = dlut; t.k_max_lengths = dkmax;
  t.out = dout; t.max_pages = maxp_cap;
  t.num_pages = (int64_t)(kmaxsz / (size_t)(base.num_layers * bs * base.D()));
  // upload replay 0 before capture (capture records no copies)
  cudaGraph_t graph; cudaGraphExec_t exec;
  CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
  msa_status_t s0 = msa_indexer_cuda(&t, &base.attrs, w, ws, st);
  CK(cudaStreamEndCapture(st, &graph));
  CK(cudaGraphInstantiate(&exec, graph, 0));
  if (s0 != MSA_STATUS_OK) {
    std::printf("FAIL graph: launch during capture: %s\n", msa_last_error());
    group("graph capture/replay", 0, total);
    return;
  }
  for (int r = 0; r < kReplays; ++r) {
    msa_test::Case &c = reps[(size_t)r];
    c.num_pages = t.num_pages;
    CK(cudaMemcpy(dq, c.q.data(), c.q.size() * 2, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dk, c.k.data(), c.k.size() * 2, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(doff, c.off.data(), c.off.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dpre, c.prefix.data(), c.prefix.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dcache, c.cache.data(), c.cache.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dlut, c.lut.data(), c.lut.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dkmax, c.kmax.data(), 8, cudaMemcpyHostToDevice));
    CK(cudaMemset(dout, 0x7B, c.out.size() * 4));
    CK(cudaGraphLaunch(exec, st));
    msa_status_t s = msa_indexer_cuda_status(w, st);
    std::vector<int32_t> got(c.out.size());
    CK(cudaMemcpy(got.data(), dout, got.size() * 4, cudaMemcpyDeviceToHost));
    c.k.resize((size_t)(c.num_pages * c.num_layers * bs * c.D()), 0);
    std::string err = s == MSA_STATUS_OK ? msa_test::compare_with_reference(c, got)
                                         : std::string(msa_last_error());
    if (!err.empty())
      std::printf("FAIL graph replay %d: %s: %s\n", r, c.describe().c_str(), err.c_str());
    pass += err.empty();
  }
  cudaGraphExecDestroy(exec); cudaGraphDestroy(graph); cudaStreamDestroy(st);
  cudaFree(w); cudaFree(dq); cudaFree(dk); cudaFree(doff); cudaFree(dpre);
  cudaFree(dcache); cudaFree(dlut); cudaFree(dkmax); cudaFree(dout);
  group("graph capture/replay (one capture, varied lengths)", pass, total);
}

// Decode-only graph: one capture of msa_indexer_cuda_ex (bound 4) on buffers
// sized for the largest replay, replayed with other prefixes, page tables,
// selection-free data and values (rows and attributes fixed, as a serving
// engine's decode graph).
void test_graph_decode() {
  const int kReplays = 6;
  msa_test::DecodeOptions o;
  o.batch = 9; o.max_new = 3; o.fixed_new = true; o.min_keys = 1; o.max_keys = 3000;
  o.heads = 4; o.dim = 128; o.block_size = 64; o.num_layers = 1;
  std::vector<msa_test::Case> reps;
  for (int r = 0; r < kReplays; ++r) reps.push_back(msa_test::make_decode_case(777 + (uint64_t)r, o));
  msa_test::Case &base = reps[0];
  int64_t pages_cap = 0, maxp_cap = 0;
  for (auto &c : reps) {
    c.attrs = base.attrs;  // one capture: one set of attributes (layer included)
    pages_cap = std::max(pages_cap, c.num_pages);
    maxp_cap = std::max(maxp_cap, c.max_pages);
  }
  for (auto &c : reps) c.poison();
  const int64_t bs = base.attrs.block_size, D = base.D();
  const int64_t page_elems = base.num_layers * bs * D;
  size_t ws = msa_indexer_cuda_workspace_size(base.rows, base.batch, &base.attrs, 4, 3000);
  void *w; CK(cudaMalloc(&w, ws));
  uint16_t *dq, *dk; uint32_t *doff, *dpre, *dcache, *dlut, *dkmax; int32_t *dout;
  CK(cudaMalloc(&dq, base.q.size() * 2));
  CK(cudaMalloc(&dk, (size_t)(pages_cap * page_elems) * 2));
  CK(cudaMalloc(&doff, (base.batch + 1) * 4));
  CK(cudaMalloc(&dpre, base.batch * 4));
  CK(cudaMalloc(&dcache, base.batch * 4));
  CK(cudaMalloc(&dlut, (size_t)(base.batch * maxp_cap) * 4));
  CK(cudaMalloc(&dkmax, 8));
  CK(cudaMalloc(&dout, base.out.size() * 4));
  msa_indexer_tensors_t t = base.tensors();
  t.q = dq; t.k_blocks = dk; t.input_row_offsets = doff; t.prefix_lens = dpre;
  t.k_cache_lengths = dcache; t.k_lookup_table = dlut; t.k_max_lengths = dkmax;
  t.out = dout; t.max_pages = maxp_cap; t.num_pages = pages_cap;
  cudaStream_t st; CK(cudaStreamCreate(&st));
  cudaGraph_t graph; cudaGraphExec_t exec;
  CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeGlobal));
  msa_status_t s0 = msa_indexer_cuda_ex(&t, &base.attrs, w, ws, 4, st);
  CK(cudaStreamEndCapture(st, &graph));
  CK(cudaGraphInstantiate(&exec, graph, 0));
  int pass = 0;
  if (s0 != MSA_STATUS_OK) std::printf("FAIL graph decode: capture: %s\n", msa_last_error());
  for (int r = 0; r < kReplays && s0 == MSA_STATUS_OK; ++r) {
    msa_test::Case &c = reps[(size_t)r];
    std::vector<uint16_t> k((size_t)(pages_cap * page_elems), 0);
    for (int64_t pg = 0; pg < c.num_pages; ++pg)
      std::copy(c.k.begin() + pg * page_elems, c.k.begin() + (pg + 1) * page_elems,
                k.begin() + pg * page_elems);
    std::vector<uint32_t> lut((size_t)(c.batch * maxp_cap), (uint32_t)pages_cap);
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t p = 0; p < c.max_pages; ++p)
        lut[(size_t)(b * maxp_cap + p)] = c.lut[(size_t)(b * c.max_pages + p)];
    CK(cudaMemcpy(dq, c.q.data(), c.q.size() * 2, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dk, k.data(), k.size() * 2, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(doff, c.off.data(), c.off.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dpre, c.prefix.data(), c.prefix.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dcache, c.cache.data(), c.cache.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dlut, lut.data(), lut.size() * 4, cudaMemcpyHostToDevice));
    const uint32_t km[2] = {4, 3000};
    CK(cudaMemcpy(dkmax, km, 8, cudaMemcpyHostToDevice));
    CK(cudaMemset(dout, 0x7B, c.out.size() * 4));
    CK(cudaGraphLaunch(exec, st));
    msa_status_t s = msa_indexer_cuda_status(w, st);
    std::vector<int32_t> got(c.out.size());
    CK(cudaMemcpy(got.data(), dout, got.size() * 4, cudaMemcpyDeviceToHost));
    // the reference sees exactly what the graph saw
    c.k = k; c.lut = lut; c.max_pages = maxp_cap; c.num_pages = pages_cap;
    c.kmax = {4, 3000};
    std::string err = s == MSA_STATUS_OK ? msa_test::compare_with_reference(c, got)
                                         : std::string(msa_last_error());
    if (!err.empty())
      std::printf("FAIL graph decode replay %d: %s: %s\n", r, c.describe().c_str(), err.c_str());
    pass += err.empty();
  }
  cudaGraphExecDestroy(exec); cudaGraphDestroy(graph); cudaStreamDestroy(st);
  cudaFree(w); cudaFree(dq); cudaFree(dk); cudaFree(doff); cudaFree(dpre);
  cudaFree(dcache); cudaFree(dlut); cudaFree(dkmax); cudaFree(dout);
  group("graph capture/replay (decode-only ex, varied lengths and pages)", pass, kReplays);
}

// ---------------------------------------------------------------------------
template <class M, class T>
M memref(T *p, std::initializer_list<int64_t> sizes) {
  M m;
  std::memset(&m, 0, sizeof m);
  m.allocated = m.aligned = p;
  m.offset = 0;
  int i = 0;
  for (int64_t s : sizes) m.sizes[i++] = s;
  int64_t st = 1;
  for (int j = i - 1; j >= 0; --j) { m.strides[j] = st; st *= m.sizes[j]; }
  return m;
}

void test_mlir(bool cpu_only) {
  int pass = 0, total = 0;
  msa_test::Options opt;
  opt.max_batch = 4;
  for (int i = 0; i < 12; ++i) {
    msa_test::Case c = msa_test::make_random_case(31000 + (uint64_t)i, opt);
    const int64_t H = c.H(), D = c.D();
    for (int mode = 0; mode < (cpu_only ? 2 : 3); ++mode) {  // 0 host, 1 strided host q/out, 2 device
      ++total;
      DevCase *dp = cpu_only ? nullptr : new DevCase(c);
      std::vector<uint16_t> qs;  // strided q: row stride 2*H*D
      std::vector<int32_t> outs;
      const bool dev = mode == 2;
      auto q = memref<msa_memref_bf16_3d_t>(dev ? dp->q : c.q.data(), {c.rows, H, D});
      auto out = memref<msa_memref_i32_3d_t>(dev ? dp->out : c.out.data(), {H, c.rows, (int64_t)c.attrs.topk});
      if (mode == 1) {
        qs.assign((size_t)(c.rows * 2 * H * D + 1), msa_test::bf16(1e4f));
        for (int64_t r = 0; r < c.rows; ++r)
          std::memcpy(&qs[(size_t)(r * 2 * H * D)], &c.q[(size_t)(r * H * D)], (size_t)(H * D) * 2);
        q.aligned = q.allocated = qs.data();
        q.strides[0] = 2 * H * D;
        // out transposed in memory: [H, rows, topk] viewed with strides of a
        // [rows, H, topk] buffer
        outs.assign(c.out.size() + 1, 0x7B7B7B7B);
        out.aligned = out.allocated = outs.data();
        out.strides[0] = c.attrs.topk;
        out.strides[1] = H * c.attrs.topk;
        out.strides[2] = 1;
      }
      auto off = memref<msa_memref_u32_1d_t>(dev ? dp->off : c.off.data(), {c.batch + 1});
      auto pre = memref<msa_memref_u32_1d_t>(dev ? dp->prefix : c.prefix.data(), {c.batch});
      auto k = memref<msa_memref_bf16_6d_t>(dev ? dp->k : c.k.data(), {c.num_pages, 1, c.num_layers, c.page_size, 1, D});
      auto cache = memref<msa_memref_u32_1d_t>(dev ? dp->cache : c.cache.data(), {c.batch});
      auto lut = memref<msa_memref_u32_2d_t>(dev ? dp->lut : c.lut.data(), {c.batch, c.max_pages});
      auto kmax = memref<msa_memref_u32_2d_t>(dev ? dp->kmax : c.kmax.data(), {1, 2});
      c.poison();
      int32_t st = (i % 2 || cpu_only ? _mlir_ciface_msa_indexer_ragged_paged_auto
                          : _mlir_ciface_msa_indexer_ragged_paged_cuda)(
          &q, &off, &pre, &k, &cache, &lut, &kmax, &out, c.attrs.num_index_heads,
          c.attrs.idx_head_dim, c.attrs.block_size, c.attrs.topk,
          c.attrs.init_blocks, c.attrs.local_blocks, c.attrs.layer_idx,
          c.attrs.scale, c.attrs.order);
      std::vector<int32_t> got = c.out;
      if (dev) CK(cudaMemcpy(got.data(), dp->out, got.size() * 4, cudaMemcpyDeviceToHost));
      if (mode == 1)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t r = 0; r < c.rows; ++r)
            for (int64_t x = 0; x < c.attrs.topk; ++x)
              got[(size_t)((h * c.rows + r) * c.attrs.topk + x)] =
                  outs[(size_t)((r * H + h) * c.attrs.topk + x)];
      std::string err = st == 0 ? msa_test::compare_with_reference(c, got)
                                : "status " + std::to_string(st);
      if (!err.empty()) std::printf("FAIL mlir mode %d %s: %s\n", mode, c.describe().c_str(), err.c_str());
      pass += err.empty();
      delete dp;
    }
  }
  // error path: prints "msa.indexer_ragged_paged (cuda): ..." and fills -1
  {
    ++total;
    msa_test::Case c = msa_test::make_random_case(31999, opt);
    c.off[0] = 7;
    auto q = memref<msa_memref_bf16_3d_t>(c.q.data(), {c.rows, c.H(), c.D()});
    auto out = memref<msa_memref_i32_3d_t>(c.out.data(), {c.H(), c.rows, (int64_t)c.attrs.topk});
    auto off = memref<msa_memref_u32_1d_t>(c.off.data(), {c.batch + 1});
    auto pre = memref<msa_memref_u32_1d_t>(c.prefix.data(), {c.batch});
    auto k = memref<msa_memref_bf16_6d_t>(c.k.data(), {c.num_pages, 1, c.num_layers, c.page_size, 1, c.D()});
    auto cache = memref<msa_memref_u32_1d_t>(c.cache.data(), {c.batch});
    auto lut = memref<msa_memref_u32_2d_t>(c.lut.data(), {c.batch, c.max_pages});
    auto kmax = memref<msa_memref_u32_2d_t>(c.kmax.data(), {1, 2});
    int32_t st = (cpu_only ? _mlir_ciface_msa_indexer_ragged_paged_auto : _mlir_ciface_msa_indexer_ragged_paged_cuda)(
        &q, &off, &pre, &k, &cache, &lut, &kmax, &out, c.attrs.num_index_heads,
        c.attrs.idx_head_dim, c.attrs.block_size, c.attrs.topk,
        c.attrs.init_blocks, c.attrs.local_blocks, c.attrs.layer_idx,
        c.attrs.scale, c.attrs.order);
    bool ok = c.batch == 0 || st == MSA_STATUS_INVALID_METADATA;
    for (int32_t v : c.out) ok = ok && (c.batch == 0 || v == -1);
    pass += ok;
  }
  group("mlir entries (host / strided host / device memrefs, auto)", pass, total);
}

} // namespace

// Exit code for "no GPU here: CUDA tests skipped" (SKIP_RETURN_CODE).
constexpr int kExitSkipped = 77;

int main(int argc, char **argv) {
  bool quick = false;
  int n = 300;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--cases") && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
  }
  if (!msa_cuda_available()) {
    // Without a GPU only the auto entry's CPU fallback can be checked; the
    // CUDA tests did not run, so report "skipped" (ctest SKIP_RETURN_CODE),
    // never "passed".
    std::printf("no CUDA device: testing the auto entry's CPU fallback only; "
                "the CUDA tests are skipped\n");
    test_mlir(true);
    return g_fail ? 1 : kExitSkipped;
  }
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount);
  if (quick) n = 24;
  msa_test::Options def;
  test_random(n, seed, MSA_CUDA_PATH_AUTO, "random (tensor-core + generic by shape)", def, true);
  test_random(quick ? 8 : n / 3, seed + 100000, MSA_CUDA_PATH_GENERIC, "random (generic path forced)", def, false);
  test_random(quick ? 8 : n / 3, seed + 300000, MSA_CUDA_PATH_MMA_SYNC, "random (mma.sync prefill forced)", def, false);
  test_fast_shapes(quick ? 4 : 60, seed + 200000, MSA_CUDA_PATH_AUTO, "large cases (wgmma prefill on sm_90)");
  test_fast_shapes(quick ? 2 : 20, seed + 400000, MSA_CUDA_PATH_MMA_SYNC, "large cases (mma.sync prefill)");
  test_tma_prefill(quick ? 3 : 40, seed + 500000);
  test_decode(quick, seed + 600000);
  test_invalid();
  test_invalid(true);
  test_graph();
  test_graph_decode();
  test_mlir(false);
  std::printf("%s\n", g_fail ? "SOME TESTS FAILED" : "ALL TESTS PASSED");
  return g_fail ? 1 : 0;
}
