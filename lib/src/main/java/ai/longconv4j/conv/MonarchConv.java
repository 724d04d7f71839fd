// Shape legend: B batch, C kernel channels, H features, L length, N real FFT size, M = N/2 complex Monarch points.
package ai.longconv4j.conv;

import ai.longconv4j.tensor.Tensor;

/**
 * FlashButterfly convolution on the CPU: real FFTs of N points through the complex {@link MonarchFft} of
 * M = N/2 points with the real-input packing, spectra kept in Monarch's permuted order throughout (the
 * kernel spectrum is computed in that order once per call; no output permutation is ever undone).
 * <p>Packing: {@code z[n] = x[2n] + i x[2n+1]}, {@code Z = FFT_M(z)},
 * {@code X[k] = (Z[k] + conj(Z[M-k]))/2 + w_N^k (Z[k] - conj(Z[M-k]))/(2i)}, {@code X[M] = Re Z[0] - Im Z[0]};
 * unpacking: {@code Z'[k] = E + i O}, {@code E = (Y[k] + conj(Y[M-k]))/2}, {@code O = (Y[k] - conj(Y[M-k]))/2 * w_N^-k},
 * {@code y[2n] + i y[2n+1] = IFFT_M(Z')}. Spectrum layout (planar, 2(M+1) doubles):
 * {@code re[p] = spec[p], im[p] = spec[M+1+p]}; positions p < M hold {@code X[perm[p]]}, position M holds the
 * Nyquist bin {@code X[M]}. Forward/backward drivers in {@link SpectralConv}; plans with 3 passes (long
 * sequences) run the fused three-pass forward instead ({@link #forward}).
 * <pre>{@code
 * jshell> var conv = new MonarchConv(ConvPlan.of(4096, 4096, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F32))
 * }</pre>
 */
public final class MonarchConv extends SpectralConv {

    /** Complex N-point plan of the fused three-pass forward (plans with 3 passes), else null. */
    private final MonarchFft fused;

    public MonarchConv(ConvPlan plan) {
        super("MonarchConv", requireMonarch(plan), new MonarchReal(plan.fftSize(), plan.factorArray(), plan.precision()));
        boolean fits = Integer.numberOfTrailingZeros(plan.fftSize()) <= 22;   // the factor table's largest complex FFT
        this.fused = plan.passes() == 3 && fits ? new MonarchFft(plan.fftSize(), plan.precision()) : null;
    }

    /**
     * Long sequences (3-pass plans) run the fused three-pass forward: two batch rows of the same feature ride
     * in one complex row ({@code u_b + i u_b'}; the kernel is real, so the real and imaginary parts of the
     * result are the two convolutions) through {@link MonarchFft#convolve} with the kernel spectrum in the
     * permuted order. Shorter plans use the real-packed transforms of {@link SpectralConv}.
     */
    @Override
    public double[] forward(ConvShape s, double[] u, double[] k, double[] d) {
        if (fused == null) return super.forward(s, u, k, d);
        String op = "MonarchConv.forward";
        checkPlan(op, s);
        s.checkForward(op, u.length, k.length, k, d == null ? -1 : d.length);
        int n = fused.size(), l = s.length(), bN = s.batch(), cN = s.channels(), hN = s.features(), chN = cN * hN;
        boolean f32 = plan().precision() == Precision.F32;
        double[] kRe = new double[chN * n], kIm = new double[chN * n];
        Par.forRange(chN, 200L * n, (from, to) -> {
            double[][] w = fused.newWork();
            double[] re = new double[n], im = new double[n];
            for (int ch = from; ch < to; ch++) {
                java.util.Arrays.fill(re, 0);
                java.util.Arrays.fill(im, 0);
                placeTaps(s, k, ch, re);
                fused.forward(re, im, w);
                System.arraycopy(re, 0, kRe, ch * n, n);
                System.arraycopy(im, 0, kIm, ch * n, n);
            }
        });
        int pairs = (bN + 1) / 2;
        double[] y = new double[s.ySize()];
        Par.forRange(hN * pairs, 400L * n * cN, (from, to) -> {
            double[][] w = fused.newWork();
            double[] re = new double[n], im = new double[n];
            for (int idx = from; idx < to; idx++) {
                int h = idx / pairs, b0 = 2 * (idx % pairs), b1 = b0 + 1;
                int u0 = (b0 * hN + h) * l, u1 = (b1 * hN + h) * l;
                for (int c = 0; c < cN; c++) {
                    java.util.Arrays.fill(re, 0);
                    java.util.Arrays.fill(im, 0);
                    System.arraycopy(u, u0, re, 0, l);
                    if (b1 < bN) System.arraycopy(u, u1, im, 0, l);
                    fused.convolve(re, im, kRe, kIm, (c * hN + h) * n, w);
                    double skip = d == null ? 0 : d[c * hN + h];
                    int y0 = ((b0 * cN + c) * hN + h) * l, y1 = ((b1 * cN + c) * hN + h) * l;
                    for (int i = 0; i < l; i++) {
                        double v = re[i] + skip * u[u0 + i];
                        y[y0 + i] = f32 ? (float) v : v;
                    }
                    if (b1 < bN) {
                        for (int i = 0; i < l; i++) {
                            double v = im[i] + skip * u[u1 + i];
                            y[y1 + i] = f32 ? (float) v : v;
                        }
                    }
                }
            }
        });
        return y;
    }

    /** Functional form on tensors (Monarch engine): see {@link ConvOps#conv}; k (H, Lk) -> (B, H, L). */
    public static Tensor apply(Tensor u, Tensor k, ConvMode mode) { return ConvOps.conv(u, k, null, mode, ConvEngine.MONARCH); }

    private static ConvPlan requireMonarch(ConvPlan plan) {
        if (plan.engine() != ConvEngine.MONARCH) {
            throw new IllegalArgumentException("MonarchConv: needs a plan with engine MONARCH, got " + plan);
        }
        return plan;
    }

    /** Real FFT of N points via a complex Monarch FFT of N/2 points, permuted half spectrum. */
    static final class MonarchReal implements RealTransform {
        private final int n, m;
        private final MonarchFft fft;
        private final Precision precision;
        private final int[] perm, neg;      // neg[p]: position of frequency (M - perm[p]) mod M
        private final double[] wr, wi;      // w_N^perm[p] = exp(-2 pi i perm[p] / N)

        MonarchReal(int n, int[] factors, Precision precision) {
            this.n = n;
            this.m = n / 2;
            this.precision = precision;
            this.fft = new MonarchFft(factors, precision);
            if (fft.size() != m) {
                throw new IllegalArgumentException("MonarchConv: factors " + ConvShape.str(factors) + " do not multiply to N/2 = " + m);
            }
            perm = fft.permutation();
            if (perm[0] != 0) throw new IllegalStateException("MonarchConv: position 0 must hold the DC bin");
            int[] pos = new int[m];
            for (int p = 0; p < m; p++) pos[perm[p]] = p;
            neg = new int[m];
            wr = new double[m];
            wi = new double[m];
            for (int p = 0; p < m; p++) {
                neg[p] = pos[(m - perm[p]) % m];
                wr[p] = rd(MonarchFft.cosTurn(perm[p], n));
                wi[p] = rd(-MonarchFft.sinTurn(perm[p], n));
            }
        }

        private double rd(double v) { return precision == Precision.F32 ? (float) v : v; }

        @Override public int size() { return n; }
        @Override public int spectrumLength() { return 2 * (m + 1); }

        @Override
        public Object newWork() {
            double[][] w = fft.newWork();
            return new double[][] {w[0], w[1], new double[m], new double[m]};
        }

        @Override
        public void forward(double[] x, double[] spec, int so, Object work) {
            double[][] w = (double[][]) work;
            double[] zr = w[2], zi = w[3];
            for (int j = 0; j < m; j++) {
                zr[j] = rd(x[2 * j]);
                zi[j] = rd(x[2 * j + 1]);
            }
            fft.forward(zr, zi, w);
            int io = so + m + 1;
            for (int p = 0; p < m; p++) {
                int q = neg[p];
                double er = 0.5 * (zr[p] + zr[q]), ei = 0.5 * (zi[p] - zi[q]);
                double or = 0.5 * (zi[p] + zi[q]), oi = -0.5 * (zr[p] - zr[q]);
                spec[so + p] = rd(er + wr[p] * or - wi[p] * oi);
                spec[io + p] = rd(ei + wr[p] * oi + wi[p] * or);
            }
            spec[so + m] = rd(zr[0] - zi[0]);   // position 0 holds Z[0] (perm[0] == 0)
            spec[io + m] = 0;
        }

        @Override
        public void inverse(double[] spec, int so, double[] x, Object work) {
            double[][] w = (double[][]) work;
            double[] zr = w[2], zi = w[3];
            int io = so + m + 1;
            for (int p = 0; p < m; p++) {
                int q = perm[p] == 0 ? m : neg[p];   // conj(Y[M - k]); k = 0 pairs with the Nyquist bin
                double yr = spec[so + p], yi = spec[io + p], cr = spec[so + q], ci = -spec[io + q];
                double er = 0.5 * (yr + cr), ei = 0.5 * (yi + ci);
                double dr = 0.5 * (yr - cr), di = 0.5 * (yi - ci);
                double or = dr * wr[p] + di * wi[p], oi = di * wr[p] - dr * wi[p];   // (d) * conj(w)
                zr[p] = rd(er - oi);
                zi[p] = rd(ei + or);
            }
            fft.inverse(zr, zi, w);
            for (int j = 0; j < m; j++) {
                x[2 * j] = zr[j];
                x[2 * j + 1] = zi[j];
            }
        }

        @Override
        public void mul(double[] a, int ao, double[] b, int bo, double[] o, int oo, boolean conjA, boolean acc) {
            int len = m + 1;
            double sa = conjA ? -1 : 1;
            for (int p = 0; p < len; p++) {
                double ar = a[ao + p], ai = sa * a[ao + len + p], br = b[bo + p], bi = b[bo + len + p];
                double re = ar * br - ai * bi, im = ar * bi + ai * br;
                o[oo + p] = rd(acc ? o[oo + p] + re : re);
                o[oo + len + p] = rd(acc ? o[oo + len + p] + im : im);
            }
        }
    }
}
