//===- msa-opt.cpp - the msa optimizer driver -----------------------------===//
//
// mlir-opt plus the msa dialect, its bufferization model, its passes and
// pipelines. All upstream dialects, passes and extensions are registered, so
// that the output of `--msa-to-llvm` (or of `-convert-to-llvm`) is complete.
//
//===----------------------------------------------------------------------===//
#include "msa/InitMSA.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllPasses();
  mlir::msa::registerAllDialects(registry);
  mlir::msa::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "msa optimizer driver\n", registry));
}
