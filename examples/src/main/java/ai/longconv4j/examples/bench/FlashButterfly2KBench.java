// Shapes: B batch, H channels, L length, N FFT size (causal, N = 512 - 2K). u, y: (B, H, L); k: (H, L) fp32; D: (H) fp32.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.Cuda;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceBuffer;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The causal N = 512 - 2K forward of flashbutterfly2k.cu ({@code fb2k}, the default route of 16-bit plans there on
 * sm_90) against its twin, the _w3 kernels ({@code fb2k(false)}), in one process: bf16 and fp16 I/O, then fb2k's other
 * launch shapes (warps per block x pairs per warp, through -Dlongconv4j.cuda.fb2k.warps / .perwarp, read when a plan's
 * kernel object is made), the _ht kernels (-Dlongconv4j.cuda.fb2k.tw=half: half2 twiddle table), the _hp kernels
 * (tw=hp: the half2 table in shared memory, pipelined loads), backwardInput new vs old, and fp32 I/O (not routed: the same kernels either
 * way). With a fifth argument "twiddles" only the twiddle comparison: per I/O type _w3, the fp32 table, _ht, _hp, then
 * backwardInput bf16 fb2k vs _hp. Every row's forward is validated against a float64 direct convolution
 * of sampled rows (outputs poisoned first) before it is timed (CUDA events, 3 warm-ups, median of 60;
 * {@link CudaConvBench#median}).
 * Usage: FlashButterfly2KBench [csv-out] [B] [H] [L,L,...] [all|twiddles|hp] (hp: _ht vs _hp vs _hw only)
 */
public final class FlashButterfly2KBench {
  private FlashButterfly2KBench() {}

  private static final String WARPS = "longconv4j.cuda.fb2k.warps", PER = "longconv4j.cuda.fb2k.perwarp",
      TW = "longconv4j.cuda.fb2k.tw";

  public static void main(String[] args) throws IOException {
    String mode = args.length > 4 ? args[4] : "all";
    FlashButterflyFwdBench.run("FlashButterfly2KBench", args, new int[] {1024, 256}, (dev, B, H, L, rows) -> length(dev, B, H, L,
        mode.equals("twiddles") ? twiddleVariants() : mode.equals("hp") ? pipelinedVariants() : variants(), rows));
  }

  /**
   * {io, fb2k on, warps (0: default; -1 / -2 / -3 / -4: default shape, the _ht / table / _hp / _hw kernels), pairs per
   * warp (0: default), backwardInput}.
   */
  static List<Object[]> variants() {
    List<Object[]> v = new ArrayList<>();
    for (var io : new ElementType[] {ElementType.BF16, ElementType.F16}) {
      v.add(new Object[] {io, false, 0, 0, false});
      v.add(new Object[] {io, true, 0, 0, false});
    }
    for (int[] s : new int[][] {{4, 2}, {4, 4}, {4, 8}, {8, 2}, {8, 8}, {6, 4}, {2, 4}})
      v.add(new Object[] {ElementType.BF16, true, s[0], s[1], false});
    for (var io : new ElementType[] {ElementType.BF16, ElementType.F16}) {   // the _ht, _hp kernels, default shape
      v.add(new Object[] {io, true, -1, 0, false});
      v.add(new Object[] {io, true, -3, 0, false});
    }
    v.add(new Object[] {ElementType.BF16, false, 0, 0, true});
    v.add(new Object[] {ElementType.BF16, true, 0, 0, true});
    v.add(new Object[] {ElementType.F32, true, 0, 0, false});
    return v;
  }

  /** The twiddle comparison only: per I/O type _w3, the fp32 table, _ht, _hp; backwardInput bf16 fb2k vs _hp. */
  static List<Object[]> twiddleVariants() {
    List<Object[]> v = new ArrayList<>();
    for (var io : new ElementType[] {ElementType.BF16, ElementType.F16}) {
      v.add(new Object[] {io, false, 0, 0, false});
      for (int w : new int[] {-2, -1, -3}) v.add(new Object[] {io, true, w, 0, false});
    }
    v.add(new Object[] {ElementType.BF16, true, 0, 0, true});
    v.add(new Object[] {ElementType.BF16, true, -3, 0, true});
    return v;
  }

  /**
   * The pipelined loads (session 8, f1k): per I/O type _ht (session 7's default), _hp and _hw (the default now), twice in
   * alternation (the spread between the repeats is the sitting's noise), _hw bf16 at 4 x 4 and 8 x 2 warps x pairs, then
   * backwardInput bf16 _ht vs _hp vs _hw. A sixth element names the twiddle source of a row with an explicit launch shape.
   */
  static List<Object[]> pipelinedVariants() {
    List<Object[]> v = new ArrayList<>();
    for (var io : new ElementType[] {ElementType.BF16, ElementType.F16})
      for (int rep = 0; rep < 2; rep++)
        for (int w : new int[] {-1, -3, -4}) v.add(new Object[] {io, true, w, 0, false});
    for (int[] s : new int[][] {{4, 4}, {8, 2}}) v.add(new Object[] {ElementType.BF16, true, s[0], s[1], false, "hw"});
    for (int w : new int[] {-1, -3, -4}) v.add(new Object[] {ElementType.BF16, true, w, 0, true});
    return v;
  }

  static void length(CudaDevice dev, int B, int H, int L, List<Object[]> variants, List<CudaConvBench.Row> rows) {
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    try (var u32 = dev.alloc(4 * n); var y32 = dev.alloc(4 * n); var u16 = dev.alloc(2 * n); var y16 = dev.alloc(2 * n)) {
      DeviceFill.uniform(dev, u32, n, ElementType.F32, 7L * L, 1f);
      ElementType filled = null;
      for (Object[] v : variants) {
        ElementType io = (ElementType) v[0];
        boolean on = (Boolean) v[1], bwd = (Boolean) v[4];
        int warps = (Integer) v[2], per = (Integer) v[3];
        Precision pr = io == ElementType.F16 ? Precision.F16 : Precision.BF16;
        if (io != ElementType.F32 && io != filled) { DeviceFill.uniform(dev, u16, n, io, 7L * L, 1f); filled = io; }
        DeviceBuffer u = io == ElementType.F32 ? u32 : u16, y = io == ElementType.F32 ? y32 : y16;
        if (warps > 0) { System.setProperty(WARPS, "" + warps); System.setProperty(PER, "" + per); }
        if (v.length > 5) System.setProperty(TW, (String) v[5]);
        if (warps < 0) System.setProperty(TW, new String[] {"half", "table", "hp", "hw"}[-warps - 1]);
        try (var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, pr).fb2k(on)) {
          conv.setWeights(k, L, D);
          y.fill32(0x7fc07fc0);
          conv.forward(u, y, B);   // makes the fb2k kernel object (reads the launch-shape properties)
          double err = CudaConvBench.validate(u, y, io, k, D, B, H, L);
          double ms = bwd ? CudaConvBench.median(dev, () -> conv.backwardInput(u, y, B), 60)
              : CudaConvBench.median(dev, () -> conv.forward(u, y, B), 60);
          String name = (bwd ? "fb-bwdInput" : "fb-fwd") + " io=" + io + (conv.fb2k() ? " fb2k" : " " + conv.kernelName())
              + (conv.fb2k() && warps > 0 ? " warps=" + warps + " per=" + per + (v.length > 5 ? " " + conv.kernelName() : "") : "") + (conv.fb2k() && warps < 0 ? " " + conv.kernelName() : "");
          rows.add(new CudaConvBench.Row(name, B, H, L, ms, 2.0 * n * io.bytes() / ms / 1e6, err, 0));
          CudaConvBench.report(rows.getLast());
        } finally {
          System.clearProperty(WARPS); System.clearProperty(PER); System.clearProperty(TW);
        }
      }
    }
  }
}
