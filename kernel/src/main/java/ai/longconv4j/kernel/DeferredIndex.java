// Holds back JShell's class-path index (for completion) until the session is idle or a completion asks. No shapes.
package ai.longconv4j.kernel;

import jdk.jshell.SourceCodeAnalysis;

import java.lang.reflect.Method;

/**
 * JShell's {@link SourceCodeAnalysis} starts indexing every class of the JDK and of the class path on a
 * background thread as soon as it is created (and again after each class-path change); completion uses
 * the index for package and class names. JShell pauses it only while an {@code eval} runs, so it ran
 * while the JShell started and between the first cells (in-process, cold: 1.9 s of CPU, 2.8 s wall;
 * through the kernel with its AOT cache ~0.3 s of CPU over the first 21 cells, see kernel/BENCHMARKS.md).
 * This holds the indexer (JShell's own {@code suspendIndexing}) until the engine has been
 * idle for {@link #IDLE_MS} (no cell evaluating: a user typing) or a completion or inspection needs it
 * ({@link #now}: resumes it and waits up to a bound for it). The index itself is JShell's, unchanged.
 * Needs {@code --add-opens jdk.jshell/jdk.jshell=ALL-UNNAMED}; without it (or with
 * {@code -Dlongconv4j.deferIndex=false}) JShell indexes at once as usual.
 */
final class DeferredIndex implements AutoCloseable {
    /** Idle time (no cell evaluating) after which indexing resumes. */
    static final long IDLE_MS = 1000;
    /** Longest a completion or inspection waits for the index. */
    static final long WAIT_MS = 3000;

    private final SourceCodeAnalysis sca;
    private final Method resume, waitFinished;
    private boolean held;                     // guarded by this
    private volatile boolean evaluating;
    private volatile long idleSince = System.nanoTime();

    DeferredIndex(SourceCodeAnalysis sca) {
        this.sca = sca;
        Method suspend = null, res = null, wait = null;
        if (!"false".equals(System.getProperty("longconv4j.deferIndex"))) {
            try {
                suspend = sca.getClass().getMethod("suspendIndexing");
                res = sca.getClass().getMethod("resumeIndexing");
                wait = sca.getClass().getMethod("waitBackgroundTaskFinished");
                suspend.setAccessible(true);
                res.setAccessible(true);
                wait.setAccessible(true);
                suspend.invoke(sca);
                held = true;
            } catch (ReflectiveOperationException | RuntimeException e) {   // no --add-opens: JShell indexes at once
                Log.debug("class-path index not deferred: " + e);
            }
        }
        resume = res;
        waitFinished = wait;
        if (held) {
            Thread t = new Thread(this::resumeWhenIdle, "jshell-index-when-idle");
            t.setDaemon(true);
            t.start();
        }
    }

    /** Whether the indexer is still held back. */
    synchronized boolean held() {
        return held;
    }

    /** A cell starts evaluating. */
    void busy() {
        evaluating = true;
    }

    /** A cell finished evaluating. */
    void idle() {
        idleSince = System.nanoTime();
        evaluating = false;
    }

    private void resumeWhenIdle() {
        try {
            while (held()) {
                long left = IDLE_MS - (System.nanoTime() - idleSince) / 1_000_000;
                if (!evaluating && left <= 0) break;
                Thread.sleep(evaluating ? IDLE_MS : Math.max(10, left));
            }
        } catch (InterruptedException e) {
            return;
        }
        release("idle");
    }

    /** Lets the indexer run (once); {@code why} goes to the debug log. */
    private synchronized void release(String why) {
        if (!held) return;
        held = false;
        Log.debug("class-path index released (" + why + ") " + java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() + " ms after the JVM started");
        try {
            resume.invoke(sca);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.warn("could not resume JShell's class-path index: " + e);
        }
    }

    /** Lets the indexer run and waits up to {@link #WAIT_MS} for it to finish (before a completion). */
    void now() {
        boolean wasHeld = held();
        release("completion");
        if (!wasHeld || waitFinished == null) return;
        Thread t = new Thread(() -> {
            try {
                waitFinished.invoke(sca);
            } catch (ReflectiveOperationException | RuntimeException ignored) {
                // completion then sees what is indexed so far, as before the index was deferred
            }
        }, "jshell-index-wait");
        t.setDaemon(true);
        t.start();
        try {
            t.join(WAIT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits, without bound, until the indexer has caught up with the class path (for tests). */
    void awaitIndexed() throws ReflectiveOperationException {
        if (waitFinished != null) waitFinished.invoke(sca);
    }

    @Override
    public void close() {
        release("closed");   // the indexer thread is JShell's, shared by every JShell of this JVM
    }
}
