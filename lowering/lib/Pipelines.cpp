//===- Pipelines.cpp - msa-to-llvm ----------------------------------------===//
//
// Built from the passes' C++ constructors, not from a textual pipeline: it
// needs no pass registration (C++ and C embedders call it directly) and an
// option value can never turn into extra passes.
//
//===----------------------------------------------------------------------===//
#include "msa/Lowering/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {
/// The last step of msa-to-llvm: every op left must be in the LLVM dialect
/// (or the module itself), else the pipeline fails naming the first op that
/// no conversion in it handled (unrealized casts only when nothing else is
/// left), instead of leaving mlir-translate to fail later.
struct CheckLoweredToLLVM
    : public PassWrapper<CheckLoweredToLLVM, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckLoweredToLLVM)

  StringRef getArgument() const final { return "msa-check-lowered-to-llvm"; }
  StringRef getDescription() const final {
    return "fail on the first op that is not in the LLVM dialect";
  }

  void runOnOperation() override {
    // An unrealized cast left over is a symptom: name the op behind it, if
    // there is one.
    Operation *leftOver = nullptr, *leftOverCast = nullptr;
    getOperation()->walk([&](Operation *op) {
      if (isa<ModuleOp>(op) || isa<LLVM::LLVMDialect>(op->getDialect()))
        return WalkResult::advance();
      if (isa<UnrealizedConversionCastOp>(op)) {
        if (!leftOverCast)
          leftOverCast = op;
        return WalkResult::advance();
      }
      leftOver = op;
      return WalkResult::interrupt();
    });
    if (!leftOver)
      leftOver = leftOverCast;
    if (!leftOver)
      return;
    leftOver->emitError() << "msa-to-llvm: '" << leftOver->getName()
                          << "' is not lowered to the LLVM dialect (no "
                             "conversion of the pipeline handles it)";
    signalPassFailure();
  }
};
} // namespace

void msa::buildMSAToLLVMPipeline(OpPassManager &pm,
                                 const MSAToLLVMPipelineOptions &options) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);

  MSALowerToRuntimeOptions lowerToRuntime;
  lowerToRuntime.target = options.target;
  lowerToRuntime.onError = options.onError;
  pm.addPass(createMSALowerToRuntime(lowerToRuntime));

  // What a graph's tensor code leaves after bufferization: bufferization
  // (clones of returned buffers), linalg, scf (scf.forall included), memref,
  // affine, arith, math, index, cf, func, ub.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createForallToForLoopPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  // What has no LLVM intrinsic (e.g. math.tanh) becomes a libm call.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(std::make_unique<CheckLoweredToLLVM>());
}

void msa::registerMSAToLLVMPipeline() {
  PassPipelineRegistration<MSAToLLVMPipelineOptions>(
      "msa-to-llvm",
      "Tensor-level msa IR to the LLVM dialect: bufferize, lower the op to "
      "kernel calls (target=cpu|cuda|auto, on-error=exit|continue), convert "
      "to LLVM",
      buildMSAToLLVMPipeline);
}
