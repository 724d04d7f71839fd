// Shapes: B batch, H channels, L length, Lk taps; M = N / 2 = N1 * 8192 (65536 .. 262144), positions p = k1 * 8192 + p_in
// (lib's position order, PackedThreePass's); the inner-only plans M = 8192 / 4096 (N1 = 1), 16384 / 32768 (N1 = 4 / 8
// rows of 4096, p = k1 * 4096 + p_in) and 2048 (8 rows of 256), the last two stored in pair order.
//   u, dy, du: (B, H, L) device arrays of the plan's 16-bit I/O type; dD: (H) fp32;
//   gpq: (H, M) float4 {Re dP_p, Im dP_p, Re dQ_p, Im dQ_p} at position p (PackedLearnedChain.taps' input: dk from it);
//   scratches (kept by this object, grown when a call needs more): SC (X_2), SG, the dumps (8 of them), O: each (rows of a
//   chunk, N1, 8192) (re, im) 16-bit pairs of the I/O type; Gram partials (blocks of a launch, 4, 16, 16) / (blocks, N1, N1)
//   float2; the block gradients {dF_1 .. dF_5, dG_5 .. dG_1} fp32 complex back to back (sizes N1, 2, 16, 16, 16, 16, 16, 16, 2, N1).
package ai.longconv4j.cuda;

/**
 * The three-pass packed learned butterfly's backward on tensor cores (helper p3, session 17; learned_p3g.cu), for
 * {@link PackedThreePass}'s plan: du, the pair coefficients' gradients {dP, dQ} (dk from them by the chain's cuFFT route,
 * {@link PackedLearnedChain#taps}) and dD. The forward's middle pass is split at its pair map so that both of the pair map
 * gradient's operands reach global memory once per row, in the 16-bit scratch type; per chunk of whole channels:
 * <ol>
 *   <li>u: pass 1 (forward blocks) into scratch SC (X_2, kept), {@code lp3g_bmid0} (the whole forward middle, every inner
 *   stage input dumped, C among them, the output into O);</li>
 *   <li>dy: pass 1 (adjoint blocks) into scratch SG, {@code lp3g_bmid1} (the inner forward-structured chain, adjoint blocks):
 *   SG = the gradient at the pair map's output (as lpj_pair_grad's g);</li>
 *   <li>{@code lp3g_pq_grad}: dP_p = M sum_b g_p conj(C_p), dQ_p = M sum_b g_p C_s(p) (the channel's B rows are adjacent in
 *   the chunk; fp32 sums);</li>
 *   <li>{@code lp3g_bmid2} (adjoint blocks and pair map): the rest of the adjoint middle; pass 3 (adjoint blocks): du + D dy.
 *   bmid1 then bmid2 on one row is {@code lp3_mid16} bit for bit (the same function split at its pair map; the row between
 *   them is the 16-bit planes' content), so du equals {@link PackedThreePass#inputGrad} with scratch16 on and middleWarp
 *   off, bit for bit, given the same outer passes.</li>
 * </ol>
 * dD = sum over b, l of dy u per channel (the chain's {@code lpj_ddot}). The outer passes run on tensor cores where the
 * plan's {@link PackedThreePass#outerTc} setting (or its default, N1 >= 16) says.
 * <p>Helper p3tc (session 18): the 2J block gradients ({@link #blockGrads}, lib's {dF_1 .. dF_5, dG_5 .. dG_1}, the chain's
 * {@link PackedLearnedChain#blockGrads} conventions) on the same route, per chunk: u's forward middle is recomputed from
 * X_2 (pass 1's output, kept) with every inner stage's input dumped ({@code lp3g_bmid0}: X_3 .. X_5, C, C', W_4 .. W_2, 16-bit)
 * and its output kept (O); the dy middles {@code lp3g_bmid1} / {@code lp3g_bmid2} sum each stage's Gram against the
 * matching dump on mma.sync (16-bit operands, fp32 accumulation, per-block partials; stage 2's on CUDA cores in fp32); the outer blocks' Grams ({@code lp3g_ogram}; since session 20 {@code lp3g_ogramt} / {@code lp3g_ogramu}, twiddles from a
 * per-block table, {@link #ogramKernel}: dF_1 from pass 3's input of du and pack(u), dG_1 from
 * pack(dy) and O) after pass 3; {@code lp3g_rseg} / {@code lp3g_rfin} sum the partials per launch in float64 (fixed
 * segments, then the segments in order; session 20, {@link #segmented}), undo the stages' 1/R_s and add into the fp32 block
 * gradients. du, dP / dQ and dD are unchanged (the same stage code, loads and stores). Memory: 11
 * chunk-sized 16-bit buffers ({@link #chunkChannels}: at most 3 x the plan's scratch budget in all) and the partials, kept.
 * <p>Session 21: the same route for the one-pass M = 8192 and 4096 plans ({@link PackedThreePass#innerOnly}, N1 = 1):
 * pass 1 is the packing ({@code lp3g_pack1}: X_1 = u[0::2] + i u[1::2], zero-padded), the middles take two rows a block
 * at 8192 (lib's {2, 16, 16, 16} = the middle's factors; {@code lp3g_obmid*}) and four at 4096 (16 x 16 x 16: the radix-16
 * stages only; {@code lp3g_qbmid*}), the chunks padded with zero rows to whole blocks; pass 3 the unpacking + D dy
 * ({@code lp3g_unpack1}); no outer blocks, no outer Grams. {@link PackedMonarchLearned#innerRoute} selects it (twin:
 * {@link PackedMonarchBackward#run}).
 * <p>Session 22: the one-pass M = 16384 / 32768 plans (lib's {N1, 16, 16, 16}, N1 = 4 / 8; {@link PackedThreePass#quad}) as
 * three passes: pass 1 / 3 the CUDA-core outer passes at an inner 4096 ({@code lp3g_outerq_fwd / inv}, the inner rows stored
 * in pair order, learned_p3.cu's p3_qslot), the middles four inner rows (two whole row pairs) a block ({@code lp3g_q3bmid*},
 * grid (N1 / 4, rows)), dP / dQ by {@code lp3g_pq_grad4} with lN1, the outer Grams at 4096 columns ({@code lp3g_ogramq*});
 * the 16 x 16 block gradients halved as at 4096 (no radix-2 stage). M = 2048 (lib's {8, 16, 16}; {@link PackedThreePass#twoK})
 * the same way at an inner 256 ({@code lp3g_outer2k_*}, {@code lp3g_2kbmid*}: eight chunk rows a block, the middle's stage 3
 * skipped, {@code lp3g_ogram2k*}), the 16 x 16 gradients times 1/32.
 * <pre>{@code
 * jshell> var bw = new PackedThreePassBackward(p3)
 * jshell> bw.backward(u, dy, 16, du, gpq, dD)   // then chain.taps(gpq, dk, sides)
 * jshell> double[][] g = bw.blockGrads()         // {dF_1 .. dF_5, dG_5 .. dG_1}
 * }</pre>
 */
public final class PackedThreePassBackward implements AutoCloseable {
  static final String MODULE = "learned_p3g";
  private static final String DDOT_MODULE = "learned_pk_ref2";
  private static final int THREADS = 256;

  /** Scratch buffers of a chunk: SC (X_2), SG, 8 dumps, O. */
  static final int BUFFERS = 11;
  /**
   * Rows of a chunk the outer Grams' grid takes at once (its y; the partials: 64 x this blocks): {@code
   * -Dlongconv4j.p3.ogram.gy} (read per call), 1 .. 1024; unset: 8 at N1 = 8, 32 at N1 = 16, 4 at N1 = 32 (session 20,
   * bench-runs/s20 s3 / s4, outer Grams' phase per backward: 64K (the unrolled kernel) 4.31 ms with 8, 4.46 with 64, 4.62
   * with 32, 5.93 with 4; 256K 6.64 with 4, 7.06 with 8, 7.94 with 16, 9.65 with 32, 12.8 with 64; N1 = 16 not measured:
   * session 18's 32). The inner-only plans at M = 16384 / 32768 ({@code quad}: 32 column blocks, not 64) default to 256
   * (session 22, bench-runs/s22 s2, outer Grams' phase per backward at B = 64: 16K 25.5 ms with 8, 13.9 with 16, 12.3 with
   * 64, 11.2 with 256, 12.4 with 1024; 32K 18.1 / 11.1 / 11.2 / 10.8 / 14.1). Session 32: 64 for {@code lp3g_ogramv} at
   * M = 32768 ({@code columns}; bench-runs/s32 s4 / s5, ncu, its two kernels over 4 steps: 18.4 ms with 64, 19.8 with 256,
   * 25.8 with 1024: a block's shuffled sums are fewer with more rows each); 256 at M = 2048 (2.13 ms with 256, 6.54 with
   * 64, 2.25 with 1024: 256 column blocks there, not 16 x 256).
   */
  static int ogramRows(int n1, boolean quad, boolean columns) {
    int gy = Integer.getInteger("longconv4j.p3.ogram.gy", columns ? 64 : quad ? 256 : n1 == 8 ? 8 : n1 == 16 ? 32 : 4);   // M = 2048 too (s3: 0.71 ms with 256, 2.09 with 64, 0.71 with 1024)
    if (gy < 1 || gy > 1024) throw new IllegalArgumentException("-Dlongconv4j.p3.ogram.gy must be in [1, 1024], got " + gy);
    return gy;
  }

  private final PackedThreePass p3;
  private final int h, l, m, n1;
  /** N1 = 1: the one-pass M = 8192 / 4096 backward on the middles ({@link PackedThreePass#innerOnly}; session 21). */
  private final boolean inner;
  /** The inner-only plan at M = 16384 / 32768 (N1 = 4 / 8 rows of 4096 in pair order; session 22); pack: N1 = 1. */
  private final boolean quad, pack;
  /** The inner-only plan at M = 2048 = 8 x 256 (session 22): eight chunk rows a middle block, stage 3 skipped. */
  private final boolean two;
  /** Rows a middle block takes (the inner-only plan: 2 at M = 8192, 4 at M = 4096 and (inner rows) 16384 / 32768, 8 at 2048; else 0). */
  private final int rpb;
  /**
   * The middles' Gram accumulators behind their planes: learned_p3g_gram.cuh's P3G_NB = 3 buffers of 16 x 16 float2 (session
   * 27; 2048 before: one buffer, the warps in 8 rounds). 3 blocks of 256 threads still fit an SM: 3 x (69280 + 6144 + 1024 reserved) = 229344 of its 233472 bytes.
   */
  static final int GRAM_SMEM = 3 * 2048;
  /** The M = 16384 middles loading through pass 1 ({@code lp3g_q3bmid0x / 1x}): F_1 behind the Gram buffers (learned_p3g_x.cuh). */
  static final int F1_SMEM = 128;
  /** ... and with the outer Grams too ({@code lp3g_q3bmid1g / 2y}): F_1 / G_1 and the warps' 4 x 4 sums (learned_p3g_x.cuh). */
  static final int OG_SMEM = F1_SMEM + 8 * 32 * 4;
  /** The M = 2048 middles loading through pass 1 ({@code lp3g_2kbmid0x / 1x}): F_1 (8 x 8) behind the Gram buffers. */
  static final int F8_SMEM = 512;
  /** Segments of a launch's partials the first reduce step makes at most (lp3g_rseg's grid y). */
  static final int SEGMENTS = 128;

  private DeviceBuffer sc, sg, dmp, so, part, part2, blk, segs;
  private boolean ran;

  /** A backward for {@code p3}'s plan (its blocks, P / Q, D and scratch budget, read at each call). */
  public PackedThreePassBackward(PackedThreePass p3) {
    this.p3 = p3;
    this.h = p3.channels();
    this.l = p3.length();
    this.m = p3.points();
    this.inner = p3.isInnerOnly();
    this.n1 = p3.outerFactor();   // the inner-only plan's N1 = 1 at M = 4096 / 8192 (not M / 8192), 4 / 8 at 16384 / 32768
    this.rpb = p3.innerRows();
    this.quad = p3.quad();
    this.two = p3.twoK();
    this.pack = inner && !quad && !two;
  }

  /**
   * Whether the op's plan runs the three-pass backward here ({@code -Dlongconv4j.p3.bwd}: unset or "tc" (the default since
   * helper p3tc, session 18): du, dk, dD and the 2J block gradients here; "chain": the fp32 chain for everything, the slow
   * twin; anything else: IllegalArgumentException). Read per call.
   */
  static boolean enabled() { return LearnedDefaults.twoWay("longconv4j.p3.bwd", "tc", "chain"); }

  /**
   * How the Gram partials are summed ({@code -Dlongconv4j.p3.reduce}, read per call): unset or "seg" (the default since session
   * 20): {@code lp3g_rseg} (fixed segments of the blocks, every entry by its own thread, coalesced) then {@code lp3g_rfin};
   * "serial": the slow twin {@code lp3g_reduce} (one thread per entry over all blocks, session 18's). Both in float64, both
   * in a fixed order; they differ only in the order of the double additions.
   */
  static boolean segmented() { return LearnedDefaults.twoWay("longconv4j.p3.reduce", "seg", "serial"); }

  /**
   * Whether the M = 4096 / 8192 plans' dy middle reads dy itself ({@code lp3g_qbmid1x}, session 27; {@code lp3g_obmid1x},
   * session 28: no pass 1 for dy, i.e. no packed copy of dy written and read back; the same plane values, so the same bits) or pass 1's packed copy (the twin):
   * {@code -Dlongconv4j.p3.bwd.directdy}, unset or true: itself; false: the copy. Also (session 28) M = 16384's dy middle
   * loading through pass 1 ({@code lp3g_q3bmid1x}: F_1 of its four inner rows in its load; the same planes), and M = 2048's
   * ({@code lp3g_2kbmid1x}: its eight rows' pass 1). Read per call.
   */
  static boolean directDy() { return !"false".equals(System.getProperty("longconv4j.p3.bwd.directdy")); }

  /**
   * Whether the M = 4096 / 8192 plans' last middle writes du + D dy itself ({@code lp3g_qbmid2x}, session 27; {@code
   * lp3g_obmid2x}, session 28: no pass 3, i.e. no rows stored and unpacked again; each output fmaf(D, dy, v) of the same 16-bit v: the same bits) or through pass 3's
   * {@code lp3g_unpack1} (the twin): {@code -Dlongconv4j.p3.bwd.directdu}, unset or true: itself; false: pass 3. Read per call.
   */
  static boolean directDu() { return !"false".equals(System.getProperty("longconv4j.p3.bwd.directdu")); }

  /**
   * Whether the M = 4096 / 8192 plans' middles read u themselves ({@code lp3g_qbmid0x} / {@code lp3g_obmid0x}, and the stage-3 /
   * stage-2 Gram of {@code lp3g_qbmid2u} / {@code lp3g_obmid2u}; session 28: no pass 1 for u, i.e. no packed copy of u written and read back twice; the same plane values and Gram words,
   * so the same bits) or pass 1's packed copy (the twin): {@code -Dlongconv4j.p3.bwd.directu}, unset or true: themselves
   * (where {@link #directDu} holds too); false: the copy. Also (session 28) M = 16384's u middle loading through pass 1
   * ({@code lp3g_q3bmid0x}, writing pass 1's X_2 from its registers for the last middle's stage-3 Gram), and M = 2048's
   * ({@code lp3g_2kbmid0x}: eight rows' pass 1 in its load, X_2 written for the stage-4 Gram). Read per call.
   */
  static boolean directU() { return !"false".equals(System.getProperty("longconv4j.p3.bwd.directu")); }

  /**
   * Whether the M = 16384 / 2048 plans' middles also do the outer blocks' Grams and pass 3 ({@code lp3g_q3bmid1g} /
   * {@code lp3g_2kbmid1g}: dG_1 in / after its load loop, from dy and the forward middle's output; {@code lp3g_q3bmid2y} /
   * {@code lp3g_2kbmid2y}: du (pass 3's column from its planes: the same bits) and dF_1 in its store; session 28: no pass 3,
   * no outer Gram kernels, one partial a block) or pass 3 and lp3g_ogramc / lp3g_ogram2k (the twin; dF_1 / dG_1 the same
   * sums in another order and, at 16384, with pass 3's twiddles; at 2048 fp32 products instead of 16-bit tensor-core ones:
   * not the same bits):
   * {@code -Dlongconv4j.p3.bwd.outerfuse}: true, in the middles (where {@link #directDy} holds too); false: the passes;
   * unset: in the middles at 16384 only (session 28, bench-runs/s28 s2 / s4: at 16K the op's forward + backward 48.9-49.6 ms
   * fused vs 51.5-52.4 with the passes; at 2K the fused middles were slower, 6.07 vs 5.67 ms of kernels a step under ncu
   * (2kbmid1g 1.42 vs 2kbmid1x 0.90 + ogram2k1 0.34; 2kbmid2y 1.90 vs 2kbmid2 0.97 + pass 3 0.36 + ogram2k0 0.36): their
   * 8 x 8 Gram loops read u / O four times over and a sincospif per operand). Read per call.
   */
  static boolean outerFuse(boolean twoK) {
    String v = System.getProperty("longconv4j.p3.bwd.outerfuse");
    return v == null ? !twoK : !"false".equals(v);
  }

  /**
   * The outer Grams' kernel family by {@code -Dlongconv4j.p3.ogram} (read per call): "table" lp3g_ogramt (each block's
   * N1 x 128 twiddles computed once into shared memory), "table2" lp3g_ogramu (the table, rows unrolled by 2), "sincos"
   * lp3g_ogram (the twin, session 18's: a sincospif per operand load and row); the same sincospif values, so the same bits. Unset: table2 at N1 = 8
   * (4.62 vs 5.06 ms at 64K, s3), table at N1 = 16 and 32 (9.69 vs 11.28 at 256K: the unrolled one needs 185-193
   * registers there, one block per SM).
   */
  static String ogramKernel(int n1) {
    String v = System.getProperty("longconv4j.p3.ogram", n1 == 8 ? "table2" : "table");
    return switch (v) {
      case "table" -> "lp3g_ogramt";
      case "table2" -> "lp3g_ogramu";
      case "sincos" -> "lp3g_ogram";
      default -> throw new IllegalArgumentException("-Dlongconv4j.p3.ogram must be table, table2 or sincos, got '" + v + "'");
    };
  }

  /**
   * Whether the N1 = 8 inner-only plans' outer Grams (M = 2048, 32768) take a column a thread on CUDA cores ({@code
   * lp3g_ogramv}, session 32: every load of a warp 128 contiguous bytes, fp32 products of unrounded operands, the causal
   * zero half of the packed side not computed) rather than {@code lp3g_ogram2k} / {@code lp3g_ogramq}'s tensor-core
   * tiles (the twins: the same sums up to rounding): {@code -Dlongconv4j.p3.ogramv}, "false" for the twins (read per
   * call); {@code -Dlongconv4j.p3.ogramc=true} (lp3g_ogramc) takes precedence.
   */
  static boolean ogramColumns() { return !"false".equals(System.getProperty("longconv4j.p3.ogramv")); }

  /**
   * The inner-only plans' outer Grams (M = 2048, 16384, 32768) on CUDA cores in fp32 ({@code lp3g_ogramc}, session 22) or on
   * tensor cores ({@code lp3g_ogramq} / {@code lp3g_ogram2k}: mostly empty 16 x 8 tiles): {@code -Dlongconv4j.p3.ogramc},
   * "true" or "false" (read per call); unset: CUDA cores at N1 = 4 only (bench-runs/s22 s5, their phase per backward at B =
   * 64: 16K 4.76 ms vs the tiles' 11.24; but 32K 20.0 vs 10.84 and 2K 1.10 vs 0.71 at N1 = 8; s8 with four threads a column
   * and 80 registers still 21.7 vs 10.9 and 1.25 vs 0.70: not the register count, the cause not profiled).
   */
  static boolean ogramCuda(int n1) {
    String v = System.getProperty("longconv4j.p3.ogramc");
    if (v == null) return n1 == 4;
    return LearnedDefaults.twoWay("longconv4j.p3.ogramc", "true", "false");
  }

  /**
   * Channels per chunk: whole channels, as many as 3 x the plan's scratch budget holds in the {@value #BUFFERS} 16-bit
   * chunk buffers (4 M bytes a row each), at least one, at most 65535 rows.
   */
  int chunkChannels(int B) {
    long perChannel = 4L * BUFFERS * m * B;
    return (int) Math.max(1, Math.min(Math.min(h, 3 * p3.scratchBudgetBytes() / perChannel), 65535 / B));
  }

  /** Rows of the chunk buffers for c rows: c, or for the inner-only plan with N1 = 1 c rounded up to its rows a block (2 or 4). */
  private int paddedRows(int c) { return pack || two ? (c + rpb - 1) / rpb * rpb : c; }

  /** Blocks of one middle launch over c chunk rows: (N1 / 2) c, (N1 / 4) c at M = 16384 / 32768, or c / (rows a block) rounded up (N1 = 1). */
  private int middleBlocks(int c) { return quad ? (n1 / 4) * c : inner ? (c + rpb - 1) / rpb : (n1 / 2) * c; }   // 2048: 8 rows a block

  /** Complex entries of the 10 block gradients (2 (N1^2 + 772)). */
  private int blockElements() { return 2 * (n1 * n1 + 772); }

  /**
   * du (B, H, L), gpq (H, M) float4 {dP, dQ}, dD (H) fp32 and the 2J block gradients (then {@link #blockGrads}) for the
   * gradient dy of y = forward(u); queued on the device's stream (no synchronisation). du must not alias u or dy.
   */
  public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer gpq, DeviceBuffer dD) {
    if (!p3.weightsSet()) throw new IllegalStateException("PackedThreePassBackward.backward: call the plan's setWeights or setPq first");
    ElementType io = p3.io();
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || B > 65535 || u == null || dy == null || du == null || u.bytes() < need || dy.bytes() < need || du.bytes() < need)
      throw new IllegalArgumentException("PackedThreePassBackward.backward: u, dy, du must hold (B=" + B + " in [1, 65535], H=" + h + ", L="
          + l + ") " + io + " = " + need + " bytes, got " + bytes(u) + ", " + bytes(dy) + " and " + bytes(du));
    if (gpq == null || gpq.bytes() < 16L * h * m || dD == null || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedThreePassBackward.backward: gpq must hold (H=" + h + ", M=" + m + ") float4 = " + 16L * h * m
          + " bytes and dD (H=" + h + ") fp32, got " + bytes(gpq) + " and " + bytes(dD));
    if (du == u || du == dy) throw new IllegalArgumentException("PackedThreePassBackward.backward: du must not alias u or dy");
    boolean oc = (quad || two) && ogramCuda(n1);                      // the outer Grams: lp3g_ogramc,
    boolean ov = (quad || two) && n1 == 8 && !oc && ogramColumns();   // or a column a thread (lp3g_ogramv), else the tiles
    int hc = chunkChannels(B), ogy = ogramRows(Math.max(n1, 8), quad || two, quad && ov), gyMax = Math.min(hc * B, ogy);
    long sbytes = 4L * m * paddedRows(hc * B);
    CudaDevice dev = p3.device();
    if (sc == null || sc.bytes() < sbytes) {
      closeChunks();
      sc = dev.alloc(sbytes);
      sg = dev.alloc(sbytes);
      dmp = dev.alloc(8 * sbytes);
      so = dev.alloc(sbytes);
      part = dev.alloc(8L * 1024 * middleBlocks(hc * B));
    }
    long p2 = 8L * n1 * n1 * Math.max(INNER_COLS * gyMax, hc * B);   // the outer Grams' partials (outerfuse: one a row)
    if (!pack && (part2 == null || part2.bytes() < p2)) {
      if (part2 != null) part2.close();
      part2 = dev.alloc(p2);
    }
    if (blk == null) blk = dev.alloc(8L * blockElements());
    if (segs == null) segs = dev.alloc(16L * 1024 * SEGMENTS);
    CudaStream s = dev.stream();
    String tag = io.tag();
    boolean tc = p3.outerTc16();
    CudaModule mb = dev.module(PackedThreePass.MODULE_B), mg = dev.module(MODULE);
    var fwd = pack ? mg.kernel("lp3g_pack1_" + tag) : two ? mg.kernel("lp3g_outer2k_fwd_" + tag) : quad ? mg.kernel("lp3g_outerq_fwd" + n1 + "_" + tag)
        : mb.kernel((tc ? "lp3_outertc_fwd" : "lp3_outer16_fwd") + n1 + "_" + tag);
    var inv = pack ? mg.kernel("lp3g_unpack1_" + tag) : two ? mg.kernel("lp3g_outer2k_inv_" + tag) : quad ? mg.kernel("lp3g_outerq_inv" + n1 + "_" + tag)
        : mb.kernel((tc ? "lp3_outertc_inv" : "lp3_outer16_inv") + n1 + "_" + tag);
    String b = !inner ? "lp3g_bmid" : two ? "lp3g_2kbmid" : quad ? "lp3g_q3bmid" : rpb == 4 ? "lp3g_qbmid" : "lp3g_obmid";
    var bmid0 = mg.kernel(b + "0_" + tag);
    var bmid1 = mg.kernel(b + "1_" + tag);
    var bmid2 = mg.kernel(b + "2_" + tag);
    String bx = rpb == 4 ? "lp3g_qbmid" : "lp3g_obmid";   // M = 4096 / 8192 (pack: rpb 4 / 2)
    boolean dx = pack && directDy();   // the dy middle reads dy itself
    var bmid1x = dx ? mg.kernel(bx + "1x_" + tag) : null;
    boolean du4 = pack && directDu();   // the last middle writes du + D dy itself
    boolean xu = du4 && directU();   // the middles read u themselves (needs the direct du middle)
    var bmid2x = du4 ? mg.kernel(bx + (xu ? "2u_" : "2x_") + tag) : null;
    var bmid0x = xu ? mg.kernel(bx + "0x_" + tag) : null;
    boolean q4 = quad && n1 == 4;   // M = 16384: a middle block holds its row's four inner rows, so pass 1 fits in its load
    boolean qu = q4 && directU(), qdy = q4 && directDy();
    var bmid0q = qu ? mg.kernel("lp3g_q3bmid0x_" + tag) : null;
    boolean qf = qdy && outerFuse(false);   // and the outer Grams + pass 3 in the middles
    var bmid1q = qdy ? mg.kernel((qf ? "lp3g_q3bmid1g_" : "lp3g_q3bmid1x_") + tag) : null;
    var bmid2q = qf ? mg.kernel("lp3g_q3bmid2y_" + tag) : null;
    boolean tu = two && directU(), tdy = two && directDy();   // M = 2048: a middle block holds its 8 rows' 8 inner rows each
    var bmid0t = tu ? mg.kernel("lp3g_2kbmid0x_" + tag) : null;
    boolean tf = tdy && outerFuse(true);   // and the outer Grams + pass 3 in the middles
    var bmid1t = tdy ? mg.kernel((tf ? "lp3g_2kbmid1g_" : "lp3g_2kbmid1x_") + tag) : null;
    var bmid2t = tf ? mg.kernel("lp3g_2kbmid2y_" + tag) : null;
    var grad = mg.kernel((inner && m != PackedThreePass.INNER ? "lp3g_pq_grad4_" : "lp3g_pq_grad_") + tag);
    String og = quad ? "lp3g_ogramq" : ogramKernel(n1);
    // the outer Grams' grid x: 128 columns a block (tiles), or 256 / KS columns (lp3g_ogramc: KS = 1 at N1 = 4, 4 at 8)
    // (lp3g_ogramv: 256 columns a block, times 2 where the packed side's upper half is not all zero padding, L > M)
    int ocols = oc ? (m / n1) * (n1 == 4 ? 1 : n1 / 2) / 256 : ov ? (m / n1) / 256 * (l <= m ? 1 : 2)
        : two ? 2 : quad ? INNER_COLS / 2 : INNER_COLS;
    String ocName = "_" + n1 + "_" + tag + "_" + p3.innerLog();
    var og0 = pack ? null : mg.kernel(oc ? "lp3g_ogramc0" + ocName : ov ? "lp3g_ogramv0" + ocName : two ? "lp3g_ogram2k0_" + tag
        : og + "0_" + n1 + "_" + tag);
    var og1 = pack ? null : mg.kernel(oc ? "lp3g_ogramc1" + ocName : ov ? "lp3g_ogramv1" + ocName : two ? "lp3g_ogram2k1_" + tag
        : og + "1_" + n1 + "_" + tag);
    boolean seg = segmented();
    var red = seg ? null : mg.kernel("lp3g_reduce");
    var rseg = seg ? mg.kernel("lp3g_rseg") : null;
    var rfin = seg ? mg.kernel("lp3g_rfin") : null;
    int lN1 = Integer.numberOfTrailingZeros(n1), smem = PackedThreePass.middleSmem(true) + GRAM_SMEM;
    DeviceBuffer mf = p3.mats(false), ma = p3.mats(true), pf = p3.pq(false), pa = p3.pq(true);
    Phases ph = Phases.ifWanted(dev);
    for (int h0 = 0; h0 < h; h0 += hc) {
      int chans = Math.min(hc, h - h0), c = chans * B, gy = Math.min(c, ogy), first = h0 == 0 ? 1 : 0, cp = paddedRows(c);
      int gx = quad ? n1 / 4 : inner ? 1 : n1 / 2, gmid = pack || two ? cp / rpb : c, nb = middleBlocks(c);
      long slot = (long) cp * m;   // a dump slot's elements
      if (ph != null) ph.mark(null);
      if (!xu && !qu && !tu) pass1(fwd, tc, u, mf, sc, h0, B, c, cp);                            // X_2 (inner: X_1 = pack(u))
      if (ph != null) ph.mark("pass 1 u");
      if (xu) bmid0x.launch(s, gx, gmid, THREADS, smem, sc, dmp, so, mf, pf, h0, B, h, lN1, slot, u, l, c, vec16(u, u));
      else if (qu) bmid0q.launch(s, gx, gmid, THREADS, smem + F1_SMEM, sc, dmp, so, mf, pf, h0, B, h, lN1, slot, u, l);   // + X_2
      else if (tu) bmid0t.launch(s, gx, gmid, THREADS, smem + F8_SMEM, sc, dmp, so, mf, pf, h0, B, h, lN1, slot, u, l, c);
      else bmid0.launch(s, gx, gmid, THREADS, smem, sc, dmp, so, mf, pf, h0, B, h, lN1, slot);         // dumps, O
      if (ph != null) ph.mark("bmid0");
      if (!dx && !qdy && !tdy) pass1(fwd, tc, dy, ma, sg, h0, B, c, cp);                         // gW_1
      if (ph != null) ph.mark("pass 1 dy");
      if (dx) bmid1x.launch(s, gx, gmid, THREADS, smem, sg, dy, l, c, vec16(dy, dy), dmp, part, ma, pa, h0, B, h, lN1, slot);
      else if (qf) bmid1q.launch(s, gx, gmid, THREADS, smem + OG_SMEM, sg, dmp, part, ma, pa, h0, B, h, lN1, slot, dy, l, so, part2);
      else if (qdy) bmid1q.launch(s, gx, gmid, THREADS, smem + F1_SMEM, sg, dmp, part, ma, pa, h0, B, h, lN1, slot, dy, l);
      else if (tf) bmid1t.launch(s, gx, gmid, THREADS, smem + F8_SMEM, sg, dmp, part, ma, pa, h0, B, h, lN1, slot, dy, l, c, so, part2);
      else if (tdy) bmid1t.launch(s, gx, gmid, THREADS, smem + F8_SMEM, sg, dmp, part, ma, pa, h0, B, h, lN1, slot, dy, l, c);
      else bmid1.launch(s, gx, gmid, THREADS, smem, sg, dmp, part, ma, pa, h0, B, h, lN1, slot);       // dG_2 .. dG_5; gC'
      if (ph != null) ph.mark("bmid1");
      reduce(s, red, rseg, rfin, part, nb, 1024, lN1, 0, first);
      if (qf) reduce(s, red, rseg, rfin, part2, c, n1 * n1, lN1, 3, first);                      // dG_1 (a partial a row)
      if (tf) reduce(s, red, rseg, rfin, part2, gmid, n1 * n1, lN1, 3, first);                   // (a partial a block)
      if (ph != null) ph.mark("reduce");
      long points = (long) chans * m;
      int blocks = (int) Math.min((points + THREADS - 1) / THREADS, 65535L * 16);
      if (inner && m != PackedThreePass.INNER)
        grad.launch(s, blocks, 1, THREADS, 0, dmp.ptr().at(4L * 3 * slot), sg, gpq, h0, chans, B, lN1, p3.innerLog(), (float) m);
      else grad.launch(s, blocks, 1, THREADS, 0, dmp.ptr().at(4L * 3 * slot), sg, gpq, h0, chans, B, lN1, (float) m);   // C: dump 3
      if (ph != null) ph.mark("pq grad");
      if (xu) bmid2x.launch(s, gx, gmid, THREADS, smem, sg, sc, dmp, part, ma, pa, h0, B, h, lN1, slot,
          dy, p3.skipWeights(), du, l, c, vec16(dy, du), u, vec16(u, u));                         // the same, X_3 from u
      else if (du4 && rpb == 2) bmid2x.launch(s, gx, gmid, THREADS, smem, sg, sc, dmp, part, ma, pa, h0, B, h, lN1, slot,
          dy, p3.skipWeights(), du, l, c, vec16(dy, du), u, 0);                                   // dF_5 .. dF_2; du + D dy
      else if (du4) bmid2x.launch(s, gx, gmid, THREADS, smem, sg, sc, dmp, part, ma, pa, h0, B, h, lN1, slot,
          dy, p3.skipWeights(), du, l, c, vec16(dy, du));                                         // dF_5 .. dF_3; du + D dy
      else if (qf) bmid2q.launch(s, gx, gmid, THREADS, smem + OG_SMEM, sg, sc, dmp, part, ma, pa, h0, B, h, lN1, slot,
          u, dy, p3.skipWeights(), du, l, part2);                                                 // dF_5 .. dF_3; du; dF_1
      else if (tf) bmid2t.launch(s, gx, gmid, THREADS, smem + F8_SMEM, sg, sc, dmp, part, ma, pa, h0, B, h, lN1, slot,
          u, dy, p3.skipWeights(), du, l, c, part2);                                              // dF_5, dF_4; du; dF_1
      else bmid2.launch(s, gx, gmid, THREADS, smem, sg, sc, dmp, part, ma, pa, h0, B, h, lN1, slot);    // dF_5 .. dF_2
      if (ph != null) ph.mark("bmid2");
      reduce(s, red, rseg, rfin, part, nb, 1024, lN1, 1, first);
      if (qf) reduce(s, red, rseg, rfin, part2, c, n1 * n1, lN1, 2, first);                      // dF_1
      if (tf) reduce(s, red, rseg, rfin, part2, gmid, n1 * n1, lN1, 2, first);
      if (ph != null) ph.mark("reduce");
      if (qf || tf) continue;                                                                     // (pass 3, outer Grams: done)
      if (pack) {                                                                                 // du = unpack + D dy
        if (du4) continue;                                                                        // (written by the middle)
        inv.launch(s, gridStride((long) c * ((l + 7) / 8)), 1, THREADS, 0, sg, dy, p3.skipWeights(), du, l, h0, B, h, c, vec16(dy, du), lM());
        if (ph != null) ph.mark("pass 3");
        continue;                                                                                 // no outer blocks
      }
      if (quad || two) inv.launch(s, quad ? QUAD_INNER / THREADS : 1, c, THREADS, 0, sg, ma, dy, p3.skipWeights(), du, l, h0, B, h);
      else p3.outer(false, inv, tc, dy, ma, sg, du, h0, B, c);                                    // du
      if (ph != null) ph.mark("pass 3");
      og0.launch(s, ocols, gy, THREADS, 0, sg, u, part2, l, h0, B, h, c);                          // dF_1
      if (ph != null) ph.mark("outer Grams");
      reduce(s, red, rseg, rfin, part2, ocols * gy, n1 * n1, lN1, 2, first);
      if (ph != null) ph.mark("reduce");
      og1.launch(s, ocols, gy, THREADS, 0, so, dy, part2, l, h0, B, h, c);                         // dG_1
      if (ph != null) ph.mark("outer Grams");
      reduce(s, red, rseg, rfin, part2, ocols * gy, n1 * n1, lN1, 3, first);
      if (ph != null) ph.mark("reduce");
    }
    dev.module(DDOT_MODULE).kernel("lpj_ddot_" + tag).launch(s, h, 1, 256, 0, u, dy, dD, B, h, l);
    ran = true;
    if (ph != null) ph.print("p3tc bwd phases (ms, summed over " + (h + hc - 1) / hc + " chunks of " + hc + " channels) B=" + B + " H=" + h
        + " L=" + l + " M=" + m + ":");
  }

  /**
   * Pass 1 over c chunk rows: the plan's outer pass, the inner-only plan's packing into cp (whole blocks) rows at N1 = 1,
   * or its outer pass at an inner 4096 (lp3g_outerq_fwd) at M = 16384 / 32768.
   */
  private void pass1(CudaModule.Kernel k, boolean tc, DeviceBuffer x, DeviceBuffer mm, DeviceBuffer out, int h0, int B, int c, int cp) {
    if (quad) k.launch(p3.device().stream(), QUAD_INNER / THREADS, c, THREADS, 0, x, mm, out, l, h0, B, h);
    else if (two) {   // inner 256: one block a row; the padding rows of the last middle block zeroed (they add nothing)
      k.launch(p3.device().stream(), 1, c, THREADS, 0, x, mm, out, l, h0, B, h);
      if (cp > c)
        Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(out.ptr().at(4L * m * c), 0, (long) m * (cp - c), p3.device().stream().cu()),
            "cuMemsetD32Async", "M = 2048 padding rows " + c + " .. " + cp, "device " + p3.device().index());
    }
    else if (pack) k.launch(p3.device().stream(), gridStride((long) cp * (m / 4)), 1, THREADS, 0, x, out, l, h0, B, h, c, cp, vec16(x, x), lM());
    else p3.outer(true, k, tc, x, mm, out, null, h0, B, c);
  }

  /**
   * 1 where lp3g_pack1 / lp3g_unpack1 may use 16-byte accesses on rows of a and b: L a multiple of 8, both 16-byte aligned,
   * and {@code -Dlongconv4j.p3.pack16} not "false" (read per call; false: point by point everywhere, the twin: the same bits).
   */
  private int vec16(DeviceBuffer a, DeviceBuffer b) {
    return l % 8 == 0 && a.ptr().address() % 16 == 0 && b.ptr().address() % 16 == 0
        && !"false".equals(System.getProperty("longconv4j.p3.pack16")) ? 1 : 0;
  }

  /** log2 of M (the pack / unpack kernels' row length). */
  private int lM() { return Integer.numberOfTrailingZeros(m); }

  /** Blocks of a grid-stride launch over n items: one item a thread, at most 132 x 16 blocks. */
  private static int gridStride(long n) { return (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, 132L * 16)); }

  /**
   * The nb partials of {@code stride} float2 entries of one launch into the block gradients (kind: p3g_dest's in
   * learned_p3g.cu; first: write rather than add): the serial twin {@code red} when {@link #segmented} is off, else
   * {@code lp3g_rseg} over ceil(nb / seg) segments of seg = ceil(nb / {@value #SEGMENTS}) blocks, then {@code lp3g_rfin}.
   */
  private void reduce(CudaStream s, CudaModule.Kernel red, CudaModule.Kernel rseg, CudaModule.Kernel rfin, DeviceBuffer p, int nb, int stride, int lN1,
                      int kind, int first) {
    if (red != null) { red.launch(s, 4, 1, 256, 0, p, blk, nb, lN1, kind, first); return; }
    int seg = (nb + SEGMENTS - 1) / SEGMENTS, nsg = (nb + seg - 1) / seg, gx = (stride + 255) / 256;
    rseg.launch(s, gx, nsg, 256, 0, p, segs, nb, stride, seg);
    rfin.launch(s, gx, 1, 256, 0, segs, blk, nsg, lN1, kind, first);
  }

  /**
   * {@code -Dlongconv4j.p3.bwd.phases=true} (for the bench; the default false): CUDA events between the steps of every chunk,
   * their spans summed per step and printed after the call (which then synchronises).
   */
  static final class Phases {
    private final CudaDevice dev;
    private final java.util.List<CudaEvent> ev = new java.util.ArrayList<>();
    private final java.util.List<String> names = new java.util.ArrayList<>();

    Phases(CudaDevice dev) { this.dev = dev; }

    /** A new one when {@code -Dlongconv4j.p3.bwd.phases=true} (also PackedMonarchLearned's three-pass backward and dk), else null. */
    static Phases ifWanted(CudaDevice dev) { return Boolean.getBoolean("longconv4j.p3.bwd.phases") ? new Phases(dev) : null; }

    /** An event after the queued work; name: the step that ends here (null: a chunk's start). */
    void mark(String name) { ev.add(new CudaEvent(dev).record(dev.stream())); names.add(name); }

    void print(String head) {
      var sum = new java.util.LinkedHashMap<String, Double>();
      double total = 0;
      for (int i = 1; i < ev.size(); i++)
        if (names.get(i) != null) {
          double t = ev.get(i).elapsedSince(ev.get(i - 1));
          sum.merge(names.get(i), t, Double::sum);
          total += t;
        }
      var sb = new StringBuilder(head);
      sum.forEach((k, v) -> sb.append(String.format(" %s %.3f", k, v)));
      System.out.println(sb.append(String.format(" total %.3f", total)));
      for (CudaEvent e : ev) e.close();
    }
  }

  /** Blocks of the outer Grams' grid x: 8192 columns, 128 a block (8 warps of 16). */
  private static final int INNER_COLS = PackedThreePass.INNER / 128;
  /** The inner size of the M = 16384 / 32768 plans (lib's 16 x 16 x 16 after the outer N1). */
  private static final int QUAD_INNER = PackedThreePass.INNER / 2;

  /**
   * The 2J block gradients of the last {@link #backward}, {dF_1 .. dF_5, dG_5 .. dG_1} in lib's layout (float64 copies of
   * the fp32 sums); synchronises.
   */
  public double[][] blockGrads() {
    if (!ran) throw new IllegalStateException("PackedThreePassBackward.blockGrads: call backward first");
    p3.device().stream().synchronize();
    int[] f = {n1, 2, 16, 16, 16}, sizes = new int[10];
    for (int i = 0; i < 5; i++) { sizes[i] = f[i]; sizes[9 - i] = f[i]; }
    double[][] g = LearnedPlan.unflatten(blk.copyTo(new float[2 * blockElements()], 0), sizes);
    if (!inner) return g;
    if (two) {
      // M = 2048: lib's {F_1, F_2, F_3, G_3, G_2, G_1} from slots 0, 3, 4, 5, 6, 9; the 16 x 16 ones times 1 / 32 (the Grams'
      // scale assumes the radix-2 stage's 1/2 and stage 3's 1/16 before them, both absent here), the outer ones as they are
      double[][] g6 = {g[0], g[3], g[4], g[5], g[6], g[9]};
      for (int i = 1; i < 5; i++) for (int j = 0; j < g6[i].length; j++) g6[i][j] /= 32;
      return g6;
    }
    if (quad) {
      // M = 16384 / 32768: lib's {F_1, F_2 .. F_4, G_4 .. G_2, G_1} from the outer and radix-16 slots (the radix-2 ones
      // unused); the 16 x 16 ones halved as at 4096 (the Grams' scale assumes the radix-2 stage's 1/2), the outer ones as they are
      double[][] g8 = new double[8][];
      g8[0] = g[0];
      g8[7] = g[9];
      for (int i = 0; i < 6; i++) {
        g8[i + 1] = g[i + 2];
        for (int j = 0; j < g8[i + 1].length; j++) g8[i + 1][j] *= 0.5;
      }
      return g8;
    }
    if (rpb == 4) {
      // M = 4096: lib's 6 blocks in the radix-16 slots; the first and last back to lib's left form ([n][k] -> [k][n]), and
      // halved: the Grams' scale assumes the middle's radix-2 stage (its 1/2 on every later stage input), absent here
      double[][] g6 = java.util.Arrays.copyOfRange(g, 2, 8);
      g6[0] = PackedThreePassLayout.transpose(g6[0], 16);
      g6[5] = PackedThreePassLayout.transpose(g6[5], 16);
      for (double[] a : g6) for (int i = 0; i < a.length; i++) a[i] *= 0.5;
      return g6;
    }
    // inner-only: lib's 8 one-pass blocks (the 1 x 1 ones are not computed); the 2 x 2 ones back to lib's left form
    double[][] g8 = java.util.Arrays.copyOfRange(g, 1, 9);
    g8[0] = PackedThreePassLayout.transpose2(g8[0]);
    g8[7] = PackedThreePassLayout.transpose2(g8[7]);
    return g8;
  }

  /**
   * Tests: the kept block gradients NaN-poisoned (cuMemsetD32; the caller synchronises first), so that an entry the next
   * {@link #backward} does not write shows.
   */
  void poisonBlockGrads() { if (blk != null) blk.fill32(0x7fc00000); }

  /** Device bytes this object keeps (its chunk buffers, partials and block gradients). */
  public long keptBytes() {
    long b = 0;
    for (DeviceBuffer x : new DeviceBuffer[] {sc, sg, dmp, so, part, part2, blk, segs}) if (x != null) b += x.bytes();
    return b;
  }

  private static String bytes(DeviceBuffer b) { return b == null ? "null" : Long.toString(b.bytes()); }

  /** Frees the chunk buffers and partials (after the queued work that uses them); the block gradients stay until the plan closes. */
  private void closeChunks() {
    for (DeviceBuffer x : new DeviceBuffer[] {sc, sg, dmp, so, part, part2}) if (x != null) x.close();
    sc = sg = dmp = so = part = part2 = null;
  }

  @Override public void close() {
    closeChunks();
    if (blk != null) { blk.close(); blk = null; }
    if (segs != null) { segs.close(); segs = null; }
    ran = false;
  }

  @Override public String toString() {
    if (quad || two)
      return "PackedThreePassBackward[H=" + h + ", L=" + l + ", M=" + m + " = " + n1 + (two ? " x 16 x 16" : " x 16 x 16 x 16") + " one pass as three (an outer pass, "
          + (two ? "the middles eight chunk rows a block" : "the middles four inner rows a block") + "), du / dP, dQ / dD / the 2J block gradients on tensor cores]";
    if (inner)
      return "PackedThreePassBackward[H=" + h + ", L=" + l + ", M=" + m + " = " + (rpb == 4 ? "16 x 16 x 16" : "2 x 16 x 16 x 16")
          + " one pass on the middles (" + (rpb == 4 ? "four" : "two") + " rows a block),"
          + " du / dP, dQ / dD / the 2J block gradients on tensor cores]";
    return "PackedThreePassBackward[H=" + h + ", L=" + l + ", M=" + m + " = " + n1 + " x 8192, outer passes on "
        + (p3.outerTc16() ? "tensor" : "CUDA") + " cores, du / dP, dQ / dD / the 2J block gradients on tensor cores]";
  }
}
