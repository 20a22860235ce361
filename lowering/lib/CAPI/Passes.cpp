//===- Passes.cpp - C API of msa's registration ---------------------------===//
#include "msa-c/Passes.h"

#include "msa/InitMSA.h"
#include "msa/Lowering/Passes.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Pass.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

void mlirMSARegisterAllDialects(MlirDialectRegistry registry) {
  mlir::msa::registerAllDialects(*unwrap(registry));
}

void mlirMSARegisterPasses(void) {
  // Registering a pass name twice is a fatal error in MLIR: once per process.
  static std::once_flag once;
  std::call_once(once, [] { mlir::msa::registerAllPasses(); });
}

MlirLogicalResult mlirMSAAddToLLVMPipeline(MlirOpPassManager passManager,
                                           MlirStringRef target) {
  return mlirMSAAddToLLVMPipelineWithOptions(
      passManager, target, mlirStringRefCreateFromCString("exit"));
}

MlirLogicalResult
mlirMSAAddToLLVMPipelineWithOptions(MlirOpPassManager passManager,
                                    MlirStringRef target,
                                    MlirStringRef onError) {
  std::optional<mlir::msa::RuntimeTarget> parsedTarget =
      mlir::msa::parseRuntimeTarget(unwrap(target));
  if (!parsedTarget) {
    llvm::errs() << "mlirMSAAddToLLVMPipeline: target must be cpu, cuda or "
                    "auto, not '"
                 << unwrap(target) << "'\n";
    return mlirLogicalResultFailure();
  }
  std::optional<mlir::msa::RuntimeErrorMode> parsedOnError =
      mlir::msa::parseRuntimeErrorMode(unwrap(onError));
  if (!parsedOnError) {
    llvm::errs() << "mlirMSAAddToLLVMPipeline: on-error must be exit or "
                    "continue, not '"
                 << unwrap(onError) << "'\n";
    return mlirLogicalResultFailure();
  }
  mlir::msa::MSAToLLVMPipelineOptions options;
  options.target = *parsedTarget;
  options.onError = *parsedOnError;
  mlir::msa::buildMSAToLLVMPipeline(*unwrap(passManager), options);
  return mlirLogicalResultSuccess();
}
