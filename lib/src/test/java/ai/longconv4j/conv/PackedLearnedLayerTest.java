// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size, M = N/2 = N1*N2.
package ai.longconv4j.conv;

import ai.longconv4j.models.ConvSettings;
import ai.longconv4j.nn.GELU;
import ai.longconv4j.nn.GLU;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.models.LongConvModel;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import ai.longconv4j.testing.GradCheck;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The packed learned butterfly as a tensor op ({@link ConvOps#learnedPackedConv}) and as a layer ({@link LongConv}). */
class PackedLearnedLayerTest {

    private static Tensor randn(long seed, double scale, int... shape) {
        return Tensor.randn(Rng.seeded(seed), DType.F64, shape).mul(scale).detach();
    }

    private static ConvPlan plan(int l, int lk, ConvMode mode) {
        return ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
    }

    /** The plan's four blocks at the exact DFT plus {@code scale * randn} (off the DFT: a generic point). */
    private static Tensor[] blocks(ConvPlan plan, double scale, long seed) {
        double[][] init = PackedLearnedButterfly.atInit(plan).blocks();
        Tensor[] b = new Tensor[4];
        for (int i = 0; i < 4; i++) {
            int n = plan.factors().get(i == 0 || i == 3 ? 0 : 1);
            b[i] = Tensor.of(init[i], n, n, 2).add(randn(seed + i, scale, n, n, 2)).detach();
        }
        return b;
    }

    @Test
    void opGradientsOfUKDAndBlocksInEveryMode() {
        for (ConvMode mode : ConvMode.values()) {
            // causal / bidirectional L = 7: N = 32, M = 16 = 4 x 4; circular needs N = L = 32 (M = 16)
            int l = mode == ConvMode.CIRCULAR ? 32 : 7, lk = mode == ConvMode.CIRCULAR ? 32 : 5;
            int[] kShape = mode == ConvMode.BIDIRECTIONAL ? new int[] {2, 2, 2, lk} : new int[] {2, 2, lk};
            Tensor u = randn(1, 1, 2, 2, l), k = randn(2, 0.5, kShape), d = randn(3, 1, 2, 2);
            Tensor[] b = blocks(plan(l, lk, mode), 0.1, 10);
            // GradCheck's F64 tolerances (atol 1e-6, rtol 1e-5, eps 1e-6; see GradCheck) sit far above the op's fp64
            // round-off (~1e-13 relative through two small matmuls and a 32-point FFT).
            GradCheck.assertGradients("packed " + mode, x -> ConvOps.learnedPackedConv(x[0], x[1], x[2], mode,
                    new Tensor[] {x[3], x[4], x[5], x[6]}), u, k, d, b[0], b[1], b[2], b[3]);
            // without D and without a channel axis
            Tensor k1 = mode == ConvMode.BIDIRECTIONAL ? randn(4, 0.5, 2, 2, lk) : randn(4, 0.5, 2, lk);
            GradCheck.assertGradients("packed no D " + mode, x -> ConvOps.learnedPackedConv(x[0], x[1], null, mode,
                    new Tensor[] {x[2], x[3], x[4], x[5]}), u, k1, b[0], b[1], b[2], b[3]);
        }
        // Negative control: a block cut out of the graph (detached) has analytic gradient 0 but a real numeric one.
        Tensor u = randn(5, 1, 1, 2, 7), k = randn(6, 0.5, 2, 5);
        Tensor[] b = blocks(plan(7, 5, ConvMode.CAUSAL), 0.1, 20);
        GradCheck.Result cut = GradCheck.check(x -> ConvOps.learnedPackedConv(x[0], x[1], null, ConvMode.CAUSAL,
                new Tensor[] {x[2], x[3], x[4].detach(), x[5]}), GradCheck.EPS, GradCheck.ATOL, GradCheck.RTOL, u, k, b[0], b[1], b[2], b[3]);
        assertFalse(cut.passed(), "a Gb without gradient must fail the check: " + cut);
        assertEquals(4, cut.worstInput(), cut.toString());
    }

    @Test
    void opEqualsTheConvolverAndKeepsTheDtype() {
        ConvPlan p = plan(20, 12, ConvMode.CAUSAL);   // N = 64, M = 32
        Tensor[] b = blocks(p, 0.2, 30);
        Tensor u = randn(31, 1, 2, 3, 20), k = randn(32, 0.3, 2, 3, 12), d = randn(33, 1, 2, 3);
        Tensor y = ConvOps.learnedPackedConv(u, k, d, ConvMode.CAUSAL, b);
        assertArrayEquals(new int[] {2, 2, 3, 20}, y.shape());
        double[][] ba = new double[4][];
        for (int i = 0; i < 4; i++) ba[i] = b[i].toDoubleArray();
        double[] ref = new PackedLearnedButterfly(p, ba).forward(new ConvShape(2, 2, 3, 20, 12, ConvMode.CAUSAL),
                u.toDoubleArray(), k.toDoubleArray(), d.toDoubleArray());
        Check.assertClose(y.toDoubleArray(), ref, 0, 0, "op = PackedLearnedButterfly (same arithmetic)");
        Tensor[] b32 = new Tensor[4];
        for (int i = 0; i < 4; i++) b32[i] = b[i].to(DType.F32);
        Tensor y32 = ConvOps.learnedPackedConv(u.to(DType.F32), k.to(DType.F32), d.to(DType.F32), ConvMode.CAUSAL, b32);
        assertEquals(DType.F32, y32.dtype());
        // F32 inputs are rounded to float (rel 6e-8 each, |y| ~ a few); the output within 1e-5 of the F64 result.
        Check.assertClose(y32.toDoubleArray(), ref, 1e-5, 0, "F32 packed op");
    }

    @Test
    void layerAtInitEqualsTheFftLayer() {
        // causal L = 16 (N = 32, M = 16 = 4 x 4), bidirectional L = 40 (N = 128, M = 64), circular L = 32 (N = 32)
        for (ConvMode mode : ConvMode.values()) {
            int l = mode == ConvMode.CAUSAL ? 16 : mode == ConvMode.BIDIRECTIONAL ? 40 : 32;
            LongConv fft = LongConv.builder().features(3).length(l).mode(mode).dtype(DType.F64).seed(6).build();
            LongConv packed = LongConv.builder().features(3).length(l).mode(mode).dtype(DType.F64).engine(ConvEngine.LEARNED_PACKED).seed(6).build();
            fft.eval();
            packed.eval();
            Tensor u = randn(13, 1, 2, 3, l);
            // PackedLearnedButterflyTest bounds the packed engine at init against FftConv at 1e-11 absolute on
            // O(1) data; here the layer's GELU / Linear / GLU add only O(1)-Lipschitz steps on top.
            Check.assertClose(packed.forward(u).toDoubleArray(), fft.forward(u).toDoubleArray(), 1e-11, 0, "packed at init " + mode);
            Map<String, Parameter> named = packed.namedParameters();
            ConvPlan p = plan(l, l, mode);
            int n1 = p.factors().get(0), n2 = p.factors().get(1);
            int[][] shapes = {{n1, n1, 2}, {n2, n2, 2}, {n2, n2, 2}, {n1, n1, 2}};
            String[] names = {"pkFa", "pkFb", "pkGb", "pkGa"};
            for (int i = 0; i < 4; i++) {
                Parameter b = named.get(names[i]);
                assertNotNull(b, names[i] + " in " + named.keySet());
                assertArrayEquals(shapes[i], b.shape(), names[i]);
                assertEquals(Parameter.BUTTERFLY_GROUP, b.group());
                assertFalse(b.decays(), names[i] + " has no weight decay");
            }
            assertEquals(4, packed.parameters().stream().filter(q -> q.group().equals(Parameter.BUTTERFLY_GROUP)).count());
            assertEquals(fft.numParameters() + 2 * (n1 * n1 + n2 * n2) * 2, packed.numParameters());
            assertTrue(packed.toString().contains("engine=LEARNED_PACKED"), packed.toString());
        }
    }

    @Test
    void layerWithPerturbedBlocksEqualsThePackedConvolverThenTheHead() {
        int l = 24;   // causal: N = 64, M = 32
        LongConv layer = LongConv.builder().features(3).channels(2).length(l).dtype(DType.F64).engine(ConvEngine.LEARNED_PACKED)
                .lambda(0).seed(8).build();
        layer.eval();
        Map<String, Parameter> named = layer.namedParameters();
        String[] names = {"pkFa", "pkFb", "pkGb", "pkGa"};
        perturb(named, names, 0.2, 40);
        Tensor u = randn(41, 1, 2, 3, l);
        Tensor y = layer.forward(u);
        // reference: PackedLearnedButterfly on arrays, then the layer's head (GELU, Linear(C*H -> 2H), GLU) by hand
        double[][] ba = new double[4][];
        for (int i = 0; i < 4; i++) ba[i] = named.get(names[i]).value().toDoubleArray();
        ConvShape s = new ConvShape(2, 2, 3, l, l, ConvMode.CAUSAL);
        double[] yc = new PackedLearnedButterfly(plan(l, l, ConvMode.CAUSAL), ba).forward(s, u.toDoubleArray(),
                layer.kernel().kernel().toDoubleArray(), layer.skip().value().toDoubleArray());
        Tensor h = new GELU().forward(Tensor.of(yc, 2, 6, l)).transpose(1, 2);                       // (B, L, C*H)
        Tensor lin = h.matmul(named.get("out.weight").value().transpose(0, 1)).add(named.get("out.bias").value());
        double[] ref = GLU.glu(lin, -1).transpose(1, 2).toDoubleArray();
        // same convolution arithmetic; the head may sum in another order (fused linear): round-off ~1e-15 on O(1)
        Check.assertClose(y.toDoubleArray(), ref, 1e-12, 0, "perturbed packed layer");
        // and it is no longer the FFT layer (the blocks are used)
        LongConv fft = LongConv.builder().features(3).channels(2).length(l).dtype(DType.F64).lambda(0).seed(8).build();
        fft.eval();
        double diff = 0;
        double[] yf = fft.forward(u).toDoubleArray(), yp = y.toDoubleArray();
        for (int i = 0; i < yf.length; i++) diff = Math.max(diff, Math.abs(yf[i] - yp[i]));
        assertTrue(diff > 1e-3, "perturbed blocks change the output: " + diff);
    }

    /** Adds {@code scale * randn} to the named parameters in place. */
    private static void perturb(Map<String, Parameter> named, String[] names, double scale, long seed) {
        var r = Rng.seeded(seed);
        for (String n : names) {
            Parameter p = named.get(n);
            Tensor v = p.value();
            p.assign(v.add(Tensor.randn(r, v.dtype(), v.shape()).mul(scale)).detach());
        }
    }

    @Test
    void aFewAdamWStepsLowerTheLossAndMoveTheBlocks() {
        int l = 16;
        LongConv layer = LongConv.builder().features(2).length(l).dtype(DType.F64).engine(ConvEngine.LEARNED_PACKED)
                .kernelDropout(0).seed(9).build();
        Map<String, double[]> before = new HashMap<>();
        layer.namedParameters().forEach((n, p) -> { if (p.group().equals(Parameter.BUTTERFLY_GROUP)) before.put(n, p.value().toDoubleArray()); });
        assertEquals(Set.of("pkFa", "pkFb", "pkGb", "pkGa"), before.keySet());
        // tiny regression: reproduce a fixed target from fixed inputs (a teacher FFT layer of another seed)
        LongConv teacher = LongConv.builder().features(2).length(l).dtype(DType.F64).kernelDropout(0).seed(99).build();
        teacher.eval();
        Tensor u = randn(50, 1, 4, 2, l);
        Tensor target = teacher.forward(u).detach();
        var opt = new AdamW(LongConvModel.groups(layer, 1e-2, 1e-2, 0.0));
        double first = 0, last = 0;
        for (int step = 0; step < 15; step++) {
            opt.zeroGrad();
            Tensor diff = layer.forward(u).sub(target);
            Tensor loss = diff.mul(diff).mean();
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item();
            last = loss.item();
        }
        assertTrue(last < 0.9 * first, "loss falls: " + first + " -> " + last);
        double moved = 0;
        for (var e : before.entrySet()) {
            double[] now = layer.namedParameters().get(e.getKey()).value().toDoubleArray();
            for (int i = 0; i < now.length; i++) moved = Math.max(moved, Math.abs(now[i] - e.getValue()[i]));
        }
        // AdamW moves each parameter by ~lr per step, the butterfly group's lr is ConvSettings.BUTTERFLY_LR = 1e-3
        assertTrue(moved > 1e-3, "blocks move: max |change| = " + moved + " (butterfly lr " + ConvSettings.BUTTERFLY_LR + ")");
    }

    /** A device backend without the packed path (the interface default returns null) gets a clear refusal. */
    @Test
    void aDeviceWithoutThePackedPathSaysSo() {
        var dev = ai.longconv4j.backend.SimulatedDeviceBackend.DEVICE;
        Tensor u = randn(70, 1, 1, 2, 7), k = randn(71, 0.5, 2, 5);
        Tensor[] b = blocks(plan(7, 5, ConvMode.CAUSAL), 0, 72);
        Tensor[] bd = new Tensor[4];
        for (int i = 0; i < 4; i++) bd[i] = b[i].to(dev);
        var e = assertThrows(UnsupportedOperationException.class,
                () -> ConvOps.learnedPackedConv(u.to(dev), k.to(dev), null, ConvMode.CAUSAL, bd));
        String msg = e.getMessage();
        assertTrue(msg.contains("LongConv.learnedPacked") && msg.contains(dev.toString()) && msg.contains("packed learned-butterfly path")
                && msg.contains("[1, 2, 7]") && msg.contains("[2, 5]") && msg.contains("CAUSAL"), msg);
        // the plain learned op keeps its own message on the same backend
        var e2 = assertThrows(UnsupportedOperationException.class, () -> ConvOps.learnedConv(u.to(dev), k.to(dev), null, ConvMode.CAUSAL,
                new Tensor[] {randn(73, 1, 4, 4, 2).to(dev), randn(74, 1, 4, 4, 2).to(dev), randn(75, 1, 4, 4, 2).to(dev), randn(76, 1, 4, 4, 2).to(dev)}));
        assertTrue(e2.getMessage().contains("no learned-butterfly path"), e2.getMessage());
        // blocks left on the CPU are named
        String m3 = fails(() -> ConvOps.learnedPackedConv(u.to(dev), k.to(dev), null, ConvMode.CAUSAL, b));
        assertTrue(m3.contains("different devices") && m3.contains("cpu"), m3);
    }

    private static String fails(Runnable r) { return assertThrows(IllegalArgumentException.class, r::run).getMessage(); }

    @Test
    void badInputNamesTheShapes() {
        Tensor u = randn(60, 1, 2, 3, 7), k = randn(61, 0.5, 3, 5);
        Tensor[] b = blocks(plan(7, 5, ConvMode.CAUSAL), 0, 62);                  // 4 x 4 each
        String msg = fails(() -> ConvOps.learnedPackedConv(u, k, null, ConvMode.CAUSAL, new Tensor[] {b[0], b[1], b[2]}));
        assertTrue(msg.contains("LongConv.learnedPacked") && msg.contains("4 non-null blocks") && msg.contains("got 3"), msg);
        msg = fails(() -> ConvOps.learnedPackedConv(u, k, null, ConvMode.CAUSAL, new Tensor[] {b[0], b[1], null, b[3]}));
        assertTrue(msg.contains("null"), msg);
        Tensor wrong = randn(63, 1, 8, 8, 2);
        msg = fails(() -> ConvOps.learnedPackedConv(u, k, null, ConvMode.CAUSAL, new Tensor[] {b[0], wrong, b[2], b[3]}));
        assertTrue(msg.contains("block 1 (Fb) must be (4, 4, 2)") && msg.contains("[8, 8, 2]") && msg.contains("LEARNED_PACKED"), msg);
        msg = fails(() -> ConvOps.learnedPackedConv(u, k, null, ConvMode.CAUSAL, new Tensor[] {b[0].reshape(32), b[1], b[2], b[3]}));
        assertTrue(msg.contains("block 0 (Fa)") && msg.contains("[32]"), msg);
        // LEARNED's blocks (complex N = 64 at L = 20) do not fit the packed plan (M = 32)
        Tensor u20 = randn(64, 1, 1, 3, 20), k20 = randn(65, 0.5, 3, 20);
        ConvPlan learned = ConvPlan.of(20, 20, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64);
        Tensor[] lb = new Tensor[4];
        for (int i = 0; i < 4; i++) {
            int n = learned.factors().get(i == 0 || i == 3 ? 0 : 1);
            lb[i] = Tensor.of(LearnedButterfly.atInit(learned).blocks()[i], n, n, 2);
        }
        msg = fails(() -> ConvOps.learnedPackedConv(u20, k20, null, ConvMode.CAUSAL, lb));
        assertTrue(msg.contains("must be (") && msg.contains("engine=LEARNED_PACKED N=64"), msg);
        msg = fails(() -> ConvOps.learnedPackedConv(u.reshape(6, 7), k, null, ConvMode.CAUSAL, b));
        assertTrue(msg.contains("(B, H, L)") && msg.contains("[6, 7]"), msg);
        msg = fails(() -> ConvOps.learnedPackedConv(u, randn(66, 1, 4, 5), null, ConvMode.CAUSAL, b));
        assertTrue(msg.contains("H mismatch") && msg.contains("[4, 5]"), msg);
        // the plain op's blocks are checked by the same helper
        ConvPlan lp = ConvPlan.of(7, 5, ConvMode.CAUSAL, ConvEngine.LEARNED, Precision.F64);
        int ln = lp.factors().get(1);
        msg = fails(() -> ConvOps.learnedConv(u, k, null, ConvMode.CAUSAL, new Tensor[] {b[0], b[1], b[2], randn(67, 1, ln + 1, ln + 1, 2)}));
        assertTrue(msg.contains("LongConv.learned:") && msg.contains("block 3 (Ga)"), msg);
        // layer: fixed length, and the circular plan's length rule, named
        LongConv layer = LongConv.builder().features(3).length(16).dtype(DType.F64).engine(ConvEngine.LEARNED_PACKED).build();
        msg = fails(() -> layer.forward(randn(68, 1, 2, 3, 12)));
        assertTrue(msg.contains("LEARNED_PACKED layer is built for L = 16") && msg.contains("[2, 3, 12]"), msg);
        msg = fails(() -> LongConv.builder().features(3).length(48).mode(ConvMode.CIRCULAR).engine(ConvEngine.LEARNED_PACKED).build());
        assertTrue(msg.contains("LEARNED_PACKED") && msg.contains("L=48"), msg);
    }
}
