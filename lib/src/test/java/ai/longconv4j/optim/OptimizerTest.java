// Shapes: parameters are small vectors (n) here.
package ai.longconv4j.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Optimizer steps against scalar re-computations of the published update rules. */
class OptimizerTest {
    /** F64 updates computed in a different association order: agreement to a few ulps of O(1) values. */
    private static final double EXACT = 1e-13;

    private static Parameter vec(String name, double... v) {
        return Parameter.of(name, Tensor.of(v, v.length));
    }

    /** L = Σ c_i p_i² / 2, so dL/dp = c ⊙ p. */
    private static void quadraticBackward(Parameter p, double[] c) {
        p.value().mul(p.value()).mul(Tensor.of(c, c.length)).sum().mul(0.5).backward();
    }

    @Test
    void adamWMatchesThePublishedRuleOverThreeStepsAndTwoGroups() {
        double[] a0 = {0.5, -1.0, 2.0};
        double[] b0 = {-0.3, 0.8};
        double[] ca = {1.0, 2.0, 0.5};
        double[] cb = {3.0, -1.0};
        Parameter a = vec("a", a0);
        Parameter b = vec("b", b0);
        var ga = new ParamGroup("ga", List.of(a), 0.1, 0.2);
        var gb = new ParamGroup("gb", List.of(b), 0.03, 0.0).withBetas(0.8, 0.99).withEps(1e-6);
        var opt = new AdamW(ga, gb);
        double[] ea = a0.clone();
        double[] eb = b0.clone();
        double[][] ma = {new double[3], new double[3]};
        double[][] mb = {new double[2], new double[2]};
        for (int t = 1; t <= 3; t++) {
            opt.zeroGrad();
            quadraticBackward(a, ca);
            quadraticBackward(b, cb);
            opt.step();
            reference(ea, ca, ma, 0.1, 0.2, 0.9, 0.999, 1e-8, t);
            reference(eb, cb, mb, 0.03, 0.0, 0.8, 0.99, 1e-6, t);
            assertArrayEquals(ea, a.value().toDoubleArray(), EXACT, "group ga, step " + t);
            assertArrayEquals(eb, b.value().toDoubleArray(), EXACT, "group gb, step " + t);
        }
        assertEquals(3, opt.stepCount());
        // a step moves each entry by about lr: Adam's normalized step, sanity of the reference itself
        assertTrue(Math.abs(ea[0] - a0[0]) > 0.1 && Math.abs(ea[0] - a0[0]) < 0.4);
    }

    /** One AdamW step on plain doubles: decay, moments, bias-corrected update. */
    private static void reference(double[] p, double[] c, double[][] mv, double lr, double wd, double b1, double b2,
            double eps, int t) {
        for (int i = 0; i < p.length; i++) {
            double g = c[i] * p[i];
            p[i] -= lr * wd * p[i];
            mv[0][i] = b1 * mv[0][i] + (1 - b1) * g;
            mv[1][i] = b2 * mv[1][i] + (1 - b2) * g * g;
            double mHat = mv[0][i] / (1 - Math.pow(b1, t));
            double vHat = mv[1][i] / (1 - Math.pow(b2, t));
            p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
        }
    }

    @Test
    void sgdWithMomentumAndWeightDecay() {
        double[] p0 = {1.0, -2.0};
        double[] c = {0.5, 1.5};
        Parameter p = vec("p", p0);
        var opt = new SGD(List.of(new ParamGroup("all", List.of(p), 0.1, 0.01)), 0.9);
        double[] e = p0.clone();
        double[] buf = new double[2];
        for (int t = 1; t <= 2; t++) {
            opt.zeroGrad();
            quadraticBackward(p, c);
            opt.step();
            for (int i = 0; i < 2; i++) {
                double g = c[i] * e[i] + 0.01 * e[i];
                buf[i] = 0.9 * buf[i] + g;
                e[i] -= 0.1 * buf[i];
            }
            assertArrayEquals(e, p.value().toDoubleArray(), EXACT, "step " + t);
        }
        Parameter q = vec("q", 1.0);
        var plain = new SGD(new ParamGroup("q", List.of(q), 0.5, 0));
        quadraticBackward(q, new double[] {2.0});
        plain.step();
        assertEquals(1.0 - 0.5 * 2.0, q.value().item(), EXACT);
    }

    @Test
    void parametersWithoutGradientAreSkipped() {
        Parameter p = vec("p", 1.0, 2.0);
        Parameter idle = vec("idle", 3.0);
        var opt = new AdamW(new ParamGroup("g", List.of(p, idle), 0.1, 0.5));
        quadraticBackward(p, new double[] {1, 1});
        opt.step();
        assertEquals(3.0, idle.value().item(), 0.0);
        assertTrue(opt.stateDict().containsKey("expAvg.g.0"));
        assertTrue(!opt.stateDict().containsKey("expAvg.g.1"));
    }

    @Test
    void scheduleMultipliesTheGroupLr() {
        Parameter p = vec("p", 1.0);
        var opt = new SGD(new ParamGroup("g", List.of(p), 0.2, 0)).schedule(Schedule.warmupCosine(4, 10, 0.0));
        assertEquals(0.2 * 0.25, opt.currentLr(opt.groups().get(0)), EXACT);
        quadraticBackward(p, new double[] {1.0});
        opt.step();
        assertEquals(1.0 - 0.05 * 1.0, p.value().item(), EXACT);
        assertEquals(0.2 * 0.5, opt.currentLr(opt.groups().get(0)), EXACT);
    }

    @Test
    void clipGradNormScalesToMaxNormAndReturnsTheNorm() {
        Parameter a = vec("a", 1.0, 2.0);
        Parameter b = vec("b", -2.0);
        Parameter none = vec("none", 5.0);
        quadraticBackward(a, new double[] {3.0, 1.0}); // g = (3, 2)
        quadraticBackward(b, new double[] {3.0});      // g = (-6)
        double norm = GradClip.clipGradNorm(List.of(a, b, none), 1.0);
        assertEquals(7.0, norm, EXACT); // sqrt(9 + 4 + 36)
        double s = 1.0 / (7.0 + GradClip.NORM_EPS);
        assertArrayEquals(new double[] {3 * s, 2 * s}, a.grad().toDoubleArray(), EXACT);
        assertArrayEquals(new double[] {-6 * s}, b.grad().toDoubleArray(), EXACT);
        assertNull(none.grad());
        // below the threshold nothing changes
        assertEquals(7.0 * s, GradClip.clipGradNorm(List.of(a, b), 10.0), 1e-12);
        assertArrayEquals(new double[] {-6 * s}, b.grad().toDoubleArray(), 0.0);
        a.zeroGrad();
        assertTrue(a.grad() == null || a.grad().abs().sum().item() == 0, "zeroGrad clears a clipped gradient");
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(List.of(a), 0));
    }

    @Test
    void optimizerStateDictRoundTripResumesExactly() {
        double[] c = {1.0, 0.25, 4.0};
        Parameter p = vec("p", 1.0, -1.0, 0.5);
        var opt = new AdamW(new ParamGroup("g", List.of(p), 0.05, 0.1)).schedule(Schedule.warmupCosine(2, 8, 0.1));
        for (int i = 0; i < 3; i++) {
            opt.zeroGrad();
            quadraticBackward(p, c);
            opt.step();
        }
        var saved = opt.stateDict();
        double[] savedP = p.value().toDoubleArray();
        assertEquals(3.0, saved.get("step").item(), 0.0);
        for (int i = 0; i < 2; i++) {
            opt.zeroGrad();
            quadraticBackward(p, c);
            opt.step();
        }
        double[] expected = p.value().toDoubleArray();

        Parameter q = vec("p", savedP);
        var resumed = new AdamW(new ParamGroup("g", List.of(q), 0.05, 0.1)).schedule(Schedule.warmupCosine(2, 8, 0.1));
        resumed.loadStateDict(saved);
        assertEquals(3, resumed.stepCount());
        for (int i = 0; i < 2; i++) {
            resumed.zeroGrad();
            quadraticBackward(q, c);
            resumed.step();
        }
        assertArrayEquals(expected, q.value().toDoubleArray(), 0.0);

        var bad = new HashMap<>(saved);
        bad.put("expAvg.g.7", Tensor.zeros(DType.F64, 3));
        bad.put("expAvgSq.g.0", Tensor.zeros(DType.F64, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> resumed.loadStateDict(bad));
        assertTrue(e.getMessage().contains("unexpected key 'expAvg.g.7'"), e.getMessage());
        assertTrue(e.getMessage().contains("expected shape [3], got [2]"), e.getMessage());
        assertEquals(5, resumed.stepCount(), "a failed load changes nothing");
        var noStep = new HashMap<>(saved);
        noStep.remove("step");
        assertThrows(IllegalArgumentException.class, () -> resumed.loadStateDict(noStep));
    }

    @Test
    void adamWKeepsF32ParametersInF32() {
        double[] p0 = {0.5, -1.0, 2.0};
        double[] c = {1.0, 2.0, 0.5};
        Parameter p = Parameter.of("p", Tensor.of(new float[] {0.5f, -1.0f, 2.0f}, 3));
        var opt = new AdamW(new ParamGroup("g", List.of(p), 0.1, 0.2));
        double[] e = p0.clone();
        double[][] mv = {new double[3], new double[3]};
        for (int t = 1; t <= 3; t++) {
            opt.zeroGrad();
            p.value().mul(p.value()).mul(Tensor.of(new float[] {1f, 2f, 0.5f}, 3)).sum().mul(0.5).backward();
            opt.step();
            reference(e, c, mv, 0.1, 0.2, 0.9, 0.999, 1e-8, t);
        }
        assertEquals(DType.F32, p.value().dtype());
        assertEquals(DType.F32, opt.stateDict().get("expAvg.g.0").dtype());
        // float32 arithmetic on O(1) values over 3 steps: a few ulps (6e-8) each, 1e-5 is generous
        assertArrayEquals(e, p.value().toDoubleArray(), 1e-5);
    }

    @Test
    void rejectsDuplicateParameters() {
        Parameter p = vec("p", 1.0);
        var e = assertThrows(IllegalArgumentException.class,
                () -> new AdamW(new ParamGroup("a", List.of(p), 0.1, 0), new ParamGroup("b", List.of(p), 0.1, 0)));
        assertTrue(e.getMessage().contains("more than one group"), e.getMessage());
    }
}
