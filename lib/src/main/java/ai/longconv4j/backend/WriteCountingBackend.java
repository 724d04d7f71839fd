// Shape legend: not shape-specific (storages as a whole).
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Storage;

/**
 * An optional capability of a device {@link Backend}: it counts the in-place writes to its storages (the tensor's one
 * in-place write, {@code Tensor.copyFrom}, reaches it as {@link Backend#copy}; {@link Backend#fill} likewise), so that a
 * value derived from a tensor may be kept until that tensor is written. Every other op writes a new storage, so "the
 * same storage object and the same write count" means "the same values". Used by {@code LongConvKernel} to keep its
 * kernel between calls while its parameter is unchanged (session 18, helper layer).
 */
public interface WriteCountingBackend {
    /**
     * The in-place writes to {@code s} counted since its first call for {@code s} (which starts counting and returns 0);
     * storages are compared by identity and not kept alive by the count.
     */
    long writes(Storage s);
}
