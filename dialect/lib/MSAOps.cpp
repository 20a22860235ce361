//===- MSAOps.cpp - msa.indexer_ragged_paged ------------------------------===//
//
// The verifier reads like docs/CONTRACT.md's "Static checks" list: one check per rule,
// each message naming the operand (or attribute), the expected and the actual
// value. Dynamic dimensions are accepted everywhere; the kernels check the
// run-time sizes.
//
//===----------------------------------------------------------------------===//
#include "msa/Dialect/MSAOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

using namespace mlir;
using namespace mlir::msa;

#define GET_OP_CLASSES
#include "msa/Dialect/MSAOps.cpp.inc"

namespace {
/// Checks one operand's rank, element type and static dimensions, with
/// messages of the form "operand 'k_blocks' ... expected ..., got ...".
class OperandChecker {
public:
  /// `name` is an operand name, or "result" for the op's result.
  OperandChecker(Operation *op, StringRef name, Type type)
      : op(op), label(name == "result" ? std::string("result")
                                       : ("operand '" + name + "'").str()),
        type(cast<ShapedType>(type)) {}

  LogicalResult rankAndElement(int64_t rank, Type element,
                               StringRef elementName) {
    return rankAndElement(rank, ArrayRef<Type>(element), elementName);
  }

  /// The element type must be one of `allowed` (named `allowedNames`).
  LogicalResult rankAndElement(int64_t rank, ArrayRef<Type> allowed,
                               StringRef allowedNames) {
    if (type.getRank() != rank)
      return op->emitOpError() << label << " must have rank "
                               << rank << ", got rank " << type.getRank()
                               << " (" << Type(type) << ")";
    if (!llvm::is_contained(allowed, type.getElementType()))
      return op->emitOpError()
             << label << " must have element type "
             << allowedNames << ", got " << type.getElementType();
    return success();
  }

  /// Dimension `dim` (called `what`) must equal `expected` when static.
  LogicalResult dimEquals(unsigned dim, StringRef what, int64_t expected,
                          StringRef expectedName) {
    int64_t actual = type.getDimSize(dim);
    if (ShapedType::isDynamic(actual) || actual == expected)
      return success();
    InFlightDiagnostic diag = op->emitOpError()
                              << label << " dimension " << dim
                              << " (" << what << ") must be " << expected;
    if (!expectedName.empty())
      diag << " (" << expectedName << ")";
    return diag << ", got " << actual;
  }

  int64_t dim(unsigned d) const { return type.getDimSize(d); }

private:
  Operation *op;
  std::string label;
  ShapedType type;
};
} // namespace

/// Attribute rules: sizes >= 1, counts >= 0, int32 range (the kernels' C
/// ABI passes them as int32), the forcing rule, finite scale.
static LogicalResult verifyAttributes(IndexerRaggedPagedOp op) {
  struct IntRule {
    StringRef name;
    int64_t value;
    int64_t min;
  };
  const IntRule rules[] = {
      {"num_index_heads", op.getNumIndexHeadsAttr().getInt(), 1},
      {"idx_head_dim", op.getIdxHeadDimAttr().getInt(), 1},
      {"block_size", op.getBlockSizeAttr().getInt(), 1},
      {"topk", op.getTopkAttr().getInt(), 1},
      {"init_blocks", op.getInitBlocksAttr().getInt(), 0},
      {"local_blocks", op.getLocalBlocksAttr().getInt(), 0},
      {"layer_idx", op.getLayerIdxAttr().getInt(), 0}};
  constexpr int64_t int32Max = std::numeric_limits<int32_t>::max();
  for (const IntRule &rule : rules) {
    if (rule.value < rule.min)
      return op.emitOpError() << "attribute '" << rule.name << "' must be >= "
                              << rule.min << ", got " << rule.value;
    if (rule.value > int32Max)
      return op.emitOpError() << "attribute '" << rule.name << "' must be <= "
                              << int32Max << ", got " << rule.value;
  }
  // Forcing more blocks than topk would silently drop the block that holds
  // the query itself (CONTRACT.md "Forcing and selection").
  const int64_t init = op.getInitBlocksAttr().getInt(),
                local = op.getLocalBlocksAttr().getInt(),
                topk = op.getTopkAttr().getInt();
  if (init + local > topk)
    return op.emitOpError() << "init_blocks + local_blocks must be <= topk = "
                            << topk << ", got " << init << " + " << local
                            << " = " << init + local;
  if (!std::isfinite(op.getScale().convertToFloat()))
    return op.emitOpError() << "attribute 'scale' must be finite, got "
                            << op.getScaleAttr();
  return success();
}

/// Tensor form: tensor operands, one result, no destination. Memref form:
/// memref operands, a memref destination, no result.
static LogicalResult verifyForm(IndexerRaggedPagedOp op) {
  bool buffers = op.hasBufferSemantics();
  for (OpOperand &operand : op->getOpOperands()) {
    if (op.getOut() && &operand == &op.getOutMutable()[0])
      continue;
    bool isMemRef = isa<MemRefType>(operand.get().getType());
    if (isMemRef != buffers)
      return op.emitOpError()
             << "operand #" << operand.getOperandNumber() << " must be a "
             << (buffers ? "memref" : "tensor") << " like the "
             << (buffers ? "memref form (with 'into')"
                         : "tensor form (without 'into')")
             << ", got " << operand.get().getType();
  }
  if (buffers && op->getNumResults() != 0)
    return op.emitOpError()
           << "memref form (with 'into') must have no result, got "
           << op->getNumResults();
  if (!buffers && op->getNumResults() != 1)
    return op.emitOpError()
           << "tensor form must have exactly one result, got "
           << op->getNumResults();
  return success();
}

LogicalResult IndexerRaggedPagedOp::verify() {
  if (failed(verifyAttributes(*this)) || failed(verifyForm(*this)))
    return failure();

  MLIRContext *ctx = getContext();
  Type bf16 = BFloat16Type::get(ctx);
  Type i32 = IntegerType::get(ctx, 32);
  const int64_t heads = getNumIndexHeadsAttr().getInt(),
                dim = getIdxHeadDimAttr().getInt();

  OperandChecker q(*this, "q", getQ().getType());
  if (failed(q.rankAndElement(3, bf16, "bf16")) ||
      failed(q.dimEquals(1, "index heads", heads, "num_index_heads")) ||
      failed(q.dimEquals(2, "head dim", dim, "idx_head_dim")))
    return failure();

  OperandChecker offsets(*this, "input_row_offsets",
                         getInputRowOffsets().getType());
  OperandChecker prefix(*this, "prefix_lens", getPrefixLens().getType());
  OperandChecker cacheLengths(*this, "k_cache_lengths",
                              getKCacheLengths().getType());
  OperandChecker lookup(*this, "k_lookup_table", getKLookupTable().getType());
  OperandChecker maxLengths(*this, "k_max_lengths",
                            getKMaxLengths().getType());
  // Metadata: ui32 (MAX) or signless i32 (computed in the graph), one
  // element type for the op, set by input_row_offsets.
  Type metadata = getMetadataElementType();
  if (!isMetadataElementType(metadata))
    return emitOpError() << "operand 'input_row_offsets' must have element "
                            "type ui32 or i32, got "
                         << metadata;
  std::string sameAsOffsets;
  llvm::raw_string_ostream(sameAsOffsets)
      << metadata << " (the element type of input_row_offsets; one metadata "
                     "element type per op)";
  if (failed(offsets.rankAndElement(1, metadata, sameAsOffsets)) ||
      failed(prefix.rankAndElement(1, metadata, sameAsOffsets)) ||
      failed(cacheLengths.rankAndElement(1, metadata, sameAsOffsets)) ||
      failed(lookup.rankAndElement(2, metadata, sameAsOffsets)) ||
      failed(maxLengths.rankAndElement(2, metadata, sameAsOffsets)) ||
      failed(maxLengths.dimEquals(0, "rows", 1, "")) ||
      failed(maxLengths.dimEquals(1, "[max new tokens, max total keys]", 2,
                                  "")))
    return failure();
  if (offsets.dim(0) == 0)
    return emitOpError() << "operand 'input_row_offsets' dimension 0 "
                            "(batch + 1) must be >= 1, got 0";

  // The index-K cache: bf16, or scale-free e4m3 (CONTRACT.md "Index-K
  // element type"); q stays bf16 either way.
  OperandChecker kBlocks(*this, "k_blocks", getKBlocks().getType());
  const Type keyTypes[] = {bf16, Float8E4M3FNType::get(ctx)};
  if (failed(kBlocks.rankAndElement(6, keyTypes, "bf16 or f8E4M3FN")) ||
      failed(kBlocks.dimEquals(1, "kv pair", 1, "")) ||
      failed(kBlocks.dimEquals(3, "page_size", getBlockSizeAttr().getInt(),
                                "block_size")) ||
      failed(kBlocks.dimEquals(4, "kv heads", 1, "")) ||
      failed(kBlocks.dimEquals(5, "head dim", dim, "idx_head_dim")))
    return failure();
  int64_t numLayers = kBlocks.dim(2);
  if (!ShapedType::isDynamic(numLayers) && getLayerIdxAttr().getInt() >= numLayers)
    return emitOpError() << "attribute 'layer_idx' must be < num_layers = "
                         << numLayers << " (k_blocks dimension 2), got "
                         << getLayerIdxAttr().getInt();

  // Batch consistency: every static batch size agrees with the first one.
  struct BatchSource {
    StringRef what;
    int64_t batch;
  };
  int64_t offsetsBatch =
      ShapedType::isDynamic(offsets.dim(0)) ? offsets.dim(0) : offsets.dim(0) - 1;
  BatchSource sources[] = {
      {"input_row_offsets dimension 0 minus 1", offsetsBatch},
      {"prefix_lens dimension 0", prefix.dim(0)},
      {"k_cache_lengths dimension 0", cacheLengths.dim(0)},
      {"k_lookup_table dimension 0", lookup.dim(0)}};
  const BatchSource *reference = nullptr;
  for (const BatchSource &source : sources) {
    if (ShapedType::isDynamic(source.batch))
      continue;
    if (!reference) {
      reference = &source;
      continue;
    }
    if (source.batch != reference->batch)
      return emitOpError() << "batch size mismatch: " << source.what << " is "
                           << source.batch << " but " << reference->what
                           << " is " << reference->batch;
  }

  // The result (tensor form) or the destination (memref form).
  StringRef destName = hasBufferSemantics() ? "out" : "result";
  OperandChecker dest(*this, destName, getDestination().getType());
  if (failed(dest.rankAndElement(3, i32, "i32")) ||
      failed(dest.dimEquals(0, "index heads", heads, "num_index_heads")) ||
      failed(dest.dimEquals(2, "topk", getTopkAttr().getInt(), "topk")))
    return failure();
  if (!ShapedType::isDynamic(q.dim(0)) &&
      failed(dest.dimEquals(1, "rows", q.dim(0), "q dimension 0")))
    return failure();
  return success();
}

LogicalResult IndexerRaggedPagedOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location>, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  Adaptor adaptor(operands, attributes, properties, regions);
  // The memref form (with a destination, or memref inputs) has no result.
  if (adaptor.getOut() || !isa<TensorType>(adaptor.getQ().getType()))
    return success();
  // result: tensor<num_index_heads x rows x topk x i32>. Anything that is not
  // known (yet) or invalid is left dynamic: verify() reports it by name.
  // The custom parser infers before it moves the attr-dict into properties,
  // so an attribute may still be in `attributes` only.
  auto positiveOrDynamic = [&](IntegerAttr attr, StringRef name) {
    if (!attr && attributes)
      attr = attributes.getAs<IntegerAttr>(name);
    return attr && attr.getInt() >= 1 ? attr.getInt() : ShapedType::kDynamic;
  };
  auto qType = dyn_cast<RankedTensorType>(adaptor.getQ().getType());
  int64_t rows = qType && qType.getRank() == 3 ? qType.getDimSize(0)
                                               : ShapedType::kDynamic;
  inferredReturnTypes.push_back(RankedTensorType::get(
      {positiveOrDynamic(adaptor.getNumIndexHeadsAttr(), "num_index_heads"),
       rows, positiveOrDynamic(adaptor.getTopkAttr(), "topk")},
      IntegerType::get(ctx, 32)));
  return success();
}

void IndexerRaggedPagedOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // The tensor form is pure; the memref form reads its inputs and writes out.
  if (!hasBufferSemantics())
    return;
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (&operand == &getOutMutable()[0])
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

bool IndexerRaggedPagedOp::isMetadataElementType(Type type) {
  auto integer = dyn_cast<IntegerType>(type);
  return integer && integer.getWidth() == 32 &&
         (integer.isUnsigned() || integer.isSignless());
}

Type IndexerRaggedPagedOp::getMetadataElementType() {
  return cast<ShapedType>(getInputRowOffsets().getType()).getElementType();
}

LogicalResult IndexerRaggedPagedOp::reifyResultShapes(
    OpBuilder &builder, ReifiedRankedShapedTypeDims &reifiedReturnShapes) {
  // The memref form has no result.
  if (hasBufferSemantics())
    return success();
  // result: [num_index_heads, rows of q, topk].
  OpFoldResult rows =
      tensor::getMixedSize(builder, getLoc(), getQ(), /*dim=*/0);
  reifiedReturnShapes.push_back({builder.getIndexAttr(getNumIndexHeads()),
                                 rows, builder.getIndexAttr(getTopk())});
  return success();
}

namespace {
/// tensor.cast(%x : more static -> less static) feeding the op: use %x
/// directly. The new op may infer a more static result type; a tensor.cast
/// back to the old type keeps the users unchanged. Skipped when the more
/// static types would make the op invalid (a shape the kernels would refuse
/// at run time stays a run-time error rather than a broken rewrite).
struct FoldStaticInfoErasingCasts
    : public OpRewritePattern<IndexerRaggedPagedOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(IndexerRaggedPagedOp op,
                                PatternRewriter &rewriter) const override {
    if (op.hasBufferSemantics())
      return failure();
    SmallVector<Value> operands;
    bool folded = false;
    for (Value operand : op->getOperands()) {
      auto cast = operand.getDefiningOp<tensor::CastOp>();
      if (cast && tensor::canFoldIntoConsumerOp(cast)) {
        operands.push_back(cast.getSource());
        folded = true;
      } else {
        operands.push_back(operand);
      }
    }
    if (!folded)
      return failure();

    // The builder infers the (possibly more static) result type.
    auto replacement = IndexerRaggedPagedOp::create(rewriter, op.getLoc(),
                                                    operands, op->getAttrs());
    {
      // Probe quietly: an invalid combination is simply not folded.
      ScopedDiagnosticHandler quiet(op.getContext(),
                                    [](Diagnostic &) { return success(); });
      if (failed(mlir::verify(replacement))) {
        rewriter.eraseOp(replacement);
        return failure();
      }
    }
    Value result = replacement.getResult();
    if (result.getType() != op.getResult().getType())
      result = tensor::CastOp::create(rewriter, op.getLoc(),
                                      op.getResult().getType(), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void IndexerRaggedPagedOp::getCanonicalizationPatterns(
    RewritePatternSet &results, MLIRContext *context) {
  results.add<FoldStaticInfoErasingCasts>(context);
}
