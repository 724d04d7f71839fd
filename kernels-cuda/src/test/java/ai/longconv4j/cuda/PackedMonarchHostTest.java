// Shapes: B batch, H channels, L length, Lk taps per side, N the real FFT size, M = N / 2 = prod of the J factors;
// u, y, dy, du (B, H, L); k lib's (H, sides, Lk); D (H); blocks lib's order {F_1 .. F_J, G_J .. G_1}.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.FftConv;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Host checks of {@link PackedMonarchConv} (no GPU): the plan's refusals by name, the factor table and the position map
 * of s14-jspec.md; the test's float64 twin {@link PackedMonarchReference} (what the GPU test compares against) at the DFT
 * blocks against lib's FftConv in all three modes (1e-10: the J-stage fp64 chain and P / Q against an exact FFT
 * convolution, both ~1e-15 per operation over O(log N) stages), its input gradient against the true adjoint by the
 * dot-product identity &lt;y(u), dy&gt; = &lt;u, du(dy)&gt; with random blocks (y, du linear in u, dy without the skip D;
 * fp64, 1e-10 relative); learned_pm.cu's ptxas report: every kernel built for sm_80 and sm_90a, none spilling.
 */
class PackedMonarchHostTest {
  private static final Path REPORT = Path.of("target", "cuda", "learned_pm.ptxas.txt");

  @Test
  void refusesWhatItDoesNotCover() {
    var e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 3, 1024, 1024, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=1024") && e.getMessage().contains("2048 .. 32768"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 3, 40000, 40000, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=65536"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 3, 4096, 4096, ConvMode.CAUSAL, ElementType.F32));
    assertTrue(e.getMessage().contains("F32"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 3, 5000, 100, ConvMode.CIRCULAR, ElementType.F16));
    assertTrue(e.getMessage().contains("L=5000"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 0, 4096, 4096, ConvMode.CAUSAL, ElementType.F16));
    assertTrue(e.getMessage().contains("H must be"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 3, 4096, 5000, ConvMode.CAUSAL, ElementType.F16));
    assertTrue(e.getMessage().contains("Lk=5000"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 3, 4096, 4096, null, ElementType.F16));
    assertTrue(e.getMessage().contains("mode is null"), e.getMessage());
    for (ElementType io : new ElementType[] {ElementType.BF16, ElementType.F16}) {
      assertTrue(PackedMonarchConv.supports(2048, 2048, ConvMode.CAUSAL, io));         // M = 2048
      assertTrue(PackedMonarchConv.supports(16384, 16384, ConvMode.CAUSAL, io));       // M = 16384
      assertTrue(PackedMonarchConv.supports(16384, 16384, ConvMode.BIDIRECTIONAL, io)); // N = 32768 (L + Lk), M = 16384
      assertTrue(PackedMonarchConv.supports(65536, 100, ConvMode.CIRCULAR, io));       // M = 32768
      assertTrue(PackedMonarchConv.supports(4096, 100, ConvMode.CIRCULAR, io));        // M = 2048
      assertFalse(PackedMonarchConv.supports(1024, 1024, ConvMode.CAUSAL, io));        // M = 1024
      assertTrue(PackedMonarchConv.supports(20000, 20000, ConvMode.BIDIRECTIONAL, io));  // N = 65536 (40000), M = 32768
      assertFalse(PackedMonarchConv.supports(33000, 33000, ConvMode.BIDIRECTIONAL, io)); // N = 131072 (66000), M = 65536

      assertFalse(PackedMonarchConv.supports(40000, 40000, ConvMode.CAUSAL, io));      // M = 65536
      assertFalse(PackedMonarchConv.supports(5000, 100, ConvMode.CIRCULAR, io));
      assertFalse(PackedMonarchConv.supports(4096, 5000, ConvMode.CAUSAL, io));
    }
    assertFalse(PackedMonarchConv.supports(4096, 4096, ConvMode.CAUSAL, ElementType.F32));
    assertThrows(IllegalArgumentException.class, () -> PackedMonarchFactors.factors(1024));
    assertThrows(IllegalArgumentException.class, () -> PackedMonarchFactors.factors(3 * 2048));
  }

  @Test
  void factorTableAndPositions() {
    assertArrayEquals(new int[] {8, 16, 16}, PackedMonarchFactors.factors(2048));
    assertArrayEquals(new int[] {16, 16, 16}, PackedMonarchFactors.factors(4096));
    assertArrayEquals(new int[] {2, 16, 16, 16}, PackedMonarchFactors.factors(8192));
    assertArrayEquals(new int[] {4, 16, 16, 16}, PackedMonarchFactors.factors(16384));
    assertArrayEquals(new int[] {8, 16, 16, 16}, PackedMonarchFactors.factors(32768));
    int[] f = PackedMonarchFactors.factors(2048);
    // k = k1 + 8 (k2 + 16 k3) sits at p = 256 k1 + 16 k2 + k3
    assertEquals(256 * 3 + 16 * 5 + 7, PackedMonarchFactors.position(3 + 8 * (5 + 16 * 7), f));
    assertEquals(16 * 5 + 7, PackedMonarchFactors.position(8 * (5 + 16 * 7), f));
    assertEquals(PackedMonarchConv.fftSize(4096, 4096, ConvMode.CAUSAL), 8192);
    assertEquals(PackedMonarchConv.fftSize(4096, 4096, ConvMode.BIDIRECTIONAL), 8192);
    assertEquals(PackedMonarchConv.fftSize(4096, 100, ConvMode.CIRCULAR), 4096);
  }

  /**
   * The bookkeeping PackedThreePass shares from here (helper pkjdedup): checkPlan names the class it is given and the
   * covered circular L, atInit(f) gives {F_1 .. F_J, G_J .. G_1} at the exact DFT of each factor, factorString "R1 x ..".
   */
  @Test
  void sharedBookkeeping() {
    var e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 0, 4096, 4096, ConvMode.CAUSAL, ElementType.F16));
    assertTrue(e.getMessage().startsWith("PackedMonarchConv: H must be in [1, 65535], got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedMonarchConv.plan(null, 3, 5000, 100, ConvMode.CIRCULAR, ElementType.F16));
    assertTrue(e.getMessage().startsWith("PackedMonarchConv CIRCULAR L=5000") && e.getMessage().contains("(covered: L = 4096 .. 65536)"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedPlanArgs.checkPlan("X", 3, 10, 11, ConvMode.CAUSAL, ElementType.F16, ""));
    assertEquals("X: need 1 <= Lk <= L, got Lk=11, L=10", e.getMessage());
    for (int m : new int[] {2048, 8192, 32768}) {
      int[] f = PackedMonarchFactors.factors(m);
      double[][] b = PackedMonarchFactors.atInit(m);
      assertEquals(2 * f.length, b.length, "M=" + m);
      for (int s = 0; s < f.length; s++) {
        assertArrayEquals(ai.longconv4j.conv.LearnedButterfly.dft(f[s], false), b[s], "F_" + (s + 1) + " M=" + m);
        assertArrayEquals(ai.longconv4j.conv.LearnedButterfly.dft(f[s], true), b[2 * f.length - 1 - s], "G_" + (s + 1) + " M=" + m);
      }
    }
    assertEquals("2 x 16 x 16 x 16", PackedMonarchFactors.factorString(PackedMonarchFactors.factors(8192)));
  }

  /** Drawn inputs of one (B, H, L, Lk, mode) case as lib takes them. */
  record Data(double[] u, double[] k, double[] d, ConvShape shape) {
    static Data draw(SplittableRandom rng, int B, int H, int L, int Lk, ConvMode mode) {
      var lm = LearnedButterflyConv.libMode(mode);
      var shape = new ConvShape(B, 1, H, L, Lk, lm);
      double[] u = new double[B * H * L], k = new double[H * lm.sides() * Lk], d = new double[H];
      for (int i = 0; i < u.length; i++) u[i] = rng.nextGaussian();
      for (int i = 0; i < k.length; i++) k[i] = rng.nextGaussian() / Math.sqrt(Lk);
      for (int i = 0; i < d.length; i++) d[i] = rng.nextGaussian();
      return new Data(u, k, d, shape);
    }
  }

  /** y of the reference for all rows (B, H, L). */
  static double[] refForward(PackedMonarchReference r, Data x, double[][] blocks, boolean adjoint, double[] in) {
    var s = x.shape();
    int B = s.batch(), H = s.features(), L = s.length();
    double[] y = new double[B * H * L];
    double[][] bl = adjoint ? r.adjointBlocks(blocks) : blocks;
    for (int h = 0; h < H; h++) {
      double[] pq = r.pairCoefficients(PackedMonarchReference.placeTaps(s, x.k(), h, r.n));
      if (adjoint) pq = r.adjointPairCoefficients(pq);
      for (int b = 0; b < B; b++) {
        int o = (b * H + h) * L;
        double[] row = r.row(java.util.Arrays.copyOfRange(in, o, o + L), L, bl, pq, x.d()[h]);
        System.arraycopy(row, 0, y, o, L);
      }
    }
    return y;
  }

  @Test
  void referenceAtTheDftIsTheFftConvolution() {
    var rng = new SplittableRandom(11);
    for (Object[] c : new Object[][] {{ConvMode.CAUSAL, 2048, 2048}, {ConvMode.BIDIRECTIONAL, 2048, 1500}, {ConvMode.CIRCULAR, 4096, 4096},
        {ConvMode.CAUSAL, 4096, 3000}, {ConvMode.CIRCULAR, 16384, 300}}) {
      ConvMode mode = (ConvMode) c[0];
      int L = (int) c[1], Lk = (int) c[2], m = PackedMonarchConv.fftSize(L, Lk, mode) / 2;
      var x = Data.draw(rng, 2, 2, L, Lk, mode);
      var r = new PackedMonarchReference(m);
      double[] y = refForward(r, x, PackedMonarchFactors.atInit(m), false, x.u());
      double[] want = new FftConv(ConvPlan.of(L, Lk, x.shape().mode())).forward(x.shape(), x.u(), x.k(), x.d());
      double err = relErr(y, want);
      System.out.printf("reference at init vs FftConv %s L=%d Lk=%d M=%d rel err %.3e%n", mode, L, Lk, m, err);
      assertTrue(err < 1e-10, mode + " L=" + L + ": " + err);
    }
  }

  @Test
  void referenceInputGradientIsTheAdjoint() {
    var rng = new SplittableRandom(12);
    for (Object[] c : new Object[][] {{ConvMode.CAUSAL, 2048, 2000}, {ConvMode.BIDIRECTIONAL, 2048, 2048}, {ConvMode.CIRCULAR, 16384, 16384}}) {
      ConvMode mode = (ConvMode) c[0];
      int L = (int) c[1], Lk = (int) c[2], m = PackedMonarchConv.fftSize(L, Lk, mode) / 2;
      var x = Data.draw(rng, 1, 1, L, Lk, mode);
      var r = new PackedMonarchReference(m);
      double[][] blocks = randomBlocks(rng, m, 2);
      double[] dy = new double[L];
      for (int i = 0; i < L; i++) dy[i] = rng.nextGaussian();
      var x0 = new Data(x.u(), x.k(), new double[1], x.shape());   // D = 0: the skip's adjoint is the same D
      double[] y = refForward(r, x0, blocks, false, x.u()), du = refForward(r, x0, blocks, true, dy);
      double a = 0, b = 0, na = 0;
      for (int i = 0; i < L; i++) { a += y[i] * dy[i]; b += x.u()[i] * du[i]; na += Math.abs(y[i] * dy[i]); }
      System.out.printf("reference adjoint %s M=%d <y, dy> = %.12g, <u, du> = %.12g%n", mode, m, a, b);
      assertTrue(Math.abs(a - b) <= 1e-10 * na, mode + ": " + a + " vs " + b);
    }
  }

  /** kind 0: the DFT; 1: the DFT plus 5 % complex noise; 2: every entry uniform in [-1, 1] + i [-1, 1]. */
  static double[][] randomBlocks(SplittableRandom rng, int m, int kind) {
    double[][] b = PackedMonarchFactors.atInit(m);
    for (double[] blk : b)
      for (int i = 0; i < blk.length; i++)
        blk[i] = kind == 0 ? blk[i] : kind == 1 ? blk[i] + 0.05 * (2 * rng.nextDouble() - 1) : 2 * rng.nextDouble() - 1;
    return b;
  }

  static double relErr(double[] a, double[] b) {
    double num = 0, den = 0;
    for (int i = 0; i < a.length; i++) { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * b[i]; }
    return Math.sqrt(num / den);
  }

  /**
   * lib's J-factor PackedLearnedButterfly (engine LEARNED_PACKED, merged from pkjlib) against this test's float64 twin,
   * which the GPU test compares the kernels with: the factor table, P / Q (and the host route's), y and du with random
   * blocks, all three modes, M = 2048 .. 32768 (1e-12: two fp64 evaluations of the same chain).
   */
  @Test
  void referenceMatchesLibJFactorTwin() {
    var rng = new SplittableRandom(14);
    for (Object[] c : new Object[][] {{ConvMode.CAUSAL, 2048, 2000}, {ConvMode.CAUSAL, 4096, 4096}, {ConvMode.BIDIRECTIONAL, 4096, 3000},
        {ConvMode.CIRCULAR, 16384, 16384}, {ConvMode.CAUSAL, 8192, 8192}, {ConvMode.CIRCULAR, 65536, 500}}) {
      ConvMode mode = (ConvMode) c[0];
      int L = (int) c[1], Lk = (int) c[2], m = PackedMonarchConv.fftSize(L, Lk, mode) / 2;
      var x = Data.draw(rng, 1, 2, L, Lk, mode);
      var plan = ConvPlan.of(L, Lk, x.shape().mode(), ai.longconv4j.conv.ConvEngine.LEARNED_PACKED, ai.longconv4j.conv.Precision.F64);
      assertArrayEquals(PackedMonarchFactors.factors(m), plan.factors().stream().mapToInt(Integer::intValue).toArray(), "factors M=" + m);
      var r = new PackedMonarchReference(m);
      double[] kp = PackedMonarchReference.placeTaps(x.shape(), x.k(), 1, r.n);
      double[] pqLib = ai.longconv4j.conv.PackedLearnedButterfly.pairCoefficients(plan, kp);
      assertTrue(relErr(r.pairCoefficients(kp), pqLib) < 1e-12, "P / Q " + mode + " M=" + m);
      assertTrue(relErr(PackedMonarchFactors.pairCoefficients(m, kp), pqLib) < 1e-12, "host P / Q " + mode + " M=" + m);
      double[][] blocks = randomBlocks(rng, m, 2);
      var lib = new ai.longconv4j.conv.PackedLearnedButterfly(plan, blocks);
      double[] dy = new double[x.u().length];
      for (int i = 0; i < dy.length; i++) dy[i] = rng.nextGaussian();
      double ey = relErr(refForward(r, x, blocks, false, x.u()), lib.forward(x.shape(), x.u(), x.k(), x.d()));
      double eu = relErr(refForward(r, x, blocks, true, dy), lib.backward(x.shape(), x.u(), x.k(), x.d(), dy).du());
      System.out.printf("reference vs lib %s L=%d Lk=%d M=%d: y %.3e, du %.3e%n", mode, L, Lk, m, ey, eu);
      assertTrue(ey < 1e-12 && eu < 1e-12, mode + " M=" + m + ": y " + ey + ", du " + eu);
    }
  }

  /**
   * The twin's dP / dQ are the gradient of l = sum_b &lt;y_b, dy_b&gt; w.r.t. (P, Q) in lib's (dl/dRe, dl/dIm) convention: y is
   * real-linear in (P, Q), so l(pq + e) - l(pq) = &lt;dPQ, e&gt; exactly for any e (fp64: 1e-10 relative).
   */
  @Test
  void referencePairGradsAreTheGradient() {
    var rng = new SplittableRandom(15);
    for (Object[] c : new Object[][] {{ConvMode.CAUSAL, 2048, 2000}, {ConvMode.CIRCULAR, 16384, 16384}}) {
      ConvMode mode = (ConvMode) c[0];
      int L = (int) c[1], Lk = (int) c[2], B = 2, m = PackedMonarchConv.fftSize(L, Lk, mode) / 2;
      var x = Data.draw(rng, B, 1, L, Lk, mode);
      var r = new PackedMonarchReference(m);
      double[][] blocks = randomBlocks(rng, m, 2), us = new double[B][], dys = new double[B][];
      double[] pq = r.pairCoefficients(PackedMonarchReference.placeTaps(x.shape(), x.k(), 0, r.n)), e = new double[4 * m], pe = new double[4 * m];
      for (int i = 0; i < e.length; i++) { e[i] = rng.nextGaussian(); pe[i] = pq[i] + e[i]; }
      double dl = 0, scale = 0;
      for (int b = 0; b < B; b++) {
        us[b] = java.util.Arrays.copyOfRange(x.u(), b * L, (b + 1) * L);
        dys[b] = new double[L];
        for (int i = 0; i < L; i++) dys[b][i] = rng.nextGaussian();
        double[] y0 = r.row(us[b], L, blocks, pq, 0), y1 = r.row(us[b], L, blocks, pe, 0);
        for (int i = 0; i < L; i++) { dl += (y1[i] - y0[i]) * dys[b][i]; scale += Math.abs((y1[i] - y0[i]) * dys[b][i]); }
      }
      double[] g = r.pairGrads(us, dys, L, blocks);
      double pred = 0;
      for (int i = 0; i < g.length; i++) pred += g[i] * e[i];
      System.out.printf("reference dP / dQ %s M=%d: l(pq + e) - l(pq) = %.12g, <dPQ, e> = %.12g%n", mode, m, dl, pred);
      assertTrue(Math.abs(dl - pred) <= 1e-10 * scale, mode + ": " + dl + " vs " + pred);
    }
  }

  @Test
  void hostPairCoefficientsMatchTheReference() {
    var rng = new SplittableRandom(13);
    for (int m : new int[] {2048, 8192}) {
      double[] kp = new double[2 * m];
      for (int t = 0; t < kp.length; t++) kp[t] = rng.nextGaussian();
      double err = relErr(PackedMonarchFactors.pairCoefficients(m, kp), new PackedMonarchReference(m).pairCoefficients(kp));
      assertTrue(err < 1e-12, "M=" + m + ": " + err);
    }
  }

  @Test
  void noSpillsAndEveryKernelBuilt() throws IOException {
    Map<String, String> spills = spillFree(REPORT);
    for (String sm : new String[] {"sm_80", "sm_90a"}) {
      for (String k : new String[] {"lpm_forward_bf16_s32", "lpm_forward_f16_s32", "lpm_forward_bf16_s16", "lpm_forward_f16_s16", "lpm_prep",
          "lpm_fused_bf16_s32", "lpm_fused_f16_s32", "lpm_fused_bf16_s16", "lpm_fused_f16_s16", "lpm_dpq_bf16_s32", "lpm_dpq_f16_s32",
          "lpm_dpq_bf16_s16", "lpm_dpq_f16_s16"})
        assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
    }
  }

  /** PackedMonarchConv.tuned's per-M configuration: the measured best (threads, planes) at 2048 .. 16384, none at 32768. */
  @Test
  void tunedConfigPerM() {
    assertArrayEquals(new int[] {128, 0}, PackedMonarchConv.tunedConfig(2048));
    for (int m : new int[] {4096, 8192, 16384}) assertArrayEquals(new int[] {256, 1}, PackedMonarchConv.tunedConfig(m), "M=" + m);
    assertNull(PackedMonarchConv.tunedConfig(32768));
  }

  /** learned_pm2.cu's ptxas report (helper pkjopt's balanced kernels): every kernel built for sm_80 and sm_90a, none spilling. */
  @Test
  void ptxasReport2NoSpills() throws IOException {
    Map<String, String> spills = spillFree(Path.of("target", "cuda", "learned_pm2.ptxas.txt"));
    for (String sm : new String[] {"sm_80", "sm_90a"})
      for (String io : new String[] {"bf16", "f16"})
        for (String st : new String[] {"s32", "s16"})
          for (String cap : new String[] {"r0", "r80"}) {
            String k = "lpm2_b_" + io + "_" + st + "_" + cap;
            assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
          }
  }

  /** Helper pkocc's learned_pm3.cu: its kernels (bf16 / fp16; M = 2048 .. 8192 r80 and r0, 16384 r0) for sm_80 and sm_90a, 0 spills. */
  @Test
  void ptxasReport3NoSpills() throws IOException {
    Map<String, String> spills = spillFree(Path.of("target", "cuda", "learned_pm3.ptxas.txt"));
    for (String sm : new String[] {"sm_80", "sm_90a"})
      for (String io : new String[] {"bf16", "f16"})
        for (String k : new String[] {"m2048_r80", "m4096_r80", "m8192_r80", "m2048_r0", "m4096_r0", "m8192_r0", "m16384_r0"})
          assertTrue(spills.containsKey("lpm3_" + io + "_" + k + "@" + sm), "lpm3_" + io + "_" + k + " " + sm);
  }

  /**
   * Helper pm4's learned_pm4.cu: every kernel PackedMonarchConv.kernelName can name (lpm4 M = 2048 .. 8192 r80 / r0 and
   * 16384 r0; lpm4g M = 4096 r80 / r0 / r64; lpm4s as lpm4 and M = 4096 r64; lpm4sp M = 4096 r80; lpm4x as lpm4; the y kernel
   * at M = 32768, 256 threads) for
   * sm_80 and sm_90a, bf16 and fp16, 0 spills but the four known below.
   */
  @Test
  void ptxasReport4NoSpills() throws IOException {
    Path rep = Path.of("target", "cuda", "learned_pm4.ptxas.txt");
    assumeTrue(Files.exists(rep), "no ptxas report (built without nvcc): " + rep.toAbsolutePath());
    Map<String, String> all = KernelResourceReportTest.spills(rep), spills = new java.util.TreeMap<>(all);
    // known (session 26): the x and y kernels under the 80 cap spill 0-44 bytes on sm_90a (middle_rp holds a chunk pair's C in
    // registers; which of them spill moved with each edit; lpm4y_bf16_m4096_r80 32 / 44); measured faster than the spill-free s
    // kernels and their own r0 builds (BENCH-RESULTS round 38-s26), so kept, bounded here at 48 bytes so growth is caught;
    // sm_80 (96 registers) and every other kernel: 0.
    for (String k : new String[] {"lpm4x_bf16_m2048_r80", "lpm4x_f16_m2048_r80", "lpm4x_bf16_m4096_r80", "lpm4x_f16_m4096_r80",
        "lpm4x_bf16_m8192_r80", "lpm4x_f16_m8192_r80", "lpm4y_bf16_m2048_r80", "lpm4y_f16_m2048_r80", "lpm4y_bf16_m4096_r80",
        "lpm4y_f16_m4096_r80", "lpm4y_bf16_m8192_r80", "lpm4y_f16_m8192_r80"}) {
      String h = k + "@sm_90a";
      assertTrue(spills.containsKey(h), h);
      String[] sl = spills.remove(h).split(",");
      assertTrue(Integer.parseInt(sl[0]) <= 48 && Integer.parseInt(sl[1]) <= 48, h + " spills " + String.join(",", sl) + " bytes (bound 48)");
    }
    // session 27: the v / w kernels under the 80 cap (y with recurrence twiddles: 4-16 more live registers in the outer stages)
    // 4-36 bytes on sm_90a, lpm4v at M = 8192 76 / 136 (its first stage's twiddles held across the units; w holds them not),
    // bounded at 48 / 160 (BENCH-RESULTS round 39-s27 for their times)
    for (String io : new String[] {"bf16", "f16"})
      for (String k : new String[] {"lpm4v_%s_m2048_r80", "lpm4v_%s_m4096_r80", "lpm4v_%s_m8192_r80", "lpm4w_%s_m8192_r80"}) {
        String h = String.format(k, io) + "@sm_90a";
        int bound = k.startsWith("lpm4v_%s_m8192") ? 160 : 48;
        assertTrue(spills.containsKey(h), h);
        String[] sl = spills.remove(h).split(",");
        assertTrue(Integer.parseInt(sl[0]) <= bound && Integer.parseInt(sl[1]) <= bound, h + " spills " + String.join(",", sl) + " bytes (bound " + bound + ")");
      }
    KernelResourceReportTest.assertNoSpills(spills);
    String[] built = {"lpm4_%s_m2048_r80", "lpm4_%s_m4096_r80", "lpm4_%s_m8192_r80", "lpm4_%s_m2048_r0", "lpm4_%s_m4096_r0", "lpm4_%s_m8192_r0",
        "lpm4_%s_m16384_r0", "lpm4g_%s_m4096_r80", "lpm4g_%s_m4096_r0", "lpm4g_%s_m4096_r64", "lpm4s_%s_m2048_r80", "lpm4s_%s_m4096_r80",
        "lpm4s_%s_m2048_r0", "lpm4s_%s_m4096_r0", "lpm4s_%s_m4096_r64", "lpm4s_%s_m8192_r80", "lpm4s_%s_m8192_r0", "lpm4s_%s_m16384_r0",
        "lpm4sp_%s_m4096_r80", "lpm4x_%s_m2048_r80", "lpm4x_%s_m4096_r80", "lpm4x_%s_m8192_r80", "lpm4x_%s_m2048_r0", "lpm4x_%s_m4096_r0",
        "lpm4x_%s_m8192_r0", "lpm4x_%s_m16384_r0", "lpm4y_%s_m2048_r80", "lpm4y_%s_m4096_r80", "lpm4y_%s_m8192_r80", "lpm4y_%s_m16384_r0",
        "lpm4v_%s_m2048_r80", "lpm4v_%s_m4096_r80", "lpm4v_%s_m8192_r80", "lpm4v_%s_m16384_r0", "lpm4w_%s_m8192_r80", "lpm4w_%s_m16384_r0",
        "lpm4y_%s_m32768_t256"};   // session 29: M = 32768's y kernel (256 threads), 0 spills
    for (String sm : new String[] {"sm_80", "sm_90a"})
      for (String io : new String[] {"bf16", "f16"})
        for (String k : built) assertTrue(all.containsKey(String.format(k, io) + "@" + sm), String.format(k, io) + " " + sm);
  }

  /** A ptxas report's kernels (name@sm -> spill line), none spilling; the test is skipped without the report (no nvcc). */
  private static Map<String, String> spillFree(Path rep) throws IOException {
    assumeTrue(Files.exists(rep), "no ptxas report (built without nvcc): " + rep.toAbsolutePath());
    Map<String, String> spills = KernelResourceReportTest.spills(rep);
    KernelResourceReportTest.assertNoSpills(spills);
    return spills;
  }

  /** The block and P / Q helpers PackedMonarchConv shares with PackedThreePass: layout and messages, no device needed. */
  @Test
  void sharedBlockHelpers() {
    int[] f = {2, 4};
    double[][] b = {new double[8], new double[32], new double[32], new double[8]};
    for (int i = 0; i < 4; i++) for (int q = 0; q < b[i].length; q++) b[i][q] = 100 * i + q;
    float[] flat = PackedPlanArgs.flattenBlocks("X", b, f, "M = 8 = 2 x 4");
    assertEquals(2 * (4 + 16 + 16 + 4), flat.length);
    assertEquals(7f, flat[7]);
    assertEquals(100f, flat[8]);
    assertEquals(307f, flat[79]);
    var count = assertThrows(IllegalArgumentException.class, () -> PackedPlanArgs.flattenBlocks("PackedThreePass", new double[3][], f, "M = 8 = 2 x 4"));
    assertEquals("PackedThreePass.setBlocks: need 4 blocks {F_1 .. F_2, G_2 .. G_1} for M = 8 = 2 x 4, got 3", count.getMessage());
    double[][] wrong = {new double[8], new double[30], new double[32], new double[8]};
    var shape = assertThrows(IllegalArgumentException.class, () -> PackedPlanArgs.flattenBlocks("X", wrong, f, "M = 8 = 2 x 4"));
    assertEquals("X.setBlocks: block 1 must be (4, 4, 2) = 32 values for M = 8 = 2 x 4, got 30", shape.getMessage());
    b[2][5] = Double.NaN;
    var nan = assertThrows(IllegalArgumentException.class, () -> PackedPlanArgs.flattenBlocks("X", b, f, "M = 8 = 2 x 4"));
    assertEquals("X.setBlocks: block 2 holds NaN", nan.getMessage());
    var addr = assertThrows(IllegalArgumentException.class,
        () -> PackedPlanArgs.copyBlocksOnDevice("X", null, null, new DevicePointer[3], f, "M = 8 = 2 x 4"));
    assertTrue(addr.getMessage().startsWith("X.setBlocksOnDevice: need 4 block addresses for M = 8 = 2 x 4, got "), addr.getMessage());
    var pq = assertThrows(IllegalArgumentException.class, () -> PackedPlanArgs.copyPq("Y", null, 3, 2048, null, null, null, null, null, null));
    assertEquals("Y.setPq: needs both (H=3, M=2048) float4 buffers, got null, null", pq.getMessage());
  }
  /**
   * Session 26's register pair map (learned_pm.cu pm_pair_units, learned_pm4.cu middle_rp, learned_p3b.cu lp3_mid16x) rests on
   * one index fact, checked here on the host for every lane, register and half: in the mma A-operand layout (register
   * r = 2j + h of lane l = 4g + t holds positions (g + 8h) 16 + 8j + 2t + e, e = 0, 1 of a 256-point chunk) position i's
   * partner 255 - i (learned_pm3.cu pair_partner for a != 0, p3_partner_plane for j != 0) is held by lane 31 - l, register
   * 3 - r, half 1 - e: what one __shfl_xor_sync(.., 31) of register 3 - r fetches. And the layout covers each of the 256
   * positions once. (The GPU tests show the kernels' bits equal the shared-memory pair map's.)
   */
  @Test
  void registerPairMapIndexFact() {
    int[] seen = new int[256];
    for (int lane = 0; lane < 32; lane++)
      for (int r = 0; r < 4; r++)
        for (int e = 0; e < 2; e++) {
          int i = heldAt(lane, r, e);
          seen[i]++;
          assertEquals(255 - i, heldAt(lane ^ 31, 3 - r, 1 - e), "lane " + lane + " register " + r + " half " + e);
        }
    for (int i = 0; i < 256; i++) assertEquals(1, seen[i], "position " + i + " held once");
  }

  /** The chunk position a lane holds in register r, half e, of the A-operand layout (load_tile_b's). */
  private static int heldAt(int lane, int r, int e) {
    int g = lane >> 2, t = lane & 3, j = r >> 1, h = r & 1;
    return (g + 8 * h) * 16 + 8 * j + 2 * t + e;
  }
}
