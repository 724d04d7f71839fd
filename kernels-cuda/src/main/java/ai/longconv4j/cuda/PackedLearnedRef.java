// Shapes: B batch, H channels, L length, Lk taps per side; N the real FFT size (ConvPlan's LEARNED_PACKED sizing: causal /
// bidirectional the power of two >= L + min(Lk, L) (- 1 causal), at least 32; circular N = L), M = N / 2 = lib's factors
// (J = 2: N1 x N2, 16 = 4 x 4 .. 1024 = 32 x 32; J = 3 .. 5 from M = 2048 to 2^18). u, y, dy, du: (B, H, L) device arrays of the
// plan's ElementType (F32 / BF16 / F16); k (H, Lk) fp32 (bidirectional: k0, k1, each (H, Lk)); D, dD: (H) fp32; dk (sides, H, Lk).
//   blocks: J = 2 {Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1)}; J factors {F_1 .. F_J, G_J .. G_1}; complex interleaved.
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.PackedLearnedButterfly;

/**
 * The packed learned butterfly (engine LEARNED_PACKED; lib's float64 twin {@link PackedLearnedButterfly}) in fp32 on CUDA
 * cores: forward and the whole backward (du; dk, both sides when bidirectional; dD; the four block gradients) for every
 * mode (CAUSAL, BIDIRECTIONAL with two-sided taps, CIRCULAR with N = L), every plan lib's ConvPlan gives (M = 16 = 4 x 4 up
 * to 2^18: causal / bidirectional L &lt;= 256K, circular L &lt;= 2^19) and F32, BF16 and F16 I/O. Two-factor plans with
 * M &lt;= {@value #MAX_M} run on the in-shared-memory kernels below; every other plan (J = 3 .. 5, session 14) on
 * {@link PackedLearnedChain} (global memory, one kernel per stage over all rows, P / Q by cuFFT), to which this class
 * delegates every call. It is to the tensor-core
 * {@link PackedLearnedConv} (causal, 16-bit, M = 256 .. 1024) what learned.cu is to the tensor-core LEARNED kernels: the
 * fallback where that one has no kernel, and a slow twin where both apply. Kernels (learned_pk_ref.cu): {@code lpr_pq}
 * (P, Q of each channel from its fp32 taps: a direct DFT with a table, per {@link #setWeights}), {@code lpr_forward_*}
 * (one block per row, 4 M complex fp32 values of shared memory), {@code lpr_backward_*} (one block per channel and batch
 * slice looping over the slice's rows, 7 M values, up to 512 threads; per-(slice, channel) block-gradient partials, dP / dQ
 * and dD; {@link #slices}), {@code lpr_reduce} (partials summed), {@code lpr_taps} (dP / dQ and dD summed over the slices,
 * dK and dk), {@code lpr_adjoint} (Fb^H, Gb^H per {@link #setBlocks}, read row by row by the backward); forward and
 * backward with register-blocked products or without ({@link #rowsPerThread(boolean)}, the slow twin). All arithmetic fp32; 16-bit I/O rounds only u, dy on input and
 * y, du on output. The backward synchronises the stream (its workspaces are per call).
 * <pre>{@code
 * jshell> var r = PackedLearnedRef.plan(dev, 768, 1000, 1000, ConvMode.BIDIRECTIONAL, ElementType.F32)
 * r ==> PackedLearnedRef[H=768, L=1000, Lk=1000, BIDIRECTIONAL, N=2048, M=1024 = 32 x 32, io=F32]
 * jshell> r.setWeights(k0, k1, D); r.forward(u, y, 64);
 * }</pre>
 */
public final class PackedLearnedRef implements AutoCloseable, LearnedPlan {
  /** Largest M of the in-shared-memory kernels: the backward's seven M-point complex fp32 rows (56 M bytes) fit the 227 KB of
   * an H100 / H200 block (larger or J != 2: {@link PackedLearnedChain}). */
  public static final int MAX_M = 4096;
  private static final String MODULE = "learned_pk_ref";

  private final CudaDevice device;
  private final int h, l, lk, n, m, n1, n2, taps0, taps1;
  private final ConvMode mode;
  private final ElementType io;
  private final DeviceBuffer pq, d, blocks, adj, dBlocks;
  private final PackedLearnedChain chain;   // J != 2 or M > MAX_M: the global-memory J-factor path (the rest unused)
  private boolean weightsSet, blocked = DEFAULT_BLOCKED;

  /**
   * Whether plans start with register-blocked products ({@link #rowsPerThread(boolean)}):
   * {@code -Dlongconv4j.pkref.blocked}, default true.
   */
  static final boolean DEFAULT_BLOCKED = Boolean.parseBoolean(System.getProperty("longconv4j.pkref.blocked", "true"));

  private PackedLearnedRef(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, ConvPlan p) {
    this(device, h, l, lk, mode, io, p, null);
  }

  private PackedLearnedRef(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, ConvPlan p, int[] chainFactors) {
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.mode = mode; this.io = io;
    this.n = p.fftSize(); this.m = n / 2; this.n1 = p.factors().get(0); this.n2 = p.factors().get(1);
    var lm = LearnedButterflyConv.libMode(mode);
    this.taps0 = lm.effectiveTaps(l, lk, 0);
    this.taps1 = lm.sides() == 2 ? lm.effectiveTaps(l, lk, 1) : 0;
    if (chainFactors != null || !inSharedMemory(p)) {
      chain = PackedLearnedChain.plan(device, h, l, lk, mode, io, p, chainFactors != null ? chainFactors : factorsOf(p));
      pq = d = blocks = adj = dBlocks = null;
      return;
    }
    chain = null;
    this.pq = device.alloc(16L * h * m);
    this.d = device.alloc(4L * h);
    this.blocks = device.alloc(8L * blockElements());
    this.adj = device.alloc(16L * n2 * n2);
    this.dBlocks = device.alloc(8L * blockElements());
    setBlocks(PackedLearnedButterfly.atInit(p).blocks());
  }

  /**
   * A plan for (H, L, Lk) in {@code mode} with I/O type {@code io}; blocks at the exact DFT (call {@link #setWeights}
   * before {@link #forward}). Refused (IllegalArgumentException naming the values): H outside [1, 65535], Lk outside
   * [1, L], a null mode or I/O type, shapes lib's ConvPlan cannot size (e.g. circular L not a power of two >= 32), plans neither path takes (a factor above 32
   * or M > 2^18 for {@link PackedLearnedChain}).
   */
  public static PackedLearnedRef plan(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io) {
    ConvPlan p = check(H, L, Lk, mode, io);
    if (device == null) throw new IllegalArgumentException("PackedLearnedRef: device is null");
    return new PackedLearnedRef(device, H, L, Lk, mode, io, p);
  }

  /**
   * A plan on the global-memory J-factor path ({@link PackedLearnedChain}) with an explicit factor list of M = N / 2 (for
   * benches and twins: e.g. s14-jspec.md's table where lib's ConvPlan gives other factors, or J = 2 plans on the chain
   * instead of the in-shared-memory kernels). Refused as {@link #plan}, and for a factor list the chain does not take.
   */
  public static PackedLearnedRef planChain(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io, int[] factors) {
    ConvPlan p = check(H, L, Lk, mode, io, false);
    PackedLearnedChain.check(H, p, factors);
    if (device == null) throw new IllegalArgumentException("PackedLearnedRef: device is null");
    return new PackedLearnedRef(device, H, L, Lk, mode, io, p, factors);
  }

  /**
   * s14-jspec.md's LEARNED_PACKED factor table at M = N / 2 (16 .. 2^18): J = 2 to 1024, then R1 16^(J-1) to 32K, then
   * {M / 8192, 2, 16, 16, 16}. lib's ConvPlan owns the table; this copy serves benches and twins ({@link #planChain}) and
   * PackedLearnedRefChainGpuTest checks that lib's J-factor plans agree with it.
   */
  public static int[] specFactors(int m) {
    if (m < 16 || m > PackedLearnedChain.MAX_M || Integer.bitCount(m) != 1)
      throw new IllegalArgumentException("PackedLearnedRef.specFactors: M must be a power of two in [16, 2^18], got " + m);
    int lg = Integer.numberOfTrailingZeros(m);
    if (lg <= 10) return new int[] {1 << (lg / 2), 1 << (lg - lg / 2)};
    if (lg <= 15) {
      int j = (lg - 1) / 4 + 1, r1 = 1 << (lg - 4 * (j - 1));   // M = R1 16^(J-1), R1 in {2, 4, 8, 16}
      int[] f = new int[j];
      f[0] = r1;
      for (int i = 1; i < j; i++) f[i] = 16;
      return f;
    }
    return new int[] {m / 8192, 2, 16, 16, 16};
  }

  /** The validation of {@link #plan} without a device: lib's plan for these operands, or IllegalArgumentException. */
  static ConvPlan check(int H, int L, int Lk, ConvMode mode, ElementType io) { return check(H, L, Lk, mode, io, true); }

  private static ConvPlan check(int H, int L, int Lk, ConvMode mode, ElementType io, boolean factors) {
    if (H < 1 || H > 65535) throw new IllegalArgumentException("PackedLearnedRef: H must be in [1, 65535], got " + H);
    if (L < 1 || Lk < 1 || Lk > L) throw new IllegalArgumentException("PackedLearnedRef: need 1 <= Lk <= L, got Lk=" + Lk + ", L=" + L);
    if (mode == null || io == null) throw new IllegalArgumentException("PackedLearnedRef: mode and I/O type must be non-null, got " + mode + ", " + io);
    ConvPlan p;
    try {
      p = PackedLearnedConv.libPlan(L, Lk, mode);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("PackedLearnedRef " + mode + " L=" + L + " Lk=" + Lk + ": " + e.getMessage(), e);
    }
    if (factors && !inSharedMemory(p)) {
      try {
        PackedLearnedChain.check(H, p, factorsOf(p));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("PackedLearnedRef " + mode + " L=" + L + " Lk=" + Lk + ": needs N=" + p.fftSize() + ", M="
            + p.fftSize() / 2 + " = " + p.factors() + "; the in-shared-memory kernels take J = 2 and M <= " + MAX_M
            + ", the global-memory J-factor path: " + e.getMessage(), e);
      }
    }
    return p;
  }

  /** Whether lib's plan runs on the in-shared-memory J = 2 kernels (else on {@link PackedLearnedChain}). */
  static boolean inSharedMemory(ConvPlan p) { return p.factors().size() == 2 && p.fftSize() / 2 <= MAX_M; }

  static int[] factorsOf(ConvPlan p) { return p.factors().stream().mapToInt(Integer::intValue).toArray(); }

  /** Whether {@link #plan} takes (L, Lk, mode, io) (for routing; any H in [1, 65535]). */
  public static boolean supports(int L, int Lk, ConvMode mode, ElementType io) {
    try {
      check(1, L, Lk, mode, io);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** (N1, N2): Fa and Ga are N1 x N1, Fb and Gb N2 x N2. */
  @Override public int[] factors() { return chain != null ? chain.factors() : new int[] {n1, n2}; }

  /** N, the real FFT size (M = N / 2). */
  public int fftSize() { return n; }

  private int blockElements() { return 2 * (n1 * n1 + n2 * n2); }   // complex entries of the four blocks

  /** Uploads the four blocks {Fa, Fb, Gb, Ga} of the M-point transform (lib's layout), rounded to fp32. */
  @Override public PackedLearnedRef setBlocks(double[][] b) {
    if (chain != null) { chain.setBlocks(b); return this; }
    int[] sizes = {n1, n2, n2, n1};
    if (b == null || b.length != 4)
      throw new IllegalArgumentException("PackedLearnedRef.setBlocks: need 4 blocks {Fa, Fb, Gb, Ga}, got " + (b == null ? "null" : b.length));
    float[] flat = new float[2 * blockElements()];
    for (int i = 0, off = 0; i < 4; i++) {
      if (b[i] == null || b[i].length != 2 * sizes[i] * sizes[i])
        throw new IllegalArgumentException("PackedLearnedRef.setBlocks: block " + i + " must be (" + sizes[i] + ", " + sizes[i]
            + ", 2) for M = " + n1 + " x " + n2 + ", got " + (b[i] == null ? "null" : b[i].length + " values"));
      for (double v : b[i]) flat[off++] = (float) v;
    }
    blocks.copyFrom(flat);
    device.module(MODULE).kernel("lpr_adjoint").launch(device.stream(), (2 * n2 * n2 + 255) / 256, 1, 256, 0, blocks, adj, n1, n2);
    return this;
  }

  /** Kernel k (H, Lk) for CAUSAL / CIRCULAR and D (H); P and Q are computed on the device from the fp32 taps. */
  @Override public PackedLearnedRef setWeights(float[] k, float[] D) {
    if (mode == ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("PackedLearnedRef BIDIRECTIONAL: pass k0, k1 and D");
    return upload(k, null, D);
  }

  /** BIDIRECTIONAL: k0 (lags 0 .. Lk-1, at [t]) and k1 (lags -1 .. -Lk, at [N-1-t]), each (H, Lk), and D (H). */
  @Override public PackedLearnedRef setWeights(float[] k0, float[] k1, float[] D) {
    if (mode != ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("PackedLearnedRef " + mode + ": takes one kernel");
    if (k1 == null) throw new IllegalArgumentException("PackedLearnedRef BIDIRECTIONAL: k1 is null");
    return upload(k0, k1, D);
  }

  private PackedLearnedRef upload(float[] k0, float[] k1, float[] D) {
    if (chain != null) {
      if (k1 == null) chain.setWeights(k0, D); else chain.setWeights(k0, k1, D);
      weightsSet = true;
      return this;
    }
    if (k0 == null || D == null || k0.length != h * lk || (k1 != null && k1.length != h * lk) || D.length != h)
      throw new IllegalArgumentException("PackedLearnedRef.setWeights: k must be (H=" + h + ", Lk=" + lk + ")" + (k1 != null ? " per side" : "")
          + " and D (H=" + h + "), got " + (k0 == null ? "null" : k0.length) + (k1 != null ? ", " + k1.length : "") + " and "
          + (D == null ? "null" : D.length) + " values");
    d.copyFrom(D);
    try (DeviceBuffer a = device.upload(k0); DeviceBuffer b = k1 == null ? null : device.upload(k1)) {
      device.module(MODULE).kernel("lpr_pq").launch(device.stream(), h, 1, 256, 8 * n + 8 * (m + 1), a,
          b == null ? new DevicePointer() : b, pq, lk, taps0, taps1, n1, n2);
      device.stream().synchronize();
    }
    weightsSet = true;
    return this;
  }

  /** P and Q of every channel as computed on the device, in lib's pairCoefficients layout per channel: (H, 4M) as float. */
  public float[] pairCoefficients() {
    if (!weightsSet) throw new IllegalStateException("PackedLearnedRef.pairCoefficients: call setWeights first");
    if (chain != null) return chain.pairCoefficients(false);
    device.stream().synchronize();
    float[] raw = pq.copyTo(new float[4 * h * m], 0), out = new float[4 * h * m];
    for (int c = 0; c < h; c++)
      for (int p = 0; p < m; p++) {
        int src = 4 * (c * m + p), dst = 4 * m * c;
        out[dst + 2 * p] = raw[src]; out[dst + 2 * p + 1] = raw[src + 1];
        out[dst + 2 * m + 2 * p] = raw[src + 2]; out[dst + 2 * m + 2 * p + 1] = raw[src + 3];
      }
    return out;
  }

  /**
   * Register blocking of every complex product (learned_pk_ref.cu lpr_mm): {@code true} the {@code _r4} forward and
   * {@code _r2} backward kernels (each thread owns 4 / 2 outputs of a column and reuses each Y value for them), {@code false}
   * the {@code _r1} kernels (one output per thread: their slow twin). Each output is the same fmaf chain in the same order
   * either way; a speed choice ({@link #DEFAULT_BLOCKED}).
   */
  public PackedLearnedRef rowsPerThread(boolean on) { blocked = on; return this; }

  public boolean rowsPerThread() { return blocked; }

  private int forwardThreads() { return Math.min(256, Math.max(32, m)); }

  /** y = conv(u, k) + D u through the packed learned transform, queued on the device's stream. */
  @Override public void forward(DeviceBuffer u, DeviceBuffer y, int B) {
    if (chain != null) { chain.forward(u, y, B); return; }
    check("forward", u, y, B);
    device.module(MODULE).kernel("lpr_forward_" + io.tag() + (blocked ? "_r4" : "_r1")).launch(device.stream(), B, h, forwardThreads(), 32 * m, u, pq, d, blocks, y,
        h, l, n1, n2);
  }

  /**
   * Gradients of {@code sum(y * dy)} for y = {@link #forward}(u): du (B, H, L) of the I/O type, dk (sides, H, Lk) fp32 (taps
   * no output reaches get 0), dD (H) fp32, and the four block gradients, then read with {@link #blockGrads()}. Synchronises
   * the stream (workspaces of 4 S H (4 (N1^2 + N2^2) + 4 M + 1) bytes per call, S = {@link #slices}).
   */
  @Override public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
    if (chain != null) { chain.backward(u, dy, B, du, dk, dD); return; }
    check("backward", u, dy, B);
    check("backward", u, du, B);
    int sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (dk == null || dD == null || dk.bytes() < 4L * sides * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedLearnedRef.backward: dk must hold (" + (sides == 2 ? "2, " : "") + "H=" + h + ", Lk=" + lk
          + ") fp32 = " + 4L * sides * h * lk + " bytes and dD (H=" + h + ") fp32 = " + 4L * h + " bytes, got "
          + (dk == null ? "null" : dk.bytes()) + " and " + (dD == null ? "null" : dD.bytes()));
    int e = blockElements(), s = slices(B), rows = s * h;
    try (DeviceBuffer part = device.alloc(8L * rows * e); DeviceBuffer gpq = device.alloc(16L * rows * m);
         DeviceBuffer dDp = device.alloc(4L * rows)) {
      CudaModule md = device.module(MODULE);
      md.kernel("lpr_backward_" + io.tag() + (blocked ? "_r2" : "_r1")).launch(device.stream(), s, h, Math.min(512, Math.max(32, m)), 56 * m, u, dy, pq, d, blocks,
          adj, du, part, gpq, dDp, B, h, l, n1, n2);
      md.kernel("lpr_reduce").launch(device.stream(), (e + 255) / 256, 1, 256, 0, part, dBlocks, rows, e);
      md.kernel("lpr_taps").launch(device.stream(), h, 1, 256, 8 * n + 8 * (m + 2) + 16 * m, gpq, dDp, dk, dD, s, h, lk, taps0, taps1,
          sides, n1, n2);
      device.stream().synchronize();
    }
  }

  /**
   * Batch slices of the backward: blocks (s, h) take the rows b = s, s + S, .. of channel h, so that small H still fills the
   * GPU: S = min(B, ceil(8 SMs / H)) (1 from H = 8 SMs on); the partials (S H rows) are summed by lpr_reduce / lpr_taps.
   */
  int slices(int B) { return Math.max(1, Math.min(B, (8 * device.smCount() + h - 1) / h)); }

  /** The block gradients of the last {@link #backward}, {dFa, dFb, dGb, dGa} in lib's layout (float64 copies). */
  @Override public double[][] blockGrads() {
    if (chain != null) return chain.blockGrads();
    device.stream().synchronize();
    return LearnedPlan.unflatten(dBlocks.copyTo(new float[2 * blockElements()], 0), new int[] {n1, n2, n2, n1});
  }

  private void check(String op, DeviceBuffer a, DeviceBuffer b, int B) {
    LearnedPlan.checkArrays("PackedLearnedRef", op, weightsSet, a, b, B, h, l, io);
  }

  @Override public void close() {
    if (chain != null) { chain.close(); return; }
    pq.close(); d.close(); blocks.close(); adj.close(); dBlocks.close();
  }

  @Override public String toString() {
    if (chain != null) return "PackedLearnedRef[" + chain + "]";
    return "PackedLearnedRef[H=" + h + ", L=" + l + ", Lk=" + lk + ", " + mode + ", N=" + n + ", M=" + m + " = " + n1 + " x " + n2
        + ", io=" + io + (blocked ? "" : ", r1") + "]";
  }
}
