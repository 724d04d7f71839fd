// Shapes: none (scalar conversions between fp32 and 16-bit formats on the host).
package ai.longconv4j.cuda;

/** Host-side fp32 <-> bf16 / fp16 conversions (round to nearest even), for uploads and checks. */
public final class HalfFloats {
  private HalfFloats() {}

  /** bf16 bits of {@code f}, rounded to nearest even; NaN stays NaN. */
  public static short toBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) return (short) 0x7fc0;
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  public static float fromBf16(short b) { return Float.intBitsToFloat((b & 0xffff) << 16); }

  public static short toF16(float f) { return Float.floatToFloat16(f); }

  public static float fromF16(short h) { return Float.float16ToFloat(h); }

  /** Encodes {@code x} in {@code type} (F32 is not 16-bit: use the floats directly). */
  public static short[] encode(float[] x, ElementType type) {
    short[] out = new short[x.length];
    for (int i = 0; i < x.length; i++)
      out[i] = switch (type) {
        case BF16 -> toBf16(x[i]);
        case F16 -> toF16(x[i]);
        case F32 -> throw new IllegalArgumentException("encode: F32 is not a 16-bit type");
      };
    return out;
  }

  /** Decodes 16-bit values of {@code type} to floats. */
  public static float[] decode(short[] x, ElementType type) {
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++)
      out[i] = switch (type) {
        case BF16 -> fromBf16(x[i]);
        case F16 -> fromF16(x[i]);
        case F32 -> throw new IllegalArgumentException("decode: F32 is not a 16-bit type");
      };
    return out;
  }
}
