//===- main.cpp - embed msa in a C++ compiler -----------------------------===//
//
// What a compiler embedding msa does, through the C++ API of the installed
// package: register the dialects (no pass is registered globally), parse
// graph-style IR whose i32 metadata is computed in the graph
// (../Inputs/graph_i32.mlir), verify it, add msa-to-llvm to a pass manager
// with buildMSAToLLVMPipeline, JIT it with mlir::ExecutionEngine and the
// installed kernel library, and check the ids worked out by hand in the
// input. Runs target=cpu with libmsa_kernels_cpu and, when the install has
// it, target=auto with libmsa_kernels_cuda (on a machine without a GPU its
// auto entry runs the CPU kernel). The code between [doc:...] markers is
// quoted in docs/EMBEDDING.md; the test script checks that it matches.
//
//===----------------------------------------------------------------------===//
#include "msa/InitMSA.h"
#include "msa/Dialect/MSADialect.h"
#include "msa/Lowering/Passes.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
int fail(const char *what) {
  std::fprintf(stderr, "msa_embed_cxx: FAIL: %s\n", what);
  return 1;
}

/// Parse, verify, lower for `target`, JIT with `library`, run, check.
int runOnce(mlir::MLIRContext &context, mlir::msa::RuntimeTarget target,
            const char *library) {
  // [doc:cxx-lower]
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(MSA_EXAMPLE, &context);
  if (!module || mlir::failed(mlir::verify(*module)))
    return fail("could not parse or verify " MSA_EXAMPLE);

  auto pm = mlir::PassManager::on<mlir::ModuleOp>(&context);
  mlir::msa::MSAToLLVMPipelineOptions options;
  options.target = target;  // RuntimeTarget::CPU, CUDA or Auto
  mlir::msa::buildMSAToLLVMPipeline(pm, options);
  if (mlir::failed(pm.run(*module)))
    return fail("msa-to-llvm failed");
  // [/doc:cxx-lower]
  std::printf("lowered to the LLVM dialect\n");
  if (std::getenv("MSA_EMBED_DUMP"))
    module->print(llvm::errs());

  // [doc:cxx-jit]
  llvm::StringRef libs[] = {library};  // <prefix>/lib/libmsa_kernels_cpu.so
  mlir::ExecutionEngineOptions jitOptions;
  jitOptions.sharedLibPaths = libs;
  auto engine = mlir::ExecutionEngine::create(*module, jitOptions);
  if (!engine) {
    llvm::errs() << llvm::toString(engine.takeError()) << "\n";
    return fail("could not create the execution engine");
  }
  (*engine)->initialize();
  auto sym = (*engine)->lookup("_mlir_ciface_indexer");  // llvm.emit_c_interface
  // [/doc:cxx-jit]
  if (!sym) {
    llvm::errs() << llvm::toString(sym.takeError()) << "\n";
    return fail("no _mlir_ciface_indexer in the JIT");
  }
  using IndexerFn = void (*)(StridedMemRefType<int32_t, 3> *);
  auto indexer = reinterpret_cast<IndexerFn>(*sym);

  int32_t out[2][4][2];
  for (auto &h : out)
    for (auto &r : h)
      r[0] = r[1] = 99;
  StridedMemRefType<int32_t, 3> desc;
  desc.basePtr = desc.data = &out[0][0][0];
  desc.offset = 0;
  desc.sizes[0] = 2;
  desc.sizes[1] = 4;
  desc.sizes[2] = 2;
  desc.strides[0] = 8;
  desc.strides[1] = 2;
  desc.strides[2] = 1;
  indexer(&desc);

  // Ids worked out by hand in ../Inputs/graph_i32.mlir.
  const int32_t expected[2][4][2] = {{{0, 1}, {0, 1}, {0, 1}, {0, 1}},
                                     {{0, 1}, {0, 2}, {0, 1}, {0, 2}}};
  for (int h = 0; h < 2; ++h)
    for (int r = 0; r < 4; ++r)
      std::printf("head %d row %d: [%d, %d]\n", h, r, out[h][r][0],
                  out[h][r][1]);
  if (std::memcmp(out, expected, sizeof expected) != 0)
    return fail("wrong ids (expected [[[0,1],[0,1],[0,1],[0,1]],"
                "[[0,1],[0,2],[0,1],[0,2]]])");
  return 0;
}
} // namespace

int main() {
  // Registration: dialects, extensions and translations only. No pass or
  // pipeline is registered globally; buildMSAToLLVMPipeline needs none.
  // [doc:cxx-register]
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);            // upstream, as needed
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::msa::registerAllDialects(registry);       // msa + bufferization model
  mlir::MLIRContext context(registry);
  // [/doc:cxx-register]

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  std::printf("target=cpu, %s\n", MSA_KERNELS_CPU_LIB);
  if (runOnce(context, mlir::msa::RuntimeTarget::CPU, MSA_KERNELS_CPU_LIB))
    return 1;
#ifdef MSA_KERNELS_CUDA_LIB
  std::printf("target=auto, %s\n", MSA_KERNELS_CUDA_LIB);
  if (runOnce(context, mlir::msa::RuntimeTarget::Auto, MSA_KERNELS_CUDA_LIB))
    return 1;
#else
  std::printf("target=auto: skipped (this install has no CUDA library)\n");
#endif
  std::printf("msa_embed_cxx: PASS\n");
  return 0;
}
