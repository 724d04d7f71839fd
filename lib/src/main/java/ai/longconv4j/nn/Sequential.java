// Shapes: whatever the chain maps; each stage's output is the next stage's input.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies its stages in order. Stages are registered as {@code "0"}, {@code "1"}, ..., so parameter
 * names look like {@code "0.weight"}.
 *
 * <pre>{@code
 * jshell> var mlp = Sequential.of(new Linear(2, 8, Rng.seeded(1)), new GELU(), new Linear(8, 1, Rng.seeded(2)))
 * mlp ==> Sequential (33 parameters, train)
 *   name  type            params
 *   0     Linear(2 -> 8)      24
 *   1     GELU                 0
 *   2     Linear(8 -> 1)       9
 * }</pre>
 */
public final class Sequential extends Module {
    private final List<Module> stages = new ArrayList<>();

    /** An empty chain (the identity) to which {@link #add} appends. */
    public Sequential() {
    }

    /** A chain of the given stages. */
    public static Sequential of(Module... stages) {
        var s = new Sequential();
        for (Module m : stages) {
            s.add(m);
        }
        return s;
    }

    /** Appends a stage; returns {@code this}. */
    public Sequential add(Module stage) {
        stages.add(register(Integer.toString(stages.size()), stage));
        return this;
    }

    /** The i-th stage. */
    public Module get(int i) {
        return stages.get(i);
    }

    /** Number of stages. */
    public int size() {
        return stages.size();
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Module m : stages) {
            y = m.forward(y);
        }
        return y;
    }
}
