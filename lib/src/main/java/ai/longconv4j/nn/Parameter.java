// Shapes: a parameter holds any shape; no legend letters are used in this file.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * A trainable tensor owned by a {@link Module}, with two hints for the optimizer: the
 * {@linkplain #group() group} it belongs to ({@code "default"}, {@code "kernel"}, {@code "butterfly"}, ...)
 * and whether {@linkplain #decays() weight decay} applies to it by default (weights yes; biases and
 * normalization weights no).
 *
 * <p>The wrapped tensor is a leaf with {@code requiresGrad(true)}. Optimizers update a parameter by
 * {@linkplain #assign(Tensor) assigning} a new value of the same shape and dtype; forward passes must
 * therefore read {@link #value()} each time rather than keep the tensor.
 *
 * <pre>{@code
 * jshell> var w = Parameter.of("weight", Tensor.zeros(DType.F32, 2, 3))
 * w ==> Parameter(weight, [2, 3], F32, group=default, decays=true)
 * }</pre>
 */
public final class Parameter {
    /** The group hint of ordinary weights. */
    public static final String DEFAULT_GROUP = "default";
    /** The group hint of long-convolution kernels (own lr, no weight decay by convention). */
    public static final String KERNEL_GROUP = "kernel";
    /** The group hint of learned butterfly (DFT) factors. */
    public static final String BUTTERFLY_GROUP = "butterfly";

    private final String name;
    private final String group;
    private final boolean decays;
    private Tensor value;
    /** A replacement gradient set by {@link #scaleGrad}; cleared by {@link #zeroGrad} and {@link #assign}. */
    private Tensor gradOverride;

    /**
     * @param name   local name inside its module (no dots)
     * @param value  initial value; it becomes a leaf with {@code requiresGrad(true)}
     * @param group  optimizer-group hint
     * @param decays whether weight decay applies by default
     */
    public Parameter(String name, Tensor value, String group, boolean decays) {
        this.name = checkName(name);
        this.group = Objects.requireNonNull(group, "group");
        if (group.isBlank()) {
            throw new IllegalArgumentException("Parameter: group must not be blank");
        }
        this.decays = decays;
        this.value = leaf(Objects.requireNonNull(value, "value"));
    }

    /** A decaying parameter in the {@value #DEFAULT_GROUP} group. */
    public static Parameter of(String name, Tensor value) {
        return new Parameter(name, value, DEFAULT_GROUP, true);
    }

    /** A non-decaying parameter (bias, normalization weight) in the {@value #DEFAULT_GROUP} group. */
    public static Parameter noDecay(String name, Tensor value) {
        return new Parameter(name, value, DEFAULT_GROUP, false);
    }

    static String checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("Parameter: local name must be non-empty and contain no '.', got '"
                    + name + "'");
        }
        return name;
    }

    private static Tensor leaf(Tensor t) {
        return t.requiresGrad() ? t : t.requiresGrad(true);
    }

    /** Local name inside the owning module; {@link Module#namedParameters()} gives the dotted path. */
    public String name() {
        return name;
    }

    /** The optimizer-group hint, e.g. {@code "default"}, {@code "kernel"}, {@code "butterfly"}. */
    public String group() {
        return group;
    }

    /** Whether weight decay applies to this parameter by default. */
    public boolean decays() {
        return decays;
    }

    /** The current value (a leaf tensor that requires grad). */
    public Tensor value() {
        return value;
    }

    /** Gradient accumulated by {@code backward()}, or {@code null} if none yet. */
    public Tensor grad() {
        return gradOverride != null ? gradOverride : value.grad();
    }

    /**
     * Multiplies the current gradient by {@code s} (used by gradient clipping). Call it after the last
     * {@code backward()} of a step: a later backward accumulates into the unscaled gradient.
     */
    public void scaleGrad(double s) {
        Tensor g = grad();
        if (g != null) {
            gradOverride = g.detach().mul(s).detach();
        }
    }

    /** Shape of the value. */
    public int[] shape() {
        return value.shape();
    }

    /** Number of scalar entries. */
    public int numel() {
        return value.numel();
    }

    /** Clears the accumulated gradient. */
    public void zeroGrad() {
        gradOverride = null;
        value.zeroGrad();
    }

    /**
     * Replaces the value with {@code newValue} (detached, converted to this parameter's dtype, made a
     * grad-requiring leaf). The shape must match.
     *
     * @throws IllegalArgumentException on a shape mismatch
     */
    public void assign(Tensor newValue) {
        Objects.requireNonNull(newValue, "newValue");
        if (!Arrays.equals(newValue.shape(), value.shape())) {
            throw new IllegalArgumentException("Parameter.assign(" + name + "): expected shape "
                    + Arrays.toString(value.shape()) + ", got " + Arrays.toString(newValue.shape()));
        }
        // detach() makes a new tensor object (sharing immutable storage), so the caller's tensor keeps its flags
        Tensor t = newValue.detach();
        if (t.dtype() != value.dtype()) {
            t = t.to(value.dtype()).detach();
        }
        value = t.requiresGrad(true);
        gradOverride = null;
    }

    /** Replaces the value with {@code t} in its own dtype and device (for {@link Module#to(ai.longconv4j.tensor.Device, ai.longconv4j.tensor.DType)}). */
    void replace(Tensor t) {
        if (!Arrays.equals(t.shape(), value.shape())) {
            throw new IllegalArgumentException("Parameter.replace(" + name + "): expected shape " + Arrays.toString(value.shape())
                    + ", got " + Arrays.toString(t.shape()));
        }
        value = t.detach().requiresGrad(true);
        gradOverride = null;
    }

    @Override
    public String toString() {
        return "Parameter(" + name + ", " + Arrays.toString(value.shape()) + ", " + value.dtype()
                + ", group=" + group + ", decays=" + decays + ")";
    }
}
