// Shapes: modules document their own; this base class is shape-agnostic.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Base class of layers and models: a tree of modules with parameters and buffers registered
 * explicitly by name ({@link #param}, {@link #register}, {@link #buffer}). Names of nested entries are
 * dotted paths ({@code "blocks.0.norm.weight"}), in registration order.
 *
 * <p>Parameters are trained by optimizers; buffers (e.g. running statistics) are state that is saved
 * in the {@link #stateDict()} but not trained. {@link #train()} / {@link #eval()} set the mode of the
 * whole subtree.
 *
 * <pre>{@code
 * jshell> var mlp = Sequential.of(new Linear(2, 8, Rng.seeded(1)), new GELU(), new Linear(8, 1, Rng.seeded(2)))
 * jshell> mlp.numParameters()
 * $2 ==> 33
 * }</pre>
 */
public abstract class Module {
    /** Rows shown by {@link #toString()} before it elides the rest. */
    private static final int MAX_TABLE_ROWS = 40;

    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private boolean training = true;

    /** Applies the module to one input. */
    public abstract Tensor forward(Tensor x);

    // ---- registration -------------------------------------------------------------------------

    /** Registers {@code p} under its own name and returns it. */
    protected final Parameter param(Parameter p) {
        Objects.requireNonNull(p, "p");
        checkFree(p.name());
        params.put(p.name(), p);
        return p;
    }

    /** Registers a decaying {@value Parameter#DEFAULT_GROUP}-group parameter with this initial value. */
    protected final Parameter param(String name, Tensor value) {
        return param(Parameter.of(name, value));
    }

    /** Registers a child module under {@code name} and returns it. */
    protected final <M extends Module> M register(String name, M module) {
        Objects.requireNonNull(module, "module");
        Parameter.checkName(name);
        checkFree(name);
        if (module == this) {
            throw new IllegalArgumentException("Module.register(" + name + "): a module cannot contain itself");
        }
        children.put(name, module);
        ((Module) module).setTraining(training);
        return module;
    }

    /** Registers a buffer (saved state that is not trained) and returns it. */
    protected final Tensor buffer(String name, Tensor value) {
        Objects.requireNonNull(value, "value");
        Parameter.checkName(name);
        checkFree(name);
        buffers.put(name, value.detach());
        return buffers.get(name);
    }

    /** Replaces a registered buffer's value (same shape). */
    protected final void setBuffer(String name, Tensor value) {
        Tensor old = buffers.get(name);
        if (old == null) {
            throw new IllegalArgumentException("Module.setBuffer: no buffer '" + name + "' in " + typeName());
        }
        checkShape("Module.setBuffer(" + name + ")", old.shape(), value.shape());
        buffers.put(name, value.detach());
    }

    /** The current value of a registered buffer. */
    protected final Tensor getBuffer(String name) {
        Tensor t = buffers.get(name);
        if (t == null) {
            throw new IllegalArgumentException("Module.getBuffer: no buffer '" + name + "' in " + typeName());
        }
        return t;
    }

    private void checkFree(String name) {
        if (params.containsKey(name) || children.containsKey(name) || buffers.containsKey(name)) {
            throw new IllegalArgumentException(typeName() + ": name '" + name + "' is already registered");
        }
    }

    // ---- discovery ----------------------------------------------------------------------------

    /** All parameters of the subtree by dotted name, in registration order. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParams("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collectParams(String prefix, Map<String, Parameter> out) {
        for (var e : params.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (var e : children.entrySet()) {
            e.getValue().collectParams(prefix + e.getKey() + ".", out);
        }
    }

    /** All parameters of the subtree, in registration order. */
    public final List<Parameter> parameters() {
        return List.copyOf(namedParameters().values());
    }

    /** All buffers of the subtree by dotted name. */
    public final Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collectBuffers(String prefix, Map<String, Tensor> out) {
        for (var e : buffers.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (var e : children.entrySet()) {
            e.getValue().collectBuffers(prefix + e.getKey() + ".", out);
        }
    }

    /** Direct children by local name, in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Total number of trainable scalars in the subtree. */
    public final long numParameters() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.numel();
        }
        return n;
    }

    // ---- modes and gradients ------------------------------------------------------------------

    /** Puts the subtree in training mode; returns {@code this}. */
    public final Module train() {
        setTraining(true);
        return this;
    }

    /** Puts the subtree in evaluation mode (dropout off, running statistics used); returns {@code this}. */
    public final Module eval() {
        setTraining(false);
        return this;
    }

    private void setTraining(boolean on) {
        training = on;
        for (Module m : children.values()) {
            m.setTraining(on);
        }
    }

    /** Whether this module is in training mode. */
    public final boolean isTraining() {
        return training;
    }

    /** Clears the gradients of all parameters in the subtree. */
    /**
     * Moves every parameter and buffer of this subtree to {@code device}, in place (each parameter becomes a
     * new leaf there; its gradient is cleared). Optimizers made before the move keep state on the old device:
     * build them after. Returns this.
     *
     * <pre>{@code
     * jshell> model.to(Devices.best());
     * }</pre>
     */
    @SuppressWarnings("unchecked")
    public final <M extends Module> M to(ai.longconv4j.tensor.Device device) {
        Objects.requireNonNull(device, "device");
        try (var g = Tensor.noGrad()) {
            for (Parameter p : parameters()) {
                if (!p.value().device().equals(device)) {
                    p.assign(p.value().detach().to(device));
                }
            }
            moveBuffers(device);
        }
        return (M) this;
    }

    /**
     * Moves every parameter and buffer to {@code device} and converts it to {@code dtype}, in place (new leaves there);
     * e.g. {@code model.to(Device.cuda(0), DType.BF16)} for a 16-bit model (BF16/F16 exist on the GPU only). Returns this.
     */
    @SuppressWarnings("unchecked")
    public final <M extends Module> M to(ai.longconv4j.tensor.Device device, ai.longconv4j.tensor.DType dtype) {
        Objects.requireNonNull(dtype, "dtype");
        to(device);
        try (var g = Tensor.noGrad()) {
            for (Parameter p : parameters()) {
                if (p.value().dtype() != dtype) {
                    p.replace(p.value().detach().to(dtype));
                }
            }
            convertBuffers(dtype);
        }
        return (M) this;
    }

    private void convertBuffers(ai.longconv4j.tensor.DType dtype) {
        for (var e : buffers.entrySet()) {
            if (e.getValue().dtype() != dtype) {
                e.setValue(e.getValue().to(dtype).detach());
            }
        }
        for (Module c : children.values()) {
            c.convertBuffers(dtype);
        }
    }

    private void moveBuffers(ai.longconv4j.tensor.Device device) {
        for (var e : buffers.entrySet()) {
            if (!e.getValue().device().equals(device)) {
                e.setValue(e.getValue().to(device).detach());
            }
        }
        for (Module c : children.values()) {
            c.moveBuffers(device);
        }
    }

    public final void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    // ---- state --------------------------------------------------------------------------------

    /**
     * Parameters and buffers by dotted name (parameters first). The tensors are detached snapshots of
     * the current values; later training does not change them.
     */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : namedParameters().entrySet()) {
            out.put(e.getKey(), e.getValue().value().detach());
        }
        out.putAll(namedBuffers());
        return out;
    }

    /**
     * Loads every parameter and buffer from {@code state} (strict: the key sets must match exactly
     * and every shape must agree). Values are converted to each entry's dtype. Nothing is changed when
     * the check fails.
     *
     * @throws IllegalArgumentException listing missing keys, unexpected keys and shape mismatches
     */
    public final void loadStateDict(Map<String, Tensor> state) {
        Objects.requireNonNull(state, "state");
        Map<String, Parameter> ps = namedParameters();
        Map<String, Tensor> bs = namedBuffers();
        var missing = new TreeSet<String>();
        var unexpected = new TreeSet<String>(state.keySet());
        var mismatched = new ArrayList<String>();
        for (var e : ps.entrySet()) {
            check(e.getKey(), e.getValue().shape(), state, missing, unexpected, mismatched);
        }
        for (var e : bs.entrySet()) {
            check(e.getKey(), e.getValue().shape(), state, missing, unexpected, mismatched);
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            var sb = new StringBuilder(typeName()).append(".loadStateDict: state does not match the module");
            if (!missing.isEmpty()) {
                sb.append("; missing keys ").append(missing);
            }
            if (!unexpected.isEmpty()) {
                sb.append("; unexpected keys ").append(unexpected);
            }
            if (!mismatched.isEmpty()) {
                sb.append("; shape mismatches ").append(mismatched);
            }
            throw new IllegalArgumentException(sb.toString());
        }
        for (var e : ps.entrySet()) {
            e.getValue().assign(state.get(e.getKey()));
        }
        loadBuffers("", state);
    }

    private static void check(String key, int[] shape, Map<String, Tensor> state, TreeSet<String> missing,
            TreeSet<String> unexpected, List<String> mismatched) {
        Tensor t = state.get(key);
        unexpected.remove(key);
        if (t == null) {
            missing.add(key);
        } else if (!Arrays.equals(t.shape(), shape)) {
            mismatched.add(key + ": expected " + Arrays.toString(shape) + ", got " + Arrays.toString(t.shape()));
        }
    }

    private void loadBuffers(String prefix, Map<String, Tensor> state) {
        for (var e : buffers.entrySet()) {
            Tensor t = state.get(prefix + e.getKey()).detach();
            if (t.dtype() != e.getValue().dtype()) {
                t = t.to(e.getValue().dtype());
            }
            e.setValue(t);
        }
        for (var e : children.entrySet()) {
            e.getValue().loadBuffers(prefix + e.getKey() + ".", state);
        }
    }

    static void checkShape(String op, int[] expected, int[] actual) {
        if (!Arrays.equals(expected, actual)) {
            throw new IllegalArgumentException(op + ": expected shape " + Arrays.toString(expected) + ", got "
                    + Arrays.toString(actual));
        }
    }

    // ---- display ------------------------------------------------------------------------------

    /** Short type description for the layer table, e.g. {@code Linear(4 -> 8)}; override to add sizes. */
    protected String describe() {
        return typeName();
    }

    private String typeName() {
        String s = getClass().getSimpleName();
        return s.isEmpty() ? "Module" : s;
    }

    /**
     * A small table: one row per module of the subtree (dotted name, description, parameter count of
     * its own subtree), then the total and the mode.
     */
    @Override
    public String toString() {
        List<String[]> rows = new ArrayList<>();
        for (var e : children.entrySet()) {
            e.getValue().collectRows(e.getKey(), rows);
        }
        var sb = new StringBuilder(describe()).append(" (").append(String.format("%,d", numParameters()))
                .append(" parameters, ").append(training ? "train" : "eval").append(")");
        if (rows.isEmpty()) {
            return sb.toString();
        }
        int w0 = "name".length();
        int w1 = "type".length();
        int w2 = "params".length();
        for (String[] r : rows) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
            w2 = Math.max(w2, r[2].length());
        }
        String fmt = "%n  %-" + w0 + "s  %-" + w1 + "s  %" + w2 + "s";
        sb.append(String.format(fmt, "name", "type", "params"));
        int shown = Math.min(rows.size(), MAX_TABLE_ROWS);
        for (int i = 0; i < shown; i++) {
            String[] r = rows.get(i);
            sb.append(String.format(fmt, r[0], r[1], r[2]));
        }
        if (rows.size() > shown) {
            sb.append(String.format("%n  ... %d more modules", rows.size() - shown));
        }
        return sb.toString();
    }

    private void collectRows(String path, List<String[]> rows) {
        rows.add(new String[] {path, describe(), String.format("%,d", numParameters())});
        for (var e : children.entrySet()) {
            e.getValue().collectRows(path + "." + e.getKey(), rows);
        }
    }
}
