#!/usr/bin/env python3
"""Decode time per call for bf16 and f8E4M3FN index-K side by side, the
decode rows of bench_cuda.py only (its harness: layer-rotating CUDA graph,
R layers so that R x index-K >= 2.5 x L2 and at least the R issue 9 names
for a row (bench_cuda.decode_layers), the read-only ceiling of the same
run). A short run for decode-kernel changes.

  python3 kernels_gpu/bench/decode_keys.py LIB [PREV_LIB]

With PREV_LIB (a previous build) its time for each row is taken in the same
run, right after LIB's on the same buffers, and its ids compared.
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import bench_cuda as bc  # noqa: E402

CASES = [("B=1 ctx=8192 H=4", 1, 1, 8192, 4), ("B=16 ctx=8192 H=4", 16, 1, 8192, 4),
         ("B=64 ctx=32768 H=4", 64, 1, 32768, 4), ("B=8 ctx=131072 H=4", 8, 1, 131072, 4),
         ("B=64 ctx=32768 H=1", 64, 1, 32768, 1), ("q=4 B=64 ctx=32768 H=4", 64, 4, 32768, 4),
         ("q=2 B=1 ctx=8192 H=4", 1, 2, 8192, 4)]


def main():
    lib = bc.load(sys.argv[1])
    prev = bc.load(sys.argv[2]) if len(sys.argv) > 2 else None
    _, _, rd, how = bc.ceilings()
    print(f"read-only ceiling this run: {rd:.0f} GB/s ({how})")
    print("| case | bf16 us | % read | previous bf16 us | fp8 us | % read | previous fp8 us | "
          "fp8/bf16 |")
    print("|---|---|---|---|---|---|---|---|")
    for label, batch, new, ctx, H in CASES:
        res = {}
        for kt in ("bf16", "f8e4m3fn"):
            p = bc.Problem(batch, new, ctx - new, H, layers=bc.decode_layers(batch, ctx, kt),
                           key_type=kt)
            ms, outs = bc.time_decode_graph(lib, p, H)
            pv = "-"
            if prev is not None:
                ms_prev, outs_prev = bc.time_decode_graph(prev, p, H)
                pv = f"{ms_prev * 1e3:.1f}"
                if not torch.equal(outs[0], outs_prev[0]):
                    pv += " (ids DIFFER)"
            res[kt] = (ms * 1e3, 100 * p.kbytes() / (ms * 1e-3) / 1e9 / rd, pv)
            del p, outs
            torch.cuda.empty_cache()
        b, f = res["bf16"], res["f8e4m3fn"]
        print(f"| {label} | {b[0]:.1f} | {b[1]:.1f}% | {b[2]} | {f[0]:.1f} | {f[1]:.1f}% | "
              f"{f[2]} | {f[0] / b[0]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
