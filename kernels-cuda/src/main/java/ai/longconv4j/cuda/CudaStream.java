// Shapes: none (a CUDA stream of one device).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.lang.foreign.MemorySegment;
import jcuda.driver.CUstream;

/**
 * A stream of one {@link CudaDevice}. It is a blocking stream (flags 0): it orders with the legacy default
 * stream, so the device's synchronous copies see the work queued here. Kernels, cuFFT and cuBLAS calls of
 * this library are queued on the device's stream.
 */
public final class CudaStream implements AutoCloseable {
  /** Exposes the CUstream's native handle for the FFM bindings. */
  static final class Handle extends CUstream {
    long address() { return getNativePointer(); }
  }

  private final CudaDevice device;
  private final Handle handle = new Handle();
  private final MemorySegment segment;
  private boolean closed;

  CudaStream(CudaDevice device) {
    this.device = device;
    device.makeCurrent();
    Check.cu(cuStreamCreate(handle, 0), "cuStreamCreate", "device " + device.index());
    segment = MemorySegment.ofAddress(handle.address());
  }

  /** The JCuda handle, for cuLaunchKernel. */
  CUstream cu() { return handle; }

  /** The native cudaStream_t, for cuFFT/cuBLAS through FFM. */
  public MemorySegment segment() { return segment; }

  public CudaDevice device() { return device; }

  /** Waits until all work queued on this stream has finished; reports asynchronous kernel errors. */
  public void synchronize() {
    device.makeCurrent();
    Check.cu(cuStreamSynchronize(handle), "cuStreamSynchronize", "device " + device.index());
  }

  @Override public void close() {
    if (closed) return;
    closed = true;
    device.makeCurrent();
    Check.cu(cuStreamDestroy(handle), "cuStreamDestroy", "device " + device.index());
  }
}
