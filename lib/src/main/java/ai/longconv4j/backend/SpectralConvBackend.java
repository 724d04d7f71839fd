// Shape legend: B batch, C kernel channels, H features, L length, N FFT size (N >= L).
package ai.longconv4j.backend;

import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;

/**
 * An optional capability of a device {@link Backend}: the long convolution's FFT core on the device.
 * {@code ai.longconv4j.conv.ConvOps} asks {@link #spectralConvD} for the whole convolution first; where that answers
 * null it builds the mode's N-tap kernel with tensor ops, calls {@link #spectralConv} and adds {@code D * u}.
 */
public interface SpectralConvBackend {
    /**
     * The FFT size N the backend wants for {@code mode} at length L with inputs of {@code dtype} (N >= the mode's
     * minimum; the caller places the kernel taps in N points). Default: 2L, circular L.
     */
    default int fftSize(ConvMode mode, int length, DType dtype) { return mode == ConvMode.CIRCULAR ? length : 2 * length; }

    /**
     * {@code y[b, c, h, :] = irfft(rfft(pad(u[b, h], N)) * rfft(kN[c, h]))[:L]}: u (B, H, L) of any dtype the backend
     * computes, kN (C, H, N) F64 for F64 u, else F32, with N = {@link #fftSize} (circular convolution of length N,
     * cropped), the taps in the mode's layout (side 0 at [0, taps), bidirectional side 1 at [N - taps, N)), on this
     * backend's device. Returns (B, C, H, L) in u's dtype, wired into the graph with the gradients of u and kN (the
     * gradient of kN is exact at the tap positions; elsewhere a backend may return 0: those entries are padding).
     */
    Tensor spectralConv(Tensor u, Tensor kN, ConvMode mode, int taps);

    /**
     * The whole device convolution {@code y = conv(u, k) + D * u} in one fused path, where the backend has one (e.g. a
     * plan whose kernels add D u themselves and return du, dk and dD from one backward): u (B, H, L), k as
     * {@code ConvOps.conv} takes it ((H, Lk) or (C, H, Lk); bidirectional (H, 2, Lk) or (C, H, 2, Lk)), d null or (C, H)
     * values, {@code taps0} / {@code taps1} the taps used per side ({@code ConvShape.taps}: the rest of Lk is outside
     * the output's reach, its gradient 0). Returns y in {@code ConvOps.conv}'s shape and u's dtype, wired into the graph
     * with the gradients of u, k and d; or null (the default) where the backend has no fused path for these
     * shapes / dtypes: the caller then builds kN for {@link #spectralConv} and adds D u with tensor ops (the slow twin).
     */
    default Tensor spectralConvD(Tensor u, Tensor k, Tensor d, ConvMode mode, int taps0, int taps1) { return null; }

    /**
     * The learned-butterfly convolution on the device ({@code ConvOps.learnedConv}): u (B, H, L), k (H, Lk) or
     * (H, 2, Lk) for bidirectional, d null or H values, blocks {Fa, Fb, Gb, Ga} each (n, n, 2); returns y (B, H, L)
     * = conv(u, k) + D u wired into the graph with the gradients of u, k, d and the four blocks, or null when the
     * backend has no such path for these shapes/dtypes (the caller then says so).
     */
    default Tensor learnedConv(Tensor u, Tensor k, Tensor d, ConvMode mode, Tensor[] blocks) { return null; }

    /**
     * The packed learned-butterfly convolution on the device ({@code ConvOps.learnedPackedConv}, the math of
     * {@code ai.longconv4j.conv.PackedLearnedButterfly}): shapes as {@link #learnedConv} with the blocks of the packed
     * M = N/2 = R_1 x .. x R_J transform, 2J of them in {@code PackedLearnedButterfly.blockNames} order (J = 2:
     * {Fa (N1, N1, 2), Fb (N2, N2, 2), Gb (N2, N2, 2), Ga (N1, N1, 2)}); returns y wired into the graph with the
     * gradients of u, k, d and the 2J blocks, or null when the backend has no such path (the
     * default: the caller then says so, naming the device and shapes).
     */
    default Tensor learnedPackedConv(Tensor u, Tensor k, Tensor d, ConvMode mode, Tensor[] blocks) { return null; }
}
