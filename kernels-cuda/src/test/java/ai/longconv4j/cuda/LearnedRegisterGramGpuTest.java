// Shapes: B batch, H channels, L length, Lk taps, N = N1 * N2 in {1024 = 32x32, 2048 = 32x64}, and N1 = 16 shapes (256,
// 512); registerGrams applies at 32 x 64 only (it must stay off elsewhere). u, dy, du: (B, H, L); k: (H, Lk) (bidirectional: k0, k1, dk (2, H, Lk));
// D, dD: (H); block gradients lib's layout {dFa, dFb, dGb, dGa}.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LearnedButterfly;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * lbf9's backward variants against the current route (lbf8's defaults pinned: chainGrams, vectorDd, pdcg1 with the
 * Gram accumulators in shared memory, lbt_gram_*_a_async with two buffers) on the same data, and all against lib's
 * LearnedButterfly backward in float64:
 * - {@code registerGrams} (learned_tc_gram.cu 32x64pdcg1r: dGa / dFa accumulators in registers, 12 warps as pdcg1),
 * - {@code gramStages(3)} / {@code gramStages(4)} (learned_tc_bwd.cu lbt_gram_*_a_async3 / _async4: dFb / dGb with a
 *   deeper cp.async pipeline; _async4 on a grid of three blocks per SM),
 * - {@code constGramLoads} (lbt_gram_*_asyncs / _async3s / _async4s: the same row loads with compile-time chunk counts),
 * - {@code gramRowPairs} (lbt_gram_*_a_asyncp at N2 = 32: two rows per step, warps 0-3 and 4-7, summed at the end),
 * - combinations.
 * Fresh random data per case (LearnedCase: trained-state blocks), outputs poisoned (NaN) before every backward; awkward
 * shapes: odd B, odd L and L % 8 != 0 (the Gram kernels' synchronous path), several row iterations per pair, two blocks
 * per channel (gx = 2), bidirectional, circular L = N at 32 x 32 (two V row tiles: pdcg2), 32 x 32 with one tile (pdcg1)
 * and N1 = 16 (f2cg) where registerGrams must fall back, B H = 415 rows > three blocks per SM on the H200's 132 SMs (so
 * that _async4's grid differs from _async's), and B H = 1147 (16 x 32), 1128 (32 x 32), 1111 (32 x 64) rows > twice the
 * Gram grid of four blocks per SM (added after sitting lbf9-3, not yet run: below 528 rows every Gram block takes one
 * row, so neither a block's later rows nor gramRowPairs' second warp group were exercised); bf16 and fp16.
 * Tolerances. Against float64: LearnedTensorCoreGpuTest's budget for the tensor-core route (du, block gradients 1e-2,
 * dk 1e-2 * sqrt(N / Lk), dD 1e-5). Against the current route:
 * - du, dk, dD: the same chain code, the same dumped slots, the same dKp / dD kernel: 1e-6 (0 expected).
 * - dGa, dFa with registerGrams: the same 16-bit products summed per lane over the same rows in the same order (the
 *   same 12-warp grid; the shared-memory round trip of pdcg1 is exact): 1e-6 (0 expected).
 * - dFb, dGb (and dGa, dFa by the _b Grams without chainGrams, compared with that route) with constGramLoads: the same
 *   copies, the same kernel otherwise: 1e-6 (0 expected).
 * - dFb, dGb with gramStages: 3 stages keep the grid (four blocks per SM) and each block's rows and their order, and the
 *   same MMAs: 0 expected; 4 stages run three blocks per SM (where B H exceeds that many blocks), so the rows are
 *   spread over fewer partials: fp32 re-association only, ~sqrt(#partials) * 2^-24 relative; bound 1e-5 (lbf8's bound
 *   for the same re-association). gramRowPairs: the same products, each warp group summing every other row, the two
 *   groups added at the end: the same re-association bound 1e-5. Otherwise 1e-6.
 */
@Tag("gpu")
class LearnedRegisterGramGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks per channel (0: automatic), whether registerGrams applies
    Object[][] shapes = {{ConvMode.CAUSAL, 37, 6, 512, 512, 0, false}, {ConvMode.CAUSAL, 33, 4, 333, 333, 2, false},
        {ConvMode.CAUSAL, 13, 5, 301, 250, 0, false}, {ConvMode.BIDIRECTIONAL, 9, 3, 500, 400, 0, false},
        {ConvMode.CAUSAL, 83, 5, 256, 256, 0, false}, {ConvMode.CAUSAL, 37, 31, 256, 256, 0, false},
        {ConvMode.CAUSAL, 24, 47, 300, 300, 0, false}, {ConvMode.CAUSAL, 11, 101, 1000, 1000, 0, true},
        {ConvMode.CIRCULAR, 11, 3, 1024, 1024, 0, false}, {ConvMode.CAUSAL, 29, 5, 1024, 1024, 0, true},
        {ConvMode.CAUSAL, 19, 2, 777, 700, 2, true}, {ConvMode.CAUSAL, 25, 3, 1000, 999, 0, true},
        {ConvMode.CAUSAL, 5, 7, 100, 100, 0, false}, {ConvMode.CAUSAL, 31, 5, 201, 150, 0, false},
        {ConvMode.CIRCULAR, 7, 3, 512, 512, 2, false}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5], s[6])));
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} gx={6} covered={7}")
  @MethodSource("cases")
  void registerGramsAndStagesMatchCurrentAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, int gx, boolean covered) {
    var rng = new SplittableRandom(7919L * L + 131L * B + 29L * H + io.ordinal() + 3L * mode.ordinal() + gx);
    var lc = LearnedCase.draw(rng, io, mode, B, H, L, Lk);
    short[] u16 = lc.u16(), dy16 = lc.dy16();
    boolean bi = lc.bidirectional();
    ConvPlan plan = lc.plan();
    double[][] blocks = lc.blocks();
    LearnedButterfly.Grads gRef = lc.gradsRef();
    double[] dkRef = ConvCase.gpuKernelLayout(gRef.conv().dk(), H, Lk, bi);   // GPU layout (sides, H, Lk)
    int n = B * H * L, nk = (bi ? 2 : 1) * H * Lk, N = plan.fftSize(), n1 = plan.factors().get(0);
    String what = io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " gx=" + gx;
    String[] names = {"dFa", "dFb", "dGb", "dGa"};
    String[] routes = {"current ", "registerGrams ", "gramStages 3 ", "gramStages 4 ", "registerGrams + gramStages 3 ",
        "constGramLoads ", "constGramLoads + gramStages 3 ", "constGramLoads + gramStages 4 + registerGrams ",
        "no chainGrams ", "no chainGrams + constGramLoads ", "gramRowPairs ", "gramRowPairs + all "};
    boolean[] rg = {false, true, false, false, true, false, false, true, false, false, false, true},
        gl = {false, false, false, false, false, true, true, true, false, true, false, true},
        cgs = {true, true, true, true, true, true, true, true, false, false, true, true},
        rps = {false, false, false, false, false, false, false, false, false, false, true, true};
    int[] st = {2, 2, 3, 4, 3, 2, 3, 4, 2, 2, 2, 3};
    int[] base = {0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 0, 0};   // the route each is compared with (8: the _b Grams with and without)
    int R = routes.length;
    float[][] du = new float[R][], dk = new float[R][], dD = new float[R][];
    double[][][] gb = new double[R][][];
    LearnedButterflyConv[] plans = new LearnedButterflyConv[R];
    try (var du16 = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc((2L * n + 3) / 4 * 4);
         var dkb = dev.alloc(4L * nk); var dDb = dev.alloc(4L * H)) {
      for (int i = 0; i < R; i++)
        plans[i] = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(cgs[i])
            .vectorDd(true).asyncGrams(true).registerGrams(rg[i]).gramStages(st[i]).constGramLoads(gl[i])
            .gramRowPairs(rps[i]);   // the current route: i = 0
      assertFalse(plans[0].registerGrams(), plans[0].toString());
      assertEquals(covered, plans[1].registerGrams(), "registerGrams route for " + what);
      assertEquals(covered ? plans[0].chainGramKernel() + "r" : plans[0].chainGramKernel(), plans[1].chainGramKernel(), what);
      assertEquals(3, plans[2].gramStages(), what);
      assertFalse(plans[0].constGramLoads(), what);
      assertFalse(plans[0].gramRowPairs(), what);
      assertEquals(N / n1 == 32, plans[10].gramRowPairs(), what);
      assertThrows(IllegalArgumentException.class, () -> plans[0].gramStages(5));
      for (int i = 0; i < R; i++) {
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
      double[] seen = new double[4];
      for (int i = 1; i < R; i++) {
        if (i == base[i]) continue;
        int j = base[i];
        String w = routes[i] + "vs " + routes[j] + what;
        Reference.assertClose("du " + w, du[i], LearnedTensorCoreGpuTest.toD(du[j]), 1e-6);
        Reference.assertClose("dk " + w, dk[i], LearnedTensorCoreGpuTest.toD(dk[j]), 1e-6);
        Reference.assertClose("dD " + w, dD[i], LearnedTensorCoreGpuTest.toD(dD[j]), 1e-6);
        // dFb, dGb: three blocks per SM against four (4 stages, without row pairs), or two warp groups summed (row pairs)
        boolean reassocB = rps[i] && plans[i].gramRowPairs() || st[i] == 4 && !plans[i].gramRowPairs();
        for (int b = 0; b < 4; b++) {
          boolean a = b == 0 || b == 3;
          double tol = !a && reassocB ? 1e-5 : 1e-6;
          float[] x = LearnedTensorCoreGpuTest.toF(gb[i][b]);
          Reference.assertClose(names[b] + " " + w, x, gb[j][b], tol);
          seen[b] = Math.max(seen[b], Reference.relErr(x, gb[j][b]));
        }
      }
      System.out.printf("registerGrams / gramStages %s (%s): max rel vs current dFa %.3e dFb %.3e dGb %.3e dGa %.3e; current vs lib dFa %.3e dGb %.3e%n",
          what, plans[1].chainGramKernel(), seen[0], seen[1], seen[2], seen[3],
          Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[0][0]), gRef.dBlocks()[0]), Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[0][2]), gRef.dBlocks()[2]));
    } finally {
      for (var p : plans) if (p != null) p.close();
    }
  }
}
