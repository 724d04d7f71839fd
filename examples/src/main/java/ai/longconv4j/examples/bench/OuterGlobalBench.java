// Shapes: B batch, H channels, L length, N FFT size. u, y: (B, H, L); k: (H, L) fp32; D: (H) fp32.
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
 * The 8K / 16K-point forward with the outer stages from and to global memory ({@code outerGlobal(true)}, the fbog
 * kernels) against its twin ({@code outerGlobal(false)}: the _w3/_w3b kernels of round 8) in one sitting: causal, B = 64,
 * H = 768, each row validated against a float64 direct convolution of sampled rows (outputs poisoned first) before it is
 * timed (CUDA events, 3 warm-ups, median of 20; {@link CudaConvBench#median}). Rows per L: bf16 twin, the staged scheme at
 * the default (1), 2 and 4 batch pairs per block, the global scheme at 1 and 2, at 16K the global scheme with the
 * spectrum prefetch ({@code -Dlongconv4j.cuda.og.prefetch=on}), fp16 and fp32 I/O twin / staged / global, and
 * backwardInput (bf16) twin / staged (not validated here: its own test is). Every I/O type also runs "compute": the
 * staged scheme with computed outer twiddles (the {@code _twc} kernels, {@code -Dlongconv4j.cuda.og.tw=compute}).
 * With {@code -Dlongconv4j.bench.og.rows=twc} only the rows twin / staged table / staged compute per I/O type (bf16,
 * fp16, fp32) and backwardInput (bf16) run (the closing sitting's short list); with {@code rows=ru} the previous default
 * ("compute", the {@code _twc} kernels) against "ru" and "rua" (the {@code _ru} / {@code _rua} kernels,
 * {@code -Dlongconv4j.cuda.og.ru=on / all}, "rua" the default now; the other schemes run with {@code ru=off}): bf16 twice in mirrored order (the repeat shows the sitting's noise), fp16
 * and fp32 I/O and backwardInput (bf16) once; {@code rows=pairs}: {@code _rua} at 1, 2, 4 batch pairs per block;
 * {@code rows=rul}: "compute", "rua" and "rul" (the {@code _rul} kernels, {@code -Dlongconv4j.cuda.og.ru=lean}): bf16
 * twice in mirrored order, fp16 and backwardInput (bf16) once; {@code rows=rup}: "rul" against "rup" (the {@code _rup}
 * kernels, {@code -Dlongconv4j.cuda.og.ru=pre}) the same way; {@code rows=rus}: "rup" against "rus" (the {@code _rus}
 * kernels, {@code -Dlongconv4j.cuda.og.ru=sym}, N = 8K only: L = 4K causal) the same way, at N = 16K one "rus" row (the
 * level runs {@code _rup} there: a check that it routes, not a comparison); {@code rows=rut} (helper f4k5): "rus"
 * against "rut", "rut4" and "ruh" (the {@code _rut} / {@code _rut4} / {@code _ruh} kernels, {@code ru=tab / tab4 /
 * half}, N = 8K only) with bf16 in mirrored order (rus rut rut4 ruh ruh rut4 rut rus), fp16 and backwardInput (bf16)
 * once each, at N = 16K one row per scheme (all run {@code _rup} there); {@code rows=cmp:A,B,...} the same for the
 * schemes listed (bf16 A B .. B A; "A@p": p batch pairs per block). Other lengths run the default plan once (the route does not apply there: a no-regression row).
 * Usage: OuterGlobalBench [csv-out] [B] [H] [L,L,...]
 */
public final class OuterGlobalBench {
  private OuterGlobalBench() {}

  public static void main(String[] args) throws IOException {
    FlashButterflyFwdBench.run("OuterGlobalBench", args, new int[] {4096, 8192}, OuterGlobalBench::length);
  }

  /**
   * {io, outerGlobal, pairs per block (0: default; -1: default with the spectrum prefetch), adjoint, scheme ("staged",
   * "global", "compute": staged with computed twiddles, "ru" / "rua" / "rul": compute with the {@code _ru} /
   * {@code _rua} / {@code _rul} kernels, "rup" / "rus" the {@code _rup} / {@code _rus} ones; null: the default)}; {@code rows}: "twc", "ru", "rul", "rup", "rus" or "pairs" for the short
   * lists, else null.
   */
  static List<Object[]> variants(int n, String rows) {
    List<Object[]> v = new ArrayList<>();
    if (n != 8192 && n != 16384) { v.add(new Object[] {ElementType.BF16, true, 0, false, null}); return v; }
    if ("ru".equals(rows)) {
      for (String s : new String[] {"compute", "ru", "rua", "rua", "ru", "compute"})
        v.add(new Object[] {ElementType.BF16, true, 0, false, s});
      for (var io : new ElementType[] {ElementType.F16, ElementType.F32})
        for (String s : new String[] {"compute", "ru", "rua"}) v.add(new Object[] {io, true, 0, false, s});
      for (String s : new String[] {"compute", "ru", "rua"}) v.add(new Object[] {ElementType.BF16, true, 0, true, s});
      return v;
    }
    if ("rul".equals(rows)) {
      for (String s : new String[] {"compute", "rua", "rul", "rul", "rua", "compute"})
        v.add(new Object[] {ElementType.BF16, true, 0, false, s});
      for (String s : new String[] {"compute", "rua", "rul"}) v.add(new Object[] {ElementType.F16, true, 0, false, s});
      for (String s : new String[] {"compute", "rua", "rul"}) v.add(new Object[] {ElementType.BF16, true, 0, true, s});
      return v;
    }
    if ("rup".equals(rows)) {   // helper f4k3: _rul (the default) against _rup
      for (String s : new String[] {"rul", "rup", "rup", "rul"}) v.add(new Object[] {ElementType.BF16, true, 0, false, s});
      for (String s : new String[] {"rul", "rup"}) v.add(new Object[] {ElementType.F16, true, 0, false, s});
      for (String s : new String[] {"rul", "rup"}) v.add(new Object[] {ElementType.BF16, true, 0, true, s});
      return v;
    }
    if ("rus".equals(rows)) {   // helper f4k4: _rup (the default) against _rus (N = 8K; at 16K "rus" runs _rup)
      if (n == 16384) { v.add(new Object[] {ElementType.BF16, true, 0, false, "rus"}); return v; }
      for (String s : new String[] {"rup", "rus", "rus", "rup"}) v.add(new Object[] {ElementType.BF16, true, 0, false, s});
      for (String s : new String[] {"rup", "rus"}) v.add(new Object[] {ElementType.F16, true, 0, false, s});
      for (String s : new String[] {"rup", "rus"}) v.add(new Object[] {ElementType.BF16, true, 0, true, s});
      return v;
    }
    if ("rut".equals(rows) || (rows != null && rows.startsWith("cmp:"))) {   // helper f4k5: _rus against the _rut family
      String[] s = "rut".equals(rows) ? new String[] {"rus", "rut", "rut4", "ruh"} : rows.substring(4).split(",");
      if (n == 16384) { for (String x : s) v.add(row(ElementType.BF16, false, x)); return v; }
      for (int i = 0; i < 2 * s.length; i++) v.add(row(ElementType.BF16, false, s[i < s.length ? i : 2 * s.length - 1 - i]));
      for (String x : s) v.add(row(ElementType.F16, false, x));
      for (String x : s) v.add(row(ElementType.BF16, true, x));
      return v;
    }
    if ("pairs".equals(rows)) {   // the default (_rua) at 1, 2, 4 batch pairs per block, and _twc at 1
      for (int p : new int[] {1, 2, 4, 1}) v.add(new Object[] {ElementType.BF16, true, p, false, "rua"});
      v.add(new Object[] {ElementType.BF16, true, 1, false, "compute"});
      for (int p : new int[] {1, 2}) v.add(new Object[] {ElementType.F16, true, p, false, "rua"});
      for (int p : new int[] {1, 2}) v.add(new Object[] {ElementType.BF16, true, p, true, "rua"});
      return v;
    }
    if ("twc".equals(rows)) {
      for (var io : new ElementType[] {ElementType.BF16, ElementType.F16, ElementType.F32})
        for (String s : new String[] {null, "staged", "compute"}) v.add(new Object[] {io, s != null, 0, false, s});
      for (String s : new String[] {null, "staged", "compute"}) v.add(new Object[] {ElementType.BF16, s != null, 0, true, s});
      return v;
    }
    v.add(new Object[] {ElementType.BF16, false, 0, false, null});
    for (int p : new int[] {0, 2, 4}) v.add(new Object[] {ElementType.BF16, true, p, false, "staged"});
    v.add(new Object[] {ElementType.BF16, true, 0, false, "compute"});
    for (int p : new int[] {0, 2}) v.add(new Object[] {ElementType.BF16, true, p, false, "global"});
    if (n == 16384) v.add(new Object[] {ElementType.BF16, true, -1, false, "global"});
    for (var io : new ElementType[] {ElementType.F16, ElementType.F32}) {
      v.add(new Object[] {io, false, 0, false, null});
      v.add(new Object[] {io, true, 0, false, "staged"});
      v.add(new Object[] {io, true, 0, false, "global"});
      v.add(new Object[] {io, true, 0, false, "compute"});
    }
    v.add(new Object[] {ElementType.BF16, false, 0, true, null});
    v.add(new Object[] {ElementType.BF16, true, 0, true, "staged"});
    v.add(new Object[] {ElementType.BF16, true, 0, true, "compute"});
    return v;
  }

  /** A staged-scheme row of {@code x} = "scheme" or "scheme@p" (p batch pairs per block). */
  private static Object[] row(ElementType io, boolean adjoint, String x) {
    int at = x.indexOf('@');
    return new Object[] {io, true, at < 0 ? 0 : Integer.parseInt(x.substring(at + 1)), adjoint, at < 0 ? x : x.substring(0, at)};
  }

  static void length(CudaDevice dev, int B, int H, int L, List<CudaConvBench.Row> rows) {
    float[][] w = CudaConvBench.weights(H, L);
    float[] k = w[0], D = w[1];
    long n = (long) B * H * L;
    int nfft = FlashButterflyConv.fftSize(ConvMode.CAUSAL, L);
    try (var u32 = dev.alloc(4 * n); var y32 = dev.alloc(4 * n); var u16 = dev.alloc(2 * n); var y16 = dev.alloc(2 * n)) {
      DeviceFill.uniform(dev, u32, n, ElementType.F32, 7L * L, 1f);
      ElementType filled = null;
      for (Object[] v : variants(nfft, System.getProperty("longconv4j.bench.og.rows"))) {
        ElementType io = (ElementType) v[0];
        boolean adjoint = (Boolean) v[3];
        Precision pr = io == ElementType.F16 ? Precision.F16 : Precision.BF16;
        if (io != ElementType.F32 && io != filled) { DeviceFill.uniform(dev, u16, n, io, 7L * L, 1f); filled = io; }
        DeviceBuffer u = io == ElementType.F32 ? u32 : u16, y = io == ElementType.F32 ? y32 : y16;
        int pairs = (Integer) v[2];
        System.setProperty("longconv4j.cuda.og.prefetch", pairs < 0 ? "on" : "off");
        String scheme = (String) v[4];
        boolean twc = "compute".equals(scheme) || (scheme != null && scheme.startsWith("ru"));
        if (scheme != null) System.setProperty("longconv4j.cuda.og.scheme", scheme.equals("global") ? "global" : "staged");
        else System.clearProperty("longconv4j.cuda.og.scheme");
        System.setProperty("longconv4j.cuda.og.tw", twc ? "compute" : "table");
        System.setProperty("longconv4j.cuda.og.ru", scheme == null ? "off" : switch (scheme) {
          case "ru" -> "on"; case "rua" -> "all"; case "rul" -> "lean"; case "rup" -> "pre"; case "rus" -> "sym";
          case "rut" -> "tab"; case "rut4" -> "tab4"; case "ruh" -> "half"; case "ruh4" -> "half4"; case "ruhr" -> "halfr";
          default -> "off"; });
        try (var conv = FlashButterflyConv.plan(dev, H, L, ConvMode.CAUSAL, io, pr).outerGlobal((Boolean) v[1])
            .pairsPerBlock(Math.max(0, pairs))) {
          conv.setWeights(k, L, D);
          y.fill32(0x7fc07fc0);
          double err;
          if (adjoint) {   // the adjoint of a causal conv by k is the causal conv of the reversed rows: checked by its own test
            conv.backwardInput(u, y, B);
            err = Double.NaN;
          } else {
            conv.forward(u, y, B);
            err = CudaConvBench.validate(u, y, io, k, D, B, H, L);
            if (!(err <= 1e-2)) throw new IllegalStateException(conv + ": rel err " + err + " before timing");
          }
          double ms = CudaConvBench.median(dev, adjoint ? () -> conv.backwardInput(u, y, B) : () -> conv.forward(u, y, B), 20);
          long io2 = 2L * n * io.bytes();
          rows.add(new CudaConvBench.Row((adjoint ? "bwdInput" : "fwd") + " io=" + io + " " + conv.kernelName()
              + ((Boolean) v[1] && v[4] != null ? " " + v[4] : "") + (pairs > 0 ? " pairs/block=" + pairs : pairs < 0 ? " prefetch" : ""),
              B, H, L, ms, io2 / ms / 1e6, err, 0));
          CudaConvBench.report(rows.getLast());
        }
      }
      System.clearProperty("longconv4j.cuda.og.tw");
      System.clearProperty("longconv4j.cuda.og.ru");
    }
  }
}
