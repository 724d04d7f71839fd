// Shapes: none (element types of device tensors).
package ai.longconv4j.cuda;

/** Storage type of a device array; {@link #BF16} and {@link #F16} are stored as 16-bit patterns. */
public enum ElementType {
  F32(4, "f32"), BF16(2, "bf16"), F16(2, "f16");

  private final int bytes;
  private final String tag;

  ElementType(int bytes, String tag) { this.bytes = bytes; this.tag = tag; }

  public int bytes() { return bytes; }
  /** Short name used in kernel names, e.g. "bf16". */
  public String tag() { return tag; }
}
