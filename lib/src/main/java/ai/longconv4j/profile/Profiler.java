// Shape legend: B batch, C kernel channels, H features, L length, N FFT size (used by the FLOP estimates).
package ai.longconv4j.profile;

import ai.longconv4j.nn.Module;
import ai.longconv4j.tensor.OpObserver;
import ai.longconv4j.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Per-op and per-module wall time, call counts, bytes moved and FLOPs (where known) of the code run
 * on this thread while the profiler is open.
 *
 * <pre>{@code
 * jshell> Table t;
 * jshell> try (var p = Profiler.start()) { model.forward(x).sum().backward(); t = p.table(); }
 * jshell> t
 * t ==> kind | name | calls | total_ms | mean_us | percent | gflop | gbytes | gb_per_s | tflop_per_s
 *        op  | matmul | 24 | ...
 * }</pre>
 *
 * <p><b>How time is attributed.</b> Ops report when they finish ({@link OpObserver}); an op's time is the
 * wall time since the previous event on this thread (the previous op, a module boundary, or the start).
 * Since each op computes just before it is recorded, this is its compute time plus the Java glue before
 * it; the gaps that end at a module boundary, at the start of a gradient rule or at {@link #close()} go to
 * the row {@code (untracked)}, so op rows plus that row add up to the profiled wall time. Backward rows
 * ({@code "matmul.backward"}) hold the whole time of a gradient rule, the ops it runs included (those are
 * not counted again). Module rows ({@link #module}) are
 * inclusive forward times and overlap the op rows.
 *
 * <p><b>Bytes and FLOPs.</b> Bytes: elements read (inputs) plus written (output) times the element size;
 * views (reshape, permute, slice, expand) count 0. FLOPs: matmul {@code 2·M·N·K} (backward twice that),
 * elementwise ops one per output element, reductions one per input element, long convolutions
 * {@code rows·(2·2.5·N·log2 N + 3·N) + C·H·2.5·N·log2 N} with N = 2L, rows = B·C·H (two real FFTs and
 * a complex product per row, plus the kernel's FFT); other ops are left blank.
 *
 * <p>The clock is {@link System#nanoTime()} by default; {@link #start(ai.longconv4j.tensor.Device)} uses the
 * device backend's clock (CUDA events on a GPU) and {@link #start(LongSupplier)} takes any other.
 */
public final class Profiler implements AutoCloseable {
    private static final ThreadLocal<Profiler> ACTIVE = new ThreadLocal<>();
    private static final java.util.Set<String> VIEWS = java.util.Set.of("reshape", "permute", "slice", "expand");
    /** Row name of the time not attributed to any op. */
    public static final String UNTRACKED = "(untracked)";

    /** Accumulated figures of one row. */
    private static final class Row {
        final String kind, name;
        long calls, nanos;
        double flops, bytes;
        boolean flopsKnown;

        Row(String kind, String name) {
            this.kind = kind;
            this.name = name;
        }
    }

    private final LongSupplier clock;
    private final Map<String, Row> rows = new LinkedHashMap<>();
    private final ArrayDeque<String> moduleStack = new ArrayDeque<>();
    private final Thread owner = Thread.currentThread();
    private final long started;
    private long mark;
    /** Depth of gradient rules running now; ops they record are part of the rule's row. */
    private int backwardDepth;
    private long stopped = -1;
    private final OpObserver previous;
    private final Profiler previousActive;

    private Profiler(LongSupplier clock) {
        this.clock = clock;
        this.started = clock.getAsLong();
        this.mark = started;
        this.previous = OpObserver.install(new OpObserver() {
            @Override
            public void onForward(String name, Tensor out, Tensor[] inputs) {
                op(name, out, inputs, false);
            }

            @Override
            public void onBackwardStart(String name) {
                if (backwardDepth++ == 0) {
                    boundary();
                }
            }

            @Override
            public void onBackward(String name, Tensor gradOut, Tensor[] inputs) {
                if (--backwardDepth == 0) {
                    op(name, gradOut, inputs, true);
                }
            }
        });
        this.previousActive = ACTIVE.get();
        ACTIVE.set(this);
    }

    /** Starts profiling this thread with {@link System#nanoTime()}. */
    public static Profiler start() {
        return new Profiler(System::nanoTime);
    }

    /**
     * Starts profiling this thread for work on {@code device}: the CPU's {@link System#nanoTime()}, or on a GPU the
     * backend's event clock (CUDA events: each op's time is device time, read after the op's kernels finished,
     * so asynchronous launches are charged to the op that queued them).
     */
    public static Profiler start(ai.longconv4j.tensor.Device device) {
        return device.isCpu() ? start() : new Profiler(ai.longconv4j.backend.Backends.forDevice(device).clock(device));
    }

    /** Starts profiling this thread with a custom nanosecond clock (e.g. CUDA-event based). */
    public static Profiler start(LongSupplier nanoClock) {
        return new Profiler(Objects.requireNonNull(nanoClock, "nanoClock"));
    }

    /** The profiler open on this thread, or null. */
    public static Profiler active() {
        return ACTIVE.get();
    }

    /**
     * Runs {@code module.forward(x)}, timed as module {@code name} (dotted path under the enclosing
     * module's) when a profiler is open on this thread; a plain call otherwise.
     */
    public static Tensor forward(String name, Module module, Tensor x) {
        Profiler p = ACTIVE.get();
        return p == null ? module.forward(x) : p.timeModule(name, () -> module.forward(x));
    }

    /** Runs {@code body}, timed as module {@code name} when a profiler is open on this thread. */
    public static <T> T module(String name, Supplier<T> body) {
        Profiler p = ACTIVE.get();
        return p == null ? body.get() : p.timeModule(name, body);
    }

    private <T> T timeModule(String name, Supplier<T> body) {
        String path = moduleStack.isEmpty() ? name : moduleStack.peek() + "." + name;
        boundary();
        long t0 = clock.getAsLong();
        moduleStack.push(path);
        try {
            return body.get();
        } finally {
            moduleStack.pop();
            boundary();
            Row r = rows.computeIfAbsent("module:" + path, k -> new Row("module", path));
            r.calls++;
            r.nanos += clock.getAsLong() - t0;
        }
    }

    /** Charges the gap since the last event to (untracked) and moves the mark. */
    private void boundary() {
        long now = clock.getAsLong();
        Row u = rows.computeIfAbsent("op:" + UNTRACKED, k -> new Row("op", UNTRACKED));
        u.nanos += now - mark;
        mark = now;
    }

    private void op(String name, Tensor out, Tensor[] inputs, boolean backward) {
        if (Thread.currentThread() != owner || (!backward && backwardDepth > 0)) {
            return;
        }
        long now = clock.getAsLong();
        String label = backward ? name + ".backward" : name;
        Row r = rows.computeIfAbsent("op:" + label, k -> new Row("op", label));
        r.calls++;
        r.nanos += now - mark;
        mark = now;
        if (!VIEWS.contains(name)) {
            double bytes = bytes(out);
            for (Tensor t : inputs) {
                bytes += t == null ? 0 : bytes(t);
            }
            r.bytes += bytes;
        }
        double f = flops(name, out, inputs);
        if (f >= 0) {
            r.flops += backward ? 2 * f : f;
            r.flopsKnown = true;
        }
    }

    private static double bytes(Tensor t) {
        int size = switch (t.dtype()) {
            case F64 -> 8;
            case F32 -> 4;
            case BF16, F16 -> 2;
        };
        return (double) t.numel() * size;
    }

    /** FLOPs of one forward call, or -1 when not known (see the class comment). */
    static double flops(String name, Tensor out, Tensor[] in) {
        if (name.equals("matmul") && in.length == 2 && in[0] != null && in[0].dim() >= 1) {
            // out has the forward output's shape for forward calls and gradOut's (same) for backward calls
            return 2.0 * out.numel() * in[0].size(-1);
        }
        if (name.startsWith("longconv") && in.length >= 2 && in[0] != null && in[0].dim() == 3 && in[1] != null) {
            int b = in[0].size(0), h = in[0].size(1), l = in[0].size(2);
            int c = in[1].numel() / (h * in[1].size(-1));
            double n = 2.0 * l;
            double fft = 2.5 * n * (Math.log(n) / Math.log(2));
            return (double) b * c * h * (2 * fft + 3 * n) + (double) c * h * fft;
        }
        return switch (name) {
            case "add", "sub", "mul", "div", "neg", "exp", "log", "tanh", "sigmoid", "relu", "gelu", "geluTanh", "sqrt",
                 "pow", "abs", "maximum", "where" -> out.numel();
            case "sum", "max" -> in[0] == null ? -1 : in[0].numel();
            default -> -1;
        };
    }

    /** Wall time since {@link #start()} (until {@link #close()} once closed), in nanoseconds. */
    public long elapsedNanos() {
        return (stopped >= 0 ? stopped : clock.getAsLong()) - started;
    }

    /**
     * The rows as a table sorted by total time (ops first, then modules): kind, name, calls, total_ms,
     * mean_us, percent (of the profiled wall time), gflop, gbytes, gb_per_s, tflop_per_s (NaN where
     * unknown).
     */
    public Table table() {
        List<Agg> aggs = new ArrayList<>();
        for (Row r : rows.values()) {
            if (r.name.equals(UNTRACKED) && r.nanos == 0) continue;
            boolean op = r.kind.equals("op") && !r.name.equals(UNTRACKED);
            aggs.add(new Agg(r.kind, r.name, r.calls, r.nanos * 1e-6,
                    op && r.flopsKnown ? r.flops * 1e-9 : Double.NaN, op ? r.bytes * 1e-9 : Double.NaN));
        }
        return build(aggs, elapsedNanos());
    }

    /** The column names of {@link #table()} and {@link #merge}, in order. */
    public static final List<String> COLUMNS = List.of("kind", "name", "calls", "total_ms", "mean_us", "percent",
            "gflop", "gbytes", "gb_per_s", "tflop_per_s");

    /**
     * Merges tables made by {@link #table()} (e.g. one per thread) into one: calls, time, GFLOP and GB are
     * summed per (kind, name), the means, percentages and rates recomputed from the sums; unknown (NaN)
     * figures stay unknown unless another part knows them. {@code wallNanos} is the profiled wall time the
     * parts cover (the base of {@code percent}).
     */
    public static Table merge(List<Table> tables, long wallNanos) {
        Map<String, Agg> sums = new LinkedHashMap<>();
        for (Table t : tables) {
            if (!t.columnNames().equals(COLUMNS)) {
                throw new IllegalArgumentException("profile merge: expected columns " + COLUMNS + ", got " + t.columnNames());
            }
            for (int r = 0; r < t.rowCount(); r++) {
                var part = new Agg(t.stringColumn("kind").get(r), t.stringColumn("name").get(r), t.intColumn("calls").getInt(r),
                        t.doubleColumn("total_ms").getDouble(r), t.doubleColumn("gflop").getDouble(r),
                        t.doubleColumn("gbytes").getDouble(r));
                sums.merge(part.kind() + "\u0000" + part.name(), part, Agg::plus);
            }
        }
        return build(new ArrayList<>(sums.values()), wallNanos);
    }

    /** One row's summable figures: time in ms, GFLOP and GB (NaN: unknown). */
    private record Agg(String kind, String name, long calls, double totalMs, double gflop, double gbytes) {
        Agg plus(Agg o) {
            return new Agg(kind, name, calls + o.calls, totalMs + o.totalMs, nanPlus(gflop, o.gflop), nanPlus(gbytes, o.gbytes));
        }

        private static double nanPlus(double a, double b) {
            return Double.isNaN(a) ? b : Double.isNaN(b) ? a : a + b;
        }
    }

    /** Sorted by total time (ops first, then modules), with the derived columns computed. */
    private static Table build(List<Agg> rows, long wallNanos) {
        double wallMs = Math.max(1, wallNanos) * 1e-6;
        List<Agg> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing((Agg a) -> a.kind().equals("module")).thenComparing(a -> -a.totalMs()));
        var kind = StringColumn.create("kind");
        var name = StringColumn.create("name");
        var calls = IntColumn.create("calls");
        var total = DoubleColumn.create("total_ms");
        var mean = DoubleColumn.create("mean_us");
        var pct = DoubleColumn.create("percent");
        var gflop = DoubleColumn.create("gflop");
        var gbytes = DoubleColumn.create("gbytes");
        var gbps = DoubleColumn.create("gb_per_s");
        var tflops = DoubleColumn.create("tflop_per_s");
        for (Agg a : sorted) {
            double sec = a.totalMs() * 1e-3;
            kind.append(a.kind());
            name.append(a.name());
            calls.append((int) a.calls());
            total.append(a.totalMs());
            mean.append(a.calls() == 0 ? Double.NaN : a.totalMs() * 1e3 / a.calls());
            pct.append(100 * a.totalMs() / wallMs);
            gflop.append(a.gflop());
            gbytes.append(a.gbytes());
            gbps.append(sec > 0 ? a.gbytes() / sec : Double.NaN);
            tflops.append(sec > 0 ? a.gflop() * 1e-3 / sec : Double.NaN);
        }
        return Table.create("profile", kind, name, calls, total, mean, pct, gflop, gbytes, gbps, tflops);
    }

    /** Stops profiling (restores the previous observer); the figures stay readable. Idempotent. */
    @Override
    public void close() {
        if (stopped >= 0) {
            return;
        }
        boundary();
        stopped = mark;
        OpObserver.install(previous);
        if (previousActive == null) {
            ACTIVE.remove();
        } else {
            ACTIVE.set(previousActive);
        }
    }

    @Override
    public String toString() {
        return "Profiler(" + rows.size() + " rows, " + String.format("%.1f ms", elapsedNanos() * 1e-6)
                + (stopped >= 0 ? ", closed)" : ", open)");
    }
}
