//===- BufferizableOpInterfaceImpl.cpp - One-Shot Bufferize for msa -------===//
//
// The tensor form of msa.indexer_ragged_paged only reads its operands and
// produces a fresh result. Bufferizing it allocates the result buffer
// (through the bufferization options, so the caller's allocation function is
// honoured) and rewrites the op into its memref form with that buffer as the
// destination after `into`.
//
//===----------------------------------------------------------------------===//
#include "msa/Dialect/BufferizableOpInterfaceImpl.h"
#include "msa/Dialect/MSAOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {
struct IndexerRaggedPagedOpInterface
    : public BufferizableOpInterface::ExternalModel<
          IndexerRaggedPagedOpInterface, msa::IndexerRaggedPagedOp> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }
  bool bufferizesToAllocation(Operation *, Value) const { return true; }

  FailureOr<BufferLikeType>
  getBufferType(Operation *, Value value, const BufferizationOptions &,
                const BufferizationState &, SmallVector<Value> &) const {
    // The result gets a freshly allocated, identity-layout buffer.
    return cast<BufferLikeType>(getMemRefTypeWithStaticIdentityLayout(
        cast<TensorType>(value.getType())));
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto indexer = cast<msa::IndexerRaggedPagedOp>(op);
    Location loc = op->getLoc();
    SmallVector<Value> buffers;
    for (Value input :
         {indexer.getQ(), indexer.getInputRowOffsets(), indexer.getPrefixLens(),
          indexer.getKBlocks(), indexer.getKCacheLengths(),
          indexer.getKLookupTable(), indexer.getKMaxLengths()}) {
      FailureOr<Value> buffer = getBuffer(rewriter, input, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }

    // The only size that can be dynamic is the row count, q's dimension 0.
    auto resultType = cast<RankedTensorType>(indexer.getResult().getType());
    auto outType =
        cast<MemRefType>(getMemRefTypeWithStaticIdentityLayout(resultType));
    if (resultType.isDynamicDim(0) || resultType.isDynamicDim(2))
      return op->emitError("result dimensions 0 and 2 must be static "
                           "(num_index_heads and topk)");
    SmallVector<Value> dynamicSizes;
    if (resultType.isDynamicDim(1))
      dynamicSizes.push_back(
          memref::DimOp::create(rewriter, loc, buffers[0], 0));
    FailureOr<Value> out =
        options.createAlloc(rewriter, loc, outType, dynamicSizes);
    if (failed(out))
      return failure();

    auto bufferized = msa::IndexerRaggedPagedOp::create(
        rewriter, loc, TypeRange{}, buffers[0], buffers[1], buffers[2],
        buffers[3], buffers[4], buffers[5], buffers[6], *out,
        indexer.getNumIndexHeadsAttr(), indexer.getIdxHeadDimAttr(),
        indexer.getBlockSizeAttr(), indexer.getTopkAttr(),
        indexer.getInitBlocksAttr(), indexer.getLocalBlocksAttr(),
        indexer.getLayerIdxAttr(), indexer.getScaleAttr(),
        indexer.getOrderAttr());
    (void)bufferized;
    replaceOpWithBufferizedValues(rewriter, op, *out);
    return success();
  }
};
} // namespace

void mlir::msa::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, msa::MSADialect *) {
    msa::IndexerRaggedPagedOp::attachInterface<IndexerRaggedPagedOpInterface>(
        *ctx);
  });
}
