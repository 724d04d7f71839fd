package ai.longconv4j.cuda;

/**
 * Where the learned three-pass kernels put things, mirrored on the host: the inner positions and frequencies of learned_p3.cu's
 * index maps (p3_pos / p3_freq, p3_pos4 / p3_freq4, p3_pos2), the partner positions their pair maps find, the pair-order
 * slots of the inner rows at M = N1 x 4096 (p3_qslot / p3_qrow), and the block transposes that put lib's blocks into the
 * kernels' left form. {@link PackedThreePass} and {@link PackedThreePassBackward} use the transposes; PackedThreePassHostTest
 * checks the maps against lib's partnerPositions and frequencies (split from PackedThreePass, session 24).
 *
 * <p>Shapes: M the one-pass FFT size = N1 x inner (inner 8192, 4096 or 256), p a position in [0, M), k a frequency; blocks
 * (R, R, 2) complex row-major.
 */
final class PackedThreePassLayout {
  private PackedThreePassLayout() {}

  /** learned_p3.cu p3_pos: the inner position of inner frequency k (digits k2 = k mod 2, then base 16). */
  static int innerPosition(int k) { return ((k & 1) << 12) | (((k >> 1) & 15) << 8) | (((k >> 5) & 15) << 4) | ((k >> 9) & 15); }

  /** learned_p3.cu p3_freq: the inner frequency held by inner position p (innerPosition's inverse). */
  static int innerFrequency(int p) { return (p >> 12) | (((p >> 8) & 15) << 1) | (((p >> 4) & 15) << 5) | ((p & 15) << 9); }

  /**
   * The partner position s(p) as lp3_middle's pair map finds it (p = k1 * 8192 + p_in): (0, pos((8192 - k_in) mod 8192)) at
   * k1 = 0, else (N1 - k1, pos(8191 - k_in)); the host test checks it against lib's partnerPositions.
   */
  static int kernelPartner(int p, int n1) {
    final int in = PackedThreePass.INNER;
    int k1 = p / in, f = innerFrequency(p % in);
    return k1 == 0 ? innerPosition((in - f) & (in - 1)) : (n1 - k1) * in + innerPosition(in - 1 - f);
  }

  /** learned_p3.cu p3_pos4 / p3_freq4: lib's position of frequency k in 4096 = 16 x 16 x 16 (digits reversed), and its inverse. */
  static int position4(int k) { return ((k & 15) << 8) | (((k >> 4) & 15) << 4) | (k >> 8); }
  static int frequency4(int p) { return (p >> 8) | (((p >> 4) & 15) << 4) | ((p & 15) << 8); }

  /**
   * learned_p3.cu p3_qslot (session 22, M = 16384 / 32768 = N1 x 4096): the scratch slot of inner row k1 in pair order
   * (slot 2 j: row j, 2 j + 1: row N1 - j; j = 0: rows 0 and N1 / 2).
   */
  static int quadSlot(int k1, int n1) {
    if (k1 == 0) return 0;
    if (2 * k1 == n1) return 1;
    return 2 * Math.min(k1, n1 - k1) + (2 * k1 > n1 ? 1 : 0);
  }

  /** learned_p3.cu p3_qrow: the inner row held by slot t ({@link #quadSlot}'s inverse). */
  static int quadRow(int t, int n1) {
    int j = t >> 1;
    return j == 0 ? ((t & 1) != 0 ? n1 / 2 : 0) : ((t & 1) != 0 ? n1 - j : j);
  }

  /**
   * The partner position as p3_pairmapq / lp3g_pq_grad4 find it at M = N1 x 4096 (p = k1 4096 + p_in): (0, pos4((4096 -
   * k_in) mod 4096)) at k1 = 0, else (N1 - k1, 4095 - p_in); the host test checks it against lib's partnerPositions.
   */
  static int quadPartner(int p, int n1) { return quadPartner(p, n1, 12); }

  /** learned_p3.cu p3_pos2: lib's position of frequency k in 256 = 16 x 16 (the digits swapped: its own inverse). */
  static int position2(int k) { return ((k & 15) << 4) | (k >> 4); }

  /** {@link #quadPartner} for an inner size 2^lI: 12 (pos4) or 8 (M = 2048: pos2, p3_pairmap2k's rule). */
  static int quadPartner(int p, int n1, int lI) {
    int in = 1 << lI, k1 = p >> lI, pin = p & (in - 1);
    if (k1 != 0) return ((n1 - k1) << lI) + in - 1 - pin;
    return lI == 12 ? position4((4096 - frequency4(pin)) & 4095) : position2((256 - position2(pin)) & 255);
  }

  /** The slot p3_pairmapq pairs slot t with: itself in the first row pair (rows 0 and N1 / 2), else its neighbour t ^ 1. */
  static int quadPartnerSlot(int t) { return (t >> 1) == 0 ? t : t ^ 1; }

  /** A 2 x 2 complex block (R, R, 2) transposed (entries [k][n] and [n][k] swapped). */
  static double[] transpose2(double[] a) { return transpose(a, 2); }

  /** An R x R complex block (R, R, 2) transposed. */
  static double[] transpose(double[] a, int r) {
    double[] t = new double[a.length];
    for (int k = 0; k < r; k++)
      for (int n = 0; n < r; n++) {
        t[2 * (k * r + n)] = a[2 * (n * r + k)];
        t[2 * (k * r + n) + 1] = a[2 * (n * r + k) + 1];
      }
    return t;
  }
}
