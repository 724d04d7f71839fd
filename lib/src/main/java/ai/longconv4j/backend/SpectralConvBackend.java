// Shape legend: B batch, C kernel channels, H features, L length, N FFT size (N >= L).
package ai.longconv4j.backend;

import ai.longconv4j.tensor.Tensor;

/**
 * An optional capability of a device {@link Backend}: the long convolution's FFT core on the device.
 * {@code ai.longconv4j.conv.ConvOps} builds the mode's N-tap kernel with tensor ops and adds {@code D * u};
 * this computes the rest.
 */
public interface SpectralConvBackend {
    /**
     * {@code y[b, c, h, :] = irfft(rfft(pad(u[b, h], N)) * rfft(kN[c, h]))[:L]}: u (B, H, L), kN (C, H, N) with
     * N >= L (circular convolution of length N, cropped), both F32 or both F64, on this backend's device.
     * Returns (B, C, H, L), wired into the graph with the gradients of u and kN.
     */
    Tensor spectralConv(Tensor u, Tensor kN);
}
