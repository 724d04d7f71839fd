// Shapes: B batch, H channels, L length, Lk taps, N = N1 * N2 in {256 = 16x16, 512 = 16x32, 1024 = 32x32, 2048 =
// 32x64}. u, dy, du: (B, H, L); k: (H, Lk) (bidirectional: k0, k1, dk (2, H, Lk)); D, dD: (H); block gradients lib's layout.
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
 * The tensor-core backward with dKp inside the adjoint dumping chain ({@code fusedDkp}: kernels pdck at N1 = 32, f2ck at
 * N1 = 16) against the current route (its slow twin: the adjoint chain dumps C, lbt_dkp sums dKp) on the same data, and
 * both against lib's LearnedButterfly backward in float64. Fresh random data per case, blocks off the DFT, outputs
 * poisoned (NaN) before every backward; awkward shapes: odd B and L, L % 8 != 0, several row iterations per pair
 * (B > rows per block), two blocks per channel (gx = 2: the blocks' dKp partials meet by global atomics), bidirectional
 * (two tap sets), circular L = N; bf16 and fp16.
 * Tolerances. Fused vs current: du, dD and the four block gradients come from the same kernels' code on the same dumps
 * (the adjoint's C slot is the only one not written, and nobody reads it): 1e-6 (0 expected). dKp differs in two ways:
 * the adjoint's C enters in fp32 instead of rounded to 16 bits (one rounding, relative 2^-9 rms at most for bf16 per term
 * i.e. ~1.1e-3 of each product with random signs, fp16 8x less) and the sums over the B rows of a channel run in another
 * order (shared-memory atomics of the pairs, then a global atomic per block when gx > 1, against one sequential fp32 sum
 * per position: fp32 reordering, ~1e-7 relative, negligible next to that); dk = Re(IDFT(dKp))[taps] keeps ~Lk / N of
 * dKp's energy, so a norm-relative dKp difference grows by up to sqrt(N / Lk) in dk: bound 5e-3 * sqrt(N / Lk) (4x the
 * one-rounding rms). Against float64: LearnedTensorCoreGpuTest's budget for the tensor-core route (du, block gradients
 * 1e-2; dk 1e-2 * sqrt(N / Lk); dD 1e-5).
 * The plans pin {@code chainGrams(false)} and {@code vectorDd(false)} (lbf8's defaults since lbf8-2), so that the routes
 * compared are the ones this class was written for (LearnedChainGramGpuTest covers those two).
 * Also the fast reductions ({@code fastReductions}: lbt_gram_reduce2, lbt_dkp2), alone and with fusedDkp. lbt_dkp2 sums
 * the same products in the same order per position as lbt_dkp: dk and dD 1e-6 (0 expected). lbt_gram_reduce2 sums the
 * Gram kernels' G (<= 6 SMs' worth, 528 at 132 SMs) fp32 partials in another association (8 strided sums, then 8 in
 * order): the difference is fp32 rounding of the partial sums, ~sqrt(G) * 2^-24 relative to the partials' magnitude, and
 * the partials of random-sign rows are no larger than ~the total: bound 1e-5 (some 100x above that).
 */
@Tag("gpu")
class LearnedFusedDkpGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks per channel (0: automatic)
    Object[][] shapes = {{ConvMode.CAUSAL, 5, 7, 100, 100, 0}, {ConvMode.CIRCULAR, 3, 4, 256, 256, 2},
        {ConvMode.CAUSAL, 13, 5, 200, 130, 2}, {ConvMode.CAUSAL, 37, 6, 512, 512, 0}, {ConvMode.CAUSAL, 33, 4, 333, 333, 2},
        {ConvMode.BIDIRECTIONAL, 9, 3, 500, 400, 0}, {ConvMode.CAUSAL, 21, 5, 1024, 1024, 0},
        {ConvMode.CAUSAL, 19, 2, 777, 700, 2}, {ConvMode.CIRCULAR, 5, 3, 2048, 2048, 0}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5])));
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} gx={6}")
  @MethodSource("cases")
  void fusedDkpMatchesCurrentAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, int gx) {
    var rng = new SplittableRandom(7919L * L + 53L * B + 13L * H + io.ordinal() + 3L * mode.ordinal() + gx);
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
    float[][] du = new float[4][], dk = new float[4][], dD = new float[4][];
    double[][][] gb = new double[4][][];
    try (var cur = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(false).vectorDd(false).fusedDkp(false).fastReductions(false);
         var fused = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(false).vectorDd(false).fusedDkp(true).fastReductions(false);
         var fast = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(false).vectorDd(false).fusedDkp(false).fastReductions(true);
         var both = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).blocksPerChannel(gx).chainGrams(false).vectorDd(false).fusedDkp(true).fastReductions(true);
         var du16 = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc((2L * n + 3) / 4 * 4);
         var dkb = dev.alloc(4L * nk); var dDb = dev.alloc(4L * H)) {
      assertTrue(fused.fusedDkp(), "fused route not selected: " + fused);
      assertFalse(cur.fusedDkp(), cur.toString());
      String dumpKernel = fused.tensorCoreKernel(true);
      assertTrue(dumpKernel.endsWith(plan.factors().get(0) == 32 ? "pdc" : "f2c"), dumpKernel);
      assertTrue(fast.fastReductions() && both.fusedDkp() && !fast.fusedDkp() && !cur.fastReductions(), fast + " / " + both);
      LearnedButterflyConv[] plans = {cur, fused, fast, both};
      String[] routes = {"current ", "fused ", "fast reductions ", "fused + fast reductions "};
      for (int i = 0; i < 4; i++) {
        var r = lc.backwardPoisoned(plans[i], du16, ddy, out, dkb, dDb);
        du[i] = r.du();
        dk[i] = r.dk();
        dD[i] = r.dD();
        gb[i] = r.blockGrads();
        String w = routes[i] + what;
        double tolK = 1e-2 * Math.sqrt((double) N / Lk);
        Reference.assertClose("du vs lib " + w, du[i], gRef.conv().du(), 1e-2);
        Reference.assertClose("dk vs lib " + w, dk[i], dkRef, tolK);
        Reference.assertClose("dD vs lib " + w, dD[i], gRef.conv().dD(), 1e-5);
        for (int b = 0; b < 4; b++) Reference.assertClose(names[b] + " vs lib " + w, LearnedTensorCoreGpuTest.toF(gb[i][b]), gRef.dBlocks()[b], 1e-2);
      }
      Reference.assertClose("du fused vs current " + what, du[1], LearnedTensorCoreGpuTest.toD(du[0]), 1e-6);
      Reference.assertClose("dD fused vs current " + what, dD[1], LearnedTensorCoreGpuTest.toD(dD[0]), 1e-6);
      for (int b = 0; b < 4; b++)
        Reference.assertClose(names[b] + " fused vs current " + what, LearnedTensorCoreGpuTest.toF(gb[1][b]), gb[0][b], 1e-6);
      Reference.assertClose("dk fused vs current " + what, dk[1], LearnedTensorCoreGpuTest.toD(dk[0]), 5e-3 * Math.sqrt((double) N / Lk));
      // fast reductions vs current (fast), fused + fast vs fused (both): du identical, dk / dD the same sums, Grams 1e-5
      for (int i = 2; i < 4; i++) {
        String w = routes[i] + "vs " + routes[i - 2] + what;
        Reference.assertClose("du " + w, du[i], LearnedTensorCoreGpuTest.toD(du[i - 2]), 1e-6);
        Reference.assertClose("dD " + w, dD[i], LearnedTensorCoreGpuTest.toD(dD[i - 2]), 1e-6);
        if (i == 2) Reference.assertClose("dk " + w, dk[i], LearnedTensorCoreGpuTest.toD(dk[i - 2]), 1e-6);
        else Reference.assertClose("dk " + w, dk[i], LearnedTensorCoreGpuTest.toD(dk[0]), 5e-3 * Math.sqrt((double) N / Lk));
        for (int b = 0; b < 4; b++)
          Reference.assertClose(names[b] + " " + w, LearnedTensorCoreGpuTest.toF(gb[i][b]), gb[i - 2][b], 1e-5);
      }
      System.out.printf("fastReductions %s: blocks vs current %.3e %.3e %.3e %.3e, dk %.3e%n", what,
          Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[2][0]), gb[0][0]), Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[2][1]), gb[0][1]),
          Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[2][2]), gb[0][2]), Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[2][3]), gb[0][3]),
          Reference.relErr(dk[2], LearnedTensorCoreGpuTest.toD(dk[0])));
      System.out.printf("fusedDkp %s (%s): dk vs current %.3e, vs lib %.3e (current vs lib %.3e); du vs current %.3e; blocks vs current %.3e%n",
          what, dumpKernel + "k", Reference.relErr(dk[1], LearnedTensorCoreGpuTest.toD(dk[0])), Reference.relErr(dk[1], dkRef),
          Reference.relErr(dk[0], dkRef), Reference.relErr(du[1], LearnedTensorCoreGpuTest.toD(du[0])),
          Reference.relErr(LearnedTensorCoreGpuTest.toF(gb[1][0]), gb[0][0]));
    }
  }
}
