// complete / inspect / is_complete replies, with Jupyter's code-point cursor positions. No shapes.
package ai.longconv4j.kernel;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/**
 * The bodies of {@code complete_reply}, {@code inspect_reply} and {@code is_complete_reply}.
 * Jupyter counts cursor positions in Unicode code points; Java strings in UTF-16 units: converted here.
 * Magic lines are blanked (same length) before JShell sees the code; a cursor on a magic name
 * completes magic names.
 */
final class Requests {
    private Requests() { }

    static JsonObject complete(Session s, String code, int cursorCp) {
        int cursor = toUtf16(code, cursorCp);
        int lineStart = code.lastIndexOf('\n', cursor - 1) + 1;
        String line = code.substring(lineStart, cursor);
        JsonArray matches = new JsonArray();
        int start = cursor;
        String stripped = line.stripLeading();
        if (stripped.startsWith("%") && !stripped.contains(" ")) {
            start = cursor - stripped.length();
            for (String n : s.magicNames()) if (n.startsWith(stripped)) matches.add(n);
        } else {
            Engine.Completion c = s.engine().complete(blankMagics(code), cursor);
            start = c.start();
            c.matches().forEach(matches::add);
        }
        JsonObject r = new JsonObject();
        r.addProperty("status", "ok");
        r.add("matches", matches);
        r.addProperty("cursor_start", code.codePointCount(0, start));
        r.addProperty("cursor_end", cursorCp);
        r.add("metadata", new JsonObject());
        return r;
    }

    static JsonObject inspect(Session s, String code, int cursorCp) {
        String doc = s.engine().inspect(blankMagics(code), toUtf16(code, cursorCp));
        JsonObject r = new JsonObject();
        r.addProperty("status", "ok");
        r.addProperty("found", !doc.isEmpty());
        JsonObject data = new JsonObject();
        if (!doc.isEmpty()) data.addProperty("text/plain", doc);
        r.add("data", data);
        r.add("metadata", new JsonObject());
        return r;
    }

    static JsonObject isComplete(Session s, String code) {
        String status = code.stripLeading().startsWith("%%") ? "complete" : s.engine().isComplete(blankMagics(code));
        JsonObject r = new JsonObject();
        r.addProperty("status", status);
        if (status.equals("incomplete")) r.addProperty("indent", "    ");
        return r;
    }

    /** Replaces each line magic with spaces, keeping offsets. */
    static String blankMagics(String code) {
        var sb = new StringBuilder(code.length());
        for (String l : code.split("\n", -1)) {
            if (sb.length() > 0) sb.append('\n');
            sb.append(l.strip().startsWith("%") ? " ".repeat(l.length()) : l);
        }
        return sb.toString();
    }

    static int toUtf16(String s, int codePoints) {
        try {
            return s.offsetByCodePoints(0, Math.min(codePoints, s.codePointCount(0, s.length())));
        } catch (IndexOutOfBoundsException e) {
            return s.length();
        }
    }
}
