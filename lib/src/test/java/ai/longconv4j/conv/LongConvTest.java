// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps.
package ai.longconv4j.conv;

import ai.longconv4j.backend.cpu.CpuContext;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.ParamGroup;
import ai.longconv4j.optim.ParamGroups;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.testing.GradCheck;
import ai.longconv4j.testing.ModuleGradCheck;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The Tensor path: ops wired through Tensor.op, the kernel module and the layer. */
class LongConvTest {

    private static Tensor randn(long seed, double scale, int... shape) {
        return Tensor.randn(Rng.seeded(seed), DType.F64, shape).mul(scale).detach();
    }

    @Test
    void tensorPathGradientsForEveryEngineAndMode() {
        for (ConvEngine e : new ConvEngine[] {ConvEngine.FFT, ConvEngine.MONARCH, ConvEngine.DIRECT, ConvEngine.LEARNED}) {
            for (ConvMode mode : ConvMode.values()) {
                int l = mode == ConvMode.CIRCULAR && e == ConvEngine.MONARCH ? 32 : mode == ConvMode.CIRCULAR && e == ConvEngine.LEARNED ? 16 : 6;
                int[] kShape = mode == ConvMode.BIDIRECTIONAL ? new int[] {2, 3, 2, 4} : new int[] {2, 3, 4};
                Tensor u = randn(1, 1, 2, 3, l), k = randn(2, 0.5, kShape), d = randn(3, 1, 2, 3);
                // GradCheck tolerances (atol 1e-6, rtol 1e-5, see GradCheck) are far above F64 FFT rounding.
                GradCheck.assertGradients(e + " " + mode, x -> ConvOps.conv(x[0], x[1], x[2], mode, e), u, k, d);
            }
        }
    }

    @Test
    void learnedBlocksGetGradientsThroughTheTensorPath() {
        ConvPlan plan = ConvPlan.of(6, 4, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64);
        LearnedButterfly init = LearnedButterfly.atInit(plan);
        Tensor fa = Tensor.of(init.blocks()[0], 4, 4, 2), fb = Tensor.of(init.blocks()[1], 4, 4, 2);
        Tensor gb = Tensor.of(init.blocks()[2], 4, 4, 2), ga = Tensor.of(init.blocks()[3], 4, 4, 2);
        Tensor u = randn(4, 1, 1, 2, 6), k = randn(5, 0.5, 2, 4);
        GradCheck.assertGradients("learned blocks", x -> ConvOps.learnedConv(x[0], x[1], null, ConvMode.CAUSAL,
                new Tensor[] {x[2], x[3], x[4], x[5]}), u, k, fa, fb, gb, ga);
    }

    @Test
    void functionalFormsAgreeAndKeepTheDtype() {
        Tensor u = randn(6, 1, 2, 3, 50), k = randn(7, 0.2, 3, 20);
        Tensor y = LongConv.apply(u, k, ConvMode.CAUSAL);
        assertArrayEquals(new int[] {2, 3, 50}, y.shape());
        double[] ref = DirectConv.forward(new ConvShape(2, 1, 3, 50, 20, ConvMode.CAUSAL), u.toDoubleArray(), k.toDoubleArray(), null);
        Check.assertClose(y.toDoubleArray(), ref, 1e-12, 0, "LongConv.apply");
        Check.assertClose(FftConv.apply(u, k, ConvMode.CAUSAL).toDoubleArray(), ref, 1e-12, 0, "FftConv.apply");
        Check.assertClose(MonarchConv.apply(u, k, ConvMode.CAUSAL).toDoubleArray(), ref, 1e-12, 0, "MonarchConv.apply");
        Tensor y32 = LongConv.apply(u.to(DType.F32), k.to(DType.F32), ConvMode.CAUSAL);
        assertEquals(DType.F32, y32.dtype());
        // F32 inputs are rounded to float (rel 6e-8 each); the output is within a few float ulps of the F64 result.
        Check.assertClose(y32.toDoubleArray(), ref, 1e-5, 0, "F32");
    }

    @Test
    void squashAndSmoothGradients() {
        // Keep |K| away from lambda so the kink of the soft threshold is not straddled by +-eps.
        double[] kv = randn(8, 1, 2, 3, 9).toDoubleArray();
        for (int i = 0; i < kv.length; i++) if (Math.abs(Math.abs(kv[i]) - 0.3) < 0.01) kv[i] += 0.05;
        Tensor kp = Tensor.of(kv, 2, 3, 9);
        GradCheck.assertGradients("squash", x -> ConvOps.squash(x[0], 0.3), kp);
        GradCheck.assertGradients("smooth w=3", x -> ConvOps.smooth(x[0], 3), kp);
        GradCheck.assertGradients("smooth w=5 then squash", x -> ConvOps.squash(ConvOps.smooth(x[0], 5), 0.1), kp);
        // Values: squash zeroes |K| <= lambda and shrinks the rest by lambda.
        Tensor sq = ConvOps.squash(Tensor.of(new double[] {-0.5, -0.1, 0, 0.2, 0.7}, 5), 0.3);
        Check.assertClose(sq.toDoubleArray(), new double[] {-0.2, 0, 0, 0, 0.4}, 1e-15, 0, "squash values");
        Tensor sm = ConvOps.smooth(Tensor.of(new double[] {3, 0, 0, 6}, 4), 3);
        Check.assertClose(sm.toDoubleArray(), new double[] {1, 1, 2, 2}, 1e-15, 0, "smooth values");
        // Negative control: the identity gradient for squash (forgetting the dead zone) is wrong.
        GradCheck.Result wrong = GradCheck.check(x -> ConvOps.squash(x[0].detach(), 0.3).add(x[0]).sub(x[0].detach()), 1e-6, 1e-6, 1e-5, kp);
        assertFalse(wrong.passed(), "a straight-through squash gradient must fail the check");
    }

    @Test
    void kernelModuleDefaultsGroupAndDropoutGradient() {
        LongConvKernel kern = LongConvKernel.builder().features(16).length(256).seed(3).dtype(DType.F64).build();
        Parameter p = kern.parameter();
        assertArrayEquals(new int[] {2, 16, 256}, p.shape());
        assertEquals(Parameter.KERNEL_GROUP, kern.group());
        assertFalse(p.decays());
        double[] kv = p.value().toDoubleArray();
        double std = Math.sqrt(Check.dot(kv, kv) / kv.length);
        assertEquals(0.002, std, 0.0002, "init randn * 0.002 (8192 samples: std of the estimate ~1.6e-5)");
        var groups = ParamGroups.of(kern).weightDecay(0.1).lr(1e-2).override("kernel", LongConvKernel.groupSettings(LongConvKernel.LR)).build();
        ParamGroup kg = groups.stream().filter(g -> g.parameters().contains(p)).findFirst().orElseThrow();
        assertEquals(0, kg.weightDecay());
        assertEquals(LongConvKernel.LR, kg.lr());
        ParamGroup own = kern.optimizerGroup(5e-4);
        assertEquals(List.of(p), own.parameters());
        assertEquals(0, own.weightDecay());
        assertEquals(5e-4, own.lr());
        // Kernel dropout: with lambda = 0 and training on, dk/dK = mask / (1 - p); the mask is read off k itself.
        LongConvKernel drop = LongConvKernel.builder().features(4).length(64).lambda(0).dropout(0.5).seed(4).dtype(DType.F64).build();
        Tensor k = drop.kernel();
        Tensor w = randn(9, 1, k.shape());
        k.mul(w).sum().backward();
        double[] kk = k.toDoubleArray(), kp = drop.parameter().value().toDoubleArray(), g = drop.parameter().grad().toDoubleArray(), wv = w.toDoubleArray();
        int dropped = 0;
        for (int i = 0; i < kk.length; i++) {
            boolean kept = kk[i] != 0;
            if (!kept) dropped++;
            assertEquals(kept ? wv[i] * 2 : 0, g[i], 1e-12, "dropout gradient at " + i);
            if (kept) assertEquals(2 * kp[i], kk[i], 1e-15);
        }
        assertTrue(dropped > 100 && dropped < 412, "about half dropped: " + dropped);
        drop.eval();
        Check.assertClose(drop.kernel().toDoubleArray(), kp, 0, 0, "eval: no dropout, no squash at lambda 0");
    }

    @Test
    void layerShapesGradientsAndVariableLength() {
        LongConv layer = LongConv.builder().features(3).length(8).channels(2).kernelDropout(0).lambda(0).dtype(DType.F64).seed(5).build();
        Tensor u = randn(10, 1, 2, 3, 8);
        Tensor y = layer.forward(u);
        assertArrayEquals(new int[] {2, 3, 8}, y.shape());
        // Gradients of every parameter and of the input through conv + D, GELU, Linear, GLU.
        Parameter x = Parameter.of("x", u);
        List<Parameter> leaves = new java.util.ArrayList<>(layer.parameters());
        leaves.add(x);
        ModuleGradCheck.assertGradients("LongConv layer", leaves, () -> layer.forward(x.value()));
        // A shorter input crops the kernel (crop == never wrap is checked on arrays in SpectralConvTest).
        Tensor shortU = randn(11, 1, 1, 3, 5);
        Tensor ys = layer.forward(shortU);
        assertArrayEquals(new int[] {1, 3, 5}, ys.shape());
        assertTrue(layer.planFor(5, DType.F64).toString().contains("L=5 Lk=8 CAUSAL"), layer.planFor(5, DType.F64).toString());
        var e = assertThrows(IllegalArgumentException.class, () -> layer.forward(randn(12, 1, 2, 4, 8)));
        assertTrue(e.getMessage().contains("[2, 4, 8]") && e.getMessage().contains("H=3"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> layer.forward(u.to(DType.F32)));
        assertTrue(e2.getMessage().contains("F32") && e2.getMessage().contains("F64"), e2.getMessage());
    }

    @Test
    void learnedLayerAtInitEqualsTheFftLayer() {
        LongConv fft = LongConv.builder().features(3).length(16).dtype(DType.F64).seed(6).build();
        LongConv learned = LongConv.builder().features(3).length(16).dtype(DType.F64).engine(ConvEngine.LEARNED).seed(6).build();
        fft.eval();
        learned.eval();
        Tensor u = randn(13, 1, 2, 3, 16);
        Check.assertClose(learned.forward(u).toDoubleArray(), fft.forward(u).toDoubleArray(), 1e-12, 0, "learned at init");
        long butterflies = learned.parameters().stream().filter(p -> p.group().equals(Parameter.BUTTERFLY_GROUP)).count();
        assertEquals(4, butterflies);
        assertThrows(IllegalArgumentException.class, () -> learned.forward(randn(14, 1, 2, 3, 12)));
    }

    @Test
    void monarchAndDirectLayersEqualTheFftLayer() {
        Tensor u = randn(16, 1, 2, 3, 40);
        LongConv fft = LongConv.builder().features(3).length(40).dtype(DType.F64).seed(7).build();
        fft.eval();
        double[] ref = fft.forward(u).toDoubleArray();
        for (ConvEngine e : new ConvEngine[] {ConvEngine.MONARCH, ConvEngine.DIRECT}) {
            LongConv other = LongConv.builder().features(3).length(40).dtype(DType.F64).engine(e).seed(7).build();
            other.eval();
            Check.assertClose(other.forward(u).toDoubleArray(), ref, 1e-12, 0, e + " layer");
            assertEquals(e, other.planFor(40, DType.F64).engine());
        }
    }

    @Test
    void causalThroughTheTensorPath() {
        int l = 24;
        Tensor k = randn(17, 0.3, 2, 3, l), d = randn(18, 1, 2, 3);
        for (ConvMode mode : new ConvMode[] {ConvMode.CAUSAL, ConvMode.CIRCULAR}) {
            double future = 0;
            for (int i = 0; i < l; i++) {
                Tensor u = randn(19, 1, 1, 3, l).requiresGrad(true);
                double[] onehot = new double[2 * 3 * l];
                onehot[(1 * 3 + 2) * l + i] = 1;   // dy[b=0, c=1, h=2, i] = 1
                ConvOps.conv(u, k, d, mode, ConvEngine.FFT).mul(Tensor.of(onehot, 1, 2, 3, l)).sum().backward();
                double[] du = u.grad().toDoubleArray();
                for (int j = i + 1; j < l; j++) future = Math.max(future, Math.abs(du[2 * l + j]));
            }
            if (mode == ConvMode.CAUSAL) assertTrue(future <= 1e-12, "causal leak " + future);
            else assertTrue(future > 1e-3, "circular wraps, so it must see 'future' inputs (negative control): " + future);
        }
    }

    @Test
    void badTensorInputsNameTheShapes() {
        Tensor u = randn(15, 1, 2, 3, 10);
        var e1 = assertThrows(IllegalArgumentException.class, () -> LongConv.apply(u.reshape(6, 10), randn(1, 1, 3, 4), ConvMode.CAUSAL));
        assertTrue(e1.getMessage().contains("(B, H, L)") && e1.getMessage().contains("[6, 10]"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> LongConv.apply(u, randn(1, 1, 4, 4), ConvMode.CAUSAL));
        assertTrue(e2.getMessage().contains("H mismatch") && e2.getMessage().contains("[4, 4]"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> LongConv.apply(u, randn(1, 1, 3, 3, 4), ConvMode.BIDIRECTIONAL));
        assertTrue(e3.getMessage().contains("(k0, k1)"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> LongConv.apply(u, randn(1, 1, 2, 2, 3, 4), ConvMode.CAUSAL));
        assertTrue(e4.getMessage().contains("[2, 2, 3, 4]"), e4.getMessage());
        Tensor nan = Tensor.full(Double.NaN, DType.F64, 3, 4);
        assertThrows(IllegalArgumentException.class, () -> LongConv.apply(u, nan, ConvMode.CAUSAL));
        var e5 = assertThrows(IllegalArgumentException.class, () -> LongConv.apply(u, randn(1, 1, 2, 3, 4), randn(2, 1, 3, 3), ConvMode.CAUSAL));
        assertTrue(e5.getMessage().contains("(C, H) = (2, 3)"), e5.getMessage());
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        ConvShape s = new ConvShape(4, 2, 9, 300, 120, ConvMode.CAUSAL);
        var rng = new java.util.SplittableRandom(20);
        double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 0.1), d = Check.randn(rng, s.dSize(), 1);
        double[] w = Check.randn(rng, s.ySize(), 1);
        for (ConvEngine e : new ConvEngine[] {ConvEngine.FFT, ConvEngine.MONARCH}) {
            Convolver conv = ConvPlan.of(300, 120, ConvMode.CAUSAL, e, Precision.F64).newConvolver();
            try (CpuContext one = CpuContext.withThreads(1); CpuContext three = CpuContext.withThreads(3)) {
                double[] y1 = one.call(() -> conv.forward(s, u, k, d)), y3 = three.call(() -> conv.forward(s, u, k, d));
                assertArrayEquals(y1, y3, e + ": rows are independent, so results are bit-identical");
                ConvGrads g1 = one.call(() -> conv.backward(s, u, k, d, w)), g3 = three.call(() -> conv.backward(s, u, k, d, w));
                assertArrayEquals(g1.dk(), g3.dk());
                assertArrayEquals(g1.du(), g3.du());
            }
        }
    }

    /**
     * Session 18 (helper layer): the kept kernel's gradient rule {@link LongConvKernel#computedGrad} (the backward of the
     * device's kept k) against autograd through the composed Squash and Smooth ops, in F64 on the CPU, for w = 1 and 3 and
     * lambda = 0 / 0.003 / 0.3, with taps placed exactly at +-lambda (Squash's kink: both give 0 there). The rule is the same
     * arithmetic on the same values (the mask is 0 or 1; the pool sums the same three terms, in the other order at
     * w = 3), so 1e-15 relative to max |dK| bounds it.
     */
    @Test
    void theKeptKernelsGradientRuleIsSquashAndSmoothsBackward() {
        for (int w : new int[] {1, 3}) {
            for (double lambda : new double[] {0, 0.003, 0.3}) {
                double[] raw = randn(31, 0.3, 2, 3, 17).toDoubleArray();
                raw[0] = lambda;
                raw[1] = -lambda;
                raw[2] = 0;
                Tensor kv = Tensor.of(raw, 2, 3, 17).requiresGrad(true), g = randn(32, 1, 2, 3, 17);
                ConvOps.squash(ConvOps.smooth(kv, w), lambda).mul(g).sum().backward();
                double[] ref = kv.grad().toDoubleArray(), got = LongConvKernel.computedGrad(kv.detach(), g, w, lambda).toDoubleArray();
                Check.assertClose(got, ref, 1e-15 * Math.max(1, maxAbs(ref)), 0, "w=" + w + " lambda=" + lambda);
            }
        }
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    /**
     * On the CPU the kernel module keeps nothing (no backend counts in-place writes there, and recomputing Squash costs what
     * keeping would save): every call computes k again ({@link LongConvKernel#computations}), the values and K's gradient
     * are the composed ops', with the switch on or off.
     */
    @Test
    void theCpuKernelIsComputedAtEveryCall() {
        LongConvKernel kern = LongConvKernel.builder().features(3).length(9).dropout(0).dtype(DType.F64).seed(4).build();
        double[] first = kern.kernel().toDoubleArray();
        assertArrayEquals(first, kern.kernel().toDoubleArray());
        assertEquals(2, kern.computations(), "CPU: computed at each call");
        try (var ng = Tensor.noGrad()) { kern.parameter().value().detach().copyFrom(Tensor.full(0.5, DType.F64, 2, 3, 9)); }
        assertArrayEquals(Tensor.full(0.5 - LongConvKernel.LAMBDA, DType.F64, 2, 3, 9).toDoubleArray(), kern.kernel().toDoubleArray(),
                1e-15, "an in-place write shows at the next call");
        kern.kernel().sum().backward();
        assertArrayEquals(Tensor.full(1, DType.F64, 2, 3, 9).toDoubleArray(), kern.parameter().grad().toDoubleArray());
        assertEquals(4, kern.computations());
    }
}
