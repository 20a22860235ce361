// msa-lower-to-runtime: the memref form becomes a call of the kernel
// library's C-interface entry; the attributes travel as arguments and the
// status goes to the runtime helper of the on-error mode (exit by default).
// RUN: msa-opt %s --msa-lower-to-runtime="target=cpu" | FileCheck %s --check-prefixes=CHECK,CPU
// RUN: msa-opt %s --msa-lower-to-runtime="target=cuda" | FileCheck %s --check-prefixes=CHECK,CUDA
// RUN: msa-opt %s --msa-lower-to-runtime="target=auto" | FileCheck %s --check-prefixes=CHECK,AUTO
// RUN: msa-opt %s --msa-lower-to-runtime | FileCheck %s --check-prefixes=CHECK,CPU
// RUN: msa-opt %s --msa-lower-to-runtime="target=cpu on-error=exit" | FileCheck %s --check-prefixes=CHECK,CPU
// RUN: msa-opt %s --msa-lower-to-runtime="target=cpu on-error=continue" | FileCheck %s --check-prefixes=CONT
// RUN: msa-opt %s --pass-pipeline="builtin.module(msa-lower-to-runtime{target=auto})" | FileCheck %s --check-prefixes=CHECK,AUTO

// One declaration per module, with llvm.emit_c_interface and fully dynamic
// strided memrefs, whatever the shapes of the calls.
// CHECK: func.func private @msa_runtime_exit_on_error(i32){{$}}
// CONT: func.func private @msa_runtime_record_error(i32){{$}}
// CPU: func.func private @msa_indexer_ragged_paged_cpu(memref<?x?x?xbf16, strided<[?, ?, ?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?x?x?x?x?x?xbf16, strided<[?, ?, ?, ?, ?, ?], offset: ?>>, memref<?xui32, strided<[?], offset: ?>>, memref<?x?xui32, strided<[?, ?], offset: ?>>, memref<?x?xui32, strided<[?, ?], offset: ?>>, memref<?x?x?xi32, strided<[?, ?, ?], offset: ?>>, i32, i32, i32, i32, i32, i32, i32, f32, i32) -> i32 attributes {llvm.emit_c_interface}
// CUDA: func.func private @msa_indexer_ragged_paged_cuda({{.*}}) -> i32 attributes {llvm.emit_c_interface}
// AUTO: func.func private @msa_indexer_ragged_paged_auto({{.*}}) -> i32 attributes {llvm.emit_c_interface}
// CHECK-NOT: func.func private @msa_indexer_ragged_paged

// CHECK-LABEL: func.func @minimax_m3_dynamic(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x4x128xbf16>, %[[OFF:[a-z0-9]+]]: memref<?xui32>, %[[PRE:[a-z0-9]+]]: memref<?xui32>, %[[KB:[a-z0-9]+]]: memref<?x1x2x128x1x128xbf16>, %[[KCL:[a-z0-9]+]]: memref<?xui32>, %[[LUT:[a-z0-9]+]]: memref<?x?xui32>, %[[KMAX:[a-z0-9]+]]: memref<1x2xui32>, %[[OUT:[a-z0-9]+]]: memref<4x?x16xi32>)
// CHECK-DAG: %[[CQ:.*]] = memref.cast %[[Q]] : memref<?x4x128xbf16> to memref<?x?x?xbf16, strided<[?, ?, ?], offset: ?>>
// CHECK-DAG: %[[COFF:.*]] = memref.cast %[[OFF]] : memref<?xui32> to memref<?xui32, strided<[?], offset: ?>>
// CHECK-DAG: %[[CPRE:.*]] = memref.cast %[[PRE]] : memref<?xui32> to memref<?xui32, strided<[?], offset: ?>>
// CHECK-DAG: %[[CKB:.*]] = memref.cast %[[KB]] : memref<?x1x2x128x1x128xbf16> to memref<?x?x?x?x?x?xbf16, strided<[?, ?, ?, ?, ?, ?], offset: ?>>
// CHECK-DAG: %[[CKCL:.*]] = memref.cast %[[KCL]] : memref<?xui32> to memref<?xui32, strided<[?], offset: ?>>
// CHECK-DAG: %[[CLUT:.*]] = memref.cast %[[LUT]] : memref<?x?xui32> to memref<?x?xui32, strided<[?, ?], offset: ?>>
// CHECK-DAG: %[[CKMAX:.*]] = memref.cast %[[KMAX]] : memref<1x2xui32> to memref<?x?xui32, strided<[?, ?], offset: ?>>
// CHECK-DAG: %[[COUT:.*]] = memref.cast %[[OUT]] : memref<4x?x16xi32> to memref<?x?x?xi32, strided<[?, ?, ?], offset: ?>>
// CHECK-DAG: %[[H:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[D:.*]] = arith.constant 128 : i32
// CHECK-DAG: %[[K:.*]] = arith.constant 16 : i32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.0883883461 : f32
// CPU: %[[ST:.*]] = call @msa_indexer_ragged_paged_cpu(%[[CQ]], %[[COFF]], %[[CPRE]], %[[CKB]], %[[CKCL]], %[[CLUT]], %[[CKMAX]], %[[COUT]], %[[H]], %[[D]], %[[D]], %[[K]], %[[ZERO]], %[[ONE]], %[[ONE]], %[[SCALE]], %[[ZERO]])
// CUDA: %[[ST:.*]] = call @msa_indexer_ragged_paged_cuda(%[[CQ]], %[[COFF]], %[[CPRE]], %[[CKB]], %[[CKCL]], %[[CLUT]], %[[CKMAX]], %[[COUT]], %[[H]], %[[D]], %[[D]], %[[K]], %[[ZERO]], %[[ONE]], %[[ONE]], %[[SCALE]], %[[ZERO]])
// AUTO: %[[ST:.*]] = call @msa_indexer_ragged_paged_auto(%[[CQ]], %[[COFF]], %[[CPRE]], %[[CKB]], %[[CKCL]], %[[CLUT]], %[[CKMAX]], %[[COUT]], %[[H]], %[[D]], %[[D]], %[[K]], %[[ZERO]], %[[ONE]], %[[ONE]], %[[SCALE]], %[[ZERO]])
// CHECK-NEXT: call @msa_runtime_exit_on_error(%[[ST]]) : (i32) -> ()
// CONT-LABEL: func.func @minimax_m3_dynamic(
// CONT: %[[ST:.*]] = call @msa_indexer_ragged_paged_cpu(
// CONT-NEXT: call @msa_runtime_record_error(%[[ST]]) : (i32) -> ()
// CONT-NOT: msa_runtime_exit_on_error
// CHECK-NOT: msa.indexer_ragged_paged
// CHECK: return
func.func @minimax_m3_dynamic(%q: memref<?x4x128xbf16>, %off: memref<?xui32>,
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

// Static, strided (a subview) operands and order = block (passed as 1);
// the same declaration serves.
// CHECK-LABEL: func.func @static_strided_block_order(
// CHECK: %[[SUB:.*]] = memref.subview
// CHECK: memref.cast %[[SUB]] : memref<3x2x16xbf16, strided<[64, 16, 1]>> to memref<?x?x?xbf16, strided<[?, ?, ?], offset: ?>>
// CHECK-DAG: %[[H2:.*]] = arith.constant 2 : i32
// CHECK-DAG: %[[D16:.*]] = arith.constant 16 : i32
// CHECK-DAG: %[[K8:.*]] = arith.constant 8 : i32
// CHECK-DAG: %[[I3:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[SC:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[BLOCK:.*]] = arith.constant 1 : i32
// CHECK: call @msa_indexer_ragged_paged_{{cpu|cuda|auto}}({{.*}}, %[[H2]], %[[D16]], %[[D16]], %[[K8]], %[[I3]], %[[I3]], %[[H2]], %[[SC]], %[[BLOCK]])
func.func @static_strided_block_order(%qall: memref<6x2x16xbf16>,
    %off: memref<3xui32>, %prefix: memref<2xui32>,
    %kb: memref<6x1x3x16x1x16xbf16>, %kcl: memref<2xui32>,
    %lut: memref<2x4xui32>, %kmax: memref<1x2xui32>,
    %out: memref<2x3x8xi32>) {
  %q = memref.subview %qall[0, 0, 0] [3, 2, 16] [2, 1, 1]
      : memref<6x2x16xbf16> to memref<3x2x16xbf16, strided<[64, 16, 1]>>
  msa.indexer_ragged_paged %q, %off, %prefix, %kb, %kcl, %lut, %kmax into %out
      {num_index_heads = 2, idx_head_dim = 16, block_size = 16, topk = 8,
       init_blocks = 3, local_blocks = 3, layer_idx = 2, scale = 0.25 : f32,
       order = #msa.order<block>}
      : memref<3x2x16xbf16, strided<[64, 16, 1]>>, memref<3xui32>,
        memref<2xui32>, memref<6x1x3x16x1x16xbf16>, memref<2xui32>,
        memref<2x4xui32>, memref<1x2xui32> into memref<2x3x8xi32>
  return
}
