// Compact HTML summary of a tensor (shape, dtype, device, a few values). Shapes: [d0, d1, ...].
package ai.longconv4j.kernel;

/**
 * Tensor rendering. Until the library's Tensor type is on this branch, tensors are shown by their
 * {@code toString()} (which the Tensor contract keeps short) and this returns null.
 */
final class TensorView {
    private TensorView() { }

    /** HTML summary for a tensor, or null for any other value. */
    static String html(Object value) {
        return null;
    }
}
