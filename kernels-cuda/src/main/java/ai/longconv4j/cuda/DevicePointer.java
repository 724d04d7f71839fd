// Shapes: none (a device address).
package ai.longconv4j.cuda;

import java.lang.foreign.MemorySegment;
import jcuda.driver.CUdeviceptr;

/**
 * A JCuda device pointer that can tell its numeric address, for the FFM bindings (cuFFT, cuBLAS).
 * {@code p.at(bytes)} is the same allocation shifted by a byte offset.
 */
public final class DevicePointer extends CUdeviceptr {
  public DevicePointer() {}

  private DevicePointer(DevicePointer base, long byteOffset) { super(base, byteOffset); }

  /** The device address (base + byte offset). */
  public long address() { return getNativePointer() + getByteOffset(); }

  /** The address as a zero-length segment, for downcalls that take {@code void*}. */
  public MemorySegment segment() { return MemorySegment.ofAddress(address()); }

  /**
   * This pointer shifted by {@code bytes}. (JCuda's Pointer(other, offset) already starts from other's byte offset: adding
   * getByteOffset() here shifted an already shifted pointer twice — p.at(x).at(y) was base + 2x + y.)
   */
  public DevicePointer at(long bytes) { return new DevicePointer(this, bytes); }

  @Override public String toString() { return "DevicePointer[0x" + Long.toHexString(address()) + "]"; }
}
