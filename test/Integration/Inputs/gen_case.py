#!/usr/bin/env python3
"""Writes an msa.indexer_ragged_paged test program plus its expected output.

The expected block ids come from the small NumPy model of docs/CONTRACT.md below,
written independently of the kernels. Inputs are small integers (exact in
bf16) and the scale is a power of two, so every score is exact in any
precision: the expected ids do not depend on rounding, and exact ties (which
go to the smaller block id) do occur.

Index-K: --key-type bf16 (default) or f8e4m3fn says how k_blocks is stored;
--key-values says what the keys are: "ints" (the default for bf16: small
integers, exact in bf16) or "e4m3" (the default for f8e4m3fn: random e4m3
bytes, |k| <= 8, subnormals, zeros and negatives included, plus a few NaN
bytes). e4m3 keys stored as bf16 are the same values (exact): both storages
must give the same ids. The model decodes e4m3 bytes itself (e4m3_value
below, from the format's definition). With e4m3 keys, |q| <= 2 and D <= 16,
every partial sum is a multiple of 2^-9 below 2^9, exact in f32, so the ids
still do not depend on rounding.

Usage: gen_case.py CASE [--order score|block] [--bad-page]
                        [--key-type bf16|f8e4m3fn] [--key-values ints|e4m3]
                        > case.mlir
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
    # e4m3 edge cases (see plant_e4m3_edges): an exact tie, a NaN-only
    # block, NaN bytes in single elements.
    "f8edges": dict(H=2, D=4, bs=2, layers=1, layer=0, topk=3, init=0,
                    local=1, seqs=[(11, 2, 0), (6, 1, 0), (13, 2, 0)]),
}

# e4m3 bytes: the largest finite value (448), and the NaN bytes S.1111.111.
E4M3_MAX = 0x7E
E4M3_NAN = (0x7F, 0xFF)


def e4m3_value(byte):
    """The value of an OCP fp8 e4m3 "FN" byte: sign, 4-bit exponent (bias 7),
    3-bit mantissa; exponent 0 is subnormal (m/8 * 2^-6); S.1111.111 is NaN;
    no infinities."""
    byte = int(byte)
    sign = -1.0 if byte & 0x80 else 1.0
    exponent, mantissa = (byte >> 3) & 0xF, byte & 0x7
    if exponent == 0xF and mantissa == 0x7:
        return float("nan")
    if exponent == 0:
        return sign * mantissa / 8.0 * 2.0 ** -6
    return sign * (1.0 + mantissa / 8.0) * 2.0 ** (exponent - 7)


def random_e4m3_bytes(rng, shape):
    """Random e4m3 bytes of magnitude <= 8 (0x50): zeros, subnormals
    (0x01..0x07) and normals, either sign; about 1 in 40 a NaN byte."""
    magnitude = rng.integers(0, 0x51, size=shape)
    sign = rng.integers(0, 2, size=shape) << 7
    nan = rng.random(size=shape) < 1.0 / 40
    return np.where(nan, 0x7F | sign, magnitude | sign).astype(np.uint8)


def nested(arr, fmt):
    """An MLIR dense literal body with one bracket level per dimension."""
    if arr.ndim == 0:
        return fmt(arr)
    return "[" + ", ".join(nested(a, fmt) for a in arr) + "]"


def bf16_bits(values):
    """Exact bf16 bit patterns of values exact in bf16 (NaN: a quiet NaN)."""
    f32 = np.asarray(values, dtype=np.float32)
    bits = (f32.view(np.uint32) >> 16).astype(np.uint16)
    assert np.array_equal((bits.astype(np.uint32) << 16).view(np.float32), f32,
                          equal_nan=True)
    return bits


def block_score(dots):
    """The max of a block's dots; NaN dots are skipped, none left: -inf."""
    finite = dots[~np.isnan(dots)]
    return finite.max() if finite.size else -np.inf


def reference(q, off, prefix, kpos, H, bs, topk, init, local, scale, order):
    """docs/CONTRACT.md, literally: kpos(b, p) -> key vector (float) of
    position p of seq b."""
    rows = q.shape[0]
    out = np.full((H, rows, topk), -1, dtype=np.int64)
    for b in range(len(off) - 1):
        for t in range(off[b], off[b + 1]):
            n = prefix[b] + (t - off[b]) + 1
            nblk = -(-n // bs)
            keys = np.stack([kpos(b, p) for p in range(n)]).astype(np.float64)
            for h in range(H):
                dots = scale * (keys @ q[t, h].astype(np.float64))
                scores = [block_score(dots[j * bs:min((j + 1) * bs, n)])
                          for j in range(nblk)]
                local_set = set(range(max(nblk - local, 0), nblk))
                forced = [j for j in range(min(init, nblk)) if j not in local_set]
                forced += sorted(local_set)
                # Blocks scoring -inf (all keys NaN) are never selected.
                rest = sorted((j for j in range(nblk)
                               if j not in forced and scores[j] > -np.inf),
                              key=lambda j: (-scores[j], j))
                chosen = (forced + rest)[:topk]
                if order == "block":
                    chosen = sorted(chosen)
                out[h, t, :len(chosen)] = chosen
    return out


def plant_e4m3_edges(kslot, kpos, q, off, prefix, bs, scale, model):
    """The f8edges case: turns random e4m3 keys into the edge cases and
    asserts that each one decides something in the model's ids.
    Sequence 0 (row 0 sees 12 keys = blocks 0..5, block 5 local):
      - block 2 holds NaN bytes only (0x7F and 0xFF): it scores -inf and is
        never selected;
      - key 0 has one NaN byte (0xFF): that key is skipped, block 0 scores
        by key 1;
      - the keys of the last selected unforced block of head 0, row 0 are
        copied to an unselected block: an exact tie that the smaller id
        wins, whichever side it is on.
    Sequence 1 (one row, 7 keys = blocks 0..3, topk = 3): blocks 1 and 2
    hold NaN bytes only, so the row has 2 ids and one -1.
    Sequence 2 (two rows, 14 and 15 keys): keys with exponent 0 or 1
    only (subnormals and the smallest normals, either sign), so that its
    ids change if subnormals are flushed to zero or decoded as normals
    (asserted against those wrong decodes).
    Negative keys come from the random bytes (asserted)."""
    for pos in (4, 5):
        kslot(0, pos)[:] = [E4M3_NAN[(pos + i) % 2] for i in range(len(kslot(0, pos)))]
    kslot(0, 0)[0] = 0xFF
    for pos in (2, 3, 4, 5):
        kslot(1, pos)[:] = E4M3_NAN[pos % 2]
    for pos in range(prefix[2] + 2):
        kslot(2, pos)[:] = kslot(2, pos) & 0x8F  # exponent 0 or 1

    row0 = off[0]
    n0 = prefix[0] + 1
    ids = model("score")  # selection order: the last id is the last chosen
    chosen = [int(j) for j in ids[0, row0] if j >= 0]
    last = chosen[-1]  # the last selected one, an unforced block
    local = -(-n0 // bs) - 1
    loser = next(j for j in range(1, local) if j not in chosen and j != 2)
    for i in range(bs):
        kslot(0, loser * bs + i)[:] = kslot(0, last * bs + i)
    ids = model("score")
    chosen = [int(j) for j in ids[0, row0] if j >= 0]
    winner = min(last, loser)
    assert winner in chosen and max(last, loser) not in chosen, \
        "the planted tie must be decided by the smaller block id"
    dots = scale * np.stack([kpos(0, p) for p in range(n0)]) @ q[row0, 0]
    assert block_score(dots[last * bs:(last + 1) * bs]) == \
        block_score(dots[loser * bs:(loser + 1) * bs]) > -np.inf
    assert 2 not in ids[:, row0], "the NaN-only block is never selected"
    assert (ids[:, off[1]] == -1).sum() >= 1, "sequence 1 has -1 padding"
    flushed = lambda v: 0.0 if (int(v) & 0x78) == 0 else e4m3_value(v)
    as_normal = lambda v: e4m3_value(int(v) | 0x08 if (int(v) & 0x78) == 0 else v)
    for wrong in (flushed, as_normal):
        rows2 = slice(off[2], off[3])
        assert (model("score", wrong)[:, rows2] != ids[:, rows2]).any(), \
            "subnormal decoding decides sequence 2's ids"
    visible = [kslot(b, p) for b in range(2) for p in range(prefix[b] + 1)]
    visible = np.concatenate(visible)
    assert any((v & 0x78) == 0 and (v & 0x7) != 0 for v in visible), \
        "a visible subnormal key"
    assert any(v & 0x80 and (v & 0x7F) not in (0, 0x7F) for v in visible), \
        "a visible negative key"


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
    ap.add_argument("--key-type", choices=["bf16", "f8e4m3fn"],
                    default="bf16", help="element type of k_blocks")
    ap.add_argument("--key-values", choices=["ints", "e4m3"],
                    help="small integers (default for bf16) or e4m3 values "
                         "(default for f8e4m3fn)")
    args = ap.parse_args()
    c = CASES[args.case]
    e4m3_keys = (args.key_values or
                 ("ints" if args.key_type == "bf16" else "e4m3")) == "e4m3"
    if args.key_type == "f8e4m3fn" and not e4m3_keys:
        ap.error("f8e4m3fn storage holds e4m3 values (--key-values e4m3)")
    if args.case == "f8edges" and not e4m3_keys:
        ap.error("the f8edges case plants e4m3 bytes (--key-values e4m3)")
    assert not e4m3_keys or c["D"] <= 16, "exact f32 sums need D <= 16"
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
    kshape = (num_pages, 1, c["layers"], bs, 1, D)
    if e4m3_keys:
        kb = random_e4m3_bytes(rng, kshape)
        huge = E4M3_MAX
    else:
        kb = rng.integers(-3, 4, size=kshape)
        kb[:, :, :, :, :, :] = np.where(kb == 0, 1, kb)
        huge = 100
    for b, (p, n, _) in enumerate(seqs):
        for pos in range(p + n, needed[b] * bs):
            kb[lut[b, pos // bs], 0, :, pos % bs, 0, :] = huge
    for spare in physical[cursor:]:
        kb[spare] = huge
    q = rng.integers(-2, 3, size=(rows, H, D))
    kmax = np.array([[max([s[1] for s in seqs]),
                      max(cache + (off[1:] - off[:-1]))]])
    if args.bad_page:
        b = next(i for i, k in enumerate(needed) if k)
        lut[b, needed[b] - 1] = num_pages + 5

    def kslot(b, pos):
        """The k_blocks slot (stored bytes or integers) of key position pos."""
        return kb[lut[b, pos // bs], 0, c["layer"], pos % bs, 0]

    def kpos(b, pos, decode=e4m3_value):
        slot = kslot(b, pos)
        return np.array([decode(v) for v in slot]) if e4m3_keys else slot

    def model(order=args.order, decode=e4m3_value):
        return reference(q, off, prefix, lambda b, p: kpos(b, p, decode), H,
                         bs, topk, c["init"], c["local"], scale, order)

    if args.case == "f8edges":
        plant_e4m3_edges(kslot, kpos, q, off, prefix, bs, scale, model)
    ids = None if args.bad_page else model()

    o = sys.stdout
    o.write("// Generated by gen_case.py %s --order %s --seed %d%s "
            "--key-type %s --key-values %s\n" %
            (args.case, args.order, args.seed,
             " --bad-page" if args.bad_page else "", args.key_type,
             "e4m3" if e4m3_keys else "ints"))

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

    def f8e4m3fn(name, arr):
        """The bytes themselves, as the hex bit patterns MLIR parses."""
        shape = "x".join(str(d) for d in arr.shape)
        vals = nested(np.asarray(arr), lambda v: "0x%02X" % int(v))
        o.write('memref.global "private" constant @%s : memref<%sxf8E4M3FN> '
                '= dense<%s>\n' % (name, shape, vals))
        return "memref<%sxf8E4M3FN>" % shape

    if args.key_type == "f8e4m3fn":
        kb_type = f8e4m3fn("kb", kb)
    elif e4m3_keys:  # the same values as bf16 (exact)
        kb_type = bf16("kb", np.vectorize(e4m3_value)(kb))
    else:
        kb_type = bf16("kb", kb)
    types = [bf16("q", q), ui32("off", off), ui32("prefix", prefix),
             kb_type, ui32("cache", cache), ui32("lut", lut),
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
