// Shape legend: N FFT size.
package ai.longconv4j.conv;

/**
 * Compute precision of a convolution plan. {@code F64} computes in double. {@code F32} rounds DFT blocks,
 * twiddles and every stored intermediate of the Monarch path to float (products accumulated wider, like
 * fp32 storage with a wider accumulator); the JTransforms path runs {@code FloatFFT_1D} in float.
 */
public enum Precision {
    F64,
    F32;

    /** The unit round-off (half an ulp of 1): 2^-53 or 2^-24. */
    public double epsilon() { return this == F64 ? 0x1p-53 : 0x1p-24; }
}
