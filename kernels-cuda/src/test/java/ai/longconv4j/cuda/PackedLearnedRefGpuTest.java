// Shapes: B batch, H channels, L length, Lk taps per side; N the real FFT size, M = N / 2 = N1 x N2 (16 .. 1024), or lib's J factors
// (M = 2048, 4096: J = 3, on PackedLearnedChain since session 14).
// u, y, dy, du: (B, H, L); k: lib's (H, [2,] Lk), the GPU's k0, k1 (H, Lk); dk: the GPU's (sides, H, Lk); D, dD: (H);
// blocks and block gradients {Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1)}, complex interleaved.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fp32 packed learned butterfly ({@link PackedLearnedRef}, learned_pk_ref.cu) against lib's float64
 * {@link PackedLearnedButterfly}: forward, du, dk (both sides when bidirectional), dD and the four block gradients, and the
 * device's P / Q against lib's pairCoefficients, in all three modes at M = 16 .. 4096 (M >= 2048: lib's J = 3 plans, which
 * PackedLearnedRef hands to PackedLearnedChain, 2J blocks), F32 / BF16 / F16 I/O, with blocks
 * at the DFT, the DFT plus 5 % noise or fully random (PackedLearnedGpuTest.blocks: every entry matters), fresh random u,
 * dy, k, D per case, awkward shapes (H = 3 / 111, odd B, Lk &lt; L, L not a power of two where the mode allows). Outputs are
 * NaN-poisoned first (y and du with a tail past B H L that must stay poisoned) and must come back finite. Then the slow-twin
 * check of two GPU paths: against the tensor-core {@link PackedLearnedConv} where both apply (causal, 16-bit, M = 256 ..
 * 1024), and of the register-blocked kernels (the default) against their one-output-per-thread twin.
 * Tolerances (relative Frobenius error). fp32 results: 1e-5. The unit roundoff is u = 2^-24 = 6e-8; each output goes
 * through K (a direct fp32 sum of up to N = 8192 taps times table values, each rounded), the pair map, four complex
 * products with sums of at most 64 terms and the twiddles (sincospif, ~1 ulp); rounding errors of random sign grow like
 * sqrt(terms) u: ~90 u = 5e-6 for K's longest sums, ~8 u per product, so a few 1e-6 in all (the worst-case n u bound,
 * 8192 u = 5e-4 for K, is not what random data shows; sitting s1 measured at most 1.7e-6, at M = 4096); 1e-5 leaves a
 * margin of 3 or more. The block gradients and dP / dQ add sums over B rows and H channels (<= 2100 rows here:
 * sqrt(2100) u = 3e-6 more). dk sums all N + 1 entries of dK of which the kept Lk taps hold ~Lk / N of the energy:
 * 1e-5 sqrt(N / Lk). dD: fp32 sums of B L exact products, 1e-5.
 * With 16-bit I/O u and dy are exact (the reference takes their decoded values) and only y and du are rounded to 16 bits
 * (relative 2^-9 for bf16, 2^-12 for fp16 per element, uniformly distributed: ~2e-3 / sqrt(3) in Frobenius norm): 1e-2
 * for y and du; dk, dD and the block gradients are fp32 outputs of exact inputs and keep the fp32 bounds.
 * Against the tensor-core kernels (each within 1e-2 of lib, PackedLearnedGpuTest / PackedLearnedBackwardGpuTest; this one
 * within 1e-5): 1.5e-2 for y, du and the block gradients, 1.5e-2 sqrt(N / Lk) for dk, 5e-5 for dD (both sum exact products
 * in fp32: 1e-5 + 1e-5, then a margin).
 */
@Tag("gpu")
class PackedLearnedRefGpuTest extends CudaDeviceTest {
  private static final String[] NAMES = {"dFa", "dFb", "dGb", "dGa"};
  private static final double TOL32 = 1e-5, TOL16 = 1e-2;

  static Stream<Arguments> cases() {
    // mode, io, B, H, L, Lk, blocks (0: DFT, 1: DFT + 5 % noise, 2: fully random); M in the comment
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 3, 3, 16, 16, 2),          // M = 16 = 4 x 4
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 2, 5, 30, 7, 2),           // N = 64, M = 32 = 4 x 8
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 3, 111, 64, 64, 1),       // M = 64 = 8 x 8
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 5, 3, 128, 100, 2),        // M = 128 = 8 x 16
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 3, 111, 256, 256, 0),      // M = 256 = 16 x 16, at init
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 3, 111, 1000, 1000, 2),    // M = 1024 = 32 x 32
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 7, 300, 200, 150, 2),      // N = 512, M = 256; backward slices S = 4 of 7 rows
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 1, 3, 2000, 2000, 2),      // M = 2048 = 32 x 64
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 7, 3, 3000, 1000, 1),      // N = 4096 (L + Lk - 1 = 3999), M = 2048
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 4096, 4096, 2),     // M = 4096 = 64 x 64
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 3, 3, 17, 5, 2),    // N = 32 (L + Lk = 22), M = 16
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 3, 111, 100, 100, 2), // M = 128
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 3, 5, 255, 255, 1), // M = 256
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 5, 3, 1000, 1000, 1), // M = 1024
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 1, 3, 2000, 900, 2), // N = 4096 (2900), M = 2048
        Arguments.of(ConvMode.CIRCULAR, ElementType.F32, 3, 3, 32, 32, 2),        // N = L: M = 16
        Arguments.of(ConvMode.CIRCULAR, ElementType.F32, 3, 111, 256, 256, 2),    // M = 128
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 5, 3, 512, 300, 1),     // M = 256
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 2, 3, 2048, 2048, 2),    // M = 1024
        Arguments.of(ConvMode.CIRCULAR, ElementType.F32, 1, 3, 8192, 8192, 2));   // M = 4096
  }

  /** One drawn case: inputs as the GPU takes them and lib's float64 results. */
  record Case(float[] u, float[] dy, short[] u16, short[] dy16, float[] k0, float[] k1, float[] D, double[][] blocks, double[] yRef,
      PackedLearnedButterfly.Grads ref, ConvPlan plan, ConvShape shape, double[] kLib) {
    static Case draw(long seed, ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind) {
      var rng = new SplittableRandom(seed);
      boolean bi = mode == ConvMode.BIDIRECTIONAL;
      int n = B * H * L;
      float[] u = Reference.randn(rng, n, 1.0), dy = Reference.randn(rng, n, 1.0);
      short[] u16 = null, dy16 = null;
      if (io != ElementType.F32) {   // the 16-bit inputs, and the exact values they hold
        u16 = HalfFloats.encode(u, io); dy16 = HalfFloats.encode(dy, io);
        u = HalfFloats.decode(u16, io); dy = HalfFloats.decode(dy16, io);
      }
      float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = bi ? Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)) : null;
      float[] D = Reference.randn(rng, H, 1.0);
      double[] kLib = new double[(bi ? 2 : 1) * H * Lk];
      for (int h = 0; h < H; h++)
        for (int t = 0; t < Lk; t++) {
          kLib[h * (bi ? 2 : 1) * Lk + t] = k0[h * Lk + t];
          if (bi) kLib[h * 2 * Lk + Lk + t] = k1[h * Lk + t];
        }
      ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, mode);
      double[][] blocks = PackedLearnedRefGpuTest.blocks(rng, plan, kind);
      var shape = new ConvShape(B, 1, H, L, Lk, LearnedButterflyConv.libMode(mode));
      var lib = new PackedLearnedButterfly(plan, blocks);
      double[] ud = ConvCase.toD(u), dd = ConvCase.toD(D);
      return new Case(u, dy, u16, dy16, k0, k1, D, blocks, lib.forward(shape, ud, kLib, dd), lib.backwardAll(shape, ud, kLib, dd,
          ConvCase.toD(dy)), plan, shape, kLib);
    }

    DeviceBuffer upload(CudaDevice dev, boolean grad) {
      return u16 == null ? dev.upload(grad ? dy : u) : dev.upload(grad ? dy16 : u16);
    }
  }

  /** The 2J blocks of lib's plan (J = 2: PackedLearnedGpuTest.blocks): 0 the DFT, 1 the DFT + 5 % noise, 2 fully random. */
  static double[][] blocks(SplittableRandom rng, ConvPlan plan, int kind) {
    double[][] b = PackedLearnedButterfly.atInit(plan).blocks();
    for (int i = 0; i < b.length; i++) {
      b[i] = b[i].clone();
      if (kind == 0) continue;
      for (int j = 0; j < b[i].length; j++)
        b[i][j] = (float) (kind == 1 ? b[i][j] + 0.05 * Reference.randn(rng, 1, 1.0)[0] : Reference.randn(rng, 1, Math.sqrt(0.5))[0]);
    }
    return b;
  }

  static int poisonBits(ElementType io) { return io == ElementType.F32 ? 0x7fc00000 : 0x7fc07fc0; }

  /** Reads n values of io from b and checks the tail of (n, n + tail) is still the poison. */
  static float[] readChecked(DeviceBuffer b, ElementType io, int n, int tail, String what) {
    if (io == ElementType.F32) {
      float[] all = ConvCase.read(dev, b, io, n + tail);
      for (int j = n; j < n + tail; j++) assertTrue(Float.isNaN(all[j]), what + ": written past B H L at " + j);
      return Arrays.copyOf(all, n);
    }
    short[] all = LearnedCase.read(dev, b, n + tail);
    for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], what + ": written past B H L at " + j);
    return HalfFloats.decode(Arrays.copyOf(all, n), io);
  }

  static void finite(float[] a, String what) {
    for (int j = 0; j < a.length; j++) assertTrue(Float.isFinite(a[j]), what + ": not written (or not finite) at " + j);
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6}")
  @MethodSource("cases")
  void matchesLib(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind) {
    var c = Case.draw(7919L * L + 101L * B + 17L * H + 5L * kind + 3L * io.ordinal() + mode.ordinal(), mode, io, B, H, L, Lk, kind);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, tail = 64 + (n & 1), sides = bi ? 2 : 1, N = c.plan().fftSize(), m = N / 2;
    String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " blocks=" + kind;
    double tolIo = io == ElementType.F32 ? TOL32 : TOL16, tolK = TOL32 * Math.sqrt((double) N / Lk);
    long eb = io.bytes();
    try (var u = c.upload(dev, false); var dy = c.upload(dev, true); var y = dev.alloc(eb * (n + tail)); var du = dev.alloc(eb * (n + tail));
         var dk = dev.alloc(4L * sides * H * Lk); var dD = dev.alloc(4L * H);
         var pr = PackedLearnedRef.plan(dev, H, L, Lk, mode, io).setBlocks(c.blocks())) {
      assertEquals(m, pr.fftSize() / 2, what);
      if (bi) pr.setWeights(c.k0(), c.k1(), c.D()); else pr.setWeights(c.k0(), c.D());
      float[] pq = pr.pairCoefficients();
      for (int h : new int[] {0, H / 2, H - 1}) {
        double[] ref = PackedLearnedButterfly.pairCoefficients(c.plan(), PackedLearnedButterfly.placeTaps(c.plan(), c.shape(), c.kLib(), h));
        Reference.assertClose("P, Q of channel " + h + " vs lib " + what, Arrays.copyOfRange(pq, 4 * m * h, 4 * m * (h + 1)), ref, TOL32);
      }
      y.fill32(poisonBits(io));
      pr.forward(u, y, B);
      float[] yG = readChecked(y, io, n, tail, "y " + what);
      finite(yG, "y " + what);
      Reference.assertClose("y vs lib " + what, yG, c.yRef(), tolIo);

      du.fill32(poisonBits(io));
      dk.fill32(0x7fc00000);
      dD.fill32(0x7fc00000);
      pr.backward(u, dy, B, du, dk, dD);
      float[] duG = readChecked(du, io, n, tail, "du " + what), dkG = dk.copyTo(new float[sides * H * Lk], 0), dDG = dD.copyTo(new float[H], 0);
      for (float[] a : new float[][] {duG, dkG, dDG}) finite(a, "a gradient " + what);
      Reference.assertClose("du vs lib " + what, duG, c.ref().conv().du(), tolIo);
      Reference.assertClose("dk vs lib " + what, dkG, ConvCase.gpuKernelLayout(c.ref().conv().dk(), H, Lk, bi), tolK);
      Reference.assertClose("dD vs lib " + what, dDG, c.ref().conv().dD(), TOL32);
      double[][] gb = pr.blockGrads();
      var names = PackedLearnedButterfly.blockNames(c.plan());
      assertEquals(names.size(), gb.length, what);
      for (int i = 0; i < gb.length; i++) Reference.assertClose("d" + names.get(i) + " vs lib " + what, PackedLearnedBackwardGpuTest.toF(gb[i]), c.ref().dBlocks()[i], TOL32);
    }
  }

  static Stream<Arguments> twins() {
    // io, B, H, L, Lk (causal; M = 256, 512, 1024), blocks fully random
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(
        Arguments.of(io, 3, 111, 256, 256), Arguments.of(io, 5, 40, 511, 400), Arguments.of(io, 3, 111, 1000, 1000)));
  }

  /** The slow twin of two GPU paths: this fp32 kernel against the tensor-core PackedLearnedConv on the same data. */
  @ParameterizedTest(name = "{0} B={1} H={2} L={3} Lk={4}")
  @MethodSource("twins")
  void matchesTensorCoreKernels(ElementType io, int B, int H, int L, int Lk) {
    var c = Case.draw(31L * L + B + 7L * io.ordinal(), ConvMode.CAUSAL, io, B, H, L, Lk, 2);
    int n = B * H * L, N = c.plan().fftSize();
    String what = "causal " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + N / 2;
    long bytes = 2L * (n + (n & 1));   // fill32: whole 4-byte words
    try (var u = c.upload(dev, false); var dy = c.upload(dev, true); var y1 = dev.alloc(bytes); var y2 = dev.alloc(bytes);
         var du1 = dev.alloc(bytes); var du2 = dev.alloc(bytes); var dk1 = dev.alloc(4L * H * Lk); var dk2 = dev.alloc(4L * H * Lk);
         var dD1 = dev.alloc(4L * H); var dD2 = dev.alloc(4L * H);
         var pr = PackedLearnedRef.plan(dev, H, L, Lk, ConvMode.CAUSAL, io).setBlocks(c.blocks()).setWeights(c.k0(), c.D());
         var pk = PackedLearnedConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, io).setBlocks(c.blocks()).setWeights(c.k0(), c.D())) {
      for (DeviceBuffer b : new DeviceBuffer[] {y1, y2, du1, du2}) b.fill32(0x7fc07fc0);
      for (DeviceBuffer b : new DeviceBuffer[] {dk1, dk2, dD1, dD2}) b.fill32(0x7fc00000);
      pr.forward(u, y1, B);
      pk.forward(u, y2, B);
      pr.backward(u, dy, B, du1, dk1, dD1);
      double[][] g1 = pr.blockGrads();
      pk.backward(u, dy, B, du2, dk2, dD2);
      double[][] g2 = pk.blockGrads();
      float[] a = ConvCase.read(dev, y1, io, n);
      finite(a, "y of the fp32 kernel " + what);
      Reference.assertClose("y fp32 kernel vs tensor cores " + what, a, ConvCase.toD(ConvCase.read(dev, y2, io, n)), 1.5e-2);
      a = ConvCase.read(dev, du1, io, n);
      finite(a, "du of the fp32 kernel " + what);
      Reference.assertClose("du fp32 kernel vs tensor cores " + what, a, ConvCase.toD(ConvCase.read(dev, du2, io, n)), 1.5e-2);
      Reference.assertClose("dk fp32 kernel vs tensor cores " + what, dk1.copyTo(new float[H * Lk], 0),
          ConvCase.toD(dk2.copyTo(new float[H * Lk], 0)), 1.5e-2 * Math.sqrt((double) N / Lk));
      Reference.assertClose("dD fp32 kernel vs tensor cores " + what, dD1.copyTo(new float[H], 0), ConvCase.toD(dD2.copyTo(new float[H], 0)), 5e-5);
      for (int i = 0; i < 4; i++)
        Reference.assertClose(NAMES[i] + " fp32 kernel vs tensor cores " + what, PackedLearnedBackwardGpuTest.toF(g1[i]), g2[i], 1.5e-2);
    }
  }

  static Stream<Arguments> blockedCases() {
    return Stream.of(Arguments.of(ConvMode.CAUSAL, ElementType.F32, 3, 111, 1000, 1000), Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 16, 16),
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 5, 7, 300, 200), Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 3, 5, 2048, 2048));
  }

  /**
   * The register-blocked kernels (_r4 / _r2, rowsPerThread(true)) against their slow twin (_r1) on the same data: every
   * output is the same fmaf chain in the same order, so the two are expected bit for bit equal (printed); asserted within
   * 1e-6 relative (Frobenius), which only ptxas contracting an operation differently could need.
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5}")
  @MethodSource("blockedCases")
  void blockedMatchesOneOutputPerThread(ConvMode mode, ElementType io, int B, int H, int L, int Lk) {
    var c = Case.draw(13L * L + 3L * B + mode.ordinal(), mode, io, B, H, L, Lk, 2);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, sides = bi ? 2 : 1;
    String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk;
    float[][][] out = new float[2][][];
    double[][][] gb = new double[2][][];
    try (var u = c.upload(dev, false); var dy = c.upload(dev, true); var y = dev.alloc(io.bytes() * (n + (n & 1)));
         var du = dev.alloc(io.bytes() * (n + (n & 1))); var dk = dev.alloc(4L * sides * H * Lk); var dD = dev.alloc(4L * H);
         var pr = PackedLearnedRef.plan(dev, H, L, Lk, mode, io).setBlocks(c.blocks())) {
      if (bi) pr.setWeights(c.k0(), c.k1(), c.D()); else pr.setWeights(c.k0(), c.D());
      for (int v = 0; v < 2; v++) {
        pr.rowsPerThread(v == 1);
        for (DeviceBuffer b : new DeviceBuffer[] {y, du, dk, dD}) b.fill32(poisonBits(io));
        pr.forward(u, y, B);
        pr.backward(u, dy, B, du, dk, dD);
        out[v] = new float[][] {ConvCase.read(dev, y, io, n), ConvCase.read(dev, du, io, n), dk.copyTo(new float[sides * H * Lk], 0),
            dD.copyTo(new float[H], 0)};
        gb[v] = pr.blockGrads();
      }
    }
    String[] names = {"y", "du", "dk", "dD"};
    for (int i = 0; i < 4; i++) {
      finite(out[1][i], names[i] + " blocked " + what);
      System.out.println(names[i] + " blocked vs r1 " + what + ": bit for bit " + Arrays.equals(out[0][i], out[1][i]));
      Reference.assertClose(names[i] + " blocked vs r1 " + what, out[1][i], ConvCase.toD(out[0][i]), 1e-6);
    }
    for (int i = 0; i < 4; i++) {
      System.out.println(NAMES[i] + " blocked vs r1 " + what + ": bit for bit " + Arrays.equals(gb[0][i], gb[1][i]));
      Reference.assertClose(NAMES[i] + " blocked vs r1 " + what, PackedLearnedBackwardGpuTest.toF(gb[1][i]), gb[0][i], 1e-6);
    }
  }

  @Test
  void rejectsBadInput() {
    try (var pr = PackedLearnedRef.plan(dev, 4, 100, 100, ConvMode.BIDIRECTIONAL, ElementType.F32); var small = dev.alloc(16);
         var big = dev.alloc(4L * 2 * 4 * 100); var dk = dev.alloc(4L * 2 * 4 * 100); var dD = dev.alloc(16)) {
      assertThrows(IllegalStateException.class, () -> pr.forward(big, big, 2));
      assertThrows(IllegalStateException.class, () -> pr.backward(big, big, 2, big, dk, dD));
      var e = assertThrows(IllegalArgumentException.class, () -> pr.setWeights(new float[400], new float[4]));
      assertTrue(e.getMessage().contains("k0, k1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pr.setWeights(new float[400], new float[399], new float[4]));
      assertTrue(e.getMessage().contains("(H=4, Lk=100)"), e.getMessage());
      pr.setWeights(new float[400], new float[400], new float[4]);
      e = assertThrows(IllegalArgumentException.class, () -> pr.forward(small, big, 2));
      assertTrue(e.getMessage().contains("(B=2, H=4, L=100)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pr.backward(big, big, 2, big, small, dD));
      assertTrue(e.getMessage().contains("(2, H=4, Lk=100)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pr.backward(big, big, 0, big, dk, dD));
      assertTrue(e.getMessage().contains("B=0"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pr.setBlocks(new double[][] {new double[2], null, null, null}));
      assertTrue(e.getMessage().contains("block 0"), e.getMessage());
    }
    try (var pr = PackedLearnedRef.plan(dev, 2, 64, 64, ConvMode.CIRCULAR, ElementType.BF16)) {
      var e = assertThrows(IllegalArgumentException.class, () -> pr.setWeights(new float[128], new float[128], new float[2]));
      assertTrue(e.getMessage().contains("CIRCULAR: takes one kernel"), e.getMessage());
    }
  }
}
