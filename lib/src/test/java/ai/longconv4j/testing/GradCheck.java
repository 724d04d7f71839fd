// Shape legend: any input shapes; the op's output y is reduced to L = sum(y * w) with fixed random w.
package ai.longconv4j.testing;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;

import java.util.function.Function;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Gradient check by central differences. The scalar probed is {@code L = sum(f(x) * w)} with a fixed
 * random weight w (seed 1234), so every output element contributes with a distinct weight. Analytic
 * dL/dx comes from {@link Tensor#backward()}; numeric dL/dx_i = (L(x_i + eps) - L(x_i - eps)) / 2 eps.
 *
 * <p>Default tolerances (F64, eps = 1e-6): the truncation error is O(eps^2 * f''') ~ 1e-12 and the
 * rounding error ~ ulp(L) / eps ~ 1e-10 for L of order 1, so atol = 1e-6 and rtol = 1e-5 leave
 * three orders of margin while a wrong rule (errors of order 1e-1 and above) fails.
 */
public final class GradCheck {
    private GradCheck() {}

    public static final double EPS = 1e-6, ATOL = 1e-6, RTOL = 1e-5;

    /** Max errors over all inputs' elements, and where the worst one is. */
    public record Result(double maxAbsError, double maxRelError, int worstInput, int worstIndex,
                         double analytic, double numeric, boolean passed) {
        @Override
        public String toString() {
            return String.format("max abs err %.3g, max rel err %.3g (worst: input %d element %d, analytic %.8g vs numeric %.8g)",
                    maxAbsError, maxRelError, worstInput, worstIndex, analytic, numeric);
        }
    }

    /** Asserts that the gradients of f at inputs (made F64 if needed) match central differences. */
    public static Result assertGradients(String name, Function<Tensor[], Tensor> f, Tensor... inputs) {
        Result r = check(f, EPS, ATOL, RTOL, inputs);
        if (!r.passed()) fail("gradcheck " + name + ": " + r);
        return r;
    }

    /**
     * Runs the check; inputs keep their dtype (pass F32 inputs to see float32 differences fail).
     * {@code passed} applies |analytic - numeric| <= atol + rtol * |numeric| to every element.
     */
    public static Result check(Function<Tensor[], Tensor> f, double eps, double atol, double rtol, Tensor... inputs) {
        Tensor[] xs = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) xs[i] = inputs[i].detach().requiresGrad(true);
        Tensor y = f.apply(xs);
        Tensor w = weights(y);
        y.mul(w).sum().backward();

        double maxAbs = 0, maxRel = 0, worstA = 0, worstN = 0;
        int worstIn = -1, worstIdx = -1;
        boolean passed = true;
        for (int i = 0; i < xs.length; i++) {
            double[] base = xs[i].toDoubleArray();
            double[] analytic = xs[i].grad() == null ? new double[base.length] : xs[i].grad().toDoubleArray();
            for (int j = 0; j < base.length; j++) {
                double plus = eval(f, xs, i, base, j, base[j] + eps, w);
                double minus = eval(f, xs, i, base, j, base[j] - eps, w);
                double numeric = (plus - minus) / (2 * eps);
                double err = Math.abs(analytic[j] - numeric);
                double rel = err / Math.max(Math.abs(numeric), 1e-12);
                if (!(err <= atol + rtol * Math.abs(numeric))) passed = false;
                if (err > maxAbs || Double.isNaN(err)) {
                    maxAbs = Double.isNaN(err) ? Double.NaN : err;
                    worstIn = i;
                    worstIdx = j;
                    worstA = analytic[j];
                    worstN = numeric;
                }
                if (!Double.isNaN(rel)) maxRel = Math.max(maxRel, rel);
            }
        }
        return new Result(maxAbs, maxRel, worstIn, worstIdx, worstA, worstN, passed);
    }

    private static Tensor weights(Tensor y) {
        RandomGenerator rng = Rng.seeded(1234);
        return Tensor.rand(rng, y.dtype(), y.shape()).mul(2).sub(1).detach();
    }

    private static double eval(Function<Tensor[], Tensor> f, Tensor[] xs, int which, double[] base, int j, double value, Tensor w) {
        Tensor[] args = xs.clone();
        double[] moved = base.clone();
        moved[j] = value;
        Tensor t = Tensor.of(moved, xs[which].shape());
        args[which] = xs[which].dtype() == DType.F64 ? t : t.to(xs[which].dtype());
        try (var _ = Tensor.noGrad()) {
            return f.apply(args).mul(w).sum().item();
        }
    }
}
