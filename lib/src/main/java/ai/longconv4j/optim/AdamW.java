// Shapes: every moment tensor has the shape of its parameter.
package ai.longconv4j.optim;

import ai.longconv4j.tensor.Tensor;
import java.util.List;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter, "Decoupled Weight Decay
 * Regularization", ICLR 2019). For a parameter {@code p} with gradient {@code g} at step {@code t}
 * (1-based), with the group's {@code lr} (times the schedule), {@code wd}, {@code β1, β2, ε}:
 * <pre>
 *   p ← p − lr · wd · p                      (decoupled decay, on the value before the Adam step)
 *   m ← β1 · m + (1 − β1) · g
 *   v ← β2 · v + (1 − β2) · g²
 *   p ← p − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 * </pre>
 * The decay is scaled by lr (as in PyTorch's AdamW), so a schedule scales both terms, like the
 * paper's schedule multiplier ηₜ. State slots: {@code "expAvg"} (m) and {@code "expAvgSq"} (v).
 *
 * <pre>{@code
 * jshell> var opt = new AdamW(ParamGroups.of(model).lr(3e-4).weightDecay(0.1)
 *    ...>     .override("kernel", g -> g.withLr(1e-3).withWeightDecay(0)).build())
 * }</pre>
 */
public final class AdamW extends Optimizer {
    /** Slot of the first moment. */
    public static final String EXP_AVG = "expAvg";
    /** Slot of the second moment. */
    public static final String EXP_AVG_SQ = "expAvgSq";

    /** AdamW over the given groups (each with its lr, weight decay, betas and eps). */
    public AdamW(List<ParamGroup> groups) {
        super(groups, EXP_AVG, EXP_AVG_SQ);
    }

    /** AdamW over the given groups. */
    public AdamW(ParamGroup... groups) {
        this(List.of(groups));
    }

    @Override
    protected Tensor update(ParamGroup g, String key, Tensor p, Tensor grad, double lr, long t) {
        double b1 = g.beta1();
        double b2 = g.beta2();
        if (!p.device().isCpu()) {              // one fused kernel on a device that has it (same formula, same order)
            Tensor m0 = slot(EXP_AVG, key, p), v0 = slot(EXP_AVG_SQ, key, p);
            Tensor[] r = FusedUpdates.adamw(p, grad, m0, v0, lr, g.weightDecay(), b1, b2, g.eps(),
                    1 - Math.pow(b1, t), 1 - Math.pow(b2, t));
            if (r != null) {
                setSlot(EXP_AVG, key, r[1]);
                setSlot(EXP_AVG_SQ, key, r[2]);
                return r[0];
            }
        }
        if (g.weightDecay() != 0) {
            p = p.mul(1 - lr * g.weightDecay());
        }
        Tensor m = slot(EXP_AVG, key, p).mul(b1).add(grad.mul(1 - b1));
        Tensor v = slot(EXP_AVG_SQ, key, p).mul(b2).add(grad.mul(grad).mul(1 - b2));
        setSlot(EXP_AVG, key, m);
        setSlot(EXP_AVG_SQ, key, v);
        double bc1 = 1 - Math.pow(b1, t);
        double bc2 = 1 - Math.pow(b2, t);
        Tensor denom = v.div(bc2).sqrt().add(g.eps());
        return p.sub(m.div(denom).mul(lr / bc1));
    }
}
