// Shapes: L length, N the real FFT size, M = N / 2 = prod f complex points with the J factors f = {R1, 16, ..}; S_s = the
// product of the factors after s, M_s = R_s S_s; p a position (row-major index of the digits (k_1 .. k_J)) holding
// frequency k = k_1 + R_1 (k_2 + R_2 (..)). Rows: x (L) real; z (M) complex interleaved (2M doubles). Blocks: lib's order
// {F_1 .. F_J, G_J .. G_1}, (R_s, R_s, 2) interleaved row-major. Pair coefficients: [4M], P_p at [2p, 2p+1], Q_p at [2M + 2p, ..].
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvShape;
import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Float64 twin of the J-factor packed learned butterfly for the tests (s14-jspec.md, written from the spec, independent
 * of learned_pm.cu): one row y = unpack(inverse chain(pair map(forward chain(pack(x_pad))))) + D x. Forward stage s
 * applies its block along axis s (stage 1 on the left, Y[k] = sum_n F_1[k][n] X[n]; stages s &gt;= 2 on the right,
 * Y[k] = sum_n X[n] F_s[n][k]) and then T_s = w_(M_s)^(k_s c); the inverse runs s = J .. 1 with conj(T_s) first (and 1/M
 * at s = 1), then G_s by the same convention. {@link #adjointBlocks} and {@link #adjointPairCoefficients} give the input
 * gradient as the same map (PackedMonarchHostTest checks &lt;y(u), dy&gt; = &lt;u, du(dy)&gt; and, at the DFT blocks, y
 * against lib's FftConv).
 */
final class PackedMonarchReference {
  final int[] f;
  final int m, n, j;
  private final int[] part;

  PackedMonarchReference(int m) {
    this.f = PackedMonarchFactors.factors(m);
    this.m = m; this.n = 2 * m; this.j = f.length;
    int[] freq = new int[m];
    for (int k = 0; k < m; k++) freq[PackedMonarchFactors.position(k, f)] = k;
    part = new int[m];
    for (int p = 0; p < m; p++) part[p] = PackedMonarchFactors.position((m - freq[p]) % m, f);
    this.freq = freq;
  }

  private final int[] freq;

  private int stride(int s) { int st = 1; for (int t = s + 1; t < j; t++) st *= f[t]; return st; }

  /** One stage along axis s (0-based) in place; blk (R, R, 2); twiddle sign -1 forward (after), +1 inverse (before). */
  private void stage(double[] z, int s, double[] blk, boolean fwd, double scale) {
    int r = f[s], st = stride(s), ms = r * st, o = m / ms;
    double[] xr = new double[r], xi = new double[r];
    for (int a = 0; a < o; a++)
      for (int c = 0; c < st; c++) {
        int base = a * ms + c;
        for (int q = 0; q < r; q++) {
          double vr = z[2 * (base + q * st)], vi = z[2 * (base + q * st) + 1];
          if (!fwd) {   // * conj(w_ms^(q c))
            double ang = 2 * Math.PI * (((long) q * c) % ms) / ms, cr = Math.cos(ang), ci = Math.sin(ang);
            double t = vr * cr - vi * ci; vi = vr * ci + vi * cr; vr = t;
          }
          xr[q] = vr; xi[q] = vi;
        }
        for (int k = 0; k < r; k++) {
          double ar = 0, ai = 0;
          for (int q = 0; q < r; q++) {
            int e = s == 0 ? k * r + q : q * r + k;   // stage 1: F[k][q] (left); s >= 2: F[q][k] (right)
            double br = blk[2 * e], bi = blk[2 * e + 1];
            ar += br * xr[q] - bi * xi[q];
            ai += br * xi[q] + bi * xr[q];
          }
          if (fwd) {   // * w_ms^(k c)
            double ang = -2 * Math.PI * (((long) k * c) % ms) / ms, cr = Math.cos(ang), ci = Math.sin(ang);
            double t = ar * cr - ai * ci; ai = ar * ci + ai * cr; ar = t;
          }
          z[2 * (base + k * st)] = ar * scale; z[2 * (base + k * st) + 1] = ai * scale;
        }
      }
  }

  /** y (L) of one row x (L, zero-padded to N) with blocks (lib order), pair coefficients pq [4M] (positions), skip D. */
  double[] row(double[] x, int L, double[][] blocks, double[] pq, double D) {
    double[] z = new double[2 * m];
    System.arraycopy(x, 0, z, 0, Math.min(L, n));   // pack: z[m] = x[2m] + i x[2m+1] is the identity on interleaved storage
    for (int s = 0; s < j; s++) stage(z, s, blocks[s], true, 1);
    double[] c = new double[2 * m];
    for (int p = 0; p < m; p++) {
      int q = part[p];
      double cr = z[2 * p], ci = z[2 * p + 1], sr = z[2 * q], si = -z[2 * q + 1];
      double pr = pq[2 * p], pi = pq[2 * p + 1], qr = pq[2 * m + 2 * p], qi = pq[2 * m + 2 * p + 1];
      c[2 * p] = pr * cr - pi * ci + qr * sr - qi * si;
      c[2 * p + 1] = pr * ci + pi * cr + qr * si + qi * sr;
    }
    for (int s = j - 1; s >= 0; s--) stage(c, s, blocks[2 * j - 1 - s], false, s == 0 ? 1.0 / m : 1);
    double[] y = new double[L];
    for (int i = 0; i < L; i++) y[i] = c[i] + D * x[i];
    return y;
  }

  /** C = the forward chain (blocks[0 .. J-1], unscaled) of one packed row x (L, zero-padded to N). */
  double[] chain(double[] x, int L, double[][] blocks) {
    double[] z = new double[2 * m];
    System.arraycopy(x, 0, z, 0, Math.min(L, n));
    for (int s = 0; s < j; s++) stage(z, s, blocks[s], true, 1);
    return z;
  }

  /**
   * {dP, dQ} ([4M]: dP_p at [2p, 2p+1], dQ_p at [2M + 2p, ..]) summed over the rows of one channel: us, dys (rows of L),
   * dP_p = sum gC'[p] conj(C[p]), dQ_p = sum gC'[p] C[s(p)], C = chain(u), gC' = chain(dy, adjoint blocks) / M.
   */
  double[] pairGrads(double[][] us, double[][] dys, int L, double[][] blocks) {
    double[] out = new double[4 * m];
    double[][] adj = adjointBlocks(blocks);
    for (int b = 0; b < us.length; b++) {
      double[] c = chain(us[b], L, blocks), g = chain(dys[b], L, adj);
      for (int p = 0; p < m; p++) {
        int q = part[p];
        double gr = g[2 * p] / m, gi = g[2 * p + 1] / m, cr = c[2 * p], ci = c[2 * p + 1], sr = c[2 * q], si = c[2 * q + 1];
        out[2 * p] += gr * cr + gi * ci; out[2 * p + 1] += gi * cr - gr * ci;
        out[2 * m + 2 * p] += gr * sr - gi * si; out[2 * m + 2 * p + 1] += gr * si + gi * sr;
      }
    }
    return out;
  }

  /** The adjoint's blocks {G_1^H .. G_J^H, F_J^H .. F_1^H} (lib order of a forward-structured chain). */
  double[][] adjointBlocks(double[][] b) {
    double[][] a = new double[2 * j][];
    for (int s = 0; s < j; s++) {
      a[s] = conjT(b[2 * j - 1 - s], f[s]);
      a[2 * j - 1 - s] = conjT(b[s], f[s]);
    }
    return a;
  }

  static double[] conjT(double[] b, int r) {
    double[] o = new double[2 * r * r];
    for (int k = 0; k < r; k++)
      for (int q = 0; q < r; q++) { o[2 * (k * r + q)] = b[2 * (q * r + k)]; o[2 * (k * r + q) + 1] = -b[2 * (q * r + k) + 1]; }
    return o;
  }

  /** {conj P_p, Q_s(p)} of pq. */
  double[] adjointPairCoefficients(double[] pq) {
    double[] a = new double[4 * m];
    for (int p = 0; p < m; p++) {
      a[2 * p] = pq[2 * p]; a[2 * p + 1] = -pq[2 * p + 1];
      a[2 * m + 2 * p] = pq[2 * m + 2 * part[p]]; a[2 * m + 2 * p + 1] = pq[2 * m + 2 * part[p] + 1];
    }
    return a;
  }

  /** P / Q at positions from the N placed taps (packed-spec.md step 4; K = DFT_N(kPad) in fp64). */
  double[] pairCoefficients(double[] kPad) {
    double[] kf = new double[2 * n];
    for (int t = 0; t < n; t++) kf[2 * t] = kPad[t];
    new DoubleFFT_1D(n).complexForward(kf);   // K[j] = sum_t k_pad[t] w_N^(j t)
    double[] out = new double[4 * m];
    for (int p = 0; p < m; p++) {
      int k = freq[p], jj = m - k;
      double[] wk = wn(k), wj = wn(jj), wmk = {wk[0], -wk[1]};
      double[] a = half(1, wk, -1), b = half(1, wk, 1), c = half(1, wmk, 1), d = half(1, wmk, -1);
      double[] aj = half(1, wj, -1), bj = half(1, wj, 1);
      double[] K = {kf[2 * k], kf[2 * k + 1]}, Kc = {kf[2 * jj], -kf[2 * jj + 1]};   // K[k], conj(K[M-k])
      double[] P = add(mul(mul(c, K), a), mul(mul(d, Kc), conj(bj))), Q = add(mul(mul(c, K), b), mul(mul(d, Kc), conj(aj)));
      out[2 * p] = P[0]; out[2 * p + 1] = P[1]; out[2 * m + 2 * p] = Q[0]; out[2 * m + 2 * p + 1] = Q[1];
    }
    return out;
  }

  private double[] wn(int k) { double ang = -2 * Math.PI * k / n; return new double[] {Math.cos(ang), Math.sin(ang)}; }
  /** (1 + sg i w) / 2 */
  private static double[] half(double one, double[] w, int sg) { return new double[] {(one - sg * w[1]) / 2, sg * w[0] / 2}; }
  private static double[] mul(double[] a, double[] b) { return new double[] {a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]}; }
  private static double[] add(double[] a, double[] b) { return new double[] {a[0] + b[0], a[1] + b[1]}; }
  private static double[] conj(double[] a) { return new double[] {a[0], -a[1]}; }

  /** The N placed taps of kernel row ch of lib's k ((H, sides, Lk)) as lib's SpectralConv.placeTaps places them. */
  static double[] placeTaps(ConvShape s, double[] k, int ch, int n) {
    int lk = s.kernelLength(), sides = s.mode().sides(), ko = ch * sides * lk;
    double[] x = new double[n];
    for (int t = 0, t0 = s.taps(0); t < t0; t++) x[t] = k[ko + t];
    if (sides == 2) for (int t = 0, t1 = s.taps(1); t < t1; t++) x[n - 1 - t] = k[ko + lk + t];
    return x;
  }
}
