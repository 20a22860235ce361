#!/usr/bin/env python3
"""Decode latency probe: per-call time of msa_indexer_cuda_ex in a CUDA graph
(one call per layer) for small decode batches, under conditions that isolate
where the time goes: index-K from memory (R layers, shuffled pages) or from L2
(R = 1), pages in order or shuffled. Several library builds side by side.

  python3 kernels_gpu/bench/decode_probe.py LIB [LIB ...]
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import bench_cuda as bc  # noqa: E402


def main():
    libs = sys.argv[1:]
    cfgs = [("B=1 ctx=8192 R=63 shuffled", 1, 1, 8192, 63, True),
            ("B=1 ctx=8192 R=63 in order", 1, 1, 8192, 63, False),
            ("B=1 ctx=8192 R=1 (L2)", 1, 1, 8192, 1, True),
            ("B=1 ctx=1024 R=63", 1, 1, 1024, 63, True),
            ("B=16 ctx=8192 R=5", 16, 1, 8192, 5, True),
            ("B=16 ctx=8192 R=1 (L2)", 16, 1, 8192, 1, True)]
    print("| config | " + " | ".join(l.split("/")[-3] for l in libs) + " |")
    print("|---|" + "---|" * len(libs))
    for label, batch, new, ctx, R, shuffled in cfgs:
        p = bc.Problem(batch, new, ctx - new, 4, layers=R)
        if not shuffled:
            p.lut = torch.arange(p.num_pages, device="cuda", dtype=torch.int32).view(
                batch, p.pages_per_seq).contiguous()
        cells = []
        for path in libs:
            # about 63 calls per replay so that short graphs are timed too
            ms, _ = bc.time_decode_graph(bc.load(path), p, 4, sweeps=max(1, 63 // R))
            cells.append(f"{ms * 1e3:.2f} us")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
        del p
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
