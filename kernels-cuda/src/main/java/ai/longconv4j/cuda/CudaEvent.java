// Shapes: none (a CUDA event for timing and ordering).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventQuery;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import jcuda.driver.CUevent;

/**
 * A timing event. <pre>{@code
 * try (var a = new CudaEvent(dev); var b = new CudaEvent(dev)) {
 *   a.record(dev.stream()); work(); b.record(dev.stream());
 *   float ms = b.elapsedSince(a);
 * }}</pre>
 */
public final class CudaEvent implements AutoCloseable {
  private final CudaDevice device;
  private final CUevent event = new CUevent();
  private boolean closed;

  public CudaEvent(CudaDevice device) {
    this.device = device;
    device.makeCurrent();
    Check.cu(cuEventCreate(event, 0), "cuEventCreate", "device " + device.index());
  }

  /** Records this event on {@code stream}. */
  public CudaEvent record(CudaStream stream) {
    device.makeCurrent();
    Check.cu(cuEventRecord(event, stream.cu()), "cuEventRecord", "device " + device.index());
    return this;
  }

  /** True when the work queued before this event's last {@link #record} has finished (cuEventQuery; no wait). */
  public boolean query() {
    device.makeCurrent();
    int rc = cuEventQuery(event);
    if (rc == jcuda.driver.CUresult.CUDA_ERROR_NOT_READY) return false;
    Check.cu(rc, "cuEventQuery", "device " + device.index());
    return true;
  }

  /** Waits for this event, then returns the milliseconds between {@code start} and this event. */
  public float elapsedSince(CudaEvent start) {
    device.makeCurrent();
    Check.cu(cuEventSynchronize(event), "cuEventSynchronize", "device " + device.index());
    float[] ms = new float[1];
    Check.cu(cuEventElapsedTime(ms, start.event, event), "cuEventElapsedTime", "device " + device.index());
    return ms[0];
  }

  @Override public void close() {
    if (closed) return;
    closed = true;
    device.makeCurrent();
    Check.cu(cuEventDestroy(event), "cuEventDestroy", "device " + device.index());
  }
}
