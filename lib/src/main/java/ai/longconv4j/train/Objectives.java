// Shape legend: B batch, L length, V vocabulary, K classes; token arrays are (B, L) row-major.
package ai.longconv4j.train;

import ai.longconv4j.data.LabeledSequences;
import ai.longconv4j.data.TaskData;
import ai.longconv4j.data.TextDataset;
import ai.longconv4j.data.TextDataset.Split;
import ai.longconv4j.models.LongConvClassifier;
import ai.longconv4j.models.LongConvLM;
import ai.longconv4j.tensor.Tensor;
import java.util.random.RandomGenerator;

/** The usual {@link Objective}s. */
public final class Objectives {
    private Objectives() {
    }

    /**
     * Next-token prediction on random windows of a text's training split; evaluation is the mean
     * loss (nats per token) and next-token accuracy over the first {@code evalBatches} sequential
     * batches of the validation split (all of it when {@code evalBatches <= 0}).
     */
    public static Objective languageModel(LongConvLM lm, TextDataset data, int length, int evalBatchSize, int evalBatches) {
        if (length < 1 || length > lm.length()) {
            throw new IllegalArgumentException("Objectives.languageModel: length must be in [1, " + lm.length() + "], got " + length);
        }
        return new Objective() {
            @Override
            public StepLoss trainLoss(RandomGenerator rng, int batchSize) {
                var b = data.batch(Split.TRAIN, batchSize, length, rng);
                return new StepLoss(lm.loss(b.inputs(), b.targets(), batchSize, length, TaskData.IGNORE), (long) batchSize * length);
            }

            @Override
            public Metrics evaluate() {
                int n = data.sequentialCount(Split.VAL, length);
                int batches = (n + evalBatchSize - 1) / evalBatchSize;
                if (evalBatches > 0) {
                    batches = Math.min(batches, evalBatches);
                }
                double lossSum = 0;
                long count = 0;
                long correct = 0;
                for (int i = 0; i < batches; i++) {
                    var b = data.sequential(Split.VAL, evalBatchSize, length, i);
                    int[] y = b.targets();
                    Tensor logits = lm.logits(b.inputs(), b.batchSize(), length).reshape(y.length, lm.vocab());
                    lossSum += logits.crossEntropy(y, TaskData.IGNORE).item() * y.length;
                    correct += countCorrect(logits, y);
                    count += y.length;
                }
                return new Metrics(lossSum / count, (double) correct / count);
            }

            @Override
            public long trainExamples() {
                return data.size(Split.TRAIN) / length;
            }
        };
    }

    /**
     * A synthetic sequence task (associative recall etc.): loss and accuracy only where the target is
     * not {@link TaskData#IGNORE}. Training batches are random examples of {@code train}; evaluation covers
     * all of {@code heldOut}.
     */
    public static Objective sequenceTask(LongConvLM lm, TaskData train, TaskData heldOut, int evalBatchSize) {
        int l = train.length();
        return new Objective() {
            @Override
            public StepLoss trainLoss(RandomGenerator rng, int batchSize) {
                int[] x = new int[batchSize * l];
                int[] y = new int[batchSize * l];
                for (int b = 0; b < batchSize; b++) {
                    int e = rng.nextInt(train.count());
                    System.arraycopy(train.inputs(), e * l, x, b * l, l);
                    System.arraycopy(train.targets(), e * l, y, b * l, l);
                }
                return new StepLoss(lm.loss(x, y, batchSize, l, TaskData.IGNORE), (long) batchSize * l);
            }

            @Override
            public Metrics evaluate() {
                double lossSum = 0;
                long count = 0;
                long correct = 0;
                for (int s = 0; s < heldOut.count(); s += evalBatchSize) {
                    int nb = Math.min(evalBatchSize, heldOut.count() - s);
                    int[] x = java.util.Arrays.copyOfRange(heldOut.inputs(), s * l, (s + nb) * l);
                    int[] y = java.util.Arrays.copyOfRange(heldOut.targets(), s * l, (s + nb) * l);
                    int valid = 0;
                    for (int t : y) {
                        valid += t == TaskData.IGNORE ? 0 : 1;
                    }
                    Tensor logits = lm.logits(x, nb, l).reshape(nb * l, lm.vocab());
                    lossSum += logits.crossEntropy(y, TaskData.IGNORE).item() * valid;
                    correct += countCorrect(logits, y);
                    count += valid;
                }
                return new Metrics(lossSum / count, (double) correct / count);
            }

            @Override
            public long trainExamples() {
                return train.count();
            }
        };
    }

    /**
     * A synthetic sequence task with FRESH training examples every step: {@code fresh.apply(rng, batchSize)}
     * draws each batch from the trainer's seeded generator (so a run is reproducible, and the model cannot
     * memorize a fixed training set); evaluation covers all of {@code heldOut} (drawn from another seed).
     * The stream is endless, so train for a number of steps (or a time limit), not epochs.
     *
     * <pre>{@code
     * jshell> var obj = Objectives.sequenceTask(lm, (rng, n) -> SyntheticTasks.associativeRecall(30, 256, n, rng), test, 100)
     * }</pre>
     */
    public static Objective sequenceTask(LongConvLM lm, java.util.function.BiFunction<RandomGenerator, Integer, TaskData> fresh,
            TaskData heldOut, int evalBatchSize) {
        java.util.Objects.requireNonNull(fresh, "fresh");
        Objective fixed = sequenceTask(lm, heldOut, heldOut, evalBatchSize);
        int l = heldOut.length();
        return new Objective() {
            @Override
            public StepLoss trainLoss(RandomGenerator rng, int batchSize) {
                TaskData b = fresh.apply(rng, batchSize);
                if (b.count() != batchSize || b.length() != l) {
                    throw new IllegalArgumentException("Objectives.sequenceTask: the generator must return (" + batchSize + ", " + l
                            + ") examples, got (" + b.count() + ", " + b.length() + ")");
                }
                return new StepLoss(lm.loss(b.inputs(), b.targets(), batchSize, l, TaskData.IGNORE), (long) batchSize * l);
            }

            @Override
            public Metrics evaluate() {
                return fixed.evaluate();
            }

            @Override
            public long trainExamples() {
                return Long.MAX_VALUE / 4;   // an endless stream: epochs are not meaningful
            }
        };
    }

    /** Sequence classification (e.g. ListOps): random training rows; evaluation over all held-out rows. */
    public static Objective classification(LongConvClassifier clf, LabeledSequences train, LabeledSequences heldOut,
            int evalBatchSize) {
        int l = train.length();
        return new Objective() {
            @Override
            public StepLoss trainLoss(RandomGenerator rng, int batchSize) {
                int[] x = new int[batchSize * l];
                int[] y = new int[batchSize];
                for (int b = 0; b < batchSize; b++) {
                    int e = rng.nextInt(train.count());
                    System.arraycopy(train.inputs(), e * l, x, b * l, l);
                    y[b] = train.labels()[e];
                }
                return new StepLoss(LongConvClassifier.loss(clf.logits(x, batchSize, l), y), (long) batchSize * l);
            }

            @Override
            public Metrics evaluate() {
                double lossSum = 0;
                long correct = 0;
                for (int s = 0; s < heldOut.count(); s += evalBatchSize) {
                    int nb = Math.min(evalBatchSize, heldOut.count() - s);
                    int[] x = java.util.Arrays.copyOfRange(heldOut.inputs(), s * l, (s + nb) * l);
                    int[] y = java.util.Arrays.copyOfRange(heldOut.labels(), s, s + nb);
                    Tensor logits = clf.logits(x, nb, l);
                    lossSum += LongConvClassifier.loss(logits, y).item() * nb;
                    correct += countCorrect(logits, y);
                }
                return new Metrics(lossSum / heldOut.count(), (double) correct / heldOut.count());
            }

            @Override
            public long trainExamples() {
                return train.count();
            }
        };
    }

    /** Rows of logits (N, V) whose argmax equals the target, skipping {@link TaskData#IGNORE} targets. */
    static long countCorrect(Tensor logits, int[] targets) {
        int v = logits.size(1);
        double[] a = logits.toDoubleArray();
        long c = 0;
        for (int r = 0; r < targets.length; r++) {
            if (targets[r] == TaskData.IGNORE) {
                continue;
            }
            int best = 0;
            for (int j = 1; j < v; j++) {
                if (a[r * v + j] > a[r * v + best]) {
                    best = j;
                }
            }
            c += best == targets[r] ? 1 : 0;
        }
        return c;
    }
}
