// Shapes: B batch, H channels, L length, Lk kernel taps. u, y: (B, H, L); k, k0, k1: (H, Lk); D: (H).
package ai.longconv4j.cuda;

import java.util.SplittableRandom;

/** CPU float64 references for the GPU tests: direct O(L^2) convolutions written here, independent of lib. */
final class Reference {
  private Reference() {}

  static float[] randn(SplittableRandom rng, int n, double scale) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double u1 = rng.nextDouble(), u2 = rng.nextDouble();
      x[i] = (float) (scale * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
    }
    return x;
  }

  /** y[b,h,n] = sum_{j<=n, j<Lk} k[h,j] u[b,h,n-j] + D[h] u[b,h,n]. */
  static double[] causal(float[] u, float[] k, int Lk, float[] D, int B, int H, int L) {
    return perPoint(B, H, L, (row, h, n) -> {
      double acc = (double) D[h] * u[row + n];
      for (int j = 0, jm = Math.min(n, Lk - 1); j <= jm; j++) acc += (double) k[h * Lk + j] * u[row + n - j];
      return acc;
    });
  }

  /** y[b,h,n] = sum_{j<Lk} k[h,j] u[b,h,(n-j) mod L] + D[h] u[b,h,n]. */
  static double[] circular(float[] u, float[] k, int Lk, float[] D, int B, int H, int L) {
    return perPoint(B, H, L, (row, h, n) -> {
      double acc = (double) D[h] * u[row + n];
      for (int j = 0; j < Lk; j++) acc += (double) k[h * Lk + j] * u[row + Math.floorMod(n - j, L)];
      return acc;
    });
  }

  /** Causal part with k0 (lags 0..Lk-1) plus anti-causal part with k1 (lags -1..-Lk), zero outside [0, L). */
  static double[] bidirectional(float[] u, float[] k0, float[] k1, int Lk, float[] D, int B, int H, int L) {
    double[] y = causal(u, k0, Lk, D, B, H, L);
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        int row = (b * H + h) * L;
        for (int n = 0; n < L; n++) {
          double acc = 0;
          for (int j = 0; j < Lk && n + 1 + j < L; j++) acc += (double) k1[h * Lk + j] * u[row + n + 1 + j];
          y[row + n] += acc;
        }
      }
    return y;
  }

  /**
   * The adjoint of {@link #causal}: du[b,h,n] = sum_{j<Lk, n+j<L} k[h,j] dy[b,h,n+j] + D[h] dy[b,h,n].
   * (Checked against causal by the adjoint identity <causal(u), dy> = <u, causalAdjoint(dy)> in HostSideTest.)
   */
  static double[] causalAdjoint(float[] dy, float[] k, int Lk, float[] D, int B, int H, int L) {
    return perPoint(B, H, L, (row, h, n) -> {
      double acc = (double) D[h] * dy[row + n];
      for (int j = 0; j < Lk && n + j < L; j++) acc += (double) k[h * Lk + j] * dy[row + n + j];
      return acc;
    });
  }

  /** A value at each point (b, h, n) of a (B, H, L) array, given row = (b * H + h) * L. */
  private interface PointFn {
    double at(int row, int h, int n);
  }

  private static double[] perPoint(int B, int H, int L, PointFn f) {
    double[] y = new double[B * H * L];
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        int row = (b * H + h) * L;
        for (int n = 0; n < L; n++) y[row + n] = f.at(row, h, n);
      }
    return y;
  }

  /**
   * Kernel gradient by direct correlation (the slow twin of FlashButterflyConv.backwardWeights), float64:
   * CAUSAL dk[h,j] = sum_b sum_{n>=j} dy[b,h,n] u[b,h,n-j]; CIRCULAR the same with n-j taken mod L; BIDIRECTIONAL
   * (2, H, Lk): the causal part for k0, then dk1[h,j] = sum_b sum_{n+1+j<L} dy[b,h,n] u[b,h,n+1+j] for k1.
   * (Checked by the adjoint identity <dy, y(k, D)> = <k, dk> + <D, dD> in HostSideTest.)
   */
  static double[] kernelGrad(ConvMode mode, float[] u, float[] dy, int Lk, int B, int H, int L) {
    int parts = mode == ConvMode.BIDIRECTIONAL ? 2 : 1;
    double[] dk = new double[parts * H * Lk];
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        int row = (b * H + h) * L;
        for (int j = 0; j < Lk; j++) {
          double acc = 0;
          if (mode == ConvMode.CIRCULAR) {
            for (int n = 0; n < L; n++) acc += (double) dy[row + n] * u[row + Math.floorMod(n - j, L)];
          } else {
            for (int n = j; n < L; n++) acc += (double) dy[row + n] * u[row + n - j];
          }
          dk[h * Lk + j] += acc;
          if (parts == 2) {
            double a1 = 0;
            for (int n = 0; n + 1 + j < L; n++) a1 += (double) dy[row + n] * u[row + n + 1 + j];
            dk[H * Lk + h * Lk + j] += a1;
          }
        }
      }
    return dk;
  }

  /** dD[h] = sum_b sum_n dy[b,h,n] u[b,h,n], float64. */
  static double[] dGrad(float[] u, float[] dy, int B, int H, int L) {
    double[] dD = new double[H];
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        int row = (b * H + h) * L;
        for (int n = 0; n < L; n++) dD[h] += (double) dy[row + n] * u[row + n];
      }
    return dD;
  }

  /** ||actual - expected|| / ||expected||; NaN if any element of actual is not finite. */
  static double relErr(float[] actual, double[] expected) {
    if (actual.length != expected.length) throw new IllegalArgumentException(actual.length + " vs " + expected.length);
    double num = 0, den = 0;
    for (int i = 0; i < actual.length; i++) {
      if (!Float.isFinite(actual[i])) return Double.NaN;
      double d = actual[i] - expected[i];
      num += d * d;
      den += expected[i] * expected[i];
    }
    return Math.sqrt(num / den);
  }

  /** Asserts relErr <= tol with a message naming the case and the first mismatches. */
  static void assertClose(String what, float[] actual, double[] expected, double tol) {
    double e = relErr(actual, expected);
    System.out.printf("%-60s rel err %.3e (tol %.0e)%n", what, e, tol);
    if (!(e <= tol)) {
      var sb = new StringBuilder(what + ": rel err " + e + " > " + tol + "; first mismatches:");
      int shown = 0;
      for (int i = 0; i < actual.length && shown < 5; i++) {
        double d = Math.abs(actual[i] - expected[i]);
        if (!Float.isFinite(actual[i]) || d > tol * (1 + Math.abs(expected[i]))) {
          sb.append(String.format(" [%d] %g vs %g;", i, actual[i], expected[i]));
          shown++;
        }
      }
      throw new AssertionError(sb.toString());
    }
  }
}
