// Shape legend: shape = output shape of elementwise kernels; reductions view x as (O, R, I) = (outer,
// reduced, inner), contiguous; matmul C (batch, M, N) = A (batch, M, K) B (batch, K, N); embedding
// weight (V, D), ids (n), out (n, D).
package ai.longconv4j.backend;

import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.backend.cpu.ElementwiseKernels.Arith;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Storage;

/**
 * A device backend: the ~15 primitive kernels that {@code ai.longconv4j.tensor} needs for tensors whose
 * storage lives on a non-CPU device. Implementations are found with {@link java.util.ServiceLoader} (see
 * {@link Backends}), so this library has no dependency on any of them; {@code longconv4j-kernels-cuda}
 * provides the CUDA one. All kernels may run asynchronously (queued in order on the device);
 * {@link #read} and {@link #download} wait for the queued work. Outputs are written through their views;
 * inputs and outputs of one call never overlap. Every storage passed in belongs to this backend.
 */
public interface Backend {
    /** The device kind served. */
    Device.Kind kind();

    /** Null when {@code device} is usable, else why not (no driver, no device i of n, ...). */
    String unavailableReason(Device device);

    /** A new storage of {@code length} elements on {@code device}, zero-filled. */
    Storage allocate(Device device, DType dtype, int length);

    /** A new storage whose contents are undefined (for outputs a kernel overwrites entirely); default: zero-filled. */
    default Storage allocateUninitialized(Device device, DType dtype, int length) { return allocate(device, dtype, length); }

    /**
     * Fused AdamW update of one parameter (all contiguous from their offsets, n elements, one dtype): with
     * {@code p1 = p (1 - lr wd)}, {@code m' = b1 m + (1 - b1) g}, {@code v' = b2 v + (1 - b2) g^2},
     * {@code pOut = p1 - (lr / bc1) m' / (sqrt(v' / bc2) + eps)}; writes pOut, mOut, vOut. Returns false when the
     * backend has no fused kernel (the optimizer then composes the same formula from tensor ops).
     */
    default boolean adamw(int n, View p, View g, View m, View v, View pOut, View mOut, View vOut,
                          double lr, double wd, double b1, double b2, double eps, double bc1, double bc2) { return false; }

    /** A device copy of a CPU storage, converted to {@code dtype}. */
    Storage upload(Device device, CpuStorage src, DType dtype);

    /** The value of element {@code index} (waits for queued work). */
    double read(Storage s, int index);

    /** Waits for all work queued on the device. */
    void synchronize(Device device);

    /**
     * A nanosecond clock for profiling work on {@code device}: each reading marks the device's queue (e.g. records
     * a CUDA event on its stream), waits for the work queued before the mark, and returns the device time
     * elapsed since the clock was made. Default: wait with {@link #synchronize} and read {@link System#nanoTime()}.
     */
    default java.util.function.LongSupplier clock(Device device) {
        return () -> {
            synchronize(device);
            return System.nanoTime();
        };
    }

    /** dst[view] = src[view] with dtype conversion (dst may be any non-overlapping strided view). */
    void copy(int[] shape, View src, View dst);

    /** dst[view] = value. */
    void fill(int[] shape, View dst, double value);

    /** y = f(x); y contiguous. */
    void unary(UnaryOp op, double p, int[] shape, View x, View y);

    /** dx = g * f'(x, y); dx contiguous; x, y, g of dx's dtype. */
    void unaryGrad(UnaryOp op, double p, int[] shape, View x, View y, View g, View dx);

    /** out = a op b (broadcast through strides); out contiguous; equal dtypes. */
    void binary(Arith op, int[] shape, View a, View b, View out);

    /** out = cond != 0 ? a : b; out contiguous; cond may have another dtype. */
    void select(int[] shape, View cond, View a, View b, View out);

    /** out[o, i] = sum_r x[off + (o R + r) I + i]; out (O, I) contiguous. */
    void sum(Storage x, int off, int outer, int red, int inner, Storage out);

    /**
     * {@code out[outIndex] = sum_{j < n} x[off + j]^2}, summed in double; {@code out} is an F64 storage (e.g. one slot
     * per gradient of a global norm). Default: the composed slow twin (square into a temporary, {@link #sum} in x's
     * dtype, convert into the slot); a backend may fuse it (CUDA: one split reduction, no temporary).
     */
    default void sumSquares(Storage x, int off, int n, Storage out, int outIndex) {
        if (out.dtype() != DType.F64) throw new IllegalArgumentException("sumSquares: out must be F64, got " + out.dtype());
        if (outIndex < 0 || outIndex >= out.length())
            throw new IllegalArgumentException("sumSquares: index " + outIndex + " out of [0, " + out.length() + ")");
        Device d = x.device();
        int[] one = {1};
        Storage s = allocate(d, x.dtype(), 1);
        if (n > 0) {
            Storage sq = allocateUninitialized(d, x.dtype(), n);
            View xv = new View(x, one, off);
            binary(Arith.MUL, new int[] {n}, xv, xv, new View(sq, one, 0));
            sum(sq, 0, 1, n, 1, s);
        }
        copy(one, new View(s, one, 0), new View(out, one, outIndex));
    }

    /**
     * Fused LayerNorm over the last axis: x (rows, d) contiguous from {@code xOff}; w, b (d) contiguous from their
     * offsets, or null (1 and 0). Writes y (rows, d) in x's dtype, and per row {@code mean} and {@code rstd = 1 /
     * sqrt(var + eps)} (biased variance) into F64 storages of {@code rows}. Returns false when the backend has no fused
     * kernel (LayerNorm then composes it from tensor ops, the slow twin).
     */
    default boolean layerNorm(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage b, int bOff, double eps,
                              Storage y, Storage mean, Storage rstd) { return false; }

    /**
     * The backward of {@link #layerNorm}, with xhat = (x - mean) rstd and gw = g w (g (rows, d) contiguous from
     * {@code gOff}): {@code dx = rstd (gw - mean_j gw - xhat mean_j(gw xhat))}, {@code dw = sum_rows g xhat},
     * {@code db = sum_rows g}; dw / db may be null (not wanted). Returns false without a fused kernel.
     */
    default boolean layerNormBackward(int rows, int d, Storage x, int xOff, Storage w, int wOff, Storage mean, Storage rstd,
                                      Storage g, int gOff, Storage dx, Storage dw, Storage db) { return false; }

    /**
     * Fused softmax cross-entropy: logits (rows, v) contiguous from {@code off}; {@code loss} (a one-element storage
     * of the logits' dtype) = mean over the rows whose target is not {@code ignoreIndex} of
     * {@code logsumexp(x_r) - x_r[t_r]} ({@code count} such rows; 0 when none). Targets are checked by the caller.
     * Returns a handle for {@link #crossEntropyBackward} (it keeps what the backward needs on the device), or null
     * when the backend has no fused kernel (the composed log-softmax path is the slow twin).
     */
    default Object crossEntropy(int rows, int v, Storage logits, int off, int[] targets, int ignoreIndex, int count,
                                Storage loss) { return null; }

    /** dx (rows, v) = g (softmax(x_r) - onehot(t_r)) / count, 0 on ignored rows; g one element of {@code g} at gOff. */
    default void crossEntropyBackward(Object handle, Storage g, int gOff, Storage dx) {
        throw new UnsupportedOperationException("crossEntropyBackward without a fused crossEntropy");
    }

    /**
     * out[o, i] = max_r x[...] (first maximum wins); returns a device handle of the argmax indices (O, I),
     * for {@link #maxGrad} and {@link #argmaxValues}.
     */
    Object max(Storage x, int off, int outer, int red, int inner, Storage out);

    /** dx (O, R, I) = 0 except dx[o, arg[o, i], i] = g[o, i]; g contiguous from gOff. */
    void maxGrad(Object arg, Storage g, int gOff, int outer, int red, int inner, Storage dx);

    /** out[j] = arg[j] as values of out's dtype. */
    void argmaxValues(Object arg, Storage out);

    /**
     * Batched row-major matmul: C[b] (M, N) = A[b] (M, K) B[b] (K, N), C contiguous. Operand b starts at
     * {@code aOff[b]} ({@code bOff[b]}); {@code lda} is the row stride of A, or its column stride when
     * {@code transA} (A stored column-major); same for B.
     */
    void matmul(int batch, int m, int n, int k, Storage a, int[] aOff, int lda, boolean transA,
                Storage b, int[] bOff, int ldb, boolean transB, Storage c);

    /** out[r, :] = w[wOff + ids[r] D ...]; w (V, D) contiguous, out (n, D). */
    void gather(Storage w, int wOff, int dm, int[] ids, Storage out);

    /** dw[ids[r], :] += g[gOff + r D ...]; dw (V, D) zero-initialised by the caller. */
    void scatterAdd(Storage g, int gOff, int dm, int[] ids, Storage dw);
}
