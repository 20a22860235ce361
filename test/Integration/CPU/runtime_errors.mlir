// Run-time errors in lowered code, both on-error modes, on the case of
// tiny_by_hand.mlir: main runs it with a good page table, then with one
// whose entry for a needed page (logical page 1) is 9, past num_pages = 4,
// then with the good one again.
//
// on-error=exit (default): the kernel's message and the stop line on
// stderr, a non-zero exit and no crash (`not` without --crash fails on a
// signal); what main printed before the error is in the output even though
// stdout is a file (flushed), and nothing after it.
//
// on-error=continue: the program goes on. The bad call's result is -1
// everywhere, msa_runtime_take_error() returns its status (2, invalid
// metadata) and then 0 (taken), and the next good call is right.
// REQUIRES: cpu-kernels
// RUN: msa-opt %s --msa-to-llvm="target=cpu" > %t.exit.mlir
// RUN: not %run_cpu %t.exit.mlir > %t.exit.out 2> %t.exit.err
// RUN: FileCheck %s --check-prefix=EXIT-ERR < %t.exit.err --implicit-check-not="PLEASE submit" --implicit-check-not="Stack dump"
// RUN: FileCheck %s --check-prefix=EXIT-OUT < %t.exit.out
// RUN: msa-opt %s --msa-to-llvm="target=cpu on-error=continue" | %run_cpu 2> %t.cont.err | FileCheck %s --check-prefix=CONT
// RUN: FileCheck %s --check-prefix=CONT-ERR < %t.cont.err
// RUN: %if cuda-kernels %{ msa-opt %s --msa-to-llvm="target=auto on-error=continue" | %run_cuda_lib 2>/dev/null | FileCheck %s --check-prefix=CONT %}

// EXIT-ERR: msa.indexer_ragged_paged (cpu): k_lookup_table[0][1] = 9 is not a valid page id (num_pages = 4) for sequence 0
// EXIT-ERR-NEXT: msa.indexer_ragged_paged: stopping after a kernel error (invalid metadata)
// EXIT-OUT: sizes = [2, 2, 2]
// EXIT-OUT-NOT: sizes

// CONT: sizes = [2, 2, 2]
// CONT-NEXT: {{\[\[\[}}0, 1]
// CONT-NEXT: [0, 1]]
// CONT-NEXT: {{\[\[}}0, 1]
// CONT-NEXT: [0, 2]]]
// CONT-NEXT: sizes = [2, 2, 2]
// CONT-NEXT: {{\[\[\[}}-1, -1]
// CONT-NEXT: [-1, -1]]
// CONT-NEXT: {{\[\[}}-1, -1]
// CONT-NEXT: [-1, -1]]]
// CONT-NEXT: {{^}}2{{$}}
// CONT-NEXT: {{^}}0{{$}}
// CONT-NEXT: sizes = [2, 2, 2]
// CONT-NEXT: {{\[\[\[}}0, 1]
// CONT-NEXT: [0, 1]]
// CONT-NEXT: {{\[\[}}0, 1]
// CONT-NEXT: [0, 2]]]
// CONT-NEXT: {{^}}0{{$}}
// CONT-ERR: msa.indexer_ragged_paged (cpu): k_lookup_table[0][1] = 9 is not a valid page id (num_pages = 4) for sequence 0
// CONT-ERR-NOT: stopping

func.func private @printMemrefI32(memref<*xi32>)
func.func private @printI64(i64)
func.func private @printNewline()
func.func private @msa_runtime_take_error() -> i32

func.func @indexer(%lut: tensor<1x4xui32>) -> tensor<2x2x2xi32> {
  %q = arith.constant dense<[[[1.0, 2.0], [-1.0, -1.0]],
                             [[1.0, 2.0], [-1.0, -1.0]]]> : tensor<2x2x2xbf16>
  %off = arith.constant dense<[0, 2]> : tensor<2xui32>
  %pre = arith.constant dense<[3]> : tensor<1xui32>
  %kb = arith.constant dense<[
    [[[[[3.0, 0.0]], [[0x7FC0, 0x7FC0]]]]],
    [[[[[100.0, 100.0]], [[100.0, 100.0]]]]],
    [[[[[1.0, 0.0]], [[0.0, 1.0]]]]],
    [[[[[-1.0, -1.0]], [[100.0, 100.0]]]]]]> : tensor<4x1x1x2x1x2xbf16>
  %kcl = arith.constant dense<[3]> : tensor<1xui32>
  %kmax = arith.constant dense<[[2, 5]]> : tensor<1x2xui32>
  %ids = msa.indexer_ragged_paged %q, %off, %pre, %kb, %kcl, %lut, %kmax
      {num_index_heads = 2, idx_head_dim = 2, block_size = 2, topk = 2,
       init_blocks = 1, local_blocks = 0, layer_idx = 0, scale = 1.0 : f32}
      : tensor<2x2x2xbf16>, tensor<2xui32>, tensor<1xui32>,
        tensor<4x1x1x2x1x2xbf16>, tensor<1xui32>, tensor<1x4xui32>,
        tensor<1x2xui32>
  return %ids : tensor<2x2x2xi32>
}

func.func @run(%lut: tensor<1x4xui32>) {
  %ids = call @indexer(%lut) : (tensor<1x4xui32>) -> tensor<2x2x2xi32>
  %m = bufferization.to_buffer %ids : tensor<2x2x2xi32> to memref<2x2x2xi32>
  %u = memref.cast %m : memref<2x2x2xi32> to memref<*xi32>
  call @printMemrefI32(%u) : (memref<*xi32>) -> ()
  return
}

func.func @print_status() {
  %s = call @msa_runtime_take_error() : () -> i32
  %s64 = arith.extsi %s : i32 to i64
  call @printI64(%s64) : (i64) -> ()
  call @printNewline() : () -> ()
  return
}

func.func @main() {
  %good = arith.constant dense<[[2, 0, 3, 4]]> : tensor<1x4xui32>
  %bad = arith.constant dense<[[2, 9, 3, 4]]> : tensor<1x4xui32>
  call @run(%good) : (tensor<1x4xui32>) -> ()
  call @run(%bad) : (tensor<1x4xui32>) -> ()
  call @print_status() : () -> ()
  call @print_status() : () -> ()
  call @run(%good) : (tensor<1x4xui32>) -> ()
  call @print_status() : () -> ()
  return
}
