"""decode_timeline.py LIB: per-CTA %globaltimer stamps of the last decode call of a
layer-rotating graph replay (bench_cuda.time_decode_graph), relative to the call's first
CTA entry: min / median / max over the CTAs that took each stamp. LIB is a build of the
decode.cu that decode_timeline_patch.py writes. KEYS=bf16 (default) or f8e4m3fn picks the
key type; CASES (optional) a comma-separated list of label prefixes, as decode_ab.py's.
Run from the repository root."""
import ctypes, os, statistics, sys, torch
sys.path.insert(0, "kernels_gpu/bench")
import bench_cuda as bc
lib = bc.load(sys.argv[1])
raw = ctypes.CDLL(sys.argv[1])
names = {0: "entry", 1: "after wait", 8: "prod: ids+meta", 2: "cons: meta", 10: "cons: q loaded",
         9: "prod: stage0 issued", 3: "cons: stage0 landed", 11: "cons: stage0 scored",
         12: "cons: bar.sync 1", 13: "cons: scores stored", 16: "prod: last item issued",
         17: "cons: last round landed", 18: "cons: last round stored", 4: "pre-barrier",
         5: "post-barrier", 6: "verdict", 14: "sel: scores in", 15: "sel: row done", 7: "done"}
order = [0, 1, 8, 2, 10, 9, 3, 11, 12, 13, 16, 17, 18, 4, 5, 6, 14, 15, 7]
N = 24
kt = os.environ.get("KEYS", "bf16")
want = [c for c in os.environ.get("CASES", "").split(",") if c]
for label, B, new, ctx in [("B=1 ctx=8192", 1, 1, 8192), ("q=2 B=1", 1, 2, 8192), ("B=16 ctx=8192", 16, 1, 8192), ("B=64 ctx=32768", 64, 1, 32768),
                            ("B=8 ctx=131072", 8, 1, 131072)]:
    if want and not any(label.startswith(w) for w in want): continue
    p = bc.Problem(B, new, ctx - new, 4, layers=bc.decode_layers(B, ctx, kt), key_type=kt)
    ms, _ = bc.time_decode_graph(lib, p, 4)
    buf = (ctypes.c_uint64 * (2048 * N))()
    torch.cuda.synchronize()
    raw.msa_cuda_debug_timeline(buf, ctypes.sizeof(buf))
    rows = [[buf[c * N + i] for i in range(N)] for c in range(2048)]
    t0s = [r[0] for r in rows if r[0]]
    tmax0 = max(t0s)
    live = [r for r in rows if r[0] and tmax0 - r[0] < 20000]
    tmin = min(r[0] for r in live)
    print(f"== {label} ({kt}): {ms*1e3:.2f} us per call; {len(live)} CTAs")
    for i in order:
        v = [(r[i] - tmin) / 1e3 for r in live if r[i] >= tmin and r[i] - tmin < 1e6]
        if v:
            print(f"  {i:2d} {names[i]:20s} n {len(v):4d}  min {min(v):7.2f}  median {statistics.median(v):7.2f}  max {max(v):7.2f} us")
    del p; torch.cuda.empty_cache()
