// Shapes: B batch, H channels, L length, Lk taps; M = N / 2 = N1 * 8192 (65536 .. 262144), positions p = k1 * 8192 + p_in
// (lib's position order, PackedThreePass's).
//   u, dy, du: (B, H, L) device arrays of the plan's 16-bit I/O type; dD: (H) fp32;
//   gpq: (H, M) float4 {Re dP_p, Im dP_p, Re dQ_p, Im dQ_p} at position p (PackedLearnedChain.taps' input: dk from it);
//   scratches: two of (rows of a chunk, N1, 8192) (re, im) 16-bit pairs of the I/O type, kept by this object.
package ai.longconv4j.cuda;

/**
 * The three-pass packed learned butterfly's backward on tensor cores (helper p3, session 17; learned_p3g.cu), for
 * {@link PackedThreePass}'s plan: du, the pair coefficients' gradients {dP, dQ} (dk from them by the chain's cuFFT route,
 * {@link PackedLearnedChain#taps}) and dD. The forward's middle pass is split at its pair map so that both of the pair map
 * gradient's operands reach global memory once per row, in the 16-bit scratch type; per chunk of whole channels:
 * <ol>
 *   <li>u: pass 1 (forward blocks) into scratch C, {@code lp3g_midA} (the inner forward chain): C = the pair map's input;</li>
 *   <li>dy: pass 1 (adjoint blocks) into scratch G, {@code lp3g_midA} (adjoint blocks): G = the gradient at the pair map's
 *   output (as lpj_pair_grad's g);</li>
 *   <li>{@code lp3g_pq_grad}: dP_p = M sum_b g_p conj(C_p), dQ_p = M sum_b g_p C_s(p) (the channel's B rows are adjacent in
 *   the chunk; fp32 sums);</li>
 *   <li>{@code lp3g_midB} (adjoint blocks and pair map): the rest of the adjoint middle; pass 3 (adjoint blocks): du + D dy.
 *   midA then midB on one row is {@code lp3_mid16} bit for bit (the row between them is the 16-bit planes' content), so du
 *   equals {@link PackedThreePass#inputGrad} with scratch16 on and middleWarp off, bit for bit, given the same outer
 *   passes.</li>
 * </ol>
 * dD = sum over b, l of dy u per channel (the chain's {@code lpj_ddot}). The outer passes run on tensor cores where the
 * plan's {@link PackedThreePass#outerTc} setting (or its default, N1 >= 16) says. Not here (yet): the 2J block gradients
 * (their Gram sums need every stage's intermediates; {@link PackedMonarchLearned} takes them from the chain).
 * <pre>{@code
 * jshell> var bw = new PackedThreePassBackward(p3)
 * jshell> bw.backward(u, dy, 16, du, gpq, dD)   // then chain.taps(gpq, dk, sides)
 * }</pre>
 */
public final class PackedThreePassBackward implements AutoCloseable {
  static final String MODULE = "learned_p3g";
  private static final String DDOT_MODULE = "learned_pk_ref2";
  private static final int THREADS = 256;

  private final PackedThreePass p3;
  private final int h, l, m, n1;
  private DeviceBuffer sc, sg;

  /** A backward for {@code p3}'s plan (its blocks, P / Q, D and scratch budget, read at each call). */
  public PackedThreePassBackward(PackedThreePass p3) {
    this.p3 = p3;
    this.h = p3.channels();
    this.l = p3.length();
    this.m = p3.points();
    this.n1 = m / PackedThreePass.INNER;
  }

  /**
   * Whether the op's plan runs the three-pass backward here ({@code -Dlongconv4j.p3.bwd}: "tc" (du, dk, dD here, the blocks'
   * Grams on the chain), anything else or unset: "chain", the fp32 chain for everything, the twin). Read per call.
   */
  static boolean enabled() { return "tc".equals(System.getProperty("longconv4j.p3.bwd")); }

  /** Channels per chunk: whole channels, as many as the plan's scratch budget holds in each of the two 16-bit scratches. */
  int chunkChannels(int B) {
    long perChannel = 4L * m * B;
    return (int) Math.max(1, Math.min(Math.min(h, p3.scratchBudgetBytes() / perChannel), 65535 / B));
  }

  /**
   * du (B, H, L), gpq (H, M) float4 {dP, dQ} and dD (H) fp32 for the gradient dy of y = forward(u); queued on the device's
   * stream (no synchronisation). du must not alias u or dy.
   */
  public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer gpq, DeviceBuffer dD) {
    if (!p3.weightsSet()) throw new IllegalStateException("PackedThreePassBackward.backward: call the plan's setWeights or setPq first");
    ElementType io = p3.io();
    long need = (long) B * h * l * io.bytes();
    if (B < 1 || B > 65535 || u == null || dy == null || du == null || u.bytes() < need || dy.bytes() < need || du.bytes() < need)
      throw new IllegalArgumentException("PackedThreePassBackward.backward: u, dy, du must hold (B=" + B + " in [1, 65535], H=" + h + ", L="
          + l + ") " + io + " = " + need + " bytes, got " + bytes(u) + ", " + bytes(dy) + " and " + bytes(du));
    if (gpq == null || gpq.bytes() < 16L * h * m || dD == null || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedThreePassBackward.backward: gpq must hold (H=" + h + ", M=" + m + ") float4 = " + 16L * h * m
          + " bytes and dD (H=" + h + ") fp32, got " + bytes(gpq) + " and " + bytes(dD));
    if (du == u || du == dy) throw new IllegalArgumentException("PackedThreePassBackward.backward: du must not alias u or dy");
    int hc = chunkChannels(B);
    long sbytes = 4L * m * hc * B;
    if (sc == null || sc.bytes() < sbytes) {
      close();
      CudaDevice dev = p3.device();
      sc = dev.alloc(sbytes);
      sg = dev.alloc(sbytes);
    }
    CudaDevice dev = p3.device();
    CudaStream s = dev.stream();
    String tag = io.tag();
    boolean tc = p3.outerTc16();
    CudaModule mb = dev.module(PackedThreePass.MODULE_B), mg = dev.module(MODULE);
    var fwd = mb.kernel((tc ? "lp3_outertc_fwd" : "lp3_outer16_fwd") + n1 + "_" + tag);
    var inv = mb.kernel((tc ? "lp3_outertc_inv" : "lp3_outer16_inv") + n1 + "_" + tag);
    var midA = mg.kernel("lp3g_midA_" + tag);
    var midB = mg.kernel("lp3g_midB_" + tag);
    var grad = mg.kernel("lp3g_pq_grad_" + tag);
    int lN1 = Integer.numberOfTrailingZeros(n1), smem = PackedThreePass.middleSmem(true);
    DeviceBuffer mf = p3.mats(false), ma = p3.mats(true), pf = p3.pq(false), pa = p3.pq(true);
    for (int h0 = 0; h0 < h; h0 += hc) {
      int chans = Math.min(hc, h - h0), c = chans * B;
      p3.outer(true, fwd, tc, u, mf, sc, null, h0, B, c);
      midA.launch(s, n1 / 2, c, THREADS, smem, sc, mf, pf, h0, B, h, lN1);
      p3.outer(true, fwd, tc, dy, ma, sg, null, h0, B, c);
      midA.launch(s, n1 / 2, c, THREADS, smem, sg, ma, pa, h0, B, h, lN1);
      long points = (long) chans * m;
      int blocks = (int) Math.min((points + THREADS - 1) / THREADS, 65535L * 16);
      grad.launch(s, blocks, 1, THREADS, 0, sc, sg, gpq, h0, chans, B, lN1, (float) m);
      midB.launch(s, n1 / 2, c, THREADS, smem, sg, ma, pa, h0, B, h, lN1);
      p3.outer(false, inv, tc, dy, ma, sg, du, h0, B, c);
    }
    dev.module(DDOT_MODULE).kernel("lpj_ddot_" + tag).launch(s, h, 1, 256, 0, u, dy, dD, B, h, l);
  }

  private static String bytes(DeviceBuffer b) { return b == null ? "null" : Long.toString(b.bytes()); }

  @Override public void close() {
    if (sc != null) { sc.close(); sc = null; }
    if (sg != null) { sg.close(); sg = null; }
  }

  @Override public String toString() {
    return "PackedThreePassBackward[H=" + h + ", L=" + l + ", M=" + m + " = " + n1 + " x 8192, outer passes on "
        + (p3.outerTc16() ? "tensor" : "CUDA") + " cores, du / dP, dQ / dD on tensor cores, block gradients not here]";
  }
}
