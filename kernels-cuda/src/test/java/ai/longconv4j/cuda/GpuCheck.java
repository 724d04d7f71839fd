// Shapes: any; comparisons flatten tensors row-major. convMatchesTheCpu: u (B, H, L), k (C, H, [2,] Lk), D (C, H),
// y and w (B, C, H, L).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Tensor;
import java.util.List;

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

  /**
   * A 16-bit convolution on the GPU against the CPU in dtype ref on the same rounded inputs: gIn = (u, k, D) on the GPU
   * (requiring grad) and yg their convolution there; the CPU copies in ref give y, then through the loss sum(y * w)
   * (w's values on both sides; the GPU side in F32) du, dk and dD. Each compared in ref within tol.
   */
  static void convMatchesTheCpu(String what, ConvMode mode, List<Tensor> gIn, Tensor yg, Tensor w, DType ref, double tol) {
    var cIn = gIn.stream().map(x -> Tensor.of(x.toFloatArray(), x.shape()).to(ref).requiresGrad(true)).toList();
    Tensor wc = Tensor.of(w.toFloatArray(), w.shape()).to(ref);
    Tensor yc = ConvOps.conv(cIn.get(0), cIn.get(1), cIn.get(2), mode, ConvEngine.FFT);
    close(what + " y", yg.to(ref), yc, tol);
    yg.to(DType.F32).mul(w.to(DType.F32)).sum().backward();
    yc.mul(wc).sum().backward();
    close(what + " du", gIn.get(0).grad().to(ref), cIn.get(0).grad(), tol);
    close(what + " dk", gIn.get(1).grad().to(ref), cIn.get(1).grad(), tol);
    close(what + " dD", gIn.get(2).grad().to(ref), cIn.get(2).grad(), tol);
  }
}
