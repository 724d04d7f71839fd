// Shapes: any; leaves and outputs keep their own shapes.
package ai.longconv4j.testing;

import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Gradient check of a module's own forward path, in F64 by central differences: it perturbs the
 * module's {@link Parameter}s in place (via {@link Parameter#assign}), so it also checks that the
 * module reads its parameters each forward. Functional forms are checked with the shared
 * {@link GradCheck} over plain tensors. The leaves are {@link Parameter}s (wrap
 * an input {@code x} as {@code Parameter.of("x", x)} to check dL/dx too); the function reads their
 * current values. The scalar checked is {@code L = sum(f() ⊙ R)} with a fixed random R, so every
 * output entry gets a different weight and a wrong gradient cannot cancel out.
 */
public final class ModuleGradCheck {
    /** Central-difference step: truncation error ~h² (1e-12) and round-off ~1e-16·|L|/h (1e-10·|L|). */
    public static final double H = 1e-6;
    /** Accepted error |analytic - numeric| / max(1, |analytic|, |numeric|); 1e3× above the errors above. */
    public static final double TOL = 1e-6;

    private ModuleGradCheck() {
    }

    /** Largest scaled error found and where. */
    public record Result(double maxError, String worst) {
    }

    /** Compares analytic and numeric gradients of all entries of all leaves. */
    public static Result compare(List<Parameter> leaves, Supplier<Tensor> f, long seed) {
        Tensor out0 = f.get();
        RandomGenerator rng = Rng.seeded(seed);
        double[] r = new double[out0.numel()];
        for (int i = 0; i < r.length; i++) {
            r[i] = rng.nextDouble(-1, 1);
        }
        Tensor weights = Tensor.of(r, out0.shape());
        for (Parameter p : leaves) {
            p.zeroGrad();
        }
        f.get().mul(weights).sum().backward();
        double worst = 0;
        String where = "none";
        for (Parameter p : leaves) {
            Tensor g = p.grad();
            double[] analytic = g == null ? new double[p.numel()] : g.toDoubleArray();
            double[] base = p.value().toDoubleArray();
            int[] shape = p.shape();
            for (int i = 0; i < base.length; i++) {
                double[] v = base.clone();
                v[i] = base[i] + H;
                p.assign(Tensor.of(v, shape));
                double lp = loss(f, weights);
                v[i] = base[i] - H;
                p.assign(Tensor.of(v, shape));
                double lm = loss(f, weights);
                double numeric = (lp - lm) / (2 * H);
                double err = Math.abs(analytic[i] - numeric)
                        / Math.max(1, Math.max(Math.abs(analytic[i]), Math.abs(numeric)));
                if (err > worst || Double.isNaN(err)) {
                    worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                    where = p.name() + "[" + i + "] analytic=" + analytic[i] + " numeric=" + numeric;
                }
            }
            p.assign(Tensor.of(base, shape));
        }
        return new Result(worst, where);
    }

    private static double loss(Supplier<Tensor> f, Tensor weights) {
        try (var ng = Tensor.noGrad()) {
            return f.get().mul(weights).sum().item();
        }
    }

    /** Fails (AssertionError) unless every scaled error is at most {@link #TOL}. */
    public static void assertGradients(String what, List<Parameter> leaves, Supplier<Tensor> f) {
        for (Parameter p : leaves) {
            if (p.value().dtype() != ai.longconv4j.tensor.DType.F64) {
                throw new IllegalArgumentException("ModuleGradCheck(" + what + "): leaves must be F64, got "
                        + p.value().dtype() + " for " + p.name() + " " + Arrays.toString(p.shape()));
            }
        }
        Result res = compare(leaves, f, 1234);
        if (!(res.maxError() <= TOL)) {
            throw new AssertionError("gradient check failed for " + what + ": max scaled error " + res.maxError()
                    + " > " + TOL + " at " + res.worst());
        }
    }
}
