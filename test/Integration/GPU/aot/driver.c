/* driver.c - runs the ahead-of-time compiled @indexer (indexer.mlir lowered
 * with msa-to-llvm, then mlir-translate and llc) on a ragged, paged batch,
 * and checks the ids against the scalar reference (msa_indexer_reference).
 *
 *   driver host     all buffers in host memory (malloc)
 *   driver device   all buffers in device memory (cudaMalloc; the result is
 *                   copied back to check it); only when built with
 *                   -DMSA_DRIVER_CUDA
 *   driver badpage  host memory, one needed page id out of range: the call
 *                   must stop the program with the kernel's message
 *
 * Inputs are small integers (exact in bf16) and the scale a power of two, so
 * every score is exact and the ids must equal the reference's exactly.
 * Prints one line per (head, row) "h t: ids..." and a final line
 * "ids-fnv1a <hash>" that the test compares across back ends. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msa/msa_kernels.h"
#include "msa/msa_reference.h"

#ifdef MSA_DRIVER_CUDA
#include <cuda_runtime.h>
#endif

enum { H = 4, D = 128, BS = 128, TOPK = 16, LAYERS = 2, LAYER = 1 };
#define BATCH 4
/* (prefix, new) per sequence: a prefill, a chunked prefill, an empty
 * sequence and a decode step. */
static const uint32_t kPrefix[BATCH] = {0, 1000, 77, 5000};
static const uint32_t kNew[BATCH] = {300, 37, 0, 1};

/* The C interface of @indexer (llvm.emit_c_interface). */
void _mlir_ciface_indexer(msa_memref_bf16_3d_t *q, msa_memref_u32_1d_t *off,
                          msa_memref_u32_1d_t *prefix,
                          msa_memref_bf16_6d_t *kb, msa_memref_u32_1d_t *kcl,
                          msa_memref_u32_2d_t *lut, msa_memref_u32_2d_t *kmax,
                          msa_memref_i32_3d_t *out);

static uint32_t rng_state = 12345u;
static uint32_t next_u32(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static uint16_t small_int_bf16(void) {
  /* integers in [-4, 4]: exact in bf16 */
  float v = (float)((int)(next_u32() % 9u) - 4);
  uint32_t bits;
  memcpy(&bits, &v, 4);
  return (uint16_t)(bits >> 16);
}

static void *alloc_bytes(size_t bytes, int on_device, const void *init) {
#ifdef MSA_DRIVER_CUDA
  if (on_device) {
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
      fprintf(stderr, "cudaMalloc failed\n");
      exit(2);
    }
    if (init && cudaMemcpy(p, init, bytes, cudaMemcpyHostToDevice) != cudaSuccess) {
      fprintf(stderr, "cudaMemcpy failed\n");
      exit(2);
    }
    return p;
  }
#else
  if (on_device) {
    fprintf(stderr, "this driver was built without CUDA\n");
    exit(2);
  }
#endif
  void *p = malloc(bytes ? bytes : 1);
  if (init)
    memcpy(p, init, bytes);
  return p;
}

#define DESC(T, N, name, ptr)                                                  \
  T name;                                                                      \
  memset(&name, 0, sizeof name);                                               \
  name.allocated = name.aligned = (ptr)

static void set_dense(int64_t *sizes, int64_t *strides, int n,
                      const int64_t *shape) {
  int64_t s = 1;
  for (int i = n - 1; i >= 0; --i) {
    sizes[i] = shape[i];
    strides[i] = s;
    s *= shape[i];
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "host";
  int on_device = strcmp(mode, "device") == 0;
  int bad_page = strcmp(mode, "badpage") == 0;

  uint32_t off[BATCH + 1], cache[BATCH], pages_needed[BATCH];
  off[0] = 0;
  int64_t max_pages = 0, num_pages = 0;
  uint32_t kmax[2] = {0, 0};
  for (int b = 0; b < BATCH; ++b) {
    off[b + 1] = off[b] + kNew[b];
    cache[b] = kPrefix[b];
    uint32_t keys = kNew[b] ? kPrefix[b] + kNew[b] : 0;
    pages_needed[b] = (keys + BS - 1) / BS;
    num_pages += pages_needed[b];
    if (pages_needed[b] > max_pages)
      max_pages = pages_needed[b];
    if (kNew[b] > kmax[0])
      kmax[0] = kNew[b];
    if (cache[b] + kNew[b] > kmax[1])
      kmax[1] = cache[b] + kNew[b];
  }
  max_pages += 2;  /* padding columns */
  num_pages += 3;  /* pages nobody references */
  const int64_t rows = off[BATCH];

  /* Shuffled physical pages; padding holds num_pages or garbage. */
  uint32_t *perm = malloc(sizeof(uint32_t) * num_pages);
  for (int64_t i = 0; i < num_pages; ++i)
    perm[i] = (uint32_t)i;
  for (int64_t i = num_pages - 1; i > 0; --i) {
    int64_t j = next_u32() % (uint32_t)(i + 1);
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  uint32_t *lut = malloc(sizeof(uint32_t) * BATCH * max_pages);
  int64_t cursor = 0;
  for (int b = 0; b < BATCH; ++b)
    for (int64_t p = 0; p < max_pages; ++p)
      lut[b * max_pages + p] = p < pages_needed[b]
                                   ? perm[cursor++]
                                   : (p % 2 ? (uint32_t)num_pages : 0xFFFFFFFFu);
  if (bad_page)
    lut[0 * max_pages + 1] = (uint32_t)num_pages + 7;

  const size_t q_elems = (size_t)rows * H * D;
  const size_t kb_elems = (size_t)num_pages * LAYERS * BS * D;
  uint16_t *q = malloc(2 * q_elems);
  uint16_t *kb = malloc(2 * kb_elems);
  for (size_t i = 0; i < q_elems; ++i)
    q[i] = small_int_bf16();
  for (size_t i = 0; i < kb_elems; ++i)
    kb[i] = small_int_bf16();
  const size_t out_elems = (size_t)H * rows * TOPK;

  /* Buffers the compiled function sees. */
  void *d_q = alloc_bytes(2 * q_elems, on_device, q);
  void *d_off = alloc_bytes(4 * (BATCH + 1), on_device, off);
  void *d_pre = alloc_bytes(4 * BATCH, on_device, kPrefix);
  void *d_kb = alloc_bytes(2 * kb_elems, on_device, kb);
  void *d_kcl = alloc_bytes(4 * BATCH, on_device, cache);
  void *d_lut = alloc_bytes(4 * BATCH * max_pages, on_device, lut);
  void *d_kmax = alloc_bytes(8, on_device, kmax);
  int32_t *poison = malloc(4 * out_elems);
  for (size_t i = 0; i < out_elems; ++i)
    poison[i] = 0x5EED;
  void *d_out = alloc_bytes(4 * out_elems, on_device, poison);

  DESC(msa_memref_bf16_3d_t, 3, mq, d_q);
  set_dense(mq.sizes, mq.strides, 3, (int64_t[]){rows, H, D});
  DESC(msa_memref_u32_1d_t, 1, moff, d_off);
  set_dense(moff.sizes, moff.strides, 1, (int64_t[]){BATCH + 1});
  DESC(msa_memref_u32_1d_t, 1, mpre, d_pre);
  set_dense(mpre.sizes, mpre.strides, 1, (int64_t[]){BATCH});
  DESC(msa_memref_bf16_6d_t, 6, mkb, d_kb);
  set_dense(mkb.sizes, mkb.strides, 6, (int64_t[]){num_pages, 1, LAYERS, BS, 1, D});
  DESC(msa_memref_u32_1d_t, 1, mkcl, d_kcl);
  set_dense(mkcl.sizes, mkcl.strides, 1, (int64_t[]){BATCH});
  DESC(msa_memref_u32_2d_t, 2, mlut, d_lut);
  set_dense(mlut.sizes, mlut.strides, 2, (int64_t[]){BATCH, max_pages});
  DESC(msa_memref_u32_2d_t, 2, mkmax, d_kmax);
  set_dense(mkmax.sizes, mkmax.strides, 2, (int64_t[]){1, 2});
  DESC(msa_memref_i32_3d_t, 3, mout, (int32_t *)d_out);
  set_dense(mout.sizes, mout.strides, 3, (int64_t[]){H, rows, TOPK});

  _mlir_ciface_indexer(&mq, &moff, &mpre, &mkb, &mkcl, &mlut, &mkmax, &mout);

  int32_t *ids = malloc(4 * out_elems);
#ifdef MSA_DRIVER_CUDA
  if (on_device &&
      cudaMemcpy(ids, d_out, 4 * out_elems, cudaMemcpyDeviceToHost) != cudaSuccess) {
    fprintf(stderr, "cudaMemcpy back failed\n");
    return 2;
  }
#endif
  if (!on_device)
    memcpy(ids, d_out, 4 * out_elems);

  /* The scalar reference on the host copies. */
  int32_t *expect = malloc(4 * out_elems);
  msa_indexer_tensors_t t = {q, off, kPrefix, kb, cache, lut, kmax, expect,
                             rows, H, D, BATCH, num_pages, LAYERS, BS, D,
                             max_pages};
  msa_indexer_attrs_t a = {H, D, BS, TOPK, 1, 1, LAYER, 0.125f, MSA_ORDER_SCORE};
  if (msa_indexer_reference(&t, &a) != MSA_STATUS_OK) {
    fprintf(stderr, "reference failed: %s\n", msa_last_error());
    return 2;
  }
  uint32_t hash = 2166136261u;
  int64_t mismatches = 0;
  for (int h = 0; h < H; ++h)
    for (int64_t r = 0; r < rows; ++r) {
      const int32_t *row = ids + ((size_t)h * rows + r) * TOPK;
      const int32_t *ref = expect + ((size_t)h * rows + r) * TOPK;
      if (memcmp(row, ref, 4 * TOPK) != 0)
        ++mismatches;
      for (int k = 0; k < TOPK; ++k) {
        hash = (hash ^ (uint32_t)row[k]) * 16777619u;
      }
    }
  /* A few rows for the eye: each sequence's last row, head 0. */
  for (int b = 0; b < BATCH; ++b) {
    if (!kNew[b])
      continue;
    int64_t r = off[b + 1] - 1;
    printf("seq %d row %lld:", b, (long long)r);
    for (int k = 0; k < TOPK; ++k)
      printf(" %d", ids[(size_t)r * TOPK + k]);
    printf("\n");
  }
  printf("mode %s: %lld of %lld rows differ from the reference\n", mode,
         (long long)mismatches, (long long)(H * rows));
  printf("ids-fnv1a %08x\n", hash);
  return mismatches == 0 ? 0 : 1;
}
