//===- LowerToRuntime.cpp - msa.indexer_ragged_paged -> kernel calls ------===//
//
// The only place that knows both the op and the kernels: it turns the memref
// form of the op into
//
//   %status = func.call @msa_indexer_ragged_paged_<target>(<8 memrefs>,
//               <num_index_heads, idx_head_dim, block_size, topk,
//                init_blocks, local_blocks, layer_idx : i32>, <scale : f32>,
//               <order : i32>) : (...) -> i32
//   func.call @msa_runtime_exit_on_error(%status)   // on-error=exit
//   func.call @msa_runtime_record_error(%status)    // on-error=continue
//
// The callee is declared with llvm.emit_c_interface, so lowered code calls
// `_mlir_ciface_msa_indexer_ragged_paged_<target>` with memref descriptors,
// the entries declared in kernels_cpu/include/msa/msa_kernels.h; an
// f8E4M3FN k_blocks calls `..._<target>_f8e4m3fn` (one entry per key type).
//
//===----------------------------------------------------------------------===//
#include "msa/Lowering/Passes.h"
#include "msa/Dialect/MSAOps.h"

#include "msa/msa_cuda_limits.h"
#include "msa/msa_kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSwitch.h"

#include <string>

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

/// Finds or declares `name` with the given type in `symbolTable` (the
/// nearest symbol table around the op), with llvm.emit_c_interface when
/// `cInterface` (the memref entries) and without (plain C functions).
FailureOr<func::FuncOp> getOrDeclareFunction(Operation *symbolTable,
                                             Operation *user, StringRef name,
                                             FunctionType type,
                                             bool cInterface) {
  if (auto existing = dyn_cast_or_null<func::FuncOp>(
          SymbolTable::lookupSymbolIn(symbolTable, name))) {
    if (existing.getFunctionType() != type)
      return user->emitError() << "symbol '" << name
                               << "' already exists with type "
                               << existing.getFunctionType()
                               << ", but the msa runtime entry has type "
                               << type;
    return existing;
  }
  if (SymbolTable::lookupSymbolIn(symbolTable, name))
    return user->emitError() << "symbol '" << name
                             << "' already exists and is not a func.func; "
                                "the msa runtime needs that name";
  OpBuilder builder =
      OpBuilder::atBlockBegin(&symbolTable->getRegion(0).front());
  auto function = func::FuncOp::create(builder, user->getLoc(), name, type);
  function.setPrivate();
  if (cInterface)
    function->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                      builder.getUnitAttr());
  return function;
}

/// Signless i32 metadata memrefs are handed to the entry as the ui32 memrefs
/// it is declared with: same bits, same layout; no memref op changes an
/// element type, so an unrealized cast bridges them until the LLVM
/// conversion gives both the same descriptor type.
Value asEntryElementType(OpBuilder &builder, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  auto integer = dyn_cast<IntegerType>(type.getElementType());
  if (!integer || !integer.isSignless() || integer.getWidth() != 32)
    return memref;
  auto ui32 = IntegerType::get(builder.getContext(), 32, IntegerType::Unsigned);
  return UnrealizedConversionCastOp::create(builder, loc,
                                            type.clone(ui32), memref)
      .getResult(0);
}

/// The back end's entry for `op` under `target` (the bf16 name), or failure
/// (with an error) when the op cannot be served by that target.
FailureOr<StringRef> selectBackEndEntry(IndexerRaggedPagedOp op,
                                        RuntimeTarget target) {
  if (target == RuntimeTarget::CPU)
    return StringRef(MSA_RUNTIME_ENTRY_CPU);
  const char *unsupported = msa_cuda_unsupported_reason(
      op.getNumIndexHeads(), op.getIdxHeadDim(), op.getBlockSize(),
      op.getTopk());
  if (target == RuntimeTarget::CUDA) {
    if (unsupported)
      return op.emitError() << "cannot lower to target=cuda: " << unsupported;
    return StringRef(MSA_RUNTIME_ENTRY_CUDA);
  }
  // RuntimeTarget::Auto: MAX-style fallback to the CPU kernel.
  if (unsupported) {
    op.emitRemark() << "target=auto falls back to the CPU kernel: "
                    << unsupported;
    return StringRef(MSA_RUNTIME_ENTRY_CPU);
  }
  return StringRef(MSA_RUNTIME_ENTRY_AUTO);
}

/// The entry for `op` under `target`: the back end's entry for the index-K
/// element type, since the k_blocks memref type is part of an entry's
/// signature (msa_kernels.h): the bf16 name, or that name with
/// MSA_RUNTIME_ENTRY_F8_SUFFIX for f8E4M3FN (the verifier allows no other).
FailureOr<std::string> selectEntry(IndexerRaggedPagedOp op,
                                   RuntimeTarget target) {
  FailureOr<StringRef> backEnd = selectBackEndEntry(op, target);
  if (failed(backEnd))
    return failure();
  Type keyType = cast<MemRefType>(op.getKBlocks().getType()).getElementType();
  if (isa<Float8E4M3FNType>(keyType))
    return (*backEnd + MSA_RUNTIME_ENTRY_F8_SUFFIX).str();
  return backEnd->str();
}

LogicalResult lowerOp(IndexerRaggedPagedOp op, RuntimeTarget target,
                      RuntimeErrorMode onError) {
  if (!op.hasBufferSemantics())
    return op.emitError(
        "msa-lower-to-runtime needs the memref form of the op; run "
        "--one-shot-bufferize first (or use the msa-to-llvm pipeline)");
  FailureOr<std::string> entryName = selectEntry(op, target);
  if (failed(entryName))
    return failure();

  OpBuilder builder(op);
  Location loc = op.getLoc();
  SmallVector<Value> args;
  SmallVector<Type> argTypes;
  const Value out = op.getOut();
  for (Value operand : op->getOperands()) {
    auto type = cast<MemRefType>(operand.getType());
    if (type.getMemorySpace())
      return op.emitError()
             << "msa-lower-to-runtime supports memrefs in the default memory "
                "space only (device pointers are recognised at run time), "
                "got "
             << type;
    Value dynamic = memref::CastOp::create(
        builder, loc, getFullyDynamicType(type), operand);
    if (operand != out)
      dynamic = asEntryElementType(builder, loc, dynamic);
    args.push_back(dynamic);
    argTypes.push_back(dynamic.getType());
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

  Operation *symbolTable = SymbolTable::getNearestSymbolTable(op);
  FunctionType entryType =
      builder.getFunctionType(argTypes, {builder.getI32Type()});
  FailureOr<func::FuncOp> entry = getOrDeclareFunction(
      symbolTable, op, *entryName, entryType, /*cInterface=*/true);
  if (failed(entry))
    return failure();
  auto call = func::CallOp::create(builder, loc, *entry, args);

  // The status goes to the runtime helper of the chosen error mode.
  StringRef handlerName = onError == RuntimeErrorMode::Exit
                              ? MSA_RUNTIME_EXIT_ON_ERROR
                              : MSA_RUNTIME_RECORD_ERROR;
  FailureOr<func::FuncOp> handler = getOrDeclareFunction(
      symbolTable, op, handlerName,
      builder.getFunctionType({builder.getI32Type()}, {}),
      /*cInterface=*/false);
  if (failed(handler))
    return failure();
  func::CallOp::create(builder, loc, *handler, call.getResults());
  op.erase();
  return success();
}

struct MSALowerToRuntimePass
    : public msa::impl::MSALowerToRuntimeBase<MSALowerToRuntimePass> {
  using MSALowerToRuntimeBase::MSALowerToRuntimeBase;

  void runOnOperation() override {
    SmallVector<IndexerRaggedPagedOp> ops;
    getOperation().walk([&](IndexerRaggedPagedOp op) { ops.push_back(op); });
    for (IndexerRaggedPagedOp op : ops)
      if (failed(lowerOp(op, target, onError)))
        return signalPassFailure();
  }
};

} // namespace

std::optional<RuntimeTarget> msa::parseRuntimeTarget(StringRef name) {
  return llvm::StringSwitch<std::optional<RuntimeTarget>>(name)
      .Case("cpu", RuntimeTarget::CPU)
      .Case("cuda", RuntimeTarget::CUDA)
      .Case("auto", RuntimeTarget::Auto)
      .Default(std::nullopt);
}

std::optional<RuntimeErrorMode> msa::parseRuntimeErrorMode(StringRef name) {
  return llvm::StringSwitch<std::optional<RuntimeErrorMode>>(name)
      .Case("exit", RuntimeErrorMode::Exit)
      .Case("continue", RuntimeErrorMode::Continue)
      .Default(std::nullopt);
}
