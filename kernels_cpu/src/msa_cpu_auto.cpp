// msa_cpu_auto.cpp - the target=auto entry for builds without CUDA.
//
// Lowered code with target=auto calls _mlir_ciface_msa_indexer_ragged_paged_auto.
// libmsa_kernels_cuda defines it (GPU when present, else this CPU kernel);
// when the project is built without a CUDA compiler there is no GPU path at
// all, and libmsa_kernels_cpu answers the auto entry itself, so the same
// lowered program links and runs.
#include "msa/msa_kernels.h"

extern "C" int32_t
_mlir_ciface_msa_indexer_ragged_paged_auto(MSA_INDEXER_CIFACE_PARAMS) {
  return _mlir_ciface_msa_indexer_ragged_paged_cpu(MSA_INDEXER_CIFACE_ARGS);
}

extern "C" int32_t
_mlir_ciface_msa_indexer_ragged_paged_auto_f8e4m3fn(MSA_INDEXER_CIFACE_F8_PARAMS) {
  return _mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(MSA_INDEXER_CIFACE_ARGS);
}
