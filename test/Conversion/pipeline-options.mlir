// The options of msa-lower-to-runtime and msa-to-llvm are enums: a value
// that is not one of theirs is a clear error and a non-zero exit, never an
// abort (`not` without --crash fails on a crash) and never extra passes.
// RUN: not msa-opt %s --msa-to-llvm='target=cpu}' 2>&1 | FileCheck %s --check-prefix=BRACE --implicit-check-not="PLEASE submit" --implicit-check-not="LLVM ERROR"
// RUN: not msa-opt %s --msa-to-llvm='target="cpu},cse,canonicalize"' 2>&1 | FileCheck %s --check-prefix=SPLICE --implicit-check-not="PLEASE submit" --implicit-check-not="LLVM ERROR"
// RUN: not msa-opt %s --msa-to-llvm='target=gpu' 2>&1 | FileCheck %s --check-prefix=GPU --implicit-check-not="PLEASE submit"
// RUN: not msa-opt %s --msa-to-llvm='on-error=ignore' 2>&1 | FileCheck %s --check-prefix=ONERROR --implicit-check-not="PLEASE submit"
// RUN: not msa-opt %s --pass-pipeline='builtin.module(msa-lower-to-runtime{target=cpu},cse})' 2>&1 | FileCheck %s --check-prefix=PASS --implicit-check-not="PLEASE submit"
// RUN: msa-opt %s --msa-to-llvm='target=auto on-error=continue' --mlir-print-ir-after-all 2>&1 | FileCheck %s --check-prefix=OK
// BRACE: Cannot find option named 'cpu}'!
// SPLICE: Cannot find option named 'cpu},cse,canonicalize'!
// GPU: Cannot find option named 'gpu'!
// ONERROR: Cannot find option named 'ignore'!
// PASS: 'cse}' does not refer to a registered pass or pass pipeline
// The valid spelling runs exactly the pipeline's passes, msa-lower-to-runtime
// with both options.
// OK: IR Dump After OneShotBufferizePass
// OK: IR Dump After MSALowerToRuntime
// OK: call @msa_indexer_ragged_paged_auto(
// OK-NEXT: call @msa_runtime_record_error(
// OK-NOT: IR Dump After CSE
// OK: IR Dump After {{.*}}CheckLoweredToLLVM
func.func @indexer(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>,
    %prefix: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xbf16>,
    %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>)
    -> tensor<4x?x16xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>,
        tensor<?x1x2x128x1x128xbf16>, tensor<?xui32>, tensor<?x?xui32>,
        tensor<1x2xui32>
  return %r : tensor<4x?x16xi32>
}
