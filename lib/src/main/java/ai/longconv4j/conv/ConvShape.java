// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps (per side).
package ai.longconv4j.conv;

import java.util.Arrays;

/**
 * The sizes of one convolution call on flat row-major arrays, and their checks.
 * <pre>
 *   u : (B, H, L)          u[(b*H + h)*L + l]
 *   k : (C, H, sides, Lk)  k[((c*H + h)*sides + s)*Lk + t]   (sides = 2 for bidirectional: s=0 is k0, s=1 is k1)
 *   D : (C, H)             D[c*H + h]                        (may be null: no skip term)
 *   y : (B, C, H, L)       y[((b*C + c)*H + h)*L + l]        (channels flatten to C*H)
 * </pre>
 * <pre>{@code
 * jshell> new ConvShape(8, 2, 64, 1024, 1024, ConvMode.CAUSAL)
 * $1 ==> ConvShape[batch=8, channels=2, features=64, length=1024, kernelLength=1024, mode=CAUSAL]
 * }</pre>
 */
public record ConvShape(int batch, int channels, int features, int length, int kernelLength, ConvMode mode) {

    public ConvShape {
        if (mode == null) throw new IllegalArgumentException("ConvShape: mode is null");
        if (batch < 1 || channels < 1 || features < 1 || length < 1 || kernelLength < 1) {
            throw new IllegalArgumentException("ConvShape: every size must be >= 1, got B=" + batch + " C=" + channels
                    + " H=" + features + " L=" + length + " Lk=" + kernelLength);
        }
        long y = (long) batch * channels * features * length;
        long k = (long) channels * features * mode.sides() * kernelLength;
        if (y > Integer.MAX_VALUE || k > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("ConvShape: (B, C, H, L) = (" + batch + ", " + channels + ", " + features
                    + ", " + length + ") does not fit in one Java array");
        }
    }

    public int uSize() { return batch * features * length; }
    public int kSize() { return channels * features * mode.sides() * kernelLength; }
    public int dSize() { return channels * features; }
    public int ySize() { return batch * channels * features * length; }

    /** Taps of side s that can reach the input. */
    public int taps(int side) { return mode.effectiveTaps(length, kernelLength, side); }

    String uShape() { return "(B, H, L) = (" + batch + ", " + features + ", " + length + ")"; }
    String kShape() {
        return mode.sides() == 2
                ? "(C, H, 2, Lk) = (" + channels + ", " + features + ", 2, " + kernelLength + ")"
                : "(C, H, Lk) = (" + channels + ", " + features + ", " + kernelLength + ")";
    }
    String yShape() { return "(B, C, H, L) = (" + batch + ", " + channels + ", " + features + ", " + length + ")"; }

    /** Checks array lengths (and a finite kernel) for a forward call; {@code op} names the caller. */
    void checkForward(String op, int uLength, int kLength, double[] k, int dLength) {
        if (uLength != uSize()) {
            throw new IllegalArgumentException(op + ": u must hold " + uShape() + " = " + uSize() + " values, got " + uLength);
        }
        if (kLength != kSize()) {
            throw new IllegalArgumentException(op + ": k must hold " + kShape() + " = " + kSize() + " values, got " + kLength);
        }
        if (dLength >= 0 && dLength != dSize()) {
            throw new IllegalArgumentException(op + ": D must hold (C, H) = (" + channels + ", " + features + ") = "
                    + dSize() + " values, got " + dLength);
        }
        if (k != null) requireFinite(op, "kernel k " + kShape(), k);
    }

    void checkGrad(String op, int dyLength) {
        if (dyLength != ySize()) {
            throw new IllegalArgumentException(op + ": dy must hold " + yShape() + " = " + ySize() + " values, got " + dyLength);
        }
    }

    static void requireFinite(String op, String what, double[] a) {
        for (int i = 0; i < a.length; i++) {
            if (!Double.isFinite(a[i])) {
                throw new IllegalArgumentException(op + ": " + what + " has a non-finite value " + a[i] + " at flat index " + i);
            }
        }
    }

    static double[] toDouble(float[] a) {
        if (a == null) return null;
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    static double[] zeros(int n) { return new double[n]; }

    @Override
    public String toString() {
        return "ConvShape[batch=" + batch + ", channels=" + channels + ", features=" + features + ", length=" + length
                + ", kernelLength=" + kernelLength + ", mode=" + mode + "]";
    }

    static String str(int[] a) { return Arrays.toString(a); }
}
