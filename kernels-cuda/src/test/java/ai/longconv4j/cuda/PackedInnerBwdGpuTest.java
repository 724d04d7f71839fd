// Shapes: B batch, H channels, L length, Lk taps per side, N = 8192 .. 65536 the real FFT size, M = N / 2 = 8192 = 2 x 16 x 16
// x 16 (lib's one-pass factors, the three-pass middle's), 4096 = 16 x 16 x 16 (the middle's radix-16 stages) or 16384 / 32768
// = N1 x 16 x 16 x 16 (N1 = 4 / 8); u, dy, du (B, H, L) 16-bit on the device; k lib's (H, sides, Lk) (the
// plans: (H, Lk) per side); dk (sides, H, Lk) fp32; D, dD (H); blocks lib's {F_1 .. F_4, G_4 .. G_1} (R_s, R_s, 2).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * The one-pass M = 8192 and 4096 learned backwards on the three-pass middles (session 21; M = 16384 / 32768 = N1 x 4096
 * with an outer pass since session 22: {@link PackedThreePass#innerOnly} with
 * {@link PackedThreePassBackward}'s N1 = 1 route, the default of {@link PackedMonarchLearned#innerRoute}) against lib's
 * float64 {@link PackedLearnedButterfly#backwardAll} and against its twin, {@link PackedMonarchBackward#run}
 * ({@code -Dlongconv4j.pk.inner=pmb}): du, dk, dD and the 8 / 6 block gradients; all three modes, bf16 and fp16, odd L,
 * row counts that leave a block short (the middles take two rows a block at M = 8192, four at 4096: the missing rows are
 * packed as zeros), chunks of one channel of one row; random Gaussian blocks (a transposed block, a wrong slot, scale or partner shows); outputs NaN-poisoned, the kept
 * block gradients poisoned before the measured call; the 16-byte packing against its point-by-point twin
 * ({@code -Dlongconv4j.p3.pack16=false}): the same bits; at M = 4096 the middles reading dy and writing du + D dy themselves
 * (session 27; M = 8192 too since session 28) against passes 1 / 3 ({@code -Dlongconv4j.p3.bwd.directdy=false}, {@code
 * directdu=false}) and reading u (session 28) against pass 1 for u ({@code directu=false}): the same bits; at M = 16384
 * and 2048 (session 28) the middles loading u / dy through pass 1 against pass 1 ({@code directu=false}, {@code
 * directdy=false}), and the outer Grams + pass 3 in the middles against pass 3 + lp3g_ogramc / lp3g_ogram2k ({@code
 * outerfuse}, the other route than the default: du, dk and the inner blocks the same bits, the outer blocks within 2 x 2e-2 of
 * each other, each checked against float64 too). Session 32: at M = 2048 / 16384 with L <= M the middles' pass 1 leaves
 * the zero padding's entries out of its products and the standalone pass 1 keeps them, so the directu / directdy twins
 * compare the two (the same bits); at M = 2048 / 32768 the outer Grams a column a thread on CUDA cores (lp3g_ogramv,
 * the default) against the tensor-core tiles ({@code ogramv=false}): the outer blocks within 2 x 2e-2 of each other and each
 * within 2e-2 of float64, everything else the same bits. Tolerances as PackedThreePassBwdGpuTest's (the same kernels, the
 * same analysis; here J = 4 plus the packing, fewer stages than there): du 1e-2, dk 1e-2 sqrt(N / Lk), dD 1e-4, blocks
 * 2e-2; the two routes against each other the sums of their bounds.
 */
@Tag("gpu")
class PackedInnerBwdGpuTest extends CudaDeviceTest {
  private static final double TOL16 = 1e-2, TOLD = 1e-4, TOLG = 2e-2;
  private static final String KEY = "longconv4j.pk.inner";

  static Stream<Arguments> cases() {
    // mode, io, B, H, L, Lk, scratch budget rows (0: the plan's default)
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 3, 3, 8192, 8192, 0),           // 9 rows: the last block has one
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 3, 8191, 4000, 0),            // odd L, N = 16384 (12190)
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 2, 2, 9001, 5000, 0),    // N = 16384 (14001), odd L
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 2, 2, 16384, 16384, 0),        // N = L
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 5, 8192, 6000, 1),           // chunks of one row, each padded
        // M = 4096 = 16 x 16 x 16: four rows a block
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 3, 3, 4096, 4096, 0),           // 9 rows: the last block has one
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 2, 3, 3001, 2000, 0),     // N = 8192 (5001), odd L, 6 rows
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 2, 8192, 8192, 0),         // N = L
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 5, 4096, 3000, 1),            // chunks of one row, each padded to four
        // M = 16384 = 4 x 16^3 / 32768 = 8 x 16^3 (session 22): an outer pass, the inner rows of 4096 in pair order
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 16384, 16384, 0),         // N1 = 4: one middle block a row
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 1, 3, 9001, 9000, 0),     // N = 32768 (18001), odd L
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 2, 32768, 32768, 0),       // N = L
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 3, 16384, 10000, 1),          // chunks of one row
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 2, 32768, 32768, 0),         // N1 = 8: two middle blocks a row
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 1, 2, 20001, 15000, 0),   // N = 65536 (35001), odd L
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 3, 20000, 20000, 1),         // N = 65536 (39999), chunks of one row
        // M = 2048 = 8 x 16 x 16 (session 22): an outer pass, eight chunk rows a middle block (stage 3 skipped)
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 3, 3, 2048, 2048, 0),           // 9 rows: the last block has one
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 2, 3, 1501, 1500, 0),     // N = 4096 (3001), odd L, 6 rows
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 2, 4096, 4096, 0),         // N = L
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 5, 2048, 1500, 1));           // chunks of one row, each padded to eight
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} budgetRows={6}")
  @MethodSource("cases")
  void middleRouteMatchesLibAndTheTwin(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int budgetRows) {
    var rng = new SplittableRandom(8209L * L + 31L * B + H + 5L * io.ordinal() + mode.ordinal() + 17L * budgetRows);
    var c = PackedMonarchBwdGpuTest.PlanCase.draw(rng, mode, io, B, H, L, Lk);
    int n = c.n(), tail = c.tail(), sides = c.sides(), N = c.N(), m = c.m();
    assertTrue(m == 2048 || m == 8192 || m == 4096 || m == 16384 || m == 32768, "the case's M: " + m);
    var lib = c.lib();
    String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " budgetRows=" + budgetRows;
    double tk = c.tk();
    double[] libDk = c.libDk();
    float[][] mid = null;
    String old = System.getProperty(KEY);
    try (var p = PackedMonarchLearned.plan(dev, H, L, Lk, mode, io); var ub = dev.upload(c.u16()); var db = dev.upload(c.dy16());
         var du = dev.alloc(2L * (n + tail)); var dk = dev.alloc(4L * (sides * H * Lk + 16)); var dD = dev.alloc(4L * (H + 16))) {
      assertTrue(p.innerPlan() != null, "M = 2048 .. 32768 keeps an inner-only plan " + what);
      if (budgetRows > 0) p.innerPlan().scratchBudget(8L * m * budgetRows);
      c.set(p);
      System.setProperty(KEY, "fast");
      assertThrows(IllegalArgumentException.class, PackedMonarchLearned::innerRoute, "an unknown route is refused");
      for (boolean middle : new boolean[] {true, false}) {
        if (middle) System.clearProperty(KEY); else System.setProperty(KEY, "pmb");
        assertEquals(middle, PackedMonarchLearned.innerRoute(), "the property selects the route (unset: the middles)");
        String w = what + (middle ? " middles" : " pmb (twin)");
        if (middle) {   // a first call, then its block gradients poisoned: the measured call must write every entry
          p.backward(ub, db, B, du, dk, dD);
          dev.synchronize();
          var bw = p.threePassBackward();
          String route = m == 8192 ? "one pass on the middles (two rows a block)" : m == 4096 ? "one pass on the middles (four rows a block)"
              : m == 2048 ? "8 x 16 x 16 one pass as three" : m / 4096 + " x 16 x 16 x 16 one pass as three";
          assertTrue(bw != null && bw.toString().contains(route),
              "the default route ran the middles: " + bw + " " + w);
          if (budgetRows > 0) assertEquals(1, bw.chunkChannels(B), "one channel a chunk " + w);
          bw.poisonBlockGrads();
        }
        var got = PackedThreePassBwdGpuTest.backwardChecked(p, ub, db, B, du, dk, dD, io, n, tail, sides * H * Lk, H, w);
        float[] duG = got.du(), dkG = got.dk(), dDG = got.dD();
        double[][] gb = p.blockGrads();
        assertEquals(lib.dBlocks().length, gb.length, "block gradients " + w);
        var sb = new StringBuilder();
        for (int i = 0; i < gb.length; i++) sb.append(String.format(" %d %.3e", i, PackedMonarchHostTest.relErr(gb[i], lib.dBlocks()[i])));
        System.out.printf("inner8k %s: du %.3e, dk %.3e, dD %.3e; dBlocks vs float64%s%n", w,
            PackedMonarchHostTest.relErr(ConvCase.toD(duG), lib.conv().du()), PackedMonarchHostTest.relErr(ConvCase.toD(dkG), libDk),
            PackedMonarchHostTest.relErr(ConvCase.toD(dDG), lib.conv().dD()), sb);
        Reference.assertClose("du vs float64 " + w, duG, lib.conv().du(), TOL16);
        Reference.assertClose("dk vs float64 " + w, dkG, libDk, tk);
        Reference.assertClose("dD vs float64 " + w, dDG, lib.conv().dD(), TOLD);
        float[] flat = new float[0];
        for (int i = 0; i < gb.length; i++) {
          float[] g = PackedMonarchGpuTest.toF(gb[i]);
          PackedLearnedRefGpuTest.finite(g, "dBlock " + i + " " + w);
          Reference.assertClose("dBlock " + i + " vs float64 " + w, g, lib.dBlocks()[i], TOLG);
          flat = concat(flat, g);
        }
        if (middle) {
          mid = new float[][] {duG, dkG, flat};
          // fixed-order sums (no atomics): a second call gives the same bits
          p.backward(ub, db, B, du, dk, dD);
          double[][] again = p.blockGrads();
          for (int i = 0; i < gb.length; i++) assertArrayEquals(gb[i], again[i], 0.0, "dBlock " + i + " of a second call " + w);
          // twins that give the same bits: the packing / unpacking point by point (-Dlongconv4j.p3.pack16=false, the twin of the
          // 16-byte path taken where L is a multiple of 8: the same values moved, the same fmaf), and at M = 4096 (session 27)
          // passes 1 / 3 instead of the middles reading dy and writing du + D dy themselves (the same plane values, the same fmaf),
          // and (session 28; at M = 8192 all three) pass 1 for u instead of the middles reading u themselves (the same plane values and Gram words)
          String[][] twins = m == 4096 || m == 8192 ? new String[][] {{"longconv4j.p3.pack16"}, {"longconv4j.p3.bwd.directu"},
              {"longconv4j.p3.bwd.directdy", "longconv4j.p3.bwd.directdu"}}
              : m == 16384 || m == 2048 ? new String[][] {{"longconv4j.p3.bwd.directu"}, {"longconv4j.p3.bwd.directdy"}}   // pass 1 in the loads
              : new String[][] {{"longconv4j.p3.pack16"}};
          for (String[] keys : twins) {
            String tw = String.join(", ", keys) + " = false";
            for (String k : keys) System.setProperty(k, "false");
            try {
              du.fill32(0x7fc07fc0);
              p.backward(ub, db, B, du, dk, dD);
              dev.synchronize();
              float[] du1 = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + tw + " " + w);
              assertArrayEquals(duG, du1, 0f, "du with " + tw + " " + w);
              assertArrayEquals(dkG, dk.copyTo(new float[sides * H * Lk], 0), 0f, "dk with " + tw + " " + w);
              double[][] g1 = p.blockGrads();
              // at M = 16384 without the dy middle's pass-1 load the outer Grams are lp3g_ogramc's (outerfuse needs that load):
              // the outer blocks then as the outerfuse twin below (within 2 TOLG), every other value the same bits
              boolean outer = m == 16384 && java.util.Arrays.asList(keys).contains("longconv4j.p3.bwd.directdy");
              for (int i = 0; i < gb.length; i++)
                if (outer && (i == 0 || i == gb.length - 1))
                  Reference.assertClose("dBlock " + i + " with " + tw + " " + w, PackedMonarchGpuTest.toF(g1[i]), gb[i], 2 * TOLG);
                else assertArrayEquals(gb[i], g1[i], 0.0, "dBlock " + i + " with " + tw + " " + w);
              System.out.printf("inner8k %s: %s: the same bits%s%n", w, tw, outer ? " (the outer blocks within 2 TOLG: lp3g_ogramc's)" : "");
            } finally {
              for (String k : keys) System.clearProperty(k);
            }
          }
          if (m == 2048 || m > 8192) {   // the outer Grams on the other kind of core (the default: CUDA cores at N1 = 4 only)
            boolean cudaCores = PackedThreePassBackward.ogramCuda(m == 16384 ? 4 : 8);
            System.setProperty("longconv4j.p3.ogramc", cudaCores ? "false" : "true");
            if (m == 16384 || m == 2048) System.setProperty("longconv4j.p3.bwd.outerfuse", "false");   // (the fused route has no lp3g_ogram*)
            try {
              p.backward(ub, db, B, du, dk, dD);
              double[][] g1 = p.blockGrads();
              int last = g1.length - 1;
              System.out.printf("inner8k %s: outer Grams on %s cores (twin): dBlock 0 %.3e, dBlock %d %.3e vs float64%n", w, cudaCores ? "tensor" : "CUDA",
                  PackedMonarchHostTest.relErr(g1[0], lib.dBlocks()[0]), last, PackedMonarchHostTest.relErr(g1[last], lib.dBlocks()[last]));
              assertOuterRoute(g1, gb, lib.dBlocks(), "outer Grams CUDA vs tensor cores (either way)", w);
            } finally {
              System.clearProperty("longconv4j.p3.ogramc");
              System.clearProperty("longconv4j.p3.bwd.outerfuse");
            }
            if (m == 2048 || m == 32768) {   // session 32: a column a thread (lp3g_ogramv, the default) against the tiles
              System.setProperty("longconv4j.p3.ogramv", "false");
              if (m == 2048) System.setProperty("longconv4j.p3.bwd.outerfuse", "false");
              try {
                p.backward(ub, db, B, du, dk, dD);
                double[][] g1 = p.blockGrads();
                int last = g1.length - 1;
                System.out.printf("inner8k %s: outer Grams on tensor-core tiles (ogramv=false): dBlock 0 %.3e vs the default %.3e,"
                    + " dBlock %d %.3e vs %.3e (float64)%n", w, PackedMonarchHostTest.relErr(g1[0], lib.dBlocks()[0]),
                    PackedMonarchHostTest.relErr(gb[0], lib.dBlocks()[0]), last, PackedMonarchHostTest.relErr(g1[last], lib.dBlocks()[last]),
                    PackedMonarchHostTest.relErr(gb[last], lib.dBlocks()[last]));
                assertOuterRoute(g1, gb, lib.dBlocks(), "outer Grams a column a thread vs the tiles (ogramv=false)", w);
              } finally {
                System.clearProperty("longconv4j.p3.ogramv");
                System.clearProperty("longconv4j.p3.bwd.outerfuse");
              }
            }
          }
          if (m == 16384 || m == 2048) {   // session 28: the outer Grams and pass 3 in the middles against pass 3 + lp3g_ogram* (the
            // default at 16384 is the first, at 2048 the second (the fused middles measured slower there): the other route here)
            String other = m == 2048 ? "true" : "false";
            System.setProperty("longconv4j.p3.bwd.outerfuse", other);
            try {
              du.fill32(0x7fc07fc0);
              p.backward(ub, db, B, du, dk, dD);
              dev.synchronize();
              float[] du1 = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du outerfuse=" + other + " " + w);
              assertArrayEquals(duG, du1, 0f, "du with outerfuse=" + other + " (pass 3's column from the same 16-bit values) " + w);
              assertArrayEquals(dkG, dk.copyTo(new float[sides * H * Lk], 0), 0f, "dk with outerfuse=" + other + " " + w);
              double[][] g1 = p.blockGrads();
              int last = g1.length - 1;
              System.out.printf("inner8k %s: outerfuse=%s: dBlock 0 %.3e, dBlock %d %.3e vs float64%n", w, other,
                  PackedMonarchHostTest.relErr(g1[0], lib.dBlocks()[0]), last, PackedMonarchHostTest.relErr(g1[last], lib.dBlocks()[last]));
              // the same products summed in another order (a block's partial, not a column block's), at 16384 with pass 3's
              // recurrence twiddles instead of sincospif's (both fp32, ~1e-6 apart), at 2048 in fp32 instead of the twin's 16-bit
              // tensor-core operands: each within TOLG of float64, so within 2 TOLG of each other
              for (int i : new int[] {0, last}) {
                Reference.assertClose("dBlock " + i + " (outerfuse=" + other + ") vs float64 " + w, PackedMonarchGpuTest.toF(g1[i]), lib.dBlocks()[i], TOLG);
                Reference.assertClose("dBlock " + i + " outerfuse vs the twin " + w, PackedMonarchGpuTest.toF(g1[i]), gb[i], 2 * TOLG);
              }
              for (int i = 1; i < last; i++) assertArrayEquals(gb[i], g1[i], 0.0, "dBlock " + i + " (not an outer one) the same bits " + w);
            } finally {
              System.clearProperty("longconv4j.p3.bwd.outerfuse");
            }
          }
          if (m > 8192) {   // the forward as three passes (-Dlongconv4j.pk.quadfwd=true) vs float64 and vs the one-pass kernel
            float[][] ys = new float[2][];
            for (int r = 0; r < 2; r++) {
              System.setProperty("longconv4j.pk.quadfwd", r == 0 ? "true" : "false");
              try (var y = dev.alloc(2L * (n + tail))) {
                y.fill32(0x7fc07fc0);
                p.forward(ub, y, B);
                dev.synchronize();
                ys[r] = PackedLearnedRefGpuTest.readChecked(y, io, n, tail, "y quadfwd=" + (r == 0) + " " + w);
              } finally {
                System.clearProperty("longconv4j.pk.quadfwd");
              }
            }
            System.out.printf("inner8k %s: y three passes %.3e, one pass %.3e vs float64%n", w,
                PackedMonarchHostTest.relErr(ConvCase.toD(ys[0]), c.libY()), PackedMonarchHostTest.relErr(ConvCase.toD(ys[1]), c.libY()));
            Reference.assertClose("y three passes vs float64 " + w, ys[0], c.libY(), TOL16);
            Reference.assertClose("y three passes vs the one-pass kernel " + w, ys[0], ConvCase.toD(ys[1]), 2 * TOL16);
          }
        } else {   // the two routes against each other: within the sums of their bounds to float64
          Reference.assertClose("du middles vs pmb " + what, mid[0], ConvCase.toD(duG), 2 * TOL16);
          Reference.assertClose("dk middles vs pmb " + what, mid[1], ConvCase.toD(dkG), 2 * tk);
          Reference.assertClose("dBlocks middles vs pmb " + what, mid[2], ConvCase.toD(flat), 2 * TOLG);
        }
      }
    } finally {
      if (old == null) System.clearProperty(KEY); else System.setProperty(KEY, old);
    }
  }

  /** The inner-only plan: M = 2048 .. 32768 only, no forward, its caller's P / Q (its setters refuse), blocks in lib's one-pass layout. */
  @Test
  void innerOnlyPlanRefusesWhatItCannotDo() {
    try (var pq = dev.alloc(16L * 2 * 8192); var pa = dev.alloc(16L * 2 * 8192); var d = dev.alloc(8);
         var u = dev.alloc(2L * 2 * 8192); var y = dev.alloc(2L * 2 * 8192)) {
      var e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.innerOnly(dev, 2, 1024, 1024, ConvMode.CAUSAL, ElementType.BF16));
      assertTrue(e.getMessage().contains("M=1024"), e.getMessage());
      try (var p2 = PackedThreePass.innerOnly(dev, 2, 2048, 2048, ConvMode.CAUSAL, ElementType.BF16)) {
        assertArrayEquals(new int[] {8, 16, 16}, p2.factors());
        assertTrue(p2.twoK() && !p2.quad() && p2.innerRows() == 8, p2.toString());
        p2.setBlocks(PackedMonarchFactors.atInit(p2.factors()));
      }
      try (var p4 = PackedThreePass.innerOnly(dev, 2, 4096, 4096, ConvMode.CAUSAL, ElementType.BF16)) {
        assertArrayEquals(new int[] {16, 16, 16}, p4.factors());
        p4.setBlocks(PackedMonarchFactors.atInit(p4.factors()));
      }
      try (var p16 = PackedThreePass.innerOnly(dev, 2, 16384, 16384, ConvMode.CAUSAL, ElementType.BF16);
           var p32 = PackedThreePass.innerOnly(dev, 2, 32768, 32768, ConvMode.CAUSAL, ElementType.BF16)) {
        assertArrayEquals(new int[] {4, 16, 16, 16}, p16.factors());
        assertArrayEquals(new int[] {8, 16, 16, 16}, p32.factors());
        assertTrue(p16.quad() && p32.quad() && p16.innerRows() == 4, p16 + " " + p32);
        var b = assertThrows(IllegalArgumentException.class, () -> p16.setBlocks(PackedMonarchFactors.atInit(p32.factors())));
        assertTrue(b.getMessage().contains("M = 16384"), b.getMessage());
        p16.setBlocks(PackedMonarchFactors.atInit(p16.factors()));
      }
      e = assertThrows(IllegalArgumentException.class, () -> PackedThreePass.innerOnly(dev, 2, 65536, 65536, ConvMode.CAUSAL, ElementType.BF16));
      assertTrue(e.getMessage().contains("M=65536"), e.getMessage());
      try (var p3 = PackedThreePass.innerOnly(dev, 3, 8192, 8192, ConvMode.CAUSAL, ElementType.BF16)) {
        e = assertThrows(IllegalArgumentException.class, () -> p3.borrow(pq, pa, d));
        assertTrue(e.getMessage().contains("H=3"), e.getMessage());
      }
      try (var p = PackedThreePass.innerOnly(dev, 2, 8192, 8192, ConvMode.CAUSAL, ElementType.BF16)) {
        assertThrows(IllegalStateException.class, () -> new PackedThreePassBackward(p).backward(u, y, 1, y, pq, d), "no P / Q borrowed yet");
        p.borrow(pq, pa, d);
        assertArrayEquals(new int[] {2, 16, 16, 16}, p.factors());
        assertThrows(IllegalStateException.class, () -> p.forward(u, y, 1));
        assertThrows(IllegalStateException.class, () -> p.inputGrad(u, y, 1));
        assertThrows(IllegalStateException.class, () -> p.setD(new float[2]));
        var b = assertThrows(IllegalArgumentException.class, () -> p.setBlocks(PackedMonarchFactors.atInit(new int[] {1, 2, 16, 16, 16})));
        assertTrue(b.getMessage().contains("need 8 blocks"), b.getMessage());
        p.setBlocks(PackedMonarchFactors.atInit(p.factors()));
      }
      float[] still = pq.copyTo(new float[4], 0);   // closing the inner-only plan leaves the caller's buffers alone
      assertEquals(4, still.length);
    }
  }

  private static float[] concat(float[] a, float[] b) {
    float[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /**
   * Another route's block gradients g1 against the default's gb: the outer blocks (first and last) within TOLG of float64
   * (f64) and within 2 TOLG of the default's (each route's bound), every inner block the same bits.
   */
  private static void assertOuterRoute(double[][] g1, double[][] gb, double[][] f64, String what, String w) {
    int last = g1.length - 1;
    for (int i : new int[] {0, last}) {
      Reference.assertClose("dBlock " + i + " (" + what + ") vs float64 " + w, PackedMonarchGpuTest.toF(g1[i]), f64[i], TOLG);
      Reference.assertClose("dBlock " + i + " " + what + " " + w, PackedMonarchGpuTest.toF(g1[i]), gb[i], 2 * TOLG);
    }
    for (int i = 1; i < last; i++) assertArrayEquals(gb[i], g1[i], 0.0, "dBlock " + i + " (not an outer one) the same bits " + w);
  }
}
