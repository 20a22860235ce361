// msa_cpu_pool.h - runs one job on the calling thread and persistent helper
// threads (msa_cpu_pool.cpp says why not OpenMP).
#ifndef MSA_CPU_POOL_H
#define MSA_CPU_POOL_H

#include <functional>

namespace msa_cpu {

// Runs fn(0) on the calling thread and fn(1), ..., fn(k) on k <= n - 1
// helpers, and returns once every call that started has returned. Helpers
// that are late (the caller already finished) do not run fn at all, so fn
// must claim its work items itself (e.g. with an atomic counter) and any
// subset of the n participants must complete the job. One job at a time:
// a concurrent call runs fn(0) alone.
void pool_run(int n, const std::function<void(int)> &fn);

} // namespace msa_cpu

#endif // MSA_CPU_POOL_H
