// Shapes: B batch, H channels, L length; N the real FFT size, M = N / 2 = R1 * 16^(J-1) complex points (one pass, M = 2048
// .. 32768, the J factors of PackedMonarchConv.factors); p a position (row-major index of (k_1 .. k_J)).
//   u, dy, du: (B, H, L) device arrays of the plan's ElementType (bf16 / fp16); D, dD: (H) fp32.
//   dpq: (H, M) float4 {Re dP_p, Im dP_p, Re dQ_p, Im dQ_p} at position p (lib's (dl/dRe, dl/dIm)).
//   block gradients: 2J complex (R_s, R_s, 2) interleaved row-major, lib's order {dF_1 .. dF_J, dG_J .. dG_1}.
//   workspaces (kept): scratch (G, H, 2J, 2, M) of the I/O type, cs (G, H, M) float2, Gram partials (G, H, 2J, 16, 16)
//   float2, block gradients 2 (R1^2 + 256 (J - 1)) fp32, dP / dQ row-group partials (G, H, M) float4 (G > 1).
package ai.longconv4j.cuda;

/**
 * The one-pass tensor-core backward of a {@link PackedMonarchConv} plan (its {@link PackedMonarchConv#backward()}; moved
 * out of that class in session 17, same kernels, same system properties): the whole backward of
 * {@link PackedMonarchConv#forward} but dk — du, dP / dQ, dD and the 2J block Grams on mma.sync ({@link #run}; helper
 * pkjbwd, learned_pmb.cu, session 14) — and helper pkbwdopt's variants of it (learned_pmb2.cu, session 15: row groups, a
 * register cap, fewer block-wide passes; {@link #fast(boolean)}), with {@link #tuned(boolean)} the measured best per M,
 * the default (learned_pmb2.cu at M &lt;= 16384: 1.29-1.60x faster than learned_pmb.cu, its slow twin; helper pmb's
 * stage Grams, session 18, {@link #stageGram}, at 8192 and 16384). It runs on the plan's
 * blocks (left forms), P / Q, D and shared-memory planes ({@link PackedMonarchConv#storage16}); its workspaces are
 * allocated at the first {@link #run} and freed by the plan's close.
 * Starting values: {@code -Dlongconv4j.pmb.tuned} (default true), then, when set, {@code -Dlongconv4j.pmb.fast / regcap /
 * fuse / threads / groups / stagegram / pretw}, read when the plan's backward is first asked for and applied at its first setter or run.
 * <pre>{@code
 * jshell> var bwd = pm.backward()
 * bwd ==> PackedMonarchBackward[M=4096 = 16 x 16 x 16, lpmb2_bwd_bf16_s32_r80, 128 threads, groups 1, fused]
 * jshell> bwd.run(u, dy, 64, du, dpq, dD); var g = bwd.blockGrads();
 * }</pre>
 */
public final class PackedMonarchBackward {
  // ---- helper pkjbwd (session 14): the tensor-core backward, learned_pmb.cu ------------------------------------------
  static final String MODULE = "learned_pmb";
  private final PackedMonarchConv plan;
  private final CudaDevice device;
  private final ElementType io;
  private final int h, l, m, log2m, j, r1, elements;
  private final DeviceBuffer mats, matsAdj, pq, pqAdj, d;
  /** learned_pmb.cu's workspaces, allocated by the first {@link #run} and kept with the plan (freed by close). */
  private DeviceBuffer bScratch, bCs, bPart, bBlk;
  private int bwdThreads = Integer.getInteger("longconv4j.pmb.threads", 0);

  /** The backward of {@code plan} on its device tables (left-form blocks, P / Q, D; {@code elements}: fp32 pairs of the 2J blocks). */
  PackedMonarchBackward(PackedMonarchConv plan, CudaDevice device, ElementType io, int l, DeviceBuffer mats, DeviceBuffer matsAdj,
      DeviceBuffer pq, DeviceBuffer pqAdj, DeviceBuffer d, int elements) {
    this.plan = plan; this.device = device; this.io = io; this.l = l; this.elements = elements;
    this.mats = mats; this.matsAdj = matsAdj; this.pq = pq; this.pqAdj = pqAdj; this.d = d;
    this.h = plan.channels(); this.m = plan.points();
    this.log2m = Integer.numberOfTrailingZeros(m);
    int[] f = PackedMonarchFactors.factors(m);
    this.j = f.length;
    this.r1 = f[0];
  }

  /** learned_pmb.cu pmb_smem: {@link PackedMonarchConv#smem} plus the 2J Gram accumulators (16 x 16 float2 each). */
  static int smem(int log2M, int stBytes, int J) { return PackedMonarchConv.smem(log2M, stBytes) + 2 * J * 256 * 8; }

  /** Threads per block of the backward kernel: 0 (default: 256 for M &lt;= 4096, 512 above), 128, 256 or 512. */
  public PackedMonarchBackward threads(int t) {
    if (t != 0 && t != 128 && t != 256 && t != 512) throw new IllegalArgumentException("PackedMonarchBackward.threads: 0, 128, 256 or 512, got " + t);
    bwdStart();
    bwdThreads = t;
    return this;
  }

  public int threads() { bwdStart(); return bwdThreads != 0 ? bwdThreads : m <= 4096 ? 256 : 512; }

  /**
   * The backward kernel's name: learned_pmb.cu {@code lpmb_bwd_<io>_<s32|s16>} (the plan's shared-memory planes), or with
   * {@link #fast(boolean)} learned_pmb2.cu {@code lpmb2_bwd_<io>_<s32|s16>_r<cap>} ({@link #regCap(int)}).
   */
  public String kernelName() {
    bwdStart();
    boolean s16 = plan.storage16();
    return bwdFast ? "lpmb2_bwd_" + io.tag() + (s16 ? "_s16" : "_s32") + "_r" + bwdRegCap + (bwdStageGram ? "_sg" : "")
        : "lpmb_bwd_" + io.tag() + (s16 ? "_s16" : "_s32");
  }

  // ---- helper pkbwdopt (session 15): learned_pmb2.cu's variants of run (its slow twin: learned_pmb.cu) ----------------
  static final String MODULE2 = "learned_pmb2";
  /** Timing-only flags of learned_pmb2.cu (a set bit gives WRONG gradients): no Grams, no dumps, no C save / dP dQ. */
  public static final int SKIP_GRAM = 1, SKIP_DUMP = 2, SKIP_DPQ = 4;
  private boolean bwdFast = Boolean.getBoolean("longconv4j.pmb.fast");
  private int bwdRegCap = checkBwdCap(Integer.getInteger("longconv4j.pmb.regcap", 0));
  private int bwdGroups = checkBwdGroups(Integer.getInteger("longconv4j.pmb.groups", 1));
  private boolean bwdFuse = Boolean.getBoolean("longconv4j.pmb.fuse");
  private boolean bwdStageGram = Boolean.getBoolean("longconv4j.pmb.stagegram");
  private boolean bwdPreTw = Boolean.getBoolean("longconv4j.pmb.pretw");
  private int bwdSkip, bAllocGroups;
  private DeviceBuffer bDpqW;   // (G, H, M) float4 row-group partials of dP / dQ (G > 1)
  private boolean bwdTunedPending = Boolean.parseBoolean(System.getProperty("longconv4j.pmb.tuned", "true"));

  /**
   * The measured best backward per M (B = 64, H = 768, bf16, causal, both bench orders in one process): helper pkbwdopt's
   * (BENCH-RESULTS.md round 28-pkbwdopt) learned_pmb2.cu with the 80-register cap and PMB2_FUSE, 128 threads at M = 2048 /
   * 4096 (bwd 11.5 / 19.3 ms vs the twin's 18.4 / 30.7); helper pmb's (rounds 30-pmb, 31-pmb) 256 threads at 8192 and
   * 16384, with the Grams in the stages and pre-twiddled dumps ({@link #stageGram}, {@link #preTwiddle}) at both, and no
   * register cap at 16384 (where shared memory holds 2 CTAs per SM anyway): 8192 50.7-50.8 ms (51.6 without the stage
   * Grams; the twin 80.8), 16384 98.3-98.4 (107.0 at cap 80 without them; the twin 127); M = 32768 keeps the twin (114.8 ms
   * at B = 32 vs 155.9 for cap 80 at 256 threads). on: those settings (row groups 1); off: the twin (learned_pmb.cu, the
   * plan's threads). Starting value: {@code -Dlongconv4j.pmb.tuned} (default true), applied at the first {@link #run} or
   * setter; the properties {@code longconv4j.pmb.fast / regcap / fuse / threads / groups / stagegram / pretw}, when set,
   * override it.
   */
  public PackedMonarchBackward tuned(boolean on) {
    bwdTunedPending = false;
    int t = tunedThreads(m);
    bwdFast = on && t != 0;
    bwdRegCap = bwdFast ? tunedCap(m) : 0;
    bwdFuse = bwdFast;
    bwdThreads = bwdFast ? t : 0;
    bwdGroups = 1;
    bwdStageGram = bwdFast && tunedStageGram(m);
    bwdPreTw = bwdStageGram;
    return this;
  }

  /** {@link #tuned}'s threads for M, or 0 where it keeps the twin (M &gt; 16384). */
  static int tunedThreads(int m) { return m <= 4096 ? 128 : m <= 16384 ? 256 : 0; }

  /** {@link #tuned}'s register cap for M (where it takes learned_pmb2.cu): 80, none (0) at M = 16384. */
  static int tunedCap(int m) { return m == 16384 ? 0 : 80; }

  /** Whether {@link #tuned} takes the stage Grams with pre-twiddled dumps at M: at 8192 and 16384 (measured slower at 4096, 2048 not measured). */
  static boolean tunedStageGram(int m) { return m == 8192 || m == 16384; }

  /** The starting values: {@link #tuned}(true) unless -Dlongconv4j.pmb.tuned=false, then the explicit properties. */
  private void bwdStart() {
    if (!bwdTunedPending) return;
    tuned(true);
    if (System.getProperty("longconv4j.pmb.fast") != null) bwdFast = Boolean.getBoolean("longconv4j.pmb.fast");
    if (System.getProperty("longconv4j.pmb.regcap") != null) bwdRegCap = checkBwdCap(Integer.getInteger("longconv4j.pmb.regcap", 0));
    if (System.getProperty("longconv4j.pmb.fuse") != null) bwdFuse = Boolean.getBoolean("longconv4j.pmb.fuse");
    if (System.getProperty("longconv4j.pmb.threads") != null) threads(Integer.getInteger("longconv4j.pmb.threads", 0));
    if (System.getProperty("longconv4j.pmb.groups") != null) bwdGroups = checkBwdGroups(Integer.getInteger("longconv4j.pmb.groups", 1));
    if (System.getProperty("longconv4j.pmb.stagegram") != null) bwdStageGram = Boolean.getBoolean("longconv4j.pmb.stagegram");
    if (System.getProperty("longconv4j.pmb.pretw") != null) bwdPreTw = Boolean.getBoolean("longconv4j.pmb.pretw");
  }

  private static int checkBwdCap(int cap) {
    if (cap != 0 && cap != 80) throw new IllegalArgumentException("PackedMonarchBackward.regCap (-Dlongconv4j.pmb.regcap): 0 or 80, got " + cap);
    return cap;
  }

  private static int checkBwdGroups(int g) {
    if (g < 1 || g > 64) throw new IllegalArgumentException("PackedMonarchBackward.groups (-Dlongconv4j.pmb.groups): 1 .. 64, got " + g);
    return g;
  }

  /**
   * learned_pmb2.cu's backward (helper pkbwdopt; same decomposition and stage code as learned_pmb.cu's, its slow twin):
   * row groups ({@link #groups}), a register cap ({@link #regCap}), 16-byte dump stores and raw 16-bit Gram operands.
   * Starting value: {@link #tuned} (on for M &lt;= 16384), or {@code -Dlongconv4j.pmb.fast}.
   */
  public PackedMonarchBackward fast(boolean on) { bwdStart(); bwdFast = on; return this; }

  public boolean fast() { bwdStart(); return bwdFast; }

  /** Register cap of learned_pmb2.cu's kernel: 0 (__launch_bounds__(512, 1)) or 80 (__maxnreg__(80) on sm_90a). Starting value: {@code -Dlongconv4j.pmb.regcap}. */
  public PackedMonarchBackward regCap(int cap) { bwdStart(); bwdRegCap = checkBwdCap(cap); return this; }

  /**
   * Row groups G of learned_pmb2.cu's kernel (1 .. 64): grid (H, min(G, B)), CTA (h, g) takes the rows g, g + G, .. of
   * channel h (per-CTA scratch, Gram partials and dP / dQ partials, summed by lpmb_reduce / lpmb2_dpq_reduce). Starting
   * value: {@code -Dlongconv4j.pmb.groups} (default 1).
   */
  public PackedMonarchBackward groups(int g) { bwdStart(); bwdGroups = checkBwdGroups(g); return this; }

  /**
   * learned_pmb2.cu's PMB2_FUSE (with {@link #fast}): X_1's dump in u's pack, C's save and W_J's dump in the pair map,
   * dP / dQ in the adjoint pair map, the recompute's unused last inverse stage left out: 5 block-wide passes per row fewer
   * (of 8J + 7), the same values. Starting value:
   * {@link #tuned}, or {@code -Dlongconv4j.pmb.fuse}.
   */
  public PackedMonarchBackward fuse(boolean on) { bwdStart(); bwdFuse = on; return this; }

  // ---- helper pmb (session 18): the Grams inside the stages (learned_pmb2.cu PMB2_SG, kernels _sg) -------------------
  /**
   * With {@link #fast}: learned_pmb2.cu's {@code lpmb2_bwd_*_sg} kernels, where each stage on tensor cores (lm_stage_a /
   * lm_stage_b: all but stage 1 at R1 &lt; 16) takes its Gram from the operand tile it has loaded (pmb3_stage_a /
   * pmb3_stage_b) instead of a separate pass over the planes (pmb2_gram) and a block barrier: 2J - 2 (R1 &lt; 16) or 2J
   * (M = 4096) of the 2J Gram passes per row fewer. The same du bit for bit, the Grams' fp32 sums in another order.
   * Off: the same kernel family without (the slow twin of this switch). Starting value: {@link #tuned} (on at M = 8192 and
   * 16384), or {@code -Dlongconv4j.pmb.stagegram}.
   */
  public PackedMonarchBackward stageGram(boolean on) { bwdStart(); bwdStageGram = on; return this; }

  public boolean stageGram() { bwdStart(); return bwdStageGram; }

  /**
   * With {@link #stageGram}: learned_pmb2.cu's PMB2_PRETW: the dumps of W_s (s &lt; J) stored with the twiddle the dy
   * chain's Grams apply (V_s = W_s o conj(T_s): the 16-bit values those Grams otherwise build at every load, rounded the
   * same way), so those Grams load raw 16-bit pairs. The same du bit for bit. Off: the twiddle at the Grams' loads.
   * Starting value: {@link #tuned} (with the stage Grams), or {@code -Dlongconv4j.pmb.pretw}.
   */
  public PackedMonarchBackward preTwiddle(boolean on) { bwdStart(); bwdPreTw = on; return this; }

  /** Timing only ({@link #SKIP_GRAM} | {@link #SKIP_DUMP} | {@link #SKIP_DPQ}; learned_pmb2.cu only): skipped pieces give WRONG gradients. */
  public PackedMonarchBackward skip(int flags) {
    if (flags < 0 || flags > 7) throw new IllegalArgumentException("PackedMonarchBackward.skip: flags 0 .. 7, got " + flags);
    bwdStart();
    bwdSkip = flags;
    return this;
  }

  /**
   * The whole backward of {@link PackedMonarchConv#forward} on tensor cores except dk (helper pkjbwd, learned_pmb.cu; its
   * float64 model: the tests' PackedMonarchBwdModel): one block per channel recomputes each of its B rows in shared memory (u's forward
   * chain with every stage input dumped to a per-channel 16-bit scratch, the pair map, the inverse chain with its stage
   * inputs dumped; then dy through the adjoint chains), with each stage's Gram on mma.sync (fp32 partials per block,
   * {@code lpmb_reduce} over the channels). Gives du (B, H, L), {@code dpq} (H, M) float4 {dP_p, dQ_p} as
   * {@link PackedMonarchConv#pairGrads}, the 2J block gradients ({@link #blockGrads}) and, when {@code dD} is not null, dD (H) fp32 (lib's
   * sum of u dy per channel; learned_pk_ref2.cu lpj_ddot). dk follows from dpq by the chain's cuFFT route
   * (PackedMonarchLearned.backward). Queued on the device's stream. Workspace (kept): G H (2J 4M + 8M + 4J 1024) bytes
   * (G = 1, or {@link #groups} with {@link #fast}; G &gt; 1 adds 16 G H M for the dP / dQ partials).
   */
  public void run(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dpq, DeviceBuffer dD) {
    if (!plan.pqSet()) throw new IllegalStateException("PackedMonarchBackward.run: call the plan's setWeights or setPq first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || u == null || dy == null || du == null || u.bytes() < need || dy.bytes() < need || du.bytes() < need)   // B: rows loop in-kernel
      throw new IllegalArgumentException("PackedMonarchBackward.run: u, dy and du must hold (B=" + B + " >= 1, H=" + h + ", L=" + l
          + ") " + io + " = " + need + " bytes, got " + (u == null ? "null" : u.bytes()) + ", " + (dy == null ? "null" : dy.bytes()) + " and "
          + (du == null ? "null" : du.bytes()));
    if (du == u || du == dy) throw new IllegalArgumentException("PackedMonarchBackward.run: du must not alias u or dy");
    if (dpq == null || dpq.bytes() < 16L * h * m)
      throw new IllegalArgumentException("PackedMonarchBackward.run: dpq must hold (H=" + h + ", M=" + m + ") float4 = " + 16L * h * m
          + " bytes, got " + (dpq == null ? "null" : dpq.bytes()));
    if (dD != null && dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedMonarchBackward.run: dD must hold (H=" + h + ") fp32 = " + 4L * h + " bytes, got " + dD.bytes());
    bwdStart();
    if (bwdSkip != 0 && !bwdFast)
      throw new IllegalStateException("PackedMonarchBackward.run: skip(" + bwdSkip + ") exists only in learned_pmb2.cu: set fast(true)");
    if (bwdStageGram && !bwdFast)
      throw new IllegalStateException("PackedMonarchBackward.run: stageGram(true) exists only in learned_pmb2.cu: set fast(true)");
    int groups = bwdFast ? Math.min(bwdGroups, B) : 1;   // CTAs per channel (learned_pmb2.cu; the twin: 1)
    if (bScratch == null || bAllocGroups < groups) {
      for (DeviceBuffer b : new DeviceBuffer[] {bScratch, bCs, bPart, bDpqW}) if (b != null) b.close();
      bScratch = device.alloc((long) groups * h * 2 * j * 2 * m * io.bytes());
      bCs = device.alloc(8L * groups * h * m);
      bPart = device.alloc(8L * groups * h * 2 * j * 256);
      bDpqW = groups > 1 ? device.alloc(16L * groups * h * m) : null;
      if (bBlk == null) bBlk = device.alloc(8L * elements);
      bAllocGroups = groups;
    }
    boolean s16 = plan.storage16();
    if (!bwdFast) {
      device.module(MODULE).kernel(kernelName()).launch(device.stream(), h, 1, threads(), smem(log2m, s16 ? 2 : 4, j),
          u, dy, mats, matsAdj, pq, pqAdj, d, du, dpq, bScratch, bCs, bPart, B, h, l, log2m);
    } else {
      device.module(MODULE2).kernel(kernelName()).launch(device.stream(), h, groups, threads(), smem(log2m, s16 ? 2 : 4, j),
          u, dy, mats, matsAdj, pq, pqAdj, d, du, groups > 1 ? bDpqW : dpq, bScratch, bCs, bPart, B, h, l, log2m,
          bwdSkip | (bwdFuse ? 8 : 0) | (bwdStageGram && bwdPreTw ? 16 : 0));
      if (groups > 1)
        device.module(MODULE2).kernel("lpmb2_dpq_reduce").launch(device.stream(), (h * m + 255) / 256, 1, 256, 0, bDpqW, dpq, groups, h * m);
    }
    device.module(MODULE).kernel("lpmb_reduce").launch(device.stream(), (elements + 255) / 256, 1, 256, 0,
        bPart, bBlk, groups * h, Integer.numberOfTrailingZeros(r1), j);
    if (dD != null)
      device.module("learned_pk_ref2").kernel("lpj_ddot_" + io.tag()).launch(device.stream(), h, 1, 256, 0, u, dy, dD, B, h, l);
  }

  private DeviceBuffer bDpq;

  /** A (H, M) float4 buffer owned by the plan for {@link #run}'s dpq (allocated at the first call, freed by close). */
  DeviceBuffer pairGradWorkspace() {
    if (bDpq == null) bDpq = device.alloc(16L * h * m);
    return bDpq;
  }

  /** The 2J block gradients of the last {@link #run}, {dF_1 .. dF_J, dG_J .. dG_1} in lib's layout (float64 copies); synchronises. */
  public double[][] blockGrads() {
    if (bBlk == null) throw new IllegalStateException("PackedMonarchBackward.blockGrads: no run has happened on this plan");
    device.stream().synchronize();
    float[] g = bBlk.copyTo(new float[2 * elements], 0);
    double[][] out = new double[2 * j][];
    for (int i = 0, off = 0; i < 2 * j; i++) {
      int s = i < j ? (i == 0 ? r1 : 16) : (i == 2 * j - 1 ? r1 : 16);
      out[i] = new double[2 * s * s];
      for (int q = 0; q < out[i].length; q++) out[i][q] = g[off++];
    }
    return out;
  }

  /** Frees the workspaces (the plan's close; the plan's tables are the plan's). */
  void close() {
    for (DeviceBuffer b : new DeviceBuffer[] {bScratch, bCs, bPart, bBlk, bDpq, bDpqW}) if (b != null) b.close();
    bScratch = bCs = bPart = bBlk = bDpq = bDpqW = null;
  }

  @Override public String toString() {
    return "PackedMonarchBackward[M=" + m + " = " + PackedMonarchFactors.factorString(PackedMonarchFactors.factors(m)) + ", " + kernelName() + ", "
        + threads() + " threads" + (bwdFast ? ", groups " + bwdGroups + (bwdFuse ? ", fused" : "") + (bwdStageGram ? ", stage Grams" + (bwdPreTw ? " (pre-twiddled)" : "") : "") : "") + "]";
  }
}
