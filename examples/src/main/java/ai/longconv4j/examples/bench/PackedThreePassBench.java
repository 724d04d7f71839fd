// Shapes: B batch, H channels, L length, Lk = L taps; u, y, du: (B, H, L) bf16; k: (H, L) fp32 (channel h holds distinct kernel
// row h mod KROWS); D: (H) fp32; P / Q per channel (lib's pairCoefficients layout [4M], M = N / 2 = N1 * 8192).
package ai.longconv4j.examples.bench;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.PackedThreePass;
import ai.longconv4j.cuda.PackedThreePassBackward;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Session 14, helper pkj3p: the three-pass J-factor packed learned butterfly ({@link PackedThreePass}, learned_p3.cu) against
 * FlashButterfly's three-pass plan ({@link FlashButterflyConv}, its default) in one process, bf16 I/O and compute, causal,
 * Lk = L. Cases {@code L:B} ({@code -Dlongconv4j.bench.p3.cases}, default 65536:16,262144:4, FB's bench scaling of B);
 * paths in the order of {@code -Dlongconv4j.bench.p3.order} (default fb,p3): {@code p3} the plan's default, {@code p3-s32}
 * the fp32-plane twin, and (helper pk3fast, session 15) {@code p3-twin} learned_p3.cu's kernels (16-bit planes, fp32
 * scratch), {@code p3-sc16} the 16-bit scratch with lp3_mid16 and CUDA-core outer passes, {@code p3-tc} also the
 * tensor-core outer passes, {@code p3-w} also the per-warp middle lp3_mid16w (learned_p3b.cu), {@code p3-sw} (helper p3,
 * session 17) the 16-bit scratch and lp3_mid16w with CUDA-core outer passes, {@code p3-x} / {@code p3-nx} (session 26) the
 * plan with its middle's pair map in registers (lp3_mid16x) or not; with {@code -Dlongconv4j.bench.p3.bwd=true}
 * also {@link PackedThreePassBackward}'s row (du, dP / dQ, dD and, since session 18, the block gradients on tensor cores,
 * dy = u) and its steps' times; {@code -Dlongconv4j.bench.p3.bwd.variants} (session 20, e.g. {@code
 * default;reduce=serial;ogram=sincos}) times the backward under each setting of {@code -Dlongconv4j.p3.*}, in order and
 * reversed, and prints each one's phases. The kernel taps repeat every KROWS = 4
 * channels (the packed plan's P / Q of 4 distinct rows computed in float64 on the host, then uploaded per channel; timing
 * does not depend on the values). Per path: blocks at the DFT (the learned map is then the exact convolution; random-block
 * accuracy is PackedThreePassGpuTest's), y NaN-poisoned, the forward of 2 sampled rows validated against lib's float64
 * (PackedLearnedButterfly at init on that one row: an exact FFT convolution); the packed path's input gradient (dy = u)
 * validated the same way (lib's backward); then CUDA-event medians ({@code CudaConvBench.median}, its warm-up) of the
 * forward (20 runs), for the packed path also the input gradient and each pass alone. Usage: PackedThreePassBench [csv-out] [B] [H].
 */
public final class PackedThreePassBench {
  private PackedThreePassBench() {}

  private static final int KROWS = 4;

  public static void main(String[] args) throws IOException {
    var a = CudaConvBench.Args.of(args, 65536);
    int H = a.H();
    List<CudaConvBench.Row> rows = new ArrayList<>();
    String cases = System.getProperty("longconv4j.bench.p3.cases", "65536:16,262144:4");
    String order = System.getProperty("longconv4j.bench.p3.order", "fb,p3");
    ElementType io = ElementType.BF16;
    ConvMode mode = ConvMode.CAUSAL;
    long t0 = System.nanoTime();
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println("device: " + dev);
      for (String c : cases.split(",")) {
        int L = Integer.parseInt(c.split(":")[0]), B = Integer.parseInt(c.split(":")[1]);
        float[][] w = CudaConvBench.weights(KROWS, L);
        float[] kb = w[0], D = new float[H];
        var rd = new SplittableRandom(43 + L);
        for (int h = 0; h < H; h++) D[h] = (float) (rd.nextDouble() * 2 - 1);
        float[] k0 = new float[H * L];
        for (int h = 0; h < H; h++) System.arraycopy(kb, (h % KROWS) * L, k0, h * L, L);
        long n = (long) B * H * L;
        try (var u = dev.alloc(2 * n); var y = dev.alloc(2 * n)) {
          DeviceFill.uniform(dev, u, n, io, 7L * L, 1f);
          for (String p : order.split(",")) {
            if (p.equals("fb")) {
              try (var fb = FlashButterflyConv.plan(dev, H, L, mode, io, Precision.BF16)) {
                fb.setWeights(k0, L, D);
                String name = "flashbutterfly " + fb.kernelName();
                y.fill32(0x7fc07fc0);
                fb.forward(u, y, B);
                dev.synchronize();
                double err = validate(false, u, y, kb, D, B, H, L);
                System.out.printf("%s L=%d B=%d: forward vs float64 %.3e%n", name, L, B, err);
                double ms = CudaConvBench.median(dev, () -> fb.forward(u, y, B), 20);
                rows.add(new CudaConvBench.Row(name + " fwd", B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
                CudaConvBench.report(rows.getLast());
              }
            } else if (p.startsWith("p3")) {
              try (var p3 = PackedThreePass.plan(dev, H, L, L, mode, io)) {
                switch (p) {
                  case "p3" -> { }
                  case "p3-s32" -> p3.storage16(false);
                  case "p3-twin" -> p3.storage16(true).scratch16(false).outerTc(false);
                  case "p3-sc16" -> p3.storage16(true).scratch16(true).outerTc(false).middleWarp(false);
                  case "p3-tc" -> p3.storage16(true).scratch16(true).outerTc(true).middleWarp(false);
                  case "p3-w" -> p3.storage16(true).scratch16(true).outerTc(true).middleWarp(true);
                  case "p3-sw" -> p3.storage16(true).scratch16(true).outerTc(false).middleWarp(true);
                  case "p3-x" -> p3.middleRegPair(true);    // session 26: lp3_mid16x
                  case "p3-nx" -> p3.middleRegPair(false);
                  default -> throw new IllegalArgumentException("PackedThreePassBench: paths fb, p3, p3-s32, p3-twin, p3-sc16, p3-tc, p3-w, p3-sw, p3-x, p3-nx; got " + p);
                }
                ConvPlan plan = p3.libPlan();
                var shape = new ConvShape(1, 1, KROWS, L, L, ai.longconv4j.conv.ConvMode.CAUSAL);
                double[] kd = new double[KROWS * L];
                for (int i = 0; i < kd.length; i++) kd[i] = kb[i];
                double[][] coef = new double[KROWS][];
                java.util.stream.IntStream.range(0, KROWS).parallel().forEach(r ->
                    coef[r] = PackedLearnedButterfly.pairCoefficients(plan, PackedLearnedButterfly.placeTaps(plan, shape, kd, r)));
                for (int h = 0; h < H; h++) p3.setChannel(h, coef[h % KROWS]);
                p3.setD(D);
                String name = "packed three-pass " + p3;
                y.fill32(0x7fc07fc0);
                p3.forward(u, y, B);
                dev.synchronize();
                double err = validate(false, u, y, kb, D, B, H, L);
                y.fill32(0x7fc07fc0);
                p3.inputGrad(u, y, B);
                dev.synchronize();
                double errB = validate(true, u, y, kb, D, B, H, L);
                System.out.printf("%s L=%d B=%d: forward vs float64 %.3e, input gradient vs float64 %.3e%n", name, L, B, err, errB);
                System.out.printf("[p3 set up and validated at %.1f s]%n", (System.nanoTime() - t0) / 1e9);
                String tagp = "packed three-pass M=" + p3.points() + " " + p3.middleKernel() + " " + p3.outerKernel(true);
                double ms = CudaConvBench.median(dev, () -> p3.forward(u, y, B), 20);
                rows.add(new CudaConvBench.Row(tagp + " fwd", B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
                CudaConvBench.report(rows.getLast());
                double msG = CudaConvBench.median(dev, () -> p3.inputGrad(u, y, B), 20);
                rows.add(new CudaConvBench.Row(tagp + " du", B, H, L, msG, 4.0 * n / msG / 1e6, errB, 0));
                CudaConvBench.report(rows.getLast());
                if (Boolean.getBoolean("longconv4j.bench.p3.bwd")) bwdRow(dev, p3, u, y, kb, D, B, H, L, tagp, rows);
                String[] passes = {"outer fwd", "middle", "outer inv"};
                for (int i = 0; i < 3; i++) {
                  int mask = 1 << i;
                  double t = CudaConvBench.median(dev, () -> p3.forwardPasses(u, y, B, mask), 20);
                  rows.add(new CudaConvBench.Row(tagp + " " + passes[i] + " only", B, H, L, t, 0, 0, 0));
                  CudaConvBench.report(rows.getLast());
                }
              }
            } else {
              throw new IllegalArgumentException("PackedThreePassBench: paths fb, p3, p3-s32, p3-twin, p3-sc16, p3-tc, p3-w, p3-sw; got " + p);
            }
            System.out.printf("[%s L=%d done at %.1f s]%n", p, L, (System.nanoTime() - t0) / 1e9);
          }
        }
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  /**
   * Helper p3 (session 17): {@link PackedThreePassBackward} (du, dP / dQ, dD on tensor cores; since helper p3tc, session 18,
   * the 2J block gradients too) for dy = u, its du validated as the input gradient's, then its CUDA-event median (20 runs)
   * next to the plan's inputGrad row, then one call with {@code -Dlongconv4j.p3.bwd.phases=true} (its steps' times).
   */
  static void bwdRow(CudaDevice dev, PackedThreePass p3, DeviceBuffer u, DeviceBuffer y, float[] kb, float[] D, int B, int H, int L,
                     String tagp, List<CudaConvBench.Row> rows) {
    long n = (long) B * H * L;
    try (var bw = new PackedThreePassBackward(p3); var gpq = dev.alloc(16L * H * p3.points()); var dD = dev.alloc(4L * H)) {
      y.fill32(0x7fc07fc0);
      bw.backward(u, u, B, y, gpq, dD);
      dev.synchronize();
      double err = validate(true, u, y, kb, D, B, H, L);
      System.out.printf("%s: backward du vs float64 %.3e%n", bw, err);
      // variants: "default" or comma-separated "key=value" settings of -Dlongconv4j.p3.<key> (e.g. reduce=serial,
      // ogram=sincos), separated by ';', timed in order then in reverse (both orders in one process)
      List<String> vs = List.of(System.getProperty("longconv4j.bench.p3.bwd.variants", "default").split(";"));
      List<String> both = new ArrayList<>(vs);
      if (vs.size() > 1) both.addAll(vs.reversed());
      for (String v : both) {
        withVariant(v, () -> {
          double ms = CudaConvBench.median(dev, () -> bw.backward(u, u, B, y, gpq, dD), 20);
          rows.add(new CudaConvBench.Row(tagp + " bwd (du, dP/dQ, dD, block Grams) [" + v + "]", B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
          CudaConvBench.report(rows.getLast());
        });
      }
      for (String v : vs)
        withVariant((v.equals("default") ? "" : v + ",") + "bwd.phases=true", () -> {
          System.out.print("[" + v + "] ");
          bw.backward(u, u, B, y, gpq, dD);
        });
      System.out.printf("%s: kept %.3f GB%n", bw, bw.keptBytes() / 1e9);
    }
  }

  /** Runs r with the settings of v ("default": none; else "key=value,..." as -Dlongconv4j.p3.key=value), then clears them. */
  private static void withVariant(String v, Runnable r) {
    List<String> keys = new ArrayList<>();
    try {
      for (String kv : v.split(","))
        if (!kv.equals("default")) {
          String[] p = kv.split("=", 2);
          if (p.length != 2) throw new IllegalArgumentException("PackedThreePassBench: a variant is default or key=value,..., got " + v);
          keys.add("longconv4j.p3." + p[0]);
          System.setProperty(keys.getLast(), p[1]);
        }
      r.run();
    } finally {
      keys.forEach(System::clearProperty);
    }
  }

  /**
   * Float64 for 2 sampled rows (the last, and one drawn): lib's PackedLearnedButterfly at init (an FFT convolution, exact to
   * ~1e-12) on that one row (its u as stored in bf16, kernel row h mod KROWS, D[h]); adj: its backward's du for dy = u.
   * The worst relative (L2) error of the row as read back.
   */
  static double validate(boolean adj, DeviceBuffer u, DeviceBuffer y, float[] kb, float[] D, int B, int H, int L) {
    var rng = new SplittableRandom(L + (adj ? 1 : 0));
    ConvPlan plan = ConvPlan.of(L, L, ai.longconv4j.conv.ConvMode.CAUSAL, ai.longconv4j.conv.ConvEngine.LEARNED_PACKED,
        ai.longconv4j.conv.Precision.F64);
    var lib = PackedLearnedButterfly.atInit(plan);
    var shape = new ConvShape(1, 1, 1, L, L, ai.longconv4j.conv.ConvMode.CAUSAL);
    double worst = 0;
    for (int s = 0; s < 2; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * 2;
      float[] ur = CudaConvBench.read(u, ElementType.BF16, off, L), yr = CudaConvBench.read(y, ElementType.BF16, off, L);
      double[] ud = new double[L], kd = new double[L];
      for (int i = 0; i < L; i++) { ud[i] = ur[i]; kd[i] = kb[(h % KROWS) * L + i]; }
      double[] dd = {D[h]};
      double[] ref = adj ? lib.backward(shape, ud, kd, dd, ud).du() : lib.forward(shape, ud, kd, dd);
      double num = 0, den = 0;
      for (int i = 0; i < L; i++) {
        double d = yr[i] - ref[i];
        num += Double.isFinite(yr[i]) ? d * d : Double.POSITIVE_INFINITY;
        den += ref[i] * ref[i];
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    return worst;
  }
}
