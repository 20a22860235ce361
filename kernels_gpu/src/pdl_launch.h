// pdl_launch.h - a kernel launch with programmatic dependent launch (PDL)
// where the driver takes it: the kernel's CTAs may start while the previous
// kernel in the stream finishes, and wait for it (griddepcontrol.wait)
// before they read memory. The kernel is correct either way; PDL only
// hides a launch latency (~2 us on an H200) per kernel boundary.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <utility>

namespace msa_cuda {

enum PdlSupport : int { kPdlUnknown, kPdlYes, kPdlNo };

// Launches kern with cfg, whose last attribute (attrs[numAttrs - 1]) must be
// cudaLaunchAttributeProgrammaticStreamSerialization, keeping it or not as
// `known` says. `known` (one per kind of launch: a cooperative launch may be
// refused PDL where a plain one is not) is learnt from the first launch
// made outside a stream capture: a refused launch inside a capture could
// invalidate the caller's graph, so a launch in a capture never probes (it
// goes without PDL while the answer is unknown). The answer is "no" only
// when the driver refuses the PDL launch and then takes the same launch
// without it; once known, no launch is retried (an error is the caller's).
template <typename... P, typename... A>
cudaError_t launch_with_pdl(std::atomic<int> &known, cudaLaunchConfig_t cfg, void (*kern)(P...),
                            A &&...args) {
  const unsigned with = cfg.numAttrs, without = cfg.numAttrs - 1;
  int pdl = known.load(std::memory_order_relaxed);
  if (pdl == kPdlUnknown) {
    cudaStreamCaptureStatus cs = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(cfg.stream, &cs) != cudaSuccess) {
      (void)cudaGetLastError();
      cs = cudaStreamCaptureStatusActive;  // unknown: do not probe
    }
    if (cs == cudaStreamCaptureStatusNone) {
      cfg.numAttrs = with;
      const cudaError_t e = cudaLaunchKernelEx(&cfg, kern, std::forward<A>(args)...);
      if (e == cudaSuccess) {
        known.store(kPdlYes, std::memory_order_relaxed);
        return cudaGetLastError();
      }
      if (e != cudaErrorNotSupported && e != cudaErrorInvalidValue) return e;
      (void)cudaGetLastError();
      cfg.numAttrs = without;  // the same launch without PDL decides the answer
      const cudaError_t e1 = cudaLaunchKernelEx(&cfg, kern, std::forward<A>(args)...);
      if (e1 != cudaSuccess) return e1;
      known.store(kPdlNo, std::memory_order_relaxed);
      return cudaGetLastError();
    }
    pdl = kPdlNo;  // in a capture, while unknown: without PDL
  }
  cfg.numAttrs = pdl == kPdlYes ? with : without;
  const cudaError_t e = cudaLaunchKernelEx(&cfg, kern, std::forward<A>(args)...);
  return e != cudaSuccess ? e : cudaGetLastError();
}

} // namespace msa_cuda
