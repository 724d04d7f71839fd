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
 * Each step is also split (device synchronised between phases) into forward, backward and optimizer time.
 * Prints CSV: device,dtype,width,layers,L,batch,kernel_dropout,steps,ms_per_step_median,fwd_ms,bwd_ms,opt_ms,tokens_per_s,
 * loss_first,loss_last.
 * Usage: LmBench [device: best|cpu|cuda:N] [width 512] [layers 8] [L 1024] [batch 8] [steps 10] [warmup 3] [csv-out]
 *        [dtype F32|BF16] [kernelDropout 0.2]
 */
public final class LmBench {
  private LmBench() {}

  public static void main(String[] args) throws IOException {
    String devArg = args.length > 0 ? args[0] : "best";
    Device dev = device(devArg);
    int width = arg(args, 1, 512), layers = arg(args, 2, 8), l = arg(args, 3, 1024), b = arg(args, 4, 8);
    int steps = arg(args, 5, 10), warmup = arg(args, 6, 3);
    int v = 256;
    DType dtype = args.length > 8 ? DType.valueOf(args[8]) : DType.F32;
    double kdrop = args.length > 9 ? Double.parseDouble(args[9]) : 0.2;
    System.out.println("# " + Devices.describe() + "; device " + dev);
    LongConvLM lm = LongConvLM.builder().vocab(v).width(width).layers(layers).length(l).dtype(DType.F32).kernelDropout(kdrop)
        .seed(1).build();
    lm.to(dev, dtype);
    Runnable sync = dev.isCpu() ? () -> { } : () -> ai.longconv4j.backend.Backends.forDevice(dev).synchronize(dev);
    var opt = new AdamW(ParamGroups.of(lm).lr(1e-3).build());
    RandomGenerator r = Rng.seeded(2);
    double[] ms = new double[steps], fw = new double[steps], bw = new double[steps], op = new double[steps];
    double first = Double.NaN, last = Double.NaN;
    for (int s = 0; s < warmup + steps; s++) {
      int[] ids = new int[b * l], tg = new int[b * l];
      for (int i = 0; i < ids.length; i++) { ids[i] = r.nextInt(v); tg[i] = r.nextInt(v); }
      long t0 = System.nanoTime();
      opt.zeroGrad();
      Tensor loss = lm.loss(ids, tg, b, l, -1);
      sync.run();
      long t1 = System.nanoTime();
      loss.backward();
      sync.run();
      long t2 = System.nanoTime();
      opt.step();
      double lv = loss.item();
      long t3 = System.nanoTime();
      double dt = (t3 - t0) / 1e6;
      if (s >= warmup) {
        ms[s - warmup] = dt;
        fw[s - warmup] = (t1 - t0) / 1e6;
        bw[s - warmup] = (t2 - t1) / 1e6;
        op[s - warmup] = (t3 - t2) / 1e6;
      }
      if (s == 0) first = lv;
      last = lv;
      System.out.printf("# step %d: %.2f ms, loss %.4f%n", s, dt, lv);
    }
    double med = median(ms);
    String header = "device,dtype,width,layers,L,batch,kernel_dropout,steps,ms_per_step_median,fwd_ms,bwd_ms,opt_ms,tokens_per_s,"
        + "loss_first,loss_last";
    String row = String.format("%s,%s,%d,%d,%d,%d,%.2f,%d,%.2f,%.2f,%.2f,%.2f,%.0f,%.4f,%.4f", dev, dtype, width, layers, l, b, kdrop,
        steps, med, median(fw), median(bw), median(op), b * l / (med / 1e3), first, last);
    System.out.println(header);
    System.out.println(row);
    if (args.length > 7) Files.writeString(Path.of(args[7]), header + "\n" + row + "\n");
  }

  private static double median(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static int arg(String[] a, int i, int def) { return a.length > i ? Integer.parseInt(a[i]) : def; }

  /** A device argument of the LM benchmarks: best (the best available), cpu, or cuda:N. */
  static Device device(String arg) {
    return switch (arg) {
      case "best" -> Devices.best();
      case "cpu" -> Device.CPU;
      default -> Device.cuda(Integer.parseInt(arg.substring(arg.indexOf(':') + 1)));
    };
  }
}
