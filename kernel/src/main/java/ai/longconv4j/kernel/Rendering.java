// Rendering of cell values into Jupyter MIME bundles. Tensor shapes are shown as [d0, d1, ...].
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Base64;

/**
 * Value to MIME bundle, by {@code instanceof}: a {@link DisplayData} as it is; Tablesaw {@link Table}
 * as HTML (first and last rows, row count) plus text; XChart charts and {@link BufferedImage} as PNG;
 * tensors as text plus a compact HTML summary ({@link TensorView}); everything else as text.
 */
public final class Rendering {
    /** Tables longer than this show their first {@link #HEAD} and last {@link #TAIL} rows. */
    static final int MAX_ROWS = 20, HEAD = 10, TAIL = 5;
    /** text/plain is cut after this many characters. */
    static final int MAX_TEXT = 20_000;

    private Rendering() { }

    /** The MIME bundle for {@code value} (always with text/plain). */
    public static DisplayData render(Object value) {
        if (value instanceof DisplayData d) return d;
        DisplayData d = new DisplayData(text(value));
        switch (value) {
            case Table t -> d.putHTML(tableHtml(t));
            case Chart<?, ?> c -> d.putData(MIMEType.IMAGE_PNG, png(c));
            case BufferedImage img -> d.putData(MIMEType.IMAGE_PNG, png(img));
            case null, default -> {
                String html = TensorView.html(value);
                if (html != null) d.putHTML(html);
            }
        }
        return d;
    }

    /** text/plain of a value: strings quoted (as JShell shows them), arrays expanded, long text cut. */
    static String text(Object v) {
        String s = switch (v) {
            case null -> "null";
            case String str -> "\"" + str + "\"";
            case Character c -> "'" + c + "'";
            case Table t -> t.shape() + "\n" + t.print(MAX_ROWS);
            case Chart<?, ?> c -> c.getClass().getSimpleName() + "[" + c.getTitle() + ", " + c.getWidth() + "x" + c.getHeight() + "]";
            case BufferedImage img -> "BufferedImage[" + img.getWidth() + "x" + img.getHeight() + "]";
            case Object[] a -> Arrays.deepToString(a);
            case int[] a -> Arrays.toString(a);
            case long[] a -> Arrays.toString(a);
            case double[] a -> Arrays.toString(a);
            case float[] a -> Arrays.toString(a);
            case boolean[] a -> Arrays.toString(a);
            case byte[] a -> Arrays.toString(a);
            case short[] a -> Arrays.toString(a);
            case char[] a -> Arrays.toString(a);
            default -> String.valueOf(v);
        };
        return s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) + "\n... (" + s.length() + " characters)" : s;
    }

    /** HTML table: all rows up to {@link #MAX_ROWS}, else the first {@link #HEAD}, an ellipsis row and the last {@link #TAIL}. */
    static String tableHtml(Table t) {
        int rows = t.rowCount(), cols = t.columnCount();
        var sb = new StringBuilder("<div><table class=\"dataframe\" border=\"1\"><thead><tr><th></th>");
        for (String name : t.columnNames()) sb.append("<th>").append(escape(name)).append("</th>");
        sb.append("</tr></thead><tbody>");
        boolean cut = rows > MAX_ROWS;
        for (int r = 0; r < rows; r++) {
            if (cut && r == HEAD) {
                sb.append("<tr><th>...</th>").append("<td>...</td>".repeat(cols)).append("</tr>");
                r = rows - TAIL;
            }
            sb.append("<tr><th>").append(r).append("</th>");
            for (int c = 0; c < cols; c++) sb.append("<td>").append(escape(t.column(c).getString(r))).append("</td>");
            sb.append("</tr>");
        }
        sb.append("</tbody></table><p>").append(escape(t.name() == null ? "" : t.name())).append(' ')
                .append(rows).append(" rows × ").append(cols).append(" columns</p></div>");
        return sb.toString();
    }

    static String png(Chart<?, ?> chart) {
        try {
            return Base64.getEncoder().encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String png(BufferedImage img) {
        try {
            var bytes = new ByteArrayOutputStream();
            ImageIO.write(img, "png", bytes);
            return Base64.getEncoder().encodeToString(bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** HTML-escapes text. */
    public static String escape(String s) {
        if (s == null) return "";
        var sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
