// Shapes: B batch, H channels, L length, N FFT size. u, y: (B, H, L); k: (H, L) fp32; D: (H) fp32.
// GEMM: C (M, M) = A (M, M) B (M, M) bf16, fp32 accumulation, M = 8192.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CuBlas;
import ai.longconv4j.cuda.Cuda;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.CudaEvent;
import ai.longconv4j.cuda.CudaFftConv;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.HalfFloats;
import ai.longconv4j.cuda.LearnedButterflyConv;
import ai.longconv4j.cuda.LearnedDefaults;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Long-convolution forward on the GPU: FlashButterfly (fp32 and 16-bit) against the cuFFT FftConv twin,
 * each validated against a float64 CPU reference on sampled rows before it is timed (CUDA events, warm-up,
 * median of repeats); then cuBLAS bf16 GEMM 8192^3. Same sizes as examples/bench/flashbutterfly_torch.py.
 * Above L = 16K the batch is scaled down to keep B * L constant ({@link #batchFor}: B = 32 at 32K, 16 at 64K,
 * 4 at 256K for B = 64), and the validation checks 64 sampled outputs per row instead of all L.
 * Usage: CudaConvBench [csv-out] [B] [H] [L,L,...]
 */
public final class CudaConvBench {
  private static final int WARMUP = 3, REPS = 20;
  /**
   * Before each timed row its work runs for at least this long (and at least {@value #WARMUP} times), so that the
   * GPU's clocks are back up after the host-side validation: -Dlongconv4j.bench.warmup.ms, default 200; 0 = the
   * {@value #WARMUP} runs alone (the sessions before 9). flashbutterfly_torch.py takes the same time (--warmup-ms).
   */
  static final int WARMUP_MS = Integer.getInteger("longconv4j.bench.warmup.ms", 200);
  /** -Dlongconv4j.bench.bwd=true: only the bf16 default plan (forward, fwd+bwd, the fused backward's variants). */
  static final boolean BWD_ONLY = Boolean.getBoolean("longconv4j.bench.bwd");
  /** The cuBLAS GEMM and the learned butterfly (L <= 1K) rows: on unless BWD_ONLY; -Dlongconv4j.bench.extras=true|false overrides. */
  static final boolean EXTRAS = Boolean.parseBoolean(System.getProperty("longconv4j.bench.extras", String.valueOf(!BWD_ONLY)));

  record Row(String path, int B, int H, int L, double ms, double gbs, double relErr, long bytes) {}

  /** The bench mains' arguments {@code [csv-out] [B] [H] [L,L,...]}: B = 64, H = 768 and {@code defaultLs} when absent. */
  record Args(Path csv, int B, int H, int[] Ls) {
    static Args of(String[] args, int... defaultLs) {
      return new Args(args.length > 0 ? Path.of(args[0]) : null, args.length > 1 ? Integer.parseInt(args[1]) : 64,
          args.length > 2 ? Integer.parseInt(args[2]) : 768,
          args.length > 3 ? Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray() : defaultLs);
    }
  }

  /** The rows as CSV on stdout, and in {@code csv} unless it is null. */
  static void writeCsv(List<Row> rows, Path csv) throws IOException {
    var sb = new StringBuilder("path,B,H,L,ms,GBps,relerr,bytes\n");
    for (Row r : rows)
      sb.append(String.format("%s,%d,%d,%d,%.4f,%.1f,%.2e,%d%n", r.path, r.B, r.H, r.L, r.ms, r.gbs, r.relErr, r.bytes));
    System.out.print(sb);
    if (csv != null) Files.writeString(csv, sb);
  }

  /** Rows {@code prefix + names[q] + suffix}: the median over 5 calls of {@code times} (one time per step, ms) of each step. */
  static void stepRows(java.util.function.Supplier<double[]> times, String[] names, String prefix, String suffix, int B, int H,
                       int L, List<Row> rows) {
    double[][] pt = new double[5][];
    for (int r = 0; r < pt.length; r++) pt[r] = times.get();
    for (int q = 0; q < names.length; q++) {
      final int qq = q;
      double med = Arrays.stream(pt).mapToDouble(a -> a[qq]).sorted().toArray()[pt.length / 2];
      rows.add(new Row(prefix + names[q] + suffix, B, H, L, med, Double.NaN, Double.NaN, 0));
      report(rows.getLast());
    }
  }

  /** Every bench's weights at length L: {k (H, L) uniform in ±1/sqrt(L), D (H) uniform in ±1}, from seed 42 + L. */
  static float[][] weights(int H, int L) {
    var rng = new SplittableRandom(42 + L);
    float[] k = new float[H * L], D = new float[H];
    for (int i = 0; i < k.length; i++) k[i] = (float) ((rng.nextDouble() * 2 - 1) / Math.sqrt(L));
    for (int i = 0; i < H; i++) D[i] = (float) (rng.nextDouble() * 2 - 1);
    return new float[][] {k, D};
  }

  interface Work { void run(); }

  static double median(CudaDevice dev, Work w, int reps) {
    long t0 = System.nanoTime();
    for (int i = 0; i < WARMUP || System.nanoTime() - t0 < WARMUP_MS * 1_000_000L; i++) {
      w.run();
      if (i % 8 == 7) dev.synchronize();   // time the GPU's work, not the launch queue's
    }
    dev.synchronize();
    double[] t = new double[reps];
    try (var a = new CudaEvent(dev); var b = new CudaEvent(dev)) {
      for (int i = 0; i < reps; i++) {
        a.record(dev.stream());
        w.run();
        b.record(dev.stream());
        t[i] = b.elapsedSince(a);
      }
    }
    Arrays.sort(t);
    return t[reps / 2];
  }

  /** The batch used at length L: B up to 16K, then B * 16K / L (at least 2): the same number of elements. */
  static int batchFor(int B, int L) { return L <= 16384 ? B : Math.max(2, (int) ((long) B * 16384 / L)); }

  /**
   * Float64 causal conv of sampled device rows (all L outputs up to L = 16K, else 64 sampled outputs incl. the last);
   * returns the max relative error over the rows.
   */
  static double validate(DeviceBuffer u, DeviceBuffer y, ElementType io, float[] k, float[] D, int B, int H, int L) {
    var rng = new SplittableRandom(L);
    double worst = 0;
    for (int s = 0; s < 3; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * io.bytes();
      float[] ur = read(u, io, off, L), yr = read(y, io, off, L);
      double num = 0, den = 0;
      int[] ns = L <= 16384 ? null : rng.ints(63, 0, L).toArray();
      for (int i = 0, cnt = ns == null ? L : 64; i < cnt; i++) {
        int n = ns == null ? i : i == 63 ? L - 1 : ns[i];
        double acc = (double) D[h] * ur[n];
        for (int j = 0; j <= n; j++) acc += (double) k[h * L + j] * ur[n - j];
        double d = yr[n] - acc;
        num += Double.isFinite(yr[n]) ? d * d : Double.POSITIVE_INFINITY;
        den += acc * acc;
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    return worst;
  }

  static float[] read(DeviceBuffer x, ElementType io, long off, int n) {
    return io == ElementType.F32 ? x.copyTo(new float[n], off) : HalfFloats.decode(x.copyTo(new short[n], off), io);
  }

  public static void main(String[] args) throws IOException {
    if (!Cuda.available()) { System.out.println("CudaConvBench: " + Cuda.reason()); return; }
    var a = Args.of(args, 256, 1024, 4096, 8192, 16384);
    int B = a.B(), H = a.H();
    List<Row> rows = new ArrayList<>();
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println(dev);
      // copy bandwidth ceiling: 2 GiB device-to-device, bytes read + written
      long cb = 2L << 30;
      try (var s = dev.alloc(cb); var d = dev.alloc(cb)) {
        DeviceFill.uniform(dev, s, cb / 4, ElementType.F32, 1, 1f);
        double ms = median(dev, () -> d.copyFrom(s), 10);
        rows.add(new Row("copy D2D 2GiB", 0, 0, 0, ms, 2.0 * cb / ms / 1e6, 0, 2 * cb));
        System.out.printf("copy bandwidth: %.0f GB/s%n", 2.0 * cb / ms / 1e6);
      }
      for (int L : a.Ls()) benchLength(dev, batchFor(B, L), H, L, rows);
      if (EXTRAS) gemm(dev, 8192, rows);
    }
    writeCsv(rows, a.csv());
  }

  static void benchLength(CudaDevice dev, int B, int H, int L, List<Row> rows) {
    boolean fused = true;
    try {
      FlashButterflyConv.fftSize(ConvMode.CAUSAL, L);
    } catch (IllegalArgumentException e) {
      System.out.println("L=" + L + ": no FlashButterfly: " + e.getMessage());
      fused = false;
    }
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    int reps = L <= 1024 ? 3 * REPS : REPS;
    try (var u32 = dev.alloc(4 * n); var y32 = dev.alloc(4 * n)) {
      DeviceFill.uniform(dev, u32, n, ElementType.F32, 7L * L, 1f);
      // cuFFT twin (the PyTorch path): fp32 in, fp32 out
      dev.allocator().resetPeak();
      long live0 = dev.allocator().liveBytes();
      try (var fft = new CudaFftConv(dev, B, H, L).setWeights(k, L, D)) {
        y32.fill32(0x7fc00000);
        fft.forward(u32, y32);
        double err = validate(u32, y32, ElementType.F32, k, D, B, H, L);
        double ms = median(dev, () -> fft.forward(u32, y32), reps);
        long bytes = dev.allocator().peakBytes() - live0 + 8 * n;
        rows.add(new Row("cufft-fftconv f32", B, H, L, ms, 8.0 * n / ms / 1e6, err, bytes));
        report(rows.getLast());
      }
      int nfft = fused ? FlashButterflyConv.fftSize(ConvMode.CAUSAL, L) : 0;
      int tDefault = fused ? defaultThreads(dev, L, ElementType.BF16, Precision.BF16) : 0;
      boolean sDefault = false, three = false;
      int inner = nfft;
      if (fused) try (var p = FlashButterflyConv.plan(dev, 1, L, ConvMode.CAUSAL, ElementType.BF16, Precision.BF16)) {
        sDefault = p.smem16();
        three = p.threePass();
        inner = p.innerSize();
      }
      // {io, compute, threads (0: the plan's default), fused, 16-bit shared memory (null: the plan's default),
      //  three-pass inner size M (0: the plan's default)}
      List<Object[]> vs = new ArrayList<>(List.of(new Object[] {ElementType.F32, Precision.FP32, 0, true, null, 0},
          new Object[] {ElementType.F32, Precision.BF16, 0, true, null, 0},
          new Object[] {ElementType.BF16, Precision.BF16, 0, true, null, 0},
          new Object[] {ElementType.F16, Precision.F16, 0, true, null, 0},
          new Object[] {ElementType.BF16, Precision.BF16, 0, false, null, 0}));
      for (int t : three ? new int[] {128, 512} : new int[] {64, 128, 256, 512, 768, 1024})
        if (t != tDefault) vs.add(new Object[] {ElementType.BF16, Precision.BF16, t, true, null, 0});
      if (inner <= FlashButterflyConv.MAX_N_FP32_SMEM) vs.add(new Object[] {ElementType.BF16, Precision.BF16, 0, true, !sDefault, 0});
      if (three) for (int m : new int[] {4096, 8192, 16384})
        if (nfft / m <= 32 && m != inner) vs.add(new Object[] {ElementType.BF16, Precision.BF16, 0, true, null, m});
      // two radix-16 stages per warp (the _w2 kernels) vs the default, if that is not already them: v[6] = pairStages
      boolean pDefault = FlashButterflyConv.DEFAULT_PAIR_STAGES;
      for (var io : new ElementType[] {ElementType.BF16, ElementType.F16, ElementType.F32})
        vs.add(new Object[] {io, io == ElementType.F16 ? Precision.F16 : Precision.BF16, 0, true, null, 0, !pDefault});
      if (inner <= FlashButterflyConv.MAX_N_FP32_SMEM) vs.add(new Object[] {ElementType.BF16, Precision.BF16, 0, true, !sDefault, 0, !pDefault});
      Object[][] variants = vs.toArray(new Object[0][]);
      for (Object[] v : fused ? variants : new Object[0][]) {
        ElementType io = (ElementType) v[0];
        Precision pr = (Precision) v[1];
        if (BWD_ONLY && !(io == ElementType.BF16 && v[2].equals(0) && v[3].equals(true) && v[4] == null && v[5].equals(0)))
          continue;   // the backward sitting: the bf16 default plan only
        int innerM = (Integer) v[5];
        int threads = (Integer) v[2] == 0 ? innerM > 0 ? defaultInnerThreads(innerM) : defaultThreads(dev, L, io, pr)
            : (Integer) v[2];
        boolean fusedVariant = (Boolean) v[3];
        Boolean s16 = (Boolean) v[4];
        boolean pairs = v.length > 6 ? (Boolean) v[6] : FlashButterflyConv.DEFAULT_PAIR_STAGES;
        try {
          FlashButterflyConv.checkSupported(nfft, pr);
        } catch (IllegalArgumentException e) {
          System.out.println("L=" + L + ": skipped: " + e.getMessage());
          continue;
        }
        dev.allocator().resetPeak();
        live0 = dev.allocator().liveBytes();
        try (var conv = inner(FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, pr), innerM).threads(threads)
            .fused(fusedVariant).setWeights(k, L, D);
             var u16 = io == ElementType.F32 ? null : dev.alloc(2 * n);
             var y16 = io == ElementType.F32 ? null : dev.alloc(2 * n)) {
          DeviceBuffer u = io == ElementType.F32 ? u32 : u16, y = io == ElementType.F32 ? y32 : y16;
          if (s16 != null) conv.smem16(s16);
          conv.pairStages(pairs);
          if (io != ElementType.F32) DeviceFill.uniform(dev, u16, n, io, 7L * L, 1f);
          y.fill32(0x7fc07fc0);
          conv.forward(u, y, B);
          double err = validate(u, y, io, k, D, B, H, L);
          double ms = median(dev, () -> conv.forward(u, y, B), reps);
          long io2 = 2L * n * io.bytes();
          long bytes = dev.allocator().peakBytes() - live0 + (io == ElementType.F32 ? io2 : 0);
          rows.add(new Row("flashbutterfly io=" + io + " compute=" + pr + " t=" + threads + (fusedVariant ? "" : " unfused")
              + (conv.smem16() ? " s16" : "") + (conv.pairStages() ? " w2" : "")
              + (conv.fb32() ? " fb32 1pass" : conv.threePass() ? " 3pass M=" + conv.innerSize() : ""), B, H, L, ms,
              io2 / ms / 1e6, err, bytes));
          report(rows.getLast());
          System.out.println("  kernel: " + conv.kernelName());
          boolean dflt = pairs == FlashButterflyConv.DEFAULT_PAIR_STAGES;
          if (conv.fb32() && v[2].equals(0) && s16 == null && innerM == 0 && dflt) {   // the three-pass twin, same sitting
            conv.fb32(false);
            dev.allocator().resetPeak();
            y.fill32(0x7fc07fc0);
            conv.forward(u, y, B);
            double errT = validate(u, y, io, k, D, B, H, L);
            double msT = median(dev, () -> conv.forward(u, y, B), reps);
            rows.add(new Row("flashbutterfly io=" + io + " compute=" + pr + " t=" + threads + " 3pass M=" + conv.innerSize()
                + " (fb32 off)", B, H, L, msT, io2 / msT / 1e6, errT, dev.allocator().peakBytes() - live0
                + (io == ElementType.F32 ? io2 : 0)));
            report(rows.getLast());
            conv.fb32(true);
            for (int ft : io == ElementType.BF16 ? new int[] {256, 384} : new int[0]) {   // the one-pass kernel's threads
              System.setProperty("longconv4j.cuda.fb32.threads", Integer.toString(ft));   // read when its route is made
              try (var c2 = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, pr).setWeights(k, L, D)) {
                y.fill32(0x7fc07fc0);
                c2.forward(u, y, B);
                double errF = validate(u, y, io, k, D, B, H, L);
                double msF = median(dev, () -> c2.forward(u, y, B), reps);
                rows.add(new Row("flashbutterfly io=" + io + " compute=" + pr + " fb32 1pass t=" + ft, B, H, L, msF,
                    io2 / msF / 1e6, errF, 0));
                report(rows.getLast());
              } finally {
                System.clearProperty("longconv4j.cuda.fb32.threads");
              }
            }
          }
          if (conv.threePass() && io != ElementType.F32 && v[2].equals(0) && s16 == null && fusedVariant) {
            stepRows(() -> conv.forwardPassTimes(u, y, B), new String[] {"outer", "mid", "outer-inverse"}, "  pass ",
                " io=" + io + " M=" + conv.innerSize() + (conv.pairStages() ? " w2" : ""), B, H, L, rows);
          }
          if (io == ElementType.BF16 && v[2].equals(0) && s16 == null && fusedVariant && innerM == 0 && dflt) {
            // forward + backward (du, dk, dD): u and y double as dy and du
            try (var dk = dev.alloc(4L * H * L); var dD = dev.alloc(4L * H)) {
              double msB = median(dev, () -> { conv.forward(u, y, B); conv.backwardInput(u, y, B);
                conv.backwardWeights(u, u, B, dk, dD); }, reps);
              double msW = median(dev, () -> conv.backwardWeights(u, u, B, dk, dD), reps);
              rows.add(new Row("flashbutterfly fwd+bwd io=" + io + " t=" + threads + (conv.smem16() ? " s16" : ""), B, H, L,
                  msB, 3 * io2 / msB / 1e6, Double.NaN, dev.allocator().peakBytes() - live0));
              report(rows.getLast());
              rows.add(new Row("flashbutterfly bwd-weights io=" + io, B, H, L, msW, io2 / msW / 1e6, Double.NaN, 16L * H * nfft));
              report(rows.getLast());
              if (conv.fusedBackwardApplies()) fusedBackward(dev, conv, u, y, dk, dD, B, H, L, io2, reps, rows, live0);
            }
          }
        }
      }
      if (L <= 1024 && EXTRAS) learned(dev, B, H, L, k, D, reps, rows);
    } catch (RuntimeException | ExceptionInInitializerError e) {
      System.out.println("L=" + L + ": FAILED: " + e);
      e.printStackTrace(System.out);
    }
  }

  /**
   * The fused tensor-core backward (FlashButterflyConv.backward: du, dk, dD in one kernel per batch pair and channel plus
   * one per channel): forward + fused backward, the fused backward alone at the default threads and storage, then at
   * other threads, the other storage and the unfused middle. u doubles as dy, y as du — except for the three-pass plans'
   * fwd+bwd and step rows: there dy is a separate buffer (a copy of y) and du goes to y, so that a kernel reading u
   * and dy in one launch (round 8c's fb3b_outer2) does not find dy's lines in cache (sessions up to 5 passed u as dy).
   */
  static void fusedBackward(CudaDevice dev, FlashButterflyConv conv, DeviceBuffer u, DeviceBuffer y, DeviceBuffer dk,
      DeviceBuffer dD, int B, int H, int L, long io2, int reps, List<Row> rows, long live0) {
    try (DeviceBuffer dy = conv.threePass() ? dev.alloc(y.bytes()) : null) {
      if (dy != null) { conv.forward(u, y, B); dy.copyFrom(y); }
      fusedBackward(dev, conv, u, y, dy == null ? u : dy, dk, dD, B, H, L, io2, reps, rows,
          live0 + (dy == null ? 0 : dy.bytes()));   // peaks as before: dy's buffer not counted
    }
  }

  private static void fusedBackward(CudaDevice dev, FlashButterflyConv conv, DeviceBuffer u, DeviceBuffer y, DeviceBuffer dy,
      DeviceBuffer dk, DeviceBuffer dD, int B, int H, int L, long io2, int reps, List<Row> rows, long live0) {
    dev.allocator().resetPeak();   // the fused path's own peak (the rows above include the fp32 twin's workspace)
    double msFB = median(dev, () -> { conv.forward(u, y, B); conv.backward(u, dy, y, B, dk, dD); }, reps);
    rows.add(new Row("flashbutterfly fwd+fusedbwd io=BF16 " + conv.backwardKernelName(), B, H, L, msFB, 3 * io2 / msFB / 1e6,
        Double.NaN, dev.allocator().peakBytes() - live0));
    report(rows.getLast());
    if (conv.threePass()) {   // the three-pass backward's steps (CUDA events around each launch), medians of 5
      stepRows(() -> conv.backwardPassTimes(u, dy, y, B, dk, dD),
          new String[] {"u outer", "dy outer", "mid", "du outer-inverse", "dk finish", "dD"}, "  bwd pass ",
          " " + conv.backwardKernelName() + " M=" + conv.innerSize(), B, H, L, rows);
    }
    int n = conv.innerSize();   // the in-smem size (three-pass plans: M)
    int tDef = n <= 1024 ? 64 : n <= 4096 ? 128 : n <= 8192 ? 256 : 512;   // FlashButterflyConv.defaultBwdThreads
    for (int t : conv.threePass() ? new int[] {0, 128, 192, 256, 512} : new int[] {0, 64, 128, 256, 512, 768}) {
      if (t == tDef || (t != 0 && n / t < 8)) continue;
      try {
        conv.backwardThreads(t);
        double ms = median(dev, () -> conv.backward(u, u, y, B, dk, dD), reps);
        rows.add(new Row("flashbutterfly fusedbwd " + conv.backwardKernelName() + " t=" + (t == 0 ? tDef : t), B, H, L, ms,
            2 * io2 / ms / 1e6, Double.NaN, 8L * H * n));
        report(rows.getLast());
      } catch (RuntimeException e) {
        System.out.println("L=" + L + " fused bwd t=" + t + ": " + e.getMessage());
      }
    }
    conv.backwardThreads(0);
    double msK = median(dev, () -> conv.backward(u, u, null, B, dk, dD), reps);
    rows.add(new Row("flashbutterfly fusedbwd dk-only " + conv.backwardKernelName(), B, H, L, msK, io2 / msK / 1e6, Double.NaN, 0));
    report(rows.getLast());
    conv.fusedBackwardMiddle(false);
    double msU = median(dev, () -> conv.backward(u, u, y, B, dk, dD), reps);
    rows.add(new Row("flashbutterfly fusedbwd unfused-middle " + conv.backwardKernelName(), B, H, L, msU, 2 * io2 / msU / 1e6,
        Double.NaN, 0));
    report(rows.getLast());
    conv.fusedBackwardMiddle(true);
    if (n <= FlashButterflyConv.MAX_N_FP32_SMEM / 2 && !conv.threePass()) {
      boolean other = n < 4096;   // not FlashButterflyConv.defaultBwdSmem16
      conv.backwardSmem16(other);
      double msS = median(dev, () -> conv.backward(u, u, y, B, dk, dD), reps);
      rows.add(new Row("flashbutterfly fusedbwd " + conv.backwardKernelName(), B, H, L, msS, 2 * io2 / msS / 1e6, Double.NaN, 0));
      report(rows.getLast());
      conv.backwardSmem16(null);
    }
  }

  /**
   * The learned-butterfly kernels, blocks at the DFT, bf16 I/O: the fp32 CUDA-core twin (learned.cu) and the tensor-core
   * kernels (learned_tc.cu forward and du, learned_tc_bwd.cu block gradients, dk, dD; both row splits at N1 = 32),
   * forward and forward + backward (the tensor-core default also: backward alone, and with the fp32 gradient kernel),
   * each forward validated against the float64 causal conv before it is timed.
   */
  static void learned(CudaDevice dev, int B, int H, int L, float[] k, float[] D, int reps, List<Row> rows) {
    long n = (long) B * H * L;
    // {tensor cores, split rows}: the fp32 twin, the tensor-core default, the other row split (N1 = 32 only)
    for (boolean[] v : new boolean[][] {{false, false}, {true, LearnedDefaults.DEFAULT_SPLIT}, {true, !LearnedDefaults.DEFAULT_SPLIT}})
      try (var lb = LearnedButterflyConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).setWeights(k, D);
           var u = dev.alloc(2 * n); var y = dev.alloc(2 * n); var dk = dev.alloc(4L * H * L); var dD = dev.alloc(4L * H)) {
        boolean tc = v[0];
        if (tc && !lb.tensorCores()) continue;   // no tensor-core kernel for this N
        lb.tensorCores(tc).splitRows(v[1]).pairRows(!v[1] && LearnedDefaults.DEFAULT_PAIR);   // split: one warp per row
        if (tc && v[1] != LearnedDefaults.DEFAULT_SPLIT && !lb.splitRows() && lb.factors()[0] != 32) continue;
        String name = (tc ? "tensor-core" : "fp32") + " " + lb.factors()[0] + "x" + lb.factors()[1]
            + (lb.splitRows() ? " split" : lb.pairRows() ? " pair" : "");
        DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
        y.fill32(0x7fc07fc0);
        lb.forward(u, y, B);
        double err = validate(u, y, ElementType.BF16, k, D, B, H, L);
        double ms = median(dev, () -> lb.forward(u, y, B), reps);
        rows.add(new Row("learned-butterfly io=BF16 " + name, B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
        report(rows.getLast());
        double msB = median(dev, () -> { lb.forward(u, y, B); lb.backward(u, u, B, y, dk, dD); }, Math.min(reps, 10));
        rows.add(new Row("learned-butterfly fwd+bwd io=BF16 " + name, B, H, L, msB, 12.0 * n / msB / 1e6, Double.NaN, 0));
        report(rows.getLast());
        if (tc && v[1] == LearnedDefaults.DEFAULT_SPLIT) {   // the backward alone; then with the fp32 gradient kernel
          double msW = median(dev, () -> lb.backward(u, u, B, y, dk, dD), Math.min(reps, 10));
          rows.add(new Row("learned-butterfly bwd io=BF16 " + name, B, H, L, msW, 8.0 * n / msW / 1e6, Double.NaN, 0));
          report(rows.getLast());
          lb.tensorCoreGradients(false);
          double msF = median(dev, () -> { lb.forward(u, y, B); lb.backward(u, u, B, y, dk, dD); }, Math.min(reps, 10));
          rows.add(new Row("learned-butterfly fwd+bwd io=BF16 " + name + " fp32-grads", B, H, L, msF, 12.0 * n / msF / 1e6,
              Double.NaN, 0));
          report(rows.getLast());
        }
      }
  }

  /** The plan with its three-pass inner size forced to M (0: unchanged). */
  static FlashButterflyConv inner(FlashButterflyConv p, int M) { return M > 0 ? p.innerSize(M) : p; }

  /** Tensor-core threads per block the plan picks for an in-smem size M (FlashButterflyConv.defaultThreads). */
  static int defaultInnerThreads(int M) { return M <= 2048 ? 64 : M <= 8192 ? 128 : M <= 16384 ? 256 : 512; }

  /** The plan's default threads per block for (L, io, compute), causal; 0 when the plan cannot be built. */
  static int defaultThreads(CudaDevice dev, int L, ElementType io, Precision pr) {
    try (var p = FlashButterflyConv.plan(dev, 1, L, ConvMode.CAUSAL, io, pr)) {
      return p.threads();
    } catch (IllegalArgumentException e) {
      return 64;
    }
  }

  static void report(Row r) {
    System.out.printf("%-42s B=%d H=%d L=%-6d %9.3f ms %8.1f GB/s  relerr %.2e  mem %.2f GB%n", r.path, r.B, r.H, r.L, r.ms,
        r.gbs, r.relErr, r.bytes / 1e9);
  }

  /** cuBLAS bf16 GEMM m^3, with the handle's 32 MiB workspace (the default) and then with cuBLAS's own default. */
  static void gemm(CudaDevice dev, int m, List<Row> rows) {
    long n = (long) m * m;
    String prop = "longconv4j.cuda.cublas.workspace.mb", before = System.getProperty(prop);
    try (var a = dev.alloc(2 * n); var b = dev.alloc(2 * n); var c = dev.alloc(2 * n)) {
      DeviceFill.uniform(dev, a, n, ElementType.BF16, 3, 1f);
      DeviceFill.uniform(dev, b, n, ElementType.BF16, 4, 1f);
      for (String ws : before == null ? new String[] {null, "0"} : new String[] {before}) {
        if (ws == null) System.clearProperty(prop); else System.setProperty(prop, ws);
        try (var blas = CuBlas.create(dev)) {
          Work w = () -> blas.gemmEx(false, false, m, m, m, 1f, a.ptr(), CuBlas.DataType.BF16, m, b.ptr(), CuBlas.DataType.BF16,
              m, 0f, c.ptr(), CuBlas.DataType.BF16, m);
          double ms = median(dev, w, REPS);
          double tflops = 2.0 * m * m * (double) m / ms / 1e9;
          String tag = ws == null ? "" : " workspace " + ws + " MiB" + ("0".equals(ws) ? " (cuBLAS's default)" : "");
          System.out.printf("cublasGemmEx (%s) bf16 %d^3%s: %.3f ms, %.1f TFLOP/s%n", CuBlas.soname(), m, tag, ms, tflops);
          rows.add(new Row("cublasGemmEx bf16 " + m + "^3" + tag + " TFLOPs=" + String.format("%.1f", tflops), 0, 0, m, ms, 0,
              gemmCheck(a, b, c, m), 6 * n));
        }
      }
    } catch (RuntimeException | ExceptionInInitializerError e) {
      System.out.println("GEMM: FAILED: " + e);
    } finally {
      if (before == null) System.clearProperty(prop); else System.setProperty(prop, before);
    }
  }

  /**
   * Relative error of C[0..7, 0] (column-major) against float64 dot products of A's rows and B's column 0
   * (bf16 inputs are exact; the bf16 output adds a relative rounding of at most 2^-8).
   */
  static double gemmCheck(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int m) {
    short[] aAll = a.copyTo(new short[m * m], 0);
    float[] bcol = HalfFloats.decode(b.copyTo(new short[m], 0), ElementType.BF16);
    float[] c0 = HalfFloats.decode(c.copyTo(new short[8], 0), ElementType.BF16);
    double num = 0, den = 0;
    for (int i = 0; i < 8; i++) {
      double s = 0;
      for (int p = 0; p < m; p++) {   // A[i, p] at i + p*m
        float aip = HalfFloats.fromBf16(aAll[i + p * m]);
        s += (double) aip * bcol[p];
      }
      num += (c0[i] - s) * (c0[i] - s);
      den += s * s;
    }
    return Math.sqrt(num / den);
  }
}
