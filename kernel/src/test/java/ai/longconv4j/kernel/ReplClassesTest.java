// Pruning of JShell's in-memory class files: bounded, and invisible to what cells compute. No tensor shapes here.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReplClassesTest {
    /** Declarations, redefinitions (with a dependent method recompiled), a class and its instance, and expression cells in between. */
    static final List<String> CELLS = List.of(
            "int a = 20;",
            "int twice(int x) { return 2 * x; }",
            "int quad(int x) { return twice(twice(x)); }",
            "record P(int x) { int sq() { return x * x; } }",
            "var p = new P(4);",
            "a + 1", "a + 2", "twice(a)", "p.sq()", "new P(3).sq()", "List.of(1, 2, 3).size()",
            "quad(a) + new P(3).sq()",
            "int twice(int x) { return 3 * x; }",   // quad is recompiled against the new twice
            "quad(1)", "p.sq() + p.x()",
            "String a = \"abc\";",                   // replaces int a
            "a.length()",
            "class Box { int v = 7; } new Box().v",
            "new Box().v + quad(1)");

    static List<String> run(Engine e) {
        var values = new ArrayList<String>();
        for (String c : CELLS) {
            Engine.Eval r = e.eval(c, 1, w -> { });
            assertNull(r.error(), () -> c + " failed: " + r.error().text());
            values.add(r.hasValue() ? String.valueOf(r.value()) : "-");
        }
        return values;
    }

    @Test
    void prunedAndUnprunedSessionsComputeTheSameValues() {
        List<String> pruned, kept;
        try (var e = new Engine(true)) {
            pruned = run(e);
        }
        try (var e = new Engine(false)) {
            kept = run(e);
        }
        assertEquals(kept, pruned);
        assertEquals(List.of("-", "-", "-", "-", "-", "21", "22", "40", "16", "9", "3", "89", "-", "9", "20", "-", "3", "7", "16"),
                pruned, "hand-computed values of CELLS");
    }

    @Test
    void expressionCellsLeaveNoClassFilesBehind() {
        try (var e = new Engine(true)) {
            assertTrue(e.replClassFiles() >= 0, "the test JVM opens jdk.jshell (kernel/pom.xml argLine)");
            run(e);
            int declared = e.replClassFiles();
            for (int i = 0; i < 30; i++) assertNull(e.eval("a.length() + " + i, 1, w -> { }).error());
            assertEquals(declared, e.replClassFiles(), "30 expression cells later");
            // live declarations only: a, twice, quad, P (+ its nested class file), p, Box (+ nested)
            assertTrue(declared <= 10, "class files kept: " + declared);
        }
    }

    @Test
    void withoutPruningEveryCellAddsAClassFile() {   // negative control: the count above can fail
        // (JShell's own value path: DirectExpressions never leaves class files with JShell, pruned or not)
        try (var e = new Engine(false, true, false, false)) {
            int before = e.replClassFiles();
            for (int i = 0; i < 10; i++) assertNull(e.eval(i + " + 1", 1, w -> { }).error());
            assertTrue(e.replClassFiles() >= before + 10, before + " -> " + e.replClassFiles());
        }
    }

    @Test
    void wrapperNamesOfNestedClasses() {
        assertEquals("REPL.$JShell$12", ReplClasses.wrapperOf("REPL.$JShell$12$Foo"));
        assertEquals("REPL.$JShell$12", ReplClasses.wrapperOf("REPL.$JShell$12"));
        assertEquals("other.Name", ReplClasses.wrapperOf("other.Name"));
    }
}
