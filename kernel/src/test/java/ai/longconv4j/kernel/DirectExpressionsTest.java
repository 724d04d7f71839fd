// Expressions compiled in one pooled javac task (DirectExpressions) against JShell's own paths. No tensor shapes here.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class DirectExpressionsTest {
    /** Cells that exercise what the generated class must see as a snippet would: every kind of live declaration. */
    static final List<String> CELLS = List.of(
            "import java.util.concurrent.atomic.*;", "new AtomicInteger(5).incrementAndGet()",
            "int sq(int a) { return a * a; }", "sq(7)", "long sq(long a) { return -a; }", "sq(3L) + sq(2)",
            "class Box<T> { T v; Box(T v) { this.v = v; } T get() { return v; } }", "new Box<>(\"b\").get().length()",
            "record P(int a, int b) { int sum() { return a + b; } }", "new P(2, 3)", "new P(2, 3).sum()",
            "enum Color { RED, GREEN }", "Color.GREEN.ordinal()", "interface Shape { double area(); }",
            "Shape s = () -> 2.5; s.area()", "var list = new ArrayList<String>(List.of(\"a\", \"bb\"));",
            "list.stream().mapToInt(String::length).sum()", "var y = 1; y", "var y = \"now a string\"; y.length()",
            "y", "sq(y.length())", "new Object() { int f() { return 41; } }.f() + 1",
            "new Runnable() { public void run() { } }.getClass().getSimpleName().isEmpty()",
            "Tensor.ones(DType.F64, 2, 2).sum().item()",
            "static int counter = 0;", "++counter", "counter", "java.util.stream.IntStream.range(0, 5).sum()",
            "new int[]{1, 2, 3}[1]", "List.of(1, 2).get(5)", "Integer.parseInt(\"x\")", "list.size() /\n (list.size() - 2)",
            "undefinedName + 1", "System.out.println(\"void\")", "list.clear()", "list.isEmpty()",
            "String twice(String s) { return s + s; }", "twice(\"ab\")", "void noop() { }", "noop()",
            "var anon = new Object() { int hidden = 9; }; anon.hidden", "anon.hidden + 1",
            "throw new IllegalStateException(\"boom\")", "new RuntimeException(\"outer\", new IllegalArgumentException(\"inner\"))",
            "Object thrower() { throw new RuntimeException(\"in method\", new ArithmeticException(\"cause\")); }", "thrower()",
            // names the generated class could shadow: its value field and method must not hide the user's
            "var v = 3;", "v == null", "v + 1", "String.valueOf(v)", "int value() { return 8; }", "value() + v");

    @Test
    void sameResultsAsJShellsPaths() {
        List<String> direct, valueDecl, asWritten;
        int[] counts;
        try (var e = new Engine(true, true, true, false)) {
            direct = ValueSnippetsTest.run(e, CELLS);
            counts = e.directExpressions();
        }
        try (var e = new Engine(true, true, false, false)) {
            valueDecl = ValueSnippetsTest.run(e, CELLS);
            assertNull(e.directExpressions(), "the value-declaration twin has no direct path");
        }
        try (var e = new Engine(true, false)) {
            asWritten = ValueSnippetsTest.run(e, CELLS);
        }
        List<String> simple;   // with SimpleExpressions (the default) in front of the direct path
        try (var e = new Engine(true, true, true, true)) {
            simple = ValueSnippetsTest.run(e, CELLS);
            assertTrue(e.simpleExpressions()[1] >= 4, "y (twice), counter, v + 1 taken without javac: " + e.simpleExpressions()[1]);
        }
        assertEquals(asWritten, valueDecl);
        assertEquals(asWritten, direct);
        assertEquals(asWritten, simple);
        assertNotNull(counts, "the direct path is on (the test JVM has the exports)");
        // what must have run directly: the plain values over user methods, records, enums, generic classes, imports
        assertTrue(counts[1] >= 25, "compiled and run directly: " + counts[1] + " of " + counts[0] + " tried");
        // what did not compile directly (JShell ran it as written): undefinedName, the void calls not known
        // as void (list.clear(), noop()) and v == null (int == null: JShell's compile error); anonymous class
        // bodies are not tried at all (ValueSnippets)
        assertEquals(4, counts[0] - counts[1], "fell back");
        assertTrue(direct.contains("String.valueOf(v) -> value 3"), direct::toString);
        assertTrue(direct.contains("sq(7) -> value 49"), direct::toString);
        assertTrue(direct.contains("anon.hidden + 1 -> value 10"), direct::toString);
        assertTrue(direct.stream().anyMatch(l -> l.startsWith("list.size() /\n (list.size() - 2) -> error [java.lang.ArithmeticException: / by zero,  In your code:,   at cell line 2]")),
                direct::toString);
        assertTrue(direct.stream().anyMatch(l -> l.startsWith("thrower() -> error") && l.contains("Caused by: java.lang.ArithmeticException: cause")),
                direct::toString);
    }

    @Test
    void replListingShortcutGivesTheSameResultsAndSeesAReplPackageAddedToTheClassPath(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // the slow twin: JShell's file manager as it is (every task asks every class-path entry for package REPL)
        List<String> slow, fast;
        DirectExpressions.listReplFast = false;
        try (var e = new Engine(true, true, true, false)) {
            slow = ValueSnippetsTest.run(e, CELLS);
        } finally {
            DirectExpressions.listReplFast = true;
        }
        long kept0 = DirectExpressions.ReplListing.kept;
        try (var e = new Engine(true, true, true, false)) {
            fast = ValueSnippetsTest.run(e, CELLS);
        }
        assertEquals(slow, fast);
        assertTrue(DirectExpressions.ReplListing.kept - kept0 >= 20, "listings answered from the kept one: " + (DirectExpressions.ReplListing.kept - kept0));
        // a directory with a class in package REPL, added after the kept listing was made: it must be seen (the
        // listing is made again when the class path changes), and compiled directly
        var src = dir.resolve("src/REPL/Lc4jOnPath.java");
        java.nio.file.Files.createDirectories(src.getParent());
        java.nio.file.Files.writeString(src, "package REPL; public class Lc4jOnPath { public static int v() { return 42; } }");
        var classes = java.nio.file.Files.createDirectories(dir.resolve("classes"));
        int rc = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "javac of the REPL-package class");
        try (var e = new Engine(true, true, true, false)) {
            var before = ValueSnippetsTest.run(e, List.of("1 + 1", "Lc4jOnPath.v()"));
            assertEquals("1 + 1 -> value 2", before.get(0));
            assertTrue(before.get(1).startsWith("Lc4jOnPath.v() -> error"), before::toString);
            long made0 = DirectExpressions.ReplListing.made;
            e.addToClasspath(classes.toString());
            int[] c0 = e.directExpressions();
            var after = ValueSnippetsTest.run(e, List.of("Lc4jOnPath.v() + 1"));
            assertEquals(List.of("Lc4jOnPath.v() + 1 -> value 43"), after);
            assertEquals(c0[1] + 1, e.directExpressions()[1], "compiled and run on the direct path");
            assertEquals(made0 + 1, DirectExpressions.ReplListing.made, "listed again once, for the new class path");
        }
    }

    @Test
    void replPurgeByNameDropsWhatTheScanWould() {
        // the fast purge (javac's flat-name table, opened to the tests by the surefire argLine as by the kernelspec)
        // against the public getAllClasses() scan on every task: the same names, over every kind of declaration,
        // nested classes and redefinitions
        assertNotNull(DirectExpressions.Purge.CLASSES, "javac.code is opened to the tests: the by-name purge runs");
        var cells = new ArrayList<>(CELLS);
        cells.addAll(List.of("class Outer { static class In { int v = 3; } class Inner { } interface I { } }",
                "new Outer.In().v", "class Outer { static class In { int v = 4; } }", "new Outer.In().v + 1",
                "record R(Outer.In in) { }", "new R(new Outer.In()).in().v", "int sq(int a) { return a * a * 1; }", "sq(4)"));
        DirectExpressions.verifyPurge = true;
        DirectExpressions.purged = 0;
        DirectExpressions.purgeMismatch = null;
        List<String> out;
        try (var e = new Engine(true, true, true, false)) {
            out = ValueSnippetsTest.run(e, cells);
        } finally {
            DirectExpressions.verifyPurge = false;
        }
        assertNull(DirectExpressions.purgeMismatch);
        assertTrue(DirectExpressions.purged > cells.size(), "REPL classes purged: " + DirectExpressions.purged);
        assertTrue(out.contains("new Outer.In().v -> value 3"), out::toString);
        assertTrue(out.contains("new Outer.In().v + 1 -> value 5"), out::toString);
        assertTrue(out.contains("sq(4) -> value 16"), out::toString);
    }

    @Test
    void anonymousClassBodiesAreLeftToJShell() {
        for (String e : List.of("new Object() { }", "new Runnable() { public void run() { } }.hashCode()",
                "List.of(new Object() { int f = 1; }.f)", "foo(new java.util.ArrayList<String>(3) {{ add(\"x\"); }})")) {
            assertTrue(ValueSnippets.declaresAnonymousClass(e), e);
            assertNull(new ValueSnippets().expression(e), e);
        }
        for (String e : List.of("new Object()", "new int[]{1, 2}", "new int[3].length", "new StringBuilder(\"{\").append('}')",
                "f(new Object(), () -> { })", "1 + 1")) {
            assertFalse(ValueSnippets.declaresAnonymousClass(e), e);
        }
    }

    @Test
    void runtimeErrorLinesPointIntoTheCell() {
        try (var e = new Engine(true, true, true, false)) {
            Engine.Eval r = e.eval("int unused = 0;\n\n  List.of(1)\n   .get(\n 3)", 1, w -> { });
            assertNotNull(r.error());
            assertEquals("java.lang.IndexOutOfBoundsException", r.error().ename());
            String tb = String.join("\n", r.error().traceback());
            assertTrue(tb.contains("at cell line 4") || tb.contains("at cell line 5") || tb.contains("at cell line 3"), tb);
            int[] c = e.directExpressions();
            assertEquals(1, c[1], "the expression ran directly");
            // the same cell through JShell gives the same line
            try (var slow = new Engine(true, true, false, false)) {
                Engine.Eval s = slow.eval("int unused = 0;\n\n  List.of(1)\n   .get(\n 3)", 1, w -> { });
                assertEquals(s.error().traceback(), r.error().traceback());
            }
        }
    }

    @Test
    void valuesAreLiveObjectsAndNotKeptByTheGeneratedClass() throws Exception {
        try (var e = new Engine(true, true, true, false)) {
            Engine.Eval r = e.eval("new StringBuilder(\"live\")", 1, w -> { });
            assertInstanceOf(StringBuilder.class, r.value());
            ((StringBuilder) r.value()).append("!");
            assertEquals("live!", r.value().toString());
            assertEquals(1, e.directExpressions()[1]);
        }
    }

    @Test
    void aLoopInADirectExpressionIsInterrupted() throws Exception {
        try (var e = new Engine(true, true, true, false); var pool = Executors.newSingleThreadExecutor()) {
            assertEquals(2, e.eval("1 + 1", 1, w -> { }).value());
            System.clearProperty("lc4j.test.loop");
            // the loop says when it runs (an interrupt while the cell still compiles stops it only before its next snippet)
            var f = pool.submit(() -> e.eval("java.util.stream.LongStream.iterate(0, i -> i + 1)"
                    + ".peek(i -> { if (i == 0) System.setProperty(\"lc4j.test.loop\", \"on\"); }).filter(i -> i < 0).findFirst()", 1, w -> { }));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.getProperty("lc4j.test.loop") == null && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals("on", System.getProperty("lc4j.test.loop"), "the loop started");
            long t0 = System.nanoTime();
            e.interrupt();
            Engine.Eval r = f.get(5, TimeUnit.SECONDS);
            assertTrue((System.nanoTime() - t0) / 1e9 < 2, "stopped within 2 s");
            assertNotNull(r.error());
            assertEquals("InterruptedException", r.error().ename());
            assertEquals(2, e.directExpressions()[1], "the loop ran directly");
            assertEquals(3, e.eval("1 + 2", 1, w -> { }).value(), "the engine works after the stop");
        }
    }

    @Test
    void completionsOnAnotherThreadDoNotDisturbDirectExpressions() throws Exception {
        // the kernel answers complete_request on the shell thread while a cell runs on the cell thread: JShell's
        // analysis tasks and the direct compiles share JShell's file manager (both hold its TaskFactory's lock)
        try (var e = new Engine(true, true, true, false); var pool = Executors.newSingleThreadExecutor()) {
            e.eval("var text = \"abc\";", 1, w -> { });
            var completions = pool.submit(() -> {
                int found = 0;
                for (int i = 0; i < 40; i++) if (e.complete("text.len", 8).matches().stream().anyMatch(m -> m.startsWith("length"))) found++;
                return found;
            });
            var values = new ArrayList<Object>();
            for (int i = 0; i < 40; i++) values.add(e.eval("text.length() + " + i, 1, w -> { }).value());
            for (int i = 0; i < 40; i++) assertEquals(3 + i, values.get(i), "cell " + i);
            assertEquals(40, completions.get(120, TimeUnit.SECONDS), "every completion found length");
            assertEquals(40, e.directExpressions()[1]);
        }
    }

    @Test
    void theClassFilesOfDirectExpressionsAreNotKept() {
        try (var e = new Engine(true, true, true, false)) {
            e.eval("var keep = 1;", 1, w -> { });
            int before = e.replClassFiles();
            var values = new ArrayList<Object>();
            for (int i = 0; i < 20; i++) values.add(e.eval("keep + " + i, 1, w -> { }).value());
            assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), values);
            assertEquals(before, e.replClassFiles(), "JShell's class files: only the live declarations");
            assertEquals(20, e.directExpressions()[1]);
        }
    }
}
