// Shapes: none (arithmetic of the FFT stages).
package ai.longconv4j.cuda;

/**
 * Arithmetic of the FlashButterfly DFT blocks. {@link #FP32}: CUDA-core FMA in fp32 (the accurate twin);
 * {@link #BF16}/{@link #F16}: tensor-core MMA with 16-bit operands and fp32 accumulation.
 */
public enum Precision {
  FP32("f32"), BF16("bf16"), F16("f16");

  private final String tag;

  Precision(String tag) { this.tag = tag; }

  public String tag() { return tag; }
}
