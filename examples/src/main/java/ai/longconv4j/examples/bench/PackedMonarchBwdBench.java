// Shapes: B batch, H channels, L length, Lk = L taps per side; u = dy, y, du: (B, H, L) bf16; k: (H, L) fp32 (bidirectional:
// k0, k1 (H, L) each; lib's layout (H, 2, L) for PackedMonarchConv.setTaps); D, dD: (H) fp32; dk (sides, H, L) fp32;
// dpq (H, M) float4.
package ai.longconv4j.examples.bench;

import ai.longconv4j.cuda.ConvMode;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.DeviceFill;
import ai.longconv4j.cuda.ElementType;
import ai.longconv4j.cuda.FlashButterflyConv;
import ai.longconv4j.cuda.PackedMonarchBackward;
import ai.longconv4j.cuda.PackedMonarchConv;
import ai.longconv4j.cuda.Precision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Session 14, helper pkjbwd: the plan-level forward + backward of the J-factor packed learned butterfly on tensor cores
 * ({@link PackedMonarchConv#forward} + {@link PackedMonarchBackward#run}: du, dP / dQ, dD and the 2J block Grams,
 * learned_pmb.cu) against FlashButterfly's ({@link FlashButterflyConv} forward + backwardInput + backwardWeights: du, dk,
 * dD) in one process, bf16, Lk = L. The packed rows leave out dk from dP / dQ (the chain's cuFFT route, package-private:
 * LearnedOpBench's op rows include it). Cases {@code mode:L} ({@code -Dlongconv4j.bench.pmb.cases}, default
 * causal:2048,causal:4096,causal:8192,causal:16384), paths in the order of {@code -Dlongconv4j.bench.pmb.order} (default
 * fb,pm). Per path: blocks at the DFT, dy = u, outputs NaN-poisoned, the forward and du of 3 sampled rows validated against a
 * float64 direct convolution and its adjoint ({@link PackedMonarchBench#validate}); then CUDA-event medians
 * ({@code CudaConvBench.median}, its warm-up; 20 runs) of fwd, bwd and fwd+bwd. Helper pkbwdopt (session 15): a pm path takes
 * backward options after slashes, {@code pm/fast=1/cap=80/t=128/g=2/fuse=1/skip=1/only=bwd/L=4096} (tuned=0|1:
 * {@link PackedMonarchBackward#tuned}, applied in the order given; the plain pm path: the plan's default; {@link PackedMonarchBackward#fast},
 * regCap, threads, groups, fuse, skip (timing only: its du is still validated, so a skip that changes du shows; its
 * block Grams are wrong and not checked here), only=bwd: the bwd row alone; L=4096+8192: those cases only; fb takes only and L).
 * Helper pmb (session 18): sg=1 ({@link PackedMonarchBackward#stageGram}), pt=1 ({@link PackedMonarchBackward#preTwiddle}); val=1 (any path) runs the validated forward and backward once and times nothing (one launch of
 * each kernel for Nsight Compute). Usage: PackedMonarchBwdBench [csv-out] [B] [H].
 */
public final class PackedMonarchBwdBench {
  private PackedMonarchBwdBench() {}

  public static void main(String[] args) throws IOException {
    var a = CudaConvBench.Args.of(args, 2048);
    int B = a.B(), H = a.H();
    List<CudaConvBench.Row> rows = new ArrayList<>();
    String cases = System.getProperty("longconv4j.bench.pmb.cases", "causal:2048,causal:4096,causal:8192,causal:16384");
    String order = System.getProperty("longconv4j.bench.pmb.order", "fb,pm");
    ElementType io = ElementType.BF16;
    try (CudaDevice dev = CudaDevice.open(0)) {
      System.out.println("device: " + dev);
      for (String c : cases.split(",")) {
        ConvMode mode = ConvMode.valueOf(c.split(":")[0].toUpperCase());
        int L = Integer.parseInt(c.split(":")[1]);
        boolean bi = mode == ConvMode.BIDIRECTIONAL;
        int sides = bi ? 2 : 1;
        float[][] w = CudaConvBench.weights(H, L);
        float[] k0 = w[0], D = w[1], k1 = bi ? java.util.Arrays.copyOf(CudaConvBench.weights(H, L + 1)[0], H * L) : null;
        long n = (long) B * H * L;
        try (var u = dev.alloc(2 * n); var y = dev.alloc(2 * n); var du = dev.alloc(2 * n); var dk = dev.alloc(4L * sides * H * L);
             var dD = dev.alloc(4L * H)) {
          DeviceFill.uniform(dev, u, n, io, 7L * L, 1f);
          for (String spec : order.split(",")) {
            String[] opt = spec.split("/");
            String p = opt[0];
            java.util.Map<String, String> kv = new java.util.LinkedHashMap<>();
            for (int i = 1; i < opt.length; i++) {
              String[] e = opt[i].split("=", 2);
              if (e.length != 2) throw new IllegalArgumentException("PackedMonarchBwdBench: option key=value, got " + opt[i] + " in " + spec);
              kv.put(e[0], e[1]);
            }
            if (kv.containsKey("L") && java.util.Arrays.stream(kv.get("L").split("\\+")).noneMatch(x -> Integer.parseInt(x) == L))
              continue;   // a path for these cases only (L=4096+8192)
            boolean bwdOnly = "bwd".equals(kv.get("only")), valOnly = "1".equals(kv.get("val"));
            String name;
            CudaConvBench.Work fwd, bwd;
            AutoCloseable plan;
            if (p.equals("fb")) {
              var fb = FlashButterflyConv.plan(dev, H, L, mode, io, Precision.BF16);
              if (bi) fb.setWeights(k0, k1, L, D); else fb.setWeights(k0, L, D);
              plan = fb;
              name = "flashbutterfly " + mode + " " + fb.kernelName();
              fwd = () -> fb.forward(u, y, B);
              bwd = () -> { fb.backwardInput(u, du, B); fb.backwardWeights(u, u, B, dk, dD); };
            } else if (p.equals("pm")) {
              var pm = PackedMonarchConv.plan(dev, H, L, L, mode, io);
              PackedMonarchBackward pb = pm.backward();
              for (var e : kv.entrySet()) {   // pkbwdopt's backward options: tuned, fast, cap, t, g, fuse, skip (only, L: above)
                switch (e.getKey()) {
                  case "tuned" -> pb.tuned(e.getValue().equals("1"));
                  case "fast" -> pb.fast(e.getValue().equals("1"));
                  case "cap" -> pb.regCap(Integer.parseInt(e.getValue()));
                  case "t" -> pb.threads(Integer.parseInt(e.getValue()));
                  case "g" -> pb.groups(Integer.parseInt(e.getValue()));
                  case "fuse" -> pb.fuse(e.getValue().equals("1"));
                  case "skip" -> pb.skip(Integer.parseInt(e.getValue()));
                  case "sg" -> pb.stageGram(e.getValue().equals("1"));
                  case "pt" -> pb.preTwiddle(e.getValue().equals("1"));
                  case "only", "L", "val" -> { }
                  default -> throw new IllegalArgumentException("PackedMonarchBwdBench: options tuned, fast, cap, t, g, fuse, skip, sg, pt, only, L, val; got " + e.getKey());
                }
              }
              float[] kl = k0;
              if (bi) {   // lib's (H, 2, L)
                kl = new float[2 * H * L];
                for (int h = 0; h < H; h++) {
                  System.arraycopy(k0, h * L, kl, 2 * h * L, L);
                  System.arraycopy(k1, h * L, kl, 2 * h * L + L, L);
                }
              }
              pm.setTaps(kl, D);
              var dpq = dev.alloc(16L * H * pm.points());
              plan = () -> { dpq.close(); pm.close(); };
              name = "packed monarch " + mode + " " + pm.kernelName() + " + " + pb.kernelName() + " t" + pb.threads() + " M=" + pm.points()
                  + (opt.length > 1 ? " " + spec.substring(3) : "") + " (no dk)";
              fwd = () -> pm.forward(u, y, B);
              bwd = () -> pb.run(u, u, B, du, dpq, dD);
            } else {
              throw new IllegalArgumentException("PackedMonarchBwdBench: paths fb, pm; got " + p);
            }
            try {
              y.fill32(0x7fc07fc0);
              du.fill32(0x7fc07fc0);
              fwd.run();
              bwd.run();
              dev.synchronize();
              double errF = PackedMonarchBench.validate(mode, false, u, y, k0, k1, D, B, H, L);
              double errB = PackedMonarchBench.validate(mode, true, u, du, k0, k1, D, B, H, L);
              System.out.printf("%s L=%d: forward vs float64 %.3e, du (dy = u) vs float64 %.3e%n", name, L, errF, errB);
              if (valOnly) continue;   // one forward and one backward launch (an Nsight Compute sitting profiles them)
              if (!bwdOnly) {
                double ms = CudaConvBench.median(dev, fwd, 20);
                rows.add(new CudaConvBench.Row(name + " fwd", B, H, L, ms, 4.0 * n / ms / 1e6, errF, 0));
                CudaConvBench.report(rows.getLast());
              }
              double msB = CudaConvBench.median(dev, bwd, 20);
              rows.add(new CudaConvBench.Row(name + " bwd", B, H, L, msB, 6.0 * n / msB / 1e6, errB, 0));
              CudaConvBench.report(rows.getLast());
              if (bwdOnly) continue;
              double msFB = CudaConvBench.median(dev, () -> { fwd.run(); bwd.run(); }, 20);
              rows.add(new CudaConvBench.Row(name + " fwd+bwd", B, H, L, msFB, 10.0 * n / msFB / 1e6, Math.max(errF, errB), 0));
              CudaConvBench.report(rows.getLast());
            } finally {
              try { plan.close(); } catch (Exception e) { throw new IllegalStateException("PackedMonarchBwdBench: closing " + name, e); }
            }
          }
        }
      }
    }
    CudaConvBench.writeCsv(rows, a.csv());
  }
}
