// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size, M = N/2 = N1*N2.
package ai.longconv4j.conv;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

class PackedLearnedButterflyTest {

    private static ConvPlan plan(int l, int lk, ConvMode mode) {
        return ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
    }

    @Test
    void planSizesAsMonarchWithTheLearnedFactorsOfHalfN() {
        int[][] cases = {{256, 512, 16, 16}, {512, 1024, 16, 32}, {1024, 2048, 32, 32}, {5, 32, 4, 4}};   // M >= 2048: J factors, PackedJFactorTest
        for (int[] c : cases) {
            ConvPlan p = plan(c[0], c[0], ConvMode.CAUSAL);
            assertEquals(c[1], p.fftSize(), p.toString());
            assertEquals(ConvPlan.of(c[0], c[0], ConvMode.CAUSAL, ConvEngine.MONARCH, Precision.F64).fftSize(), p.fftSize());
            assertEquals(List.of(c[2], c[3]), p.factors(), p.toString());
            assertEquals(1, p.passes());
        }
        ConvPlan p = plan(512, 512, ConvMode.CAUSAL);
        assertEquals("ConvPlan[L=512 Lk=512 CAUSAL engine=LEARNED_PACKED N=1024 (real via complex 512 = 16 x 32, learned blocks) F64]",
                p.toString());
        assertEquals(64, plan(64, 64, ConvMode.CIRCULAR).fftSize());
        assertInstanceOf(PackedLearnedButterfly.class, p.newConvolver());
    }

    /** At init the packed learned butterfly is the FFT convolution (and FlashButterfly's). */
    @Test
    void atInitEqualsFftConvAndMonarchConv() {
        int cases = 0;
        for (ConvMode mode : ConvMode.values()) {
            int[] lengths = mode == ConvMode.CIRCULAR ? new int[] {64, 256} : new int[] {1, 5, 37, 64, 100, 256};
            for (int l : lengths) {
                for (int lk : new int[] {Math.max(1, l / 2 + 1), l}) {
                    boolean withD = (l + lk) % 2 == 0 || lk == l;
                    ConvShape s = new ConvShape(2, 2, 3, l, lk, mode);
                    SplittableRandom rng = new SplittableRandom(1000L * l + lk + 7L * mode.ordinal());
                    double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.2);
                    double[] d = withD ? Check.randn(rng, s.dSize(), 1) : null;
                    ConvPlan p = plan(l, lk, mode);
                    double[] y = p.newConvolver().forward(s, u, k, d);
                    double[] ref = ConvPlan.of(l, lk, mode, ConvEngine.FFT, Precision.F64).newConvolver().forward(s, u, k, d);
                    double[] mon = ConvPlan.of(l, lk, mode, ConvEngine.MONARCH, Precision.F64).newConvolver().forward(s, u, k, d);
                    // All three are exact transforms in fp64 (~1e-16 relative per operation); the dense blocks (<= 16 x 16
                    // here), the pair map and the N-point kernel DFT add O(log N + N1 + N2) roundings of O(|y|) values:
                    // ~1e-14 absolute for |y| ~ 3. 1e-11 has margin and is far below any indexing or conjugation error (O(1)).
                    String what = p + (withD ? " with D" : " D null");
                    Check.assertClose(y, ref, 1e-11, 0, what + " vs FftConv");
                    Check.assertClose(y, mon, 1e-11, 0, what + " vs MonarchConv");
                    // The backward at init is FftConv's too; du / dk / dD sum up to B*C*L products of O(1) values, so the
                    // bound scales with the largest gradient (1e-11 relative to it; fp64 roundoff is ~1e-14 of it).
                    double[] dy = Check.randn(rng, s.ySize(), 1);
                    ConvGrads g = p.newConvolver().backward(s, u, k, d, dy);
                    ConvGrads gr = ConvPlan.of(l, lk, mode, ConvEngine.FFT, Precision.F64).newConvolver().backward(s, u, k, d, dy);
                    Check.assertClose(g.du(), gr.du(), 1e-11 * Math.max(1, Check.maxAbs(gr.du())), 0, what + " du vs FftConv");
                    Check.assertClose(g.dk(), gr.dk(), 1e-11 * Math.max(1, Check.maxAbs(gr.dk())), 0, what + " dk vs FftConv");
                    Check.assertClose(g.dD(), gr.dD(), 1e-11 * Math.max(1, Check.maxAbs(gr.dD())), 0, what + " dD vs FftConv");
                    cases++;
                }
            }
        }
        assertEquals(2 * (6 + 6 + 2), cases);
        // Negative control: a perturbed block changes the output.
        ConvShape s = new ConvShape(2, 2, 3, 37, 37, ConvMode.BIDIRECTIONAL);
        SplittableRandom rng = new SplittableRandom(5);
        double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.2);
        PackedLearnedButterfly pk = PackedLearnedButterfly.atInit(plan(37, 37, ConvMode.BIDIRECTIONAL));
        double[] ref = pk.forward(s, u, k, null);
        pk.blocks()[PackedLearnedButterfly.GB][5] += 0.1;
        assertTrue(Check.relErr(pk.forward(s, u, k, null), ref) > 1e-4, "perturbed block must change y");
    }

    /** F32 plans compute in fp64 and round y to float values (as LearnedButterfly); the functional form takes the engine. */
    @Test
    void f32PlansRoundTheOutputAndTheFunctionalFormRuns() {
        ConvShape s = new ConvShape(2, 2, 3, 100, 60, ConvMode.CAUSAL);
        SplittableRandom rng = new SplittableRandom(11);
        double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.2), d = Check.randn(rng, s.dSize(), 1);
        double[] y32 = ConvPlan.of(100, 60, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F32).newConvolver().forward(s, u, k, d);
        double[] ref = ConvPlan.of(100, 60, ConvMode.CAUSAL, ConvEngine.FFT, Precision.F64).newConvolver().forward(s, u, k, d);
        assertArrayEquals(Check.roundToFloat(y32), y32, 0, "F32 output holds float values");
        // fp64 arithmetic then one rounding to float: <= half a float ulp (6e-8 relative) plus the fp64 error (~1e-14).
        Check.assertClose(y32, ref, 1e-12, 1e-7, "F32 packed vs F64 FFT");
        // ConvOps.conv with the engine: k (H, Lk) -> (B, H, L) at init, the FFT convolution.
        ConvShape s1 = new ConvShape(2, 1, 3, 100, 60, ConvMode.CAUSAL);
        double[] k1 = java.util.Arrays.copyOf(k, s1.kSize());
        var y = ConvOps.conv(ai.longconv4j.tensor.Tensor.of(u, 2, 3, 100), ai.longconv4j.tensor.Tensor.of(k1, 3, 60), null,
                ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED);
        double[] ref1 = ConvPlan.of(100, 60, ConvMode.CAUSAL, ConvEngine.FFT, Precision.F64).newConvolver().forward(s1, u, k1, null);
        Check.assertClose(y.toDoubleArray(), ref1, 1e-11, 0, "ConvOps.conv(LEARNED_PACKED)");   // as atInit's bound
    }

    // ---- the slow twin: the spec's formulas, dense M x M matrices, nothing shared with the class under test ----

    /** w_q^e = exp(-2 pi i e / q) as {re, im}. */
    private static double[] w(long e, int q) {
        double t = -2 * Math.PI * (e % q) / q;
        return new double[] {Math.cos(t), Math.sin(t)};
    }

    private static double[] mul(double[] a, double[] b) { return new double[] {a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]}; }
    private static double[] conj(double[] a) { return new double[] {a[0], -a[1]}; }
    private static double[] add(double[] a, double[] b) { return new double[] {a[0] + b[0], a[1] + b[1]}; }
    private static double[] blk(double[] f, int n, int r, int c) { return new double[] {f[2 * (r * n + c)], f[2 * (r * n + c) + 1]}; }

    /** The test's own tap placement (ConvMode's definition): k0[t] at t, bidirectional k1[t] at N-1-t. */
    private static double[] kPad(ConvShape s, double[] k, int ch, int n) {
        double[] x = new double[n];
        int lk = s.kernelLength(), sides = s.mode().sides(), o = ch * sides * lk;
        for (int t = 0; t < Math.min(lk, s.length()); t++) x[t] += k[o + t];
        if (sides == 2) for (int t = 0; t < Math.min(lk, s.length() - 1); t++) x[n - 1 - t] += k[o + lk + t];
        return x;
    }

    /** (P, Q) per position by the spec's step 4 with a direct-sum N-point DFT; layout [4M] as pairCoefficients. */
    private static double[] twinPq(double[] kp, int n1, int n2) {
        int n = kp.length, m = n / 2;
        double[][] kk = new double[m + 1][];
        for (int j = 0; j <= m; j++) {
            kk[j] = new double[2];
            for (int t = 0; t < n; t++) kk[j] = add(kk[j], mul(new double[] {kp[t], 0}, w((long) j * t, n)));
        }
        double[] out = new double[4 * m];
        for (int k1 = 0; k1 < n1; k1++) {
            for (int k2 = 0; k2 < n2; k2++) {
                int p = k1 * n2 + k2, k = k1 + n1 * k2, j = m - k;
                double[] iw = mul(new double[] {0, 1}, w(k, n)), iwj = mul(new double[] {0, 1}, w(j, n)), iwm = mul(new double[] {0, 1}, w(n - k, n));
                double[] ak = {(1 - iw[0]) / 2, -iw[1] / 2}, bk = {(1 + iw[0]) / 2, iw[1] / 2};
                double[] aj = {(1 - iwj[0]) / 2, -iwj[1] / 2}, bj = {(1 + iwj[0]) / 2, iwj[1] / 2};
                double[] ck = {(1 + iwm[0]) / 2, iwm[1] / 2}, dk = {(1 - iwm[0]) / 2, -iwm[1] / 2};
                double[] pk = add(mul(mul(ck, kk[k]), ak), mul(mul(dk, conj(kk[j])), conj(bj)));
                double[] qk = add(mul(mul(ck, kk[k]), bk), mul(mul(dk, conj(kk[j])), conj(aj)));
                out[2 * p] = pk[0];
                out[2 * p + 1] = pk[1];
                out[2 * m + 2 * p] = qk[0];
                out[2 * m + 2 * p + 1] = qk[1];
            }
        }
        return out;
    }

    /** y by dense matrices: C = Fwd z, C' by the pair map over frequencies, E = Inv C'. dropQ: a wrong twin (control). */
    private static double[] twinForward(ConvPlan plan, double[][] blocks, ConvShape s, double[] u, double[] k, double[] d, boolean dropQ) {
        int n = plan.fftSize(), m = n / 2, n1 = plan.factors().get(0), n2 = plan.factors().get(1), l = s.length();
        double[][][] fwd = new double[m][m][], inv = new double[m][m][];
        for (int k1 = 0; k1 < n1; k1++) for (int k2 = 0; k2 < n2; k2++) for (int a = 0; a < n1; a++) for (int b = 0; b < n2; b++) {
            double[] t = w((long) k1 * b, m);
            fwd[k1 * n2 + k2][a * n2 + b] = mul(mul(blk(blocks[0], n1, k1, a), t), blk(blocks[1], n2, b, k2));
            double[] g = mul(mul(blk(blocks[3], n1, a, k1), blk(blocks[2], n2, k2, b)), conj(t));
            inv[a * n2 + b][k1 * n2 + k2] = new double[] {g[0] / m, g[1] / m};
        }
        int bN = s.batch(), cN = s.channels(), hN = s.features();
        double[] y = new double[s.ySize()];
        for (int c = 0; c < cN; c++) {
            for (int h = 0; h < hN; h++) {
                double[] pq = twinPq(kPad(s, k, c * hN + h, n), n1, n2);
                for (int b = 0; b < bN; b++) {
                    double[] up = new double[n];
                    System.arraycopy(u, (b * hN + h) * l, up, 0, l);
                    double[][] cc = new double[m][];
                    for (int p = 0; p < m; p++) {
                        cc[p] = new double[2];
                        for (int q = 0; q < m; q++) cc[p] = add(cc[p], mul(fwd[p][q], new double[] {up[2 * q], up[2 * q + 1]}));
                    }
                    double[][] c2 = new double[m][];
                    for (int p = 0; p < m; p++) {
                        int k1 = p / n2, k2 = p % n2, sk = (m - (k1 + n1 * k2)) % m, sp = (sk % n1) * n2 + sk / n1;
                        double[] pp = {pq[2 * p], pq[2 * p + 1]}, qq = {pq[2 * m + 2 * p], pq[2 * m + 2 * p + 1]};
                        c2[p] = add(mul(pp, cc[p]), dropQ ? new double[2] : mul(qq, conj(cc[sp])));
                    }
                    int yo = ((b * cN + c) * hN + h) * l, uo = (b * hN + h) * l;
                    double skip = d == null ? 0 : d[c * hN + h];
                    for (int i = 0; i < l; i++) {
                        double[] e = new double[2];
                        for (int p = 0; p < m; p++) e = add(e, mul(inv[i / 2][p], c2[p]));
                        y[yo + i] = e[i % 2] + skip * u[uo + i];
                    }
                }
            }
        }
        return y;
    }

    private static double[][] randomBlocks(ConvPlan p, SplittableRandom rng) {
        int a = p.factors().get(0), b = p.factors().get(1);
        int[] sz = {a, b, b, a};
        double[][] out = new double[4][];
        for (int i = 0; i < 4; i++) out[i] = Check.randn(rng, 2 * sz[i] * sz[i], 1 / Math.sqrt(sz[i]));
        return out;
    }

    @Test
    void randomBlocksForwardEqualsTheDenseSlowTwin() {
        Object[][] cases = {{ConvMode.CAUSAL, 7, 5}, {ConvMode.CAUSAL, 37, 37}, {ConvMode.BIDIRECTIONAL, 9, 9},
            {ConvMode.BIDIRECTIONAL, 30, 11}, {ConvMode.CIRCULAR, 32, 32}, {ConvMode.CIRCULAR, 64, 20}};
        for (Object[] c : cases) {
            ConvMode mode = (ConvMode) c[0];
            int l = (int) c[1], lk = (int) c[2];
            ConvShape s = new ConvShape(2, 2, 3, l, lk, mode);
            ConvPlan p = plan(l, lk, mode);
            SplittableRandom rng = new SplittableRandom(300 + l + lk);
            double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.3), d = Check.randn(rng, s.dSize(), 1);
            double[][] blocks = randomBlocks(p, rng);
            double[] y = new PackedLearnedButterfly(p, blocks).forward(s, u, k, d);
            double[] twin = twinForward(p, blocks, s, u, k, d, false);
            // fp64 both ways; the twin sums M^2 = 4096 (M = 64) dense products per output, the class O(N1 + N2), so
            // the difference is ~M * 1e-16 * |y| ~ 1e-13 for |y| ~ 10. 1e-10 * max|y| is loose for that, tight for any slip.
            double tol = 1e-10 * Math.max(1, Check.maxAbs(twin));
            Check.assertClose(y, twin, tol, 0, p + " random blocks vs slow twin");
            // Negative control: the twin without the conj partner (Q) term differs, so the check sees the pair map.
            double[] wrong = twinForward(p, blocks, s, u, k, d, true);
            assertThrows(AssertionError.class, () -> Check.assertClose(y, wrong, tol, 0, "twin without Q"));
        }
    }

    @Test
    void pairCoefficientsAndPlaceTapsMatchTheSpec() {
        for (ConvMode mode : ConvMode.values()) {
            int l = mode == ConvMode.CIRCULAR ? 64 : 37, lk = 23;
            ConvShape s = new ConvShape(1, 2, 3, l, lk, mode);
            ConvPlan p = plan(l, lk, mode);
            double[] k = Check.randn(new SplittableRandom(40 + mode.ordinal()), s.kSize(), 1);
            for (int ch = 0; ch < 6; ch += 5) {
                double[] placed = PackedLearnedButterfly.placeTaps(p, s, k, ch);
                assertArrayEquals(kPad(s, k, ch, p.fftSize()), placed, 0, mode + " placeTaps ch " + ch);
                double[] pq = PackedLearnedButterfly.pairCoefficients(p, placed);
                assertEquals(4 * p.fftSize() / 2, pq.length);
                // direct-sum DFT (N <= 128 terms of |k| ~ 1) vs JTransforms: ~1e-14; 1e-11 leaves margin.
                Check.assertClose(pq, twinPq(placed, p.factors().get(0), p.factors().get(1)), 1e-11, 0, mode + " (P, Q)");
            }
        }
        // At k = delta (K = 1 everywhere) the pair map is the identity: P = 1, Q = 0.
        ConvPlan p = plan(16, 16, ConvMode.CAUSAL);
        double[] delta = new double[p.fftSize()];
        delta[0] = 1;
        double[] pq = PackedLearnedButterfly.pairCoefficients(p, delta);
        for (int i = 0; i < pq.length; i++) assertEquals(i < pq.length / 2 && i % 2 == 0 ? 1 : 0, pq[i], 1e-14, "delta (P, Q)[" + i + "]");   // a few roundings of O(1) twiddle products
    }

    // ---- gradients ----

    private static double[] num(Function<double[], Double> f, double[] x) { return ConvGradCheckTest.numericGrad(f, x, 1e-5); }

    @Test
    void gradientsIncludingBlocksMatchCentralDifferences() {
        Object[][] cases = {{ConvMode.CAUSAL, 7, 5, true}, {ConvMode.CAUSAL, 16, 16, false}, {ConvMode.BIDIRECTIONAL, 7, 5, true},
            {ConvMode.BIDIRECTIONAL, 12, 12, false}, {ConvMode.CIRCULAR, 32, 9, true}};
        for (Object[] c : cases) {
            ConvMode mode = (ConvMode) c[0];
            int l = (int) c[1], lk = (int) c[2];
            boolean withD = (boolean) c[3];
            ConvShape s = new ConvShape(2, 2, 3, l, lk, mode);
            ConvPlan p = plan(l, lk, mode);
            SplittableRandom rng = new SplittableRandom(70 + l + lk);
            double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.5);
            double[] d = withD ? Check.randn(rng, s.dSize(), 1) : null, dy = Check.randn(rng, s.ySize(), 1);
            PackedLearnedButterfly pk = PackedLearnedButterfly.atInit(p);
            // Move the blocks off the DFT so the check is not only at the special init point.
            for (double[] blk : pk.blocks()) for (int i = 0; i < blk.length; i++) blk[i] += 0.1 * Check.randn(rng, 1, 1)[0];
            PackedLearnedButterfly.Grads g = pk.backwardAll(s, u, k, d, dy);
            // y is linear in each of u, k, D and each block alone, so central differences have no truncation error;
            // what is left is roundoff ~1e-16 * |loss| / eps = ~1e-10 (ConvGradCheckTest.TOL = 1e-8 covers it).
            double tol = ConvGradCheckTest.TOL;
            String what = p.toString();
            Check.assertClose(g.conv().du(), num(x -> Check.dot(pk.forward(s, x, k, d), dy), u), tol, 0, what + " du");
            double[] numK = num(x -> Check.dot(pk.forward(s, u, x, d), dy), k);
            Check.assertClose(g.conv().dk(), numK, tol, 0, what + " dk");
            if (mode == ConvMode.BIDIRECTIONAL) {
                double k1 = 0;
                for (int i = lk; i < 2 * lk - 1; i++) k1 = Math.max(k1, Math.abs(numK[i]));
                assertTrue(k1 > 1e-3, "bidirectional k1 gradient must be non-trivial");
            }
            if (d != null) Check.assertClose(g.conv().dD(), num(x -> Check.dot(pk.forward(s, u, k, x), dy), d), tol, 0, what + " dD");
            else assertEquals(0, Check.maxAbs(g.conv().dD()), what + " dD without D");
            assertArrayEquals(g.conv().du(), pk.backward(s, u, k, d, dy).du(), 0, "backward == backwardAll().conv()");
            for (int bi = 0; bi < 4; bi++) {
                double[] nb = num(x -> Check.dot(pk.forward(s, u, k, d), dy), pk.blocks()[bi]);
                Check.assertClose(g.dBlocks()[bi], nb, tol, 0, what + " block " + bi);
                assertTrue(Check.maxAbs(nb) > 1e-3, "block " + bi + " gradient must be non-trivial");
            }
            // Negative controls: a conj-flipped block gradient, and du off by 1e-6 at one entry, fail the same check.
            double[] flip = g.dBlocks()[PackedLearnedButterfly.FB].clone();
            for (int i = 1; i < flip.length; i += 2) flip[i] = -flip[i];
            double[] nFb = num(x -> Check.dot(pk.forward(s, u, k, d), dy), pk.blocks()[PackedLearnedButterfly.FB]);
            assertThrows(AssertionError.class, () -> Check.assertClose(flip, nFb, tol, 0, "conj-flipped dFb"));
            double[] off = g.conv().du().clone();
            off[l / 2] += 1e-6;
            double[] nu = num(x -> Check.dot(pk.forward(s, x, k, d), dy), u);
            assertThrows(AssertionError.class, () -> Check.assertClose(off, nu, tol, 0, "du off by 1e-6"));
        }
    }

    // ---- bad input ----

    private static String fails(Runnable r) { return assertThrows(IllegalArgumentException.class, r::run).getMessage(); }

    @Test
    void badInputIsRejectedWithTheShapes() {
        ConvPlan p = plan(7, 5, ConvMode.CAUSAL);   // N = 32, M = 16 = 4 x 4
        String msg = fails(() -> new PackedLearnedButterfly(p, new double[][] {new double[32], new double[32], new double[32], new double[31]}));
        assertTrue(msg.contains("block 3 (Ga)") && msg.contains("(4, 4, 2) = 32") && msg.contains("got 31"), msg);
        msg = fails(() -> new PackedLearnedButterfly(p, new double[][] {new double[32], new double[32], new double[32]}));
        assertTrue(msg.contains("needs 4 blocks") && msg.contains("got 3"), msg);
        double[][] nan = {new double[32], new double[32], new double[32], new double[32]};
        nan[2][7] = Double.POSITIVE_INFINITY;
        msg = fails(() -> new PackedLearnedButterfly(p, nan));
        assertTrue(msg.contains("block 2 (Gb)") && msg.contains("non-finite") && msg.contains("index 7"), msg);
        ConvPlan learned = ConvPlan.of(7, 5, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64);
        msg = fails(() -> PackedLearnedButterfly.atInit(learned));
        assertTrue(msg.contains("LEARNED_PACKED plan") && msg.contains("engine=LEARNED "), msg);
        msg = fails(() -> new PackedLearnedButterfly(learned, LearnedButterfly.atInit(learned).blocks()));
        assertTrue(msg.contains("LEARNED_PACKED plan"), msg);
        for (int l : new int[] {100, 16, 48}) {
            msg = fails(() -> plan(l, l, ConvMode.CIRCULAR));
            assertTrue(msg.contains("LEARNED_PACKED") && msg.contains("L=" + l) && msg.contains("powers of two 32"), msg);
        }
        msg = fails(() -> plan((1 << 18) + 1, (1 << 18) + 1, ConvMode.CAUSAL));   // N = 2^20 > FlashButterfly's 2^19
        assertTrue(msg.contains("LEARNED_PACKED") && msg.contains("1048576") && msg.contains("524288"), msg);
        msg = fails(() -> PackedLearnedButterfly.pairCoefficients(p, new double[16]));
        assertTrue(msg.contains("N = 32") && msg.contains("got 16"), msg);
        ConvShape s = new ConvShape(2, 1, 3, 7, 5, ConvMode.CAUSAL);
        PackedLearnedButterfly pk = PackedLearnedButterfly.atInit(p);
        msg = fails(() -> pk.forward(s, new double[40], new double[s.kSize()], null));
        assertTrue(msg.contains("(B, H, L) = (2, 3, 7)"), msg);
        msg = fails(() -> pk.forward(new ConvShape(2, 1, 3, 8, 5, ConvMode.CAUSAL), new double[48], new double[15], null));
        assertTrue(msg.contains("L=7") && msg.contains("L=8"), msg);
        msg = fails(() -> PackedLearnedButterfly.placeTaps(p, s, new double[s.kSize()], 3));
        assertTrue(msg.contains("[0, 3)") && msg.contains("got 3"), msg);
    }
}
