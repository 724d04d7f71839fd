// Shapes: B batch, H channels, L length, Lk taps, N = N1 * N2 in {1024 = 32x32, 2048 = 32x64} (N1 = 16 shapes: the
// route must stay off). u, dy, du: (B, H, L); k: (H, Lk) (bidirectional: k0, k1, dk (2, H, Lk)); D, dD: (H); block
// gradients lib's layout {dFa, dFb, dGb, dGa}.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LearnedButterfly;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-core backward with dGa / dFa inside the dumping chains ({@code chainGrams}: learned_tc_gram.cu, pdcg1 /
 * pdcg2) and with dD on 16-byte loads ({@code vectorDd}: lbt_dkp3), against the current route (their slow twins: X3
 * dumped, lbt_gram_*_b, lbt_dkp2 / lbt_dkp) on the same data, and all against lib's LearnedButterfly backward in float64.
 * Fresh random data per case (LearnedCase: trained-state blocks), outputs poisoned (NaN) before every backward; awkward
 * shapes: odd B, odd L (the V loads and dD take their element paths), L % 8 != 0, several row iterations per pair / warp,
 * two blocks per channel (gx = 2: two partials per channel), bidirectional, circular L = N at 32 x 32 (two V row tiles:
 * pdcg2) and at 32 x 64 (not covered: the route must fall back), N1 = 16 (f2cg: 16 x 16 and 16 x 32, causal and
 * circular); bf16 and fp16.
 * Tolerances. Against float64: LearnedTensorCoreGpuTest's budget for the tensor-core route (du, block gradients 1e-2,
 * dk 1e-2 * sqrt(N / Lk), dD 1e-5). Against the current route:
 * - du, dFb, dGb, dk: the same chain code and the same dumped slots X1, C, P (only X3's is not written, and only the
 *   replaced Gram kernels read it), the same Gram / dKp kernels: 1e-6 (0 expected).
 * - dGa, dFa: the same products (the 16-bit X3 that the dump would hold, the same 16-bit V; exact in fp32) summed in
 *   another order (per pair over its rows, pairs in order, blocks by lbt_gram_reduce(2), against per-block MMA sums
 *   over strided rows, then the same reduction): fp32 re-association only, ~sqrt(#partial sums) * 2^-24 relative to
 *   the partial sums, which for rows of random sign are no larger than ~the total: bound 1e-5 (lbf7's bound for
 *   lbt_gram_reduce2, ~100x the expected ~1e-7).
 * - dD with vectorDd: the B * L products (each exact in fp32: 16-bit inputs) summed in another association (8 per
 *   thread and chunk, strided over 256 threads, a warp tree, 8 warps) against lbt_dkp2's: each route's error is
 *   ~2^-24 * sqrt(B L) relative to |dD| for random-sign products (<= 1e-5 at B L <= 21504, see the budget vs lib), so
 *   the difference is bounded by 3e-5 (the sum of both routes' bounds plus margin).
 */
@Tag("gpu")
class LearnedChainGramGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks per channel (0: automatic), whether chainGrams applies
    Object[][] shapes = {{ConvMode.CAUSAL, 37, 6, 512, 512, 0, true}, {ConvMode.CAUSAL, 33, 4, 333, 333, 2, true},
        {ConvMode.CAUSAL, 13, 5, 301, 250, 0, true}, {ConvMode.BIDIRECTIONAL, 9, 3, 500, 400, 0, true},
        {ConvMode.CIRCULAR, 11, 3, 1024, 1024, 0, true}, {ConvMode.CAUSAL, 21, 5, 1024, 1024, 0, true},
        {ConvMode.CAUSAL, 19, 2, 777, 700, 2, true}, {ConvMode.CAUSAL, 25, 3, 1000, 999, 0, true},
        {ConvMode.CIRCULAR, 5, 3, 2048, 2048, 0, false}, {ConvMode.CAUSAL, 5, 7, 100, 100, 0, true},
        {ConvMode.CAUSAL, 23, 4, 256, 256, 2, true}, {ConvMode.CIRCULAR, 7, 3, 512, 512, 0, true}, {ConvMode.CAUSAL, 31, 5, 201, 150, 0, true},
        {ConvMode.CIRCULAR, 3, 4, 256, 256, 2, true}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5], s[6])));
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} gx={6} covered={7}")
  @MethodSource("cases")
  void chainGramsMatchCurrentAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, int gx, boolean covered) {
    var rng = new SplittableRandom(104729L * L + 31L * B + 17L * H + io.ordinal() + 5L * mode.ordinal() + gx);
    var lc = LearnedCase.draw(rng, io, mode, B, H, L, Lk);
    short[] u16 = lc.u16(), dy16 = lc.dy16();
    boolean bi = lc.bidirectional();
    ConvPlan plan = lc.plan();
    double[][] blocks = lc.blocks();
    LearnedButterfly.Grads gRef = lc.gradsRef();
    double[] dkRef = ConvCase.gpuKernelLayout(gRef.conv().dk(), H, Lk, bi);   // GPU layout (sides, H, Lk)
    int n = B * H * L, nk = (bi ? 2 : 1) * H * Lk, N = plan.fftSize();
    String what = io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " gx=" + gx;
    String[] names = {"dFa", "dFb", "dGb", "dGa"};
    String[] routes = {"current ", "chainGrams ", "chainGrams + vectorDd ", "vectorDd "};
    float[][] du = new float[4][], dk = new float[4][], dD = new float[4][];
    double[][][] gb = new double[4][][];
    try (var cur = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(false).vectorDd(false);
         var cg = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(true).vectorDd(false);
         var cgv = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(true).vectorDd(true);
         var vd = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(false).vectorDd(true);
         var du16 = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc((2L * n + 3) / 4 * 4);
         var dkb = dev.alloc(4L * nk); var dDb = dev.alloc(4L * H)) {
      assertEquals(covered, cg.chainGrams(), "chainGrams route for " + what + ": " + cg);
      assertFalse(cur.chainGrams(), cur.toString());
      if (covered) {
        int n1 = plan.factors().get(0), n2 = N / n1, tiles = ((L + n2 - 1) / n2 + 15) / 16;
        assertEquals("lbt_forward_" + io.tag() + "_" + n1 + "x" + n2 + (n1 == 16 ? "f2cg" : "pdcg" + tiles) + (cg.registerGrams() ? "r" : ""),
            cg.chainGramKernel(), what);   // lbf9: pdcg1r at 32 x 64 with registerGrams (the default since lbf9-2)
      }
      LearnedButterflyConv[] plans = {cur, cg, cgv, vd};
      for (int i = 0; i < 4; i++) {
        var r = lc.backwardPoisoned(plans[i], du16, ddy, out, dkb, dDb);
        du[i] = r.du();
        dk[i] = r.dk();
        dD[i] = r.dD();
        gb[i] = r.blockGrads();
        String w = routes[i] + what;
        Reference.assertClose("du vs lib " + w, du[i], gRef.conv().du(), 1e-2);
        Reference.assertClose("dk vs lib " + w, dk[i], dkRef, 1e-2 * Math.sqrt((double) N / Lk));
        Reference.assertClose("dD vs lib " + w, dD[i], gRef.conv().dD(), 1e-5);
        for (int b = 0; b < 4; b++) Reference.assertClose(names[b] + " vs lib " + w, LearnedTensorCoreGpuTest.toF(gb[i][b]), gRef.dBlocks()[b], 1e-2);
      }
      for (int i = 1; i < 4; i++) {
        String w = routes[i] + "vs current " + what;
        boolean grams = i != 3 && covered, ddv = i >= 2;
        Reference.assertClose("du " + w, du[i], LearnedTensorCoreGpuTest.toD(du[0]), 1e-6);
        Reference.assertClose("dk " + w, dk[i], LearnedTensorCoreGpuTest.toD(dk[0]), 1e-6);
        Reference.assertClose("dD " + w, dD[i], LearnedTensorCoreGpuTest.toD(dD[0]), ddv ? 3e-5 : 1e-6);
        for (int b = 0; b < 4; b++)
          Reference.assertClose(names[b] + " " + w, LearnedTensorCoreGpuTest.toF(gb[i][b]), gb[0][b], grams && (b == 0 || b == 3) ? 1e-5 : 1e-6);
      }
      System.out.printf("chainGrams %s (%s): dFa / dGa vs current %.3e / %.3e, vs lib %.3e / %.3e (current %.3e / %.3e); dD vectorDd vs current %.3e%n",
          what, covered ? cg.chainGramKernel() : "not covered", Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[1][0]), gb[0][0]),
          Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[1][3]), gb[0][3]), Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[1][0]), gRef.dBlocks()[0]),
          Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[1][3]), gRef.dBlocks()[3]), Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[0][0]), gRef.dBlocks()[0]),
          Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[0][3]), gRef.dBlocks()[3]), Reference.relErr(dD[3], LearnedTensorCoreGpuTest.toD(dD[0])));
    }
  }
}
