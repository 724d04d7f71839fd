// Shapes: gradients have the shapes of their parameters.
package ai.longconv4j.optim;

import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.Tensor;
import java.util.Collection;

/** Gradient clipping. */
public final class GradClip {
    /** Added to the norm in the scale {@code maxNorm / (norm + NORM_EPS)} so a zero norm cannot divide by zero. */
    public static final double NORM_EPS = 1e-6;

    private GradClip() {
    }

    /**
     * Scales all gradients by {@code maxNorm / (norm + 1e-6)} when their global L2 norm (over all
     * entries of all gradients) exceeds {@code maxNorm}. Parameters without a gradient are ignored.
     *
     * <pre>{@code
     * jshell> double norm = GradClip.clipGradNorm(model.parameters(), 1.0)
     * }</pre>
     *
     * @return the global norm before clipping (NaN or infinite if a gradient is)
     */
    public static double clipGradNorm(Collection<Parameter> params, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("clipGradNorm: maxNorm must be positive, got " + maxNorm);
        }
        double sq = 0;
        Tensor onDevice = null;        // device gradients: the squares summed there in F64, one host read at the end
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g != null) {
                Tensor d = g.detach();
                if (d.device().isCpu()) {
                    sq += d.mul(d).sum().item();
                } else {
                    Tensor s = d.mul(d).sum().to(ai.longconv4j.tensor.DType.F64);
                    onDevice = onDevice == null ? s : onDevice.add(s.to(onDevice.device()));
                }
            }
        }
        if (onDevice != null) {
            sq += onDevice.item();
        }
        double norm = Math.sqrt(sq);
        if (norm > maxNorm) {
            double scale = maxNorm / (norm + NORM_EPS);
            for (Parameter p : params) {
                p.scaleGrad(scale);
            }
        }
        return norm;
    }
}
