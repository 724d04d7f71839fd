// %%profile: the library's Profiler around each snippet of a cell, the per-snippet tables merged. Rows are
// ops and modules (no tensor shapes here; the Profiler derives bytes and FLOPs from the shapes it sees).
package ai.longconv4j.kernel;

import ai.longconv4j.profile.Profiler;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.numbers.NumberColumnFormatter;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs every snippet of a {@code %%profile} cell under {@link Profiler#start(ai.longconv4j.tensor.Device)} (the
 * {@code %device} selection: CUDA events on a GPU) on the snippet's own
 * thread (JShell runs each snippet on a new thread and the profiler is per thread), then merges the
 * tables: calls, times, GFLOP and GB add up; means, percentages (of the time spent running the snippets,
 * compilation excluded), GB/s and TFLOP/s are recomputed from the sums. Ops that run on threads the
 * cell starts itself are not seen (the profiler watches the snippet's thread only).
 * <pre>
 * %%profile
 * var y = model.forward(x);
 * y.sum().backward();
 * </pre>
 */
final class CellProfiler implements InProcessControl.Around {
    private final List<Table> parts = new ArrayList<>();
    private long runNanos;

    @Override
    public Object call(InProcessControl.Body snippet) throws Throwable {
        Profiler p = Profiler.start(Devices.selected());   // CUDA events when %device is a GPU
        try {
            return snippet.run();
        } finally {
            p.close();
            Table t = p.table();
            synchronized (this) {
                parts.add(t);
                runNanos += p.elapsedNanos();
            }
        }
    }

    /** Nanoseconds spent running profiled snippets (compilation excluded). */
    synchronized long runNanos() {
        return runNanos;
    }

    /** Snippets profiled so far. */
    synchronized int snippets() {
        return parts.size();
    }

    /** The merged table of all snippets so far. */
    synchronized Table table() {
        return merge(parts, runNanos);
    }

    /**
     * Merges {@link Profiler#table()}s ({@link Profiler#merge}); {@code wallNanos} is the profiled wall time
     * they cover (the base of {@code percent}). Adds the print formats of a notebook's table.
     */
    static Table merge(List<Table> tables, long wallNanos) {
        Table t = Profiler.merge(tables, wallNanos);
        DoubleColumn total = t.doubleColumn("total_ms"), mean = t.doubleColumn("mean_us"), pct = t.doubleColumn("percent");
        DoubleColumn gflop = t.doubleColumn("gflop"), gbytes = t.doubleColumn("gbytes"), gbps = t.doubleColumn("gb_per_s");
        DoubleColumn tflops = t.doubleColumn("tflop_per_s");
        total.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(3));
        mean.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(1));
        pct.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(1));
        for (DoubleColumn c : List.of(gflop, gbytes, tflops)) c.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(4));
        gbps.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(2));
        return t;
    }
}
