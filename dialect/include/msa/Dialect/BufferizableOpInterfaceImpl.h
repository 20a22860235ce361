//===- BufferizableOpInterfaceImpl.h - msa bufferization --------*- C++ -*-===//
#ifndef MSA_DIALECT_BUFFERIZABLEOPINTERFACEIMPL_H
#define MSA_DIALECT_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace msa {
/// Attaches the One-Shot Bufferize interface to msa.indexer_ragged_paged.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace msa
} // namespace mlir

#endif // MSA_DIALECT_BUFFERIZABLEOPINTERFACEIMPL_H
