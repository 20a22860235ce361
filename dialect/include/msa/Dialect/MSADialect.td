//===- MSADialect.td - the msa dialect ---------------------*- tablegen -*-===//
//
// The msa dialect: MiniMax-M3 sparse attention ("MSA") as first-class ops.
//
//===----------------------------------------------------------------------===//

#ifndef MSA_DIALECT_TD
#define MSA_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def MSA_Dialect : Dialect {
  let name = "msa";
  let summary = "MiniMax-M3 sparse attention (MSA) ops";
  let description = [{
    The `msa` dialect carries the MiniMax-M3 sparse-attention indexer as a
    first-class op, mirroring Modular MAX's `mo.msa.indexer.ragged.paged`
    graph op. The op exists at tensor level (what a graph compiler emits) and
    at memref level (after One-Shot Bufferize); the `msa-lower-to-runtime`
    pass turns the memref form into a call of the CPU or CUDA kernel library.
  }];
  let cppNamespace = "::mlir::msa";
  let useDefaultAttributePrinterParser = 1;
}

class MSA_Op<string mnemonic, list<Trait> traits = []>
    : Op<MSA_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums and attributes
//===----------------------------------------------------------------------===//

def MSA_OrderScore : I32EnumAttrCase<"score", 0>;
def MSA_OrderBlock : I32EnumAttrCase<"block", 1>;
def MSA_OrderEnum : I32EnumAttr<"Order",
    "order of the selected block ids in each output row",
    [MSA_OrderScore, MSA_OrderBlock]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::msa";
}

def MSA_OrderAttr : EnumAttr<MSA_Dialect, MSA_OrderEnum, "order"> {
  let assemblyFormat = "`<` $value `>`";
  let description = [{
    `score` (the default, as MAX): ids in selection order, forced blocks
    first (init blocks, then local blocks, each ascending), then unforced
    blocks by descending score. `block`: the same set sorted by ascending
    block id, `-1` padding last.
  }];
}

#endif // MSA_DIALECT_TD
