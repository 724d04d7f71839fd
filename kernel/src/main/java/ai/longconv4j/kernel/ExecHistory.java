// The inputs (and text outputs) of the cells a kernel ran, for history_request. No tensor shapes here.
package ai.longconv4j.kernel;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Execution history of this kernel run (session number {@link #SESSION}; there are no earlier sessions:
 * the history is not stored on disk). Answers the three {@code history_request} kinds: {@code tail}
 * (last n), {@code range} (lines start..stop-1 of a session; session 0 means this one) and
 * {@code search} (glob pattern with {@code *} and {@code ?}, last n matches, optionally unique).
 * Thread-safe.
 */
final class ExecHistory {
    /** The session number of this kernel run. */
    static final int SESSION = 1;

    private record Entry(int line, String input, String output) { }

    private final List<Entry> entries = new ArrayList<>();

    /** Records cell {@code line} (its execution count) with its text/plain result (null if none). */
    synchronized void add(int line, String input, String output) {
        entries.add(new Entry(line, input, output));
    }

    /** The {@code history_reply} content for a {@code history_request} content. */
    synchronized JsonObject reply(JsonObject req) {
        String kind = str(req, "hist_access_type", "tail");
        boolean withOutput = req.has("output") && req.get("output").getAsBoolean();
        List<Entry> picked = switch (kind) {
            case "range" -> {
                int session = integer(req, "session", 0);
                if (session != 0 && session != SESSION) yield List.of();
                int start = integer(req, "start", 0), stop = integer(req, "stop", Integer.MAX_VALUE);
                yield entries.stream().filter(e -> e.line() >= start && e.line() < stop).toList();
            }
            case "search" -> {
                Pattern p = glob(str(req, "pattern", "*"));
                List<Entry> hits = entries.stream().filter(e -> p.matcher(e.input()).matches()).toList();
                if (req.has("unique") && req.get("unique").getAsBoolean()) {
                    var seen = new LinkedHashSet<String>();
                    var uniq = new ArrayList<Entry>();
                    for (int i = hits.size() - 1; i >= 0; i--) if (seen.add(hits.get(i).input())) uniq.addFirst(hits.get(i));
                    hits = uniq;
                }
                yield last(hits, integer(req, "n", hits.size()));
            }
            default -> last(entries, integer(req, "n", entries.size()));
        };
        JsonArray h = new JsonArray();
        for (Entry e : picked) {
            JsonArray row = new JsonArray();
            row.add(SESSION);
            row.add(e.line());
            if (withOutput) {
                JsonArray io = new JsonArray();
                io.add(e.input());
                if (e.output() == null) io.add(JsonNull.INSTANCE); else io.add(e.output());
                row.add(io);
            } else {
                row.add(e.input());
            }
            h.add(row);
        }
        JsonObject r = new JsonObject();
        r.addProperty("status", "ok");
        r.add("history", h);
        return r;
    }

    private static List<Entry> last(List<Entry> l, int n) {
        return l.subList(Math.max(0, l.size() - Math.max(0, n)), l.size());
    }

    /** A glob ({@code *} any run, {@code ?} one character) as a whole-input regex. */
    static Pattern glob(String g) {
        var sb = new StringBuilder();
        for (String part : g.split("((?<=[*?])|(?=[*?]))")) {
            sb.append(switch (part) {
                case "*" -> ".*";
                case "?" -> ".";
                default -> Pattern.quote(part);
            });
        }
        return Pattern.compile(sb.toString(), Pattern.DOTALL);
    }

    private static String str(JsonObject o, String k, String dflt) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : dflt;
    }

    private static int integer(JsonObject o, String k, int dflt) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsInt() : dflt;
    }
}
