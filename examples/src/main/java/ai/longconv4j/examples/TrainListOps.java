// Shape legend: B batch, L length (padded), K = 10 classes.
package ai.longconv4j.examples;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.data.ListOps;
import ai.longconv4j.data.ListOpsTokenizer;
import ai.longconv4j.models.LongConvClassifier;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.train.History;
import ai.longconv4j.train.Objectives;
import ai.longconv4j.train.TerminalProgress;
import ai.longconv4j.train.Trainer;

/**
 * LRA ListOps with a bidirectional LongConvClassifier on generated data (default: a short length window so a
 * CPU run finishes in minutes; {@code --minLength=500 --maxLength=2000 --length=2048} is the LRA setting).
 * Reports held-out accuracy (chance is about 10-20%: the classes are not balanced).
 */
public final class TrainListOps {
    private TrainListOps() {
    }

    public static void main(String[] args) throws Exception {
        var f = new Flags(args);
        int minLength = f.integer("minLength", 50);
        int maxLength = f.integer("maxLength", 120);
        int length = f.integer("length", 128);
        int trainN = f.integer("train", 2000);
        int testN = f.integer("test", 300);
        int width = f.integer("width", 32);
        int layers = f.integer("layers", 2);
        int steps = f.integer("steps", 200);
        int batch = f.integer("batch", 16);
        double lr = f.real("lr", 2e-3);
        double lambda = f.real("lambda", 0.003);
        String norm = f.str("norm", "batch");
        int threads = f.integer("threads", Runtime.getRuntime().availableProcessors());
        long seed = f.integer("seed", 0);
        String settings = f.done();
        System.out.println("TrainListOps " + settings);
        System.out.println("BLAS: " + ai.longconv4j.backend.cpu.MatmulKernels.describeBlas());
        var config = ListOps.Config.lra().withLength(minLength, maxLength);
        var tok = ListOpsTokenizer.INSTANCE;
        var train = tok.encode(ListOps.generate(config, trainN, Rng.seeded(seed + 1)), length);
        var test = tok.encode(ListOps.generate(config, testN, Rng.seeded(seed + 2)), length);
        System.out.println("ListOps: " + train + " / held out " + test);
        var clf = LongConvClassifier.builder().vocab(tok.vocabSize()).classes(ListOps.NUM_CLASSES).width(width).layers(layers)
                .length(length).lambda(lambda).norm(norm.equals("layer") ? LongConvClassifier.Norm.LAYER : LongConvClassifier.Norm.BATCH)
                .dropout(0.1).seed(seed).build();
        System.out.println(clf);
        var trainer = Trainer.builder().model(clf).objective(Objectives.classification(clf, train, test, 100)).steps(steps)
                .batchSize(batch).lr(lr).weightDecay(0.05).evalEvery(Math.max(1, steps / 4)).seed(seed)
                .listener(new TerminalProgress()).build();
        long t0 = System.nanoTime();
        History h = CpuContext.withThreads(threads).call(trainer::fit);
        double sec = (System.nanoTime() - t0) * 1e-9;
        double cpuMin = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis() / 60000.0).orElse(Double.NaN);
        System.out.printf("time: %.1f min wall, %.1f CPU-min for the whole process (data generation and JIT included)%n", sec / 60, cpuMin);
        var last = h.evaluations().get(h.evaluations().size() - 1);
        System.out.printf("summary: %d steps in %.1f s, held-out loss %.4f, accuracy %.1f%%%n", h.rows().size(), sec,
                last.valLoss(), 100 * last.accuracy());
    }
}
