#!/usr/bin/env python3
"""Benchmark of the CUDA indexer (libmsa_kernels_cuda) on the MiniMax-M3
configuration, against the card's own ceilings and a PyTorch reference.

  python3 kernels_gpu/bench/bench_cuda.py --lib build-gpu/lib/libmsa_kernels_cuda.so

Measured in one run, on one card:
  - the bf16 matmul rate (torch.matmul 8192^3, median of CUDA-event timings);
  - the device-copy bandwidth (1 GiB copy_, read + write counted);
  - for each configuration: the median time of msa_indexer_cuda (CUDA events;
    decode: 20 back-to-back calls per sample, and the same through a captured
    CUDA graph), effective TFLOP/s (causal keys x D x 2 x H) for prefill or
    GB/s of index-K read for decode, the ratio to the ceilings, and the
    speed-up over a PyTorch reference doing the same math (gather pages,
    matmul, causal mask, block max, forcing, torch.topk), whose ids are also
    compared with ours.
Prints a markdown table last; --json writes the numbers.
"""
import argparse
import ctypes
import json
import os
import math
import statistics
import sys

import torch

H, D, BS, TOPK, INIT, LOCAL = 4, 128, 128, 16, 0, 1
SCALE = 128 ** -0.5


class Attrs(ctypes.Structure):
    _fields_ = [("num_index_heads", ctypes.c_int32), ("idx_head_dim", ctypes.c_int32),
                ("block_size", ctypes.c_int32), ("topk", ctypes.c_int32),
                ("init_blocks", ctypes.c_int32), ("local_blocks", ctypes.c_int32),
                ("layer_idx", ctypes.c_int32), ("scale", ctypes.c_float),
                ("order", ctypes.c_int32)]


class Tensors(ctypes.Structure):
    _fields_ = [(n, ctypes.c_void_p) for n in
                ("q", "off", "prefix", "k", "cache", "lut", "kmax", "out")] + \
               [(n, ctypes.c_int64) for n in
                ("rows", "num_q_heads", "q_head_dim", "batch", "num_pages",
                 "num_layers", "page_size", "k_head_dim", "max_pages")]


def events_ms(fn, iters, warmup=3, inner=1):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(iters):
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(inner):
            fn()
        e.record()
        e.synchronize()
        ts.append(s.elapsed_time(e) / inner)
    return statistics.median(ts)


def ceilings():
    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    ms = events_ms(lambda: torch.matmul(a, b), 20)
    mm_tflops = 2 * n ** 3 / ms / 1e9
    del a, b
    x = torch.empty(1 << 29, device="cuda", dtype=torch.int16).random_()  # 1 GiB
    y = torch.empty_like(x)
    ms = events_ms(lambda: y.copy_(x), 20)
    copy_gbs = 2 * x.numel() * 2 / ms / 1e6
    del x, y
    return mm_tflops, copy_gbs


class Problem:
    """A batch of `batch` sequences, each with `new` rows and `prefix` cached keys."""

    def __init__(self, batch, new, prefix, seed=0):
        g = torch.Generator(device="cuda").manual_seed(seed)
        self.batch, self.new, self.prefix = batch, new, prefix
        self.rows = batch * new
        keys = prefix + new
        self.pages_per_seq = (keys + BS - 1) // BS
        self.num_pages = batch * self.pages_per_seq
        self.q = torch.randn(self.rows, H, D, device="cuda", generator=g).to(torch.bfloat16)
        self.k = torch.randn(self.num_pages, 1, 1, BS, 1, D, device="cuda",
                             generator=g).to(torch.bfloat16)
        perm = torch.randperm(self.num_pages, device="cuda", generator=g).to(torch.int32)
        self.lut = perm.view(batch, self.pages_per_seq).contiguous()
        self.off = (torch.arange(batch + 1, device="cuda", dtype=torch.int32) * new)
        self.prefix_t = torch.full((batch,), prefix, device="cuda", dtype=torch.int32)
        self.cache_t = self.prefix_t.clone()
        self.kmax = torch.tensor([[new, keys]], device="cuda", dtype=torch.int32)
        self.out = torch.empty(H, self.rows, TOPK, device="cuda", dtype=torch.int32)

    def tensors(self):
        t = Tensors()
        t.q, t.off, t.prefix = self.q.data_ptr(), self.off.data_ptr(), self.prefix_t.data_ptr()
        t.k, t.cache, t.lut = self.k.data_ptr(), self.cache_t.data_ptr(), self.lut.data_ptr()
        t.kmax, t.out = self.kmax.data_ptr(), self.out.data_ptr()
        t.rows, t.num_q_heads, t.q_head_dim, t.batch = self.rows, H, D, self.batch
        t.num_pages, t.num_layers, t.page_size, t.k_head_dim = self.num_pages, 1, BS, D
        t.max_pages = self.pages_per_seq
        return t

    def flops(self):  # causal keys x D x 2 x H
        n = self.new
        keys = self.batch * (n * self.prefix + n * (n + 1) // 2)
        return keys * D * 2 * H

    def kbytes(self):  # index-K bytes read (each key once)
        return self.batch * (self.prefix + self.new) * D * 2

    # ---- PyTorch reference: the same math, as a user would write it ----
    def torch_ref(self, chunk=2048):
        kflat = self.k.view(self.num_pages, BS, D)
        if self.new == 1:  # decode: one batched gather + bmm (all lengths equal here)
            keys = self.prefix + 1
            nblk = (keys + BS - 1) // BS
            K = kflat[self.lut.long()].view(self.batch, -1, D)[:, :keys]  # gather pages
            s = torch.bmm(self.q.view(self.batch, H, D), K.transpose(1, 2)).float() * SCALE
            s = torch.nn.functional.pad(s, (0, nblk * BS - keys), value=float("-inf"))
            s = s.view(self.batch, H, nblk, BS).amax(-1)  # block max
            s[..., nblk - LOCAL:] = 1e29  # forcing (local)
            s[..., :min(INIT, nblk - LOCAL)] = 1e30
            kk = min(TOPK, nblk)
            v, idx = torch.topk(s, kk, dim=-1)
            idx = torch.where(v > float("-inf"), idx, torch.full_like(idx, -1))
            out = torch.full((H, self.rows, TOPK), -1, device="cuda", dtype=torch.int32)
            out[..., :kk] = idx.transpose(0, 1).to(torch.int32)
            return out
        out = torch.empty(H, self.rows, TOPK, device="cuda", dtype=torch.int32)
        for b in range(self.batch):
            keys = self.prefix + self.new
            K = kflat[self.lut[b].long()].reshape(-1, D)[:keys]  # gather pages
            nblk_all = (keys + BS - 1) // BS
            pad = nblk_all * BS - keys
            for r0 in range(0, self.new, chunk):
                r1 = min(self.new, r0 + chunk)
                q = self.q[b * self.new + r0: b * self.new + r1]  # [n, H, D]
                s = torch.matmul(q.transpose(0, 1), K.t()).float() * SCALE  # [H, n, keys]
                i = torch.arange(r0, r1, device="cuda")
                lim = self.prefix + i + 1  # keys seen
                pos = torch.arange(keys, device="cuda")
                s = s.masked_fill(pos[None, None, :] >= lim[None, :, None], float("-inf"))
                s = torch.nn.functional.pad(s, (0, pad), value=float("-inf"))
                s = s.view(H, r1 - r0, nblk_all, BS).amax(-1)  # block max
                nblk = (lim + BS - 1) // BS
                j = torch.arange(nblk_all, device="cuda")
                local = (j[None, :] >= (nblk - LOCAL)[:, None]) & (j[None, :] < nblk[:, None])
                init = (j[None, :] < INIT) & ~local
                s = torch.where(local[None], torch.full_like(s, 1e29), s)
                s = torch.where(init[None], torch.full_like(s, 1e30), s)
                kk = min(TOPK, nblk_all)
                v, idx = torch.topk(s, kk, dim=-1)
                idx = torch.where(v > float("-inf"), idx, torch.full_like(idx, -1))
                o = torch.full((H, r1 - r0, TOPK), -1, device="cuda", dtype=torch.int64)
                o[..., :kk] = idx
                out[:, b * self.new + r0: b * self.new + r1] = o.to(torch.int32)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default="build-gpu/lib/libmsa_kernels_cuda.so")
    ap.add_argument("--json", default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    lib = ctypes.CDLL(args.lib)
    lib.msa_indexer_cuda_workspace_size.restype = ctypes.c_size_t
    lib.msa_indexer_cuda_workspace_size.argtypes = [ctypes.c_int64, ctypes.c_int64,
                                                    ctypes.POINTER(Attrs), ctypes.c_uint32,
                                                    ctypes.c_uint32]
    lib.msa_indexer_cuda_ex.restype = ctypes.c_int
    lib.msa_indexer_cuda_ex.argtypes = [ctypes.POINTER(Tensors), ctypes.POINTER(Attrs),
                                        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32,
                                        ctypes.c_void_p]
    lib.msa_indexer_cuda_status.restype = ctypes.c_int
    lib.msa_indexer_cuda_status.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.msa_last_error.restype = ctypes.c_char_p
    lib.msa_cuda_set_path.argtypes = [ctypes.c_int32]

    torch.manual_seed(0)
    name = torch.cuda.get_device_name()
    mm, cp = ceilings()
    print(f"device: {name}; bf16 matmul {mm:.0f} TFLOP/s; device copy {cp:.0f} GB/s "
          f"(read+write)", flush=True)
    a = Attrs(H, D, BS, TOPK, INIT, LOCAL, 0, SCALE, 0)
    configs = [("prefill", 1, 8192, 0), ("prefill", 1, 32768, 0), ("prefill", 1, 8192, 122880),
               ("decode", 1, 1, 8191), ("decode", 64, 1, 32767), ("decode", 8, 1, 131071)]
    if args.quick:
        configs = [("prefill", 1, 2048, 0), ("decode", 4, 1, 4095)]
    rows = []
    for kind, batch, new, prefix in configs:
        p = Problem(batch, new, prefix)
        t = p.tensors()
        ws_bytes = lib.msa_indexer_cuda_workspace_size(p.rows, batch, ctypes.byref(a), new,
                                                       prefix + new)
        ws = torch.empty(ws_bytes, device="cuda", dtype=torch.uint8)
        stream = torch.cuda.current_stream().cuda_stream

        def call():
            st = lib.msa_indexer_cuda_ex(ctypes.byref(t), ctypes.byref(a), ws.data_ptr(),
                                         ws_bytes, new, stream)
            if st != 0:
                raise RuntimeError(lib.msa_last_error().decode())
        call()
        st = lib.msa_indexer_cuda_status(ws.data_ptr(), stream)
        if st != 0:
            raise RuntimeError(lib.msa_last_error().decode())
        variants = {}
        if kind == "prefill":
            it = 7 if new > 8192 else 15
            lib.msa_cuda_set_path(2)  # mma.sync prefill
            variants["mma.sync"] = events_ms(call, it)
            lib.msa_cuda_set_path(0)
            os.environ["MSA_CUDA_PREFILL"] = "wg2"
            variants["wgmma 2 CTA/SM 2 stages"] = events_ms(call, it)
            os.environ["MSA_CUDA_PREFILL"] = "wg1"
            variants["wgmma 1 CTA/SM 4 stages"] = events_ms(call, it)
            del os.environ["MSA_CUDA_PREFILL"]
            variants["default (TMA warp-specialised)"] = events_ms(call, it)
            best = "default (TMA warp-specialised)"
            ms = variants[best]
            call()
            torch.cuda.synchronize()
            lib.msa_cuda_set_path(0)
            os.environ.pop("MSA_CUDA_PREFILL", None)
            print("  variants: " + ", ".join(f"{k} {v * 1e3:.1f} us" for k, v in variants.items()),
                  flush=True)
            ms_graph = None
        else:
            ms = events_ms(call, 30, inner=20)
            g = torch.cuda.CUDAGraph()
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                sg = torch.cuda.current_stream().cuda_stream

                def call_g():
                    lib.msa_indexer_cuda_ex(ctypes.byref(t), ctypes.byref(a), ws.data_ptr(),
                                            ws_bytes, new, sg)
                with torch.cuda.graph(g, stream=s):
                    call_g()
            torch.cuda.current_stream().wait_stream(s)
            ms_graph = events_ms(lambda: g.replay(), 30, inner=20)
        ours = p.out.clone()
        # PyTorch reference (same math), timed with events
        ref_iters = 2 if (new >= 8192) else 10
        ms_ref = events_ms(lambda: p.torch_ref(), ref_iters, warmup=1)
        ref = p.torch_ref()
        # agreement: identical id sets per (head, row)
        a_sorted = ours.sort(-1).values
        r_sorted = ref.sort(-1).values
        same_set = (a_sorted == r_sorted).all(-1).float().mean().item()
        same_last = (ours[..., 0] == ref[..., 0]).float().mean().item()  # forced local block
        if kind == "prefill":
            tf = p.flops() / ms / 1e9
            rate = f"{tf:.0f} TFLOP/s"
            ratio = f"{100 * tf / mm:.1f}% of matmul"
        else:
            gbs = p.kbytes() / ms / 1e6
            rate = f"{gbs:.0f} GB/s"
            ratio = f"{100 * gbs / cp:.1f}% of copy"
        label = (f"prefill T={new} prefix={prefix}" if kind == "prefill"
                 else f"decode B={batch} ctx={prefix + new}")
        rows.append(dict(config=label, variants=variants, ms=ms, ms_graph=ms_graph, rate=rate, ratio=ratio,
                         ms_torch=ms_ref, speedup=ms_ref / ms, same_set=same_set,
                         forced_ok=same_last))
        print(f"{label}: {ms * 1e3:.1f} us ({rate}, {ratio}); graph "
              f"{'-' if ms_graph is None else f'{ms_graph * 1e3:.1f} us'}; torch {ms_ref:.3f} ms "
              f"(x{ms_ref / ms:.1f}); same id set {100 * same_set:.2f}%, "
              f"forced block identical {100 * same_last:.2f}%", flush=True)
        del p, ws, ours, ref
        torch.cuda.empty_cache()
    print()
    print(f"Card: {name}. Ceilings measured in this run: bf16 matmul {mm:.0f} TFLOP/s "
          f"(torch.matmul 8192^3), device copy {cp:.0f} GB/s (1 GiB copy_, read+write).")
    print()
    print("| config | msa CUDA (median) | graph replay | rate | vs ceiling | PyTorch ref | speed-up | same ids |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        g = "-" if r["ms_graph"] is None else f"{r['ms_graph'] * 1e3:.1f} us"
        print(f"| {r['config']} | {r['ms'] * 1e3:.1f} us | {g} | {r['rate']} | {r['ratio']} | "
              f"{r['ms_torch'] * 1e3:.0f} us | {r['speedup']:.1f}x | {100 * r['same_set']:.2f}% |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(device=name, matmul_tflops=mm, copy_gbs=cp, rows=rows), f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
