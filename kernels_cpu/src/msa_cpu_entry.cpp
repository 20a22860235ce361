// msa_cpu_entry.cpp - the CPU kernel's C ABI entries: msa_indexer_cpu
// (checks, then the driver with the selected path's plan) and the
// _mlir_ciface_ entry (the shared memref adapter, packing of strided
// operands, then msa_indexer_cpu).
#include "msa/msa_memref.h"
#include "msa_cpu_internal.h"

#include <cstdio>
#include <new>
#include <vector>

extern "C" {

msa_status_t msa_indexer_cpu(const msa_indexer_tensors_t *tensors,
                             const msa_indexer_attrs_t *attrs) {
  msa_status_t st = msa_indexer_validate(tensors, attrs);
  if (st == MSA_STATUS_OK) {
    // The path is read once: the whole batch runs on one plan.
    const msa_cpu::Plan &plan = msa_cpu::current_plan();
    try {
      st = msa_cpu::run_batch(*tensors, *attrs, plan);
    } catch (const std::bad_alloc &) {
      st = msa_set_last_error(MSA_STATUS_OUT_OF_MEMORY,
                              "out of memory in msa_indexer_cpu");
    }
  }
  if (st != MSA_STATUS_OK)
    msa_indexer_fill_invalid(tensors, attrs);
  return st;
}

} // extern "C"

namespace {
// Both _mlir_ciface_ entries: `k_blocks` is the descriptor of `k_type`.
int32_t run_ciface(int32_t k_type, MSA_INDEXER_CIFACE_PARAMS_K(const void)) {
  msa_indexer_memrefs_t m;
  msa_indexer_attrs_t a;
  msa_status_t st =
      msa_indexer_memrefs_read(&m, &a, k_type, MSA_INDEXER_CIFACE_ARGS);
  if (st == MSA_STATUS_OK) {
    try {
      // Contiguous operands are used in place, strided ones packed (out is
      // computed densely and written back through its strides).
      std::vector<unsigned char> packed[MSA_NUM_OPERANDS];
      void *data[MSA_NUM_OPERANDS];
      for (int i = 0; i < MSA_NUM_OPERANDS; ++i) {
        const msa_memref_view_t &v = m.operand[i];
        data[i] = v.data;
        if (v.contiguous)
          continue;
        packed[i].resize((size_t)(v.count * v.elem_bytes));
        if (i != MSA_OPERAND_OUT)
          msa_memref_pack(&v, packed[i].data());
        data[i] = packed[i].data();
      }
      msa_indexer_tensors_t t;
      msa_indexer_memrefs_tensors(&m, data, &t);
      st = msa_indexer_cpu(&t, &a);
      if (st == MSA_STATUS_OK && !m.operand[MSA_OPERAND_OUT].contiguous)
        msa_memref_unpack(&m.operand[MSA_OPERAND_OUT],
                          packed[MSA_OPERAND_OUT].data());
    } catch (const std::bad_alloc &) {
      st = msa_set_last_error(MSA_STATUS_OUT_OF_MEMORY,
                              "out of memory packing strided operands");
    }
  }
  if (st != MSA_STATUS_OK) {
    // out's descriptor gives its extent: fill it whenever it is sound.
    if (m.out_sound)
      msa_memref_fill_i32(&m.operand[MSA_OPERAND_OUT], -1);
    std::fprintf(stderr, "msa.indexer_ragged_paged (cpu): %s\n",
                 msa_last_error());
  }
  return (int32_t)st;
}
} // namespace

extern "C" {
int32_t _mlir_ciface_msa_indexer_ragged_paged_cpu(MSA_INDEXER_CIFACE_PARAMS) {
  return run_ciface(MSA_KEY_BF16, MSA_INDEXER_CIFACE_ARGS);
}
int32_t
_mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(MSA_INDEXER_CIFACE_F8_PARAMS) {
  return run_ciface(MSA_KEY_F8E4M3FN, MSA_INDEXER_CIFACE_ARGS);
}
} // extern "C"
