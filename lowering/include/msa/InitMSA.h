//===- InitMSA.h - register everything msa provides -------------*- C++ -*-===//
//
// For tools and compilers that embed msa: one call for the dialects (with
// the bufferization and sharding models), one for the passes and pipelines.
//
//===----------------------------------------------------------------------===//
#ifndef MSA_INITMSA_H
#define MSA_INITMSA_H

namespace mlir {
class DialectRegistry;
namespace msa {

/// The msa dialect, its One-Shot Bufferize and ShardingInterface external
/// models.
void registerAllDialects(DialectRegistry &registry);

/// msa-lower-to-runtime and the msa-to-llvm pipeline.
void registerAllPasses();

} // namespace msa
} // namespace mlir

#endif // MSA_INITMSA_H
