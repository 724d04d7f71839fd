// Shapes: B batch (CudaConvBench.batchFor(B0, L)), H features, L length, Lk = L, causal; the layer: K (1, H, L), D (1, H),
//   Linear (2H, H) + GLU, all bf16. Op: u, dy (B, H, L) bf16 tensors on
//   the GPU, k (H, L) fp32, D (1, H) fp32, blocks (R_s, R_s, 2) fp32 at the exact DFT. Plan: u, y, du (B, H, L) bf16 device
//   arrays (dy = u), k (H, L), D (H) fp32 from the host, dk (H, L), dD (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LongConv;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import ai.longconv4j.cuda.BarePlans;
import ai.longconv4j.cuda.Cuda;
import ai.longconv4j.cuda.CudaBackend;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Session 17 (helper opfix): the tensor ops against their bare plans, causal, bf16, per L (B = batchFor(B0, L)), per engine in
 * the order of {@code -Dlongconv4j.bench.ovp.order} (default {@code fb,pk}): "fb" FlashButterfly ({@code ConvOps.conv},
 * engine AUTO: the fused device op, its spectrum kept while k is unchanged; rows with {@code cuda.fbop.keep=false}, the
 * spectrum recomputed per call, and with {@code conv.device.hostconvolver=true} as well, the route before session 17: the
 * CPU engine built first) against {@link FlashButterflyConv} forward / backward; "pk" the learned J-factor op
 * ({@code ConvOps.learnedPackedConv}, blocks at the DFT; P / Q kept between calls while k is unchanged, and a row with
 * {@code longconv4j.pk.op.reuse=false}: uploaded at every call) against its plan ({@link BarePlans#packedMonarch}).
 * Op rows: {@code LearnedOpBench.time} group 1 (one call from an idle stream: the host's time to queue it counts), CUDA
 * events, warm-up, medians of 20 (fwd) / 10 (fwd+bwd); plan rows: {@code CudaConvBench.median} (the same). Each path's y
 * is validated first against float64 at 64 sampled outputs of 2 rows (the last row among them). {@code
 * -Dlongconv4j.bench.ovp.planfirst=true}: plan rows before op rows (the mirror). Session 18 (helper layer): engine "layer",
 * the LongConv layer's forward and forward+backward on the same u and dy ({@link #layerRows}); an engine's second
 * appearance in the order is its mirror (variants reversed, FB's plan rows on the other side), so {@code layer,fb,fb,layer}
 * measures both orders in one process; {@code -Dlongconv4j.bench.ovp.fbvariants=default,cuda.fbop.bwdzero=true} picks the
 * FB op's variants ({@code default} the defaults); {@code -Dlongconv4j.bench.ovp.x8=true} adds the default op's fwd+bwd timed
 * in groups of eight calls (the host queueing ahead: the gap to the plan that is device work). Usage: OpVsPlan [csv] [B0] [H] [L,..] (default 16 768
 * 4096,16384,65536,262144).
 */
public final class OpVsPlan {
  private OpVsPlan() {}

  /** FB op variants: the defaults; the spectrum recomputed at every call; and the route before session 17 (both). */
  private static final String[] FB_VARIANTS = {"", "cuda.fbop.keep=false", "conv.device.hostconvolver=true+cuda.fbop.keep=false"};

  public static void main(String[] args) throws IOException {
    if (!Cuda.available()) { System.out.println("OpVsPlan: " + Cuda.reason()); return; }
    var a = CudaConvBench.Args.of(args, 4096, 16384, 65536, 262144);
    int b0 = args.length > 1 ? a.B() : 16;
    Device dev = new Device(Device.Kind.CUDA, 0);
    CudaDevice cd = ((CudaBackend) Backends.forDevice(dev)).cudaDevice(dev);
    System.out.println(cd);
    boolean planFirst0 = Boolean.getBoolean("longconv4j.bench.ovp.planfirst");
    List<CudaConvBench.Row> rows = new ArrayList<>();
    String[] fbVariants = variants("longconv4j.bench.ovp.fbvariants", FB_VARIANTS);
    for (int L : a.Ls()) {
      int B = CudaConvBench.batchFor(b0, L), H = a.H();
      java.util.Map<String, Integer> seen = new java.util.HashMap<>();
      float[][] w = CudaConvBench.weights(H, L);
      var rng = Rng.seeded(42 + L);
      Tensor u = Tensor.randn(rng, DType.F32, B, H, L).to(dev).to(DType.BF16).detach().requiresGrad(true);
      Tensor dy = Tensor.randn(rng, DType.F32, B, H, L).to(dev).to(DType.BF16).detach();
      Tensor k = Tensor.wrap(w[0], H, L).to(dev).detach().requiresGrad(true);
      Tensor d = Tensor.wrap(w[1], 1, H).to(dev).detach().requiresGrad(true);
      for (String e : System.getProperty("longconv4j.bench.ovp.order", "fb,pk").split(",")) {
        // an engine's second appearance in the order is its mirror: variants reversed, plan rows on the other side
        boolean mirror = seen.merge(e, 1, Integer::sum) > 1, planFirst = planFirst0 != mirror;
        switch (e) {
          case "layer" -> layerRows(cd, rows, u, dy, mirror ? reversed(LAYER_VARIANTS) : LAYER_VARIANTS);
          case "fb" -> {
            Supplier<Tensor> op = () -> ConvOps.conv(u, k, d, ConvMode.CAUSAL, ConvEngine.AUTO);
            String[] fbv = mirror ? reversed(fbVariants) : fbVariants;
            if (!planFirst) opRows("fb", cd, rows, u, k, d, w, dy, op, new Tensor[0], fbv);
            try (var fb = FlashButterflyConv.plan(cd, H, L, ai.longconv4j.cuda.ConvMode.CAUSAL, ElementType.BF16,
                ai.longconv4j.cuda.Precision.BF16)) {
              fb.setWeights(w[0], L, w[1]);
              planRows("fb", cd, rows, B, H, L, w, (x, y) -> fb.forward(x, y, B),
                  (x, du, dk, dD) -> fb.backward(x, x, du, B, dk, dD));
            }
            if (planFirst) opRows("fb", cd, rows, u, k, d, w, dy, op, new Tensor[0], fbv);
          }
          case "pk" -> {
            ConvPlan plan = ConvPlan.of(L, L, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);
            double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
            int[] sizes = PackedLearnedButterfly.blockSizes(plan);
            Tensor[] bl = new Tensor[sizes.length];
            for (int i = 0; i < sizes.length; i++)
              bl[i] = Tensor.of(init[i], sizes[i], sizes[i], 2).to(DType.F32).to(dev).detach().requiresGrad(true);
            Supplier<Tensor> op = () -> ConvOps.learnedPackedConv(u, k, d, ConvMode.CAUSAL, bl);
            if (!planFirst) opRows("pk", cd, rows, u, k, d, w, dy, op, bl, "", "pk.op.reuse=false");
            try (var pk = BarePlans.packedMonarch(cd, H, L, ai.longconv4j.cuda.ConvMode.CAUSAL, ElementType.BF16, init, w[0], w[1])) {
              if (pk == null) System.out.println("pk plan: no PackedMonarchLearned plan at L=" + L);
              else planRows("pk", cd, rows, B, H, L, w, (x, y) -> pk.forward(x, y, B), (x, du, dk, dD) -> pk.backward(x, x, B, du, dk, dD));
            }
            if (planFirst) opRows("pk", cd, rows, u, k, d, w, dy, op, bl, "", "pk.op.reuse=false");
          }
          default -> throw new IllegalArgumentException("OpVsPlan: engines fb, pk; got " + e);
        }
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  /**
   * Session 18 (helper layer): the LongConv layer's variants: "" the defaults (k kept while K is unchanged, so the op also
   * keeps its spectrum; the backward without the zero fill of dk / dD); k recomputed at every call
   * ({@code conv.kernel.keep=false}: the layer before session 18 in a training step, where K changes); and that with the op
   * backward's zero fill as before ({@code cuda.fbop.bwdzero=true}: the layer route before session 18).
   */
  private static final String[] LAYER_VARIANTS = {"", "conv.kernel.keep=false", "conv.kernel.keep=false+cuda.fbop.bwdzero=true"};

  /** The variants named by a property ({@code default} for ""), else the given ones. */
  private static String[] variants(String property, String[] otherwise) {
    String v = System.getProperty(property);
    if (v == null) return otherwise;
    return java.util.Arrays.stream(v.split(",")).map(x -> x.equals("default") ? "" : x).toArray(String[]::new);
  }

  private static String[] reversed(String[] a) {
    String[] r = a.clone();
    java.util.Collections.reverse(java.util.Arrays.asList(r));
    return r;
  }

  /**
   * The layer's rows (session 18, helper layer): {@code LongConv} causal, Lk = L, one kernel channel (C = 1: the fused FB
   * op), no kernel dropout, bf16 on the GPU (engine AUTO: FlashButterfly), on u (requires grad) and dy of the op rows; per
   * variant: y (no grad) compared with the first variant's y on the device (the variants are the same device computation,
   * so bit-identical), the gradients of u and of every parameter of sum(y * dy) compared likewise (K and D: the fused
   * backward's fp32 atomics add in a varying order, so their relative difference is printed), then "layer fwd" (no grad)
   * and "layer fwd+bwd" (zeroGrad, forward, backward(dy)) timed as the op rows ({@code LearnedOpBench.time} group 1).
   * The untimed first call runs outside any StorageScope, so the default variant's timed calls find k kept.
   */
  private static void layerRows(CudaDevice cd, List<CudaConvBench.Row> rows, Tensor u, Tensor dy, String[] variants) {
    int B = u.size(0), H = u.size(1), L = u.size(2);
    long n = (long) B * H * L;
    LongConv layer = LongConv.builder().features(H).length(L).channels(1).kernelDropout(0).mode(ConvMode.CAUSAL).seed(7).build()
        .to(u.device(), DType.BF16);
    Tensor yRef = null;
    java.util.Map<String, Tensor> gRef = null;
    for (String v : variants) {
      String[] kv = v.isEmpty() ? new String[0] : v.split("\\+");
      String tag = v.isEmpty() ? "" : " [" + v + "]";
      for (String p : kv) System.setProperty("longconv4j." + p.split("=", 2)[0], p.split("=", 2)[1]);
      try {
        Tensor y;
        try (var ng = Tensor.noGrad()) { y = layer.forward(u).to(DType.F32); }
        layer.zeroGrad();
        u.zeroGrad();
        layer.forward(u).backward(dy);
        java.util.Map<String, Tensor> g = new java.util.LinkedHashMap<>();
        g.put("du", u.grad().to(DType.F32));
        for (var e : layer.namedParameters().entrySet()) g.put(e.getKey(), e.getValue().grad().to(DType.F32));
        if (yRef == null) { yRef = y; gRef = g; }
        else {
          StringBuilder line = new StringBuilder("layer" + tag + " L=" + L + ": y " + sameOrDiff(y, yRef));
          for (var e : g.entrySet()) line.append(", ").append(e.getKey()).append(' ').append(sameOrDiff(e.getValue(), gRef.get(e.getKey())));
          System.out.println(line + " (vs the first variant's)");
        }
        Runnable fwd = () -> { try (var ng = Tensor.noGrad()) { layer.forward(u); } };
        Runnable step = () -> {
          layer.zeroGrad();
          u.zeroGrad();
          layer.forward(u).backward(dy);
        };
        add(rows, "layer fwd" + tag, B, H, L, LearnedOpBench.time(cd, fwd, 1, 20), 4.0 * n, Double.NaN);
        add(rows, "layer fwd+bwd" + tag, B, H, L, LearnedOpBench.time(cd, step, 1, 10), 12.0 * n, Double.NaN);
        System.out.println("layer" + tag + " L=" + L + ": k computed " + layer.kernel().computations() + " times so far");
      } finally {
        for (String p : kv) System.clearProperty("longconv4j." + p.split("=", 2)[0]);
      }
    }
  }

  /** "bit-identical" or the relative Frobenius difference of two F32 device tensors. */
  private static String sameOrDiff(Tensor a, Tensor ref) {
    Tensor diff = a.sub(ref);
    double ss = diff.mul(diff).sum().item(), rr = ref.mul(ref).sum().item();
    return ss == 0 ? "bit-identical" : String.format("rel diff %.2e", Math.sqrt(ss / rr));
  }

  interface Fwd { void run(DeviceBuffer u, DeviceBuffer y); }

  interface Bwd { void run(DeviceBuffer u, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD); }

  /**
   * The op's rows: fwd (validated against float64) and fwd+bwd, for each variant: "" (the defaults) or
   * {@code key=value[+key=value]} system properties ({@code longconv4j.} prefixed) set for its rows; each variant's y is
   * compared with the defaults' (all of it, on the device: the variants are the same device computation).
   */
  private static void opRows(String e, CudaDevice cd, List<CudaConvBench.Row> rows, Tensor u, Tensor k, Tensor d, float[][] w,
      Tensor dy, Supplier<Tensor> op, Tensor[] blocks, String... variants) {
    int B = u.size(0), H = u.size(1), L = u.size(2);
    long n = (long) B * H * L;
    Tensor yRef = null;
    for (String v : variants) {
      String[] kv = v.isEmpty() ? new String[0] : v.split("\\+");
      String tag = v.isEmpty() ? "" : " [" + v + "]";
      for (String p : kv) System.setProperty("longconv4j." + p.split("=", 2)[0], p.split("=", 2)[1]);
      try {
        double err = 0;
        try (var ng = Tensor.noGrad()) {
          Tensor y = op.get();
          for (int[] bh : sampleRows(B, H)) err = Math.max(err, check(row(u, bh), row(y, bh), w, bh[1], L));
          if (yRef == null) yRef = y.to(DType.F32);
          else {
            Tensor diff = y.to(DType.F32).sub(yRef);
            double ss = diff.mul(diff).sum().item();
            System.out.println(e + " op" + tag + " L=" + L + ": y " + (ss == 0 ? "bit-identical to" : "DIFFERS from (sum sq " + ss + ")")
                + " the default route's");
          }
        }
        Runnable fwd = () -> { try (var ng = Tensor.noGrad()) { op.get(); } };
        Runnable step = () -> {
          u.zeroGrad(); k.zeroGrad(); d.zeroGrad();
          for (Tensor b : blocks) b.zeroGrad();
          op.get().backward(dy);
        };
        add(rows, e + " op fwd" + tag, B, H, L, LearnedOpBench.time(cd, fwd, 1, 20), 4.0 * n, err);
        add(rows, e + " op fwd+bwd" + tag, B, H, L, LearnedOpBench.time(cd, step, 1, 10), 12.0 * n, Double.NaN);
        // session 18: eight calls per timed group, the host queueing ahead of the GPU: what stays over the plan is device work
        if (v.isEmpty() && Boolean.getBoolean("longconv4j.bench.ovp.x8"))
          add(rows, e + " op fwd+bwd x8", B, H, L, LearnedOpBench.time(cd, step, LearnedOpBench.GROUP, 5), 12.0 * n, Double.NaN);
      } finally {
        for (String p : kv) System.clearProperty("longconv4j." + p.split("=", 2)[0]);
      }
    }
  }

  /** The bare plan's rows: fwd (validated) and fwd+bwd (dy = u). */
  private static void planRows(String e, CudaDevice cd, List<CudaConvBench.Row> rows, int B, int H, int L, float[][] w, Fwd fwd, Bwd bwd) {
    long n = (long) B * H * L;
    try (var u = cd.alloc(2 * n); var y = cd.alloc(2 * n); var du = cd.alloc(2 * n); var dk = cd.alloc(4L * H * L);
         var dD = cd.alloc(4L * H)) {
      DeviceFill.uniform(cd, u, n, ElementType.BF16, 7L * L, 1f);
      y.fill32(0x7fc07fc0);
      fwd.run(u, y);
      cd.synchronize();
      double err = 0;
      for (int[] bh : sampleRows(B, H)) {
        long off = ((long) bh[0] * H + bh[1]) * L * 2;
        err = Math.max(err, check(CudaConvBench.read(u, ElementType.BF16, off, L), CudaConvBench.read(y, ElementType.BF16, off, L),
            w, bh[1], L));
      }
      add(rows, e + " plan fwd", B, H, L, CudaConvBench.median(cd, () -> fwd.run(u, y), 20), 4.0 * n, err);
      add(rows, e + " plan fwd+bwd", B, H, L, CudaConvBench.median(cd, () -> { fwd.run(u, y); bwd.run(u, du, dk, dD); }, 10),
          12.0 * n, Double.NaN);
    }
  }

  /** Two (batch, channel) rows: the last one and a random one. */
  private static int[][] sampleRows(int B, int H) {
    var r = new SplittableRandom(B * 31L + H);
    return new int[][] {{B - 1, H - 1}, {r.nextInt(B), r.nextInt(H)}};
  }

  private static float[] row(Tensor t, int[] bh) {
    return t.slice(0, bh[0], bh[0] + 1).slice(1, bh[1], bh[1] + 1).toFloatArray();
  }

  /** Relative L2 error of y at 64 sampled outputs (the last among them) against the float64 causal conv + D u of channel h. */
  static double check(float[] u, float[] y, float[][] w, int h, int L) {
    var r = new SplittableRandom(L + h);
    double num = 0, den = 0;
    for (int s = 0; s < 64; s++) {
      int i = s == 0 ? L - 1 : r.nextInt(L);
      double acc = (double) w[1][h] * u[i];
      for (int t = 0; t <= i; t++) acc += (double) w[0][h * L + t] * u[i - t];
      double e = y[i] - acc;
      num += Double.isFinite(y[i]) ? e * e : Double.POSITIVE_INFINITY;
      den += acc * acc;
    }
    return Math.sqrt(num / den);
  }

  private static void add(List<CudaConvBench.Row> rows, String name, int B, int H, int L, double ms, double bytes, double err) {
    rows.add(new CudaConvBench.Row(name, B, H, L, ms, bytes / ms / 1e6, err, 0));
    CudaConvBench.report(rows.getLast());
  }
}
