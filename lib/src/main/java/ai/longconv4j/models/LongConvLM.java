// Shape legend: B batch, L length, D width, V vocabulary, Lk kernel taps (= the longest L).
package ai.longconv4j.models;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.LongConv;
import ai.longconv4j.nn.Dropout;
import ai.longconv4j.nn.Embedding;
import ai.longconv4j.nn.GELU;
import ai.longconv4j.nn.LayerNorm;
import ai.longconv4j.nn.Linear;
import ai.longconv4j.nn.Module;
import ai.longconv4j.profile.Profiler;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * An attention-free language model: token embedding → N blocks [pre-LN → mixer → + residual →
 * pre-LN → MLP(GELU) → + residual] → final LayerNorm → output head tied to the embedding
 * ({@code logits = h · Eᵀ}). The mixer is {@link H3Conv} or the plain {@link LongConv} layer; the
 * learned-butterfly LM is this model with {@link ConvEngine#LEARNED_CAUSAL} ({@link #learnedButterfly()}); the
 * general learned DFT blocks ({@link ConvEngine#LEARNED}, {@link ConvEngine#LEARNED_PACKED}) are refused in CAUSAL mode
 * (not causal once trained).
 * The embedding starts at N(0, {@value #EMBED_STD}²).
 *
 * <pre>{@code
 * jshell> var lm = LongConvLM.builder().vocab(65).width(64).layers(2).length(128).seed(1).build()
 * jshell> lm.logits(ids, 4, 128).shape()          // ids: int[4 * 128]
 * $2 ==> int[3] { 4, 128, 65 }
 * }</pre>
 */
public final class LongConvLM extends Module implements LongConvModel {
    /** Standard deviation of the embedding initialization (tied head, so logits start small). */
    public static final double EMBED_STD = 0.02;
    /** Default MLP expansion (hidden = ratio · D). */
    public static final int MLP_RATIO = 2;

    private final int vocab;
    private final int width;
    private final int length;
    private final Mixer mixer;
    private final ConvSettings conv;
    private final Embedding embedding;
    private final Block[] blocks;
    private final LayerNorm finalNorm;
    private final DType dtype;

    /** One residual block: pre-LN → mixer → residual → pre-LN → MLP → residual; (B, L, D) → (B, L, D). */
    public static final class Block extends Module {
        private final LayerNorm norm1;
        private final Module mix;
        private final boolean channelsFirst;
        private final LayerNorm norm2;
        private final Linear fc1;
        private final GELU act;
        private final Linear fc2;
        private final Dropout drop;
        private final int learnedLength;

        Block(Builder b, long seed) {
            learnedLength = LongConv.isLearnedDft(b.conv.engine()) && b.conv.mode() != ConvMode.CIRCULAR ? b.length : -1;
            var rng = Rng.seeded(seed);
            norm1 = register("norm1", new LayerNorm(b.width, b.dtype));
            if (b.mixer == Mixer.H3) {
                mix = register("mixer", H3Conv.builder().width(b.width).length(b.length).conv(b.conv).dtype(b.dtype)
                        .init(b.h3Init).seed(seed + 1).build());
                channelsFirst = false;
            } else {
                mix = register("mixer", LongConv.builder().features(b.width).length(b.length).channels(b.conv.channels())
                        .lambda(b.conv.lambda()).kernelDropout(b.conv.kernelDropout()).smooth(b.conv.smooth())
                        .mode(b.conv.mode()).engine(b.conv.engine()).dtype(b.dtype).seed(seed + 1).build());
                channelsFirst = true;
            }
            norm2 = register("norm2", new LayerNorm(b.width, b.dtype));
            act = new GELU(b.gelu);
            fc1 = register("fc1", new Linear(b.width, b.mlpRatio * b.width, true, b.dtype, rng));
            fc2 = register("fc2", new Linear(b.mlpRatio * b.width, b.width, true, b.dtype, rng));
            drop = register("dropout", new Dropout(b.dropout, Rng.seeded(seed + 2)));
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor h = Profiler.forward("norm1", norm1, x);
            Tensor m;
            if (channelsFirst) {
                int l = h.size(1);
                // a learned LongConv layer is sized for L = Lk: pad with zeros after the input (adds nothing to
                // outputs [0, L) in causal/bidirectional modes) and crop
                Tensor u = h.transpose(1, 2);
                boolean pad = learnedLength > 0 && l < learnedLength;
                m = Profiler.forward("mixer", mix, pad ? u.pad(2, 0, learnedLength - l) : u);
                m = (pad ? m.slice(2, 0, l) : m).transpose(1, 2);
            } else {
                m = Profiler.forward("mixer", mix, h);
            }
            x = x.add(drop.forward(m));
            Tensor n2 = Profiler.forward("norm2", norm2, x);
            Tensor f = act.approximation() == GELU.Approximation.TANH
                    ? Profiler.module("fc1", () -> fc1.forwardGelu(n2, GELU.Approximation.TANH))   // GEMM + bias + GELU fused
                    : act.forward(Profiler.forward("fc1", fc1, n2));
            f = Profiler.forward("fc2", fc2, f);
            return x.add(drop.forward(f));
        }

        @Override
        protected String describe() {
            return "Block";
        }
    }

    private LongConvLM(Builder b) {
        this.vocab = b.vocab;
        this.width = b.width;
        this.length = b.length;
        this.mixer = b.mixer;
        this.conv = b.conv;
        this.dtype = b.dtype;
        this.embedding = register("embedding", new Embedding(b.vocab, b.width, b.dtype, Rng.seeded(b.seed)));
        embedding.weight().assign(embedding.weight().value().mul(EMBED_STD));
        Module holder = register("blocks", new Holder());
        this.blocks = new Block[b.layers];
        for (int i = 0; i < b.layers; i++) {
            blocks[i] = ((Holder) holder).add(String.valueOf(i), new Block(b, b.seed + 1000L * (i + 1)));
        }
        this.finalNorm = register("norm", new LayerNorm(b.width, b.dtype));
    }

    /** A container whose children are the blocks ("blocks.0", "blocks.1", ...). */
    static final class Holder extends Module {
        <M extends Module> M add(String name, M m) {
            return register(name, m);
        }

        @Override
        public Tensor forward(Tensor x) {
            for (Module m : children().values()) {
                x = m.forward(x);
            }
            return x;
        }

        @Override
        protected String describe() {
            return "Blocks(" + children().size() + ")";
        }
    }

    /** A builder; {@code vocab}, {@code width} and {@code length} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder preset to the causal learned-butterfly engine ({@link ConvEngine#LEARNED_CAUSAL}): every long
     * convolution becomes {@code M_out(conv(M_in(u))) + D * u} with learned lower-triangular Monarch maps
     * ({@link ai.longconv4j.conv.CausalMonarch}, identity at init, the {@value ai.longconv4j.nn.Parameter#BUTTERFLY_GROUP}
     * optimizer group), causal for any block values. The general learned DFT blocks ({@link ConvEngine#LEARNED}) are
     * refused here: they are causal only at init (trained, they read future tokens; tiny Shakespeare then reached an
     * impossible 0.63 nats/char), see examples/README.md.
     */
    public static Builder learnedButterfly() {
        return new Builder().engine(ConvEngine.LEARNED_CAUSAL);
    }

    /** Builder of {@link LongConvLM}. */
    public static final class Builder extends ConvModelBuilder<Builder> {
        private int vocab = -1;
        private int mlpRatio = MLP_RATIO;
        private Mixer mixer = Mixer.H3;
        private H3Conv.Init h3Init = H3Conv.Init.SHIFT_SUM;
        private GELU.Approximation gelu = GELU.Approximation.EXACT;

        private Builder() {
            super(ConvSettings.defaults());
        }

        /** Vocabulary size V (required). */
        public Builder vocab(int v) { vocab = v; return this; }
        /** MLP expansion ratio (default {@value LongConvLM#MLP_RATIO}). */
        public Builder mlpRatio(int r) { mlpRatio = r; return this; }
        /** Sequence mixer (default {@link Mixer#H3}). */
        public Builder mixer(Mixer m) { mixer = Objects.requireNonNull(m, "mixer"); return this; }
        /** Kernel init of the H3 mixers (default {@link H3Conv.Init#SHIFT_SUM}; ignored by the LONGCONV mixer). */
        public Builder h3Init(H3Conv.Init i) { h3Init = Objects.requireNonNull(i, "h3Init"); return this; }
        /**
         * The MLP's GELU (default {@link GELU.Approximation#EXACT}, erf). {@link GELU.Approximation#TANH} changes the
         * numerics slightly and lets a device fuse fc1's GEMM, bias and GELU ({@link Linear#linearGelu}).
         */
        public Builder gelu(GELU.Approximation a) { gelu = Objects.requireNonNull(a, "gelu"); return this; }

        /** Validates and builds; errors name the field and its value. */
        public LongConvLM build() {
            if (vocab < 1 || width < 1 || length < 1) {
                throw new IllegalArgumentException("LongConvLM.Builder: vocab, width and length must be >= 1, got vocab="
                        + vocab + ", width=" + width + ", length=" + length);
            }
            if (layers < 1) {
                throw new IllegalArgumentException("LongConvLM.Builder: layers must be >= 1, got " + layers);
            }
            if (mlpRatio < 1) {
                throw new IllegalArgumentException("LongConvLM.Builder: mlpRatio must be >= 1, got " + mlpRatio);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("LongConvLM.Builder: dropout must be in [0, 1), got " + dropout);
            }
            if (LongConv.isLearnedDft(conv.engine()) && conv.mode() == ConvMode.CAUSAL) {
                throw new IllegalArgumentException("LongConvLM.Builder: engine " + conv.engine() + " is not causal once its DFT blocks train (outputs"
                        + " then read future tokens), so a causal language model cannot use it; use ConvEngine.LEARNED_CAUSAL"
                        + " (LongConvLM.learnedButterfly(): learned causal Monarch maps around the convolution)");
            }
            return new LongConvLM(this);
        }
    }

    /**
     * Logits of embedded inputs: x (B, L, D) → (B, L, V). This is the differentiable path that
     * {@link Causality#assertCausal} probes.
     */
    @Override
    public Tensor forward(Tensor x) {
        if (x == null || x.dim() != 3 || x.size(2) != width || x.size(1) > length) {
            throw new IllegalArgumentException("LongConvLM.forward: expected embeddings (B, L <= " + length + ", D=" + width
                    + "), got " + (x == null ? "null" : Arrays.toString(x.shape())));
        }
        for (int i = 0; i < blocks.length; i++) {
            x = Profiler.forward("blocks." + i, blocks[i], x);
        }
        Tensor h = Profiler.forward("norm", finalNorm, x);
        int bN = h.size(0), l = h.size(1);
        Tensor logits = Profiler.module("head",
                () -> h.reshape(bN * l, width).matmul(embedding.weight().value().transpose(0, 1)));
        return logits.reshape(bN, l, vocab);
    }

    /** Embeds token ids (B·L, row-major; each in [0, V)) → (B, L, D). */
    public Tensor embed(int[] ids, int batch, int len) {
        checkIds("LongConvLM.embed", ids, batch, len);
        return Profiler.module("embedding", () -> embedding.forward(ids, batch, len));
    }

    /** Logits of token ids: (B·L ids) → (B, L, V). */
    public Tensor logits(int[] ids, int batch, int len) {
        return forward(embed(ids, batch, len));
    }

    /** Mean next-token cross-entropy of ids against targets (B·L each; targets may hold {@code ignoreIndex}). */
    public Tensor loss(int[] ids, int[] targets, int batch, int len, int ignoreIndex) {
        if (targets.length != ids.length) {
            throw new IllegalArgumentException("LongConvLM.loss: " + ids.length + " ids but " + targets.length + " targets");
        }
        return logits(ids, batch, len).reshape(batch * len, vocab).crossEntropy(targets, ignoreIndex);
    }

    private void checkIds(String op, int[] ids, int batch, int len) {
        if (batch < 1 || len < 1 || len > length || ids.length != batch * len) {
            throw new IllegalArgumentException(op + ": expected (B, L <= " + length + ") ids, got " + ids.length
                    + " ids for B=" + batch + ", L=" + len);
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException(op + ": id " + ids[i] + " at " + i + " outside [0, " + vocab + ")");
            }
        }
    }

    @Override
    public ConvSettings conv() { return conv; }
    public int vocab() { return vocab; }
    public int width() { return width; }
    /** The longest input length (kernel taps). */
    public int length() { return length; }
    public int layers() { return blocks.length; }
    public Mixer mixer() { return mixer; }
    public DType dtype() { return dtype; }

    @Override
    protected String describe() {
        return "LongConvLM(V=" + vocab + ", D=" + width + ", layers=" + blocks.length + ", L=" + length + ", mixer=" + mixer
                + ", engine=" + conv.engine() + ", " + conv.mode() + ", lambda=" + conv.lambda() + ")";
    }
}
