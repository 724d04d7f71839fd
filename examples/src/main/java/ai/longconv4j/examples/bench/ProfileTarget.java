// Shapes: B batch, H channels, L length, N FFT size. u, y: (B, H, L); k: (H, L) fp32; D: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.Cuda;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.Precision;

/**
 * A target for Nsight Compute: the default causal FlashButterfly plan (bf16 I/O, bf16 tensor cores) at one length runs
 * its forward {@code reps} times, then exits. Nothing is timed
 * here: the profiler picks the launches ({@code ncu --launch-skip / --launch-count}); B follows
 * {@link CudaConvBench#batchFor} so that the kernels see the benchmark's shapes. The first forward is validated against
 * float64 so that a profile is never taken of a wrong kernel.
 * Usage: ProfileTarget L [reps] [B] [H]
 */
public final class ProfileTarget {
  private ProfileTarget() {}

  public static void main(String[] args) {
    if (!Cuda.available()) { System.out.println("ProfileTarget: " + Cuda.reason()); return; }
    int L = Integer.parseInt(args[0]);
    int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int H = args.length > 3 ? Integer.parseInt(args[3]) : 768;
    int B = CudaConvBench.batchFor(args.length > 2 ? Integer.parseInt(args[2]) : 64, L);
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    try (CudaDevice dev = CudaDevice.open(0);
         var u = dev.alloc(2 * n); var y = dev.alloc(2 * n);
         var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16)) {
      conv.setWeights(k, L, D);
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
      y.fill32(0x7fc07fc0);
      conv.forward(u, y, B);
      double err = CudaConvBench.validate(u, y, ElementType.BF16, k, D, B, H, L);
      System.out.printf("ProfileTarget L=%d B=%d H=%d kernel=%s relerr=%.2e%n", L, B, H, conv.kernelName(), err);
      if (!(err <= 1e-2)) throw new IllegalStateException("forward wrong before profiling: relerr " + err);
      for (int r = 0; r < reps; r++) conv.forward(u, y, B);
      dev.synchronize();
    }
  }
}
