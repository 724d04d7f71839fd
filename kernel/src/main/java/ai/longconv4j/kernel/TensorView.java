// Compact HTML summary of a tensor: shape [d0, d1, ...], dtype, device, grad flag, a few values and stats.
package ai.longconv4j.kernel;

import ai.longconv4j.tensor.Tensor;

import java.util.Arrays;

/**
 * Tensor rendering for notebooks: text/plain is the tensor's own short {@code toString()}; the HTML
 * summary is a one-row table (shape, dtype, device, requires grad, numel, min / mean / max over CPU
 * values) followed by the first {@link #PREVIEW} values. Large tensors are summarized, never printed in full.
 */
final class TensorView {
    /** Values shown in the preview. */
    static final int PREVIEW = 8;
    /** Statistics are computed for tensors up to this many elements (they copy to a double[]). */
    static final int MAX_STATS = 1 << 24;

    private TensorView() { }

    /** HTML summary for a tensor, or null for any other value. */
    static String html(Object value) {
        if (!(value instanceof Tensor t)) return null;
        var sb = new StringBuilder("<div class=\"longconv4j-tensor\"><table><tr><th>shape</th><th>dtype</th><th>device</th>"
                + "<th>grad</th><th>numel</th><th>min</th><th>mean</th><th>max</th></tr><tr>");
        sb.append("<td>").append(Arrays.toString(t.shape())).append("</td><td>").append(t.dtype()).append("</td><td>")
                .append(Rendering.escape(String.valueOf(t.device()))).append("</td><td>").append(t.requiresGrad())
                .append("</td><td>").append(t.numel()).append("</td>");
        double[] v = t.numel() <= MAX_STATS ? t.toDoubleArray() : null;
        if (v != null && v.length > 0) {
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double x : v) {
                min = Math.min(min, x);
                max = Math.max(max, x);
                sum += x;
            }
            sb.append(td(min)).append(td(sum / v.length)).append(td(max));
        } else sb.append("<td></td><td></td><td></td>");
        sb.append("</tr></table>");
        if (v != null && v.length > 0) {
            sb.append("<code>[");
            for (int i = 0; i < Math.min(PREVIEW, v.length); i++) sb.append(i == 0 ? "" : ", ").append(String.format("%.4g", v[i]));
            sb.append(v.length > PREVIEW ? ", ...]" : "]").append("</code>");
        }
        return sb.append("</div>").toString();
    }

    private static String td(double x) {
        return "<td>" + String.format("%.4g", x) + "</td>";
    }
}
