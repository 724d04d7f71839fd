// Shape legend: not shape-specific; a flat buffer of length() elements.
package ai.longconv4j.backend.cpu;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Storage;

/**
 * CPU storage: exactly one of {@code double[]} (F64) or {@code float[]} (F32). Element {@code i} of a
 * tensor view lives at {@code offset + sum(idx[k] * strides[k])} in this buffer.
 */
public final class CpuStorage implements Storage {
    private final double[] d;
    private final float[] f;

    private CpuStorage(double[] d, float[] f) {
        this.d = d;
        this.f = f;
    }

    /** Wraps (no copy). */
    public static CpuStorage of(double[] data) { return new CpuStorage(data, null); }

    /** Wraps (no copy). */
    public static CpuStorage of(float[] data) { return new CpuStorage(null, data); }

    /** A zero-filled buffer. */
    public static CpuStorage allocate(DType dtype, int length) {
        return switch (dtype) {
            case F64 -> of(new double[length]);
            case F32 -> of(new float[length]);
            default -> throw new UnsupportedOperationException(
                    "CpuStorage: " + dtype + " is not computed on the CPU (use F32 or F64)");
        };
    }

    @Override public DType dtype() { return d != null ? DType.F64 : DType.F32; }
    @Override public Device device() { return Device.CPU; }
    @Override public int length() { return d != null ? d.length : f.length; }
    @Override public CpuStorage toCpu() { return this; }

    /** The F64 array, or null for F32. */
    public double[] f64() { return d; }

    /** The F32 array, or null for F64. */
    public float[] f32() { return f; }

    public double get(int i) { return d != null ? d[i] : f[i]; }

    public void set(int i, double v) {
        if (d != null) d[i] = v;
        else f[i] = (float) v;
    }
}
