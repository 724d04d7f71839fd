// Shape legend: B batch, L length; losses are scalar tensors.
package ai.longconv4j.train;

import ai.longconv4j.tensor.Tensor;
import java.util.random.RandomGenerator;

/**
 * What a {@link Trainer} optimizes: a training loss on a batch drawn from a generator, and an
 * evaluation on held-out data. Implementations close over the model; {@link Objectives} has the
 * language-model, sequence-task and classification ones.
 */
public interface Objective {
    /** A batch's loss and size. */
    record StepLoss(Tensor loss, long tokens) {
    }

    /** Held-out figures: mean loss and accuracy (NaN when not defined). */
    record Metrics(double loss, double accuracy) {
    }

    /**
     * The mean loss of one batch of {@code batchSize} examples drawn from {@code rng} (a scalar with a
     * graph back to the model's parameters), and the number of tokens it covers.
     */
    StepLoss trainLoss(RandomGenerator rng, int batchSize);

    /** Evaluates on held-out data; the trainer calls it in eval mode under no-grad. */
    Metrics evaluate();

    /** Training examples per epoch (for {@link Trainer.Builder#epochs}). */
    long trainExamples();
}
