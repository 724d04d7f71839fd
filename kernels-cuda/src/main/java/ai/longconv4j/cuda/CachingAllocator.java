// Shapes: none (device memory blocks).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUresult;

/**
 * Per-device caching allocator: sizes are rounded (512 B below 1 MiB, 2 MiB above) and freed blocks are
 * kept per rounded size for reuse, so steady-state ops do no cuMemAlloc. On out-of-memory the cache is
 * released and the allocation retried once; then {@link CudaOutOfMemoryException} names the bytes asked.
 */
public final class CachingAllocator {
  private static final long SMALL = 1L << 20, SMALL_ROUND = 512, LARGE_ROUND = 2L << 20;

  private final CudaDevice device;
  private final Map<Long, ArrayDeque<DevicePointer>> free = new HashMap<>();
  private long cachedBytes, liveBytes, peakBytes, cudaMallocs;

  CachingAllocator(CudaDevice device) { this.device = device; }

  static long round(long bytes) {
    long r = bytes < SMALL ? SMALL_ROUND : LARGE_ROUND;
    return (bytes + r - 1) / r * r;
  }

  synchronized DeviceBuffer alloc(long bytes) { return alloc(bytes, true); }

  /**
   * A cached block or a new one; null when the device is out of memory and {@code emptyOnOom} is false (the caller
   * may first collect garbage, whose cleaners refill the cache, before this allocator gives its cache back).
   */
  synchronized DeviceBuffer alloc(long bytes, boolean emptyOnOom) {
    if (bytes <= 0) throw new IllegalArgumentException("alloc: bytes must be > 0, got " + bytes);
    long size = round(bytes);
    var q = free.get(size);
    DevicePointer p;
    if (q != null && !q.isEmpty()) {
      p = q.pop();
      cachedBytes -= size;
    } else {
      p = new DevicePointer();
      device.makeCurrent();
      int rc = cuMemAlloc(p, size);
      if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY && !emptyOnOom) return null;
      if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
        emptyCacheLocked();
        rc = cuMemAlloc(p, size);
      }
      if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
        long[] fr = new long[1], tot = new long[1];
        cuMemGetInfo(fr, tot);
        throw new CudaOutOfMemoryException(rc, "cuMemAlloc(" + bytes + " bytes requested, " + size + " rounded) on cuda:"
            + device.index() + " failed: out of memory (" + fr[0] + " of " + tot[0] + " bytes free, " + liveBytes
            + " bytes live in this allocator)", bytes);
      }
      Check.cu(rc, "cuMemAlloc", bytes + " bytes", "device " + device.index());
      cudaMallocs++;
    }
    liveBytes += size;
    peakBytes = Math.max(peakBytes, liveBytes);
    return new DeviceBuffer(device, p, bytes, size);
  }

  synchronized void release(DevicePointer p, long size) {
    liveBytes -= size;
    cachedBytes += size;
    free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
  }

  /** Frees every cached (unused) block back to the driver. */
  public synchronized void emptyCache() { emptyCacheLocked(); }

  private void emptyCacheLocked() {
    device.makeCurrent();
    for (var e : free.entrySet())
      for (var p : e.getValue()) Check.cu(cuMemFree(p), "cuMemFree", e.getKey() + " bytes", "device " + device.index());
    free.clear();
    cachedBytes = 0;
  }

  /** Bytes handed out and not yet closed (rounded sizes). */
  public synchronized long liveBytes() { return liveBytes; }
  /** Highest {@link #liveBytes()} seen. */
  public synchronized long peakBytes() { return peakBytes; }
  /** Bytes kept for reuse. */
  public synchronized long cachedBytes() { return cachedBytes; }
  /** Number of real cuMemAlloc calls so far. */
  public synchronized long cudaMallocs() { return cudaMallocs; }
  /** Resets the peak to the current live bytes. */
  public synchronized void resetPeak() { peakBytes = liveBytes; }
}
