"""decode_timeline_patch.py OUT [IN]: writes IN (default kernels_gpu/src/decode.cu) with 16 %globaltimer
stamps per CTA (g_tl[cta][0..15], read back by msa_cuda_debug_timeline) to OUT.
A probe, never built into the library: build it as a variant
(build_variant.sh tl:kernels_gpu/src/decode.cu=OUT) and read it with
decode_timeline.py. Each stamp is taken by thread 0 (the first scoring warp) or by the
producer lane; a stamp after a value is forced to wait for it by a branch on it.
Fails loudly when decode.cu no longer has the lines it patches."""
import re, sys
src = open(sys.argv[2] if len(sys.argv) > 2 else "kernels_gpu/src/decode.cu").read()
def rep(old, new, count=1):
    global src
    assert src.count(old) == count, (old, src.count(old))
    src = src.replace(old, new)
rep("constexpr int kMaxCols = kDecRows * 8;  // decode serves H <= 8\n",
    "constexpr int kMaxCols = kDecRows * 8;  // decode serves H <= 8\n"
    "__device__ unsigned long long g_tl[2048][16];\n"
    "__device__ __forceinline__ unsigned long long tl_now() {\n"
    "  unsigned long long t; asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(t)); return t; }\n"
    "#define TL(i) do { if (blockIdx.x < 2048) g_tl[blockIdx.x][i] = tl_now(); } while (0)\n"
    "extern \"C\" int msa_cuda_debug_timeline(void *host, size_t bytes) {\n"
    "  return (int)cudaMemcpyFromSymbol(host, g_tl, bytes < sizeof(g_tl) ? bytes : sizeof(g_tl)); }\n")
rep("    stage_issue<D, KB>(p, c, s_begin + t, ring + slot * S::kStageBytes, full + 8 * slot);\n",
    "    stage_issue<D, KB>(p, c, s_begin + t, ring + slot * S::kStageBytes, full + 8 * slot);\n"
    "    if (t == 0 && issued < 1) TL(9);\n")
rep('  asm volatile("griddepcontrol.wait;\\n" ::: "memory");\n',
    '  if (tid == 0) TL(0);\n  asm volatile("griddepcontrol.wait;\\n" ::: "memory");\n  if (tid == 0) TL(1);\n')
rep("    const bool read_ahead = NPL == 8 && work && item + gridDim.x >= items;\n",
    "    const bool read_ahead = NPL == 8 && work && item + gridDim.x >= items;\n"
    "    if (tid == 0 && item == blockIdx.x) { if (work) TL(2); else TL(2); }\n"
    "    if (tid == kProducerWarp * 32 && item == blockIdx.x) { if (work && ids[0].id[0] != 7u) TL(8); else TL(8); }\n")
rep("    if (passes == 1) load_pass(0);\n",
    "    if (passes == 1) load_pass(0);\n"
    "    if (tid == 0 && item == blockIdx.x) { if (qf[0][0].x != 0x12345u) TL(10); else TL(10); }\n")
rep("      mbar_wait(bars + 8 * slot, (consumed / kDecStages) & 1u);\n",
    "      mbar_wait(bars + 8 * slot, (consumed / kDecStages) & 1u);\n"
    "      if (tid == 0 && t == 0 && item == blockIdx.x) TL(3);\n")
rep("        // The two 16-key slices are one block unless bs == 16.\n",
    "        if (tid == 0 && t == 0 && item == blockIdx.x) { if (mx[0][0][0] != 1.2345f) TL(11); else TL(11); }\n"
    "        // The two 16-key slices are one block unless bs == 16.\n")
src = src.replace('      asm volatile("bar.sync 1, %0;\\n" ::"n"(kConsumerThreads) : "memory");\n', "@@BAR1@@", 1)
rep("@@BAR1@@",
    '      asm volatile("bar.sync 1, %0;\\n" ::"n"(kConsumerThreads) : "memory");\n'
    "      if (tid == 0 && t == 0 && item == blockIdx.x) TL(12);\n")
rep("        if (j * bs < pr.lim) pr.row[j] = v;  // (so j < the sequence's block count)\n      }\n",
    "        if (j * bs < pr.lim) pr.row[j] = v;  // (so j < the sequence's block count)\n      }\n"
    "      if (tid == 0 && t == 0 && item == blockIdx.x) TL(13);\n")
rep("  cooperative_groups::this_grid().sync();\n",
    "  if (tid == 0) TL(4);\n  cooperative_groups::this_grid().sync();\n  if (tid == 0) TL(5);\n")
rep("  if (failed) {\n    fill_invalid(p.out, p.out_elems);\n",
    "  if (tid == 0) TL(6);\n  if (failed) {\n    fill_invalid(p.out, p.out_elems);\n")
rep("      if constexpr (NPL == 8)\n        select_row_s8(dr.sc, dr.nblk, p, dr.out, pre);\n      else\n        select_row<NPL>(dr.sc, dr.nblk, p, dr.out, pre);\n",
    "      if (tid == 0) { if (pre.v[0] != 1.2345f) TL(14); else TL(14); }\n"
    "      if constexpr (NPL == 8)\n        select_row_s8(dr.sc, dr.nblk, p, dr.out, pre);\n      else\n        select_row<NPL>(dr.sc, dr.nblk, p, dr.out, pre);\n"
    "      if (tid == 0) TL(15);\n")
# the end of the kernel: after the selection loop
rep("        select_row<NPL>(dr.sc, dr.nblk, p, dr.out, pre);\n      if (tid == 0) TL(15);\n    }\n  }\n",
    "        select_row<NPL>(dr.sc, dr.nblk, p, dr.out, pre);\n      if (tid == 0) TL(15);\n    }\n  }\n  __syncthreads();\n  if (tid == 0) TL(7);\n")
rep("          Rank64 k = rank64_keys(dr.nblk, p, pre);\n",
    "          if (tid == 0) { if (pre.v[0] != 1.2345f) TL(14); else TL(14); }\n"
    "          Rank64 k = rank64_keys(dr.nblk, p, pre);\n")
rep("          if (warp == 0) rank64_write(dr.nblk, p, k, dr.out);\n",
    "          if (warp == 0) rank64_write(dr.nblk, p, k, dr.out);\n"
    "          if (tid == 0) TL(15);\n")
open(sys.argv[1], "w").write(src)
