//===- MSADialect.h - the msa dialect ---------------------------*- C++ -*-===//
#ifndef MSA_DIALECT_MSADIALECT_H
#define MSA_DIALECT_MSADIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "msa/Dialect/MSAOpsDialect.h.inc"
#include "msa/Dialect/MSAEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "msa/Dialect/MSAAttrs.h.inc"

#endif // MSA_DIALECT_MSADIALECT_H
