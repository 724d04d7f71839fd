// Shapes: none (a loaded fatbin and its kernels).
package ai.longconv4j.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;

/**
 * A fatbin compiled ahead of time by nvcc (cubins for sm_80 and sm_90a, PTX for compute_80), read from the
 * jar and loaded with cuModuleLoadData; the driver picks the cubin for the device or JIT-compiles the PTX.
 */
public final class CudaModule {
  /** Jar folder of the compiled kernels. */
  public static final String RESOURCE_DIR = "/ai/longconv4j/cuda/";

  private final CudaDevice device;
  private final String name;
  private final CUmodule module = new CUmodule();
  private final Map<String, Kernel> kernels = new ConcurrentHashMap<>();

  private CudaModule(CudaDevice device, String name, byte[] image) {
    this.device = device;
    this.name = name;
    device.makeCurrent();
    Check.cu(cuModuleLoadData(module, image), "cuModuleLoadData", name + ".fatbin", image.length + " bytes",
        "device " + device.index());
  }

  /** True when the jar carries {@code <name>.fatbin} (false where the build had no nvcc). */
  public static boolean packaged(String name) {
    return CudaModule.class.getResource(RESOURCE_DIR + name + ".fatbin") != null;
  }

  static CudaModule load(CudaDevice device, String name) {
    try (InputStream in = CudaModule.class.getResourceAsStream(RESOURCE_DIR + name + ".fatbin")) {
      if (in == null)
        throw new IllegalStateException("kernel module " + name + ".fatbin is not in the jar: it was built without nvcc");
      byte[] image = in.readAllBytes();
      byte[] z = new byte[image.length + 1]; // cuModuleLoadData reads fatbins by header; a trailing 0 is harmless
      System.arraycopy(image, 0, z, 0, image.length);
      return new CudaModule(device, name, z);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + name + ".fatbin", e);
    }
  }

  /** The kernel {@code fn} of this module. */
  public Kernel kernel(String fn) { return kernels.computeIfAbsent(fn, Kernel::new); }

  void unload() {
    device.makeCurrent();
    Check.cu(cuModuleUnload(module), "cuModuleUnload", name);
  }

  /** Exposes the CUfunction's native handle for the FFM launch path. */
  static final class Fn extends CUfunction {
    long address() { return getNativePointer(); }
  }

  /** One {@code extern "C" __global__} function. */
  public final class Kernel {
    private final String fn;
    private final Fn function = new Fn();
    private final java.lang.foreign.MemorySegment address;
    private volatile int smemOptin;

    private Kernel(String fn) {
      this.fn = fn;
      device.makeCurrent();
      Check.cu(cuModuleGetFunction(function, module, fn), "cuModuleGetFunction", name + "." + fn);
      address = java.lang.foreign.MemorySegment.ofAddress(function.address());
    }

    /** Raises the kernel's dynamic shared memory limit (needed above 48 KiB). */
    void ensureSharedMemory(int bytes) {
      if (bytes <= 48 * 1024 || bytes <= smemOptin) return;      // the per-launch path: no lock
      raiseSharedMemory(bytes);
    }

    private synchronized void raiseSharedMemory(int bytes) {
      if (bytes <= smemOptin) return;
      if (bytes > device.maxSharedMemoryOptin())
        throw new IllegalArgumentException(fn + ": needs " + bytes + " bytes of shared memory, cuda:" + device.index()
            + " allows " + device.maxSharedMemoryOptin());
      device.makeCurrent();
      Check.cu(cuFuncSetAttribute(function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
          "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", fn, bytes + " bytes");
      smemOptin = bytes;
    }

    /**
     * Queues the kernel on {@code stream}. Arguments: {@link DeviceBuffer}, {@link DevicePointer}, Integer,
     * Long, Float, Double (passed by value as int, long long, float, double), int[] (a by-value struct of ints).
     */
    public void launch(CudaStream stream, int gx, int gy, int bx, int smemBytes, Object... args) {
      ensureSharedMemory(smemBytes);
      if (FfmLaunch.ENABLED) {
        device.makeCurrent();
        int rc = FfmLaunch.launch(address, gx, gy, bx, smemBytes, stream.segment(), fn, args);
        if (rc != 0)     // the message is built only on failure
          Check.cu(rc, "cuLaunchKernel", name + "." + fn, "grid (" + gx + ", " + gy + ")", "block " + bx, "smem " + smemBytes + " B");
        return;
      }
      NativePointerObject[] ps = new NativePointerObject[args.length];
      for (int i = 0; i < args.length; i++) {
        ps[i] = switch (args[i]) {
          case DeviceBuffer b -> Pointer.to(b.ptr());
          case DevicePointer p -> Pointer.to(p);
          case Integer v -> Pointer.to(new int[] {v});
          case Long v -> Pointer.to(new long[] {v});
          case Float v -> Pointer.to(new float[] {v});
          case Double v -> Pointer.to(new double[] {v});
          case int[] v -> Pointer.to(v);           // a by-value struct of ints (e.g. the backend's Meta)
          default -> throw new IllegalArgumentException(fn + ": unsupported kernel argument " + i + ": " + args[i]);
        };
      }
      device.makeCurrent();
      Check.cu(cuLaunchKernel(function, gx, gy, 1, bx, 1, 1, smemBytes, stream.cu(), Pointer.to(ps), null),
          "cuLaunchKernel", name + "." + fn, "grid (" + gx + ", " + gy + ")", "block " + bx, "smem " + smemBytes + " B");
    }
  }
}
