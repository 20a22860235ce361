/*===- main.c - embed msa through the C API -------------------------------===*\
|*                                                                            *|
|* Only mlir-c and msa-c calls: register the upstream dialects and msa's,     *|
|* parse a tensor-level module, verify it, add msa-to-llvm with              *|
|* mlirMSAAddToLLVMPipeline (no pass registered globally), JIT it with the    *|
|* installed CPU kernel library and check the ids worked out by hand in       *|
|* ../Inputs/tiny_by_hand.mlir.                                               *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/
#include "msa-c/Dialect.h"
#include "msa-c/Passes.h"

#include "mlir-c/ExecutionEngine.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/RegisterEverything.h"
#include "mlir-c/Support.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* mlir::StridedMemRefType<int32_t, 3>, the argument of _mlir_ciface_indexer. */
typedef struct {
  int32_t *allocated;
  int32_t *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} memref_i32_3d;

static int fail(const char *what) {
  fprintf(stderr, "msa_embed_c: FAIL: %s\n", what);
  return 1;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    *len = (size_t)n;
  }
  return buf;
}

int main(void) {
  /* 1. Registration: dialects only. The msa handle also registers the
   * dialect's bufferization model. No pass is registered globally:
   * mlirMSAAddToLLVMPipeline builds the pipeline from the passes
   * themselves. */
  /* [doc:c-api] */
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  mlirRegisterAllDialects(registry);
  mlirDialectHandleInsertDialect(mlirGetDialectHandle__msa__(), registry);
  MlirContext ctx = mlirContextCreateWithRegistry(registry, false);
  mlirDialectRegistryDestroy(registry);
  mlirRegisterAllLLVMTranslations(ctx);
  /* [/doc:c-api] */

  MlirDialect msa = mlirContextGetOrLoadDialect(ctx, mlirStringRefCreateFromCString("msa"));
  if (mlirDialectIsNull(msa))
    return fail("the msa dialect is not available");

  /* 2. Parse and verify. */
  size_t len = 0;
  char *text = read_file(MSA_EXAMPLE, &len);
  if (!text)
    return fail("could not read " MSA_EXAMPLE);
  MlirModule module = mlirModuleCreateParse(ctx, mlirStringRefCreate(text, len));
  free(text);
  if (mlirModuleIsNull(module))
    return fail("could not parse " MSA_EXAMPLE);
  MlirOperation op = mlirModuleGetOperation(module);
  if (!mlirOperationVerify(op))
    return fail("the module does not verify");

  /* An unknown target is refused by the pipeline helper. */
  {
    MlirPassManager bad = mlirPassManagerCreate(ctx);
    MlirLogicalResult r = mlirMSAAddToLLVMPipeline(
        mlirPassManagerGetAsOpPassManager(bad),
        mlirStringRefCreateFromCString("tpu"));
    mlirPassManagerDestroy(bad);
    if (!mlirLogicalResultIsFailure(r))
      return fail("mlirMSAAddToLLVMPipeline accepted target=tpu");
  }
  /* So is an unknown on-error mode; "continue" is accepted. */
  {
    MlirPassManager bad = mlirPassManagerCreate(ctx);
    MlirLogicalResult r = mlirMSAAddToLLVMPipelineWithOptions(
        mlirPassManagerGetAsOpPassManager(bad),
        mlirStringRefCreateFromCString("cpu"),
        mlirStringRefCreateFromCString("ignore"));
    MlirLogicalResult good = mlirMSAAddToLLVMPipelineWithOptions(
        mlirPassManagerGetAsOpPassManager(bad),
        mlirStringRefCreateFromCString("cpu"),
        mlirStringRefCreateFromCString("continue"));
    mlirPassManagerDestroy(bad);
    if (!mlirLogicalResultIsFailure(r))
      return fail("mlirMSAAddToLLVMPipelineWithOptions accepted on-error=ignore");
    if (mlirLogicalResultIsFailure(good))
      return fail("mlirMSAAddToLLVMPipelineWithOptions refused on-error=continue");
  }

  /* 3. Lower: msa-to-llvm{target=cpu} on a pass manager of builtin.module. */
  /* [doc:c-lower] */
  MlirPassManager pm = mlirPassManagerCreateOnOperation(
      ctx, mlirStringRefCreateFromCString("builtin.module"));
  if (mlirLogicalResultIsFailure(mlirMSAAddToLLVMPipeline(
          mlirPassManagerGetAsOpPassManager(pm),
          mlirStringRefCreateFromCString("cpu"))))
    return fail("mlirMSAAddToLLVMPipeline failed");
  if (mlirLogicalResultIsFailure(mlirPassManagerRunOnOp(pm, op)))
    return fail("msa-to-llvm failed");
  mlirPassManagerDestroy(pm);
  /* [/doc:c-lower] */
  printf("lowered to the LLVM dialect\n");

  /* 4. JIT with the installed kernel library. */
  MlirStringRef libs[] = {mlirStringRefCreateFromCString(MSA_KERNELS_CPU_LIB)};
  MlirExecutionEngine jit = mlirExecutionEngineCreate(
      module, /*optLevel=*/2, /*numPaths=*/1, libs,
      /*enableObjectDump=*/false, /*enablePIC=*/false);
  if (mlirExecutionEngineIsNull(jit))
    return fail("could not create the execution engine");
  mlirExecutionEngineInitialize(jit);
  void *sym = mlirExecutionEngineLookup(
      jit, mlirStringRefCreateFromCString("_mlir_ciface_indexer"));
  if (!sym)
    return fail("no _mlir_ciface_indexer in the JIT");
  void (*indexer)(memref_i32_3d *);
  *(void **)(&indexer) = sym;

  int32_t out[2][2][2];
  for (int i = 0; i < 8; ++i)
    (&out[0][0][0])[i] = 99;
  memref_i32_3d desc = {&out[0][0][0], &out[0][0][0], 0, {2, 2, 2}, {4, 2, 1}};
  indexer(&desc);

  /* 5. Check. */
  const int32_t expected[2][2][2] = {{{0, 1}, {0, 1}}, {{0, 1}, {0, 2}}};
  int ok = 1;
  for (int h = 0; h < 2; ++h)
    for (int r = 0; r < 2; ++r) {
      printf("head %d row %d: [%d, %d]\n", h, r, out[h][r][0], out[h][r][1]);
      for (int k = 0; k < 2; ++k)
        ok = ok && out[h][r][k] == expected[h][r][k];
    }

  mlirExecutionEngineDestroy(jit);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  if (!ok)
    return fail("wrong ids (expected [[[0,1],[0,1]],[[0,1],[0,2]]])");
  printf("msa_embed_c: PASS\n");
  return 0;
}
