// Shapes: B batch, H channels, L length, N FFT size. u, y: (B, H, L); k: (H, L) fp32; D: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.Cuda;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.Precision;
import ai.longconv4j.examples.bench.CudaConvBench.Row;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Round 9c's forward variants, new against old in one process (causal, the default plan otherwise), each validated against
 * float64 (64 sampled outputs of 3 rows, {@link CudaConvBench#validate}) with a poisoned output before it is timed (CUDA
 * events, 3 warm-ups, median of 20, {@link CudaConvBench#median}):
 * <ul>
 *   <li>16K &lt; L &lt;= 32K (the one-pass fb32 route): the {@code _w3} kernel (default), the same with round 9c-1's global
 *       phases ({@code -Dlongconv4j.cuda.fb32.stages=w3a}), the round-8b kernel ({@code stages=old}), the three-pass twin
 *       ({@code fb32(false)}), for bf16, fp16 and fp32 I/O; bf16 also at 256 and 384 threads and forward + fused backward
 *       (new, old);</li>
 *   <li>L &gt; 32K (three passes): the default forward steps (tiled forward outer pass, column inverse), round 8d's
 *       ({@code fwdsteps=tile}: both tiled) and round 8c's ({@code old}), with each pass's median time.</li>
 * </ul>
 * B follows {@link CudaConvBench#batchFor} (B·L = 64·16K for B = 64). Usage: Fb32Bench [csv-out] [B] [H] [L,L,...]
 */
public final class Fb32Bench {
  private Fb32Bench() {}

  public static void main(String[] args) throws IOException {
    if (!Cuda.available()) { System.out.println("Fb32Bench: " + Cuda.reason()); return; }
    var a = CudaConvBench.Args.of(args, 32768, 65536, 262144);
    int B0 = a.B(), H = a.H();
    List<Row> rows = new ArrayList<>();
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println(dev);
      for (int L : a.Ls()) {
        try {
          bench(dev, CudaConvBench.batchFor(B0, L), H, L, rows);
        } catch (RuntimeException e) {
          System.out.println("L=" + L + ": FAILED: " + e);
          e.printStackTrace(System.out);
        }
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  static void bench(CudaDevice dev, int B, int H, int L, List<Row> rows) {
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    boolean onePass = L > 16384 && L <= 32768;
    ElementType[] ios = onePass ? new ElementType[] {ElementType.BF16, ElementType.F16, ElementType.F32}
        : new ElementType[] {ElementType.BF16};
    for (ElementType io : ios) {
      Precision pr = io == ElementType.F16 ? Precision.F16 : Precision.BF16;
      try (var u = dev.alloc(io.bytes() * n); var y = dev.alloc(io.bytes() * n)) {
        DeviceFill.uniform(dev, u, n, io, 7L * L, 1f);
        if (onePass) {
          row(dev, rows, "fb32 _w3 (default) io=" + io, io, pr, B, H, L, k, D, u, y, null, null, io == ElementType.BF16);
          row(dev, rows, "fb32 _w3 9c-1 phases io=" + io, io, pr, B, H, L, k, D, u, y, "longconv4j.cuda.fb32.stages=w3a", null,
              false);
          row(dev, rows, "fb32 old (round 8b) io=" + io, io, pr, B, H, L, k, D, u, y, "longconv4j.cuda.fb32.stages=old", null,
              io == ElementType.BF16);
          row(dev, rows, "three-pass twin io=" + io, io, pr, B, H, L, k, D, u, y, null, c -> c.fb32(false), false);
          if (io == ElementType.BF16)
            for (int t : new int[] {256, 384})
              row(dev, rows, "fb32 _w3 t=" + t + " io=" + io, io, pr, B, H, L, k, D, u, y, "longconv4j.cuda.fb32.threads=" + t,
                  null, false);
        } else {
          row(dev, rows, "3pass default (tile fwd only) io=" + io, io, pr, B, H, L, k, D, u, y, null, null, true);
          row(dev, rows, "3pass round 8d (fwdsteps=tile) io=" + io, io, pr, B, H, L, k, D, u, y,
              "longconv4j.cuda.fb3.fwdsteps=tile", null, true);
          row(dev, rows, "3pass round 8c (fwdsteps=old) io=" + io, io, pr, B, H, L, k, D, u, y,
              "longconv4j.cuda.fb3.fwdsteps=old", null, false);
        }
      }
    }
  }

  /**
   * One variant: a fresh plan (so that properties read when a route or pass is made apply), {@code prop} ("key=value")
   * set while it is made and runs, {@code tweak} applied to it; forward validated, then timed; {@code extra}: forward +
   * fused backward, and for three-pass routes each pass's median of 5.
   */
  static void row(CudaDevice dev, List<Row> rows, String name, ElementType io, Precision pr, int B, int H, int L, float[] k,
      float[] D, DeviceBuffer u, DeviceBuffer y, String prop, UnaryOperator<FlashButterflyConv> tweak, boolean extra) {
    String key = prop == null ? null : prop.substring(0, prop.indexOf('='));
    if (key != null) System.setProperty(key, prop.substring(key.length() + 1));
    dev.allocator().resetPeak();
    long live0 = dev.allocator().liveBytes();
    try (var conv0 = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, pr)) {
      var conv = tweak == null ? conv0 : tweak.apply(conv0);
      conv.setWeights(k, L, D);
      y.fill32(0x7fc07fc0);
      conv.forward(u, y, B);
      double err = CudaConvBench.validate(u, y, io, k, D, B, H, L);
      double ms = CudaConvBench.median(dev, () -> conv.forward(u, y, B), 20);
      long io2 = 2L * B * H * L * io.bytes();
      rows.add(new Row(name + " [" + conv + "]", B, H, L, ms, io2 / ms / 1e6, err, dev.allocator().peakBytes() - live0));
      CudaConvBench.report(rows.getLast());
      if (!extra) return;
      if (conv.threePass() && !conv.fb32()) {
        CudaConvBench.stepRows(() -> conv.forwardPassTimes(u, y, B), new String[] {"outer", "mid", "outer-inverse"}, "  pass ",
            " (" + name + ")", B, H, L, rows);
      }
      if (io == ElementType.BF16 && conv.fusedBackwardApplies()) {
        try (var dk = dev.alloc(4L * H * L); var dD = dev.alloc(4L * H); var dy = dev.alloc(y.bytes())) {
          conv.forward(u, y, B);
          dy.copyFrom(y);   // a separate dy (CudaConvBench's three-pass rows do the same)
          double msB = CudaConvBench.median(dev, () -> { conv.forward(u, y, B); conv.backward(u, dy, y, B, dk, dD); }, 20);
          rows.add(new Row("  fwd+fusedbwd (" + name + ")", B, H, L, msB, 3 * io2 / msB / 1e6, Double.NaN, 0));
          CudaConvBench.report(rows.getLast());
        }
      }
    } finally {
      if (key != null) System.clearProperty(key);
    }
  }
}
