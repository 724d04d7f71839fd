// Shape legend: R rows (flattened leading axes, e.g. B·L), x (R, in), w (out, in), b (out), z and y (R, out).
package ai.longconv4j.nn;

import ai.longconv4j.backend.FusedLinearBackend.Activation;
import ai.longconv4j.tensor.Tensor;

/**
 * The fused linear op {@code y = act(x · wᵀ + b)} as one autograd node with a hand-written backward: the Java twin of
 * what a {@link ai.longconv4j.backend.FusedLinearBackend} computes on a device (cuBLASLt: forward epilogue
 * {@code GELU_AUX_BIAS} keeps the pre-activation z; backward {@code dz = dy · geluTanh'(z)}, {@code dx = dz · w},
 * {@code dw = dzᵀ · x} with {@code db = Σ_rows dz} in the same GEMM's {@code BGRADB} epilogue). It runs on any device
 * through tensor ops and keeps only z (and y) for the backward, where the composition keeps the GEMM output, the
 * biased sum and the GELU output. Its slow twin is the composition {@code x.matmul(w.transpose(0, 1)).add(b)
 * .geluTanh()}.
 *
 * <pre>{@code
 * jshell> FusedLinear.reference(Tensor.ones(DType.F64, 2, 3), Tensor.ones(DType.F64, 1, 3), null, Activation.GELU_TANH)
 * $1 ==> Tensor(shape=[2, 1], F64, cpu, [2.99636, 2.99636])
 * }</pre>
 */
public final class FusedLinear {
    private FusedLinear() {}

    /**
     * {@code act(x · wᵀ + b)} with the hand-written backward: x (R, in), w (out, in), b (out) or null; returns (R, out).
     * Shapes are checked by the caller ({@link Linear#linear}).
     */
    public static Tensor reference(Tensor x, Tensor w, Tensor b, Activation act) {
        Tensor z;
        Tensor y;
        try (var ng = Tensor.noGrad()) {
            z = x.detach().matmul(w.detach().transpose(0, 1));
            if (b != null) {
                z = z.add(b.detach());
            }
            y = act == Activation.GELU_TANH ? z.geluTanh() : z;
        }
        Tensor pre = z;
        Tensor post = y;
        String name = act == Activation.GELU_TANH ? "linearGelu" : "linear";
        return Tensor.op(name, y, new Tensor[] {x, w, b}, g -> {
            Tensor dz = act == Activation.GELU_TANH ? pre.geluTanhGrad(post, g) : g;
            Tensor dx = x.requiresGrad() ? dz.matmul(w.detach()) : null;
            Tensor dw = w.requiresGrad() ? dz.transpose(0, 1).matmul(x.detach()) : null;
            Tensor db = b != null && b.requiresGrad() ? dz.sum(0, false) : null;
            return new Tensor[] {dx, dw, db};
        });
    }
}
