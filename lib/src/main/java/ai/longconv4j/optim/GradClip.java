// Shapes: gradients have the shapes of their parameters.
package ai.longconv4j.optim;

import ai.longconv4j.backend.Backend;
import ai.longconv4j.backend.Backends;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

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
        double sq = deviceSumOfSquares(params);
        if (Double.isNaN(sq)) {        // gradients on the CPU, or on several devices: per gradient, composed
            sq = 0;
            Tensor onDevice = null;
            for (Parameter p : params) {
                Tensor g = p.grad();
                if (g != null) {
                    Tensor d = g.detach();
                    if (d.device().isCpu()) {
                        sq += d.mul(d).sum().item();
                    } else {
                        Tensor s = d.mul(d).sum().to(DType.F64);
                        onDevice = onDevice == null ? s : onDevice.add(s.to(onDevice.device()));
                    }
                }
            }
            if (onDevice != null) {
                sq += onDevice.item();
            }
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

    /**
     * The squared global norm when every gradient lives on one non-CPU device: one fused sum of squares per
     * gradient into its slot of an F64 vector there ({@link Backend#sumSquares}, no temporaries), the vector summed
     * there and read once. NaN when the gradients are on the CPU or on several devices (or there are none).
     */
    static double deviceSumOfSquares(Collection<Parameter> params) {
        Device dev = null;
        List<Tensor> grads = new ArrayList<>();
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            if (g.device().isCpu() || (dev != null && !dev.equals(g.device()))) {
                return Double.NaN;
            }
            dev = g.device();
            grads.add(g.detach().contiguous());
        }
        if (dev == null) {
            return Double.NaN;
        }
        Backend be = Backends.forDevice(dev);
        Tensor slots = Tensor.zeros(dev, DType.F64, grads.size());
        for (int k = 0; k < grads.size(); k++) {
            Tensor g = grads.get(k);
            be.sumSquares(g.storage(), g.offset(), g.numel(), slots.storage(), k);
        }
        return slots.sum().item();
    }
}
