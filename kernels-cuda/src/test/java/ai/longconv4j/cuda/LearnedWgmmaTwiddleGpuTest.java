// Shapes: B batch, H channels, L length, Lk taps, N = 2048 = 32 x 64 (and 1024 = 32 x 32 for the fallback). u, y, dy, du:
// (B, H, L); k: (H, Lk) (bidirectional: k0, k1); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.conv.ConvPlan;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * lbf11: the pwt kernels (learned_tc_wg.cuh lbw_tw3_build / lbw_steps TT: pwd with step 3's twiddles read from a block
 * table instead of the per-row recurrence, {@code wgmmaTwiddleTable}; 32 x 64 on compute capability 9.0 only, skipped
 * elsewhere) against pwd, the current default and their slow twin, and lib's LearnedButterfly in float64, forward and du
 * through the non-dumping adjoint chain (conj(Kp)). The table is filled by the same fp32 operations in the same column
 * order from the same start values as the recurrence in the row loop, and everything else is pwd's code, so the outputs
 * must equal pwd's <b>bit for bit</b> (asserted: a wrong row, column, swizzle or table part gives order-1 errors in the
 * affected columns; a different contraction of the recurrence's multiply-adds would show as a few flipped 16-bit
 * roundings and fail the bitwise check too). Against float64: 1e-2, LearnedTensorCoreGpuTest's 16-bit budget (four
 * bf16-rounded products of inner size <= 64 and bf16 blocks: ~3e-3 measured, 3x margin); against pwd also 1e-3 (a
 * bound that still flags an order-1 error if the bitwise check were ever relaxed). Awkward shapes: odd B and B = 1 (a
 * warpgroup's second pair past B writes nothing: the output's tail past B H L stays poisoned), several row iterations
 * per warpgroup, odd L, L % 8 != 0, circular L = N, bidirectional, more channels than SMs; bf16 and fp16; fresh random
 * data per case.
 */
@Tag("gpu")
class LearnedWgmmaTwiddleGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks per channel (0: automatic); all N = 2048 = 32 x 64
    Object[][] shapes = {{ConvMode.CAUSAL, 21, 5, 1024, 1024, 0}, {ConvMode.CAUSAL, 3, 4, 777, 700, 0},
        {ConvMode.CIRCULAR, 5, 2, 2048, 2048, 0}, {ConvMode.CAUSAL, 1, 6, 1000, 900, 0}, {ConvMode.CAUSAL, 19, 2, 1024, 1024, 1},
        {ConvMode.CAUSAL, 2, 150, 1024, 1024, 0}, {ConvMode.BIDIRECTIONAL, 7, 3, 1000, 800, 1}, {ConvMode.CAUSAL, 64, 3, 1021, 1021, 1}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5])));
  }

  static LearnedButterflyConv plan(CudaDevice dev, LearnedCase lc, int H, int L, int Lk, ConvMode mode, ElementType io, boolean table, int gx) {
    return LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(lc.blocks()).pairRows(true).pairTwiddleTable(true).chainRows(true)
        .batchRows(false).wgmmaRows(true).wgmmaDescriptors(true).wgmmaOverlap(false).wgmmaTwiddleTable(table).blocksPerChannel(gx)
        .tensorCoreGradients(false);
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} gx={6}")
  @MethodSource("cases")
  void pwtMatchesPwdBitwiseAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, int gx) {
    assumeTrue(dev.computeCapability() == 90, "the pw / pwd / pwt kernels run on compute capability 9.0 only: " + dev);
    var rng = new SplittableRandom(8191L * L + 43L * B + 17L * H + io.ordinal() + 5L * mode.ordinal());
    var lc = LearnedCase.draw(rng, io, mode, B, H, L, Lk);
    ConvPlan plan = lc.plan();
    assertEquals(32, plan.factors().get(0), "pwt runs at N1 = 32: " + plan);
    assertEquals(64, plan.factors().get(1), "pwt runs at N2 = 64: " + plan);
    String[] names = {"pwd", "pwt"};
    LearnedButterflyConv[] plans = new LearnedButterflyConv[names.length];
    try {
      for (int i = 0; i < names.length; i++) plans[i] = plan(dev, lc, H, L, Lk, mode, io, i == 1, gx);
      for (int i = 0; i < names.length; i++) {
        String suffix = "_32x64" + names[i];
        assertTrue(plans[i].tensorCoreKernel(false).endsWith(suffix), plans[i].tensorCoreKernel(false) + ", want " + suffix);
      }
      String what = io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " gx=" + gx;
      float[][][] r = lc.runAgainstFirst(dev, names, plans, what);
      for (int k = 0; k < 2; k++) {
        float[] a = r[k][0], b = r[k][1];
        int diff = 0;
        for (int j = 0; j < a.length; j++) if (Float.floatToRawIntBits(a[j]) != Float.floatToRawIntBits(b[j])) diff++;
        assertEquals(0, diff, (k == 0 ? "forward" : "du") + ": pwt values differing from pwd bit for bit, " + what);
      }
    } finally {
      for (var c : plans) if (c != null) c.close();
    }
  }

  /** At 32 x 32 there is no pwt kernel: the option must fall back to pwd (and give pwd's name). */
  @Test
  void n2Of32FallsBackToPwd() {
    assumeTrue(dev.computeCapability() == 90, "the pw kernels run on compute capability 9.0 only: " + dev);
    var lc = LearnedCase.draw(new SplittableRandom(77), ElementType.BF16, ConvMode.CAUSAL, 5, 3, 512, 512);
    try (var c = plan(dev, lc, 3, 512, 512, ConvMode.CAUSAL, ElementType.BF16, true, 0)) {
      assertFalse(c.wgmmaTwiddleTable(), "pwt applies at N2 = 64 only");
      assertTrue(c.tensorCoreKernel(false).endsWith("_32x32pwd"), c.tensorCoreKernel(false));
    }
  }
}
