// Shape legend: not shape-specific.
package ai.longconv4j.tensor;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/** Deterministic random generators: the same seed gives the same stream on every JDK 17+. */
public final class Rng {
    private Rng() {}

    /**
     * A seeded generator ({@link SplittableRandom}, whose algorithm is specified).
     *
     * <pre>{@code
     * jshell> Tensor.randn(Rng.seeded(0), DType.F32, 2, 3)
     * }</pre>
     */
    public static RandomGenerator seeded(long seed) {
        return new SplittableRandom(seed);
    }
}
