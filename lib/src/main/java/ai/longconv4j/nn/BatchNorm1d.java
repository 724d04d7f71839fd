// Shapes: x (B, H, L) -> (B, H, L); weight, bias, runningMean, runningVar (H). B batch, H channels, L length.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Batch normalization over the channels of {@code (B, H, L)}: each channel is normalized with the
 * mean and (biased) variance over the B·L values of the batch in training mode, and with the running
 * statistics in evaluation mode. After each training forward the running statistics move towards the
 * batch ones: {@code running = (1 - momentum) · running + momentum · batch}, using the unbiased
 * variance (B·L / (B·L - 1) times the biased one). Running mean starts at 0, running variance at 1.
 *
 * <pre>{@code
 * jshell> var bn = new BatchNorm1d(4, DType.F32)
 * bn ==> BatchNorm1d(4, eps=1.0E-5, momentum=0.1) (8 parameters, train)
 * }</pre>
 */
public final class BatchNorm1d extends Module {
    /** Default epsilon added to the variance. */
    public static final double DEFAULT_EPS = 1e-5;
    /** Default weight of the newest batch in the running statistics. */
    public static final double DEFAULT_MOMENTUM = 0.1;

    private final int channels;
    private final double eps;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;

    /** Batch norm with {@link #DEFAULT_EPS} and {@link #DEFAULT_MOMENTUM}. */
    public BatchNorm1d(int channels, DType dtype) {
        this(channels, DEFAULT_EPS, DEFAULT_MOMENTUM, dtype);
    }

    /**
     * @param channels H
     * @param eps      added to the variance, positive
     * @param momentum weight of the newest batch in the running statistics, in [0, 1]
     * @param dtype    parameter and buffer dtype
     */
    public BatchNorm1d(int channels, double eps, double momentum, DType dtype) {
        if (channels <= 0 || !(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm1d: need channels > 0, eps > 0, momentum in [0, 1], got "
                    + channels + ", " + eps + ", " + momentum);
        }
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        this.weight = param(Parameter.noDecay("weight", Tensor.ones(dtype, channels)));
        this.bias = param(Parameter.noDecay("bias", Tensor.zeros(dtype, channels)));
        buffer("runningMean", Tensor.zeros(dtype, channels));
        buffer("runningVar", Tensor.ones(dtype, channels));
    }

    /** Scale {@code (H)}. */
    public Parameter weight() {
        return weight;
    }

    /** Shift {@code (H)}. */
    public Parameter bias() {
        return bias;
    }

    /** Running mean {@code (H)}. */
    public Tensor runningMean() {
        return getBuffer("runningMean");
    }

    /** Running (unbiased) variance {@code (H)}. */
    public Tensor runningVar() {
        return getBuffer("runningVar");
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() != 3 || x.size(1) != channels) {
            throw new IllegalArgumentException("BatchNorm1d: expected x (B, " + channels + ", L), got "
                    + Arrays.toString(x.shape()));
        }
        Tensor w = weight.value().reshape(1, channels, 1);
        Tensor b = bias.value().reshape(1, channels, 1);
        if (!isTraining()) {
            Tensor mean = runningMean().reshape(1, channels, 1);
            Tensor std = runningVar().add(eps).sqrt().reshape(1, channels, 1);
            return x.sub(mean).div(std).mul(w).add(b);
        }
        Normalized out = normalizeTrain(x, w, b, eps);
        int n = x.size(0) * x.size(2);
        Tensor bm = out.mean().detach().reshape(channels);
        Tensor bv = out.var().detach().reshape(channels).mul((double) n / (n - 1));
        setBuffer("runningMean", runningMean().mul(1 - momentum).add(bm.mul(momentum)));
        setBuffer("runningVar", runningVar().mul(1 - momentum).add(bv.mul(momentum)));
        return out.y();
    }

    private record Normalized(Tensor y, Tensor mean, Tensor var) {
    }

    /**
     * Functional form of the training-mode forward: normalizes each channel with the batch mean and
     * biased variance over B and L (running statistics are not involved).
     *
     * @param x      (B, H, L) with B·L &gt; 1
     * @param weight (H) or {@code null} for 1
     * @param bias   (H) or {@code null} for 0
     */
    public static Tensor batchNormTrain(Tensor x, Tensor weight, Tensor bias, double eps) {
        if (x.dim() != 3) {
            throw new IllegalArgumentException("BatchNorm1d: expected x (B, H, L), got " + Arrays.toString(x.shape()));
        }
        int h = x.size(1);
        for (Tensor t : new Tensor[] {weight, bias}) {
            if (t != null && (t.dim() != 1 || t.size(0) != h)) {
                throw new IllegalArgumentException("BatchNorm1d: expected weight/bias (" + h + "), got "
                        + Arrays.toString(t.shape()));
            }
        }
        return normalizeTrain(x, weight == null ? null : weight.reshape(1, h, 1),
                bias == null ? null : bias.reshape(1, h, 1), eps).y();
    }

    private static Normalized normalizeTrain(Tensor x, Tensor w, Tensor b, double eps) {
        if (x.size(0) * x.size(2) < 2) {
            throw new IllegalArgumentException("BatchNorm1d: training needs more than one value per channel, got x "
                    + Arrays.toString(x.shape()));
        }
        Tensor mean = x.mean(0, true).mean(2, true);                  // (1, H, 1)
        Tensor xc = x.sub(mean);
        Tensor var = xc.mul(xc).mean(0, true).mean(2, true);          // (1, H, 1), biased
        Tensor y = xc.div(var.add(eps).sqrt());
        if (w != null) {
            y = y.mul(w);
        }
        if (b != null) {
            y = y.add(b);
        }
        return new Normalized(y, mean, var);
    }

    @Override
    protected String describe() {
        return "BatchNorm1d(" + channels + ", eps=" + eps + ", momentum=" + momentum + ")";
    }
}
