// Shape legend: not shape-specific; observers see each op's output and inputs as they are.
package ai.longconv4j.tensor;

/**
 * A per-thread hook that sees every differentiable op as it is recorded (forward) and every graph
 * node as its gradient rule runs (backward). Used by the profiler; null (the default) costs one
 * thread-local read per op. Install with {@link #install}, which returns the previous observer so
 * scopes nest: {@code var prev = OpObserver.install(o); try { ... } finally { OpObserver.install(prev); }}.
 *
 * <p>Callbacks come after the op's work is done, on the thread that ran the op.
 */
public interface OpObserver {
    /** A forward op named {@code name} produced {@code out} from {@code inputs} (entries may be null). */
    void onForward(String name, Tensor out, Tensor[] inputs);

    /** The gradient rule of op {@code name} is about to run (ops it records come before {@link #onBackward}). */
    default void onBackwardStart(String name) {
    }

    /** The gradient rule of op {@code name} (forward inputs {@code inputs}) ran on {@code gradOut}. */
    void onBackward(String name, Tensor gradOut, Tensor[] inputs);

    /** Installs {@code o} (null: none) on this thread; returns the previous one. */
    static OpObserver install(OpObserver o) {
        OpObserver prev = Hook.CURRENT.get();
        if (o == null) Hook.CURRENT.remove(); else Hook.CURRENT.set(o);
        return prev;
    }

    /** The observer of this thread, or null. */
    static OpObserver current() { return Hook.CURRENT.get(); }

    /** Holder of the per-thread observer (not a process-global mutable static). */
    final class Hook {
        private static final ThreadLocal<OpObserver> CURRENT = new ThreadLocal<>();
        private Hook() {}
    }
}
