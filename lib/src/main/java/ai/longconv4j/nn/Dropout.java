// Shapes: x (any) -> same shape.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.random.RandomGenerator;

/**
 * Inverted dropout: in training mode each entry is zeroed with probability {@code p} and the rest are
 * scaled by {@code 1 / (1 - p)}; in evaluation mode it is the identity. The module owns its seeded
 * generator, so two runs with the same seed drop the same entries.
 *
 * <pre>{@code
 * jshell> var drop = new Dropout(0.1, 42)
 * drop ==> Dropout(p=0.1) (0 parameters, train)
 * }</pre>
 */
public final class Dropout extends Module {
    private final double p;
    private final RandomGenerator rng;

    /**
     * @param p    drop probability in [0, 1)
     * @param seed seed of the module's own generator
     */
    public Dropout(double p, long seed) {
        this(p, Rng.seeded(seed));
    }

    /** Dropout drawing from {@code rng} (owned by this module from now on). */
    public Dropout(double p, RandomGenerator rng) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        }
        this.p = p;
        this.rng = java.util.Objects.requireNonNull(rng, "rng");
    }

    /** Drop probability. */
    public double p() {
        return p;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) {
            return x;
        }
        return x.dropout(p, rng, true);
    }

    @Override
    protected String describe() {
        return "Dropout(p=" + p + ")";
    }
}
