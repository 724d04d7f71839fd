// Shapes: B batch, H channels, L length, Lk taps per side; N the real FFT size, M = N / 2 = R_1 .. R_J (J = 2 .. 5).
// u, y, dy, du: (B, H, L); k0, k1 (H, Lk); dk: (sides, H, Lk); D, dD: (H); blocks {F_1 .. F_J, G_J .. G_1} (R, R, 2).
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
 * The J-factor fp32 path ({@link PackedLearnedChain}, learned_pk_ref2.cu; reached through {@link PackedLearnedRef} for
 * lib's J-factor plans) against float64: the test's {@link PackedChainReference} (s14-jspec.md written out in Java) for the
 * factor table of the spec ({@link #specFactors}), and lib's {@link PackedLearnedButterfly} directly wherever lib's plan has
 * the same factor list (J = 2 today; every case once lib's J-factor ConvPlan is in). The reference itself is checked against
 * lib at J = 2 with random blocks (the same conventions) and, with DFT blocks, against lib's exact convolution at every J.
 * Random blocks (fully random entries: every entry matters, gradients of every block checked), random u, dy, k, D; all
 * three modes; J = 3 (M = 2048, 4096), J = 4 (8192, 32768), J = 5 (65536, 2^18 when lib sizes it); F32 / BF16 / F16; odd B,
 * H = 111 / 3 / 1, Lk &lt; L, L not a power of two; outputs NaN-poisoned first (with a tail that must stay poisoned).
 * The fused stages (the default) against their unfused slow twin ({@link #fusedMatchesUnfused}).
 * Tolerances (relative Frobenius). fp32 outputs: 2e-5. u = 2^-24 = 6e-8; an output goes through K (cuFFT fp32: error
 * ~u log2 N rms, <= 19 u), the pair map, 2J block products (sums of R <= 32 terms of random sign: ~sqrt(R) u each) and 2J - 2
 * twiddles (sincospif, ~1 ulp): with random-sign roundings adding in quadrature a few 1e-7 .. 1e-6; the block gradients add
 * sums over rows x M / R columns (sequential fp32 chunks of at most ~ cols / 1024 + 32 columns, then <= 1024 partials in
 * order: error ~ sqrt(terms) u, <= sqrt(2^13) u = 5e-6 here), dP / dQ sums over B (<= 5 rows), dD over B L products.
 * The existing J = 2 kernels measured <= 1.7e-6 at 1e-5; 2e-5 leaves the longer J = 5 chains a margin. dk: sums all
 * N / 2 + 1 entries of dK of which the kept Lk taps hold ~Lk / N of the energy: 2e-5 sqrt(N / Lk). 16-bit I/O: y and du
 * rounded to 16 bits (bf16 2^-9 relative per element): 1e-2; the other outputs keep the fp32 bounds.
 */
@Tag("gpu")
class PackedLearnedRefChainGpuTest extends CudaDeviceTest {
  static final double TOL32 = 2e-5, TOL16 = 1e-2;

  /** The factor table of s14-jspec.md for LEARNED_PACKED at M = N / 2. */
  static int[] specFactors(int m) {
    int[] t = table(m);
    assertTrue(Arrays.equals(t, PackedLearnedRef.specFactors(m)), "PackedLearnedRef.specFactors(" + m + ") = "
        + Arrays.toString(PackedLearnedRef.specFactors(m)) + ", the spec's " + Arrays.toString(t));
    return t;
  }

  private static int[] table(int m) {
    return switch (m) {
      case 16 -> new int[] {4, 4}; case 32 -> new int[] {4, 8}; case 64 -> new int[] {8, 8}; case 128 -> new int[] {8, 16};
      case 256 -> new int[] {16, 16}; case 512 -> new int[] {16, 32}; case 1024 -> new int[] {32, 32};
      case 2048 -> new int[] {8, 16, 16}; case 4096 -> new int[] {16, 16, 16}; case 8192 -> new int[] {2, 16, 16, 16};
      case 16384 -> new int[] {4, 16, 16, 16}; case 32768 -> new int[] {8, 16, 16, 16};
      case 65536 -> new int[] {8, 2, 16, 16, 16}; case 131072 -> new int[] {16, 2, 16, 16, 16}; case 262144 -> new int[] {32, 2, 16, 16, 16};
      default -> throw new IllegalArgumentException("no LEARNED_PACKED factors for M=" + m);
    };
  }

  static Stream<Arguments> cases() {
    // mode, io, B, H, L, Lk, blocks (0: DFT, 2: fully random)
    return Stream.of(
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 3, 111, 2000, 2000, 2),      // N = 4096, M = 2048 = 8 16 16
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 1, 3, 3000, 1000, 0),        // M = 2048 at init: = lib's exact conv
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 3, 3, 3000, 3000, 2), // N = 8192 (L + Lk = 6000), M = 4096 = 16^3
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 2, 3, 8192, 5000, 2),     // N = L: M = 4096
        Arguments.of(ConvMode.CAUSAL, ElementType.F16, 1, 3, 8000, 8000, 2),        // N = 16384, M = 8192 = 2 16 16 16
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 1, 2, 9000, 7000, 2), // N = 16384 (16000), M = 8192
        Arguments.of(ConvMode.CIRCULAR, ElementType.F32, 1, 2, 65536, 65536, 2),    // M = 32768 = 8 16 16 16
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 1, 1, 60000, 40000, 2),      // N = 131072, M = 65536 = 8 2 16 16 16
        Arguments.of(ConvMode.CIRCULAR, ElementType.BF16, 1, 1, 131072, 100, 0),    // M = 65536 at init: = lib's exact conv
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 3, 5, 1000, 600, 2),         // M = 1024 = 32 x 32 (J = 2): vs lib directly
        Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 2, 3, 300, 300, 2));  // M = 512 = 16 x 32 (J = 2): vs lib directly
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6}")
  @MethodSource("cases")
  void matchesFloat64(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind) {
    run(mode, io, B, H, L, Lk, kind, 7919L * L + 101L * B + 17L * H + kind + 3L * io.ordinal() + mode.ordinal());
  }

  /** M = 2^18 (causal L = 256K, the largest plan) with B = H = 1, when lib's ConvPlan sizes it (its J-factor table). */
  @Test
  void largestPlan() {
    ConvPlan p;
    try {
      p = PackedLearnedConv.libPlan(262144, 262144, ConvMode.CAUSAL);
    } catch (IllegalArgumentException e) {
      System.out.println("largestPlan: lib does not size causal L = 256K yet (" + e.getMessage() + "): the chain at M = 2^18 via its own factors");
      p = null;
    }
    if (p != null) assertEquals(1 << 19, p.fftSize());
    if (p != null) run(ConvMode.CAUSAL, ElementType.F32, 1, 1, 262144, 262144, 2, 11L);
  }

  static void run(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind, long seed) {
    var rng = new SplittableRandom(seed);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, sides = bi ? 2 : 1;
    float[] u = Reference.randn(rng, n, 1.0), dy = Reference.randn(rng, n, 1.0);
    short[] u16 = null, dy16 = null;
    if (io != ElementType.F32) {
      u16 = HalfFloats.encode(u, io); dy16 = HalfFloats.encode(dy, io);
      u = HalfFloats.decode(u16, io); dy = HalfFloats.decode(dy16, io);
    }
    float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = bi ? Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)) : null;
    float[] D = Reference.randn(rng, H, 1.0);
    double[] kLib = new double[sides * H * Lk];
    for (int h = 0; h < H; h++)
      for (int t = 0; t < Lk; t++) {
        kLib[h * sides * Lk + t] = k0[h * Lk + t];
        if (bi) kLib[h * 2 * Lk + Lk + t] = k1[h * Lk + t];
      }
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, mode);
    int N = plan.fftSize(), m = N / 2;
    int[] f = specFactors(m), libF = PackedLearnedRef.factorsOf(plan);
    if (libF.length > 2) assertTrue(Arrays.equals(f, libF), "lib's factors " + Arrays.toString(libF) + " vs the spec's " + Arrays.toString(f));
    int J = f.length;
    double[][] blocks = new double[2 * J][];
    for (int i = 0; i < 2 * J; i++) {
      int q = i < J ? f[i] : f[2 * J - 1 - i];
      blocks[i] = PackedLearnedChain.dft(q, i >= J);
      if (kind == 2) for (int e = 0; e < blocks[i].length; e++) blocks[i][e] = (float) Reference.randn(rng, 1, Math.sqrt(0.5))[0];
    }
    var shape = new ConvShape(B, 1, H, L, Lk, LearnedButterflyConv.libMode(mode));
    var lm = LearnedButterflyConv.libMode(mode);
    int taps0 = lm.effectiveTaps(L, Lk, 0), taps1 = bi ? lm.effectiveTaps(L, Lk, 1) : 0;
    double[][] pqF = new double[H][];
    for (int h = 0; h < H; h++) pqF[h] = PackedChainReference.pqByFrequency(plan, shape, kLib, h);
    var ref = new PackedChainReference(f, N, blocks).run(B, H, L, Lk, sides, taps0, taps1, u, dy, D, pqF);
    String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " M=" + m + " " + Arrays.toString(f) + " blocks=" + kind;
    // the reference's own checks: with lib where lib has this factor list, at init against lib's exact convolution
    if (Arrays.equals(f, libF)) {
      var pk = new PackedLearnedButterfly(plan, blocks);
      double[] ud = ConvCase.toD(u), dd = ConvCase.toD(D);
      var lib = pk.backwardAll(shape, ud, kLib, dd, ConvCase.toD(dy));
      Reference.assertClose("reference y vs lib " + what, toF(ref.y()), pk.forward(shape, ud, kLib, dd), 1e-6);
      Reference.assertClose("reference du vs lib " + what, toF(ref.du()), lib.conv().du(), 1e-6);
      for (int i = 0; i < 2 * J; i++) Reference.assertClose("reference dBlock " + i + " vs lib " + what, toF(ref.dBlocks()[i]), lib.dBlocks()[i], 1e-6);
      Reference.assertClose("reference dk vs lib " + what, toF(ref.dk()), ConvCase.gpuKernelLayout(lib.conv().dk(), H, Lk, bi), 1e-6);
      Reference.assertClose("reference dD vs lib " + what, toF(ref.dD()), lib.conv().dD(), 1e-6);
    }
    if (kind == 0) {
      var pk = PackedLearnedButterfly.atInit(plan);   // at init every factorization is the exact convolution
      Reference.assertClose("reference y at init vs lib's exact conv " + what, toF(ref.y()), pk.forward(shape, ConvCase.toD(u), kLib, ConvCase.toD(D)), 1e-6);
    }
    double tolIo = io == ElementType.F32 ? TOL32 : TOL16, tolK = TOL32 * Math.sqrt((double) N / Lk);
    int tail = 64 + (n & 1);
    long eb = io.bytes();
    try (var ub = u16 == null ? dev.upload(u) : dev.upload(u16); var dyb = dy16 == null ? dev.upload(dy) : dev.upload(dy16);
         var y = dev.alloc(eb * (n + tail)); var du = dev.alloc(eb * (n + tail)); var dk = dev.alloc(4L * sides * H * Lk); var dD = dev.alloc(4L * H);
         var ch = PackedLearnedChain.plan(dev, H, L, Lk, mode, io, plan, f).setBlocks(blocks)) {
      if (bi) ch.setWeights(k0, k1, D); else ch.setWeights(k0, D);
      float[] pq = ch.pairCoefficients(false), adj = ch.pairCoefficients(true);
      int[] fr = PackedLearnedChain.positionFrequencies(f);
      for (int h : new int[] {0, H / 2, H - 1}) {
        double[] want = new double[4 * m], wantAdj = new double[4 * m];
        for (int p = 0; p < m; p++) {
          int q = 4 * fr[p], s = 4 * ((m - fr[p]) % m);
          want[2 * p] = pqF[h][q]; want[2 * p + 1] = pqF[h][q + 1]; want[2 * m + 2 * p] = pqF[h][q + 2]; want[2 * m + 2 * p + 1] = pqF[h][q + 3];
          wantAdj[2 * p] = pqF[h][q]; wantAdj[2 * p + 1] = -pqF[h][q + 1];
          wantAdj[2 * m + 2 * p] = pqF[h][s + 2]; wantAdj[2 * m + 2 * p + 1] = pqF[h][s + 3];
        }
        Reference.assertClose("P, Q (cuFFT) of channel " + h + " " + what, Arrays.copyOfRange(pq, 4 * m * h, 4 * m * (h + 1)), want, TOL32);
        Reference.assertClose("adjoint P, Q of channel " + h + " " + what, Arrays.copyOfRange(adj, 4 * m * h, 4 * m * (h + 1)), wantAdj, TOL32);
      }
      y.fill32(PackedLearnedRefGpuTest.poisonBits(io));
      ch.forward(ub, y, B);
      float[] yG = PackedLearnedRefGpuTest.readChecked(y, io, n, tail, "y " + what);
      PackedLearnedRefGpuTest.finite(yG, "y " + what);
      Reference.assertClose("y vs float64 " + what, yG, ref.y(), tolIo);
      du.fill32(PackedLearnedRefGpuTest.poisonBits(io));
      dk.fill32(0x7fc00000);
      dD.fill32(0x7fc00000);
      ch.backward(ub, dyb, B, du, dk, dD);
      float[] duG = PackedLearnedRefGpuTest.readChecked(du, io, n, tail, "du " + what), dkG = dk.copyTo(new float[sides * H * Lk], 0),
          dDG = dD.copyTo(new float[H], 0);
      for (float[] a : new float[][] {duG, dkG, dDG}) PackedLearnedRefGpuTest.finite(a, "a gradient " + what);
      Reference.assertClose("du vs float64 " + what, duG, ref.du(), tolIo);
      Reference.assertClose("dk vs float64 " + what, dkG, ref.dk(), tolK);
      Reference.assertClose("dD vs float64 " + what, dDG, ref.dD(), TOL32);
      double[][] gb = ch.blockGrads();
      assertEquals(2 * J, gb.length);
      for (int i = 0; i < 2 * J; i++) Reference.assertClose("dBlock " + i + " vs float64 " + what, toF(gb[i]), ref.dBlocks()[i], TOL32);
    }
  }

  static float[] toF(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
    return f;
  }

  static Stream<Arguments> twins() {
    return Stream.of(Arguments.of(ConvMode.CAUSAL, ElementType.F32, 3, 7, 1000, 1000), Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.BF16, 2, 5, 200, 150),
        Arguments.of(ConvMode.CIRCULAR, ElementType.F32, 3, 3, 256, 256));
  }

  /** Two GPU paths on the same J = 2 data: the chain (global memory, cuFFT P / Q) vs the in-shared-memory kernels. */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5}")
  @MethodSource("twins")
  void chainMatchesSharedMemoryKernels(ConvMode mode, ElementType io, int B, int H, int L, int Lk) {
    var rng = new SplittableRandom(17L * L + B);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, sides = bi ? 2 : 1;
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, mode);
    int[] f = PackedLearnedRef.factorsOf(plan);
    double[][] blocks = PackedLearnedGpuTest.blocks(rng, plan, 2);
    float[] u = Reference.randn(rng, n, 1.0), dy = Reference.randn(rng, n, 1.0), k0 = Reference.randn(rng, H * Lk, 0.1),
        k1 = Reference.randn(rng, H * Lk, 0.1), D = Reference.randn(rng, H, 1.0);
    String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " M=" + plan.fftSize() / 2;
    float[][][] out = new float[2][][];
    double[][][] gb = new double[2][][];
    try (var ub = io == ElementType.F32 ? dev.upload(u) : dev.upload(HalfFloats.encode(u, io));
         var dyb = io == ElementType.F32 ? dev.upload(dy) : dev.upload(HalfFloats.encode(dy, io));
         var y = dev.alloc(4L * (n + 1)); var du = dev.alloc(4L * (n + 1)); var dk = dev.alloc(4L * sides * H * Lk);   // fill32: whole words
         var dD = dev.alloc(4L * H); var ch = PackedLearnedChain.plan(dev, H, L, Lk, mode, io, plan, f);
         var pr = PackedLearnedRef.plan(dev, H, L, Lk, mode, io)) {
      LearnedPlan[] plans = {ch, pr};
      for (int v = 0; v < 2; v++) {
        plans[v].setBlocks(blocks);
        if (bi) plans[v].setWeights(k0, k1, D); else plans[v].setWeights(k0, D);
        for (DeviceBuffer b : new DeviceBuffer[] {y, du, dk, dD}) b.fill32(0x7fc07fc0);
        plans[v].forward(ub, y, B);
        plans[v].backward(ub, dyb, B, du, dk, dD);
        out[v] = new float[][] {ConvCase.read(dev, y, io, n), ConvCase.read(dev, du, io, n), dk.copyTo(new float[sides * H * Lk], 0), dD.copyTo(new float[H], 0)};
        gb[v] = plans[v].blockGrads();
      }
    }
    String[] names = {"y", "du", "dk", "dD"};
    double tolIo = io == ElementType.F32 ? 2 * TOL32 : 2 * TOL16;   // each path within its bound of float64
    for (int i = 0; i < 4; i++) {
      PackedLearnedRefGpuTest.finite(out[0][i], names[i] + " chain " + what);
      Reference.assertClose(names[i] + " chain vs shared-memory kernels " + what, out[0][i], ConvCase.toD(out[1][i]),
          i < 2 ? tolIo : i == 2 ? 2 * TOL32 * Math.sqrt((double) plan.fftSize() / Lk) : 2 * TOL32);
    }
    for (int i = 0; i < 4; i++) Reference.assertClose("dBlock " + i + " chain vs shared-memory kernels " + what, toF(gb[0][i]), gb[1][i], 2 * TOL32);
  }

  static Stream<Arguments> fusedCases() {
    return Stream.of(Arguments.of(ConvMode.BIDIRECTIONAL, ElementType.F32, 3, 5, 1500, 600),   // M = 2048 = 8 16 16
        Arguments.of(ConvMode.CAUSAL, ElementType.BF16, 1, 2, 30000, 30000),                   // M = 32768 = 8 16 16 16
        Arguments.of(ConvMode.CIRCULAR, ElementType.F32, 1, 1, 131072, 131072),                // M = 65536 = 8 2 16 16 16
        Arguments.of(ConvMode.CAUSAL, ElementType.F32, 2, 3, 1000, 1000));                     // M = 1024 = 32 x 32 (R = 32)
  }

  /**
   * The fused stages (lpj_col_r<R>, the default) against their slow twin (lpj_block + lpj_twiddle) on the same data: the
   * same fmaf chains per output; the twiddle products move between kernels but are the same roundings (x * w rounded once
   * either way; the 1 / M scale is a power of two, exact wherever it is applied), so the two are expected bit for bit equal
   * (sitting s3: all 44 comparisons 0.0). Asserted within 2 TOL32 (dk: times sqrt(N / Lk); 16-bit y, du: 2 TOL16), what
   * ptxas contracting an operation differently in one kernel could need.
   */
  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5}")
  @MethodSource("fusedCases")
  void fusedMatchesUnfused(ConvMode mode, ElementType io, int B, int H, int L, int Lk) {
    var rng = new SplittableRandom(29L * L + B);
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    int n = B * H * L, sides = bi ? 2 : 1;
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, mode);
    int[] f = PackedLearnedRef.factorsOf(plan);
    double[][] blocks = PackedLearnedRefGpuTest.blocks(rng, plan, 2);
    float[] u = Reference.randn(rng, n, 1.0), dy = Reference.randn(rng, n, 1.0), k0 = Reference.randn(rng, H * Lk, 1 / Math.sqrt(Lk)),
        k1 = Reference.randn(rng, H * Lk, 1 / Math.sqrt(Lk)), D = Reference.randn(rng, H, 1.0);
    String what = mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " M=" + plan.fftSize() / 2 + " " + Arrays.toString(f);
    float[][][] out = new float[2][][];
    double[][][] gb = new double[2][][];
    try (var ub = io == ElementType.F32 ? dev.upload(u) : dev.upload(HalfFloats.encode(u, io));
         var dyb = io == ElementType.F32 ? dev.upload(dy) : dev.upload(HalfFloats.encode(dy, io));
         var y = dev.alloc(4L * (n + 1)); var du = dev.alloc(4L * (n + 1)); var dk = dev.alloc(4L * sides * H * Lk); var dD = dev.alloc(4L * H);
         var ch = PackedLearnedChain.plan(dev, H, L, Lk, mode, io, plan, f).setBlocks(blocks)) {
      if (bi) ch.setWeights(k0, k1, D); else ch.setWeights(k0, D);
      for (int v = 0; v < 2; v++) {
        ch.fused(v == 0);
        for (DeviceBuffer b : new DeviceBuffer[] {y, du, dk, dD}) b.fill32(0x7fc07fc0);
        ch.forward(ub, y, B);
        ch.backward(ub, dyb, B, du, dk, dD);
        out[v] = new float[][] {ConvCase.read(dev, y, io, n), ConvCase.read(dev, du, io, n), dk.copyTo(new float[sides * H * Lk], 0), dD.copyTo(new float[H], 0)};
        gb[v] = ch.blockGrads();
      }
    }
    String[] names = {"y", "du", "dk", "dD"};
    double tolIo = io == ElementType.F32 ? 2 * TOL32 : 2 * TOL16;
    for (int i = 0; i < 4; i++) {
      PackedLearnedRefGpuTest.finite(out[0][i], names[i] + " fused " + what);
      Reference.assertClose(names[i] + " fused vs unfused " + what, out[0][i], ConvCase.toD(out[1][i]),
          i < 2 ? tolIo : i == 2 ? 2 * TOL32 * Math.sqrt((double) plan.fftSize() / Lk) : 2 * TOL32);
    }
    for (int i = 0; i < gb[0].length; i++) Reference.assertClose("dBlock " + i + " fused vs unfused " + what, toF(gb[0][i]), gb[1][i], 2 * TOL32);
  }

  @Test
  void rejectsBadInput() {
    ConvPlan p = PackedLearnedConv.libPlan(2000, 2000, ConvMode.CAUSAL);   // M = 2048
    var e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedChain.plan(dev, 3, 2000, 2000, ConvMode.CAUSAL, ElementType.F32, p, new int[] {8, 16, 8}));
    assertTrue(e.getMessage().contains("M=2048") && e.getMessage().contains("[8, 16, 8]"), e.getMessage());
    try (var ch = PackedLearnedChain.plan(dev, 3, 2000, 2000, ConvMode.CAUSAL, ElementType.F32, p, new int[] {8, 16, 16}); var small = dev.alloc(16);
         var big = dev.alloc(4L * 2 * 3 * 2000)) {
      assertThrows(IllegalStateException.class, () -> ch.forward(big, big, 2));
      e = assertThrows(IllegalArgumentException.class, () -> ch.setBlocks(new double[4][]));
      assertTrue(e.getMessage().contains("need 6 blocks"), e.getMessage());
      double[][] b = new double[6][];
      for (int i = 0; i < 6; i++) b[i] = new double[2 * 16 * 16];
      e = assertThrows(IllegalArgumentException.class, () -> ch.setBlocks(b));
      assertTrue(e.getMessage().contains("block 0 must be (8, 8, 2)"), e.getMessage());
      ch.setWeights(new float[3 * 2000], new float[3]);
      e = assertThrows(IllegalArgumentException.class, () -> ch.forward(small, big, 2));
      assertTrue(e.getMessage().contains("(B=2, H=3, L=2000)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> ch.backward(big, big, 2, big, small, small));
      assertTrue(e.getMessage().contains("H=3, Lk=2000"), e.getMessage());
    }
  }
}
