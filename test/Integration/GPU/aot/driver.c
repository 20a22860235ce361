/* driver.c - runs the ahead-of-time compiled @indexer (indexer.mlir lowered
 * with msa-to-llvm, then mlir-translate and llc) on a ragged, paged batch,
 * and checks the ids against its own model of docs/CONTRACT.md (model_ids
 * below: written from the contract, it shares no code with the kernels).
 *
 * Index-K element type: bf16, or with -DMSA_DRIVER_KEYS_F8 f8E4M3FN (the
 * f8E4M3FN variant of indexer.mlir, whose C interface takes an f8 k_blocks
 * descriptor). The model decodes e4m3 bytes itself, from the format. With
 * -DMSA_DRIVER_INT_KEYS as well, the f8 keys are the bf16 variant's keys
 * (the same integers, exact in e4m3): its ids, and so its hash, must be the
 * bf16 variant's, bit for bit.
 *
 *   driver host     all buffers in host memory (malloc)
 *   driver device   all buffers in device memory (cudaMalloc; the result is
 *                   copied back to check it); only when built with
 *                   -DMSA_DRIVER_CUDA
 *   driver badpage  host memory, one needed page id out of range: the call
 *                   must stop the program with the kernel's message
 *
 * Inputs are exact and the scale a power of two, so every score is exact in
 * f32 whatever the summation order, and the ids must equal the model's:
 *   bf16 keys: integers in [-4, 4];
 *   f8 keys: random e4m3 bytes of magnitude <= 8 (zeros, subnormals,
 *   negatives; every partial sum is a multiple of 2^-9 below 2^12, 21 bits),
 *   and about 1 key in 64 holds one NaN byte (0x7F or 0xFF): a NaN key,
 *   skipped.
 * Prints one line per (head, row) "h t: ids..." and a final line
 * "ids-fnv1a <hash>" that the test compares across back ends. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msa/msa_kernels.h"

#ifdef MSA_DRIVER_CUDA
#include <cuda_runtime.h>
#endif

enum { H = 4, D = 128, BS = 128, TOPK = 16, LAYERS = 2, LAYER = 1 };
#define BATCH 4
/* (prefix, new) per sequence: a prefill, a chunked prefill, an empty
 * sequence and a decode step. */
static const uint32_t kPrefix[BATCH] = {0, 1000, 77, 5000};
static const uint32_t kNew[BATCH] = {300, 37, 0, 1};

#ifdef MSA_DRIVER_KEYS_F8
typedef uint8_t key_elem_t; /* f8E4M3FN bytes */
typedef msa_memref_f8_6d_t key_memref_t;
#define KEY_TYPE_NAME "f8E4M3FN"
#else
typedef uint16_t key_elem_t; /* bf16 bit patterns */
typedef msa_memref_bf16_6d_t key_memref_t;
#define KEY_TYPE_NAME "bf16"
#endif

/* The C interface of @indexer (llvm.emit_c_interface). */
void _mlir_ciface_indexer(msa_memref_bf16_3d_t *q, msa_memref_u32_1d_t *off,
                          msa_memref_u32_1d_t *prefix, key_memref_t *kb,
                          msa_memref_u32_1d_t *kcl, msa_memref_u32_2d_t *lut,
                          msa_memref_u32_2d_t *kmax, msa_memref_i32_3d_t *out);

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

static double bf16_value(uint16_t bits) {
  uint32_t wide = (uint32_t)bits << 16;
  float v;
  memcpy(&v, &wide, 4);
  return v;
}

#ifdef MSA_DRIVER_KEYS_F8
/* OCP fp8 e4m3 "FN": sign, 4-bit exponent (bias 7), 3-bit mantissa;
 * exponent 0 is subnormal (m/8 * 2^-6); S.1111.111 is NaN; no infinities. */
static double key_value(uint8_t byte) {
  double sign = (byte & 0x80) ? -1.0 : 1.0;
  int exponent = (byte >> 3) & 0xF, mantissa = byte & 0x7;
  if (exponent == 0xF && mantissa == 0x7)
    return NAN;
  if (exponent == 0)
    return sign * ldexp(mantissa / 8.0, -6);
  return sign * ldexp(1.0 + mantissa / 8.0, exponent - 7);
}
#ifdef MSA_DRIVER_INT_KEYS
/* small_int_bf16's integers, as e4m3 bytes: 1 = 0x38 (2^0), 2 = 0x40,
 * 3 = 0x44 (1.5 * 2), 4 = 0x48; the sign in bit 7. */
static uint8_t random_key(void) {
  static const uint8_t magnitude[5] = {0x00, 0x38, 0x40, 0x44, 0x48};
  int v = (int)(next_u32() % 9u) - 4;
  return (uint8_t)(magnitude[v < 0 ? -v : v] | (v < 0 ? 0x80 : 0));
}
#else
static uint8_t random_key(void) {
  uint32_t r = next_u32();
  return (uint8_t)((r % 0x51u) | ((r >> 16) & 0x80u)); /* |k| <= 8 */
}
#endif
#else
static double key_value(uint16_t bits) { return bf16_value(bits); }
static uint16_t random_key(void) { return small_int_bf16(); }
#endif

/* The ids docs/CONTRACT.md prescribes (order = score), written from the
 * contract alone: visible keys [0, prefix + i + 1), block score = max of
 * scale * dot over the block's non-NaN keys (-inf if none), init blocks
 * then local blocks forced, then the rest by descending score, ties to the
 * smaller id, -inf never selected, -1 padding. Dots in double: exact here. */
static void model_ids(const uint16_t *q, const uint32_t *off,
                      const uint32_t *prefix, const key_elem_t *kb,
                      const uint32_t *lut, int64_t max_pages, int64_t rows,
                      int init, int local, double scale, int32_t *out) {
  enum { MAX_BLOCKS = 4096 };
  static double score[MAX_BLOCKS];
  static char taken[MAX_BLOCKS];
  for (int b = 0; b < BATCH; ++b)
    for (uint32_t t = off[b]; t < off[b + 1]; ++t) {
      const int64_t n = prefix[b] + (t - off[b]) + 1;
      const int64_t nblk = (n + BS - 1) / BS;
      if (nblk > MAX_BLOCKS) {
        fprintf(stderr, "model: too many blocks\n");
        exit(2);
      }
      for (int h = 0; h < H; ++h) {
        const uint16_t *qv = q + ((size_t)t * H + h) * D;
        for (int64_t j = 0; j < nblk; ++j) {
          score[j] = -INFINITY;
          taken[j] = 0;
        }
        for (int64_t p = 0; p < n; ++p) {
          const uint32_t page = lut[b * max_pages + p / BS];
          const key_elem_t *k =
              kb + (((size_t)page * LAYERS + LAYER) * BS + p % BS) * D;
          double dot = 0;
          for (int d = 0; d < D; ++d)
            dot += bf16_value(qv[d]) * key_value(k[d]);
          if (!isnan(dot) && scale * dot > score[p / BS])
            score[p / BS] = scale * dot;
        }
        int32_t *row = out + ((size_t)h * rows + t) * TOPK;
        int count = 0;
        for (int64_t j = 0; j < nblk && j < init; ++j)
          if (j < nblk - local) { /* a block both init and local is local */
            row[count++] = (int32_t)j;
            taken[j] = 1;
          }
        for (int64_t j = nblk - local < 0 ? 0 : nblk - local; j < nblk; ++j) {
          row[count++] = (int32_t)j;
          taken[j] = 1;
        }
        while (count < TOPK) {
          int64_t best = -1;
          for (int64_t j = 0; j < nblk; ++j) /* strict >: ties to smaller j */
            if (!taken[j] && score[j] > -INFINITY &&
                (best < 0 || score[j] > score[best]))
              best = j;
          if (best < 0)
            break;
          row[count++] = (int32_t)best;
          taken[best] = 1;
        }
        while (count < TOPK)
          row[count++] = -1;
      }
    }
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
  const size_t kb_bytes = sizeof(key_elem_t) * kb_elems;
  uint16_t *q = malloc(2 * q_elems);
  key_elem_t *kb = malloc(kb_bytes);
  for (size_t i = 0; i < q_elems; ++i)
    q[i] = small_int_bf16();
  for (size_t i = 0; i < kb_elems; ++i)
    kb[i] = random_key();
#if defined(MSA_DRIVER_KEYS_F8) && !defined(MSA_DRIVER_INT_KEYS)
  /* About 1 key in 64: one NaN byte, either sign. */
  for (size_t key = 0; key < kb_elems / D; ++key) {
    uint32_t r = next_u32();
    if (r % 64u == 0)
      kb[key * D + (r >> 8) % D] = (r >> 16) & 1 ? 0xFF : 0x7F;
  }
#endif
  const size_t out_elems = (size_t)H * rows * TOPK;

  /* Buffers the compiled function sees. */
  void *d_q = alloc_bytes(2 * q_elems, on_device, q);
  void *d_off = alloc_bytes(4 * (BATCH + 1), on_device, off);
  void *d_pre = alloc_bytes(4 * BATCH, on_device, kPrefix);
  void *d_kb = alloc_bytes(kb_bytes, on_device, kb);
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
  DESC(key_memref_t, 6, mkb, d_kb);
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
  if (bad_page) { /* on-error=exit: the call must not return */
    fprintf(stderr, "badpage: the call returned\n");
    return 1;
  }

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

  /* The model on the host copies (indexer.mlir: init_blocks = 1,
   * local_blocks = 1, scale = 0.125). */
  int32_t *expect = malloc(4 * out_elems);
  model_ids(q, off, kPrefix, kb, lut, max_pages, rows, 1, 1, 0.125, expect);
  uint32_t hash = 2166136261u;
  int64_t mismatches = 0;
  for (int h = 0; h < H; ++h)
    for (int64_t r = 0; r < rows; ++r) {
      const int32_t *row = ids + ((size_t)h * rows + r) * TOPK;
      const int32_t *want = expect + ((size_t)h * rows + r) * TOPK;
      if (memcmp(row, want, 4 * TOPK) != 0)
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
  printf("keys %s, mode %s: %lld of %lld rows differ from the model\n",
         KEY_TYPE_NAME, mode, (long long)mismatches, (long long)(H * rows));
  printf("ids-fnv1a %08x\n", hash);
  return mismatches == 0 ? 0 : 1;
}
