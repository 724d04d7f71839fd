// Shape legend: arrays are compared element by element in row-major order; shapes must match.
package ai.longconv4j.testing;

import ai.longconv4j.tensor.Tensor;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Closeness assertions shared by all tests: element i passes when
 * {@code |actual[i] - expected[i]| <= atol + rtol * |expected[i]|} (numpy's allclose rule). On failure
 * the message lists the first mismatches, the count, and the max abs / rel error.
 */
public final class Assertions2 {
    private Assertions2() {}

    private static final int SHOW = 8;

    public static void assertClose(double[] actual, double[] expected, double atol, double rtol) {
        assertClose(actual, expected, atol, rtol, "");
    }

    public static void assertClose(double[] actual, double[] expected, double atol, double rtol, String what) {
        String msg = describe(actual, expected, atol, rtol);
        if (msg != null) fail((what.isEmpty() ? "" : what + ": ") + msg);
    }

    public static void assertClose(float[] actual, float[] expected, double atol, double rtol) {
        assertClose(toDouble(actual), toDouble(expected), atol, rtol, "");
    }

    /** Compares shapes exactly and values with atol/rtol. */
    public static void assertClose(Tensor actual, Tensor expected, double atol, double rtol) {
        assertClose(actual, expected, atol, rtol, "");
    }

    public static void assertClose(Tensor actual, Tensor expected, double atol, double rtol, String what) {
        if (!Arrays.equals(actual.shape(), expected.shape()))
            fail((what.isEmpty() ? "" : what + ": ") + "shape " + Arrays.toString(actual.shape()) + " != expected "
                    + Arrays.toString(expected.shape()));
        assertClose(actual.toDoubleArray(), expected.toDoubleArray(), atol, rtol, what);
    }

    public static void assertClose(Tensor actual, double[] expected, double atol, double rtol) {
        assertClose(actual.toDoubleArray(), expected, atol, rtol, "");
    }

    /** null when close, else the failure description. */
    public static String describe(double[] actual, double[] expected, double atol, double rtol) {
        if (actual.length != expected.length)
            return "length " + actual.length + " != expected " + expected.length;
        StringBuilder sb = new StringBuilder();
        int bad = 0;
        double maxAbs = 0, maxRel = 0;
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i], e = expected[i], err = Math.abs(a - e);
            boolean ok = err <= atol + rtol * Math.abs(e) || (a == e);   // a == e also covers equal infinities
            if (Double.isNaN(a) != Double.isNaN(e)) ok = false;
            if (!Double.isNaN(err)) {
                maxAbs = Math.max(maxAbs, err);
                maxRel = Math.max(maxRel, err / Math.max(Math.abs(e), 1e-300));
            }
            if (!ok) {
                if (bad < SHOW) sb.append(String.format("%n  [%d] actual %.10g expected %.10g (abs err %.3g)", i, a, e, err));
                bad++;
            }
        }
        if (bad == 0) return null;
        return String.format("%d of %d elements differ (atol %.3g, rtol %.3g); max abs err %.4g, max rel err %.4g; first:%s",
                bad, actual.length, atol, rtol, maxAbs, maxRel, sb);
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
