// Shapes: B batch, H features, L length, Lk = L taps. u, y, dy, du: (B, H, L) device arrays of the plan's ElementType;
//   k (H, L) fp32, D (H) fp32; dk (H, L) fp32, dD (H) fp32; blocks: the 2J (R_s, R_s, 2) blocks in lib's layout.
package ai.longconv4j.cuda;

/**
 * Session 17 (helper opfix): the bare plan that the learned J-factor tensor op ({@code ConvOps.learnedPackedConv} on 16-bit
 * device tensors, {@link CudaLearnedConv#runMonarch}) runs, for benches outside this package (OpVsPlan: the op against its
 * plan). {@link PackedMonarchLearned} stays package-private; this hands out its forward and backward only.
 */
public final class BarePlans {
  private BarePlans() {}

  /** A plan's forward and backward on device arrays (weights and blocks already set). */
  public interface Bare extends AutoCloseable {
    void forward(DeviceBuffer u, DeviceBuffer y, int b);

    void backward(DeviceBuffer u, DeviceBuffer dy, int b, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD);

    @Override void close();
  }

  /**
   * The op's J-factor plan for (H, L, Lk = L, mode, io) with these blocks (lib's layout, e.g. at the exact DFT), one-sided
   * taps k (H, L) and D (H) set from the host; null where {@link PackedMonarchLearned#supports} says no (the op then
   * takes another route).
   */
  public static Bare packedMonarch(CudaDevice dev, int h, int l, ConvMode mode, ElementType io, double[][] blocks, float[] k, float[] d) {
    if (!PackedMonarchLearned.supports(l, l, mode, io)) return null;
    PackedMonarchLearned p = PackedMonarchLearned.plan(dev, h, l, l, mode, io);
    try {
      p.setBlocks(blocks);
      p.setWeights(k, d);
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return new Bare() {
      @Override public void forward(DeviceBuffer u, DeviceBuffer y, int b) { p.forward(u, y, b); }

      @Override public void backward(DeviceBuffer u, DeviceBuffer dy, int b, DeviceBuffer du, DeviceBuffer dk, DeviceBuffer dD) {
        p.backward(u, dy, b, du, dk, dD);
      }

      @Override public void close() { p.close(); }

      @Override public String toString() { return p.toString(); }
    };
  }
}
