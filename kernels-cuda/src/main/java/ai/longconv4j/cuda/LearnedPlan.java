// Shapes: B batch, H channels, L length, Lk taps per side; u, y, dy, du (B, H, L) device arrays; dk (sides, H, Lk) fp32; dD (H)
//   fp32; blocks {Fa, Fb, Gb, Ga} complex interleaved (n, n, 2); J factors (LEARNED_PACKED from M = 2048): {F_1 .. F_J, G_J .. G_1}.
package ai.longconv4j.cuda;

/**
 * What the tensor op ({@link CudaLearnedConv}) needs of a learned-butterfly GPU plan: {@link LearnedButterflyConv}
 * (engine LEARNED) and {@link PackedLearnedConv} (LEARNED_PACKED) — block factors, uploads of blocks and weights, the
 * forward, the backward and the block gradients it leaves.
 */
interface LearnedPlan {
  /** The factors: (N1, N2) (Fa and Ga are N1 x N1, Fb and Gb N2 x N2), or (R_1 .. R_J) for J-factor plans. */
  int[] factors();

  /** The sizes of the blocks in order ({F_1 .. F_J, G_J .. G_1}; J = 2: {N1, N2, N2, N1}). */
  default int[] blockSizes() {
    int[] f = factors(), s = new int[2 * f.length];
    for (int i = 0; i < f.length; i++) { s[i] = f[i]; s[2 * f.length - 1 - i] = f[i]; }
    return s;
  }

  LearnedPlan setBlocks(double[][] blocks);

  /** One-sided kernels k (H, Lk) and D (H). */
  LearnedPlan setWeights(float[] k, float[] D);

  /** BIDIRECTIONAL: k0, k1 (H, Lk each) and D (H). */
  LearnedPlan setWeights(float[] k0, float[] k1, float[] D);

  void forward(DeviceBuffer u, DeviceBuffer y, int B);

  void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD);

  /** The block gradients of the last {@link #backward} (four, or 2J), as the blocks' layouts. */
  double[][] blockGrads();

  /** Concatenated complex blocks (fp32 pairs) split into float64 arrays of (n, n, 2) per size in {@code sizes}. */
  static double[][] unflatten(float[] g, int[] sizes) {
    double[][] out = new double[sizes.length][];
    for (int i = 0, off = 0; i < sizes.length; i++) {
      out[i] = new double[2 * sizes[i] * sizes[i]];
      for (int q = 0; q < out[i].length; q++) out[i][q] = g[off++];
    }
    return out;
  }

  /**
   * The input / output arrays of a forward or backward hold (B, H, L) values of {@code io} and the weights were set; else
   * IllegalStateException / IllegalArgumentException naming {@code who.op}, the shape and the sizes.
   */
  static void checkArrays(String who, String op, boolean weightsSet, DeviceBuffer a, DeviceBuffer b, int B, int h, int l, ElementType io) {
    if (!weightsSet) throw new IllegalStateException(who + "." + op + ": call setWeights first");
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || a == null || b == null || a.bytes() < need || b.bytes() < need)
      throw new IllegalArgumentException(who + "." + op + ": arrays must hold (B=" + B + ", H=" + h + ", L=" + l + ") " + io
          + " = " + need + " bytes, got " + (a == null ? "null" : a.bytes()) + " and " + (b == null ? "null" : b.bytes()));
  }
}
