/* msa_kernels.h - the C ABI of the msa.indexer_ragged_paged kernels.
 *
 * This is the one header shared by the CPU kernel (kernels_cpu/), the CUDA
 * kernels (kernels_gpu/) and the MLIR lowering (lowering/). It depends on
 * nothing but the C standard library. The behaviour of every entry is the
 * contract in docs/CONTRACT.md.
 *
 * Two kinds of entry point exist for every back end:
 *   - a plain-pointer entry (msa_indexer_<backend>) over msa_indexer_tensors_t,
 *     for C/C++ callers that own dense row-major buffers;
 *   - a `_mlir_ciface_msa_indexer_ragged_paged_<backend>` entry that MLIR code
 *     lowered with `llvm.emit_c_interface` calls with memref descriptors
 *     (layout-compatible with mlir::StridedMemRefType).
 *
 * Errors: every entry returns an msa_status_t. The plain entries never print;
 * the message of the last failing call on the calling thread is available from
 * msa_last_error(). The _mlir_ciface_ entries additionally write the message to
 * stderr, because lowered code has no other way to show it before it stops.
 */
#ifndef MSA_KERNELS_H
#define MSA_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Version of this ABI, the same as the msa project's version.
 * 3.0.0: the fp8 index-K. msa_indexer_tensors_t.k_blocks is `const void *`
 *        and a new last field k_type (msa_key_type_t; 0 = bf16, so a
 *        zero-initialised struct keeps its meaning) says how its elements
 *        are stored: source-compatible for callers that set fields by name,
 *        but the struct grew, so binaries built against 2.x must be rebuilt
 *        (hence the major version and the .so.3 soname). New
 *        `_mlir_ciface_` entries with the suffix `_f8e4m3fn` take an
 *        f8E4M3FN k_blocks memref (msa_memref_f8_6d_t); the bf16 entries
 *        are unchanged.
 * 2.0.0: the metadata memrefs of the _mlir_ciface_ entries may come from
 *        signless i32 as well as ui32 MLIR memrefs (same layout; values read
 *        as unsigned); msa_kernels_version() (the library's version, to
 *        compare with the header's); the run-time error helpers that lowered
 *        code calls (msa_runtime_exit_on_error, msa_runtime_record_error,
 *        msa_runtime_take_error).
 * 1.0.0: first release. */
#define MSA_KERNELS_VERSION_MAJOR 3
#define MSA_KERNELS_VERSION_MINOR 0
#define MSA_KERNELS_VERSION_PATCH 0
/* Encoded as major * 10000 + minor * 100 + patch. */
#define MSA_KERNELS_VERSION                                                    \
  (MSA_KERNELS_VERSION_MAJOR * 10000 + MSA_KERNELS_VERSION_MINOR * 100 +       \
   MSA_KERNELS_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

typedef enum msa_status {
  MSA_STATUS_OK = 0,
  /* An attribute or a buffer shape breaks a static rule of CONTRACT.md (what
   * the verifier rejects at compile time), e.g. topk < 1 or a q shape that
   * does not match num_index_heads. */
  MSA_STATUS_INVALID_ARGUMENT = 1,
  /* The run-time metadata breaks the contract (CONTRACT.md "Run-time checks"):
   * offsets, prefix/cache lengths, page ids, max lengths. */
  MSA_STATUS_INVALID_METADATA = 2,
  /* A valid shape that this back end cannot serve (e.g. a CUDA kernel limit). */
  MSA_STATUS_UNSUPPORTED = 3,
  /* The caller-provided workspace is smaller than the workspace query said. */
  MSA_STATUS_WORKSPACE_TOO_SMALL = 4,
  /* The CUDA runtime reported an error. */
  MSA_STATUS_CUDA_ERROR = 5,
  /* A GPU entry was called on a machine without a usable CUDA device. */
  MSA_STATUS_NO_DEVICE = 6,
  /* A host allocation failed. */
  MSA_STATUS_OUT_OF_MEMORY = 7
} msa_status_t;

/* Output order of the selected ids (CONTRACT.md "Output order"). */
typedef enum msa_order {
  MSA_ORDER_SCORE = 0, /* selection order: forced first, then by score */
  MSA_ORDER_BLOCK = 1  /* ascending block id, -1 padding last */
} msa_order_t;

/* How k_blocks stores a key element (CONTRACT.md "Operands").
 *   BF16:     16-bit bfloat16 patterns (uint16_t).
 *   F8E4M3FN: one byte per element, OCP fp8 e4m3 "FN" (bias 7, no
 *             infinities; S.1111.111 is NaN), the byte is the key value
 *             itself (no scale). Every such value is exact in bf16, so the
 *             selected ids are those of the same keys stored as bf16. */
typedef enum msa_key_type {
  MSA_KEY_BF16 = 0,
  MSA_KEY_F8E4M3FN = 1
} msa_key_type_t;

/* The op's attributes, with MAX's names. */
typedef struct msa_indexer_attrs {
  int32_t num_index_heads; /* H */
  int32_t idx_head_dim;    /* D */
  int32_t block_size;      /* == page_size */
  int32_t topk;
  int32_t init_blocks;
  int32_t local_blocks;
  int32_t layer_idx;
  float scale;
  int32_t order; /* msa_order_t */
} msa_indexer_attrs_t;

/* Dense, row-major buffers and their sizes. bf16 values are passed as their
 * raw 16-bit patterns (uint16_t), e4m3 values as their bytes. Shapes (CONTRACT.md "Operands"; the ui32
 * metadata may come from MLIR memrefs of ui32 or signless i32: same layout,
 * read as unsigned):
 *   q                 [rows, num_q_heads, q_head_dim]           bf16
 *   input_row_offsets [batch + 1]                                ui32
 *   prefix_lens       [batch]                                    ui32
 *   k_blocks          [num_pages, 1, num_layers, page_size, 1, k_head_dim]
 *                     bf16 or f8E4M3FN, as k_type says
 *   k_cache_lengths   [batch]                                    ui32
 *   k_lookup_table    [batch, max_pages]                         ui32
 *   k_max_lengths     [1, 2]                                     ui32
 *   out               [num_index_heads, rows, topk]              i32
 * num_q_heads, q_head_dim, page_size and k_head_dim are carried separately
 * from the attributes so that the run-time check can reject a mismatch. */
typedef struct msa_indexer_tensors {
  const uint16_t *q;
  const uint32_t *input_row_offsets;
  const uint32_t *prefix_lens;
  const void *k_blocks; /* elements as k_type says */
  const uint32_t *k_cache_lengths;
  const uint32_t *k_lookup_table;
  const uint32_t *k_max_lengths;
  int32_t *out;
  int64_t rows;
  int64_t num_q_heads;
  int64_t q_head_dim;
  int64_t batch;
  int64_t num_pages;
  int64_t num_layers;
  int64_t page_size;
  int64_t k_head_dim;
  int64_t max_pages;
  int32_t k_type; /* msa_key_type_t of k_blocks (0: bf16) */
} msa_indexer_tensors_t;

/* Memref descriptors, layout-compatible with mlir::StridedMemRefType<T, N>
 * (allocated pointer, aligned pointer, offset, sizes[N], strides[N]); sizes,
 * strides and offset count elements. */
#define MSA_DEFINE_MEMREF(NAME, T, N)                                          \
  typedef struct NAME {                                                        \
    T *allocated;                                                              \
    T *aligned;                                                                \
    int64_t offset;                                                            \
    int64_t sizes[N];                                                          \
    int64_t strides[N];                                                        \
  } NAME
MSA_DEFINE_MEMREF(msa_memref_bf16_3d_t, uint16_t, 3);
MSA_DEFINE_MEMREF(msa_memref_bf16_6d_t, uint16_t, 6);
MSA_DEFINE_MEMREF(msa_memref_f8_6d_t, uint8_t, 6); /* f8E4M3FN bytes */
MSA_DEFINE_MEMREF(msa_memref_u32_1d_t, uint32_t, 1);
MSA_DEFINE_MEMREF(msa_memref_u32_2d_t, uint32_t, 2);
MSA_DEFINE_MEMREF(msa_memref_i32_3d_t, int32_t, 3);
#undef MSA_DEFINE_MEMREF

/* Names of the functions lowered MLIR calls (func.call with
 * llvm.emit_c_interface; the C symbol carries the `_mlir_ciface_` prefix).
 * The cpu entries live in libmsa_kernels_cpu; the cuda and auto entries in
 * libmsa_kernels_cuda (declared in msa_kernels_cuda.h). One entry per back
 * end and index-K element type (an MLIR function has one signature, and the
 * k_blocks memref type is part of it): the bf16 entries, and the same names
 * with MSA_RUNTIME_ENTRY_F8_SUFFIX for an f8E4M3FN k_blocks. All take the
 * same arguments: the eight memrefs of the op in MAX's order, then
 * num_index_heads, idx_head_dim, block_size, topk, init_blocks, local_blocks,
 * layer_idx (i32 each), scale (f32) and order (i32); they return an
 * msa_status_t as i32. */
#define MSA_RUNTIME_ENTRY_CPU "msa_indexer_ragged_paged_cpu"
#define MSA_RUNTIME_ENTRY_CUDA "msa_indexer_ragged_paged_cuda"
#define MSA_RUNTIME_ENTRY_AUTO "msa_indexer_ragged_paged_auto"
#define MSA_RUNTIME_ENTRY_F8_SUFFIX "_f8e4m3fn"

/* The parameter list of every _mlir_ciface_ entry, written once:
 *   int32_t _mlir_ciface_msa_indexer_ragged_paged_cpu(MSA_INDEXER_CIFACE_PARAMS);
 * and the matching argument list, to forward a call. */
#define MSA_INDEXER_CIFACE_PARAMS_K(KMEMREF)                                   \
  msa_memref_bf16_3d_t *q, msa_memref_u32_1d_t *input_row_offsets,             \
      msa_memref_u32_1d_t *prefix_lens, KMEMREF *k_blocks,                     \
      msa_memref_u32_1d_t *k_cache_lengths,                                    \
      msa_memref_u32_2d_t *k_lookup_table,                                     \
      msa_memref_u32_2d_t *k_max_lengths, msa_memref_i32_3d_t *out,            \
      int32_t num_index_heads, int32_t idx_head_dim, int32_t block_size,       \
      int32_t topk, int32_t init_blocks, int32_t local_blocks,                 \
      int32_t layer_idx, float scale, int32_t order
/* bf16 entries, and f8E4M3FN entries (suffix _f8e4m3fn). */
#define MSA_INDEXER_CIFACE_PARAMS MSA_INDEXER_CIFACE_PARAMS_K(msa_memref_bf16_6d_t)
#define MSA_INDEXER_CIFACE_F8_PARAMS MSA_INDEXER_CIFACE_PARAMS_K(msa_memref_f8_6d_t)
#define MSA_INDEXER_CIFACE_ARGS                                                \
  q, input_row_offsets, prefix_lens, k_blocks, k_cache_lengths,                \
      k_lookup_table, k_max_lengths, out, num_index_heads, idx_head_dim,       \
      block_size, topk, init_blocks, local_blocks, layer_idx, scale, order
/* The types of such entries. */
typedef int32_t (*msa_indexer_ciface_fn)(MSA_INDEXER_CIFACE_PARAMS);
typedef int32_t (*msa_indexer_ciface_f8_fn)(MSA_INDEXER_CIFACE_F8_PARAMS);

/* ---- common ------------------------------------------------------------ */

/* MSA_KERNELS_VERSION of the library that is loaded (compare it with the
 * header's MSA_KERNELS_VERSION to detect a mismatched library). */
int32_t msa_kernels_version(void);

/* A short constant name for a status, e.g. "invalid metadata". */
const char *msa_status_string(msa_status_t status);

/* The message of the last failing msa_* call on this thread ("" if none).
 * Valid until the next msa_* call on the same thread. */
const char *msa_last_error(void);

/* Sets the calling thread's msa_last_error() message (printf-style, truncated
 * to 1023 bytes) and returns `status`. For back ends that add their own
 * errors (e.g. the CUDA host code). */
msa_status_t msa_set_last_error(msa_status_t status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The checks every back end runs, written once (msa_common.cpp). They read
 * no q, k_blocks or out data; pointers are only compared with NULL.
 *
 * msa_indexer_check_static: CONTRACT.md "Static checks" - the attributes, and the
 * buffer shapes against them (what the verifier rejects at compile time),
 * plus NULL pointers and element counts that overflow. Touches no buffer,
 * so device pointers are fine. On failure returns
 * MSA_STATUS_INVALID_ARGUMENT with msa_last_error() naming the attribute or
 * operand and the values. */
msa_status_t msa_indexer_check_static(const msa_indexer_tensors_t *tensors,
                                      const msa_indexer_attrs_t *attrs);

/* msa_indexer_check_metadata: CONTRACT.md "Run-time checks" - the first sequence
 * whose metadata breaks the contract. Reads input_row_offsets, prefix_lens,
 * k_cache_lengths, k_lookup_table (the entries a sequence needs) and
 * k_max_lengths, which must be host-readable. Call it after
 * msa_indexer_check_static accepted `tensors`. On failure returns
 * MSA_STATUS_INVALID_METADATA with msa_last_error() naming the sequence and
 * the value. */
msa_status_t msa_indexer_check_metadata(const msa_indexer_tensors_t *tensors);

/* Both checks, static first: what the CPU and the reference run. */
msa_status_t msa_indexer_validate(const msa_indexer_tensors_t *tensors,
                                  const msa_indexer_attrs_t *attrs);

/* Fills `out` (host memory) with -1 when its extent [num_index_heads, rows,
 * topk] is trusted: out != NULL, num_index_heads >= 1 and equal to q's dim 1
 * (num_q_heads), rows >= 0, topk >= 1, init_blocks, local_blocks >= 0 with
 * init_blocks + local_blocks <= topk, and no overflow. Otherwise it writes
 * nothing: the attributes that would give the extent were rejected, and the
 * size of the caller's buffer is unknown. Every CPU entry calls it on error,
 * so a failed call never leaves a half-written result behind. */
void msa_indexer_fill_invalid(const msa_indexer_tensors_t *tensors,
                              const msa_indexer_attrs_t *attrs);

/* ---- CPU back end (libmsa_kernels_cpu) ---------------------------------- */

/* Runs the indexer on the CPU. Validates first (msa_indexer_validate); on an
 * error `out` is filled with -1 (see msa_indexer_fill_invalid) and the status
 * is returned. Thread count: OpenMP's (OMP_NUM_THREADS). Results are
 * bit-identical for any thread count.
 *
 * Scratch is sized by the work present (nothing for a call with no rows):
 * per thread about 4 * (64 + 32) * idx_head_dim bytes for the scoring
 * kernels plus 4 bytes per key block of the longest tile; shared, 4 bytes
 * per (query, key block) of the short sequences (decode). A call that needs
 * more than MSA_CPU_SCRATCH_LIMIT_BYTES in any one of these buffers is
 * refused before anything is allocated, with MSA_STATUS_UNSUPPORTED and a
 * message naming the size (e.g. idx_head_dim above about 2.7 million). The
 * bound does not depend on the thread count. */
#define MSA_CPU_SCRATCH_LIMIT_BYTES ((int64_t)1 << 30)
msa_status_t msa_indexer_cpu(const msa_indexer_tensors_t *tensors,
                             const msa_indexer_attrs_t *attrs);

/* Which implementation msa_indexer_cpu uses (for tests and benchmarks; the
 * default, AUTO, picks the fastest the CPU supports):
 *   AVX512BF16: hand-written vdpbf16ps kernel (needs the avx512_bf16 CPU flag)
 *   AMX:        AMX TDPBF16PS tiles (needs amx_tile + amx_bf16 + AVX-512 and
 *               a Linux kernel that grants the tile state, >= 5.16); AUTO
 *               uses it for every sequence when available (the environment
 *               variable MSA_CPU_NO_AMX=1, read once, hides it).
 *   HIGHWAY:    Highway dynamic dispatch, f32 FMA (best Highway target)
 *   HWY_AVX2 / HWY_AVX3 / HWY_EMU128: Highway, limited to that target (and
 *               below), to test the dispatch paths on one machine.
 * msa_cpu_set_path returns MSA_STATUS_UNSUPPORTED (and keeps the old path) if
 * the CPU or the build lacks the path; the answer does not depend on the
 * path selected before. The selection is process-wide and atomic: it may be
 * changed while other threads run kernels; each call reads it once when it
 * starts and runs its whole batch on that path. */
typedef enum msa_cpu_path {
  MSA_CPU_PATH_AUTO = 0,
  MSA_CPU_PATH_AVX512BF16 = 1,
  MSA_CPU_PATH_HIGHWAY = 2,
  MSA_CPU_PATH_HWY_AVX2 = 3,
  MSA_CPU_PATH_HWY_AVX3 = 4,
  MSA_CPU_PATH_HWY_EMU128 = 5,
  MSA_CPU_PATH_AMX = 6
} msa_cpu_path_t;
msa_status_t msa_cpu_set_path(int32_t path);
/* The implementation the next call will use, e.g. "auto: amx", "amx",
 * "avx512bf16" or "highway:AVX3"; where AUTO runs different kernels by
 * sequence kind and key type, its parts with their roles, e.g. "auto:
 * highway:AVX3 (bf16 decode) + avx512bf16 (e4m3 decode, prefill)". */
const char *msa_cpu_path_name(void);

/* The entry lowered MLIR calls for target=cpu. The descriptors go through
 * the shared memref adapter (msa/msa_memref.h): every size, stride and
 * offset must be >= 0 and the byte extent of every operand must not
 * overflow; the shapes the descriptors carry beyond msa_indexer_tensors_t
 * must hold (k_blocks dims 1 and 4 equal 1, k_max_lengths [1, 2],
 * input_row_offsets [batch + 1], prefix_lens and k_cache_lengths [batch],
 * k_lookup_table [batch, max_pages], out [H, rows, topk]); then
 * msa_indexer_validate. Memrefs may be strided: non-contiguous operands are
 * packed into contiguous temporaries (out is written back through its
 * strides). On failure prints "msa.indexer_ragged_paged (cpu): <message>"
 * to stderr, fills out with -1 through its descriptor when that descriptor
 * is sound, and returns the status (msa_status_t). */
int32_t _mlir_ciface_msa_indexer_ragged_paged_cpu(MSA_INDEXER_CIFACE_PARAMS);
/* The same for an f8E4M3FN k_blocks. */
int32_t _mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(MSA_INDEXER_CIFACE_F8_PARAMS);

/* ---- run-time errors in lowered code ------------------------------------ */

/* Lowered code passes every entry's status to one of these (chosen by the
 * lowering option on-error of msa-lower-to-runtime / msa-to-llvm). The entry
 * has already printed its message to stderr.
 *
 * on-error=exit (default): msa_runtime_exit_on_error(status). OK returns;
 * any other status flushes stdout and stderr, prints
 * "msa.indexer_ragged_paged: stopping after a kernel error (<status string>)"
 * to stderr and ends the process with exit status `status` (1..7, see
 * msa_status_t), without running atexit handlers or destructors (_Exit):
 * no abort, no signal, no crash report.
 *
 * on-error=continue: msa_runtime_record_error(status). Execution continues;
 * the failed op's `out` holds -1 everywhere. A non-OK status is recorded
 * for the calling thread (the thread that runs the lowered code), and the
 * caller collects it afterwards with msa_runtime_take_error(): the status of
 * the last failed op on this thread since the previous take (MSA_STATUS_OK
 * if none), which it then clears. msa_last_error() holds that op's message. */
#define MSA_RUNTIME_EXIT_ON_ERROR "msa_runtime_exit_on_error"
#define MSA_RUNTIME_RECORD_ERROR "msa_runtime_record_error"
void msa_runtime_exit_on_error(int32_t status);
void msa_runtime_record_error(int32_t status);
int32_t msa_runtime_take_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MSA_KERNELS_H */
