"""prefill_overhead.py NAME=LIB ...: where a prefill call's stream time goes, per library, on the
issue-13 shapes: the bench's single-call stream time (events around one call on an idle GPU, host
work included), calls enqueued ahead (bench_cuda.ahead_ms: GPU time per call with the host ahead), one call captured
in a CUDA graph and replayed, the host time of one enqueue, and the kernels of one call with the
idle gaps between them (torch.profiler / CUPTI). Run from the repository root."""
import statistics, sys, time, torch
sys.path.insert(0, "kernels_gpu/bench")
import bench_cuda as bc
from torch.profiler import profile, ProfilerActivity

libs = [(a.split("=")[0], bc.load(a.split("=")[1])) for a in sys.argv[1:]]
mm, cp, rd, how = bc.ceilings()
print(f"bf16 matmul {mm:.0f} TFLOP/s")
rows = []
# (sequences, rows each, prefix, H): issue 13's shapes, a short one, a batched prefill
for batch, new, prefix, H, kt in [(1, 8192, 0, 4, "bf16"), (1, 8192, 0, 4, "f8e4m3fn"),
                                  (1, 32768, 0, 4, "bf16"), (1, 8192, 122880, 4, "bf16"),
                                  (1, 32768, 0, 1, "bf16"), (1, 2048, 0, 4, "bf16"),
                                  (4, 2048, 0, 4, "bf16")]:
    p = bc.Problem(batch, new, prefix, H, layers=1, key_type=kt)
    for name, lib in libs:
        call, check, ws = bc.make_caller(lib, p, new, H)
        cur = torch.cuda.current_stream().cuda_stream
        it = 7 if new > 8192 else 15
        single = bc.events_ms(lambda: call(0, cur), it) * 1e3
        b2b = bc.ahead_ms(lambda: call(0, cur), bc.PREFILL_BURST, 5) * 1e3
        torch.cuda.synchronize()
        host = []
        for _ in range(20):
            torch.cuda.synchronize()
            t0 = time.perf_counter(); call(0, cur); host.append((time.perf_counter() - t0) * 1e6)
        torch.cuda.synchronize()
        g = torch.cuda.CUDAGraph()
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            with torch.cuda.graph(g, stream=s):
                call(0, torch.cuda.current_stream().cuda_stream)
        torch.cuda.current_stream().wait_stream(s)
        graph = bc.events_ms(lambda: g.replay(), it) * 1e3
        torch.cuda.synchronize()
        check()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(3):
                call(0, cur)
                torch.cuda.synchronize()
        ev = sorted([e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA],
                    key=lambda e: e.time_range.start)
        last = ev[-len(ev) // 3:] if ev else []
        desc, prev_end = [], None
        for e in last:
            gap = "" if prev_end is None else f"+{e.time_range.start - prev_end:.1f} "
            desc.append(f"{gap}{e.name.split('(')[0].split('<')[0][-18:]} {e.time_range.elapsed_us():.1f}")
            prev_end = e.time_range.end
        tf = lambda t: 100 * p.flops() / (t * 1e-6) / 1e12 / mm
        rows.append((f"{batch}x T={new} pre={prefix} H={H} {kt}", name, single, tf(single), b2b, tf(b2b), graph,
                     tf(graph), statistics.median(host), " | ".join(desc)))
        print(rows[-1], flush=True)
        del g, ws
    del p; torch.cuda.empty_cache()
print(f"bf16 matmul {mm:.0f} TFLOP/s (same run)")
print("| case | lib | single call us (% mm) | back-to-back | graph replay | host enqueue us | kernels (us, +idle gap) |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]:.1f} ({r[3]:.0f}%) | {r[4]:.1f} ({r[5]:.0f}%) | {r[6]:.1f} ({r[7]:.0f}%) | {r[8]:.1f} | {r[9]} |")
