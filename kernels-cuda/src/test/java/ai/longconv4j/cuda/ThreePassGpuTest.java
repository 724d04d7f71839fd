// Shapes: B batch, H channels, L length, Lk kernel taps, N FFT size = N1 * M. u, y, dy: (B, H, L); k: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvGrads;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The three-pass FlashButterfly (N beyond shared memory, and forced at small N with a small inner size M) against
 * the CPU: lib's FftConv in float64 (JTransforms) for forward, du, dk and dD, on fresh random data, every output
 * poisoned with NaN first. Tolerances as FlashButterflyGpuTest's, and why they still hold: fp32 paths 1e-5 (fp32 FFT
 * error ~ eps * log2(N) = 6e-8 * 19 ~ 1.1e-6 at N = 2^19; the outer twiddles come from sincospif, correctly
 * rounded); 16-bit paths 1e-2: the one-pass 32K kernel rounds ~9 times (8 MMA stages with 16-bit storage, the
 * output), the three-pass adds the 16-bit scratch after the outer pass: sqrt(10) * 2.3e-3 = 7.3e-3 for bf16 with
 * independent roundings (fp16 ~ 9e-4). dk: 1e-5 * sqrt(N / Lk) (the kept taps' share of the correlation, see
 * FlashButterflyGpuTest), dD 1e-5.
 */
@Tag("gpu")
class ThreePassGpuTest extends CudaDeviceTest {
  static final Object[][] IO = {{ElementType.F32, Precision.FP32, 1e-5}, {ElementType.F32, Precision.BF16, 1e-2},
      {ElementType.BF16, Precision.BF16, 1e-2}, {ElementType.F16, Precision.F16, 1e-2}};

  /**
   * (mode, B, H, L, Lk, M: 0 = the plan's default) — forced small M first (N1 = 64, the 8 x 8 outer kernels, at
   * N = 64 * 32 and 64 * 64 in every mode), then the long lengths; L = 256K with the default M = 16K (N1 = 32) and
   * with M = 8K (N1 = 64, opt-in: measured slower, bench-runs/run10).
   */
  static Stream<Arguments> cases() {
    var shapes = new Object[][] {
        {ConvMode.CAUSAL, 3, 5, 1000, 1000, 256}, {ConvMode.CAUSAL, 2, 3, 1000, 700, 64}, {ConvMode.CAUSAL, 1, 4, 37, 20, 32},
        {ConvMode.CIRCULAR, 3, 3, 4096, 4096, 128}, {ConvMode.BIDIRECTIONAL, 3, 7, 300, 300, 256},
        {ConvMode.BIDIRECTIONAL, 2, 3, 2000, 500, 512},
        {ConvMode.CAUSAL, 3, 3, 1000, 1000, 32}, {ConvMode.CAUSAL, 2, 3, 2000, 900, 64},
        {ConvMode.CIRCULAR, 3, 2, 4096, 4096, 64}, {ConvMode.BIDIRECTIONAL, 3, 3, 1000, 1000, 32},
        {ConvMode.CAUSAL, 2, 2, 1 << 15, 1 << 15, 0}, {ConvMode.CAUSAL, 3, 2, 1 << 16, 5000, 0},
        {ConvMode.CIRCULAR, 2, 2, 1 << 16, 1 << 16, 0}, {ConvMode.BIDIRECTIONAL, 2, 2, 1 << 15, 1 << 15, 0},
        {ConvMode.CAUSAL, 2, 2, 1 << 18, 1 << 18, 0}, {ConvMode.CAUSAL, 2, 2, 1 << 18, 1 << 18, 8192}};
    return Stream.of(IO).flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t[0], t[1], t[2], s[0], s[1], s[2], s[3], s[4], s[5])));
  }

  @ParameterizedTest(name = "{0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7} M={8}")
  @MethodSource("cases")
  void forwardAndBackwardMatchFftConv(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L,
      int Lk, int M) {
    check(io, compute, tol, mode, B, H, L, Lk, M, FlashButterflyConv.DEFAULT_PAIR_STAGES);
  }

  /**
   * The middle pass with the other stage scheme than the default (pairStages: fb3_mid_* vs fb3_mid_*_w2), tensor-core
   * cases with M >= 256: forward and backwardInput (the weight gradient's passes are fp32 and unaffected).
   */
  @ParameterizedTest(name = "other stage scheme {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7} M={8}")
  @MethodSource("cases")
  void otherStageSchemeMatchesFftConv(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L,
      int Lk, int M) {
    assumeTrue(compute != Precision.FP32 && (M == 0 || M >= 256) && L < (1 << 18), "tensor cores, M >= 256");
    check(io, compute, tol, mode, B, H, L, Lk, M, !FlashButterflyConv.DEFAULT_PAIR_STAGES);
  }

  private void check(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk, int M,
      boolean pairs) {
    var rng = new SplittableRandom(91L * L + 7L * H + B + io.ordinal() * 3 + compute.ordinal() * 5 + mode.ordinal() * 17 + M);
    var c = ConvCase.random(rng, io, B, H, L, Lk);
    float[] k0 = c.k0(), k1 = c.k1(), D = c.D();
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    var lm = ai.longconv4j.conv.ConvMode.valueOf(mode.name());
    var shape = new ConvShape(B, 1, H, L, Lk, lm);
    var cpu = ConvPlan.of(L, Lk, lm, ConvEngine.FFT, ai.longconv4j.conv.Precision.F64).newConvolver();
    double[] kl = c.libKernel(H, Lk, bi);   // lib's layout (C=1, H, sides, Lk)
    double[] ud = ConvCase.toD(c.u()), dyd = ConvCase.toD(c.dy()), Dd = ConvCase.toD(D);
    double[] yRef = cpu.forward(shape, ud, kl, Dd);
    ConvGrads g = cpu.backward(shape, ud, kl, Dd, dyd);
    long bytes = (long) B * H * L * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute);
         var du = c.uploadU(dev); var ddy = c.uploadDy(dev);
         var out = dev.alloc((bytes + 3) / 4 * 4);
         var dk = dev.alloc(4L * (bi ? 2 : 1) * H * Lk); var dD = dev.alloc(4L * H)) {
      if (M > 0) conv.innerSize(M);
      assertTrue(conv.threePass(), conv + " should run three passes");
      int n = conv.fftSize();
      assertEquals(M > 0 ? M : FlashButterflyConv.defaultInnerSize(n), conv.innerSize());
      if (M > 0 && n / M == 64)   // the shapes above that force N1 = 64: the plan must report it
        assertTrue(conv.toString().contains("N1=64"), conv + " should run the N1 = 64 outer kernels");
      conv.pairStages(pairs);
      if (!conv.fb32())   // else the forward is flashbutterfly32.cu's one kernel (its name says so), the backward three passes
        assertEquals(pairs && compute != Precision.FP32 && conv.innerSize() >= 256, conv.kernelName().endsWith("_w2"),
            conv.kernelName());
      if (bi) conv.setWeights(k0, k1, Lk, D); else conv.setWeights(k0, Lk, D);
      out.fill32(0x7fc07fc0);   // poison: NaN as fp32, and each half is NaN as bf16 and as fp16
      conv.forward(du, out, B);
      Reference.assertClose("3-pass forward " + conv + " B=" + B + " Lk=" + Lk, ConvCase.read(dev, out, io, B * H * L), yRef, tol);
      out.fill32(0x7fc07fc0);   // du = K^T dy + D dy (the conjugate spectrum) in every mode
      conv.backwardInput(ddy, out, B);
      Reference.assertClose("3-pass backwardInput " + conv, ConvCase.read(dev, out, io, B * H * L), g.du(), tol);
      if (pairs == FlashButterflyConv.DEFAULT_PAIR_STAGES && (compute == Precision.BF16 && io == ElementType.BF16 || io == ElementType.F32 && compute == Precision.FP32)) {
        dk.fill32(0x7fc00000);
        dD.fill32(0x7fc00000);
        conv.backwardWeights(du, ddy, B, dk, dD);
        double[] dkRef = ConvCase.gpuKernelLayout(g.dk(), H, Lk, bi);   // GPU layout (sides, H, Lk)
        Reference.assertClose("3-pass backwardWeights dk " + conv, dk.copyTo(new float[dkRef.length], 0), dkRef,
            1e-5 * Math.sqrt((double) n / Lk));
        Reference.assertClose("3-pass backwardWeights dD " + conv, dD.copyTo(new float[H], 0), g.dD(), 1e-5);
      }
    }
  }
}
