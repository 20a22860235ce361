// msa-lower-to-runtime: the element type of k_blocks picks the entry. An
// f8E4M3FN index-K calls the back end's entry with the suffix _f8e4m3fn,
// declared with the f8E4M3FN memref; a bf16 one the unsuffixed entry. A
// module with both key types declares both entries, once each.
// RUN: msa-opt %s --msa-lower-to-runtime="target=cpu" | FileCheck %s --check-prefixes=CHECK,EXIT -DT=cpu
// RUN: msa-opt %s --msa-lower-to-runtime="target=cuda" | FileCheck %s --check-prefixes=CHECK,EXIT -DT=cuda
// RUN: msa-opt %s --msa-lower-to-runtime="target=auto" | FileCheck %s --check-prefixes=CHECK,EXIT -DT=auto
// RUN: msa-opt %s --msa-lower-to-runtime="target=cpu on-error=continue" | FileCheck %s --check-prefixes=CHECK,CONT -DT=cpu
// RUN: msa-opt %s --msa-lower-to-runtime="target=cuda on-error=continue" | FileCheck %s --check-prefixes=CHECK,CONT -DT=cuda
// RUN: msa-opt %s --msa-lower-to-runtime="target=auto on-error=continue" | FileCheck %s --check-prefixes=CHECK,CONT -DT=auto

// CHECK-DAG: func.func private @msa_indexer_ragged_paged_[[T]]_f8e4m3fn(memref<?x?x?xbf16, strided<[?, ?, ?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?x?x?x?x?x?xf8E4M3FN, strided<[?, ?, ?, ?, ?, ?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?x?xui32, strided<[?, ?], offset: ?>>, memref<?x?xui32, strided<[?, ?], offset: ?>>, memref<?x?x?xi32, strided<[?, ?, ?], offset: ?>>, i32, i32, i32, i32, i32, i32, i32, f32, i32) -> i32 attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @msa_indexer_ragged_paged_[[T]](memref<?x?x?xbf16, strided<[?, ?, ?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?x?x?x?x?x?xbf16, strided<[?, ?, ?, ?, ?, ?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?x?xui32, strided<[?, ?], offset: ?>>, memref<?x?xui32, strided<[?, ?], offset: ?>>, memref<?x?x?xi32, strided<[?, ?, ?], offset: ?>>, i32, i32, i32, i32, i32, i32, i32, f32, i32) -> i32 attributes {llvm.emit_c_interface}
// EXIT-DAG: func.func private @msa_runtime_exit_on_error(i32){{$}}
// CONT-DAG: func.func private @msa_runtime_record_error(i32){{$}}
// CHECK-NOT: func.func private

// CHECK-LABEL: func.func @f8_keys(
// CHECK-SAME: %[[KB:[a-z0-9]+]]: memref<?x1x2x128x1x128xf8E4M3FN>
// CHECK: %[[CKB:.*]] = memref.cast %[[KB]] : memref<?x1x2x128x1x128xf8E4M3FN> to memref<?x?x?x?x?x?xf8E4M3FN, strided<[?, ?, ?, ?, ?, ?], offset: ?>>
// CHECK: %[[ST:.*]] = call @msa_indexer_ragged_paged_[[T]]_f8e4m3fn(%{{.*}}, %{{.*}}, %{{.*}}, %[[CKB]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, {{.*}}) : ({{.*}}memref<?x?x?x?x?x?xf8E4M3FN, strided<[?, ?, ?, ?, ?, ?], offset: ?>>{{.*}}) -> i32
// EXIT-NEXT: call @msa_runtime_exit_on_error(%[[ST]]) : (i32) -> ()
// CONT-NEXT: call @msa_runtime_record_error(%[[ST]]) : (i32) -> ()
// CHECK-NOT: msa.indexer_ragged_paged
// CHECK: return
func.func @f8_keys(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
    %prefix: memref<?xui32>, %kb: memref<?x1x2x128x1x128xf8E4M3FN>,
    %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>,
    %out: memref<4x?x16xi32>) {
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>,
        memref<?x1x2x128x1x128xf8E4M3FN>, memref<?xui32>, memref<?x?xui32>,
        memref<1x2xui32> into memref<4x?x16xi32>
  return
}

// The other key type in the same module: the bf16 entry.
// CHECK-LABEL: func.func @bf16_keys(
// CHECK: call @msa_indexer_ragged_paged_[[T]](%{{.*}}) : ({{.*}}memref<?x?x?x?x?x?xbf16, strided<[?, ?, ?, ?, ?, ?], offset: ?>>{{.*}}) -> i32
// CHECK-NOT: _f8e4m3fn
// CHECK-LABEL: func.func @f8_keys_signless_static(
func.func @bf16_keys(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
    %prefix: memref<?xui32>, %kb: memref<?x1x2x128x1x128xbf16>,
    %kcl: memref<?xui32>, %lut: memref<?x?xui32>, %kmax: memref<1x2xui32>,
    %out: memref<4x?x16xi32>) {
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 4, idx_head_dim = 128, block_size = 128, topk = 16,
       init_blocks = 0, local_blocks = 1, layer_idx = 1,
       scale = 0.0883883461 : f32}
      : memref<?x4x128xbf16>, memref<?xui32>, memref<?xui32>,
        memref<?x1x2x128x1x128xbf16>, memref<?xui32>, memref<?x?xui32>,
        memref<1x2xui32> into memref<4x?x16xi32>
  return
}

// Static shapes and signless i32 metadata with f8 keys: the same f8
// declaration serves (no second one, see the CHECK-NOT above).
// CHECK: call @msa_indexer_ragged_paged_[[T]]_f8e4m3fn(
func.func @f8_keys_signless_static(%q: memref<5x2x16xbf16>, %off: memref<3xi32>,
    %prefix: memref<2xi32>, %kb: memref<6x1x1x16x1x16xf8E4M3FN>,
    %kcl: memref<2xi32>, %lut: memref<2x4xi32>, %kmax: memref<1x2xi32>,
    %out: memref<2x5x8xi32>) {
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 2, idx_head_dim = 16, block_size = 16, topk = 8,
       init_blocks = 1, local_blocks = 1, layer_idx = 0, scale = 0.25 : f32}
      : memref<5x2x16xbf16>, memref<3xi32>, memref<2xi32>,
        memref<6x1x1x16x1x16xf8E4M3FN>, memref<2xi32>, memref<2x4xi32>,
        memref<1x2xi32> into memref<2x5x8xi32>
  return
}
