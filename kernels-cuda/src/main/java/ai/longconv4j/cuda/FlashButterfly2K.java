// Shapes: B batch, H channels, L length (causal: 2L <= N), N FFT size in {512, 1K, 2K} (N = R1 * 256, R1 in {2, 4, 8}).
//   u, y: (B, H, L) row-major, bf16 or fp16 (the compute type); kf: (H, N) complex fp32 in the Monarch order of
//   monarch.cuh (the plan's spectrum); D: (H) fp32; tables: 4 * (4096 + 1024 R1) bytes per (N, compute type).
package ai.longconv4j.cuda;

/**
 * The causal FlashButterfly forward at N = 512, 1K and 2K with every stage on tensor cores (flashbutterfly2k.cu): one
 * warp per batch pair (a block's warps share the channel's spectrum, staged in shared memory); the first stage (radix R1 over the zero-padded input) and its inverse are
 * 16 x 16 x 16 MMAs whose matrices carry part of the first stage's twiddles (the rest rides on the S = 256 stage's),
 * the MMA fragments move between registers and shared memory with ldmatrix / stmatrix, u is staged with cp.async (the
 * next pair's while the current one finishes), and the skip term D u rides through the FFTs as the kernel's lag-0 tap
 * (the block's staged spectrum is (Kf + D) / 16): u is read once. The default kernels ({@code _hw}, {@link Twiddles})
 * also keep the S = 256 twiddles in shared memory and store y in 16-byte rows.
 * Reached from {@link FlashButterflyConv#fb2k(boolean)} (default on; {@code -Dlongconv4j.cuda.fb2k=off} turns it
 * off) for causal 16-bit plans on sm_90 whose default kernel family would be the {@code _w3} kernels: those are its
 * slow twin (also chosen with {@code fused(false)}, {@code pairStages(false)} or {@code outerStages(false)}).
 * The kernel also serves backwardInput (the conjugate spectrum); the fused backward keeps its own kernels.
 */
final class FlashButterfly2K {
  /**
   * The system property that turns the route off ("off"); {@code PROPERTY + ".warps"} / {@code ".perwarp"}: launch shape;
   * {@code PROPERTY + ".tw"}: where the S = 256 twiddles come from, {@link Twiddles} ("table", "half", "hp", "hw" default);
   * {@code PROPERTY + ".halftw"} = "true" (older spelling): "half" when {@code .tw} is unset.
   */
  static final String PROPERTY = "longconv4j.cuda.fb2k";
  /**
   * Warps per block (a block's warps take consecutive batch pairs of one channel): 1 .. {@value #MAX_WARPS}. Default 8
   * warps x {@value #DEFAULT_PER_WARP} pairs: H200, bench-runs/f2k-2 (B = 64, H = 768, causal, bf16, L = 1K / 256):
   * 0.266 / 0.109 ms; 4 x 4 0.267 / 0.109, 8 x 2 0.270 / 0.108, 2 x 4 0.301 / 0.110, 4 x 8 0.347 / 0.118 (the _w3 twin:
   * 0.308 / 0.111; PyTorch fp32 1.598 / 0.464).
   */
  static final int DEFAULT_WARPS = 8, MAX_WARPS = 8;
  /** Batch pairs per warp, one after the other (the next pair's u is staged during the current one): 1 .. 255. */
  static final int DEFAULT_PER_WARP = 4;
  /** The FFT sizes the kernel takes. */
  static final int MIN_N = 512, MAX_N = 2048;
  private static final String MODULE = "flashbutterfly2k";
  private static final int CHUNK_STRIDE = 264;   // flashbutterfly2k.cu CS: 16-bit elements per 256-point chunk

  private final CudaDevice device;
  private final int n, log2n, warps, perWarp;
  private final Twiddles twiddles;

  /**
   * Where the kernel's S = 256 twiddles come from (8 per lane, chunk and direction): each value its kernel-name suffix.
   * TABLE: an fp32 table (bench-runs/f2k-2); HALF: a half2 table ({@code _ht}: half the L1 footprint; the default);
   * HALF_PIPELINED ({@code _hp}, session 8): the half2 table copied into shared memory next to the spectrum (8 N bytes
   * more per block), S1's and S1^-1's A fragments loaded 2 / 4 MMA steps ahead in registers of their own, all loads
   * unconditional, the first pair's u staged before the spectrum, the spectrum read past L1 (bench-runs/f1k-1: the
   * profile put the default's stalls on table loads the compiler had sunk next to their use). Session 7's REG
   * ({@code _rt}, twiddles computed in registers) measured slower (0.241 vs 0.212 ms at L = 1K) and was removed.
   * HALF_WIDE ({@code _hw}): HALF_PIPELINED with 16-byte y stores (a quad transpose of two MMA steps' outputs by
   * shuffles, 4x fewer store instructions) and the next pair's u staged by all 32 lanes every other step (when L % 8 ==
   * 0 and the rows are 16-byte aligned; else element-wise as the others).
   */
  enum Twiddles {
    TABLE(""), HALF("_ht"), HALF_PIPELINED("_hp"), HALF_WIDE("_hw");
    /** Whether the kernel keeps a copy of the half2 twiddles in shared memory (8 N bytes more per block). */
    boolean sharedTwiddles() { return this == HALF_PIPELINED || this == HALF_WIDE; }
    final String suffix;
    Twiddles(String suffix) { this.suffix = suffix; }
  }

  /**
   * The twiddle source when {@code PROPERTY + ".tw"} (and ".halftw") is unset: HALF_WIDE ({@code _hw}). Sitting f1k-2
   * (session 8, H200, B = 64, H = 768, causal, bf16, ms; bench-runs/f1k-2) ran every variant through
   * FlashButterfly2KGpuTest (55/55 three times: default, tw=hp, tw=hw) and timed them in one process, L = 1K / 512 /
   * 256: half2 ({@code _ht}, session 7's default) 0.208 / 0.130 / 0.098, {@code _hp} 0.186 / 0.120 / 0.091, {@code _hw}
   * 0.173 / 0.116 / 0.090 (fp16 and backwardInput alike). Session 7 (final-s7/f2k): table 0.268, half2 0.212 at 1K.
   * {@code -Dlongconv4j.cuda.fb2k.tw=half} (or table, hp) keeps the others reachable.
   */
  static final Twiddles DEFAULT_TWIDDLES = Twiddles.HALF_WIDE;
  private final Precision compute;
  private DeviceBuffer tables;

  FlashButterfly2K(CudaDevice device, int n, Precision compute) {
    this(device, n, compute, intFrom(System.getProperty(PROPERTY + ".warps"), "warps", DEFAULT_WARPS, MAX_WARPS),
        intFrom(System.getProperty(PROPERTY + ".perwarp"), "pairs per warp", DEFAULT_PER_WARP, 255),
        twiddlesFrom(System.getProperty(PROPERTY + ".tw"), System.getProperty(PROPERTY + ".halftw")));
  }

  FlashButterfly2K(CudaDevice device, int n, Precision compute, int warps, int perWarp, Twiddles twiddles) {
    if (n < MIN_N || n > MAX_N || Integer.bitCount(n) != 1)
      throw new IllegalArgumentException("FlashButterfly2K: N must be 512, 1024 or 2048, got " + n);
    if (compute == Precision.FP32) throw new IllegalArgumentException("FlashButterfly2K: tensor-core precisions only, got FP32");
    checkRange("warps", warps, MAX_WARPS);
    checkRange("pairs per warp", perWarp, 255);
    this.device = device; this.n = n; this.log2n = Integer.numberOfTrailingZeros(n); this.compute = compute;
    if (twiddles == null) throw new IllegalArgumentException("FlashButterfly2K: twiddles must not be null");
    this.warps = warps; this.perWarp = perWarp; this.twiddles = twiddles;
  }

  /**
   * The twiddle source from the properties' values: tw "table" / "half" / "hp" / "hw" (any case, blanks ignored); tw null or
   * blank: HALF if halftw is "true", else {@link #DEFAULT_TWIDDLES}. IllegalArgumentException for any other tw.
   */
  static Twiddles twiddlesFrom(String tw, String halftw) {
    if (tw == null || tw.isBlank()) return halftw != null && Boolean.parseBoolean(halftw.trim()) ? Twiddles.HALF : DEFAULT_TWIDDLES;
    return switch (tw.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "table" -> Twiddles.TABLE;
      case "half" -> Twiddles.HALF;
      case "hp" -> Twiddles.HALF_PIPELINED;
      case "hw" -> Twiddles.HALF_WIDE;
      default -> throw new IllegalArgumentException("FlashButterfly2K: " + PROPERTY + ".tw must be table, half, hp or hw, got " + tw);
    };
  }

  /** Whether the route is on by default: unless the system property {@value #PROPERTY} is "off". */
  static boolean enabledByDefault() { return enabledFrom(System.getProperty(PROPERTY)); }

  /** The switch's value: on unless "off" (any case, blanks around it ignored); null: on. */
  static boolean enabledFrom(String value) { return value == null || !"off".equalsIgnoreCase(value.trim()); }

  /**
   * Whether a plan can run this kernel: causal, N in [512, 2K] (then 2L <= N), 16-bit I/O of the compute type, and a
   * device of compute capability >= 9.0 (stmatrix; the sm_80 code of the kernel is empty).
   */
  static boolean applies(ConvMode mode, int n, ElementType io, Precision compute, int computeCapability) {
    return mode == ConvMode.CAUSAL && n >= MIN_N && n <= MAX_N && io != ElementType.F32 && compute != Precision.FP32
        && io.tag().equals(compute.tag()) && computeCapability >= 90;
  }

  /**
   * 32-bit words of the tables: A fragments of the first stage and its inverse, the S = 256 twiddles both ways (fp32),
   * F16, the twiddles again as half2.
   */
  static int tableWords(int n) { return 4096 + 1024 * (n / 256) + 256 + 512 * (n / 256); }

  /**
   * Dynamic shared memory of a block: the spectrum (8 N bytes; _hp, _hw: another 8 N for the half2 twiddles), per
   * warp two 16-bit planes of R1 chunks of 264 elements and a 16-byte row.
   */
  static int smemBytes(int n, int warps, Twiddles twiddles) {
    return 8 * n * (twiddles.sharedTwiddles() ? 2 : 1) + warps * (2 * (n / 256) * CHUNK_STRIDE + 8) * 2;
  }

  /** The forward kernel's name, e.g. "fbk_fwd_bf16" ("_ht": the half2 twiddle table, "_hp": pipelined loads, "_hw": and wide stores). */
  String kernelName() { return kernelName(compute, twiddles); }
  static String kernelName(Precision compute, Twiddles twiddles) { return "fbk_fwd_" + compute.tag() + twiddles.suffix; }

  /** Blocks along x for B batch rows: ceil(ceil(B / 2) / (warps * pairs per warp)). */
  static int gridX(int B, int warps, int perWarp) { return ((B + 1) / 2 + warps * perWarp - 1) / (warps * perWarp); }

  int warps() { return warps; }
  int perWarp() { return perWarp; }

  /**
   * y = conv(u, K) + D u (flags bit 1: conj(K), the adjoint du = K^T dy + D dy), queued on the device's stream; the
   * tables are built (queued) on the first call.
   */
  void forward(DeviceBuffer u, DeviceBuffer y, int B, int H, int L, DeviceBuffer kf, DeviceBuffer d, int flags) {
    if (2 * L > n) throw new IllegalArgumentException("FlashButterfly2K: causal L must be <= N/2 = " + n / 2 + ", got " + L);
    if (tables == null) {
      tables = device.alloc(4L * tableWords(n));
      device.module(MODULE).kernel("fbk_tables_" + compute.tag()).launch(device.stream(), (tableWords(n) + 255) / 256, 1,
          256, 0, tables, log2n);
    }
    device.module(MODULE).kernel(kernelName(compute, twiddles)).launch(device.stream(), gridX(B, warps, perWarp), H, 32 * warps,
        smemBytes(n, warps, twiddles), u, kf, d, y, tables, B, H, L, log2n, (flags & 2) | perWarp << 8);
  }

  void close() {
    if (tables != null) { device.stream().synchronize(); tables.close(); tables = null; }
  }

  /** A launch-shape property's value (null or blank: dflt); IllegalArgumentException unless an integer in [1, max]. */
  static int intFrom(String value, String what, int dflt, int max) { return LaunchProperty.intValue("FlashButterfly2K", what, value, dflt, 1, max); }

  private static void checkRange(String what, int x, int max) {
    if (x < 1 || x > max) throw new IllegalArgumentException("FlashButterfly2K: " + what + " must be in [1, " + max + "], got " + x);
  }

  @Override public String toString() { return "fb2k " + warps + " warps x " + perWarp + " pairs" + switch (twiddles) {
      case TABLE -> "";
      case HALF -> ", half2 twiddles";
      case HALF_PIPELINED -> ", half2 twiddles, pipelined loads";
      case HALF_WIDE -> ", half2 twiddles, pipelined loads, 16-byte stores";
    }; }
}
