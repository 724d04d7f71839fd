// Shapes: B batch, H channels, L length, Lk kernel taps; N the real FFT size (MONARCH's sizing: causal N the power of two
// >= L + Lk - 1, bidirectional >= L + Lk; circular N = L), M = N / 2 = N1 * 8192 complex points with the five factors
// {N1, 2, 16, 16, 16} of s14-jspec.md (this class: M = 65536 (N1 = 8), 131072 (16), 262144 (32)); position p = the
// row-major index of (k_1 .. k_5) = k1 * 8192 + p_in, holding frequency k = k_1 + N1 (k_2 + 2 (k_3 + 16 (k_4 + 16 k_5))).
// The inner-only plans (innerOnly, sessions 21-22) take lib's one-pass factors instead: M = 8192 {2, 16, 16, 16} and 4096
// {16, 16, 16} (N1 = 1), 16384 / 32768 {4 / 8, 16, 16, 16} (N1 x 4096, inner rows stored in pair order: p3_qslot) and 2048
// {8, 16, 16} (8 x 256); positions p = k1 * inner + p_in as lib's.
//   u, y, dy, du: (B, H, L) device arrays of the plan's ElementType (bf16 / fp16); D: (H) fp32.
//   blocks: 10 complex (R_s, R_s, 2) interleaved row-major, order {F_1 .. F_5, G_5 .. G_1} (lib's names Fa .. Fe, Ge .. Ga);
//   pair coefficients: per channel lib's pairCoefficients layout [4M] at position order p (P_p at [2p, 2p+1], Q_p at
//   [2M + 2p, ..]); on the device (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p, and the adjoint's (H, M) float4
//   {conj P_p, Q_s(p)} (pkjref's layout).
//   scratch: (rows of a chunk, N1, 8192) complex fp32, or (re, im) 16-bit pairs of the I/O type ({@link #scratch16}); kept by
//   the plan.
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import java.util.Arrays;

/**
 * The packed learned butterfly with J = 5 factors beyond one pass (engine LEARNED_PACKED at M = 64K .. 256K, i.e. causal
 * and bidirectional L up to 256K, circular L = 2^17 .. 2^19): FlashButterfly's three-pass structure (flashbutterfly3.cu,
 * {@link ThreePass}) with learned blocks (learned_p3.cu). Per row (b, h), z[m] = u_pad[2m] + i u_pad[2m+1] read as
 * X[n1][q] = z[8192 n1 + q] (N1 x 8192):
 * <ol>
 *   <li>{@code lp3_outer_fwd<N1>_<io>} (CUDA cores, fp32): per column q, F_1 @ X[:, q] (the learned N1 x N1 block on the
 *   left), times w_M^(k1 q) / N1, into an fp32 scratch;</li>
 *   <li>{@code lp3_middle_<io>_<s16|s32>} (tensor cores: the learned radix-16 stages as 16 x 16 complex products on
 *   mma.sync with bf16 / fp16 operands and fp32 accumulation; the radix-2 stage on CUDA cores): one block per row pair
 *   {k1, N1 - k1} (and {0, N1 / 2}), both 8192-point inner forward chains (F_2 .. F_5, right-multiplied, inner twiddles),
 *   the pair map C'[p] = P_p C[p] + Q_p conj(C[s(p)]) (s(p) lies in the partner row), both inner inverse chains
 *   (G_5 .. G_2); the two rows in 16-bit shared planes (default, three blocks per SM) or fp32 planes
 *   ({@link #storage16}{@code (false)}, one block per SM: the twin);</li>
 *   <li>{@code lp3_outer_inv<N1>_<io>} (CUDA cores, fp32): per column, conj twiddles, G_1 on the left, unpack, + D u,
 *   crop to L.</li>
 * </ol>
 * Rows go in chunks of whole channels (a channel's B rows adjacent in launch order: its P / Q read from HBM once, then
 * from L2) so that the scratch stays within {@link #scratchBudget} bytes. The same three kernels give du
 * ({@link #inputGrad}) on the adjoint blocks (forward-structured chain of G_s^H, inverse-structured chain of F_s^H) and
 * the adjoint pair map {conj P_p, Q_s(p)}. Faster variants (helper pk3fast, session 15; learned_p3b.cu; the kernels above
 * are their twins): {@link #scratch16} (a 16-bit scratch, half the bytes, and lp3_mid16 with the radix-2 stage done at the
 * row's load and store: with 16-bit planes the same values bit for bit) and {@link #outerTc} (passes 1 and 3 on tensor
 * cores: the learned N1 x N1 block as the mma A operand over tiles of 8 columns) and {@link #middleWarp} (the middle's last
 * two inner stages, its pair map and their inverses per warp, lp3_mid16w); since session 17 (helper p3) the defaults are
 * scratch16 and middleWarp on, outerTc at N1 >= 16 (M >= 128K), each switch keeping its twin. Blocks reach the kernels in "left form" (stage 1 as is, stages s &gt;= 2
 * transposed), prepared on the device by {@code lp3_prep}. Everything else (M outside 65536 .. 262144, fp32 I/O, H outside
 * [1, 65535], Lk &gt; L, circular L not a power of two) throws {@link IllegalArgumentException} naming the shape.
 * <pre>{@code
 * jshell> var p3 = PackedThreePass.plan(dev, 768, 65536, 65536, ConvMode.CAUSAL, ElementType.BF16)
 * p3 ==> PackedThreePass[H=768, L=65536, Lk=65536, CAUSAL, N=131072, M=65536 = 8 x 2 x 16 x 16 x 16, io=BF16, ...]
 * jshell> p3.setBlocks(blocks); p3.setWeights(pq, D); p3.forward(u, y, 16); p3.inputGrad(dy, du, 16);
 * }</pre>
 */
public final class PackedThreePass implements AutoCloseable {
  static final String MODULE = "learned_p3";
  /** The faster kernels' module (learned_p3b.cu: lp3_mid16, lp3_outer16, lp3_outertc). */
  static final String MODULE_B = "learned_p3b";
  /** The smallest N1 where the tensor-core outer passes are the default (round 30-p3: faster at N1 = 16, 32; slower at 8). */
  static final int OUTER_TC_MIN_N1 = 16;
  /** Chunk rows per block of the tensor-core outer passes (their fragments and twiddles are made once per block). */
  static final int TC_ROWS_PER_BLOCK = 8;
  /** The smallest and largest M this class covers (three passes: beyond ConvPlan.ONE_PASS_MAX, to FB's 2^18). */
  public static final int MIN_M = 1 << 16, MAX_M = 1 << 18;
  /** The inner (middle-pass) transform size and its factors. */
  static final int INNER = 8192;
  public static final long DEFAULT_SCRATCH_BUDGET = 1L << 30;   // 1 GiB of fp32 rows (2 MiB a row at M = 256K: 512 rows a chunk)
  static final long QUAD_SCRATCH_BUDGET = 2L << 30;   // M = 16384 / 32768 (quad): half the chunks, the op 3 % faster (round 41-s29)
  private static final int OUTER_THREADS = 256, MIDDLE_THREADS = 512;
  /** learned_p3.cu p3_smem: two planes of 2 x 8192 + pads (fp32 or 16-bit), the padded twiddle table of 8192, 8 float2. */
  static int middleSmem(boolean s16) { return 2 * (2 * INNER + 2 * INNER / 32) * (s16 ? 2 : 4) + 8 * TWIDDLE_ENTRIES + 64; }

  /** monarch.cuh's twp_entries(8192): the middles' padded twiddle table (session 23), lo 128 + 8 pads, hi 64 + 4 pads float2. */
  static final int TWIDDLE_ENTRIES = 128 + 128 / 16 + INNER / 128 + INNER / 128 / 16;

  private final CudaDevice device;
  private final int h, l, lk, n, m, n1;
  /** log2 of the inner (middle) size: 13 (8192), 12 (4096: M = 4096, 16384, 32768) or 8 (256: M = 2048). */
  private final int lI;
  private final ConvMode mode;
  private final ElementType io;
  private final ConvPlan libPlan;
  private final DeviceBuffer blocks, mats, matsAdj;
  private DeviceBuffer pq, pqAdj, d;   // the inner-only plan's are its caller's ({@link #borrow})
  /**
   * The inner-only plan at M = 8192 or 4096 ({@link #innerOnly}): N1 = 1, P / Q / D borrowed, no forward; at M = 16384 /
   * 32768 (session 22) the same with N1 = 4 / 8 and an inner 4096 ({@link #quad}).
   */
  private final boolean inner;
  private DeviceBuffer one, scratch;   // one: the inner-only plan's 1 x 1 outer block [1 + 0i], then the 2 x 2 identity
  private long budget;   // bytes: -Dlongconv4j.p3.budget, else QUAD_SCRATCH_BUDGET (quad) or DEFAULT_SCRATCH_BUDGET
  private boolean pqSet, s16 = true;
  // defaults (helper p3, session 17: BENCH-RESULTS round 30-p3): the 16-bit scratch and the per-warp middle on, the
  // tensor-core outer passes at N1 >= 16 (M >= 128K); each switch names its twin
  private boolean sc16 = !"false".equals(System.getProperty("longconv4j.p3.scratch16"));
  private Boolean otc = outerTcProperty();
  private boolean mw = !"false".equals(System.getProperty("longconv4j.p3.middleWarp"));
  private boolean mrp = !"false".equals(System.getProperty("longconv4j.p3.regpair"));
  private int[] partners;   // lib's s(p), for the host route's adjoint table

  private PackedThreePass(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, int n, boolean inner) {
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.mode = mode; this.io = io; this.n = n; this.m = n / 2;
    this.lI = !inner || m == INNER ? 13 : m == 2048 ? 8 : 12;
    this.n1 = m >> lI;   // the inner-only plan: 1 at M = 4096 / 8192, 4 / 8 at 16384 / 32768, 8 at 2048
    this.inner = inner;
    budget = Long.getLong("longconv4j.p3.budget", quad() ? QUAD_SCRATCH_BUDGET : DEFAULT_SCRATCH_BUDGET);
    if (budget < 8L * m) throw new IllegalArgumentException("PackedThreePass: -Dlongconv4j.p3.budget=" + budget
        + " is below one row of M = " + m + " complex fp32 (" + 8L * m + " bytes)");
    this.libPlan = ConvPlan.of(l, lk, LearnedButterflyConv.libMode(mode), ConvEngine.LEARNED_PACKED, Precision.F64);
    if (!inner) {
      this.pq = device.alloc(16L * h * m);
      this.pqAdj = device.alloc(16L * h * m);
      this.d = device.alloc(4L * h);
    }
    this.blocks = device.alloc(8L * elements());
    this.mats = device.alloc(8L * elements());
    this.matsAdj = device.alloc(8L * elements());
    if (!inner) d.copyFrom(new float[h]);
    if (inner) {
      float[] ids = new float[10 + 512];   // [1], the 2 x 2 identity, the 16 x 16 identity (M = 2048's unused stage)
      ids[0] = 1; ids[2] = 1; ids[8] = 1;
      for (int k = 0; k < 16; k++) ids[10 + 2 * (17 * k)] = 1;
      one = device.alloc(4L * ids.length);
      one.copyFrom(ids);
    }
    blocks.copyFrom(PackedPlanArgs.flattenBlocks("PackedThreePass", PackedMonarchFactors.atInit(kernelFactors()), kernelFactors(), "init"));
    prep();
  }

  /**
   * The inner-only plan (session 21): M = 8192, whose one-pass factors {2, 16, 16, 16} (lib's, {@link PackedMonarchConv}'s)
   * are the middle pass's, taken as a three-pass plan with N1 = 1 (F_1 = G_1 = [1]) for {@link PackedThreePassBackward}'s
   * N1 = 1 route (pack, the middles two rows a block, unpack); or M = 4096 = 16 x 16 x 16, the middle's radix-16 stages
   * without its radix-2 one, four rows a block (the 2 x 2 blocks unused: the identity); or (session 22) M = 16384 / 32768,
   * lib's {N1, 16, 16, 16} with N1 = 4 / 8: a three-pass plan with that outer block and an inner 4096 (the radix-16 stages
   * as at 4096; {@link #quad}: the inner rows in pair order, four a middle block; these two also run {@link #forward} and
   * {@link #inputGrad} as three passes); or M = 2048, lib's {8, 16, 16}: an outer 8 and an inner 256 (the middle's last two
   * stages, eight chunk rows a block; {@link #twoK}). P / Q, their adjoint and D are the caller's buffers ((H, M)
   * float4 twice, (H) fp32: pkjref's layout, as {@link #setPq} takes them), given by {@link #borrow} once they hold values,
   * read at each backward and not freed by {@link #close}. Blocks in lib's one-pass order {F_1 .. F_J, G_J .. G_1}. No
   * forward but at M = 16384 / 32768: elsewhere {@link #forward} and {@link #inputGrad} throw.
   */
  static PackedThreePass innerOnly(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io) {
    PackedPlanArgs.checkPlan("PackedThreePass.innerOnly", H, L, Lk, mode, io, "16384");
    long nl = fftSizeLong(L, Lk, mode);
    if (nl / 2 != INNER && nl / 2 != INNER / 2 && nl / 2 != 2 * INNER && nl / 2 != 4 * INNER && nl / 2 != INNER / 4)
      throw new IllegalArgumentException("PackedThreePass.innerOnly " + mode + " L=" + L + " Lk=" + Lk + ": needs N=" + nl + ", M=" + nl / 2
          + "; the inner-only plan is M = " + INNER / 4 + ", " + INNER / 2 + ", " + INNER + ", " + 2 * INNER + " or " + 4 * INNER + " only");
    return new PackedThreePass(device, H, L, Lk, mode, io, (int) nl, true);
  }

  /** Whether this is the {@link #innerOnly} plan (N1 = 1). */
  boolean isInnerOnly() { return inner; }

  /** Whether this is the inner-only plan at M = 16384 / 32768: N1 = 4 / 8 outer rows of 4096 (session 22). */
  boolean quad() { return inner && n1 > 1 && lI == 12; }

  /** Whether this is the inner-only plan at M = 2048 = 8 x 256 (lib's {8, 16, 16}; session 22). */
  boolean twoK() { return inner && lI == 8; }

  /** log2 of the inner size (13, 12 or 8). */
  int innerLog() { return lI; }

  /** The kernels' outer factor N1 (1 for the inner-only plan at M = 4096 / 8192). */
  int outerFactor() { return n1; }

  /** Rows a middle block takes in the inner-only plan: 2 at M = 8192, 4 at M = 4096 and (inner rows) 16384 / 32768 (0: a three-pass plan). */
  int innerRows() { return !inner ? 0 : m == INNER ? 2 : lI == 8 ? 8 : 4; }

  /**
   * The inner-only plan reads the caller's P / Q ((H, M) float4), their adjoint (the same) and D ((H) fp32) from now on;
   * they hold values (the caller has set them).
   */
  void borrow(DeviceBuffer pq, DeviceBuffer pqAdj, DeviceBuffer D) {
    if (!inner) throw new IllegalStateException("PackedThreePass.borrow: only the inner-only plan borrows its P / Q");
    if (pq == null || pqAdj == null || D == null || pq.bytes() < 16L * h * m || pqAdj.bytes() < 16L * h * m || D.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedThreePass.borrow: P / Q and their adjoint must hold (H=" + h + ", M=" + m + ") float4 = "
          + 16L * h * m + " bytes each and D (H=" + h + ") fp32, got " + (pq == null ? "null" : pq.bytes()) + ", "
          + (pqAdj == null ? "null" : pqAdj.bytes()) + " and " + (D == null ? "null" : D.bytes()));
    this.pq = pq; this.pqAdj = pqAdj; this.d = D;
    pqSet = true;
  }

  /** The inner-only plan's P / Q and D are its caller's: its setters would write into them. */
  private void owned(String op) {
    if (inner)
      throw new IllegalStateException("PackedThreePass." + op + ": the inner-only plan (M = " + m + ") reads its caller's P / Q and D; set them there");
  }

  /** The kernels' five factors {N1, 2, 16, 16, 16} (N1 = 1 for the inner-only plan). */
  private int[] kernelFactors() { return new int[] {n1, 2, 16, 16, 16}; }

  /** A plan for (H, L, Lk) in {@code mode} with 16-bit I/O {@code io}; blocks at the exact DFT, D = 0, P / Q unset. */
  public static PackedThreePass plan(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io) {
    PackedPlanArgs.checkPlan("PackedThreePass", H, L, Lk, mode, io, "131072 .. 524288");
    long nl = fftSizeLong(L, Lk, mode);
    if (nl / 2 < MIN_M || nl / 2 > MAX_M)
      throw new IllegalArgumentException("PackedThreePass " + mode + " L=" + L + " Lk=" + Lk + ": needs N=" + nl + ", M=" + nl / 2
          + "; the three-pass kernels cover M = 65536 .. 262144 (causal: N the power of two >= L + Lk - 1, bidirectional >= L + Lk,"
          + " circular N = L)");
    return new PackedThreePass(device, H, L, Lk, mode, io, (int) nl, false);
  }

  /** N as lib's MONARCH / LEARNED_PACKED engines size it (circular: L; else the power of two >= L + Lk (- 1 causal), >= 32). */
  static long fftSizeLong(int L, int Lk, ConvMode mode) {
    long need = mode == ConvMode.CIRCULAR ? L : mode == ConvMode.CAUSAL ? (long) L + Lk - 1 : (long) L + Lk;
    long nn = 32;
    while (nn < need) nn <<= 1;
    return nn;
  }

  /** The five factors of M: {M / 8192, 2, 16, 16, 16}. */
  public static int[] factors(int m) {
    if (m < MIN_M || m > MAX_M || Integer.bitCount(m) != 1)
      throw new IllegalArgumentException("PackedThreePass.factors: M must be a power of two in [65536, 262144], got " + m);
    return new int[] {m / INNER, 2, 16, 16, 16};
  }

  /** Blocks at the exact DFT in lib's order {F_1 .. F_5, G_5 .. G_1}: F = F_R, G = conj(F_R). */
  public static double[][] atInit(int m) { return PackedMonarchFactors.atInit(factors(m)); }

  /** Complex entries of one chain's five blocks (Q in learned_p3.cu), times two chains. */
  private int elements() { return 2 * (n1 * n1 + 4 + 768); }

  /** Uploads the 10 blocks {F_1 .. F_5, G_5 .. G_1} (lib's layout) and prepares the forward's and the adjoint's left forms. */
  public PackedThreePass setBlocks(double[][] b) {
    if (twoK()) {   // M = 2048: lib's {F_1 (8), F_2, F_3, G_3, G_2, G_1} in the outer and last two radix-16 slots
      PackedPlanArgs.flattenBlocks("PackedThreePass", b, factors(), "M = " + m + " = " + factorString());
      double[] i16 = new double[512];
      for (int k = 0; k < 16; k++) i16[2 * (17 * k)] = 1;
      b = new double[][] {b[0], {1, 0, 0, 0, 0, 0, 1, 0}, i16, b[1], b[2], b[3], b[4], i16.clone(), {1, 0, 0, 0, 0, 0, 1, 0}, b[5]};
    } else if (quad()) {   // M = 16384 / 32768: lib's {F_1 (N1), F_2 .. G_2 (16), G_1}, the unused radix-2 slots the identity
      PackedPlanArgs.flattenBlocks("PackedThreePass", b, factors(), "M = " + m + " = " + factorString());
      double[][] b10 = new double[10][];
      b10[0] = b[0];
      b10[9] = b[7];
      b10[1] = new double[] {1, 0, 0, 0, 0, 0, 1, 0};
      b10[8] = b10[1].clone();
      System.arraycopy(b, 1, b10, 2, 6);
      b = b10;
    } else if (inner && m < INNER) {   // M = 4096: lib's 6 blocks in the radix-16 slots (lp3_prep3: the first multiplies on the left)
      PackedPlanArgs.flattenBlocks("PackedThreePass", b, factors(), "M = " + m + " = " + factorString());
      double[][] b10 = new double[10][];
      b10[0] = new double[] {1, 0};
      b10[9] = new double[] {1, 0};
      b10[1] = new double[] {1, 0, 0, 0, 0, 0, 1, 0};
      b10[8] = b10[1].clone();
      System.arraycopy(b, 0, b10, 2, 6);
      b = b10;
    } else if (inner) {   // lib's 8 one-pass blocks, checked against its factors, then the 1 x 1 outer blocks around them
      PackedPlanArgs.flattenBlocks("PackedThreePass", b, factors(), "M = " + m + " = " + factorString());
      double[][] b10 = new double[10][];
      b10[0] = new double[] {1, 0};
      b10[9] = new double[] {1, 0};
      System.arraycopy(b, 0, b10, 1, 8);
      b10[1] = PackedThreePassLayout.transpose2(b[0]);   // lib's axis 1 multiplies on the left, the middle's radix-2 stage on the right
      b10[8] = PackedThreePassLayout.transpose2(b[7]);
      b = b10;
    }
    blocks.copyFrom(PackedPlanArgs.flattenBlocks("PackedThreePass", b, kernelFactors(), "M = " + m + " = " + factorString()));
    prep();
    return this;
  }

  /**
   * The 10 blocks from device memory: addresses of fp32 complex interleaved (R_s, R_s, 2) row-major blocks in lib's order
   * {F_1 .. F_5, G_5 .. G_1}, copied device-to-device and prepared on the device's stream; no host copy, no synchronisation.
   */
  public PackedThreePass setBlocksOnDevice(DevicePointer[] b) {
    if (inner) {   // lib's 8 one-pass block addresses (checked): [1], F_1 transposed, F_2 .. G_2 as they are, G_1 transposed, [1]
      int nb = 2 * factors().length;
      if (b == null || b.length != nb || Arrays.asList(b).contains(null))
        throw new IllegalArgumentException("PackedThreePass.setBlocksOnDevice: need " + nb + " block addresses for M = " + m + " = " + factorString()
            + ", got " + (b == null ? "null" : Arrays.toString(b)));
      device.makeCurrent();
      CudaStream s = device.stream();
      long q = (long) n1 * n1 + 4 + 768;   // complex entries of one chain
      if (twoK()) {   // M = 2048: F_1, I_2, I_16, F_2, F_3 | G_3, G_2, I_16, I_2, G_1 (lp3_prep)
        long q1 = 64;
        copy(s, 0, b[0], q1, "F_1");
        copy(s, q1, one.ptr().at(8), 4, "the unused 2 x 2 identity");
        copy(s, q1 + 4, one.ptr().at(40), 256, "the unused 16 x 16 identity");
        for (int i = 0; i < 4; i++) copy(s, q1 + 4 + 256L * (i + 1), b[i + 1], 256, "block " + (i + 1));
        copy(s, q + 512, one.ptr().at(40), 256, "the unused 16 x 16 identity");
        copy(s, q + 768, one.ptr().at(8), 4, "the unused 2 x 2 identity");
        copy(s, 2 * q - q1, b[5], q1, "G_1");
        prep();
        return this;
      }
      if (quad()) {   // M = 16384 / 32768: F_1, I_2, lib's 6 blocks as they are (lp3_prep), I_2, G_1
        long q1 = (long) n1 * n1;
        copy(s, 0, b[0], q1, "F_1");
        copy(s, q1, one.ptr().at(8), 4, "the unused 2 x 2 identity");
        for (int i = 0; i < 6; i++) copy(s, q1 + 4 + 256L * i, b[i + 1], 256, "block " + (i + 1));
        copy(s, 2 * q - q1 - 4, one.ptr().at(8), 4, "the unused 2 x 2 identity");
        copy(s, 2 * q - q1, b[7], q1, "G_1");
        prep();
        return this;
      }
      if (m < INNER) {   // M = 4096: [1], I_2, lib's 6 blocks as they are (lp3_prep3), I_2, [1]
        copy(s, 0, one.ptr(), 1, "the 1 x 1 block");
        copy(s, 2 * q - 1, one.ptr(), 1, "the 1 x 1 block");
        copy(s, 1, one.ptr().at(8), 4, "the unused 2 x 2 identity");
        copy(s, 2 * q - 5, one.ptr().at(8), 4, "the unused 2 x 2 identity");
        for (int i = 0; i < 6; i++) copy(s, 5 + 256L * i, b[i], 256, "block " + i);
        prep();
        return this;
      }
      copy(s, 0, one.ptr(), 1, "the 1 x 1 block");
      copy(s, 2 * q - 1, one.ptr(), 1, "the 1 x 1 block");
      for (int k = 0; k < 2; k++)
        for (int n = 0; n < 2; n++) {   // entry [k][n] of the transposed 2 x 2 blocks = lib's [n][k]
          copy(s, 1 + 2 * k + n, b[0].at(8L * (2 * n + k)), 1, "F_1");
          copy(s, 2 * q - 5 + 2 * k + n, b[7].at(8L * (2 * n + k)), 1, "G_1");
        }
      for (int i = 1; i < 7; i++) copy(s, 5 + 256L * (i - 1), b[i], 256, "block " + i);
      prep();
      return this;
    }
    PackedPlanArgs.copyBlocksOnDevice("PackedThreePass", device, blocks, b, kernelFactors(), "M = " + m + " = " + factorString());
    prep();
    return this;
  }

  /** n complex fp32 entries from src into the flattened blocks at entry offset dst, on stream s. */
  private void copy(CudaStream s, long dst, DevicePointer src, long n, String what) {
    Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(blocks.ptr().at(8L * dst), src, 8L * n, s.cu()), "cuMemcpyDtoDAsync",
        "inner-only plan: " + what, "device " + device.index());
  }

  private void prep() {
    int e = elements();
    device.module(MODULE).kernel(inner && m == INNER / 2 ? "lp3_prep3" : "lp3_prep").launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, mats, matsAdj,
        Integer.numberOfTrailingZeros(n1));
  }

  /**
   * P / Q of every channel from the host, lib's pairCoefficients layout per channel at this plan's positions ((H, 4M)
   * doubles, {@link PackedLearnedButterfly#pairCoefficients} with {@link #libPlan}), and D (H); the adjoint's
   * {conj P_p, Q_s(p)} built here (s from lib's partnerPositions). For tests and callers without pkjref's device P / Q.
   */
  public PackedThreePass setWeights(double[] pairCoef, float[] D) {
    owned("setWeights");
    if (pairCoef == null || D == null || pairCoef.length != 4L * h * m || D.length != h)
      throw new IllegalArgumentException("PackedThreePass.setWeights: pair coefficients must be (H=" + h + ", 4M=" + 4 * m + ") and D (H="
          + h + "), got " + (pairCoef == null ? "null" : pairCoef.length) + " and " + (D == null ? "null" : D.length) + " values");
    for (int c = 0; c < h; c++) setChannel(c, Arrays.copyOfRange(pairCoef, 4 * m * c, 4 * m * (c + 1)));
    d.copyFrom(D);
    pqSet = true;
    return this;
  }

  /**
   * P / Q of channel {@code c} from the host (lib's pairCoefficients layout [4M] at this plan's positions), written to both
   * device tables (the adjoint's {conj P_p, Q_s(p)} built here); synchronous. Callers that set channels one by one also
   * call {@link #setD}; the tables are marked set by {@link #setD}.
   */
  public PackedThreePass setChannel(int c, double[] coef) {
    owned("setChannel");
    if (c < 0 || c >= h || coef == null || coef.length != 4 * m)
      throw new IllegalArgumentException("PackedThreePass.setChannel: channel in [0, H=" + h + ") and 4M=" + 4 * m + " coefficients, got "
          + c + " and " + (coef == null ? "null" : coef.length));
    if (partners == null) partners = PackedLearnedButterfly.partnerPositions(libPlan);
    float[] a = new float[4 * m], b = new float[4 * m];
    for (int p = 0; p < m; p++) {
      int q = partners[p], w = 4 * p;
      a[w] = (float) coef[2 * p]; a[w + 1] = (float) coef[2 * p + 1];
      a[w + 2] = (float) coef[2 * m + 2 * p]; a[w + 3] = (float) coef[2 * m + 2 * p + 1];
      b[w] = a[w]; b[w + 1] = -a[w + 1];
      b[w + 2] = (float) coef[2 * m + 2 * q]; b[w + 3] = (float) coef[2 * m + 2 * q + 1];
    }
    device.makeCurrent();
    Check.cu(jcuda.driver.JCudaDriver.cuMemcpyHtoD(pq.ptr().at(16L * m * c), jcuda.Pointer.to(a), 16L * m), "cuMemcpyHtoD",
        "P / Q of channel " + c + " (M=" + m + ")");
    Check.cu(jcuda.driver.JCudaDriver.cuMemcpyHtoD(pqAdj.ptr().at(16L * m * c), jcuda.Pointer.to(b), 16L * m), "cuMemcpyHtoD",
        "adjoint P / Q of channel " + c + " (M=" + m + ")");
    return this;
  }

  /** D (H) fp32 from the host; marks the pair tables set (after {@link #setChannel} for every channel). */
  public PackedThreePass setD(float[] D) {
    owned("setD");
    if (D == null || D.length != h)
      throw new IllegalArgumentException("PackedThreePass.setD: D must be (H=" + h + "), got " + (D == null ? "null" : D.length));
    d.copyFrom(D);
    pqSet = true;
    return this;
  }

  /**
   * P / Q from device memory in pkjref's layout: (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p, and the adjoint's
   * {conj P_p, Q_s(p)}; D (H) fp32 or null (zeros). Copied device-to-device on the device's stream, no synchronisation.
   */
  public PackedThreePass setPq(DevicePointer p, DevicePointer pAdj, DevicePointer D) {
    owned("setPq");
    PackedPlanArgs.copyPq("PackedThreePass", device, h, m, pq, pqAdj, d, p, pAdj, D);
    pqSet = true;
    return this;
  }

  /**
   * Scratch budget in bytes (at least one row of 8 M bytes; a chunk takes whole channels, at least one, even where its B rows
   * exceed the budget; default 1 GiB, 2 GiB for the quad plans, or -Dlongconv4j.p3.budget); reallocated on the next call.
   */
  public PackedThreePass scratchBudget(long bytes) {
    if (bytes < 8L * m) throw new IllegalArgumentException("PackedThreePass.scratchBudget: one row of M = " + m + " complex fp32 needs "
        + 8L * m + " bytes (the budget is sized for fp32 rows whatever the scratch type), got " + bytes);
    budget = bytes;
    if (scratch != null) { scratch.close(); scratch = null; }
    return this;
  }

  /**
   * Channels per chunk: whole channels (all B rows of a channel in one chunk, adjacent in launch order, so that its P / Q
   * is read from HBM once), as many as the budget holds, at least one, at most 65535 rows (the grid's y).
   */
  int chunkChannels(int B) {
    long perChannel = (long) (quad() ? 4 : scratchPointBytes()) * m * B;
    return (int) Math.max(1, Math.min(Math.min(h, budget / perChannel), 65535 / B));
  }

  /** y = conv(u, k) + D u through the packed learned transform (three passes), queued on the device's stream. */
  public void forward(DeviceBuffer u, DeviceBuffer y, int B) { run("forward", u, y, B, mats, pq, 7); }

  /**
   * For timing only: the forward's launches restricted to the passes of {@code mask} (bit 0 the outer forward, bit 1 the
   * middle, bit 2 the outer inverse); y is meaningful only at mask = 7 ({@link #forward}).
   */
  public void forwardPasses(DeviceBuffer u, DeviceBuffer y, int B, int mask) { run("forwardPasses", u, y, B, mats, pq, mask); }

  /** du = the adjoint of {@link #forward} w.r.t. u applied to dy: the same kernels on the adjoint blocks and pair map. */
  public void inputGrad(DeviceBuffer dy, DeviceBuffer du, int B) { run("inputGrad", dy, du, B, matsAdj, pqAdj, 7); }

  private void run(String op, DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer mm, DeviceBuffer coef, int mask) {
    if (inner && !quad())
      throw new IllegalStateException("PackedThreePass." + op + ": the inner-only plan (M = " + m + ") has no forward passes;"
          + " PackedMonarchConv runs this size's forward");
    if (!pqSet) throw new IllegalStateException("PackedThreePass." + op + ": call setWeights or setPq first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || B > 65535 || x == null || out == null || x.bytes() < need || out.bytes() < need)
      throw new IllegalArgumentException("PackedThreePass." + op + ": arrays must hold (B=" + B + " in [1, 65535], H=" + h + ", L=" + l + ") "
          + io + " = " + need + " bytes, got " + (x == null ? "null" : x.bytes()) + " and " + (out == null ? "null" : out.bytes()));
    if (x == out) throw new IllegalArgumentException("PackedThreePass." + op + ": the output must not alias the input");
    int hc = chunkChannels(B), chunk = hc * B;
    long sbytes = (long) (quad() ? 4 : scratchPointBytes()) * m * chunk;
    if (scratch == null || scratch.bytes() < sbytes) {
      if (scratch != null) scratch.close();
      scratch = device.alloc(sbytes);
    }
    if (quad()) {   // M = 16384 / 32768 (session 22): lp3g_outerq_fwd, lp3g_q3mid, lp3g_outerq_inv (learned_p3g.cu; 16-bit scratch)
      CudaModule g = device.module(PackedThreePassBackward.MODULE);
      var f = g.kernel("lp3g_outerq_fwd" + n1 + "_" + io.tag());
      var mid = g.kernel("lp3g_q3mid_" + io.tag());
      var inv = g.kernel("lp3g_outerq_inv" + n1 + "_" + io.tag());
      CudaStream s = device.stream();
      for (int h0 = 0; h0 < h; h0 += hc) {
        int c = Math.min(hc, h - h0) * B;
        if ((mask & 1) != 0) f.launch(s, (1 << lI) / OUTER_THREADS, c, OUTER_THREADS, 0, x, mm, scratch, l, h0, B, h);
        if ((mask & 2) != 0) mid.launch(s, n1 / 4, c, 256, middleSmem(true), scratch, mm, coef, h0, B, h, Integer.numberOfTrailingZeros(n1));
        if ((mask & 4) != 0) inv.launch(s, (1 << lI) / OUTER_THREADS, c, OUTER_THREADS, 0, scratch, mm, x, d, out, l, h0, B, h);
      }
      return;
    }
    boolean fast = scratch16Applies(), tc = outerTcApplies();
    CudaModule mod = device.module(fast ? MODULE_B : MODULE);
    var mid = mod.kernel(middleKernel());
    int lN1 = Integer.numberOfTrailingZeros(n1);
    for (int h0 = 0; h0 < h; h0 += hc) {
      int c = Math.min(hc, h - h0) * B;
      if ((mask & 1) != 0) outer(true, mod.kernel(outerKernel(true)), tc, x, mm, scratch, null, h0, B, c);
      if ((mask & 2) != 0)
        mid.launch(device.stream(), n1 / 2, c, s16 ? 256 : 512, middleSmem(s16) + (middleWarpApplies() ? 4096 : 0), scratch, mm, coef,
            h0, B, h, lN1);
      if ((mask & 4) != 0) outer(false, mod.kernel(outerKernel(false)), tc, x, mm, scratch, out, h0, B, c);
    }
  }

  /**
   * One outer pass over chunk rows [0, c) of channels h0 .. (pass 1 {@code fwd}: x -> sc; pass 3: sc, x (for D x) -> out)
   * with kernel {@code k} of the tensor-core ({@code tc}) or CUDA-core form; also {@link PackedThreePassBackward}'s.
   */
  void outer(boolean fwd, CudaModule.Kernel k, boolean tc, DeviceBuffer x, DeviceBuffer mm, DeviceBuffer sc, DeviceBuffer out, int h0, int B, int c) {
    CudaStream s = device.stream();
    int gy = Math.max(1, Math.min(65535, (c + TC_ROWS_PER_BLOCK - 1) / TC_ROWS_PER_BLOCK));
    if (fwd) {
      if (tc) k.launch(s, INNER / 64, gy, OUTER_THREADS, 0, x, mm, sc, l, h0, B, h, c);
      else k.launch(s, INNER / OUTER_THREADS, c, OUTER_THREADS, 0, x, mm, sc, l, h0, B, h);
    } else {
      if (tc) k.launch(s, INNER / 64, gy, OUTER_THREADS, 0, sc, mm, x, d, out, l, h0, B, h, c);
      else k.launch(s, INNER / OUTER_THREADS, c, OUTER_THREADS, 0, sc, mm, x, d, out, l, h0, B, h);
    }
  }

  // ---- for PackedThreePassBackward (helper p3, session 17): the device tables and settings its kernels share
  CudaDevice device() { return device; }
  DeviceBuffer mats(boolean adjoint) { return adjoint ? matsAdj : mats; }
  DeviceBuffer pq(boolean adjoint) { return adjoint ? pqAdj : pq; }
  boolean weightsSet() { return pqSet; }
  /** D (H) fp32 (the inner-only plan's: its caller's). */
  DeviceBuffer skipWeights() { return d; }
  long scratchBudgetBytes() { return budget; }
  int channels() { return h; }
  int length() { return l; }
  int taps() { return lk; }
  ElementType io() { return io; }

  /** Whether the 16-bit-scratch outer passes run on tensor cores: {@link #outerTc}'s setting, or its default by N1. */
  boolean outerTc16() { return otc == null ? n1 >= OUTER_TC_MIN_N1 : otc; }

  /** The middle kernel's name (learned_p3.cu, or learned_p3b.cu's lp3_mid16 where {@link #scratch16} applies). */
  public String middleKernel() {
    if (middleWarpApplies()) return (mrp ? "lp3_mid16x_" : "lp3_mid16w_") + io.tag();
    return scratch16Applies() ? "lp3_mid16_" + io.tag() : "lp3_middle_" + io.tag() + (s16 ? "_s16" : "_s32");
  }

  /** The outer forward ({@code fwd}) or inverse pass's kernel name for the current settings. */
  public String outerKernel(boolean fwd) {
    String kind = outerTcApplies() ? "lp3_outertc_" : scratch16Applies() ? "lp3_outer16_" : "lp3_outer_";
    return kind + (fwd ? "fwd" : "inv") + n1 + "_" + io.tag();
  }

  /** Bytes of one scratch point: 8 (fp32 complex) or 4 ((re, im) of the 16-bit I/O type). */
  int scratchPointBytes() { return scratch16Applies() ? 4 : 8; }

  boolean scratch16Applies() { return sc16 && s16; }

  boolean outerTcApplies() { return outerTc16() && scratch16Applies(); }

  /** {@code -Dlongconv4j.p3.outerTc}: true / false, unset (or anything else): null, the default by N1 ({@link #OUTER_TC_MIN_N1}). */
  private static Boolean outerTcProperty() {
    String v = System.getProperty("longconv4j.p3.outerTc");
    return "true".equals(v) ? Boolean.TRUE : "false".equals(v) ? Boolean.FALSE : null;
  }

  boolean middleWarpApplies() { return mw && scratch16Applies(); }

  /**
   * The middle's last two inner stages per warp (lp3_mid16w: per unit of partner 256-point chunks one warp runs stages 4
   * and 5 in registers, the unit's pair map and the inverse stages 5 and 4, with learned_pm.cu's chunk helpers; 5 block
   * barriers and 4 passes over shared memory fewer than lp3_mid16). Applies with {@link #scratch16} only; its outputs differ
   * from lp3_mid16's by rounding only (stage 4's output is rounded to 16 bits as an operand instead of in the planes, the
   * w256 twiddles come from their own table). Off: lp3_mid16 (the twin). Default {@code -Dlongconv4j.p3.middleWarp} (true since
   * session 17).
   */
  public PackedThreePass middleWarp(boolean on) { mw = on; return this; }

  /** The middle's pair map in registers (lp3_mid16x, session 26; same bits as lp3_mid16w); {@code -Dlongconv4j.p3.regpair}, default true. */
  public PackedThreePass middleRegPair(boolean on) { mrp = on; return this; }

  /**
   * A 16-bit scratch ((re, im) of the I/O type, half the bytes of fp32) with learned_p3b.cu's kernels: passes 1 / 3 write /
   * read it, the middle (lp3_mid16) reads and writes it with the radix-2 stage fused into its load and store. Applies with
   * 16-bit middle planes only ({@link #storage16}, the default), where it gives the fp32 scratch's outputs bit for bit: those
   * planes round the middle's input to 16 bits on entry (the same rounding pass 1 now does) and its output is read out of
   * 16-bit planes. Off: learned_p3.cu's kernels (the twin). Default {@code -Dlongconv4j.p3.scratch16} (true since session 17).
   */
  public PackedThreePass scratch16(boolean on) { sc16 = on; return this; }

  /**
   * Passes 1 and 3 on tensor cores (lp3_outertc: F_1 / G_1 as the mma.sync A operand, 16-bit operands, fp32 accumulation);
   * applies with {@link #scratch16} only. Off: the CUDA-core outer passes in fp32 (the twin). Default
   * {@code -Dlongconv4j.p3.outerTc}: unset, on at N1 &gt;= {@link #OUTER_TC_MIN_N1} only (session 17); true / false force it.
   */
  public PackedThreePass outerTc(boolean on) { otc = on; return this; }

  /**
   * 16-bit shared-memory planes in the middle pass (the default: 68 KB a block, three blocks of 256 threads per SM, each
   * stage's output rounded to the I/O type), or fp32 planes (136 KB, one block of 512 threads per SM: the twin).
   */
  public PackedThreePass storage16(boolean on) { s16 = on; return this; }

  public int fftSize() { return n; }
  public int points() { return m; }
  /** Lib's factors: {N1, 2, 16, 16, 16}; the inner-only plan's {2, 16, 16, 16}, {16, 16, 16} or {N1, 16, 16, 16} (lib's one-pass ones). */
  public int[] factors() {
    if (!inner) return factors(m);
    if (twoK()) return new int[] {8, 16, 16};
    return quad() ? new int[] {n1, 16, 16, 16} : m == INNER ? new int[] {2, 16, 16, 16} : new int[] {16, 16, 16};
  }
  public ConvMode mode() { return mode; }
  /** lib's float64 plan of this shape (engine LEARNED_PACKED): its positions, partners and pair coefficients are this plan's. */
  public ConvPlan libPlan() { return libPlan; }

  private String factorString() { return PackedMonarchFactors.factorString(factors()); }

  @Override public void close() {
    if (!inner) { pq.close(); pqAdj.close(); d.close(); }
    blocks.close(); mats.close(); matsAdj.close();
    if (one != null) one.close();
    if (scratch != null) scratch.close();
  }

  @Override public String toString() {
    return "PackedThreePass[H=" + h + ", L=" + l + ", Lk=" + lk + ", " + mode + ", N=" + n + ", M=" + m + " = " + factorString() + ", io=" + io
        + ", " + (s16 ? "16-bit" : "fp32") + " middle planes, " + (scratch16Applies() ? "16-bit" : "fp32") + " scratch, outer passes on "
        + (outerTcApplies() ? "tensor" : "CUDA") + " cores, middle " + middleKernel() + ", scratch budget " + budget + " bytes]";
  }
}
