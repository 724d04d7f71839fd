// Shape legend: B batch, C kernel channels, H features, L length, Lk kernel taps, N real FFT size,
// M = N/2 = R_1 * .. * R_J complex points of the packed transform (J factors), u (B, H, L), k (C, H, [2,] Lk), y (B, C, H, L).
package ai.longconv4j.conv;

import ai.longconv4j.io.TensorFiles;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The packed learned butterfly with J &gt;= 3 factors: finite-difference gradients of u, k (both sides), D and every one
 * of the 2J blocks; bad block counts and shapes; a LongConv layer trained one step and saved / restored with its 2J
 * blocks.
 */
class PackedJFactorGradTest {

    /**
     * Central differences of {@code sum(y * dy)} at a few entries. y is LINEAR in each of u, k, D and every single block
     * (each appears once in the chain), so the central difference is exact up to rounding: with step 1e-3 and
     * |loss| ~ 1e2 the rounding error is ~1e-16 * 1e2 / 1e-3 ~ 1e-11; tolerance 1e-7 * (1 + |g|) is far below any
     * wrong gradient (O(|g|)) yet far above rounding.
     */
    private static void checkEntries(String what, double[] x, double[] grad, int[] idx, Function<double[], Double> loss) {
        double h = 1e-3;
        for (int i : idx) {
            double keep = x[i];
            x[i] = keep + h;
            double up = loss.apply(x);
            x[i] = keep - h;
            double dn = loss.apply(x);
            x[i] = keep;
            double num = (up - dn) / (2 * h);
            assertEquals(num, grad[i], 1e-7 * (1 + Math.abs(num)), what + "[" + i + "]");
        }
    }

    private static void gradCheck(int m, ConvMode mode, int blockEntries, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int l = mode == ConvMode.CIRCULAR ? 2 * m : m, lk = mode == ConvMode.CIRCULAR ? l - 5 : l / 2 + 1;
        ConvShape s = new ConvShape(1, 2, 1, l, lk, mode);
        ConvPlan p = ConvPlan.of(l, lk, mode, ConvEngine.LEARNED_PACKED, Precision.F64);
        double[][] blocks = PackedJFactorTest.randomBlocks(p, rng);
        double[] u = Check.randn(rng, s.uSize(), 1), k = Check.randn(rng, s.kSize(), 1.0 / Math.sqrt(lk));
        double[] d = Check.randn(rng, s.dSize(), 1), dy = Check.randn(rng, s.ySize(), 1);
        PackedLearnedButterfly pk = new PackedLearnedButterfly(p, blocks);
        var g = pk.backwardAll(s, u, k, d, dy);
        String tag = p + " ";
        checkEntries(tag + "du", u, g.conv().du(), new int[] {0, 1, l / 2, l - 1}, x -> Check.dot(pk.forward(s, x, k, d), dy));
        int sides = mode.sides();
        int[] kIdx = sides == 2 ? new int[] {0, lk - 1, lk, lk + lk / 2, 2 * lk + 3} : new int[] {0, lk / 3, lk - 1, lk + 2};
        checkEntries(tag + "dk", k, g.conv().dk(), kIdx, x -> Check.dot(pk.forward(s, u, x, d), dy));
        checkEntries(tag + "dD", d, g.conv().dD(), new int[] {0, 1}, x -> Check.dot(pk.forward(s, u, k, x), dy));
        List<String> names = PackedLearnedButterfly.blockNames(p);
        assertEquals(blocks.length, g.dBlocks().length);
        for (int b = 0; b < blocks.length; b++) {
            int[] idx = new int[2 * blockEntries];
            for (int e = 0; e < blockEntries; e++) {
                int cplx = rng.nextInt(blocks[b].length / 2);
                idx[2 * e] = 2 * cplx;          // re
                idx[2 * e + 1] = 2 * cplx + 1;  // im
            }
            double[] blk = blocks[b];   // the convolver holds the blocks by reference: the perturbation reaches it
            checkEntries(tag + "d" + names.get(b), blk, g.dBlocks()[b], idx, x -> Check.dot(pk.forward(s, u, k, d), dy));
        }
    }

    @Test
    void finiteDifferencesAtJ3() {
        for (ConvMode mode : ConvMode.values()) gradCheck(2048, mode, 2, 11 + mode.ordinal());
    }

    @Test
    void finiteDifferencesAtJ4() {
        for (ConvMode mode : ConvMode.values()) gradCheck(8192, mode, 2, 21 + mode.ordinal());
    }

    @Test
    void finiteDifferencesAtJ5() {
        gradCheck(65536, ConvMode.BIDIRECTIONAL, 1, 31);
    }

    // ---- bad input ----

    @Test
    void wrongBlockCountsAndShapesNameThePlan() {
        ConvPlan p = ConvPlan.of(4096, 4096, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);   // 16 x 16 x 16
        double[][] ok = PackedLearnedButterfly.atInit(p).blocks();
        double[][] bad = ok.clone();
        bad[2] = new double[100];
        String msg = assertThrows(IllegalArgumentException.class, () -> new PackedLearnedButterfly(p, bad)).getMessage();
        assertTrue(msg.contains("block 2 (Fc) must be (16, 16, 2) = 512 values for ConvPlan[L=4096") && msg.contains("got 100"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> new PackedLearnedButterfly(p, java.util.Arrays.copyOf(ok, 4))).getMessage();
        assertTrue(msg.contains("needs 6 blocks {Fa (16, 16, 2), Fb (16, 16, 2), Fc (16, 16, 2), Gc (16, 16, 2), Gb (16, 16, 2), Ga (16, 16, 2)}")
                && msg.contains("16 x 16 x 16") && msg.contains("got 4"), msg);
        // the tensor op: four blocks where the plan has six
        Tensor u = Tensor.zeros(DType.F64, 1, 1, 4096), k = Tensor.zeros(DType.F64, 1, 4096);
        Tensor[] four = new Tensor[4];
        for (int i = 0; i < 4; i++) four[i] = Tensor.of(ok[i], 16, 16, 2);
        msg = assertThrows(IllegalArgumentException.class, () -> ConvOps.learnedPackedConv(u, k, null, ConvMode.CAUSAL, four)).getMessage();
        assertTrue(msg.contains("needs 6 non-null blocks [Fa, Fb, Fc, Gc, Gb, Ga]") && msg.contains("16 x 16 x 16") && msg.contains("got 4"), msg);
        Tensor[] six = new Tensor[6];
        for (int i = 0; i < 6; i++) six[i] = Tensor.of(ok[i], 16, 16, 2);
        six[4] = Tensor.zeros(DType.F64, 8, 8, 2);
        msg = assertThrows(IllegalArgumentException.class, () -> ConvOps.learnedPackedConv(u, k, null, ConvMode.CAUSAL, six)).getMessage();
        assertTrue(msg.contains("block 4 (Gb) must be (16, 16, 2)") && msg.contains("[8, 8, 2]"), msg);
        // the J = 5 plan names ten blocks
        ConvPlan p5 = ConvPlan.of(65536, 65536, ConvMode.CAUSAL, ConvEngine.LEARNED_PACKED, Precision.F64);
        msg = assertThrows(IllegalArgumentException.class, () -> new PackedLearnedButterfly(p5, ok)).getMessage();
        assertTrue(msg.contains("needs 10 blocks {Fa (8, 8, 2), Fb (2, 2, 2), Fc (16, 16, 2)") && msg.contains("got 6"), msg);
    }

    // ---- the layer: one training step, the checkpoint ----

    /** A LongConv layer at L = 2048 causal (M = 2048 = 8 x 16 x 16, J = 3) registers six blocks that all get gradients. */
    @Test
    void aLayerWithThreeFactorsTrainsAndRoundTripsItsSixBlocks(@TempDir Path dir) throws Exception {
        int l = 2048;
        LongConv layer = LongConv.builder().features(2).length(l).dtype(DType.F64).engine(ConvEngine.LEARNED_PACKED)
                .kernelDropout(0).seed(7).build();
        var names = new TreeSet<String>();
        layer.namedParameters().forEach((n, p) -> { if (p.group().equals(Parameter.BUTTERFLY_GROUP)) names.add(n); });
        assertEquals(new TreeSet<>(List.of("pkFa", "pkFb", "pkFc", "pkGc", "pkGb", "pkGa")), names);
        assertArrayEquals(new int[] {8, 8, 2}, layer.namedParameters().get("pkFa").value().shape());
        assertArrayEquals(new int[] {16, 16, 2}, layer.namedParameters().get("pkGc").value().shape());
        Tensor u = Tensor.randn(Rng.seeded(8), DType.F64, 2, 2, l).detach();
        Tensor y = layer.forward(u);
        Tensor loss = y.mul(y).mean();
        loss.backward();
        for (String n : names) {
            Tensor g = layer.namedParameters().get(n).grad();
            assertNotNull(g, n);
            assertTrue(Check.maxAbs(g.toDoubleArray()) > 0, n + " gets a non-zero gradient");
        }
        // one plain SGD step on the blocks, then the checkpoint keeps all six
        for (String n : names) {
            Parameter p = layer.namedParameters().get(n);
            p.assign(p.value().sub(p.grad().mul(0.1)).detach());
        }
        Path f = dir.resolve("pk3.safetensors");
        TensorFiles.save(f, layer.stateDict(), Map.of());
        LongConv back = LongConv.builder().features(2).length(l).dtype(DType.F64).engine(ConvEngine.LEARNED_PACKED)
                .kernelDropout(0).seed(70).build();
        back.loadStateDict(new HashMap<>(TensorFiles.load(f).tensors()));
        for (String n : names)
            assertArrayEquals(layer.namedParameters().get(n).value().toDoubleArray(), back.namedParameters().get(n).value().toDoubleArray(), 0.0, n);
        layer.eval();
        back.eval();
        assertArrayEquals(layer.forward(u).toDoubleArray(), back.forward(u).toDoubleArray(), 0.0, "reloaded layer");
    }
}
