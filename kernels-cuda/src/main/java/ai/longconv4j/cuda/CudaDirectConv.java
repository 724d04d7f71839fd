// Shapes: B batch, H channels, L length, Lk kernel taps. u, y: (B, H, L) fp32; k: (H, Lk) fp32; D: (H) fp32.
package ai.longconv4j.cuda;

/** Direct O(L^2) causal convolution on the GPU, fp32: the slow twin of the FFT paths. */
public final class CudaDirectConv {
  private CudaDirectConv() {}

  /** y[b,h,n] = sum_{j<=min(n,Lk-1)} k[h,j] u[b,h,n-j] + D[h] u[b,h,n], queued on the device's stream. */
  public static void forward(CudaDevice device, DeviceBuffer u, DeviceBuffer k, int Lk, DeviceBuffer D, DeviceBuffer y,
      int B, int H, int L) {
    long total = (long) B * H * L;
    if (u.bytes() < 4 * total || y.bytes() < 4 * total || k.bytes() < 4L * H * Lk || D.bytes() < 4L * H || Lk < 1)
      throw new IllegalArgumentException("CudaDirectConv.forward: need u, y (B=" + B + ", H=" + H + ", L=" + L
          + "), k (H, Lk=" + Lk + "), D (H) fp32");
    int blocks = (int) Math.max(1, Math.min((total + 255) / 256, device.smCount() * 32L));
    device.module("directconv").kernel("direct_causal_conv_fwd")
        .launch(device.stream(), blocks, 1, 256, 0, u, k, Lk, D, y, B, H, L);
  }
}
