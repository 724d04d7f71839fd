// Shapes: x (B, H, L) for batch norm, (..., D) elsewhere; B batch, H channels, L length, D width.
package ai.longconv4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Forward values against plain loops, train/eval behaviour and input validation. */
class LayerBehaviourTest {
    /** F64 results of the same formula in another order: a few ulps of O(1) values. */
    private static final double EXACT = 1e-12;

    @Test
    void linearMatchesLoopsAndIsSeeded() {
        var lin = Linear.builder().in(3).out(2).dtype(DType.F64).seed(5).build();
        var x = Tensor.randn(Rng.seeded(6), DType.F64, 2, 2, 3);
        double[] w = lin.weight().value().toDoubleArray();
        double[] b = lin.bias().value().toDoubleArray();
        double[] xv = x.toDoubleArray();
        double[] expected = new double[4 * 2];
        for (int r = 0; r < 4; r++) {
            for (int o = 0; o < 2; o++) {
                double s = b[o];
                for (int i = 0; i < 3; i++) {
                    s += xv[r * 3 + i] * w[o * 3 + i];
                }
                expected[r * 2 + o] = s;
            }
        }
        Tensor y = lin.forward(x);
        assertArrayEquals(new int[] {2, 2, 2}, y.shape());
        assertArrayEquals(expected, y.toDoubleArray(), EXACT);
        double bound = 1 / Math.sqrt(3);
        assertTrue(Arrays.stream(w).allMatch(v -> Math.abs(v) <= bound), "init outside [-1/sqrt(in), 1/sqrt(in)]");
        var same = Linear.builder().in(3).out(2).dtype(DType.F64).seed(5).build();
        assertArrayEquals(w, same.weight().value().toDoubleArray(), 0.0);
        var e = assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.zeros(DType.F64, 2, 4)));
        assertTrue(e.getMessage().contains("Linear") && e.getMessage().contains("[2, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Linear.builder().in(3).build());
    }

    @Test
    void layerNormNormalizesTheLastAxis() {
        var ln = new LayerNorm(6, DType.F64);
        double[] y = ln.forward(Tensor.randn(Rng.seeded(7), DType.F64, 4, 6).mul(3).add(2)).toDoubleArray();
        for (int r = 0; r < 4; r++) {
            double m = 0;
            double v = 0;
            for (int i = 0; i < 6; i++) {
                m += y[r * 6 + i] / 6;
            }
            for (int i = 0; i < 6; i++) {
                v += (y[r * 6 + i] - m) * (y[r * 6 + i] - m) / 6;
            }
            assertEquals(0, m, 1e-12);
            // the eps = 1e-5 in the denominator shrinks a variance of ~9 by ~1e-6 relative
            assertEquals(1, v, 1e-5);
        }
    }

    @Test
    void batchNormUpdatesRunningStatsInTrainingAndUsesThemInEval() {
        int b = 3;
        int h = 2;
        int l = 4;
        var bn = new BatchNorm1d(h, 1e-5, 0.25, DType.F64);
        Tensor x = Tensor.randn(Rng.seeded(8), DType.F64, b, h, l).mul(2).add(1);
        double[] xv = x.toDoubleArray();
        double[] mean = new double[h];
        double[] var = new double[h];
        for (int c = 0; c < h; c++) {
            for (int i = 0; i < b; i++) {
                for (int t = 0; t < l; t++) {
                    mean[c] += xv[(i * h + c) * l + t] / (b * l);
                }
            }
            for (int i = 0; i < b; i++) {
                for (int t = 0; t < l; t++) {
                    double d = xv[(i * h + c) * l + t] - mean[c];
                    var[c] += d * d / (b * l);
                }
            }
        }
        double[] y = bn.forward(x).toDoubleArray();
        for (int c = 0; c < h; c++) {
            assertEquals(0.75 * 0 + 0.25 * mean[c], bn.runningMean().get(c), EXACT);
            assertEquals(0.75 * 1 + 0.25 * var[c] * (b * l) / (b * l - 1.0), bn.runningVar().get(c), EXACT);
            double expect = (xv[c * l] - mean[c]) / Math.sqrt(var[c] + 1e-5);
            assertEquals(expect, y[c * l], EXACT);
        }
        double[] rm = bn.runningMean().toDoubleArray();
        double[] rv = bn.runningVar().toDoubleArray();
        bn.eval();
        double[] ye = bn.forward(x).toDoubleArray();
        assertArrayEquals(rm, bn.runningMean().toDoubleArray(), 0.0, "eval must not update running stats");
        for (int c = 0; c < h; c++) {
            assertEquals((xv[c * l + 1] - rm[c]) / Math.sqrt(rv[c] + 1e-5), ye[c * l + 1], EXACT);
        }
        assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(DType.F64, 2, 3, 4)));
        bn.train();
        assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(DType.F64, 1, 2, 1)));
    }

    @Test
    void dropoutIsSeededScaledAndOffInEval() {
        double p = 0.3;
        int n = 20000;
        Tensor x = Tensor.ones(DType.F64, n);
        var d1 = new Dropout(p, 42);
        double[] y1 = d1.forward(x).toDoubleArray();
        double[] y2 = new Dropout(p, 42).forward(x).toDoubleArray();
        assertArrayEquals(y1, y2, 0.0, "same seed, same mask");
        long zeros = Arrays.stream(y1).filter(v -> v == 0).count();
        // binomial(n, p): sd = sqrt(n p (1-p)) ~ 65; 5 sd
        assertEquals(p * n, zeros, 5 * Math.sqrt(n * p * (1 - p)));
        assertTrue(Arrays.stream(y1).allMatch(v -> v == 0 || Math.abs(v - 1 / (1 - p)) < 1e-12));
        assertFalse(Arrays.equals(y1, d1.forward(x).toDoubleArray()), "the generator advances");
        d1.eval();
        assertSame(x, d1.forward(x));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0, 1));
    }

    @Test
    void gluSplitsInHalves() {
        Tensor x = Tensor.randn(Rng.seeded(9), DType.F64, 2, 3, 4);
        double[] xv = x.toDoubleArray();
        double[] y = new GLU(1).forward(x.slice(1, 0, 2)).toDoubleArray(); // (2, 2, 4) -> (2, 1, 4)
        for (int i = 0; i < 2; i++) {
            for (int t = 0; t < 4; t++) {
                double a = xv[(i * 3) * 4 + t];
                double g = xv[(i * 3 + 1) * 4 + t];
                assertEquals(a / (1 + Math.exp(-g)), y[i * 4 + t], EXACT);
            }
        }
        double[] yl = new GLU().forward(x).toDoubleArray();
        assertEquals(xv[0] / (1 + Math.exp(-xv[2])), yl[0], EXACT);
        var e = assertThrows(IllegalArgumentException.class, () -> new GLU(1).forward(x));
        assertTrue(e.getMessage().contains("GLU") && e.getMessage().contains("[2, 3, 4]"), e.getMessage());
    }

    @Test
    void geluVariants() {
        Tensor x = Tensor.of(new double[] {-1.5, 0, 0.7}, 3);
        double[] exact = new GELU().forward(x).toDoubleArray();
        double[] tanh = new GELU(GELU.Approximation.TANH).forward(x).toDoubleArray();
        assertEquals(0, exact[1], 0.0);
        for (int i = 0; i < 3; i++) {
            // the tanh form deviates from x·Φ(x) by less than ~1e-3 on this range
            assertEquals(exact[i], tanh[i], 1e-3);
        }
        assertTrue(exact[2] > 0.5 && exact[2] < 0.7);
    }

    @Test
    void embeddingLooksUpRowsAndValidatesIds() {
        var emb = new Embedding(4, 3, DType.F64, Rng.seeded(10));
        double[] w = emb.weight().value().toDoubleArray();
        Tensor y = emb.forward(Tensor.of(new double[] {3, 1}, 2, 1));
        assertArrayEquals(new int[] {2, 1, 3}, y.shape());
        assertArrayEquals(new double[] {w[9], w[10], w[11], w[3], w[4], w[5]}, y.toDoubleArray(), 0.0);
        assertThrows(IllegalArgumentException.class, () -> emb.forward(new int[] {4}, 1));
        assertThrows(IllegalArgumentException.class, () -> emb.forward(new int[] {1, 2}, 3));
    }

    @Test
    void sequentialAndResidualCompose() {
        var lin = new Linear(3, 3, true, DType.F64, Rng.seeded(11));
        Tensor x = Tensor.randn(Rng.seeded(12), DType.F64, 2, 3);
        double[] expected = x.add(lin.forward(x)).toDoubleArray();
        assertArrayEquals(expected, new Residual(lin).forward(x).toDoubleArray(), EXACT);
        var seq = Sequential.of(lin, new GELU());
        assertArrayEquals(lin.forward(x).gelu().toDoubleArray(), seq.forward(x).toDoubleArray(), EXACT);
        assertEquals(2, seq.size());
        assertSame(lin, seq.get(0));
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Residual(new Linear(3, 2, Rng.seeded(1))).forward(Tensor.zeros(DType.F32, 1, 3)));
        assertTrue(e.getMessage().contains("Residual"), e.getMessage());
    }
}
