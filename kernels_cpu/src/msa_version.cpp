// msa_version.cpp - the version the loaded kernel library was built as.
#include "msa/msa_kernels.h"

extern "C" int32_t msa_kernels_version(void) { return MSA_KERNELS_VERSION; }
