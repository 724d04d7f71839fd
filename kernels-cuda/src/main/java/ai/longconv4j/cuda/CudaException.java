// Shapes: none (errors of the CUDA runtime layer).
package ai.longconv4j.cuda;

/** A failed CUDA call: the message names the operation, its sizes and the CUDA error string. */
public class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int code;

  /** @param code the CUresult (or cuFFT/cuBLAS status) code, message the full description */
  public CudaException(int code, String message) {
    super(message);
    this.code = code;
  }

  /** The raw status code returned by the failing call. */
  public int code() { return code; }
}
