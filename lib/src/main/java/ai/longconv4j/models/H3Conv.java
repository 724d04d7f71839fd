// Shape legend: B batch, L length, D width (= H features of the convolutions), Lk kernel taps.
package ai.longconv4j.models;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.ConvOps;
import ai.longconv4j.conv.LongConv;
import ai.longconv4j.conv.LongConvKernel;
import ai.longconv4j.nn.Linear;
import ai.longconv4j.nn.Module;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.profile.Profiler;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * The H3 mixer with two long convolutions in place of its SSMs (DESIGN.md):
 * <pre>
 *   q, k, v = Wq u, Wk u, Wv u
 *   k ← conv(k, K1) + D1 ⊙ k          (the "shift" convolution)
 *   y = conv(k ⊙ v, K2) + D2 ⊙ (k ⊙ v) (the "diagonal" convolution)
 *   out = Wo (q ⊙ y)
 * </pre>
 * with no activation inside: each convolution is the raw long convolution with its skip term
 * ({@link ConvOps#conv}); K1, K2 are {@link LongConvKernel}s (Squash, Smooth, kernel dropout), one
 * channel per feature; D1, D2 are {@code (1, D)} initialized randn. The learned engines ({@link ConvEngine#LEARNED},
 * {@link ConvEngine#LEARNED_PACKED}) give each convolution its own DFT blocks {@code shiftFa ... diagGa} (LEARNED_PACKED: 2J each, {@code shiftpkFa ... diagpkGa})
 * ({@value Parameter#BUTTERFLY_GROUP} group, {@link LongConv#dftBlocks}) sized for length Lk;
 * shorter inputs are zero-padded to Lk and the output cropped (exact for causal and bidirectional modes). The
 * causal learned engine ({@link ConvEngine#LEARNED_CAUSAL}) gives each convolution the four causal Monarch blocks of
 * {@link ai.longconv4j.conv.CausalMonarch} instead (same group, identity init: {@code shiftInA ... diagOutW}).
 * Input and output are {@code (B, L, D)}.
 *
 * <p><b>Kernel init ({@link Init}).</b> By default ({@link Init#SHIFT_SUM}) the two kernels start as what
 * the H3 mixer is built around: K1 as a one-step shift (tap 1 = 1, so {@code k[t] <- k[t-1] + D1 k[t]}) and
 * K2 as a flat causal sum (every tap = {@value #SUM_MASS} / Lk, so {@code y[t]} sums {@code k ⊙ v} over the
 * whole history), both on top of the random {@link LongConvKernel} init and placed above the Squash threshold
 * ({@link LongConvKernel#addTaps}). With the random init alone ({@link Init#RANDOM}) both convolutions start
 * at ~0 (86.8% of the taps squashed dead at lambda = 0.003), the mixer is a pointwise product, and a 2-layer
 * H3 LM on associative recall stalls at the value-frequency rule; with SHIFT_SUM it learns recall (the
 * measurements are in examples/README.md, the regression test is {@code H3RecallTest}).
 *
 * <pre>{@code
 * jshell> var h3 = H3Conv.builder().width(32).length(256).seed(1).build()
 * jshell> h3.forward(Tensor.randn(Rng.seeded(2), DType.F32, 4, 256, 32)).shape()
 * $3 ==> int[3] { 4, 256, 32 }
 * }</pre>
 */
public final class H3Conv extends Module {
    /** Total mass of the flat "sum" init of the diagonal kernel K2 (each tap gets SUM_MASS / Lk). */
    public static final double SUM_MASS = 4.0;

    /** How the two kernels start (on top of the random {@link LongConvKernel} init). */
    public enum Init {
        /** K1 = one-step shift (tap 1 = 1), K2 = flat causal sum ({@value #SUM_MASS} / Lk per tap); the default. */
        SHIFT_SUM,
        /** The random long-convolution init only ({@code randn * 0.002}). */
        RANDOM
    }

    private final int width;
    private final ConvSettings conv;
    private final Linear qkv;
    private final Linear out;
    private final LongConvKernel shiftKernel;
    private final LongConvKernel diagKernel;
    private final Parameter shiftSkip;
    private final Parameter diagSkip;
    private final Parameter[] shiftBlocks;
    private final Parameter[] diagBlocks;
    private final Init init;

    private H3Conv(Builder b) {
        this.width = b.width;
        this.conv = b.conv;
        var rng = Rng.seeded(b.seed);
        this.qkv = register("qkv", new Linear(b.width, 3 * b.width, true, b.dtype, rng));
        this.shiftKernel = register("shiftKernel", kernel(b, b.seed + 11));
        this.shiftSkip = param("shiftD", Tensor.randn(rng, b.dtype, 1, b.width).detach());
        this.diagKernel = register("diagKernel", kernel(b, b.seed + 12));
        this.diagSkip = param("diagD", Tensor.randn(rng, b.dtype, 1, b.width).detach());
        this.out = register("out", new Linear(b.width, b.width, true, b.dtype, rng));
        this.init = b.init;
        if (b.init == Init.SHIFT_SUM) {
            int lk = b.length;
            shiftKernel.addTaps(t -> t == 1 ? 1.0 : 0.0);
            diagKernel.addTaps(t -> SUM_MASS / lk);
        }
        if (LongConv.isLearnedDft(conv.engine())) {
            shiftBlocks = LongConv.dftBlocks("shift", conv.engine(), b.length, conv.mode(), b.dtype);
            diagBlocks = LongConv.dftBlocks("diag", conv.engine(), b.length, conv.mode(), b.dtype);
            for (Parameter p : shiftBlocks) param(p);
            for (Parameter p : diagBlocks) param(p);
        } else if (conv.engine() == ConvEngine.LEARNED_CAUSAL) {
            if (conv.mode() != ConvMode.CAUSAL) {
                throw new IllegalArgumentException("H3Conv.Builder: the LEARNED_CAUSAL engine is CAUSAL only, got " + conv.mode()
                        + " (for bidirectional or circular use LEARNED)");
            }
            shiftBlocks = LongConv.causalBlocks("shift", b.length, b.dtype);
            diagBlocks = LongConv.causalBlocks("diag", b.length, b.dtype);
            for (Parameter p : shiftBlocks) param(p);
            for (Parameter p : diagBlocks) param(p);
        } else {
            shiftBlocks = null;
            diagBlocks = null;
        }
    }

    private static LongConvKernel kernel(Builder b, long seed) {
        return LongConvKernel.builder().channels(1).features(b.width).length(b.length).lambda(b.conv.lambda())
                .dropout(b.conv.kernelDropout()).smooth(b.conv.smooth())
                .bidirectional(b.conv.mode() == ConvMode.BIDIRECTIONAL).dtype(b.dtype).seed(seed).build();
    }

    /** A builder: {@code width} (D) and {@code length} (Lk, the longest input) are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link H3Conv}. */
    public static final class Builder {
        private int width = -1;
        private int length = -1;
        private ConvSettings conv = ConvSettings.defaults();
        private DType dtype = DType.F32;
        private Init init = Init.SHIFT_SUM;
        private long seed;

        private Builder() {
        }

        /** Kernel init (default {@link Init#SHIFT_SUM}). */
        public Builder init(Init i) {
            init = Objects.requireNonNull(i, "init");
            return this;
        }

        /** Model width D (required). */
        public Builder width(int d) {
            width = d;
            return this;
        }

        /** Kernel taps Lk = longest input length (required). */
        public Builder length(int lk) {
            length = lk;
            return this;
        }

        /** Convolution settings (default {@link ConvSettings#defaults()}); channels are ignored (always 1). */
        public Builder conv(ConvSettings s) {
            conv = Objects.requireNonNull(s, "conv");
            return this;
        }

        /** Parameter dtype (default F32). */
        public Builder dtype(DType d) {
            dtype = Objects.requireNonNull(d, "dtype");
            return this;
        }

        /** Initialization seed (default 0). */
        public Builder seed(long s) {
            seed = s;
            return this;
        }

        /** Validates and builds. */
        public H3Conv build() {
            if (width < 1 || length < 1) {
                throw new IllegalArgumentException("H3Conv.Builder: width (D) and length (Lk) must be >= 1, got D="
                        + width + ", Lk=" + length);
            }
            return new H3Conv(this);
        }
    }

    /** u (B, L, D) -> (B, L, D). */
    @Override
    public Tensor forward(Tensor u) {
        if (u == null || u.dim() != 3 || u.size(2) != width) {
            throw new IllegalArgumentException("H3Conv.forward: expected u (B, L, D=" + width + "), got "
                    + (u == null ? "null" : Arrays.toString(u.shape())));
        }
        Tensor proj = Profiler.forward("qkv", qkv, u);                      // (B, L, 3D)
        Tensor q = proj.slice(2, 0, width);
        Tensor kIn = proj.slice(2, width, 2 * width).transpose(1, 2);      // (B, D, L)
        Tensor v = proj.slice(2, 2 * width, 3 * width).transpose(1, 2);
        Tensor k = Profiler.module("shiftConv", () -> conv(kIn, shiftKernel, shiftSkip, shiftBlocks));
        Tensor kv = k.mul(v);
        Tensor y = Profiler.module("diagConv", () -> conv(kv, diagKernel, diagSkip, diagBlocks));
        return Profiler.forward("out", out, q.mul(y.transpose(1, 2)));
    }

    /** conv(x, K) + D ⊙ x for x (B, D, L). */
    private Tensor conv(Tensor x, LongConvKernel kernel, Parameter skip, Parameter[] blocks) {
        Tensor kt = kernel.kernel();                                        // (1, D, [2,] Lk)
        int[] ks = kt.shape();
        Tensor k2 = kt.reshape(Arrays.copyOfRange(ks, 1, ks.length));       // (D, [2,] Lk)
        if (blocks != null && conv.engine() == ConvEngine.LEARNED_CAUSAL) {
            Tensor[] bt = new Tensor[4];
            for (int i = 0; i < 4; i++) {
                bt[i] = blocks[i].value();
            }
            return ConvOps.learnedCausalConv(x, k2, skip.value(), conv.mode(), bt);
        }
        if (blocks != null) {
            int l = x.size(2);
            int lk = kernel.length();
            if (l != lk && conv.mode() == ConvMode.CIRCULAR) {
                throw new IllegalArgumentException("H3Conv.forward: the learned circular engine is built for L = " + lk
                        + ", got L = " + l);
            }
            Tensor[] bt = new Tensor[blocks.length];                        // LEARNED 4, LEARNED_PACKED 2J
            for (int i = 0; i < blocks.length; i++) {
                bt[i] = blocks[i].value();
            }
            // causal/bidirectional: zeros appended after the input add nothing to outputs [0, L), so pad to Lk and crop
            Tensor xp = l < lk ? x.pad(2, 0, lk - l) : x;
            Tensor y = conv.engine() == ConvEngine.LEARNED_PACKED ? ConvOps.learnedPackedConv(xp, k2, skip.value(), conv.mode(), bt)
                    : ConvOps.learnedConv(xp, k2, skip.value(), conv.mode(), bt);
            return l < lk ? y.slice(2, 0, l) : y;
        }
        return ConvOps.conv(x, k2, skip.value(), conv.mode(), conv.engine());
    }

    /** The convolution settings. */
    public ConvSettings conv() {
        return conv;
    }

    /** The kernel init this mixer was built with. */
    public Init init() {
        return init;
    }

    /** K1, the "shift" kernel applied to k. */
    public LongConvKernel shiftKernel() {
        return shiftKernel;
    }

    /** K2, the "diagonal" kernel applied to k ⊙ v. */
    public LongConvKernel diagKernel() {
        return diagKernel;
    }

    @Override
    protected String describe() {
        return "H3Conv(D=" + width + ", Lk=" + shiftKernel.length() + ", " + conv.mode() + ", engine=" + conv.engine()
                + LongConv.blocksNote(conv.engine(), shiftKernel.length()) + ", lambda=" + conv.lambda() + ", init=" + init + ")";
    }
}
