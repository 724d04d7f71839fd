// Shape legend: B batch, L length, D width, V vocabulary; blocks (L1, L1) and (L2, L2) with L1*L2 >= L.
package ai.longconv4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.io.TensorFiles;
import ai.longconv4j.nn.Module;
import ai.longconv4j.nn.Parameter;
import ai.longconv4j.optim.AdamW;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The learned-butterfly LM ({@link LongConvLM#learnedButterfly()}, the causal learned-Monarch engine): causal for
 * random ("trained-ish") block values in both mixers, the general LEARNED blocks detected as non-causal (negative
 * control) and refused by the LM, identity init = the FFT LM, checkpoints, layer table, and a short training run.
 */
class LearnedCausalLmTest {
    /**
     * F64 probe bound: the only future "dependence" left is the inner FFT convolution's round-off (~1e-16 · log N
     * relative), so 1e-12 is 4 orders above it and 10 orders below the negative control's 1e-2.
     */
    static final double F64_CAUSAL = 1e-12;

    /** Moves every butterfly-group parameter (upper triangles included) by scale · randn: "trained-ish" blocks. */
    static void perturbBlocks(Module m, double scale, long seed) {
        RandomGenerator r = Rng.seeded(seed);
        int n = 0;
        for (Parameter p : m.parameters()) {
            if (!p.group().equals(Parameter.BUTTERFLY_GROUP)) continue;
            Tensor v = p.value();
            p.assign(v.add(Tensor.randn(r, v.dtype(), v.shape()).mul(scale)).detach());
            n++;
        }
        assertTrue(n > 0, "no butterfly blocks in " + m);
    }

    @Test
    void randomBlocksKeepTheLmCausal() {
        for (Mixer mixer : Mixer.values()) {
            for (int l : new int[] {16, 37}) {          // 16 = 4 x 4; 37 (prime) padded to 6 x 7
                var lm = LongConvLM.learnedButterfly().vocab(5).width(4).layers(2).length(l).mixer(mixer).dtype(DType.F64)
                        .seed(3).build();
                perturbBlocks(lm, 0.5, 4);
                var r = Causality.probe(lm, 4, DType.F64, l);
                assertTrue(r.worstRatio() <= F64_CAUSAL, mixer + " L=" + l + ": " + r);
                var shorter = Causality.probe(lm, 4, DType.F64, l - 5);   // shorter inputs are padded and cropped
                assertTrue(shorter.worstRatio() <= F64_CAUSAL, mixer + " L=" + (l - 5) + ": " + shorter);
            }
        }
    }

    /** Negative control: an H3 mixer with the general learned DFT blocks, moved off the DFT, reads the future. */
    @Test
    void generalLearnedBlocksAreDetectedAsNotCausal() {
        var general = H3Conv.builder().width(4).length(16).conv(ConvSettings.defaults().withEngine(ConvEngine.LEARNED).withKernelDropout(0))
                .dtype(DType.F64).seed(5).build();
        assertTrue(Causality.probe(general, 4, DType.F64, 16).worstRatio() <= 1e-8, "LEARNED is causal at init");
        perturbBlocks(general, 0.05, 6);
        var r = Causality.probe(general, 4, DType.F64, 16);
        assertFalse(r.causal(), r.toString());
        assertTrue(r.worstRatio() > 1e-2 && r.input() > r.output(), r.toString());
        var causal = H3Conv.builder().width(4).length(16).conv(ConvSettings.defaults().withEngine(ConvEngine.LEARNED_CAUSAL))
                .dtype(DType.F64).seed(5).build();
        perturbBlocks(causal, 0.5, 6);
        assertTrue(Causality.probe(causal, 4, DType.F64, 16).worstRatio() <= F64_CAUSAL);
    }

    @Test
    void theLmRefusesTheGeneralLearnedBlocksInCausalMode() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> LongConvLM.builder().vocab(5).width(4).length(8).engine(ConvEngine.LEARNED).build());
        assertTrue(e.getMessage().contains("not causal") && e.getMessage().contains("LEARNED_CAUSAL"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LongConvLM.learnedButterfly().vocab(5).width(4).length(8).mode(ConvMode.BIDIRECTIONAL).build());
        assertTrue(e.getMessage().contains("CAUSAL only"), e.getMessage());
        assertEquals(ConvEngine.LEARNED_CAUSAL, LongConvLM.learnedButterfly().vocab(5).width(4).length(8).build().conv().engine());
    }

    @Test
    void atInitTheLmEqualsTheFftLm() {
        for (Mixer mixer : Mixer.values()) {
            var fft = LongConvLM.builder().vocab(7).width(6).layers(2).length(20).mixer(mixer).dtype(DType.F64).seed(8).build();
            var learned = LongConvLM.learnedButterfly().vocab(7).width(6).layers(2).length(20).mixer(mixer).dtype(DType.F64).seed(8).build();
            fft.eval();
            learned.eval();
            int[] ids = new int[2 * 20];
            for (int i = 0; i < ids.length; i++) ids[i] = (i * 5 + 1) % 7;
            double[] a = learned.logits(ids, 2, 20).toDoubleArray(), b = fft.logits(ids, 2, 20).toDoubleArray();
            double worst = 0;
            for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
            // identity maps are exact; the inner FFTs run at Lp = 4 x 5 = 20 = L: the same plan, so round-off only
            assertTrue(worst <= 1e-12, mixer + ": " + worst);
        }
    }

    /** State dict (safetensors), layer table and parameter count include the blocks; a reload reproduces the logits. */
    @Test
    void checkpointAndLayerTableIncludeTheBlocks(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        var lm = LongConvLM.learnedButterfly().vocab(7).width(4).layers(2).length(12).dtype(DType.F64).seed(9).build();
        var plain = LongConvLM.builder().vocab(7).width(4).layers(2).length(12).dtype(DType.F64).seed(9).build();
        // 12 = 3 x 4: per convolution 2 * (9 + 16) = 50 block values, two convolutions per H3 layer, two layers
        assertEquals(plain.numParameters() + 2 * 2 * 50, lm.numParameters());
        var state = lm.stateDict();
        for (String k : new String[] {"blocks.0.mixer.shiftInA", "blocks.0.mixer.shiftInW", "blocks.1.mixer.diagOutA", "blocks.1.mixer.diagOutW"})
            assertTrue(state.containsKey(k), k + " in " + state.keySet());
        assertTrue(lm.toString().contains("engine=LEARNED_CAUSAL (maps 3x3 . 4x4)"), lm.toString());
        perturbBlocks(lm, 0.3, 10);
        Path f = dir.resolve("lm.safetensors");
        TensorFiles.save(f, lm.stateDict(), Map.of());
        var back = LongConvLM.learnedButterfly().vocab(7).width(4).layers(2).length(12).dtype(DType.F64).seed(99).build();
        back.loadStateDict(new HashMap<>(TensorFiles.load(f).tensors()));
        lm.eval();
        back.eval();
        int[] ids = {1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5};
        double[] a = lm.logits(ids, 1, 12).toDoubleArray(), b = back.logits(ids, 1, 12).toDoubleArray();
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 0.0, "reloaded logits " + i);
        assertTrue(Files.size(f) > 0);
    }

    /** A few AdamW steps: the blocks move (their own group, lr ConvSettings.BUTTERFLY_LR) and the LM stays causal. */
    @Test
    void trainingMovesTheBlocksAndKeepsTheLmCausal() {
        var lm = LongConvLM.learnedButterfly().vocab(7).width(8).layers(2).length(16).dtype(DType.F64).kernelDropout(0).seed(11).build();
        Map<String, double[]> before = new HashMap<>();
        lm.namedParameters().forEach((n, p) -> { if (p.group().equals(Parameter.BUTTERFLY_GROUP)) before.put(n, p.value().toDoubleArray()); });
        assertEquals(16, before.size());          // 2 layers x 2 convolutions x {inA, inW, outA, outW}
        var opt = new AdamW(lm.paramGroups(1e-2, 0.1));
        RandomGenerator r = Rng.seeded(12);
        double first = 0, last = 0;
        for (int step = 0; step < 12; step++) {
            int[] ids = new int[2 * 16], tg = new int[2 * 16];
            for (int i = 0; i < ids.length; i++) { ids[i] = r.nextInt(7); tg[i] = (ids[i] + 3) % 7; }
            opt.zeroGrad();
            Tensor loss = lm.loss(ids, tg, 2, 16, -1);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item();
            last = loss.item();
        }
        assertTrue(last < first, "loss falls: " + first + " -> " + last);
        double moved = 0;
        for (var e : before.entrySet()) {
            double[] now = lm.namedParameters().get(e.getKey()).value().toDoubleArray();
            int n = (int) Math.round(Math.sqrt(now.length));
            for (int i = 0; i < now.length; i++) {
                moved = Math.max(moved, Math.abs(now[i] - e.getValue()[i]));
                // masked upper triangles get gradient 0 and weight decay 0 (butterfly group): they stay exactly 0
                if (i % n > i / n) assertTrue(now[i] == 0, e.getKey() + " upper entry " + i + " = " + now[i]);
            }
        }
        assertTrue(moved > 1e-3, "blocks move: max |change| = " + moved);
        var rep = Causality.probe(lm, 8, DType.F64, 16);
        assertTrue(rep.worstRatio() <= F64_CAUSAL, rep.toString());
    }
}
