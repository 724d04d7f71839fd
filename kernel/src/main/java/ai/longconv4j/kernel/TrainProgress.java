// A Trainer listener that shows training as one live progress bar in the notebook. No tensor shapes here.
package ai.longconv4j.kernel;

import ai.longconv4j.train.History;
import ai.longconv4j.train.TerminalProgress;
import ai.longconv4j.train.TrainListener;

import java.util.Locale;

/**
 * The {@link TrainListener} behind {@link Notebook#notebookProgress()}: at {@code onStart} it opens a
 * {@link ProgressBar} on the output of the cell that runs {@code fit()} (so the trainer may be built in
 * an earlier cell), updates it in place after every step (redraws throttled to 10/s) with loss, lr,
 * steps/s, tokens/s and ETA, prints each evaluation as a line, and closes the bar with the stop reason.
 * Outside a kernel (no notebook output) it behaves like the library's {@link TerminalProgress}.
 * <pre>
 * jshell&gt; var history = Trainer.builder().model(lm).objective(obj).steps(500).listener(notebookProgress()).build().fit()
 * train [##########          ] 250/500 12.3s loss 1.8421  lr 8.1e-04  20.3 steps/s  41,000 tok/s  ETA 0:12
 * </pre>
 */
final class TrainProgress implements TrainListener {
    private final String label;
    private ai.longconv4j.kernel.Progress bar;   // notebook: one display updated in place
    private TerminalProgress terminal;   // no notebook output bound

    TrainProgress(String label) {
        this.label = label == null ? "" : label;
    }

    @Override
    public void onStart(long startStep, long totalSteps) {
        close();
        CellOutput o = Notebook.output();
        if (o != null && o.rich()) {
            bar = new ai.longconv4j.kernel.Progress(label, totalSteps, o, null);
            bar.set(startStep, "");
        } else {
            terminal = new TerminalProgress(System.err, 500);
            terminal.onStart(startStep, totalSteps);
        }
    }

    /** The text after the counts: loss, lr, speed, ETA. */
    static String message(TrainListener.Progress p) {
        return String.format(Locale.ROOT, "loss %.4f  lr %.1e  %.1f steps/s  %,.0f tok/s  ETA %s", p.loss(), p.lr(),
                p.stepsPerSecond(), p.tokensPerSecond(), clock(p.etaSeconds()));
    }

    static String clock(double seconds) {
        if (!Double.isFinite(seconds)) return "?";
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    @Override
    public void onStep(TrainListener.Progress p) {
        if (bar != null) bar.set(p.step(), message(p));
        else if (terminal != null) terminal.onStep(p);
    }

    @Override
    public void onEval(History.Row r) {
        if (terminal != null) {
            terminal.onEval(r);
            return;
        }
        String line = String.format(Locale.ROOT, "eval @ step %d: val loss %.4f, accuracy %.4f%n", r.step(), r.valLoss(), r.accuracy());
        CellOutput o = Notebook.output();
        if (o != null) o.stream("stdout", line);
    }

    @Override
    public void onEnd(History h) {
        if (bar != null) {
            bar.set(bar.done(), "stopped: " + h.stopReason() + (h.stopMessage().isEmpty() ? "" : " (" + h.stopMessage() + ")"));
        } else if (terminal != null) {
            terminal.onEnd(h);
        }
        close();
    }

    private void close() {
        if (bar != null) bar.close();
        bar = null;
        terminal = null;
    }
}
