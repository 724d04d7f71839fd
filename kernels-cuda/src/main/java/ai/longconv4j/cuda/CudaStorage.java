// Shapes: none (a flat device buffer of length() elements; tensors are strided views over it).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;

import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Storage;
import java.lang.ref.Cleaner;
import jcuda.Pointer;

/**
 * Tensor storage in GPU memory: {@code length} elements of F64, F32, BF16 or F16 (16-bit types hold their bit
 * patterns; kernels compute them in fp32 registers). The buffer comes from the device's caching allocator and
 * goes back to it when the storage becomes unreachable (a {@link Cleaner}; reuse is ordered by the device's
 * single stream). Element {@code i} lives at byte {@code i * dtype.bytes()}.
 */
public final class CudaStorage implements Storage {
  private static final Cleaner CLEANER = Cleaner.create();

  private final CudaDevice device;
  private final DeviceBuffer buffer;
  private final DType dtype;
  private final int length;

  CudaStorage(CudaDevice device, DeviceBuffer buffer, DType dtype, int length) {
    this.device = device;
    this.buffer = buffer;
    this.dtype = dtype;
    this.length = length;
    CLEANER.register(this, buffer::close);   // the action holds the buffer only, never this storage
    ai.longconv4j.backend.StorageScope.created(this);
  }

  /** Returns the buffer to the caching allocator now (its later reuse is ordered after queued work by the stream). */
  @Override public void release() { buffer.close(); }

  @Override public DType dtype() { return dtype; }
  @Override public Device device() { return new Device(Device.Kind.CUDA, device.index()); }
  @Override public int length() { return length; }

  /** The device buffer (at least {@code length * dtype.bytes()} bytes). */
  public DeviceBuffer buffer() { return buffer; }

  /** Address of element {@code index}. */
  public DevicePointer at(long index) { return buffer.ptr().at(index * dtype.bytes()); }

  CudaDevice cudaDevice() { return device; }

  /** A CPU copy of the whole buffer (waits for queued work): F64 and F32 as they are, BF16/F16 decoded to F32. */
  @Override public CpuStorage toCpu() {
    if (length == 0) return CpuStorage.allocate(dtype == DType.F64 ? DType.F64 : DType.F32, 0);
    device.makeCurrent();
    long bytes = (long) length * dtype.bytes();
    String what = "toCpu(" + dtype + "[" + length + "])";
    switch (dtype) {
      case F64 -> {
        double[] d = new double[length];
        Check.cu(cuMemcpyDtoH(Pointer.to(d), buffer.ptr(), bytes), "cuMemcpyDtoH", what, "cuda:" + device.index());
        return CpuStorage.of(d);
      }
      case F32 -> {
        float[] f = new float[length];
        Check.cu(cuMemcpyDtoH(Pointer.to(f), buffer.ptr(), bytes), "cuMemcpyDtoH", what, "cuda:" + device.index());
        return CpuStorage.of(f);
      }
      default -> {
        short[] h = new short[length];
        Check.cu(cuMemcpyDtoH(Pointer.to(h), buffer.ptr(), bytes), "cuMemcpyDtoH", what, "cuda:" + device.index());
        return CpuStorage.of(HalfFloats.decode(h, dtype == DType.BF16 ? ElementType.BF16 : ElementType.F16));
      }
    }
  }

  /** Element {@code index} as a double (waits for queued work). */
  double read(int index) {
    if (index < 0 || index >= length)
      throw new IllegalArgumentException("read: index " + index + " out of [0, " + length + ")");
    device.makeCurrent();
    String what = "read(" + dtype + "[" + index + "])";
    DevicePointer p = at(index);
    switch (dtype) {
      case F64 -> {
        double[] d = new double[1];
        Check.cu(cuMemcpyDtoH(Pointer.to(d), p, 8), "cuMemcpyDtoH", what, "cuda:" + device.index());
        return d[0];
      }
      case F32 -> {
        float[] f = new float[1];
        Check.cu(cuMemcpyDtoH(Pointer.to(f), p, 4), "cuMemcpyDtoH", what, "cuda:" + device.index());
        return f[0];
      }
      default -> {
        short[] h = new short[1];
        Check.cu(cuMemcpyDtoH(Pointer.to(h), p, 2), "cuMemcpyDtoH", what, "cuda:" + device.index());
        return dtype == DType.BF16 ? HalfFloats.fromBf16(h[0]) : HalfFloats.fromF16(h[0]);
      }
    }
  }

  @Override public String toString() { return "CudaStorage[" + dtype + " x " + length + ", cuda:" + device.index() + "]"; }
}
