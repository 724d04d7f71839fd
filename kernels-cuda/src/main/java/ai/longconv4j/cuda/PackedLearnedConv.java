// Shapes: B batch, H channels, L length, Lk kernel taps; N the real FFT size (MONARCH's sizing: causal N the power of
// two >= L + Lk - 1, bidirectional >= L + Lk, at least 32; circular N = L), M = N / 2 = N1 x N2 the learned complex
// transform (these kernels: M = 256 = 16 x 16, 512 = 16 x 32, 1024 = 32 x 32; with Lk = L: causal / bidirectional
// 128 < L <= 1024, circular L = 512, 1024 and 2048).
//   u, y, dy, du: (B, H, L) device arrays of the plan's ElementType (bf16 / fp16); k: (H, Lk) fp32 (bidirectional: k0,
//   k1 (H, Lk) each); dk: (sides, H, Lk) fp32; D: (H) fp32.
//   blocks {Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1)}, complex interleaved (n, n, 2) as lib's LearnedButterfly.
//   pair coefficients: (H, M) complex pairs {P, Q} (lib's PackedLearnedButterfly.pairCoefficients per channel).
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.PackedLearnedButterfly;

/**
 * The PACKED learned butterfly's forward and input gradient on the GPU (engine LEARNED_PACKED; lib's float64 twin is
 * {@code ai.longconv4j.conv.PackedLearnedButterfly}): each real row u of length L is packed into M = N/2 complex points
 * z[m] = u[2m] + i u[2m+1] and run through a learned 2-factor transform of M points (blocks {Fa, Fb, Gb, Ga}, initialised
 * to the exact DFT; twiddles fixed), the real-FFT split, the product with the kernel spectrum and the merge folded into
 * one per-frequency pair map C'[k] = P_k C[k] + Q_k conj(C[M-k]), and the learned inverse: FlashButterfly's per-row work,
 * half the transform of {@link LearnedButterflyConv} (which transforms N points per real row). At init the output equals
 * an exact FFT convolution.
 * <p>
 * Covered (else {@link IllegalArgumentException} naming the shape): CAUSAL and BIDIRECTIONAL at M = 1024 = 32 x 32
 * (with Lk = L: 512 &lt; L &lt;= 1024), 512 = 16 x 32 (256 &lt; L &lt;= 512) and 256 = 16 x 16 (128 &lt; L &lt;= 256); CIRCULAR
 * (N = L) at L = 512 (16 x 16), 1024 (16 x 32) and 2048 (32 x 32); bf16 / fp16 I/O, any B &gt;= 1,
 * 1 &lt;= H &lt;= 65535, 1 &lt;= Lk &lt;= L. Kernels: learned_pk.cu ({@code lpk_forward_*}: pc2p's chained structure on
 * mma.sync, a pair of warps per row at N1 = 32, one warp per row at N1 = 16; fp32 accumulation, 16-bit blocks prepared per {@link #setBlocks}; P and Q
 * computed in fp32 on the GPU from the taps per {@link #setWeights}, {@code lpk_pq} / {@code lpk_pq_bi}). The input gradient alone:
 * {@link #backwardInput} (the same kernel on the adjoint blocks and the adjoint pair map); all gradients (du, dk, dD and
 * the four block gradients): {@link #backward} and {@link #blockGrads} ({@link PackedLearnedBackward}, learned_pk_bwd.cu).
 * <p>
 * Session 13, helper pkmode: BIDIRECTIONAL and CIRCULAR run the causal kernels unchanged where they can. Bidirectional
 * has the causal row's layout (u zero-padded to N, the output cropped to L) and differs only in P / Q ({@code lpk_pq_bi}:
 * k1 placed at [N - 1 - t] as lib places it) and dk's second side; circular (N = L) fills every row of A with data and
 * every row of E is output, which the N1 = 16 kernels already stage and store (16 rows = N1); circular L = 2048
 * (32 x 32) runs kernels whose x stage holds all 32 rows of A ({@code lpk_forward_*_32x32r1w12s32}, learned_pk.cu
 * SR = 32: step 1 multiplies both k16 blocks; one row per pair at 12 warps, variant 0 only; its backward:
 * PackedLearnedBackward's 32-row chains). BENCH-RESULTS round 26-pkmode.
 * <pre>{@code
 * jshell> var pk = PackedLearnedConv.plan(dev, 768, 1024, 1024, ConvMode.CAUSAL, ElementType.BF16)
 * pk ==> PackedLearnedConv[H=768, L=1024, Lk=1024, CAUSAL, N=2048, M=1024 = 32 x 32, io=BF16, 2 rows / unit, 12 warps, variant 27]
 * jshell> pk.setWeights(k, D); pk.forward(u, y, 64); pk.backwardInput(dy, du, 64);
 * }</pre>
 */
public final class PackedLearnedConv implements AutoCloseable, LearnedPlan {
  private static final String MODULE = "learned_pk";
  /** The factorizations of M this GPU forward covers, {N1, N2}. */
  private static final int[][] COVERED = {{16, 16}, {16, 32}, {32, 32}};

  private final CudaDevice device;
  private final int h, l, lk, n, m, n1, n2, taps, taps1;
  /** Rows of the kernels' x stage: 16, or 32 for circular at 32 x 32 (N = L: all rows of A are data). */
  private final int sr;
  private final ConvMode mode;
  private final ElementType io;
  private final DeviceBuffer pq, pqAdj, d, blocks, prep, prepAdj;
  private boolean weightsSet, batchRows;
  private int rows2Warps = 12;
  private int variant;
  private int rowWarps = 16;

  private PackedLearnedConv(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, ConvPlan p) {
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.mode = mode; this.io = io;
    this.n = p.fftSize(); this.m = n / 2; this.n1 = p.factors().get(0); this.n2 = p.factors().get(1);
    this.taps = LearnedButterflyConv.libMode(mode).effectiveTaps(l, lk, 0);
    this.taps1 = mode == ConvMode.BIDIRECTIONAL ? LearnedButterflyConv.libMode(mode).effectiveTaps(l, lk, 1) : 0;   // k1's reach: L - 1
    this.batchRows = n1 == 16;   // sitting s2: r2w12 faster at 16 x 32 / 16 x 16 (0.109 vs 0.114, 0.060-0.061 vs 0.063-0.065 ms)
    // pkopt sitting s1 (BENCH-RESULTS round 22-pkopt): at 32 x 32 r2w12 variant 3 (kappa + twiddle table; 168 registers, no
    // spill) 0.189 / 0.188 ms against r1w16's 0.216 / 0.217 (both bench orders; outputs bit for bit r1w16's)
    if (n1 == 32) this.batchRows = true;
    this.variant = defaultVariant(n1);
    this.sr = stageRows(mode, n1);
    if (sr == 32) { batchRows = false; variant = 0; rowWarps = 12; }   // the one SR = 32 kernel: r1w12s32, variant 0
    this.pq = device.alloc(16L * h * m);
    this.pqAdj = device.alloc(16L * h * m);
    this.d = device.alloc(4L * h);
    this.blocks = device.alloc(8L * blockElements());
    this.prep = device.alloc(8L * (n1 * n1 + n2 * n2));
    this.prepAdj = device.alloc(8L * (n1 * n1 + n2 * n2));
    setBlocks(PackedLearnedButterfly.atInit(p).blocks());
  }

  /**
   * A plan for (H, L, Lk) in {@code mode} with I/O type {@code io}; blocks at the exact DFT (call {@link #setWeights}
   * before {@link #forward}).
   */
  public static PackedLearnedConv plan(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io) {
    if (H < 1 || H > 65535) throw new IllegalArgumentException("PackedLearnedConv: H must be in [1, 65535], got " + H);
    if (L < 1 || Lk < 1 || Lk > L) throw new IllegalArgumentException("PackedLearnedConv: need 1 <= Lk <= L, got Lk=" + Lk + ", L=" + L);
    if (mode == null) throw new IllegalArgumentException("PackedLearnedConv: mode is null (L=" + L + ")");
    if (mode == ConvMode.CIRCULAR && Integer.bitCount(L) != 1)
      throw new IllegalArgumentException("PackedLearnedConv CIRCULAR L=" + L + ": the circular FFT size is exactly L, a power of two;"
          + " the GPU kernels cover circular L = 512, 1024 and 2048");
    ConvPlan p = libPlan(L, Lk, mode);
    if (p.factors().size() != 2)   // J factors (M >= 2048): PackedLearnedRef's J-factor path (or helper pkjtc's kernels)
      throw new IllegalArgumentException("PackedLearnedConv " + mode + " L=" + L + ": M=" + p.fftSize() / 2 + " has J=" + p.factors().size()
          + " factors " + p.factors() + "; these kernels take J = 2 (N1 x N2) only");
    int n = p.fftSize(), f1 = p.factors().get(0), f2 = p.factors().get(1);
    if (!tensorCoresSupport(f1, f2, io))
      throw new IllegalArgumentException("PackedLearnedConv " + mode + " L=" + L + " " + io + ": needs N=" + n + ", M=" + (n / 2) + " = "
          + f1 + " x " + f2 + "; the GPU forward covers bf16 / fp16 I/O at M = 256 = 16 x 16, 512 = 16 x 32 and 1024 = 32 x 32"
          + " (causal: N the power of two >= L + Lk - 1; bidirectional: >= L + Lk; circular: N = L = 512, 1024 or 2048)");
    int sr = stageRows(mode, f1);
    if ((L + 1) / 2 > sr * f2)   // the kernels stage (and multiply) sr rows of A: at 32 x 32 causal / bidirectional skip the zero half
      throw new IllegalArgumentException("PackedLearnedConv " + mode + " L=" + L + " Lk=" + Lk + ": N=" + n + " packs u into ceil(L/2)="
          + (L + 1) / 2 + " points, more than the " + sr + " rows x N2=" + f2 + " = " + sr * f2 + " the kernels stage at M = " + f1 + " x " + f2
          + " (covered: ceil(L/2) <= 16 N2, e.g. Lk = L; circular N = L: all N1 rows)");
    return new PackedLearnedConv(device, H, L, Lk, mode, io, p);
  }

  /** Rows of the x stage for a mode at N1: 32 for circular at N1 = 32 (N = L, no zero half), else 16. */
  static int stageRows(ConvMode mode, int n1) { return mode == ConvMode.CIRCULAR && n1 == 32 ? 32 : 16; }

  /** lib's factorization (engine LEARNED_PACKED, float64): N as MONARCH sizes it, M = N / 2 = N1 x N2 (the LEARNED factors of M). */
  public static ConvPlan libPlan(int L, int Lk, ConvMode mode) {
    return ConvPlan.of(L, Lk, LearnedButterflyConv.libMode(mode), ConvEngine.LEARNED_PACKED, ai.longconv4j.conv.Precision.F64);
  }

  /** Whether this GPU forward takes M = N1 x N2 with I/O type {@code io}: bf16 / fp16 at 16 x 16, 16 x 32, 32 x 32. */
  public static boolean tensorCoresSupport(int n1, int n2, ElementType io) {
    if (io == ElementType.F32) return false;
    for (int[] c : COVERED) if (c[0] == n1 && c[1] == n2) return true;
    return false;
  }

  /**
   * Two rows of a channel per unit (a pair of warps at N1 = 32, a warp at N1 = 16) at 12 warps per block (kernel
   * {@code r2w12}; the default, at 32 x 32 with {@link #variant(int) variant} 3 since pkopt: variant 0 there needs 168
   * registers and spills 8 bytes, variants 1 / 3 do not) or one row per unit at 16 warps ({@code r1w16}; pkgpu's 32 x 32
   * default) or 20 ({@link #rowWarps(int)}). The same code per row (outputs equal bit for bit): a speed choice.
   */
  public PackedLearnedConv batchRows(boolean on) {
    batchRows = on;
    if (!on) variant &= 7;   // pkopt2: channel groups (bits 8, 16) exist for r2w12 only; the same outputs without them
    return this;
  }

  public boolean batchRows() { return batchRows; }

  /** With {@link #batchRows(boolean)} on: 12 (r2w12, the default) or, at 32 x 32, 10 (r2w10) warps per block; ignored otherwise (16). */
  public PackedLearnedConv pairWarps(int w) {
    if (w != 12 && (w != 10 || n1 != 32))
      throw new IllegalArgumentException("PackedLearnedConv.pairWarps: 12, or 10 at 32 x 32 (two rows per pair), got " + w + " at " + n1 + " x " + n2);
    rows2Warps = w;
    return this;
  }

  /**
   * Session 12, helper pkopt: the forward kernel's variant (learned_pk.cu OPT; {@code -Dlongconv4j.pk.opt}, default 0):
   * 0 the kernels above; bit 1 "kappa": step 2's columns reordered so that the pair map's partners sit in the same lane
   * (no shuffles but two per part on warp half 0; blocks and P / Q permuted as the kernel stages them); bit 2 "twiddle
   * table": steps 1 and 3 read their twiddles from a per-block table filled by the same recurrences (bitwise the same
   * values); bit 4 "negated planes": -Im of Fb, Gb, Ga kept in shared memory (loaded instead of sign flips; 32 x 32 only,
   * variants 5 and 7). Applies to the forward and {@link #backwardInput}. Kernels: variants 1 .. 3 of r1w16 / r2w12 at
   * every M; 5, 7 of r1w16 / r2w12 at 32 x 32; {@link #rowWarps(int) r1w20} has 3 (every M) and 7 (32 x 32); none of
   * r2w10. Outputs equal variant 0's bit for bit (PackedLearnedGpuTest).
   * Session 12, helper pkopt2: bit 8 "channel groups": a block stages the P / Q of {@code GROUP} channels at once and
   * deals their units (two rows of a channel) to its pairs round-robin across the channel boundaries (B = 64 at r2w12:
   * 96 units of a 3-channel group fill 16 rounds of 6 pairs; one channel alone, 32 units, needs 6 rounds with four pairs
   * idle in the last); the same code per row. Bit 16 (with 8): the group's P / Q staged by cp.async, all loads in flight
   * before one wait. Kernels: r2w12 variants 8, 11 and 27 at every M, 15 at 32 x 32.
   */
  public PackedLearnedConv variant(int opt) {
    if (!validVariant(opt))
      throw new IllegalArgumentException("PackedLearnedConv.variant: 0 .. 3, 5, 7, 8, 11, 15, 27 (bit 1 kappa, bit 2 twiddle table, bit 4 negated planes,"
          + " bit 8 channel groups, bit 16 their P / Q by cp.async), got " + opt);
    variant = opt;
    return this;
  }

  /** Channels per group of variant bit 8 (learned_pk.cu LPK_GROUP). */
  static final int GROUP = 3;

  private static boolean validVariant(int v) {
    return v == 27 || (v >= 0 && v <= 15 && v != 4 && v != 6 && (v < 8 || v == 8 || v == 11 || v == 15));
  }

  public int variant() { return variant; }

  /**
   * The variant a plan starts with: {@code -Dlongconv4j.pk.opt} if set, else 27 (pkopt2: kappa + twiddle table + channel
   * groups + their P / Q by cp.async, r2w12; BENCH-RESULTS round 24-pkopt2, B = 64, H = 768, both bench orders: sitting
   * s2 1K 0.174 / 0.172 ms against variant 11's 0.176 / 0.178 and pkopt's default (3) 0.185 / 0.185, 512 0.098 / 0.098
   * against 0.102 / 0.103 and the old default (0) 0.109 / 0.109, 256 0.055 / 0.055 against 0.059 / 0.057 and 0.060 / 0.060;
   * s1 had variant 11 faster than 3 / 0 in both orders; outputs bit for bit r1w16's). Before pkopt2: 3 at N1 = 32, 0 at N1 = 16.
   */
  static int defaultVariant(int n1) {
    int v = Integer.getInteger("longconv4j.pk.opt", 27);
    if (!validVariant(v)) throw new IllegalArgumentException("-Dlongconv4j.pk.opt: 0 .. 3, 5, 7, 8, 11, 15, 27, got " + v);
    return v;
  }

  /**
   * Session 12, pkopt: warps per block with one row per unit ({@code batchRows(false)}): 16 ({@code r1w16}) or 20
   * ({@code r1w20}: 10 pairs at 32 x 32; variants 3 and 7 only, whose twiddle table keeps it under 96 registers).
   */
  public PackedLearnedConv rowWarps(int w) {
    if (w != 16 && w != 20) throw new IllegalArgumentException("PackedLearnedConv.rowWarps: 16 or 20, got " + w);
    rowWarps = w;
    return this;
  }

  /** Whether learned_pk.cu has the kernel {@link #kernelName()} names (the variants exist for some shapes only). */
  public boolean kernelExists() {
    if (sr == 32) return !batchRows && variant == 0;   // r1w12s32 only
    if (batchRows) {
      if (rows2Warps == 10) return variant == 0 && n1 == 32;
      if (variant >= 8) return variant != 15 || n1 == 32;   // pkopt2: r2w12 o8, o11, o27 (every M), o15 (32 x 32)
      return variant <= 3 || n1 == 32;
    }
    if (variant >= 8) return false;
    if (rowWarps == 20) return variant == 3 || (variant == 7 && n1 == 32);
    return variant <= 3 || n1 == 32;
  }

  /** Warps per block of the forward kernel (its launch bound). */
  public int warps() { return sr == 32 ? 12 : batchRows ? rows2Warps : rowWarps; }

  /** The forward kernel's name in learned_pk.cu. */
  public String kernelName() {
    if (sr == 32) return "lpk_forward_" + io.tag() + "_32x32r1w12s32";
    return "lpk_forward_" + io.tag() + "_" + n1 + "x" + n2 + (batchRows ? "r2w" + rows2Warps : "r1w" + rowWarps) + (variant != 0 ? "o" + variant : "");
  }

  /**
   * Dynamic shared memory of {@code lpk_forward} (learned_pk.cu LpkLayout): the padded 16-bit blocks, P / Q (N1 rows of
   * N2 + 1 float4), the twiddle start values (2 x 10 x 32 float2), per unit (N1 / 16 warps) {@code rowsPerUnit} row
   * buffers (N1 rows of 2 N2 + 8 16-bit values) and two sets of that many x stages (16 rows of 2 N2 + 8).
   */
  static int smem(int n1, int n2, int warps, int rowsPerUnit) { return smem(n1, n2, warps, rowsPerUnit, 0); }

  /**
   * {@link #smem(int, int, int, int)} of variant {@code opt}: + the twiddle table (2 x 16 x 32 float4) when {@code opt & 2},
   * + the negated planes -b2i, -b3i, -a4i (16-bit, padded rows) when {@code opt & 4}, + GROUP - 1 more P / Q buffers
   * when {@code opt & 8}.
   */
  static int smem(int n1, int n2, int warps, int rowsPerUnit, int opt) { return smem(n1, n2, warps, rowsPerUnit, opt, 16); }

  /** {@link #smem(int, int, int, int, int)} with x stages of {@code sr} rows (16, or 32: circular at 32 x 32). */
  static int smem(int n1, int n2, int warps, int rowsPerUnit, int opt, int sr) {
    return smem0(n1, n2, warps, rowsPerUnit, sr) + ((opt & 2) != 0 ? 2 * 16 * 32 * 16 : 0)
        + ((opt & 4) != 0 ? 2 * (2 * n2 * (n2 + 8) + n1 * (n1 + 8)) : 0)
        + ((opt & 8) != 0 ? (GROUP - 1) * 16 * n1 * (n2 + 1) : 0);   // pkopt2: the group's other P / Q buffers
  }

  private static int smem0(int n1, int n2, int warps, int rowsPerUnit, int sr) {
    int blk = 2 * (4 * n1 * (n1 + 8) + 4 * n2 * (n2 + 8)), pqB = 16 * n1 * (n2 + 1), twi = 8 * 2 * 10 * 32;
    return blk + pqB + twi + warps / (n1 / 16) * rowsPerUnit * 2 * (n1 * (2 * n2 + 8) + 2 * sr * (2 * n2 + 8));
  }

  /** The factors {N1, N2} of M. */
  public int[] factors() { return new int[] {n1, n2}; }

  /** N, the real FFT size (M = N / 2). */
  public int fftSize() { return n; }

  private int blockElements() { return 2 * (n1 * n1 + n2 * n2); }

  /** Uploads the four blocks {Fa, Fb, Gb, Ga} of the M-point transform (lib's layout, e.g. {@code PackedLearnedButterfly.blocks()}). */
  public PackedLearnedConv setBlocks(double[][] b) {
    int[] sizes = {n1, n2, n2, n1};
    if (b == null || b.length != 4)
      throw new IllegalArgumentException("PackedLearnedConv.setBlocks: need 4 blocks {Fa, Fb, Gb, Ga}, got " + (b == null ? "null" : b.length));
    float[] flat = new float[2 * blockElements()];
    for (int i = 0, off = 0; i < 4; i++) {
      if (b[i].length != 2 * sizes[i] * sizes[i])
        throw new IllegalArgumentException("PackedLearnedConv.setBlocks: block " + i + " must be (" + sizes[i] + ", " + sizes[i]
            + ", 2) for M = " + n1 + " x " + n2 + ", got " + b[i].length + " values");
      for (double v : b[i]) flat[off++] = (float) v;
    }
    blocks.copyFrom(flat);
    if (bwd != null) bwd.dropSaved();   // pkbwd2: a forwardForBackward's dumps are of the former blocks
    int e = blockElements();
    var k = device.module(MODULE).kernel("lpk_prep_" + io.tag());   // the forward's blocks and the adjoint's (du)
    k.launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, prep, n1, n2, 0);
    k.launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, prepAdj, n1, n2, 1);
    return this;
  }

  /**
   * Kernel k (H, Lk) and skip weights D (H) (CAUSAL, CIRCULAR); P and Q (and the adjoint's coefficients) are computed on
   * the device from the fp32 taps ({@code lpk_pq}).
   */
  public PackedLearnedConv setWeights(float[] k, float[] D) {
    if (mode == ConvMode.BIDIRECTIONAL)
      throw new IllegalArgumentException("PackedLearnedConv BIDIRECTIONAL (H=" + h + ", L=" + l + ", Lk=" + lk
          + "): takes two kernels, setWeights(k0, k1, D)");
    if (k == null || D == null || k.length != h * lk || D.length != h)
      throw new IllegalArgumentException("PackedLearnedConv.setWeights: k must be (H=" + h + ", Lk=" + lk + ") and D (H=" + h + "), got "
          + (k == null ? "null" : k.length) + " and " + (D == null ? "null" : D.length) + " values");
    d.copyFrom(D);
    try (DeviceBuffer a = device.upload(k)) {
      device.module(MODULE).kernel("lpk_pq").launch(device.stream(), h, 1, 256, 8 * n + 8 * (m + 1), a, pq, pqAdj, lk, taps, n1, n2);
      device.stream().synchronize();
    }
    weightsSet = true;
    if (bwd != null) bwd.dropSaved();   // pkbwd2: a forwardForBackward's dumps are of the former weights
    return this;
  }

  /**
   * BIDIRECTIONAL: kernels k0, k1 (H, Lk each; k0 placed at [t], k1 at [N - 1 - t] as lib's SpectralConv places them)
   * and D (H); P and Q from the placed taps on the device ({@code lpk_pq_bi}).
   */
  public PackedLearnedConv setWeights(float[] k0, float[] k1, float[] D) {
    if (mode != ConvMode.BIDIRECTIONAL)
      throw new IllegalArgumentException("PackedLearnedConv " + mode + " (H=" + h + ", L=" + l + ", Lk=" + lk
          + "): takes one kernel, setWeights(k, D) (two kernels are for BIDIRECTIONAL)");
    if (k0 == null || k1 == null || D == null || k0.length != h * lk || k1.length != h * lk || D.length != h)
      throw new IllegalArgumentException("PackedLearnedConv.setWeights: k0 and k1 must be (H=" + h + ", Lk=" + lk + ") and D (H=" + h
          + "), got " + (k0 == null ? "null" : k0.length) + ", " + (k1 == null ? "null" : k1.length) + " and " + (D == null ? "null" : D.length)
          + " values");
    d.copyFrom(D);
    try (DeviceBuffer a = device.upload(k0); DeviceBuffer b = device.upload(k1)) {
      device.module(MODULE).kernel("lpk_pq_bi").launch(device.stream(), h, 1, 256, 8 * n + 8 * (m + 1), a, b, pq, pqAdj, lk, taps, taps1, n1, n2);
      device.stream().synchronize();
    }
    weightsSet = true;
    if (bwd != null) bwd.dropSaved();   // a forwardForBackward's dumps are of the former weights
    return this;
  }

  /** The plan's mode. */
  public ConvMode mode() { return mode; }

  /**
   * P and Q of every channel as computed on the device, in lib's layout per channel ({@code pairCoefficients}: P at 2p,
   * Q at 2M + 2p, position p = k1 N2 + k2): (H, 4M) as float.
   */
  public float[] pairCoefficients() {
    if (!weightsSet) throw new IllegalStateException("PackedLearnedConv.pairCoefficients: call setWeights first");
    device.stream().synchronize();
    float[] raw = pq.copyTo(new float[4 * h * m], 0), out = new float[4 * h * m];
    for (int c = 0; c < h; c++)
      for (int i = 0; i < n1; i++)
        for (int k2 = 0; k2 < n2; k2++) {
          int src = 4 * (c * m + i * n2 + k2), p = rho(i, n1) * n2 + k2, dst = 4 * m * c;
          out[dst + 2 * p] = raw[src]; out[dst + 2 * p + 1] = raw[src + 1];
          out[dst + 2 * m + 2 * p] = raw[src + 2]; out[dst + 2 * m + 2 * p + 1] = raw[src + 3];
        }
    return out;
  }

  /** The kernels' tile-row order (learned_pk.cu lpk_rho): tile row i (N1 = 32: 16 w + g + 8 h; N1 = 16: g + 8 h) holds k1. */
  static int rho(int i, int n1) {
    int w = i >> 4, g = i & 7, hh = (i >> 3) & 1;
    if (n1 == 16) return g == 0 ? 8 * hh : (hh == 1 ? 16 - g : g);
    return w == 0 ? (g == 0 ? 16 * hh : (hh == 1 ? 32 - g : g)) : (hh == 1 ? 24 - g : 8 + g);
  }

  /** y = conv(u, k) + D u through the packed learned transform, queued on the device's stream. */
  public void forward(DeviceBuffer u, DeviceBuffer y, int B) {
    run("forward", u, y, B, pq, prep);
  }

  /**
   * du = the adjoint of {@link #forward} w.r.t. u applied to dy (the gradient of sum(y * dy) w.r.t. u), queued on the
   * device's stream: the forward kernel on the adjoint blocks {Ga^H, Gb^H, Fb^H, Fa^H} and pair map {conj(P_k), Q_(M-k)}.
   */
  public void backwardInput(DeviceBuffer dy, DeviceBuffer du, int B) {
    run("backwardInput", dy, du, B, pqAdj, prepAdj);
  }

  private void run(String op, DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer coef, DeviceBuffer pb) {
    if (!weightsSet) throw new IllegalStateException("PackedLearnedConv." + op + ": call setWeights first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || x.bytes() < need || out.bytes() < need)
      throw new IllegalArgumentException("PackedLearnedConv." + op + ": arrays must hold (B=" + B + ", H=" + h + ", L=" + l + ") " + io
          + " = " + need + " bytes, got " + x.bytes() + " and " + out.bytes());
    if (!kernelExists())
      throw new IllegalArgumentException("PackedLearnedConv." + op + ": no kernel " + kernelName() + " (variants 1 .. 3 of r1w16 / r2w12 at every M,"
          + " 5 / 7 at 32 x 32, r1w20 variants 3 / 7 only, r2w10 variant 0 only)");
    int w = warps(), gx = Math.min(device.smCount(), h);
    device.module(MODULE).kernel(kernelName()).launch(device.stream(), gx, 1, 32 * w, smem(n1, n2, w, batchRows ? 2 : 1, variant, sr),
        x, coef, d, pb, out, B, h, l);
  }

  @Override public void close() {
    if (bwd != null) bwd.close();   // the backward's kept workspaces (longconv4j.pk.bwd.sync=false), after its queued work
    pq.close(); pqAdj.close(); d.close(); blocks.close(); prep.close(); prepAdj.close();
  }

  @Override public String toString() {
    return "PackedLearnedConv[H=" + h + ", L=" + l + ", Lk=" + lk + ", " + mode + ", N=" + n + ", M=" + m + " = " + n1 + " x " + n2
        + ", io=" + io + ", " + (batchRows ? 2 : 1) + " row" + (batchRows ? "s" : "") + " / unit, " + warps() + " warps"
        + (variant != 0 ? ", variant " + variant : "") + (sr == 32 ? ", 32-row stage" : "") + "]";
  }
  // ---- backward (helper pkbwd): PackedLearnedBackward, learned_pk_bwd.cu
  private PackedLearnedBackward bwd;

  /**
   * Gradients of {@code sum(y * dy)} for y = {@link #forward}(u): du (B, H, L) of the I/O type, dk (H, Lk) fp32
   * (BIDIRECTIONAL: (2, H, Lk), dk0 then dk1), dD (H)
   * fp32, and the four block gradients, then read with {@link #blockGrads()} ({@link PackedLearnedBackward}: two dumping
   * chains on tensor cores, Gram kernels, dK and dk on the device). Queued on the device's stream without a closing
   * synchronisation (the defaults; {@code -Dlongconv4j.pk.bwd.sync=true}: synchronises, workspaces per call); its
   * workspaces (2 x 16 B H M bytes of dumps) stay with the plan until {@link #close}.
   */
  public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
    if (!weightsSet) throw new IllegalStateException("PackedLearnedConv.backward: call setWeights first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || u == null || dy == null || du == null || u.bytes() < need || dy.bytes() < need || du.bytes() < need)
      throw new IllegalArgumentException("PackedLearnedConv.backward: u, dy and du must hold (B=" + B + ", H=" + h + ", L=" + l + ") " + io
          + " = " + need + " bytes, got " + (u == null ? "null" : u.bytes()) + ", " + (dy == null ? "null" : dy.bytes()) + " and "
          + (du == null ? "null" : du.bytes()));
    int sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (dk == null || dD == null || dk.bytes() < 4L * sides * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedLearnedConv.backward: dk must hold (" + (sides == 2 ? "2, " : "") + "H=" + h + ", Lk=" + lk
          + ") fp32 = " + 4L * sides * h * lk
          + " bytes and dD (H=" + h + ") fp32 = " + 4L * h + " bytes, got " + (dk == null ? "null" : dk.bytes()) + " and "
          + (dD == null ? "null" : dD.bytes()));
    if (bwd == null) bwd = new PackedLearnedBackward(device, h, l, lk, n1, n2, taps, taps1, sr, io);
    bwd.run(u, dy, B, du, dk, dD, pq, d, blocks, prep, prepAdj, pqAdj);
  }

  /**
   * {@link #forward} for a training step (helper pkbwd2): y = conv(u, k) + D u by the backward's forward chain, which also
   * keeps its dumps (X1, C, C', X3 per row, 16 B H M bytes, the plan's kept workspace), so that the next
   * {@link #backward} on the same u buffer and B skips that chain. u must not change in between (the saved dumps are of
   * its contents now; setBlocks / setWeights drop them); any other backward, or one with
   * {@code -Dlongconv4j.pk.bwd.sync=true}, runs the chain itself. Queued on the device's stream.
   */
  public void forwardForBackward(DeviceBuffer u, DeviceBuffer y, int B) {
    if (!weightsSet) throw new IllegalStateException("PackedLearnedConv.forwardForBackward: call setWeights first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || u == null || y == null || u.bytes() < need || y.bytes() < need)
      throw new IllegalArgumentException("PackedLearnedConv.forwardForBackward: u and y must hold (B=" + B + ", H=" + h + ", L=" + l + ") "
          + io + " = " + need + " bytes, got " + (u == null ? "null" : u.bytes()) + " and " + (y == null ? "null" : y.bytes()));
    if (u == y) throw new IllegalArgumentException("PackedLearnedConv.forwardForBackward: y must not be u (the backward reads u)");
    if (bwd == null) bwd = new PackedLearnedBackward(device, h, l, lk, n1, n2, taps, taps1, sr, io);
    bwd.forwardSaving(u, y, B, pq, d, prep);
  }

  /** The block gradients of the last {@link #backward}, {dFa, dFb, dGb, dGa} in lib's layout (float64 copies). */
  public double[][] blockGrads() {
    if (bwd == null) throw new IllegalStateException("PackedLearnedConv.blockGrads: call backward first");
    return bwd.blockGrads();
  }

  // ---- device-side inputs (helper pkop, session 13): taps, D and blocks read from device memory, no host round trip
  /**
   * The uploads so far by {@link #setWeightsOnDevice} / {@link #setBlocksOnDevice} and {@link #invalidate} (helper pkop).
   * The tensor op ({@link CudaLearnedConv}) records it after its forward's uploads: its backward may rely on the plan still
   * holding that forward's taps, D, blocks and {@link #forwardForBackward} dumps only while it is unchanged (every other op
   * on the plan uploads first, so it moves on); else the backward uploads the forward's values again (the dumps are then
   * dropped and the backward recomputes its forward chain).
   */
  public long generation() { return generation; }

  private long generation;

  /** Marks the plan's device state as not the last device upload's (an upload through the host setters, e.g.). */
  public PackedLearnedConv invalidate() {
    generation++;
    if (bwd != null) bwd.dropSaved();
    return this;
  }

  /**
   * Taps and skip weights from device memory, queued on the device's stream (no host copy, no synchronisation): {@code k}
   * the address of (H, sides, Lk) fp32 taps, row-major (lib's layout: (H, Lk) one-sided, (H, 2, Lk) two-sided), {@code D}
   * of (H) fp32 skip weights or null (zeros). P and Q (and the adjoint's) come from the taps by {@code lpko_pq_fft} (an
   * FFT per channel, the taps placed for the plan's mode; {@code -Dlongconv4j.pk.pq=dft} or {@link #pqByFft(Boolean)}:
   * {@code lpk_pq}, the direct DFT of {@link #setWeights(float[], float[])}, its slow twin, one-sided taps only: two-sided
   * taps then go through {@link #setWeights(float[], float[], float[])}, {@code lpk_pq_bi}); the buffers must stay untouched
   * until the queued kernels have read them (the stream orders any later writer).
   */
  public PackedLearnedConv setWeightsOnDevice(DevicePointer k, int sides, DevicePointer D) {
    int want = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (k == null || sides != want)
      throw new IllegalArgumentException("PackedLearnedConv.setWeightsOnDevice " + mode + ": needs k of (H=" + h + ", " + (want == 2 ? "2, " : "")
          + "Lk=" + lk + ") fp32 taps, got " + (k == null ? "null" : sides + " side(s)"));
    boolean fft = pqByFft();
    if (want == 2 && !fft)
      throw new IllegalArgumentException("PackedLearnedConv.setWeightsOnDevice: the direct-DFT route (-Dlongconv4j.pk.pq=dft) reads two-sided"
          + " taps (BIDIRECTIONAL) through setWeights(k0, k1, D) only");
    device.makeCurrent();
    CudaStream s = device.stream();
    if (D == null) Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(d.ptr(), 0, h, s.cu()), "cuMemsetD32Async", "D of H=" + h, "device " + device.index());
    else Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(d.ptr(), D, 4L * h, s.cu()), "cuMemcpyDtoDAsync", "D of H=" + h, "device " + device.index());
    if (fft) launchPqFft(s, k, want, taps, taps1);
    else device.module(MODULE).kernel("lpk_pq").launch(s, h, 1, 256, 8 * n + 8 * (m + 1), k, pq, pqAdj, lk, taps, n1, n2);
    weightsSet = true;
    return invalidate();
  }

  // ---- P / Q by an FFT (helper pkpq, session 13): learned_pk_op.cu lpko_pq_fft, O(M log M) per channel; lpk_pq (a direct
  // DFT per channel, H (M + 1) taps multiply-adds: 806 M at M = 1024) is its slow twin (PackedLearnedPqGpuTest compares them)
  private Boolean pqFft;

  /**
   * Whether {@link #setWeightsOnDevice} computes P / Q by the FFT kernel ({@code lpko_pq_fft}) rather than the direct DFT
   * ({@code lpk_pq}): the value of {@link #pqByFft(Boolean)} if set, else {@code -Dlongconv4j.pk.pq=fft|dft} read at each
   * call (default fft; anything else throws). The host setter {@link #setWeights(float[], float[])} keeps {@code lpk_pq}.
   */
  public boolean pqByFft() {
    return pqFft != null ? pqFft : pqFftProperty();
  }

  /** {@code -Dlongconv4j.pk.pq}: fft (the default) true, dft false; anything else throws. */
  static boolean pqFftProperty() { return LearnedDefaults.twoWay("longconv4j.pk.pq", "fft", "dft"); }

  /** Sets this plan's P / Q route for {@link #setWeightsOnDevice} (true: FFT, false: direct DFT; null: the system property). */
  public PackedLearnedConv pqByFft(Boolean fft) { pqFft = fft; return this; }

  /**
   * Queues {@code lpko_pq_fft}: P / Q and the adjoint's coefficients of every channel from (H, sides, Lk) fp32 taps at
   * {@code k}, placed as lib's SpectralConv.placeTaps (side 0's first {@code taps0} taps at [t]; sides = 2: side 1's first
   * {@code taps1} at [N-1-t]) into this plan's N = 2M points: causal and circular (N = L) one-sided, bidirectional two-sided
   * ({@link #setWeightsOnDevice}).
   */
  void launchPqFft(CudaStream s, DevicePointer k, int sides, int taps0, int taps1) {
    if (sides < 1 || sides > 2 || taps0 < 0 || taps0 > Math.min(lk, n) || taps1 < 0 || taps1 > Math.min(lk, n) || (sides == 1 && taps1 != 0) || m > 2048)
      throw new IllegalArgumentException("PackedLearnedConv lpko_pq_fft: sides=" + sides + ", taps " + taps0 + " / " + taps1 + " for Lk=" + lk
          + ", N=" + n + " (M <= 2048)");
    device.module("learned_pk_op").kernel("lpko_pq_fft").launch(s, h, 1, 256, 8 * (2 * m + 1 + m / 32), k, pq, pqAdj, lk, sides, taps0, taps1, n1, n2);
  }

  /** Fills both coefficient buffers with NaN (fp32 0x7fc00000), so a route that leaves an entry unwritten shows. For tests. */
  void poisonPairCoefficients() {
    device.makeCurrent();
    for (DeviceBuffer b : new DeviceBuffer[] {pq, pqAdj})   // on the plan's stream, ordered before the next route's kernel
      Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(b.ptr(), 0x7fc00000, 4L * h * m, device.stream().cu()), "cuMemsetD32Async",
          "P / Q of (H=" + h + ", M=" + m + ")", "device " + device.index());
  }

  /** The raw device coefficients, (H, M) float4 in tile-row order: {P, Q} (adjoint false) or {conj P, Q_s} (true), as they are. For tests. */
  float[] rawPairCoefficients(boolean adjoint) {
    device.stream().synchronize();
    return (adjoint ? pqAdj : pq).copyTo(new float[4 * h * m], 0);
  }

  /**
   * The four blocks {Fa, Fb, Gb, Ga} from device memory: addresses of fp32 complex interleaved (n, n, 2) row-major blocks
   * (n = N1, N2, N2, N1), copied device-to-device into the plan and prepared ({@code lpk_prep}, forward and adjoint) on the
   * device's stream, as {@link #setBlocks}; no host copy, no synchronisation.
   */
  public PackedLearnedConv setBlocksOnDevice(DevicePointer[] b) {
    if (b == null || b.length != 4 || java.util.Arrays.asList(b).contains(null))
      throw new IllegalArgumentException("PackedLearnedConv.setBlocksOnDevice: need 4 block addresses {Fa, Fb, Gb, Ga} (M = " + n1 + " x " + n2
          + "), got " + (b == null ? "null" : java.util.Arrays.toString(b)));
    int[] sizes = {n1, n2, n2, n1};
    device.makeCurrent();
    CudaStream s = device.stream();
    for (int i = 0, off = 0; i < 4; off += 2 * sizes[i] * sizes[i], i++)
      Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(blocks.ptr().at(4L * off), b[i], 8L * sizes[i] * sizes[i], s.cu()), "cuMemcpyDtoDAsync",
          "block " + i + " (" + sizes[i] + ", " + sizes[i] + ", 2)", "device " + device.index());
    int e = blockElements();
    var k = device.module(MODULE).kernel("lpk_prep_" + io.tag());
    k.launch(s, (e + 255) / 256, 1, 256, 0, blocks, prep, n1, n2, 0);
    k.launch(s, (e + 255) / 256, 1, 256, 0, blocks, prepAdj, n1, n2, 1);
    return invalidate();
  }

  /**
   * The four block gradients of the last {@link #backward} written to {@code out} in lib's layout, fp32 complex {dFa, dFb,
   * dGb, dGa} back to back (4 (N1² + N2²) floats), queued on the device's stream (learned_pk_op.cu {@code lpko_unpermute}:
   * the device twin of {@link #blockGrads}' unpermute): no copy to the host, no synchronisation. Returns false, writing
   * nothing, when the backward left them on the host side ({@code -Dlongconv4j.pk.bwd.sync=true}) or they were read by
   * {@link #blockGrads} already: read them with {@link #blockGrads} then.
   */
  public boolean blockGradsOnDevice(DevicePointer out) {
    if (bwd == null) throw new IllegalStateException("PackedLearnedConv.blockGradsOnDevice: call backward first");
    DeviceBuffer raw = bwd.rawBlockGrads();
    if (raw == null) return false;
    int e = blockElements(), live = 16 * (((((l + 1) / 2) + n2 - 1) / n2 + 15) / 16);
    device.module("learned_pk_op").kernel("lpko_unpermute").launch(device.stream(), (e + 255) / 256, 1, 256, 0, raw, out, n1, n2, live);
    return true;
  }

  /** Floats of {@link #blockGradsOnDevice}'s output: 4 (N1² + N2²). */
  public int blockGradFloats() { return 2 * blockElements(); }
}
