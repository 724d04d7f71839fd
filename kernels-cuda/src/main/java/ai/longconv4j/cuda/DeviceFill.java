// Shapes: x (n) device array of fp32, bf16 or fp16.
package ai.longconv4j.cuda;

/** Fills device arrays with deterministic uniform random values in [-scale, scale) (kernels in fill.cu). */
public final class DeviceFill {
  private DeviceFill() {}

  /** Queues the fill of the first {@code n} elements of {@code x} on the device's stream. */
  public static void uniform(CudaDevice device, DeviceBuffer x, long n, ElementType type, long seed, float scale) {
    if (n < 0 || n * type.bytes() > x.bytes())
      throw new IllegalArgumentException("DeviceFill.uniform: " + n + " " + type + " values do not fit " + x.bytes() + " bytes");
    int blocks = (int) Math.max(1, Math.min((n + 255) / 256, device.smCount() * 16L));
    device.module("fill").kernel("fill_uniform_" + type.tag()).launch(device.stream(), blocks, 1, 256, 0, x, n, seed, scale);
  }
}
