// Shape legend: not shape-specific.
package ai.longconv4j.train;

/**
 * Thrown by {@link Trainer#fit()} when a loss or the gradient norm is NaN or infinite. The step's
 * update was not applied and no checkpoint was written after the last good one.
 */
public final class NonFiniteLossException extends RuntimeException {
    private final long step;
    private final transient History history;

    NonFiniteLossException(String message, long step, History history) {
        super(message);
        this.step = step;
        this.history = history;
    }

    /** The 1-based step whose loss or gradient was not finite. */
    public long step() {
        return step;
    }

    /** The history up to the failing step. */
    public History history() {
        return history;
    }
}
