// Shape legend: shape = iteration shape (the output's); st0/st1/st2 = strides of up to 3 operands in
// that shape (0 where an operand is broadcast); rows = all dims but the last, after coalescing.
package ai.longconv4j.backend.cpu;

/**
 * Strided iteration over up to three operands. Dims of size 1 are dropped and adjacent dims that are
 * contiguous for every operand are merged, so a contiguous tensor is one long row. Rows are split
 * over the {@link CpuContext}'s threads.
 */
public final class Strided {
    private Strided() {}

    /** One row: operand k starts at {@code ok} and steps by {@code sk}, for {@code len} elements. */
    @FunctionalInterface
    public interface Row {
        void run(int o0, int s0, int o1, int s1, int o2, int s2, int len);
    }

    /**
     * Calls {@code row} for every row of the iteration space. {@code st1}/{@code st2} may be null
     * (fewer operands). The union of rows covers every index exactly once.
     */
    public static void forEachRow(CpuContext ctx, int[] shape, int[] st0, int off0, int[] st1, int off1,
                                  int[] st2, int off2, Row row) {
        int n = shape.length;
        for (int s : shape) if (s == 0) return;
        int[] sh = new int[n];
        int[][] st = new int[3][n];
        int m = 0;
        for (int i = 0; i < n; i++) {          // drop size-1 dims
            if (shape[i] == 1) continue;
            sh[m] = shape[i];
            st[0][m] = st0[i];
            st[1][m] = st1 == null ? 0 : st1[i];
            st[2][m] = st2 == null ? 0 : st2[i];
            m++;
        }
        if (m == 0) {                          // a single element
            row.run(off0, 1, off1, 1, off2, 1, 1);
            return;
        }
        int k = m - 1;                         // merge dims from the right
        int[] msh = new int[m];
        int[][] mst = new int[3][m];
        msh[k] = sh[m - 1];
        for (int o = 0; o < 3; o++) mst[o][k] = st[o][m - 1];
        for (int i = m - 2; i >= 0; i--) {
            boolean mergeable = true;
            for (int o = 0; o < 3; o++) mergeable &= st[o][i] == mst[o][k] * msh[k];
            if (mergeable) {
                msh[k] *= sh[i];
            } else {
                k--;
                msh[k] = sh[i];
                for (int o = 0; o < 3; o++) mst[o][k] = st[o][i];
            }
        }
        final int dims = m - k;
        final int[] fsh = java.util.Arrays.copyOfRange(msh, k, m);
        final int[] f0 = java.util.Arrays.copyOfRange(mst[0], k, m);
        final int[] f1 = java.util.Arrays.copyOfRange(mst[1], k, m);
        final int[] f2 = java.util.Arrays.copyOfRange(mst[2], k, m);
        final int len = fsh[dims - 1];
        final int s0 = f0[dims - 1], s1 = f1[dims - 1], s2 = f2[dims - 1];
        int rows = 1;
        for (int i = 0; i < dims - 1; i++) rows *= fsh[i];
        if (rows == 1) {
            // one long row: split it (elementwise work is independent per index)
            ctx.parallelFor(len, 1, (a, b) -> row.run(off0 + a * s0, s0, off1 + a * s1, s1, off2 + a * s2, s2, b - a));
            return;
        }
        ctx.parallelFor(rows, len, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int rem = r, o0 = off0, o1 = off1, o2 = off2;
                for (int d = dims - 2; d >= 0; d--) {
                    int idx = rem % fsh[d];
                    rem /= fsh[d];
                    o0 += idx * f0[d];
                    o1 += idx * f1[d];
                    o2 += idx * f2[d];
                }
                row.run(o0, s0, o1, s1, o2, s2, len);
            }
        });
    }
}
