// Shapes: B batch, H channels, L length, Lk kernel taps, N FFT size (8K, 16K). u, y: (B, H, L); k: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code fbog_fwd_*} kernels (outer stages from and to global memory, {@link OuterGlobal}) against the float64 CPU
 * direct convolution and against their slow twin, the {@code _w3}/{@code _w3b} kernels ({@code outerGlobal(false)}), on
 * the same input, outputs poisoned with NaN first. Shapes: N = 8K (radix 2) and 16K (radix 4), causal and bidirectional,
 * L even (element-pair accesses) and odd (single elements), L < N/2 (bounds inside the loaded half), odd B (a pair with
 * one row), H = 111, Lk < L; 1, 2, 3 batch pairs per block (with B = 3 and 3 pairs per block some blocks run fewer);
 * at 16K the spectrum prefetch variant; both schemes ({@link OuterGlobal#staged()}) and the staged scheme with computed
 * outer twiddles ({@link OuterGlobal#computedTwiddles()}, the {@code _twc} kernels). In the staged scheme D u goes through
 * the inverse stages with the convolution (its error is of the same order as the convolution's: the same bound).
 * Tolerance 1e-2 against float64 as FlashButterflyOuterStagesGpuTest: the same stages round their operands to 16 bits
 * the same number of times (8 DFT stages, rms 2.3e-3 each for bf16, independent: 6.5e-3) plus the output's rounding;
 * the shared-memory planes hold the same 16-bit values as the twin's. New vs twin: the kernels differ only in where the
 * first and last stages read and write, so they should agree to the output's rounding (two 16-bit roundings of the same
 * fp32 value can differ by one ulp, 2^-8 relative for bf16); 2e-2 as the other twin tests (the sum of two 1e-2 bounds).
 * Computed vs table twiddles ({@code _twc}): the twiddles themselves are compared in fp32 by a test kernel (tol 4e-6:
 * a host model of the recurrence gives at most 2.1e-6 from the table, reached at one warp per block, 31 steps of a few
 * fp32 roundings each; ~1e-6 at 4 warps; the table's own error is 1.2e-7). The outputs cannot agree to that: every
 * stage rounds its operands to 16 bits, a perturbation of rms D flips roundings with rms sqrt(D ulp) each, and over
 * the ~8 roundings after the first twiddle this grows to the order of the rounding noise itself (bench-runs/f8k-2: the
 * global scheme vs the twin, whose arithmetic differs only by fp32 orderings, 1.5-2.6e-3 with bf16, 2-2.6e-4 with fp16;
 * each of them 5.7e-3 / 6.4e-4 from float64 at most). So computed vs table on the same input: 2e-2 with bf16 compute
 * (the other twin tests' sum of two 1e-2 bounds), 2e-3 with fp16 compute (two independent fp16 noises of <= 7e-4: 1e-3;
 * 2x margin); a wrong twiddle (an error of order 1) fails both and the 1e-2 bound against float64.
 * The {@code _ru} kernels ({@link OuterGlobal#registerUnit()}, scheme "ru" here) do the {@code _twc} kernels' arithmetic
 * on the same 16-bit operands (exact sign flips and power-of-two scalings moved, fp32 products possibly contracted in
 * another order by ptxas): against the {@code _twc} output on the same input with the computed-vs-table bounds (an fp32
 * ulp flipping a 16-bit rounding cascades as above; the test prints how many values agree bit for bit); a wrong index or
 * operand (order-1 errors) fails it and the 1e-2 bound against float64. The {@code _rua} kernels ("rua") also take the
 * outer units' first-stage twiddles from a recurrence (~1e-6 from the table, as the computed S = 256 twiddles): the same
 * bounds against the {@code _twc} output. The {@code _rul} kernels ("rul", helper f4k2) build F16's fragments from two
 * table values per lane (the same words up to the sign of zero halves: src/test/cuda/og_lean_model.py; a signed zero
 * in a sum with any nonzero term changes no bit) and store the forward outer units' values as 16-bit pairs on every
 * other unit: the same fp32 operations as {@code _rua}, but in another inlined copy ptxas may contract a product
 * differently (an fp32 ulp flipping a 16-bit rounding, cascading as above), so against the {@code _rua} output on the
 * same input with the computed-vs-table bounds too (the test prints how many values agree bit for bit); a wrong sign
 * mask or a store at the wrong address (order-1 errors) fails it and the 1e-2 bound against float64. The {@code _rup}
 * kernels ("rup", helper f4k3) stage the same input bits with their loads ahead and drop {@code d * 0 + y}: against the
 * {@code _rul} output on the same input with the same bounds (the test prints the bit-identical count; a staged vector at
 * the wrong place or a group left out fails it and the 1e-2 bound against float64). The {@code _rus} kernels ("rus",
 * helper f4k4; N = 8K, else {@code _rup} runs) rotate the twiddles of positions m + 2048 from those of m instead of their
 * own recurrence (the same values up to ~1e-7: src/test/cuda/og_sym_model.py): against the {@code _rup} output on the
 * same input with the same bounds (a fp32 ulp can flip a 16-bit rounding; a wrong rotation sign, an error of order 1,
 * fails it and the 1e-2 bound against float64). Helper f4k5 (N = 8K, else {@code _rup} runs): {@code _rut} ("rut")
 * copies the tables from a precomputed image (exp rounded to fp32, sincospif's values within ~1 ulp: the outputs can
 * differ by flipped 16-bit roundings) and fuses og_inv's last butterfly into FMAs: against {@code _rus} with the same
 * bounds; {@code _rut4} ("rut4") is {@code _rut}'s code at other launch bounds (the same PTX; ptxas may still contract
 * differently): against {@code _rut}, the test prints the bit-identical count; {@code _ruh} ("ruh") rounds the outer
 * units' twiddles and one partial product per value to 16 bits (two more 16-bit roundings in two of the ~8 rounded
 * stages, each of the order of one rounding: within the 1e-2 budget against float64, the class comment's estimate of
 * 6.5e-3 grows by ~10 %): against {@code _rut} with the same bounds; {@code _ruh4} ("ruh4": {@code _ruh} at
 * {@code _rut4}'s launch bounds, the register unit's sign flips on F16's side: the same products) against {@code _ruh};
 * {@code _ruhr} ("ruhr": the register unit's two twiddle stages on packed pairs too, the MMA outputs rounded to 16 bits
 * first: rms 1.78x one rounding in two more stages, the estimate grows by another ~20 %) against {@code _ruh4} with the
 * same bounds. A wrong table entry, index or sign (order-1
 * errors) fails them and the 1e-2 bound against float64. {@code -Dlongconv4j.test.og.schemes=a,b,...} runs a subset
 * (a sitting's time; a comparison with a scheme left out is skipped).
 */
@Tag("gpu")
class OuterGlobalGpuTest extends CudaDeviceTest {
  private static final Map<String, double[]> REFS = new HashMap<>();

  static Stream<Arguments> cases() {
    var io = new Object[][] {{ElementType.BF16, Precision.BF16}, {ElementType.F16, Precision.F16},
        {ElementType.F32, Precision.BF16}, {ElementType.F32, Precision.F16}};
    // (mode, B, H, L, Lk)
    var shapes = new Object[][] {
        {ConvMode.CAUSAL, 3, 5, 4096, 4096}, {ConvMode.CAUSAL, 2, 3, 8192, 8192}, {ConvMode.CAUSAL, 3, 111, 3001, 3001},
        {ConvMode.CAUSAL, 5, 3, 5000, 2000}, {ConvMode.CAUSAL, 3, 2, 4097, 4097}, {ConvMode.BIDIRECTIONAL, 3, 3, 4096, 1000},
        {ConvMode.BIDIRECTIONAL, 2, 2, 6001, 3000}, {ConvMode.CAUSAL, 1, 4, 2049, 2049}};
    return Stream.of(io).flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t[0], t[1], s[0], s[1], s[2], s[3], s[4])));
  }

  /** The new kernels at the default pairs per block against float64 and against the _w3 twin on the same input. */
  @ParameterizedTest(name = "{0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void outerGlobalMatchesDirectConvolutionAndTheTwin(ElementType io, Precision compute, ConvMode mode, int B, int H, int L,
      int Lk) {
    float[] twin = run(io, compute, mode, B, H, L, Lk, false, false, 0);
    double[] twin64 = new double[twin.length];
    for (int i = 0; i < twin.length; i++) twin64[i] = twin[i];
    float[] table = null, computed = null, rua = null, rul = null, rup = null, rus = null, rut = null, ruh = null,
        ruh4 = null;
    for (String scheme : SCHEMES) {
      float[] fast = withScheme(scheme, () -> run(io, compute, mode, B, H, L, Lk, true, false, 0));
      Reference.assertClose("og " + scheme + " vs _w3 " + io + " " + mode + " L=" + L, fast, twin64, 2e-2);
      if (scheme.equals("staged")) table = fast;
      if (scheme.equals("compute")) computed = fast;
      if (scheme.equals("compute") && table != null) {   // computed vs table twiddles on the same input (class comment)
        double[] table64 = new double[table.length];
        for (int i = 0; i < table.length; i++) table64[i] = table[i];
        Reference.assertClose("og computed vs table twiddles " + io + " " + mode + " L=" + L, fast, table64,
            compute == Precision.F16 ? 2e-3 : 2e-2);
        computed = fast;
      }
      if (scheme.equals("rua")) rua = fast;
      if (scheme.equals("rul")) { sameInput("rul vs rua", io, compute, mode, L, fast, rua); rul = fast; }
      if (scheme.equals("rup")) { sameInput("rup vs rul", io, compute, mode, L, fast, rul); rup = fast; }
      if (scheme.equals("rus")) { sameInput("rus vs rup", io, compute, mode, L, fast, rup); rus = fast; }
      if (scheme.equals("rut")) { sameInput("rut vs rus", io, compute, mode, L, fast, rus); rut = fast; }
      if (scheme.equals("rut4")) sameInput("rut4 vs rut", io, compute, mode, L, fast, rut);
      if (scheme.equals("ruh")) { sameInput("ruh vs rut", io, compute, mode, L, fast, rut); ruh = fast; }
      if (scheme.equals("ruh4")) { sameInput("ruh4 vs ruh", io, compute, mode, L, fast, ruh); ruh4 = fast; }
      if (scheme.equals("ruhr")) sameInput("ruhr vs ruh4", io, compute, mode, L, fast, ruh4);
      if (scheme.startsWith("ru") && computed != null) {   // the _ru / _rua / _rul kernels vs the _twc kernel on the same input (the class comment)
        double[] twc64 = new double[computed.length];
        int same = 0;
        for (int i = 0; i < computed.length; i++) {
          twc64[i] = computed[i];
          if (Float.floatToIntBits(fast[i]) == Float.floatToIntBits(computed[i])) same++;
        }
        System.out.printf("og %s vs twc %s %s %s L=%d: %d of %d values bit for bit%n", scheme, io, compute, mode, L, same,
            fast.length);
        Reference.assertClose("og " + scheme + " vs twc " + io + " " + mode + " L=" + L, fast, twc64,
            compute == Precision.F16 ? 2e-3 : 2e-2);
      }
    }
  }

  /** fast against other (another variant on the same input) with the class comment's computed-vs-table bounds. */
  private static void sameInput(String what, ElementType io, Precision compute, ConvMode mode, int L, float[] fast,
      float[] other) {
    if (other == null) return;   // the other scheme left out (SCHEMES' property)
    double[] other64 = new double[other.length];
    int same = 0;
    for (int i = 0; i < other.length; i++) {
      other64[i] = other[i];
      if (Float.floatToIntBits(fast[i]) == Float.floatToIntBits(other[i])) same++;
    }
    System.out.printf("og %s %s %s %s L=%d: %d of %d values bit for bit%n", what, io, compute, mode, L, same, fast.length);
    Reference.assertClose("og " + what + " " + io + " " + mode + " L=" + L, fast, other64,
        compute == Precision.F16 ? 2e-3 : 2e-2);
  }

  /** One, two and three batch pairs per block (the default is one): every block's loop bound and the B = odd tail. */
  @ParameterizedTest(name = "pairs per block {0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void outerGlobalWithOtherPairsPerBlock(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk) {
    for (String scheme : SCHEMES) {
      float[] one = withScheme(scheme, () -> run(io, compute, mode, B, H, L, Lk, true, false, 1));
      float[] two = withScheme(scheme, () -> run(io, compute, mode, B, H, L, Lk, true, false, 2));
      float[] three = withScheme(scheme, () -> run(io, compute, mode, B, H, L, Lk, true, false, 3));
      for (int i = 0; i < one.length; i++) {   // the same arithmetic per pair whatever the block: bit for bit
        assertEquals(Float.floatToIntBits(one[i]), Float.floatToIntBits(two[i]), scheme + ": pairs per block 1 vs 2 at " + i);
        assertEquals(Float.floatToIntBits(one[i]), Float.floatToIntBits(three[i]), scheme + ": pairs per block 1 vs 3 at " + i);
      }
    }
  }

  /** N = 16K with the spectrum loads one chunk ahead ({@code PROPERTY.prefetch}, flags bit 4): the same arithmetic. */
  @ParameterizedTest(name = "prefetch {0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void spectrumPrefetchChangesNoBit(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk) {
    assumeTrue(FlashButterflyConv.fftSize(mode, L) == 16384, "the prefetch variant is built for N = 16K only");
    String key = OuterGlobal.PROPERTY + ".prefetch";
    float[] plain = withScheme("global", () -> run(io, compute, mode, B, H, L, Lk, true, false, 0)), ahead;
    try {
      System.setProperty(key, "on");
      ahead = withScheme("global", () -> run(io, compute, mode, B, H, L, Lk, true, false, 0));
    } finally {
      System.clearProperty(key);
    }
    double[] plain64 = new double[plain.length];
    for (int i = 0; i < plain.length; i++) plain64[i] = plain[i];
    // the same operations in another inlined copy: ptxas may contract a product differently (fp32 ulps), which can flip
    // a 16-bit rounding of a few values (2^-8 each); on the whole output far below 1e-3
    Reference.assertClose("prefetch on vs off " + io + " L=" + L, ahead, plain64, 1e-3);
  }

  /** backwardInput (flags bit 1: the conjugate spectrum) through the new kernels, causal shapes. */
  @ParameterizedTest(name = "backwardInput {0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void outerGlobalBackwardInputMatchesAdjoint(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk) {
    assumeTrue(mode == ConvMode.CAUSAL, "the adjoint reference is written for the causal mode");
    for (String scheme : SCHEMES) withScheme(scheme, () -> run(io, compute, mode, B, H, L, Lk, true, true, 0));
  }

  /**
   * The computed twiddles (TwcFwd, TwcInv in flashbutterfly_og.cu, through the test kernel {@code fbog_twc_check})
   * against the table at the table kernels' indices and against exp(-2 pi i e / 4096) in double, in fp32: every unit,
   * lane and twiddle at N = 8K and 16K with 1 to 4 warps per block (tol 4e-6: the class comment).
   */
  @Test
  void computedTwiddlesMatchTheTableInFp32() {
    for (int log2N : new int[] {13, 14})
      for (int nw = 1; nw <= 4; nw++) {
        int n = 1 << log2N;
        try (var out = dev.alloc(32 * 32 * 16 * 8)) {
          out.fill32(0x7fc00000);   // NaN: a slot the kernel missed fails
          dev.module("flashbutterfly_ogr").kernel("fbog_twc_check").launch(dev.stream(), 1, 1, 32 * nw, 8 * (128 + n / 128),
              out, log2N);
          dev.synchronize();
          float[] v = out.copyTo(new float[32 * 32 * 16 * 2], 0);
          double worst = 0, worstExact = 0;
          for (int u = 0; u < 32; u++)
            for (int lane = 0; lane < 32; lane++)
              for (int j = 0; j < 8; j++) {
                int g = lane >> 2, t = lane & 3, o = ((u * 32 + lane) * 8 + j) * 4;
                int e = j < 4 ? ((g + 8 * (j >> 1)) * (8 * u + 2 * t + (j & 1))) & 4095
                    : ((2 * t + 8 * ((j - 4) >> 1) + ((j - 4) & 1)) * (8 * u + g)) & 4095;
                double a = -2 * Math.PI * e / 4096;
                double d = Math.hypot(v[o] - v[o + 2], v[o + 1] - v[o + 3]);
                double x = Math.max(Math.hypot(v[o] - Math.cos(a), v[o + 1] - Math.sin(a)),
                    Math.hypot(v[o + 2] - Math.cos(a), v[o + 3] - Math.sin(a)));
                worst = Double.isNaN(d) || d > worst ? d : worst;
                worstExact = Double.isNaN(x) || x > worstExact ? x : worstExact;
              }
          System.out.printf("twc N=%d warps=%d: |computed - table| <= %.3e, |either - exact| <= %.3e%n", n, nw, worst,
              worstExact);
          assertTrue(worst <= 4e-6, "computed vs table twiddles, N=" + n + " warps=" + nw + ": " + worst);
          assertTrue(worstExact <= 4e-6, "twiddles vs exp(-2 pi i e / 4096), N=" + n + " warps=" + nw + ": " + worstExact);
        }
      }
  }

  /**
   * Both schemes of {@link OuterGlobal#staged()}, "staged" (D u on the spectrum) and "global" (D u added in fp32), with
   * the twiddle table, and "compute": the staged scheme with computed twiddles (the {@code _twc} kernels).
   */
  private static final String[] SCHEMES = System.getProperty("longconv4j.test.og.schemes",
      "staged,global,compute,ru,rua,rul,rup,rus,rut,rut4,ruh,ruh4,ruhr").split(",");

  /** f with the properties {@code longconv4j.cuda.og.scheme} and {@code .tw} set for scheme, cleared after. */
  private static float[] withScheme(String scheme, java.util.function.Supplier<float[]> f) {
    String key = OuterGlobal.PROPERTY + ".scheme", tw = OuterGlobal.PROPERTY + ".tw", ru = OuterGlobal.PROPERTY + ".ru";
    boolean twc = scheme.equals("compute") || scheme.startsWith("ru");
    try {
      System.setProperty(key, scheme.equals("global") ? "global" : "staged");
      System.setProperty(tw, twc ? "compute" : "table");
      System.setProperty(ru, switch (scheme) { case "ru" -> "on"; case "rua" -> "all"; case "rul" -> "lean"; case "rup" -> "pre";
        case "rus" -> "sym"; case "rut" -> "tab"; case "rut4" -> "tab4"; case "ruh" -> "half"; case "ruh4" -> "half4";
        case "ruhr" -> "halfr"; default -> "off"; });
      assertEquals(!scheme.equals("global"), OuterGlobal.staged());
      assertEquals(twc, OuterGlobal.computedTwiddles());
      assertEquals(scheme.startsWith("ru"), OuterGlobal.registerUnit());
      boolean tab = scheme.equals("rut") || scheme.equals("rut4") || scheme.startsWith("ruh");
      assertEquals(scheme.equals("rua") || scheme.equals("rul") || scheme.equals("rup") || scheme.equals("rus") || tab,
          OuterGlobal.firstTwiddles());
      assertEquals(scheme.equals("rul") || scheme.equals("rup") || scheme.equals("rus") || tab, OuterGlobal.leanFragments());
      assertEquals(scheme.equals("rup") || scheme.equals("rus") || tab, OuterGlobal.stagedLoadsAhead());
      assertEquals(scheme.equals("rus") || tab, OuterGlobal.symmetricTwiddles(8192));
      assertEquals(tab, OuterGlobal.copiedTables(8192));
      assertEquals(scheme.equals("rut4") || scheme.equals("ruh4") || scheme.equals("ruhr"), OuterGlobal.fourBlocks(8192));
      assertEquals(scheme.equals("ruhr"), OuterGlobal.packedRegisterUnit(8192));
      assertEquals(scheme.startsWith("ruh"), OuterGlobal.halfTwiddles(8192));
      return f.get();
    } finally {
      System.clearProperty(key);
      System.clearProperty(tw);
      System.clearProperty(ru);
    }
  }

  /** The suffix of the _ru.. kernel that the properties select (r2: N = 8K), without the underscore. */
  private static String ruLabel(boolean r2) {
    if (r2 && OuterGlobal.packedRegisterUnit(8192)) return "ruhr";
    if (r2 && OuterGlobal.halfTwiddles(8192)) return OuterGlobal.fourBlocks(8192) ? "ruh4" : "ruh";
    if (r2 && OuterGlobal.fourBlocks(8192)) return "rut4";
    if (r2 && OuterGlobal.copiedTables(8192)) return "rut";
    if (r2 && OuterGlobal.symmetricTwiddles(8192)) return "rus";
    return OuterGlobal.stagedLoadsAhead() ? "rup" : OuterGlobal.leanFragments() ? "rul" : OuterGlobal.firstTwiddles() ? "rua" : "ru";
  }

  /**
   * One forward (or backwardInput) with outerGlobal(og) and perBlock batch pairs per block (0: default), checked against
   * float64 (tol 1e-2, see the class comment); asserts which kernel ran; returns the output.
   */
  private float[] run(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk, boolean og,
      boolean adjoint, int perBlock) {
    var rng = new SplittableRandom(7000L * L + 13L * H + B + io.ordinal() * 5 + compute.ordinal() + mode.ordinal() * 17);
    var c = ConvCase.random(rng, io, B, H, L, Lk);
    double[] ref = REFS.computeIfAbsent(io + " " + compute + " " + mode + " " + B + " " + H + " " + L + " " + Lk + " " + adjoint,
        key -> adjoint ? Reference.causalAdjoint(c.u(), c.k0(), Lk, c.D(), B, H, L) : switch (mode) {
          case CAUSAL -> Reference.causal(c.u(), c.k0(), Lk, c.D(), B, H, L);
          case BIDIRECTIONAL -> Reference.bidirectional(c.u(), c.k0(), c.k1(), Lk, c.D(), B, H, L);
          case CIRCULAR -> throw new IllegalArgumentException("no circular case: L = N has no zero half");
        });
    long bytes = (long) B * H * L * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute).outerGlobal(og).pairsPerBlock(perBlock);
         var du = c.uploadU(dev);
         var dy = dev.alloc((bytes + 3) / 4 * 4)) {
      boolean routed = og && dev.computeCapability() >= 90;
      assertEquals(routed, conv.outerGlobal(), conv.toString());
      assertEquals(routed, conv.kernelName().startsWith("fbog_fwd_"), conv.kernelName());
      assertEquals(routed && OuterGlobal.computedTwiddles() && !OuterGlobal.registerUnit(), conv.kernelName().endsWith("_twc"),
          conv.kernelName());
      String ru = ruLabel(conv.kernelName().contains("_r2_"));   // _rus, _rut, _rut4, _ruh: N = 8K only
      assertEquals(routed && OuterGlobal.registerUnit(), conv.kernelName().endsWith("_" + ru), conv.kernelName());
      if (routed) assertTrue(conv.toString().contains("outer global"), conv.toString());
      if (mode == ConvMode.BIDIRECTIONAL) conv.setWeights(c.k0(), c.k1(), Lk, c.D()); else conv.setWeights(c.k0(), Lk, c.D());
      dy.fill32(0x7fc07fc0);   // poison: NaN as fp32, and each half is NaN as bf16 and as fp16
      if (adjoint) conv.backwardInput(du, dy, B); else conv.forward(du, dy, B);
      float[] y = ConvCase.read(dev, dy, io, B * H * L);
      Reference.assertClose((adjoint ? "backwardInput " : "") + conv + (og ? OuterGlobal.staged() ? " staged" : " global" : "")
          + (og && OuterGlobal.computedTwiddles() ? " " + (OuterGlobal.registerUnit() ? ru : "twc") : "")
          + " B=" + B + " Lk=" + Lk + " pairs/block=" + perBlock, y,
          ref, 1e-2);
      return y;
    }
  }
}
