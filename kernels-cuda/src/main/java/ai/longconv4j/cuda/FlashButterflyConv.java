// Shapes: B batch, H channels, L sequence length, N FFT size (power of two, 32..2^19), M in-smem FFT size.
//   u, y: (B, H, L) row-major device arrays of the plan's ElementType; k: (H, Lk) fp32; D: (H) fp32.
//   The kernel spectrum lives on the device as (H, N) complex fp32 in Monarch (digit-reversed) order.
package ai.longconv4j.cuda;

/**
 * FlashButterfly long convolution on the GPU: up to 32K FFT points one fused kernel per call does the Monarch FFT of u
 * (radix-16 DFT blocks on tensor cores, the last two stages per warp in registers — see {@link #pairStages(boolean)} —
 * or fp32 CUDA cores for {@link Precision#FP32}), multiplies by the
 * kernel's spectrum in permuted order, runs the inverse, adds {@code D * u} and crops, all in shared memory.
 * The plan fixes H, L, the mode, the I/O type and the arithmetic once; {@code setWeights} computes the
 * kernel spectrum on the device. Larger FFTs (to 2^19 points: L = 256K causal) run the three-pass algorithm
 * ({@link ThreePass}: an outer butterfly, N1 in-shared-memory convolutions of M = 16K points, the inverse outer
 * butterfly), chosen by {@link #plan} above the largest FFT that fits in shared memory.
 * <pre>{@code
 * jshell> var conv = FlashButterflyConv.plan(dev, 768, 4096, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16)
 * conv ==> FlashButterflyConv[H=768, L=4096, N=8192, CAUSAL, io=BF16, compute=BF16, 128 threads, 39424 B smem (16-bit), 2 stages/warp]
 * jshell> conv.setWeights(k, 4096, d); conv.forward(u, y, 64);
 * jshell> conv.backward(u, dy, du, 64, dk, dD);   // du, dk, dD: one fused tensor-core kernel + one per channel
 * }</pre>
 */
public final class FlashButterflyConv implements AutoCloseable {
  /**
   * Smallest and largest FFT size. One fused kernel (N = R1 * 16^J, all in shared memory) handles up to 16K
   * points with fp32 shared memory ({@value #MAX_N_FP32_SMEM}) and 32K with 16-bit shared memory
   * ({@value #MAX_N_ONE_PASS}, tensor-core precisions only); beyond, three passes up to {@value #MAX_N}.
   */
  public static final int MIN_N = 32, MAX_N = 1 << 19, MAX_N_FP32_SMEM = 16384, MAX_N_ONE_PASS = 32768;
  /** The largest in-shared-memory FFT size of the three-pass plans (fp32 shared memory fits it). */
  public static final int THREE_PASS_INNER = 16384;
  private static final String MODULE = "flashbutterfly";

  private final CudaDevice device;
  private final int h, l, n, log2n;
  private final ConvMode mode;
  private final ElementType io;
  private final Precision compute;
  private final DeviceBuffer kf, d;
  private boolean weightsSet;
  private int threads, lk, perBlock;
  private boolean fused = true, smem16, pairStages = DEFAULT_PAIR_STAGES, outerStages = OuterStages.DEFAULT, og = OuterGlobal.enabledByDefault();
  private ThreePass three;   // null: one fused kernel
  private FlashButterfly32 fb32; private boolean fb32On = FlashButterfly32.enabledByDefault(); private int kfVersion;   // kf updates
  private FlashButterfly2K fb2k; private boolean fb2kOn = FlashButterfly2K.enabledByDefault();   // causal N <= 2K route
  private FlashButterflyConv(CudaDevice device, int h, int l, ConvMode mode, ElementType io, Precision compute) {
    this.device = device; this.h = h; this.l = l; this.mode = mode; this.io = io; this.compute = compute;
    this.n = fftSize(mode, l);
    this.log2n = Integer.numberOfTrailingZeros(n);
    this.kf = device.alloc(8L * h * n);
    this.d = device.alloc(4L * h);
    this.threads = OuterStages.threads(n, compute);   // one pass; innerSize resets it for three
    this.smem16 = defaultSmem16(n, compute);
    int oneMax = compute == Precision.FP32 ? MAX_N_FP32_SMEM : MAX_N_ONE_PASS;
    if (n > oneMax) innerSize(defaultInnerSize(n));
  }

  /**
   * The three-pass plans' default inner size: 8K points while N / 8K <= 32 (N <= 256K), else 16K. Measured on the H200
   * (bench-runs/run8, L = 64K, B = 16, H = 768, bf16): M = 8K 18.2 ms (mid pass 12.0 ms), 16K 20.2 ms (13.8), 4K 20.4.
   * At N = 512K, M = 8K (N1 = 64, the 8 x 8 outer kernels; {@code innerSize(8192)}) is slower: bench-runs/run10,
   * L = 256K, B = 4: 26.13 ms (outer passes 6.07 + 7.92 ms at 214-218 registers per thread) vs 21.35 ms with 16K.
   */
  public static int defaultInnerSize(int n) { return n / 8192 <= 32 ? 8192 : THREE_PASS_INNER; }

  /** The FFT size for {@code mode} and {@code L}; IllegalArgumentException when the fused kernel cannot do it. */
  public static int fftSize(ConvMode mode, int L) {
    if (L < 1) throw new IllegalArgumentException("FlashButterflyConv: L must be >= 1, got " + L);
    int need = switch (mode) {
      case CAUSAL -> Math.max(MIN_N, ceilPow2(2 * L - 1));
      case BIDIRECTIONAL -> Math.max(MIN_N, ceilPow2(2 * L));
      case CIRCULAR -> {
        if (Integer.bitCount(L) != 1 || L < MIN_N)
          throw new IllegalArgumentException("FlashButterflyConv CIRCULAR: L must be a power of two >= " + MIN_N + ", got " + L);
        yield L;
      }
    };
    if (need > MAX_N)
      throw new IllegalArgumentException("FlashButterflyConv " + mode + ": L=" + L + " needs an FFT of " + need
          + " points; FlashButterfly handles N <= " + MAX_N);
    return need;
  }
  private static int ceilPow2(int x) { return x <= 1 ? 1 : Integer.highestOneBit(x - 1) << 1; }
  /**
   * A plan for (H, L) in {@code mode}. Supported (io, compute): (F32, FP32), (F32, BF16), (F32, F16),
   * (BF16, BF16), (F16, F16).
   */
  public static FlashButterflyConv plan(CudaDevice device, int H, int L, ConvMode mode, ElementType io, Precision compute) {
    if (H < 1 || H > 65535) throw new IllegalArgumentException("FlashButterflyConv: H must be in [1, 65535], got " + H);
    boolean ok = io == ElementType.F32 || io.tag().equals(compute.tag());
    if (!ok) throw new IllegalArgumentException("FlashButterflyConv: io " + io + " with compute " + compute
        + " is not built; supported: F32 io with any compute, BF16 io with BF16, F16 io with F16");
    int nn = fftSize(mode, L);
    checkSupported(nn, compute);
    int inner = onePass(nn, compute) ? nn : THREE_PASS_INNER;
    int smem = smemBytes(inner, inner > MAX_N_FP32_SMEM);
    if (smem > device.maxSharedMemoryOptin())
      throw new IllegalArgumentException("FlashButterflyConv: N=" + nn + " needs " + smem + " B of shared memory, cuda:"
          + device.index() + " allows " + device.maxSharedMemoryOptin());
    return new FlashButterflyConv(device, H, L, mode, io, compute);
  }
  /** IllegalArgumentException when {@code compute} cannot run an FFT of {@code n} points (one or three passes). */
  public static void checkSupported(int n, Precision compute) {
    if (n > MAX_N || n < MIN_N || Integer.bitCount(n) != 1)
      throw new IllegalArgumentException("FlashButterflyConv: N=" + n + " with " + compute + ": need a power of two in ["
          + MIN_N + ", " + MAX_N + "]");
  }
  /** Whether an FFT of {@code n} points with {@code compute} runs in one fused kernel (else three passes). */
  public static boolean onePass(int n, Precision compute) {
    return n <= (compute == Precision.FP32 ? MAX_N_FP32_SMEM : MAX_N_ONE_PASS);
  }
  /**
   * The in-shared-memory FFT size: {@code M == N} runs one fused kernel (N must fit in shared memory); a smaller
   * power of two {@code M >= 32} with {@code N / M} in [2, 64] and {@code M <= 16K} runs the three-pass algorithm
   * (the plan's default above the one-pass sizes; smaller M forces it, e.g. to test it at small N). The threads
   * and storage defaults follow M.
   */
  public FlashButterflyConv innerSize(int M) {
    if (M == n) {
      if (!onePass(n, compute))
        throw new IllegalArgumentException("FlashButterflyConv.innerSize: N=" + n + " does not fit in shared memory with "
            + compute);
      if (three != null) three.close();
      three = null;
    } else {
      if (M > THREE_PASS_INNER)
        throw new IllegalArgumentException("FlashButterflyConv.innerSize: M=" + M + " > " + THREE_PASS_INNER);
      var t = new ThreePass(device, h, n, M);
      if (three != null) three.close();
      three = t;
    }
    threads = M == n ? OuterStages.threads(n, compute) : defaultThreads(M, compute);
    smem16 = defaultSmem16(M, compute);
    weightsSet = false;   // the spectrum's order depends on M
    return this;
  }
  /** The in-shared-memory FFT size (N for one-pass plans). */
  public int innerSize() { return three == null ? n : three.inner(); }
  /** Whether this plan runs the three-pass algorithm. */
  public boolean threePass() { return three != null; }
  /** Causal tensor-core plans at N = 64K: forward, backwardInput in one kernel ({@link FlashButterfly32}) or 3 passes (false). */
  public FlashButterflyConv fb32(boolean on) { fb32On = on; return this; }
  /** Whether the forward runs flashbutterfly32.cu's one fused kernel; the backward and kf's order stay the three-pass ones. */
  public boolean fb32() { return fb32On && fused && pairStages && three != null && FlashButterfly32.applies(mode, n, compute); }
  FlashButterfly32 fb32Route() { return fb32 != null ? fb32 : (fb32 = new FlashButterfly32(device, h)); }   // made on first use
  FlashButterfly2K fb2kRoute() { return fb2k != null ? fb2k : (fb2k = new FlashButterfly2K(device, n, compute)); }   // likewise
  /** Causal 16-bit plans, N = 512 - 2K, sm_90: forward + backwardInput on {@link FlashButterfly2K} (default; off or an old family: _w3/_w2). */
  public FlashButterflyConv fb2k(boolean on) { fb2kOn = on; return this; }
  public boolean fb2k() { return fb2kOn && three == null && pairStages() && outerStages && FlashButterfly2K.applies(mode, n, io, compute, device.computeCapability()); }
  ThreePass threePassPlan() { return three; }   // tests: the chunk budgets
  /**
   * Shared memory of one forward block: two planes of N + N/32 elements (fp32, or 16-bit when {@code s16}),
   * aligned to 16 bytes, then the twiddle table of monarch.cuh: 8 * (128 + max(1, N/128)) bytes.
   */
  static int smemBytes(int n, boolean s16) {
    return ((2 * (n + n / 32) * (s16 ? 2 : 4) + 15) & ~15) + 8 * (128 + Math.max(1, n / 128));
  }
  /** Extra shared memory of the two-stages-per-warp kernels (monarch.cuh pair_table_bytes): 16 x 32 float2, N >= 256. */
  static int pairTableBytes(int n) { return n >= 256 ? 16 * 32 * 8 : 0; }
  /** Shared memory of the dk/dD block: two fp32 planes and the twiddle table. */
  static int dkSmemBytes(int n) { return smemBytes(n, false); }
  /**
   * Default threads per block. FP32 (CUDA cores, 128 registers): one per radix-16 column, 64..512. Tensor cores
   * (64 registers): the fastest measured on the H200 (bench-runs/run4, B=64, H=768): 64 up to N = 2K, 128 at 4K-8K,
   * 256 at 16K, 512 at 32K — small blocks, several per multiprocessor, hide the stages' barriers best.
   */
  static int defaultThreads(int n, Precision compute) {
    return compute == Precision.FP32 ? Math.min(512, Math.max(64, n / 16)) : n <= 2048 ? 64 : n <= 8192 ? 128 : n <= 16384 ? 256 : 512;
  }

  /**
   * Default shared-memory storage: 16-bit for tensor-core plans from N = 2K, fp32 below and for FP32 plans. H200 (B=64,
   * H=768, bf16 I/O): one stage per pass 6.53 vs 8.79 ms at N = 16K, 2.98 vs 3.40 at 8K (bench-runs/run4); two stages per
   * warp 0.338 vs 0.378 at 2K (run12; run11: 0.402 vs 0.412), 4.20 vs 6.22 at 16K, 1.99 vs 2.38 at 8K. 4K: not measured.
   */
  static boolean defaultSmem16(int n, Precision compute) { return n > MAX_N_FP32_SMEM || (compute != Precision.FP32 && n >= 2048); }

  /** Threads per block of the forward kernel. */
  public int threads() { return threads; }
  /**
   * Overrides the threads per block: a multiple of 32 in [32, {@link #maxThreads()}]. Fewer threads per block leave
   * room for more blocks per multiprocessor; the tensor-core kernels with 16-bit I/O or 16-bit shared memory use
   * 64 registers per thread and take up to 1024 threads, the others up to 128 registers and 512 threads.
   */
  public FlashButterflyConv threads(int t) {
    if (t < 32 || t > 1024 || t % 32 != 0)
      throw new IllegalArgumentException("FlashButterflyConv.threads: need a multiple of 32 in [32, 1024], got " + t);
    threads = t;
    return this;
  }

  /** The most threads per block the plan's kernel takes (1024 for the 64-register kernels, else 512). */
  public int maxThreads() {
    return compute != Precision.FP32 && (three != null || io.bytes() == 2 || smem16) ? 1024 : 512;
  }

  /**
   * With tensor cores and N >= 256, whether the last forward stage, the product with the spectrum and the
   * first inverse stage run as one pass (default) or as three passes through shared memory (the unfused twin;
   * it runs one stage per pass, whatever {@link #pairStages(boolean)} says).
   */
  public FlashButterflyConv fused(boolean on) { fused = on; return this; }
  public boolean fused() { return fused; }
  /**
   * Default of {@link #pairStages(boolean)}: on (H200, bench-runs/run12, B = 64, H = 768, bf16 I/O, causal, one stage
   * per pass -> two per warp: L = 1K 0.817 -> 0.378 ms, 4K 2.895 -> 1.985, 8K 6.506 -> 4.199, 16K 17.148 -> 10.278).
   * PAIR_MAX_THREADS: the most threads per block of the two-stages-per-warp kernels (80 registers).
   */
  public static final boolean DEFAULT_PAIR_STAGES = true;
  public static final int PAIR_MAX_THREADS = 768;

  /**
   * Tensor-core plans, in-smem FFT >= 256 points: the last two radix-16 stages, the product and the first two inverse
   * stages per warp in registers (the {@code _w2} kernels: 256-point chunks, no block barrier between the stages; also
   * an in-register first stage and 16-byte global accesses), or one stage per shared-memory pass (the slow twin, also
   * taken with {@code fused(false)} or more than {@value #PAIR_MAX_THREADS} threads). Ignored by FP32 plans.
   */
  public FlashButterflyConv pairStages(boolean on) { pairStages = on; return this; }
  /** With {@link #pairStages()}, one pass: fewer passes on the outer stages ({@code _w3}, default) or not ({@code _w2}). */
  public FlashButterflyConv outerStages(boolean on) { outerStages = on; return this; }
  /** Batch pairs per block of the {@code _w3} kernels at N <= 2K, one after the other (0: the default, OuterStages). */
  public FlashButterflyConv pairsPerBlock(int p) { perBlock = OuterStages.checkPerBlock(p); return this; }
  /** N = 8K, 16K, 2L <= N, sm_90: outer stages from/to global memory ({@link OuterGlobal}, default; -Dlongconv4j.cuda.og=off) or the _w3 twin. */
  public FlashButterflyConv outerGlobal(boolean on) { og = on; return this; }
  boolean outerGlobal() { return og && outerStages && three == null && pairStages() && smem16 && OuterGlobal.applies(n, l, compute, threads, device.computeCapability()); }
  /** Whether this plan runs the two-stages-per-warp kernels (see {@link #pairStages(boolean)}). */
  public boolean pairStages() { return pairStages && fused && compute != Precision.FP32 && innerSize() >= 256 && threads <= PAIR_MAX_THREADS; }

  /**
   * Whether the forward keeps the FFT in 16-bit shared memory (always above {@value #MAX_N_FP32_SMEM} points;
   * optional below, for tensor-core precisions: half the shared memory, so more blocks per multiprocessor, at the
   * cost of one extra rounding of the inverse stages' inputs).
   */
  public FlashButterflyConv smem16(boolean on) {
    if (!on && innerSize() > MAX_N_FP32_SMEM)
      throw new IllegalArgumentException("FlashButterflyConv.smem16: N=" + n + " needs 16-bit shared memory");
    if (on && compute == Precision.FP32)
      throw new IllegalArgumentException("FlashButterflyConv.smem16: Precision.FP32 keeps fp32 shared memory");
    smem16 = on;
    return this;
  }
  /** Whether the forward's FFT is kept in 16-bit shared memory. */
  public boolean smem16() { return smem16; }

  /** Kernel for CAUSAL / CIRCULAR: k (H, Lk) with Lk <= L, D (H). */
  public FlashButterflyConv setWeights(float[] k, int Lk, float[] D) {
    if (mode == ConvMode.BIDIRECTIONAL)
      throw new IllegalArgumentException("FlashButterflyConv BIDIRECTIONAL: pass two kernels k0, k1");
    checkKernel("k", k, Lk);
    lk = Lk;
    if (three != null) {   // the outer pass zero-pads rows of Lk taps itself
      if (D.length != h) throw new IllegalArgumentException("FlashButterflyConv.setWeights: D must be (H=" + h + "), got " + D.length);
      d.copyFrom(D);
      try (DeviceBuffer t = device.upload(k)) { three.spectrum(t, Lk, kf); }
      weightsSet = true; kfVersion++;
      return this;
    }
    float[] kt = new float[h * n];
    for (int c = 0; c < h; c++) System.arraycopy(k, c * Lk, kt, c * n, Lk);
    return upload(kt, D);
  }

  /** Kernel for BIDIRECTIONAL: k0 (H, Lk) for lags 0..Lk-1, k1 (H, Lk) for lags -1..-Lk; D (H). */
  public FlashButterflyConv setWeights(float[] k0, float[] k1, int Lk, float[] D) {
    if (mode != ConvMode.BIDIRECTIONAL)
      throw new IllegalArgumentException("FlashButterflyConv " + mode + ": takes one kernel");
    checkKernel("k0", k0, Lk);
    checkKernel("k1", k1, Lk);
    lk = Lk;
    float[] kt = new float[h * n];
    for (int c = 0; c < h; c++)
      for (int j = 0; j < Lk; j++) {
        kt[c * n + j] += k0[c * Lk + j];
        kt[c * n + n - 1 - j] += k1[c * Lk + j];   // lag -(j+1) wraps to N-1-j
      }
    return upload(kt, D);
  }

  private void checkKernel(String name, float[] k, int Lk) {
    if (Lk < 1 || Lk > l || k.length != h * Lk)
      throw new IllegalArgumentException("FlashButterflyConv.setWeights: " + name + " must be (H=" + h + ", Lk<=" + l
          + "), got " + k.length + " values for Lk=" + Lk);
  }

  private FlashButterflyConv upload(float[] kt, float[] D) {
    if (D.length != h) throw new IllegalArgumentException("FlashButterflyConv.setWeights: D must be (H=" + h + "), got " + D.length);
    d.copyFrom(D);
    try (DeviceBuffer t = device.upload(kt)) {
      int threads = Math.min(256, Math.max(64, n / 16));
      if (three != null) {
        three.spectrum(t, n, kf);
      } else if (n <= MAX_N_FP32_SMEM) {
        device.module(MODULE).kernel("fb_spectrum").launch(device.stream(), h, 1, threads, 8 * (n + n / 32), t, kf, log2n);
      } else {   // fp32 stages on a global scratch: the spectrum stays fp32-accurate
        try (DeviceBuffer scratch = device.alloc(8L * h * (n + n / 32))) {
          device.module(MODULE).kernel("fb_spectrum_global").launch(device.stream(), h, 1, threads, 0, t, scratch, kf, log2n);
          device.stream().synchronize();
        }
      }
      device.stream().synchronize();   // kt goes back to the cache only after the kernel used it
    }
    weightsSet = true; kfVersion++;
    return this;
  }

  /** The forward kernel's name for this plan, e.g. "fb_conv_fwd_bf16_bf16_s16_w3", "fbk_fwd_bf16" (fb2k), "fb32_fwd_bf16_bf16_w3". */
  public String kernelName() { return fb2k() ? fb2kRoute().kernelName() : fb32() ? fb32Route().kernelName(io, compute) : stepKernel(); }
  private String stepKernel() {   // the _w2/_w3/og family's kernel, or the three-pass middle's (also what forwardPassTimes runs)
    if (outerGlobal()) return OuterGlobal.kernelName(io, compute, n);
    String w2 = pairStages() ? three == null ? OuterStages.suffix(n, threads, outerStages && device.computeCapability() >= 90) : "_w2" : "";
    if (three != null) return "fb3_mid_" + compute.tag() + (smem16 ? "_s16" : "") + w2;
    return "fb_conv_fwd_" + io.tag() + "_" + compute.tag() + (smem16 ? "_s16" : "") + w2;
  }

  /**
   * y = causal/bidirectional/circular conv(u, k) + D * u, queued on the device's stream. u and y are
   * (B, H, L) of the plan's element type and must not overlap.
   */
  public void forward(DeviceBuffer u, DeviceBuffer y, int B) { launch("forward", u, y, B, 0); }

  /**
   * The backward pass for the input: du = K^T dy + D * dy (the adjoint convolution: the same kernel with the
   * conjugate spectrum), queued on the device's stream. dy and du are (B, H, L) of the plan's element type.
   * The kernel and D gradients come from {@link #backwardWeights}.
   */
  public void backwardInput(DeviceBuffer dy, DeviceBuffer du, int B) { launch("backwardInput", dy, du, B, 2); }

  /**
   * The backward pass for the weights, queued on the device's stream: {@code dk[h, j] = sum_b sum_n dy[b,h,n]
   * u[b,h,n-j]} (the correlation of u and dy, computed in frequency with fp32 FFTs; lags wrap mod L in CIRCULAR
   * mode) and {@code dD[h] = sum_b sum_n dy[b,h,n] u[b,h,n]}. u and dy are (B, H, L) of the plan's element type;
   * dk is (H, Lk) fp32 — for BIDIRECTIONAL (2, H, Lk): the gradient of k0, then of k1 —, dD is (H) fp32, both
   * overwritten. Uses a workspace of 16 * H * N bytes (one pass, N <= {@value #MAX_N_FP32_SMEM}) or 24 * H * N
   * bytes (three passes: above that, or when {@link #innerSize(int)} chose them). Synchronises before returning.
   */
  public void backwardWeights(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer dk, DeviceBuffer dD) {
    if (!weightsSet) throw new IllegalStateException("FlashButterflyConv.backwardWeights: call setWeights first");
    long need = (long) B * h * l * io.bytes();
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (B < 1 || u.bytes() < need || dy.bytes() < need)
      throw new IllegalArgumentException("FlashButterflyConv.backwardWeights: u and dy must hold (B=" + B + ", H=" + h
          + ", L=" + l + ") " + io + " = " + need + " bytes, got " + u.bytes() + " and " + dy.bytes());
    if (dk.bytes() < 4L * parts * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("FlashButterflyConv.backwardWeights: dk must hold (" + (parts == 2 ? "2, " : "")
          + "H=" + h + ", Lk=" + lk + ") fp32 and dD (H=" + h + ") fp32, got " + dk.bytes() + " and " + dD.bytes() + " bytes");
    if (three != null || n > MAX_N_FP32_SMEM) {   // fp32 shared memory holds at most 16K points
      var tp = three != null ? three : new ThreePass(device, h, n, THREE_PASS_INNER);
      tp.weights(u, dy, B, l, io, lk, parts == 2, dk, dD);
      return;
    }
    int t = Math.min(512, Math.max(64, n / 16));
    try (DeviceBuffer scratch = device.alloc(16L * h * n)) {
      device.module(MODULE).kernel("fb_conv_dk_" + io.tag()).launch(device.stream(), h, 1, t, dkSmemBytes(n), u, dy, dk,
          dD, scratch, B, h, l, lk, log2n, parts - 1);
      device.stream().synchronize();   // the scratch goes back to the cache only after the kernel used it
    }
  }

  private void launch(String op, DeviceBuffer u, DeviceBuffer y, int B, int flags) {
    if (!weightsSet) throw new IllegalStateException("FlashButterflyConv.forward: call setWeights first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || u.bytes() < need || y.bytes() < need)
      throw new IllegalArgumentException("FlashButterflyConv." + op + ": input and output must hold (B=" + B + ", H=" + h + ", L=" + l
          + ") " + io + " = " + need + " bytes, got " + u.bytes() + " and " + y.bytes());
    if (threads > maxThreads())
      throw new IllegalArgumentException("FlashButterflyConv." + op + ": " + threads + " threads per block; " + stepKernel()
          + " takes at most " + maxThreads());
    if (three != null) {
      if (fb32()) fb32Route().forward(u, y, B, l, io, compute, kf, kfVersion, three.inner(), d, flags);
      else three.forward(u, y, B, l, io, stepKernel(), smem16, threads, kf, d, (fused ? 1 : 0) | flags, compute.tag());
      return;
    }
    if (fb2k()) { fb2kRoute().forward(u, y, B, h, l, kf, d, flags); return; }
    if (outerGlobal()) { OuterGlobal.launch(device, io, compute, u, kf, d, y, B, h, l, n, threads, perBlock, flags); return; }
    int per = stepKernel().endsWith("_w3") ? OuterStages.perBlock(n, perBlock) : 1;   // batch pairs per block
    device.module(MODULE).kernel(stepKernel())
        .launch(device.stream(), ((B + 1) / 2 + per - 1) / per, h, threads, smemBytes(n, smem16) + (pairStages() ? pairTableBytes(n) : 0), u, kf, d, y, B, h, l, log2n,
            (fused ? 1 : 0) | flags | per << 8);
  }

  /**
   * Three-pass plans: the forward's time per pass in ms {outer butterfly, N1 in-smem convolutions, inverse outer},
   * measured with CUDA events around each launch (synchronises); for profiling. Empty for one-pass plans.
   */
  public double[] forwardPassTimes(DeviceBuffer u, DeviceBuffer y, int B) {
    if (three == null) return new double[0];
    if (!weightsSet) throw new IllegalStateException("FlashButterflyConv.forwardPassTimes: call setWeights first");
    double[] ms = new double[3];
    three.forward(u, y, B, l, io, stepKernel(), smem16, threads, kf, d, fused ? 1 : 0, compute.tag(), ms);
    return ms;
  }
  public int fftSize() { return n; }
  public ConvMode mode() { return mode; }
  public ElementType io() { return io; }
  public Precision compute() { return compute; }

  @Override public void close() {
    if (three != null) three.close();
    if (fb32 != null) fb32.close(); if (fb2k != null) fb2k.close();
    device.stream().synchronize();
    for (DeviceBuffer b : new DeviceBuffer[] {bwdAcc, bwdZg, bwdFin}) if (b != null) b.close();
    kf.close(); d.close();
  }

  @Override public String toString() {
    return "FlashButterflyConv[H=" + h + ", L=" + l + ", N=" + n + ", " + mode + ", io=" + io + ", compute=" + compute
        + (three != null ? ", " + three : "") + ", " + threads + " threads, "
        + (smemBytes(innerSize(), smem16) + (pairStages() ? pairTableBytes(innerSize()) : 0)) + " B smem"
        + (smem16 ? " (16-bit)" : "")
        + (fused ? "" : ", unfused") + (pairStages() ? ", 2 stages/warp" + (stepKernel().contains("_w3") ? ", outer paired" : outerGlobal() ? ", outer global" : "") : "") + (fb32() ? ", one pass (fb32)" : "") + (fb2k() ? ", " + fb2kRoute() : "") + "]";
  }

  // ---- device-side weights (added for the tensor backend; the methods above are unchanged) ----------------------

  /**
   * Sets the kernel from device memory, computing its spectrum on the GPU (no host copy, no synchronisation; queued
   * on the device's stream, so {@code taps} and {@code D} must stay allocated until the queued work ran — stream
   * order makes any later reuse safe). {@code taps} is (H, N) fp32 in the plan's FFT layout: side 0 (k, or k0) at
   * {@code [h * N + j]}, j < Lk; for BIDIRECTIONAL k1 (lag -(j+1)) at {@code [h * N + N - 1 - j]}; zeros elsewhere.
   * {@code Lk} is the taps per side (the size of {@link #backwardWeights}' dk); D is (H) fp32. Plans with
   * N > {@value #MAX_N_FP32_SMEM} (one-pass 32K with 16-bit shared memory, and three-pass) synchronise: the spectrum's
   * fp32 scratch is freed.
   */
  public FlashButterflyConv setWeightsOnDevice(DevicePointer taps, int Lk, DevicePointer D) {
    if (Lk < 1 || Lk > n) throw new IllegalArgumentException("FlashButterflyConv.setWeightsOnDevice: Lk=" + Lk + " not in [1, N=" + n + "]");
    lk = Lk;
    device.makeCurrent();
    Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(d.ptr(), D, 4L * h, device.stream().cu()), "cuMemcpyDtoDAsync",
        "D (H=" + h + ")", "device " + device.index());
    int threads = Math.min(256, Math.max(64, n / 16));
    if (three != null) {   // three-pass plans: the spectrum in their (k1, inner) order; this path synchronises
      three.spectrum(taps, n, kf);
    } else if (n <= MAX_N_FP32_SMEM) {
      device.module(MODULE).kernel("fb_spectrum").launch(device.stream(), h, 1, threads, 8 * (n + n / 32), taps, kf, log2n);
    } else {   // one-pass 32K plans (16-bit shared memory): fp32 stages on a global scratch, as in setWeights; synchronises
      try (DeviceBuffer scratch = device.alloc(8L * h * (n + n / 32))) {
        device.module(MODULE).kernel("fb_spectrum_global").launch(device.stream(), h, 1, threads, 0, taps, scratch, kf, log2n);
        device.stream().synchronize();   // the scratch goes back to the cache only after the kernel used it
      }
    }
    weightsSet = true; kfVersion++;
    return this;
  }

  /** The length L this plan was made for. */ public int length() { return l; }
  /** Times the weights were set (any setWeights*): the same count later means nobody replaced them (the op's backward). */
  public int weightsVersion() { return kfVersion; }
  // ---- fused tensor-core backward (flashbutterfly_bwd.cu) ----------------------------------------------------------
  private static final String MODULE_BWD = "flashbutterfly_bwd";
  private boolean fusedBackward = true, bwdFusedMiddle = true, fusedBackward32K = true, threePassBackward = true;
  private int bwdThreads;
  private Boolean bwdSmem16;
  // kept by the plan: acc (H, N) float2; at N = 32K u's spectra ((ceil(B/2) * H) slots of 2 (N + N/32) 16-bit values)
  private DeviceBuffer bwdAcc, bwdZg, bwdFin;   // and the finishing inverse FFT's fp32 planes (H, 2, N + N/32)

  /**
   * Whether {@link #backward} runs the fused tensor-core kernel (default, where {@link #fusedBackwardApplies}) or
   * {@link #backwardInput} and the fp32 {@link #backwardWeights} (the slow twin, fp32-accurate dk).
   */
  public FlashButterflyConv fusedBackward(boolean on) { fusedBackward = on; return this; }
  /** Fused backward with its middle stages fused (default) or the products as their own pass (the unfused twin). */
  public FlashButterflyConv fusedBackwardMiddle(boolean on) { bwdFusedMiddle = on; return this; }
  /** Threads per block of the fused backward (0: the default, {@link #defaultBwdThreads}). */
  public FlashButterflyConv backwardThreads(int t) {
    if (t != 0 && (t < 32 || t > bwdMaxThreads() || t % 32 != 0))
      throw new IllegalArgumentException("FlashButterflyConv.backwardThreads: need 0 or a multiple of 32 in [32, "
          + bwdMaxThreads() + "], got " + t);
    bwdThreads = t;
    return this;
  }

  /** 16-bit shared memory for the fused backward's two spectra (null: the default, {@link #defaultBwdSmem16}). */
  public FlashButterflyConv backwardSmem16(Boolean on) {
    if (Boolean.FALSE.equals(on) && n > MAX_N_FP32_SMEM / 2)
      throw new IllegalArgumentException("FlashButterflyConv.backwardSmem16: N=" + n + " needs 16-bit shared memory for two spectra");
    bwdSmem16 = on;
    return this;
  }

  /**
   * The fused backward applies: tensor cores, one-pass plans up to {@value #MAX_N_FP32_SMEM} points (both spectra in shared
   * memory) and at 32K (u's spectrum through a global scratch, the "_zg" kernels) unless {@link #fusedBackwardAt32K} is
   * off; three-pass plans through {@link ThreePass#backward} (flashbutterfly3_bwd.cu) unless {@link #threePassBackward} is.
   */
  public boolean fusedBackwardApplies() {
    if (three != null) return threePassBackward && compute != Precision.FP32 && three.backwardFits(smem16);
    return compute != Precision.FP32 && (n <= MAX_N_FP32_SMEM || (fusedBackward32K && n <= MAX_N_ONE_PASS));
  }

  /** Three-pass plans: the tensor-core backward (default on; H200 figures in BENCH-RESULTS.md) or the fp32 twin path. */
  public FlashButterflyConv threePassBackward(boolean on) { threePassBackward = on; return this; }

  /** Three-pass plans: the tensor-core backward's ms per step {u outer, dy outer, middle, du outer inverse, dk finish, dD}
   * (CUDA events around each launch, synchronising; for profiling); empty for one-pass plans. */
  public double[] backwardPassTimes(DeviceBuffer u, DeviceBuffer dy, DeviceBuffer du, int B, DeviceBuffer dk, DeviceBuffer dD) {
    if (three == null || !weightsSet) return new double[0];
    double[] ms = new double[6];
    three.backward(u, dy, du, B, l, io, compute.tag(), smem16, bwdW2(), bwdThreads != 0 ? bwdThreads : defaultBwdThreads(innerSize()),
        kf, d, lk, mode == ConvMode.BIDIRECTIONAL, bwdFusedMiddle ? 1 : 0, dk, dD, ms);
    return ms;
  }

  /**
   * The fused backward at N = 32K (default on): u's spectrum and the finishing inverse FFT go through global scratches.
   * H200 (bench-runs/final-s4, B = 64, H = 768, L = 16K): all 24 FlashButterflyBackwardGpuTest 32K cases passed; 29.5
   * ms vs 52.0 for backwardInput + the fp32 backwardWeights (fwd + bwd 39.7 vs 62.3 ms). {@code false}: the unfused path.
   */
  public FlashButterflyConv fusedBackwardAt32K(boolean on) { fusedBackward32K = on; return this; }

  /**
   * Default threads of the fused backward: 64 up to N = 1K, 128 at 2K-4K, 256 at 8K, 512 from 16K — the fastest of
   * 64..768 measured on the H200 (bench-runs/fbbwd2, B = 64, H = 768, L = N/2: 1.20 ms at 2K with 128 vs 1.29 with 64;
   * 4.81 at 8K with 256 vs 5.25 (128) and 6.10 (512); 11.84 at 16K with 512 vs 12.16 (768) and 13.64 (256)).
   */
  static int defaultBwdThreads(int n) { return n <= 1024 ? 64 : n <= 4096 ? 128 : n <= 8192 ? 256 : 512; }
  /**
   * Default storage of the fused backward's spectra: 16-bit from 4K points (two spectra: twice the forward's shared
   * memory), fp32 below: measured (bench-runs/fbbwd2) equal within 1 % at N = 512 and 2K, 6.10 (16-bit) vs 6.44 ms at 8K.
   */
  static boolean defaultBwdSmem16(int n) { return n >= 4096; }
  /** Shared memory of the fused backward: four planes (two complex spectra; at 32K two: one) and the twiddle table. */
  static int bwdSmemBytes(int n, boolean s16) {
    if (n > MAX_N_FP32_SMEM) return smemBytes(n, true);
    return ((4 * (n + n / 32) * (s16 ? 2 : 4) + 15) & ~15) + 8 * (128 + Math.max(1, n / 128));
  }

  private boolean bwdW2() { return pairStages && bwdFusedMiddle && compute != Precision.FP32 && innerSize() >= 256; }   // 3-pass _w2
  private boolean bwdS16() { return n > MAX_N_FP32_SMEM || (bwdSmem16 != null ? bwdSmem16 : defaultBwdSmem16(n)); }

  /** 768 for the 80-register kernels (16-bit I/O or storage) on sm_90, else 512 (flashbutterfly_bwd.cu). */
  private int bwdMaxThreads() {
    return three != null ? three.backwardMaxThreads(smem16, bwdW2()) : (io.bytes() == 2 || bwdS16()) && device.computeCapability() >= 90 ? 768 : 512;
  }

  /** The fused backward kernel's name for this plan, e.g. "fb_bwd_bf16_bf16_s16" ("_zg": N = 32K). */
  public String backwardKernelName() {
    if (three != null) return ThreePass.backwardKernelName(compute.tag(), smem16, bwdW2());
    return "fb_bwd_" + io.tag() + "_" + compute.tag() + (bwdS16() ? "_s16" : "") + (n > MAX_N_FP32_SMEM ? "_zg" : "");
  }

  /**
   * The whole backward in one call: {@code du = K^T dy + D dy} (skipped when {@code du} is null), {@code dk} and
   * {@code dD} as {@link #backwardWeights} defines them. Where {@link #fusedBackwardApplies} (and {@link #fusedBackward}
   * is on) on tensor cores: one kernel per (batch pair, channel) (one pass; at 32K u's spectra through a kept scratch of
   * {@code ceil(B/2) * H * 4 * (N + N/32)} bytes) or {@link ThreePass#backward}, {@code conj(Zu) Zd} summed in an fp32
   * accumulator and inverted per channel: dk to ~5e-3 (bf16). Else backwardInput + backwardWeights (synchronises).
   */
  public void backward(DeviceBuffer u, DeviceBuffer dy, DeviceBuffer du, int B, DeviceBuffer dk, DeviceBuffer dD) {
    if (!(fusedBackward && fusedBackwardApplies())) {
      if (du != null) backwardInput(dy, du, B);
      backwardWeights(u, dy, B, dk, dD);
      return;
    }
    if (!weightsSet) throw new IllegalStateException("FlashButterflyConv.backward: call setWeights first");
    long need = (long) B * h * l * io.bytes();
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    if (B < 1 || u.bytes() < need || dy.bytes() < need || (du != null && du.bytes() < need))
      throw new IllegalArgumentException("FlashButterflyConv.backward: u, dy and du must hold (B=" + B + ", H=" + h
          + ", L=" + l + ") " + io + " = " + need + " bytes, got " + u.bytes() + ", " + dy.bytes() + " and "
          + (du == null ? "no du" : du.bytes()));
    if (dk.bytes() < 4L * parts * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("FlashButterflyConv.backward: dk must hold (" + (parts == 2 ? "2, " : "")
          + "H=" + h + ", Lk=" + lk + ") fp32 and dD (H=" + h + ") fp32, got " + dk.bytes() + " and " + dD.bytes() + " bytes");
    int t = bwdThreads != 0 ? bwdThreads : defaultBwdThreads(innerSize());
    if (t > bwdMaxThreads())
      throw new IllegalArgumentException("FlashButterflyConv.backward: " + t + " threads per block; " + backwardKernelName()
          + " takes at most " + bwdMaxThreads());
    if (three != null) {
      three.backward(u, dy, du, B, l, io, compute.tag(), smem16, bwdW2(), t, kf, d, lk, parts == 2, bwdFusedMiddle ? 1 : 0, dk, dD, null);
      return;
    }
    if (bwdAcc == null) bwdAcc = device.alloc(8L * h * n);
    device.makeCurrent();
    var cu = device.stream().cu();
    Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(bwdAcc.ptr(), 0, 2L * h * n, cu), "cuMemsetD32Async", "acc (H=" + h
        + ", N=" + n + ")", "device " + device.index());
    Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(dD.ptr(), 0, h, cu), "cuMemsetD32Async", "dD (H=" + h + ")",
        "device " + device.index());
    int flags = (bwdFusedMiddle ? 1 : 0) | (du == null ? 4 : 0);
    DeviceBuffer zg = bwdAcc;   // unused below 32K points
    if (n > MAX_N_FP32_SMEM) {
      long need2 = (long) ((B + 1) / 2) * h * 2L * (n + n / 32) * 2;
      if (bwdZg == null || bwdZg.bytes() < need2) {
        if (bwdZg != null) { device.stream().synchronize(); bwdZg.close(); }
        bwdZg = device.alloc(need2);
      }
      zg = bwdZg;
    }
    device.module(MODULE_BWD).kernel(backwardKernelName()).launch(device.stream(), (B + 1) / 2, h, t, bwdSmemBytes(n, bwdS16()),
        u, dy, kf, d, du == null ? dy : du, bwdAcc, dD, zg, B, h, l, log2n, flags);
    int tf = Math.min(512, Math.max(64, n / 16));
    if (n <= MAX_N_FP32_SMEM) {
      device.module(MODULE_BWD).kernel("fb_bwd_dk_finish").launch(device.stream(), h, 1, tf, dkSmemBytes(n), bwdAcc, dk, h,
          lk, log2n, parts - 1);
    } else {
      if (bwdFin == null) bwdFin = device.alloc(8L * h * (n + n / 32));
      device.module(MODULE_BWD).kernel("fb_bwd_dk_finish_global").launch(device.stream(), h, 1, tf, 0, bwdAcc, bwdFin, dk, h,
          lk, log2n, parts - 1);
    }
  }
}
