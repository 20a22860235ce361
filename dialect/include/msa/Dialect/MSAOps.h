//===- MSAOps.h - msa dialect ops -------------------------------*- C++ -*-===//
#ifndef MSA_DIALECT_MSAOPS_H
#define MSA_DIALECT_MSAOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "msa/Dialect/MSADialect.h"

#define GET_OP_CLASSES
#include "msa/Dialect/MSAOps.h.inc"

#endif // MSA_DIALECT_MSAOPS_H
