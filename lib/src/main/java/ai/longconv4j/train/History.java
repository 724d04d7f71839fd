// Shape legend: not shape-specific; one row per logged step.
package ai.longconv4j.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

/**
 * The record of a training run: one row per optimizer step (train loss, lr, tokens/s; val loss and
 * accuracy on the steps that evaluated, NaN elsewhere), and how the run stopped.
 *
 * <pre>{@code
 * jshell> history.table().last(3)
 * jshell> history.plot(Path.of("loss.png"))      // train and val loss over steps, PNG
 * }</pre>
 */
public final class History {
    /** How a run ended. */
    public enum StopReason { RUNNING, COMPLETED, INTERRUPTED, TIME_LIMIT, NON_FINITE }

    /** One logged step. */
    public record Row(long step, double trainLoss, double valLoss, double accuracy, double lr, double tokensPerSecond) {
    }

    private final List<Row> rows = new ArrayList<>();
    private StopReason stopReason = StopReason.RUNNING;
    private String stopMessage = "";

    void add(Row r) {
        rows.add(r);
    }

    /** Replaces the last row (to attach evaluation figures to the step's row). */
    void replaceLast(Row r) {
        rows.set(rows.size() - 1, r);
    }

    void stop(StopReason reason, String message) {
        stopReason = reason;
        stopMessage = message;
    }

    /** The rows, in step order. */
    public List<Row> rows() {
        return Collections.unmodifiableList(rows);
    }

    /** The training losses, in step order. */
    public double[] trainLosses() {
        return rows.stream().mapToDouble(Row::trainLoss).toArray();
    }

    /** The rows that carry an evaluation. */
    public List<Row> evaluations() {
        return rows.stream().filter(r -> !Double.isNaN(r.valLoss())).toList();
    }

    public StopReason stopReason() {
        return stopReason;
    }

    /** A human-readable reason ("" when completed normally). */
    public String stopMessage() {
        return stopMessage;
    }

    /** Columns step, train_loss, val_loss, accuracy, lr, tokens_per_s. */
    public Table table() {
        var step = LongColumn.create("step");
        var train = DoubleColumn.create("train_loss");
        var val = DoubleColumn.create("val_loss");
        var acc = DoubleColumn.create("accuracy");
        var lr = DoubleColumn.create("lr");
        var tps = DoubleColumn.create("tokens_per_s");
        for (Row r : rows) {
            step.append(r.step());
            train.append(r.trainLoss());
            val.append(r.valLoss());
            acc.append(r.accuracy());
            lr.append(r.lr());
            tps.append(r.tokensPerSecond());
        }
        return Table.create("history", step, train, val, acc, lr, tps);
    }

    /** An XChart of train loss (every step) and val loss (evaluated steps) against the step. */
    public XYChart chart() {
        XYChart c = new XYChartBuilder().width(720).height(400).title("training").xAxisTitle("step").yAxisTitle("loss").build();
        double[] xs = rows.stream().mapToDouble(Row::step).toArray();
        if (xs.length > 0) {
            // An explicit 0..round-number range: left to itself, XChart 3.8 spreads the ticks of a few thousand steps at
            // uneven values (1, 353, 705, ...) whose labels run into each other.
            c.getStyler().setXAxisMin(0.0).setXAxisMax(niceCeil(xs[xs.length - 1]));
            c.addSeries("train loss", xs, trainLosses()).setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        }
        List<Row> ev = evaluations();
        if (!ev.isEmpty()) {
            XYSeries s = c.addSeries("val loss", ev.stream().mapToDouble(Row::step).toArray(),
                    ev.stream().mapToDouble(Row::valLoss).toArray());
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        return c;
    }

    /** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least {@code x} (x > 0). */
    static double niceCeil(double x) {
        double p = Math.pow(10, Math.floor(Math.log10(Math.max(x, 1))));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= x) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** Writes {@link #chart()} as a PNG; returns the file. */
    public Path plot(Path png) throws IOException {
        String name = png.toString();
        String base = name.endsWith(".png") ? name.substring(0, name.length() - 4) : name;
        BitmapEncoder.saveBitmap(chart(), base, BitmapEncoder.BitmapFormat.PNG);
        return Path.of(base + ".png");
    }

    @Override
    public String toString() {
        String last = rows.isEmpty() ? "" : String.format(", last train loss %.4f", rows.get(rows.size() - 1).trainLoss());
        var ev = evaluations();
        String val = ev.isEmpty() ? "" : String.format(", last val loss %.4f", ev.get(ev.size() - 1).valLoss());
        return "History(" + rows.size() + " steps" + last + val + ", " + stopReason + ")";
    }
}
