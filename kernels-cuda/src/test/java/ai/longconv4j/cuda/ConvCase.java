// Shapes: B batch, H channels, L length, Lk taps per side. u, dy: (B, H, L); k0, k1: (H, Lk); D: (H).
// Kernel layouts: lib's (C=1, H, sides, Lk), the GPU's (sides, H, Lk).
package ai.longconv4j.cuda;

import java.util.SplittableRandom;

/**
 * The random inputs of the FlashButterfly driver-level tests, drawn from rng in one order: u and dy (unit normal), k0
 * and k1 (scale 1/sqrt(Lk): y of order 1 for any Lk), D (unit normal). For 16-bit io the GPU sees u and dy rounded to
 * io, and so do the references: u and dy are the rounded values, u16 and dy16 their encodings (null for F32).
 */
record ConvCase(float[] u, float[] dy, float[] k0, float[] k1, float[] D, short[] u16, short[] dy16) {

  static ConvCase random(SplittableRandom rng, ElementType io, int B, int H, int L, int Lk) {
    float[] u = Reference.randn(rng, B * H * L, 1.0), dy = Reference.randn(rng, B * H * L, 1.0);
    float[] k0 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk)), k1 = Reference.randn(rng, H * Lk, 1.0 / Math.sqrt(Lk));
    float[] D = Reference.randn(rng, H, 1.0);
    short[] u16 = null, dy16 = null;
    if (io != ElementType.F32) {   // the GPU sees the rounded values; so do the references
      u16 = HalfFloats.encode(u, io); u = HalfFloats.decode(u16, io);
      dy16 = HalfFloats.encode(dy, io); dy = HalfFloats.decode(dy16, io);
    }
    return new ConvCase(u, dy, k0, k1, D, u16, dy16);
  }

  /** u on the device in the io type (fp32 values, or the 16-bit encodings). */
  DeviceBuffer uploadU(CudaDevice dev) { return u16 == null ? dev.upload(u) : dev.upload(u16); }

  /** dy on the device in the io type. */
  DeviceBuffer uploadDy(CudaDevice dev) { return dy16 == null ? dev.upload(dy) : dev.upload(dy16); }

  /** k0 (and k1 when bidirectional) in lib's layout (C=1, H, sides, Lk), float64. */
  double[] libKernel(int H, int Lk, boolean bi) {
    double[] kl = new double[H * (bi ? 2 : 1) * Lk];
    for (int h = 0; h < H; h++)
      for (int j = 0; j < Lk; j++) {
        kl[h * (bi ? 2 : 1) * Lk + j] = k0[h * Lk + j];
        if (bi) kl[h * 2 * Lk + Lk + j] = k1[h * Lk + j];
      }
    return kl;
  }

  /** A kernel gradient in lib's layout (C=1, H, sides, Lk) rearranged to the GPU's (sides, H, Lk). */
  static double[] gpuKernelLayout(double[] libDk, int H, int Lk, boolean bi) {
    double[] dkRef = new double[(bi ? 2 : 1) * H * Lk];
    for (int h = 0; h < H; h++)
      for (int j = 0; j < Lk; j++) {
        dkRef[h * Lk + j] = libDk[h * (bi ? 2 : 1) * Lk + j];
        if (bi) dkRef[H * Lk + h * Lk + j] = libDk[h * 2 * Lk + Lk + j];
      }
    return dkRef;
  }

  static double[] toD(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) d[i] = a[i];
    return d;
  }

  /** n elements of b in the io type as floats, after the stream's work is done. */
  static float[] read(CudaDevice dev, DeviceBuffer b, ElementType io, int n) {
    dev.stream().synchronize();
    return io == ElementType.F32 ? b.copyTo(new float[n], 0) : HalfFloats.decode(b.copyTo(new short[n], 0), io);
  }
}
