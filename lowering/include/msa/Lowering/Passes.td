//===- Passes.td - msa lowering passes ---------------------*- tablegen -*-===//

#ifndef MSA_LOWERING_PASSES_TD
#define MSA_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def MSALowerToRuntime : Pass<"msa-lower-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower msa.indexer_ragged_paged (memref form) to kernel calls";
  let description = [{
    Rewrites every memref-form `msa.indexer_ragged_paged` in the module,
    nested modules included, into a `func.call` of a kernel library's
    C-interface entry (`llvm.emit_c_interface`, so the C symbol is
    `_mlir_ciface_<name>`), followed by a call that handles the returned
    status (option `on-error`). Memrefs are cast to fully dynamic strided
    types, so one declaration serves every shape; signless `i32` metadata
    memrefs are passed as the entry's `ui32` memrefs (same layout, an
    `unrealized_conversion_cast` that `reconcile-unrealized-casts` removes
    after the LLVM conversion); attributes travel as i32/f32 arguments. The
    declarations go into the nearest symbol table around each op (the
    innermost module).

    `target` picks the entry:
    * `cpu`  -> `msa_indexer_ragged_paged_cpu`  (libmsa_kernels_cpu)
    * `cuda` -> `msa_indexer_ragged_paged_cuda` (libmsa_kernels_cuda); a shape
      the CUDA kernels cannot serve is an error naming the reason.
    * `auto` -> `msa_indexer_ragged_paged_auto` (libmsa_kernels_cuda): the GPU
      when one is present at run time, else the CPU kernel (MAX-style
      fallback); a shape the CUDA kernels cannot serve calls the CPU entry
      directly, with a remark.

    The element type of `k_blocks` picks the entry's key variant (its
    memref type is part of the entry's signature): `bf16` calls the names
    above, `f8E4M3FN` the same names with the suffix `_f8e4m3fn` (e.g.
    `msa_indexer_ragged_paged_cpu_f8e4m3fn`), declared with the
    `f8E4M3FN` memref. A module with ops of both key types declares both.

    `on-error` says what a failing kernel call (bad run-time metadata, see
    [the op contract](../CONTRACT.md)) does; the kernel prints its message
    to stderr first:
    * `exit` (default) -> `msa_runtime_exit_on_error(status)`: the process
      ends with exit status = the `msa_status_t` code (1..7), no abort and no
      crash report.
    * `continue` -> `msa_runtime_record_error(status)`: execution goes on,
      `out` is filled with -1, and the caller reads the status afterwards
      with `msa_runtime_take_error()` (thread-local) and the message with
      `msa_last_error()`.

    Tensor-form ops are an error: bufferize first.
  }];
  let options = [
    Option<"target", "target", "::mlir::msa::RuntimeTarget",
           /*default=*/"::mlir::msa::RuntimeTarget::CPU",
           "kernel library to call: cpu, cuda or auto",
           "MSA_RUNTIME_TARGET_VALUES">,
    Option<"onError", "on-error", "::mlir::msa::RuntimeErrorMode",
           /*default=*/"::mlir::msa::RuntimeErrorMode::Exit",
           "what a kernel error does: exit (end the process) or continue "
           "(out = -1, status for msa_runtime_take_error)",
           "MSA_RUNTIME_ERROR_MODE_VALUES">
  ];
  let dependentDialects = [
    "::mlir::func::FuncDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect"
  ];
}

#endif // MSA_LOWERING_PASSES_TD
