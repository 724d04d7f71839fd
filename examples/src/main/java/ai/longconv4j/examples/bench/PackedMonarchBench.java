// Shapes: B batch, H channels, L length, Lk = L taps per side; u, y, dy = u, du: (B, H, L) bf16; k: (H, L) fp32 (bidirectional:
// k0, k1 (H, L) each; lib's layout (H, 2, L) for PackedMonarchConv.setTaps); D: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.PackedMonarchConv;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Session 14, helper pkjtc: the J-factor packed learned butterfly on tensor cores ({@link PackedMonarchConv}, learned_pm.cu)
 * against FlashButterfly ({@link FlashButterflyConv}, its default plan) in one process, bf16 I/O and compute, Lk = L.
 * Cases {@code mode:L} ({@code -Dlongconv4j.bench.pm.cases}, default causal:2048,causal:4096,causal:8192,causal:16384,
 * bidirectional:4096,circular:8192); paths in the order of {@code -Dlongconv4j.bench.pm.order} (default fb,pm): {@code pm}
 * the plan's defaults (the fused kernels), then options joined by '-' (helper pkjopt): {@code unfused} their slow twin,
 * {@code s16} / {@code s32} 16-bit / fp32 shared-memory planes, {@code tN} N threads per block, {@code b} / {@code nb} the
 * balanced middle on / off, {@code rN} register cap N (0, 80), {@code tuned} / {@code untuned} PackedMonarchConv.tuned(true / false)
 * (tuned is the plan's default since session 14), {@code o} / {@code no} PackedMonarchConv.outer(true / false) (helper pkocc,
 * learned_pm3.cu; on in the default plan for causal / bidirectional M &lt;= 16384 since session 15, so {@code pm-no} is the
 * previous default lpm2_b), {@code f} / {@code nf} PackedMonarchConv.fragTable(true / false) (helper pm4, learned_pm4.cu: lpm3 with
 * fragment tables, any mode), {@code g} / {@code ng} PackedMonarchConv.fragDirect (lpm4g at M = 4096), {@code s} / {@code ns}
 * PackedMonarchConv.stage (helper pm4, session 18: lpm4s at M = 2048 / 4096, the row staged in shared memory), {@code uN}
 * PackedMonarchConv.pairU (u2: lpm4sp), {@code x} / {@code nx} PackedMonarchConv.regPair (session 26: lpm4x, the pair map in
 * registers), {@code y} / {@code ny} PackedMonarchConv.sfuTwiddles (lpm4y: x with the SFU's twiddles), {@code v} / {@code w} / {@code nv}
 * PackedMonarchConv.recTwiddles (session 27: lpm4v / lpm4w, y with recurrence twiddles), e.g. {@code pm-b-r80-s16-t256}, {@code pm-o-r0}, {@code pm-f}, {@code pm-s-r64}.
 * Per path: blocks at the DFT (where the learned map is the exact convolution; the random-block accuracy is
 * PackedMonarchGpuTest's), outputs NaN-poisoned, the forward and the input gradient (dy = u) of 3 sampled rows validated
 * against a float64 direct convolution (and its adjoint) for the mode; then CUDA-event medians ({@code CudaConvBench.median},
 * its warm-up) of fwd (20 runs) and the input gradient (20; {@code -Dlongconv4j.bench.pm.du=false}: fwd only, the input
 * gradient still validated). Usage: PackedMonarchBench [csv-out] [B] [H].
 */
public final class PackedMonarchBench {
  private PackedMonarchBench() {}

  public static void main(String[] args) throws IOException {
    var a = CudaConvBench.Args.of(args, 2048);
    int B = a.B(), H = a.H();
    List<CudaConvBench.Row> rows = new ArrayList<>();
    String cases = System.getProperty("longconv4j.bench.pm.cases", "causal:2048,causal:4096,causal:8192,causal:16384,bidirectional:4096,circular:8192");
    String order = System.getProperty("longconv4j.bench.pm.order", "fb,pm");
    ElementType io = ElementType.BF16;
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println("device: " + dev);
      for (String c : cases.split(",")) {
        ConvMode mode = ConvMode.valueOf(c.split(":")[0].toUpperCase());
        int L = Integer.parseInt(c.split(":")[1]);
        boolean bi = mode == ConvMode.BIDIRECTIONAL;
        float[][] w = CudaConvBench.weights(H, L);
        float[] k0 = w[0], D = w[1], k1 = bi ? java.util.Arrays.copyOf(CudaConvBench.weights(H, L + 1)[0], H * L) : null;
        long n = (long) B * H * L;
        try (var u = dev.alloc(2 * n); var y = dev.alloc(2 * n)) {
          DeviceFill.uniform(dev, u, n, io, 7L * L, 1f);
          for (String p : order.split(",")) {
            if (p.equals("fb")) {
              var fb = FlashButterflyConv.plan(dev, H, L, mode, io, Precision.BF16);
              if (bi) fb.setWeights(k0, k1, L, D); else fb.setWeights(k0, L, D);
              try (fb) {
                run(dev, "flashbutterfly " + mode + " " + fb.kernelName(), mode, B, H, L, u, y, k0, k1, D,
                    (x, o) -> fb.forward(x, o, B), (x, o) -> fb.backwardInput(x, o, B), rows);
              }
            } else if (p.startsWith("pm")) {
              try (var pm = PackedMonarchConv.plan(dev, H, L, L, mode, io)) {
                String[] opts = p.split("-");
                if (!opts[0].equals("pm")) throw new IllegalArgumentException("PackedMonarchBench: path " + p);
                for (int i = 1; i < opts.length; i++) {   // options on top of the plan's defaults, in any order
                  String o = opts[i];
                  if (o.equals("s16")) pm.storage16(true);
                  else if (o.equals("s32")) pm.storage16(false);
                  else if (o.equals("unfused")) pm.fused(false);
                  else if (o.equals("b")) pm.balanced(true);
                  else if (o.equals("tuned")) pm.tuned(true);
                  else if (o.equals("untuned")) pm.tuned(false);   // lpm_fused with the plan's threads and planes
                  else if (o.equals("nb")) pm.balanced(false);
                  else if (o.equals("o")) pm.outer(true);   // helper pkocc: learned_pm3.cu
                  else if (o.equals("no")) pm.outer(false);
                  else if (o.equals("f")) pm.fragTable(true);   // helper pm4: learned_pm4.cu
                  else if (o.equals("nf")) pm.fragTable(false);
                  else if (o.equals("g")) pm.fragDirect(true);   // helper pm4: lpm4g at M = 4096
                  else if (o.equals("ng")) pm.fragDirect(false);
                  else if (o.equals("s")) pm.stage(true);   // helper pm4 (session 18): lpm4s, the staged row
                  else if (o.equals("ns")) pm.stage(false);
                  else if (o.equals("x")) pm.regPair(true);   // session 26: lpm4x, the pair map in registers
                  else if (o.equals("nx")) pm.regPair(false);
                  else if (o.equals("y")) pm.sfuTwiddles(true);   // session 26: lpm4y, x with SFU twiddles
                  else if (o.equals("ny")) pm.sfuTwiddles(false);
                  else if (o.equals("v")) pm.recTwiddles(2);   // session 27: lpm4v, y with recurrence twiddles
                  else if (o.equals("w")) pm.recTwiddles(1);   // lpm4w: v with the J = 4 first stage's twiddles from the SFU
                  else if (o.equals("nv")) pm.recTwiddles(0);
                  else if (o.equals("w32")) pm.wide32(true);   // session 29: lpm4y at M = 32768 (256 threads)
                  else if (o.equals("nw32")) pm.wide32(false);
                  else if (o.matches("u\\d")) pm.pairU(Integer.parseInt(o.substring(1)));   // lpm4sp: u2
                  else if (o.matches("t\\d+")) pm.threads(Integer.parseInt(o.substring(1)));
                  else if (o.matches("r\\d+")) pm.regCap(Integer.parseInt(o.substring(1)));
                  else throw new IllegalArgumentException("PackedMonarchBench: path " + p + ": option " + o
                      + " (s16, s32, unfused, b, nb, tuned, untuned, o, no, f, nf, g, ng, s, ns, x, nx, y, ny, v, w, nv, w32, nw32, uN, tN, rN)");
                }
                float[] kl = k0;
                if (bi) {   // lib's (H, 2, L)
                  kl = new float[2 * H * L];
                  for (int h = 0; h < H; h++) {
                    System.arraycopy(k0, h * L, kl, 2 * h * L, L);
                    System.arraycopy(k1, h * L, kl, 2 * h * L + L, L);
                  }
                }
                pm.setTaps(kl, D);
                String name = "packed monarch " + mode + " " + pm.kernelName() + " M=" + pm.points() + " " + p + " t" + pm.threads();
                run(dev, name, mode, B, H, L, u, y, k0, k1, D, (x, o) -> pm.forward(x, o, B), (x, o) -> pm.inputGrad(x, o, B), rows);
              }
            } else {
              throw new IllegalArgumentException("PackedMonarchBench: paths fb, pm[-option..]; got " + p);
            }
          }
        }
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  interface Op { void run(DeviceBuffer x, DeviceBuffer out); }

  /** Whether the input gradient is timed too ({@code -Dlongconv4j.bench.pm.du}, default true; it is validated either way). */
  private static final boolean TIME_DU = Boolean.parseBoolean(System.getProperty("longconv4j.bench.pm.du", "true"));

  private static void run(CudaDevice dev, String name, ConvMode mode, int B, int H, int L, DeviceBuffer u, DeviceBuffer y, float[] k0,
      float[] k1, float[] D, Op fwd, Op grad, List<CudaConvBench.Row> rows) {
    long n = (long) B * H * L;
    y.fill32(0x7fc07fc0);
    fwd.run(u, y);
    dev.synchronize();
    double errF = validate(mode, false, u, y, k0, k1, D, B, H, L);
    y.fill32(0x7fc07fc0);
    grad.run(u, y);
    dev.synchronize();
    double errB = validate(mode, true, u, y, k0, k1, D, B, H, L);
    System.out.printf("%s L=%d: forward vs float64 %.3e, input gradient vs float64 %.3e%n", name, L, errF, errB);
    double ms = CudaConvBench.median(dev, () -> fwd.run(u, y), 20);
    rows.add(new CudaConvBench.Row(name + " fwd", B, H, L, ms, 4.0 * n / ms / 1e6, errF, 0));
    CudaConvBench.report(rows.getLast());
    if (!TIME_DU) return;
    double msG = CudaConvBench.median(dev, () -> grad.run(u, y), 20);
    rows.add(new CudaConvBench.Row(name + " du", B, H, L, msG, 4.0 * n / msG / 1e6, errB, 0));
    CudaConvBench.report(rows.getLast());
  }

  /**
   * Float64 direct convolution of 3 sampled rows (L outputs each), or its adjoint (adj: the input gradient for dy = u):
   * causal y[i] = sum_j k0[j] u[i - j]; bidirectional + sum_j k1[j] u[i + j + 1] (k1 at [N - 1 - j]: lag -(j + 1));
   * circular the causal sum mod L; + D u. The worst relative (L2) error.
   */
  static double validate(ConvMode mode, boolean adj, DeviceBuffer u, DeviceBuffer y, float[] k0, float[] k1, float[] D, int B, int H, int L) {
    var rng = new SplittableRandom(L + (adj ? 1 : 0));
    double worst = 0;
    for (int s = 0; s < 3; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * 2;
      float[] ur = CudaConvBench.read(u, ElementType.BF16, off, L), yr = CudaConvBench.read(y, ElementType.BF16, off, L);
      double[] ref = new double[L];   // each output's float64 sum on its own thread (O(L^2) a row), summed in order below
      final int hh = h;
      java.util.stream.IntStream.range(0, L).parallel().forEach(i -> {
        double acc = (double) D[hh] * ur[i];
        for (int j = 0; j < L; j++) {
          int a = adj ? i + j : i - j, c = adj ? i - j - 1 : i + j + 1;   // the adjoint swaps the lag's sign
          if (mode == ConvMode.CIRCULAR) acc += (double) k0[hh * L + j] * ur[Math.floorMod(a, L)];
          else {
            if (a >= 0 && a < L) acc += (double) k0[hh * L + j] * ur[a];
            if (mode == ConvMode.BIDIRECTIONAL && c >= 0 && c < L) acc += (double) k1[hh * L + j] * ur[c];
          }
        }
        ref[i] = acc;
      });
      double num = 0, den = 0;
      for (int i = 0; i < L; i++) {
        double acc = ref[i], d = yr[i] - acc;
        num += Double.isFinite(yr[i]) ? d * d : Double.POSITIVE_INFINITY;
        den += acc * acc;
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    return worst;
  }
}
