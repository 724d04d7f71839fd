// Shapes: B batch, H channels, L length, Lk taps per side; N the real FFT size, M = N / 2 = R_1 .. R_J; u, dy, y, du (B, H, L);
// k0, k1 (H, Lk) (the GPU's per-side layout); D, dD (H); dk (sides, H, Lk); blocks {F_1 .. F_J, G_J .. G_1} (R, R, 2) complex
// interleaved; pq (H, 4M) in lib's pairCoefficients layout per channel at the positions of the factor list.
package ai.longconv4j.cuda;

import ai.longconv4j.conv.ConvPlan;
import ai.longconv4j.conv.ConvShape;
import ai.longconv4j.conv.PackedLearnedButterfly;
import org.jtransforms.fft.DoubleFFT_1D;

/**
 * A float64 CPU twin of the J-factor packed learned butterfly written straight from /work/prompts/s14-jspec.md (the test's
 * reference while lib's J-factor PackedLearnedButterfly is not merged, and a second one after): forward, and the whole
 * backward (du, dk per side, dD, the 2J block gradients) for any factor list. P / Q of each channel come from lib's
 * pairCoefficients (the exact fp64 FFT of the placed taps; lib's layout is position-ordered for lib's factor list, so they
 * are re-ordered by frequency here: {@link PackedLearnedChain#positionFrequencies}); dk goes through the pair formulas'
 * adjoint and the real DFT's adjoint (JTransforms, complex N points).
 */
final class PackedChainReference {
  final int[] r;
  final int j, m, n;
  final int[] freq, pos, partner;
  final double[][] blocks;

  PackedChainReference(int[] factors, int n, double[][] blocks) {
    this.r = factors.clone(); this.j = factors.length; this.n = n; this.m = n / 2; this.blocks = blocks;
    freq = PackedLearnedChain.positionFrequencies(factors);
    pos = new int[m];
    for (int p = 0; p < m; p++) pos[freq[p]] = p;
    partner = new int[m];
    for (int p = 0; p < m; p++) partner[p] = pos[(m - freq[p]) % m];
  }

  private int stride(int s) { int q = 1; for (int i = s + 1; i < j; i++) q *= r[i]; return q; }

  /** out[a, k, c] = sum_n W(k, n) x[a, n, c]; W(k, n) = b[k R + n] (trans false) or b[n R + k], conjugated when conj. */
  double[] block(double[] x, int s, double[] b, boolean trans, boolean conj) {
    int R = r[s], S = stride(s), ms = R * S;
    double[] out = new double[2 * m];
    for (int a = 0; a < m / ms; a++)
      for (int k = 0; k < R; k++)
        for (int c = 0; c < S; c++) {
          double zr = 0, zi = 0;
          for (int q = 0; q < R; q++) {
            int wi = 2 * (trans ? q * R + k : k * R + q), xi = 2 * (a * ms + q * S + c);
            double wr = b[wi], wim = conj ? -b[wi + 1] : b[wi + 1];
            zr += wr * x[xi] - wim * x[xi + 1];
            zi += wr * x[xi + 1] + wim * x[xi];
          }
          out[2 * (a * ms + k * S + c)] = zr;
          out[2 * (a * ms + k * S + c) + 1] = zi;
        }
    return out;
  }

  /** x[a, k, c] * w_Ms^(sign k c) * scale (a copy). */
  double[] twiddle(double[] x, int s, int sign, double scale) {
    int R = r[s], S = stride(s), ms = R * S;
    double[] out = new double[2 * m];
    for (int i = 0; i < m; i++) {
      int rem = i % ms, k = rem / S, c = rem % S;
      double ang = -2 * Math.PI * sign * ((long) k * c % ms) / ms, cr = Math.cos(ang), ci = Math.sin(ang);
      out[2 * i] = (x[2 * i] * cr - x[2 * i + 1] * ci) * scale;
      out[2 * i + 1] = (x[2 * i] * ci + x[2 * i + 1] * cr) * scale;
    }
    return out;
  }

  /** acc[e] += sum gy[.., k, c] conj(x[.., n, c]), e = k R + n (s = 0: left) or n R + k (s >= 1: right). */
  void gram(double[] x, double[] gy, int s, double[] acc) {
    int R = r[s], S = stride(s), ms = R * S;
    for (int a = 0; a < m / ms; a++)
      for (int c = 0; c < S; c++)
        for (int k = 0; k < R; k++)
          for (int q = 0; q < R; q++) {
            int gi = 2 * (a * ms + k * S + c), xi = 2 * (a * ms + q * S + c), e = 2 * (s > 0 ? q * R + k : k * R + q);
            acc[e] += gy[gi] * x[xi] + gy[gi + 1] * x[xi + 1];
            acc[e + 1] += gy[gi + 1] * x[xi] - gy[gi] * x[xi + 1];
          }
  }

  /** (P_k, Q_k) by frequency k of channel h: (M, 4) {Re P, Im P, Re Q, Im Q}. */
  static double[] pqByFrequency(ConvPlan plan, ConvShape shape, double[] kLib, int h) {
    double[] lib = PackedLearnedButterfly.pairCoefficients(plan, PackedLearnedButterfly.placeTaps(plan, shape, kLib, h));
    int mm = plan.fftSize() / 2;
    int[] lf = PackedLearnedChain.positionFrequencies(PackedLearnedRef.factorsOf(plan));
    double[] out = new double[4 * mm];
    for (int p = 0; p < mm; p++) {
      int f = lf[p];
      out[4 * f] = lib[2 * p]; out[4 * f + 1] = lib[2 * p + 1];
      out[4 * f + 2] = lib[2 * mm + 2 * p]; out[4 * f + 3] = lib[2 * mm + 2 * p + 1];
    }
    return out;
  }

  /** The pair map with pqF (by frequency) at this factor list's positions. */
  double[] pair(double[] c, double[] pqF) {
    double[] out = new double[2 * m];
    for (int p = 0; p < m; p++) {
      int f = 4 * freq[p], q = partner[p];
      double cr = c[2 * p], ci = c[2 * p + 1], sr = c[2 * q], si = -c[2 * q + 1];
      out[2 * p] = pqF[f] * cr - pqF[f + 1] * ci + pqF[f + 2] * sr - pqF[f + 3] * si;
      out[2 * p + 1] = pqF[f] * ci + pqF[f + 1] * cr + pqF[f + 2] * si + pqF[f + 3] * sr;
    }
    return out;
  }

  /** The results of one call: y, du, dk (sides, H, Lk), dD, block gradients, P / Q by frequency per channel. */
  record Out(double[] y, double[] du, double[] dk, double[] dD, double[][] dBlocks) {}

  Out run(int B, int H, int L, int Lk, int sides, int taps0, int taps1, float[] u, float[] dy, float[] D, double[][] pqF) {
    double[] y = new double[B * H * L], du = new double[B * H * L], dD = new double[H];
    double[][] dB = new double[2 * j][];
    for (int i = 0; i < 2 * j; i++) { int q = i < j ? r[i] : r[2 * j - 1 - i]; dB[i] = new double[2 * q * q]; }
    double[][] dpq = new double[H][4 * m];   // by position
    for (int b = 0; b < B; b++)
      for (int h = 0; h < H; h++) {
        int off = (b * H + h) * L;
        double[][] x = new double[j + 1][], v = new double[j][];
        x[0] = new double[2 * m];
        for (int i = 0; i < Math.min(L, 2 * m); i++) x[0][i] = u[off + i];
        for (int s = 0; s < j; s++) {
          x[s + 1] = block(x[s], s, blocks[s], s > 0, false);
          if (s < j - 1) x[s + 1] = twiddle(x[s + 1], s, 1, 1);
        }
        double[] w = pair(x[j], pqF[h]);
        for (int s = j - 1; s >= 0; s--) {
          v[s] = twiddle(w, s, -1, s == 0 ? 1.0 / m : 1);
          w = block(v[s], s, blocks[2 * j - 1 - s], s > 0, false);
        }
        for (int i = 0; i < L; i++) y[off + i] = w[i] + (double) D[h] * u[off + i];
        // backward
        double[] g = new double[2 * m];
        for (int i = 0; i < Math.min(L, 2 * m); i++) g[i] = dy[off + i];
        for (int s = 0; s < j; s++) {
          gram(v[s], g, s, dB[2 * j - 1 - s]);
          g = twiddle(block(g, s, blocks[2 * j - 1 - s], s == 0, true), s, 1, s == 0 ? 1.0 / m : 1);
        }
        double[] gc = new double[2 * m], c = x[j];
        for (int p = 0; p < m; p++) {
          int q = partner[p], fp = 4 * freq[p], fq = 4 * freq[q];
          double gr = g[2 * p], gi = g[2 * p + 1], hr = g[2 * q], hi = -g[2 * q + 1];
          double pr = pqF[h][fp], pi = -pqF[h][fp + 1], qr = pqF[h][fq + 2], qi = pqF[h][fq + 3];
          gc[2 * p] = pr * gr - pi * gi + qr * hr - qi * hi;
          gc[2 * p + 1] = pr * gi + pi * gr + qr * hi + qi * hr;
          double cr = c[2 * p], ci = -c[2 * p + 1], sr = c[2 * q], si = c[2 * q + 1];
          dpq[h][4 * p] += gr * cr - gi * ci; dpq[h][4 * p + 1] += gr * ci + gi * cr;
          dpq[h][4 * p + 2] += gr * sr - gi * si; dpq[h][4 * p + 3] += gr * si + gi * sr;
        }
        g = gc;
        for (int s = j - 1; s >= 0; s--) {
          if (s < j - 1) g = twiddle(g, s, -1, 1);
          gram(x[s], g, s, dB[s]);
          g = block(g, s, blocks[s], s == 0, true);
        }
        for (int i = 0; i < L; i++) { du[off + i] = g[i] + (double) D[h] * dy[off + i]; dD[h] += (double) u[off + i] * dy[off + i]; }
      }
    double[] dk = new double[sides * H * Lk];
    DoubleFFT_1D fft = new DoubleFFT_1D(n);
    for (int h = 0; h < H; h++) {
      double[] spec = new double[2 * n];
      for (int jj = 0; jj <= m; jj++) {
        double sr = 0, si = 0;
        if (jj < m) {
          double[] cf = coef(jj);
          int p = 4 * pos[jj];
          double[] a = mul(conj(cf[0], cf[1]), dpq[h][p], dpq[h][p + 1]), z = mul(conj(cf[4], cf[5]), dpq[h][p + 2], dpq[h][p + 3]);
          sr += a[0] + z[0]; si += a[1] + z[1];
        }
        if (jj >= 1) {
          int f = m - jj, p = 4 * pos[f];
          double[] cf = coef(f);
          double[] a = mul(new double[] {cf[2], cf[3]}, dpq[h][p], -dpq[h][p + 1]), z = mul(new double[] {cf[6], cf[7]}, dpq[h][p + 2], -dpq[h][p + 3]);
          sr += a[0] + z[0]; si += a[1] + z[1];
        }
        spec[2 * jj] = sr; spec[2 * jj + 1] = si;
      }
      fft.complexInverse(spec, false);   // sum_j X[j] e^(+2 pi i j x / N)
      for (int side = 0; side < sides; side++)
        for (int t = 0; t < Lk; t++)
          if (t < (side == 0 ? taps0 : taps1)) dk[side * H * Lk + h * Lk + t] = spec[2 * (side == 0 ? t : n - 1 - t)];
    }
    return new Out(y, du, dk, dD, dB);
  }

  private static double[] conj(double re, double im) { return new double[] {re, -im}; }

  private static double[] mul(double[] a, double br, double bi) { return new double[] {a[0] * br - a[1] * bi, a[0] * bi + a[1] * br}; }

  /** {alpha, beta, gamma, delta} of frequency f (packed-spec.md; see learned_pk_ref2.cu lpj_coef), 8 doubles. */
  private double[] coef(int f) {
    double af = -2 * Math.PI * f / n, ag = -2 * Math.PI * (m - f) / n;
    double wfr = Math.cos(af), wfi = Math.sin(af), wgr = Math.cos(ag), wgi = Math.sin(ag);
    double[] a = {0.5 * (1 + wfi), -0.5 * wfr}, bb = {0.5 * (1 - wfi), 0.5 * wfr};
    double[] agv = {0.5 * (1 + wgi), -0.5 * wgr}, bg = {0.5 * (1 - wgi), 0.5 * wgr};
    double[] cf = {0.5 * (1 + wfi), 0.5 * wfr}, df = {0.5 * (1 - wfi), -0.5 * wfr};
    double[] al = mul(cf, a[0], a[1]), be = mul(df, bg[0], -bg[1]), ga = mul(cf, bb[0], bb[1]), de = mul(df, agv[0], -agv[1]);
    return new double[] {al[0], al[1], be[0], be[1], ga[0], ga[1], de[0], de[1]};
  }
}
