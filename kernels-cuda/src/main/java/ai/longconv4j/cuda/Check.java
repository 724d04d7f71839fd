// Shapes: none (status checking of JCuda driver calls).
package ai.longconv4j.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/** Turns CUresult codes into {@link CudaException}s that name the operation and its sizes. */
final class Check {
  private Check() {}

  static void cu(int rc, String op, Object... details) {
    if (rc == CUresult.CUDA_SUCCESS) return;
    throw new CudaException(rc, message(rc, op, details));
  }

  static String message(int rc, String op, Object... details) {
    var sb = new StringBuilder(op);
    if (details.length > 0) {
      sb.append('(');
      for (int i = 0; i < details.length; i++) sb.append(i == 0 ? "" : ", ").append(details[i]);
      sb.append(')');
    }
    return sb.append(" failed: ").append(errorString(rc)).toString();
  }

  static String errorString(int rc) {
    String[] s = new String[1];
    String name = CUresult.stringFor(rc);
    try {
      if (JCudaDriver.cuGetErrorString(rc, s) == CUresult.CUDA_SUCCESS && s[0] != null) return name + " (" + s[0] + ")";
    } catch (Throwable ignored) { // driver gone: the name alone
    }
    return name;
  }
}
