// Shapes: B batch, H channels, L length, Lk taps. u, y: (B, H, L) fp32; k: (H, Lk); D: (H).
package ai.longconv4j.cuda;


import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The GPU twins (direct conv, cuFFT conv through FFM) against the CPU float64 reference, and FlashButterfly
 * against the cuFFT twin at a size where the O(L^2) CPU reference is too slow. All fp32: tolerance 1e-5
 * (fp32 FFT error ~ eps*log2 N ~ 1e-6; direct conv accumulates <= 1000 terms, ~ eps*sqrt(L) ~ 2e-6).
 */
@Tag("gpu")
class CudaTwinsGpuTest extends CudaDeviceTest {
  @Test
  void directConvMatchesCpu() {
    var rng = new SplittableRandom(11);
    int B = 3, H = 111, L = 1000, Lk = 700;
    float[] u = Reference.randn(rng, B * H * L, 1), k = Reference.randn(rng, H * Lk, 0.04), D = Reference.randn(rng, H, 1);
    try (var du = dev.upload(u); var dk = dev.upload(k); var dd = dev.upload(D); var dy = dev.alloc(4L * B * H * L)) {
      dy.fill32(Float.floatToRawIntBits(Float.NaN));
      CudaDirectConv.forward(dev, du, dk, Lk, dd, dy, B, H, L);
      Reference.assertClose("CudaDirectConv", dy.copyTo(new float[B * H * L], 0), Reference.causal(u, k, Lk, D, B, H, L), 1e-5);
    }
  }

  @Test
  void cuFftConvMatchesCpu() {
    var rng = new SplittableRandom(12);
    int B = 3, H = 111, L = 1000, Lk = 1000;
    float[] u = Reference.randn(rng, B * H * L, 1), k = Reference.randn(rng, H * Lk, 0.03), D = Reference.randn(rng, H, 1);
    try (var conv = new CudaFftConv(dev, B, H, L).setWeights(k, Lk, D); var du = dev.upload(u);
         var dy = dev.alloc(4L * B * H * L)) {
      dy.fill32(Float.floatToRawIntBits(Float.NaN));
      conv.forward(du, dy);
      Reference.assertClose("CudaFftConv (" + CuFft.soname() + ")", dy.copyTo(new float[B * H * L], 0),
          Reference.causal(u, k, Lk, D, B, H, L), 1e-5);
    }
  }

  @Test
  void flashButterflyMatchesCuFftAtLargeSize() {
    var rng = new SplittableRandom(13);
    int B = 8, H = 64, L = 8192;
    float[] u = Reference.randn(rng, B * H * L, 1), k = Reference.randn(rng, H * L, 0.01), D = Reference.randn(rng, H, 1);
    try (var fft = new CudaFftConv(dev, B, H, L).setWeights(k, L, D);
         var fb = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, ElementType.F32, Precision.FP32).setWeights(k, L, D);
         var du = dev.upload(u); var y1 = dev.alloc(4L * B * H * L); var y2 = dev.alloc(4L * B * H * L)) {
      y1.fill32(Float.floatToRawIntBits(Float.NaN));
      y2.fill32(Float.floatToRawIntBits(Float.NaN));
      fft.forward(du, y1);
      fb.forward(du, y2, B);
      float[] a = y1.copyTo(new float[B * H * L], 0), b = y2.copyTo(new float[B * H * L], 0);
      double[] ad = new double[a.length];
      for (int i = 0; i < a.length; i++) ad[i] = a[i];
      Reference.assertClose("FlashButterfly FP32 vs cuFFT, L=8192", b, ad, 1e-5);
    }
  }
}
