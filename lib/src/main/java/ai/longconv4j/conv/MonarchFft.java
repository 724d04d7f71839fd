// Shape legend: N complex FFT size = N1*N2 (*N3 ...), f block size of a level, m = N / (f at top) sub-size.
package ai.longconv4j.conv;

import ai.longconv4j.backend.cpu.MatmulKernels;

/**
 * FlashButterfly's FFT: a complex DFT of power-of-two size N computed as dense DFT-block products.
 * <p>Two factors, {@code N = N1*N2}: {@code A[n1,n2] = x[N2*n1 + n2]}; {@code B = F_N1 @ A};
 * {@code B *= T} with {@code T[k1,n2] = w_N^(k1*n2)}, {@code w_N = exp(-2 pi i / N)}; {@code C = B @ F_N2};
 * then {@code C[k1,k2] = X[k1 + N1*k2]}. More factors recurse on the row transform: each row of length
 * N2 is itself a Monarch FFT (with its own inner twiddle {@code w_N2^(k2*n3)}). The output stays in this
 * permuted (k1, k2, ...) order: position p holds {@code X[permutation()[p]]}. The convolution never
 * undoes it; {@link #inverse} takes the permuted order and applies the conjugate factors in reverse
 * ({@code C @ conj(F_N2)}, {@code * conj(T)}, {@code conj(F_N1) @}) with 1/N folded into the top twiddles.
 * <p>Arrays are planar: {@code re[p], im[p]}, p in [0, N); transforms work in place and need a scratch
 * {@link #newWork()} of 2N doubles (one per thread). F32 rounds blocks, twiddles and each stage's output to float.
 * Block products are real GEMMs through netlib BLAS (four per complex product). With four factors (N > 2^15,
 * {@link ConvPlan#passes()} = 3) the top level is the three-pass scheme: one outer butterfly
 * {@code (F_N1 @ A) * T} over the whole array, N1 independent inner 3-factor FFTs of N/N1 points (each one
 * cache-sized row), and on the way back the inverse outer butterfly.
 * <pre>{@code
 * jshell> var fft = new MonarchFft(1 << 12, Precision.F64)
 * jshell> fft
 * $2 ==> MonarchFft[N=4096 = 16 x 16 x 16, F64]
 * }</pre>
 */
public final class MonarchFft {
    private final int n;
    private final int[] factors;
    private final int[] sub;                 // sub[i] = product of factors after level i
    private final Precision precision;
    private final double[][] fRe, fIm;       // level i: f x f DFT block, F[k*f + j] = w_f^(k*j)
    private final double[][] tRe, tIm;       // level i < last: f x m twiddles, T[k1*m + n2] = w_(f*m)^(k1*n2)
    private final double[] tInvRe, tInvIm;   // top level: conj(T) / N
    private final int[] perm;

    /** Monarch FFT of size N with the factorization from {@link ConvPlan#monarchFactors(int)}. */
    public MonarchFft(int n, Precision precision) { this(ConvPlan.monarchFactors(n), precision); }

    /** Monarch FFT with explicit factors (each a power of two >= 2, at least two of them). */
    public MonarchFft(int[] factors, Precision precision) {
        if (factors.length < 2) {
            throw new IllegalArgumentException("MonarchFft: needs at least 2 factors, got " + ConvShape.str(factors));
        }
        long prod = 1;
        for (int f : factors) {
            if (f < 2 || Integer.bitCount(f) != 1) {
                throw new IllegalArgumentException("MonarchFft: factors must be powers of two >= 2, got " + ConvShape.str(factors));
            }
            prod *= f;
        }
        if (prod > 1 << 26) throw new IllegalArgumentException("MonarchFft: N = " + prod + " exceeds 2^26");
        this.n = (int) prod;
        this.factors = factors.clone();
        this.precision = precision;
        int levels = factors.length;
        sub = new int[levels];
        for (int i = levels - 1, p = 1; i >= 0; i--) {
            sub[i] = p;
            p *= factors[i];
        }
        fRe = new double[levels][];
        fIm = new double[levels][];
        tRe = new double[levels][];
        tIm = new double[levels][];
        for (int i = 0; i < levels; i++) {
            int f = factors[i], m = sub[i];
            fRe[i] = new double[f * f];
            fIm[i] = new double[f * f];
            for (int k = 0; k < f; k++) {
                for (int j = 0; j < f; j++) {
                    fRe[i][k * f + j] = r(cosTurn((long) k * j, f));
                    fIm[i][k * f + j] = r(-sinTurn((long) k * j, f));
                }
            }
            if (m > 1) {
                tRe[i] = new double[f * m];
                tIm[i] = new double[f * m];
                for (int k = 0; k < f; k++) {
                    for (int j = 0; j < m; j++) {
                        tRe[i][k * m + j] = r(cosTurn((long) k * j, f * m));
                        tIm[i][k * m + j] = r(-sinTurn((long) k * j, f * m));
                    }
                }
            }
        }
        int f0 = factors[0], m0 = sub[0];
        tInvRe = new double[f0 * m0];
        tInvIm = new double[f0 * m0];
        for (int k = 0; k < f0; k++) {
            for (int j = 0; j < m0; j++) {
                tInvRe[k * m0 + j] = r(cosTurn((long) k * j, n) / n);
                tInvIm[k * m0 + j] = r(sinTurn((long) k * j, n) / n);
            }
        }
        perm = permutationOf(0);
    }

    /** cos(2 pi e / q) with e reduced mod q first (exact argument reduction). */
    static double cosTurn(long e, int q) { return Math.cos(2 * Math.PI * (e % q) / q); }

    static double sinTurn(long e, int q) { return Math.sin(2 * Math.PI * (e % q) / q); }

    private double r(double v) { return precision == Precision.F32 ? (float) v : v; }

    private int[] permutationOf(int level) {
        int f = factors[level], m = sub[level];
        int[] out = new int[f * m];
        if (m == 1) {
            for (int k = 0; k < f; k++) out[k] = k;
            return out;
        }
        int[] inner = permutationOf(level + 1);
        for (int k1 = 0; k1 < f; k1++) for (int q = 0; q < m; q++) out[k1 * m + q] = k1 + f * inner[q];
        return out;
    }

    public int size() { return n; }
    public int[] factors() { return factors.clone(); }
    public Precision precision() { return precision; }

    /** Position p of the output holds frequency {@code permutation()[p]}. */
    public int[] permutation() { return perm.clone(); }

    /** Scratch for one thread: {@code double[2][N]}. */
    public double[][] newWork() { return new double[][] {new double[n], new double[n]}; }

    /** In place: natural-order x -> permuted X (unscaled). */
    public void forward(double[] re, double[] im, double[][] work) { fwd(re, im, 0, 0, work[0], work[1]); }

    /** In place: permuted X -> natural-order x, scaled by 1/N. */
    public void inverse(double[] re, double[] im, double[][] work) { inv(re, im, 0, 0, work[0], work[1]); }

    /** Convenience for tests and interop: natural-order interleaved complex in, natural-order interleaved out. */
    public double[] transform(double[] interleaved) {
        if (interleaved.length != 2 * n) {
            throw new IllegalArgumentException("MonarchFft.transform: expected 2N = " + 2 * n + " doubles, got " + interleaved.length);
        }
        double[] re = new double[n], im = new double[n];
        for (int i = 0; i < n; i++) {
            re[i] = r(interleaved[2 * i]);
            im[i] = r(interleaved[2 * i + 1]);
        }
        forward(re, im, newWork());
        double[] out = new double[2 * n];
        for (int p = 0; p < n; p++) {
            out[2 * perm[p]] = re[p];
            out[2 * perm[p] + 1] = im[p];
        }
        return out;
    }

    /**
     * Fused three-pass convolution of one complex row with a spectrum kept in this plan's permuted order:
     * {@code x <- IFFT(FFT(x) * K)}, in place. Pass 1: the outer butterfly {@code (F_N1 @ A) * T} over the
     * whole row; pass 2: for each of the N1 rows of N/N1 points, the inner FFT, the product with its slice of
     * K, the inner inverse (the row never leaves cache); pass 3: the inverse outer butterfly, 1/N folded into
     * its twiddles. K: {@code kRe[kOff + p], kIm[kOff + p]}, p in [0, N), as {@link #forward} leaves a spectrum.
     */
    public void convolve(double[] re, double[] im, double[] kRe, double[] kIm, int kOff, double[][] work) {
        double[] wr = work[0], wi = work[1];
        int f = factors[0], m = sub[0];
        outerForward(re, im, 0, 0, wr, wi);
        for (int row = 0; row < f; row++) {
            int o = row * m;
            innerForward(re, im, o, 1, 1, wr, wi);
            for (int i = o; i < o + m; i++) {
                double a = re[i], b = im[i], c = kRe[kOff + i], d = kIm[kOff + i];
                re[i] = r(a * c - b * d);
                im[i] = r(a * d + b * c);
            }
            innerInverse(re, im, o, 1, 1, wr, wi);
        }
        outerInverse(re, im, 0, 0, wr, wi);
    }

    private void fwd(double[] re, double[] im, int off, int level, double[] wr, double[] wi) {
        outerForward(re, im, off, level, wr, wi);
        innerForward(re, im, off, level + 1, factors[level], wr, wi);
    }

    private void inv(double[] re, double[] im, int off, int level, double[] wr, double[] wi) {
        innerInverse(re, im, off, level + 1, factors[level], wr, wi);
        outerInverse(re, im, off, level, wr, wi);
    }

    /** Column DFT and twiddles of one level: {@code (F_f @ A) * T} on the f x m block at off. */
    private void outerForward(double[] re, double[] im, int off, int level, double[] wr, double[] wi) {
        int len = factors[level] * sub[level];
        colDft(level, false, re, im, off, wr, wi);
        double[] tr = tRe[level], ti = tIm[level];
        for (int i = 0; i < len; i++) {
            double a = wr[i], b = wi[i];
            re[off + i] = r(a * tr[i] - b * ti[i]);
            im[off + i] = r(a * ti[i] + b * tr[i]);
        }
    }

    /** Forward transforms of {@code rows} consecutive rows of {@code factors[level] * sub[level]} points at off. */
    private void innerForward(double[] re, double[] im, int off, int level, int rows, double[] wr, double[] wi) {
        if (level + 1 == factors.length) {
            rowDft(level, false, re, im, off, rows, wr, wi);
        } else {
            int m = factors[level] * sub[level];
            for (int row = 0; row < rows; row++) fwd(re, im, off + row * m, level, wr, wi);
        }
    }

    private void innerInverse(double[] re, double[] im, int off, int level, int rows, double[] wr, double[] wi) {
        if (level + 1 == factors.length) {
            rowDft(level, true, re, im, off, rows, wr, wi);
        } else {
            int m = factors[level] * sub[level];
            for (int row = 0; row < rows; row++) inv(re, im, off + row * m, level, wr, wi);
        }
    }

    /** Conjugate twiddles (top level: conj(T)/N) and the conjugate column DFT of one level. */
    private void outerInverse(double[] re, double[] im, int off, int level, double[] wr, double[] wi) {
        int len = factors[level] * sub[level];
        boolean top = level == 0;
        double[] tr = top ? tInvRe : tRe[level], ti = top ? tInvIm : tIm[level];
        double sign = top ? 1 : -1;   // inner levels: conj(T) on the fly
        for (int i = 0; i < len; i++) {
            double a = re[off + i], b = im[off + i], c = tr[i], s = sign * ti[i];
            re[off + i] = r(a * c - b * s);
            im[off + i] = r(a * s + b * c);
        }
        colDft(level, true, re, im, off, wr, wi);
        System.arraycopy(wr, 0, re, off, len);
        System.arraycopy(wi, 0, im, off, len);
    }

    /** w[k1, :] = sum_j F[k1, j] x[j, :] over the f x m block at off (conj: conj(F)); rounded. Four real GEMMs. */
    private void colDft(int level, boolean conj, double[] re, double[] im, int off, double[] wr, double[] wi) {
        int f = factors[level], m = sub[level];
        double[] br = fRe[level], bi = fIm[level];
        double s = conj ? -1 : 1;
        gemm(f, m, f, 1, br, 0, re, off, 0, wr, 0);      // Wr = Fr X_r - s Fi X_i
        gemm(f, m, f, -s, bi, 0, im, off, 1, wr, 0);
        gemm(f, m, f, 1, br, 0, im, off, 0, wi, 0);      // Wi = Fr X_i + s Fi X_r
        gemm(f, m, f, s, bi, 0, re, off, 1, wi, 0);
        if (precision == Precision.F32) roundF32(wr, wi, f * m);
    }

    /** Each of the rows (length g = factors[level]) of the block at off: x[row, :] = x[row, :] @ F_g, in place. */
    private void rowDft(int level, boolean conj, double[] re, double[] im, int off, int rows, double[] wr, double[] wi) {
        int g = factors[level];
        double[] br = fRe[level], bi = fIm[level];
        double s = conj ? -1 : 1;
        gemm(rows, g, g, 1, re, off, br, 0, 0, wr, 0);   // Wr = X_r Fr - s X_i Fi
        gemm(rows, g, g, -s, im, off, bi, 0, 1, wr, 0);
        gemm(rows, g, g, 1, im, off, br, 0, 0, wi, 0);   // Wi = X_i Fr + s X_r Fi
        gemm(rows, g, g, s, re, off, bi, 0, 1, wi, 0);
        int len = rows * g;
        if (precision == Precision.F32) roundF32(wr, wi, len);
        System.arraycopy(wr, 0, re, off, len);
        System.arraycopy(wi, 0, im, off, len);
    }

    /** Row-major C (p x q) = alpha * A (p x r) @ B (r x q) + beta * C, through netlib BLAS (column-major: C^T = B^T A^T). */
    private static void gemm(int p, int q, int r, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c, int cOff) {
        MatmulKernels.blas().dgemm("N", "N", q, p, r, alpha, b, bOff, q, a, aOff, r, beta, c, cOff, q);
    }

    private static void roundF32(double[] wr, double[] wi, int len) {
        for (int i = 0; i < len; i++) {
            wr[i] = (float) wr[i];
            wi[i] = (float) wi[i];
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MonarchFft[N=" + n + " = ");
        for (int i = 0; i < factors.length; i++) sb.append(i == 0 ? "" : " x ").append(factors[i]);
        return sb.append(", ").append(precision).append(']').toString();
    }
}
