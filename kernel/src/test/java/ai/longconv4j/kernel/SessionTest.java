// In-process tests of the cell engine: snippets, values, errors, magics, display, interrupts. No shapes.
package ai.longconv4j.kernel;

import ai.longconv4j.tensor.Tensor;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class SessionTest {
    static Session session;

    @BeforeAll
    static void start() {
        session = new Session();
        session.engine();
    }

    @AfterAll
    static void stop() {
        session.close();
    }

    static CellResult run(String code, Recorder out) {
        return session.execute(code, out);
    }

    static String text(CellResult r) {
        assertTrue(r.ok(), () -> "cell failed: " + r.error().text());
        return r.value() == null ? null : (String) r.value().getData(MIMEType.TEXT_PLAIN);
    }

    @Test
    void expressionsStatementsDeclarationsAndRedefinitions() {
        var out = new Recorder();
        assertEquals("42", text(run("6 * 7", out)));
        assertNull(text(run("int k = 3;", out)), "a declaration has no value to show");
        assertEquals("9", text(run("int sq(int x) { return x * x; }\nsq(k)", out)));
        assertEquals("27", text(run("int sq(int x) { return x * x * x; }\nsq(k)", out)), "redefinition replaces the method");
        assertNull(text(run("for (int i = 0; i < 3; i++) { k += i; }", out)));
        assertEquals("6", text(run("k", out)));
        assertEquals("\"abc\"", text(run("record P(int a) {}\nvar p = new P(1);\n\"abc\"", out)));
        assertEquals("P[a=1]", text(run("p", out)));
    }

    @Test
    void libraryIsImportedAndTensorsRenderAsTextAndHtml() {
        var out = new Recorder();
        CellResult r = run("var x = Tensor.ones(DType.F32, 2, 3);\nx", out);
        assertTrue(r.ok(), () -> r.error().text());
        String html = (String) r.value().getData(MIMEType.TEXT_HTML);
        assertNotNull(html, "tensor has an HTML summary");
        assertTrue(html.contains("[2, 3]") && html.contains("F32"), html);
        assertEquals(Tensor.ones(ai.longconv4j.tensor.DType.F32, 2, 3).toString(), r.value().getData(MIMEType.TEXT_PLAIN));
        assertTrue(session.engine().imports().stream().anyMatch(i -> i.contains("ai.longconv4j.tensor")));
    }

    @Test
    void compileErrorShowsLineSpanAndMessage() {
        var out = new Recorder();
        CellResult r = run("int a = 1;\nString s = a + ;", out);
        assertFalse(r.ok());
        assertEquals("CompileError", r.error().ename());
        assertTrue(r.error().text().contains("line 2"), r.error().text());
        CellResult t = run("int b = \"no\";", out);
        assertTrue(t.error().evalue().contains("incompatible types"), t.error().evalue());
        assertTrue(t.error().text().contains("^^^^"), "caret under the span: " + t.error().text());
    }

    @Test
    void runtimeErrorListsUserFramesFirstAndKernelSurvives() {
        var out = new Recorder();
        run("int keep = 5;", out);
        CellResult r = run("int boom(int x) { return java.util.List.of(1).get(x); }\n\nboom(3)", out);
        assertFalse(r.ok());
        assertTrue(r.error().ename().contains("IndexOutOfBounds"), r.error().ename());
        String tb = r.error().text();
        assertTrue(tb.indexOf("In your code") < tb.indexOf("Called from your code"), tb);
        assertTrue(tb.contains("at cell line 3"), tb);
        assertEquals("5", text(run("keep", out)), "earlier variables survive");
    }

    @Test
    void stackOverflowInACellIsAnErrorNotACrash() {
        var out = new Recorder();
        CellResult r = run("int down(int n) { return down(n + 1) + 1; }\ndown(0)", out);
        assertEquals("java.lang.StackOverflowError", r.error().ename());
        assertEquals("2", text(run("1 + 1", out)));
    }

    @Test
    void incompleteAndCompleteness() {
        var out = new Recorder();
        assertEquals("IncompleteInput", run("int z = (1 + ", out).error().ename());
        Engine e = session.engine();
        assertEquals("incomplete", e.isComplete("for (int i = 0; i < 3; i++) {"));
        assertEquals("complete", e.isComplete("int q = 1;"));
        assertEquals("complete", e.isComplete("1 + 1"));
    }

    @Test
    void completionAndInspection() {
        Engine e = session.engine();
        run("String known = \"\";", new Recorder());
        var c = e.complete("int alpha1 = 1; known.toUpp", 27);
        assertTrue(c.matches().stream().anyMatch(m -> m.startsWith("toUpperCase")), c.toString());
        assertEquals(22, c.start(), "replaces the partial name only");
        assertTrue(session.magicNames().contains("%maven"));
        String doc = e.inspect("Math.max(1, 2)", 6);
        assertTrue(doc.contains("max("), doc);
    }

    @Test
    void completionSeesNamesDeclaredEarlierInTheSameCell() {
        Engine e = session.engine();
        String cell = "var sameCellCounter = 3;\nString sameCellText = \"x\";\nint z = sameCellC";
        var c = e.complete(cell, cell.length());
        assertTrue(c.matches().stream().anyMatch(m -> m.startsWith("sameCellCounter")), c.toString());
        assertEquals(cell.length() - "sameCellC".length(), c.start(), "replaces the partial name only");
        String method = "int sameCellTwice(int x) { return 2 * x; }\nrecord SameCellPoint(int x) { }\nsameCellT";
        c = e.complete(method, method.length());
        assertTrue(c.matches().contains("sameCellTwice("), c.toString());
        c = e.complete(method.replace("sameCellT", "SameCellP"), method.length());
        assertTrue(c.matches().contains("SameCellPoint"), c.toString());
        // negative control: the same prefix without the declaration in the cell finds nothing
        assertFalse(e.complete("int z = sameCellC", 17).matches().stream().anyMatch(m -> m.startsWith("sameCellCounter")));
        // a cell that declares a method (no block can hold it) still completes the session's names
        String withMethod = "int helperTwice(int x) { return 2 * x; }\nMath.ma";
        c = e.complete(withMethod, withMethod.length());
        assertTrue(c.matches().stream().anyMatch(m -> m.startsWith("max(")), c.toString());
    }

    @Test
    void magics() throws Exception {
        var out = new Recorder();
        assertEquals("UnknownMagic", run("%nope", out).error().ename());
        assertTrue(run("%nope", out).error().evalue().contains("%maven"), "lists the known magics");
        run("%imports", out);
        assertTrue(out.stdout.toString().contains("import static ai.longconv4j.kernel.Notebook.*;"));
        assertEquals("3", text(run("%%time\n1 + 2", out)));
        assertTrue(out.stdout.toString().contains("Wall time:"));
        run("%timeit -n 10 -r 2 Math.sqrt(2.0)", out);
        assertTrue(out.stdout.toString().contains("per loop (mean ± std. dev. of 2 runs, 10 loops each"), out.stdout.toString());
        run("%device", out);
        assertTrue(out.stdout.toString().contains("gpu: "), out.stdout.toString());
        assertEquals("MagicError", run("%device cuda:99", out).error().ename());
        assertNull(text(run("%%profile\nint pa = 1;\nint pb = pa + 1;", out)));
        assertTrue(((String) out.displays.getLast().getData(MIMEType.TEXT_HTML)).contains("profile (2 snippet(s)"));
    }

    @Test
    void loadAndClasspath(@TempDir Path dir) throws Exception {
        var out = new Recorder();
        Path jsh = dir.resolve("defs.jsh");
        Files.writeString(jsh, "int loadedValue = 40;\nint plus2(int x) { return x + 2; }\n");
        run("%load " + jsh, out);
        assertEquals("42", text(run("plus2(loadedValue)", out)));
        // a directory with a compiled class, added with %classpath
        Path src = dir.resolve("src/demo/Hello.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "package demo; public class Hello { public static String hi() { return \"hi from classpath\"; } }");
        Path classes = dir.resolve("classes");
        assertEquals(0, javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), src.toString()));
        run("%classpath " + classes, out);
        assertEquals("\"hi from classpath\"", text(run("demo.Hello.hi()", out)));
    }

    @Test
    void displayUpdateDisplayProgressAndInput() {
        var out = new Recorder();
        out.answers.add("Ada");
        assertEquals("\"hello Ada\"", text(run("String id = display(\"first\");\nupdateDisplay(id, \"second\");\n\"hello \" + input(\"name? \")", out)));
        assertEquals("\"first\"", out.displays.getFirst().getData(MIMEType.TEXT_PLAIN));
        assertEquals("\"second\"", out.updates.getFirst().getData(MIMEType.TEXT_PLAIN));
        assertEquals(out.displays.getFirst().getDisplayId(), out.updates.getFirst().getDisplayId());
        assertEquals("name? ", out.prompts.getFirst());
        var p = new Recorder();
        run("try (var bar = progress(\"train\", 5)) { for (int i = 0; i < 5; i++) bar.step(); }", p);
        assertEquals(1, p.displays.size(), "one display, updated in place");
        assertFalse(p.updates.isEmpty());
        assertTrue(((String) p.updates.getLast().getData(MIMEType.TEXT_PLAIN)).contains("5/5"));
        assertTrue(((String) p.updates.getLast().getData(MIMEType.TEXT_HTML)).contains("<progress value=\"5\""));
    }

    @Test
    void interruptStopsSleepAndFlagCheckingLoopAndTightLoop() throws Exception {
        for (String code : new String[]{"Thread.sleep(60_000);",
                "while (!Thread.currentThread().isInterrupted()) { Math.sqrt(2); }\nthrow new RuntimeException(\"stopped\");",
                "long spin = 0; while (true) { spin++; }"}) {
            var out = new Recorder();
            var f = CompletableFuture.supplyAsync(() -> run(code, out));
            Thread.sleep(700);
            assertFalse(f.isDone(), "the cell is still running: " + code);
            long t0 = System.nanoTime();
            session.interrupt();
            CellResult r = f.get(5, TimeUnit.SECONDS);
            assertTrue((System.nanoTime() - t0) / 1e9 < 1.0, "stopped within 1 s: " + code);
            assertFalse(r.ok(), code);
            assertEquals("4", text(run("2 + 2", out)), "usable after the interrupt");
        }
    }
}
