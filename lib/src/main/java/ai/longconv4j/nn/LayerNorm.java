// Shapes: x (..., D) -> (..., D); weight, bias (D). D is the normalized (last) axis.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Layer normalization over the last axis: {@code y = (x - mean) / sqrt(var + eps) * weight + bias},
 * with the biased variance. Weight starts at 1 and bias at 0; neither decays.
 *
 * <pre>{@code
 * jshell> var ln = new LayerNorm(8, DType.F32)
 * ln ==> LayerNorm(8, eps=1.0E-5) (16 parameters, train)
 * }</pre>
 */
public final class LayerNorm extends Module {
    /** Default epsilon added to the variance. */
    public static final double DEFAULT_EPS = 1e-5;

    private final int width;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    /** Layer norm with {@link #DEFAULT_EPS}. */
    public LayerNorm(int width, DType dtype) {
        this(width, DEFAULT_EPS, dtype);
    }

    /**
     * @param width size D of the last axis
     * @param eps   added to the variance, must be positive
     * @param dtype parameter dtype
     */
    public LayerNorm(int width, double eps, DType dtype) {
        if (width <= 0 || !(eps > 0)) {
            throw new IllegalArgumentException("LayerNorm: width and eps must be positive, got width=" + width
                    + ", eps=" + eps);
        }
        this.width = width;
        this.eps = eps;
        this.weight = param(Parameter.noDecay("weight", Tensor.ones(dtype, width)));
        this.bias = param(Parameter.noDecay("bias", Tensor.zeros(dtype, width)));
    }

    /** Weight (scale) {@code (D)}. */
    public Parameter weight() {
        return weight;
    }

    /** Bias (shift) {@code (D)}. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        return layerNorm(x, weight.value(), bias.value(), eps);
    }

    /**
     * Functional form over the last axis.
     *
     * @param x      (..., D)
     * @param weight (D) or {@code null} for 1
     * @param bias   (D) or {@code null} for 0
     */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        int last = x.dim() - 1;
        if (last < 0) {
            throw new IllegalArgumentException("LayerNorm: expected x (..., D), got a scalar");
        }
        int d = x.size(last);
        for (Tensor t : new Tensor[] {weight, bias}) {
            if (t != null && (t.dim() != 1 || t.size(0) != d)) {
                throw new IllegalArgumentException("LayerNorm: expected x (..., D) and weight/bias (D), got x "
                        + Arrays.toString(x.shape()) + " and " + Arrays.toString(t.shape()));
            }
        }
        Tensor fused = FusedLayerNorm.apply(x, weight, bias, eps);   // a device with the fused kernels
        if (fused != null) {
            return fused;
        }
        Tensor xc = x.sub(x.mean(last, true));
        Tensor var = xc.mul(xc).mean(last, true);
        Tensor y = xc.div(var.add(eps).sqrt());
        if (weight != null) {
            y = y.mul(weight);
        }
        if (bias != null) {
            y = y.add(bias);
        }
        return y;
    }

    @Override
    protected String describe() {
        return "LayerNorm(" + width + ", eps=" + eps + ")";
    }
}
