// Shapes: none (kernel arguments packed for cuLaunchKernel: one 8-byte-aligned value slot per argument).
package ai.longconv4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * cuLaunchKernel through FFM instead of JCuda's JNI wrapper, which builds a {@code Pointer} per argument and walks
 * them with JNI field reads on every launch. Here the arguments are written into a per-thread scratch block (values
 * at 8-byte-aligned offsets, then the {@code void* kernelParams[]} array pointing at them) and passed in one
 * downcall; the driver copies the values when the call returns, so the scratch is reused by the next launch.
 * Switch back to JCuda with {@code -Dlongconv4j.cuda.launch=jcuda}.
 * Layout of one pack: {@code values[0 .. VALUE_BYTES)}, {@code params[i] = values + offset_i} for argument i.
 */
final class FfmLaunch {
  private FfmLaunch() {}

  /** False with {@code -Dlongconv4j.cuda.launch=jcuda}: launches then go through JCuda. */
  static final boolean ENABLED = !"jcuda".equals(System.getProperty("longconv4j.cuda.launch"));

  static final int MAX_ARGS = 64, VALUE_BYTES = 16 * 1024;

  private static final class Lib {
    static final NativeLibrary LIB = NativeLibrary.open("libcuda.so.1", "libcuda.so");
    static final MethodHandle LAUNCH = LIB.fn("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
  }

  /** One thread's argument block: the parameter pointer array and the value slots. */
  static final class Scratch {
    final MemorySegment params, values;

    Scratch() {
      Arena a = Arena.ofAuto();
      params = a.allocate(8L * MAX_ARGS, 8);
      values = a.allocate(VALUE_BYTES, 8);
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  static long align8(long n) { return (n + 7) & ~7L; }

  /**
   * Writes {@code args} (as {@link CudaModule.Kernel#launch} takes them: DeviceBuffer, DevicePointer, Integer, Long,
   * Float, Double, int[]) into {@code s} and returns its parameter array.
   */
  static MemorySegment pack(Scratch s, String fn, Object[] args) {
    if (args.length > MAX_ARGS) throw new IllegalArgumentException(fn + ": " + args.length + " kernel arguments, at most " + MAX_ARGS);
    MemorySegment v = s.values;
    long base = v.address(), off = 0;
    for (int i = 0; i < args.length; i++) {
      long at = off;
      switch (args[i]) {
        case DeviceBuffer b -> { v.set(JAVA_LONG, at, b.ptr().address()); off += 8; }
        case DevicePointer p -> { v.set(JAVA_LONG, at, p.address()); off += 8; }
        case Integer x -> { v.set(JAVA_INT, at, x); off += 8; }
        case Long x -> { v.set(JAVA_LONG, at, x); off += 8; }
        case Float x -> { v.set(JAVA_FLOAT, at, x); off += 8; }
        case Double x -> { v.set(JAVA_DOUBLE, at, x); off += 8; }
        case int[] x -> {
          if (at + 4L * x.length > VALUE_BYTES)
            throw new IllegalArgumentException(fn + ": kernel arguments exceed " + VALUE_BYTES + " bytes");
          MemorySegment.copy(x, 0, v, JAVA_INT, at, x.length);
          off += align8(4L * x.length);
        }
        default -> throw new IllegalArgumentException(fn + ": unsupported kernel argument " + i + ": " + args[i]);
      }
      if (off > VALUE_BYTES) throw new IllegalArgumentException(fn + ": kernel arguments exceed " + VALUE_BYTES + " bytes");
      s.params.setAtIndex(JAVA_LONG, i, base + at);
    }
    return s.params;
  }

  /** cuLaunchKernel(function, grid (gx, gy, 1), block (bx, 1, 1), smem, stream, args); returns the CUresult. */
  static int launch(MemorySegment function, int gx, int gy, int bx, int smemBytes, MemorySegment stream, String fn,
      Object[] args) {
    MemorySegment params = pack(SCRATCH.get(), fn, args);
    try {
      return (int) Lib.LAUNCH.invokeExact(function, gx, gy, 1, bx, 1, 1, smemBytes, stream, params, MemorySegment.NULL);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("cuLaunchKernel " + fn, t);
    }
  }
}
