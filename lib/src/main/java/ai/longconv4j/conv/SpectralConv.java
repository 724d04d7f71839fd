// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size.
package ai.longconv4j.conv;

/**
 * Forward and backward of {@code y = conv(u, k) + D * u} through any {@link RealTransform}: the shared driver
 * of {@link FftConv} (JTransforms) and {@link MonarchConv} (FlashButterfly).
 * <p>Forward: {@code y = irfft(rfft(pad(u, N)) * rfft(taps(k, N)))[:L]}. Backward, the gradient of a
 * convolution is a correlation, done in the frequency domain:
 * {@code du = irfft(sum_c conj(K_c) * DY_c)[:L] + sum_c D_c * dy_c},
 * {@code dk_c = taps(irfft(sum_b conj(U_b) * DY_bc))}, {@code dD_c = sum_{b,l} dy_bc * u_b}.
 * Taps are placed in the length-N buffer as: side 0 at {@code [t]}, side 1 (bidirectional k1) at {@code [N-1-t]}.
 */
abstract class SpectralConv implements Convolver {
    private final ConvPlan plan;
    private final RealTransform tf;
    private final String name;

    SpectralConv(String name, ConvPlan plan, RealTransform tf) {
        this.name = name;
        this.plan = plan;
        this.tf = tf;
    }

    @Override public ConvPlan plan() { return plan; }

    /** Rounds to the plan's precision (F32: to float values). */
    private double round(double v) { return plan.precision() == Precision.F32 ? (float) v : v; }

    /** Spectra of all (c, h) kernels: layout (C*H, spectrumLength). */
    double[] kernelSpectra(ConvShape s, double[] k) {
        int chN = s.channels() * s.features(), sl = tf.spectrumLength(), n = tf.size();
        double[] spec = new double[chN * sl];
        Par.forRange(chN, 8L * n, (from, to) -> {
            Object w = tf.newWork();
            double[] x = new double[n];
            for (int ch = from; ch < to; ch++) {
                java.util.Arrays.fill(x, 0);
                placeTaps(s, k, ch, x);
                tf.forward(x, spec, ch * sl, w);
            }
        });
        return spec;
    }

    static void placeTaps(ConvShape s, double[] k, int ch, double[] x) {
        int lk = s.kernelLength(), sides = s.mode().sides(), ko = ch * sides * lk, n = x.length;
        for (int t = 0, t0 = s.taps(0); t < t0; t++) x[t] = k[ko + t];
        if (sides == 2) for (int t = 0, t1 = s.taps(1); t < t1; t++) x[n - 1 - t] = k[ko + lk + t];
    }

    static void gatherTaps(ConvShape s, double[] x, int ch, double[] dk) {
        int lk = s.kernelLength(), sides = s.mode().sides(), ko = ch * sides * lk, n = x.length;
        for (int t = 0, t0 = s.taps(0); t < t0; t++) dk[ko + t] = x[t];
        if (sides == 2) for (int t = 0, t1 = s.taps(1); t < t1; t++) dk[ko + lk + t] = x[n - 1 - t];
    }

    /** The spectra a {@link #forwardKeep} saves: u's (B*H, spectrumLength) and k's (C*H, spectrumLength). */
    record Spectra(double[] u, double[] k) {}

    @Override
    public double[] forward(ConvShape s, double[] u, double[] k, double[] d) { return run(s, u, k, d, false).y(); }

    /** Keeps u's and k's spectra (B*H + C*H rows of N-ish doubles) so the backward skips re-transforming them. */
    @Override
    public Forward forwardKeep(ConvShape s, double[] u, double[] k, double[] d) { return run(s, u, k, d, true); }

    private Forward run(ConvShape s, double[] u, double[] k, double[] d, boolean keep) {
        String op = name + ".forward";
        checkPlan(op, s);
        s.checkForward(op, u.length, k.length, k, d == null ? -1 : d.length);
        double[] kspec = kernelSpectra(s, k);
        int hN = s.features(), cN = s.channels(), n = s.length(), nFft = tf.size(), sl = tf.spectrumLength();
        double[] y = new double[s.ySize()];
        double[] uAll = keep ? new double[s.batch() * hN * sl] : null;
        Par.forRange(s.batch() * hN, 8L * nFft * (cN + 1), (from, to) -> {
            Object w = tf.newWork();
            double[] x = new double[nFft], us = new double[sl], ys = new double[sl];
            for (int r = from; r < to; r++) {
                int b = r / hN, h = r % hN, uo = r * n;
                java.util.Arrays.fill(x, 0);
                System.arraycopy(u, uo, x, 0, n);
                double[] ua = keep ? uAll : us;
                int ao = keep ? r * sl : 0;
                tf.forward(x, ua, ao, w);
                for (int c = 0; c < cN; c++) {
                    tf.mul(ua, ao, kspec, (c * hN + h) * sl, ys, 0, false, false);
                    tf.inverse(ys, 0, x, w);
                    double skip = d == null ? 0 : d[c * hN + h];
                    int yo = ((b * cN + c) * hN + h) * n;
                    for (int i = 0; i < n; i++) y[yo + i] = round(x[i] + skip * u[uo + i]);
                }
            }
        });
        return new Forward(y, keep ? new Spectra(uAll, kspec) : null);
    }

    @Override
    public ConvGrads backward(ConvShape s, double[] u, double[] k, double[] d, double[] dy) { return backward(s, u, k, d, dy, null); }

    @Override
    public ConvGrads backward(ConvShape s, double[] u, double[] k, double[] d, double[] dy, Object saved) {
        String op = name + ".backward";
        checkPlan(op, s);
        s.checkForward(op, u.length, k.length, k, d == null ? -1 : d.length);
        s.checkGrad(op, dy.length);
        Spectra sp = saved instanceof Spectra x ? x : null;
        double[] kspec = sp != null ? sp.k() : kernelSpectra(s, k);
        int bN = s.batch(), hN = s.features(), cN = s.channels(), n = s.length(), nFft = tf.size(), sl = tf.spectrumLength();
        double[] du = new double[s.uSize()], dk = new double[s.kSize()], dD = new double[s.dSize()];
        // Parallel over features h: dk and dD sum over the batch, so one h belongs to one task.
        Par.forRange(hN, 8L * nFft * bN * (2 * cN + 1), (from, to) -> {
            Object w = tf.newWork();
            double[] x = new double[nFft], us = new double[sl], dys = new double[sl], dus = new double[sl];
            double[] dks = new double[cN * sl];
            for (int h = from; h < to; h++) {
                java.util.Arrays.fill(dks, 0);
                for (int b = 0; b < bN; b++) {
                    int uo = (b * hN + h) * n;
                    double[] ua = us;
                    int ao = 0;
                    if (sp != null) {
                        ua = sp.u();
                        ao = (b * hN + h) * sl;
                    } else {
                        java.util.Arrays.fill(x, 0);
                        System.arraycopy(u, uo, x, 0, n);
                        tf.forward(x, us, 0, w);
                    }
                    for (int c = 0; c < cN; c++) {
                        int yo = ((b * cN + c) * hN + h) * n;
                        java.util.Arrays.fill(x, 0);
                        System.arraycopy(dy, yo, x, 0, n);
                        tf.forward(x, dys, 0, w);
                        tf.mul(kspec, (c * hN + h) * sl, dys, 0, dus, 0, true, c > 0);
                        tf.mul(ua, ao, dys, 0, dks, c * sl, true, b > 0);
                        double dot = 0, skip = d == null ? 0 : d[c * hN + h];
                        for (int i = 0; i < n; i++) {
                            dot += dy[yo + i] * u[uo + i];
                            du[uo + i] += skip * dy[yo + i];
                        }
                        if (d != null) dD[c * hN + h] += dot;
                    }
                    tf.inverse(dus, 0, x, w);
                    for (int i = 0; i < n; i++) du[uo + i] = round(du[uo + i] + x[i]);
                }
                for (int c = 0; c < cN; c++) {
                    tf.inverse(dks, c * sl, x, w);
                    gatherTaps(s, x, c * hN + h, dk);
                }
            }
        });
        if (plan.precision() == Precision.F32) {
            for (int i = 0; i < dk.length; i++) dk[i] = round(dk[i]);
            for (int i = 0; i < dD.length; i++) dD[i] = round(dD[i]);
        }
        return new ConvGrads(du, dk, dD);
    }
}
