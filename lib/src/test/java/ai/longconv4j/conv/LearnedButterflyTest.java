// Shape legend: B batch, C kernel channels, H features, L length, N complex FFT size = N1*N2.
package ai.longconv4j.conv;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class LearnedButterflyTest {

    @Test
    void atInitEqualsTheFftConvolution() {
        for (ConvMode mode : ConvMode.values()) {
            int l = mode == ConvMode.CIRCULAR ? 64 : 100;
            ConvShape s = new ConvShape(2, 2, 3, l, 37, mode);
            SplittableRandom rng = new SplittableRandom(60 + mode.ordinal());
            double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.2), d = Check.randn(rng, s.dSize(), 1);
            ConvPlan plan = ConvPlan.of(l, 37, mode, ConvEngine.LEARNED, Precision.F64);
            double[] y = plan.newConvolver().forward(s, u, k, d);
            double[] ref = ConvPlan.of(l, 37, mode, ConvEngine.FFT, Precision.F64).newConvolver().forward(s, u, k, d);
            // Both exact to ~1e-15 relative; dense 16x16 blocks add a few ulps per product.
            Check.assertClose(y, ref, 1e-11, 0, plan.toString());
            // Negative control: a perturbed block changes the output.
            LearnedButterfly lb = LearnedButterfly.atInit(plan);
            lb.blocks()[LearnedButterfly.FB][3] += 0.1;
            assertTrue(Check.relErr(lb.forward(s, u, k, d), ref) > 1e-4, "perturbed block must change y");
        }
    }

    @Test
    void gradientsIncludingBlocksMatchCentralDifferences() {
        for (ConvMode mode : ConvMode.values()) {
            int l = mode == ConvMode.CIRCULAR ? 16 : 7;
            ConvShape s = new ConvShape(2, 2, 2, l, 5, mode);
            ConvPlan plan = ConvPlan.of(l, 5, mode, ConvEngine.LEARNED, Precision.F64);
            assertEquals(16, plan.fftSize(), plan.toString());
            SplittableRandom rng = new SplittableRandom(70 + mode.ordinal());
            double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.5);
            double[] d = Check.randn(rng, s.dSize(), 1), w = Check.randn(rng, s.ySize(), 1);
            LearnedButterfly lb = LearnedButterfly.atInit(plan);
            // Move the blocks off the DFT so the check is not only at the special init point.
            for (double[] blk : lb.blocks()) for (int i = 0; i < blk.length; i++) blk[i] += 0.05 * Check.randn(rng, 1, 1)[0];
            LearnedButterfly.Grads g = lb.backwardAll(s, u, k, d, w);
            double tol = ConvGradCheckTest.TOL;   // the loss is linear in each argument (see ConvGradCheckTest)
            String what = "learned " + mode;
            Check.assertClose(g.conv().du(), ConvGradCheckTest.numericGrad(x -> Check.dot(lb.forward(s, x, k, d), w), u, 1e-5), tol, 0, what + " du");
            Check.assertClose(g.conv().dk(), ConvGradCheckTest.numericGrad(x -> Check.dot(lb.forward(s, u, x, d), w), k, 1e-5), tol, 0, what + " dk");
            Check.assertClose(g.conv().dD(), ConvGradCheckTest.numericGrad(x -> Check.dot(lb.forward(s, u, k, x), w), d, 1e-5), tol, 0, what + " dD");
            for (int bi = 0; bi < 4; bi++) {
                double[] blk = lb.blocks()[bi];
                double[] num = ConvGradCheckTest.numericGrad(x -> Check.dot(lb.forward(s, u, k, d), w), blk, 1e-5);
                Check.assertClose(g.dBlocks()[bi], num, tol, 0, what + " block " + bi);
                assertTrue(Check.maxAbs(num) > 1e-3, "block " + bi + " gradient must be non-trivial");
            }
            // Negative control: the transpose without conjugation is a different (wrong) block gradient.
            double[] wrong = g.dBlocks()[LearnedButterfly.GA].clone();
            for (int i = 1; i < wrong.length; i += 2) wrong[i] = -wrong[i];
            double[] numGa = ConvGradCheckTest.numericGrad(x -> Check.dot(lb.forward(s, u, k, d), w), lb.blocks()[LearnedButterfly.GA], 1e-5);
            assertThrows(AssertionError.class, () -> Check.assertClose(wrong, numGa, tol, 0, "conj-flipped dGa"));
        }
    }

    @Test
    void badBlocksAreRejected() {
        ConvPlan plan = ConvPlan.of(7, 5, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64);
        var e = assertThrows(IllegalArgumentException.class,
                () -> new LearnedButterfly(plan, new double[][] {new double[32], new double[32], new double[32], new double[31]}));
        assertTrue(e.getMessage().contains("(4, 4, 2)"), e.getMessage());
        double[][] nan = {new double[32], new double[32], new double[32], new double[32]};
        nan[2][7] = Double.NaN;
        assertThrows(IllegalArgumentException.class, () -> new LearnedButterfly(plan, nan));
        assertThrows(IllegalArgumentException.class, () -> LearnedButterfly.atInit(ConvPlan.of(7, 5, ConvMode.CAUSAL)));
    }
}
