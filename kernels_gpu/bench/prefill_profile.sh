#!/usr/bin/env bash
# prefill_profile.sh BUILD_DIR - one device call for the prefill kernel:
# variant timings + bit-exactness (prefill_probe.py), the SASS of the TMA
# kernel's consumer loop (wgmma waits), an ncu profile of prefill_tma and
# select at T=32768 (one launch per variant), and the quick test.
# Output in $OUT (else /tmp/prefill_profile).
set -u
cd "$(dirname "$0")/../.."
B=${1:-build-gpu}
O=${OUT:-/tmp/prefill_profile}
mkdir -p "$O"
export PYTHONUNBUFFERED=1
LIB=$(find "$B" -name 'libmsa_kernels_cuda.so*' -type f | head -1)
TEST=$(find "$B" -name msa_test_cuda -type f | head -1)
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
timeout 100 python3 kernels_gpu/bench/prefill_probe.py --lib "$LIB" 2>&1 | tee "$O/probe.log"
for v in 0 1; do
  f="$O/sass_tma$v.txt"
  cuobjdump -sass -fun "_ZN8msa_cuda18prefill_tma_kernelILi128ELi${v}EEEv14CUtensorMap_stS1_NS_7KParamsE" "$LIB" >"$f" 2>&1
  echo "sass tma$v (D=128): $(grep -c HGMMA "$f") HGMMA, $(grep -c 'WARPGROUP.DEPBAR' "$f") WARPGROUP.DEPBAR, $(grep -c 'WARPGROUP.ARRIVE' "$f") WARPGROUP.ARRIVE, $(grep -c 'BAR.SYNC\|SYNCS' "$f") SYNCS/BAR, $(wc -l <"$f") lines"
done
timeout 150 ncu --clock-control none --section SpeedOfLight --section ComputeWorkloadAnalysis \
  --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis \
  --kernel-name regex:'prefill_tma|select' --launch-count 6 -f -o /tmp/prof \
  python3 kernels_gpu/bench/prefill_probe.py --lib "$LIB" --once --variants tma0/s0,tma1/s0,def >"$O/ncu_run.log" 2>&1
echo "ncu rc=$?"
ncu -i /tmp/prof.ncu-rep --page details >"$O/ncu_details.txt" 2>&1
ncu -i /tmp/prof.ncu-rep --page raw --csv >"$O/ncu_raw.csv" 2>&1
grep -E "prefill_tma|select_kernel|Duration|Compute \(SM\) Throughput|Memory Throughput|L2 Cache Throughput|Issue Slots Busy|No Eligible|Warp Cycles Per Issued|Active Warps Per Scheduler|Eligible Warps" "$O/ncu_details.txt" | head -80
timeout 60 "$TEST" --quick >"$O/test_quick.log" 2>&1
echo "quick test rc=$?"; tail -2 "$O/test_quick.log"
