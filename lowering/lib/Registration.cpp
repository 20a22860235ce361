//===- Registration.cpp - msa::registerAllDialects / registerAllPasses ----===//
#include "msa/InitMSA.h"
#include "msa/Dialect/BufferizableOpInterfaceImpl.h"
#include "msa/Dialect/MSADialect.h"
#include "msa/Dialect/ShardingInterfaceImpl.h"
#include "msa/Lowering/Passes.h"

#include "mlir/IR/DialectRegistry.h"

void mlir::msa::registerAllDialects(DialectRegistry &registry) {
  registry.insert<MSADialect>();
  registerBufferizableOpInterfaceExternalModels(registry);
  registerShardingInterfaceExternalModels(registry);
}

void mlir::msa::registerAllPasses() {
  registerMSALoweringPasses();
  registerMSAToLLVMPipeline();
}
