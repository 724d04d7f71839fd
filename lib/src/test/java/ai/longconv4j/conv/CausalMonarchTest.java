// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, Lp = L1*L2 the factored length.
package ai.longconv4j.conv;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.testing.GradCheck;
import org.junit.jupiter.api.Test;

import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The causal learned-Monarch convolution: factorization, the map against its dense slow twin, identity init = the plain
 * convolution, exact causality for random blocks (and the general LEARNED blocks as the negative control), gradients,
 * awkward lengths and bad input.
 */
class CausalMonarchTest {
    static Tensor randn(long seed, double scale, int... shape) { return Tensor.randn(Rng.seeded(seed), DType.F64, shape).mul(scale); }

    /** Random blocks, identity plus noise, upper triangles non-zero too (the mask must hide them). */
    /**
     * Asserts g (rows x cols, row-major) is exactly 0 wherever {@code forbidden(r, c)} and returns the largest |g|
     * elsewhere (so that the caller can also check the allowed part is not all zero).
     */
    static double maxWhereAllowed(double[] g, int rows, int cols, java.util.function.BiPredicate<Integer, Integer> forbidden, String what) {
        double max = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double v = g[r * cols + c];
                if (forbidden.test(r, c)) assertTrue(v == 0, what + " (" + r + "," + c + "): " + v);
                else max = Math.max(max, Math.abs(v));
            }
        }
        return max;
    }

    static Tensor[] randomBlocks(long seed, int l1, int l2) {
        int[] n = {l1, l2, l1, l2};
        Tensor[] b = new Tensor[4];
        for (int i = 0; i < 4; i++) b[i] = CausalMonarch.identity(n[i], DType.F64).add(randn(seed + i, 0.4, n[i], n[i]));
        return b;
    }

    @Test
    void factorizationIsBalancedAndExactWhenPossible() {
        assertEquals(new CausalMonarch.Factors(1024, 32, 32), CausalMonarch.factor(1024));
        assertEquals(new CausalMonarch.Factors(128, 8, 16), CausalMonarch.factor(128));
        assertEquals(new CausalMonarch.Factors(100, 10, 10), CausalMonarch.factor(100));
        assertEquals(new CausalMonarch.Factors(37, 6, 7), CausalMonarch.factor(37));       // prime: padded to 42
        assertEquals(new CausalMonarch.Factors(1, 1, 1), CausalMonarch.factor(1));
        for (int l = 1; l <= 3000; l++) {
            var f = CausalMonarch.factor(l);
            assertTrue(f.padded() >= l && f.padded() - l < f.l2() && f.l2() <= 4 * f.l1() && f.l1() <= f.l2(), l + ": " + f);
        }
        assertThrows(IllegalArgumentException.class, () -> CausalMonarch.factor(0));
    }

    /** The fast map (two GEMMs) against y = M x with the dense (Lp, Lp) matrix built from the blocks. */
    @Test
    void mapMatchesTheDenseLowerTriangularSlowTwin() {
        int[][] sizes = {{3, 4}, {6, 7}, {1, 5}, {4, 1}, {8, 16}};
        for (int[] sz : sizes) {
            int l1 = sz[0], l2 = sz[1], lp = l1 * l2;
            Tensor[] b = randomBlocks(10 + l1 * 31 + l2, l1, l2);
            Tensor x = randn(3, 1, 2, 3, lp);
            double[] y = CausalMonarch.apply(x, b[0], b[1]).toDoubleArray();
            double[] m = CausalMonarch.dense(b[0].toDoubleArray(), l1, b[1].toDoubleArray(), l2);
            double[] xa = x.toDoubleArray(), ref = new double[xa.length];
            for (int r = 0; r < 6; r++) {
                for (int t = 0; t < lp; t++) {
                    double s = 0;
                    for (int j = 0; j < lp; j++) s += m[t * lp + j] * xa[r * lp + j];
                    ref[r * lp + t] = s;
                }
            }
            // F64, sums of <= Lp products of O(1) values in a different order: 1e-12 relative
            Check.assertClose(y, ref, 1e-12, 1e-12, "map " + l1 + "x" + l2);
            for (int t = 0; t < lp; t++) {
                for (int j = t + 1; j < lp; j++) assertTrue(m[t * lp + j] == 0, "dense M must be lower triangular at " + t + "," + j);
            }
            // negative control: the same blocks without the mask (a dense Kronecker product) give a different map
            double[] full = new double[xa.length];
            double[] a = b[0].toDoubleArray(), w = b[1].toDoubleArray();
            for (int r = 0; r < 6; r++)
                for (int t = 0; t < lp; t++)
                    for (int j = 0; j < lp; j++)
                        full[r * lp + t] += a[(t / l2) * l1 + j / l2] * w[(t % l2) * l2 + j % l2] * xa[r * lp + j];
            if (lp > 1) assertTrue(Check.relErr(y, full) > 1e-3, "the mask must matter for " + l1 + "x" + l2);
        }
    }

    @Test
    void identityBlocksGiveThePlainConvolution() {
        for (int l : new int[] {37, 100, 64, 1}) {
            var f = CausalMonarch.factor(l);
            Tensor[] id = {CausalMonarch.identity(f.l1(), DType.F64), CausalMonarch.identity(f.l2(), DType.F64),
                           CausalMonarch.identity(f.l1(), DType.F64), CausalMonarch.identity(f.l2(), DType.F64)};
            for (boolean channels : new boolean[] {false, true}) {
                Tensor u = randn(20 + l, 1, 2, 3, l);
                Tensor k = channels ? randn(21, 0.3, 2, 3, l) : randn(21, 0.3, 3, l);
                Tensor d = randn(22, 1, channels ? 2 : 1, 3);
                double[] y = ConvOps.learnedCausalConv(u, k, d, ConvMode.CAUSAL, id).toDoubleArray();
                double[] ref = ConvOps.conv(u, k, d, ConvMode.CAUSAL, ConvEngine.FFT).toDoubleArray();
                // identity maps are exact; the inner FFT at Lp vs L points differs by F64 round-off only: 1e-12
                Check.assertClose(y, ref, 1e-12, 1e-12, "L=" + l + (channels ? " C=2" : ""));
            }
        }
    }

    /** Causal by construction: with a direct-sum inner convolution, future inputs get gradient exactly 0. */
    @Test
    void randomBlocksAreExactlyCausal() {
        for (int l : new int[] {12, 37}) {
            var f = CausalMonarch.factor(l);
            Tensor[] b = randomBlocks(30 + l, f.l1(), f.l2());
            Tensor k = randn(31, 0.3, 2, l), d = randn(32, 1, 1, 2);
            UnaryOperator<Tensor> direct = x -> ConvOps.conv(x, k, null, ConvMode.CAUSAL, ConvEngine.DIRECT);
            Tensor u0 = randn(33, 1, 1, 2, l);
            for (int i = 0; i < l; i++) {
                Tensor u = u0.detach().requiresGrad(true);
                Tensor y = CausalMonarch.convolve("test", u, k, d, ConvMode.CAUSAL, b, direct);
                y.slice(2, i, i + 1).sum().backward();
                int out = i;
                double past = maxWhereAllowed(u.grad().toDoubleArray(), 2, l, (h, j) -> j > out,
                        "L=" + l + ": output " + i + " must not read (channel, input)");
                assertTrue(past > 1e-3, "output " + i + " depends on its past");
            }
        }
    }

    /** Negative control: the general learned DFT blocks, moved off the DFT, read the future. */
    @Test
    void generalLearnedBlocksWithRandomValuesAreNotCausal() {
        int l = 16;
        ConvPlan plan = ConvPlan.of(l, l, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64);
        double[][] init = LearnedButterfly.atInit(plan).blocks();
        Tensor[] b = new Tensor[4];
        for (int i = 0; i < 4; i++) {
            int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
            b[i] = Tensor.of(init[i], n, n, 2).add(randn(40 + i, 0.05, n, n, 2));
        }
        Tensor u = randn(41, 1, 1, 2, l).requiresGrad(true), k = randn(42, 0.3, 2, l);
        ConvOps.learnedConv(u, k, null, ConvMode.CAUSAL, b).slice(2, 0, 1).sum().backward();
        double[] g = u.grad().toDoubleArray();
        double future = 0;
        for (int h = 0; h < 2; h++) for (int j = 1; j < l; j++) future = Math.max(future, Math.abs(g[h * l + j]));
        assertTrue(future > 1e-3, "output 0 of perturbed LEARNED blocks reads the future: max |du[j > 0]| = " + future);
    }

    @Test
    void gradientsOfInputKernelSkipAndBlocks() {
        for (int l : new int[] {6, 7}) {             // 6 = 2 x 3 exact, 7 -> 3 x 3 padded to 9
            var f = CausalMonarch.factor(l);
            Tensor[] b = randomBlocks(50 + l, f.l1(), f.l2());
            Tensor u = randn(51, 1, 2, 2, l), k = randn(52, 0.5, 2, 2, l), d = randn(53, 1, 2, 2);
            GradCheck.assertGradients("learnedCausalConv L=" + l,
                    in -> ConvOps.learnedCausalConv(in[0], in[1], in[2], ConvMode.CAUSAL, new Tensor[] {in[3], in[4], in[5], in[6]}),
                    u, k, d, b[0], b[1], b[2], b[3]);
            // the mask: the upper triangle of every block gets gradient exactly 0
            Tensor[] leaves = new Tensor[4];
            for (int i = 0; i < 4; i++) leaves[i] = b[i].detach().requiresGrad(true);
            ConvOps.learnedCausalConv(u, k, d, ConvMode.CAUSAL, leaves).mul(randn(54, 1, 2, 2, 2, l)).sum().backward();
            for (int i = 0; i < 4; i++) {
                int n = leaves[i].size(0);
                double lower = maxWhereAllowed(leaves[i].grad().toDoubleArray(), n, n, (r, c) -> c > r, "block " + i + " upper");
                assertTrue(lower > 1e-6, "block " + i + " learns");
            }
        }
    }

    /** Negative control of the gradient check: in F32 the 1e-6 central differences drown in round-off and must fail. */
    @Test
    void float32GradientCheckFails() {
        var f = CausalMonarch.factor(6);
        Tensor[] b = randomBlocks(60, f.l1(), f.l2());
        Tensor u = randn(61, 1, 1, 2, 6).to(DType.F32), k = randn(62, 0.5, 2, 6).to(DType.F32);
        var r = GradCheck.check(in -> ConvOps.learnedCausalConv(in[0], in[1], null, ConvMode.CAUSAL,
                new Tensor[] {in[2], in[3], in[4], in[5]}), GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL,
                u, k, b[0].to(DType.F32), b[1].to(DType.F32), b[2].to(DType.F32), b[3].to(DType.F32));
        assertFalse(r.passed(), r.toString());
    }

    @Test
    void badInputSaysWhatIsWrong() {
        Tensor u = randn(70, 1, 1, 2, 6), k = randn(71, 1, 2, 6);
        Tensor[] ok = randomBlocks(72, 2, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> ConvOps.learnedCausalConv(u, k, null, ConvMode.CAUSAL,
                new Tensor[] {ok[0], randn(1, 1, 3, 2), ok[2], ok[3]}));
        assertTrue(e.getMessage().contains("square") && e.getMessage().contains("[3, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvOps.learnedCausalConv(u, k, null, ConvMode.CAUSAL,
                new Tensor[] {ok[0], ok[1], randn(1, 1, 3, 3), ok[3]}));
        assertTrue(e.getMessage().contains("same factors"), e.getMessage());
        Tensor[] small = randomBlocks(73, 2, 2);
        e = assertThrows(IllegalArgumentException.class, () -> ConvOps.learnedCausalConv(u, k, null, ConvMode.CAUSAL, small));
        assertTrue(e.getMessage().contains("L <= Lp = 2*2 = 4") && e.getMessage().contains("[1, 2, 6]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvOps.learnedCausalConv(u, randn(1, 1, 2, 2, 6), null,
                ConvMode.BIDIRECTIONAL, ok));
        assertTrue(e.getMessage().contains("CAUSAL only") && e.getMessage().contains("LEARNED"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvOps.learnedCausalConv(u, k, null, ConvMode.CAUSAL, new Tensor[3]));
        assertTrue(e.getMessage().contains("4 blocks"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CausalMonarch.apply(randn(1, 1, 2, 5), ok[0], ok[1]));
        assertTrue(e.getMessage().contains("Lp = L1*L2 = 2*3 = 6") && e.getMessage().contains("[2, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConvPlan.of(8, 8, ConvMode.CAUSAL, ConvEngine.LEARNED_CAUSAL, Precision.F64));
        assertTrue(e.getMessage().contains("layer engine"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LongConv.builder().features(2).length(8).engine(ConvEngine.LEARNED_CAUSAL)
                .mode(ConvMode.CIRCULAR).build());
        assertTrue(e.getMessage().contains("CAUSAL only"), e.getMessage());
    }

    /** The layer: identity init equals the FFT layer exactly; blocks are parameters of the butterfly group. */
    @Test
    void layerAtInitEqualsThePlainLayerAndRegistersItsBlocks() {
        for (int l : new int[] {16, 37}) {
            var plain = LongConv.builder().features(3).channels(2).length(l).dtype(DType.F64).kernelDropout(0).seed(80).build();
            var causal = LongConv.builder().features(3).channels(2).length(l).dtype(DType.F64).kernelDropout(0).seed(80)
                    .engine(ConvEngine.LEARNED_CAUSAL).build();
            var f = CausalMonarch.factor(l);
            var named = causal.namedParameters();
            for (String n : new String[] {"inA", "inW", "outA", "outW"}) {
                assertEquals(ai.longconv4j.nn.Parameter.BUTTERFLY_GROUP, named.get(n).group(), n);
                assertFalse(named.get(n).decays(), n);
            }
            assertArrayEquals(new int[] {f.l1(), f.l1()}, named.get("inA").value().shape());
            assertArrayEquals(new int[] {f.l2(), f.l2()}, named.get("outW").value().shape());
            assertEquals(plain.numParameters() + 2 * (f.l1() * f.l1() + f.l2() * f.l2()), causal.numParameters());
            for (int len : new int[] {l, l - 5}) {
                Tensor u = randn(81, 1, 2, 3, len);
                // F64: identity maps exact, inner FFT sizes differ (Lp vs L): round-off only
                Check.assertClose(causal.forward(u).toDoubleArray(), plain.forward(u).toDoubleArray(), 1e-12, 1e-12, "layer L=" + len);
            }
            String note = l == 16 ? "engine=LEARNED_CAUSAL (maps 4x4 . 4x4)" : "engine=LEARNED_CAUSAL (maps 6x6 . 7x7, L padded to 42)";
            assertTrue(causal.toString().contains(note), causal.toString());
        }
    }
}
