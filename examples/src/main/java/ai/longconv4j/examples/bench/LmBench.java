// Shapes: LongConvLM on ids (B, L), width D, vocab V = 256 (bytes); logits (B, L, V).
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.Devices;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.ParamGroups;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Training throughput of a LongConvLM on one device: forward, backward and an AdamW step per iteration on random
 * byte ids; the loss is read back every step ({@code item()} synchronises), so wall time per step is device time.
 * Prints CSV: device,dtype,width,layers,L,batch,steps,ms_per_step_median,tokens_per_s,loss_first,loss_last.
 * Usage: LmBench [device: best|cpu|cuda:N] [width 512] [layers 8] [L 1024] [batch 8] [steps 10] [warmup 3] [csv-out]
 */
public final class LmBench {
  private LmBench() {}

  public static void main(String[] args) throws IOException {
    String devArg = args.length > 0 ? args[0] : "best";
    Device dev = switch (devArg) {
      case "best" -> Devices.best();
      case "cpu" -> Device.CPU;
      default -> Device.cuda(Integer.parseInt(devArg.substring(devArg.indexOf(':') + 1)));
    };
    int width = arg(args, 1, 512), layers = arg(args, 2, 8), l = arg(args, 3, 1024), b = arg(args, 4, 8);
    int steps = arg(args, 5, 10), warmup = arg(args, 6, 3);
    int v = 256;
    System.out.println("# " + Devices.describe() + "; device " + dev);
    LongConvLM lm = LongConvLM.builder().vocab(v).width(width).layers(layers).length(l).dtype(DType.F32).seed(1).build();
    lm.to(dev);
    var opt = new AdamW(ParamGroups.of(lm).lr(1e-3).build());
    RandomGenerator r = Rng.seeded(2);
    double[] ms = new double[steps];
    double first = Double.NaN, last = Double.NaN;
    for (int s = 0; s < warmup + steps; s++) {
      int[] ids = new int[b * l], tg = new int[b * l];
      for (int i = 0; i < ids.length; i++) { ids[i] = r.nextInt(v); tg[i] = r.nextInt(v); }
      long t0 = System.nanoTime();
      opt.zeroGrad();
      Tensor loss = lm.loss(ids, tg, b, l, -1);
      loss.backward();
      opt.step();
      double lv = loss.item();
      double dt = (System.nanoTime() - t0) / 1e6;
      if (s >= warmup) ms[s - warmup] = dt;
      if (s == 0) first = lv;
      last = lv;
      System.out.printf("# step %d: %.2f ms, loss %.4f%n", s, dt, lv);
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    double med = sorted[steps / 2];
    String header = "device,dtype,width,layers,L,batch,steps,ms_per_step_median,tokens_per_s,loss_first,loss_last";
    String row = String.format("%s,F32,%d,%d,%d,%d,%d,%.2f,%.0f,%.4f,%.4f", dev, width, layers, l, b, steps, med,
        b * l / (med / 1e3), first, last);
    System.out.println(header);
    System.out.println(row);
    if (args.length > 7) Files.writeString(Path.of(args[7]), header + "\n" + row + "\n");
  }

  private static int arg(String[] a, int i, int def) { return a.length > i ? Integer.parseInt(a[i]) : def; }
}
