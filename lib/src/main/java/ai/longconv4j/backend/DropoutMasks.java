// Shape legend: a flat mask of n elements (element i of a contiguous tensor of any shape).
package ai.longconv4j.backend;

import ai.longconv4j.backend.cpu.CpuStorage;
import ai.longconv4j.tensor.DType;

/**
 * The counter-based dropout mask of device backends, and its slow twin: element {@code i} of the mask for
 * {@code seed} is kept when {@code uniform(seed, i) >= p}, where {@code uniform} is the top 53 bits of the
 * splitmix64 finaliser of {@code seed + (i + 1) * 0x9E3779B97F4A7C15} scaled to [0, 1). Every element is an
 * independent function of (seed, i), so a GPU draws a whole mask in one kernel and the host can recompute any
 * element. The CPU path of {@code Tensor.dropout} does not use this (it draws from the caller's generator
 * element by element); on a device the generator is drawn once for the seed ({@link #seed}).
 * <pre>{@code
 * jshell> DropoutMasks.uniform(42, 0)
 * $1 ==> 0.7415648787718233     // = new SplittableRandom(42).nextDouble(); the CUDA kernel computes the same
 * }</pre>
 */
public final class DropoutMasks {
    private DropoutMasks() {}

    /** The splitmix64 increment (2^64 / golden ratio). */
    static final long GAMMA = 0x9E3779B97F4A7C15L;

    /** splitmix64's output function of the counter {@code seed + (i + 1) * GAMMA}. */
    public static long hash(long seed, long i) {
        long z = seed + (i + 1) * GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A uniform double in [0, 1): the top 53 bits of {@link #hash}. */
    public static double uniform(long seed, long i) { return (hash(seed, i) >>> 11) * 0x1.0p-53; }

    /** The seed of one device mask: one draw of the caller's generator (so runs are reproducible per seed). */
    public static long seed(java.util.random.RandomGenerator rng) { return rng.nextLong(); }

    /** The mask value of element i: {@code uniform(seed, i) >= p ? scale : 0}. */
    public static double value(long seed, long i, double p, double scale) { return uniform(seed, i) >= p ? scale : 0; }

    /** The slow twin: a CPU mask of n elements of {@code dtype} (F32 or F64). */
    public static CpuStorage mask(DType dtype, int n, long seed, double p, double scale) {
        CpuStorage s = CpuStorage.allocate(dtype, n);
        for (int i = 0; i < n; i++) s.set(i, value(seed, i, p, scale));
        return s;
    }
}
