// Signless i32 metadata computed in the graph with upstream ops (tensor,
// arith, linalg) reaches the op and runs end to end, on the CPU library and
// through the CUDA library's auto entry (the CPU kernel without a GPU). The
// input is the embedding consumers' (test/embedding/Inputs/graph_i32.mlir,
// ids worked out by hand there); this file adds a main that prints them.
// REQUIRES: cpu-kernels
// RUN: cat %msa_src_root/test/embedding/Inputs/graph_i32.mlir %s > %t.mlir
// RUN: msa-opt %t.mlir --msa-to-llvm="target=cpu" | %run_cpu | FileCheck %s
// RUN: %if cuda-kernels %{ msa-opt %t.mlir --msa-to-llvm="target=auto" | %run_cuda_lib | FileCheck %s %}
// CHECK: sizes = [2, 4, 2]
// CHECK-NEXT: {{\[\[\[}}0, 1],
// CHECK-NEXT: [0, 1],
// CHECK-NEXT: [0, 1],
// CHECK-NEXT: [0, 1]],
// CHECK-NEXT: {{\[\[}}0, 1],
// CHECK-NEXT: [0, 2],
// CHECK-NEXT: [0, 1],
// CHECK-NEXT: [0, 2]]]
func.func private @printMemrefI32(memref<*xi32>)
func.func @main() {
  %out = memref.alloc() : memref<2x4x2xi32>
  call @indexer(%out) : (memref<2x4x2xi32>) -> ()
  %u = memref.cast %out : memref<2x4x2xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}
