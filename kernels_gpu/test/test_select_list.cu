// test_select_list.cu - the fused prefill's running top-k list split over a
// lane pair (src/select.cuh: pair_half_insert, pair_list_push,
// pair_list_gather), against a model of the selection written here: the
// K largest selectable (score, id) pairs of a row, score descending with
// -0 == +0, equal scores to the smaller id, -inf and NaN never selected.
// Scores come from a small set (many exact ties), with -inf, NaN, +inf,
// -0 and +0 among them; blocks are pushed in ascending id order, each
// selectable only in a random range (as the forced init and local blocks
// are not pushed), and some pairs push nothing (invalid rows).
//
//   msa_test_cuda_select_list --host   the two lanes' steps
//                                      (pair_half_insert) replayed on the
//                                      host (no GPU needed); the push's
//                                      vote and shuffles and the gather
//                                      are warp code, tested by the GPU run
//   msa_test_cuda_select_list          the warp code on the GPU (real
//                                      shuffles and votes; exits 77
//                                      without a GPU)
//   --seed S                           replay a run (each run prints its seed)
#include "select.cuh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

constexpr int K = msa_cuda::kFusedTopk;
constexpr int K2 = K / 2;
constexpr int kPairs = 16;  // lane pairs of one warp

struct Case {
  int n;                      // blocks of the row
  int lo[kPairs], hi[kPairs]; // pair p pushes blocks [lo, hi)
  std::vector<float> score;   // [kPairs][n]
};

Case draw(std::mt19937 &rng) {
  static const float kSet[] = {1.f, 2.f, 2.f, 3.f, -1.f, 0.f, -0.f, 0.5f, -INFINITY,
                               NAN, INFINITY, 3.f, 1e-30f, -1e30f};
  Case c;
  c.n = 1 + (int)(rng() % 300);
  c.score.resize((size_t)kPairs * c.n);
  const int nset = (int)(sizeof(kSet) / sizeof(kSet[0]));
  const int width = 2 + (int)(rng() % (nset - 1));  // fewer values: more ties
  for (auto &s : c.score) s = kSet[rng() % width];
  for (int p = 0; p < kPairs; ++p) {
    if (rng() % 8 == 0) {
      c.lo[p] = c.hi[p] = 0;  // an invalid row: pushes nothing
    } else {
      c.lo[p] = (int)(rng() % 3);
      c.hi[p] = std::max(c.lo[p], c.n - (int)(rng() % 3));
    }
  }
  return c;
}

// The model: the K best selectable blocks of pair p, best first.
std::vector<int> model(const Case &c, int p) {
  std::vector<int> ids;
  for (int j = c.lo[p]; j < c.hi[p]; ++j) {
    const float s = c.score[(size_t)p * c.n + j];
    if (!std::isnan(s) && s != -INFINITY) ids.push_back(j);
  }
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) {
    return c.score[(size_t)p * c.n + a] > c.score[(size_t)p * c.n + b];  // ties keep id order
  });
  if ((int)ids.size() > K) ids.resize(K);
  return ids;
}

// The key of (s, j) as the kernels order it (score desc, id asc; 0 = not
// selectable): the test's own encoding of that order.
uint64_t key_of(float s, int j) {
  if (std::isnan(s) || s == -INFINITY) return 0ull;
  if (s == 0.f) s = 0.f;
  uint32_t u;
  std::memcpy(&u, &s, 4);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ((uint64_t)u << 32) | (uint32_t)~(uint32_t)j;
}

int failures = 0;
void compare(const char *where, int icase, int p, const uint64_t *list,
             const std::vector<int> &want) {
  bool ok = true;
  for (int c = 0; c < K; ++c) {
    const int got = list[c] == 0ull ? -1 : (int)~(uint32_t)list[c];
    const int exp = c < (int)want.size() ? want[c] : -1;
    ok = ok && got == exp;
  }
  if (ok || ++failures > 10) return;
  std::printf("FAIL %s: case %d pair %d: got", where, icase, p);
  for (int c = 0; c < K; ++c) std::printf(" %d", list[c] == 0ull ? -1 : (int)~(uint32_t)list[c]);
  std::printf(" / want");
  for (int id : want) std::printf(" %d", id);
  std::printf("\n");
}

// Host replay of the two lanes of pair p.
void host_pair(const Case &c, int p, uint64_t *list) {
  msa_cuda::PairHalfList<K2> half[2];
  half[0].clear();
  half[1].clear();
  for (int j = c.lo[p]; j < c.hi[p]; ++j) {
    const uint64_t key = key_of(c.score[(size_t)p * c.n + j], j);
    const uint32_t ahi = half[0].hi[K2 - 1], alo = half[0].lo[K2 - 1];  // before the push
    for (int part = 0; part < 2; ++part)
      msa_cuda::pair_half_insert(half[part], part, (uint32_t)(key >> 32), (uint32_t)key, ahi,
                                 alo);
  }
  for (int i = 0; i < K2; ++i) {
    list[i] = ((uint64_t)half[0].hi[i] << 32) | half[0].lo[i];
    list[K2 + i] = ((uint64_t)half[1].hi[i] << 32) | half[1].lo[i];
  }
}

// One warp per case: lanes 2 p, 2 p + 1 hold pair p's list.
__global__ void device_lists(const float *score, const int *n, const int *lo, const int *hi,
                             const int *first, uint64_t *out) {
  const int icase = blockIdx.x, lane = threadIdx.x, p = lane >> 1;
  const int nb = n[icase];
  const float *sc = score + first[icase] + (size_t)p * nb;
  msa_cuda::PairHalfList<K2> l;
  l.clear();
  for (int j = 0; j < nb; ++j) {  // every lane walks every block (shuffles)
    const bool mine = j >= lo[icase * kPairs + p] && j < hi[icase * kPairs + p];
    msa_cuda::pair_list_push(l, mine, msa_cuda::make_key(sc[j], j));
  }
  uint64_t top[K];
  msa_cuda::pair_list_gather(l, top);
  if ((lane & 1) == 0)
    for (int c = 0; c < K; ++c) out[((size_t)icase * kPairs + p) * K + c] = top[c];
}

}  // namespace

int main(int argc, char **argv) {
  bool host = false;
  std::mt19937 rng(std::random_device{}());
  unsigned seed = rng();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--host")) host = true;
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc)
      seed = (unsigned)std::strtoul(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "unknown argument '%s' (--host, --seed S)\n", argv[i]);
      return 2;
    }
  }
  rng.seed(seed);
  const int ncases = 2000;
  std::vector<Case> cases;
  for (int i = 0; i < ncases; ++i) cases.push_back(draw(rng));

  if (host) {
    for (int i = 0; i < ncases; ++i)
      for (int p = 0; p < kPairs; ++p) {
        uint64_t list[K];
        host_pair(cases[i], p, list);
        compare("host", i, p, list, model(cases[i], p));
      }
    std::printf("%s: %d cases x %d pairs, seed %u, host replay\n", failures ? "FAIL" : "PASS",
                ncases, kPairs, seed);
    return failures ? 1 : 0;
  }

  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    std::printf("no CUDA device: skipped (the host replay runs with --host)\n");
    return 77;
  }
  std::vector<float> score;
  std::vector<int> n, lo, hi, first;
  for (const Case &c : cases) {
    first.push_back((int)score.size());
    score.insert(score.end(), c.score.begin(), c.score.end());
    n.push_back(c.n);
    lo.insert(lo.end(), c.lo, c.lo + kPairs);
    hi.insert(hi.end(), c.hi, c.hi + kPairs);
  }
  float *dscore;
  int *dn, *dlo, *dhi, *dfirst;
  uint64_t *dout;
  const size_t nout = (size_t)ncases * kPairs * K;
  bool ok = cudaMalloc(&dscore, score.size() * 4) == cudaSuccess &&
            cudaMalloc(&dn, n.size() * 4) == cudaSuccess &&
            cudaMalloc(&dlo, lo.size() * 4) == cudaSuccess &&
            cudaMalloc(&dhi, hi.size() * 4) == cudaSuccess &&
            cudaMalloc(&dfirst, first.size() * 4) == cudaSuccess &&
            cudaMalloc(&dout, nout * 8) == cudaSuccess;
  if (!ok) {
    std::printf("FAIL: cudaMalloc\n");
    return 1;
  }
  cudaMemcpy(dscore, score.data(), score.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dn, n.data(), n.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dlo, lo.data(), lo.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dhi, hi.data(), hi.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dfirst, first.data(), first.size() * 4, cudaMemcpyHostToDevice);
  cudaMemset(dout, 0xA5, nout * 8);  // poisoned: every entry must be written
  device_lists<<<ncases, 32>>>(dscore, dn, dlo, dhi, dfirst, dout);
  std::vector<uint64_t> out(nout);
  if (cudaDeviceSynchronize() != cudaSuccess ||
      cudaMemcpy(out.data(), dout, nout * 8, cudaMemcpyDeviceToHost) != cudaSuccess) {
    std::printf("FAIL: kernel: %s\n", cudaGetErrorString(cudaGetLastError()));
    return 1;
  }
  for (int i = 0; i < ncases; ++i)
    for (int p = 0; p < kPairs; ++p)
      compare("device", i, p, &out[((size_t)i * kPairs + p) * K], model(cases[i], p));
  std::printf("%s: %d cases x %d pairs, seed %u, on the GPU\n", failures ? "FAIL" : "PASS", ncases,
              kPairs, seed);
  return failures ? 1 : 0;
}
