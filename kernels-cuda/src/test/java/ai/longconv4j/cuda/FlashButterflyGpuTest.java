// Shapes: B batch, H channels, L length, Lk kernel taps. u, y: (B, H, L); k: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every FlashButterfly kernel against the CPU float64 direct convolution, on fresh random data, with the
 * output poisoned with NaN first (an unwritten element fails the test).
 *
 * Tolerances (relative Frobenius error): FP32 arithmetic 1e-5: fp32 FFT error grows like eps*log2(N)
 * (6e-8 * 14 ~ 1e-6 at N = 16K), so 1e-5 keeps a 10x margin. 16-bit tensor-core paths 1e-2: each of the
 * 2*(J+1) <= 8 DFT stages rounds its operands once, to bf16 (unit roundoff u = 2^-8, rms relative error
 * about u/sqrt(3) = 2.3e-3) or fp16 (u = 2^-11, 2.8e-4); the stages are orthogonal up to scale, so these
 * independent errors add in quadrature: sqrt(8) * 2.3e-3 = 6.5e-3 for bf16, 8e-4 for fp16; 16-bit outputs
 * add one more rounding (2.3e-3 in quadrature). 1e-2 bounds that. The reference uses the rounded inputs.
 */
@Tag("gpu")
class FlashButterflyGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    var io = new Object[][] {
        {ElementType.F32, Precision.FP32, 1e-5}, {ElementType.F32, Precision.BF16, 1e-2},
        {ElementType.F32, Precision.F16, 1e-2}, {ElementType.BF16, Precision.BF16, 1e-2},
        {ElementType.F16, Precision.F16, 1e-2}};
    // (mode, B, H, L, Lk): awkward ones first (H = 111, odd B, L not a power of two, Lk < L, L = 1)
    var shapes = new Object[][] {
        {ConvMode.CAUSAL, 3, 111, 1000, 1000}, {ConvMode.CAUSAL, 2, 5, 1, 1}, {ConvMode.CAUSAL, 5, 7, 37, 20},
        {ConvMode.CAUSAL, 4, 9, 256, 256}, {ConvMode.CAUSAL, 3, 4, 2048, 2048}, {ConvMode.CAUSAL, 2, 3, 8192, 8192},
        {ConvMode.CAUSAL, 3, 5, 5000, 300}, {ConvMode.CIRCULAR, 3, 11, 256, 256}, {ConvMode.CIRCULAR, 2, 3, 4096, 4096},
        {ConvMode.BIDIRECTIONAL, 3, 13, 300, 300}, {ConvMode.BIDIRECTIONAL, 2, 3, 4096, 1000}};
    // 32K-point FFTs (16-bit shared memory): tensor-core precisions only
    var big = new Object[][] {{ConvMode.CAUSAL, 3, 2, 16384, 16384}, {ConvMode.CAUSAL, 2, 3, 9000, 5000},
        {ConvMode.CIRCULAR, 2, 2, 32768, 2000}, {ConvMode.BIDIRECTIONAL, 2, 2, 16384, 3000}};
    return Stream.concat(
        Stream.of(io).flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t[0], t[1], t[2], s[0], s[1], s[2], s[3], s[4]))),
        Stream.of(io).filter(t -> t[1] != Precision.FP32)
            .flatMap(t -> Stream.of(big).map(s -> Arguments.of(t[0], t[1], t[2], s[0], s[1], s[2], s[3], s[4]))));
  }

  @ParameterizedTest(name = "{0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void matchesDirectConvolution(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk) {
    check(io, compute, tol, mode, B, H, L, Lk, true);
  }

  /** The unfused twin (three shared-memory passes around the product) on the 16-bit paths. */
  @ParameterizedTest(name = "unfused {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void unfusedMatchesDirectConvolution(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L,
      int Lk) {
    assumeTrue(compute != Precision.FP32 && L > 100, "fusion applies to tensor-core paths with N >= 256");
    check(io, compute, tol, mode, B, H, L, Lk, false);
  }

  /** du = K^T dy + D dy from the same kernel with the conjugate spectrum (causal mode). */
  @ParameterizedTest(name = "backwardInput {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void backwardInputMatchesAdjoint(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L,
      int Lk) {
    backwardInput(io, compute, tol, mode, B, H, L, Lk, FlashButterflyConv.DEFAULT_PAIR_STAGES);
  }

  /** As backwardInputMatchesAdjoint with the other stage scheme than the default (pairStages). */
  @ParameterizedTest(name = "backwardInput other stage scheme {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void otherStageSchemeBackwardInputMatchesAdjoint(ElementType io, Precision compute, double tol, ConvMode mode, int B,
      int H, int L, int Lk) {
    assumeTrue(compute != Precision.FP32 && FlashButterflyConv.fftSize(mode, L) >= 256, "tensor cores, N >= 256");
    backwardInput(io, compute, tol, mode, B, H, L, Lk, !FlashButterflyConv.DEFAULT_PAIR_STAGES);
  }

  private void backwardInput(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk,
      boolean pairs) {
    assumeTrue(mode == ConvMode.CAUSAL, "the adjoint reference is written for the causal mode");
    var rng = new SplittableRandom(77L * L + H + io.ordinal() * 5 + compute.ordinal());
    float[] dy = Reference.randn(rng, B * H * L, 1.0);
    float[] k = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), D = Reference.randn(rng, H, 1.0);
    short[] dy16 = null;
    if (io != ElementType.F32) {
      dy16 = HalfFloats.encode(dy, io);
      dy = HalfFloats.decode(dy16, io);
    }
    double[] ref = Reference.causalAdjoint(dy, k, Lk, D, B, H, L);
    long bytes = (long) B * H * L * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute).pairStages(pairs).setWeights(k, Lk, D);
         var ddy = io == ElementType.F32 ? dev.upload(dy) : dev.upload(dy16);
         var ddu = dev.alloc((bytes + 3) / 4 * 4)) {
      ddu.fill32(0x7fc07fc0);
      assertEquals(pairs && compute != Precision.FP32 && conv.fftSize() >= 256, conv.kernelName().matches(".*_w(2|3|3b)|fbog_.*|fbk_.*"),
          conv.kernelName());
      conv.backwardInput(ddy, ddu, B);
      dev.stream().synchronize();
      float[] du = io == ElementType.F32 ? ddu.copyTo(new float[B * H * L], 0)
          : HalfFloats.decode(ddu.copyTo(new short[B * H * L], 0), io);
      Reference.assertClose("backwardInput " + conv + " B=" + B + " Lk=" + Lk, du, ref, tol);
    }
  }

  /**
   * dk and dD from backwardWeights against the float64 direct correlation (Reference.kernelGrad, itself checked
   * by the adjoint identity in HostSideTest), every mode, N <= 32K. The gradient's FFTs run in fp32 on every I/O
   * type (the inputs are the rounded 16-bit values, as the GPU sees them). Tolerance: fp32 FFT error is about
   * eps * log2(N) ~ 1e-6 of the full correlation vector's norm (N values); the Lk kept taps hold roughly Lk/N of
   * its energy, so their relative error is up to sqrt(N / Lk) times larger: tol = 1e-5 * sqrt(N / Lk) keeps a
   * 10x margin. dD is a plain fp32 sum of B*L products: 1e-5.
   */
  @ParameterizedTest(name = "backwardWeights {0} io, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void backwardWeightsMatchDirectCorrelation(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H,
      int L, int Lk) {
    int n = FlashButterflyConv.fftSize(mode, L);   // N = 32K: three fp32 passes (ThreePass.weights)
    assumeTrue(compute == Precision.BF16 || io == ElementType.F16, "fp32 FFTs for every plan: one run per I/O type");
    var rng = new SplittableRandom(500L * L + 3L * H + B + io.ordinal() + mode.ordinal() * 11);
    float[] u = Reference.randn(rng, B * H * L, 1.0), dy = Reference.randn(rng, B * H * L, 1.0);
    float[] k = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), D = Reference.randn(rng, H, 1.0);
    short[] u16 = null, dy16 = null;
    if (io != ElementType.F32) {
      u16 = HalfFloats.encode(u, io); u = HalfFloats.decode(u16, io);
      dy16 = HalfFloats.encode(dy, io); dy = HalfFloats.decode(dy16, io);
    }
    double[] dkRef = Reference.kernelGrad(mode, u, dy, Lk, B, H, L), dDRef = Reference.dGrad(u, dy, B, H, L);
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute);
         var du = io == ElementType.F32 ? dev.upload(u) : dev.upload(u16);
         var ddy = io == ElementType.F32 ? dev.upload(dy) : dev.upload(dy16);
         var dk = dev.alloc(4L * parts * H * Lk); var dD = dev.alloc(4L * H)) {
      if (mode == ConvMode.BIDIRECTIONAL) conv.setWeights(k, k, Lk, D); else conv.setWeights(k, Lk, D);
      dk.fill32(0x7fc00000);
      dD.fill32(0x7fc00000);
      conv.backwardWeights(du, ddy, B, dk, dD);
      dev.stream().synchronize();
      double tk = 1e-5 * Math.sqrt((double) n / Lk);
      Reference.assertClose("backwardWeights dk " + conv + " B=" + B + " Lk=" + Lk, dk.copyTo(new float[parts * H * Lk], 0),
          dkRef, tk);
      Reference.assertClose("backwardWeights dD " + conv + " B=" + B, dD.copyTo(new float[H], 0), dDRef, 1e-5);
    }
  }

  /**
   * The other shared-memory storage than the plan's default (16-bit below 8K points, fp32 from 8K to 16K), fused
   * for even L and unfused for odd L: both storages stay covered whatever the default is.
   */
  @ParameterizedTest(name = "other smem storage {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void otherSmemStorageMatchesDirectConvolution(ElementType io, Precision compute, double tol, ConvMode mode, int B,
      int H, int L, int Lk) {
    int n = FlashButterflyConv.fftSize(mode, L);
    assumeTrue(compute != Precision.FP32 && n <= FlashButterflyConv.MAX_N_FP32_SMEM,
        "the storage is a choice for tensor-core paths up to 16K points");
    check(io, compute, tol, mode, B, H, L, Lk, L % 2 == 0, !FlashButterflyConv.defaultSmem16(n, compute));
  }

  private void check(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk,
      boolean fused) {
    check(io, compute, tol, mode, B, H, L, Lk, fused, null);
  }

  /** 1024 threads per block (the 64-register kernels: 16-bit I/O), default storage. */
  @ParameterizedTest(name = "1024 threads {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void thousandThreadsMatchDirectConvolution(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H,
      int L, int Lk) {
    assumeTrue(io != ElementType.F32, "1024-thread blocks: kernels with 16-bit I/O");
    check(io, compute, tol, mode, B, H, L, Lk, true, null, 1024);
  }

  private void check(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk,
      boolean fused, Boolean smem16) {
    check(io, compute, tol, mode, B, H, L, Lk, fused, smem16, 0, null);
  }

  private void check(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk,
      boolean fused, Boolean smem16, int threads) {
    check(io, compute, tol, mode, B, H, L, Lk, fused, smem16, threads, null);
  }

  private void check(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk,
      boolean fused, Boolean smem16, int threads, Boolean pairs) {
    check(io, compute, tol, mode, B, H, L, Lk, fused, smem16, threads, pairs, null);
  }

  /** One radix-16 stage per shared-memory pass (pairStages(false): the fused one-stage kernels), default storage. */
  @ParameterizedTest(name = "1 stage/pass {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void oneStagePerPassMatchesDirectConvolution(ElementType io, Precision compute, double tol, ConvMode mode, int B,
      int H, int L, int Lk) {
    assumeTrue(compute != Precision.FP32 && FlashButterflyConv.fftSize(mode, L) >= 256, "tensor cores, N >= 256");
    check(io, compute, tol, mode, B, H, L, Lk, true, null, 0, false);
  }

  /**
   * Two radix-16 stages per warp in registers (the _w2 kernels: conv256_warp) at the most threads they take (768 with
   * 16-bit I/O or storage, else 512): every warp loops over fewer 256-point chunks than at the default block size.
   */
  @ParameterizedTest(name = "2 stages/warp, most threads {0} io, {1} compute, {3} B={4} H={5} L={6} Lk={7}")
  @MethodSource("cases")
  void pairStagesAtMostThreadsMatchDirectConvolution(ElementType io, Precision compute, double tol, ConvMode mode,
      int B, int H, int L, int Lk) {
    int n = FlashButterflyConv.fftSize(mode, L);
    assumeTrue(compute != Precision.FP32 && n >= 256, "two stages per warp: tensor cores, N >= 256");
    int threads = io == ElementType.F32 && !FlashButterflyConv.defaultSmem16(n, compute) ? 512 : 768;
    check(io, compute, tol, mode, B, H, L, Lk, true, null, threads, true);
  }

  /**
   * smem16: null keeps the plan's default storage; threads 0 keeps the plan's default; pairs: pairStages (null: the
   * plan's default); outer: outerStages (null: the default).
   */
  private void check(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H, int L, int Lk,
      boolean fused, Boolean smem16, int threads, Boolean pairs, Boolean outer) {
    var rng = new SplittableRandom(1000L * L + 31L * H + B + io.ordinal() * 7 + compute.ordinal() + mode.ordinal() * 13);
    float[] u = Reference.randn(rng, B * H * L, 1.0);
    float[] k = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] k1 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] D = Reference.randn(rng, H, 1.0);
    short[] u16 = null;
    if (io != ElementType.F32) {   // the GPU sees the rounded values; so does the reference
      u16 = HalfFloats.encode(u, io);
      u = HalfFloats.decode(u16, io);
    }
    double[] ref = switch (mode) {
      case CAUSAL -> Reference.causal(u, k, Lk, D, B, H, L);
      case CIRCULAR -> Reference.circular(u, k, Lk, D, B, H, L);
      case BIDIRECTIONAL -> Reference.bidirectional(u, k, k1, Lk, D, B, H, L);
    };
    long bytes = (long) B * H * L * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute).fused(fused);
         var du = io == ElementType.F32 ? dev.upload(u) : dev.upload(u16);
         var dy = dev.alloc((bytes + 3) / 4 * 4)) {
      if (smem16 != null) conv.smem16(smem16);
      if (threads > 0) conv.threads(threads);
      if (pairs != null) conv.pairStages(pairs);
      boolean w2 = (pairs != null ? pairs : FlashButterflyConv.DEFAULT_PAIR_STAGES) && fused && compute != Precision.FP32
          && conv.fftSize() >= 256 && conv.threads() <= FlashButterflyConv.PAIR_MAX_THREADS;
      assertEquals(w2, conv.kernelName().matches(".*_w(2|3|3b)|fbog_.*|fbk_.*"), conv.kernelName());
      if (outer != null) conv.outerStages(outer);
      boolean paired = (outer == null ? OuterStages.DEFAULT : outer) && dev.computeCapability() >= 90;
      if (w2 && !conv.outerGlobal() && !conv.fb2k()) assertEquals(OuterStages.suffix(conv.fftSize(), conv.threads(), paired),
          conv.kernelName().substring(conv.kernelName().lastIndexOf('_')), conv.kernelName());
      if (mode == ConvMode.BIDIRECTIONAL) conv.setWeights(k, k1, Lk, D); else conv.setWeights(k, Lk, D);
      dy.fill32(0x7fc07fc0);   // poison: NaN as fp32, and each half is NaN as bf16 and as fp16
      conv.forward(du, dy, B);
      dev.stream().synchronize();
      float[] y = io == ElementType.F32 ? dy.copyTo(new float[B * H * L], 0)
          : HalfFloats.decode(dy.copyTo(new short[B * H * L], 0), io);
      Reference.assertClose(conv + " B=" + B + " Lk=" + Lk, y, ref, tol);
    }
  }
}
