// Shape legend: B batch, L length, D / H model width, V vocabulary.
package ai.longconv4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.io.TensorFiles;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packed learned butterfly ({@link ConvEngine#LEARNED_PACKED}) in the models: H3, the LM, the classifier. */
class PackedLearnedModelTest {
    /** At init the packed engine is the FFT convolution to ~1e-12 (PackedLearnedButterflyTest); through a model's
     *  O(1)-Lipschitz layers (norms, MLPs, a few blocks) the logits stay within 1e-10. */
    private static final double AT_INIT = 1e-10;

    private static double maxDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double w = 0;
        for (int i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
        return w;
    }

    private static int[] ids(int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = (i * 5 + 1) % vocab;
        return ids;
    }

    @Test
    void settingsTakeThePackedEngine() {
        var s = ConvSettings.defaults().withEngine(ConvEngine.LEARNED_PACKED);
        assertEquals(ConvEngine.LEARNED_PACKED, s.engine());
    }

    @Test
    void h3AtInitEqualsTheFftH3AndPadsShorterInputs() {
        for (ConvMode mode : ConvMode.values()) {
            int l = mode == ConvMode.CIRCULAR ? 32 : 16;     // circular packed plans need N = L, a power of two >= 32
            var settings = ConvSettings.defaults().withMode(mode).withKernelDropout(0);
            var fft = H3Conv.builder().width(4).length(l).conv(settings.withEngine(ConvEngine.FFT)).dtype(DType.F64).seed(3).build();
            var packed = H3Conv.builder().width(4).length(l).conv(settings.withEngine(ConvEngine.LEARNED_PACKED)).dtype(DType.F64).seed(3).build();
            fft.eval();
            packed.eval();
            Tensor u = Tensor.randn(Rng.seeded(4), DType.F64, 2, l, 4);
            double w = maxDiff(packed.forward(u).toDoubleArray(), fft.forward(u).toDoubleArray());
            assertTrue(w <= AT_INIT, mode + ": " + w);
            if (mode != ConvMode.CIRCULAR) {
                // shorter inputs are zero-padded to Lk and cropped: exact for causal and bidirectional
                Tensor shortU = u.slice(1, 0, l - 5);
                double ws = maxDiff(packed.forward(shortU).toDoubleArray(), fft.forward(shortU).toDoubleArray());
                assertTrue(ws <= AT_INIT, mode + " L=" + (l - 5) + ": " + ws);
            } else {
                var e = assertThrows(IllegalArgumentException.class, () -> packed.forward(u.slice(1, 0, 16)));
                assertTrue(e.getMessage().contains("built for L = 32") && e.getMessage().contains("L = 16"), e.getMessage());
            }
            var blocks = new TreeSet<String>();
            packed.namedParameters().forEach((n, p) -> {
                if (p.group().equals(Parameter.BUTTERFLY_GROUP)) {
                    blocks.add(n);
                    assertFalse(p.decays(), n);
                }
            });
            assertEquals(new TreeSet<>(java.util.List.of("shiftpkFa", "shiftpkFb", "shiftpkGb", "shiftpkGa", "diagpkFa", "diagpkFb", "diagpkGb", "diagpkGa")),
                    blocks);
        }
    }

    /** Causal only at init, as LEARNED: perturbed packed blocks read the future (so the LM refuses the engine). */
    @Test
    void packedBlocksAreCausalOnlyAtInit() {
        var h3 = H3Conv.builder().width(4).length(16)
                .conv(ConvSettings.defaults().withEngine(ConvEngine.LEARNED_PACKED).withKernelDropout(0)).dtype(DType.F64).seed(5).build();
        assertTrue(Causality.probe(h3, 4, DType.F64, 16).worstRatio() <= 1e-8, "LEARNED_PACKED is causal at init");
        LearnedCausalLmTest.perturbBlocks(h3, 0.05, 6);
        var r = Causality.probe(h3, 4, DType.F64, 16);
        assertFalse(r.causal(), r.toString());
        assertTrue(r.worstRatio() > 1e-2 && r.input() > r.output(), r.toString());
    }

    @Test
    void theLmRefusesThePackedEngineInCausalMode() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> LongConvLM.builder().vocab(5).width(4).length(8).engine(ConvEngine.LEARNED_PACKED).build());
        assertTrue(e.getMessage().contains("LEARNED_PACKED is not causal") && e.getMessage().contains("LEARNED_CAUSAL"), e.getMessage());
    }

    @Test
    void bidirectionalLmAndClassifierAtInitEqualTheFftOnes() {
        for (Mixer mixer : Mixer.values()) {
            var fft = LongConvLM.builder().vocab(7).width(6).layers(2).length(16).mixer(mixer).mode(ConvMode.BIDIRECTIONAL)
                    .dtype(DType.F64).seed(8).build();
            var packed = LongConvLM.builder().vocab(7).width(6).layers(2).length(16).mixer(mixer).mode(ConvMode.BIDIRECTIONAL)
                    .engine(ConvEngine.LEARNED_PACKED).dtype(DType.F64).seed(8).build();
            fft.eval();
            packed.eval();
            double w = maxDiff(packed.logits(ids(32, 7), 2, 16).toDoubleArray(), fft.logits(ids(32, 7), 2, 16).toDoubleArray());
            assertTrue(w <= AT_INIT, mixer + ": " + w);
            // the LongConv mixer pads shorter inputs to its L = Lk (bidirectional: exact)
            double ws = maxDiff(packed.logits(ids(22, 7), 2, 11).toDoubleArray(), fft.logits(ids(22, 7), 2, 11).toDoubleArray());
            assertTrue(ws <= AT_INIT, mixer + " L=11: " + ws);
        }
        var fc = LongConvClassifier.builder().vocab(7).classes(3).width(4).layers(2).length(16).dtype(DType.F64).seed(9).build();
        var pc = LongConvClassifier.builder().vocab(7).classes(3).width(4).layers(2).length(16).engine(ConvEngine.LEARNED_PACKED)
                .dtype(DType.F64).seed(9).build();
        fc.eval();
        pc.eval();
        double w = maxDiff(pc.logits(ids(32, 7), 2, 16).toDoubleArray(), fc.logits(ids(32, 7), 2, 16).toDoubleArray());
        assertTrue(w <= AT_INIT, "classifier: " + w);
        assertEquals(2 * 4, pc.paramGroups(1e-3, 0.1).stream().filter(g -> g.parameters().stream()
                .anyMatch(p -> p.group().equals(Parameter.BUTTERFLY_GROUP))).findFirst().orElseThrow().parameters().size(),
                "2 layers x 4 blocks in the butterfly group");
        assertTrue(pc.paramGroups(1e-3, 0.1).stream().anyMatch(g -> g.lr() == ConvSettings.BUTTERFLY_LR && g.weightDecay() == 0
                && g.parameters().stream().allMatch(p -> p.group().equals(Parameter.BUTTERFLY_GROUP))));
    }

    /** The packed blocks are saved and restored by name; a reload into a model of another seed reproduces the logits. */
    @Test
    void checkpointRoundTripKeepsThePackedBlocks(@TempDir Path dir) throws Exception {
        for (Mixer mixer : Mixer.values()) {
            var lm = LongConvLM.builder().vocab(7).width(4).layers(2).length(16).mixer(mixer).mode(ConvMode.BIDIRECTIONAL)
                    .engine(ConvEngine.LEARNED_PACKED).dtype(DType.F64).seed(10).build();
            LearnedCausalLmTest.perturbBlocks(lm, 0.3, 11);
            var state = lm.stateDict();
            String[] keys = mixer == Mixer.H3 ? new String[] {"blocks.0.mixer.shiftpkFa", "blocks.1.mixer.diagpkGa"}
                    : new String[] {"blocks.0.mixer.pkFa", "blocks.1.mixer.pkGa"};
            for (String k : keys) assertTrue(state.containsKey(k), k + " in " + state.keySet());
            Path f = dir.resolve(mixer + ".safetensors");
            TensorFiles.save(f, lm.stateDict(), Map.of());
            var back = LongConvLM.builder().vocab(7).width(4).layers(2).length(16).mixer(mixer).mode(ConvMode.BIDIRECTIONAL)
                    .engine(ConvEngine.LEARNED_PACKED).dtype(DType.F64).seed(99).build();
            double[] before = back.logits(ids(16, 7), 1, 16).toDoubleArray();
            back.loadStateDict(new HashMap<>(TensorFiles.load(f).tensors()));
            lm.eval();
            back.eval();
            double[] a = lm.logits(ids(16, 7), 1, 16).toDoubleArray(), b = back.logits(ids(16, 7), 1, 16).toDoubleArray();
            assertArrayEquals(a, b, 0.0, mixer + ": reloaded logits");
            assertTrue(maxDiff(a, before) > 1e-3, mixer + ": the reload changed the model (the check can fail)");
        }
    }
}
