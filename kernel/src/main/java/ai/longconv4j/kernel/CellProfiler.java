// %%profile: the library's Profiler around each snippet of a cell, the per-snippet tables merged. Rows are
// ops and modules (no tensor shapes here; the Profiler derives bytes and FLOPs from the shapes it sees).
package ai.longconv4j.kernel;

import ai.longconv4j.profile.Profiler;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.numbers.NumberColumnFormatter;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs every snippet of a {@code %%profile} cell under {@link Profiler#start()} on the snippet's own
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
    /** Profiler.table()'s columns, in order. */
    static final List<String> COLUMNS = List.of("kind", "name", "calls", "total_ms", "mean_us", "percent", "gflop", "gbytes",
            "gb_per_s", "tflop_per_s");

    private final List<Table> parts = new ArrayList<>();
    private long runNanos;

    @Override
    public Object call(InProcessControl.Body snippet) throws Throwable {
        Profiler p = Profiler.start();
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

    /** Sums of one (kind, name) row across tables; NaN sums stay NaN until a known value arrives. */
    private static final class Sum {
        final String kind, name;
        long calls;
        double totalMs, gflop = Double.NaN, gbytes = Double.NaN;

        Sum(String kind, String name) {
            this.kind = kind;
            this.name = name;
        }
    }

    private static double plus(double acc, double v) {
        if (Double.isNaN(v)) return acc;
        return Double.isNaN(acc) ? v : acc + v;
    }

    /**
     * Merges {@link Profiler#table()}s; {@code wallNanos} is the profiled wall time they cover (the base
     * of {@code percent}). Ops come first, then modules, each by total time, as in the Profiler.
     */
    static Table merge(List<Table> tables, long wallNanos) {
        Map<String, Sum> rows = new LinkedHashMap<>();
        for (Table t : tables) {
            if (!t.columnNames().equals(COLUMNS)) {
                throw new IllegalArgumentException("profile merge: expected columns " + COLUMNS + ", got " + t.columnNames());
            }
            for (int r = 0; r < t.rowCount(); r++) {
                String kind = t.stringColumn("kind").get(r), name = t.stringColumn("name").get(r);
                Sum s = rows.computeIfAbsent(kind + "\u0000" + name, k -> new Sum(kind, name));
                s.calls += t.intColumn("calls").getInt(r);
                s.totalMs += t.doubleColumn("total_ms").getDouble(r);
                s.gflop = plus(s.gflop, t.doubleColumn("gflop").getDouble(r));
                s.gbytes = plus(s.gbytes, t.doubleColumn("gbytes").getDouble(r));
            }
        }
        List<Sum> sorted = new ArrayList<>(rows.values());
        sorted.sort(Comparator.comparing((Sum s) -> s.kind.equals("module")).thenComparing(s -> -s.totalMs));
        double wallMs = Math.max(1, wallNanos) * 1e-6;
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
        for (Sum s : sorted) {
            double sec = s.totalMs * 1e-3;
            kind.append(s.kind);
            name.append(s.name);
            calls.append((int) s.calls);
            total.append(s.totalMs);
            mean.append(s.calls == 0 ? Double.NaN : s.totalMs * 1e3 / s.calls);
            pct.append(100 * s.totalMs / wallMs);
            gflop.append(s.gflop);
            gbytes.append(s.gbytes);
            gbps.append(sec > 0 ? s.gbytes / sec : Double.NaN);
            tflops.append(sec > 0 ? s.gflop * 1e-3 / sec : Double.NaN);
        }
        total.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(3));
        mean.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(1));
        pct.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(1));
        for (DoubleColumn c : List.of(gflop, gbytes, tflops)) c.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(4));
        gbps.setPrintFormatter(NumberColumnFormatter.fixedWithGrouping(2));
        return Table.create("profile", kind, name, calls, total, mean, pct, gflop, gbytes, gbps, tflops);
    }
}
