// Expressions evaluated as `Object v = (EXPR);` (ValueSnippets): same results as JShell's own path. No tensor shapes here.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ValueSnippetsTest {
    @Test
    void expressionsAreRecognisedFromTheirTokens() {
        var v = new ValueSnippets();
        for (String e : List.of("1+1", "x * 2", "t.mul(2).sum(1, false)", "a[0] = 3", "(String) o", "new int[]{1, 2}",
                "x > 0", "s.length() // a comment; with a semicolon", "\"a;b\" + 'c'", "b ? 1 : 2.0", "x++", "-x",
                "new ArrayList<Integer>(List.of(1))", "names.stream().map(n -> n + 1).toList()", "\"\"\"\n  text\n  \"\"\".strip()")) {
            String stripped = e.strip();
            assertEquals(stripped, v.expression(e + ";"), e);
            assertEquals(stripped, v.expression(e), e);
        }
    }

    @Test
    void declarationsStatementsAndLambdasAreNot() {
        var v = new ValueSnippets();
        for (String s : List.of("var x = 3;", "int y = 5", "List<String> xs = new ArrayList<>();", "Foo[] a;", "Foo f",
                "x -> x", "String::length", "import java.util.*;", "class A { }", "record R(int a) { }", "void f() { }",
                "for (;;) { }", "if (x) y();", "switch (x) { default -> 1; }", "@Deprecated int f() { return 1; }",
                "x = 1; y = 2", "return 3;", "throw new RuntimeException();", "\"not closed", "1 + /* not closed",
                "(1 + 2", "1 + 2)", "")) {
            assertNull(v.expression(s), s);
        }
    }

    @Test
    void numbersWithExponentsAreOneToken() {
        assertEquals(List.of("0", "+", "0"), ValueSnippets.tokens("1.5e+3 + 2"));
        assertEquals(List.of("0", "+", "0"), ValueSnippets.tokens("0x1E+3"), "hex: E is a digit, + an operator");
        assertEquals(List.of("0"), ValueSnippets.tokens("0x1.8p-2"));
        assertEquals(List.of("x", "-", "0"), ValueSnippets.tokens("x - 1_000L // comment"));
    }

    @Test
    void voidMethodsAreRemembered() {
        var v = new ValueSnippets();
        assertNull(v.expression("System.out.println(1)"), "seeded: println");
        assertEquals("list.clear()", v.expression("list.clear()"));
        v.markVoid("list.clear()");
        assertNull(v.expression("other.clear()"));
        assertEquals("other.clear().size()", v.expression("other.clear().size()"), "only the last call counts");
        assertEquals("clear", ValueSnippets.lastCallName("a.b(c(d)).clear(e(1))"));
        assertNull(ValueSnippets.lastCallName("a.b() + 1"));
    }

    /** Values, void calls, errors of every kind, and the declarations they depend on. */
    static final List<String> CELLS = List.of(
            "1+1", "var x = 3; x * 2", "x", "x = 7", "x += 1", "x++", "x > 2", "'a' + 1", "true ? 1 : 2.0", "null",
            "String s = \"a\"; s.length() // c;", "new Object() { int f = 3; }.f", "var l = new ArrayList<Integer>(); l.add(3)",
            "l.clear()", "l.clear()", "l.size()", "List.of(3, 1, 2).stream().sorted().map(i -> i * 2).toList()",
            "int f(int a) { return a / 0; }", "x +\n f(2)", "1/0", "foo + 1", "x -> x", "Object o = 1; (String) o",
            "new int[]{1, 2}.length", "Math.max(1, 2", "Tensor.ones(DType.F32, 2, 3).mul(2).sum(1, false)",
            "Optional.empty().orElseThrow()", "int x = 10; x * x", "record P(int a) { } new P(4)");

    static List<String> run(Engine e) {
        return run(e, CELLS);
    }

    /** Each cell's outcome as a line; snippet ids of traces normalised (they differ between the engines' paths). */
    static List<String> run(Engine e, List<String> cells) {
        var out = new ArrayList<String>();
        for (String c : cells) {
            var warnings = new StringBuilder();
            Engine.Eval r = e.eval(c, 1, warnings::append);
            out.add(c + " -> " + (r.error() != null ? "error " + r.error().traceback()
                    : r.hasValue() ? "value " + r.value() : "none") + (warnings.isEmpty() ? "" : " warn " + warnings));
        }
        // snippet ids in traces ("snippet #45:1") may differ: a rejected try takes an id, a direct expression has none
        out.replaceAll(l -> l.replaceAll("snippet #(\\d+|expr)", "snippet #N"));
        return out;
    }

    @Test
    void sameResultsAsJShellsOwnExpressionPath() {
        List<String> fast, slow;
        int[] used;
        try (var e = new Engine(true, true, false, false)) {
            fast = run(e);
            used = e.valueDeclarations();
            assertEquals(0, e.activeTempVars());
            assertEquals(0, e.eval("1 + 1", 1, w -> { }).value() instanceof Integer i ? i - 2 : -1);
        }
        try (var e = new Engine(true, false)) {
            slow = run(e);
            assertArrayEquals(new int[]{0, 0}, e.valueDeclarations(), "the slow twin never declares values");
        }
        assertEquals(slow, fast);
        assertTrue(fast.contains("x * 2 -> value 6") || fast.stream().anyMatch(l -> l.startsWith("var x = 3; x * 2 -> value 6")), fast::toString);
        assertTrue(fast.stream().anyMatch(l -> l.startsWith("1/0 -> error [java.lang.ArithmeticException: / by zero,  In your code:,   at cell line 1]")), fast::toString);
        assertTrue(fast.stream().anyMatch(l -> l.startsWith("x +\n f(2) -> error") && l.contains("at cell line 2")), fast::toString);
        // most expressions are accepted as value declarations; rejected tries, run again as written: the
        // first l.clear() (void; the second is not tried: clear is known void by then) and foo + 1
        assertTrue(used[1] >= 17, "accepted: " + used[1]);
        assertEquals(2, used[0] - used[1], "tried but rejected");
    }
}
