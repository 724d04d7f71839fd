// Shapes: any; comparisons flatten tensors row-major.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Tensor;

/** Shared helpers of the tensor-backend GPU tests: the device (or a skip with the reason) and error checks. */
final class GpuCheck {
  private GpuCheck() {}

  /**
   * cuda:0, or skips the test with the reason there is none. Outputs of the tensor kernels are poisoned with NaN
   * before each kernel runs (see {@link CudaBackend#poisonOutputs}), so every comparison also checks that the kernel
   * wrote every element.
   */
  static Device device() {
    assumeTrue(Cuda.available(), "skipped: " + Cuda.reason());
    Device d = Device.cuda(0);
    ((CudaBackend) Backends.forDevice(d)).poisonOutputs(d, true);
    return d;
  }

  static Backend backend() { return Backends.forDevice(device()); }

  /** ||a - b|| / ||b|| (b = 0: ||a||); NaN anywhere in a gives NaN, which fails every bound. */
  static double relErr(double[] a, double[] b) {
    double num = 0, den = 0;
    for (int i = 0; i < a.length; i++) {
      double d = a[i] - b[i];
      num += d * d;
      den += b[i] * b[i];
    }
    for (double v : a) if (Double.isNaN(v)) return Double.NaN;
    return Math.sqrt(num) / (den == 0 ? 1 : Math.sqrt(den));
  }

  /** GPU tensor vs CPU tensor: same shape, relative error (see {@link #relErr}) at most tol. */
  static void close(String what, Tensor gpu, Tensor cpu, double tol) {
    assertArrayEquals(cpu.shape(), gpu.shape(), what + ": shape");
    double e = relErr(gpu.toDoubleArray(), cpu.toDoubleArray());
    assertTrue(e <= tol, what + ": rel err " + e + " > " + tol);
  }
}
