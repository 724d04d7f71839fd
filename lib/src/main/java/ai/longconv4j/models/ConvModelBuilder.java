// Shape legend: L length (= kernel taps), H / D width of the blocks.
package ai.longconv4j.models;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.tensor.DType;
import java.util.Objects;

/**
 * The settings the long-conv model builders share ({@link LongConvLM.Builder}, {@link LongConvClassifier.Builder}):
 * width, depth, length, dropout, dtype, seed and the convolution settings, each also settable one at a time.
 *
 * @param <B> the concrete builder, returned by every setter so calls chain
 */
public abstract class ConvModelBuilder<B extends ConvModelBuilder<B>> {
    int width = -1;
    int layers = 2;
    int length = -1;
    double dropout = 0;
    ConvSettings conv;
    DType dtype = DType.F32;
    long seed;

    ConvModelBuilder(ConvSettings conv) {
        this.conv = conv;
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Width of the blocks: H features of the classifier, D of the LM (required). */
    public B width(int w) { width = w; return self(); }
    /** Number of residual blocks (default 2). */
    public B layers(int n) { layers = n; return self(); }
    /** Longest sequence length = kernel taps (required). */
    public B length(int l) { length = l; return self(); }
    /** Dropout (default 0): residual dropout of the LM; after and inside each convolution of the classifier. */
    public B dropout(double p) { dropout = p; return self(); }
    /** All convolution settings at once. */
    public B conv(ConvSettings s) { conv = Objects.requireNonNull(s, "conv"); return self(); }
    /** Convolution engine. */
    public B engine(ConvEngine e) { conv = conv.withEngine(e); return self(); }
    /** Convolution mode; only {@link ConvMode#CAUSAL} gives a causal LM. */
    public B mode(ConvMode m) { conv = conv.withMode(m); return self(); }
    /** Squash threshold λ (0 = no Squash). */
    public B lambda(double v) { conv = conv.withLambda(v); return self(); }
    /** Smooth window width (1 = none). */
    public B smooth(int w) { conv = conv.withSmooth(w); return self(); }
    /** Kernel dropout probability. */
    public B kernelDropout(double p) { conv = conv.withKernelDropout(p); return self(); }
    /** Learning rate of the kernel parameter group. */
    public B kernelLr(double lr) { conv = conv.withKernelLr(lr); return self(); }
    /** Kernel channels C. */
    public B channels(int c) { conv = conv.withChannels(c); return self(); }
    /** Parameter dtype (default F32). */
    public B dtype(DType d) { dtype = Objects.requireNonNull(d, "dtype"); return self(); }
    /** Initialization seed (default 0). */
    public B seed(long s) { seed = s; return self(); }
}
