// Shapes: x (any) -> same shape.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.Tensor;

/**
 * Gaussian error linear unit, {@code x · Φ(x)} ({@link Approximation#EXACT}, with the error function)
 * or its tanh approximation {@code 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))} ({@link Approximation#TANH}).
 *
 * <pre>{@code
 * jshell> new GELU().forward(Tensor.of(new double[] {0, 1}, 2))
 * $1 ==> Tensor(shape=[2], F64, cpu, [0.0, 0.841345])
 * }</pre>
 */
public final class GELU extends Module {
    /** Which formula to use. */
    public enum Approximation {
        /** {@code x · Φ(x)}. */
        EXACT,
        /** The tanh approximation. */
        TANH
    }

    private final Approximation approximation;

    /** Exact GELU. */
    public GELU() {
        this(Approximation.EXACT);
    }

    /** GELU with the given formula. */
    public GELU(Approximation approximation) {
        this.approximation = java.util.Objects.requireNonNull(approximation, "approximation");
    }

    /** The formula in use. */
    public Approximation approximation() {
        return approximation;
    }

    @Override
    public Tensor forward(Tensor x) {
        return approximation == Approximation.EXACT ? x.gelu() : x.geluTanh();
    }

    @Override
    protected String describe() {
        return approximation == Approximation.EXACT ? "GELU" : "GELU(tanh)";
    }
}
