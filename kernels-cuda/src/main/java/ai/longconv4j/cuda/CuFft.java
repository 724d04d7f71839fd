// Shapes: a batch of real FFTs of size N: input (batch, N) fp32, output (batch, N/2+1) complex fp32.
package ai.longconv4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * cuFFT through Java's FFM API ({@code libcufft.so.12}, then {@code .11}): batched 1-D R2C/C2R plans.
 * JCuda's own cuFFT binding needs CUDA 12's library; this one binds whatever the loader finds.
 * <pre>{@code
 * try (var plan = CuFft.plan1d(dev, 1024, CuFft.Type.R2C, rows)) { plan.execR2C(in.ptr(), out.ptr()); }
 * }</pre>
 */
public final class CuFft {
  private CuFft() {}

  /** cufftType values. */
  public enum Type {
    R2C(0x2a), C2R(0x2c), D2Z(0x6a), Z2D(0x6c);
    final int code;
    Type(int code) { this.code = code; }
  }

  private static final class Lib {
    static final NativeLibrary LIB = NativeLibrary.open("libcufft.so.12", "libcufft.so.11", "libcufft.so");
    static final MethodHandle PLAN_MANY = LIB.fn("cufftPlanMany", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT,
        ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle EXEC_R2C = LIB.fn("cufftExecR2C", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle EXEC_C2R = LIB.fn("cufftExecC2R", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle EXEC_D2Z = LIB.fn("cufftExecD2Z", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle EXEC_Z2D = LIB.fn("cufftExecZ2D", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SET_STREAM = LIB.fn("cufftSetStream", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle DESTROY = LIB.fn("cufftDestroy", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  }

  /** The library that was bound, e.g. "libcufft.so.12" (loads it on first call). */
  public static String soname() { return Lib.LIB.soname(); }

  static void check(int rc, String op, Object... details) {
    if (rc != 0) throw new CudaException(rc, op + java.util.Arrays.toString(details) + " failed: cufftResult " + rc);
  }

  /** A batched 1-D plan of size {@code n}, contiguous rows, on the device's stream. */
  public static Plan plan1d(CudaDevice device, int n, Type type, int batch) {
    if (n < 1 || batch < 1) throw new IllegalArgumentException("cufftPlanMany: n=" + n + ", batch=" + batch);
    device.makeCurrent();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment handle = a.allocate(JAVA_INT);
      MemorySegment dims = a.allocateFrom(JAVA_INT, n);
      int rc = (int) Lib.PLAN_MANY.invokeExact(handle, 1, dims, MemorySegment.NULL, 1, 0, MemorySegment.NULL, 1, 0,
          type.code, batch);
      check(rc, "cufftPlanMany", "n=" + n, type, "batch=" + batch);
      int h = handle.get(JAVA_INT, 0);
      rc = (int) Lib.SET_STREAM.invokeExact(h, device.stream().segment());
      check(rc, "cufftSetStream");
      return new Plan(device, h, n, type, batch);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** A cuFFT plan; close destroys it. */
  public static final class Plan implements AutoCloseable {
    private final CudaDevice device;
    private final int handle, n, batch;
    private final Type type;
    private boolean closed;

    private Plan(CudaDevice device, int handle, int n, Type type, int batch) {
      this.device = device; this.handle = handle; this.n = n; this.type = type; this.batch = batch;
    }

    /** in (batch, n) fp32 -> out (batch, n/2+1) complex; out-of-place. */
    public void execR2C(DevicePointer in, DevicePointer out) {
      if (type != Type.R2C) throw new IllegalStateException("plan is " + type);
      device.makeCurrent();
      try {
        check((int) Lib.EXEC_R2C.invokeExact(handle, in.segment(), out.segment()), "cufftExecR2C", "n=" + n, "batch=" + batch);
      } catch (RuntimeException | Error e) { throw e; } catch (Throwable t) { throw new IllegalStateException(t); }
    }

    /** in (batch, n/2+1) complex -> out (batch, n) fp32 (unnormalised: n times the inverse). */
    public void execC2R(DevicePointer in, DevicePointer out) {
      if (type != Type.C2R) throw new IllegalStateException("plan is " + type);
      device.makeCurrent();
      try {
        check((int) Lib.EXEC_C2R.invokeExact(handle, in.segment(), out.segment()), "cufftExecC2R", "n=" + n, "batch=" + batch);
      } catch (RuntimeException | Error e) { throw e; } catch (Throwable t) { throw new IllegalStateException(t); }
    }

    /** in (batch, n) fp64 -> out (batch, n/2+1) complex fp64; out-of-place. */
    public void execD2Z(DevicePointer in, DevicePointer out) {
      if (type != Type.D2Z) throw new IllegalStateException("plan is " + type);
      device.makeCurrent();
      try {
        check((int) Lib.EXEC_D2Z.invokeExact(handle, in.segment(), out.segment()), "cufftExecD2Z", "n=" + n, "batch=" + batch);
      } catch (RuntimeException | Error e) { throw e; } catch (Throwable t) { throw new IllegalStateException(t); }
    }

    /** in (batch, n/2+1) complex fp64 -> out (batch, n) fp64 (unnormalised). */
    public void execZ2D(DevicePointer in, DevicePointer out) {
      if (type != Type.Z2D) throw new IllegalStateException("plan is " + type);
      device.makeCurrent();
      try {
        check((int) Lib.EXEC_Z2D.invokeExact(handle, in.segment(), out.segment()), "cufftExecZ2D", "n=" + n, "batch=" + batch);
      } catch (RuntimeException | Error e) { throw e; } catch (Throwable t) { throw new IllegalStateException(t); }
    }

    @Override public void close() {
      if (closed) return;
      closed = true;
      device.makeCurrent();
      try {
        check((int) Lib.DESTROY.invokeExact(handle), "cufftDestroy");
      } catch (RuntimeException | Error e) { throw e; } catch (Throwable t) { throw new IllegalStateException(t); }
    }
  }
}
