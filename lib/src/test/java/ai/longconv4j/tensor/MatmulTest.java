// Shape legend: (..., M, K) x (..., K, N) -> (..., M, N); awkward sizes (1, primes) on purpose.
package ai.longconv4j.tensor;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.backend.cpu.MatmulKernels;
import org.junit.jupiter.api.Test;

import static ai.longconv4j.testing.Assertions2.assertClose;

/** BLAS-backed matmul against the naive triple loop (the slow twin). */
class MatmulTest {

    /** Reference: naive triple loop over the broadcast batch, on contiguous F64 copies. */
    static Tensor naive(Tensor a, Tensor b) {
        int[] as = a.shape(), bs = b.shape();
        int m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
        int[] batch = Shapes.broadcast("naive", java.util.Arrays.copyOf(as, as.length - 2), java.util.Arrays.copyOf(bs, bs.length - 2));
        int[] outShape = java.util.Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        int[] aFull = java.util.Arrays.copyOf(batch, batch.length + 2), bFull = aFull.clone();
        aFull[batch.length] = m; aFull[batch.length + 1] = k;
        bFull[batch.length] = k; bFull[batch.length + 1] = n;
        double[] ad = a.to(DType.F64).expand(aFull).toDoubleArray(), bd = b.to(DType.F64).expand(bFull).toDoubleArray();
        double[] out = new double[Shapes.numel(outShape)];
        int nb = Shapes.numel(batch);
        for (int i = 0; i < nb; i++)
            MatmulKernels.naive(m, n, k, CpuStorage.of(ad), i * m * k, k, false, CpuStorage.of(bd), i * k * n, n, false,
                    CpuStorage.of(out), i * m * n);
        return Tensor.of(out, outShape);
    }

    private static Tensor r(long seed, DType t, int... shape) { return Tensor.randn(Rng.seeded(seed), t, shape); }

    // F64: BLAS and the loop sum K products in different orders; error <= K * eps64 * sum|a||b| ~ 1e-13
    private static final double ATOL64 = 1e-12, RTOL64 = 1e-12;
    // F32: accumulation in float, K <= 300 terms of size ~1: error ~ sqrt(K) * 6e-8 * sqrt(K) ~ 2e-5
    private static final double ATOL32 = 1e-4, RTOL32 = 1e-4;

    @Test
    void awkwardSizes2d() {
        int[][] mkn = {{1, 1, 1}, {1, 7, 1}, {7, 1, 5}, {13, 17, 11}, {64, 3, 2}, {31, 64, 29}};
        long seed = 100;
        for (int[] s : mkn) {
            for (DType t : new DType[]{DType.F64, DType.F32}) {
                Tensor a = r(seed++, t, s[0], s[1]), b = r(seed++, t, s[1], s[2]);
                double atol = t == DType.F64 ? ATOL64 : ATOL32, rtol = t == DType.F64 ? RTOL64 : RTOL32;
                assertClose(a.matmul(b), naive(a, b), atol, rtol, "matmul " + java.util.Arrays.toString(s) + " " + t);
            }
        }
    }

    @Test
    void batchedAndBroadcast() {
        Tensor a = r(1, DType.F64, 3, 5, 4), b = r(2, DType.F64, 3, 4, 6), b2 = r(3, DType.F64, 4, 6), c = r(4, DType.F64, 2, 1, 5, 4);
        assertClose(a.matmul(b), naive(a, b), ATOL64, RTOL64, "batched");
        assertClose(a.matmul(b2), naive(a, b2), ATOL64, RTOL64, "broadcast rhs");
        assertClose(b2.transpose(0, 1).matmul(b), naive(b2.transpose(0, 1), b), ATOL64, RTOL64, "broadcast lhs");
        assertClose(c.matmul(b), naive(c, b), ATOL64, RTOL64, "broadcast 4d x 3d");
    }

    @Test
    void transposedAndSlicedViews() {
        Tensor a = r(5, DType.F32, 9, 7), b = r(6, DType.F32, 5, 9);
        assertClose(a.transpose(0, 1).matmul(b.transpose(0, 1)), naive(a.transpose(0, 1), b.transpose(0, 1)), ATOL32, RTOL32, "both transposed");
        Tensor big = r(7, DType.F64, 10, 12);
        Tensor sub = big.slice(0, 2, 8).slice(1, 3, 10);      // row-major with ld 12
        Tensor rhs = big.slice(1, 1, 7).transpose(0, 1);      // transposed view with ld 12
        assertClose(sub.matmul(big.slice(0, 0, 7)), naive(sub, big.slice(0, 0, 7)), ATOL64, RTOL64, "sliced lhs");
        assertClose(rhs.matmul(big.slice(1, 0, 5)), naive(rhs, big.slice(1, 0, 5)), ATOL64, RTOL64, "transposed sliced");
        Tensor perm = r(8, DType.F64, 4, 3, 5).permute(1, 0, 2);   // batch stride not outermost
        assertClose(perm.matmul(r(9, DType.F64, 5, 2)), naive(perm, r(9, DType.F64, 5, 2)), ATOL64, RTOL64, "permuted batch");
    }

    @Test
    void parallelRowBlocksMatchSingleThread() {
        // 300 x 200 x 100 = 6e6 multiply-adds: large enough to be split into row blocks
        Tensor a = r(10, DType.F32, 300, 200), b = r(11, DType.F32, 200, 100);
        Tensor one = CpuContext.withThreads(1).call(() -> a.matmul(b));
        Tensor two = CpuContext.withThreads(2).call(() -> a.matmul(b));
        // the same row blocks with 1 and 2 threads; VectorBLAS may still round differently before and after
        // its Vector API code is JIT-compiled, by a few ulps of |C| <= ~50 (K = 200): atol 1e-4
        assertClose(two, one, 1e-4, 1e-5, "1 vs 2 threads");
        assertClose(one, naive(a, b), ATOL32, RTOL32, "vs naive");
    }

    @Test
    void blasDescriptionNamesTheImplementationAndHintsOnlyForPlainJava() {
        String name = MatmulKernels.blas().getClass().getSimpleName();
        String d = MatmulKernels.describeBlas();
        org.junit.jupiter.api.Assertions.assertTrue(d.startsWith(name), d);
        org.junit.jupiter.api.Assertions.assertEquals(name.startsWith("Java"), d.contains("jdk.incubator.vector"), d);
    }
}
