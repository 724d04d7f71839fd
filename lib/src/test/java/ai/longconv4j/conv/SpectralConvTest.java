// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.conv;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** FftConv and MonarchConv against the direct slow twin, forward and backward. */
class SpectralConvTest {

    /** One (L, H, C, Lk) case: every listed L, H and C appears; Lk < L except at L = 1. */
    record Case(int l, int h, int c, int lk) {}

    static final List<Case> GRID = List.of(
            new Case(1, 111, 2, 1), new Case(2, 3, 1, 1), new Case(3, 1, 2, 2), new Case(7, 111, 1, 5),
            new Case(100, 3, 2, 37), new Case(310, 111, 2, 100), new Case(1000, 3, 1, 999),
            new Case(1024, 1, 2, 700), new Case(4096, 3, 2, 1000));

    // Error of y relative to max|y|: JTransforms/Monarch in F64 are ~1e-15 relative; 1e-11 leaves room for
    // N up to 8192 with a few ulps per butterfly stage. F32 Monarch: float storage at every stage of a
    // <=3-factor FFT plus the real packing keeps the error ~1e-6 of max|y|; 2e-5 bounds it. JTransforms'
    // FloatFFT_1D (split radix, log2 N stages) is as accurate or better.
    static double tol(Precision p) { return p == Precision.F64 ? 1e-11 : 2e-5; }

    private static ConvShape shape(Case cs, ConvMode mode) { return new ConvShape(2, cs.c(), cs.h(), cs.l(), cs.lk(), mode); }

    private static boolean monarchHolds(Case cs, ConvMode mode) {
        return mode != ConvMode.CIRCULAR || (Integer.bitCount(cs.l()) == 1 && cs.l() >= 32);
    }

    private static double[][] inputs(ConvShape s, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return new double[][] {Check.randn(rng, s.uSize(), 1), Check.randn(rng, s.kSize(), 1 / Math.sqrt(s.kernelLength())),
                Check.randn(rng, s.dSize(), 1), Check.randn(rng, s.ySize(), 1)};
    }

    @Test
    void forwardMatchesDirectConvOnTheGrid() {
        int checked = 0;
        for (Case cs : GRID) {
            for (ConvMode mode : ConvMode.values()) {
                ConvShape s = shape(cs, mode);
                double[][] in = inputs(s, 31L * cs.l() + mode.ordinal());
                double[] ref = DirectConv.forward(s, in[0], in[1], in[2]);
                double scale = Math.max(1, Check.maxAbs(ref));
                List<ConvPlan> plans = new ArrayList<>();
                for (Precision p : Precision.values()) plans.add(ConvPlan.of(cs.l(), cs.lk(), mode, ConvEngine.FFT, p));
                if (monarchHolds(cs, mode)) {
                    for (Precision p : Precision.values()) plans.add(ConvPlan.of(cs.l(), cs.lk(), mode, ConvEngine.MONARCH, p));
                }
                for (ConvPlan plan : plans) {
                    double[] y = plan.newConvolver().forward(s, in[0], in[1], in[2]);
                    Check.assertClose(y, ref, tol(plan.precision()) * scale, 0, plan + " " + s);
                    checked++;
                }
            }
        }
        assertTrue(checked >= 80, "grid coverage " + checked);
    }

    @Test
    void backwardMatchesDirectBackward() {
        for (Case cs : GRID) {
            if (cs.l() > 1024) continue;    // the direct backward is O(L*Lk) per row; forward covers 4096
            for (ConvMode mode : ConvMode.values()) {
                ConvShape s = new ConvShape(2, cs.c(), Math.min(cs.h(), 3), cs.l(), cs.lk(), mode);
                double[][] in = inputs(s, 7L * cs.l() + mode.ordinal());
                ConvGrads ref = DirectConv.backward(s, in[0], in[1], in[2], in[3]);
                List<ConvPlan> plans = new ArrayList<>(List.of(ConvPlan.of(cs.l(), cs.lk(), mode, ConvEngine.FFT, Precision.F64)));
                if (monarchHolds(cs, mode)) plans.add(ConvPlan.of(cs.l(), cs.lk(), mode, ConvEngine.MONARCH, Precision.F64));
                for (ConvPlan plan : plans) {
                    ConvGrads g = plan.newConvolver().backward(s, in[0], in[1], in[2], in[3]);
                    // dk and dD sum B*L products of O(1) values: scale the tolerance by sqrt(B*L).
                    double sc = Math.sqrt(2.0 * cs.l());
                    Check.assertClose(g.du(), ref.du(), 1e-11 * sc, 0, plan + " du");
                    Check.assertClose(g.dk(), ref.dk(), 1e-11 * sc * sc, 0, plan + " dk");
                    Check.assertClose(g.dD(), ref.dD(), 1e-11 * sc * sc, 0, plan + " dD");
                    // The backward that reuses the forward's spectra gives the same numbers (same arithmetic).
                    Convolver conv = plan.newConvolver();
                    Convolver.Forward fw = conv.forwardKeep(s, in[0], in[1], in[2]);
                    assertNotNull(fw.saved(), plan + " keeps spectra");
                    assertArrayEquals(conv.forward(s, in[0], in[1], in[2]), fw.y(), plan + " forwardKeep y");
                    ConvGrads gs = conv.backward(s, in[0], in[1], in[2], in[3], fw.saved());
                    assertArrayEquals(g.du(), gs.du(), plan + " saved du");
                    assertArrayEquals(g.dk(), gs.dk(), plan + " saved dk");
                }
            }
        }
    }

    @Test
    void kernelLongerThanTheInputIsCroppedNotWrapped() {
        for (ConvMode mode : ConvMode.values()) {
            ConvShape s = new ConvShape(1, 1, 2, 50, 80, mode);
            double[][] in = inputs(s, 5);
            double[] ref = DirectConv.forward(s, in[0], in[1], null);
            // The same kernel cropped to L taps gives the same output: the extra taps never wrap around.
            ConvShape cropped = new ConvShape(1, 1, 2, 50, 50, mode);
            double[] k = new double[cropped.kSize()];
            for (int r = 0; r < 2 * mode.sides(); r++) System.arraycopy(in[1], r * 80, k, r * 50, 50);
            Check.assertClose(DirectConv.forward(cropped, in[0], k, null), ref, 1e-14, 0, "direct crop " + mode);
            for (ConvEngine e : new ConvEngine[] {ConvEngine.FFT, ConvEngine.MONARCH}) {
                if (e == ConvEngine.MONARCH && mode == ConvMode.CIRCULAR) continue;
                double[] y = ConvPlan.of(50, 80, mode, e, Precision.F64).newConvolver().forward(s, in[0], in[1], null);
                Check.assertClose(y, ref, 1e-12, 0, e + " " + mode);
            }
        }
    }

    @Test
    void threePassMonarchForwardMatchesFftConv() {
        // L = 40000, Lk = 30000 needs a real FFT of 2^17 points: complex 2^16 after packing, more than one on-chip pass.
        int l = 40000;
        for (ConvMode mode : new ConvMode[] {ConvMode.CAUSAL, ConvMode.BIDIRECTIONAL}) {
            ConvShape s = new ConvShape(3, 2, 1, l, 30000, mode);   // B = 3: the last batch row rides alone
            ConvPlan plan = ConvPlan.of(l, 30000, mode, ConvEngine.MONARCH, Precision.F64);
            assertEquals(3, plan.passes(), plan.toString());
            double[][] in = inputs(s, 77 + mode.ordinal());
            double[] ref = ConvPlan.of(l, 30000, mode, ConvEngine.FFT, Precision.F64).newConvolver().forward(s, in[0], in[1], in[2]);
            Convolver mono = plan.newConvolver();
            double[] y = mono.forward(s, in[0], in[1], in[2]);
            Check.assertClose(y, ref, tol(Precision.F64) * Math.max(1, Check.maxAbs(ref)), 0, plan + " fused");
            // The unfused real-packed path (forwardKeep) agrees too.
            Check.assertClose(mono.forwardKeep(s, in[0], in[1], in[2]).y(), ref, tol(Precision.F64) * Math.max(1, Check.maxAbs(ref)), 0, plan + " packed");
        }
    }

    @Test
    void floatArraysGiveFloatResults() {
        ConvShape s = new ConvShape(2, 2, 3, 64, 64, ConvMode.CAUSAL);
        double[][] in = inputs(s, 9);
        double[] ref = DirectConv.forward(s, in[0], in[1], in[2]);
        for (ConvEngine e : new ConvEngine[] {ConvEngine.FFT, ConvEngine.MONARCH}) {
            float[] y = ConvPlan.of(64, 64, ConvMode.CAUSAL, e, Precision.F32).newConvolver()
                    .forward(s, ConvShape.toFloat(in[0]), ConvShape.toFloat(in[1]), ConvShape.toFloat(in[2]));
            double rel = Check.relErr(ConvShape.toDouble(y), ref);
            assertTrue(rel < 1e-5 && rel > 1e-9, "F32 " + e + " rel err " + rel + " (must be float-sized, not exact)");
        }
    }

    @Test
    void causalOutputsNeverSeeTheFuture() {
        int n = 64;
        for (ConvEngine e : new ConvEngine[] {ConvEngine.FFT, ConvEngine.MONARCH}) {
            for (ConvMode mode : new ConvMode[] {ConvMode.CAUSAL, ConvMode.BIDIRECTIONAL}) {
                ConvShape s = new ConvShape(1, 1, 1, n, n, mode);
                double[][] in = inputs(s, 11);
                Convolver conv = ConvPlan.of(n, n, mode, e, Precision.F64).newConvolver();
                double future = 0;
                for (int i = 0; i < n; i++) {
                    double[] dy = new double[n];
                    dy[i] = 1;   // row i of the Jacobian dy_i/du_j is du for a one-hot dy
                    double[] du = conv.backward(s, in[0], in[1], null, dy).du();
                    for (int j = i + 1; j < n; j++) future = Math.max(future, Math.abs(du[j]));
                }
                if (mode == ConvMode.CAUSAL) assertTrue(future <= 1e-12, e + " causal leak " + future);
                else assertTrue(future > 1e-3, e + " bidirectional must see the future (negative control): " + future);
            }
        }
    }

    @Test
    void realTransformsRoundTripAndAgree() {
        SplittableRandom rng = new SplittableRandom(12);
        for (int n : new int[] {32, 64, 2048, 1 << 16}) {
            var jt = new FftConv.JTransformsReal(n);
            var mo = new MonarchConv.MonarchReal(n, ConvPlan.monarchFactors(n / 2), Precision.F64);
            double[] x = Check.randn(rng, n, 1);
            for (RealTransform tf : new RealTransform[] {jt, mo}) {
                double[] spec = new double[tf.spectrumLength()], back = new double[n];
                Object w = tf.newWork();
                tf.forward(x.clone(), spec, 0, w);
                tf.inverse(spec, 0, back, w);
                assertTrue(Check.relErr(back, x) < 1e-13, tf.getClass().getSimpleName() + " round trip N=" + n);
            }
            // Unpack both spectra into natural order and compare bins 0..N/2.
            double[] a = x.clone();
            jt.forward(a.clone(), a, 0, null);
            double[] ms = new double[mo.spectrumLength()];
            mo.forward(x.clone(), ms, 0, mo.newWork());
            int m = n / 2;
            int[] perm = new MonarchFft(ConvPlan.monarchFactors(m), Precision.F64).permutation();
            double[] jtNat = new double[2 * (m + 1)], moNat = new double[2 * (m + 1)];
            jtNat[0] = a[0];
            jtNat[2 * m] = a[1];
            for (int k = 1; k < m; k++) {
                jtNat[2 * k] = a[2 * k];
                jtNat[2 * k + 1] = a[2 * k + 1];
            }
            for (int p = 0; p < m; p++) {
                moNat[2 * perm[p]] = ms[p];
                moNat[2 * perm[p] + 1] = ms[m + 1 + p];
            }
            moNat[2 * m] = ms[m];
            assertTrue(Check.relErr(moNat, jtNat) < 1e-12, "packed Monarch real FFT vs JTransforms N=" + n);
        }
    }
}
