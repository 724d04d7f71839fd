// Shapes: B batch, H channels, L length, Lk taps. u, dy: (B, H, L); k0, k1: (H, Lk) (k1: bidirectional only); D: (H);
// kl: lib's kernel layout (H, sides, Lk); blocks: the four learned blocks, interleaved complex (n, n, 2).
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.LearnedButterfly;
import java.util.SplittableRandom;

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
}
