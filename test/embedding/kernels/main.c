/*===- main.c - the kernel library alone, from C --------------------------===*\
|*                                                                            *|
|* No MLIR: the C header <msa/msa_kernels.h> and libmsa_kernels_cpu. Runs     *|
|* the hand-checked case of ../Inputs/tiny_by_hand.mlir through               *|
|* msa_indexer_cpu, checks the ids, the version macros against the loaded     *|
|* library's msa_kernels_version(), and that broken metadata is reported      *|
|* (status, message, output filled with -1). Built a second time with         *|
|* MSA_EMBED_CUDA (linking libmsa_kernels_cuda) it also runs the case through *|
|* the CUDA library's auto entry (the CPU kernel on a machine without a GPU). *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/
#include <msa/msa_kernels.h>
#ifdef MSA_EMBED_CUDA
#include <msa/msa_kernels_cuda.h>
#endif

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* [doc:kernels-version] */
#if !defined(MSA_KERNELS_VERSION) || MSA_KERNELS_VERSION_MAJOR != 3
#error "expected msa kernels ABI version 3.x"
#endif
/* [/doc:kernels-version] */

/* bf16 bit patterns */
#define ONE 0x3F80
#define TWO 0x4000
#define THREE 0x4040
#define M_ONE 0xBF80
#define HUNDRED 0x42C8
#define QNAN 0x7FC0

static int failures = 0;
static void check(int cond, const char *what) {
  if (!cond) {
    fprintf(stderr, "msa_embed_kernels: FAIL: %s\n", what);
    ++failures;
  }
}

int main(void) {
  printf("msa kernels %d.%d.%d (MSA_KERNELS_VERSION %d)\n",
         MSA_KERNELS_VERSION_MAJOR, MSA_KERNELS_VERSION_MINOR,
         MSA_KERNELS_VERSION_PATCH, MSA_KERNELS_VERSION);
  check(MSA_KERNELS_VERSION ==
            MSA_KERNELS_VERSION_MAJOR * 10000 +
                MSA_KERNELS_VERSION_MINOR * 100 + MSA_KERNELS_VERSION_PATCH,
        "MSA_KERNELS_VERSION encodes major.minor.patch");
  /* [doc:kernels-loaded-version] */
  printf("loaded library: msa_kernels_version() = %d\n",
         (int)msa_kernels_version());
  check(msa_kernels_version() == MSA_KERNELS_VERSION,
        "the loaded library's msa_kernels_version() is the header's");
  /* [/doc:kernels-loaded-version] */
  check(MSA_KERNELS_VERSION == 30000, "the kernels are version 3.0.0");

  /* q [rows=2, H=2, D=2]: head 0 = [1, 2], head 1 = [-1, -1] on both rows. */
  const uint16_t q[8] = {ONE, TWO, M_ONE, M_ONE, ONE, TWO, M_ONE, M_ONE};
  const uint32_t offsets[2] = {0, 2};
  const uint32_t prefix[1] = {3};
  /* k_blocks [4 pages, 1, 1 layer, page_size 2, 1, D 2] */
  const uint16_t kb[16] = {THREE, 0, QNAN, QNAN,             /* page 0 */
                           HUNDRED, HUNDRED, HUNDRED, HUNDRED, /* page 1 */
                           ONE, 0, 0, ONE,                     /* page 2 */
                           M_ONE, M_ONE, HUNDRED, HUNDRED};    /* page 3 */
  const uint32_t cache_lengths[1] = {3};
  const uint32_t lut[4] = {2, 0, 3, 4};
  const uint32_t kmax[2] = {2, 5};
  int32_t out[8];

  msa_indexer_tensors_t t;
  memset(&t, 0, sizeof t);
  t.q = q;
  t.input_row_offsets = offsets;
  t.prefix_lens = prefix;
  t.k_blocks = kb;
  t.k_cache_lengths = cache_lengths;
  t.k_lookup_table = lut;
  t.k_max_lengths = kmax;
  t.out = out;
  t.rows = 2;
  t.num_q_heads = 2;
  t.q_head_dim = 2;
  t.batch = 1;
  t.num_pages = 4;
  t.num_layers = 1;
  t.page_size = 2;
  t.k_head_dim = 2;
  t.max_pages = 4;
  msa_indexer_attrs_t a = {/*num_index_heads=*/2, /*idx_head_dim=*/2,
                           /*block_size=*/2,      /*topk=*/2,
                           /*init_blocks=*/1,     /*local_blocks=*/0,
                           /*layer_idx=*/0,       /*scale=*/1.0f,
                           /*order=*/MSA_ORDER_SCORE};

  for (int i = 0; i < 8; ++i)
    out[i] = 99;
  /* [doc:kernels-call] */
  msa_status_t s = msa_indexer_cpu(&t, &a);
  check(s == MSA_STATUS_OK, "msa_indexer_cpu returns MSA_STATUS_OK");
  if (s != MSA_STATUS_OK)
    fprintf(stderr, "  %s: %s\n", msa_status_string(s), msa_last_error());
  /* [/doc:kernels-call] */
  const int32_t expected[8] = {0, 1, 0, 1, 0, 1, 0, 2};
  printf("ids [H][rows][topk] = [[[%d, %d], [%d, %d]], [[%d, %d], [%d, %d]]]\n",
         out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7]);
  check(memcmp(out, expected, sizeof expected) == 0,
        "ids are [[[0,1],[0,1]],[[0,1],[0,2]]]");

#ifdef MSA_EMBED_CUDA
  /* The same case through the CUDA library's auto entry, as lowered code
   * calls it: memref descriptors over the same dense buffers. */
  {
    msa_memref_bf16_3d_t dq = {(uint16_t *)q, (uint16_t *)q, 0, {2, 2, 2},
                               {4, 2, 1}};
    msa_memref_u32_1d_t doff = {(uint32_t *)offsets, (uint32_t *)offsets, 0,
                                {2}, {1}};
    msa_memref_u32_1d_t dpre = {(uint32_t *)prefix, (uint32_t *)prefix, 0,
                                {1}, {1}};
    msa_memref_bf16_6d_t dkb = {(uint16_t *)kb, (uint16_t *)kb, 0,
                                {4, 1, 1, 2, 1, 2}, {4, 4, 4, 2, 2, 1}};
    msa_memref_u32_1d_t dkcl = {(uint32_t *)cache_lengths,
                                (uint32_t *)cache_lengths, 0, {1}, {1}};
    msa_memref_u32_2d_t dlut = {(uint32_t *)lut, (uint32_t *)lut, 0, {1, 4},
                                {4, 1}};
    msa_memref_u32_2d_t dkmax = {(uint32_t *)kmax, (uint32_t *)kmax, 0,
                                 {1, 2}, {2, 1}};
    msa_memref_i32_3d_t dout = {out, out, 0, {2, 2, 2}, {4, 2, 1}};
    for (int i = 0; i < 8; ++i)
      out[i] = 99;
    int32_t st = _mlir_ciface_msa_indexer_ragged_paged_auto(
        &dq, &doff, &dpre, &dkb, &dkcl, &dlut, &dkmax, &dout, 2, 2, 2, 2, 1,
        0, 0, 1.0f, MSA_ORDER_SCORE);
    printf("auto entry -> %s, ids [[[%d, %d], [%d, %d]], [[%d, %d], [%d, %d]]]\n",
           msa_status_string((msa_status_t)st), out[0], out[1], out[2], out[3],
           out[4], out[5], out[6], out[7]);
    check(st == MSA_STATUS_OK, "the auto entry returns MSA_STATUS_OK");
    check(memcmp(out, expected, sizeof expected) == 0,
          "the auto entry's ids are [[[0,1],[0,1]],[[0,1],[0,2]]]");
  }
#endif

  /* Broken metadata: offsets do not end at rows. */
  const uint32_t bad_offsets[2] = {0, 1};
  t.input_row_offsets = bad_offsets;
  for (int i = 0; i < 8; ++i)
    out[i] = 99;
  s = msa_indexer_cpu(&t, &a);
  printf("broken offsets -> %s: %s\n", msa_status_string(s), msa_last_error());
  check(s == MSA_STATUS_INVALID_METADATA,
        "broken offsets give MSA_STATUS_INVALID_METADATA");
  check(strlen(msa_last_error()) > 0, "msa_last_error() says why");
  check(msa_status_string(s) != NULL && strlen(msa_status_string(s)) > 0,
        "msa_status_string names the status");
  int all_minus_one = 1;
  for (int i = 0; i < 8; ++i)
    all_minus_one = all_minus_one && out[i] == -1;
  check(all_minus_one, "the output is filled with -1 on an error");

  if (failures) {
    fprintf(stderr, "msa_embed_kernels: %d check(s) failed\n", failures);
    return 1;
  }
  printf("msa_embed_kernels: PASS\n");
  return 0;
}
