// Shapes: none (a linear block of device memory; callers document their layouts).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32;

import jcuda.Pointer;

/**
 * Device memory from a {@link CudaDevice}'s caching allocator. {@link #close()} returns it to the cache
 * (reuse is ordered by the device's single stream). Copies are synchronous with the host and ordered
 * after the work queued on the device's stream.
 */
public final class DeviceBuffer implements AutoCloseable {
  private final CudaDevice device;
  private final DevicePointer ptr;
  private final long bytes;
  private final long capacity;
  private boolean closed;     // guarded by this

  DeviceBuffer(CudaDevice device, DevicePointer ptr, long bytes, long capacity) {
    this.device = device;
    this.ptr = ptr;
    this.bytes = bytes;
    this.capacity = capacity;
  }

  public DevicePointer ptr() { check(); return ptr; }
  public long bytes() { return bytes; }
  public CudaDevice device() { return device; }

  /** Copies {@code src} to the start of this buffer. */
  public DeviceBuffer copyFrom(float[] src) { return copyIn(Pointer.to(src), 4L * src.length, "float[" + src.length + "]"); }

  /** Copies 16-bit values (bf16 or fp16 bit patterns) to the start of this buffer. */
  public DeviceBuffer copyFrom(short[] src) { return copyIn(Pointer.to(src), 2L * src.length, "short[" + src.length + "]"); }

  /** Copies {@code dst.length} floats starting at {@code byteOffset} of this buffer into {@code dst}. */
  public float[] copyTo(float[] dst, long byteOffset) {
    copyOut(Pointer.to(dst), byteOffset, 4L * dst.length, "float[" + dst.length + "]");
    return dst;
  }

  /** Copies {@code dst.length} 16-bit values starting at {@code byteOffset} into {@code dst}. */
  public short[] copyTo(short[] dst, long byteOffset) {
    copyOut(Pointer.to(dst), byteOffset, 2L * dst.length, "short[" + dst.length + "]");
    return dst;
  }

  /** Queues a device-to-device copy of {@code src} (all of it) into the start of this buffer on the device's stream. */
  public DeviceBuffer copyFrom(DeviceBuffer src) {
    check();
    if (src.bytes > bytes) throw new IllegalArgumentException("copyFrom: source of " + src.bytes + " bytes into " + bytes);
    device.makeCurrent();
    Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(ptr, src.ptr(), src.bytes, device.stream().cu()),
        "cuMemcpyDtoDAsync", src.bytes + " bytes", "device " + device.index());
    return this;
  }

  /** Sets every 32-bit word to {@code bits} (e.g. {@code Float.floatToRawIntBits(Float.NaN)} to poison). */
  public DeviceBuffer fill32(int bits) {
    check();
    if (bytes % 4 != 0) throw new IllegalArgumentException("fill32: " + bytes + " bytes is not a multiple of 4");
    device.makeCurrent();
    Check.cu(cuMemsetD32(ptr, bits, bytes / 4), "cuMemsetD32", bytes + " bytes", "device " + device.index());
    return this;
  }

  private DeviceBuffer copyIn(Pointer src, long n, String what) {
    check();
    if (n > bytes) throw new IllegalArgumentException("copyFrom: " + what + " is " + n + " bytes, buffer holds " + bytes);
    device.makeCurrent();
    Check.cu(cuMemcpyHtoD(ptr, src, n), "cuMemcpyHtoD", n + " bytes", "device " + device.index());
    return this;
  }

  private void copyOut(Pointer dst, long off, long n, String what) {
    check();
    if (off < 0 || off + n > bytes)
      throw new IllegalArgumentException("copyTo: " + what + " at byte " + off + " overruns buffer of " + bytes + " bytes");
    device.makeCurrent();
    Check.cu(cuMemcpyDtoH(dst, ptr.at(off), n), "cuMemcpyDtoH", n + " bytes at " + off, "device " + device.index());
  }

  private synchronized void check() {
    if (closed) throw new IllegalStateException("DeviceBuffer of " + bytes + " bytes is closed");
  }

  /** Returns the memory to the cache once (a storage's release and its cleaner may both call this, on two threads). */
  @Override public synchronized void close() {
    if (closed) return;
    closed = true;
    device.allocator().release(ptr, capacity);
  }

  @Override public String toString() { return "DeviceBuffer[" + bytes + " bytes, cuda:" + device.index() + "]"; }
}
