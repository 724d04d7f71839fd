// Shapes: H channels, L length, Lk taps per side (plan validation; B batch in the float64 reference check); none for the
// ptxas reports of learned_pk_ref.cu / learned_pk_ref2.cu.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: {@link PackedLearnedRef#plan}'s refusals (they come before any device use, so a null device shows
 * them), {@link PackedLearnedRef#supports} for routing, and learned_pk_ref.cu's ptxas report (every kernel
 * PackedLearnedRef launches built for sm_80 and sm_90a, none spilling).
 */
class PackedLearnedRefHostTest {
  private static final Path REPORT = Path.of("target", "cuda", "learned_pk_ref.ptxas.txt");

  private static String refused(int H, int L, int Lk, ConvMode mode, ElementType io) {
    return assertThrows(IllegalArgumentException.class, () -> PackedLearnedRef.plan(null, H, L, Lk, mode, io)).getMessage();
  }

  @Test
  void planRefusesWhatItCannotHold() {
    // lib's J-factor plans (M >= 2048 once lib has them) go to PackedLearnedChain; a two-factor plan with a factor above 32
    // (lib's table before session 14: M = 8192 = 64 x 128) is refused by name
    ConvPlan p = PackedLearnedConv.libPlan(5000, 5000, ConvMode.CAUSAL);   // N = 16384, M = 8192
    if (p.factors().size() == 2) {
      String e = refused(4, 5000, 5000, ConvMode.CAUSAL, ElementType.F32);
      assertTrue(e.contains("M=8192") && e.contains("M <= 4096") && e.contains("[2, 32]"), e);
    } else {
      assertTrue(PackedLearnedRef.supports(5000, 5000, ConvMode.CAUSAL, ElementType.F32));
    }
    String e = refused(4, 100, 100, ConvMode.CIRCULAR, ElementType.F32);           // circular N = L must be a power of two
    assertTrue(e.contains("CIRCULAR L=100") && e.contains("exactly L"), e);
    e = refused(4, 16, 16, ConvMode.CIRCULAR, ElementType.F32);             // N >= 32
    assertTrue(e.contains("CIRCULAR L=16"), e);
    assertTrue(refused(0, 64, 64, ConvMode.CAUSAL, ElementType.F32).contains("H must be in [1, 65535], got 0"));
    assertTrue(refused(65536, 64, 64, ConvMode.CAUSAL, ElementType.F32).contains("got 65536"));
    assertTrue(refused(4, 64, 65, ConvMode.CAUSAL, ElementType.F32).contains("Lk=65, L=64"));
    assertTrue(refused(4, 64, 0, ConvMode.CAUSAL, ElementType.F32).contains("Lk=0"));
    assertTrue(refused(4, 64, 64, null, ElementType.F32).contains("non-null"));
    assertTrue(refused(4, 64, 64, ConvMode.CAUSAL, null).contains("non-null"));
    assertTrue(refused(4, 64, 64, ConvMode.CAUSAL, ElementType.F32).contains("device is null"));   // valid shape: only the device
  }

  /** PackedLearnedChain's factor checks, and the refusal of J != 2 by the tensor-core class's name. */
  @Test
  void chainRefusesBadFactorLists() {
    ConvPlan p = PackedLearnedConv.libPlan(2000, 2000, ConvMode.CAUSAL);   // M = 2048
    for (int[] f : new int[][] {{8, 16, 8}, {64, 32}, {2048}, {8, 16, 16, 1}, {6, 16, 16}}) {
      var e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedChain.check(3, p, f));
      assertTrue(e.getMessage().contains("M=2048") && e.getMessage().contains(java.util.Arrays.toString(f)), e.getMessage());
    }
    PackedLearnedChain.check(3, p, new int[] {8, 16, 16});
    var e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedChain.check(0, p, new int[] {8, 16, 16}));
    assertTrue(e.getMessage().contains("got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedChain.plan(null, 3, 2000, 2000, ConvMode.CAUSAL, ElementType.F32, p, new int[] {8, 16, 16}));
    assertTrue(e.getMessage().contains("device is null"), e.getMessage());
    assertArrayEquals(new int[] {0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15}, PackedLearnedChain.positionFrequencies(new int[] {8, 2}));
    for (int l = 16; l <= 1 << 18; l *= 2) {   // causal L = Lk: N = 2L (at least 32), M = L: every size lib plans
      ConvPlan q = PackedLearnedConv.libPlan(l, l, ConvMode.CAUSAL);
      assertEquals(Math.max(16, l), q.fftSize() / 2, q.toString());
      assertArrayEquals(PackedLearnedButterfly.positionFrequencies(q), PackedLearnedChain.positionFrequencies(PackedLearnedRef.factorsOf(q)), q.toString());
      assertArrayEquals(PackedLearnedRef.specFactors(q.fftSize() / 2), PackedLearnedRef.factorsOf(q), q.toString());
      assertTrue(PackedLearnedRef.supports(l, l, ConvMode.CAUSAL, ElementType.F32), q.toString());
    }
    int[] fr = PackedLearnedChain.positionFrequencies(new int[] {2, 4, 2});   // p = (k1, k2, k3) row-major, k = k1 + 2 (k2 + 4 k3)
    assertEquals(1 + 2 * (3 + 4 * 1), fr[1 * 8 + 3 * 2 + 1]);
  }

  /**
   * The test's float64 J-factor reference (PackedChainReference, s14-jspec.md) against lib at J = 2 with random blocks
   * (lib's conventions: left product for the first factor, right for the second; Grams; the pair map's adjoint; dk), and at
   * J = 3 with DFT blocks against lib's exact convolution. Host only: the GPU tests rest on it.
   */
  @Test
  void referenceMatchesLib() {
    for (ConvMode mode : ConvMode.values()) {
      boolean bi = mode == ConvMode.BIDIRECTIONAL;
      int B = 2, H = 2, L = mode == ConvMode.CIRCULAR ? 256 : 200, Lk = mode == ConvMode.CIRCULAR ? 256 : 150, sides = bi ? 2 : 1;
      var rng = new java.util.SplittableRandom(5 + mode.ordinal());
      ConvPlan p = PackedLearnedConv.libPlan(L, Lk, mode);
      var lm = LearnedButterflyConv.libMode(mode);
      var shape = new ConvShape(B, 1, H, L, Lk, lm);
      float[] u = Reference.randn(rng, B * H * L, 1), dy = Reference.randn(rng, B * H * L, 1), D = Reference.randn(rng, H, 1);
      double[] kLib = ConvCase.toD(Reference.randn(rng, sides * H * Lk, 0.1));
      double[][] pqF = new double[H][];
      for (int h = 0; h < H; h++) pqF[h] = PackedChainReference.pqByFrequency(p, shape, kLib, h);
      int taps0 = lm.effectiveTaps(L, Lk, 0), taps1 = bi ? lm.effectiveTaps(L, Lk, 1) : 0;
      double[][] blocks = PackedLearnedGpuTest.blocks(rng, p, 2);
      var lib = new PackedLearnedButterfly(p, blocks);
      var ref = new PackedChainReference(PackedLearnedRef.factorsOf(p), p.fftSize(), blocks).run(B, H, L, Lk, sides, taps0, taps1, u, dy, D, pqF);
      double[] ud = ConvCase.toD(u), dd = ConvCase.toD(D);
      var g = lib.backwardAll(shape, ud, kLib, dd, ConvCase.toD(dy));
      close("y " + mode, ref.y(), lib.forward(shape, ud, kLib, dd));
      close("du " + mode, ref.du(), g.conv().du());
      close("dk " + mode, ref.dk(), ConvCase.gpuKernelLayout(g.conv().dk(), H, Lk, bi));
      close("dD " + mode, ref.dD(), g.conv().dD());
      for (int i = 0; i < 4; i++) close("dBlock " + i + " " + mode, ref.dBlocks()[i], g.dBlocks()[i]);
      int m = p.fftSize() / 2;   // J = 3 at init: the exact convolution whatever the factors
      int[] f3 = m == 128 ? new int[] {2, 8, 8} : new int[] {4, 8, 8};
      double[][] b3 = new double[6][];
      for (int i = 0; i < 6; i++) b3[i] = PackedLearnedChain.dft(i < 3 ? f3[i] : f3[5 - i], i >= 3);
      var r3 = new PackedChainReference(f3, p.fftSize(), b3).run(B, H, L, Lk, sides, taps0, taps1, u, dy, D, pqF);
      close("y at init, J = 3 " + java.util.Arrays.toString(f3) + " " + mode, r3.y(), PackedLearnedButterfly.atInit(p).forward(shape, ud, kLib, dd));
      close("du at init, J = 3 " + mode, r3.du(), PackedLearnedButterfly.atInit(p).backwardAll(shape, ud, kLib, dd, ConvCase.toD(dy)).conv().du());
    }
  }

  private static void close(String what, double[] a, double[] b) {   // float64 against float64: 1e-9 relative (Frobenius)
    double num = 0, den = 0;
    for (int i = 0; i < a.length; i++) { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * b[i]; }
    double e = Math.sqrt(num / Math.max(den, 1e-300));
    System.out.printf("reference %s: rel err %.2e%n", what, e);
    assertEquals(a.length, b.length, what);
    assertTrue(e < 1e-9, what + ": rel err " + e);
  }

  @Test
  void supportsEveryModeUpToM4096() {
    for (ElementType io : ElementType.values()) {
      assertTrue(PackedLearnedRef.supports(1, 1, ConvMode.CAUSAL, io));          // N = 32, M = 16
      assertTrue(PackedLearnedRef.supports(4096, 4096, ConvMode.CAUSAL, io));    // M = 4096
      assertTrue(PackedLearnedRef.supports(1000, 1000, ConvMode.BIDIRECTIONAL, io));
      assertTrue(PackedLearnedRef.supports(256, 256, ConvMode.CIRCULAR, io));
      assertTrue(PackedLearnedRef.supports(8192, 100, ConvMode.CIRCULAR, io));
      assertFalse(PackedLearnedRef.supports(300, 300, ConvMode.CIRCULAR, io));
    }
    assertEquals(256, PackedLearnedRef.check(3, 256, 256, ConvMode.CIRCULAR, ElementType.F32).fftSize());
  }

  @Test
  void noSpillsAndEveryLaunchedKernelBuilt() throws IOException {
    assumeTrue(Files.exists(REPORT), "no ptxas report (built without nvcc): " + REPORT.toAbsolutePath());
    Map<String, String> spills = KernelResourceReportTest.spills(REPORT);
    KernelResourceReportTest.assertNoSpills(spills);
    for (String sm : new String[] {"sm_80", "sm_90a"}) {
      for (String io : new String[] {"f32", "bf16", "f16"})
        for (String k : new String[] {"lpr_forward_" + io + "_r1", "lpr_forward_" + io + "_r4", "lpr_backward_" + io + "_r1",
            "lpr_backward_" + io + "_r2"}) assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
      for (String k : new String[] {"lpr_pq", "lpr_reduce", "lpr_taps", "lpr_adjoint"}) assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
    }
  }

  /** learned_pk_ref2.cu (PackedLearnedChain): every kernel it launches built for sm_80 and sm_90a, none spilling. */
  @Test
  void chainKernelsBuiltWithoutSpills() throws IOException {
    Path report = Path.of("target", "cuda", "learned_pk_ref2.ptxas.txt");
    assumeTrue(Files.exists(report), "no ptxas report (built without nvcc): " + report.toAbsolutePath());
    Map<String, String> spills = KernelResourceReportTest.spills(report);
    KernelResourceReportTest.assertNoSpills(spills);
    for (String sm : new String[] {"sm_80", "sm_90a"}) {
      for (String io : new String[] {"f32", "bf16", "f16"})
        for (String k : new String[] {"lpj_pack_" + io, "lpj_unpack_" + io, "lpj_ddot_" + io}) assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
      for (String k : new String[] {"lpj_col_r2", "lpj_col_r4", "lpj_col_r8", "lpj_col_r16", "lpj_col_r32", "lpj_block", "lpj_twiddle", "lpj_pair", "lpj_pair_grad", "lpj_gram", "lpj_reduce", "lpj_kpad",
          "lpj_pq_gather", "lpj_dk_spec", "lpj_taps"}) assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
    }
  }

  /** LearnedPlan's shared host helpers: the block-gradient split and the array checks' messages (no device needed). */
  @Test
  void learnedPlanHelpers() {
    float[] g = new float[2 * (4 + 9)];
    for (int q = 0; q < g.length; q++) g[q] = q;
    double[][] b = LearnedPlan.unflatten(g, new int[] {2, 3});
    assertEquals(8, b[0].length);
    assertEquals(18, b[1].length);
    assertEquals(7.0, b[0][7]);
    assertEquals(8.0, b[1][0]);
    assertEquals(25.0, b[1][17]);
    var notSet = assertThrows(IllegalStateException.class,
        () -> LearnedPlan.checkArrays("PackedLearnedChain", "forward", false, null, null, 2, 3, 5, ElementType.BF16));
    assertEquals("PackedLearnedChain.forward: call setWeights first", notSet.getMessage());
    var bad = assertThrows(IllegalArgumentException.class,
        () -> LearnedPlan.checkArrays("PackedLearnedRef", "backward", true, null, null, 2, 3, 5, ElementType.BF16));
    assertEquals("PackedLearnedRef.backward: arrays must hold (B=2, H=3, L=5) BF16 = 60 bytes, got null and null", bad.getMessage());
  }
}
