// Shapes: L length, N FFT size (plan arithmetic and host conversions; no GPU needed).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HostSideTest {
  @Test
  void fftSizeCoversCausalBidirectionalCircular() {
    assertEquals(32, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 1));
    assertEquals(2048, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 1000));
    assertEquals(1024, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 512));   // 2L-1 = 1023 suffices
    assertEquals(16384, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 8192));
    assertEquals(2048, FlashButterflyConv.fftSize(ConvMode.BIDIRECTIONAL, 1000));
    assertEquals(1024, FlashButterflyConv.fftSize(ConvMode.BIDIRECTIONAL, 512));
    assertEquals(4096, FlashButterflyConv.fftSize(ConvMode.CIRCULAR, 4096));
    assertEquals(32768, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 16384));
    assertEquals(1 << 19, FlashButterflyConv.fftSize(ConvMode.CAUSAL, 1 << 18));        // L = 256K: three passes
    assertEquals(1 << 19, FlashButterflyConv.fftSize(ConvMode.BIDIRECTIONAL, 1 << 18));
    var e = assertThrows(IllegalArgumentException.class, () -> FlashButterflyConv.fftSize(ConvMode.CAUSAL, (1 << 18) + 1));
    assertTrue(e.getMessage().contains("L=262145"), e.getMessage());
    // one fused kernel: 32K points only with 16-bit shared memory; beyond, three passes
    FlashButterflyConv.checkSupported(32768, Precision.BF16);
    FlashButterflyConv.checkSupported(16384, Precision.FP32);
    FlashButterflyConv.checkSupported(32768, Precision.FP32);
    assertTrue(FlashButterflyConv.onePass(32768, Precision.BF16));
    assertTrue(!FlashButterflyConv.onePass(32768, Precision.FP32));
    assertTrue(!FlashButterflyConv.onePass(65536, Precision.F16));
    assertThrows(IllegalArgumentException.class, () -> FlashButterflyConv.checkSupported(1 << 20, Precision.BF16));
    assertEquals(8192, FlashButterflyConv.defaultInnerSize(1 << 16));     // N1 = 8
    assertEquals(8192, FlashButterflyConv.defaultInnerSize(1 << 18));     // N1 = 32
    assertEquals(16384, FlashButterflyConv.defaultInnerSize(1 << 19));    // N1 = 64 measured slower (run 10)
    // planes (fp32, or 16-bit) + twiddle table of 128 + N/128 complex fp32
    assertEquals(8 * (16384 + 512) + 8 * (128 + 128), FlashButterflyConv.smemBytes(16384, false));
    assertEquals(4 * (16384 + 512) + 8 * (128 + 128), FlashButterflyConv.smemBytes(16384, true));
    assertEquals(4 * (32768 + 1024) + 8 * (128 + 256), FlashButterflyConv.smemBytes(32768, true));
    assertEquals(272 + 8 * (128 + 1), FlashButterflyConv.smemBytes(32, false));   // 8 * 33 = 264, aligned to 16
    assertEquals(FlashButterflyConv.smemBytes(32, false), FlashButterflyConv.dkSmemBytes(32));
    // defaults: 16-bit shared memory from 2K points on tensor cores; threads from the run-4 measurements
    assertTrue(FlashButterflyConv.defaultSmem16(8192, Precision.BF16));
    assertTrue(FlashButterflyConv.defaultSmem16(2048, Precision.BF16));
    assertTrue(!FlashButterflyConv.defaultSmem16(1024, Precision.BF16));
    assertTrue(!FlashButterflyConv.defaultSmem16(16384, Precision.FP32));
    assertTrue(FlashButterflyConv.defaultSmem16(32768, Precision.F16));
    assertEquals(64, FlashButterflyConv.defaultThreads(2048, Precision.BF16));
    assertEquals(256, FlashButterflyConv.defaultThreads(16384, Precision.F16));
    assertEquals(512, FlashButterflyConv.defaultThreads(16384, Precision.FP32));
    assertThrows(IllegalArgumentException.class, () -> FlashButterflyConv.fftSize(ConvMode.CIRCULAR, 1000));
    assertThrows(IllegalArgumentException.class, () -> FlashButterflyConv.fftSize(ConvMode.CAUSAL, 0));
  }

  /** The three-pass split N = N1 * M: N1 in [2, 64] (the outer DFT lives in registers), M a power of two >= 32. */
  @Test
  void threePassRejectsSplitsItCannotRun() {
    var ok = new ThreePass(null, 3, 1 << 19, 1 << 14);
    assertEquals(32, ok.outer());
    assertEquals(1 << 14, ok.inner());
    assertEquals(2, new ThreePass(null, 1, 64, 32).outer());
    assertEquals(64, new ThreePass(null, 3, 1 << 19, 1 << 13).outer());
    var e = assertThrows(IllegalArgumentException.class, () -> new ThreePass(null, 3, 1 << 19, 1 << 12));   // N1 = 128
    assertTrue(e.getMessage().contains("N1 in [2, 64]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ThreePass(null, 3, 4096, 4096));                  // N1 = 1
    assertThrows(IllegalArgumentException.class, () -> new ThreePass(null, 3, 4096, 16));                    // M < 32
    assertThrows(IllegalArgumentException.class, () -> new ThreePass(null, 3, 3 * 1024, 1024));              // N1 = 3
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals(1.0f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 0x1p-8f)));          // tie -> even (down)
    assertEquals(1.0f + 0x1p-6f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 0x1p-7f + 0x1p-8f))); // tie -> even (up)
    assertEquals(1.0f + 0x1p-7f, HalfFloats.fromBf16(HalfFloats.toBf16(1.0f + 0x1p-7f + 0x1p-9f)));  // below half
    assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.NaN))));
    var rng = new SplittableRandom(7);
    for (int i = 0; i < 10_000; i++) {   // unit roundoff of bf16 (8 significant bits) is 2^-8
      float x = (float) (rng.nextDouble(-1e4, 1e4));
      float r = HalfFloats.fromBf16(HalfFloats.toBf16(x));
      assertTrue(Math.abs(r - x) <= Math.abs(x) * 0x1p-8f, x + " -> " + r);
    }
  }

  @Test
  void cachingAllocatorRoundsSizes() {
    assertEquals(512, CachingAllocator.round(1));
    assertEquals(1024, CachingAllocator.round(513));
    assertEquals(2L << 20, CachingAllocator.round((1L << 20) + 1));
    assertEquals(4L << 20, CachingAllocator.round((2L << 20) + 1));
  }

  @Test
  void referenceConvolutionsAgreeOnASmallCase() {
    // the references themselves: circular with a kernel of 1 tap is D*u + k0*u; bidirectional with k1 = 0 is causal
    var rng = new SplittableRandom(3);
    int B = 2, H = 3, L = 17, Lk = 5;
    float[] u = Reference.randn(rng, B * H * L, 1), k = Reference.randn(rng, H * Lk, 1), D = Reference.randn(rng, H, 1);
    double[] c = Reference.causal(u, k, Lk, D, B, H, L);
    double[] bi = Reference.bidirectional(u, k, new float[H * Lk], Lk, D, B, H, L);
    for (int i = 0; i < c.length; i++) assertEquals(c[i], bi[i], 0.0);
    // causal and circular differ only where the kernel wraps: n < Lk-1
    double[] ci = Reference.circular(u, k, Lk, D, B, H, L);
    for (int row = 0; row < B * H; row++)
      for (int n = Lk - 1; n < L; n++) assertEquals(c[row * L + n], ci[row * L + n], 1e-12);
    boolean differs = false;
    for (int row = 0; row < B * H; row++) differs |= Math.abs(c[row * L] - ci[row * L]) > 1e-9;
    assertTrue(differs, "circular must wrap at n = 0");
  }

  @Test
  void causalAdjointIsTheTransposeOfCausal() {
    var rng = new SplittableRandom(4);
    int B = 2, H = 3, L = 23, Lk = 9;
    float[] u = Reference.randn(rng, B * H * L, 1), dy = Reference.randn(rng, B * H * L, 1);
    float[] k = Reference.randn(rng, H * Lk, 1), D = Reference.randn(rng, H, 1);
    double[] y = Reference.causal(u, k, Lk, D, B, H, L), du = Reference.causalAdjoint(dy, k, Lk, D, B, H, L);
    double lhs = 0, rhs = 0;
    for (int i = 0; i < y.length; i++) { lhs += y[i] * dy[i]; rhs += u[i] * du[i]; }
    assertEquals(lhs, rhs, 1e-9 * Math.abs(lhs) + 1e-9);
    // negative control: the forward itself is not its own adjoint
    double[] wrong = Reference.causal(dy, k, Lk, D, B, H, L);
    double bad = 0;
    for (int i = 0; i < y.length; i++) bad += u[i] * wrong[i];
    assertTrue(Math.abs(bad - lhs) > 1e-3 * Math.abs(lhs), "forward must differ from its adjoint");
  }

  /**
   * The weight-gradient references by the adjoint identity (no finite differences): y is linear in (k, D), so
   * <dy, y(u; k, D)> = <k, dk> + <D, dD> in every mode. Negative control: the correlation with u and dy swapped
   * (the gradient of the time-reversed convolution) breaks it.
   */
  @Test
  void weightGradientsSatisfyTheAdjointIdentity() {
    var rng = new SplittableRandom(5);
    int B = 3, H = 2, L = 19, Lk = 7;
    for (ConvMode mode : ConvMode.values()) {
      int LL = mode == ConvMode.CIRCULAR ? 16 : L;
      float[] u = Reference.randn(rng, B * H * LL, 1), dy = Reference.randn(rng, B * H * LL, 1);
      float[] k = Reference.randn(rng, H * Lk, 1), k1 = Reference.randn(rng, H * Lk, 1), D = Reference.randn(rng, H, 1);
      double[] y = switch (mode) {
        case CAUSAL -> Reference.causal(u, k, Lk, D, B, H, LL);
        case CIRCULAR -> Reference.circular(u, k, Lk, D, B, H, LL);
        case BIDIRECTIONAL -> Reference.bidirectional(u, k, k1, Lk, D, B, H, LL);
      };
      double lhs = 0;
      for (int i = 0; i < y.length; i++) lhs += y[i] * dy[i];
      double[] dk = Reference.kernelGrad(mode, u, dy, Lk, B, H, LL), dD = Reference.dGrad(u, dy, B, H, LL);
      double[] dkSwapped = Reference.kernelGrad(mode, dy, u, Lk, B, H, LL);
      double rhs = 0, bad = 0;
      for (int i = 0; i < H * Lk; i++) {
        rhs += k[i] * dk[i];
        bad += k[i] * dkSwapped[i];
        if (mode == ConvMode.BIDIRECTIONAL) { rhs += k1[i] * dk[H * Lk + i]; bad += k1[i] * dkSwapped[H * Lk + i]; }
      }
      for (int h = 0; h < H; h++) { rhs += D[h] * dD[h]; bad += D[h] * dD[h]; }
      assertEquals(lhs, rhs, 1e-9 * Math.abs(lhs) + 1e-9, mode + ": adjoint identity");
      assertTrue(Math.abs(bad - lhs) > 1e-3 * Math.abs(lhs), mode + ": swapped correlation must break the identity");
    }
  }

  @Test
  void cudaAvailabilityHasAReason() {
    if (Cuda.available()) {
      assertTrue(Cuda.reason().startsWith("ok"), Cuda.reason());
    } else {
      assertTrue(Cuda.reason().startsWith("no GPU: "), Cuda.reason());
      var e = assertThrows(IllegalStateException.class, () -> CudaDevice.open(0));
      assertEquals(Cuda.reason(), e.getMessage());
    }
  }
}
