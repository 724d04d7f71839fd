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
 * The pw kernels (learned_tc_wg.cuh: the chained pair kernel with steps 2 and 3 on Hopper's wgmma, {@code wgmmaRows};
 * compute capability 9.0 only, skipped elsewhere) and at 32 x 32 pw2p (pc2p's two rows per pair, persistent, on wgmma)
 * against pc (their slow twin; at 32 x 32 also pc2p, the default before); pw itself, with {@code wgmmaDescriptors(false)}
 * (pwd, the default since lbf10, against pw: LearnedWgmmaDescGpuTest)
 * and lib's LearnedButterfly in float64, forward and du through the non-dumping adjoint chain (conj(Kp)). Awkward shapes:
 * odd B and B = 1 (a warpgroup's second pair, or a pair's second row, past B computes on the first row's x and must write nothing: the output's
 * tail past B H L stays poisoned), several row iterations per warpgroup (blocksPerChannel 1: the x stages' double
 * buffer), L % 8 != 0 (synchronous x loads), odd L (element stores), circular L = N (every row tile), bidirectional,
 * more channels than persistent blocks (pw2p); bf16 and fp16; fresh random data per case.
 * Tolerances: pw runs pc's products (same k order per element), roundings, twiddles and Kp per row, but a wgmma's fp32
 * sums may be associated differently from the mma.sync chains, which can flip single 16-bit roundings of the
 * intermediates (one bf16 ulp, 2^-8 relative, of that value): bound 1e-3 (lbf5's bound for pc's variants, norm-relative),
 * far below one product's rounding noise (~1e-3 rms per bf16 product) while a wrong block half, sign, twiddle, Kp or row
 * gives order-1 errors. Against float64: 1e-2, LearnedTensorCoreGpuTest's 16-bit budget (four bf16-rounded products of
 * inner size <= 64 and bf16 blocks: ~3e-3 measured, 3x margin).
 */
@Tag("gpu")
class LearnedWgmmaGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks per channel (0: automatic)
    Object[][] shapes = {{ConvMode.CAUSAL, 37, 7, 512, 512, 1}, {ConvMode.CAUSAL, 1, 5, 512, 300, 0},
        {ConvMode.CAUSAL, 64, 3, 504, 504, 2}, {ConvMode.CAUSAL, 33, 4, 333, 333, 1}, {ConvMode.CAUSAL, 18, 3, 300, 250, 0},
        {ConvMode.CIRCULAR, 17, 3, 1024, 1024, 1}, {ConvMode.BIDIRECTIONAL, 9, 3, 500, 400, 1},
        {ConvMode.CAUSAL, 3, 150, 512, 512, 0},
        // N = 2048 = 32 x 64: L = 1K, odd L, circular L = N (kt = 4), B = 1, several iterations
        {ConvMode.CAUSAL, 21, 5, 1024, 1024, 0}, {ConvMode.CAUSAL, 3, 4, 777, 700, 0}, {ConvMode.CIRCULAR, 5, 2, 2048, 2048, 0},
        {ConvMode.CAUSAL, 1, 6, 1000, 900, 0}, {ConvMode.CAUSAL, 19, 2, 1024, 1024, 1}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5])));
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} gx={6}")
  @MethodSource("cases")
  void pwMatchesPcAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, int gx) {
    assumeTrue(dev.computeCapability() == 90, "the pw kernels run on compute capability 9.0 only: " + dev);
    var rng = new SplittableRandom(2003L * L + 37L * B + 11L * H + io.ordinal() + 5L * mode.ordinal());
    var lc = LearnedCase.draw(rng, io, mode, B, H, L, Lk);
    ConvPlan plan = lc.plan();
    assertEquals(32, plan.factors().get(0), "the chained pair kernels run at N1 = 32: " + plan);
    boolean n32 = plan.factors().get(1) == 32;
    String[] names = n32 ? new String[] {"pc", "pc2p", "pw", "pw2p"} : new String[] {"pc", "pw"};
    LearnedButterflyConv[] plans = new LearnedButterflyConv[names.length];
    try {
      for (int i = 0; i < names.length; i++)
        plans[i] = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(lc.blocks()).pairRows(true).pairTwiddleTable(true).chainRows(true)
            .batchRows(names[i].endsWith("2p")).persistentBlocks(names[i].equals("pc2p")).wgmmaRows(names[i].startsWith("pw"))
            .wgmmaDescriptors(false).blocksPerChannel(gx).tensorCoreGradients(false);
      for (int i = 0; i < names.length; i++) {
        String suffix = "_" + plan.factors().get(0) + "x" + plan.factors().get(1) + names[i];
        assertTrue(plans[i].tensorCoreKernel(false).endsWith(suffix), plans[i].tensorCoreKernel(false) + ", want " + suffix);
      }
      lc.runAgainstFirst(dev, names, plans, io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " gx=" + gx);
    } finally {
      for (var c : plans) if (c != null) c.close();
    }
  }
}
