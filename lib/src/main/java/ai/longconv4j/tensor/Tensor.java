// Shape legend: generic n-d tensors, row-major; matmul (..., M, K) x (..., K, N) -> (..., M, N);
// complex numbers are a trailing dim of 2 = (re, im), like torch.view_as_real.
package ai.longconv4j.tensor;

import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.backend.cpu.ElementwiseKernels.Arith;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * An n-dimensional array of F64 or F32 values (and, on a GPU, BF16/F16) with reverse-mode autograd, on the
 * CPU or on a device ({@link #to(Device)}; ops run where their operands are, and operands of one op must
 * share a device).
 *
 * <pre>{@code
 * jshell> var x = Tensor.of(new double[]{1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true)
 * x ==> Tensor(shape=[2, 3], F64, cpu, requiresGrad, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
 * jshell> x.mul(x).sum().backward(); x.grad()
 * $3 ==> Tensor(shape=[2, 3], F64, cpu, [2.0, 4.0, 6.0, 8.0, 10.0, 12.0])
 * }</pre>
 *
 * <p>A tensor is a view (shape, strides, offset) over a {@link Storage}. Views are cheap for
 * reshape of a contiguous tensor, permute/transpose, slice and expand; other ops write new
 * contiguous tensors. The only in-place write is {@link #copyFrom} (for optimizer steps and loading
 * weights, inside {@link #noGrad()}); every other op returns a new tensor. Elementwise binary ops
 * broadcast with numpy rules and need equal dtypes.
 *
 * <p><b>Complex convention:</b> a complex tensor is a real tensor whose last dim is 2, holding
 * (re, im) — the layout of {@code torch.view_as_real}.
 *
 * <p>Gradients: set {@link #requiresGrad(boolean)} on leaves, compute, call {@link #backward()}; the
 * graph is freed after one backward (a second one throws {@link IllegalStateException}).
 * {@link #noGrad()} scopes are per thread.
 */
public final class Tensor {
    /** Gradient rule of a custom op: one entry per input, null where the input gets no gradient. */
    @FunctionalInterface
    public interface Backward {
        Tensor[] grads(Tensor gradOut);
    }

    /** A no-grad scope; {@code close()} restores the previous grad mode of this thread. */
    @FunctionalInterface
    public interface NoGrad extends AutoCloseable {
        @Override
        void close();
    }

    private final Storage storage;
    private final int[] shape, strides;
    private final int offset;
    boolean requiresGradFlag;
    Tensor gradField;
    Autograd.Node node;

    Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ---- metadata ----------------------------------------------------------------------------

    public int[] shape() { return shape.clone(); }
    public int dim() { return shape.length; }
    /** Size of one axis; a negative axis counts from the end. */
    public int size(int axis) { return shape[Shapes.axis("size", axis, shape.length)]; }
    public int numel() { return Shapes.numel(shape); }
    public DType dtype() { return storage.dtype(); }
    public Device device() { return storage.device(); }
    /** Element strides into {@link #storage()} (may be 0 for expanded dims). */
    public int[] strides() { return strides.clone(); }
    /** Index of element [0, ..., 0] in {@link #storage()}. */
    public int offset() { return offset; }
    public Storage storage() { return storage; }

    /** Row-major with no gaps: the elements are storage[offset .. offset + numel). */
    public boolean isContiguous() { return Shapes.isContiguous(shape, strides); }

    // ---- factories ---------------------------------------------------------------------------

    public static Tensor zeros(DType dtype, int... shape) {
        return Raw.empty(dtype, Shapes.check("zeros", shape));
    }

    public static Tensor ones(DType dtype, int... shape) { return full(1, dtype, shape); }

    public static Tensor full(double value, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        CpuStorage s = (CpuStorage) t.storage;
        if (value != 0) for (int i = 0; i < s.length(); i++) s.set(i, value);
        return t;
    }

    /** Standard normal values drawn in row-major order from {@code rng}. */
    public static Tensor randn(RandomGenerator rng, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        CpuStorage s = (CpuStorage) t.storage;
        for (int i = 0; i < s.length(); i++) s.set(i, rng.nextGaussian());
        return t;
    }

    /** Uniform values in [0, 1) drawn in row-major order from {@code rng}. */
    public static Tensor rand(RandomGenerator rng, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        CpuStorage s = (CpuStorage) t.storage;
        for (int i = 0; i < s.length(); i++) s.set(i, rng.nextDouble());
        return t;
    }

    /** [0, 1, ..., n-1]. */
    public static Tensor arange(int n, DType dtype) {
        Tensor t = zeros(dtype, n);
        CpuStorage s = (CpuStorage) t.storage;
        for (int i = 0; i < n; i++) s.set(i, i);
        return t;
    }

    /** An F64 tensor holding a copy of {@code data} (row-major); an empty shape is a 0-dim scalar. */
    public static Tensor of(double[] data, int... shape) { return wrap(data.clone(), shape); }

    /** An F32 tensor holding a copy of {@code data} (row-major); an empty shape is a 0-dim scalar. */
    public static Tensor of(float[] data, int... shape) { return wrap(data.clone(), shape); }

    /** An F64 tensor over {@code data} without copying; the caller must not modify data afterwards. */
    public static Tensor wrap(double[] data, int... shape) {
        checkLength("of", data.length, shape);
        return new Tensor(CpuStorage.of(data), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** An F32 tensor over {@code data} without copying; the caller must not modify data afterwards. */
    public static Tensor wrap(float[] data, int... shape) {
        checkLength("of", data.length, shape);
        return new Tensor(CpuStorage.of(data), shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** A contiguous tensor over a whole storage (for backends, e.g. a CUDA storage). */
    public static Tensor fromStorage(Storage storage, int... shape) {
        checkLength("fromStorage", storage.length(), shape);
        return new Tensor(storage, shape.clone(), Shapes.contiguousStrides(shape), 0);
    }

    /** A 0-dim tensor. */
    public static Tensor scalar(double value, DType dtype) { return full(value, dtype); }

    private static void checkLength(String op, int length, int[] shape) {
        Shapes.check(op, shape);
        if (Shapes.numel(shape) != length)
            throw new IllegalArgumentException(op + ": " + length + " values do not fill shape " + Shapes.str(shape)
                    + " (" + Shapes.numel(shape) + " elements)");
    }

    // ---- data access -------------------------------------------------------------------------

    /** A contiguous row-major copy as doubles (from a device: waits for its queued work and downloads). */
    public double[] toDoubleArray() {
        Tensor c = Raw.convert(device().isCpu() ? this : Raw.toDevice(this, Device.CPU), DType.F64);
        return ((CpuStorage) c.storage).f64();
    }

    /** A contiguous row-major copy as floats (from a device: waits for its queued work and downloads). */
    public float[] toFloatArray() {
        Tensor c = Raw.convert(device().isCpu() ? this : Raw.toDevice(this, Device.CPU), DType.F32);
        return ((CpuStorage) c.storage).f32();
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalArgumentException("item: tensor of shape " + Shapes.str(shape) + " has " + numel() + " elements, expected 1");
        return get(new int[shape.length]);
    }

    /** The element at a full index. */
    public double get(int... idx) {
        if (idx.length != shape.length)
            throw new IllegalArgumentException("get: " + idx.length + " indices for shape " + Shapes.str(shape));
        int p = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i])
                throw new IllegalArgumentException("get: index " + Arrays.toString(idx) + " out of bounds for shape " + Shapes.str(shape));
            p += idx[i] * strides[i];
        }
        if (!device().isCpu()) return Raw.backend("get", this).read(storage, p);
        return Raw.cpu("get", this).get(p);
    }

    /** This tensor, or a contiguous copy of it (differentiable). */
    public Tensor contiguous() { return isContiguous() ? this : Primitives.reshape(this, shape); }

    /** A copy converted to {@code dtype} (differentiable); this tensor when the dtype already matches. */
    public Tensor to(DType dtype) { return Primitives.to(this, dtype); }

    /**
     * A copy on {@code device} (differentiable: the gradient flows back to this tensor's device); this tensor
     * when it is already there. A 16-bit (BF16/F16) device tensor arrives on the CPU as F32.
     *
     * <pre>{@code
     * jshell> var x = Tensor.randn(Rng.seeded(1), DType.F32, 8, 64).requiresGrad(true)
     * jshell> x.to(Device.cuda(0)).tanh().sum().backward(); x.grad().device()
     * $3 ==> cpu
     * }</pre>
     */
    public Tensor to(Device device) { return Primitives.toDevice(this, device); }

    /** A zero-filled tensor on {@code device}. */
    public static Tensor zeros(Device device, DType dtype, int... shape) {
        return Raw.empty(device, dtype, Shapes.check("zeros", shape));
    }

    // ---- autograd ----------------------------------------------------------------------------

    /** Marks a leaf as requiring grad; returns this. */
    public Tensor requiresGrad(boolean on) {
        if (node != null && !on)
            throw new IllegalStateException("requiresGrad(false) on the result of op '" + node.name + "'; use detach()");
        requiresGradFlag = on;
        return this;
    }

    public boolean requiresGrad() { return requiresGradFlag; }

    /** The accumulated gradient of a leaf, or null before backward / after {@link #zeroGrad()}. */
    public Tensor grad() { return gradField; }

    /** Clears the gradient (grad() returns null until the next backward). */
    public void zeroGrad() { gradField = null; }

    /** Replaces the gradient (e.g. after an all-reduce); null clears it. Shape and dtype must match. */
    public void setGrad(Tensor g) {
        if (g != null && (!Arrays.equals(g.shape, shape) || g.dtype() != dtype()))
            throw new IllegalArgumentException("setGrad: gradient " + Shapes.str(g.shape) + " " + g.dtype()
                    + " does not match tensor " + Shapes.str(shape) + " " + dtype());
        gradField = g == null ? null : g.detach();
    }

    /**
     * The one in-place write: copies {@code src} (broadcast to this shape, converted to this dtype)
     * into this tensor's elements, through its strides. Not recorded in the graph; for a tensor that
     * requires grad it must run inside {@link #noGrad()} (optimizer steps, loading a state dict).
     * Other views of the same storage see the new values. Returns this.
     *
     * <pre>{@code
     * try (var _ = Tensor.noGrad()) { w.copyFrom(w.sub(w.grad().mul(lr))); }   // an SGD step
     * }</pre>
     */
    public Tensor copyFrom(Tensor src) {
        if (requiresGradFlag && Autograd.gradEnabled())
            throw new IllegalStateException("copyFrom: in-place write to a tensor that requires grad; "
                    + "do it inside Tensor.noGrad()");
        int[] target = Shapes.broadcast("copyFrom", src.shape, shape);
        if (!Arrays.equals(target, shape))
            throw new IllegalArgumentException("copyFrom: source shape " + Shapes.str(src.shape)
                    + " cannot be broadcast to " + Shapes.str(shape));
        for (int i = 0; i < shape.length; i++)
            if (strides[i] == 0 && shape[i] > 1)
                throw new IllegalArgumentException("copyFrom: destination " + Shapes.str(shape) + " is an expanded view");
        if (!src.device().equals(device())) src = Raw.toDevice(src, device());
        var be = Raw.backend("copyFrom", src, this);
        if (be != null) {
            if (numel() > 0)
                be.copy(shape, Raw.view(src, shape), new ai.longconv4j.backend.View(storage, strides, offset));
            return this;
        }
        ai.longconv4j.backend.cpu.ElementwiseKernels.copy(ai.longconv4j.backend.cpu.CpuContext.current(), shape,
                Raw.cpu("copyFrom", src), Shapes.broadcastStrides(src.shape, src.strides, shape), src.offset,
                Raw.cpu("copyFrom", this), strides, offset);
        return this;
    }

    /** The name of the op that produced this tensor, or null for a leaf. */
    public String gradFn() { return node == null ? null : node.name; }

    /** Backpropagates from a one-element tensor (gradient 1). */
    public void backward() {
        if (numel() != 1)
            throw new IllegalArgumentException("backward: tensor of shape " + Shapes.str(shape)
                    + " is not a scalar; call backward(gradOut)");
        Tensor one = device().isCpu() ? full(1, dtype(), shape) : Raw.empty(device(), dtype(), shape).add(1);
        Autograd.backward(this, one, false);
    }

    /** Backpropagates {@code gradOut} (same shape as this); frees the graph. */
    public void backward(Tensor gradOut) { Autograd.backward(this, gradOut, false); }

    /** Backpropagates {@code gradOut}; keeps the graph for another backward when {@code retainGraph}. */
    public void backward(Tensor gradOut, boolean retainGraph) { Autograd.backward(this, gradOut, retainGraph); }

    /** The same values, cut from the graph (shares storage). */
    public Tensor detach() { return new Tensor(storage, shape, strides, offset); }

    /** Opens a per-thread no-grad scope: {@code try (var _ = Tensor.noGrad()) { ... }}. */
    public static NoGrad noGrad() { return Autograd.noGrad(); }

    /** Whether ops on this thread record a graph now. */
    public static boolean isGradEnabled() { return Autograd.gradEnabled(); }

    /**
     * Wires a caller-computed {@code result} into the graph as op {@code name} of {@code inputs}, with a
     * hand-written gradient rule. Returns a new tensor sharing result's storage.
     *
     * <pre>{@code
     * Tensor y = Tensor.op("double", x.detach().mul(2), new Tensor[]{x}, g -> new Tensor[]{g.mul(2)});
     * }</pre>
     */
    public static Tensor op(String name, Tensor result, Tensor[] inputs, Backward backward) {
        return Primitives.op(name, result, inputs, backward);
    }

    // ---- elementwise (broadcasting) ----------------------------------------------------------

    public Tensor add(Tensor o) { return Primitives.arith(Arith.ADD, this, o); }
    public Tensor sub(Tensor o) { return Primitives.arith(Arith.SUB, this, o); }
    public Tensor mul(Tensor o) { return Primitives.arith(Arith.MUL, this, o); }
    public Tensor div(Tensor o) { return Primitives.arith(Arith.DIV, this, o); }
    public Tensor add(double c) { return Primitives.unary(UnaryFn.affine("add", x -> x + c, 1), this); }
    public Tensor sub(double c) { return add(-c); }
    public Tensor mul(double c) { return Primitives.unary(UnaryFn.affine("mul", x -> x * c, c), this); }
    public Tensor div(double c) { return mul(1 / c); }
    public Tensor neg() { return Primitives.unary(UnaryFn.NEG, this); }
    public Tensor exp() { return Primitives.unary(UnaryFn.EXP, this); }
    public Tensor log() { return Primitives.unary(UnaryFn.LOG, this); }
    public Tensor tanh() { return Primitives.unary(UnaryFn.TANH, this); }
    public Tensor sigmoid() { return Primitives.unary(UnaryFn.SIGMOID, this); }
    public Tensor relu() { return Primitives.unary(UnaryFn.RELU, this); }
    /** Exact GELU: x * Phi(x) (erf-based). */
    public Tensor gelu() { return Primitives.unary(UnaryFn.GELU, this); }
    /** GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public Tensor geluTanh() { return Primitives.unary(UnaryFn.GELU_TANH, this); }
    /**
     * {@code g · geluTanh'(this)}, given {@code y = this.geluTanh()}: the gradient {@link #geluTanh}'s backward applies
     * (one kernel on a device, one loop on the CPU), for hand-written backwards such as a fused linear + GELU.
     */
    public Tensor geluTanhGrad(Tensor y, Tensor g) { return Primitives.unaryGrad(UnaryFn.GELU_TANH, this, y, g); }
    public Tensor sqrt() { return Primitives.unary(UnaryFn.SQRT, this); }
    public Tensor pow(double p) { return Primitives.unary(UnaryFn.pow(p), this); }
    public Tensor abs() { return Primitives.unary(UnaryFn.ABS, this); }
    /** -1, 0 or 1 (zero gradient). */
    public Tensor sign() { return Primitives.unary(UnaryFn.SIGN, this); }
    /** max(x, c) elementwise; gradient 1 where x > c. */
    public Tensor maximum(double c) { return Primitives.unary(UnaryFn.maximum(c), this); }

    /** {@code mask != 0 ? a : b}, broadcasting all three; mask gets no gradient. */
    public static Tensor where(Tensor mask, Tensor a, Tensor b) { return Primitives.where(mask, a, b); }

    // ---- reductions --------------------------------------------------------------------------

    /** Sum of all elements (0-dim result). */
    public Tensor sum() { return Primitives.sumAll(this); }
    public Tensor sum(int axis, boolean keepDim) { return Primitives.sum(this, Shapes.axis("sum", axis, dim()), keepDim); }
    public Tensor mean() { return Composite.mean(this); }
    public Tensor mean(int axis, boolean keepDim) { return Composite.mean(this, Shapes.axis("mean", axis, dim()), keepDim); }
    /** Max along an axis; the gradient goes to the first maximal element. */
    public Tensor max(int axis, boolean keepDim) { return Primitives.max(this, Shapes.axis("max", axis, dim()), keepDim); }

    // ---- linear algebra and shapes -----------------------------------------------------------

    /**
     * Batched matrix product (..., M, K) x (..., K, N) with broadcast batch dims; BLAS underneath. A 1-D
     * operand is a row (left) or column (right) vector whose axis is dropped from the result.
     */
    public Tensor matmul(Tensor o) {
        if (dim() == 0 || o.dim() == 0)
            throw new IllegalArgumentException("matmul: 0-dim operand, shapes " + Shapes.str(shape) + " and " + Shapes.str(o.shape));
        if (dim() == 1) return unsqueeze(0).matmul(o).squeeze(-2);        // (K) x (..., K, N) -> (..., N)
        if (o.dim() == 1) return matmul(o.unsqueeze(-1)).squeeze(-1);     // (..., M, K) x (K) -> (..., M)
        return Primitives.matmul(this, o);
    }

    /** New shape with the same number of elements; one entry may be -1. A view when contiguous. */
    public Tensor reshape(int... newShape) { return Primitives.reshape(this, inferShape(newShape)); }

    public Tensor permute(int... axes) { return Primitives.permute(this, axes); }

    public Tensor transpose(int a, int b) {
        int[] p = new int[dim()];
        for (int i = 0; i < p.length; i++) p[i] = i;
        int x = Shapes.axis("transpose", a, dim()), y = Shapes.axis("transpose", b, dim());
        p[x] = y;
        p[y] = x;
        return permute(p);
    }

    /** Elements [start, end) along an axis (a view). */
    public Tensor slice(int axis, int start, int end) { return Primitives.slice(this, axis, start, end); }

    /** Broadcasts to {@code shape} (a view with stride 0 on expanded dims). */
    public Tensor expand(int... newShape) { return Primitives.expand(this, newShape); }

    public static Tensor concat(int axis, Tensor... tensors) { return Primitives.concat(axis, tensors); }

    /** Zero padding along an axis. */
    public Tensor pad(int axis, int before, int after) { return Composite.pad(this, axis, before, after); }

    public Tensor flip(int axis) { return Primitives.flip(this, axis); }

    /** Inserts a size-1 axis at {@code axis} (0..dim(); negative counts from the end of the result). */
    public Tensor unsqueeze(int axis) {
        int a = Shapes.axis("unsqueeze", axis, dim() + 1);
        int[] s = new int[dim() + 1];
        for (int i = 0, j = 0; i < s.length; i++) s[i] = i == a ? 1 : shape[j++];
        return reshape(s);
    }

    /** Removes a size-1 axis. */
    public Tensor squeeze(int axis) {
        int a = Shapes.axis("squeeze", axis, dim());
        if (shape[a] != 1)
            throw new IllegalArgumentException("squeeze: axis " + axis + " of shape " + Shapes.str(shape) + " has size " + shape[a]);
        return reshape(Raw.reducedShape(shape, a, false));
    }

    /** Indices (as values of this dtype, no gradient) of the first maximum along an axis. */
    public Tensor argmax(int axis, boolean keepDim) {
        int a = Shapes.axis("argmax", axis, dim());
        Object[] arg = new Object[1];
        Raw.max(this, a, keepDim, arg);
        Tensor out = Raw.output(device(), dtype(), Raw.reducedShape(shape, a, keepDim));
        if (!device().isCpu()) {
            Raw.backend("argmax", this).argmaxValues(arg[0], out.storage);
            return out;
        }
        int[] am = (int[]) arg[0];
        CpuStorage s = (CpuStorage) out.storage;
        for (int i = 0; i < am.length; i++) s.set(i, am[i]);
        return out;
    }

    // ---- neural-network helpers --------------------------------------------------------------

    public Tensor softmax(int axis) { return Composite.softmax(this, Shapes.axis("softmax", axis, dim())); }
    public Tensor logSoftmax(int axis) { return Composite.logSoftmax(this, Shapes.axis("logSoftmax", axis, dim())); }

    /** Mean cross-entropy of logits (N, V) against targets, skipping rows whose target is ignoreIndex. */
    public Tensor crossEntropy(int[] targets, int ignoreIndex) { return Composite.crossEntropy(this, targets, ignoreIndex); }

    /** Rows of weight (V, D) at ids, shaped (idShape..., D); scatter-add backward. */
    public static Tensor embedding(Tensor weight, int[] ids, int... idShape) {
        return Primitives.embedding(weight, ids, idShape.length == 0 ? new int[]{ids.length} : idShape);
    }

    /** Inverted dropout with a seeded generator; identity when not training or p == 0. */
    public Tensor dropout(double p, RandomGenerator rng, boolean training) { return Composite.dropout(this, p, rng, training); }

    // ---- internals ---------------------------------------------------------------------------

    private int[] inferShape(int[] s) {
        int[] r = s.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < r.length; i++) {
            if (r[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: more than one -1 in " + Arrays.toString(s));
                infer = i;
            } else if (r[i] < 0) {
                throw new IllegalArgumentException("reshape: negative size in " + Arrays.toString(s));
            } else known *= r[i];
        }
        int n = numel();
        if (infer >= 0 && known > 0 && n % known == 0) r[infer] = (int) (n / known);
        if ((infer >= 0 && (known == 0 || n % known != 0)) || Shapes.numel(r) != n)
            throw new IllegalArgumentException("reshape: shape " + Shapes.str(shape) + " (" + n + " elements) cannot become "
                    + Arrays.toString(s));
        return r;
    }

    /** A view with a new shape over this contiguous tensor (no checks beyond element count). */
    Tensor reshapeView(int[] newShape) {
        return new Tensor(storage, newShape.clone(), Shapes.contiguousStrides(newShape), offset);
    }

    /** Short and fixed: shape, dtype, device, up to 6 values. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(shape=").append(Shapes.str(shape)).append(", ").append(dtype())
                .append(", ").append(device());
        if (requiresGradFlag) sb.append(", requiresGrad");
        if (storage instanceof CpuStorage || numel() > 0) {
            // on a device the first values are read back one by one (each waits for the queued work)
            java.util.function.IntToDoubleFunction at = storage instanceof CpuStorage cs ? cs::get
                    : p -> Raw.backend("toString", this).read(storage, p);
            int n = numel(), show = Math.min(n, 6);
            sb.append(", [");
            for (int i = 0; i < show; i++) {
                int rem = i, p = offset;
                for (int d = shape.length - 1; d >= 0; d--) {
                    p += (rem % shape[d]) * strides[d];
                    rem /= shape[d];
                }
                double v = at.applyAsDouble(p);
                sb.append(i > 0 ? ", " : "").append(dtype() == DType.F64 ? Double.toString(v) : Float.toString((float) v));
            }
            if (n > show) sb.append(", ...");
            sb.append(']');
        }
        return sb.append(')').toString();
    }
}
