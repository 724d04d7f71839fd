// Shapes: shape = the copy's shape; src, dst strided views of it (element strides and offsets).
package ai.longconv4j.cuda;

import ai.longconv4j.backend.View;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Dense same-type device copies on the copy engine (session 20): {@link CudaBackend#copy} hands a copy between two
 * storages of one device and one element type, both laid out densely (row-major, no gaps), to one {@code
 * cuMemcpyDtoDAsync} on the device's stream instead of the {@code ew_copy} kernel (the same bytes; ew_copy moved the 256K
 * learned op's 1.6 GB leaf-gradient copy at ~1.4 TB/s, 2.3 ms, Nsight Compute, bench-runs/s20/p1). Strided, broadcast,
 * converting and same-storage copies keep the kernel. {@code -Dlongconv4j.cuda.copy.memcpy=false} (read per call): always
 * the kernel, the twin.
 */
final class CopyEngine {
  private CopyEngine() {}

  /** Copies that took cuMemcpyDtoDAsync (tests). */
  static final AtomicLong COPIES = new AtomicLong();

  /** Whether dense copies take the copy engine ({@code -Dlongconv4j.cuda.copy.memcpy}, default on). */
  static boolean enabled() { return !"false".equals(System.getProperty("longconv4j.cuda.copy.memcpy")); }

  /** Whether strides lay shape out densely in row-major order (dimensions of size 1 take any stride). */
  static boolean dense(int[] shape, int[] strides) { return ai.longconv4j.tensor.Shapes.isContiguous(shape, strides); }

  /**
   * Queues src -> dst as one cuMemcpyDtoDAsync when the copy qualifies (see the class comment) and returns true; false:
   * the caller launches ew_copy. s, d: the views' storages.
   */
  static boolean tryCopy(int[] shape, View src, View dst, CudaStorage s, CudaStorage d) {
    if (s.dtype() != d.dtype() || s == d || s.cudaDevice() != d.cudaDevice() || !enabled() || !dense(shape, src.strides())
        || !dense(shape, dst.strides())) return false;
    long n = 1;
    for (int x : shape) n *= x;
    if (n == 0) return true;
    CudaDevice dev = s.cudaDevice();
    COPIES.incrementAndGet();
    try {
      Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(d.at(dst.offset()), s.at(src.offset()), n * s.dtype().bytes(), dev.stream().cu()),
          "cuMemcpyDtoDAsync", "copy " + CudaBackend.shapeText(shape) + " " + s.dtype(), "device " + dev.index());
    } finally {
      java.lang.ref.Reference.reachabilityFence(s);
      java.lang.ref.Reference.reachabilityFence(d);
    }
    return true;
  }
}
