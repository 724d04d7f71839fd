// Shape legend: B batch, L length (256), V vocabulary (30), D width.
package ai.longconv4j.examples;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.data.SyntheticTasks;
import ai.longconv4j.data.TaskData;
import ai.longconv4j.models.H3Conv;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.train.History;
import ai.longconv4j.train.Objective;
import ai.longconv4j.train.Objectives;
import ai.longconv4j.train.TerminalProgress;
import ai.longconv4j.train.Trainer;

/**
 * Associative recall (safari-style: vocab 30, L = 256) with a 2-layer H3-longconv LM; reports the
 * held-out final-token accuracy. Training draws fresh sequences every step with dense recall targets
 * ({@code SyntheticTasks.denseRecallTargets}); {@code --lambda=0} turns Squash off; {@code --init=random}
 * starts the H3 kernels from the random long-conv init alone (the old plateau) instead of
 * {@code H3Conv.Init.SHIFT_SUM}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp ... ai.longconv4j.examples.TrainAssociativeRecall --threads=1 --width=64 \
 *      --batch=4 --steps=3500 --minutes=15 --evalEvery=250 --lr=3e-3 --lambda=0.003
 * </pre>
 */
public final class TrainAssociativeRecall {
    private TrainAssociativeRecall() {
    }

    /** The share of kernel taps that Squash maps to 0 (|K| <= lambda): they get no gradient while there. */
    static String squashed(LongConvLM lm, double lambda, String when) {
        long dead = 0, all = 0;
        for (var p : lm.parameters()) {
            if (!p.group().equals(ai.longconv4j.nn.Parameter.KERNEL_GROUP)) continue;
            for (double v : p.value().toDoubleArray()) {
                dead += Math.abs(v) <= lambda ? 1 : 0;
                all++;
            }
        }
        return String.format("kernel taps squashed to 0 at %s (|K| <= lambda=%s, zero gradient there): %.1f%% of %,d",
                when, lambda, 100.0 * dead / Math.max(1, all), all);
    }

    public static void main(String[] args) throws Exception {
        var f = new Flags(args);
        int vocab = f.integer("vocab", 30);
        int length = f.integer("length", 256);
        int width = f.integer("width", 64);
        int layers = f.integer("layers", 2);
        int steps = f.integer("steps", 800);
        int batch = f.integer("batch", 32);
        int trainN = f.integer("train", 0);   // 0: fresh examples every step (an endless seeded stream)
        int testN = f.integer("test", 500);
        boolean dense = f.bool("dense", true);
        double lr = f.real("lr", 2e-3);
        double weightDecay = f.real("weightDecay", 0.1);
        int mlpRatio = f.integer("mlpRatio", LongConvLM.MLP_RATIO);
        double lambda = f.real("lambda", 0.003);
        double kernelDropout = f.real("kernelDropout", 0.0);
        double kernelLr = f.real("kernelLr", 1e-3);
        String engine = f.str("engine", "fft");
        H3Conv.Init init = H3Conv.Init.valueOf(f.str("init", "shift_sum").toUpperCase(java.util.Locale.ROOT));
        int evalEvery = f.integer("evalEvery", 100);
        int threads = f.integer("threads", Runtime.getRuntime().availableProcessors());
        long seed = f.integer("seed", 0);
        double minutes = f.real("minutes", 0);
        String settings = f.done();
        System.out.println("TrainAssociativeRecall " + settings);
        System.out.println("BLAS: " + ai.longconv4j.backend.cpu.MatmulKernels.describeBlas());
        System.out.println("Associative recall: " + (trainN > 0 ? trainN + " fixed training" : "fresh training (new every step)")
                + " and " + testN + " held-out sequences (V=" + vocab + ", L=" + length
                + "); the loss and accuracy are on the final token only.");
        TaskData test = SyntheticTasks.associativeRecall(vocab, length, testN, Rng.seeded(seed + 2));
        var lm = LongConvLM.builder().vocab(vocab).width(width).layers(layers).length(length).lambda(lambda)
                .kernelDropout(kernelDropout).kernelLr(kernelLr).mlpRatio(mlpRatio).h3Init(init)
                .engine(engine.equals("learned") ? ConvEngine.LEARNED_CAUSAL : ConvEngine.FFT).seed(seed).build();
        System.out.println(lm);
        for (var g : lm.paramGroups(lr, weightDecay)) {
            System.out.printf("param group %s: %d tensors, lr %.2g, weight decay %.2g%n", g.name(), g.parameters().size(), g.lr(), g.weightDecay());
        }
        Objective objective = trainN > 0
                ? Objectives.sequenceTask(lm, SyntheticTasks.associativeRecall(vocab, length, trainN, Rng.seeded(seed + 1)), test, 100)
                : Objectives.sequenceTask(lm, (rng, n) -> {
                    TaskData d = SyntheticTasks.associativeRecall(vocab, length, n, rng);
                    return dense ? SyntheticTasks.denseRecallTargets(d) : d;
                }, test, 100);
        var builder = Trainer.builder().model(lm).objective(objective).steps(steps)
                .batchSize(batch).lr(lr).weightDecay(weightDecay).warmup(steps / 20).evalEvery(evalEvery).seed(seed)
                .listener(new TerminalProgress());
        if (minutes > 0) {
            builder.timeLimit(java.time.Duration.ofMillis((long) (minutes * 60_000)));
        }
        var trainer = builder.build();
        System.out.println(squashed(lm, lambda, "init"));
        long t0 = System.nanoTime();
        History h = CpuContext.withThreads(threads).call(trainer::fit);
        double sec = (System.nanoTime() - t0) * 1e-9;
        double cpuMin = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() / 60000.0).orElse(Double.NaN);
        System.out.printf("time: %.1f min wall, %.1f CPU-min for the whole process (data generation and JIT included)%n", sec / 60, cpuMin);
        System.out.println(squashed(lm, lambda, "end"));
        var last = h.evaluations().get(h.evaluations().size() - 1);
        double best = h.evaluations().stream().mapToDouble(History.Row::accuracy).max().orElse(Double.NaN);
        System.out.println("stop: " + h.stopReason() + " " + h.stopMessage());
        System.out.printf("summary: %d steps in %.1f s (%.1f min, %d threads), final held-out loss %.4f, final-token accuracy %.1f%%"
                + " (best %.1f%%), lambda=%s%n", h.rows().size(), sec, sec / 60, threads, last.valLoss(), 100 * last.accuracy(),
                100 * best, lambda);
    }
}
