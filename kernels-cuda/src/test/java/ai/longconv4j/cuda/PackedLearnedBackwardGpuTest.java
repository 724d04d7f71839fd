// Shapes: B batch, H channels, L length, Lk taps; N the real FFT size, M = N / 2 = N1 x N2 (causal 512 < L <= 1024:
// 32 x 32; 256 < L <= 512: 16 x 32; 128 < L <= 256: 16 x 16). u, dy, du: (B, H, L); k, dk: (H, Lk); D, dD: (H);
// blocks and block gradients {Fa (N1, N1), Fb (N2, N2), Gb (N2, N2), Ga (N1, N1)}, complex interleaved.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The packed learned butterfly's GPU backward ({@link PackedLearnedConv#backward}, {@link PackedLearnedBackward},
 * learned_pk_bwd.cu + learned_tc_bwd.cu's Grams) against lib's float64 {@link PackedLearnedButterfly#backwardAll}: du,
 * dk, dD and the four block gradients, bf16 and fp16, fresh random u, dy, k, D per case, blocks at the exact DFT, the
 * DFT plus 5 % noise (a trained state) or fully random (entries N(0, 1/2) per part: every index of every block matters,
 * so a wrong rho / sigma un-permutation, partner or conjugate shows). du, dk and dD are NaN-poisoned first (du with a
 * tail past B H L that must stay poisoned) and must come back finite. At init (DFT blocks) also against the exact
 * causal convolution's gradients (direct float64 sums: Reference.causalAdjoint, kernelGrad, dGrad) and against
 * FlashButterfly's GPU backward (backwardInput, backwardWeights) on the same data. Every case runs the routes of
 * PackedLearnedBackward's speed choices (ROUTES; system properties longconv4j.pk.bwd.direct / staged / fusedpq / grama /
 * cachedadj / sync / dkg), each checked (all failures reported together).
 * Tolerances (relative Frobenius error), the unpacked learned backward's budget (LearnedTensorCoreGpuTest): du goes
 * through the adjoint chain, the forward's structure (x, X1, C', X3 and the output rounded to 16 bits, blocks in 16
 * bits: a few 1e-3), 1e-2. The block gradients and dP / dQ are fp32 sums of products of 16-bit intermediates that went
 * through up to three rounded products (~3e-3 relative each): 1e-2. dk sums all N entries of dK of which the kept Lk taps
 * hold ~Lk / N of the energy: 1e-2 sqrt(N / Lk). dD sums exact products of the 16-bit inputs in fp32 (<= 1e3 terms a
 * channel per batch row, 2^-24 each): 1e-5. Against the exact convolution at init: the same bounds (lib's twin at the DFT
 * equals it to ~1e-12). Against FlashButterfly at init: 1.5e-2 for du (two independent 16-bit pipelines, each within
 * 1e-2 of the exact result); dk 1.5e-2 sqrt(N / Lk); dD 1e-5 (both sum the same exact products in fp32).
 */
@Tag("gpu")
class PackedLearnedBackwardGpuTest extends CudaDeviceTest {
  private static final String[] NAMES = {"dFa", "dFb", "dGb", "dGa"};
  /** The properties of ROUTES' columns (longconv4j.pk.bwd.*). */
  private static final String[] KEYS = {"direct", "staged", "fusedpq", "grama", "cachedadj", "sync", "dkg", "streams", "sidedk",
      "gramsm", "gbsm", "sidegrams", "ingram"};
  /** ROUTES' last column: "save" runs PackedLearnedConv.forwardForBackward on u first (its y checked against lib's forward). */
  private static final int SAVE = 13;
  /**
   * {direct, staged, fusedpq, grama, cachedadj, sync, dkg, streams, sidedk} ("-": the property cleared, its default): the
   * first route of sittings s1 / s2 (ins dumps, 4-byte dump stores, lpkb_dk on the dumps) with pkbwd's host side (the
   * adjoint blocks / coefficients computed per call, the closing synchronisation, lpkb_dk in one batch group, one
   * stream), staged dumps with dGa / dFa from u / dy, with dP / dQ in the adjoint chain and the form-A Grams in 3 stages,
   * pkbwd's final defaults (fusedPq at 16 x 16 only); helper pkbwd2's (the plan's adjoint blocks / coefficients, kept
   * workspaces without the closing synchronisation, lpkb_dk in 1024 / M batch groups, fusedPq off, dGa and dD on a second
   * stream) with fusedPq on, with one stream, the first route's kernels on two streams (the fork after the adjoint chain)
   * also with dk on the side stream, the defaults with dk on the side stream and without (its default: on at 16 x 16
   * only), the forward chain's dumps saved by forwardForBackward (defaults, and on the first route's kernels: ins dumps,
   * 4-byte stores); helper pkbwd3's Gram grids (gramsm / gbsm blocks per SM) and block gradients on the side stream
   * (sidegrams): with dGb there, with all three and dk there, on the first route's kernels (ins dumps: the fork after the
   * adjoint chain) with one-block-per-SM grids, with the closing synchronisation (part2 per call), with forwardForBackward
   * (s1 found the kept workspaces reallocated there, dropping the saved dumps); pkbwd2's grids and one stream for the Grams
   * (gramsm 4, gbsm 4, sidegrams none: pkbwd3's slow twin at N1 = 16, where "-" is now 5 / 3 / gb) and pkbwd3's N1 = 16
   * defaults set explicitly (at 32 x 32 too, where they are a candidate); helper pkbwd4's in-chain Grams (ingram: dGa in
   * the forward chain, dFa in the adjoint chain; N1 = 16, ignored at 32 x 32): both, each alone (fa on one stream), with the
   * closing synchronisation, with fa / gb / fb on the side stream (fa then in the chain), with forwardForBackward (dGa by
   * lpkb_gram_b on the saved dumps), with fusedpq (ingram ignored), and ingram=none (the slow twin since ga/fa became the
   * default, rows above with "-" in that column run the default) alone and with forwardForBackward; then all defaults. The raw block gradients are NaN-poisoned before every call (longconv4j.pk.bwd.poison).
   */
  private static final String[][] ROUTES = {{"false", "false", "false", "-", "false", "true", "1", "1", "-", "-", "-", "-", "-", "-"},
      {"true", "true", "false", "-", "false", "true", "1", "1", "-", "-", "-", "-", "-", "-"},
      {"true", "true", "true", "3", "false", "true", "1", "1", "-", "-", "-", "-", "-", "-"},
      {"true", "true", "16x16", "-", "false", "true", "1", "1", "-", "-", "-", "-", "-", "-"},
      {"-", "-", "true", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "1", "-", "-", "-", "-", "-", "-"},
      {"false", "false", "false", "-", "-", "-", "-", "2", "true", "-", "-", "-", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "true", "-", "-", "-", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "false", "-", "-", "-", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "save"},
      {"false", "false", "false", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "save"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "4", "4", "none", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "5", "3", "gb", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "6", "3", "gb", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "true", "5", "3", "fa/gb/fb", "-", "-"},
      {"false", "false", "-", "-", "-", "-", "-", "-", "-", "1", "1", "fa/fb", "-", "-"},
      {"-", "-", "-", "-", "-", "true", "-", "-", "false", "-", "3", "gb/fb", "-", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "6", "3", "gb", "-", "save"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "ga/fa", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "ga", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "1", "-", "-", "-", "-", "fa", "-"},
      {"-", "-", "-", "-", "-", "true", "-", "-", "-", "-", "-", "-", "ga/fa", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "true", "-", "-", "fa/gb/fb", "fa", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "ga/fa", "save"},
      {"-", "-", "true", "-", "-", "-", "-", "-", "-", "-", "-", "-", "ga/fa", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "none", "-"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "none", "save"},
      {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"}};

  static Stream<Arguments> cases() {
    // B, H, L, Lk, blocks (0: DFT, 1: DFT + 5 % noise, 2: fully random)
    Object[][] shapes = {{3, 111, 1000, 1000, 0}, {3, 111, 1024, 1024, 1}, {5, 111, 1023, 1023, 2}, {1, 111, 1000, 700, 2},
        {3, 770, 1024, 1024, 2}, {7, 131, 1000, 1000, 1},
        // 16 x 32 (one warp per row, 12 warps): L = 512, odd L; 16 x 16: L = 256, odd L
        {3, 111, 512, 512, 0}, {5, 150, 511, 400, 2}, {3, 111, 256, 256, 1}, {5, 140, 255, 255, 2}};
    return Stream.of(ElementType.BF16, ElementType.F16).flatMap(io -> Stream.of(shapes).map(s -> Arguments.of(io, s[0], s[1], s[2], s[3], s[4])));
  }

  @ParameterizedTest(name = "{0} B={1} H={2} L={3} Lk={4} blocks={5}")
  @MethodSource("cases")
  void backwardMatchesLib(ElementType io, int B, int H, int L, int Lk, int kind) {
    var rng = new SplittableRandom(7919L * L + 101L * B + 17L * H + 5L * kind + io.ordinal());
    short[] u16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), io);
    float[] u = HalfFloats.decode(u16, io), dy = HalfFloats.decode(dy16, io);
    float[] k = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), D = Reference.randn(rng, H, 1.0);
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, ConvMode.CAUSAL);
    double[][] blocks = PackedLearnedGpuTest.blocks(rng, plan, kind);
    var shape = new ConvShape(B, 1, H, L, Lk, ai.longconv4j.conv.ConvMode.CAUSAL);
    var ref = new PackedLearnedButterfly(plan, blocks).backwardAll(shape, ConvCase.toD(u), ConvCase.toD(k), ConvCase.toD(D), ConvCase.toD(dy));
    String what = io + " B=" + B + " H=" + H + " L=" + L + " Lk=" + Lk + " blocks=" + kind;
    int n = B * H * L, tail = 64 + (n & 1);
    double tolK = 1e-2 * Math.sqrt((double) plan.fftSize() / Lk);
    double[] yRef = new PackedLearnedButterfly(plan, blocks).forward(shape, ConvCase.toD(u), ConvCase.toD(k), ConvCase.toD(D));
    try (var du16 = dev.upload(u16); var ddy = dev.upload(dy16); var out = dev.alloc(2L * (n + tail)); var dk = dev.alloc(4L * H * Lk);
         var dD = dev.alloc(4L * H); var ys = dev.alloc(2L * (n + (n & 1)));   // fill32: a whole number of 4-byte words
         var pk = PackedLearnedConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, io).setBlocks(blocks).setWeights(k, D)) {
      float[] duG = null, dkG = null, dDG = null;
      var failures = new java.util.ArrayList<String>();   // every route checked, the failures reported together
      // the routes (PackedLearnedBackward's speed choices; the last one the defaults): {direct, staged, fusedpq}
      for (String[] route : ROUTES) {
        var wb = new StringBuilder(what);
        for (int i = 0; i < KEYS.length; i++) wb.append(' ').append(KEYS[i]).append('=').append(route[i]);
        String w = wb.toString() + (route[SAVE].equals("save") ? " forwardForBackward" : "");
        float[] ySaved = null;
        try {
          for (int i = 0; i < KEYS.length; i++) if (!route[i].equals("-")) System.setProperty("longconv4j.pk.bwd." + KEYS[i], route[i]);
          System.setProperty("longconv4j.pk.bwd.poison", "true");   // a Gram left out shows as NaN
          if (route[SAVE].equals("save")) {   // the forward chain with its output and kept dumps; the backward skips it
            ys.fill32(0x7fc07fc0);
            pk.forwardForBackward(du16, ys, B);
            ySaved = ConvCase.read(dev, ys, io, n);
          }
          out.fill32(0x7fc07fc0);   // NaN as bf16 and as fp16
          dk.fill32(0x7fc00000);
          dD.fill32(0x7fc00000);
          pk.backward(du16, ddy, B, out, dk, dD);
        } finally {
          for (String key : KEYS) System.clearProperty("longconv4j.pk.bwd." + key);
          System.clearProperty("longconv4j.pk.bwd.poison");
        }
        short[] all = LearnedCase.read(dev, out, n + tail);
        duG = ConvCase.read(dev, out, io, n);
        dkG = dk.copyTo(new float[H * Lk], 0);
        dDG = dD.copyTo(new float[H], 0);
        double[][] gb = pk.blockGrads();
        float[] du0 = duG, dk0 = dkG, dD0 = dDG;
        try {
          for (int j = n; j < n + tail; j++) assertEquals((short) 0x7fc0, all[j], pk + " wrote past B H L at " + j + ": " + w);
          for (float[] a : new float[][] {du0, dk0, dD0})
            for (int j = 0; j < a.length; j++) assertTrue(Float.isFinite(a[j]), "a gradient not written (or not finite) at " + j + ": " + w);
          Reference.assertClose("du vs lib " + w, du0, ref.conv().du(), 1e-2);
          Reference.assertClose("dk vs lib " + w, dk0, ref.conv().dk(), tolK);
          Reference.assertClose("dD vs lib " + w, dD0, ref.conv().dD(), 1e-5);
          for (int i = 0; i < 4; i++) Reference.assertClose(NAMES[i] + " vs lib " + w, toF(gb[i]), ref.dBlocks()[i], 1e-2);
          // forwardForBackward's y: the forward's structure in 16 bits as PackedLearnedGpuTest's forward (its bound 1e-2)
          if (ySaved != null) Reference.assertClose("y of forwardForBackward vs lib " + w, ySaved, yRef, 1e-2);
        } catch (AssertionError e) {
          failures.add(e.getMessage());
          System.out.println("FAILED route: " + e.getMessage());
        }
      }
      assertTrue(failures.isEmpty(), failures.size() + " route(s) failed: " + String.join(" | ", failures));
      if (kind == 0) {   // at init: the exact convolution's gradients, and FlashButterfly's backward on the same data
        Reference.assertClose("du at init vs direct " + what, duG, Reference.causalAdjoint(dy, k, Lk, D, B, H, L), 1e-2);
        Reference.assertClose("dk at init vs direct " + what, dkG, Reference.kernelGrad(ConvMode.CAUSAL, u, dy, Lk, B, H, L), tolK);
        Reference.assertClose("dD at init vs direct " + what, dDG, Reference.dGrad(u, dy, B, H, L), 1e-5);
        try (var fb = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, io == ElementType.BF16 ? Precision.BF16 : Precision.F16).setWeights(k, Lk, D);
             var fdk = dev.alloc(4L * H * Lk); var fdD = dev.alloc(4L * H)) {
          out.fill32(0x7fc07fc0);
          fb.backwardInput(ddy, out, B);
          fb.backwardWeights(du16, ddy, B, fdk, fdD);
          Reference.assertClose("du at init vs FlashButterfly " + what, duG, ConvCase.toD(ConvCase.read(dev, out, io, n)), 1.5e-2);
          Reference.assertClose("dk at init vs FlashButterfly " + what, dkG, ConvCase.toD(fdk.copyTo(new float[H * Lk], 0)), 1.5 * tolK);
          Reference.assertClose("dD at init vs FlashButterfly " + what, dDG, ConvCase.toD(fdD.copyTo(new float[H], 0)), 1e-5);
        }
      }
    }
  }

  /**
   * forwardForBackward's saved dumps are dropped by setWeights and setBlocks: saved under (k1, blocks1), then the weights
   * (or the blocks) changed, the backward must be lib's for the new ones. The forward chain's C' and X3 depend on k (the
   * pair map) and all four dumps on the blocks, so stale dumps would show in dGa / dGb (and dFa / dFb, dk): the same
   * bounds as backwardMatchesLib. Then a saved forward under the current state is used (its dk and block gradients
   * equal those of the plain backward to the bounds: both are lib's).
   */
  @Test
  void forwardForBackwardDroppedWhenWeightsOrBlocksChange() {
    int B = 2, H = 24, L = 256, Lk = 256, n = B * H * L;
    ElementType io = ElementType.BF16;
    var rng = new SplittableRandom(4242);
    short[] u16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io), dy16 = HalfFloats.encode(Reference.randn(rng, n, 1.0), io);
    float[] u = HalfFloats.decode(u16, io), dy = HalfFloats.decode(dy16, io);
    float[] k1 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k2 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] D = Reference.randn(rng, H, 1.0);
    ConvPlan plan = PackedLearnedConv.libPlan(L, Lk, ConvMode.CAUSAL);
    double[][] b1 = PackedLearnedGpuTest.blocks(rng, plan, 2), b2 = PackedLearnedGpuTest.blocks(rng, plan, 2);
    var shape = new ConvShape(B, 1, H, L, Lk, ai.longconv4j.conv.ConvMode.CAUSAL);
    double tolK = 1e-2 * Math.sqrt((double) plan.fftSize() / Lk);
    try (var du16 = dev.upload(u16); var ddy = dev.upload(dy16); var y = dev.alloc(2L * n); var out = dev.alloc(2L * n);
         var dk = dev.alloc(4L * H * Lk); var dD = dev.alloc(4L * H);
         var pk = PackedLearnedConv.plan(dev, H, L, Lk, ConvMode.CAUSAL, io).setBlocks(b1).setWeights(k1, D)) {
      // {change: 0 weights k1 -> k2 (blocks b1), 1 blocks b1 -> b2 (weights k2), 2 none (saved dumps used)}
      for (int change = 0; change < 3; change++) {
        pk.forwardForBackward(du16, y, B);
        if (change == 0) pk.setWeights(k2, D);
        if (change == 1) pk.setBlocks(b2);
        double[][] blocks = change == 0 ? b1 : b2;
        var ref = new PackedLearnedButterfly(plan, blocks).backwardAll(shape, ConvCase.toD(u), ConvCase.toD(k2), ConvCase.toD(D),
            ConvCase.toD(dy));
        pk.backward(du16, ddy, B, out, dk, dD);
        String w = "after forwardForBackward, " + (change == 0 ? "setWeights" : change == 1 ? "setBlocks" : "no change");
        Reference.assertClose("du " + w, ConvCase.read(dev, out, io, n), ref.conv().du(), 1e-2);
        Reference.assertClose("dk " + w, dk.copyTo(new float[H * Lk], 0), ref.conv().dk(), tolK);
        double[][] gb = pk.blockGrads();
        for (int i = 0; i < 4; i++) Reference.assertClose(NAMES[i] + " " + w, toF(gb[i]), ref.dBlocks()[i], 1e-2);
      }
    }
  }

  static float[] toF(double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
    return f;
  }

  @Test
  void rejectsBadInput() {
    try (var pk = PackedLearnedConv.plan(dev, 4, 1024, 1024, ConvMode.CAUSAL, ElementType.BF16); var small = dev.alloc(16);
         var big = dev.alloc(2L * 2 * 4 * 1024); var dk = dev.alloc(4L * 4 * 1024); var dD = dev.alloc(16)) {
      assertThrows(IllegalStateException.class, () -> pk.backward(big, big, 2, big, dk, dD));
      assertThrows(IllegalStateException.class, pk::blockGrads);
      pk.setWeights(new float[4 * 1024], new float[4]);
      var e = assertThrows(IllegalArgumentException.class, () -> pk.backward(small, big, 2, big, dk, dD));
      assertTrue(e.getMessage().contains("(B=2, H=4, L=1024)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pk.backward(big, big, 2, big, small, dD));
      assertTrue(e.getMessage().contains("(H=4, Lk=1024)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> pk.backward(big, big, 0, big, dk, dD));
      assertTrue(e.getMessage().contains("B=0"), e.getMessage());
    }
    // L = 1100, Lk = 100: N = 2048 (>= L + Lk - 1), M = 32 x 32, but ceil(L/2) = 550 > 16 rows x 32: not covered, refused
    // by the plan already (PackedLearnedHostTest), so neither forward nor backward can run on it
    var e = assertThrows(IllegalArgumentException.class, () -> PackedLearnedConv.plan(dev, 2, 1100, 100, ConvMode.CAUSAL, ElementType.BF16));
    assertTrue(e.getMessage().contains("ceil(L/2)=550"), e.getMessage());
  }
}
