// Synthetic in-context tasks, generated locally from a seeded RandomGenerator.
// n examples, L sequence length, V vocabulary size; every task returns TaskData with (n, L) inputs/targets.
package ai.longconv4j.data;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Generators for the synthetic tasks used to probe sequence mixers (associative recall and induction head in the
 * style of the H3/Hyena "safari" code, multi-query associative recall in the style of Zoology, copying and
 * selective copying). All are deterministic given the generator's seed. Layouts (positions 0-based, L = length):
 *
 * <ul>
 *   <li><b>associativeRecall(V, L)</b>: keys are {@code [0, V/2)}, values {@code [V/2, V)}; each example draws a
 *       random key→value map. Positions {@code [0, L-1)} hold key,value pairs ending at L-2 (if L-1 is odd, position
 *       0 holds the value of a cut-off pair); keys repeat, always with their example's value. Position L-1 holds a
 *       query key that occurs in a pair; the only target is at L-1: its value.</li>
 *   <li><b>denseRecallTargets(d)</b>: the same associative-recall inputs, with a target at every recall the
 *       sequence already determines: at each key position whose key occurred before (in an earlier pair) the
 *       target is the value that follows it (keys keep their value within an example), plus the final query's.
 *       For training: ~L/2 - V/2 supervised positions per sequence instead of one (the safari-style LM loss
 *       over all positions supervises the same ones; the others are unpredictable). Score held-out data on
 *       the final token only.</li>
 *   <li><b>inductionHead(V, L)</b>: token V-1 is the trigger; other positions are uniform in {@code [0, V-1)}.
 *       The trigger occurs at a random position p in {@code [0, L-3]} and at L-1 only; the only target is at L-1:
 *       the token at p+1.</li>
 *   <li><b>multiQueryAssociativeRecall(V, L, P, Q)</b>: token 0 is filler; keys {@code [1, V/2)}, values
 *       {@code [V/2, V)}. Positions {@code [0, 2P)} hold P pairs with distinct keys; the rest is split into slots
 *       {@code (2P + 2s, 2P + 2s + 1)}, Q of them (random) hold a queried key (distinct, from the pairs) followed by
 *       its value; other positions are filler. Targets sit at each query key position: the value.</li>
 *   <li><b>copying(V, M, G)</b>: data tokens {@code [0, V)}, blank V, marker V+1 (vocab V+2); L = M + G + M:
 *       M random data tokens, G blanks, M markers; targets at {@code M+G+i} = data token i.</li>
 *   <li><b>selectiveCopying(V, M, R)</b>: same tokens; L = R + M: M data tokens at random sorted positions of the
 *       first R positions (blanks elsewhere), then M markers; targets at {@code R+i} = the i-th data token.</li>
 * </ul>
 *
 * <pre>{@code
 * jshell> var ar = SyntheticTasks.associativeRecall(30, 256, 1000, Rng.seeded(0))
 * ar ==> TaskData(associative-recall, n=1000, L=256, vocab=30)
 * }</pre>
 */
public final class SyntheticTasks {
    private SyntheticTasks() {}

    private static void require(boolean ok, String task, String msg) {
        if (!ok) throw new IllegalArgumentException("SyntheticTasks." + task + ": " + msg);
    }

    private static int[] ignored(int n) {
        int[] t = new int[n];
        Arrays.fill(t, TaskData.IGNORE);
        return t;
    }

    /** Associative recall; see the class comment. Needs V >= 4 and L >= 3. */
    public static TaskData associativeRecall(int vocabSize, int length, int count, RandomGenerator rng) {
        require(vocabSize >= 4, "associativeRecall", "vocabSize must be >= 4, got " + vocabSize);
        require(length >= 3, "associativeRecall", "length must be >= 3, got " + length);
        require(count >= 0, "associativeRecall", "count must be >= 0");
        int nk = vocabSize / 2, nv = vocabSize - nk, L = length;
        int[] x = new int[count * L], y = ignored(count * L);
        int[] map = new int[nk];
        for (int e = 0; e < count; e++) {
            for (int k = 0; k < nk; k++) map[k] = nk + rng.nextInt(nv);
            int o = e * L;
            int start = (L - 1) % 2; // 1 if a cut-off value comes first
            if (start == 1) x[o] = map[rng.nextInt(nk)];
            int pairs = (L - 1) / 2;
            int[] keysUsed = new int[pairs];
            for (int p = 0; p < pairs; p++) {
                int k = rng.nextInt(nk);
                keysUsed[p] = k;
                x[o + start + 2 * p] = k;
                x[o + start + 2 * p + 1] = map[k];
            }
            int q = keysUsed[rng.nextInt(pairs)];
            x[o + L - 1] = q;
            y[o + L - 1] = map[q];
        }
        return new TaskData("associative-recall", count, L, vocabSize, x, y);
    }

    /** Dense recall targets for associative-recall data made by {@link #associativeRecall}; see the class comment. */
    public static TaskData denseRecallTargets(TaskData d) {
        require(d.task().startsWith("associative-recall"), "denseRecallTargets", "needs associative-recall data, got " + d.task());
        int l = d.length(), nk = d.vocabSize() / 2;
        int[] x = d.inputs(), y = d.targets().clone();
        boolean[] seen = new boolean[nk];
        for (int e = 0; e < d.count(); e++) {
            Arrays.fill(seen, false);
            int o = e * l;
            for (int t = (l - 1) % 2; t + 1 < l - 1; t += 2) {      // key positions of the pairs
                int k = x[o + t];
                if (seen[k]) {
                    y[o + t] = x[o + t + 1];
                }
                seen[k] = true;
            }
        }
        return new TaskData(d.task() + "-dense", d.count(), l, d.vocabSize(), x, y);
    }

    /** Induction head; see the class comment. Needs V >= 3 and L >= 3. */
    public static TaskData inductionHead(int vocabSize, int length, int count, RandomGenerator rng) {
        require(vocabSize >= 3, "inductionHead", "vocabSize must be >= 3, got " + vocabSize);
        require(length >= 3, "inductionHead", "length must be >= 3, got " + length);
        int L = length, trigger = vocabSize - 1;
        int[] x = new int[count * L], y = ignored(count * L);
        for (int e = 0; e < count; e++) {
            int o = e * L;
            for (int t = 0; t < L; t++) x[o + t] = rng.nextInt(vocabSize - 1);
            int p = rng.nextInt(L - 2); // [0, L-3]
            x[o + p] = trigger;
            x[o + L - 1] = trigger;
            y[o + L - 1] = x[o + p + 1];
        }
        return new TaskData("induction-head", count, L, vocabSize, x, y);
    }

    /** Multi-query associative recall with P pairs and Q queries; see the class comment. */
    public static TaskData multiQueryAssociativeRecall(int vocabSize, int length, int numPairs, int numQueries, int count, RandomGenerator rng) {
        String op = "multiQueryAssociativeRecall";
        int nk = vocabSize / 2 - 1, nv = vocabSize - vocabSize / 2, L = length, P = numPairs, Q = numQueries;
        require(vocabSize >= 6, op, "vocabSize must be >= 6, got " + vocabSize);
        require(P >= 1 && P <= nk, op, "numPairs must be in [1, " + nk + "] (distinct keys of vocab " + vocabSize + "), got " + P);
        int slots = (L - 2 * P) / 2;
        require(Q >= 1 && Q <= P && Q <= slots, op, "numQueries must be in [1, min(numPairs, (L - 2*numPairs)/2)] = [1, "
                + Math.min(P, Math.max(slots, 0)) + "], got " + Q + " (L=" + L + ")");
        int[] x = new int[count * L], y = ignored(count * L);
        int[] keys = new int[nk], slotIdx = new int[Math.max(slots, 0)];
        for (int e = 0; e < count; e++) {
            int o = e * L;
            for (int k = 0; k < nk; k++) keys[k] = 1 + k;
            shufflePrefix(keys, P, rng); // keys[0..P) distinct random keys
            int[] values = new int[P];
            for (int p = 0; p < P; p++) {
                values[p] = vocabSize / 2 + rng.nextInt(nv);
                x[o + 2 * p] = keys[p];
                x[o + 2 * p + 1] = values[p];
            }
            int[] which = new int[P];
            for (int p = 0; p < P; p++) which[p] = p;
            shufflePrefix(which, Q, rng); // queried pairs
            for (int s = 0; s < slots; s++) slotIdx[s] = s;
            shufflePrefix(slotIdx, Q, rng); // their slots
            for (int i = 0; i < Q; i++) {
                int pos = o + 2 * P + 2 * slotIdx[i];
                x[pos] = keys[which[i]];
                x[pos + 1] = values[which[i]];
                y[pos] = values[which[i]];
            }
        }
        return new TaskData("multi-query-associative-recall", count, L, vocabSize, x, y);
    }

    /** Partial Fisher–Yates: afterwards a[0..k) is a uniform random k-subset of a, in random order. */
    private static void shufflePrefix(int[] a, int k, RandomGenerator rng) {
        for (int i = 0; i < k; i++) {
            int j = i + rng.nextInt(a.length - i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** Copying with M data tokens and G blanks; see the class comment. */
    public static TaskData copying(int vocabSize, int numTokens, int gap, int count, RandomGenerator rng) {
        require(vocabSize >= 1 && numTokens >= 1 && gap >= 0, "copying", "need V >= 1, M >= 1, G >= 0, got V=" + vocabSize + " M=" + numTokens + " G=" + gap);
        int M = numTokens, L = 2 * M + gap, blank = vocabSize, mark = vocabSize + 1;
        int[] x = new int[count * L], y = ignored(count * L);
        for (int e = 0; e < count; e++) {
            int o = e * L;
            for (int i = 0; i < M; i++) x[o + i] = rng.nextInt(vocabSize);
            for (int i = 0; i < gap; i++) x[o + M + i] = blank;
            for (int i = 0; i < M; i++) {
                x[o + M + gap + i] = mark;
                y[o + M + gap + i] = x[o + i];
            }
        }
        return new TaskData("copying", count, L, vocabSize + 2, x, y);
    }

    /** Selective copying of M data tokens scattered in a region of R positions; see the class comment. */
    public static TaskData selectiveCopying(int vocabSize, int numTokens, int region, int count, RandomGenerator rng) {
        require(vocabSize >= 1 && numTokens >= 1 && region >= numTokens, "selectiveCopying",
                "need V >= 1, M >= 1, R >= M, got V=" + vocabSize + " M=" + numTokens + " R=" + region);
        int M = numTokens, R = region, L = R + M, blank = vocabSize, mark = vocabSize + 1;
        int[] x = new int[count * L], y = ignored(count * L);
        int[] positions = new int[R];
        for (int e = 0; e < count; e++) {
            int o = e * L;
            for (int i = 0; i < R; i++) {
                positions[i] = i;
                x[o + i] = blank;
            }
            shufflePrefix(positions, M, rng);
            int[] chosen = Arrays.copyOf(positions, M);
            Arrays.sort(chosen);
            for (int i = 0; i < M; i++) {
                int tok = rng.nextInt(vocabSize);
                x[o + chosen[i]] = tok;
                x[o + R + i] = mark;
                y[o + R + i] = tok;
            }
        }
        return new TaskData("selective-copying", count, L, vocabSize + 2, x, y);
    }
}
