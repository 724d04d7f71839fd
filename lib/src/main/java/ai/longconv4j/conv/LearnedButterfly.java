// Shape legend: B batch, C kernel channels, H features, L length, N complex FFT size = N1*N2.
package ai.longconv4j.conv;

import org.jtransforms.fft.DoubleFFT_1D;

import java.util.Arrays;

/**
 * FlashButterfly's learned extension: the DFT blocks of a 2-factor Monarch FFT convolution become learnable,
 * initialized to the exact DFT; twiddles stay fixed. For one row (u zero-padded to N, complex with Im 0):
 * <pre>
 *   A = reshape(u, N1, N2)       B = Fa @ A      C = (B * T) @ Fb        (T[k1,n2] = w_N^(k1*n2))
 *   P = C * Kp                   (Kp: the exact FFT of the kernel taps, permuted to (k1, k2) order)
 *   E = Ga @ ((P @ Gb) * conj(T) / N)             y = Re(E)[:L] + D * u
 * </pre>
 * At init {@code Fa = F_N1, Fb = F_N2, Gb = conj(F_N2), Ga = conj(F_N1)} and y equals {@link FftConv}'s.
 * Blocks are interleaved complex arrays {@code (n, n, 2)}: {@code F[(r*n + c)*2 + 0] = Re, +1 = Im}; block
 * gradients use the same layout, {@code (dl/dRe, dl/dIm)} (the torch.view_as_real convention). Blocks are
 * held by reference: updating the arrays in place (an optimizer step) changes the next forward.
 * <pre>{@code
 * jshell> var lb = LearnedButterfly.atInit(ConvPlan.of(512, 512, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64))
 * jshell> lb.blocks().length
 * $2 ==> 4
 * }</pre>
 */
public final class LearnedButterfly implements Convolver {
    /** Block order in {@link #blocks()}: forward Fa (N1), Fb (N2), inverse Gb (N2), Ga (N1). */
    public static final int FA = 0, FB = 1, GB = 2, GA = 3;

    private final ConvPlan plan;
    private final int n, n1, n2;
    private final double[][] blocks;
    private final double[] tw, twInv;   // (N1, N2, 2): T and conj(T)/N
    private final int[] perm;           // position p = k1*N2 + k2 holds frequency k1 + N1*k2
    private final DoubleFFT_1D fft;

    /** Gradients of the convolution and of the four blocks (same layouts as {@link #blocks()}). */
    public record Grads(ConvGrads conv, double[][] dBlocks) {}

    public LearnedButterfly(ConvPlan plan, double[][] blocks) {
        if (plan.engine() != ConvEngine.LEARNED || plan.factors().size() != 2) {
            throw new IllegalArgumentException("LearnedButterfly: needs a 2-factor LEARNED plan, got " + plan);
        }
        this.plan = plan;
        this.n = plan.fftSize();
        this.n1 = plan.factors().get(0);
        this.n2 = plan.factors().get(1);
        int[] sizes = {n1, n2, n2, n1};
        if (blocks.length != 4) throw new IllegalArgumentException("LearnedButterfly: needs 4 blocks, got " + blocks.length);
        for (int i = 0; i < 4; i++) {
            if (blocks[i].length != sizes[i] * sizes[i] * 2) {
                throw new IllegalArgumentException("LearnedButterfly: block " + i + " must be (" + sizes[i] + ", " + sizes[i]
                        + ", 2) = " + sizes[i] * sizes[i] * 2 + " values, got " + blocks[i].length);
            }
            ConvShape.requireFinite("LearnedButterfly", "block " + i, blocks[i]);
        }
        this.blocks = blocks;
        tw = new double[2 * n];
        twInv = new double[2 * n];
        perm = new int[n];
        for (int k1 = 0; k1 < n1; k1++) {
            for (int j = 0; j < n2; j++) {
                int i = k1 * n2 + j;
                tw[2 * i] = MonarchFft.cosTurn((long) k1 * j, n);
                tw[2 * i + 1] = -MonarchFft.sinTurn((long) k1 * j, n);
                twInv[2 * i] = tw[2 * i] / n;
                twInv[2 * i + 1] = -tw[2 * i + 1] / n;
                perm[i] = k1 + n1 * j;
            }
        }
        fft = new DoubleFFT_1D(n);
    }

    /** Blocks at the exact DFT: the output then equals the FFT convolution. */
    public static LearnedButterfly atInit(ConvPlan plan) {
        if (plan.factors().size() != 2) throw new IllegalArgumentException("LearnedButterfly: needs a 2-factor LEARNED plan, got " + plan);
        int a = plan.factors().get(0), b = plan.factors().get(1);
        return new LearnedButterfly(plan, new double[][] {dft(a, false), dft(b, false), dft(b, true), dft(a, true)});
    }

    /** The n x n DFT block {@code w_n^(r*c)} (conj: its conjugate), interleaved (n, n, 2). */
    public static double[] dft(int n, boolean conj) {
        double[] f = new double[2 * n * n];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                f[2 * (r * n + c)] = MonarchFft.cosTurn((long) r * c, n);
                f[2 * (r * n + c) + 1] = (conj ? 1 : -1) * MonarchFft.sinTurn((long) r * c, n);
            }
        }
        return f;
    }

    @Override public ConvPlan plan() { return plan; }

    /** The live block arrays {Fa, Fb, Gb, Ga}. */
    public double[][] blocks() { return blocks; }

    /** Permuted kernel spectra, (C*H, N, 2). */
    private double[] kernelSpectra(ConvShape s, double[] k) {
        int chN = s.channels() * s.features(), lk = s.kernelLength(), sides = s.mode().sides();
        double[] out = new double[chN * 2 * n];
        double[] x = new double[2 * n];
        for (int ch = 0; ch < chN; ch++) {
            Arrays.fill(x, 0);
            int ko = ch * sides * lk;
            for (int t = 0, t0 = s.taps(0); t < t0; t++) x[2 * t] = k[ko + t];
            if (sides == 2) for (int t = 0, t1 = s.taps(1); t < t1; t++) x[2 * (n - 1 - t)] = k[ko + lk + t];
            fft.complexForward(x);
            for (int p = 0; p < n; p++) {
                out[ch * 2 * n + 2 * p] = x[2 * perm[p]];
                out[ch * 2 * n + 2 * p + 1] = x[2 * perm[p] + 1];
            }
        }
        return out;
    }

    /** Scratch and intermediates of one row. */
    private final class Row {
        final double[] a = new double[2 * n], b = new double[2 * n], b2 = new double[2 * n], c = new double[2 * n];
        final double[] p = new double[2 * n], d1 = new double[2 * n], d2 = new double[2 * n], e = new double[2 * n];

        void front(double[] u, int uo, int len) {
            Arrays.fill(a, 0);
            for (int i = 0; i < len; i++) a[2 * i] = u[uo + i];
            cmm(blocks[FA], false, a, false, b, n1, n1, n2, false);
            hmul(b, tw, b2, false, n);
            cmm(b2, false, blocks[FB], false, c, n1, n2, n2, false);
        }

        void back(double[] kp, int ko) {
            hmulAt(c, kp, ko, p);
            cmm(p, false, blocks[GB], false, d1, n1, n2, n2, false);
            hmul(d1, twInv, d2, false, n);
            cmm(blocks[GA], false, d2, false, e, n1, n1, n2, false);
        }
    }

    @Override
    public double[] forward(ConvShape s, double[] u, double[] k, double[] d) {
        checkPlan("LearnedButterfly.forward", s);
        s.checkForward("LearnedButterfly.forward", u.length, k.length, k, d == null ? -1 : d.length);
        double[] kp = kernelSpectra(s, k);
        int hN = s.features(), cN = s.channels(), l = s.length();
        double[] y = new double[s.ySize()];
        Par.forRange(s.batch() * hN, 8L * n * (n1 + n2) * (cN + 1), (from, to) -> {
            Row row = new Row();
            for (int r = from; r < to; r++) {
                int b = r / hN, h = r % hN, uo = r * l;
                row.front(u, uo, l);
                for (int c = 0; c < cN; c++) {
                    row.back(kp, (c * hN + h) * 2 * n);
                    double skip = d == null ? 0 : d[c * hN + h];
                    int yo = ((b * cN + c) * hN + h) * l;
                    for (int i = 0; i < l; i++) y[yo + i] = round(row.e[2 * i] + skip * u[uo + i]);
                }
            }
        });
        return y;
    }

    private double round(double v) { return plan.precision() == Precision.F32 ? (float) v : v; }

    @Override
    public ConvGrads backward(ConvShape s, double[] u, double[] k, double[] d, double[] dy) {
        return backwardAll(s, u, k, d, dy).conv();
    }

    /** Gradients of {@code sum(y * dy)} w.r.t. u, k, D and the four blocks. */
    public Grads backwardAll(ConvShape s, double[] u, double[] k, double[] d, double[] dy) {
        String op = "LearnedButterfly.backward";
        checkPlan(op, s);
        s.checkForward(op, u.length, k.length, k, d == null ? -1 : d.length);
        s.checkGrad(op, dy.length);
        double[] kp = kernelSpectra(s, k);
        int bN = s.batch(), hN = s.features(), cN = s.channels(), l = s.length();
        double[] du = new double[s.uSize()], dk = new double[s.kSize()], dD = new double[s.dSize()];
        double[][] dBlocks = {new double[blocks[0].length], new double[blocks[1].length], new double[blocks[2].length], new double[blocks[3].length]};
        Par.forRange(hN, 16L * n * (n1 + n2) * bN * (cN + 1), (from, to) -> {
            Row row = new Row();
            double[][] gb = {new double[blocks[0].length], new double[blocks[1].length], new double[blocks[2].length], new double[blocks[3].length]};
            double[] gE = new double[2 * n], gD2 = new double[2 * n], gD1 = new double[2 * n], gP = new double[2 * n];
            double[] gC = new double[2 * n], gB2 = new double[2 * n], gB = new double[2 * n], gA = new double[2 * n], tmp = new double[2 * n];
            double[] gK = new double[cN * 2 * n];
            for (int h = from; h < to; h++) {
                Arrays.fill(gK, 0);
                for (int b = 0; b < bN; b++) {
                    int uo = (b * hN + h) * l;
                    row.front(u, uo, l);
                    Arrays.fill(gC, 0);
                    for (int c = 0; c < cN; c++) {
                        int ko = (c * hN + h) * 2 * n, yo = ((b * cN + c) * hN + h) * l;
                        row.back(kp, ko);
                        Arrays.fill(gE, 0);
                        for (int i = 0; i < l; i++) gE[2 * i] = dy[yo + i];
                        cmm(gE, false, row.d2, true, gb[GA], n1, n2, n1, true);   // dGa += gE @ D2^H
                        cmm(blocks[GA], true, gE, false, gD2, n1, n1, n2, false);  // gD2 = Ga^H @ gE
                        hmul(gD2, twInv, gD1, true, n);                            // gD1 = gD2 * conj(conj(T)/N)
                        cmm(row.p, true, gD1, false, gb[GB], n2, n1, n2, true);   // dGb += P^H @ gD1
                        cmm(gD1, false, blocks[GB], true, gP, n1, n2, n2, false);  // gP = gD1 @ Gb^H
                        hmulAcc(gP, row.c, 0, gK, c * 2 * n);                      // dKp += gP * conj(C)
                        hmulAcc(gP, kp, ko, gC, 0);                                // gC += gP * conj(Kp)
                        double dot = 0, skip = d == null ? 0 : d[c * hN + h];
                        for (int i = 0; i < l; i++) {
                            dot += dy[yo + i] * u[uo + i];
                            du[uo + i] += skip * dy[yo + i];
                        }
                        if (d != null) dD[c * hN + h] += dot;
                    }
                    cmm(row.b2, true, gC, false, gb[FB], n2, n1, n2, true);       // dFb += B2^H @ gC
                    cmm(gC, false, blocks[FB], true, gB2, n1, n2, n2, false);      // gB2 = gC @ Fb^H
                    hmul(gB2, tw, gB, true, n);                                    // gB = gB2 * conj(T)
                    cmm(gB, false, row.a, true, gb[FA], n1, n2, n1, true);        // dFa += gB @ A^H
                    cmm(blocks[FA], true, gB, false, gA, n1, n1, n2, false);       // gA = Fa^H @ gB
                    for (int i = 0; i < l; i++) du[uo + i] = round(du[uo + i] + gA[2 * i]);
                }
                for (int c = 0; c < cN; c++) {
                    // dk_full[t] = Re(sum_k g_k w_N^(-k t)) with g in natural order (chain rule through the exact FFT).
                    Arrays.fill(tmp, 0);
                    for (int p = 0; p < n; p++) {
                        tmp[2 * perm[p]] = gK[c * 2 * n + 2 * p];
                        tmp[2 * perm[p] + 1] = gK[c * 2 * n + 2 * p + 1];
                    }
                    fft.complexInverse(tmp, false);
                    int ko = (c * hN + h) * s.mode().sides() * s.kernelLength();
                    for (int t = 0, t0 = s.taps(0); t < t0; t++) dk[ko + t] = tmp[2 * t];
                    if (s.mode().sides() == 2) {
                        for (int t = 0, t1 = s.taps(1); t < t1; t++) dk[ko + s.kernelLength() + t] = tmp[2 * (n - 1 - t)];
                    }
                }
            }
            synchronized (dBlocks) {
                for (int i = 0; i < 4; i++) for (int j = 0; j < gb[i].length; j++) dBlocks[i][j] += gb[i][j];
            }
        });
        return new Grads(new ConvGrads(du, dk, dD), dBlocks);
    }

    /** Z (m x q) (+)= op(X) @ op(Y), op(X) m x kk, op(Y) kk x q; xH/yH: conjugate transpose of the stored matrix. */
    static void cmm(double[] x, boolean xH, double[] y, boolean yH, double[] z, int m, int kk, int q, boolean acc) {
        if (!acc) Arrays.fill(z, 0, 2 * m * q, 0);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < kk; j++) {
                int xi = xH ? 2 * (j * m + i) : 2 * (i * kk + j);
                double ar = x[xi], ai = xH ? -x[xi + 1] : x[xi + 1];
                if (ar == 0 && ai == 0) continue;
                for (int c = 0; c < q; c++) {
                    int yi = yH ? 2 * (c * kk + j) : 2 * (j * q + c);
                    double br = y[yi], bi = yH ? -y[yi + 1] : y[yi + 1];
                    z[2 * (i * q + c)] += ar * br - ai * bi;
                    z[2 * (i * q + c) + 1] += ar * bi + ai * br;
                }
            }
        }
    }

    /** z = x * (conjW ? conj(w) : w), elementwise over the first {@code count} complex values. */
    static void hmul(double[] x, double[] w, double[] z, boolean conjW, int count) {
        double s = conjW ? -1 : 1;
        for (int i = 0; i < count; i++) {
            double ar = x[2 * i], ai = x[2 * i + 1], br = w[2 * i], bi = s * w[2 * i + 1];
            z[2 * i] = ar * br - ai * bi;
            z[2 * i + 1] = ar * bi + ai * br;
        }
    }

    /** z = x * w[wo ..]. */
    private void hmulAt(double[] x, double[] w, int wo, double[] z) {
        for (int i = 0; i < n; i++) {
            double ar = x[2 * i], ai = x[2 * i + 1], br = w[wo + 2 * i], bi = w[wo + 2 * i + 1];
            z[2 * i] = ar * br - ai * bi;
            z[2 * i + 1] = ar * bi + ai * br;
        }
    }

    /** z[zo ..] += g * conj(w[wo ..]). */
    private void hmulAcc(double[] g, double[] w, int wo, double[] z, int zo) {
        for (int i = 0; i < n; i++) {
            double ar = g[2 * i], ai = g[2 * i + 1], br = w[wo + 2 * i], bi = -w[wo + 2 * i + 1];
            z[zo + 2 * i] += ar * br - ai * bi;
            z[zo + 2 * i + 1] += ar * bi + ai * br;
        }
    }
}
