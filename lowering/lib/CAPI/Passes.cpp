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

/// Prints why an option value is refused; returns `valid`.
static bool checkOption(bool valid, llvm::StringRef option,
                        llvm::StringRef expected, llvm::StringRef value) {
  if (!valid)
    llvm::errs() << "mlirMSAAddToLLVMPipeline: " << option << " must be "
                 << expected << ", not '" << value << "'\n";
  return valid;
}

MlirLogicalResult
mlirMSAAddToLLVMPipelineWithOptions(MlirOpPassManager passManager,
                                    MlirStringRef target,
                                    MlirStringRef onError) {
  std::optional<mlir::msa::RuntimeTarget> parsedTarget =
      mlir::msa::parseRuntimeTarget(unwrap(target));
  std::optional<mlir::msa::RuntimeErrorMode> parsedOnError =
      mlir::msa::parseRuntimeErrorMode(unwrap(onError));
  if (!checkOption(parsedTarget.has_value(), "target", "cpu, cuda or auto",
                   unwrap(target)) ||
      !checkOption(parsedOnError.has_value(), "on-error", "exit or continue",
                   unwrap(onError)))
    return mlirLogicalResultFailure();
  mlir::msa::MSAToLLVMPipelineOptions options;
  options.target = *parsedTarget;
  options.onError = *parsedOnError;
  mlir::msa::buildMSAToLLVMPipeline(*unwrap(passManager), options);
  return mlirLogicalResultSuccess();
}
