// Shapes: B batch, H channels, L length, Lk taps per side; M = N / 2 = R_1 x .. x R_J (J >= 3: M = 2048 .. 32768 one pass,
//   M = 65536 .. 262144 three passes).
//   u, y, dy, du (B, H, L) BF16 / F16 device arrays; k (H, Lk) per side fp32; D, dD (H) fp32; blocks {F_1 .. F_J, G_J .. G_1}.
package ai.longconv4j.cuda;

import java.util.Arrays;

/**
 * The tensor op's plan for the J-factor packed learned butterfly (engine LEARNED_PACKED, 16-bit I/O, M = 2048 .. 2^18): the
 * forward on tensor cores ({@link PackedMonarchConv}, one fused kernel per row, M = 2048 .. 32768; {@link PackedThreePass},
 * three passes, M = 65536 .. 262144), P / Q on the device by
 * cuFFT; the backward (du, dk, dD, the 2J block gradients) at the one-pass sizes on tensor cores by default (helper
 * pkjbwd: {@link PackedMonarchBackward#run}, dk from its dP / dQ by the chain's cuFFT route; slow twin
 * {@code -Dlongconv4j.pk.monarch.bwd=false}), at the three-pass sizes on tensor cores too ({@link PackedThreePassBackward},
 * since session 18; slow twin: the fp32 global-memory path {@link PackedLearnedChain}), all fed the same blocks and taps. The chain computes P / Q and D once per
 * {@code setWeights}; the tensor-core plan copies them device to device ({@link PackedMonarchConv#setPq}), so the two agree
 * on the operands. The chain's backward (its du, dk, dD and block Grams are tested against lib's float64 there) is the
 * tensor-core backward's slow twin. At the three-pass sizes (helper p3, session 17; helper p3tc, session 18: the block
 * gradients too, the default) {@link PackedThreePassBackward} gives du, dk, dD and the 2J block gradients on tensor cores;
 * {@code -Dlongconv4j.p3.bwd=chain}: the fp32 chain for everything (the slow twin).
 * {@code -Dlongconv4j.pk.monarch=false}: no tensor cores here, the chain's forward too (the slow twin).
 * Helper pkdev (session 15): the device setters {@link #setBlocksOnDevice} / {@link #setWeightsOnDevice} (the tensor op's
 * default route: blocks, taps and D device to device, P / Q by the chain's cuFFT route, no synchronisation), the
 * {@link #generation} of the uploads and the op's key of its kept inputs ({@link #keptInputs}); the host setters stay
 * as their slow twin.
 * <pre>{@code
 * jshell> var p = PackedMonarchLearned.plan(dev, 768, 4096, 4096, ConvMode.CAUSAL, ElementType.BF16)
 * p ==> PackedMonarchLearned[forward PackedMonarchConv[...], backward PackedLearnedChain[...]]
 * }</pre>
 */
final class PackedMonarchLearned implements LearnedPlan, AutoCloseable {
  /** Whether the tensor op routes the one-pass J-factor sizes here ({@code -Dlongconv4j.pk.monarch}, default true). */
  static boolean enabled() { return !"false".equals(System.getProperty("longconv4j.pk.monarch")); }

  private final PackedLearnedChain chain;
  private final PackedMonarchConv tc;      // one pass, or null
  private final PackedThreePass three;     // three passes, or null
  private final PackedThreePass inner;     // one pass at M = 2048 .. 32768: the inner-only plan of the middle route's backward, or null

  private PackedMonarchLearned(PackedLearnedChain chain, PackedMonarchConv tc, PackedThreePass three, PackedThreePass inner) {
    this.chain = chain;
    this.tc = tc;
    this.three = three;
    this.inner = inner;
  }

  /** Whether {@link #plan} takes (L, Lk, mode, io): {@link PackedMonarchConv#supports}, or the three-pass sizes. */
  static boolean supports(int L, int Lk, ConvMode mode, ElementType io) {
    return PackedMonarchConv.supports(L, Lk, mode, io) || threePass(L, Lk, mode, io);
  }

  /** {@link PackedThreePass#plan}'s checks without a device: 16-bit, 1 <= Lk <= L, circular L a power of two, M = 64K .. 256K. */
  static boolean threePass(int L, int Lk, ConvMode mode, ElementType io) {
    if (mode == null || L < 1 || Lk < 1 || Lk > L || (io != ElementType.BF16 && io != ElementType.F16)) return false;
    if (mode == ConvMode.CIRCULAR && Integer.bitCount(L) != 1) return false;
    long m = PackedThreePass.fftSizeLong(L, Lk, mode) / 2;
    return m >= PackedThreePass.MIN_M && m <= PackedThreePass.MAX_M;
  }

  static PackedMonarchLearned plan(CudaDevice device, int h, int l, int lk, ConvMode mode, ElementType io) {
    if (!supports(l, lk, mode, io))
      throw new IllegalArgumentException("PackedMonarchLearned: no tensor-core plan for " + mode + " L=" + l + " Lk=" + lk + " io=" + io
          + " (bf16 / fp16, M = N/2 in 2048 .. 32768)");
    var p = ai.longconv4j.conv.ConvPlan.of(l, lk, LearnedButterflyConv.libMode(mode), ai.longconv4j.conv.ConvEngine.LEARNED_PACKED,
        ai.longconv4j.conv.Precision.F64);
    int[] f = p.factors().stream().mapToInt(Integer::intValue).toArray();
    boolean one = PackedMonarchConv.supports(l, lk, mode, io);
    PackedMonarchConv tc = one ? PackedMonarchConv.plan(device, h, l, lk, mode, io) : null;
    PackedThreePass three = one ? null : PackedThreePass.plan(device, h, l, lk, mode, io);
    AutoCloseable fwd = one ? tc : three;
    int[] tf = one ? tc.factors() : three.factors();
    try {
      if (!Arrays.equals(f, tf))
        throw new IllegalStateException("PackedMonarchLearned: lib plans " + p + " but the tensor-core kernels factor M as " + Arrays.toString(tf));
      var chain = PackedLearnedChain.plan(device, h, l, lk, mode, io, p, f);
      try {
        PackedThreePass inner = one && tc.points() >= PackedThreePass.INNER / 4 ? PackedThreePass.innerOnly(device, h, l, lk, mode, io) : null;
        return new PackedMonarchLearned(chain, tc, three, inner);
      } catch (RuntimeException e) {
        chain.close();
        throw e;
      }
    } catch (RuntimeException e) {
      try { fwd.close(); } catch (Exception ignored) { }
      throw e;
    }
  }

  @Override public int[] factors() { return chain.factors(); }

  @Override public PackedMonarchLearned setBlocks(double[][] blocks) {
    chain.setBlocks(blocks);
    if (tc != null) tc.setBlocks(blocks); else three.setBlocks(blocks);
    if (inner != null) inner.setBlocks(blocks);
    generation++;
    return this;
  }

  @Override public PackedMonarchLearned setWeights(float[] k, float[] D) {
    chain.setWeights(k, D);
    pq();
    generation++;
    return this;
  }

  @Override public PackedMonarchLearned setWeights(float[] k0, float[] k1, float[] D) {
    chain.setWeights(k0, k1, D);
    pq();
    generation++;
    return this;
  }

  // ---- helper pkdev (session 15): the tensor op's device route (CudaLearnedConv.runMonarch)
  private long generation;

  /**
   * The uploads so far (every setter, host or device, moves it on). The tensor op records it after its forward's uploads;
   * its backward re-uploads the forward's taps, D and blocks only when it moved (another op of this shape, e.g. another
   * layer, set the plan in between), as {@link PackedLearnedConv#generation}.
   */
  long generation() { return generation; }

  /**
   * The 2J blocks from device addresses (fp32 complex (R_s, R_s, 2), lib's order {F_1 .. F_J, G_J .. G_1}) into the chain
   * and the tensor-core plan, device to device (the tensor-core plan prepares its forms on the device); no host copy, no
   * synchronisation. The device twin of {@link #setBlocks}.
   */
  PackedMonarchLearned setBlocksOnDevice(DevicePointer[] b) {
    chain.setBlocksOnDevice(b);
    if (tc != null) tc.setBlocksOnDevice(b); else three.setBlocksOnDevice(b);
    if (inner != null) inner.setBlocksOnDevice(b);
    generation++;
    return this;
  }

  /**
   * Taps and D from device addresses ({@link PackedLearnedChain#setWeightsOnDevice}: k0, k1 (BIDIRECTIONAL, else null) of
   * (H, Lk) fp32, D of (H) fp32 or null): P / Q by the chain's cuFFT route, copied device to device into the tensor-core
   * plan; no host copy, no synchronisation. The device twin of {@link #setWeights}.
   */
  PackedMonarchLearned setWeightsOnDevice(DevicePointer k0, DevicePointer k1, DevicePointer D) {
    chain.setWeightsOnDevice(k0, k1, D);
    pq();
    generation++;
    return this;
  }

  private Object inputs;              // the tensor op's key of the last device upload's sources (CudaLearnedConv.Src[])
  private long inputsGeneration = -1, deviceUploads;

  /** The op's key of the sources of the last device upload, or null when the plan was set since (any setter). */
  Object keptInputs() { return inputsGeneration == generation ? inputs : null; }

  /** Records the op's key of the sources just uploaded (after {@link #setBlocksOnDevice} and {@link #setWeightsOnDevice}). */
  void keepInputs(Object key) {
    inputs = key;
    inputsGeneration = generation;
    deviceUploads++;
  }

  /** Device uploads recorded by {@link #keepInputs} (for tests: whether a call reused the kept P / Q and blocks). */
  long deviceUploads() { return deviceUploads; }

  private void pq() {
    if (tc != null) tc.setPq(chain.pq().ptr(), chain.adjointPq().ptr(), chain.skip().ptr());
    else three.setPq(chain.pq().ptr(), chain.adjointPq().ptr(), chain.skip().ptr());
    if (inner != null) inner.borrow(chain.pq(), chain.adjointPq(), chain.skip());   // it reads the chain's P / Q and D themselves
  }

  /**
   * Whether the one-pass M = 16384 / 32768 forward runs as three passes on the backward's kernels (an outer pass, the
   * middles four inner rows a block, the outer inverse; session 22) rather than {@link PackedMonarchConv#forward} (the
   * one-pass kernel): {@code -Dlongconv4j.pk.quadfwd}, "true" / "false"; unset: at M = 32768 only (bench-runs/s22 s7), and there
   * only where the one-pass plan has no M = 32768 y kernel ({@code wide32}: {@link PackedMonarchConv#wide32(boolean)}, session 29).
   * Read per call.
   */
  static boolean quadForward(int m, boolean wide32) {
    String v = System.getProperty("longconv4j.pk.quadfwd");
    if (v == null) return m == 32768 && !wide32;
    return LearnedDefaults.twoWay("longconv4j.pk.quadfwd", "true", "false");
  }

  /** y on tensor cores, or on the chain when {@code -Dlongconv4j.pk.monarch=false}. */
  @Override public void forward(DeviceBuffer u, DeviceBuffer y, int B) {
    if (!enabled()) chain.forward(u, y, B);
    else if (tc != null && inner != null && inner.quad() && quadForward(inner.points(), tc.wide32Active())) inner.forward(u, y, B);
    else if (tc != null) tc.forward(u, y, B);
    else three.forward(u, y, B);
  }

  /**
   * Whether the one-pass sizes' backward runs on tensor cores ({@link PackedMonarchBackward#run}, helper pkjbwd;
   * {@code -Dlongconv4j.pk.monarch.bwd}, default true; false, or {@code -Dlongconv4j.pk.monarch=false}: the chain's fp32
   * backward, its slow twin). Read per call.
   */
  static boolean tcBackward() { return enabled() && !"false".equals(System.getProperty("longconv4j.pk.monarch.bwd")); }

  private boolean lastTc;            // whether the last backward ran on tensor cores (blockGrads reads that plan's)
  private boolean last3;             // whether it ran on the three-pass tensor-core route (PackedThreePassBackward)

  /**
   * du, dk, dD and the 2J block gradients: one pass on tensor cores by default (du, dP / dQ, dD, block Grams from
   * {@link PackedMonarchBackward#run}; dk from dP / dQ by the chain's cuFFT route), three passes on tensor cores by default
   * ({@link PackedThreePassBackward}), else (the slow twins {@link #tcBackward} false, {@code -Dlongconv4j.p3.bwd=chain}) the
   * fp32 chain. Synchronises (the chain's dk route does).
   */
  @Override public void backward(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
    lastTc = tc != null && tcBackward();
    last3 = (three != null && enabled() && PackedThreePassBackward.enabled()) || (lastTc && inner != null && innerRoute());
    if (last3) { backward3(u, dy, B, du, dk, dD); return; }
    if (!lastTc) { chain.backward(u, dy, B, du, dk, dD); return; }
    int sides = tc.mode() == ConvMode.BIDIRECTIONAL ? 2 : 1, h = tc.channels(), lk = tc.taps();
    if (dk == null || dD == null || dk.bytes() < 4L * sides * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedMonarchLearned.backward: dk must hold (" + (sides == 2 ? "2, " : "") + "H=" + h + ", Lk=" + lk
          + ") fp32 = " + 4L * sides * h * lk + " bytes and dD (H=" + h + ") fp32 = " + 4L * h + " bytes, got "
          + (dk == null ? "null" : dk.bytes()) + " and " + (dD == null ? "null" : dD.bytes()));
    var bwd = tc.backward();
    bwd.run(u, dy, B, du, bwd.pairGradWorkspace(), dD);
    chain.taps(bwd.pairGradWorkspace(), dk, sides);   // lpj_dk_spec, cuFFT C2R, lpj_taps
  }

  /**
   * Whether the one-pass M = 2048 .. 32768 backwards run on the three-pass middles ({@link PackedThreePass#innerOnly} with
   * {@link PackedThreePassBackward}: lib's factors {2, 16, 16, 16} are the middle's, {16, 16, 16} its radix-16 stages;
   * session 21; {N1, 16, 16, 16} at 16384 / 32768 an outer pass and those stages, {8, 16, 16} at 2048 an outer pass and the
   * last two, session 22) rather than
   * {@link PackedMonarchBackward#run} (the twin): {@code -Dlongconv4j.pk.inner}, "middle" or "pmb";
   * read per call.
   */
  static boolean innerRoute() { return LearnedDefaults.twoWay("longconv4j.pk.inner", "middle", "pmb"); }

  // ---- helper p3 (session 17), p3tc (session 18): the three-pass sizes' backward on tensor cores (default;
  // -Dlongconv4j.p3.bwd=chain: the chain, the twin)
  private PackedThreePassBackward bw3;
  private DeviceBuffer gpq3;

  /**
   * du, dk, dD and the 2J block gradients by {@link PackedThreePassBackward} (dk from its dP / dQ by the chain's cuFFT
   * route); no chain backward, no B H L-sized temporaries (the backward's chunk buffers are kept).
   */
  private void backward3(DeviceBuffer u, DeviceBuffer dy, int B, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
    PackedThreePass three = this.three != null ? this.three : inner;
    int sides = three.mode() == ConvMode.BIDIRECTIONAL ? 2 : 1, h = three.channels(), lk = three.taps(), m = three.points();
    if (dk == null || dD == null || dk.bytes() < 4L * sides * h * lk || dD.bytes() < 4L * h)
      throw new IllegalArgumentException("PackedMonarchLearned.backward: dk must hold (" + (sides == 2 ? "2, " : "") + "H=" + h + ", Lk=" + lk
          + ") fp32 = " + 4L * sides * h * lk + " bytes and dD (H=" + h + ") fp32 = " + 4L * h + " bytes, got "
          + (dk == null ? "null" : dk.bytes()) + " and " + (dD == null ? "null" : dD.bytes()));
    CudaDevice dev = three.device();
    if (bw3 == null) bw3 = new PackedThreePassBackward(three);
    if (gpq3 == null) gpq3 = dev.alloc(16L * h * m);
    var ph = PackedThreePassBackward.Phases.ifWanted(dev);
    if (ph != null) ph.mark(null);
    bw3.backward(u, dy, B, du, gpq3, dD);
    if (ph != null) ph.mark("PackedThreePassBackward");
    chain.taps(gpq3, dk, sides);   // lpj_dk_spec, cuFFT C2R, lpj_taps (queued)
    if (ph != null) {
      ph.mark("dk (taps)");
      ph.print("p3 op backward3 (ms) H=" + h + " M=" + m + ":");
    }
  }

  @Override public double[][] blockGrads() {
    return last3 ? bw3.blockGrads() : lastTc ? tc.backward().blockGrads() : chain.blockGrads();
  }

  /** The three-pass backward of this plan (also the M = 2048 .. 32768 middle route's), or null (none has run): for tests and benches. */
  PackedThreePassBackward threePassBackward() { return bw3; }

  /** The inner-only plan of the M = 2048 .. 32768 middle route, or null (other sizes): for tests (its scratch budget). */
  PackedThreePass innerPlan() { return inner; }

  @Override public void close() {
    if (tc != null) tc.close(); else three.close();
    if (inner != null) inner.close();
    if (bw3 != null) bw3.close();
    if (gpq3 != null) gpq3.close();
    chain.close();
  }

  @Override public String toString() {
    return "PackedMonarchLearned[forward " + (tc != null ? tc : three) + ", backward "
        + (three != null && PackedThreePassBackward.enabled() ? "PackedThreePassBackward (twin " + chain + ")" : chain) + "]";
  }
}
