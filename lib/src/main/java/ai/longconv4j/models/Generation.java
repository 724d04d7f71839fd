// Shape legend: L window length (≤ the model's length), V vocabulary.
package ai.longconv4j.models;

import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Sampling from a {@link LongConvLM}: each new token is drawn from {@code softmax(logits / T)} of the
 * last position, restricted to the {@code topK} largest logits, with a seeded generator (same seed,
 * same text). Temperature 0 is greedy. The context is the last {@code model.length()} tokens; each step
 * recomputes the forward pass over it (no state is cached).
 *
 * <pre>{@code
 * jshell> var ids = Generation.sample(lm, tok.encode("ROMEO:"), 200, 0.8, 10, 42)
 * jshell> tok.decode(ids)
 * }</pre>
 */
public final class Generation {
    private Generation() {
    }

    /**
     * The prompt followed by {@code count} sampled tokens.
     *
     * @param temperature ≥ 0 (0: argmax)
     * @param topK        keep the k most likely tokens (≤ 0: all)
     */
    public static int[] sample(LongConvLM lm, int[] prompt, int count, double temperature, int topK, long seed) {
        if (prompt.length < 1 || count < 0 || !(temperature >= 0)) {
            throw new IllegalArgumentException("Generation.sample: need a non-empty prompt, count >= 0, temperature >= 0; got "
                    + prompt.length + " prompt tokens, count=" + count + ", temperature=" + temperature);
        }
        RandomGenerator rng = Rng.seeded(seed);
        int[] out = Arrays.copyOf(prompt, prompt.length + count);
        boolean was = lm.isTraining();
        lm.eval();
        try (var g = Tensor.noGrad()) {
            for (int n = prompt.length; n < out.length; n++) {
                int l = Math.min(n, lm.length());
                int[] ctx = Arrays.copyOfRange(out, n - l, n);
                double[] logits = lm.logits(ctx, 1, l).slice(1, l - 1, l).toDoubleArray();
                out[n] = pick(logits, temperature, topK, rng);
            }
        } finally {
            if (was) {
                lm.train();
            }
        }
        return out;
    }

    /** One draw from logits (V) with temperature and top-k. */
    static int pick(double[] logits, double temperature, int topK, RandomGenerator rng) {
        int v = logits.length;
        int best = 0;
        for (int i = 1; i < v; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        if (temperature == 0) {
            return best;
        }
        double cut = Double.NEGATIVE_INFINITY;
        if (topK > 0 && topK < v) {
            double[] sorted = logits.clone();
            Arrays.sort(sorted);
            cut = sorted[v - topK];
        }
        double[] p = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) {
            p[i] = logits[i] >= cut ? Math.exp((logits[i] - logits[best]) / temperature) : 0;
            sum += p[i];
        }
        double r = rng.nextDouble() * sum;
        for (int i = 0; i < v; i++) {
            r -= p[i];
            if (r < 0 && p[i] > 0) {
                return i;
            }
        }
        return best;
    }
}
