// The opt-in start-up warm-up: it runs before the session is ready and leaves no declarations behind. No shapes.
package ai.longconv4j.kernel;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StartWarmupTest {
    /** Names the warm-up cells (AotTraining.CELLS) declare; none may be visible to the user afterwards. */
    static final List<String> DECLARED = List.of("a0", "twice(1.5)", "new Point(1, 2)", "pts", "m", "counter", "acc", "t", "table", "sb");

    @Test
    void warmUpRunsBeforeReadyAndDropsWhatItDeclared() {
        int cells = AotTraining.CELLS.size() + 3;   // a round and the first cells of the next (redefinitions)
        try (var s = new Session(cells, System.nanoTime() + 600_000_000_000L)) {
            s.engine();
            assertEquals(cells, s.warmedUp(), "the deadline is far: the cell count stops it");
            for (String name : DECLARED) {
                CellResult r = s.execute(name, new Recorder());
                assertFalse(r.ok(), name + " is still declared after the warm-up");
            }
            assertFalse(s.execute("AtomicLong x = null;", new Recorder()).ok(), "the warm-up's import is dropped too");
            CellResult r = s.execute("int a0 = 5; a0 * 2", new Recorder());
            assertTrue(r.ok(), () -> String.valueOf(r.error()));
            assertEquals("10", r.value().getData(org.dflib.jjava.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN));
        }
    }

    @Test
    void aPassedDeadlineRunsNoWarmUpCell() {   // negative control for the count above
        try (var s = new Session(50, System.nanoTime())) {
            s.engine();
            assertEquals(0, s.warmedUp());
        }
        try (var s = new Session()) {
            s.engine();
            assertEquals(0, s.warmedUp());
        }
    }
}
