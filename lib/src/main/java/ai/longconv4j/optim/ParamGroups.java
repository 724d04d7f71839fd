// Shapes: none; builds optimizer groups from a module's parameter hints.
package ai.longconv4j.optim;

import ai.longconv4j.nn.Module;
import ai.longconv4j.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Builds {@link ParamGroup}s from the hints of a module's parameters: one group per
 * {@link Parameter#group()} hint for the decaying parameters (named after the hint) and one for the
 * non-decaying ones (named {@code "<hint>.noDecay"}, weight decay forced to 0). Defaults apply to
 * every group; {@link Builder#override} adjusts the groups of one hint. Empty groups are omitted;
 * parameter keys are the dotted module names.
 *
 * <pre>{@code
 * jshell> var groups = ParamGroups.of(model).lr(3e-4).weightDecay(0.1)
 *    ...>     .override("kernel", g -> g.withLr(1e-3).withWeightDecay(0)).build()
 * groups ==> [ParamGroup(default, ...), ParamGroup(default.noDecay, ...), ParamGroup(kernel, ...)]
 * }</pre>
 */
public final class ParamGroups {
    /** Suffix of the group holding a hint's non-decaying parameters. */
    public static final String NO_DECAY_SUFFIX = ".noDecay";
    /** Default lr of {@link Builder}. */
    public static final double DEFAULT_LR = 1e-3;
    /** Default weight decay of {@link Builder}. */
    public static final double DEFAULT_WEIGHT_DECAY = 0.01;

    private ParamGroups() {
    }

    /** A builder over {@code module.namedParameters()}. */
    public static Builder of(Module module) {
        return of(module.namedParameters());
    }

    /** A builder over named parameters. */
    public static Builder of(Map<String, Parameter> named) {
        return new Builder(named);
    }

    /** Builder of hint-based groups. */
    public static final class Builder {
        private final Map<String, Parameter> named;
        private double lr = DEFAULT_LR;
        private double weightDecay = DEFAULT_WEIGHT_DECAY;
        private double beta1 = ParamGroup.DEFAULT_BETA1;
        private double beta2 = ParamGroup.DEFAULT_BETA2;
        private double eps = ParamGroup.DEFAULT_EPS;
        private final Map<String, UnaryOperator<ParamGroup>> overrides = new LinkedHashMap<>();

        private Builder(Map<String, Parameter> named) {
            this.named = new LinkedHashMap<>(Objects.requireNonNull(named, "named"));
        }

        /** Default lr of every group. */
        public Builder lr(double v) {
            lr = v;
            return this;
        }

        /** Default weight decay of the decaying groups. */
        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        /** Default Adam betas. */
        public Builder betas(double b1, double b2) {
            beta1 = b1;
            beta2 = b2;
            return this;
        }

        /** Default Adam epsilon. */
        public Builder eps(double v) {
            eps = v;
            return this;
        }

        /**
         * Adjusts both groups of {@code hint} (applied after the defaults; the non-decaying group keeps
         * weight decay 0).
         */
        public Builder override(String hint, UnaryOperator<ParamGroup> f) {
            overrides.merge(Objects.requireNonNull(hint, "hint"), Objects.requireNonNull(f, "f"),
                    (a, b) -> g -> b.apply(a.apply(g)));
            return this;
        }

        /** The groups, in order of first appearance of each hint (decaying group first). */
        public List<ParamGroup> build() {
            var decay = new LinkedHashMap<String, Map<String, Parameter>>();
            var noDecay = new LinkedHashMap<String, Map<String, Parameter>>();
            for (var e : named.entrySet()) {
                Parameter p = e.getValue();
                decay.computeIfAbsent(p.group(), h -> new LinkedHashMap<>());
                noDecay.computeIfAbsent(p.group(), h -> new LinkedHashMap<>());
                (p.decays() ? decay : noDecay).get(p.group()).put(e.getKey(), p);
            }
            for (String hint : overrides.keySet()) {
                if (!decay.containsKey(hint)) {
                    throw new IllegalArgumentException("ParamGroups: override for hint '" + hint
                            + "' but no parameter has it; hints present: " + decay.keySet());
                }
            }
            var out = new ArrayList<ParamGroup>();
            for (String hint : decay.keySet()) {
                UnaryOperator<ParamGroup> f = overrides.getOrDefault(hint, UnaryOperator.identity());
                if (!decay.get(hint).isEmpty()) {
                    out.add(f.apply(base(hint, decay.get(hint), weightDecay)));
                }
                if (!noDecay.get(hint).isEmpty()) {
                    out.add(f.apply(base(hint + NO_DECAY_SUFFIX, noDecay.get(hint), 0)).withWeightDecay(0));
                }
            }
            return out;
        }

        private ParamGroup base(String name, Map<String, Parameter> ps, double wd) {
            return new ParamGroup(name, ps, lr, wd).withBetas(beta1, beta2).withEps(eps);
        }
    }
}
