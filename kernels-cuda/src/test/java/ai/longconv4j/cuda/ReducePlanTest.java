// Shapes: sums over the middle axis of x (O, R, I); awkward R and I (not multiples of the tile or the block).
package ai.longconv4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The split reduction's index plan (the Java twin of reduce.cu's red_cols / red_rows / red_final) against direct
 * sums, on the CPU. Tolerance 1e-12 relative: both sides add the same doubles, only in another order.
 */
class ReducePlanTest {
  static final int[][] SHAPES = {
      {1, 8192, 512}, {8, 1024, 512}, {1, 100_003, 1}, {3, 5000, 7}, {1, 33, 1}, {2, 33, 31}, {1, 40, 33},
      {5, 999, 1536}, {8192, 512, 1}, {7, 2049, 3}, {1, 70_000, 65}, {2, 131, 1}};

  static double[] random(int n, long seed) {
    var r = new SplittableRandom(seed);
    double[] x = new double[n];
    for (int i = 0; i < n; i++) x[i] = r.nextDouble(-1, 1);
    return x;
  }

  static double[] direct(double[] x, int off, int o, int red, int in, boolean sq) {
    double[] out = new double[o * in];
    for (int a = 0; a < o; a++)
      for (int r = 0; r < red; r++)
        for (int i = 0; i < in; i++) {
          double v = x[off + (a * red + r) * in + i];
          out[a * in + i] += sq ? v * v : v;
        }
    return out;
  }

  static double relErr(double[] a, double[] b) {
    double num = 0, den = 0;
    for (int i = 0; i < a.length; i++) {
      num += (a[i] - b[i]) * (a[i] - b[i]);
      den += b[i] * b[i];
    }
    return Math.sqrt(num / Math.max(den, 1e-300));
  }

  @Test
  void planCoversEveryRowOnceAndMatchesDirectSums() {
    for (int sms : new int[] {1, 7, 132}) {
      for (int[] s : SHAPES) {
        int o = s[0], red = s[1], in = s[2], off = 5;
        ReducePlan p = ReducePlan.of(o, red, in, sms);
        assertEquals(in >= 32, p.columns(), "columns for I = " + in);
        assertTrue((long) p.splits() * p.chunk() >= red && (long) (p.splits() - 1) * p.chunk() < red,
            "chunks cover R exactly: " + p + " R " + red);
        assertTrue(p.grid() >= 1 && p.grid() <= p.jobs(), "grid within jobs: " + p);
        double[] x = random(off + o * red * in, 31L * red + in);
        for (boolean sq : new boolean[] {false, true}) {
          double e = relErr(p.simulate(x, off, o, red, in, sq), direct(x, off, o, red, in, sq));
          assertTrue(e < 1e-12, "shape " + o + "x" + red + "x" + in + " sms " + sms + " sq " + sq + ": rel err " + e + " " + p);
        }
      }
    }
  }

  @Test
  void fewOutputsAreSplitAcrossTheGpu() {
    ReducePlan bias = ReducePlan.of(1, 8192, 512, 132);       // a bias gradient: 16 column tiles
    assertTrue(bias.splits() > 1 && bias.jobs() >= 4 * 132 - 16, "bias gradient split: " + bias);
    ReducePlan all = ReducePlan.of(1, 4_194_304, 1, 132);     // a whole-tensor sum
    assertEquals(528, all.splits(), "whole sum split in 4 blocks per SM: " + all);
    ReducePlan rows = ReducePlan.of(8192, 512, 1, 132);       // LayerNorm row sums: already enough outputs
    assertEquals(1, rows.splits(), "rows: no split: " + rows);
  }

  @Test
  void negativeControlAShortChunkMissesRows() {
    int o = 1, red = 8192, in = 512;
    ReducePlan p = ReducePlan.of(o, red, in, 132);
    ReducePlan bad = new ReducePlan(p.columns(), p.splits(), p.chunk() - 1, p.jobs(), p.grid());
    double[] x = random(o * red * in, 3);
    assertTrue(relErr(bad.simulate(x, 0, o, red, in, false), direct(x, 0, o, red, in, false)) > 1e-6,
        "a plan that skips one row per chunk must be caught");
  }

  @Test
  void badShapesAreRejected() {
    var e = assertThrows(IllegalArgumentException.class, () -> ReducePlan.of(0, 10, 1, 132));
    assertTrue(e.getMessage().contains("ReducePlan"), e.getMessage());
  }
}
