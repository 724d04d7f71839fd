// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps. Slow twin, O(B*C*H*L*Lk).
package ai.longconv4j.conv;

/**
 * The slow twin of every convolution engine: direct sums in double, straight from the definitions in
 * {@link ConvMode}. Layouts as in {@link ConvShape}. Not parallel, not fast; it is the reference.
 * <pre>{@code
 * jshell> DirectConv.forward(new ConvShape(1, 1, 1, 3, 2, ConvMode.CAUSAL), new double[]{1, 2, 3}, new double[]{1, 10}, null)
 * $1 ==> double[3] { 1.0, 12.0, 23.0 }
 * }</pre>
 */
public final class DirectConv {
    private DirectConv() {}

    /** y (B, C, H, L) = conv(u, k) + D * u; D may be null. */
    public static double[] forward(ConvShape s, double[] u, double[] k, double[] d) {
        s.checkForward("DirectConv.forward", u.length, k.length, k, d == null ? -1 : d.length);
        int bN = s.batch(), cN = s.channels(), hN = s.features(), n = s.length(), lk = s.kernelLength();
        int sides = s.mode().sides();
        int t0 = s.taps(0), t1 = sides == 2 ? s.taps(1) : 0;
        double[] y = new double[s.ySize()];
        for (int b = 0; b < bN; b++) {
            for (int c = 0; c < cN; c++) {
                for (int h = 0; h < hN; h++) {
                    int uo = (b * hN + h) * n, yo = ((b * cN + c) * hN + h) * n, ko = (c * hN + h) * sides * lk;
                    double skip = d == null ? 0 : d[c * hN + h];
                    for (int i = 0; i < n; i++) {
                        double acc = skip * u[uo + i];
                        for (int t = 0; t < t0; t++) {
                            int j = i - t;
                            if (s.mode() == ConvMode.CIRCULAR) j = Math.floorMod(j, n);
                            if (j >= 0) acc += k[ko + t] * u[uo + j];
                        }
                        for (int t = 0; t < t1; t++) {
                            int j = i + 1 + t;
                            if (j < n) acc += k[ko + lk + t] * u[uo + j];
                        }
                        y[yo + i] = acc;
                    }
                }
            }
        }
        return y;
    }

    /** Gradients of {@code sum(y * dy)}: the transposed direct sums (du, dk, dD); D may be null. */
    public static ConvGrads backward(ConvShape s, double[] u, double[] k, double[] d, double[] dy) {
        s.checkForward("DirectConv.backward", u.length, k.length, k, d == null ? -1 : d.length);
        s.checkGrad("DirectConv.backward", dy.length);
        int bN = s.batch(), cN = s.channels(), hN = s.features(), n = s.length(), lk = s.kernelLength();
        int sides = s.mode().sides();
        int t0 = s.taps(0), t1 = sides == 2 ? s.taps(1) : 0;
        double[] du = new double[s.uSize()], dk = new double[s.kSize()], dD = new double[s.dSize()];
        for (int b = 0; b < bN; b++) {
            for (int c = 0; c < cN; c++) {
                for (int h = 0; h < hN; h++) {
                    int uo = (b * hN + h) * n, yo = ((b * cN + c) * hN + h) * n, ko = (c * hN + h) * sides * lk;
                    double skip = d == null ? 0 : d[c * hN + h];
                    for (int i = 0; i < n; i++) {
                        double g = dy[yo + i];
                        du[uo + i] += skip * g;
                        if (d != null) dD[c * hN + h] += g * u[uo + i];
                        for (int t = 0; t < t0; t++) {
                            int j = i - t;
                            if (s.mode() == ConvMode.CIRCULAR) j = Math.floorMod(j, n);
                            if (j >= 0) {
                                du[uo + j] += k[ko + t] * g;
                                dk[ko + t] += u[uo + j] * g;
                            }
                        }
                        for (int t = 0; t < t1; t++) {
                            int j = i + 1 + t;
                            if (j < n) {
                                du[uo + j] += k[ko + lk + t] * g;
                                dk[ko + lk + t] += u[uo + j] * g;
                            }
                        }
                    }
                }
            }
        }
        return new ConvGrads(du, dk, dD);
    }

    /** The slow twin as a {@link Convolver} (plan engine DIRECT). */
    static final class Engine implements Convolver {
        private final ConvPlan plan;

        Engine(ConvPlan plan) { this.plan = plan; }

        @Override public ConvPlan plan() { return plan; }

        @Override
        public double[] forward(ConvShape s, double[] u, double[] k, double[] d) {
            checkPlan("DirectConv.forward", s);
            return DirectConv.forward(s, u, k, d);
        }

        @Override
        public ConvGrads backward(ConvShape s, double[] u, double[] k, double[] d, double[] dy) {
            checkPlan("DirectConv.backward", s);
            return DirectConv.backward(s, u, k, d, dy);
        }
    }
}
