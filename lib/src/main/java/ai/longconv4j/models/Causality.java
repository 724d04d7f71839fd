// Shape legend: B batch (1 here), L length, D input width, V output width.
package ai.longconv4j.models;

import ai.longconv4j.nn.Module;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * Checks that a sequence model is causal: the gradient of output position i with respect to input
 * position j is zero for every j > i. For each i it backpropagates a random projection of output i
 * (so no cancellation can hide a dependence) through one random input {@code (1, L, D)} and compares
 * the largest "future" gradient entry with the largest "past" one.
 *
 * <pre>{@code
 * jshell> Causality.assertCausal(lm, 32)                           // passes for a CAUSAL LM
 * jshell> Causality.assertCausal(bidirectionalLm, 32)
 * |  Exception java.lang.AssertionError: not causal: output 0 depends on input 1 (future/past gradient ratio 0.412 > 1e-04)
 * }</pre>
 */
public final class Causality {
    /**
     * Relative bound on a "future" gradient entry: FFT convolutions leak round-off (≈ ε·log N relative,
     * ε = 6e-8 in F32) into positions they do not depend on; 1e-4 sits far above that and far below any
     * true dependence (a random-init dependence is O(1) relative).
     */
    public static final double RELATIVE_TOLERANCE = 1e-4;

    private Causality() {
    }

    /** What one probe found: the worst future/past ratio and where. */
    public record Report(double worstRatio, int output, int input) {
        public boolean causal() {
            return worstRatio <= RELATIVE_TOLERANCE;
        }
    }

    /** Throws {@link AssertionError} unless the LM (in eval mode for the probe) is causal over length L. */
    public static void assertCausal(LongConvLM model, int length) {
        check(model, model.width(), model.dtype(), length, model::forward).orThrow();
    }

    /** The same for any module mapping (1, L, width) to (1, L, *). */
    public static void assertCausal(Module model, int width, DType dtype, int length) {
        check(model, width, dtype, length, model::forward).orThrow();
    }

    private record Outcome(Report report) {
        void orThrow() {
            if (!report.causal()) {
                throw new AssertionError("not causal: output " + report.output() + " depends on input " + report.input()
                        + String.format(" (future/past gradient ratio %.3g > %.1g)", report.worstRatio(), RELATIVE_TOLERANCE));
            }
        }
    }

    /** Probes every output position; the module is put in eval mode and restored afterwards. */
    public static Report probe(Module model, int width, DType dtype, int length) {
        return check(model, width, dtype, length, model::forward).report();
    }

    private static Outcome check(Module model, int width, DType dtype, int length, UnaryOperator<Tensor> f) {
        if (length < 2) {
            throw new IllegalArgumentException("Causality: need length >= 2 to probe, got " + length);
        }
        boolean wasTraining = model.isTraining();
        model.eval();
        try {
            var rng = Rng.seeded(12345);
            var params = model.parameters();
            var device = params.isEmpty() ? ai.longconv4j.tensor.Device.CPU : params.get(0).value().device();
            Tensor x0 = Tensor.randn(rng, dtype, 1, length, width).to(device).detach();   // probe on the model's device
            double worst = 0;
            int wi = -1;
            int wj = -1;
            for (int i = 0; i < length; i++) {
                Tensor x = x0.detach().requiresGrad(true);
                Tensor y = f.apply(x);
                int v = y.size(2);
                Tensor w = Tensor.randn(rng, y.dtype(), v).to(y.device()).detach();
                y.slice(1, i, i + 1).mul(w).sum().backward();
                double[] g = x.grad().toDoubleArray();
                double past = 0;
                for (int j = 0; j <= i; j++) {
                    for (int d = 0; d < width; d++) {
                        past = Math.max(past, Math.abs(g[j * width + d]));
                    }
                }
                for (int j = i + 1; j < length; j++) {
                    for (int d = 0; d < width; d++) {
                        double r = Math.abs(g[j * width + d]) / Math.max(past, Double.MIN_NORMAL);
                        if (r > worst || Double.isNaN(r)) {
                            worst = Double.isNaN(r) ? Double.POSITIVE_INFINITY : r;
                            wi = i;
                            wj = j;
                        }
                    }
                }
                model.zeroGrad();
            }
            return new Outcome(new Report(worst, wi, wj));
        } finally {
            if (wasTraining) {
                model.train();
            }
        }
    }
}
