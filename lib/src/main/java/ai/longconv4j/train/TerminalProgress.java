// Shape legend: not shape-specific.
package ai.longconv4j.train;

import java.io.PrintStream;
import java.util.Objects;

/**
 * A one-line progress bar for terminals: rewrites itself with {@code \r} at most every
 * {@code minIntervalMillis}; evaluations and the end print their own lines.
 *
 * <pre>
 * [#######.............]  35%  step 350/1000  loss 1.8421  lr 8.1e-04  12.3 steps/s  50,100 tok/s  ETA 0:53
 * </pre>
 */
public final class TerminalProgress implements TrainListener {
    private static final int BAR = 20;
    private final PrintStream out;
    private final long minIntervalMillis;
    private long lastPrint;
    private boolean lineOpen;

    /** Prints to {@code out} at most every {@code minIntervalMillis}. */
    public TerminalProgress(PrintStream out, long minIntervalMillis) {
        this.out = Objects.requireNonNull(out, "out");
        this.minIntervalMillis = minIntervalMillis;
    }

    /** Prints to System.out at most twice a second. */
    public TerminalProgress() {
        this(System.out, 500);
    }

    /** The progress line for {@code p} (no {@code \r}). */
    public static String line(Progress p) {
        int filled = (int) Math.round(p.fraction() * BAR);
        return String.format("[%s%s] %3.0f%%  step %d/%d  loss %.4f  lr %.1e  %.1f steps/s  %,.0f tok/s  ETA %s",
                "#".repeat(filled), ".".repeat(BAR - filled), 100 * p.fraction(), p.step(), p.totalSteps(), p.loss(), p.lr(),
                p.stepsPerSecond(), p.tokensPerSecond(), clock(p.etaSeconds()));
    }

    static String clock(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%d:%02d", s / 60, s % 60);
    }

    @Override
    public void onStep(Progress p) {
        long now = System.currentTimeMillis();
        if (now - lastPrint >= minIntervalMillis || p.step() == p.totalSteps()) {
            out.print("\r" + line(p));
            out.flush();
            lastPrint = now;
            lineOpen = true;
        }
    }

    @Override
    public void onEval(History.Row r) {
        closeLine();
        out.printf("eval @ step %d: val loss %.4f, accuracy %.4f%n", r.step(), r.valLoss(), r.accuracy());
    }

    @Override
    public void onEnd(History h) {
        closeLine();
        out.println("stopped: " + h.stopReason() + (h.stopMessage().isEmpty() ? "" : " (" + h.stopMessage() + ")"));
    }

    private void closeLine() {
        if (lineOpen) {
            out.println();
            lineOpen = false;
        }
    }
}
