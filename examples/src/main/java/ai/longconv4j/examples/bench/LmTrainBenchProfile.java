// Shapes: LongConvLM (H3 mixer) on char ids (B, L), width D, vocab V (tiny Shakespeare: 65); logits (B, L, V).
package ai.longconv4j.examples.bench;

import ai.longconv4j.backend.Backends;
import ai.longconv4j.cuda.CudaBackend;
import ai.longconv4j.cuda.CudaDevice;
import ai.longconv4j.cuda.CudaEvent;
import ai.longconv4j.data.Datasets;
import ai.longconv4j.data.TextDataset;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.optim.GradClip;
import ai.longconv4j.optim.ParamGroups;
import ai.longconv4j.profile.Profiler;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.OpObserver;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Where the time of one {@link LmTrainBench} step goes on a GPU (a diagnostic, not a benchmark):
 * <ol>
 *   <li>phase split: host time to queue forward / backward / clip / AdamW without syncs, and the same phases
 *       with a device sync after each; step time distribution; allocator and GC counters over the window;</li>
 *   <li>pure device time per op: the GPU is kept busy with large GEMMs queued ahead, so every op's kernels run back
 *       to back behind them and the CUDA events recorded after each op measure its kernels alone;</li>
 *   <li>the library's {@link Profiler} with the host clock (no syncs: host cost per op);</li>
 *   <li>micro timings of single ops (host queueing cost per op, device time per op) on the LM's shapes.</li>
 * </ol>
 * <pre>LmTrainBenchProfile cuda:0 [width 512] [layers 8] [L 1024] [batch 8] [steps 20] [kernelDropout 0]</pre>
 */
public final class LmTrainBenchProfile {
  private LmTrainBenchProfile() {}

  public static void main(String[] args) throws Exception {
    Device dev = LmBench.device(args.length > 0 ? args[0] : "cuda:0");
    int width = arg(args, 1, 512), layers = arg(args, 2, 8), l = arg(args, 3, 1024), b = arg(args, 4, 8);
    int steps = arg(args, 5, 20);
    double kdrop = args.length > 6 ? Double.parseDouble(args[6]) : 0;
    var data = TextDataset.of(Datasets.get("tinyshakespeare"), null, 0.9);
    var lm = LongConvLM.builder().vocab(data.vocabSize()).width(width).layers(layers).length(l).kernelDropout(kdrop).seed(0).build();
    lm.to(dev);
    var opt = new AdamW(ParamGroups.of(lm).lr(1e-3).weightDecay(0.1).build());
    var be = dev.isCpu() ? null : Backends.forDevice(dev);
    CudaDevice cd = be instanceof CudaBackend c ? c.cudaDevice(dev) : null;
    Runnable sync = be == null ? () -> { } : () -> be.synchronize(dev);
    RandomGenerator rng = Rng.seeded(0);
    System.out.printf(Locale.ROOT, "device=%s B=%d L=%d D=%d layers=%d kernelDropout=%s%n", dev, b, l, width, layers, kdrop);
    for (int i = 0; i < 5; i++) step(lm, opt, data, rng, b, l, null);
    sync.run();

    // ---- 1. phase split
    long gc0 = gcCount(), gct0 = gcMillis(), mallocs0 = cd == null ? 0 : cd.allocator().cudaMallocs();
    double[] wall = new double[steps], host = new double[steps];
    double[][] ph = new double[4][steps], phs = new double[4][steps];
    for (int s = 0; s < steps; s++) {
      var batch = data.batch(TextDataset.Split.TRAIN, b, l, rng);
      boolean synced = (s & 1) == 1;
      long t0 = System.nanoTime();
      opt.zeroGrad();
      Tensor loss = lm.loss(batch.inputs(), batch.targets(), b, l, -1);
      if (synced) sync.run();
      long t1 = System.nanoTime();
      loss.backward();
      if (synced) sync.run();
      long t2 = System.nanoTime();
      GradClip.clipGradNorm(lm.parameters(), 1.0);
      if (synced) sync.run();
      long t3 = System.nanoTime();
      opt.step();
      if (synced) sync.run();
      long t4 = System.nanoTime();
      loss.item();
      long t5 = System.nanoTime();
      double[][] into = synced ? phs : ph;
      into[0][s] = (t1 - t0) / 1e6; into[1][s] = (t2 - t1) / 1e6; into[2][s] = (t3 - t2) / 1e6; into[3][s] = (t4 - t3) / 1e6;
      wall[s] = (t5 - t0) / 1e6;
      host[s] = (t4 - t0) / 1e6;
    }
    long gc1 = gcCount(), gct1 = gcMillis(), mallocs1 = cd == null ? 0 : cd.allocator().cudaMallocs();
    System.out.println("== 1. phases (ms; median over the unsynced / synced steps)");
    String[] names = {"forward", "backward", "clip (item inside)", "adamw"};
    for (int i = 0; i < 4; i++)
      System.out.printf(Locale.ROOT, "  %-20s unsynced %.2f  synced %.2f%n", names[i], med(even(ph[i])), med(odd(phs[i])));
    System.out.printf(Locale.ROOT, "  step wall (unsynced steps) median %.2f, host-queue part %.2f; synced steps %.2f%n", med(even(wall)),
        med(even(host)), med(odd(wall)));
    System.out.println("  all step walls: " + Arrays.toString(round(wall)));
    System.out.printf(Locale.ROOT, "  GC: %d collections, %d ms over %d steps; cuMemAlloc calls %d%n", gc1 - gc0, gct1 - gct0, steps,
        mallocs1 - mallocs0);
    if (cd != null)
      System.out.printf(Locale.ROOT, "  allocator: live %.2f GiB, peak %.2f GiB, cached %.2f GiB, cuMemAlloc total %d%n",
          gib(cd.allocator().liveBytes()), gib(cd.allocator().peakBytes()), gib(cd.allocator().cachedBytes()),
          cd.allocator().cudaMallocs());

    // ---- 2. pure device time per op (GPU kept behind the host by queued GEMMs)
    if (cd != null) {
      Tensor big = Tensor.randn(Rng.seeded(3), DType.F32, 8192, 8192).to(dev);
      for (int rep = 0; rep < 2; rep++) {
        var t = new DeviceOpTimer(cd, big, 4096);
        var prev = OpObserver.install(t);
        long h0 = System.nanoTime();
        try {
          step(lm, opt, data, rng, b, l, t);
        } finally {
          OpObserver.install(prev);
        }
        long h1 = System.nanoTime();
        sync.run();
        System.out.printf(Locale.ROOT, "== 2.%d device time per op (events behind %d busy GEMMs); host queued the step in %.2f ms%n", rep,
            t.busyGemms, (h1 - h0) / 1e6);
        t.print();
      }
      big = null;
    }

    // ---- 3. host-clock profiler (no syncs)
    for (int rep = 0; rep < 1; rep++) {
      Profiler p = Profiler.start();
      try {
        step(lm, opt, data, rng, b, l, null);
      } finally {
        p.close();
      }
      System.out.println("== 3. Profiler, host clock (no syncs), one step");
      var tb = p.table().sortDescendingOn("total_ms").selectColumns("kind", "name", "calls", "total_ms", "mean_us");
      System.out.println(tb.printAll());
    }

    // ---- 4. micro timings
    System.out.println("== 4. single ops: host queue us/op (200 back to back, no sync), device+host us/op (synced each)");
    if (!dev.isCpu()) micro(dev, sync);
  }

  /** One training step; {@code t} (may be null) is told where the phases start. */
  static void step(LongConvLM lm, AdamW opt, TextDataset data, RandomGenerator rng, int b, int l, DeviceOpTimer t) {
    var batch = data.batch(TextDataset.Split.TRAIN, b, l, rng);
    opt.zeroGrad();
    Tensor loss = lm.loss(batch.inputs(), batch.targets(), b, l, -1);
    if (t != null) t.phase("bwd");
    loss.backward();
    if (t != null) t.phase("clip");
    GradClip.clipGradNorm(lm.parameters(), 1.0);
    if (t != null) t.phase("opt");
    opt.step();
    if (t != null) t.phase("item");
    loss.item();
  }

  /**
   * Records a CUDA event after every op (no sync) and, whenever the host had to wait for the device (a device
   * read / synchronous copy), queues busy GEMMs again so the following ops run back to back on the GPU.
   */
  static final class DeviceOpTimer implements OpObserver {
    final CudaDevice cd;
    final Tensor big;
    final CudaEvent[] ev;
    final String[] label;
    final boolean[] valid;
    CudaEvent busyEnd;
    int n, depth, busyGemms, refills;
    String phase = "fwd", rule;
    boolean inBusy;

    DeviceOpTimer(CudaDevice cd, Tensor big, int capacity) {
      this.cd = cd;
      this.big = big;
      ev = new CudaEvent[capacity];
      for (int i = 0; i < capacity; i++) ev[i] = new CudaEvent(cd);
      label = new String[capacity];
      valid = new boolean[capacity];
      refill();
    }

    /** Queues busy GEMMs and an event after them; the next op's interval starts there. */
    void refill() {
      inBusy = true;
      try (var ng = Tensor.noGrad()) {
        for (int i = 0; i < 12; i++) { big.matmul(big).storage().release(); busyGemms++; }   // 256 MB each: back at once
      } finally {
        inBusy = false;
      }
      refills++;
      if (n >= ev.length) return;
      ev[n].record(cd.stream());
      label[n] = "(busy)";
      busyEnd = ev[n++];
    }

    void phase(String p) {
      phase = p;
      mark(p + "/(phase start)");
    }

    /** An op finished queuing: its interval is pure device time if the GPU was still busy when it was queued. */
    void mark(String name) {
      if (n >= ev.length) return;
      boolean caughtUp = busyEnd.query();
      ev[n].record(cd.stream());
      label[n] = name;
      valid[n++] = !caughtUp;
      if (caughtUp) refill();
    }

    @Override public void onForward(String name, Tensor out, Tensor[] inputs) {
      if (inBusy) return;
      mark(phase + "/" + (depth > 0 ? rule + ">" : "") + name);
    }

    @Override public void onBackwardStart(String name) {
      if (depth++ == 0) { rule = name; mark(phase + "/(between rules)"); }
    }

    @Override public void onBackward(String name, Tensor gradOut, Tensor[] inputs) {
      if (--depth == 0) mark(phase + "/" + name + ".backward(rest)");
    }

    void print() {
      Map<String, double[]> rows = new LinkedHashMap<>();       // label -> {calls, device ms, invalid calls}
      double total = 0;
      int invalid = 0;
      Map<String, Double> perPhase = new LinkedHashMap<>();
      for (int i = 1; i < n; i++) {
        if (label[i].equals("(busy)")) continue;
        double[] r = rows.computeIfAbsent(label[i], k -> new double[3]);
        if (!valid[i]) { r[2]++; invalid++; continue; }
        double ms = ev[i].elapsedSince(ev[i - 1]);
        r[0]++;
        r[1] += ms;
        total += ms;
        perPhase.merge(label[i].substring(0, label[i].indexOf('/')), ms, Double::sum);
      }
      System.out.printf(Locale.ROOT, "  %d events, %d refills, %d intervals not timed (GPU had caught up), device total %.2f ms; per phase %s%n",
          n, refills, invalid, total, perPhase);
      List<Map.Entry<String, double[]>> es = new ArrayList<>(rows.entrySet());
      es.sort((x, y) -> Double.compare(y.getValue()[1], x.getValue()[1]));
      for (var e : es)
        System.out.printf(Locale.ROOT, "  %9.3f ms %6d calls %8.1f us/call  (%d untimed)  %s%n", e.getValue()[1], (int) e.getValue()[0],
            e.getValue()[1] * 1e3 / Math.max(1, e.getValue()[0]), (int) e.getValue()[2], e.getKey());
      for (CudaEvent e : ev) e.close();
    }
  }

  static void micro(Device dev, Runnable sync) {
    RandomGenerator r = Rng.seeded(5);
    Tensor x = Tensor.randn(r, DType.F32, 8, 1024, 512).to(dev), y = Tensor.randn(r, DType.F32, 8, 1024, 512).to(dev);
    Tensor bias = Tensor.randn(r, DType.F32, 512).to(dev), tiny = Tensor.randn(r, DType.F32, 4).to(dev);
    Tensor w = Tensor.randn(r, DType.F32, 512, 1024).to(dev), p = Tensor.randn(r, DType.F32, 512, 1024).to(dev);
    Tensor logits = Tensor.randn(r, DType.F32, 8192, 65).to(dev);
    Map<String, Runnable> ops = new LinkedHashMap<>();
    try (var ng = Tensor.noGrad()) {
      ops.put("add tiny (4)", () -> tiny.add(tiny));
      ops.put("add (8,1024,512)", () -> x.add(y));
      ops.put("mul bcast bias", () -> x.mul(bias));
      ops.put("gelu", () -> x.gelu());
      ops.put("sum axis1 (8,1024,512)", () -> x.sum(1, true));
      ops.put("sum axis0+1 -> bias grad", () -> x.sum(1, true).sum(0, true));
      ops.put("sum all (8,1024,512)", () -> x.sum());
      ops.put("sum all (512,1024) (clip)", () -> p.mul(p).sum());
      ops.put("sum axis2 (8,1024,512)", () -> x.sum(2, true));
      ops.put("max axis1 logits (8192,65)", () -> logits.max(1, true));
      ops.put("transpose copy", () -> x.transpose(1, 2).contiguous());
      ops.put("matmul (8192,512)x(512,1024)", () -> x.reshape(8192, 512).matmul(w));
      ops.put("to F64 scalar", () -> tiny.sum().to(DType.F64));
      for (var e : ops.entrySet()) {
        for (int i = 0; i < 3; i++) e.getValue().run();
        sync.run();
        long t0 = System.nanoTime();
        for (int i = 0; i < 200; i++) e.getValue().run();
        long t1 = System.nanoTime();
        sync.run();
        long t2 = System.nanoTime();
        double[] each = new double[20];
        for (int i = 0; i < 20; i++) {
          long a = System.nanoTime();
          e.getValue().run();
          sync.run();
          each[i] = (System.nanoTime() - a) / 1e3;
        }
        System.out.printf(Locale.ROOT, "  %-32s host queue %8.1f us/op   200 ops incl. drain %8.1f us/op   synced %8.1f us/op%n", e.getKey(),
            (t1 - t0) / 200e3, (t2 - t0) / 200e3, med(each));
      }
    }
  }

  static long gcCount() {
    long c = 0;
    for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) c += Math.max(0, g.getCollectionCount());
    return c;
  }

  static long gcMillis() {
    long c = 0;
    for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) c += Math.max(0, g.getCollectionTime());
    return c;
  }

  static double gib(long bytes) { return bytes / (double) (1L << 30); }

  static double[] even(double[] a) {
    double[] r = new double[(a.length + 1) / 2];
    for (int i = 0; i < r.length; i++) r[i] = a[2 * i];
    return r;
  }

  static double[] odd(double[] a) {
    double[] r = new double[a.length / 2];
    for (int i = 0; i < r.length; i++) r[i] = a[2 * i + 1];
    return r;
  }

  static double med(double[] a) {
    if (a.length == 0) return Double.NaN;
    double[] c = a.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  static double[] round(double[] a) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) r[i] = Math.round(a[i] * 10) / 10.0;
    return r;
  }

  private static int arg(String[] a, int i, int def) { return a.length > i ? Integer.parseInt(a[i]) : def; }
}
