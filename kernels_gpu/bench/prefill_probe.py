#!/usr/bin/env python3
"""Prefill variant probe: times the prefill kernel variants (MSA_CUDA_PREFILL
values) on the benchmark's prefill configurations, interleaved over rounds,
and checks that every variant leaves a bit-identical workspace (block
scores included) and identical ids.

  python3 kernels_gpu/bench/prefill_probe.py --lib LIB [--variants wg1/s0,tma0/s0,def]
  python3 kernels_gpu/bench/prefill_probe.py --lib LIB --once   # for ncu

--once runs each variant once on T=32768 (no warm-up, no timing), so that
`ncu --kernel-name regex:prefill_tma|select` sees one launch per variant.
A variant is PREFILL[/s0]: MSA_CUDA_PREFILL=PREFILL ("def": the default),
"/s0": MSA_CUDA_SELECT=v0 (the first version's selection loop).
"""
import argparse
import ctypes
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cuda as bc  # noqa: E402


def set_variant(v):
    """v = PREFILL[/s0]: MSA_CUDA_PREFILL=PREFILL ("def": unset), /s0 adds
    MSA_CUDA_SELECT=v0 (the first version's selection loop)."""
    parts = v.split("/")
    if parts[0] == "def":
        os.environ.pop("MSA_CUDA_PREFILL", None)
    else:
        os.environ["MSA_CUDA_PREFILL"] = parts[0]
    if "s0" in parts[1:]:
        os.environ["MSA_CUDA_SELECT"] = "v0"
    else:
        os.environ.pop("MSA_CUDA_SELECT", None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--variants", default="wg1/s0,tma0/s0,tma1/s0,tma2/s0,def")
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    lib = ctypes.CDLL(args.lib)
    lib.msa_indexer_cuda_workspace_size.restype = ctypes.c_size_t
    lib.msa_indexer_cuda_workspace_size.argtypes = [ctypes.c_int64, ctypes.c_int64,
                                                    ctypes.POINTER(bc.Attrs), ctypes.c_uint32,
                                                    ctypes.c_uint32]
    lib.msa_indexer_cuda_ex.restype = ctypes.c_int
    lib.msa_indexer_cuda_ex.argtypes = [ctypes.POINTER(bc.Tensors), ctypes.POINTER(bc.Attrs),
                                        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32,
                                        ctypes.c_void_p]
    lib.msa_indexer_cuda_status.restype = ctypes.c_int
    lib.msa_indexer_cuda_status.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.msa_last_error.restype = ctypes.c_char_p
    variants = args.variants.split(",")
    a = bc.Attrs(bc.H, bc.D, bc.BS, bc.TOPK, bc.INIT, bc.LOCAL, 0, bc.SCALE, 0)
    configs = [(32768, 0)] if args.once else [(32768, 0), (8192, 0), (8192, 122880)]
    print(f"device: {torch.cuda.get_device_name()}", flush=True)
    ok_all = True
    for new, prefix in configs:
        p = bc.Problem(1, new, prefix)
        t = p.tensors()
        ws_bytes = lib.msa_indexer_cuda_workspace_size(p.rows, 1, ctypes.byref(a), new,
                                                       prefix + new)
        ws = torch.empty(ws_bytes, device="cuda", dtype=torch.uint8)
        stream = torch.cuda.current_stream().cuda_stream

        def call():
            st = lib.msa_indexer_cuda_ex(ctypes.byref(t), ctypes.byref(a), ws.data_ptr(),
                                         ws_bytes, new, stream)
            if st != 0:
                raise RuntimeError(lib.msa_last_error().decode())

        snaps = {}
        for v in variants:
            set_variant(v)
            ws.zero_()
            call()
            if lib.msa_indexer_cuda_status(ws.data_ptr(), stream) != 0:
                raise RuntimeError(lib.msa_last_error().decode())
            torch.cuda.synchronize()
            if not args.once:
                snaps[v] = (ws.clone(), p.out.clone())
        if args.once:
            continue
        for ri in range(min(2, len(variants))):
            ref_ws, ref_out = snaps[variants[ri]]
            for v in variants[ri + 1:]:
                w, o = snaps[v]
                same_ws = torch.equal(w, ref_ws)
                same_out = torch.equal(o, ref_out)
                nd = int((w != ref_ws).sum().item())
                ok_all &= same_ws and same_out
                print(f"T={new} prefix={prefix}: {v} vs {variants[ri]}: workspace (scores) "
                      f"bit-identical {same_ws} ({nd} bytes differ), ids identical {same_out}",
                      flush=True)
        del snaps
        times = {v: [] for v in variants}
        it = 7 if new * (new + 2 * prefix) > 8192 * 8192 else 15
        for _ in range(args.rounds):
            for v in variants:
                set_variant(v)
                times[v].append(bc.events_ms(call, it))
        fl = p.flops()
        line = ", ".join(
            f"{v} {statistics.median(times[v]) * 1e3:.1f} us "
            f"({fl / statistics.median(times[v]) / 1e9:.0f} TFLOP/s; rounds "
            + "/".join(f"{x * 1e3:.0f}" for x in times[v]) + ")" for v in variants)
        print(f"T={new} prefix={prefix}: {line}", flush=True)
        del p, ws
        torch.cuda.empty_cache()
    set_variant("def")
    if not args.once:
        n = 8192
        x = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        y = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
        ms = bc.events_ms(lambda: torch.matmul(x, y), 20)
        print(f"bf16 matmul 8192^3: {2 * n ** 3 / ms / 1e9:.0f} TFLOP/s", flush=True)
        print("EXACT: all variants bit-identical" if ok_all else "EXACT: MISMATCH", flush=True)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
