// Shape legend: N complex FFT size; arrays interleaved (re, im) unless planar.
package ai.longconv4j.conv;

import org.jtransforms.fft.DoubleFFT_1D;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class MonarchFftTest {

    // Tolerances (issue 3): rel err <= 1e-12 in F64, <= 1e-5 in F32. A dense-block FFT's error grows like
    // eps * sqrt(sum of block sizes) (~1e-15 for F64, ~1e-6 for F32 at 2^20), well inside both bounds.
    static final double TOL_F64 = 1e-12, TOL_F32 = 1e-5;

    private static double[] jtransforms(double[] x) {
        double[] a = x.clone();
        new DoubleFFT_1D(x.length / 2).complexForward(a);
        return a;
    }

    @Test
    void matchesJTransformsForEveryPowerOfTwoUpTo2To16() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int log = 4; log <= 16; log++) {
            int n = 1 << log;
            double[] x = Check.randn(rng, 2 * n, 1);
            double[] ref = jtransforms(x);
            double e64 = Check.relErr(new MonarchFft(n, Precision.F64).transform(x), ref);
            assertTrue(e64 <= TOL_F64, "N=" + n + " F64 rel err " + e64);
            double[] xf = Check.roundToFloat(x);
            double e32 = Check.relErr(new MonarchFft(n, Precision.F32).transform(xf), jtransforms(xf));
            assertTrue(e32 <= TOL_F32, "N=" + n + " F32 rel err " + e32);
            assertTrue(e32 > 1e-10, "N=" + n + " F32 must actually round (rel err " + e32 + ")");
        }
    }

    @Test
    void matchesNaiveDft() {
        SplittableRandom rng = new SplittableRandom(2);
        for (int log = 4; log <= 10; log++) {          // full O(N^2) comparison
            int n = 1 << log;
            double[] x = Check.randn(rng, 2 * n, 1);
            double e = Check.relErr(new MonarchFft(n, Precision.F64).transform(x), NaiveDft.forward(x));
            assertTrue(e <= TOL_F64, "N=" + n + " rel err vs naive " + e);
        }
        for (int log : new int[] {11, 13, 16}) {       // sampled bins, O(N) each (all sizes are checked against JTransforms above)
            int n = 1 << log;
            double[] x = Check.randn(rng, 2 * n, 1);
            sampledBinsAgree(new MonarchFft(n, Precision.F64).transform(x), x, rng, TOL_F64);
        }
    }

    /** 48 bins (including 0, 1, N/2, N-1) against the naive sum, relative to the spectrum's rms. */
    private static void sampledBinsAgree(double[] got, double[] x, SplittableRandom rng, double tol) {
        int n = x.length / 2;
        double rms = Math.sqrt(Check.dot(got, got) / n);
        for (int s = 0; s < 48; s++) {
            int k = switch (s) { case 0 -> 0; case 1 -> 1; case 2 -> n / 2; case 3 -> n - 1; default -> rng.nextInt(n); };
            double[] want = NaiveDft.bin(x, k);
            double err = Math.hypot(got[2 * k] - want[0], got[2 * k + 1] - want[1]) / rms;
            assertTrue(err <= tol, "N=" + n + " bin " + k + " rel err " + err);
        }
    }

    @Test
    void threePassPathAt2To20() {
        int n = 1 << 20;
        ConvPlan plan = ConvPlan.of(n, n, ConvMode.CIRCULAR, ConvEngine.MONARCH, Precision.F64);
        assertEquals(3, ConvPlan.of(1 << 20, 1 << 20, ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F64).passes());
        assertEquals(3, plan.passes(), plan.toString());
        SplittableRandom rng = new SplittableRandom(3);
        double[] x = Check.randn(rng, 2 * n, 1);
        MonarchFft fft = new MonarchFft(n, Precision.F64);
        assertEquals(4, fft.factors().length, "2^20 uses an outer block over an inner 3-factor FFT");
        double[] got = fft.transform(x);
        double e = Check.relErr(got, jtransforms(x));
        assertTrue(e <= TOL_F64, "2^20 F64 rel err " + e);
        sampledBinsAgree(got, x, rng, TOL_F64);
        double[] xf = Check.roundToFloat(x);
        double e32 = Check.relErr(new MonarchFft(n, Precision.F32).transform(xf), jtransforms(xf));
        assertTrue(e32 <= TOL_F32, "2^20 F32 rel err " + e32);
    }

    @Test
    void twoAndThreeFactorsAgreeAndRoundTrip() {
        SplittableRandom rng = new SplittableRandom(4);
        int n = 4096;
        double[] x = Check.randn(rng, 2 * n, 1);
        double[] ref = NaiveDft.forward(x);
        for (int[] f : new int[][] {{64, 64}, {16, 256}, {16, 16, 16}, {8, 8, 8, 8}, {2, 2048}}) {
            MonarchFft fft = new MonarchFft(f, Precision.F64);
            assertTrue(Check.relErr(fft.transform(x), ref) <= TOL_F64, fft.toString());
            double[] re = new double[n], im = new double[n];
            for (int i = 0; i < n; i++) {
                re[i] = x[2 * i];
                im[i] = x[2 * i + 1];
            }
            double[][] w = fft.newWork();
            fft.forward(re, im, w);
            fft.inverse(re, im, w);   // permuted in, natural out, 1/N folded into the twiddles
            double[] back = new double[2 * n];
            for (int i = 0; i < n; i++) {
                back[2 * i] = re[i];
                back[2 * i + 1] = im[i];
            }
            assertTrue(Check.relErr(back, x) <= TOL_F64, "round trip " + fft);
        }
    }

    @Test
    void fusedThreePassConvolutionMatchesJTransforms() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int n : new int[] {1 << 8, 1 << 12, 1 << 17}) {   // 2, 3 and 4 factors (the last: an outer block over 3)
            MonarchFft fft = new MonarchFft(n, Precision.F64);
            double[] x = Check.randn(rng, 2 * n, 1), h = Check.randn(rng, 2 * n, 1);
            // Reference: circular convolution through JTransforms, IFFT(FFT(x) * FFT(h)).
            double[] xs = jtransforms(x), hs = jtransforms(h), ref = new double[2 * n];
            for (int i = 0; i < n; i++) {
                ref[2 * i] = xs[2 * i] * hs[2 * i] - xs[2 * i + 1] * hs[2 * i + 1];
                ref[2 * i + 1] = xs[2 * i] * hs[2 * i + 1] + xs[2 * i + 1] * hs[2 * i];
            }
            new DoubleFFT_1D(n).complexInverse(ref, true);
            // The kernel spectrum is computed once, in the permuted order, and never un-permuted.
            double[] kr = new double[n], ki = new double[n], re = new double[n], im = new double[n];
            for (int i = 0; i < n; i++) {
                kr[i] = h[2 * i];
                ki[i] = h[2 * i + 1];
                re[i] = x[2 * i];
                im[i] = x[2 * i + 1];
            }
            double[][] w = fft.newWork();
            fft.forward(kr, ki, w);
            fft.convolve(re, im, kr, ki, 0, w);
            double[] got = new double[2 * n];
            for (int i = 0; i < n; i++) {
                got[2 * i] = re[i];
                got[2 * i + 1] = im[i];
            }
            double e = Check.relErr(got, ref);
            assertTrue(e <= TOL_F64, fft + " fused convolution rel err " + e);
        }
    }

    @Test
    void permutationIsTheMonarchOrder() {
        int[] perm = new MonarchFft(new int[] {4, 8}, Precision.F64).permutation();
        for (int k1 = 0; k1 < 4; k1++) for (int k2 = 0; k2 < 8; k2++) assertEquals(k1 + 4 * k2, perm[k1 * 8 + k2]);
    }

    @Test
    void badSizesAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> new MonarchFft(24, Precision.F64));
        assertTrue(e.getMessage().contains("24"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MonarchFft(8, Precision.F64));
        assertThrows(IllegalArgumentException.class, () -> new MonarchFft(new int[] {16}, Precision.F64));
        assertThrows(IllegalArgumentException.class, () -> new MonarchFft(new int[] {3, 16}, Precision.F64));
        assertThrows(IllegalArgumentException.class, () -> new MonarchFft(64, Precision.F64).transform(new double[10]));
    }
}
