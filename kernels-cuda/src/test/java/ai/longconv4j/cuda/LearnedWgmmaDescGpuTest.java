// Shapes: B batch, H channels, L length, Lk taps, N = 1024 = 32 x 32 or 2048 = 32 x 64. u, y, dy, du: (B, H, L);
// k: (H, Lk) (bidirectional: k0, k1); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvPlan;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * lbf10: the pwd kernels (learned_tc_wg.cuh lbw_product_d: pw with its wgmma matrix descriptors built once per block,
 * {@code wgmmaDescriptors}; compute capability 9.0 only, skipped elsewhere) against pw, their slow twin, and lib's
 * LearnedButterfly in float64, forward and du through the non-dumping adjoint chain (conj(Kp)). pwd issues the same wgmmas
 * with the same A registers and the same descriptor values (the start address field + the same offsets) in the same
 * order as pw, so its outputs must equal pw's <b>bit for bit</b> (asserted; a wrong offset, matrix or pass gives order-1
 * errors, a wrong bit anywhere fails). Against float64: 1e-2, LearnedTensorCoreGpuTest's 16-bit budget (four bf16-rounded
 * products of inner size <= 64 and bf16 blocks: ~3e-3 measured, 3x margin); pw within 1e-3 of pc is LearnedWgmmaGpuTest's.
 * Awkward shapes as LearnedWgmmaGpuTest: odd B and B = 1 (a warpgroup's second pair past B must write nothing: the
 * output's tail past B H L stays poisoned), several row iterations per warpgroup, L % 8 != 0, odd L, circular L = N,
 * bidirectional, more channels than SMs; bf16 and fp16; fresh random data per case.
 * pwo (lbw_steps_ov: 16-column passes, one in flight during the previous pass's epilogue) runs the same products per
 * element in the same k order with the same Kp, twiddles and roundings, but on m64n32 instead of m64n64 wgmmas and from
 * another code shape (the compiler may contract the epilogues' multiply-adds differently): within 1e-3 of pw, the bound
 * of LearnedWgmmaGpuTest for pw against pc (one 16-bit rounding flipped somewhere is 2^-8 of that value; a wrong pass,
 * matrix, Kp or twiddle is order 1); the count of values that differ bit for bit is printed.
 */
@Tag("gpu")
class LearnedWgmmaDescGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks per channel (0: automatic)
    Object[][] shapes = {{ConvMode.CAUSAL, 37, 7, 512, 512, 1}, {ConvMode.CAUSAL, 1, 5, 512, 300, 0},
        {ConvMode.CAUSAL, 33, 4, 333, 333, 1}, {ConvMode.CIRCULAR, 17, 3, 1024, 1024, 1}, {ConvMode.BIDIRECTIONAL, 9, 3, 500, 400, 1},
        // N = 2048 = 32 x 64: L = 1K, odd L, circular L = N, B = 1, several iterations, 150 channels
        {ConvMode.CAUSAL, 21, 5, 1024, 1024, 0}, {ConvMode.CAUSAL, 3, 4, 777, 700, 0}, {ConvMode.CIRCULAR, 5, 2, 2048, 2048, 0},
        {ConvMode.CAUSAL, 1, 6, 1000, 900, 0}, {ConvMode.CAUSAL, 19, 2, 1024, 1024, 1}, {ConvMode.CAUSAL, 2, 150, 1024, 1024, 0},
        {ConvMode.BIDIRECTIONAL, 7, 3, 1000, 800, 1}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5])));
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} gx={6}")
  @MethodSource("cases")
  void pwdAndPwoMatchPwAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, int gx) {
    assumeTrue(dev.computeCapability() == 90, "the pw / pwd kernels run on compute capability 9.0 only: " + dev);
    var rng = new SplittableRandom(4099L * L + 41L * B + 13L * H + io.ordinal() + 7L * mode.ordinal());
    var lc = LearnedCase.draw(rng, io, mode, B, H, L, Lk);
    ConvPlan plan = lc.plan();
    assertEquals(32, plan.factors().get(0), "the chained pair kernels run at N1 = 32: " + plan);
    String[] names = {"pw", "pwd", "pwo"};
    LearnedButterflyConv[] plans = new LearnedButterflyConv[names.length];
    try {
      for (int i = 0; i < names.length; i++)
        plans[i] = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(lc.blocks()).pairRows(true).pairTwiddleTable(true).chainRows(true)
            .batchRows(false).wgmmaRows(true).wgmmaDescriptors(names[i].equals("pwd")).wgmmaOverlap(names[i].equals("pwo")).wgmmaTwiddleTable(false).blocksPerChannel(gx).tensorCoreGradients(false);
      for (int i = 0; i < names.length; i++) {
        String suffix = "_" + plan.factors().get(0) + "x" + plan.factors().get(1) + names[i];
        assertTrue(plans[i].tensorCoreKernel(false).endsWith(suffix), plans[i].tensorCoreKernel(false) + ", want " + suffix);
      }
      String what = io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " gx=" + gx;
      float[][][] r = lc.runAgainstFirst(dev, names, plans, what);
      for (int k = 0; k < 2; k++) {
        float[] a = r[k][0], b = r[k][1];
        int diff = 0;
        for (int j = 0; j < a.length; j++) if (Float.floatToRawIntBits(a[j]) != Float.floatToRawIntBits(b[j])) diff++;
        assertEquals(0, diff, (k == 0 ? "forward" : "du") + ": pwd values differing from pw bit for bit, " + what);
      }
    } finally {
      for (var c : plans) if (c != null) c.close();
    }
  }
}
