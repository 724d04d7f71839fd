// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.conv;

/**
 * Gradients of a long convolution {@code y = conv(u, k) + D * u}.
 *
 * @param du gradient w.r.t. u, layout (B, H, L)
 * @param dk gradient w.r.t. k, layout (C, H, sides, Lk) — taps that cannot reach the input get 0
 * @param dD gradient w.r.t. D, layout (C, H); all zeros when D was null
 */
public record ConvGrads(double[] du, double[] dk, double[] dD) {}
