// Shape legend: not shape-specific.
package ai.longconv4j.tensor;

/** Element types. The CPU backend computes {@link #F64} and {@link #F32}; BF16/F16 are for CUDA. */
public enum DType {
    F64(8), F32(4), BF16(2), F16(2);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    /** Size of one element in bytes. */
    public int bytes() { return bytes; }

    /** Whether the CPU backend computes in this type. */
    public boolean cpuComputable() { return this == F64 || this == F32; }
}
