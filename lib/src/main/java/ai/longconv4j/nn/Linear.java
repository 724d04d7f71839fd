// Shapes: x (..., in) -> y (..., out); weight (out, in); bias (out). B batch, L length in examples.
package ai.longconv4j.nn;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.FusedLinearBackend;
import ai.longconv4j.backend.FusedLinearBackend.Activation;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Affine map over the last axis: {@code y = x · Wᵀ + b}, with {@code W: (out, in)} and {@code b: (out)}.
 * Weight and bias are initialized uniform in {@code [-1/√in, 1/√in)} from the given generator. On a device whose
 * backend is a {@link FusedLinearBackend} (CUDA: cuBLASLt), the bias is added in the GEMM's epilogue, and
 * {@link #linearGelu} with {@link GELU.Approximation#TANH} applies the GELU there too.
 *
 * <pre>{@code
 * jshell> var lin = Linear.builder().in(4).out(8).seed(7).build()
 * lin ==> Linear(4 -> 8) (40 parameters, train)
 * jshell> lin.forward(Tensor.ones(DType.F32, 2, 5, 4)).shape()
 * $2 ==> int[3] { 2, 5, 8 }
 * }</pre>
 */
public final class Linear extends Module {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;

    /** F32 layer with bias. */
    public Linear(int in, int out, RandomGenerator rng) {
        this(in, out, true, DType.F32, rng);
    }

    /**
     * @param in    input features (last axis of x)
     * @param out   output features
     * @param bias  whether to add a bias
     * @param dtype parameter dtype
     * @param rng   generator for the initialization
     */
    public Linear(int in, int out, boolean bias, DType dtype, RandomGenerator rng) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("Linear: in and out must be positive, got in=" + in + ", out=" + out);
        }
        Objects.requireNonNull(rng, "rng");
        this.in = in;
        this.out = out;
        double bound = 1.0 / Math.sqrt(in);
        this.weight = param(Parameter.of("weight", uniform(rng, dtype, bound, out, in)));
        this.bias = bias ? param(Parameter.noDecay("bias", uniform(rng, dtype, bound, out))) : null;
    }

    static Tensor uniform(RandomGenerator rng, DType dtype, double bound, int... shape) {
        return Tensor.rand(rng, dtype, shape).mul(2 * bound).sub(bound).detach();
    }

    /** A builder: {@code in} and {@code out} are required; bias (true), dtype (F32), seed (0) optional. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link Linear}. */
    public static final class Builder {
        private int in = -1;
        private int out = -1;
        private boolean bias = true;
        private DType dtype = DType.F32;
        private RandomGenerator rng;
        private long seed;

        private Builder() {
        }

        /** Input features (required). */
        public Builder in(int n) {
            in = n;
            return this;
        }

        /** Output features (required). */
        public Builder out(int n) {
            out = n;
            return this;
        }

        /** Whether to add a bias (default true). */
        public Builder bias(boolean on) {
            bias = on;
            return this;
        }

        /** Parameter dtype (default F32). */
        public Builder dtype(DType d) {
            dtype = Objects.requireNonNull(d);
            return this;
        }

        /** Seed of the initialization (default 0); ignored when {@link #rng} is set. */
        public Builder seed(long s) {
            seed = s;
            return this;
        }

        /** Generator of the initialization (overrides the seed). */
        public Builder rng(RandomGenerator r) {
            rng = Objects.requireNonNull(r);
            return this;
        }

        /** Validates and builds. */
        public Linear build() {
            if (in <= 0 || out <= 0) {
                throw new IllegalArgumentException("Linear.Builder: set in(...) and out(...) to positive sizes, got in="
                        + in + ", out=" + out);
            }
            return new Linear(in, out, bias, dtype, rng != null ? rng : Rng.seeded(seed));
        }
    }

    /** Weight {@code (out, in)}. */
    public Parameter weight() {
        return weight;
    }

    /** Bias {@code (out)}, or {@code null}. */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        return linear(x, weight.value(), bias == null ? null : bias.value());
    }

    /**
     * Functional form: {@code y = x · wᵀ + b} over the last axis.
     *
     * @param x (..., in)
     * @param w (out, in)
     * @param b (out) or {@code null}
     * @return (..., out)
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        return apply("Linear.linear", x, w, b, Activation.NONE);
    }

    /**
     * {@code gelu(x · wᵀ + b)} over the last axis. With {@link GELU.Approximation#TANH}, on a device whose backend is a
     * {@link FusedLinearBackend} (CUDA: one cuBLASLt GEMM with the {@code GELU_AUX_BIAS} epilogue, which keeps the
     * pre-activation for the backward), and on the CPU as one autograd node ({@link FusedLinear#reference}). The
     * {@link GELU.Approximation#EXACT} form (erf) is never fused — GEMM epilogues compute the tanh form only — and is
     * exactly {@code linear(x, w, b).gelu()}.
     *
     * <pre>{@code
     * jshell> Linear.linearGelu(Tensor.ones(DType.F64, 2, 3), Tensor.ones(DType.F64, 1, 3), null, GELU.Approximation.TANH)
     * $1 ==> Tensor(shape=[2, 1], F64, cpu, [2.99636, 2.99636])
     * }</pre>
     *
     * @param x (..., in)
     * @param w (out, in)
     * @param b (out) or {@code null}
     * @param approximation which GELU
     * @return (..., out)
     */
    public static Tensor linearGelu(Tensor x, Tensor w, Tensor b, GELU.Approximation approximation) {
        Objects.requireNonNull(approximation, "approximation");
        if (approximation == GELU.Approximation.EXACT) {
            return linear(x, w, b).gelu();
        }
        return apply("Linear.linearGelu", x, w, b, Activation.GELU_TANH);
    }

    /** {@code gelu(forward(x))} with this layer's parameters, fused where {@link #linearGelu} fuses. */
    public Tensor forwardGelu(Tensor x, GELU.Approximation approximation) {
        return linearGelu(x, weight.value(), bias == null ? null : bias.value(), approximation);
    }

    private static Tensor apply(String op, Tensor x, Tensor w, Tensor b, Activation act) {
        if (w.dim() != 2) {
            throw new IllegalArgumentException(op + ": weight must be (out, in), got " + Arrays.toString(w.shape()));
        }
        int outF = w.size(0);
        int inF = w.size(1);
        if (x.dim() < 1 || x.size(x.dim() - 1) != inF) {
            throw new IllegalArgumentException(op + ": expected x (..., " + inF + "), got " + Arrays.toString(x.shape()));
        }
        if (b != null && (b.dim() != 1 || b.size(0) != outF)) {
            throw new IllegalArgumentException(op + ": expected bias (" + outF + "), got " + Arrays.toString(b.shape()));
        }
        int[] ys = x.shape();
        ys[ys.length - 1] = outF;
        int rows = x.numel() / inF;
        Tensor x2 = x.dim() == 2 ? x : x.reshape(rows, inF);
        Tensor y = fused(x2, w, b, act);
        if (y == null && act == Activation.GELU_TANH && x.device().isCpu()) {
            y = FusedLinear.reference(x2, w, b, act);
        }
        if (y == null) {
            y = x2.matmul(w.transpose(0, 1));
            if (b != null) {
                y = y.add(b);
            }
            if (act == Activation.GELU_TANH) {
                y = y.geluTanh();
            }
        }
        return x.dim() == 2 ? y : y.reshape(ys);
    }

    /** The backend's fused op, or null (CPU, operands on several devices or dtypes, no fused path, empty x). */
    private static Tensor fused(Tensor x2, Tensor w, Tensor b, Activation act) {
        if (x2.device().isCpu() || x2.numel() == 0 || !w.device().equals(x2.device()) || w.dtype() != x2.dtype()
                || (b != null && (!b.device().equals(x2.device()) || b.dtype() != x2.dtype()))) {
            return null;
        }
        return Backends.forDevice(x2.device()) instanceof FusedLinearBackend f ? f.linear(x2, w, b, act) : null;
    }

    @Override
    protected String describe() {
        return "Linear(" + in + " -> " + out + (bias == null ? ", no bias" : "") + ")";
    }
}
