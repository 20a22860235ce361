// msa_cpu_select.cpp - the selection of one (head, row) from its block
// scores: forced blocks (init, then local), then the best unforced blocks in
// the total order (score desc, block id asc), kept in a sorted array of at
// most topk entries (one compare per block once it is full), -inf/NaN never;
// order=block sorts the ids. Only min(topk, nblk) entries of scratch are used.
#include "msa_cpu_internal.h"

#include <algorithm>
#include <limits>

namespace msa_cpu {

void select_row(const float *sc, int64_t nblk, const msa_indexer_attrs_t &a,
                int32_t *out, float *ts, int32_t *tj) {
  const int64_t topk = a.topk;
  int64_t f = 0;
  const int64_t local_from = nblk - a.local_blocks;
  const int64_t init_end = std::min<int64_t>(a.init_blocks, nblk);
  for (int64_t j = 0; j < init_end; ++j)
    if (j < local_from)
      out[f++] = (int32_t)j;
  for (int64_t j = std::max<int64_t>(local_from, 0); j < nblk; ++j)
    out[f++] = (int32_t)j;
  const int64_t room = topk - f; // >= 0: init + local <= topk
  int64_t m = 0;
  if (room > 0) {
    const float ninf = -std::numeric_limits<float>::infinity();
    const int64_t jend = std::max<int64_t>(local_from, 0);
    for (int64_t j = init_end; j < jend; ++j) {
      const float s = sc[j];
      if (!(s > ninf))
        continue; // -inf and NaN are never selected
      if (m == room && !(s > ts[m - 1]))
        continue; // not better than the worst kept (ties: smaller id kept)
      int64_t pos = m < room ? m : m - 1;
      // Shift down entries with a smaller score (equal scores keep their
      // place: they have smaller ids).
      while (pos > 0 && ts[pos - 1] < s) {
        ts[pos] = ts[pos - 1];
        tj[pos] = tj[pos - 1];
        --pos;
      }
      ts[pos] = s;
      tj[pos] = (int32_t)j;
      if (m < room)
        ++m;
    }
    for (int64_t i = 0; i < m; ++i)
      out[f + i] = tj[i];
  }
  const int64_t cnt = f + m;
  if (a.order == MSA_ORDER_BLOCK)
    std::sort(out, out + cnt);
  for (int64_t i = cnt; i < topk; ++i)
    out[i] = -1;
}

} // namespace msa_cpu
