// Tests for the tiny JSON reader/writer (no shapes involved).
package ai.longconv4j.io;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesAllValueKinds() {
        Object v = Json.parse(" {\"a\": [1, -2, 3.5, 1e3, \"x\\n\\u00e9\\\"\"], \"b\": {\"c\": true, \"d\": false, \"e\": null}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(1L, -2L, 3.5, 1000.0, "x\né\""), m.get("a"));
        Map<?, ?> b = (Map<?, ?>) m.get("b");
        assertEquals(Boolean.TRUE, b.get("c"));
        assertEquals(Boolean.FALSE, b.get("d"));
        assertTrue(b.containsKey("e"));
        assertNull(b.get("e"));
        assertEquals(List.of("a", "b"), List.copyOf(m.keySet()), "key order kept");
    }

    @Test
    void largeIntegersStayExactAsLong() {
        assertEquals(9_007_199_254_740_993L, Json.parse("9007199254740993"));
    }

    @Test
    void writeThenParseRoundTrip() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "tab\there \"q\" back\\slash \u0001 ünï");
        m.put("n", 42L);
        m.put("d", 0.25);
        m.put("l", List.of(1L, 2L));
        m.put("z", null);
        String text = Json.write(m);
        assertEquals(m, Json.parse(text));
        assertEquals("{\"k\":[1,2]}", Json.write(Map.of("k", new int[] {1, 2})));
    }

    @Test
    void malformedInputIsRejectedWithOffset() {
        for (String bad : new String[] {"", "{", "{\"a\":}", "[1,]", "{\"a\":1,}", "{a:1}", "01", "1.", "\"abc", "tru", "{\"a\":1} x",
                "{\"a\":1,\"a\":2}", "\"\\x\"", "\"\u0001\""}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("JSON: "), e.getMessage());
        }
        var deep = "[".repeat(Json.MAX_DEPTH + 2) + "]".repeat(Json.MAX_DEPTH + 2);
        assertThrows(IllegalArgumentException.class, () -> Json.parse(deep));
    }

    @Test
    void nonFiniteNumbersCannotBeWritten() {
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(Double.NaN)));
    }
}
