// Shape legend: not shape-specific; a storage is a flat buffer of length() elements.
package ai.longconv4j.tensor;

/**
 * A flat buffer of elements of one {@link DType} on one {@link Device}. Tensors are views
 * (shape, strides, offset) over a storage. The CPU implementation is
 * {@link ai.longconv4j.backend.cpu.CpuStorage}; a CUDA storage implements the same interface.
 */
public interface Storage {
    DType dtype();

    Device device();

    /** Number of elements. */
    int length();

    /** A CPU copy of the whole buffer (the same object when already on the CPU). */
    ai.longconv4j.backend.cpu.CpuStorage toCpu();

    /**
     * Gives the memory back now (device storages: to the device's allocator; work already queued that reads it
     * still does, in stream order). The storage must not be used afterwards. Default: nothing (the CPU heap).
     */
    default void release() {
    }
}
