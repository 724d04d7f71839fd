// A batch of token windows. B batch, L sequence length; tokens is (B, L+1) row-major.
package ai.longconv4j.data;

import java.util.Arrays;

/**
 * {@code B} windows of {@code L + 1} tokens in one row-major array: token {@code t} of window {@code b} is
 * {@code tokens[b * (L + 1) + t]}. The model input is {@code x[b, t] = tokens[b*(L+1) + t]} and the next-token
 * target {@code y[b, t] = tokens[b*(L+1) + t + 1]}, for {@code t in [0, L)}; {@link #inputs()} and
 * {@link #targets()} return them as (B, L) row-major copies.
 *
 * <pre>{@code
 * jshell> var b = new Batch(1, 3, new int[]{5, 6, 7, 8})
 * jshell> b.inputs()
 * $2 ==> int[3] { 5, 6, 7 }
 * jshell> b.targets()
 * $3 ==> int[3] { 6, 7, 8 }
 * }</pre>
 */
public record Batch(int batchSize, int length, int[] tokens) {
    public Batch {
        if (batchSize < 0 || length < 1 || tokens.length != (long) batchSize * (length + 1))
            throw new IllegalArgumentException("Batch: tokens must be (B, L+1) = (" + batchSize + ", " + (length + 1) + "), got " + tokens.length + " ints");
    }

    /** x: (B, L) row-major, {@code x[b*L + t] = tokens[b*(L+1) + t]}. */
    public int[] inputs() {
        return slice(0);
    }

    /** y: (B, L) row-major, {@code y[b*L + t] = tokens[b*(L+1) + t + 1]}. */
    public int[] targets() {
        return slice(1);
    }

    private int[] slice(int shift) {
        int[] out = new int[batchSize * length];
        for (int b = 0; b < batchSize; b++) System.arraycopy(tokens, b * (length + 1) + shift, out, b * length, length);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Batch b && b.batchSize == batchSize && b.length == length && Arrays.equals(b.tokens, tokens);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tokens) * 31 + length;
    }

    @Override
    public String toString() {
        return "Batch(B=" + batchSize + ", L=" + length + ")";
    }
}
