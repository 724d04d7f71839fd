// Shape legend: L length, D width.
package ai.longconv4j.models;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.conv.ConvEngine;
import ai.longconv4j.conv.ConvMode;
import ai.longconv4j.tensor.DType;
import org.junit.jupiter.api.Test;

/** assertCausal on causal LMs (H3, plain LongConv, learned butterfly) and on a non-causal one (negative control). */
class CausalityTest {
    @Test
    void h3LmIsCausal() {
        var lm = LongConvLM.builder().vocab(7).width(6).layers(2).length(12).seed(1).build();
        Causality.assertCausal(lm, 12);
    }

    @Test
    void longConvLmIsCausalAtShorterLength() {
        var lm = LongConvLM.builder().vocab(7).width(4).layers(1).length(16).mixer(Mixer.LONGCONV).seed(2).build();
        Causality.assertCausal(lm, 9);
    }

    @Test
    void learnedButterflyLmIsCausal() {
        for (Mixer m : Mixer.values()) {
            var lm = LongConvLM.learnedButterfly().vocab(5).width(4).layers(1).length(16).mixer(m).seed(3).build();
            Causality.assertCausal(lm, 16);
            Causality.assertCausal(lm, 7);      // shorter inputs are padded to the blocks' length and cropped
        }
    }

    /** Padding a learned-engine input to the blocks' length is exact: a prefix's logits equal the full run's. */
    @Test
    void learnedShortInputMatchesPrefixOfFullInput() {
        var lm = LongConvLM.learnedButterfly().vocab(5).width(4).layers(1).length(16).dtype(DType.F64).seed(6).build();
        lm.eval();
        int[] ids = new int[16];
        for (int i = 0; i < 16; i++) {
            ids[i] = (i * 3) % 5;
        }
        double[] full = lm.logits(ids, 1, 16).slice(1, 0, 5).toDoubleArray();
        double[] part = lm.logits(java.util.Arrays.copyOf(ids, 5), 1, 5).toDoubleArray();
        for (int i = 0; i < full.length; i++) {
            // F64 FFT-size round-off only (both paths use the same blocks and length)
            org.junit.jupiter.api.Assertions.assertEquals(full[i], part[i], 1e-10);
        }
    }

    /** Negative control: a bidirectional-mode LM sees the future, and the helper must say so. */
    @Test
    void bidirectionalLmIsDetected() {
        for (Mixer m : Mixer.values()) {
            var lm = LongConvLM.builder().vocab(5).width(4).layers(1).length(10).mixer(m).mode(ConvMode.BIDIRECTIONAL)
                    .dtype(DType.F64).seed(4).build();
            var r = Causality.probe(lm, 4, DType.F64, 10);
            assertFalse(r.causal(), m + ": " + r);
            assertTrue(r.input() > r.output());
            assertThrows(AssertionError.class, () -> Causality.assertCausal(lm, 10));
        }
    }

    /** Circular mode wraps the end of the sequence onto its start: also not causal. */
    @Test
    void circularLmIsDetected() {
        var lm = LongConvLM.builder().vocab(5).width(4).layers(1).length(8).mixer(Mixer.LONGCONV).mode(ConvMode.CIRCULAR)
                .engine(ConvEngine.FFT).seed(5).build();
        assertThrows(AssertionError.class, () -> Causality.assertCausal(lm, 8));
    }
}
