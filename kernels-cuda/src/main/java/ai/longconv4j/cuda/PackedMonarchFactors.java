// Shapes: M = N / 2 = R_1 x .. x R_J points of a row (one pass: 2048 .. 32768; the factor lists of three passes come from
//   PackedThreePass); blocks {F_1 .. F_J, G_J .. G_1} (R_s, R_s, 2) complex; pair coefficients [4M] = {P (M), Q (M)} complex at
//   the positions of M's factors.
package ai.longconv4j.cuda;

/**
 * The index math of the J-factor packed learned butterfly, shared by its plans ({@link PackedMonarchConv},
 * {@link PackedMonarchBackward}, {@link PackedThreePass}) and their tests: M's factors, the position of a frequency in the
 * factored order, the blocks at the exact DFT, and one kernel row's pair coefficients P / Q (float64, from its taps by an
 * FFT). No device here.
 * <pre>{@code
 * jshell> PackedMonarchFactors.factors(8192)
 * $1 ==> int[4] { 2, 16, 16, 16 }
 * }</pre>
 */
public final class PackedMonarchFactors {
  private PackedMonarchFactors() {}

  /** The J factors of M (s14-jspec.md's table, one pass): R1 = M / 16^(J-1) in {2, 4, 8, 16}, then J - 1 sixteens. */
  public static int[] factors(int m) {
    if (m < PackedMonarchConv.MIN_M || m > PackedMonarchConv.MAX_M || Integer.bitCount(m) != 1)
      throw new IllegalArgumentException("PackedMonarchFactors.factors: M must be a power of two in [2048, 32768], got " + m);
    int lg = Integer.numberOfTrailingZeros(m), jj = (lg - 1) / 4 + 1;
    int[] f = new int[jj];
    f[0] = 1 << (lg - 4 * (jj - 1));
    for (int s = 1; s < jj; s++) f[s] = 16;
    return f;
  }

  /** The position of frequency k (digits k_1 = k mod R1, then base 16; p = k_1 S_1 + .. + k_J). */
  static int position(int k, int[] f) {
    int p = 0, r = k;
    for (int s = 0; s < f.length; s++) {
      int stride = 1;
      for (int t = s + 1; t < f.length; t++) stride *= f[t];
      p += (r % f[s]) * stride;
      r /= f[s];
    }
    return p;
  }

  /** Blocks at the exact DFT in lib's order {F_1 .. F_J, G_J .. G_1}: F = F_R, G = conj(F_R). */
  public static double[][] atInit(int m) { return atInit(factors(m)); }

  /** Blocks at the exact DFT for the factors f (R_1 .. R_J) in lib's order {F_1 .. F_J, G_J .. G_1} (shared with PackedThreePass). */
  static double[][] atInit(int[] f) {
    int jj = f.length;
    double[][] b = new double[2 * jj][];
    for (int s = 0; s < jj; s++) {
      b[s] = ai.longconv4j.conv.LearnedButterfly.dft(f[s], false);
      b[2 * jj - 1 - s] = ai.longconv4j.conv.LearnedButterfly.dft(f[s], true);
    }
    return b;
  }

  /** P / Q of one kernel row from its N = 2M placed taps, lib's pairCoefficients layout [4M] at the positions of M's factors. */
  public static double[] pairCoefficients(int m, double[] kPad) {
    int n = 2 * m;
    int[] f = factors(m);
    if (kPad == null || kPad.length != n)
      throw new IllegalArgumentException("PackedMonarchFactors.pairCoefficients: k_pad must hold N = " + n + " taps, got " + (kPad == null ? "null" : kPad.length));
    double[] kf = new double[2 * n];
    for (int t = 0; t < n; t++) kf[2 * t] = kPad[t];
    new org.jtransforms.fft.DoubleFFT_1D(n).complexForward(kf);   // K[j] = sum_t k_pad[t] w_N^(j t)
    double[] out = new double[4 * m];
    for (int k = 0; k < m; k++) {
      int j = m - k, p = position(k, f);
      double ck = Math.cos(2 * Math.PI * k / n), sk = Math.sin(2 * Math.PI * k / n);   // w_N^k = (ck, -sk)
      double cj = Math.cos(2 * Math.PI * j / n), sj = Math.sin(2 * Math.PI * j / n);
      // a_k = (1 - i w^k)/2, b_k = (1 + i w^k)/2, c_k = (1 + i w^-k)/2, d_k = (1 - i w^-k)/2 (w^-k = (ck, sk))
      double ar = (1 - sk) / 2, ai = -ck / 2, br = (1 + sk) / 2, bi = ck / 2, cr = (1 - sk) / 2, ci = ck / 2, dr = (1 + sk) / 2, di = -ck / 2;
      double ajr = (1 - sj) / 2, aji = -cj / 2, bjr = (1 + sj) / 2, bji = cj / 2;
      double kr = kf[2 * k], ki = kf[2 * k + 1], qr = kf[2 * j], qi = -kf[2 * j + 1];   // K[k], conj(K[M-k])
      double xr = cr * kr - ci * ki, xi = cr * ki + ci * kr;   // c_k K[k]
      double yr = dr * qr - di * qi, yi = dr * qi + di * qr;   // d_k conj(K[M-k])
      out[2 * p] = xr * ar - xi * ai + yr * bjr + yi * bji;                 // + y conj(b_(M-k))
      out[2 * p + 1] = xr * ai + xi * ar + yi * bjr - yr * bji;
      out[2 * m + 2 * p] = xr * br - xi * bi + yr * ajr + yi * aji;         // + y conj(a_(M-k))
      out[2 * m + 2 * p + 1] = xr * bi + xi * br + yi * ajr - yr * aji;
    }
    return out;
  }

  /** "R_1 x R_2 x .. x R_J" (messages and toString; shared with PackedThreePass). */
  static String factorString(int[] f) {
    StringBuilder sb = new StringBuilder();
    for (int r : f) sb.append(sb.length() == 0 ? "" : " x ").append(r);
    return sb.toString();
  }
}
