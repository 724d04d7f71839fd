// Shapes: B batch, H channels, L length, Lk taps per side, rows = B H; N the real FFT size (ConvPlan's LEARNED_PACKED sizing),
// M = N / 2 = R_1 .. R_J (J = 2 .. 5, each R_s <= 32, M <= 2^18). u, y, dy, du: (B, H, L) device arrays of the I/O type
// (F32 / BF16 / F16); k (H, Lk) fp32 (bidirectional: k0, k1 each (H, Lk)); D, dD: (H) fp32; dk (sides, H, Lk) fp32.
//   blocks {F_1 .. F_J, G_J .. G_1} (J = 2: {Fa, Fb, Gb, Ga}), each (R_s, R_s, 2) complex interleaved as lib's.
//   pq (device): (H, M) float4 {Re P_p, Im P_p, Re Q_p, Im Q_p} at lib POSITION p (position p = the row-major index of
//   (k_1, .., k_J) holds frequency k_1 + R_1 (k_2 + R_2 (..))); adjoint layout (H, M) float4 {conj(P_p), Q_s(p)}.
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvPlan;
import java.util.Arrays;

/**
 * The packed learned butterfly with J factors (engine LEARNED_PACKED, /work/prompts/s14-jspec.md) in fp32 on CUDA cores,
 * every row in global memory: forward and the whole backward (du; dk, both sides when bidirectional; dD; all 2J block
 * gradients summed over rows) in every mode and I/O type, for any factor list of M = N / 2 up to 2^18 with factors
 * R_s <= 32 (learned_pk_ref2.cu). The fp32 path of every LEARNED_PACKED plan that {@link PackedLearnedRef}'s
 * in-shared-memory J = 2 kernels do not take ({@link PackedLearnedRef} delegates to it), and their slow twin where both
 * apply. Per stage one kernel over all rows ({@code lpj_col_r<R>}: one thread per column of the axis, its R inputs in
 * registers, the block in shared memory, the NEXT stage's twiddle applied to its outputs, so no separate twiddle pass; its
 * slow twin {@link #fused(boolean) fused(false)}: {@code lpj_block}, one thread per output, the twiddle read per input, and
 * {@code lpj_twiddle} passes), the pair map ({@code lpj_pair}), pack / unpack + D u; the backward recomputes the forward chain and
 * keeps its stage inputs X_1 .. X_J, C and the inverse chain's V_1 .. V_J ((2J + 2) rows x M complex fp32: 12.9 GB at B = 64,
 * H = 768, causal L = 4K, M = 4096, J = 3; the forward alone 2 of them, 3.2 GB), then the adjoint chains (the blocks
 * conjugated with the other access), {@code lpj_pair_grad} (gC and {dP, dQ} summed over the batch per channel),
 * {@code lpj_gram} (each block's Gram as per-block partials of 32-column tiles, then {@code lpj_reduce}).
 * <p>P / Q on the device for any M (the contract with the tensor-core forward of helper pkjtc): the taps placed into
 * k_pad (H, N) ({@code lpj_kpad}), K = DFT_N(k_pad) by cuFFT R2C (batch H), then {@code lpj_pq_gather}: {@link #pq()} is
 * (H, M) float4 {Re P_p, Im P_p, Re Q_p, Im Q_p} at lib POSITION p (frequency {@link #positionFrequencies}[p]); with
 * {@link #adjointPq()} the adjoint layout {conj(P_p), Q_s(p)} (s(p): the position of frequency (M - k) mod M) that turns the
 * pair map into its adjoint. dk: dP / dQ through the pair formulas' adjoint ({@code lpj_dk_spec}), the real DFT's adjoint
 * by cuFFT C2R, then {@code lpj_taps} (both sides when bidirectional). Synchronises in {@link #backward} (per-call workspaces).
 * The R2C and C2R plans are kept per chain on one shared work area ({@link CuFft.SharedPlans}; C2R's slow twin, a plan per
 * call: {@code -Dlongconv4j.pkj.taps.keep=false}).
 */
final class PackedLearnedChain implements AutoCloseable, LearnedPlan {
  /** Largest M: FB's MAX_N = 2^19 real points. */
  static final int MAX_M = 1 << 18;
  /** Largest factor: lpj_gram holds R^2 <= 1024 entries per 256 threads and tiles of R x 32 columns. */
  static final int MAX_R = 32;
  private static final String MODULE = "learned_pk_ref2";

  private final CudaDevice device;
  private final int h, l, lk, n, m, taps0, taps1, j;
  private final int[] r, freq, blockOff;
  private final ConvMode mode;
  private final ElementType io;
  private final DeviceBuffer pq, d, blocks, dBlocks, freqBuf, posBuf;
  private DeviceBuffer adjPq;
  private boolean weightsSet, fused = DEFAULT_FUSED;

  /**
   * Whether plans start on the fused stages ({@code lpj_col_r<R>}: a thread per column, R inputs in registers, the next
   * twiddle applied to the outputs; the default) or on their slow twin ({@code lpj_block} with the twiddle read per input,
   * {@code lpj_twiddle} passes): {@code -Dlongconv4j.pkj.fused}, default true; {@link #fused(boolean)} per plan.
   */
  static final boolean DEFAULT_FUSED = !"false".equals(System.getProperty("longconv4j.pkj.fused"));

  private PackedLearnedChain(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io, ConvPlan p, int[] factors) {
    this.device = device; this.h = h; this.l = l; this.lk = lk; this.mode = mode; this.io = io;
    this.n = p.fftSize(); this.m = n / 2; this.r = factors.clone(); this.j = factors.length;
    var lm = LearnedButterflyConv.libMode(mode);
    this.taps0 = lm.effectiveTaps(l, lk, 0);
    this.taps1 = lm.sides() == 2 ? lm.effectiveTaps(l, lk, 1) : 0;
    // lib's table where lib's plan has this factor list (uploaded once per plan), else the same formula for explicit factors
    this.freq = Arrays.equals(factors, PackedLearnedRef.factorsOf(p))
        ? ai.longconv4j.conv.PackedLearnedButterfly.positionFrequencies(p) : positionFrequencies(factors);
    int[] pos = new int[m];
    for (int q = 0; q < m; q++) pos[freq[q]] = q;
    blockOff = new int[2 * j + 1];
    for (int i = 0; i < 2 * j; i++) { int s = size(i); blockOff[i + 1] = blockOff[i] + s * s; }
    this.pq = device.alloc(16L * h * m);
    this.d = device.alloc(4L * h);
    this.blocks = device.alloc(8L * blockOff[2 * j]);
    this.dBlocks = device.alloc(8L * blockOff[2 * j]);
    this.freqBuf = device.alloc(4L * m).copyFrom(bits(freq));
    this.posBuf = device.alloc(4L * m).copyFrom(bits(pos));
    double[][] init = new double[2 * j][];
    for (int i = 0; i < 2 * j; i++) init[i] = dft(size(i), i >= j);
    setBlocks(init);
  }

  /**
   * A plan for lib's {@code p} with the factor list {@code factors} (lib's p.factors() for LEARNED_PACKED); blocks at the
   * exact DFT. Refused (IllegalArgumentException naming the values): a product != M, fewer than 2 factors, a factor not a
   * power of two in [2, {@value #MAX_R}], M > {@value #MAX_M}; H outside [1, 65535].
   */
  static PackedLearnedChain plan(CudaDevice device, int H, int L, int Lk, ConvMode mode, ElementType io, ConvPlan p, int[] factors) {
    check(H, p, factors);
    if (device == null) throw new IllegalArgumentException("PackedLearnedChain: device is null");
    return new PackedLearnedChain(device, H, L, Lk, mode, io, p, factors);
  }

  static void check(int H, ConvPlan p, int[] factors) {
    if (H < 1 || H > 65535) throw new IllegalArgumentException("PackedLearnedChain: H must be in [1, 65535], got " + H);
    int mm = p.fftSize() / 2;
    long prod = 1;
    boolean ok = factors != null && factors.length >= 2;
    if (ok) for (int f : factors) { ok &= f >= 2 && f <= MAX_R && Integer.bitCount(f) == 1; prod *= f; }
    if (!ok || prod != mm || mm > MAX_M)
      throw new IllegalArgumentException("PackedLearnedChain: M=" + mm + " (N=" + p.fftSize() + ") with factors "
          + Arrays.toString(factors) + ": need >= 2 powers of two in [2, " + MAX_R + "] whose product is M, M <= " + MAX_M);
  }

  /**
   * The frequency position p holds: p's row-major digits (k_1 .. k_J), k = k_1 + R_1 (k_2 + R_2 (k_3 + ..)) (lib's
   * PackedLearnedButterfly.positionFrequencies for lib's factor lists; PackedLearnedRefHostTest checks they agree).
   */
  static int[] positionFrequencies(int[] factors) {
    int mm = 1;
    for (int f : factors) mm *= f;
    int[] out = new int[mm];
    for (int p = 0; p < mm; p++) {
      int rest = p, k = 0, mult = 1;
      int[] dig = new int[factors.length];
      for (int s = factors.length - 1; s >= 0; s--) { dig[s] = rest % factors[s]; rest /= factors[s]; }
      for (int s = 0; s < factors.length; s++) { k += mult * dig[s]; mult *= factors[s]; }
      out[p] = k;
    }
    return out;
  }

  /** The DFT of size q (LearnedButterfly.dft: F[a][b] = exp(-2 pi i a b / q)), conjugated when conj, as (q, q, 2). */
  static double[] dft(int q, boolean conj) {
    double[] f = new double[2 * q * q];
    for (int a = 0; a < q; a++)
      for (int b = 0; b < q; b++) {
        double ang = -2 * Math.PI * ((long) a * b % q) / q;
        f[2 * (a * q + b)] = Math.cos(ang);
        f[2 * (a * q + b) + 1] = conj ? -Math.sin(ang) : Math.sin(ang);
      }
    return f;
  }

  private static float[] bits(int[] a) {   // int tables uploaded through the float copy: their bits, unchanged
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) f[i] = Float.intBitsToFloat(a[i]);
    return f;
  }

  /** The size of block i of {F_1 .. F_J, G_J .. G_1}. */
  private int size(int i) { return i < j ? r[i] : r[2 * j - 1 - i]; }

  @Override public int[] factors() { return r.clone(); }

  int fftSize() { return n; }

  /** Uploads the 2J blocks {F_1 .. F_J, G_J .. G_1} (lib's layout), rounded to fp32. */
  @Override public PackedLearnedChain setBlocks(double[][] b) {
    if (b == null || b.length != 2 * j)
      throw new IllegalArgumentException("PackedLearnedChain.setBlocks: need " + 2 * j + " blocks {F_1 .. F_J, G_J .. G_1} for factors "
          + Arrays.toString(r) + ", got " + (b == null ? "null" : b.length));
    float[] flat = new float[2 * blockOff[2 * j]];
    for (int i = 0, off = 0; i < 2 * j; i++) {
      int s = size(i);
      if (b[i] == null || b[i].length != 2 * s * s)
        throw new IllegalArgumentException("PackedLearnedChain.setBlocks: block " + i + " must be (" + s + ", " + s + ", 2) for factors "
            + Arrays.toString(r) + ", got " + (b[i] == null ? "null" : b[i].length + " values"));
      for (double v : b[i]) flat[off++] = (float) v;
    }
    blocks.copyFrom(flat);
    return this;
  }

  @Override public PackedLearnedChain setWeights(float[] k, float[] D) {
    if (mode == ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("PackedLearnedChain BIDIRECTIONAL: pass k0, k1 and D");
    return upload(k, null, D);
  }

  @Override public PackedLearnedChain setWeights(float[] k0, float[] k1, float[] D) {
    if (mode != ConvMode.BIDIRECTIONAL) throw new IllegalArgumentException("PackedLearnedChain " + mode + ": takes one kernel");
    if (k1 == null) throw new IllegalArgumentException("PackedLearnedChain BIDIRECTIONAL: k1 is null");
    return upload(k0, k1, D);
  }

  private static int grid(long total) { return (int) Math.max(1, Math.min((total + 255) / 256, 1 << 22)); }

  private PackedLearnedChain upload(float[] k0, float[] k1, float[] D) {
    if (k0 == null || D == null || k0.length != h * lk || (k1 != null && k1.length != h * lk) || D.length != h)
      throw new IllegalArgumentException("PackedLearnedChain.setWeights: k must be (H=" + h + ", Lk=" + lk + ")" + (k1 != null ? " per side" : "")
          + " and D (H=" + h + "), got " + (k0 == null ? "null" : k0.length) + (k1 != null ? ", " + k1.length : "") + " and "
          + (D == null ? "null" : D.length) + " values");
    d.copyFrom(D);
    CudaModule md = device.module(MODULE);
    try (DeviceBuffer a = device.upload(k0); DeviceBuffer b = k1 == null ? null : device.upload(k1);
         DeviceBuffer kpad = device.alloc(4L * h * n); DeviceBuffer kk = device.alloc(8L * h * (m + 1));
         CuFft.Plan fft = CuFft.plan1d(device, n, CuFft.Type.R2C, h)) {
      md.kernel("lpj_kpad").launch(device.stream(), grid((long) h * n), 1, 256, 0, a, b == null ? new DevicePointer() : b, kpad, h, lk, n,
          taps0, taps1);
      fft.execR2C(kpad.ptr(), kk.ptr());
      md.kernel("lpj_pq_gather").launch(device.stream(), grid((long) h * m), 1, 256, 0, kk, freqBuf, pq, h, m, 0);
      if (adjPq == null) adjPq = device.alloc(16L * h * m);
      md.kernel("lpj_pq_gather").launch(device.stream(), grid((long) h * m), 1, 256, 0, kk, freqBuf, adjPq, h, m, 1);
      device.stream().synchronize();
    }
    weightsSet = true;
    return this;
  }

  // ---- helper pkdev (session 15): device-side inputs (the tensor op's device route through PackedMonarchLearned)
  // setWeightsOnDevice's R2C plan and (helper taps, session 18) taps' C2R plan (N points, batch H each), kept: plan creation
  // cudaMallocs its work area and destruction frees it (both synchronise). Both on ONE work area (they run on the device's
  // stream, never at once): CuFft.SharedPlans, made lazily, closed in close().
  private CuFft.SharedPlans ffts;
  private CuFft.Plan r2c, c2r;
  private static final java.util.concurrent.atomic.AtomicLong C2R_PLANS = new java.util.concurrent.atomic.AtomicLong();

  /** C2R plans made by {@link #taps} in this JVM (all chains): one per chain on the kept route, one per call on its twin. */
  static long c2rPlansMade() { return C2R_PLANS.get(); }

  /**
   * Whether {@link #taps} keeps its C2R plan on the chain's shared work area (the default) or makes and destroys one per
   * call (the slow twin, the route before helper taps): {@code -Dlongconv4j.pkj.taps.keep}, read per call. The same plan
   * parameters, so the same cuFFT algorithm and the same dk bits.
   */
  static boolean keepTapsPlan() { return !"false".equals(System.getProperty("longconv4j.pkj.taps.keep")); }

  private CuFft.SharedPlans ffts() {
    if (ffts == null) ffts = new CuFft.SharedPlans(device);
    return ffts;
  }

  private static volatile String lastFftArea = "none";

  /** The work area of the chain whose C2R plan was kept last: "N=.., H=..: shared X bytes (separate areas Y)". */
  static String lastFftArea() { return lastFftArea; }

  /**
   * The 2J blocks {F_1 .. F_J, G_J .. G_1} from device addresses (fp32 complex interleaved (R_s, R_s, 2), row-major, lib's
   * order), copied device to device on the device's stream ({@link PackedPlanArgs#copyBlocksOnDevice}: the same back-to-back
   * layout as {@link #setBlocks}); no host copy, no synchronisation.
   */
  PackedLearnedChain setBlocksOnDevice(DevicePointer[] b) {
    PackedPlanArgs.copyBlocksOnDevice("PackedLearnedChain", device, blocks, b, r, "factors " + Arrays.toString(r));
    return this;
  }

  /**
   * P / Q (and the adjoint layout) and D from device memory, queued on the device's stream (no host copy, no
   * synchronisation): k0 (and k1 when BIDIRECTIONAL, else null) the addresses of (H, Lk) fp32 taps, D of (H) fp32 skip
   * weights or null (zeros). The same kernels as {@link #setWeights} ({@code lpj_kpad}, cuFFT R2C, {@code lpj_pq_gather}
   * twice) on the same fp32 values, so the same P / Q bit for bit; the R2C plan is kept, the (H, N) and (H, M + 1)
   * workspaces go back to the caching allocator once queued (a later user of that memory is queued on the same stream,
   * after these kernels). The taps must stay untouched until the queued kernels have read them (the stream orders any
   * later writer on it).
   */
  PackedLearnedChain setWeightsOnDevice(DevicePointer k0, DevicePointer k1, DevicePointer D) {
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    if (k0 == null || bi != (k1 != null))
      throw new IllegalArgumentException("PackedLearnedChain.setWeightsOnDevice " + mode + ": needs " + (bi ? "k0 and k1" : "k (and k1 null)")
          + " of (H=" + h + ", Lk=" + lk + ") fp32 taps, got k0 " + k0 + ", k1 " + k1);
    device.makeCurrent();
    CudaStream s = device.stream();
    if (D == null) Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(d.ptr(), 0, h, s.cu()), "cuMemsetD32Async", "D of H=" + h, "device " + device.index());
    else Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(d.ptr(), D, 4L * h, s.cu()), "cuMemcpyDtoDAsync", "D of H=" + h, "device " + device.index());
    if (r2c == null) r2c = ffts().plan1d(n, CuFft.Type.R2C, h);
    if (adjPq == null) adjPq = device.alloc(16L * h * m);
    CudaModule md = device.module(MODULE);
    try (DeviceBuffer kpad = device.alloc(4L * h * n); DeviceBuffer kk = device.alloc(8L * h * (m + 1))) {
      md.kernel("lpj_kpad").launch(s, grid((long) h * n), 1, 256, 0, k0, k1 == null ? new DevicePointer() : k1, kpad, h, lk, n, taps0, taps1);
      r2c.execR2C(kpad.ptr(), kk.ptr());
      md.kernel("lpj_pq_gather").launch(s, grid((long) h * m), 1, 256, 0, kk, freqBuf, pq, h, m, 0);
      md.kernel("lpj_pq_gather").launch(s, grid((long) h * m), 1, 256, 0, kk, freqBuf, adjPq, h, m, 1);
    }
    weightsSet = true;
    return this;
  }

  /** The device's P / Q: (H, M) float4 {Re P_p, Im P_p, Re Q_p, Im Q_p} at lib position p (valid after setWeights). */
  DeviceBuffer pq() { return pq; }

  /** The adjoint layout (H, M) float4 {conj(P_p), Q_s(p)} (valid after setWeights). */
  DeviceBuffer adjointPq() { return adjPq; }

  /** D (H) fp32 as the last setWeights uploaded it. */
  DeviceBuffer skip() { return d; }

  /** P / Q downloaded in lib's pairCoefficients layout per channel, (H, 4M) floats; adjoint: the adjoint layout likewise. */
  float[] pairCoefficients(boolean adjoint) {
    if (!weightsSet) throw new IllegalStateException("PackedLearnedChain.pairCoefficients: call setWeights first");
    float[] raw = (adjoint ? adjPq : pq).copyTo(new float[4 * h * m], 0), out = new float[4 * h * m];
    for (int c = 0; c < h; c++)
      for (int p = 0; p < m; p++) {
        int src = 4 * (c * m + p), dst = 4 * m * c;
        out[dst + 2 * p] = raw[src]; out[dst + 2 * p + 1] = raw[src + 1];
        out[dst + 2 * m + 2 * p] = raw[src + 2]; out[dst + 2 * m + 2 * p + 1] = raw[src + 3];
      }
    return out;
  }

  private DevicePointer blk(int i) { return blocks.ptr().at(8L * blockOff[i]); }

  /** Stride S of axis s (0-based): the product of the factors after it. */
  private int stride(int s) { int q = 1; for (int i = s + 1; i < j; i++) q *= r[i]; return q; }

  private void block(DeviceBuffer x, DeviceBuffer out, long rows, int s, DevicePointer w, boolean trans, boolean conj, float pre,
      float post, float scale) {
    long total = rows * m;
    device.module(MODULE).kernel("lpj_block").launch(device.stream(), grid(total), 1, 256, 0, x, out, w, total, m, r[s], stride(s),
        trans ? 1 : 0, conj ? 1 : 0, pre, post, scale);
  }

  /** Fused (true, the default) or the slow twin's stages (false): the same math, the same sums per output. */
  PackedLearnedChain fused(boolean on) { fused = on; return this; }

  /**
   * The fused stage along axis s: out = scale * tw * (block along s of x), tw the twiddle of axis t (sign tSign; t < 0 or
   * tSign 0: none) at each output's index.
   */
  private void col(DeviceBuffer x, DeviceBuffer out, long rows, int s, DevicePointer w, boolean trans, boolean conj, int t, float tSign,
      float scale) {
    long cols = rows * m / r[s];
    boolean tw = t >= 0 && tSign != 0f;
    device.module(MODULE).kernel("lpj_col_r" + r[s]).launch(device.stream(), (int) Math.max(1, Math.min((cols + 127) / 128, 1 << 22)), 1, 128, 0,
        x, out, w, cols, m, stride(s), trans ? 1 : 0, conj ? 1 : 0, tw ? r[t] : 1, tw ? stride(t) : 1, tw ? tSign : 0f, scale);
  }

  private void twiddle(DeviceBuffer x, long rows, int s, float sign, float scale) {
    long total = rows * m;
    device.module(MODULE).kernel("lpj_twiddle").launch(device.stream(), grid(total), 1, 256, 0, x, x, total, m, r[s], stride(s), sign, scale);
  }

  private DeviceBuffer rows(long rows) {
    long bytes = 8L * rows * m;
    try {
      return device.alloc(bytes);
    } catch (RuntimeException e) {
      throw new IllegalStateException("PackedLearnedChain: cannot allocate a (" + rows + " rows, M=" + m + ") complex fp32 workspace of "
          + bytes + " bytes: " + e.getMessage(), e);
    }
  }

  /** y = conv(u, k) + D u: pack, the J forward stages, the pair map, the J inverse stages (twiddle fused), unpack. */
  @Override public void forward(DeviceBuffer u, DeviceBuffer y, int B) {
    check("forward", u, y, B);
    long rows = (long) B * h;
    CudaModule md = device.module(MODULE);
    try (DeviceBuffer a = rows(rows); DeviceBuffer b = rows(rows)) {
      DeviceBuffer cur = a, oth = b;
      md.kernel("lpj_pack_" + io.tag()).launch(device.stream(), grid(rows * m), 1, 256, 0, u, cur, rows * m, l, m);
      for (int s = 0; s < j; s++) {
        if (fused) col(cur, oth, rows, s, blk(s), s > 0, false, s, s < j - 1 ? 1f : 0f, 1f);
        else block(cur, oth, rows, s, blk(s), s > 0, false, 0f, s < j - 1 ? 1f : 0f, 1f);
        DeviceBuffer t = cur; cur = oth; oth = t;
      }
      md.kernel("lpj_pair").launch(device.stream(), grid(rows * m), 1, 256, 0, cur, pq, freqBuf, posBuf, oth, rows * m, h, m);
      DeviceBuffer t0 = cur; cur = oth; oth = t0;
      for (int s = j - 1; s >= 0; s--) {   // fused: stage s's output gets the next stage's conj(T_(s-1)) (and 1 / M with T_1)
        if (fused) col(cur, oth, rows, s, blk(2 * j - 1 - s), s > 0, false, s - 1, -1f, s == 1 ? 1f / m : 1f);
        else block(cur, oth, rows, s, blk(2 * j - 1 - s), s > 0, false, s < j - 1 ? -1f : 0f, 0f, s == 0 ? 1f / m : 1f);
        DeviceBuffer t = cur; cur = oth; oth = t;
      }
      md.kernel("lpj_unpack_" + io.tag()).launch(device.stream(), grid(rows * l), 1, 256, 0, cur, u, d, y, rows * l, h, l, m);
      device.stream().synchronize();   // the workspaces are freed at the end of this block
    }
  }

  /**
   * Gradients of {@code sum(y * dy)}: du (B, H, L) of the I/O type, dk (sides, H, Lk) fp32 (unreachable taps 0), dD (H) fp32,
   * and the 2J block gradients ({@link #blockGrads}). Recomputes the forward chain; synchronises.
   */
  @Override public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
    check("backward", u, dy, B);
    check("backward", u, du, B);
    int sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (dk == null || dD == null || dk.bytes() < 4L * sides * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedLearnedChain.backward: dk must hold (" + (sides == 2 ? "2, " : "") + "H=" + h + ", Lk=" + lk
          + ") fp32 = " + 4L * sides * h * lk + " bytes and dD (H=" + h + ") fp32 = " + 4L * h + " bytes, got "
          + (dk == null ? "null" : dk.bytes()) + " and " + (dD == null ? "null" : dD.bytes()));
    long rows = (long) B * h, total = rows * m;
    CudaModule md = device.module(MODULE);
    DeviceBuffer[] x = new DeviceBuffer[j], v = new DeviceBuffer[j];
    DeviceBuffer c = null, ga = null, gpq = null;
    try {
      for (int s = 0; s < j; s++) { x[s] = rows(rows); v[s] = rows(rows); }
      c = rows(rows); ga = rows(rows); gpq = device.alloc(16L * h * m);
      // the forward chain, keeping X_1 .. X_J, C and V_1 .. V_J (V_J = C': T_J = 1)
      md.kernel("lpj_pack_" + io.tag()).launch(device.stream(), grid(total), 1, 256, 0, u, x[0], total, l, m);
      for (int s = 0; s < j; s++) {
        if (fused) col(x[s], s < j - 1 ? x[s + 1] : c, rows, s, blk(s), s > 0, false, s, s < j - 1 ? 1f : 0f, 1f);
        else block(x[s], s < j - 1 ? x[s + 1] : c, rows, s, blk(s), s > 0, false, 0f, s < j - 1 ? 1f : 0f, 1f);
      }
      md.kernel("lpj_pair").launch(device.stream(), grid(total), 1, 256, 0, c, pq, freqBuf, posBuf, v[j - 1], total, h, m);
      for (int s = j - 2; s >= 0; s--) {   // W_(s+1) = G_(s+2) along axis s+1 of V_(s+2); V_(s+1) = W_(s+1) o conj(T_(s+1)) (/ M at s = 0)
        if (fused) {
          col(v[s + 1], v[s], rows, s + 1, blk(2 * j - 2 - s), true, false, s, -1f, s == 0 ? 1f / m : 1f);
        } else {
          block(v[s + 1], v[s], rows, s + 1, blk(2 * j - 2 - s), true, false, 0f, 0f, 1f);
          twiddle(v[s], rows, s, -1f, s == 0 ? 1f / m : 1f);
        }
      }
      // the inverse chain's adjoint: gW_0 = pack(dy); per s: dG_s = Gram(V_s, gW_(s-1)); gW_s = T_s o G_s^adj(gW_(s-1)) (/ M at s = 1)
      md.kernel("lpj_pack_" + io.tag()).launch(device.stream(), grid(total), 1, 256, 0, dy, ga, total, l, m);
      DeviceBuffer g = ga;
      for (int s = 0; s < j; s++) {
        gram(v[s], g, rows, s, 2 * j - 1 - s);
        if (fused) col(g, v[s], rows, s, blk(2 * j - 1 - s), s == 0, true, s, s < j - 1 ? 1f : 0f, s == 0 ? 1f / m : 1f);   // into V_s's buffer
        else block(g, v[s], rows, s, blk(2 * j - 1 - s), s == 0, true, 0f, s < j - 1 ? 1f : 0f, s == 0 ? 1f / m : 1f);
        g = v[s];
      }
      // the pair map's adjoint (gC into ga) and {dP, dQ}
      md.kernel("lpj_pair_grad").launch(device.stream(), grid((long) h * m), 1, 256, 0, g, c, pq, freqBuf, posBuf, ga, gpq, B, h, m);
      // the forward chain's adjoint: gY_s = conj(T_s) o gX_(s+1); dF_s = Gram(X_s, gY_s); gX_s = F_s^adj(gY_s)
      DeviceBuffer cur = ga, oth = v[0];
      for (int s = j - 1; s >= 0; s--) {   // fused: gX_(s+1) comes out of the stage after s already times conj(T_s)
        if (!fused && s < j - 1) twiddle(cur, rows, s, -1f, 1f);
        gram(x[s], cur, rows, s, s);
        if (fused) col(cur, oth, rows, s, blk(s), s == 0, true, s - 1, -1f, 1f);
        else block(cur, oth, rows, s, blk(s), s == 0, true, 0f, 0f, 1f);
        DeviceBuffer t = cur; cur = oth; oth = t;
      }
      md.kernel("lpj_unpack_" + io.tag()).launch(device.stream(), grid(rows * l), 1, 256, 0, cur, dy, d, du, rows * l, h, l, m);
      md.kernel("lpj_ddot_" + io.tag()).launch(device.stream(), h, 1, 256, 0, u, dy, dD, B, h, l);
      taps(gpq, dk, sides);
      device.stream().synchronize();
    } finally {
      for (DeviceBuffer b : x) if (b != null) b.close();
      for (DeviceBuffer b : v) if (b != null) b.close();
      for (DeviceBuffer b : new DeviceBuffer[] {c, ga, gpq}) if (b != null) b.close();
    }
  }

  /** dBlocks[slot] = the Gram of axis s: sum over rows and other indices of gy[k] conj(x[n]) (lpj_gram partials, lpj_reduce). */
  private void gram(DeviceBuffer x, DeviceBuffer gy, long rows, int s, int slot) {
    int R = r[s], e = R * R;
    long cols = rows * m / R, chunk = Math.max(32, ((cols + 1023) / 1024 + 31) / 32 * 32);
    int groups = (int) ((cols + chunk - 1) / chunk);
    CudaModule md = device.module(MODULE);
    try (DeviceBuffer part = device.alloc(8L * groups * e)) {
      md.kernel("lpj_gram").launch(device.stream(), groups, 1, 256, 0, x, gy, part, cols, chunk, m, R, stride(s), s > 0 ? 1 : 0);
      md.kernel("lpj_reduce").launch(device.stream(), (e + 255) / 256, 1, 256, 0, part, dBlocks.ptr().at(8L * blockOff[slot]), groups, e);
      device.stream().synchronize();   // part is freed here
    }
  }

  /** taps' spectrum (H, M + 1) float2 and padded taps (H, N) fp32, kept with the kept C2R plan (session 27). */
  private DeviceBuffer tapsSpec, tapsPad;

  /**
   * dk (sides, H, Lk) from {dP, dQ} (H, M) float4 at positions (also PackedMonarchLearned's route from the tensor-core backward).
   * With the kept C2R plan ({@link #keepTapsPlan}, the default) its two work buffers are kept too and nothing synchronises
   * (session 27: the synchronisation that freed them per call left the GPU idle while the host queued the op's remaining
   * work: ~1 ms of a 4K step); with a plan per call, the buffers and the plan are freed after a synchronisation.
   */
  void taps(DeviceBuffer gpq, DeviceBuffer dk, int sides) {
    CudaModule md = device.module(MODULE);
    boolean keep = keepTapsPlan();
    if (keep && c2r == null) {
      c2r = ffts().plan1d(n, CuFft.Type.C2R, h);
      C2R_PLANS.incrementAndGet();
      lastFftArea = "N=" + n + ", H=" + h + ": shared " + ffts.workAreaBytes() + " bytes (separate areas " + ffts.separateBytes() + ")";
    }
    if (keep) {
      if (tapsSpec == null) { tapsSpec = device.alloc(8L * h * (m + 1)); tapsPad = device.alloc(4L * h * n); }
      tapsOn(md, c2r, tapsSpec, tapsPad, gpq, dk, sides);
      return;
    }
    try (DeviceBuffer spec = device.alloc(8L * h * (m + 1)); DeviceBuffer pad = device.alloc(4L * h * n);
         CuFft.Plan perCall = CuFft.plan1d(device, n, CuFft.Type.C2R, h)) {
      C2R_PLANS.incrementAndGet();
      tapsOn(md, perCall, spec, pad, gpq, dk, sides);
      device.stream().synchronize();
    }
  }

  private void tapsOn(CudaModule md, CuFft.Plan plan, DeviceBuffer spec, DeviceBuffer pad, DeviceBuffer gpq, DeviceBuffer dk, int sides) {
    md.kernel("lpj_dk_spec").launch(device.stream(), grid((long) h * (m + 1)), 1, 256, 0, gpq, posBuf, spec, h, m);
    plan.execC2R(spec.ptr(), pad.ptr());
    md.kernel("lpj_taps").launch(device.stream(), grid((long) sides * h * lk), 1, 256, 0, pad, dk, h, lk, n, taps0, taps1, sides);
  }

  /** The 2J block gradients of the last {@link #backward}, {dF_1 .. dF_J, dG_J .. dG_1} in lib's layout (float64 copies). */
  @Override public double[][] blockGrads() {
    device.stream().synchronize();
    return LearnedPlan.unflatten(dBlocks.copyTo(new float[2 * blockOff[2 * j]], 0), blockSizes());
  }

  private void check(String op, DeviceBuffer a, DeviceBuffer b, int B) {
    LearnedPlan.checkArrays("PackedLearnedChain", op, weightsSet, a, b, B, h, l, io);
  }

  @Override public void close() {
    if (ffts != null) ffts.close();   // the kept R2C / C2R plans and their work area
    for (DeviceBuffer b : new DeviceBuffer[] {pq, d, blocks, dBlocks, freqBuf, posBuf, adjPq, tapsSpec, tapsPad}) if (b != null) b.close();
  }

  @Override public String toString() {
    return "PackedLearnedChain[H=" + h + ", L=" + l + ", Lk=" + lk + ", " + mode + ", N=" + n + ", M=" + m + " = "
        + Arrays.toString(r) + ", io=" + io + (fused ? "" : ", unfused") + "]";
  }
}
