//===- ShardingInterfaceImpl.cpp - SPMD partitioning of msa ---------------===//
//
// msa.indexer_ragged_paged is a parallel map over its index heads: head h of
// the result reads only head h of q, and every other operand in full. The
// upstream shard dialect can therefore split exactly one axis of the op, the
// index-head axis (q dimension 1, result dimension 0, over the same grid
// axes); the metadata and the index-K cache stay replicated, and each shard
// is the same op with num_index_heads = H / shards. Rows, the head dim,
// top-k slots and the cache have no independent split (ragged offsets and
// page tables address all of them), so a sharding that splits them is
// resharded during propagation (with a warning) and rejected by
// partitioning (with an error). docs/SHARDING.md has the user's view.
//
// The op has one loop, the index-head axis. Its operands are not indexed by
// projected permutations of that loop, so the upstream default methods that
// read indexing maps do not apply: every method is written out here.
//
//===----------------------------------------------------------------------===//
#include "msa/Dialect/ShardingInterfaceImpl.h"
#include "msa/Dialect/MSAOps.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>

using namespace mlir;
using namespace mlir::shard;

namespace {
/// The split dimension of q ([rows, H, D]) and of the result ([H, rows, topk]).
constexpr int64_t kQHeadDim = 1;
constexpr int64_t kResultHeadDim = 0;
/// Operand names in MAX's order, and what the dimensions of q and of the
/// result hold, for diagnostics.
constexpr const char *kOperandNames[] = {"q",
                                         "input_row_offsets",
                                         "prefix_lens",
                                         "k_blocks",
                                         "k_cache_lengths",
                                         "k_lookup_table",
                                         "k_max_lengths"};
constexpr const char *kQDims[] = {"rows", "index heads", "idx_head_dim"};
constexpr const char *kResultDims[] = {"index heads", "rows", "topk"};

/// The dimension of operand `index` that may be split, or -1 for none.
int64_t headDimOfOperand(unsigned index) { return index == 0 ? kQHeadDim : -1; }
ArrayRef<const char *> dimNamesOfOperand(unsigned index) {
  return index == 0 ? ArrayRef<const char *>(kQDims) : ArrayRef<const char *>();
}

std::string axesToString(ArrayRef<GridAxis> axes) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(axes, os, [&](GridAxis a) { os << int64_t(a); });
  os << "]";
  return text;
}

/// The grid axes that split dimension `dim` of a value sharded as `s`.
ArrayRef<GridAxis> splitAxesOf(const Sharding &s, int64_t dim) {
  if (!s || dim < 0 || dim >= int64_t(s.getSplitAxes().size()))
    return {};
  return s.getSplitAxes()[dim].asArrayRef();
}

/// Why `s` (the sharding of the value called `name`, whose dimensions hold
/// `dimNames` where known) is not one the op can take: a split of a
/// dimension other than `headDim` (-1: no dimension may be split), halos, or
/// uneven shards. std::nullopt when it can.
std::optional<std::string> unsupportedPart(const Sharding &s, StringRef name,
                                           int64_t headDim,
                                           ArrayRef<const char *> dimNames) {
  if (!s)
    return std::nullopt;
  std::string text;
  llvm::raw_string_ostream os(text);
  if (!s.getStaticHaloSizes().empty() || !s.getDynamicHaloSizes().empty()) {
    os << name << " has halo sizes";
    return text;
  }
  if (!s.getStaticShardedDimsOffsets().empty() ||
      !s.getDynamicShardedDimsOffsets().empty()) {
    os << name << " has sharded_dims_offsets (uneven shards)";
    return text;
  }
  for (auto [dim, axes] : llvm::enumerate(s.getSplitAxes())) {
    if (axes.empty() || int64_t(dim) == headDim)
      continue;
    os << name << " dimension " << dim;
    if (dim < dimNames.size())
      os << " (" << dimNames[dim] << ")";
    os << " is split over grid axes " << axesToString(axes.asArrayRef());
    return text;
  }
  return std::nullopt;
}

Sharding makeSharding(FlatSymbolRefAttr grid, int64_t splitDim,
                      ArrayRef<GridAxis> axes) {
  MLIRContext *ctx = grid.getContext();
  SmallVector<GridAxesAttr> splitAxes;
  if (!axes.empty()) {
    splitAxes.assign(splitDim, GridAxesAttr::get(ctx, {}));
    splitAxes.push_back(GridAxesAttr::get(ctx, axes));
  } else {
    splitAxes.push_back(GridAxesAttr::get(ctx, {}));
  }
  return Sharding::get(grid, splitAxes);
}

struct IndexerRaggedPagedShardingInterface
    : public ShardingInterface::ExternalModel<
          IndexerRaggedPagedShardingInterface, msa::IndexerRaggedPagedOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    return {utils::IteratorType::parallel}; // the index-head axis
  }

  /// The head axes come from q dimension 1 or the result dimension 0; when
  /// both are given and disagree, the op runs replicated. Splits of anything
  /// else are ignored here, so propagation reshards those values to what the
  /// op needs (warnAboutResharding says so).
  FailureOr<ShardingOption>
  getShardingOption(Operation *op, ArrayRef<Sharding> operandShardings,
                    ArrayRef<Sharding> resultShardings) const {
    if (cast<msa::IndexerRaggedPagedOp>(op).hasBufferSemantics())
      return failure();
    FlatSymbolRefAttr grid, otherGrid;
    for (ArrayRef<Sharding> shardings : {operandShardings, resultShardings})
      for (const Sharding &s : shardings) {
        if (s && !grid)
          grid = s.getGridAttr();
        else if (s && s.getGridAttr() != grid)
          otherGrid = s.getGridAttr();
      }
    if (otherGrid) {
      // An option without a grid: getShardingAnnotations rejects it, which
      // stops propagation here (a failed or empty option would leave the op
      // unannotated, and the upstream partitioner does not check for that).
      op->emitOpError() << "cannot be sharded: its operands and result are "
                           "annotated over different grids ("
                        << grid << ", " << otherGrid << ")";
      return ShardingOption();
    }
    if (!grid)
      return ShardingOption::makeEmpty();
    ArrayRef<GridAxis> fromQ = splitAxesOf(operandShardings[0], kQHeadDim);
    ArrayRef<GridAxis> fromResult =
        splitAxesOf(resultShardings[0], kResultHeadDim);
    ArrayRef<GridAxis> heads = fromQ.empty() ? fromResult : fromQ;
    if (!fromQ.empty() && !fromResult.empty() && fromQ != fromResult)
      heads = {};
    return ShardingOption(ShardingArray{llvm::to_vector(heads)}, grid);
  }

  FailureOr<std::vector<Sharding>>
  getShardingAnnotations(Operation *op, const ShardingOption &option) const {
    if (cast<msa::IndexerRaggedPagedOp>(op).hasBufferSemantics() ||
        !option.grid)
      return failure();
    ArrayRef<GridAxis> heads;
    if (!option.shardingArray.empty())
      heads = option.shardingArray.front();
    std::vector<Sharding> shardings;
    for (unsigned i = 0, e = op->getNumOperands(); i < e; ++i)
      shardings.push_back(makeSharding(option.grid, kQHeadDim,
                                       i == 0 ? heads : ArrayRef<GridAxis>()));
    shardings.push_back(makeSharding(option.grid, kResultHeadDim, heads));
    return shardings;
  }

  LogicalResult addShardingAnnotations(Operation *op, OpBuilder &b,
                                       const ShardingOption &option) const {
    FailureOr<std::vector<Sharding>> shardings =
        getShardingAnnotations(op, option);
    if (failed(shardings))
      return failure();
    warnAboutResharding(op);
    {
      OpBuilder::InsertionGuard guard(b);
      maybeInsertTargetShardingAnnotation(shardings->back(), op->getResult(0),
                                          b);
    }
    for (OpOperand &operand : op->getOpOperands())
      maybeInsertSourceShardingAnnotation(
          (*shardings)[operand.getOperandNumber()], operand, b);
    return success();
  }

  LogicalResult partition(Operation *op, ArrayRef<Value> partitionedOperands,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings,
                          IRMapping &partitionMap,
                          SymbolTableCollection &symbolTable,
                          OpBuilder &builder) const {
    auto indexer = cast<msa::IndexerRaggedPagedOp>(op);
    if (indexer.hasBufferSemantics())
      return op->emitOpError("cannot be partitioned in its memref form: "
                             "partition the tensor form, before bufferization");
    const Sharding &resultSharding = resultShardings[0];
    if (!resultSharding)
      return op->emitOpError("cannot be partitioned: the result has no "
                             "sharding annotation (shard.shard)");
    for (auto [index, s] : llvm::enumerate(operandShardings)) {
      if (s && s.getGridAttr() != resultSharding.getGridAttr())
        return op->emitOpError()
               << "cannot be partitioned: " << kOperandNames[index]
               << " is sharded over grid " << s.getGridAttr()
               << " but the result over " << resultSharding.getGridAttr();
      if (std::optional<std::string> why =
              unsupportedPart(s, kOperandNames[index], headDimOfOperand(index),
                              dimNamesOfOperand(index)))
        return emitUnsupported(op, *why);
    }
    if (std::optional<std::string> why = unsupportedPart(
            resultSharding, "the result", kResultHeadDim, kResultDims))
      return emitUnsupported(op, *why);

    ArrayRef<GridAxis> heads = splitAxesOf(resultSharding, kResultHeadDim);
    ArrayRef<GridAxis> qHeads = splitAxesOf(operandShardings[0], kQHeadDim);
    if (heads != qHeads)
      return op->emitOpError()
             << "cannot be partitioned: q dimension 1 is split over grid axes "
             << axesToString(qHeads) << " but the result dimension 0 over "
             << axesToString(heads)
             << "; the index heads of both must be split over the same axes";
    GridOp grid = getGridOrNull(op, resultSharding.getGridAttr(), symbolTable);
    if (!grid)
      return op->emitOpError() << "cannot be partitioned: no shard.grid "
                               << resultSharding.getGridAttr();
    int64_t shards = collectiveProcessGroupSize(heads, grid);
    int64_t numHeads = int64_t(indexer.getNumIndexHeads());
    if (ShapedType::isDynamic(shards))
      return op->emitOpError()
             << "cannot be partitioned: grid axes " << axesToString(heads)
             << " of " << resultSharding.getGridAttr()
             << " have a dynamic size; the per-shard num_index_heads must be "
                "static";
    if (numHeads % shards != 0)
      return op->emitOpError()
             << "cannot be partitioned: num_index_heads = " << numHeads
             << " is not divisible by the " << shards << " shards of grid axes "
             << axesToString(heads) << " of " << resultSharding.getGridAttr();

    auto shardOp = cast<msa::IndexerRaggedPagedOp>(builder.clone(*op));
    shardOp->setOperands(partitionedOperands);
    shardOp.setNumIndexHeads(uint64_t(numHeads / shards));
    shardOp.getResult().setType(cast<RankedTensorType>(
        shardType(indexer.getResult().getType(), grid, resultSharding)));
    partitionMap.map(indexer.getResult(), shardOp.getResult());
    return success();
  }

private:
  static LogicalResult emitUnsupported(Operation *op, StringRef why) {
    return op->emitOpError()
           << "cannot be partitioned: " << why
           << "; only the index heads can be split (q dimension 1 and the "
              "result dimension 0, over the same grid axes), every other "
              "operand and dimension must be replicated";
  }

  /// Propagation keeps the values' own annotations and adds the op's; the
  /// partitioner then reshards between the two. Say so where a split the op
  /// cannot take is undone that way.
  static void warnAboutResharding(Operation *op) {
    auto warn =
        [&](StringRef why) {
          op->emitWarning()
              << "msa.indexer_ragged_paged splits only its index heads (q "
                 "dimension 1, result dimension 0): "
              << why << "; it is resharded to the op's sharding";
        };
    ArrayRef<GridAxis> qHeads, resultHeads;
    for (OpOperand &operand : op->getOpOperands()) {
      auto shardOp = operand.get().getDefiningOp<ShardOp>();
      if (!shardOp)
        continue;
      unsigned index = operand.getOperandNumber();
      Sharding sharding(shardOp.getSharding());
      if (index == 0)
        qHeads = splitAxesOf(sharding, kQHeadDim);
      if (std::optional<std::string> why = unsupportedPart(
              sharding, kOperandNames[index], headDimOfOperand(index),
              dimNamesOfOperand(index)))
        warn(*why);
    }
    for (Operation *user : op->getResult(0).getUsers()) {
      auto shardOp = dyn_cast<ShardOp>(user);
      if (!shardOp)
        continue;
      Sharding sharding(shardOp.getSharding());
      resultHeads = splitAxesOf(sharding, kResultHeadDim);
      if (std::optional<std::string> why = unsupportedPart(
              sharding, "the result", kResultHeadDim, kResultDims))
        warn(*why);
    }
    if (!qHeads.empty() && !resultHeads.empty() && qHeads != resultHeads)
      op->emitWarning() << "msa.indexer_ragged_paged: q's index heads are "
                           "split over grid axes "
                        << axesToString(qHeads) << " but the result's over "
                        << axesToString(resultHeads)
                        << "; the op runs replicated and both are resharded";
  }
};
} // namespace

void mlir::msa::registerShardingInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, msa::MSADialect *) {
    msa::IndexerRaggedPagedOp::attachInterface<
        IndexerRaggedPagedShardingInterface>(*ctx);
  });
}
