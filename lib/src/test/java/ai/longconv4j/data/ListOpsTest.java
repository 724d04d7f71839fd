// Tests for ListOps: hand-computed values, a stack-based slow twin evaluator, generator constraints, LRA
// parenthesized form, tokenizer, TSV round trip. n examples, L token length.
package ai.longconv4j.data;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListOpsTest {

    @Test
    void handComputedExpressions() {
        assertEquals(9, ListOps.evaluate("[MAX 2 9 [MIN 4 7 ] 0 ]"));
        assertEquals(3, ListOps.evaluate("[SM 5 6 [MED 1 2 3 4 ] ]")); // MED(1,2,3,4) = floor(2.5) = 2; 5+6+2 = 13 -> 3
        assertEquals(5, ListOps.evaluate("[MED 7 [MIN 3 8 ] 1 9 ]")); // 1 3 7 9 -> (3+7)/2
        assertEquals(4, ListOps.evaluate("[MED 9 0 4 ]"));
        assertEquals(0, ListOps.evaluate("[SM 9 1 ]"));
        assertEquals(1, ListOps.evaluate("[MIN [MAX 1 0 ] [SM 8 8 ] ]")); // MIN(1, 6)
        assertEquals(7, ListOps.evaluate("7"));
        assertEquals(2, ListOps.evaluate("[MED 1 4 ]"), "even count: floor of the mean of the middle two (int(np.median))");
    }

    @Test
    void lraParenthesizedFormMatchesThePublishedLayout() {
        var n = ListOps.parse("[MAX 2 9 [MIN 4 7 ] 0 ]");
        // written out by hand from the LRA rule: ((((op, a1), a2), ...), "]") -> "( " left " " right " )"
        String lra = "( ( ( ( ( [MAX 2 ) 9 ) ( ( ( [MIN 4 ) 7 ) ] ) ) 0 ) ] )";
        assertEquals(lra, ListOps.format(n, true));
        assertEquals("[MAX 2 9 [MIN 4 7 ] 0 ]", ListOps.format(n));
        assertEquals(n, ListOps.parse(lra));
        assertEquals(9, ListOps.evaluate(lra));
        assertEquals(9, ListOps.length(n)); // [MAX 2 9 [MIN 4 7 ] 0 ]
        assertEquals(2, ListOps.depth(n));
    }

    @Test
    void malformedExpressionsAreRejected() {
        for (String bad : new String[] {"", "[MAX 1 2", "[MAX ]", "[FOO 1 ]", "[MAX 1 2 ] 3", "12", "]"})
            assertThrows(IllegalArgumentException.class, () -> ListOps.parse(bad), bad);
    }

    /** Slow twin: evaluates the token stream right to left with a stack, never building a tree. */
    static int stackEvaluate(String source) {
        String[] tok = source.replace("(", " ").replace(")", " ").strip().split("\\s+");
        ArrayDeque<Object> st = new ArrayDeque<>();
        for (int i = tok.length - 1; i >= 0; i--) {
            String t = tok[i];
            if (t.equals("]")) st.push("]");
            else if (t.startsWith("[")) {
                List<Integer> v = new ArrayList<>();
                while (!(st.peek() instanceof String)) v.add((Integer) st.pop());
                st.pop(); // "]"
                int r = switch (t) {
                    case "[MIN" -> v.stream().mapToInt(x -> x).min().getAsInt();
                    case "[MAX" -> v.stream().mapToInt(x -> x).max().getAsInt();
                    case "[SM" -> v.stream().mapToInt(x -> x).sum() % 10;
                    case "[MED" -> {
                        var s = v.stream().sorted().toList();
                        int k = s.size();
                        yield (int) Math.floor((s.get((k - 1) / 2) + s.get(k / 2)) / 2.0);
                    }
                    default -> throw new AssertionError(t);
                };
                st.push(r);
            } else st.push(Integer.parseInt(t));
        }
        assertEquals(1, st.size());
        return (Integer) st.pop();
    }

    @Test
    void generatorRespectsConfigAndAgreesWithSlowTwin() {
        var c = ListOps.Config.lra().withLength(20, 120);
        var rng = new SplittableRandom(17);
        int[] classes = new int[10];
        int maxDepthSeen = 0;
        for (int i = 0; i < 600; i++) {
            ListOps.Node n = ListOps.generate(c, rng);
            int len = ListOps.length(n);
            assertTrue(len >= 20 && len <= 120, "length " + len);
            assertTrue(ListOps.depth(n) <= 10);
            maxDepthSeen = Math.max(maxDepthSeen, ListOps.depth(n));
            checkArgs(n);
            String s = ListOps.format(n);
            assertEquals(len, s.split(" ").length);
            int v = ListOps.evaluate(n);
            assertEquals(stackEvaluate(s), v, s);
            assertEquals(v, stackEvaluate(ListOps.format(n, true)));
            assertEquals(n, ListOps.parse(s));
            classes[v]++;
        }
        for (int k = 0; k < 10; k++) assertTrue(classes[k] > 0, "class " + k + " never generated");
        assertTrue(maxDepthSeen >= 3, "trees nest");
    }

    @Test
    void depthLimitIsEnforcedEvenWhenAlwaysBranching() {
        var c = new ListOps.Config(3, 2, 2, 1, 100, 1.0);
        var n = ListOps.generate(c, new SplittableRandom(1));
        assertEquals(3, ListOps.depth(n)); // full binary tree of depth 3: 8 digits, 7 operators
        assertEquals(8 + 2 * 7, ListOps.length(n));
    }

    static void checkArgs(ListOps.Node n) {
        if (n instanceof ListOps.Apply a) {
            assertTrue(a.args().size() >= 2 && a.args().size() <= 10, "args " + a.args().size());
            a.args().forEach(ListOpsTest::checkArgs);
        }
    }

    @Test
    void lraDefaultWindowProducesLongExamples() {
        var ex = ListOps.generate(ListOps.Config.lra(), 3, new SplittableRandom(5));
        for (var e : ex) {
            int len = e.source().split(" ").length;
            assertTrue(len >= 500 && len <= 2000, "length " + len);
            assertEquals(stackEvaluate(e.source()), e.target());
        }
    }

    @Test
    void tsvRoundTripAndDeterminism(@TempDir Path dir) throws IOException {
        var c = ListOps.Config.lra().withLength(5, 60);
        var ex = ListOps.generate(c, 50, new SplittableRandom(3));
        assertEquals(ex, ListOps.generate(c, 50, new SplittableRandom(3)));
        assertNotEquals(ex, ListOps.generate(c, 50, new SplittableRandom(4)));
        Path f = dir.resolve("basic_train.tsv");
        ListOps.writeTsv(f, ex);
        List<String> lines = Files.readAllLines(f);
        assertEquals("Source\tTarget", lines.get(0));
        assertEquals(ex.get(0).source() + "\t" + ex.get(0).target(), lines.get(1));
        assertEquals(ex, ListOps.readTsv(f));
        // a file in the published parenthesized layout reads and evaluates the same
        Path lra = dir.resolve("lra.tsv");
        Files.writeString(lra, "Source\tTarget\n( ( ( ( ( [MAX 2 ) 9 ) ( ( ( [MIN 4 ) 7 ) ] ) ) 0 ) ] )\t9\n");
        var back = ListOps.readTsv(lra);
        assertEquals(9, ListOps.evaluate(back.get(0).source()));
        Files.writeString(lra, "Target\tSource\n");
        assertThrows(IllegalArgumentException.class, () -> ListOps.readTsv(lra));
        Files.writeString(lra, "Source\tTarget\n[MAX 1 2 ]\t12\n");
        assertThrows(IllegalArgumentException.class, () -> ListOps.readTsv(lra));
    }

    @Test
    void tokenizerIdsPaddingAndBatches() {
        var t = ListOpsTokenizer.INSTANCE;
        assertEquals(18, t.vocabSize());
        assertArrayEquals(new int[] {12, 3, 10, 15}, t.encode("[MAX 2 9 ]"));
        assertArrayEquals(new int[] {12, 3, 10, 15, 0, 0}, t.encodePadded("( ( ( [MAX 2 ) 9 ) ] )", 6));
        assertEquals("[MAX 2 9 ]", t.decode(t.encodePadded("[MAX 2 9 ]", 8)));
        assertThrows(IllegalArgumentException.class, () -> t.encodePadded("[MAX 2 9 ]", 3));
        assertThrows(IllegalArgumentException.class, () -> t.encode("[MAX 2 x ]"));
        var ex = ListOps.generate(ListOps.Config.lra().withLength(5, 30), 7, new SplittableRandom(8));
        var set = t.encode(ex, 30);
        assertEquals(7, set.count());
        for (int i = 0; i < 7; i++) {
            assertEquals(ex.get(i).target(), set.labels()[i]);
            int[] row = java.util.Arrays.copyOfRange(set.inputs(), i * 30, (i + 1) * 30);
            assertEquals(ex.get(i).target(), ListOps.evaluate(t.decode(row)));
        }
        assertSame(t, Tokenizer.fromJson(t.toJson()));
        var batch = set.sample(5, new SplittableRandom(2));
        for (int i = 0; i < 5; i++) {
            int[] row = java.util.Arrays.copyOfRange(batch.inputs(), i * 30, (i + 1) * 30);
            assertEquals(batch.labels()[i], ListOps.evaluate(t.decode(row)), "label travels with its row");
        }
    }
}
