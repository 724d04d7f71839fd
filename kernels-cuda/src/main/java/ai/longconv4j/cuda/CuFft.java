// Shapes: a batch of real FFTs of size N: input (batch, N) fp32, output (batch, N/2+1) complex fp32.
package ai.longconv4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * cuFFT through Java's FFM API ({@code libcufft.so.12}, then {@code .11}): batched 1-D R2C/C2R plans.
 * JCuda's own cuFFT binding needs CUDA 12's library; this one binds whatever the loader finds.
 * {@link #plan1d} lets cuFFT allocate each plan's work area ({@code cufftPlanMany}); {@link SharedPlans} makes plans
 * without one ({@code cufftCreate}, {@code cufftSetAutoAllocation(0)}, {@code cufftMakePlanMany}) and gives them ONE work
 * area from the device allocator ({@code cufftGetSize}, {@code cufftSetWorkArea}): plans on one stream never run at once.
 * The same plan parameters give the same cuFFT algorithm either way.
 * <pre>{@code
 * try (var plan = CuFft.plan1d(dev, 1024, CuFft.Type.R2C, rows)) { plan.execR2C(in.ptr(), out.ptr()); }
 * try (var plans = new CuFft.SharedPlans(dev)) {   // both plans on one work area: max of their needs
 *   var fwd = plans.plan1d(1024, CuFft.Type.R2C, rows); var inv = plans.plan1d(1024, CuFft.Type.C2R, rows); ..
 * }
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
    static final MethodHandle CREATE = LIB.fn("cufftCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SET_AUTO_ALLOCATION = LIB.fn("cufftSetAutoAllocation", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle MAKE_PLAN_MANY = LIB.fn("cufftMakePlanMany", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
        ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle SET_WORK_AREA = LIB.fn("cufftSetWorkArea", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle GET_SIZE = LIB.fn("cufftGetSize", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
  }

  /** The library that was bound, e.g. "libcufft.so.12" (loads it on first call). */
  public static String soname() { return Lib.LIB.soname(); }

  static void check(int rc, String op, Object... details) {
    if (rc != 0) throw new CudaException(rc, op + java.util.Arrays.toString(details) + " failed: cufftResult " + rc);
  }

  /** A batched 1-D plan of size {@code n}, contiguous rows, on the device's stream; cuFFT allocates its work area. */
  public static Plan plan1d(CudaDevice device, int n, Type type, int batch) { return make(device, n, type, batch, true); }

  /**
   * A batched 1-D plan of size {@code n}, contiguous rows, on the device's stream: {@code cufftPlanMany} (auto: cuFFT
   * allocates the work area) or {@code cufftCreate}, {@code cufftSetAutoAllocation(0)}, {@code cufftMakePlanMany} with the
   * same parameters (no work area: {@link Plan#setWorkArea} before the first exec when {@link Plan#workSize} is not 0).
   */
  private static Plan make(CudaDevice device, int n, Type type, int batch, boolean auto) {
    String op = auto ? "cufftPlanMany" : "cufftMakePlanMany";
    if (n < 1 || batch < 1) throw new IllegalArgumentException(op + ": n=" + n + ", batch=" + batch);
    device.makeCurrent();
    int h = -1;
    try (Arena a = Arena.ofConfined()) {
      MemorySegment handle = a.allocate(JAVA_INT);
      MemorySegment dims = a.allocateFrom(JAVA_INT, n);
      if (auto) {
        int rc = (int) Lib.PLAN_MANY.invokeExact(handle, 1, dims, MemorySegment.NULL, 1, 0, MemorySegment.NULL, 1, 0,
            type.code, batch);
        check(rc, op, "n=" + n, type, "batch=" + batch);
        h = handle.get(JAVA_INT, 0);
      } else {
        check((int) Lib.CREATE.invokeExact(handle), "cufftCreate", "n=" + n, type, "batch=" + batch);
        h = handle.get(JAVA_INT, 0);
        check((int) Lib.SET_AUTO_ALLOCATION.invokeExact(h, 0), "cufftSetAutoAllocation", "0", "n=" + n, type, "batch=" + batch);
        MemorySegment work = a.allocate(JAVA_LONG);
        int rc = (int) Lib.MAKE_PLAN_MANY.invokeExact(h, 1, dims, MemorySegment.NULL, 1, 0, MemorySegment.NULL, 1, 0,
            type.code, batch, work);
        check(rc, op, "n=" + n, type, "batch=" + batch);
      }
      check((int) Lib.SET_STREAM.invokeExact(h, device.stream().segment()), "cufftSetStream", "n=" + n, type, "batch=" + batch);
      return new Plan(device, h, n, type, batch);
    } catch (Throwable t) {
      if (h != -1) {
        try { int rc = (int) Lib.DESTROY.invokeExact(h); } catch (Throwable d) { t.addSuppressed(d); }   // the first failure is reported
      }
      if (t instanceof RuntimeException r) throw r;
      if (t instanceof Error e) throw e;
      throw new IllegalStateException(t);
    }
  }

  /**
   * Plans of one device that share ONE work area: each made without one ({@code cufftSetAutoAllocation(0)}), the area from
   * the device allocator sized to the largest {@code cufftGetSize} so far (a larger plan joining moves all plans to a new
   * area; the old one goes back to the cache, its reuse ordered by the device's stream). The plans run on the device's
   * stream, so never at once. {@link #close} destroys the plans, then frees the area.
   */
  public static final class SharedPlans implements AutoCloseable {
    private final CudaDevice device;
    private final List<Plan> plans = new ArrayList<>();
    private DeviceBuffer area;
    private long needSum;

    public SharedPlans(CudaDevice device) { this.device = device; }

    /** A batched 1-D plan of size {@code n} (as {@link CuFft#plan1d}) on the shared work area; closed with this. */
    public Plan plan1d(int n, Type type, int batch) {
      Plan p = make(device, n, type, batch, false);
      plans.add(p);
      long need = p.workSize();
      needSum += need;
      if (need > workAreaBytes()) {
        DeviceBuffer old = area;
        area = device.alloc(need);
        for (Plan q : plans) q.setWorkArea(area.ptr());
        if (old != null) old.close();
      } else if (area != null) {
        p.setWorkArea(area.ptr());
      }
      return p;
    }

    /** The shared work area's bytes (0 before a plan that needs one). */
    public long workAreaBytes() { return area == null ? 0 : area.bytes(); }

    /** The sum of the plans' work-area needs: what separate work areas would take. */
    public long separateBytes() { return needSum; }

    @Override public void close() {
      try {
        for (Plan p : plans) p.close();
      } finally {
        plans.clear();
        if (area != null) area.close();
        area = null;
      }
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

    /** The work area this plan needs in bytes ({@code cufftGetSize}). */
    public long workSize() {
      try (Arena a = Arena.ofConfined()) {
        MemorySegment size = a.allocate(JAVA_LONG);
        check((int) Lib.GET_SIZE.invokeExact(handle, size), "cufftGetSize", "n=" + n, type, "batch=" + batch);
        return size.get(JAVA_LONG, 0);
      } catch (RuntimeException | Error e) { throw e; } catch (Throwable t) { throw new IllegalStateException(t); }
    }

    /** Points this plan (made without a work area) at {@code area}, at least {@link #workSize} bytes ({@code cufftSetWorkArea}). */
    public void setWorkArea(DevicePointer area) {
      device.makeCurrent();
      try {
        check((int) Lib.SET_WORK_AREA.invokeExact(handle, area.segment()), "cufftSetWorkArea", "n=" + n, type, "batch=" + batch, area);
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
