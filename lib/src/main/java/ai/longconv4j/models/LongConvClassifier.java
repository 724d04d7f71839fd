// Shape legend: B batch, L length, H width, Din input features, K classes, V vocabulary.
package ai.longconv4j.models;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.LongConv;
import ai.longconv4j.nn.BatchNorm1d;
import ai.longconv4j.nn.Dropout;
import ai.longconv4j.nn.Embedding;
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
 * LRA-style sequence classifier: encoder (token embedding, or a linear map of input features) → N
 * residual blocks [norm → {@link LongConv} → dropout → + residual] with pre- or post-norm,
 * LayerNorm or BatchNorm → mean-pool over positions or the last position → linear head to K classes.
 * Pre-norm: {@code x + drop(conv(norm(x)))}; post-norm: {@code norm(x + drop(conv(x)))}. The default
 * mode is bidirectional (the whole sequence is seen before the label).
 *
 * <pre>{@code
 * jshell> var clf = LongConvClassifier.builder().vocab(20).classes(10).width(32).layers(2).length(512).build()
 * jshell> clf.logits(ids, 8, 512).shape()
 * $2 ==> int[2] { 8, 10 }
 * }</pre>
 */
public final class LongConvClassifier extends Module implements LongConvModel {
    /** The normalization inside the blocks. */
    public enum Norm { LAYER, BATCH }

    /** How positions are reduced to one vector. */
    public enum Pool { MEAN, LAST }

    private final int width;
    private final int length;
    private final int classes;
    private final int vocab;
    private final int inputFeatures;
    private final Norm norm;
    private final boolean preNorm;
    private final Pool pool;
    private final ConvSettings conv;
    private final Module encoder;
    private final Module[] norms;
    private final LongConv[] convs;
    private final Dropout dropout;
    private final Linear head;

    private LongConvClassifier(Builder b) {
        this.width = b.width;
        this.length = b.length;
        this.classes = b.classes;
        this.vocab = b.vocab;
        this.inputFeatures = b.inputFeatures;
        this.norm = b.norm;
        this.preNorm = b.preNorm;
        this.pool = b.pool;
        this.conv = b.conv;
        var rng = Rng.seeded(b.seed);
        this.encoder = b.vocab > 0 ? register("encoder", new Embedding(b.vocab, b.width, b.dtype, rng))
                : register("encoder", new Linear(b.inputFeatures, b.width, true, b.dtype, rng));
        LongConvLM.Holder holder = register("blocks", new LongConvLM.Holder());
        norms = new Module[b.layers];
        convs = new LongConv[b.layers];
        for (int i = 0; i < b.layers; i++) {
            var blk = holder.add(String.valueOf(i), new LongConvLM.Holder());
            norms[i] = blk.add("norm", b.norm == Norm.LAYER ? new LayerNorm(b.width, b.dtype) : new BatchNorm1d(b.width, b.dtype));
            convs[i] = blk.add("conv", LongConv.builder().features(b.width).length(b.length).channels(b.conv.channels())
                    .lambda(b.conv.lambda()).kernelDropout(b.conv.kernelDropout()).smooth(b.conv.smooth())
                    .mode(b.conv.mode()).engine(b.conv.engine()).dropout(b.dropout).dtype(b.dtype)
                    .seed(b.seed + 1000L * (i + 1)).build());
        }
        this.dropout = register("dropout", new Dropout(b.dropout, Rng.seeded(b.seed + 7)));
        this.head = register("head", new Linear(b.width, b.classes, true, b.dtype, rng));
    }

    /** A builder; {@code classes}, {@code width}, {@code length} and one of {@code vocab} / {@code inputFeatures} are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builder of {@link LongConvClassifier}. */
    public static final class Builder extends ConvModelBuilder<Builder> {
        private int vocab = -1;
        private int inputFeatures = -1;
        private int classes = -1;
        private Norm norm = Norm.LAYER;
        private boolean preNorm = true;
        private Pool pool = Pool.MEAN;

        private Builder() {
            super(ConvSettings.defaults().withMode(ConvMode.BIDIRECTIONAL));
        }

        /** Token input with a vocabulary of V (either this or {@link #inputFeatures}). */
        public Builder vocab(int v) { vocab = v; return this; }
        /** Feature input (B, L, Din) through a linear encoder. */
        public Builder inputFeatures(int din) { inputFeatures = din; return this; }
        /** Number of classes K (required). */
        public Builder classes(int k) { classes = k; return this; }
        /** Block normalization (default LAYER). */
        public Builder norm(Norm n) { norm = Objects.requireNonNull(n, "norm"); return this; }
        /** Pre-norm (default) or post-norm. */
        public Builder preNorm(boolean on) { preNorm = on; return this; }
        /** Pooling (default MEAN). */
        public Builder pool(Pool p) { pool = Objects.requireNonNull(p, "pool"); return this; }

        /** Validates and builds; errors name the field and its value. */
        public LongConvClassifier build() {
            String op = "LongConvClassifier.Builder: ";
            if ((vocab > 0) == (inputFeatures > 0)) {
                throw new IllegalArgumentException(op + "set exactly one of vocab (token input) and inputFeatures"
                        + " (feature input), got vocab=" + vocab + ", inputFeatures=" + inputFeatures);
            }
            if (classes < 2) {
                throw new IllegalArgumentException(op + "classes must be >= 2, got " + classes);
            }
            if (width < 1 || length < 1 || layers < 1) {
                throw new IllegalArgumentException(op + "width, length and layers must be >= 1, got width=" + width
                        + ", length=" + length + ", layers=" + layers);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException(op + "dropout must be in [0, 1), got " + dropout);
            }
            return new LongConvClassifier(this);
        }
    }

    /** Class logits of token ids (B·L, row-major) → (B, K). */
    public Tensor logits(int[] ids, int batch, int len) {
        if (vocab < 0) {
            throw new IllegalArgumentException("LongConvClassifier.logits: this model takes features (B, L, "
                    + inputFeatures + "); call forward(x)");
        }
        if (batch < 1 || len < 1 || len > length || ids.length != batch * len) {
            throw new IllegalArgumentException("LongConvClassifier.logits: expected (B, L <= " + length + ") ids, got "
                    + ids.length + " ids for B=" + batch + ", L=" + len);
        }
        Tensor x = Profiler.module("encoder", () -> ((Embedding) encoder).forward(ids, batch, len));
        return body(x);
    }

    /** Class logits of features x (B, L, Din) → (B, K) (feature-input models only). */
    @Override
    public Tensor forward(Tensor x) {
        if (inputFeatures < 0) {
            throw new IllegalArgumentException("LongConvClassifier.forward: this model takes token ids; call logits(ids, B, L)");
        }
        if (x == null || x.dim() != 3 || x.size(2) != inputFeatures || x.size(1) > length) {
            throw new IllegalArgumentException("LongConvClassifier.forward: expected x (B, L <= " + length + ", Din="
                    + inputFeatures + "), got " + (x == null ? "null" : Arrays.toString(x.shape())));
        }
        return body(Profiler.forward("encoder", encoder, x));
    }

    /** Mean cross-entropy of the logits against labels (one per row). */
    public static Tensor loss(Tensor logits, int[] labels) {
        return logits.crossEntropy(labels, Integer.MIN_VALUE);
    }

    private Tensor body(Tensor x) {                                         // x (B, L, H)
        for (int i = 0; i < convs.length; i++) {
            final Tensor in = x;
            final int li = i;
            x = Profiler.module("blocks." + i, () -> block(li, in));
        }
        Tensor pooled = pool == Pool.MEAN ? x.mean(1, false) : x.slice(1, x.size(1) - 1, x.size(1)).reshape(x.size(0), width);
        return Profiler.forward("head", head, pooled);
    }

    private Tensor block(int i, Tensor x) {
        if (preNorm) {
            return x.add(dropout.forward(conv(i, normalize(i, x))));
        }
        return normalize(i, x.add(dropout.forward(conv(i, x))));
    }

    private Tensor conv(int i, Tensor x) {                                  // (B, L, H) through (B, H, L)
        return Profiler.forward("conv", convs[i], x.transpose(1, 2)).transpose(1, 2);
    }

    private Tensor normalize(int i, Tensor x) {
        if (norm == Norm.LAYER) {
            return Profiler.forward("norm", norms[i], x);
        }
        return Profiler.forward("norm", norms[i], x.transpose(1, 2)).transpose(1, 2);
    }

    @Override
    public ConvSettings conv() { return conv; }
    public int classes() { return classes; }
    public int width() { return width; }
    public int length() { return length; }

    @Override
    protected String describe() {
        return "LongConvClassifier(" + (vocab > 0 ? "V=" + vocab : "Din=" + inputFeatures) + ", H=" + width + ", layers="
                + convs.length + ", K=" + classes + ", " + norm + (preNorm ? " pre" : " post") + "-norm, pool=" + pool
                + ", " + conv.mode() + ", engine=" + conv.engine() + ")";
    }
}
