//===- Passes.h - msa lowering passes and pipelines -------------*- C++ -*-===//
#ifndef MSA_LOWERING_PASSES_H
#define MSA_LOWERING_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir {
class ModuleOp;
namespace msa {

/// The kernel library lowered code calls (option `target`).
enum class RuntimeTarget { CPU, CUDA, Auto };

/// What lowered code does when a kernel call fails (option `on-error`).
enum class RuntimeErrorMode { Exit, Continue };

/// The option values, spelled once for the pass and the pipeline.
#define MSA_RUNTIME_TARGET_VALUES                                              \
  ::llvm::cl::values(                                                          \
      clEnumValN(::mlir::msa::RuntimeTarget::CPU, "cpu",                       \
                 "libmsa_kernels_cpu"),                                        \
      clEnumValN(::mlir::msa::RuntimeTarget::CUDA, "cuda",                     \
                 "libmsa_kernels_cuda"),                                       \
      clEnumValN(::mlir::msa::RuntimeTarget::Auto, "auto",                     \
                 "libmsa_kernels_cuda: GPU if present, else CPU"))
#define MSA_RUNTIME_ERROR_MODE_VALUES                                          \
  ::llvm::cl::values(                                                          \
      clEnumValN(::mlir::msa::RuntimeErrorMode::Exit, "exit",                  \
                 "end the process with the status as exit code"),              \
      clEnumValN(::mlir::msa::RuntimeErrorMode::Continue, "continue",          \
                 "fill out with -1, record the status for the caller"))

/// "cpu" | "cuda" | "auto", or nothing.
std::optional<RuntimeTarget> parseRuntimeTarget(llvm::StringRef name);
/// "exit" | "continue", or nothing.
std::optional<RuntimeErrorMode> parseRuntimeErrorMode(llvm::StringRef name);

#define GEN_PASS_DECL
#include "msa/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "msa/Lowering/Passes.h.inc"

/// Options of the `msa-to-llvm` pipeline.
struct MSAToLLVMPipelineOptions
    : public PassPipelineOptions<MSAToLLVMPipelineOptions> {
  PassOptions::Option<RuntimeTarget> target{
      *this, "target",
      llvm::cl::desc("kernel library to call: cpu, cuda or auto"),
      llvm::cl::init(RuntimeTarget::CPU), MSA_RUNTIME_TARGET_VALUES};
  PassOptions::Option<RuntimeErrorMode> onError{
      *this, "on-error",
      llvm::cl::desc("what a kernel error does: exit or continue"),
      llvm::cl::init(RuntimeErrorMode::Exit), MSA_RUNTIME_ERROR_MODE_VALUES};
};

/// Tensor-level IR -> LLVM dialect: One-Shot Bufferize (function boundaries,
/// identity layouts), buffer deallocation, msa-lower-to-runtime{target,
/// on-error}, the upstream conversions to the LLVM dialect, then a check
/// that fails naming the first op that is not in the LLVM dialect. Built
/// from pass constructors: needs no pass registration.
void buildMSAToLLVMPipeline(OpPassManager &pm,
                            const MSAToLLVMPipelineOptions &options);

/// Registers `--msa-to-llvm`.
void registerMSAToLLVMPipeline();

} // namespace msa
} // namespace mlir

#endif // MSA_LOWERING_PASSES_H
