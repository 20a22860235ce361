//===- msa-opt.cpp - the msa optimizer driver -----------------------------===//
//
// mlir-opt plus the msa dialect, its bufferization model, its passes and
// pipelines. All upstream dialects, passes and extensions are registered, so
// that the output of `--msa-to-llvm` (or of `-convert-to-llvm`) is complete.
// `--version` prints msa's version before LLVM's.
//
//===----------------------------------------------------------------------===//
#include "msa/InitMSA.h"
#include "msa/msa_kernels.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

// MSA_VERSION_{MAJOR,MINOR,PATCH} come from the project's version (CMake).
static_assert(MSA_KERNELS_VERSION_MAJOR == MSA_VERSION_MAJOR &&
                  MSA_KERNELS_VERSION_MINOR == MSA_VERSION_MINOR &&
                  MSA_KERNELS_VERSION_PATCH == MSA_VERSION_PATCH,
              "msa_kernels.h's MSA_KERNELS_VERSION must be the project "
              "version of the top-level CMakeLists.txt");

int main(int argc, char **argv) {
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &os) {
    os << "msa version " << MSA_VERSION_MAJOR << '.' << MSA_VERSION_MINOR
       << '.' << MSA_VERSION_PATCH << '\n';
  });
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllPasses();
  mlir::msa::registerAllDialects(registry);
  mlir::msa::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "msa optimizer driver\n", registry));
}
