// Shape legend: matmul (M, K) x (K, N) with M = K = N = n; elementwise add over L = 16M floats.
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.backend.cpu.MatmulKernels;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Overhead of the Tensor layer over raw loops and raw BLAS, measured in one run:
 * <ul>
 *   <li>F32 matmul n^3 (n = 512, 1024): {@code a.matmul(b)} vs one {@code sgemm} call on the same arrays
 *       (both on one thread, then Tensor on all cores);</li>
 *   <li>F32 elementwise add of 16M floats: {@code a.add(b)} vs a plain Java loop (into a preallocated
 *       array, and into a freshly allocated one as Tensor does).</li>
 * </ul>
 * Each figure is the median of {@code repeats} timed runs after {@code warmup} untimed ones; the
 * variants of one measurement run interleaved so JIT warm-up and load affect them alike.
 * Add {@code --add-modules jdk.incubator.vector} to let netlib pick its VectorBLAS.
 * Run: {@code java -cp ... ai.longconv4j.examples.bench.TensorBench [warmup] [repeats]}.
 */
public final class TensorBench {
    private TensorBench() {}

    public static void main(String[] args) {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf("TensorBench: %d cores, BLAS %s, Java %s, warmup %d, median of %d%n",
                cores, MatmulKernels.blas().getClass().getSimpleName(), Runtime.version(), warmup, repeats);
        for (int n : new int[]{512, 1024}) matmul(n, warmup, repeats, cores);
        add(16 << 20, warmup, repeats, cores);
    }

    static void matmul(int n, int warmup, int repeats, int cores) {
        Tensor a = Tensor.randn(Rng.seeded(1), DType.F32, n, n), b = Tensor.randn(Rng.seeded(2), DType.F32, n, n);
        float[] fa = a.toFloatArray(), fb = b.toFloatArray(), fc = new float[n * n];
        double flop = 2.0 * n * n * n;
        CpuContext one = CpuContext.withThreads(1), all = CpuContext.withThreads(cores);
        double[] t = medians(warmup, repeats,
                () -> {
                    // row-major C = A B as column-major C^T = B^T A^T
                    MatmulKernels.blas().sgemm("N", "N", n, n, n, 1f, fb, 0, n, fa, 0, n, 0f, fc, 0, n);
                    return fc;
                },
                () -> one.call(() -> a.matmul(b)),
                () -> all.call(() -> a.matmul(b)));
        double raw = t[0], t1 = t[1], tn = t[2];
        one.close();
        all.close();
        System.out.printf("matmul F32 %d^3: raw sgemm %.2f ms (%.1f GFLOP/s) | Tensor 1 thread %.2f ms (%.1f GFLOP/s, overhead %+.1f%%)"
                        + " | Tensor %d threads %.2f ms (%.1f GFLOP/s)%n",
                n, raw * 1e3, flop / raw / 1e9, t1 * 1e3, flop / t1 / 1e9, 100 * (t1 / raw - 1), cores, tn * 1e3, flop / tn / 1e9);
    }

    static void add(int len, int warmup, int repeats, int cores) {
        Tensor a = Tensor.randn(Rng.seeded(3), DType.F32, len), b = Tensor.randn(Rng.seeded(4), DType.F32, len);
        float[] fa = a.toFloatArray(), fb = b.toFloatArray(), pre = new float[len];
        CpuContext one = CpuContext.withThreads(1), all = CpuContext.withThreads(cores);
        double[] t = medians(warmup, repeats,
                () -> {
                    for (int i = 0; i < len; i++) pre[i] = fa[i] + fb[i];
                    return pre;
                },
                () -> {
                    float[] c = new float[len];
                    for (int i = 0; i < len; i++) c[i] = fa[i] + fb[i];
                    return c;
                },
                () -> one.call(() -> a.add(b)),
                () -> all.call(() -> a.add(b)));
        double loopPre = t[0], loopAlloc = t[1], t1 = t[2], tn = t[3];
        one.close();
        all.close();
        double gbs = 3.0 * 4 * len / 1e9;   // two reads + one write
        System.out.printf("add F32 %dM: loop (preallocated) %.2f ms (%.1f GB/s) | loop (allocating) %.2f ms | Tensor 1 thread %.2f ms"
                        + " (%.0f%% of preallocated loop speed, %.0f%% of allocating loop) | Tensor %d threads %.2f ms (%.0f%% of preallocated loop)%n",
                len >> 20, loopPre * 1e3, gbs / loopPre, loopAlloc * 1e3, t1 * 1e3, 100 * loopPre / t1, 100 * loopAlloc / t1,
                cores, tn * 1e3, 100 * loopPre / tn);
    }

    /**
     * Median wall time in seconds of each body; the bodies run interleaved (one round = each body once)
     * so JIT warm-up and machine load affect them alike. Results go to a sink so the work is kept.
     */
    @SafeVarargs
    static double[] medians(int warmup, int repeats, Supplier<Object>... bodies) {
        Object sink = null;
        for (int i = 0; i < warmup; i++) for (Supplier<Object> b : bodies) sink = b.get();
        double[][] t = new double[bodies.length][repeats];
        for (int i = 0; i < repeats; i++)
            for (int k = 0; k < bodies.length; k++) {
                long s = System.nanoTime();
                sink = bodies[k].get();
                t[k][i] = (System.nanoTime() - s) / 1e9;
            }
        if (sink == null) throw new IllegalStateException("no result");
        double[] med = new double[bodies.length];
        for (int k = 0; k < bodies.length; k++) {
            Arrays.sort(t[k]);
            med[k] = t[k][repeats / 2];
        }
        return med;
    }
}
