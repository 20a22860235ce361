#!/bin/bash
# build_variant.sh NAME:rel=file[,rel=file] ... : builds the CUDA library of this tree with
# files replaced, under /tmp/var_NAME/b (one build per argument, in parallel). For probes
# and same-run A/Bs on the GPU machine; run it in the background with `& PID=$!; wait $PID`.
set -u
CFG=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DMSA_ENABLE_MLIR=OFF -DMSA_ENABLE_CPU_SIMD=OFF -DMSA_ENABLE_TESTS=OFF -DMSA_ENABLE_CUDA_TESTS=OFF)
for spec in "$@"; do
  name=${spec%%:*}; files=${spec#*:}
  (d=/tmp/var_$name; mkdir -p $d; tar --exclude=./build-gpu --exclude=./build --exclude=./build-aot --exclude=./build-cpu-san --exclude=./.prev --exclude=./build-prev --exclude=./.i13 --exclude=./.oldcl -cf - . | tar -xf - -C $d
   IFS=, read -ra pairs <<< "$files"
   for pr in "${pairs[@]}"; do cp "${pr#*=}" "$d/${pr%%=*}"; done
   cmake -S $d -B $d/b "${CFG[@]}" > $d/cfg.log 2>&1 && ninja -C $d/b msa_kernels_cuda > $d/build.log 2>&1; echo "$name build rc=$?") &
done
wait
