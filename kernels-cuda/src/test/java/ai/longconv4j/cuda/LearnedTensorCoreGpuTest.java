// Shapes: B batch (odd), H = 111 channels, L length (not a power of two where the mode allows), Lk taps,
// N = N1 * N2 in {256 = 16x16, 512 = 16x32, 1024 = 32x32, 2048 = 32x64}. u, y, dy, du: (B, H, L); k: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.LearnedButterfly;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensor-core learned butterfly (learned_tc.cu: forward and du) against its fp32 twin (learned.cu) and lib's
 * LearnedButterfly in float64, every conv mode, each of the four factorizations, blocks moved off the DFT
 * (+ 0.05 randn, a trained state), outputs poisoned with NaN first. Negative control: the same inputs through blocks at
 * the exact DFT (what a kernel that ignored the learned blocks and did a plain FFT would give) differ from the reference
 * by far more than the tolerance, and the kernel's output is far from it.
 * Tolerances (relative Frobenius error), 16-bit: the blocks are rounded to bf16 (unit roundoff 2^-8 = 3.9e-3, rms
 * ~1.1e-3 per entry), and each of the four products rounds its output once to bf16 (rms ~1.1e-3); over four products of
 * inner size <= 64 with random-sign errors that is ~ sqrt(8) * 1.1e-3 = 3e-3 plus the output's rounding, so 1e-2
 * (3x margin; fp16 is 8x tighter). The twin sees the same 16-bit inputs, so tensor core vs twin uses the same 1e-2.
 * Backward, tensor-core route (the default): du as y; the block gradients and dKp are fp32 sums of products of 16-bit
 * intermediates that went through up to three rounded products (~3e-3 relative each): 1e-2; dk sums N entries of dKp
 * of which the kept Lk taps hold ~Lk/N of the energy: 1e-2 * sqrt(N / Lk); dD sums exact 16-bit products in fp32: 1e-5.
 * The tensor-core route runs twice: Gram kernels one row at a time and with cp.async double buffers (asyncGrams).
 * Then the same plan with the fp32 gradient route (tensorCoreGradients(false)): the tolerances of LearnedButterflyGpuTest.
 */
@Tag("gpu")
class LearnedTensorCoreGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    var shapes = new Object[][] {{ConvMode.CAUSAL, 3, 100, 100}, {ConvMode.CAUSAL, 5, 200, 130}, {ConvMode.CAUSAL, 3, 300, 300},
        {ConvMode.CAUSAL, 1, 1000, 1000}, {ConvMode.BIDIRECTIONAL, 3, 200, 150}, {ConvMode.BIDIRECTIONAL, 3, 500, 400},
        {ConvMode.CIRCULAR, 3, 256, 256}, {ConvMode.CIRCULAR, 3, 512, 200}, {ConvMode.CIRCULAR, 1, 1024, 1024},
        {ConvMode.CIRCULAR, 3, 2048, 2048}, {ConvMode.CAUSAL, 3, 333, 333}};
    // every shape in both types, one warp per row; the N1 = 32 shapes (N >= 1024) also through the split-row kernels
    // (bf16) and the two-warp pair kernels (both types at 16 warps per block, bf16 also at 12; L = 333: odd, 300 / 500:
    // not a multiple of 8), pairt: with the start-value table (compared with the pair kernel), pairc: the chained pair
    // kernels (compared with pairt, their slow twin, on the same input; the backward's dumps run pdc), pairc2 the chained
    // pair kernels on two rows at once (pc2 at 32 x 32, compared with pc, its slow twin; at 32 x 64 it is pc; the fp32
    // gradient route's du runs it as the adjoint chain; the dumps stay pdc), f2c the chained
    // N1 = 16 kernel (compared with f2, both types); the N1 = 16 shapes (N = 256, 512) through the f kernels (both types) and f2 (bf16)
    var n32 = Stream.of(shapes).filter(s -> ConvPlan.of((Integer) s[2], (Integer) s[3], LearnedButterflyConv.libMode((ConvMode) s[0]),
        ConvEngine.LEARNED, ai.longconv4j.conv.Precision.F64).factors().get(0) == 32).toList();
    var n16 = Stream.of(shapes).filter(s -> !n32.contains(s)).toList();
    return Stream.of(Stream.of(ElementType.BF16, ElementType.F16)
        .flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], 111, s[2], s[3], "one"))),
        n32.stream().map(s -> Arguments.of(ElementType.BF16, s[0], s[1], 111, s[2], s[3], "split")),
        Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> n32.stream().map(s -> Arguments.of(io, s[0], s[1], 111, s[2], s[3], "pair"))),
        n32.stream().map(s -> Arguments.of(ElementType.BF16, s[0], s[1], 111, s[2], s[3], "pair12")),
        Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> n32.stream().map(s -> Arguments.of(io, s[0], s[1], 111, s[2], s[3], "pairt"))),
        Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> n32.stream().map(s -> Arguments.of(io, s[0], s[1], 111, s[2], s[3], "pairc"))),
        Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> n32.stream().map(s -> Arguments.of(io, s[0], s[1], 111, s[2], s[3], "pairc2"))),
        Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> n16.stream().map(s -> Arguments.of(io, s[0], s[1], 111, s[2], s[3], "f"))),
        n16.stream().map(s -> Arguments.of(ElementType.BF16, s[0], s[1], 111, s[2], s[3], "f2")),
        Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> n16.stream().map(s -> Arguments.of(io, s[0], s[1], 111, s[2], s[3], "f2c"))))
        .flatMap(x -> x);
  }

  @ParameterizedTest(name = "{0} io, {1} B={2} H={3} L={4} Lk={5} rows={6}")
  @MethodSource("cases")
  void tensorCoresMatchTwinAndLib(ElementType io, ConvMode mode, int B, int H, int L, int Lk, String rows) {
    boolean split = rows.equals("split"), pair = rows.startsWith("pair"), rows2 = rows.equals("pairc2"), chain = rows.equals("pairc") || rows2;
    int n16 = rows.equals("f") ? 1 : rows.equals("f2") ? 2 : rows.equals("f2c") ? 3 : 0;
    var rng = new SplittableRandom(31L * L + 7L * B + io.ordinal() + 11L * mode.ordinal());
    short[] u16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io);
    short[] dy16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io);
    float[] u = HalfFloats.decode(u16, io), dy = HalfFloats.decode(dy16, io);
    float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] D = Reference.randn(rng, H, 1.0);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    var lm = LearnedButterflyConv.libMode(mode);
    ConvPlan plan = ConvPlan.of(L, Lk, lm, ConvEngine.LEARNED, ai.longconv4j.conv.Precision.F64);
    double[][] dft = LearnedButterfly.atInit(plan).blocks(), blocks = new double[4][];
    for (int i = 0; i < 4; i++) {   // a trained state, not the DFT; rounded to float as the GPU holds them
      blocks[i] = dft[i].clone();
      for (int j = 0; j < blocks[i].length; j++) blocks[i][j] = (float) (blocks[i][j] + 0.05 * Reference.randn(rng, 1, 1.0)[0]);
    }
    var shape = new ConvShape(B, 1, H, L, Lk, lm);
    double[] kl = new double[H * (bi ? 2 : 1) * Lk];
    for (int h = 0; h < H; h++)
      for (int j = 0; j < Lk; j++) {
        kl[h * (bi ? 2 : 1) * Lk + j] = k0[h * Lk + j];
        if (bi) kl[h * 2 * Lk + Lk + j] = k1[h * Lk + j];
      }
    double[] ud = toD(u), dyd = toD(dy), Dd = toD(D);
    var cpu = new LearnedButterfly(plan, blocks);
    double[] yRef = cpu.forward(shape, ud, kl, Dd);
    LearnedButterfly.Grads g = cpu.backwardAll(shape, ud, kl, Dd, dyd);
    double[] yFft = new LearnedButterfly(plan, dft).forward(shape, ud, kl, Dd);
    int n = B * H * L;
    try (var tc = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).splitRows(split).pairRows(pair)
             .pairWarps(rows.equals("pair12") ? 12 : 16).n16Kernel(n16).pairTwiddleTable(rows.equals("pairt") || chain).chainRows(chain).batchRows(rows2)
             .persistentBlocks(false).wgmmaRows(false);   // pc, pc2 themselves (pcp / pc2p: LearnedBatchRowsGpuTest; pw: LearnedWgmmaGpuTest)
         // the current kernel: one warp per row, for pairt the pair kernel without the table, for pairc pairt, for pairc2 pc
         var one = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).splitRows(false)
             .pairRows(rows.equals("pairt") || chain).pairTwiddleTable(chain).chainRows(rows2).batchRows(false).persistentBlocks(false).wgmmaRows(false).n16Kernel(n16 == 3 ? 2 : 0);
         var twin = LearnedButterflyConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks).tensorCores(false);
         var du = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc((2L * n + 3) / 4 * 4);
         var dk = dev.alloc(4L * (bi ? 2 : 1) * H * Lk); var dD = dev.alloc(4L * H)) {
      assertTrue(tc.tensorCores() && !twin.tensorCores() && tc.splitRows() == split && tc.pairRows() == pair, tc + " / " + twin);
      assertTrue(!one.splitRows() && one.pairRows() == (rows.equals("pairt") || chain) && one.pairTwiddleTable() == chain
          && one.chainRows() == rows2 && !one.batchRows() && one.n16Kernel() == (n16 == 3 ? 2 : 0), one.toString());
      assertEquals(rows2 && plan.factors().get(1) == 32, tc.batchRows(), tc.toString());
      assertEquals(n16, tc.n16Kernel(), tc.toString());
      assertEquals(rows.equals("pairt") || chain, tc.pairTwiddleTable(), tc.toString());
      assertEquals(chain, tc.chainRows(), tc.toString());
      String suffix = n16 == 1 ? "f" : n16 == 2 ? "f2" : n16 == 3 ? "f2c" : chain ? (tc.batchRows() ? "pc2" : "pc") : rows.equals("pairt") ? "pt" : pair ? "p" : split ? "s" : "";
      assertTrue(tc.tensorCoreKernel(false).endsWith(plan.factors().get(1) + suffix), tc.tensorCoreKernel(false));
      assertEquals(plan.fftSize(), tc.fftSize());
      for (var c : new LearnedButterflyConv[] {tc, one, twin}) if (bi) c.setWeights(k0, k1, D); else c.setWeights(k0, D);
      String what = tc + " B=" + B;
      out.fill32(0x7fc07fc0);
      tc.forward(du, out, B);
      float[] yTc = read(out, io, n);
      out.fill32(0x7fc07fc0);
      twin.forward(du, out, B);
      float[] yTwin = read(out, io, n);
      Reference.assertClose("tc forward vs lib " + what, yTc, yRef, 1e-2);
      Reference.assertClose("tc forward vs twin " + what, yTc, toD(yTwin), 1e-2);
      // the current one-warp-per-row kernel on the same input: the same products in the same order (1e-2 as above: only
      // the compiler's fma contraction of the fp32 epilogues may differ, flipping single 16-bit roundings; f / f2: also
      // the twiddles by recurrence, within 2e-7 of the table's (src/test/cuda/lbf_fe_model.py), which flips single
      // 16-bit roundings of X1 and X3 too, so the same 1e-2; pairt loads the pair kernel's own start values, pairc keeps
      // pairt's products, roundings and twiddles in registers, f2c f2's, pairc2 pc's per row: 0 expected for these)
      out.fill32(0x7fc07fc0);
      one.forward(du, out, B);
      float[] yOne = read(out, io, n);
      Reference.assertClose("tc forward vs one-warp kernel " + what, yTc, toD(yOne), 1e-2);
      if (pair || split || n16 != 0) System.out.printf("%s %s: forward rel err vs current kernel %.3e, vs lib %.3e%n", rows, what,
          Reference.relErr(yTc, toD(yOne)), Reference.relErr(yTc, yRef));
      // negative control: a plain FFT (blocks at the DFT) is far from the learned reference, and so from the kernel
      assertTrue(Reference.relErr(toF(yFft), yRef) > 5e-2, "the perturbation must matter: " + Reference.relErr(toF(yFft), yRef));
      assertTrue(Reference.relErr(yTc, yFft) > 3e-2, "the kernel ignored the learned blocks: " + Reference.relErr(yTc, yFft));
      double[] dkRef = ConvCase.gpuKernelLayout(g.conv().dk(), H, Lk, bi);   // GPU layout (sides, H, Lk)
      String[] names = {"dFa", "dFb", "dGb", "dGa"};
      float[] duTc = null, du0 = null;
      // tensor-core gradients (Gram kernels one row at a time, then with cp.async double buffers), then the fp32 kernel
      for (int route = 0; route < 3; route++) {
        boolean tcGrads = route < 2;
        tc.tensorCoreGradients(tcGrads).asyncGrams(route == 1).pairDumpWarps(route == 1 ? 16 : 12);   // pairc 32 x 64: pdcw
        assertEquals(tcGrads, tc.tensorCoreGradients());
        String w = what + (tcGrads ? route == 1 ? " tc grads async" : " tc grads" : " fp32 grads");
        double tolG = tcGrads ? 1e-2 : 1e-4, tolK = (tcGrads ? 1e-2 : 1e-5) * Math.sqrt((double) tc.fftSize() / Lk);
        out.fill32(0x7fc07fc0);
        dk.fill32(0x7fc00000);
        dD.fill32(0x7fc00000);
        tc.backward(du, ddy, B, out, dk, dD);
        duTc = read(out, io, n);
        if (route == 0) du0 = duTc;
        if (route == 1 && chain) {   // pdcw vs pdc (32 x 64; else the same kernel): the same code per row, 0 expected
          Reference.assertClose("du 16 vs 12 dumping warps " + w, duTc, toD(du0), 1e-6);
          System.out.printf("%s %s: du rel err, 16 vs 12 dumping warps %.3e%n", rows, what, Reference.relErr(duTc, toD(du0)));
        }
        Reference.assertClose("tc du vs lib " + w, duTc, g.conv().du(), 1e-2);
        Reference.assertClose("dk " + w, dk.copyTo(new float[dkRef.length], 0), dkRef, tolK);
        Reference.assertClose("dD " + w, dD.copyTo(new float[H], 0), g.conv().dD(), 1e-5);
        double[][] gb = tc.blockGrads();
        for (int i = 0; i < 4; i++) Reference.assertClose(names[i] + " " + w, toF(gb[i]), g.dBlocks()[i], tolG);
      }
      out.fill32(0x7fc07fc0);
      twin.backward(du, ddy, B, out, dk, dD);
      Reference.assertClose("tc du vs twin " + what, duTc, toD(read(out, io, n)), 1e-2);
    }
  }

  static double[] toD(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) d[i] = a[i];
    return d;
  }

  static float[] toF(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
    return f;
  }

  static float[] read(DeviceBuffer b, ElementType io, int n) {
    dev.stream().synchronize();
    return HalfFloats.decode(b.copyTo(new short[n], 0), io);
  }
}
