// Shapes: B batch, H channels, L length (causal, 16K < L <= 32K), N = 64K FFT size, M = N / 2 = 32K in-smem size.
//   u, y: (B, H, L) of the plan's element type; kf: (H, N) complex fp32 in the plan's three-pass order (inner size M3);
//   kf32: (H, N) complex fp32 in this kernel's order (flashbutterfly32.cu); D: (H) fp32.
package ai.longconv4j.cuda;

/**
 * The causal FlashButterfly forward at N = 64K in one fused kernel (flashbutterfly32.cu): causal zero padding leaves half
 * of the three-pass outer butterfly's input zero (N1 = 2), so one block per (batch pair, channel) runs the two 32K-point
 * in-shared-memory convolutions of the three-pass middle in turn, the outer butterfly folded into its loads and the
 * inverse one into its stores; u is read and y written once, no (pairs, H, N) scratch. The kernel spectrum is gathered
 * once per weight update from the plan's three-pass spectrum (which the three-pass backward keeps using) into a second
 * (H, N) complex fp32 buffer: 8 H N bytes (403 MB at H = 768).
 * Package-private: {@link FlashButterflyConv#fb32(boolean)} routes its causal tensor-core plans with N = 64K here (the
 * default; {@code -Dlongconv4j.cuda.fb32=off} turns it off); the three-pass forward is the slow twin.
 * <p>Kernel variants ({@link Variant}; same arguments, shared memory and spectrum): {@code _w3} (round 9c, the default on
 * sm_90 and newer) runs each 32K-point convolution as the one-pass {@code _w3b} kernels do (the radix-8 first stage and
 * the stage at S = 256 as one column FFT per warp in registers each way; {@link OuterStages}) and its global phases with
 * several 16-byte loads per thread in flight; {@code W3A} ({@code -Dlongconv4j.cuda.fb32.stages=w3a}) is that kernel
 * with round 9c-1's global phases (one or two loads in flight, flags bit 4); the round-8b kernel ({@code OLD}, no suffix,
 * {@code stages=old}) runs the {@code _w2} scheme, and is the one taken below sm_90 (the column units spilled there).
 */
final class FlashButterfly32 {
  /**
   * The system property that turns the route off ("off"); {@code PROPERTY + ".threads"}: threads per block;
   * {@code PROPERTY + ".stages"}: "w3" (default), "w3a" or "old", the {@link Variant} (read when the plan first runs
   * this route).
   */
  static final String PROPERTY = "longconv4j.cuda.fb32";
  /** The in-shared-memory size M and the FFT size N = 2M this kernel runs. */
  static final int M = FlashButterflyConv.MAX_N_ONE_PASS, N = 2 * M;
  /** Threads per block: at most 512 (the kernels take up to 128 registers); 512 by default, as the one-pass 32K kernel. */
  static final int MAX_THREADS = 512, DEFAULT_THREADS = 512;
  private static final String MODULE = "flashbutterfly32";

  private final CudaDevice device;
  private final int h, threads;
  private Variant variant;
  private DeviceBuffer kf32;
  private int version = Integer.MIN_VALUE;   // the plan's spectrum version kf32 was gathered from

  FlashButterfly32(CudaDevice device, int h) {
    this.device = device; this.h = h;
    this.threads = threadsFrom(System.getProperty(PROPERTY + ".threads"));
    this.variant = variantFrom(System.getProperty(PROPERTY + ".stages"), device.computeCapability());
  }

  /**
   * The forward kernel's variants. H200, B = 32, H = 768, L = 32K, bf16 I/O (bench-runs/f32-2, one process): OLD 12.270 ms,
   * W3A 8.155, W3 7.165 (PyTorch fp32 32.356 in f32-1); fp16 12.355 / 8.260 / 8.032; fp32 I/O 14.099 / 10.026 / 8.469.
   */
  enum Variant {
    /** Round 8b: conv_smem's two-stages-per-warp scheme ({@code fb32_fwd_<io>_<compute>}). */
    OLD,
    /** Round 9c-1 (sitting f32-1): the {@code _w3} kernel with one (fp32 I/O) or two (16-bit) 16-byte loads per thread in flight. */
    W3A,
    /** Round 9c-2 (f32-2): the {@code _w3} kernel with 4 loads per row and thread in flight, j = 0 without twiddle products. */
    W3
  }

  /**
   * The variant from the property's value: null or "w3" W3, "w3a" W3A, "old" OLD (any case, spaces trimmed); OLD below
   * sm_90 whatever the value. IllegalArgumentException for another value.
   */
  static Variant variantFrom(String value, int computeCapability) {
    Variant v = switch (value == null ? "w3" : value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "w3" -> Variant.W3;
      case "w3a" -> Variant.W3A;
      case "old" -> Variant.OLD;
      default -> throw new IllegalArgumentException("FlashButterfly32: " + PROPERTY + ".stages must be w3, w3a or old, got "
          + value);
    };
    return computeCapability >= 90 ? v : Variant.OLD;
  }

  /** Selects the kernel variant (below sm_90 the _w3 entry points run the old code). */
  FlashButterfly32 variant(Variant v) { variant = v; return this; }
  /** The kernel variant that runs. */
  Variant variant() { return variant; }

  /** Whether the route is on by default: unless the system property {@value #PROPERTY} is "off". */
  static boolean enabledByDefault() { return !"off".equalsIgnoreCase(System.getProperty(PROPERTY, "on").trim()); }

  /** Whether a plan of {@code mode}, FFT size {@code n} and {@code compute} can run this kernel. */
  static boolean applies(ConvMode mode, int n, Precision compute) {
    return mode == ConvMode.CAUSAL && n == N && compute != Precision.FP32;
  }

  /** Threads per block from the property's value (null: the default); IllegalArgumentException outside [32, 512]. */
  static int threadsFrom(String value) {
    int t = LaunchProperty.intValue("FlashButterfly32", PROPERTY + ".threads", value, DEFAULT_THREADS, 32, MAX_THREADS);
    if (t % 32 != 0)
      throw new IllegalArgumentException("FlashButterfly32: threads must be a multiple of 32 in [32, " + MAX_THREADS
          + "], got " + t);
    return t;
  }

  /** The forward kernel's name, e.g. "fb32_fwd_bf16_bf16_w3" ({@code outer}: W3, W3A) or "fb32_fwd_bf16_bf16" (OLD). */
  String kernelName(ElementType io, Precision compute) { return kernelName(io, compute, variant != Variant.OLD); }
  static String kernelName(ElementType io, Precision compute, boolean outer) {
    return "fb32_fwd_" + io.tag() + "_" + compute.tag() + (outer ? "_w3" : "");
  }

  /** Dynamic shared memory of one block: two 16-bit planes of M + M/32, the twiddle table and the per-lane table. */
  static int smemBytes() { return FlashButterflyConv.smemBytes(M, true) + FlashButterflyConv.pairTableBytes(M); }

  int threads() { return threads; }

  /**
   * y = conv(u, K) + D u (flags bit 1: conj(K), the adjoint du = K^T dy + D dy), queued on the device's stream. kf: the
   * plan's spectrum in the three-pass order of inner size {@code m3}, at version {@code kfVersion} (gathered into this
   * kernel's order, queued, when the version changed).
   */
  void forward(DeviceBuffer u, DeviceBuffer y, int B, int L, ElementType io, Precision compute, DeviceBuffer kf,
      int kfVersion, int m3, DeviceBuffer d, int flags) {
    if (L > M || 2 * L - 1 <= M)
      throw new IllegalArgumentException("FlashButterfly32: causal L must be in (" + (M / 2) + ", " + M + "], got " + L);
    if (version != kfVersion) {
      if (kf32 == null) kf32 = device.alloc(8L * h * N);
      device.module(MODULE).kernel("fb32_spectrum").launch(device.stream(), N / 256, h, 256, 0, kf, kf32,
          Integer.numberOfTrailingZeros(N), Integer.numberOfTrailingZeros(m3));
      version = kfVersion;
    }
    device.module(MODULE).kernel(kernelName(io, compute, variant != Variant.OLD)).launch(device.stream(), (B + 1) / 2, h,
        threads, smemBytes(), u, kf32, d, y, B, h, L, Integer.numberOfTrailingZeros(M), flags | (variant == Variant.W3A ? 16 : 0));
  }

  void close() {
    if (kf32 != null) { device.stream().synchronize(); kf32.close(); kf32 = null; }
  }

  @Override public String toString() { return "fb32 one pass 2 x M=" + M + " " + variant + ", " + threads + " threads"; }
}
