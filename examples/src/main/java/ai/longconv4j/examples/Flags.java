// Shape legend: not shape-specific; command-line flags of the example programs.
package ai.longconv4j.examples;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --key=value} flags with typed defaults; unknown flags are an error listing the known ones. */
final class Flags {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> used = new LinkedHashMap<>();

    Flags(String[] args) {
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("flags look like --key=value, got '" + a + "'");
            }
            values.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
    }

    String str(String key, String dflt) {
        String v = values.getOrDefault(key, dflt);
        used.put(key, v);
        return v;
    }

    int integer(String key, int dflt) {
        return Integer.parseInt(str(key, Integer.toString(dflt)));
    }

    double real(String key, double dflt) {
        return Double.parseDouble(str(key, Double.toString(dflt)));
    }

    boolean bool(String key, boolean dflt) {
        return Boolean.parseBoolean(str(key, Boolean.toString(dflt)));
    }

    /** Fails on flags nobody read; returns the settings line. */
    String done() {
        for (String k : values.keySet()) {
            if (!used.containsKey(k)) {
                throw new IllegalArgumentException("unknown flag --" + k + "; known: " + used.keySet());
            }
        }
        StringBuilder sb = new StringBuilder();
        used.forEach((k, v) -> sb.append(" --").append(k).append('=').append(v));
        return sb.toString().trim();
    }
}
