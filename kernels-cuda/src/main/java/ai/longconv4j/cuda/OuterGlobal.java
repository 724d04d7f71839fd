// Shapes: B batch, H channels, L length (L <= N/2), N FFT size (8K or 16K, one pass).
//   u, y: (B, H, L) of the plan's element type; kf: (H, N) complex fp32 (Monarch order); D: (H) fp32.
package ai.longconv4j.cuda;

import java.util.List;

/**
 * The one-pass forward at N = 8K and 16K (L = 4K, 8K causal) in flashbutterfly_og.cu (the {@code fbog_fwd_*} kernels):
 * a block runs several batch pairs of one channel in turn (the twiddle tables built once) and the inverse column units
 * write y straight to global memory (no store phase). Two schemes ({@link #staged()}): "staged" (default) stages the
 * pair's input in shared memory with 16-byte loads and carries the skip term D u on the spectrum (its real part + D),
 * so the inverse needs no u; "global" reads u per column unit straight from global memory and adds D u in fp32 at the
 * end. Needs z's zero half (causal or bidirectional padding: {@code 2 L <= N}), 16-bit shared memory (the default) and
 * sm_90. The staged scheme has a variant with computed outer twiddles ({@link #computedTwiddles()}, the {@code _twc}
 * kernels; {@code -Dlongconv4j.cuda.og.tw=compute}, the default since session 7's closing sitting), and that one a
 * variant with a leaner register unit ({@link #registerUnit()}, the {@code _ru} kernels; {@code -Dlongconv4j.cuda.og.ru=on};
 * {@code =all}, the default since helper f4k's sitting: also the outer units' first-stage twiddles by recurrence and
 * per-unit address registers, the {@code _rua} kernels).
 * Package-private: {@link FlashButterflyConv#outerGlobal(boolean)} routes such plans here (default on; off with
 * {@code -Dlongconv4j.cuda.og=off}); the {@code _w3}/{@code _w3b} kernels ({@link OuterStages}) are the slow twin.
 */
final class OuterGlobal {
  /** The system property that turns the route off ("off"); {@code PROPERTY + ".pairs"}: batch pairs per block. */
  static final String PROPERTY = "longconv4j.cuda.og";
  /** The most threads per block (the kernels' launch bounds: 96 registers at 8K, 128 at 16K). */
  static final int MAX_THREADS = 128;
  /**
   * Batch pairs per block unless the plan's {@code pairsPerBlock} or the property says otherwise. H200,
   * bench-runs/f8k-2 (B = 64, H = 768, causal, bf16, staged): L = 4K 1.251 / 1.266 / 1.268 ms with 1 / 2 / 4 pairs,
   * 8K 2.510 / 2.509 / 2.520 (the tables' build is small next to the wave quantisation of fewer, longer blocks).
   */
  static final int DEFAULT_PAIRS = 1;
  /**
   * The default scheme (see {@link #staged()}). H200, bench-runs/f8k-2 (B = 64, H = 768, causal; twin / staged / global,
   * ms): bf16 L = 4K 1.339 / 1.266 / 1.515, 8K 2.727 / 2.509 / 3.197; fp16 1.378 / 1.282 / 1.513, 2.705 / 2.529 / 3.220;
   * fp32 I/O 1.455 / 1.304 / 1.405, 3.400 / 2.678 / 2.749. The global scheme's unit loads wait on HBM (bench-runs/f8k-1:
   * 36 % of its stall samples) at 12-20 resident warps per SM.
   */
  static final boolean DEFAULT_STAGED = true;
  private static final String MODULE = "flashbutterfly_og";

  private OuterGlobal() {}

  /** Whether the route is on by default: unless the system property {@value #PROPERTY} is "off". */
  static boolean enabledByDefault() { return !"off".equalsIgnoreCase(System.getProperty(PROPERTY, "on").trim()); }

  /**
   * Whether a one-pass plan with two stages per warp and 16-bit shared memory can run these kernels: FFT size {@code n}
   * 8K or 16K, {@code 2 L <= n} (the input's upper half is padding), tensor cores, at most {@value #MAX_THREADS} threads
   * (a multiple of 32), compute capability 9.0 or more (the {@code _w3} family's outer paths are sm_90-only too).
   */
  static boolean applies(int n, int L, Precision compute, int threads, int computeCapability) {
    return (n == 8192 || n == 16384) && 2L * L <= n && compute != Precision.FP32 && threads <= MAX_THREADS
        && threads % 32 == 0 && computeCapability >= 90;
  }

  /** The kernel that runs under the current properties: {@link #kernelName(ElementType, Precision, int, boolean)}. */
  static String kernelName(ElementType io, Precision compute, int n) {
    return registerUnit() ? "fbog_fwd_" + io.tag() + "_" + compute.tag() + "_r" + (n / 4096) + ruSuffix(n)
        : kernelName(io, compute, n, computedTwiddles());
  }

  /**
   * The kernel's name, e.g. "fbog_fwd_bf16_bf16_r2" (r: the first stage's radix N / 4096); {@code twc}: the variant with
   * computed outer twiddles, "fbog_fwd_bf16_bf16_r2_twc".
   */
  static String kernelName(ElementType io, Precision compute, int n, boolean twc) {
    return "fbog_fwd_" + io.tag() + "_" + compute.tag() + "_r" + (n / 4096) + (twc ? "_twc" : "");
  }

  /**
   * The default of {@link #computedTwiddles()}: computed. Helper f8k2 wrote the variant without a GPU; the closing
   * sitting of session 7 (bench-runs/final-s7/f8k) ran OuterGlobalGpuTest with it and timed table vs computed:
   * L = 4K 1.280 → 1.181 ms, 8K 2.541 → 2.442 ms (bf16; fp16 and fp32 I/O alike).
   */
  static final boolean DEFAULT_COMPUTED_TWIDDLES = true;

  /**
   * Whether the {@code _twc} kernels run (property {@code PROPERTY.tw}: "table" or "compute", default
   * {@link #DEFAULT_COMPUTED_TWIDDLES}): the outer units' S = 256 stage twiddles (forward and inverse) are per-lane values
   * advanced by one complex product per column unit instead of two shared-memory table lookups each (whose lane-dependent
   * indices replayed up to 7 wavefronts per lookup: bench-runs/f8k-2's profile). The staged scheme only: with the global
   * scheme ({@link #staged()} false) the table kernels run whatever the property says.
   */
  static boolean computedTwiddles() {
    String v = System.getProperty(PROPERTY + ".tw", DEFAULT_COMPUTED_TWIDDLES ? "compute" : "table").trim();
    if (!v.equalsIgnoreCase("table") && !v.equalsIgnoreCase("compute"))
      throw new IllegalArgumentException("OuterGlobal: " + PROPERTY + ".tw must be table or compute, got " + v);
    return v.equalsIgnoreCase("compute") && staged();
  }

  /**
   * The default of the property {@code PROPERTY.ru} ({@link #registerUnit()}, {@link #firstTwiddles()}): "halfr", the
   * {@code _ruhr} kernels at N = 8K ({@code _ruh4} with the register unit's two twiddle stages on packed 16-bit pairs too)
   * and {@code _rup} at 16K (bench-runs/final-s9/s9, OuterGlobalBench, one process, ms, {@code _rus} / {@code _ruh4} /
   * {@code _ruhr}: 4K bf16 1.024, 1.031 / 0.954, 0.958 / 0.911, 0.919 (mirrored order), fp16 1.045 / 0.978 / 0.930,
   * backwardInput 1.029 / 0.959 / 0.940; in the same call OuterGlobalGpuTest with the schemes rus, rut, ruh, ruh4, ruhr
   * passed, {@code _ruhr} within 5.81e-3 of float64, 6.65e-3 in the bench's check (bound 1e-2)). Before, "half4", the
   * {@code _ruh4} kernels at N = 8K and {@code _rup} at 16K (bench-runs/f4k5-2, OuterGlobalBench, one process, ms,
   * {@code _rus} / {@code _ruh} / {@code _ruh4}: 4K bf16 1.004, 0.999 / 0.956, 0.953 / 0.926, 0.930 (mirrored order), fp16
   * 1.010 / 0.962 / 0.957, backwardInput 1.000 / 0.957 / 0.937; 8K unchanged (all run {@code _rup}: 2.077-2.083);
   * OuterGlobalGpuTest's 32 cases with the schemes rus, rut, rut4, ruh, ruh4: {@code _ruh4} within 5.2e-3 of float64 and
   * equal to {@code _ruh} bit for bit on all 5,114,284 values; bench-runs/f4k5-1: {@code _rus} / {@code _rut} /
   * {@code _rut4} / {@code _ruh} 1.010, 1.018 / 1.003, 1.014 / 0.990, 0.996 / 0.979, 0.983). Before, "sym", the
   * {@code _rus} kernels at N = 8K and {@code _rup} at 16K (bench-runs/final-s8d, same call, ms, {@code _rup} / {@code _rus}:
   * 4K bf16 1.010, 1.023 / 0.990, 0.993 (mirrored order), fp16 1.042 / 1.013, backwardInput 1.024 / 1.000;
   * OuterGlobalGpuTest 105 passed with eight schemes, {@code _rus} vs {@code _rup} at most 1.44e-4 apart). Before, "pre",
   * the {@code _rup} kernels (bench-runs/f4k3-1, same process, ms, {@code _rul} / {@code _rup}: 4K bf16 1.030, 1.038 / 1.011,
   * 1.018, fp16 1.060 / 1.030, backwardInput 1.036 / 1.015; 8K bf16 2.165, 2.163 / 2.086, 2.074, fp16 2.187 / 2.107,
   * backwardInput 2.155 / 2.056; OuterGlobalGpuTest 105 passed with seven schemes, {@code _rup} = {@code _rul} bit for
   * bit on all 5,114,284 values). Before, "lean", the {@code _rul} kernels (bench-runs/final-s8b, same call, ms, {@code _twc} / {@code _rua} / {@code _rul}: 4K bf16 1.161 /
   * 1.055 / 1.039 (two rows each, mirrored order), fp16 1.177 / 1.066 / 1.055, backwardInput 1.167 / 1.057 / 1.026; 8K
   * bf16 2.433 / 2.216 / 2.205, fp16 2.448 / 2.216 / 2.182; OuterGlobalGpuTest 105 passed with all six schemes). Before, H200, bench-runs/f4k-1 (B = 64, H = 768, causal, ms; {@code _twc} / {@code _ru} / {@code _rua},
   * bf16 the mean of two rows each): L = 4K bf16 1.171 / 1.119 / 1.059, fp16 1.178 / 1.120 / 1.069, fp32 I/O 1.200 /
   * 1.147 / 1.102, backwardInput 1.165 / 1.100 / 1.058; 8K bf16 2.417 / 2.268 / 2.202, fp16 2.435 / 2.282 / 2.223,
   * fp32 I/O 2.590 / 2.477 / 2.444, backwardInput 2.425 / 2.266 / 2.208 (bench-runs/f4k-2, a fresh machine: 4K bf16
   * 1.187 / - / 1.080, 8K 2.444 / - / 2.224). OuterGlobalGpuTest passed with all three.
   * "off" runs the {@code _twc} kernels (the slow twin), "on" the {@code _ru} ones, "lean" the {@code _rul} ones
   * ({@link #leanFragments()}), "pre" the {@code _rup} ones ({@link #stagedLoadsAhead()}), "sym" the {@code _rus} ones
   * at N = 8K ({@link #symmetricTwiddles(int)}; {@code _rup} at 16K), "tab" the {@code _rut} ones at N = 8K
   * ({@link #copiedTables(int)}), "tab4" the {@code _rut4} ones ({@link #fourBlocks(int)}), "half" the {@code _ruh} ones
   * ({@link #halfTwiddles(int)}), "half4" the {@code _ruh4} ones, "halfr" the {@code _ruhr} ones
   * ({@link #packedRegisterUnit(int)}); each of the last five runs {@code _rup} at 16K.
   */
  static final String DEFAULT_REGISTER_UNIT = "halfr";
  private static final String MODULE_RU = "flashbutterfly_ogr";

  /**
   * Whether the {@code _ru} (or {@code _rua}, {@code _rul}, {@code _rup}, ...) kernels run (flashbutterfly_ogr.cu; property
   * {@code PROPERTY.ru}: "off", "on", "all", "lean", "pre", "sym", "tab", "tab4", "half", "half4" or "halfr", default {@link #DEFAULT_REGISTER_UNIT}): the {@code _twc} kernels with a leaner register unit (the chunk loop of the last two
   * forward stages, the product and the first two inverse stages: two address registers per chunk, conflict-free 16-bit
   * accesses, F16's B operand in registers of its own, the product's scales folded into the spectrum), the same
   * arithmetic. Only where the {@code _twc} kernels run ({@link #computedTwiddles()}: staged scheme, computed twiddles);
   * otherwise the property is ignored.
   */
  static boolean registerUnit() { return !ruLevel().equals("off") && computedTwiddles(); }

  /**
   * Whether the {@code _rua} kernels run (property {@code PROPERTY.ru} "all"): the {@code _ru} ones with the first and
   * last stage's twiddles w_N(m) of the outer units advanced per unit by one complex product (og.cu's TwFirst) instead of
   * a table lookup each. Only where {@link #registerUnit()} holds.
   */
  static boolean firstTwiddles() { return !ruLevel().equals("on") && registerUnit(); }

  /**
   * Whether the {@code _rul} kernels run (property {@code PROPERTY.ru} "lean"; helper f4k2, not yet timed): the
   * {@code _rua} ones with F16's MMA fragments built from two table values per lane and fragment set (flashbutterfly_ogr.cu's
   * frag16_words: the words are one pair with sign flips, W16(m + 8) = -W16(m)) instead of 8 lane-divergent lookups each
   * (24 per pair in the register unit, 8 in each outer pass), and the forward outer units' stores as 16-bit pairs
   * (one 32-bit store for two) on every other unit, where they are 4-byte aligned, and with 16-bit I/O the staged input
   * stored as its bits (no fp32 round trip per value, one address per 8 values). The same values as {@code _rua}
   * (src/test/cuda/og_lean_model.py: every fragment word bit for bit but for the sign of zero halves). Only where
   * {@link #registerUnit()} holds.
   */
  static boolean leanFragments() { return !ruLevel().equals("on") && !ruLevel().equals("all") && registerUnit(); }

  /**
   * Whether the {@code _rup} kernels run (property {@code PROPERTY.ru} "pre"; helper f4k3): the {@code _rul} ones with
   * the staged input's 16-byte loads of a thread all in flight before its first store (the {@code _rul} loop waited on
   * one HBM round trip per load, four in a row at N = 8K: bench-runs/final-s8b's ncu, 15 % of the stall samples), the
   * block's first pair's loads issued before the twiddle tables are built, and no {@code d * 0 + y} per output in the
   * inverse outer pass. The same values as {@code _rul} (the input's bits staged as before; only the sign of a zero
   * output can differ). Only where {@link #registerUnit()} holds.
   */
  static boolean stagedLoadsAhead() { return !List.of("on", "off", "all", "lean").contains(ruLevel()) && registerUnit(); }

  /**
   * Whether the {@code _rus} kernels run at FFT size {@code n} (property {@code PROPERTY.ru} "sym", N = 8K only; helper
   * f4k4, not yet timed): the {@code _rup} ones with the outer units' first/last-stage twiddles of the positions
   * m + 2048 rotated from those of m, w_N(m + N/4) = -i w_N(m) (og.cu's TwFirst::sym), so that the per-unit recurrence
   * takes two complex products instead of four (src/test/cuda/og_sym_model.py). At N = 16K the offset 2048 is N/8 (no
   * free rotation): the {@code _rup} kernels run. Only where {@link #registerUnit()} holds.
   */
  static boolean symmetricTwiddles(int n) {
    return n == 8192 && List.of("sym", "tab", "tab4", "half", "half4", "halfr").contains(ruLevel()) && registerUnit();
  }

  /**
   * Whether the {@code _rut} kernels (or {@code _rut4}, {@code _ruh}) run at FFT size {@code n} (property
   * {@code PROPERTY.ru} "tab", "tab4" or "half", N = 8K only; helper f4k5): the {@code _rus} ones with the block's
   * twiddle tables copied from one precomputed 5.5 KB image in global memory (og_tables.cuh, exp rounded to fp32;
   * src/test/cuda/og_tables_gen.py) instead of built with sincospif per block (bench-runs/f4k3-1: 3.9 % of the
   * instructions, 7 % of the stall samples at L = 4K), and the inverse outer units' last radix-2 butterfly (one output)
   * as 4 FMAs per value pair. At N = 16K the {@code _rup} kernels run. Only where {@link #registerUnit()} holds.
   */
  static boolean copiedTables(int n) {
    return n == 8192 && List.of("tab", "tab4", "half", "half4", "halfr").contains(ruLevel()) && registerUnit();
  }

  /**
   * Whether the {@code _rut4} kernels run at {@code n} (property {@code PROPERTY.ru} "tab4"): the {@code _rut} ones with
   * launch bounds (128, 4), 128 registers and 16 warps per SM instead of 96 and 20 (the register moves and address
   * rematerialisations at 96 registers against fewer resident warps).
   */
  static boolean fourBlocks(int n) { return copiedTables(n) && List.of("tab4", "half4", "halfr").contains(ruLevel()); }

  /**
   * Whether the {@code _ruh} kernels run at {@code n} (property {@code PROPERTY.ru} "half"): the {@code _rut} ones with
   * the outer units' twiddle products on 16-bit operands (the forward first stage, the inverse S = 256 stage's input) as
   * packed 16-bit pairs (fma.rn.bf16x2 / f16x2) instead of fp32 products on converted values: the twiddles and one
   * partial product are rounded to 16 bits (OuterGlobalGpuTest bounds the output against float64 and {@code _rut}).
   * "half4": the {@code _ruh4} kernels, {@code _ruh} at {@code _rut4}'s launch bounds with the register unit's sign flips
   * moved onto F16's fragments (the same bits as {@code _ruh}); {@link #fourBlocks(int)} holds for them too.
   */
  static boolean halfTwiddles(int n) { return copiedTables(n) && ruLevel().startsWith("half"); }

  /**
   * Whether the {@code _ruhr} kernels run at {@code n} (property {@code PROPERTY.ru} "halfr", the default; helper f4k5,
   * measured in bench-runs/final-s9): the {@code _ruh4} ones with the register unit's S = 16 forward and inverse S = 1 twiddle products on packed
   * 16-bit pairs too (the MMA's fp32 outputs rounded to 16 bits first: rms 1.78x one rounding in those two stages,
   * src/test/cuda/og_half_model.py; ~200 fewer instructions per warp and batch pair).
   */
  static boolean packedRegisterUnit(int n) { return copiedTables(n) && ruLevel().equals("halfr"); }

  private static String ruSuffix(int n) {
    return packedRegisterUnit(n) ? "_ruhr" : halfTwiddles(n) ? fourBlocks(n) ? "_ruh4" : "_ruh" : fourBlocks(n) ? "_rut4" : copiedTables(n) ? "_rut" : symmetricTwiddles(n) ? "_rus"
        : stagedLoadsAhead() ? "_rup" : leanFragments() ? "_rul" : firstTwiddles() ? "_rua" : "_ru";
  }

  private static String ruLevel() {
    String v = System.getProperty(PROPERTY + ".ru", DEFAULT_REGISTER_UNIT).trim().toLowerCase(java.util.Locale.ROOT);
    if (!LEVELS.contains(v))
      throw new IllegalArgumentException("OuterGlobal: " + PROPERTY + ".ru must be one of " + LEVELS + ", got " + v);
    return v;
  }

  private static final List<String> LEVELS = List.of("on", "off", "all", "lean", "pre", "sym", "tab", "tab4", "half", "half4",
      "halfr");

  /** Batch pairs per block: {@code requested} when > 0, else the property {@code PROPERTY.pairs}, else the default. */
  static int pairs(int requested) {
    if (requested > 0) return requested;
    return LaunchProperty.intValue("OuterGlobal", PROPERTY + ".pairs", System.getProperty(PROPERTY + ".pairs"), DEFAULT_PAIRS, 1, 255);
  }

  /**
   * Flags bit 4 at N = 16K when the property {@code PROPERTY.prefetch} is "on" (global scheme only): the register unit
   * issues the next chunk's spectrum loads before it computes the current chunk (at 8K it spilled at 96 registers).
   * Measured no gain (bench-runs/f8k-2: 3.216 vs 3.197 ms at L = 8K): off by default, kept for the record.
   */
  static int prefetchBit(int n) {
    return n == 16384 && "on".equalsIgnoreCase(System.getProperty(PROPERTY + ".prefetch", "off").trim()) ? 16 : 0;
  }

  /**
   * Whether the staged scheme runs (flags bit 5; property {@code PROPERTY.scheme} "staged" or "global", default
   * {@link #DEFAULT_STAGED}): the block stages the pair's input in shared memory with 16-byte loads and the skip term
   * D u rides on the spectrum (its real part + D: IFFT(FFT(u) D) = D u), so the inverse writes y without reading u;
   * "global": the first stages read u per column unit straight from global memory and the last ones add D u in fp32.
   */
  static boolean staged() {
    String v = System.getProperty(PROPERTY + ".scheme", DEFAULT_STAGED ? "staged" : "global").trim();
    if (!v.equalsIgnoreCase("staged") && !v.equalsIgnoreCase("global"))
      throw new IllegalArgumentException("OuterGlobal: " + PROPERTY + ".scheme must be staged or global, got " + v);
    return v.equalsIgnoreCase("staged");
  }

  /** Dynamic shared memory of one block: as the {@code _w3} kernels with 16-bit planes (planes, tables). */
  static int smemBytes(int n) { return FlashButterflyConv.smemBytes(n, true) + FlashButterflyConv.pairTableBytes(n); }

  /**
   * y = conv(u, K) + D u (flags bit 1: conj(K): du = K^T dy + D dy), queued on the device's stream; {@code perBlock}: the
   * plan's pairsPerBlock (0: {@link #pairs}).
   */
  static void launch(CudaDevice device, ElementType io, Precision compute, DeviceBuffer u, DeviceBuffer kf, DeviceBuffer d,
      DeviceBuffer y, int B, int H, int L, int n, int threads, int perBlock, int flags) {
    int per = pairs(perBlock);
    device.module(registerUnit() ? MODULE_RU : MODULE).kernel(kernelName(io, compute, n)).launch(device.stream(), ((B + 1) / 2 + per - 1) / per, H,
        threads, smemBytes(n), u, kf, d, y, B, H, L, Integer.numberOfTrailingZeros(n), flags | per << 8 | prefetchBit(n) | (staged() ? 32 : 0));
  }
}
