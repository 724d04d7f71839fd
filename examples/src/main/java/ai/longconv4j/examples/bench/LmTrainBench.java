// Shapes: LongConvLM (H3 mixer) on char ids (B, L), width D, vocab V (tiny Shakespeare: 65); logits (B, L, V).
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.backend.Devices;
import ai.longconv4j.data.Datasets;
import ai.longconv4j.data.TextDataset;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.GradClip;
import ai.longconv4j.optim.ParamGroups;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * The Java twin of {@code examples/bench/lm_torch.py}: the H3 long-conv LM trained on tiny Shakespeare (char level)
 * on one device for a time budget — AdamW lr 1e-3 (weight decay 0.1, the kernel group its own lr and none), gradient
 * clipping at 1, random windows of L + 1 characters — then the validation loss in nats/char over 10 batches.
 * Each step ends with {@code loss.item()} (a device sync), so the median step time is wall time of whole steps.
 * <pre>
 * LmTrainBench [device best|cpu|cuda:N] [width 512] [layers 8] [L 1024] [batch 8] [seconds 120] [warmup 5]
 *              [kernelDropout 0.2]
 * </pre>
 * Prints {@code step,loss,ms,tokens_per_s} every 20 steps and a {@code summary:} line like the PyTorch script's.
 */
public final class LmTrainBench {
  private LmTrainBench() {}

  public static void main(String[] args) throws Exception {
    Device dev = LmBench.device(args.length > 0 ? args[0] : "best");
    int width = arg(args, 1, 512), layers = arg(args, 2, 8), l = arg(args, 3, 1024), b = arg(args, 4, 8);
    double seconds = args.length > 5 ? Double.parseDouble(args[5]) : 120;
    int warmup = arg(args, 6, 5);
    double kdrop = args.length > 7 ? Double.parseDouble(args[7]) : 0.2;
    var data = TextDataset.of(Datasets.get("tinyshakespeare"), null, 0.9);
    var lm = LongConvLM.builder().vocab(data.vocabSize()).width(width).layers(layers).length(l).kernelDropout(kdrop).seed(0).build();
    lm.to(dev);
    long nParams = lm.parameters().stream().mapToLong(p -> p.numel()).sum();
    var opt = new AdamW(ParamGroups.of(lm).lr(1e-3).weightDecay(0.1).build());
    Runnable sync = dev.isCpu() ? () -> { } : () -> Backends.forDevice(dev).synchronize(dev);
    System.out.printf(Locale.ROOT, "device=%s (%s) params=%d B=%d L=%d D=%d layers=%d kernelDropout=%s%n", dev, Devices.describe(),
        nParams, b, l, width, layers, kdrop);
    System.out.println("step,loss,ms,tokens_per_s");
    RandomGenerator rng = Rng.seeded(0);
    double[] times = new double[1 << 16];
    int timed = 0, step = 0;
    long end = Long.MAX_VALUE;
    while (true) {
      var batch = data.batch(TextDataset.Split.TRAIN, b, l, rng);
      sync.run();
      long t0 = System.nanoTime();
      opt.zeroGrad();
      Tensor loss = lm.loss(batch.inputs(), batch.targets(), b, l, -1);
      loss.backward();
      GradClip.clipGradNorm(lm.parameters(), 1.0);
      opt.step();
      double lv = loss.item();
      double ms = (System.nanoTime() - t0) / 1e6;
      if (!Double.isFinite(lv)) throw new IllegalStateException("loss " + lv + " at step " + (step + 1));
      step++;
      if (step == warmup) end = System.nanoTime() + (long) (seconds * 1e9);
      if (step > warmup && timed < times.length) times[timed++] = ms;
      if (step % 20 == 0) System.out.printf(Locale.ROOT, "%d,%.4f,%.1f,%.0f%n", step, lv, ms, b * l / ms * 1e3);
      if (System.nanoTime() > end) break;
    }
    lm.eval();
    double val = 0;
    RandomGenerator vr = Rng.seeded(1);
    try (var ng = Tensor.noGrad()) {
      for (int i = 0; i < 10; i++) {
        var vb = data.batch(TextDataset.Split.VAL, b, l, vr);
        val += lm.loss(vb.inputs(), vb.targets(), b, l, -1).item() / 10;
      }
    }
    double[] t = Arrays.copyOf(times, timed);
    Arrays.sort(t);
    double med = t[timed / 2];
    System.out.printf(Locale.ROOT, "summary: steps=%d timed=%d median_step_ms=%.2f tokens_per_s=%.0f val_loss=%.4f%n", step, timed, med,
        b * l / med * 1e3, val);
  }

  private static int arg(String[] a, int i, int def) { return a.length > i ? Integer.parseInt(a[i]) : def; }
}
