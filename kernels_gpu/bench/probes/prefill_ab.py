"""prefill_ab.py NAME=LIB ...: same-run prefill A/B of builds (two interleaved rounds) on the
issue-13 shapes, with the bf16 matmul rate measured in the same run; "same ids" compares every
library's output with the first one's. Run from the repository root."""
import os, sys, torch
sys.path.insert(0, "kernels_gpu/bench")
import bench_cuda as bc
libs = [(a.split("=")[0], bc.load(a.split("=")[1])) for a in sys.argv[1:]]
mm, cp, rd, how = bc.ceilings()
print(f"bf16 matmul {mm:.0f} TFLOP/s, copy {cp:.0f} GB/s, read {rd:.0f} GB/s")
print("| case | " + " | ".join(n for n, _ in libs) + " | same ids |")
print("|---|" + "---|" * (len(libs) + 1))
for new, prefix, H in [(8192, 0, 4), (32768, 0, 4), (8192, 122880, 4), (32768, 0, 1), (2048, 0, 4)]:
    for kt in ["bf16"] + (["f8e4m3fn"] if (new, prefix, H) == (8192, 0, 4) else []):
        p = bc.Problem(1, new, prefix, H, layers=1, key_type=kt)
        cells, outs = [None] * len(libs), [None] * len(libs)
        for rnd in range(2):
            for i, (n, lib) in enumerate(libs):
                call, check, ws = bc.make_caller(lib, p, new, H)
                cur = torch.cuda.current_stream().cuda_stream
                t = bc.events_ms(lambda: call(0, cur), 7 if new > 8192 else 15) * 1e3
                check()
                tf = p.flops() / (t * 1e-6) / 1e12
                s = f"{t:.1f} us {100*tf/mm:.0f}%"
                cells[i] = s if rnd == 0 else cells[i] + " / " + s
                if rnd == 0: outs[i] = p.outs[0].clone()
        same = all(torch.equal(o, outs[0]) for o in outs)
        print(f"| T={new} prefix={prefix} H={H} {kt} | " + " | ".join(cells) + f" | {same} |", flush=True)
        del p; torch.cuda.empty_cache()
