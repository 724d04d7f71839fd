// Shapes: x (..., in) -> y (..., out); weight (out, in); bias (out). B batch, L length in examples.
package ai.longconv4j.nn;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Affine map over the last axis: {@code y = x · Wᵀ + b}, with {@code W: (out, in)} and {@code b: (out)}.
 * Weight and bias are initialized uniform in {@code [-1/√in, 1/√in)} from the given generator.
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
        if (w.dim() != 2) {
            throw new IllegalArgumentException("Linear.linear: weight must be (out, in), got "
                    + Arrays.toString(w.shape()));
        }
        int outF = w.size(0);
        int inF = w.size(1);
        if (x.dim() < 1 || x.size(x.dim() - 1) != inF) {
            throw new IllegalArgumentException("Linear.linear: expected x (..., " + inF + "), got "
                    + Arrays.toString(x.shape()));
        }
        if (b != null && (b.dim() != 1 || b.size(0) != outF)) {
            throw new IllegalArgumentException("Linear.linear: expected bias (" + outF + "), got "
                    + Arrays.toString(b.shape()));
        }
        int[] xs = x.shape();
        int rows = x.numel() / inF;
        Tensor y = x.reshape(rows, inF).matmul(w.transpose(0, 1));
        if (b != null) {
            y = y.add(b);
        }
        int[] ys = xs.clone();
        ys[ys.length - 1] = outF;
        return y.reshape(ys);
    }

    @Override
    protected String describe() {
        return "Linear(" + in + " -> " + out + (bias == null ? ", no bias" : "") + ")";
    }
}
