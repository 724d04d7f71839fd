// Shape legend: B batch, L length (256), V vocabulary (30), D width.
package ai.longconv4j.examples;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.data.SyntheticTasks;
import ai.longconv4j.data.TaskData;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.train.History;
import ai.longconv4j.train.Objectives;
import ai.longconv4j.train.TerminalProgress;
import ai.longconv4j.train.Trainer;

/**
 * Associative recall (safari-style: vocab 30, L = 256) with a 2-layer H3-longconv LM; reports the
 * held-out final-token accuracy. {@code --lambda=0} turns Squash off.
 *
 * <pre>
 * java -cp ... ai.longconv4j.examples.TrainAssociativeRecall --steps=800 --width=64 --lambda=0.003
 * </pre>
 */
public final class TrainAssociativeRecall {
    private TrainAssociativeRecall() {
    }

    public static void main(String[] args) throws Exception {
        var f = new Flags(args);
        int vocab = f.integer("vocab", 30);
        int length = f.integer("length", 256);
        int width = f.integer("width", 64);
        int layers = f.integer("layers", 2);
        int steps = f.integer("steps", 800);
        int batch = f.integer("batch", 32);
        int trainN = f.integer("train", 4000);
        int testN = f.integer("test", 500);
        double lr = f.real("lr", 2e-3);
        double lambda = f.real("lambda", 0.003);
        double kernelDropout = f.real("kernelDropout", 0.0);
        double kernelLr = f.real("kernelLr", 1e-3);
        String engine = f.str("engine", "fft");
        int evalEvery = f.integer("evalEvery", 100);
        int threads = f.integer("threads", Runtime.getRuntime().availableProcessors());
        long seed = f.integer("seed", 0);
        double minutes = f.real("minutes", 0);
        String settings = f.done();
        System.out.println("TrainAssociativeRecall " + settings);
        System.out.println("Associative recall: " + trainN + " training and " + testN + " held-out sequences (V=" + vocab
                + ", L=" + length + "); the loss and accuracy are on the final token only.");
        TaskData train = SyntheticTasks.associativeRecall(vocab, length, trainN, Rng.seeded(seed + 1));
        TaskData test = SyntheticTasks.associativeRecall(vocab, length, testN, Rng.seeded(seed + 2));
        var lm = LongConvLM.builder().vocab(vocab).width(width).layers(layers).length(length).lambda(lambda)
                .kernelDropout(kernelDropout).kernelLr(kernelLr)
                .engine(engine.equals("learned") ? ConvEngine.LEARNED : ConvEngine.FFT).seed(seed).build();
        System.out.println(lm);
        var builder = Trainer.builder().model(lm).objective(Objectives.sequenceTask(lm, train, test, 100)).steps(steps)
                .batchSize(batch).lr(lr).weightDecay(0.1).warmup(steps / 20).evalEvery(evalEvery).seed(seed)
                .listener(new TerminalProgress());
        if (minutes > 0) {
            builder.timeLimit(java.time.Duration.ofMillis((long) (minutes * 60_000)));
        }
        var trainer = builder.build();
        long t0 = System.nanoTime();
        History h = CpuContext.withThreads(threads).call(trainer::fit);
        double sec = (System.nanoTime() - t0) * 1e-9;
        double cpuMin = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() / 60000.0).orElse(Double.NaN);
        System.out.printf("time: %.1f min wall, %.1f CPU-min for the whole process (data generation and JIT included)%n", sec / 60, cpuMin);
        var last = h.evaluations().get(h.evaluations().size() - 1);
        double best = h.evaluations().stream().mapToDouble(History.Row::accuracy).max().orElse(Double.NaN);
        System.out.println("stop: " + h.stopReason() + " " + h.stopMessage());
        System.out.printf("summary: %d steps in %.1f s (%.1f min, %d threads), final held-out loss %.4f, final-token accuracy %.1f%%"
                + " (best %.1f%%), lambda=%s%n", h.rows().size(), sec, sec / 60, threads, last.valLoss(), 100 * last.accuracy(),
                100 * best, lambda);
    }
}
