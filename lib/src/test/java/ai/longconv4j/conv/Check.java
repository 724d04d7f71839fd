// Shape legend: flat arrays of any shape; helpers shared by the conv tests.
package ai.longconv4j.conv;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/** assertClose / relErr / seeded random arrays for the conv tests. */
final class Check {
    private Check() {}

    /** |a - e| <= atol + rtol * |e| elementwise; on failure prints the first mismatches and the max error. */
    static void assertClose(double[] actual, double[] expected, double atol, double rtol, String what) {
        if (actual.length != expected.length) fail(what + ": length " + actual.length + " != " + expected.length);
        double maxErr = 0;
        int bad = 0;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < actual.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= atol + rtol * Math.abs(expected[i]))) {
                if (bad++ < 5) sb.append(String.format("%n  [%d] actual %.17g expected %.17g err %.3g", i, actual[i], expected[i], err));
            }
            if (!(err <= maxErr)) maxErr = err;
        }
        if (bad > 0) fail(what + ": " + bad + " of " + actual.length + " mismatches, max error " + maxErr + sb);
    }

    /** ||a - e||_2 / ||e||_2. */
    static double relErr(double[] actual, double[] expected) {
        double num = 0, den = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        return Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    static double[] randn(SplittableRandom rng, int n, double scale) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller from the seeded generator
            double u1 = 1 - rng.nextDouble(), u2 = rng.nextDouble();
            a[i] = scale * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        }
        return a;
    }

    static double[] roundToFloat(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = (float) a[i];
        return r;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
