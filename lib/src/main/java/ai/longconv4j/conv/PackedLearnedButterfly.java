// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size,
// M = N/2 = N1*N2 complex points of the packed transform, p = k1*N2 + k2 a position holding frequency k = k1 + N1*k2.
package ai.longconv4j.conv;

import org.jtransforms.fft.DoubleFFT_1D;

import java.util.Arrays;

/**
 * The packed learned butterfly ({@link ConvEngine#LEARNED_PACKED}): FlashButterfly's real-input packing, one real row
 * of N points as a complex row of M = N/2 points, with learnable DFT blocks of the 2-factor M-point transform; the
 * packing's split/merge twiddles stay fixed and fuse with the kernel spectrum into one per-frequency pair map. Half the
 * transform size per row of {@link LearnedButterfly}. For one row (u zero-padded to N as {@link SpectralConv} pads it):
 * <pre>
 *   A = reshape(u[0::2] + i u[1::2], N1, N2)   B = Fa @ A    C = (B * T) @ Fb          (T[k1,n2] = w_M^(k1*n2))
 *   C'[k] = P_k C[k] + Q_k conj(C[(M - k) mod M])                                    (the pair map, per kernel row)
 *   E = Ga @ ((C' @ Gb) * conj(T) / M)          y[2m] = Re E[m], y[2m+1] = Im E[m]  (m read row-major; + D u, [:L])
 * </pre>
 * With K = DFT_N(k_pad) (exact, fp64), {@code a_j = (1 - i w_N^j)/2, b_j = (1 + i w_N^j)/2, c_k = (1 + i w_N^-k)/2,
 * d_k = (1 - i w_N^-k)/2}: {@code P_k = c_k K[k] a_k + d_k conj(K[M-k]) conj(b_(M-k))},
 * {@code Q_k = c_k K[k] b_k + d_k conj(K[M-k]) conj(a_(M-k))} (the real FFT's split, the product with K and the merge
 * of the inverse in one linear map). At init {@code Fa = F_N1, Fb = F_N2, Gb = conj(F_N2), Ga = conj(F_N1)} and y
 * equals {@link FftConv}'s. Causal only at init (as LEARNED). Blocks, their order ({@link #FA} .. {@link #GA}), their
 * interleaved {@code (n, n, 2)} layout, the gradient convention {@code (dl/dRe, dl/dIm)} and holding by reference are
 * {@link LearnedButterfly}'s. F32 plans compute in fp64 and round y (and du) to float values, as LearnedButterfly.
 * <pre>{@code
 * jshell> var pk = PackedLearnedButterfly.atInit(ConvPlan.of(512, 512, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64))
 * jshell> pk.plan()
 * $2 ==> ConvPlan[L=512 Lk=512 CAUSAL engine=LEARNED_PACKED N=1024 (real via complex 512 = 16 x 32, learned blocks) F64]
 * jshell> PackedLearnedButterfly.pairCoefficients(pk.plan(), new double[1024]).length
 * $3 ==> 2048
 * }</pre>
 */
public final class PackedLearnedButterfly implements Convolver {
    /** Block order in {@link #blocks()}: forward Fa (N1), Fb (N2), inverse Gb (N2), Ga (N1). */
    public static final int FA = 0, FB = 1, GB = 2, GA = 3;
    private static final String[] NAMES = {"Fa", "Fb", "Gb", "Ga"};

    private final ConvPlan plan;
    private final int n, m, n1, n2;
    private final double[][] blocks;
    private final double[] tw, twInv;   // (N1, N2, 2): T and conj(T)/M
    private final int[] freq, part;     // per position: its frequency k, and the position of (M - k) mod M
    private final double[] coef;        // per position (8): alpha, beta, gamma, delta (see pairCoefficients)
    private final DoubleFFT_1D fft;     // complex N-point, for K and for dk

    /** Gradients of the convolution and of the four blocks (same layouts as {@link #blocks()}). */
    public record Grads(ConvGrads conv, double[][] dBlocks) {}

    public PackedLearnedButterfly(ConvPlan plan, double[][] blocks) {
        String op = "PackedLearnedButterfly";
        if (plan == null || plan.engine() != ConvEngine.LEARNED_PACKED || plan.factors().size() != 2
                || plan.factors().get(0) * plan.factors().get(1) * 2 != plan.fftSize()) {
            throw new IllegalArgumentException(op + ": needs a LEARNED_PACKED plan (2 factors of N/2), got " + plan);
        }
        this.plan = plan;
        this.n = plan.fftSize();
        this.m = n / 2;
        this.n1 = plan.factors().get(0);
        this.n2 = plan.factors().get(1);
        int[] sizes = {n1, n2, n2, n1};
        if (blocks == null || blocks.length != 4) {
            throw new IllegalArgumentException(op + ": needs 4 blocks {Fa (" + n1 + ", " + n1 + ", 2), Fb (" + n2 + ", " + n2
                    + ", 2), Gb (" + n2 + ", " + n2 + ", 2), Ga (" + n1 + ", " + n1 + ", 2)}, got "
                    + (blocks == null ? "null" : blocks.length));
        }
        for (int i = 0; i < 4; i++) {
            int want = sizes[i] * sizes[i] * 2;
            if (blocks[i] == null || blocks[i].length != want) {
                throw new IllegalArgumentException(op + ": block " + i + " (" + NAMES[i] + ") must be (" + sizes[i] + ", " + sizes[i]
                        + ", 2) = " + want + " values for " + plan + ", got " + (blocks[i] == null ? "null" : blocks[i].length));
            }
            ConvShape.requireFinite(op, "block " + i + " (" + NAMES[i] + ")", blocks[i]);
        }
        this.blocks = blocks;
        tw = new double[2 * m];
        twInv = new double[2 * m];
        freq = new int[m];
        part = new int[m];
        for (int k1 = 0; k1 < n1; k1++) {
            for (int j = 0; j < n2; j++) {
                int p = k1 * n2 + j;
                tw[2 * p] = MonarchFft.cosTurn((long) k1 * j, m);
                tw[2 * p + 1] = -MonarchFft.sinTurn((long) k1 * j, m);
                twInv[2 * p] = tw[2 * p] / m;
                twInv[2 * p + 1] = -tw[2 * p + 1] / m;
                freq[p] = k1 + n1 * j;
                part[p] = k1 == 0 ? (n2 - j) % n2 : (n1 - k1) * n2 + (n2 - 1 - j);
            }
        }
        coef = new double[8 * m];
        for (int p = 0; p < m; p++) {
            int k = freq[p], j = m - k;
            // w_N^k = (wr, wi); a_k = ((1 + wi)/2, -wr/2), b_k = ((1 - wi)/2, wr/2), c_k = ((1 + wi)/2, wr/2), d_k = conj(a_k)
            double wr = MonarchFft.cosTurn(k, n), wi = -MonarchFft.sinTurn(k, n);
            double vr = MonarchFft.cosTurn(j, n), vi = -MonarchFft.sinTurn(j, n);
            double ar = (1 + wi) / 2, ai = -wr / 2, br = (1 - wi) / 2, bi = wr / 2, cr = ar, ci = -ai, dr = br, di = -bi;
            double ajr = (1 + vi) / 2, aji = -vr / 2, bjr = (1 - vi) / 2, bji = vr / 2;
            setMul(coef, 8 * p, cr, ci, ar, ai);          // alpha = c_k a_k
            setMul(coef, 8 * p + 2, dr, di, bjr, -bji);   // beta  = d_k conj(b_(M-k))
            setMul(coef, 8 * p + 4, cr, ci, br, bi);      // gamma = c_k b_k
            setMul(coef, 8 * p + 6, dr, di, ajr, -aji);   // delta = d_k conj(a_(M-k))
        }
        fft = new DoubleFFT_1D(n);
    }

    private static void setMul(double[] z, int o, double ar, double ai, double br, double bi) {
        z[o] = ar * br - ai * bi;
        z[o + 1] = ar * bi + ai * br;
    }

    /** Blocks at the exact DFT ({@link LearnedButterfly#dft}): the output then equals the FFT convolution. */
    public static PackedLearnedButterfly atInit(ConvPlan plan) {
        if (plan == null || plan.engine() != ConvEngine.LEARNED_PACKED || plan.factors().size() != 2) {
            throw new IllegalArgumentException("PackedLearnedButterfly: needs a LEARNED_PACKED plan (2 factors of N/2), got " + plan);
        }
        int a = plan.factors().get(0), b = plan.factors().get(1);
        return new PackedLearnedButterfly(plan, new double[][] {
            LearnedButterfly.dft(a, false), LearnedButterfly.dft(b, false), LearnedButterfly.dft(b, true), LearnedButterfly.dft(a, true)});
    }

    @Override public ConvPlan plan() { return plan; }

    /** The live block arrays {Fa, Fb, Gb, Ga}. */
    public double[][] blocks() { return blocks; }

    /**
     * The pair-map coefficients (P, Q) of ONE kernel row from its N placed taps {@code kPad} (bidirectional: both
     * kernels already placed, see {@link #placeTaps}); layout {@code [4M]}: position p = k1*N2 + k2 (frequency
     * k = k1 + N1*k2) holds P_k at {@code [2p, 2p+1]} (re, im) and Q_k at {@code [2M + 2p, 2M + 2p + 1]}.
     */
    public static double[] pairCoefficients(ConvPlan plan, double[] kPad) {
        PackedLearnedButterfly pk = atInit(plan);
        if (kPad == null || kPad.length != pk.n) {
            throw new IllegalArgumentException("PackedLearnedButterfly.pairCoefficients: k_pad must hold N = " + pk.n
                    + " placed taps for " + plan + ", got " + (kPad == null ? "null" : kPad.length));
        }
        ConvShape.requireFinite("PackedLearnedButterfly.pairCoefficients", "k_pad (N = " + pk.n + ")", kPad);
        double[] out = new double[4 * pk.m];
        pk.coefficients(kPad, new double[2 * pk.n], out, 0);
        return out;
    }

    /**
     * The N placed taps of kernel row {@code channel} (= c*H + h) of k, as {@link FftConv} / {@link SpectralConv} place
     * them for the plan's mode (side 0 at [t], bidirectional side 1 at [N-1-t]).
     */
    public static double[] placeTaps(ConvPlan plan, ConvShape s, double[] k, int channel) {
        String op = "PackedLearnedButterfly.placeTaps";
        if (s.length() != plan.length() || s.kernelLength() != plan.kernelLength() || s.mode() != plan.mode()) {
            throw new IllegalArgumentException(op + ": plan is for L=" + plan.length() + " Lk=" + plan.kernelLength() + " "
                    + plan.mode() + " but the shape has L=" + s.length() + " Lk=" + s.kernelLength() + " " + s.mode());
        }
        s.checkForward(op, s.uSize(), k.length, k, -1);
        if (channel < 0 || channel >= s.channels() * s.features()) {
            throw new IllegalArgumentException(op + ": channel (c*H + h) must be in [0, " + s.channels() * s.features()
                    + ") for (C, H) = (" + s.channels() + ", " + s.features() + "), got " + channel);
        }
        double[] x = new double[plan.fftSize()];
        SpectralConv.placeTaps(s, k, channel, x);
        return x;
    }

    /** (P, Q) of one kernel row into out[oo .. oo + 4M); work holds 2N doubles. */
    private void coefficients(double[] kPad, double[] work, double[] out, int oo) {
        Arrays.fill(work, 0);
        for (int t = 0; t < n; t++) work[2 * t] = kPad[t];
        fft.complexForward(work);                             // K[j] = sum_t k_pad[t] w_N^(j t)
        for (int p = 0; p < m; p++) {
            int k = freq[p], j = m - k, c = 8 * p;
            double kr = work[2 * k], ki = work[2 * k + 1], jr = work[2 * j], ji = -work[2 * j + 1];   // K[k], conj(K[M-k])
            out[oo + 2 * p] = coef[c] * kr - coef[c + 1] * ki + coef[c + 2] * jr - coef[c + 3] * ji;
            out[oo + 2 * p + 1] = coef[c] * ki + coef[c + 1] * kr + coef[c + 2] * ji + coef[c + 3] * jr;
            out[oo + 2 * m + 2 * p] = coef[c + 4] * kr - coef[c + 5] * ki + coef[c + 6] * jr - coef[c + 7] * ji;
            out[oo + 2 * m + 2 * p + 1] = coef[c + 4] * ki + coef[c + 5] * kr + coef[c + 6] * ji + coef[c + 7] * jr;
        }
    }

    /** (P, Q) of all (c, h) kernel rows, (C*H, 4M). */
    private double[] allCoefficients(ConvShape s, double[] k) {
        int chN = s.channels() * s.features();
        double[] out = new double[chN * 4 * m];
        Par.forRange(chN, 40L * n, (from, to) -> {
            double[] x = new double[n], work = new double[2 * n];
            for (int ch = from; ch < to; ch++) {
                Arrays.fill(x, 0);
                SpectralConv.placeTaps(s, k, ch, x);
                coefficients(x, work, out, ch * 4 * m);
            }
        });
        return out;
    }

    /** z = the pair map of c with the coefficients at pq[po ..]. */
    private void pairMap(double[] c, double[] pq, int po, double[] z) {
        for (int p = 0; p < m; p++) {
            int q = part[p], pi = po + 2 * p, qi = po + 2 * m + 2 * p;
            double cr = c[2 * p], ci = c[2 * p + 1], sr = c[2 * q], si = -c[2 * q + 1];   // C[p], conj(C[s(p)])
            z[2 * p] = pq[pi] * cr - pq[pi + 1] * ci + pq[qi] * sr - pq[qi + 1] * si;
            z[2 * p + 1] = pq[pi] * ci + pq[pi + 1] * cr + pq[qi] * si + pq[qi + 1] * sr;
        }
    }

    /** Scratch and intermediates of one row, each (N1, N2, 2). */
    private final class Row {
        final double[] a = new double[2 * m], b = new double[2 * m], b2 = new double[2 * m], c = new double[2 * m];
        final double[] cp = new double[2 * m], d1 = new double[2 * m], d2 = new double[2 * m], e = new double[2 * m];

        /** A = pack(u_pad): on the flat interleaved layout the packing is the identity. */
        void front(double[] u, int uo, int len) {
            Arrays.fill(a, 0);
            System.arraycopy(u, uo, a, 0, len);
            LearnedButterfly.cmm(blocks[FA], false, a, false, b, n1, n1, n2, false);
            LearnedButterfly.hmul(b, tw, b2, false, m);
            LearnedButterfly.cmm(b2, false, blocks[FB], false, c, n1, n2, n2, false);
        }

        void back(double[] pq, int po) {
            pairMap(c, pq, po, cp);
            LearnedButterfly.cmm(cp, false, blocks[GB], false, d1, n1, n2, n2, false);
            LearnedButterfly.hmul(d1, twInv, d2, false, m);
            LearnedButterfly.cmm(blocks[GA], false, d2, false, e, n1, n1, n2, false);
        }
    }

    @Override
    public double[] forward(ConvShape s, double[] u, double[] k, double[] d) {
        String op = "PackedLearnedButterfly.forward";
        checkPlan(op, s);
        s.checkForward(op, u.length, k.length, k, d == null ? -1 : d.length);
        double[] pq = allCoefficients(s, k);
        int hN = s.features(), cN = s.channels(), l = s.length();
        double[] y = new double[s.ySize()];
        Par.forRange(s.batch() * hN, 8L * m * (n1 + n2) * (cN + 1), (from, to) -> {
            Row row = new Row();
            for (int r = from; r < to; r++) {
                int b = r / hN, h = r % hN, uo = r * l;
                row.front(u, uo, l);
                for (int c = 0; c < cN; c++) {
                    row.back(pq, (c * hN + h) * 4 * m);
                    double skip = d == null ? 0 : d[c * hN + h];
                    int yo = ((b * cN + c) * hN + h) * l;
                    for (int i = 0; i < l; i++) y[yo + i] = round(row.e[i] + skip * u[uo + i]);   // unpack: identity too
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
        String op = "PackedLearnedButterfly.backward";
        checkPlan(op, s);
        s.checkForward(op, u.length, k.length, k, d == null ? -1 : d.length);
        s.checkGrad(op, dy.length);
        double[] pq = allCoefficients(s, k);
        int bN = s.batch(), hN = s.features(), cN = s.channels(), l = s.length();
        double[] du = new double[s.uSize()], dk = new double[s.kSize()], dD = new double[s.dSize()];
        double[][] dBlocks = new double[4][];
        for (int i = 0; i < 4; i++) dBlocks[i] = new double[blocks[i].length];
        Par.forRange(hN, 16L * m * (n1 + n2) * bN * (cN + 1), (from, to) -> {
            Row row = new Row();
            double[][] gb = new double[4][];
            for (int i = 0; i < 4; i++) gb[i] = new double[blocks[i].length];
            double[] gE = new double[2 * m], gD2 = new double[2 * m], gD1 = new double[2 * m], gCp = new double[2 * m];
            double[] gC = new double[2 * m], gB2 = new double[2 * m], gB = new double[2 * m], gA = new double[2 * m];
            double[] gPQ = new double[cN * 4 * m], tmp = new double[2 * n], x = new double[n];
            for (int h = from; h < to; h++) {
                Arrays.fill(gPQ, 0);
                for (int b = 0; b < bN; b++) {
                    int uo = (b * hN + h) * l;
                    row.front(u, uo, l);
                    Arrays.fill(gC, 0);
                    for (int c = 0; c < cN; c++) {
                        int po = (c * hN + h) * 4 * m, yo = ((b * cN + c) * hN + h) * l;
                        row.back(pq, po);
                        Arrays.fill(gE, 0);
                        System.arraycopy(dy, yo, gE, 0, l);                                        // gE = pack(dy)
                        LearnedButterfly.cmm(gE, false, row.d2, true, gb[GA], n1, n2, n1, true);   // dGa += gE @ D2^H
                        LearnedButterfly.cmm(blocks[GA], true, gE, false, gD2, n1, n1, n2, false);  // gD2 = Ga^H @ gE
                        LearnedButterfly.hmul(gD2, twInv, gD1, true, m);                            // gD1 = gD2 * T / M
                        LearnedButterfly.cmm(row.cp, true, gD1, false, gb[GB], n2, n1, n2, true);  // dGb += C'^H @ gD1
                        LearnedButterfly.cmm(gD1, false, blocks[GB], true, gCp, n1, n2, n2, false); // gC' = gD1 @ Gb^H
                        pairAdjoint(gCp, row.c, pq, po, gC, gPQ, c * 4 * m);
                        double dot = 0, skip = d == null ? 0 : d[c * hN + h];
                        for (int i = 0; i < l; i++) {
                            dot += dy[yo + i] * u[uo + i];
                            du[uo + i] += skip * dy[yo + i];
                        }
                        if (d != null) dD[c * hN + h] += dot;
                    }
                    LearnedButterfly.cmm(row.b2, true, gC, false, gb[FB], n2, n1, n2, true);       // dFb += B2^H @ gC
                    LearnedButterfly.cmm(gC, false, blocks[FB], true, gB2, n1, n2, n2, false);      // gB2 = gC @ Fb^H
                    LearnedButterfly.hmul(gB2, tw, gB, true, m);                                    // gB = gB2 * conj(T)
                    LearnedButterfly.cmm(gB, false, row.a, true, gb[FA], n1, n2, n1, true);        // dFa += gB @ A^H
                    LearnedButterfly.cmm(blocks[FA], true, gB, false, gA, n1, n1, n2, false);       // gA = Fa^H @ gB
                    for (int i = 0; i < l; i++) du[uo + i] = round(du[uo + i] + gA[i]);            // unpack(gA)
                }
                for (int c = 0; c < cN; c++) {
                    tapGradient(gPQ, c * 4 * m, tmp, x);
                    SpectralConv.gatherTaps(s, x, c * hN + h, dk);
                }
            }
            synchronized (dBlocks) {
                for (int i = 0; i < 4; i++) for (int j = 0; j < gb[i].length; j++) dBlocks[i][j] += gb[i][j];
            }
        });
        return new Grads(new ConvGrads(du, dk, dD), dBlocks);
    }

    /**
     * The pair map's adjoint (real inner product): gC[p] += conj(P_p) g[p] + Q_s(p) conj(g[s(p)]); and the coefficient
     * gradients dP_p += g[p] conj(C[p]), dQ_p += g[p] C[s(p)] into gpq[go ..] (layout of {@link #pairCoefficients}).
     */
    private void pairAdjoint(double[] g, double[] c, double[] pq, int po, double[] gC, double[] gpq, int go) {
        for (int p = 0; p < m; p++) {
            int q = part[p], pp = po + 2 * p, qq = po + 2 * m + 2 * q;
            double gr = g[2 * p], gi = g[2 * p + 1], hr = g[2 * q], hi = -g[2 * q + 1];   // g[p], conj(g[s(p)])
            gC[2 * p] += pq[pp] * gr + pq[pp + 1] * gi + pq[qq] * hr - pq[qq + 1] * hi;
            gC[2 * p + 1] += pq[pp] * gi - pq[pp + 1] * gr + pq[qq] * hi + pq[qq + 1] * hr;
            double cr = c[2 * p], ci = c[2 * p + 1], sr = c[2 * q], si = c[2 * q + 1];
            gpq[go + 2 * p] += gr * cr + gi * ci;
            gpq[go + 2 * p + 1] += gi * cr - gr * ci;
            gpq[go + 2 * m + 2 * p] += gr * sr - gi * si;
            gpq[go + 2 * m + 2 * p + 1] += gr * si + gi * sr;
        }
    }

    /**
     * dk_pad (N real) from (dP, dQ) of one kernel row: dK[k] += conj(alpha) dP + conj(gamma) dQ,
     * dK[M-k] += beta conj(dP) + delta conj(dQ); then dk_pad[t] = Re sum_(j <= M) dK[j] w_N^(-j t) (the adjoint of
     * the exact real DFT K = DFT_N(k_pad)).
     */
    private void tapGradient(double[] gpq, int go, double[] tmp, double[] x) {
        Arrays.fill(tmp, 0);
        for (int p = 0; p < m; p++) {
            int k = freq[p], j = m - k, c = 8 * p;
            double pr = gpq[go + 2 * p], pi = gpq[go + 2 * p + 1], qr = gpq[go + 2 * m + 2 * p], qi = gpq[go + 2 * m + 2 * p + 1];
            tmp[2 * k] += coef[c] * pr + coef[c + 1] * pi + coef[c + 4] * qr + coef[c + 5] * qi;
            tmp[2 * k + 1] += coef[c] * pi - coef[c + 1] * pr + coef[c + 4] * qi - coef[c + 5] * qr;
            tmp[2 * j] += coef[c + 2] * pr + coef[c + 3] * pi + coef[c + 6] * qr + coef[c + 7] * qi;
            tmp[2 * j + 1] += coef[c + 3] * pr - coef[c + 2] * pi + coef[c + 7] * qr - coef[c + 6] * qi;
        }
        fft.complexInverse(tmp, false);
        for (int t = 0; t < n; t++) x[t] = tmp[2 * t];
    }
}
