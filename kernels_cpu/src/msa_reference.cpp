// msa_reference.cpp - the scalar reference (see msa/msa_reference.h).
// Deliberately simple: no tiling, no SIMD, no threads.
#include "msa/msa_reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

extern "C" {

float msa_bf16_to_float(uint16_t v) {
  const uint32_t bits = uint32_t(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t msa_float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if (std::isnan(f))
    return uint16_t((bits >> 16) | 0x0040); // quiet NaN
  const uint32_t rounding = 0x7FFF + ((bits >> 16) & 1);
  return uint16_t((bits + rounding) >> 16);
}

namespace {
float e4m3_decode(uint8_t v) {
  // OCP e4m3 "FN": s.eeee.mmm, bias 7, subnormals at e = 0, no infinities,
  // s.1111.111 is NaN. Decoded from the fields, independently of any kernel.
  const int sign = v >> 7, e = (v >> 3) & 0xF, m = v & 0x7;
  if (e == 0xF && m == 0x7)
    return std::numeric_limits<float>::quiet_NaN();
  const double mag = e == 0 ? std::ldexp((double)m, -9) // m/8 * 2^(1-7)
                            : std::ldexp(1.0 + m / 8.0, e - 7);
  return (float)(sign ? -mag : mag);
}
} // namespace

float msa_e4m3_to_float(uint8_t v) {
  // The 256 values decoded once (the reference reads every key many times).
  static const struct Table {
    float v[256];
    Table() {
      for (int b = 0; b < 256; ++b)
        v[b] = e4m3_decode((uint8_t)b);
    }
  } table;
  return table.v[v];
}

int64_t msa_reference_row_sequence(const msa_indexer_tensors_t *t,
                                   int64_t row) {
  // The sequence b with off[b] <= row < off[b+1] (empty sequences skipped).
  for (int64_t b = 0; b < t->batch; ++b)
    if (row >= (int64_t)t->input_row_offsets[b] &&
        row < (int64_t)t->input_row_offsets[b + 1])
      return b;
  return -1;
}

int64_t msa_reference_row_keys(const msa_indexer_tensors_t *t, int64_t row) {
  const int64_t b = msa_reference_row_sequence(t, row);
  const int64_t i = row - (int64_t)t->input_row_offsets[b];
  return (int64_t)t->prefix_lens[b] + i + 1; // the row sees itself
}

double msa_reference_block_score(const msa_indexer_tensors_t *t,
                                 const msa_indexer_attrs_t *a, int64_t h,
                                 int64_t row, int64_t block,
                                 double *abs_bound) {
  const int64_t b = msa_reference_row_sequence(t, row);
  const int64_t n = msa_reference_row_keys(t, row);
  const int64_t D = a->idx_head_dim, H = a->num_index_heads;
  const int64_t ps = t->page_size;
  const uint16_t *q = t->q + (row * H + h) * D;
  double best = -std::numeric_limits<double>::infinity();
  double bound = 0.0;
  const int64_t first = block * a->block_size;
  const int64_t last = std::min<int64_t>(first + a->block_size, n);
  for (int64_t p = first; p < last; ++p) {
    const int64_t page = t->k_lookup_table[b * t->max_pages + p / ps];
    // k_blocks[page, 0, layer_idx, p % page_size, 0, :]
    const int64_t k0 = ((page * t->num_layers + a->layer_idx) * ps + p % ps) * D;
    double dot = 0.0, mag = 0.0;
    for (int64_t d = 0; d < D; ++d) {
      const double kd =
          t->k_type == MSA_KEY_F8E4M3FN
              ? (double)msa_e4m3_to_float(static_cast<const uint8_t *>(t->k_blocks)[k0 + d])
              : (double)msa_bf16_to_float(static_cast<const uint16_t *>(t->k_blocks)[k0 + d]);
      const double prod = (double)msa_bf16_to_float(q[d]) * kd;
      dot += prod;
      mag += std::fabs(prod);
    }
    const double s = (double)a->scale * dot;
    if (std::isnan(s))
      continue; // keys whose (scaled) dot is NaN are skipped
    if (s > best)
      best = s;
    if (std::isfinite(s))
      bound = std::max(bound, std::fabs((double)a->scale) * mag);
  }
  if (abs_bound)
    *abs_bound = bound;
  return best;
}

msa_status_t msa_indexer_reference(const msa_indexer_tensors_t *t,
                                   const msa_indexer_attrs_t *a) {
  const msa_status_t st = msa_indexer_validate(t, a);
  if (st != MSA_STATUS_OK) {
    msa_indexer_fill_invalid(t, a);
    return st;
  }
  const int64_t H = a->num_index_heads, topk = a->topk;
  std::vector<double> score;
  std::vector<char> taken;
  std::vector<int32_t> sel;
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t row = 0; row < t->rows; ++row) {
      const int64_t n = msa_reference_row_keys(t, row);
      const int64_t nblk = (n + a->block_size - 1) / a->block_size;
      score.assign(nblk, 0.0);
      taken.assign(nblk, 0);
      sel.clear();
      for (int64_t j = 0; j < nblk; ++j)
        score[j] = msa_reference_block_score(t, a, h, row, j, nullptr);
      // Forced blocks: init (j < init_blocks) unless also local, then local
      // (j >= nblk - local_blocks), each ascending.
      const int64_t local_from = nblk - a->local_blocks;
      for (int64_t j = 0; j < nblk && j < a->init_blocks; ++j)
        if (j < local_from) {
          sel.push_back((int32_t)j);
          taken[j] = 1;
        }
      for (int64_t j = std::max<int64_t>(local_from, 0); j < nblk; ++j) {
        sel.push_back((int32_t)j);
        taken[j] = 1;
      }
      // Then the best remaining block, again and again: descending score,
      // ties to the smaller id; -inf / NaN blocks never.
      while ((int64_t)sel.size() < topk) {
        int64_t best = -1;
        for (int64_t j = 0; j < nblk; ++j) {
          if (taken[j] || !(score[j] > -std::numeric_limits<double>::infinity()))
            continue;
          if (best < 0 || score[j] > score[best])
            best = j;
        }
        if (best < 0)
          break;
        sel.push_back((int32_t)best);
        taken[best] = 1;
      }
      if (a->order == MSA_ORDER_BLOCK)
        std::sort(sel.begin(), sel.end());
      int32_t *o = t->out + (h * t->rows + row) * topk;
      for (int64_t s = 0; s < topk; ++s)
        o[s] = s < (int64_t)sel.size() ? sel[s] : -1;
    }
  }
  return MSA_STATUS_OK;
}

} // extern "C"
