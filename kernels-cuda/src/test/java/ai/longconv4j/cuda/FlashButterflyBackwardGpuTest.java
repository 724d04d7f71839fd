// Shapes: B batch (odd on purpose: the last FFT pair has one row), H channels (111: odd), L length (not a power of two
// where the mode allows), Lk kernel taps per side, N FFT size (<= 32K: one-pass plans; at 32K u's spectrum in global scratch).
//   u, dy, du: (B, H, L); k (H, Lk) (bidirectional k0, k1); D (H); dk (H, Lk) (bidirectional (2, H, Lk)); dD (H).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fused tensor-core backward ({@link FlashButterflyConv#backward}, flashbutterfly_bwd.cu: du, dk and dD from one
 * kernel per batch pair and channel plus one per channel) against float64 references — du against the adjoint
 * convolution written out below, dk and dD against {@link Reference#kernelGrad} / {@link Reference#dGrad} — and against
 * its slow twin, the fp32 {@link FlashButterflyConv#backwardWeights}; every mode, with the fused and the unfused
 * middle, both shared-memory storages, and dk only (no du). Outputs are poisoned with NaN first.
 *
 * Tolerances (relative Frobenius error). du: the forward kernel's 16-bit bound, 1e-2 (FlashButterflyGpuTest: <= 8
 * DFT stages rounding operands to bf16, rms 2.3e-3 each, in quadrature 6.5e-3, plus the output's rounding). dk: the
 * two forward FFTs (u and dy pairs, 16-bit operands, ~sqrt(4) * 2.3e-3 = 4.6e-3 each) give each product conj(Zu) Zd a
 * relative error ~6.5e-3 of |Zu||Zd| (16-bit storage of the spectra adds 2^-9 each); summing over pairs keeps the
 * ratio (errors and signal both add over the B*L random products, as random walks); the fp32 inverse adds ~1e-6. That
 * error spreads evenly over all N lags while the correlation of random rows fills the 2L - 1 (circular: N) lags, so the
 * Lk kept taps see a relative error of about 6.5e-3 * sqrt(2L / N) <= 6.5e-3: tol 1e-2, the bound for 16-bit
 * tensor-core paths. dD: fp32 sums of the 16-bit inputs (fp32 atomics): 1e-5.
 */
@Tag("gpu")
class FlashButterflyBackwardGpuTest extends CudaDeviceTest {
  static Stream<Arguments> cases() {
    var io = new Object[][] {{ElementType.BF16, Precision.BF16}, {ElementType.F16, Precision.F16},
        {ElementType.F32, Precision.BF16}};
    var shapes = new Object[][] {
        {ConvMode.CAUSAL, 3, 111, 1000, 1000}, {ConvMode.CAUSAL, 5, 7, 37, 20}, {ConvMode.CAUSAL, 1, 5, 300, 300},
        {ConvMode.CAUSAL, 3, 4, 2048, 2048}, {ConvMode.CAUSAL, 3, 3, 8000, 8000}, {ConvMode.CAUSAL, 3, 5, 5000, 300},
        {ConvMode.CIRCULAR, 3, 11, 256, 256}, {ConvMode.CIRCULAR, 3, 3, 4096, 4096}, {ConvMode.CIRCULAR, 3, 2, 16384, 2000},
        {ConvMode.BIDIRECTIONAL, 3, 13, 300, 300}, {ConvMode.BIDIRECTIONAL, 3, 3, 4096, 1000}};
    return combine(io, shapes);
  }

  /** N = 32K: u's spectrum through the global scratch (the _zg kernels; FlashButterflyConv.fusedBackwardAt32K, default on). */
  static Stream<Arguments> cases32K() {
    var io = new Object[][] {{ElementType.BF16, Precision.BF16}, {ElementType.F16, Precision.F16},
        {ElementType.F32, Precision.BF16}};
    var shapes = new Object[][] {{ConvMode.CAUSAL, 3, 2, 16384, 16384}, {ConvMode.CAUSAL, 3, 3, 9000, 5000},
        {ConvMode.CIRCULAR, 3, 2, 32768, 2000}, {ConvMode.BIDIRECTIONAL, 3, 2, 16384, 3000}};
    return combine(io, shapes);
  }

  static Stream<Arguments> combine(Object[][] io, Object[][] shapes) {
    return Stream.of(io).flatMap(t -> Stream.of(shapes).flatMap(s -> Stream.of(true, false)
        .map(f -> Arguments.of(t[0], t[1], s[0], s[1], s[2], s[3], s[4], f))));
  }

  /**
   * The 32K path (the default since bench-runs/final-s4, where these 24 cases first passed; bench-runs/fbbwd2 had failed
   * in the finishing kernel's shared-memory request before its global-scratch fix).
   */
  @ParameterizedTest(name = "32K {0} io, {1}, {2} B={3} H={4} L={5} Lk={6} fused middle={7}")
  @MethodSource("cases32K")
  void fusedBackwardAt32KMatchesFloat64AndTheFp32Twin(ElementType io, Precision compute, ConvMode mode, int B, int H,
      int L, int Lk, boolean middle) {
    check(io, compute, mode, B, H, L, Lk, middle, null, true);
  }

  @ParameterizedTest(name = "{0} io, {1}, {2} B={3} H={4} L={5} Lk={6} fused middle={7}")
  @MethodSource("cases")
  void fusedBackwardMatchesFloat64AndTheFp32Twin(ElementType io, Precision compute, ConvMode mode, int B, int H, int L,
      int Lk, boolean middle) {
    check(io, compute, mode, B, H, L, Lk, middle, null, true);
  }

  /**
   * The other shared-memory storage than the default (fp32 below 4K points, 16-bit from 4K; fp32 fits to 8K); for odd L
   * dk and dD only (du must stay untouched).
   */
  @ParameterizedTest(name = "other storage {0} io, {1}, {2} B={3} H={4} L={5} Lk={6} fused middle={7}")
  @MethodSource("cases")
  void otherStorageAndDkOnly(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk,
      boolean middle) {
    int n = FlashButterflyConv.fftSize(mode, L);
    assumeTrue(n <= FlashButterflyConv.MAX_N_FP32_SMEM / 2 && middle, "fp32 storage of two spectra fits up to 8K points");
    check(io, compute, mode, B, H, L, Lk, true, !FlashButterflyConv.defaultBwdSmem16(n), L % 2 == 0);   // odd L: dk only
  }

  private void check(ElementType io, Precision compute, ConvMode mode, int B, int H, int L, int Lk, boolean middle,
      Boolean s16, boolean withDu) {
    int n = FlashButterflyConv.fftSize(mode, L), parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    var rng = new SplittableRandom(900L * L + 17L * H + B + io.ordinal() * 3 + mode.ordinal() * 7 + (middle ? 1 : 0));
    var c = ConvCase.random(rng, io, B, H, L, Lk);   // u, dy rounded to io: so do the references
    float[] u = c.u(), dy = c.dy(), k = c.k0(), k1 = c.k1(), D = c.D();
    double[] duRef = adjoint(mode, dy, k, k1, Lk, D, B, H, L);
    double[] dkRef = Reference.kernelGrad(mode, u, dy, Lk, B, H, L), dDRef = Reference.dGrad(u, dy, B, H, L);
    long bytes = (long) B * H * L * io.bytes();
    try (var conv = FlashButterflyConv.plan(dev, H, L, mode, io, compute).fusedBackwardMiddle(middle)
        .fusedBackwardAt32K(n > FlashButterflyConv.MAX_N_FP32_SMEM);
         var du = c.uploadU(dev); var ddy = c.uploadDy(dev);
         var ddu = dev.alloc((bytes + 3) / 4 * 4);
         var dk = dev.alloc(4L * parts * H * Lk); var dD = dev.alloc(4L * H);
         var dk32 = dev.alloc(4L * parts * H * Lk); var dD32 = dev.alloc(4L * H)) {
      assertTrue(conv.fusedBackwardApplies(), conv.toString());
      if (s16 != null) conv.backwardSmem16(s16);
      if (mode == ConvMode.BIDIRECTIONAL) conv.setWeights(k, k1, Lk, D); else conv.setWeights(k, Lk, D);
      ddu.fill32(0x7fc07fc0);   // NaN as fp32 and, each half, as bf16 and fp16
      dk.fill32(0x7fc00000); dD.fill32(0x7fc00000); dk32.fill32(0x7fc00000); dD32.fill32(0x7fc00000);
      conv.backward(du, ddy, withDu ? ddu : null, B, dk, dD);
      conv.backwardWeights(du, ddy, B, dk32, dD32);   // the fp32 twin (synchronises)
      String what = "backward " + conv.backwardKernelName() + (middle ? "" : " unfused") + " " + mode + " B=" + B + " H=" + H
          + " L=" + L + " Lk=" + Lk;
      double tk = 1e-2;
      float[] gk = dk.copyTo(new float[parts * H * Lk], 0), gk32 = dk32.copyTo(new float[parts * H * Lk], 0);
      Reference.assertClose(what + " dk", gk, dkRef, tk);
      Reference.assertClose(what + " dD", dD.copyTo(new float[H], 0), dDRef, 1e-5);
      Reference.assertClose(what + " dk twin", gk32, dkRef, 1e-5 * Math.sqrt((double) n / Lk));
      Reference.assertClose(what + " dk vs twin", gk, ConvCase.toD(gk32), tk);
      float[] g = ConvCase.read(dev, ddu, io, B * H * L);
      if (withDu) {
        Reference.assertClose(what + " du", g, duRef, 1e-2);
      } else {   // dk only: du untouched (still the poison)
        assertTrue(Float.isNaN(g[0]) && Float.isNaN(g[g.length - 1]), what + ": dk-only wrote du");
      }
    }
  }

  /** du = K^T dy + D dy in float64, every mode (the adjoints of Reference.causal / circular / bidirectional). */
  static double[] adjoint(ConvMode mode, float[] dy, float[] k0, float[] k1, int Lk, float[] D, int B, int H, int L) {
    if (mode == ConvMode.CAUSAL) return Reference.causalAdjoint(dy, k0, Lk, D, B, H, L);
    double[] du = mode == ConvMode.BIDIRECTIONAL ? Reference.causalAdjoint(dy, k0, Lk, D, B, H, L) : new double[B * H * L];
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        int row = (b * H + h) * L;
        for (int m = 0; m < L; m++) {
          double acc = 0;
          if (mode == ConvMode.CIRCULAR) {   // y[n] = sum_j k[j] u[(n-j) mod L]
            acc = (double) D[h] * dy[row + m];
            for (int j = 0; j < Lk; j++) acc += (double) k0[h * Lk + j] * dy[row + (m + j) % L];
          } else {                           // y[n] += sum_j k1[j] u[n+1+j]
            for (int j = 0; j < Lk && m - 1 - j >= 0; j++) acc += (double) k1[h * Lk + j] * dy[row + m - 1 - j];
          }
          du[row + m] += acc;
        }
      }
    return du;
  }

  /** A negative control: the dk check fails against the reference of dy shifted by one step (an off-by-one lag). */
  @Test
  void dkCheckFailsForAnotherDy() {
    int B = 3, H = 5, L = 300, Lk = 300;
    var rng = new SplittableRandom(4242);
    float[] u = HalfFloats.decode(HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), ElementType.BF16), ElementType.BF16);
    float[] dy = HalfFloats.decode(HalfFloats.encode(Reference.randn(rng, B * H * L, 1.0), ElementType.BF16), ElementType.BF16);
    float[] other = new float[dy.length];   // dy one step later in every row: a lag off by one must be detected
    for (int r = 0; r < B * H; r++) System.arraycopy(dy, r * L, other, r * L + 1, L - 1);
    float[] k = Reference.randn(rng, H * Lk, 0.05), D = Reference.randn(rng, H, 1.0);
    try (var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16).setWeights(k, Lk, D);
         var du = dev.upload(HalfFloats.encode(u, ElementType.BF16)); var ddy = dev.upload(HalfFloats.encode(dy, ElementType.BF16));
         var dk = dev.alloc(4L * H * Lk); var dD = dev.alloc(4L * H)) {
      conv.backward(du, ddy, null, B, dk, dD);
      dev.stream().synchronize();
      float[] g = dk.copyTo(new float[H * Lk], 0);
      double right = Reference.relErr(g, Reference.kernelGrad(ConvMode.CAUSAL, u, dy, Lk, B, H, L));
      double wrong = Reference.relErr(g, Reference.kernelGrad(ConvMode.CAUSAL, u, other, Lk, B, H, L));
      assertTrue(right <= 1e-2, "right dy: " + right);
      assertTrue(wrong > 0.5, "a shifted dy must be detected: " + wrong);
    }
  }
}
