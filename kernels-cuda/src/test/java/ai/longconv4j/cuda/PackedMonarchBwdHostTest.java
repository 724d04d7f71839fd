// Shapes: B batch, H channels, L length, Lk taps per side, N the real FFT size, M = N / 2 = R1 16^(J-1) (J = 3, 4);
// u, dy, du (B, H, L); k lib's (H, sides, Lk); D (H); blocks lib's {F_1 .. F_J, G_J .. G_1} (R_s, R_s, 2); pair coefficients
// [4M] per channel at positions; part (H, 2J, 16, 16) complex.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Host checks of helper pkjbwd's tensor-core backward (learned_pmb.cu, no GPU): its decomposition, written out in float64
 * by {@link PackedMonarchBwdModel} (the kernel's stage scales, dumps, Gram positions and twiddles, per-channel partial
 * layout and lpmb_reduce's map), against lib's {@link PackedLearnedButterfly#backwardAll}: du and all 2J block gradients,
 * random blocks (every entry uniform: a transposed block, a swapped slot, a wrong scale or twiddle shows), all three modes,
 * J = 3 (M = 2048, 4096) and J = 4 (M = 8192, 16384); dP / dQ against the tests' float64 twin
 * {@link PackedMonarchReference#pairGrads}. Tolerance 1e-10 relative (Frobenius): two fp64 evaluations of the same sums
 * in different orders, ~1e-15 per operation over sums of at most B M terms. learned_pmb.cu's ptxas report: every kernel
 * built for sm_80 and sm_90a, none spilling, and its fatbin packaged.
 */
class PackedMonarchBwdHostTest {
  private static final Pattern ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(sm_\\w+)'");
  private static final Pattern SPILL = Pattern.compile("(\\d+) bytes spill stores, (\\d+) bytes spill loads");

  @Test
  void kernelDecompositionMatchesLib() {
    var rng = new SplittableRandom(21);
    // mode, B, H, L, Lk: M = 2048 (8 16 16), 4096 (16^3, bidirectional N = 8192 >= L + Lk), 8192 (2 16^3), 16384 (4 16^3)
    for (Object[] c : new Object[][] {{ConvMode.CAUSAL, 2, 2, 2000, 1500}, {ConvMode.BIDIRECTIONAL, 2, 2, 3000, 2000},
        {ConvMode.CIRCULAR, 2, 1, 16384, 300}, {ConvMode.CAUSAL, 1, 1, 16384, 16384}}) {
      ConvMode mode = (ConvMode) c[0];
      int B = (int) c[1], H = (int) c[2], L = (int) c[3], Lk = (int) c[4], m = PackedMonarchConv.fftSize(L, Lk, mode) / 2;
      var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, mode);
      var plan = ConvPlan.of(L, Lk, x.shape().mode(), ConvEngine.LEARNED_PACKED, Precision.F64);
      assertArrayEquals(PackedMonarchFactors.factors(m), plan.factors().stream().mapToInt(Integer::intValue).toArray(), "factors M=" + m);
      double[][] blocks = PackedMonarchHostTest.randomBlocks(rng, m, 2);
      double[] dy = new double[x.u().length];
      for (int i = 0; i < dy.length; i++) dy[i] = rng.nextGaussian();
      var lib = new PackedLearnedButterfly(plan, blocks).backwardAll(x.shape(), x.u(), x.k(), x.d(), dy);
      var model = new PackedMonarchBwdModel(m);
      var ref = new PackedMonarchReference(m);
      double[][] ma = model.prep(blocks);
      double[] du = new double[x.u().length];
      double[][] parts = new double[H][];
      double dpqErr = 0;
      for (int h = 0; h < H; h++) {
        double[] pq = PackedMonarchFactors.pairCoefficients(m, PackedMonarchReference.placeTaps(x.shape(), x.k(), h, 2 * m));
        double[][] us = new double[B][], dys = new double[B][];
        for (int b = 0; b < B; b++) {
          int o = (b * H + h) * L;
          us[b] = Arrays.copyOfRange(x.u(), o, o + L);
          dys[b] = Arrays.copyOfRange(dy, o, o + L);
        }
        var ch = model.channel(us, dys, L, ma[0], ma[1], pq, ref.adjointPairCoefficients(pq), x.d()[h]);
        for (int b = 0; b < B; b++) System.arraycopy(ch.du(), b * L, du, (b * H + h) * L, L);
        parts[h] = ch.part();
        dpqErr = Math.max(dpqErr, PackedMonarchHostTest.relErr(ch.dpq(), ref.pairGrads(us, dys, L, blocks)));
      }
      double[][] gb = model.reduce(parts);
      String what = mode + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " " + Arrays.toString(model.f);
      double eu = PackedMonarchHostTest.relErr(du, lib.conv().du()), eb = 0;
      assertEquals(lib.dBlocks().length, gb.length, what);
      for (int i = 0; i < gb.length; i++) {
        assertEquals(lib.dBlocks()[i].length, gb[i].length, "block " + i + " " + what);
        eb = Math.max(eb, PackedMonarchHostTest.relErr(gb[i], lib.dBlocks()[i]));
        assertTrue(PackedMonarchHostTest.relErr(gb[i], lib.dBlocks()[i]) < 1e-10, "dBlock " + i + " " + what + ": "
            + PackedMonarchHostTest.relErr(gb[i], lib.dBlocks()[i]));
      }
      System.out.printf("pkjbwd model vs lib %s: du %.3e, worst dBlock %.3e, dP/dQ vs twin %.3e%n", what, eu, eb, dpqErr);
      assertTrue(eu < 1e-10, "du " + what + ": " + eu);
      assertTrue(dpqErr < 1e-10, "dP / dQ " + what + ": " + dpqErr);
    }
  }

  /** The model's slot map is not symmetric by accident: swapping two forward stages' partials must break the match. */
  @Test
  void modelDetectsASwappedSlot() {
    var rng = new SplittableRandom(22);
    int L = 2000, Lk = 1500, m = 2048;
    var x = PackedMonarchHostTest.Data.draw(rng, 1, 1, L, Lk, ConvMode.CAUSAL);
    var plan = ConvPlan.of(L, Lk, x.shape().mode(), ConvEngine.LEARNED_PACKED, Precision.F64);
    double[][] blocks = PackedMonarchHostTest.randomBlocks(rng, m, 2);
    double[] dy = new double[L];
    for (int i = 0; i < L; i++) dy[i] = rng.nextGaussian();
    var lib = new PackedLearnedButterfly(plan, blocks).backwardAll(x.shape(), x.u(), x.k(), x.d(), dy);
    var model = new PackedMonarchBwdModel(m);
    double[][] ma = model.prep(blocks);
    double[] pq = PackedMonarchFactors.pairCoefficients(m, PackedMonarchReference.placeTaps(x.shape(), x.k(), 0, 2 * m));
    var ch = model.channel(new double[][] {x.u()}, new double[][] {dy}, L, ma[0], ma[1], pq, new PackedMonarchReference(m).adjointPairCoefficients(pq), x.d()[0]);
    double[] p = ch.part().clone();
    for (int i = 0; i < 512; i++) { double t = p[512 + i]; p[512 + i] = p[1024 + i]; p[1024 + i] = t; }   // slots 1 and 2 (F_2, F_3)
    double[][] gb = model.reduce(new double[][] {p});
    assertTrue(PackedMonarchHostTest.relErr(gb[1], lib.dBlocks()[1]) > 0.1, "a swapped slot went unnoticed");
  }

  /** learned_pmb.cu's ptxas report: lpmb_bwd_{bf16,f16}_{s32,s16} and lpmb_reduce for sm_80 and sm_90a, none spilling. */
  @Test
  void ptxasReportNoSpills() throws IOException {
    Path rep = Path.of("target", "cuda", "learned_pmb.ptxas.txt");
    assumeTrue(Files.exists(rep), "no ptxas report (built without nvcc): " + rep.toAbsolutePath());
    Map<String, String> spills = new LinkedHashMap<>();
    String entry = null;
    for (String line : Files.readAllLines(rep)) {
      Matcher e = ENTRY.matcher(line), s = SPILL.matcher(line);
      if (e.find()) entry = e.group(1) + "@" + e.group(2);
      else if (s.find() && entry != null) { spills.put(entry, s.group(1) + "/" + s.group(2)); entry = null; }
    }
    spills.forEach((k, v) -> assertEquals("0/0", v, k + " spills (stores/loads bytes)"));
    for (String sm : new String[] {"sm_80", "sm_90a"}) {
      assertTrue(spills.containsKey("lpmb_reduce@" + sm), "lpmb_reduce " + sm);
      for (String io : new String[] {"bf16", "f16"})
        for (String st : new String[] {"s32", "s16"}) assertTrue(spills.containsKey("lpmb_bwd_" + io + "_" + st + "@" + sm), io + " " + st + " " + sm);
    }
    assertTrue(CudaModule.packaged(PackedMonarchBackward.MODULE), PackedMonarchBackward.MODULE + ".fatbin missing from the classpath");
  }

  /**
   * learned_pmb2.cu's ptxas report (helper pkbwdopt): lpmb2_bwd_{bf16,f16}_{s32,s16}_r{0,80} (and helper pmb's _sg
   * variants) and lpmb2_dpq_reduce for sm_80 and sm_90a, none but the _sg kernels spilling; the _r80 kernels within 80 registers on sm_90a (the cap that gives 3 CTAs of 256 threads per
   * SM); the fatbin packaged.
   */
  @Test
  void ptxasReportNoSpillsPmb2() throws IOException {
    Path rep = Path.of("target", "cuda", "learned_pmb2.ptxas.txt");
    assumeTrue(Files.exists(rep), "no ptxas report (built without nvcc): " + rep.toAbsolutePath());
    Pattern used = Pattern.compile("Used (\\d+) registers");
    Map<String, String> spills = new LinkedHashMap<>();
    Map<String, Integer> regs = new LinkedHashMap<>();
    String entry = null, last = null;
    for (String line : Files.readAllLines(rep)) {
      Matcher e = ENTRY.matcher(line), s = SPILL.matcher(line), r = used.matcher(line);
      if (e.find()) entry = last = e.group(1) + "@" + e.group(2);
      else if (s.find() && entry != null) { spills.put(entry, s.group(1) + "/" + s.group(2)); entry = null; }
      else if (r.find() && last != null) { regs.put(last, Integer.parseInt(r.group(1))); last = null; }
    }
    // the _sg kernels call their fused stages (__noinline__, helper pmb): ptxas counts the caller's registers saved around
    // each call (once per stage, not per tile) as spills; printed, not asserted (the stages' own counts follow them)
    spills.forEach((k, v) -> {
      if (k.contains("_sg@")) System.out.println("learned_pmb2 " + k + " stack (call saves) stores/loads bytes " + v);
      else assertEquals("0/0", v, k + " spills (stores/loads bytes)");
    });
    for (String sm : new String[] {"sm_80", "sm_90a"}) {
      assertTrue(spills.containsKey("lpmb2_dpq_reduce@" + sm), "lpmb2_dpq_reduce " + sm);
      for (String io : new String[] {"bf16", "f16"})
        for (String st : new String[] {"s32", "s16"})
          for (String cap : new String[] {"0", "80"})
            for (String sg : new String[] {"", "_sg"}) {
              String k = "lpmb2_bwd_" + io + "_" + st + "_r" + cap + sg + "@" + sm;
              assertTrue(spills.containsKey(k), k);
              if (cap.equals("80") && sm.equals("sm_90a")) assertTrue(regs.get(k) <= 80, k + " uses " + regs.get(k) + " registers");
            }
    }
    assertTrue(CudaModule.packaged(PackedMonarchBackward.MODULE2), PackedMonarchBackward.MODULE2 + ".fatbin missing from the classpath");
  }

  /**
   * PackedMonarchBackward.tuned's table (sitting pkbwdopt/s1; 16384 from sitting pmb/s1 of session 17, 106.4 vs 127 ms;
   * session 18's sitting pmb18/s1: the stage Grams with pre-twiddled dumps at 8192 / 16384, no register cap at 16384, the
   * twin at 32768): 128 threads at M = 2048 / 4096, 256 at 8192 and 16384, the twin (0) at 32768.
   */
  @Test
  void bwdTunedTable() {
    assertEquals(128, PackedMonarchBackward.tunedThreads(2048));
    assertEquals(128, PackedMonarchBackward.tunedThreads(4096));
    assertEquals(256, PackedMonarchBackward.tunedThreads(8192));
    assertEquals(256, PackedMonarchBackward.tunedThreads(16384));
    for (int m : new int[] {2048, 4096, 8192}) assertEquals(80, PackedMonarchBackward.tunedCap(m), "cap at " + m);
    assertEquals(0, PackedMonarchBackward.tunedCap(16384));
    for (int m : new int[] {2048, 4096, 32768}) assertFalse(PackedMonarchBackward.tunedStageGram(m), "stage Grams at " + m);
    assertTrue(PackedMonarchBackward.tunedStageGram(8192));
    assertTrue(PackedMonarchBackward.tunedStageGram(16384));
    assertEquals(0, PackedMonarchBackward.tunedThreads(32768));
  }
}
