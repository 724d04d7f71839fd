// Shapes: B batch, H channels, L length (causal, Lk = L). u, y, du: (B, H, L) of each path's I/O type (dy = u, as the other
// benches' backward rows); k, dk: (H, L) fp32; D, dD: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.PackedLearnedRef;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Session 14, helper pkjref: the fp32 J-factor packed learned butterfly ({@link PackedLearnedRef#planChain}, the global
 * memory path of learned_pk_ref2.cu with s14-jspec.md's factors, blocks at the DFT) against FlashButterfly
 * ({@link FlashButterflyConv}: F32 I/O with fp32 arithmetic, and bf16) at causal L, in one process. Per path: the forward
 * validated against the float64 causal convolution at 256 sampled outputs of 2 rows (outputs poisoned first; the rows are
 * long, so sampled), the backward (dy = u) at 256 sampled du of 2 rows, 32 sampled lags of dk and dD of the last channel
 * (summed over the batch); then CUDA-event medians ({@code CudaConvBench.median}, its warm-up) of fwd (10), fwd+bwd (3), bwd (3).
 * The chain allocates its workspaces per call (in the timings). Paths ({@code -Dlongconv4j.bench.pkj.order}, default fb-f32,
 * fb-bf16, chain-f32, chain-bf16). Usage: PackedChainBench [csv-out] [B] [H] [L] (default 64 768 2048).
 */
public final class PackedChainBench {
  private PackedChainBench() {}

  public static void main(String[] args) throws IOException {
    var a = CudaConvBench.Args.of(args, 2048);
    int B = a.B(), H = a.H(), L = a.Ls()[0];
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    List<CudaConvBench.Row> rows = new ArrayList<>();
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println("device: " + dev);
      for (String p : System.getProperty("longconv4j.bench.pkj.order", "fb-f32,fb-bf16,chain-f32,chain-bf16").split(",")) {
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
            case "chain-f32", "chain-bf16" -> {
              int nn = Integer.highestOneBit(2 * L - 1) << 1;   // causal N: the power of two >= 2L - 1 (Lk = L), at least 32
              int[] f = PackedLearnedRef.specFactors(Math.max(16, nn / 2));
              try (var pr = PackedLearnedRef.planChain(dev, H, L, L, ConvMode.CAUSAL, io, f).setWeights(k, D)) {
                run(dev, "packed learned fp32 chain " + io + " " + Arrays.toString(f).replace(", ", "x"), io, B, H, L, u, y, dk, dD, k, D,
                    (x, o) -> pr.forward(x, o, B), (x, o, gk, gd) -> pr.backward(x, x, B, o, gk, gd), rows);
              }
            }
            default -> throw new IllegalArgumentException("PackedChainBench: paths fb-f32, fb-bf16, chain-f32, chain-bf16, got " + p);
          }
        } catch (RuntimeException e) {
          System.out.println(p + " L=" + L + " B=" + B + " H=" + H + ": " + e);
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
    double errF = validate(io, u, y, k, D, B, H, L, false);
    y.fill32(io == ElementType.F32 ? 0x7fc00000 : 0x7fc07fc0);
    dk.fill32(0x7fc00000);
    dD.fill32(0x7fc00000);
    bwd.run(u, y, dk, dD);
    dev.synchronize();
    double errB = Math.max(validate(io, u, y, k, D, B, H, L, true), validateTaps(io, u, dk, dD, B, H, L));
    System.out.printf("%s B=%d H=%d L=%d: forward vs float64 %.3e, backward (du, dk, dD) vs float64 %.3e%n", name, B, H, L, errF, errB);
    double ms = CudaConvBench.median(dev, () -> fwd.run(u, y), 10);
    rows.add(new CudaConvBench.Row(name + " fwd", B, H, L, ms, 2.0 * io.bytes() * n / ms / 1e6, errF, 0));
    CudaConvBench.report(rows.getLast());
    double msB = CudaConvBench.median(dev, () -> { fwd.run(u, y); bwd.run(u, y, dk, dD); }, 3);
    rows.add(new CudaConvBench.Row(name + " fwd+bwd", B, H, L, msB, 6.0 * io.bytes() * n / msB / 1e6, Math.max(errF, errB), 0));
    CudaConvBench.report(rows.getLast());
    double msW = CudaConvBench.median(dev, () -> bwd.run(u, y, dk, dD), 3);
    rows.add(new CudaConvBench.Row(name + " bwd", B, H, L, msW, 4.0 * io.bytes() * n / msW / 1e6, errB, 0));
    CudaConvBench.report(rows.getLast());
  }

  /**
   * 256 sampled outputs of 2 rows against float64: y[i] = D u[i] + sum_{j <= i} k[j] u[i - j] (adjoint false) or, the
   * backward's du with dy = u, du[i] = D u[i] + sum_{i + j < L} k[j] u[i + j]. The worst relative (L2) error.
   */
  static double validate(ElementType io, DeviceBuffer u, DeviceBuffer out, float[] k, float[] D, int B, int H, int L, boolean adjoint) {
    var rng = new SplittableRandom(L + (adjoint ? 3 : 1));
    double worst = 0;
    for (int s = 0; s < 2; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * io.bytes();
      float[] ur = CudaConvBench.read(u, io, off, L), yr = CudaConvBench.read(out, io, off, L);
      double num = 0, den = 0;
      for (int q = 0; q < 256; q++) {
        int i = q == 0 ? L - 1 : rng.nextInt(L);
        double acc = (double) D[h] * ur[i];
        if (adjoint) for (int j = 0; i + j < L; j++) acc += (double) k[h * L + j] * ur[i + j];
        else for (int j = 0; j <= i; j++) acc += (double) k[h * L + j] * ur[i - j];
        double d = yr[i] - acc;
        num += Double.isFinite(yr[i]) ? d * d : Double.POSITIVE_INFINITY;
        den += acc * acc;
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    return worst;
  }

  /** dk at 32 sampled lags and dD of the last channel (dy = u): sum_b sum_i u[i] u[i - j] and sum_b sum_i u[i]^2. */
  static double validateTaps(ElementType io, DeviceBuffer u, DeviceBuffer dk, DeviceBuffer dD, int B, int H, int L) {
    var rng = new SplittableRandom(L + 9);
    int h = H - 1;
    int[] lags = new int[32];
    for (int q = 0; q < 32; q++) lags[q] = q == 0 ? 0 : q == 1 ? L - 1 : rng.nextInt(L);
    double[] ref = new double[32];
    double dref = 0;
    for (int b = 0; b < B; b++) {
      float[] ur = CudaConvBench.read(u, io, ((long) b * H + h) * L * io.bytes(), L);
      for (int q = 0; q < 32; q++) for (int i = lags[q]; i < L; i++) ref[q] += (double) ur[i] * ur[i - lags[q]];
      for (int i = 0; i < L; i++) dref += (double) ur[i] * ur[i];
    }
    float[] got = dk.copyTo(new float[L], 4L * h * L);
    double num = 0, den = 0;
    for (int q = 0; q < 32; q++) {
      double d = got[lags[q]] - ref[q];
      num += Float.isFinite(got[lags[q]]) ? d * d : Double.POSITIVE_INFINITY;
      den += ref[q] * ref[q];
    }
    float gd = dD.copyTo(new float[1], 4L * h)[0];
    return Math.max(Math.sqrt(num / den), Float.isFinite(gd) ? Math.abs(gd - dref) / Math.abs(dref) : Double.POSITIVE_INFINITY);
  }
}
