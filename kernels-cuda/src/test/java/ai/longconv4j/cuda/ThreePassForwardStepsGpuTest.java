// Shapes: B batch (odd: the last FFT pair has one row), H channels (111 and other odd counts), L length (40000, 33333:
// not powers of two; 33333 odd), Lk taps per side, N FFT size = N1 * M (64K .. 512K at the default M, small forced M).
// u, dy, y, du: (B, H, L); k (H, Lk) (bidirectional k0, k1); D (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvGrads;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Round 8d's forward steps ({@link ThreePass#forwardSteps}: the middle kernel fb3_mid_* moves its rows between the scratch
 * and shared memory with 16-byte accesses; at N1 <= 16 the outer passes stage column tiles in shared memory,
 * fb3_outer_{fwd,inv}_t_*; the default tiles only the forward outer pass, both tiled is checked too) against float64 (lib's FftConv, JTransforms) and against round 8c's kernels (the twin) on
 * the same data: forward and backwardInput (the forward with the conjugate spectrum), every I/O type, every middle
 * kernel a plan can choose (fp32; tensor cores with 16-bit or fp32 storage, i.e. bf16x2 / half2 or float2 scratch, two
 * stages per warp or one; 768 threads), N1 = 8, 16 (tiles) and 32, 64 (column kernels), L a multiple of 8 (16-byte u
 * and y accesses) and not (33333, 1002: element-wise), chunks of pairs and of channels forced by small budgets, and a
 * scratch 8 bytes off 16-byte alignment (every kernel must take its element-wise fallback). Outputs poisoned first.
 *
 * Tolerances (relative Frobenius error) as ThreePassGpuTest's: fp32 1e-5 (fp32 FFT error ~ eps * log2(N) ~ 1.1e-6 at
 * N = 2^19); 16-bit 1e-2 (~9 roundings to 16 bits in the inner MMA stages and the output plus the 16-bit scratch after
 * the outer pass: sqrt(10) * 2.3e-3 = 7.3e-3 for bf16 with independent roundings, fp16 ~9e-4). The 16-byte middle
 * alone vs round 8c: bit for bit (the same kernel binary; the flag only chooses how a row travels, through the same
 * ldc / st conversions in and stc roundings out, so conv_smem sees identical shared memory), and so is a misaligned
 * scratch vs an aligned one. Round 8d vs 8c: the tile kernels repeat the column kernels' expressions (expected equal
 * too, but another compilation may contract a product into an FMA differently): fp32 1e-6 (a few ulp), 16-bit 3e-3
 * (a scratch value rounded to the neighbouring 16-bit number moves it by <= 2^-8 relative; ThreePassBackwardGpuTest's
 * bound for the same effect).
 */
@Tag("gpu")
class ThreePassForwardStepsGpuTest extends CudaDeviceTest {
  static final Object[][] IO = {{ElementType.F32, Precision.FP32, 1e-5}, {ElementType.F32, Precision.BF16, 1e-2},
      {ElementType.F32, Precision.F16, 1e-2}, {ElementType.BF16, Precision.BF16, 1e-2}, {ElementType.F16, Precision.F16, 1e-2}};

  /**
   * (mode, B, H, L, Lk, M: 0 = the plan's default, chunk: 0 none, 1 pairs, 2 channels): N = 64K (H = 111; circular),
   * 128K (L = 40000 with chunks of pairs and of channels, L = 33333), 256K with forced M = 4K (N1 = 64), 512K (M = 16K,
   * N1 = 32); then forced small M: 256 (L = 1002: element-wise u and y), 32 (N1 = 64; fewer 16-byte accesses than
   * threads), 1K (chunks of channels), 64 with B = 1 (one row in the only pair).
   */
  static Stream<Arguments> cases() {
    var shapes = new Object[][] {
        {ConvMode.CAUSAL, 3, 111, 20000, 20000, 0, 0}, {ConvMode.CAUSAL, 5, 7, 40000, 3000, 0, 1},
        {ConvMode.CAUSAL, 3, 5, 33333, 33333, 0, 0}, {ConvMode.BIDIRECTIONAL, 3, 5, 40000, 20000, 0, 2},
        {ConvMode.CIRCULAR, 3, 4, 1 << 16, 1 << 16, 0, 0}, {ConvMode.CAUSAL, 3, 3, 100000, 100000, 4096, 0},
        {ConvMode.CAUSAL, 3, 3, 1 << 18, 1 << 18, 0, 2},
        {ConvMode.CAUSAL, 3, 5, 1002, 1002, 256, 0}, {ConvMode.BIDIRECTIONAL, 3, 3, 1000, 700, 32, 0},
        {ConvMode.CAUSAL, 5, 9, 3000, 3000, 1024, 2}, {ConvMode.CIRCULAR, 1, 3, 4096, 4096, 64, 1}};
    return Stream.of(IO).flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t[0], t[1], t[2], s[0], s[1], s[2], s[3], s[4], s[5], s[6])));
  }

  /** One float64 reference per case; every middle variant the plan allows, new steps vs float64 and vs the old ones. */
  @ParameterizedTest(name = "{0} io, {1}, {3} B={4} H={5} L={6} Lk={7} M={8} chunks={9}")
  @MethodSource("cases")
  void vectorMiddleMatchesFloat64AndTheTwin(ElementType io, Precision compute, double tol, ConvMode mode, int B, int H,
      int L, int Lk, int M, int chunk) {
    var rng = new SplittableRandom(577L * L + 13L * H + B + io.ordinal() * 7 + compute.ordinal() * 11 + mode.ordinal() * 3 + M + chunk);
    var c = ConvCase.random(rng, io, B, H, L, Lk);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    var lm = ai.longconv4j.conv.ConvMode.valueOf(mode.name());
    var shape = new ConvShape(B, 1, H, L, Lk, lm);
    var cpu = ConvPlan.of(L, Lk, lm, ConvEngine.FFT, ai.longconv4j.conv.Precision.F64).newConvolver();
    double[] kl = c.libKernel(H, Lk, bi), ud = ConvCase.toD(c.u()), Dd = ConvCase.toD(c.D());   // lib's layout
    double[] yRef = cpu.forward(shape, ud, kl, Dd);
    ConvGrads g = cpu.backward(shape, ud, kl, Dd, ConvCase.toD(c.dy()));
    long bytes = (long) B * H * L * io.bytes();
    var checks = new ArrayList<Executable>();   // every check runs and reports (assertAll)
    double twinTol = compute == Precision.FP32 ? 1e-6 : 3e-3;
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute).fb32(false);   // the causal N = 64K: 3 passes
         var du = c.uploadU(dev); var ddy = c.uploadDy(dev);
         var out = dev.alloc((bytes + 3) / 4 * 4)) {
      if (M > 0) conv.innerSize(M);
      assertTrue(conv.threePass() && !conv.fb32(), conv + " should run three passes");
      if (bi) conv.setWeights(c.k0(), c.k1(), Lk, c.D()); else conv.setWeights(c.k0(), Lk, c.D());
      var tp = conv.threePassPlan();
      assertTrue(tp.vectorForwardMiddle() || "old".equals(System.getProperty(ThreePass.FWD_STEPS_PROPERTY)), "default on");
      int m = conv.innerSize();
      boolean tc = compute != Precision.FP32, s16 = conv.smem16();
      // (storage 16-bit, two stages per warp, threads: 0 = the plan's default) for each middle kernel this plan can run
      List<Object[]> variants = new ArrayList<>();
      variants.add(new Object[] {s16, FlashButterflyConv.DEFAULT_PAIR_STAGES, 0});
      if (tc && m <= 8192) variants.add(new Object[] {!s16, FlashButterflyConv.DEFAULT_PAIR_STAGES, 0});   // other scratch
      if (tc && m >= 256) variants.add(new Object[] {s16, !FlashButterflyConv.DEFAULT_PAIR_STAGES, 0});   // other scheme
      if (tc && m >= 8192) variants.add(new Object[] {s16, true, FlashButterflyConv.PAIR_MAX_THREADS});   // 768 threads
      for (Object[] v : variants) {
        boolean vs16 = (Boolean) v[0];
        int threads = (Integer) v[2];
        if (tc) conv.smem16(vs16);
        conv.pairStages((Boolean) v[1]);
        if (threads > 0) conv.threads(threads);
        long row = (long) conv.fftSize() * (vs16 ? 4 : 8);
        if (chunk == 1) tp.budgets(row * 2 * H, row * 2 * H);   // 2 pairs per chunk
        if (chunk == 2) tp.budgets(row * 2, row * 3);           // one pair, 2 channels per chunk
        String what = "3-pass " + conv.kernelName() + " " + conv + " B=" + B + " Lk=" + Lk;
        assertEquals("fb3_mid_" + compute.tag() + (vs16 ? "_s16" : ""), conv.kernelName().replace("_w2", ""), what);
        tp.forwardSteps(true, true, false);   // the default: the tiled forward outer pass, the column inverse
        float[][] fresh = run(conv, du, ddy, out, io, B, H, L);
        tp.forwardSteps(true, true, true);    // round 8d: both outer passes tiled
        float[][] tiled = run(conv, du, ddy, out, io, B, H, L);
        tp.forwardSteps(true, false, false);  // the 16-byte middle with round 8c's outer passes
        float[][] mid = run(conv, du, ddy, out, io, B, H, L);
        tp.forwardSteps(false, false, false); // round 8c
        float[][] old = run(conv, du, ddy, out, io, B, H, L);
        String w = what + (tp.tileOuterApplies() ? "" : " (N1 > 16: column outer passes)");
        checks.add(() -> Reference.assertClose(w + " forward", fresh[0], yRef, tol));
        checks.add(() -> Reference.assertClose(w + " backwardInput", fresh[1], g.du(), tol));
        checks.add(() -> Reference.assertClose(w + " forward, tiled inverse", tiled[0], yRef, tol));
        checks.add(() -> Reference.assertClose(w + " backwardInput, tiled inverse", tiled[1], g.du(), tol));
        checks.add(() -> Reference.assertClose(w + " forward, tiled inverse vs old steps", tiled[0], ConvCase.toD(old[0]), twinTol));
        checks.add(() -> Reference.assertClose(w + " forward, old steps", old[0], yRef, tol));
        checks.add(() -> Reference.assertClose(w + " backwardInput, old steps", old[1], g.du(), tol));
        checks.add(() -> Assertions.assertArrayEquals(old[0], mid[0], w + " forward: 16-byte vs element-wise rows"));
        checks.add(() -> Assertions.assertArrayEquals(old[1], mid[1], w + " backwardInput: 16-byte vs element-wise rows"));
        checks.add(() -> Reference.assertClose(w + " forward vs old steps", fresh[0], ConvCase.toD(old[0]), twinTol));
        checks.add(() -> Reference.assertClose(w + " backwardInput vs old steps", fresh[1], ConvCase.toD(old[1]), twinTol));
        if (tc && vs16) {   // 16-bit scratch 8 bytes off 16-byte alignment: the kernels' element-wise fallbacks
          tp.forwardSteps(true, true, false).misalignScratchForTest(true);
          float[][] shifted = run(conv, du, ddy, out, io, B, H, L);
          tp.misalignScratchForTest(false);
          checks.add(() -> Assertions.assertArrayEquals(fresh[0], shifted[0], w + " forward, misaligned scratch"));
          checks.add(() -> Assertions.assertArrayEquals(fresh[1], shifted[1], w + " backwardInput, misaligned scratch"));
        }
        tp.forwardSteps(true, true, false);
        if (threads > 0) conv.threads(FlashButterflyConv.defaultThreads(m, compute));
      }
    }
    Assertions.assertAll(checks);
  }

  /** {forward(u), backwardInput(dy)} read back as fp32, each output poisoned first. */
  private float[][] run(FlashButterflyConv conv, DeviceBuffer u, DeviceBuffer dy, DeviceBuffer out, ElementType io, int B,
      int H, int L) {
    out.fill32(0x7fc07fc0);   // NaN as fp32 and, each half, as bf16 and fp16
    conv.forward(u, out, B);
    float[] y = ConvCase.read(dev, out, io, B * H * L);
    out.fill32(0x7fc07fc0);
    conv.backwardInput(dy, out, B);
    return new float[][] {y, ConvCase.read(dev, out, io, B * H * L)};
  }
}
