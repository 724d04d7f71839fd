// Shapes: B batch, H channels, L length, Lk taps; N the real FFT size (bidirectional: the power of two >= L + Lk;
// circular: N = L), M = N / 2 = N1 x N2 (1024 = 32 x 32, 512 = 16 x 32, 256 = 16 x 16). u, y, dy, du: (B, H, L);
// k (k0), k1: (H, Lk); GPU dk: (sides, H, Lk), lib's dk: (H, sides, Lk); D, dD: (H); blocks {Fa, Fb, Gb, Ga} complex.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Session 13, helper pkmode: the packed learned butterfly's GPU kernels ({@link PackedLearnedConv}: forward, du; its
 * backward: du, dk of every side, dD and the four block gradients) in BIDIRECTIONAL and CIRCULAR modes against lib's
 * float64 {@link PackedLearnedButterfly} (forward, backward's du, backwardAll), bf16 and fp16, fresh random data per case,
 * blocks at the exact DFT (then also against the direct float64 convolution of the mode and FlashButterfly's forward in
 * the same mode), the DFT plus 5 % noise or fully random (PackedLearnedGpuTest.blocks). Awkward shapes: odd B, B = 1,
 * H = 3 / 13 / 111 / 770, Lk &lt; L, L not a multiple of 8 (bidirectional; circular L is N). Outputs and gradients are
 * NaN-poisoned first (du with a tail past B H L that must stay poisoned) and must come back finite; P and Q from the
 * device ({@code lpk_pq_bi} / {@code lpk_pq}) against lib's pairCoefficients of the mode's placed taps. The forward and du
 * of the default kernel (r2w12 variant 27) equal those of r1w16 variant 0 bit for bit (the same code per row; circular
 * L = 2048 runs its one kernel, r1w12s32, whose x stage holds all 32 rows of A). The
 * backward runs the defaults, the first route (ins dumps, 4-byte stores, one stream, synchronised), the fused dP / dQ,
 * dk on the side stream and forwardForBackward's saved dumps. {@code -Dlongconv4j.pk.test.modes=quick}: the first case
 * of each (mode, N) only (6 of 16 shapes), for a short closing call.
 * Tolerances: PackedLearnedGpuTest's and PackedLearnedBackwardGpuTest's, with their reasons (the modes change P / Q and
 * which taps dk keeps, not the chain's roundings): y, du, block gradients 1e-2 relative (L2); P / Q 1e-4 (an fp32 DFT of
 * at most 2 x 1024 taps on an exact-index twiddle table); dk 1e-2 sqrt(N / Lk) per side (dk keeps Lk of the N placed
 * taps' energy); dD 1e-5; against FlashButterfly at init 1.5e-2.
 */
@Tag("gpu")
class PackedLearnedModesGpuTest extends CudaDeviceTest {
  private static final String[] NAMES = {"dFa", "dFb", "dGb", "dGa"};

  static Stream<Arguments> cases() {
    // mode, B, H, L, Lk, blocks (0: DFT, 1: DFT + 5 % noise, 2: fully random)
    Object[][] shapes = {
        // bidirectional 32 x 32, 16 x 32, 16 x 16 (N >= L + Lk): Lk = L, Lk < L, odd L, L % 8 != 0, B = 1, H = 3 / 770
        {ConvMode.BIDIRECTIONAL, 3, 111, 1000, 1000, 0}, {ConvMode.BIDIRECTIONAL, 5, 770, 1024, 1024, 2},
        {ConvMode.BIDIRECTIONAL, 1, 3, 777, 300, 2}, {ConvMode.BIDIRECTIONAL, 3, 111, 512, 512, 1},
        {ConvMode.BIDIRECTIONAL, 7, 13, 511, 400, 2}, {ConvMode.BIDIRECTIONAL, 5, 111, 256, 256, 0},
        {ConvMode.BIDIRECTIONAL, 9, 13, 255, 250, 1}, {ConvMode.BIDIRECTIONAL, 3, 7, 129, 128, 2},   // L + Lk = 257: N = 512
        // circular (N = L): 16 x 16 at L = 512, 16 x 32 at L = 1024, 32 x 32 at L = 2048 (the 32-row stage); Lk = L and Lk < L
        {ConvMode.CIRCULAR, 3, 111, 512, 512, 0}, {ConvMode.CIRCULAR, 5, 770, 512, 300, 2}, {ConvMode.CIRCULAR, 9, 13, 1024, 1024, 1},
        {ConvMode.CIRCULAR, 1, 111, 1024, 1024, 2}, {ConvMode.CIRCULAR, 7, 3, 1024, 700, 0}, {ConvMode.CIRCULAR, 3, 111, 2048, 2048, 0},
        {ConvMode.CIRCULAR, 5, 130, 2048, 1500, 2}, {ConvMode.CIRCULAR, 1, 13, 2048, 2048, 1}};
    // -Dlongconv4j.pk.test.modes=quick (a closing call): one case per mode and M (the first of each), both 16-bit types
    boolean quick = "quick".equals(System.getProperty("longconv4j.pk.test.modes", "all"));
    var seen = new java.util.HashSet<String>();
    Object[][] pick = Stream.of(shapes).filter(s -> !quick || seen.add(s[0] + "/" + PackedLearnedConv.libPlan((Integer) s[3], (Integer) s[4],
        (ConvMode) s[0]).fftSize())).toArray(Object[][]::new);
    return Stream.of(ElementType.BF16, ElementType.F16)
        .flatMap(io -> Stream.of(pick).map(s -> Arguments.of(s[0], io, s[1], s[2], s[3], s[4], s[5])));
  }

  /** One case's data, lib's references and the plan's shapes. */
  private record Case(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind, ConvPlan plan, ConvShape shape,
      double[][] blocks, short[] u16, short[] dy16, float[] u, float[] dy, float[] k0, float[] k1, float[] D, double[] kLib) {
    boolean bi() { return mode == ConvMode.BIDIRECTIONAL; }
    int sides() { return bi() ? 2 : 1; }
    String what() { return mode + " " + io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " blocks=" + kind; }
    PackedLearnedConv plan(CudaDevice dev) {
      var pk = PackedLearnedConv.plan(dev, H, L, Lk, mode, io).setBlocks(blocks);
      return bi() ? pk.setWeights(k0, k1, D) : pk.setWeights(k0, D);
    }
  }

  private static Case make(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind, long salt) {
    var rng = new SplittableRandom(salt + 4099L * L + 97L * B + 13L * H + 7L * kind + io.ordinal() + 31L * mode.ordinal());
    short[] u16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io);
    float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), D = Reference.randn(rng, H, 1.0);
    float[] k1 = mode == ConvMode.BIDIRECTIONAL ? Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)) : null;
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, mode);
    int sides = k1 != null ? 2 : 1;
    double[] kLib = new double[sides * H * Lk];   // lib's layout (H, sides, Lk)
    for (int h = 0; h < H; h++)
      for (int t = 0; t < Lk; t++) {
        kLib[h * sides * Lk + t] = k0[h * Lk + t];
        if (k1 != null) kLib[h * 2 * Lk + Lk + t] = k1[h * Lk + t];
      }
    var shape = new ConvShape(B, 1, H, L, Lk, LearnedButterflyConv.libMode(mode));
    return new Case(mode, io, B, H, L, Lk, kind, plan, shape, PackedLearnedGpuTest.blocks(rng, plan, kind), u16, dy16,
        HalfFloats.decode(u16, io), HalfFloats.decode(dy16, io), k0, k1, D, kLib);
  }

  /** lib's (H, sides, Lk) as the GPU's (sides, H, Lk). */
  private static double[] gpuLayout(double[] dk, int sides, int H, int Lk) {
    double[] out = new double[dk.length];
    for (int s = 0; s < sides; s++)
      for (int h = 0; h < H; h++) System.arraycopy(dk, (h * sides + s) * Lk, out, (s * H + h) * Lk, Lk);
    return out;
  }

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6}")
  @MethodSource("cases")
  void forwardAndInputGradientMatchLib(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind) {
    Case c = make(mode, io, B, H, L, Lk, kind, 0);
    var cpu = new PackedLearnedButterfly(c.plan(), c.blocks());
    double[] ud = ConvCase.toD(c.u()), kd = c.kLib(), Dd = ConvCase.toD(c.D());
    double[] yRef = cpu.forward(c.shape(), ud, kd, Dd), duRef = cpu.backward(c.shape(), ud, kd, Dd, ConvCase.toD(c.dy())).du();
    String what = c.what();
    int n = B * H * L, tail = 64 + (n & 1);
    float[][] y = new float[2][], g = new float[2][];
    try (var du = dev.upload(c.u16()); var ddy = dev.upload(c.dy16()); var out = dev.alloc(2L * (n + tail))) {
      // v = 0: the default kernel; 1: r1w16 variant 0 (circular 2048 has one kernel, r1w12s32: v = 0 only)
      int configs = mode == ConvMode.CIRCULAR && L == 2048 ? 1 : 2;
      for (int v = 0; v < configs; v++) {
        try (var pk = c.plan(dev)) {
          assertEquals(mode, pk.mode());
          if (v == 1) pk.batchRows(false).variant(0);
          String name = pk.kernelName();
          out.fill32(0x7fc07fc0);   // NaN as bf16 and as fp16
          pk.forward(du, out, B);
          short[] all = LearnedCase.read(dev, out, n + tail);
          for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], name + " wrote past B H L at " + j + ": " + what);
          y[v] = HalfFloats.decode(Arrays.copyOf(all, n), io);
          for (int j = 0; j < n; j++) assertTrue(Float.isFinite(y[v][j]), name + ": y[" + j + "] not written (or not finite): " + what);
          Reference.assertClose(name + " vs lib " + what, y[v], yRef, 1e-2);
          if (v == 0) {   // P / Q of the mode's placed taps
            float[] got = pk.pairCoefficients();
            int m = c.plan().fftSize() / 2;
            for (int h : new int[] {0, H / 2, H - 1}) {
              double[] ref = PackedLearnedButterfly.pairCoefficients(c.plan(), PackedLearnedButterfly.placeTaps(c.plan(), c.shape(), kd, h));
              Reference.assertClose("P, Q of channel " + h + " vs lib " + what, Arrays.copyOfRange(got, 4 * m * h, 4 * m * (h + 1)), ref, 1e-4);
            }
          }
          out.fill32(0x7fc07fc0);
          pk.backwardInput(ddy, out, B);
          all = LearnedCase.read(dev, out, n + tail);
          for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], name + " du wrote past B H L at " + j + ": " + what);
          g[v] = HalfFloats.decode(Arrays.copyOf(all, n), io);
          for (int j = 0; j < n; j++) assertTrue(Float.isFinite(g[v][j]), name + ": du[" + j + "] not written (or not finite): " + what);
          Reference.assertClose(name + " du vs lib " + what, g[v], duRef, 1e-2);
        }
      }
      if (configs == 2) {
        int diff = 0, diffG = 0;
        for (int j = 0; j < n; j++) {
          if (Float.floatToRawIntBits(y[0][j]) != Float.floatToRawIntBits(y[1][j])) diff++;
          if (Float.floatToRawIntBits(g[0][j]) != Float.floatToRawIntBits(g[1][j])) diffG++;
        }
        System.out.printf("default vs r1w16 %s: %d of %d values differ (du: %d)%n", what, diff, n, diffG);
        assertEquals(0, diff, "default vs r1w16 (the same code per row) differ: " + what);
        assertEquals(0, diffG, "default vs r1w16 du differ: " + what);
      }
      if (kind == 0) {   // at init: the mode's exact convolution, and FlashButterfly's forward in the same mode
        double[] direct = c.bi() ? Reference.bidirectional(c.u(), c.k0(), c.k1(), Lk, c.D(), B, H, L)
            : Reference.circular(c.u(), c.k0(), Lk, c.D(), B, H, L);
        Reference.assertClose("default at init vs direct " + what, y[0], direct, 1e-2);
        try (var fb = FlashButterflyConv.plan(dev, H, L, mode, io, io == ElementType.BF16 ? Precision.BF16 : Precision.F16)) {
          if (c.bi()) fb.setWeights(c.k0(), c.k1(), Lk, c.D()); else fb.setWeights(c.k0(), Lk, c.D());
          out.fill32(0x7fc07fc0);
          fb.forward(du, out, B);
          Reference.assertClose("default at init vs FlashButterfly " + what, y[0], ConvCase.toD(ConvCase.read(dev, out, io, n)), 1.5e-2);
        }
      }
    }
  }

  /** {direct, staged, fusedpq, cachedadj, sync, dkg, streams, sidedk} ("-": the default) and "save" (forwardForBackward). */
  private static final String[] KEYS = {"direct", "staged", "fusedpq", "cachedadj", "sync", "dkg", "streams", "sidedk"};
  private static final String[][] ROUTES = {{"false", "false", "false", "false", "true", "1", "1", "-", "-"},
      {"-", "-", "true", "-", "-", "-", "-", "-", "-"}, {"-", "-", "-", "-", "-", "-", "-", "true", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "save"}, {"-", "-", "-", "-", "-", "-", "-", "-", "-"}};

  @ParameterizedTest(name = "{0} {1} B={2} H={3} L={4} Lk={5} blocks={6}")
  @MethodSource("cases")
  void backwardMatchesLib(ConvMode mode, ElementType io, int B, int H, int L, int Lk, int kind) {
    Case c = make(mode, io, B, H, L, Lk, kind, 77);
    var cpu = new PackedLearnedButterfly(c.plan(), c.blocks());
    double[] ud = ConvCase.toD(c.u()), Dd = ConvCase.toD(c.D());
    var ref = cpu.backwardAll(c.shape(), ud, c.kLib(), Dd, ConvCase.toD(c.dy()));
    double[] yRef = cpu.forward(c.shape(), ud, c.kLib(), Dd), dkRef = gpuLayout(ref.conv().dk(), c.sides(), H, Lk);
    String what = c.what();
    int n = B * H * L, tail = 64 + (n & 1), nk = c.sides() * H * Lk;
    double tolK = 1e-2 * Math.sqrt((double) c.plan().fftSize() / Lk);
    try (var du16 = dev.upload(c.u16()); var ddy = dev.upload(c.dy16()); var out = dev.alloc(2L * (n + tail)); var dk = dev.alloc(4L * nk);
         var dD = dev.alloc(4L * H); var ys = dev.alloc(2L * (n + (n & 1))); var pk = c.plan(dev)) {
      var failures = new ArrayList<String>();
      for (String[] route : ROUTES) {
        String w = what + " route " + Arrays.toString(route);
        float[] ySaved = null;
        try {
          for (int i = 0; i < KEYS.length; i++) if (!route[i].equals("-")) System.setProperty("longconv4j.pk.bwd." + KEYS[i], route[i]);
          System.setProperty("longconv4j.pk.bwd.poison", "true");
          if (route[KEYS.length].equals("save")) {
            ys.fill32(0x7fc07fc0);
            pk.forwardForBackward(du16, ys, B);
            ySaved = ConvCase.read(dev, ys, io, n);
          }
          out.fill32(0x7fc07fc0);
          dk.fill32(0x7fc00000);
          dD.fill32(0x7fc00000);
          pk.backward(du16, ddy, B, out, dk, dD);
        } finally {
          for (String key : KEYS) System.clearProperty("longconv4j.pk.bwd." + key);
          System.clearProperty("longconv4j.pk.bwd.poison");
        }
        short[] all = LearnedCase.read(dev, out, n + tail);
        float[] duG = ConvCase.read(dev, out, io, n), dkG = dk.copyTo(new float[nk], 0), dDG = dD.copyTo(new float[H], 0);
        double[][] gb = pk.blockGrads();
        try {
          for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], "du wrote past B H L at " + j + ": " + w);
          for (float[] a : new float[][] {duG, dkG, dDG})
            for (int j = 0; j < a.length; j++) assertTrue(Float.isFinite(a[j]), "a gradient not written (or not finite) at " + j + ": " + w);
          Reference.assertClose("du vs lib " + w, duG, ref.conv().du(), 1e-2);
          for (int s = 0; s < c.sides(); s++)
            Reference.assertClose("dk side " + s + " vs lib " + w, Arrays.copyOfRange(dkG, s * H * Lk, (s + 1) * H * Lk),
                Arrays.copyOfRange(dkRef, s * H * Lk, (s + 1) * H * Lk), tolK);
          if (c.bi() && Lk == L)   // k1[L-1] reaches no input: exactly 0 (lib's too)
            for (int h = 0; h < H; h++) assertEquals(0f, dkG[H * Lk + h * Lk + Lk - 1], "dk1[L-1] of channel " + h + ": " + w);
          Reference.assertClose("dD vs lib " + w, dDG, ref.conv().dD(), 1e-5);
          for (int i = 0; i < 4; i++) Reference.assertClose(NAMES[i] + " vs lib " + w, PackedLearnedBackwardGpuTest.toF(gb[i]), ref.dBlocks()[i], 1e-2);
          if (ySaved != null) Reference.assertClose("y of forwardForBackward vs lib " + w, ySaved, yRef, 1e-2);
        } catch (AssertionError e) {
          failures.add(e.getMessage());
          System.out.println("FAILED route: " + e.getMessage());
        }
      }
      assertTrue(failures.isEmpty(), failures.size() + " route(s) failed: " + String.join(" | ", failures));
    }
  }

  @Test
  void modeWeightsAndRefusals() {
    try (var pk = PackedLearnedConv.plan(dev, 4, 512, 512, ConvMode.BIDIRECTIONAL, ElementType.BF16)) {
      var e = assertThrows(IllegalArgumentException.class, () -> pk.setWeights(new float[4 * 512], new float[4]));
      assertTrue(e.getMessage().contains("two kernels"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pk.setWeights(new float[4 * 512], new float[4 * 511], new float[4]));
      assertTrue(e.getMessage().contains("(H=4, Lk=512)"), e.getMessage());
      pk.setWeights(new float[4 * 512], new float[4 * 512], new float[4]);
      try (var big = dev.alloc(2L * 2 * 4 * 512); var dk1 = dev.alloc(4L * 4 * 512); var dD = dev.alloc(16)) {
        e = assertThrows(IllegalArgumentException.class, () -> pk.backward(big, big, 2, big, dk1, dD));   // dk must be (2, H, Lk)
        assertTrue(e.getMessage().contains("(2, H=4, Lk=512)"), e.getMessage());
      }
    }
    try (var pk = PackedLearnedConv.plan(dev, 4, 1024, 1024, ConvMode.CIRCULAR, ElementType.F16)) {
      var e = assertThrows(IllegalArgumentException.class, () -> pk.setWeights(new float[4 * 1024], new float[4 * 1024], new float[4]));
      assertTrue(e.getMessage().contains("one kernel"), e.getMessage());
      org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {16, 32}, pk.factors());
    }
  }
}
