// msa-to-llvm with an f8E4M3FN index-K: tensor-level IR to the LLVM dialect
// and LLVM IR. LLVM has no fp8 type: MLIR's LLVM type converter turns
// f8E4M3FN into i8, so the k_blocks descriptor holds i8 pointers and an
// f8E4M3FN memref.global becomes an i8 array holding the bytes as written.
// RUN: msa-opt %s --msa-to-llvm | FileCheck %s --check-prefixes=LLVM -DT=cpu
// RUN: msa-opt %s --msa-to-llvm="target=cuda" | FileCheck %s --check-prefixes=LLVM -DT=cuda
// RUN: msa-opt %s --msa-to-llvm="target=auto on-error=continue" | FileCheck %s --check-prefixes=LLVM -DT=auto
// RUN: msa-opt %s --msa-to-llvm | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR

// LLVM-NOT: msa.
// LLVM-DAG: llvm.mlir.global private constant @keys({{.*}}) {{.*}} : !llvm.array<4 x i8>
// LLVM-DAG: llvm.func @_mlir_ciface_msa_indexer_ragged_paged_[[T]]_f8e4m3fn(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, i32, i32, i32, i32, i32, i32, i32, f32, i32) -> i32
// The k_blocks descriptor the wrapper passes: rank 6, i8 data.
// LLVM-DAG: llvm.alloca %{{.*}} x !llvm.struct<(ptr, ptr, i64, array<6 x i64>, array<6 x i64>)>
// LLVM-DAG: llvm.call @_mlir_ciface_msa_indexer_ragged_paged_[[T]]_f8e4m3fn(
// LLVMIR-DAG: @keys = private constant [4 x i8] c"\01\80\B8\7F"
// LLVMIR-DAG: declare i32 @_mlir_ciface_msa_indexer_ragged_paged_cpu_f8e4m3fn(ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32, i32, float, i32)
// LLVMIR-DAG: define {{.*}}@indexer(

// Bytes: the smallest subnormal, -0, -1.0, NaN.
memref.global "private" constant @keys : memref<4xf8E4M3FN> = dense<[0x01, 0x80, 0xB8, 0x7F]>

func.func @key_bytes() -> memref<4xf8E4M3FN> {
  %k = memref.get_global @keys : memref<4xf8E4M3FN>
  return %k : memref<4xf8E4M3FN>
}

func.func @indexer(%q: tensor<?x4x128xbf16>, %off: tensor<?xui32>,
    %prefix: tensor<?xui32>, %kb: tensor<?x1x2x128x1x128xf8E4M3FN>,
    %kcl: tensor<?xui32>, %lut: tensor<?x?xui32>, %kmax: tensor<1x2xui32>)
    -> tensor<4x?x16xi32> {
  %r = msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : tensor<?x4x128xbf16>, tensor<?xui32>, tensor<?xui32>,
        tensor<?x1x2x128x1x128xf8E4M3FN>, tensor<?xui32>, tensor<?x?xui32>,
        tensor<1x2xui32>
  return %r : tensor<4x?x16xi32>
}
