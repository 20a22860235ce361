#!/usr/bin/env python3
"""Per-node time of CUDA graphs of 64 back-to-back tiny kernels (plain,
with a large dynamic shared-memory request, cooperative, cooperative with a
grid barrier): the launch and dependency latency a graph adds to a call,
whatever the kernel does. Needs CuPy.  python3 kernels_gpu/bench/graph_node_floor.py"""
import sys, torch
import cupy as cp
sys.path.insert(0, __file__.rsplit("/", 1)[0])
import bench_cuda as bc
SRC = r'''
#include <cooperative_groups.h>
extern "C" __global__ void empty() {}
extern "C" __global__ void empty_smem() { extern __shared__ int s[]; if (threadIdx.x == 999) s[0] = 1; }
extern "C" __global__ void gsync() { cooperative_groups::this_grid().sync(); }
'''


def node_time(fn_name, ctas, smem, coop):
    f = cp.RawKernel(SRC, fn_name, options=("-std=c++17",), enable_cooperative_groups=coop)
    if smem:
        f.max_dynamic_shared_size_bytes = smem
    return bc.graph_node_us(f, ctas, smem)


for name, fn, ctas, smem, coop in [("empty 64 CTAs", "empty", 64, 0, False),
                                   ("empty 64 CTAs 106 KB smem", "empty_smem", 64, 106 * 1024, False),
                                   ("empty 256 CTAs 106 KB smem", "empty_smem", 256, 106 * 1024, False),
                                   ("empty 64 CTAs cooperative", "empty", 64, 0, True),
                                   ("empty 64 CTAs cooperative 106 KB", "empty_smem", 64, 106 * 1024, True),
                                   ("grid.sync 64 CTAs cooperative", "gsync", 64, 0, True),
                                   ("grid.sync 256 CTAs cooperative", "gsync", 256, 0, True)]:
    try:
        print(f"{name}: {node_time(fn, ctas, smem, coop):.2f} us/node", flush=True)
    except Exception as e:
        print(f"{name}: failed: {e}", flush=True)
