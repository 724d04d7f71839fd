// Shapes: none (availability of the CUDA driver).
package ai.longconv4j.cuda;

import jcuda.driver.JCudaDriver;

/**
 * Is there a usable GPU? The driver is probed once, lazily; a missing {@code libcuda.so.1}
 * (UnsatisfiedLinkError) or no device means {@code available() == false} with a reason.
 * <pre>{@code
 * jshell> Cuda.available()
 * $1 ==> false
 * jshell> Cuda.reason()
 * $2 ==> "no GPU: UnsatisfiedLinkError: ... libcuda.so.1 ..."
 * }</pre>
 */
public final class Cuda {
  private Cuda() {}

  /** The probe result, computed on first use (class-holder idiom: immutable once set). */
  private static final class Probe {
    static final int COUNT;
    static final String REASON;
    static {
      int count = 0;
      String reason;
      try {
        JCudaDriver.setExceptionsEnabled(false);
        int rc = JCudaDriver.cuInit(0);
        if (rc != 0) {
          reason = "no GPU: cuInit failed: " + Check.errorString(rc);
        } else {
          int[] n = new int[1];
          rc = JCudaDriver.cuDeviceGetCount(n);
          count = rc == 0 ? n[0] : 0;
          reason = count > 0 ? "ok: " + count + " CUDA device(s)"
              : "no GPU: cuDeviceGetCount found no device" + (rc != 0 ? " (" + Check.errorString(rc) + ")" : "");
        }
      } catch (LinkageError e) { // UnsatisfiedLinkError (no libcuda.so.1) or NoClassDefFoundError
        reason = "no GPU: " + e.getClass().getSimpleName() + ": " + shortCause(e.getMessage());
      }
      COUNT = count;
      REASON = reason;
    }
  }

  /** The line of JCuda's long loader message that names the missing library, else its first line. */
  static String shortCause(String msg) {
    if (msg == null) return "(no message)";
    String[] lines = msg.split("\n");
    for (String l : lines)
      if (l.contains("cannot open shared object file")) return l.strip();
    return lines[0].strip();
  }

  /** True when the driver loaded and at least one device exists. */
  public static boolean available() { return Probe.COUNT > 0; }

  /** "ok: n CUDA device(s)" or "no GPU: ..." with the cause. */
  public static String reason() { return Probe.REASON; }

  /** Number of CUDA devices (0 without a driver). */
  public static int deviceCount() { return Probe.COUNT; }

  /** Throws {@link IllegalStateException} with {@link #reason()} when no GPU is usable. */
  static void require() {
    if (!available()) throw new IllegalStateException(reason());
  }
}
