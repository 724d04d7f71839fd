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
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The one-pass FlashButterfly forward, outer stages paired ({@code outerStages(true)}: the _w3/_w3b kernels) against
 * the previous default ({@code outerStages(false)}: the _w2 kernels) in one sitting: causal, B = 64 (default), H = 768,
 * each variant validated against a float64 direct convolution of sampled rows (outputs poisoned first) before it is timed
 * (CUDA events, 3 warm-ups, median of 20 repeats, 60 up to L = 1K; {@link CudaConvBench#median}). Rows: bf16 I/O at the
 * default threads (old, new), the new kernels at other threads, fp16 and fp32 I/O (old, new), the other storage.
 * Usage: FlashButterflyFwdBench [csv-out] [B] [H] [L,L,...]
 */
public final class FlashButterflyFwdBench {
  private FlashButterflyFwdBench() {}

  public static void main(String[] args) throws IOException {
    run("FlashButterflyFwdBench", args, new int[] {256, 1024, 4096, 8192, 16384}, FlashButterflyFwdBench::length);
  }

  /** One length's rows of a one-pass bench. */
  interface Length { void run(CudaDevice dev, int B, int H, int L, List<CudaConvBench.Row> rows); }

  /**
   * The one-pass benches' main: arguments as {@link CudaConvBench.Args}, a second of forwards at the first length
   * ({@link #warmUp}), each length's rows, then the CSV ({@link CudaConvBench#writeCsv}).
   */
  static void run(String name, String[] args, int[] defaultLs, Length body) throws IOException {
    if (!Cuda.available()) { System.out.println(name + ": " + Cuda.reason()); return; }
    var a = CudaConvBench.Args.of(args, defaultLs);
    List<CudaConvBench.Row> rows = new ArrayList<>();
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println(dev);
      warmUp(dev, a.B(), a.H(), a.Ls()[0]);
      for (int L : a.Ls()) body.run(dev, a.B(), a.H(), L, rows);
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  /** The threads per block the previous default (the _w2 kernels, round 6) ran at: 64 / 128 / 256 / 512 by N. */
  static int oldThreads(int n) { return n <= 2048 ? 64 : n <= 8192 ? 128 : n <= 16384 ? 256 : 512; }

  /**
   * {io, outerStages, threads (0: default), other storage than the default, batch pairs per block (0: default)}: the
   * previous default at its threads, the new default, then the new kernels' neighbours in threads and pairs per block.
   */
  static List<Object[]> variants(int n) {
    List<Object[]> v = new ArrayList<>();
    for (var io : new ElementType[] {ElementType.BF16, ElementType.F16, ElementType.F32}) {
      v.add(new Object[] {io, false, oldThreads(n), false, 0});
      v.add(new Object[] {io, true, 0, false, 0});
    }
    int[] ts = n <= 2048 ? new int[] {128} : n <= 8192 ? new int[] {256} : n <= 16384 ? new int[] {256} : new int[] {256};
    for (int t : ts) v.add(new Object[] {ElementType.BF16, true, t, false, 0});
    if (n <= 2048) for (int p : new int[] {1, 4}) v.add(new Object[] {ElementType.BF16, true, 0, false, p});
    return v;
  }

  /** About a second of forwards before the first timed row, so the GPU's clocks have left idle. */
  static void warmUp(CudaDevice dev, int B, int H, int L) {
    long n = (long) B * H * L;
    float[] k = new float[H * L], D = new float[H];
    try (var u = dev.alloc(2 * n); var y = dev.alloc(2 * n);
         var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16).setWeights(k, L, D)) {
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 1, 1f);
      long t0 = System.nanoTime();
      while (System.nanoTime() - t0 < 1_000_000_000L) { for (int i = 0; i < 20; i++) conv.forward(u, y, B); dev.synchronize(); }
    }
  }

  static void length(CudaDevice dev, int B, int H, int L, List<CudaConvBench.Row> rows) {
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    int reps = L <= 1024 ? 60 : 20, nfft = FlashButterflyConv.fftSize(ConvMode.CAUSAL, L);
    try (var u32 = dev.alloc(4 * n); var y32 = dev.alloc(4 * n); var u16 = dev.alloc(2 * n); var y16 = dev.alloc(2 * n)) {
      DeviceFill.uniform(dev, u32, n, ElementType.F32, 7L * L, 1f);
      ElementType filled = null;
      for (Object[] v : variants(nfft)) {
        ElementType io = (ElementType) v[0];
        Precision pr = io == ElementType.F16 ? Precision.F16 : Precision.BF16;
        if (io != ElementType.F32 && io != filled) { DeviceFill.uniform(dev, u16, n, io, 7L * L, 1f); filled = io; }
        DeviceBuffer u = io == ElementType.F32 ? u32 : u16, y = io == ElementType.F32 ? y32 : y16;
        try (var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, pr).outerStages((Boolean) v[1])
            .pairsPerBlock((Integer) v[4])) {
          if ((Integer) v[2] > 0) conv.threads((Integer) v[2]);
          if ((Boolean) v[3]) conv.smem16(!conv.smem16());
          conv.setWeights(k, L, D);
          y.fill32(0x7fc07fc0);
          conv.forward(u, y, B);
          double err = CudaConvBench.validate(u, y, io, k, D, B, H, L);
          double ms = CudaConvBench.median(dev, () -> conv.forward(u, y, B), reps);
          long io2 = 2L * n * io.bytes();
          rows.add(new CudaConvBench.Row("fb-fwd io=" + io + " t=" + conv.threads() + (conv.smem16() ? " s16" : "")
              + ((Integer) v[4] > 0 ? " pairs/block=" + v[4] : "")
              + " " + conv.kernelName().substring(conv.kernelName().lastIndexOf('_') + 1), B, H, L, ms, io2 / ms / 1e6,
              err, 0));
          CudaConvBench.report(rows.getLast());
        }
      }
    }
  }
}
