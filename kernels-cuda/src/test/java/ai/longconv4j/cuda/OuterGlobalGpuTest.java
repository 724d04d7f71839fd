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
 * Computed vs table twiddles on the same input: 1e-3. The twiddles differ by at most ~2e-6 (a host model of the
 * recurrence: 31 steps at one warp per block; ~1e-6 at 4 warps) where the table's own error is ~1e-7. In fp32 storage
 * that would move the output by ~1e-6; here every stage rounds its operands to 16 bits, and a twiddle change of delta
 * flips a rounding with probability ~delta / ulp, each flip one ulp: rms ~sqrt(delta ulp) per stage, with ulp = 2^-8
 * (bf16) about 6e-5, over ~9 roundings ~2e-4 (fp16: ~7e-5); 1e-3 leaves 5x, and a wrong twiddle (an index off by one
 * unit: an error of order 1) fails it by orders of magnitude.
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
    float[] table = null;
    for (String scheme : SCHEMES) {
      float[] fast = withScheme(scheme, () -> run(io, compute, mode, B, H, L, Lk, true, false, 0));
      Reference.assertClose("og " + scheme + " vs _w3 " + io + " " + mode + " L=" + L, fast, twin64, 2e-2);
      if (scheme.equals("staged")) table = fast;
      if (scheme.equals("compute")) {   // computed vs table twiddles on the same input (the class comment's 1e-3)
        double[] table64 = new double[table.length];
        for (int i = 0; i < table.length; i++) table64[i] = table[i];
        Reference.assertClose("og computed vs table twiddles " + io + " " + mode + " L=" + L, fast, table64, 1e-3);
      }
    }
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
   * Both schemes of {@link OuterGlobal#staged()}, "staged" (D u on the spectrum) and "global" (D u added in fp32), with
   * the twiddle table, and "compute": the staged scheme with computed twiddles (the {@code _twc} kernels).
   */
  private static final String[] SCHEMES = {"staged", "global", "compute"};

  /** f with the properties {@code longconv4j.cuda.og.scheme} and {@code .tw} set for scheme, cleared after. */
  private static float[] withScheme(String scheme, java.util.function.Supplier<float[]> f) {
    String key = OuterGlobal.PROPERTY + ".scheme", tw = OuterGlobal.PROPERTY + ".tw";
    try {
      System.setProperty(key, scheme.equals("global") ? "global" : "staged");
      System.setProperty(tw, scheme.equals("compute") ? "compute" : "table");
      assertEquals(!scheme.equals("global"), OuterGlobal.staged());
      assertEquals(scheme.equals("compute"), OuterGlobal.computedTwiddles());
      return f.get();
    } finally {
      System.clearProperty(key);
      System.clearProperty(tw);
    }
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
      assertEquals(routed && OuterGlobal.computedTwiddles(), conv.kernelName().endsWith("_twc"), conv.kernelName());
      if (routed) assertTrue(conv.toString().contains("outer global"), conv.toString());
      if (mode == ConvMode.BIDIRECTIONAL) conv.setWeights(c.k0(), c.k1(), Lk, c.D()); else conv.setWeights(c.k0(), Lk, c.D());
      dy.fill32(0x7fc07fc0);   // poison: NaN as fp32, and each half is NaN as bf16 and as fp16
      if (adjoint) conv.backwardInput(du, dy, B); else conv.forward(du, dy, B);
      float[] y = ConvCase.read(dev, dy, io, B * H * L);
      Reference.assertClose((adjoint ? "backwardInput " : "") + conv + (og ? OuterGlobal.staged() ? " staged" : " global" : "")
          + (og && OuterGlobal.computedTwiddles() ? " twc" : "")
          + " B=" + B + " Lk=" + Lk + " pairs/block=" + perBlock, y,
          ref, 1e-2);
      return y;
    }
  }
}
