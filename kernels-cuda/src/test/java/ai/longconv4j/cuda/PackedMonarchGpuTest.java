// Shapes: B batch, H channels, L length, Lk taps per side, N the real FFT size, M = N / 2 = R1 * 16^(J-1) (2048 .. 32768);
// u, y, dy, du (B, H, L) 16-bit on the device; k lib's (H, sides, Lk); D (H); blocks lib's order {F_1 .. F_J, G_J .. G_1};
// pair coefficients (H, 4M) at positions (PackedMonarchReference.pairCoefficients per channel).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-core J-factor packed learned butterfly ({@link PackedMonarchConv}, learned_pm.cu) against the float64 twin
 * {@link PackedMonarchReference} (itself checked against lib's FftConv at the DFT blocks and for its adjoint by
 * PackedMonarchHostTest): y and du, all three modes, M = 2048, 4096, 8192, 16384, 32768, bf16 and fp16, blocks random
 * (kind 2: every entry uniform, so a transposed or conjugated block, a swapped stage or a wrong left / right convention
 * shows), the DFT plus 5 % noise (kind 1) or the DFT (kind 0); awkward shapes (H = 111, odd L on the scalar I/O path,
 * Lk &lt; L), on the default kernels (since session 27 learned_pm4.cu's v kernels lpm4v_* at M = 4096 / 16384, y lpm4y_* at 2048 / 8192, lpm4_* at
 * circular M = 16384, all of which ignore storage16: 16-bit planes; lpm2_b / lpm_fused otherwise); {@link #fusedMatchesUnfused}: the slow twin; {@link #pairGradsMatchFloat64}: dP / dQ; {@link #variantsMatchFused}: helper pkjopt's learned_pm2.cu variants against lpm_fused_*. Outputs NaN-poisoned with a tail past B H L that must stay poisoned; every output finite.
 * Tolerance 1e-2 relative (Frobenius). The inputs are exact (the reference takes the decoded 16-bit values); each of the
 * 2J stages rounds its operands (data and block) to 16 bits: bf16 unit roundoff 2^-9, uniformly distributed rounding
 * ~2^-9 / sqrt(3) = 1.1e-3 rms per operand, ~1.6e-3 per product of two rounded operands; the fp32 sums of 16 terms of
 * random sign keep that relative size, the 2J = 6 .. 8 stages add in quadrature (sqrt(8) x 1.6e-3 = 4.5e-3); the 16-bit
 * planes at M = 32768 round every stage's output once more (sqrt(8) x 1.1e-3 = 3.2e-3) and y / du are rounded to 16 bits
 * (1.1e-3): ~6e-3 in all for bf16 at M = 32768, ~4e-3 below; fp16 (2^-11) a quarter of that. 1e-2 leaves a margin of
 * 1.5 .. 2.5 on bf16's estimate. The twiddles (table products, ~2 ulp fp32) and P / Q in fp32 are far below that.
 */
@Tag("gpu")
class PackedMonarchGpuTest extends CudaDeviceTest {
  private static final double TOL16 = 1e-2;

  static Stream<Arguments> cases() {
    // mode, io, B, H, L, Lk, blocks kind, 16-bit planes; M in the comment
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 2048, 2048, 2, false),        // M = 2048 = 8 x 16 x 16
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 3, 111, 2001, 1500, 1, false),       // N = 4096 (3500), odd L, M = 2048
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 4096, 4096, 2, false),        // M = 4096 = 16 x 16 x 16
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 2, 3, 8192, 8192, 2, false),         // M = 8192 = 2 x 16 x 16 x 16
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 2, 8192, 8000, 2, true),         // M = 8192, 16-bit planes
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 3, 16384, 16384, 2, false),      // M = 16384 = 4 x 16^3
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 20000, 20000, 2, true),       // N = 65536, M = 32768 = 8 x 16^3
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 2, 32768, 32768, 0, true),        // M = 32768 at init
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 2, 3, 2048, 2048, 2, false),  // N = 4096 (L + Lk), M = 2048
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 16384, 1000, 1, false), // N = 32768 (17384), M = 16384
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 30000, 10000, 2, true), // N = 65536, M = 32768
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 3, 4096, 4096, 2, false),      // N = L: M = 2048
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 2, 3, 16384, 300, 1, false),       // M = 8192
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 1, 2, 65536, 65536, 2, true));     // M = 32768
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6} s16={7}")
  @MethodSource("cases")
  void matchesFloat64(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind, boolean s16) {
    var rng = new SplittableRandom(7919L * L + 101L * B + 17L * H + 5L * kind + 3L * io.ordinal() + mode.ordinal());
    var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, mode);
    int n = B * H * L, tail = 64 + (n & 1);
    // the 16-bit inputs and the exact values they hold
    short[] u16 = HalfFloats.encode(toF(x.u()), io), dy16 = HalfFloats.encode(toF(gauss(rng, n)), io);
    double[] u = ConvCase.toD(HalfFloats.decode(u16, io)), dy = ConvCase.toD(HalfFloats.decode(dy16, io));
    var xd = new PackedMonarchHostTest.Data(u, x.k(), x.d(), x.shape());
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, mode, io)) {
      if (s16) pm.storage16(true);
      int m = pm.points();
      var r = new PackedMonarchReference(m);
      double[][] blocks = PackedMonarchHostTest.randomBlocks(rng, m, kind);
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), h, r.n)), 0, pq, 4 * m * h, 4 * m);
      pm.setBlocks(blocks).setWeights(pq, toF(x.d()));
      String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " blocks=" + kind + " " + pm.kernelName();
      double[] yRef = PackedMonarchHostTest.refForward(r, xd, blocks, false, u);
      double[] duRef = PackedMonarchHostTest.refForward(r, xd, blocks, true, dy);
      try (var du0 = dev.upload(u16); var dy0 = dev.upload(dy16); var y = dev.alloc(2L * (n + tail)); var du = dev.alloc(2L * (n + tail))) {
        y.fill32(0x7fc07fc0);
        du.fill32(0x7fc07fc0);
        pm.forward(du0, y, B);
        pm.inputGrad(dy0, du, B);
        float[] yG = PackedLearnedRefGpuTest.readChecked(y, io, n, tail, "y " + what);
        float[] duG = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + what);
        PackedLearnedRefGpuTest.finite(yG, "y " + what);
        PackedLearnedRefGpuTest.finite(duG, "du " + what);
        Reference.assertClose("y vs float64 " + what, yG, yRef, TOL16);
        Reference.assertClose("du vs float64 " + what, duG, duRef, TOL16);
      }
    }
  }

  static Stream<Arguments> twins() {
    // mode, io, B, H, L, Lk, 16-bit planes: M = 2048 .. 32768, J = 3 and 4, every R1
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 2048, 2048, false), Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 2, 3, 8192, 8192, false),
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 2, 3, 4096, 4096, false), Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 3, 16384, 9000, false),
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 1, 2, 65536, 65536, true));
  }

  /**
   * The slow twin: the fused kernels (default) against the unfused ones on the same data and random blocks, y and du.
   * Each is within 1e-2 of float64 (matchesFloat64); they round at different points (the fused middle keeps C, C' and
   * the stage outputs as 16-bit operands in registers, the unfused one in the shared-memory planes): 2e-2, the sum.
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} s16={6}")
  @MethodSource("twins")
  void fusedMatchesUnfused(ConvMode mode, ElementType io, int B, int H, int L, int Lk, boolean s16) {
    var rng = new SplittableRandom(31L * L + B + 7L * io.ordinal() + mode.ordinal());
    var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, mode);
    int n = B * H * L;
    short[] u16 = HalfFloats.encode(toF(x.u()), io);
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, mode, io).tuned(false).storage16(s16)) {   // twins from the untuned plan
      int m = pm.points();
      var r = new PackedMonarchReference(m);
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), h, r.n)), 0, pq, 4 * m * h, 4 * m);
      pm.setBlocks(PackedMonarchHostTest.randomBlocks(rng, m, 2)).setWeights(pq, toF(x.d()));
      String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " M=" + m;
      try (var u = dev.upload(u16); var y1 = dev.alloc(2L * n + 4); var y2 = dev.alloc(2L * n + 4); var d1 = dev.alloc(2L * n + 4);
           var d2 = dev.alloc(2L * n + 4)) {
        for (DeviceBuffer b : new DeviceBuffer[] {y1, y2, d1, d2}) b.fill32(0x7fc07fc0);
        pm.fused(true).forward(u, y1, B);
        pm.inputGrad(u, d1, B);
        pm.fused(false).forward(u, y2, B);
        pm.inputGrad(u, d2, B);
        float[] a = HalfFloats.decode(LearnedCase.read(dev, y1, n), io), b = HalfFloats.decode(LearnedCase.read(dev, y2, n), io);
        PackedLearnedRefGpuTest.finite(a, "fused y " + what);
        PackedLearnedRefGpuTest.finite(b, "unfused y " + what);
        Reference.assertClose("y fused vs unfused " + what, a, ConvCase.toD(b), 2e-2);
        a = HalfFloats.decode(LearnedCase.read(dev, d1, n), io);
        b = HalfFloats.decode(LearnedCase.read(dev, d2, n), io);
        PackedLearnedRefGpuTest.finite(a, "fused du " + what);
        PackedLearnedRefGpuTest.finite(b, "unfused du " + what);
        Reference.assertClose("du fused vs unfused " + what, a, ConvCase.toD(b), 2e-2);
      }
    }
  }

  static Stream<Arguments> variantCases() {
    // mode, io, B, H, L, Lk, 16-bit planes: M = 2048 .. 32768 (J = 3 and 4, every R1), both planes, both 16-bit types
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 2048, 2048, false),          // M = 2048 (8 chunks, 5 units)
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 2, 3, 4096, 4096, false),    // M = 4096
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 2, 4096, 4096, true),           // M = 4096, 16-bit planes (tuned's)
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 2, 16384, 16384, true),          // M = 16384, 16-bit planes (tuned's)
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 2, 8192, 8192, true),           // M = 8192 (R1 = 2)
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 1, 3, 32768, 32768, false),      // M = 16384 (R1 = 4)
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 1, 2, 65536, 65536, true));       // M = 32768 (16-bit planes)
  }

  /**
   * Helper pkjopt's variants (learned_pm2.cu) against their slow twin, the default fused kernel (lpm_fused_*, itself
   * against float64 in matchesFloat64), same data, random blocks, y and du: the balanced middle, uncapped and under the
   * 80-register cap, with 128 .. 512 threads. Every variant does each element's arithmetic in the same order as
   * lpm_fused_* (the balanced middle changes which warp runs a chunk, how its pair partner index is computed and when a
   * fragment is loaded, not the sums), so they agree to the bit unless ptxas contracts a multiply and an add differently
   * in the other kernel: one fp32 rounding (1e-7) that can flip a 16-bit rounding of an operand by one ulp (bf16 2^-8) on
   * a few elements. Tolerance 1e-3 relative (Frobenius), a tenth of the float64 bound;
   * the number of bit-different outputs is printed.
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} s16={6}")
  @MethodSource("variantCases")
  void variantsMatchFused(ConvMode mode, ElementType io, int B, int H, int L, int Lk, boolean s16) {
    var rng = new SplittableRandom(53L * L + B + 11L * io.ordinal() + mode.ordinal());
    var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, mode);
    int n = B * H * L;
    short[] u16 = HalfFloats.encode(toF(x.u()), io);
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, mode, io).tuned(false).storage16(s16)) {   // twins from the untuned plan
      int m = pm.points(), t0 = pm.threads();
      var r = new PackedMonarchReference(m);
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), h, r.n)), 0, pq, 4 * m * h, 4 * m);
      pm.setBlocks(PackedMonarchHostTest.randomBlocks(rng, m, 2)).setWeights(pq, toF(x.d()));
      String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " M=" + m + (s16 ? " s16" : "");
      try (var u = dev.upload(u16); var y0 = dev.alloc(2L * n + 4); var d0 = dev.alloc(2L * n + 4); var y1 = dev.alloc(2L * n + 4);
           var d1 = dev.alloc(2L * n + 4)) {
        y0.fill32(0x7fc07fc0); d0.fill32(0x7fc07fc0);
        pm.fused(true).balanced(false).regCap(0).forward(u, y0, B);
        pm.inputGrad(u, d0, B);
        float[] ya = HalfFloats.decode(LearnedCase.read(dev, y0, n), io), da = HalfFloats.decode(LearnedCase.read(dev, d0, n), io);
        PackedLearnedRefGpuTest.finite(ya, "fused y " + what);
        PackedLearnedRefGpuTest.finite(da, "fused du " + what);
        // {balanced, regCap, threads}: threads 0 = the plan's default
        int[][] variants = {{1, 0, 0}, {1, 80, 0}, {1, 80, 128}, {1, 80, 256}, {1, 80, 512}, {1, 0, 512}};
        for (int[] v : variants) {
          pm.balanced(v[0] == 1).regCap(v[1]).threads(v[2] == 0 ? t0 : v[2]);
          String vw = what + " " + pm.kernelName() + " t" + pm.threads();
          y1.fill32(0x7fc07fc0); d1.fill32(0x7fc07fc0);
          pm.forward(u, y1, B);
          pm.inputGrad(u, d1, B);
          float[] yb = HalfFloats.decode(LearnedCase.read(dev, y1, n), io), db = HalfFloats.decode(LearnedCase.read(dev, d1, n), io);
          PackedLearnedRefGpuTest.finite(yb, "y " + vw);
          PackedLearnedRefGpuTest.finite(db, "du " + vw);
          System.out.printf("%s: %d / %d y and %d du outputs differ from lpm_fused's bits%n", vw, differ(ya, yb), n, differ(da, db));
          Reference.assertClose("y variant vs fused " + vw, yb, ConvCase.toD(ya), 1e-3);
          Reference.assertClose("du variant vs fused " + vw, db, ConvCase.toD(da), 1e-3);
        }
        pm.balanced(false).regCap(0).threads(t0);
      }
    }
  }

  private static int differ(float[] a, float[] b) {
    int c = 0;
    for (int i = 0; i < a.length; i++) if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) c++;
    return c;
  }

  static Stream<Arguments> dpqCases() {
    // mode, io, B, H, L, Lk, 16-bit planes; M in the comment
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 3, 2, 2048, 2048, false),         // M = 2048
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 2, 3, 4096, 3000, false),   // N = 8192 (7096), M = 4096
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 3, 2, 16384, 16384, false),     // M = 8192
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 2, 2, 16384, 16384, false),        // M = 16384
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 1, 65536, 1000, true));      // M = 32768
  }

  /**
   * dP / dQ ({@link PackedMonarchConv#pairGrads}, lpm_dpq_*) against the float64 twin's (PackedMonarchHostTest checks those
   * are the gradient), random blocks, summed over B rows per channel; NaN-poisoned output with a guarded tail. Tolerance
   * 1e-2 relative: each term is the product of two half chains of J stages (the y bound's per-stage 16-bit operand
   * rounding, sqrt(J) x 1.6e-3 <= 3.2e-3 for bf16 at J = 4), ~4.5e-3 for the product, the fp32 sum over B rows of
   * random-sign terms keeps that relative size; the 16-bit planes at M = 32768 add ~2e-3: <= 5e-3, margin 2.
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} s16={6}")
  @MethodSource("dpqCases")
  void pairGradsMatchFloat64(ConvMode mode, ElementType io, int B, int H, int L, int Lk, boolean s16) {
    var rng = new SplittableRandom(977L * L + 13L * B + H + 3L * io.ordinal() + mode.ordinal());
    var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, mode);
    int n = B * H * L;
    short[] u16 = HalfFloats.encode(toF(x.u()), io), dy16 = HalfFloats.encode(toF(gauss(rng, n)), io);
    double[] u = ConvCase.toD(HalfFloats.decode(u16, io)), dy = ConvCase.toD(HalfFloats.decode(dy16, io));
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, mode, io).tuned(false).storage16(s16)) {   // dP / dQ as validated, before tuned became the default
      int m = pm.points();
      var r = new PackedMonarchReference(m);
      double[][] blocks = PackedMonarchHostTest.randomBlocks(rng, m, 2);
      double[] pq = new double[4 * H * m], want = new double[4 * H * m];
      for (int h = 0; h < H; h++) {
        System.arraycopy(r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), h, r.n)), 0, pq, 4 * m * h, 4 * m);
        double[][] us = new double[B][], dys = new double[B][];
        for (int b = 0; b < B; b++) {
          int o = (b * H + h) * L;
          us[b] = java.util.Arrays.copyOfRange(u, o, o + L);
          dys[b] = java.util.Arrays.copyOfRange(dy, o, o + L);
        }
        double[] g = r.pairGrads(us, dys, L, blocks);   // lib layout [4M] -> (M) float4 {dP, dQ} at position p
        for (int p = 0; p < m; p++) {
          int w = 4 * (h * m + p);
          want[w] = g[2 * p]; want[w + 1] = g[2 * p + 1]; want[w + 2] = g[2 * m + 2 * p]; want[w + 3] = g[2 * m + 2 * p + 1];
        }
      }
      pm.setBlocks(blocks).setWeights(pq, toF(x.d()));
      String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + (s16 ? " s16" : "");
      int tail = 16;
      try (var ub = dev.upload(u16); var db = dev.upload(dy16); var out = dev.alloc(16L * H * m + 4L * tail)) {
        out.fill32(0x7fc00000);
        pm.pairGrads(ub, db, B, out);
        dev.synchronize();
        float[] all = out.copyTo(new float[4 * H * m + tail], 0);
        for (int i = 4 * H * m; i < all.length; i++) assertTrue(Float.isNaN(all[i]), "dP / dQ written past (H, M) at " + i + " " + what);
        float[] got = java.util.Arrays.copyOf(all, 4 * H * m);
        PackedLearnedRefGpuTest.finite(got, "dP / dQ " + what);
        Reference.assertClose("dP / dQ vs float64 " + what, got, want, TOL16);
      }
    }
  }

  /** P / Q and D from device memory in pkjref's (H, M) float4 layouts (setPq) give the host route's y and du bit for bit. */
  @Test
  void pqOnDeviceEqualsHostRoute() {
    var rng = new SplittableRandom(6);
    int B = 2, H = 3, L = 4096, Lk = 4096, n = B * H * L;
    var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, ConvMode.CAUSAL);
    short[] u16 = HalfFloats.encode(toF(x.u()), ElementType.F16);
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, ElementType.F16)) {
      int m = pm.points();
      var r = new PackedMonarchReference(m);
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), h, r.n)), 0, pq, 4 * m * h, 4 * m);
      pm.setBlocks(PackedMonarchHostTest.randomBlocks(rng, m, 2)).setWeights(pq, toF(x.d()));
      int[] part = pm.partners();
      float[] f = new float[4 * H * m], a = new float[4 * H * m];   // {P_p, Q_p} and {conj P_p, Q_s(p)} at position p
      for (int h = 0; h < H; h++)
        for (int p = 0; p < m; p++) {
          int w = 4 * (h * m + p), o = 4 * m * h, q = part[p];
          f[w] = (float) pq[o + 2 * p]; f[w + 1] = (float) pq[o + 2 * p + 1];
          f[w + 2] = (float) pq[o + 2 * m + 2 * p]; f[w + 3] = (float) pq[o + 2 * m + 2 * p + 1];
          a[w] = f[w]; a[w + 1] = -f[w + 1]; a[w + 2] = (float) pq[o + 2 * m + 2 * q]; a[w + 3] = (float) pq[o + 2 * m + 2 * q + 1];
        }
      try (var u = dev.upload(u16); var y1 = dev.alloc(2L * n); var y2 = dev.alloc(2L * n); var d1 = dev.alloc(2L * n); var d2 = dev.alloc(2L * n);
           var fb = dev.upload(f); var ab = dev.upload(a); var db = dev.upload(toF(x.d()))) {
        pm.forward(u, y1, B);
        pm.inputGrad(u, d1, B);
        pm.setWeights(new double[4 * H * m], new float[H]).setPq(fb.ptr(), ab.ptr(), db.ptr());
        y2.fill32(0x7fc07fc0);
        d2.fill32(0x7fc07fc0);
        pm.forward(u, y2, B);
        pm.inputGrad(u, d2, B);
        short[] p1 = LearnedCase.read(dev, y1, n), p2 = LearnedCase.read(dev, y2, n), q1 = LearnedCase.read(dev, d1, n), q2 = LearnedCase.read(dev, d2, n);
        for (int i = 0; i < n; i++) { assertEquals(p1[i], p2[i], "y at " + i); assertEquals(q1[i], q2[i], "du at " + i); }
      }
    }
  }

  /** Blocks from device memory (setBlocksOnDevice) give the host route's outputs bit for bit. */
  @Test
  void blocksOnDeviceEqualHostRoute() {
    var rng = new SplittableRandom(5);
    int B = 2, H = 3, L = 8192, Lk = 8192, n = B * H * L;
    var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, ConvMode.CAUSAL);
    short[] u16 = HalfFloats.encode(toF(x.u()), ElementType.BF16);
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, ElementType.BF16)) {
      int m = pm.points();
      var r = new PackedMonarchReference(m);
      double[][] blocks = PackedMonarchHostTest.randomBlocks(rng, m, 2);
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), h, r.n)), 0, pq, 4 * m * h, 4 * m);
      pm.setWeights(pq, toF(x.d())).setBlocks(blocks);
      DeviceBuffer[] bufs = new DeviceBuffer[blocks.length];
      DevicePointer[] ptrs = new DevicePointer[blocks.length];
      try (var u = dev.upload(u16); var y1 = dev.alloc(2L * n); var y2 = dev.alloc(2L * n)) {
        pm.forward(u, y1, B);
        for (int i = 0; i < blocks.length; i++) { bufs[i] = dev.upload(toF(blocks[i])); ptrs[i] = bufs[i].ptr(); }
        pm.setBlocks(PackedMonarchFactors.atInit(m)).setBlocksOnDevice(ptrs);
        y2.fill32(0x7fc07fc0);
        pm.forward(u, y2, B);
        short[] a = LearnedCase.read(dev, y1, n), b = LearnedCase.read(dev, y2, n);
        for (int i = 0; i < n; i++) assertEquals(a[i], b[i], "y at " + i);
      } finally {
        for (DeviceBuffer bb : bufs) if (bb != null) bb.close();
      }
    }
  }

  static float[] toF(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
    return f;
  }

  static double[] gauss(SplittableRandom rng, int n) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) a[i] = rng.nextGaussian();
    return a;
  }
}
