//===- Passes.td - msa lowering passes ---------------------*- tablegen -*-===//

#ifndef MSA_LOWERING_PASSES_TD
#define MSA_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def MSALowerToRuntime : Pass<"msa-lower-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower msa.indexer_ragged_paged (memref form) to kernel calls";
  let description = [{
    Rewrites every memref-form `msa.indexer_ragged_paged` into a `func.call`
    of a kernel library's C-interface entry (`llvm.emit_c_interface`, so the
    C symbol is `_mlir_ciface_<name>`), followed by a `cf.assert` that stops
    the program when the kernel reports an error (the kernel prints its
    message first). Memrefs are cast to fully dynamic strided types, so one
    declaration serves every shape; attributes travel as i32/f32 arguments.

    `target` picks the entry:
    * `cpu`  -> `msa_indexer_ragged_paged_cpu`  (libmsa_kernels_cpu)
    * `cuda` -> `msa_indexer_ragged_paged_cuda` (libmsa_kernels_cuda); a shape
      the CUDA kernels cannot serve is an error naming the reason.
    * `auto` -> `msa_indexer_ragged_paged_auto` (libmsa_kernels_cuda): the GPU
      when one is present at run time, else the CPU kernel (MAX-style
      fallback); a shape the CUDA kernels cannot serve calls the CPU entry
      directly, with a remark.

    Tensor-form ops are left alone: bufferize first.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "kernel library to call: cpu, cuda or auto">
  ];
  let dependentDialects = [
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect"
  ];
}

#endif // MSA_LOWERING_PASSES_TD
