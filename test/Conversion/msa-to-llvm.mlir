// The msa-to-llvm pipeline takes tensor-level IR to the LLVM dialect, ready
// for mlir-runner and mlir-translate.
// RUN: msa-opt %s --msa-to-llvm | FileCheck %s --check-prefix=CPU
// RUN: msa-opt %s --msa-to-llvm="target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: msa-opt %s --msa-to-llvm="target=auto" | FileCheck %s --check-prefix=AUTO
// RUN: msa-opt %s --msa-to-llvm | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR

// CPU-NOT: msa.
// CPU-NOT: memref.
// CPU-DAG: llvm.func @_mlir_ciface_msa_indexer_ragged_paged_cpu(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32, i32, i32, i32, i32, i32, i32, f32, i32) -> i32
// CPU-DAG: llvm.call @msa_indexer_ragged_paged_cpu(
// CPU-DAG: llvm.call @msa_runtime_exit_on_error(
// CUDA: llvm.func @_mlir_ciface_msa_indexer_ragged_paged_cuda(
// AUTO: llvm.func @_mlir_ciface_msa_indexer_ragged_paged_auto(
// LLVMIR: declare i32 @_mlir_ciface_msa_indexer_ragged_paged_cpu(ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32, i32, float, i32)
// LLVMIR: define {{.*}}@indexer(
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

// msa-opt registers the upstream ConvertToLLVM extensions, so the generic
// -convert-to-llvm also finishes the job after msa-lower-to-runtime.
// RUN: msa-opt %s --one-shot-bufferize="bufferize-function-boundaries" --msa-lower-to-runtime --expand-strided-metadata --lower-affine --convert-to-llvm --reconcile-unrealized-casts | FileCheck %s --check-prefix=GENERIC
// GENERIC-NOT: func.func
// GENERIC-NOT: memref.
// GENERIC: llvm.func @_mlir_ciface_msa_indexer_ragged_paged_cpu(
