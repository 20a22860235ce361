"""decode_one_call.py LIB KEYS: three decode calls (B=64 x 32768, H=4, one layer, outside a
graph) with index-K keys KEYS (bf16 or f8e4m3fn), for ncu (--launch-skip 2 --launch-count 1
profiles the third). Run from the repository root."""
import sys, torch
sys.path.insert(0, "kernels_gpu/bench")
import bench_cuda as bc
lib = bc.load(sys.argv[1]); kt = sys.argv[2]
p = bc.Problem(64, 1, 32768 - 1, 4, layers=1, key_type=kt)
call, check, ws = bc.make_caller(lib, p, 1, 4)
for _ in range(3): call(0, torch.cuda.current_stream().cuda_stream)
torch.cuda.synchronize(); check(); print("profiled", kt)
