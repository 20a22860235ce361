// msa-to-llvm lowers what a graph's tensor code typically holds around the
// op (arith, math including ops without an LLVM intrinsic, linalg, tensor,
// scf, scf.forall) and fails, naming the op, on anything no conversion of it handles.
// (The second case fails, so both runs expect a non-zero exit.)
// RUN: not msa-opt %s -split-input-file --msa-to-llvm 2>/dev/null | FileCheck %s
// RUN: not msa-opt %s -split-input-file --msa-to-llvm 2>&1 >/dev/null | FileCheck %s --check-prefix=LEFT

// CHECK-LABEL: llvm.func @graph_math(
// CHECK: llvm.intr.tanh
// CHECK: llvm.intr.sqrt
// CHECK: llvm.call @erff(
// CHECK-NOT: math.
// CHECK-NOT: linalg.
func.func @graph_math(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = math.tanh %a : f32
    %s = math.sqrt %t : f32
    %f = math.erf %s : f32
    linalg.yield %f : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// CHECK-LABEL: llvm.func @graph_forall(
// CHECK-NOT: scf.
func.func @graph_forall(%x: tensor<8xf32>) -> tensor<8xf32> {
  %r = scf.forall (%i) in (8) shared_outs(%o = %x) -> (tensor<8xf32>) {
    %e = tensor.extract %o[%i] : tensor<8xf32>
    %n = arith.negf %e : f32
    %t = tensor.from_elements %n : tensor<1xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %o[%i] [1] [1] : tensor<1xf32> into tensor<8xf32>
    }
  }
  return %r : tensor<8xf32>
}

// -----

// LEFT: error: msa-to-llvm: 'gpu.thread_id' is not lowered to the LLVM dialect (no conversion of the pipeline handles it)
func.func @left_over() -> index {
  %t = gpu.thread_id x
  return %t : index
}
