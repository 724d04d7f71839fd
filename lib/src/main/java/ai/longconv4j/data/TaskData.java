// Examples of a synthetic sequence task. n examples, L sequence length; inputs and targets are (n, L) row-major.
package ai.longconv4j.data;

import java.util.Arrays;

/**
 * {@code count} examples of a synthetic task: {@code inputs[i*L + t]} is token {@code t} of example {@code i}, and
 * {@code targets[i*L + t]} the token the model must output at position {@code t} (after reading
 * {@code inputs[i*L .. i*L+t]}), or {@link #IGNORE} where no loss is taken. This matches
 * {@code logits (n*L, V).crossEntropy(targets, IGNORE)}; accuracy is measured on the non-ignored positions.
 *
 * <pre>{@code
 * jshell> var d = SyntheticTasks.associativeRecall(30, 9, 2, new SplittableRandom(0))
 * d ==> TaskData(associative-recall, n=2, L=9, vocab=30)
 * jshell> d.targets(0)
 * $2 ==> int[9] { -100, -100, -100, -100, -100, -100, -100, -100, 17 }
 * }</pre>
 */
public record TaskData(String task, int count, int length, int vocabSize, int[] inputs, int[] targets) {
    /** Target value meaning "no loss at this position" (PyTorch's default ignore_index). */
    public static final int IGNORE = -100;

    public TaskData {
        long want = (long) count * length;
        if (inputs.length != want || targets.length != want)
            throw new IllegalArgumentException("TaskData " + task + ": inputs/targets must be (n, L) = (" + count + ", " + length + "), got "
                    + inputs.length + " and " + targets.length + " ints");
    }

    /** Tokens of example {@code i} (a copy of length L). */
    public int[] inputs(int i) {
        return Arrays.copyOfRange(inputs, i * length, (i + 1) * length);
    }

    /** Targets of example {@code i} (a copy of length L). */
    public int[] targets(int i) {
        return Arrays.copyOfRange(targets, i * length, (i + 1) * length);
    }

    /** Examples {@code [from, to)} as a new TaskData (copies), e.g. one batch. */
    public TaskData rows(int from, int to) {
        if (from < 0 || to > count || from > to)
            throw new IllegalArgumentException("TaskData.rows: [" + from + ", " + to + ") outside [0, " + count + ")");
        return new TaskData(task, to - from, length, vocabSize, Arrays.copyOfRange(inputs, from * length, to * length),
                Arrays.copyOfRange(targets, from * length, to * length));
    }

    /** Number of positions that carry a target. */
    public int targetCount() {
        int n = 0;
        for (int t : targets) if (t != IGNORE) n++;
        return n;
    }

    /** {@code B} examples drawn uniformly with replacement from {@code rng} (a random training batch). */
    public TaskData sample(int B, java.util.random.RandomGenerator rng) {
        if (B < 1 || count < 1) throw new IllegalArgumentException("TaskData.sample: need B >= 1 and a non-empty set, got B=" + B + ", n=" + count);
        int[] x = new int[B * length], y = new int[B * length];
        for (int b = 0; b < B; b++) {
            int i = rng.nextInt(count);
            System.arraycopy(inputs, i * length, x, b * length, length);
            System.arraycopy(targets, i * length, y, b * length, length);
        }
        return new TaskData(task, B, length, vocabSize, x, y);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TaskData d && d.task.equals(task) && d.count == count && d.length == length && d.vocabSize == vocabSize
                && Arrays.equals(d.inputs, inputs) && Arrays.equals(d.targets, targets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inputs) * 31 + Arrays.hashCode(targets);
    }

    @Override
    public String toString() {
        return "TaskData(" + task + ", n=" + count + ", L=" + length + ", vocab=" + vocabSize + ")";
    }
}
