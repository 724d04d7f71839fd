// Shapes: x (..., 2D, ...) -> (..., D, ...) along the split axis (default the last one).
package ai.longconv4j.nn;

import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Gated linear unit: splits x in two halves {@code a, b} along an axis and returns
 * {@code a ⊙ sigmoid(b)}. The axis has to have even size.
 *
 * <pre>{@code
 * jshell> new GLU().forward(Tensor.ones(DType.F32, 3, 8)).shape()
 * $1 ==> int[2] { 3, 4 }
 * }</pre>
 */
public final class GLU extends Module {
    private final int axis;

    /** GLU over the last axis. */
    public GLU() {
        this(-1);
    }

    /** GLU over {@code axis} (negative counts from the end). */
    public GLU(int axis) {
        this.axis = axis;
    }

    /** The split axis as given (negative counts from the end). */
    public int axis() {
        return axis;
    }

    @Override
    public Tensor forward(Tensor x) {
        return glu(x, axis);
    }

    /** Functional form: {@code a ⊙ sigmoid(b)} with {@code a, b} the halves of x along {@code axis}. */
    public static Tensor glu(Tensor x, int axis) {
        int ax = axis < 0 ? axis + x.dim() : axis;
        if (ax < 0 || ax >= x.dim()) {
            throw new IllegalArgumentException("GLU: axis " + axis + " out of range for x "
                    + Arrays.toString(x.shape()));
        }
        int n = x.size(ax);
        if (n % 2 != 0) {
            throw new IllegalArgumentException("GLU: axis " + axis + " must have even size, got x "
                    + Arrays.toString(x.shape()));
        }
        int h = n / 2;
        return x.slice(ax, 0, h).mul(x.slice(ax, h, n).sigmoid());
    }

    @Override
    protected String describe() {
        return axis == -1 ? "GLU" : "GLU(axis=" + axis + ")";
    }
}
