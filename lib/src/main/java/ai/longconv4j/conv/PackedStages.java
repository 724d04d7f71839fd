// Shape legend: M complex points of one packed row = R_1 * .. * R_J (row-major tensor X[n_1]..[n_J]); stage s (0-based
// here) has extent R = R_s, pre = R_1 * .. * R_(s-1) leading points and post = S_s = R_(s+1) * .. * R_J trailing points;
// all complex arrays interleaved (re, im).
package ai.longconv4j.conv;

/**
 * The J-stage tensor helpers of {@link PackedLearnedButterfly} (package-private): the geometry of a factorization
 * M = R_1 x .. x R_J (per stage its extent, leading and trailing sizes, its twiddle T_s[k][c] = w_(M_s)^(k c)), the
 * frequency each row-major position holds ({@code k = k_1 + R_1 (k_2 + R_2 (..))}) and the partner position s(p), and
 * three kernels on an M-point row: a block applied along one axis ({@link #along}), the Gram of a block's output
 * gradient with its input ({@link #gram}) and an elementwise product with a twiddle table repeated over the leading
 * axes ({@link #twiddle}). Stage 1 multiplies on the LEFT ({@code Y[k][..] = sum_n F[k][n] X[n][..]}), stages 2.. on
 * the RIGHT ({@code Y[..][k][..] = sum_n X[..][n][..] F[n][k]}) (s14-jspec; J = 2: {@code B = Fa @ A}, {@code C = B2 @ Fb}).
 */
final class PackedStages {
    final int m, j;
    final int[] r, pre, post;
    /** Per stage s: T_s as (R_s, S_s) complex (null for the last stage, T_J = 1). */
    final double[][] tw;
    /** Per position p: the frequency it holds, and s(p), the position holding (M - k) mod M. */
    final int[] freq, part;

    PackedStages(int[] factors) {
        j = factors.length;
        r = factors.clone();
        pre = new int[j];
        post = new int[j];
        int mm = 1;
        for (int f : r) mm *= f;
        m = mm;
        int p = 1;
        for (int s = 0; s < j; s++) {
            pre[s] = p;
            p *= r[s];
            post[s] = m / p;
        }
        tw = new double[j][];
        for (int s = 0; s < j - 1; s++) {
            int ms = r[s] * post[s];
            double[] t = new double[2 * ms];
            for (int k = 0; k < r[s]; k++) {
                for (int c = 0; c < post[s]; c++) {
                    int i = k * post[s] + c;
                    t[2 * i] = MonarchFft.cosTurn((long) k * c, ms);
                    t[2 * i + 1] = -MonarchFft.sinTurn((long) k * c, ms);
                }
            }
            tw[s] = t;
        }
        freq = new int[m];
        int[] posOf = new int[m];
        for (int q = 0; q < m; q++) {
            // digits of q row-major: k_1 is the most significant; frequency k_1 + R_1 (k_2 + R_2 (..))
            int rest = q, k = 0;
            for (int s = j - 1; s >= 0; s--) {
                int digit = rest % r[s];
                rest /= r[s];
                k = digit + r[s] * k;
            }
            freq[q] = k;
            posOf[k] = q;
        }
        part = new int[m];
        for (int q = 0; q < m; q++) part[q] = posOf[(m - freq[q]) % m];
    }

    /** 2J block sizes in block order {F_1 .. F_J, G_J .. G_1}. */
    int[] blockSizes() {
        int[] b = new int[2 * j];
        for (int s = 0; s < j; s++) {
            b[s] = r[s];
            b[2 * j - 1 - s] = r[s];
        }
        return b;
    }

    /**
     * y = block f applied along axis s of x: {@code y[a][i][c] = sum_n A[i][n] x[a][n][c]} with A = f (stage 0, left),
     * f^T (stages >= 1, right); {@code adjoint}: A^H instead (the adjoint of that map). y is overwritten.
     */
    void along(int s, double[] f, boolean adjoint, double[] x, double[] y) {
        int rr = r[s], pp = pre[s], qq = post[s];
        // element (i, n) of the applied matrix sits at f[i][n] or f[n][i]: transposed for right stages, flipped by the adjoint
        boolean transposed = (s > 0) != adjoint;
        double sign = adjoint ? -1 : 1;
        for (int a = 0; a < pp; a++) {
            int base = a * rr * qq;
            for (int i = 0; i < rr; i++) {
                int yo = 2 * (base + i * qq);
                java.util.Arrays.fill(y, yo, yo + 2 * qq, 0);
                for (int n = 0; n < rr; n++) {
                    int fi = 2 * (transposed ? n * rr + i : i * rr + n);
                    double ar = f[fi], ai = sign * f[fi + 1];
                    if (ar == 0 && ai == 0) continue;
                    int xo = 2 * (base + n * qq);
                    for (int c = 0; c < 2 * qq; c += 2) {
                        double br = x[xo + c], bi = x[xo + c + 1];
                        y[yo + c] += ar * br - ai * bi;
                        y[yo + c + 1] += ar * bi + ai * br;
                    }
                }
            }
        }
    }

    /**
     * df += the gradient (dl/dRe, dl/dIm) of block f of stage s from its input x and output gradient gy:
     * {@code G[i][n] = sum_(a, c) gy[a][i][c] conj(x[a][n][c])}, stored at f[i][n] (left stage) or f[n][i] (right).
     */
    void gram(int s, double[] gy, double[] x, double[] df) {
        int rr = r[s], pp = pre[s], qq = post[s];
        for (int a = 0; a < pp; a++) {
            int base = a * rr * qq;
            for (int i = 0; i < rr; i++) {
                int go = 2 * (base + i * qq);
                for (int n = 0; n < rr; n++) {
                    int xo = 2 * (base + n * qq);
                    double sr = 0, si = 0;
                    for (int c = 0; c < 2 * qq; c += 2) {
                        double gr = gy[go + c], gi = gy[go + c + 1], xr = x[xo + c], xi = x[xo + c + 1];
                        sr += gr * xr + gi * xi;
                        si += gi * xr - gr * xi;
                    }
                    int fi = 2 * (s == 0 ? i * rr + n : n * rr + i);
                    df[fi] += sr;
                    df[fi + 1] += si;
                }
            }
        }
    }

    /** z = x o (T_s or conj(T_s)) * scale, T_s repeated over the leading axes (the last stage: z = x * scale). */
    void twiddle(int s, double[] x, boolean conj, double scale, double[] z) {
        double[] t = tw[s];
        if (t == null) {
            for (int i = 0; i < 2 * m; i++) z[i] = x[i] * scale;
            return;
        }
        int ms = t.length / 2;
        double sg = conj ? -1 : 1;
        for (int a = 0; a < m; a += ms) {
            for (int i = 0; i < ms; i++) {
                int o = 2 * (a + i);
                double ar = x[o], ai = x[o + 1], br = t[2 * i] * scale, bi = sg * t[2 * i + 1] * scale;
                z[o] = ar * br - ai * bi;
                z[o + 1] = ar * bi + ai * br;
            }
        }
    }
}
