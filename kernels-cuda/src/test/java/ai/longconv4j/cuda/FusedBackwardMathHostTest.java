// Shapes: B batch (odd: the last pair has one row), L length, N FFT size (>= 2L - 1), rows u[b], dy[b] of L values.
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The identity the fused backward (flashbutterfly_bwd.cu) rests on, checked in float64 without a GPU: with the batch rows
 * packed in pairs z_u = u[b] + i u[b+1], z_d = dy[b] + i dy[b+1] (the last pair of an odd batch with a zero second row),
 * Re(IDFT(sum over pairs of conj(DFT z_u) * DFT z_d)) is sum_b corr(u[b], dy[b]) exactly — no unpacking of the pair
 * spectra — lag j >= 0 at index j and lag -(j+1) at N-1-j (bidirectional's second kernel). Negative control: the other
 * conjugation (Zu * conj(Zd)) gives the reversed lags, which the check rejects.
 */
class FusedBackwardMathHostTest {

  /** Naive DFT of (re, im), sign -1 forward / +1 inverse (unscaled). */
  static double[][] dft(double[] re, double[] im, int sign) {
    int n = re.length;
    double[] r = new double[n], i = new double[n];
    for (int k = 0; k < n; k++)
      for (int t = 0; t < n; t++) {
        double a = sign * 2 * Math.PI * ((long) k * t % n) / n, c = Math.cos(a), s = Math.sin(a);
        r[k] += re[t] * c - im[t] * s;
        i[k] += re[t] * s + im[t] * c;
      }
    return new double[][] {r, i};
  }

  /** Re(IDFT(sum_pairs conj(Zu) Zd)) / N, or with the conjugation on Zd when {@code swapped}. */
  static double[] packedCorrelation(double[][] u, double[][] dy, int n, boolean swapped) {
    double[] ar = new double[n], ai = new double[n];
    for (int b = 0; b < u.length; b += 2) {
      double[] ur = new double[n], ui = new double[n], dr = new double[n], di = new double[n];
      for (int t = 0; t < u[b].length; t++) {
        ur[t] = u[b][t]; dr[t] = dy[b][t];
        if (b + 1 < u.length) { ui[t] = u[b + 1][t]; di[t] = dy[b + 1][t]; }
      }
      double[][] zu = dft(ur, ui, -1), zd = dft(dr, di, -1);
      for (int k = 0; k < n; k++) {
        double xr = zu[0][k], xi = swapped ? zu[1][k] : -zu[1][k], yr = zd[0][k], yi = swapped ? -zd[1][k] : zd[1][k];
        ar[k] += xr * yr - xi * yi;
        ai[k] += xr * yi + xi * yr;
      }
    }
    double[] out = dft(ar, ai, +1)[0];
    for (int k = 0; k < n; k++) out[k] /= n;
    return out;
  }

  /** c[j] = sum_b sum_n dy[b][n] u[b][n - j] for lags j in (-L, L), at index j mod N. */
  static double[] directCorrelation(double[][] u, double[][] dy, int n) {
    int l = u[0].length;
    double[] c = new double[n];
    for (int b = 0; b < u.length; b++)
      for (int j = 1 - l; j < l; j++)
        for (int t = Math.max(0, j); t < l && t - j < l; t++) c[Math.floorMod(j, n)] += dy[b][t] * u[b][t - j];
    return c;
  }

  static double[][] rows(SplittableRandom rng, int b, int l) {
    double[][] x = new double[b][l];
    for (double[] r : x) for (int t = 0; t < l; t++) r[t] = rng.nextGaussian();
    return x;
  }

  @Test
  void packedPairsGiveTheBatchSumOfCorrelations() {
    var rng = new SplittableRandom(5);
    for (int b : new int[] {1, 2, 3, 5}) {
      int l = 13, n = 32;   // N >= 2L - 1: no wrap between positive and negative lags
      double[][] u = rows(rng, b, l), dy = rows(rng, b, l);
      double[] got = packedCorrelation(u, dy, n, false), want = directCorrelation(u, dy, n);
      double scale = 0;
      for (double v : want) scale = Math.max(scale, Math.abs(v));
      for (int k = 0; k < n; k++) assertEquals(want[k], got[k], 1e-12 * n * scale, "B=" + b + " index " + k);
      // negative control: the other conjugation mirrors the lags (index j <-> N - j), which differs
      double[] swapped = packedCorrelation(u, dy, n, true);
      double diff = 0;
      for (int k = 0; k < n; k++) diff = Math.max(diff, Math.abs(swapped[k] - want[k]));
      assertTrue(diff > 0.1 * scale, "B=" + b + ": the swapped conjugation must not pass (" + diff + ")");
    }
  }
}
