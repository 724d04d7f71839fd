// Shape legend: R = B·L rows (16384 by default), D model width (768), F = 4D hidden (3072); x (R, D), w1 (F, D), b1 (F),
//   h (R, F), w2 (D, F), b2 (D).
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.StorageScope;
import ai.longconv4j.cuda.CudaBackend;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.CudaEvent;
import ai.longconv4j.nn.GELU;
import ai.longconv4j.nn.Linear;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * cuBLASLt epilogues vs separate kernels, through the Tensor API on one GPU, for an LM MLP's two layers in bf16:
 * fc1 {@code (R, D) -> (R, F)} with bias + GELU(tanh) and fc2 {@code (R, F) -> (R, D)} with bias. For each layer:
 * <ul>
 *   <li>gemm only: {@code x.matmul(wᵀ)} (the floor: what the epilogue rides on);</li>
 *   <li>unfused: {@code x.matmul(wᵀ).add(b)[.geluTanh()]} (GEMM, then one elementwise kernel per step);</li>
 *   <li>fused: {@code Linear.linearGelu(x, w, b, TANH)} / {@code Linear.linear(x, w, b)} (one cuBLASLt GEMM with the
 *       GELU_AUX_BIAS / BIAS epilogue, algorithm autotuned, the BIAS epilogue kept only where it beat GEMM + add in its
 *       timing; backward: gelu' kernel, dx GEMM, dw GEMM with the BGRADB epilogue for db);</li>
 *   <li>fused, 1st heuristic: the same with the heuristic's first algorithm untimed and the epilogue always taken
 *       ({@code -Dlongconv4j.cublasLt.autotune=false}, {@code -Dlongconv4j.fusedLinear.biasEpilogue=on}).</li>
 * </ul>
 * forward without a graph, and forward + backward (fresh leaves each time, so no gradient accumulation). Timed with
 * CUDA events on the device stream: {@code warmup} untimed runs, then the median of {@code repeats}; TFLOP/s counts
 * 2·R·D·F per GEMM (forward 1 GEMM, forward + backward 3). Before timing, the fused results (y, dx, dw, db) are checked
 * against the unfused ones (norm-wise relative error <= 2e-2, bf16) and the run stops if they differ.
 * <p>Device memory: by default an iteration's outputs go back to the caching allocator when the garbage collector
 * finds them, so large outputs (fc1's 100 MB) may be fresh {@code cuMemAlloc}s inside the timed region, more of them for
 * the unfused variant (one output per op); the figures of 2026-11-30 in BENCHMARKS.md were taken so. With the fifth
 * argument {@code scoped}, each iteration runs in a {@link StorageScope} whose storages are released after its end event
 * (steady-state reuse, as a training loop with scopes gets).
 * Run: {@code java -cp ... ai.longconv4j.examples.bench.EpilogueBench [rows] [width] [warmup] [repeats] [scoped]}.
 */
public final class EpilogueBench {
  private EpilogueBench() {}

  /** Whether each iteration's storages are released after it (see the class comment). */
  private static boolean scoped;

  public static void main(String[] args) {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 16384;
    int d = args.length > 1 ? Integer.parseInt(args[1]) : 768;
    int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int repeats = args.length > 3 ? Integer.parseInt(args[3]) : 30;
    scoped = args.length > 4 && args[4].equals("scoped");
    int f = 4 * d;
    Device dev = Device.cuda(0);
    CudaBackend be = (CudaBackend) Backends.forDevice(dev);
    CudaDevice cd = be.cudaDevice(dev);
    System.out.printf("EpilogueBench: %s, bf16, R = %d, D = %d, F = %d, warmup %d, median of %d%s%n", cd.name(), rows, d,
        f, warmup, repeats, scoped ? ", scoped (storages released per iteration)" : "");
    layer("fc1 bias+gelu(tanh)", cd, rows, d, f, true, warmup, repeats);
    layer("fc2 bias", cd, rows, f, d, false, warmup, repeats);
    System.out.println(CudaBackend.fusedLinearStats());
  }

  static void layer(String name, CudaDevice cd, int rows, int in, int out, boolean gelu, int warmup, int repeats) {
    Device dev = Device.cuda(0);
    Tensor x = Tensor.randn(Rng.seeded(1), DType.F32, rows, in).to(dev).to(DType.BF16);
    Tensor w = Tensor.randn(Rng.seeded(2), DType.F32, out, in).mul(1 / Math.sqrt(in)).to(dev).to(DType.BF16);
    Tensor b = Tensor.randn(Rng.seeded(3), DType.F32, out).mul(0.5).to(dev).to(DType.BF16);
    Tensor g = Tensor.randn(Rng.seeded(4), DType.F32, rows, out).to(dev).to(DType.BF16);
    Op gemm = (xi, wi, bi) -> xi.matmul(wi.transpose(0, 1));
    Op unfused = (xi, wi, bi) -> {
      Tensor z = xi.matmul(wi.transpose(0, 1)).add(bi);
      return gelu ? z.geluTanh() : z;
    };
    Op fused = (xi, wi, bi) -> gelu ? Linear.linearGelu(xi, wi, bi, GELU.Approximation.TANH) : Linear.linear(xi, wi, bi);
    String path = validate(name, x, w, b, g, unfused, fused);
    double flop = 2.0 * rows * in * out;
    Op[] ops = {gemm, unfused, fused, fused};
    String[] labels = {"gemm only", "unfused", "fused", "fused, 1st heuristic"};
    double[] fwd = new double[4], fb = new double[4];
    for (int i = 0; i < 4; i++) {
      Op op = ops[i];
      // the last row: cuBLASLt's first heuristic algorithm untimed and the epilogue always taken (the behaviour before
      // autotuning, its slow twin); the others run with the defaults (autotuned, bias epilogue timed against GEMM + add)
      if (i == 3) {
        System.setProperty("longconv4j.cublasLt.autotune", "false");
        System.setProperty("longconv4j.fusedLinear.biasEpilogue", "on");
      }
      fwd[i] = median(cd, warmup, repeats, () -> {
        try (var ng = Tensor.noGrad()) {
          return op.apply(x, w, b);
        }
      });
      fb[i] = median(cd, warmup, repeats, () -> {
        Tensor xl = x.detach().requiresGrad(true), wl = w.detach().requiresGrad(true), bl = b.detach().requiresGrad(true);
        op.apply(xl, wl, bl).backward(g);
        return xl.grad();
      });
    }
    System.clearProperty("longconv4j.cublasLt.autotune");
    System.clearProperty("longconv4j.fusedLinear.biasEpilogue");
    System.out.printf("%s (%d x %d -> %d), fused path: %s%n", name, rows, in, out, path);
    for (int i = 0; i < 4; i++) {
      System.out.printf("  %-20s forward %7.3f ms (%6.1f TFLOP/s) | forward+backward %7.3f ms (%6.1f TFLOP/s)%n", labels[i],
          fwd[i], flop / fwd[i] / 1e9, fb[i], 3 * flop / fb[i] / 1e9);
    }
    System.out.printf("  fused vs unfused: forward %.2fx, forward+backward %.2fx faster (1st heuristic: %.2fx, %.2fx)%n",
        fwd[1] / fwd[2], fb[1] / fb[2], fwd[1] / fwd[3], fb[1] / fb[3]);
  }

  interface Op {
    Tensor apply(Tensor x, Tensor w, Tensor b);
  }

  /** Fused vs unfused y, dx, dw, db (norm-wise relative error); throws when any exceeds 2e-2. Returns the fused op's name. */
  static String validate(String name, Tensor x, Tensor w, Tensor b, Tensor g, Op unfused, Op fused) {
    Tensor[] u = grads(x, w, b, g, unfused), f = grads(x, w, b, g, fused);
    String[] what = {"y", "dx", "dw", "db"};
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      double e = relErr(f[i].to(DType.F32).toDoubleArray(), u[i].to(DType.F32).toDoubleArray());
      sb.append(String.format("%s %.1e ", what[i], e));
      // bf16: each path rounds its GEMM outputs to bf16 (2^-8 = 3.9e-3) at different points; 2e-2 is ~5 roundings
      if (!(e <= 2e-2)) throw new IllegalStateException(name + ": fused vs unfused " + what[i] + " rel err " + e);
    }
    System.out.printf("%s: validated fused vs unfused (rel err %s)%n", name, sb.toString().trim());
    return f[4] == null ? "?" : f[4].gradFn();
  }

  static Tensor[] grads(Tensor x, Tensor w, Tensor b, Tensor g, Op op) {
    Tensor xl = x.detach().requiresGrad(true), wl = w.detach().requiresGrad(true), bl = b.detach().requiresGrad(true);
    Tensor y = op.apply(xl, wl, bl);
    y.backward(g);
    return new Tensor[] {y.detach(), xl.grad(), wl.grad(), bl.grad(), y};
  }

  static double relErr(double[] a, double[] b) {
    double num = 0, den = 0;
    for (int i = 0; i < a.length; i++) {
      num += (a[i] - b[i]) * (a[i] - b[i]);
      den += b[i] * b[i];
    }
    return Arrays.stream(a).anyMatch(Double::isNaN) ? Double.NaN : Math.sqrt(num / Math.max(den, 1e-300));
  }

  /** Median milliseconds between CUDA events recorded on the device stream around {@code body}. */
  static double median(CudaDevice cd, int warmup, int repeats, Supplier<Tensor> body) {
    for (int i = 0; i < warmup; i++) body.get();
    cd.synchronize();
    double[] t = new double[repeats];
    try (var start = new CudaEvent(cd); var end = new CudaEvent(cd)) {
      for (int i = 0; i < repeats; i++) {
        try (var scope = scoped ? StorageScope.open() : null) {
          start.record(cd.stream());
          body.get();
          end.record(cd.stream());
          t[i] = end.elapsedSince(start);
          if (scope != null) scope.releaseAllExcept(java.util.Set.of());
        }
      }
    }
    Arrays.sort(t);
    return t[repeats / 2];
  }
}
