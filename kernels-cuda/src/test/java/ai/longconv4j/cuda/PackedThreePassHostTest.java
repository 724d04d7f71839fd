// Shapes: M = N / 2 = N1 * 8192 (65536 .. 262144) positions p = k1 * 8192 + p_in; L, Lk as PackedThreePass takes them.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs without a GPU: {@link PackedThreePass}'s refusals (checked before any device use, so a null device), its factors,
 * FFT sizes, positions and pair partners (the rule learned_p3.cu's lp3_middle uses) against lib's LEARNED_PACKED plans,
 * and learned_p3.cu's and learned_p3b.cu's ptxas reports (every kernel built for sm_80 and sm_90a, none spilling).
 */
class PackedThreePassHostTest {
  private static final Path REPORT = Path.of("target", "cuda", "learned_p3.ptxas.txt");

  @Test
  void refusesWhatItDoesNotCoverByName() {
    var e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 16384, 16384, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=16384") && e.getMessage().contains("65536 .. 262144"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 300000, 300000, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=524288"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 1 << 20, 16, ConvMode.CIRCULAR, ElementType.F16));
    assertTrue(e.getMessage().contains("M=524288"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 100000, 100, ConvMode.CIRCULAR, ElementType.BF16));
    assertTrue(e.getMessage().contains("CIRCULAR L=100000"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 65536, 65536, ConvMode.CAUSAL, ElementType.F32));
    assertTrue(e.getMessage().contains("F32"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 0, 65536, 65536, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("H must be"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 65536, 65537, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("Lk=65537"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.factors(32768));
    assertTrue(e.getMessage().contains("32768"), e.getMessage());
  }

  /** The bookkeeping shared with PackedMonarchConv (helper pkjdedup): messages name this class, atInit's order and sizes. */
  @Test
  void sharedBookkeepingNamesThisClass() {
    var e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 0, 65536, 65536, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().startsWith("PackedThreePass: H must be in [1, 65535], got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 100000, 100, ConvMode.CIRCULAR, ElementType.BF16));
    assertTrue(e.getMessage().contains("(covered: L = 131072 .. 524288)"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.plan(null, 4, 65536, 65536, null, ElementType.BF16));
    assertEquals("PackedThreePass: mode is null (L=65536)", e.getMessage());
    double[][] b = PackedThreePass.atInit(131072);
    int[] f = {16, 2, 16, 16, 16};
    assertEquals(10, b.length);
    for (int s = 0; s < 5; s++) {
      assertArrayEquals(ai.longconv4j.conv.LearnedButterfly.dft(f[s], false), b[s], "F_" + (s + 1));
      assertArrayEquals(ai.longconv4j.conv.LearnedButterfly.dft(f[s], true), b[9 - s], "G_" + (s + 1));
    }
    assertEquals("16 x 2 x 16 x 16 x 16", PackedMonarchFactors.factorString(PackedThreePass.factors(131072)));
  }

  @Test
  void sizesAndFactorsAreLibs() {
    // mode, L, Lk: causal 64K / 128K / 256K, bidirectional, circular 2^17 .. 2^19, an odd L
    Object[][] cases = {{ConvMode.CAUSAL, 65536, 65536}, {ConvMode.CAUSAL, 131072, 131072}, {ConvMode.CAUSAL, 262144, 262144},
        {ConvMode.CAUSAL, 40001, 30000}, {ConvMode.BIDIRECTIONAL, 65536, 1000}, {ConvMode.BIDIRECTIONAL, 262144, 262144},
        {ConvMode.CIRCULAR, 131072, 131072}, {ConvMode.CIRCULAR, 524288, 300}};
    for (Object[] c : cases) {
      ConvMode mode = (ConvMode) c[0];
      int L = (int) c[1], Lk = (int) c[2];
      ConvPlan lib = ConvPlan.of(L, Lk, LearnedButterflyConv.libMode(mode), ConvEngine.LEARNED_PACKED, Precision.F64);
      long n = PackedThreePass.fftSizeLong(L, Lk, mode);
      assertEquals(lib.fftSize(), n, mode + " L=" + L);
      assertEquals(3, lib.passes(), mode + " L=" + L);
      assertArrayEquals(lib.factors().stream().mapToInt(Integer::intValue).toArray(), PackedThreePass.factors((int) (n / 2)), mode + " L=" + L);
      assertEquals(List.of("Fa", "Fb", "Fc", "Fd", "Fe", "Ge", "Gd", "Gc", "Gb", "Ga"), PackedLearnedButterfly.blockNames(lib));
    }
  }

  @Test
  void positionsAndPartnersAreLibs() {
    for (int L : new int[] {131072, 262144, 524288}) {   // circular N = L: M = 64K, 128K, 256K
      ConvPlan lib = ConvPlan.of(L, 16, ai.longconv4j.conv.ConvMode.CIRCULAR, ConvEngine.LEARNED_PACKED, Precision.F64);
      int m = L / 2, n1 = m / PackedThreePass.INNER;
      int[] freq = PackedLearnedButterfly.positionFrequencies(lib), part = PackedLearnedButterfly.partnerPositions(lib);
      for (int p = 0; p < m; p++) {
        int k1 = p / PackedThreePass.INNER, pin = p % PackedThreePass.INNER;
        assertEquals(freq[p], k1 + n1 * PackedThreePassLayout.innerFrequency(pin), "frequency at p=" + p + " M=" + m);
        assertEquals(pin, PackedThreePassLayout.innerPosition(PackedThreePassLayout.innerFrequency(pin)), "inner round trip at " + pin);
        assertEquals(part[p], PackedThreePassLayout.kernelPartner(p, n1), "partner of p=" + p + " M=" + m);
      }
    }
  }

  /**
   * Session 22's M = 16384 / 32768 route (lib's {N1, 16, 16, 16}, N1 = 4 / 8, inner rows of 4096 in pair order): lib's
   * positions are k1 4096 + pos4(k_in), its partners the kernels' rule, the slots a permutation whose blocks of four are
   * closed under partners (each middle block holds whole row pairs).
   */
  @Test
  void quadPositionsSlotsAndPartnersAreLibs() {
    for (int L : new int[] {32768, 65536}) {   // circular N = L: M = 16384 (N1 = 4), 32768 (N1 = 8)
      ConvPlan lib = ConvPlan.of(L, 16, ai.longconv4j.conv.ConvMode.CIRCULAR, ConvEngine.LEARNED_PACKED, Precision.F64);
      int m = L / 2, n1 = m / 4096;
      assertEquals(List.of(n1, 16, 16, 16), lib.factors(), "lib's one-pass factors at M=" + m);
      int[] freq = PackedLearnedButterfly.positionFrequencies(lib), part = PackedLearnedButterfly.partnerPositions(lib);
      for (int p = 0; p < m; p++) {
        int k1 = p >> 12, pin = p & 4095;
        assertEquals(freq[p], k1 + n1 * PackedThreePassLayout.frequency4(pin), "frequency at p=" + p + " M=" + m);
        assertEquals(pin, PackedThreePassLayout.position4(PackedThreePassLayout.frequency4(pin)), "pos4 round trip at " + pin);
        assertEquals(part[p], PackedThreePassLayout.quadPartner(p, n1), "partner of p=" + p + " M=" + m);
      }
      slotsArePairOrder(n1);
    }
    // M = 2048 = 8 x 16 x 16 (inner 256: pos2, p3_pairmap2k's rule; slots as N1 = 8's)
    ConvPlan lib = ConvPlan.of(4096, 16, ai.longconv4j.conv.ConvMode.CIRCULAR, ConvEngine.LEARNED_PACKED, Precision.F64);
    assertEquals(List.of(8, 16, 16), lib.factors(), "lib's one-pass factors at M=2048");
    int[] freq = PackedLearnedButterfly.positionFrequencies(lib), part = PackedLearnedButterfly.partnerPositions(lib);
    for (int p = 0; p < 2048; p++) {
      int k1 = p >> 8, pin = p & 255;
      assertEquals(freq[p], k1 + 8 * PackedThreePassLayout.position2(pin), "frequency at p=" + p + " M=2048");
      assertEquals(part[p], PackedThreePassLayout.quadPartner(p, 8, 8), "partner of p=" + p + " M=2048");
    }
  }

  /** The pair-order slots of N1 inner rows: a permutation, each slot's partner slot in its block of four holding row N1 - k1. */
  private static void slotsArePairOrder(int n1) {
    boolean[] seen = new boolean[n1];
    for (int k1 = 0; k1 < n1; k1++) {
      int t = PackedThreePassLayout.quadSlot(k1, n1);
      assertTrue(t >= 0 && t < n1 && !seen[t], "slot of row " + k1 + " N1=" + n1 + ": " + t);
      seen[t] = true;
      assertEquals(k1, PackedThreePassLayout.quadRow(t, n1), "row of slot " + t + " N1=" + n1);
      int pt = PackedThreePassLayout.quadPartnerSlot(t);
      assertEquals(t >> 2, pt >> 2, "slot " + t + "'s partner slot " + pt + " in the same block of four, N1=" + n1);
      assertEquals((n1 - k1) % n1, PackedThreePassLayout.quadRow(pt, n1), "the partner slot holds row N1 - k1, k1=" + k1 + " N1=" + n1);
    }
  }

  @Test
  void noSpillsAndEveryKernelBuilt() throws IOException {
    assumeTrue(Files.exists(REPORT), "no ptxas report (built without nvcc): " + REPORT.toAbsolutePath());
    Map<String, String> spills = KernelResourceReportTest.spills(REPORT);
    KernelResourceReportTest.assertNoSpills(spills);
    for (String sm : new String[] {"sm_80", "sm_90a"}) {
      assertTrue(spills.containsKey("lp3_prep@" + sm), "lp3_prep " + sm);
      for (String io : new String[] {"bf16", "f16"}) {
        for (String planes : new String[] {"s16", "s32"})
          assertTrue(spills.containsKey("lp3_middle_" + io + "_" + planes + "@" + sm), "lp3_middle_" + io + "_" + planes + " " + sm);
        for (int n1 : new int[] {8, 16, 32})
          for (String pass : new String[] {"fwd", "inv"})
            assertTrue(spills.containsKey("lp3_outer_" + pass + n1 + "_" + io + "@" + sm), "lp3_outer_" + pass + n1 + "_" + io + " " + sm);
      }
    }
  }

  /**
   * learned_p3g.cu's ptxas report (the three-pass and middle-route backwards): no kernel spills (but the one known below), and session 22's M = 16384 /
   * 32768 kernels (outer passes and outer Grams at N1 = 4 / 8, the middles, dP / dQ) are built for both I/O types and archs.
   */
  @Test
  void backwardKernelsBuiltWithoutSpills() throws IOException {
    Path rep = Path.of("target", "cuda", "learned_p3g.ptxas.txt");
    assumeTrue(Files.exists(rep), "no ptxas report (built without nvcc): " + rep.toAbsolutePath());
    Map<String, String> spills = new java.util.TreeMap<>(KernelResourceReportTest.spills(rep));
    // known: session 18's three-pass lp3g_bmid1 spills on sm_80 (the A100 build; 80 registers under __launch_bounds__(256, 3):
    // 40-44 bytes then, 12-20 since session 23's twiddles); since session 24's twiddles from __sincosf (monarch.cuh TWP_SFU) the
    // bf16 one spills 4 bytes on sm_90a too, kept: that route (64K / 256K) ran faster with it than at its last measurement (op fwd+bwd
    // 70.6-71.0 / 81.6-82.5 ms vs 80.5-81.3 / 89.9-90.9 in session 20; no run of the table build at 64K in between, BENCH-RESULTS
    // round 36-s23); bounded here so growth is caught. Every
    // other kernel of the file spills nothing on either arch.
    for (String io : new String[] {"bf16", "f16"}) {
      String k = "lp3g_bmid1_" + io + "@sm_80";
      assertTrue(spills.containsKey(k), k);
      spills.remove(k);
      String h = "lp3g_bmid1_" + io + "@sm_90a";
      assertTrue(spills.containsKey(h), h);
      String[] sl = spills.remove(h).split(",");
      assertTrue(Integer.parseInt(sl[0]) <= 8 && Integer.parseInt(sl[1]) <= 8, h + " spills " + String.join(",", sl) + " bytes (bound 8)");
    }
    // known since session 33 (the Grams' twiddled side with its eight twiddles held, learned_p3g_gram.cuh P3gGaW / P3gGbW): a few
    // middles spill 16-32 bytes under the 80-register cap; kept because each route measured faster with them (16K q3bmid1g 37.8 ->
    // 36.9 ms over 24 launches; 64K op fwd+bwd 61.4-61.7 vs 63.9-64.1 ms; kernels-cuda/BENCH-RESULTS.md round 45-s33); bounded here so
    // growth is caught.
    for (String k : new String[] {"lp3g_q3bmid1g_bf16@sm_90a", "lp3g_q3bmid1g_f16@sm_90a", "lp3g_bmid2_bf16@sm_90a", "lp3g_bmid2_f16@sm_90a",
        "lp3g_obmid2u_bf16@sm_80", "lp3g_obmid2u_f16@sm_80"}) {
      String v = spills.remove(k);
      assertTrue(v != null, k + " not in " + rep);
      String[] sl = v.split(",");
      assertTrue(Integer.parseInt(sl[0]) <= 32 && Integer.parseInt(sl[1]) <= 32, k + " spills " + String.join(",", sl) + " bytes (bound 32)");
    }
    KernelResourceReportTest.assertNoSpills(spills);
    for (String sm : new String[] {"sm_80", "sm_90a"})
      for (String io : new String[] {"bf16", "f16"}) {
        for (String k : new String[] {"lp3g_q3bmid0_", "lp3g_q3bmid1_", "lp3g_q3bmid2_", "lp3g_2kbmid0_", "lp3g_2kbmid1_", "lp3g_2kbmid2_",
            "lp3g_outer2k_fwd_", "lp3g_outer2k_inv_", "lp3g_ogram2k0_", "lp3g_ogram2k1_", "lp3g_pq_grad4_", "lp3g_bmid0_", "lp3g_obmid1_", "lp3g_qbmid2_"})
          assertTrue(spills.containsKey(k + io + "@" + sm), k + io + " " + sm);
        for (int n1 : new int[] {4, 8})
          for (String k : new String[] {"lp3g_outerq_fwd" + n1, "lp3g_outerq_inv" + n1, "lp3g_ogramq0_" + n1, "lp3g_ogramq1_" + n1})
            assertTrue(spills.containsKey(k + "_" + io + "@" + sm), k + "_" + io + " " + sm);
        for (String k : new String[] {"lp3g_ogramc0_4_" + io + "_12", "lp3g_ogramc1_4_" + io + "_12", "lp3g_ogramc0_8_" + io + "_12",
            "lp3g_ogramc1_8_" + io + "_12", "lp3g_ogramc0_8_" + io + "_8", "lp3g_ogramc1_8_" + io + "_8"})
          assertTrue(spills.containsKey(k + "@" + sm), k + " " + sm);
      }
  }

  /** learned_p3b.cu's ptxas report (helper pk3fast): lp3_mid16, lp3_mid16w, lp3_mid16x, lp3_outer16 and lp3_outertc for both I/O types and archs, none spilling but the ones known below. */
  @Test
  void fastKernelsBuiltWithoutSpills() throws IOException {
    Path rep = Path.of("target", "cuda", "learned_p3b.ptxas.txt");
    assumeTrue(Files.exists(rep), "no ptxas report (built without nvcc): " + rep.toAbsolutePath());
    Map<String, String> spills = new java.util.TreeMap<>(KernelResourceReportTest.spills(rep));
    // known since session 25's pair accesses (learned_p3.cu LP3_PAIRS; the type-B loads of pm_chunk_inv stay scalar, which took
    // the bf16 kernels and sm_80 back to none): lp3_mid16w_f16 spills 4 bytes on sm_90a; bounded here so growth is caught.
    String w = "lp3_mid16w_f16@sm_90a";
    assertTrue(spills.containsKey(w), w);
    String[] wl = spills.get(w).split(",");
    assertTrue(Integer.parseInt(wl[0]) <= 8 && Integer.parseInt(wl[1]) <= 8, w + " spills " + String.join(",", wl) + " bytes (bound 8)");
    Map<String, String> rest = new java.util.TreeMap<>(spills);
    rest.remove(w);
    // known since session 26: lp3_mid16x (the pair map in registers) spills 16-20 bytes on sm_90a and 36-40 on sm_80 under
    // __launch_bounds__(256, 3) (80 registers) and ran faster than lp3_mid16w on the H200 anyway (BENCH-RESULTS round 38-s26);
    // bounded at 48 so growth is caught
    for (String sm : new String[] {"sm_80", "sm_90a"})
      for (String io : new String[] {"bf16", "f16"}) {
        String x = "lp3_mid16x_" + io + "@" + sm;
        assertTrue(spills.containsKey(x), x);
        String[] xl = rest.remove(x).split(",");
        assertTrue(Integer.parseInt(xl[0]) <= 48 && Integer.parseInt(xl[1]) <= 48, x + " spills " + String.join(",", xl) + " bytes (bound 48)");
      }
    KernelResourceReportTest.assertNoSpills(rest);
    for (String sm : new String[] {"sm_80", "sm_90a"})
      for (String io : new String[] {"bf16", "f16"}) {
        assertTrue(spills.containsKey("lp3_mid16_" + io + "@" + sm), "lp3_mid16_" + io + " " + sm);
        assertTrue(spills.containsKey("lp3_mid16w_" + io + "@" + sm), "lp3_mid16w_" + io + " " + sm);
        assertTrue(spills.containsKey("lp3_mid16x_" + io + "@" + sm), "lp3_mid16x_" + io + " " + sm);
        for (int n1 : new int[] {8, 16, 32})
          for (String k : new String[] {"lp3_outer16_fwd", "lp3_outer16_inv", "lp3_outertc_fwd", "lp3_outertc_inv"})
            assertTrue(spills.containsKey(k + n1 + "_" + io + "@" + sm), k + n1 + "_" + io + " " + sm);
      }
  }
}
