//===- ShardingInterfaceImpl.h - msa SPMD partitioning ----------*- C++ -*-===//
#ifndef MSA_DIALECT_SHARDINGINTERFACEIMPL_H
#define MSA_DIALECT_SHARDINGINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace msa {
/// Attaches the upstream shard::ShardingInterface to
/// msa.indexer_ragged_paged: the index-head axis is parallel (q dimension 1,
/// result dimension 0), every other operand is replicated (docs/SHARDING.md).
void registerShardingInterfaceExternalModels(DialectRegistry &registry);
} // namespace msa
} // namespace mlir

#endif // MSA_DIALECT_SHARDINGINTERFACEIMPL_H
