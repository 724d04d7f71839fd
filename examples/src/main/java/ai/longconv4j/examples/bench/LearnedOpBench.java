// Shapes: B batch, H features, L length (causal, Lk = L). u, y, dy: (B, H, L) bf16 on the GPU; k (H, L) fp32; D (1, H) fp32;
//   blocks of the packed M = N/2 = N1 x N2 transform {Fa, Fb, Gb, Ga} (n, n, 2) fp32 (LEARNED: of the N-point transform).
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.StorageScope;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.LearnedButterfly;
import ai.longconv4j.conv.PackedLearnedButterfly;
import ai.longconv4j.conv.Precision;
import ai.longconv4j.cuda.Cuda;
import ai.longconv4j.cuda.CudaBackend;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.CudaEvent;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Session 13, helper pkop: the learned long convolutions timed as a user calls them — the tensor op (lib's
 * {@code ConvOps.conv} with engine MONARCH: FlashButterfly on the GPU through the backend's spectralConv, plus the skip
 * term; {@code ConvOps.learnedPackedConv} / {@code learnedConv}: the GPU's CudaLearnedConv), not the plan. u (bf16)
 * requires a gradient, k, D and the blocks are fp32 parameters on the GPU (requiring gradients); causal, Lk = L, blocks
 * at the exact DFT. Rows per engine and L: fwd (gradients off: the inference forward), fwd+bwd ({@code y.backward(dy)},
 * the parameters' gradients cleared before each step, as an optimizer's zeroGrad) and, once, the op's y against
 * MONARCH's (the same convolution at init: the worst relative L2 error over the whole output). Engines, in the order of
 * {@code -Dlongconv4j.bench.op.order} (default {@code monarch,packed,packed-host,packed-nosave,learned}): packed is the
 * default route (device inputs, forward's dumps kept), packed-host session 12's host route
 * ({@code longconv4j.pk.op.device=false}), packed-nosave the device route without the kept dumps
 * ({@code longconv4j.pk.op.save=false}). Then, in the same process on the backend's device, the plan-level rows
 * ({@link LearnedPackedBench}'s fb and packed, with and without {@code longconv4j.pk.bwd.savefwd}) unless
 * {@code -Dlongconv4j.bench.op.plans=false}. CUDA events around the calls on the device's stream, warm-up, medians
 * ({@link #time}: 40 forward, 20 fwd+bwd; the plan rows: {@code CudaConvBench.median}).
 * Helper pkpq: engine packed-dft ({@code -Dlongconv4j.pk.pq=dft}: P / Q by the direct DFT, the op's route before pkpq) and,
 * with {@code -Dlongconv4j.bench.op.pq=true}, the P / Q rows alone ({@link #pqRows}). Helper pkjbwd: engine packed-chainbwd
 * ({@code -Dlongconv4j.pk.monarch.bwd=false}: at M = 2048 .. 32768 the backward on the fp32 chain, the tensor-core backward's slow twin).
 * Helper pkdev (session 15): {@code -Dlongconv4j.bench.op.reps} (forward reps, default 40; fwd+bwd half of it) and
 * {@code -Dlongconv4j.bench.op.groups} (default 1,8); {@code LearnedOpBench phases B H L,..}: the J-factor op's forward
 * phase by phase ({@link #phases}). At the J-factor sizes engine packed is the device route (pkdev; the parameters are
 * not changed between calls here, so it keeps P / Q and the blocks: an inference loop), packed-noreuse the device route
 * uploading at every call (as in training, where every step assigns new parameter values), packed-host the host route
 * (the route before pkdev, its slow twin). Helper p3 (session 17): engine packed-p3tc ({@code -Dlongconv4j.p3.bwd=tc}: at
 * M = 65536 .. 262144 du, dk, dD by PackedThreePassBackward on tensor cores). Helper p3tc (session 18): that route, with
 * the block gradients, is the default (engine packed); engine packed-p3chain ({@code -Dlongconv4j.p3.bwd=chain}) its slow
 * twin, the fp32 chain; after each engine the device allocator's peak of live bytes over its rows ("peak"). Session 21: at
 * M = 8192 the backward runs on the three-pass middles by default (engine packed); engine packed-pmb
 * ({@code -Dlongconv4j.pk.inner=pmb}) the one-pass backward kernel, its twin.
 * Usage: LearnedOpBench [csv-out] [B] [H] [L,L,...] (default 64 768 256,512,1024), or LearnedOpBench phases B H L,L,...
 */
public final class LearnedOpBench {
  private LearnedOpBench() {}

  public static void main(String[] args) throws IOException {
    if (!Cuda.available()) { System.out.println("LearnedOpBench: " + Cuda.reason()); return; }
    if (args.length > 0 && args[0].equals("phases")) { phases(args); return; }
    var a = CudaConvBench.Args.of(args, new int[] {256, 512, 1024});
    int reps = Integer.getInteger("longconv4j.bench.op.reps", 40);
    int[] groups = java.util.Arrays.stream(System.getProperty("longconv4j.bench.op.groups", "1," + GROUP).split(","))
        .mapToInt(Integer::parseInt).toArray();
    Device dev = new Device(Device.Kind.CUDA, 0);
    CudaDevice cd = ((CudaBackend) Backends.forDevice(dev)).cudaDevice(dev);
    System.out.println(cd);
    List<CudaConvBench.Row> rows = new ArrayList<>();
    String order = System.getProperty("longconv4j.bench.op.order", "monarch,packed,packed-host,packed-nosave,learned");
    for (int L : a.Ls()) {
      int B = a.B(), H = a.H();
      var rng = Rng.seeded(42 + L);
      Tensor u = Tensor.randn(rng, DType.F32, B, H, L).to(dev).to(DType.BF16).detach().requiresGrad(true);
      Tensor dy = Tensor.randn(rng, DType.F32, B, H, L).to(dev).to(DType.BF16).detach();
      Tensor k = Tensor.randn(rng, DType.F32, H, L).mul(1 / Math.sqrt(L)).to(dev).detach().requiresGrad(true);
      Tensor d = Tensor.randn(rng, DType.F32, 1, H).to(dev).detach().requiresGrad(true);
      Tensor[] pk = blocks(ConvPlan.of(L, L, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64), true, dev);
      Tensor[] lb = order.contains("learned") ? blocks(ConvPlan.of(L, L, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64), false, dev) : null;
      Tensor ref;
      try (var ng = Tensor.noGrad()) { ref = ConvOps.conv(u, k, d, ConvMode.CAUSAL, ConvEngine.MONARCH).to(DType.F32); }
      for (String e : order.split(",")) {
        String prop = switch (e) {
          case "packed-host" -> "longconv4j.pk.op.device";
          case "packed-nosave" -> "longconv4j.pk.op.save";
          case "packed-dft" -> "longconv4j.pk.pq";   // pkpq: P / Q by the direct DFT (lpk_pq), the op's route before pkpq
          case "packed-chainbwd" -> "longconv4j.pk.monarch.bwd";   // pkjbwd: the J-factor sizes' backward on the fp32 chain (slow twin)
          case "packed-noreuse" -> "longconv4j.pk.op.reuse";
          case "packed-p3tc", "packed-p3chain" -> "longconv4j.p3.bwd";   // p3 / p3tc: the three-pass sizes' backward on tensor cores (the default) / the chain
          case "packed-pmb" -> "longconv4j.pk.inner";   // session 21: at M = 8192 the one-pass backward kernel (the middles' twin)
          case "packed-fwd1" -> "longconv4j.pk.quadfwd";   // session 22: at M = 32768 the one-pass forward kernel (the three passes' twin)
          case "monarch", "packed", "learned" -> null;
          default -> throw new IllegalArgumentException("LearnedOpBench: engines monarch, packed, packed-host, packed-nosave, packed-dft, packed-chainbwd, packed-noreuse, packed-p3tc, packed-p3chain, packed-pmb, packed-fwd1, learned; got " + e);
        };
        if (prop != null)
          System.setProperty(prop, e.equals("packed-dft") ? "dft" : e.equals("packed-p3tc") ? "tc" : e.equals("packed-p3chain") ? "chain"
              : e.equals("packed-pmb") ? "pmb" : "false");
        cd.allocator().resetPeak();
        try {
          List<Tensor> params = new ArrayList<>(List.of(u, k, d));
          java.util.function.Supplier<Tensor> op = switch (e) {
            case "monarch" -> () -> ConvOps.conv(u, k, d, ConvMode.CAUSAL, ConvEngine.MONARCH);
            case "learned" -> { params.addAll(List.of(lb)); yield () -> ConvOps.learnedConv(u, k, d, ConvMode.CAUSAL, lb); }
            default -> { params.addAll(List.of(pk)); yield () -> ConvOps.learnedPackedConv(u, k, d, ConvMode.CAUSAL, pk); }
          };
          double err;
          try (var ng = Tensor.noGrad()) {
            Tensor y = op.get().to(DType.F32);
            Tensor diff = y.sub(ref);
            err = Math.sqrt(diff.mul(diff).sum().item() / ref.mul(ref).sum().item());
          }
          String name = "op " + e;
          long n = (long) B * H * L;
          Runnable fwd = () -> { try (var ng = Tensor.noGrad()) { op.get(); } };
          Runnable step = () -> {
            for (Tensor p : params) p.zeroGrad();
            op.get().backward(dy);
          };
          for (int group : groups) {
            String g = group == 1 ? "" : " x" + group;
            double ms = time(cd, fwd, group, reps);
            rows.add(new CudaConvBench.Row(name + " fwd" + g, B, H, L, ms, 4.0 * n / ms / 1e6, err, 0));
            CudaConvBench.report(rows.getLast());
            double msB = time(cd, step, group, Math.max(1, reps / 2));
            rows.add(new CudaConvBench.Row(name + " fwd+bwd" + g, B, H, L, msB, 12.0 * n / msB / 1e6, Double.NaN, 0));
            CudaConvBench.report(rows.getLast());
          }
          System.out.printf("%s B=%d H=%d L=%d: allocator peak %.3f GB live (now %.3f GB)%n", name, B, H, L, cd.allocator().peakBytes() / 1e9,
              cd.allocator().liveBytes() / 1e9);
        } finally {
          if (prop != null) System.clearProperty(prop);
        }
      }
      if ("true".equals(System.getProperty("longconv4j.bench.op.pq"))) pqRows(cd, B, H, L, k, rows);
      // plan-level rows: the J = 2 tensor-core plan (PackedLearnedConv) only, M <= 1024
      if (L <= 1024 && !"false".equals(System.getProperty("longconv4j.bench.op.plans"))) {
        String old = System.getProperty("longconv4j.bench.pk.order");
        System.setProperty("longconv4j.bench.pk.order", "fb,packed");
        LearnedPackedBench.length(cd, B, H, L, rows);
        System.setProperty("longconv4j.pk.bwd.savefwd", "true");
        System.setProperty("longconv4j.bench.pk.order", "packed");
        LearnedPackedBench.length(cd, B, H, L, rows);
        System.clearProperty("longconv4j.pk.bwd.savefwd");
        if (old == null) System.clearProperty("longconv4j.bench.pk.order"); else System.setProperty("longconv4j.bench.pk.order", old);
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  /**
   * Helper pkpq: the packed plan's P / Q from device taps alone ({@code PackedLearnedConv.setWeightsOnDevice(k, 1, null)}:
   * a 4H-byte memset of D and the P / Q kernel), rows "pq dft" ({@code lpk_pq}) and "pq fft" ({@code lpko_pq_fft}), each
   * timed as {@link #time} (group 1 and x8) on a plan of its own (the err column of the fft rows: the relative L2
   * difference of the two routes' {P, Q} over the whole (H, M) buffer). Then "pq fft x8 behind": the GPU time alone of 8
   * fft calls, queued behind >= 2 ms of dft calls so the host's queueing is hidden (events around the 8 calls, median
   * of 20).
   */
  static void pqRows(CudaDevice cd, int B, int H, int L, Tensor k, List<CudaConvBench.Row> rows) {
    var kb = ((ai.longconv4j.cuda.CudaStorage) k.storage()).at(k.offset());   // k: contiguous (H, L) fp32 on cd
    try (var dft = ai.longconv4j.cuda.PackedLearnedConv.plan(cd, H, L, L, ai.longconv4j.cuda.ConvMode.CAUSAL, ai.longconv4j.cuda.ElementType.BF16);
         var fft = ai.longconv4j.cuda.PackedLearnedConv.plan(cd, H, L, L, ai.longconv4j.cuda.ConvMode.CAUSAL, ai.longconv4j.cuda.ElementType.BF16)) {
      dft.pqByFft(false).setWeightsOnDevice(kb, 1, null);
      fft.pqByFft(true).setWeightsOnDevice(kb, 1, null);
      float[] c0 = dft.pairCoefficients(), c1 = fft.pairCoefficients();
      double num = 0, den = 0;
      for (int i = 0; i < c0.length; i++) { double d = (double) c1[i] - c0[i]; num += d * d; den += (double) c0[i] * c0[i]; }
      double err = Math.sqrt(num / den), dftMs = 0;
      for (var plan : List.of(dft, fft)) {
        for (int group : new int[] {1, GROUP}) {
          double ms = time(cd, () -> plan.setWeightsOnDevice(kb, 1, null), group, 40);
          if (plan == dft) dftMs = ms;
          rows.add(new CudaConvBench.Row("pq " + (plan == fft ? "fft" : "dft") + (group == 1 ? "" : " x" + group), B, H, L, ms, Double.NaN,
              plan == fft ? err : Double.NaN, 0));
          CudaConvBench.report(rows.getLast());
        }
      }
      int ahead = (int) Math.ceil(2.0 / dftMs), reps = 20;
      double[] t = new double[reps];
      try (var a = new CudaEvent(cd); var b = new CudaEvent(cd)) {
        for (int r = 0; r < reps + 3; r++) {
          for (int i = 0; i < ahead; i++) dft.setWeightsOnDevice(kb, 1, null);
          a.record(cd.stream());
          for (int j = 0; j < GROUP; j++) fft.setWeightsOnDevice(kb, 1, null);
          b.record(cd.stream());
          double ms = b.elapsedSince(a) / GROUP;
          if (r >= 3) t[r - 3] = ms;   // 3 warm-up rounds
        }
      }
      java.util.Arrays.sort(t);
      rows.add(new CudaConvBench.Row("pq fft x8 behind", B, H, L, t[reps / 2], Double.NaN, err, 0));
      CudaConvBench.report(rows.getLast());
    }
  }

  /**
   * Helper pkdev (session 15): {@code LearnedOpBench phases B H L,L,..}: where the J-factor op's forward spends its time. Per
   * L (causal, Lk = L, the inputs of the timed rows, gradients off) and per route (the device route uploading at every
   * call ({@code longconv4j.pk.op.reuse=false}), the device route keeping P / Q and blocks (the inputs are unchanged), the
   * host route ({@code longconv4j.pk.op.device=false})): 3 calls to warm up, then {@code -Dlongconv4j.bench.op.phasecalls} (default 5)
   * calls with {@code -Dlongconv4j.pk.op.phases=true}, each printing its line "pk op phases ROUTE ... | phase ms | .." (the
   * op synchronises after each phase: wall-clock per phase, a breakdown, not the op's time).
   */
  static void phases(String[] args) {
    int B = Integer.parseInt(args[1]), H = Integer.parseInt(args[2]), calls = Integer.getInteger("longconv4j.bench.op.phasecalls", 5);
    Device dev = new Device(Device.Kind.CUDA, 0);
    for (String ls : args[3].split(",")) {
      int L = Integer.parseInt(ls);
      var rng = Rng.seeded(42 + L);
      Tensor u = Tensor.randn(rng, DType.F32, B, H, L).to(dev).to(DType.BF16).detach();
      Tensor k = Tensor.randn(rng, DType.F32, H, L).mul(1 / Math.sqrt(L)).to(dev).detach();
      Tensor d = Tensor.randn(rng, DType.F32, 1, H).to(dev).detach();
      Tensor[] pk = blocks(ConvPlan.of(L, L, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64), true, dev);
      for (String route : new String[] {"upload", "kept", "host"}) {   // device route uploading at every call, keeping, host route
        System.setProperty("longconv4j.pk.op.device", route.equals("host") ? "false" : "true");
        System.setProperty("longconv4j.pk.op.reuse", route.equals("upload") ? "false" : "true");
        try (var ng = Tensor.noGrad()) {
          for (int i = 0; i < 3 + calls; i++) {
            if (i == 3) System.setProperty("longconv4j.pk.op.phases", "true");
            try (var scope = StorageScope.open()) {
              ConvOps.learnedPackedConv(u, k, d, ConvMode.CAUSAL, pk);
              Backends.forDevice(dev).synchronize(dev);
              scope.releaseAllExcept(java.util.Set.of());
            }
          }
        } finally {
          System.clearProperty("longconv4j.pk.op.phases");
          System.clearProperty("longconv4j.pk.op.device");
          System.clearProperty("longconv4j.pk.op.reuse");
        }
      }
    }
  }

  /** Calls per group of the pipelined rows ("x8"). */
  static final int GROUP = 8;

  /**
   * Median milliseconds per call: CUDA events on the device's stream around {@code group} back-to-back calls, divided by
   * {@code group} (group 1: one call from an idle stream, so the host's time to queue it counts; group 8: the host queues
   * ahead of the GPU as in a training loop, only a synchronisation inside the call stalls it). Each group runs in a
   * StorageScope released after its end event (the caching allocator reuses the buffers, as after a training step's
   * backward; without it every call would take fresh device memory until a garbage collection). Warm-up: at least 3
   * groups and {@code CudaConvBench.WARMUP_MS}.
   */
  static double time(CudaDevice cd, Runnable w, int group, int reps) {
    long t0 = System.nanoTime();
    for (int i = 0; i < 3 || System.nanoTime() - t0 < CudaConvBench.WARMUP_MS * 1_000_000L; i++) {
      try (var scope = StorageScope.open()) {
        for (int j = 0; j < group; j++) w.run();
        cd.synchronize();
        scope.releaseAllExcept(java.util.Set.of());
      }
    }
    double[] t = new double[reps];
    try (var a = new CudaEvent(cd); var b = new CudaEvent(cd)) {
      for (int i = 0; i < reps; i++) {
        try (var scope = StorageScope.open()) {
          a.record(cd.stream());
          for (int j = 0; j < group; j++) w.run();
          b.record(cd.stream());
          t[i] = b.elapsedSince(a) / group;
          scope.releaseAllExcept(java.util.Set.of());
        }
      }
    }
    java.util.Arrays.sort(t);
    return t[reps / 2];
  }

  /** The four blocks at the exact DFT as fp32 parameters on dev (packed: of the M-point transform; else the N-point one). */
  private static Tensor[] blocks(ConvPlan plan, boolean packed, Device dev) {
    double[][] init = packed ? PackedLearnedButterfly.atInit(plan).blocks() : LearnedButterfly.atInit(plan).blocks();
    // packed: 2J blocks {F_1 .. F_J, G_J .. G_1} (J = 3 .. 5 from M = 2048); LEARNED: {Fa, Fb, Gb, Ga}
    int[] sizes = packed ? PackedLearnedButterfly.blockSizes(plan)
        : new int[] {plan.factors().get(0), plan.factors().get(1), plan.factors().get(1), plan.factors().get(0)};
    Tensor[] t = new Tensor[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      int n = sizes[i];
      t[i] = Tensor.of(init[i], n, n, 2).to(DType.F32).to(dev).detach().requiresGrad(true);
    }
    return t;
  }
}
