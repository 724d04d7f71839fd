// Shapes: the momentum buffer has the shape of its parameter.
package ai.longconv4j.optim;

import ai.longconv4j.tensor.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent with optional (heavy-ball) momentum and coupled L2 weight decay:
 * <pre>
 *   g ← g + wd · p
 *   b ← μ · b + g          (b starts at 0; skipped when μ = 0)
 *   p ← p − lr · b         (or p − lr · g without momentum)
 * </pre>
 * State slot: {@code "momentum"}.
 *
 * <pre>{@code
 * jshell> var opt = new SGD(List.of(new ParamGroup("all", model.parameters(), 0.1, 0)), 0.9)
 * }</pre>
 */
public final class SGD extends Optimizer {
    /** Slot of the momentum buffer. */
    public static final String MOMENTUM = "momentum";

    private final double momentum;

    /**
     * @param groups   parameter groups (lr and weight decay per group)
     * @param momentum μ in [0, 1); 0 disables momentum
     */
    public SGD(List<ParamGroup> groups, double momentum) {
        super(groups, MOMENTUM);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("SGD: momentum must be in [0, 1), got " + momentum);
        }
        this.momentum = momentum;
    }

    /** Plain SGD (no momentum). */
    public SGD(ParamGroup... groups) {
        this(List.of(groups), 0);
    }

    /** The momentum coefficient μ. */
    public double momentum() {
        return momentum;
    }

    @Override
    protected Tensor update(ParamGroup g, String key, Tensor p, Tensor grad, double lr, long t) {
        Tensor d = g.weightDecay() != 0 ? grad.add(p.mul(g.weightDecay())) : grad;
        if (momentum != 0) {
            d = slot(MOMENTUM, key, p).mul(momentum).add(d);
            setSlot(MOMENTUM, key, d);
        }
        return p.sub(d.mul(lr));
    }
}
