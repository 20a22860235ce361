// GPU end to end, ahead of time: aot/indexer.mlir and its f8E4M3FN variant
// lowered with --msa-to-llvm for target=cpu, cuda and auto, compiled with
// mlir-translate and llc, linked with aot/driver.c and the kernel libraries.
// Every run's ids must equal the driver's own model of the contract; the
// CPU run's id hash is the expected one for the cuda and auto runs, with
// host-memory and with device-memory buffers; bf16's integer keys stored as
// e4m3 give bf16's hash; a bad page id must stop the cuda and auto runs with
// the CUDA kernel's message (so auto took the GPU). On the GPU machine, which has no MLIR, the two halves
// run separately: `run_aot_e2e.sh prepare` here, `device` there (see
// docs/GPU.md); on a machine with both, this test runs them together.
// REQUIRES: gpu, cuda-kernels, cpu-kernels
// RUN: rm -rf %t.aot
// RUN: %msa_src_root/test/Integration/GPU/aot/run_aot_e2e.sh all %t.aot %msa_obj_root
