// Shapes: none (storages as a whole).
package ai.longconv4j.cuda;

import ai.longconv4j.tensor.Storage;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Counts the in-place writes to watched device storages (helper pkdev, session 15), so that a plan may keep values derived
 * from a tensor (the J-factor op's P / Q and blocks, {@link CudaLearnedConv}) until that tensor's storage is written. Lib's
 * contract (Tensor's class comment): the only in-place write to an existing tensor is {@code Tensor.copyFrom}, which
 * reaches the backend as {@link CudaBackend#copy}; every other op writes a new storage (an optimizer's step assigns a new
 * value: {@code Parameter.assign}). {@link CudaBackend#copy} and {@link CudaBackend#fill} call {@link #wrote} on their
 * destination. Storages are keyed by identity (CudaStorage keeps Object's equals) and held weakly: a collected storage's
 * memory comes back as a new storage object, never equal to a kept one.
 */
final class StorageWrites {
  private StorageWrites() {}

  private static final Map<Storage, long[]> COUNTS = new WeakHashMap<>();

  /** Starts counting writes to s (no-op when counted already). */
  static synchronized void watch(Storage s) { COUNTS.putIfAbsent(s, new long[1]); }

  /** Writes to s counted since {@link #watch}, or -1 when s is not watched. */
  static synchronized long writes(Storage s) {
    long[] c = COUNTS.get(s);
    return c == null ? -1 : c[0];
  }

  /** An in-place write to s (the backend's copy / fill destination): counted when s is watched. */
  static synchronized void wrote(Storage s) {
    if (COUNTS.isEmpty()) return;
    long[] c = COUNTS.get(s);
    if (c != null) c[0]++;
  }
}
