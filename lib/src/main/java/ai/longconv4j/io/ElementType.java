// Element types of a safetensors file, with their byte sizes and 16-bit float conversions.
package ai.longconv4j.io;

/**
 * Element (storage) types of the safetensors layout. The {@link #name()} is the exact dtype string of the format
 * ({@code "F32"}, {@code "BF16"}, ...). All values are stored little-endian.
 *
 * <pre>{@code
 * jshell> ElementType.parse("BF16").bytes()
 * $1 ==> 2
 * jshell> ElementType.fromBf16(ElementType.toBf16(1.00390625f))   // rounds to nearest even
 * $2 ==> 1.0
 * }</pre>
 */
public enum ElementType {
    F64(8, true), F32(4, true), BF16(2, true), F16(2, true), I64(8, false), I32(4, false);

    private final int bytes;
    private final boolean floating;

    ElementType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** True for F64, F32, BF16, F16. */
    public boolean isFloating() {
        return floating;
    }

    /** The type named by a safetensors dtype string; unknown names throw IllegalArgumentException. */
    public static ElementType parse(String dtype) {
        for (ElementType t : values()) if (t.name().equals(dtype)) return t;
        throw new IllegalArgumentException("unsupported safetensors dtype \"" + dtype + "\" (supported: F64, F32, BF16, F16, I64, I32)");
    }

    /** float → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** bfloat16 bits → float (exact). */
    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float → IEEE binary16 bits, round to nearest even (the JDK's conversion). */
    public static short toF16(float v) {
        return Float.floatToFloat16(v);
    }

    /** IEEE binary16 bits → float (exact). */
    public static float fromF16(short bits) {
        return Float.float16ToFloat(bits);
    }
}
