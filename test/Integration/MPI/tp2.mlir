// Tensor parallelism over 2 processes, end to end. The tensor-level
// function below is a serving step's indexer, with q arriving split by index
// heads as a column-parallel projection leaves it. It is partitioned for a
// grid of 2 (sharding-propagation, shard-partition), then lowered with
// convert-shard-to-mpi, convert-to-llvm for the MPI dialect and msa-to-llvm,
// compiled ahead of time (mlir-translate, llc) and linked with MPICH, the
// CPU kernel and the SPMD driver that Inputs/gen_tp_driver.py writes.
// `mpirun.mpich -launcher fork -np 2` runs it on this machine. Each process
// runs its own 2 of the 4 heads and compares them with an unsharded run of
// all 4. The heads of both processes, assembled by an all-reduce over MPI,
// are checked against the NumPy model.
// MPICH (mpich, libmpich-dev) is installed by scripts/common.sh.
// REQUIRES: cpu-kernels
// RUN: rm -rf %t && mkdir -p %t
// RUN: msa-opt %s --pass-pipeline='builtin.module(func.func(sharding-propagation,shard-partition))' \
// RUN:   -o %t/partitioned.mlir
// RUN: FileCheck %s --check-prefix=PART < %t/partitioned.mlir
// RUN: %python %S/Inputs/gen_tp_driver.py %s > %t/driver.mlir
// The shard.grid declaration outlives convert-shard-to-mpi (nothing upstream
// lowers or erases it) and msa-to-llvm refuses to leave an op it does not
// lower, so it is dropped between the MPI lowering and msa-to-llvm.
// DEFINE: %{to_mpi} = msa-opt --convert-shard-to-mpi --convert-to-llvm="filter-dialects=mpi"
// DEFINE: %{compile} = msa-opt --msa-to-llvm="target=cpu" | mlir-translate --mlir-to-llvmir | llc -O2 -filetype=obj -relocation-model=pic
// RUN: %{to_mpi} %t/partitioned.mlir | grep -v "shard.grid" | %{compile} -o %t/partitioned.o
// RUN: %{to_mpi} %t/driver.mlir | grep -v "shard.grid" | %{compile} -o %t/driver.o
// RUN: mpicc.mpich %t/driver.o %t/partitioned.o -L%msa_lib_dir -lmsa_kernels_cpu \
// RUN:   %mlir_lib_dir/libmlir_runner_utils.so %mlir_lib_dir/libmlir_c_runner_utils.so \
// RUN:   -Wl,-rpath,%msa_lib_dir -Wl,-rpath,%mlir_lib_dir \
// RUN:   -o %t/tp2
// RUN: timeout 120 mpirun.mpich -launcher fork -np 2 %t/tp2 | FileCheck %t/driver.mlir

// The partitioned function: each process gets q[:, 2 heads, :] and returns
// its 2 heads; the metadata and the index-K cache are whole on every process.
// PART-LABEL: func.func @indexer_tp(
// PART-SAME:    tensor<10x2x8xbf16>
// PART-SAME:    -> tensor<2x10x4xi32>
// PART-NEXT:  msa.indexer_ragged_paged
// PART-SAME:    num_index_heads = 2
// PART-NEXT:  return
// PART-NOT:   shard.

shard.grid @grid(shape = 2)

func.func @indexer_tp(%q: tensor<10x4x8xbf16>, %off: tensor<4xui32>,
                      %prefix: tensor<3xui32>, %kb: tensor<17x1x1x4x1x8xbf16>,
                      %cache: tensor<3xui32>, %lut: tensor<3x8xui32>,
                      %kmax: tensor<1x2xui32>) -> tensor<4x10x4xi32> {
  %by_heads = shard.sharding @grid split_axes = [[], [0]] : !shard.sharding
  %q_split = shard.shard %q to %by_heads : tensor<10x4x8xbf16>
  %ids = msa.indexer_ragged_paged %q_split, %off, %prefix, %kb, %cache, %lut, %kmax
      {num_index_heads = 4, idx_head_dim = 8, block_size = 4, topk = 4,
       init_blocks = 0, local_blocks = 1, layer_idx = 0, scale = 0.5 : f32}
      : tensor<10x4x8xbf16>, tensor<4xui32>, tensor<3xui32>,
        tensor<17x1x1x4x1x8xbf16>, tensor<3xui32>, tensor<3x8xui32>,
        tensor<1x2xui32>
  return %ids : tensor<4x10x4xi32>
}
