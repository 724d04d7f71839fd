// Shape legend: N transform size. Slow twin, O(N^2) (or O(N) per requested bin).
package ai.longconv4j.conv;

/**
 * The O(N^2) DFT, the slow twin of the JTransforms and Monarch FFTs. Complex arrays are interleaved:
 * {@code x[2*j] = Re x_j, x[2*j+1] = Im x_j}. Convention {@code X[k] = sum_j x[j] * exp(-2 pi i j k / N)};
 * the inverse uses {@code exp(+...)} and scales by 1/N. Angles are reduced exactly with {@code (j*k) mod N}.
 */
public final class NaiveDft {
    private NaiveDft() {}

    /** Forward DFT of interleaved complex x (length 2N). */
    public static double[] forward(double[] x) { return transform(x, -1, 1.0); }

    /** Inverse DFT (scaled by 1/N) of interleaved complex x. */
    public static double[] inverse(double[] x) { return transform(x, +1, 1.0 / (x.length / 2)); }

    /** One bin {@code X[k]} of the forward DFT, as {re, im}. */
    public static double[] bin(double[] x, int k) {
        int n = x.length / 2;
        double re = 0, im = 0;
        for (int j = 0; j < n; j++) {
            double a = -2 * Math.PI * (((long) j * k) % n) / n;
            double c = Math.cos(a), s = Math.sin(a);
            re += x[2 * j] * c - x[2 * j + 1] * s;
            im += x[2 * j] * s + x[2 * j + 1] * c;
        }
        return new double[] {re, im};
    }

    private static double[] transform(double[] x, int sign, double scale) {
        if (x.length % 2 != 0 || x.length == 0) {
            throw new IllegalArgumentException("NaiveDft: interleaved complex input needs an even, non-zero length, got " + x.length);
        }
        int n = x.length / 2;
        double[] cos = new double[n], sin = new double[n];
        for (int j = 0; j < n; j++) {
            cos[j] = Math.cos(2 * Math.PI * j / n);
            sin[j] = sign * Math.sin(2 * Math.PI * j / n);
        }
        double[] out = new double[2 * n];
        for (int k = 0; k < n; k++) {
            double re = 0, im = 0;
            for (int j = 0; j < n; j++) {
                int m = (int) (((long) j * k) % n);
                re += x[2 * j] * cos[m] - x[2 * j + 1] * sin[m];
                im += x[2 * j] * sin[m] + x[2 * j + 1] * cos[m];
            }
            out[2 * k] = re * scale;
            out[2 * k + 1] = im * scale;
        }
        return out;
    }
}
