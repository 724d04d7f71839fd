// Turning JShell diagnostics and exceptions into Jupyter errors (ename, evalue, traceback). No shapes.
package ai.longconv4j.kernel;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.UnresolvedReferenceException;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Error formatting. Compile errors show the offending line, a caret under javac's span and javac's
 * message. Runtime exceptions show the user's cell frames first (mapped to cell lines), then the
 * library frames below them, then the causes; JShell's and reflection's own frames are left out.
 */
final class Errors {
    /** Frames deeper than this many library frames are summarized. */
    private static final int MAX_LIBRARY_FRAMES = 25;

    private Errors() { }

    static CellResult.Error compile(String src, int firstLine, List<Diag> diags) {
        var tb = new ArrayList<String>();
        String first = null;
        for (Diag d : diags) {
            if (!d.isError()) continue;
            String msg = d.getMessage(Locale.ROOT);
            if (first == null) first = msg;
            int pos = (int) Math.max(0, Math.min(d.getPosition() < 0 ? d.getStartPosition() : d.getPosition(), src.length()));
            int lineStart = src.lastIndexOf('\n', pos - 1) + 1;
            int lineEnd = src.indexOf('\n', pos);
            if (lineEnd < 0) lineEnd = src.length();
            int lead = 0;   // firstLine is the line of the snippet's first non-blank character
            while (lead < src.length() && Character.isWhitespace(src.charAt(lead))) lead++;
            int lineNo = firstLine + (int) src.substring(Math.min(lead, lineStart), lineStart).chars().filter(ch -> ch == '\n').count();
            int from = (int) Math.max(lineStart, Math.min(d.getStartPosition(), lineEnd));
            int to = (int) Math.max(from + 1, Math.min(d.getEndPosition(), lineEnd));
            tb.add("Compile error at line " + lineNo + ": " + msg);
            tb.add("    " + src.substring(lineStart, lineEnd));
            tb.add("    " + " ".repeat(from - lineStart) + "^".repeat(Math.max(1, to - from)));
        }
        if (first == null) {
            first = "rejected by the compiler";
            tb.add("Compile error at line " + firstLine + ": " + first);
        }
        return new CellResult.Error("CompileError", first, tb);
    }

    static CellResult.Error incomplete(String rest, int line) {
        String shown = rest.length() > 200 ? rest.substring(0, 200) + "..." : rest;
        return new CellResult.Error("IncompleteInput", "the cell ends inside an unfinished statement or declaration",
                List.of("Incomplete input from line " + line + ": " + shown, "Close the statement (;), braces or parentheses."));
    }

    static CellResult.Error interrupted() {
        return new CellResult.Error("InterruptedException", "the cell was interrupted",
                List.of("java.lang.InterruptedException: the cell was interrupted by the user"));
    }

    static CellResult.Error unresolved(UnresolvedReferenceException e, List<String> deps) {
        String v = "a declaration used here cannot run until " + String.join(", ", deps) + " is declared";
        return new CellResult.Error("UnresolvedReferenceException", v, List.of("UnresolvedReferenceException: " + v));
    }

    /**
     * A runtime failure.
     *
     * @param line first cell line of the failing snippet
     */
    static CellResult.Error runtime(EvalException e, int line, String src) {
        var tb = new ArrayList<String>();
        String name = e.getExceptionClassName();
        String msg = e.getMessage();
        tb.add(name + (msg == null ? "" : ": " + msg));
        frames(e.getStackTrace(), line, tb);
        Throwable c = e.getCause();
        int depth = 0;
        while (c != null && depth++ < 8) {
            String cn = c instanceof EvalException ce ? ce.getExceptionClassName() : c.getClass().getName();
            tb.add("Caused by: " + cn + (c.getMessage() == null ? "" : ": " + c.getMessage()));
            frames(c.getStackTrace(), line, tb);
            c = c.getCause();
        }
        return new CellResult.Error(name, msg == null ? "" : msg, tb);
    }

    /** Snippet frames: JShell names their file {@code #ID} (and blanks class and method of the cell body). */
    private static boolean isUser(StackTraceElement f) {
        return f.getClassName().startsWith("REPL.") || (f.getFileName() != null && f.getFileName().startsWith("#"));
    }

    private static boolean isPlumbing(StackTraceElement f) {
        String c = f.getClassName();
        return c.startsWith("jdk.jshell.") || c.startsWith("java.lang.reflect.") || c.startsWith("jdk.internal.reflect.")
                || c.startsWith("ai.longconv4j.kernel.InProcessControl")
                || c.startsWith("ai.longconv4j.kernel.CellProfiler") || c.equals("java.lang.Thread");
    }

    private static void frames(StackTraceElement[] st, int line, List<String> tb) {
        int firstUser = -1;
        for (int i = 0; i < st.length; i++) if (isUser(st[i])) { firstUser = i; break; }
        var user = new ArrayList<String>();
        for (StackTraceElement f : st) {
            if (!isUser(f)) continue;
            String where = f.getFileName() == null ? "?" : f.getFileName();
            String method = f.getMethodName().isEmpty() || f.getMethodName().startsWith("do_it$") ? "cell" : f.getMethodName();
            if (method.equals("cell") && f.getLineNumber() > 0) user.add("  at cell line " + (line + f.getLineNumber() - 1));
            else user.add("  at " + method + "(snippet " + where + (f.getLineNumber() > 0 ? ":" + f.getLineNumber() : "") + ")");
        }
        if (!user.isEmpty()) {
            tb.add(" In your code:");
            tb.addAll(user);
        }
        int end = firstUser < 0 ? st.length : firstUser;
        var lib = new ArrayList<String>();
        for (int i = 0; i < end; i++) if (!isPlumbing(st[i])) lib.add("  at " + st[i]);
        if (!lib.isEmpty()) {
            tb.add(" Called from your code:");
            if (lib.size() > MAX_LIBRARY_FRAMES) {
                tb.addAll(lib.subList(0, MAX_LIBRARY_FRAMES));
                tb.add("  ... " + (lib.size() - MAX_LIBRARY_FRAMES) + " more");
            } else tb.addAll(lib);
        }
    }
}
