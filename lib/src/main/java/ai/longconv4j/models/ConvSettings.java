// Shape legend: C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.models;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.conv.LongConvKernel;
import java.util.Objects;

/**
 * The long-convolution settings shared by every model builder: engine, mode, Squash λ, Smooth width,
 * kernel dropout, kernel learning rate and channels C. Defaults come from {@link LongConvKernel}
 * (one home per default); {@code with*} return copies.
 *
 * <pre>{@code
 * jshell> ConvSettings.defaults().withLambda(0).withEngine(ConvEngine.LEARNED)
 * $1 ==> ConvSettings[engine=LEARNED, mode=CAUSAL, lambda=0.0, smooth=1, kernelDropout=0.2, kernelLr=0.001, channels=2]
 * }</pre>
 *
 * @param engine        convolution engine ({@link ConvEngine#LEARNED_CAUSAL}: causal learned-Monarch maps, the LM's learned
 *                      butterfly; {@link ConvEngine#LEARNED}: learned DFT blocks, bidirectional/circular only in models;
 *                      both with their blocks in their own optimizer group)
 * @param mode          causal, bidirectional or circular
 * @param lambda        Squash threshold λ ≥ 0 (0 turns Squash off)
 * @param smooth        Smooth (average-pool) width, odd ≥ 1 (1 = off)
 * @param kernelDropout dropout on the kernel taps, in [0, 1)
 * @param kernelLr      learning rate of the kernel group (weight decay 0)
 * @param channels      kernel channels C ≥ 1 (H3 mixers always use one)
 */
public record ConvSettings(ConvEngine engine, ConvMode mode, double lambda, int smooth, double kernelDropout,
        double kernelLr, int channels) {
    /** Learning rate of the learned-butterfly group (weight decay 0). */
    public static final double BUTTERFLY_LR = 1e-3;

    /** Validates every field; errors name the field and the value. */
    public ConvSettings {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(mode, "mode");
        if (engine == ConvEngine.LEARNED_PACKED) throw new IllegalArgumentException(
                "ConvSettings: engine LEARNED_PACKED has no model layer yet (PackedLearnedButterfly is a convolver); use LEARNED");
        if (!(lambda >= 0)) {
            throw new IllegalArgumentException("ConvSettings: lambda must be >= 0, got " + lambda);
        }
        if (smooth < 1 || smooth % 2 == 0) {
            throw new IllegalArgumentException("ConvSettings: smooth width must be odd and >= 1, got " + smooth);
        }
        if (!(kernelDropout >= 0 && kernelDropout < 1)) {
            throw new IllegalArgumentException("ConvSettings: kernelDropout must be in [0, 1), got " + kernelDropout);
        }
        if (!(kernelLr > 0)) {
            throw new IllegalArgumentException("ConvSettings: kernelLr must be > 0, got " + kernelLr);
        }
        if (channels < 1) {
            throw new IllegalArgumentException("ConvSettings: channels must be >= 1, got " + channels);
        }
    }

    /** AUTO engine, causal, the kernel defaults of {@link LongConvKernel}. */
    public static ConvSettings defaults() {
        return new ConvSettings(ConvEngine.AUTO, ConvMode.CAUSAL, LongConvKernel.LAMBDA, LongConvKernel.SMOOTH,
                LongConvKernel.DROPOUT, LongConvKernel.LR, LongConvKernel.CHANNELS);
    }

    public ConvSettings withEngine(ConvEngine e) {
        return new ConvSettings(e, mode, lambda, smooth, kernelDropout, kernelLr, channels);
    }

    public ConvSettings withMode(ConvMode m) {
        return new ConvSettings(engine, m, lambda, smooth, kernelDropout, kernelLr, channels);
    }

    public ConvSettings withLambda(double v) {
        return new ConvSettings(engine, mode, v, smooth, kernelDropout, kernelLr, channels);
    }

    public ConvSettings withSmooth(int w) {
        return new ConvSettings(engine, mode, lambda, w, kernelDropout, kernelLr, channels);
    }

    public ConvSettings withKernelDropout(double p) {
        return new ConvSettings(engine, mode, lambda, smooth, p, kernelLr, channels);
    }

    public ConvSettings withKernelLr(double lr) {
        return new ConvSettings(engine, mode, lambda, smooth, kernelDropout, lr, channels);
    }

    public ConvSettings withChannels(int c) {
        return new ConvSettings(engine, mode, lambda, smooth, kernelDropout, kernelLr, c);
    }
}
