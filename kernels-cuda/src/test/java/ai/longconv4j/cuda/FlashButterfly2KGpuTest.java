// Shapes: B batch, H channels, L length, Lk kernel taps, N FFT size (512 - 2K). u, y: (B, H, L); k: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The causal N = 512 - 2K forward of flashbutterfly2k.cu (the default route of causal 16-bit plans there on sm_90)
 * against the float64 direct convolution, against its slow twin (the _w3 kernels, {@code fb2k(false)}) on the same input,
 * and its backwardInput against the float64 adjoint; outputs poisoned with NaN first. Shapes: N = 512 (R1 = 2), 1K, 2K;
 * L % 8 == 0 (cp.async staging, 4-byte outputs) and odd L (element-wise), Lk < L, B odd (a last pair of one row), B = 1,
 * H = 111, B = 64 (blocks of several warps with several pairs each); launch shapes 1 x 1, 8 x 3, 3 x 5 (warps x pairs),
 * the _ht kernels (half2 twiddle table) at 8 x 4 and 2 x 3, and the _hp kernels (the half2 table in shared memory,
 * pipelined loads, {@code -Dlongconv4j.cuda.fb2k.tw=hp}) and the _hw kernels (the same with 16-byte y stores, tw=hw) at
 * 8 x 4, 2 x 3, 3 x 5 and 1 x 1, forward and adjoint, against float64 and against the fp32-table kernel on the same input.
 * Tolerance 1e-2 against float64, as FlashButterflyGpuTest: 6 MMA stages with 16-bit operands (rms 2.3e-3 each for bf16,
 * independent: sqrt(6) * 2.3e-3 = 5.6e-3) plus the output rounding; the first stage's and its inverse's matrices are
 * split hi + lo (about fp32-exact), the twiddles are fp32. New vs twin: at most the sum of the two errors, 2e-2.
 * _hp / _hw vs the fp32-table kernel, 1e-2: the two run the same MMAs on the same 16-bit operands and differ only in the
 * twiddles (half2 rounding, ~5e-4 relative, vs fp32), so they differ only where a 16-bit rounding flips: each flip is one ulp of that stage (the same size as the rounding errors
 * in the float64 budget above), at most as many as those roundings, so at most one kernel's budget; in practice far less.
 */
@Tag("gpu")
class FlashButterfly2KGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    var shapes = new int[][] {{3, 5, 256, 256}, {4, 111, 1024, 1024}, {5, 3, 1000, 1000}, {3, 3, 1001, 1001},
        {1, 2, 777, 500}, {2, 3, 300, 300}, {3, 2, 129, 100}, {64, 3, 1024, 1024}, {7, 2, 512, 17}};
    return Stream.of(ElementType.BF16, ElementType.F16)
        .flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3])));
  }

  private record Data(float[] u, short[] u16, float[] k, float[] D) {}

  private static Data data(ElementType io, int B, int H, int L, int Lk) {
    var rng = new SplittableRandom(9000L * L + 31L * H + B + io.ordinal() * 7 + Lk);
    float[] u = Reference.randn(rng, B * H * L, 1.0);
    short[] u16 = HalfFloats.encode(u, io);
    return new Data(HalfFloats.decode(u16, io), u16, Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)),
        Reference.randn(rng, H, 1.0));
  }

  private static Precision compute(ElementType io) { return io == ElementType.BF16 ? Precision.BF16 : Precision.F16; }

  /** One forward (or backwardInput) through a plan, the route asserted, outputs poisoned first. */
  private static float[] run(ElementType io, Data x, int B, int H, int L, int Lk, boolean fb2k, boolean adjoint) {
    try (var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, compute(io)).fb2k(fb2k);
         var du = dev.upload(x.u16()); var dy = dev.alloc((2L * B * H * L + 3) / 4 * 4)) {
      assertEquals(fb2k, conv.fb2k(), conv.toString());
      conv.setWeights(x.k(), Lk, x.D());
      dy.fill32(0x7fc07fc0);   // NaN as bf16 and as fp16
      if (adjoint) conv.backwardInput(du, dy, B); else conv.forward(du, dy, B);
      dev.stream().synchronize();
      return HalfFloats.decode(dy.copyTo(new short[B * H * L], 0), io);
    }
  }

  @ParameterizedTest(name = "{0} B={1} H={2} L={3} Lk={4}")
  @MethodSource("cases")
  void forwardMatchesFloat64AndTheTwin(ElementType io, int B, int H, int L, int Lk) {
    assumeTrue(dev.computeCapability() >= 90, "the route needs sm_90 (stmatrix)");
    Data x = data(io, B, H, L, Lk);
    double[] ref = Reference.causal(x.u(), x.k(), Lk, x.D(), B, H, L);
    float[] fast = run(io, x, B, H, L, Lk, true, false);
    Reference.assertClose("fb2k " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk, fast, ref, 1e-2);
    float[] twin = run(io, x, B, H, L, Lk, false, false);
    double[] twin64 = new double[twin.length];
    for (int i = 0; i < twin.length; i++) twin64[i] = twin[i];
    Reference.assertClose("fb2k vs _w3 " + io + " L=" + L, fast, twin64, 2e-2);
  }

  @ParameterizedTest(name = "backwardInput {0} B={1} H={2} L={3} Lk={4}")
  @MethodSource("cases")
  void backwardInputMatchesTheAdjoint(ElementType io, int B, int H, int L, int Lk) {
    assumeTrue(dev.computeCapability() >= 90, "the route needs sm_90 (stmatrix)");
    Data x = data(io, B, H, L, Lk);
    float[] du = run(io, x, B, H, L, Lk, true, true);
    Reference.assertClose("fb2k backwardInput " + io + " L=" + L, du, Reference.causalAdjoint(x.u(), x.k(), Lk, x.D(), B, H, L), 1e-2);
    // negative control: the adjoint is not the forward (the check can fail)
    if (Lk > 1) assertTrue(Reference.relErr(du, Reference.causal(x.u(), x.k(), Lk, x.D(), B, H, L)) > 0.1);
  }

  /**
   * Other launch shapes (warps per block x pairs per warp), the _ht, _hp, _hw kernels through FlashButterfly2K directly,
   * the spectrum from fb_spectrum; the _hp / _hw kernels also against the table kernel's output (8 x 4; 1e-2: they differ from
   * it only in how the fp32 / half2 twiddles round, ~1e-3 of a 16-bit operand); _ht, _hp, _hw in the adjoint.
   */
  @ParameterizedTest(name = "launch shapes {0} B={1} H={2} L={3} Lk={4}")
  @MethodSource("cases")
  void launchShapesAgree(ElementType io, int B, int H, int L, int Lk) {
    assumeTrue(dev.computeCapability() >= 90, "the route needs sm_90 (stmatrix)");
    Data x = data(io, B, H, L, Lk);
    double[] ref = Reference.causal(x.u(), x.k(), Lk, x.D(), B, H, L);
    int n = FlashButterflyConv.fftSize(ConvMode.CAUSAL, L), log2n = Integer.numberOfTrailingZeros(n);
    float[] kt = new float[H * n];
    for (int h = 0; h < H; h++) System.arraycopy(x.k(), h * Lk, kt, h * n, Lk);
    try (var ktd = dev.upload(kt); var kf = dev.alloc(8L * H * n); var d = dev.upload(x.D()); var du = dev.upload(x.u16());
         var dy = dev.alloc((2L * B * H * L + 3) / 4 * 4)) {
      dev.module("flashbutterfly").kernel("fb_spectrum").launch(dev.stream(), H, 1, Math.min(256, Math.max(64, n / 16)),
          8 * (n + n / 32), ktd, kf, log2n);
      var T = FlashButterfly2K.Twiddles.values();   // {warps, pairs, twiddle source}, the default kernel (8 x 4) first
      double[] dflt = null;
      for (int[] shape : new int[][] {{8, 4, 0}, {1, 1, 0}, {8, 3, 0}, {3, 5, 0}, {8, 4, 1}, {2, 3, 1}, {8, 4, 2}, {2, 3, 2},
          {3, 5, 2}, {1, 1, 2}, {8, 4, 3}, {2, 3, 3}, {3, 5, 3}, {1, 1, 3}}) {
        var f = new FlashButterfly2K(dev, n, compute(io), shape[0], shape[1], T[shape[2]]);
        float[] y = launch(f, du, dy, kf, d, B, H, L, 0, io);
        Reference.assertClose("fb2k " + f + " " + io + " B=" + B + " L=" + L, y, ref, 1e-2);
        if (dflt == null) {
          dflt = new double[y.length];
          for (int i = 0; i < y.length; i++) dflt[i] = y[i];
        } else if (T[shape[2]].sharedTwiddles()) {
          Reference.assertClose("fb2k " + f + " vs the default kernel " + io + " B=" + B + " L=" + L, y, dflt, 1e-2);
        }
      }
      double[] refAdj = Reference.causalAdjoint(x.u(), x.k(), Lk, x.D(), B, H, L);
      for (var tw : new FlashButterfly2K.Twiddles[] {FlashButterfly2K.Twiddles.HALF, FlashButterfly2K.Twiddles.HALF_PIPELINED,
          FlashButterfly2K.Twiddles.HALF_WIDE}) {
        var f = new FlashButterfly2K(dev, n, compute(io), 8, 4, tw);
        float[] adj = launch(f, du, dy, kf, d, B, H, L, 2, io);
        Reference.assertClose("fb2k " + f + " adjoint " + io + " L=" + L, adj, refAdj, 1e-2);
        if (Lk > 1) assertTrue(Reference.relErr(adj, ref) > 0.1, "negative control: the adjoint is not the forward");
      }
    }
  }

  /** One launch of f (flags bit 1: the adjoint) into dy poisoned with NaN first; the tables freed after. */
  private static float[] launch(FlashButterfly2K f, DeviceBuffer du, DeviceBuffer dy, DeviceBuffer kf, DeviceBuffer d,
                                int B, int H, int L, int flags, ElementType io) {
    dy.fill32(0x7fc07fc0);
    f.forward(du, dy, B, H, L, kf, d, flags);
    dev.stream().synchronize();
    f.close();
    return HalfFloats.decode(dy.copyTo(new short[B * H * L], 0), io);
  }

  @Test
  void routeFollowsThePlanAndItsSwitches() {
    assumeTrue(dev.computeCapability() >= 90, "the route needs sm_90 (stmatrix)");
    try (var on = FlashButterflyConv.plan(dev, 3, 1024, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16)) {
      assertEquals(FlashButterfly2K.enabledByDefault(), on.fb2k(), on.toString());
      assertTrue(on.fb2k(true).toString().contains("fb2k"), on.toString());
      assertFalse(on.fb2k(false).fb2k());
      assertFalse(on.fb2k(true).outerStages(false).fb2k(), "the _w2 twin asked for");
      assertFalse(on.outerStages(true).pairStages(false).fb2k());
      assertFalse(on.pairStages(true).fused(false).fb2k());
      assertTrue(on.fused(true).fb2k());
    }
    try (var f32 = FlashButterflyConv.plan(dev, 3, 1024, ConvMode.CAUSAL, ElementType.F32, Precision.BF16);
         var bi = FlashButterflyConv.plan(dev, 3, 1024, ConvMode.BIDIRECTIONAL, ElementType.F16, Precision.F16);
         var big = FlashButterflyConv.plan(dev, 3, 2048, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16);
         var small = FlashButterflyConv.plan(dev, 3, 128, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16)) {
      for (var c : new FlashButterflyConv[] {f32, bi, big, small}) assertFalse(c.fb2k(true).fb2k(), c.toString());
    }
  }
}
