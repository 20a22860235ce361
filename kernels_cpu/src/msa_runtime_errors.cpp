// msa_runtime_errors.cpp - what lowered code does with an entry's status
// (msa-lower-to-runtime's on-error option; msa_kernels.h describes both).
// The entries print their own message, so these only decide what happens
// next: stop the process cleanly, or record the status for the caller.
#include "msa/msa_kernels.h"

#include <cstdio>
#include <cstdlib>

namespace {
// The thread that runs the lowered code is the one that asks.
thread_local int32_t g_recorded_status = MSA_STATUS_OK;
} // namespace

extern "C" void msa_runtime_exit_on_error(int32_t status) {
  if (status == MSA_STATUS_OK)
    return;
  // Whatever the program printed so far must come out before the message,
  // also when stdout is a pipe (fully buffered).
  std::fflush(nullptr);
  std::fprintf(stderr,
               "msa.indexer_ragged_paged: stopping after a kernel error (%s)\n",
               msa_status_string(static_cast<msa_status_t>(status)));
  std::fflush(stderr);
  // _Exit, not exit: the kernels' OpenMP threads and a JIT host's static
  // objects are still live; no destructor should run under them.
  std::_Exit(status > 0 && status < 126 ? status : 1);
}

extern "C" void msa_runtime_record_error(int32_t status) {
  if (status != MSA_STATUS_OK)
    g_recorded_status = status;
}

extern "C" int32_t msa_runtime_take_error(void) {
  const int32_t status = g_recorded_status;
  g_recorded_status = MSA_STATUS_OK;
  return status;
}
