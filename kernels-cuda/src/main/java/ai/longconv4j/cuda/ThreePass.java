// Shapes: B batch, H channels, L sequence length, N FFT size = N1 * M (M the in-shared-memory size, 2 <= N1 <= 64).
//   u, y: (B, H, L) of the plan's element type; k: (H, Lk) fp32 (or the placed kernel kt (H, N)); D: (H) fp32.
//   kf: (H, N) complex fp32, kf[h][k1*M + p] = K[k1 + N1*perm_M(p)] (perm_M: the inner Monarch order).
//   scratch S: (pairs, H, N) complex, float2 or (with 16-bit shared memory) bf16x2 / half2.
package ai.longconv4j.cuda;

/**
 * The three-pass FlashButterfly convolution for FFTs larger than shared memory (flashbutterfly3.cu): an outer
 * N1-point butterfly per column that reads u once, N1 independent in-shared-memory Monarch convolutions of M
 * points per row (the fused kernel's middle, with the kernel spectrum's slice), and the inverse outer butterfly
 * that adds {@code D * u} and writes y once. The intermediate lives in a global scratch that the plan keeps;
 * batch pairs are processed in chunks so that it stays within {@link #SCRATCH_BUDGET} bytes.
 * Package-private: {@link FlashButterflyConv} chooses it.
 */
final class ThreePass {
  /** Most bytes of intermediate scratch a forward keeps (a chunk holds at least one batch pair). */
  static final long SCRATCH_BUDGET = 8L << 30;
  /** Threads per block of the outer (column) passes. */
  static final int OUTER_THREADS = 256;
  /**
   * Largest outer size N1. N1 = 64 runs the fb3_outer64_* kernels (a two-level 8 x 8 DFT in registers, 128 data
   * registers per column: separate entry points so that the N1 <= 32 kernels keep their register counts).
   */
  static final int MAX_N1 = 64;
  private static final String MODULE = "flashbutterfly3";

  private final CudaDevice device;
  private final int h, n, m, log2n, log2m, n1;
  private DeviceBuffer scratch;

  ThreePass(CudaDevice device, int h, int n, int m) {
    if (Integer.bitCount(m) != 1 || Integer.bitCount(n) != 1 || m < FlashButterflyConv.MIN_N || n % m != 0 || n / m < 2
        || n / m > MAX_N1)
      throw new IllegalArgumentException("FlashButterflyConv three-pass: need N = N1 * M, powers of two, with N1 in [2, "
          + MAX_N1 + "]"
          + " and M >= " + FlashButterflyConv.MIN_N + ", got N=" + n + ", M=" + m);
    this.device = device; this.h = h; this.n = n; this.m = m;
    this.log2n = Integer.numberOfTrailingZeros(n);
    this.log2m = Integer.numberOfTrailingZeros(m);
    this.n1 = n / m;
  }

  int inner() { return m; }
  int outer() { return n1; }

  /** Blocks per (pair, channel) of the outer passes: columns per thread as OuterCols in flashbutterfly3.cu. */
  private int colBlocks() {
    int cols = OUTER_THREADS * (n1 <= 16 ? 2 : 1);
    return (m + cols - 1) / cols;
  }

  /** fb3_outer_inv_dk: one column per thread. */
  private int colBlocks1() { return (m + OUTER_THREADS - 1) / OUTER_THREADS; }

  private static int rowThreads(int m) { return Math.min(512, Math.max(64, m / 16)); }

  private CudaModule.Kernel k(String name) { return device.module(MODULE).kernel(name); }

  /** An outer-pass kernel ("fb3_outer_..."), its N1 = 64 entry point when N1 is 64. */
  private CudaModule.Kernel outerKernel(String name) {
    return k(n1 == 64 ? name.replace("fb3_outer_", "fb3_outer64_") : name);
  }

  private DeviceBuffer scratch(long bytes) {
    if (scratch == null || scratch.bytes() < bytes) {
      if (scratch != null) { device.stream().synchronize(); scratch.close(); }
      scratch = device.alloc(bytes);
    }
    return scratch;
  }

  /**
   * kf from the time-domain kernel {@code kt}: rows of {@code rowLen} fp32 values per channel (zero beyond), so
   * (H, Lk) for causal/circular kernels or the placed (H, N) kernel. fp32 throughout; synchronises.
   */
  void spectrum(DeviceBuffer kt, int rowLen, DeviceBuffer kf) { spectrum(kt.ptr(), rowLen, kf); }

  /** As above, from a device pointer. */
  void spectrum(DevicePointer kt, int rowLen, DeviceBuffer kf) {
    try (DeviceBuffer s = device.alloc(8L * h * n)) {
      outerKernel("fb3_outer_fwd_f32_f32").launch(device.stream(), colBlocks(), h, OUTER_THREADS, 0, kt, s, 1, h, rowLen, 0, log2n,
          log2m, 1f);
      k("fb3_rows_f32").launch(device.stream(), h * n1, 1, rowThreads(m), FlashButterflyConv.smemBytes(m, false), s, kf,
          log2m, 0, 1f);
      device.stream().synchronize();   // s goes back to the cache only after the kernels used it
    }
  }

  /**
   * y = conv(u, K) + D u for (B, H, L) (flags bit 0: fused middle stage, bit 1: conj(K), the adjoint), queued on
   * the device's stream. {@code mid}: the middle kernel's name; {@code s16}: 16-bit scratch and shared memory.
   */
  void forward(DeviceBuffer u, DeviceBuffer y, int B, int L, ElementType io, String midKernel, boolean s16, int threads,
      DeviceBuffer kf, DeviceBuffer d, int flags, String computeTag) {
    forward(u, y, B, L, io, midKernel, s16, threads, kf, d, flags, computeTag, null);
  }

  /** As above; {@code ms} non-null: adds each pass's time (CUDA events, synchronising) to ms[0..2]. */
  void forward(DeviceBuffer u, DeviceBuffer y, int B, int L, ElementType io, String midKernel, boolean s16, int threads,
      DeviceBuffer kf, DeviceBuffer d, int flags, String computeTag, double[] ms) {
    int pairs = (B + 1) / 2;
    long perPair = (long) h * n * (s16 ? 4 : 8);
    int chunk = (int) Math.max(1, Math.min(pairs, SCRATCH_BUDGET / perPair));
    DeviceBuffer s = scratch(perPair * chunk);
    String suf = io.tag() + "_" + (s16 ? computeTag : "f32");
    int smem = FlashButterflyConv.smemBytes(m, s16) + (midKernel.endsWith("_w2") ? FlashButterflyConv.pairTableBytes(m) : 0);
    for (int p0 = 0; p0 < pairs; p0 += chunk) {
      int pc = Math.min(chunk, pairs - p0), b0 = 2 * p0;
      try (var e0 = ms == null ? null : new CudaEvent(device).record(device.stream())) {
        outerKernel("fb3_outer_fwd_" + suf).launch(device.stream(), colBlocks() * pc, h, OUTER_THREADS, 0, u, s, B, h, L, b0, log2n,
            log2m, 1f / n1);
        var e1 = ms == null ? null : new CudaEvent(device).record(device.stream());
        k(midKernel).launch(device.stream(), pc * n1, h, threads, smem, s, kf, pc, h, log2n, log2m, flags);
        var e2 = ms == null ? null : new CudaEvent(device).record(device.stream());
        outerKernel("fb3_outer_inv_" + suf).launch(device.stream(), colBlocks() * pc, h, OUTER_THREADS, 0, s, u, d, y, B, h, L, b0,
            log2n, log2m);
        if (ms != null) {
          var e3 = new CudaEvent(device).record(device.stream());
          ms[0] += e1.elapsedSince(e0); ms[1] += e2.elapsedSince(e1); ms[2] += e3.elapsedSince(e2);
          e1.close(); e2.close(); e3.close();
        }
      }
    }
  }

  /**
   * dk (taps {@code lk}, bidirectional: both sides) and dD from u and dy, fp32 FFTs; queued, then synchronised
   * (the workspace of 24 * H * N bytes goes back to the cache).
   */
  void weights(DeviceBuffer u, DeviceBuffer dy, int B, int L, ElementType io, int lk, boolean bidir, DeviceBuffer dk,
      DeviceBuffer dD) {
    long plane = 8L * h * n;
    try (DeviceBuffer sa = device.alloc(plane); DeviceBuffer sb = device.alloc(plane); DeviceBuffer acc = device.alloc(plane)) {
      String outer = "fb3_outer_fwd_" + io.tag() + "_f32";
      int smem = FlashButterflyConv.smemBytes(m, false), t = rowThreads(m);
      for (int p = 0; p < (B + 1) / 2; p++) {
        outerKernel(outer).launch(device.stream(), colBlocks(), h, OUTER_THREADS, 0, u, sa, B, h, L, 2 * p, log2n, log2m, 1f);
        outerKernel(outer).launch(device.stream(), colBlocks(), h, OUTER_THREADS, 0, dy, sb, B, h, L, 2 * p, log2n, log2m, 1f);
        k("fb3_dk_mid").launch(device.stream(), h * n1, 1, t, smem, sa, sb, acc, log2m, p == 0 ? 1 : 0);
      }
      k("fb3_rows_f32").launch(device.stream(), h * n1, 1, t, smem, acc, sa, log2m, 1, 1f / n);
      outerKernel("fb3_outer_inv_dk").launch(device.stream(), colBlocks1(), h, OUTER_THREADS, 0, sa, dk, h, lk, log2n, log2m,
          bidir ? 1 : 0);
      dD(device, u, dy, B, h, L, io, dD);
      device.stream().synchronize();
    }
  }

  /** dD[h] = sum_b sum_n dy u (fp32), queued. */
  static void dD(CudaDevice device, DeviceBuffer u, DeviceBuffer dy, int B, int H, int L, ElementType io, DeviceBuffer dD) {
    device.module(MODULE).kernel("fb_dD_" + io.tag()).launch(device.stream(), H, 1, 256, 0, u, dy, dD, B, H, L);
  }

  void close() {
    if (scratch != null) { device.stream().synchronize(); scratch.close(); scratch = null; }
  }

  @Override public String toString() { return "three-pass N1=" + n1 + " x M=" + m; }
}
