#!/bin/bash
# one device call: main build + variants, variant tests, A/Bs
set -u
# the variants are patches against this tree's files
mkdir -p /tmp/vsrc
patch -s -o /tmp/vsrc/prefill_tma_s3r6.cu kernels_gpu/src/prefill_tma.cu kernels_gpu/bench/probes/variants/prefill_tma_3bf16_6raw.patch
patch -s -o /tmp/vsrc/decode_fp8_v1.cu kernels_gpu/src/decode.cu kernels_gpu/bench/probes/variants/decode_fp8_two_stage_rounds.patch
R=$OUT
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $R/summary.txt
VARS="s3r6:kernels_gpu/src/prefill_tma.cu=/tmp/vsrc/prefill_tma_s3r6.cu"
[ -f /tmp/vsrc/decode_fp8_v1.cu ] && VARS="$VARS v1:kernels_gpu/src/decode.cu=/tmp/vsrc/decode_fp8_v1.cu"
(kernels_gpu/bench/probes/build_variant.sh $VARS > /tmp/var_build.txt 2>&1) & VP=$!
OUT=/tmp/blog scripts/gpu_device_run.sh build > $R/build.txt 2>&1
wait $VP; cat /tmp/var_build.txt >> $R/summary.txt
LIB=$(find build-gpu -name 'libmsa_kernels_cuda.so.3.*' -type f | head -1)
TEST=$(find build-gpu -name msa_test_cuda -type f -perm -u+x | head -1)
echo "main lib $LIB test $TEST" >> $R/summary.txt
for v in s3r6 v1; do
  VL=$(find /tmp/var_$v/b -name 'libmsa_kernels_cuda.so.3.*' -type f 2>/dev/null | head -1)
  [ -z "$VL" ] && continue
  eval "LIB_$v=$VL"
  (LD_LIBRARY_PATH=$(dirname $VL) timeout 300 $TEST --quick > $R/test_$v.log 2>&1; echo "test $v quick: rc=$? pass=$(grep -c '^\[PASS\]' $R/test_$v.log) fail=$(grep -c '^\[FAIL\]' $R/test_$v.log)" >> $R/summary.txt)
done
if [ -n "${LIB_s3r6:-}" ]; then
  timeout 200 python3 kernels_gpu/bench/probes/prefill_ab.py --ahead --keys f8e4m3fn,bf16 main=$LIB s3r6=$LIB_s3r6 > $R/prefill_ab.txt 2>&1
  echo "prefill_ab rc=$?" >> $R/summary.txt
fi
if [ -n "${LIB_v1:-}" ]; then
  ROUNDS=2 timeout 200 python3 kernels_gpu/bench/probes/decode_ab.py main=$LIB v1=$LIB_v1 > $R/decode_ab.txt 2>&1
  echo "decode_ab rc=$?" >> $R/summary.txt
fi
cat $R/summary.txt; tail -30 $R/prefill_ab.txt 2>/dev/null; tail -15 $R/decode_ab.txt 2>/dev/null
