/*===- msa-c/Dialect.h - C API of the msa dialect -----------------*- C -*-===*\
|*                                                                            *|
|* The msa dialect for MLIR's C API (mlir-c style). The dialect handle's      *|
|* insert hook also registers the dialect's One-Shot Bufferize and sharding   *|
|* models, so a context that got the dialect through this handle can run      *|
|* msa-to-llvm and the shard dialect's partitioning.                          *|
|*                                                                            *|
|* Library: libMSACAPI.so (CMake target MSA::MSACAPI), which also carries the *|
|* upstream MLIR C API (IR, Pass, RegisterEverything, ExecutionEngine).       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/
#ifndef MSA_C_DIALECT_H
#define MSA_C_DIALECT_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MlirDialectHandle mlirGetDialectHandle__msa__(void); */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(MSA, msa);

#ifdef __cplusplus
}
#endif

#endif /* MSA_C_DIALECT_H */
