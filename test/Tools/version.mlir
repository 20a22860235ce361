// msa-opt --version names msa's version (the project's, 3.0.0) after
// LLVM's.
// RUN: msa-opt --version | FileCheck %s
// CHECK: LLVM version
// CHECK: msa version 3.0.0
