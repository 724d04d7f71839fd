// Shapes: B batch, H channels, L length, Lk kernel taps, N = N1 * N2. u, y, dy, du: (B, H, L); k: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.LearnedButterfly;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LearnedButterflyConv's fp32 twin (GPU, fp32 arithmetic, {@code tensorCores(false)}) against lib's LearnedButterfly in float64 — forward, du, dk, dD and the
 * four block gradients — with blocks moved away from the DFT (a trained state: + 0.05 randn), outputs poisoned first.
 * Tolerances (relative Frobenius error): y and du 1e-5 for fp32 I/O: four dense complex products with inner size
 * <= 64 and sincospif twiddles give ~ sqrt(4 * 64) * 6e-8 = 1e-6 (10x margin); 16-bit I/O adds the output's rounding
 * (bf16: 2.3e-3 rms, fp16: 2.8e-4; the reference sees the same rounded inputs): 1e-2. dk: fp32 sums of N products
 * per tap, and the kept Lk of N taps hold ~Lk/N of the energy: 1e-5 * sqrt(N / Lk). dD 1e-5. Block gradients: each
 * entry sums B*H*64 products serially in fp32 (worst case n * eps = 1000 * 6e-8 = 6e-5): 1e-4.
 */
@Tag("gpu")
class LearnedButterflyGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    var shapes = new Object[][] {{ConvMode.CAUSAL, 3, 5, 300, 300}, {ConvMode.CAUSAL, 2, 3, 1024, 1024},
        {ConvMode.CAUSAL, 3, 2, 37, 20}, {ConvMode.BIDIRECTIONAL, 2, 3, 200, 150}, {ConvMode.CIRCULAR, 2, 3, 256, 256}};
    return Stream.of(ElementType.F32, ElementType.BF16, ElementType.F16)
        .flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4])));
  }

  @ParameterizedTest(name = "{0} io, {1} B={2} H={3} L={4} Lk={5}")
  @MethodSource("cases")
  void matchesLibLearnedButterfly(ElementType io, ConvMode mode, int B, int H, int L, int Lk) {
    var rng = new SplittableRandom(13L * L + 5L * H + B + io.ordinal() + 7L * mode.ordinal());
    float[] u = Reference.randn(rng, B * H * L, 1.0), dy = Reference.randn(rng, B * H * L, 1.0);
    float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] D = Reference.randn(rng, H, 1.0);
    short[] u16 = null, dy16 = null;
    if (io != ElementType.F32) {
      u16 = HalfFloats.encode(u, io); u = HalfFloats.decode(u16, io);
      dy16 = HalfFloats.encode(dy, io); dy = HalfFloats.decode(dy16, io);
    }
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    var lm = LearnedButterflyConv.libMode(mode);
    ConvPlan plan = ConvPlan.of(L, Lk, lm, ConvEngine.LEARNED, ai.longconv4j.conv.Precision.F64);
    double[][] blocks = LearnedButterfly.atInit(plan).blocks();
    for (double[] b : blocks)   // a trained state, not the DFT; rounded to float as the GPU holds them
      for (int i = 0; i < b.length; i++) b[i] = (float) (b[i] + 0.05 * Reference.randn(rng, 1, 1.0)[0]);
    var cpu = new LearnedButterfly(plan, blocks);
    var shape = new ConvShape(B, 1, H, L, Lk, lm);
    double[] kl = new double[H * (bi ? 2 : 1) * Lk];
    for (int h = 0; h < H; h++)
      for (int j = 0; j < Lk; j++) {
        kl[h * (bi ? 2 : 1) * Lk + j] = k0[h * Lk + j];
        if (bi) kl[h * 2 * Lk + Lk + j] = k1[h * Lk + j];
      }
    double[] ud = toD(u), dyd = toD(dy), Dd = toD(D);
    double[] yRef = cpu.forward(shape, ud, kl, Dd);
    LearnedButterfly.Grads g = cpu.backwardAll(shape, ud, kl, Dd, dyd);
    double tol = io == ElementType.F32 ? 1e-5 : 1e-2;
    long bytes = (long) B * H * L * io.bytes();
    // the fp32 kernels (16-bit I/O would route forward and backward to tensor cores: LearnedTensorCoreGpuTest)
    try (var conv = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).tensorCores(false);
         var du = io == ElementType.F32 ? dev.upload(u) : dev.upload(u16);
         var ddy = io == ElementType.F32 ? dev.upload(dy) : dev.upload(dy16);
         var out = dev.alloc((bytes + 3) / 4 * 4);
         var dk = dev.alloc(4L * (bi ? 2 : 1) * H * Lk); var dD = dev.alloc(4L * H)) {
      assertEquals(plan.fftSize(), conv.fftSize());
      if (bi) conv.setWeights(k0, k1, D); else conv.setWeights(k0, D);
      out.fill32(0x7fc07fc0);
      conv.forward(du, out, B);
      Reference.assertClose("learned forward " + conv + " B=" + B, read(out, io, B * H * L), yRef, tol);
      out.fill32(0x7fc07fc0);
      dk.fill32(0x7fc00000);
      dD.fill32(0x7fc00000);
      conv.backward(du, ddy, B, out, dk, dD);
      Reference.assertClose("learned du " + conv, read(out, io, B * H * L), g.conv().du(), tol);
      double[] dkRef = ConvCase.gpuKernelLayout(g.conv().dk(), H, Lk, bi);   // GPU layout (sides, H, Lk)
      Reference.assertClose("learned dk " + conv, dk.copyTo(new float[dkRef.length], 0), dkRef,
          1e-5 * Math.sqrt((double) conv.fftSize() / Lk));
      Reference.assertClose("learned dD " + conv, dD.copyTo(new float[H], 0), g.conv().dD(), 1e-5);
      double[][] gb = conv.blockGrads();
      String[] names = {"dFa", "dFb", "dGb", "dGa"};
      for (int i = 0; i < 4; i++) Reference.assertClose("learned " + names[i] + " " + conv, toF(gb[i]), g.dBlocks()[i], 1e-4);
    }
  }

  private static double[] toD(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) d[i] = a[i];
    return d;
  }

  private static float[] toF(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
    return f;
  }

  private static float[] read(DeviceBuffer b, ElementType io, int n) {
    dev.stream().synchronize();
    return io == ElementType.F32 ? b.copyTo(new float[n], 0) : HalfFloats.decode(b.copyTo(new short[n], 0), io);
  }
}
