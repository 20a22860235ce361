#!/usr/bin/python3
"""PyTorch-on-CPU baseline for msa-bench: the indexer as a user would write it.

Same math as the kernel (docs/CONTRACT.md): gather the sequence's pages from the paged
index-K cache, q @ K^T (float32 matmul: Debian's torch 1.13 has no fast bf16
CPU matmul), scale, causal mask, NaN -> -inf, block max, forcing (MAX's
sentinels 1e30 / 1e29), topk, -1 where a pick is -inf. MiniMax-M3
configuration: H=4, D=128, block_size=page_size=128, topk=16, init=0,
local=1. Prints "median_ms <t>" for msa-bench. Run with Debian's
/usr/bin/python3 (python3-torch); uses 2 threads (torch.set_num_threads).

  torch_baseline.py --batch B --new T --prefix P [--reps N] [--check]
"""
import argparse
import math
import statistics
import time

import torch

H, D, BS, TOPK, INIT, LOCAL = 4, 128, 128, 16, 0, 1
SCALE = 1.0 / math.sqrt(128.0)


def make_case(batch, new, prefix, seed=0):
    g = torch.Generator().manual_seed(seed)
    keys = prefix + new
    pages = (keys + BS - 1) // BS
    num_pages = pages * batch
    # k_blocks [num_pages, 1, num_layers=1, page_size, 1, D], bf16
    k_blocks = (torch.rand(num_pages, 1, 1, BS, 1, D, generator=g) * 2 - 1).to(torch.bfloat16)
    lut = torch.randperm(num_pages, generator=g).view(batch, pages).to(torch.int64)
    q = (torch.rand(batch * new, H, D, generator=g) * 2 - 1).to(torch.bfloat16)
    offsets = [b * new for b in range(batch + 1)]
    prefix_lens = [prefix] * batch
    return q, offsets, prefix_lens, k_blocks, lut


def indexer(q, offsets, prefix_lens, k_blocks, lut, layer_idx=0):
    rows = q.shape[0]
    out = torch.full((H, rows, TOPK), -1, dtype=torch.int32)
    neg_inf = float("-inf")
    for b in range(len(prefix_lens)):
        r0, r1 = offsets[b], offsets[b + 1]
        t = r1 - r0
        if t == 0:
            continue
        n_last = prefix_lens[b] + t
        npages = (n_last + BS - 1) // BS
        # gather pages -> [npages * BS, D] -> first n_last keys
        k = k_blocks[lut[b, :npages], 0, layer_idx, :, 0, :].reshape(-1, D)[:n_last]
        qs = q[r0:r1].float()                        # [t, H, D]
        s = torch.einsum("thd,pd->htp", qs, k.float()) * SCALE  # [H, t, n_last]
        s = torch.nan_to_num(s, nan=neg_inf)
        n = prefix_lens[b] + torch.arange(1, t + 1)  # visible keys per row
        pos = torch.arange(n_last)
        s = s.masked_fill(pos[None, None, :] >= n[None, :, None], neg_inf)
        pad = npages * BS - n_last
        if pad:
            s = torch.nn.functional.pad(s, (0, pad), value=neg_inf)
        blk = s.view(H, t, npages, BS).amax(dim=-1)  # [H, t, nblk]
        nblk = (n + BS - 1) // BS                    # per row
        j = torch.arange(npages)
        blk = blk.masked_fill(j[None, None, :] >= nblk[None, :, None], neg_inf)
        is_local = (j[None, :] >= (nblk[:, None] - LOCAL)) & (j[None, :] < nblk[:, None])
        is_init = (j[None, :] < INIT) & ~is_local
        blk = torch.where(is_init[None], torch.full_like(blk, 1e30), blk)
        blk = torch.where(is_local[None], torch.full_like(blk, 1e29), blk)
        k_eff = min(TOPK, npages)
        vals, idx = torch.topk(blk, k_eff, dim=-1)   # [H, t, k_eff]
        idx = torch.where(vals == neg_inf, torch.full_like(idx, -1), idx)
        out[:, r0:r1, :k_eff] = idx.to(torch.int32)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--new", type=int, default=2048)
    ap.add_argument("--prefix", type=int, default=0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    case = make_case(args.batch, args.new, args.prefix)
    with torch.no_grad():
        indexer(*case)  # warm-up
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            indexer(*case)
            times.append(time.perf_counter() - t0)
    print("torch %s, threads %d, times_ms %s" % (
        torch.__version__, torch.get_num_threads(),
        " ".join("%.2f" % (t * 1e3) for t in times)))
    print("median_ms %.4f" % (statistics.median(times) * 1e3))


if __name__ == "__main__":
    main()
