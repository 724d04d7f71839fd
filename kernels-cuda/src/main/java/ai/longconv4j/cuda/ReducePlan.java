// Shapes: a sum over the middle axis of x viewed as (O, R, I) = (outer, reduced, inner); out (O, I).
package ai.longconv4j.cuda;

/**
 * How {@code reduce.cu}'s split reduction cuts a sum: R into {@code splits} chunks of {@code chunk} rows, each job
 * (output tile or output, chunk) one thread block; with more than one split, pass 1 writes f64 partials
 * {@code part[(o S + s) I + i]} and pass 2 ({@code red_final}) adds them in chunk order, so results do not depend on
 * the launch. {@code columns}: I >= 32, a block covers 32 adjacent outputs (coalesced loads along I); else a block
 * covers one output. {@link #simulate} is the Java twin of the kernels' index arithmetic (tested on the CPU).
 *
 * @param columns true for {@code red_cols} (I >= 32), false for {@code red_rows}
 * @param splits  S, the number of chunks of R (1: pass 1 writes the outputs directly)
 * @param chunk   rows per chunk
 * @param jobs    pass-1 jobs (blocks of work)
 * @param grid    blocks launched (jobs are grid-strided)
 */
record ReducePlan(boolean columns, int splits, int chunk, long jobs, int grid) {
  /** Column tiles of 32 outputs; row lanes per column block. */
  static final int TILE = 32, LANES = 8, THREADS = 256;
  /** Smallest chunk: 8 rows per lane of a column block, 8 elements per thread of a row block. */
  static final int MIN_COLS_CHUNK = 64, MIN_ROWS_CHUNK = 2048;

  /** The plan for (O, R, I) on a device with {@code sms} multiprocessors: about 4 blocks per SM when R allows. */
  static ReducePlan of(int outer, int red, int inner, int sms) { return make(outer, red, inner, sms, inner >= TILE); }

  /** The column layout whatever I is (LayerNorm's dw / db: 32 adjacent features per block). */
  static ReducePlan columns(int outer, int red, int inner, int sms) { return make(outer, red, inner, sms, true); }

  private static ReducePlan make(int outer, int red, int inner, int sms, boolean cols) {
    if (outer < 1 || red < 1 || inner < 1)
      throw new IllegalArgumentException("ReducePlan: O, R, I must be >= 1, got " + outer + ", " + red + ", " + inner);
    long base = cols ? (long) outer * ((inner + TILE - 1) / TILE) : (long) outer * inner;
    long target = 4L * sms;
    long want = Math.max(1, (target + base - 1) / base);
    int most = Math.max(1, red / (cols ? MIN_COLS_CHUNK : MIN_ROWS_CHUNK));
    int s = (int) Math.min(want, most);
    int chunk = (red + s - 1) / s;
    s = (red + chunk - 1) / chunk;                 // no empty chunk
    long jobs = base * s;
    int grid = (int) Math.min(jobs, 32L * sms);
    return new ReducePlan(cols, s, chunk, jobs, grid);
  }

  /**
   * The kernels' arithmetic on the CPU: pass 1 (jobs in grid-stride order, lanes / threads as the kernels split
   * them) and pass 2, on {@code x} from {@code off}; returns out (O, I). Sums in double like the kernels.
   */
  double[] simulate(double[] x, int off, int outer, int red, int inner, boolean square) {
    int s = splits;
    double[] part = new double[outer * s * inner];
    double[] out = new double[outer * inner];
    boolean direct = s == 1;
    if (columns) {
      int tiles = (inner + TILE - 1) / TILE;
      for (int b = 0; b < grid; b++) {
        for (long j = b; j < jobs; j += grid) {
          int sj = (int) (j % s), t = (int) ((j / s) % tiles), o = (int) (j / ((long) s * tiles));
          int r0 = sj * chunk, r1 = Math.min(red, r0 + chunk);
          for (int lane = 0; lane < TILE; lane++) {
            int i = t * TILE + lane;
            if (i >= inner) continue;
            double[] acc = new double[LANES];
            for (int ty = 0; ty < LANES; ty++)
              for (int r = r0 + ty; r < r1; r += LANES) {
                double v = x[off + (o * red + r) * inner + i];
                acc[ty] += square ? v * v : v;
              }
            double v = 0;
            for (int k = 0; k < LANES; k++) v += acc[k];
            if (direct) out[o * inner + i] = v; else part[(o * s + sj) * inner + i] = v;
          }
        }
      }
    } else {
      for (int b = 0; b < grid; b++) {
        for (long j = b; j < jobs; j += grid) {
          int sj = (int) (j % s);
          long q = j / s;
          int o = (int) (q / inner), i = (int) (q % inner);
          int r0 = sj * chunk, r1 = Math.min(red, r0 + chunk);
          double[] th = new double[THREADS];
          for (int t = 0; t < THREADS; t++)
            for (int r = r0 + t; r < r1; r += THREADS) {
              double v = x[off + (o * red + r) * inner + i];
              th[t] += square ? v * v : v;
            }
          double v = 0;
          for (double a : th) v += a;
          if (direct) out[(int) q] = v; else part[(o * s + sj) * inner + i] = v;
        }
      }
    }
    if (!direct)
      for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++) {
          double v = 0;
          for (int sj = 0; sj < s; sj++) v += part[(o * s + sj) * inner + i];
          out[o * inner + i] = v;
        }
    return out;
  }
}
