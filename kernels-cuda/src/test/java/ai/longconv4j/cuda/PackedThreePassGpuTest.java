// Shapes: B batch, H channels, L length, Lk taps per side, N the real FFT size, M = N / 2 = N1 * 8192 (65536 .. 262144);
// u, y, dy, du (B, H, L) 16-bit on the device; k lib's (H, sides, Lk); D (H); blocks lib's order {F_1 .. F_5, G_5 .. G_1};
// pair coefficients (H, 4M) at lib's positions.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The three-pass J-factor packed learned butterfly ({@link PackedThreePass}, learned_p3.cu) against lib's float64
 * {@link PackedLearnedButterfly} (five-factor plans): y and du (lib's backward), blocks random (kind 2: every entry
 * N(0, 1/2) per component, so a transposed or conjugated block, a swapped stage, a wrong left / right convention or a
 * wrong partner row shows) or the DFT plus 5 % noise (kind 1); all three modes at M = 65536, causal at 131072 and
 * 262144; bf16 and fp16; odd L (scalar tails). Outputs NaN-poisoned with a tail past B H L that must stay poisoned;
 * every output finite. Rows in chunks (a one-row scratch budget) give the one-chunk outputs bit for bit; blocks from
 * device memory give the host route's; the device P / Q entry (pkjref's layout, from {@link PackedLearnedChain}) gives the
 * fp32 CUDA-core twin's y and du.
 * Tolerance 1e-2 relative (Frobenius). The inputs are exact (lib takes the decoded 16-bit values). Passes 1 and 3 and
 * the radix-2 stage are fp32 (~1e-6); the three radix-16 stages of each inner chain (6 in all) round their operands
 * (data and block) to 16 bits: bf16 unit roundoff 2^-9, ~1.1e-3 rms per rounded operand (uniform rounding / sqrt(3)),
 * ~1.6e-3 per product of two rounded operands, kept relative by the fp32 sums of 16 terms of random sign; 6 stages in
 * quadrature give sqrt(6) x 1.6e-3 = 3.9e-3, and y / du are rounded to 16 bits (1.1e-3): ~4.1e-3 for bf16 with fp32
 * middle planes. 16-bit planes round the middle's row on entry and after each of its 9 steps (8 stages, the pair map)
 * once more: sqrt(10) x 1.1e-3 = 3.5e-3 more, ~5.4e-3 in all for bf16; fp16 (2^-11) a quarter of that. 1e-2 leaves a
 * margin of ~1.8 on bf16's 16-bit-plane estimate. The scratch is fp32 (no rounding; helper pk3fast's 16-bit scratch rounds
 * only what the 16-bit planes round anyway, {@link #scratch16IsBitForBitAndTcClose}), the twiddles (fp32 table products
 * and running products over at most 32 steps, ~1e-6) and P / Q in fp32 are far below.
 */
@Tag("gpu")
class PackedThreePassGpuTest extends CudaDeviceTest {
  private static final double TOL16 = 1e-2;

  static Stream<Arguments> cases() {
    // mode, io, B, H, L, Lk, blocks kind, 16-bit middle planes; M in the comment
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 65536, 65536, 2, true),        // N = 131072, M = 65536 = 8 x 2 x 16^3
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 65536, 65536, 2, false),       // the fp32-plane twin
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 2, 1, 40001, 30000, 2, true),         // N = 131072 (69999), odd L
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 65536, 1000, 2, true),  // N = 131072 (66536), M = 65536
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 1, 1, 50000, 50000, 1, false), // N = 131072 (100000)
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 1, 2, 131072, 131072, 2, true),     // N = L: M = 65536
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 1, 1, 131072, 3000, 1, false),     // M = 65536, short kernel
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 131072, 131072, 2, true),      // M = 131072 = 16 x 2 x 16^3
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 1, 262144, 262144, 2, true),      // M = 262144 = 32 x 2 x 16^3
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 1, 262144, 262144, 2, false),     // the fp32-plane twin
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 1, 200001, 150000, 2, true));      // N = 524288, M = 262144, odd L
  }

  /** The 10 blocks in lib's order: the DFT (kind 0), plus 5 % noise (1), or every entry N(0, 1/2) per component (2). */
  static double[][] blocks(SplittableRandom rng, int m, int kind) {
    double[][] b = PackedThreePass.atInit(m);
    for (double[] x : b)
      for (int j = 0; j < x.length && kind != 0; j++)
        x[j] = (float) (kind == 1 ? x[j] + 0.05 * rng.nextGaussian() : Math.sqrt(0.5) * rng.nextGaussian());
    return b;
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6} s16={7}")
  @MethodSource("cases")
  void matchesLibFloat64(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind, boolean s16) {
    checkAgainstLib(mode, io, B, H, L, Lk, kind, p -> p.storage16(s16).scratch16(false).outerTc(false).middleWarp(false));
  }

  /**
   * Helper pk3fast's variants (learned_p3b.cu) against lib's float64 as {@link #matchesLibFloat64}: "sc16" the 16-bit
   * scratch with lp3_mid16 and the CUDA-core outer passes, "tc" also the tensor-core outer passes, "w" also the per-warp
   * middle (lp3_mid16w: the same roundings in other places, no more of them). Tolerance 1e-2 as
   * above: the 16-bit scratch rounds nothing the 16-bit planes did not (same values, {@link #scratch16IsBitForBitAndTcClose});
   * the tensor-core outer passes round F_1, G_1 and pass 3's operand V to 16 bits: three more rounded operands,
   * sqrt(5.4e-3^2 + 3 x 1.6e-3^2) = 6.1e-3 for bf16 (margin ~1.6).
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6} {7}")
  @MethodSource("fastCases")
  void fastVariantsMatchLibFloat64(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind, String variant) {
    checkAgainstLib(mode, io, B, H, L, Lk, kind,
        p -> p.storage16(true).scratch16(true).outerTc(!variant.equals("sc16")).middleWarp(variant.equals("w")));
  }

  static Stream<Arguments> fastCases() {
    // mode, io, B, H, L, Lk, blocks kind, variant; M in the comment
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 65536, 65536, 2, "w"),           // M = 65536
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 65536, 65536, 2, "tc"),
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 65536, 65536, 2, "sc16"),
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 2, 1, 40001, 30000, 2, "tc"),           // odd L: scalar pass 1 and 3
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 3, 1, 65534, 65534, 2, "tc"),          // L % 4 == 2: pass 3 scalar
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 65536, 1000, 2, "w"),
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 1, 1, 50000, 50000, 1, "sc16"),
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 1, 2, 131072, 131072, 2, "w"),        // M = 65536
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 1, 1, 131072, 3000, 1, "sc16"),
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 131072, 131072, 2, "w"),         // M = 131072
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 131072, 131072, 2, "sc16"),
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 1, 262144, 262144, 2, "w"),         // M = 262144
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 1, 262144, 262144, 2, "sc16"),
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 1, 200001, 150000, 2, "w"));         // M = 262144, odd L
  }

  private void checkAgainstLib(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind,
                               java.util.function.Consumer<PackedThreePass> configure) {
    var rng = new SplittableRandom(7919L * L + 101L * B + 17L * H + 5L * kind + 3L * io.ordinal() + mode.ordinal());
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, tail = 64 + (n & 1);
    short[] u16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io);
    double[] u = ConvCase.toD(HalfFloats.decode(u16, io)), dy = ConvCase.toD(HalfFloats.decode(dy16, io));
    double[] k = ConvCase.toD(Reference.randn(rng, (bi ? 2 : 1) * H * Lk, 1.0 / Math.sqrt(Lk)));
    float[] D = Reference.randn(rng, H, 1.0);
    try (var p3 = PackedThreePass.plan(dev, H, L, Lk, mode, io)) {
      configure.accept(p3);
      int m = p3.points();
      ConvPlan plan = p3.libPlan();
      var shape = new ConvShape(B, 1, H, L, Lk, LearnedButterflyConv.libMode(mode));
      double[][] blk = blocks(rng, m, kind);
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(PackedLearnedButterfly.pairCoefficients(plan, PackedLearnedButterfly.placeTaps(plan, shape, k, h)), 0, pq, 4 * m * h, 4 * m);
      p3.setBlocks(blk).setWeights(pq, D);
      var lib = new PackedLearnedButterfly(plan, blk);
      double[] dd = ConvCase.toD(D);
      double[] yRef = lib.forward(shape, u, k, dd), duRef = lib.backward(shape, u, k, dd, dy).du();
      String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " blocks=" + kind + " " + p3.middleKernel()
          + " " + p3.outerKernel(true);
      try (var u0 = dev.upload(u16); var dy0 = dev.upload(dy16); var y = dev.alloc(2L * (n + tail)); var du = dev.alloc(2L * (n + tail))) {
        y.fill32(0x7fc07fc0);
        du.fill32(0x7fc07fc0);
        p3.forward(u0, y, B);
        p3.inputGrad(dy0, du, B);
        float[] yG = PackedLearnedRefGpuTest.readChecked(y, io, n, tail, "y " + what);
        float[] duG = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + what);
        PackedLearnedRefGpuTest.finite(yG, "y " + what);
        PackedLearnedRefGpuTest.finite(duG, "du " + what);
        Reference.assertClose("y vs float64 " + what, yG, yRef, TOL16);
        Reference.assertClose("du vs float64 " + what, duG, duRef, TOL16);
      }
    }
  }

  /**
   * A one-row scratch budget (chunks of one channel: three chunks) gives the one-chunk outputs bit for bit; device blocks give
   * the host route's; the 16-bit-plane middle (default) and the fp32-plane twin agree to the 16-bit planes' rounding.
   */
  @Test
  void chunksAndDeviceBlocksEqualTheOneChunkHostRoute() {
    var rng = new SplittableRandom(11);
    int B = 2, H = 3, L = 65536, Lk = 65536, n = B * H * L;
    ElementType io = ElementType.BF16;
    short[] u16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io);
    try (var p3 = PackedThreePass.plan(dev, H, L, Lk, ConvMode.CAUSAL, io)) {
      int m = p3.points();
      double[][] blk = blocks(rng, m, 2);
      double[] pq = new double[4 * H * m];
      for (int i = 0; i < pq.length; i++) pq[i] = rng.nextGaussian();
      p3.setWeights(pq, Reference.randn(rng, H, 1.0)).setBlocks(blk);
      DeviceBuffer[] bufs = new DeviceBuffer[blk.length];
      DevicePointer[] ptrs = new DevicePointer[blk.length];
      try (var u = dev.upload(u16); var y1 = dev.alloc(2L * n); var y2 = dev.alloc(2L * n); var y3 = dev.alloc(2L * n)) {
        p3.forward(u, y1, B);
        y2.fill32(0x7fc07fc0);
        p3.scratchBudget(8L * m).forward(u, y2, B);   // six chunks of one row
        for (int i = 0; i < blk.length; i++) { bufs[i] = dev.upload(GpuTestArrays.toF(blk[i])); ptrs[i] = bufs[i].ptr(); }
        p3.scratchBudget(PackedThreePass.DEFAULT_SCRATCH_BUDGET).setBlocks(PackedThreePass.atInit(m)).setBlocksOnDevice(ptrs);
        y3.fill32(0x7fc07fc0);
        p3.forward(u, y3, B);
        short[] a = LearnedCase.read(dev, y1, n), b = LearnedCase.read(dev, y2, n), c = LearnedCase.read(dev, y3, n);
        for (int i = 0; i < n; i++) {
          assertEquals(a[i], b[i], "chunked y at " + i);
          assertEquals(a[i], c[i], "device-blocks y at " + i);
        }
        y2.fill32(0x7fc07fc0);
        p3.storage16(false).forward(u, y2, B);   // fp32 planes: the twin
        // 16-bit planes round the middle's row 10 times more (bf16: 3.5e-3 rms relative, GpuTest's estimate); 1e-2 as above
        Reference.assertClose("16-bit vs fp32 middle planes", HalfFloats.decode(a, io),
            ConvCase.toD(HalfFloats.decode(LearnedCase.read(dev, y2, n), io)), TOL16);
      } finally {
        for (DeviceBuffer bb : bufs) if (bb != null) bb.close();
      }
    }
  }

  /**
   * The fast paths against their twins on the same inputs (random blocks and P / Q, three channels in chunks of one channel,
   * M = 65536 / 262144): the 16-bit scratch (lp3_mid16, lp3_outer16) against learned_p3.cu's 16-bit-plane kernels with the
   * fp32 scratch, y and du — the same values bit for bit by construction (learned_p3b.cu's header); the test allows a
   * thousandth of the outputs to differ (a rounding tie the compiler might contract differently) and prints the count;
   * then the tensor-core outer passes against the CUDA-core ones, within 1e-2 (three more rounded operands, as
   * {@link #fastVariantsMatchLibFloat64}), and the per-warp middle against lp3_mid16 (roundings in other places), within 1e-2;
   * and (session 26) its register pair map (lp3_mid16x) bit for bit the per-warp middle's.
   */
  @ParameterizedTest(name = "{0} L={1}")
  @MethodSource("twinFastCases")
  void scratch16IsBitForBitAndTcClose(ElementType io, int L) {
    var rng = new SplittableRandom(13L + L + io.ordinal());
    int B = 2, H = 3, n = B * H * L;
    short[] u16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io);
    try (var p3 = PackedThreePass.plan(dev, H, L, L, ConvMode.CAUSAL, io).storage16(true)) {
      int m = p3.points();
      double[] pq = new double[4 * H * m];
      for (int i = 0; i < pq.length; i++) pq[i] = rng.nextGaussian();
      p3.setWeights(pq, Reference.randn(rng, H, 1.0)).setBlocks(blocks(rng, m, 2)).scratchBudget(8L * m * B);
      try (var u = dev.upload(u16); var y = dev.alloc(2L * n)) {
        short[][] out = new short[10][];
        String[] names = new String[5];
        for (int v = 0; v < 5; v++) {
          p3.scratch16(v > 0).outerTc(v > 1).middleWarp(v > 2).middleRegPair(v > 3);
          names[v] = p3.middleKernel() + " + " + p3.outerKernel(true);
          y.fill32(0x7fc07fc0);
          p3.forward(u, y, B);
          out[2 * v] = LearnedCase.read(dev, y, n);
          y.fill32(0x7fc07fc0);
          p3.inputGrad(u, y, B);
          out[2 * v + 1] = LearnedCase.read(dev, y, n);
        }
        for (int w = 0; w < 2; w++) {
          int diff = 0;
          for (int i = 0; i < n; i++) if (out[w][i] != out[2 + w][i]) diff++;
          String what = (w == 0 ? "y" : "du") + " " + io + " L=" + L + ": " + names[1] + " vs " + names[0];
          System.out.printf("%s: %d of %d outputs differ%n", what, diff, n);
          assertTrue(diff <= n / 1000, what + ": " + diff + " of " + n + " outputs differ");
          Reference.assertClose(what, HalfFloats.decode(out[2 + w], io), ConvCase.toD(HalfFloats.decode(out[w], io)), 1e-3);
          Reference.assertClose((w == 0 ? "y " : "du ") + io + " L=" + L + ": " + names[2] + " vs " + names[1],
              HalfFloats.decode(out[4 + w], io), ConvCase.toD(HalfFloats.decode(out[2 + w], io)), TOL16);
          Reference.assertClose((w == 0 ? "y " : "du ") + io + " L=" + L + ": " + names[3] + " vs " + names[2],
              HalfFloats.decode(out[6 + w], io), ConvCase.toD(HalfFloats.decode(out[4 + w], io)), TOL16);
          // session 26: the pair map in registers (lp3_mid16x) gives lp3_mid16w's bits (the same values in the same order)
          assertArrayEquals(out[6 + w], out[8 + w], (w == 0 ? "y " : "du ") + io + " L=" + L + ": " + names[4] + " vs " + names[3]);
          System.out.printf("%s %s L=%d: %s gives the bits of %s%n", w == 0 ? "y" : "du", io, L, names[4], names[3]);
        }
      }
    }
  }

  static Stream<Arguments> twinFastCases() {
    return Stream.of(Arguments.of(ElementType.BF16, 65536), Arguments.of(ElementType.F16, 65536), Arguments.of(ElementType.BF16, 262144));
  }

  /**
   * The device P / Q entry ({@link PackedThreePass#setPq}, pkjref's layout) fed by the fp32 CUDA-core twin's own tables
   * ({@link PackedLearnedChain}: P / Q by cuFFT at lib's positions, the adjoint layout), and y / du against that twin's
   * forward / backward on the same random blocks (the fast path and its slow twin; the twin itself is checked against lib
   * by PackedLearnedRefChainGpuTest). Tolerance 1e-2 relative as above (the twin is fp32: ~1e-6).
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5}")
  @MethodSource("twinCases")
  void devicePqMatchesTheFp32Twin(ConvMode mode, ElementType io, int B, int H, int L, int Lk) {
    var rng = new SplittableRandom(31L * L + 7L * H + mode.ordinal());
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, tail = 64 + (n & 1);
    short[] u16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io);
    float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = bi ? Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)) : null;
    float[] D = Reference.randn(rng, H, 1.0);
    try (var p3 = PackedThreePass.plan(dev, H, L, Lk, mode, io)) {
      int m = p3.points();
      double[][] blk = blocks(rng, m, 2);
      String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " device P / Q";
      try (var ch = PackedLearnedChain.plan(dev, H, L, Lk, mode, io, p3.libPlan(), p3.factors()).setBlocks(blk);
           var u = dev.upload(u16); var dy = dev.upload(dy16); var dBuf = dev.upload(D);
           var yT = dev.alloc(2L * n); var duT = dev.alloc(2L * n); var dk = dev.alloc(4L * (bi ? 2 : 1) * H * Lk); var dD = dev.alloc(4L * H);
           var y = dev.alloc(2L * (n + tail)); var du = dev.alloc(2L * (n + tail))) {
        if (bi) ch.setWeights(k0, k1, D); else ch.setWeights(k0, D);
        ch.forward(u, yT, B);
        ch.backward(u, dy, B, duT, dk, dD);
        p3.setBlocks(blk).setPq(ch.pq().ptr(), ch.adjointPq().ptr(), dBuf.ptr());
        y.fill32(0x7fc07fc0);
        du.fill32(0x7fc07fc0);
        p3.forward(u, y, B);
        p3.inputGrad(dy, du, B);
        float[] yG = PackedLearnedRefGpuTest.readChecked(y, io, n, tail, "y " + what);
        float[] duG = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + what);
        PackedLearnedRefGpuTest.finite(yG, "y " + what);
        PackedLearnedRefGpuTest.finite(duG, "du " + what);
        Reference.assertClose("y vs the fp32 twin " + what, yG, ConvCase.toD(HalfFloats.decode(LearnedCase.read(dev, yT, n), io)), TOL16);
        Reference.assertClose("du vs the fp32 twin " + what, duG, ConvCase.toD(HalfFloats.decode(LearnedCase.read(dev, duT, n), io)), TOL16);
      }
    }
  }

  static Stream<Arguments> twinCases() {
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 65536, 65536),          // M = 65536, three channels
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 1, 2, 100000, 30000),   // N = 262144 (130000), M = 131072
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 1, 1, 524288, 524288));     // N = L = 2^19: M = 262144
  }

  /** float copies of double arrays. */
  static final class GpuTestArrays {
    static float[] toF(double[] a) {
      float[] f = new float[a.length];
      for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
      return f;
    }
  }
}
