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
 * against pc (their slow twin; at 32 x 32 also pc2p, the default before)
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
    short[] u16 = lc.u16(), dy16 = lc.dy16();
    float[] k0 = lc.k0(), k1 = lc.k1(), D = lc.D();
    boolean bi = lc.bidirectional();
    ConvPlan plan = lc.plan();
    double[][] blocks = lc.blocks();
    assertEquals(32, plan.factors().get(0), "the chained pair kernels run at N1 = 32: " + plan);
    double[] yRef = lc.yRef(), duRef = lc.duRef();
    int n = B * H * L, tail = 64;   // tail: 16-bit values past B H L that must stay poisoned
    boolean n32 = plan.factors().get(1) == 32;
    String[] names = n32 ? new String[] {"pc", "pc2p", "pw", "pw2p"} : new String[] {"pc", "pw"};
    LearnedButterflyConv[] plans = new LearnedButterflyConv[names.length];
    try (var du = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc(2L * (n + tail));
         var dk = dev.alloc(4L * (bi ? 2 : 1) * H * Lk); var dD = dev.alloc(4L * H)) {
      for (int i = 0; i < names.length; i++)
        plans[i] = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).pairRows(true).pairTwiddleTable(true).chainRows(true)
            .batchRows(names[i].endsWith("2p")).persistentBlocks(names[i].equals("pc2p")).wgmmaRows(names[i].startsWith("pw"))
            .blocksPerChannel(gx).tensorCoreGradients(false);
      String what = io + " " + mode + " B=" + B + " H=" + H + " L=" + L + " gx=" + gx;
      float[][] y = new float[names.length][], g = new float[names.length][];
      for (int i = 0; i < names.length; i++) {
        var c = plans[i];
        String suffix = "_" + plan.factors().get(0) + "x" + plan.factors().get(1) + names[i];
        assertTrue(c.tensorCoreKernel(false).endsWith(suffix), c.tensorCoreKernel(false) + ", want " + suffix);
        if (bi) c.setWeights(k0, k1, D); else c.setWeights(k0, D);
        out.fill32(0x7fc07fc0);
        c.forward(du, out, B);
        short[] all = LearnedBatchRowsGpuTest.read(out, n + tail);
        y[i] = HalfFloats.decode(java.util.Arrays.copyOf(all, n), io);
        for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], names[i] + " forward wrote past B H L at " + j + ": " + what);
        out.fill32(0x7fc07fc0);
        c.backward(du, ddy, B, out, dk, dD);   // du through the non-dumping adjoint chain (fp32 gradient route)
        all = LearnedBatchRowsGpuTest.read(out, n + tail);
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
    } finally {
      for (var c : plans) if (c != null) c.close();
    }
  }
}
