// Shapes: B batch, H channels, L length. u, y, du: (B, H, L) bf16 (dy = u, as the other benches' backward rows);
// k (k0), k1: (H, L) fp32 (k1: bidirectional only); dk: (sides, H, L) fp32; D, dD: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.LearnedButterflyConv;
import ai.longconv4j.cuda.PackedLearnedConv;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Session 12, helper pkbwd: forward + backward of FlashButterfly (its default bf16 plan and fused backward), the unpacked
 * learned butterfly (LearnedButterflyConv's defaults) and the packed learned butterfly (PackedLearnedConv: the default
 * forward, the backward of learned_pk_bwd.cu), causal, bf16, blocks at the DFT, in one process, in the order of
 * {@code -Dlongconv4j.bench.pk.order=fb,learned,packed} (the default; the sitting also runs it reversed). Per engine and
 * L: the forward (validated against the float64 causal conv of sampled rows, outputs poisoned first), fwd+bwd and bwd
 * (dy = u); the packed backward's du, dk and dD are validated first against float64 (du of 3 sampled rows: the causal
 * adjoint; dk and dD of the last channel: the direct correlation summed over the batch), its bwd row carries the worst
 * relative error. CUDA events, warm-up ({@code CudaConvBench.median}), medians of 40 (forward) / 10 (fwd+bwd, bwd).
 * Usage: LearnedPackedBench [csv-out] [B] [H] [L,L,...] (default 64 768 256,512,1024);
 * {@code LearnedPackedBench phases L,L,...}: per L, B = 64, H = 768, the packed backward's CUDA-event times per phase
 * (PackedLearnedBackward's {@code longconv4j.pk.bwd.phases}) per route of its speed choices (system properties
 * {@code longconv4j.pk.bwd.direct / staged / fusedpq}; sitting s2 ran direct false / true): 3 untimed backwards, then 3
 * printed.
 * Helper pkbwd2: an engine {@code packed:key=value+key=value} runs the packed engine with those
 * {@code longconv4j.pk.bwd.*} properties set (cleared after it), e.g. {@code fb,packed,packed:cachedadj=true+sync=false};
 * the phases visit pkbwd2's routes (see phases).
 * Session 13, helper pkmode: {@code -Dlongconv4j.bench.pk.mode=causal|bidirectional|circular} (default causal) runs every
 * engine in that mode (FlashButterfly in the same mode; bidirectional k1 a second random (H, L) kernel; circular L must
 * be a power of two, N = L); the validations then use the mode's float64 sums (forward, du, dk of both sides, dD) and
 * the row names carry the mode.
 */
public final class LearnedPackedBench {
  private LearnedPackedBench() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 2 && args[0].equals("phases")) { phases(args[1]); return; }
    FlashButterflyFwdBench.run("LearnedPackedBench", args, new int[] {256, 512, 1024}, LearnedPackedBench::length);
  }

  /** The bench's mode ({@code -Dlongconv4j.bench.pk.mode}, default causal). */
  static ConvMode mode() {
    String m = System.getProperty("longconv4j.bench.pk.mode", "causal");
    return switch (m) {
      case "causal" -> ConvMode.CAUSAL;
      case "bidirectional" -> ConvMode.BIDIRECTIONAL;
      case "circular" -> ConvMode.CIRCULAR;
      default -> throw new IllegalArgumentException("-Dlongconv4j.bench.pk.mode: causal, bidirectional or circular, got " + m);
    };
  }

  static void length(CudaDevice dev, int B, int H, int L, List<CudaConvBench.Row> rows) {
    float[][] w = CudaConvBench.weights(H, L);
    ConvMode mode = mode();
    boolean bi = mode == ConvMode.BIDIRECTIONAL;
    float[] k = w[0], D = w[1], k1 = bi ? secondKernel(H, L) : null;
    String mt = mode == ConvMode.CAUSAL ? "" : " " + mode.name().toLowerCase(java.util.Locale.ROOT);
    long n = (long) B * H * L;
    try (var u = dev.alloc(2 * n); var y = dev.alloc(2 * n); var dk = dev.alloc(4L * (bi ? 2 : 1) * H * L); var dD = dev.alloc(4L * H)) {
      DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
      for (String e0 : System.getProperty("longconv4j.bench.pk.order", "fb,learned,packed").split(",")) {
        String e = e0, props = "";
        if (e0.startsWith("packed:")) { e = "packed"; props = e0.substring(7); }
        String[] kv = props.isEmpty() ? new String[0] : props.split("\\+");
        for (String p : kv) {
          String[] a = p.split("=", 2);
          if (a.length != 2) throw new IllegalArgumentException("LearnedPackedBench: packed:key=value+..., got " + e0);
          System.setProperty("longconv4j.pk.bwd." + a[0], a[1]);
        }
        String tag = props.isEmpty() ? "" : " [" + props + "]";
        try {
        switch (e) {
          case "fb" -> {
            try (var fb = FlashButterflyConv.plan(dev, H, L, mode, ElementType.BF16, Precision.BF16)) {
              if (bi) fb.setWeights(k, k1, L, D); else fb.setWeights(k, L, D);
              time(dev, "flashbutterfly" + mt + " " + fb.kernelName(), B, H, L, u, y, k, k1, D, mode, () -> fb.forward(u, y, B), null,
                  () -> fb.backward(u, u, y, B, dk, dD), Double.NaN, rows);
            }
          }
          case "learned" -> {
            try (var lb = LearnedButterflyConv.plan(dev, H, L, L, mode, ElementType.BF16)) {
              if (bi) lb.setWeights(k, k1, D); else lb.setWeights(k, D);
              time(dev, "learned" + mt + " " + lb.factors()[0] + "x" + lb.factors()[1] + " default", B, H, L, u, y, k, k1, D, mode,
                  () -> lb.forward(u, y, B), null,
                  () -> lb.backward(u, u, B, y, dk, dD), Double.NaN, rows);
            }
          }
          case "packed" -> {
            try (var pk = PackedLearnedConv.plan(dev, H, L, L, mode, ElementType.BF16)) {
              if (bi) pk.setWeights(k, k1, D); else pk.setWeights(k, D);
              y.fill32(0x7fc07fc0);
              dk.fill32(0x7fc00000);
              dD.fill32(0x7fc00000);
              // savefwd (pkbwd2): the fwd+bwd row's forward is forwardForBackward (the backward then skips its forward chain);
              // validated here first: its y against float64, then the backward that used its dumps
              boolean save = Boolean.getBoolean("longconv4j.pk.bwd.savefwd");
              if (save) {
                pk.forwardForBackward(u, y, B);
                System.out.printf("packed%s forwardForBackward%s L=%d vs float64: worst rel err %.3e%n", mt, tag, L,
                    validate(u, y, k, k1, D, mode, B, H, L));
                y.fill32(0x7fc07fc0);
              }
              pk.backward(u, u, B, y, dk, dD);
              double err = validateBackward(u, y, dk, dD, k, k1, D, mode, B, H, L);
              System.out.printf("packed%s backward%s L=%d vs float64: worst rel err %.3e%n", mt, tag, L, err);
              time(dev, "packed learned" + mt + " " + pk.factors()[0] + "x" + pk.factors()[1] + " " + pk.kernelName() + tag, B, H, L, u, y,
                  k, k1, D, mode,
                  () -> pk.forward(u, y, B), save ? () -> pk.forwardForBackward(u, y, B) : null, () -> pk.backward(u, u, B, y, dk, dD), err,
                  rows);
            }
          }
          default -> throw new IllegalArgumentException("LearnedPackedBench: engine fb, learned or packed, got " + e);
        }
        } finally {
          for (String p : kv) System.clearProperty("longconv4j.pk.bwd." + p.split("=", 2)[0]);
        }
      }
    }
  }

  /**
   * Rows fwd (validated), fwd+bwd (its forward fwdTrain, null: fwd) and bwd (bwdErr: the backward's validation, NaN when
   * not validated here).
   */
  private static void time(CudaDevice dev, String name, int B, int H, int L, DeviceBuffer u, DeviceBuffer y, float[] k, float[] k1,
      float[] D, ConvMode mode, CudaConvBench.Work fwd, CudaConvBench.Work fwdTrain, CudaConvBench.Work bwd, double bwdErr,
      List<CudaConvBench.Row> rows) {
    long n = (long) B * H * L;
    y.fill32(0x7fc07fc0);
    fwd.run();
    double err = validate(u, y, k, k1, D, mode, B, H, L);
    double ms = CudaConvBench.median(dev, fwd, 40);
    rows.add(new CudaConvBench.Row(name + " fwd", B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
    CudaConvBench.report(rows.getLast());
    CudaConvBench.Work f2 = fwdTrain != null ? fwdTrain : fwd;
    double msB = CudaConvBench.median(dev, () -> { f2.run(); bwd.run(); }, 10);
    rows.add(new CudaConvBench.Row(name + " fwd+bwd", B, H, L, msB, 12.0 * n / msB / 1e6, Double.NaN, 0));
    CudaConvBench.report(rows.getLast());
    double msW = CudaConvBench.median(dev, bwd, 10);
    rows.add(new CudaConvBench.Row(name + " bwd", B, H, L, msW, 8.0 * n / msW / 1e6, bwdErr, 0));
    CudaConvBench.report(rows.getLast());
  }

  /** Bidirectional's k1: uniform in +-1/sqrt(L) as CudaConvBench.weights' k, its own seed. */
  static float[] secondKernel(int H, int L) {
    var rng = new SplittableRandom(4243L + L);
    float[] k1 = new float[H * L];
    for (int i = 0; i < k1.length; i++) k1[i] = (float) ((rng.nextDouble() * 2 - 1) / Math.sqrt(L));
    return k1;
  }

  /**
   * The input index that tap t of side s carries to output i in the mode (ConvMode's definitions), or -1: causal
   * i - t; bidirectional side 0 i - t, side 1 i + 1 + t; circular (i - t) mod L.
   */
  static int src(ConvMode mode, int side, int i, int t, int L) {
    if (mode == ConvMode.CIRCULAR) return Math.floorMod(i - t, L);
    int j = side == 0 ? i - t : i + 1 + t;
    return j >= 0 && j < L ? j : -1;
  }

  /** Float64 forward of 3 sampled rows (the last one among them) in the mode; the worst relative (L2) error. */
  static double validate(DeviceBuffer u, DeviceBuffer y, float[] k, float[] k1, float[] D, ConvMode mode, int B, int H, int L) {
    var rng = new SplittableRandom(L);
    ElementType io = ElementType.BF16;
    int sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    double worst = 0;
    for (int s = 0; s < 3; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * io.bytes();
      float[] ur = CudaConvBench.read(u, io, off, L), yr = CudaConvBench.read(y, io, off, L);
      double num = 0, den = 0;
      for (int i = 0; i < L; i++) {
        double acc = (double) D[h] * ur[i];
        for (int side = 0; side < sides; side++) {
          float[] kk = side == 0 ? k : k1;
          for (int t = 0; t < L; t++) {
            int j = src(mode, side, i, t, L);
            if (j >= 0) acc += (double) kk[h * L + t] * ur[j];
          }
        }
        double d = yr[i] - acc;
        num += Double.isFinite(yr[i]) ? d * d : Double.POSITIVE_INFINITY;
        den += acc * acc;
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    return worst;
  }

  /**
   * The backward with dy = u against float64 in the mode: du of 3 sampled rows (the last one among them), the adjoint
   * du[j] = D u[j] + sum over (i, t) with src(i, t) = j of k[t] u[i]; dk of both sides and dD of the last channel,
   * dk_s[t] = sum_b sum_i u[i] u[src_s(i, t)], dD = sum_b sum_i u[i]^2. Returns the worst relative (L2) error.
   */
  static double validateBackward(DeviceBuffer u, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD, float[] k, float[] k1, float[] D,
      ConvMode mode, int B, int H, int L) {
    var rng = new SplittableRandom(L + 5);
    ElementType io = ElementType.BF16;
    int sides = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    double worst = 0;
    for (int s = 0; s < 3; s++) {
      int b = s == 0 ? B - 1 : rng.nextInt(B), h = s == 0 ? H - 1 : rng.nextInt(H);
      long off = ((long) b * H + h) * L * io.bytes();
      float[] ur = CudaConvBench.read(u, io, off, L), dr = CudaConvBench.read(du, io, off, L);
      double[] ref = new double[L];
      for (int i = 0; i < L; i++) ref[i] += (double) D[h] * ur[i];
      for (int side = 0; side < sides; side++) {
        float[] kk = side == 0 ? k : k1;
        for (int i = 0; i < L; i++)
          for (int t = 0; t < L; t++) {
            int j = src(mode, side, i, t, L);
            if (j >= 0) ref[j] += (double) kk[h * L + t] * ur[i];
          }
      }
      double num = 0, den = 0;
      for (int i = 0; i < L; i++) {
        double d = dr[i] - ref[i];
        num += Double.isFinite(dr[i]) ? d * d : Double.POSITIVE_INFINITY;
        den += ref[i] * ref[i];
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    int h = H - 1;
    double[][] ref = new double[sides][L];
    double dref = 0;
    for (int b = 0; b < B; b++) {
      float[] ur = CudaConvBench.read(u, io, ((long) b * H + h) * L * io.bytes(), L);
      for (int side = 0; side < sides; side++)
        for (int t = 0; t < L; t++) {
          double acc = 0;
          for (int i = 0; i < L; i++) {
            int j = src(mode, side, i, t, L);
            if (j >= 0) acc += (double) ur[i] * ur[j];
          }
          ref[side][t] += acc;
        }
      for (int i = 0; i < L; i++) dref += (double) ur[i] * ur[i];
    }
    for (int side = 0; side < sides; side++) {
      float[] got = dk.copyTo(new float[L], 4L * ((long) side * H + h) * L);
      double num = 0, den = 0;
      for (int t = 0; t < L; t++) {
        if (side == 1 && t == L - 1) continue;   // k1[L-1] reaches no input: gradient 0 on both sides (ConvMode)
        double d = got[t] - ref[side][t];
        num += Float.isFinite(got[t]) ? d * d : Double.POSITIVE_INFINITY;
        den += ref[side][t] * ref[side][t];
      }
      worst = Math.max(worst, Math.sqrt(num / den));
    }
    float gd = dD.copyTo(new float[1], 4L * h)[0];
    worst = Math.max(worst, Float.isFinite(gd) ? Math.abs(gd - dref) / Math.abs(dref) : Double.POSITIVE_INFINITY);
    return worst;
  }

  static void phases(String ls) {
    int B = 64, H = 768;
    try (CudaDevice dev = CudaDevice.open(0)) {
      for (String ll : ls.split(",")) {
        int L = Integer.parseInt(ll);
        float[][] w = CudaConvBench.weights(H, L);
        long n = (long) B * H * L;
        try (var u = dev.alloc(2 * n); var y = dev.alloc(2 * n); var dk = dev.alloc(4L * H * L); var dD = dev.alloc(4L * H);
             var pk = PackedLearnedConv.plan(dev, H, L, L, ConvMode.CAUSAL, ElementType.BF16).setWeights(w[0], w[1])) {
          DeviceFill.uniform(dev, u, n, ElementType.BF16, 7L * L, 1f);
          // pkbwd2: {fusedpq, cachedadj, sync, dkg, streams, grama, sidedk} ("-": cleared, the default), staged + direct (the
          // defaults): pkbwd2's defaults, pkbwd's final defaults, one stream, dk on the side stream, the defaults again
          // (s2 also visited lpkb_dk's batch groups 2 / 4 / 8 and the form-A Grams in 4 / 2 stages: bench-runs/pkbwd2/s2)
          // pkbwd3: + {gramsm, gbsm, sidegrams}: the defaults, pkbwd2's defaults (gramsm 4, gbsm 4, sidegrams none), one
          // stream (every phase on the device's stream) with pkbwd2's grids and with the resident ones (gbsm 3, gramsm 5),
          // the defaults again (s1 visited: one stream / two streams with gramsm 5, gbsm 3, + sidegrams gb, + gb/fb and
          // sidedk; bench-runs/pkbwd3/s1)
          // pkbwd4: + {ingram}: dGa / dFa in the chains (ingram=ga/fa) on one stream and on two, before the defaults again
          String[][] routes = {{"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"}, {"-", "-", "-", "-", "-", "-", "-", "4", "4", "none", "-"},
              {"-", "-", "-", "-", "1", "-", "-", "4", "4", "none", "-"}, {"-", "-", "-", "-", "1", "-", "-", "5", "3", "none", "-"},
              {"-", "-", "-", "-", "1", "-", "-", "5", "3", "none", "ga/fa"}, {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "ga/fa"},
              {"-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"}};
          String[] keys = {"fusedpq", "cachedadj", "sync", "dkg", "streams", "grama", "sidedk", "gramsm", "gbsm", "sidegrams", "ingram"};
          for (String[] r : routes) {
            for (int i = 0; i < keys.length; i++) {
              if (r[i].equals("-")) System.clearProperty("longconv4j.pk.bwd." + keys[i]);
              else System.setProperty("longconv4j.pk.bwd." + keys[i], r[i]);
            }
            for (int i = 0; i < 3; i++) pk.backward(u, u, B, y, dk, dD);
            System.setProperty("longconv4j.pk.bwd.phases", "true");
            for (int i = 0; i < 3; i++) pk.backward(u, u, B, y, dk, dD);
            System.setProperty("longconv4j.pk.bwd.phases", "false");
          }
          for (String k : keys) System.clearProperty("longconv4j.pk.bwd." + k);
        }
      }
    }
  }
}
