// GPU end to end, ahead of time: aot/indexer.mlir lowered with
// --msa-to-llvm for target=cpu, cuda and auto, compiled with mlir-translate
// and llc, linked with aot/driver.c and the kernel libraries. The CPU run
// gives the expected ids (equal to the scalar reference); the cuda and auto
// runs, with host-memory and with device-memory buffers, must give the same
// ids, and a bad page id must stop them with the CUDA kernel's message (so
// auto took the GPU). On the GPU machine, which has no MLIR, the two halves
// run separately: `run_aot_e2e.sh prepare` here, `device` there (see
// docs/GPU.md); on a machine with both, this test runs them together.
// REQUIRES: gpu, cuda-kernels, cpu-kernels
// RUN: rm -rf %t.aot
// RUN: %msa_src_root/test/Integration/GPU/aot/run_aot_e2e.sh all %t.aot %msa_obj_root
