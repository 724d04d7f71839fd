// Shapes: B batch, H channels, L length, Lk kernel taps, N complex FFT size = N1 * N2 (N <= 2048).
//   u, y, dy, du: (B, H, L) device arrays of the plan's ElementType; k (H, Lk) fp32 (bidirectional: k0, k1);
//   D: (H) fp32; dk: (H, Lk) fp32 (bidirectional (2, H, Lk)); dD: (H) fp32.
//   blocks {Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1)}, complex interleaved (n, n, 2) as lib's LearnedButterfly.
package ai.longconv4j.cuda;

import static ai.longconv4j.cuda.LearnedDefaults.*;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LearnedButterfly;

/**
 * The learned-butterfly long convolution on the GPU: lib's {@link LearnedButterfly} — a 2-factor
 * Monarch FFT convolution whose four dense DFT blocks are parameters (initialised to the exact DFT; twiddles fixed)
 * — with forward and backward (du, dk, dD and the four block gradients); the factorization is lib's ({@code ConvPlan}
 * with {@link ConvEngine#LEARNED}), so results match the CPU path. Supports N <= {@value #MAX_N} (L <= 1K causal).
 * Two kernels: for 16-bit I/O and N1, N2 multiples of 16 (N = 256 .. 2048) the forward and du run on tensor cores
 * (learned_tc.cu: 16-bit blocks prepared once per {@link #setBlocks}, fp32 accumulation; one warp per row, or at
 * N1 = 32 two warps per row, {@link #pairRows(boolean)}, the default; by default the row's first three products chained
 * in registers, {@link #chainRows(boolean)} and {@link #n16Kernel(int)} 3; at 32 x 32 two rows per pair from persistent
 * blocks, {@link #batchRows(boolean)} and {@link #persistentBlocks(boolean)}; at 32 x 64 on compute capability 9.0 the
 * complex products of steps 2 and 3 on Hopper's wgmma, {@link #wgmmaRows(boolean)}); otherwise,
 * or with {@link #tensorCores(boolean) tensorCores(false)} / {@code -Dlongconv4j.learned.fp32=true}, the fp32
 * CUDA-core twin (learned.cu, one block per row). On tensor cores the backward also takes the block gradients, dk and
 * dD from tensor-core kernels (learned_tc_bwd.cu, {@link #tensorCoreGradients(boolean)}), else from the fp32 kernel.
 * <pre>{@code
 * jshell> var lb = LearnedButterflyConv.plan(dev, 768, 1024, 1024, ConvMode.CAUSAL, ElementType.BF16)
 * lb ==> LearnedButterflyConv[H=768, L=1024, Lk=1024, CAUSAL, N=2048 = 32 x 64, io=BF16]
 * jshell> lb.setWeights(k, D); lb.forward(u, y, 64);
 * }</pre>
 */
public final class LearnedButterflyConv implements AutoCloseable, LearnedPlan {
  /** Largest FFT: seven N-point complex fp32 buffers of the backward fit in shared memory. */
  public static final int MAX_N = 2048;
  private static final String MODULE = "learned", MODULE_TC = "learned_tc", MODULE_TC_BWD = "learned_tc_bwd",
      MODULE_TC_GRAM = "learned_tc_gram";
  /** {@code -Dlongconv4j.learned.fp32=true}: every plan starts on the fp32 twin. */
  static final boolean FORCE_FP32 = Boolean.getBoolean("longconv4j.learned.fp32");

  private final CudaDevice device;
  private final int h, l, lk, n, n1, n2, taps0, taps1;
  private final ConvMode mode;
  private final ElementType io;
  private final DeviceBuffer kp, d, blocks, dBlocks;
  private final DeviceBuffer prepFwd, prepAdj;   // 16-bit blocks for the tensor-core kernel (null: not applicable)
  private boolean weightsSet, tensorCores;
  private final LearnedSwitches sw;   // the speed choices (raw; the getters below apply the shape's conditions)
  private LearnedButterflyConv(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, ConvPlan p) {
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.mode = mode; this.io = io;
    this.n = p.fftSize(); this.n1 = p.factors().get(0); this.n2 = p.factors().get(1);
    this.sw = new LearnedSwitches(n2);
    var lm = libMode(mode);
    this.taps0 = lm.effectiveTaps(l, lk, 0);
    this.taps1 = lm.sides() == 2 ? lm.effectiveTaps(l, lk, 1) : 0;
    this.kp = device.alloc(8L * h * n);
    this.d = device.alloc(4L * h);
    this.blocks = device.alloc(8L * blockElements());
    this.dBlocks = device.alloc(8L * blockElements());
    boolean tc = tensorCoresSupport(n1, n2, io);
    this.prepFwd = tc ? device.alloc(8L * (n1 * n1 + n2 * n2)) : null;
    this.prepAdj = tc ? device.alloc(8L * (n1 * n1 + n2 * n2)) : null;
    this.tensorCores = tc && !FORCE_FP32;
    setBlocks(LearnedButterfly.atInit(p).blocks());
  }

  /** A plan for (H, L, Lk) in {@code mode} with I/O type {@code io} (fp32 arithmetic); blocks at the exact DFT. */
  public static LearnedButterflyConv plan(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io) {
    if (H < 1 || H > 65535) throw new IllegalArgumentException("LearnedButterflyConv: H must be in [1, 65535], got " + H);
    if (Lk < 1 || Lk > L) throw new IllegalArgumentException("LearnedButterflyConv: need 1 <= Lk <= L, got Lk=" + Lk + ", L=" + L);
    ConvPlan p = ConvPlan.of(L, Lk, libMode(mode), ConvEngine.LEARNED, ai.longconv4j.conv.Precision.F64);
    if (p.fftSize() > MAX_N)
      throw new IllegalArgumentException("LearnedButterflyConv " + mode + ": L=" + L + " Lk=" + Lk + " needs N=" + p.fftSize()
          + "; the GPU kernel handles N <= " + MAX_N);
    return new LearnedButterflyConv(device, H, L, Lk, mode, io, p);
  }

  static ai.longconv4j.conv.ConvMode libMode(ConvMode m) { return ai.longconv4j.conv.ConvMode.valueOf(m.name()); }

  private int blockElements() { return 2 * (n1 * n1 + n2 * n2); }

  /** Whether the tensor-core kernel (learned_tc.cu) takes (N1, N2) with I/O type {@code io}: 16-bit, N = 256 .. 2048. */
  public static boolean tensorCoresSupport(int n1, int n2, ElementType io) {
    return io != ElementType.F32 && ((n1 == 16 && (n2 == 16 || n2 == 32)) || (n1 == 32 && (n2 == 32 || n2 == 64)));
  }

  /** Forces the fp32 twin ({@code false}) or the tensor-core kernel ({@code true}: 16-bit I/O, N = 256 .. 2048 only). */
  public LearnedButterflyConv tensorCores(boolean on) {
    if (on && prepFwd == null)
      throw new IllegalArgumentException("LearnedButterflyConv.tensorCores: needs 16-bit I/O and N1, N2 in {16, 32, 64} "
          + "(N = 256 .. 2048), got " + this);
    tensorCores = on;
    return this;
  }

  /** {@link LearnedSwitches#splitRows}. */
  public LearnedButterflyConv splitRows(boolean on) { sw.splitRows = on; return this; }

  public boolean splitRows() { return sw.splitRows && n1 == 32 && !pairRows(); }

  /** {@link LearnedSwitches#pairRows}. */
  public LearnedButterflyConv pairRows(boolean on) { sw.pairRows = on; return this; }

  public boolean pairRows() { return sw.pairRows && n1 == 32; }

  /** {@link LearnedSwitches#n16Kernel}. */
  public LearnedButterflyConv n16Kernel(int v) {
    if (v < 0 || v > 3) throw new IllegalArgumentException("LearnedButterflyConv.n16Kernel: 0, 1, 2 or 3, got " + v);
    sw.n16Kernel = v;
    return this;
  }

  public int n16Kernel() { return n1 == 16 ? sw.n16Kernel : 0; }

  /** {@link LearnedSwitches#pairTwiddleTable}. */
  public LearnedButterflyConv pairTwiddleTable(boolean on) { sw.pairTwiddleTable = on; return this; }

  public boolean pairTwiddleTable() { return sw.pairTwiddleTable && pairRows(); }

  /** {@link LearnedSwitches#chainRows}. */
  public LearnedButterflyConv chainRows(boolean on) { sw.chainRows = on; return this; }

  public boolean chainRows() { return sw.chainRows && pairRows(); }

  /** {@link LearnedSwitches#batchRows}. */
  public LearnedButterflyConv batchRows(boolean on) { sw.batchRows = on; return this; }

  /** Whether the forward runs pc2 ({@link #batchRows(boolean)} on a 32 x 32 chained plan). */
  public boolean batchRows() { return sw.batchRows && chainRows() && n2 == 32 && !wgmmaRows(); }

  /** {@link LearnedSwitches#persistent}. */
  public LearnedButterflyConv persistentBlocks(boolean on) { sw.persistent = on; return this; }

  /** Whether the forward runs pcp / pc2p ({@link #persistentBlocks(boolean)} on a chained plan). */
  public boolean persistentBlocks() { return sw.persistent && chainRows() && !wgmmaRows(); }

  /** {@link LearnedSwitches#wgmmaRows}. */
  public LearnedButterflyConv wgmmaRows(boolean on) { sw.wgmmaRows = on; return this; }

  /** Whether the forward runs pw / pw2p ({@link #wgmmaRows(boolean)} on a chained plan, on compute capability 9.0). */
  public boolean wgmmaRows() { return sw.wgmmaRows && chainRows() && device.computeCapability() == 90; }

  /**
   * Whether the forward runs pw2p: {@link #wgmmaRows()} with {@link #batchRows(boolean)} on at 32 x 32 (pc2p's two rows
   * per pair from persistent blocks, steps 2 and 3 on wgmma; 12 warps); else pw.
   */
  public boolean wgmmaRows2() { return wgmmaRows() && sw.batchRows && n2 == 32; }

  /** {@link LearnedSwitches#wgmmaDescriptors}. */
  public LearnedButterflyConv wgmmaDescriptors(boolean on) { sw.wgmmaDescriptors = on; return this; }

  /** Whether the forward runs pwd: {@link #wgmmaDescriptors(boolean)} on where the forward runs pw (not pw2p). */
  public boolean wgmmaDescriptors() { return sw.wgmmaDescriptors && wgmmaRows() && !wgmmaRows2(); }

  /** {@link LearnedSwitches#wgmmaOverlap}. */
  public LearnedButterflyConv wgmmaOverlap(boolean on) { sw.wgmmaOverlap = on; return this; }

  /** Whether the forward runs pwo: {@link #wgmmaOverlap(boolean)} on where the forward runs pw (not pw2p). */
  public boolean wgmmaOverlap() { return sw.wgmmaOverlap && wgmmaRows() && !wgmmaRows2(); }

  /** {@link LearnedSwitches#wgmmaTwiddleTable}. */
  public LearnedButterflyConv wgmmaTwiddleTable(boolean on) { sw.wgmmaTwiddleTable = on; return this; }

  /** Whether the forward runs pwt: {@link #wgmmaTwiddleTable(boolean)} and {@link #wgmmaDescriptors()} on, N2 = 64, not pwo. */
  public boolean wgmmaTwiddleTable() { return sw.wgmmaTwiddleTable && n2 == 64 && wgmmaDescriptors() && !wgmmaOverlap(); }

  /** {@link LearnedSwitches#blocksPerChannel}. */
  public LearnedButterflyConv blocksPerChannel(int g) {
    if (g < 0 || g > 65535) throw new IllegalArgumentException("LearnedButterflyConv.blocksPerChannel: 0 .. 65535, got " + g);
    sw.blocksPerChannel = g;
    return this;
  }

  /** {@link LearnedSwitches#autoBlocksPerSm}. */
  public LearnedButterflyConv autoBlocksPerSm(int n) {
    if (n < 1 || n > 64) throw new IllegalArgumentException("LearnedButterflyConv.autoBlocksPerSm: 1 .. 64, got " + n);
    sw.autoBlocksPerSm = n;
    return this;
  }

  /** {@link LearnedSwitches#pairWarps}. */
  public LearnedButterflyConv pairWarps(int w) {
    if (w != 12 && w != 16) throw new IllegalArgumentException("LearnedButterflyConv.pairWarps: 12 or 16, got " + w);
    sw.pairWarps = w;
    return this;
  }

  /** {@link LearnedSwitches#pairDumpWarps}. */
  public LearnedButterflyConv pairDumpWarps(int w) {
    if (w != 12 && w != 16) throw new IllegalArgumentException("LearnedButterflyConv.pairDumpWarps: 12 or 16, got " + w);
    sw.pairDumpWarps = w;
    return this;
  }

  /** {@link LearnedSwitches#fusedDkp}. */
  public LearnedButterflyConv fusedDkp(boolean on) { sw.fusedDkp = on; return this; }

  /** {@link LearnedSwitches#fastReductions}. */
  public LearnedButterflyConv fastReductions(boolean on) { sw.fastReductions = on; return this; }

  public boolean fastReductions() { return sw.fastReductions; }

  /** {@link LearnedSwitches#chainGrams}. */
  public LearnedButterflyConv chainGrams(boolean on) { sw.chainGrams = on; return this; }

  /**
   * Whether the backward runs {@link #chainGrams(boolean)}'s kernels: tensor-core gradients, not fusedDkp, on the chained
   * pair kernels (N1 = 32, pdc: not pdcw) with ceil(ceil(L / N2) / 16) V row tiles at most 1 at 32 x 64 (every causal L;
   * two tiles' accumulators do not fit beside pdc's shared memory) and at most 2 at 32 x 32, or on f2c (N1 = 16).
   */
  public boolean chainGrams() {
    return sw.chainGrams && tensorCoreGradients() && !fusedDkp()
        && (pairRows() ? chainRows() && !wideDumps() && chainGramTiles() <= (n2 == 64 ? 1 : 2) : n1 == 16 && n16Kernel() == 3);
  }

  /** V's non-zero row tiles of the chain-Gram kernels: ceil(ceil(L / N2) / 16). */
  int chainGramTiles() { return ((l + n2 - 1) / n2 + 15) / 16; }

  /** The chain-Gram kernel's name (learned_tc_gram.cu). */
  String chainGramKernel() {
    return "lbt_forward_" + io.tag() + "_" + n1 + "x" + n2 + (n1 == 16 ? "f2cg" : "pdcg" + chainGramTiles() + (registerGrams() ? "r" : ""));
  }

  /** {@link LearnedSwitches#vectorDd}. */
  public LearnedButterflyConv vectorDd(boolean on) { sw.vectorDd = on; return this; }

  public boolean vectorDd() { return sw.vectorDd; }

  /** {@link LearnedSwitches#registerGrams}. */
  public LearnedButterflyConv registerGrams(boolean on) { sw.registerGrams = on; return this; }

  /**
   * Whether the backward runs {@link #registerGrams(boolean)}'s kernel: {@link #chainGrams()} at 32 x 64 (one V row tile
   * there always: pdcg1). At 32 x 32 the register kernel would need 12 warps instead of pdcg1's 16, and that was slower
   * (lbf9-1 ncu at L = 512: 270-273 us against 264-268), so it is not built.
   */
  public boolean registerGrams() { return sw.registerGrams && chainGrams() && n1 == 32 && n2 == 64 && chainGramTiles() == 1; }

  /** {@link LearnedSwitches#gramStages}. */
  public LearnedButterflyConv gramStages(int stages) {
    if (stages < 2 || stages > 4) throw new IllegalArgumentException("LearnedButterflyConv.gramStages: 2, 3 or 4, got " + stages);
    sw.gramStages = stages;
    return this;
  }

  public int gramStages() { return sw.asyncGrams ? sw.gramStages : 2; }

  /** {@link LearnedSwitches#constGramLoads}. */
  public LearnedButterflyConv constGramLoads(boolean on) { sw.constGramLoads = on; return this; }

  public boolean constGramLoads() { return sw.constGramLoads && sw.asyncGrams; }

  /** {@link LearnedSwitches#gramRowPairs}. */
  public LearnedButterflyConv gramRowPairs(boolean on) { sw.gramRowPairs = on; return this; }

  /** Whether the backward runs {@link #gramRowPairs(boolean)}'s kernels: {@link #asyncGrams(boolean)}, N2 = 32. */
  public boolean gramRowPairs() { return sw.gramRowPairs && sw.asyncGrams && n2 == 32; }

  /** Whether the backward runs {@link #fusedDkp(boolean)}'s kernels (pdck / f2ck). */
  public boolean fusedDkp() {
    return sw.fusedDkp && tensorCoreGradients() && (pairRows() ? chainRows() && !wideDumps() : n1 == 16 && n16Kernel() == 3);
  }

  /** Whether the dumping chains run pdcw (chained pair kernels at 32 x 64 with {@code pairDumpWarps(16)}). */
  boolean wideDumps() { return chainRows() && n2 == 64 && sw.pairDumpWarps == 16; }

  /** The tensor-core forward kernel's name (dump: the backward's variant that stores the intermediates). */
  String tensorCoreKernel(boolean dump) {
    String variant = pairRows() ? (dump ? "pd" : "p") + (sw.chainRows ? (dump && wideDumps() ? "cw" : !dump && wgmmaRows() ? (wgmmaRows2() ? "w2p" : wgmmaOverlap() ? "wo" : wgmmaTwiddleTable() ? "wt" : wgmmaDescriptors() ? "wd" : "w") : !dump && batchRows() ? (persistentBlocks() ? "c2p" : "c2")
        : !dump && persistentBlocks() ? "cp" : "c")
        : sw.pairTwiddleTable ? "t" : "") : splitRows() ? "s"
        : n16Kernel() == 1 ? "f" : n16Kernel() == 2 ? "f2" : n16Kernel() == 3 ? "f2c" : "";
    return "lbt_forward_" + io.tag() + "_" + n1 + "x" + n2 + variant;
  }

  /** {@link LearnedSwitches#tensorCoreGrads}. */
  public LearnedButterflyConv tensorCoreGradients(boolean on) { sw.tensorCoreGrads = on; return this; }

  public boolean tensorCoreGradients() { return tensorCores && sw.tensorCoreGrads; }

  /** {@link LearnedSwitches#asyncGrams}. */
  public LearnedButterflyConv asyncGrams(boolean on) { sw.asyncGrams = on; return this; }

  /** Whether forward and du run on the tensor-core kernel. */
  public boolean tensorCores() { return tensorCores; }

  /** The factors {N1, N2}. */
  public int[] factors() { return new int[] {n1, n2}; }
  public int fftSize() { return n; }

  /** Uploads the four blocks {Fa, Fb, Gb, Ga} (lib's layout, e.g. {@code LearnedButterfly.blocks()}). */
  public LearnedButterflyConv setBlocks(double[][] b) {
    int[] sizes = {n1, n2, n2, n1};
    if (b.length != 4) throw new IllegalArgumentException("LearnedButterflyConv.setBlocks: need 4 blocks, got " + b.length);
    float[] flat = new float[2 * blockElements()];
    for (int i = 0, off = 0; i < 4; i++) {
      if (b[i].length != 2 * sizes[i] * sizes[i])
        throw new IllegalArgumentException("LearnedButterflyConv.setBlocks: block " + i + " must be (" + sizes[i] + ", "
            + sizes[i] + ", 2), got " + b[i].length + " values");
      for (double v : b[i]) flat[off++] = (float) v;
    }
    blocks.copyFrom(flat);
    if (prepFwd != null) {   // the 16-bit blocks of the tensor-core kernel: forward and adjoint order
      var k = device.module(MODULE_TC).kernel("lbt_prep_" + io.tag());
      int e = blockElements();
      k.launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, prepFwd, n1, n2, 0);
      k.launch(device.stream(), (e + 255) / 256, 1, 256, 0, blocks, prepAdj, n1, n2, 1);
    }
    return this;
  }

  /** Kernel (H, Lk) for CAUSAL / CIRCULAR and D (H): the permuted exact spectrum is computed on the device. */
  public LearnedButterflyConv setWeights(float[] k, float[] D) {
    if (mode == ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("LearnedButterflyConv BIDIRECTIONAL: pass k0, k1");
    return upload(k, null, D);
  }

  /** Kernels k0 (lags 0..Lk-1) and k1 (lags -1..-Lk), each (H, Lk), and D (H), for BIDIRECTIONAL. */
  public LearnedButterflyConv setWeights(float[] k0, float[] k1, float[] D) {
    if (mode != ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("LearnedButterflyConv " + mode + ": takes one kernel");
    return upload(k0, k1, D);
  }

  private LearnedButterflyConv upload(float[] k0, float[] k1, float[] D) {
    if (k0.length != h * lk || (k1 != null && k1.length != h * lk) || D.length != h)
      throw new IllegalArgumentException("LearnedButterflyConv.setWeights: k must be (H=" + h + ", Lk=" + lk + ") and D (H="
          + h + "), got " + k0.length + (k1 != null ? ", " + k1.length : "") + " and " + D.length + " values");
    d.copyFrom(D);
    try (DeviceBuffer a = device.upload(k0); DeviceBuffer b = k1 == null ? null : device.upload(k1)) {
      device.module(MODULE).kernel("lb_spectrum").launch(device.stream(), h, 1, 256, 8 * n, a,
          b == null ? new DevicePointer() : b, kp, lk, taps0, taps1, n1, n2);
      device.stream().synchronize();
    }
    weightsSet = true;
    return this;
  }

  /** y = conv(u, k) + D u through the learned blocks, queued on the device's stream. */
  public void forward(DeviceBuffer u, DeviceBuffer y, int B) {
    check("forward", u, y, B);
    if (tensorCores) tensorCoreChain(u, y, B, prepFwd, 0, new DevicePointer());
    else device.module(MODULE).kernel("lb_forward_" + io.tag()).launch(device.stream(), B, h, 256, 32 * n, u, kp, d, blocks, y,
        h, l, n1, n2);
  }

  /** learned_tc.cu: x -> out through the prepared blocks pb (forward: u -> y; adjoint with conj(Kp): dy -> du). */
  private void tensorCoreChain(DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer pb, int conjK, Object dump) {
    tensorCoreChain(x, out, B, pb, conjK, dump, null, null, 0f);
  }

  /** fdump != null: the fused-dKp adjoint chain (pdck / f2ck) reading the forward dump fdump, adding dKp * kscale into gk. */
  private void tensorCoreChain(DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer pb, int conjK, Object dump,
      DeviceBuffer fdump, DeviceBuffer gk, float kscale) {
    boolean split = splitRows(), pair = pairRows(), dumps = dump instanceof DeviceBuffer;
    boolean wg = !dumps && wgmmaRows(), wg2 = wg && wgmmaRows2();
    int w = wg ? LearnedLaunch.wgmmaWarps(n2, wg2) : pair ? Math.min(sw.pairWarps, dumps && wideDumps() ? 16 : LearnedLaunch.tensorCoreWarps(n1, n2, false, true, dumps))
        : LearnedLaunch.tensorCoreWarps(n1, n2, split, false, dumps, n16Kernel());
    int perPair = !dumps && (batchRows() || wg2) ? 2 : 1;
    int rows = pair ? w / 2 * perPair : w;   // rows in flight per block
    boolean persist = !dumps && (persistentBlocks() || wg2);
    int gx = persist ? Math.min(device.smCount(), h) : LearnedLaunch.gridX(B, rows, device.smCount(), h, sw.blocksPerChannel, sw.autoBlocksPerSm);
    int smem = LearnedLaunch.tensorCoreSmem(n1, n2, split, pair, w, n16Kernel(), pairTwiddleTable(), chainRows(), perPair) + (wg ? LearnedLaunch.wgmmaSmem(n2) : 0)
        + (wg && wgmmaTwiddleTable() ? LearnedLaunch.wgmmaTwiddleSmem(n2) : 0);
    if (fdump != null)
      device.module(MODULE_TC).kernel(tensorCoreKernel(true) + "k").launch(device.stream(), gx, h, 32 * w, smem + LearnedLaunch.fusedDkpSmem(n1, n2),
          x, kp, d, pb, out, B, h, l, conjK, dump, fdump, gk, kscale);
    else device.module(MODULE_TC).kernel(tensorCoreKernel(dumps)).launch(device.stream(), gx, persist ? 1 : h, 32 * w, smem,
        x, kp, d, pb, out, B, h, l,
        conjK, dump);
  }

  /**
   * The tensor-core backward: the forward chain (its y into du, overwritten) and the adjoint chain (du) dump X1, C, P,
   * X3 per row; learned_tc_bwd.cu's Gram products give the block gradients, lbt_dkp dKp and dD, lbt_taps dk.
   */
  private void backwardTensorCores(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD,
      int parts) {
    // async: 62 registers, 4 blocks of 256 per SM; one row at a time: 39, 6
    int rows = B * h, g = Math.min(rows, (sw.asyncGrams ? 4 : 6) * device.smCount()), mMax = Math.max(n1, n2);
    long dumpBytes = (long) rows * 8 * n * 2;
    boolean cg = chainGrams();
    int cgx = cg ? chainGramGrid(B) : 0;
    try (DeviceBuffer fd = device.alloc(dumpBytes); DeviceBuffer ad = device.alloc(dumpBytes);
         DeviceBuffer part = device.alloc(8L * g * mMax * mMax); DeviceBuffer gk = device.alloc(8L * h * n);
         DeviceBuffer cpart = cg ? device.alloc(8L * cgx * h * n1 * n1) : null) {
      if (parts == 2) dk.fill32(0);   // the unreachable tap k1[L-1] gets gradient 0
      boolean fused = fusedDkp();
      CudaModule m = device.module(MODULE_TC_BWD);
      int fa = 0, fb = n1 * n1, gb = n1 * n1 + n2 * n2, ga = n1 * n1 + 2 * n2 * n2;
      if (cg) {   // dGa in the forward chain (M^H of X3 with dy), dFa in the adjoint chain (X3 with u); partials summed at once
        chainGramLaunch(u, du, B, prepFwd, 0, fd, dy, cpart, 1, cgx);
        reduceParts(m, cpart, cgx * h, n1 * n1, 1f, ga);
        chainGramLaunch(dy, du, B, prepAdj, 1, ad, u, cpart, 0, cgx);
        reduceParts(m, cpart, cgx * h, n1 * n1, 1f, fa);
      } else {
        tensorCoreChain(u, du, B, prepFwd, 0, fd);
        if (fused) {   // dKp in the adjoint chain (gk zeroed: several blocks per channel add into it)
          gk.fill32(0);
          tensorCoreChain(dy, du, B, prepAdj, 1, ad, fd, gk, 1f / n);
        } else tensorCoreChain(dy, du, B, prepAdj, 1, ad);
      }
      String cfg = "lbt_gram_" + io.tag() + "_" + n1 + "x" + n2;
      int smem = (sw.asyncGrams ? 8 : 4) * n1 * (2 * n2 + 8);
      // gramStages (the _a forms): S buffers of 4 N1 (2 N2 + 8) bytes; 4 stages: three blocks per SM (shared memory)
      int stages = gramStages(), smemA = stages > 2 ? 4 * stages * n1 * (2 * n2 + 8) : smem,
          gA = stages == 4 ? Math.min(rows, 3 * device.smCount()) : g;
      DevicePointer none = new DevicePointer();
      float invN = 1f / n;
      // {kernel form, L source, L slot, L real, R source, R slot, R real, block offset, M, scale}
      Object[][] grams = {
          {"_b", none, 0, dy, fd, 3, none, ga, n1, 1f},     // dGa = sum dy @ D2^H
          {"_b", ad, 3, none, none, 0, u, fa, n1, 1f},      // dFa = sum gB @ A^H
          {"_a", fd, 2, none, ad, 0, none, gb, n2, invN},   // dGb = sum P^H @ gD1 (the adjoint X1 is N gD1)
          {"_a", fd, 0, none, ad, 2, none, fb, n2, invN}};  // dFb = sum B2^H @ gC (the adjoint P is N gC)
      for (int i = cg ? 2 : 0; i < grams.length; i++) {   // chainGrams: dGa and dFa done
        Object[] q = grams[i];
        int mm = (Integer) q[8];
        boolean rp = gramRowPairs() && q[0].equals("_a"), deep = !rp && stages > 2 && q[0].equals("_a");
        int gq = deep ? gA : g;
        // rp: two stages of two rows of both operands, 16 N1 (2 N2 + 8) bytes
        String kn = rp ? cfg + "_a_asyncp"
            : cfg + q[0] + (sw.asyncGrams ? "_async" + (deep ? Integer.toString(stages) : "") + (constGramLoads() ? "s" : "") : "");
        m.kernel(kn).launch(device.stream(), gq, 1, 256,
            rp ? 16 * n1 * (2 * n2 + 8) : deep ? smemA : smem, q[1], q[2], q[3], q[4], q[5], q[6], part, rows, l);
        reduceParts(m, part, gq, mm * mm, (Float) q[9], (Integer) q[7]);
      }
      // fused: N1 = 0 passed, lbt_dkp's dKp loop is empty and it only sums dD
      if (sw.vectorDd)   // grid (H, NS + 1): NS y-slices of 1024 dKp positions (none when fused), dD on the last row
        m.kernel("lbt_dkp3_" + io.tag()).launch(device.stream(), h, (fused ? 0 : Math.max(1, n / 1024)) + 1, 256, 0, fd, ad, u, dy, gk, dD,
            B, h, l, fused ? 0 : n1, n2, invN);
      else if (sw.fastReductions)   // grid (H, N / 1024): y-slices of 1024 positions, dD in slice 0
        m.kernel("lbt_dkp2_" + io.tag()).launch(device.stream(), h, fused ? 1 : Math.max(1, n / 1024), 256, 0, fd, ad, u, dy, gk, dD, B, h, l,
            fused ? 0 : n1, n2, invN);
      else m.kernel("lbt_dkp_" + io.tag()).launch(device.stream(), h, 1, 256, 0, fd, ad, u, dy, gk, dD, B, h, l, fused ? 0 : n1, n2, invN);
      // dk: an inverse FFT per channel (lbt_taps; the fp32 route keeps learned.cu's direct DFT lb_taps, its twin)
      m.kernel("lbt_taps").launch(device.stream(), h, 1, 256, 12 * n, gk, dk, h, lk, taps0, taps1, parts - 1, n1, n2);
      device.stream().synchronize();
    }
  }

  /** out[off + e] = scale * sum of the parts' element e (lbt_gram_reduce2 with fastReductions, else lbt_gram_reduce). */
  private void reduceParts(CudaModule m, DeviceBuffer part, int parts, int e, float scale, int off) {
    if (sw.fastReductions) m.kernel("lbt_gram_reduce2").launch(device.stream(), (e + 31) / 32, 1, 256, 0, part, parts, e, scale, dBlocks, off);
    else m.kernel("lbt_gram_reduce").launch(device.stream(), (e + 255) / 256, 1, 256, 0, part, parts, e, scale, dBlocks, off);
  }

  /** Warps per block of the chain-Gram kernel: pdc's (capped by {@link #pairWarps(int)}), 12 for pdcg2; f2cg f2c's 10. */
  int chainGramWarps() {
    return n1 == 16 ? LearnedLaunch.chainGramWarps(n1, n2, 1) : Math.min(sw.pairWarps, LearnedLaunch.chainGramWarps(n1, n2, chainGramTiles()));
  }

  /** Blocks per channel of the chain-Gram kernel (as the dumping chain's: a pair or a warp per row). */
  int chainGramGrid(int B) {
    int w = chainGramWarps();
    return LearnedLaunch.gridX(B, n1 == 16 ? w : w / 2, device.smCount(), h, sw.blocksPerChannel, sw.autoBlocksPerSm);
  }

  /** The dumping chain x -> out (dump) with the Gram of X3 and v into part (gx * H partials of N1 x N1; herm: M^H). */
  private void chainGramLaunch(DeviceBuffer x, DeviceBuffer out, int B, DeviceBuffer pb, int conjK, DeviceBuffer dump,
      DeviceBuffer v, DeviceBuffer part, int herm, int gx) {
    int w = chainGramWarps(), gv = chainGramTiles();
    int smem = n1 == 16 ? LearnedLaunch.tensorCoreSmem(n1, n2, false, false, w, 3, false, false) + LearnedLaunch.chainGramSmem16(n2, w)
        : LearnedLaunch.tensorCoreSmem(n1, n2, false, true, w, n16Kernel(), pairTwiddleTable(), true) + LearnedLaunch.chainGramSmem(n2, w, gv);
    device.module(MODULE_TC_GRAM).kernel(chainGramKernel()).launch(device.stream(), gx, h, 32 * w, smem, x, kp, d, pb, out, B, h, l,
        conjK, dump, v, part, herm);
  }

  /**
   * Gradients of {@code sum(y * dy)}: du (B, H, L) of the I/O type, dk (fp32, (H, Lk) or (2, H, Lk)), dD (H) fp32, and
   * the block gradients, read with {@link #blockGrads()}. Synchronises (returns its workspace of 8 * H * (N + 2*(N1^2
   * + N2^2)) bytes).
   */
  public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
    check("backward", u, dy, B);
    check("backward", u, du, B);
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (dk.bytes() < 4L * parts * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("LearnedButterflyConv.backward: dk must hold (" + (parts == 2 ? "2, " : "") + "H=" + h
          + ", Lk=" + lk + ") fp32 and dD (H=" + h + ") fp32, got " + dk.bytes() + " and " + dD.bytes() + " bytes");
    if (tensorCoreGradients()) {
      backwardTensorCores(u, dy, B, du, dk, dD, parts);
      return;
    }
    int e = blockElements();
    try (DeviceBuffer part = device.alloc(8L * h * e); DeviceBuffer gk = device.alloc(8L * h * n)) {
      part.fill32(0);
      if (parts == 2) dk.fill32(0);   // the unreachable tap k1[L-1] gets gradient 0
      CudaModule m = device.module(MODULE);
      // 512 threads where the 56 N bytes of shared memory allow one block per SM (N = 2048), else 256 (several blocks)
      m.kernel("lb_backward_" + io.tag()).launch(device.stream(), h, 1, n >= 2048 ? 512 : 256, 56 * n, u, dy, kp, d, blocks,
          tensorCores ? new DevicePointer() : du, part, gk, dD, B, h, l, n1, n2);
      if (tensorCores) tensorCoreChain(dy, du, B, prepAdj, 1, new DevicePointer());   // du on tensor cores (the adjoint chain)
      m.kernel("lb_reduce").launch(device.stream(), (e + 255) / 256, 1, 256, 0, part, dBlocks, h, e);
      m.kernel("lb_taps").launch(device.stream(), h, 1, 256, 8 * n, gk, dk, h, lk, taps0, taps1, parts - 1, n1, n2);
      device.stream().synchronize();
    }
  }

  /** The block gradients of the last {@link #backward}, {dFa, dFb, dGb, dGa} in lib's layout (float64 copies). */
  public double[][] blockGrads() {
    float[] g = dBlocks.copyTo(new float[2 * blockElements()], 0);
    int[] sizes = {n1, n2, n2, n1};
    double[][] out = new double[4][];
    for (int i = 0, off = 0; i < 4; i++) {
      out[i] = new double[2 * sizes[i] * sizes[i]];
      for (int j = 0; j < out[i].length; j++) out[i][j] = g[off++];
    }
    return out;
  }

  private void check(String op, DeviceBuffer a, DeviceBuffer b, int B) {
    if (!weightsSet) throw new IllegalStateException("LearnedButterflyConv." + op + ": call setWeights first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || a.bytes() < need || b.bytes() < need)
      throw new IllegalArgumentException("LearnedButterflyConv." + op + ": arrays must hold (B=" + B + ", H=" + h + ", L=" + l
          + ") " + io + " = " + need + " bytes, got " + a.bytes() + " and " + b.bytes());
  }

  @Override public void close() {
    kp.close(); d.close(); blocks.close(); dBlocks.close();
    if (prepFwd != null) { prepFwd.close(); prepAdj.close(); }
  }

  @Override public String toString() {
    return "LearnedButterflyConv[H=" + h + ", L=" + l + ", Lk=" + lk + ", " + mode + ", N=" + n + " = " + n1 + " x " + n2
        + ", io=" + io + (tensorCores ? ", tensor cores" + (pairRows() ? " pair" + (sw.chainRows ? " chain" + (wgmmaRows() ? (wgmmaRows2() ? " wgmma rows2" : wgmmaOverlap() ? " wgmma overlap" : wgmmaTwiddleTable() ? " wgmma tw-table" : wgmmaDescriptors() ? " wgmma desc" : " wgmma") : "") + (batchRows() ? " rows2" : "") + (persistentBlocks() ? " persistent" : "") : sw.pairTwiddleTable ? " tw-table" : "")
        : splitRows() ? " split" : n16Kernel() != 0 ? " n16=" + n16Kernel() : "") : "") + "]";
  }
}
