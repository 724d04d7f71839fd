// Shapes: B batch, H channels, L length, Lk kernel taps, N FFT size. u, y: (B, H, L); k: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * The {@code _w3}/{@code _w3b} forward kernels (outer stages with fewer shared-memory passes, monarch_outer.cuh) against
 * the float64 CPU direct convolution and against their slow twin, the {@code _w2} kernels ({@code outerStages(false)}),
 * on the same input, outputs poisoned with NaN first. The shapes reach every new path: N = 512, 1K, 2K (first stage
 * from/to global memory, radix 2, 4, 8), 8K (_w3), 16K and 32K (_w3b), with and without the zero half (circular: none),
 * with 16-byte and with scalar global accesses (L % 8 != 0), odd B, odd H.
 * Tolerance 1e-2 against float64, as FlashButterflyGpuTest: at most 8 DFT stages round their operands to bf16 once each
 * (u = 2^-8, rms 2.3e-3 per stage, independent: sqrt(8) * 2.3e-3 = 6.5e-3) plus the 16-bit output rounding. The new
 * kernels round no more often than the twin (they skip one 16-bit round trip each way), so new vs twin differ by at
 * most the sum of the two errors: 2e-2.
 */
@Tag("gpu")
class FlashButterflyOuterStagesGpuTest extends CudaDeviceTest {
  private static final Map<String, double[]> REFS = new HashMap<>();

  static Stream<Arguments> cases() {
    var io = new Object[][] {{ElementType.BF16, Precision.BF16}, {ElementType.F16, Precision.F16},
        {ElementType.F32, Precision.BF16}, {ElementType.F32, Precision.F16}};
    // (mode, B, H, L, Lk)
    var shapes = new Object[][] {
        {ConvMode.CAUSAL, 3, 5, 256, 256}, {ConvMode.BIDIRECTIONAL, 3, 7, 300, 300}, {ConvMode.CAUSAL, 5, 3, 1000, 1000},
        {ConvMode.CAUSAL, 3, 3, 777, 500}, {ConvMode.CIRCULAR, 2, 3, 512, 512}, {ConvMode.CIRCULAR, 3, 2, 1024, 1024},
        {ConvMode.CIRCULAR, 2, 3, 2048, 2048}, {ConvMode.CAUSAL, 3, 3, 3001, 3001}, {ConvMode.BIDIRECTIONAL, 2, 3, 4096, 1000},
        {ConvMode.CIRCULAR, 3, 2, 8192, 8192}, {ConvMode.CAUSAL, 2, 3, 5000, 5000}, {ConvMode.CAUSAL, 3, 2, 4097, 300},
        {ConvMode.CIRCULAR, 2, 2, 16384, 2000}, {ConvMode.CAUSAL, 3, 2, 16384, 16384}, {ConvMode.CAUSAL, 2, 2, 9001, 9001},
        {ConvMode.CIRCULAR, 2, 2, 32768, 3000}, {ConvMode.BIDIRECTIONAL, 3, 2, 10000, 4000}};
    return Stream.of(io).flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t[0], t[1], s[0], s[1], s[2], s[3], s[4])));
  }

  /** New kernels at the default threads against float64 and against the _w2 twin on the same input. */
  @ParameterizedTest(name = "{0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void outerStagesMatchDirectConvolutionAndTheTwin(ElementType io, Precision compute, ConvMode mode, int B, int H, int L,
      int Lk) {
    float[] fast = run(io, compute, mode, B, H, L, Lk, 0, true, false, 0);
    float[] twin = run(io, compute, mode, B, H, L, Lk, 0, false, false, 0);
    double[] twin64 = new double[twin.length];
    for (int i = 0; i < twin.length; i++) twin64[i] = twin[i];
    Reference.assertClose("_w3 vs _w2 " + io + " " + mode + " L=" + L, fast, twin64, 2e-2);
  }

  /** The most threads the kernel takes (768 for _w3, 512 for _w3b) and 64 (each warp loops over many column units). */
  @ParameterizedTest(name = "threads {0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void outerStagesAtFewAndMostThreads(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk) {
    int n = FlashButterflyConv.fftSize(mode, L);
    int most = n >= 16384 ? OuterStages.BIG_MAX_THREADS : io == ElementType.F32 && n < 2048 ? 512 : 768;
    run(io, compute, mode, B, H, L, Lk, most, true, false, 0);
    run(io, compute, mode, B, H, L, Lk, 64, true, false, 0);
  }

  /** backwardInput (flags bit 1: the conjugate spectrum) through the new kernels, causal shapes. */
  @ParameterizedTest(name = "backwardInput {0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void outerStagesBackwardInputMatchesAdjoint(ElementType io, Precision compute, ConvMode mode, int B, int H, int L,
      int Lk) {
    assumeTrue(mode == ConvMode.CAUSAL, "the adjoint reference is written for the causal mode");
    run(io, compute, mode, B, H, L, Lk, 0, true, true, 0);
  }

  /**
   * Several batch pairs per block (the _w3 kernels, N <= 2K): 2 and 3 (with odd B the last block runs fewer pairs than
   * the others, with B = 2 a block has pairs to skip), and 3 with the conjugate spectrum (backwardInput, causal).
   */
  @ParameterizedTest(name = "pairs per block {0} io, {1} compute, {2} B={3} H={4} L={5} Lk={6}")
  @MethodSource("cases")
  void outerStagesWithSeveralPairsPerBlock(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk) {
    assumeTrue(FlashButterflyConv.fftSize(mode, L) <= 2048, "pairs per block: the _w3 kernels at N <= 2K");
    run(io, compute, mode, B, H, L, Lk, 0, true, false, 2);
    run(io, compute, mode, B, H, L, Lk, 0, true, false, 3);
    if (mode == ConvMode.CAUSAL) run(io, compute, mode, B, H, L, Lk, 0, true, true, 3);
  }

  /**
   * One forward (or backwardInput) with outerStages(outer) at threads (0: default) and perBlock batch pairs per block (0:
   * default), checked against float64 (tol 1e-2, see the class comment); returns the output.
   */
  private float[] run(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk, int threads,
      boolean outer, boolean adjoint, int perBlock) {
    var rng = new SplittableRandom(4000L * L + 17L * H + B + io.ordinal() * 3 + compute.ordinal() + mode.ordinal() * 11);
    float[] u = Reference.randn(rng, B * H * L, 1.0);
    float[] k = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] D = Reference.randn(rng, H, 1.0);
    short[] u16 = null;
    if (io != ElementType.F32) {   // the GPU sees the rounded values; so does the reference
      u16 = HalfFloats.encode(u, io);
      u = HalfFloats.decode(u16, io);
    }
    float[] uu = u;   // the same seeded inputs for every run of a case: the float64 reference is computed once
    double[] ref = REFS.computeIfAbsent(io + " " + compute + " " + mode + " " + B + " " + H + " " + L + " " + Lk + " " + adjoint,
        key -> adjoint ? Reference.causalAdjoint(uu, k, Lk, D, B, H, L) : switch (mode) {
          case CAUSAL -> Reference.causal(uu, k, Lk, D, B, H, L);
          case CIRCULAR -> Reference.circular(uu, k, Lk, D, B, H, L);
          case BIDIRECTIONAL -> Reference.bidirectional(uu, k, k1, Lk, D, B, H, L);
        });
    long bytes = (long) B * H * L * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute).outerStages(outer).pairsPerBlock(perBlock)
        .outerGlobal(false).fb2k(false);
         var du = io == ElementType.F32 ? dev.upload(u) : dev.upload(u16);
         var dy = dev.alloc((bytes + 3) / 4 * 4)) {
      if (threads > 0) conv.threads(threads);
      int n = conv.fftSize();
      String suffix = conv.kernelName().substring(conv.kernelName().lastIndexOf('_'));
      boolean paired = outer && dev.computeCapability() >= 90 && OuterStages.applies(n, conv.threads());
      assertEquals(paired ? n >= 16384 ? "_w3b" : "_w3" : "_w2", suffix,
          conv.kernelName());
      if (mode == ConvMode.BIDIRECTIONAL) conv.setWeights(k, k1, Lk, D); else conv.setWeights(k, Lk, D);
      dy.fill32(0x7fc07fc0);   // poison: NaN as fp32, and each half is NaN as bf16 and as fp16
      if (adjoint) conv.backwardInput(du, dy, B); else conv.forward(du, dy, B);
      dev.stream().synchronize();
      float[] y = io == ElementType.F32 ? dy.copyTo(new float[B * H * L], 0)
          : HalfFloats.decode(dy.copyTo(new short[B * H * L], 0), io);
      Reference.assertClose((adjoint ? "backwardInput " : "") + conv + " B=" + B + " Lk=" + Lk + " pairs/block=" + perBlock, y,
          ref, 1e-2);
      return y;
    }
  }
}
