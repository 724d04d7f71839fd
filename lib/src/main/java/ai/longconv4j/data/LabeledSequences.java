// A sequence classification set. n examples, L length; inputs (n, L) row-major, labels (n).
package ai.longconv4j.data;

import java.util.Arrays;

/**
 * Token sequences with one class label each: {@code inputs[i*L + t]} is token {@code t} of example {@code i}
 * (padding id 0 where the sequence is shorter), {@code labels[i]} in {@code [0, numClasses)}.
 */
public record LabeledSequences(int count, int length, int vocabSize, int numClasses, int[] inputs, int[] labels) {
    public LabeledSequences {
        if (inputs.length != (long) count * length || labels.length != count)
            throw new IllegalArgumentException("LabeledSequences: inputs must be (n, L) = (" + count + ", " + length + ") and labels (n), got "
                    + inputs.length + " and " + labels.length);
        for (int l : labels) if (l < 0 || l >= numClasses) throw new IllegalArgumentException("LabeledSequences: label " + l + " outside [0, " + numClasses + ")");
    }

    /** Examples {@code [from, to)} (copies). */
    public LabeledSequences rows(int from, int to) {
        if (from < 0 || to > count || from > to) throw new IllegalArgumentException("LabeledSequences.rows: [" + from + ", " + to + ") outside [0, " + count + ")");
        return new LabeledSequences(to - from, length, vocabSize, numClasses, Arrays.copyOfRange(inputs, from * length, to * length),
                Arrays.copyOfRange(labels, from, to));
    }

    /** {@code B} examples drawn uniformly with replacement from {@code rng} (a random training batch). */
    public LabeledSequences sample(int B, java.util.random.RandomGenerator rng) {
        if (B < 1 || count < 1) throw new IllegalArgumentException("LabeledSequences.sample: need B >= 1 and a non-empty set, got B=" + B + ", n=" + count);
        int[] x = new int[B * length], y = new int[B];
        for (int b = 0; b < B; b++) {
            int i = rng.nextInt(count);
            System.arraycopy(inputs, i * length, x, b * length, length);
            y[b] = labels[i];
        }
        return new LabeledSequences(B, length, vocabSize, numClasses, x, y);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabeledSequences s && s.count == count && s.length == length && s.vocabSize == vocabSize
                && s.numClasses == numClasses && Arrays.equals(s.inputs, inputs) && Arrays.equals(s.labels, labels);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(inputs) * 31 + Arrays.hashCode(labels);
    }

    @Override
    public String toString() {
        return "LabeledSequences(n=" + count + ", L=" + length + ", vocab=" + vocabSize + ", classes=" + numClasses + ")";
    }
}
