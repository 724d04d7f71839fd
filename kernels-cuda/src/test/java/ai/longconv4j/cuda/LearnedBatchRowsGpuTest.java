// Shapes: B batch, H channels, L length, Lk taps, N = 1024 = 32 x 32 in every case. u, y, dy, du: (B, H, L); k: (H, Lk)
// (bidirectional: k0, k1); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvPlan;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The lbf5 variants of the chained pair kernel (learned_tc_chain2.cuh) against pc, their slow twin, and lib's
 * LearnedButterfly in float64: pcp (persistent blocks, one row per pair; 32 x 32 and 32 x 64), pc2 (two rows of a channel
 * per pair, {@code batchRows}; 32 x 32) and pc2p (pc2 from persistent blocks), forward and du through the adjoint chain
 * (the fp32 gradient route runs the non-dumping kernel with conj(Kp)). Awkward shapes: odd B (a pair's second row past B
 * must write nothing: the output buffer's tail past B H L stays poisoned), B = 1, several row iterations per pair
 * (blocksPerChannel 1: the x stages' double buffer), L % 8 != 0 (synchronous x loads), odd L (element stores), circular
 * L = N (every row tile of input and output), bidirectional, 12 warps per block, more channels than SMs (persistent
 * blocks take several); bf16 and fp16; fresh random data per case.
 * Tolerances: the variants run pc's products, roundings and twiddles per row, so 0 is expected; ptxas may contract fp32
 * operations of the epilogues differently (pc vs pt: 1.9e-5 in lbf4-2), which can flip single 16-bit roundings: bound
 * 1e-3, 30x that, still far below one product's rounding noise (~1e-3 rms per bf16 product; a wrong twiddle, Kp, channel
 * or row mix-up gives order-1 errors); pc2p runs pc2's code per row: asserted bit for bit. Against float64: 1e-2,
 * LearnedTensorCoreGpuTest's 16-bit budget (four bf16-rounded products of inner size <= 64 and bf16 blocks: ~3e-3, 3x
 * margin).
 */
@Tag("gpu")
class LearnedBatchRowsGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks per channel (0: automatic), warps per block
    Object[][] shapes = {{ConvMode.CAUSAL, 37, 7, 512, 512, 1, 16}, {ConvMode.CAUSAL, 1, 5, 512, 300, 0, 16},
        {ConvMode.CAUSAL, 64, 3, 504, 504, 2, 12}, {ConvMode.CAUSAL, 33, 4, 333, 333, 1, 16}, {ConvMode.CAUSAL, 20, 3, 300, 250, 0, 16},
        {ConvMode.CIRCULAR, 17, 3, 1024, 1024, 1, 16}, {ConvMode.BIDIRECTIONAL, 9, 3, 500, 400, 1, 16},
        // N = 2048 = 32 x 64 (pcp only): L = 1K, odd L, circular L = N (kt = 4), B = 1, more channels than blocks
        {ConvMode.CAUSAL, 21, 5, 1024, 1024, 0, 16}, {ConvMode.CAUSAL, 3, 4, 777, 700, 0, 16}, {ConvMode.CIRCULAR, 5, 2, 2048, 2048, 0, 16},
        {ConvMode.CAUSAL, 1, 150, 1000, 900, 0, 16}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4], s[5], s[6])));
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} gx={6} warps={7}")
  @MethodSource("cases")
  void variantsMatchPcAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, int gx, int warps) {
    var rng = new SplittableRandom(1009L * L + 31L * B + 7L * H + io.ordinal() + 3L * mode.ordinal());
    var lc = LearnedCase.draw(rng, io, mode, B, H, L, Lk);
    ConvPlan plan = lc.plan();
    assertEquals(32, plan.factors().get(0), "the chained pair kernels run at N1 = 32: " + plan);
    int n = B * H * L;
    boolean n32 = plan.factors().get(1) == 32;
    // the twin pc first, then pcp (persistent, one row per pair) and at 32 x 32 pc2 (two rows per pair) and pc2p
    String[] names = n32 ? new String[] {"pc", "pcp", "pc2", "pc2p"} : new String[] {"pc", "pcp"};
    LearnedButterflyConv[] plans = new LearnedButterflyConv[names.length];
    try {
      for (int i = 0; i < names.length; i++)
        plans[i] = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(lc.blocks()).pairRows(true).pairTwiddleTable(true).chainRows(true)
            .batchRows(names[i].startsWith("pc2")).persistentBlocks(names[i].endsWith("p")).wgmmaRows(false).pairWarps(warps).blocksPerChannel(gx)
            .tensorCoreGradients(false);
      for (int i = 0; i < names.length; i++) {
        var c = plans[i];
        String suffix = "_" + plan.factors().get(0) + "x" + plan.factors().get(1) + names[i];
        assertTrue(c.tensorCoreKernel(false).endsWith(suffix) && c.tensorCoreKernel(true).endsWith(plan.factors().get(1) + "pdc"),
            c.tensorCoreKernel(false) + " / " + c.tensorCoreKernel(true) + ", want " + suffix);
      }
      String what = io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " gx=" + gx + " warps=" + warps;
      float[][][] yg = lc.runAgainstFirst(dev, names, plans, what);
      float[][] y = yg[0], g = yg[1];
      if (n32)   // pc2p runs pc2's code per row
        for (int j = 0; j < n; j++) {
          assertEquals(Float.floatToRawIntBits(y[2][j]), Float.floatToRawIntBits(y[3][j]), "pc2p vs pc2 forward at " + j + ": " + what);
          assertEquals(Float.floatToRawIntBits(g[2][j]), Float.floatToRawIntBits(g[3][j]), "pc2p vs pc2 du at " + j + ": " + what);
        }
    } finally {
      for (var c : plans) if (c != null) c.close();
    }
  }
}
