// Shapes: B batch, H features, L length (Lk = L). u, y, dy: (B, H, L) bf16 on the GPU; k (H, L) fp32 (bidirectional
//   (H, 2, L)); D (1, H) fp32; kN (1, H, N) fp32 (the composition's placed kernel, N = FlashButterfly's FFT size).
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.SpectralConvBackend;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.cuda.Cuda;
import ai.longconv4j.cuda.CudaBackend;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Session 13, helper fbop: FlashButterfly's tensor op ({@code ConvOps.conv}, engine MONARCH, bf16 u on the GPU) against
 * its plan, and where the op's time goes. Per L, in the order of {@code -Dlongconv4j.bench.fbop.order} (default
 * {@code fused,composed}): "op fused" (the default route: CudaFlashLongConv.applyD, taps and D to the plan) and "op
 * composed" ({@code longconv4j.conv.device.fused=false}: session 12's route, kN with tensor ops, the plan with D = 0,
 * D u added in F32), each fwd (gradients off) and fwd+bwd ({@code y.backward(dy)}, gradients cleared before each step)
 * at group 1 and 8 ({@link LearnedOpBench#time}: CUDA events, warm-up, medians; 40 / 20 repetitions), with the fused y's
 * worst relative L2 error against the composed one. Then the composition's phases at group 8: "phase kN" (the placed
 * kernel from k by tensor ops, as ConvOps.convOnDevice builds it), "phase spectralConv" (the backend's spectralConv on
 * a prepared kN, fwd and fwd+bwd with u and kN requiring gradients) and "phase D u" (the F32 skip-term composition on a
 * given y, fwd and fwd+bwd), and "plan setWeightsOnDevice" (a FlashButterflyConv plan's spectrum from device taps: the
 * per-call cost the op has over the plan rows, which set the weights once). Then, unless {@code -Dlongconv4j.bench.fbop.plans=false}, the plan rows in the same process
 * ({@link LearnedPackedBench}'s fb: FlashButterflyConv.forward / backward, causal only). Mode:
 * {@code -Dlongconv4j.bench.fbop.mode} (CAUSAL). Usage: FlashOpBench [csv-out] [B] [H] [L,L,...] (default 64 768 1024,256).
 */
public final class FlashOpBench {
  private FlashOpBench() {}

  public static void main(String[] args) throws IOException {
    if (!Cuda.available()) { System.out.println("FlashOpBench: " + Cuda.reason()); return; }
    var a = CudaConvBench.Args.of(args, new int[] {1024, 256});
    Device dev = new Device(Device.Kind.CUDA, 0);
    CudaBackend be = (CudaBackend) Backends.forDevice(dev);
    CudaDevice cd = be.cudaDevice(dev);
    System.out.println(cd);
    ConvMode mode = ConvMode.valueOf(System.getProperty("longconv4j.bench.fbop.mode", "CAUSAL"));
    List<CudaConvBench.Row> rows = new ArrayList<>();
    for (int L : a.Ls()) {
      int B = a.B(), H = a.H();
      long n = (long) B * H * L;
      var rng = Rng.seeded(42 + L);
      Tensor u = Tensor.randn(rng, DType.F32, B, H, L).to(dev).to(DType.BF16).detach().requiresGrad(true);
      Tensor dy = Tensor.randn(rng, DType.F32, B, H, L).to(dev).to(DType.BF16).detach();
      int[] kShape = mode.sides() == 2 ? new int[] {H, 2, L} : new int[] {H, L};
      Tensor k = Tensor.randn(rng, DType.F32, kShape).mul(1 / Math.sqrt(L)).to(dev).detach().requiresGrad(true);
      Tensor d = Tensor.randn(rng, DType.F32, 1, H).to(dev).detach().requiresGrad(true);
      Supplier<Tensor> op = () -> ConvOps.conv(u, k, d, mode, ConvEngine.MONARCH);
      Tensor ref;
      System.setProperty("longconv4j.conv.device.fused", "false");
      try (var ng = Tensor.noGrad()) { ref = op.get().to(DType.F32); } finally { System.clearProperty("longconv4j.conv.device.fused"); }
      for (String e : System.getProperty("longconv4j.bench.fbop.order", "fused,composed").split(",")) {
        if (!e.equals("fused") && !e.equals("composed")) throw new IllegalArgumentException("FlashOpBench: fused, composed; got " + e);
        if (e.equals("composed")) System.setProperty("longconv4j.conv.device.fused", "false");
        try {
          double err;
          String gradFn;
          try (var ng = Tensor.noGrad()) {
            Tensor diff = op.get().to(DType.F32).sub(ref);
            err = Math.sqrt(diff.mul(diff).sum().item() / ref.mul(ref).sum().item());
          }
          gradFn = op.get().gradFn();
          System.out.println("op " + e + " " + mode + " L=" + L + ": y's op " + gradFn + ", rel L2 vs composed " + err);
          Runnable fwd = () -> { try (var ng = Tensor.noGrad()) { op.get(); } };
          Runnable step = () -> { u.zeroGrad(); k.zeroGrad(); d.zeroGrad(); op.get().backward(dy); };
          for (int group : new int[] {1, LearnedOpBench.GROUP}) {
            String g = group == 1 ? "" : " x" + group;
            add(rows, "op " + e + " fwd" + g, B, H, L, LearnedOpBench.time(cd, fwd, group, 40), 4.0 * n, err);
            add(rows, "op " + e + " fwd+bwd" + g, B, H, L, LearnedOpBench.time(cd, step, group, 20), 12.0 * n, Double.NaN);
          }
        } finally {
          System.clearProperty("longconv4j.conv.device.fused");
        }
      }
      phases(be, cd, mode, u, k, d, dy, rows);
      if (mode == ConvMode.CAUSAL && !"false".equals(System.getProperty("longconv4j.bench.fbop.plans"))) {
        String old = System.getProperty("longconv4j.bench.pk.order");
        System.setProperty("longconv4j.bench.pk.order", "fb");
        LearnedPackedBench.length(cd, B, H, L, rows);
        if (old == null) System.clearProperty("longconv4j.bench.pk.order"); else System.setProperty("longconv4j.bench.pk.order", old);
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }

  private static void add(List<CudaConvBench.Row> rows, String name, int B, int H, int L, double ms, double bytes, double err) {
    rows.add(new CudaConvBench.Row(name, B, H, L, ms, bytes / ms / 1e6, err, 0));
    CudaConvBench.report(rows.getLast());
  }

  /** The composition's three phases (see the class comment), group 8. */
  private static void phases(CudaBackend be, CudaDevice cd, ConvMode mode, Tensor u, Tensor k, Tensor d, Tensor dy,
                             List<CudaConvBench.Row> rows) {
    int B = u.size(0), H = u.size(1), L = u.size(2), G = LearnedOpBench.GROUP;
    long n = (long) B * H * L;
    SpectralConvBackend sc = be;
    int N = sc.fftSize(mode, L, DType.BF16), t0 = mode.effectiveTaps(L, L, 0), t1 = mode.effectiveTaps(L, L, 1);
    Supplier<Tensor> kNOf = () -> {   // ConvOps.convOnDevice's kernel placement, C = 1
      Tensor kc = k.unsqueeze(0);
      Tensor k0 = mode.sides() == 2 ? kc.slice(2, 0, 1).squeeze(2) : kc;
      Tensor kN = k0.slice(2, 0, t0).pad(2, 0, N - t0);
      return mode.sides() == 2 ? kN.add(kc.slice(2, 1, 2).squeeze(2).slice(2, 0, t1).flip(2).pad(2, N - t1, 0)) : kN;
    };
    add(rows, "phase kN fwd x" + G, B, H, L, LearnedOpBench.time(cd, () -> { try (var ng = Tensor.noGrad()) { kNOf.get(); } }, G, 40),
        8.0 * H * N, Double.NaN);
    // the spectrum from device taps (what the op adds to the plan's forward, and to its backward without the reuse)
    try (var fb = ai.longconv4j.cuda.FlashButterflyConv.plan(cd, H, L, ai.longconv4j.cuda.ConvMode.valueOf(mode.name()),
             ai.longconv4j.cuda.ElementType.BF16, ai.longconv4j.cuda.Precision.BF16);
         var taps = cd.upload(new float[H * N]); var dz = cd.upload(new float[H])) {
      add(rows, "plan setWeightsOnDevice x" + G, B, H, L, LearnedOpBench.time(cd, () -> fb.setWeightsOnDevice(taps.ptr(), t0, dz.ptr()), G, 40),
          4.0 * H * N, Double.NaN);
    }
    Tensor kN;
    try (var ng = Tensor.noGrad()) { kN = kNOf.get().detach().requiresGrad(true); }
    add(rows, "phase spectralConv fwd x" + G, B, H, L,
        LearnedOpBench.time(cd, () -> { try (var ng = Tensor.noGrad()) { sc.spectralConv(u, kN, mode, t0); } }, G, 40), 4.0 * n, Double.NaN);
    Tensor dy4 = dy.reshape(B, 1, H, L);
    add(rows, "phase spectralConv fwd+bwd x" + G, B, H, L, LearnedOpBench.time(cd, () -> {
      u.zeroGrad(); kN.zeroGrad();
      sc.spectralConv(u, kN, mode, t0).backward(dy4);
    }, G, 20), 12.0 * n, Double.NaN);
    Tensor y;
    try (var ng = Tensor.noGrad()) { y = sc.spectralConv(u, kN, mode, t0).detach().requiresGrad(true); }
    Supplier<Tensor> du = () -> y.to(DType.F32).add(d.to(DType.F32).reshape(1, 1, H, 1).mul(u.to(DType.F32).unsqueeze(1)))
        .to(DType.BF16).squeeze(1);
    add(rows, "phase D u fwd x" + G, B, H, L, LearnedOpBench.time(cd, () -> { try (var ng = Tensor.noGrad()) { du.get(); } }, G, 40),
        6.0 * n, Double.NaN);
    add(rows, "phase D u fwd+bwd x" + G, B, H, L, LearnedOpBench.time(cd, () -> {
      u.zeroGrad(); d.zeroGrad(); y.zeroGrad();
      du.get().backward(dy);
    }, G, 20), 12.0 * n, Double.NaN);
  }
}
