// Progress bar implementation: notebook display updated in place, or \r lines on a terminal. No shapes.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.io.PrintStream;
import java.util.UUID;

/** The {@link ProgressBar} behind {@link Notebook#progress}. Thread-safe; redraws at most every 100 ms. */
final class Progress implements ProgressBar {
    /** Minimum time between two redraws (the first and the last are always drawn). */
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int WIDTH = 30;

    private final String label;
    private final long total;
    private final CellOutput out;      // null: terminal
    private final PrintStream terminal;
    private final String displayId = UUID.randomUUID().toString();
    private final long startNanos = System.nanoTime();
    private long done;
    private String message = "";
    private long lastDraw = Long.MIN_VALUE;
    private boolean shown;
    private boolean closed;

    Progress(String label, long total, CellOutput out, PrintStream terminal) {
        if (total < 0) throw new IllegalArgumentException("progress: total must be >= 0, got " + total);
        this.label = label == null ? "" : label;
        this.total = total;
        this.out = out;
        this.terminal = terminal;
        draw(true);
    }

    @Override
    public synchronized ProgressBar update(long n) {
        done = n;
        draw(false);
        return this;
    }

    /** Sets the count and the message with one (throttled) redraw. */
    synchronized void set(long n, String text) {
        done = n;
        message = text == null ? "" : text;
        draw(false);
    }

    @Override
    public synchronized ProgressBar step() {
        return update(done + 1);
    }

    @Override
    public synchronized ProgressBar message(String text) {
        message = text == null ? "" : text;
        draw(false);
        return this;
    }

    @Override
    public synchronized long done() {
        return done;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        draw(true);
        if (out == null && terminal != null) terminal.println();
    }

    /** Text form: {@code label [#####     ] 5/10 1.2s message}. */
    synchronized String text() {
        double frac = total == 0 ? 1 : Math.min(1.0, (double) done / total);
        int filled = (int) Math.round(frac * WIDTH);
        double secs = (System.nanoTime() - startNanos) / 1e9;
        return (label.isEmpty() ? "" : label + " ") + "[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
                + done + "/" + total + String.format(" %.1fs", secs) + (message.isEmpty() ? "" : " " + message);
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        if (!force && lastDraw != Long.MIN_VALUE && now - lastDraw < REDRAW_NANOS && done < total) return;
        lastDraw = now;
        String text = text();
        if (out == null) {
            if (terminal != null) {
                terminal.print("\r" + text);
                terminal.flush();
            }
            return;
        }
        var d = new DisplayData(text);
        d.putHTML("<div><span>" + Rendering.escape(label) + "</span> <progress value=\"" + done + "\" max=\"" + Math.max(total, 1)
                + "\" style=\"width:20em\"></progress> <code>" + done + "/" + total + "</code> "
                + Rendering.escape(text.substring(text.lastIndexOf(']') + 1).strip().replaceFirst("^\\d+/\\d+ ", "")) + "</div>");
        d.setDisplayId(displayId);
        out.display(d, shown);
        shown = true;
    }
}
