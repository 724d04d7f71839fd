// Shapes: B batch, H channels, L length, Lk taps per side, N the real FFT size, M = N / 2 = N1 * 8192 (65536 .. 262144);
// u, dy, du (B, H, L) 16-bit on the device; k lib's (H, sides, Lk) (the plans: (H, Lk) per side); dk (sides, H, Lk) fp32;
// D, dD (H); blocks lib's {F_1 .. F_5, G_5 .. G_1} (R_s, R_s, 2); gpq (H, M) float4 {dP_p, dQ_p} at positions.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Helper p3's (session 17) and p3tc's (session 18) three-pass tensor-core backward {@link PackedThreePassBackward}
 * (learned_p3g.cu): {@link #planMatchesLibAndTheChain}: the op's plan {@link PackedMonarchLearned} on its default route (the
 * property {@code -Dlongconv4j.p3.bwd} unset: du, dk, dD and the 2J block gradients on tensor cores) against lib's float64
 * {@link PackedLearnedButterfly#backwardAll} and against its twin, the fp32 chain ({@code -Dlongconv4j.p3.bwd=chain}); all
 * three modes, M = 65536, 131072, 262144, bf16 and fp16, random blocks (every entry Gaussian: a transposed block, a wrong
 * slot, scale or partner shows), odd L, H = 3; outputs NaN-poisoned (the block gradients of a first call too, before the
 * measured one). {@link #duIsTheInputGradBitForBit}: the split middle (lp3g_bmid1 then lp3g_bmid2: lp3_mid16's function
 * split at its pair map, with the Gram hooks) gives {@link PackedThreePass#inputGrad}'s du (scratch16 on, middleWarp off: lp3_mid16) bit for bit,
 * writes nothing past gpq and dD, dD equals the chain kernel's sums, and the block gradients (one chunk, and chunks of one
 * channel: the sums over chunks) match lib's float64.
 * Tolerances (relative Frobenius), 16-bit inputs exact (lib takes the decoded values):
 * du 1e-2: PackedThreePassGpuTest's bound for the same kernels (the adjoint of the forward, 16-bit operands in 12 stages).
 * dk 1e-2 sqrt(N / Lk): dP / dQ are sums over b of products of two 16-bit-plane values (C after pass 1 and the four inner
 * forward stages, g after the adjoint's; each ~1.6e-3 rms relative per stage for bf16, PackedMonarchGpuTest's analysis:
 * ~5e-3 in quadrature), the fp32 sums over B rows and the chain's fp32 route to dk add ~1e-6; the kept Lk taps hold ~Lk / N
 * of dK's energy, so its relative error grows by sqrt(N / Lk) (PackedMonarchBwdGpuTest's and LearnedJFactorOpGpuTest's
 * bound). dD 1e-4: lpj_ddot's fp32 sums of B L products (sqrt(2^19) x 6e-8 = 4e-5 random-walk). Block gradients: the
 * chain's (the twin) PackedLearnedRefChainGpuTest's fp32 bound 2e-5; the tensor cores' 2e-2 (TOLG), PackedMonarchBwdGpuTest's
 * bound for the one-pass tensor-core Grams and its analysis: a Gram term is the product of a stage input (after up to
 * s - 1 forward stages, or the forward chain, the pair map and 5 - s inverse stages) and an output gradient, each stage
 * ~1.6e-3 rms relative in bf16, in quadrature over <= 2J + 1 = 11 stages here (J = 5: 5.3e-3), plus the 16-bit scratch
 * between the passes (exact: the planes are 16-bit), the dumps (exact, 16-bit planes) and the re-rounding of a twiddled
 * operand (1.1e-3): ~6e-3 per term; the cancellation factor kappa of the outer blocks (PackedMonarchBwdErrorHostTest:
 * ~2-3 for causal first-stage blocks) leaves a margin of ~1.1-1.6 there. Tensor cores vs the chain: the sums of their bounds.
 */
@Tag("gpu")
class PackedThreePassBwdGpuTest extends CudaDeviceTest {
  private static final double TOL16 = 1e-2, TOLD = 1e-4, TOLG = 2e-2;
  private static final String KEY = "longconv4j.p3.bwd", RED = "longconv4j.p3.reduce", OG = "longconv4j.p3.ogram";

  static Stream<Arguments> planCases() {
    // mode, io, B, H, L, Lk, blocks kind (1 DFT + 5 %, 2 Gaussian); M in the comment
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 2, 3, 65536, 65536, 2),          // N = 131072, M = 65536 = 8 x 8192
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F16, 1, 3, 100001, 40000, 2),   // N = 262144 (140001), odd L, M = 131072
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 1, 131072, 131072, 1),      // N = L: M = 65536
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 200001, 150000, 2),        // N = 524288, M = 262144 (outer tc), odd L
        Arguments.of(ConvMode.CIRCULAR, ElementType.F16, 1, 1, 524288, 524288, 2));      // N = L = 2^19: M = 262144
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6}")
  @MethodSource("planCases")
  void planMatchesLibAndTheChain(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind) {
    var rng = new SplittableRandom(6151L * L + 41L * B + H + 7L * io.ordinal() + mode.ordinal() + 13L * kind);
    var x = PackedMonarchHostTest.Data.draw(rng, B, H, L, Lk, mode);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, tail = 64 + (n & 1), sides = bi ? 2 : 1;
    short[] u16 = HalfFloats.encode(PackedMonarchGpuTest.toF(x.u()), io), dy16 = HalfFloats.encode(PackedMonarchGpuTest.toF(PackedMonarchGpuTest.gauss(rng, n)), io);
    double[] u = ConvCase.toD(HalfFloats.decode(u16, io)), dy = ConvCase.toD(HalfFloats.decode(dy16, io));
    var plan = ConvPlan.of(L, Lk, x.shape().mode(), ConvEngine.LEARNED_PACKED, Precision.F64);
    int N = plan.fftSize(), m = N / 2;
    double[][] blocks = PackedThreePassGpuTest.blocks(rng, m, kind);   // fp32 values: lib gets what the plans hold
    var lib = new PackedLearnedButterfly(plan, blocks).backwardAll(x.shape(), u, x.k(), x.d(), dy);
    float[] k0 = side(x.k(), H, Lk, sides, 0), k1 = bi ? side(x.k(), H, Lk, sides, 1) : null;
    float[] D = PackedMonarchGpuTest.toF(x.d());
    String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " blocks=" + kind;
    double tk = TOL16 * Math.sqrt((double) N / Lk);
    double[] libDk = ConvCase.gpuKernelLayout(lib.conv().dk(), H, Lk, bi);
    float[][] tc = null;
    String old = System.getProperty(KEY);
    try (var p = PackedMonarchLearned.plan(dev, H, L, Lk, mode, io); var ub = dev.upload(u16); var db = dev.upload(dy16);
         var du = dev.alloc(2L * (n + tail)); var dk = dev.alloc(4L * (sides * H * Lk + 16)); var dD = dev.alloc(4L * (H + 16))) {
      p.setBlocks(blocks);
      if (bi) p.setWeights(k0, k1, D); else p.setWeights(k0, D);
      System.setProperty(KEY, "fp32");
      assertThrows(IllegalArgumentException.class, PackedThreePassBackward::enabled, "an unknown route is refused");
      for (boolean tensorCores : new boolean[] {true, false}) {
        if (tensorCores) System.clearProperty(KEY); else System.setProperty(KEY, "chain");
        assertEquals(tensorCores, PackedThreePassBackward.enabled(), "the property selects the backward (unset: tensor cores)");
        String w = what + (tensorCores ? " tensor cores" : " chain (twin)");
        if (tensorCores) {   // a first call, then its block gradients poisoned: the measured call must write every entry
          p.backward(ub, db, B, du, dk, dD);
          dev.synchronize();
          assertTrue(p.threePassBackward() != null, "the default route ran PackedThreePassBackward " + w);
          p.threePassBackward().poisonBlockGrads();
        }
        var got = backwardChecked(p, ub, db, B, du, dk, dD, io, n, tail, sides * H * Lk, H, w);
        float[] duG = got.du(), dkG = got.dk(), dDG = got.dD();
        double[][] gb = p.blockGrads();
        Reference.assertClose("du vs float64 " + w, duG, lib.conv().du(), TOL16);
        Reference.assertClose("dk vs float64 " + w, dkG, libDk, tk);
        Reference.assertClose("dD vs float64 " + w, dDG, lib.conv().dD(), TOLD);
        assertEquals(lib.dBlocks().length, gb.length, w);
        System.out.println("p3tc dBlocks vs float64 " + w + ": " + blockErrors(gb, lib.dBlocks()));
        for (int i = 0; i < gb.length; i++) {
          PackedLearnedRefGpuTest.finite(PackedMonarchGpuTest.toF(gb[i]), "dBlock " + i + " " + w);
          Reference.assertClose("dBlock " + i + " vs float64 " + w, PackedMonarchGpuTest.toF(gb[i]), lib.dBlocks()[i],
              tensorCores ? TOLG : PackedLearnedRefChainGpuTest.TOL32);
        }
        if (tensorCores) tc = new float[][] {duG, dkG, dDG, PackedMonarchGpuTest.toF(flat(gb))};
        else {   // the two paths against each other: within the sums of their bounds to float64
          Reference.assertClose("du tensor cores vs chain " + what, tc[0], ConvCase.toD(duG), 2 * TOL16);
          Reference.assertClose("dk tensor cores vs chain " + what, tc[1], ConvCase.toD(dkG), 2 * tk);
          Reference.assertClose("dD tensor cores vs chain " + what, tc[2], ConvCase.toD(dDG), 2 * TOLD);
          Reference.assertClose("dBlocks tensor cores vs chain " + what, tc[3], flat(gb), TOLG + PackedLearnedRefChainGpuTest.TOL32);
        }
        System.out.printf("p3 bwd plan %s: du %.3e, dk %.3e, dD %.3e%n", w, PackedMonarchHostTest.relErr(ConvCase.toD(duG), lib.conv().du()),
            PackedMonarchHostTest.relErr(ConvCase.toD(dkG), libDk), PackedMonarchHostTest.relErr(ConvCase.toD(dDG), lib.conv().dD()));
      }
    } finally {
      if (old == null) System.clearProperty(KEY); else System.setProperty(KEY, old);
    }
  }

  /** du, dk, dD of one backward. */
  record Got(float[] du, float[] dk, float[] dD) {}

  /**
   * One backward of the op's plan with du, dk and dD NaN-poisoned first (dk and dD allocated 16 entries longer): du read
   * checked (PackedLearnedRefGpuTest.readChecked: n values, the tail still poisoned), nothing written past dk's nk or dD's H
   * entries, every gradient finite; also PackedInnerBwdGpuTest's.
   */
  static Got backwardChecked(PackedMonarchLearned p, DeviceBuffer ub, DeviceBuffer db, int B, DeviceBuffer du, DeviceBuffer dk,
                             DeviceBuffer dD, ElementType io, int n, int tail, int nk, int H, String w) {
    du.fill32(0x7fc07fc0);
    dk.fill32(0x7fc00000);
    dD.fill32(0x7fc00000);
    p.backward(ub, db, B, du, dk, dD);
    dev.synchronize();
    float[] duG = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + w);
    float[] dkAll = dk.copyTo(new float[nk + 16], 0), dDAll = dD.copyTo(new float[H + 16], 0);
    for (int i = nk; i < dkAll.length; i++) assertTrue(Float.isNaN(dkAll[i]), "dk written past its end at " + i + " " + w);
    for (int i = H; i < dDAll.length; i++) assertTrue(Float.isNaN(dDAll[i]), "dD written past H at " + i + " " + w);
    float[] dkG = Arrays.copyOf(dkAll, nk), dDG = Arrays.copyOf(dDAll, H);
    for (float[] a : new float[][] {duG, dkG, dDG}) PackedLearnedRefGpuTest.finite(a, "a gradient " + w);
    return new Got(duG, dkG, dDG);
  }

  /** The blocks back to back. */
  private static double[] flat(double[][] b) {
    return Arrays.stream(b).flatMapToDouble(Arrays::stream).toArray();
  }

  /** Per block "i relErr" and the worst, for the log (printed before the assertions so that a failure shows them all). */
  private static String blockErrors(double[][] got, double[][] want) {
    var sb = new StringBuilder();
    double worst = 0;
    for (int i = 0; i < got.length; i++) {
      double e = PackedMonarchHostTest.relErr(got[i], want[i]);
      worst = Math.max(worst, e);
      sb.append(String.format("%s%d %.3e", i == 0 ? "" : ", ", i, e));
    }
    return String.format("worst %.3e; %s", worst, sb);
  }

  /** Side {@code j}'s taps (H, Lk) fp32 of lib's k (H, sides, Lk). */
  private static float[] side(double[] k, int H, int Lk, int sides, int j) {
    float[] out = new float[H * Lk];
    for (int i = 0; i < out.length; i++) out[i] = (float) k[(i / Lk) * sides * Lk + j * Lk + i % Lk];
    return out;
  }

  static Stream<Arguments> splitCases() {
    // mode, io, B, H, L, Lk, scratch budget rows (0: the default): one chunk, and chunks of one channel
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 3, 3, 65536, 65536, 0),          // M = 65536, CUDA-core outer passes
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 2, 3, 65536, 40000, 1),           // three chunks of one channel (B = 2 rows)
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 100001, 40000, 0),  // N = 262144 (140001): M = 131072
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 1, 2, 200001, 100000, 0)); // N = 524288, M = 262144: tensor-core outer passes
  }

  /**
   * The split middle's du against PackedThreePass.inputGrad on lp3_mid16 (same outer passes): bit for bit (the row between
   * lp3g_bmid1 and lp3g_bmid2 holds the 16-bit planes' values exactly); dD against the chain kernel's own formula in float64
   * (1e-5: fp32 sums of B L products); gpq and dD not written past their ends; gpq finite and not all zero; the block
   * gradients (summed over the chunks: one, or one channel a chunk) against lib's float64 (TOLG), and bit for bit those of
   * a second call (fixed-order sums), within 1e-6 of their maxima those of the serial reduce (the twin of the default
   * segmented one), and those of the sincos outer Grams (the twin of the twiddle table) and of the table with rows unrolled:
   * inner blocks bit for bit, outer 1e-4 (the same bits seen: the count is printed).
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} budgetRows={6}")
  @MethodSource("splitCases")
  void duIsTheInputGradBitForBit(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int budgetRows) {
    var rng = new SplittableRandom(3571L * L + 19L * B + H + io.ordinal() + 3L * mode.ordinal());
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, tail = 64 + (n & 1);
    short[] u16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io);
    double[] k = ConvCase.toD(Reference.randn(rng, (bi ? 2 : 1) * H * Lk, 1.0 / Math.sqrt(Lk)));
    float[] D = Reference.randn(rng, H, 1.0);
    try (var p3 = PackedThreePass.plan(dev, H, L, Lk, mode, io)) {
      int m = p3.points(), pt = 16;
      if (budgetRows > 0) p3.scratchBudget(8L * m * budgetRows);
      ConvPlan plan = p3.libPlan();
      var shape = new ConvShape(B, 1, H, L, Lk, LearnedButterflyConv.libMode(mode));
      double[] pq = new double[4 * H * m];
      for (int h = 0; h < H; h++)
        System.arraycopy(PackedLearnedButterfly.pairCoefficients(plan, PackedLearnedButterfly.placeTaps(plan, shape, k, h)), 0, pq, 4 * m * h, 4 * m);
      double[][] blocks = PackedThreePassGpuTest.blocks(rng, m, 2);
      p3.setBlocks(blocks).setWeights(pq, D);
      p3.storage16(true).scratch16(true).middleWarp(false);
      String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " " + p3.outerKernel(true);
      try (var bw = new PackedThreePassBackward(p3); var ub = dev.upload(u16); var db = dev.upload(dy16); var du = dev.alloc(2L * (n + tail));
           var du2 = dev.alloc(2L * (n + tail)); var gpq = dev.alloc(16L * H * m + 4L * pt); var dD = dev.alloc(4L * (H + pt))) {
        if (budgetRows > 0) assertEquals(1, bw.chunkChannels(B), "one channel a chunk " + what);
        du.fill32(0x7fc07fc0);
        du2.fill32(0x7fc07fc0);
        gpq.fill32(0x7fc00000);
        dD.fill32(0x7fc00000);
        bw.backward(ub, db, B, du, gpq, dD);
        p3.inputGrad(db, du2, B);
        dev.synchronize();
        float[] a = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + what), b = PackedLearnedRefGpuTest.readChecked(du2, io, n, tail, "inputGrad " + what);
        int diff = 0;
        for (int i = 0; i < n; i++) if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) diff++;
        assertEquals(0, diff, "du elements differing from inputGrad's " + what);
        float[] all = gpq.copyTo(new float[4 * H * m + pt], 0), dd = dD.copyTo(new float[H + pt], 0);
        for (int i = 4 * H * m; i < all.length; i++) assertTrue(Float.isNaN(all[i]), "dP / dQ written past (H, M) at " + i + " " + what);
        for (int i = H; i < dd.length; i++) assertTrue(Float.isNaN(dd[i]), "dD written past H at " + i + " " + what);
        float[] g = Arrays.copyOf(all, 4 * H * m);
        PackedLearnedRefGpuTest.finite(g, "dP / dQ " + what);
        double norm = 0;
        for (float v : g) norm += v * v;
        assertTrue(norm > 0, "dP / dQ all zero " + what);
        double[] u = ConvCase.toD(HalfFloats.decode(u16, io)), dy = ConvCase.toD(HalfFloats.decode(dy16, io)), want = new double[H];
        for (int i = 0; i < n; i++) want[(i / L) % H] += u[i] * dy[i];
        Reference.assertClose("dD vs float64 " + what, Arrays.copyOf(dd, H), want, 1e-5);
        System.out.printf("p3 bwd split %s: du bit for bit, |gpq| %.3e, kept %d bytes, %d channels a chunk%n", what, Math.sqrt(norm),
            bw.keptBytes(), bw.chunkChannels(B));
        // the block gradients (summed over the chunks) against lib's float64 (TOLG, see the class comment)
        double[][] gb = bw.blockGrads();
        double[][] libB = new PackedLearnedButterfly(plan, blocks).backwardAll(shape, u, k, ConvCase.toD(D), dy).dBlocks();
        System.out.println("p3tc split dBlocks vs float64 " + what + ": " + blockErrors(gb, libB));
        for (int i = 0; i < gb.length; i++)
          Reference.assertClose("dBlock " + i + " vs float64 " + what, PackedMonarchGpuTest.toF(gb[i]), libB[i], TOLG);
        // fixed-order sums (no atomics): a second call gives the same bits (the op's device and host routes compare so)
        bw.backward(ub, db, B, du2, gpq, dD);
        double[][] again = bw.blockGrads();
        for (int i = 0; i < gb.length; i++) assertArrayEquals(gb[i], again[i], 0.0, "dBlock " + i + " of a second call " + what);
        // the segmented reduce (default) against its twin, the serial lp3g_reduce: the same fp32 partials summed in float64 in
        // another order (the double sums differ by ~1e-16 of the partials' magnitudes), so each chunk's fp32 entry is the same
        // or 1 ulp apart, and the sums over <= 3 chunks here at most a few ulps: |seg - serial| <= 1e-6 max|dBlock| (8 ulps)
        String oldRed = System.getProperty(RED), oldOg = System.getProperty(OG);
        try {
          System.setProperty(RED, "sum");
          assertThrows(IllegalArgumentException.class, PackedThreePassBackward::segmented, "an unknown reduce is refused");
          System.setProperty(RED, "serial");
          bw.poisonBlockGrads();
          bw.backward(ub, db, B, du2, gpq, dD);
          double[][] serial = bw.blockGrads();
          double worst = 0;
          for (int i = 0; i < gb.length; i++) {
            double max = Arrays.stream(gb[i]).map(Math::abs).max().orElse(0), d = 0;
            for (int j = 0; j < gb[i].length; j++) d = Math.max(d, Math.abs(gb[i][j] - serial[i][j]));
            assertTrue(d <= 1e-6 * max, "dBlock " + i + " segmented vs serial reduce: max |diff| " + d + " > 1e-6 x " + max + " " + what);
            worst = Math.max(worst, d / max);
          }
          System.out.printf("p3 bwd reduce seg vs serial %s: worst max|diff| / max|dBlock| %.3e%n", what, worst);
          // the outer Grams' default kernel (a twiddle table) against its twin, a sincospif per load, and the other table kernel: the same sincospif values, so
          // the inner blocks are the same bits and the outer ones (dF_1, dG_1) too unless the compiler contracts the complex
          // product differently (an fp32 ulp can flip a 16-bit rounding of an operand: a few 2^-8 flips among ~10^7 terms
          // move a Gram by << 1e-4 relative); the bit count is printed
          System.clearProperty(RED);
          System.setProperty(OG, "twiddle");
          assertThrows(IllegalArgumentException.class, () -> PackedThreePassBackward.ogramKernel(8), "an unknown outer Gram route is refused");
          for (String twin : new String[] {"sincos", "table", "table2"}) {   // table2: rows unrolled by 2 (the default at N1 = 8)
            System.setProperty(OG, twin);
            bw.poisonBlockGrads();
            bw.backward(ub, db, B, du2, gpq, dD);
            double[][] other = bw.blockGrads();
            int same = 0, total = 0;
            for (int i = 0; i < gb.length; i++) {
              if (i != 0 && i != gb.length - 1) assertArrayEquals(gb[i], other[i], 0.0, "inner dBlock " + i + " with the " + twin + " outer Grams " + what);
              else Reference.assertClose("outer dBlock " + i + " default vs " + twin + " " + what, PackedMonarchGpuTest.toF(gb[i]), other[i], 1e-4);
              for (int j = 0; j < gb[i].length; j++, total++) if (Double.doubleToRawLongBits(gb[i][j]) == Double.doubleToRawLongBits(other[i][j])) same++;
            }
            System.out.printf("p3 bwd outer Grams default vs %s %s: %d of %d block-gradient entries the same bits%n", twin, what, same, total);
          }
        } finally {
          if (oldRed == null) System.clearProperty(RED); else System.setProperty(RED, oldRed);
          if (oldOg == null) System.clearProperty(OG); else System.setProperty(OG, oldOg);
        }
      }
    }
  }
}
