"""decode_ab.py NAME=LIB ...: same-run A/B of decode builds (the issue-9 bf16 rows but H=1, B=1 x 131072, fp8 B=64, B=16, q=4 B=64 and B=1),
ROUNDS (default 2) interleaved rounds so that drift shows; DIFF marks ids unlike the first library's;
CASES (optional): a comma-separated list of label prefixes, the cases to run (e.g. CASES="fp8,B=64").
Run from the repository root."""
import sys, torch
sys.path.insert(0, "kernels_gpu/bench")
import bench_cuda as bc
libs = [(a.split("=")[0], bc.load(a.split("=")[1])) for a in sys.argv[1:]]
_, _, rd, how = bc.ceilings()
print(f"read-only ceiling {rd:.0f} GB/s")
cases = [("B=1 ctx=8192", 1, 1, 8192, 4, "bf16"), ("q=2 B=1 ctx=8192", 1, 2, 8192, 4, "bf16"),
         ("B=16 ctx=8192", 16, 1, 8192, 4, "bf16"), ("B=64 ctx=32768", 64, 1, 32768, 4, "bf16"),
         ("B=8 ctx=131072", 8, 1, 131072, 4, "bf16"), ("q=4 B=64 ctx=32768", 64, 4, 32768, 4, "bf16"),
         ("B=1 ctx=131072", 1, 1, 131072, 4, "bf16"),
         ("fp8 B=64 ctx=32768", 64, 1, 32768, 4, "f8e4m3fn"),
         ("fp8 B=16 ctx=8192", 16, 1, 8192, 4, "f8e4m3fn"),
         ("fp8 q=4 B=64 ctx=32768", 64, 4, 32768, 4, "f8e4m3fn"),
         ("fp8 B=1 ctx=8192", 1, 1, 8192, 4, "f8e4m3fn")]
print("| case | " + " | ".join(n for n, _ in libs) + " |")
print("|---|" + "---|" * len(libs))
want = [c for c in __import__("os").environ.get("CASES", "").split(",") if c]
for label, B, new, ctx, H, kt in cases:
    if want and not any(label.startswith(w) for w in want): continue
    p = bc.Problem(B, new, ctx - new, H, layers=bc.decode_layers(B, ctx, kt), key_type=kt)
    cells, ref = [], None
    for rnd in range(int(__import__("os").environ.get("ROUNDS", "2"))):  # two rounds, interleaved: drift shows
        for i, (n, lib) in enumerate(libs):
            ms, outs = bc.time_decode_graph(lib, p, H)
            s = f"{ms*1e3:.2f}"
            if ref is None: ref = outs[0].clone()
            elif not torch.equal(outs[0], ref): s += " DIFF"
            if rnd == 0: cells.append(s)
            else: cells[i] += f" / {s}"
            del outs
    print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    del p; torch.cuda.empty_cache()
