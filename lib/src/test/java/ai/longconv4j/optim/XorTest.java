// Shapes: x (4, 2) -> logits (4, 2); four XOR inputs, two classes.
package ai.longconv4j.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.longconv4j.nn.GELU;
import ai.longconv4j.nn.Linear;
import ai.longconv4j.nn.Sequential;
import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Rng;
import ai.longconv4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** End to end: a tiny MLP trained with AdamW, a schedule and clipping learns XOR. */
class XorTest {
    @Test
    void mlpLearnsXor() {
        var rng = Rng.seeded(2024);
        var mlp = Sequential.of(new Linear(2, 8, true, DType.F64, rng), new GELU(), new Linear(8, 2, true, DType.F64, rng));
        Tensor x = Tensor.of(new double[] {0, 0, 0, 1, 1, 0, 1, 1}, 4, 2);
        int[] y = {0, 1, 1, 0};
        var opt = new AdamW(ParamGroups.of(mlp).lr(0.05).weightDecay(1e-4).build())
                .schedule(Schedule.warmupCosine(10, 400, 0.1));
        double first = Double.NaN;
        double loss = Double.NaN;
        for (int step = 0; step < 400; step++) {
            opt.zeroGrad();
            Tensor l = mlp.forward(x).crossEntropy(y, -1);
            loss = l.item();
            if (step == 0) {
                first = loss;
            }
            l.backward();
            opt.clipGradNorm(5.0);
            opt.step();
        }
        // ln 2 ≈ 0.69 is chance; a solved XOR reaches ~1e-3 here, 0.05 leaves a wide margin
        assertTrue(first > 0.5, "initial loss " + first);
        assertTrue(loss < 0.05, "final loss " + loss);
        double[] logits = mlp.eval().forward(x).toDoubleArray();
        int correct = 0;
        for (int i = 0; i < 4; i++) {
            int pred = logits[2 * i + 1] > logits[2 * i] ? 1 : 0;
            correct += pred == y[i] ? 1 : 0;
        }
        assertEquals(4, correct);
    }
}
