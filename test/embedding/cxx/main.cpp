//===- main.cpp - embed msa in a C++ compiler -----------------------------===//
//
// What a compiler embedding msa does, through the C++ API of the installed
// package: register the upstream dialects and msa's, parse a tensor-level
// module, verify it, run the msa-to-llvm pipeline (by name, as registered),
// JIT it with mlir::ExecutionEngine linking the installed CPU kernel library,
// and check the selected ids against the values worked out by hand in
// ../Inputs/tiny_by_hand.mlir.
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
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {
int fail(const char *what) {
  std::fprintf(stderr, "msa_embed_cxx: FAIL: %s\n", what);
  return 1;
}
} // namespace

int main() {
  // 1. Registration: everything upstream, then msa's dialect (with its
  //    bufferization model), passes and pipelines.
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::registerAllPasses();
  mlir::msa::registerAllDialects(registry);
  mlir::msa::registerAllPasses();
  mlir::MLIRContext context(registry);

  // 2. Parse and verify.
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(MSA_EXAMPLE, &context);
  if (!module)
    return fail("could not parse " MSA_EXAMPLE);
  if (mlir::failed(mlir::verify(*module)))
    return fail("the module does not verify");
  unsigned numMsaOps = 0;
  module->walk([&](mlir::Operation *op) {
    if (op->getDialect() &&
        op->getDialect()->getNamespace() ==
            mlir::msa::MSADialect::getDialectNamespace())
      ++numMsaOps;
  });
  if (numMsaOps != 1)
    return fail("expected one msa op in the parsed module");

  // 3. Lower: the registered pipeline, by name, as a user would write it.
  //    The pass manager is anchored on builtin.module, and this overload of
  //    parsePassPipeline appends an unanchored pass list to it (a string
  //    "builtin.module(...)" here would nest, and run on nested modules only).
  auto pm = mlir::PassManager::on<mlir::ModuleOp>(&context);
  if (mlir::failed(mlir::parsePassPipeline("msa-to-llvm{target=cpu}", pm,
                                           llvm::errs())))
    return fail("msa-to-llvm is not registered");
  if (mlir::failed(pm.run(*module)))
    return fail("msa-to-llvm failed");
  bool allLLVM = true;
  module->walk([&](mlir::Operation *op) {
    if (op != module->getOperation() &&
        op->getName().getDialectNamespace() != "llvm") {
      llvm::errs() << "left: " << op->getName() << "\n";
      allLLVM = false;
    }
  });
  if (!allLLVM)
    return fail("msa-to-llvm left ops outside the LLVM dialect");
  std::printf("lowered to the LLVM dialect\n");
  if (std::getenv("MSA_EMBED_DUMP"))
    module->print(llvm::errs());

  // 4. JIT, with the installed kernel library.
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::StringRef libs[] = {MSA_KERNELS_CPU_LIB};
  mlir::ExecutionEngineOptions options;
  options.sharedLibPaths = libs;
  auto engine = mlir::ExecutionEngine::create(*module, options);
  if (!engine) {
    llvm::errs() << llvm::toString(engine.takeError()) << "\n";
    return fail("could not create the execution engine");
  }
  (*engine)->initialize();
  auto sym = (*engine)->lookup("_mlir_ciface_indexer");
  if (!sym) {
    llvm::errs() << llvm::toString(sym.takeError()) << "\n";
    return fail("no _mlir_ciface_indexer in the JIT");
  }
  using IndexerFn = void (*)(StridedMemRefType<int32_t, 3> *);
  auto indexer = reinterpret_cast<IndexerFn>(*sym);

  int32_t out[2][2][2];
  for (auto &h : out)
    for (auto &r : h)
      r[0] = r[1] = 99;
  StridedMemRefType<int32_t, 3> desc;
  desc.basePtr = desc.data = &out[0][0][0];
  desc.offset = 0;
  desc.sizes[0] = desc.sizes[1] = desc.sizes[2] = 2;
  desc.strides[0] = 4;
  desc.strides[1] = 2;
  desc.strides[2] = 1;
  indexer(&desc);

  // 5. Check (ids worked out by hand in ../Inputs/tiny_by_hand.mlir).
  const int32_t expected[2][2][2] = {{{0, 1}, {0, 1}}, {{0, 1}, {0, 2}}};
  bool ok = true;
  for (int h = 0; h < 2; ++h)
    for (int r = 0; r < 2; ++r) {
      std::printf("head %d row %d: [%d, %d]\n", h, r, out[h][r][0],
                  out[h][r][1]);
      for (int k = 0; k < 2; ++k)
        ok = ok && out[h][r][k] == expected[h][r][k];
    }
  if (!ok)
    return fail("wrong ids (expected [[[0,1],[0,1]],[[0,1],[0,2]]])");
  std::printf("msa_embed_cxx: PASS\n");
  return 0;
}
