// Shapes: none (one GPU: its primary context, stream, allocator and loaded modules).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;

/**
 * One CUDA device, opened by index: its primary context (shared with cuBLAS/cuFFT, which use the runtime
 * API), one stream, a caching allocator and the kernel modules loaded from the jar. Nothing is global:
 * open as many devices as there are. Every method makes the context current on the calling thread.
 * <pre>{@code
 * jshell> var dev = CudaDevice.open(0)
 * dev ==> CudaDevice[cuda:0 NVIDIA H200, sm_90, 132 SMs, 139.8 GiB]
 * jshell> try (var buf = dev.alloc(1 << 20)) { buf.fill32(0); }
 * }</pre>
 */
public final class CudaDevice implements AutoCloseable {
  private final int index;
  private final CUdevice dev = new CUdevice();
  private final CUcontext ctx = new CUcontext();
  private final String name;
  private final int major, minor, smCount, maxSharedOptin;
  private final long totalMemory;
  private final CachingAllocator allocator;
  private final CudaStream stream;
  private final Map<String, CudaModule> modules = new ConcurrentHashMap<>();
  private boolean closed;

  private CudaDevice(int index) {
    this.index = index;
    Check.cu(cuDeviceGet(dev, index), "cuDeviceGet", "index " + index);
    Check.cu(cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain", "device " + index);
    makeCurrent();
    byte[] nm = new byte[256];
    Check.cu(cuDeviceGetName(nm, nm.length, dev), "cuDeviceGetName", "device " + index);
    int len = 0;
    while (len < nm.length && nm[len] != 0) len++;
    name = new String(nm, 0, len, StandardCharsets.US_ASCII);
    major = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "cc major");
    minor = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "cc minor");
    smCount = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "SM count");
    maxSharedOptin = attr(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "smem optin");
    long[] tm = new long[1];
    Check.cu(cuDeviceTotalMem(tm, dev), "cuDeviceTotalMem", "device " + index);
    totalMemory = tm[0];
    allocator = new CachingAllocator(this);
    stream = new CudaStream(this);
  }

  /**
   * Opens device {@code index} (0-based). Throws {@link IllegalStateException} with {@link Cuda#reason()}
   * when no GPU is usable, {@link IllegalArgumentException} for an index out of range.
   */
  public static CudaDevice open(int index) {
    Cuda.require();
    if (index < 0 || index >= Cuda.deviceCount())
      throw new IllegalArgumentException("CudaDevice.open: index " + index + " out of range [0, " + Cuda.deviceCount() + ")");
    return new CudaDevice(index);
  }

  private int attr(int a, String what) {
    int[] v = new int[1];
    Check.cu(cuDeviceGetAttribute(v, a, dev), "cuDeviceGetAttribute", what, "device " + index);
    return v[0];
  }

  /** Makes this device's primary context current on the calling thread. */
  public void makeCurrent() {
    if (closed) throw new IllegalStateException("cuda:" + index + " is closed");
    Check.cu(cuCtxSetCurrent(ctx), "cuCtxSetCurrent", "device " + index);
  }

  /** Allocates {@code bytes} (contents undefined) from the caching allocator. */
  public DeviceBuffer alloc(long bytes) { return allocator.alloc(bytes); }

  /** Allocates and uploads. */
  public DeviceBuffer upload(float[] data) { return alloc(4L * Math.max(1, data.length)).copyFrom(data); }

  /** Allocates and uploads 16-bit values (bf16/fp16 bit patterns). */
  public DeviceBuffer upload(short[] data) { return alloc(2L * Math.max(1, data.length)).copyFrom(data); }

  /** Waits for all work of this context; reports asynchronous errors (e.g. a faulting kernel). */
  public void synchronize() {
    makeCurrent();
    Check.cu(cuCtxSynchronize(), "cuCtxSynchronize", "device " + index);
  }

  /** The module {@code name} from the jar resource {@code ai/longconv4j/cuda/<name>.fatbin}, loaded once. */
  public CudaModule module(String name) {
    return modules.computeIfAbsent(name, n -> CudaModule.load(this, n));
  }

  public int index() { return index; }
  public String name() { return name; }
  /** Compute capability as major*10+minor, e.g. 90. */
  public int computeCapability() { return major * 10 + minor; }
  public int smCount() { return smCount; }
  /** Largest dynamic shared memory one block may opt in to, bytes. */
  public int maxSharedMemoryOptin() { return maxSharedOptin; }
  public long totalMemory() { return totalMemory; }
  public CachingAllocator allocator() { return allocator; }
  public CudaStream stream() { return stream; }

  @Override public void close() {
    if (closed) return;
    synchronize();
    modules.values().forEach(CudaModule::unload);
    modules.clear();
    stream.close();
    allocator.emptyCache();
    closed = true;
    Check.cu(cuDevicePrimaryCtxRelease(dev), "cuDevicePrimaryCtxRelease", "device " + index);
  }

  @Override public String toString() {
    return String.format("CudaDevice[cuda:%d %s, sm_%d, %d SMs, %.1f GiB]", index, name, computeCapability(), smCount,
        totalMemory / (double) (1L << 30));
  }
}
