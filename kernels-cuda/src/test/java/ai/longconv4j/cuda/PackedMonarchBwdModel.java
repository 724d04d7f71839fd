// Shapes: B batch, H channels, L length; M = N / 2 = R1 16^(J-1) (J factors {R1, 16, ..}); S_s = 16^(J-s), M_s = R_s S_s;
// rows u, dy, du (B, H, L) real; a complex row z (2M doubles, interleaved) in position order (p = row-major digits).
// Blocks lib's {F_1 .. F_J, G_J .. G_1} (R_s, R_s, 2); left-form sets mats / madj (learned_pm.cu lpm_prep's layout, 2 (R1^2
// + 256 (J - 1)) complex); pair coefficients pq [4M] (P_p at [2p, 2p+1], Q_p at [2M + 2p, ..]); part (H, 2J, 16, 16) complex.
package ai.longconv4j.cuda;

/**
 * Float64 model of learned_pmb.cu's decomposition (helper pkjbwd), step for step: the kernel's stage scales (1/R_s on every
 * forward-structured stage), the dumps, each stage's Gram acc[k][n] = sum_col G[k][col] conj(X[n][col]) with the kernel's
 * element position (col &gt;&gt; lS) R S + k S + (col &amp; (S - 1)) and its conj(T_s) applied at load to G (forward
 * blocks) or X (inverse blocks), the per-channel partial layout (slot s - 1 / J + s - 1, 16 x 16), and lpmb_reduce's map to
 * lib's blocks (entry [a][b] = acc[a][b] at s = 1, acc[b][a] beyond, times R_1 .. R_(s-1)). PackedMonarchBwdHostTest checks
 * what this model returns against lib's PackedLearnedButterfly.backwardAll, so the decomposition is proven on the host; the
 * GPU test then holds the kernel to lib with 16-bit bounds.
 */
final class PackedMonarchBwdModel {
  final int m, j, lR1, r1;
  final int[] f;
  private final int[] part;
  /** When not null ((2J) 256 entries, slot-major as part): every Gram term's |G|^2 |X|^2 added at its entry (the terms' energy). */
  double[] energy;

  PackedMonarchBwdModel(int m) {
    this.m = m;
    this.f = PackedMonarchFactors.factors(m);
    this.j = f.length;
    this.r1 = f[0];
    this.lR1 = Integer.numberOfTrailingZeros(r1);
    int[] freq = new int[m];
    for (int k = 0; k < m; k++) freq[PackedMonarchFactors.position(k, f)] = k;
    part = new int[m];
    for (int p = 0; p < m; p++) part[p] = PackedMonarchFactors.position((m - freq[p]) % m, f);
  }

  private int q1() { return r1 * r1; }
  private int half() { return q1() + 256 * (j - 1); }
  private int lS(int s) { return 4 * (j - s); }   // s 1-based
  private int lR(int s) { return s == 1 ? lR1 : 4; }

  /** lpm_prep: {mats, madj} (each 2 * half() complex, interleaved) from lib's blocks. */
  double[][] prep(double[][] blk) {
    int hq = half();
    double[] mats = new double[4 * hq], adj = new double[4 * hq];
    for (int i = 0; i < 2 * hq; i++) {
      int hf = i >= hq ? 1 : 0, e0 = i - hf * hq, s = e0 < q1() ? 1 : 2 + (e0 - q1()) / 256;
      int lr = s == 1 ? lR1 : 4, e = s == 1 ? e0 : (e0 - q1()) & 255, k = e >> lr, n = e & ((1 << lr) - 1);
      int kn = (k << lr) + n, nk = (n << lr) + k;
      double[] fs = blk[s - 1], gs = blk[2 * j - s];
      double[] a = hf == 1 ? gs : fs, b = hf == 1 ? fs : gs;
      int ia = s == 1 ? kn : nk, ib = s == 1 ? nk : kn;
      mats[2 * i] = a[2 * ia]; mats[2 * i + 1] = a[2 * ia + 1];
      adj[2 * i] = b[2 * ib]; adj[2 * i + 1] = -b[2 * ib + 1];
    }
    return new double[][] {mats, adj};
  }

  /** Offset (complex entries) of stage s's matrix in a half (first stage R1^2, then 256 each). */
  private int off(int s) { return s == 1 ? 0 : q1() + 256 * (s - 2); }

  /** Forward-structured stage s (left form a at offset o): y[k] = sum_n a[k][n] x[n], then w_(M_s)^(k c) (s &lt; J), * scale. */
  void fwd(double[] z, double[] a, int o, int s, double scale) { stage(z, a, o, s, true, scale); }

  /** Inverse-structured stage s: x[n] * conj(w_(M_s)^(n c)) (s &lt; J), then y[k] = sum_n a[k][n] x[n]. */
  void inv(double[] z, double[] a, int o, int s) { stage(z, a, o, s, false, 1); }

  private void stage(double[] z, double[] a, int o, int s, boolean fw, double scale) {
    int r = 1 << lR(s), st = 1 << lS(s), ms = r * st;
    double[] xr = new double[r], xi = new double[r];
    for (int blk = 0; blk < m / ms; blk++)
      for (int c = 0; c < st; c++) {
        int base = blk * ms + c;
        for (int q = 0; q < r; q++) {
          double vr = z[2 * (base + q * st)], vi = z[2 * (base + q * st) + 1];
          if (!fw && s < j) { double[] w = conjTw(q, c, ms); double t = vr * w[0] - vi * w[1]; vi = vr * w[1] + vi * w[0]; vr = t; }
          xr[q] = vr; xi[q] = vi;
        }
        for (int k = 0; k < r; k++) {
          double ar = 0, ai = 0;
          for (int q = 0; q < r; q++) {
            double br = a[2 * (o + k * r + q)], bi = a[2 * (o + k * r + q) + 1];
            ar += br * xr[q] - bi * xi[q]; ai += br * xi[q] + bi * xr[q];
          }
          if (fw && s < j) { double[] w = conjTw(k, c, ms); double t = ar * w[0] + ai * w[1]; ai = ai * w[0] - ar * w[1]; ar = t; }
          z[2 * (base + k * st)] = ar * scale; z[2 * (base + k * st) + 1] = ai * scale;
        }
      }
  }

  /** conj(w_ms^(k c)) = exp(+2 pi i k c / ms). */
  private static double[] conjTw(int k, int c, int ms) {
    double ang = 2 * Math.PI * (((long) k * c) % ms) / ms;
    return new double[] {Math.cos(ang), Math.sin(ang)};
  }

  /** The pair map in place with coefficients c ([4M] layout). */
  void pair(double[] z, double[] c) {
    double[] o = z.clone();
    for (int p = 0; p < m; p++) {
      int q = part[p];
      double ar = o[2 * p], ai = o[2 * p + 1], br = o[2 * q], bi = o[2 * q + 1];
      double pr = c[2 * p], pi = c[2 * p + 1], qr = c[2 * m + 2 * p], qi = c[2 * m + 2 * p + 1];
      z[2 * p] = pr * ar - pi * ai + qr * br + qi * bi;
      z[2 * p + 1] = pr * ai + pi * ar - qr * bi + qi * br;
    }
  }

  /** pmb_gram: acc (16 x 16 complex at offset ao) += the Gram of stage s between G (k) and X (n), conj(T_s) on G (twG) or X (twX) at load. */
  void gram(double[] g, double[] x, int s, boolean twG, boolean twX, double[] acc, int ao) {
    int lr = lR(s), ls = lS(s), r = 1 << lr, st = 1 << ls, ms = r * st;
    for (int col = 0; col < m / r; col++) {
      int c = col & (st - 1), base = (col >> ls) * ms + c;
      for (int k = 0; k < r; k++) {
        int pk = base + k * st;
        double gr = g[2 * pk], gi = g[2 * pk + 1];
        if (twG) { double[] w = conjTw(k, c, ms); double t = gr * w[0] - gi * w[1]; gi = gr * w[1] + gi * w[0]; gr = t; }
        for (int n = 0; n < r; n++) {
          int pn = base + n * st;
          double xr = x[2 * pn], xi = x[2 * pn + 1];
          if (twX) { double[] w = conjTw(n, c, ms); double t = xr * w[0] - xi * w[1]; xi = xr * w[1] + xi * w[0]; xr = t; }
          acc[ao + 2 * (k * 16 + n)] += gr * xr + gi * xi;
          acc[ao + 2 * (k * 16 + n) + 1] += gi * xr - gr * xi;
          if (energy != null) energy[ao / 2 + k * 16 + n] += (gr * gr + gi * gi) * (xr * xr + xi * xi);
        }
      }
    }
  }

  /** What the kernel returns for one channel. */
  record Channel(double[] du, double[] dpq, double[] part) {}

  /** pmb_bwd for channel rows us[b], dys[b] (each L), pair coefficients pq ([4M]) and adj, skip d. */
  Channel channel(double[][] us, double[][] dys, int L, double[] mats, double[] madj, double[] pq, double[] adj, double d) {
    int hq = half(), B = us.length;
    double[] part = new double[2 * j * 512], dpq = new double[4 * m], du = new double[B * L];
    double[][] xs = new double[2 * j][];
    for (int b = 0; b < B; b++) {
      double[] z = pack(us[b], L);
      for (int s = 1; s <= j; s++) { xs[s - 1] = z.clone(); fwd(z, mats, off(s), s, 1.0 / (1 << lR(s))); }
      double[] c = z.clone();
      for (int i = 0; i < c.length; i++) c[i] *= m;
      pair(z, pq);
      for (int s = j; s >= 1; s--) { xs[j + s - 1] = z.clone(); inv(z, mats, hq + off(s), s); }
      z = pack(dys[b], L);
      for (int s = 1; s <= j; s++) {
        gram(z, xs[j + s - 1], s, false, s < j, part, 512 * (j + s - 1));
        fwd(z, madj, off(s), s, 1.0 / (1 << lR(s)));
      }
      for (int p = 0; p < m; p++) {
        int q = part(p);
        double gr = z[2 * p], gi = z[2 * p + 1], ar = c[2 * p], ai = c[2 * p + 1], sr = c[2 * q], si = c[2 * q + 1];
        dpq[2 * p] += gr * ar + gi * ai; dpq[2 * p + 1] += gi * ar - gr * ai;
        dpq[2 * m + 2 * p] += gr * sr - gi * si; dpq[2 * m + 2 * p + 1] += gr * si + gi * sr;
      }
      pair(z, adj);
      for (int s = j; s >= 1; s--) {
        gram(z, xs[s - 1], s, s < j, false, part, 512 * (s - 1));
        inv(z, madj, hq + off(s), s);
      }
      for (int i = 0; i < L; i++) du[b * L + i] = z[i] + d * dys[b][i];   // unpack: the identity on interleaved storage
    }
    return new Channel(du, dpq, part);
  }

  private int part(int p) { return part[p]; }

  private double[] pack(double[] x, int L) {
    double[] z = new double[2 * m];
    System.arraycopy(x, 0, z, 0, Math.min(L, 2 * m));
    return z;
  }

  /** lpmb_reduce: lib's 2J block gradients from the channels' partials (each 2J x 256 complex). */
  double[][] reduce(double[][] parts) {
    double[][] out = new double[2 * j][];
    for (int i = 0; i < 2 * j; i++) {
      int s = i < j ? i + 1 : 2 * j - i, sl = i < j ? s - 1 : j + s - 1, r = 1 << lR(s);
      double sc = s == 1 ? 1 : (double) (1 << (lR1 + 4 * (s - 2)));
      out[i] = new double[2 * r * r];
      for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++) {
          int k = s == 1 ? a : b, n = s == 1 ? b : a;
          for (double[] p : parts) {
            out[i][2 * (a * r + b)] += sc * p[512 * sl + 2 * (k * 16 + n)];
            out[i][2 * (a * r + b) + 1] += sc * p[512 * sl + 2 * (k * 16 + n) + 1];
          }
        }
    }
    return out;
  }
}
