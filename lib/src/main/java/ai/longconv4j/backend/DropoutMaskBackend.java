// Shape legend: out is a contiguous storage of n elements (the mask of a tensor of any shape, row-major).
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Storage;

/**
 * An optional capability of a device {@link Backend}: drawing a dropout mask on the device instead of uploading
 * one drawn on the CPU. {@code out[i] = DropoutMasks.value(seed, i, p, scale)} for i in [0, n), in out's dtype
 * (exactly the values {@link DropoutMasks#mask} computes, rounded to that dtype).
 */
public interface DropoutMaskBackend {
    /** Writes the mask of {@code seed} into {@code out[0, n)}. */
    void dropoutMask(Storage out, int n, long seed, double p, double scale);
}
