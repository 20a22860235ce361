"""decode_timeline_patch.py OUT [IN]: writes IN (default kernels_gpu/src/decode.cu) with 24 %globaltimer
stamps per CTA (g_tl[cta][0..23], read back by msa_cuda_debug_timeline) to OUT.
A probe, never built into the library: build it as a variant
(build_variant.sh tl:kernels_gpu/src/decode.cu=OUT) and read it with
decode_timeline.py. Each stamp is taken by thread 0 (the first scoring warp) or by the
producer lane; a stamp after a value is forced to wait for it by a branch on it.
Stamps 17 and 18 are rewritten at every round, so they read the CTA's last round;
16 is the producer's end of its last item. Both stage loops are stamped (the
one-stage loop of bf16 keys, the rounds of two stages of f8E4M3FN keys with one
n-tile). Fails loudly when decode.cu no longer has the lines it patches (written
for the decode.cu of 2026-12-04, session 29).

The inserted stage-loop stamps sit in braces of their own: an unbraced
`else for` after `if constexpr` is mis-compiled by nvcc 13.0 (docs/GPU.md,
"Compiler issues")."""
import sys

src = open(sys.argv[2] if len(sys.argv) > 2 else "kernels_gpu/src/decode.cu").read()


def rep(old, new, count=1):
    global src
    assert src.count(old) == count, (old, src.count(old))
    src = src.replace(old, new)


N = 24
rep("constexpr int kMaxCols = kDecRows * 8;  // decode serves H <= 8\n",
    "constexpr int kMaxCols = kDecRows * 8;  // decode serves H <= 8\n"
    f"__device__ unsigned long long g_tl[2048][{N}];\n"
    "__device__ __forceinline__ unsigned long long tl_now() {\n"
    "  unsigned long long t; asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(t)); return t; }\n"
    "#define TL(i) do { if (blockIdx.x < 2048) g_tl[blockIdx.x][i] = tl_now(); } while (0)\n"
    "extern \"C\" int msa_cuda_debug_timeline(void *host, size_t bytes) {\n"
    "  return (int)cudaMemcpyFromSymbol(host, g_tl, bytes < sizeof(g_tl) ? bytes : sizeof(g_tl)); }\n")
# 9: the producer's first copy of the CTA
rep("  stage_issue<D, KB>(p, c, stage, ring + slot * S::kStageBytes, full + 8 * slot);\n",
    "  stage_issue<D, KB>(p, c, stage, ring + slot * S::kStageBytes, full + 8 * slot);\n"
    "  if (issued == 0) TL(9);\n")
# 0, 1: entry and the PDL wait
rep('  asm volatile("griddepcontrol.wait;\\n" ::: "memory");\n',
    '  if (tid == 0) TL(0);\n  asm volatile("griddepcontrol.wait;\\n" ::: "memory");\n  if (tid == 0) TL(1);\n')
# 2, 8: the first item's metadata (consumer), page ids and metadata (producer)
rep("    const bool read_ahead = NPL == 8 && work && item + gridDim.x >= items;\n",
    "    const bool read_ahead = NPL == 8 && work && item + gridDim.x >= items;\n"
    "    if (tid == 0 && item == blockIdx.x) { if (work) TL(2); else TL(2); }\n"
    "    if (tid == kProducerWarp * 32 && item == blockIdx.x) {\n"
    "      const uint32_t w0 = windowed ? wid[0] : ids[0].id[0];\n"
    "      if (work && w0 != 7u) TL(8); else TL(8);\n"
    "    }\n")
# 16: the producer lane's end of an item (the last item's stays)
rep("      if (windowed) __syncwarp();  // (lane 0 has read the window: the next item's may follow)\n",
    "      if (lane == 0 && nst > 0) TL(16);\n"
    "      if (windowed) __syncwarp();  // (lane 0 has read the window: the next item's may follow)\n")
# 10: q loaded (one pass)
rep("    if (passes == 1) load_pass(0);\n",
    "    if (passes == 1) load_pass(0);\n"
    "    if (tid == 0 && item == blockIdx.x) { if (qf[0][0].x != 0x12345u) TL(10); else TL(10); }\n")
# rounds of two stages (f8E4M3FN, one n-tile): 3 / 17 waits returned, 11 scored,
# 12 named barrier, 13 / 18 scores stored
rep("          mbar_wait(bars + 8 * slot[i], ((consumed + i) / kDecStages) & 1u);\n",
    "          mbar_wait(bars + 8 * slot[i], ((consumed + i) / kDecStages) & 1u);\n"
    "        if (tid == 0) { if (t == 0 && item == blockIdx.x) TL(3); TL(17); }\n")
rep("        // The round's slots go back to the producer as in the one-stage loop\n",
    "        if (tid == 0 && t == 0 && item == blockIdx.x) { TL(11); }\n"
    "        // The round's slots go back to the producer as in the one-stage loop\n")
rep('        asm volatile("bar.sync 1, %0;\\n" ::"n"(kConsumerThreads) : "memory");\n'
    "#pragma unroll\n"
    "        for (int i = 0; i < NS; ++i) write_scores(pt[i], s_begin + t + i);\n",
    '        asm volatile("bar.sync 1, %0;\\n" ::"n"(kConsumerThreads) : "memory");\n'
    "        if (tid == 0 && t == 0 && item == blockIdx.x) { TL(12); }\n"
    "#pragma unroll\n"
    "        for (int i = 0; i < NS; ++i) write_scores(pt[i], s_begin + t + i);\n"
    "        if (tid == 0) { if (t == 0 && item == blockIdx.x) TL(13); TL(18); }\n")
# the one-stage loop: the same stamps
rep("        mbar_wait(bars + 8 * slot, (consumed / kDecStages) & 1u);\n",
    "        mbar_wait(bars + 8 * slot, (consumed / kDecStages) & 1u);\n"
    "        if (tid == 0) { if (t == 0 && item == blockIdx.x) TL(3); TL(17); }\n")
rep("        // This thread has read its part of the slot: it goes back to the\n",
    "        if (tid == 0 && t == 0 && item == blockIdx.x) { TL(11); }\n"
    "        // This thread has read its part of the slot: it goes back to the\n")
rep('        asm volatile("bar.sync 1, %0;\\n" ::"n"(kConsumerThreads) : "memory");\n'
    "        write_scores(pt, stage);\n",
    '        asm volatile("bar.sync 1, %0;\\n" ::"n"(kConsumerThreads) : "memory");\n'
    "        if (tid == 0 && t == 0 && item == blockIdx.x) { TL(12); }\n"
    "        write_scores(pt, stage);\n"
    "        if (tid == 0) { if (t == 0 && item == blockIdx.x) TL(13); TL(18); }\n")
# 4, 5: the grid barrier; 6: the verdict
rep("  cooperative_groups::this_grid().sync();\n",
    "  if (tid == 0) TL(4);\n  cooperative_groups::this_grid().sync();\n  if (tid == 0) TL(5);\n")
rep("  if (failed) {\n    fill_invalid(p.out, p.out_elems);\n",
    "  if (tid == 0) TL(6);\n  if (failed) {\n    fill_invalid(p.out, p.out_elems);\n")
# 14, 15: a row's scores in registers and the row selected, for each selection path
rep("      if constexpr (NPL == 8)\n        select_row_s8(dr.sc, dr.nblk, p, dr.out, pre);\n"
    "      else\n        select_row<NPL>(dr.sc, dr.nblk, p, dr.out, pre);\n    }\n  }\n",
    "      if (tid == 0) { if (pre.v[0] != 1.2345f) TL(14); else TL(14); }\n"
    "      if constexpr (NPL == 8)\n        select_row_s8(dr.sc, dr.nblk, p, dr.out, pre);\n"
    "      else\n        select_row<NPL>(dr.sc, dr.nblk, p, dr.out, pre);\n"
    "      if (tid == 0) TL(15);\n    }\n  }\n  __syncthreads();\n  if (tid == 0) TL(7);\n")
rep("          Rank64 k = rank64_keys(dr.nblk, p, pre);\n",
    "          if (tid == 0) { if (pre.v[0] != 1.2345f) TL(14); else TL(14); }\n"
    "          Rank64 k = rank64_keys(dr.nblk, p, pre);\n")
rep("          if (warp == 0) rank64_write(dr.nblk, p, k, dr.out);\n",
    "          if (warp == 0) rank64_write(dr.nblk, p, k, dr.out);\n"
    "          if (tid == 0) TL(15);\n")
rep("          select_row_split4<8>(dr.sc, dr.nblk, p, dr.out, warp,\n"
    "                               reinterpret_cast<SplitBuf *>(part));\n",
    "          if (tid == 0) TL(14);\n"
    "          select_row_split4<8>(dr.sc, dr.nblk, p, dr.out, warp,\n"
    "                               reinterpret_cast<SplitBuf *>(part));\n"
    "          if (tid == 0) TL(15);\n")
open(sys.argv[1], "w").write(src)
