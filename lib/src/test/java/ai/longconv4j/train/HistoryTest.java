// History: the x range of its chart.
package ai.longconv4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HistoryTest {
    @Test
    void niceCeilRoundsUpToOneTwoTwoAndAHalfOrFive() {
        assertEquals(1, History.niceCeil(1));
        assertEquals(5000, History.niceCeil(4576));
        assertEquals(250, History.niceCeil(201));
        assertEquals(200, History.niceCeil(200));
        assertEquals(10000, History.niceCeil(5001));
        assertEquals(20, History.niceCeil(12));
    }

    @Test
    void chartSpansZeroToARoundNumberPastTheLastStep() {
        var h = new History();
        for (int s = 1; s <= 4576; s++) {
            h.add(new History.Row(s, 1.0 / s, Double.NaN, Double.NaN, 1e-3, 1));
        }
        var st = h.chart().getStyler();
        assertEquals(0.0, st.getXAxisMin());
        assertEquals(5000.0, st.getXAxisMax());
    }
}
