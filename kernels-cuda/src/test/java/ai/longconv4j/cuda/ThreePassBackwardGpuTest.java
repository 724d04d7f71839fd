// Shapes: B batch (odd: the last FFT pair has one row), H channels (111: odd), L length (not a power of two where the
// mode allows), Lk taps per side, N FFT size = N1 * M (three passes). u, dy, du: (B, H, L); k (H, Lk) (bidirectional
// k0, k1); D (H); dk (H, Lk) (bidirectional (2, H, Lk)); dD (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvGrads;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The three-pass tensor-core backward ({@link FlashButterflyConv#backward} on three-pass plans: {@link ThreePass#backward},
 * flashbutterfly3_bwd.cu) against lib's FftConv in float64 (JTransforms) for du, dk and dD, and against its slow twin
 * ({@link FlashButterflyConv#backwardInput} and the fp32 {@link FlashButterflyConv#backwardWeights}); every mode, the
 * fused middle with two stages per warp (_w2) and with one, the unfused middle, du and dk only, the default inner sizes (N = 64K .. 512K) and forced small ones (N1 = 64,
 * fp32 storage below M = 2K), and chunks of pairs and of channels forced by small scratch budgets. Outputs poisoned first.
 *
 * Tolerances (relative Frobenius error), as FlashButterflyBackwardGpuTest's with the three-pass roundings added: du is
 * the forward's adjoint through the same outer passes, 1e-2 (ThreePassGpuTest: ~9 roundings to 16 bits, sqrt(10) *
 * 2.3e-3 = 7.3e-3 with the scratch). dk: each spectrum rounds to 16 bits in the scratch after the outer pass and in the
 * inner MMA stages (~sqrt(5) * 2.3e-3 = 5.1e-3 each, bf16), the product conj(Zu) Zd ~7.3e-3 of |Zu||Zd|; summing over
 * pairs keeps the ratio, the fp32 inverse adds ~1e-6, and the error spreads over all N lags while the signal fills
 * 2L - 1 of them, so the kept taps see ~7.3e-3 * sqrt(2L / N) <= 7.3e-3: 1e-2 (the bound for 16-bit paths).
 * dD: fp32 sums of the 16-bit inputs, 1e-5. The twin's dk: 1e-5 * sqrt(N / Lk) (ThreePassGpuTest).
 * Round 8c's steps ({@link ThreePass#backwardSteps}: u's and dy's outer passes and dD in one launch at N1 <= 8, the dk
 * finish on fp16 tensor cores, the middle's 16-byte row accesses) run by default and are also compared with the round-7 steps (their twin) on the same
 * data: du 3e-3 (the same outer arithmetic, but another compilation may round a scratch value to the neighbouring
 * bf16: 2^-9 relative even if every element flipped), dD 1e-5 (another fp32 summation order), dk 1e-2 (the fp16 inverse adds ~1e-3 of each row's largest value to the bf16 spectra's ~5e-3).
 */
@Tag("gpu")
class ThreePassBackwardGpuTest extends CudaDeviceTest {
  static final Object[][] IO = {{ElementType.BF16, Precision.BF16}, {ElementType.F16, Precision.F16},
      {ElementType.F32, Precision.BF16}};

  /**
   * (mode, B, H, L, Lk, M: 0 = the plan's default, chunk: 0 none, 1 pairs, 2 channels): N = 64K (H = 111), 128K (L =
   * 40000; 33333: odd, dk only for the unfused middle), 64K circular, 512K (M = 16K), then forced small M: N1 = 8 and 64,
   * fp32 storage (M < 2K), M < 256 (no fused middle).
   */
  static Stream<Arguments> cases() {
    var shapes = new Object[][] {
        {ConvMode.CAUSAL, 3, 111, 20000, 20000, 0, 0}, {ConvMode.CAUSAL, 5, 7, 40000, 3000, 0, 1},
        {ConvMode.CAUSAL, 3, 5, 33333, 33333, 0, 0},
        {ConvMode.BIDIRECTIONAL, 3, 5, 40000, 20000, 0, 2}, {ConvMode.CIRCULAR, 3, 4, 1 << 16, 1 << 16, 0, 0},
        {ConvMode.CAUSAL, 3, 3, 1 << 18, 1 << 18, 0, 2},
        {ConvMode.CAUSAL, 3, 5, 1000, 1000, 256, 0}, {ConvMode.BIDIRECTIONAL, 3, 3, 1000, 700, 32, 0},
        {ConvMode.CIRCULAR, 3, 2, 4096, 4096, 64, 0}, {ConvMode.CAUSAL, 5, 9, 3000, 3000, 1024, 2},
        // round 8c: the one-launch outer pass (N1 <= 8) with chunks of pairs, N1 = 2 and 4, odd L (scalar loads)
        {ConvMode.CAUSAL, 7, 6, 20000, 5000, 0, 1}, {ConvMode.CAUSAL, 3, 5, 3000, 3000, 4096, 0},
        {ConvMode.BIDIRECTIONAL, 3, 5, 3000, 2000, 2048, 2}, {ConvMode.CAUSAL, 3, 5, 3001, 3001, 1024, 0}};
    return Stream.of(IO).flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t[0], t[1], s[0], s[1], s[2], s[3], s[4], s[5], s[6])));
  }

  /** Both middles (fused, unfused) on the same data: one float64 reference. */
  @ParameterizedTest(name = "{0} io, {1}, {2} B={3} H={4} L={5} Lk={6} M={7} chunks={8}")
  @MethodSource("cases")
  void threePassBackwardMatchesFloat64AndTheTwin(ElementType io, Precision compute, ConvMode mode, int B, int H, int L,
      int Lk, int M, int chunk) {
    check(io, compute, mode, B, H, L, Lk, M, chunk, false, 0);
  }

  /**
   * The fp16 dk finish scales each row by a power of two: inputs scaled by 2^-24 (dk ~ 2^-48: fp16 would flush it to
   * zero unscaled) and by 2^20 (dk ~ 2^40: beyond fp16's 65504) stay within the same tolerances (N1 = 8 and 32).
   */
  @ParameterizedTest(name = "2^{0}, L={1}")
  @org.junit.jupiter.params.provider.CsvSource({"-24, 20000", "20, 20000", "-24, 262144"})
  void tensorCoreDkFinishKeepsItsRange(int exp, int L) {
    check(ElementType.BF16, Precision.BF16, ConvMode.CAUSAL, 3, 3, L, L, 0, 0, false, exp);
  }

  /**
   * Thread counts other than the default 256 at M = 8K (192: three blocks of 105 registers fit an SM; 96), round 8c's
   * steps against float64 and the round-7 steps.
   */
  @ParameterizedTest(name = "t={0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {192, 96})
  void otherThreadCountsMatch(int t) {
    threads = t;
    try {
      check(ElementType.BF16, Precision.BF16, ConvMode.CAUSAL, 3, 5, 20000, 20000, 0, 0, false, 0);
    } finally {
      threads = 0;
    }
  }

  private int threads;   // 0: the plan's default

  /** A negative control: the same checks fail when dy is shifted by one step in every row (a lag off by one). */
  @Test
  void shiftedDyIsDetected() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
        () -> check(ElementType.BF16, Precision.BF16, ConvMode.CAUSAL, 3, 5, 20000, 20000, 0, 0, true, 0));
    assertTrue(e.getMessage().contains(" dk: rel err"), e.getMessage());
  }

  /**
   * shifted: the references see dy one step later (the negative control). Checks dk and dD (and du, except for odd L with
   * the unfused middle: then that du stayed poisoned) against float64 and the twin, fused middle then unfused.
   */
  private void check(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk, int M, int chunk,
      boolean shifted, int exp) {
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    var rng = new SplittableRandom(313L * L + 11L * H + B + io.ordinal() * 5 + mode.ordinal() * 3 + M + chunk);
    var c = ConvCase.random(rng, io, B, H, L, Lk);
    if (exp != 0) c = scaled(c, io, exp);
    float[] dy = c.dy();
    float[] dyRef = dy;
    if (shifted) {
      dyRef = new float[dy.length];
      for (int r = 0; r < B * H; r++) System.arraycopy(dy, r * L, dyRef, r * L + 1, L - 1);
    }
    var lm = ai.longconv4j.conv.ConvMode.valueOf(mode.name());
    var cpu = ConvPlan.of(L, Lk, lm, ConvEngine.FFT, ai.longconv4j.conv.Precision.F64).newConvolver();
    ConvGrads g = cpu.backward(new ConvShape(B, 1, H, L, Lk, lm), ConvCase.toD(c.u()), c.libKernel(H, Lk, parts == 2),
        ConvCase.toD(c.D()), ConvCase.toD(dyRef));   // lib's kernel layout (C=1, H, sides, Lk)
    double[] dkRef = ConvCase.gpuKernelLayout(g.dk(), H, Lk, parts == 2);   // GPU layout (sides, H, Lk)
    for (int v = 0; v < 3; v++)   // fused middle two stages per warp (_w2, the default), fused one stage, unfused
      run(io, compute, mode, B, H, L, Lk, M, chunk, v < 2, v == 0, L % 2 == 0 || v < 2, c, g, dkRef);
  }

  /** u and dy times 2^exp (exact in every io type while in range; the 16-bit encodings re-made). */
  private static ConvCase scaled(ConvCase c, ElementType io, int exp) {
    float[] u = c.u().clone(), dy = c.dy().clone();
    for (int i = 0; i < u.length; i++) { u[i] = Math.scalb(u[i], exp); dy[i] = Math.scalb(dy[i], exp); }
    short[] u16 = io == ElementType.F32 ? null : HalfFloats.encode(u, io), dy16 = io == ElementType.F32 ? null : HalfFloats.encode(dy, io);
    return new ConvCase(u, dy, c.k0(), c.k1(), c.D(), u16, dy16);
  }

  private void run(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk, int M, int chunk,
      boolean middle, boolean pairs, boolean withDu, ConvCase c, ConvGrads g, double[] dkRef) {
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    long bytes = (long) B * H * L * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute).fusedBackwardMiddle(middle).pairStages(pairs);
         var du = c.uploadU(dev); var ddy = c.uploadDy(dev);
         var ddu = dev.alloc((bytes + 3) / 4 * 4); var ddu2 = dev.alloc((bytes + 3) / 4 * 4);
         var dk = dev.alloc(4L * parts * H * Lk); var dD = dev.alloc(4L * H);
         var dk32 = dev.alloc(4L * parts * H * Lk); var dD32 = dev.alloc(4L * H)) {
      if (M > 0) conv.innerSize(M);
      conv.backwardThreads(threads);
      int n = conv.fftSize(), row = n * (conv.smem16() ? 4 : 8);
      assertTrue(conv.threePass() && conv.fusedBackwardApplies(), conv.toString());
      assertEquals("fb3b_mid_" + compute.tag() + (conv.smem16() ? "_s16" : "") + (middle && pairs && conv.innerSize() >= 256 ? "_w2" : ""),
          conv.backwardKernelName());
      if (chunk == 1) conv.threePassPlan().budgets((long) row * 2 * H, (long) row * 2 * H);   // 2 pairs per chunk
      if (chunk == 2) conv.threePassPlan().budgets((long) row * 2, (long) row * 3);           // one pair, 2 / 3 channels
      if (parts == 2) conv.setWeights(c.k0(), c.k1(), Lk, c.D()); else conv.setWeights(c.k0(), Lk, c.D());
      ddu.fill32(0x7fc07fc0); ddu2.fill32(0x7fc07fc0);   // NaN as fp32 and, each half, as bf16 and fp16
      dk.fill32(0x7fc00000); dD.fill32(0x7fc00000); dk32.fill32(0x7fc00000); dD32.fill32(0x7fc00000);
      var tp = conv.threePassPlan().backwardSteps(true, true, true);   // round 8c's steps (the default unless the property says old)
      assertEquals(tp.outer() <= 8, tp.fusedOuterApplies(), tp.toString());
      conv.backward(du, ddy, withDu ? ddu : null, B, dk, dD);
      conv.backwardInput(ddy, ddu2, B);                 // the twin: the forward's adjoint ...
      conv.backwardWeights(du, ddy, B, dk32, dD32);     // ... and the fp32 weight gradient (synchronises)
      String what = "3-pass backward " + conv.backwardKernelName() + " " + conv + (middle ? "" : " unfused middle") + " B=" + B + " Lk=" + Lk;
      float[] gk = dk.copyTo(new float[parts * H * Lk], 0), gk32 = dk32.copyTo(new float[parts * H * Lk], 0);
      float[] gD = dD.copyTo(new float[H], 0), d1 = ConvCase.read(dev, ddu, io, B * H * L);
      float[] d2 = withDu ? ConvCase.read(dev, ddu2, io, B * H * L) : null;
      var checks = new java.util.ArrayList<org.junit.jupiter.api.function.Executable>();   // every check runs and prints
      checks.add(() -> Reference.assertClose(what + " dk", gk, dkRef, 1e-2));
      checks.add(() -> Reference.assertClose(what + " dD", gD, g.dD(), 1e-5));
      checks.add(() -> Reference.assertClose(what + " dk twin", gk32, dkRef, 1e-5 * Math.sqrt((double) n / Lk)));
      checks.add(() -> Reference.assertClose(what + " dk vs twin", gk, ConvCase.toD(gk32), 1e-2));
      if (withDu) {
        checks.add(() -> Reference.assertClose(what + " du", d1, g.du(), 1e-2));
        checks.add(() -> Reference.assertClose(what + " du vs twin", d1, ConvCase.toD(d2), 1e-2));
      } else {   // dk only: du untouched (still the poison)
        checks.add(() -> assertTrue(Float.isNaN(d1[0]) && Float.isNaN(d1[d1.length - 1]), what + ": dk-only wrote du"));
      }
      if (middle && pairs) {   // round 7's steps on the same data: the twin of round 8c's
        tp.backwardSteps(false, false, false);
        ddu2.fill32(0x7fc07fc0); dk32.fill32(0x7fc00000); dD32.fill32(0x7fc00000);
        conv.backward(du, ddy, withDu ? ddu2 : null, B, dk32, dD32);
        tp.backwardSteps(true, true, true);
        float[] k7 = dk32.copyTo(new float[parts * H * Lk], 0), dD7 = dD32.copyTo(new float[H], 0);
        float[] du7 = withDu ? ConvCase.read(dev, ddu2, io, B * H * L) : null;
        checks.add(() -> Reference.assertClose(what + " dk vs round-7 steps", gk, ConvCase.toD(k7), 1e-2));
        checks.add(() -> Reference.assertClose(what + " dD vs round-7 steps", gD, ConvCase.toD(dD7), 1e-5));
        if (withDu) checks.add(() -> Reference.assertClose(what + " du vs round-7 steps", d1, ConvCase.toD(du7), 3e-3));
      }
      org.junit.jupiter.api.Assertions.assertAll(what, checks);
    }
  }
}
