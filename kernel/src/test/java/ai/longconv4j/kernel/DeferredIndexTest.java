// JShell's class-path index held back while cells run, released when idle or for a completion. No tensor shapes here.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DeferredIndexTest {
    @Test
    void heldWhileCellsRunReleasedOnceIdle() throws Exception {
        try (var e = new Engine()) {
            assertTrue(e.indexHeld(), "the test JVM opens jdk.jshell (kernel/pom.xml argLine): the index starts held");
            long end = System.nanoTime() + 2 * DeferredIndex.IDLE_MS * 1_000_000;
            int cells = 0;
            while (System.nanoTime() < end) {   // back to back, as "Run all" or the benchmark sends them
                assertNull(e.eval("var v" + cells + " = " + cells + " * 2;", 1, w -> { }).error());
                cells++;
                assertTrue(e.indexHeld(), "still held after " + cells + " back-to-back cells");
            }
            long idle = System.nanoTime();
            while (e.indexHeld() && System.nanoTime() - idle < 10 * DeferredIndex.IDLE_MS * 1_000_000) Thread.sleep(20);
            assertFalse(e.indexHeld(), "released after being idle");
            assertTrue((System.nanoTime() - idle) / 1_000_000 >= DeferredIndex.IDLE_MS - 50, "not before IDLE_MS of idleness");
        }
    }

    /** Package names complete from the index: the same with the index deferred as with JShell indexing at once. */
    @Test
    void completionReleasesTheIndexAndCompletesTheSame() throws Exception {
        String code = "import tech.tablesaw.";
        List<String> deferred, immediate;
        try (var e = new Engine()) {
            assertTrue(e.indexHeld());
            e.complete("Sys", 3);
            assertFalse(e.indexHeld(), "a completion lets the indexer run");
            e.awaitIndexed();
            deferred = e.complete(code, code.length()).matches();
        }
        System.setProperty("longconv4j.deferIndex", "false");
        try (var e = new Engine()) {
            assertFalse(e.indexHeld(), "-Dlongconv4j.deferIndex=false: JShell indexes at once");
            e.awaitIndexed();
            immediate = e.complete(code, code.length()).matches();
        } finally {
            System.clearProperty("longconv4j.deferIndex");
        }
        assertTrue(immediate.stream().anyMatch(m -> m.startsWith("columns")), "packages of tech.tablesaw: " + immediate);
        assertEquals(immediate, deferred);
    }

    @Test
    void oneClassPathCallGivesTheSameClassPath() {
        try (var e = new Engine()) {   // the library, Tablesaw and XChart resolve: their imports are in effect
            List<String> imports = e.imports();
            assertTrue(imports.contains("import tech.tablesaw.api.*;"), imports.toString());
            assertTrue(imports.contains("import ai.longconv4j.tensor.*;"), imports.toString());
            assertNull(e.eval("Tensor.ones(DType.F32, 2).sum(0, false)", 1, w -> { }).error());
        }
    }
}
