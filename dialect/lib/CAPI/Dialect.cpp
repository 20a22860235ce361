//===- Dialect.cpp - C API of the msa dialect -----------------------------===//
//
// mlirGetDialectHandle__msa__: written out rather than through
// MLIR_DEFINE_CAPI_DIALECT_REGISTRATION so that the insert hook registers the
// dialect's One-Shot Bufferize and sharding external models too (what
// mlir::msa::registerAllDialects does): a context set up through the handle
// can run msa-to-llvm.
//
//===----------------------------------------------------------------------===//
#include "msa-c/Dialect.h"

#include "msa/Dialect/BufferizableOpInterfaceImpl.h"
#include "msa/Dialect/MSADialect.h"
#include "msa/Dialect/ShardingInterfaceImpl.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"

namespace {
void insertMSADialect(MlirDialectRegistry registry) {
  mlir::DialectRegistry &r = *unwrap(registry);
  r.insert<mlir::msa::MSADialect>();
  mlir::msa::registerBufferizableOpInterfaceExternalModels(r);
  mlir::msa::registerShardingInterfaceExternalModels(r);
}

MlirDialect loadMSADialect(MlirContext context) {
  return wrap(unwrap(context)->getOrLoadDialect<mlir::msa::MSADialect>());
}

MlirStringRef msaDialectNamespace() {
  return wrap(mlir::msa::MSADialect::getDialectNamespace());
}
} // namespace

MlirDialectHandle mlirGetDialectHandle__msa__() {
  static MlirDialectRegistrationHooks hooks = {
      insertMSADialect, loadMSADialect, msaDialectNamespace};
  return MlirDialectHandle{&hooks};
}
