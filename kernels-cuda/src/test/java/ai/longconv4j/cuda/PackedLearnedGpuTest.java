// Shapes: B batch, H channels, L length, Lk taps; N the real FFT size (causal: the power of two >= L + Lk - 1),
// M = N / 2 = N1 x N2 (1024 = 32 x 32, 512 = 16 x 32, 256 = 16 x 16). u, y: (B, H, L); k: (H, Lk); D: (H);
// blocks {Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1)}, complex interleaved.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The packed learned butterfly's GPU forward and input gradient du ({@link PackedLearnedConv}, learned_pk.cu) against
 * lib's float64 {@link PackedLearnedButterfly} (forward, backward's du): both kernels (r1w16: one row per pair, 16 warps; r2w12: two rows of a channel per
 * pair, 12 warps), bf16 and fp16, on fresh random data per case, with blocks in three states: the exact DFT (then
 * also against the direct causal convolution in float64 and against FlashButterfly's GPU forward), the DFT plus 5 %
 * noise (a trained state) and fully random complex blocks (entries N(0, 1/2) per part: no DFT structure left, every
 * index of every block matters; the rho / sigma permutations and the pair map's partners are exercised). Outputs are
 * NaN-poisoned first, with a tail past B H L that must stay poisoned (odd B: r2w12's second row of a pair past B writes
 * nothing), and every value must come back finite. P and Q as computed on the GPU (lpk_pq, fp32) are checked against
 * lib's {@code pairCoefficients}.
 * Tolerances: against float64 1e-2 relative (L2), the learned tests' 16-bit budget (LearnedTensorCoreGpuTest: products
 * on bf16-rounded operands of inner size <= 32, each rounding ~2^-9 relative, five roundings in the chain (x, X1, C', X3
 * and y) with fp32 accumulation: a few 1e-3; seen by the unpacked kernels <= 3.4e-3); fp16 rounds finer (2^-12). Between
 * the two kernels (the same code per row: the same products, roundings and twiddles; sitting s1 saw 0 differing values in
 * all 12 cases): bit for bit.
 * pkopt: every case also runs the variant kernels of {@link #CONFIGS} (-Dlongconv4j.pk.test.configs=defaults: only r1w16,
 * r2w12 and r2w12 variants 3, 8, 11; pkopt2: =pkopt2) (learned_pk.cu OPT 1 kappa, 2 twiddle table, 4 negated
 * planes; r1w20) and asserts each equal to r1w16 bit for bit, forward and du (besides the lib bound above).
 * P / Q: 1e-4 relative (the fp32 DFT of <= 1024 taps with an exact-index twiddle table: ~1e-6 seen in lb_spectrum-type
 * sums; a wrong coefficient, conjugate or position is order 1). Against FlashButterfly at init: 1.5e-2 (two independent
 * 16-bit pipelines, each within 1e-2 of the exact result).
 */
@Tag("gpu")
class PackedLearnedGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    // B, H, L, Lk, blocks (0: DFT, 1: DFT + 5 % noise, 2: fully random)
    Object[][] shapes = {{3, 111, 1000, 1000, 0}, {3, 111, 1000, 1000, 1}, {5, 111, 1023, 1023, 2}, {1, 111, 1024, 1024, 1},
        {7, 770, 1024, 1024, 2}, {3, 770, 1000, 900, 1}, {9, 13, 513, 513, 1}, {5, 3, 777, 300, 2}, {64, 5, 1020, 1020, 1},
        // 16 x 32 (one warp per row): L = 512, odd L, L % 8 != 0, B = 1
        {3, 111, 512, 512, 0}, {5, 770, 512, 512, 2}, {7, 13, 511, 400, 1}, {1, 111, 300, 300, 2},
        // 16 x 16: L = 256, odd L, L = 129 (the shortest with Lk = L: N >= L + Lk - 1 = 257)
        {3, 111, 256, 256, 0}, {5, 770, 256, 256, 2}, {9, 13, 255, 255, 1}, {3, 7, 129, 129, 2}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4])));
  }

  @ParameterizedTest(name = "{0} B={1} H={2} L={3} Lk={4} blocks={5}")
  @MethodSource("cases")
  void forwardMatchesLib(ElementType io, int B, int H, int L, int Lk, int kind) {
    var rng = new SplittableRandom(4099L * L + 97L * B + 13L * H + 7L * kind + io.ordinal());
    short[] u16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io);
    float[] u = HalfFloats.decode(u16, io), dy = HalfFloats.decode(dy16, io), k = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)),
        D = Reference.randn(rng, H, 1.0);
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, ConvMode.CAUSAL);
    int n1 = plan.factors().get(0), n2 = plan.factors().get(1);
    assertEquals(2 * n1 * n2, plan.fftSize(), plan.toString());
    assertTrue(PackedLearnedConv.tensorCoresSupport(n1, n2, io), "a covered factorization: " + plan);
    double[][] blocks = blocks(rng, plan, kind);
    var shape = new ConvShape(B, 1, H, L, Lk, ai.longconv4j.conv.ConvMode.CAUSAL);
    var cpu = new PackedLearnedButterfly(plan, blocks);
    double[] yRef = cpu.forward(shape, LearnedTensorCoreGpuTest.toD(u), LearnedTensorCoreGpuTest.toD(k), LearnedTensorCoreGpuTest.toD(D));
    double[] duRef = cpu.backward(shape, LearnedTensorCoreGpuTest.toD(u), LearnedTensorCoreGpuTest.toD(k), LearnedTensorCoreGpuTest.toD(D),
        LearnedTensorCoreGpuTest.toD(dy)).du();
    String what = io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " blocks=" + kind;
    int n = B * H * L, tail = 64 + (n & 1);   // n + tail even: fill32 takes whole 4-byte words
    // v = 0 r1w16, 1 r2w12 (variant 0); pkopt: v >= 2 the kernels of CONFIGS[v] (those learned_pk.cu has for this M)
    float[][] y = new float[CONFIGS.length][], g = new float[CONFIGS.length][];
    try (var du = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc(2L * (n + tail))) {
      for (int v = 0; v < CONFIGS.length; v++) {
        int[] cf = CONFIGS[v];
        try (var pk = PackedLearnedConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, io).batchRows(cf[0] == 1).variant(cf[2]).setBlocks(blocks).setWeights(k, D)) {
          if (cf[0] == 0) pk.rowWarps(cf[1]);
          if (!pk.kernelExists()) { assertTrue(v >= 2 && (n1 != 32 || cf[1] == 20), pk.kernelName() + " missing at 32 x 32"); continue; }
          assertTrue(pk.kernelName().endsWith(n1 + "x" + n2 + (cf[0] == 1 ? "r2w" : "r1w") + cf[1] + (cf[2] != 0 ? "o" + cf[2] : "")),
              pk.kernelName());
          out.fill32(0x7fc07fc0);   // NaN as bf16 and as fp16
          pk.forward(du, out, B);
          short[] all = LearnedCase.read(dev, out, n + tail);
          for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], pk + " wrote past B H L at " + j + ": " + what);
          y[v] = HalfFloats.decode(Arrays.copyOf(all, n), io);
          for (int j = 0; j < n; j++) assertTrue(Float.isFinite(y[v][j]), pk + ": y[" + j + "] not written (or not finite): " + what);
          Reference.assertClose(pk.kernelName() + " vs lib " + what, y[v], yRef, 1e-2);
          if (v == 0) checkPairCoefficients(pk, plan, shape, k, H, what);
          out.fill32(0x7fc07fc0);   // du: the input gradient through the adjoint blocks and pair map
          pk.backwardInput(ddy, out, B);
          all = LearnedCase.read(dev, out, n + tail);
          for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], pk + " du wrote past B H L at " + j + ": " + what);
          g[v] = HalfFloats.decode(Arrays.copyOf(all, n), io);
          for (int j = 0; j < n; j++) assertTrue(Float.isFinite(g[v][j]), pk + ": du[" + j + "] not written (or not finite): " + what);
          Reference.assertClose(pk.kernelName() + " du vs lib " + what, g[v], duRef, 1e-2);
        }
      }
      int diff = 0, diffG = 0;
      for (int j = 0; j < n; j++) {
        if (Float.floatToRawIntBits(y[0][j]) != Float.floatToRawIntBits(y[1][j])) diff++;
        if (Float.floatToRawIntBits(g[0][j]) != Float.floatToRawIntBits(g[1][j])) diffG++;
      }
      System.out.printf("r2w12 vs r1w16 %s: %d of %d values differ (du: %d)%n", what, diff, n, diffG);
      assertEquals(0, diff, "r2w12 vs r1w16 (the same code per row) differ: " + what);
      assertEquals(0, diffG, "r2w12 vs r1w16 du (the same code per row) differ: " + what);
      // pkopt's variants against r1w16 (variant 0), bit for bit: the twiddle table holds the recurrences' own values; the
      // negated planes hold exactly the sign flips; kappa computes every value with the same products (step 3 sums each
      // k16 half over the same columns in another order inside one MMA: sitting s1 saw 0 differing values in all 34
      // cases, forward and du, so the tensor cores' k16 sum does not depend on that order here; asserted).
      for (int v = 2; v < CONFIGS.length; v++) {
        if (y[v] == null) continue;   // no such kernel at this M
        int dv = 0, dvG = 0;
        for (int j = 0; j < n; j++) {
          if (Float.floatToRawIntBits(y[0][j]) != Float.floatToRawIntBits(y[v][j])) dv++;
          if (Float.floatToRawIntBits(g[0][j]) != Float.floatToRawIntBits(g[v][j])) dvG++;
        }
        String name = (CONFIGS[v][0] == 1 ? "r2w" : "r1w") + CONFIGS[v][1] + "o" + CONFIGS[v][2];
        System.out.printf("%s vs r1w16 %s: %d of %d values differ (du: %d)%n", name, what, dv, n, dvG);
        assertEquals(0, dv, name + " vs r1w16 differ: " + what);
        assertEquals(0, dvG, name + " vs r1w16 du differ: " + what);
      }
      if (kind == 0) {   // at init: the exact causal convolution, and FlashButterfly's forward on the same data
        Reference.assertClose("r1w16 at init vs direct causal conv " + what, y[0], Reference.causal(u, k, Lk, D, B, H, L), 1e-2);
        try (var fb = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, io == ElementType.BF16 ? Precision.BF16 : Precision.F16).setWeights(k, Lk, D)) {
          out.fill32(0x7fc07fc0);
          fb.forward(du, out, B);
          float[] yf = ConvCase.read(dev, out, io, n);
          Reference.assertClose("r1w16 at init vs FlashButterfly " + what, y[0], LearnedTensorCoreGpuTest.toD(yf), 1.5e-2);
        }
      }
    }
  }

  /**
   * pkopt: the kernels run per case, {batchRows (0 / 1), warps, variant}: r1w16 and r2w12 (variant 0) first, then
   * variants 1, 2, 3, 5, 7 of each and r1w20's 3, 7 (a kernel learned_pk.cu lacks at this M is skipped).
   */
  static final int[][] CONFIGS = configs(System.getProperty("longconv4j.pk.test.configs", "all"));

  /**
   * pkopt2: + r2w12 variants 8, 11, 15, 27 (channel groups; 15 at 32 x 32 only) in "all"; "defaults" (the closing call)
   * also runs r2w12 o11 / o27; "pkopt2" runs r1w16, r2w12, r2w12 o3 (pkopt's 32 x 32 default) and the channel-group kernels.
   */
  static int[][] configs(String which) {
    return switch (which) {
      case "defaults" -> new int[][] {{0, 16, 0}, {1, 12, 0}, {1, 12, 3}, {1, 12, 11}, {1, 12, 27}};
      case "pkopt2" -> new int[][] {{0, 16, 0}, {1, 12, 0}, {1, 12, 3}, {1, 12, 8}, {1, 12, 11}, {1, 12, 15}, {1, 12, 27}};
      default -> new int[][] {{0, 16, 0}, {1, 12, 0}, {0, 16, 1}, {1, 12, 1}, {0, 16, 2}, {1, 12, 2}, {0, 16, 3}, {1, 12, 3},
          {0, 16, 5}, {1, 12, 5}, {0, 16, 7}, {1, 12, 7}, {0, 20, 3}, {0, 20, 7}, {1, 12, 8}, {1, 12, 11}, {1, 12, 15}, {1, 12, 27}};
    };
  }

  /** Blocks of the M-point transform: 0 the DFT, 1 the DFT plus 5 % noise, 2 fully random; rounded to float (the GPU's copy). */
  static double[][] blocks(SplittableRandom rng, ConvPlan plan, int kind) {
    double[][] dft = PackedLearnedButterfly.atInit(plan).blocks(), b = new double[4][];
    for (int i = 0; i < 4; i++) {
      b[i] = dft[i].clone();
      if (kind == 0) continue;
      for (int j = 0; j < b[i].length; j++)
        b[i][j] = (float) (kind == 1 ? b[i][j] + 0.05 * Reference.randn(rng, 1, 1.0)[0] : Reference.randn(rng, 1, Math.sqrt(0.5))[0]);
    }
    return b;
  }

  /** The device's P / Q (lpk_pq, fp32) against lib's pairCoefficients for a few channels. */
  static void checkPairCoefficients(PackedLearnedConv pk, ConvPlan plan, ConvShape shape, float[] k, int H, String what) {
    float[] got = pk.pairCoefficients();
    int m = plan.fftSize() / 2;
    double[] kd = LearnedTensorCoreGpuTest.toD(k);
    for (int h : new int[] {0, H / 2, H - 1}) {
      double[] ref = PackedLearnedButterfly.pairCoefficients(plan, PackedLearnedButterfly.placeTaps(plan, shape, kd, h));
      Reference.assertClose("P, Q of channel " + h + " vs lib " + what, Arrays.copyOfRange(got, 4 * m * h, 4 * m * (h + 1)), ref, 1e-4);
    }
  }

  @Test
  void rejectsWhatItDoesNotCover() {
    // M = 2048 is lib's J = 3 plan {8, 16, 16} (since pkjref): refused by name, the J-factor path is PackedLearnedRef's
    var e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedConv.plan(dev, 4, 2000, 2000, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=2048 has J=3 factors [8, 16, 16]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedConv.plan(dev, 4, 100, 100, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=128"), e.getMessage());
    // pkmode: bidirectional and circular L = 512 / 1024 / 2048 are covered (PackedLearnedModesGpuTest); circular 4096 is not
    e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedConv.plan(dev, 4, 4096, 4096, ConvMode.CIRCULAR, ElementType.BF16));
    assertTrue(e.getMessage().contains("M=2048 has J=3 factors"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedConv.plan(dev, 4, 1024, 1024, ConvMode.CAUSAL, ElementType.F32));
    assertTrue(e.getMessage().contains("bf16 / fp16"), e.getMessage());
    try (var pk = PackedLearnedConv.plan(dev, 4, 1024, 1024, ConvMode.CAUSAL, ElementType.BF16)) {
      assertThrows(IllegalStateException.class, () -> pk.forward(null, null, 1));
      assertThrows(IllegalStateException.class, () -> pk.backwardInput(null, null, 1));
      e = assertThrows(IllegalArgumentException.class, () -> pk.setWeights(new float[4 * 1000], new float[4]));
      assertTrue(e.getMessage().contains("(H=4, Lk=1024)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pk.setBlocks(new double[][] {new double[2 * 32 * 32], new double[2 * 16 * 16],
          new double[2 * 32 * 32], new double[2 * 32 * 32]}));
      assertTrue(e.getMessage().contains("block 1 must be (32, 32, 2)"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> pk.setWeights(new float[4 * 1024], new float[4 * 1024], new float[4]));
      pk.setWeights(new float[4 * 1024], new float[4]);
      try (var small = dev.alloc(16)) {
        e = assertThrows(IllegalArgumentException.class, () -> pk.forward(small, small, 2));
        assertTrue(e.getMessage().contains("(B=2, H=4, L=1024)"), e.getMessage());
      }
    }
  }
}
