// Shapes: L sequence length, N FFT size.
package ai.longconv4j.cuda;

/** How the long convolution treats the sequence ends. */
public enum ConvMode {
  /** y[n] = sum_{j<=n} k[j] u[n-j]; kernel of at most L taps; FFT of size N >= 2L-1. */
  CAUSAL,
  /** Two kernels k0 (lags 0..L-1) and k1 (lags -1..-L): pad(k0,(0,L)) + pad(flip(k1),(L,0)); FFT N >= 2L. */
  BIDIRECTIONAL,
  /** y[n] = sum_j k[j] u[(n-j) mod L]; FFT of size N = L. */
  CIRCULAR
}
