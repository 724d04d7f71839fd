// Shape legend: a contiguous input viewed as (O, R, I) = (outer, reduced, inner); output (O, I).
package ai.longconv4j.backend.cpu;

/**
 * Reductions over the middle axis of a contiguous (O, R, I) buffer. Sums accumulate in double and
 * always add in the same order, whatever the thread count: along R in ascending order, and for
 * I == 1 in fixed chunks of {@link CpuContext#REDUCE_CHUNK} whose partial sums are added in order.
 */
public final class ReduceKernels {
    private ReduceKernels() {}

    /** out[o, i] = sum_r x[o, r, i]. */
    public static void sum(CpuContext ctx, CpuStorage x, int off, int outer, int red, int inner, CpuStorage out) {
        if (inner == 1) {
            if (outer == 1) {
                out.set(0, sumRun(ctx, x, off, red));
                return;
            }
            ctx.parallelFor(outer, red, (o0, o1) -> {
                for (int o = o0; o < o1; o++) out.set(o, chunkedSequential(x, off + o * red, red));
            });
            return;
        }
        if (outer >= ctx.threads() || outer * (long) red * inner < CpuContext.PARALLEL_THRESHOLD) {
            ctx.parallelFor(outer, (long) red * inner, (o0, o1) -> {
                double[] acc = new double[inner];
                for (int o = o0; o < o1; o++) sumBlock(x, off + o * red * inner, red, inner, 0, inner, acc, out, o * inner);
            });
        } else {
            for (int o = 0; o < outer; o++) {
                final int base = off + o * red * inner, ob = o * inner;
                ctx.parallelFor(inner, red, (i0, i1) -> sumBlock(x, base, red, inner, i0, i1, new double[inner], out, ob));
            }
        }
    }

    private static void sumBlock(CpuStorage x, int base, int red, int inner, int i0, int i1, double[] acc,
                                 CpuStorage out, int outOff) {
        java.util.Arrays.fill(acc, i0, i1, 0.0);
        float[] xf = x.f32();
        double[] xd = x.f64();
        for (int r = 0; r < red; r++) {
            int row = base + r * inner;
            if (xf != null) for (int i = i0; i < i1; i++) acc[i] += xf[row + i];
            else for (int i = i0; i < i1; i++) acc[i] += xd[row + i];
        }
        for (int i = i0; i < i1; i++) out.set(outOff + i, acc[i]);
    }

    /** Sum of a contiguous run, chunked in fixed chunks, chunks computed in parallel and added in order. */
    private static double sumRun(CpuContext ctx, CpuStorage x, int off, int n) {
        int chunks = (n + CpuContext.REDUCE_CHUNK - 1) / CpuContext.REDUCE_CHUNK;
        double[] partial = new double[chunks];
        ctx.parallelFor(chunks, CpuContext.REDUCE_CHUNK, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int s = c * CpuContext.REDUCE_CHUNK, e = Math.min(n, s + CpuContext.REDUCE_CHUNK);
                partial[c] = plainSum(x, off + s, e - s);
            }
        });
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }

    /** The same chunking as {@link #sumRun}, on the calling thread. */
    private static double chunkedSequential(CpuStorage x, int off, int n) {
        double total = 0;
        for (int s = 0; s < n; s += CpuContext.REDUCE_CHUNK)
            total += plainSum(x, off + s, Math.min(CpuContext.REDUCE_CHUNK, n - s));
        return total;
    }

    private static double plainSum(CpuStorage x, int off, int n) {
        double s = 0;
        if (x.f32() != null) {
            float[] a = x.f32();
            for (int i = 0; i < n; i++) s += a[off + i];
        } else {
            double[] a = x.f64();
            for (int i = 0; i < n; i++) s += a[off + i];
        }
        return s;
    }

    /** out[o, i] = max_r x[o, r, i]; argmax[o * I + i] = the first r reaching it. */
    public static void max(CpuContext ctx, CpuStorage x, int off, int outer, int red, int inner, CpuStorage out,
                           int[] argmax) {
        ctx.parallelFor(outer * inner, red, (j0, j1) -> {
            for (int j = j0; j < j1; j++) {
                int o = j / inner, i = j % inner, base = off + o * red * inner + i;
                double best = x.get(base);
                int arg = 0;
                for (int r = 1; r < red; r++) {
                    double v = x.get(base + r * inner);
                    if (v > best || (Double.isNaN(v) && !Double.isNaN(best))) {
                        best = v;
                        arg = r;
                    }
                }
                out.set(j, best);
                argmax[j] = arg;
            }
        });
    }
}
