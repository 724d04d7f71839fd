// Shapes: none; a group is a list of parameters with shared hyper-parameters.
package ai.longconv4j.optim;

import ai.longconv4j.nn.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Parameters that share hyper-parameters: learning rate, weight decay and (for Adam-type optimizers)
 * {@code betas} and {@code eps}. Every parameter has a key, unique within an optimizer, that names its
 * state in {@link Optimizer#stateDict()}: the dotted module path when the group is built from a module
 * ({@link ParamGroups}), else {@code "<group>.<index>"}. Immutable; {@code with*} return copies.
 *
 * <pre>{@code
 * jshell> var g = new ParamGroup("default", model.parameters(), 3e-4, 0.1)
 * g ==> ParamGroup(default, 12 parameters, lr=3.0E-4, weightDecay=0.1, betas=(0.9, 0.999), eps=1.0E-8)
 * }</pre>
 */
public final class ParamGroup {
    /** Default Adam first-moment decay. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** Default Adam second-moment decay. */
    public static final double DEFAULT_BETA2 = 0.999;
    /** Default Adam denominator epsilon. */
    public static final double DEFAULT_EPS = 1e-8;

    private final String name;
    private final Map<String, Parameter> named;
    private final double lr;
    private final double weightDecay;
    private final double beta1;
    private final double beta2;
    private final double eps;

    /** A group whose parameter keys are {@code name + "." + index}. */
    public ParamGroup(String name, List<Parameter> parameters, double lr, double weightDecay) {
        this(name, indexed(name, parameters), lr, weightDecay, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS);
    }

    /** A group whose parameter keys are the map's keys (e.g. from {@code Module.namedParameters()}). */
    public ParamGroup(String name, Map<String, Parameter> named, double lr, double weightDecay) {
        this(name, named, lr, weightDecay, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS);
    }

    private ParamGroup(String name, Map<String, Parameter> named, double lr, double weightDecay, double beta1,
            double beta2, double eps) {
        this.name = Objects.requireNonNull(name, "name");
        Objects.requireNonNull(named, "parameters");
        if (!(lr >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("ParamGroup(" + name + "): lr and weightDecay must be >= 0, got lr="
                    + lr + ", weightDecay=" + weightDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0)) {
            throw new IllegalArgumentException("ParamGroup(" + name + "): need betas in [0, 1) and eps >= 0, got ("
                    + beta1 + ", " + beta2 + "), " + eps);
        }
        var copy = new LinkedHashMap<String, Parameter>();
        for (var e : named.entrySet()) {
            copy.put(Objects.requireNonNull(e.getKey()), Objects.requireNonNull(e.getValue()));
        }
        this.named = Collections.unmodifiableMap(copy);
        this.lr = lr;
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    private static Map<String, Parameter> indexed(String name, List<Parameter> ps) {
        var m = new LinkedHashMap<String, Parameter>();
        for (int i = 0; i < ps.size(); i++) {
            m.put(name + "." + i, ps.get(i));
        }
        return m;
    }

    /** Group name. */
    public String name() {
        return name;
    }

    /** Parameters in order. */
    public List<Parameter> parameters() {
        return List.copyOf(named.values());
    }

    /** Parameters by state key, in order. */
    public Map<String, Parameter> namedParameters() {
        return named;
    }

    /** Base learning rate (an optimizer's schedule multiplies it). */
    public double lr() {
        return lr;
    }

    /** Weight decay coefficient. */
    public double weightDecay() {
        return weightDecay;
    }

    /** Adam first-moment decay. */
    public double beta1() {
        return beta1;
    }

    /** Adam second-moment decay. */
    public double beta2() {
        return beta2;
    }

    /** Adam denominator epsilon. */
    public double eps() {
        return eps;
    }

    /** Copy with another learning rate. */
    public ParamGroup withLr(double v) {
        return new ParamGroup(name, named, v, weightDecay, beta1, beta2, eps);
    }

    /** Copy with another weight decay. */
    public ParamGroup withWeightDecay(double v) {
        return new ParamGroup(name, named, lr, v, beta1, beta2, eps);
    }

    /** Copy with other Adam betas. */
    public ParamGroup withBetas(double b1, double b2) {
        return new ParamGroup(name, named, lr, weightDecay, b1, b2, eps);
    }

    /** Copy with another Adam epsilon. */
    public ParamGroup withEps(double v) {
        return new ParamGroup(name, named, lr, weightDecay, beta1, beta2, v);
    }

    /** Copy with another name (parameter keys unchanged). */
    public ParamGroup withName(String v) {
        return new ParamGroup(v, named, lr, weightDecay, beta1, beta2, eps);
    }

    /** Total number of scalars in the group. */
    public long numel() {
        long n = 0;
        for (Parameter p : named.values()) {
            n += p.numel();
        }
        return n;
    }

    @Override
    public String toString() {
        return "ParamGroup(" + name + ", " + named.size() + " parameters, lr=" + lr + ", weightDecay=" + weightDecay
                + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ")";
    }
}
