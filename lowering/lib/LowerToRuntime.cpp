//===- LowerToRuntime.cpp - msa.indexer_ragged_paged -> kernel calls ------===//
//
// The only place that knows both the op and the kernels: it turns the memref
// form of the op into
//
//   %status = func.call @msa_indexer_ragged_paged_<target>(<8 memrefs>,
//               <num_index_heads, idx_head_dim, block_size, topk,
//                init_blocks, local_blocks, layer_idx : i32>, <scale : f32>,
//               <order : i32>) : (...) -> i32
//   cf.assert (%status == 0), "..."
//
// The callee is declared with llvm.emit_c_interface, so lowered code calls
// `_mlir_ciface_msa_indexer_ragged_paged_<target>` with memref descriptors,
// the entries declared in kernels_cpu/include/msa/msa_kernels.h.
//
//===----------------------------------------------------------------------===//
#include "msa/Lowering/Passes.h"
#include "msa/Dialect/MSAOps.h"

#include "msa/msa_cuda_limits.h"
#include "msa/msa_kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir {
namespace msa {
#define GEN_PASS_DEF_MSALOWERTORUNTIME
#include "msa/Lowering/Passes.h.inc"
} // namespace msa
} // namespace mlir

using namespace mlir;
using namespace mlir::msa;

namespace {

/// memref<?x...x?xT, strided<[?, ..., ?], offset: ?>>: every memref of the
/// same element type and rank casts to it, so one declaration serves all.
MemRefType getFullyDynamicType(MemRefType type) {
  SmallVector<int64_t> dynamic(type.getRank(), ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic,
                                       dynamic);
  return MemRefType::get(dynamic, type.getElementType(), layout);
}

/// Finds or declares `name` with the given type and llvm.emit_c_interface.
FailureOr<func::FuncOp> getOrDeclareEntry(ModuleOp module, Operation *user,
                                          StringRef name,
                                          FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name)) {
    if (existing.getFunctionType() != type)
      return user->emitError() << "symbol '" << name
                               << "' already exists with type "
                               << existing.getFunctionType()
                               << ", but the msa runtime entry has type "
                               << type;
    return existing;
  }
  OpBuilder builder = OpBuilder::atBlockBegin(module.getBody());
  auto entry = func::FuncOp::create(builder, module.getLoc(), name, type);
  entry.setPrivate();
  entry->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                 builder.getUnitAttr());
  return entry;
}

/// The entry for `op` under `target`, or failure (with an error) when the
/// op cannot be served by that target.
FailureOr<StringRef> selectEntry(IndexerRaggedPagedOp op, StringRef target) {
  if (target == "cpu")
    return StringRef(MSA_RUNTIME_ENTRY_CPU);
  const char *unsupported = msa_cuda_unsupported_reason(
      op.getNumIndexHeads(), op.getIdxHeadDim(), op.getBlockSize(),
      op.getTopk());
  if (target == "cuda") {
    if (unsupported)
      return op.emitError() << "cannot lower to target=cuda: " << unsupported;
    return StringRef(MSA_RUNTIME_ENTRY_CUDA);
  }
  // target == "auto": MAX-style fallback to the CPU kernel.
  if (unsupported) {
    op.emitRemark() << "target=auto falls back to the CPU kernel: "
                    << unsupported;
    return StringRef(MSA_RUNTIME_ENTRY_CPU);
  }
  return StringRef(MSA_RUNTIME_ENTRY_AUTO);
}

LogicalResult lowerOp(IndexerRaggedPagedOp op, StringRef target,
                      ModuleOp module) {
  if (!op.hasBufferSemantics())
    return op.emitError(
        "msa-lower-to-runtime needs the memref form of the op; run "
        "--one-shot-bufferize first (or use the msa-to-llvm pipeline)");
  FailureOr<StringRef> entryName = selectEntry(op, target);
  if (failed(entryName))
    return failure();

  OpBuilder builder(op);
  Location loc = op.getLoc();
  SmallVector<Value> args;
  SmallVector<Type> argTypes;
  for (Value operand : op->getOperands()) {
    auto type = cast<MemRefType>(operand.getType());
    if (type.getMemorySpace())
      return op.emitError()
             << "msa-lower-to-runtime supports memrefs in the default memory "
                "space only (device pointers are recognised at run time), "
                "got "
             << type;
    MemRefType dynamicType = getFullyDynamicType(type);
    args.push_back(
        memref::CastOp::create(builder, loc, dynamicType, operand));
    argTypes.push_back(dynamicType);
  }
  // One constant per distinct value keeps the call readable.
  llvm::SmallDenseMap<int64_t, Value> i32Constants;
  auto i32 = [&](int64_t value) -> Value {
    Value &constant = i32Constants[value];
    if (!constant)
      constant = arith::ConstantIntOp::create(builder, loc, value, 32);
    return constant;
  };
  for (int64_t value :
       {op.getNumIndexHeads(), op.getIdxHeadDim(), op.getBlockSize(),
        op.getTopk(), op.getInitBlocks(), op.getLocalBlocks(),
        op.getLayerIdx()})
    args.push_back(i32(value));
  args.push_back(arith::ConstantOp::create(builder, loc, op.getScaleAttr()));
  args.push_back(i32(op.getOrder() == Order::block ? MSA_ORDER_BLOCK
                                                   : MSA_ORDER_SCORE));
  for (size_t i = argTypes.size(); i < args.size(); ++i)
    argTypes.push_back(args[i].getType());

  FunctionType entryType =
      builder.getFunctionType(argTypes, {builder.getI32Type()});
  FailureOr<func::FuncOp> entry =
      getOrDeclareEntry(module, op, *entryName, entryType);
  if (failed(entry))
    return failure();
  auto call = func::CallOp::create(builder, loc, *entry, args);
  Value ok = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq,
                                   call.getResult(0), i32(MSA_STATUS_OK));
  cf::AssertOp::create(
      builder, loc, ok,
      ("msa.indexer_ragged_paged: the " + *entryName +
       " kernel reported an error (its message is printed above)")
          .str());
  op.erase();
  return success();
}

struct MSALowerToRuntimePass
    : public msa::impl::MSALowerToRuntimeBase<MSALowerToRuntimePass> {
  using MSALowerToRuntimeBase::MSALowerToRuntimeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (target != "cpu" && target != "cuda" && target != "auto") {
      module.emitError() << "msa-lower-to-runtime: unknown target '" << target
                         << "', expected cpu, cuda or auto";
      return signalPassFailure();
    }
    SmallVector<IndexerRaggedPagedOp> ops;
    module.walk([&](IndexerRaggedPagedOp op) { ops.push_back(op); });
    for (IndexerRaggedPagedOp op : ops)
      if (failed(lowerOp(op, target, module)))
        return signalPassFailure();
  }
};

} // namespace
