//===- MSADialect.cpp - the msa dialect -----------------------------------===//
#include "msa/Dialect/MSADialect.h"
#include "msa/Dialect/MSAOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::msa;

#include "msa/Dialect/MSAOpsDialect.cpp.inc"
#include "msa/Dialect/MSAEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "msa/Dialect/MSAAttrs.cpp.inc"

void MSADialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "msa/Dialect/MSAOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "msa/Dialect/MSAAttrs.cpp.inc"
      >();
}
