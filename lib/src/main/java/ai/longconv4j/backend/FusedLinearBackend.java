// Shape legend: R rows (the flattened leading axes, e.g. B·L), x (R, in), w (out, in), b (out), y (R, out).
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Tensor;

/**
 * An optional capability of a device {@link Backend}: a linear layer with its epilogue (bias, activation) in one
 * GEMM, e.g. through cuBLASLt's epilogues, instead of a GEMM followed by separate bias and activation kernels.
 * {@code ai.longconv4j.nn.Linear.linear} and {@code Linear.linearGelu} call it for tensors on the backend's device;
 * {@code ai.longconv4j.nn.FusedLinear#reference} is the op's Java twin (same math, same hand-written backward) and the
 * composition {@code x.matmul(w.transpose(0, 1)).add(b)[.geluTanh()]} is the slow twin.
 */
public interface FusedLinearBackend {
    /** The epilogue's activation. Only the tanh form of GELU: it is the one GEMM epilogues compute. */
    enum Activation {
        /** {@code y = x · wᵀ + b}. */
        NONE,
        /** {@code y = geluTanh(x · wᵀ + b)}, {@code geluTanh(z) = 0.5 z (1 + tanh(√(2/π) (z + 0.044715 z³)))}. */
        GELU_TANH
    }

    /**
     * {@code y = act(x · wᵀ + b)}: x (R, in), w (out, in), b (out) or null, all on this backend's device in one dtype.
     * Returns y (R, out) in x's dtype, wired into the graph with the gradients of x, w and b, or null where the backend
     * has no fused path for these shapes, dtypes or this activation (the caller then composes the same result from
     * tensor ops).
     */
    Tensor linear(Tensor x, Tensor w, Tensor b, Activation act);
}
