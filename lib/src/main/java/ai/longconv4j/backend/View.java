// Shape legend: a strided view; element idx lives at offset + sum(idx[d] * strides[d]) of the storage.
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Storage;

/**
 * An operand of a backend kernel: a storage read (or written) through element strides from an offset.
 * Strides may be 0 (broadcast) or negative (flip). The shape is passed beside it, once per call.
 */
public record View(Storage storage, int[] strides, int offset) {}
