// Shapes: B batch, H channels, L length, Lk taps. u, dy: (B, H, L); k0, k1: (H, Lk) (k1: bidirectional only); D: (H);
// kl: lib's kernel layout (H, sides, Lk); blocks: the four learned blocks, interleaved complex (n, n, 2).
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.LearnedButterfly;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One random learned-butterfly problem as the learned GPU tests draw it: 16-bit inputs and output gradient, fp32 taps
 * and skip weights, and blocks in a trained state (the DFT plus 5 % noise, rounded to float as the GPU holds them), with
 * lib's float64 {@link LearnedButterfly} for the reference. The draws come from {@code rng} in a fixed order (u, dy, k0,
 * k1, D, the blocks), so a test's seed fixes its data.
 */
record LearnedCase(ElementType io, ConvMode mode, int B, int H, int L, int Lk, short[] u16, short[] dy16, float[] u, float[] dy,
                   float[] k0, float[] k1, float[] D, ConvPlan plan, double[][] blocks, double[] kl, ConvShape shape) {

  static LearnedCase draw(SplittableRandom rng, ElementType io, ConvMode mode, int B, int H, int L, int Lk) {
    short[] u16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io);
    float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] D = Reference.randn(rng, H, 1.0);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    var lm = LearnedButterflyConv.libMode(mode);
    ConvPlan plan = ConvPlan.of(L, Lk, lm, ConvEngine.LEARNED, ai.longconv4j.conv.Precision.F64);
    double[][] dft = LearnedButterfly.atInit(plan).blocks(), blocks = new double[4][];
    for (int i = 0; i < 4; i++) {   // a trained state, not the DFT; rounded to float as the GPU holds them
      blocks[i] = dft[i].clone();
      for (int j = 0; j < blocks[i].length; j++) blocks[i][j] = (float) (blocks[i][j] + 0.05 * Reference.randn(rng, 1, 1.0)[0]);
    }
    double[] kl = new double[H * (bi ? 2 : 1) * Lk];
    for (int h = 0; h < H; h++)
      for (int j = 0; j < Lk; j++) {
        kl[h * (bi ? 2 : 1) * Lk + j] = k0[h * Lk + j];
        if (bi) kl[h * 2 * Lk + Lk + j] = k1[h * Lk + j];
      }
    return new LearnedCase(io, mode, B, H, L, Lk, u16, dy16, HalfFloats.decode(u16, io), HalfFloats.decode(dy16, io), k0, k1, D,
        plan, blocks, kl, new ConvShape(B, 1, H, L, Lk, lm));
  }

  boolean bidirectional() {
    return mode == ConvMode.BIDIRECTIONAL;
  }

  /** lib's float64 reference with these blocks. */
  LearnedButterfly cpu() {
    return new LearnedButterfly(plan, blocks);
  }

  /** lib's float64 forward. */
  double[] yRef() {
    return cpu().forward(shape, LearnedTensorCoreGpuTest.toD(u), kl, LearnedTensorCoreGpuTest.toD(D));
  }

  /** lib's float64 input gradient. */
  double[] duRef() {
    return cpu().backward(shape, LearnedTensorCoreGpuTest.toD(u), kl, LearnedTensorCoreGpuTest.toD(D), LearnedTensorCoreGpuTest.toD(dy)).du();
  }

  /** lib's float64 backward, every gradient. */
  LearnedButterfly.Grads gradsRef() {
    return cpu().backwardAll(shape, LearnedTensorCoreGpuTest.toD(u), kl, LearnedTensorCoreGpuTest.toD(D), LearnedTensorCoreGpuTest.toD(dy));
  }

  /**
   * Runs each plan's forward and du (the non-dumping adjoint chain) on this case with outputs poisoned past B H L,
   * and checks: nothing written past B H L, forward and du within 1e-2 of lib's float64 (16-bit I/O: a few bf16 ulps
   * over the chained products), and every plan after the first within 1e-3 of the first (the twin: the same products
   * and roundings in another order or launch). Prints each variant's errors and how many values differ bit for bit.
   * Returns {forward, du} per plan.
   */
  float[][][] runAgainstFirst(CudaDevice dev, String[] names, LearnedButterflyConv[] plans, String what) {
    int n = B * H * L, tail = 64;   // tail: 16-bit values past B H L that must stay poisoned
    double[] yRef = yRef(), duRef = duRef();
    float[][] y = new float[names.length][], g = new float[names.length][];
    try (var du = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc(2L * (n + tail));
         var dk = dev.alloc(4L * (bidirectional() ? 2 : 1) * H * Lk); var dD = dev.alloc(4L * H)) {
      for (int i = 0; i < names.length; i++) {
        var c = plans[i];
        if (bidirectional()) c.setWeights(k0, k1, D); else c.setWeights(k0, D);
        out.fill32(0x7fc07fc0);
        c.forward(du, out, B);
        short[] all = read(dev, out, n + tail);
        y[i] = HalfFloats.decode(java.util.Arrays.copyOf(all, n), io);
        for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], names[i] + " forward wrote past B H L at " + j + ": " + what);
        out.fill32(0x7fc07fc0);
        c.backward(du, ddy, B, out, dk, dD);   // du through the non-dumping adjoint chain (fp32 gradient route)
        all = read(dev, out, n + tail);
        g[i] = HalfFloats.decode(java.util.Arrays.copyOf(all, n), io);
        for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], names[i] + " du wrote past B H L at " + j + ": " + what);
        Reference.assertClose(names[i] + " forward vs lib " + what, y[i], yRef, 1e-2);
        Reference.assertClose(names[i] + " du vs lib " + what, g[i], duRef, 1e-2);
        if (i == 0) continue;
        Reference.assertClose(names[i] + " forward vs " + names[0] + " " + what, y[i], LearnedTensorCoreGpuTest.toD(y[0]), 1e-3);
        Reference.assertClose(names[i] + " du vs " + names[0] + " " + what, g[i], LearnedTensorCoreGpuTest.toD(g[0]), 1e-3);
        int diff = 0, diffG = 0;
        for (int j = 0; j < n; j++) {
          if (Float.floatToRawIntBits(y[i][j]) != Float.floatToRawIntBits(y[0][j])) diff++;
          if (Float.floatToRawIntBits(g[i][j]) != Float.floatToRawIntBits(g[0][j])) diffG++;
        }
        System.out.printf("%s %s: forward rel err vs %s %.3e (%d of %d values differ), vs lib %.3e; du vs %s %.3e (%d differ), vs lib %.3e%n",
            names[i], what, names[0], Reference.relErr(y[i], LearnedTensorCoreGpuTest.toD(y[0])), diff, n, Reference.relErr(y[i], yRef),
            names[0], Reference.relErr(g[i], LearnedTensorCoreGpuTest.toD(g[0])), diffG, Reference.relErr(g[i], duRef));
      }
    }
    return new float[][][] {y, g};
  }

  /** What one backward gave: du, dk (GPU layout), dD and the four block gradients. */
  record Backward(float[] du, float[] dk, float[] dD, double[][] blockGrads) { }

  /**
   * Runs plan c's backward on this case (its weights set from this case) into out / dk / dD, each poisoned with NaN
   * bit patterns first so that an unwritten value fails every comparison, and reads everything back.
   */
  Backward backwardPoisoned(LearnedButterflyConv c, DeviceBuffer u, DeviceBuffer dy, DeviceBuffer out, DeviceBuffer dk, DeviceBuffer dD) {
    if (bidirectional()) c.setWeights(k0, k1, D); else c.setWeights(k0, D);
    out.fill32(0x7fc07fc0);
    dk.fill32(0x7fc00000);
    dD.fill32(0x7fc00000);
    c.backward(u, dy, B, out, dk, dD);
    return new Backward(LearnedTensorCoreGpuTest.read(out, io, B * H * L), dk.copyTo(new float[(bidirectional() ? 2 : 1) * H * Lk], 0),
        dD.copyTo(new float[H], 0), c.blockGrads());
  }

  /** The first n 16-bit values of b, after the device's stream is done. */
  static short[] read(CudaDevice dev, DeviceBuffer b, int n) {
    dev.stream().synchronize();
    return b.copyTo(new short[n], 0);
  }
}
