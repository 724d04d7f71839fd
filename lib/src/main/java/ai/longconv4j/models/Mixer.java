// Shape legend: not shape-specific.
package ai.longconv4j.models;

/** The sequence mixer of a {@link LongConvLM} block. */
public enum Mixer {
    /** {@link H3Conv}: gated, two long convolutions with skips, no activation inside. */
    H3,
    /** The plain long-convolution layer ({@code ai.longconv4j.conv.LongConv}: conv + D·u → GELU → Linear + GLU). */
    LONGCONV
}
