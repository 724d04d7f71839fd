// Shapes: B batch, H channels, L length (16K < L <= 32K: N = 64K causal), Lk kernel taps. u, y, dy, du: (B, H, L);
// k: (H, Lk); D: (H); dk: (H, Lk).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one-pass 64K causal forward (flashbutterfly32.cu, {@link FlashButterfly32}) against a float64 direct convolution on
 * sampled outputs and against its slow twin, the three-pass forward of the same plan ({@code fb32(false)}) on every
 * output; every output poisoned with NaN first (a NaN anywhere fails both comparisons). Forward and backwardInput (the
 * conjugate spectrum), every I/O type it builds, odd B (the last pair holds one row), H = 111, L = 32768 (16-byte accesses)
 * and L = 24577 (odd: the element-wise path, Lk < L); both kernel variants (round 9c's _w3, the default on sm_90, and
 * the round-8b kernel), each against float64 and against each other. Tolerances: 1e-2 vs the float64 reference for the 16-bit paths:
 * each of the two convolutions is the one-pass 32K kernel's (~9 roundings to 16 bits: sqrt(9) * 2.3e-3 ~ 7e-3 for bf16
 * with independent roundings; fp16 ~ 1e-3), the partial 1/2 C0 is stored exactly (16-bit shared-memory values, y of that
 * type or fp32) and the output is rounded once; the three-pass twin also holds 1e-2 (ThreePassGpuTest), so the two
 * differ by at most 2e-2 (triangle inequality); the two variants round at different points (the _w3 column units keep the
 * first two stages in fp32 registers), so they too are held to 2e-2, not bit equality. The _w3 kernel's two sets of global
 * phases (9c-2, the default, and 9c-1's) do the same arithmetic in the same order (expected equal, but a different compilation
 * may contract a product into an FMA differently and flip a 16-bit rounding, <= 2^-8 relative on that element): 3e-3. The backward of a plan whose forward ran here (the three-pass one, on
 * the plan's unchanged spectrum) must equal a twin plan's to fp32 atomics' summation-order noise (1e-5).
 */
@Tag("gpu")
class FlashButterfly32GpuTest extends CudaDeviceTest {
  static final Object[][] IO = {{ElementType.F32, Precision.BF16}, {ElementType.F32, Precision.F16},
      {ElementType.BF16, Precision.BF16}, {ElementType.F16, Precision.F16}};
  static final double TOL = 1e-2, TWIN_TOL = 2e-2, PHASES_TOL = 3e-3;

  /** The forward (or backwardInput) of {@code conv}'s fb32 route with kernel variant {@code v}, output poisoned first. */
  private float[] run(FlashButterflyConv conv, FlashButterfly32.Variant v, boolean adjoint, DeviceBuffer in, DeviceBuffer out,
      int B, ElementType io, int n) {
    conv.fb32Route().variant(v);   // below sm_90 the _w3 entry points run the old code
    out.fill32(0x7fc07fc0);        // poison: NaN as fp32, and each half is NaN as bf16 and as fp16
    if (adjoint) conv.backwardInput(in, out, B); else conv.forward(in, out, B);
    return ConvCase.read(dev, out, io, n);
  }

  static Stream<Arguments> cases() {
    int[][] shapes = {{3, 111, 32768, 32768}, {3, 111, 24577, 3000}};
    return Stream.of(IO).flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t[0], t[1], s[0], s[1], s[2], s[3])));
  }

  @ParameterizedTest(name = "{0} io, {1} compute, B={2} H={3} L={4} Lk={5}")
  @MethodSource("cases")
  void forwardAndAdjointMatchReferenceAndThreePassTwin(ElementType io, Precision compute, int B, int H, int L, int Lk) {
    var rng = new SplittableRandom(31L * L + 7L * Lk + io.ordinal() * 3 + compute.ordinal());
    var c = ConvCase.random(rng, io, B, H, L, Lk);
    float[] other = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));   // a first kernel: the route must re-gather
    int n = B * H * L;
    long bytes = (long) n * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, compute);
         var du = c.uploadU(dev); var ddy = c.uploadDy(dev); var out = dev.alloc((bytes + 3) / 4 * 4)) {
      assertTrue(conv.fb32(), conv + " should take the one-pass 64K route");
      assertTrue(conv.toString().contains("fb32"), conv.toString());
      assertEquals(dev.computeCapability() >= 90 ? FlashButterfly32.Variant.W3 : FlashButterfly32.Variant.OLD,
          conv.fb32Route().variant(), "the _w3 kernel is the sm_90 default");
      conv.setWeights(other, Lk, c.D());
      conv.forward(du, out, B);
      conv.setWeights(c.k0(), Lk, c.D());
      int[][] samples = samples(rng, B, H, L, Lk);
      for (boolean adjoint : new boolean[] {false, true}) {
        String what = (adjoint ? "fb32 backwardInput " : "fb32 forward ") + conv + " B=" + B + " Lk=" + Lk;
        DeviceBuffer in = adjoint ? ddy : du;
        float[] x = adjoint ? c.dy() : c.u();
        conv.fb32(true);
        float[] old = run(conv, FlashButterfly32.Variant.OLD, adjoint, in, out, B, io, n);   // the round-8b kernel
        float[] w3a = run(conv, FlashButterfly32.Variant.W3A, adjoint, in, out, B, io, n);   // round 9c-1's global phases
        float[] fast = run(conv, FlashButterfly32.Variant.W3, adjoint, in, out, B, io, n);   // the default
        conv.fb32(false);
        out.fill32(0x7fc07fc0);
        if (adjoint) conv.backwardInput(in, out, B); else conv.forward(in, out, B);
        float[] twin = ConvCase.read(dev, out, io, n);
        conv.fb32(true);
        float[] got = new float[samples.length], gotOld = new float[samples.length], gotA = new float[samples.length];
        double[] ref = new double[samples.length];
        for (int i = 0; i < samples.length; i++) {
          int[] s = samples[i];
          got[i] = fast[(s[0] * H + s[1]) * L + s[2]];
          gotOld[i] = old[(s[0] * H + s[1]) * L + s[2]];
          gotA[i] = w3a[(s[0] * H + s[1]) * L + s[2]];
          ref[i] = direct(x, c.k0(), Lk, c.D(), H, L, s[0], s[1], s[2], adjoint);
        }
        Reference.assertClose(what + " _w3 vs float64 (sampled)", got, ref, TOL);
        Reference.assertClose(what + " old kernel vs float64 (sampled)", gotOld, ref, TOL);
        Reference.assertClose(what + " _w3 9c-1 phases vs float64 (sampled)", gotA, ref, TOL);
        Reference.assertClose(what + " _w3 vs its 9c-1 global phases", fast, ConvCase.toD(w3a), PHASES_TOL);
        Reference.assertClose(what + " _w3 vs three-pass twin", fast, ConvCase.toD(twin), TWIN_TOL);
        Reference.assertClose(what + " _w3 vs the old kernel", fast, ConvCase.toD(old), TWIN_TOL);
      }
    }
  }

  /**
   * The backward of a plan whose forward took the one-pass route (ThreePass.backward on the plan's spectrum, kept in the
   * three-pass order) equals a twin plan's that never did (fb32 off): du, dk and dD, bf16.
   */
  @Test
  void backwardAfterTheOnePassForwardMatchesTheTwinPlan() {
    int B = 3, H = 5, L = 32768, Lk = 32768;
    var rng = new SplittableRandom(77);
    var c = ConvCase.random(rng, ElementType.BF16, B, H, L, Lk);
    long bytes = (long) B * H * L * 2;
    try (var fast = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16);
         var twin = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16).fb32(false);
         var du = c.uploadU(dev); var ddy = c.uploadDy(dev); var y = dev.alloc(bytes);
         var g1 = dev.alloc(bytes); var g2 = dev.alloc(bytes);
         var dk1 = dev.alloc(4L * H * Lk); var dk2 = dev.alloc(4L * H * Lk); var dD1 = dev.alloc(4L * H); var dD2 = dev.alloc(4L * H)) {
      assertTrue(fast.fb32());
      assertFalse(twin.fb32());
      fast.setWeights(c.k0(), Lk, c.D());
      twin.setWeights(c.k0(), Lk, c.D());
      fast.forward(du, y, B);
      twin.forward(du, y, B);
      for (var b : new DeviceBuffer[] {g1, g2, dk1, dk2, dD1, dD2}) b.fill32(0x7fc07fc0);
      fast.backward(du, ddy, g1, B, dk1, dD1);
      twin.backward(du, ddy, g2, B, dk2, dD2);
      int n = B * H * L;
      Reference.assertClose("fb32 plan backward du", ConvCase.read(dev, g1, ElementType.BF16, n),
          ConvCase.toD(ConvCase.read(dev, g2, ElementType.BF16, n)), 1e-5);
      Reference.assertClose("fb32 plan backward dk", dk1.copyTo(new float[H * Lk], 0),
          ConvCase.toD(dk2.copyTo(new float[H * Lk], 0)), 1e-5);
      Reference.assertClose("fb32 plan backward dD", dD1.copyTo(new float[H], 0), ConvCase.toD(dD2.copyTo(new float[H], 0)), 1e-5);
    }
  }

  /** The route: causal tensor-core plans with N = 64K only, and the switches that send them back to three passes. */
  @Test
  void routesOnlyCausalTensorCorePlansAt64K() {
    try (var p = FlashButterflyConv.plan(dev, 4, 32768, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16)) {
      assertTrue(p.fb32(), p.toString());
      assertFalse(p.fused(false).fb32(), "the unfused twin runs three passes");
      assertFalse(p.fused(true).pairStages(false).fb32(), "one stage per pass runs three passes");
      assertFalse(p.pairStages(true).fb32(false).fb32(), "switched off");
      assertTrue(p.fb32(true).fb32());
      assertTrue(p.threePass(), "the plan stays a three-pass plan (its backward)");
    }
    Object[][] others = {{ConvMode.CAUSAL, 16385, Precision.F16, true}, {ConvMode.CAUSAL, 16384, Precision.BF16, false},
        {ConvMode.CAUSAL, 32769, Precision.BF16, false}, {ConvMode.CAUSAL, 32768, Precision.FP32, false},
        {ConvMode.BIDIRECTIONAL, 20000, Precision.BF16, false}, {ConvMode.CIRCULAR, 65536, Precision.BF16, false}};
    for (Object[] o : others) {
      var io = o[2] == Precision.FP32 ? ElementType.F32 : o[2] == Precision.F16 ? ElementType.F16 : ElementType.BF16;
      try (var p = FlashButterflyConv.plan(dev, 2, (Integer) o[1], (ConvMode) o[0], io, (Precision) o[2])) {
        assertEquals(o[3], p.fb32(), p.toString());
      }
    }
  }

  /** (b, h, n) triples: the lone row of the last pair, the last channel, row starts and ends, the kernel's edge; random. */
  static int[][] samples(SplittableRandom rng, int B, int H, int L, int Lk) {
    int[][] rows = {{B - 1, H - 1}, {0, 0}, {B - 2, H / 2}, {rng.nextInt(B), rng.nextInt(H)}, {rng.nextInt(B), rng.nextInt(H)}};
    int per = 48;
    int[][] s = new int[rows.length * per][];
    for (int r = 0; r < rows.length; r++)
      for (int i = 0; i < per; i++) {
        int n = switch (i) {
          case 0 -> 0; case 1 -> 1; case 2 -> L - 1; case 3 -> L - 2; case 4 -> Lk - 1; case 5 -> Math.min(L - 1, Lk);
          case 6 -> L / 2; default -> rng.nextInt(L);
        };
        s[r * per + i] = new int[] {rows[r][0], rows[r][1], n};
      }
    return s;
  }

  /** Float64 causal y[b,h,n] (or the adjoint du[b,h,n] = sum_j k[j] x[n+j] + D x[n]) at one point. */
  static double direct(float[] x, float[] k, int Lk, float[] D, int H, int L, int b, int h, int n, boolean adjoint) {
    int row = (b * H + h) * L;
    double acc = (double) D[h] * x[row + n];
    if (adjoint) for (int j = 0; j < Lk && n + j < L; j++) acc += (double) k[h * Lk + j] * x[row + n + j];
    else for (int j = 0, jm = Math.min(n, Lk - 1); j <= jm; j++) acc += (double) k[h * Lk + j] * x[row + n - j];
    return acc;
  }
}
