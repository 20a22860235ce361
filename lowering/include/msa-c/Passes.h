/*===- msa-c/Passes.h - C API of msa's registration ---------------*- C -*-===*\
|*                                                                            *|
|* The C counterparts of msa/InitMSA.h (mlir-c style).                        *|
|* Library: libMSACAPI.so (CMake target MSA::MSACAPI).                        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/
#ifndef MSA_C_PASSES_H
#define MSA_C_PASSES_H

#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Inserts the msa dialect, its One-Shot Bufferize and its sharding models
 * into `registry` (mlir::msa::registerAllDialects). Upstream dialects are
 * not included: use mlirRegisterAllDialects (mlir-c/RegisterEverything.h)
 * for those. */
MLIR_CAPI_EXPORTED void mlirMSARegisterAllDialects(MlirDialectRegistry registry);

/* Registers the pass `msa-lower-to-runtime{target=cpu|cuda|auto}` and the
 * pipeline `msa-to-llvm{target=...}` in the global registry, so that
 * mlirParsePassPipeline / mlirOpPassManagerAddPipeline accept them
 * (mlir::msa::registerAllPasses). Safe to call more than once. */
MLIR_CAPI_EXPORTED void mlirMSARegisterPasses(void);

/* Appends msa-to-llvm{target=<target>} to `passManager` (a pass manager on
 * builtin.module): bufferize, lower the op to kernel calls, convert to the
 * LLVM dialect. `target` is "cpu", "cuda" or "auto"; anything else returns
 * failure, with a message on stderr. Needs no pass registration (neither
 * mlirRegisterAllPasses nor mlirMSARegisterPasses). */
MLIR_CAPI_EXPORTED MlirLogicalResult
mlirMSAAddToLLVMPipeline(MlirOpPassManager passManager, MlirStringRef target);

/* The same with the pipeline's option on-error: "exit" (what
 * mlirMSAAddToLLVMPipeline uses: a kernel error ends the process) or
 * "continue" (out is filled with -1; read the status afterwards with
 * msa_runtime_take_error() from msa/msa_kernels.h). */
MLIR_CAPI_EXPORTED MlirLogicalResult mlirMSAAddToLLVMPipelineWithOptions(
    MlirOpPassManager passManager, MlirStringRef target, MlirStringRef onError);

#ifdef __cplusplus
}
#endif

#endif /* MSA_C_PASSES_H */
