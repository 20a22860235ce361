#!/usr/bin/env python3
"""Writes an msa.indexer_ragged_paged test program plus its expected output.

The expected block ids come from the small NumPy model of docs/CONTRACT.md below,
written independently of the kernels. Inputs are small integers (exact in
bf16) and the scale is a power of two, so every score is exact in any
precision: the expected ids do not depend on rounding, and exact ties (which
go to the smaller block id) do occur.

Usage: gen_case.py CASE [--order score|block] [--bad-page] > case.mlir
The program prints the result with printMemrefI32; the CHECK lines it carries
match that output row by row (FileCheck input: the same file).
"""
import argparse
import sys

import numpy as np

CASES = {
    # name: H, D, block_size, num_layers, layer_idx, topk, init, local,
    #       [(prefix, new, extra cached), ...]
    "ragged": dict(H=2, D=8, bs=4, layers=2, layer=1, topk=3, init=1, local=1,
                   seqs=[(5, 4, 2), (0, 0, 0), (0, 7, 0), (13, 1, 0)]),
    "decode": dict(H=3, D=4, bs=2, layers=1, layer=0, topk=4, init=0, local=1,
                   seqs=[(9, 1, 0), (16, 1, 0), (2, 1, 0), (0, 1, 0)]),
    "chunked": dict(H=1, D=16, bs=8, layers=3, layer=2, topk=2, init=0,
                    local=1, seqs=[(21, 6, 0)]),
}


def nested(arr, fmt):
    """An MLIR dense literal body with one bracket level per dimension."""
    if arr.ndim == 0:
        return fmt(arr)
    return "[" + ", ".join(nested(a, fmt) for a in arr) + "]"


def bf16_bits(values):
    """Exact bf16 bit patterns of small integers."""
    f32 = np.asarray(values, dtype=np.float32)
    bits = (f32.view(np.uint32) >> 16).astype(np.uint16)
    assert np.array_equal((bits.astype(np.uint32) << 16).view(np.float32), f32)
    return bits


def reference(q, off, prefix, kpos, H, bs, topk, init, local, scale, order):
    """docs/CONTRACT.md, literally: kpos(b, p) -> key vector of position p of seq b."""
    rows = q.shape[0]
    out = np.full((H, rows, topk), -1, dtype=np.int64)
    for b in range(len(off) - 1):
        for t in range(off[b], off[b + 1]):
            n = prefix[b] + (t - off[b]) + 1
            nblk = -(-n // bs)
            keys = np.stack([kpos(b, p) for p in range(n)]).astype(np.float64)
            for h in range(H):
                dots = scale * (keys @ q[t, h].astype(np.float64))
                scores = [max(dots[j * bs:min((j + 1) * bs, n)])
                          for j in range(nblk)]
                local_set = set(range(max(nblk - local, 0), nblk))
                forced = [j for j in range(min(init, nblk)) if j not in local_set]
                forced += sorted(local_set)
                rest = sorted((j for j in range(nblk) if j not in forced),
                              key=lambda j: (-scores[j], j))
                chosen = (forced + rest)[:topk]
                if order == "block":
                    chosen = sorted(chosen)
                out[h, t, :len(chosen)] = chosen
    return out


def write_id_checks(o, ids):
    """CHECK lines for printMemrefI32's output of ids [H, rows, topk]."""
    o.write("// CHECK: rank = 3 offset = 0 sizes = [%d, %d, %d]\n" % ids.shape)
    for h in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            o.write("// CHECK-NEXT: [%s]\n" %
                    ", ".join(str(int(v)) for v in ids[h, t]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=sorted(CASES))
    ap.add_argument("--order", choices=["score", "block"], default="score")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bad-page", action="store_true",
                    help="make one needed page id invalid (expect an error)")
    args = ap.parse_args()
    c = CASES[args.case]
    rng = np.random.default_rng(args.seed)
    H, D, bs, topk = c["H"], c["D"], c["bs"], c["topk"]
    seqs = c["seqs"]
    scale = 0.5

    off = np.cumsum([0] + [s[1] for s in seqs])
    prefix = np.array([s[0] for s in seqs])
    cache = np.array([s[0] + s[2] for s in seqs])
    rows = int(off[-1])
    # Pages: every sequence gets the pages its keys need, in shuffled
    # physical order; two spare pages are never referenced.
    needed = [-(-(p + n) // bs) if n else 0 for p, n, _ in seqs]
    max_pages = max(needed) + 2
    num_pages = sum(needed) + 2
    physical = rng.permutation(num_pages)
    lut = np.full((len(seqs), max_pages), num_pages, dtype=np.int64)
    lut[:, -1] = 0xFFFFFFFF  # padding may hold any value
    cursor = 0
    for b, k in enumerate(needed):
        lut[b, :k] = physical[cursor:cursor + k]
        cursor += k
    # Every cache slot gets a random key; slots no visible row may read
    # (past each sequence's last key) hold huge keys that must never win.
    kb = rng.integers(-3, 4, size=(num_pages, 1, c["layers"], bs, 1, D))
    kb[:, :, :, :, :, :] = np.where(kb == 0, 1, kb)
    for b, (p, n, _) in enumerate(seqs):
        for pos in range(p + n, needed[b] * bs):
            kb[lut[b, pos // bs], 0, :, pos % bs, 0, :] = 100
    for spare in physical[cursor:]:
        kb[spare] = 100
    q = rng.integers(-2, 3, size=(rows, H, D))
    kmax = np.array([[max([s[1] for s in seqs]),
                      max(cache + (off[1:] - off[:-1]))]])
    if args.bad_page:
        b = next(i for i, k in enumerate(needed) if k)
        lut[b, needed[b] - 1] = num_pages + 5

    def kpos(b, pos):
        return kb[lut[b, pos // bs], 0, c["layer"], pos % bs, 0]

    ids = None if args.bad_page else reference(
        q, off, prefix, kpos, H, bs, topk, c["init"], c["local"], scale,
        args.order)

    o = sys.stdout
    o.write("// Generated by gen_case.py %s --order %s --seed %d%s\n" %
            (args.case, args.order, args.seed,
             " --bad-page" if args.bad_page else ""))

    def ui32(name, arr):
        shape = "x".join(str(d) for d in arr.shape)
        vals = nested(np.asarray(arr), lambda v: str(int(v)))
        o.write('memref.global "private" constant @%s : memref<%sxui32> = '
                'dense<%s>\n' % (name, shape, vals))
        return "memref<%sxui32>" % shape

    def bf16(name, arr):
        shape = "x".join(str(d) for d in arr.shape)
        vals = nested(bf16_bits(arr), lambda v: "0x%04X" % int(v))
        o.write('memref.global "private" constant @%s : memref<%sxbf16> = '
                'dense<%s>\n' % (name, shape, vals))
        return "memref<%sxbf16>" % shape

    types = [bf16("q", q), ui32("off", off), ui32("prefix", prefix),
             bf16("kb", kb), ui32("cache", cache), ui32("lut", lut),
             ui32("kmax", kmax)]
    names = ["q", "off", "prefix", "kb", "cache", "lut", "kmax"]
    o.write("func.func private @printMemrefI32(memref<*xi32>)\n")
    o.write("func.func @main() {\n")
    for n, t in zip(names, types):
        tt = t.replace("memref", "tensor")
        o.write("  %%%s_m = memref.get_global @%s : %s\n" % (n, n, t))
        o.write("  %%%s = bufferization.to_tensor %%%s_m restrict : %s to %s\n"
                % (n, n, t, tt))
    rtype = "tensor<%dx%dx%dxi32>" % (H, rows, topk)
    o.write("  %%ids = msa.indexer_ragged_paged %s {num_index_heads = %d, "
            "idx_head_dim = %d, block_size = %d, topk = %d, init_blocks = %d, "
            "local_blocks = %d, layer_idx = %d, scale = %s : f32, "
            "order = #msa.order<%s>} : %s\n" % (
                ", ".join("%" + n for n in names), H, D, bs, topk, c["init"],
                c["local"], c["layer"], scale, args.order,
                ", ".join(t.replace("memref", "tensor") for t in types)))
    mtype = rtype.replace("tensor", "memref")
    o.write("  %%ids_m = bufferization.to_buffer %%ids : %s to %s\n" %
            (rtype, mtype))
    o.write("  %%u = memref.cast %%ids_m : %s to memref<*xi32>\n" % mtype)
    o.write("  call @printMemrefI32(%u) : (memref<*xi32>) -> ()\n")
    o.write("  return\n}\n")
    if ids is None:
        return
    write_id_checks(o, ids)


if __name__ == "__main__":
    main()
