// Shapes: x (..., D) -> (..., D); the body must preserve the shape.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * Residual connection: {@code y = x + body(x)}, or with a pre-norm {@code y = x + body(norm(x))}.
 * The body (and norm) are registered as {@code "body"} (and {@code "norm"}).
 *
 * <pre>{@code
 * jshell> var block = Residual.preNorm(new LayerNorm(8, DType.F32), new Linear(8, 8, Rng.seeded(3)))
 * }</pre>
 */
public final class Residual extends Module {
    private final Module norm;
    private final Module body;

    /** {@code x + body(x)}. */
    public Residual(Module body) {
        this(null, body);
    }

    private Residual(Module norm, Module body) {
        Objects.requireNonNull(body, "body");
        this.norm = norm == null ? null : register("norm", norm);
        this.body = register("body", body);
    }

    /** {@code x + body(norm(x))}. */
    public static Residual preNorm(Module norm, Module body) {
        return new Residual(Objects.requireNonNull(norm, "norm"), body);
    }

    /** The wrapped body. */
    public Module body() {
        return body;
    }

    /** The pre-norm, or {@code null}. */
    public Module norm() {
        return norm;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor fx = body.forward(norm == null ? x : norm.forward(x));
        if (!Arrays.equals(fx.shape(), x.shape())) {
            throw new IllegalArgumentException("Residual: body must preserve the shape, got x "
                    + Arrays.toString(x.shape()) + " -> " + Arrays.toString(fx.shape()));
        }
        return x.add(fx);
    }

    @Override
    protected String describe() {
        return norm == null ? "Residual" : "Residual(pre-norm)";
    }
}
