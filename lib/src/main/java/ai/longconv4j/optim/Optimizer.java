// Shapes: optimizer state tensors have the shape of their parameter.
package ai.longconv4j.optim;

import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Base of the optimizers: parameter groups, a step counter, an optional {@link Schedule} that
 * multiplies every group's lr, per-parameter state tensors and their state dict.
 *
 * <p>State dict layout: {@code "step"} holds the step count as a one-element F64 tensor; every state
 * tensor is stored as {@code "<slot>.<parameter key>"} (e.g. {@code "expAvg.blocks.0.weight"}), with
 * the slot names of the concrete optimizer.
 */
public abstract class Optimizer {
    /** Key of the step count in the state dict. */
    public static final String STEP_KEY = "step";

    private final List<ParamGroup> groups;
    private final String[] slots;
    /** slot -> parameter key -> state tensor. */
    private final Map<String, Map<String, Tensor>> state = new LinkedHashMap<>();
    private Schedule schedule = Schedule.constant(1.0);
    private long step;

    /**
     * @param groups parameter groups (keys unique, each parameter in one group)
     * @param slots  names of the per-parameter state tensors this optimizer keeps
     */
    protected Optimizer(List<ParamGroup> groups, String... slots) {
        Objects.requireNonNull(groups, "groups");
        if (groups.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": need at least one parameter group");
        }
        var keys = new TreeSet<String>();
        var seen = Collections.newSetFromMap(new IdentityHashMap<Parameter, Boolean>());
        for (ParamGroup g : groups) {
            for (var e : g.namedParameters().entrySet()) {
                if (!keys.add(e.getKey())) {
                    throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter key '" + e.getKey()
                            + "' appears twice");
                }
                if (!seen.add(e.getValue())) {
                    throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter '" + e.getKey()
                            + "' is in more than one group");
                }
            }
        }
        this.groups = List.copyOf(groups);
        this.slots = slots.clone();
        for (String s : slots) {
            state.put(s, new LinkedHashMap<>());
        }
    }

    /** The parameter groups, in order. */
    public final List<ParamGroup> groups() {
        return groups;
    }

    /** All parameters of all groups. */
    public final List<Parameter> parameters() {
        var out = new ArrayList<Parameter>();
        for (ParamGroup g : groups) {
            out.addAll(g.parameters());
        }
        return out;
    }

    /** Sets the schedule whose value multiplies each group's lr; returns {@code this}. */
    public Optimizer schedule(Schedule s) {
        schedule = Objects.requireNonNull(s, "schedule");
        return this;
    }

    /** Number of steps taken. */
    public final long stepCount() {
        return step;
    }

    /** The lr the next {@link #step()} uses for {@code group}: its base lr times the schedule's value. */
    public final double currentLr(ParamGroup group) {
        return group.lr() * schedule.lr(step);
    }

    /**
     * Updates every parameter that has a gradient (the others are skipped), then advances the step
     * count.
     */
    public final void step() {
        long t = step + 1;
        for (ParamGroup g : groups) {
            double lr = currentLr(g);
            for (var e : g.namedParameters().entrySet()) {
                Parameter p = e.getValue();
                Tensor grad = p.grad();
                if (grad == null) {
                    continue;
                }
                if (!Arrays.equals(grad.shape(), p.shape())) {
                    throw new IllegalStateException(getClass().getSimpleName() + ": gradient of '" + e.getKey()
                            + "' has shape " + Arrays.toString(grad.shape()) + ", expected "
                            + Arrays.toString(p.shape()));
                }
                p.assign(update(g, e.getKey(), p.value().detach(), grad.detach(), lr, t));
            }
        }
        step = t;
    }

    /**
     * Computes the new value of one parameter.
     *
     * @param group the parameter's group
     * @param key   the parameter's state key
     * @param value current value (detached)
     * @param grad  gradient (detached)
     * @param lr    learning rate for this step (schedule applied)
     * @param t     1-based index of this step
     * @return the new value, same shape
     */
    protected abstract Tensor update(ParamGroup group, String key, Tensor value, Tensor grad, double lr, long t);

    /** The state tensor of {@code slot} for parameter {@code key}, created as zeros like {@code like}. */
    protected final Tensor slot(String slot, String key, Tensor like) {
        return state.get(slot).computeIfAbsent(key, k -> like.mul(0.0).detach());
    }

    /** Stores a new state tensor. */
    protected final void setSlot(String slot, String key, Tensor value) {
        state.get(slot).put(key, value.detach());
    }

    /** Clears the gradients of all parameters. */
    public final void zeroGrad() {
        for (ParamGroup g : groups) {
            for (Parameter p : g.parameters()) {
                p.zeroGrad();
            }
        }
    }

    /** Clips the gradients of all this optimizer's parameters; see {@link GradClip#clipGradNorm}. */
    public final double clipGradNorm(double maxNorm) {
        return GradClip.clipGradNorm(parameters(), maxNorm);
    }

    /** Step count and state tensors (detached), in the layout described on the class. */
    public final Map<String, Tensor> stateDict() {
        var out = new LinkedHashMap<String, Tensor>();
        out.put(STEP_KEY, Tensor.of(new double[] {step}, 1));
        for (String s : slots) {
            for (var e : state.get(s).entrySet()) {
                out.put(s + "." + e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /**
     * Restores step count and state. Keys must be {@code "step"} or {@code "<slot>.<key>"} of a
     * parameter of this optimizer with a matching shape; absent state entries mean "not started" (as for
     * parameters that never had a gradient). Nothing changes when the check fails.
     *
     * @throws IllegalArgumentException on a missing step, unknown keys or shape mismatches
     */
    public final void loadStateDict(Map<String, Tensor> dict) {
        Objects.requireNonNull(dict, "dict");
        var params = new LinkedHashMap<String, Parameter>();
        for (ParamGroup g : groups) {
            params.putAll(g.namedParameters());
        }
        var problems = new ArrayList<String>();
        var parsed = new LinkedHashMap<String, Map<String, Tensor>>();
        for (String s : slots) {
            parsed.put(s, new LinkedHashMap<>());
        }
        Tensor stepT = dict.get(STEP_KEY);
        if (stepT == null || stepT.numel() != 1) {
            problems.add("missing key '" + STEP_KEY + "' (one value)");
        }
        for (var e : dict.entrySet()) {
            String k = e.getKey();
            if (k.equals(STEP_KEY)) {
                continue;
            }
            int dot = k.indexOf('.');
            String slot = dot < 0 ? k : k.substring(0, dot);
            Parameter p = dot < 0 ? null : params.get(k.substring(dot + 1));
            if (!parsed.containsKey(slot) || p == null) {
                problems.add("unexpected key '" + k + "'");
            } else if (!Arrays.equals(e.getValue().shape(), p.shape())) {
                problems.add("'" + k + "': expected shape " + Arrays.toString(p.shape()) + ", got "
                        + Arrays.toString(e.getValue().shape()));
            } else {
                Tensor v = e.getValue().detach();
                parsed.get(slot).put(k.substring(dot + 1), v.dtype() == p.value().dtype() ? v : v.to(p.value().dtype()));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: " + problems);
        }
        double s = stepT.item();
        if (s < 0 || s != Math.rint(s)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: step must be a"
                    + " non-negative integer, got " + s);
        }
        step = (long) s;
        for (String sl : slots) {
            state.get(sl).clear();
            state.get(sl).putAll(parsed.get(sl));
        }
    }
}
