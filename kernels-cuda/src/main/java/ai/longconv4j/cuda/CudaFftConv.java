// Shapes: B batch, H channels, L length, N = 2L FFT size, F = N/2+1 frequencies.
//   u, y: (B, H, L) fp32; k: (H, Lk) fp32; D: (H) fp32. Work buffers: up/yfull (B, H, N), U (B, H, F) complex.
package ai.longconv4j.cuda;

/**
 * Causal FFT convolution through cuFFT (the path PyTorch's torch.fft takes): the GPU twin that the
 * FlashButterfly kernels are checked and timed against in the same process.
 * {@code y = irfft(rfft(pad(u, N)) * rfft(pad(k, N)) / N)[:L] + D * u}, N = 2L.
 */
public final class CudaFftConv implements AutoCloseable {
  private static final String MODULE = "fftconv";
  private final CudaDevice device;
  private final int b, h, l, n, f;
  private final DeviceBuffer up, spec, yfull, kf, d;
  private final CuFft.Plan r2c, c2r;

  /** Allocates the work buffers and cuFFT plans for (B, H, L). */
  public CudaFftConv(CudaDevice device, int B, int H, int L) {
    if (B < 1 || H < 1 || L < 1) throw new IllegalArgumentException("CudaFftConv: B, H, L must be >= 1: " + B + ", " + H + ", " + L);
    this.device = device; this.b = B; this.h = H; this.l = L; this.n = 2 * L; this.f = L + 1;
    up = device.alloc(4L * B * H * n);
    spec = device.alloc(8L * B * H * f);
    yfull = device.alloc(4L * B * H * n);
    kf = device.alloc(8L * H * f);
    d = device.alloc(4L * H);
    r2c = CuFft.plan1d(device, n, CuFft.Type.R2C, B * H);
    c2r = CuFft.plan1d(device, n, CuFft.Type.C2R, B * H);
  }

  /** k (H, Lk), Lk <= L; D (H). */
  public CudaFftConv setWeights(float[] k, int Lk, float[] D) {
    if (Lk < 1 || Lk > l || k.length != h * Lk || D.length != h)
      throw new IllegalArgumentException("CudaFftConv.setWeights: k must be (H=" + h + ", Lk<=" + l + "), D (H); got "
          + k.length + " for Lk=" + Lk + " and " + D.length);
    float[] kt = new float[h * n];
    for (int c = 0; c < h; c++) System.arraycopy(k, c * Lk, kt, c * n, Lk);
    d.copyFrom(D);
    try (DeviceBuffer t = device.upload(kt); CuFft.Plan p = CuFft.plan1d(device, n, CuFft.Type.R2C, h)) {
      p.execR2C(t.ptr(), kf.ptr());
      device.stream().synchronize();
    }
    return this;
  }

  private int blocks(long total) { return (int) Math.max(1, Math.min((total + 255) / 256, device.smCount() * 32L)); }

  /** y = conv(u, k) + D * u for fp32 (B, H, L) u, y; queued on the device's stream. */
  public void forward(DeviceBuffer u, DeviceBuffer y) {
    long need = 4L * b * h * l;
    if (u.bytes() < need || y.bytes() < need)
      throw new IllegalArgumentException("CudaFftConv.forward: u, y must hold (B=" + b + ", H=" + h + ", L=" + l + ") fp32");
    var m = device.module(MODULE);
    var s = device.stream();
    long rows = (long) b * h;
    m.kernel("fftconv_pad").launch(s, blocks(rows * n), 1, 256, 0, u, up, (int) rows, l, n);
    r2c.execR2C(up.ptr(), spec.ptr());
    m.kernel("fftconv_cmul").launch(s, blocks(rows * f), 1, 256, 0, spec, kf, b, h, f, 1.0f / n);
    c2r.execC2R(spec.ptr(), yfull.ptr());
    m.kernel("fftconv_crop_add").launch(s, blocks(rows * l), 1, 256, 0, yfull, u, d, y, b, h, l, n);
  }

  @Override public void close() {
    r2c.close(); c2r.close();
    up.close(); spec.close(); yfull.close(); kf.close(); d.close();
  }
}
