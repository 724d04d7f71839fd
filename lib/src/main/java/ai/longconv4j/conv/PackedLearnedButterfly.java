// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size,
// M = N/2 = R_1 * .. * R_J complex points of the packed transform (J >= 2 factors, ConvPlan.factors()), a row the
// row-major tensor X[n_1]..[n_J]; position p = row-major index of (k_1, .., k_J) holds frequency
// k = k_1 + R_1 (k_2 + R_2 (..)) (J = 2: p = k1*N2 + k2, k = k1 + N1*k2).
package ai.longconv4j.conv;

import org.jtransforms.fft.DoubleFFT_1D;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The packed learned butterfly ({@link ConvEngine#LEARNED_PACKED}): FlashButterfly's real-input packing, one real row
 * of N points as a complex row of M = N/2 points, with learnable DFT blocks of the J-factor M-point transform
 * (FlashButterfly's own factorization, {@link ConvPlan}: two factors to M = 1024, then R1 x 16 x .. x 16, and beyond
 * 32K an outer factor times 8192's factors); the packing's split/merge twiddles and the stage twiddles stay fixed, the
 * split/merge fuse with the kernel spectrum into one per-frequency pair map. Half the transform size per row of
 * {@link LearnedButterfly}. For one row (u zero-padded to N as {@link SpectralConv} pads it), s14-jspec's chain:
 * <pre>
 *   X_1 = u[0::2] + i u[1::2] as (R_1, .., R_J)                                        (the packing: identity in memory)
 *   s = 1 .. J:   Y_s = F_s along axis s;   X_(s+1) = Y_s o T_s,  T_s[.., k_s, c] = w_(M_s)^(k_s c)   C = X_(J+1)
 *   C'[p] = P_p C[p] + Q_p conj(C[s(p)])                                              (the pair map, per kernel row)
 *   s = J .. 1:   V_s = W_s o conj(T_s) (s = 1: / M);   W_(s-1) = G_s along axis s     (W_J = C', E = W_0)
 *   y[2m] = Re E[m], y[2m+1] = Im E[m]   (+ D u, [:L])
 * </pre>
 * "Along axis 1" multiplies on the left ({@code Y[k][..] = sum_n F[k][n] X[n][..]}), the other axes on the right
 * ({@code Y[..][k][..] = sum_n X[..][n][..] F[n][k]}); J = 2 is {@code B = Fa @ A, C = (B o T) @ Fb,
 * E = Ga @ ((C' @ Gb) o conj(T) / M)}. With K = DFT_N(k_pad) (exact, fp64), {@code a_j = (1 - i w_N^j)/2,
 * b_j = (1 + i w_N^j)/2, c_k = (1 + i w_N^-k)/2, d_k = (1 - i w_N^-k)/2}:
 * {@code P_k = c_k K[k] a_k + d_k conj(K[M-k]) conj(b_(M-k))},
 * {@code Q_k = c_k K[k] b_k + d_k conj(K[M-k]) conj(a_(M-k))} (the real FFT's split, the product with K and the merge
 * of the inverse in one linear map). 2J blocks in the order {F_1 .. F_J, G_J .. G_1}, named {@link #blockNames}
 * ({Fa, Fb, Gb, Ga} at J = 2, {Fa, Fb, Fc, Gc, Gb, Ga} at J = 3), each {@code (R_s, R_s, 2)} complex interleaved; at
 * init {@code F_s = F_(R_s), G_s = conj(F_(R_s))} ({@link LearnedButterfly#dft}) and y equals {@link FftConv}'s. Causal
 * only at init (as LEARNED). The gradient convention {@code (dl/dRe, dl/dIm)} and holding by reference are
 * {@link LearnedButterfly}'s. F32 plans compute in fp64 and round y (and du) to float values, as LearnedButterfly. The
 * stage kernels live in the package-private PackedStages.
 * <pre>{@code
 * jshell> var pk = PackedLearnedButterfly.atInit(ConvPlan.of(512, 512, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64))
 * jshell> pk.plan()
 * $2 ==> ConvPlan[L=512 Lk=512 CAUSAL engine=LEARNED_PACKED N=1024 (real via complex 512 = 16 x 32, learned blocks) F64]
 * jshell> PackedLearnedButterfly.pairCoefficients(pk.plan(), new double[1024]).length
 * $3 ==> 2048
 * jshell> PackedLearnedButterfly.blockNames(ConvPlan.of(4096, 4096, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64))
 * $4 ==> [Fa, Fb, Fc, Gc, Gb, Ga]
 * }</pre>
 */
public final class PackedLearnedButterfly implements Convolver {
    /** Block order in {@link #blocks()} for J = 2 plans (M &lt;= 1024): forward Fa (N1), Fb (N2), inverse Gb (N2), Ga (N1). */
    public static final int FA = 0, FB = 1, GB = 2, GA = 3;

    private final ConvPlan plan;
    private final int n, m, j;
    private final PackedStages st;
    private final double[][] blocks;
    private final int[] freq, part;     // per position: its frequency k, and the position of (M - k) mod M
    private final double[] coef;        // per position (8): alpha, beta, gamma, delta (see pairCoefficients)
    private final DoubleFFT_1D fft;     // complex N-point, for K and for dk

    /** Gradients of the convolution and of the 2J blocks (same layouts as {@link #blocks()}). */
    public record Grads(ConvGrads conv, double[][] dBlocks) {}

    public PackedLearnedButterfly(ConvPlan plan, double[][] blocks) {
        String op = "PackedLearnedButterfly";
        int[] sizes = blockSizes(plan);
        List<String> names = blockNames(plan);
        this.plan = plan;
        this.n = plan.fftSize();
        this.m = n / 2;
        this.j = plan.factors().size();
        if (blocks == null || blocks.length != 2 * j) {
            StringBuilder want = new StringBuilder();
            for (int i = 0; i < 2 * j; i++)
                want.append(i == 0 ? "" : ", ").append(names.get(i)).append(" (").append(sizes[i]).append(", ").append(sizes[i]).append(", 2)");
            throw new IllegalArgumentException(op + ": needs " + 2 * j + " blocks {" + want + "} for " + plan + ", got "
                    + (blocks == null ? "null" : blocks.length));
        }
        for (int i = 0; i < 2 * j; i++) {
            int want = sizes[i] * sizes[i] * 2;
            if (blocks[i] == null || blocks[i].length != want) {
                throw new IllegalArgumentException(op + ": block " + i + " (" + names.get(i) + ") must be (" + sizes[i] + ", " + sizes[i]
                        + ", 2) = " + want + " values for " + plan + ", got " + (blocks[i] == null ? "null" : blocks[i].length));
            }
            ConvShape.requireFinite(op, "block " + i + " (" + names.get(i) + ")", blocks[i]);
        }
        this.blocks = blocks;
        st = new PackedStages(plan.factorArray());
        freq = st.freq;
        part = st.part;
        coef = new double[8 * m];
        for (int p = 0; p < m; p++) {
            int k = freq[p], jj = m - k;
            // w_N^k = (wr, wi); a_k = ((1 + wi)/2, -wr/2), b_k = ((1 - wi)/2, wr/2), c_k = ((1 + wi)/2, wr/2), d_k = conj(a_k)
            double wr = MonarchFft.cosTurn(k, n), wi = -MonarchFft.sinTurn(k, n);
            double vr = MonarchFft.cosTurn(jj, n), vi = -MonarchFft.sinTurn(jj, n);
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

    /** The plan's factors R_1 .. R_J after checking it is a LEARNED_PACKED plan (J >= 2 factors of N/2). */
    private static int[] factorsOf(ConvPlan plan) {
        if (plan == null || plan.engine() != ConvEngine.LEARNED_PACKED || plan.factors().size() < 2
                || plan.factors().stream().mapToLong(Integer::longValue).reduce(1, (a, b) -> a * b) * 2 != plan.fftSize()) {
            throw new IllegalArgumentException("PackedLearnedButterfly: needs a LEARNED_PACKED plan (J >= 2 factors of N/2), got " + plan);
        }
        return plan.factorArray();
    }

    /** The 2J block sizes R in block order {F_1 .. F_J, G_J .. G_1} (each block is (R, R, 2)): J = 3 {R1, R2, R3, R3, R2, R1}. */
    public static int[] blockSizes(ConvPlan plan) {
        int[] f = factorsOf(plan);
        int jj = f.length;
        int[] b = new int[2 * jj];
        for (int s = 0; s < jj; s++) {
            b[s] = f[s];
            b[2 * jj - 1 - s] = f[s];
        }
        return b;
    }

    /** The 2J block names in block order: F + a letter per stage, then G in reverse ({Fa, Fb, Fc, Gc, Gb, Ga} at J = 3). */
    public static List<String> blockNames(ConvPlan plan) {
        int jj = factorsOf(plan).length;
        List<String> out = new ArrayList<>();
        for (int s = 0; s < jj; s++) out.add("F" + (char) ('a' + s));
        for (int s = jj - 1; s >= 0; s--) out.add("G" + (char) ('a' + s));
        return List.copyOf(out);
    }

    /**
     * The frequency held by each position p of C (and of every pair-coefficient row, {@link #pairCoefficients}):
     * p = the row-major index of (k_1, .., k_J), frequency k_1 + R_1 (k_2 + R_2 (..)); M entries, a permutation.
     */
    public static int[] positionFrequencies(ConvPlan plan) {
        return new PackedStages(factorsOf(plan)).freq.clone();
    }

    /** s(p): the position holding frequency (M - k) mod M for the position p holding k (M entries, an involution). */
    public static int[] partnerPositions(ConvPlan plan) {
        return new PackedStages(factorsOf(plan)).part.clone();
    }

    /** Blocks at the exact DFT ({@link LearnedButterfly#dft}): the output then equals the FFT convolution. */
    public static PackedLearnedButterfly atInit(ConvPlan plan) {
        int[] sizes = blockSizes(plan);
        double[][] b = new double[sizes.length][];
        for (int i = 0; i < sizes.length; i++) b[i] = LearnedButterfly.dft(sizes[i], i >= sizes.length / 2);
        return new PackedLearnedButterfly(plan, b);
    }

    @Override public ConvPlan plan() { return plan; }

    /** The live block arrays {F_1 .. F_J, G_J .. G_1} ({Fa, Fb, Gb, Ga} at J = 2). */
    public double[][] blocks() { return blocks; }

    /**
     * The pair-map coefficients (P, Q) of ONE kernel row from its N placed taps {@code kPad} (bidirectional: both
     * kernels already placed, see {@link #placeTaps}); layout {@code [4M]}: position p (holding frequency
     * {@link #positionFrequencies}{@code [p]}; J = 2: p = k1*N2 + k2, k = k1 + N1*k2) holds P_k at {@code [2p, 2p+1]}
     * (re, im) and Q_k at {@code [2M + 2p, 2M + 2p + 1]}.
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

    /** Scratch and intermediates of one row, each M complex: xs[s] the input of F_(s+1) (xs[J] = C), vs[s] the input of G_(s+1). */
    private final class Row {
        final double[][] xs = new double[j + 1][2 * m], vs = new double[j][2 * m];
        final double[] y = new double[2 * m], cp = new double[2 * m], e = new double[2 * m];

        /** X_1 = pack(u_pad) (on the flat interleaved layout the packing is the identity), then the forward chain to C. */
        void front(double[] u, int uo, int len) {
            Arrays.fill(xs[0], 0);
            System.arraycopy(u, uo, xs[0], 0, len);
            for (int s = 0; s < j; s++) {
                st.along(s, blocks[s], false, xs[s], y);
                st.twiddle(s, y, false, 1, xs[s + 1]);
            }
        }

        /** The pair map, then the inverse chain to E. */
        void back(double[] pq, int po) {
            pairMap(xs[j], pq, po, cp);
            double[] w = cp;
            for (int s = j - 1; s >= 0; s--) {
                st.twiddle(s, w, true, s == 0 ? 1.0 / m : 1, vs[s]);
                w = s == 0 ? e : y;
                st.along(s, blocks[2 * j - 1 - s], false, vs[s], w);
            }
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
        Par.forRange(s.batch() * hN, 8L * m * factorSum() * (cN + 1), (from, to) -> {
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

    private long factorSum() { return plan.factors().stream().mapToLong(Integer::longValue).sum(); }

    private double round(double v) { return plan.precision() == Precision.F32 ? (float) v : v; }

    @Override
    public ConvGrads backward(ConvShape s, double[] u, double[] k, double[] d, double[] dy) {
        return backwardAll(s, u, k, d, dy).conv();
    }

    /** Gradients of {@code sum(y * dy)} w.r.t. u, k, D and the 2J blocks. */
    public Grads backwardAll(ConvShape s, double[] u, double[] k, double[] d, double[] dy) {
        String op = "PackedLearnedButterfly.backward";
        checkPlan(op, s);
        s.checkForward(op, u.length, k.length, k, d == null ? -1 : d.length);
        s.checkGrad(op, dy.length);
        double[] pq = allCoefficients(s, k);
        int bN = s.batch(), hN = s.features(), cN = s.channels(), l = s.length(), nb = 2 * j;
        double[] du = new double[s.uSize()], dk = new double[s.kSize()], dD = new double[s.dSize()];
        double[][] dBlocks = new double[nb][];
        for (int i = 0; i < nb; i++) dBlocks[i] = new double[blocks[i].length];
        Par.forRange(hN, 16L * m * factorSum() * bN * (cN + 1), (from, to) -> {
            Row row = new Row();
            double[][] gb = new double[nb][];
            for (int i = 0; i < nb; i++) gb[i] = new double[blocks[i].length];
            double[] g1 = new double[2 * m], g2 = new double[2 * m], gC = new double[2 * m];
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
                        Arrays.fill(g1, 0);
                        System.arraycopy(dy, yo, g1, 0, l);                          // gW_0 = gE = pack(dy)
                        for (int t = 0; t < j; t++) {                                // inverse chain, adjoint: stage 1 .. J
                            st.gram(t, g1, row.vs[t], gb[nb - 1 - t]);               // dG += Gram(gW_(t), V_t)
                            st.along(t, blocks[nb - 1 - t], true, g1, g2);           // gV = G^H along axis
                            st.twiddle(t, g2, false, t == 0 ? 1.0 / m : 1, g1);      // gW_(t+1) = gV o T (/ M)
                        }
                        pairAdjoint(g1, row.xs[j], pq, po, gC, gPQ, c * 4 * m);     // g1 = gC'
                        double dot = 0, skip = d == null ? 0 : d[c * hN + h];
                        for (int i = 0; i < l; i++) {
                            dot += dy[yo + i] * u[uo + i];
                            du[uo + i] += skip * dy[yo + i];
                        }
                        if (d != null) dD[c * hN + h] += dot;
                    }
                    double[] g = gC;
                    for (int t = j - 1; t >= 0; t--) {                               // forward chain, adjoint: stage J .. 1
                        st.twiddle(t, g, true, 1, g2);                               // gY = gX_(t+1) o conj(T)
                        st.gram(t, g2, row.xs[t], gb[t]);                            // dF += Gram(gY, X_t)
                        st.along(t, blocks[t], true, g2, g1);                        // gX_t = F^H along axis
                        g = g1;
                    }
                    for (int i = 0; i < l; i++) du[uo + i] = round(du[uo + i] + g1[i]);             // unpack(gX_1)
                }
                for (int c = 0; c < cN; c++) {
                    tapGradient(gPQ, c * 4 * m, tmp, x);
                    SpectralConv.gatherTaps(s, x, c * hN + h, dk);
                }
            }
            synchronized (dBlocks) {
                for (int i = 0; i < nb; i++) for (int q = 0; q < gb[i].length; q++) dBlocks[i][q] += gb[i][q];
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
