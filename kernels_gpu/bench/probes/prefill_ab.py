"""prefill_ab.py [--ahead] [--keys K,K] NAME=LIB ...: same-run prefill A/B of builds on the
issue-13 shapes, with the bf16 matmul rate measured in the same run; "same ids" compares every
library's output with the first one's. Run from the repository root.
  default   one call on an idle GPU (events around it), two interleaved rounds; e4m3 keys on
            T=8192 only
  --ahead   enqueued ahead (bench_cuda.ahead_ms: the GPU time per call with the host ahead),
            three interleaved rounds
  --keys    the key types of every shape (bf16, f8e4m3fn)"""
import sys, torch
sys.path.insert(0, "kernels_gpu/bench")
import bench_cuda as bc
args = sys.argv[1:]
ahead = "--ahead" in args
keys = None
if "--keys" in args:
    keys = args[args.index("--keys") + 1].split(",")
    args = args[:args.index("--keys")] + args[args.index("--keys") + 2:]
libs = [(a.split("=")[0], bc.load(a.split("=")[1])) for a in args if a != "--ahead"]
mm, cp, rd, how = bc.ceilings()
print(f"bf16 matmul {mm:.0f} TFLOP/s, copy {cp:.0f} GB/s, read {rd:.0f} GB/s; "
      + ("enqueued ahead" if ahead else "one call"))
print("| case | " + " | ".join(n for n, _ in libs) + " | same ids |")
print("|---|" + "---|" * (len(libs) + 1))
for new, prefix, H in [(8192, 0, 4), (32768, 0, 4), (8192, 122880, 4), (32768, 0, 1), (2048, 0, 4)]:
    kts = keys or (["bf16"] + (["f8e4m3fn"] if (new, prefix, H) == (8192, 0, 4) else []))
    for kt in kts:
        p = bc.Problem(1, new, prefix, H, layers=1, key_type=kt)
        cells, outs = [[] for _ in libs], [None] * len(libs)
        for rnd in range(3 if ahead else 2):
            for i, (n, lib) in enumerate(libs):
                call, check, ws = bc.make_caller(lib, p, new, H)
                cur = torch.cuda.current_stream().cuda_stream
                if ahead:
                    t = bc.ahead_ms(lambda: call(0, cur), 4 if new > 8192 else bc.PREFILL_BURST,
                                    3 if new > 8192 else 5) * 1e3
                else:
                    t = bc.events_ms(lambda: call(0, cur), 7 if new > 8192 else 15) * 1e3
                check()
                cells[i].append(t)
                if rnd == 0: outs[i] = p.outs[0].clone()
        same = all(torch.equal(o, outs[0]) for o in outs)
        pct = lambda t: 100 * p.flops() / (t * 1e-6) / 1e12 / mm
        print(f"| T={new} prefix={prefix} H={H} {kt} | " + " | ".join(
            " / ".join(f"{t:.1f} us" for t in c) + f" ({pct(min(c)):.0f}%)" for c in cells)
            + f" | {same} |", flush=True)
        del p; torch.cuda.empty_cache()
