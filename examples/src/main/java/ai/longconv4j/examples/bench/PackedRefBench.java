// Shapes: B batch, H channels, L length (causal, Lk = L). u, y, du: (B, H, L) of each path's I/O type (dy = u, as the other
// benches' backward rows); k, dk: (H, L) fp32; D, dD: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.PackedLearnedConv;
import ai.longconv4j.cuda.PackedLearnedRef;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Session 13, helper pkref: the fp32 packed learned butterfly ({@link PackedLearnedRef}, learned_pk_ref.cu: the fallback
 * for the shapes and types the tensor-core packed kernels do not take) against the tensor-core packed kernel
 * ({@link PackedLearnedConv}, bf16) and FlashButterfly ({@link FlashButterflyConv}: F32 I/O with fp32 arithmetic, and bf16),
 * causal, blocks at the DFT (where every path computes the same causal convolution), in one process. Per path: the
 * forward validated against the float64 causal conv of 3 sampled rows (outputs poisoned first), the backward's du (3
 * sampled rows against the causal adjoint), dk and dD (last channel, summed over the batch) against float64; then CUDA-event
 * medians ({@code CudaConvBench.median}, its warm-up) of fwd (20), fwd+bwd (5) and bwd (5). Each row carries the worst
 * relative error of its validation. Paths ({@code -Dlongconv4j.bench.pkref.order}, default fb-f32, fb-bf16, packed-bf16, ref-f32,
 * ref-bf16): {@code ref-*-r1} is the fp32 path without register blocking ({@code PackedLearnedRef.rowsPerThread(false)}).
 * Usage: PackedRefBench [csv-out] [B] [H] [L] (default 64 768 1024).
 */
public final class PackedRefBench {
  private PackedRefBench() {}


  public static void main(String[] args) throws IOException {
    var a = CudaConvBench.Args.of(args, 1024);
    int B = a.B(), H = a.H(), L = a.Ls()[0];
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    List<CudaConvBench.Row> rows = new ArrayList<>();
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println("device: " + dev);
      for (String p : System.getProperty("longconv4j.bench.pkref.order", "fb-f32,fb-bf16,packed-bf16,ref-f32,ref-bf16").split(",")) {
        ElementType io = p.contains("f32") ? ElementType.F32 : ElementType.BF16;
        try (var u = dev.alloc(io.bytes() * n); var y = dev.alloc(io.bytes() * n); var dk = dev.alloc(4L * H * L); var dD = dev.alloc(4L * H)) {
          DeviceFill.uniform(dev, u, n, io, 7L * L, 1f);
          switch (p) {
            case "fb-f32", "fb-bf16" -> {
              try (var fb = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, io == ElementType.F32 ? Precision.FP32 : Precision.BF16)
                  .setWeights(k, L, D)) {
                run(dev, "flashbutterfly " + io + " " + fb.kernelName(), io, B, H, L, u, y, dk, dD, k, D, (x, o) -> fb.forward(x, o, B),
                    (x, o, gk, gd) -> fb.backward(x, x, o, B, gk, gd), rows);
              }
            }
            case "packed-bf16" -> {
              try (var pk = PackedLearnedConv.plan(dev, H, L, L, ConvMode.CAUSAL, io).setWeights(k, D)) {
                run(dev, "packed learned (tensor cores) " + io + " " + pk.kernelName(), io, B, H, L, u, y, dk, dD, k, D,
                    (x, o) -> pk.forward(x, o, B), (x, o, gk, gd) -> pk.backward(x, x, B, o, gk, gd), rows);
              }
            }
            case "ref-f32", "ref-bf16", "ref-f32-r1", "ref-bf16-r1" -> {
              try (var pr = PackedLearnedRef.plan(dev, H, L, L, ConvMode.CAUSAL, io).setWeights(k, D).rowsPerThread(!p.endsWith("-r1"))) {
                // the name without commas (a CSV field; s1 .. s3 wrote the plan's toString, which split those rows' CSV fields)
                run(dev, "packed learned fp32 ref " + io + " " + pr.factors()[0] + "x" + pr.factors()[1] + (pr.rowsPerThread() ? "" : " r1"), io, B, H, L, u, y, dk, dD, k, D, (x, o) -> pr.forward(x, o, B),
                    (x, o, gk, gd) -> pr.backward(x, x, B, o, gk, gd), rows);
              }
            }
            default -> throw new IllegalArgumentException("PackedRefBench: paths fb-f32, fb-bf16, packed-bf16, ref-f32, ref-bf16, ref-f32-r1, ref-bf16-r1, got " + p);
          }
        }
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  interface Bwd { void run(DeviceBuffer u, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD); }
  interface Fwd { void run(DeviceBuffer u, DeviceBuffer y); }

  private static void run(CudaDevice dev, String name, ElementType io, int B, int H, int L, DeviceBuffer u, DeviceBuffer y, DeviceBuffer dk,
      DeviceBuffer dD, float[] k, float[] D, Fwd fwd, Bwd bwd, List<CudaConvBench.Row> rows) {
    long n = (long) B * H * L;
    y.fill32(io == ElementType.F32 ? 0x7fc00000 : 0x7fc07fc0);
    fwd.run(u, y);
    dev.synchronize();
    double errF = CudaConvBench.validate(u, y, io, k, D, B, H, L);
    y.fill32(io == ElementType.F32 ? 0x7fc00000 : 0x7fc07fc0);
    dk.fill32(0x7fc00000);
    dD.fill32(0x7fc00000);
    bwd.run(u, y, dk, dD);
    dev.synchronize();
    double errB = validateBackward(io, u, y, dk, dD, k, D, B, H, L);
    System.out.printf("%s L=%d: forward vs float64 %.3e, backward (du, dk, dD) vs float64 %.3e%n", name, L, errF, errB);
    double ms = CudaConvBench.median(dev, () -> fwd.run(u, y), 20);
    rows.add(new CudaConvBench.Row(name + " fwd", B, H, L, ms, 2.0 * io.bytes() * n / ms / 1e6, errF, 0));
    CudaConvBench.report(rows.getLast());
    double msB = CudaConvBench.median(dev, () -> { fwd.run(u, y); bwd.run(u, y, dk, dD); }, 5);
    rows.add(new CudaConvBench.Row(name + " fwd+bwd", B, H, L, msB, 6.0 * io.bytes() * n / msB / 1e6, Math.max(errF, errB), 0));
    CudaConvBench.report(rows.getLast());
    double msW = CudaConvBench.median(dev, () -> bwd.run(u, y, dk, dD), 5);
    rows.add(new CudaConvBench.Row(name + " bwd", B, H, L, msW, 4.0 * io.bytes() * n / msW / 1e6, errB, 0));
    CudaConvBench.report(rows.getLast());
  }

  /**
   * The backward with dy = u against float64 (LearnedPackedBench.validateBackward for any I/O type): du of 3 sampled rows
   * against the causal adjoint du[n] = D u[n] + sum_j k[j] u[n + j]; dk and dD of the last channel against
   * sum_b sum_n u[n] u[n - j] and sum_b sum_n u[n]^2. The worst relative (L2) error.
   */
  static double validateBackward(ElementType io, DeviceBuffer u, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD, float[] k, float[] D,
      int B, int H, int L) {
    var rng = new SplittableRandom(L + 5);
    double worst = 0;
    for (int s = 0; s < 3; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * io.bytes();
      float[] ur = CudaConvBench.read(u, io, off, L), dr = CudaConvBench.read(du, io, off, L);
      double num = 0, den = 0;
      for (int i = 0; i < L; i++) {
        double acc = (double) D[h] * ur[i];
        for (int j = 0; i + j < L; j++) acc += (double) k[h * L + j] * ur[i + j];
        double d = dr[i] - acc;
        num += Double.isFinite(dr[i]) ? d * d : Double.POSITIVE_INFINITY;
        den += acc * acc;
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    int h = H - 1;
    double[] ref = new double[L];
    double dref = 0;
    for (int b = 0; b < B; b++) {
      float[] ur = CudaConvBench.read(u, io, ((long) b * H + h) * L * io.bytes(), L);
      for (int j = 0; j < L; j++) {
        double acc = 0;
        for (int i = j; i < L; i++) acc += (double) ur[i] * ur[i - j];
        ref[j] += acc;
      }
      for (int i = 0; i < L; i++) dref += (double) ur[i] * ur[i];
    }
    float[] got = dk.copyTo(new float[L], 4L * h * L);
    double num = 0, den = 0;
    for (int j = 0; j < L; j++) {
      double d = got[j] - ref[j];
      num += Float.isFinite(got[j]) ? d * d : Double.POSITIVE_INFINITY;
      den += ref[j] * ref[j];
    }
    worst = Math.max(worst, Math.sqrt(num / den));
    float gd = dD.copyTo(new float[1], 4L * h)[0];
    return Math.max(worst, Float.isFinite(gd) ? Math.abs(gd - dref) / Math.abs(dref) : Double.POSITIVE_INFINITY);
  }
}
