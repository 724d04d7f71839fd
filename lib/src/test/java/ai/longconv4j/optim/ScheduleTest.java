// Shapes: none.
package ai.longconv4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScheduleTest {
    /** Closed-form values: exact up to the rounding of cos. */
    private static final double EXACT = 1e-12;

    @Test
    void constant() {
        var s = Schedule.constant(3e-4);
        assertEquals(3e-4, s.lr(0), 0.0);
        assertEquals(3e-4, s.lr(1_000_000), 0.0);
    }

    @Test
    void warmupCosineAtKeySteps() {
        var s = Schedule.warmupCosine(10, 110, 0.1);
        assertEquals(0.1, s.lr(0), EXACT);           // (0 + 1) / 10
        assertEquals(0.5, s.lr(4), EXACT);
        assertEquals(1.0, s.lr(9), EXACT);           // end of warmup
        assertEquals(1.0, s.lr(10), EXACT);          // cosine starts at the peak
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), s.lr(35), EXACT);
        assertEquals(0.55, s.lr(60), EXACT);         // half way: floor + (1 - floor) / 2
        assertEquals(0.1, s.lr(110), EXACT);
        assertEquals(0.1, s.lr(5000), EXACT);
        for (long t = 10; t < 110; t++) {
            assertTrue(s.lr(t + 1) <= s.lr(t), "not monotone at " + t);
        }
        assertEquals(3e-4 * 0.55, s.times(3e-4).lr(60), EXACT);
        var noWarmup = Schedule.warmupCosine(0, 4, 0.0);
        assertEquals(1.0, noWarmup.lr(0), EXACT);
        assertEquals(0.5, noWarmup.lr(2), EXACT);
        assertEquals(0.0, noWarmup.lr(4), EXACT);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> Schedule.warmupCosine(10, 5, 0.1));
        assertThrows(IllegalArgumentException.class, () -> Schedule.warmupCosine(1, 5, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Schedule.warmupCosine(1, 5, 0).lr(-1));
    }
}
