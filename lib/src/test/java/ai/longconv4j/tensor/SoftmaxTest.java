// Shape legend: logits (N, V), N rows and V classes.
package ai.longconv4j.tensor;

import org.junit.jupiter.api.Test;

import static ai.longconv4j.testing.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.*;

/** softmax / logSoftmax / crossEntropy against the direct formulas, and their stability. */
class SoftmaxTest {
    // the direct formula and the shifted one agree to a few ulps for logits of size ~3
    private static final double TOL = 1e-13;

    private static double[][] rows(Tensor t) {
        int n = t.size(0), v = t.size(1);
        double[] d = t.toDoubleArray();
        double[][] r = new double[n][v];
        for (int i = 0; i < n; i++) System.arraycopy(d, i * v, r[i], 0, v);
        return r;
    }

    @Test
    void softmaxMatchesDirectFormula() {
        Tensor x = Tensor.randn(Rng.seeded(50), DType.F64, 5, 7).mul(3);
        double[][] r = rows(x);
        double[] expSm = new double[35], expLsm = new double[35];
        for (int i = 0; i < 5; i++) {
            double z = 0;
            for (double v : r[i]) z += Math.exp(v);
            for (int j = 0; j < 7; j++) {
                expSm[i * 7 + j] = Math.exp(r[i][j]) / z;
                expLsm[i * 7 + j] = r[i][j] - Math.log(z);
            }
        }
        assertClose(x.softmax(1), expSm, TOL, TOL);
        assertClose(x.logSoftmax(-1), expLsm, TOL, TOL);
        // along axis 0 equals along axis 1 of the transpose
        assertClose(x.transpose(0, 1).softmax(0), x.softmax(1).transpose(0, 1).toDoubleArray(), TOL, TOL);
    }

    @Test
    void crossEntropyMatchesDirectFormulaWithIgnoreIndex() {
        Tensor x = Tensor.randn(Rng.seeded(51), DType.F64, 6, 4);
        int[] t = {3, -1, 0, 2, -1, 1};
        double[][] r = rows(x);
        double sum = 0;
        int cnt = 0;
        for (int i = 0; i < 6; i++) {
            if (t[i] == -1) continue;
            double z = 0;
            for (double v : r[i]) z += Math.exp(v);
            sum += -(r[i][t[i]] - Math.log(z));
            cnt++;
        }
        assertEquals(sum / cnt, x.crossEntropy(t, -1).item(), TOL);
        // all ignored: 0 and zero gradient, not NaN
        Tensor y = x.detach().requiresGrad(true);
        Tensor loss = y.crossEntropy(new int[]{-1, -1, -1, -1, -1, -1}, -1);
        assertEquals(0.0, loss.item(), 0.0);
        loss.backward();
        for (double g : y.grad().toDoubleArray()) assertEquals(0.0, g, 0.0);
    }

    @Test
    void stableForHugeLogits() {
        Tensor x = Tensor.of(new double[]{1000, -1000, 0, 800, 1000, 999}, 2, 3).to(DType.F32);
        for (double v : x.softmax(1).toDoubleArray()) assertTrue(Double.isFinite(v));
        for (double v : x.logSoftmax(1).toDoubleArray()) assertTrue(Double.isFinite(v));
        double ce = x.crossEntropy(new int[]{1, 2}, -100).item();
        assertTrue(Double.isFinite(ce));
        // row 0: -log softmax = 2000 + log(1 + e^-1000 + e^-2000) = 2000; row 1: 1 + log(1 + e^-1 + e^-200)
        // F32 holds 1000 to ~6e-5, so 1e-3 is a safe tolerance
        assertEquals((2000 + 1 + Math.log1p(Math.exp(-1))) / 2, ce, 1e-3);
        assertClose(x.softmax(1).sum(1, false), new double[]{1, 1}, 1e-6, 0);
    }

    @Test
    void stableElementwiseForms() {
        Tensor x = Tensor.of(new double[]{-1000, -40, 0, 40, 1000}, 5);
        for (Tensor t : new Tensor[]{x, x.to(DType.F32)})
            for (Tensor y : new Tensor[]{t.sigmoid(), t.gelu(), t.geluTanh(), t.tanh(), t.relu()})
                for (double v : y.toDoubleArray()) assertTrue(Double.isFinite(v), y.toString());
        assertClose(x.sigmoid(), new double[]{0, 1 / (1 + Math.exp(40)), 0.5, 1 / (1 + Math.exp(-40)), 1}, 1e-300, 1e-15);
    }

    @Test
    void erfFastPathMatchesItsSeriesTwin() {
        // measured against libm's erf: table ~8e-16, series ~1.2e-15 (it sums ~60 terms of size up to
        // e^(x^2) ~ 8e3 before scaling by e^(-x^2)); 3e-15 absolute covers both, a wrong term is >> 1e-10
        double worst = 0;
        for (int i = -30000; i <= 30000; i++) {
            double x = i * 9.99e-5 + 1.3e-7;
            worst = Math.max(worst, Math.abs(UnaryFn.erfTable(x) - UnaryFn.erfSeries(x)));
        }
        assertTrue(worst < 3e-15, "max |erfTable - erfSeries| = " + worst);
    }

    @Test
    void erfAgainstTabulatedValues() {
        // reference values of erf/erfc (Abramowitz & Stegun table 7.1 / standard tables)
        assertEquals(0.5204998778130465, UnaryFn.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, UnaryFn.erf(1), 1e-15);
        assertEquals(0.9953222650189527, UnaryFn.erf(2), 1e-15);
        assertEquals(-0.9999779095030014, UnaryFn.erf(-3), 1e-15);
        assertEquals(1.541725790028002e-8, UnaryFn.erfc(4), 1e-22);
        assertEquals(2.088487583762545e-45, UnaryFn.erfc(10), 1e-58);
        assertEquals(0.0, UnaryFn.erf(0));
        // gelu(x) = x * Phi(x); Phi(1) = 0.8413447460685429
        assertEquals(0.8413447460685429, UnaryFn.gelu(1), 1e-15);
    }
}
