//===- Passes.h - msa lowering passes and pipelines -------------*- C++ -*-===//
#ifndef MSA_LOWERING_PASSES_H
#define MSA_LOWERING_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

#include <memory>
#include <string>

namespace mlir {
class ModuleOp;
namespace msa {

#define GEN_PASS_DECL
#include "msa/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "msa/Lowering/Passes.h.inc"

/// Options of the `msa-to-llvm` pipeline.
struct MSAToLLVMPipelineOptions
    : public PassPipelineOptions<MSAToLLVMPipelineOptions> {
  PassOptions::Option<std::string> target{
      *this, "target",
      llvm::cl::desc("kernel library to call: cpu, cuda or auto"),
      llvm::cl::init("cpu")};
};

/// Tensor-level IR -> LLVM dialect: One-Shot Bufferize (function boundaries,
/// identity layouts), buffer deallocation, msa-lower-to-runtime{target},
/// then the upstream conversions to the LLVM dialect.
void buildMSAToLLVMPipeline(OpPassManager &pm,
                            const MSAToLLVMPipelineOptions &options);

/// Registers `--msa-to-llvm`.
void registerMSAToLLVMPipeline();

} // namespace msa
} // namespace mlir

#endif // MSA_LOWERING_PASSES_H
