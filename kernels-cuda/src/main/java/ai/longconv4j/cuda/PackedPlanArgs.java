// Shapes: H channels, L length, Lk taps; f the factors R_1 .. R_J of M = N / 2; blocks 2J complex (R_s, R_s, 2) in lib's order
// {F_1 .. F_J, G_J .. G_1}; P / Q (H, M) float4 and its adjoint layout; D (H) fp32.
package ai.longconv4j.cuda;

/**
 * The argument checks and device copies the packed learned plans share ({@link PackedMonarchConv}, {@link PackedThreePass},
 * {@link PackedLearnedChain}): each refusal an {@link IllegalArgumentException} naming the caller, the value and the plan's size.
 */
final class PackedPlanArgs {
  private PackedPlanArgs() {}

  /**
   * The plan's argument checks ({@code cls} the class the messages name,
   * {@code circular} its covered circular L): H in [1, 65535], 1 &lt;= Lk &lt;= L, a mode, bf16 / fp16 I/O, circular L a
   * power of two; each refusal an {@link IllegalArgumentException} naming the value.
   */
  static void checkPlan(String cls, int H, int L, int Lk, ConvMode mode, ElementType io, String circular) {
    if (H < 1 || H > 65535) throw new IllegalArgumentException(cls + ": H must be in [1, 65535], got " + H);
    if (L < 1 || Lk < 1 || Lk > L) throw new IllegalArgumentException(cls + ": need 1 <= Lk <= L, got Lk=" + Lk + ", L=" + L);
    if (mode == null) throw new IllegalArgumentException(cls + ": mode is null (L=" + L + ")");
    if (io != ElementType.BF16 && io != ElementType.F16)
      throw new IllegalArgumentException(cls + " " + mode + " L=" + L + ": tensor-core kernels take bf16 / fp16 I/O, got " + io);
    if (mode == ConvMode.CIRCULAR && Integer.bitCount(L) != 1)
      throw new IllegalArgumentException(cls + " CIRCULAR L=" + L + ": the circular FFT size is exactly L, a power of two"
          + " (covered: L = " + circular + ")");
  }

  /**
   * The 2J blocks {F_1 .. F_J, G_J .. G_1} of factors f (lib's layout) as one fp32 array; IllegalArgumentException naming
   * {@code who}, the block, its shape and {@code what} (the plan's size) for a wrong count, shape or a non-finite value.
   */
  static float[] flattenBlocks(String who, double[][] b, int[] f, String what) {
    int j = f.length;
    if (b == null || b.length != 2 * j)
      throw new IllegalArgumentException(who + ".setBlocks: need " + 2 * j + " blocks {F_1 .. F_" + j + ", G_" + j + " .. G_1} for " + what
          + ", got " + (b == null ? "null" : b.length));
    int total = 0;
    for (int r : f) total += 2 * r * r;
    float[] flat = new float[2 * total];
    int off = 0;
    for (int i = 0; i < 2 * j; i++) {
      int r = i < j ? f[i] : f[2 * j - 1 - i];
      if (b[i] == null || b[i].length != 2 * r * r)
        throw new IllegalArgumentException(who + ".setBlocks: block " + i + " must be (" + r + ", " + r + ", 2) = " + 2 * r * r
            + " values for " + what + ", got " + (b[i] == null ? "null" : b[i].length));
      for (double v : b[i]) {
        if (!Double.isFinite(v)) throw new IllegalArgumentException(who + ".setBlocks: block " + i + " holds " + v);
        flat[off++] = (float) v;
      }
    }
    return flat;
  }

  /**
   * Copies the 2J blocks of factors f from device addresses b into {@code blocks} (lib's order, back to back) on the device's
   * stream; IllegalArgumentException naming {@code who} and {@code what} for a wrong count or a null address.
   */
  static void copyBlocksOnDevice(String who, CudaDevice device, DeviceBuffer blocks, DevicePointer[] b, int[] f, String what) {
    int j = f.length;
    if (b == null || b.length != 2 * j || java.util.Arrays.asList(b).contains(null))
      throw new IllegalArgumentException(who + ".setBlocksOnDevice: need " + 2 * j + " block addresses for " + what + ", got "
          + (b == null ? "null" : java.util.Arrays.toString(b)));
    device.makeCurrent();
    CudaStream s = device.stream();
    for (int i = 0, off = 0; i < 2 * j; i++) {
      int r = i < j ? f[i] : f[2 * j - 1 - i];
      Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(blocks.ptr().at(8L * off), b[i], 8L * r * r, s.cu()), "cuMemcpyDtoDAsync",
          "block " + i + " (" + r + ", " + r + ", 2)", "device " + device.index());
      off += r * r;
    }
  }

  /**
   * P / Q (H, M) float4, its adjoint layout and D (H) fp32 (null: zeros) copied device to device into a plan's tables on the
   * device's stream, no synchronisation; IllegalArgumentException naming {@code who} for a null table.
   */
  static void copyPq(String who, CudaDevice device, int h, int m, DeviceBuffer pq, DeviceBuffer pqAdj, DeviceBuffer d, DevicePointer p,
      DevicePointer pAdj, DevicePointer D) {
    if (p == null || pAdj == null)
      throw new IllegalArgumentException(who + ".setPq: needs both (H=" + h + ", M=" + m + ") float4 buffers, got " + p + ", " + pAdj);
    device.makeCurrent();
    CudaStream s = device.stream();
    Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(pq.ptr(), p, 16L * h * m, s.cu()), "cuMemcpyDtoDAsync", "P / Q (H=" + h + ", M=" + m + ")");
    Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(pqAdj.ptr(), pAdj, 16L * h * m, s.cu()), "cuMemcpyDtoDAsync", "adjoint P / Q");
    if (D == null) Check.cu(jcuda.driver.JCudaDriver.cuMemsetD32Async(d.ptr(), 0, h, s.cu()), "cuMemsetD32Async", "D of H=" + h);
    else Check.cu(jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(d.ptr(), D, 4L * h, s.cu()), "cuMemcpyDtoDAsync", "D of H=" + h);
  }
}
