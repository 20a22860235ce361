//===- MSAOps.td - msa dialect ops -------------------------*- tablegen -*-===//

#ifndef MSA_OPS_TD
#define MSA_OPS_TD

include "msa/Dialect/MSADialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Operand kinds are kept loose here on purpose: verify() checks ranks,
// element types and shapes itself so that every message names the operand,
// the expected and the actual value (docs/CONTRACT.md "Static checks").
def MSA_TensorOrMemRef : AnyTypeOf<[AnyRankedTensor, AnyMemRef],
                                   "ranked tensor or memref">;

def MSA_IndexerRaggedPagedOp : MSA_Op<"indexer_ragged_paged", [
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<ReifyRankedShapedTypeOpInterface,
                              ["reifyResultShapes"]>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "select the top-k key blocks per (index head, query row)";
  let description = [{
    The MiniMax-M3 sparse-attention indexer over a ragged batch and a paged
    index-K cache (bf16, or scale-free fp8 e4m3 `f8E4M3FN`); mirrors Modular
    MAX's `mo.msa.indexer.ragged.paged`.
    For every index head `h` and query row `t` (row `i` of sequence `b`) it
    scores every key block the row may see (keys `[0, prefix_lens[b] + i + 1)`)
    with `score = max over the block's keys of scale * dot(q[t, h], k)`, forces
    the first `init_blocks` and the last `local_blocks` blocks, and returns the
    ids of the `topk` best blocks, `-1` padded.

    Operands follow MAX's order:

    | operand | type | shape |
    |---|---|---|
    | `q` | bf16 | `[rows, num_index_heads, idx_head_dim]` |
    | `input_row_offsets` | ui32 or i32 | `[batch + 1]` |
    | `prefix_lens` | ui32 or i32 | `[batch]` |
    | `k_blocks` | bf16 or f8E4M3FN | `[num_pages, 1, num_layers, block_size, 1, idx_head_dim]` |
    | `k_cache_lengths` | ui32 or i32 | `[batch]` |
    | `k_lookup_table` | ui32 or i32 | `[batch, max_pages]` |
    | `k_max_lengths` | ui32 or i32 | `[1, 2]` |
    | result / `out` | i32 | `[num_index_heads, rows, topk]` |

    The five metadata operands share one element type: `ui32` (MAX's) or
    signless `i32` (what `arith`, `linalg` and `tensor` compute with, so that
    a graph can compute offsets and lengths itself). Either way the values
    are read as unsigned 32-bit integers. An `f8E4M3FN` `k_blocks` holds the
    key values themselves (no scale); every e4m3 value is exact in bf16, so
    the op selects the same ids as with the same keys stored in bf16, and the
    e4m3 NaN bytes (0x7F, 0xFF) are NaN keys. What every operand means, the page
    mapping, scoring, forcing, output order and the run-time errors are
    specified in [the op contract](../CONTRACT.md).

    `tensor.dim` of the result resolves to `q`'s dimension 0 (the op
    implements `ReifyRankedShapedTypeOpInterface`), and canonicalization
    absorbs `tensor.cast` producers that only erase static information.

    The op has two forms:

    * tensor form (what a graph compiler emits): tensor operands, one tensor
      result whose type is inferred as
      `tensor<num_index_heads x rows x topk x i32>`;
    * memref form (after `--one-shot-bufferize`): memref operands plus the
      destination memref after `into`, no result. The op reads its inputs and
      writes every element of `out`.

    Attributes (MAX's names): `num_index_heads`, `idx_head_dim`, `block_size`
    (equal to the cache's page size), `topk`, `init_blocks`, `local_blocks`,
    `layer_idx`, `scale` (f32), and `order` (`#msa.order<score>` by default,
    or `#msa.order<block>` for ascending block ids).

    Example: the MiniMax-M3 configuration on a ragged batch, at tensor level
    and after bufferization:

    ```mlir
    %ids = msa.indexer_ragged_paged %q, %offsets, %prefix_lens, %k_blocks,
             %k_cache_lengths, %lookup, %max_lengths
             {num_index_heads = 4, idx_head_dim = 128, block_size = 128,
              topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0,
              scale = 0.0883883461 : f32}
           : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>,
             tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>,
             tensor<1x2xui32>
    // %ids : tensor<4x?x16xi32>

    msa.indexer_ragged_paged %q, %offsets, %prefix_lens, %k_blocks,
        %k_cache_lengths, %lookup, %max_lengths into %out
        {num_index_heads = 4, idx_head_dim = 128, block_size = 128,
         topk = 16, init_blocks = 0, local_blocks = 1, layer_idx = 0,
         scale = 0.0883883461 : f32, order = #msa.order<block>}
      : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>,
        memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>,
        memref<1x2xui32> into memref<4x?x16xi32>
    ```
  }];

  let arguments = (ins
    MSA_TensorOrMemRef:$q,
    MSA_TensorOrMemRef:$input_row_offsets,
    MSA_TensorOrMemRef:$prefix_lens,
    MSA_TensorOrMemRef:$k_blocks,
    MSA_TensorOrMemRef:$k_cache_lengths,
    MSA_TensorOrMemRef:$k_lookup_table,
    MSA_TensorOrMemRef:$k_max_lengths,
    Optional<AnyMemRef>:$out,
    I64Attr:$num_index_heads,
    I64Attr:$idx_head_dim,
    I64Attr:$block_size,
    I64Attr:$topk,
    I64Attr:$init_blocks,
    I64Attr:$local_blocks,
    I64Attr:$layer_idx,
    F32Attr:$scale,
    DefaultValuedAttr<MSA_OrderAttr, "::mlir::msa::Order::score">:$order
  );
  let results = (outs Optional<AnyRankedTensor>:$result);

  let assemblyFormat = [{
    $q `,` $input_row_offsets `,` $prefix_lens `,` $k_blocks `,`
    $k_cache_lengths `,` $k_lookup_table `,` $k_max_lengths
    (`into` $out^)? attr-dict `:`
    type($q) `,` type($input_row_offsets) `,` type($prefix_lens) `,`
    type($k_blocks) `,` type($k_cache_lengths) `,` type($k_lookup_table) `,`
    type($k_max_lengths) (`into` type($out)^)?
  }];

  let hasVerifier = 1;
  let hasCanonicalizer = 1;

  let extraClassDeclaration = [{
    /// True for the memref form (after bufferization).
    bool hasBufferSemantics() { return getOut() != nullptr; }
    /// ui32 or signless i32: the element types metadata operands may have.
    static bool isMetadataElementType(::mlir::Type type);
    /// The metadata element type of this op (that of input_row_offsets).
    ::mlir::Type getMetadataElementType();
    /// The result tensor (tensor form) or the destination memref.
    ::mlir::Value getDestination() {
      return hasBufferSemantics() ? ::mlir::Value(getOut())
                                  : ::mlir::Value(getResult());
    }
  }];
}

#endif // MSA_OPS_TD
