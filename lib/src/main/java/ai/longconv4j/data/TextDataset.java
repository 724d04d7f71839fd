// Token stream of a text file, split by position, sampled as (B, L+1) windows.
// B batch, L sequence length (x = window[0, L), y = window[1, L+1)).
package ai.longconv4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * A tokenized text split by position into a training prefix and a validation suffix:
 * {@code nTrain = floor(n * trainFraction)}, train = tokens {@code [0, nTrain)}, val = tokens {@code [nTrain, n)}
 * (for tiny Shakespeare with chars and 0.9: 1,003,854 / 111,540, as in nanoGPT).
 *
 * <p>Batches are windows of {@code L + 1} consecutive tokens ({@link Batch}); random windows start uniformly in
 * {@code [0, size - L - 1]} of the split, drawn from the caller's seeded {@link RandomGenerator}, so the same seed
 * gives the same batches. {@link #sequential} gives the non-overlapping windows in order, for evaluation.
 *
 * <pre>{@code
 * jshell> var ds = TextDataset.of(Datasets.get("tinyshakespeare"), null, 0.9)   // null: char vocab from the file
 * ds ==> TextDataset(n=1115394, train=1003854, val=111540, vocab=65)
 * jshell> var b = ds.batch(Split.TRAIN, 4, 64, Rng.seeded(0)); b.inputs().length
 * $2 ==> 256
 * }</pre>
 */
public final class TextDataset {
    /** Which part of the token stream. */
    public enum Split { TRAIN, VAL }

    private final int[] tokens;
    private final int nTrain;
    private final Tokenizer tokenizer;

    private TextDataset(int[] tokens, Tokenizer tokenizer, double trainFraction) {
        if (!(trainFraction >= 0 && trainFraction <= 1))
            throw new IllegalArgumentException("TextDataset: trainFraction must be in [0, 1], got " + trainFraction);
        this.tokens = tokens;
        this.tokenizer = tokenizer;
        this.nTrain = (int) Math.floor(tokens.length * trainFraction);
    }

    /**
     * Reads a UTF-8 file and encodes it; {@code tokenizer == null} builds a {@link CharTokenizer} from the whole
     * file (as nanoGPT's char model does).
     */
    public static TextDataset of(Path file, Tokenizer tokenizer, double trainFraction) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Tokenizer t = tokenizer != null ? tokenizer : CharTokenizer.fromCorpus(text);
        return new TextDataset(t.encode(text), t, trainFraction);
    }

    /** Wraps already-encoded tokens (copied); ids must lie in {@code [0, tokenizer.vocabSize())}. */
    public static TextDataset ofTokens(int[] tokens, Tokenizer tokenizer, double trainFraction) {
        int v = tokenizer.vocabSize();
        for (int i = 0; i < tokens.length; i++)
            if (tokens[i] < 0 || tokens[i] >= v) throw new IllegalArgumentException("TextDataset: token " + tokens[i] + " at " + i + " outside [0, " + v + ")");
        return new TextDataset(tokens.clone(), tokenizer, trainFraction);
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public int vocabSize() {
        return tokenizer.vocabSize();
    }

    /** Total number of tokens. */
    public int size() {
        return tokens.length;
    }

    /** Number of tokens in a split. */
    public int size(Split split) {
        return split == Split.TRAIN ? nTrain : tokens.length - nTrain;
    }

    /** First token index of a split in the whole stream. */
    public int offset(Split split) {
        return split == Split.TRAIN ? 0 : nTrain;
    }

    /** A copy of a split's tokens. */
    public int[] tokens(Split split) {
        return Arrays.copyOfRange(tokens, offset(split), offset(split) + size(split));
    }

    /** {@code B} windows of {@code L + 1} tokens starting at uniform random positions of the split. */
    public Batch batch(Split split, int batchSize, int length, RandomGenerator rng) {
        int n = size(split);
        checkFits(split, batchSize, length, n);
        int[] starts = new int[batchSize];
        for (int b = 0; b < batchSize; b++) starts[b] = rng.nextInt(n - length);
        return windows(split, starts, length);
    }

    /** Windows of {@code L + 1} tokens at the given split-relative starts ({@code 0 <= start <= size - L - 1}). */
    public Batch windows(Split split, int[] starts, int length) {
        int n = size(split), off = offset(split), w = length + 1;
        int[] out = new int[starts.length * w];
        for (int b = 0; b < starts.length; b++) {
            if (starts[b] < 0 || starts[b] + w > n)
                throw new IllegalArgumentException("TextDataset.windows: start " + starts[b] + " + " + w + " tokens outside " + split + " of " + n);
            System.arraycopy(tokens, off + starts[b], out, b * w, w);
        }
        return new Batch(starts.length, length, out);
    }

    /**
     * Number of non-overlapping windows {@code sequential} yields for a split: windows start at {@code j * L}
     * and need {@code L + 1} tokens, so {@code floor((size - 1) / L)}.
     */
    public int sequentialCount(Split split, int length) {
        if (length < 1) throw new IllegalArgumentException("TextDataset: length must be >= 1, got " + length);
        return Math.max(0, (size(split) - 1) / length);
    }

    /**
     * Batch {@code index} of the non-overlapping windows {@code j * L} in order, {@code B} per batch (the last
     * batch may be smaller); together they predict every token of the split except the last remainder.
     */
    public Batch sequential(Split split, int batchSize, int length, int index) {
        int count = sequentialCount(split, length);
        int first = index * batchSize;
        if (batchSize < 1 || first < 0 || first >= count)
            throw new IllegalArgumentException("TextDataset.sequential: batch " + index + " of size " + batchSize + " beyond " + count + " windows");
        int[] starts = new int[Math.min(batchSize, count - first)];
        for (int i = 0; i < starts.length; i++) starts[i] = (first + i) * length;
        return windows(split, starts, length);
    }

    private static void checkFits(Split split, int batchSize, int length, int n) {
        if (batchSize < 1 || length < 1)
            throw new IllegalArgumentException("TextDataset.batch: need B >= 1 and L >= 1, got B=" + batchSize + " L=" + length);
        if (length + 1 > n)
            throw new IllegalArgumentException("TextDataset.batch: L+1 = " + (length + 1) + " tokens do not fit in " + split + " of " + n + " tokens");
    }

    @Override
    public String toString() {
        return "TextDataset(n=" + tokens.length + ", train=" + size(Split.TRAIN) + ", val=" + size(Split.VAL) + ", vocab=" + vocabSize() + ")";
    }
}
