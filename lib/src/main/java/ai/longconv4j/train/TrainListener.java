// Shape legend: not shape-specific.
package ai.longconv4j.train;

/**
 * Progress callbacks of a {@link Trainer}, on the training thread. A terminal implementation is
 * {@link TerminalProgress}; a notebook kernel plugs in one that updates a display in place.
 */
public interface TrainListener {
    /** One optimizer step's figures. */
    record Progress(long step, long totalSteps, double loss, double lr, double stepsPerSecond, double tokensPerSecond,
            double etaSeconds) {
        /** Fraction done in [0, 1]. */
        public double fraction() {
            return totalSteps == 0 ? 1 : (double) step / totalSteps;
        }
    }

    /** Called once before the first step (the step count may be > 0 after a resume). */
    default void onStart(long startStep, long totalSteps) {
    }

    /** Called after every optimizer step. */
    default void onStep(Progress p) {
    }

    /** Called after every evaluation. */
    default void onEval(History.Row row) {
    }

    /** Called once at the end, however training stopped. */
    default void onEnd(History history) {
    }
}
