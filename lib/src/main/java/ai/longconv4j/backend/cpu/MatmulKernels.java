// Shape legend: C (M, N) = op(A) (M, K) . op(B) (K, N), all row-major; ld = leading dimension
// (distance between rows as stored); a transposed operand is stored as its transpose, row-major.
package ai.longconv4j.backend.cpu;

import dev.ludovic.netlib.blas.BLAS;

/**
 * Matrix products through netlib BLAS ({@code dgemm}/{@code sgemm}; column-major, so a row-major
 * {@code C = A B} is computed as the column-major {@code C^T = B^T A^T}). Large products are split
 * into row blocks of C, one BLAS call per block, over the context's threads. {@link #naive} is the
 * slow twin.
 */
public final class MatmulKernels {
    private MatmulKernels() {}

    private static final class Holder {
        /** netlib logs a WARNING for each faster implementation it cannot load (native, Vector API); those
         *  are expected here and would land in every notebook's first matmul cell, so they are kept quiet. */
        static final java.util.logging.Logger NETLIB_LOG = quiet("dev.ludovic.netlib.blas.InstanceBuilder");
        static final BLAS BLAS_INSTANCE = BLAS.getInstance();

        private static java.util.logging.Logger quiet(String name) {
            var log = java.util.logging.Logger.getLogger(name);
            log.setLevel(java.util.logging.Level.SEVERE);
            return log;   // held in a field: the level lives only as long as the logger object
        }
    }

    /** The BLAS implementation in use. */
    public static BLAS blas() { return Holder.BLAS_INSTANCE; }

    /**
     * The BLAS in use, with a hint when it is netlib's plain-Java fallback: without the Vector API
     * module ({@code --add-modules jdk.incubator.vector}) netlib picks {@code Java11BLAS}, measured ~5x slower
     * than its {@code VectorBLAS} on the LM's (8192 x 64) x (64 x 192) products (3-4 vs 15-35 GFLOP/s per core).
     */
    public static String describeBlas() {
        String name = blas().getClass().getSimpleName();
        return name.startsWith("Java")
                ? name + " (plain Java; add --add-modules jdk.incubator.vector to the java command for VectorBLAS, ~5x faster)"
                : name;
    }

    /** Products below this many multiply-adds are one BLAS call. */
    public static final long SPLIT_FLOPS = 1L << 21;
    /** Most row blocks a product is split into; blocks have at least {@link #MIN_BLOCK_ROWS} rows. */
    public static final int MAX_BLOCKS = 16, MIN_BLOCK_ROWS = 256;   // smaller blocks slow VectorBLAS down (measured)

    /**
     * Number of row blocks for an (M, K) x (K, N) product. It depends on the shape only, never on the
     * thread count: a BLAS (e.g. VectorBLAS) may round differently for different block heights, so the
     * same blocks are used with 1 or N threads and results are bit-identical.
     */
    public static int rowBlocks(int m, int n, int k) {
        if ((long) m * n * k < SPLIT_FLOPS) return 1;
        int rows = Math.max(MIN_BLOCK_ROWS, (m + MAX_BLOCKS - 1) / MAX_BLOCKS);
        return (m + rows - 1) / rows;
    }

    /** First row of block {@code blk} of {@code blocks} (blocks are ceil(m / blocks) rows, the last shorter). */
    public static int blockStart(int m, int blocks, int blk) {
        int rows = (m + blocks - 1) / blocks;
        return Math.min(m, blk * rows);
    }

    /**
     * C[cOff + i*N + j] = sum_p opA[i, p] * opB[p, j], where opA[i, p] = a[aOff + i*lda + p] (or
     * a[aOff + p*lda + i] when {@code aT}) and likewise for B. C is written, not accumulated. Large
     * products are split into {@link #rowBlocks} row blocks run over the context's threads.
     */
    public static void gemm(CpuContext ctx, int m, int n, int k,
                            CpuStorage a, int aOff, int lda, boolean aT,
                            CpuStorage b, int bOff, int ldb, boolean bT,
                            CpuStorage c, int cOff) {
        int blocks = rowBlocks(m, n, k);
        ctx.parallelFor(blocks, blocks == 1 ? 1 : Long.MAX_VALUE / 64, (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) block(m, n, k, blocks, blk, a, aOff, lda, aT, b, bOff, ldb, bT, c, cOff);
        });
    }

    /** Computes row block {@code blk} of {@code blocks} of C. */
    public static void block(int m, int n, int k, int blocks, int blk,
                             CpuStorage a, int aOff, int lda, boolean aT,
                             CpuStorage b, int bOff, int ldb, boolean bT,
                             CpuStorage c, int cOff) {
        int i0 = blockStart(m, blocks, blk), i1 = blockStart(m, blocks, blk + 1);
        if (i1 <= i0) return;
        gemmBlock(i1 - i0, n, k, a, aT ? aOff + i0 : aOff + i0 * lda, lda, aT, b, bOff, ldb, bT, c, cOff + i0 * n);
    }

    /** One BLAS call for a row-major block. */
    public static void gemmBlock(int m, int n, int k,
                                 CpuStorage a, int aOff, int lda, boolean aT,
                                 CpuStorage b, int bOff, int ldb, boolean bT,
                                 CpuStorage c, int cOff) {
        String tb = bT ? "T" : "N", ta = aT ? "T" : "N";
        if (m == 0 || n == 0) return;
        if (k == 0) {
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c.set(cOff + i * n + j, 0);
            return;
        }
        if (a.f32() != null && b.f32() != null && c.f32() != null) {
            blas().sgemm(tb, ta, n, m, k, 1f, b.f32(), bOff, ldb, a.f32(), aOff, lda, 0f, c.f32(), cOff, n);
        } else if (a.f64() != null && b.f64() != null && c.f64() != null) {
            blas().dgemm(tb, ta, n, m, k, 1.0, b.f64(), bOff, ldb, a.f64(), aOff, lda, 0.0, c.f64(), cOff, n);
        } else {
            throw new IllegalArgumentException("matmul: operands must have one dtype, got "
                    + a.dtype() + ", " + b.dtype() + " -> " + c.dtype());
        }
    }

    /** The slow twin: a plain triple loop in double, same layout contract as {@link #gemm}. */
    public static void naive(int m, int n, int k,
                             CpuStorage a, int aOff, int lda, boolean aT,
                             CpuStorage b, int bOff, int ldb, boolean bT,
                             CpuStorage c, int cOff) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double x = a.get(aOff + (aT ? p * lda + i : i * lda + p));
                    double y = b.get(bOff + (bT ? j * ldb + p : p * ldb + j));
                    s += x * y;
                }
                c.set(cOff + i * n + j, s);
            }
    }
}
