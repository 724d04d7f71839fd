// Shapes: none (allocation failure).
package ai.longconv4j.cuda;

/**
 * Device memory could not be allocated even after the caching allocator released its cached blocks.
 * The context stays usable: free some buffers and try again.
 */
public final class CudaOutOfMemoryException extends CudaException {
  private static final long serialVersionUID = 1L;
  private final long requestedBytes;

  CudaOutOfMemoryException(int code, String message, long requestedBytes) {
    super(code, message);
    this.requestedBytes = requestedBytes;
  }

  /** Bytes that were asked for. */
  public long requestedBytes() { return requestedBytes; }
}
