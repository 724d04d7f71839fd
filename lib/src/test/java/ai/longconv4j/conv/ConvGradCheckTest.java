// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.conv;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Central-difference gradient checks (F64) of the hand-written spectral backward for u, k and D, in every
 * mode and engine, with negative controls.
 */
class ConvGradCheckTest {
    static final double EPS = 1e-5;
    // The loss sum(y * w) is linear in each argument, so central differences have no truncation error; what
    // is left is rounding, ~eps64 * |loss| / EPS ~ 1e-11 for |loss| ~ 10. 1e-8 is far above it and far below
    // any real mistake (a wrong tap or a missing conj changes gradients by O(0.1)).
    static final double TOL = 1e-8;

    /** Numerical gradient of f at x (x is perturbed in place and restored). */
    static double[] numericGrad(Function<double[], Double> f, double[] x, double eps) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double old = x[i];
            x[i] = old + eps;
            double up = f.apply(x);
            x[i] = old - eps;
            double down = f.apply(x);
            x[i] = old;
            g[i] = (up - down) / (2 * eps);
        }
        return g;
    }

    @Test
    void gradientsOfUKAndDMatchCentralDifferences() {
        for (ConvEngine e : new ConvEngine[] {ConvEngine.FFT, ConvEngine.MONARCH}) {
            for (ConvMode mode : ConvMode.values()) {
                int l = mode == ConvMode.CIRCULAR && e == ConvEngine.MONARCH ? 32 : 7;
                ConvShape s = new ConvShape(2, 2, 3, l, 5, mode);
                SplittableRandom rng = new SplittableRandom(40 + mode.ordinal());
                double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.5);
                double[] d = Check.randn(rng, s.dSize(), 1), w = Check.randn(rng, s.ySize(), 1);
                Convolver conv = ConvPlan.of(l, 5, mode, e, Precision.F64).newConvolver();
                ConvGrads g = conv.backward(s, u, k, d, w);
                String what = e + " " + mode;
                Check.assertClose(g.du(), numericGrad(x -> Check.dot(conv.forward(s, x, k, d), w), u, EPS), TOL, 0, what + " du");
                Check.assertClose(g.dk(), numericGrad(x -> Check.dot(conv.forward(s, u, x, d), w), k, EPS), TOL, 0, what + " dk");
                Check.assertClose(g.dD(), numericGrad(x -> Check.dot(conv.forward(s, u, k, x), w), d, EPS), TOL, 0, what + " dD");
            }
        }
    }

    @Test
    void negativeControls() {
        ConvShape s = new ConvShape(1, 1, 2, 9, 4, ConvMode.CAUSAL);
        SplittableRandom rng = new SplittableRandom(50);
        double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.5), w = Check.randn(rng, s.ySize(), 1);
        Convolver conv = ConvPlan.of(9, 4, ConvMode.CAUSAL, ConvEngine.FFT, Precision.F64).newConvolver();
        double[] num = numericGrad(x -> Check.dot(conv.forward(s, x, k, null), w), u, EPS);
        // 1. A convolution instead of a correlation (dy convolved with k, not correlated) must be caught.
        double[] wrong = conv.forward(new ConvShape(1, 1, 2, 9, 4, ConvMode.CAUSAL), w, k, null);
        assertThrows(AssertionError.class, () -> Check.assertClose(wrong, num, TOL, 0, "conv instead of correlation"));
        // 2. A kernel gradient off by one tap must be caught.
        double[] dk = conv.backward(s, u, k, null, w).dk();
        double[] shifted = new double[dk.length];
        System.arraycopy(dk, 0, shifted, 1, dk.length - 1);
        double[] numK = numericGrad(x -> Check.dot(conv.forward(s, u, x, null), w), k, EPS);
        assertThrows(AssertionError.class, () -> Check.assertClose(shifted, numK, TOL, 0, "shifted dk"));
        // 3. A too-small step in F32 arithmetic fails the same tolerance (the check is not vacuous).
        Convolver f32 = ConvPlan.of(9, 4, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F32).newConvolver();
        double[] num32 = numericGrad(x -> Check.dot(f32.forward(s, x, k, null), w), u, 1e-7);
        assertThrows(AssertionError.class, () -> Check.assertClose(conv.backward(s, u, k, null, w).du(), num32, TOL, 0, "f32 tiny eps"));
    }
}
