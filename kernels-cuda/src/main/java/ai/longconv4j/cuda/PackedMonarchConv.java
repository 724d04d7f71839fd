// Shapes: B batch, H channels, L length, Lk kernel taps; N the real FFT size (MONARCH's sizing: causal N the power of two
// >= L + Lk - 1, bidirectional >= L + Lk; circular N = L), M = N / 2 = R1 * 16^(J-1) complex points with the J factors
// {R1, 16, .., 16} of s14-jspec.md (this class: M = 2048 {8,16,16}, 4096 {16,16,16}, 8192 {2,16,16,16}, 16384 {4,16,16,16},
// 32768 {8,16,16,16}; p a position = the row-major index of (k_1 .. k_J), holding frequency k = k_1 + R1 (k_2 + 16 (..))).
//   u, y, dy, du: (B, H, L) device arrays of the plan's ElementType (bf16 / fp16); D: (H) fp32.
//   blocks: 2J complex (R_s, R_s, 2) interleaved row-major, order {F_1 .. F_J, G_J .. G_1} (lib's names Fa, Fb, Fc, ..,
//   .., Gc, Gb, Ga); pair coefficients: per channel lib's pairCoefficients layout [4M] at position order p (P_p at
//   [2p, 2p+1], Q_p at [2M + 2p, ..]); on the device (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p, and the
//   adjoint's (H, M) float4 {conj P_p, Q_s(p)}.
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.Precision;

/**
 * The packed learned butterfly with J factors (engine LEARNED_PACKED from M = 2048 on, s14-jspec.md) on tensor cores,
 * one pass: forward and input gradient, M = 2048 .. 32768 (causal / bidirectional L up to 32K, circular L = 4K .. 64K),
 * all three modes (they differ only in N and in P / Q). One fused kernel per row (b, h) (learned_pm.cu,
 * {@code lpm_forward_*}): pack z[m] = u_pad[2m] + i u_pad[2m+1], the forward chain with learned blocks (radix-16 stages
 * as 16 x 16 complex products on mma.sync, bf16 / fp16 operands, fp32 accumulation, FlashButterfly's monarch.cuh tiles;
 * the first stage at R1 &lt; 16 in fp32 on CUDA cores), the pair map C'[p] = P_p C[p] + Q_p conj(C[s(p)]), the inverse
 * chain, unpack, + D u. The row lives in shared memory: fp32 planes up to M = 16384, 16-bit planes (the I/O type) at
 * 32768 ({@link #storage16(boolean)}). By default the last two stages, the pair map and their inverses run per warp in
 * registers on 256-point chunks and their partner chunks ({@link #fused(boolean)}). The same kernel gives du ({@link #inputGrad}) on the adjoint blocks
 * {G_1^H .. G_J^H, F_J^H .. F_1^H} and adjoint pair map {conj P_p, Q_s(p)}; blocks reach the kernel in "left form"
 * (stage 1 as is, stages s &gt;= 2 transposed: lib multiplies them on the right), prepared on the device by
 * {@code lpm_prep} from lib's layout ({@link #setBlocks} from the host, {@link #setBlocksOnDevice} from device memory).
 * The first backward piece: {@link #pairGrads} (dP / dQ, {@code lpm_dpq_*}); helper pkjbwd's whole backward but dk and
 * helper pkbwdopt's variants of it are the plan's {@link #backward()} ({@link PackedMonarchBackward}: du, dP / dQ, dD and
 * the 2J block Grams on mma.sync, learned_pmb.cu / learned_pmb2.cu).
 * Helper pkjopt's faster variants of the fused kernel (learned_pm2.cu {@code lpm2_b_*}, same results bit for bit in the
 * GPU test): {@link #balanced(boolean)} (the middle's work dealt evenly over the warps), {@link #regCap(int)} (80 registers:
 * 3 blocks per SM) and {@link #tuned(boolean)} (the measured best per M: 1.26-1.52x faster than lpm_fused in one bench
 * order; the default since session 14: tuned(false) is its slow twin).
 * Helper pkocc's {@link #outer(boolean)} (learned_pm3.cu {@code lpm3_*}, the default for causal / bidirectional plans): the same middle with fewer
 * block-wide passes (J = 4: first and S = 256 stages per warp in registers, as FlashButterfly's outer pair; y straight to
 * global memory), M = 2048 .. 16384.
 * Helper pm4's {@link #fragTable(boolean)} (learned_pm4.cu: lpm3 with per-block fragment tables, the same bits) and its
 * {@link #stage(boolean)} (the row's x staged in shared memory by cp.async; session 18): the defaults for M &lt;= 16384
 * in every mode (the staged row for causal / bidirectional and circular M &lt;= 8192; BENCH-RESULTS.md round 31-pm4).
 * Session 29's {@link #wide32(boolean)}: at M = 32768 (causal / bidirectional) learned_pm4.cu's y kernel, 256 threads, on Hopper.
 * Everything else (M outside 2048 .. 32768, fp32 I/O, H outside [1, 65535], Lk &gt; L, circular L not a power of two)
 * throws {@link IllegalArgumentException} naming the shape.
 * <pre>{@code
 * jshell> var pm = PackedMonarchConv.plan(dev, 768, 4096, 4096, ConvMode.CAUSAL, ElementType.BF16)
 * pm ==> PackedMonarchConv[H=768, L=4096, Lk=4096, CAUSAL, N=8192, M=4096 = 16 x 16 x 16, io=BF16, fused, fp32 smem, 256 threads]
 * jshell> pm.setBlocks(blocks); pm.setWeights(pq, D); pm.forward(u, y, 64); pm.inputGrad(dy, du, 64);
 * }</pre>
 */
public final class PackedMonarchConv implements AutoCloseable {
  static final String MODULE = "learned_pm", MODULE2 = "learned_pm2", MODULE3 = "learned_pm3", MODULE4 = "learned_pm4";
  /** The smallest and largest M this kernel covers (one pass: ConvPlan.ONE_PASS_MAX). */
  public static final int MIN_M = 2048, MAX_M = 1 << 15;

  private final CudaDevice device;
  private final int h, l, lk, n, m, log2m, j, r1;
  private final ConvMode mode;
  private final ElementType io;
  private final DeviceBuffer pq, pqAdj, d, blocks, mats, matsAdj;
  private boolean pqSet, s16, fused = true, balanced, outer, fragTable, fragDirect, stage, regPair, sfuTwiddles, wide32;
  private int recTwiddles;
  private int threads, regCap, pairU = 1;
  private final int[] f;   // M's factors R_1 .. R_J (PackedMonarchFactors.factors), computed once

  private PackedMonarchConv(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, int n) {
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.mode = mode; this.io = io; this.n = n; this.m = n / 2;
    this.log2m = Integer.numberOfTrailingZeros(m);
    this.f = PackedMonarchFactors.factors(m);
    this.j = f.length;
    this.r1 = f[0];
    this.s16 = m > 16384;   // fp32 planes of 32768 points (264 KB) exceed the 227 KB of shared memory
    this.threads = m <= 4096 ? 256 : 512;
    // pkjopt's variants (learned_pm2.cu), chosen per plan by the setters; the properties set the plan's starting point
    if (Boolean.parseBoolean(System.getProperty("longconv4j.pm.tuned", "true"))) tuned(true);   // the default since session 14's closing call
    this.balanced = balanced || Boolean.getBoolean("longconv4j.pm.balanced");
    this.regCap = Integer.getInteger("longconv4j.pm.regcap", regCap);
    if (regCap != 0 && regCap != 64 && regCap != 80)
      throw new IllegalArgumentException("PackedMonarchConv: -Dlongconv4j.pm.regcap must be 0, 64 or 80, got " + regCap);
    // -Dlongconv4j.pm.<name> overrides tuned's choice (pkocc's outer, pm4's fragtable / fragdirect / stage, session 26's regpair
    // / sfutw)
    this.s16 = m > 16384 || prop("s16", s16);
    this.outer = prop("outer", outer);
    this.fragTable = prop("fragtable", fragTable);
    this.fragDirect = prop("fragdirect", fragDirect);
    this.stage = prop("stage", stage);
    this.regPair = prop("regpair", regPair);
    this.sfuTwiddles = prop("sfutw", sfuTwiddles);
    this.wide32 = prop("wide32", wide32);
    recTwiddles(Integer.getInteger("longconv4j.pm.rectw", recTwiddles));
    pairU(Integer.getInteger("longconv4j.pm.pairu", pairU));
    Integer th = Integer.getInteger("longconv4j.pm.threads");
    if (th != null) threads(th);
    this.pq = device.alloc(16L * h * m);
    this.pqAdj = device.alloc(16L * h * m);
    this.d = device.alloc(4L * h);
    this.blocks = device.alloc(8L * elements());
    this.mats = device.alloc(8L * elements());
    this.matsAdj = device.alloc(8L * elements());
    d.copyFrom(new float[h]);
    setBlocks(PackedMonarchFactors.atInit(m));
  }

  /** {@code -Dlongconv4j.pm.<name>} as a boolean, or {@code dflt} where it is unset. */
  private static boolean prop(String name, boolean dflt) {
    String v = System.getProperty("longconv4j.pm." + name);
    return v == null ? dflt : Boolean.parseBoolean(v);
  }

  /** A plan for (H, L, Lk) in {@code mode} with 16-bit I/O {@code io}; blocks at the exact DFT, D = 0, P / Q unset. */
  public static PackedMonarchConv plan(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io) {
    PackedPlanArgs.checkPlan("PackedMonarchConv", H, L, Lk, mode, io, "4096 .. 65536");
    int n = fftSize(L, Lk, mode), m = n / 2;
    if (m < MIN_M || m > MAX_M)
      throw new IllegalArgumentException("PackedMonarchConv " + mode + " L=" + L + " Lk=" + Lk + ": needs N=" + n + ", M=" + m
          + "; this one-pass kernel covers M = 2048 .. 32768 (causal: N the power of two >= L + Lk - 1, bidirectional >= L + Lk,"
          + " circular N = L)");
    return new PackedMonarchConv(device, H, L, Lk, mode, io, n);
  }

  /**
   * Whether {@link #plan} takes (L, Lk, mode, io) (for routing; the same checks, no device): bf16 / fp16, 1 &lt;= Lk &lt;= L,
   * circular L a power of two, M = N / 2 in [2048, 32768].
   */
  public static boolean supports(int L, int Lk, ConvMode mode, ElementType io) {
    if (mode == null || L < 1 || Lk < 1 || Lk > L || (io != ElementType.BF16 && io != ElementType.F16)) return false;
    if (mode == ConvMode.CIRCULAR && Integer.bitCount(L) != 1) return false;
    int m = fftSize(L, Lk, mode) / 2;
    return m >= MIN_M && m <= MAX_M;
  }

  /** N as lib's MONARCH / LEARNED_PACKED engines size it for the mode. */
  static int fftSize(int L, int Lk, ConvMode mode) {
    return ConvPlan.of(L, Lk, LearnedButterflyConv.libMode(mode), ConvEngine.MONARCH, Precision.F64).fftSize();
  }

  private int elements() { return 2 * (r1 * r1 + 256 * (j - 1)); }

  /** Uploads the 2J blocks {F_1 .. F_J, G_J .. G_1} (lib's layout) and prepares the forward's and the adjoint's left forms. */
  public PackedMonarchConv setBlocks(double[][] b) {
    blocks.copyFrom(PackedPlanArgs.flattenBlocks("PackedMonarchConv", b, f, "M = " + m + " = " + factorString()));
    prep();
    return this;
  }

  /**
   * The 2J blocks from device memory: addresses of fp32 complex interleaved (R_s, R_s, 2) row-major blocks in lib's order
   * {F_1 .. F_J, G_J .. G_1}, copied device-to-device and prepared on the device's stream; no host copy, no synchronisation.
   */
  public PackedMonarchConv setBlocksOnDevice(DevicePointer[] b) {
    PackedPlanArgs.copyBlocksOnDevice("PackedMonarchConv", device, blocks, b, f, "M = " + m + " = " + factorString());
    prep();
    return this;
  }

  private void prep() {
    int e = elements();
    device.module(MODULE).kernel("lpm_prep").launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, mats, matsAdj,
        Integer.numberOfTrailingZeros(r1), j);
  }

  /**
   * P / Q of every channel from the host, lib's pairCoefficients layout per channel at this plan's positions ((H, 4M)
   * doubles), and D (H); the adjoint's {conj P_p, Q_s(p)} built here. For tests and for callers without pkjref's device P / Q.
   */
  public PackedMonarchConv setWeights(double[] pairCoef, float[] D) {
    if (pairCoef == null || D == null || pairCoef.length != 4L * h * m || D.length != h)
      throw new IllegalArgumentException("PackedMonarchConv.setWeights: pair coefficients must be (H=" + h + ", 4M=" + 4 * m + ") and D (H="
          + h + "), got " + (pairCoef == null ? "null" : pairCoef.length) + " and " + (D == null ? "null" : D.length) + " values");
    int[] part = partners();
    float[] a = new float[4 * h * m], b = new float[4 * h * m];
    for (int c = 0; c < h; c++) {
      int o = 4 * m * c;
      for (int p = 0; p < m; p++) {
        int q = part[p], w = 4 * (c * m + p);
        a[w] = (float) pairCoef[o + 2 * p]; a[w + 1] = (float) pairCoef[o + 2 * p + 1];
        a[w + 2] = (float) pairCoef[o + 2 * m + 2 * p]; a[w + 3] = (float) pairCoef[o + 2 * m + 2 * p + 1];
        b[w] = a[w]; b[w + 1] = -a[w + 1];
        b[w + 2] = (float) pairCoef[o + 2 * m + 2 * q]; b[w + 3] = (float) pairCoef[o + 2 * m + 2 * q + 1];
      }
    }
    pq.copyFrom(a);
    pqAdj.copyFrom(b);
    d.copyFrom(D);
    pqSet = true;
    return this;
  }

  /**
   * P / Q from taps on the host (float64, then fp32 on the device): {@code k} lib's (H, sides, Lk) layout (sides 2 for
   * BIDIRECTIONAL: k0 at [t], k1 at [N - 1 - t] as lib's SpectralConv places them), D (H). packed-spec.md step 4 per channel
   * (K = DFT_N(k_pad) by JTransforms), at this plan's positions; the slow host route until pkjref's device P / Q is wired.
   */
  public PackedMonarchConv setTaps(float[] k, float[] D) {
    int sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (k == null || D == null || k.length != sides * h * lk || D.length != h)
      throw new IllegalArgumentException("PackedMonarchConv.setTaps " + mode + ": k must be (H=" + h + ", " + (sides == 2 ? "2, " : "") + "Lk=" + lk
          + ") and D (H=" + h + "), got " + (k == null ? "null" : k.length) + " and " + (D == null ? "null" : D.length) + " values");
    var lm = LearnedButterflyConv.libMode(mode);
    int t0 = lm.effectiveTaps(l, lk, 0), t1 = sides == 2 ? lm.effectiveTaps(l, lk, 1) : 0;
    double[] all = new double[4 * h * m];
    java.util.stream.IntStream.range(0, h).parallel().forEach(c -> {
      double[] kp = new double[n];
      for (int t = 0; t < t0; t++) kp[t] = k[c * sides * lk + t];
      for (int t = 0; t < t1; t++) kp[n - 1 - t] = k[c * sides * lk + lk + t];
      System.arraycopy(PackedMonarchFactors.pairCoefficients(m, kp), 0, all, 4 * m * c, 4 * m);
    });
    return setWeights(all, D);
  }

  /**
   * P / Q from device memory in pkjref's layout: (H, M) float4 {Re P, Im P, Re Q, Im Q} at position p, and the adjoint's
   * {conj P_p, Q_s(p)}; D (H) fp32 or null (zeros). Copied device-to-device on the device's stream, no synchronisation.
   */
  public PackedMonarchConv setPq(DevicePointer p, DevicePointer pAdj, DevicePointer D) {
    PackedPlanArgs.copyPq("PackedMonarchConv", device, h, m, pq, pqAdj, d, p, pAdj, D);
    pqSet = true;
    return this;
  }

  /** Position of the partner frequency (M - k) mod M, per position. */
  int[] partners() {
    int[] freq = new int[m], part = new int[m];
    for (int k = 0; k < m; k++) freq[PackedMonarchFactors.position(k, f)] = k;
    for (int p = 0; p < m; p++) part[p] = PackedMonarchFactors.position((m - freq[p]) % m, f);
    return part;
  }

  /** 16-bit shared-memory planes (the I/O type; required at M = 32768, optional below: two blocks per SM from M = 8192). */
  public PackedMonarchConv storage16(boolean on) {
    if (!on && m > 16384)
      throw new IllegalArgumentException("PackedMonarchConv.storage16(false): fp32 planes of M = " + m + " points need "
          + smem(log2m, 4) + " bytes of shared memory, more than the 227 KB of one block");
    s16 = on;
    return this;
  }

  /** Threads per block: 128, 256 or 512. */
  public PackedMonarchConv threads(int t) {
    if (t != 128 && t != 256 && t != 512) throw new IllegalArgumentException("PackedMonarchConv.threads: 128, 256 or 512, got " + t);
    threads = t;
    return this;
  }

  /** learned_pm.cu pm_smem: two planes of M + M/32, the twiddle table (128 + M/128 float2), two 8 x 8 complex matrices, w256 (512 float2). */
  static int smem(int log2M, int stBytes) {
    int mm = 1 << log2M;
    return ((2 * (mm + mm / 32) * stBytes + 15) & ~15) + 8 * (128 + mm / 128) + 2 * 8 * 64 + 8 * 512;
  }

  /** The forward kernel's name (learned_pm.cu's lpm_*, learned_pm2.cu's lpm2_* for the pkjopt variants, learned_pm3.cu's lpm3_* for {@link #outer}). */
  public String kernelName() {
    if (wide32Active()) return "lpm4y_" + io.tag() + "_m32768_t256";
    if (sfuActive() && recTwiddles > 0) return (recTwiddles == 1 && m >= 8192 ? "lpm4w_" : "lpm4v_") + io.tag() + "_m" + m + "_r" + (m <= 8192 ? regCap : 0);
    if (sfuActive()) return "lpm4y_" + io.tag() + "_m" + m + "_r" + (m <= 8192 ? regCap : 0);
    if (regPairActive()) return "lpm4x_" + io.tag() + "_m" + m + "_r" + (m <= 8192 ? regCap : 0);
    if (stageActive()) return (pairU == 2 ? "lpm4sp_" : "lpm4s_") + io.tag() + "_m" + m + "_r" + (m <= 8192 ? regCap : 0);
    if (fragActive()) return (fragDirect && m == 4096 ? "lpm4g_" : "lpm4_") + io.tag() + "_m" + m + "_r" + (m <= 8192 && regCap != 0 ? regCap : 0);
    if (outerActive()) return "lpm3_" + io.tag() + "_m" + m + "_r" + (m <= 8192 && regCap == 80 ? 80 : 0);
    if (!variant()) return (fused ? "lpm_fused_" : "lpm_forward_") + io.tag() + (s16 ? "_s16" : "_s32");
    return "lpm2_b_" + io.tag() + (s16 ? "_s16" : "_s32") + "_r" + regCap;
  }

  /**
   * The fastest measured configuration per M (B = 64, H = 768, bf16; BENCH-RESULTS.md rounds 27-pkjopt .. 41-s29). on: the
   * balanced kernels under the 80-register cap with {@link #tunedConfig}'s threads and planes (M &lt;= 16384; M = 32768 keeps
   * the plan's defaults), and on top {@link #outer} (causal / bidirectional; pkocc, session 15), {@link #fragTable} and
   * {@link #fragDirect} (pm4, sessions 17-18), {@link #stage} (causal / bidirectional M &lt;= 16384, circular M &lt;= 8192;
   * session 18), {@link #regPair} and {@link #sfuTwiddles} (session 26), {@link #recTwiddles} 2 at M = 4096 / 16384 (session
   * 27), {@link #wide32} (session 29: M = 32768's one-pass y kernel, round 41-s29): each set where its round measured it faster
   * than the one before it (stage at causal 2048: a tie; orders and figures in those rounds). off: balanced(false), regCap(0), the plan's threads and planes, none of the above (the slow twin, lpm_fused). Starting value {@code -Dlongconv4j.pm.tuned} (default true); the per-option properties override it.
   */
  public PackedMonarchConv tuned(boolean on) {
    int[] c = tunedConfig(m);
    balanced = on && c != null;
    regCap = on && c != null ? 80 : 0;
    threads = on && c != null ? c[0] : (m <= 4096 ? 256 : 512);
    s16 = m > 16384 || (on && c != null && c[1] == 1);
    outer = on && mode != ConvMode.CIRCULAR;   // helper pkocc's learned_pm3.cu where measured faster (M <= 16384; see outer)
    fragTable = on && c != null;   // helper pm4's learned_pm4.cu, every mode (see fragTable)
    fragDirect = on;               // and its g kernels at M = 4096
    stage = on && c != null && (mode != ConvMode.CIRCULAR || m <= 8192);   // its s kernels where measured faster (see stage)
    regPair = on;                  // and their x form (session 26; see regPair)
    sfuTwiddles = on;              // and its y form (session 26; see sfuTwiddles)
    recTwiddles = on && (m == 4096 || m == 16384) ? 2 : 0;   // its v form where measured faster (session 27; see recTwiddles)
    wide32 = on;                   // and its y kernel at M = 32768 (session 29; see wide32)
    return this;
  }

  /** {threads, 16-bit planes (1) or fp32 (0)} of {@link #tuned(boolean)} for M, or null where it keeps the defaults (M = 32768: wide32's kernel sets its own). */
  static int[] tunedConfig(int m) {
    if (m == 2048) return new int[] {128, 0};
    if (m >= 4096 && m <= 16384) return new int[] {256, 1};
    return null;
  }

  /**
   * Helper pkocc's kernels ({@code lpm3_<io>_m<M>_r<0|80>}, fused plans, M = 2048 .. 16384, 16-bit planes, the plan's threads;
   * the 80-register cap where {@link #regCap} is 80 and M &lt;= 8192): the balanced middle with fewer block-wide passes (J = 4:
   * the first and S = 256 stages per warp in registers both ways, y = E + D u straight to global memory; J = 3: the first
   * stages straight from / to global memory; causal padding's zero half skipped); 0 spills. On through {@link #tuned} for
   * causal / bidirectional (round 28-pkocc), off for circular; {@code -Dlongconv4j.pm.outer}. false: learned_pm2.cu's lpm2_b_*
   * (the twin). M = 32768 keeps its kernel here (lpm3's R1 = 8 outer units spilled; see {@link #wide32(boolean)}).
   */
  public PackedMonarchConv outer(boolean on) { outer = on; return this; }

  public boolean outer() { return outer; }

  /**
   * Helper pm4's kernels ({@code lpm4_<io>_m<M>_r<0|80>}, M = 2048 .. 16384, fused plans, every mode): lpm3 with the 16 x 16
   * blocks' mma fragments from per-block shared tables (two conflict-free 16-byte loads a fragment) and the first stage's
   * coefficients two per 16-byte load: the same bits as lpm3; over {@link #outer} and learned_pm2.cu (false: those, the
   * twins). On through {@link #tuned} for M &lt;= 16384 (causal 2K .. 16K 1.05-1.17x lpm3's speed, circular 4K .. 32K
   * 1.17-1.38x lpm2_b's: rounds 30-pm4, 31-pm4); {@code -Dlongconv4j.pm.fragtable}.
   */
  public PackedMonarchConv fragTable(boolean on) { fragTable = on; return this; }

  public boolean fragTable() { return fragTable; }

  /**
   * With {@link #fragTable} at M = 4096: learned_pm4.cu's g kernels ({@code lpm4g_*}), the first stage's inputs straight from
   * global memory into the mma operands (the same bits); false: {@code lpm4_*}. On through {@link #tuned} (2-3 % faster, both
   * orders, causal and circular); {@code -Dlongconv4j.pm.fragdirect}.
   */
  public PackedMonarchConv fragDirect(boolean on) { fragDirect = on; return this; }

  /** Whether {@link #fragTable} applies to this plan (fused, M &lt;= 16384). */
  private boolean fragActive() { return fragTable && fused && m <= 16384; }

  /**
   * Helper pm4's s kernels (session 18; learned_pm4.cu {@code lpm4s_<io>_m<M>_r<0|64|80>}, M = 2048 .. 16384, with
   * {@link #fragTable}; caps as lpm4's, and 64 at M = 4096): lpm4g / lpm4 with the row's x copied into shared memory by
   * cp.async at the kernel's start, read there by the first stage and by the inverse's D x: the same bits; M (causal /
   * bidirectional) or 2M (circular) more 16-bit values of shared memory. {@link #pairU(int)} 2 at M = 4096 under the 80 cap:
   * {@code lpm4sp_*}. false: lpm4g / lpm4 (the slow twins). Default: on through {@link #tuned(boolean)} for causal /
   * bidirectional M &lt;= 16384 and circular M &lt;= 8192 (measured faster in both orders; circular M = 16384 slower: its
   * 2M-value copy leaves one block per SM; BENCH-RESULTS.md round 31-pm4); {@code -Dlongconv4j.pm.stage} overrides it.
   */
  public PackedMonarchConv stage(boolean on) { stage = on; return this; }

  public boolean stage() { return stage; }

  /**
   * Session 26's x kernels ({@code lpm4x_<io>_m<M>_r<0|80>}; with {@link #stage}, pairU 1, the cap 0 or 80): the s kernels with the
   * middle's pair map in registers, the same bits; on through {@link #tuned} (round 38-s26), {@code -Dlongconv4j.pm.regpair}.
   */
  public PackedMonarchConv regPair(boolean on) { regPair = on; return this; }

  private boolean regPairActive() { return regPair && stageActive() && pairU == 1 && regCap != 64; }

  /**
   * Session 26's y kernels ({@code lpm4y_<io>_m<M>_r<0|80>}: r80 to M = 8192, r0 at 16384): x with the outer twiddles from the SFU
   * (within 2^-21.4 of x's); on through {@link #tuned} (4K 1.73 ms vs x's 1.98: round 38-s26), {@code -Dlongconv4j.pm.sfutw}.
   */
  public PackedMonarchConv sfuTwiddles(boolean on) { sfuTwiddles = on; return this; }

  private boolean sfuActive() { return sfuTwiddles && regPairActive() && (m > 8192 || regCap == 80); }

  /**
   * Session 27's v / w kernels ({@code lpm4v_*}, {@code lpm4w_*} at M = 8192 / 16384; with {@link #sfuTwiddles}): y with the outer
   * twiddles by a product recurrence (learned_pm_rec.cuh; not y's bits), at bf16 the middle's 1/16 in its tables. 0: y, 2: v, 1: w
   * (v with the J = 4 first stage's twiddles from the SFU; v below M = 8192). {@link #tuned}: 2 at M = 4096 / 16384 (4K 1.54 ms vs
   * y's 1.54-1.56, 16K 6.39 vs 6.47; 8K v 3.33 / w 3.18 vs y 3.09: round 39-s27), else 0. {@code -Dlongconv4j.pm.rectw}.
   */
  public PackedMonarchConv recTwiddles(int level) {
    if (level < 0 || level > 2) throw new IllegalArgumentException("PackedMonarchConv.recTwiddles: 0, 1 or 2, got " + level);
    recTwiddles = level;
    return this;
  }

  /**
   * Session 29's one-pass kernel at M = 32768 ({@code lpm4y_<io>_m32768_t256}: the y kernel, R1 = 8's outer stage in registers,
   * 256 threads of up to 255 registers, 215 KB of shared memory) for fused causal / bidirectional plans with L &lt;= M, on devices
   * that allow that much shared memory a block (Hopper; not sm_80's 163 KB). false, or where it does not apply: M = 32768 keeps
   * lpm_fused (its twin). On through {@link #tuned}; {@code -Dlongconv4j.pm.wide32}.
   */
  public PackedMonarchConv wide32(boolean on) { wide32 = on; return this; }

  /** Whether this plan runs the M = 32768 y kernel ({@link #wide32(boolean)} and its conditions). */
  boolean wide32Active() {
    return wide32 && fused && m == 32768 && l <= m   // L <= M: causal / bidirectional (circular N = L: M = L / 2)
        && device.maxSharedMemoryOptin() >= wide32Smem();
  }

  /** The M = 32768 y kernel's dynamic shared memory: pm4_smem(15) and the staged row's M 16-bit values. */
  static int wide32Smem() { return smem4(15) + stageBytes(15, true); }

  /** Pair-map positions per lane at a time in the s kernels (1, or 2: lpm4sp at M = 4096); {@code -Dlongconv4j.pm.pairu}. */
  public PackedMonarchConv pairU(int u) {
    if (u != 1 && u != 2) throw new IllegalArgumentException("PackedMonarchConv.pairU: 1 or 2, got " + u);
    pairU = u;
    return this;
  }

  /** Whether the s kernels apply (fragment tables active: M &lt;= 16384). */
  private boolean stageActive() { return stage && fragActive(); }

  /** Whether learned_pm4.cu builds the 64-register cap for this plan's kernel (g and s at M = 4096, pairU 1). */
  private boolean cap64Built() { return fragActive() && m == 4096 && (stageActive() ? pairU == 1 : fragDirect); }

  /** learned_pm4.cu pm4_smem: {@link #smem} with 16-bit planes and six 1 KB fragment tables. */
  static int smem4(int log2M) { return smem(log2M, 2) + 6 * 1024; }

  /**
   * learned_pm4.cu stage_bytes: the s kernels' copy of the row, M 16-bit values where the padding's zero half is skipped
   * ({@code half}: L &lt;= M, causal / bidirectional) or 2M (circular), and 16 bytes of padding per KB.
   */
  static int stageBytes(int log2M, boolean half) { return (half ? 2 : 4) * ((1 << log2M) + (1 << log2M) / 64); }

  /** Whether {@link #outer} applies to this plan (fused, M &lt;= 16384). */
  private boolean outerActive() { return outer && fused && m <= 16384; }

  /** Whether the plan runs one of learned_pm2.cu's kernels (the balanced middle, with or without the register cap). */
  private boolean variant() { return fused && balanced; }

  /**
   * The balanced middle (learned_pm2.cu {@code lpm2_b_*}, helper pkjopt; fused kernels only): the middle's chunk units
   * dealt round-robin over the warps, the pair map's partner by the chunk rule, each fragment loaded right before its
   * product (learned_pm.cu pm_middle2); false: the fused kernel's own middle (pm_middle, its slow twin). Starting value:
   * {@code -Dlongconv4j.pm.balanced}.
   */
  public PackedMonarchConv balanced(boolean on) { balanced = on; return this; }

  /**
   * Register cap of the balanced kernels (helper pkjopt; learned_pm2.cu; only with {@link #balanced(boolean)}): 0 =
   * __launch_bounds__(512, 1) as lpm_fused_* (112-117 registers: 2 blocks of 256 threads per SM), 80 = __maxnreg__(80)
   * on sm_90a (3 blocks of 256 threads per SM where shared memory allows; 0 spills); 64 = __maxnreg__(64) (4 blocks of 256
   * threads per SM), built only for learned_pm4.cu's g and s kernels at M = 4096 (helper pm4, session 18; other kernels
   * throw IllegalStateException at launch). Starting value: {@code -Dlongconv4j.pm.regcap}.
   */
  public PackedMonarchConv regCap(int cap) {
    if (cap != 0 && cap != 64 && cap != 80) throw new IllegalArgumentException("PackedMonarchConv.regCap: 0, 64 or 80, got " + cap);
    regCap = cap;
    return this;
  }

  /**
   * The fused kernels ({@code lpm_fused_*}, the default): stages J-1 and J, the pair map and their inverses per warp on
   * 256-point chunks with their partner chunks (learned_pm.cu pm_middle), 2J - 3 block-wide shared-memory passes instead
   * of 2J + 1; false: {@code lpm_forward_*}, every stage and the pair map a block-wide pass (their slow twin).
   */
  public PackedMonarchConv fused(boolean on) { fused = on; return this; }

  public boolean fused() { return fused; }

  /** y = conv(u, k) + D u through the packed learned transform with J factors, queued on the device's stream. */
  public void forward(DeviceBuffer u, DeviceBuffer y, int B) { run("forward", u, y, B, mats, pq); }

  /** du = the adjoint of {@link #forward} w.r.t. u applied to dy: the same kernel on the adjoint blocks and pair map. */
  public void inputGrad(DeviceBuffer dy, DeviceBuffer du, int B) { run("inputGrad", dy, du, B, matsAdj, pqAdj); }

  private void run(String op, DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer mm, DeviceBuffer coef) {
    if (!pqSet) throw new IllegalStateException("PackedMonarchConv." + op + ": call setWeights or setPq first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || B > 65535 || x == null || out == null || x.bytes() < need || out.bytes() < need)
      throw new IllegalArgumentException("PackedMonarchConv." + op + ": arrays must hold (B=" + B + " in [1, 65535], H=" + h + ", L=" + l + ") "
          + io + " = " + need + " bytes, got " + (x == null ? "null" : x.bytes()) + " and " + (out == null ? "null" : out.bytes()));
    if (x == out) throw new IllegalArgumentException("PackedMonarchConv." + op + ": the output must not alias the input");
    if (regCap == 64 && !cap64Built())
      throw new IllegalStateException("PackedMonarchConv." + op + ": register cap 64 exists only for learned_pm4.cu's g and s kernels at M = 4096"
          + " (fragTable(true) with fragDirect(true) or stage(true), pairU 1), not for " + kernelName() + " (M = " + m + ")");
    if (stageActive() && pairU == 2 && (m != 4096 || regCap != 80))
      throw new IllegalStateException("PackedMonarchConv." + op + ": pairU(2) (lpm4sp) exists only at M = 4096 under the 80-register cap, not "
          + kernelName());
    boolean wide = wide32Active();   // learned_pm4.cu's M = 32768 y kernel: a staged kernel at its own 256 threads
    if (wide || fragActive()) {   // learned_pm4.cu: learned_pm3.cu's kernel with fragment tables (s: and the staged row)
      int sm = smem4(log2m) + (wide || stageActive() ? stageBytes(log2m, l <= m) : 0);
      device.module(MODULE4).kernel(kernelName()).launch(device.stream(), B, h, threads(), sm, x, mm, coef, d, out, h, l, log2m);
      return;
    }
    if (outerActive()) {   // learned_pm3.cu: 16-bit planes, no register cap
      device.module(MODULE3).kernel(kernelName()).launch(device.stream(), B, h, threads, smem(log2m, 2), x, mm, coef, d, out, h, l, log2m);
      return;
    }
    if (regCap != 0 && fused && !balanced)   // (the unfused twin, fused(false), ignores balanced and regCap)
      throw new IllegalStateException("PackedMonarchConv." + op + ": register cap " + regCap + " exists only with the balanced fused kernels"
          + " (learned_pm2.cu lpm2_b_*): set balanced(true), or regCap(0)");
    device.module(variant() ? MODULE2 : MODULE).kernel(kernelName()).launch(device.stream(), B, h, threads, smem(log2m, s16 ? 2 : 4), x, mm, coef, d, out, h, l, log2m);
  }

  private DeviceBuffer cs;   // lpm_dpq's scratch (H, M) float2, allocated by the first pairGrads

  /**
   * The pair map's coefficient gradients for y = {@link #forward}(u) and the output gradient dy: {@code dpq} (H, M) float4
   * {Re dP_p, Im dP_p, Re dQ_p, Im dQ_p} at position p, dP_p = sum_b gC'[p] conj(C[p]), dQ_p = sum_b gC'[p] C[s(p)] (lib's
   * (dl/dRe, dl/dIm)), C the forward chain of u's row, gC' the adjoint of the inverse chain applied to dy's row; one block
   * per channel ({@code lpm_dpq_*}: both half chains per row, the unfused stages, accumulated over the B rows in place).
   * Queued on the device's stream. The first backward piece: dK and dk from dP / dQ (lib's formulas) are not here.
   */
  public void pairGrads(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer dpq) {
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || u == null || dy == null || dpq == null || u.bytes() < need || dy.bytes() < need || dpq.bytes() < 16L * h * m)
      throw new IllegalArgumentException("PackedMonarchConv.pairGrads: u and dy must hold (B=" + B + ", H=" + h + ", L=" + l + ") " + io + " = "
          + need + " bytes and dpq (H, M=" + m + ") float4 = " + 16L * h * m + " bytes, got " + (u == null ? "null" : u.bytes()) + ", "
          + (dy == null ? "null" : dy.bytes()) + " and " + (dpq == null ? "null" : dpq.bytes()));
    if (cs == null) cs = device.alloc(8L * h * m);
    device.module(MODULE).kernel("lpm_dpq_" + io.tag() + (s16 ? "_s16" : "_s32")).launch(device.stream(), h, 1, threads, smem(log2m, s16 ? 2 : 4),
        u, dy, mats, matsAdj, dpq, cs, B, h, l, log2m);
  }

  // ---- the one-pass tensor-core backward (helpers pkjbwd, pkbwdopt): PackedMonarchBackward ---------------------------
  private PackedMonarchBackward bwd;

  /**
   * This plan's tensor-core backward ({@link PackedMonarchBackward}: learned_pmb.cu / learned_pmb2.cu on this plan's blocks,
   * P / Q, D and planes), made at the first call (its {@code -Dlongconv4j.pmb.*} properties read then), closed with the plan.
   */
  public PackedMonarchBackward backward() {
    if (bwd == null) bwd = new PackedMonarchBackward(this, device, io, l, mats, matsAdj, pq, pqAdj, d, elements());
    return bwd;
  }

  /** Whether the plan keeps its rows in 16-bit shared-memory planes ({@link #storage16(boolean)}). */
  public boolean storage16() { return s16; }

  /** Whether P / Q are set ({@link #setWeights}, {@link #setTaps} or {@link #setPq}). */
  boolean pqSet() { return pqSet; }

  public int channels() { return h; }
  public int taps() { return lk; }

  public int fftSize() { return n; }
  public int points() { return m; }
  /** Threads per block of the kernel this plan runs (256 for the M = 32768 y kernel, else {@link #threads(int)}'s). */
  public int threads() { return wide32Active() ? 256 : threads; }
  public boolean balanced() { return balanced; }
  public int regCap() { return regCap; }
  public int[] factors() { return f.clone(); }
  public ConvMode mode() { return mode; }

  private String factorString() { return PackedMonarchFactors.factorString(f); }

  @Override public void close() {
    pq.close(); pqAdj.close(); d.close(); blocks.close(); mats.close(); matsAdj.close();
    if (cs != null) cs.close();
    if (bwd != null) bwd.close();
  }

  @Override public String toString() {
    return "PackedMonarchConv[H=" + h + ", L=" + l + ", Lk=" + lk + ", " + mode + ", N=" + n + ", M=" + m + " = " + factorString() + ", io=" + io
        + (fused ? ", fused" : ", unfused") + (wide32Active() ? ", M = 32768 y kernel (learned_pm4, 256 threads)" : sfuActive() ? ", frag tables + staged row + register pair map + SFU twiddles (learned_pm4 y)" : regPairActive() ? ", frag tables + staged row + register pair map (learned_pm4 x)" : stageActive() ? ", frag tables + staged row (learned_pm4 s)" : fragActive() ? ", frag tables (learned_pm4)" : outerActive() ? ", outer (learned_pm3)" : "") + (variant() ? ", balanced" + (regCap != 0 ? ", regcap " + regCap : "") : "") + ", " + (s16 ? "16-bit" : "fp32") + " smem, " + threads + " threads]";
  }
}
