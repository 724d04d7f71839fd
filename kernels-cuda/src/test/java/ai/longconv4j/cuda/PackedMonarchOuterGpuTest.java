// Shapes: B batch, H channels, L length, Lk taps per side, N the real FFT size, M = N / 2 = R1 * 16^(J-1) (2048 .. 16384);
// u, y, du (B, H, L) 16-bit on the device; k lib's (H, sides, Lk); D (H); blocks lib's order {F_1 .. F_J, G_J .. G_1};
// pair coefficients (H, 4M) at positions (PackedMonarchReference.pairCoefficients per channel).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Helper pkocc's kernels ({@link PackedMonarchConv#outer}, learned_pm3.cu lpm3_*) against the float64 twin
 * {@link PackedMonarchReference} and against their slow twin, the plan's default kernel (learned_pm2.cu lpm2_b_* under
 * tuned), on the same data: y and du, random blocks (every entry uniform: a transposed or conjugated block, a swapped
 * stage, a wrong twiddle or a wrong left / right convention shows), all three modes (causal / bidirectional take the
 * zero-half paths, circular the full ones), M = 2048 (J = 3, R1 = 8), 4096 (J = 3, R1 = 16), 8192 (J = 4, R1 = 2), 16384
 * (J = 4, R1 = 4), bf16 and fp16, odd L (the scalar I/O path), H = 111, Lk &lt; L; outputs NaN-poisoned with a tail past
 * B H L that must stay poisoned. Tolerances: 1e-2 against float64 (PackedMonarchGpuTest's bound and its derivation: 16-bit
 * operands at each of the 2J stages and 16-bit planes, ~4e-3 for bf16); 2e-2 against the twin (each within 1e-2 of float64,
 * they round at different points: the outer pair keeps stage 1's output as a 16-bit operand in registers where the twin
 * stores it to the planes, and the first stage's twiddles come by a product recurrence).
 * Helper pm4's kernels ({@link PackedMonarchConv#fragTable}, learned_pm4.cu lpm4_*: lpm3 with per-block fragment tables)
 * in the same loop, same caps and threads: within 1e-2 of float64 and bit for bit lpm3's y and du, in every mode; at
 * M = 4096 the g kernels (under the 64 cap too), and at every M the s kernels ({@link PackedMonarchConv#stage}: x staged
 * in shared memory; sp and the 64 cap at 4096; session 18) bit for bit lpm3's as well (same products in the same order;
 * the staged x holds the same 16-bit values, zero past L), and the x kernels ({@link PackedMonarchConv#regPair}: the
 * middle's pair map in registers; session 26) at every M and cap bit for bit lpm3's (the values the s kernels store and
 * reload are the 16-bit roundings they keep in registers; the pair map's products are the same expressions); the y kernels
 * ({@link PackedMonarchConv#sfuTwiddles}: x with the SFU's twiddles) within 1e-2 of float64 and 2e-3 of lpm3's y / du.
 */
@Tag("gpu")
class PackedMonarchOuterGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, io, B, H, L, Lk, threads; M in the comment
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 2048, 2048, 128),            // M = 2048 = 8 x 16 x 16
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 3, 111, 2001, 1500, 256),           // N = 4096 (3500), odd L, M = 2048
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 3, 4096, 4096, 256),          // N = L: M = 2048, full row
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 4096, 4096, 256),            // M = 4096 = 16 x 16 x 16
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 4090, 4000, 256),            // M = 4096, L not a multiple of 8
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 2, 3, 4096, 3000, 512),      // N = 8192 (7096), M = 4096
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 3, 8192, 8192, 256),          // M = 4096, full row
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 2, 3, 8192, 8192, 256),             // M = 8192 = 2 x 16^3
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 2, 8190, 8000, 128),            // M = 8192, L not a multiple of 8
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 2, 3, 16384, 300, 512),           // M = 8192, full row
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 3, 16384, 16384, 256),          // M = 16384 = 4 x 16^3
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 16384, 1000, 256),    // N = 32768 (17384), M = 16384
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 1, 2, 32768, 32768, 512));       // M = 16384, full row
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} t{6}")
  @MethodSource("cases")
  void outerMatchesFloat64AndTwin(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int threads) {
    var rng = new SplittableRandom(6007L * L + 13L * B + 7L * H + 3L * io.ordinal() + mode.ordinal());
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, mode, io)) {
      int m = pm.points();
      var c = Drawn.on(pm, rng, mode, io, B, H, L, Lk);
      int n = c.n(), tail = c.tail();
      double[] yRef = c.yRef(), duRef = c.duRef();
      try (var u0 = dev.upload(c.u16()); var dy0 = dev.upload(c.dy16()); var y = dev.alloc(2L * (n + tail)); var du = dev.alloc(2L * (n + tail));
           var y2 = dev.alloc(2L * (n + tail)); var du2 = dev.alloc(2L * (n + tail))) {   // n + tail even: fill32's whole words
        for (DeviceBuffer b : new DeviceBuffer[] {y, du, y2, du2}) b.fill32(0x7fc07fc0);
        pm.outer(false).fragTable(false).forward(u0, y2, B);   // the slow twin: the plan's default kernel without lpm3 / lpm4
        pm.inputGrad(dy0, du2, B);
        String twin = pm.kernelName();
        int t0 = pm.threads();
        float[] yT = HalfFloats.decode(LearnedCase.read(dev, y2, n), io), duT = HalfFloats.decode(LearnedCase.read(dev, du2, n), io);
        PackedLearnedRefGpuTest.finite(yT, "y twin " + twin);
        PackedLearnedRefGpuTest.finite(duT, "du twin " + twin);
        for (int cap : m <= 8192 ? new int[] {80, 0} : new int[] {0}) {   // learned_pm3.cu builds the cap up to M = 8192
          pm.outer(true).regCap(cap).threads(threads);
          String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " " + pm.kernelName() + " t" + threads;
          assertEquals("lpm3_" + io.tag() + "_m" + m + "_r" + cap, pm.kernelName(), "outer(true) runs learned_pm3.cu at M = " + m);
          float[][] g = run(pm, u0, dy0, y, du, B, io, n, tail, what);
          float[] yG = g[0], duG = g[1];
          Reference.assertClose("y vs float64 " + what, yG, yRef, 1e-2);
          Reference.assertClose("du vs float64 " + what, duG, duRef, 1e-2);
          Reference.assertClose("y vs twin " + twin + " t" + t0 + " " + what, yG, ConvCase.toD(yT), 2e-2);
          Reference.assertClose("du vs twin " + twin + " t" + t0 + " " + what, duG, ConvCase.toD(duT), 2e-2);
          System.out.printf("pkocc %s: y / du within the bounds (twin %s t%d)%n", what, twin, t0);
          // helper pm4: learned_pm4.cu (the same kernel with fragment tables) gives lpm3's bits, poison and tail as above
          pm.fragTable(true).fragDirect(false).stage(false);   // (the default plan stages the row since session 18)
          String w4 = what.replace("lpm3_", "lpm4_");
          assertEquals("lpm4_" + io.tag() + "_m" + m + "_r" + cap, pm.kernelName(), "fragTable(true) runs learned_pm4.cu at M = " + m);
          float[][] g4 = run(pm, u0, dy0, y, du, B, io, n, tail, w4);
          float[] y4 = g4[0], du4 = g4[1];
          Reference.assertClose("y vs float64 " + w4, y4, yRef, 1e-2);
          Reference.assertClose("du vs float64 " + w4, du4, duRef, 1e-2);
          assertArrayEquals(yG, y4, "y " + w4 + ": the bits of lpm3 (same fragments, same products in the same order)");
          assertArrayEquals(duG, du4, "du " + w4 + ": the bits of lpm3");
          System.out.printf("pm4 %s: y / du the bits of lpm3, within 1e-2 of float64%n", w4);
          if (m == 4096) {   // the g kernels (first stage from global memory): the same bits again
            pm.fragDirect(true);
            sameBits(pm, "lpm4g_" + io.tag() + "_m4096_r" + cap, u0, dy0, y, du, B, io, n, tail, yG, duG, w4);
            if (cap == 80) sameBits(pm.regCap(64), "lpm4g_" + io.tag() + "_m4096_r64", u0, dy0, y, du, B, io, n, tail, yG, duG, w4);
            pm.regCap(cap).fragDirect(false);
          }
          {   // helper pm4 (session 18): the s kernels (x staged in shared memory), and at M = 4096 sp and s under the 64 cap
            pm.stage(true).regPair(false).sfuTwiddles(false);   // (the default plan runs their y form since session 26)
            sameBits(pm, "lpm4s_" + io.tag() + "_m" + m + "_r" + cap, u0, dy0, y, du, B, io, n, tail, yG, duG, w4);
            // session 26: the x kernels (the middle's pair map in registers) give the same bits
            sameBits(pm.regPair(true), "lpm4x_" + io.tag() + "_m" + m + "_r" + cap, u0, dy0, y, du, B, io, n, tail, yG, duG, w4);
            if (cap == (m <= 8192 ? 80 : 0)) {   // the y kernels (x with the SFU's twiddles; learned_pm4.cu builds x's default caps)
              pm.sfuTwiddles(true);
              // session 27: and their v / w forms (recurrence twiddles; w at M = 8192 / 16384 only)
              for (int rec : m >= 8192 ? new int[] {0, 2, 1} : new int[] {0, 2}) {
                String wy = (rec == 0 ? "lpm4y_" : rec == 2 ? "lpm4v_" : "lpm4w_") + io.tag() + "_m" + m + "_r" + cap;
                assertEquals(wy, pm.recTwiddles(rec).kernelName(), w4);
                float[][] gy = run(pm, u0, dy0, y, du, B, io, n, tail, wy + " (" + w4 + ")");
                Reference.assertClose("y vs float64 " + wy, gy[0], yRef, 1e-2);
                Reference.assertClose("du vs float64 " + wy, gy[1], duRef, 1e-2);
                // vs lpm3's bits: y's twiddles differ by < 2^-21.4 (__sincosf on [-pi, pi) vs the sincospif table), v's / w's
                // (a product recurrence from those, a few fp32 ulps a step, 3 steps at 256 threads) by ~2^-21: far below the
                // 16-bit operands' rounding (2^-9 bf16, 2^-12 fp16), so only operands next to a rounding boundary move, by one
                // unit: a normwise difference well under one bf16 unit (4e-3); bound 2e-3
                Reference.assertClose("y vs lpm3 " + wy, gy[0], ConvCase.toD(yG), 2e-3);
                Reference.assertClose("du vs lpm3 " + wy, gy[1], ConvCase.toD(duG), 2e-3);
              }
              pm.recTwiddles(0).sfuTwiddles(false);
            }
            pm.regPair(false);   // (pairU 2 and the 64 cap below: the s kernels)
            if (m == 4096 && cap == 80) {
              sameBits(pm.pairU(2), "lpm4sp_" + io.tag() + "_m4096_r80", u0, dy0, y, du, B, io, n, tail, yG, duG, w4);
              sameBits(pm.pairU(1).regCap(64), "lpm4s_" + io.tag() + "_m4096_r64", u0, dy0, y, du, B, io, n, tail, yG, duG, w4);
              pm.regCap(cap);
            }
            pm.stage(false);
          }
          pm.fragTable(false);
        }
      }
    }
  }

  static Stream<Arguments> wideCases() {
    // mode, io, B, H, L, Lk: M = 32768 = 8 x 16^3, L <= M
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 3, 32768, 32768),          // N = 65536
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 2, 2, 30001, 20000),           // odd L (the scalar I/O path), Lk < L
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 20000, 15000));  // N = 65536 (35000)
  }

  /**
   * Session 29's M = 32768 y kernel ({@link PackedMonarchConv#wide32}, 256 threads) against float64 (1e-2, as above) and
   * against its twin, lpm_fused (2e-2: each within 1e-2 of float64; they round at different points, the y kernel keeping
   * stage 1's output as a 16-bit operand in registers and taking its twiddles from the SFU), y and du, poisoned outputs.
   * Skipped with the reason on a device without its 215 KB of shared memory a block.
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5}")
  @MethodSource("wideCases")
  void wide32MatchesFloat64AndTwin(ConvMode mode, ElementType io, int B, int H, int L, int Lk) {
    org.junit.jupiter.api.Assumptions.assumeTrue(dev.maxSharedMemoryOptin() >= PackedMonarchConv.wide32Smem(),
        "the M = 32768 y kernel needs " + PackedMonarchConv.wide32Smem() + " bytes of shared memory a block; " + dev.name()
            + " allows " + dev.maxSharedMemoryOptin());
    var rng = new SplittableRandom(7019L * L + 13L * B + 7L * H + 3L * io.ordinal() + mode.ordinal());
    try (var pm = PackedMonarchConv.plan(dev, H, L, Lk, mode, io)) {
      int m = pm.points();
      assertEquals(32768, m, "M of " + mode + " L=" + L + " Lk=" + Lk);
      var c = Drawn.on(pm, rng, mode, io, B, H, L, Lk);
      int n = c.n(), tail = c.tail();
      double[] yRef = c.yRef(), duRef = c.duRef();
      try (var u0 = dev.upload(c.u16()); var dy0 = dev.upload(c.dy16()); var y = dev.alloc(2L * (n + tail)); var du = dev.alloc(2L * (n + tail))) {
        String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m;
        assertEquals("lpm_fused_" + io.tag() + "_s16", pm.wide32(false).kernelName(), what);
        float[][] t = run(pm, u0, dy0, y, du, B, io, n, tail, "twin " + what);
        assertEquals("lpm4y_" + io.tag() + "_m32768_t256", pm.wide32(true).kernelName(), what);
        assertEquals(256, pm.threads(), what);
        float[][] g = run(pm, u0, dy0, y, du, B, io, n, tail, "wide32 " + what);
        Reference.assertClose("y vs float64 lpm4y m32768 " + what, g[0], yRef, 1e-2);
        Reference.assertClose("du vs float64 lpm4y m32768 " + what, g[1], duRef, 1e-2);
        Reference.assertClose("y vs float64 twin " + what, t[0], yRef, 1e-2);
        Reference.assertClose("y vs twin lpm_fused " + what, g[0], ConvCase.toD(t[0]), 2e-2);
        Reference.assertClose("du vs twin lpm_fused " + what, g[1], ConvCase.toD(t[1]), 2e-2);
        System.out.printf("wide32 %s: y / du within 1e-2 of float64 and 2e-2 of lpm_fused%n", what);
      }
    }
  }

  /**
   * A case's data on the host: u and dy (16-bit, as uploaded; n = B H L values, tail poisoned values behind them), and the float64
   * twin's y and du for random blocks and the taps' P / Q, both set on the plan.
   */
  record Drawn(short[] u16, short[] dy16, double[] yRef, double[] duRef, int n, int tail) {
    static Drawn on(PackedMonarchConv pm, SplittableRandom rng, ConvMode mode, ElementType io, int B, int H, int L, int Lk) {
      var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, mode);
      int n = B * H * L, m = pm.points();
      short[] u16 = HalfFloats.encode(PackedMonarchGpuTest.toF(x.u()), io);
      short[] dy16 = HalfFloats.encode(PackedMonarchGpuTest.toF(PackedMonarchGpuTest.gauss(rng, n)), io);
      double[] u = ConvCase.toD(HalfFloats.decode(u16, io)), dy = ConvCase.toD(HalfFloats.decode(dy16, io));
      var xd = new PackedMonarchHostTest.Data(u, x.k(), x.d(), x.shape());
      var r = new PackedMonarchReference(m);
      double[][] blocks = PackedMonarchHostTest.randomBlocks(rng, m, 2);
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), h, r.n)), 0, pq, 4 * m * h, 4 * m);
      pm.setBlocks(blocks).setWeights(pq, PackedMonarchGpuTest.toF(x.d()));
      return new Drawn(u16, dy16, PackedMonarchHostTest.refForward(r, xd, blocks, false, u),
          PackedMonarchHostTest.refForward(r, xd, blocks, true, dy), n, 64 + (n & 1));
    }
  }

  /** The plan runs {@code kernel} and gives lpm3's y / du bits ({@code y3}, {@code du3}; poison, tail and finiteness as run). */
  private static void sameBits(PackedMonarchConv pm, String kernel, DeviceBuffer u0, DeviceBuffer dy0, DeviceBuffer y, DeviceBuffer du, int B,
      ElementType io, int n, int tail, float[] y3, float[] du3, String what) {
    assertEquals(kernel, pm.kernelName(), what);
    String w = kernel + " (" + what + ")";
    float[][] g = run(pm, u0, dy0, y, du, B, io, n, tail, w);
    assertArrayEquals(y3, g[0], "y " + w + ": the bits of lpm3");
    assertArrayEquals(du3, g[1], "du " + w + ": the bits of lpm3");
    System.out.printf("pm4 %s: the bits of lpm3%n", w);
  }

  /** y = forward(u0) and du = inputGrad(dy0) on the plan's kernel into NaN-poisoned y / du: {y, du}, tails poisoned, finite. */
  private static float[][] run(PackedMonarchConv pm, DeviceBuffer u0, DeviceBuffer dy0, DeviceBuffer y, DeviceBuffer du, int B,
      ElementType io, int n, int tail, String what) {
    y.fill32(0x7fc07fc0); du.fill32(0x7fc07fc0);
    pm.forward(u0, y, B);
    pm.inputGrad(dy0, du, B);
    float[] yG = PackedLearnedRefGpuTest.readChecked(y, io, n, tail, "y " + what);
    float[] duG = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + what);
    PackedLearnedRefGpuTest.finite(yG, "y " + what);
    PackedLearnedRefGpuTest.finite(duG, "du " + what);
    return new float[][] {yG, duG};
  }

  /**
   * Which kernel a plan runs: the default (tuned) plan runs learned_pm4.cu for M &lt;= 16384 in every mode, its s kernels
   * (the staged row; since session 18) in their y form (the pair map in registers, the SFU's twiddles; since session 26) for causal /
   * bidirectional and for circular M &lt;= 8192, its g kernels at M = 4096
   * without stage (unless -Dlongconv4j.pm.fragtable / fragdirect / stage / outer say otherwise); without fragTable
   * learned_pm3.cu for causal / bidirectional and learned_pm2.cu for circular; tuned(false) runs none of them; M = 32768
   * runs session 29's y kernel (wide32) where the device allows its shared memory, else, and under wide32(false), lpm_fused
   * (outer(true) and fragTable(true) do not apply: learned_pm3.cu / learned_pm4.cu build R1 = 8 at J = 4 for that kernel only).
   */
  @Test
  void kernelChoice() {
    boolean prop = System.getProperty("longconv4j.pm.outer") == null && System.getProperty("longconv4j.pm.fragtable") == null
        && System.getProperty("longconv4j.pm.fragdirect") == null && System.getProperty("longconv4j.pm.stage") == null
        && System.getProperty("longconv4j.pm.regpair") == null && System.getProperty("longconv4j.pm.sfutw") == null
        && System.getProperty("longconv4j.pm.rectw") == null;
    try (var c = PackedMonarchConv.plan(dev, 2, 4096, 4096, ConvMode.CAUSAL, ElementType.BF16);
         var b = PackedMonarchConv.plan(dev, 2, 4096, 1000, ConvMode.BIDIRECTIONAL, ElementType.F16);
         var r = PackedMonarchConv.plan(dev, 2, 8192, 8192, ConvMode.CIRCULAR, ElementType.BF16);
         var r2 = PackedMonarchConv.plan(dev, 2, 4096, 4096, ConvMode.CIRCULAR, ElementType.BF16);
         var r16 = PackedMonarchConv.plan(dev, 2, 32768, 32768, ConvMode.CIRCULAR, ElementType.BF16);
         var c16 = PackedMonarchConv.plan(dev, 2, 16384, 16384, ConvMode.CAUSAL, ElementType.BF16)) {
      if (prop) {
        assertEquals("lpm4v_bf16_m4096_r80", c.kernelName());   // session 27: the v kernels (y with recurrence twiddles) at 4096
        assertEquals("lpm4v_f16_m4096_r80", b.kernelName());
        assertEquals("lpm4v_bf16_m4096_r80", r.kernelName());
        assertEquals("lpm4y_bf16_m2048_r80", r2.kernelName());   // session 26: the y kernels (x with the SFU's twiddles)
        assertEquals("lpm4_bf16_m16384_r0", r16.kernelName());   // circular M = 16384: fragment tables, no staged row
        assertEquals("lpm4v_bf16_m16384_r0", c16.kernelName());
        assertEquals("lpm4y_bf16_m16384_r0", c16.recTwiddles(0).kernelName());
        assertEquals("lpm4w_bf16_m16384_r0", c16.recTwiddles(1).kernelName());
        c16.recTwiddles(2);
        assertEquals("lpm4x_bf16_m16384_r0", c16.sfuTwiddles(false).kernelName());   // x: the pair map in registers
        assertEquals("lpm4s_bf16_m16384_r0", c16.regPair(false).kernelName());
        assertEquals("lpm4x_bf16_m4096_r80", c.sfuTwiddles(false).kernelName());
        assertEquals("lpm4s_bf16_m4096_r80", c.regPair(false).kernelName());
        assertEquals("lpm4g_bf16_m4096_r80", c.stage(false).kernelName());
        assertEquals("lpm4_bf16_m4096_r80", c.fragDirect(false).kernelName());
        assertEquals("lpm3_bf16_m4096_r80", c.fragTable(false).kernelName());
        assertEquals("lpm2_b_bf16_s16_r80", r.fragTable(false).kernelName());
        assertEquals("lpm2_b_bf16_s32_r80", r2.fragTable(false).kernelName());
      }
      assertEquals("lpm_fused_bf16_s32", c.tuned(false).kernelName());
      assertEquals("lpm3_bf16_m4096_r0", c.outer(true).kernelName());
      assertEquals("lpm4_bf16_m4096_r0", c.fragTable(true).kernelName());
      assertEquals("lpm4s_bf16_m4096_r0", c.stage(true).kernelName());   // tuned(false) clears regPair too
      assertEquals("lpm4x_bf16_m4096_r0", c.regPair(true).kernelName());
      assertEquals("lpm4x_bf16_m4096_r0", c.sfuTwiddles(true).kernelName());   // y is built at the 80 cap only below M = 16384
      assertEquals("lpm4y_bf16_m4096_r80", c.regCap(80).kernelName());
      assertEquals("lpm4_bf16_m4096_r80", c.stage(false).kernelName());   // x / y only on the s kernels
      c.stage(true).regPair(false).sfuTwiddles(false).regCap(0);
      assertEquals("lpm3_bf16_m4096_r80", r.fragTable(false).outer(true).kernelName());
      // the caps learned_pm4.cu does not build: a clear IllegalStateException at launch, naming the kernel
      c.regCap(64).pairU(2);
      try (var u = dev.alloc(2L * 2 * 4096); var y = dev.alloc(2L * 2 * 4096)) {
        c.setWeights(new double[4 * 2 * 4096], new float[2]);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> c.forward(u, y, 1));
        assertEquals("PackedMonarchConv.forward: register cap 64 exists only for learned_pm4.cu's g and s kernels at M = 4096 (fragTable(true)"
            + " with fragDirect(true) or stage(true), pairU 1), not for lpm4sp_bf16_m4096_r64 (M = 4096)", e.getMessage());
      }
    }
    try (var pm = PackedMonarchConv.plan(dev, 2, 32768, 32768, ConvMode.CAUSAL, ElementType.BF16)) {
      boolean wide = dev.maxSharedMemoryOptin() >= PackedMonarchConv.wide32Smem() && System.getProperty("longconv4j.pm.wide32") == null;
      // tuned: session 29's y kernel at M = 32768 where the device has its shared memory, else lpm_fused
      assertEquals(wide ? "lpm4y_bf16_m32768_t256" : "lpm_fused_bf16_s16", pm.kernelName());
      assertEquals("lpm_fused_bf16_s16", pm.wide32(false).outer(true).kernelName());   // outer / fragTable do not build M = 32768
      assertEquals("lpm_fused_bf16_s16", pm.tuned(false).outer(true).kernelName());
      assertEquals("lpm_fused_bf16_s16", pm.fragTable(true).stage(true).kernelName());
    }
  }
}
