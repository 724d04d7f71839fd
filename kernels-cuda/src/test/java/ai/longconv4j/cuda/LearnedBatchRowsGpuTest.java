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
    short[] u16 = lc.u16(), dy16 = lc.dy16();
    float[] k0 = lc.k0(), k1 = lc.k1(), D = lc.D();
    boolean bi = lc.bidirectional();
    ConvPlan plan = lc.plan();
    double[][] blocks = lc.blocks();
    assertEquals(32, plan.factors().get(0), "the chained pair kernels run at N1 = 32: " + plan);
    double[] yRef = lc.yRef(), duRef = lc.duRef();
    int n = B * H * L, tail = 64;   // tail: 16-bit values past B H L that must stay poisoned
    boolean n32 = plan.factors().get(1) == 32;
    // the twin pc first, then pcp (persistent, one row per pair) and at 32 x 32 pc2 (two rows per pair) and pc2p
    String[] names = n32 ? new String[] {"pc", "pcp", "pc2", "pc2p"} : new String[] {"pc", "pcp"};
    LearnedButterflyConv[] plans = new LearnedButterflyConv[names.length];
    try (var du = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc(2L * (n + tail));
         var dk = dev.alloc(4L * (bi ? 2 : 1) * H * Lk); var dD = dev.alloc(4L * H)) {
      for (int i = 0; i < names.length; i++)
        plans[i] = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).pairRows(true).pairTwiddleTable(true).chainRows(true)
            .batchRows(names[i].startsWith("pc2")).persistentBlocks(names[i].endsWith("p")).wgmmaRows(false).pairWarps(warps).blocksPerChannel(gx)
            .tensorCoreGradients(false);
      String what = io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " gx=" + gx + " warps=" + warps;
      float[][] y = new float[names.length][], g = new float[names.length][];
      for (int i = 0; i < names.length; i++) {
        var c = plans[i];
        String suffix = "_" + plan.factors().get(0) + "x" + plan.factors().get(1) + names[i];
        assertTrue(c.tensorCoreKernel(false).endsWith(suffix) && c.tensorCoreKernel(true).endsWith(plan.factors().get(1) + "pdc"),
            c.tensorCoreKernel(false) + " / " + c.tensorCoreKernel(true) + ", want " + suffix);
        if (bi) c.setWeights(k0, k1, D); else c.setWeights(k0, D);
        out.fill32(0x7fc07fc0);
        c.forward(du, out, B);
        short[] all = read(out, n + tail);
        y[i] = HalfFloats.decode(java.util.Arrays.copyOf(all, n), io);
        for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], names[i] + " forward wrote past B H L at " + j + ": " + what);
        out.fill32(0x7fc07fc0);
        c.backward(du, ddy, B, out, dk, dD);   // du through the non-dumping adjoint chain (fp32 gradient route)
        all = read(out, n + tail);
        g[i] = HalfFloats.decode(java.util.Arrays.copyOf(all, n), io);
        for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], names[i] + " du wrote past B H L at " + j + ": " + what);
        Reference.assertClose(names[i] + " forward vs lib " + what, y[i], yRef, 1e-2);
        Reference.assertClose(names[i] + " du vs lib " + what, g[i], duRef, 1e-2);
        if (i == 0) continue;
        Reference.assertClose(names[i] + " forward vs pc " + what, y[i], LearnedTensorCoreGpuTest.toD(y[0]), 1e-3);
        Reference.assertClose(names[i] + " du vs pc " + what, g[i], LearnedTensorCoreGpuTest.toD(g[0]), 1e-3);
        int diff = 0, diffG = 0;
        for (int j = 0; j < n; j++) {
          if (Float.floatToRawIntBits(y[i][j]) != Float.floatToRawIntBits(y[0][j])) diff++;
          if (Float.floatToRawIntBits(g[i][j]) != Float.floatToRawIntBits(g[0][j])) diffG++;
        }
        System.out.printf("%s %s: forward rel err vs pc %.3e (%d of %d values differ), vs lib %.3e; du vs pc %.3e (%d differ), vs lib %.3e%n",
            names[i], what, Reference.relErr(y[i], LearnedTensorCoreGpuTest.toD(y[0])), diff, n, Reference.relErr(y[i], yRef),
            Reference.relErr(g[i], LearnedTensorCoreGpuTest.toD(g[0])), diffG, Reference.relErr(g[i], duRef));
      }
      if (n32)   // pc2p runs pc2's code per row
        for (int j = 0; j < n; j++) {
          assertEquals(Float.floatToRawIntBits(y[2][j]), Float.floatToRawIntBits(y[3][j]), "pc2p vs pc2 forward at " + j + ": " + what);
          assertEquals(Float.floatToRawIntBits(g[2][j]), Float.floatToRawIntBits(g[3][j]), "pc2p vs pc2 du at " + j + ": " + what);
        }
    } finally {
      for (var c : plans) if (c != null) c.close();
    }
  }

  static short[] read(DeviceBuffer b, int n) {
    dev.stream().synchronize();
    return b.copyTo(new short[n], 0);
  }
}
