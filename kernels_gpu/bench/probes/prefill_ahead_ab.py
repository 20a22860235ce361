"""prefill_ahead_ab.py NAME=LIB ...: same-run prefill A/B of builds by enqueued-ahead time
(bench_cuda.ahead_ms), three interleaved rounds, bf16 and e4m3 keys on the issue-10/13 shapes,
with the matmul rate; "same ids" compares every library's output with the first one's. Run from the
repository root."""
import sys, torch
sys.path.insert(0, "kernels_gpu/bench")
import bench_cuda as bc
libs = [(a.split("=")[0], bc.load(a.split("=")[1])) for a in sys.argv[1:]]
mm, cp, rd, how = bc.ceilings()
print(f"bf16 matmul {mm:.0f} TFLOP/s")
print("| case | " + " | ".join(n for n, _ in libs) + " | same ids |")
print("|---|" + "---|" * (len(libs) + 1))
res = {}
for new, prefix, H, kt in [(8192, 0, 4, "f8e4m3fn"), (8192, 0, 4, "bf16"), (32768, 0, 4, "f8e4m3fn"), (32768, 0, 4, "bf16"), (8192, 122880, 4, "f8e4m3fn")]:
    p = bc.Problem(1, new, prefix, H, layers=1, key_type=kt)
    cells = [[] for _ in libs]; outs = [None] * len(libs)
    for rnd in range(3):
        for i, (n, lib) in enumerate(libs):
            call, check, ws = bc.make_caller(lib, p, new, H)
            cur = torch.cuda.current_stream().cuda_stream
            t = bc.ahead_ms(lambda: call(0, cur), 4 if new > 8192 else bc.PREFILL_BURST, 3 if new > 8192 else 5) * 1e3
            check()
            cells[i].append(t)
            if rnd == 0: outs[i] = p.outs[0].clone()
    same = all(torch.equal(o, outs[0]) for o in outs)
    print(f"| T={new} prefix={prefix} H={H} {kt} | " + " | ".join(
        " / ".join(f"{t:.1f}" for t in c) + f" ({100*p.flops()/(min(c)*1e-6)/1e12/mm:.0f}%)" for c in cells) + f" | {same} |", flush=True)
    del p; torch.cuda.empty_cache()
