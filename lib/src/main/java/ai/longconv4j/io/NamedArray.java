// One named, typed, shaped array of a checkpoint: the unit of a safetensors file.
// Layout: row-major (C order) over shape, little-endian elements; numel = prod(shape) (1 for a scalar, shape []).
package ai.longconv4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named array with its element type, shape and raw little-endian data, as stored in a safetensors file.
 * Element {@code i} (row-major index) occupies bytes {@code [i*dtype.bytes(), (i+1)*dtype.bytes())} of {@link #data()}.
 * The record keeps a read-only little-endian view positioned at 0; {@code equals} compares names, types, shapes
 * and bytes.
 *
 * <pre>{@code
 * jshell> var a = NamedArray.ofFloats("w", new float[]{1, 2, 3, 4, 5, 6}, 2, 3)
 * a ==> NamedArray[w, F32, [2, 3]]
 * jshell> a.convert(ElementType.BF16).toFloatArray()[1]
 * $2 ==> 2.0
 * }</pre>
 */
public record NamedArray(String name, ElementType dtype, int[] shape, ByteBuffer data) {

    public NamedArray {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("NamedArray: name must be non-empty");
        if (dtype == null) throw new IllegalArgumentException("NamedArray " + name + ": dtype is null");
        shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("NamedArray " + name + ": negative dimension in shape " + Arrays.toString(shape));
            n *= d;
        }
        long want = n * dtype.bytes();
        if (data.remaining() != want)
            throw new IllegalArgumentException("NamedArray " + name + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + want + " bytes, got " + data.remaining());
        data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Number of elements: the product of the shape (1 for shape []). */
    public int numel() {
        return data.remaining() / dtype.bytes();
    }

    /** Bytes of data. */
    public int byteSize() {
        return data.remaining();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** A read-only little-endian view of the data, positioned at 0. */
    @Override
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer alloc(long elems, ElementType t) {
        if (elems * t.bytes() > Integer.MAX_VALUE) throw new IllegalArgumentException("NamedArray: more than 2 GiB in one array");
        return ByteBuffer.allocate((int) (elems * t.bytes())).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** F32 array of {@code values} with the given shape (copies). */
    public static NamedArray ofFloats(String name, float[] values, int... shape) {
        ByteBuffer b = alloc(values.length, ElementType.F32);
        b.asFloatBuffer().put(values);
        return new NamedArray(name, ElementType.F32, shape, b);
    }

    /** F64 array of {@code values} with the given shape (copies). */
    public static NamedArray ofDoubles(String name, double[] values, int... shape) {
        ByteBuffer b = alloc(values.length, ElementType.F64);
        b.asDoubleBuffer().put(values);
        return new NamedArray(name, ElementType.F64, shape, b);
    }

    /** I32 array of {@code values} with the given shape (copies). */
    public static NamedArray ofInts(String name, int[] values, int... shape) {
        ByteBuffer b = alloc(values.length, ElementType.I32);
        b.asIntBuffer().put(values);
        return new NamedArray(name, ElementType.I32, shape, b);
    }

    /** I64 array of {@code values} with the given shape (copies). */
    public static NamedArray ofLongs(String name, long[] values, int... shape) {
        ByteBuffer b = alloc(values.length, ElementType.I64);
        b.asLongBuffer().put(values);
        return new NamedArray(name, ElementType.I64, shape, b);
    }

    /**
     * Array of type {@code dtype} holding {@code values} converted (F32/BF16/F16 round to nearest even; I32/I64
     * require integral values in range, else IllegalArgumentException).
     */
    public static NamedArray of(String name, ElementType dtype, double[] values, int... shape) {
        ByteBuffer b = alloc(values.length, dtype);
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            switch (dtype) {
                case F64 -> b.putDouble(v);
                case F32 -> b.putFloat((float) v);
                case BF16 -> b.putShort(ElementType.toBf16((float) v));
                case F16 -> b.putShort(ElementType.toF16((float) v));
                case I64 -> b.putLong(checkedIntegral(name, v, Long.MIN_VALUE, Long.MAX_VALUE));
                case I32 -> b.putInt((int) checkedIntegral(name, v, Integer.MIN_VALUE, Integer.MAX_VALUE));
            }
        }
        b.flip();
        return new NamedArray(name, dtype, shape, b);
    }

    private static long checkedIntegral(String name, double v, long lo, long hi) {
        if (v != Math.rint(v) || v < lo || v > hi)
            throw new IllegalArgumentException("NamedArray " + name + ": value " + v + " is not an integer in range");
        return (long) v;
    }

    /** Element {@code i} (row-major) as a double; 64-bit integers beyond 2^53 lose precision. */
    public double getDouble(int i) {
        int at = i * dtype.bytes();
        return switch (dtype) {
            case F64 -> data.getDouble(at);
            case F32 -> data.getFloat(at);
            case BF16 -> ElementType.fromBf16(data.getShort(at));
            case F16 -> ElementType.fromF16(data.getShort(at));
            case I64 -> data.getLong(at);
            case I32 -> data.getInt(at);
        };
    }

    /** All elements as doubles (exact for every type except I64 beyond 2^53). */
    public double[] toDoubleArray() {
        double[] out = new double[numel()];
        for (int i = 0; i < out.length; i++) out[i] = getDouble(i);
        return out;
    }

    /** All elements as floats (F64 and large integers are rounded). */
    public float[] toFloatArray() {
        float[] out = new float[numel()];
        for (int i = 0; i < out.length; i++) out[i] = (float) getDouble(i);
        return out;
    }

    /** All elements of an I32 or I64 array as longs; a floating array is an error. */
    public long[] toLongArray() {
        long[] out = new long[numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dtype) {
                case I64 -> data.getLong(i * 8);
                case I32 -> data.getInt(i * 4);
                default -> throw new IllegalStateException("NamedArray " + name + ": toLongArray needs I32 or I64, is " + dtype);
            };
        }
        return out;
    }

    /** The same values in another element type (rounding as in {@link #of}). */
    public NamedArray convert(ElementType to) {
        if (to == dtype) return this;
        if (!to.isFloating() && !dtype.isFloating()) {
            long[] v = toLongArray();
            ByteBuffer b = alloc(v.length, to);
            for (long x : v) {
                if (to == ElementType.I32) b.putInt((int) checkedIntegral(name, x, Integer.MIN_VALUE, Integer.MAX_VALUE));
                else b.putLong(x);
            }
            b.flip();
            return new NamedArray(name, to, shape, b);
        }
        return of(name, to, toDoubleArray(), shape);
    }

    /** Same data under another name. */
    public NamedArray rename(String newName) {
        return new NamedArray(newName, dtype, shape, data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NamedArray a && name.equals(a.name) && dtype == a.dtype && Arrays.equals(shape, a.shape)
                && data.equals(a.data);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "NamedArray[" + name + ", " + dtype + ", " + Arrays.toString(shape) + "]";
    }
}
