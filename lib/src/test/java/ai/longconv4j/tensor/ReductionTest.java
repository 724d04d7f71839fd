// Shape legend: x viewed as (O, R, I) around the reduced axis; awkward sizes (1, primes, > REDUCE_CHUNK).
package ai.longconv4j.tensor;

import ai.longconv4j.backend.cpu.CpuContext;
import org.junit.jupiter.api.Test;

import static ai.longconv4j.testing.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** sum / mean / max over every axis against a naive loop, on awkward shapes and both dtypes. */
class ReductionTest {
    private static final int[][] SHAPES = {{1}, {7}, {8193}, {3, 1, 5}, {2, 20011}, {13, 17, 3}, {1, 1, 1}, {5, 4099, 2}};

    /** Naive reduction in double over axis a of a row-major array; {max} selects max instead of sum. */
    private static double[] naive(double[] x, int[] s, int a, boolean max) {
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= s[i];
        for (int i = a + 1; i < s.length; i++) inner *= s[i];
        double[] r = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double acc = max ? Double.NEGATIVE_INFINITY : 0;
                for (int k = 0; k < s[a]; k++) {
                    double v = x[(o * s[a] + k) * inner + i];
                    acc = max ? Math.max(acc, v) : acc + v;
                }
                r[o * inner + i] = acc;
            }
        return r;
    }

    @Test
    void everyAxisOfAwkwardShapes() {
        long seed = 80;
        for (int[] s : SHAPES)
            for (DType t : new DType[]{DType.F64, DType.F32}) {
                Tensor x = Tensor.randn(Rng.seeded(seed++), t, s);
                double[] xd = x.toDoubleArray();
                // sums accumulate in double: the two orders differ by <= n * 1.1e-16 * sum|x| (n <= 20011,
                // sum|x| <= 2e4) ~ 5e-8; F32 results are additionally rounded to float (rel 6e-8)
                double atol = t == DType.F64 ? 1e-8 : 1e-4, rtol = t == DType.F64 ? 1e-12 : 1e-6;
                for (int a = 0; a < s.length; a++) {
                    String what = java.util.Arrays.toString(s) + " axis " + a + " " + t;
                    assertClose(x.sum(a, false), naive(xd, s, a, false), atol, rtol);
                    double[] mean = naive(xd, s, a, false);
                    for (int i = 0; i < mean.length; i++) mean[i] /= s[a];
                    assertClose(x.mean(a, true).toDoubleArray(), mean, atol, rtol, "mean " + what);
                    assertClose(x.max(a, false).toDoubleArray(), naive(xd, s, a, true), 0, 0, "max " + what);
                }
                double total = 0;
                for (double v : xd) total += v;
                assertEquals(total, x.sum().item(), atol + rtol * Math.abs(total), "sum " + java.util.Arrays.toString(s));
            }
    }

    @Test
    void fullSumIsTheSameWithOneAndManyThreads() {
        Tensor x = Tensor.rand(Rng.seeded(90), DType.F32, 1_000_003);
        double one = CpuContext.withThreads(1).call(() -> x.sum().item());
        for (int n : new int[]{2, 3, 8})
            assertEquals(one, CpuContext.withThreads(n).call(() -> x.sum().item()), 0.0, n + " threads");
    }
}
