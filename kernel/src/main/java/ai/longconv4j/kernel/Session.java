// One notebook session: an Engine plus magics, executing whole cells. No tensor shapes here.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * Executes cells: a first line {@code %%name args} makes the whole cell a cell magic; otherwise lines
 * starting with {@code %} are line magics run in order with the Java code between them. Used by the
 * Jupyter server and by the headless runner. The JShell starts in the background at construction
 * ({@link #ready()}), so a kernel answers {@code kernel_info_request} before it is warm.
 * <pre>
 * jshell&gt; var s = new Session(); s.execute("%imports", out); s.execute("1 + 1", out).value()
 * </pre>
 */
public final class Session implements AutoCloseable {
    private final CompletableFuture<Engine> engine;
    private final Magics magics = new Magics(this);
    private volatile Thread magicThread;
    private volatile boolean closed;
    private volatile int warmedUp;

    /** Starts the JShell on a background thread. */
    public Session() {
        this(0, 0);
    }

    /**
     * Starts the JShell on a background thread and, before it counts as {@link #ready()}, warms javac up
     * in it: up to {@code warmupCells} cells of {@link AotTraining#CELLS} (declarations, redefinitions,
     * expressions, method calls, imports, tensors and tables rendered, failing cells), stopping early at
     * {@code warmupDeadline} ({@link System#nanoTime()}); what they declared is dropped again. The JIT
     * then starts compiling javac's hot paths before the first real cell (the kernel's start-up grows by
     * as much).
     */
    Session(int warmupCells, long warmupDeadline) {
        engine = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                Engine e = new Engine();
                e.value("0"); // warm the compiler
                if (warmupCells > 0) warmUp(e, warmupCells, warmupDeadline);
                Log.debug("JShell ready " + java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() + " ms after the JVM started");
                engine.complete(e);
            } catch (Throwable ex) {
                engine.completeExceptionally(ex);
            }
        }, "jshell-start");
        t.setDaemon(true);
        t.start();
    }

    private void warmUp(Engine e, int cells, long deadline) {
        long t0 = System.nanoTime();
        var sink = CellOutput.discarding("no input during the warm-up");
        int n = 0;
        try {
            var mark = e.mark();
            List<String> all = AotTraining.CELLS;
            for (; n < cells && System.nanoTime() < deadline && !closed; n++) {
                execute(e, all.get(n % all.size()).formatted(n / all.size()), sink, null);
            }
            e.dropSince(mark);
        } catch (RuntimeException | LinkageError ex) {   // the warm-up is optional
            Log.warn("warm-up stopped: " + ex);
        } finally {
            Notebook.bind(null);
        }
        warmedUp = n;
        Log.debug("warm-up: " + n + " cells in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /** Cells the start-up warm-up ran (0 without one); for tests. */
    int warmedUp() {
        return warmedUp;
    }

    /** Waits until the JShell has started (and warmed up); false when it failed to start. */
    public boolean awaitReady() {
        try {
            engine.join();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Once the JShell has started, warms javac's JIT up in the background at the lowest OS priority
     * ({@link Warmup}); the Jupyter kernel calls this, the headless runner does not.
     */
    public void warmUpInBackground() {
        engine.thenRun(() -> Warmup.start(() -> closed));
    }

    /** The engine, waiting for it to start. */
    public Engine engine() {
        return engine.join();
    }

    /** Whether the JShell has started. */
    public boolean ready() {
        return engine.isDone();
    }

    /** Names of the magics (for completion and the unknown-magic error). */
    public List<String> magicNames() {
        return magics.names();
    }

    /** Executes one cell, sending streams and displays to {@code out}; returns its value or error. */
    public CellResult execute(String cell, CellOutput out) {
        return execute(cell, out, null);
    }

    CellResult execute(String cell, CellOutput out, BiConsumer<String, Long> timer) {
        return execute(engine(), cell, out, timer);
    }

    private CellResult execute(Engine e, String cell, CellOutput out, BiConsumer<String, Long> timer) {
        Notebook.bind(out);
        String trimmed = cell.stripLeading();
        if (trimmed.startsWith("%%")) {
            int nl = trimmed.indexOf('\n');
            String head = nl < 0 ? trimmed.substring(2) : trimmed.substring(2, nl);
            String body = nl < 0 ? "" : trimmed.substring(nl + 1);
            String[] parts = head.strip().split("\\s+", 2);
            return magics.cell(parts[0], parts.length > 1 ? parts[1] : "", body, out);
        }
        String[] lines = cell.split("\n", -1);
        var code = new StringBuilder();
        int codeStart = 1;
        CellResult last = CellResult.ok(null);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.startsWith("%") && !l.startsWith("%%")) {
                if (!code.toString().isBlank()) {
                    last = evalCode(e, code.toString(), codeStart, out, timer);
                    if (!last.ok()) return last;
                }
                code.setLength(0);
                codeStart = i + 2;
                String[] parts = l.substring(1).split("\\s+", 2);
                last = magics.line(parts[0], parts.length > 1 ? parts[1].strip() : "", out);
                if (!last.ok()) return last;
            } else {
                code.append(lines[i]).append('\n');
            }
        }
        if (!code.toString().isBlank()) last = evalCode(e, code.toString(), codeStart, out, timer);
        return last;
    }

    private CellResult evalCode(Engine e, String code, int firstLine, CellOutput out, BiConsumer<String, Long> timer) {
        Engine.Eval ev = e.eval(code, firstLine, w -> out.stream("stderr", w), timer);
        if (ev.error() != null) return CellResult.failed(ev.error());
        if (!ev.hasValue()) return CellResult.ok(null);
        try {
            return CellResult.ok(Rendering.render(ev.value()));
        } catch (RuntimeException | LinkageError ex) {
            DisplayData d = new DisplayData(String.valueOf(ev.value()));
            out.stream("stderr", "rendering failed (" + ex + "); showing toString()\n");
            return CellResult.ok(d);
        }
    }

    /** Runs {@code task} on this thread so that {@link #interrupt()} reaches it (for %timeit). */
    <T> T runInterruptibly(java.util.concurrent.Callable<T> task) throws Exception {
        magicThread = Thread.currentThread();
        try {
            return task.call();
        } finally {
            magicThread = null;
            Thread.interrupted();
        }
    }

    /** Interrupts the running cell (user code thread, JShell's stop flag, a running %timeit loop). */
    public void interrupt() {
        if (engine.isDone() && !engine.isCompletedExceptionally()) engine.join().interrupt();
        Thread t = magicThread;
        if (t != null) t.interrupt();
    }

    @Override
    public void close() {
        closed = true;
        if (engine.isDone() && !engine.isCompletedExceptionally()) engine.join().close();
    }
}
