// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.conv;

/**
 * A convolution engine built from a {@link ConvPlan}: {@code y = conv(u, k) + D * u} and its backward,
 * on the flat row-major layouts of {@link ConvShape}. D may be null (no skip term).
 * <pre>{@code
 * jshell> var conv = ConvPlan.of(1024, 1024, ConvMode.CAUSAL).newConvolver()
 * jshell> double[] y = conv.forward(new ConvShape(8, 1, 64, 1024, 1024, ConvMode.CAUSAL), u, k, d)
 * }</pre>
 */
public interface Convolver {
    ConvPlan plan();

    /** y (B, C, H, L) in the plan's precision (F32 results are rounded to float values). */
    double[] forward(ConvShape s, double[] u, double[] k, double[] d);

    /** Gradients of {@code sum(y * dy)} w.r.t. u, k and D. */
    ConvGrads backward(ConvShape s, double[] u, double[] k, double[] d, double[] dy);

    /** Float arrays in and out, same layouts. */
    default float[] forward(ConvShape s, float[] u, float[] k, float[] d) {
        return ConvShape.toFloat(forward(s, ConvShape.toDouble(u), ConvShape.toDouble(k), ConvShape.toDouble(d)));
    }

    /** Checks that a call's shape matches what the plan was built for. */
    default void checkPlan(String op, ConvShape s) {
        ConvPlan p = plan();
        if (s.length() != p.length() || s.kernelLength() != p.kernelLength() || s.mode() != p.mode()) {
            throw new IllegalArgumentException(op + ": plan is for L=" + p.length() + " Lk=" + p.kernelLength() + " "
                    + p.mode() + " but the call has L=" + s.length() + " Lk=" + s.kernelLength() + " " + s.mode());
        }
    }
}
