//===- Pipelines.cpp - msa-to-llvm ----------------------------------------===//
#include "msa/Lowering/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

void msa::buildMSAToLLVMPipeline(OpPassManager &pm,
                                 const MSAToLLVMPipelineOptions &options) {
  // Written as a textual pipeline so that it reads the same here, in the
  // README and on an mlir-opt command line.
  std::string pipeline =
      "one-shot-bufferize{bufferize-function-boundaries=1 "
      "function-boundary-type-conversion=identity-layout-map},"
      "buffer-deallocation-pipeline,"
      "msa-lower-to-runtime{target=" +
      options.target.getValue() +
      "},"
      "convert-linalg-to-loops,convert-scf-to-cf,expand-strided-metadata,"
      "lower-affine,"
      "finalize-memref-to-llvm,convert-func-to-llvm,convert-arith-to-llvm,"
      "convert-cf-to-llvm,convert-index-to-llvm,reconcile-unrealized-casts";
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("msa-to-llvm: could not build the pipeline");
}

void msa::registerMSAToLLVMPipeline() {
  PassPipelineRegistration<MSAToLLVMPipelineOptions>(
      "msa-to-llvm",
      "Tensor-level msa IR to the LLVM dialect: bufferize, lower the op to "
      "kernel calls (target=cpu|cuda|auto), convert to LLVM",
      buildMSAToLLVMPipeline);
}
