// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N FFT size.
package ai.longconv4j.conv;

/**
 * How a long convolution treats the ends of the sequence. Output index {@code i} in {@code [0, L)}:
 * <ul>
 *   <li>{@link #CAUSAL}: {@code y[i] = sum_{t < min(Lk, L)} k[t] * u[i - t]} (terms with {@code i - t < 0} are 0);
 *       linear convolution, FFT of at least {@code L + Lk - 1} points (the reference uses 2L).</li>
 *   <li>{@link #BIDIRECTIONAL}: two kernels {@code k0, k1} (kernel layout {@code (C, H, 2, Lk)});
 *       {@code y[i] = sum_t k0[t] u[i - t] + sum_t k1[t] u[i + 1 + t]} — exactly
 *       {@code irfft(rfft(u, 2L) * rfft(pad(k0,(0,L)) + pad(flip(k1),(L,0))))[:L]}; {@code k1[L-1]} never
 *       reaches an input and gets gradient 0.</li>
 *   <li>{@link #CIRCULAR}: {@code y[i] = sum_{t < min(Lk, L)} k[t] * u[(i - t) mod L]}, FFT of exactly L points.</li>
 * </ul>
 * A kernel longer than the input is cropped to the taps that can reach it, never wrapped.
 */
public enum ConvMode {
    CAUSAL(1),
    BIDIRECTIONAL(2),
    CIRCULAR(1);

    private final int sides;

    ConvMode(int sides) { this.sides = sides; }

    /** Kernels per (channel, feature): 2 for bidirectional (k0, k1), else 1. */
    public int sides() { return sides; }

    /** Taps of one side that can reach an input of length L (side 1 = k1 of bidirectional). */
    public int effectiveTaps(int length, int kernelLength, int side) {
        int reach = (this == BIDIRECTIONAL && side == 1) ? length - 1 : length;
        return Math.min(kernelLength, reach);
    }

    /** Fewest FFT points that compute this mode without aliasing (circular: exactly L). */
    public int minFftSize(int length, int kernelLength) {
        int k = Math.min(kernelLength, length);
        return switch (this) {
            case CAUSAL -> length + k - 1;
            case BIDIRECTIONAL -> length + k;
            case CIRCULAR -> length;
        };
    }
}
