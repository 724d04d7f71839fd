// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size,
// M = N/2 = R_1 * .. * R_J complex points of the packed transform (J factors), u (B, H, L), k (C, H, [2,] Lk), y (B, C, H, L).
package ai.longconv4j.conv;

import org.jtransforms.fft.DoubleFFT_1D;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The packed learned butterfly with J &gt;= 3 factors (FlashButterfly's factorization, s14-jspec): the factor table, the
 * FFT convolution at init up to M = 2^18, an independent naive twin with random blocks, finite-difference gradients and
 * the bad-input messages. J = 2 is PackedLearnedButterflyTest's.
 */
class PackedJFactorTest {

    private static ConvPlan plan(int l, ConvMode mode) {
        return ConvPlan.of(l, l, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
    }

    /** L giving M complex points: causal / bidirectional N = 2L (so L = M), circular N = L (so L = 2M). */
    private static int lengthFor(int m, ConvMode mode) { return mode == ConvMode.CIRCULAR ? 2 * m : m; }

    @Test
    void theFactorTableIsFlashButterflys() {
        int[][] rows = {{2048, 8, 16, 16}, {4096, 16, 16, 16}, {8192, 2, 16, 16, 16}, {16384, 4, 16, 16, 16},
            {32768, 8, 16, 16, 16}, {65536, 8, 2, 16, 16, 16}, {131072, 16, 2, 16, 16, 16}, {262144, 32, 2, 16, 16, 16}};
        for (int[] r : rows) {
            for (ConvMode mode : ConvMode.values()) {
                ConvPlan p = plan(lengthFor(r[0], mode), mode);
                assertEquals(2 * r[0], p.fftSize(), p.toString());
                assertArrayEquals(java.util.Arrays.copyOfRange(r, 1, r.length), p.factors().stream().mapToInt(Integer::intValue).toArray(), p.toString());
                assertEquals(r[0] > ConvPlan.ONE_PASS_MAX ? 3 : 1, p.passes(), p.toString());
            }
        }
        assertEquals("ConvPlan[L=65536 Lk=65536 CAUSAL engine=LEARNED_PACKED N=131072 (real via complex 65536 = 8 x 2 x 16 x 16 x 16,"
                + " learned blocks, 3 passes) F64]", plan(65536, ConvMode.CAUSAL).toString());
        assertEquals("ConvPlan[L=4096 Lk=4096 CAUSAL engine=LEARNED_PACKED N=8192 (real via complex 4096 = 16 x 16 x 16, learned blocks) F64]",
                plan(4096, ConvMode.CAUSAL).toString());
        // FlashButterfly's largest: causal / bidirectional L = 256K, circular L = 2^19; one more is refused
        assertEquals(1 << 19, plan(1 << 18, ConvMode.CAUSAL).fftSize());
        assertEquals(1 << 19, plan(1 << 18, ConvMode.BIDIRECTIONAL).fftSize());
        assertEquals(1 << 19, plan(1 << 19, ConvMode.CIRCULAR).fftSize());
        String msg = assertThrows(IllegalArgumentException.class, () -> plan(1 << 20, ConvMode.CIRCULAR)).getMessage();
        assertTrue(msg.contains("LEARNED_PACKED") && msg.contains("1048576") && msg.contains("32 .. 524288"), msg);
        // LEARNED (unpacked) keeps its two-factor table
        assertEquals(List.of(32, 64), ConvPlan.of(1024, 1024, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64).factors());
    }

    @Test
    void helpersDescribeTheBlocksAndThePositions() {
        ConvPlan p3 = plan(4096, ConvMode.CAUSAL);   // M = 4096 = 16 x 16 x 16
        assertEquals(List.of("Fa", "Fb", "Fc", "Gc", "Gb", "Ga"), PackedLearnedButterfly.blockNames(p3));
        assertArrayEquals(new int[] {16, 16, 16, 16, 16, 16}, PackedLearnedButterfly.blockSizes(p3));
        ConvPlan p5 = plan(65536, ConvMode.CAUSAL);
        assertEquals(List.of("Fa", "Fb", "Fc", "Fd", "Fe", "Ge", "Gd", "Gc", "Gb", "Ga"), PackedLearnedButterfly.blockNames(p5));
        assertArrayEquals(new int[] {8, 2, 16, 16, 16, 16, 16, 16, 2, 8}, PackedLearnedButterfly.blockSizes(p5));
        assertEquals(List.of("Fa", "Fb", "Gb", "Ga"), PackedLearnedButterfly.blockNames(plan(256, ConvMode.CAUSAL)));
        ConvPlan p = plan(2048, ConvMode.CAUSAL);   // 8 x 16 x 16
        int[] f = PackedLearnedButterfly.positionFrequencies(p), s = PackedLearnedButterfly.partnerPositions(p);
        int m = 2048;
        boolean[] seen = new boolean[m];
        for (int q = 0; q < m; q++) {
            int k1 = q / 256, k2 = (q / 16) % 16, k3 = q % 16;     // row-major digits of (8, 16, 16)
            assertEquals(k1 + 8 * (k2 + 16 * k3), f[q], "position " + q);
            assertEquals((m - f[q]) % m, f[s[q]], "partner of " + q);
            assertEquals(q, s[s[q]]);
            seen[f[q]] = true;
        }
        for (boolean b : seen) assertTrue(b);
    }

    /**
     * At init the packed butterfly is the FFT convolution in every mode. Tolerance 1e-10 of max|y|: both are fp64 FFT
     * convolutions (J stages of <= 32-term sums against JTransforms' radix passes), so they agree to ~1e-14; 1e-10
     * leaves room for the growth with M and still fails on any wrong index, twiddle or coefficient (an O(1) error).
     */
    @Test
    void atInitEqualsFftConvAtEveryJ() {
        SplittableRandom rng = new SplittableRandom(3);
        int[] ms = {2048, 4096, 8192, 32768, 65536};
        for (int m : ms) {
            for (ConvMode mode : ConvMode.values()) {
                int l = lengthFor(m, mode), lk = mode == ConvMode.CIRCULAR ? l : l - 3;
                int b = m <= 8192 ? 2 : 1, h = m <= 8192 ? 2 : 1, c = m <= 8192 ? 2 : 1;
                ConvShape s = new ConvShape(b, c, h, l, lk, mode);
                compareAtInit(s, rng, m);
            }
        }
    }

    /** M = 2^18 (J = 5, three passes), one row, causal: FlashButterfly's largest size. */
    @Test
    void atInitEqualsFftConvAtTheLargestSize() {
        compareAtInit(new ConvShape(1, 1, 1, 1 << 18, 1 << 18, ConvMode.CAUSAL), new SplittableRandom(4), 1 << 18);
    }

    private static void compareAtInit(ConvShape s, SplittableRandom rng, int m) {
        ConvPlan p = ConvPlan.of(s.length(), s.kernelLength(), s.mode(), ConvEngine.LEARNED_PACKED, Precision.F64);
        assertEquals(2 * m, p.fftSize(), p.toString());
        double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 1.0 / Math.sqrt(s.kernelLength()));
        double[] d = Check.randn(rng, s.dSize(), 1);
        double[] want = new FftConv(ConvPlan.of(s.length(), s.kernelLength(), s.mode(), ConvEngine.FFT, Precision.F64)).forward(s, u, k, d);
        double[] got = PackedLearnedButterfly.atInit(p).forward(s, u, k, d);
        Check.assertClose(got, want, 1e-10 * Check.maxAbs(want), 0, p + " at init vs FftConv");
    }

    // ---- the naive twin: s14-jspec's one-row chain with explicit digit arithmetic, nothing shared with the class ----

    /** Random blocks: the DFT's scale (entries ~ N(0, 1), a block of R has norm ~ sqrt(R) like F_R), off the DFT. */
    static double[][] randomBlocks(ConvPlan p, SplittableRandom rng) {
        List<Integer> f = p.factors();
        int j = f.size();
        double[][] b = new double[2 * j][];
        for (int s = 0; s < j; s++) {
            int r = f.get(s);
            b[s] = Check.randn(rng, 2 * r * r, 1);
            b[2 * j - 1 - s] = Check.randn(rng, 2 * r * r, 1);
        }
        return b;
    }

    /** y (B, C, H, L) of the packed learned butterfly, straight from s14-jspec / packed-spec. */
    static double[] naiveForward(ConvPlan p, ConvShape sh, double[] u, double[] k, double[] d, double[][] blocks) {
        int n = p.fftSize(), m = n / 2, j = p.factors().size(), l = sh.length(), lk = sh.kernelLength();
        int[] r = p.factors().stream().mapToInt(Integer::intValue).toArray();
        int[] after = new int[j];                       // S_s = R_(s+1) * .. * R_J
        for (int s = 0; s < j; s++) {
            after[s] = 1;
            for (int t = s + 1; t < j; t++) after[s] *= r[t];
        }
        int bN = sh.batch(), cN = sh.channels(), hN = sh.features(), sides = sh.mode().sides();
        double[] y = new double[sh.ySize()];
        for (int c = 0; c < cN; c++) {
            for (int h = 0; h < hN; h++) {
                int ch = c * hN + h;
                // k_pad: side 0 at [t]; bidirectional side 1 (taps t < min(Lk, L - 1)) at [N - 1 - t]
                double[] kp = new double[2 * n];
                for (int t = 0; t < Math.min(lk, l); t++) kp[2 * t] = k[ch * sides * lk + t];
                if (sides == 2) for (int t = 0; t < Math.min(lk, l - 1); t++) kp[2 * (n - 1 - t)] += k[ch * sides * lk + lk + t];
                new DoubleFFT_1D(n).complexForward(kp);   // K[q] = sum_t k_pad[t] exp(-2 pi i q t / N)
                // P_k, Q_k per frequency k (packed-spec step 4)
                double[][] pk = new double[m][], qk = new double[m][];
                for (int f = 0; f < m; f++) {
                    double[] kk = {kp[2 * f], kp[2 * f + 1]}, km = {kp[2 * (m - f)], -kp[2 * (m - f) + 1]};   // K[k], conj(K[M-k])
                    double[] ak = half(f, n, -1), bk = half(f, n, 1), ck = half(-f, n, 1), dk = half(-f, n, -1);
                    double[] bj = conj(half(m - f, n, 1)), aj = conj(half(m - f, n, -1));
                    pk[f] = add(mul(mul(ck, kk), ak), mul(mul(dk, km), bj));
                    qk[f] = add(mul(mul(ck, kk), bk), mul(mul(dk, km), aj));
                }
                for (int b = 0; b < bN; b++) {
                    int uo = (b * hN + h) * l;
                    double[][] x = new double[m][];
                    for (int q = 0; q < m; q++) {
                        double re = 2 * q < l ? u[uo + 2 * q] : 0, im = 2 * q + 1 < l ? u[uo + 2 * q + 1] : 0;
                        x[q] = new double[] {re, im};
                    }
                    for (int s = 0; s < j; s++) {                                 // forward chain
                        x = stage(x, blocks[s], s, r, after);
                        if (s < j - 1) x = twiddle(x, s, r, after, -1, 1);
                    }
                    // C'[pos] = P C[pos] + Q conj(C[partner]); frequency of a position from its digits
                    int[] freqOf = new int[m], posOf = new int[m];
                    for (int q = 0; q < m; q++) {
                        int f = 0, mult = 1;
                        for (int s = 0; s < j; s++) {
                            int digit = (q / after[s]) % r[s];
                            f += digit * mult;
                            mult *= r[s];
                        }
                        freqOf[q] = f;
                        posOf[f] = q;
                    }
                    double[][] w = new double[m][];
                    for (int q = 0; q < m; q++) {
                        int f = freqOf[q];
                        w[q] = add(mul(pk[f], x[q]), mul(qk[f], conj(x[posOf[(m - f) % m]])));
                    }
                    for (int s = j - 1; s >= 0; s--) {                            // inverse chain
                        if (s < j - 1) w = twiddle(w, s, r, after, 1, 1);
                        if (s == 0) w = twiddle(w, -1, r, after, 1, 1.0 / m);
                        w = stage(w, blocks[2 * j - 1 - s], s, r, after);
                    }
                    double skip = d == null ? 0 : d[ch];
                    int yo = ((b * cN + c) * hN + h) * l;
                    for (int i = 0; i < l; i++) y[yo + i] = (i % 2 == 0 ? w[i / 2][0] : w[i / 2][1]) + skip * u[uo + i];
                }
            }
        }
        return y;
    }

    /** (1 + sg * i * w_N^e) / 2 with w_N = exp(-2 pi i / N). */
    private static double[] half(int e, int n, int sg) {
        double ang = -2 * Math.PI * e / n;
        double wr = Math.cos(ang), wi = Math.sin(ang);
        return new double[] {(1 - sg * wi) / 2, sg * wr / 2};
    }

    private static double[] mul(double[] a, double[] b) { return new double[] {a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]}; }
    private static double[] add(double[] a, double[] b) { return new double[] {a[0] + b[0], a[1] + b[1]}; }
    private static double[] conj(double[] a) { return new double[] {a[0], -a[1]}; }

    /** Block F along axis s: stage 0 left (Y[k] = sum_n F[k][n] X[n]), the others right (Y[k] = sum_n X[n] F[n][k]). */
    private static double[][] stage(double[][] x, double[] f, int s, int[] r, int[] after) {
        int m = x.length, rs = r[s];
        double[][] y = new double[m][];
        for (int q = 0; q < m; q++) {
            int digit = (q / after[s]) % rs, base = q - digit * after[s];
            double[] acc = {0, 0};
            for (int t = 0; t < rs; t++) {
                int fi = s == 0 ? digit * rs + t : t * rs + digit;
                acc = add(acc, mul(new double[] {f[2 * fi], f[2 * fi + 1]}, x[base + t * after[s]]));
            }
            y[q] = acc;
        }
        return y;
    }

    /** x o T_s^(sg = -1) or conj(T_s) (sg = +1), T_s = w_(M_s)^(k_s * c), c = q mod S_s; s = -1: a plain scale. */
    private static double[][] twiddle(double[][] x, int s, int[] r, int[] after, int sg, double scale) {
        double[][] y = new double[x.length][];
        for (int q = 0; q < x.length; q++) {
            if (s < 0) {
                y[q] = new double[] {x[q][0] * scale, x[q][1] * scale};
                continue;
            }
            int ms = r[s] * after[s], ks = (q / after[s]) % r[s], c = q % after[s];
            double ang = sg * 2 * Math.PI * (double) ((long) ks * c % ms) / ms;
            y[q] = mul(x[q], new double[] {Math.cos(ang) * scale, Math.sin(ang) * scale});
        }
        return y;
    }

    /** The naive twin itself is the FFT convolution with DFT blocks (so it checks what the spec says, not a typo). */
    @Test
    void theNaiveTwinAtInitIsTheFftConvolution() {
        SplittableRandom rng = new SplittableRandom(5);
        for (ConvMode mode : ConvMode.values()) {
            int l = lengthFor(2048, mode);
            ConvShape s = new ConvShape(1, 2, 1, l, l - 1, mode);
            ConvPlan p = ConvPlan.of(l, l - 1, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
            double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.05), d = Check.randn(rng, s.dSize(), 1);
            double[] want = new FftConv(ConvPlan.of(l, l - 1, mode, ConvEngine.FFT, Precision.F64)).forward(s, u, k, d);
            double[] got = naiveForward(p, s, u, k, d, PackedLearnedButterfly.atInit(p).blocks());
            // naive O(R) sums with Math.cos twiddles in fp64: ~1e-13 of max|y|
            Check.assertClose(got, want, 1e-10 * Check.maxAbs(want), 0, "naive twin at init, " + mode);
        }
    }

    /**
     * Random blocks at J = 3, 4, 5 in every mode: the class equals the naive twin to 1e-12 of max|y| (both fp64; the
     * sums differ only in order and in the twiddles' evaluation, ~1e-15 relative per stage).
     */
    @Test
    void randomBlocksEqualTheNaiveTwin() {
        SplittableRandom rng = new SplittableRandom(6);
        int[][] cases = {{2048, 2}, {4096, 1}, {8192, 1}, {65536, 1}};   // {M, B = H = C}: J = 3, 3, 4, 5
        for (int[] cs : cases) {
            for (ConvMode mode : ConvMode.values()) {
                int l = lengthFor(cs[0], mode), lk = mode == ConvMode.CIRCULAR ? l - 7 : l / 2 + 3;
                int bhc = cs[1];
                ConvShape s = new ConvShape(bhc, bhc, bhc, l, lk, mode);
                ConvPlan p = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
                double[][] blocks = randomBlocks(p, rng);
                double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 1.0 / Math.sqrt(lk));
                double[] d = Check.randn(rng, s.dSize(), 1);
                double[] want = naiveForward(p, s, u, k, d, blocks);
                double[] got = new PackedLearnedButterfly(p, blocks).forward(s, u, k, d);
                Check.assertClose(got, want, 1e-12 * Check.maxAbs(want), 0, p + " random blocks vs the naive twin");
            }
        }
    }
}
