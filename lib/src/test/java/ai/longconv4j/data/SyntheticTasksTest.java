// Tests for the synthetic tasks: every target re-derived by an independent scan of the inputs; determinism;
// awkward sizes (odd/even L, minimal sizes). n examples, L length, V vocab.
package ai.longconv4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashMap;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SyntheticTasksTest {
    static final int IGN = TaskData.IGNORE;

    static void assertInVocab(TaskData d) {
        for (int v : d.inputs()) assertTrue(v >= 0 && v < d.vocabSize(), d + ": input token " + v);
        for (int v : d.targets()) assertTrue(v == IGN || (v >= 0 && v < d.vocabSize()), d + ": target " + v);
    }

    @Test
    void associativeRecallAnswersFollowFromTheSequence() {
        for (int L : new int[] {3, 4, 9, 64, 257, 256}) {
            for (int V : new int[] {4, 5, 30}) {
                TaskData d = SyntheticTasks.associativeRecall(V, L, 50, new SplittableRandom(L * 100 + V));
                assertInVocab(d);
                assertEquals(50, d.targetCount());
                for (int e = 0; e < d.count(); e++) {
                    int[] x = d.inputs(e), y = d.targets(e);
                    int q = x[L - 1];
                    assertTrue(q < V / 2, "query is a key");
                    // independent: every earlier occurrence of the key is followed by the same value, and that value is the target
                    Integer answer = null;
                    var seen = new HashMap<Integer, Integer>();
                    for (int j = 0; j < L - 1; j++) {
                        if (x[j] < V / 2) {
                            assertTrue(j + 1 < L - 1, "a key is always followed by its value");
                            Integer prev = seen.put(x[j], x[j + 1]);
                            assertTrue(prev == null || prev == x[j + 1], "key " + x[j] + " has two values");
                            if (x[j] == q) answer = x[j + 1];
                        }
                    }
                    assertNotNull(answer, "query occurs in the context");
                    assertEquals(answer, y[L - 1]);
                    for (int t = 0; t < L - 1; t++) assertEquals(IGN, y[t]);
                }
            }
        }
    }

    @Test
    void inductionHeadCopiesTheTokenAfterTheTrigger() {
        for (int L : new int[] {3, 5, 128}) {
            int V = 10;
            TaskData d = SyntheticTasks.inductionHead(V, L, 100, new SplittableRandom(L));
            assertInVocab(d);
            for (int e = 0; e < d.count(); e++) {
                int[] x = d.inputs(e), y = d.targets(e);
                assertEquals(V - 1, x[L - 1]);
                int found = -1, n = 0;
                for (int j = 0; j < L - 1; j++) if (x[j] == V - 1) {
                    found = j;
                    n++;
                }
                assertEquals(1, n, "exactly one earlier trigger");
                assertTrue(found + 1 < L - 1);
                assertEquals(x[found + 1], y[L - 1]);
                assertEquals(1, java.util.Arrays.stream(y).filter(v -> v != IGN).count());
            }
        }
    }

    @Test
    void multiQueryRecallTargetsMatchEarlierPairs() {
        int V = 40, L = 64, P = 8, Q = 5;
        TaskData d = SyntheticTasks.multiQueryAssociativeRecall(V, L, P, Q, 80, new SplittableRandom(9));
        assertInVocab(d);
        assertEquals(80 * Q, d.targetCount());
        for (int e = 0; e < d.count(); e++) {
            int[] x = d.inputs(e), y = d.targets(e);
            var keys = new java.util.HashSet<Integer>();
            for (int p = 0; p < P; p++) assertTrue(keys.add(x[2 * p]), "distinct keys in the pair block");
            for (int t = 0; t < L; t++) {
                if (y[t] == IGN) continue;
                assertTrue(t >= 2 * P, "queries after the pairs");
                int first = -1;
                for (int j = 0; j < t; j++) if (x[j] == x[t]) { first = j; break; }
                assertTrue(first >= 0 && first < 2 * P, "queried key appears in the pair block");
                assertEquals(x[first + 1], y[t], "value of the pair");
                assertEquals(y[t], x[t + 1], "value follows the query in the stream");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> SyntheticTasks.multiQueryAssociativeRecall(V, 20, 8, 5, 1, new SplittableRandom(0)));
        assertThrows(IllegalArgumentException.class, () -> SyntheticTasks.multiQueryAssociativeRecall(10, 64, 5, 2, 1, new SplittableRandom(0)));
    }

    @Test
    void copyingReproducesThePrefix() {
        int V = 8, M = 10, G = 7;
        TaskData d = SyntheticTasks.copying(V, M, G, 30, new SplittableRandom(2));
        assertEquals(2 * M + G, d.length());
        assertEquals(V + 2, d.vocabSize());
        assertInVocab(d);
        for (int e = 0; e < d.count(); e++) {
            int[] x = d.inputs(e), y = d.targets(e);
            for (int i = 0; i < G; i++) assertEquals(V, x[M + i]);
            for (int i = 0; i < M; i++) {
                assertEquals(V + 1, x[M + G + i]);
                assertEquals(x[i], y[M + G + i]);
                assertEquals(IGN, y[i]);
            }
        }
    }

    @Test
    void selectiveCopyingReproducesNonBlankTokensInOrder() {
        int V = 6, M = 5, R = 23;
        TaskData d = SyntheticTasks.selectiveCopying(V, M, R, 40, new SplittableRandom(4));
        assertInVocab(d);
        var positionsSeen = new java.util.HashSet<String>();
        for (int e = 0; e < d.count(); e++) {
            int[] x = d.inputs(e), y = d.targets(e);
            var data = new java.util.ArrayList<Integer>();
            var pos = new StringBuilder();
            for (int j = 0; j < R; j++) if (x[j] != V) {
                data.add(x[j]);
                pos.append(j).append(',');
            }
            positionsSeen.add(pos.toString());
            assertEquals(M, data.size());
            for (int i = 0; i < M; i++) {
                assertEquals(V + 1, x[R + i]);
                assertEquals(data.get(i), y[R + i]);
            }
        }
        assertTrue(positionsSeen.size() > 30, "positions vary between examples");
        assertDoesNotThrow(() -> SyntheticTasks.selectiveCopying(V, 5, 5, 2, new SplittableRandom(0)));
    }

    @Test
    void sameSeedSameDataDifferentSeedDifferentData() {
        assertEquals(SyntheticTasks.associativeRecall(30, 256, 20, new SplittableRandom(1)), SyntheticTasks.associativeRecall(30, 256, 20, new SplittableRandom(1)));
        assertNotEquals(SyntheticTasks.associativeRecall(30, 256, 20, new SplittableRandom(1)), SyntheticTasks.associativeRecall(30, 256, 20, new SplittableRandom(2)));
        assertEquals(SyntheticTasks.selectiveCopying(5, 4, 20, 9, new SplittableRandom(3)), SyntheticTasks.selectiveCopying(5, 4, 20, 9, new SplittableRandom(3)));
        var d = SyntheticTasks.inductionHead(12, 32, 10, new SplittableRandom(8));
        var r = d.rows(3, 5);
        assertArrayEquals(d.inputs(3), r.inputs(0));
        assertArrayEquals(d.targets(4), r.targets(1));
    }

    @Test
    void samplingDrawsWholeExamples() {
        var d = SyntheticTasks.inductionHead(12, 16, 40, new SplittableRandom(8));
        var b = d.sample(64, new SplittableRandom(1));
        assertEquals(64, b.count());
        var rows = new java.util.HashSet<String>();
        for (int i = 0; i < d.count(); i++) rows.add(java.util.Arrays.toString(d.inputs(i)) + java.util.Arrays.toString(d.targets(i)));
        var drawn = new java.util.HashSet<String>();
        for (int i = 0; i < b.count(); i++) {
            String r = java.util.Arrays.toString(b.inputs(i)) + java.util.Arrays.toString(b.targets(i));
            assertTrue(rows.contains(r), "a sampled row is one of the examples, inputs and targets together");
            drawn.add(r);
        }
        assertTrue(drawn.size() > 20, "draws vary");
        assertEquals(b, d.sample(64, new SplittableRandom(1)));
    }

    @Test
    void answersAreSpreadOverTheValueRange() {
        // negative control against a constant answer: AR answers for V=30 should use most of the 15 values
        TaskData d = SyntheticTasks.associativeRecall(30, 33, 2000, new SplittableRandom(11));
        int[] hist = new int[30];
        for (int e = 0; e < d.count(); e++) hist[d.targets()[e * 33 + 32]]++;
        int used = 0;
        for (int v = 15; v < 30; v++) if (hist[v] > 2000 / 15 / 2) used++;
        assertEquals(15, used, "every value is a frequent answer");
    }

    @Test
    void denseRecallTargetsMarkEveryRepeatedKeyWithItsValue() {
        for (int len : new int[] {9, 10, 64}) {                       // odd and even L (a cut-off value first when L-1 is odd)
            TaskData d = SyntheticTasks.associativeRecall(10, len, 50, new SplittableRandom(len));
            TaskData dense = SyntheticTasks.denseRecallTargets(d);
            assertArrayEquals(d.inputs(), dense.inputs());
            int repeats = 0;
            for (int e = 0; e < d.count(); e++) {
                int[] x = d.inputs(e), y = dense.targets(e);
                assertEquals(d.targets(e)[len - 1], y[len - 1], "the final query keeps its target");
                var seen = new java.util.HashSet<Integer>();
                for (int t = 0; t < len - 1; t++) {
                    boolean keyOfPair = t >= (len - 1) % 2 && (t - (len - 1) % 2) % 2 == 0;
                    if (keyOfPair && !seen.add(x[t])) {
                        assertEquals(x[t + 1], y[t], "repeated key at " + t + " -> the value after it");
                        repeats++;
                    } else {
                        assertEquals(TaskData.IGNORE, y[t], "no target at " + t + " (value, or first occurrence of a key)");
                    }
                }
            }
            assertTrue(repeats > 0, "some keys repeat at L=" + len);
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> SyntheticTasks.denseRecallTargets(SyntheticTasks.copying(5, 3, 2, 2, new SplittableRandom(1))));
        assertTrue(e.getMessage().contains("denseRecallTargets"), e.getMessage());
    }
}
